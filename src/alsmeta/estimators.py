"""Estimators of the between-study variance tau^2, vectorised over meta-analyses.

Each estimator takes effect sizes ``y`` and sampling variances ``v`` shaped
``(B, k)`` with a boolean ``mask`` (studies in use) and returns a
:class:`Tau2Estimate` with one value per row. The formulas and the standard
errors of the estimators follow metafor's ``rma.uni()`` for the
intercept-only model (Viechtbauer 2005, 2010), so results agree with metafor
to numerical precision.

Estimators
----------
CE      common (equal) effect: tau^2 = 0 by assumption.
DL      DerSimonian & Laird (1986), method of moments with weights 1/v.
HE      Hedges (1983), unweighted method of moments ("variance component").
HS      Hunter & Schmidt (2004); HSk: its k/(k-1) corrected version.
SJ      Sidik & Jonkman (2005), two-step with a crude initial estimate.
ML      maximum likelihood; REML: restricted maximum likelihood
        (Viechtbauer 2005), both by Fisher scoring from the HE estimate.
EB      empirical Bayes (Morris 1983; Berkey et al. 1995), Fisher-type iteration.
PM      Paule & Mandel (1982): generalised Q(tau^2) = k - 1.
PMM     median-unbiased Paule-Mandel (Viechtbauer 2021):
        generalised Q(tau^2) = median of chi^2 with k - 1 df.

Iterative estimators (ML, REML, EB) use Fisher scoring with step-halving at
the zero boundary, as metafor does. Rows on which scoring does not converge
within ``maxiter`` iterations are solved again with a bracketing root finder
on the estimating equation and flagged in ``fallback``; rows on which that
fails too are flagged in ``converged``. PM and PMM are solved by bracketing
directly. Nothing fails silently.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import stats

from alsmeta._roots import expand_upper, solve_decreasing
from alsmeta._rowmath import generalized_q, p_trace, p_trace_pair, rsum, weighted_mean
from alsmeta.validation import AlsmetaInputError

Array = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
Mask = npt.NDArray[np.bool_]

METHODS: tuple[str, ...] = ("CE", "DL", "HE", "HS", "HSk", "SJ", "ML", "REML", "EB", "PM", "PMM")
_ALIASES = {"EE": "CE", "FE": "CE", "VC": "HE", "CO": "HE"}
ITERATIVE = ("ML", "REML", "EB")


def canonical_method(method: str) -> str:
    """Return the canonical estimator name (``"EE"``/``"FE"`` -> ``"CE"``).

    Raises
    ------
    AlsmetaInputError
        For an unknown estimator name, listing the valid ones.
    """
    m = str(method)
    m = _ALIASES.get(m.upper(), m)
    for name in METHODS:
        if m.upper() == name.upper():
            return name
    raise AlsmetaInputError(f"method: unknown tau2 estimator {method!r}; choose one of {', '.join(METHODS)}")


@dataclass(frozen=True)
class Tau2Estimate:
    """tau^2 per meta-analysis with its standard error and solver diagnostics.

    Attributes
    ----------
    tau2, tau2_se
        Estimate and standard error (NaN where undefined, e.g. k < 2).
    converged
        False where no estimate could be obtained.
    iterations
        Fisher-scoring iterations used (0 for closed forms and root finding).
    fallback
        True where Fisher scoring failed and the bracketing root finder
        produced the estimate.
    boundary_reset
        True where ML/REML scoring stopped at a point with lower likelihood
        than tau^2 = 0 and the estimate was set to 0 (metafor's ll0check).
    multimodal
        True where ML/REML scoring stopped at tau^2 = 0 (where metafor stops
        too) but the likelihood has a higher interior maximum, which is
        reported instead.
    """

    tau2: Array
    tau2_se: Array
    converged: BoolArray
    iterations: npt.NDArray[np.int64]
    fallback: BoolArray
    boundary_reset: BoolArray
    multimodal: BoolArray


def log_likelihood(y: Array, v: Array, tau2: Array, mask: Mask, reml: bool) -> Array:
    """(Restricted) log-likelihood of the random-effects model at ``tau2``.

    ``-1/2 [n log(2 pi) + sum log(v + tau2) + Q(tau2)] (- 1/2 log sum w for REML)``
    with ``n = k`` (ML) or ``k - 1`` (REML), as in metafor.
    """
    k = mask.sum(axis=1)
    w = 1.0 / (v + tau2[:, None])
    mu, s = weighted_mean(y, w, mask)
    rss = rsum(w * (y - mu[:, None]) ** 2, mask)
    logdet = rsum(np.log(v + tau2[:, None]), mask)
    if reml:
        return -0.5 * ((k - 1) * np.log(2 * np.pi) + logdet + np.log(s) + rss)
    return -0.5 * (k * np.log(2 * np.pi) + logdet + rss)



def _se_qform(w: Array, v: Array, tau2: Array, scale: Array, mask: Mask) -> Array:
    """SE of a generalised-Q estimator: ``scale * sqrt(2 tr(PVPV) + 4 t tr(PVP) + 2 t^2 tr(PP))``."""
    ones = np.ones_like(w)
    t = np.maximum(tau2, 0.0)
    var = (
        2.0 * p_trace_pair(w, v, v, mask)
        + 4.0 * t * p_trace_pair(w, ones, v, mask)
        + 2.0 * t * t * p_trace_pair(w, ones, ones, mask)
    )
    return scale * np.sqrt(var)


def _he(y: Array, v: Array, mask: Mask, k: Array, with_se: bool = True) -> tuple[Array, Array | None]:
    """Hedges' estimator (untruncated) and, if asked, its SE."""
    ybar = rsum(y, mask) / k
    rss = rsum((y - ybar[:, None]) ** 2, mask)
    tr_pv = rsum(v, mask) * (1.0 - 1.0 / k)
    tau2 = (rss - tr_pv) / (k - 1)
    if not with_se:
        return tau2, None
    ones = np.ones_like(v)
    se = _se_qform(ones, v, tau2, 1.0 / (k - 1), mask)
    return tau2, se


def _q_equation(y: Array, v: Array, mask: Mask, target: Array) -> tuple[Array, BoolArray]:
    """Solve generalised ``Q(tau2) = target`` (PM, PMM; EB fallback); 0 if ``Q(0) <= target``."""
    n = y.shape[0]
    tau2 = np.zeros(n)
    ok = np.ones(n, dtype=bool)
    q0 = generalized_q(y, v, np.zeros(n), mask)
    rows = np.flatnonzero(q0 > target)
    if rows.size == 0:
        return tau2, ok

    def f(x: Array, r: npt.NDArray[np.intp]) -> Array:
        return generalized_q(y[r], v[r], x, mask[r]) - target[r]

    # Q(t) <= sum (y - ybar)^2 / t, so t = SS / target is an upper bracket.
    k = mask.sum(axis=1)[rows]
    ybar = rsum(y[rows], mask[rows]) / k
    ss = rsum((y[rows] - ybar[:, None]) ** 2, mask[rows])
    hi = expand_upper(f, ss / target[rows] * (1.0 + 1e-9) + 1e-300, rows)
    roots, success = solve_decreasing(f, np.zeros(rows.size), hi, rows)
    tau2[rows] = roots
    ok[rows] = success
    return tau2, ok


def _score(method: str, y: Array, v: Array, tau2: Array, mask: Mask) -> tuple[Array, Array]:
    """Estimating-equation value and Fisher-scoring step for ML, REML or EB.

    Written with weights that are zero outside the mask, so each quantity is
    one plain row sum (this is the inner loop of every iterative fit).
    """
    maskf = mask if mask.dtype == np.float64 else mask.astype(np.float64)
    k = maskf.sum(axis=1)
    w = maskf / (v + tau2[:, None])
    s = w.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mu = (w * y).sum(axis=1) / s
    wr = w * (y - mu[:, None])
    if method == "ML":
        score = (wr * wr).sum(axis=1) - s
        return score, score / (w * w).sum(axis=1)
    if method == "REML":
        w2 = w * w
        sw2 = w2.sum(axis=1)
        tr_p = s - sw2 / s
        tr_pp = sw2 - 2.0 * (w2 * w).sum(axis=1) / s + sw2 * sw2 / (s * s)
        score = (wr * wr).sum(axis=1) - tr_p
        return score, score / tr_pp
    # EB
    score = (wr * (y - mu[:, None])).sum(axis=1) * k / (k - 1) - k
    return score, score / s


ScoreFunction = Callable[..., tuple[Array, Array]]


def fisher_scoring(
    score: ScoreFunction, arrays: tuple[np.ndarray, ...], start: Array, scale: Array, tol: float, maxiter: int
) -> tuple[Array, BoolArray, npt.NDArray[np.int64]]:
    """Vectorised Fisher scoring for tau^2 with step-halving at 0 (metafor's algorithm).

    ``score(*rows_of_arrays, tau2)`` returns the estimating-equation value and
    the Fisher-scoring step for those rows; ``arrays`` are the per-row data
    (``(B, ...)`` each). Stops when the step is at most
    ``tol * max(tau2, scale)`` - relative to the scale of the data, so that
    rescaling the effects rescales the solution exactly (metafor's threshold
    is absolute). Converged rows leave the working arrays, which are
    compacted whenever half of them are done. Shared by the intercept-only
    engine and meta-regression.
    """
    n = start.shape[0]
    tau2 = start.copy()
    conv = np.zeros(n, dtype=bool)
    iters = np.zeros(n, dtype=np.int64)
    rows = np.arange(n)  # rows of the working arrays
    work = arrays
    live = np.ones(n, dtype=bool)  # live entries of the working arrays
    for _ in range(maxiter):
        if not live.any():
            break
        if live.sum() < live.size // 2:
            rows, work = rows[live], tuple(a[live] for a in work)
            live = np.ones(rows.size, dtype=bool)
        idx = np.flatnonzero(live)
        act = rows[idx]
        t = tau2[act]
        sub = idx if idx.size < live.size else slice(None)
        _, step = score(*(a[sub] for a in work), t)
        step = np.where(np.isfinite(step), step, 0.0)
        neg = t + step < 0
        if neg.any():
            # smallest number of halvings that keeps tau2 >= 0; at tau2 = 0 the step vanishes
            with np.errstate(divide="ignore", invalid="ignore"):
                halvings = np.where(t[neg] > 0, np.ceil(np.log2(-step[neg] / t[neg])), np.inf)
            step[neg] = np.where(np.isfinite(halvings), step[neg] / 2.0 ** halvings, 0.0)
            step = np.where(t + step < 0, -t, step)
        new = t + step
        iters[act] += 1
        tau2[act] = new
        done = np.abs(step) <= tol * np.maximum(scale[act], new)
        conv[act[done]] = True
        live[idx[done]] = False
    # step-halving approaches the boundary geometrically; a solution within the
    # tolerance of 0 with a non-positive score at 0 is the boundary itself
    near = np.flatnonzero(conv & (tau2 > 0) & (tau2 <= tol * scale))
    if near.size:
        score0, _ = score(*(a[near] for a in arrays), np.zeros(near.size))
        tau2[near[score0 <= 0]] = 0.0
    return tau2, conv, iters


def _fisher_scoring(
    method: str, y: Array, v: Array, mask: Mask, start: Array, tol: float, maxiter: int
) -> tuple[Array, BoolArray, npt.NDArray[np.int64]]:
    """Fisher scoring of the intercept-only model (see :func:`fisher_scoring`)."""
    scale = rsum(v, mask) / mask.sum(axis=1)

    def score(yy: Array, vv: Array, mm: Array, t: Array) -> tuple[Array, Array]:
        return _score(method, yy, vv, t, mm)

    return fisher_scoring(score, (y, v, mask.astype(np.float64)), start, scale, tol, maxiter)


def _score_root(method: str, y: Array, v: Array, mask: Mask, rows: npt.NDArray[np.intp]) -> tuple[Array, BoolArray]:
    """Bracketing root of the ML/REML score (fallback when scoring fails)."""
    def f(x: Array, r: npt.NDArray[np.intp]) -> Array:
        return _score(method, y[r], v[r], x, mask[r])[0]

    out = np.zeros(rows.size)
    ok = np.ones(rows.size, dtype=bool)
    at0 = f(np.zeros(rows.size), rows) > 0
    if not at0.any():
        return out, ok
    sub = rows[at0]
    k = mask[sub].sum(axis=1)
    ybar = rsum(y[sub], mask[sub]) / k
    ss = rsum((y[sub] - ybar[:, None]) ** 2, mask[sub])
    hi = expand_upper(f, np.maximum(ss / np.maximum(k - 1, 1), 1e-8), sub)
    roots, success = solve_decreasing(f, np.zeros(sub.size), hi, sub)
    out[at0] = roots
    ok[at0] = success
    return out, ok


def estimate_tau2(
    y: Array,
    v: Array,
    mask: Mask,
    method: str,
    *,
    tau2_fixed: float | None = None,
    tol: float = 1e-12,
    maxiter: int = 100,
) -> Tau2Estimate:
    """Estimate tau^2 for each row of ``(B, k)`` arrays.

    Parameters
    ----------
    y, v
        Effect sizes and sampling variances, shape ``(B, k)``; entries outside
        ``mask`` are ignored. Variances in use must be > 0.
    mask
        Boolean ``(B, k)``: the studies in use in each row.
    method
        One of :data:`METHODS` (aliases ``"EE"``/``"FE"`` for ``"CE"``).
    tau2_fixed
        A user-fixed tau^2 (metafor's ``tau2=`` argument): no estimation, but
        the standard error is computed with the chosen method's formula at
        this value, as metafor does.
    tol, maxiter
        Convergence control for Fisher scoring: stop when the step is at most
        ``tol * max(tau2, mean(v))``.

    Returns
    -------
    Tau2Estimate
        Rows with fewer than two studies get ``tau2 = 0`` (or the fixed
        value) and ``tau2_se = NaN``; rows with no study get NaN.

    References
    ----------
    DerSimonian & Laird (1986) Control Clin Trials 7:177-188. Hedges & Olkin
    (1985). Hunter & Schmidt (2004). Sidik & Jonkman (2005) J Biopharm Stat
    15:823-838. Paule & Mandel (1982) J Res Natl Bur Stand 87:377-385.
    Viechtbauer (2005) J Educ Behav Stat 30:261-293. Viechtbauer (2021),
    median-unbiased estimators (metafor documentation).
    """
    method = canonical_method(method)
    n = y.shape[0]
    k = mask.sum(axis=1)
    kf = k.astype(float)
    tau2 = np.zeros(n)
    se = np.full(n, np.nan)
    conv = np.ones(n, dtype=bool)
    iters = np.zeros(n, dtype=np.int64)
    fallback = np.zeros(n, dtype=bool)
    reset = np.zeros(n, dtype=bool)
    multimodal = np.zeros(n, dtype=bool)

    if tau2_fixed is not None and method != "CE":
        tau2[:] = float(tau2_fixed)
    est = (k >= 2) & (method != "CE")
    if est.any():
        rows = np.flatnonzero(est)
        yr, vr, mr, kr = y[rows], v[rows], mask[rows], kf[rows]
        w_fe = 1.0 / vr
        fixed = tau2_fixed is not None
        sub = _estimate_rows(method, yr, vr, mr, kr, w_fe, fixed, tau2[rows], tol, maxiter)
        tau2[rows], se[rows], conv[rows] = sub.tau2, sub.tau2_se, sub.converged
        iters[rows], fallback[rows], reset[rows] = sub.iterations, sub.fallback, sub.boundary_reset
        multimodal[rows] = sub.multimodal
    tau2[k == 0] = np.nan
    conv[k == 0] = False
    return Tau2Estimate(
        tau2=tau2, tau2_se=se, converged=conv, iterations=iters, fallback=fallback,
        boundary_reset=reset, multimodal=multimodal,
    )


def _estimate_rows(
    method: str,
    y: Array,
    v: Array,
    mask: Mask,
    k: Array,
    w_fe: Array,
    fixed: bool,
    fixed_value: Array,
    tol: float,
    maxiter: int,
) -> Tau2Estimate:
    """Estimate on rows that all have k >= 2."""
    n = y.shape[0]
    ok = np.ones(n, dtype=bool)
    iters = np.zeros(n, dtype=np.int64)
    fallback = np.zeros(n, dtype=bool)
    reset = np.zeros(n, dtype=bool)
    multimodal = np.zeros(n, dtype=bool)
    ones = np.ones_like(w_fe)

    if method in ("DL", "HS", "HSk"):
        q = generalized_q(y, v, np.zeros(n), mask)
        s = rsum(w_fe, mask)
        tr_p = p_trace(w_fe, mask)
        if method == "DL":
            raw, scale = (q - (k - 1)) / tr_p, 1.0 / tr_p
        elif method == "HS":
            raw, scale = (q - k) / s, 1.0 / s
        else:
            raw, scale = (k / (k - 1) * q - k) / s, k / (k - 1) / s
        tau2 = fixed_value if fixed else np.maximum(raw, 0.0)
        t = np.maximum(tau2, 0.0)
        se = scale * np.sqrt(2 * (k - 1) + 4 * t * tr_p + 2 * t * t * p_trace_pair(w_fe, ones, ones, mask))
    elif method == "HE":
        raw, _ = _he(y, v, mask, k)
        tau2 = fixed_value if fixed else np.maximum(raw, 0.0)
        se = _se_qform(ones, v, tau2, 1.0 / (k - 1), mask)
    elif method == "SJ":
        ybar = rsum(y, mask) / k
        tau0 = rsum((y - ybar[:, None]) ** 2, mask) / k
        q0 = generalized_q(y, v, tau0, mask)
        tau2 = fixed_value if fixed else np.maximum(tau0 * q0 / (k - 1), 0.0)
        se = _se_qform(1.0 / (v + tau0[:, None]), v, tau2, tau0 / (k - 1), mask)
    elif method in ("PM", "PMM"):
        target = (k - 1) if method == "PM" else stats.chi2.ppf(0.5, k - 1)
        if fixed:
            tau2 = fixed_value
        else:
            tau2, ok = _q_equation(y, v, mask, np.asarray(target, dtype=float))
        se = _se_pm(y, v, mask, k, tau2)
    else:  # ML, REML, EB
        if fixed:
            tau2 = fixed_value
        else:
            start = np.maximum(_he(y, v, mask, k, with_se=False)[0], 0.0)
            tau2, conv, iters = _fisher_scoring(method, y, v, mask, start, tol, maxiter)
            failed = np.flatnonzero(~conv)
            if failed.size:
                fallback[failed] = True
                if method == "EB":
                    roots, good = _q_equation(y[failed], v[failed], mask[failed], k[failed] - 1)
                else:
                    roots, good = _score_root(method, y, v, mask, failed)
                tau2[failed] = roots
                ok[failed] = good
            if method in ("ML", "REML"):
                reml = method == "REML"
                ll_hat = log_likelihood(y, v, tau2, mask, reml)
                ll_zero = log_likelihood(y, v, np.zeros(n), mask, reml)
                bad = (ll_zero - ll_hat > tol) & (tau2 > tol * rsum(v, mask) / k)
                reset[bad] = True
                tau2 = np.where(bad, 0.0, tau2)
                tau2, multimodal = _escape_boundary(method, y, v, mask, tau2, tol)
        w = 1.0 / (v + tau2[:, None])
        if method == "ML":
            se = np.sqrt(2.0 / rsum(w * w, mask))
        elif method == "REML":
            se = np.sqrt(2.0 / p_trace_pair(w, ones, ones, mask))
        else:
            se = _se_pm(y, v, mask, k, tau2)
    return Tau2Estimate(
        tau2=tau2, tau2_se=se, converged=ok, iterations=iters, fallback=fallback,
        boundary_reset=reset, multimodal=multimodal,
    )


def _escape_boundary(
    method: str, y: Array, v: Array, mask: Mask, tau2: Array, tol: float, grid_size: int = 40
) -> tuple[Array, BoolArray]:
    """Look for a higher interior maximum where ML/REML scoring stopped at tau^2 = 0.

    Fisher scoring from the HE start (metafor's algorithm) stops at tau^2 = 0
    whenever the score is negative there, even if the likelihood has a
    second, higher maximum inside (possible with very unequal variances).
    For such rows the score is scanned on a geometric grid up to a scale
    beyond which it is negative; each interior maximum found is solved by
    bracketing and kept if its likelihood exceeds that at 0.
    """
    n = y.shape[0]
    multimodal = np.zeros(n, dtype=bool)
    rows = np.flatnonzero(tau2 == 0)
    if rows.size == 0:
        return tau2, multimodal
    k = mask[rows].sum(axis=1)
    ybar = rsum(y[rows], mask[rows]) / k
    ss = rsum((y[rows] - ybar[:, None]) ** 2, mask[rows])
    vmax = np.where(mask[rows], v[rows], 0.0).max(axis=1)
    top = 10.0 * np.maximum(ss / np.maximum(k - 1, 1), vmax)
    grid = top[:, None] * np.geomspace(1e-8, 1.0, grid_size)[None, :]
    yr, vr, mr = y[rows], v[rows], mask[rows].astype(np.float64)
    scores = np.stack([_score(method, yr, vr, grid[:, j], mr)[0] for j in range(grid_size)], axis=1)
    # first downward crossing of the score (+ then -) is an interior local maximum
    down = (scores[:, :-1] > 0) & (scores[:, 1:] <= 0)
    has = down.any(axis=1)
    if not has.any():
        return tau2, multimodal
    sub = rows[has]
    j = down[has].argmax(axis=1)
    lo, hi = grid[has, j], grid[has, j + 1]

    def f(x: Array, r: npt.NDArray[np.intp]) -> Array:
        return _score(method, y[r], v[r], x, mask[r])[0]

    roots, ok = solve_decreasing(f, lo, hi, sub)
    reml = method == "REML"
    gain = log_likelihood(y[sub], v[sub], np.nan_to_num(roots), mask[sub], reml) - log_likelihood(
        y[sub], v[sub], np.zeros(sub.size), mask[sub], reml
    )
    better = ok & (gain > tol)
    tau2 = tau2.copy()
    tau2[sub[better]] = roots[better]
    multimodal[sub[better]] = True
    return tau2, multimodal


def _se_pm(y: Array, v: Array, mask: Mask, k: Array, tau2: Array) -> Array:
    """SE used by metafor for EB, PM and PMM: ``sqrt(2 k^2 / (k-1)) / sum(w)``."""
    s = rsum(1.0 / (v + tau2[:, None]), mask)
    return np.sqrt(2.0 * k * k / (k - 1)) / s
