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

The likelihood is maximised over ``mu``, ``tau^2 >= 0`` and ``delta``
within metafor's bounds (0 to 100; beta: 1e-5 to 100); standard errors
come from the numerical Hessian of the log-likelihood in the untransformed
parameters (Richardson extrapolation, as ``numDeriv::hessian`` which
metafor uses). The likelihood-ratio test of "no selection" compares with
the ML log-likelihood of the fit given (at its own estimates, as metafor's
``logLik(fit, REML=FALSE)``).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import ClassVar

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import optimize, special, stats

from alsmeta.engine.batch import pool_many
from alsmeta.engine.heterogeneity import NO_SPREAD_NOTE, effects_without_spread
from alsmeta.models._fitted import require_fit
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

__all__ = ["SelectionModelResult", "selection_model", "study_pvalues"]

Array = npt.NDArray[np.float64]

DELTA_MAX = 100.0


@dataclass(frozen=True)
class SelectionModelResult(ResultMixin):
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

    def to_frame(self) -> pd.DataFrame:
        """Step function: one row per p-value interval (bounds, studies, relative selection probability);
        continuous types: one row per parameter of the selection function."""
        if self.type != "step":
            return pd.DataFrame(
                {
                    "parameter": [f"delta{i + 1}" for i in range(len(self.delta))]
                    if len(self.delta) > 1
                    else ["delta"],
                    "delta": self.delta,
                    "se": self.delta_se,
                    "ci_low": self.delta_ci_low,
                    "ci_high": self.delta_ci_high,
                }
            )
        lower = np.concatenate([[0.0], self.steps[:-1]])
        return pd.DataFrame(
            {
                "p_low": lower,
                "p_high": self.steps,
                "k": self.counts,
                "delta": self.delta,
                "se": self.delta_se,
                "ci_low": self.delta_ci_low,
                "ci_high": self.delta_ci_high,
            }
        )

    def summary(self, digits: int = 4) -> str:
        """metafor-like text block (as ``print(selmodel(...))``)."""
        d = digits
        lines = [
            f"{'Step-function' if self.type == 'step' else self.type.capitalize() + ' function'} selection model "
            f"(k = {self.k}; ML; p-values: {self.alternative})",
            "",
            f"tau^2 (estimated amount of total heterogeneity): {fmt_number(self.tau2, d)} "
            f"(SE = {fmt_number(self.tau2_se, d)})",
            f"Test for Heterogeneity: LRT(df = 1) = {fmt_number(self.lrt_tau2, d)}, "
            f"p-val {p_phrase(self.lrt_tau2_pvalue, d)}",
            f"Test for Selection Model Parameters: LRT(df = {self.lrt_df}) = {fmt_number(self.lrt, d)}, "
            f"p-val {p_phrase(self.lrt_pvalue, d)}",
            "",
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
            "",
            "Selection Model Results:",
            "",
        ]
        frame = self.to_frame()
        if self.type != "step":
            rows = [
                [name] + [fmt_number(x, d) for x in (de, se, cl, ch)]
                for name, de, se, cl, ch in frame.itertuples(index=False)
            ]
            lines += text_table(["", "estimate", "se", "ci.lb", "ci.ub"], rows, first_left=True)
            return "\n".join(lines + self._notes_lines())
        rows = [
            [f"{lo:g} < p <= {hi:g}", str(n)] + [fmt_number(x, d) for x in (de, se, cl, ch)]
            for lo, hi, n, de, se, cl, ch in frame.itertuples(index=False)
        ]
        lines += text_table(["", "k", "estimate", "se", "ci.lb", "ci.ub"], rows, first_left=True)
        return "\n".join(lines + self._notes_lines())


def _cuts(vi: Array, steps: Array, alternative: str) -> Array:
    """Effect-size cut points ``c_ij`` where study ``i``'s p-value equals ``steps[j]`` (j < N), shape (k, N-1)."""
    q = steps[None, :-1] / 2 if alternative == "two.sided" else steps[None, :-1]
    return np.sqrt(vi)[:, None] * special.ndtri(1.0 - q)


