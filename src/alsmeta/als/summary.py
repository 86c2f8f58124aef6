"""One summary forest across outcomes: what the randomised evidence (as of 2026) says, outcome by outcome.

One row per result of the living update of Cochrane CD011742, computed from
``data/`` with the same functions as the Cochrane analyses
(:mod:`alsmeta.als.cochrane`): ALSFRS-R change to 4 and 6 months and FVC
change to 4 months (Oh 2018, inverse-variance mean differences), the NurOwn
phase 3's 28-week ALSFRS-R difference (reported without SE or CI: "not
estimable") and deaths and serious adverse events to 28 weeks (Cudkowicz
2022, risk ratios; the deaths denominators are assumed). Cochrane's GRADE
ratings were not retrievable and this project made no GRADE judgement, so
every row says "not assessed" with that reason.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from alsmeta.als.cochrane.living import nurown_binary
from alsmeta.als.cochrane.pub3 import CONTINUOUS, continuous_outcome
from alsmeta.als.tables import Evidence

CERTAINTY = "not assessed"
CERTAINTY_REASON = (
    "GRADE not retrievable: the Cochrane review's summary-of-findings table could not be read, and this "
    "project made no GRADE judgement of its own"
)


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
    sources: tuple[dict[str, Any], ...] = ()

    @classmethod
    def not_estimable(
        cls,
        key: str,
        section: str,
        outcome: str,
        trials: str,
        measure: str,
        note: str,
        sources: tuple[dict[str, Any], ...] = (),
    ) -> SummaryRow:
        """A row with no estimate (k = 0, participants not reported); ``note`` says what is missing."""
        return cls(key, section, outcome, trials, 0, None, measure, None, None, None, note=note, sources=sources)

    def effect_text(self) -> str:
        """The effect and its 95% CI with 2 decimals, or "not estimable"."""
        if self.estimate is None:
            return "not estimable"
        d = 2
        return f"{self.estimate:.{d}f} ({self.ci_low:.{d}f} to {self.ci_high:.{d}f})"

    def to_dict(self) -> dict[str, Any]:
        """The row for numbers.json, with its effect text and certainty statement."""
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
            "sources": list(self.sources),
        }


SECTIONS = {
    "alsfrs": ("ALSFRS-R change (points; > 0 favours cells)", "MD", False),
    "fvc": ("FVC change (% predicted; > 0 favours cells)", "MD", False),
    "safety": ("Harms to 28 weeks (risk ratio; > 1 more events with cells)", "RR", True),
}


def summary_rows(ev: Evidence) -> list[SummaryRow]:
    """Every result of the summary, from data/ through the Cochrane analyses' own functions."""
    rows: list[SummaryRow] = []
    for key, label in (
        ("alsfrs_r_change_4mo", "0 to 4 months"),
        ("alsfrs_r_change_6mo", "0 to 6 months"),
        ("fvc_pct_change_4mo", "0 to 4 months"),
    ):
        spec = next(c for c in CONTINUOUS if c.key == key)
        r, _ = continuous_outcome(ev, *spec)
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
                sources=tuple(r["sources"]),
            )
        )
        if key == "alsfrs_r_change_6mo":
            md = ev.statistic("cudkowicz2022", "alsfrs_r_change", "baseline to week 28", "msc_ntf_minus_placebo", "md")
            note = f"difference {md.value:g} points reported ({md.status}) without SE or CI"
            rows.append(
                SummaryRow.not_estimable(
                    "alsfrs_r_change_28wk", "alsfrs", "0 to 28 weeks", "Cudkowicz 2022", "MD", note, (md.source(),)
                )
            )
    for key, outcome, label, assume_denominator in (
        ("deaths_28wk", "deaths", "Deaths", True),
        ("serious_adverse_events_28wk", "serious_adverse_events", "Serious adverse events", False),
    ):
        b = nurown_binary(ev, outcome, assume_denominator)
        if not b["estimable"]:
            missing = "; ".join(b["missing"])
            rows.append(SummaryRow.not_estimable(key, "safety", label, "Cudkowicz 2022", "RR", missing))
            continue
        fit, (n_cells, n_placebo) = b["fit"], b["denominators"]
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
                arm_sizes=(int(n_cells), int(n_placebo)),
                sources=tuple(b["sources"]),
            )
        )
    return rows


def summary_sentence(rows: list[SummaryRow]) -> str:
    """The sentence a README prints under the summary forest, each number from its rows."""
    r = {row.key: row for row in rows}
    a6, fvc, d, sae = (
        r[k] for k in ("alsfrs_r_change_6mo", "fvc_pct_change_4mo", "deaths_28wk", "serious_adverse_events_28wk")
    )
    if sae.arm_sizes is None:
        raise ValueError("serious_adverse_events_28wk: not estimable, so the sentence cannot give its arm sizes")
    cells, placebo = sae.arm_sizes
    return (
        f"In the summary forest, each randomised result available in 2026 rests on a single trial: ALSFRS-R change "
        f"to 6 months MD {a6.effect_text()} points (Oh 2018, {a6.participants} participants), FVC change to 4 months "
        f"MD {fvc.effect_text()} % predicted, deaths RR {d.effect_text()} (denominators assumed) and serious adverse "
        f"events RR {sae.effect_text()} (NurOwn phase 3, {cells} with cells and {placebo} with placebo); the NurOwn "
        f"28-week ALSFRS-R difference is not estimable (no SE), and the certainty of the evidence was not assessed "
        f"(GRADE not retrievable)."
    )


def footnotes(rows: list[SummaryRow], oh2018_rob_overall: str) -> list[str]:
    """The footnotes under the summary forest: certainty, one trial per result, the measures, assumed numbers."""
    deaths = next(r for r in rows if r.key == "deaths_28wk")
    notes = [
        f"\u2020 Certainty {CERTAINTY}: {CERTAINTY_REASON}.",
        "Each result comes from one trial (k = 1): the estimate is that trial's, not a pooled one; outcomes are "
        "grouped by unit, each group with its own axis. Oh 2018 is open label with "
        f"an untreated control (RoB 2 overall {oh2018_rob_overall.replace('_', ' ')}, this project's assessment).",
        "MD: inverse-variance mean difference (unpooled SDs), z interval. RR: risk ratio, z interval. "
        "NR: not reported.",
        f"Deaths: {deaths.note}." if deaths.note else "",
    ]
    return [f for f in notes if f]
