"""One meta-analysis at a time: the fast path behind :func:`alsmeta.pool`.

:func:`alsmeta.engine.batch.pool_many` fits any number of meta-analyses as
columns of ``(c, n)`` arrays; for a single fit of a few dozen studies its
array set-up, scipy's vectorised root finder and ``scipy.stats`` cost about a
hundred times the arithmetic. :func:`fit_one` does the same arithmetic on
Python floats: every estimator, stopping rule, boundary check, standard error
and interval of :mod:`alsmeta.engine.estimators`, :mod:`~alsmeta.engine.heterogeneity`
and :mod:`~alsmeta.engine.batch`, term by term in the same order, with sums in
numpy's pairwise order (:func:`pairwise_sum`) and the roots found by the same
algorithm as scipy's ``elementwise.find_root`` (:func:`chandrupatla`). It
therefore returns the batched engine's numbers bit for bit
(``tests/test_batch_engine.py`` and the property test in
``tests/test_single_fit.py`` hold it to that).

It covers the common case - 2 to :data:`FAST_MAX_K` studies on the ordinary
scale (no rescaling by :func:`~alsmeta.engine.estimators.standardise`), an
estimated tau^2, every estimator and test - and returns None otherwise (a
fixed tau^2, k < 2, Fisher scoring that does not settle, a zero
denominator): the caller then uses the batched engine, which handles
everything. The Q-profile interval, which needs two root searches, is not
part of the fit: :class:`QProfile` computes it on first use.

References
----------
Chandrupatla TR (1997). A new hybrid quadratic/bisection algorithm for
finding the zero of a nonlinear function without using derivatives. Adv Eng
Softw 28:145-149. Viechtbauer W (2005, 2007); see :mod:`alsmeta.engine.estimators`.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from operator import mul
from typing import Any

import numpy as np

from alsmeta.engine.distributions import chi2_isf, chi2_ppf, chi2_sf, norm_isf, norm_sf, t_isf, t_sf

__all__ = ["COVERED_METHODS", "COVERED_TESTS", "FAST_MAX_K", "QProfile", "chandrupatla", "fit_one", "pairwise_sum"]

#: Largest number of studies fitted on Python floats (beyond it numpy's arrays are faster).
FAST_MAX_K = 200
#: The estimators and tests this module repeats; anything else goes to the batched engine.
COVERED_METHODS = frozenset({"CE", "DL", "HE", "HS", "HSk", "SJ", "ML", "REML", "EB", "PM", "PMM"})
COVERED_TESTS = frozenset({"z", "t", "knha", "adhoc"})

_EPS = sys.float_info.epsilon
_TINY = sys.float_info.min
_NAN = float("nan")
_INF = float("inf")
_LOG_2PI = float(np.log(2 * np.pi))  # the value numpy gives the batched likelihood
_GRID = [float(g) for g in np.geomspace(1e-8, 1.0, 40)]  # the boundary scan's grid (estimators._escape_boundary)
_MARGIN = 1e-9  # the certificates' safety margin (estimators._MARGIN)
_CENTRE_RATIO = 2.0**20  # estimators._CENTRE_RATIO
_DEAD_ZONE = 16  # estimators._DEAD_ZONE


class Unsupported(Exception):
    """Raised inside the fast path for a case it leaves to the batched engine."""


Floats = list[float]


# ------------------------------------------------------------------ arithmetic as numpy does it
def pairwise_sum(x: Floats) -> float:
    """``numpy.sum`` of a 1-d float64 array, bit for bit: numpy's pairwise summation (blocks of 8, 128)."""
    n = len(x)
    if n < 8:
        res = 0.0
        for a in x:
            res += a
        return res
    if n < 16:  # one block without a full second round: the common size of a meta-analysis, inlined
        r0, r1, r2, r3, r4, r5, r6, r7 = x[:8]
        res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
        for a in x[8:]:
            res += a
        return 0.0 + res
    return 0.0 + (_block(x, 0, n) if n <= 128 else _pairwise(x, 0, n))


