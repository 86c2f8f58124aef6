"""The links a shown result gets: one per data row its computation read, or a note that it recorded none."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from alsmeta.als.report.display import Link, links_to
from alsmeta.als.report.provenance import Provenance

NOT_RECORDED = "no data rows recorded by this computation"
"""Shown (unlinked) beside a result whose analysis wrote no ``sources``: the report does not guess its rows."""


def provenance_links(provenance: Provenance) -> list[Link]:
    """A link to each row of ``provenance``, then :data:`NOT_RECORDED` (unlinked) if the computation recorded no rows.

    An outcome row's link names, in ``origin``, the results.json entries whose ``sources`` read it (a JSON list of
    paths; the page shows it as ``data-read-by``).
    """
    rows = list(provenance.rows)
    links = [
        replace(
            link, origin=json.dumps(list(provenance.read_by[row.anchor])) if row.anchor in provenance.read_by else ""
        )
        for row, link in zip(rows, links_to(rows), strict=True)
    ]
    return links + ([] if provenance.recorded else [Link("", NOT_RECORDED, "")])


def recorded_sources(path: str, entry: Any) -> dict[str, Any]:
    """``{"<path>/sources": entry["sources"]}`` for
    :meth:`alsmeta.als.report.provenance.ProvenanceIndex.provenance`; empty when the entry recorded none."""
    if isinstance(entry, Mapping) and "sources" in entry:
        return {f"{path}/sources": entry["sources"]}
    return {}
