"""Log-likelihoods and information criteria of a (mixed-effects) meta-analysis model.

For ``y = X beta + u + e`` with ``u ~ N(0, tau^2)`` and ``e ~ N(0, v)`` and
an estimate ``b`` of ``beta`` (Viechtbauer 2005; metafor's ``fit.stats``):

    ll_ML   = -1/2 [k log(2 pi) + sum log(v + tau^2) + RSS]
    ll_REML = -1/2 [(k - p) log(2 pi) - log|X'X| + sum log(v + tau^2)
                    + log|X'WX| + RSS]

with ``W = diag(1/(v + tau^2))`` and ``RSS = sum w (y - X b)^2``. The
``log|X'X|`` term (metafor's default ``REMLf=TRUE``) makes the restricted
likelihood invariant to a reparameterisation of ``X``. With ``q`` the number
of estimated parameters (``p``, plus 1 when tau^2 is estimated) and
``n = k`` (ML) or ``k - p`` (REML):

    AIC = -2 ll + 2 q,   BIC = -2 ll + q log(n),
    AICc = -2 ll + 2 q max(n, q + 2) / (max(n, q + 2) - q - 1).

References
----------
Viechtbauer W (2005). Bias and efficiency of meta-analytic variance
estimators in the random-effects model. J Educ Behav Stat 30:261-293.
Harville DA (1977). Maximum likelihood approaches to variance component
estimation and to related problems. J Am Stat Assoc 72:320-338.
Hurvich CM, Tsai CL (1989). Regression and time series model selection in
small samples. Biometrika 76:297-307.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]


@dataclass(frozen=True)
class FitStatistics:
    """Log-likelihood, deviance-free information criteria and the counts they use.

    ``reml`` says which likelihood ``loglik`` is (restricted for REML fits).
    """

    loglik: float
    aic: float
    bic: float
    aicc: float
    parms: int
    n: int
    reml: bool


def log_likelihoods(y: Array, v: Array, X: Array, tau2: float, beta: Array) -> tuple[float, float]:
    """``(ll_ML, ll_REML)`` at ``tau2`` and the coefficient estimate ``beta`` (module docstring)."""
    k, p = X.shape
    m = v + tau2
    w = 1.0 / m
    res = y - X @ beta
    rss = float(np.sum(w * res * res))
    logdet_v = float(np.sum(np.log(m)))
    ll_ml = -0.5 * (k * np.log(2.0 * np.pi) + logdet_v + rss)
    logdet_xx = np.linalg.slogdet(X.T @ X)[1]
    logdet_xwx = np.linalg.slogdet((X.T * w[None, :]) @ X)[1]
    ll_reml = -0.5 * ((k - p) * np.log(2.0 * np.pi) - logdet_xx + logdet_v + logdet_xwx + rss)
    return float(ll_ml), float(ll_reml)


def information_criteria(loglik: float, parms: int, n: int, reml: bool) -> FitStatistics:
    """AIC, BIC and AICc from a log-likelihood with ``parms`` parameters and ``n`` observations.

    ``n`` is ``k`` for ML and ``k - p`` for REML (module docstring).
    """
    dev = -2.0 * loglik
    big = max(n, parms + 2)
    with np.errstate(divide="ignore"):
        bic = dev + parms * float(np.log(n)) if n > 0 else float("nan")
    aicc = dev + 2.0 * parms * big / (big - parms - 1)
    return FitStatistics(float(loglik), dev + 2.0 * parms, bic, aicc, parms, n, reml)


def fit_statistics(
    y: Array, v: Array, X: Array, tau2: float, beta: Array, reml: bool, tau2_estimated: bool
) -> FitStatistics:
    """:class:`FitStatistics` of a fit: the restricted likelihood when ``reml``, else the ML one."""
    k, p = X.shape
    ll_ml, ll_reml = log_likelihoods(y, v, X, tau2, beta)
    parms = p + int(tau2_estimated)
    return information_criteria(ll_reml if reml else ll_ml, parms, k - p if reml else k, reml)


class InformationCriteria:
    """``loglik``, ``aic``, ``bic`` and ``aicc`` of a fitted model, read from its ``fit_stats``.

    Mixed into the ML/REML result classes (pool and meta-regression fits), each of which
    defines ``fit_stats`` (metafor's ``logLik()`` and ``fitstats()``).
    """

    @property
    def fit_stats(self) -> FitStatistics:
        raise NotImplementedError

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
