"""Many meta-analyses at once: the batched pooling engine.

:func:`pool_many` fits ``B`` intercept-only meta-analyses given as ``(B, k)``
arrays with a mask. It is the only implementation of pooling in alsmeta:
:func:`alsmeta.pool` is a validated one-row call of the same code.

How it works: the rows are processed in chunks (bounding memory; progress
is reported and Ctrl-C honoured between chunks); within a chunk, rows are
grouped by their number of studies ``c`` and each group is fitted as dense
transposed ``(c, n)`` arrays of the studies in use, in cache-sized blocks
(:mod:`alsmeta.engine.rowmath`). Every sum is taken in the order numpy uses for
one meta-analysis, so each row of a batch reproduces :func:`alsmeta.pool` on
that row's studies bit for bit, whatever the padding, mask or chunking.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import numpy as np
import numpy.typing as npt

from alsmeta.campaign import (
    CampaignOptions,
    Chunk,
    ResultArrays,
    campaign_options,
    chunks_of,
    completed_prefix,
    fingerprint,
    run_campaign,
)
from alsmeta.engine.distributions import norm_isf, norm_sf, t_isf, t_sf
from alsmeta.engine.estimators import Rows, canonical_method, estimate_dense, standardise
from alsmeta.engine.heterogeneity import heterogeneity, q_profile_ci
from alsmeta.engine.rowmath import count_groups, dense, psum, weighted_mean_dense
from alsmeta.progress import ProgressArg
from alsmeta.results import ResultMixin
from alsmeta.validation import (
    AlsmetaInputError,
    AlsmetaWarning,
    flag,
    nonnegative_number,
    out_of_range,
    positive_number,
    probability_level,
    whole_number,
)

if TYPE_CHECKING:
    import pandas as pd

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
class BatchResult(ResultMixin):
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

    ``interrupted`` is True when the run was stopped (Ctrl-C) before the end;
    then only the first ``completed_rows`` rows were fitted, and every later
    row has NaN in its float fields, False in its flags (``converged``
    included) and 0 in its integer fields (``k``, ``q_df``, ``iterations``).
    :meth:`completed` returns the fitted rows only.
    """

    _per_row: ClassVar[bool] = True

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
    interrupted: bool = False
    completed_rows: int = -1

    def __post_init__(self) -> None:
        if self.completed_rows < 0:
            object.__setattr__(self, "completed_rows", len(self))

    def __len__(self) -> int:
        return int(self.k.shape[0])

    def completed(self) -> BatchResult:
        """The rows fitted before an interruption (all rows when not interrupted)."""
        n = self.completed_rows
        if n == len(self):
            return self
        arrays = {name: getattr(self, name)[:n] for name in _ARRAY_FIELDS}
        return BatchResult(
            method=self.method, test=self.test, level=self.level, interrupted=True, completed_rows=n, **arrays
        )

    def to_frame(self) -> pd.DataFrame:
        """One row per meta-analysis, one column per array field."""
        import pandas as pd  # imported on use: a fit does not need pandas

        return pd.DataFrame({f.name: getattr(self, f.name) for f in fields(self) if f.name not in _SCALARS})


_SCALARS = ("method", "test", "level", "interrupted", "completed_rows")
_ARRAY_FIELDS = tuple(f.name for f in fields(BatchResult) if f.name not in _SCALARS)


_INT_FIELDS = ("k", "q_df", "iterations")
_BOOL_FIELDS = ("converged", "fallback", "boundary_reset", "multimodal", "test_downgraded")
_BLOCK_ELEMENTS = 1 << 21  # studies per block (a whole chunk for typical k)


def _dtype(name: str) -> type:
    return np.int64 if name in _INT_FIELDS else (bool if name in _BOOL_FIELDS else float)


@dataclass(frozen=True)
class FitSpec:
    """The model fitted to every row of a batch (validated by :func:`fit_spec`)."""

    method: str
    test: str
    level: float
    tau2: float | None
    confint: bool
    tol: float
    maxiter: int


def fit_spec(
    method: str, test: str, level: float, tau2: float | None, confint: bool, tol: float, maxiter: int
) -> FitSpec:
    """Validate and canonicalise a model specification."""
    method = canonical_method(method)
    test = canonical_test(test)
    level = probability_level(level)
    if tau2 is not None:
        tau2 = nonnegative_number(tau2, "tau2")
        if method == "CE":
            raise AlsmetaInputError("tau2: cannot fix tau2 for the common-effect model (method='CE')")
    return FitSpec(
        method,
        test,
        level,
        tau2,
        flag(confint, "confint"),
        positive_number(tol, "tol"),
        whole_number(maxiter, "maxiter"),
    )


