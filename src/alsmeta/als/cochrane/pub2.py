"""The 2016 review (CD011742 pub2, search 21 June 2016): the empty review.

The pub2 criteria (RCTs, quasi-RCTs and cluster RCTs of cell-based therapy vs
placebo or no additional treatment, co-interventions equal in both groups),
applied at the search date to every candidate in ``data/``, must give zero
included studies and four ongoing trials: one verified from the review's own
ongoing-study table, three inferred and named as such. Every PRISMA count the
review's retrievable text does not give stays ``None`` ("not reported").
"""

from __future__ import annotations

import pandas as pd

from alsmeta.als.screening import Screening
from alsmeta.als.tables import Evidence
from alsmeta.io.reporting import figure_entry
from alsmeta.plots.prisma import PrismaCounts

REVIEW = "pub2"


def long_date(screening: Screening) -> str:
    """The search date as the review writes it ("21 June 2016", no leading zero)."""
    return screening.search_date.strftime("%d %B %Y").lstrip("0")


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
        "Search "
        + search_date
        + ": RCTs, quasi-RCTs or cluster RCTs of cell-based therapy vs placebo or no additional treatment.",
        looked,
        found,
    ]


def screening_table(ev: Evidence, screening: Screening) -> pd.DataFrame:
    """Every candidate's decision with the status of its screening record and its registry id.

    ``status_of_record`` is the status of the row in ``data/screening.csv``
    (``verified`` from the review's own table, ``inferred``), or ``derived``
    for a candidate the review's records do not name.
    """
    records = ev.screening[ev.screening.review_version == REVIEW].set_index("study_id")
    table = screening.table.copy()
    table["status_of_record"] = [records.loc[s, "status"] if s in records.index else "derived" for s in table.study_id]
    table["registry_id"] = [ev.study(s)["registry_id"] for s in table.study_id]
    return table.drop(columns=["ambiguous"])


def ongoing_trials(table: pd.DataFrame) -> pd.DataFrame:
    """The ongoing trials of :func:`screening_table`, with what identifies them and how each is known."""
    return table[table.decision == "ongoing"][["study_id", "registry_id", "label", "status_of_record", "basis"]]


def prisma_counts(screening: Screening) -> PrismaCounts:
    """PRISMA 2020 counts of the 2016 review: only the included and ongoing counts are known."""
    return PrismaCounts(
        identified={"Databases (Specialised Register, CENTRAL, MEDLINE, Embase)": None, "Trials registers (2)": None},
        duplicates_removed=None,
        screened=None,
        excluded_screening=None,
        sought=None,
        not_retrieved=None,
        assessed=None,
        excluded_full_text=None,
        exclusion_reasons=None,
        included_studies=screening.counts["included"],
        included_reports=0,
        ongoing=screening.counts["ongoing"],
    )


def reproduces_published_counts(ev: Evidence, screening: Screening) -> bool:
    """Whether the re-screening gives the review's published included and ongoing counts (``data/claims.csv``)."""
    claim_included = int(float(ev.claim("cochrane_pub2", "studies_included")["value"]))
    claim_ongoing = int(float(ev.claim("cochrane_pub2", "ongoing_trials")["value"]))
    return screening.counts["included"] == claim_included and screening.counts["ongoing"] == claim_ongoing


def pub2_sentence(screening: Screening, ongoing: pd.DataFrame) -> str:
    """The sentence a README prints for the 2016 review, each count from the re-screening."""
    verified = sum(r.status_of_record == "verified" for r in ongoing.itertuples())
    inferred = sum(r.status_of_record != "verified" for r in ongoing.itertuples())
    return (
        f"In 2016 no randomised trial was eligible: applying the review's criteria at its search date "
        f"({long_date(screening)}) to every known trial gives {screening.counts['included']} included "
        f"studies and the {screening.counts['ongoing']} ongoing trials the review reports "
        f"({verified} confirmed from the review's own table, "
        f"{inferred} identified by inference and labelled as such); "
        f"how many full texts the review assessed, and which outcomes it sought, is not reported in its "
        f"retrievable text."
    )


def not_reported(counts: PrismaCounts) -> list[str]:
    """The PRISMA boxes of the 2016 review drawn as "not reported"."""
    return [
        name
        for name in ("duplicates_removed", "screened", "assessed", "excluded_full_text")
        if getattr(counts, name) is None
    ]


def figure_entries(screening: Screening, script: str) -> dict[str, dict[str, str]]:
    """The figures of the 2016 analysis, each with the question it answers (for figures/README.md)."""
    return {
        "forest_empty": figure_entry(
            "What did the 2016 review find when it searched for randomised trials of cell therapy in ALS?",
            "An empty forest (k = 0): what was searched for and that no study was included; the review's full-text "
            "count is not reported in its retrievable text.",
            script=script,
        ),
        "prisma": figure_entry(
            "How were the studies of the 2016 review found and selected?",
            f"PRISMA 2020 flow: {screening.counts['included']} included, {screening.counts['ongoing']} ongoing "
            f"(published); every count not in the retrievable text is shown as not reported.",
            script=script,
        ),
    }
