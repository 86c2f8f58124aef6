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
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from alsmeta.engine.batch import canonical_test, pool_many
from alsmeta.engine.distributions import norm_isf, norm_sf, t_isf, t_sf
from alsmeta.engine.estimators import canonical_method
from alsmeta.engine.likelihood import FitStatistics, InformationCriteria, fit_statistics
from alsmeta.engine.single import QProfile, fit_one, qprofile_is_null
from alsmeta.engine.weighted import genq_tau2, weighted_coefficients
from alsmeta.results import (
    ResultMixin,
    Transform,
    fmt_number,
    fmt_pvalue,
    p_phrase,
    text_table,
    transf_name,
    transformed,
)
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

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["PooledResult", "pool", "study_columns", "study_data", "study_data_kept"]

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
class PooledResult(ResultMixin, InformationCriteria):
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
        Between-study variance, its SE and Q-profile interval. The Q-profile
        intervals (for tau^2, I^2 and H^2) take two root searches, so they
        are computed on first use (any of the six attributes, ``to_dict()``,
        ``summary()``) and kept; ``qprofile`` holds them.
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
    i2: float
    h2: float
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
    qprofile: QProfile | None = field(default=None, repr=False)
    user_weights: Array | None = None

    # ----------------------------------------------------------------- Q-profile intervals (on first use)
    def _qprofile_bound(self, name: str) -> float:
        return float("nan") if self.qprofile is None else self.qprofile.bounds()[name]

    @property
    def tau2_ci_low(self) -> float:
        """Lower Q-profile confidence bound for tau^2 (Viechtbauer 2007)."""
        return self._qprofile_bound("tau2_ci_low")

    @property
    def tau2_ci_high(self) -> float:
        """Upper Q-profile confidence bound for tau^2."""
        return self._qprofile_bound("tau2_ci_high")

    @property
    def i2_ci_low(self) -> float:
        """Lower bound for I^2 (percent), from the tau^2 bound."""
        return self._qprofile_bound("i2_ci_low")

    @property
    def i2_ci_high(self) -> float:
        """Upper bound for I^2 (percent), from the tau^2 bound."""
        return self._qprofile_bound("i2_ci_high")

    @property
    def h2_ci_low(self) -> float:
        """Lower bound for H^2, from the tau^2 bound."""
        return self._qprofile_bound("h2_ci_low")

    @property
    def h2_ci_high(self) -> float:
        """Upper bound for H^2, from the tau^2 bound."""
        return self._qprofile_bound("h2_ci_high")

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

    # ----------------------------------------------------------------- output
    def to_frame(self, transf: Transform | None = None) -> pd.DataFrame:
        """One row per study: label, yi, vi, sei, study CI (z, at ``level``) and % weight.

        With ``transf`` (e.g. ``np.exp`` for log odds or risk ratios) ``yi``
        and its CI are back-transformed and ``vi``/``sei`` (quantities on the
        model's scale) are left out, as metafor's ``summary(escalc, transf=)``.
        """
        import pandas as pd  # imported on use: a fit does not need pandas

        crit = float(norm_isf((1.0 - self.level) / 2.0))
        sei = self.sei
        frame = pd.DataFrame(
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
        if transf is not None:
            for col in ("yi", "ci_low", "ci_high"):
                frame[col] = transformed(frame[col].to_numpy(), transf)
            frame = frame.drop(columns=["vi", "sei"])
        return frame

    def _field_items(self) -> list[tuple[str, Any]]:
        """The fields in order, each Q-profile bound (computed on first use) after its statistic."""
        return [(name, getattr(self, name)) for name in _dict_fields()]

    def _derived(self) -> dict[str, Any]:
        return {"tau": self.tau}

    def summary(self, digits: int = 4, transf: Transform | None = None) -> str:
        """metafor-like text summary of the model.

        With ``transf`` (e.g. ``np.exp``) a block with the back-transformed
        estimate, CI and prediction interval follows the model results, as
        metafor's ``predict(fit, transf=exp)``.
        """
        return _format_summary(self, digits, transf)


def _dict_fields() -> tuple[str, ...]:
    """The names in ``to_dict()``: the fields in order, each Q-profile bound after its statistic."""
    names: list[str] = []
    for f in fields(PooledResult):
        if f.name == "qprofile":
            continue
        names.append(f.name)
        if f.name in ("tau2_se", "i2", "h2"):
            stem = f.name.removesuffix("_se")
            names += [f"{stem}_ci_low", f"{stem}_ci_high"]
    return tuple(names)


def _format_summary(r: PooledResult, digits: int, transf: Transform | None = None) -> str:
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
        tau2_txt = fmt_number(r.tau2, digits) + (
            " (fixed by the user)" if r.tau2_fixed else f" (SE = {fmt_number(r.tau2_se, digits)})"
        )
        lines += [
            f"tau^2 (estimated amount of total heterogeneity): {tau2_txt}",
            f"tau (square root of estimated tau^2 value):      {fmt_number(r.tau, digits)}",
        ]
    lines += [
        f"I^2 (total heterogeneity / total variability):   {fmt_number(r.i2, 2)}%",
        f"H^2 (total variability / sampling variability):  {fmt_number(r.h2, 2)}",
    ]
    if r.is_random_effects and np.isfinite(r.tau2_ci_low):
        lines += [
            "",
            f"Q-profile {lv} CI: tau^2 [{fmt_number(r.tau2_ci_low, digits)}, {fmt_number(r.tau2_ci_high, digits)}], "
            f"I^2 [{fmt_number(r.i2_ci_low, 2)}%, {fmt_number(r.i2_ci_high, 2)}%], "
            f"H^2 [{fmt_number(r.h2_ci_low, 2)}, {fmt_number(r.h2_ci_high, 2)}]",
        ]
    lines += [
        "",
        "Test for Heterogeneity:",
        f"Q(df = {r.q_df}) = {fmt_number(r.q, digits)}, p-val {p_phrase(r.q_pvalue, digits)}",
    ]
    stat_name = "tval" if np.isfinite(r.df) else "zval"
    test_name = {"z": "z", "t": "t", "knha": "Knapp-Hartung (HKSJ)", "adhoc": "Knapp-Hartung, ad hoc (>= z)"}[r.test]
    df_txt = f", df = {r.df:g}" if np.isfinite(r.df) else ""
    lines += ["", f"Model Results ({test_name} test{df_txt}):", ""]
    cols = ["estimate", "se", stat_name, "pval", "ci.lb", "ci.ub"]
    vals = [
        fmt_number(r.estimate, digits),
        fmt_number(r.se, digits),
        fmt_number(r.statistic, digits),
        fmt_pvalue(r.pvalue, digits),
        fmt_number(r.ci_low, digits),
        fmt_number(r.ci_high, digits),
    ]
    lines += text_table(cols, [vals])
    if r.is_random_effects:
        lines += ["", f"{lv} prediction interval: [{fmt_number(r.pi_low, digits)}, {fmt_number(r.pi_high, digits)}]"]
    if transf is not None:
        lines += ["", f"Back-transformed ({transf_name(transf)}):", ""]
        names = ["pred", "ci.lb", "ci.ub"] + (["pi.lb", "pi.ub"] if r.is_random_effects else [])
        values = [r.estimate, r.ci_low, r.ci_high] + ([r.pi_low, r.pi_high] if r.is_random_effects else [])
        lines += text_table(names, [[fmt_number(x, digits) for x in transformed(np.array(values), transf)]])
    lines += r._notes_lines()
    return "\n".join(lines)


KNHA_COMMON_EFFECT_MESSAGE = (
    "The Knapp-Hartung adjustment is meant for random-effects models; applied to the common-effect fit as requested."
)


def knha_degenerate_message(around: str = "the estimate") -> str:
    """The warning for a Knapp-Hartung test whose weighted residual sum of squares is 0 (pool, meta_regression).

    ``around`` names what the effects do not vary around: the pooled
    estimate, or a meta-regression's fitted values.
    """
    return (
        f"Knapp-Hartung: the effects do not vary around {around} (weighted residual sum of squares 0), so "
        "the adjusted standard error is 0 and the test is degenerate (CI of width 0, p = 0, as metafor). "
        "Use test='adhoc' (never narrower than z) or test='z'."
    )


def _notes_and_warnings(
    b: dict[str, Any], method: str, test: str, k: int, maxiter: int, qprofile_null: bool
) -> tuple[str, ...]:
    notes: list[str] = []
    if k == 0:
        notes.append("No studies available: nothing to pool (k = 0).")
        return tuple(notes)
    if k == 1:
        notes.append("Only one study: the estimate is that study's effect; heterogeneity cannot be assessed.")
    elif k == 2:
        notes.append("Only two studies: tau^2 rests on one degree of freedom and is very imprecise.")
    if b["test_downgraded"]:
        msg = f"test={test!r} needs at least two studies; the z test was used instead (as metafor does)."
        notes.append(msg)
        warnings.warn(msg, AlsmetaWarning, stacklevel=3)
    if method == "CE" and test in ("knha", "adhoc"):
        msg = KNHA_COMMON_EFFECT_MESSAGE
        notes.append(msg)
        warnings.warn(msg, AlsmetaWarning, stacklevel=3)
    if test == "knha" and k >= 2 and b["se"] == 0:
        msg = knha_degenerate_message()
        notes.append(msg)
        warnings.warn(msg, AlsmetaWarning, stacklevel=3)
    # Recorded quietly (flag + note) when the answer is not affected; a warning only when it is.
    if b["fallback"] and b["converged"]:
        notes.append(
            f"{method}: Fisher scoring did not settle within {maxiter} iterations (it can oscillate); tau^2 is the "
            "root of the same estimating equation found by a bracketing root finder, so the estimate is unaffected "
            "(fallback=True)."
        )
    if b["boundary_reset"]:
        notes.append(
            f"{method}: Fisher scoring reached a point with lower likelihood than tau^2 = 0; tau^2 = 0, "
            "the maximum, is reported (as metafor)."
        )
    if b["multimodal"]:
        msg = (
            f"{method}: the likelihood has more than one maximum. Fisher scoring from the HE start stops at "
            f"tau^2 = 0 (metafor reports that value); the global maximum at tau^2 = {b['tau2']:.6g} is reported. "
            "The two differ in substance: report both, or use an estimator with a unique solution "
            "(method='PM' or 'DL')."
        )
        notes.append(msg)
        warnings.warn(msg, AlsmetaWarning, stacklevel=3)
    if not b["converged"]:
        msg = (
            f"{method}: tau^2 could not be estimated (Fisher scoring and the bracketing root finder both failed); "
            "the results are not reliable. Use a non-iterative estimator (method='DL' or 'PM') or check the data."
        )
        notes.append(msg)
        warnings.warn(msg, AlsmetaWarning, stacklevel=3)
    if qprofile_null and b["tau2"] == 0:
        notes.append(
            "The Q-profile interval for tau^2 is the null set (both bounds at 0): "
            "the studies vary less than their sampling variances imply."
        )
    return tuple(notes)


def pool(
    yi: Any,
    vi: Sequence[float] | Array | pd.Series | str | None = None,
    *,
    sei: Sequence[float] | Array | pd.Series | str | None = None,
    data: pd.DataFrame | None = None,
    method: str = "REML",
    test: str = "z",
    level: float = 0.95,
    labels: Sequence[Any] | None = None,
    tau2: float | None = None,
    tol: float = 1e-12,
    maxiter: int = 100,
    na_action: str = "raise",
    weights: Sequence[float] | Array | pd.Series | None = None,
) -> PooledResult:
    """Pool study effects with a common-effect or random-effects model.

    Parameters
    ----------
    yi
        Study effect sizes; or an effect-size object with ``yi``, ``vi``
        and ``labels`` attributes (:class:`alsmeta.EffectSizes`, what the
        effect-size functions return), whose labels are used unless
        ``labels`` is given; or, with ``data``, the name of a column.
    vi, sei
        Sampling variances or standard errors (exactly one of them), > 0;
        with ``data``, column names. Not given with an effect-size object.
    data
        A DataFrame holding the columns named by ``yi``, ``vi``/``sei`` and
        ``labels`` (as metafor's ``rma(yi, vi, data=dat)``); arguments that
        are not strings are used as given.
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
    yi, vi, sei, labels = study_columns(yi, vi, sei, labels, data)
    if (vi is None) == (sei is None):
        raise AlsmetaInputError("give exactly one of vi= (sampling variances) or sei= (standard errors)")
    if method == "GENQ" and weights is None:
        raise AlsmetaInputError("weights: method='GENQ' needs weights= (the generalised Q estimator uses them)")
    user_weights = None
    if weights is None:
        y, v, names = study_data(yi, vi, sei, labels, na_action)
    else:
        y, v, names, user_weights = _study_data_weighted(yi, vi, sei, labels, na_action, weights)
    k = y.shape[0]
    genq = None
    if method == "GENQ" and user_weights is not None and y.size and tau2 is None:
        genq = genq_tau2(y, v, np.ones((k, 1)), user_weights)
    fixed_tau2 = genq.tau2 if genq is not None else tau2
    # one fit on Python floats (engine.single), the batched engine for what that does not cover; same bits
    scalars = None
    if fixed_tau2 is None and user_weights is None:
        scalars = fit_one(y.tolist(), v.tolist(), method, test, level, tol, maxiter)
    if scalars is None:
        b = pool_many(
            y[None, :],
            v[None, :],
            method="REML" if method == "GENQ" else method,  # GENQ: its tau2 is passed as fixed
            test=test,
            level=level,
            tau2=fixed_tau2,
            confint=False,
            tol=tol,
            maxiter=maxiter,
        )
        scalars = {name: _scalar(getattr(b, name)[0]) for name in _RESULT_ARRAYS}
    if genq is not None:
        scalars["tau2_se"] = genq.tau2_se
    if user_weights is not None and y.size:
        scalars.update(_weighted_inference(y, v, user_weights, scalars, test, level))
    # the Q-profile interval of the unweighted Q (user weights leave tau2 and Q as they are, as metafor);
    # a GENQ fit's interval is tau2_ci(fit, method="bj")
    interval_defined = method not in ("CE", "GENQ") and tau2 is None and k >= 2
    notes = _notes_and_warnings(
        scalars, method, test, k, maxiter, interval_defined and qprofile_is_null(scalars["q"], k, level)
    )
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
        qprofile=QProfile(y, v, level, interval_defined),
        **scalars,
    )


def study_columns(yi: Any, vi: Any, sei: Any, labels: Any, data: Any = None) -> tuple[Any, Any, Any, Any]:
    """``(yi, vi, sei, labels)`` from what users have: arrays, an effect-size object, or columns of ``data``.

    An object with ``yi``, ``vi`` and ``labels`` attributes (such as
    :class:`alsmeta.EffectSizes`) supplies all three (``vi``/``sei`` must
    then be None; ``labels`` given explicitly win). With ``data`` (a
    DataFrame), string arguments name its columns; a missing column is an
    error naming the argument and the columns there are.
    """
    if not isinstance(yi, (str, bytes)) and all(hasattr(yi, a) for a in ("yi", "vi", "labels")):
        if vi is not None or sei is not None:
            raise AlsmetaInputError(
                f"vi/sei: not needed with an effect-size object ({type(yi).__name__}), which has its own variances"
            )
        return yi.yi, yi.vi, None, list(yi.labels) if labels is None else labels
    if data is None:
        return yi, vi, sei, labels
    import pandas as pd  # only a data= call needs it

    if not isinstance(data, pd.DataFrame):
        raise AlsmetaInputError(f"data: expected a pandas DataFrame, got {type(data).__name__}")

    def column(value: Any, name: str) -> Any:
        if not isinstance(value, str):
            return value
        if value not in data.columns:
            raise AlsmetaInputError(
                f"{name}: no column {value!r} in data (columns: {', '.join(map(str, data.columns))})"
            )
        return data[value]

    return column(yi, "yi"), column(vi, "vi"), column(sei, "sei"), column(labels, "labels")


def _study_data_weighted(
    yi: Any, vi: Any, sei: Any, labels: Any, na_action: str, weights: Any
) -> tuple[Array, Array, list[str], Array]:
    """:func:`study_data` plus the validated user weights of the studies kept.

    pandas weights are paired by index with the other pandas inputs
    (:func:`alsmeta.validation.align_on_index`, as ``meta_regression``): same
    labels in another order are reordered, different labels are an error.
    """
    spread = "vi" if vi is not None else "sei"
    aligned = align_on_index({"yi": yi, spread: vi if vi is not None else sei, "labels": labels, "weights": weights})
    yi, labels, weights = aligned["yi"], aligned["labels"], aligned["weights"]
    vi, sei = (aligned["vi"], None) if spread == "vi" else (None, aligned["sei"])
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
    t_based = bool(np.isfinite(df))
    crit = float(t_isf((1.0 - level) / 2.0, df) if t_based else norm_isf((1.0 - level) / 2.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = mu / se
    tail = float(t_sf(abs(stat), df) if t_based else norm_sf(abs(stat)))
    pi_half = crit * np.sqrt(se**2 + tau2) if np.isfinite(scalars["pi_low"]) else np.nan
    return {
        "estimate": float(mu),
        "se": float(se),
        "statistic": float(stat),
        "pvalue": 2.0 * tail,
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
        shown = [f"row {i + 1}" if m else str(x) for i, (x, m) in enumerate(zip(labels, lab_missing, strict=True))]
    else:
        lab_missing = None
        shown = study_labels(None, k)
    y = numeric_column(yi, "yi", shown, allow_nan=True)
    s = numeric_column(spread, spread_name, shown, allow_nan=True, positive=True)
    keep = missing_studies({"yi": y, spread_name: s, **(extra_missing or {})}, labels, na_action, lab_missing)
    if keep is not None:
        y, s = y[keep], s[keep]
        labels = [x for x, kp in zip(labels, keep, strict=True) if kp] if labels is not None else None
        shown = [x for x, kp in zip(shown, keep, strict=True) if kp]
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
    "i2",
    "h2",
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
