"""The forest-plot engine: a table of rows beside an effect-size panel.

Every forest-type figure (the forest plot with or without subgroups, the
leave-one-out and the cumulative forest) is described as a
:class:`ForestLayout` - a sequence of :class:`ForestRow` plus headers and
axis settings - and drawn by :func:`draw_forest`. The figure is laid out in
inches: each row has a fixed height, so the figure grows with the number of
studies and a long list stays readable; column widths are measured from the
text, so nothing overlaps or is clipped.

Figures are sized for print: at most :data:`PRINT_WIDTH` (183 mm) wide by
default and widened to exactly one column width (:data:`PRINT_WIDTHS`, 89 or
183 mm) with the plot panel taking the room, text at least :data:`MIN_FONT`
(7 pt); long footnotes and titles wrap, and a table that would be too wide
narrows the plot panel.

Artists carry ``gid`` values (``study:<label>``, ``diamond:<role>``,
``prediction:<role>``, ``clip:<label>:low``, ``reference-line``,
``header-group``, ``title``, ``footer``) so that
tests and users can find them; the panel axes is labelled ``forest-panel``
and the table axes ``forest-table``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, Literal

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
PRINT_WIDTH = 183.0 / 25.4
"""Widest figure a journal prints (double column, 183 mm), in inches."""
PRINT_WIDTHS = (89.0 / 25.4, PRINT_WIDTH)
"""Column widths a journal prints (single 89 mm, double 183 mm), in inches."""
MIN_FONT = 7.0
"""Smallest text size (points) allowed at print size (GUIDE figure standard)."""
MIN_SQUARE = 3.0
"""Smallest study square (points). Squares have area proportional to weight
(RevMan convention); the heaviest study gets a side of 72% of the row height."""

_FONTS: dict[str, tuple[str, str, str]] = {
    # kind: (size role, weight, style); the sizes come from the layout
    "study": ("body", "normal", "normal"),
    "point": ("body", "normal", "normal"),
    "summary": ("body", "bold", "normal"),
    "prediction": ("body", "normal", "normal"),
    "heading": ("body", "bold", "normal"),
    "note": ("small", "normal", "italic"),
    "blank": ("body", "normal", "normal"),
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
    """Everything :func:`draw_forest` needs to draw one forest-type figure.

    ``font_size`` and ``small_size`` are the body and footnote text sizes in
    points (at least :data:`MIN_FONT`); ``col_gap`` is the gap between
    columns in inches. ``max_width`` (default :data:`PRINT_WIDTH`, 183 mm)
    caps the figure width: footer lines and the title are wrapped to fit, and
    the plot panel is narrowed (to no less than 1.2 in) when the table is too
    wide; ``None`` lets the figure grow with its longest line.
    ``print_widths`` (with ``max_width`` set): the figure is widened to the
    narrowest of these column widths (default 89 and 183 mm) that holds it,
    the plot panel taking the extra room, so it prints at exactly one
    column width; ``()`` keeps the natural width.
    ``header_groups`` are ``(text, first, last)`` spanning headers above the
    left columns ``first..last`` (0-based), as RevMan's "Experimental" and
    "Control" over their mean/SD/total columns.
    """

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
    font_size: float = FONT_SIZE
    small_size: float = SMALL_SIZE
    col_gap: float = COL_GAP
    max_width: float | None = PRINT_WIDTH
    header_groups: tuple[tuple[str, int, int], ...] = ()
    print_widths: tuple[float, ...] = PRINT_WIDTHS


def _check(layout: ForestLayout) -> None:
    for name in ("font_size", "small_size"):
        if getattr(layout, name) < MIN_FONT:
            raise AlsmetaInputError(f"{name}: {getattr(layout, name)} pt is below the {MIN_FONT:g} pt print minimum")
    if layout.col_gap < 0:
        raise AlsmetaInputError(f"col_gap: must be >= 0, got {layout.col_gap}")
    for text, first, last in layout.header_groups:
        if not 0 <= first <= last < len(layout.left_headers):
            raise AlsmetaInputError(
                f"header_groups: {text!r} spans columns {first}..{last}, "
                f"but there are {len(layout.left_headers)} left columns"
            )
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
            raise AlsmetaInputError(
                f"row {row.label!r}: {len(row.left)} left cells for {len(layout.left_headers)} columns"
            )
        if row.right and len(row.right) != len(layout.right_headers):
            raise AlsmetaInputError(
                f"row {row.label!r}: {len(row.right)} right cells for {len(layout.right_headers)} columns"
            )


def _font(layout: ForestLayout, kind: str) -> tuple[float, str, str]:
    """Size (points), weight and style of the text of a row kind."""
    role, weight, style = _FONTS[kind]
    return (layout.font_size if role == "body" else layout.small_size), weight, style


def _column_widths(layout: ForestLayout) -> tuple[float, list[float], list[float]]:
    fs, gap = layout.font_size, layout.col_gap
    label_w = text_width(layout.label_header, fs, "bold")
    left_w = [text_width(h, fs, "bold") for h in layout.left_headers]
    right_w = [text_width(h, fs, "bold") for h in layout.right_headers]
    note_w = 0.0
    for row in layout.rows:
        size, weight, style = _font(layout, row.kind)
        if row.kind in ("note", "heading"):  # no cells: the text spans the columns left of the panel
            note_w = max(note_w, text_width(row.label, size, weight, style))
            continue
        label_w = max(label_w, text_width(row.label, size, weight, style))
        for j, text in enumerate(row.left):
            left_w[j] = max(left_w[j], text_width(text, size, weight, style))
        for j, text in enumerate(row.right):
            right_w[j] = max(right_w[j], text_width(text, size, weight, style))
    for text, first, last in layout.header_groups:  # a spanning header wider than its columns widens them
        span = sum(left_w[first : last + 1]) + gap * (last - first)
        need = text_width(text, fs, "bold")
        if need > span:
            extra = (need - span) / (last - first + 1)
            for j in range(first, last + 1):
                left_w[j] += extra
    left_region = label_w + sum(w + gap for w in left_w)
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
    """Draw a forest-type figure from a :class:`ForestLayout` and return it.

    A table too wide for ``max_width`` (with a plot panel of at least 1.2 in)
    is first set in smaller text, in steps of 0.5 pt down to :data:`MIN_FONT`.
    """
    _check(layout)
    with style_context():
        return literal_text(_draw(fit_to_width(layout)))


def _table_width(layout: ForestLayout) -> float:
    label_w, left_w, right_w = _column_widths(layout)
    gap = layout.col_gap
    return (
        MARGIN + label_w + sum(w + gap for w in left_w) + 2 * PANEL_GAP - gap + sum(gap + w for w in right_w) + MARGIN
    )


def fit_to_width(layout: ForestLayout) -> ForestLayout:
    """The layout with its text made smaller (never below 7 pt) until the table and a 1.2 in panel fit ``max_width``.

    If 7 pt text is still too wide, the row labels wrap onto more lines
    (:func:`_wrap_labels`) rather than the figure growing past the column.
    """
    if layout.max_width is None:
        return layout
    current = layout
    while _table_width(current) + 1.2 > layout.max_width and current.font_size - 0.5 >= MIN_FONT:
        scale = (current.font_size - 0.5) / current.font_size
        current = replace(
            current,
            font_size=current.font_size - 0.5,
            small_size=max(MIN_FONT, min(current.small_size, current.font_size - 1.5)),
            col_gap=current.col_gap * scale,
        )
    return _wrap_labels(current)


def _wrap_labels(layout: ForestLayout) -> ForestLayout:
    """At 7 pt and still too wide: wrap the row labels at spaces into the room left, rows growing to hold the lines.

    Study labels are never shortened (a label identifies the study); a
    single word wider than the room stays whole.
    """
    if layout.max_width is None:
        return layout
    excess = _table_width(layout) + 1.0 - layout.max_width  # the narrowest panel _draw accepts
    label_w = _column_widths(layout)[0]
    if excess <= 0 or label_w - excess < 0.8:
        return layout
    room = label_w - excess
    rows, lines = [], 1
    for row in layout.rows:
        if row.kind in ("note", "heading", "blank") or "\n" in row.label:
            rows.append(row)
            continue
        size, weight, _ = _font(layout, row.kind)
        wrapped = wrap_text(row.label, room, size, weight)
        lines = max(lines, len(wrapped))
        rows.append(replace(row, label="\n".join(wrapped)))
    row_height = max(layout.row_height, lines * layout.font_size * 1.2 / 72.0 + 0.03)
    return replace(layout, rows=tuple(rows), row_height=row_height)


def wrap_text(text: str, width: float, size: float, weight: str = "normal") -> list[str]:
    """Split ``text`` at spaces into lines no wider than ``width`` inches (a longer single word stays whole)."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split(" "):
            candidate = f"{line} {word}" if line else word
            if line and text_width(candidate, size, weight) > width:
                lines.append(line)
                line = word
            else:
                line = candidate
        lines.append(line)
    return lines