def _pairwise(x: Floats, lo: int, n: int) -> float:
    """numpy's ``pairwise_sum`` of ``x[lo:lo + n]`` (n >= 8)."""
    if n <= 128:
        return _block(x, lo, n)
    n2 = n // 2
    n2 -= n2 % 8
    return _pairwise(x, lo, n2) + _pairwise(x, lo + n2, n - n2)


def _block(x: Floats, lo: int, n: int) -> float:
    """One block of 8 to 128 terms: eight running sums, combined pairwise, then the rest in order."""
    m = lo + n - n % 8
    r0, r1, r2, r3, r4, r5, r6, r7 = x[lo : lo + 8]
    for i in range(lo + 8, m, 8):
        r0 += x[i]
        r1 += x[i + 1]
        r2 += x[i + 2]
        r3 += x[i + 3]
        r4 += x[i + 4]
        r5 += x[i + 5]
        r6 += x[i + 6]
        r7 += x[i + 7]
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    for i in range(m, lo + n):
        res += x[i]
    return res


def _weighted_mean(w: Floats, y: Floats) -> tuple[float, float]:
    """``sum(w y) / sum(w)`` and ``sum(w)`` (:func:`alsmeta.engine.rowmath.weighted_mean_dense`)."""
    s = pairwise_sum(w)
    return pairwise_sum(list(map(mul, w, y))) / s, s


def _weighted_ss(w: Floats, y: Floats, mu: float) -> float:
    """``sum(w (y - mu)^2)``, formed as ``w * ((y - mu) ** 2)`` as the batched engine does."""
    e = [yi - mu for yi in y]
    return pairwise_sum(list(map(mul, w, map(mul, e, e))))


def _max0(x: float) -> float:
    """``numpy.maximum(x, 0.0)`` (NaN stays NaN)."""
    return 0.0 if x < 0.0 else x


def _min100(x: float) -> float:
    """``numpy.minimum(x, 100.0)`` (NaN stays NaN)."""
    return 100.0 if x > 100.0 else x


def _sqrt(x: float) -> float:
    """``numpy.sqrt``: NaN for negative input instead of an exception."""
    return math.sqrt(x) if x >= 0.0 else _NAN


def _div(a: float, b: float) -> float:
    """IEEE division as numpy does it (inf or NaN for a zero divisor)."""
    if b != 0.0:
        return a / b
    if a != a or a == 0.0:
        return _NAN
    return math.copysign(_INF, a) * math.copysign(1.0, b)


def _sign(x: float) -> float:
    """``numpy.sign``."""
    return 1.0 if x > 0.0 else (-1.0 if x < 0.0 else (x if x != x else 0.0))


