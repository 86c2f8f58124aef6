"""Cochrane CD011742 pub2 (2016): the empty review.

Applies the pub2 eligibility criteria (RCTs, quasi-RCTs and cluster RCTs of
cell-based therapy vs placebo or no additional treatment, co-interventions
equal in both groups) at the 21 June 2016 search date to every candidate in
data/. The result must be zero included studies and four ongoing trials; one
of the four is verified from the review's own ongoing-study table, three are
inferred (the review's other tables could not be retrieved) and are named as
such. Draws the empty forest plot - naming the outcomes the review searched
for (from its criteria in data/criteria.csv, or saying they are not reported)
and "0 studies included (0 of N full texts assessed met the criteria)" with N
from the data ("N not reported" when the review's text does not give it) -
and the PRISMA 2020 diagram, in which every count the review's available text
does not give is shown as "not reported". Writes into figures/cochrane_pub2/.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import alsmeta as am
from alsmeta.als.cochrane.pub2 import (
    REVIEW,
    empty_statement,
    figure_entries,
    long_date,
    not_reported,
    ongoing_trials,
    outcomes_searched,
    prisma_counts,
    pub2_sentence,
    reproduces_published_counts,
    screening_table,
)
from alsmeta.als.screening import screen
from alsmeta.als.tables import load_evidence
from alsmeta.io import figures_dir  # ALSMETA_FIGURES when run by alsmeta reproduce, else figures/
from alsmeta.io.reporting import markdown_table, write_numbers
from alsmeta.plots.forest import forest_plot
from alsmeta.plots.prisma import prisma_flow
from alsmeta.plots.save import save_figure

OUT = figures_dir() / "cochrane_pub2"


def main() -> None:
    warnings.simplefilter("error", RuntimeWarning)
    OUT.mkdir(parents=True, exist_ok=True)
    ev = load_evidence("data")
    scr = screen(REVIEW, "data")
    table = screening_table(ev, scr)
    table.to_csv(OUT / "screening.csv", index=False, lineterminator="\n")
    ongoing = ongoing_trials(table)
    (OUT / "ongoing_trials.md").write_text(
        "# Cochrane CD011742 pub2 (search 21 June 2016): ongoing trials\n\n"
        "The review reports four ongoing trials. Only one ongoing-study table could be retrieved (verified); "
        "the other three are the registered RCTs of cell therapy vs placebo or no treatment that were running or "
        "unpublished at the search date (inferred).\n\n" + markdown_table(ongoing),
        encoding="utf-8",
    )
    counts = prisma_counts(scr)
    outcomes = outcomes_searched(ev.criteria, REVIEW)
    statement = empty_statement(scr.counts["included"], counts.assessed, outcomes, long_date(scr))

    # the empty meta-analysis: k = 0 is a defined result, and its forest plot says so
    empty = am.pool([], [], method="REML", test="knha")
    fig = forest_plot(
        empty,
        title="Cochrane CD011742 (2016): cell-based therapy vs placebo or no treatment",
        effect_label="Effect",
        xlabel="Effect (no outcome data, so no effect measure)",
        favours=("Favours control", "Favours cells"),
        empty_message=f"{scr.counts['included']} studies included: nothing to pool (k = 0).",
        notes=[*statement, f"{scr.counts['ongoing']} ongoing trials identified (see ongoing_trials.md)."],
    )
    save_figure(fig, OUT / "forest_empty")
    fig = prisma_flow(
        counts,
        title="Cochrane CD011742 pub2: search of 21 June 2016",
        caption="Counts not given in the retrievable text of the review are shown as 'not reported'.",
    )
    save_figure(fig, OUT / "prisma")

    write_numbers(
        OUT,
        {
            "figures": figure_entries(scr, script=Path(__file__).name),
            "search_date": scr.search_date.isoformat(),
            "included": scr.counts["included"],
            "ongoing": scr.counts["ongoing"],
            "ongoing_trials": {
                r.study_id: {"registry_id": r.registry_id, "status": r.status_of_record} for r in ongoing.itertuples()
            },
            "reproduces_published_counts": reproduces_published_counts(ev, scr),
            "pooled": {"k": empty.k, "estimate": empty.estimate, "is_empty": empty.is_empty},
            "outcomes_searched": outcomes or "not reported",
            "full_texts_assessed": counts.assessed if counts.assessed is not None else "not reported",
            "empty_forest_statement": statement,
            "readme_sentence": pub2_sentence(scr, ongoing),
            "prisma_not_reported": not_reported(counts),
        },
    )


if __name__ == "__main__":
    main()
