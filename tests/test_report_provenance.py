"""The report's provenance links lead to the rows each computation read (results.json ``sources``), never to rows
whose value merely equals a number shown."""

from __future__ import annotations

import json
import re
from html import escape
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alsmeta.als.report import ProvenanceIndex, build_report, read_data_rows
from alsmeta.als.report.display import lookup
from alsmeta.als.report.links import NOT_RECORDED
from alsmeta.als.report.provenance import SOURCE_KEYS, DataRow
from alsmeta.validation import AlsmetaInputError
from conftest import REPO_ROOT
from test_report import _figures_with

RESULTS = json.loads((REPO_ROOT / "figures" / "results.json").read_text(encoding="utf-8"))
TABLES = read_data_rows(REPO_ROOT / "data")
INDEX = ProvenanceIndex(TABLES)
ROWS = {row.anchor: row for rows in TABLES.values() for row in rows}
NUMERIC_OUTCOME_ROWS = [row for row in TABLES["outcomes"] if re.fullmatch(r"-?\d+(\.\d+)?", row.get("value"))]


class _Links(HTMLParser):
    """Every link into the provenance page, with its ``data-read-by`` paths, grouped by the ``prov`` span it is in."""

    def __init__(self) -> None:
        super().__init__()
        self.spans: list[list[tuple[str, str | None]]] = []
        self.unlinked: list[str] = []
        self._depth = 0  # depth inside the current prov span (0: outside)
        self._em = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if self._depth:
            self._depth += 1
            self._em = tag == "em"
            if tag == "a" and (a.get("href") or "").startswith("provenance.html#"):
                self.spans[-1].append((urlsplit(a["href"]).fragment, a.get("data-read-by")))
        elif tag == "span" and "prov" in (a.get("class") or "").split():
            self._depth = 1
            self.spans.append([])

    def handle_endtag(self, tag):
        if self._depth:
            self._depth -= 1
            self._em = False

    def handle_data(self, data):
        if self._em:
            self.unlinked.append(data)


def _links(path: Path) -> _Links:
    parser = _Links()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def _identity(record_or_row) -> tuple[str, ...]:
    get = record_or_row.get
    return tuple(str(get(k)) for k in SOURCE_KEYS)


def test_every_outcome_link_is_a_row_its_computation_read(report_index):
    page = _links(report_index)
    checked = 0
    for span in page.spans:
        for anchor, read_by in span:
            row = ROWS[anchor]
            if row.table != "outcomes":
                assert read_by is None, f"{anchor}: only outcome rows are read as sources"
                continue
            assert read_by, f"{anchor} is linked but no computation records reading it (a guessed link)"
            for path in json.loads(read_by):
                records = lookup(RESULTS, path)
                assert isinstance(records, list), f"{anchor}: data-read-by {path} is not a sources list"
                assert _identity(row) in {_identity(r) for r in records}, f"{anchor} not among {path}'s rows"
            checked += 1
    assert checked > 100, "far fewer outcome links than the analyses record: sections without sources?"


def test_every_recorded_source_of_a_shown_estimate_is_linked(report_index):
    """A2: a pooled effect links every study it pools (Kim 2009 beside Oh 2018), not just those printed."""
    linked: dict[str, set[str]] = {}
    for span in _links(report_index).spans:
        for anchor, read_by in span:
            for path in json.loads(read_by or "[]"):
                linked.setdefault(path, set()).add(anchor)
    (positive,) = [k for k in RESULTS["msc2021"]["claims"] if k.startswith("it_msc_transient_alsfrs_benefit|positive")]
    for path in (
        f"msc2021/claims/{positive}/sources",
        "cochrane_pub3/readme_sentence_sources",
        "cochrane_living_2026/readme_sentence_sources",
        "definitive_trial/at_least_n_per_arm/sources",
        "summary/rows/deaths_28wk/sources",
    ):
        rows = {INDEX.source_row(r).anchor for r in lookup(RESULTS, path)}
        assert rows and linked.get(path, set()) == rows, path
    studies = {ROWS[a].get("study_id") for a in linked[f"msc2021/claims/{positive}/sources"]}
    assert {"oh2018", "kim2009"} <= studies


def test_the_definitive_trial_links_the_six_month_arms_it_was_computed_from(report_index):
    """A1: the trial card once linked Oh 2018 responder rows because their counts equal the assumed SDs 5 and 6."""
    html = report_index.read_text(encoding="utf-8")
    start = html.index('<section id="brief"')
    brief = html[start : html.index("</section>", start)]
    trial = brief[brief.index('href="#figs-definitive_trial"') :]
    anchors = {a for span in _spans_of(trial) for a, _ in span if ROWS[a].table == "outcomes"}
    rows = [ROWS[a] for a in anchors]
    assert len(rows) == 6
    assert {(r.get("study_id"), r.get("outcome"), r.get("timepoint")) for r in rows} == {
        ("oh2018", "alsfrs_r_change", "baseline to 6 months")
    }
    assert {(r.get("arm"), r.get("statistic")) for r in rows} == {
        (arm, s) for arm in ("msc", "control") for s in ("mean", "sd", "n")
    }