def _wrap_lines(lines: tuple[str, ...], room: float, size: float) -> list[str]:
    """Footer lines wrapped to ``room`` inches; a line that fits is kept as given (with its indentation)."""
    return [
        part for line in lines for part in (wrap_text(line, room, size) if text_width(line, size) > room else [line])
    ]


def _print_width(layout: ForestLayout, width: float) -> float:
    """The narrowest of ``layout.print_widths`` (within ``max_width``) that holds ``width``; ``width`` if none does."""
    if layout.max_width is None:
        return width
    fits = [w for w in layout.print_widths if width <= w + 1e-9 and w <= layout.max_width + 1e-9]
    return min(fits, default=width)


def _figure_width(layout: ForestLayout, table_w: float, title_size: float) -> tuple[float, float, list[str], list[str]]:
    """Figure width, panel width, and the footer and title lines wrapped to that width.

    The figure is as wide as the table, or the longest footer/title line up
    to ``max_width`` (then they wrap), snapped up to a print width (the panel
    takes the room).
    """
    panel_width = layout.panel_width
    if layout.max_width is not None and table_w + panel_width > layout.max_width:
        panel_width = max(1.0, layout.max_width - table_w)
    # --- figure width: the table, or the longest footer/title line up to max_width (then they wrap) ---
    footer = list(layout.footer)
    title = [layout.title] if layout.title else []
    natural = table_w + panel_width
    footer_w = max((text_width(t, layout.small_size) for t in footer), default=0.0)
    title_w = text_width(layout.title or "", title_size, "bold")
    wanted = max(natural, MARGIN + footer_w + MARGIN, MARGIN + title_w + MARGIN)
    if layout.max_width is not None and wanted > max(natural, layout.max_width):
        width = max(natural, layout.max_width)
        room = 0.97 * (width - 2 * MARGIN)  # a little slack: glyph widths differ slightly between 72 and 300 dpi
        footer = _wrap_lines(layout.footer, room, layout.small_size)
        title = wrap_text(layout.title, room, title_size, "bold") if layout.title else []
    else:
        width = wanted
    snapped = _print_width(layout, width)
    if snapped > width:  # the figure prints at one column width; the footer and title wrap to it
        width = snapped
        room = 0.97 * (width - 2 * MARGIN)
        footer = _wrap_lines(layout.footer, room, layout.small_size)
        title = wrap_text(layout.title, room, title_size, "bold") if layout.title else []
        panel_width = width - table_w
    elif (
        layout.max_width is not None and width > natural
    ):  # the panel takes up the room the footer made (within reason)
        panel_width = min(width - table_w, max(layout.panel_width, 3.2))
    return width, panel_width, footer, title


