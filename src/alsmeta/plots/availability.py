"""Study availability map: which number exists for which study, outcome and time point, and how sure it is.

Rows are candidate studies, columns outcome x time point; each cell shows the
provenance status of the data for that cell - ``verified`` (read in the
primary source), ``secondary`` (press release, registry mirror),
``derived`` (computed by us), ``inferred`` (reasoned, not stated),
``not_retrievable`` (searched for, not found) or ``none`` (nothing
retrieved: a candidate cell with no evidence in the table's source). Every status has a colour
(Okabe-Ito) *and* a symbol, and ``not_retrievable`` is hatched, so the map
reads in grey. A blank cell means the table has no row for that study and
column (the outcome was not a candidate for that study). The renderer draws
the statuses given; it decides nothing.
"""

from __future__ import annotations

import textwrap
from typing import Any

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.legend_handler import HandlerTuple
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.transforms import blended_transform_factory

from alsmeta.plots.forest_layout import MIN_FONT, wrap_text
from alsmeta.plots.style import (
    BLUE,
    GREY,
    INK,
    LIGHT_GREY,
    ORANGE,
    PURPLE,
    SKY_BLUE,
    SMALL_SIZE,
    style_context,
    text_width,
)
from alsmeta.validation import AlsmetaInputError

MM = 1.0 / 25.4
DOUBLE_COLUMN = 183.0 * MM
SINGLE_COLUMN = 89.0 * MM
MIN_CELL = 0.16
"""Narrowest column (inches) that still holds a symbol at 7 pt; wider tables must be split."""

STATUSES: dict[str, dict[str, Any]] = {
    "verified": {
        "label": "Verified (primary source)",
        "colour": BLUE,
        "symbol": r"$\checkmark$",
        "ink": "white",
        "hatch": "",
    },
    "secondary": {
        "label": "Secondary source only",
        "colour": SKY_BLUE,
        "symbol": r"$\mathrm{S}$",
        "ink": INK,
        "hatch": "",
    },
    "derived": {"label": "Derived by us", "colour": ORANGE, "symbol": r"$\mathrm{D}$", "ink": INK, "hatch": ""},
    "inferred": {
        "label": "Inferred (not stated)",
        "colour": PURPLE,
        "symbol": r"$\mathrm{I}$",
        "ink": INK,
        "hatch": "",
    },
    "not_retrievable": {
        "label": "Not retrievable",
        "colour": "white",
        "symbol": r"$\times$",
        "ink": INK,
        "hatch": "////",
    },
    "none": {"label": "Nothing retrieved", "colour": "white", "symbol": "_", "ink": GREY, "hatch": ""},
}
"""Colour, symbol and hatch of each status (a blank cell: no row for that study and column)."""

ALIASES = {"not_found": "not_retrievable"}
"""``data/`` spells a searched-for-but-missing number ``not_found``."""


def _tidy(
    table: Any,
    study: str,
    outcome: str,
    timepoint: str | None,
    status: str,
    group: str | None = None,
    text: str | None = None,
) -> pd.DataFrame:
    if not isinstance(table, pd.DataFrame):
        raise AlsmetaInputError(f"table: expected a pandas DataFrame, got {type(table).__name__}")
    wanted = [("study", study), ("outcome", outcome), ("status", status)]
    if timepoint is not None:
        wanted.insert(2, ("timepoint", timepoint))
    wanted += [(arg, col) for arg, col in (("group", group), ("text", text)) if col is not None]
    for arg, col in wanted:
        if col not in table.columns:
            raise AlsmetaInputError(
                f"{arg}: column {col!r} is not in the table (columns: {', '.join(map(str, table.columns))})"
            )
    if len(table) == 0:
        raise AlsmetaInputError("table: no rows (no study to show)")
    frame = pd.DataFrame(
        {
            "study": table[study].astype(str).to_numpy(),
            "outcome": table[outcome].astype(str).to_numpy(),
            "timepoint": table[timepoint].astype(str).to_numpy() if timepoint is not None else "",
            "status": [ALIASES.get(str(s), str(s)) for s in table[status]],
            "group": table[group].astype(str).to_numpy() if group is not None else "",
            "text": table[text].fillna("").astype(str).to_numpy() if text is not None else "",
        }
    )
    for row in frame.itertuples():
        if row.status not in STATUSES:
            raise AlsmetaInputError(
                f"study {row.study!r}, column {status!r}: {row.status!r} is not one of {', '.join(STATUSES)} "
                f"(or {', '.join(ALIASES)})"
            )
    dup = frame.duplicated(["study", "outcome", "timepoint"])
    if dup.any():
        first = frame[dup].iloc[0]
        raise AlsmetaInputError(
            f"study {first.study!r}, column {outcome!r}: {first.outcome!r} {first.timepoint!r} has two statuses; "
            "give one status per cell (e.g. the best available)"
        )
    if group is not None:
        groups_of = frame.groupby("study", sort=False)["group"].unique()
        for name, values in groups_of.items():
            if len(values) > 1:
                raise AlsmetaInputError(
                    f"study {name!r}, column {group!r}: in more than one group ({', '.join(values)})"
                )
    return frame


