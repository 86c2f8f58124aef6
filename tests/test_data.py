"""The curated evidence in data/: it validates, and the validator catches what it must."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from alsmeta.cli import main
from alsmeta.evidence import check_data, validate_data
from alsmeta.evidence.schema import STATUSES, TABLES

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
    assert no_source["status"].isin(("derived", "not_found")).all()  # not_found: e.g. a public claim's unidentified page


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
        ("outcomes.csv", 0, "value", "31.5", "outcomes.csv, line 2, column 'value': '31.5' is a n and must be a whole number"),
        ("outcomes.csv", 2, "value", "-3.51", "outcomes.csv, line 4, column 'value': '-3.51' is a sd and must be > 0"),
        ("outcomes.csv", 0, "study_id", "nobody2020", "outcomes.csv, line 2, column 'study_id': 'nobody2020' is not a study_id in studies.csv"),
        ("outcomes.csv", 0, "source_url", "", "outcomes.csv, line 2, column 'source_url': is empty; only derived rows"),
        ("studies.csv", 3, "design", "anecdote", "studies.csv, line 5, column 'design': 'anecdote' is not one of"),
        ("studies.csv", 0, "n_treated", "-3", "studies.csv, line 2, column 'n_treated': '-3' is not a whole number >= 0"),
        ("timeline.csv", 0, "date", "June 2016", "timeline.csv, line 2, column 'date': 'June 2016' is not a date"),
        ("screening.csv", 4, "reason", "", "screening.csv, line 6, column 'reason': a excluded study needs a reason"),
        ("claims.csv", 0, "value", "", "claims.csv, line 2, column 'value': a count claim needs its number"),
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
    assert any(f"studies.csv, line {n_studies + 2}, column 'study_id': duplicate key: oh2018" in i for i in issues), issues
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
