"""Study availability map: which number exists for which study, outcome and time point, and how sure it is.

Rows are candidate studies, columns outcome x time point; each cell shows the
provenance status of the data for that cell - ``verified`` (read in the
primary source), ``secondary`` (press release, registry mirror),
``derived`` (computed by us), ``inferred`` (reasoned, not stated) or
``not_retrievable`` (searched for, not found). Every status has a colour
(Okabe-Ito) *and* a symbol, and ``not_retrievable`` is hatched, so the map
reads in grey. A blank cell means the table has no row for that study and
column (the outcome was not a candidate for that study). The renderer draws
the statuses given; it decides nothing.
"""

from __future__ import annotations

import textwrap
from typing import Any

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.legend_handler import HandlerTuple
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle

from alsmeta.plots.style import BLUE, GREY, INK, ORANGE, PURPLE, SKY_BLUE, SMALL_SIZE, style_context, text_width
from alsmeta.validation import AlsmetaInputError

MM = 1.0 / 25.4
DOUBLE_COLUMN = 183.0 * MM
SINGLE_COLUMN = 89.0 * MM
MIN_CELL = 0.16
"""Narrowest column (inches) that still holds a symbol at 7 pt; wider tables must be split."""

STATUSES: dict[str, dict[str, Any]] = {
    "verified": {"label": "Verified (primary source)", "colour": BLUE, "symbol": r"$\checkmark$", "ink": "white",
                 "hatch": ""},
    "secondary": {"label": "Secondary source only", "colour": SKY_BLUE, "symbol": r"$\mathrm{S}$", "ink": INK,
                  "hatch": ""},
    "derived": {"label": "Derived by us", "colour": ORANGE, "symbol": r"$\mathrm{D}$", "ink": INK, "hatch": ""},
    "inferred": {"label": "Inferred (not stated)", "colour": PURPLE, "symbol": r"$\mathrm{I}$", "ink": INK,
                 "hatch": ""},
    "not_retrievable": {"label": "Not retrievable", "colour": "white", "symbol": r"$\times$", "ink": INK,
                        "hatch": "////"},
}
"""Colour, symbol and hatch of each status (a blank cell: no row for that study and column)."""

ALIASES = {"not_found": "not_retrievable"}
"""``data/`` spells a searched-for-but-missing number ``not_found``."""


def _tidy(table: Any, study: str, outcome: str, timepoint: str | None, status: str) -> pd.DataFrame:
    if not isinstance(table, pd.DataFrame):
        raise AlsmetaInputError(f"table: expected a pandas DataFrame, got {type(table).__name__}")
    wanted = [("study", study), ("outcome", outcome), ("status", status)]
    if timepoint is not None:
        wanted.insert(2, ("timepoint", timepoint))
    for arg, col in wanted:
        if col not in table.columns:
            raise AlsmetaInputError(f"{arg}: column {col!r} is not in the table (columns: {', '.join(map(str, table.columns))})")
    if len(table) == 0:
        raise AlsmetaInputError("table: no rows (no study to show)")
    frame = pd.DataFrame({
        "study": table[study].astype(str).to_numpy(),
        "outcome": table[outcome].astype(str).to_numpy(),
        "timepoint": table[timepoint].astype(str).to_numpy() if timepoint is not None else "",
        "status": [ALIASES.get(str(s), str(s)) for s in table[status]],
    })
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
    return frame


def _groups(columns: list[tuple[str, str]]) -> list[tuple[str, int, int]]:
    """Runs of adjacent columns with the same outcome: (outcome, first column, end column)."""
    out = []
    start = 0
    for j in range(1, len(columns) + 1):
        if j == len(columns) or columns[j][0] != columns[start][0]:
            out.append((columns[start][0], start, j))
            start = j
    return out


def _header_text(name: str, span: float) -> tuple[str, int, float]:
    """Header text, rotation and height (inches) for an outcome spanning ``span`` inches."""
    line_h = SMALL_SIZE * 1.25 / 72.0
    chars = max(1, int(span / (SMALL_SIZE * 0.55 / 72.0)))
    lines = textwrap.wrap(name, chars) or [name]
    if max(text_width(line, SMALL_SIZE) for line in lines) > span or len(lines) > 3:
        return name, 90, text_width(name, SMALL_SIZE)
    return "\n".join(lines), 0, line_h * len(lines)


