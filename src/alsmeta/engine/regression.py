"""Mixed-effects meta-regression with a design matrix, vectorised over many models.

:func:`fit_regression_many` fits ``B`` weighted meta-regressions
``y = X beta + u + e`` (``u ~ N(0, tau^2)``, ``e ~ N(0, v)``) given as ``(B, k)``
arrays of effects and variances, a design ``X`` shaped ``(k, p)`` (shared) or
``(B, k, p)`` (one per model, as in permutation tests) and a ``(B, k)`` mask of
the studies in use. It is the engine behind :func:`alsmeta.meta_regression`,
subgroup analyses with a common tau^2, the regression tests for funnel-plot
asymmetry and the permutation tests.

The tau^2 estimators follow metafor's ``rma.uni()`` with moderators
(Viechtbauer 2005; Raudenbush 2009), written with the projection

    P = W - W X (X'WX)^-1 X'W

(``W = diag(w)``; rows outside the mask get weight 0):

======  ===============================================================
CE      tau^2 = 0 (weighted least squares, common effect).
DL      ``(y'P y - (k - p)) / tr(P)`` with ``w = 1/v``.
HE      ``(y'P0 y - tr(P0 V)) / (k - p)`` with ``P0`` for ``w = 1`` (OLS).
HS      ``(y'P y - k) / sum(w)``; HSk: ``(k/(k-p) y'P y - k) / sum(w)``.
SJ      ``tau0 y'P y / (k - p)``, ``P`` at ``w = 1/(v + tau0)``, ``tau0 = sum(yc^2)/k``.
ML      Fisher scoring: step ``(y'PPy - sum w) / sum w^2``.
REML    Fisher scoring: step ``(y'PPy - tr P) / tr(PP)``.
EB      Fisher scoring: step ``(y'Py k/(k-p) - k) / sum w``.
PM      root of ``y'P(tau^2) y = k - p``; PMM: ``= median of chi^2(k - p)``.
======  ===============================================================

Iterative estimators start at the (truncated) HE estimate and use the same
solver policy as the intercept-only engine (:mod:`alsmeta.engine.estimators`):
step-halving at the boundary, a scale-relative stopping rule, a bracketing
root finder when scoring fails, metafor's check of the likelihood at
tau^2 = 0 and a scan for a higher interior maximum when scoring stops at 0.
With ``X`` a column of ones the results are those of :func:`alsmeta.pool_many`.

Inference on the coefficients is as in metafor: ``vb = (X'WX)^-1`` (times
the Knapp-Hartung factor ``s2w = sum w (y - Xb)^2 / (k - p)`` for
``test="knha"``, never below 1 for ``"adhoc"``), z or t with ``k - p`` df,
the omnibus Wald test ``QM`` of the coefficients in ``btt`` (chi^2, or F
with ``(m, k - p)`` df after division by ``m`` for t-based tests), and the
residual heterogeneity test ``QE = y'P y`` (``w = 1/v``) with ``k - p`` df.

When the effects fit the design exactly (weighted residual sum of squares
at most ``eps``, metafor's rule, or at most its rounding size), ``s2w = 0``:
the Knapp-Hartung test is degenerate (SE 0, p = 0, QM undefined: NaN, as
metafor's NA). A coefficient that is 0 up to rounding then has statistic
0/0 = NaN, where metafor divides its rounding error by 0 (+-Inf). The
caller warns (:func:`alsmeta.meta_regression`).

References
----------
Viechtbauer W (2005). Bias and efficiency of meta-analytic variance
estimators in the random-effects model. J Educ Behav Stat 30:261-293.
Viechtbauer W, Lopez-Lopez JA, Sanchez-Meca J, Marin-Martinez F (2015). A
comparison of procedures to test for moderators in mixed-effects
meta-regression models. Psychol Methods 20:360-374.
Knapp G, Hartung J (2003). Improved tests for a random effects
meta-regression with a single covariate. Stat Med 22:2693-2710.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields

import numpy as np
import numpy.typing as npt
from scipy import stats

from alsmeta.engine.batch import canonical_test
from alsmeta.engine.boundary import escape_boundary, score_root
from alsmeta.engine.estimators import canonical_method, fisher_scoring, scale_exponent
from alsmeta.engine.roots import expand_upper, solve_decreasing
from alsmeta.engine.weighted import genq_tau2_many, weighted_fit_many
from alsmeta.validation import AlsmetaInputError, nonnegative_number, positive_number, probability_level, whole_number

Array = npt.NDArray[np.float64]
Mask = npt.NDArray[np.bool_]
Rows = npt.NDArray[np.intp]

REGRESSION_METHODS: tuple[str, ...] = ("CE", "DL", "HE", "HS", "HSk", "SJ", "ML", "REML", "EB", "PM", "PMM")
#: Estimators that need user weights (``weights=``): the generalised Q estimator.
WEIGHTED_METHODS: tuple[str, ...] = ("GENQ",)


@dataclass(frozen=True, eq=False)
class RegressionBatch:
    """``B`` fitted meta-regressions. Per-model arrays have length ``B``; per-coefficient ``(B, p)``.

    ``usable`` is False where the model could not be fitted (design not of
    full rank on the studies in use, or too few studies: ``k <= p`` for a
    random-effects model, ``k < p`` for the common-effect model); every
    statistic is NaN there. ``converged``, ``fallback``, ``boundary_reset``
    and ``multimodal`` are the solver flags of :class:`alsmeta.BatchResult`.
    """

    method: str
    test: str
    level: float
    btt: tuple[int, ...]
    k: npt.NDArray[np.int64]
    p: int
    coef: Array
    se: Array
    statistic: Array
    pvalue: Array
    ci_low: Array
    ci_high: Array
    vcov: Array
    df: Array
    tau2: Array
    tau2_se: Array
    s2w: Array
    qm: Array
    qm_df: Array
    qm_df2: Array
    qm_pvalue: Array
    qe: Array
    qe_df: Array
    qe_pvalue: Array
    i2: Array
    h2: Array
    ll_ml: Array
    ll_reml: Array
    usable: npt.NDArray[np.bool_]
    converged: npt.NDArray[np.bool_]
    fallback: npt.NDArray[np.bool_]
    boundary_reset: npt.NDArray[np.bool_]
    multimodal: npt.NDArray[np.bool_]

    def __len__(self) -> int:
        return int(self.k.shape[0])

    def row(self, i: int) -> dict[str, object]:
        """All results of model ``i`` as a dict of scalars / 1-d arrays."""
        out: dict[str, object] = {}
        for f in fields(self):
            val = getattr(self, f.name)
            out[f.name] = val[i] if isinstance(val, np.ndarray) else val
        return out


# --------------------------------------------------------------------- linear algebra
def _wls_parts(w: Array, X: Array, mask: Mask) -> tuple[Array, Array, Array]:
    """Masked weights, ``X'W`` (B, p, k) and ``(X'WX)^-1`` (B, p, p)."""
    wm = np.where(mask, w, 0.0)
    xtw = np.swapaxes(X, 1, 2) * wm[:, None, :]
    return wm, xtw, np.asarray(np.linalg.inv(xtw @ X), dtype=np.float64)


def _p_matrix(w: Array, X: Array, mask: Mask) -> tuple[Array, Array]:
    """``P = W - W X (X'WX)^-1 X'W`` (B, k, k) and the masked weights."""
    wm, xtw, inv = _wls_parts(w, X, mask)
    P = -(np.swapaxes(xtw, 1, 2) @ inv @ xtw)
    idx = np.arange(X.shape[1])
    P[:, idx, idx] += wm
    return P, wm


def _qform(P: Array, y: Array) -> Array:
    return np.einsum("bi,bij,bj->b", y, P, y)


def _trace(P: Array) -> Array:
    return np.trace(P, axis1=1, axis2=2)


def _residual_q(y: Array, v: Array, X: Array, mask: Mask, tau2: Array) -> Array:
    """Generalised residual Q: ``y'P(tau2)y``, decreasing in tau2."""
    P, _ = _p_matrix(1.0 / (v + tau2[:, None]), X, mask)
    return _qform(P, y)


def _score(method: str, y: Array, v: Array, X: Array, mask: Mask, tau2: Array, k: Array, p: int) -> tuple[Array, Array]:
    """Estimating-equation value and Fisher-scoring step (metafor's ``adj``) for ML, REML, EB."""
    P, wm = _p_matrix(1.0 / (v + tau2[:, None]), X, mask)
    Py = np.einsum("bij,bj->bi", P, y)
    if method == "ML":
        score = np.einsum("bi,bi->b", Py, Py) - wm.sum(axis=1)
        return score, score / (wm * wm).sum(axis=1)
    if method == "REML":
        score = np.einsum("bi,bi->b", Py, Py) - _trace(P)
        return score, score / np.einsum("bij,bij->b", P, P)
    score = np.einsum("bi,bi->b", y, Py) * k / (k - p) - k
    return score, score / wm.sum(axis=1)


def _log_lik(y: Array, v: Array, X: Array, mask: Mask, tau2: Array, reml: bool) -> Array:
    """(Restricted) log-likelihood up to constants that do not depend on tau2."""
    w = 1.0 / (v + tau2[:, None])
    wm, xtw, inv = _wls_parts(w, X, mask)
    beta = inv @ (xtw @ y[:, :, None])
    res = y - (X @ beta)[:, :, 0]
    rss = (wm * res * res).sum(axis=1)
    logdet = np.where(mask, np.log(v + tau2[:, None]), 0.0).sum(axis=1)
    out = -0.5 * (logdet + rss)
    if reml:
        out = out - 0.5 * np.linalg.slogdet(xtw @ X)[1]
    return out


# --------------------------------------------------------------------- estimators
def _he(y: Array, v: Array, X: Array, mask: Mask, k: Array, p: int) -> tuple[Array, Array, Array]:
    """Untruncated HE estimate, ``P0`` (OLS projection) and ``tr(P0 V)``."""
    P0, _ = _p_matrix(np.ones_like(v), X, mask)
    vm = np.where(mask, v, 0.0)
    tr_pv = np.einsum("bii,bi->b", P0, vm)
    return (_qform(P0, y) - tr_pv) / (k - p), P0, tr_pv


def _se_qform(P: Array, v: Array, mask: Mask, tau2: Array, scale: Array) -> Array:
    """``scale * sqrt(2 tr(PVPV) + 4 t tr(PVP) + 2 t^2 tr(PP))`` (metafor's SE of moment estimators)."""
    t = np.maximum(tau2, 0.0)
    vm = np.where(mask, v, 0.0)
    PV = P * vm[:, None, :]
    tr_pvpv = np.einsum("bij,bji->b", PV, PV)
    tr_pvp = np.einsum("bij,bij->b", PV, P)
    tr_pp = np.einsum("bij,bij->b", P, P)
    return scale * np.sqrt(2.0 * tr_pvpv + 4.0 * t * tr_pvp + 2.0 * t * t * tr_pp)


def _solve_q(
    y: Array, v: Array, X: Array, mask: Mask, target: Array, resid_ss: Array
) -> tuple[Array, npt.NDArray[np.bool_]]:
    """tau2 with ``y'P(tau2)y = target`` per row (0 where already ``<= target`` at 0)."""
    n = y.shape[0]
    out = np.zeros(n)
    ok = np.ones(n, dtype=bool)
    q0 = _residual_q(y, v, X, mask, np.zeros(n))
    rows = np.flatnonzero(q0 > target)
    if rows.size == 0:
        return out, ok

    def f(x: Array, r: Rows) -> Array:
        return _residual_q(y[r], v[r], X[r], mask[r], x) - target[r]

    # y'P(t)y <= y'P0 y / t, so t = RSS_OLS / target brackets the root
    hi = expand_upper(f, resid_ss[rows] / target[rows] * (1.0 + 1e-9) + 1e-300, rows)
    roots, success = solve_decreasing(f, np.zeros(rows.size), hi, rows)
    out[rows] = roots
    ok[rows] = success
    return out, ok


def _fisher_scoring(
    method: str, y: Array, v: Array, X: Array, mask: Mask, k: Array, p: int, start: Array, tol: float, maxiter: int
) -> tuple[Array, npt.NDArray[np.bool_]]:
    """Fisher scoring with the pooling engine's safeguards (:func:`alsmeta.engine.estimators.fisher_scoring`)."""
    scale = k / np.where(mask, 1.0 / v, 0.0).sum(axis=1)  # harmonic mean: not inflated by a huge variance

    def score(yy: Array, vv: Array, xx: Array, mm: Mask, kk: Array, t: Array) -> tuple[Array, Array]:
        return _score(method, yy, vv, xx, mm, t, kk, p)

    tau2, conv, _ = fisher_scoring(score, (y, v, X, mask, k), start, scale, tol, maxiter)
    return tau2, conv


def _row_score(
    method: str, y: Array, v: Array, X: Array, mask: Mask, k: Array, p: int
) -> Callable[[Array, npt.NDArray[np.intp]], Array]:
    """The ML/REML score of rows ``r`` at ``x``, as a function of ``(x, r)``."""

    def score(x: Array, r: npt.NDArray[np.intp]) -> Array:
        return _score(method, y[r], v[r], X[r], mask[r], x, k[r], p)[0]

    return score


def _escape_boundary(
    method: str,
    y: Array,
    v: Array,
    X: Array,
    mask: Mask,
    k: Array,
    p: int,
    tau2: Array,
    tol: float,
    resid_ss: Array,
) -> tuple[Array, npt.NDArray[np.bool_]]:
    """Report a higher interior ML/REML maximum where scoring stopped at 0 (flagged ``multimodal``).

    :func:`alsmeta.engine.boundary.escape_boundary` on rows of the batch, scanning the score at
    every grid point.
    """
    reml = method == "REML"

    def top(rows: npt.NDArray[np.intp]) -> Array:
        vmax = np.where(mask[rows], v[rows], 0.0).max(axis=1)
        return 10.0 * np.maximum(resid_ss[rows] / np.maximum(k[rows] - p, 1), vmax)

    def loglik(x: Array, r: npt.NDArray[np.intp]) -> Array:
        return _log_lik(y[r], v[r], X[r], mask[r], x, reml)

    return escape_boundary(_row_score(method, y, v, X, mask, k, p), loglik, tau2, top, tol)


def _tau2_likelihood(
    method: str,
    y: Array,
    v: Array,
    X: Array,
    mask: Mask,
    k: Array,
    p: int,
    start: Array,
    resid_ss: Array,
    tol: float,
    maxiter: int,
) -> tuple[Array, Array, Array, Array, Array]:
    """ML, REML or EB tau^2 by Fisher scoring from ``start``, with metafor's safeguards.

    Rows where scoring fails fall back to a bracketing root finder; ML and
    REML estimates whose likelihood is below that at tau^2 = 0 are reset to
    0, then checked for a higher maximum away from the boundary. Returns
    ``tau2``, ``converged``, ``fallback``, ``boundary_reset``, ``multimodal``.
    """
    n = y.shape[0]
    conv = np.ones(n, dtype=bool)
    fallback = np.zeros(n, dtype=bool)
    reset = np.zeros(n, dtype=bool)
    multimodal = np.zeros(n, dtype=bool)
    tau2, ok = _fisher_scoring(method, y, v, X, mask, k, p, start, tol, maxiter)
    failed = np.flatnonzero(~ok)
    if failed.size:
        fallback[failed] = True
        if method == "EB":
            roots, good = _solve_q(y[failed], v[failed], X[failed], mask[failed], k[failed] - p, resid_ss[failed])
        else:
            scale = resid_ss / np.maximum(k - p, 1)
            roots, good = score_root(_row_score(method, y, v, X, mask, k, p), failed, scale)
        tau2[failed] = roots
        conv[failed] = good
    if method in ("ML", "REML"):
        reml = method == "REML"
        ll_hat = _log_lik(y, v, X, mask, tau2, reml)
        ll_zero = _log_lik(y, v, X, mask, np.zeros(n), reml)
        scale = k / np.where(mask, 1.0 / v, 0.0).sum(axis=1)  # harmonic mean: not inflated by a huge variance
        bad = (ll_zero - ll_hat > tol) & (tau2 > tol * scale)
        reset[bad] = True
        tau2 = np.where(bad, 0.0, tau2)
        tau2, multimodal = _escape_boundary(method, y, v, X, mask, k, p, tau2, tol, resid_ss)
    return tau2, conv, fallback, reset, multimodal


def _likelihood_tau2_se(method: str, v: Array, X: Array, mask: Mask, k: Array, p: int, tau2: Array) -> Array:
    """SE of the ML, REML or EB tau^2, by metafor's formulas."""
    w = np.where(mask, 1.0 / (v + tau2[:, None]), 0.0)
    if method == "ML":
        return np.sqrt(2.0 / (w * w).sum(axis=1))
    if method == "REML":
        P, _ = _p_matrix(1.0 / (v + tau2[:, None]), X, mask)
        return np.sqrt(2.0 / np.einsum("bij,bij->b", P, P))
    return np.sqrt(2.0 * k * k / (k - p)) / w.sum(axis=1)


def estimate_tau2_regression(
    y: Array,
    v: Array,
    X: Array,
    mask: Mask,
    method: str,
    *,
    tau2_fixed: float | None = None,
    tol: float = 1e-12,
    maxiter: int = 100,
    weights: Array | None = None,
) -> dict[str, Array]:
    """tau^2 (and its SE) of the meta-regression on each row; rows must satisfy ``k > p``.

    ``y`` should be centred (metafor uses the centred effects in its
    estimating equations; with an intercept in ``X`` this changes nothing).
    ``weights`` (``(B, k)``, 0 outside the mask) are the user weights that
    ``method="GENQ"`` needs (:func:`alsmeta.engine.weighted.genq_tau2_many`);
    the other estimators ignore them, as metafor.
    Returns a dict with ``tau2``, ``tau2_se``, ``converged``, ``fallback``,
    ``boundary_reset`` and ``multimodal``.
    """
    n, _, p = X.shape
    k = mask.sum(axis=1).astype(float)
    conv = np.ones(n, dtype=bool)
    fallback = np.zeros(n, dtype=bool)
    reset = np.zeros(n, dtype=bool)
    multimodal = np.zeros(n, dtype=bool)
    fixed = tau2_fixed is not None
    fixed_value = np.full(n, float(tau2_fixed) if tau2_fixed is not None else 0.0)
    he_raw, P0, tr_pv = _he(y, v, X, mask, k, p)
    resid_ss = _qform(P0, y)
    if method == "CE":
        return {
            "tau2": np.zeros(n),
            "tau2_se": np.full(n, np.nan),
            "converged": conv,
            "fallback": fallback,
            "boundary_reset": reset,
            "multimodal": multimodal,
        }
    if method in ("DL", "HS", "HSk"):
        P, wm = _p_matrix(1.0 / v, X, mask)
        rss = _qform(P, y)
        sw = wm.sum(axis=1)
        if method == "DL":
            tr_p = _trace(P)
            raw, scale = (rss - (k - p)) / tr_p, 1.0 / tr_p
        elif method == "HS":
            raw, scale = (rss - k) / sw, 1.0 / sw
        else:
            raw, scale = (k / (k - p) * rss - k) / sw, k / (k - p) / sw
        tau2 = fixed_value if fixed else np.maximum(raw, 0.0)
        t = np.maximum(tau2, 0.0)
        se = scale * np.sqrt(2 * (k - p) + 4 * t * _trace(P) + 2 * t * t * np.einsum("bij,bij->b", P, P))
    elif method == "HE":
        tau2 = fixed_value if fixed else np.maximum(he_raw, 0.0)
        se = _se_qform(P0, v, mask, tau2, 1.0 / (k - p))
    elif method == "SJ":
        yc = y - (np.where(mask, y, 0.0).sum(axis=1) / k)[:, None]
        tau0 = np.where(mask, yc * yc, 0.0).sum(axis=1) / k
        P, _ = _p_matrix(1.0 / (v + tau0[:, None]), X, mask)
        tau2 = fixed_value if fixed else np.maximum(tau0 * _qform(P, y) / (k - p), 0.0)
        se = _se_qform(P, v, mask, tau2, tau0 / (k - p))
    elif method in ("PM", "PMM"):
        target = (k - p) if method == "PM" else stats.chi2.ppf(0.5, k - p)
        if fixed:
            tau2 = fixed_value
        else:
            tau2, conv = _solve_q(y, v, X, mask, np.asarray(target, dtype=float), resid_ss)
        se = np.sqrt(2.0 * k * k / (k - p)) / np.where(mask, 1.0 / (v + tau2[:, None]), 0.0).sum(axis=1)
    elif method == "GENQ":
        if weights is None:
            raise AlsmetaInputError("weights: method='GENQ' needs weights= (the generalised Q estimator uses them)")
        tau2, se = genq_tau2_many(y, v, X, np.where(mask, weights, 0.0), tau2_fixed)
    elif method in ("ML", "REML", "EB"):
        if fixed:
            tau2 = fixed_value
        else:
            tau2, conv, fallback, reset, multimodal = _tau2_likelihood(
                method, y, v, X, mask, k, p, np.maximum(he_raw, 0.0), resid_ss, tol, maxiter
            )
        se = _likelihood_tau2_se(method, v, X, mask, k, p, tau2)
    else:  # pragma: no cover - canonical_method guards this
        raise AlsmetaInputError(f"method: {method!r} is not available for meta-regression")
    return {
        "tau2": tau2,
        "tau2_se": se,
        "converged": conv,
        "fallback": fallback,
        "boundary_reset": reset,
        "multimodal": multimodal,
    }


# --------------------------------------------------------------------- tests of the coefficients
_EPS = float(np.finfo(float).eps)


def _rss_rounding(w: Array, y: Array, k: Array) -> Array:
    """Size of a weighted residual sum of squares made of rounding alone: ``(16 k eps)^2 sum w y^2``.

    Residuals of an exact fit are rounding errors of about ``eps |y|``; their
    weighted sum of squares grows with ``sum w y^2`` (effects far from 0 in
    standard errors), so metafor's absolute threshold ``eps`` alone can miss
    an exact fit. ``w`` is 0 outside the mask.
    """
    return (16.0 * k * _EPS) ** 2 * (w * y * y).sum(axis=1)


def knha_factor(rss: Array, rss_rounding: Array, df: Array, *, adhoc: bool) -> Array:
    """Knapp-Hartung factor ``s2w = RSS / (k - p)`` (Knapp & Hartung 2003), as metafor's ``rma.uni``.

    ``s2w = 0`` where the weighted residual sum of squares is at most
    ``eps`` (metafor's rule) or at most ``rss_rounding`` (an exact fit up to
    rounding): the test is then degenerate. The ad hoc variant never goes
    below 1 (Knapp & Hartung 2003; Roever et al. 2015), so it is never
    narrower than the z-test's standard error.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        s2w = np.where((rss <= _EPS) | (rss <= rss_rounding), 0.0, rss / df)
    return np.maximum(s2w, 1.0) if adhoc else s2w


def _wald_statistic(beta: Array, se: Array, hat: Array, y: Array, k: Array, degenerate: npt.NDArray[np.bool_]) -> Array:
    """``beta / se``; NaN (0/0) for a coefficient that is 0 up to rounding in a degenerate Knapp-Hartung fit.

    With ``se = 0`` metafor returns ``beta / 0``: +-Inf (p = 0) even when
    ``beta`` is only the rounding error of a true 0 (e.g. the slope of
    identical effects). A coefficient no larger than the rounding bound of
    ``beta = hat y``, ``16 k eps sum |hat_ji y_i|``, is taken as 0, so its
    statistic is 0/0.
    """
    stat = beta / se
    if degenerate.any():
        bound = 16.0 * k[:, None] * _EPS * np.abs(hat * y[:, None, :]).sum(axis=2)
        zero = degenerate[:, None] & (np.abs(beta) <= bound)
        stat = np.where(zero, np.nan, stat)
    return np.asarray(stat, dtype=np.float64)


def _omnibus_wald(b: Array, inv: Array, s2w: Array) -> Array:
    """Wald statistic ``b' (s2w inv)^-1 b`` of the tested coefficients; NaN where ``s2w = 0`` (metafor: NA).

    ``inv`` is the unscaled ``[(X'WX)^-1]`` block, invertible for a design
    of full rank, so no row of a batch can make the inversion fail for the others.
    """
    try:
        q = np.einsum("bi,bij,bj->b", b, np.linalg.inv(inv), b)
    except np.linalg.LinAlgError:  # numerically singular block: that row alone gets NaN
        q = np.array([_one_wald(bi, ai) for bi, ai in zip(b, inv, strict=True)])
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(s2w > 0, q / s2w, np.nan)


def _one_wald(b: Array, inv: Array) -> float:
    try:
        return float(b @ np.linalg.solve(inv, b))
    except np.linalg.LinAlgError:
        return float("nan")


# --------------------------------------------------------------------- the model
def _design(X: object, B: int, k: int) -> Array:
    try:
        x = np.asarray(X, dtype=float)
    except (TypeError, ValueError) as exc:
        raise AlsmetaInputError(f"X: could not convert the design matrix to numbers ({exc})") from None
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim == 2:
        if x.shape[0] != k:
            raise AlsmetaInputError(f"X: design has {x.shape[0]} rows for {k} studies")
        x = np.broadcast_to(x, (B, k, x.shape[1]))
    if x.ndim != 3 or x.shape[:2] != (B, k):
        raise AlsmetaInputError(f"X: expected shape ({k}, p) or ({B}, {k}, p), got {x.shape}")
    return x


def fit_regression_many(
    Y: object,
    V: object,
    X: object,
    mask: object = None,
    method: str = "REML",
    test: str = "z",
    level: float = 0.95,
    *,
    btt: tuple[int, ...] | None = None,
    tau2: float | None = None,
    tol: float = 1e-12,
    maxiter: int = 100,
    chunk_size: int = 4096,
    weights: object = None,
) -> RegressionBatch:
    """Fit ``B`` mixed-effects meta-regressions at once.

    Parameters
    ----------
    Y, V
        Effects and sampling variances, shape ``(B, k)`` (1-d: one model).
    X
        Design matrix ``(k, p)`` shared by all models, or ``(B, k, p)``.
        Include the intercept column yourself (a column of ones).
    mask
        Boolean ``(B, k)``; True marks the studies in use.
    method, test, level
        As :func:`alsmeta.pool` (``test``: ``"z"``, ``"t"``, ``"knha"``, ``"adhoc"``).
    btt
        Coefficients tested jointly by ``QM`` (0-based). Default: all but an
        intercept column (metafor's default), or all if there is none.
    tau2
        Fix tau^2 instead of estimating it.
    weights
        User weights ``(k,)`` or ``(B, k)``, finite and >= 0, as metafor's
        ``rma(weights=)``: the coefficients are ``(X'AX)^-1 X'A y`` with the
        sandwich covariance of :mod:`alsmeta.engine.weighted` (times the
        Knapp-Hartung factor, computed with the inverse-variance weights);
        tau^2, ``QE``, I^2 and H^2 are those of the unweighted model except
        for ``method="GENQ"`` (which needs the weights). A model whose
        design is not of full rank on its studies with positive weight is
        not usable.

    Returns
    -------
    RegressionBatch
    """
    method = "GENQ" if str(method).upper() == "GENQ" else canonical_method(method)
    if method not in REGRESSION_METHODS + WEIGHTED_METHODS:
        raise AlsmetaInputError(f"method: {method!r} is not available for meta-regression")
    if method in WEIGHTED_METHODS and weights is None:
        raise AlsmetaInputError(f"weights: method={method!r} needs weights= (the generalised Q estimator uses them)")
    test = canonical_test(test)
    level = probability_level(level)
    y = np.asarray(Y, dtype=float)
    v = np.asarray(V, dtype=float)
    if y.ndim == 1:
        y, v = y[None, :], v[None, :]
    if y.shape != v.shape or y.ndim != 2:
        raise AlsmetaInputError(f"Y and V must be 2-d arrays of the same shape; got {y.shape} and {v.shape}")
    B, k = y.shape
    x = _design(X, B, k)
    p = x.shape[2]
    m = np.ones((B, k), dtype=bool) if mask is None else np.asarray(mask, dtype=bool).reshape(B, k)
    bad = m & (~np.isfinite(y) | ~np.isfinite(v) | (v <= 0) | ~np.isfinite(x).all(axis=2))
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise AlsmetaInputError(
            f"row {r}, study column {c}: effect, variance or moderator is not finite (or variance <= 0)"
        )
    a = None if weights is None else _user_weights(weights, B, k, m)
    ones = np.all(x == 1.0, axis=(0, 1))
    if btt is None:
        btt = tuple(j for j in range(p) if not ones[j]) or tuple(range(p))
    btt = tuple(int(j) for j in btt)
    if any(j < 0 or j >= p for j in btt):
        raise AlsmetaInputError(f"btt: coefficient indices must lie in 0..{p - 1}, got {btt}")
    if tau2 is not None:
        tau2 = nonnegative_number(tau2, "tau2")
    tol = positive_number(tol, "tol")
    maxiter = whole_number(maxiter, "maxiter")
    chunk_size = whole_number(chunk_size, "chunk_size")
    # working scale (as the intercept-only engine): y / s, v / s^2 with one power of two s for the batch
    e = int(scale_exponent(np.array([[v[m].min()], [v[m].max()]]))[0]) if m.any() else 0
    y = np.where(m, np.ldexp(y, -e), 0.0)
    v = np.where(m, np.ldexp(v, -2 * e), 1.0)
    tau2_s = None if tau2 is None else float(np.ldexp(tau2, -2 * e))
    xs, T = _standardise(x, ones)
    parts = [
        _fit_chunk(
            y[s],
            v[s],
            np.ascontiguousarray(xs[s]),
            T,
            m[s],
            method,
            test,
            level,
            btt,
            tau2_s,
            tol,
            maxiter,
            None if a is None else a[s],
        )
        for s in (slice(i, i + chunk_size) for i in range(0, B, chunk_size))
    ]
    arrays = {name: np.concatenate([pt[name] for pt in parts]) for name in parts[0]}
    if e:
        _scale_back(arrays, e, p)
    return RegressionBatch(method=method, test=test, level=level, btt=btt, p=p, **arrays)


def _user_weights(weights: object, B: int, k: int, mask: Mask) -> Array:
    """User weights as a ``(B, k)`` array, 0 outside the mask; finite and >= 0 on the studies in use."""
    try:
        a = np.asarray(weights, dtype=float)
    except (TypeError, ValueError) as exc:
        raise AlsmetaInputError(f"weights: could not convert to numbers ({exc})") from None
    given = a.shape
    if a.ndim == 1:
        a = a[None, :]
    if a.ndim != 2 or a.shape[1] != k or a.shape[0] not in (1, B):
        raise AlsmetaInputError(f"weights: expected shape ({k},) or ({B}, {k}), got {given}")
    a = np.broadcast_to(a, (B, k))
    bad = mask & ~(np.isfinite(a) & (a >= 0))
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise AlsmetaInputError(f"weights: row {r}, study column {c}: weight {a[r, c]!r} is not finite and >= 0")
    return np.where(mask, a, 0.0)


def _scale_back(arrays: dict[str, np.ndarray], e: int, p: int) -> None:
    """Results on the original scale from those on the working scale ``s = 2^e`` (exact: powers of two)."""
    for name in ("coef", "se", "ci_low", "ci_high"):
        arrays[name] = np.ldexp(arrays[name], e)
    for name in ("vcov", "tau2", "tau2_se"):
        arrays[name] = np.ldexp(arrays[name], 2 * e)
    # log-likelihoods: log det(V + tau2) gains k log s^2; REML's log det(X'WX) loses p log s^2
    k = arrays["k"].astype(float)
    arrays["ll_ml"] = arrays["ll_ml"] - k * e * np.log(2.0)
    arrays["ll_reml"] = arrays["ll_reml"] - (k - p) * e * np.log(2.0)


def _standardise(x: Array, ones: npt.NDArray[np.bool_]) -> tuple[Array, Array]:
    """Reparametrise ``X -> Xs`` (centred and scaled columns) for numerical stability.

    A moderator such as the publication year (values near 2000, spread of a
    few years) makes ``X'WX`` ill-conditioned, and forming ``P`` then loses
    about seven digits. The projection ``P``, the fitted values and tau^2 do
    not depend on the parametrisation of the column space, so the fit uses
    ``Xs`` and the coefficients are transformed back: ``beta = T beta_s``,
    ``vb = T vb_s T'``. Columns are centred only when the design has an
    intercept column (otherwise centring would change the model).
    """
    p = x.shape[2]
    flat = x.reshape(-1, p)
    has_int = bool(ones.any())
    centre = np.where(ones | (not has_int), 0.0, flat.mean(axis=0))
    spread = np.sqrt(((flat - centre) ** 2).mean(axis=0))
    scale = np.where(ones | (spread == 0) | ~np.isfinite(spread), 1.0, spread)
    xs = (x - centre) / scale
    T = np.diag(1.0 / scale)
    if has_int:
        j0 = int(np.flatnonzero(ones)[0])
        T[j0, :] -= centre / scale
        T[j0, j0] = 1.0
    return xs, T


def _fit_chunk(
    y: Array,
    v: Array,
    X: Array,
    T: Array,
    mask: Mask,
    method: str,
    test: str,
    level: float,
    btt: tuple[int, ...],
    tau2_fixed: float | None,
    tol: float,
    maxiter: int,
    weights: Array | None = None,
) -> dict[str, np.ndarray]:
    n, k_all, p = X.shape
    k = mask.sum(axis=1)
    kf = k.astype(float)
    nan = np.full(n, np.nan)
    out: dict[str, np.ndarray] = {
        "k": k.astype(np.int64),
        **{name: np.full((n, p), np.nan) for name in ("coef", "se", "statistic", "pvalue", "ci_low", "ci_high")},
        "vcov": np.full((n, p, p), np.nan),
        **{
            name: nan.copy()
            for name in (
                "df",
                "tau2",
                "tau2_se",
                "s2w",
                "qm",
                "qm_df",
                "qm_df2",
                "qm_pvalue",
                "qe",
                "qe_df",
                "qe_pvalue",
                "i2",
                "h2",
                "ll_ml",
                "ll_reml",
            )
        },
        **{
            name: np.zeros(n, dtype=bool)
            for name in ("usable", "converged", "fallback", "boundary_reset", "multimodal")
        },
    }
    # full rank on the studies in use, and enough studies for the parameters
    xm = X * mask[:, :, None]
    rank = np.linalg.matrix_rank(xm) if n else np.zeros(0, dtype=int)
    need = p if (method == "CE" or tau2_fixed is not None) else p + 1
    usable = (rank == p) & (k >= need)
    if weights is not None and n:
        # X'AX must be invertible (full rank on the studies with positive weight); GENQ's tr(P) > 0 needs
        # more such studies than coefficients
        positive = weights > 0
        usable &= np.linalg.matrix_rank(X * positive[:, :, None]) == p
        if method == "GENQ" and tau2_fixed is None:
            usable &= positive.sum(axis=1) > p
    rows = np.flatnonzero(usable)
    out["usable"] = usable
    if rows.size == 0:
        return out
    yr, vr, Xr, mr, kr = y[rows], v[rows], X[rows], mask[rows], kf[rows]
    yc = yr - (np.where(mr, yr, 0.0).sum(axis=1) / kr)[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):  # k = p (common effect): moment terms are 0/0, unused
        est = estimate_tau2_regression(
            yc,
            vr,
            Xr,
            mr,
            method,
            tau2_fixed=tau2_fixed,
            tol=tol,
            maxiter=maxiter,
            weights=None if weights is None else weights[rows],
        )
    t2 = est["tau2"]
    # coefficients
    w = 1.0 / (vr + t2[:, None])
    wm, xtw, inv = _wls_parts(w, Xr, mr)
    beta_s = (inv @ (xtw @ yr[:, :, None]))[:, :, 0]
    res = yr - np.einsum("bkp,bp->bk", Xr, beta_s)
    rss = (wm * res * res).sum(axis=1)
    rss_fit = rss  # the residual sum of squares of the log-likelihoods: at the reported coefficients
    if weights is not None:
        # user weights (metafor's rma(weights=)): their coefficients and sandwich covariance; the
        # Knapp-Hartung factor below still comes from the inverse-variance fit (rss), as metafor
        beta_s, inv = weighted_fit_many(yr, vr, Xr, weights[rows], t2)
        res = yr - np.einsum("bkp,bp->bk", Xr, beta_s)
        rss_fit = (wm * res * res).sum(axis=1)
    beta = beta_s @ T.T
    s2w = np.ones(rows.size)
    if test in ("knha", "adhoc"):
        s2w = knha_factor(rss, _rss_rounding(wm, yr, kr), kr - p, adhoc=test == "adhoc")
    degenerate = s2w == 0.0
    # (X'WX)^-1 of the original parametrisation; beta = hat y
    hat = T @ inv @ xtw
    inv = T @ inv @ T.T
    vb = inv * s2w[:, None, None]
    se = np.sqrt(np.diagonal(vb, axis1=1, axis2=2))
    t_based = test in ("t", "knha", "adhoc")
    ddf = kr - p
    alpha = 1.0 - level
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = _wald_statistic(beta, se, hat, yr, kr, degenerate)
        if t_based:
            dfr = np.where(ddf > 0, ddf, np.nan)
            pval = 2.0 * stats.t.sf(np.abs(stat), dfr[:, None])
            crit = stats.t.isf(alpha / 2, dfr)[:, None]
        else:
            pval = 2.0 * stats.norm.sf(np.abs(stat))
            crit = np.full((rows.size, 1), stats.norm.isf(alpha / 2))
        bt = list(btt)
        qm = _omnibus_wald(beta[:, bt], inv[:, bt][:, :, bt], s2w)
        mdf = float(len(bt))
        if t_based:
            qm = qm / mdf
            qm_p = np.where(ddf > 0, stats.f.sf(qm, mdf, np.where(ddf > 0, ddf, 1.0)), np.nan)
            qm_df2 = ddf
        else:
            qm_p = stats.chi2.sf(qm, mdf)
            qm_df2 = np.full(rows.size, np.nan)
    # residual heterogeneity (w = 1/v)
    P_fe, _ = _p_matrix(1.0 / vr, Xr, mr)
    more = kr > p
    with np.errstate(divide="ignore", invalid="ignore"):
        qe = np.where(more, np.maximum(0.0, _qform(P_fe, yc)), 0.0)
        qe_p = np.where(more, stats.chi2.sf(qe, np.maximum(kr - p, 1)), 1.0)
        vt = (kr - p) / _trace(P_fe)
        if method == "CE":
            i2 = np.maximum(0.0, 100.0 * (qe - (kr - p)) / qe)
            h2 = qe / (kr - p)
            i2 = np.where(qe == 0, 0.0, i2)
        else:
            i2 = 100.0 * t2 / (vt + t2)
            h2 = t2 / vt + 1.0
    i2 = np.where(more, i2, 0.0)
    h2 = np.where(more, h2, 1.0)
    logdet = np.where(mr, np.log(vr + t2[:, None]), 0.0).sum(axis=1)
    ll_ml = -0.5 * kr * np.log(2 * np.pi) - 0.5 * logdet - 0.5 * rss_fit
    xtx = np.swapaxes(Xr * mr[:, :, None], 1, 2) @ Xr
    ll_reml = (
        -0.5 * (kr - p) * np.log(2 * np.pi)
        + 0.5 * np.linalg.slogdet(xtx)[1]
        - 0.5 * logdet
        - 0.5 * np.linalg.slogdet(xtw @ Xr)[1]
        - 0.5 * rss_fit
    )
    put = {
        "coef": beta,
        "se": se,
        "statistic": stat,
        "pvalue": pval,
        "ci_low": beta - crit * se,
        "ci_high": beta + crit * se,
        "vcov": vb,
        "df": np.where(t_based, ddf, np.nan),
        "tau2": t2,
        "tau2_se": est["tau2_se"],
        "s2w": s2w,
        "qm": qm,
        "qm_df": np.full(rows.size, mdf),
        "qm_df2": qm_df2,
        "qm_pvalue": qm_p,
        "qe": qe,
        "qe_df": kr - p,
        "qe_pvalue": qe_p,
        "i2": i2,
        "h2": h2,
        "ll_ml": ll_ml,
        "ll_reml": ll_reml,
        "converged": est["converged"],
        "fallback": est["fallback"],
        "boundary_reset": est["boundary_reset"],
        "multimodal": est["multimodal"],
    }
    for name, val in put.items():
        out[name][rows] = val
    return out