def _interval_probs(mu: float, tau2: float, vi: Array, cuts: Array, alternative: str) -> Array:
    """``P(p_i in interval j)`` under the model, shape (k, N) (metafor's ``A_i`` terms)."""
    tot = np.sqrt(vi + tau2)[:, None]
    if alternative == "greater":
        tail = special.ndtr((mu - cuts) / tot)  # P(y > c)
    elif alternative == "less":
        tail = special.ndtr((-cuts - mu) / tot)  # P(y < -c)
    else:
        tail = special.ndtr((mu - cuts) / tot) + special.ndtr((-cuts - mu) / tot)
    N = cuts.shape[1] + 1
    out = np.empty((vi.size, N))
    out[:, 0] = tail[:, 0]
    out[:, 1 : N - 1] = np.diff(tail, axis=1)
    out[:, N - 1] = 1.0 - tail[:, N - 2]
    return out


_LOG_2PI = float(np.log(2 * np.pi))


@dataclass(frozen=True)
class _Problem:
    """Everything the likelihood needs: data, p-values, the selection function and what is fixed."""

    yi: Array
    vi: Array
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

    def unpack(self, par: Array) -> tuple[float, float, Array]:
        """``(mu, tau2, delta)`` from the untransformed parameter vector ``(mu, [tau2], delta...)``."""
        if self.tau2_fixed is None:
            return float(par[0]), float(par[1]), par[2:]
        return float(par[0]), self.tau2_fixed, par[1:]

    def loglik(self, par: Array) -> float:
        mu, tau2, delta = self.unpack(par)
        if self.spec is not None:
            return loglik_continuous(mu, tau2, delta, self.yi, self.vi, self.pvals, self.spec)
        return _loglik_step(mu, tau2, delta, self)


def _loglik_step(mu: float, tau2: float, deltas: Array, pr: _Problem) -> float:
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


def _problem(fit: PooledResult, type: str, steps: float | Sequence[float] | None, alt: str) -> _Problem:
    yi, vi = fit.yi, fit.vi
    pv = study_pvalues(yi, vi, alt)
    tau2_fixed = 0.0 if fit.method == "CE" else (float(fit.tau2) if fit.tau2_fixed else None)
    if type == "step":
        s = _step_points(0.025 if steps is None else steps)
        group = np.array([int(np.flatnonzero(p <= s)[0]) for p in pv], dtype=np.intp)
        n = s.size - 1
        return _Problem(yi, vi, pv, type, alt, s, group, _cuts(vi, s, alt), None, tau2_fixed,
                        np.zeros(n), np.full(n, DELTA_MAX), np.ones(n))  # fmt: skip
    if steps is not None and np.size(steps) != 1:
        raise AlsmetaInputError(f"steps: type={type!r} takes at most one step, got {steps!r}")
    spec = selection_spec(type, None if steps is None else float(np.ravel(np.asarray(steps, dtype=float))[0]), alt)
    return _Problem(yi, vi, pv, type, alt, spec.steps, np.zeros(yi.size, dtype=np.intp), np.zeros((yi.size, 0)),
                    spec, tau2_fixed, spec.delta_min, spec.delta_max, spec.delta_init)  # fmt: skip


def _counts(pr: _Problem) -> npt.NDArray[np.int64]:
    if pr.type != "step":
        return np.zeros(0, dtype=np.int64)
    return np.bincount(pr.group, minlength=pr.steps.size).astype(np.int64)


def _why_not_fitted(pr: _Problem, k: int) -> str | None:
    """The reason the model cannot be fitted (as metafor stops), or None."""
    n_par = 1 + int(pr.tau2_fixed is None) + pr.n_delta
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


