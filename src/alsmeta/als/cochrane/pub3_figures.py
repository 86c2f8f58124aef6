"""The figures of the 2019 update (CD011742 pub3): two RevMan-style multi-outcome forests and the PRISMA flow."""

from __future__ import annotations

from matplotlib.figure import Figure

from alsmeta.als.cochrane.pub3 import ARM_NAMES, FAVOURS, prisma_counts
from alsmeta.als.screening import Screening
from alsmeta.als.tables import Evidence
from alsmeta.plots.forest_multi import OutcomeBlock, multi_outcome_forest
from alsmeta.plots.prisma import prisma_flow

SOURCE = "Data: Oh 2018, Table 3 (arm level). The review's second RCT (Berry 2019, an abstract) gave no usable data."


def continuous_forest(blocks: list[OutcomeBlock]) -> Figure:
    """Every continuous outcome of Oh 2018 as an inverse-variance mean difference, one block per outcome."""
    return multi_outcome_forest(
        blocks,
        measure="MD",
        arm_names=ARM_NAMES,
        favours=FAVOURS,
        xlim=(-8, 8),
        xlabel="Mean difference (unit of each outcome, in its heading)",
        title="Cochrane CD011742 (2019): BM-MSC + riluzole vs riluzole alone, continuous outcomes",
        notes=[
            "Inverse-variance mean difference with unpooled SDs, as a one-study Cochrane analysis.",
            "Outcomes have different units: compare each CI with the line of no effect, not outcomes with each other.",
            "The 4- and 6-month outcomes are nested (same patients, overlapping periods). " + SOURCE,
        ],
    )


def responder_forest(blocks: list[OutcomeBlock]) -> Figure:
    """The responders of Oh 2018 at three thresholds and two time points, as odds ratios."""
    return multi_outcome_forest(
        blocks,
        measure="OR",
        arm_names=ARM_NAMES,
        favours=FAVOURS,
        xlim=(0.1, 200),
        title="Cochrane CD011742 (2019): BM-MSC + riluzole vs riluzole alone, ALSFRS-R responders",
        notes=[
            "Responder: ALSFRS-R slope after treatment improved over the lead-in slope by at least the threshold "
            "(the trial's definition).",
            "Thresholds and time points are nested (the same patients), so the six blocks are not independent. "
            + SOURCE,
        ],
    )


def prisma_figure(ev: Evidence, screening: Screening) -> Figure:
    """The review's PRISMA 2020 flow: the one retrievable count, every other box "not reported"."""
    counts = prisma_counts(ev)
    claim = ev.claim("cochrane_pub3", "studies_included")
    participants = int(float(ev.claim("cochrane_pub3", "participants")["value"]))
    ongoing = screening.ids("ongoing")
    return prisma_flow(
        counts,
        title=f"Cochrane CD011742 pub3: search of {screening.search_date:%d %B %Y}".replace(" 0", " "),
        caption=(
            f"Only the number of included RCTs ({counts.included_studies}, with {participants} participants; review "
            f"abstract, {claim['status']}) was retrievable; every other count is shown as not reported. This "
            f"project's own re-screening at the search date infers {len(ongoing)} ongoing trials; the review's own "
            f"count was not retrievable."
        ),
    )