# ------------------------------------------------------------------ root finding
def chandrupatla(f: Callable[[float], float], a: float, b: float) -> tuple[float, bool]:
    """Root of ``f`` on ``[a, b]`` by Chandrupatla's method, as ``scipy.optimize.elementwise.find_root``.

    The same steps, tolerances (``xatol = 4 tiny``, ``xrtol = 4 eps``,
    ``fatol = tiny``, ``frtol = 0``) and termination tests as scipy's
    implementation, on Python floats, so the root is bit for bit scipy's.
    Returns the root (NaN on failure) and a success flag.
    """
    x1, x2 = a, b
    f1, f2 = f(x1), f(x2)
    x3 = f3 = _NAN
    xatol, xrtol, fatol = 4 * _TINY, 4 * _EPS, _TINY
    frtol = 0.0 * min(abs(f1), abs(f2)) if (f1 == f1 and f2 == f2) else _NAN
    maxiter = math.log2(sys.float_info.max) - math.log2(_TINY)
    nit = 0
    t = 0.5
    while True:
        # scipy's check_termination
        xmin, fmin = (x1, f1) if abs(f1) < abs(f2) else (x2, f2)
        stop, status = False, 1
        if abs(fmin) <= fatol + frtol:
            stop, status = True, 0
        if not stop and _sign(f1) == _sign(f2):
            xmin, stop, status = _NAN, True, -1
        if not stop and (not (math.isfinite(x1) and math.isfinite(x2)) or (f1 != f1 and f2 != f2)):
            xmin, stop, status = _NAN, True, -3
        dx = abs(x2 - x1)
        tol = abs(xmin) * xrtol + xatol
        if dx < tol:
            stop, status = True, 0
        if stop:
            return xmin, status == 0
        if nit > 0:  # scipy's post_termination_check (not run before the first step)
            xi1 = _div(x1 - x2, x3 - x2)
            phi1 = _div(f1 - f2, f3 - f2)
            alpha = _div(x3 - x1, x2 - x1)
            t = 0.5
            if (1 - _sqrt(1 - xi1)) < phi1 < _sqrt(xi1):
                t = _div(_div(f1, f1 - f2) * f3, f3 - f2) - _div(_div(alpha * f1, f3 - f1) * f2, f2 - f3)
            tl = 0.5 * tol / dx
            if t < tl:
                t = tl
            if t > 1 - tl:
                t = 1 - tl
        if nit >= maxiter:
            return xmin, False
        x = x1 + t * (x2 - x1)
        fx = f(x)
        if _sign(fx) == _sign(f1):
            x3, f3 = x1, f1
        else:
            x3, f3 = x2, f2
            x2, f2 = x1, f1
        x1, f1 = x, fx
        nit += 1


def _expand_upper(f: Callable[[float], float], hi: float, max_doublings: int = 200) -> float:
    """:func:`alsmeta.engine.roots.expand_upper` for one function."""
    if not f(hi) >= 0:
        return hi
    for _ in range(max_doublings):
        hi *= 2.0
        if not f(hi) >= 0:
            return hi
    return _NAN


