"""One summary forest across outcomes: what the randomised evidence says, outcome by outcome.

One row per result of the living update of Cochrane CD011742 (evidence as of
2026), computed from data/ with the same functions as the Cochrane analyses:

* ALSFRS-R change from baseline to 4 and to 6 months, and FVC % predicted
  change to 4 months (Oh 2018, the only RCT with arm-level continuous data;
  inverse-variance mean differences, as ``cochrane_2019_pub3.py``);
* ALSFRS-R change to 28 weeks in the NurOwn phase 3 (Cudkowicz 2022): a
  difference was reported without SE or CI, so the row says "not estimable"
  and draws nothing;
* deaths and serious adverse events to 28 weeks (Cudkowicz 2022, risk ratios,
  as ``cochrane_living_2026.py``; the deaths denominators are assumed).

Each row gives k, participants, the effect with its 95% CI and the certainty
statement. Cochrane's GRADE ratings were not retrievable and this project
made no GRADE judgement, so every row says "not assessed" with that reason.
Units differ between outcomes, so each section (ALSFRS-R in points, FVC in %
predicted, safety as risk ratios) has its own axis. Writes into
figures/summary/ (a folder of its own so that its numbers.json sits beside the
figure, like every other analysis).
"""

from __future__ import annotations

import importlib.util
import math
import sys
import textwrap
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, NullLocator

from alsmeta.als.tables import load_evidence
from alsmeta.io import figures_dir  # ALSMETA_FIGURES when run by alsmeta reproduce, else figures/
from alsmeta.io.reporting import figure_entry, write_numbers
from alsmeta.plots.style import GREY, INK, LIGHT_GREY, save_figure, style_context

OUT = figures_dir() / "summary"
SCRIPT = Path(__file__).name
FONT = 7.5
WIDTH = 183.0 / 25.4
CERTAINTY = "not assessed"
CERTAINTY_REASON = (
    "GRADE not retrievable: the Cochrane review's summary-of-findings table could not be read, and this "
    "project made no GRADE judgement of its own"
)


def _load(name: str) -> Any:
    """Another analysis script as a module (its functions only; its main() is not run)."""
    path = Path(__file__).resolve().with_name(f"{name}.py")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules.setdefault(name, module)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


@dataclass(frozen=True)
class SummaryRow:
    """One result of the summary forest (``estimate`` is None when not estimable)."""

    key: str
    section: str
    outcome: str
    trials: str
    k: int
    participants: int | None
    measure: str
    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    note: str = ""
    arm_sizes: tuple[int, int] | None = None

    def effect_text(self) -> str:
        if self.estimate is None:
            return "not estimable"
        d = 2
        return f"{self.estimate:.{d}f} ({self.ci_low:.{d}f} to {self.ci_high:.{d}f})"

    def to_dict(self) -> dict:
        return {
            "section": self.section,
            "outcome": self.outcome,
            "trials": self.trials,
            "k": self.k,
            "participants": self.participants,
            "arm_sizes": self.arm_sizes,
            "measure": self.measure,
            "estimate": self.estimate,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "effect": self.effect_text(),
            "certainty": CERTAINTY,
            "certainty_reason": CERTAINTY_REASON,
            "note": self.note,
        }


SECTIONS = {
    "alsfrs": ("ALSFRS-R change (points; > 0 favours cells)", "MD", False),
    "fvc": ("FVC change (% predicted; > 0 favours cells)", "MD", False),
    "safety": ("Harms to 28 weeks (risk ratio; > 1 more events with cells)", "RR", True),
}


