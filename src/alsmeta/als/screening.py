"""Eligibility screening of the candidate studies at a review's search date.

The criteria of each review version (``data/criteria.csv``) are applied to the
study table and the dated trial events (``data/timeline.csv``):

1. a study is a candidate if something of it (registration, start, results,
   publication) existed on or before the search date; a record with no date
   at all is a candidate flagged as ambiguous;
2. a design outside the eligible designs excludes it (``design``); a
   within-patient randomisation fails the participant-level unit of
   randomisation (``unit_of_randomisation``); an unknown design leaves it
   awaiting classification;
3. a comparator other than placebo or no additional treatment excludes it;
4. an eligible trial whose results (posted, presented, published or announced)
   appeared by the search date is included, otherwise it is ongoing.

Dates are as precise as their sources (``YYYY``, ``YYYY-MM``, ``YYYY-MM-DD``);
an event is "by the search date" when the whole period it names ends on or
before it, and a year-only date that contains the search date is reported as
ambiguous rather than guessed.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

from alsmeta.als.validate import read_table, text_records
from alsmeta.validation import AlsmetaInputError

RESULT_EVENTS = ("results_posted", "abstract_presented", "published", "topline_reported")
_RANDOMISED = {"rct": "rct", "quasi_rct": "quasi_rct", "cluster_rct": "cluster_rct"}


def date_bounds(text: str) -> tuple[date, date]:
    """First and last day of the period a ``YYYY[-MM[-DD]]`` date names."""
    parts = [int(p) for p in text.split("-")]
    if len(parts) == 1:
        return date(parts[0], 1, 1), date(parts[0], 12, 31)
    if len(parts) == 2:
        last = calendar.monthrange(parts[0], parts[1])[1]
        return date(parts[0], parts[1], 1), date(parts[0], parts[1], last)
    d = date(*parts)
    return d, d


@dataclass(frozen=True)
class Screening:
    """Decisions for every candidate of one review version.

    ``table`` has one row per candidate: study_id, label, design, decision,
    reason, basis (a sentence saying why), ambiguous (True when a date
    straddles the search date).
    """

    review_version: str
    search_date: date
    table: pd.DataFrame

    def ids(self, decision: str) -> list[str]:
        return self.table.loc[self.table["decision"] == decision, "study_id"].tolist()

    @property
    def counts(self) -> dict[str, int]:
        return {
            d: int((self.table["decision"] == d).sum())
            for d in ("included", "ongoing", "excluded", "awaiting_classification")
        }


def _criteria(data_dir: Path, version: str) -> dict[str, str]:
    crit = read_table(data_dir / "criteria.csv")
    rows = crit[crit["review_version"] == version]
    if rows.empty:
        raise AlsmetaInputError(f"review_version: {version!r} has no criteria in criteria.csv")
    return dict(zip(rows["criterion"], rows["value"], strict=True))


def screen(review_version: str, data_dir: str | Path = "data") -> Screening:
    """Apply one review version's criteria to every study at its search date."""
    root = Path(data_dir)
    crit = _criteria(root, review_version)
    search = date.fromisoformat(crit["search_date"])
    designs = set(crit["design"].split(";"))
    comparators = set(crit["comparator"].split(";"))
    studies = read_table(root / "studies.csv")
    timeline = read_table(root / "timeline.csv")
    rows = []
    for study in text_records(studies):
        events = timeline[timeline["study_id"] == study["study_id"]]
        existed, ambiguous = _existed(study, events, search)
        if not existed:
            continue
        decision, reason, basis, amb2 = _decide(study, events, search, designs, comparators, crit)
        rows.append(
            {
                "study_id": study["study_id"],
                "label": study["label"],
                "design": study["design"],
                "decision": decision,
                "reason": reason,
                "basis": basis,
                "ambiguous": ambiguous or amb2,
            }
        )
    return Screening(review_version, search, pd.DataFrame(rows))


def _existed(study: dict[str, str], events: pd.DataFrame, search: date) -> tuple[bool, bool]:
    """Did anything of the study exist by the search date? (existed, ambiguous)."""
    starts = [date_bounds(d) for d in events["date"]]
    if not starts and study["year"]:
        starts = [date_bounds(study["year"])]
    if not starts:
        # no date at all (some registry records): a candidate whose timing is unknown
        return True, True
    earliest_first = min(b[0] for b in starts)
    earliest_last = min(b[1] for b in starts)
    return earliest_first <= search, earliest_first <= search < earliest_last


def _decide(
    study: dict[str, str],
    events: pd.DataFrame,
    search: date,
    designs: set[str],
    comparators: set[str],
    crit: dict[str, str],
) -> tuple[str, str, str, bool]:
    design = study["design"]
    if design == "unknown":
        return "awaiting_classification", "design_unknown", "design not reported in the available sources", False
    if design == "within_patient_randomised" and crit.get("unit_of_randomisation") == "participant":
        return "excluded", "unit_of_randomisation", "randomises body sides within each patient, not patients", False
    if _RANDOMISED.get(design) not in designs:
        return (
            "excluded",
            "design",
            f"design {design!r} is not among the eligible designs ({', '.join(sorted(designs))})",
            False,
        )
    if study["comparator"] not in comparators:
        return "excluded", "comparator", f"comparator {study['comparator'] or 'not reported'!r} is not eligible", False
    results = events[events["event"].isin(RESULT_EVENTS)]
    bounds = [(date_bounds(d), e) for d, e in zip(results["date"], results["event"], strict=True)]
    available = [(b, e) for b, e in bounds if b[1] <= search]
    straddle = any(b[0] <= search < b[1] for b, _ in bounds)
    if available:
        first = min(available, key=lambda x: x[0][1])
        return "included", "", f"results available by the search date ({first[1]} {first[0][0].year})", straddle
    return "ongoing", "", "eligible trial without results by the search date", straddle
