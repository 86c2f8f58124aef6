"""Cochrane CD011742 pub3 (2019): two RCTs, one with data (Oh 2018).

Reproduces every outcome that Oh 2018's arm-level data allow, as an
inverse-variance analysis of one study (the review's situation), and explains
why the trial's own CI for the 6-month ALSFRS-R change (1.23 to 5.54) differs
from the inverse-variance one (1.22 to 5.54). Writes two RevMan-style
multi-outcome forest plots (continuous outcomes as mean differences;
responders as odds ratios), a summary-of-findings table (CSV and Markdown)
and numbers.json into figures/cochrane_pub3/. Every outcome names its time
point: the FVC difference (-0.53) is a 4-month outcome (the trial reports no
6-month FVC).
"""

from __future__ import annotations

import warnings
from pathlib import Path

from alsmeta.als.cochrane.pub3 import (
    CONTINUOUS,
    RESPONDERS,
    STUDY,
    continuous_outcome,
    explain_trial_interval,
    figure_entries,
    missing_outcomes,
    participants_in,
    prisma_numbers,
    pub3_sentence,
    pub3_sentence_sources,
    responder_outcome,
    summary_of_findings,
    time_points_together,
)
from alsmeta.als.cochrane.pub3_figures import continuous_forest, prisma_figure, responder_forest
from alsmeta.als.screening import screen
from alsmeta.als.tables import load_evidence
from alsmeta.io import figures_dir  # ALSMETA_FIGURES when run by alsmeta reproduce, else figures/
from alsmeta.io.reporting import markdown_table, write_numbers
from alsmeta.plots.save import save_figure

OUT = figures_dir() / "cochrane_pub3"


def main() -> None:
    warnings.simplefilter("error", RuntimeWarning)
    OUT.mkdir(parents=True, exist_ok=True)
    ev = load_evidence("data")
    scr = screen("pub3", "data")
    included = scr.ids("included")
    participants = participants_in(ev, included)

    continuous = {spec.key: continuous_outcome(ev, *spec) for spec in CONTINUOUS}
    responders = {spec.key: responder_outcome(ev, *spec) for spec in RESPONDERS}
    save_figure(continuous_forest([b for _, b in continuous.values()]), OUT / "forest_continuous")
    save_figure(responder_forest([b for _, b in responders.values()]), OUT / "forest_responders")
    results = {
        "continuous": {key: r for key, (r, _) in continuous.items()},
        "responders": {key: r for key, (r, _) in responders.items()},
    }
    missing = missing_outcomes(ev)
    sof = summary_of_findings(results, missing)
    sof.to_csv(OUT / "summary_of_findings.csv", index=False, lineterminator="\n")
    (OUT / "summary_of_findings.md").write_text(
        "# Summary of findings: Cochrane CD011742 pub3 (search 31 July 2019), reproduced\n\n"
        "Comparison: BM-MSC + riluzole vs riluzole alone (Oh 2018, the one included RCT with data).\n\n"
        + markdown_table(sof),
        encoding="utf-8",
    )
    save_figure(prisma_figure(ev, scr), OUT / "prisma")
    numbers = {
        "figures": figure_entries(script=Path(__file__).name),
        "prisma": prisma_numbers(ev, scr),
        "search_date": scr.search_date.isoformat(),
        "included": included,
        "included_count": len(included),
        "participants_in_included_rcts": participants,
        "ongoing": scr.ids("ongoing"),
        "studies_with_data": [STUDY],
        **results,
        "alsfrs_r_time_points_multilevel": time_points_together(results["continuous"]),
        "trial_interval_explained": explain_trial_interval(ev),
        "missing": missing,
        "readme_sentence": pub3_sentence(results, included, participants),
        "readme_sentence_sources": pub3_sentence_sources(results),
    }
    write_numbers(OUT, numbers)


if __name__ == "__main__":
    main()
