"""User weights and the generalised Q estimator of tau^2 (one fit, any design matrix).

metafor's ``rma(yi, vi, weights=a)`` estimates the coefficients by weighted
least squares with the user's weights ``a`` instead of ``1/(v + tau^2)``:

    beta = (X'AX)^-1 X'A y,    A = diag(a),

and, since those weights are not the inverse variances, takes their
covariance from the sandwich

    Var(beta) = (X'AX)^-1 X'A M A X (X'AX)^-1,    M = diag(v + tau^2).

For the Knapp-Hartung tests the sandwich is multiplied by
``s2w = sum w_i (y_i - x_i b)^2 / (k - p)`` computed, as metafor does, with
the inverse-variance weights ``w = 1/(v + tau^2)`` and their estimate ``b``
(never below 1 for ``test="adhoc"``).

The generalised Q estimator (GENQ; DerSimonian and Kacker 2007, Jackson et
al. 2014) is the method-of-moments estimator for the weighted statistic
``Q_a = y'P y`` with ``P = A - A X (X'AX)^-1 X'A``. Because
``E[Q_a] = tr(P V) + tau^2 tr(P)`` (``V = diag(v)``),

    tau^2 = max(0, (y'P y - tr(PV)) / tr(P)),

with standard error ``sqrt(2 tr(PVPV) + 4 t tr(PVP) + 2 t^2 tr(PP)) / tr(P)``,
``t = max(tau^2, 0)``. With ``a = 1/v`` it is the DerSimonian-Laird
estimator, with ``a = 1`` the Hedges estimator.

References
----------
DerSimonian R, Kacker R (2007). Random-effects model for meta-analysis of
clinical trials: an update. Contemp Clin Trials 28:105-114.
Jackson D, Turner R, Rhodes K, Viechtbauer W (2014). Methods for calculating
confidence and credible intervals for the residual between-study variance in
random effects meta-regression models. BMC Med Res Methodol 14:103.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from alsmeta.validation import AlsmetaInputError

Array = npt.NDArray[np.float64]


def weighted_projection(X: Array, a: Array) -> Array:
    """``P = A - A X (X'AX)^-1 X'A`` for the weights ``a`` (``A = diag(a)``).

    ``X`` is ``(k, p)`` with ``a`` of length ``k``, or a stack ``(..., k, p)``
    with ``a`` shaped ``(..., k)`` (one projection per model).

    Raises
    ------
    AlsmetaInputError
        When ``X'AX`` is singular (e.g. every weight 0, or a coefficient
        whose studies all have weight 0).
    """
    xta = np.swapaxes(X, -1, -2) * a[..., None, :]
    P = -(np.swapaxes(xta, -1, -2) @ _inverse(xta @ X) @ xta)
    idx = np.arange(X.shape[-2])
    P[..., idx, idx] += a
    return P


def _inverse(m: Array) -> Array:
    if m.size and np.any(np.linalg.cond(m) > 1e14):
        raise AlsmetaInputError(
            "weights: X'AX is singular with these weights (all weights zero, or a coefficient "
            "estimated only from studies with weight zero)"
        )
    inv: Array = np.linalg.inv(m).astype(np.float64)
    return inv


@dataclass(frozen=True)
class GenqEstimate:
    """tau^2 by the generalised Q estimator, its SE and the pieces of ``E[Q_a]``."""

    tau2: float
    tau2_se: float
    q_a: float
    tr_p: float
    tr_pv: float


def genq_tau2_many(y: Array, v: Array, X: Array, a: Array, tau2_fixed: float | None = None) -> tuple[Array, Array]:
    """Generalised Q estimates of tau^2 and their SEs for a stack of models.

    Parameters
    ----------
    y, v, a
        Effects, sampling variances and weights, shaped ``(B, k)``. A study
        with weight 0 (e.g. one left out of a model) takes no part.
    X
        Designs ``(B, k, p)``; every model needs ``k > p`` studies with a
        positive weight and ``X'AX`` of full rank.
    tau2_fixed
        A fixed tau^2 (its SE is then evaluated there, as metafor).

    Returns
    -------
    tau2, tau2_se
        Arrays of length ``B`` (module docstring; tau^2 truncated at 0).
    """
    P = weighted_projection(X, a)
    PV = P * v[:, None, :]
    tr_p = np.trace(P, axis1=1, axis2=2)
    tr_pv = np.trace(PV, axis1=1, axis2=2)
    q_a = np.einsum("bi,bij,bj->b", y, P, y)
    tau2 = np.maximum(0.0, (q_a - tr_pv) / tr_p) if tau2_fixed is None else np.full(y.shape[0], float(tau2_fixed))
    t = np.maximum(tau2, 0.0)
    var = (
        2.0 * np.einsum("bij,bji->b", PV, PV)
        + 4.0 * t * np.einsum("bij,bij->b", PV, P)
        + 2.0 * t * t * np.einsum("bij,bij->b", P, P)
    )
    return tau2, np.sqrt(var) / tr_p


def genq_tau2(y: Array, v: Array, X: Array, a: Array) -> GenqEstimate:
    """Generalised Q estimate of tau^2 with weights ``a`` (see the module docstring).

    Parameters
    ----------
    y, v
        Effects and sampling variances (length ``k``).
    X
        Design matrix ``(k, p)``; a column of ones for intercept-only fits.
    a
        Non-negative weights, one per study.

    Returns
    -------
    GenqEstimate
        ``tau2 = max(0, (y'Py - tr(PV)) / tr(P))``; 0 with NaN SE when
        ``k <= p`` (no residual degree of freedom), as metafor.
    """
    k, p = X.shape
    if k <= p:
        return GenqEstimate(0.0, float("nan"), 0.0, 0.0, 0.0)
    P = weighted_projection(X, a)
    tau2, se = genq_tau2_many(y[None, :], v[None, :], X[None], a[None, :])
    return GenqEstimate(
        float(tau2[0]), float(se[0]), float(y @ P @ y), float(np.trace(P)), float(np.sum(np.diag(P) * v))
    )


@dataclass(frozen=True)
class WeightedCoefficients:
    """Coefficients with user weights and their sandwich covariance (times ``s2w``)."""

    beta: Array
    vcov: Array
    s2w: float


def weighted_fit_many(y: Array, v: Array, X: Array, a: Array, tau2: Array) -> tuple[Array, Array]:
    """``beta = (X'AX)^-1 X'A y`` and its sandwich covariance for a stack of models (module docstring).

    Parameters
    ----------
    y, v, a
        Effects, sampling variances and user weights ``(B, k)``.
    X
        Designs ``(B, k, p)``.
    tau2
        tau^2 of each model (length ``B``; 0 for a common-effect model).

    Returns
    -------
    beta, vcov
        ``(B, p)`` and ``(B, p, p)``; the covariance without a Knapp-Hartung factor.
    """
    xta = np.swapaxes(X, 1, 2) * a[:, None, :]
    inv = _inverse(xta @ X)
    beta = (inv @ (xta @ y[:, :, None]))[:, :, 0]
    m = v + tau2[:, None]
    vcov = inv @ (xta * m[:, None, :]) @ np.swapaxes(xta, 1, 2) @ inv
    return beta, vcov


def weighted_coefficients(y: Array, v: Array, X: Array, a: Array, tau2: float, test: str) -> WeightedCoefficients:
    """``beta = (X'AX)^-1 X'A y`` and its covariance as metafor's ``rma(weights=)``.

    ``test`` is ``"z"``, ``"t"``, ``"knha"`` or ``"adhoc"``; for the last two
    the sandwich is scaled by the Knapp-Hartung factor ``s2w`` (module
    docstring), computed with the inverse-variance weights.
    """
    k, p = X.shape
    beta_b, vcov_b = weighted_fit_many(y[None, :], v[None, :], X[None], a[None, :], np.array([tau2]))
    beta, vcov = beta_b[0], vcov_b[0]
    m = v + tau2
    s2w = 1.0
    if test in ("knha", "adhoc") and k > p:
        w = 1.0 / m
        xtw = X.T * w[None, :]
        b_iv = np.linalg.solve(xtw @ X, xtw @ y)
        rss = float(np.sum(w * (y - X @ b_iv) ** 2))
        s2w = 0.0 if rss <= np.finfo(float).eps else rss / (k - p)
        if test == "adhoc":
            s2w = max(s2w, 1.0)
    return WeightedCoefficients(beta, vcov * s2w, s2w)