def _empty(fit: PooledResult, pr: _Problem, msg: str) -> SelectionModelResult:
    nan = float("nan")
    na = np.full(pr.n_delta + int(pr.type == "step"), nan)
    return SelectionModelResult(
        fit.k, nan, nan, nan, nan, nan, nan, nan, nan, na, na, na, na, pr.steps, _counts(pr), nan, pr.n_delta,
        nan, nan, nan, nan, nan, pr.alternative, fit.level, False, False, (msg,), pr.type,
    )  # fmt: skip


def _loglik_ml(fit: PooledResult) -> float:
    """Maximised ML log-likelihood of the model without selection (same tau^2 treatment as the fit)."""
    ce = fit.method == "CE"
    ml = pool_many(fit.yi[None, :], fit.vi[None, :], method="CE" if ce else "ML",
                   tau2=fit.tau2 if fit.tau2_fixed and not ce else None, confint=False)  # fmt: skip
    mu, tau2 = float(ml.estimate[0]), float(ml.tau2[0])
    var = fit.vi + tau2
    return float(-0.5 * np.sum(_LOG_2PI + np.log(var) + (fit.yi - mu) ** 2 / var))


def _to_internal(pr: _Problem, par: Array) -> Array:
    """Untransformed ``(mu, [tau2], delta)`` -> optimiser scale ``(mu, [log tau2], logit delta)`` (as metafor)."""
    mu, tau2, delta = pr.unpack(par)
    frac = np.clip((delta - pr.delta_min) / (pr.delta_max - pr.delta_min), 1e-12, 1 - 1e-12)
    head = [mu] if pr.tau2_fixed is not None else [mu, np.log(max(tau2, 1e-300))]
    return np.concatenate([head, np.log(frac / (1 - frac))])


def _from_internal(pr: _Problem, x: Array) -> Array:
    j = 1 if pr.tau2_fixed is not None else 2
    delta = pr.delta_min + (pr.delta_max - pr.delta_min) * special.expit(x[j:])
    head = [x[0]] if pr.tau2_fixed is not None else [x[0], np.exp(x[1])]
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
    if pr.spec is None:  # the step likelihood is cheap: polish derivative-free
        cands.append(optimize.minimize(nll, best.x, method="Nelder-Mead",
                     options={"xatol": 1e-12, "fatol": 1e-15, "maxiter": 20000, "maxfev": 40000}))  # fmt: skip
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


def _start(fit: PooledResult, pr: _Problem) -> Array:
    """metafor's starting values: the fit's estimate, tau^2 + 0.001, delta = 1."""
    head = [fit.estimate] if pr.tau2_fixed is not None else [fit.estimate, fit.tau2 + 0.001]
    return np.concatenate([head, pr.delta_init])


def _standard_errors(pr: _Problem, par: Array) -> tuple[Array, str | None]:
    """SEs from the inverse of the negative Hessian (NaN with a note when it is not positive definite)."""
    H = -_hessian(pr.loglik, par, r=6)
    try:
        np.linalg.cholesky(H)
        cov = np.linalg.inv(H)
    except np.linalg.LinAlgError:
        return np.full(par.size, np.nan), "The Hessian is not positive definite: standard errors are not available."
    return np.sqrt(np.diag(cov)), None


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
    par0, ll0, converged0 = _maximise(replace(pr, tau2_fixed=0.0), np.concatenate([[start[0]], start[2:]]))
    if ll0 < ll:
        return par, ll, converged, ll0, None
    note = None
    if ll0 > ll + 1e-6:
        note = (
            f"The likelihood has more than one maximum: from the fit's estimates the optimiser reaches "
            f"log-likelihood {ll:.6g} (estimate {par[0]:.6g}, tau^2 {par[1]:.6g}; metafor's selmodel stops there), "
            f"but the maximum at tau^2 = 0 is higher ({ll0:.6g}) and is reported."
        )
    return np.concatenate([[par0[0], 0.0], par0[1:]]), ll0, converged0, ll0, note