def _draw(layout: ForestLayout) -> Figure:
    rh = layout.row_height
    gap = layout.col_gap
    title_size = layout.font_size + (TITLE_SIZE - FONT_SIZE)
    label_w, left_w, right_w = _column_widths(layout)
    table_w = (
        MARGIN + label_w + sum(w + gap for w in left_w) + 2 * PANEL_GAP - gap + sum(gap + w for w in right_w) + MARGIN
    )
    width, panel_width, footer, title = _figure_width(layout, table_w, title_size)
    # --- horizontal positions (inches) ---------------------------------------
    x_label = MARGIN
    x = x_label + label_w
    left_x = []
    for w in left_w:
        x += gap
        left_x.append(x + w / 2.0)  # extra columns are centred
        x += w
    panel_x0 = x + PANEL_GAP
    panel_x1 = panel_x0 + panel_width
    x = panel_x1 + PANEL_GAP - gap
    right_x = []
    for w in right_w:
        x += gap + w
        right_x.append(x)  # right columns are right-aligned
    table_right = x
    left_groups = [
        (text, left_x[first] - left_w[first] / 2.0, left_x[last] + left_w[last] / 2.0)
        for text, first, last in layout.header_groups
    ]
    # --- vertical positions (row units from the top) -------------------------
    n = len(layout.rows)
    y = MARGIN / rh
    title_ys = []
    for j in range(len(title)):
        title_ys.append(y + 0.5 + j * 1.1 * title_size / 72.0 / rh)
    if title:
        y += 1.4 + (len(title) - 1) * 1.1 * title_size / 72.0 / rh
    group_y = y + 0.85  # used only with left_groups
    if left_groups:
        y += 1.1
    header_lines = max(h.count("\n") + 1 for h in (layout.label_header, *layout.left_headers, *layout.right_headers))
    rule_y = y + header_lines + 0.05
    first = rule_y + 0.55
    panel_top, panel_bottom = first - 0.5, first + n - 0.5
    axis_h = TICK_AREA + (FAVOURS_AREA if layout.favours else 0.0) + (XLABEL_AREA if layout.xlabel else 0.0)
    footer_y0 = panel_bottom + (axis_h + 0.1) / rh
    step = FOOTER_STEP * layout.small_size / SMALL_SIZE
    footer_ys = [footer_y0 + (j + 0.5) * step / rh for j in range(len(footer))]
    height_rows = (footer_ys[-1] + 0.5 * step / rh if footer_ys else footer_y0) + MARGIN / rh
    height = height_rows * rh

    fig = Figure(figsize=(width, height))
    table = fig.add_axes((0.0, 0.0, 1.0, 1.0), label="forest-table")
    table.set_xlim(0.0, width)
    table.set_ylim(height_rows, 0.0)
    table.set_axis_off()
    panel = fig.add_axes(
        (panel_x0 / width, 1.0 - panel_bottom * rh / height, panel_width / width, n * rh / height),
        label="forest-panel",
    )
    panel.set_facecolor("none")
    panel.set_ylim(panel_bottom, panel_top)
    panel.set_yticks([])
    for side in ("left", "right", "top"):
        panel.spines[side].set_visible(False)
    lo, hi = _axis.set_effect_axis(panel, _effect_values(layout), layout.log_scale, layout.xlim)
    _thin_ticks(panel, lo, hi, panel_width, layout.small_size, layout.reference)

    for text, yy in zip(title, title_ys, strict=True):
        table.text(x_label, yy, text, fontsize=title_size, fontweight="bold", va="center", gid="title")
    for text, x0, x1 in left_groups:
        table.text(
            (x0 + x1) / 2.0,
            group_y,
            text,
            fontsize=layout.font_size,
            fontweight="bold",
            ha="center",
            va="bottom",
            gid="header-group",
        )
        table.plot([x0, x1], [group_y + 0.1, group_y + 0.1], color=INK, lw=0.5, gid="header-group-rule")
    _headers(table, layout, x_label, left_x, right_x, rule_y - 0.15)
    table.plot([x_label, table_right], [rule_y, rule_y], color=INK, lw=0.6, gid="header-rule")
    w_max = max((r.weight for r in layout.rows if r.kind == "study" and math.isfinite(r.weight)), default=0.0)
    for i, row in enumerate(layout.rows):
        yy = first + i
        _row_text(table, row, x_label, left_x, right_x, yy, _font(layout, row.kind))
        _row_graphics(panel, row, yy, lo, hi, rh, w_max)
    if layout.reference is not None and lo <= layout.reference <= hi:
        panel.axvline(layout.reference, color=GREY, lw=0.8, zorder=1, gid="reference-line")
    for value, role in layout.marker_lines:
        if math.isfinite(value):
            panel.axvline(value, color=colour(role), lw=0.8, ls=(0, (2, 2)), zorder=1, gid=f"marker-line:{role}")
    _axis_labels(panel, layout)
    for text, yy in zip(footer, footer_ys, strict=True):
        table.text(x_label, yy, text, fontsize=layout.small_size, va="center", ha="left", gid="footer")
    return fig


