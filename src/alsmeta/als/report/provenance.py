"""Provenance of the report's numbers: the rows of ``data/*.csv`` each result was computed from.

Every row of every table in ``data/`` gets an anchor in the report's
provenance page (``<table>-L<line>``, with ``line`` the CSV line as
``alsmeta validate-data`` reports it: the header is line 1). A shown result is
linked to:

1. the published claim's own row of ``claims.csv``;
2. the ``outcomes.csv`` rows its computation read, as the analysis recorded
   them in results.json (``sources``: one record per number read, naming its
   study, outcome, time point, arm and statistic - the record
   :meth:`alsmeta.als.tables.Reported.source` writes); each record must name
   exactly one row holding the recorded value, else the report refuses to build;
3. rows of other tables the computation rests on, given by the caller (the
   screening decisions behind a review's counts);
4. the ``studies.csv`` row of every study the sources name, and of every study
   the shown text names (by its label, e.g. ``Oh 2018``, or its ``study_id``).

Nothing is linked because a number in it equals a number shown: a result whose
computation recorded no rows says so (:attr:`Provenance.recorded`).
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alsmeta.validation import AlsmetaInputError

TABLE_ORDER = (
    "claims",
    "studies",
    "outcomes",
    "qualitative",
    "screening",
    "criteria",
    "timeline",
    "risk_of_bias",
    "source_domains",
)
"""Tables of ``data/`` in the order the provenance page shows them (others follow alphabetically)."""

REQUIRED_TABLES = ("claims", "studies", "outcomes")
"""Tables the report's links need: the published claims, the studies and their reported numbers."""

NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?")
"""A number as printed in a sentence (``-1.54``, ``152``, ``0.74``); digits inside words are not numbers."""


@dataclass(frozen=True)
class DataRow:
    """One row of a table in ``data/``.

    Attributes
    ----------
    table : str
        File name without ``.csv`` (``outcomes``).
    line : int
        CSV line of the row, the header being line 1 (as ``alsmeta validate-data`` reports it).
    cells : tuple of (column, text) pairs
        The row as written, in column order.
    """

    table: str
    line: int
    cells: tuple[tuple[str, str], ...]

    def get(self, column: str) -> str:
        """The text of ``column`` ('' when the table has no such column)."""
        return dict(self.cells).get(column, "")

    @property
    def anchor(self) -> str:
        """The row's anchor in the provenance page, ``<table>-L<line>``."""
        return f"{self.table}-L{self.line}"

    @property
    def name(self) -> str:
        """Short name for a link: ``outcomes.csv:12``."""
        return f"{self.table}.csv:{self.line}"

    @property
    def summary(self) -> str:
        """What the row holds, in a few words (for a link's title)."""
        keys = (
            "synthesis",
            "claim_id",
            "study_id",
            "label",
            "outcome",
            "timepoint",
            "arm",
            "statistic",
            "value",
            "event",
            "date",
            "criterion",
            "review_version",
            "decision",
            "domain",
            "status",
        )
        return " ".join(self.get(k) for k in keys if self.get(k))


def read_data_rows(data_dir: str | Path) -> dict[str, tuple[DataRow, ...]]:
    """Every row of every ``*.csv`` in ``data_dir``, by table name.

    Raises
    ------
    AlsmetaInputError
        If a table of :data:`REQUIRED_TABLES` is missing.
    """
    root = Path(data_dir)
    paths = sorted(root.glob("*.csv"))
    missing = [f"{t}.csv" for t in REQUIRED_TABLES if not (root / f"{t}.csv").is_file()]
    if missing:
        raise AlsmetaInputError(f"{root}: not the alsmeta data folder (no {', '.join(missing)}); pass --data DIR")
    tables: dict[str, tuple[DataRow, ...]] = {}
    for path in paths:
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.reader(handle)
            header = next(reader, [])
            rows = [
                DataRow(path.stem, i + 2, tuple(zip(header, record, strict=True))) for i, record in enumerate(reader)
            ]
        tables[path.stem] = tuple(rows)
    order = [t for t in TABLE_ORDER if t in tables] + sorted(t for t in tables if t not in TABLE_ORDER)
    return {t: tables[t] for t in order}


def numbers_in(text: str) -> list[str]:
    """The numbers printed in ``text``, as printed."""
    return NUMBER.findall(text)


