"""The study flow of the living update: PRISMA 2020 counts from this project's own screening (no new search).

Every candidate study (every study in the evidence notes, ``data/studies.csv``)
is assessed against the pub3 criteria from its records; record-level
screening and report retrieval were not done as separate steps, so those
counts are ``None`` ("not reported"), never filled in.
"""

from __future__ import annotations

from typing import Any

from alsmeta.als.screening import Screening
from alsmeta.plots.prisma import PrismaCounts

EXCLUSION_REASONS = {
    "design": "Not a randomised trial",
    "unit_of_randomisation": "Randomised within patients (body sides), not patients",
    "comparator": "Comparator not placebo or no additional treatment",
}
"""The PRISMA box text of each exclusion reason of :func:`alsmeta.als.screening.screen`."""


def prisma_counts(screening: Screening) -> PrismaCounts:
    """PRISMA 2020 counts of the living update, from its own screening (no new database search)."""
    table = screening.table
    excluded = table[table.decision == "excluded"]
    reasons = excluded.reason.value_counts()
    return PrismaCounts(
        identified={"Studies named in this project's evidence notes (no new database search)": len(table)},
        assessed=len(table),
        excluded_full_text=len(excluded),
        exclusion_reasons={EXCLUSION_REASONS.get(r, r): int(reasons[r]) for r in sorted(reasons.index)},
        included_studies=screening.counts["included"],
        ongoing=screening.counts["ongoing"],
        awaiting_classification=screening.counts["awaiting_classification"],
    )


def prisma_numbers(screening: Screening) -> dict[str, Any]:
    """The counts the living update's PRISMA diagram shows, and the boxes drawn as "not reported"."""
    counts = prisma_counts(screening)
    return {
        "candidates": len(screening.table),
        "assessed": counts.assessed,
        "excluded": counts.excluded_full_text,
        "exclusion_reasons": dict(counts.exclusion_reasons or {}),
        "included": counts.included_studies,
        "ongoing": counts.ongoing,
        "awaiting_classification": counts.awaiting_classification,
        "not_reported": [
            f
            for f in (
                "duplicates_removed",
                "screened",
                "excluded_screening",
                "sought",
                "not_retrieved",
                "included_reports",
            )
            if getattr(counts, f) is None
        ],
    }