def _ticks_crowd(ticks: list[float], labels: list[str], lo: float, hi: float, panel_width: float, size: float) -> bool:
    pos = [(t - lo) / (hi - lo) * panel_width for t in ticks]
    widths = [text_width(lab, size) for lab in labels]
    return any(pos[i + 1] - pos[i] < (widths[i] + widths[i + 1]) / 2.0 + 0.06 for i in range(len(pos) - 1))


def _thin_ticks(panel: Axes, lo: float, hi: float, panel_width: float, size: float, reference: float | None) -> None:
    """Drop every other tick (keeping the line of no effect) while tick labels would overlap on a narrow panel."""
    ticks = [float(t) for t in panel.get_xticks()]
    labels = [t.get_text() for t in panel.get_xticklabels()]
    if hi <= lo or len(ticks) < 3 or len(labels) != len(ticks):
        return
    while len(ticks) > 2 and _ticks_crowd(ticks, labels, lo, hi, panel_width, size):
        anchor = min(
            range(len(ticks)), key=lambda i: abs(ticks[i] - (reference if reference is not None else ticks[0]))
        )
        keep = [i for i in range(len(ticks)) if (i - anchor) % 2 == 0]
        ticks, labels = [ticks[i] for i in keep], [labels[i] for i in keep]
    panel.set_xticks(ticks)
    panel.set_xticklabels(labels)


