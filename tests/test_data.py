"""The curated evidence in data/: it validates, and the validator catches what it must."""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import urlparse

import pandas as pd
import pytest

from alsmeta.als import check_data, validate_data
from alsmeta.als.schema import STATUSES, TABLES
from alsmeta.cli import main
from alsmeta.validation import AlsmetaInputError

DATA = Path(__file__).resolve().parents[1] / "data"


def test_committed_data_validates():
    issues = validate_data(DATA)
    assert issues == [], "\n".join(map(str, issues))


@pytest.mark.parametrize("schema", TABLES, ids=lambda s: s.file)
def test_every_row_has_source_location_and_status(schema):
    frame = pd.read_csv(DATA / schema.file, dtype=str, keep_default_na=False)
    assert len(frame) > 0
    assert frame["status"].isin(STATUSES).all()
    assert (frame["location"] != "").all()
    no_source = frame[frame["source_url"] == ""]
    assert (
        no_source["status"].isin(("derived", "not_found")).all()
    )  # not_found: e.g. a public claim's unidentified page


def test_missing_numbers_are_marked_not_found_never_filled():
    out = pd.read_csv(DATA / "outcomes.csv", dtype=str, keep_default_na=False)
    empty = out[out["value"] == ""]
    assert len(empty) > 0  # the notes do have gaps, and they are recorded as gaps
    assert (empty["status"] == "not_found").all()
    # e.g. the overall-population SE of Cudkowicz 2022's ALSFRS-R change is a known gap
    gap = out[(out.study_id == "cudkowicz2022") & (out.outcome == "alsfrs_r_change") & (out.statistic == "se")]
    assert set(gap["status"]) == {"not_found"}


def test_oh2018_table3_is_transcribed_exactly():
    out = pd.read_csv(DATA / "outcomes.csv", dtype=str, keep_default_na=False)
    six = out[(out.study_id == "oh2018") & (out.outcome == "alsfrs_r_change") & (out.timepoint_months == "6")]
    got = {(r.arm, r.statistic): r.value for r in six.itertuples()}
    assert got[("msc", "n")] == "31" and got[("msc", "mean")] == "-3.10" and got[("msc", "sd")] == "3.51"
    assert got[("control", "n")] == "25" and got[("control", "mean")] == "-6.48" and got[("control", "sd")] == "4.53"
    assert got[("msc_minus_control", "ci_low")] == "1.23"


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(DATA, target)
    return target


def _edit(path: Path, row: int, column: str, value: str) -> None:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame.loc[row, column] = value
    frame.to_csv(path, index=False, lineterminator="\n")


@pytest.mark.parametrize(
    ("file", "row", "column", "value", "message"),
    [
        ("outcomes.csv", 0, "value", "abc", "outcomes.csv, line 2, column 'value': 'abc' is not a number"),
        ("outcomes.csv", 0, "value", "", "outcomes.csv, line 2, column 'value': is empty but status is 'verified'"),
        ("outcomes.csv", 0, "status", "trust_me", "outcomes.csv, line 2, column 'status': 'trust_me' is not one of"),
        (
            "outcomes.csv",
            0,
            "value",
            "31.5",
            "outcomes.csv, line 2, column 'value': '31.5' is a n and must be a whole number",
        ),
        ("outcomes.csv", 2, "value", "-3.51", "outcomes.csv, line 4, column 'value': '-3.51' is a sd and must be > 0"),
        (
            "outcomes.csv",
            0,
            "study_id",
            "nobody2020",
            "outcomes.csv, line 2, column 'study_id': 'nobody2020' is not a study_id in studies.csv",
        ),
        ("outcomes.csv", 0, "source_url", "", "outcomes.csv, line 2, column 'source_url': is empty; only derived rows"),
        ("studies.csv", 3, "design", "anecdote", "studies.csv, line 5, column 'design': 'anecdote' is not one of"),
        (
            "studies.csv",
            0,
            "n_treated",
            "-3",
            "studies.csv, line 2, column 'n_treated': '-3' is not a whole number >= 0",
        ),
        ("timeline.csv", 0, "date", "June 2016", "timeline.csv, line 2, column 'date': 'June 2016' is not a date"),
        ("screening.csv", 4, "reason", "", "screening.csv, line 6, column 'reason': a excluded study needs a reason"),
        ("claims.csv", 0, "value", "", "claims.csv, line 2, column 'value': a count claim needs its number"),
        (
            "outcomes.csv",
            0,
            "source_url",
            "http://47.251.13.51:8081/30048006",
            "outcomes.csv, line 2, column 'source_url': '47.251.13.51' is not a primary source (an IP address",
        ),
        (
            "studies.csv",
            0,
            "source_url",
            "https://notncbi.nlm.nih.gov/pubmed/30048006",
            "studies.csv, line 2, column 'source_url': "
            "'notncbi.nlm.nih.gov' is not on the list of primary source domains",
        ),
        (
            "source_domains.csv",
            0,
            "primary",
            "maybe",
            "source_domains.csv, line 2, column 'primary': 'maybe' is not one of",
        ),
        (
            "source_domains.csv",
            1,
            "domain",
            "https://europepmc.org/",
            "source_domains.csv, line 3, column 'domain': 'https://europepmc.org/' is not a lower-case domain name",
        ),
    ],
)
def test_validator_names_file_line_and_column(tmp_path, file, row, column, value, message):
    data = _copy(tmp_path)
    _edit(data / file, row, column, value)
    issues = [str(i) for i in validate_data(data)]
    assert any(message in i for i in issues), issues