def _as_float(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


SOURCE_KEYS = ("study_id", "outcome", "timepoint", "arm", "statistic")
"""The fields of a ``sources`` record that name one row of ``outcomes.csv`` (with ``source_url`` when several
sources report the same number)."""


@dataclass(frozen=True)
class Provenance:
    """The data rows behind one shown result.

    Attributes
    ----------
    rows : tuple of DataRow
        The claim's row first, then by table and line, each once.
    read_by : mapping of str to tuple of str
        For each ``outcomes.csv`` row (by anchor), the results.json entries whose ``sources`` name it.
    recorded : bool
        Whether the computation recorded the data rows it read (False: the report says so instead of guessing).
    """

    rows: tuple[DataRow, ...]
    read_by: Mapping[str, tuple[str, ...]]
    recorded: bool


class ProvenanceIndex:
    """Finds the rows of ``data/`` behind a shown result (see the module docstring)."""

    def __init__(self, tables: Mapping[str, tuple[DataRow, ...]]) -> None:
        self.tables = dict(tables)
        self._studies = {row.get("study_id"): row for row in self.tables.get("studies", ())}
        # longest label first, so "Petrou 2016" is not read as a shorter label it contains
        self._labels = sorted(
            ((row.get("label"), sid) for sid, row in self._studies.items() if row.get("label")),
            key=lambda pair: -len(pair[0]),
        )
        self._outcomes_by_study: dict[str, list[DataRow]] = {}
        for row in self.tables.get("outcomes", ()):
            self._outcomes_by_study.setdefault(row.get("study_id"), []).append(row)

    def claim_row(self, synthesis: str, claim_id: str) -> DataRow | None:
        """The ``claims.csv`` row of a published claim, or None."""
        for row in self.tables.get("claims", ()):
            if row.get("synthesis") == synthesis and row.get("claim_id") == claim_id:
                return row
        return None

    def study_row(self, study_id: str) -> DataRow | None:
        """The ``studies.csv`` row of ``study_id``, or None."""
        return self._studies.get(study_id)

    def outcome_rows(self, study_id: str) -> list[DataRow]:
        """Every ``outcomes.csv`` row of a study."""
        return list(self._outcomes_by_study.get(study_id, ()))

    def studies_named(self, text: str) -> list[str]:
        """study_ids whose label (``Oh 2018``) or id (``oh2018``) appears in ``text``, in order of appearance."""
        found: dict[str, int] = {}
        masked = text
        for label, sid in self._labels:
            for match in re.finditer(rf"(?<!\w){re.escape(label)}(?!\w)", masked):
                found.setdefault(sid, match.start())
            masked = re.sub(rf"(?<!\w){re.escape(label)}(?!\w)", lambda m: " " * len(m.group()), masked)
        for sid in self._studies:
            hit = re.search(rf"(?<![\w.]){re.escape(sid)}(?!\w)", masked)
            if hit:
                found.setdefault(sid, hit.start())
        return sorted(found, key=lambda sid: found[sid])

    def screening_rows(self, review_version: str) -> list[DataRow]:
        """Every ``screening.csv`` row (a candidate's decision) of one review version (``pub2``)."""
        return [row for row in self.tables.get("screening", ()) if row.get("review_version") == review_version]

    def source_row(self, record: Mapping[str, Any], where: str = "sources") -> DataRow:
        """The one ``outcomes.csv`` row a ``sources`` record of results.json names.

        Raises
        ------
        AlsmetaInputError
            If the record does not name exactly one row, or that row's value is
            not the recorded value (results.json is older than data/).
        """
        missing = [k for k in SOURCE_KEYS if not isinstance(record.get(k), str)]
        if missing:
            raise AlsmetaInputError(
                f"results.json: {where}: a record without {', '.join(missing)} names no data row; "
                "run `alsmeta reproduce` again"
            )
        rows = [
            row
            for row in self.outcome_rows(str(record["study_id"]))
            if all(row.get(k) == record[k] for k in SOURCE_KEYS[1:])
            and ("source_url" not in record or row.get("source_url") == record["source_url"])
        ]
        name = " ".join(str(record[k]) for k in SOURCE_KEYS)
        if len(rows) != 1:
            raise AlsmetaInputError(
                f"results.json: {where}: {name}: {len(rows)} rows of outcomes.csv match; run `alsmeta reproduce` again"
            )
        value, number = record.get("value"), _as_float(rows[0].get("value"))
        if not isinstance(value, (int, float)) or number is None or not math.isclose(number, value, rel_tol=1e-12):
            raise AlsmetaInputError(
                f"results.json: {where}: {name} = {value}, but {rows[0].name} holds {rows[0].get('value')!r}; "
                "run `alsmeta reproduce` again"
            )
        return rows[0]

    def provenance(
        self,
        *,
        claim: DataRow | None = None,
        sources: Mapping[str, Any] | None = None,
        rows: Iterable[DataRow] = (),
        text: str = "",
        study_ids: Iterable[str] = (),
    ) -> Provenance:
        """The data rows behind one shown result.

        Parameters
        ----------
        claim : DataRow, optional
            The published claim's row.
        sources : mapping of str to list, optional
            The ``sources`` lists of the results.json entries the result shows, by their path
            (``{"cochrane_pub3/continuous/alsfrs_r_change_6mo/sources": [...]}``).
        rows : iterable of DataRow
            Other rows the computation read (the screening decisions behind a count).
        text : str
            What the result shows: the ``studies.csv`` rows of the studies it names are linked.
        study_ids : iterable of str
            Further studies the result is about.
        """
        read_by: dict[str, tuple[str, ...]] = {}
        found = list(rows)
        for path, records in (sources or {}).items():
            if not isinstance(records, list):
                raise AlsmetaInputError(f"results.json: {path}: expected a list of data rows")
            for record in records:
                if not isinstance(record, Mapping):
                    raise AlsmetaInputError(f"results.json: {path}: expected records, got {record!r}")
                row = self.source_row(record, path)
                found.append(row)
                read_by[row.anchor] = tuple(dict.fromkeys([*read_by.get(row.anchor, ()), path]))
        recorded = bool(found)
        studies = [row.get("study_id") for row in found if row.table == "outcomes"]
        named = list(dict.fromkeys([*studies, *study_ids, *self.studies_named(text)]))
        found.extend(study for study in map(self.study_row, named) if study is not None)
        order = {name: i for i, name in enumerate(self.tables)}
        ordered = sorted(set(found), key=lambda row: (order.get(row.table, len(order)), row.line))
        shown = ([claim] if claim is not None else []) + [row for row in ordered if row != claim]
        return Provenance(tuple(shown), read_by, recorded)
