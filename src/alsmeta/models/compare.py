"""Likelihood-ratio test between two nested meta-analysis models: :func:`compare_models`.

As metafor's ``anova(full, reduced)`` for ``rma.uni`` fits: the model with
more parameters is the full one, and

    LRT = 2 (ll_full - ll_reduced)  ~  chi^2 with df = q_full - q_reduced

under the reduced model (``q`` the number of estimated parameters: the
coefficients plus tau^2 when it is estimated). For REML fits ``ll`` is the
restricted log-likelihood, which is comparable only between models with the
same fixed effects (e.g. tau^2 estimated against tau^2 = 0); models that
differ in their moderators must be compared with ML fits. Testing tau^2 = 0
puts the null value on the boundary of the parameter space, so the chi^2(1)
p-value is conservative (Self and Liang 1987; metafor reports it unadjusted,
and so does alsmeta).

References
----------
Viechtbauer W (2010). Conducting meta-analyses in R with the metafor package.
J Stat Softw 36(3):1-48.
Self SG, Liang KY (1987). Asymptotic properties of maximum likelihood
estimators and likelihood ratio tests under nonstandard conditions.
J Am Stat Assoc 82:605-610.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
from scipy import stats

from alsmeta.models._model_data import ModelData, model_data
from alsmeta.results import ResultMixin
from alsmeta.validation import AlsmetaInputError

__all__ = ["ModelComparison", "compare_models"]

Array = npt.NDArray[np.float64]

_LIKELIHOOD_METHODS = ("CE", "ML", "REML")


@dataclass(frozen=True)
class ModelComparison(ResultMixin):
    """Result of :func:`compare_models` (metafor's ``anova()`` LRT).

    Attributes
    ----------
    lrt, df, pvalue
        Likelihood-ratio statistic, its degrees of freedom and chi^2 p-value.
    parms_full, parms_reduced
        Numbers of estimated parameters.
    loglik_full, loglik_reduced, aic_*, bic_*, aicc_*
        Log-likelihoods (restricted for REML) and information criteria.
    tau2_full, tau2_reduced, qe_full, qe_reduced
        tau^2 and the (residual) heterogeneity statistic of each model.
    r2
        Proportion of tau^2 accounted for by the full model, in percent
        (``max(0, 100 (tau2_r - tau2_f) / tau2_r)``, 0 when ``tau2_r = 0``); NaN
        for common-effect comparisons.
    method
        The estimation method of the two fits.
    """

    _title: ClassVar[str] = "Likelihood-ratio test of nested models (full vs reduced)"

    lrt: float
    df: int
    pvalue: float
    parms_full: int
    parms_reduced: int
    loglik_full: float
    loglik_reduced: float
    aic_full: float
    aic_reduced: float
    bic_full: float
    bic_reduced: float
    aicc_full: float
    aicc_reduced: float
    tau2_full: float
    tau2_reduced: float
    qe_full: float
    qe_reduced: float
    r2: float
    method: str
    notes: tuple[str, ...] = field(default=())


def _model(fit: Any, name: str) -> ModelData:
    data = model_data(fit, name)
    if data.user_weights is not None:
        raise AlsmetaInputError(f"{name}: a fit with user weights has no likelihood-based comparison")
    return data


def _check_pair(full: ModelData, red: ModelData) -> None:
    """metafor's checks of ``anova()``, with its warnings turned into refusals."""
    if not (np.array_equal(full.yi, red.yi) and np.array_equal(full.vi, red.vi)):
        raise AlsmetaInputError(
            "fit_full, fit_reduced: the two fits use different data (yi or vi differ); models can be compared "
            "only on the same studies"
        )
    for m, name in ((full.method, "fit_full"), (red.method, "fit_reduced")):
        if m not in _LIKELIHOOD_METHODS:
            raise AlsmetaInputError(
                f"{name}: method={m!r} is not a likelihood fit; refit both models with method='ML' or 'REML' "
                "(likelihood-ratio tests need ML/REML estimation)"
            )
    if full.method == "CE" and red.method != "CE":
        raise AlsmetaInputError(
            "fit_full, fit_reduced: the full model is a common-effect model and the reduced one a random-effects model"
        )
    if {full.method, red.method} == {"ML", "REML"}:
        raise AlsmetaInputError("fit_full, fit_reduced: one fit uses ML and the other REML; use the same method")
    reml = "REML" in (full.method, red.method)
    if reml and (full.X.shape != red.X.shape or not np.array_equal(full.X, red.X)):
        raise AlsmetaInputError(
            "fit_full, fit_reduced: REML likelihoods are not comparable between models with different fixed "
            "effects (moderators); refit both with method='ML'"
        )
    rank_full = np.linalg.matrix_rank(full.X)
    if np.linalg.matrix_rank(np.hstack([full.X, red.X])) != rank_full:
        raise AlsmetaInputError(
            "fit_full, fit_reduced: the models are not nested (the reduced model's moderators are not within the "
            "full model's)"
        )


def compare_models(fit_full: Any, fit_reduced: Any) -> ModelComparison:
    """Likelihood-ratio test of two nested ML/REML fits, with both fits' information criteria.

    Parameters
    ----------
    fit_full, fit_reduced
        Results of :func:`alsmeta.pool` or :func:`alsmeta.meta_regression`
        on the same data, fitted with ``method="ML"`` or ``"REML"`` (or
        ``"CE"``, the model with tau^2 = 0). Given in either order: the fit
        with more parameters is taken as the full model (as metafor).

    Returns
    -------
    ModelComparison
        ``lrt = 2 (ll_full - ll_reduced)`` (at least 0), ``df``, ``pvalue``
        from chi^2(df), and both fits' log-likelihoods, AIC, BIC and AICc.

    Raises
    ------
    AlsmetaInputError
        When the fits differ in their data, are not nested, have the same
        number of parameters, mix ML and REML, are not likelihood fits, or
        are REML fits with different moderators (metafor warns there; the
        restricted likelihoods of such models are not comparable).

    References
    ----------
    Viechtbauer W (2010), J Stat Softw 36(3). See :mod:`alsmeta.models.compare`.
    """
    a, b = _model(fit_full, "fit_full"), _model(fit_reduced, "fit_reduced")
    sa, sb = a.fit.fit_stats, b.fit.fit_stats
    if sa.parms == sb.parms:
        raise AlsmetaInputError(
            "fit_full, fit_reduced: the models have the same number of parameters; a likelihood-ratio test is not "
            "meaningful"
        )
    if sa.parms < sb.parms:
        a, b, sa, sb = b, a, sb, sa
    _check_pair(a, b)
    lrt = max(0.0, 2.0 * (sa.loglik - sb.loglik))
    df = sa.parms - sb.parms
    if a.method == "CE":
        r2 = float("nan")
    elif b.tau2 == 0:
        r2 = 0.0
    else:
        r2 = max(0.0, 100.0 * (b.tau2 - a.tau2) / b.tau2)
    notes: tuple[str, ...] = ()
    if a.tau2 > 0 and b.method == "CE" or (np.array_equal(a.X, b.X) and b.tau2 == 0 and a.method != "CE"):
        notes = (
            "The test of tau^2 = 0 lies on the boundary of the parameter space; the chi^2 p-value is conservative "
            "(Self and Liang 1987).",
        )
    return ModelComparison(
        lrt=lrt,
        df=df,
        pvalue=float(stats.chi2.sf(lrt, df)),
        parms_full=sa.parms,
        parms_reduced=sb.parms,
        loglik_full=sa.loglik,
        loglik_reduced=sb.loglik,
        aic_full=sa.aic,
        aic_reduced=sb.aic,
        bic_full=sa.bic,
        bic_reduced=sb.bic,
        aicc_full=sa.aicc,
        aicc_reduced=sb.aicc,
        tau2_full=a.tau2,
        tau2_reduced=b.tau2,
        qe_full=a.qe,
        qe_reduced=b.qe,
        r2=r2,
        method=a.method,
        notes=notes,
    )
