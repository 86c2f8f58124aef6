"""GOSH plot: pooled estimate against I^2 over subsets of studies (Olkin et al. 2012).

Takes the table of ``alsmeta.gosh`` (one row per subset, columns
``estimate, tau2, i2, q, k``). Up to ``hexbin_above`` subsets are drawn as
points; above that, as a hexagonal-bin density (a scatter of thousands of
overlapping points shows nothing). Marginal histograms show the distribution
of each axis; the full model is marked with a cross.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure

from alsmeta.models.pooling import PooledResult
from alsmeta.plots import _axis
from alsmeta.plots._labels import literal_text, text_snapshot
from alsmeta.plots.style import (
    GREY,
    INK,
    SMALL_SIZE,
    colour,
    column_width,
    constrained_layout,
    root_figure,
    style_context,
)
from alsmeta.validation import AlsmetaInputError

DENSITY_CMAP = ListedColormap(colormaps["viridis_r"](np.linspace(0.3, 1.0, 256)), name="alsmeta_density")
"""Viridis without its palest end, so that single subsets stay visible on white;
lightness is monotonic, so the density survives greyscale printing."""

AXIS_NAMES = {
    "estimate": "Pooled estimate",
    "i2": "I\u00b2 (%)",
    "tau2": "\u03c4\u00b2",
    "q": "Q",
    "k": "Studies in subset",
}


def gosh_plot(
    gosh: pd.DataFrame,
    fit: PooledResult | None = None,
    *,
    x: str = "estimate",
    y: str = "i2",
    ax: Axes | None = None,
    hexbin_above: int = 2000,
    gridsize: int = 40,
    bins: int = 40,
    log_scale: bool = False,
    effect_label: str | None = None,
    width: str = "single",
) -> Figure:
    """GOSH scatter (or density) of subset results.

    Parameters
    ----------
    gosh
        One row per subset with (at least) the columns named by ``x`` and
        ``y`` (``estimate, tau2, i2, q, k``).
    fit
        The model with all studies, marked with a cross.
    x, y
        Columns on the axes (default: pooled estimate vs I^2).
    ax
        Draw only the main panel into this axes; by default a new figure with
        marginal histograms is made.
    hexbin_above
        Use a hexagonal-bin density instead of points above this many subsets.
    gridsize, bins
        Resolution of the hexbin density and of the histograms.
    log_scale, effect_label
        The estimate is a log ratio: label the estimate axis with ratios.
    width
        Print width of a new figure: ``"single"`` (89 mm, default) or
        ``"double"`` (183 mm) column.

    Returns
    -------
    matplotlib.figure.Figure

    References
    ----------
    Olkin I, Dahabreh IJ, Trikalinos TA (2012). GOSH - a graphical display of
    study heterogeneity. Res Synth Methods 3:214-223.
    """
    if not isinstance(gosh, pd.DataFrame):
        raise AlsmetaInputError(f"gosh: expected a pandas DataFrame, got {type(gosh).__name__}")
    for col in (x, y):
        if col not in gosh.columns:
            raise AlsmetaInputError(f"gosh: missing column {col!r} (has {', '.join(map(str, gosh.columns))})")
    data = gosh[[x, y]].to_numpy(dtype=float)
    data = data[np.all(np.isfinite(data), axis=1)]
    if data.shape[0] == 0:
        raise AlsmetaInputError("gosh: no subset with finite values to plot")
    fig_w = column_width(width)
    before = text_snapshot(root_figure(ax)) if ax is not None else None
    with style_context():
        if ax is None:
            dense = data.shape[0] > hexbin_above
            fig = Figure(figsize=(fig_w, min(fig_w * (1.08 if dense else 0.95), 6.0)), layout="constrained")
            constrained_layout(fig).set(w_pad=0.02, h_pad=0.02, wspace=0.0, hspace=0.0)
            # the colour bar of the density gets a gridspec cell of its own (not ``colorbar(ax=...)``), so the
            # layout can be solved again from the figure as built (alsmeta.plots.frozen_layout) when it is saved
            grid = fig.add_gridspec(
                3 if dense else 2, 2, width_ratios=(4, 1), height_ratios=(1, 4, 0.3) if dense else (1, 4)
            )
            ax = fig.add_subplot(grid[1, 0])
            top = fig.add_subplot(grid[0, 0], sharex=ax)
            right = fig.add_subplot(grid[1, 1], sharey=ax)
            bar_ax = fig.add_subplot(grid[2, 0]) if dense else None
            _marginals(top, right, data, bins)
        else:
            fig, bar_ax = root_figure(ax), None
        _main(ax, bar_ax, data, fit, x, y, hexbin_above, gridsize, log_scale, effect_label)
        n = data.shape[0]
        fig.suptitle(
            f"GOSH plot: {n:,} subsets" + (" (hexagonal-bin density)" if n > hexbin_above else ""),
            fontsize=SMALL_SIZE + 1,
        )
    return literal_text(fig, before)


def _main(
    ax: Axes,
    bar_ax: Axes | None,
    data: np.ndarray,
    fit: PooledResult | None,
    x: str,
    y: str,
    hexbin_above: int,
    gridsize: int,
    log_scale: bool,
    effect_label: str | None,
) -> None:
    n = data.shape[0]
    if n > hexbin_above:
        coll = ax.hexbin(
            data[:, 0],
            data[:, 1],
            gridsize=gridsize,
            mincnt=1,
            cmap=DENSITY_CMAP,
            bins="log",
            linewidths=0.2,
            gid="gosh-density",
        )
        if bar_ax is None:  # axes given by the caller: the colour bar takes its room from them
            bar = root_figure(ax).colorbar(coll, ax=ax, location="bottom", fraction=0.05, aspect=35)
        else:
            bar_ax.set_box_aspect(1 / 35)  # as thick as colorbar(aspect=35) made it
            bar = root_figure(ax).colorbar(coll, cax=bar_ax, orientation="horizontal")
        bar.set_label("Subsets per hexagon (log scale)", fontsize=SMALL_SIZE)
        bar.ax.tick_params(labelsize=SMALL_SIZE - 1)
    else:
        alpha = 1.0 if n <= 200 else max(0.15, 200.0 / n)
        ax.scatter(data[:, 0], data[:, 1], s=8, c=INK, alpha=alpha, linewidths=0, gid="gosh-points")
    if fit is not None and not fit.is_empty:
        fx, fy = _fit_value(fit, x), _fit_value(fit, y)
        if math.isfinite(fx) and math.isfinite(fy):
            ax.plot(
                [fx],
                [fy],
                ls="none",
                marker="X",
                ms=8,
                mfc=colour("highlight"),
                mec="white",
                mew=0.8,
                zorder=5,
                gid="gosh-full",
                label="All studies",
            )
            # a framed legend, so that its marker is not read as a second subset lying on the data
            ax.legend(loc="best", fontsize=SMALL_SIZE, frameon=True, framealpha=0.95, edgecolor=GREY, fancybox=False)
    if x == "estimate":
        _axis.set_effect_axis(ax, [data[:, 0].min(), data[:, 0].max()], log_scale)
        ax.set_xlim(*_padded(data[:, 0], log_scale))
    if y == "estimate":
        _axis.set_effect_axis(ax, [data[:, 1].min(), data[:, 1].max()], log_scale, axis="y")
    label = effect_label or ("Ratio" if log_scale else "Pooled estimate")
    ax.set_xlabel(label + (" (log scale)" if log_scale else "") if x == "estimate" else AXIS_NAMES.get(x, x))
    ax.set_ylabel(label if y == "estimate" else AXIS_NAMES.get(y, y))
    ax.tick_params(labelsize=SMALL_SIZE)


def _padded(values: np.ndarray, log_scale: bool) -> tuple[float, float]:
    lo, hi = float(values.min()), float(values.max())
    pad = 0.05 * (hi - lo) if hi > lo else 0.1
    return lo - pad, hi + pad


def _marginals(top: Axes, right: Axes, data: np.ndarray, bins: int) -> None:
    top.hist(data[:, 0], bins=bins, color=GREY, edgecolor="white", linewidth=0.3, gid="gosh-hist-x")
    right.hist(
        data[:, 1], bins=bins, color=GREY, edgecolor="white", linewidth=0.3, orientation="horizontal", gid="gosh-hist-y"
    )
    for a in (top, right):
        a.tick_params(labelbottom=False, labelleft=False, bottom=a is right, left=a is top, labelsize=SMALL_SIZE - 1)
    top.spines["left"].set_visible(False)
    top.tick_params(left=False)
    right.spines["bottom"].set_visible(False)
    right.tick_params(bottom=False)


def _fit_value(fit: PooledResult, name: str) -> float:
    value: Any = getattr(fit, name, math.nan)
    return float(value) if value is not None else math.nan
