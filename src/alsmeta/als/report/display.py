"""How the report prints a result: numbers as printed, intervals, and links to data rows.

Shared by the report's sections (:mod:`builder` and :mod:`brief`); nothing here
computes a statistic.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from alsmeta.als.report.provenance import DataRow
from alsmeta.io.reporting import format_stored

PROVENANCE_NAME = "provenance.html"

NUMBER_FORMAT = ".2f"
"""How the page prints a number that is not whole."""


@dataclass(frozen=True)
class Link:
    """A link from a shown result to one data row (``origin``: the results.json entries that read it)."""

    href: str
    text: str
    title: str
    origin: str = ""


def links_to(rows: list[DataRow]) -> list[Link]:
    """A link to each row's anchor on the provenance page, named ``table.csv:line``."""
    return [Link(f"{PROVENANCE_NAME}#{row.anchor}", row.name, row.summary) for row in rows]


def lookup(results: Mapping[str, Any], path: str) -> Any:
    """The entry of results.json at ``a/b/c``, or None when any key on the way is missing."""
    node: Any = results
    for key in path.split("/"):
        if not isinstance(node, Mapping) or key not in node:
            return None
        node = node[key]
    return node


def fmt(value: Any) -> str:
    """A number as the page prints it: whole numbers as integers, others to 2 decimals; missing as 'not reported'.

    A float is printed with :func:`alsmeta.io.reporting.format_stored`, so its
    digits are those of the analysis's unrounded value (results.json stores a
    whole number only for a whole value).
    """
    if value is None:
        return "not reported"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        return str(int(value)) if float(value).is_integer() else format_stored(value, NUMBER_FORMAT)
    if isinstance(value, list):
        return ", ".join(fmt(v) for v in value)
    return str(value)


def interval(estimate: Any, low: Any, high: Any) -> str:
    """``estimate (low to high)``; the estimate alone when a limit is missing; 'not estimable' without estimate."""
    if estimate is None:
        return "not estimable"
    if low is None or high is None:
        return fmt(estimate)
    return f"{fmt(estimate)} ({fmt(low)} to {fmt(high)})"
