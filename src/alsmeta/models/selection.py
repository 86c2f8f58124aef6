"""Selection models for publication bias (metafor's ``selmodel``): :func:`selection_model`.

The random-effects model ``y_i ~ N(mu, v_i + tau^2)`` is combined with a
selection function ``w(p)``, the relative probability that a study with
p-value ``p`` is published, and fitted by maximum likelihood:

    ll = sum_i [ log w(p_i) + log phi(y_i; mu, v_i + tau^2) - log A_i ],
    A_i = E[w(p(y_i))] under the model.

``type="step"`` (Vevea and Hedges 1995) has ``w`` constant between cut
points of the p-values: ``delta_j`` in interval ``j`` (``delta_1 = 1``).
The three-parameter selection model (3PSM) has a single cut at p = .025
(one-sided). ``A_i`` is then a sum of normal probabilities (metafor's
``.selmodel.ll.stepfun``). The continuous types ``"beta"``, ``"halfnorm"``,
``"negexp"``, ``"logistic"`` and ``"power"`` are described in
:mod:`alsmeta.models.selection_functions`.

With moderators (a :func:`alsmeta.meta_regression` fit) the location of
study ``i`` is ``x_i' beta`` instead of ``mu`` (metafor's ``selmodel`` of an
``rma`` with ``mods``); the p-values, and with them the selection
function, stay those of the observed effects.

The likelihood is maximised over ``mu`` (or ``beta``), ``tau^2 >= 0`` and ``delta``
within metafor's bounds (0 to 100; beta: 1e-5 to 100); standard errors
come from the numerical Hessian of the log-likelihood in the untransformed
parameters (Richardson extrapolation, as ``numDeriv::hessian`` which
metafor uses). As metafor, a meta-regression is optimised, and its Hessian
taken, with the moderators that are not 0/1 dummies centred and scaled
(intercept models only); coefficients and their covariance are
transformed back. The likelihood-ratio test of "no selection" compares with
the ML log-likelihood of the model without selection (the fit given, refitted
by ML as metafor does; a fixed tau^2 stays fixed, a common-effect fit stays
common-effect).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar, overload

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import optimize, special, stats

from alsmeta.engine.heterogeneity import NO_SPREAD_NOTE, effects_without_spread
from alsmeta.engine.regression import fit_regression_many
from alsmeta.models._model_data import ModelData, model_data
from alsmeta.models.moderators import MetaRegressionResult
from alsmeta.models.pooling import PooledResult
from alsmeta.models.selection_functions import (
    TYPES,
    SelectionSpec,
    loglik_continuous,
    selection_spec,
    study_pvalues,
)
from alsmeta.results import ResultMixin, fmt_number, fmt_pvalue, p_phrase, text_table
from alsmeta.validation import AlsmetaInputError, AlsmetaWarning

__all__ = ["SelectionModelResult", "SelectionRegressionResult", "selection_model", "study_pvalues"]

Array = npt.NDArray[np.float64]

DELTA_MAX = 100.0


@dataclass(frozen=True, kw_only=True)
class _SelectionFit(ResultMixin):
    """The part every selection model shares: tau^2, the selection function and the likelihood-ratio tests.

    Keyword-only, so that each result class lists its own location-model fields first.
    """

    tau2: float
    tau2_se: float
    delta: Array
    delta_se: Array
    delta_ci_low: Array
    delta_ci_high: Array
    steps: Array
    counts: npt.NDArray[np.int64]
    lrt: float
    lrt_df: int
    lrt_pvalue: float
    lrt_tau2: float
    lrt_tau2_pvalue: float
    loglik: float
    loglik_null: float
    alternative: str
    level: float
    converged: bool
    meaningful: bool
    notes: tuple[str, ...] = field(default=())
    type: str = "step"


@dataclass(frozen=True)
class SelectionModelResult(_SelectionFit):
    """Fitted selection model.

    Attributes
    ----------
    estimate, se, statistic, pvalue, ci_low, ci_high
        The selection-adjusted pooled effect (z-based inference).
    tau2, tau2_se
        Between-study variance under the selection model.
    delta, delta_se, delta_ci_low, delta_ci_high
        Parameters of the selection function. Step function: relative
        publication probabilities per p-value interval (``delta[0] = 1``
        fixed; its SE is NaN). Continuous types: ``delta`` of the function
        (two for beta).
    type
        ``"step"``, ``"beta"``, ``"halfnorm"``, ``"negexp"``, ``"logistic"``
        or ``"power"``.
    steps
        Step function: upper bounds of the p-value intervals (the last is 1);
        continuous types: ``[p0, 1]`` with ``p0`` the step below which the
        weight is 1 (0 by default).
    counts
        Step function: number of studies per interval (empty otherwise).
    lrt, lrt_df, lrt_pvalue
        Likelihood-ratio test of no selection against the fit given.
    lrt_tau2, lrt_tau2_pvalue
        Likelihood-ratio test of ``tau^2 = 0`` within the selection model.
    loglik, loglik_null
        Maximised log-likelihood; the ML log-likelihood of the fit given.
    alternative, k, converged, meaningful, notes
    """

    _title: ClassVar[str] = "Selection model (maximum likelihood)"

    k: int
    estimate: float
    se: float
    statistic: float
    pvalue: float
    ci_low: float
    ci_high: float

    def selection_table(self) -> pd.DataFrame:
        """Step function: one row per p-value interval (bounds, studies, relative selection probability);
        continuous types: one row per parameter of the selection function."""
        return _selection_table(self)

    def to_frame(self) -> pd.DataFrame:
        """The selection table (:meth:`selection_table`)."""
        return _selection_table(self)

    def summary(self, digits: int = 4) -> str:
        """metafor-like text block (as ``print(selmodel(...))``)."""
        d = digits
        lines = _heading_lines(self, d) + [
            f"Model Results ({100 * self.level:g}% CI):",
            "",
            *text_table(
                ["estimate", "se", "zval", "pval", "ci.lb", "ci.ub"],
                [
                    [fmt_number(x, d) for x in (self.estimate, self.se, self.statistic)]
                    + [fmt_pvalue(self.pvalue, d)]
                    + [fmt_number(x, d) for x in (self.ci_low, self.ci_high)]
                ],
            ),
        ]
        return "\n".join(lines + _selection_lines(self, d) + self._notes_lines())


@dataclass(frozen=True, eq=False)
class SelectionRegressionResult(_SelectionFit):
    """Fitted selection model with moderators (metafor's ``selmodel`` of an ``rma`` with ``mods``).

    Attributes
    ----------
    coefficients
        DataFrame, one row per term: ``term``, ``estimate``, ``se``,
        ``statistic`` (z), ``pvalue``, ``ci_low``, ``ci_high`` - the
        selection-adjusted meta-regression.
    vcov
        Covariance matrix of the coefficients (inverse negative Hessian).
    terms, btt
        Names of the coefficients; the (0-based) coefficients tested by ``qm``.
    qm, qm_df, qm_pvalue
        Wald test of the coefficients in ``btt`` (chi^2 with ``qm_df`` df).
    tau2, tau2_se
        Residual between-study variance under the selection model.
    delta, delta_se, delta_ci_low, delta_ci_high, type, steps, counts
        The selection function, as in :class:`SelectionModelResult`.
    lrt, lrt_df, lrt_pvalue
        Likelihood-ratio test of no selection against the meta-regression
        refitted by maximum likelihood.
    lrt_tau2, lrt_tau2_pvalue
        Likelihood-ratio test of ``tau^2 = 0`` within the selection model.
    loglik, loglik_null
        Maximised log-likelihood; the ML log-likelihood without selection.
    alternative, level, k, p, converged, meaningful, notes
    """

    _title: ClassVar[str] = "Selection model with moderators (maximum likelihood)"

    k: int
    p: int
    coefficients: pd.DataFrame
    vcov: Array
    terms: tuple[str, ...]
    btt: tuple[int, ...]
    qm: float
    qm_df: int
    qm_pvalue: float

    @property
    def estimate(self) -> Array:
        """The coefficients (the ``estimate`` column)."""
        return self.coefficients["estimate"].to_numpy()

    @property
    def se(self) -> Array:
        """Their standard errors."""
        return self.coefficients["se"].to_numpy()

    def selection_table(self) -> pd.DataFrame:
        """The selection function's parameters, as :meth:`SelectionModelResult.selection_table`."""
        return _selection_table(self)

    def to_frame(self) -> pd.DataFrame:
        """The coefficient table (as :meth:`alsmeta.MetaRegressionResult.to_frame`)."""
        return self.coefficients.copy()

    def summary(self, digits: int = 4) -> str:
        """metafor-like text block (as ``print(selmodel(rma(yi, vi, mods = ...)))``)."""
        d = digits
        tested = ", ".join(self.terms[j] for j in self.btt)
        rows = [
            [str(row.term)]
            + [fmt_number(x, d) for x in (row.estimate, row.se, row.statistic)]
            + [fmt_pvalue(row.pvalue, d)]
            + [fmt_number(x, d) for x in (row.ci_low, row.ci_high)]
            for row in self.coefficients.itertuples(index=False)
        ]
        lines = _heading_lines(self, d) + [
            f"Test of Moderators ({tested}): QM(df = {self.qm_df}) = {fmt_number(self.qm, d)}, "
            f"p-val {p_phrase(self.qm_pvalue, d)}",
            "",
            f"Model Results ({100 * self.level:g}% CI):",
            "",
            *text_table(["", "estimate", "se", "zval", "pval", "ci.lb", "ci.ub"], rows, first_left=True),
        ]
        return "\n".join(lines + _selection_lines(self, d) + self._notes_lines())


_AnySelection = SelectionModelResult | SelectionRegressionResult


def _selection_table(res: _AnySelection) -> pd.DataFrame:
    """One row per p-value interval (step function) or per parameter of the selection function."""
    if res.type != "step":
        return pd.DataFrame(
            {
                "parameter": [f"delta{i + 1}" for i in range(len(res.delta))] if len(res.delta) > 1 else ["delta"],
                "delta": res.delta,
                "se": res.delta_se,
                "ci_low": res.delta_ci_low,
                "ci_high": res.delta_ci_high,
            }
        )
    lower = np.concatenate([[0.0], res.steps[:-1]])
    return pd.DataFrame(
        {
            "p_low": lower,
            "p_high": res.steps,
            "k": res.counts,
            "delta": res.delta,
            "se": res.delta_se,
            "ci_low": res.delta_ci_low,
            "ci_high": res.delta_ci_high,
        }
    )


def _heading_lines(res: _AnySelection, d: int) -> list[str]:
    """The title, tau^2 and the two likelihood-ratio tests, as metafor prints them."""
    kind = "Step-function" if res.type == "step" else res.type.capitalize() + " function"
    return [
        f"{kind} selection model (k = {res.k}; ML; p-values: {res.alternative})",
        "",
        f"tau^2 (estimated amount of {'residual' if isinstance(res, SelectionRegressionResult) else 'total'} "
        f"heterogeneity): {fmt_number(res.tau2, d)} (SE = {fmt_number(res.tau2_se, d)})",
        f"Test for Heterogeneity: LRT(df = 1) = {fmt_number(res.lrt_tau2, d)}, "
        f"p-val {p_phrase(res.lrt_tau2_pvalue, d)}",
        f"Test for Selection Model Parameters: LRT(df = {res.lrt_df}) = {fmt_number(res.lrt, d)}, "
        f"p-val {p_phrase(res.lrt_pvalue, d)}",
        "",
    ]


def _selection_lines(res: _AnySelection, d: int) -> list[str]:
    """The "Selection Model Results" table."""
    frame = _selection_table(res)
    lines = ["", "Selection Model Results:", ""]
    if res.type != "step":
        rows = [
            [name] + [fmt_number(x, d) for x in (de, se, cl, ch)]
            for name, de, se, cl, ch in frame.itertuples(index=False)
        ]
        return lines + text_table(["", "estimate", "se", "ci.lb", "ci.ub"], rows, first_left=True)
    rows = [
        [f"{lo:g} < p <= {hi:g}", str(n)] + [fmt_number(x, d) for x in (de, se, cl, ch)]
        for lo, hi, n, de, se, cl, ch in frame.itertuples(index=False)
    ]
    return lines + text_table(["", "k", "estimate", "se", "ci.lb", "ci.ub"], rows, first_left=True)


def _cuts(vi: Array, steps: Array, alternative: str) -> Array:
    """Effect-size cut points ``c_ij`` where study ``i``'s p-value equals ``steps[j]`` (j < N), shape (k, N-1)."""
    q = steps[None, :-1] / 2 if alternative == "two.sided" else steps[None, :-1]
    return np.sqrt(vi)[:, None] * special.ndtri(1.0 - q)


def _interval_probs(mu: Array, tau2: float, vi: Array, cuts: Array, alternative: str) -> Array:
    """``P(p_i in interval j)`` under the model (location ``mu_i``), shape (k, N) (metafor's ``A_i`` terms)."""
    tot = np.sqrt(vi + tau2)[:, None]
    m = mu[:, None]
    if alternative == "greater":
        tail = special.ndtr((m - cuts) / tot)  # P(y > c)
    elif alternative == "less":
        tail = special.ndtr((-cuts - m) / tot)  # P(y < -c)
    else:
        tail = special.ndtr((m - cuts) / tot) + special.ndtr((-cuts - m) / tot)
    N = cuts.shape[1] + 1
    out = np.empty((vi.size, N))
    out[:, 0] = tail[:, 0]
    out[:, 1 : N - 1] = np.diff(tail, axis=1)
    out[:, N - 1] = 1.0 - tail[:, N - 2]
    return out


_LOG_2PI = float(np.log(2 * np.pi))


@dataclass(frozen=True)
class _Problem:
    """Everything the likelihood needs: data, design, p-values, the selection function and what is fixed.

    ``X`` is the design the optimiser sees (metafor's scaled moderators);
    ``X_scale`` maps its coefficients to those of the original design
    (``beta = X_scale @ beta_scaled``; the identity without scaling).
    """

    yi: Array
    vi: Array
    X: Array
    X_scale: Array
    pvals: Array
    type: str
    alternative: str
    steps: Array
    group: npt.NDArray[np.intp]
    cuts: Array
    spec: SelectionSpec | None
    tau2_fixed: float | None
    delta_min: Array
    delta_max: Array
    delta_init: Array

    @property
    def n_delta(self) -> int:
        return int(self.delta_min.size)

    @property
    def p(self) -> int:
        return int(self.X.shape[1])

    def unpack(self, par: Array) -> tuple[Array, float, Array]:
        """``(beta, tau2, delta)`` from the untransformed parameter vector ``(beta..., [tau2], delta...)``."""
        p = self.p
        if self.tau2_fixed is None:
            return par[:p], float(par[p]), par[p + 1 :]
        return par[:p], self.tau2_fixed, par[p:]

    def loglik(self, par: Array) -> float:
        beta, tau2, delta = self.unpack(par)
        mu = self.X @ beta
        if self.spec is not None:
            return loglik_continuous(mu, tau2, delta, self.yi, self.vi, self.pvals, self.spec)
        return _loglik_step(mu, tau2, delta, self)


def _loglik_step(mu: Array, tau2: float, deltas: Array, pr: _Problem) -> float:
    """Log-likelihood of the step-function model (metafor's ``.selmodel.ll.stepfun``)."""
    if tau2 < 10 * np.finfo(float).eps:
        tau2 = 0.0  # as metafor
    delta = np.concatenate([[1.0], deltas])
    A = _interval_probs(mu, tau2, pr.vi, pr.cuts, pr.alternative) @ delta
    var = pr.vi + tau2
    with np.errstate(divide="ignore", invalid="ignore"):
        ll = np.sum(np.log(delta[pr.group]) - 0.5 * (_LOG_2PI + np.log(var) + (pr.yi - mu) ** 2 / var) - np.log(A))
    return float(ll) if np.isfinite(ll) else -np.inf


def _canonical_alternative(alternative: str) -> str:
    alt = str(alternative).lower().replace("-", ".").replace("_", ".")
    if alt not in ("greater", "less", "two.sided"):
        raise AlsmetaInputError(f"alternative: choose 'greater', 'less' or 'two-sided', got {alternative!r}")
    return alt


def _step_points(steps: float | Sequence[float]) -> Array:
    try:
        s = np.atleast_1d(np.asarray(steps, dtype=float))
    except (TypeError, ValueError):
        raise AlsmetaInputError(f"steps: values must be numbers between 0 and 1, got {steps!r}") from None
    if s.size == 0 or np.any(~np.isfinite(s)) or np.any((s < 0) | (s > 1)):
        raise AlsmetaInputError(f"steps: values must lie between 0 and 1, got {steps!r}")
    s = np.unique(s)
    return s if s[-1] == 1.0 else np.append(s, 1.0)


def _scaled_design(X: Array) -> tuple[Array, Array]:
    """metafor's ``scaleX``: with an intercept and moderators, centre and scale every column that is not 0/1.

    Returns the design used while optimising and the matrix ``M`` with
    ``beta = M @ beta_scaled`` (the identity when nothing is scaled).
    """
    k, p = X.shape
    if p == 1 or not np.all(X[:, 0] == 1.0):
        return X, np.eye(p)
    dummy = np.all((np.abs(X) < 1e-8) | (np.abs(X - 1.0) < 1e-8), axis=0)  # metafor's .is.dummy
    mean, sd = X.mean(axis=0), X.std(axis=0, ddof=1)
    scaled = ~dummy
    M = np.eye(p)
    M[0, 1:] = np.where(scaled[1:], -mean[1:] / np.where(scaled[1:], sd[1:], 1.0), 0.0)
    M[1:, 1:] = np.diag(np.where(scaled[1:], 1.0 / np.where(scaled[1:], sd[1:], 1.0), 1.0))
    Xs = X.copy()
    Xs[:, scaled] = (X[:, scaled] - mean[scaled]) / sd[scaled]
    return Xs, M


def _problem(data: ModelData, type: str, steps: float | Sequence[float] | None, alt: str) -> _Problem:
    yi, vi = data.yi, data.vi
    X, M = _scaled_design(data.X)
    pv = study_pvalues(yi, vi, alt)
    tau2_fixed = 0.0 if data.method == "CE" else (float(data.tau2) if data.tau2_fixed else None)
    if type == "step":
        s = _step_points(0.025 if steps is None else steps)
        group = np.array([int(np.flatnonzero(p <= s)[0]) for p in pv], dtype=np.intp)
        n = s.size - 1
        return _Problem(yi, vi, X, M, pv, type, alt, s, group, _cuts(vi, s, alt), None, tau2_fixed,
                        np.zeros(n), np.full(n, DELTA_MAX), np.ones(n))  # fmt: skip
    if steps is not None and np.size(steps) != 1:
        raise AlsmetaInputError(f"steps: type={type!r} takes at most one step, got {steps!r}")
    spec = selection_spec(type, None if steps is None else float(np.ravel(np.asarray(steps, dtype=float))[0]), alt)
    return _Problem(yi, vi, X, M, pv, type, alt, spec.steps, np.zeros(yi.size, dtype=np.intp),
                    np.zeros((yi.size, 0)), spec, tau2_fixed, spec.delta_min, spec.delta_max,
                    spec.delta_init)  # fmt: skip


def _counts(pr: _Problem) -> npt.NDArray[np.int64]:
    if pr.type != "step":
        return np.zeros(0, dtype=np.int64)
    return np.bincount(pr.group, minlength=pr.steps.size).astype(np.int64)


def _why_not_fitted(pr: _Problem) -> str | None:
    """The reason the model cannot be fitted (as metafor stops), or None."""
    k = pr.yi.size
    n_par = pr.p + int(pr.tau2_fixed is None) + pr.n_delta
    if k < n_par:
        return f"k = {k} studies for {n_par} parameters: the selection model cannot be fitted."
    if effects_without_spread(pr.yi, pr.vi):
        return NO_SPREAD_NOTE.replace(
            "the test is undefined", "the selection model is not fitted and its tests are undefined"
        )
    counts = _counts(pr)
    if pr.type == "step" and np.any(counts[1:] == 0):
        lo = np.concatenate([[0.0], pr.steps[:-1]])
        which = ", ".join(f"{lo[j]:g} < p <= {pr.steps[j]:g}" for j in range(1, pr.steps.size) if counts[j] == 0)
        return f"No study has a p-value in {which}: its selection weight is not identifiable (metafor stops)."
    return None


def _ml_refit(data: ModelData) -> tuple[Array, float, float]:
    """The model without selection refitted by ML, as metafor's selmodel does: ``(beta, tau2, loglik)``.

    A common-effect fit stays common-effect and a fixed tau^2 stays fixed.
    """
    ce = data.method == "CE"
    ml = fit_regression_many(data.yi, data.vi, data.X, method="CE" if ce else "ML",
                             tau2=data.tau2 if data.tau2_fixed and not ce else None)  # fmt: skip
    return ml.coef[0], float(ml.tau2[0]), float(ml.ll_ml[0])


def _to_internal(pr: _Problem, par: Array) -> Array:
    """Untransformed ``(beta, [tau2], delta)`` -> optimiser scale ``(beta, [log tau2], logit delta)`` (as metafor)."""
    beta, tau2, delta = pr.unpack(par)
    frac = np.clip((delta - pr.delta_min) / (pr.delta_max - pr.delta_min), 1e-12, 1 - 1e-12)
    head = beta if pr.tau2_fixed is not None else np.append(beta, np.log(max(tau2, 1e-300)))
    return np.concatenate([head, np.log(frac / (1 - frac))])


def _from_internal(pr: _Problem, x: Array) -> Array:
    j = pr.p + int(pr.tau2_fixed is None)
    delta = pr.delta_min + (pr.delta_max - pr.delta_min) * special.expit(x[j:])
    head = x[: pr.p] if pr.tau2_fixed is not None else np.append(x[: pr.p], np.exp(x[pr.p]))
    return np.concatenate([head, delta])


def _maximise(pr: _Problem, start: Array) -> tuple[Array, float, bool]:
    """Maximise the log-likelihood from ``start`` (untransformed); returns parameters, maximum and convergence.

    BFGS on metafor's scale (log tau^2, logistic delta within its bounds),
    a derivative-free polish (step function only: its likelihood is cheap)
    and BFGS again from the best point; the best point is kept.
    """

    def nll(x: Array) -> float:
        val = pr.loglik(_from_internal(pr, x))
        return -val if np.isfinite(val) else 1e300

    x = _to_internal(pr, start)
    best = optimize.minimize(nll, x, method="BFGS", options={"gtol": 1e-10, "maxiter": 10000})
    cands = [best]
    if pr.spec is None:  # the step likelihood is cheap: polish derivative-free (capped: it gains < 1e-13 after that)
        polish = {"xatol": 1e-12, "fatol": 1e-15, "maxiter": 20000, "maxfev": 1000 * x.size}
        cands.append(optimize.minimize(nll, best.x, method="Nelder-Mead", options=polish))
    again = optimize.minimize(nll, min(cands, key=lambda r: r.fun).x, method="BFGS", options={"gtol": 1e-10})
    cands.append(again)
    top = min(cands, key=lambda r: r.fun)
    converged = bool(np.isfinite(top.fun) and top.fun < 1e300 and any(_settled(r) for r in cands))
    return _from_internal(pr, top.x), -float(top.fun), converged


def _settled(res: optimize.OptimizeResult) -> bool:
    """Converged, or BFGS stopped by rounding ("precision loss") with a gradient that is zero for practical purposes."""
    if res.success:
        return True
    jac = getattr(res, "jac", None)
    return bool(res.status == 2 and jac is not None and np.max(np.abs(jac)) < 1e-5)


def _start(pr: _Problem, beta_ml: Array, tau2_ml: float) -> Array:
    """metafor's starting values: the ML fit's coefficients (in the scaled design), its tau^2 + 0.001, delta = 1."""
    beta = np.linalg.solve(pr.X_scale, beta_ml)
    head = beta if pr.tau2_fixed is not None else np.append(beta, tau2_ml + 0.001)
    return np.concatenate([head, pr.delta_init])


def _covariance(pr: _Problem, par: Array) -> tuple[Array, str | None]:
    """Inverse of the negative Hessian (NaN with a note when it is not positive definite)."""
    H = -_hessian(pr.loglik, par, r=6)
    try:
        np.linalg.cholesky(H)
        cov: Array = np.linalg.inv(H).astype(np.float64)
    except np.linalg.LinAlgError:
        return np.full((par.size, par.size), np.nan), (
            "The Hessian is not positive definite: standard errors are not available."
        )
    return cov, None


def _fit_with_boundary(pr: _Problem, start: Array) -> tuple[Array, float, bool, float, str | None]:
    """The maximum over tau^2 >= 0, boundary included, and the maximum at tau^2 = 0 (NaN if tau^2 is fixed).

    BFGS on log tau^2 only approaches a maximum at tau^2 = 0, so the fit
    with tau^2 = 0 (needed for the LRT of tau^2 anyway) replaces it when its
    likelihood is at least as high. When it is clearly higher, the
    likelihood has two maxima and the one BFGS found from metafor's start
    (which metafor reports) is named in the returned note.
    """
    par, ll, converged = _maximise(pr, start)
    if pr.tau2_fixed is not None:
        return par, ll, converged, float("nan"), None
    p = pr.p
    par0, ll0, converged0 = _maximise(replace(pr, tau2_fixed=0.0), np.concatenate([start[:p], start[p + 1 :]]))
    if ll0 < ll:
        return par, ll, converged, ll0, None
    note = None
    if ll0 > ll + 1e-6:
        note = (
            f"The likelihood has more than one maximum: from the fit's estimates the optimiser reaches "
            f"log-likelihood {ll:.6g} (tau^2 {par[p]:.6g}; metafor's selmodel stops there), "
            f"but the maximum at tau^2 = 0 is higher ({ll0:.6g}) and is reported."
        )
    return np.concatenate([par0[:p], [0.0], par0[p:]]), ll0, converged0, ll0, note


def _notes(pr: _Problem, delta: Array, converged: bool, extra: str | None) -> tuple[list[str], bool]:
    k = pr.yi.size
    notes = [extra] if extra else []
    lo, hi = pr.delta_min, pr.delta_max
    at_bound = bool(np.any(delta <= lo + 1e-6 * (hi - lo)) or np.any(delta >= hi - 1e-6 * (hi - lo)))
    if at_bound:
        ranges = ", ".join(f"{a:g} to {b:g}" for a, b in zip(lo, hi, strict=True))
        notes.append(
            f"A selection parameter is at its bound (range {ranges}): "
            "the model is not identified by these data (often the wrong direction of the one-sided p-values); "
            "treat the results with caution."
        )
    if k < 20:
        notes.append(f"Only {k} studies: selection-model estimates are unstable with fewer than about 20 studies.")
    if not converged:
        notes.append("The optimiser did not report convergence.")
    return notes, at_bound


@dataclass(frozen=True)
class _Fitted:
    """What both result types share: coefficients and their covariance, tau^2, the selection function, the tests."""

    beta: Array
    vcov: Array
    tau2: float
    tau2_se: float
    delta: Array
    delta_se: Array
    delta_ci_low: Array
    delta_ci_high: Array
    lrt: float
    lrt_pvalue: float
    lrt_tau2: float
    lrt_tau2_pvalue: float
    loglik: float
    loglik_null: float
    converged: bool
    meaningful: bool
    notes: tuple[str, ...]


def _fit(pr: _Problem, data: ModelData) -> _Fitted:
    """Fit the selection model of ``pr`` (metafor's ``selmodel``): estimates, Hessian-based SEs and the LRTs."""
    beta_ml, tau2_ml, ll_null = _ml_refit(data)
    par, ll, converged, ll_tau2_zero, mode_note = _fit_with_boundary(pr, _start(pr, beta_ml, tau2_ml))
    beta_scaled, tau2, deltas = pr.unpack(par)
    tau2 = 0.0 if tau2 < 10 * np.finfo(float).eps else tau2
    cov, se_note = _covariance(pr, par)
    notes, at_bound = _notes(pr, deltas, converged, se_note)
    if mode_note:
        notes.insert(0, mode_note)
        warnings.warn(mode_note, AlsmetaWarning, stacklevel=3)
    p, nd = pr.p, pr.n_delta
    crit = stats.norm.isf((1 - data.level) / 2)
    fixed_first = pr.type == "step"
    se_delta = np.sqrt(np.diag(cov)[-nd:])
    delta = np.concatenate([[1.0], deltas]) if fixed_first else deltas
    delta_se = np.concatenate([[np.nan], se_delta]) if fixed_first else se_delta
    lrt = max(0.0, -2.0 * (ll_null - ll))
    lrt_tau2 = float(np.maximum(0.0, -2.0 * (ll_tau2_zero - ll)))  # NaN when tau^2 is fixed
    return _Fitted(
        beta=pr.X_scale @ beta_scaled,
        vcov=pr.X_scale @ cov[:p, :p] @ pr.X_scale.T,
        tau2=tau2,
        tau2_se=float("nan") if pr.tau2_fixed is not None else float(np.sqrt(cov[p, p])),
        delta=delta,
        delta_se=delta_se,
        delta_ci_low=np.maximum(delta - crit * delta_se, 0.0),  # metafor: at least delta's lower bound 0
        delta_ci_high=delta + crit * delta_se,
        lrt=lrt,
        lrt_pvalue=float(stats.chi2.sf(lrt, nd)),
        lrt_tau2=lrt_tau2,
        lrt_tau2_pvalue=float(stats.chi2.sf(lrt_tau2, 1)),
        loglik=ll,
        loglik_null=ll_null,
        converged=converged,
        meaningful=converged and not at_bound and pr.yi.size >= 20,
        notes=tuple(notes),
    )


def _empty_fitted(pr: _Problem, msg: str) -> _Fitted:
    nan = float("nan")
    na = np.full(pr.n_delta + int(pr.type == "step"), nan)
    p = pr.p
    return _Fitted(np.full(p, nan), np.full((p, p), nan), nan, nan, na, na, na, na, nan, nan, nan, nan, nan, nan,
                   False, False, (msg,))  # fmt: skip


def _selection_fields(f: _Fitted, pr: _Problem) -> dict[str, Any]:
    """The :class:`_SelectionFit` fields of a fitted model (all but ``level``)."""
    return {
        "tau2": f.tau2,
        "tau2_se": f.tau2_se,
        "delta": f.delta,
        "delta_se": f.delta_se,
        "delta_ci_low": f.delta_ci_low,
        "delta_ci_high": f.delta_ci_high,
        "steps": pr.steps,
        "counts": _counts(pr),
        "lrt": f.lrt,
        "lrt_df": pr.n_delta,
        "lrt_pvalue": f.lrt_pvalue,
        "lrt_tau2": f.lrt_tau2,
        "lrt_tau2_pvalue": f.lrt_tau2_pvalue,
        "loglik": f.loglik,
        "loglik_null": f.loglik_null,
        "alternative": pr.alternative,
        "converged": f.converged,
        "meaningful": f.meaningful,
        "notes": f.notes,
        "type": pr.type,
    }


def _pooled_result(f: _Fitted, pr: _Problem, level: float) -> SelectionModelResult:
    mu, se = float(f.beta[0]), float(np.sqrt(f.vcov[0, 0]))
    crit = stats.norm.isf((1 - level) / 2)
    return SelectionModelResult(
        k=pr.yi.size,
        estimate=mu,
        se=se,
        statistic=mu / se,
        pvalue=float(2 * stats.norm.sf(abs(mu / se))),
        ci_low=mu - crit * se,
        ci_high=mu + crit * se,
        **_selection_fields(f, pr),
        level=level,
    )


def _regression_result(f: _Fitted, pr: _Problem, fit: MetaRegressionResult) -> SelectionRegressionResult:
    se = np.sqrt(np.diag(f.vcov))
    crit = stats.norm.isf((1 - fit.level) / 2)
    z = f.beta / se
    coefs = pd.DataFrame(
        {
            "term": list(fit.terms),
            "estimate": f.beta,
            "se": se,
            "statistic": z,
            "pvalue": 2 * stats.norm.sf(np.abs(z)),
            "ci_low": f.beta - crit * se,
            "ci_high": f.beta + crit * se,
        }
    )
    btt = list(fit.btt)
    qm = _wald(f.beta[btt], f.vcov[np.ix_(btt, btt)])
    return SelectionRegressionResult(
        k=fit.k,
        p=fit.p,
        coefficients=coefs,
        vcov=f.vcov,
        terms=fit.terms,
        btt=fit.btt,
        qm=qm,
        qm_df=len(btt),
        qm_pvalue=float(stats.chi2.sf(qm, len(btt))),
        **_selection_fields(f, pr),
        level=fit.level,
    )


def _wald(b: Array, V: Array) -> float:
    """``b' V^-1 b`` (NaN when ``V`` is not positive definite, as metafor's QM)."""
    try:
        L = np.linalg.cholesky(V)
    except np.linalg.LinAlgError:
        return float("nan")
    u = np.linalg.solve(L, b)
    return float(u @ u)


def _supported(fit: object) -> ModelData:
    """The data of a pool or meta-regression fit that a selection model can take (metafor's refusals)."""
    if not isinstance(fit, (PooledResult, MetaRegressionResult)):
        raise AlsmetaInputError(
            "selection_model: expected the result of alsmeta.pool(...) or alsmeta.meta_regression(...), "
            f"got {type(fit).__name__}"
        )
    data = model_data(fit, "fit")
    if data.user_weights is not None:
        raise AlsmetaInputError(
            f"fit: a selection model needs inverse-variance weights; this fit has custom weights "
            f"(weights= or method={data.method!r}), which metafor's selmodel also refuses"
        )
    return data


@overload
def selection_model(
    fit: PooledResult,
    steps: float | Sequence[float] | None = ...,
    alternative: str = ...,
    type: str = ...,
) -> SelectionModelResult: ...


@overload
def selection_model(
    fit: MetaRegressionResult,
    steps: float | Sequence[float] | None = ...,
    alternative: str = ...,
    type: str = ...,
) -> SelectionRegressionResult: ...


def selection_model(
    fit: PooledResult | MetaRegressionResult,
    steps: float | Sequence[float] | None = None,
    alternative: str = "greater",
    type: str = "step",
) -> SelectionModelResult | SelectionRegressionResult:
    """Fit a selection model for publication bias (metafor's ``selmodel``).

    Parameters
    ----------
    fit
        A :func:`alsmeta.pool` result, or a :func:`alsmeta.meta_regression`
        result (the selection model then has the same moderators: metafor's
        ``selmodel(rma(yi, vi, mods = ...))``). As metafor, the model is
        fitted by maximum likelihood whatever the fit's method; a
        common-effect fit (``method="CE"``) gives a selection model with
        tau^2 = 0, and a fixed tau^2 stays fixed. A fit with custom weights
        (``weights=``, ``method="GENQ"``) is refused, as by metafor.
    steps
        ``type="step"``: cut points of the p-values (1 is appended; default
        0.025, the 3PSM). halfnorm, negexp, logistic, power: optionally one
        p-value below which the weight is 1. beta: not used.
    alternative
        Direction of the one-sided p-values: ``"greater"`` (metafor's
        default: significant *positive* effects favoured), ``"less"`` (use it
        when beneficial effects are negative, e.g. log risk ratios below 0) or
        ``"two-sided"``.
    type
        ``"step"`` (default), ``"beta"``, ``"halfnorm"``, ``"negexp"``,
        ``"logistic"`` or ``"power"``; see
        :mod:`alsmeta.models.selection_functions`.

    Returns
    -------
    SelectionModelResult or SelectionRegressionResult
        The first for a pool fit; the second, with a coefficient table,
        their covariance and the Wald test of the moderators (``qm``), for a
        meta-regression.

    Notes
    -----
    Not computed (NaN, with a note) when k is smaller than the number of
    parameters or when an interval with a free ``delta`` contains no study
    (the parameter is not identifiable; metafor stops), and when all
    effects are equal up to rounding noise
    (:func:`alsmeta.engine.heterogeneity.effects_without_spread`: no spread, no
    evidence of selection). With fewer than about 20 studies - and always
    when a ``delta`` ends on a bound - the estimates are unstable and
    flagged not meaningful.

    Where metafor differs: with moderators, metafor's test of tau^2 = 0
    (``LRT.tau2``) refits with the unscaled design from the start values of
    the scaled one, and that refit can stop far from its maximum (dat.hackshaw1998
    with ``mods = ~ year``: 57.7 instead of 2.02) or fail (NA); ``lrt_tau2``
    here is against the maximum at tau^2 = 0, which equals metafor's own fit
    ``selmodel(..., tau2 = 0)``. Where that maximum is higher than the one
    metafor's optimiser reaches with tau^2 > 0, it is reported, with a warning.

    References
    ----------
    Vevea JL, Hedges LV (1995). A general linear model for estimating effect
    size in the presence of publication bias. Psychometrika 60:419-435.
    Preston C, Ashby D, Smyth R (2004). J Eval Clin Pract 10:313-322.
    Citkowicz M, Vevea JL (2017). Psychol Methods 22:28-41.
    McShane BB, Böckenholt U, Hansen KT (2016). Adjusting for publication
    bias in meta-analysis. Perspect Psychol Sci 11:730-749.
    """
    data = _supported(fit)
    if type not in TYPES:
        raise AlsmetaInputError(f"type: must be one of {', '.join(map(repr, TYPES))}, got {type!r}")
    pr = _problem(data, type, steps, _canonical_alternative(alternative))
    why = _why_not_fitted(pr)
    fitted = _fit(pr, data) if why is None else _empty_fitted(pr, why)
    if isinstance(fit, MetaRegressionResult):
        return _regression_result(fitted, pr, fit)
    return _pooled_result(fitted, pr, data.level)


def _hessian(
    f: Callable[[Array], float], x: Array, r: int = 6, d: float = 0.1, eps: float = 1e-4, v: float = 2.0
) -> Array:
    """Numerical Hessian by Richardson extrapolation (a port of ``numDeriv::genD``)."""
    n = x.size
    zero_tol = np.sqrt(np.finfo(float).eps / 7e-7)
    f0 = f(x)
    h0 = np.abs(d * x) + eps * (np.abs(x) < zero_tol)
    hdiag = np.zeros(n)
    H = np.zeros((n, n))

    def richardson(a: Array) -> float:
        a = a.copy()
        for m in range(1, r):
            for kk in range(r - m):
                a[kk] = (a[kk + 1] * 4.0**m - a[kk]) / (4.0**m - 1.0)
        return float(a[0])

    for i in range(n):
        h = h0.copy()
        approx = np.zeros(r)
        e = np.zeros(n)
        e[i] = 1.0
        for kk in range(r):
            f1 = f(x + e * h)
            f2 = f(x - e * h)
            approx[kk] = (f1 - 2 * f0 + f2) / h[i] ** 2
            h = h / v
        hdiag[i] = richardson(approx)
        H[i, i] = hdiag[i]
    for i in range(n):
        for j in range(i):
            h = h0.copy()
            approx = np.zeros(r)
            ei = np.zeros(n)
            ej = np.zeros(n)
            ei[i] = 1.0
            ej[j] = 1.0
            for kk in range(r):
                f1 = f(x + ei * h + ej * h)
                f2 = f(x - ei * h - ej * h)
                approx[kk] = (f1 - 2 * f0 + f2 - hdiag[i] * h[i] ** 2 - hdiag[j] * h[j] ** 2) / (2 * h[i] * h[j])
                h = h / v
            H[i, j] = H[j, i] = richardson(approx)
    return H