def _notes(pr: _Problem, delta: Array, k: int, converged: bool, extra: str | None) -> tuple[list[str], bool]:
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


def selection_model(
    fit: PooledResult,
    steps: float | Sequence[float] | None = None,
    alternative: str = "greater",
    type: str = "step",
) -> SelectionModelResult:
    """Fit a selection model for publication bias (metafor's ``selmodel``).

    Parameters
    ----------
    fit
        A :func:`alsmeta.pool` result. As metafor, the model is fitted by
        maximum likelihood whatever the fit's method; a common-effect fit
        (``method="CE"``) gives a selection model with tau^2 = 0, and a
        fixed tau^2 stays fixed.
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

    References
    ----------
    Vevea JL, Hedges LV (1995). A general linear model for estimating effect
    size in the presence of publication bias. Psychometrika 60:419-435.
    Preston C, Ashby D, Smyth R (2004). J Eval Clin Pract 10:313-322.
    Citkowicz M, Vevea JL (2017). Psychol Methods 22:28-41.
    McShane BB, Böckenholt U, Hansen KT (2016). Adjusting for publication
    bias in meta-analysis. Perspect Psychol Sci 11:730-749.
    """
    fit = require_fit(fit, "selection_model")
    if type not in TYPES:
        raise AlsmetaInputError(f"type: must be one of {', '.join(map(repr, TYPES))}, got {type!r}")
    pr = _problem(fit, type, steps, _canonical_alternative(alternative))
    why = _why_not_fitted(pr, fit.k)
    if why is not None:
        return _empty(fit, pr, why)
    start = _start(fit, pr)
    par, ll, converged, ll_tau2_zero, mode_note = _fit_with_boundary(pr, start)
    mu, tau2, deltas = pr.unpack(par)
    tau2 = 0.0 if tau2 < 10 * np.finfo(float).eps else tau2
    se_all, se_note = _standard_errors(pr, par)
    notes, at_bound = _notes(pr, deltas, fit.k, converged, se_note)
    if mode_note:
        notes.insert(0, mode_note)
        warnings.warn(mode_note, AlsmetaWarning, stacklevel=2)
    crit = stats.norm.isf((1 - fit.level) / 2)
    fixed_first = pr.type == "step"
    delta = np.concatenate([[1.0], deltas]) if fixed_first else deltas
    delta_se = np.concatenate([[np.nan], se_all[-pr.n_delta :]]) if fixed_first else se_all[-pr.n_delta :]
    ll_null = _loglik_ml(fit)
    lrt = max(0.0, -2.0 * (ll_null - ll))
    lrt_tau2 = float(np.maximum(0.0, -2.0 * (ll_tau2_zero - ll)))  # NaN when tau^2 is fixed
    se = float(se_all[0])
    return SelectionModelResult(
        k=fit.k,
        estimate=mu,
        se=se,
        statistic=mu / se,
        pvalue=float(2 * stats.norm.sf(abs(mu / se))),
        ci_low=mu - crit * se,
        ci_high=mu + crit * se,
        tau2=tau2,
        tau2_se=float("nan") if pr.tau2_fixed is not None else float(se_all[1]),
        delta=delta,
        delta_se=delta_se,
        delta_ci_low=np.maximum(delta - crit * delta_se, 0.0),  # metafor: at least delta's lower bound 0
        delta_ci_high=delta + crit * delta_se,
        steps=pr.steps,
        counts=_counts(pr),
        lrt=lrt,
        lrt_df=pr.n_delta,
        lrt_pvalue=float(stats.chi2.sf(lrt, pr.n_delta)),
        lrt_tau2=lrt_tau2,
        lrt_tau2_pvalue=float(stats.chi2.sf(lrt_tau2, 1)),
        loglik=ll,
        loglik_null=ll_null,
        alternative=pr.alternative,
        level=fit.level,
        converged=converged,
        meaningful=converged and not at_bound and fit.k >= 20,
        notes=tuple(notes),
        type=pr.type,
    )


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
