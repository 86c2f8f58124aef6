"""Sensitivity and influence analyses, all built on the batched engine.

* :func:`leave_one_out` - metafor's ``leave1out()``.
* :func:`influence` - metafor's ``influence()`` (Viechtbauer & Cheung 2010):
  externally standardised residuals, DFFITS, Cook's distance, covariance
  ratio, leave-one-out tau^2 and Q, hat values, weights, DFBETAS and the
  "influential" flag with metafor's cut-offs.
* :func:`cumulative` - metafor's ``cumul()``.
* :func:`gosh` - graphical display of study heterogeneity (Olkin et al.
  2012), metafor's ``gosh()``: the model fitted to every subset of studies
  (or to random subsets when there are too many).
* :func:`bootstrap` - nonparametric bootstrap of the pooled estimate and tau^2.
* :func:`estimator_sweep` - every tau^2 estimator crossed with every test.

Each refits many meta-analyses with the batched engine (:func:`alsmeta.pool_many`)
and a ``(B, k)`` mask or resample (B = k deletions, k cumulative prefixes,
2^k - 1 subsets, n_boot resamples), so the numbers are bit for bit those of
:func:`alsmeta.pool` on each subset.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

from alsmeta.campaign import campaign_options, fingerprint
from alsmeta.engine.batch import TESTS, BatchResult, fit_spec, pool_many, run_batch
from alsmeta.engine.estimators import METHODS
from alsmeta.engine.regression import _standardise, fit_regression_many
from alsmeta.models._fitted import fixed_tau2, quiet, require_fit
from alsmeta.models.moderators import MetaRegressionResult
from alsmeta.models.pooling import PooledResult, pool, study_data
from alsmeta.progress import ProgressArg
from alsmeta.results import ResultMixin, fmt_number, text_table
from alsmeta.validation import AlsmetaInputError, flag, one_spread, probability_level, random_seed, whole_number

Array = npt.NDArray[np.float64]

_FIT_COLUMNS = {
    "estimate": "estimate",
    "se": "se",
    "statistic": "statistic",
    "pvalue": "pvalue",
    "ci_low": "ci_low",
    "ci_high": "ci_high",
    "q": "q",
    "q_pvalue": "q_pvalue",
    "tau2": "tau2",
    "i2": "i2",
    "h2": "h2",
}


def _refit(
    fit: PooledResult,
    mask: npt.NDArray[np.bool_],
    y: Array | None = None,
    v: Array | None = None,
    confint: bool = False,
) -> BatchResult:
    """Fit the model of ``fit`` on every row of ``mask`` (one pool_many call)."""
    y = fit.yi if y is None else y
    v = fit.vi if v is None else v
    B = mask.shape[0]
    return pool_many(
        np.broadcast_to(y, (B, y.size)),
        np.broadcast_to(v, (B, v.size)),
        mask=mask,
        method=fit.method,
        test=fit.test,
        level=fit.level,
        tau2=fixed_tau2(fit),
        confint=confint,
    )


def _frame(b: BatchResult, first: dict[str, Any]) -> pd.DataFrame:
    cols = dict(first)
    for name, attr in _FIT_COLUMNS.items():
        cols[name] = getattr(b, attr)
    cols["k"] = b.k
    cols["converged"] = b.converged
    return pd.DataFrame(cols)


# ------------------------------------------------------------------ leave one out
def leave_one_out(fit: PooledResult) -> pd.DataFrame:
    """Refit the model ``k`` times, each time without one study (metafor's ``leave1out()``).

    Returns
    -------
    pandas.DataFrame
        One row per omitted study: ``label`` (the study left out),
        ``estimate``, ``se``, ``statistic``, ``pvalue``, ``ci_low``,
        ``ci_high``, ``q``, ``q_pvalue``, ``tau2``, ``i2``, ``h2``, ``k`` (studies
        used) and ``converged``. Same method, test, level and fixed tau^2 as
        ``fit``; a fit with user weights is refitted with the weights of the
        studies kept (metafor's ``leave1out()``; a row without a positive
        weight is NaN).

    Notes
    -----
    k = 1: the single row is the empty (k = 0) meta-analysis, all NaN. k = 2:
    each row is the other study on its own (tau^2 = 0, Q = 0). k = 0: an
    empty frame.
    """
    fit = require_fit(fit, "leave_one_out", honours_weights=True)
    k = fit.k
    if k == 0:
        return _frame_empty(["label"])
    mask = ~np.eye(k, dtype=bool)
    if fit.user_weights is not None:
        return _frame_weighted(fit, mask, np.arange(k), {"label": list(fit.labels)})
    return _frame(_refit(fit, mask), {"label": list(fit.labels)})


def _frame_weighted(
    fit: PooledResult, mask: npt.NDArray[np.bool_], idx: npt.NDArray[np.intp], first: dict[str, Any]
) -> pd.DataFrame:
    """:func:`_frame` for a fit with user weights: :func:`alsmeta.pool` with the weights on every row of ``mask``.

    The studies are taken in the order ``idx``; as metafor's ``leave1out()``
    and ``cumul()``, each subset is refitted with its own weights (and, for
    ``method="GENQ"``, its own generalised Q tau^2). A subset that cannot be
    fitted (no positive weight) is a row of NaN, not converged.
    """
    assert fit.user_weights is not None
    y, v, a = fit.yi[idx], fit.vi[idx], fit.user_weights[idx]
    cols: dict[str, list[Any]] = {name: [] for name in [*_FIT_COLUMNS, "k", "converged"]}
    for row in mask:
        try:
            r = quiet(
                pool,
                y[row],
                v[row],
                weights=a[row],
                method=fit.method,
                test=fit.test,
                level=fit.level,
                tau2=fixed_tau2(fit),
            )
        except AlsmetaInputError:
            r = None
        for name in _FIT_COLUMNS:
            cols[name].append(getattr(r, name) if r is not None else np.nan)
        cols["k"].append(int(row.sum()))
        cols["converged"].append(bool(r.converged) if r is not None else False)
    return pd.DataFrame({**first, **cols})


def _frame_empty(first: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: [] for c in first + list(_FIT_COLUMNS) + ["k", "converged"]})


# ------------------------------------------------------------------ influence
def influence(fit: PooledResult | MetaRegressionResult) -> pd.DataFrame:
    """Case-deletion influence diagnostics, as metafor's ``influence()``.

    Works for a pooled fit (:func:`alsmeta.pool`) and for a meta-regression
    (:func:`alsmeta.models.moderators.meta_regression`). With ``b`` the coefficients,
    ``x_i`` study i's design row, ``(-i)`` the fit without study i (same
    method, test and fixed tau^2) and ``s2w`` the Knapp-Hartung factor of the
    deleted fit (1 unless ``test="knha"``/``"adhoc"``), the columns are
    (one row per study):

    ``rstudent``
        Externally standardised residual ``(y_i - x_i b_(-i)) / sqrt(s2w_(-i)
        (v_i + tau2_(-i)) + x_i Var(b_(-i)) x_i')``.
    ``dffits``
        ``x_i (b - b_(-i)) / sqrt(s2w_(-i) h_i (tau2_(-i) + v_i))``.
    ``cook_d``
        ``(b - b_(-i))' Var(b)^-1 (b - b_(-i))``.
    ``cov_r``
        ``det Var(b_(-i)) / det Var(b)``.
    ``tau2_del``, ``q_del``
        tau^2 and the (residual) Q statistic without the study.
    ``hat``, ``weight``
        Leverage (diagonal of ``X (X'WX)^-1 X'W``) and percentage weight.
    ``dfbetas`` (one column ``dfbetas_<term>`` per coefficient for a meta-regression)
        ``(b - b_(-i)) / sqrt(s2w_(-i) diag((X'W_(-i)X)^-1))`` with
        ``W_(-i) = diag(1/(v + tau2_(-i)))`` over all studies.
    ``inf``
        True when the study is influential by metafor's rules: ``|dffits| >
        3 sqrt(p/(k-p))``, or ``pchisq(cook_d, p) > 0.5``, or ``hat > 3p/k``,
        or any ``|dfbetas| > 1`` (``p`` coefficients).

    A fit with user weights ``a`` (pool or meta-regression, also GENQ) is
    refitted with the weights, as metafor's ``influence.rma.uni``: ``hat`` is
    the diagonal of ``H = X (X'AX)^-1 X'A``, DFFITS is scaled by
    ``sqrt(s2w_(-i) [H diag(v + tau2_(-i)) H']_ii)``, DFBETAS by the
    sandwich ``(X'AX)^-1 X'A diag(v + tau2_(-i)) A X (X'AX)^-1``, Var(b) is
    the fit's sandwich covariance and ``weight`` is ``100 a / sum(a)``.

    Notes
    -----
    k = 0: an empty frame. k = 1 (or k = p): no deletion leaves a fittable
    model; the diagnostics are NaN (metafor stops). k = 2: each deletion
    leaves one study, so tau^2 = 0 and the diagnostics are degenerate but
    computed.

    References
    ----------
    Viechtbauer W, Cheung MWL (2010). Outlier and influence diagnostics for
    meta-analysis. Res Synth Methods 1:112-125.
    """
    if isinstance(fit, MetaRegressionResult):
        return _influence_regression(fit)
    fit = require_fit(fit, "influence", honours_weights=True)
    k = fit.k
    if k == 0:
        return pd.DataFrame({c: [] for c in ["label", *_INFLUENCE_COLUMNS, "dfbetas", "inf"]})
    if fit.user_weights is not None:  # the deletion fits with the weights, as a one-column meta-regression
        return _influence_of(fit, np.ones((k, 1)), ("intercept",), np.array([fit.estimate]), np.array([[fit.se**2]]))
    b = _refit(fit, ~np.eye(k, dtype=bool))
    tau2_del = b.tau2 if fit.method != "CE" else np.zeros(k)
    with np.errstate(divide="ignore", invalid="ignore"):
        w_del = np.where(~np.eye(k, dtype=bool), 1.0 / (fit.vi[None, :] + tau2_del[:, None]), 0.0)
        s2w_del = b.se**2 * w_del.sum(axis=1)  # se^2 = s2w / sum(w): recovers the Knapp-Hartung factor
    return _influence_frame(
        fit.labels,
        ["intercept"],
        fit.yi,
        fit.vi,
        np.ones((k, 1)),
        np.array([fit.estimate]),
        np.array([[fit.se**2]]),
        fit.tau2 if fit.method != "CE" else 0.0,
        b.estimate[:, None],
        (b.se**2)[:, None, None],
        tau2_del,
        s2w_del,
        b.q,
    )


_INFLUENCE_COLUMNS = ["rstudent", "dffits", "cook_d", "cov_r", "tau2_del", "q_del", "hat", "weight"]


def _influence_regression(res: MetaRegressionResult) -> pd.DataFrame:
    return _influence_of(res, res.X, res.terms, res.estimate, res.vcov)


def _influence_of(
    res: MetaRegressionResult | PooledResult, X: Array, terms: Sequence[str], beta: Array, vb: Array
) -> pd.DataFrame:
    """The k deletion fits (with the fit's user weights, if any) and metafor's formulas on them."""
    k = res.k
    b = fit_regression_many(
        np.broadcast_to(res.yi, (k, k)),
        np.broadcast_to(res.vi, (k, k)),
        X,
        mask=~np.eye(k, dtype=bool),
        method=res.method,
        test=res.test,
        level=res.level,
        tau2=res.tau2 if res.tau2_fixed else None,
        weights=res.user_weights,
    )
    tau2_del = b.tau2 if res.method != "CE" else np.where(b.usable, 0.0, np.nan)
    return _influence_frame(
        res.labels,
        list(terms),
        res.yi,
        res.vi,
        X,
        beta,
        vb,
        res.tau2 if res.method != "CE" else 0.0,
        b.coef,
        b.vcov,
        tau2_del,
        b.s2w,
        b.qe,
        res.user_weights,
    )


def _influence_frame(
    labels: Sequence[str],
    terms: list[str],
    y: Array,
    v: Array,
    X: Array,
    beta: Array,
    vb: Array,
    tau2: float,
    beta_del: Array,
    vb_del: Array,
    tau2_del: Array,
    s2w_del: Array,
    q_del: Array,
    a: Array | None = None,
) -> pd.DataFrame:
    """metafor's influence() formulas from the full fit and the k deletion fits.

    With user weights ``a`` (metafor's ``influence.rma.uni`` with ``weights``):
    the hat matrix is ``H = X (X'AX)^-1 X'A``, DFFITS is scaled by
    ``sqrt(s2w_(-i) [H diag(v + tau2_(-i)) H']_ii)``, DFBETAS by the sandwich
    ``(X'AX)^-1 X'A diag(v + tau2_(-i)) A X (X'AX)^-1`` and the weights are ``100 a / sum(a)``.
    """
    k, p = X.shape
    # work in the centred/scaled parametrisation (Xs = X T^-1) for accuracy, as the regression engine does
    Xs, T = _standardise(X[None, :, :], np.all(X == 1.0, axis=0))
    Xs = Xs[0]
    Tinv = np.linalg.inv(T)
    w = 1.0 / (v + tau2) if a is None else a
    xtwx_inv = np.linalg.inv((Xs * w[:, None]).T @ Xs)
    H2 = (Xs @ xtwx_inv @ (Xs * w[:, None]).T) ** 2  # squared hat matrix entries (user weights)
    hat = np.einsum("ij,jk,ik->i", Xs, xtwx_inv, Xs) * w
    hat = np.where(hat > 1 - 10 * np.finfo(float).eps, 1.0, hat)
    weight = 100.0 * w / w.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        pred = X @ beta
        delpred = np.einsum("ij,ij->i", X, beta_del)
        vdelpred = np.einsum("ij,ijk,ik->i", X, vb_del, X)
        W_del = 1.0 / (v[None, :] + tau2_del[:, None])  # all k studies, deleted-fit tau2
        finite = np.isfinite(W_del).all(axis=1)
        vb_del_all = np.full((k, p, p), np.nan)
        if a is None:
            dffits = (pred - delpred) / np.sqrt(s2w_del * hat * (tau2_del + v))
            vb_del_all[finite] = T @ np.linalg.inv(np.einsum("ji,bj,jk->bik", Xs, W_del[finite], Xs)) @ T.T
        else:
            dffits = (pred - delpred) / np.sqrt(s2w_del * (H2 @ v + tau2_del * H2.sum(axis=1)))
            XA = Xs * a[:, None]
            spread = np.einsum("ji,bj,jk->bik", XA, v[None, :] + tau2_del[finite, None], XA)
            vb_del_all[finite] = T @ xtwx_inv @ spread @ xtwx_inv @ T.T
        diff = beta[None, :] - beta_del
        dfbetas = diff / np.sqrt(s2w_del[:, None] * np.diagonal(vb_del_all, axis1=1, axis2=2))
        diff_s = diff @ Tinv.T
        cook = np.einsum("bi,ij,bj->b", diff_s, np.linalg.inv(Tinv @ vb @ Tinv.T), diff_s)
        cov_r = np.linalg.det(vb_del) / np.linalg.det(vb)
        resid = y - delpred
        resid = np.where(np.abs(resid) < 100 * np.finfo(float).eps, 0.0, resid)
        rstudent = resid / np.sqrt(v * s2w_del + vdelpred + tau2_del * s2w_del)
        inf = (
            (np.abs(dffits) > 3 * np.sqrt(p / (k - p)))
            | (stats.chi2.cdf(cook, p) > 0.5)
            | (hat > 3 * p / k)
            | np.any(np.abs(dfbetas) > 1, axis=1)
        )
    out = {
        "label": list(labels),
        "rstudent": rstudent,
        "dffits": dffits,
        "cook_d": cook,
        "cov_r": cov_r,
        "tau2_del": tau2_del,
        "q_del": q_del,
        "hat": hat,
        "weight": weight,
    }
    if p == 1:
        out["dfbetas"] = dfbetas[:, 0]
    else:
        for j, term in enumerate(terms):
            out[f"dfbetas_{term}"] = dfbetas[:, j]
    out["inf"] = np.where(np.isnan(cook) & np.isnan(dffits), False, inf).astype(bool)
    return pd.DataFrame(out)


# ------------------------------------------------------------------ cumulative
def cumulative(fit: PooledResult, order: Sequence[Any] | None = None, decreasing: bool = False) -> pd.DataFrame:
    """Cumulative meta-analysis, as metafor's ``cumul()``.

    Parameters
    ----------
    fit
        A :func:`alsmeta.pool` result.
    order
        Sort keys, one per study (e.g. publication years); studies are added
        in increasing order of the keys, ties in their original order (a
        stable sort, as R's ``order()``). ``None``: the order of the data.
    decreasing
        Add studies in decreasing order of ``order``.

    Returns
    -------
    pandas.DataFrame
        Row ``j`` is the meta-analysis of the first ``j`` studies in that
        order: ``label`` (the study added), ``order`` (its key), then the
        columns of :func:`leave_one_out`.

    Notes
    -----
    The first row is a single study (k = 1: its own effect; a t-based test
    falls back to z, as metafor does). k = 0: an empty frame. A fit with
    user weights is refitted with the weights of the studies added (metafor's
    ``cumul()``).
    """
    fit = require_fit(fit, "cumulative", honours_weights=True)
    decreasing = flag(decreasing, "decreasing")
    k = fit.k
    if k == 0:
        return _frame_empty(["label", "order"])
    if order is None:
        keys = np.arange(k)
    else:
        if isinstance(order, (str, bytes)) or np.ndim(order) != 1 or len(order) != k:
            raise AlsmetaInputError(f"order: expected one sort key per study ({k} values)")
        keys = np.asarray(list(order))
        if keys.dtype.kind in "fc" and np.isnan(keys.astype(float)).any():
            bad = int(np.flatnonzero(np.isnan(keys.astype(float)))[0])
            raise AlsmetaInputError(f"study {fit.labels[bad]!r}, column 'order': value is missing (NaN)")
    codes = np.unique(keys, return_inverse=True)[1].reshape(-1)
    idx = np.argsort(-codes if decreasing else codes, kind="stable")  # ties keep the data order, as R's order()
    mask = np.tril(np.ones((k, k), dtype=bool))
    first = {"label": [fit.labels[i] for i in idx], "order": keys[idx] if order is not None else idx + 1}
    if fit.user_weights is not None:
        return _frame_weighted(fit, mask, idx, first)
    return _frame(_refit(fit, mask, y=fit.yi[idx], v=fit.vi[idx]), first)


# ------------------------------------------------------------------ GOSH
GOSH_EXACT_MAX_K = 20  # all 2^k - 1 subsets up to here (1,048,575 fits); random subsets beyond
_GOSH_COLUMNS = ("k", "estimate", "se", "tau2", "i2", "h2", "q", "converged")


def gosh(
    fit: PooledResult,
    max_subsets: int | None = None,
    seed: int | None = None,
    *,
    progress: ProgressArg = None,
    chunk_size: int = 65536,
    executor: str = "serial",
    workers: int | None = None,
    scheduler: str | None = None,
    out: str | Path | None = None,
) -> pd.DataFrame:
    """Fit the model to subsets of the studies (GOSH plot data), as metafor's ``gosh()``.

    Parameters
    ----------
    fit
        A :func:`alsmeta.pool` result; every subset is fitted with its method
        and test.
    max_subsets
        Upper limit on the number of fits. All ``2^k - 1`` non-empty subsets
        are fitted when there are no more than this; otherwise
        ``max_subsets`` random subsets, drawn as metafor does: a size ``m``
        with probability proportional to ``choose(k, m)``, then ``m``
        distinct studies uniformly. Default: every subset up to k = 20
        (1,048,575 fits, a few seconds), ``10**6`` random subsets beyond
        (metafor's default is ``10**6``, so random already at k = 20).
    seed
        Seed of the random subsets (``numpy.random.default_rng``).
    progress
        Progress bar on standard error for long runs (see
        :func:`alsmeta.pool_many`); a callable ``f(done, total)`` is called
        after every chunk instead.
    chunk_size, executor, workers, scheduler, out
        Subsets fitted per chunk, and where the chunks run and stream to
        (see :func:`alsmeta.pool_many` and :mod:`alsmeta.campaign`): the
        rows are the same bytes whatever the executor and the chunk size;
        the random subsets are drawn here from ``seed`` as before.

    Returns
    -------
    pandas.DataFrame
        One row per subset, ordered by size (ties by bitmask, i.e. in
        metafor's order when all subsets are used): ``subset`` (bitmask:
        bit ``j`` set when study ``j`` - 0-based, in the order of the data -
        is included; decode with :func:`subset_membership`), ``k``,
        ``estimate``, ``se``, ``tau2``, ``i2``, ``h2``, ``q``, ``converged``.
        Each row is bit for bit :func:`alsmeta.pool` on that subset.
        ``attrs``: ``exact`` (all subsets used), ``total`` (subsets planned),
        ``interrupted`` and ``completed``: Ctrl-C during a long run returns
        the subsets fitted so far (the first ``completed`` rows, smallest
        subsets first) with ``interrupted`` True and an
        :class:`alsmeta.AlsmetaWarning`.

    Notes
    -----
    k = 0: an empty frame. k = 1: one subset (the study itself). Memory
    stays bounded: subsets are generated chunk by chunk from their bitmasks.

    References
    ----------
    Olkin I, Dahabreh IJ, Trikalinos TA (2012). GOSH - a graphical display of
    study heterogeneity. Res Synth Methods 3:214-223.
    """
    fit = require_fit(fit, "gosh")
    options = campaign_options(executor, workers, scheduler, out)
    chunk = whole_number(chunk_size, "chunk_size")
    k = fit.k
    if max_subsets is not None:
        max_subsets = whole_number(max_subsets, "max_subsets")
    seed = random_seed(seed)
    cols = ["subset", *_GOSH_COLUMNS]
    if k == 0:
        frame = pd.DataFrame({c: [] for c in cols})
        frame.attrs.update(exact=True, total=0, interrupted=False, completed=0)
        return frame
    total = 2**k - 1
    if max_subsets is None:
        exact = k <= GOSH_EXACT_MAX_K
        limit = total if exact else 10**6
    else:
        limit = int(max_subsets)
        exact = total <= limit
    codes: Any = _all_subsets(k) if exact else _random_subsets(k, limit, np.random.default_rng(seed))
    n = len(codes)
    spec = fit_spec(fit.method, fit.test, fit.level, fixed_tau2(fit), False, 1e-12, 100)
    yb, vb = (np.broadcast_to(a, (min(n, chunk), k)) for a in (fit.yi, fit.vi))

    def source(a: int, b: int) -> tuple[Array, Array, npt.NDArray[np.bool_]]:
        m = codes[a:b] if codes.dtype == bool else subset_membership(codes[a:b], k)
        return yb[: b - a], vb[: b - a], m

    res, done = run_batch(
        source,
        n,
        spec,
        _GOSH_COLUMNS,
        chunk_size=chunk,
        progress=progress,
        desc="gosh",
        options=options,
        params={"data": fingerprint(fit.yi, fit.vi, codes)} if options.out is not None else None,
    )
    subset = codes if codes.dtype != bool else _bitmask_objects(codes)
    frame = pd.DataFrame({"subset": subset[:done], **{c: res[c][:done] for c in _GOSH_COLUMNS}}, copy=False)
    frame.attrs.update(exact=exact, total=n, interrupted=done < n, completed=done)
    return frame


_CHUNK = 65536


def _all_subsets(k: int) -> npt.NDArray[np.int64]:
    """Bitmasks of all non-empty subsets of k studies, by size, ties by bitmask."""
    bits = np.arange(1, 2**k, dtype=np.int64)
    size = _popcount(bits)
    return bits[np.argsort(size, kind="stable")]


def _popcount(bits: npt.NDArray[np.int64]) -> npt.NDArray[np.uint8]:
    if hasattr(np, "bitwise_count"):
        return np.bitwise_count(bits).astype(np.uint8)
    size = np.zeros(bits.size, dtype=np.uint8)
    for j in range(int(bits.max()).bit_length() if bits.size else 0):
        size += ((bits >> j) & 1).astype(np.uint8)
    return size


def _random_subsets(k: int, limit: int, rng: np.random.Generator) -> npt.NDArray[Any]:
    """``limit`` random subsets as metafor draws them, sorted by size (ties in draw order).

    Bitmasks (int64) for k <= 62, a boolean membership matrix beyond.
    """
    sizes = np.arange(1, k + 1)
    prob = stats.binom.pmf(sizes, k, 0.5)
    m = rng.choice(sizes, size=limit, replace=True, p=prob / prob.sum())
    order = np.argsort(m, kind="stable")
    weights = np.left_shift(np.int64(1), np.arange(min(k, 62), dtype=np.int64))
    parts = []
    for a in range(0, limit, _CHUNK):  # m distinct studies: the m smallest of k uniform keys per row
        keys = rng.random((min(limit, a + _CHUNK) - a, k))
        rank = np.argsort(np.argsort(keys, axis=1), axis=1)
        member = rank < m[a : a + _CHUNK, None]
        parts.append(member @ weights if k <= 62 else member)
    codes = np.concatenate(parts)
    return codes[order]


def _bitmask_objects(member: npt.NDArray[np.bool_]) -> npt.NDArray[Any]:
    """Python-integer bitmasks of membership rows (k > 62)."""
    return np.array([sum(1 << int(j) for j in np.flatnonzero(row)) for row in member], dtype=object)


# ------------------------------------------------------------------ bootstrap
@dataclass(frozen=True, eq=False)
class BootstrapResult(ResultMixin):
    """Result of :func:`bootstrap`.

    ``estimate`` and ``tau2`` are those of the original fit; ``ci_low`` /
    ``ci_high`` and ``tau2_ci_low`` / ``tau2_ci_high`` are percentile
    intervals at ``level`` over the usable replicates (``n_used`` of
    ``n_boot``: converged, and fitted before any interruption); ``se`` and
    ``tau2_se`` are the replicates' standard deviations. ``replicates`` has
    one row per replicate: ``estimate``, ``tau2``, ``i2``, ``q``,
    ``converged``.
    """

    estimate: float
    tau2: float
    ci_low: float
    ci_high: float
    tau2_ci_low: float
    tau2_ci_high: float
    se: float
    tau2_se: float
    level: float
    n_boot: int
    n_used: int
    seed: int | None
    method: str
    test: str
    replicates: pd.DataFrame
    interrupted: bool = False
    notes: tuple[str, ...] = field(default=())

    def summary(self, digits: int = 4) -> str:
        """Text block: the original estimates with bootstrap SEs and percentile intervals."""
        lv = f"{100 * self.level:g}%"
        rows = [
            [name, fmt_number(est, digits), fmt_number(se, digits), fmt_number(lo, digits), fmt_number(hi, digits)]
            for name, est, se, lo, hi in (
                ("estimate", self.estimate, self.se, self.ci_low, self.ci_high),
                ("tau^2", self.tau2, self.tau2_se, self.tau2_ci_low, self.tau2_ci_high),
            )
        ]
        lines = [
            f"Nonparametric bootstrap ({self.method}, {self.test} test; {self.n_used} of {self.n_boot} replicates used"
            + (", interrupted" if self.interrupted else "")
            + f"; seed {self.seed})",
            "",
            *text_table(["", "original", "boot.se", f"{lv} ci.lb", f"{lv} ci.ub"], rows, first_left=True),
        ]
        return "\n".join(lines + self._notes_lines())


_BOOT_COLUMNS = ("estimate", "tau2", "i2", "q", "converged")


def bootstrap(
    fit: PooledResult,
    n_boot: int = 1000,
    seed: int | None = None,
    level: float | None = None,
    *,
    progress: ProgressArg = None,
    chunk_size: int = 65536,
    executor: str = "serial",
    workers: int | None = None,
    scheduler: str | None = None,
    out: str | Path | None = None,
) -> BootstrapResult:
    """Nonparametric bootstrap of the pooled estimate and tau^2 (studies resampled with replacement).

    Each replicate draws ``k`` studies with replacement from the ``k`` of
    ``fit`` and refits the same model (method, test, fixed tau^2); all
    replicates are fitted at once by the batched engine.

    Parameters
    ----------
    fit
        A :func:`alsmeta.pool` result with at least two studies.
    n_boot
        Number of bootstrap replicates (>= 2).
    seed
        Seed of ``numpy.random.default_rng`` (reproducible intervals).
    level
        Level of the percentile intervals (default: that of ``fit``).
    progress
        Progress bar for long runs (see :func:`alsmeta.pool_many`); Ctrl-C
        returns the replicates fitted so far (``interrupted`` True).
    chunk_size, executor, workers, scheduler, out
        Replicates fitted per chunk, and where the chunks run and stream to
        (see :func:`alsmeta.pool_many` and :mod:`alsmeta.campaign`): the
        rows are the same bytes whatever the executor and the chunk size;
        the resamples are drawn here from ``seed`` as before.

    Returns
    -------
    BootstrapResult
        Percentile intervals (quantiles as R's default type 7) and bootstrap
        standard errors of the pooled estimate and of tau^2.

    Notes
    -----
    With few studies the bootstrap distribution is coarse (there are only
    ``choose(2k - 1, k)`` distinct resamples) and percentile intervals
    undercover; it is a sensitivity analysis, not a replacement for the
    model-based interval. Replicates whose tau^2 did not converge are
    excluded and counted in ``notes``.

    References
    ----------
    Efron B, Tibshirani RJ (1993). An Introduction to the Bootstrap. Chapman
    & Hall. Van den Noortgate W, Onghena P (2005). Parametric and
    nonparametric bootstrap methods for meta-analysis. Behav Res Methods
    37:11-22.
    """
    fit = require_fit(fit, "bootstrap")
    options = campaign_options(executor, workers, scheduler, out)
    chunk = whole_number(chunk_size, "chunk_size")
    k = fit.k
    if k < 2:
        raise AlsmetaInputError(f"bootstrap: needs at least 2 studies (k = {k})")
    n = whole_number(n_boot, "n_boot", minimum=2)
    seed = random_seed(seed)
    level = fit.level if level is None else probability_level(level)
    idx = np.random.default_rng(seed).integers(0, k, size=(n, k), dtype=np.int32)
    spec = fit_spec(fit.method, fit.test, fit.level, fixed_tau2(fit), False, 1e-12, 100)
    full = np.broadcast_to(np.ones(k, dtype=bool), (min(n, chunk), k))

    def source(a: int, b: int) -> tuple[Array, Array, npt.NDArray[np.bool_]]:
        rows = idx[a:b]
        return fit.yi[rows], fit.vi[rows], full[: b - a]

    res, done = run_batch(
        source,
        n,
        spec,
        _BOOT_COLUMNS,
        chunk_size=chunk,
        progress=progress,
        desc="bootstrap",
        options=options,
        params={"data": fingerprint(fit.yi, fit.vi, idx)} if options.out is not None else None,
    )
    reps = pd.DataFrame({c: res[c][:done] for c in _BOOT_COLUMNS}, copy=False)
    ok = reps["converged"].to_numpy()
    est, tau2 = reps["estimate"].to_numpy()[ok], reps["tau2"].to_numpy()[ok]
    alpha = 1.0 - level
    notes = []
    if done < n:
        notes.append(f"Interrupted: {done} of {n} replicates fitted; intervals use those.")
    if (~ok).any():
        notes.append(f"{int((~ok).sum())} replicates without a converged tau^2 were excluded.")
    if est.size >= 2:
        lo, hi = np.quantile(est, [alpha / 2, 1 - alpha / 2])
        tlo, thi = np.quantile(tau2, [alpha / 2, 1 - alpha / 2])
        se, tau2_se = float(np.std(est, ddof=1)), float(np.std(tau2, ddof=1))
    else:
        lo = hi = tlo = thi = se = tau2_se = float("nan")
    return BootstrapResult(
        estimate=fit.estimate,
        tau2=fit.tau2,
        ci_low=float(lo),
        ci_high=float(hi),
        tau2_ci_low=float(tlo),
        tau2_ci_high=float(thi),
        se=se,
        tau2_se=tau2_se,
        level=level,
        n_boot=n,
        n_used=int(est.size),
        seed=seed,
        method=fit.method,
        test=fit.test,
        replicates=reps,
        interrupted=done < n,
        notes=tuple(notes),
    )


def subset_membership(subset: Sequence[int] | npt.NDArray[Any], k: int) -> npt.NDArray[np.bool_]:
    """Decode :func:`gosh` bitmasks into a ``(n_subsets, k)`` boolean membership matrix."""
    s = list(subset) if not isinstance(subset, np.ndarray) or subset.dtype == object else subset
    if isinstance(s, np.ndarray):
        return ((s[:, None] >> np.arange(k)) & 1).astype(bool)
    return np.array([[(int(x) >> j) & 1 for j in range(k)] for x in s], dtype=bool).reshape(len(s), k)


# ------------------------------------------------------------------ estimator sweep
def estimator_sweep(
    yi: Sequence[float] | Array,
    vi: Sequence[float] | Array | None = None,
    methods: Sequence[str] | None = None,
    tests: Sequence[str] | None = None,
    level: float = 0.95,
    labels: Sequence[Any] | None = None,
    na_action: str = "raise",
    *,
    sei: Sequence[float] | Array | None = None,
) -> pd.DataFrame:
    """Every tau^2 estimator crossed with every test, as one tidy table.

    Parameters
    ----------
    yi, vi
        Effects and sampling variances.
    sei
        Standard errors instead of ``vi`` (exactly one of the two).
    methods
        tau^2 estimators (default: all of :data:`alsmeta.METHODS`).
    tests
        Tests (default: ``"z"``, ``"t"``, ``"knha"``, ``"adhoc"``).
    level
        Confidence level.
    labels, na_action
        As in :func:`alsmeta.pool`.

    Returns
    -------
    pandas.DataFrame
        One row per (method, test): ``method``, ``test``, ``estimate``, ``se``,
        ``statistic``, ``pvalue``, ``ci_low``, ``ci_high``, ``df``, ``tau2``,
        ``tau2_se``, ``tau2_ci_low``, ``tau2_ci_high``, ``i2``, ``h2``, ``q``,
        ``pi_low``, ``pi_high``, ``converged``. For the common-effect model
        tau^2 is 0 and its interval undefined.

    Notes
    -----
    A reader can see at once how much a conclusion depends on the analyst's
    choice of estimator and test (with few studies, a lot). k = 1: every
    estimator gives tau^2 = 0 and t-based tests fall back to z (noted in
    ``df``); k = 0: every row is the empty meta-analysis.
    """
    level = probability_level(level)
    one_spread(vi, sei)
    y, v, _ = study_data(yi, vi, sei, labels, na_action)
    methods = list(METHODS) if methods is None else list(methods)
    tests = list(TESTS) if tests is None else list(tests)
    rows = []
    fields = [
        "estimate",
        "se",
        "statistic",
        "pvalue",
        "ci_low",
        "ci_high",
        "df",
        "tau2",
        "tau2_se",
        "tau2_ci_low",
        "tau2_ci_high",
        "i2",
        "h2",
        "q",
        "pi_low",
        "pi_high",
        "converged",
    ]
    for method in methods:
        for test in tests:
            b = pool_many(y[None, :], v[None, :], method=method, test=test, level=level)
            rows.append({"method": b.method, "test": b.test, **{f: getattr(b, f)[0] for f in fields}})
    return pd.DataFrame(rows, columns=["method", "test", *fields])
