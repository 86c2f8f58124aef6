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
from functools import cached_property

import numpy as np
import numpy.typing as npt

from alsmeta.engine.boundary import escape_boundary, score_root
from alsmeta.engine.distributions import chi2_ppf
from alsmeta.engine.roots import expand_upper, solve_decreasing
from alsmeta.engine.rowmath import (
    count_groups,
    dense,
    generalized_q_dense,
    p_trace_dense,
    p_trace_pair_dense,
    psum,
    weighted_mean_dense,
)
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


class Rows:
    """``n`` meta-analyses of ``c`` studies each, as transposed ``(c, n)`` arrays.

    The unit of work of the engine (see :mod:`alsmeta.engine.rowmath`). Quantities
    that several estimators and statistics need (the common-effect fit, the
    unweighted moments) are computed once, on first use.
    """

    def __init__(self, y: Array, v: Array) -> None:
        self.y, self.v = y, v
        self.c, self.n = y.shape

    @cached_property
    def fe(self) -> tuple[Array, Array, Array, Array]:
        """Common-effect weights ``1/v``, their sums ``S``, Cochran's Q (untruncated) and ``tr(P)``."""
        w = 1.0 / self.v
        mu, s = weighted_mean_dense(self.y, w)
        q = psum(w * (self.y - mu[None, :]) ** 2)
        return w, s, q, p_trace_dense(w)

    @cached_property
    def ss(self) -> Array:
        """Unweighted sums of squares ``sum (y - ybar)^2``."""
        ybar = psum(self.y) / self.c
        return psum((self.y - ybar[None, :]) ** 2)

    @cached_property
    def vsum(self) -> Array:
        return psum(self.v)


_DEAD_ZONE = 16  # no rescaling while the typical standard error lies within 2^-16 .. 2^16


def scale_exponent(v: Array) -> npt.NDArray[np.int64]:
    """Power-of-two exponent ``m`` of the working scale ``s = 2^m`` of each column of ``(c, n)`` variances.

    ``s^2`` is the power of two nearest the geometric mean of the smallest and
    largest variance, so the standardised variances ``v / s^2`` lie in
    ``[R^-1/2, R^1/2]`` (``R`` the ratio of the largest to the smallest) and
    every power of the weights the engine forms (up to ``w^4``) stays in
    range. Rescaling by a power of two is exact in binary floating point, so
    the results on the standardised scale, multiplied back, are the exact
    results of the same arithmetic on the original scale wherever that
    arithmetic neither overflows nor underflows. ``m = 0`` while ``s`` lies
    within ``2^-16 .. 2^16`` (ordinary data are not touched at all).
    """
    if v.shape[0] == 0:
        return np.zeros(v.shape[1], dtype=np.int64)
    _, e_lo = np.frexp(v.min(axis=0))
    _, e_hi = np.frexp(v.max(axis=0))
    m = np.floor((e_lo.astype(np.int64) + e_hi) / 4.0 + 0.5).astype(np.int64)
    return np.where(np.abs(m) <= _DEAD_ZONE, 0, m)


_CENTRE_RATIO = 2.0**20  # centre a column whose effects are this much larger than their spread


def standardise(r: Rows) -> tuple[Rows, npt.NDArray[np.int64], Array]:
    """The block on its working scale: ``(y - y0) / s`` and ``v / s^2`` with ``s = 2^m`` per column.

    ``s`` is chosen by :func:`scale_exponent`. ``y0`` is 0 unless the
    effects of a column are far larger than their spread (all equal, or
    equal up to a relative 1e-6): then ``y0`` is the column's first effect,
    so that the rounding error of forming a mean of large, nearly equal
    numbers does not masquerade as heterogeneity (``[0.1, 0.1, 0.1]`` has
    tau^2 = 0 exactly, not 1e-34). Quantities in the units of the effect are
    ``y0 + s * (result)``; variances ``s^2 * (result)``.

    Returns the block (``r`` itself when no column needs it), ``m`` and ``y0``.
    """
    m = scale_exponent(r.v)
    y0 = np.zeros(r.n)
    if r.c:
        big = np.abs(r.y).max(axis=0)
        spread = r.y.max(axis=0) - r.y.min(axis=0)
        near = (big > 0) & (big > _CENTRE_RATIO * spread)
        y0 = np.where(near, r.y[0], 0.0)
    if not m.any() and not y0.any():
        return r, m, y0
    y = r.y - y0[None, :] if y0.any() else r.y
    return Rows(np.ldexp(y, -m[None, :]), np.ldexp(r.v, -2 * m[None, :])), m, y0


