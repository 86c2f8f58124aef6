"""Cochrane CD011742 pub2 (2016): the empty review.

Applies the pub2 eligibility criteria (RCTs, quasi-RCTs and cluster RCTs of
cell-based therapy vs placebo or no additional treatment, co-interventions
equal in both groups) at the 21 June 2016 search date to every candidate in
data/. The result must be zero included studies and four ongoing trials; one
of the four is verified from the review's own ongoing-study table, three are
inferred (the review's other tables could not be retrieved) and are named as
such. Draws the empty forest plot and the PRISMA 2020 diagram, in which every
count the review's available text does not give is shown as "not reported".
Writes into figures/cochrane_pub2/.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import alsmeta as am
from alsmeta.evidence.screening import screen
from alsmeta.evidence.tables import load_evidence
from alsmeta.plots.forest import forest_plot
from alsmeta.plots.prisma import PrismaCounts, prisma_flow
from alsmeta.plots.style import save_figure
from alsmeta.reporting import markdown_table, write_numbers

from alsmeta.io import figures_dir  # ALSMETA_FIGURES when run by alsmeta reproduce, else figures/
OUT = figures_dir() / "cochrane_pub2"


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

    # the empty meta-analysis: k = 0 is a defined result, and its forest plot says so
    empty = am.pool([], [], method="REML", test="knha")
    fig = forest_plot(empty, title="Cochrane CD011742 (2016): cell-based therapy vs placebo or no treatment",
                      effect_label="Mean difference", favours=("Favours control", "Favours cells"),
                      empty_message="No study met the inclusion criteria (search 21 June 2016): 0 RCTs, 4 ongoing trials.")
    save_figure(fig, OUT / "forest_empty")

    counts = PrismaCounts(
        identified={"Databases (Specialised Register, CENTRAL, MEDLINE, Embase)": None, "Trials registers (2)": None},
        duplicates_removed=None, screened=None, excluded_screening=None, sought=None, not_retrieved=None,
        assessed=None, excluded_full_text=None, exclusion_reasons=None,
        included_studies=scr.counts["included"], included_reports=0, ongoing=scr.counts["ongoing"],
    )
    fig = prisma_flow(counts, title="Cochrane CD011742 pub2: search of 21 June 2016",
                      caption="Counts not given in the retrievable text of the review are shown as 'not reported'.")
    save_figure(fig, OUT / "prisma")

    claim_included = int(float(ev.claim("cochrane_pub2", "studies_included")["value"]))
    claim_ongoing = int(float(ev.claim("cochrane_pub2", "ongoing_trials")["value"]))
    write_numbers(OUT, {
        "search_date": scr.search_date.isoformat(),
        "included": scr.counts["included"],
        "ongoing": scr.counts["ongoing"],
        "ongoing_trials": {r.study_id: {"registry_id": r.registry_id, "status": r.status_of_record} for r in ongoing.itertuples()},
        "reproduces_published_counts": scr.counts["included"] == claim_included and scr.counts["ongoing"] == claim_ongoing,
        "pooled": {"k": empty.k, "estimate": empty.estimate, "is_empty": empty.is_empty},
        "prisma_not_reported": [name for name in ("duplicates_removed", "screened", "assessed", "excluded_full_text") if getattr(counts, name) is None],
    })


if __name__ == "__main__":
    main()
