"""Screening each Cochrane review version at its search date reproduces what is known."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from alsmeta.als.screening import date_bounds, screen

DATA = Path(__file__).resolve().parents[1] / "data"


def test_pub2_2016_is_an_empty_review_with_four_ongoing_trials():
    s = screen("pub2", DATA)
    assert s.search_date == date(2016, 6, 21)
    assert s.counts["included"] == 0
    assert sorted(s.ids("ongoing")) == sorted(["nct01254539", "oh2018", "berry2019", "aguera_morales2025"])
    # within-patient randomisation (NCT02286011) is what leaves exactly four
    row = s.table.set_index("study_id").loc["geijo_barrientos2020"]
    assert (row["decision"], row["reason"]) == ("excluded", "unit_of_randomisation")


def test_pub2_ongoing_statuses_one_verified_three_inferred():
    records = pd.read_csv(DATA / "screening.csv", dtype=str, keep_default_na=False)
    ongoing = records[(records.review_version == "pub2") & (records.decision == "ongoing")]
    assert dict(zip(ongoing.study_id, ongoing.status, strict=True)) == {
        "nct01254539": "verified",
        "oh2018": "inferred",
        "berry2019": "inferred",
        "aguera_morales2025": "inferred",
    }


def test_pub3_2019_includes_two_rcts_with_112_participants():
    s = screen("pub3", DATA)
    included = s.ids("included")
    assert sorted(included) == ["berry2019", "oh2018"]
    studies = pd.read_csv(DATA / "studies.csv").set_index("study_id")
    assert int((studies.loc[included, "n_treated"] + studies.loc[included, "n_control"]).sum()) == 112
    assert "cudkowicz2022" in s.ids("ongoing")


@pytest.mark.parametrize("version", ["pub2", "pub3", "living2026"])
def test_screening_function_reproduces_every_recorded_decision(version):
    s = screen(version, DATA).table.set_index("study_id")
    records = pd.read_csv(DATA / "screening.csv", dtype=str, keep_default_na=False)
    records = records[records.review_version == version]
    for rec in records.itertuples():
        assert rec.study_id in s.index, f"{rec.study_id} is not a candidate in {version}"
        got = s.loc[rec.study_id]
        assert (got["decision"], got["reason"]) == (rec.decision, rec.reason), rec.study_id


def test_date_bounds_respect_source_precision():
    assert date_bounds("2018") == (date(2018, 1, 1), date(2018, 12, 31))
    assert date_bounds("2016-02") == (date(2016, 2, 1), date(2016, 2, 29))
    assert date_bounds("2016-07-20") == (date(2016, 7, 20), date(2016, 7, 20))


def test_year_only_dates_straddling_the_search_date_are_flagged(tmp_path):
    s = screen("pub2", DATA)
    flagged = set(s.table.loc[s.table["ambiguous"], "study_id"])
    assert "petrou2016" in flagged  # published "2016", search 21 June 2016
    assert "oh2018" not in flagged
