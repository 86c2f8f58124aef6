"""Trial sequential analysis figure: the cumulative Z curve against its monitoring boundaries.

Draws a :class:`alsmeta.planning.sequential.TrialSequentialResult` (computes nothing):
the cumulative Wald Z of the meta-analysis after each study (x: cumulative
participants, each point labelled with its study), the two-sided
alpha-spending boundaries at the looks, the conventional boundaries
``Z = +-z_{1-alpha/2}`` and the required information size (RIS), as the TSA
program of the Copenhagen Trial Unit draws them (Thorlund et al. 2011).
Every line differs in style as well as colour, so the figure reads in grey.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.legend_handler import HandlerTuple
from matplotlib.lines import Line2D
from matplotlib.ticker import MultipleLocator
from scipy import stats

from alsmeta.planning.sequential import _SPENDING_NAMES, TrialSequentialResult
from alsmeta.plots.frozen_layout import freeze_layout
from alsmeta.plots.style import (
    BLUE,
    GREY,
    INK,
    LIGHT_GREY,
    SMALL_SIZE,
    VERMILLION,
    figure_and_axes,
    style_context,
    text_width,
    two_subfigures,
)
from alsmeta.validation import AlsmetaInputError

MM = 1.0 / 25.4
DOUBLE_COLUMN = 183.0 * MM
SINGLE_COLUMN = 89.0 * MM
Z_DISPLAY_CAP = 8.0
"""Boundaries above this are drawn leaving the panel (TSA truncates its display the same way)."""


def _boundary_points(result: TrialSequentialResult) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative participants and boundary z of each monitoring look (looks below the RIS, then the RIS)."""
    b = result.boundaries
    return b.fraction * result.ris, b.z


def _boundary_path(result: TrialSequentialResult) -> tuple[np.ndarray, np.ndarray]:
    """The boundary path (participants, z); flat beyond the RIS to the last look, as that look is judged."""
    x = result.path_fraction * result.ris
    z = np.where(np.isfinite(result.path_z), result.path_z, np.nan)  # no alpha to spend: nothing drawn
    if result.cumulative_participants[-1] > result.ris:
        x = np.append(x, result.cumulative_participants[-1])
        z = np.append(z, result.boundary[-1])
    return x, z


def _find_line(ax: Axes, gid: str) -> Line2D:
    """The line of ``ax`` with this gid."""
    return next(line for line in ax.get_lines() if line.get_gid() == gid)


def _assumptions(result: TrialSequentialResult) -> str:
    size = result.information_size
    adj = (
        f"adjusted for diversity D\u00b2 = {100 * result.diversity:.0f}%"
        if result.heterogeneity_adjusted
        else f"not adjusted for heterogeneity (D\u00b2 = {100 * result.diversity:.0f}%)"
    )
    return (
        f"RIS = {result.ris:,.0f} participants: effect {size.delta:.2f}, SD {size.sd:.2f}, two-sided \u03b1 = "
        f"{result.alpha:g}, power {100 * size.power:g}%, {adj}. {result.method} random-effects model, Wald Z; "
        f"{_SPENDING_NAMES[result.spending]} \u03b1-spending (Lan & DeMets)."
    )


LONG_LABEL = 1.0
"""Study labels longer than this (inches) are numbered on the top axis, with the key in the note."""


def _spaced_labels(result: TrialSequentialResult, names: list[str], fig_w: float) -> tuple[list[str], list[str]]:
    """Top-axis label of each look, ``""`` where it would overlap the previous named look; and the looks left unnamed.

    Rotated labels need about 1.3 line heights of axis length each; the
    panel is taken as 80% of the figure width (a lower bound).
    """
    x_max = 1.08 * max(result.ris, float(result.cumulative_participants[-1]))
    room = (SMALL_SIZE - 0.5) * 1.3 / 72.0
    shown: list[str] = []
    unnamed: list[str] = []
    last = -math.inf
    for x, name in zip(result.cumulative_participants, names, strict=True):
        pos = float(x) / x_max * 0.8 * fig_w
        if pos - last >= room:
            shown.append(str(name))
            last = pos
        else:
            shown.append("")
            unnamed.append(str(name))
    return shown, unnamed


