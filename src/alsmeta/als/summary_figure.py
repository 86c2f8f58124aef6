"""The summary forest: a table of results (outcome, trials, k, participants, effect, certainty), one axis per unit."""

from __future__ import annotations

import math
import textwrap

from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, NullLocator

from alsmeta.als.summary import CERTAINTY, SECTIONS, SummaryRow
from alsmeta.plots.style import GREY, INK, LIGHT_GREY, style_context

FONT = 7.5
WIDTH = 183.0 / 25.4
ROW_H = 0.2  # inches
COLS = {"outcome": 0.06, "trials": 1.48, "k": 2.47, "participants": 2.93, "effect": 3.43, "certainty": 4.73}
PANEL_X0, PANEL_X1 = 5.6, 7.05
FOOT_CHARS = 136


def _xlim(section_rows: list[SummaryRow], log: bool) -> tuple[float, float]:
    lo = min([r.ci_low for r in section_rows if r.ci_low is not None] + [1.0 if log else 0.0])
    hi = max([r.ci_high for r in section_rows if r.ci_high is not None] + [1.0 if log else 0.0])
    if log:
        return 2 ** math.floor(math.log2(lo)), 2 ** math.ceil(math.log2(hi))
    span = max(abs(lo), abs(hi))
    step = 2.0 if span <= 8 else 5.0
    edge = step * math.ceil(span / step)
    return -edge, edge


def summary_forest_figure(rows: list[SummaryRow], title: str, footnotes: list[str]) -> Figure:
    """Table (outcome, trials, k, participants, effect, certainty) and one forest axis per section, 183 mm wide."""
    sections = [s for s in SECTIONS if any(r.section == s for r in rows)]
    # vertical layout in inches from the top: title, header, then per section a heading, its rows and its axis
    y = 0.12
    title_y = y
    y += 0.3
    header_y = y
    y += 0.3
    placed: list[tuple[str, float, list[tuple[SummaryRow, float]]]] = []
    for s in sections:
        head = y
        y += ROW_H
        items = []
        for r in (r for r in rows if r.section == s):
            items.append((r, y + ROW_H / 2))
            y += ROW_H
        placed.append((s, head, items))
        y += 0.42  # the section's axis ticks and label
    foot_y = y + 0.05
    footnotes = [line for note in footnotes for line in textwrap.wrap(note, FOOT_CHARS, subsequent_indent="  ")]
    height = foot_y + 0.13 * len(footnotes) + 0.1
    with style_context():
        fig = Figure(figsize=(WIDTH, height))
        table = fig.add_axes((0, 0, 1, 1))
        table.set_xlim(0, WIDTH)
        table.set_ylim(height, 0)
        table.set_axis_off()
        table.text(
            COLS["outcome"], title_y, title, fontsize=FONT + 1.5, fontweight="bold", va="top", gid="summary:title"
        )
        for col, text, ha in (
            ("outcome", "Outcome", "left"),
            ("trials", "Trial(s)", "left"),
            ("k", "k", "center"),
            ("participants", "Participants", "center"),
            ("effect", "Effect (95% CI)", "left"),
            ("certainty", "Certainty", "left"),
        ):
            table.text(COLS[col], header_y, text, fontsize=FONT, fontweight="bold", ha=ha, va="center")
        table.axhline(header_y + 0.14, xmin=COLS["outcome"] / WIDTH, xmax=PANEL_X1 / WIDTH, color=INK, lw=0.6)
        for s, head, items in placed:
            name, measure, log = SECTIONS[s]
            table.text(
                COLS["outcome"],
                head + ROW_H / 2,
                name,
                fontsize=FONT,
                fontweight="bold",
                va="center",
                gid=f"summary:section:{s}",
            )
            rows_y = [yy for _, yy in items]
            top, bottom = rows_y[0] - ROW_H / 2, rows_y[-1] + ROW_H / 2
            ax = fig.add_axes(
                (PANEL_X0 / WIDTH, 1 - bottom / height, (PANEL_X1 - PANEL_X0) / WIDTH, (bottom - top) / height)
            )
            ax.set_ylim(bottom, top)
            if log:
                ax.set_xscale("log")
            lo, hi = _xlim([r for r, _ in items], log)
            ax.set_xlim(lo, hi)
            ax.axvline(1.0 if log else 0.0, color=GREY, lw=0.8, zorder=0)
            for r, yy in items:
                cells = {
                    "outcome": r.outcome,
                    "trials": r.trials,
                    "k": str(r.k),
                    "participants": "NR" if r.participants is None else str(r.participants),
                    "effect": (f"{r.measure} {r.effect_text()}" if r.estimate is not None else "not estimable"),
                    "certainty": CERTAINTY + "\u2020",
                }
                for col, text in cells.items():
                    table.text(
                        COLS[col] + (0.12 if col == "outcome" else 0.0),
                        yy,
                        text,
                        fontsize=FONT,
                        va="center",
                        ha="center" if col in ("k", "participants") else "left",
                        gid=f"summary:{col}:{r.key}",
                    )
                if r.estimate is None or r.ci_low is None or r.ci_high is None:
                    ax.text(
                        0.02,
                        yy,
                        "no SE or CI: not drawn",
                        transform=ax.get_yaxis_transform(),
                        fontsize=FONT,
                        ha="left",
                        va="center",
                        color=GREY,
                        style="italic",
                        gid=f"summary:not-estimable:{r.key}",
                    )
                    continue
                ax.plot(
                    [r.ci_low, r.ci_high], [yy, yy], color=INK, lw=1.1, solid_capstyle="butt", gid=f"summary:ci:{r.key}"
                )
                ax.plot([r.estimate], [yy], ls="none", marker="s", ms=4.5, color=INK, gid=f"summary:estimate:{r.key}")
            ax.yaxis.set_major_locator(NullLocator())
            for side in ("left", "right", "top"):
                ax.spines[side].set_visible(False)
            if log:
                ticks = [t for t in (0.25, 0.5, 1, 2, 4, 8, 16) if lo <= t <= hi]
                ax.xaxis.set_major_locator(FixedLocator(ticks))
                ax.xaxis.set_minor_locator(NullLocator())
                ax.set_xticklabels([f"{t:g}" for t in ticks])
            ax.tick_params(axis="x", labelsize=FONT, length=2.5, pad=1.5)
            ax.set_xlabel("Risk ratio" if log else "Mean difference", fontsize=FONT, labelpad=1.5)
            table.axhline(bottom + 0.4, xmin=COLS["outcome"] / WIDTH, xmax=PANEL_X1 / WIDTH, color=LIGHT_GREY, lw=0.5)
        for j, line in enumerate(footnotes):
            table.text(
                COLS["outcome"], foot_y + 0.13 * j, line, fontsize=7.0, va="top", color=INK, gid="summary:footnote"
            )
    return fig