def _solve_decreasing(f: Callable[[float], float], lo: float, hi: float) -> tuple[float, bool]:
    """:func:`alsmeta.engine.roots.solve_decreasing` for one function."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return _NAN, False
    return chandrupatla(f, lo, hi)


# ------------------------------------------------------------------ the data of one meta-analysis
class Study:
    """Effects ``y`` and variances ``v`` of one meta-analysis (Python floats) and what the estimators share."""

    def __init__(self, y: Floats, v: Floats) -> None:
        self.y, self.v, self.k = y, v, len(y)
        w = [1.0 / vi for vi in v]
        mu, s = _weighted_mean(w, y)
        self.w_fe, self.s_fe = w, s
        self.q0 = _weighted_ss(w, y, mu)
        self.tr_p = _p_trace(w, s)
        ybar = pairwise_sum(y) / self.k
        self.ss = pairwise_sum([(yi - ybar) * (yi - ybar) for yi in y])
        self.typical = self.k / s  # estimators._typical_variance

    def generalized_q(self, tau2: float) -> float:
        """:func:`alsmeta.engine.rowmath.generalized_q_dense` of this study set."""
        w = [1.0 / (vi + tau2) for vi in self.v]
        mu, _ = _weighted_mean(w, self.y)
        return _weighted_ss(w, self.y, mu)

    def solve_q(self, target: float) -> tuple[float, bool]:
        """:func:`alsmeta.engine.estimators.solve_q` (0 where ``Q(0) <= target``)."""
        if not self.q0 > target:
            return 0.0, True

        def f(x: float) -> float:
            return self.generalized_q(x) - target

        hi = _expand_upper(f, self.ss / target * (1.0 + 1e-9) + 1e-300)
        return _solve_decreasing(f, 0.0, hi)


def _p_trace(w: Floats, s: float) -> float:
    """:func:`alsmeta.engine.rowmath.p_trace_dense` of one column."""
    j = max(range(len(w)), key=w.__getitem__)
    w0 = list(w)
    wj, w0[j] = w0[j], 0.0
    return (pairwise_sum([a * (s - a) for a in w0]) + wj * pairwise_sum(w0)) / s


def _p_trace_pair(w: Floats, a: Floats | None = None, b: Floats | None = None) -> float:
    """:func:`alsmeta.engine.rowmath.p_trace_pair_dense` of one column (``None``: ones)."""
    s = pairwise_sum(w)
    j = max(range(len(w)), key=w.__getitem__)
    w0 = list(w)
    wj = w0[j]
    w0[j] = 0.0
    s_other = [s - wi for wi in w]
    s_other[j] = pairwise_sum(w0)
    pii = [wi * so / s for wi, so in zip(w, s_other, strict=True)]
    w2o = [x * x for x in w0]
    if a is None and b is None:  # products with ones are exact: leave them out
        diag = pairwise_sum([p * p for p in pii])
        a_o = b_o = pairwise_sum(w2o)
        a_j = b_j = wj * wj
        d_o = pairwise_sum([x * x for x in w2o])
    else:
        aa = a if a is not None else [1.0] * len(w)
        bb = b if b is not None else [1.0] * len(w)
        diag = pairwise_sum([ai * bi * p * p for ai, bi, p in zip(aa, bb, pii, strict=True)])
        a_o = pairwise_sum([x * ai for x, ai in zip(w2o, aa, strict=True)])
        b_o = pairwise_sum([x * bi for x, bi in zip(w2o, bb, strict=True)])
        a_j, b_j = wj * wj * aa[j], wj * wj * bb[j]
        d_o = pairwise_sum([x * x * ai * bi for x, ai, bi in zip(w2o, aa, bb, strict=True)])
    return diag + (a_j * b_o + a_o * b_j + (a_o * b_o - d_o)) / (s * s)


# ------------------------------------------------------------------ ML, REML, EB
def _score(method: str, d: Study, t: float, step: bool = True) -> tuple[float, float]:
    """:func:`alsmeta.engine.estimators._score_dense` at ``t``: the estimating equation and the scoring step."""
    y, k = d.y, d.k
    w = [1.0 / (vi + t) for vi in d.v]
    mu, s = _weighted_mean(w, y)
    e = [yi - mu for yi in y]
    wr = list(map(mul, w, e))
    if method == "EB":
        score = pairwise_sum(list(map(mul, wr, e))) * k / (k - 1) - k
        return score, (score / s if step else _NAN)
    rss = pairwise_sum(list(map(mul, wr, wr)))
    w2 = list(map(mul, w, w))
    sw2 = pairwise_sum(w2)
    if method == "ML":
        score = rss - s
        return score, (score / sw2 if step else _NAN)
    score = rss - (s - sw2 / s)
    if not step:
        return score, _NAN
    tr_pp = sw2 - 2.0 * pairwise_sum(list(map(mul, w2, w))) / s + sw2 * sw2 / (s * s)
    return score, _div(score, tr_pp)


def _fisher_scoring(method: str, d: Study, tol: float, maxiter: int) -> tuple[float, int]:
    """:func:`alsmeta.engine.estimators.fisher_scoring` from the truncated HE start (else :class:`Unsupported`)."""
    t = _max0(_he(d))
    scale = d.typical
    it = 0
    done = False
    while it < maxiter:
        step = _score(method, d, t)[1]
        if not math.isfinite(step):
            step = 0.0
        if t + step < 0:
            halvings = math.ceil(float(np.log2(np.array([-step / t]))[0])) if t > 0 else _INF
            sn = step / 2.0**halvings if math.isfinite(halvings) else 0.0
            step = -t if t + sn < 0 else sn
        new = t + step
        done = abs(step) <= tol * (scale if scale >= new else new)
        t = new
        it += 1
        if done:
            break
    if not done:
        raise Unsupported("Fisher scoring did not settle: the batched engine's fallback solves it")
    if t > 0 and t <= tol * scale and _score(method, d, 0.0)[0] <= 0:
        t = 0.0
    return t, it


def _loglik(d: Study, tau2: float, reml: bool) -> float:
    """:func:`alsmeta.engine.estimators._loglik_dense` of one column (logarithms by numpy, as there)."""
    y, k = d.y, d.k
    vt = [vi + tau2 for vi in d.v]
    w = [1.0 / x for x in vt]
    mu, s = _weighted_mean(w, y)
    rss = _weighted_ss(w, y, mu)
    logdet = pairwise_sum(np.log(np.array(vt)).tolist())
    if reml:
        return -0.5 * ((k - 1) * _LOG_2PI + logdet + float(np.log(np.array([s]))[0]) + rss)
    return -0.5 * (k * _LOG_2PI + logdet + rss)


def _escape_boundary(method: str, d: Study, tol: float) -> float:
    """:func:`alsmeta.engine.estimators._escape_boundary` for one fit at tau^2 = 0: the interior maximum, or 0.

    The first sign change of the score on the same geometric grid as the
    batched scan; grid points are skipped where the batched engine's upper
    bounds certify a non-positive score, which does not change the first
    crossing (see :func:`alsmeta.engine.estimators._first_crossing`).
    """
    k, v = d.k, d.v
    top = 10.0 * max(d.ss / max(k - 1, 1), max(v))
    grid = [top * g for g in _GRID]
    crossing = _first_crossing(method, d, grid)
    if crossing is None:
        return 0.0

    def f(x: float) -> float:
        return _score(method, d, x, step=False)[0]

    root, ok = _solve_decreasing(f, grid[crossing], grid[crossing + 1])
    reml = method == "REML"
    gain = _loglik(d, 0.0 if root != root else root, reml) - _loglik(d, 0.0, reml)
    return root if ok and gain > tol else 0.0


def _first_crossing(method: str, d: Study, grid: Floats) -> int | None:
    """First ``j`` with ``score(grid[j]) > 0 >= score(grid[j + 1])``, or None."""
    y, v, k = d.y, d.v, d.k
    reml = method == "REML"
    vmin = min(v)
    big = max(abs(x) for x in y)
    vbar = pairwise_sum(v) / k
    anchor = _anchor_parts(method, d, grid[0])
    pos_prev = anchor[0] > 0
    reach = 0  # grid points 1..reach certified non-positive by the bound from grid[0] (when its score is <= 0)
    if not pos_prev:
        lo, hi = 0, len(grid) - 1
        while lo < hi:  # the bound grows along the grid: bisection, as estimators._anchor_reach
            mid = (lo + hi + 1) // 2
            if _anchor_certifies(anchor, grid[0], grid[mid], vmin, big, reml):
                lo = mid
            else:
                hi = mid - 1
        reach = lo
    for j in range(reach + 1, len(grid)):
        t = grid[j]
        wmax = 1.0 / (vmin + t)
        s_low = k / (vbar + t)
        qb = min(d.q0, d.ss * wmax)
        bound = (qb + float(reml)) * wmax - s_low
        slack = _MARGIN * ((qb + 1.0) * wmax + s_low + k * wmax + k * (big * wmax) ** 2)
        if bound < -slack:
            pos, nonpos = False, True
        else:
            sc = _score(method, d, t, step=False)[0]
            pos, nonpos = sc > 0, sc <= 0
        if pos_prev and nonpos:
            return j - 1
        pos_prev = pos
    return None


def _anchor_parts(method: str, d: Study, t: float) -> tuple[float, float, float, float, float, float]:
    """:func:`alsmeta.engine.estimators._scan_eval`: score at ``t`` and the sums of its bound."""
    y = d.y
    w = [1.0 / (vi + t) for vi in d.v]
    s = pairwise_sum(w)
    swy = pairwise_sum([wi * yi for wi, yi in zip(w, y, strict=True)])
    sw2 = pairwise_sum([wi * wi for wi in w])
    mu = swy / s
    wr = [wi * (yi - mu) for wi, yi in zip(w, y, strict=True)]
    b1 = pairwise_sum([wi * abs(x) for wi, x in zip(w, wr, strict=True)])
    c1 = pairwise_sum([abs(x) for x in wr])
    a1 = pairwise_sum([x * x for x in wr])
    score = a1 - s if method == "ML" else a1 - (s - sw2 / s)
    return score, s, sw2, a1, b1, c1


def _anchor_certifies(
    parts: tuple[float, float, float, float, float, float], a: float, b: float, vmin: float, big: float, reml: bool
) -> bool:
    """The bound of :func:`alsmeta.engine.estimators._anchor_reach` on ``[a, b]``: True if the score is surely <= 0."""
    _, s, w2, a1, b1, c1 = parts
    eps = (b - a) / (vmin + b)
    keep = 1.0 - eps
    if not keep > 0:
        return False
    delta = eps * c1 / (s * keep)
    terms = a1 + 2.0 * delta * b1 + delta * delta * w2
    bound = terms - s * keep + (w2 / (s * keep) if reml else 0.0)
    slack = _MARGIN * (terms + s + w2 / s + big * (b1 + delta * w2)) + (_MARGIN * big) ** 2 * w2
    return bound < -slack


# ------------------------------------------------------------------ estimators
def _he(d: Study) -> float:
    """Hedges' estimator, untruncated (:func:`alsmeta.engine.estimators._he`)."""
    k = d.k
    tr_pv = pairwise_sum(d.v) * (1.0 - 1.0 / k)
    return (d.ss - tr_pv) / (k - 1)