def _loglik_dense(y: Array, v: Array, tau2: Array, reml: bool) -> Array:
    """(Restricted) log-likelihood per column (see :func:`log_likelihood`)."""
    k = y.shape[0]
    w = 1.0 / (v + tau2[None, :])
    mu, s = weighted_mean_dense(y, w)
    rss = psum(w * (y - mu[None, :]) ** 2)
    logdet = psum(np.log(v + tau2[None, :]))
    if reml:
        return -0.5 * ((k - 1) * np.log(2 * np.pi) + logdet + np.log(s) + rss)
    return -0.5 * (k * np.log(2 * np.pi) + logdet + rss)


def log_likelihood(y: Array, v: Array, tau2: Array, mask: Mask, reml: bool) -> Array:
    """(Restricted) log-likelihood of the random-effects model at ``tau2``.

    ``-1/2 [n log(2 pi) + sum log(v + tau2) + Q(tau2)] (- 1/2 log sum w for REML)``
    with ``n = k`` (ML) or ``k - 1`` (REML), as in metafor.
    """
    y, v, mask = np.asarray(y, dtype=float), np.asarray(v, dtype=float), np.asarray(mask, dtype=bool)
    tau2 = np.broadcast_to(np.asarray(tau2, dtype=float), (y.shape[0],))
    out = np.zeros(y.shape[0])
    for c, rows in count_groups(mask):
        ys, vs = dense(mask, rows, c, y, v)
        out[rows] = _loglik_dense(ys, vs, tau2[rows], reml)
    return out


def _se_qform(w: Array | None, v: Array, tau2: Array, scale: Array) -> Array:
    """SE of a generalised-Q estimator: ``scale * sqrt(2 tr(PVPV) + 4 t tr(PVP) + 2 t^2 tr(PP))``.

    ``w = None`` means unit weights.
    """
    w = np.ones_like(v) if w is None else w
    t = np.maximum(tau2, 0.0)
    var = (
        2.0 * p_trace_pair_dense(w, v, v)
        + 4.0 * t * p_trace_pair_dense(w, None, v)
        + 2.0 * t * t * p_trace_pair_dense(w)
    )
    return scale * np.sqrt(var)


def _he(r: Rows) -> Array:
    """Hedges' estimator (untruncated)."""
    k = r.c
    tr_pv = r.vsum * (1.0 - 1.0 / k)
    return (r.ss - tr_pv) / (k - 1)


def solve_q(y: Array, v: Array, q0: Array, ss: Array, target: Array) -> tuple[Array, BoolArray]:
    """Solve generalised ``Q(tau2) = target`` per column; 0 where ``Q(0) <= target``.

    Used by PM, PMM, the EB fallback and the Q-profile interval. ``q0`` is
    ``Q(0)`` and ``ss`` the unweighted sum of squares of each column;
    ``Q(t) <= ss / t``, so ``t = ss / target`` is an upper bracket.
    """
    n = y.shape[1]
    out = np.zeros(n)
    ok = np.ones(n, dtype=bool)
    pos = np.flatnonzero(q0 > target)
    if pos.size == 0:
        return out, ok

    def f(x: Array, r: npt.NDArray[np.intp]) -> Array:
        return generalized_q_dense(y[:, r], v[:, r], x) - target[r]

    hi = expand_upper(f, ss[pos] / target[pos] * (1.0 + 1e-9) + 1e-300, pos)
    roots, success = solve_decreasing(f, np.zeros(pos.size), hi, pos)
    out[pos] = roots
    ok[pos] = success
    return out, ok


def _weights(v: Array, t: Array, out: Array) -> Array:
    np.add(v, t[None, :], out=out)
    return np.divide(1.0, out, out=out)