_INFERENCE = frozenset({"statistic", "pvalue", "ci_low", "ci_high", "pi_low", "pi_high", "df"})
_QPROFILE = frozenset({"tau2_ci_low", "tau2_ci_high", "i2_ci_low", "i2_ci_high", "h2_ci_low", "h2_ci_high"})


_EFFECT_UNITS = frozenset({"estimate", "se", "ci_low", "ci_high", "pi_low", "pi_high"})
_VARIANCE_UNITS = frozenset({"tau2", "tau2_se", "tau2_ci_low", "tau2_ci_high"})
_LOCATION = frozenset({"estimate", "ci_low", "ci_high", "pi_low", "pi_high"})


def _fit_dense(r: Rows, spec: FitSpec, fields: frozenset[str] = frozenset(_ARRAY_FIELDS)) -> dict[str, np.ndarray]:
    """Fit every meta-analysis of a block (all with ``r.c`` studies) on its working scale.

    Each column is fitted as ``y / s``, ``v / s^2`` with ``s`` a power of two
    near its typical standard error (:func:`alsmeta.engine.estimators.standardise`),
    and quantities in the units of the effect (variance) are multiplied back
    by ``s`` (``s^2``). Powers of two rescale exactly, so results are
    equivariant under rescaling the data from 1e-150 to 1e150, and ordinary
    data (``s = 1``) are untouched.

    Returns at least the requested ``fields``; quantities nobody asked for
    (a GOSH run needs eight of the thirty) are not computed.
    """
    r, m, y0 = standardise(r)
    if not m.any() and not y0.any():
        return _fit_standard(r, spec, spec.tau2, fields)
    fixed = None if spec.tau2 is None else np.ldexp(float(spec.tau2), -2 * m)
    out = _fit_standard(r, spec, fixed, fields)
    for name in _EFFECT_UNITS.intersection(out):
        out[name] = np.ldexp(out[name], m)
    for name in _LOCATION.intersection(out):
        out[name] = out[name] + y0
    if y0.any() and "statistic" in out:  # the test statistic refers to 0 on the original scale
        _redo_statistic(out, r.c, spec)
    for name in _VARIANCE_UNITS.intersection(out):
        out[name] = np.ldexp(out[name], 2 * m)
    return out


