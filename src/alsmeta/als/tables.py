"""Loading the curated evidence and looking up reported statistics.

:func:`load_evidence` validates ``data/`` first (an invalid table never reaches
an analysis) and returns the tables. :meth:`Evidence.statistic` returns one
reported number with its provenance; a number the data marks ``not_found`` -
or that is absent - comes back as a :class:`Reported` with ``value`` NaN and
``missing`` True, so every analysis can say what is missing instead of
failing or guessing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from alsmeta.als.validate import check_data, read_table
from alsmeta.validation import AlsmetaInputError


@dataclass(frozen=True)
class Reported:
    """One reported statistic with where it came from."""

    study_id: str
    outcome: str
    timepoint: str
    arm: str
    statistic: str
    value: float
    relation: str
    status: str
    source_url: str
    location: str
    note: str

    @property
    def missing(self) -> bool:
        return math.isnan(self.value)

    @property
    def is_bound(self) -> bool:
        """True for inequalities such as ``p < 0.001``."""
        return self.relation in ("<", ">")

    def source(self) -> dict[str, str | float]:
        """The data row this number was read from, as ``sources`` records it in results.json.

        Study, outcome, time point, arm and statistic (with the URL, when
        several sources report the same number) name one row of
        ``outcomes.csv``; the report links exactly that row.
        """
        return {
            "study_id": self.study_id,
            "outcome": self.outcome,
            "timepoint": self.timepoint,
            "arm": self.arm,
            "statistic": self.statistic,
            "value": self.value,
            "status": self.status,
            "location": self.location,
            "source_url": self.source_url,
        }

    def describe(self) -> str:
        if self.missing:
            return (
                f"{self.study_id} {self.outcome} ({self.timepoint}) {self.arm} {self.statistic}: not reported/not found"
            )
        rel = "" if self.relation == "=" else self.relation
        return (
            f"{self.study_id} {self.outcome} ({self.timepoint}) {self.arm} {self.statistic} = "
            f"{rel}{self.value:g} [{self.status}; {self.location}]"
        )


@dataclass(frozen=True, eq=False)
class Evidence:
    """The validated tables of ``data/``."""

    studies: pd.DataFrame
    outcomes: pd.DataFrame
    criteria: pd.DataFrame
    screening: pd.DataFrame
    timeline: pd.DataFrame
    claims: pd.DataFrame
    qualitative: pd.DataFrame

    def study(self, study_id: str) -> dict[str, str]:
        rows = self.studies[self.studies["study_id"] == study_id]
        if rows.empty:
            raise AlsmetaInputError(f"study_id: {study_id!r} is not in studies.csv")
        return rows.iloc[0].to_dict()

    def statistic(
        self, study_id: str, outcome: str, timepoint: str, arm: str, statistic: str, source_url: str | None = None
    ) -> Reported:
        """The one reported value for this study/outcome/timepoint/arm/statistic.

        Returns a missing :class:`Reported` when there is no such row or the
        row is ``not_found``; raises when several sources report it and
        ``source_url`` does not say which one to use.
        """
        o = self.outcomes
        rows = o[
            (o.study_id == study_id)
            & (o.outcome == outcome)
            & (o.timepoint == timepoint)
            & (o.arm == arm)
            & (o.statistic == statistic)
        ]
        if source_url is not None:
            rows = rows[rows.source_url == source_url]
        if len(rows) > 1:
            raise AlsmetaInputError(
                f"{study_id} {outcome} ({timepoint}) {arm} {statistic}: {len(rows)} sources report it; pass "
                "source_url= to choose"
            )
        if rows.empty:
            return Reported(
                study_id,
                outcome,
                timepoint,
                arm,
                statistic,
                float("nan"),
                "",
                "absent",
                "",
                "",
                "no row in outcomes.csv",
            )
        r = rows.iloc[0]
        value = float(r["value"]) if r["value"] != "" else float("nan")
        return Reported(
            study_id,
            outcome,
            timepoint,
            arm,
            statistic,
            value,
            r["relation"],
            r["status"],
            r["source_url"],
            r["location"],
            r["note"],
        )

    def claim(self, synthesis: str, claim_id: str) -> dict[str, str]:
        c = self.claims
        rows = c[(c.synthesis == synthesis) & (c.claim_id == claim_id)]
        if rows.empty:
            raise AlsmetaInputError(f"claim: {synthesis}/{claim_id} is not in claims.csv")
        return rows.iloc[0].to_dict()


def load_evidence(data_dir: str | Path = "data") -> Evidence:
    """Validate and load every table of ``data_dir``."""
    root = Path(data_dir)
    check_data(root)
    return Evidence(
        studies=read_table(root / "studies.csv"),
        outcomes=read_table(root / "outcomes.csv"),
        criteria=read_table(root / "criteria.csv"),
        screening=read_table(root / "screening.csv"),
        timeline=read_table(root / "timeline.csv"),
        claims=read_table(root / "claims.csv"),
        qualitative=read_table(root / "qualitative.csv"),
    )


@dataclass(frozen=True, eq=False)
class ArmData:
    """Per-study arm statistics gathered for one comparison, with what is missing.

    ``values`` maps a statistic name (``mean1``, ``sd1``, ``n1``, ``mean2``,
    ...) to a list with one :class:`Reported` per study in ``study_ids``;
    ``usable`` marks the studies for which every needed number is reported.
    """

    study_ids: tuple[str, ...]
    labels: tuple[str, ...]
    values: dict[str, list[Reported]]
    usable: tuple[bool, ...]

    def column(self, name: str) -> list[float]:
        return [r.value for r, ok in zip(self.values[name], self.usable, strict=True) if ok]

    def used_labels(self) -> list[str]:
        return [lab for lab, ok in zip(self.labels, self.usable, strict=True) if ok]

    def missing(self) -> list[str]:
        """Plain statements of every number that is needed but not available."""
        out: list[str] = []
        for reps in self.values.values():
            out.extend(r.describe() for r in reps if r.missing)
        return out

    def sources(self) -> list[dict[str, str | float]]:
        """Provenance of every number used (for figures/*/numbers.json)."""
        return [r.source() for reps in self.values.values() for r, ok in zip(reps, self.usable, strict=True) if ok]


def gather_arms(
    evidence: Evidence,
    studies: list[tuple[str, str]],
    outcome: str,
    arms: tuple[str, str],
    statistics: tuple[str, ...],
) -> ArmData:
    """Collect ``statistics`` for two arms of each ``(study_id, timepoint)``.

    ``arms`` names the treatment and control arm (e.g. ``("msc", "control")``);
    the result's keys are the statistic names suffixed with 1 (treatment) and
    2 (control), e.g. ``mean1``, ``sd2``.
    """
    values: dict[str, list[Reported]] = {f"{s}{i}": [] for i in (1, 2) for s in statistics}
    for study_id, timepoint in studies:
        for i, arm in enumerate(arms, start=1):
            for s in statistics:
                values[f"{s}{i}"].append(evidence.statistic(study_id, outcome, timepoint, arm, s))
    usable = tuple(all(not values[k][j].missing for k in values) for j in range(len(studies)))
    labels = tuple(evidence.study(sid)["label"] for sid, _ in studies)
    return ArmData(tuple(s for s, _ in studies), labels, values, usable)