def _score_dense(method: str, y: Array, v: Array, t: Array, k: int, step: bool = True) -> tuple[Array, Array | None]:
    """Estimating-equation value and (if ``step``) Fisher-scoring step for ML, REML or EB.

    The inner loop of every iterative fit: two stacked sums per call.
    """
    wide = 2 if method == "EB" else (4 if (method == "REML" and step) else 3)
    if method == "ML" and not step:
        wide = 2
    buf = np.empty((wide,) + y.shape)
    w = _weights(v, t, buf[0])
    np.multiply(w, y, out=buf[1])
    if wide > 2:
        np.multiply(w, w, out=buf[2])
    if wide > 3:
        np.multiply(buf[2], w, out=buf[3])
    sums = psum(buf)
    s = sums[0]
    with np.errstate(invalid="ignore", divide="ignore"):
        mu = sums[1] / s
    e = np.subtract(y, mu[None, :], out=buf[1])
    wr = np.multiply(w, e, out=buf[0])
    if method == "EB":
        score = psum(np.multiply(wr, e, out=wr)) * k / (k - 1) - k
        return score, (score / s if step else None)
    rss = psum(np.multiply(wr, wr, out=wr))
    if method == "ML":
        score = rss - s
        return score, (score / sums[2] if step else None)
    sw2 = sums[2]
    tr_p = s - sw2 / s
    score = rss - tr_p
    if not step:
        return score, None
    tr_pp = sw2 - 2.0 * sums[3] / s + sw2 * sw2 / (s * s)
    with np.errstate(divide="ignore", invalid="ignore"):  # a zero curvature gives a non-finite step, then 0
        return score, score / tr_pp


ScoreFunction = Callable[..., tuple[Array, Array]]
Index = npt.NDArray[np.intp] | slice
TakeFunction = Callable[[tuple[np.ndarray, ...], Index], tuple[np.ndarray, ...]]


def _take_rows(arrays: tuple[np.ndarray, ...], idx: Index) -> tuple[np.ndarray, ...]:
    return tuple(a[idx] for a in arrays)


def fisher_scoring(
    score: ScoreFunction,
    arrays: tuple[np.ndarray, ...],
    start: Array,
    scale: Array,
    tol: float,
    maxiter: int,
    take: TakeFunction = _take_rows,
    block: int | None = None,
) -> tuple[Array, BoolArray, npt.NDArray[np.int64]]:
    """Vectorised Fisher scoring for tau^2 with step-halving at 0 (metafor's algorithm).

    ``score(*rows_of_arrays, tau2)`` returns the estimating-equation value and
    the Fisher-scoring step for those rows; ``arrays`` hold the per-row data
    and ``take(arrays, idx)`` selects rows of them (``idx`` an index array or
    a slice; default: along axis 0; the intercept-only engine keeps one
    meta-analysis per column). Stops when the step is at most
    ``tol * max(tau2, scale)`` - relative to the scale of the data, so that
    rescaling the effects rescales the solution exactly (metafor's threshold
    is absolute) - or after ``maxiter`` iterations of that row.

    Each row's iterates depend on that row alone, so the work can be
    scheduled freely: converged rows leave the working arrays, and with
    ``block`` the rows are iterated ``block`` at a time (arrays that stay in
    cache) until only a tenth of the block is left; those slow rows are then
    iterated together. Shared by the intercept-only engine and
    meta-regression.
    """
    n = start.shape[0]
    state = (start.copy(), np.zeros(n, dtype=bool), np.zeros(n, dtype=np.int64))
    tau2, conv, iters = state
    if maxiter >= 1:
        if block is None or n <= block:
            _scoring_loop(score, take, arrays, np.arange(n), state, scale, tol, maxiter, 0)
        else:
            slow = [
                _scoring_loop(
                    score,
                    take,
                    take(arrays, slice(b0, b0 + block)),
                    np.arange(b0, min(n, b0 + block)),
                    state,
                    scale,
                    tol,
                    maxiter,
                    block // 10,
                )
                for b0 in range(0, n, block)
            ]
            rows = np.concatenate(slow)
            if rows.size:
                _scoring_loop(score, take, take(arrays, rows), rows, state, scale, tol, maxiter, 0)
    # step-halving approaches the boundary geometrically; a solution within the
    # tolerance of 0 with a non-positive score at 0 is the boundary itself
    near = np.flatnonzero(conv & (tau2 > 0) & (tau2 <= tol * scale))
    if near.size:
        score0, _ = score(*take(arrays, near), np.zeros(near.size))
        tau2[near[score0 <= 0]] = 0.0
    return tau2, conv, iters