def _headers(
    table: Axes, layout: ForestLayout, x_label: float, left_x: list[float], right_x: list[float], y: float
) -> None:
    kw: dict[str, Any] = {
        "fontsize": layout.font_size,
        "fontweight": "bold",
        "va": "bottom",
        "gid": "header",
        "linespacing": 1.1,
    }
    table.text(x_label, y, layout.label_header, ha="left", ma="left", **kw)
    for xx, text in zip(left_x, layout.left_headers, strict=True):
        table.text(xx, y, text, ha="center", ma="center", **kw)
    for xx, text in zip(right_x, layout.right_headers, strict=True):
        table.text(xx, y, text, ha="right", ma="right", **kw)


def _row_text(
    table: Axes,
    row: ForestRow,
    x_label: float,
    left_x: list[float],
    right_x: list[float],
    y: float,
    font: tuple[float, str, str],
) -> None:
    if row.kind == "blank":
        return
    size, weight, style = font
    kw: dict[str, Any] = {"fontsize": size, "fontweight": weight, "fontstyle": style, "va": "center"}
    table.text(x_label, y, row.label, ha="left", gid=f"label:{row.kind}", **kw)
    for xx, text in zip(left_x, row.left, strict=False):
        table.text(xx, y, text, ha="center", gid=f"cell:{row.kind}", **kw)
    for xx, text in zip(right_x, row.right, strict=False):
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
            panel.plot(
                [at], [y], marker=marker, ms=4.5, color=INK, clip_on=False, zorder=4, gid=f"clip:{row.label}:{side}"
            )


def _row_graphics(panel: Axes, row: ForestRow, y: float, lo: float, hi: float, rh: float, w_max: float) -> None:
    if row.kind not in ("study", "point", "summary", "prediction") or not math.isfinite(
        row.estimate if row.kind != "prediction" else row.ci_low
    ):
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
            [row.estimate],
            [y],
            marker=marker,
            ms=side,
            color=INK,
            mew=0,
            ls="none",
            zorder=3,
            gid=f"{row.kind}:{row.label}",
        )
    elif row.kind == "summary":
        h = 0.36
        xy = np.array([[row.ci_low, y], [row.estimate, y - h], [row.ci_high, y], [row.estimate, y + h]])
        panel.add_patch(
            Polygon(
                xy, closed=True, facecolor=colour(row.role), edgecolor=INK, lw=0.7, zorder=3, gid=f"diamond:{row.role}"
            )
        )
        _clip_arrows(panel, row, y, lo, hi)
    else:  # prediction interval bar
        h = 0.22
        panel.add_patch(
            Rectangle(
                (row.ci_low, y - h / 2),
                row.ci_high - row.ci_low,
                h,
                facecolor=colour("prediction"),
                edgecolor=INK,
                lw=0.5,
                zorder=3,
                gid=f"prediction:{row.role}",
            )
        )
        _clip_arrows(panel, row, y, lo, hi)


def _axis_labels(panel: Axes, layout: ForestLayout) -> None:
    panel.tick_params(axis="x", labelsize=layout.small_size, colors=INK, length=3.0, width=0.8)
    pad = 4.0
    if layout.favours:
        ref = layout.reference if layout.reference is not None else float(np.mean(panel.get_xlim()))
        trans = panel.get_xaxis_transform()
        left, right = layout.favours
        kw: dict[str, Any] = {
            "xycoords": trans,
            "textcoords": "offset points",
            "fontsize": layout.small_size,
            "va": "top",
        }
        panel.annotate(left, xy=(ref, 0.0), xytext=(-5, -20), ha="right", gid="favours:left", **kw)
        panel.annotate(right, xy=(ref, 0.0), xytext=(5, -20), ha="left", gid="favours:right", **kw)
        pad += FAVOURS_AREA * 72.0
    if layout.xlabel:
        panel.set_xlabel(layout.xlabel, fontsize=layout.font_size, labelpad=pad)