def _estimate(method: str, d: Study, tol: float, maxiter: int) -> tuple[float, int, bool, bool]:
    """tau^2, iterations, boundary reset and multimodal flags (:func:`alsmeta.engine.estimators._estimate_rows`)."""
    k = d.k
    if method == "DL":
        return _max0((d.q0 - (k - 1)) / d.tr_p), 0, False, False
    if method == "HS":
        return _max0((d.q0 - k) / d.s_fe), 0, False, False
    if method == "HSk":
        return _max0((k / (k - 1) * d.q0 - k) / d.s_fe), 0, False, False
    if method == "HE":
        return _max0(_he(d)), 0, False, False
    if method == "SJ":
        tau0 = d.ss / k
        return _max0(tau0 * d.generalized_q(tau0) / (k - 1)), 0, False, False
    if method in ("PM", "PMM"):
        target = float(k - 1) if method == "PM" else float(chi2_ppf(0.5, k - 1))
        tau2, ok = d.solve_q(target)
        if not ok:
            raise Unsupported("Paule-Mandel root not found")
        return tau2, 0, False, False
    tau2, iters = _fisher_scoring(method, d, tol, maxiter)
    reset = multimodal = False
    if method in ("ML", "REML"):
        reml = method == "REML"
        if tau2 > tol * d.typical and _loglik(d, 0.0, reml) - _loglik(d, tau2, reml) > tol:
            tau2, reset = 0.0, True
        if tau2 == 0:
            tau2 = _escape_boundary(method, d, tol)
            multimodal = tau2 != 0
    return tau2, iters, reset, multimodal


