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

import pandas as pd

import alsmeta as am
from alsmeta.als.screening import screen
from alsmeta.als.tables import load_evidence
from alsmeta.io import figures_dir  # ALSMETA_FIGURES when run by alsmeta reproduce, else figures/
from alsmeta.io.reporting import figure_entry, markdown_table, write_numbers
from alsmeta.plots.forest import forest_plot
from alsmeta.plots.prisma import PrismaCounts, prisma_flow
from alsmeta.plots.style import save_figure

OUT = figures_dir() / "cochrane_pub2"
REVIEW = "pub2"


def outcomes_searched(criteria: pd.DataFrame, review_version: str) -> list[str]:
    """The outcomes a review version names in its criteria (criterion ``outcome*``); empty when none are recorded."""
    rows = criteria[(criteria.review_version == review_version) & criteria.criterion.str.startswith("outcome")]
    return [v.strip() for value in rows.value for v in str(value).split(";") if v.strip()]


def empty_statement(included: int, assessed: int | None, outcomes: list[str], search_date: str) -> list[str]:
    """The lines the empty forest plot prints: what was looked for and what was found, never a guessed count."""
    n = "N not reported" if assessed is None else f"{included} of {assessed}"
    found = (
        f"{included} studies included ({included} of N full texts assessed met the criteria; {n})"
        if assessed is None
        else f"{included} studies included ({n} full texts assessed met the criteria)"
    )
    looked = (
        "Outcomes searched for: " + "; ".join(outcomes)
        if outcomes
        else "Outcomes searched for: not reported (the review's Methods could not be retrieved; "
        "data/criteria.csv records no outcome criterion)"
    )
    return [
        f"Search {search_date}: RCTs, quasi-RCTs or cluster RCTs of cell-based therapy vs placebo or no additional treatment.",
        looked,
        found,
    ]


def main() -> None:
    warnings.simplefilter("error", RuntimeWarning)
    OUT.mkdir(parents=True, exist_ok=True)
    ev = load_evidence("data")
    scr = screen("pub2", "data")
    records = ev.screening[ev.screening.review_version == "pub2"].set_index("study_id")
    table = scr.table.copy()
    table["status_of_record"] = [records.loc[s, "status"] if s in records.index else "derived" for s in table.study_id]
    table["registry_id"] = [ev.study(s)["registry_id"] for s in table.study_id]
    table = table.drop(columns=["ambiguous"])
    table.to_csv(OUT / "screening.csv", index=False, lineterminator="\n")

    ongoing = table[table.decision == "ongoing"][["study_id", "registry_id", "label", "status_of_record", "basis"]]
    (OUT / "ongoing_trials.md").write_text(
        "# Cochrane CD011742 pub2 (search 21 June 2016): ongoing trials\n\n"
        "The review reports four ongoing trials. Only one ongoing-study table could be retrieved (verified); "
        "the other three are the registered RCTs of cell therapy vs placebo or no treatment that were running or "
        "unpublished at the search date (inferred).\n\n" + markdown_table(ongoing),
        encoding="utf-8",
    )

    counts = PrismaCounts(
        identified={"Databases (Specialised Register, CENTRAL, MEDLINE, Embase)": None, "Trials registers (2)": None},
        duplicates_removed=None,
        screened=None,
        excluded_screening=None,
        sought=None,
        not_retrieved=None,
        assessed=None,
        excluded_full_text=None,
        exclusion_reasons=None,
        included_studies=scr.counts["included"],
        included_reports=0,
        ongoing=scr.counts["ongoing"],
    )
    outcomes = outcomes_searched(ev.criteria, REVIEW)
    statement = empty_statement(
        scr.counts["included"], counts.assessed, outcomes, scr.search_date.strftime("%d %B %Y").lstrip("0")
    )

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

    claim_included = int(float(ev.claim("cochrane_pub2", "studies_included")["value"]))
    claim_ongoing = int(float(ev.claim("cochrane_pub2", "ongoing_trials")["value"]))
    write_numbers(
        OUT,
        {
            "figures": {
                "forest_empty": figure_entry(
                    "What did the 2016 review find when it searched for randomised trials of cell therapy in ALS?",
                    "An empty forest (k = 0): what was searched for and that no study was included; the review's full-text "
                    "count is not reported in its retrievable text.",
                    script=Path(__file__).name,
                ),
                "prisma": figure_entry(
                    "How were the studies of the 2016 review found and selected?",
                    f"PRISMA 2020 flow: {scr.counts['included']} included, {scr.counts['ongoing']} ongoing (published); every "
                    f"count not in the retrievable text is shown as not reported.",
                    script=Path(__file__).name,
                ),
            },
            "search_date": scr.search_date.isoformat(),
            "included": scr.counts["included"],
            "ongoing": scr.counts["ongoing"],
            "ongoing_trials": {
                r.study_id: {"registry_id": r.registry_id, "status": r.status_of_record} for r in ongoing.itertuples()
            },
            "reproduces_published_counts": scr.counts["included"] == claim_included
            and scr.counts["ongoing"] == claim_ongoing,
            "pooled": {"k": empty.k, "estimate": empty.estimate, "is_empty": empty.is_empty},
            "outcomes_searched": outcomes or "not reported",
            "full_texts_assessed": counts.assessed if counts.assessed is not None else "not reported",
            "empty_forest_statement": statement,
            "readme_sentence": (
                f"In 2016 no randomised trial was eligible: applying the review's criteria at its search date "
                f"({scr.search_date.strftime('%d %B %Y').lstrip('0')}) to every known trial gives {scr.counts['included']} included "
                f"studies and the {scr.counts['ongoing']} ongoing trials the review reports "
                f"({sum(r.status_of_record == 'verified' for r in ongoing.itertuples())} confirmed from the review's own table, "
                f"{sum(r.status_of_record != 'verified' for r in ongoing.itertuples())} identified by inference and labelled as such); "
                f"how many full texts the review assessed, and which outcomes it sought, is not reported in its retrievable text."
            ),
            "prisma_not_reported": [
                name
                for name in ("duplicates_removed", "screened", "assessed", "excluded_full_text")
                if getattr(counts, name) is None
            ],
        },
    )


if __name__ == "__main__":
    main()