def availability_map(
    table: pd.DataFrame,
    *,
    study: str = "study",
    outcome: str = "outcome",
    timepoint: str | None = "timepoint",
    status: str = "status",
    width: str = "double",
    caption: str | None = None,
) -> Figure:
    """Draw a study availability map.

    Parameters
    ----------
    table
        Tidy table, one row per study, outcome and time point, with its status
        (one of :data:`STATUSES`; ``not_found`` is read as ``not_retrievable``).
        Studies and columns appear in the order of their first row.
    study, outcome, timepoint, status
        Column names; ``timepoint=None`` for outcomes without time points.
    width
        ``"double"`` (183 mm) or ``"single"`` (89 mm) column.
    caption
        Printed under the legend.

    Returns
    -------
    matplotlib.figure.Figure
        Cells carry gids ``availability:cell:<study>|<outcome>|<timepoint>:<status>``
        (the rectangle) and ``availability:symbol:...`` (its symbol); outcome
        headers ``availability:outcome:<outcome>``.

    Raises
    ------
    AlsmetaInputError
        Unknown status, two statuses for one cell, missing columns, or more
        columns than fit the width at 7 pt (split the table).
    """
    if width not in ("double", "single"):
        raise AlsmetaInputError(f"width: expected 'double' or 'single', got {width!r}")
    frame = _tidy(table, study, outcome, timepoint, status)
    studies = list(dict.fromkeys(frame["study"]))
    columns = list(dict.fromkeys(zip(frame["outcome"], frame["timepoint"])))
    fig_w = DOUBLE_COLUMN if width == "double" else SINGLE_COLUMN
    label_w = max(text_width(s, SMALL_SIZE) for s in studies) + 0.15
    cell = min(0.32, (fig_w - label_w - 0.1) / len(columns))
    if cell < MIN_CELL:
        raise AlsmetaInputError(
            f"table: {len(columns)} outcome/time-point columns do not fit {width} width at a readable size; "
            "split the table into several maps"
        )
    has_time = timepoint is not None and any(t for _, t in columns)
    time_h = (max(text_width(t, SMALL_SIZE - 0.5) for _, t in columns) + 0.08) if has_time else 0.0
    groups = _groups(columns)
    headers = [_header_text(name, (j - i) * cell) for name, i, j in groups]
    group_h = max(h for _, _, h in headers) + 0.12
    header_h = group_h + time_h + 0.05
    grid_h = cell * 0.85 * len(studies)
    used = [s for s in STATUSES if s in set(frame["status"])]
    blank = len(frame) < len(studies) * len(columns)
    legend_cols = 3 if width == "double" else 1
    legend_rows = -(-(len(used) + blank) // legend_cols)
    foot_h = 0.2 + 0.19 * legend_rows + (0.3 if caption else 0.0)
    fig_h = header_h + grid_h + foot_h
    with style_context():
        fig = Figure(figsize=(fig_w, fig_h))
        # explicit geometry (inches -> figure fraction), so cells are square-ish and the header fits
        left = label_w / fig_w
        ax = fig.add_axes((left, foot_h / fig_h, cell * len(columns) / fig_w, grid_h / fig_h))
        row_h = 1.0
        col_index = {c: j for j, c in enumerate(columns)}
        row_index = {s: i for i, s in enumerate(studies)}
        for r in frame.itertuples():
            x, y = col_index[(r.outcome, r.timepoint)], row_index[r.study]
            style = STATUSES[r.status]
            key = f"{r.study}|{r.outcome}|{r.timepoint}"
            ax.add_patch(Rectangle((x + 0.06, y + 0.08), 0.88, row_h - 0.16, facecolor=style["colour"],
                                   edgecolor=INK if r.status != "not_retrievable" else GREY, linewidth=0.5,
                                   hatch=style["hatch"], gid=f"availability:cell:{key}:{r.status}"))
            ax.plot([x + 0.5], [y + 0.5], ls="none", marker=style["symbol"], ms=6.5, color=style["ink"],
                    gid=f"availability:symbol:{key}:{r.status}")
        ax.set_xlim(0, len(columns))
        ax.set_ylim(len(studies), 0)
        ax.set_yticks([i + 0.5 for i in range(len(studies))], labels=studies, fontsize=SMALL_SIZE)
        ax.tick_params(length=0)
        for spine in ax.spines.values():
            spine.set_visible(False)
        if has_time:
            ax.set_xticks([j + 0.5 for j in range(len(columns))], labels=[t for _, t in columns],
                          rotation=90, fontsize=SMALL_SIZE - 0.5)
            ax.xaxis.tick_top()
        else:
            ax.set_xticks([])
        # outcome headers spanning their time points (wrapped, or vertical when a word is wider than the span)
        per_inch = 1.0 / (cell * 0.85)  # data units per inch on the y axis
        y_base = -(time_h + 0.05) * per_inch
        for (name, i, j), (text, rotation, _) in zip(groups, headers):
            ax.annotate(text, ((i + j) / 2, y_base), xycoords="data", ha="center", va="bottom", rotation=rotation,
                        fontsize=SMALL_SIZE, annotation_clip=False, linespacing=1.1, gid=f"availability:outcome:{name}")
            ax.plot([i + 0.08, j - 0.08], [y_base + 0.02 * per_inch] * 2, color=INK, lw=0.6, clip_on=False,
                    gid=f"availability:outcome-rule:{name}")
            if j < len(columns):
                ax.axvline(j, color=GREY, lw=0.5, ls=":", zorder=0)
        handles: list[Any] = []
        labels: list[str] = []
        for s in used:
            style = STATUSES[s]
            patch = Patch(facecolor=style["colour"], edgecolor=INK if s != "not_retrievable" else GREY,
                          linewidth=0.5, hatch=style["hatch"])
            mark = Line2D([], [], ls="none", marker=style["symbol"], ms=6.5, color=style["ink"])
            handles.append((patch, mark))
            labels.append(style["label"])
        if blank:
            handles.append((Patch(facecolor="white", edgecolor="none"),))
            labels.append("Blank: not a candidate outcome")
        legend = fig.legend(handles, labels, handler_map={tuple: HandlerTuple(ndivide=1)}, loc="lower left",
                            bbox_to_anchor=(0.01, (0.3 if caption else 0.05) / fig_h), ncols=legend_cols,
                            fontsize=SMALL_SIZE - 0.5, handlelength=1.6, handleheight=1.3, columnspacing=1.2,
                            borderaxespad=0.0, frameon=False)
        legend.set_gid("availability:legend")
        if caption:
            fig.text(0.01, 0.05 / fig_h, caption, ha="left", va="bottom", fontsize=SMALL_SIZE - 0.5, color=INK,
                     gid="availability:caption")
    return fig
