"""Pooling one meta-analysis: :func:`pool` and its result :class:`PooledResult`.

``pool`` validates study-level input (every error names the study and the
column), fits the model with the batched engine of :mod:`alsmeta.engine.batch` on a
single row, and wraps the result with the data, warnings and a metafor-like
``summary()``.

Behaviour at the edges (tested, and stated in every summary):

* k = 0: a defined empty result (all statistics NaN, ``is_empty`` True) whose
  summary says that no study is available to pool - the state of a
  systematic review in which no study met the eligibility criteria.
* k = 1: the "pooled" estimate is the study itself; tau^2 = 0 (unless fixed),
  heterogeneity cannot be assessed, and a requested t-based test falls back
  to z with a warning (as metafor does).
* k = 2: estimable, but tau^2 rests on one degree of freedom; t-based
  intervals use 1 df and are very wide, which is the honest answer.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

from alsmeta.engine.batch import BatchResult, canonical_test, pool_many
from alsmeta.engine.estimators import canonical_method
from alsmeta.engine.likelihood import FitStatistics, fit_statistics
from alsmeta.engine.weighted import genq_tau2, weighted_coefficients
from alsmeta.validation import (
    AlsmetaInputError,
    AlsmetaWarning,
    align_on_index,
    check_computable,
    missing_labels,
    missing_studies,
    na_action_arg,
    nonnegative_number,
    numeric_column,
    positive_number,
    probability_level,
    study_labels,
    whole_number,
)

__all__ = ["PooledResult", "pool", "study_data", "study_data_kept"]

Array = npt.NDArray[np.float64]

METHOD_NAMES = {
    "CE": "common-effect (inverse variance)",
    "DL": "DerSimonian-Laird",
    "HE": "Hedges",
    "HS": "Hunter-Schmidt",
    "HSk": "Hunter-Schmidt (k-corrected)",
    "SJ": "Sidik-Jonkman",
    "ML": "maximum likelihood",
    "REML": "restricted maximum likelihood",
    "EB": "empirical Bayes",
    "PM": "Paule-Mandel",
    "PMM": "median-unbiased Paule-Mandel",
    "GENQ": "generalised Q (user weights)",
}


@dataclass(frozen=True, eq=False)
class PooledResult:
    """Result of :func:`alsmeta.pool`.

    Attributes
    ----------
    k : int
        Number of studies.
    estimate, se, statistic, pvalue, ci_low, ci_high
        Pooled effect, its standard error, z or t statistic, two-sided p-value
        and confidence interval.
    df : float
        Degrees of freedom of t-based inference (NaN for z).
    tau2, tau2_se, tau2_ci_low, tau2_ci_high
        Between-study variance, its SE and Q-profile interval.
    i2, i2_ci_low, i2_ci_high, h2, h2_ci_low, h2_ci_high
        I^2 in percent and H^2 with Q-profile intervals.
    q, q_df, q_pvalue
        Cochran's Q test of homogeneity.
    pi_low, pi_high
        Prediction interval for the true effect in a new study (metafor's
        ``predict()``: z, or t with k - 1 df for t-based tests); NaN for the
        common-effect model, which assumes there is no between-study variance.
    yi, vi, labels
        The data as used.
    method, test, level, tau2_fixed
        The model specification.
    converged, fallback, boundary_reset, test_downgraded, iterations
        Solver diagnostics; see :class:`alsmeta.engine.batch.BatchResult`.
    notes
        Plain-language statements about edge cases and fallbacks.
    user_weights
        The weights given to ``pool(weights=)`` (None: inverse-variance weights).
    loglik, aic, bic, aicc, fit_stats
        Log-likelihood (restricted for REML, as metafor) and information
        criteria, computed on first use (:mod:`alsmeta.engine.likelihood`).
    """

    yi: Array
    vi: Array
    labels: tuple[str, ...]
    method: str
    test: str
    level: float
    tau2_fixed: bool
    k: int
    estimate: float
    se: float
    statistic: float
    pvalue: float
    ci_low: float
    ci_high: float
    df: float
    tau2: float
    tau2_se: float
    tau2_ci_low: float
    tau2_ci_high: float
    i2: float
    i2_ci_low: float
    i2_ci_high: float
    h2: float
    h2_ci_low: float
    h2_ci_high: float
    q: float
    q_df: int
    q_pvalue: float
    pi_low: float
    pi_high: float
    converged: bool
    fallback: bool
    boundary_reset: bool
    multimodal: bool
    test_downgraded: bool
    iterations: int
    notes: tuple[str, ...] = field(default=())
    user_weights: Array | None = None

    # ----------------------------------------------------------------- derived
    @property
    def is_empty(self) -> bool:
        """True when no study was available (k = 0)."""
        return self.k == 0

    @property
    def tau(self) -> float:
        """Square root of tau^2."""
        return float(np.sqrt(self.tau2)) if np.isfinite(self.tau2) else float("nan")

    @property
    def sei(self) -> Array:
        """Standard errors of the study effects."""
        return np.sqrt(self.vi)

    @property
    def is_random_effects(self) -> bool:
        return self.method != "CE"

    @property
    def weights(self) -> Array:
        """Percentage weights ``100 w_i / sum(w)`` with ``w = 1/(v + tau^2)`` (or the user's weights)."""
        if self.k == 0:
            return np.zeros(0)
        if self.user_weights is not None:
            return 100.0 * self.user_weights / self.user_weights.sum()
        w = 1.0 / (self.vi + (self.tau2 if self.is_random_effects else 0.0))
        return 100.0 * w / w.sum()

    @property
    def fit_stats(self) -> FitStatistics:
        """Log-likelihood and information criteria (metafor's ``fitstats()``), computed on first use.

        The restricted log-likelihood for REML fits, the ML one otherwise
        (as metafor's ``logLik()``); see :mod:`alsmeta.engine.likelihood`.
        """
        cached = self.__dict__.get("_fit_stats")
        if cached is None:
            if self.k == 0:
                nan = float("nan")
                cached = FitStatistics(nan, nan, nan, nan, 0, 0, self.method == "REML")
            else:
                X = np.ones((self.k, 1))
                tau2 = 0.0 if self.method == "CE" else self.tau2
                estimated = self.method != "CE" and not self.tau2_fixed
                cached = fit_statistics(
                    self.yi, self.vi, X, tau2, np.array([self.estimate]), self.method == "REML", estimated
                )
            object.__setattr__(self, "_fit_stats", cached)
        return cached

    @property
    def loglik(self) -> float:
        """Log-likelihood (restricted log-likelihood for REML), as metafor's ``logLik()``."""
        return self.fit_stats.loglik

    @property
    def aic(self) -> float:
        return self.fit_stats.aic

    @property
    def bic(self) -> float:
        return self.fit_stats.bic

    @property
    def aicc(self) -> float:
        return self.fit_stats.aicc

    # ----------------------------------------------------------------- output
    def to_frame(self) -> pd.DataFrame:
        """One row per study: label, yi, vi, sei, study CI (z, at ``level``) and % weight."""
        crit = stats.norm.isf((1.0 - self.level) / 2.0)
        sei = self.sei
        return pd.DataFrame(
            {
                "label": list(self.labels),
                "yi": self.yi,
                "vi": self.vi,
                "sei": sei,
                "ci_low": self.yi - crit * sei,
                "ci_high": self.yi + crit * sei,
                "weight": self.weights,
            }
        )

    def to_dict(self) -> dict[str, Any]:
        """All scalar results and the specification as plain Python values (JSON-ready)."""
        out: dict[str, Any] = {}
        for name, value in asdict(self).items():
            if name in ("yi", "vi", "user_weights"):
                out[name] = None if value is None else [float(x) for x in value]
            elif name in ("labels", "notes"):
                out[name] = list(value)
            elif isinstance(value, (bool, np.bool_)):
                out[name] = bool(value)
            elif isinstance(value, (int, np.integer)):
                out[name] = int(value)
            elif isinstance(value, (float, np.floating)):
                out[name] = float(value) if np.isfinite(value) else None
            else:
                out[name] = value
        out["tau"] = self.tau if np.isfinite(self.tau) else None
        return out

    def summary(self, digits: int = 4) -> str:
        """metafor-like text summary of the model."""
        return _format_summary(self, digits)

    def __str__(self) -> str:
        return self.summary()


def _fmt(x: float, digits: int) -> str:
    """Fixed ``digits`` decimals; scientific notation where that would hide the value (|x| >= 1e7 or < 10^-digits)."""
    if x is None or not np.isfinite(x):
        return "NA"
    if x != 0 and (abs(x) >= 1e7 or abs(x) < 0.5 * 10.0**-digits):
        return f"{x:.{digits}e}"
    return f"{x:.{digits}f}"


def _fmt_p(p: float, digits: int) -> str:
    if p is None or not np.isfinite(p):
        return "NA"
    floor = 10.0 ** (-digits)
    return f"<{floor:.{digits}f}".replace("0.", ".", 1) if p < floor else f"{p:.{digits}f}"


def _format_summary(r: PooledResult, digits: int) -> str:
    lv = f"{100 * r.level:g}%"
    if r.is_random_effects:
        head = f"Random-effects model (k = {r.k}; tau^2 estimator: {r.method}, {METHOD_NAMES[r.method]})"
    else:
        head = f"Common-effect model (k = {r.k}; inverse-variance weights)"
    lines = [head, ""]
    if r.is_empty:
        lines += [
            "No studies available: no study met the criteria for this analysis, so there is",
            "nothing to pool. Every statistic is undefined (NaN); this is a result, not an error.",
        ]
        return "\n".join(lines)
    if r.is_random_effects:
        tau2_txt = _fmt(r.tau2, digits) + (
            " (fixed by the user)" if r.tau2_fixed else f" (SE = {_fmt(r.tau2_se, digits)})"
        )
        lines += [
            f"tau^2 (estimated amount of total heterogeneity): {tau2_txt}",
            f"tau (square root of estimated tau^2 value):      {_fmt(r.tau, digits)}",
        ]
    lines += [
        f"I^2 (total heterogeneity / total variability):   {_fmt(r.i2, 2)}%",
        f"H^2 (total variability / sampling variability):  {_fmt(r.h2, 2)}",
    ]
    if r.is_random_effects and np.isfinite(r.tau2_ci_low):
        lines += [
            "",
            f"Q-profile {lv} CI: tau^2 [{_fmt(r.tau2_ci_low, digits)}, {_fmt(r.tau2_ci_high, digits)}], "
            f"I^2 [{_fmt(r.i2_ci_low, 2)}%, {_fmt(r.i2_ci_high, 2)}%], "
            f"H^2 [{_fmt(r.h2_ci_low, 2)}, {_fmt(r.h2_ci_high, 2)}]",
        ]
    lines += [
        "",
        "Test for Heterogeneity:",
        f"Q(df = {r.q_df}) = {_fmt(r.q, digits)}, p-val {_p_phrase(r.q_pvalue, digits)}",
    ]
    stat_name = "tval" if np.isfinite(r.df) else "zval"
    test_name = {"z": "z", "t": "t", "knha": "Knapp-Hartung (HKSJ)", "adhoc": "Knapp-Hartung, ad hoc (>= z)"}[r.test]
    df_txt = f", df = {r.df:g}" if np.isfinite(r.df) else ""
    lines += ["", f"Model Results ({test_name} test{df_txt}):", ""]
    cols = ["estimate", "se", stat_name, "pval", "ci.lb", "ci.ub"]
    vals = [
        _fmt(r.estimate, digits),
        _fmt(r.se, digits),
        _fmt(r.statistic, digits),
        _fmt_p(r.pvalue, digits),
        _fmt(r.ci_low, digits),
        _fmt(r.ci_high, digits),
    ]
    widths = [max(len(c), len(v)) for c, v in zip(cols, vals)]
    lines.append("  ".join(c.rjust(w) for c, w in zip(cols, widths)))
    lines.append("  ".join(v.rjust(w) for v, w in zip(vals, widths)))
    if r.is_random_effects:
        lines += ["", f"{lv} prediction interval: [{_fmt(r.pi_low, digits)}, {_fmt(r.pi_high, digits)}]"]
    if r.notes:
        lines += ["", "Notes:"] + [f"- {n}" for n in r.notes]
    return "\n".join(lines)


def _p_phrase(p: float, digits: int) -> str:
    txt = _fmt_p(p, digits)
    return txt if txt.startswith("<") or txt == "NA" else f"= {txt}"


def _notes_and_warnings(b: BatchResult, method: str, test: str, k: int, maxiter: int) -> tuple[str, ...]:
    notes: list[str] = []
    if k == 0:
        notes.append("No studies available: nothing to pool (k = 0).")
        return tuple(notes)
    if k == 1:
        notes.append("Only one study: the estimate is that study's effect; heterogeneity cannot be assessed.")
    elif k == 2:
        notes.append("Only two studies: tau^2 rests on one degree of freedom and is very imprecise.")
    if bool(b.test_downgraded[0]):
        msg = f"test={test!r} needs at least two studies; the z test was used instead (as metafor does)."
        notes.append(msg)
        warnings.warn(msg, AlsmetaWarning, stacklevel=3)
    if method == "CE" and test in ("knha", "adhoc"):
        msg = "The Knapp-Hartung adjustment is meant for random-effects models; applied to the common-effect fit as requested."
        notes.append(msg)
        warnings.warn(msg, AlsmetaWarning, stacklevel=3)
    if test == "knha" and k >= 2 and b.se[0] == 0:
        msg = (
            "Knapp-Hartung: the effects do not vary around the estimate (weighted residual sum of squares 0), so "
            "the adjusted standard error is 0 and the test is degenerate (CI of width 0, p = 0, as metafor). "
            "Use test='adhoc' (never narrower than z) or test='z'."
        )
        notes.append(msg)
        warnings.warn(msg, AlsmetaWarning, stacklevel=3)
    # Recorded quietly (flag + note) when the answer is not affected; a warning only when it is.
    if bool(b.fallback[0]) and bool(b.converged[0]):
        notes.append(
            f"{method}: Fisher scoring did not settle within {maxiter} iterations (it can oscillate); tau^2 is the "
            "root of the same estimating equation found by a bracketing root finder, so the estimate is unaffected "
            "(fallback=True)."
        )
    if bool(b.boundary_reset[0]):
        notes.append(
            f"{method}: Fisher scoring reached a point with lower likelihood than tau^2 = 0; tau^2 = 0, "
            "the maximum, is reported (as metafor)."
        )
    if bool(b.multimodal[0]):
        msg = (
            f"{method}: the likelihood has more than one maximum. Fisher scoring from the HE start stops at "
            f"tau^2 = 0 (metafor reports that value); the global maximum at tau^2 = {b.tau2[0]:.6g} is reported. "
            "The two differ in substance: report both, or use an estimator with a unique solution (method='PM' or 'DL')."
        )
        notes.append(msg)
        warnings.warn(msg, AlsmetaWarning, stacklevel=3)
    if not bool(b.converged[0]):
        msg = (
            f"{method}: tau^2 could not be estimated (Fisher scoring and the bracketing root finder both failed); "
            "the results are not reliable. Use a non-iterative estimator (method='DL' or 'PM') or check the data."
        )
        notes.append(msg)
        warnings.warn(msg, AlsmetaWarning, stacklevel=3)
    if method != "CE" and k >= 2 and b.tau2[0] == 0 and not np.isnan(b.tau2_ci_low[0]) and b.tau2_ci_high[0] == 0:
        notes.append(
            "The Q-profile interval for tau^2 is the null set (both bounds at 0): the studies vary less than their sampling variances imply."
        )
    return tuple(notes)


def pool(
    yi: Sequence[float] | Array,
    vi: Sequence[float] | Array | None = None,
    *,
    sei: Sequence[float] | Array | None = None,
    method: str = "REML",
    test: str = "z",
    level: float = 0.95,
    labels: Sequence[Any] | None = None,
    tau2: float | None = None,
    tol: float = 1e-12,
    maxiter: int = 100,
    na_action: str = "raise",
    weights: Sequence[float] | Array | None = None,
) -> PooledResult:
    """Pool study effects with a common-effect or random-effects model.

    Parameters
    ----------
    yi
        Study effect sizes.
    vi, sei
        Sampling variances or standard errors (exactly one of them), > 0.
    method
        tau^2 estimator: ``"CE"`` (common effect; aliases ``"EE"``, ``"FE"``),
        ``"DL"``, ``"HE"``, ``"HS"``, ``"HSk"``, ``"SJ"``, ``"ML"``,
        ``"REML"`` (default), ``"EB"``, ``"PM"``, ``"PMM"``, or ``"GENQ"``
        (generalised Q estimator with the ``weights``; Jackson et al. 2014).
    test
        ``"z"`` (default, as metafor), ``"t"``, ``"knha"`` (Hartung-Knapp-
        Sidik-Jonkman; recommended with few studies) or ``"adhoc"``.
    level
        Confidence level for the CI, the prediction interval and the
        Q-profile intervals (0.95 or 95).
    labels
        Study labels; default ``Study 1`` ... . Duplicates are made unique
        as metafor does (``.1``, ``.2`` appended to each copy) with a warning.
    tau2
        Fix tau^2 at this value (a number >= 0) instead of estimating it.
    tol, maxiter
        Convergence control of the iterative estimators: ``tol`` finite > 0,
        ``maxiter`` a whole number >= 1.
    na_action
        ``"raise"`` (default): a missing value (NaN/None) in ``yi``, ``vi``/
        ``sei`` or ``labels`` is an error naming the studies and the column;
        ``"drop"``: such studies are dropped with an :class:`AlsmetaWarning`
        saying how many and which.

    Returns
    -------
    PooledResult

    Raises
    ------
    AlsmetaInputError
        For bad input: the message names the argument and, for data, the
        study and the column. pandas Series are paired by their index (same
        labels in another order are aligned; different labels are an error).

    Notes
    -----
    The engine fits every meta-analysis on a standardised scale (effects
    divided by a power of two ``s`` near the typical standard error,
    variances by ``s^2``; see :func:`alsmeta.engine.batch.pool_many`), so results
    scale exactly with the data from 1e-150 to 1e150 and ordinary data give
    the same bits as without it. Data whose variances differ by more than a
    factor 1e8 are refused with a message naming the studies (see
    :func:`alsmeta.validation.out_of_range`).

    Results agree with metafor's ``rma(yi, vi, method=, test=)``,
    ``predict()`` and ``confint()`` (Q-profile) to about 1e-10 when metafor
    is run with tight convergence control; see ``tests/reference``.

    References
    ----------
    DerSimonian R, Laird N (1986). Meta-analysis in clinical trials.
    Viechtbauer W (2005, 2007, 2010). Higgins JPT, Thompson SG (2002).
    Quantifying heterogeneity in a meta-analysis. Stat Med 21:1539-1558.
    Riley RD, Higgins JPT, Deeks JJ (2011). Interpretation of random effects
    meta-analyses. BMJ 342:d549.
    """
    method = "GENQ" if str(method).upper() == "GENQ" else canonical_method(method)
    test = canonical_test(test)
    level = probability_level(level)
    tol = positive_number(tol, "tol")
    maxiter = whole_number(maxiter, "maxiter")
    if tau2 is not None:
        tau2 = nonnegative_number(tau2, "tau2")
    if (vi is None) == (sei is None):
        raise AlsmetaInputError("give exactly one of vi= (sampling variances) or sei= (standard errors)")
    if method == "GENQ" and weights is None:
        raise AlsmetaInputError("weights: method='GENQ' needs weights= (the generalised Q estimator uses them)")
    user_weights = None
    if weights is None:
        y, v, names = study_data(yi, vi, sei, labels, na_action)
    else:
        y, v, names, user_weights = _study_data_weighted(yi, vi, sei, labels, na_action, weights)
    genq = None
    if method == "GENQ" and user_weights is not None and y.size and tau2 is None:
        genq = genq_tau2(y, v, np.ones((y.shape[0], 1)), user_weights)
    engine_method = "REML" if method == "GENQ" else method  # GENQ: tau2 is passed as fixed
    b = pool_many(
        y[None, :],
        v[None, :],
        method=engine_method,
        test=test,
        level=level,
        tau2=genq.tau2 if genq is not None else tau2,
        tol=tol,
        maxiter=maxiter,
    )
    notes = _notes_and_warnings(b, method, test, y.shape[0], maxiter)
    scalars = {name: _scalar(getattr(b, name)[0]) for name in _RESULT_ARRAYS}
    if genq is not None:
        scalars["tau2_se"] = genq.tau2_se
    if user_weights is not None and y.size:
        scalars.update(_weighted_inference(y, v, user_weights, scalars, test, level))
    return PooledResult(
        user_weights=user_weights,
        yi=y,
        vi=v,
        labels=tuple(names),
        method=method,
        test=test,
        level=level,
        tau2_fixed=tau2 is not None and method != "CE",
        notes=notes,
        **scalars,
    )


def _study_data_weighted(
    yi: Any, vi: Any, sei: Any, labels: Any, na_action: str, weights: Any
) -> tuple[Array, Array, list[str], Array]:
    """:func:`study_data` plus the validated user weights of the studies kept."""
    shown = None if labels is None or isinstance(labels, (str, bytes)) else [str(x) for x in labels]
    a = numeric_column(weights, "weights", shown, allow_nan=True, nonnegative=True)
    if np.ndim(yi) == 1 and len(a) != len(yi):
        raise AlsmetaInputError(f"weights: {len(a)} weights given for {len(yi)} studies")
    y, v, names, keep = study_data_kept(yi, vi, sei, labels, na_action, {"weights": np.isnan(a)})
    a = a[keep] if keep is not None else a
    if y.size and not np.any(a > 0):
        raise AlsmetaInputError("weights: every weight is 0; at least one study needs a positive weight")
    return y, v, names, a


def _weighted_inference(
    y: Array, v: Array, a: Array, scalars: dict[str, Any], test: str, level: float
) -> dict[str, float]:
    """Estimate, sandwich SE, test, CI and PI of an intercept-only fit with user weights (metafor's rma(weights=))."""
    tau2 = scalars["tau2"]
    k = y.shape[0]
    coef = weighted_coefficients(y, v, np.ones((k, 1)), a, tau2, test if k >= 2 else "z")
    mu, se = np.float64(coef.beta[0]), np.float64(np.sqrt(coef.vcov[0, 0]))
    df = scalars["df"]
    dist = stats.t(df) if np.isfinite(df) else stats.norm()
    crit = float(dist.isf((1.0 - level) / 2.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = mu / se
    pi_half = crit * np.sqrt(se**2 + tau2) if np.isfinite(scalars["pi_low"]) else np.nan
    return {
        "estimate": float(mu),
        "se": float(se),
        "statistic": float(stat),
        "pvalue": float(2.0 * dist.sf(abs(stat))),
        "ci_low": float(mu - crit * se),
        "ci_high": float(mu + crit * se),
        "pi_low": float(mu - pi_half),
        "pi_high": float(mu + pi_half),
    }


def study_data(
    yi: Any,
    vi: Any,
    sei: Any,
    labels: Any,
    na_action: str = "raise",
    extra_missing: dict[str, Any] | None = None,
) -> tuple[Array, Array, list[str]]:
    """Validated ``(yi, vi, labels)`` of one meta-analysis (``vi`` from ``sei`` when given).

    See :func:`study_data_kept`, which also returns the studies kept.
    """
    y, v, names, _ = study_data_kept(yi, vi, sei, labels, na_action, extra_missing)
    return y, v, names


def study_data_kept(
    yi: Any,
    vi: Any,
    sei: Any,
    labels: Any,
    na_action: str = "raise",
    extra_missing: dict[str, Any] | None = None,
) -> tuple[Array, Array, list[str], npt.NDArray[np.bool_] | None]:
    """Validated ``(yi, vi, labels, keep)`` of one meta-analysis.

    pandas input is paired by index (:func:`alsmeta.validation.align_on_index`;
    callers align further columns such as moderators first), missing values
    in ``yi``, ``vi``/``sei``, ``labels`` and the boolean "missing" arrays of
    ``extra_missing`` (e.g. one per moderator) are handled by ``na_action``
    (:func:`alsmeta.validation.missing_studies`), duplicate labels are made
    unique, and data that double precision cannot pool are refused
    (:func:`alsmeta.validation.check_computable`). ``keep`` marks the
    studies kept (None when none was dropped). Every error names the study
    and the column.
    """
    na_action = na_action_arg(na_action)
    spread_name = "vi" if vi is not None else "sei"
    aligned = align_on_index({"yi": yi, spread_name: vi if vi is not None else sei, "labels": labels})
    yi, spread, labels = aligned["yi"], aligned[spread_name], aligned["labels"]
    if isinstance(yi, (str, bytes)) or np.ndim(yi) != 1:
        raise AlsmetaInputError("yi: expected a one-dimensional sequence with one effect per study")
    if isinstance(spread, (str, bytes)) or np.ndim(spread) != 1:
        raise AlsmetaInputError(f"{spread_name}: expected one value per study")
    k = len(yi)
    if len(spread) != k:
        raise AlsmetaInputError(f"yi has {k} values but {spread_name} has {len(spread)}: one per study is required")
    if labels is not None:
        if isinstance(labels, (str, bytes)):
            raise AlsmetaInputError("labels: expected one label per study, got a single string")
        labels = list(labels)
        if len(labels) != k:
            raise AlsmetaInputError(f"labels: {len(labels)} labels given for {k} studies")
        lab_missing = missing_labels(labels)
        shown = [f"row {i + 1}" if m else str(x) for i, (x, m) in enumerate(zip(labels, lab_missing))]
    else:
        lab_missing = None
        shown = [f"Study {i + 1}" for i in range(k)]
    y = numeric_column(yi, "yi", shown, allow_nan=True)
    s = numeric_column(spread, spread_name, shown, allow_nan=True, positive=True)
    keep = missing_studies({"yi": y, spread_name: s, **(extra_missing or {})}, labels, na_action, lab_missing)
    if keep is not None:
        y, s = y[keep], s[keep]
        labels = [x for x, kp in zip(labels, keep) if kp] if labels is not None else None
        shown = [x for x, kp in zip(shown, keep) if kp]
    names = study_labels(labels, y.shape[0]) if labels is not None else shown
    if vi is None:
        s = s * s
        bad = np.flatnonzero((s == 0) | ~np.isfinite(s))
        if bad.size:
            raise AlsmetaInputError(
                f"study {names[bad[0]]!r}, column 'sei': its square (the variance) is not representable "
                f"in double precision ({s[bad[0]]!r}); rescale the data"
            )
    check_computable(y, s, names, spread_name)
    return y, s, names, keep


_RESULT_ARRAYS = (
    "k",
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
    "i2_ci_low",
    "i2_ci_high",
    "h2",
    "h2_ci_low",
    "h2_ci_high",
    "q",
    "q_df",
    "q_pvalue",
    "pi_low",
    "pi_high",
    "converged",
    "fallback",
    "boundary_reset",
    "multimodal",
    "test_downgraded",
    "iterations",
)


def _scalar(x: Any) -> Any:
    if isinstance(x, np.bool_):
        return bool(x)
    if isinstance(x, np.integer):
        return int(x)
    return float(x)