def _se_qform(w: Floats | None, v: Floats, tau2: float, scale: float) -> float:
    """:func:`alsmeta.engine.estimators._se_qform` of one column."""
    ones = [1.0] * len(v) if w is None else w
    t = _max0(tau2)
    var = 2.0 * _p_trace_pair(ones, v, v) + 4.0 * t * _p_trace_pair(ones, None, v) + 2.0 * t * t * _p_trace_pair(ones)
    return scale * _sqrt(var)


def _tau2_se(method: str, d: Study, tau2: float) -> float:
    """Standard error of tau^2 (:func:`alsmeta.engine.estimators._tau2_se`)."""
    k, v = d.k, d.v
    if method in ("DL", "HS", "HSk"):
        s, tr_p = d.s_fe, d.tr_p
        scale = 1.0 / tr_p if method == "DL" else (1.0 / s if method == "HS" else k / (k - 1) / s)
        t = _max0(tau2)
        return scale * _sqrt(2 * (k - 1) + 4 * t * tr_p + 2 * t * t * _p_trace_pair(d.w_fe))
    if method == "HE":
        return _se_qform(None, v, tau2, 1.0 / (k - 1))
    if method == "SJ":
        tau0 = d.ss / k
        return _se_qform([1.0 / (vi + tau0) for vi in v], v, tau2, tau0 / (k - 1))
    w = [1.0 / (vi + tau2) for vi in v]
    if method in ("PM", "PMM", "EB"):
        return math.sqrt(2.0 * k * k / (k - 1)) / pairwise_sum(w)
    if method == "ML":
        return _sqrt(2.0 / pairwise_sum([x * x for x in w]))
    return _sqrt(2.0 / _p_trace_pair(w))