def _edge(status: str) -> str:
    """Cell outline: ink for evidence, grey for a not-retrievable cell, light grey for an empty one."""
    return {"not_retrievable": GREY, "none": LIGHT_GREY}.get(status, INK)


def _row_order(frame: pd.DataFrame) -> list[tuple[str, str]]:
    """Display rows: ``("group", name)`` headings (when groups are given), each followed by its studies.

    A study row is ``("study", name)``.

    Groups and the studies within them keep the order of their first row.
    """
    studies = list(dict.fromkeys(frame["study"]))
    group_of = dict(zip(frame["study"], frame["group"], strict=True))
    groups = list(dict.fromkeys(group_of[s] for s in studies))
    if groups == [""]:
        return [("study", s) for s in studies]
    rows: list[tuple[str, str]] = []
    for g in groups:
        rows.append(("group", g))
        rows += [("study", s) for s in studies if group_of[s] == g]
    return rows


def _groups(columns: list[tuple[str, str]]) -> list[tuple[str, int, int]]:
    """Runs of adjacent columns with the same outcome: (outcome, first column, end column)."""
    out = []
    start = 0
    for j in range(1, len(columns) + 1):
        if j == len(columns) or columns[j][0] != columns[start][0]:
            out.append((columns[start][0], start, j))
            start = j
    return out


def _header_text(name: str, span: float, size: float = SMALL_SIZE) -> tuple[str, int, float]:
    """Header text, rotation and height (inches) for a header spanning ``span`` inches (wrapped, else vertical)."""
    line_h = size * 1.25 / 72.0
    chars = max(1, int(span / (size * 0.55 / 72.0)))
    lines = textwrap.wrap(name, chars) or [name]
    if max(text_width(line, size) for line in lines) > span or len(lines) > 3:
        return name, 90, text_width(name, size)
    return "\n".join(lines), 0, line_h * len(lines)


def _time_labels(columns: list[tuple[str, str]], cell: float, size: float) -> tuple[list[str], int, float]:
    """Time-point labels, their rotation and height (inches): horizontal (up to two lines) when all fit the cell."""
    wrapped = []
    for _, t in columns:
        text, rotation, _ = _header_text(t, cell * 0.94, size)
        if rotation or text.count("\n") > 1:
            labels = [t for _, t in columns]
            return labels, 90, max(text_width(t, size) for t in labels)
        wrapped.append(text)
    lines = max(t.count("\n") + 1 for t in wrapped)
    return wrapped, 0, lines * size * 1.25 / 72.0


