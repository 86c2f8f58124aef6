"""The p-value function (confidence curve) of an estimate.

For an estimate ``y`` with standard error ``s``, the p-value function gives,
for each hypothesised effect ``theta``, the two-sided p-value of the test of
``theta``: ``p(theta) = 2 * P(T > |y - theta| / s)`` (normal, or t with
``df`` degrees of freedom). It peaks at 1 at the estimate and crosses
``alpha = 1 - level`` exactly at the confidence limits, so one curve shows
every confidence interval at once (Rücker & Schwarzer 2021);
:func:`alsmeta.plots.drapery_plot` draws it for the studies and the pooled
estimate; :func:`prediction_p_value_function` is the curve of a new study's
true effect, which crosses ``alpha`` at the prediction interval.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from scipy import stats

from alsmeta.models._fitted import require_fit
from alsmeta.models.pooling import PooledResult

Array = npt.NDArray[np.float64]


def p_value_function(theta: npt.ArrayLike, estimate: float, se: float, df: float = math.nan) -> Array:
    """Two-sided p-value of ``H0: effect = theta`` for each theta (t when ``df`` is finite).

    Parameters
    ----------
    theta
        Hypothesised effects.
    estimate, se
        The estimate and its standard error (> 0).
    df
        Degrees of freedom of a t-based test; NaN (default) for z.

    Returns
    -------
    numpy.ndarray
        One p-value per theta.

    References
    ----------
    Rücker G, Schwarzer G (2021). Beyond the forest plot: the drapery plot.
    Res Synth Methods 12:13-19.
    """
    z = np.abs(estimate - np.asarray(theta, dtype=float)) / se
    p = stats.t.sf(z, df) if math.isfinite(df) else stats.norm.sf(z)
    return np.asarray(2.0 * p, dtype=float)


def prediction_p_value_function(theta: npt.ArrayLike, fit: PooledResult) -> Array:
    """p-value function of the predictive distribution of a new study's true effect.

    The distribution has mean ``fit.estimate`` and variance ``se^2 + tau^2``
    (t with ``fit.df`` degrees of freedom for t-based tests), so the curve
    crosses ``alpha = 1 - level`` at the prediction interval
    ``fit.pi_low, fit.pi_high`` (metafor's ``predict()``; Riley et al. 2011).

    References
    ----------
    Riley RD, Higgins JPT, Deeks JJ (2011). Interpretation of random effects
    meta-analyses. BMJ 342:d549.
    """
    fit = require_fit(fit, "prediction_p_value_function", honours_weights=True)  # uses the fit's estimate and SE
    return p_value_function(theta, fit.estimate, math.sqrt(fit.se**2 + fit.tau2), fit.df)
