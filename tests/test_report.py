"""The reproduction report (alsmeta.als.report): every number from results.json, every link to a real data row."""

from __future__ import annotations

import json
import re
import sys
import tempfile
from html import escape
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alsmeta.als.report import ProvenanceIndex, build_report, read_data_rows
from alsmeta.als.report.brief import BRIEF_PARTS
from alsmeta.als.report.builder import png_size
from alsmeta.als.report.display import fmt, interval
from alsmeta.als.report.provenance import numbers_in
from alsmeta.cli import main
from alsmeta.validation import AlsmetaInputError
from conftest import REPO_ROOT

RESULTS = json.loads((REPO_ROOT / "figures" / "results.json").read_text(encoding="utf-8"))
SKIPPED_CLASSES = {"prov", "data-value"}
"""Text inside these is not a result: provenance links (file:line) and published values (checked against data/)."""


class _Page(HTMLParser):
    """Visible text outside SKIPPED_CLASSES, every id, every href/src, and each data-value link."""

    VOID = {"img", "br", "meta", "link", "input", "hr", "source"}

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.ids: set[str] = set()
        self.urls: list[str] = []
        self.data_values: list[tuple[str, str]] = []
        self._stack: list[tuple[str, bool]] = []
        self._href: str | None = None
        self._data_value: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        for key in ("href", "src"):
            if a.get(key):
                self.urls.append(a[key])
        classes = set((a.get("class") or "").split())
        if "data-value" in classes:
            self._href, self._data_value = a["href"], []
        if tag not in self.VOID:
            skipped = bool(classes & SKIPPED_CLASSES) or tag in ("style", "title")
            self._stack.append((tag, skipped or (bool(self._stack) and self._stack[-1][1])))

    def handle_endtag(self, tag):
        if tag in self.VOID:
            return
        while self._stack:
            if self._stack.pop()[0] == tag:
                break
        if self._data_value is not None and tag == "a":
            self.data_values.append((self._href, "".join(self._data_value)))
            self._data_value = None

    def handle_data(self, data):
        if self._data_value is not None:
            self._data_value.append(data)
        if not (self._stack and self._stack[-1][1]):
            self.text.append(data)


def _parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def _results_numbers(node, strings: set[str], leaves: list[float]) -> None:
    if isinstance(node, bool):
        return
    if isinstance(node, (int, float)):
        leaves.append(float(node))
    elif isinstance(node, str):
        strings.update(numbers_in(node))
    elif isinstance(node, dict):
        for key, value in node.items():
            strings.update(numbers_in(key))
            _results_numbers(value, strings, leaves)
    elif isinstance(node, list):
        for value in node:
            _results_numbers(value, strings, leaves)


def _in_results(token: str, strings: set[str], leaves: list[float]) -> bool:
    """Whether ``token`` is printed in a results.json text or is a results.json number at the token's precision."""
    if token in strings:
        return True
    if "." not in token:  # a whole number is shown only when it is one (never a rounded float)
        return any(v == float(token) for v in leaves)
    decimals = len(token.split(".")[1])
    return any(f"{v:.{decimals}f}" == token for v in leaves)


def test_every_number_shown_appears_in_results_json(report_index):
    strings: set[str] = set()
    leaves: list[float] = []
    _results_numbers(RESULTS, strings, leaves)
    tokens = numbers_in(" ".join(_parse(report_index).text))
    assert len(tokens) > 500, "the page shows far fewer numbers than the reproduction has: sections missing?"
    foreign = sorted({t for t in tokens if not _in_results(t, strings, leaves)})
    assert not foreign, f"numbers on the page that are not in figures/results.json: {foreign}"


def test_number_check_catches_a_number_not_in_results():
    strings: set[str] = set()
    leaves: list[float] = []
    _results_numbers({"a": 2.98123, "b": "MD 3.38 (1.22 to 5.54)"}, strings, leaves)
    assert _in_results("2.98", strings, leaves) and _in_results("5.54", strings, leaves)
    assert not _in_results("2.99", strings, leaves) and not _in_results("3", strings, leaves)