def _scoring_loop(
    score: ScoreFunction,
    take: TakeFunction,
    work: tuple[np.ndarray, ...],
    rows: npt.NDArray[np.intp],
    state: tuple[Array, BoolArray, npt.NDArray[np.int64]],
    scale: Array,
    tol: float,
    maxiter: int,
    park: int,
) -> npt.NDArray[np.intp]:
    """Iterate ``rows`` (data ``work``) until no more than ``park`` are left; return those left.

    The iterates live in working copies compacted with ``work``; a row's
    result is written back when it finishes (and for the rows left).
    """
    tau2, conv, iters = state
    t, it, sc = tau2[rows], iters[rows], scale[rows]
    live = it < maxiter
    n_live = int(live.sum())
    while n_live > park:
        if n_live < 0.9 * rows.size:
            keep = np.flatnonzero(live)
            rows, work, t, it, sc = rows[keep], take(work, keep), t[keep], it[keep], sc[keep]
            live = np.ones(rows.size, dtype=bool)
        _, step = score(*work, t)
        step = np.where(np.isfinite(step), step, 0.0)
        neg = t + step < 0
        if neg.any():
            # smallest number of halvings that keeps tau2 >= 0; at tau2 = 0 the step vanishes
            tn, sn = t[neg], step[neg]
            with np.errstate(divide="ignore", invalid="ignore"):
                halvings = np.where(tn > 0, np.ceil(np.log2(-sn / tn)), np.inf)
            sn = np.where(np.isfinite(halvings), sn / 2.0**halvings, 0.0)
            step[neg] = np.where(tn + sn < 0, -tn, sn)
        new = t + step
        done = np.abs(step) <= tol * np.maximum(sc, new)
        t = np.where(live, new, t)
        it += live
        finished = live & (done | (it >= maxiter))
        if finished.any():
            idx = rows[finished]
            tau2[idx], iters[idx], conv[idx] = t[finished], it[finished], done[finished]
            live &= ~finished
            n_live = int(live.sum())
    tau2[rows[live]], iters[rows[live]] = t[live], it[live]
    return rows[live]


def _take_columns(arrays: tuple[np.ndarray, ...], idx: Index) -> tuple[np.ndarray, ...]:
    return tuple(a[:, idx] for a in arrays)


def _score_root(method: str, r: Rows, rows: npt.NDArray[np.intp]) -> tuple[Array, BoolArray]:
    """Bracketing root of the ML/REML score on columns ``rows`` (fallback when scoring fails)."""
    return score_root(_column_score(method, r), rows, r.ss / max(r.c - 1, 1))


def _column_score(method: str, r: Rows) -> Callable[[Array, npt.NDArray[np.intp]], Array]:
    """The ML/REML score of columns ``cols`` of ``r`` at ``x``, as a function of ``(x, cols)``."""

    def score(x: Array, cols: npt.NDArray[np.intp]) -> Array:
        return _score_dense(method, r.y[:, cols], r.v[:, cols], x, r.c, step=False)[0]

    return score


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
        ``tol * max(tau2, vh)`` with ``vh = k / sum(1/v)`` the harmonic mean
        of the sampling variances (a scale of the data that a study with a
        huge variance does not inflate; the arithmetic mean did, and then
        scoring stopped after one step).

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
    y, v, mask = np.asarray(y, dtype=float), np.asarray(v, dtype=float), np.asarray(mask, dtype=bool)
    n = y.shape[0]
    parts = {name: np.zeros(n, dtype=dt) for name, dt in _EST_FIELDS}
    for c, rows in count_groups(mask):
        r, m, _ = standardise(Rows(*dense(mask, rows, c, y, v)))
        fixed = None if tau2_fixed is None else np.ldexp(float(tau2_fixed), -2 * m)
        est = estimate_dense(r, method, fixed, tol, maxiter)
        for name, _ in _EST_FIELDS:
            val = getattr(est, name)
            parts[name][rows] = np.ldexp(val, 2 * m) if name in ("tau2", "tau2_se") else val
    return Tau2Estimate(**parts)


