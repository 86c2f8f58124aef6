"""Baujat coordinates: each study's contribution to heterogeneity and its influence on the pooled result.

As metafor's ``baujat()`` for ``rma.uni`` models (Baujat et al. 2002): x_i
is the squared Pearson residual ``(y_i - mu)^2 / (v_i + tau^2)`` of the full
model (for a common-effect model the study's contribution to Q), and y_i is
``(mu_(-i) - mu)^2 / Var(mu_(-i))``, the squared change of the pooled
estimate when study i is left out, scaled by the variance of the
leave-one-out estimate. The leave-one-out models are those of
:func:`alsmeta.leave_one_out` (same estimator, test and fixed tau^2, all k at
once with the batched engine). :func:`alsmeta.plots.baujat_plot` draws them.
"""

from __future__ import annotations

import pandas as pd

from alsmeta.diagnostics.sensitivity import leave_one_out
from alsmeta.models._fitted import require_fit
from alsmeta.models.pooling import PooledResult
from alsmeta.validation import AlsmetaInputError


def baujat_coordinates(fit: PooledResult) -> pd.DataFrame:
    """Baujat coordinates of every study of a fit.

    Parameters
    ----------
    fit
        Result of :func:`alsmeta.pool` with at least two studies.

    Returns
    -------
    pandas.DataFrame
        Columns ``label``, ``x`` (contribution to heterogeneity) and ``y``
        (influence on the pooled result), one row per study; equal to
        metafor's ``baujat(res)`` output.

    References
    ----------
    Baujat B, Mahe C, Pignon JP, Hill C (2002). A graphical method for
    exploring heterogeneity in meta-analyses: application to a meta-analysis
    of 65 trials. Stat Med 21:2641-2652.
    """
    fit = require_fit(fit, "baujat_coordinates")
    if fit.k < 2:
        raise AlsmetaInputError(f"Baujat plot: needs at least two studies, got k = {fit.k}")
    tau2 = fit.tau2 if fit.is_random_effects else 0.0
    x = (fit.yi - fit.estimate) ** 2 / (fit.vi + tau2)
    loo = leave_one_out(fit)
    y = (loo["estimate"].to_numpy() - fit.estimate) ** 2 / loo["se"].to_numpy() ** 2
    return pd.DataFrame({"label": list(fit.labels), "x": x, "y": y})
