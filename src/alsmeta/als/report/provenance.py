"""Provenance of the report's numbers: the rows of ``data/*.csv`` each result rests on.

Every row of every table in ``data/`` gets an anchor in the report's
provenance page (``<table>-L<line>``, with ``line`` the CSV line as
``alsmeta validate-data`` reports it: the header is line 1). A shown result is
linked to the rows it rests on, found in four ways, strongest first:

1. the published claim's own row of ``claims.csv``;
2. the ``sources`` records that the analyses store beside an estimate in
   ``results.json`` (study, statistic, value and URL of each input number),
   matched exactly to rows of ``outcomes.csv``;
3. the ``studies.csv`` row of every study the shown text names (by its label,
   e.g. ``Oh 2018``, or its ``study_id``);
4. only when 2. found nothing: rows of ``outcomes.csv`` of those studies whose
   value equals a number of the result's entry in results.json (e.g. the event
   counts and arm sizes behind a risk ratio).

A number computed by us therefore links to the raw rows it was computed from;
the analysis script named beside each figure says how.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Iterable, Iterator, Mapping
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


def _same(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


COUNT_KEYS = frozenset({"k", "df", "q_df", "seed"})
"""Keys whose numbers describe an analysis, not a reported value (never matched to data rows by value)."""


def numeric_leaves(node: Any) -> Iterator[float]:
    """Every number (not bool) under a JSON node, except under ``sources`` and :data:`COUNT_KEYS`."""
    if isinstance(node, bool):
        return
    if isinstance(node, (int, float)):
        yield float(node)
    elif isinstance(node, Mapping):
        for key, value in node.items():
            if key != "sources" and key not in COUNT_KEYS:
                yield from numeric_leaves(value)
    elif isinstance(node, list):
        for value in node:
            yield from numeric_leaves(value)


def source_entries(node: Any, path: str = "") -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every dict under ``node`` that carries a ``sources`` list, with its key path."""
    if isinstance(node, Mapping):
        if isinstance(node.get("sources"), list):
            yield path, node
        for key, value in node.items():
            if key != "sources":
                yield from source_entries(value, f"{path}/{key}" if path else str(key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from source_entries(value, f"{path}/{i}")


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

    def source_rows(self, record: Mapping[str, Any]) -> list[DataRow]:
        """The ``outcomes.csv`` rows that one ``sources`` record of results.json names."""
        value = record.get("value")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return []
        statistic = str(record.get("statistic", ""))
        out = []
        for row in self.outcome_rows(str(record.get("study_id", ""))):
            number = _as_float(row.get("value"))
            if number is None or not _same(number, float(value)):
                continue
            if row.get("source_url") != record.get("source_url", row.get("source_url")):
                continue
            if statistic not in (row.get("statistic"), f"{row.get('arm')} {row.get('statistic')}"):
                continue
            if any(k in record and str(record[k]) != row.get(k) for k in ("arm", "outcome", "timepoint")):
                continue
            out.append(row)
        return out

    def screening_rows(self, review_version: str) -> list[DataRow]:
        """Every ``screening.csv`` row (a candidate's decision) of one review version (``pub2``)."""
        return [row for row in self.tables.get("screening", ()) if row.get("review_version") == review_version]

    def entry_rows(self, records: Iterable[Any]) -> list[DataRow]:
        """The ``outcomes.csv`` rows behind one estimate's ``sources`` records.

        A record that names no outcome and time point (``{"statistic": "msc n",
        "value": 32, ...}``) can match several rows (the same n is printed for
        every outcome of a table); the rows kept are those of the outcome and
        time point that the most records of the estimate share.
        """
        candidates = [self.source_rows(r) for r in records if isinstance(r, Mapping)]
        counts: dict[tuple[str, str], int] = {}
        for rows in candidates:
            for key in {(row.get("outcome"), row.get("timepoint")) for row in rows}:
                counts[key] = counts.get(key, 0) + 1
        out: list[DataRow] = []
        for rows in candidates:
            if len(rows) > 1:
                best = max(counts.get((r.get("outcome"), r.get("timepoint")), 0) for r in rows)
                rows = [r for r in rows if counts.get((r.get("outcome"), r.get("timepoint")), 0) == best]
            out.extend(rows)
        return out

    def rows_with_values(self, study_ids: Iterable[str], values: Iterable[float]) -> list[DataRow]:
        """``outcomes.csv`` rows of ``study_ids`` whose value equals one of ``values``."""
        wanted = list(values)
        out = []
        for sid in study_ids:
            for row in self.outcome_rows(sid):
                number = _as_float(row.get("value"))
                if number is not None and any(_same(number, v) for v in wanted):
                    out.append(row)
        return out

    def review_rows_with_values(self, text: str, values: Iterable[float]) -> list[DataRow]:
        """``claims.csv`` rows of a review that ``text`` names (``Aljabri et al. 2021`` for ``aljabri2021``)
        whose value equals one of ``values``."""
        wanted = list(values)
        out = []
        for row in self.tables.get("claims", ()):
            number = _as_float(row.get("value"))
            if (
                number is not None
                and _names_synthesis(text, row.get("synthesis"))
                and any(_same(number, v) for v in wanted)
            ):
                out.append(row)
        return out

    def rows_for(
        self,
        *,
        text: str = "",
        subtree: Any = None,
        claim: DataRow | None = None,
        results: Mapping[str, Any] | None = None,
        study_ids: Iterable[str] = (),
    ) -> list[DataRow]:
        """The data rows behind one shown result: the claim row first, then by table and line, no repeats.

        Parameters
        ----------
        text : str
            Everything the result shows, as text (study labels and numbers are read from it).
        subtree : JSON node, optional
            The part of results.json the result comes from; its ``sources``
            records and its numbers are used.
        claim : DataRow, optional
            The published claim's row.
        results : mapping, optional
            The whole of results.json: estimates elsewhere that carry
            ``sources``, are of a study the text names and whose value the
            text shows, are linked too.
        study_ids : iterable of str
            Studies the result is known to rest on, besides those the text names.
        """
        rows: list[DataRow] = []
        entries = list(source_entries(subtree)) if subtree is not None else []
        named = list(dict.fromkeys([*study_ids, *self.studies_named(text)]))
        shown = [v for v in (_as_float(t) for t in numbers_in(text)) if v is not None]
        if results is not None:
            for _, entry in source_entries(results):
                studies = {str(s.get("study_id")) for s in entry["sources"] if isinstance(s, Mapping)}
                if studies & set(named) and _shows_value(entry, shown):
                    entries.append(("", entry))
        for _, entry in entries:
            rows.extend(self.entry_rows(entry["sources"]))
        if not rows and subtree is not None:
            values = list(numeric_leaves(subtree))
            rows.extend(self.rows_with_values(named, values))
            rows.extend(self.review_rows_with_values(text, values))
        rows.extend(study for study in map(self.study_row, named) if study is not None)
        order = {name: i for i, name in enumerate(self.tables)}
        ordered = sorted(set(rows), key=lambda row: (order.get(row.table, len(order)), row.line))
        return ([claim] if claim is not None else []) + [row for row in ordered if row != claim]


def _names_synthesis(text: str, synthesis: str) -> bool:
    """Whether ``text`` names a synthesis id such as ``aljabri2021`` (its author and its year, as words)."""
    match = re.fullmatch(r"([a-z_]+?)_?(\d{4})", synthesis)
    if match is None:
        return False
    author, year = match.group(1).replace("_", " "), match.group(2)
    return bool(re.search(rf"(?<!\w){re.escape(author)}(?!\w)", text, re.IGNORECASE)) and year in numbers_in(text)


def _shows_value(entry: Mapping[str, Any], shown: list[float]) -> bool:
    """Whether a headline value of a ``sources``-carrying estimate is printed (to 2 decimals) among ``shown``."""
    for key in ("yi", "estimate", "md"):
        value = entry.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            printed = float(f"{value:.2f}")
            if any(_same(printed, s) for s in shown):
                return True
    return False