def _spans_of(html: str) -> list[list[tuple[str, str | None]]]:
    parser = _Links()
    parser.feed(html)
    return parser.spans


def test_a_result_without_recorded_rows_says_so_and_links_no_outcome_row(report_index):
    """The public claims on study counts record no outcome rows: the card says so instead of matching values."""
    html = report_index.read_text(encoding="utf-8")
    card = html[html.index('id="public-allogeneic_better_than_autologous"') :]
    card = card[: card.index("</div>")]
    spans = _spans_of(card)
    assert spans and not any(ROWS[a].table == "outcomes" for span in spans for a, _ in span)
    assert NOT_RECORDED in card
    assert RESULTS["public_claims"]["allogeneic_better_than_autologous"]["sources"] == []


@given(st.sampled_from(NUMERIC_OUTCOME_ROWS))
def test_a_record_of_a_row_names_that_row_and_no_other(row: DataRow):
    record = {k: row.get(k) for k in (*SOURCE_KEYS, "source_url")} | {"value": float(row.get("value"))}
    assert INDEX.source_row(record) == row


@given(st.sampled_from(NUMERIC_OUTCOME_ROWS), st.floats(min_value=1e-6, max_value=1e3))
def test_a_record_whose_value_is_not_its_rows_is_refused(row: DataRow, shift: float):
    record = {k: row.get(k) for k in (*SOURCE_KEYS, "source_url")} | {"value": float(row.get("value")) + shift}
    with pytest.raises(AlsmetaInputError, match=re.escape(row.name)):
        INDEX.source_row(record, "x/sources")


def test_a_record_that_names_no_row_is_refused():
    row = NUMERIC_OUTCOME_ROWS[0]
    record = {k: row.get(k) for k in SOURCE_KEYS} | {"value": float(row.get("value"))}
    with pytest.raises(AlsmetaInputError, match="x/sources: a record without outcome"):
        INDEX.source_row({k: v for k, v in record.items() if k != "outcome"}, "x/sources")
    with pytest.raises(AlsmetaInputError, match="0 rows of outcomes.csv match"):
        INDEX.source_row(record | {"timepoint": "no such time"}, "x/sources")
    with pytest.raises(AlsmetaInputError, match="expected a list"):
        INDEX.provenance(sources={"x": {"value": 1}})


def test_provenance_without_sources_is_not_recorded_and_equal_values_are_not_linked():
    """A row whose value equals a number of the text is not linked (the old value matching linked it)."""
    oh = INDEX.outcome_rows("oh2018")
    text = "Oh 2018: " + " ".join(row.get("value") for row in oh)
    found = INDEX.provenance(text=text)
    assert not found.recorded and [row.table for row in found.rows] == ["studies"]
    record = {k: oh[1].get(k) for k in (*SOURCE_KEYS, "source_url")} | {"value": float(oh[1].get("value"))}
    found = INDEX.provenance(sources={"a/sources": [record]}, text=text)
    assert found.recorded and [row for row in found.rows if row.table == "outcomes"] == [oh[1]]
    assert found.read_by == {oh[1].anchor: ("a/sources",)}


def test_a_stale_results_json_is_refused(tmp_path):
    """results.json older than data/ (a source value changed) stops the build, naming the entry."""

    def change(results):
        results["definitive_trial"]["at_least_n_per_arm"]["sources"][0]["value"] += 1

    figures = _figures_with(tmp_path, change)
    with pytest.raises(AlsmetaInputError, match="definitive_trial/at_least_n_per_arm/sources"):
        build_report(figures, REPO_ROOT / "data", tmp_path / "out")


def test_counts_of_studies_print_a_count_and_the_studies(report_index):
    """C14: 'studies providing usable data' reads '1 (Oh 2018)', not an id where a count belongs."""
    html = report_index.read_text(encoding="utf-8")
    with_data = RESULTS["cochrane_pub3"]["studies_with_data"]
    labels = ", ".join(INDEX.study_row(s).get("label") for s in with_data)
    assert f"{len(with_data)} ({labels})" in html
    assert not re.search(r">\s*oh2018 \(published", html)


def test_the_brief_shows_every_part_of_a_claim_it_shows(report_index):
    """B4: under the FVC claim's overall verdict, every part and its verdict (not only the green one)."""
    html = report_index.read_text(encoding="utf-8")
    start = html.index('<section id="brief"')
    brief = html[start : html.index("</section>", start)]
    for cid in ("fvc_worse_all", "it_msc_transient_alsfrs_benefit"):
        parts = {k.split("|", 1)[1]: v for k, v in RESULTS["msc2021"]["claims"].items() if k.startswith(f"{cid}|")}
        for component, part in parts.items():
            if component == "overall":
                continue
            verdict = part["verdict"]
            shown = f'class="brief-part">{escape(component)}</span> <span class="verdict verdict-'
            assert f'{shown}{verdict.replace(" ", "-")}">{verdict}</span>' in brief, component