def _fit_standard(
    r: Rows, spec: FitSpec, tau2_fixed: float | Array | None, fields: frozenset[str]
) -> dict[str, np.ndarray]:
    """Fit a block on the scale it is given (see :func:`_fit_dense`)."""
    method, test, level = spec.method, spec.test, spec.level
    n, k = r.n, r.c
    est = estimate_dense(r, method, tau2_fixed, spec.tol, spec.maxiter, with_se="tau2_se" in fields)
    if k == 0:  # no study: every statistic is undefined
        out = {name: np.full(n, np.nan) for name in _ARRAY_FIELDS}
        out.update({name: np.zeros(n, dtype=_dtype(name)) for name in _INT_FIELDS + _BOOL_FIELDS})
        return out
    common = method == "CE"
    tau2 = np.zeros(n) if common else est.tau2
    w = 1.0 / (r.v + np.nan_to_num(tau2)[None, :])
    mu, s = weighted_mean_dense(r.y, w)
    with np.errstate(divide="ignore", invalid="ignore"):
        se = np.sqrt(1.0 / s)
    t_based = test in ("t", "knha", "adhoc")
    use_t = t_based and k >= 2
    if use_t and test in ("knha", "adhoc"):
        rss = psum(w * (r.y - mu[None, :]) ** 2)
        s2w = np.where(rss <= np.finfo(float).eps, 0.0, rss / (k - 1))
        if test == "adhoc":
            s2w = np.maximum(s2w, 1.0)
        se = se * np.sqrt(s2w)
    het = heterogeneity(r, tau2, common, pvalue="q_pvalue" in fields)
    out = {
        "k": np.full(n, k, dtype=np.int64),
        "estimate": mu,
        "se": se,
        "tau2": tau2,
        "tau2_se": np.full(n, np.nan) if common else est.tau2_se,
        "i2": het.i2,
        "h2": het.h2,
        "q": het.q,
        "q_df": het.q_df,
        "q_pvalue": het.q_pvalue,
        "converged": est.converged,
        "fallback": est.fallback,
        "boundary_reset": est.boundary_reset,
        "multimodal": est.multimodal,
        "test_downgraded": np.full(n, t_based and k == 1),
        "iterations": est.iterations,
    }
    if not _INFERENCE.isdisjoint(fields):
        alpha = 1.0 - level
        stat, pval = _wald_test(mu, se, k, use_t)
        crit = t_isf(alpha / 2, k - 1) if use_t else norm_isf(alpha / 2)
        with np.errstate(divide="ignore", invalid="ignore"):
            # no prediction interval under the common-effect assumption (as metafor's predict())
            pi_half = np.full(n, np.nan) if common else crit * np.sqrt(se**2 + tau2)
        out.update(
            statistic=stat,
            pvalue=pval,
            ci_low=mu - crit * se,
            ci_high=mu + crit * se,
            df=np.full(n, float(k - 1) if use_t else np.nan),
            pi_low=mu - pi_half,
            pi_high=mu + pi_half,
        )
    if not _QPROFILE.isdisjoint(fields):
        # a user-fixed tau2 has no interval (as metafor's confint())
        if spec.confint and not common and tau2_fixed is None:
            qp = q_profile_ci(r, het.typical_v, level)
            ci_parts = (qp.tau2_low, qp.tau2_high, qp.i2_low, qp.i2_high, qp.h2_low, qp.h2_high)
        else:
            ci_parts = (np.full(n, np.nan),) * 6
        out.update(
            zip(
                ("tau2_ci_low", "tau2_ci_high", "i2_ci_low", "i2_ci_high", "h2_ci_low", "h2_ci_high"),
                ci_parts,
                strict=True,
            )
        )
    return out


