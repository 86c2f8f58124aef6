"""Baujat plot: each study's contribution to heterogeneity against its influence.

Draws the coordinates of :func:`alsmeta.diagnostics.baujat.baujat_coordinates`
(metafor's ``baujat()``; Baujat et al. 2002), given as a fit or as their table.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from alsmeta.diagnostics.baujat import baujat_coordinates
from alsmeta.models.pooling import PooledResult
from alsmeta.plots._labels import literal_text, place_labels, text_snapshot, wrap_key
from alsmeta.plots.style import (
    FOOTNOTE_SIZE,
    INK,
    SMALL_SIZE,
    column_width,
    constrained_layout,
    figure_and_axes,
    root_figure,
    style_context,
    text_width,
)
from alsmeta.validation import AlsmetaInputError

KEY_ABOVE = 1 / 3
"""Point labels wider than this share of the figure width become study numbers with a key."""
KEY_LINE = 1.25
"""Line height of the key, in multiples of its font size (matplotlib's 1.2 line spacing plus a margin)."""


def baujat_plot(
    data: PooledResult | pd.DataFrame,
    *,
    ax: Axes | None = None,
    annotate: bool = True,
    width: str = "single",
) -> Figure:
    """Baujat plot from a fit, or from a table with columns ``label, x, y``.

    Parameters
    ----------
    data
        A :class:`alsmeta.PooledResult` (coordinates are computed with
        :func:`baujat_coordinates`) or a DataFrame of coordinates.
    ax
        Draw into this axes (default: a new figure ``width`` wide).
    annotate
        Write the study label next to each point; in a new figure, labels
        wider than a third of it are replaced by study numbers with a key
        below (as :func:`alsmeta.plots.influence_plot`).
    width
        Print width of a new figure: ``"single"`` (89 mm, default) or
        ``"double"`` (183 mm) column; text stays at print size (>= 7 pt).

    Returns
    -------
    matplotlib.figure.Figure
    """
    frame = baujat_coordinates(data) if isinstance(data, PooledResult) else _check_frame(data)
    is_common = isinstance(data, PooledResult) and not data.is_random_effects
    fig_w = column_width(width)
    names = [str(v) for v in frame["label"]]
    numbered = annotate and ax is None and max(text_width(n, FOOTNOTE_SIZE) for n in names) > KEY_ABOVE * fig_w
    key = (
        wrap_key(
            "Studies: " + "   ".join(f"{i} {n}" for i, n in enumerate(names, start=1)), 0.96 * fig_w, FOOTNOTE_SIZE
        )
        if numbered
        else ""
    )
    key_lines = key.count("\n") + 2 if key else 0  # one line spare for the points too crowded to number
    key_h = key_lines * FOOTNOTE_SIZE * KEY_LINE / 72.0 + 0.08 if key else 0.0
    height = fig_w * 0.85 + key_h
    before = text_snapshot(root_figure(ax)) if ax is not None else None
    with style_context():
        fig, ax = figure_and_axes(ax, (fig_w, height))
        ax.plot(frame["x"], frame["y"], ls="none", marker="o", ms=4.5, color=INK, gid="baujat-points")
        ax.set_xlabel("Contribution to overall heterogeneity" if is_common else "Squared Pearson residual")
        ax.set_ylabel("Influence on overall result")
        ax.margins(x=0.08, y=0.08)
        ax.set_xlim(left=min(0.0, ax.get_xlim()[0]))
        ax.set_ylim(bottom=min(0.0, ax.get_ylim()[0]))
        ax.tick_params(labelsize=SMALL_SIZE)
        if key:  # reserve the key's room before the labels are placed (the axes must not move afterwards)
            constrained_layout(fig).set(rect=(0, key_h / height, 1, 1 - key_h / height))
        if annotate:
            _extend_for_labels(ax, frame)
            shown = [str(i) for i in range(1, len(names) + 1)] if numbered else names
            drawn = place_labels(
                ax, frame["x"], frame["y"], shown, FOOTNOTE_SIZE, gid="baujat-label", skip_crowded=numbered
            )
            left_out = [t for t in shown if t not in {a.get_text() for a in drawn}]
            if left_out:  # the key says which points were too crowded to number
                key = wrap_key(
                    key.replace("\n", "   ") + "   Not numbered on the plot (too crowded): " + ", ".join(left_out),
                    0.96 * fig_w,
                    FOOTNOTE_SIZE,
                )
                extra = key.count("\n") + 1 - key_lines
                if extra > 0:  # grow the figure at the bottom by the extra lines; the axes keep their size
                    grow = extra * FOOTNOTE_SIZE * KEY_LINE / 72.0
                    key_h, height = key_h + grow, height + grow
                    fig.set_size_inches(fig_w, height)
                    constrained_layout(fig).set(rect=(0, key_h / height, 1, 1 - key_h / height))
        if key:
            fig.text(0.5, 0.02 / height, key, ha="center", va="bottom", fontsize=FOOTNOTE_SIZE, gid="baujat-key")
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