def summary_rows(ev, pub3: Any, living: Any) -> list[SummaryRow]:
    """Every result of the summary, from data/ through the Cochrane analyses' own functions."""
    rows = []
    for key, outcome, timepoint, label in (
        ("alsfrs_r_change_4mo", "alsfrs_r_change", "baseline to 4 months", "0 to 4 months"),
        ("alsfrs_r_change_6mo", "alsfrs_r_change", "baseline to 6 months", "0 to 6 months"),
        ("fvc_pct_change_4mo", "fvc_pct_change", "baseline to 4 months", "0 to 4 months"),
    ):
        spec = next(c for c in pub3.CONTINUOUS if c[0] == key)
        r, _ = pub3.continuous_outcome(ev, *spec)
        rows.append(
            SummaryRow(
                key,
                "fvc" if key.startswith("fvc") else "alsfrs",
                label,
                "Oh 2018",
                r["k"],
                r["participants"],
                "MD",
                r["md"],
                r["ci_low"],
                r["ci_high"],
            )
        )
        if key == "alsfrs_r_change_6mo":
            md = ev.statistic("cudkowicz2022", "alsfrs_r_change", "baseline to week 28", "msc_ntf_minus_placebo", "md")
            rows.append(
                SummaryRow(
                    "alsfrs_r_change_28wk",
                    "alsfrs",
                    "0 to 28 weeks",
                    "Cudkowicz 2022",
                    0,
                    None,
                    "MD",
                    None,
                    None,
                    None,
                    note=f"difference {md.value:g} points reported ({md.status}) without SE or CI",
                )
            )
    for key, outcome, label, assume in (
        ("deaths_28wk", "deaths", "Deaths", True),
        ("serious_adverse_events_28wk", "serious_adverse_events", "Serious adverse events", False),
    ):
        b = living.nurown_binary(ev, outcome, assume)
        if not b["estimable"]:
            rows.append(
                SummaryRow(
                    key,
                    "safety",
                    label,
                    "Cudkowicz 2022",
                    0,
                    None,
                    "RR",
                    None,
                    None,
                    None,
                    note="; ".join(b["missing"]),
                )
            )
            continue
        fit = b["fit"]
        rows.append(
            SummaryRow(
                key,
                "safety",
                label,
                "Cudkowicz 2022",
                fit.k,
                int(sum(b["denominators"])),
                "RR",
                math.exp(fit.estimate),
                math.exp(fit.ci_low),
                math.exp(fit.ci_high),
                note=b["assumption"] or "",
                arm_sizes=tuple(int(n) for n in b["denominators"]),
            )
        )
    return rows


# ---------------------------------------------------------------- figure
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
                if r.estimate is None:
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


def summary_sentence(rows: list[SummaryRow]) -> str:
    """The sentence a README prints under the summary forest, each number from its rows."""
    r = {row.key: row for row in rows}
    a6, fvc, d, sae = (
        r[k] for k in ("alsfrs_r_change_6mo", "fvc_pct_change_4mo", "deaths_28wk", "serious_adverse_events_28wk")
    )
    return (
        f"In the summary forest, each randomised result available in 2026 rests on a single trial: ALSFRS-R change to 6 months "
        f"MD {a6.effect_text()} points (Oh 2018, {a6.participants} participants), FVC change to 4 months MD "
        f"{fvc.effect_text()} % predicted, deaths RR {d.effect_text()} (denominators assumed) and serious adverse events RR "
        f"{sae.effect_text()} (NurOwn phase 3, {sae.arm_sizes[0]} with cells and {sae.arm_sizes[1]} with placebo); the NurOwn 28-week ALSFRS-R difference is not "
        f"estimable (no SE), and the certainty of the evidence was not assessed (GRADE not retrievable)."
    )


def main() -> None:
    warnings.simplefilter("error", RuntimeWarning)
    OUT.mkdir(parents=True, exist_ok=True)
    ev = load_evidence("data")
    pub3, living = _load("cochrane_2019_pub3"), _load("cochrane_living_2026")
    rows = summary_rows(ev, pub3, living)
    deaths = next(r for r in rows if r.key == "deaths_28wk")
    rob = pd.read_csv("data/risk_of_bias.csv", dtype=str, keep_default_na=False)
    oh_rob = rob[
        (rob.review_version == "living2026") & (rob.study_id == "oh2018") & (rob.domain == "overall")
    ].judgement.iloc[0]
    footnotes = [
        f"\u2020 Certainty {CERTAINTY}: {CERTAINTY_REASON}.",
        "Each result comes from one trial (k = 1): the estimate is that trial's, not a pooled one; outcomes are grouped by unit, each group with its own axis. Oh 2018 is open label with "
        f"an untreated control (RoB 2 overall {oh_rob.replace('_', ' ')}, this project's assessment).",
        "MD: inverse-variance mean difference (unpooled SDs), z interval. RR: risk ratio, z interval. NR: not reported.",
        f"Deaths: {deaths.note}." if deaths.note else "",
    ]
    footnotes = [f for f in footnotes if f]
    fig = summary_forest_figure(
        rows, "Cell therapy vs control in ALS: randomised evidence as of 2026, outcome by outcome", footnotes
    )
    save_figure(fig, OUT / "summary_forest")
    write_numbers(
        OUT,
        {
            "figures": {
                "summary_forest": figure_entry(
                    "What does the randomised evidence (as of 2026) say about each outcome, and how much of it is there?",
                    "One row per result (ALSFRS-R at 4 months, 6 months and 28 weeks, FVC at 4 months, deaths and serious adverse "
                    "events at 28 weeks) with k, participants, effect and 95% CI; certainty not assessed (GRADE not retrievable).",
                    script=SCRIPT,
                )
            },
            "rows": {r.key: r.to_dict() for r in rows},
            "readme_sentence": summary_sentence(rows),
            "certainty": {"statement": CERTAINTY, "reason": CERTAINTY_REASON},
            "estimable_rows": sum(r.estimate is not None for r in rows),
            "largest_k": max(r.k for r in rows),
        },
    )


if __name__ == "__main__":
    main()