_EST_FIELDS = (
    ("tau2", float),
    ("tau2_se", float),
    ("converged", bool),
    ("iterations", np.int64),
    ("fallback", bool),
    ("boundary_reset", bool),
    ("multimodal", bool),
)


def estimate_dense(
    r: Rows, method: str, tau2_fixed: float | Array | None, tol: float, maxiter: int, with_se: bool = True
) -> Tau2Estimate:
    """tau^2 of each column of a :class:`Rows` block (any number of studies, including 0 and 1).

    ``tau2_fixed`` is one value or one per column. ``with_se=False`` skips
    the standard error (NaN). The block is used on the scale it is given
    (callers standardise it with :func:`standardise`).
    """
    n = r.n
    fixed = tau2_fixed is not None and method != "CE"
    fixed_value = np.broadcast_to(np.asarray(tau2_fixed, dtype=float), (n,)).copy() if fixed else None
    if r.c < 2 or method == "CE":
        false = np.zeros(n, dtype=bool)
        default = fixed_value if fixed_value is not None else np.zeros(n)
        fill = np.full(n, np.nan) if r.c == 0 else default  # no study: nothing to estimate
        return Tau2Estimate(
            tau2=fill,
            tau2_se=np.full(n, np.nan),
            converged=np.full(n, r.c > 0),
            iterations=np.zeros(n, dtype=np.int64),
            fallback=false,
            boundary_reset=false.copy(),
            multimodal=false.copy(),
        )
    return _estimate_rows(method, r, fixed_value, tol, maxiter, with_se)


def _estimate_rows(
    method: str, r: Rows, fixed_value: Array | None, tol: float, maxiter: int, with_se: bool = True
) -> Tau2Estimate:
    """Estimate on a block with k >= 2 studies per column."""
    n, k, y, v = r.n, r.c, r.y, r.v
    ok = np.ones(n, dtype=bool)
    iters = np.zeros(n, dtype=np.int64)
    fallback = np.zeros(n, dtype=bool)
    reset = np.zeros(n, dtype=bool)
    multimodal = np.zeros(n, dtype=bool)

    if method in ("DL", "HS", "HSk"):
        _, s, q, tr_p = r.fe
        if method == "DL":
            raw = (q - (k - 1)) / tr_p
        elif method == "HS":
            raw = (q - k) / s
        else:
            raw = (k / (k - 1) * q - k) / s
        tau2 = fixed_value if fixed_value is not None else np.maximum(raw, 0.0)
    elif method == "HE":
        tau2 = fixed_value if fixed_value is not None else np.maximum(_he(r), 0.0)
    elif method == "SJ":
        tau0 = r.ss / k
        if fixed_value is not None:
            tau2 = fixed_value
        else:
            tau2 = np.maximum(tau0 * generalized_q_dense(y, v, tau0) / (k - 1), 0.0)
    elif fixed_value is not None:
        tau2 = fixed_value
    elif method in ("PM", "PMM"):
        target = float(k - 1) if method == "PM" else float(chi2_ppf(0.5, k - 1))
        tau2, ok = solve_q(y, v, r.fe[2], r.ss, np.full(n, target))
    else:  # ML, REML, EB
        tau2, iters, fallback, ok = _iterate(method, r, tol, maxiter)
        if method in ("ML", "REML"):
            tau2, reset = _likelihood_check(method, r, tau2, tol)
            tau2, multimodal = _escape_boundary(method, r, tau2, tol)
    se = _tau2_se(method, r, tau2) if with_se else np.full(n, np.nan)
    return Tau2Estimate(
        tau2=tau2,
        tau2_se=se,
        converged=ok,
        iterations=iters,
        fallback=fallback,
        boundary_reset=reset,
        multimodal=multimodal,
    )