# ------------------------------------------------------------------ the fit
def needs_standardising(y: Floats, v: Floats) -> bool:
    """True when :func:`alsmeta.engine.estimators.standardise` would rescale or centre these data."""
    _, e_lo = math.frexp(min(v))
    _, e_hi = math.frexp(max(v))
    m = math.floor((e_lo + e_hi) / 4.0 + 0.5)
    if abs(m) > _DEAD_ZONE:
        return True
    big = max(abs(x) for x in y)
    return big > 0 and big > _CENTRE_RATIO * (max(y) - min(y))


def fit_one(
    y: Floats, v: Floats, method: str, test: str, level: float, tol: float, maxiter: int
) -> dict[str, Any] | None:
    """Fit one meta-analysis with an estimated tau^2: the fields of ``BatchResult`` as scalars.

    ``y``, ``v`` are validated Python floats; ``method`` and ``test`` are
    canonical names. The Q-profile fields are left out (see
    :class:`QProfile`). Returns None for what the batched engine must fit
    (see the module docstring); the result is otherwise that engine's, bit
    for bit.
    """
    k = len(y)
    if method not in COVERED_METHODS or test not in COVERED_TESTS:
        return None  # an estimator or test added to the batched engine later is fitted there until copied here
    if not 2 <= k <= FAST_MAX_K or needs_standardising(y, v):
        return None
    try:
        return _fit(Study(y, v), method, test, level, tol, maxiter)
    except (Unsupported, ZeroDivisionError, OverflowError, ValueError):
        return None


def _fit(d: Study, method: str, test: str, level: float, tol: float, maxiter: int) -> dict[str, Any]:
    k, y, v = d.k, d.y, d.v
    common = method == "CE"
    if common:
        tau2, tau2_se, iters, reset, multimodal = 0.0, _NAN, 0, False, False
    else:
        tau2, iters, reset, multimodal = _estimate(method, d, tol, maxiter)
        tau2_se = _tau2_se(method, d, tau2)
    w = [1.0 / (vi + tau2) for vi in v]
    mu, s = _weighted_mean(w, y)
    se = math.sqrt(1.0 / s)
    use_t = test in ("t", "knha", "adhoc")
    if test in ("knha", "adhoc"):
        rss = _weighted_ss(w, y, mu)
        s2w = 0.0 if rss <= _EPS else rss / (k - 1)
        if test == "adhoc" and not s2w >= 1.0:
            s2w = 1.0 if s2w == s2w else s2w
        se = se * math.sqrt(s2w)
    stat = _div(mu, se)
    abs_stat = abs(stat)
    pval = 2.0 * float(t_sf(abs_stat, k - 1) if use_t else norm_sf(abs_stat))
    alpha = 1.0 - level
    crit = float(t_isf(alpha / 2, k - 1) if use_t else norm_isf(alpha / 2))
    pi_half = _NAN if common else crit * math.sqrt(se * se + tau2)
    q = _max0(d.q0)
    df = k - 1
    typical = df / d.tr_p
    if common:
        i2 = 0.0 if q == 0 else min(max(100.0 * (q - df) / q, 0.0), 100.0)
        h2 = q / df
    else:
        i2 = _min100(100.0 * tau2 / (typical + tau2))
        h2 = tau2 / typical + 1.0
    return {
        "k": k,
        "estimate": mu,
        "se": se,
        "statistic": stat,
        "pvalue": pval,
        "ci_low": mu - crit * se,
        "ci_high": mu + crit * se,
        "df": float(df) if use_t else _NAN,
        "tau2": tau2,
        "tau2_se": tau2_se,
        "i2": i2,
        "h2": h2,
        "q": q,
        "q_df": df,
        "q_pvalue": float(chi2_sf(q, df)),
        "pi_low": mu - pi_half,
        "pi_high": mu + pi_half,
        "converged": True,
        "fallback": False,
        "boundary_reset": reset,
        "multimodal": multimodal,
        "test_downgraded": False,
        "iterations": iters,
    }