def _anchor_rows() -> dict[str, object]:
    tables = read_data_rows(REPO_ROOT / "data")
    return {row.anchor: row for rows in tables.values() for row in rows}


def test_every_internal_link_resolves(report_index):
    out = report_index.parent
    pages = {name: _parse(out / name) for name in ("index.html", "provenance.html")}
    checked = 0
    for name, page in pages.items():
        for url in page.urls:
            parts = urlsplit(url)
            if parts.scheme in ("http", "https"):
                assert name == "provenance.html", f"{name} links out to {url}; the report must work offline"
                continue
            target = parts.path or name
            assert (out / target).is_file(), f"{name}: {url} points to a missing file"
            if parts.fragment:
                assert parts.fragment in pages[target].ids, f"{name}: {url} points to a missing anchor"
            checked += 1
    assert checked > 300


def test_provenance_links_name_existing_rows(report_index):
    rows = _anchor_rows()
    page = _parse(report_index)
    prov = [urlsplit(u).fragment for u in page.urls if u.startswith("provenance.html#")]
    assert prov and all(anchor in rows for anchor in prov)
    provenance_ids = _parse(report_index.parent / "provenance.html").ids
    assert set(rows) <= provenance_ids, "every data row has its anchor on the provenance page"


def test_published_values_are_the_values_of_their_data_rows(report_index):
    rows = _anchor_rows()
    values = _parse(report_index).data_values
    assert len(values) >= 10  # 7 counts of the 2021 paper, 2 of pub2, 2+ of pub3
    for href, text in values:
        row = rows[urlsplit(href).fragment]
        assert row.table == "claims" and row.get("value") == text, (href, text)


def test_every_claim_and_figure_is_on_the_page(report_index):
    html = report_index.read_text(encoding="utf-8")
    for row in read_data_rows(REPO_ROOT / "data")["claims"]:
        if row.get("synthesis") in ("msc2021", "cochrane_pub2", "cochrane_pub3", "public"):
            assert f'#{row.anchor}"' in html, f"claim {row.get('claim_id')} not linked"
    for cid, entry in RESULTS["public_claims"].items():
        assert f'id="public-{cid}"' in html and entry["verdict"] in html
    for analysis, numbers in RESULTS.items():
        for stem in numbers.get("figures", {}) if isinstance(numbers, dict) else ():
            assert f'src="figures/{analysis}/{stem}.png"' in html
            assert (report_index.parent / "figures" / analysis / f"{stem}.png").is_file()


def test_results_sources_link_to_the_rows_they_name():
    index = ProvenanceIndex(read_data_rows(REPO_ROOT / "data"))
    entry = RESULTS["cochrane_pub3"]["continuous"]["alsfrs_r_change_6mo"]
    rows = [index.source_row(record) for record in entry["sources"]]
    assert len(set(rows)) == len(entry["sources"])
    assert {(r.get("outcome"), r.get("timepoint")) for r in rows} == {("alsfrs_r_change", "baseline to 6 months")}
    for record, row in zip(entry["sources"], rows, strict=True):
        assert float(row.get("value")) == record["value"] and row.get("study_id") == record["study_id"]


def test_study_labels_are_read_longest_first():
    index = ProvenanceIndex(read_data_rows(REPO_ROOT / "data"))
    assert index.studies_named("Oh 2018 and Petrou 2016 (MSC-NTF)") == ["oh2018", "petrou2016"]
    assert index.studies_named("no study here, 2018") == []


@given(st.integers(min_value=1, max_value=5000), st.integers(min_value=1, max_value=5000))
def test_png_size_reads_the_header(width, height):
    header = (
        b"\x89PNG\r\n\x1a\n" + (13).to_bytes(4, "big") + b"IHDR" + width.to_bytes(4, "big") + height.to_bytes(4, "big")
    )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "x.png"
        path.write_bytes(header + b"\0" * 8)
        assert png_size(path) == (width, height)


def test_png_size_refuses_a_file_that_is_not_png(tmp_path):
    path = tmp_path / "fake.png"
    path.write_bytes(b"<svg/>" * 10)
    with pytest.raises(AlsmetaInputError, match="not a PNG"):
        png_size(path)


