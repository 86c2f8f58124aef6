"""Build the reproduction as one web page: ``report/index.html`` and its provenance page.

Everything the page shows comes from ``figures/results.json`` (the numbers,
verdicts, captions and sentences the analyses wrote) and from ``data/*.csv``
(the published claims' own wording and values, and the provenance rows). The
builder computes no statistic; the only thing it decides is whether a
reproduced count equals the published one. Figures are copied next to the page,
so the folder works offline and from a ``file://`` URL.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from alsmeta.als.report.brief import build_brief
from alsmeta.als.report.display import PROVENANCE_NAME, fmt, interval, links_to, lookup
from alsmeta.als.report.links import provenance_links, recorded_sources
from alsmeta.als.report.provenance import Provenance, ProvenanceIndex, read_data_rows
from alsmeta.io import write_text
from alsmeta.validation import AlsmetaInputError

INDEX_NAME = "index.html"
FIGURES_SUBDIR = "figures"

SYNTHESES = {
    "cochrane_pub2": ("Cochrane CD011742, 2016 (pub2)", "cochrane_pub2"),
    "cochrane_pub3": ("Cochrane CD011742, 2019 (pub3)", "cochrane_pub3"),
}
"""Cochrane review versions shown: title and their analysis key in results.json."""

COCHRANE_RESULT_PATHS = {
    ("cochrane_pub2", "studies_included"): "cochrane_pub2/included",
    ("cochrane_pub2", "ongoing_trials"): "cochrane_pub2/ongoing",
    ("cochrane_pub3", "studies_included"): "cochrane_pub3/included_count",
    ("cochrane_pub3", "participants"): "cochrane_pub3/participants_in_included_rcts",
    ("cochrane_pub3", "studies_with_data"): "cochrane_pub3/studies_with_data",
    ("cochrane_pub3", "alsfrs_6mo_slight_improvement"): "cochrane_pub3/continuous/alsfrs_r_change_6mo",
    ("cochrane_pub3", "no_difference_respiratory_survival_ae"): "cochrane_pub3/continuous/fvc_pct_change_4mo",
}
"""Which entry of results.json reproduces each published Cochrane claim of claims.csv."""

SECTION_TITLES = {
    "claims": "Public claims: simulations",
    "cochrane_living_2026": "Living update of the Cochrane review (2026)",
    "cochrane_pub2": "Cochrane review, 2016",
    "cochrane_pub3": "Cochrane review, 2019",
    "definitive_trial": "What a definitive trial needs",
    "gallery": "Method gallery",
    "msc2021": "Morata-Tarifa et al. 2021, rebuilt",
    "stress": "Stress tests of the pre-post design",
    "summary": "Summary of findings",
}
"""Headings of the figure sections, by analysis folder (a folder not listed shows its own name)."""


TRIAL_SECTION = "figs-definitive_trial"
"""Anchor of the figures on what a definitive trial needs (the 'In brief' section links down to it)."""

SOF_SECTIONS = {"alsfrs": "ALSFRS-R change", "fvc": "FVC change", "safety": "Harms"}
"""Readable names of the summary-of-findings sections of results.json (summary/rows/*/section)."""


def load_results(figures_dir: str | Path) -> dict[str, Any]:
    """``figures_dir/results.json``, or a one-line error saying how to make it."""
    path = Path(figures_dir) / "results.json"
    if not path.is_file():
        raise AlsmetaInputError(f"{path}: not found; run `alsmeta reproduce` (or `make reproduce`) first")
    try:
        results = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise AlsmetaInputError(
            f"{path}: not valid JSON ({exc.msg}, line {exc.lineno}); run `alsmeta reproduce` again"
        ) from None
    if not isinstance(results, dict):
        raise AlsmetaInputError(f"{path}: expected a JSON object of analyses")
    return results


def _msc2021_claims(results: Mapping[str, Any], index: ProvenanceIndex) -> list[dict[str, Any]]:
    msc = results.get("msc2021", {})
    components = msc.get("claims", {})
    verdicts = msc.get("verdicts", {})
    claims = []
    for row in index.tables.get("claims", ()):
        if row.get("synthesis") != "msc2021":
            continue
        cid = row.get("claim_id")
        parts = []
        for key, part in components.items():
            if key.split("|", 1)[0] != cid:
                continue
            component = key.split("|", 1)[1]
            shown = " ".join(str(part.get(k, "")) for k in ("shows", "reason", "agreement"))
            parts.append(
                {
                    "component": component,
                    "shows": part.get("shows", ""),
                    "verdict": part.get("verdict", ""),
                    "analysis": part.get("analysis", ""),
                    "reason": part.get("reason", ""),
                    "agreement": part.get("agreement", ""),
                    "links": provenance_links(
                        index.provenance(claim=row, sources=recorded_sources(f"msc2021/claims/{key}", part), text=shown)
                    ),
                }
            )
        parts.sort(key=lambda part: _part_order(part["component"]))
        for number, part in enumerate(parts, start=1):
            part["anchor"] = f"msc2021-{cid}-part{number}"
        claims.append(
            {
                "id": cid,
                "claim": row.get("claim"),
                "published": row.get("value"),
                "claim_link": links_to([row])[0],
                "verdict": verdicts.get(cid, "not assessed"),
                "parts": parts,
                "bookkeeping": row.get("quantity") == "count",
            }
        )
    # what the evidence shows about benefit and harm first, the search's and cohort's counts after
    # (a stable sort: each group keeps the order of claims.csv)
    claims.sort(key=lambda claim: claim["bookkeeping"])
    return claims


def _cochrane_claims(results: Mapping[str, Any], index: ProvenanceIndex) -> list[dict[str, Any]]:
    reviews = []
    for synthesis, (title, key) in SYNTHESES.items():
        analysis = results.get(key, {})
        rows = []
        for row in index.tables.get("claims", ()):
            if row.get("synthesis") != synthesis:
                continue
            path = COCHRANE_RESULT_PATHS.get((synthesis, row.get("claim_id")))
            found = lookup(results, path) if path else None
            if isinstance(found, Mapping) and "md" in found:
                md_ci = interval(found["md"], found.get("ci_low"), found.get("ci_high"))
                shown = (
                    f"{found.get('title', '')}: MD {md_ci} {found.get('unit', '')}, "
                    f"{fmt(found.get('participants'))} participants"
                )
                check = "see the reproduced estimate"
            elif found is None:
                shown, check = "not reproduced", "not assessable"
            else:
                shown = _with_studies(index, found) if isinstance(found, list) else fmt(found)
                published = row.get("value")
                if row.get("quantity") == "count" and published:
                    count = len(found) if isinstance(found, list) else found
                    if not isinstance(count, (int, float)):
                        raise AlsmetaInputError(f"results.json: {path}: a count, got {type(count).__name__}")
                    check = "matches" if float(count) == float(published) else "differs"
                else:
                    check = "see the reproduced value"
            # the counts follow from each candidate's screening decision for this review version
            screened = [] if isinstance(found, Mapping) else index.screening_rows(synthesis.removeprefix("cochrane_"))
            rows.append(
                {
                    "claim": row.get("claim"),
                    "published": row.get("value"),
                    "claim_link": links_to([row])[0],
                    "reproduced": shown,
                    "check": check,
                    "links": provenance_links(
                        index.provenance(rows=screened, sources=recorded_sources(str(path), found), text=shown)
                    ),
                }
            )
        sentence = analysis.get("readme_sentence", "")
        reviews.append(
            {
                "title": title,
                "anchor": synthesis.replace("_", "-"),
                "sentence": sentence,
                "claims": rows,
                "sentence_links": provenance_links(_sentence_provenance(index, synthesis, key, analysis)),
            }
        )
    return reviews


def _with_studies(index: ProvenanceIndex, study_ids: list[Any]) -> str:
    """A reproduced list of studies as a count with their labels: ``1 (Oh 2018)``."""
    labels = []
    for sid in study_ids:
        study = index.study_row(str(sid))
        labels.append(study.get("label") if study is not None else str(sid))
    return f"{len(labels)} ({', '.join(labels)})" if labels else "0"


def _sentence_provenance(index: ProvenanceIndex, synthesis: str, key: str, analysis: Mapping[str, Any]) -> Provenance:
    """Rows behind a review's summary sentence: its published claims, its screening decisions, the data rows of
    the numbers it prints (``readme_sentence_sources``) and the studies it names."""
    claims = [row for row in index.tables.get("claims", ()) if row.get("synthesis") == synthesis]
    sources = {}
    if "readme_sentence_sources" in analysis:
        sources[f"{key}/readme_sentence_sources"] = analysis["readme_sentence_sources"]
    return index.provenance(
        rows=claims + index.screening_rows(synthesis.removeprefix("cochrane_")),
        sources=sources,
        text=str(analysis.get("readme_sentence", "")),
    )


def _public_claims(results: Mapping[str, Any], index: ProvenanceIndex) -> list[dict[str, Any]]:
    out = []
    for cid, entry in sorted(results.get("public_claims", {}).items()):
        row = index.claim_row("public", cid)
        key_numbers = entry.get("key_numbers", {})
        numbers = [{"name": k.replace("_", " "), "value": fmt(v)} for k, v in sorted(key_numbers.items())]
        text = " ".join([row.get("claim") if row else "", entry.get("reason", "")])
        out.append(
            {
                "id": cid,
                "claim": row.get("claim") if row else cid,
                "verdict": entry.get("verdict", ""),
                "reason": entry.get("reason", ""),
                "numbers": numbers,
                "claim_link": links_to([row])[0] if row else None,
                "links": provenance_links(
                    index.provenance(claim=row, sources=recorded_sources(f"public_claims/{cid}", entry), text=text)
                ),
            }
        )
    return out


def _summary_of_findings(results: Mapping[str, Any], index: ProvenanceIndex) -> dict[str, Any]:
    summary = results.get("summary", {})
    rows = []
    for key, row in summary.get("rows", {}).items():
        text = " ".join(fmt(row.get(k)) for k in ("trials", "effect", "note", "participants"))
        rows.append(
            {
                "section": SOF_SECTIONS.get(row.get("section", ""), row.get("section", "")),
                "outcome": row.get("outcome", ""),
                "trials": row.get("trials", ""),
                "k": fmt(row.get("k")),
                "participants": fmt(row.get("participants")),
                "effect": f"{row.get('measure', '')} {row.get('effect', '')}",
                "certainty": row.get("certainty", ""),
                "note": row.get("note", ""),
                "links": provenance_links(
                    index.provenance(sources=recorded_sources(f"summary/rows/{key}", row), text=text)
                ),
            }
        )
    pub3 = []
    for group in ("continuous", "responders"):
        for key, entry in (
            lookup(results, f"cochrane_pub3/{group}").items() if lookup(results, f"cochrane_pub3/{group}") else ()
        ):
            if group == "continuous":
                md_ci = interval(entry.get("md"), entry.get("ci_low"), entry.get("ci_high"))
                effect = f"MD {md_ci} {entry.get('unit', '')}"
            else:
                effect = (
                    f"OR {interval(entry.get('or'), entry.get('or_ci_low'), entry.get('or_ci_high'))}; "
                    f"{fmt(entry.get('events_msc'))}/{fmt(entry.get('n_msc'))} vs "
                    f"{fmt(entry.get('events_control'))}/{fmt(entry.get('n_control'))}"
                )
            pub3.append(
                {
                    "outcome": entry.get("title", key),
                    "k": fmt(entry.get("k")),
                    "participants": fmt(entry.get("participants")),
                    "effect": effect,
                    "links": provenance_links(
                        index.provenance(
                            sources=recorded_sources(f"cochrane_pub3/{group}/{key}", entry), study_ids=["oh2018"]
                        )
                    ),
                }
            )
    missing = [{"outcome": k, "why": v} for k, v in sorted((lookup(results, "cochrane_pub3/missing") or {}).items())]
    certainty = summary.get("certainty", {})
    return {
        "rows": rows,
        "pub3": pub3,
        "missing": missing,
        "sentence": summary.get("readme_sentence", ""),
        "certainty": f"{certainty.get('statement', '')}: {certainty.get('reason', '')}" if certainty else "",
    }


def _figures(results: Mapping[str, Any], figures_dir: Path, out_dir: Path) -> list[dict[str, Any]]:
    sections = []
    for analysis in sorted(results):
        entries = results[analysis].get("figures") if isinstance(results[analysis], Mapping) else None
        if not isinstance(entries, Mapping):
            continue
        figures = []
        for stem, entry in sorted(entries.items()):
            png = figures_dir / analysis / f"{stem}.png"
            if not png.is_file():
                raise AlsmetaInputError(f"{png}: listed in results.json but missing; run `alsmeta reproduce` again")
            target = out_dir / FIGURES_SUBDIR / analysis
            target.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(png, target / png.name)
            svg = png.with_suffix(".svg")
            if svg.is_file():
                shutil.copyfile(svg, target / svg.name)
            base = f"{FIGURES_SUBDIR}/{analysis}/{stem}"
            width, height = png_size(png)
            figures.append(
                {
                    "id": f"fig-{analysis}-{stem}",
                    "png": f"{base}.png",
                    "width": width,
                    "height": height,
                    "svg": f"{base}.svg" if svg.is_file() else None,
                    "question": entry.get("question", ""),
                    "caption": entry.get("caption", ""),
                    "script": entry.get("script", ""),
                }
            )
        sections.append({"id": f"figs-{analysis}", "title": SECTION_TITLES.get(analysis, analysis), "figures": figures})
    return sections


def png_size(path: Path) -> tuple[int, int]:
    """Width and height in pixels of a PNG file, read from its IHDR chunk.

    Raises
    ------
    AlsmetaInputError
        If the file is not a PNG.
    """
    with path.open("rb") as handle:
        head = handle.read(24)
    if len(head) < 24 or head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        raise AlsmetaInputError(f"{path}: not a PNG file; run `alsmeta reproduce` again")
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")


def _part_order(component: str) -> int:
    """Overall verdict first, the decisive parts next, other readings last."""
    return 0 if component == "overall" else 2 if component.startswith("other reading") else 1


def _provenance_tables(index: ProvenanceIndex) -> list[dict[str, Any]]:
    tables = []
    for name, rows in index.tables.items():
        columns = [c for c, _ in rows[0].cells] if rows else []
        tables.append(
            {
                "name": name,
                "columns": columns,
                "rows": [{"anchor": r.anchor, "line": r.line, "cells": [t for _, t in r.cells]} for r in rows],
            }
        )
    return tables


def _environment() -> Any:
    try:
        import jinja2
    except ImportError:
        raise AlsmetaInputError("the report needs Jinja2: pip install 'alsmeta[report]'") from None
    return jinja2.Environment(
        loader=jinja2.PackageLoader("alsmeta.als.report", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


def build_report(figures_dir: str | Path, data_dir: str | Path, out_dir: str | Path) -> Path:
    """Write the reproduction report and return the path of its ``index.html``.

    Parameters
    ----------
    figures_dir : str or Path
        The folder ``alsmeta reproduce`` wrote (``results.json`` and the figures).
    data_dir : str or Path
        The curated evidence tables (``data/``); every row gets an anchor in
        ``provenance.html`` and every shown result links to its rows.
    out_dir : str or Path
        Where to write ``index.html``, ``provenance.html`` and ``figures/``
        (copies of the PNG and SVG files). Self-contained: no network access,
        works from a ``file://`` URL.

    Returns
    -------
    Path
        ``out_dir/index.html``.

    Raises
    ------
    AlsmetaInputError
        In one line: results.json missing or unreadable, a listed figure
        missing, no data tables, or Jinja2 not installed.
    """
    figures_dir, out_dir = Path(figures_dir), Path(out_dir)
    results = load_results(figures_dir)
    index = ProvenanceIndex(read_data_rows(data_dir))
    env = _environment()
    out_dir.mkdir(parents=True, exist_ok=True)
    if (out_dir / FIGURES_SUBDIR).is_dir():  # no figure of an earlier build survives
        shutil.rmtree(out_dir / FIGURES_SUBDIR)
    msc2021_claims = _msc2021_claims(results, index)
    cochrane = _cochrane_claims(results, index)
    living_sentence = lookup(results, "cochrane_living_2026/readme_sentence") or ""
    living_links = provenance_links(
        _sentence_provenance(index, "living2026", "cochrane_living_2026", results.get("cochrane_living_2026", {}))
    )
    public_claims = _public_claims(results, index)
    figure_sections = _figures(results, figures_dir, out_dir)
    if not any(section["id"] == TRIAL_SECTION for section in figure_sections):
        raise AlsmetaInputError(
            f"{figures_dir / 'results.json'}: definitive_trial/figures: missing; run `alsmeta reproduce` again"
        )
    brief = build_brief(
        results,
        index,
        msc2021_claims=msc2021_claims,
        cochrane=cochrane,
        living_sentence=living_sentence,
        living_links=living_links,
        public_claims=public_claims,
        trial_title=SECTION_TITLES["definitive_trial"],
        trial_href=f"#{TRIAL_SECTION}",
    )
    context = {
        "brief": brief,
        "msc2021_claims": msc2021_claims,
        "cochrane": cochrane,
        "living_sentence": living_sentence,
        "living_links": living_links,
        "public_claims": public_claims,
        "public_counts": results.get("claims", {}).get("verdict_counts", {}),
        "sof": _summary_of_findings(results, index),
        "figure_sections": figure_sections,
        "provenance_page": PROVENANCE_NAME,
    }
    write_text(out_dir / INDEX_NAME, env.get_template("index.html.j2").render(**context))
    write_text(
        out_dir / PROVENANCE_NAME,
        env.get_template("provenance.html.j2").render(tables=_provenance_tables(index), index_page=INDEX_NAME),
    )
    return out_dir / INDEX_NAME