# ------------------------------------------------------------------ the Q-profile interval, on first use
QPROFILE_FIELDS = ("tau2_ci_low", "tau2_ci_high", "i2_ci_low", "i2_ci_high", "h2_ci_low", "h2_ci_high")


class QProfile:
    """The Q-profile intervals for tau^2, I^2 and H^2 of one fit, computed on first use and kept.

    ``applies`` is False where the interval is not defined (common-effect
    model, a fixed tau^2, fewer than two studies): every bound is NaN, as in
    metafor's ``confint()``. The bounds are those of
    :func:`alsmeta.engine.heterogeneity.q_profile_ci` in the batched engine,
    bit for bit (computed on Python floats where :func:`fit_one` applies, by
    the batched engine otherwise).
    """

    __slots__ = ("_bounds", "applies", "level", "v", "y")

    def __init__(self, y: np.ndarray, v: np.ndarray, level: float, applies: bool) -> None:
        self.y, self.v, self.level, self.applies = y, v, level, applies
        self._bounds: dict[str, float] | None = None

    def bounds(self) -> dict[str, float]:
        """The six bounds by name (:data:`QPROFILE_FIELDS`)."""
        if self._bounds is None:
            self._bounds = self._compute()
        return self._bounds

    def _compute(self) -> dict[str, float]:
        if not self.applies or self.y.shape[0] < 2:
            return dict.fromkeys(QPROFILE_FIELDS, _NAN)
        y, v = self.y.tolist(), self.v.tolist()
        if len(y) <= FAST_MAX_K and not needs_standardising(y, v):
            try:
                return _q_profile(Study(y, v), self.level)
            except (ZeroDivisionError, OverflowError, ValueError):
                pass
        from alsmeta.engine.batch import pool_many  # the general route (rescaled or large data)

        b = pool_many(self.y[None, :], self.v[None, :], method="DL", level=self.level)
        return {name: float(getattr(b, name)[0]) for name in QPROFILE_FIELDS}


def _q_profile(d: Study, level: float) -> dict[str, float]:
    """:func:`alsmeta.engine.heterogeneity.q_profile_ci` of one column."""
    alpha = 1.0 - level
    low, _ = d.solve_q(float(chi2_isf(alpha / 2, d.k - 1)))
    high, _ = d.solve_q(float(chi2_ppf(alpha / 2, d.k - 1)))
    typical = (d.k - 1) / d.tr_p
    return {
        "tau2_ci_low": low,
        "tau2_ci_high": high,
        "i2_ci_low": _min100(_div(100.0 * low, typical + low)),
        "i2_ci_high": _min100(_div(100.0 * high, typical + high)),
        "h2_ci_low": low / typical + 1.0,
        "h2_ci_high": high / typical + 1.0,
    }


def qprofile_is_null(q: float, k: int, level: float) -> bool:
    """True when the Q-profile interval for tau^2 is ``[0, 0]``: ``Q <= chi^2_{alpha/2}(k - 1)`` (no root search)."""
    return k >= 2 and q <= float(chi2_ppf((1.0 - level) / 2, k - 1))
