"""A living update of Cochrane CD011742 with the evidence known in 2026.

Applies the pub3 criteria to every trial in data/ as of 2026, then pools what
can be pooled with the small-k methods a reviewer needs (REML with z and with
Hartung-Knapp-Sidik-Jonkman intervals, prediction intervals):

* responders: Oh 2018 (>= 50% ALSFRS-R slope improvement, 6 months, counts)
  and Cudkowicz 2022 (>= 1.25 points/month improvement, 28 weeks, adjusted OR
  with its p-value). The definitions differ, so the primary presentation is
  the two trials side by side, unpooled; a pooled odds ratio appears only as
  a labelled sensitivity analysis (its own figure, SoF row and numbers key
  ``responders_pooled_sensitivity_different_definitions``) to show how
  fragile such a pool is;
* serious adverse events and deaths: only Cudkowicz 2022 (NurOwn phase 3:
  95 treated with cells, 94 with placebo, 189 treated in all) reports them.

Everything else eligible (ALSUMMIT, Agüera-Morales 2025, Berry 2019's arm
data) is listed with what is missing. Writes into figures/cochrane_living_2026/.
"""

from __future__ import annotations

import warnings
from pathlib import Path

from alsmeta.als.cochrane.living import (
    NO_USABLE_NUMBERS,
    REVIEW,
    alsfrs_change_missing,
    living_sentence,
    living_sentence_sources,
    nurown_binary,
    nurown_treated,
    responder_evidence,
    responder_numbers,
    sparse_outcome_numbers,
    summary_of_findings,
)
from alsmeta.als.cochrane.living_figures import (
    figure_entries,
    prisma_figure,
    responders_forest,
    responders_pooled_forest,
    sparse_outcome_forest,
    tsa_figure,
)
from alsmeta.als.cochrane.living_flow import prisma_numbers
from alsmeta.als.cochrane.living_risk_of_bias import (
    ROB_CAPTION,
    read_risk_of_bias,
    risk_of_bias_numbers,
    risk_of_bias_rows,
)
from alsmeta.als.cochrane.living_tsa import alsfrs_tsa, tsa_numbers
from alsmeta.als.screening import screen
from alsmeta.als.tables import load_evidence
from alsmeta.io import figures_dir  # ALSMETA_FIGURES when run by alsmeta reproduce, else figures/
from alsmeta.io.reporting import markdown_table, write_numbers
from alsmeta.plots.risk_of_bias import risk_of_bias_figure
from alsmeta.plots.save import save_figure

OUT = figures_dir() / "cochrane_living_2026"
HARMS = [  # outcome, title, whether a missing denominator may be assumed (the treated N)
    ("serious_adverse_events", "serious adverse events (28 weeks)", False),
    ("deaths", "deaths (28 weeks)", True),
]


def main() -> None:
    warnings.simplefilter("error", RuntimeWarning)
    OUT.mkdir(parents=True, exist_ok=True)
    ev = load_evidence("data")
    scr = screen(REVIEW, "data")
    table = scr.table[scr.table.decision != "excluded"].drop(columns=["ambiguous"])
    table.to_csv(OUT / "screening.csv", index=False, lineterminator="\n")

    evidence = responder_evidence(ev)
    save_figure(responders_forest(evidence), OUT / "forest_responders")
    save_figure(responders_pooled_forest(evidence), OUT / "forest_responders_pooled_sensitivity")
    resp = responder_numbers(evidence)
    nurown = nurown_treated(ev)
    harms = {}
    for outcome, title, assume in HARMS:
        binary = nurown_binary(ev, outcome, assume)
        if binary["estimable"]:
            save_figure(sparse_outcome_forest(binary, title), OUT / f"forest_{outcome}")
        harms[outcome] = sparse_outcome_numbers(binary, title)
    sae, deaths = harms["serious_adverse_events"], harms["deaths"]
    change_missing = alsfrs_change_missing(ev)
    sof = summary_of_findings(resp, sae, deaths, nurown, change_missing)
    sof.to_csv(OUT / "summary_of_findings.csv", index=False, lineterminator="\n")
    (OUT / "summary_of_findings.md").write_text(
        "# Summary of findings: living update of CD011742 (evidence as of 2026)\n\n"
        "Criteria of pub3 carried forward; candidates are the trials in the evidence notes (not a new search).\n\n"
        + markdown_table(sof)
        + "\n## Eligible or ongoing, without usable numbers\n\n"
        + "\n".join(f"- **{k}**: {v}" for k, v in NO_USABLE_NUMBERS.items())
        + "\n",
        encoding="utf-8",
    )
    save_figure(prisma_figure(scr), OUT / "prisma")
    rob = risk_of_bias_rows(ev, read_risk_of_bias("data", REVIEW))
    save_figure(risk_of_bias_figure(rob, caption=ROB_CAPTION), OUT / "risk_of_bias")
    tsa = alsfrs_tsa(ev)
    save_figure(tsa_figure(tsa), OUT / "cumulative_tsa")
    write_numbers(
        OUT,
        {
            "figures": figure_entries(tsa, script=Path(__file__).name),
            "prisma": prisma_numbers(scr),
            "risk_of_bias": risk_of_bias_numbers(rob),
            "tsa_alsfrs_r_6mo": tsa_numbers(tsa),
            "search_date": scr.search_date.isoformat(),
            "counts": scr.counts,
            "included": scr.ids("included"),
            "ongoing": scr.ids("ongoing"),
            "awaiting_classification": scr.ids("awaiting_classification"),
            "responders_by_definition": {k: v for k, v in resp.items() if k != "sensitivity"},
            "responders_pooled_sensitivity_different_definitions": resp["sensitivity"],
            "nurown_phase3_treated": nurown,
            "readme_sentence": living_sentence(resp, nurown, sae, deaths),
            "readme_sentence_sources": living_sentence_sources(resp, sae, deaths),
            "serious_adverse_events": sae,
            "deaths": deaths,
            "no_usable_numbers": NO_USABLE_NUMBERS,
            "alsfrs_r_change_missing": change_missing,
        },
    )


if __name__ == "__main__":
    main()
