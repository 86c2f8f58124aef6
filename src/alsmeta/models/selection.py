"""Step-function selection models (Vevea & Hedges 1995), as metafor's ``selmodel(type="stepfun")``.

The random-effects model ``y_i ~ N(mu, v_i + tau^2)`` is combined with a
selection function that is constant between cut points of the one-sided (or
two-sided) p-values of the studies: a study whose p-value falls into
interval ``j`` is published with relative probability ``delta_j``
(``delta_1 = 1`` for the first interval, p <= the first step). The
three-parameter selection model (3PSM) has a single cut at p = .025
(one-sided), i.e. significant in the expected direction at the two-sided
5 % level, and parameters ``mu``, ``tau^2`` and ``delta_2``.

Likelihood (metafor's ``.selmodel.ll.stepfun``):

    ll = sum_i [ log delta_{g(i)} + log phi(y_i; mu, v_i + tau^2) - log A_i ]

with ``A_i = sum_j delta_j P(p_i in interval j)`` under the model. It is
maximised over ``mu``, ``tau^2 >= 0`` and ``0 <= delta_j <= 100``
(metafor's default bounds); standard errors come from the numerical Hessian
(Richardson extrapolation, as ``numDeriv::hessian`` which metafor uses).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import optimize, special, stats

from alsmeta.engine.batch import pool_many
from alsmeta.engine.heterogeneity import NO_SPREAD_NOTE, effects_without_spread
from alsmeta.models._fitted import require_fit
from alsmeta.models.pooling import PooledResult
from alsmeta.results import ResultMixin, fmt_number, fmt_pvalue, p_phrase, text_table
from alsmeta.validation import AlsmetaInputError

Array = npt.NDArray[np.float64]

DELTA_MAX = 100.0


@dataclass(frozen=True)
class SelectionModelResult(ResultMixin):
    """Fitted step-function selection model.

    Attributes
    ----------
    estimate, se, statistic, pvalue, ci_low, ci_high
        The selection-adjusted pooled effect (z-based inference).
    tau2, tau2_se
        Between-study variance under the selection model.
    delta, delta_se, delta_ci_low, delta_ci_high
        Relative publication probabilities per p-value interval
        (``delta[0] = 1`` fixed; its SE is NaN).
    steps
        Upper bounds of the p-value intervals (the last is 1).
    counts
        Number of studies per interval.
    lrt, lrt_df, lrt_pvalue
        Likelihood-ratio test of ``delta_j = 1`` for all j (no selection)
        against the unadjusted ML random-effects model.
    lrt_tau2, lrt_tau2_pvalue
        Likelihood-ratio test of ``tau^2 = 0`` within the selection model.
    loglik, loglik_null
        Maximised log-likelihood; that of the unadjusted ML model.
    alternative, k, converged, meaningful, notes
    """

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

    def to_frame(self) -> pd.DataFrame:
        """One row per p-value interval: bounds, number of studies and the relative selection probability."""
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
            f"Step-function selection model (k = {self.k}; ML; one-sided p-values: {self.alternative})",
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
        rows = [
            [f"{lo:g} < p <= {hi:g}", str(n)] + [fmt_number(x, d) for x in (de, se, cl, ch)]
            for lo, hi, n, de, se, cl, ch in frame.itertuples(index=False)
        ]
        lines += text_table(["", "k", "estimate", "se", "ci.lb", "ci.ub"], rows, first_left=True)
        return "\n".join(lines + self._notes_lines())


def study_pvalues(yi: Array, vi: Array, alternative: str) -> Array:
    """p-values of the individual studies (metafor's ``.selmodel.pval``)."""
    z = yi / np.sqrt(vi)
    if alternative == "two.sided":
        return 2.0 * stats.norm.sf(np.abs(z))
    return stats.norm.cdf(z) if alternative == "less" else stats.norm.sf(z)


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


def _loglik(
    par: Array,
    yi: Array,
    vi: Array,
    cuts: Array,
    group: npt.NDArray[np.intp],
    alternative: str,
    tau2_fixed: float | None,
) -> float:
    mu = par[0]
    if tau2_fixed is None:
        tau2 = par[1]
        deltas = par[2:]
    else:
        tau2 = tau2_fixed
        deltas = par[1:]
    if tau2 < 10 * np.finfo(float).eps:
        tau2 = 0.0  # as metafor
    delta = np.concatenate([[1.0], deltas])
    A = _interval_probs(mu, tau2, vi, cuts, alternative) @ delta
    var = vi + tau2
    with np.errstate(divide="ignore", invalid="ignore"):
        ll = np.sum(np.log(delta[group]) - 0.5 * (_LOG_2PI + np.log(var) + (yi - mu) ** 2 / var) - np.log(A))
    return float(ll) if np.isfinite(ll) else -np.inf


def selection_model(
    fit: PooledResult,
    steps: float | Sequence[float] = 0.025,
    alternative: str = "greater",
) -> SelectionModelResult:
    """Fit a step-function selection model (default: the three-parameter model).

    Parameters
    ----------
    fit
        A :func:`alsmeta.pool` result. As metafor, the model is fitted by
        maximum likelihood whatever the fit's method; a common-effect fit
        (``method="CE"``) gives a selection model with tau^2 = 0, and a
        fixed tau^2 stays fixed.
    steps
        Cut points of the p-values; 1 is appended. Default 0.025: the 3PSM.
    alternative
        Direction of the one-sided p-values: ``"greater"`` (metafor's
        default: significant *positive* effects favoured), ``"less"`` (use it
        when beneficial effects are negative, e.g. log risk ratios below 0) or
        ``"two-sided"``.

    Notes
    -----
    Not computed (NaN, with a note) when k is smaller than the number of
    parameters or when an interval with a free ``delta`` contains no study
    (the parameter is not identifiable; metafor stops), and when all
    effects are equal up to rounding noise
    (:func:`alsmeta.engine.heterogeneity.effects_without_spread`: no spread, no
    evidence of selection). With fewer than
    about 20 studies - and always when a ``delta`` ends on its bound (0 or
    100) - the estimates are unstable and flagged not meaningful.

    References
    ----------
    Vevea JL, Hedges LV (1995). A general linear model for estimating effect
    size in the presence of publication bias. Psychometrika 60:419-435.
    McShane BB, Böckenholt U, Hansen KT (2016). Adjusting for publication
    bias in meta-analysis. Perspect Psychol Sci 11:730-749.
    """
    fit = require_fit(fit, "selection_model")
    alt = str(alternative).lower().replace("-", ".").replace("_", ".")
    if alt not in ("greater", "less", "two.sided"):
        raise AlsmetaInputError(f"alternative: choose 'greater', 'less' or 'two-sided', got {alternative!r}")
    try:
        s = np.atleast_1d(np.asarray(steps, dtype=float))
    except (TypeError, ValueError):
        raise AlsmetaInputError(f"steps: values must be numbers between 0 and 1, got {steps!r}") from None
    if s.size == 0 or np.any(~np.isfinite(s)) or np.any((s < 0) | (s > 1)):
        raise AlsmetaInputError(f"steps: values must lie between 0 and 1, got {steps!r}")
    s = np.unique(s)
    if s[-1] != 1.0:
        s = np.append(s, 1.0)
    N = s.size
    k = fit.k
    yi, vi = fit.yi, fit.vi
    ce = fit.method == "CE"
    tau2_fixed = 0.0 if ce else (float(fit.tau2) if fit.tau2_fixed else None)
    n_par = 1 + (0 if tau2_fixed is not None else 1) + (N - 1)
    nan = float("nan")
    pv = study_pvalues(yi, vi, alt)
    group = np.array([int(np.flatnonzero(p <= s)[0]) for p in pv], dtype=np.intp) if k else np.zeros(0, np.intp)
    counts = np.bincount(group, minlength=N).astype(np.int64)
    notes: list[str] = []
    cuts = _cuts(vi, s, alt) if k else np.zeros((0, N - 1))

    def empty(msg: str) -> SelectionModelResult:
        na = np.full(N, nan)
        return SelectionModelResult(
            k,
            nan,
            nan,
            nan,
            nan,
            nan,
            nan,
            nan,
            nan,
            na,
            na,
            na,
            na,
            s,
            counts,
            nan,
            N - 1,
            nan,
            nan,
            nan,
            nan,
            nan,
            alt,
            fit.level,
            False,
            False,
            (msg,),
        )

    if k < n_par:
        return empty(f"k = {k} studies for {n_par} parameters: the selection model cannot be fitted.")
    if effects_without_spread(yi, vi):
        return empty(
            NO_SPREAD_NOTE.replace(
                "the test is undefined", "the selection model is not fitted and its tests are undefined"
            )
        )
    if np.any(counts[1:] == 0):
        lo = np.concatenate([[0.0], s[:-1]])
        which = ", ".join(f"{lo[j]:g} < p <= {s[j]:g}" for j in range(1, N) if counts[j] == 0)
        return empty(f"No study has a p-value in {which}: its selection weight is not identifiable (metafor stops).")

    # start: the unadjusted ML model (as metafor)
    method = "CE" if ce else "ML"
    ml = pool_many(
        yi[None, :], vi[None, :], method=method, tau2=None if ce or tau2_fixed is None else tau2_fixed, confint=False
    )
    mu0, tau0 = float(ml.estimate[0]), float(ml.tau2[0])
    w = 1.0 / (vi + tau0)
    ll_null = float(-0.5 * k * np.log(2 * np.pi) - 0.5 * np.sum(np.log(vi + tau0)) - 0.5 * np.sum(w * (yi - mu0) ** 2))

    def nll(par: Array) -> float:
        val = _loglik(par, yi, vi, cuts, group, alt, tau2_fixed)
        return -val if np.isfinite(val) else 1e300

    x0 = [mu0] + ([] if tau2_fixed is not None else [tau0]) + [1.0] * (N - 1)
    bounds = [(None, None)] + ([] if tau2_fixed is not None else [(0.0, None)]) + [(0.0, DELTA_MAX)] * (N - 1)
    best = _maximise(nll, np.array(x0), bounds)
    par = best.x
    converged = bool(best.success)
    ll = -float(best.fun)
    mu = float(par[0])
    tau2 = float(tau2_fixed) if tau2_fixed is not None else float(par[1])
    if tau2 < 10 * np.finfo(float).eps:
        tau2 = 0.0
    deltas = par[-(N - 1) :] if N > 1 else np.zeros(0)
    delta = np.concatenate([[1.0], deltas])

    # Hessian on the untransformed parameters (numDeriv::hessian, r = 6), inverted for the SEs
    H = -_hessian(lambda p: _loglik(p, yi, vi, cuts, group, alt, tau2_fixed), par, r=6)
    se_all = np.full(par.size, nan)
    try:
        cov = np.linalg.inv(H)
        if np.all(np.isfinite(cov)) and np.all(np.diag(cov) > 0):
            np.linalg.cholesky(H)
            se_all = np.sqrt(np.diag(cov))
        else:
            notes.append("The Hessian is not positive definite: standard errors are not available.")
    except np.linalg.LinAlgError:
        notes.append("The Hessian could not be inverted: standard errors are not available.")
    crit = stats.norm.isf((1 - fit.level) / 2)
    se = float(se_all[0])
    z = mu / se
    tau2_se = nan if tau2_fixed is not None else float(se_all[1])
    delta_se = np.concatenate([[nan], se_all[-(N - 1) :]]) if N > 1 else np.array([nan])
    d_lo = np.maximum(delta - crit * delta_se, 0.0)
    d_hi = delta + crit * delta_se

    lrt = max(0.0, -2.0 * (ll_null - ll))
    lrt_p = float(stats.chi2.sf(lrt, N - 1)) if N > 1 else nan
    lrt_tau2 = lrt_tau2_p = nan
    if tau2_fixed is None:

        def nll0(p: Array) -> float:
            val = _loglik(np.concatenate([[p[0]], [0.0], p[1:]]), yi, vi, cuts, group, alt, None)
            return -val if np.isfinite(val) else 1e300

        b0 = _maximise(nll0, np.array([mu0] + [1.0] * (N - 1)), [(None, None)] + [(0.0, DELTA_MAX)] * (N - 1))
        lrt_tau2 = max(0.0, -2.0 * (-float(b0.fun) - ll))
        lrt_tau2_p = float(stats.chi2.sf(lrt_tau2, 1))
    at_bound = bool(np.any(deltas <= 1e-6) or np.any(deltas >= DELTA_MAX * (1 - 1e-6)))
    if at_bound:
        notes.append(
            f"A selection weight is at its bound (0 or {DELTA_MAX:g}): the model is not identified by these data "
            "(often the wrong direction of the one-sided p-values); treat the results with caution."
        )
    if k < 20:
        notes.append(f"Only {k} studies: selection-model estimates are unstable with fewer than about 20 studies.")
    if not converged:
        notes.append("The optimiser did not report convergence.")
    return SelectionModelResult(
        k=k,
        estimate=mu,
        se=se,
        statistic=z,
        pvalue=float(2 * stats.norm.sf(abs(z))),
        ci_low=mu - crit * se,
        ci_high=mu + crit * se,
        tau2=tau2,
        tau2_se=tau2_se,
        delta=delta,
        delta_se=delta_se,
        delta_ci_low=d_lo,
        delta_ci_high=d_hi,
        steps=s,
        counts=counts,
        lrt=lrt,
        lrt_df=N - 1,
        lrt_pvalue=lrt_p,
        lrt_tau2=lrt_tau2,
        lrt_tau2_pvalue=lrt_tau2_p,
        loglik=ll,
        loglik_null=ll_null,
        alternative=alt,
        level=fit.level,
        converged=converged,
        meaningful=converged and not at_bound and k >= 20,
        notes=tuple(notes),
    )


def _maximise(nll: Callable[[Array], float], x0: Array, bounds: list[tuple[float | None, float | None]]):
    """Minimise ``nll`` under box constraints, restarting once from the first solution."""
    opts = {"ftol": 1e-15, "gtol": 1e-10, "maxiter": 10000, "maxls": 50}
    res = optimize.minimize(nll, x0, method="L-BFGS-B", bounds=bounds, options=opts)
    res2 = optimize.minimize(nll, res.x, method="L-BFGS-B", bounds=bounds, options=opts)
    best = res2 if res2.fun <= res.fun else res
    # polish with Nelder-Mead inside the box (derivative-free, tight)
    lo = np.array([-np.inf if b[0] is None else b[0] for b in bounds])
    hi = np.array([np.inf if b[1] is None else b[1] for b in bounds])
    nm = optimize.minimize(
        lambda p: nll(np.clip(p, lo, hi)),
        best.x,
        method="Nelder-Mead",
        options={"xatol": 1e-12, "fatol": 1e-15, "maxiter": 20000, "maxfev": 40000},
    )
    if nm.fun < best.fun:
        nm.x = np.clip(nm.x, lo, hi)
        nm.success = True
        return nm
    return best


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