def _tau2_se(method: str, r: Rows, tau2: Array) -> Array:
    """Standard error of the tau^2 estimate, with metafor's formula for each estimator."""
    k, v = r.c, r.v
    if method in ("DL", "HS", "HSk"):
        w_fe, s, _, tr_p = r.fe
        scale = 1.0 / tr_p if method == "DL" else (1.0 / s if method == "HS" else k / (k - 1) / s)
        t = np.maximum(tau2, 0.0)
        return scale * np.sqrt(2 * (k - 1) + 4 * t * tr_p + 2 * t * t * p_trace_pair_dense(w_fe))
    if method == "HE":
        return _se_qform(None, v, tau2, 1.0 / (k - 1))
    if method == "SJ":
        tau0 = r.ss / k
        return _se_qform(1.0 / (v + tau0[None, :]), v, tau2, tau0 / (k - 1))
    if method in ("PM", "PMM", "EB"):
        return _se_pm(v, k, tau2)
    w = 1.0 / (v + tau2[None, :])
    if method == "ML":
        return np.sqrt(2.0 / psum(w * w))
    return np.sqrt(2.0 / p_trace_pair_dense(w))


def _iterate(
    method: str, r: Rows, tol: float, maxiter: int
) -> tuple[Array, npt.NDArray[np.int64], BoolArray, BoolArray]:
    """Fisher scoring from the truncated HE estimate, then the bracketing fallback where it failed."""
    k = r.c
    scale = _typical_variance(r)

    def score(yy: Array, vv: Array, t: Array) -> tuple[Array, Array]:
        value, step = _score_dense(method, yy, vv, t, k)
        assert step is not None  # step=True (the default) always returns the scoring step
        return value, step

    start = np.maximum(_he(r), 0.0)
    block = max(1, _CACHE_ELEMENTS // k)
    tau2, conv, iters = fisher_scoring(score, (r.y, r.v), start, scale, tol, maxiter, take=_take_columns, block=block)
    fallback = ~conv
    ok = np.ones(r.n, dtype=bool)
    failed = np.flatnonzero(fallback)
    if failed.size:
        if method == "EB":
            fe_q, ss = r.fe[2], r.ss
            roots, good = solve_q(
                r.y[:, failed], r.v[:, failed], fe_q[failed], ss[failed], np.full(failed.size, k - 1.0)
            )
        else:
            roots, good = _score_root(method, r, failed)
        tau2[failed] = roots
        ok[failed] = good
    return tau2, iters, fallback, ok


def _typical_variance(r: Rows) -> Array:
    """Harmonic mean ``k / sum(1/v)`` of each column's variances: the scale of the stopping rule.

    Scale-equivariant, and not inflated by a study with a huge variance
    (which the arithmetic mean is: with one study at 1e12 times the others'
    variance the tolerance grew a trillionfold and scoring stopped early).
    """
    return r.c / r.fe[1]


def _likelihood_check(method: str, r: Rows, tau2: Array, tol: float) -> tuple[Array, BoolArray]:
    """metafor's ll0check: reset to 0 where the likelihood at 0 is higher than at the solution."""
    reset = np.zeros(r.n, dtype=bool)
    cand = np.flatnonzero(tau2 > tol * _typical_variance(r))
    if cand.size == 0:
        return tau2, reset
    reml = method == "REML"
    y, v = r.y[:, cand], r.v[:, cand]
    ll_hat = _loglik_dense(y, v, tau2[cand], reml)
    ll_zero = _loglik_dense(y, v, np.zeros(cand.size), reml)
    bad = cand[ll_zero - ll_hat > tol]
    reset[bad] = True
    tau2 = tau2.copy()
    tau2[bad] = 0.0
    return tau2, reset


def _escape_boundary(method: str, r: Rows, tau2: Array, tol: float) -> tuple[Array, BoolArray]:
    """Look for a higher interior maximum where ML/REML scoring stopped at tau^2 = 0.

    :func:`alsmeta.engine.boundary.escape_boundary` on columns of ``r``; grid
    points where the score is provably negative are not evaluated (see
    :func:`_first_crossing`), and the crossings found are those of the full scan.
    """
    k = r.c
    reml = method == "REML"

    def top(rows: npt.NDArray[np.intp]) -> Array:
        return 10.0 * np.maximum(r.ss[rows] / max(k - 1, 1), r.v[:, rows].max(axis=0))

    def crossing(grid: Array, rows: npt.NDArray[np.intp]) -> tuple[BoolArray, npt.NDArray[np.intp]]:
        return _first_crossing(method, r.y[:, rows], r.v[:, rows], grid, r.fe[2][rows], r.ss[rows])

    def loglik(x: Array, cols: npt.NDArray[np.intp]) -> Array:
        return _loglik_dense(r.y[:, cols], r.v[:, cols], x, reml)

    return escape_boundary(_column_score(method, r), loglik, tau2, top, tol, crossing)


_CACHE_ELEMENTS = 1 << 17  # studies per block of Fisher scoring: arrays that stay in cache
_MARGIN = 1e-9  # relative safety margin of the certificates, far above rounding error


def _first_crossing(
    method: str, y: Array, v: Array, grid: Array, q0: Array, ss: Array
) -> tuple[BoolArray, npt.NDArray[np.intp]]:
    """First index ``j`` with ``score(grid[j]) > 0 >= score(grid[j + 1])`` per column, as a full scan finds it.

    The score is evaluated exactly (the same arithmetic as everywhere else)
    only where its sign is not already certified negative by an upper bound
    that holds with a wide margin over rounding error:

    * near 0, from the exact evaluation at ``a = grid[0]``: on ``[a, b]``
      every weight lies in ``[w_i(a) (1 - eps), w_i(a)]`` with
      ``eps = (b - a) / (v_min + b)``, which bounds the change of the
      weighted mean and of every term of the score (:func:`_anchor_reach`);
    * far out, ``score(t) <= w_max (Q(t) + 1) - k / (vbar + t)`` (REML; ML
      without the ``+ 1``), from ``sum w^2 e^2 <= w_max Q``,
      ``Q(t) <= min(Q(0), SS w_max)`` and ``S(t) >= k / (vbar + t)``.

    A certified point has a non-positive score, so it neither starts a
    crossing nor hides one: the first crossing is that of the full scan.
    """
    k, R = y.shape
    G = grid.shape[1]
    reml = method == "REML"
    pos = np.zeros((R, G), dtype=bool)  # score > 0 (evaluated)
    nonpos = np.zeros((R, G), dtype=bool)  # score <= 0 (evaluated or certified)
    vmin = v.min(axis=0)
    big = np.abs(y).max(axis=0)
    vbar = psum(v) / k
    score, parts = _scan_eval(method, y, v, grid[:, 0], k)
    pos[:, 0], nonpos[:, 0] = score > 0, score <= 0
    reach = np.zeros(R, dtype=np.intp)
    anchor = np.flatnonzero(nonpos[:, 0])
    if anchor.size:
        reach[anchor] = _anchor_reach(grid[anchor], vmin[anchor], big[anchor], [x[anchor] for x in parts], reml)
    cols = np.arange(G)
    nonpos |= (cols[None, :] >= 1) & (cols[None, :] <= reach[:, None])
    start = reach + 1  # first point of each column not yet known
    order = np.argsort(start, kind="stable")
    first = np.searchsorted(start[order], np.arange(G), side="right")  # order[:first[j]]: start <= j
    open_rows = np.ones(R, dtype=bool)  # no crossing found yet
    for j in range(1, G):
        rows = order[: first[j]]
        rows = rows[open_rows[rows]]
        if rows.size == 0:
            continue
        t = grid[rows, j]
        wmax = 1.0 / (vmin[rows] + t)
        s_low = k / (vbar[rows] + t)
        qb = np.minimum(q0[rows], ss[rows] * wmax)
        bound = (qb + float(reml)) * wmax - s_low
        slack = _MARGIN * ((qb + 1.0) * wmax + s_low + k * wmax + k * (big[rows] * wmax) ** 2)
        cert = bound < -slack
        nonpos[rows[cert], j] = True
        ev = rows[~cert]
        if ev.size:
            sc = _score_dense(method, y[:, ev], v[:, ev], t[~cert], k, step=False)[0]
            pos[ev, j], nonpos[ev, j] = sc > 0, sc <= 0
        # a crossing at j - 1 settles the column: later points cannot change the first crossing
        open_rows[rows] &= ~(pos[rows, j - 1] & nonpos[rows, j])
    down = pos[:, :-1] & nonpos[:, 1:]
    return np.asarray(down.any(axis=1), dtype=bool), np.asarray(down.argmax(axis=1), dtype=np.intp)


def _scan_eval(method: str, y: Array, v: Array, t: Array, k: int) -> tuple[Array, list[Array]]:
    """The ML/REML score at ``t`` (the arithmetic of :func:`_score_dense`) and the sums of its bound.

    Returns the score and ``[S, sum w^2, sum w^2 e^2, sum w^2 |e|, sum w |e|]``.
    """
    buf = np.empty((3,) + y.shape)
    w = _weights(v, t, buf[0])
    np.multiply(w, y, out=buf[1])
    np.multiply(w, w, out=buf[2])
    s, swy, sw2 = psum(buf)
    with np.errstate(invalid="ignore", divide="ignore"):
        mu = swy / s
    e = np.subtract(y, mu[None, :], out=buf[1])
    wr = np.multiply(w, e, out=buf[2])
    np.abs(wr, out=buf[1])
    np.multiply(wr, wr, out=buf[2])
    np.multiply(w, buf[1], out=buf[0])
    b1, c1, a1 = psum(buf)  # sum w^2 |e|, sum w |e|, sum w^2 e^2
    score = a1 - s if method == "ML" else a1 - (s - sw2 / s)
    return score, [s, sw2, a1, b1, c1]


def _anchor_reach(grid: Array, vmin: Array, big: Array, parts: list[Array], reml: bool) -> npt.NDArray[np.intp]:
    """How many grid points after ``grid[:, 0]`` the bound from that anchor certifies non-positive.

    On ``[a, b]``, with ``eps = (b - a) / (v_min + b)``, ``S(t) >= (1 - eps) S(a)``
    and the weighted mean moves by at most ``delta = eps sum w|e| / ((1 - eps) S)``,
    so the score is at most ``sum w^2 (|e| + delta)^2 - (1 - eps) S
    (+ sum w^2 / ((1 - eps) S) for REML)``, all at ``a``. The bound grows with
    ``b``; the reach is found by bisection.
    """
    s, w2, a1, b1, c1 = parts
    R, G = grid.shape
    a = grid[:, 0]

    def certified(d: npt.NDArray[np.intp]) -> BoolArray:
        b = grid[np.arange(R), d]
        eps = (b - a) / (vmin + b)
        keep = 1.0 - eps
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            delta = eps * c1 / (s * keep)
            terms = a1 + 2.0 * delta * b1 + delta * delta * w2
            bound = terms - s * keep + (w2 / (s * keep) if reml else 0.0)
            slack = _MARGIN * (terms + s + w2 / s + big * (b1 + delta * w2)) + (_MARGIN * big) ** 2 * w2
            return (bound < -slack) & (keep > 0)

    lo = np.zeros(R, dtype=np.intp)  # certified up to lo (0: nothing beyond the anchor)
    hi = np.full(R, G - 1, dtype=np.intp)
    while (lo < hi).any():
        mid = (lo + hi + 1) // 2
        ok = certified(mid)
        lo = np.where(ok, mid, lo)
        hi = np.where(ok, hi, mid - 1)
    return lo


def _se_pm(v: Array, k: int, tau2: Array) -> Array:
    """SE used by metafor for EB, PM and PMM: ``sqrt(2 k^2 / (k-1)) / sum(w)``."""
    s = psum(1.0 / (v + tau2[None, :]))
    return np.sqrt(2.0 * k * k / (k - 1)) / s
