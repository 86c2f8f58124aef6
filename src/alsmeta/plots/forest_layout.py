"""The forest-plot engine: a table of rows beside an effect-size panel.

Every forest-type figure (the forest plot with or without subgroups, the
leave-one-out and the cumulative forest) is described as a
:class:`ForestLayout` - a sequence of :class:`ForestRow` plus headers and
axis settings - and drawn by :func:`draw_forest`. The figure is laid out in
inches: each row has a fixed height, so the figure grows with the number of
studies and a long list stays readable; column widths are measured from the
text, so nothing overlaps or is clipped.

Artists carry ``gid`` values (``study:<label>``, ``diamond:<role>``,
``prediction:<role>``, ``clip:<label>:low``, ``reference-line``) so that
tests and users can find them; the panel axes is labelled ``forest-panel``
and the table axes ``forest-table``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Polygon, Rectangle

from alsmeta.plots import _axis
from alsmeta.plots._labels import literal_text
from alsmeta.plots.style import FONT_SIZE, GREY, INK, SMALL_SIZE, TITLE_SIZE, colour, style_context, text_width
from alsmeta.validation import AlsmetaInputError

RowKind = Literal["study", "point", "summary", "prediction", "heading", "note", "blank"]

MARGIN = 0.12
COL_GAP = 0.2
PANEL_GAP = 0.22
TICK_AREA = 0.30
FAVOURS_AREA = 0.20
XLABEL_AREA = 0.22
FOOTER_STEP = 0.18
MIN_SQUARE = 3.0
"""Smallest study square (points). Squares have area proportional to weight
(RevMan convention); the heaviest study gets a side of 72% of the row height."""

_FONTS: dict[str, tuple[float, str, str]] = {
    "study": (FONT_SIZE, "normal", "normal"),
    "point": (FONT_SIZE, "normal", "normal"),
    "summary": (FONT_SIZE, "bold", "normal"),
    "prediction": (FONT_SIZE, "normal", "normal"),
    "heading": (FONT_SIZE, "bold", "normal"),
    "note": (SMALL_SIZE, "normal", "italic"),
    "blank": (FONT_SIZE, "normal", "normal"),
}


@dataclass(frozen=True)
class ForestRow:
    """One row of a forest plot.

    Attributes
    ----------
    kind
        ``"study"`` (weight-scaled square and CI), ``"point"`` (fixed-size
        marker and CI, for leave-one-out and cumulative results),
        ``"summary"`` (diamond from ``ci_low`` to ``ci_high``),
        ``"prediction"`` (bar from ``ci_low`` to ``ci_high``),
        ``"heading"`` (bold label), ``"note"`` (small italic text spanning
        the columns left of the panel) or ``"blank"``.
    label
        Text of the first column.
    estimate, ci_low, ci_high
        Position on the effect axis (data units; logs for ratio measures).
    weight
        Percentage weight; the area of a study square is proportional to it.
    left, right
        Texts of the extra columns left of the panel and right of it.
    role
        Colour role of summaries and prediction bars (see
        :data:`alsmeta.plots.style.ROLE_COLOURS`).
    """

    kind: RowKind
    label: str = ""
    estimate: float = math.nan
    ci_low: float = math.nan
    ci_high: float = math.nan
    weight: float = math.nan
    left: tuple[str, ...] = ()
    right: tuple[str, ...] = ()
    role: str = "study"


@dataclass(frozen=True)
class ForestLayout:
    """Everything :func:`draw_forest` needs to draw one forest-type figure."""

    rows: tuple[ForestRow, ...]
    label_header: str = "Study"
    left_headers: tuple[str, ...] = ()
    right_headers: tuple[str, ...] = ()
    xlabel: str = ""
    log_scale: bool = False
    reference: float | None = 0.0
    favours: tuple[str, str] | None = None
    footer: tuple[str, ...] = ()
    xlim: tuple[float, float] | None = None
    title: str | None = None
    panel_width: float = 2.8
    row_height: float = 0.2
    marker_lines: tuple[tuple[float, str], ...] = ()


def _check(layout: ForestLayout) -> None:
    if layout.row_height < 0.12:
        raise AlsmetaInputError(f"row_height: {layout.row_height} in is too small for readable text (minimum 0.12)")
    if layout.panel_width < 1.0:
        raise AlsmetaInputError(f"panel_width: {layout.panel_width} in is too small (minimum 1.0)")
    if layout.xlim is not None:
        lo, hi = layout.xlim
        if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
            raise AlsmetaInputError(f"xlim: expected two finite numbers with low < high, got {layout.xlim!r}")
    for row in layout.rows:
        if row.left and len(row.left) != len(layout.left_headers):
            raise AlsmetaInputError(f"row {row.label!r}: {len(row.left)} left cells for {len(layout.left_headers)} columns")
        if row.right and len(row.right) != len(layout.right_headers):
            raise AlsmetaInputError(f"row {row.label!r}: {len(row.right)} right cells for {len(layout.right_headers)} columns")


def _column_widths(layout: ForestLayout) -> tuple[float, list[float], list[float]]:
    label_w = text_width(layout.label_header, FONT_SIZE, "bold")
    left_w = [text_width(h, FONT_SIZE, "bold") for h in layout.left_headers]
    right_w = [text_width(h, FONT_SIZE, "bold") for h in layout.right_headers]
    note_w = 0.0
    for row in layout.rows:
        size, weight, style = _FONTS[row.kind]
        if row.kind == "note":
            note_w = max(note_w, text_width(row.label, size, weight, style))
            continue
        label_w = max(label_w, text_width(row.label, size, weight, style))
        for j, text in enumerate(row.left):
            left_w[j] = max(left_w[j], text_width(text, size, weight, style))
        for j, text in enumerate(row.right):
            right_w[j] = max(right_w[j], text_width(text, size, weight, style))
    left_region = label_w + sum(w + COL_GAP for w in left_w)
    if note_w > left_region:
        label_w += note_w - left_region
    return label_w, left_w, right_w


def _effect_values(layout: ForestLayout) -> list[float]:
    values: list[float] = []
    for row in layout.rows:
        if row.kind in ("study", "point", "summary", "prediction"):
            values += [row.ci_low, row.ci_high, row.estimate]
    if not any(math.isfinite(v) for v in values):  # nothing to show: a default frame around the null
        values = [math.log(0.5), math.log(2.0)] if layout.log_scale else [-1.0, 1.0]
    if layout.reference is not None:
        values.append(layout.reference)
    return values


def draw_forest(layout: ForestLayout) -> Figure:
    """Draw a forest-type figure from a :class:`ForestLayout` and return it."""
    _check(layout)
    with style_context():
        return literal_text(_draw(layout))


def _draw(layout: ForestLayout) -> Figure:
    rh = layout.row_height
    label_w, left_w, right_w = _column_widths(layout)
    # --- horizontal positions (inches) ---------------------------------------
    x_label = MARGIN
    x = x_label + label_w
    left_x = []
    for w in left_w:
        x += COL_GAP
        left_x.append(x + w / 2.0)  # extra columns are centred
        x += w
    panel_x0 = x + PANEL_GAP
    panel_x1 = panel_x0 + layout.panel_width
    x = panel_x1 + PANEL_GAP - COL_GAP
    right_x = []
    for w in right_w:
        x += COL_GAP + w
        right_x.append(x)  # right columns are right-aligned
    width = x + MARGIN
    footer_w = max((text_width(t, SMALL_SIZE) for t in layout.footer), default=0.0)
    title_w = text_width(layout.title or "", TITLE_SIZE, "bold")
    width = max(width, MARGIN + footer_w + MARGIN, MARGIN + title_w + MARGIN)
    # --- vertical positions (row units from the top) -------------------------
    n = len(layout.rows)
    y = MARGIN / rh
    title_y = None
    if layout.title:
        title_y = y + 0.5
        y += 1.4
    header_lines = max(h.count("\n") + 1 for h in (layout.label_header, *layout.left_headers, *layout.right_headers))
    rule_y = y + header_lines + 0.05
    first = rule_y + 0.55
    panel_top, panel_bottom = first - 0.5, first + n - 0.5
    axis_h = TICK_AREA + (FAVOURS_AREA if layout.favours else 0.0) + (XLABEL_AREA if layout.xlabel else 0.0)
    footer_y0 = panel_bottom + (axis_h + 0.1) / rh
    footer_ys = [footer_y0 + (j + 0.5) * FOOTER_STEP / rh for j in range(len(layout.footer))]
    height_rows = (footer_ys[-1] + 0.5 * FOOTER_STEP / rh if footer_ys else footer_y0) + MARGIN / rh
    height = height_rows * rh

    fig = Figure(figsize=(width, height))
    table = fig.add_axes((0.0, 0.0, 1.0, 1.0), label="forest-table")
    table.set_xlim(0.0, width)
    table.set_ylim(height_rows, 0.0)
    table.set_axis_off()
    panel = fig.add_axes(
        (panel_x0 / width, 1.0 - panel_bottom * rh / height, layout.panel_width / width, n * rh / height),
        label="forest-panel",
    )
    panel.set_facecolor("none")
    panel.set_ylim(panel_bottom, panel_top)
    panel.set_yticks([])
    for side in ("left", "right", "top"):
        panel.spines[side].set_visible(False)
    lo, hi = _axis.set_effect_axis(panel, _effect_values(layout), layout.log_scale, layout.xlim)

    if title_y is not None:
        table.text(x_label, title_y, layout.title, fontsize=TITLE_SIZE, fontweight="bold", va="center", gid="title")
    _headers(table, layout, x_label, left_x, right_x, rule_y - 0.15)
    table.plot([x_label, width - MARGIN], [rule_y, rule_y], color=INK, lw=0.6, gid="header-rule")
    w_max = max((r.weight for r in layout.rows if r.kind == "study" and math.isfinite(r.weight)), default=0.0)
    for i, row in enumerate(layout.rows):
        yy = first + i
        _row_text(table, row, x_label, left_x, right_x, yy)
        _row_graphics(panel, row, yy, lo, hi, rh, w_max)
    if layout.reference is not None and lo <= layout.reference <= hi:
        panel.axvline(layout.reference, color=GREY, lw=0.8, zorder=1, gid="reference-line")
    for value, role in layout.marker_lines:
        if math.isfinite(value):
            panel.axvline(value, color=colour(role), lw=0.8, ls=(0, (2, 2)), zorder=1, gid=f"marker-line:{role}")
    _axis_labels(panel, layout)
    for text, yy in zip(layout.footer, footer_ys):
        table.text(x_label, yy, text, fontsize=SMALL_SIZE, va="center", ha="left", gid="footer")
    return fig


def _headers(table: Axes, layout: ForestLayout, x_label: float, left_x: list[float], right_x: list[float], y: float) -> None:
    kw = {"fontweight": "bold", "va": "bottom", "gid": "header", "linespacing": 1.1}
    table.text(x_label, y, layout.label_header, ha="left", ma="left", **kw)
    for xx, text in zip(left_x, layout.left_headers):
        table.text(xx, y, text, ha="center", ma="center", **kw)
    for xx, text in zip(right_x, layout.right_headers):
        table.text(xx, y, text, ha="right", ma="right", **kw)


def _row_text(table: Axes, row: ForestRow, x_label: float, left_x: list[float], right_x: list[float], y: float) -> None:
    if row.kind == "blank":
        return
    size, weight, style = _FONTS[row.kind]
    kw = {"fontsize": size, "fontweight": weight, "fontstyle": style, "va": "center"}
    table.text(x_label, y, row.label, ha="left", gid=f"label:{row.kind}", **kw)
    for xx, text in zip(left_x, row.left):
        table.text(xx, y, text, ha="center", gid=f"cell:{row.kind}", **kw)
    for xx, text in zip(right_x, row.right):
        table.text(xx, y, text, ha="right", gid=f"cell:{row.kind}", **kw)


def _whisker(panel: Axes, row: ForestRow, y: float, lo: float, hi: float) -> None:
    """CI line clipped to the panel, with an arrow head where it is cut."""
    a, b = max(row.ci_low, lo), min(row.ci_high, hi)
    if a < b:
        panel.plot([a, b], [y, y], color=INK, lw=0.9, solid_capstyle="butt", zorder=2, gid=f"ci:{row.label}")
    _clip_arrows(panel, row, y, lo, hi)


def _clip_arrows(panel: Axes, row: ForestRow, y: float, lo: float, hi: float) -> None:
    """Arrow heads at the panel edges where an interval (CI, diamond, PI) is cut by the axis limits."""
    for side, cut, at, marker in (("low", row.ci_low < lo, lo, "<"), ("high", row.ci_high > hi, hi, ">")):
        if cut and row.ci_high >= lo and row.ci_low <= hi:
            panel.plot([at], [y], marker=marker, ms=4.5, color=INK, clip_on=False, zorder=4, gid=f"clip:{row.label}:{side}")


def _row_graphics(panel: Axes, row: ForestRow, y: float, lo: float, hi: float, rh: float, w_max: float) -> None:
    if row.kind not in ("study", "point", "summary", "prediction") or not math.isfinite(row.estimate if row.kind != "prediction" else row.ci_low):
        return
    if row.kind in ("study", "point"):
        _whisker(panel, row, y, lo, hi)
        max_side = 0.72 * rh * 72.0
        if row.kind == "study" and math.isfinite(row.weight) and w_max > 0:
            side = max(MIN_SQUARE, max_side * math.sqrt(max(row.weight, 0.0) / w_max))
            marker = "s"
        else:
            side, marker = 4.5, "o"
        panel.plot(
            [row.estimate], [y], marker=marker, ms=side, color=INK, mew=0, ls="none",
            zorder=3, gid=f"{row.kind}:{row.label}",
        )
    elif row.kind == "summary":
        h = 0.36
        xy = np.array([[row.ci_low, y], [row.estimate, y - h], [row.ci_high, y], [row.estimate, y + h]])
        panel.add_patch(
            Polygon(xy, closed=True, facecolor=colour(row.role), edgecolor=INK, lw=0.7, zorder=3, gid=f"diamond:{row.role}")
        )
        _clip_arrows(panel, row, y, lo, hi)
    else:  # prediction interval bar
        h = 0.22
        panel.add_patch(
            Rectangle(
                (row.ci_low, y - h / 2), row.ci_high - row.ci_low, h, facecolor=colour("prediction"),
                edgecolor=INK, lw=0.5, zorder=3, gid=f"prediction:{row.role}",
            )
        )
        _clip_arrows(panel, row, y, lo, hi)


def _axis_labels(panel: Axes, layout: ForestLayout) -> None:
    panel.tick_params(axis="x", labelsize=SMALL_SIZE, colors=INK, length=3.0, width=0.8)
    pad = 4.0
    if layout.favours:
        ref = layout.reference if layout.reference is not None else float(np.mean(panel.get_xlim()))
        trans = panel.get_xaxis_transform()
        left, right = layout.favours
        kw = {"xycoords": trans, "textcoords": "offset points", "fontsize": SMALL_SIZE, "va": "top"}
        panel.annotate(left, xy=(ref, 0.0), xytext=(-5, -20), ha="right", gid="favours:left", **kw)
        panel.annotate(right, xy=(ref, 0.0), xytext=(5, -20), ha="left", gid="favours:right", **kw)
        pad += FAVOURS_AREA * 72.0
    if layout.xlabel:
        panel.set_xlabel(layout.xlabel, fontsize=FONT_SIZE, labelpad=pad)