def test_duplicate_key_and_missing_column_and_file(tmp_path):
    data = _copy(tmp_path)
    frame = pd.read_csv(data / "studies.csv", dtype=str, keep_default_na=False)
    pd.concat([frame, frame.iloc[[0]]]).to_csv(data / "studies.csv", index=False, lineterminator="\n")
    frame = pd.read_csv(data / "claims.csv", dtype=str, keep_default_na=False).drop(columns=["status"])
    frame.to_csv(data / "claims.csv", index=False, lineterminator="\n")
    (data / "timeline.csv").unlink()
    issues = [str(i) for i in validate_data(data)]
    n_studies = len(pd.read_csv(DATA / "studies.csv"))
    assert any(f"studies.csv, line {n_studies + 2}, column 'study_id': duplicate key: oh2018" in i for i in issues), (
        issues
    )
    assert any("claims.csv, line 1, column 'status': column is missing" in i for i in issues)
    assert any("timeline.csv" in i and "file is missing" in i for i in issues)
    with pytest.raises(Exception, match="problem"):
        check_data(data)


def test_cli_validate_data(tmp_path, capsys):
    assert main(["validate-data", "--data", str(DATA)]) == 0
    assert "valid" in capsys.readouterr().out
    data = _copy(tmp_path)
    _edit(data / "outcomes.csv", 0, "value", "abc")
    assert main(["validate-data", "--data", str(data)]) == 2
    assert "line 2, column 'value'" in capsys.readouterr().err


# --- verified means read in the primary source: the source_url must be on a primary domain ---------------

_MIRRORS_FOUND_IN_ISSUE_12 = {
    "47.251.13.51",
    "addi.ehu.es",
    "openaccess.library.uitm.edu.my",
    "vufind-test.katalog.k.utb.cz",
    "mayoclinic.elsevierpure.com",
    "ichgcp.net",
    "litmetric.com",
    "www.acemap.info",
    "www.journalfilter.com",
    "ctv.veeva.com",
    "meddatax.com",
    "biotechhunter.com",
    "cdek.wustl.edu",
    "neals.org",
}


def _verified_hosts() -> dict[str, list[str]]:
    hosts: dict[str, list[str]] = {}
    for schema in TABLES:
        frame = pd.read_csv(DATA / schema.file, dtype=str, keep_default_na=False)
        for line, row in enumerate(frame.to_dict("records"), start=2):
            if row["status"] == "verified" and row["source_url"]:
                host = (urlparse(row["source_url"]).hostname or "").rstrip(".")
                hosts.setdefault(host, []).append(f"{schema.file}:{line}")
    return hosts