def test_missing_results_json_is_a_one_line_error(tmp_path, capsys):
    with pytest.raises(AlsmetaInputError, match="results.json: not found; run `alsmeta reproduce`"):
        build_report(tmp_path, REPO_ROOT / "data", tmp_path / "out")
    assert not (tmp_path / "out").exists()
    code = main(
        ["report", "--figures", str(tmp_path), "--data", str(REPO_ROOT / "data"), "--out", str(tmp_path / "out")]
    )
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and "results.json" in err and "Traceback" not in err


def test_wrong_data_folder_is_a_one_line_error(tmp_path, capsys):
    code = main(
        ["report", "--figures", str(REPO_ROOT / "figures"), "--data", str(tmp_path), "--out", str(tmp_path / "out")]
    )
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and "studies.csv" in err


def test_missing_jinja2_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "jinja2", None)
    with pytest.raises(AlsmetaInputError, match=r"alsmeta\[report\]"):
        build_report(REPO_ROOT / "figures", REPO_ROOT / "data", tmp_path)


def test_cli_builds_the_report(tmp_path, capsys):
    code = main(
        [
            "report",
            "--figures",
            str(REPO_ROOT / "figures"),
            "--data",
            str(REPO_ROOT / "data"),
            "--out",
            str(tmp_path / "site"),
        ]
    )
    assert code == 0 and (tmp_path / "site" / "index.html").is_file()
    assert capsys.readouterr().out.strip().endswith("index.html")


def _brief_html(report_index: Path) -> str:
    html = report_index.read_text(encoding="utf-8")
    start = html.index('<section id="brief"')
    return html[start : html.index("</section>", start)]


def _brief_text(report_index: Path) -> str:
    page = _Page()
    page.feed(_brief_html(report_index))
    return " ".join("".join(page.text).split())


def test_brief_is_the_first_section_and_the_2021_efficacy_claims_come_before_the_counts(report_index):
    html = report_index.read_text(encoding="utf-8")
    sections = re.findall(r'<section id="([^"]+)"', html)
    assert sections[0] == "brief" and html.index('id="brief"') < html.index('<nav class="toc"')
    claims = [row for row in read_data_rows(REPO_ROOT / "data")["claims"] if row.get("synthesis") == "msc2021"]
    shown = sorted(claims, key=lambda row: html.index(f'id="msc2021-{row.get("claim_id")}"'))
    kinds = [row.get("quantity") == "count" for row in shown]
    assert kinds == sorted(kinds) and 0 < kinds.count(True) < len(kinds), "efficacy claims first, counts after"
    counts = [row.get("claim_id") for row in claims if row.get("quantity") == "count"]
    assert counts == [row.get("claim_id") for row in shown if row.get("quantity") == "count"], "claims.csv order kept"


def test_brief_shows_the_verdicts_and_primary_estimates_of_results_json(report_index):
    brief, text = _brief_html(report_index), _brief_text(report_index)
    msc = RESULTS["msc2021"]
    for cid, starts in BRIEF_PARTS.items():
        row = ProvenanceIndex(read_data_rows(REPO_ROOT / "data")).claim_row("msc2021", cid)
        verdict = msc["verdicts"][cid]
        assert (
            f'{escape(row.get("claim"))}&rdquo;</a> <span class="verdict verdict-{verdict.replace(" ", "-")}">' in brief
        )
        for start in starts:
            (key,) = [k for k in msc["claims"] if k.startswith(f"{cid}|{start}")]
            part = msc["claims"][key]
            label = f'<span class="brief-part">{escape(key.split("|", 1)[1])}</span> <span class="verdict'
            assert f'{label} verdict-{part["verdict"].replace(" ", "-")}">{part["verdict"]}</span>' in brief
    headline = msc["headline"]["it_msc_alsfrs_r_first_follow_up"]
    primary = headline["primary"]
    assert f"{interval(primary['estimate'], primary['ci_low'], primary['ci_high'])} {primary['unit']}" in text
    assert headline["scope"] in text, "the estimate is said to be a property of this project's rebuild"
    gains = msc["headline"]["transience_oh2018"]["gain_per_month_4_6"]
    for by_r in ("r0", "r_derived", "r1"):
        assert f"{fmt(gains[by_r]['ci_low'])} to {fmt(gains[by_r]['ci_high'])}" in text
    assert all(a in text for a in msc["headline"]["transience_oh2018"]["assumptions"])
    assert RESULTS["cochrane_living_2026"]["readme_sentence"] in text
    assert RESULTS["definitive_trial"]["at_least_n_per_arm"]["readme_sentence"] in text
    for verdict, n in RESULTS["claims"]["verdict_counts"].items():
        assert re.search(rf">{verdict}</span> {n}\b", brief), (verdict, n)
    assert "None" not in text and "not estimable" not in text, "a missing value printed as if shown"


