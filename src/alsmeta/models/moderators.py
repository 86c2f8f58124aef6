"""Moderator analyses: subgroups, mixed-effects meta-regression, permutation tests.

* :func:`meta_regression` - metafor's ``rma(yi, vi, mods=...)``: coefficient
  table, omnibus test ``QM``, residual heterogeneity ``QE``, tau^2, I^2, H^2
  and the pseudo-R^2 of Raudenbush (2009).
* :func:`subgroup_analysis` - the test for subgroup differences, either with a
  separate tau^2 per subgroup (each subgroup pooled on its own, then a
  fixed-effects Wald test of the subgroup estimates; RevMan's and metafor's
  usual approach) or a common tau^2 (meta-regression with the subgroup factor).
* :func:`permutation_test` - metafor's ``permutest()``: permutation p-values for
  meta-regression coefficients (rows of the design permuted) and for the
  intercept-only model (signs of the effects flipped); exact when the number
  of distinct permutations does not exceed the number requested.

The fits run on :mod:`alsmeta.engine.regression` (many models at once) and
:func:`alsmeta.pool_many`.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from math import factorial
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

from alsmeta.engine.batch import canonical_test, pool_many
from alsmeta.engine.estimators import canonical_method
from alsmeta.engine.likelihood import FitStatistics, InformationCriteria, information_criteria
from alsmeta.engine.regression import RegressionBatch, fit_regression_many
from alsmeta.engine.weighted import genq_tau2
from alsmeta.models._fitted import fixed_tau2, require_fit
from alsmeta.models.pooling import (
    KNHA_COMMON_EFFECT_MESSAGE,
    PooledResult,
    knha_degenerate_message,
    pool,
    study_data_kept,
)
from alsmeta.progress import Progress, ProgressArg
from alsmeta.results import ResultMixin, Transform, fmt_number, p_phrase, transformed
from alsmeta.validation import (
    AlsmetaInputError,
    AlsmetaWarning,
    align_on_index,
    flag,
    nonnegative_number,
    numeric_column,
    one_spread,
    probability_level,
    random_seed,
    whole_number,
)

Array = npt.NDArray[np.float64]


# ====================================================================== design matrices
def design_matrix(moderators: Any, k: int, labels: Sequence[str], intercept: bool = True) -> tuple[Array, list[str]]:
    """Build a design matrix from moderators, with R's default coding.

    Numeric columns enter as they are; text, boolean and categorical columns
    become treatment-coded dummies (reference = first level: the first
    category of a pandas Categorical, otherwise the smallest value), as R's
    ``factor()``. Missing values are rejected naming the study and column.

    Parameters
    ----------
    moderators
        A DataFrame, a Series, a dict of columns, or a 1-d/2-d array.
    k
        Number of studies.
    labels
        Study labels (for error messages).
    intercept
        Prepend a column of ones named ``"intercept"``.
    """
    frame = _as_frame(moderators, k)
    cols: list[Array] = []
    names: list[str] = []
    if intercept:
        cols.append(np.ones(k))
        names.append("intercept")
    for name in frame.columns:
        col = frame[name]
        cname = str(name)
        if _is_categorical(col):
            values, levels = factor_levels(col, cname, labels)
            for lev in levels[1:]:
                cols.append(np.array([1.0 if val == lev else 0.0 for val in values]))
                names.append(f"{cname}[{lev}]")
        else:
            cols.append(numeric_column(col.to_numpy(), cname, labels))
            names.append(cname)
    X = np.column_stack(cols) if cols else np.zeros((k, 0))
    if X.shape[1] == 0:
        raise AlsmetaInputError("moderators: no columns (and no intercept) - nothing to fit")
    rank = np.linalg.matrix_rank(X) if k else 0
    if rank < X.shape[1]:
        raise AlsmetaInputError(
            f"moderators: the design matrix ({', '.join(names)}) is not of full rank on these {k} studies "
            "(a moderator is constant or a linear combination of others)"
        )
    return X, names


def _is_categorical(col: pd.Series) -> bool:
    """Text, boolean and categorical columns are factors; a column holding any number is numeric.

    A numeric column with a stray text entry is therefore reported as a bad
    number (naming the study) instead of silently becoming a factor.
    """
    if isinstance(col.dtype, pd.CategoricalDtype) or col.dtype == bool:
        return True
    if col.dtype == object or pd.api.types.is_string_dtype(col.dtype):
        return not any(
            isinstance(x, (int, float, np.integer, np.floating))
            and not isinstance(x, (bool, np.bool_))
            and not (isinstance(x, float) and np.isnan(x))
            for x in col
        )
    return False


def factor_levels(col: pd.Series, column: str, labels: Sequence[str]) -> tuple[list[Any], list[Any]]:
    """Values and levels of a categorical column, as R's ``factor()``.

    Levels are the categories of a pandas Categorical (in their order, unused
    ones dropped) or the sorted distinct values. A missing value raises an
    error naming the study and the column.
    """
    values = list(col)
    for i, val in enumerate(values):
        if val is None or val is pd.NA or (isinstance(val, float) and np.isnan(val)):
            raise AlsmetaInputError(f"study {labels[i]!r}, column {column!r}: value is missing")
    present = set(values)
    if isinstance(col.dtype, pd.CategoricalDtype):
        return values, [lev for lev in col.cat.categories if lev in present]
    try:
        return values, sorted(present)
    except TypeError:
        return values, sorted(present, key=str)


def _as_frame(moderators: Any, k: int) -> pd.DataFrame:
    if isinstance(moderators, pd.DataFrame):
        frame = moderators.reset_index(drop=True)
    elif isinstance(moderators, pd.Series):
        frame = moderators.reset_index(drop=True).to_frame(name=moderators.name if moderators.name is not None else "x")
    elif isinstance(moderators, Mapping):
        frame = pd.DataFrame({str(key): list(val) for key, val in moderators.items()})
    else:
        if isinstance(moderators, (str, bytes)):
            raise AlsmetaInputError("moderators: expected one value per study, got a single string")
        arr = np.asarray(moderators, dtype=object)
        if arr.ndim == 1:
            frame = pd.DataFrame({"x": list(arr)})
        elif arr.ndim == 2:
            frame = pd.DataFrame({f"x{j + 1}": list(arr[:, j]) for j in range(arr.shape[1])})
        else:
            raise AlsmetaInputError(f"moderators: expected 1 or 2 dimensions, got {arr.ndim}")
        frame = frame.infer_objects()
    if len(frame) != k:
        raise AlsmetaInputError(f"moderators: {len(frame)} rows given for {k} studies")
    return frame


def _moderator_missing(moderators: Any, k: int) -> dict[str, npt.NDArray[np.bool_]]:
    """One boolean "missing" array per moderator column (only columns with a missing value)."""
    if moderators is None:
        return {}
    frame = _as_frame(moderators, k)
    return {str(name): miss for name in frame.columns if (miss := frame[name].isna().to_numpy()).any()}


def _subset_rows(values: Any, keep: npt.NDArray[np.bool_] | None) -> Any:
    """The kept rows of a moderator / group input of any supported type."""
    if keep is None or values is None:
        return values
    if isinstance(values, (pd.DataFrame, pd.Series)):
        return values.iloc[np.flatnonzero(keep)]
    if isinstance(values, dict):
        return {
            n: np.asarray(c, dtype=object)[keep] if not isinstance(c, pd.Series) else c.iloc[np.flatnonzero(keep)]
            for n, c in values.items()
        }
    arr = np.asarray(values, dtype=object)
    return arr[keep]


def _study_data_with(
    yi: Any, vi: Any, sei: Any, labels: Any, na_action: str, name: str, values: Any
) -> tuple[Array, Array, list[str], Any]:
    """Validated effects, variances (from ``vi`` or ``sei``) and labels plus the moderators/groups ``values``.

    pandas inputs are paired by index; missing values anywhere are handled by
    ``na_action`` (see :func:`alsmeta.models.pooling.study_data_kept`).
    """
    y, v, names, values, _ = _study_data_weighted(yi, vi, sei, labels, na_action, name, values, None)
    return y, v, names, values


def _study_data_weighted(
    yi: Any, vi: Any, sei: Any, labels: Any, na_action: str, name: str, values: Any, weights: Any
) -> tuple[Array, Array, list[str], Any, Array | None]:
    """:func:`_study_data_with` plus the validated user ``weights`` of the studies kept (None when not given).

    Weights must be finite and >= 0 (each bad entry named by study), are
    paired by index with the other pandas inputs, count as missing where
    NaN/None (handled by ``na_action``), and may not all be 0.
    """
    spread = one_spread(vi, sei)
    aligned = align_on_index(
        {"yi": yi, spread: vi if sei is None else sei, name: values, "labels": labels, "weights": weights}
    )
    yi, values, labels, weights = aligned["yi"], aligned[name], aligned["labels"], aligned["weights"]
    vi, sei = (aligned["vi"], None) if spread == "vi" else (None, aligned["sei"])
    k = len(yi) if np.ndim(yi) == 1 and not isinstance(yi, (str, bytes)) else 0
    if name == "groups":
        if isinstance(values, (str, bytes)) or np.ndim(values) != 1:
            raise AlsmetaInputError(f"groups: expected one subgroup per study ({k} values)")
        if len(values) != k:
            raise AlsmetaInputError(f"groups: {len(values)} values given for {k} studies")
        miss = np.array([pd.isna(g) or (isinstance(g, str) and not g.strip()) for g in values], dtype=bool)
        extra = {"groups": miss} if miss.any() else {}
    else:
        extra = _moderator_missing(values, k) if k else {}
    a = None
    if weights is not None:
        shown = None if labels is None or isinstance(labels, (str, bytes)) else [str(x) for x in labels]
        a = numeric_column(weights, "weights", shown, allow_nan=True, nonnegative=True)
        if len(a) != k:
            raise AlsmetaInputError(f"weights: {len(a)} weights given for {k} studies")
        if np.isnan(a).any():
            extra["weights"] = np.isnan(a)
    y, v, names, keep = study_data_kept(yi, vi, sei, labels, na_action, extra)
    values = _subset_rows(values, keep)
    if isinstance(values, (pd.DataFrame, pd.Series)):
        values = values.reset_index(drop=True)
    if a is not None:
        a = a[keep] if keep is not None else a
        if y.size and not np.any(a > 0):
            raise AlsmetaInputError("weights: every weight is 0; at least one study needs a positive weight")
    return y, v, names, values, a


# ====================================================================== meta-regression
@dataclass(frozen=True, eq=False)
class MetaRegressionResult(ResultMixin, InformationCriteria):
    """Result of :func:`meta_regression` (metafor's ``rma`` with moderators).

    Attributes
    ----------
    coefficients
        DataFrame, one row per term: ``term``, ``estimate``, ``se``,
        ``statistic`` (z or t), ``pvalue``, ``ci_low``, ``ci_high``.
    tau2, tau2_se
        Residual between-study variance.
    i2, h2
        Residual heterogeneity (I^2 in percent), as metafor.
    r2
        Pseudo-R^2 in percent: ``max(0, 100 (tau2_0 - tau2) / tau2_0)`` with
        ``tau2_0`` estimated for the intercept-only model (same estimator,
        also when ``tau2`` is fixed, as metafor); 0 when
        ``tau2_0 = 0``. For the common-effect model, the adjusted R^2 of the
        weighted regression. NaN without an intercept or without moderators.
    tau2_null
        tau^2 of the intercept-only model.
    qm, qm_df, qm_df2, qm_pvalue
        Omnibus test of the coefficients in ``btt`` (chi^2 with ``qm_df`` df;
        F with ``(qm_df, qm_df2)`` df for t-based tests).
    qe, qe_df, qe_pvalue
        Test for residual heterogeneity.
    ll_ml, ll_reml
        Log-likelihoods (metafor's ``fit.stats``).
    vcov
        Covariance matrix of the coefficients (including the Knapp-Hartung
        factor for t-based tests), as metafor's ``vcov()``.
    user_weights
        The weights given to ``meta_regression(weights=)`` (None:
        inverse-variance weights); see :attr:`weights`.
    yi, vi, X, terms, labels, method, test, level, btt, k, p
        Data and specification.
    converged, notes
    """

    coefficients: pd.DataFrame
    tau2: float
    tau2_se: float
    i2: float
    h2: float
    r2: float
    tau2_null: float
    qm: float
    qm_df: int
    qm_df2: float
    qm_pvalue: float
    qe: float
    qe_df: int
    qe_pvalue: float
    ll_ml: float
    ll_reml: float
    yi: Array
    vi: Array
    X: Array
    terms: tuple[str, ...]
    labels: tuple[str, ...]
    method: str
    test: str
    level: float
    btt: tuple[int, ...]
    k: int
    p: int
    tau2_fixed: bool
    converged: bool
    vcov: Array
    notes: tuple[str, ...] = field(default=())
    user_weights: Array | None = None

    @property
    def estimate(self) -> Array:
        return self.coefficients["estimate"].to_numpy()

    @property
    def weights(self) -> Array:
        """Percentage weights ``100 a / sum(a)``: user weights, else ``1/(v + tau^2)`` (metafor's ``weights()``)."""
        a = self.user_weights if self.user_weights is not None else 1.0 / (self.vi + self.tau2)
        return np.asarray(100.0 * a / a.sum(), dtype=np.float64)

    @property
    def se(self) -> Array:
        return self.coefficients["se"].to_numpy()

    @property
    def knha_degenerate(self) -> bool:
        """True when the Knapp-Hartung test is degenerate: residual sum of squares 0, so every SE is 0 (warned)."""
        return self.test == "knha" and not np.any(self.vcov)

    @property
    def fit_stats(self) -> FitStatistics:
        """Log-likelihood (restricted for REML) and AIC/BIC/AICc, as metafor's ``fitstats()``."""
        reml = self.method == "REML"
        parms = self.p + int(self.method != "CE" and not self.tau2_fixed)
        return information_criteria(
            self.ll_reml if reml else self.ll_ml, parms, self.k - self.p if reml else self.k, reml
        )

    def to_frame(self, transf: Transform | None = None) -> pd.DataFrame:
        """The coefficient table; with ``transf`` (e.g. ``np.exp``) estimates and CIs transformed, ``se`` left out."""
        return _transformed_table(self.coefficients, transf)

    def summary(self, digits: int = 4, transf: Transform | None = None) -> str:
        """metafor-like text summary; ``transf`` adds the transformed coefficients and CIs."""
        f = lambda x: "NA" if not np.isfinite(x) else f"{x:.{digits}f}"  # noqa: E731
        pv = lambda x: "NA" if np.isnan(x) else f"{x:.4g}"  # noqa: E731  (a degenerate test has no p-value)
        head = "Mixed-effects" if self.method != "CE" else "Common-effect (fixed-effects with moderators)"
        weighting = "; user weights" if self.user_weights is not None else ""
        lines = [f"{head} meta-regression (k = {self.k}; tau^2 estimator: {self.method}{weighting})", ""]
        if self.method != "CE":
            lines.append(f"tau^2 (estimated amount of residual heterogeneity): {f(self.tau2)} (SE = {f(self.tau2_se)})")
        lines += [
            f"I^2 (residual heterogeneity / unaccounted variability): {f(self.i2)}%",
            f"H^2 (unaccounted variability / sampling variability):   {f(self.h2)}",
        ]
        if np.isfinite(self.r2):
            lines.append(f"R^2 (amount of heterogeneity accounted for):            {self.r2:.2f}%")
        lines += [
            "",
            f"Test for Residual Heterogeneity: QE(df = {self.qe_df}) = {f(self.qe)}, p-val = {pv(self.qe_pvalue)}",
        ]
        if np.isfinite(self.qm_df2):
            lines.append(
                f"Test of Moderators: F(df1 = {self.qm_df}, df2 = {self.qm_df2:g}) = {f(self.qm)}, "
                f"p-val = {pv(self.qm_pvalue)}"
            )
        else:
            lines.append(f"Test of Moderators: QM(df = {self.qm_df}) = {f(self.qm)}, p-val = {pv(self.qm_pvalue)}")
        lines += [
            "",
            "Model Results:",
            self.coefficients.to_string(index=False, float_format=lambda x: f"{x:.{digits}f}"),
        ]
        if transf is not None:
            table = self.to_frame(transf)[["term", "estimate", "ci_low", "ci_high"]]
            lines += ["", "Transformed:", table.to_string(index=False, float_format=lambda x: f"{x:.{digits}f}")]
        lines += self._notes_lines()
        return "\n".join(lines)


def _transformed_table(table: pd.DataFrame, transf: Transform | None) -> pd.DataFrame:
    """A copy of a results table with ``estimate``, ``ci_low``, ``ci_high`` transformed and ``se`` dropped."""
    out = table.copy()
    if transf is not None:
        for col in ("estimate", "ci_low", "ci_high"):
            out[col] = transformed(out[col].to_numpy(), transf)
        out = out.drop(columns=["se"])
    return out


def meta_regression(
    yi: Sequence[float] | Array,
    vi: Sequence[float] | Array | None = None,
    moderators: Any = None,
    method: str = "REML",
    test: str = "z",
    level: float = 0.95,
    labels: Sequence[Any] | None = None,
    intercept: bool = True,
    btt: Sequence[int] | None = None,
    tau2: float | None = None,
    na_action: str = "raise",
    *,
    mods: Any = None,
    sei: Sequence[float] | Array | None = None,
    weights: Sequence[float] | Array | None = None,
) -> MetaRegressionResult:
    """Mixed-effects meta-regression, as metafor's ``rma(yi, vi, mods = ...)``.

    Parameters
    ----------
    yi, vi
        Effects and sampling variances.
    moderators
        DataFrame (one column per moderator; text/categorical columns are
        dummy-coded), Series, dict of columns or array (``k`` or ``(k, q)``).
        Required, given either here or as ``mods=``.
    mods
        The moderators under metafor's (and :func:`alsmeta.pool_multilevel`'s)
        name: give one of ``moderators`` and ``mods``, not both.
    sei
        Standard errors instead of ``vi`` (exactly one of the two).
    method
        tau^2 estimator: ``"REML"`` (default), ``"ML"``, ``"DL"``, ``"HE"``,
        ``"HS"``, ``"HSk"``, ``"SJ"``, ``"EB"``, ``"PM"``, ``"PMM"``, ``"CE"``
        (common effect: weighted least squares) or ``"GENQ"`` (generalised
        Q estimator with the ``weights``; DerSimonian and Kacker 2007,
        Jackson et al. 2014).
    test
        ``"z"``, ``"t"``, ``"knha"`` (Knapp & Hartung 2003, recommended) or
        ``"adhoc"``.
    level
        Confidence level.
    labels
        Study labels.
    intercept
        Include an intercept (default).
    btt
        Terms tested by ``QM`` (0-based column indices of the design);
        default: every term except the intercept.
    tau2
        Fix the residual tau^2 (a number >= 0).
    na_action
        ``"raise"`` (default): a missing value in ``yi``, ``vi``, a
        moderator or ``labels`` is an error naming the studies and the
        column; ``"drop"``: those studies are dropped with a warning saying
        how many and which. pandas inputs are paired by their index.
    weights
        User weights, one per study (finite, >= 0, not all 0; a missing
        weight is a missing value), as metafor's ``rma(weights=, mods=)``:
        the coefficients are the weighted least-squares estimates
        ``(X'AX)^-1 X'A y`` (``A = diag(weights)``) with the sandwich
        covariance ``(X'AX)^-1 X'A (V + tau^2) A X (X'AX)^-1`` (times the
        Knapp-Hartung factor for ``test="knha"``/``"adhoc"``, computed with
        the inverse-variance weights). tau^2, ``QE``, I^2 and H^2 are those
        of the unweighted model, except with ``method="GENQ"``, whose tau^2
        is the generalised Q estimator for these weights. pandas Series are
        paired by index with the other inputs.

    Notes
    -----
    Needs ``k >= p + 1`` studies for a random-effects model (``p`` columns in
    the design, intercept included) and ``k >= p`` for ``method="CE"``;
    with fewer an :class:`AlsmetaInputError` says so. With ``k = p + 1`` the
    residual tau^2 rests on one degree of freedom. A design that is not of
    full rank is rejected (metafor drops columns silently with a warning).
    Ill-conditioned designs (e.g. raw publication years) are fitted in a
    centred and scaled parametrisation and transformed back, which is more
    accurate than metafor's direct inversion (differences up to ~3e-7).

    References
    ----------
    Raudenbush SW (2009). Analyzing effect sizes: random-effects models. In:
    The Handbook of Research Synthesis and Meta-Analysis, 2nd ed.
    Viechtbauer W et al. (2015) Psychol Methods 20:360-374.
    DerSimonian R, Kacker R (2007). Random-effects model for meta-analysis of
    clinical trials: an update. Contemp Clin Trials 28:105-114.
    Jackson D, Turner R, Rhodes K, Viechtbauer W (2014). Methods for
    calculating confidence and credible intervals for the residual
    between-study variance in random effects meta-regression models. BMC Med
    Res Methodol 14:103.
    """
    if moderators is not None and mods is not None:
        raise AlsmetaInputError("moderators, mods: the same argument under two names; give one of them")
    if moderators is None:
        if mods is None:
            raise AlsmetaInputError("mods: required (the moderators, as moderators= or mods=)")
        moderators = mods
    method = "GENQ" if str(method).upper() == "GENQ" else canonical_method(method)
    if method == "GENQ" and weights is None:
        raise AlsmetaInputError("weights: method='GENQ' needs weights= (the generalised Q estimator uses them)")
    y, v, names, moderators, a = _study_data_weighted(yi, vi, sei, labels, na_action, "moderators", moderators, weights)
    k = y.size
    X, terms = design_matrix(moderators, k, names, intercept=flag(intercept, "intercept"))
    return _meta_regression_design(y, v, X, terms, names, method, test, level, btt, tau2, a)


def _meta_regression_design(
    y: Array,
    v: Array,
    X: Array,
    terms: Sequence[str],
    names: Sequence[str],
    method: str,
    test: str,
    level: float,
    btt: Sequence[int] | None,
    tau2: float | None,
    weights: Array | None = None,
) -> MetaRegressionResult:
    method = "GENQ" if method == "GENQ" else canonical_method(method)
    test = canonical_test(test)
    level = probability_level(level)
    if tau2 is not None:
        tau2 = nonnegative_number(tau2, "tau2")
    k, p = X.shape
    need = p if (method == "CE" or tau2 is not None) else p + 1
    if k < need:
        raise AlsmetaInputError(
            f"meta_regression: {k} studies for {p} coefficients{'' if need == p else ' plus tau^2'}; "
            f"at least {need} studies are needed"
        )
    if tau2 is not None and method == "CE":
        raise AlsmetaInputError("tau2: cannot fix tau2 for the common-effect model (method='CE')")
    if weights is not None:
        _check_weighted_design(X, terms, names, weights, method == "GENQ" and tau2 is None)
    b = fit_regression_many(
        y,
        v,
        X,
        method=method,
        test=test,
        level=level,
        btt=None if btt is None else tuple(btt),
        tau2=tau2,
        weights=weights,
    )
    notes: list[str] = []
    has_int = bool(np.any(np.all(X == 1.0, axis=0)))
    int_only = p == 1 and has_int
    tau2_null = float("nan")
    r2 = float("nan")
    if has_int and not int_only:
        if method == "CE":
            r2 = _adjusted_r2(y, v, X, weights)
        else:
            tau2_null = _null_tau2(y, v, method, weights)
            r2 = 0.0 if tau2_null == 0 else max(0.0, 100.0 * (tau2_null - b.tau2[0]) / tau2_null)
    if k == p:
        notes.append(f"k = {k} studies for {p} coefficients: no residual degrees of freedom left for heterogeneity.")
    elif k - p == 1 and method != "CE":
        notes.append("One residual degree of freedom: tau^2 and the tests are very imprecise.")
    if not bool(b.converged[0]):
        notes.append(f"{method}: tau^2 did not converge; results are not reliable.")
    if bool(b.fallback[0]):
        notes.append(f"{method}: Fisher scoring failed; tau^2 was found with a bracketing root finder.")
    if bool(b.multimodal[0]):
        notes.append(
            f"{method}: the likelihood has a higher maximum than tau^2 = 0 (where Fisher scoring stops); "
            "it is reported."
        )
    if bool(b.boundary_reset[0]):
        notes.append(f"{method}: scoring reached a point with lower likelihood than tau^2 = 0; tau^2 was set to 0.")
    notes += _coefficient_test_warnings(b, terms, method, test)
    coefs = pd.DataFrame(
        {
            "term": list(terms),
            "estimate": b.coef[0],
            "se": b.se[0],
            "statistic": b.statistic[0],
            "pvalue": b.pvalue[0],
            "ci_low": b.ci_low[0],
            "ci_high": b.ci_high[0],
        }
    )
    return MetaRegressionResult(
        coefficients=coefs,
        tau2=float(b.tau2[0]),
        tau2_se=float(b.tau2_se[0]),
        i2=float(b.i2[0]),
        h2=float(b.h2[0]),
        r2=float(r2),
        tau2_null=tau2_null,
        qm=float(b.qm[0]),
        qm_df=int(b.qm_df[0]),
        qm_df2=float(b.qm_df2[0]),
        qm_pvalue=float(b.qm_pvalue[0]),
        qe=float(b.qe[0]),
        qe_df=int(b.qe_df[0]),
        qe_pvalue=float(b.qe_pvalue[0]),
        ll_ml=float(b.ll_ml[0]),
        ll_reml=float(b.ll_reml[0]),
        yi=y,
        vi=v,
        X=X,
        terms=tuple(terms),
        labels=tuple(names),
        method=method,
        test=test,
        level=level,
        btt=b.btt,
        k=k,
        p=p,
        tau2_fixed=tau2 is not None,
        converged=bool(b.converged[0]),
        vcov=b.vcov[0],
        notes=tuple(notes),
        user_weights=weights,
    )


def _check_weighted_design(
    X: Array, terms: Sequence[str], names: Sequence[str], weights: Array, genq_estimated: bool
) -> None:
    """Refuse user weights under which ``X'AX`` is singular (or, for GENQ, tr(P) = 0), naming the studies."""
    k, p = X.shape
    positive = weights > 0
    zero = [names[int(i)] for i in np.flatnonzero(~positive)]
    shown = ", ".join(repr(n) for n in zero[:5]) + (f" and {len(zero) - 5} more" if len(zero) > 5 else "")
    if np.linalg.matrix_rank(X[positive]) < p:
        raise AlsmetaInputError(
            f"weights: with weight 0 for {shown}, the design ({', '.join(terms)}) is not of full rank on the "
            "studies with a positive weight, so the weighted coefficients are not defined"
        )
    if genq_estimated and int(positive.sum()) <= p:
        raise AlsmetaInputError(
            f"weights: method='GENQ' needs more studies with a positive weight than coefficients ({p}); "
            f"{int(positive.sum())} have one (weight 0: {shown})"
        )


def _null_tau2(y: Array, v: Array, method: str, weights: Array | None) -> float:
    """R^2's baseline: tau^2 estimated for the intercept-only model with the same estimator (GENQ: same weights).

    Estimated also when the model's own tau^2 is fixed (``tau2=``), as metafor's
    rma.uni, which refits the intercept-only model without the fixed value; a
    fixed baseline would make R^2 0 by construction.
    """
    if method == "GENQ" and weights is not None:
        return genq_tau2(y, v, np.ones((y.size, 1)), weights).tau2
    null = pool_many(y[None, :], v[None, :], method=method, confint=False)
    return float(null.tau2[0])


def _coefficient_test_warnings(b: RegressionBatch, terms: Sequence[str], method: str, test: str) -> list[str]:
    """Notes on the tests of the coefficients, each also warned, with pool's wording (:func:`alsmeta.pool`).

    metafor warns about Knapp-Hartung on a common-effect model; a degenerate
    Knapp-Hartung test (weighted residual sum of squares 0, Knapp & Hartung
    2003) gives SE 0, a CI of width 0, p = 0 and an undefined QM, which
    metafor reports without a warning.
    """
    out: list[str] = []
    if method == "CE" and test in ("knha", "adhoc"):
        out.append(KNHA_COMMON_EFFECT_MESSAGE)
    if test == "knha" and b.s2w[0] == 0:
        msg = knha_degenerate_message("the fitted values") + " The test of moderators (QM) is undefined (NaN)."
        zero = [term for term, stat in zip(terms, b.statistic[0], strict=True) if np.isnan(stat)]
        if zero:
            msg += (
                f" {', '.join(zero)}: estimate 0 up to rounding, so statistic and p-value are 0/0 (NaN; "
                "metafor reports beta / 0)."
            )
        out.append(msg)
    for msg in out:
        warnings.warn(msg, AlsmetaWarning, stacklevel=4)
    return out


def _adjusted_r2(y: Array, v: Array, X: Array, weights: Array | None = None) -> float:
    """metafor's R^2 for common-effect models: adjusted R^2 of ``lm(yi ~ X, weights = 1/vi)``, in %.

    With user weights, ``lm(yi ~ X, weights = weights)`` (metafor's choice).
    """
    if np.all(y == y[0]):
        return 0.0
    w = 1.0 / v if weights is None else weights
    k, p = int(np.count_nonzero(w)), X.shape[1]  # lm() leaves studies with weight 0 out of the counts
    if k <= p:
        return float("nan")  # no residual degrees of freedom (R: adj.r.squared is NaN)
    sw = np.sqrt(w)
    beta, *_ = np.linalg.lstsq(X * sw[:, None], y * sw, rcond=None)
    rss = float(np.sum(w * (y - X @ beta) ** 2))
    ybar = float(np.sum(w * y) / np.sum(w))
    tss = float(np.sum(w * (y - ybar) ** 2))
    r2 = 1.0 - rss / tss
    adj = 1.0 - (1.0 - r2) * (k - 1) / (k - p)
    return max(0.0, 100.0 * adj)


# ====================================================================== subgroups
@dataclass(frozen=True, eq=False)
class SubgroupResult(ResultMixin):
    """Result of :func:`subgroup_analysis` (and :func:`subgroup_analysis_of`).

    Attributes
    ----------
    subgroups
        DataFrame, one row per subgroup in display order: ``group``, ``k``,
        ``estimate``, ``se``, ``statistic``, ``pvalue``, ``ci_low``,
        ``ci_high``, ``tau2``, ``i2``, ``q``, ``q_pvalue``.
    q_between, q_between_df, q_between_df2, q_between_pvalue
        Test for subgroup differences (chi^2; with ``tau2="common"`` and a
        t-based test, F with ``(q_between_df, q_between_df2)`` df). NaN with
        fewer than two subgroups or when a subgroup's standard error is 0.
    tau2_mode
        ``"separate"``, ``"common"`` or ``"fixed"``.
    tau2_common
        The common tau^2 (``tau2="common"``) or the fixed one (a number), else NaN.
    regression
        The meta-regression with the subgroup factor (``tau2="common"``).
    names
        Subgroup names in display order (the ``group`` column).
    members
        For each subgroup, the positions of its studies in the data as used
        (after ``na_action``), in data order.
    fits
        One :class:`alsmeta.PooledResult` per subgroup (its studies, the
        subgroup's tau^2), the source of the ``subgroups`` table.
    method, test, level, groups, notes
    """

    subgroups: pd.DataFrame
    q_between: float
    q_between_df: int
    q_between_df2: float
    q_between_pvalue: float
    tau2_mode: str
    tau2_common: float
    regression: MetaRegressionResult | None
    method: str
    test: str
    level: float
    groups: tuple[str, ...]
    names: tuple[str, ...]
    members: tuple[tuple[int, ...], ...]
    fits: tuple[PooledResult, ...]
    notes: tuple[str, ...] = field(default=())

    def to_frame(self, transf: Transform | None = None) -> pd.DataFrame:
        """The subgroup table; with ``transf`` estimates and CIs transformed, ``se`` left out."""
        return _transformed_table(self.subgroups, transf)

    def summary(self, digits: int = 4, transf: Transform | None = None) -> str:
        """Text block: one line per subgroup, then the test for subgroup differences."""
        tau2 = "one common tau^2" if self.tau2_mode == "common" else "a separate tau^2 per subgroup"
        table = self.to_frame(transf).to_string(index=False, float_format=lambda x: f"{x:.{digits}f}")
        if np.isfinite(self.q_between_df2):
            stat = f"F(df1 = {self.q_between_df}, df2 = {self.q_between_df2:g})"
        else:
            stat = f"QM(df = {self.q_between_df})"
        lines = [
            f"Subgroup analysis ({self.method}, {self.test} test; {tau2}; {100 * self.level:g}% CI"
            + (", transformed" if transf is not None else "")
            + ")",
            "",
            table,
            "",
            f"Test for Subgroup Differences: {stat} = {fmt_number(self.q_between, digits)}, "
            f"p-val {p_phrase(self.q_between_pvalue, digits)}",
        ]
        return "\n".join(lines + self._notes_lines())


_TABLE_COLUMNS = ("k", "estimate", "se", "statistic", "pvalue", "ci_low", "ci_high", "tau2", "i2", "q", "q_pvalue")


def subgroup_analysis(
    yi: Sequence[float] | Array,
    vi: Sequence[float] | Array | None = None,
    groups: Sequence[Any] | None = None,
    method: str = "REML",
    test: str = "z",
    level: float = 0.95,
    tau2: str | float = "separate",
    labels: Sequence[Any] | None = None,
    na_action: str = "raise",
    order: Sequence[Any] | str | None = None,
    *,
    sei: Sequence[float] | Array | None = None,
) -> SubgroupResult:
    """Subgroup analysis with the test for subgroup differences (Q-between).

    Parameters
    ----------
    yi, vi
        Effects and sampling variances.
    groups
        Subgroup of each study (any hashable values; a pandas Categorical
        keeps its category order, otherwise groups are sorted). A missing or
        blank subgroup counts as a missing value. Required.
    sei
        Standard errors instead of ``vi`` (exactly one of the two).
    method, test, level
        As :func:`alsmeta.pool`.
    tau2
        ``"separate"`` (default): each subgroup is pooled on its own (own
        tau^2); the subgroup estimates are then compared with a
        fixed-effects Wald test ``Q_b = sum (mu_g - mu_bar)^2 / se_g^2``
        with ``G - 1`` df - what metafor's documentation does with
        ``rma(estimates, sei=ses, mods=~group, method="EE")`` and RevMan
        reports. ``"common"``: one tau^2 for all subgroups, i.e. the
        meta-regression on the subgroup factor; ``Q_b`` is its ``QM`` and the
        subgroup estimates use the common tau^2. A number ``>= 0``: every
        subgroup is pooled with tau^2 fixed at it, then compared as with
        ``"separate"``.
    labels, na_action
        As :func:`meta_regression` (a missing subgroup counts as a missing value).
    order
        Display order of the subgroups: a sequence naming each subgroup once,
        ``"appearance"`` (the order in which they first occur in the data) or
        None (default: the factor order above). The factor regression of
        ``tau2="common"`` keeps the factor order (its reference level).

    Returns
    -------
    SubgroupResult

    Notes
    -----
    A subgroup with one study contributes its own effect (tau^2 = 0). Fewer
    than 2 subgroups: ``Q_b`` is NaN and ``notes`` says so. With separate
    tau^2, a subgroup's tau^2 rests on few studies and can be very imprecise.
    Each subgroup is fitted with :func:`alsmeta.pool` (its warnings about
    edge cases, e.g. a t-based test with one study, are raised as usual).

    References
    ----------
    Borenstein M, Higgins JPT (2013). Meta-analysis and subgroups. Prev Sci
    14:134-143. Cochrane Handbook, chapter 10.11.3.
    """
    method = canonical_method(method)
    test = canonical_test(test)
    level = probability_level(level)
    mode, fixed = _tau2_mode(tau2)
    if groups is None:
        raise AlsmetaInputError("groups: required (the subgroup of each study)")
    y, v, names, groups = _study_data_with(yi, vi, sei, labels, na_action, "groups", groups)
    k = y.size
    values, levels = factor_levels(
        groups if isinstance(groups, pd.Series) else pd.Series(list(groups)), "groups", names
    )
    G = len(levels)
    notes: list[str] = []
    regression = None
    df2 = float("nan")
    tau2_common = float("nan") if fixed is None else fixed
    if mode == "common" and G >= 2:
        masks = np.array([[val == lev for val in values] for lev in levels], dtype=bool).reshape(G, k)
        X = np.column_stack([np.ones(k)] + [masks[g].astype(float) for g in range(1, G)])
        terms = ["intercept"] + [f"group[{lev}]" for lev in levels[1:]]
        regression = _meta_regression_design(y, v, X, terms, names, method, test, level, None, None)
        tau2_common = regression.tau2
        fixed = tau2_common if method != "CE" else None
    shown = _display_levels(levels, values, order)
    members = tuple(tuple(i for i, val in enumerate(values) if val == lev) for lev in shown)
    fits = tuple(
        pool(
            y[list(idx)],
            v[list(idx)],
            method=method,
            test=test,
            level=level,
            labels=[names[i] for i in idx],
            tau2=fixed,
        )
        for idx in members
    )
    table = pd.DataFrame(
        {"group": [str(lev) for lev in shown], **{c: [getattr(f, c) for f in fits] for c in _TABLE_COLUMNS}}
    )
    if G < 2:
        notes.append("Only one subgroup: there is nothing to compare (Q-between undefined).")
        qb, qb_df, qb_p = float("nan"), 0, float("nan")
    elif regression is not None:
        qb, qb_df, df2, qb_p = regression.qm, regression.qm_df, regression.qm_df2, regression.qm_pvalue
    else:
        qb, qb_df, qb_p = _q_between([f.estimate for f in fits], [f.se for f in fits])
    singles = [str(lev) for lev, fit in zip(shown, fits, strict=True) if fit.k == 1]
    if singles:
        notes.append(f"Subgroup(s) with a single study: {', '.join(singles)} (its own effect, tau^2 = 0).")
    return SubgroupResult(
        subgroups=table,
        q_between=float(qb),
        q_between_df=int(qb_df),
        q_between_df2=float(df2),
        q_between_pvalue=float(qb_p),
        tau2_mode=mode,
        tau2_common=float(tau2_common),
        regression=regression,
        method=method,
        test=test,
        level=level,
        groups=tuple(str(g) for g in values),
        names=tuple(str(lev) for lev in shown),
        members=members,
        fits=fits,
        notes=tuple(notes),
    )


def subgroup_analysis_of(
    fit: PooledResult, groups: Sequence[Any], order: Sequence[Any] | str | None = "appearance"
) -> SubgroupResult:
    """:func:`subgroup_analysis` of the studies of a fit, with its model.

    The estimator, test and level of ``fit`` are reused, with a separate
    tau^2 per subgroup (or the fit's fixed tau^2 when it has one) - the
    subgroups a forest plot draws (:func:`alsmeta.plots.forest_plot`).

    Parameters
    ----------
    fit
        The overall fit (:func:`alsmeta.pool`).
    groups
        Subgroup of each study, in the order of ``fit.labels``.
    order
        Display order of the subgroups (default ``"appearance"``: the order
        in which they first occur; see :func:`subgroup_analysis`).

    Returns
    -------
    SubgroupResult
        Its ``members`` are positions in ``fit``.
    """
    fit = require_fit(fit, "subgroup_analysis_of")
    return subgroup_analysis(
        fit.yi,
        fit.vi,
        groups,
        method=fit.method,
        test=fit.test,
        level=fit.level,
        tau2=fit.tau2 if fit.tau2_fixed else "separate",
        labels=fit.labels,
        order=order,
    )


def _tau2_mode(tau2: str | float) -> tuple[str, float | None]:
    """``(mode, fixed tau^2)`` of the ``tau2`` argument of :func:`subgroup_analysis`."""
    if isinstance(tau2, str):
        mode = tau2.lower()
        if mode not in ("separate", "common"):
            raise AlsmetaInputError(f"tau2: choose 'separate', 'common' or a number >= 0, got {tau2!r}")
        return mode, None
    return "fixed", nonnegative_number(tau2, "tau2")


def _display_levels(levels: list[Any], values: list[Any], order: Sequence[Any] | str | None) -> list[Any]:
    """The factor levels in the display order asked for by ``order`` (see :func:`subgroup_analysis`)."""
    if order is None:
        return levels
    if isinstance(order, str):
        if order != "appearance":
            raise AlsmetaInputError(f"order: expected 'appearance' or one name per subgroup, got {order!r}")
        return list(dict.fromkeys(values))
    by_name = {str(lev): lev for lev in levels}
    wanted = [str(g) for g in order]
    missing = sorted(set(by_name) - set(wanted))
    extra = sorted(set(wanted) - set(by_name))
    if missing or extra or len(set(wanted)) != len(wanted):
        raise AlsmetaInputError(f"order: must list each subgroup once; missing {missing}, not in the data {extra}")
    return [by_name[name] for name in wanted]


def _q_between(estimates: Sequence[float], ses: Sequence[float]) -> tuple[float, int, float]:
    """Cochran's Q between subgroup estimates with weights ``1 / se^2`` and its chi^2 p-value.

    The Q of ``rma(estimates, sei=ses, method="EE")``; NaN when a standard
    error is 0 or not finite (the weights are undefined).
    """
    est, se = np.asarray(estimates, dtype=float), np.asarray(ses, dtype=float)
    df = len(est) - 1
    if df < 1 or not np.all(np.isfinite(se)) or np.any(se <= 0):
        return float("nan"), max(df, 0), float("nan")
    w = 1.0 / se**2
    centre = np.sum(w * est) / np.sum(w)
    q = float(np.sum(w * (est - centre) ** 2))
    return q, df, float(stats.chi2.sf(q, df))


# ====================================================================== permutation tests
@dataclass(frozen=True, eq=False)
class PermutationResult(ResultMixin):
    """Result of :func:`permutation_test` (metafor's ``permutest()``).

    ``table`` has one row per coefficient: ``term``, ``estimate``,
    ``statistic`` (observed z or t) and ``pvalue`` (permutation p-value,
    two-sided: share of permutations with ``|stat| >= |observed|``).
    ``qm_pvalue`` is the permutation p-value of the omnibus test.
    """

    table: pd.DataFrame
    qm: float
    qm_pvalue: float
    n_permutations: int
    exact: bool
    exact_count: float
    seed: int | None
    notes: tuple[str, ...] = field(default=())

    @property
    def pvalue(self) -> Array:
        return self.table["pvalue"].to_numpy()

    def to_frame(self) -> pd.DataFrame:
        """The coefficient table with permutation p-values."""
        return self.table.copy()

    def summary(self, digits: int = 4) -> str:
        """metafor-like text block (as ``print(permutest(...))``)."""
        how = "exact (all permutations)" if self.exact else f"{self.n_permutations} random permutations"
        lines = [
            f"Permutation test ({how}; seed {self.seed})",
            "",
            f"Test of Moderators: QM = {fmt_number(self.qm, digits)}, "
            f"permutation p-val {p_phrase(self.qm_pvalue, digits)}",
            "",
            self.table.to_string(index=False, float_format=lambda x: f"{x:.{digits}f}"),
        ]
        return "\n".join(lines + self._notes_lines())


_COMPTOL = float(np.sqrt(np.finfo(float).eps))


def permutation_test(
    result: MetaRegressionResult | PooledResult,
    n_permutations: int = 1000,
    seed: int | None = None,
    exact: bool | None = None,
    *,
    progress: ProgressArg = None,
) -> PermutationResult:
    """Permutation test for a meta-regression or the pooled effect, as metafor's ``permutest()``.

    Parameters
    ----------
    result
        A :func:`meta_regression` result (the rows of the design matrix are
        permuted relative to the effects) or a :func:`alsmeta.pool` result
        (the signs of the effects are flipped).
    n_permutations
        Number of random permutations (the observed arrangement counts as
        the first, as in metafor).
    seed
        Seed of ``numpy.random.default_rng`` (reproducible p-values).
    exact
        ``None`` (default): exact test when the number of distinct
        permutations (``2^k`` sign vectors; ``k! / prod(n_j!)`` distinct
        row orders of the design) is at most ``n_permutations``. ``True``
        forces the exact test.
    progress
        Progress bar over the permuted fits, as :func:`alsmeta.pool_many`:
        ``None`` (default) shows one on a terminal when the run is long,
        ``True``/``False`` always/never, or a callable ``f(done, total)``.
        The fits run in chunks of 4096; an interruption (Ctrl-C) stops the
        test, since a p-value from some of the permutations would be wrong.

    Notes
    -----
    Random p-values have Monte Carlo error about ``sqrt(p (1 - p) / n)``;
    they agree with metafor's in distribution, not digit by digit (different
    random number generators). Exact p-values agree exactly. Permuted fits
    use the same method, test and fixed tau^2; the test statistic is the z
    (or t) value, as metafor's default. k < 2: not computed.

    References
    ----------
    Higgins JPT, Thompson SG (2004). Controlling the risk of spurious findings
    from meta-regression. Stat Med 23:1663-1682. Viechtbauer W et al. (2015)
    Psychol Methods 20:360-374.
    """
    n_perm = whole_number(n_permutations, "n_permutations", minimum=2)
    seed = random_seed(seed)
    if exact is not None:
        exact = flag(exact, "exact")
    rng = np.random.default_rng(seed)
    if isinstance(result, PooledResult):
        return _permute_signs(require_fit(result, "permutation_test"), n_perm, rng, seed, exact, progress)
    if not isinstance(result, MetaRegressionResult):
        raise AlsmetaInputError(
            f"permutation_test: expected a meta_regression() or pool() result, got {type(result).__name__}"
        )
    return _permute_rows(result, n_perm, rng, seed, exact, progress)


_PERM_CHUNK = 4096


def _in_chunks(n: int, fit: Any, progress: ProgressArg, *names: str) -> list[Array]:
    """``fit(start, stop)``'s attributes ``names`` for rows ``0..n`` in chunks, concatenated, with a progress bar."""
    parts: list[Any] = []
    with Progress(n, desc="permutation_test", enabled=progress) as bar:
        for start in range(0, n, _PERM_CHUNK):
            stop = min(n, start + _PERM_CHUNK)
            parts.append(fit(start, stop))
            bar.update(stop - start)
    return [np.concatenate([getattr(part, name) for part in parts]) for name in names]


def _permute_signs(
    fit: PooledResult,
    n_perm: int,
    rng: np.random.Generator,
    seed: int | None,
    exact: bool | None,
    progress: ProgressArg = None,
) -> PermutationResult:
    k = fit.k
    if k < 2:
        raise AlsmetaInputError(f"permutation_test: needs at least 2 studies (k = {k})")
    count = 2.0**k
    use_exact = bool(exact) or count <= n_perm
    if use_exact:
        if count > 2**24:
            raise AlsmetaInputError(f"permutation_test: an exact test needs {count:.0f} fits; too many")
        r = np.arange(int(count))
        signs = np.where(((r[:, None] >> np.arange(k)) & 1) == 1, -1.0, 1.0)
    else:
        signs = rng.choice([-1.0, 1.0], size=(n_perm, k))
        signs[0] = 1.0
    (z,) = _in_chunks(  # a p-value from some of the permutations would be wrong: Ctrl-C must propagate
        signs.shape[0],
        lambda start, stop: pool_many(
            signs[start:stop] * fit.yi,
            np.broadcast_to(fit.vi, (stop - start, k)),
            method=fit.method,
            test=fit.test,
            level=fit.level,
            tau2=fixed_tau2(fit),
            confint=False,
            progress=False,
            on_interrupt="raise",
        ),
        progress,
        "statistic",
    )
    degenerate = fit.test == "knha" and fit.se == 0
    pval = float(_share_at_least(np.abs(z), np.array(abs(fit.statistic))))
    qm = np.nan if degenerate else fit.statistic**2  # as meta_regression's QM (metafor: NA)
    qm_p = float(_share_at_least(z**2, np.array(qm)))
    table = pd.DataFrame(
        {"term": ["intercept"], "estimate": [fit.estimate], "statistic": [fit.statistic], "pvalue": [pval]}
    )
    notes = _perm_notes(use_exact, signs.shape[0], pval) + _perm_degenerate(degenerate)
    return PermutationResult(table, float(qm), qm_p, signs.shape[0], use_exact, count, seed, notes)


def _permute_rows(
    res: MetaRegressionResult,
    n_perm: int,
    rng: np.random.Generator,
    seed: int | None,
    exact: bool | None,
    progress: ProgressArg = None,
) -> PermutationResult:
    X, k = res.X, res.k
    _, inverse, counts = np.unique(X, axis=0, return_inverse=True, return_counts=True)
    inverse = inverse.reshape(-1)
    count = float(factorial(k))
    for c in counts:
        count /= factorial(int(c))
    count = float(round(count))
    use_exact = bool(exact) or count <= n_perm
    if use_exact:
        if count > 2**22:
            raise AlsmetaInputError(f"permutation_test: an exact test needs {count:.0f} fits; too many")
        perms = np.array(list(_distinct_permutations(inverse)), dtype=np.intp)
    else:
        perms = np.array([rng.permutation(k) for _ in range(n_perm)], dtype=np.intp)
        perms[0] = np.arange(k)
    B = perms.shape[0]
    statistic, qm, valid = _in_chunks(
        B,
        lambda start, stop: fit_regression_many(
            np.broadcast_to(res.yi, (stop - start, k)),
            np.broadcast_to(res.vi, (stop - start, k)),
            X[perms[start:stop]],  # (chunk, k, p): permuted design rows against fixed effects
            method=res.method,
            test=res.test,
            level=res.level,
            btt=res.btt,
            tau2=res.tau2 if res.tau2_fixed else None,
            weights=res.user_weights,  # metafor's permutest refits with the model's weights
        ),
        progress,
        "statistic",
        "qm",
        "usable",
    )
    obs = res.coefficients["statistic"].to_numpy()
    pval = _share_at_least(np.abs(statistic[valid]), np.abs(obs))
    qm_p = float(_share_at_least(qm[valid], np.array(res.qm)))
    table = pd.DataFrame({"term": list(res.terms), "estimate": res.estimate, "statistic": obs, "pvalue": pval})
    notes = _perm_notes(use_exact, B, qm_p) + _perm_degenerate(res.knha_degenerate)
    return PermutationResult(table, res.qm, qm_p, B, use_exact, count, seed, notes)


def _share_at_least(permuted: Array, observed: Array) -> Array:
    """metafor's permutation p-value: share of permutations with a statistic ``>= observed - comptol``.

    ``permuted`` has one row per permutation. Permutations whose statistic
    is NaN are left out (metafor's ``na.rm = TRUE``); the p-value is NaN
    where the observed statistic is NaN. +-Inf (an exact fit under a
    degenerate Knapp-Hartung test) is as extreme only as another +-Inf.
    """
    with np.errstate(invalid="ignore"):
        hits = permuted >= observed - _COMPTOL
    counted = ~np.isnan(permuted)
    n = counted.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(n > 0, (hits & counted).sum(axis=0) / n, np.nan)
    return np.asarray(np.where(np.isnan(observed), np.nan, np.minimum(1.0, share)), dtype=np.float64)


def _perm_degenerate(degenerate: bool) -> tuple[str, ...]:
    """Note (and warning) for a permutation test of a fit whose Knapp-Hartung test is degenerate."""
    if not degenerate:
        return ()
    msg = (
        "Permutation test of a degenerate Knapp-Hartung fit (standard errors 0): an observed statistic of +-Inf "
        "is matched only by permutations that also fit exactly (as metafor), and a 0/0 statistic or the undefined "
        "QM has no permutation p-value (NaN). Use test='z' or test='adhoc'."
    )
    warnings.warn(msg, AlsmetaWarning, stacklevel=4)
    return (msg,)


def _perm_notes(exact: bool, n: int, p: float) -> tuple[str, ...]:
    if exact:
        return (f"Exact permutation test over all {n} distinct permutations.",)
    mc = np.sqrt(max(p * (1 - p), 1.0 / n) / n)
    return (f"Approximate permutation test with {n} random permutations; Monte Carlo SE of p about {mc:.3f}.",)


def _distinct_permutations(codes: npt.NDArray[np.intp]) -> Iterator[list[int]]:
    """Every distinct arrangement of the rows of a design, as row-index permutations.

    ``codes[i]`` identifies the distinct design row of study ``i``. Each
    yielded list gives, for position ``j``, the index of the study whose
    design row is placed there; studies sharing a design row are
    interchangeable, so each distinct arrangement appears once.
    """
    pools: dict[int, list[int]] = {}
    for i, c in enumerate(codes.tolist()):
        pools.setdefault(c, []).append(i)
    remaining = {c: len(ix) for c, ix in pools.items()}
    keys = sorted(remaining)
    k = len(codes)
    current: list[int] = []

    def rec() -> Iterator[list[int]]:
        if len(current) == k:
            used = {c: 0 for c in keys}
            out = []
            for c in current:
                out.append(pools[c][used[c]])
                used[c] += 1
            yield out
            return
        for c in keys:
            if remaining[c]:
                remaining[c] -= 1
                current.append(c)
                yield from rec()
                current.pop()
                remaining[c] += 1

    yield from rec()
