"""Baujat plot: each study's contribution to heterogeneity against its influence.

Coordinates as metafor's ``baujat()`` for ``rma.uni`` models (Baujat et al.
2002): x_i is the squared Pearson residual ``(y_i - mu)^2 / (v_i + tau^2)``
of the full model (for a common-effect model the study's contribution to Q),
and y_i is ``(mu_(-i) - mu)^2 / Var(mu_(-i))``, the squared change of the
pooled estimate when study i is left out, scaled by the variance of the
leave-one-out estimate. The leave-one-out models are refitted with the same
estimator and test (all k at once, with the batched engine).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from alsmeta.batch import pool_many
from alsmeta.plots._labels import literal_text, place_labels, text_snapshot
from alsmeta.plots.style import INK, SMALL_SIZE, figure_and_axes, style_context
from alsmeta.pooling import PooledResult
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
    if not isinstance(fit, PooledResult):
        raise AlsmetaInputError(f"fit: expected a PooledResult from alsmeta.pool, got {type(fit).__name__}")
    if fit.k < 2:
        raise AlsmetaInputError(f"Baujat plot: needs at least two studies, got k = {fit.k}")
    k = fit.k
    tau2 = fit.tau2 if fit.is_random_effects else 0.0
    x = (fit.yi - fit.estimate) ** 2 / (fit.vi + tau2)
    loo = pool_many(
        np.tile(fit.yi, (k, 1)), np.tile(fit.vi, (k, 1)), ~np.eye(k, dtype=bool), method=fit.method,
        test=fit.test, level=fit.level, tau2=fit.tau2 if fit.tau2_fixed else None, confint=False,
    )
    y = (loo.estimate - fit.estimate) ** 2 / loo.se**2
    return pd.DataFrame({"label": list(fit.labels), "x": x, "y": y})


def baujat_plot(
    data: PooledResult | pd.DataFrame,
    *,
    ax: Axes | None = None,
    annotate: bool = True,
) -> Figure:
    """Baujat plot from a fit, or from a table with columns ``label, x, y``.

    Parameters
    ----------
    data
        A :class:`alsmeta.PooledResult` (coordinates are computed with
        :func:`baujat_coordinates`) or a DataFrame of coordinates.
    ax
        Draw into this axes (default: a new 4.2 x 3.6 inch figure).
    annotate
        Write the study label next to each point.

    Returns
    -------
    matplotlib.figure.Figure
    """
    frame = baujat_coordinates(data) if isinstance(data, PooledResult) else _check_frame(data)
    is_common = isinstance(data, PooledResult) and not data.is_random_effects
    before = text_snapshot(ax.figure) if ax is not None else None
    with style_context():
        fig, ax = figure_and_axes(ax, (4.6, 3.8))
        ax.plot(frame["x"], frame["y"], ls="none", marker="o", ms=4.5, color=INK, gid="baujat-points")
        ax.set_xlabel("Contribution to overall heterogeneity" if is_common else "Squared Pearson residual")
        ax.set_ylabel("Influence on overall result")
        ax.margins(x=0.08, y=0.08)
        ax.set_xlim(left=min(0.0, ax.get_xlim()[0]))
        ax.set_ylim(bottom=min(0.0, ax.get_ylim()[0]))
        ax.tick_params(labelsize=SMALL_SIZE)
        if annotate:
            _extend_for_labels(ax, frame)
            place_labels(ax, frame["x"], frame["y"], [str(v) for v in frame["label"]], SMALL_SIZE - 1, gid="baujat-label")
    return literal_text(fig, before)


def _extend_for_labels(ax: Axes, frame: pd.DataFrame) -> None:
    """Leave room on the right for the labels of the right-most points."""
    if frame.empty:
        return
    lo, hi = ax.get_xlim()
    ax.set_xlim(lo - 0.08 * (hi - lo), hi + 0.22 * (hi - lo))


def _check_frame(data: Any) -> pd.DataFrame:
    if not isinstance(data, pd.DataFrame):
        raise AlsmetaInputError(f"baujat_plot: expected a PooledResult or a DataFrame, got {type(data).__name__}")
    missing = [c for c in ("label", "x", "y") if c not in data.columns]
    if missing:
        raise AlsmetaInputError(f"baujat_plot: missing column(s) {', '.join(missing)}")
    return data