def availability_map(
    table: pd.DataFrame,
    *,
    study: str = "study",
    outcome: str = "outcome",
    timepoint: str | None = "timepoint",
    status: str = "status",
    group: str | None = None,
    text: str | None = None,
    width: str = "double",
    title: str | None = None,
    caption: str | None = None,
    blank_label: str = "Blank: not a candidate outcome",
) -> Figure:
    """Draw a study availability map.

    The map makes visible which results exist, in which form and from which
    kind of source, before anything is pooled (Cochrane Handbook, ch. 13,
    "Assessing risk of bias due to missing results"; Page et al. 2019).

    Parameters
    ----------
    table
        Tidy table, one row per study, outcome and time point, with its status
        (one of :data:`STATUSES`; ``not_found`` is read as ``not_retrievable``).
        Studies and columns appear in the order of their first row.
    study, outcome, timepoint, status
        Column names; ``timepoint=None`` for outcomes without time points.
    group
        Column naming each study's group (e.g. a cell type): studies are shown
        under a bold heading row per group, groups in the order of their first
        row. A study must belong to one group.
    text
        Column with a short text printed in the cell beside its status
        symbol (e.g. ``"numbers"``, ``"p only"``); the cells then widen to
        fill the figure width, and an empty text leaves only the symbol.
    width
        ``"double"`` (183 mm) or ``"single"`` (89 mm) column.
    title
        Printed in bold above the map (wrapped to the width).
    caption
        Printed under the legend (wrapped to the width).
    blank_label
        Legend entry of a blank cell (a study and column with no row), shown
        when the map has blank cells; say what a missing row means in the
        caller's table.

    Returns
    -------
    matplotlib.figure.Figure
        Cells carry gids ``availability:cell:<study>|<outcome>|<timepoint>:<status>``
        (the rectangle), ``availability:symbol:...`` (its symbol) and
        ``availability:text:...`` (its text); outcome headers
        ``availability:outcome:<outcome>``, group headings
        ``availability:group:<group>``, ``availability:title``,
        ``availability:caption`` and ``availability:legend``.

    Raises
    ------
    AlsmetaInputError
        Unknown status, two statuses for one cell, a study in two groups,
        missing columns, more columns than fit the width at 7 pt (split
        the table), or a cell text too long for its cell.
    """
    if width not in ("double", "single"):
        raise AlsmetaInputError(f"width: expected 'double' or 'single', got {width!r}")
    frame = _tidy(table, study, outcome, timepoint, status, group, text)
    rows = _row_order(frame)
    studies = [name for kind, name in rows if kind == "study"]
    columns = list(dict.fromkeys(zip(frame["outcome"], frame["timepoint"], strict=True)))
    fig_w = DOUBLE_COLUMN if width == "double" else SINGLE_COLUMN
    label_w = max(text_width(s, SMALL_SIZE) for s in studies) + 0.15
    cell = _cell_width(frame, len(columns), fig_w - label_w - 0.1, width, text is not None)
    row_h = min(cell * 0.85, 0.272 if text is None else 0.2)
    has_time = timepoint is not None and any(t for _, t in columns)
    time_size = SMALL_SIZE - 0.5
    time_labels, time_rotation, time_text_h = _time_labels(columns, cell, time_size) if has_time else ([], 0, 0.0)
    time_h = time_text_h + 0.08 if has_time else 0.0
    groups = _groups(columns)
    headers = [_header_text(name, (j - i) * cell) for name, i, j in groups]
    group_h = max(h for _, _, h in headers) + 0.12
    title_lines = wrap_text(title, fig_w - 0.2, SMALL_SIZE + 0.5, "bold") if title else []
    title_h = (len(title_lines) * (SMALL_SIZE + 0.5) * 1.2 / 72.0 + 0.12) if title else 0.0
    header_h = title_h + group_h + time_h + 0.05
    grid_h = row_h * len(rows)
    used = [s for s in STATUSES if s in set(frame["status"])]
    blank = len(frame) < len(studies) * len(columns)
    legend_cols = 3 if width == "double" else 1
    legend_rows = -(-(len(used) + blank) // legend_cols)
    caption_size = SMALL_SIZE - 0.5
    caption_lines = wrap_text(caption, fig_w - 0.2, caption_size) if caption else []
    caption_h = (len(caption_lines) * caption_size * 1.25 / 72.0 + 0.1) if caption else 0.0
    legend_h = 0.19 * legend_rows
    foot_h = 0.2 + legend_h + caption_h
    fig_h = header_h + grid_h + foot_h
    with style_context():
        fig = Figure(figsize=(fig_w, fig_h))
        # explicit geometry (inches -> figure fraction), so cells keep their size and the header fits
        left = label_w / fig_w
        ax = fig.add_axes((left, foot_h / fig_h, cell * len(columns) / fig_w, grid_h / fig_h))
        row_index = {name: i for i, (kind, name) in enumerate(rows) if kind == "study"}
        _draw_cells(ax, frame, {c: j for j, c in enumerate(columns)}, row_index, cell, text is not None)
        ax.set_xlim(0, len(columns))
        ax.set_ylim(len(rows), 0)
        ax.set_yticks([row_index[s] + 0.5 for s in studies], labels=studies, fontsize=SMALL_SIZE)
        ax.tick_params(length=0)
        for spine in ax.spines.values():
            spine.set_visible(False)
        heading = blended_transform_factory(fig.transFigure, ax.transData)
        for i, (kind, name) in enumerate(rows):
            if kind == "group":
                ax.text(
                    0.06 / fig_w,
                    i + 0.55,
                    name,
                    transform=heading,
                    ha="left",
                    va="center",
                    fontsize=SMALL_SIZE,
                    fontweight="bold",
                    gid=f"availability:group:{name}",
                )
        if has_time:
            ax.set_xticks(
                [j + 0.5 for j in range(len(columns))],
                labels=time_labels,
                rotation=time_rotation,
                fontsize=time_size,
                linespacing=1.1,
            )
            ax.xaxis.tick_top()
        else:
            ax.set_xticks([])
        # outcome headers spanning their time points (wrapped, or vertical when a word is wider than the span)
        per_inch = 1.0 / row_h  # data units per inch on the y axis
        y_base = -(time_h + 0.05) * per_inch
        for (name, i, j), (header, rotation, _) in zip(groups, headers, strict=True):
            ax.annotate(
                header,
                ((i + j) / 2, y_base),
                xycoords="data",
                ha="center",
                va="bottom",
                rotation=rotation,
                fontsize=SMALL_SIZE,
                annotation_clip=False,
                linespacing=1.1,
                gid=f"availability:outcome:{name}",
            )
            ax.plot(
                [i + 0.08, j - 0.08],
                [y_base + 0.02 * per_inch] * 2,
                color=INK,
                lw=0.6,
                clip_on=False,
                gid=f"availability:outcome-rule:{name}",
            )
            if j < len(columns):
                ax.axvline(j, color=GREY, lw=0.5, ls=":", zorder=0)
        if title_lines:
            fig.text(
                0.06 / fig_w,
                1 - 0.06 / fig_h,
                "\n".join(title_lines),
                ha="left",
                va="top",
                fontsize=SMALL_SIZE + 0.5,
                fontweight="bold",
                linespacing=1.2,
                gid="availability:title",
            )
        legend_anchor = (0.01, (caption_h + 0.05) / fig_h)
        _draw_legend(fig, used, blank_label if blank else None, legend_anchor, legend_cols)
        if caption_lines:
            fig.text(
                0.06 / fig_w,
                0.05 / fig_h,
                "\n".join(caption_lines),
                ha="left",
                va="bottom",
                fontsize=caption_size,
                color=INK,
                linespacing=1.25,
                gid="availability:caption",
            )
    return fig


def _cell_width(frame: pd.DataFrame, n_columns: int, room: float, width: str, with_text: bool) -> float:
    """Width of one cell (inches) in ``room`` inches; an error when the columns or the cell texts do not fit."""
    cell = room / n_columns
    if not with_text:
        cell = min(0.32, cell)
    if cell < MIN_CELL:
        raise AlsmetaInputError(
            f"table: {n_columns} outcome/time-point columns do not fit {width} width at a readable size; "
            "split the table into several maps"
        )
    if with_text:
        longest = max(frame["text"], key=lambda t: text_width(t, MIN_FONT))
        if 0.2 + text_width(longest, MIN_FONT) > cell * 0.94:
            raise AlsmetaInputError(
                f"text: {longest!r} does not fit a {cell:.2f} in cell at {MIN_FONT:g} pt beside its symbol; "
                "use width='double', shorter texts or fewer columns"
            )
    return cell


def _draw_cells(
    ax: Axes,
    frame: pd.DataFrame,
    col_index: dict[tuple[Any, Any], int],
    row_index: dict[str, int],
    cell: float,
    with_text: bool,
) -> None:
    """One rectangle and status symbol per row of ``frame``, and its text beside the symbol."""
    for r in frame.itertuples():
        status, label = str(r.status), str(r.text)  # _tidy made both text
        x, y = col_index[(r.outcome, r.timepoint)], row_index[str(r.study)]
        style = STATUSES[status]
        key = f"{r.study}|{r.outcome}|{r.timepoint}"
        ax.add_patch(
            Rectangle(
                (x + 0.06, y + 0.08),
                0.88,
                0.84,
                facecolor=style["colour"],
                edgecolor=_edge(status),
                linewidth=0.5,
                hatch=style["hatch"],
                gid=f"availability:cell:{key}:{status}",
            )
        )
        symbol_x = x + 0.06 + 0.1 / cell if with_text else x + 0.5
        ax.plot(
            [symbol_x],
            [y + 0.5],
            ls="none",
            marker=style["symbol"],
            ms=6.5,
            color=style["ink"],
            gid=f"availability:symbol:{key}:{status}",
        )
        if label:
            bbox = {"facecolor": "white", "edgecolor": "none", "pad": 0.6} if style["hatch"] else None
            ax.text(
                x + 0.06 + 0.2 / cell,
                y + 0.52,
                label,
                ha="left",
                va="center",
                fontsize=MIN_FONT,
                color=style["ink"],
                bbox=bbox,
                gid=f"availability:text:{key}:{status}",
            )


def _draw_legend(
    fig: Figure, used: list[str], blank_label: str | None, anchor: tuple[float, float], ncols: int
) -> None:
    """Legend of the statuses in use (and of a blank cell, when ``blank_label`` is given), anchored lower left."""
    handles: list[Any] = []
    labels: list[str] = []
    for s in used:
        style = STATUSES[s]
        patch = Patch(facecolor=style["colour"], edgecolor=_edge(s), linewidth=0.5, hatch=style["hatch"])
        mark = Line2D([], [], ls="none", marker=style["symbol"], ms=6.5, color=style["ink"])
        handles.append((patch, mark))
        labels.append(style["label"])
    if blank_label is not None:
        handles.append((Patch(facecolor="white", edgecolor=LIGHT_GREY, linewidth=0.5),))
        labels.append(blank_label)
    legend = fig.legend(
        handles,
        labels,
        handler_map={tuple: HandlerTuple(ndivide=1)},
        loc="lower left",
        bbox_to_anchor=anchor,
        ncols=ncols,
        fontsize=SMALL_SIZE - 0.5,
        handlelength=1.6,
        handleheight=1.3,
        columnspacing=1.2,
        borderaxespad=0.0,
        frameon=False,
    )
    legend.set_gid("availability:legend")
