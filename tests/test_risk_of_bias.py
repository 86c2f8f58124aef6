"""Risk of bias (RoB 2): the assessment table, its validator rules and the robvis-style figures."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_hex

from alsmeta import AlsmetaInputError
from alsmeta.als import validate_data
from alsmeta.als.schema import ALL_TABLES, ROB2_DOMAINS, ROB2_JUDGEMENTS, TABLES
from alsmeta.plots.artists import find, texts
from alsmeta.plots.risk_of_bias import (
    DOMAINS,
    DOUBLE_COLUMN,
    JUDGEMENTS,
    SINGLE_COLUMN,
    risk_of_bias_figure,
    risk_of_bias_summary_plot,
    traffic_light_plot,
)

DATA = Path(__file__).resolve().parents[1] / "data"


def _rob() -> pd.DataFrame:
    return pd.read_csv(DATA / "risk_of_bias.csv", dtype=str, keep_default_na=False)


# ------------------------------------------------------------------ the data
def test_every_included_rct_of_the_living_update_is_assessed_in_every_domain():
    screening = pd.read_csv(DATA / "screening.csv", dtype=str, keep_default_na=False)
    studies = pd.read_csv(DATA / "studies.csv", dtype=str, keep_default_na=False).set_index("study_id")
    included = screening[(screening.review_version == "living2026") & (screening.decision == "included")].study_id
    rcts = {s for s in included if studies.loc[s, "design"] == "rct"}
    rob = _rob()
    assert rcts == set(rob.study_id)
    assert rcts >= {"oh2018", "berry2019", "cudkowicz2022"}
    for study, rows in rob.groupby("study_id"):
        assert sorted(rows.domain) == sorted(ROB2_DOMAINS), study


def test_judgements_are_this_projects_own_and_say_why():
    rob = _rob()
    assert set(rob.status) == {"assessed"}
    assert (rob.reason.str.len() > 40).all()
    assert (rob.source_text != "").all() and (rob.location != "").all()
    assert rob.source_url.str.startswith("https://").all() | rob.source_url.str.startswith("http://").all()
    # never attributed to the Cochrane review
    assert not rob.reason.str.contains("Cochrane").any()


def test_open_label_trials_are_not_low_risk_for_outcome_measurement():
    studies = pd.read_csv(DATA / "studies.csv", dtype=str, keep_default_na=False).set_index("study_id")
    rob = _rob()
    measurement = rob[rob.domain == "measurement_of_the_outcome"].set_index("study_id").judgement
    open_label = [s for s in measurement.index if studies.loc[s, "blinding"] == "open_label"]
    assert open_label == ["oh2018"]
    assert measurement["oh2018"] == "high"
    overall = rob[rob.domain == "overall"].set_index("study_id").judgement
    assert overall["oh2018"] == "high"


def test_assessment_is_validated_with_the_evidence_tables_but_kept_apart():
    assert any(t.file == "risk_of_bias.csv" for t in ALL_TABLES)
    assert not any(t.file == "risk_of_bias.csv" for t in TABLES)  # its status vocabulary is 'assessed' only


def test_plot_vocabulary_is_the_schema_vocabulary():
    assert tuple(d[0] for d in DOMAINS) == ROB2_DOMAINS
    assert tuple(JUDGEMENTS) == ROB2_JUDGEMENTS


# ------------------------------------------------------------------ the validator
def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(DATA, target)
    return target


def _edit(data: Path, study: str, domain: str, column: str, value: str) -> int:
    path = data / "risk_of_bias.csv"
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    idx = frame.index[(frame.study_id == study) & (frame.domain == domain)][0]
    frame.loc[idx, column] = value
    frame.to_csv(path, index=False)
    return int(idx) + 2


@pytest.mark.parametrize(
    "domain, column, value, message",
    [
        ("overall", "judgement", "low", "does not follow RoB 2"),
        ("overall", "judgement", "some_concerns", "does not follow RoB 2"),
        ("missing_outcome_data", "status", "verified", "is not one of: assessed"),
        ("missing_outcome_data", "judgement", "unclear", "is not one of: low, some_concerns, high"),
        ("missing_outcome_data", "domain", "blinding", "is not one of"),
        ("missing_outcome_data", "signalling", "", "signalling answers"),
        ("overall", "signalling", "1.1 Y", "no signalling questions"),
        ("missing_outcome_data", "reason", "", "is empty but required"),
        ("missing_outcome_data", "source_url", "", "is empty but required"),
    ],
)
def test_validator_catches_rob_errors(tmp_path, domain, column, value, message):
    data = _copy(tmp_path)
    line = _edit(data, "oh2018", domain, column, value)
    issues = [i for i in validate_data(data) if i.file == "risk_of_bias.csv"]
    assert any(message in i.message for i in issues), issues
    if column not in ("domain",):  # a wrong domain is reported on its row and as a missing domain of the result
        assert any(i.line == line for i in issues), issues


def test_validator_names_a_missing_domain(tmp_path):
    data = _copy(tmp_path)
    path = data / "risk_of_bias.csv"
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame = frame[~((frame.study_id == "cudkowicz2022") & (frame.domain == "randomisation_process"))]
    frame.to_csv(path, index=False)
    issues = [str(i) for i in validate_data(data)]
    assert any("cudkowicz2022" in i and "lacks RoB 2 domain(s): randomisation_process" in i for i in issues), issues


def test_overall_high_with_only_some_concerns_is_allowed(tmp_path):
    # RoB 2 lets assessors judge high when several domains raise some concerns
    data = _copy(tmp_path)
    _edit(data, "berry2019", "overall", "judgement", "high")
    assert [i for i in validate_data(data) if i.file == "risk_of_bias.csv"] == []


# ------------------------------------------------------------------ the figures
TABLE = pd.DataFrame(
    {
        "trial": ["A 2018"] * 6 + ["B 2022"] * 6,
        "domain": list(ROB2_DOMAINS) * 2,
        "judgement": [
            "low",
            "some_concerns",
            "high",
            "high",
            "low",
            "high",
            "low",
            "low",
            "some_concerns",
            "low",
            "low",
            "some_concerns",
        ],
    }
)


def test_traffic_light_draws_each_judgement_with_its_colour_and_symbol():
    fig = traffic_light_plot(TABLE)
    cells = find(fig, "rob:cell")
    symbols = find(fig, "rob:symbol")
    assert len(cells) == len(symbols) == 12
    for cell, symbol in zip(cells, symbols, strict=True):
        judgement = cell.get_gid().rsplit(":", 1)[1]
        assert to_hex(cell.get_markerfacecolor()) == JUDGEMENTS[judgement]["colour"].lower()
        assert symbol.get_marker() == JUDGEMENTS[judgement]["marker"]
    gids = [c.get_gid() for c in cells]
    assert "rob:cell:A 2018:missing_outcome_data:high" in gids
    assert "rob:cell:B 2022:overall:some_concerns" in gids


def test_judgements_differ_by_symbol_and_hatch_not_only_colour():
    assert len({j["marker"] for j in JUDGEMENTS.values()}) == 3
    assert len({j["hatch"] for j in JUDGEMENTS.values()}) == 3


def test_traffic_light_rows_follow_the_table_and_key_names_domains():
    fig = traffic_light_plot(TABLE)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["A 2018", "B 2022"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["D1", "D2", "D3", "D4", "D5", "Overall"]
    key = texts(fig, "rob:domain-key")[0]
    assert "D3: Bias due to missing outcome data" in key
    assert fig.get_figwidth() == pytest.approx(SINGLE_COLUMN)


def test_summary_bars_are_the_shares_of_trials():
    fig = risk_of_bias_summary_plot(TABLE)
    width = {a.get_gid(): a.get_width() for a in find(fig, "rob:bar")}
    assert width["rob:bar:missing_outcome_data:high"] == pytest.approx(50.0)
    assert width["rob:bar:missing_outcome_data:some_concerns"] == pytest.approx(50.0)
    assert width["rob:bar:randomisation_process:low"] == pytest.approx(100.0)
    assert width["rob:bar:overall:low"] == pytest.approx(0.0)
    hatches = {a.get_gid().rsplit(":", 1)[1]: a.get_hatch() for a in find(fig, "rob:bar")}
    assert hatches["low"] != hatches["some_concerns"] != hatches["high"]


def test_summary_bars_weighted_by_participants():
    fig = risk_of_bias_summary_plot(TABLE, weights={"A 2018": 64, "B 2022": 196})
    width = {a.get_gid(): a.get_width() for a in find(fig, "rob:bar")}
    assert width["rob:bar:overall:high"] == pytest.approx(100 * 64 / 260)
    assert width["rob:bar:overall:some_concerns"] == pytest.approx(100 * 196 / 260)
    assert fig.axes[0].get_xlabel() == "Share of participants (%)"


def test_combined_figure_is_double_column_with_readable_text():
    fig = risk_of_bias_figure(TABLE, caption="Judgements are this project's own.")
    assert fig.get_figwidth() == pytest.approx(DOUBLE_COLUMN)
    assert len(find(fig, "rob:cell")) == 12 and len(find(fig, "rob:bar")) == 18
    sizes = [
        t.get_fontsize()
        for t in fig.findobj(lambda a: hasattr(a, "get_fontsize") and hasattr(a, "get_text"))
        if t.get_text()
    ]
    assert min(sizes) >= 7.0


def test_the_committed_assessment_draws():
    rob = _rob().rename(columns={"study_id": "trial"})
    fig = risk_of_bias_figure(rob)
    assert len(find(fig, "rob:cell")) == len(rob)
    high = [c.get_gid() for c in find(fig, "rob:cell") if c.get_gid().endswith(":overall:high")]
    assert "rob:cell:oh2018:overall:high" in high


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda t: t.assign(domain=t.domain.replace("overall", "total")), "trial 'A 2018', column 'domain'"),
        (lambda t: t.assign(judgement=t.judgement.replace("high", "serious")), "column 'judgement'"),
        (lambda t: pd.concat([t, t.iloc[:1]]), "judged twice"),
        (lambda t: t.drop(columns="judgement"), "judgement: column 'judgement' is not in the table"),
        (lambda t: t.iloc[:0], "no rows"),
    ],
)
def test_bad_tables_raise_naming_trial_and_column(change, message):
    with pytest.raises(AlsmetaInputError, match=message):
        traffic_light_plot(change(TABLE))


def test_bad_weights_raise():
    with pytest.raises(AlsmetaInputError, match="weights: trial 'B 2022' has no weight"):
        risk_of_bias_summary_plot(TABLE, weights={"A 2018": 1.0})
    with pytest.raises(AlsmetaInputError, match="weights"):
        risk_of_bias_summary_plot(TABLE, weights={"A 2018": 1.0, "B 2022": -2})
    with pytest.raises(AlsmetaInputError, match="table"):
        traffic_light_plot(np.zeros((2, 3)))