def test_no_verified_row_rests_on_a_mirror_catalogue_or_aggregator():
    hosts = _verified_hosts()
    assert {h: hosts[h] for h in hosts.keys() & _MIRRORS_FOUND_IN_ISSUE_12} == {}
    listed = pd.read_csv(DATA / "source_domains.csv", dtype=str, keep_default_na=False)
    primary = set(listed.loc[listed.primary == "yes", "domain"])
    not_primary = set(listed.loc[listed.primary == "no", "domain"])
    for host, where in hosts.items():
        assert any(host == d or host.endswith("." + d) for d in primary), (host, where)
        assert not any(host == d or host.endswith("." + d) for d in not_primary), (host, where)


def test_primary_domain_rule_matches_whole_labels_and_ignores_port_case_and_root_dot(tmp_path):
    data = _copy(tmp_path)
    _edit(data / "outcomes.csv", 0, "source_url", "https://PMC.ncbi.nlm.nih.gov.:443/articles/PMC6175096/table/x")
    _edit(data / "outcomes.csv", 1, "source_url", "https://pmc.ncbi.nlm.nih.gov.example.com/articles/PMC6175096")
    issues = [str(i) for i in validate_data(data)]
    assert not any(i.startswith("outcomes.csv, line 2,") for i in issues), issues
    assert any(
        i.startswith("outcomes.csv, line 3, column 'source_url': 'pmc.ncbi.nlm.nih.gov.example.com' is not on the list")
        for i in issues
    ), issues


def test_relabelling_a_mirror_row_secondary_clears_the_issue(tmp_path):
    data = _copy(tmp_path)
    _edit(data / "outcomes.csv", 0, "source_url", "https://ichgcp.net/clinical-trials-registry/NCT01363401")
    assert any(i.file == "outcomes.csv" and i.line == 2 and i.column == "source_url" for i in validate_data(data))
    _edit(data / "outcomes.csv", 0, "status", "secondary")
    assert validate_data(data) == []


def test_the_most_specific_listed_domain_decides(tmp_path):
    data = _copy(tmp_path)
    with open(data / "source_domains.csv", "a") as listing:
        listing.write("pmc.ncbi.nlm.nih.gov,no,mirror,test: PMC listed as not primary\n")
    issues = validate_data(data)
    flagged = {(i.file, i.line) for i in issues if "test: PMC listed as not primary" in i.message}
    hosts = _verified_hosts()
    assert flagged == {(f, int(n)) for f, n in (w.split(":") for w in hosts["pmc.ncbi.nlm.nih.gov"])}
    assert not any("pubmed.ncbi.nlm.nih.gov" in i.message for i in issues)  # the parent domain still counts


def test_a_public_claim_is_its_own_primary_source_but_a_synthesis_claim_is_not(tmp_path):
    data = _copy(tmp_path)
    claims = pd.read_csv(data / "claims.csv", dtype=str, keep_default_na=False)
    page = "https://stem-cell-clinic.example/als"
    extra = pd.DataFrame(
        [
            {
                **claims.iloc[0].to_dict(),
                "claim_id": "clinic_claim_as_synthesis",
                "source_url": page,
                "status": "verified",
            },
            {
                **claims.iloc[0].to_dict(),
                "synthesis": "public",
                "claim_id": "clinic_claim",
                "source_url": page,
                "status": "verified",
            },
        ]
    )
    pd.concat([claims, extra]).to_csv(data / "claims.csv", index=False, lineterminator="\n")
    source_issues = {i.line for i in validate_data(data) if i.file == "claims.csv" and i.column == "source_url"}
    assert source_issues == {len(claims) + 2}


def test_source_domains_file_is_required(tmp_path):
    from alsmeta.als.validate import read_source_domains

    data = _copy(tmp_path)
    assert read_source_domains(data).primary["ncbi.nlm.nih.gov"] is True
    (data / "source_domains.csv").unlink()
    assert any(i.file == "source_domains.csv" and "file is missing" in i.message for i in validate_data(data))
    with pytest.raises(AlsmetaInputError, match="source_domains.csv"):
        read_source_domains(data)