class _BriefItems(HTMLParser):
    """The links inside each element of class ``brief-item`` (a nested item's links count for its parents too)."""

    def __init__(self) -> None:
        super().__init__()
        self.items: list[list[str]] = []
        self._open: list[tuple[str, int | None]] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        item = None
        if "brief-item" in (a.get("class") or "").split():
            item = len(self.items)
            self.items.append([])
        if a.get("href"):
            for _, index in self._open + [(tag, item)]:
                if index is not None:
                    self.items[index].append(a["href"])
        if tag not in _Page.VOID:
            self._open.append((tag, item))

    def handle_endtag(self, tag):
        while self._open and self._open.pop()[0] != tag:
            pass


def test_every_brief_point_links_to_its_card_and_its_data_rows(report_index):
    parser = _BriefItems()
    parser.feed(_brief_html(report_index))
    ids = _parse(report_index).ids
    parts = [k for k in RESULTS["msc2021"]["claims"] if k.split("|")[0] in BRIEF_PARTS and not k.endswith("|overall")]
    assert len(parser.items) == 2 + len(parts) + 3 + 2  # 2021 claims and all their parts, 3 reviews, public, trial
    for links in parser.items:
        down = [u for u in links if u.startswith("#") and u != "#brief"]
        assert down and all(u[1:] in ids for u in down), links
        assert any(u.startswith("provenance.html#") for u in links), links
    cards = {u[1:] for links in parser.items for u in links if u.startswith("#")}
    expected = {f"msc2021-{cid}" for cid in BRIEF_PARTS} | {
        "cochrane-pub2",
        "cochrane-pub3",
        "cochrane-living",
        "claims-public",
        "figs-definitive_trial",
    }
    assert expected <= cards


def _figures_with(tmp_path: Path, change) -> Path:
    """A figures folder whose analyses are the checkout's (linked) and whose results.json is changed by ``change``."""
    figures = tmp_path / "figures"
    figures.mkdir()
    for folder in (REPO_ROOT / "figures").iterdir():
        if folder.is_dir():
            (figures / folder.name).symlink_to(folder, target_is_directory=True)
    results = json.loads(json.dumps(RESULTS))
    change(results)
    (figures / "results.json").write_text(json.dumps(results), encoding="utf-8")
    return figures


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (lambda r: r["msc2021"]["headline"].pop("it_msc_alsfrs_r_first_follow_up"), "msc2021/headline"),
        (lambda r: r["msc2021"].pop("transience"), "msc2021/transience"),
        (
            lambda r: r["msc2021"]["claims"].pop(
                next(k for k in r["msc2021"]["claims"] if k.startswith("fvc_worse_all|intrathecal MSC"))
            ),
            "no part 'intrathecal MSC...' of claim fvc_worse_all",
        ),
        (lambda r: r["cochrane_living_2026"].pop("readme_sentence"), "cochrane_living_2026/readme_sentence"),
        (lambda r: r["definitive_trial"].pop("at_least_n_per_arm"), "definitive_trial/at_least_n_per_arm"),
        (lambda r: r["claims"].pop("verdict_counts"), "claims/verdict_counts"),
    ],
)
def test_brief_refuses_results_without_an_entry_it_shows(tmp_path, change, named):
    figures = _figures_with(tmp_path, change)
    with pytest.raises(AlsmetaInputError, match=re.escape(named)):
        build_report(figures, REPO_ROOT / "data", tmp_path / "out")
