"""Drapery plot: p-value functions of the studies and of the pooled estimate.

Each curve is :func:`alsmeta.diagnostics.pvalue_function.p_value_function`
of an estimate: it peaks at 1 at the estimate and crosses ``alpha = 1 -
level`` exactly at the confidence limits, so a drapery plot shows every
confidence interval at once (Rücker & Schwarzer 2021, as ``meta::drapery``).
The shaded region is the p-value function of the
predictive distribution of a new study's true effect (``mu``, variance
``se^2 + tau^2``); it crosses ``alpha`` at the prediction interval.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from alsmeta.diagnostics.common_effect import common_effect
from alsmeta.diagnostics.pvalue_function import p_value_function, prediction_p_value_function
from alsmeta.models.pooling import PooledResult
from alsmeta.plots import _axis
from alsmeta.plots._labels import literal_text, text_snapshot
from alsmeta.plots.forest import model_name
from alsmeta.plots.style import (
    FOOTNOTE_SIZE,
    GREY,
    INK,
    SMALL_SIZE,
    colour,
    column_width,
    figure_and_axes,
    root_figure,
    style_context,
)
from alsmeta.validation import AlsmetaInputError

GRID_POINTS = 801


def drapery_plot(
    fit: PooledResult,
    *,
    ax: Axes | None = None,
    common: bool = False,
    prediction: bool = True,
    log_scale: bool = False,
    effect_label: str | None = None,
    xlim: tuple[float, float] | None = None,
    reference: float | None = None,
    width: str = "single",
) -> Figure:
    """Drapery plot of a pooled result.

    Parameters
    ----------
    fit
        Result of :func:`alsmeta.pool` (k >= 1).
    ax
        Draw into this axes (default: a new figure ``width`` wide).
    common
        Also draw the common-effect p-value function (random-effects fits).
    prediction
        Shade the predictive p-value function (random-effects fits, k >= 3).
    log_scale, effect_label, reference
        As in :func:`alsmeta.plots.forest_plot` (ratios on the log scale).
    xlim
        Effect-axis limits (ratios on the log scale).
    width
        Print width of a new figure: ``"single"`` (89 mm, default; the
        legend is one column) or ``"double"`` (183 mm) column.

    Returns
    -------
    matplotlib.figure.Figure

    References
    ----------
    Rücker G, Schwarzer G (2021). Beyond the forest plot: the drapery plot.
    Res Synth Methods 12:13-19.
    """
    if not isinstance(fit, PooledResult):
        raise AlsmetaInputError(f"fit: expected a PooledResult from alsmeta.pool, got {type(fit).__name__}")
    if fit.k < 1:
        raise AlsmetaInputError("drapery plot: needs at least one study (k = 0)")
    ref, lim = _axis.data_reference_and_limits(reference, xlim, log_scale)
    alpha = 1.0 - fit.level
    sei = np.sqrt(fit.vi)
    show_pi = prediction and fit.is_random_effects and fit.k >= 3 and math.isfinite(fit.pi_low)
    show_common = common and fit.is_random_effects and fit.k >= 2
    fig_w = column_width(width)
    before = text_snapshot(root_figure(ax)) if ax is not None else None
    with style_context():
        fig, ax = figure_and_axes(ax, (fig_w, 4.2 if width == "single" else 3.9))
        span = [fit.ci_low, fit.ci_high, *fit.yi, ref]
        if show_pi:
            span += [fit.pi_low, fit.pi_high]
        if lim is None:
            lo, hi = min(span), max(span)
            pad = 0.15 * (hi - lo)
            lo, hi = _axis.set_effect_axis(ax, [lo - pad, hi + pad], log_scale)
        else:
            lo, hi = _axis.set_effect_axis(ax, [], log_scale, lim)
        # include every peak in the grid, so that each curve reaches p = 1
        ce = common_effect(fit) if show_common else None
        peaks = [v for v in (*fit.yi, fit.estimate, ce.estimate if ce else lo) if lo <= v <= hi]
        theta = np.unique(np.concatenate([np.linspace(lo, hi, GRID_POINTS), peaks]))
        if show_pi:
            ax.fill_between(
                theta,
                0,
                prediction_p_value_function(theta, fit),
                color=colour("prediction"),
                alpha=0.18,
                lw=0,
                zorder=1,
                gid="drapery:prediction",
                label=f"Prediction region (crosses \u03b1 at the {100 * fit.level:g}% PI)",
            )
        for i in range(fit.k):
            ax.plot(
                theta,
                p_value_function(theta, fit.yi[i], sei[i]),
                color=GREY,
                lw=0.7,
                zorder=2,
                gid=f"drapery:study:{fit.labels[i]}",
                label="Studies" if i == 0 else None,
            )
        if ce is not None:
            ax.plot(
                theta,
                p_value_function(theta, ce.estimate, ce.se),
                color=colour("common"),
                lw=1.8,
                ls=(0, (5, 2)),
                zorder=3,
                gid="drapery:common",
                label="Common-effect model",
            )
        if fit.k >= 2:
            role = "random" if fit.is_random_effects else "common"
            ax.plot(
                theta,
                p_value_function(theta, fit.estimate, fit.se, fit.df),
                color=colour(role),
                lw=2.0,
                zorder=4,
                gid=f"drapery:{role}",
                label=model_name(fit),
            )
        ax.axhline(alpha, color=INK, lw=0.7, ls=(0, (1.5, 1.5)), zorder=3, gid="drapery:alpha")
        ax.annotate(
            f"\u03b1 = {alpha:g}",
            (1.0, alpha),
            xycoords=("axes fraction", "data"),
            xytext=(-2, 2),
            textcoords="offset points",
            ha="right",
            va="bottom",
            fontsize=FOOTNOTE_SIZE,
        )
        if lo <= ref <= hi:
            ax.axvline(ref, color=GREY, lw=0.8, zorder=0, gid="reference-line")
        ax.set_ylim(0, 1.02)
        ax.set_xlim(lo, hi)
        ax.set_ylabel("p-value")
        right = ax.secondary_yaxis("right", functions=(_confidence_percent, _p_of_confidence))
        right.set_ylabel("Confidence level (%)")
        right.tick_params(labelsize=SMALL_SIZE)
        label = effect_label or ("Ratio" if log_scale else "Effect")
        ax.set_xlabel(label + (" (log scale)" if log_scale else ""))
        ax.tick_params(labelsize=SMALL_SIZE)
        ax.legend(
            loc="upper center",
            bbox_to_anchor=(0.5, -0.16),
            ncols=1 if width == "single" else 2,
            fontsize=SMALL_SIZE - 0.5,
            handlelength=1.8,
            columnspacing=1.2,
        )
    return literal_text(fig, before)


def _confidence_percent(p: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Confidence level (%) of the interval whose limits have p-value ``p``."""
    return 100 * (1 - np.asanyarray(p))


def _p_of_confidence(level: npt.ArrayLike) -> npt.NDArray[np.float64]:
    return 1 - np.asanyarray(level) / 100