def trial_sequential_plot(
    result: TrialSequentialResult,
    *,
    ax: Axes | None = None,
    width: str = "double",
    z_label: str = "Cumulative Z",
    point_labels: bool = True,
    assumptions: bool = True,
    title: str | None = None,
    notes: Sequence[str] = (),
) -> Figure:
    """Draw a trial sequential analysis.

    Parameters
    ----------
    result
        From :func:`alsmeta.trial_sequential_analysis`.
    ax
        Draw into this axes (default: a new figure ``width`` wide).
    width
        ``"double"`` (183 mm) or ``"single"`` (89 mm) column.
    z_label
        y-axis label; say which sign favours which arm (e.g.
        ``"Cumulative Z (> 0 favours cells)"``).
    point_labels
        Name the study added at each look on a top axis (rotated labels); a
        look too close to the previous named one is left unnamed there and
        named in the note under the figure instead; labels longer than
        :data:`LONG_LABEL` are replaced by look numbers with a key in the note.
    assumptions
        Print the RIS assumptions under the legend (new figures only).
    title
        Headline above the panel (left-aligned; say what the figure shows).
    notes
        Further lines printed after the assumptions (new figures only), e.g.
        studies that could not enter the cumulative analysis.

    Returns
    -------
    matplotlib.figure.Figure
        Artists carry gids: ``tsa:z`` (the curve), ``tsa:label:<study>``,
        ``tsa:boundary:upper`` / ``tsa:boundary:lower`` (the boundary path),
        ``tsa:boundary-look:upper`` / ``...:lower`` (the boundary at each look),
        ``tsa:conventional:upper`` / ``tsa:conventional:lower``, ``tsa:ris``,
        ``tsa:ris-label``, ``tsa:assumptions`` (with the notes), ``tsa:title``; the study labels are the tick
        labels of the top axis, at each look's cumulative participants.

    References
    ----------
    Wetterslev J, Thorlund K, Brok J, Gluud C (2008). J Clin Epidemiol 61:64-75.
    Thorlund K, et al. (2011). User manual for trial sequential analysis (TSA).
    """
    if not isinstance(result, TrialSequentialResult):
        raise AlsmetaInputError(
            f"result: expected alsmeta.trial_sequential_analysis(...) output, got {type(result).__name__}"
        )
    if width not in ("double", "single"):
        raise AlsmetaInputError(f"width: expected 'double' or 'single', got {width!r}")
    fig_w = DOUBLE_COLUMN if width == "double" else SINGLE_COLUMN
    conventional = float(stats.norm.isf(result.alpha / 2))
    bx, bz = _boundary_points(result)
    px, pz = _boundary_path(result)
    own_figure = ax is None
    with style_context():
        ncols = 2 if width == "double" else 1
        if isinstance(notes, str) or not all(isinstance(n, str) for n in notes):
            raise AlsmetaInputError(f"notes: expected a sequence of strings, got {notes!r}")
        chars = int(fig_w * 72 / ((SMALL_SIZE - 0.5) * 0.55))
        numbered = max(text_width(str(n), SMALL_SIZE - 0.5) for n in result.labels) > LONG_LABEL
        names = [str(i) for i in range(1, len(result.labels) + 1)] if numbered else [str(n) for n in result.labels]
        shown, unnamed = _spaced_labels(result, names, fig_w)
        crowded = []
        if point_labels and numbered:
            crowded.append(
                "Looks (top axis): " + "; ".join(f"{i} {n}" for i, n in enumerate(result.labels, start=1)) + "."
            )
        if point_labels and unnamed:
            crowded.append(
                f"Looks not named on the top axis (too close to the previous named one): {', '.join(unnamed)}."
            )
        note = "\n".join(
            textwrap.fill(par, chars) for par in ([_assumptions(result)] if assumptions else []) + crowded + list(notes)
        )
        if own_figure:  # panel above, legend and assumptions below, each laid out on its own
            foot_h = (
                math.ceil(4 / ncols) * 1.45 * SMALL_SIZE
                + (note.count("\n") + 1) * 1.3 * (SMALL_SIZE - 0.5) * bool(note)
                + 8
            ) / 72
            panel_h = fig_w * (0.5 if width == "double" else 0.95)
            fig = Figure(figsize=(fig_w, panel_h + foot_h), layout="constrained")
            top_fig, foot = two_subfigures(fig, [panel_h, foot_h])
            ax = top_fig.add_subplot()
        else:
            fig, ax = figure_and_axes(ax, (fig_w, fig_w))
        x_max = 1.08 * max(result.ris, float(result.cumulative_participants[-1]))
        z_abs = float(np.max(np.abs(result.z)))
        finite_b = bz[np.isfinite(bz)]
        y_top = max(conventional, z_abs, min(float(finite_b.max()) if finite_b.size else 0.0, Z_DISPLAY_CAP)) * 1.12
        y_top = math.ceil(y_top)
        ax.axhline(0.0, color=LIGHT_GREY, lw=0.6, zorder=0)
        for sign, side in ((1.0, "upper"), (-1.0, "lower")):
            ax.axhline(
                sign * conventional,
                color=GREY,
                lw=0.9,
                ls="--",
                zorder=1,
                gid=f"tsa:conventional:{side}",
                label=f"Conventional boundary (Z = \u00b1{conventional:.2f})" if side == "upper" else None,
            )
            # boundaries start at the first look: nothing is monitored before any data
            ax.plot(
                px,
                sign * pz,
                color=BLUE,
                lw=1.6,
                zorder=2,
                gid=f"tsa:boundary:{side}",
                label="Monitoring boundary (\u03b1-spending)" if side == "upper" else None,
            )
            ax.plot(
                bx,
                sign * bz,
                ls="none",
                color=BLUE,
                marker="s",
                ms=3.2,
                zorder=3,
                clip_on=True,
                gid=f"tsa:boundary-look:{side}",
            )
        ax.axvline(
            result.ris,
            color=VERMILLION,
            lw=1.2,
            ls="-.",
            zorder=1,
            gid="tsa:ris",
            label="Required information size (RIS)",
        )
        ax.annotate(
            f"RIS = {result.ris:,.0f}",
            (result.ris, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(-3, -2),
            textcoords="offset points",
            ha="right",
            va="top",
            fontsize=SMALL_SIZE,
            color=INK,
            gid="tsa:ris-label",
        )
        x = np.concatenate(([0.0], result.cumulative_participants))
        z = np.concatenate(([0.0], result.z))
        ax.plot(
            x,
            z,
            color=INK,
            lw=1.6,
            marker="o",
            ms=4.0,
            mfc=INK,
            mec="white",
            mew=0.6,
            zorder=4,
            gid="tsa:z",
            label="Cumulative Z curve",
        )
        if point_labels:
            top = ax.secondary_xaxis("top")
            top.set_xticks(result.cumulative_participants, labels=shown, rotation=90, fontsize=SMALL_SIZE - 0.5)
            top.tick_params(length=2.0, pad=1.5)
            for tick, label in zip(top.get_xticklabels(), result.labels, strict=False):
                tick.set_gid(f"tsa:label:{label}")
        ax.set_xlim(0, x_max)
        ax.set_ylim(-y_top, y_top)
        ax.yaxis.set_major_locator(MultipleLocator(2 if y_top <= 10 else 5))
        if title:
            ax.set_title(title, loc="left", fontsize=SMALL_SIZE + 1, gid="tsa:title")
        ax.set_xlabel("Cumulative number of participants")
        ax.set_ylabel(z_label)
        artists, labels = ax.get_legend_handles_labels()
        handles: list[Any] = list(artists)
        boundary_label = "Monitoring boundary (\u03b1-spending)"
        if boundary_label in labels:  # the boundary's handle shows the path and the look markers together
            i = labels.index(boundary_label)
            handles[i] = (handles[i], _find_line(ax, "tsa:boundary-look:upper"))
        legend_kw = {
            "ncols": ncols,
            "fontsize": SMALL_SIZE,
            "handlelength": 2.6,
            "columnspacing": 1.5,
            "handler_map": {tuple: HandlerTuple(ndivide=1)},
        }
        if own_figure:
            foot.legend(handles, labels, loc="upper center", borderaxespad=0.0, **legend_kw)
            if note:
                foot.text(
                    0.01, 0.0, note, ha="left", va="bottom", fontsize=SMALL_SIZE - 0.5, color=INK, gid="tsa:assumptions"
                )
        else:
            ax.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, -0.17), **legend_kw)
        if own_figure:
            freeze_layout(fig)  # byte-identical SVGs from run to run
    return fig