def _wald_test(mu: Array, se: Array, k: int, use_t: bool) -> tuple[Array, Array]:
    """Statistic ``mu / se`` and its two-sided p-value (t with k - 1 df, or z)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = mu / se
        pval = 2.0 * (t_sf(np.abs(stat), k - 1) if use_t else norm_sf(np.abs(stat)))
    return stat, pval


def _redo_statistic(out: dict[str, np.ndarray], k: int, spec: FitSpec) -> None:
    """Test statistic and p-value from the estimate and SE on the original scale (after centring)."""
    use_t = spec.test in ("t", "knha", "adhoc") and k >= 2
    out["statistic"], out["pvalue"] = _wald_test(out["estimate"], out["se"], k, use_t)


def _fit_chunk(y: Array, v: Array, m: Mask, out: dict[str, np.ndarray], offset: int, spec: FitSpec) -> None:
    """Fit rows ``offset ...`` of the batch: grouped by number of studies, in cache-sized blocks."""
    fields = frozenset(out)
    for c, rows in count_groups(m):
        block = max(1, _BLOCK_ELEMENTS // max(c, 1))
        for b0 in range(0, rows.size, block):
            rb = rows[b0 : b0 + block]
            res = _fit_dense(Rows(*dense(m, rb, c, y, v)), spec, fields)
            first = offset + int(rb[0])
            at: slice | npt.NDArray[np.intp] = (
                slice(first, first + rb.size) if int(rb[-1]) - int(rb[0]) == rb.size - 1 else offset + rb
            )  # a run of consecutive rows (sorted input, as GOSH's) is copied, not scattered
            for name, arr in out.items():
                arr[at] = res[name]


def _is_index_subsets(mask: object) -> bool:
    """A list of index subsets (anything but None or a boolean array)."""
    if mask is None or isinstance(mask, (str, bytes)):
        return False
    if isinstance(mask, np.ndarray):
        return mask.dtype != bool and mask.dtype.kind in "iu" and mask.ndim == 2
    if not isinstance(mask, (list, tuple)) or not mask:
        return False
    first = mask[0]
    return not isinstance(first, (bool, np.bool_)) and not (
        isinstance(first, (list, tuple, np.ndarray)) and len(first) and isinstance(first[0], (bool, np.bool_))
    )


def _subset_mask(subsets: object, k: int) -> Mask:
    """Boolean ``(B, k)`` mask from ``B`` sequences of study indices (0-based columns)."""
    rows = list(subsets)  # type: ignore[call-overload]
    m = np.zeros((len(rows), k), dtype=bool)
    for i, sub in enumerate(rows):
        try:
            idx = np.asarray(sub, dtype=np.int64).reshape(-1)
        except (TypeError, ValueError):
            raise AlsmetaInputError(f"mask: subset {i} is not a sequence of study indices ({sub!r})") from None
        if idx.size and (idx.min() < -k or idx.max() >= k):
            raise AlsmetaInputError(f"mask: subset {i} has a study index outside 0..{k - 1}")
        idx = idx % k
        if np.unique(idx).size != idx.size:
            raise AlsmetaInputError(f"mask: subset {i} names a study twice ({sorted(idx.tolist())})")
        m[i, idx] = True
    return m


def _check_batch(Y: object, V: object, mask: object, chunk: int) -> tuple[Array, Array, Mask]:
    """Validate ``(B, k)`` inputs; errors name the row and the study column.

    Returns float arrays (views where possible: a broadcast data set is not
    expanded) and the boolean mask; entries outside the mask are never read.
    """
    try:
        y = np.asarray(Y, dtype=float)
        v = np.asarray(V, dtype=float)
    except (TypeError, ValueError) as exc:
        raise AlsmetaInputError(f"Y/V: could not convert to numeric arrays ({exc})") from None
    subsets = _subset_mask(mask, y.shape[-1]) if _is_index_subsets(mask) else None
    if y.ndim == 1:
        y, v = y[None, :], v[None, :] if v.ndim == 1 else v
        if subsets is not None and y.shape == v.shape:  # one data set, many subsets
            y, v = (np.broadcast_to(a, subsets.shape) for a in (y[0], v[0]))
    if y.ndim != 2 or y.shape != v.shape:
        raise AlsmetaInputError(f"Y and V must be 2-d arrays of the same shape; got {y.shape} and {v.shape}")
    m = _batch_mask(mask, subsets, y.shape)
    _check_entries("Y", y, m, chunk)
    _check_entries("V", v, m, chunk)
    _check_range(y, v, m, chunk)
    return y, v, m


def _batch_mask(mask: object, subsets: Mask | None, shape: tuple[int, ...]) -> Mask:
    """The ``(B, k)`` boolean mask: all studies (``mask`` None), index subsets, or a boolean array."""
    if mask is None:
        return np.broadcast_to(np.ones(shape[1], dtype=bool), shape)
    if subsets is not None:
        if subsets.shape != shape:
            raise AlsmetaInputError(f"mask: {subsets.shape[0]} index subsets for {shape[0]} rows of Y/V")
        return subsets
    m = np.asarray(mask)
    if m.dtype != bool:
        raise AlsmetaInputError("mask: must be a boolean array (True = study in use)")
    if m.ndim == 1:
        m = m[None, :]
    if m.shape != shape:
        raise AlsmetaInputError(f"mask: shape {m.shape} differs from Y/V shape {shape}")
    return m


def _check_entries(name: str, arr: Array, m: Mask, chunk: int) -> None:
    """Refuse a non-finite effect (``name`` "Y") or a non-positive variance ("V") in use, naming row and column."""
    if arr.strides[0] == 0 and arr.shape[0] > 1:  # one data set under many masks: check it once
        with np.errstate(invalid="ignore"):
            if (np.isfinite(arr[0]) & (name == "Y" or arr[0] > 0)).all():
                return
    first, count = None, 0
    for start in range(0, arr.shape[0], chunk):
        a, mm = arr[start : start + chunk], m[start : start + chunk]
        with np.errstate(invalid="ignore"):
            bad = ~np.isfinite(a) if name == "Y" else ~(np.isfinite(a) & (a > 0))
        hit = np.argwhere(bad & mm)
        if hit.size and first is None:
            first = (start + hit[0][0], hit[0][1])
        count += len(hit)
    if first is not None:
        r, c = first
        what = "not finite" if name == "Y" else "not a finite positive variance"
        if np.isnan(arr[r, c]):
            what = "missing (NaN) but in use (mask True)"
        raise AlsmetaInputError(
            f"{name}: row {r}, study column {c} is {what} ({arr[r, c]!r}); {count} such entries in use"
        )


def _check_range(y: Array, v: Array, m: Mask, chunk: int) -> None:
    """Refuse rows that double precision cannot fit (:func:`alsmeta.validation.out_of_range`), naming the row."""
    if y.strides[0] == 0 and v.strides[0] == 0:  # one data set under many masks: subsets of it are narrower
        y, v, m = y[:1], v[:1], np.ones((1, y.shape[1]), dtype=bool)
    for start in range(0, y.shape[0], chunk):
        a, b, mm = y[start : start + chunk], v[start : start + chunk], m[start : start + chunk]
        if not mm.any():
            continue
        bad_v, bad_y = out_of_range(
            np.where(mm, a, np.inf).min(axis=1),
            np.where(mm, a, -np.inf).max(axis=1),
            np.where(mm, b, np.inf).min(axis=1),
            np.where(mm, b, 0.0).max(axis=1),
        )
        bad = np.flatnonzero((bad_v | bad_y) & mm.any(axis=1))
        if bad.size:
            r = start + int(bad[0])
            what = (
                "V: the variances in use differ by a factor above 1e8"
                if bad_v[bad[0]]
                else "Y: the effects in use differ by more than 1e100 standard errors"
            )
            raise AlsmetaInputError(f"{what} in row {r} ({bad.size} such rows); double precision cannot pool it")


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
    progress: ProgressArg = None,
    on_interrupt: str = "return",
    executor: str = "serial",
    workers: int | None = None,
    scheduler: str | None = None,
    out: str | Path | None = None,
) -> BatchResult:
    """Fit ``B`` random-effects (or common-effect) meta-analyses at once.

    Parameters
    ----------
    Y, V
        Effect sizes and sampling variances, shape ``(B, k)`` (a 1-d input is
        one meta-analysis). Entries outside ``mask`` are ignored and may be
        NaN. Broadcast views (``numpy.broadcast_to``: one data set under many
        masks) are used as they are, without copying.
    mask
        Boolean ``(B, k)``; True marks the studies in use in each row. Rows
        may use different numbers of studies, including 0 and 1. Or a list
        of ``B`` index subsets (0-based study columns, e.g. ``[[0, 2], [1,
        2, 3]]``); with it ``Y`` and ``V`` may be one data set (1-d, length
        ``k``) shared by all subsets.
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
        Rows processed at a time; bounds memory use (beyond the results) and
        sets how often progress is reported and an interruption honoured.
    tol, maxiter
        Fisher-scoring convergence control (see
        :func:`alsmeta.engine.estimators.estimate_tau2`).
    progress
        Progress bar on standard error: ``None`` (default) shows it for runs
        of more than one chunk when standard error is a terminal; ``True`` /
        ``False`` force it on / off; a callable ``f(done_rows, total_rows)``
        is called after every chunk instead (see :mod:`alsmeta.progress`).
    on_interrupt
        ``"return"`` (default): a ``KeyboardInterrupt`` (Ctrl-C) after at
        least one chunk has been fitted returns the rows fitted so far, with
        ``interrupted=True`` and ``completed_rows`` set, and an
        :class:`alsmeta.AlsmetaWarning`; an interrupt during the first chunk
        propagates. ``"raise"``: always propagate.
    executor, workers, scheduler
        Where the chunks are fitted: ``"serial"`` (default), ``"processes"``
        or ``"dask"`` (see :func:`alsmeta.campaign.campaign_options`). The
        bytes of the result are the same whatever the executor, the number of
        workers and ``chunk_size``.
    out
        Folder to stream the job to: one ``.npz`` per chunk plus a manifest
        (calling again with the same arguments resumes an interrupted run
        from the chunks already written), and the result's arrays as
        memory-mapped ``out/arrays/NAME.npy`` files, so a result larger
        than memory never has to fit in it (:mod:`alsmeta.campaign`).

    Returns
    -------
    BatchResult
        Arrays of every pooled quantity, with convergence flags. Each row is
        bit for bit what :func:`alsmeta.pool` gives on that row's studies.

    References
    ----------
    Viechtbauer W (2010). Conducting meta-analyses in R with the metafor
    package. J Stat Softw 36(3). Hartung J, Knapp G (2001) Stat Med
    20:3875-3889. Knapp G, Hartung J (2003) Stat Med 22:2693-2710.
    """
    spec = fit_spec(method, test, level, tau2, confint, tol, maxiter)
    chunk_size = whole_number(chunk_size, "chunk_size")
    options = campaign_options(executor, workers, scheduler, out)
    y, v, m = _check_batch(Y, V, mask, chunk_size)
    arrays, done = run_batch(
        lambda a, b: (y[a:b], v[a:b], m[a:b]),
        y.shape[0],
        spec,
        chunk_size=chunk_size,
        progress=progress,
        on_interrupt=on_interrupt,
        desc=f"pool_many {spec.method}",
        options=options,
        params={"data": fingerprint(y, v, m)} if options.out is not None else None,
    )
    return BatchResult(
        method=spec.method,
        test=spec.test,
        level=spec.level,
        interrupted=done < y.shape[0],
        completed_rows=done,
        **arrays,
    )


Source = Callable[[int, int], tuple[Array, Array, Mask]]


def run_batch(
    source: Source,
    n_rows: int,
    spec: FitSpec,
    fields: Sequence[str] = _ARRAY_FIELDS,
    *,
    chunk_size: int = 65536,
    progress: ProgressArg = None,
    on_interrupt: str = "return",
    desc: str = "pool_many",
    options: CampaignOptions | None = None,
    params: Mapping[str, object] | None = None,
) -> tuple[dict[str, np.ndarray], int]:
    """Fit ``n_rows`` meta-analyses supplied chunk by chunk; the engine of :func:`pool_many`.

    ``source(start, stop)`` returns the ``(y, v, mask)`` arrays of rows
    ``start:stop`` (already valid), so callers can generate rows on the fly
    (GOSH masks, bootstrap resamples) and memory stays bounded by the chunk
    size plus the requested result ``fields``. Returns the result arrays and
    the number of rows fitted (less than ``n_rows`` only after an
    interruption; see :func:`pool_many` for ``progress`` and ``on_interrupt``).
    ``options`` chooses the executor and the folder the chunks stream to
    (:mod:`alsmeta.campaign`); ``params`` identify the job in that folder's
    manifest. Each row's result does not depend on the chunk it is fitted in,
    so the bytes are the same whatever the executor and the chunk size.
    """
    chunk = whole_number(chunk_size, "chunk_size")
    if on_interrupt not in ("return", "raise"):
        raise AlsmetaInputError(f"on_interrupt: must be 'return' or 'raise', got {on_interrupt!r}")
    show = progress if (n_rows > chunk or progress is not None) else False
    chunks = chunks_of(n_rows, chunk)
    finished: set[int] = set()

    options = options or CampaignOptions()
    in_place = options.executor == "serial"  # the task fills views of the result arrays: no copy
    with ResultArrays(n_rows, options.out) as store:

        def allocate() -> dict[str, np.ndarray]:  # on first use: after run_campaign's manifest check
            return {name: store.allocate(name, _dtype(name)) for name in fields}

        def prepare(c: Chunk) -> tuple[object, ...]:
            target = {name: arr[c.start : c.stop] for name, arr in allocate().items()} if in_place else None
            return (*source(c.start, c.stop), spec, tuple(fields), target)

        def collect(c: Chunk, arrays: dict[str, np.ndarray]) -> None:
            store.write(c.start, arrays)
            finished.add(c.index)

        try:
            run_campaign(
                _fit_rows,
                prepare,
                chunks,
                collect,
                options,
                job=desc,
                params={"n_rows": n_rows, "fields": list(fields), "spec": asdict(spec), **(params or {})},
                progress=show,
            )
            allocate()  # also when there was no chunk to fit
            done = n_rows
        except KeyboardInterrupt:
            prefix = completed_prefix(chunks, finished)
            done = chunks[prefix].start if prefix < len(chunks) else n_rows
            if on_interrupt == "raise" or done == 0:
                raise
            allocate()
            store.blank_from(done)
            warnings.warn(
                f"{desc} interrupted: {done} of {n_rows} rows fitted; the result holds those rows "
                "(interrupted=True, completed_rows); later rows are NaN.",
                AlsmetaWarning,
                stacklevel=3,
            )
        return store.result(), done


def _fit_rows(
    y: Array, v: Array, m: Mask, spec: FitSpec, fields: tuple[str, ...], target: dict[str, np.ndarray] | None = None
) -> dict[str, np.ndarray]:
    """The task of one chunk: the requested result ``fields`` of its rows (picklable, for the executors).

    Fills ``target`` (views of the caller's result arrays, when run in process) or new arrays.
    """
    out = target if target is not None else {name: np.empty(y.shape[0], dtype=_dtype(name)) for name in fields}
    _fit_chunk(y, v, m, out, 0, spec)
    return out
