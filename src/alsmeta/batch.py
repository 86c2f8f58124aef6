"""Many meta-analyses at once: the batched pooling engine.

:func:`pool_many` fits ``B`` intercept-only meta-analyses given as ``(B, k)``
arrays with a mask, in chunks so that memory stays bounded. It is the only
implementation of pooling in alsmeta: :func:`alsmeta.pool` is a validated
one-row call of the same code, so a single fit and a million fits give
identical numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

from alsmeta._rowmath import rsum, weighted_mean
from alsmeta.estimators import canonical_method, estimate_tau2
from alsmeta.heterogeneity import heterogeneity, q_profile_ci
from alsmeta.validation import AlsmetaInputError, probability_level

Array = npt.NDArray[np.float64]
Mask = npt.NDArray[np.bool_]

TESTS: tuple[str, ...] = ("z", "t", "knha", "adhoc")
_TEST_ALIASES = {"hksj": "knha", "hk": "knha"}


def canonical_test(test: str) -> str:
    """Return the canonical test name (``"hksj"`` -> ``"knha"``)."""
    t = _TEST_ALIASES.get(str(test).lower(), str(test).lower())
    if t not in TESTS:
        raise AlsmetaInputError(f"test: unknown test {test!r}; choose one of {', '.join(TESTS)}")
    return t


@dataclass(frozen=True, eq=False)
class BatchResult:
    """Pooled results of ``B`` meta-analyses; every field is an array of length ``B``.

    Field names are those of :class:`alsmeta.PooledResult`. ``df`` is NaN for
    z-based inference. ``test_downgraded`` marks rows with one study where a
    t-based test was requested and the z test was used (as metafor does).
    ``converged`` is False where tau^2 could not be estimated; ``fallback``
    marks rows solved by the bracketing root finder after Fisher scoring
    failed; ``boundary_reset`` marks ML/REML rows reset to tau^2 = 0 because
    the likelihood there was higher than at the scoring solution;
    ``multimodal`` marks ML/REML rows where scoring stopped at tau^2 = 0 (as
    metafor does) but a higher interior maximum exists and is reported.
    """

    method: str
    test: str
    level: float
    k: npt.NDArray[np.int64]
    estimate: Array
    se: Array
    statistic: Array
    pvalue: Array
    ci_low: Array
    ci_high: Array
    df: Array
    tau2: Array
    tau2_se: Array
    tau2_ci_low: Array
    tau2_ci_high: Array
    i2: Array
    i2_ci_low: Array
    i2_ci_high: Array
    h2: Array
    h2_ci_low: Array
    h2_ci_high: Array
    q: Array
    q_df: npt.NDArray[np.int64]
    q_pvalue: Array
    pi_low: Array
    pi_high: Array
    converged: npt.NDArray[np.bool_]
    fallback: npt.NDArray[np.bool_]
    boundary_reset: npt.NDArray[np.bool_]
    multimodal: npt.NDArray[np.bool_]
    test_downgraded: npt.NDArray[np.bool_]
    iterations: npt.NDArray[np.int64]

    def __len__(self) -> int:
        return int(self.k.shape[0])

    def to_frame(self) -> pd.DataFrame:
        """One row per meta-analysis, one column per array field."""
        return pd.DataFrame({f.name: getattr(self, f.name) for f in fields(self) if f.name not in _SCALARS})


_SCALARS = ("method", "test", "level")
_ARRAY_FIELDS = tuple(f.name for f in fields(BatchResult) if f.name not in _SCALARS)


def _fit_rows(
    y: Array,
    v: Array,
    mask: Mask,
    method: str,
    test: str,
    level: float,
    tau2_fixed: float | None,
    confint: bool,
    tol: float,
    maxiter: int,
) -> dict[str, np.ndarray]:
    """Fit every row; inputs are already validated and cleaned."""
    n = y.shape[0]
    k = mask.sum(axis=1)
    common = method == "CE"
    est = estimate_tau2(y, v, mask, method, tau2_fixed=tau2_fixed, tol=tol, maxiter=maxiter)
    tau2 = np.where(common, 0.0, est.tau2)
    tau2 = np.where(k == 0, np.nan, tau2)

    w = 1.0 / (v + np.nan_to_num(tau2)[:, None])
    mu, s = weighted_mean(y, w, mask)
    with np.errstate(divide="ignore", invalid="ignore"):
        se = np.sqrt(1.0 / s)  # inf where k = 0; blanked at the end
    t_based = test in ("t", "knha", "adhoc")
    downgraded = np.full(n, t_based) & (k == 1)
    use_t = np.full(n, t_based) & (k >= 2)
    if test in ("knha", "adhoc"):
        rss = rsum(w * (y - mu[:, None]) ** 2, mask)
        with np.errstate(divide="ignore", invalid="ignore"):
            s2w = np.where(rss <= np.finfo(float).eps, 0.0, rss / (k - 1))
        if test == "adhoc":
            s2w = np.maximum(s2w, 1.0)
        with np.errstate(invalid="ignore"):
            se = np.where(use_t, se * np.sqrt(s2w), se)
    df = np.where(use_t, k - 1, np.nan).astype(float)
    alpha = 1.0 - level
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = mu / se
        crit = np.where(use_t, stats.t.isf(alpha / 2, np.where(use_t, df, 1.0)), stats.norm.isf(alpha / 2))
        pval = np.where(
            use_t,
            2.0 * stats.t.sf(np.abs(stat), np.where(use_t, df, 1.0)),
            2.0 * stats.norm.sf(np.abs(stat)),
        )
        # no prediction interval under the common-effect assumption (as metafor's predict())
        pi_half = np.where(common, np.nan, crit * np.sqrt(se**2 + tau2))
    het = heterogeneity(y, v, mask, tau2, common)
    nan = np.full(n, np.nan)
    # a user-fixed tau2 has no interval (as metafor's confint())
    if confint and not common and tau2_fixed is None:
        qp = q_profile_ci(y, v, mask, het.typical_v, level)
        ci_parts = (qp.tau2_low, qp.tau2_high, qp.i2_low, qp.i2_high, qp.h2_low, qp.h2_high)
    else:
        ci_parts = (nan,) * 6
    tau2_se = np.where(common, np.nan, est.tau2_se)
    out = {
        "k": k.astype(np.int64),
        "estimate": mu,
        "se": se,
        "statistic": stat,
        "pvalue": pval,
        "ci_low": mu - crit * se,
        "ci_high": mu + crit * se,
        "df": df,
        "tau2": tau2,
        "tau2_se": tau2_se,
        "tau2_ci_low": ci_parts[0],
        "tau2_ci_high": ci_parts[1],
        "i2": het.i2,
        "i2_ci_low": ci_parts[2],
        "i2_ci_high": ci_parts[3],
        "h2": het.h2,
        "h2_ci_low": ci_parts[4],
        "h2_ci_high": ci_parts[5],
        "q": het.q,
        "q_df": het.q_df,
        "q_pvalue": het.q_pvalue,
        "pi_low": mu - pi_half,
        "pi_high": mu + pi_half,
        "converged": est.converged & (k > 0),
        "fallback": est.fallback,
        "boundary_reset": est.boundary_reset,
        "multimodal": est.multimodal,
        "test_downgraded": downgraded,
        "iterations": est.iterations,
    }
    empty = k == 0  # no study: every statistic is undefined
    for value in out.values():
        if value.dtype.kind == "f":
            value[empty] = np.nan
    return out


def _check_batch(Y: object, V: object, mask: object) -> tuple[Array, Array, Mask]:
    """Validate ``(B, k)`` inputs; errors name the row and the study column."""
    try:
        y = np.asarray(Y, dtype=float)
        v = np.asarray(V, dtype=float)
    except (TypeError, ValueError) as exc:
        raise AlsmetaInputError(f"Y/V: could not convert to numeric arrays ({exc})") from None
    if y.ndim == 1:
        y, v = y[None, :], v[None, :] if v.ndim == 1 else v
    if y.ndim != 2 or y.shape != v.shape:
        raise AlsmetaInputError(f"Y and V must be 2-d arrays of the same shape; got {y.shape} and {v.shape}")
    if mask is None:
        m = np.ones(y.shape, dtype=bool)
    else:
        m = np.asarray(mask)
        if m.dtype != bool:
            raise AlsmetaInputError("mask: must be a boolean array (True = study in use)")
        if m.ndim == 1:
            m = m[None, :]
        if m.shape != y.shape:
            raise AlsmetaInputError(f"mask: shape {m.shape} differs from Y/V shape {y.shape}")
    for name, arr, bad in (
        ("Y", y, ~np.isfinite(y)),
        ("V", v, ~np.isfinite(v) | (v <= 0)),
    ):
        hit = np.argwhere(bad & m)
        if hit.size:
            r, c = hit[0]
            what = "not finite" if name == "Y" else "not a finite positive variance"
            raise AlsmetaInputError(
                f"{name}: row {r}, study column {c} is {what} ({arr[r, c]!r}); "
                f"{len(hit)} such entries in use"
            )
    return np.where(m, y, 0.0), np.where(m, v, 1.0), m


def pool_many(
    Y: object,
    V: object,
    mask: object = None,
    method: str = "REML",
    test: str = "z",
    level: float = 0.95,
    *,
    tau2: float | None = None,
    confint: bool = True,
    chunk_size: int = 65536,
    tol: float = 1e-12,
    maxiter: int = 100,
) -> BatchResult:
    """Fit ``B`` random-effects (or common-effect) meta-analyses at once.

    Parameters
    ----------
    Y, V
        Effect sizes and sampling variances, shape ``(B, k)`` (a 1-d input is
        one meta-analysis). Entries outside ``mask`` are ignored and may be
        NaN.
    mask
        Boolean ``(B, k)``; True marks the studies in use in each row. Rows
        may use different numbers of studies, including 0 and 1.
    method
        tau^2 estimator: ``"CE"`` (alias ``"EE"``, ``"FE"``), ``"DL"``,
        ``"HE"``, ``"HS"``, ``"HSk"``, ``"SJ"``, ``"ML"``, ``"REML"``,
        ``"EB"``, ``"PM"``, ``"PMM"``.
    test
        ``"z"``, ``"t"`` (t with k - 1 df), ``"knha"`` (Hartung-Knapp-Sidik-
        Jonkman) or ``"adhoc"`` (Knapp-Hartung never narrower than z).
    level
        Confidence level (0.95 or 95).
    tau2
        Fix tau^2 at this value instead of estimating it.
    confint
        Compute Q-profile intervals for tau^2, I^2 and H^2 (skip for speed).
        Not computed when ``tau2`` is fixed (NaN), as in metafor.
    chunk_size
        Rows processed at a time; bounds memory use.
    tol, maxiter
        Fisher-scoring convergence control (see
        :func:`alsmeta.estimators.estimate_tau2`).

    Returns
    -------
    BatchResult
        Arrays of every pooled quantity, with convergence flags.

    References
    ----------
    Viechtbauer W (2010). Conducting meta-analyses in R with the metafor
    package. J Stat Softw 36(3). Hartung J, Knapp G (2001) Stat Med
    20:3875-3889. Knapp G, Hartung J (2003) Stat Med 22:2693-2710.
    """
    method = canonical_method(method)
    test = canonical_test(test)
    level = probability_level(level)
    if tau2 is not None:
        if method == "CE":
            raise AlsmetaInputError("tau2: cannot fix tau2 for the common-effect model (method='CE')")
        if not np.isfinite(tau2) or tau2 < 0:
            raise AlsmetaInputError(f"tau2: fixed value must be finite and >= 0, got {tau2!r}")
    if int(chunk_size) < 1:
        raise AlsmetaInputError("chunk_size: must be a positive integer")
    y, v, m = _check_batch(Y, V, mask)
    parts = []
    for start in range(0, y.shape[0], int(chunk_size)):
        sl = slice(start, start + int(chunk_size))
        parts.append(_fit_rows(y[sl], v[sl], m[sl], method, test, level, tau2, confint, tol, maxiter))
    if not parts:
        parts.append(_fit_rows(y, v, m, method, test, level, tau2, confint, tol, maxiter))
    arrays = {name: np.concatenate([p[name] for p in parts]) for name in _ARRAY_FIELDS}
    return BatchResult(method=method, test=test, level=level, **arrays)
