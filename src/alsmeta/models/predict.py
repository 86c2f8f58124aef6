"""Predicted effects, BLUPs and random effects: :func:`predict`, :func:`blup` and :func:`ranef`.

:func:`predict` is metafor's ``predict.rma``: the estimated average effect
(or, for a meta-regression, the fitted value at given moderator values) with
its confidence interval and the prediction interval for the true effect in
a new study. :func:`blup` is metafor's ``blup.rma.uni``: each study's true
effect predicted by shrinking its estimate towards the fitted value, and
:func:`ranef` is metafor's ``ranef.rma.uni``: the same shrinkage applied to
the study's deviation from the fitted value (its random effect).

All three take a :func:`alsmeta.pool` or :func:`alsmeta.meta_regression` result
and back-transform with ``transf=`` (e.g. ``np.exp`` for log odds or risk
ratios; standard errors are then undefined and reported as NaN, as metafor).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import special, stats

from alsmeta.models._fitted import refuse_user_weights
from alsmeta.models.moderators import MetaRegressionResult
from alsmeta.models.pooling import PooledResult
from alsmeta.results import ResultMixin, Transform, fmt_number, text_table, transf_name, transformed
from alsmeta.validation import AlsmetaInputError, AlsmetaWarning, numeric_column, probability_level

__all__ = ["Blups", "Prediction", "RandomEffects", "blup", "predict", "ranef"]

Array = npt.NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class Prediction(ResultMixin):
    """Result of :func:`predict` (metafor's ``predict.rma``), one entry per prediction.

    Attributes
    ----------
    labels
        What each prediction is for (``"estimate"`` for a pooled fit; the
        study labels for a meta-regression's fitted values; ``"1"``,
        ``"2"``, ... or the DataFrame index for ``newmods``).
    pred, se
        Predicted value and its standard error (``se`` NaN when transformed).
    ci_low, ci_high
        Confidence interval of the predicted (average) effect.
    pi_low, pi_high
        Prediction interval for the true effect in a new study: ``pred -/+
        crit sqrt(se^2 + tau^2)``; NaN for a common-effect model, which
        assumes there is no between-study variance.
    level, df
        Confidence level; degrees of freedom of the t quantile (NaN: z).
    transf
        Name of the back-transformation applied, or ``""``.
    """

    labels: tuple[str, ...]
    pred: Array
    se: Array
    ci_low: Array
    ci_high: Array
    pi_low: Array
    pi_high: Array
    level: float
    df: float
    transf: str = ""
    notes: tuple[str, ...] = field(default=())

    _per_row: ClassVar[bool] = True

    def summary(self, digits: int = 4) -> str:
        """metafor-like table (as ``print(predict(...))``)."""
        cols = ["", "pred", "se", "ci.lb", "ci.ub", "pi.lb", "pi.ub"]
        rows = [
            [label] + [fmt_number(x, digits) for x in values]
            for label, *values in zip(
                self.labels, self.pred, self.se, self.ci_low, self.ci_high, self.pi_low, self.pi_high, strict=True
            )
        ]
        return "\n".join([_heading("Predicted values", self), "", *text_table(cols, rows, first_left=True)])


@dataclass(frozen=True, eq=False)
class _StudyPredictions(ResultMixin):
    """One prediction per study with its prediction interval (the fields of :class:`Blups`)."""

    labels: tuple[str, ...]
    pred: Array
    se: Array
    pi_low: Array
    pi_high: Array
    level: float
    df: float
    transf: str = ""
    notes: tuple[str, ...] = field(default=())

    _per_row: ClassVar[bool] = True
    _title: ClassVar[str] = ""

    def summary(self, digits: int = 4) -> str:
        """metafor-like table (as ``print(blup(...))`` or ``print(ranef(...))``)."""
        cols = ["", "pred", "se", "pi.lb", "pi.ub"]
        rows = [
            [label] + [fmt_number(x, digits) for x in values]
            for label, *values in zip(self.labels, self.pred, self.se, self.pi_low, self.pi_high, strict=True)
        ]
        return "\n".join([_heading(self._title, self), "", *text_table(cols, rows, True)])


@dataclass(frozen=True, eq=False)
class Blups(_StudyPredictions):
    """Result of :func:`blup` (metafor's ``blup.rma.uni``), one row per study.

    Attributes
    ----------
    labels
        Study labels.
    pred, se
        Best linear unbiased prediction of each study's true effect and its
        standard error (``se`` NaN when transformed).
    pi_low, pi_high
        Prediction interval of the study's true effect.
    level, df, transf
        As :class:`Prediction`.
    """

    _title: ClassVar[str] = "Best linear unbiased predictions"


@dataclass(frozen=True, eq=False)
class RandomEffects(_StudyPredictions):
    """Result of :func:`ranef` (metafor's ``ranef.rma.uni``), one row per study.

    Attributes
    ----------
    labels
        Study labels.
    pred, se
        Predicted study-level random effect ``u_i`` (the study's deviation
        from the fitted value) and the standard error of its prediction
        error (``se`` NaN when transformed).
    pi_low, pi_high
        Prediction interval of ``u_i``.
    level, df, transf
        As :class:`Prediction`.
    """

    _title: ClassVar[str] = "Predicted random effects"


def _heading(what: str, r: Prediction | _StudyPredictions) -> str:
    dist = f"t, df = {r.df:g}" if np.isfinite(r.df) else "z"
    back = f"; back-transformed with {r.transf}" if r.transf else ""
    return f"{what} ({100 * r.level:g}% intervals, {dist}{back})"


@dataclass(frozen=True)
class _LinearFit:
    """What prediction needs from a fitted model: ``y = X beta + u + e``."""

    yi: Array
    vi: Array
    X: Array
    beta: Array
    vb: Array
    tau2: float
    random: bool
    df: float
    level: float
    labels: tuple[str, ...]
    terms: tuple[str, ...]


#: why blup() and ranef() refuse a fit with user weights
_SHRINKAGE_WEIGHTS = (
    "the shrinkage of the empirical Bayes estimates assumes inverse-variance weights "
    "(metafor's blup() and ranef() refuse such fits too)"
)


def _linear_fit(fit: Any, what: str) -> _LinearFit:
    if isinstance(fit, PooledResult):
        if fit.k == 0:
            raise AlsmetaInputError(f"{what}: the fit has no studies (k = 0), so there is nothing to predict")
        return _LinearFit(
            fit.yi,
            fit.vi,
            np.ones((fit.k, 1)),
            np.array([fit.estimate]),
            np.array([[fit.se**2]]),
            float(fit.tau2) if fit.is_random_effects else 0.0,
            fit.is_random_effects,
            float(fit.df),
            fit.level,
            fit.labels,
            ("intercept",),
        )
    if isinstance(fit, MetaRegressionResult):
        t_based = fit.test in ("t", "knha", "adhoc")
        return _LinearFit(
            fit.yi,
            fit.vi,
            fit.X,
            fit.estimate,
            fit.vcov,
            float(fit.tau2) if fit.method != "CE" else 0.0,
            fit.method != "CE",
            float(fit.k - fit.p) if t_based else float("nan"),
            fit.level,
            fit.labels,
            fit.terms,
        )
    raise AlsmetaInputError(
        f"{what}: expected the result of alsmeta.pool(...) or alsmeta.meta_regression(...), got {type(fit).__name__}"
    )


_DEGENERATE_KNHA = (
    "The fit's Knapp-Hartung test is degenerate (weighted residual sum of squares 0, standard errors 0): the "
    "confidence intervals have width 0 (as metafor) and the prediction intervals reflect tau^2 alone. "
    "Refit with test='adhoc' (never narrower than z) or test='z'."
)


def _critical(level: float, df: float) -> float:
    """Two-sided critical value: t with ``df`` degrees of freedom, or z when ``df`` is NaN."""
    if np.isfinite(df):
        return float(stats.t.isf((1.0 - level) / 2.0, df))
    return float(-special.ndtri((1.0 - level) / 2.0))


def _new_design(m: _LinearFit, newmods: Any) -> tuple[Array, tuple[str, ...]]:
    """The design rows for ``newmods`` (the intercept column added when the model has one), as metafor."""
    has_int = m.terms[:1] == ("intercept",)
    mod_terms = m.terms[1:] if has_int else m.terms
    q = len(mod_terms)
    if q == 0:
        raise AlsmetaInputError("newmods: the model has no moderators (an intercept-only fit); predict without newmods")
    if isinstance(newmods, pd.DataFrame):
        absent = [t for t in mod_terms if t not in newmods.columns]
        if absent:
            raise AlsmetaInputError(
                f"newmods: no column for the term(s) {', '.join(absent)} "
                f"(the model's moderators: {', '.join(mod_terms)})"
            )
        names = tuple(str(i) for i in newmods.index)
        values = np.column_stack([numeric_column(newmods[t], f"newmods[{t}]", names) for t in mod_terms])
    else:
        if isinstance(newmods, (str, bytes)):
            raise AlsmetaInputError("newmods: expected numbers (one value per moderator term), got a string")
        arr = np.asarray(newmods, dtype=object)
        if arr.ndim == 0 or (arr.ndim == 1 and q == 1):  # one moderator: each value one prediction
            arr = arr.reshape(-1, 1)
        elif arr.ndim == 1:  # several moderators: one prediction
            arr = arr.reshape(1, -1)
        if arr.ndim != 2 or arr.shape[1] != q:
            raise AlsmetaInputError(
                f"newmods: expected {q} value(s) per prediction for the terms {', '.join(mod_terms)}, "
                f"got shape {np.shape(newmods)}"
            )
        names = tuple(str(i + 1) for i in range(arr.shape[0]))
        values = np.column_stack([numeric_column(arr[:, j], f"newmods[{t}]", names) for j, t in enumerate(mod_terms)])
    if values.shape[0] == 0:
        raise AlsmetaInputError("newmods: no rows to predict")
    X = np.column_stack([np.ones(values.shape[0]), values]) if has_int else values
    return X, names


def _back(low: Array, high: Array, transf: Transform | None) -> tuple[Array, Array]:
    """Transformed interval bounds, sorted so that low <= high (a decreasing transf swaps them), as metafor."""
    lo, hi = transformed(low, transf), transformed(high, transf)
    return np.fmin(lo, hi), np.fmax(lo, hi)


def predict(
    fit: PooledResult | MetaRegressionResult,
    transf: Transform | None = None,
    newmods: Any = None,
    level: float | None = None,
) -> Prediction:
    """Predicted average effect with confidence and prediction intervals, as metafor's ``predict.rma``.

    Parameters
    ----------
    fit
        A :func:`alsmeta.pool` or :func:`alsmeta.meta_regression` result.
    transf
        A function applied to the predictions and interval bounds (e.g.
        ``np.exp`` to show odds or risk ratios); ``se`` is then NaN.
    newmods
        Meta-regression only: moderator values to predict at, without the
        intercept column (as metafor): for a model with one moderator a
        number or a sequence (one prediction each); with several, a
        sequence of one value per moderator term (one prediction) or a 2-d
        array with one row per prediction, columns in the order of the
        model's terms; or a DataFrame with a column per term (dummy-coded
        terms by their names, e.g. ``"group[b]"``). Default: the fitted
        value of every study (a pooled fit: its estimate).
    level
        Confidence level of the intervals; default the fit's.

    Returns
    -------
    Prediction

    Notes
    -----
    ``pred = x' b``, ``se = sqrt(x' V_b x)``, CI ``pred -/+ crit se`` and PI
    ``pred -/+ crit sqrt(se^2 + tau^2)``, with ``crit`` the z quantile, or
    the t quantile with ``k - p`` df for t-based tests (``"t"``, ``"knha"``,
    ``"adhoc"``). For a pooled fit without ``transf`` at the fit's level this
    is exactly the fit's ``estimate``, ``se``, ``ci_low/high`` and
    ``pi_low/high``.

    References
    ----------
    Riley RD, Higgins JPT, Deeks JJ (2011). Interpretation of random effects
    meta-analyses. BMJ 342:d549. Viechtbauer W (2010). Conducting
    meta-analyses in R with the metafor package. J Stat Softw 36(3).
    """
    m = _linear_fit(fit, "predict")
    level = m.level if level is None else probability_level(level)
    if newmods is None:
        X = m.X if isinstance(fit, MetaRegressionResult) else m.X[:1]
        labels = m.labels if isinstance(fit, MetaRegressionResult) else ("estimate",)
    else:
        if isinstance(fit, PooledResult):
            raise AlsmetaInputError("newmods: a pool() fit has no moderators; use meta_regression() to predict at them")
        X, labels = _new_design(m, newmods)
    pred = X @ m.beta
    vpred = np.einsum("ij,jk,ik->i", X, m.vb, X)
    se = np.sqrt(np.where(vpred >= 0, vpred, np.nan))
    crit = _critical(level, m.df)
    ci_low, ci_high = pred - crit * se, pred + crit * se
    if m.random:
        spread = np.sqrt(se**2 + m.tau2)
        pi_low, pi_high = pred - crit * spread, pred + crit * spread
    else:
        pi_low = pi_high = np.full(pred.shape, np.nan)
    notes: tuple[str, ...] = ()
    if not m.random:
        notes = ("Common-effect model: no between-study variance is assumed, so there is no prediction interval.",)
    if fit.test == "knha" and not np.any(m.vb):
        notes += (_DEGENERATE_KNHA,)
        warnings.warn(_DEGENERATE_KNHA, AlsmetaWarning, stacklevel=2)
    if transf is not None:
        pred = transformed(pred, transf)
        se = np.full(pred.shape, np.nan)
        ci_low, ci_high = _back(ci_low, ci_high, transf)
        pi_low, pi_high = _back(pi_low, pi_high, transf)
    return Prediction(
        tuple(labels), pred, se, ci_low, ci_high, pi_low, pi_high, level, m.df, transf_name(transf), notes
    )


def blup(
    fit: PooledResult | MetaRegressionResult, transf: Transform | None = None, level: float | None = None
) -> Blups:
    """Best linear unbiased predictions of the studies' true effects, as metafor's ``blup.rma.uni``.

    Each study's estimate is shrunk towards the fitted value in proportion
    to the share of between-study variance in its total variance:
    ``pred_i = l_i y_i + (1 - l_i) x_i' b`` with ``l_i = tau^2 / (tau^2 +
    v_i)``, ``se_i = sqrt(l_i v_i + (1 - l_i)^2 x_i' V_b x_i)`` and the
    interval ``pred_i -/+ crit se_i`` (``crit`` as in :func:`predict`).

    Parameters
    ----------
    fit
        A :func:`alsmeta.pool` or :func:`alsmeta.meta_regression` result.
        For a common-effect fit (tau^2 = 0) every prediction is the fitted
        value.
    transf
        Back-transformation of the predictions and bounds (``se`` is then NaN).
    level
        Level of the intervals; default the fit's.

    Returns
    -------
    Blups

    References
    ----------
    Raudenbush SW, Bryk AS (1985). Empirical Bayes meta-analysis. J Educ
    Stat 10:75-98. Robinson GK (1991). That BLUP is a good thing: the
    estimation of random effects. Stat Sci 6:15-32.
    """
    refuse_user_weights(fit, "blup", _SHRINKAGE_WEIGHTS)
    m = _linear_fit(fit, "blup")
    share, fitted, vx = _shrinkage(m)
    pred = share * m.yi + (1.0 - share) * fitted
    se = np.sqrt(share * m.vi + (1.0 - share) ** 2 * vx)
    return Blups(*_study_intervals(m, pred, se, transf, level))


def ranef(
    fit: PooledResult | MetaRegressionResult, transf: Transform | None = None, level: float | None = None
) -> RandomEffects:
    """Predicted study-level random effects, as metafor's ``ranef.rma.uni``.

    The random effect ``u_i`` is study ``i``'s deviation of its true effect
    from the fitted value ``x_i' b`` (so ``blup = x_i' b + ranef``). Its
    prediction shrinks the residual: ``pred_i = l_i (y_i - x_i' b)`` with
    ``l_i = tau^2 / (tau^2 + v_i)``, ``se_i = sqrt(l_i v_i + l_i^2 x_i' V_b
    x_i)`` and the interval ``pred_i -/+ crit se_i`` (``crit`` as in
    :func:`predict`: z, or t with ``k - p`` df for t-based tests).

    Parameters
    ----------
    fit
        A :func:`alsmeta.pool` or :func:`alsmeta.meta_regression` result.
        A common-effect fit (or tau^2 = 0) has no random effects: every
        prediction and standard error is 0, as in metafor.
    transf
        A function applied to the predictions and bounds (``se`` is then NaN).
    level
        Level of the intervals; default the fit's.

    Returns
    -------
    RandomEffects

    References
    ----------
    Raudenbush SW, Bryk AS (1985). Empirical Bayes meta-analysis. J Educ
    Stat 10:75-98 (appendix). Viechtbauer W (2010). Conducting
    meta-analyses in R with the metafor package. J Stat Softw 36(3).
    """
    refuse_user_weights(fit, "ranef", _SHRINKAGE_WEIGHTS)
    m = _linear_fit(fit, "ranef")
    share, fitted, vx = _shrinkage(m)
    pred = share * (m.yi - fitted)
    se = np.sqrt(share * m.vi + share**2 * vx)
    return RandomEffects(*_study_intervals(m, pred, se, transf, level))


def _shrinkage(m: _LinearFit) -> tuple[Array, Array, Array]:
    """``(l_i, x_i' b, x_i' V_b x_i)``: the share of between-study variance, fitted values and their variance."""
    share = m.tau2 / (m.tau2 + m.vi)
    fitted = m.X @ m.beta
    vx = np.einsum("ij,jk,ik->i", m.X, m.vb, m.X)
    return share, fitted, vx


def _study_intervals(
    m: _LinearFit, pred: Array, se: Array, transf: Transform | None, level: float | None
) -> tuple[tuple[str, ...], Array, Array, Array, Array, float, float, str]:
    """The fields of a :class:`_StudyPredictions`: prediction intervals at ``level``, back-transformed by ``transf``."""
    level = m.level if level is None else probability_level(level)
    crit = _critical(level, m.df)
    pi_low, pi_high = pred - crit * se, pred + crit * se
    if transf is not None:
        pred = transformed(pred, transf)
        se = np.full(pred.shape, np.nan)
        pi_low, pi_high = _back(pi_low, pi_high, transf)
    return tuple(m.labels), pred, se, pi_low, pi_high, level, m.df, transf_name(transf)
