"""alsmeta.effects.measures against R metafor escalc(), worked examples, properties and bad input.

Reference values: tests/reference/metafor_effects.json, written by
tests/reference/generate_effects_reference.R (metafor escalc() on
dat.normand1999, dat.bcg, dat.nielweise2007 and the Morris 2008 pre-post data).
escalc() is closed form, so agreement is demanded to a relative 1e-10.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alsmeta.effects.measures import (
    EffectSizes,
    hedges_correction,
    log_odds_ratio,
    log_ratio_of_means,
    log_risk_ratio,
    mean_change,
    mean_difference,
    risk_difference,
    slope_change,
    standardized_mean_change,
    standardized_mean_difference,
)
from alsmeta.validation import AlsmetaInputError
from conftest import load_reference

REF = load_reference("metafor_effects.json")
DATA = REF["datasets"]
RTOL = 1e-10
ATOL = 1e-14  # only matters where metafor's value is exactly 0 (Morris control study 3)


def assert_input_error(call, study: str, column: str, what: str) -> None:
    """``call()`` raises AlsmetaInputError naming the study, the column and the problem."""
    with pytest.raises(AlsmetaInputError) as info:
        call()
    message = str(info.value)
    assert f"study {study!r}" in message and f"column {column!r}" in message and what in message, message


def _as_float(values):
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def _assert_matches(result: EffectSizes, ref: dict) -> None:
    yi, vi = _as_float(ref["yi"]), _as_float(ref["vi"])
    np.testing.assert_array_equal(np.isnan(result.yi), np.isnan(yi))
    np.testing.assert_allclose(result.yi, yi, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(result.vi, vi, rtol=RTOL, atol=ATOL)


def _effect(dataset: str, name: str) -> dict:
    return next(e for e in DATA[dataset]["effects"] if e["name"] == name)


def test_reference_file_records_provenance():
    assert REF["metafor_version"] == "3.8.1"
    assert REF["generator"] == "tests/reference/generate_effects_reference.R"
    assert len(DATA["nielweise2007"]["effects"]) == 15


# --- two groups, continuous ------------------------------------------------------

MEANS_FUNCS = {
    "MD": mean_difference,
    "SMD": standardized_mean_difference,
    "ROM": log_ratio_of_means,
}


@pytest.mark.parametrize("ref", DATA["normand1999"]["effects"], ids=lambda e: e["name"])
def test_two_group_means_match_metafor(ref):
    d = DATA["normand1999"]["data"]
    measure, vtype = ref["name"].split("_")
    kwargs = {} if measure == "ROM" else {"vtype": vtype}
    res = MEANS_FUNCS[measure](
        d["m1i"],
        d["sd1i"],
        d["n1i"],
        d["m2i"],
        d["sd2i"],
        d["n2i"],
        labels=DATA["normand1999"]["labels"],
        **kwargs,
    )
    assert res.measure == measure
    assert res.labels == DATA["normand1999"]["labels"]
    _assert_matches(res, ref)


def test_hedges_correction_is_the_exact_gamma_ratio():
    # J(m) = Gamma(m/2) / (sqrt(m/2) Gamma((m-1)/2)), written with math.gamma
    for m in (2, 3, 10, 37.0, 150):
        expected = math.gamma(m / 2) / (math.sqrt(m / 2) * math.gamma((m - 1) / 2))
        assert hedges_correction(m) == pytest.approx(expected, rel=1e-13)
    # Hedges' approximation 1 - 3/(4m - 1) differs by O(1/m^2) (about 0.033/m^2)
    m = np.arange(10, 300)
    assert np.max(np.abs(hedges_correction(m) - (1 - 3 / (4 * m - 1))) * m**2) < 0.035
    with pytest.raises(AlsmetaInputError, match="exceed 1"):
        hedges_correction([5, 1])


def test_smd_worked_example():
    # group 1: 10 (sd 2, n 12); group 2: 8 (sd 3, n 10)
    sp = math.sqrt((11 * 4 + 9 * 9) / 20)
    j = math.exp(math.lgamma(10) - math.log(math.sqrt(10)) - math.lgamma(9.5))
    g = j * 2 / sp
    res = standardized_mean_difference([10], [2], [12], [8], [3], [10])
    assert res.yi[0] == pytest.approx(g, rel=1e-13)
    assert res.vi[0] == pytest.approx(1 / 12 + 1 / 10 + g**2 / (2 * 22), rel=1e-13)


# --- 2x2 tables --------------------------------------------------------------------

COUNT_FUNCS = {"OR": log_odds_ratio, "RR": log_risk_ratio, "RD": risk_difference}


def _count_cases():
    for dataset in ("bcg", "nielweise2007"):
        for ref in DATA[dataset]["effects"]:
            yield pytest.param(dataset, ref, id=f"{dataset}-{ref['name']}")


@pytest.mark.parametrize(("dataset", "ref"), list(_count_cases()))
def test_two_by_two_match_metafor(dataset, ref):
    d = DATA[dataset]["data"]
    measure = ref["name"].split("_")[0]
    res = COUNT_FUNCS[measure](d["ai"], d["n1i"], d["ci"], d["n2i"], labels=DATA[dataset]["labels"], **ref["options"])
    assert res.measure == measure
    _assert_matches(res, ref)


def test_zero_cells_are_corrected_and_reported_by_name():
    d, labels = DATA["nielweise2007"]["data"], DATA["nielweise2007"]["labels"]
    res = log_odds_ratio(d["ai"], d["n1i"], d["ci"], d["n2i"], labels=labels)
    zero = [lab for lab, a, c in zip(labels, d["ai"], d["ci"], strict=True) if a == 0 or c == 0]
    assert len(zero) == 6 and "Yucel 2004" in zero
    assert res.notes == ("0.5 added to every cell of: " + ", ".join(zero),)
    # the double-zero study is kept (metafor default) with the corrected log OR
    i = labels.index("Yucel 2004")
    expected = math.log((0.5 / 118.5) / (0.5 / 105.5))
    assert res.yi[i] == pytest.approx(expected, rel=1e-13)
    assert res.vi[i] == pytest.approx(2 / 0.5 + 1 / 118.5 + 1 / 105.5, rel=1e-13)


def test_drop00_gives_nan_and_names_the_study():
    d, labels = DATA["nielweise2007"]["data"], DATA["nielweise2007"]["labels"]
    res = log_risk_ratio(d["ai"], d["n1i"], d["ci"], d["n2i"], labels=labels, drop00=True)
    assert np.isnan(res.yi).sum() == 1 and np.isnan(res.yi[labels.index("Yucel 2004")])
    assert any("drop00" in n and "Yucel 2004" in n for n in res.notes)


def test_rd_default_correction_moves_a_double_zero_study_off_zero():
    res = risk_difference([0], [118], [0], [105], labels=["Yucel"])
    assert res.yi[0] == pytest.approx(0.5 / 119 - 0.5 / 106, rel=1e-13)
    uncorrected = risk_difference([0, 3], [118, 50], [1, 6], [105, 50], to="none")
    assert uncorrected.yi[0] == pytest.approx(-1 / 105, rel=1e-13)
    assert uncorrected.notes == ()


def test_no_correction_with_a_zero_cell_raises_naming_the_study():
    with pytest.raises(AlsmetaInputError, match=r"'Raad 1997'.*'events1'.*OR is undefined"):
        log_odds_ratio([1, 0], [40, 130], [3, 7], [35, 136], to="none", labels=["George 1997", "Raad 1997"])
    with pytest.raises(AlsmetaInputError, match=r"'B'.*RD is undefined or has zero variance"):
        risk_difference([1, 0], [40, 20], [3, 0], [35, 20], add=0, labels=["A", "B"])


def test_bcg_log_rr_agrees_with_the_shared_fixture(bcg):
    yi, vi = bcg
    d = DATA["bcg"]["data"]
    res = log_risk_ratio(d["ai"], d["n1i"], d["ci"], d["n2i"])
    np.testing.assert_allclose(res.yi, yi, rtol=1e-12)
    np.testing.assert_allclose(res.vi, vi, rtol=1e-12)


# --- pre-post ------------------------------------------------------------------------


def _morris(group: str) -> dict:
    return DATA[f"morris2008_{group}"]["data"]


@pytest.mark.parametrize("group", ["treatment", "control"])
@pytest.mark.parametrize("name", ["MC", "SMCC_LS", "SMCC_LS2", "SMCR_LS", "SMCR_LS2"])
def test_pre_post_match_metafor(group, name):
    d = _morris(group)
    common = {"mean_pre": d["m_pre"], "mean_post": d["m_post"], "n": d["ni"]}
    if name == "MC":
        res = mean_change(**common, sd_pre=d["sd_pre"], sd_post=d["sd_post"], ri=d["ri"])
    elif name.startswith("SMCC"):
        res = standardized_mean_change(
            **common,
            standardizer="change",
            sd_pre=d["sd_pre"],
            sd_post=d["sd_post"],
            ri=d["ri"],
            vtype=name.split("_")[1],
        )
    else:
        res = standardized_mean_change(
            **common, standardizer="raw", sd_pre=d["sd_pre"], ri=d["ri"], vtype=name.split("_")[1]
        )
    assert res.measure == name.split("_")[0]
    _assert_matches(res, _effect(f"morris2008_{group}", name))


def test_smcr_reproduces_morris_2008_table_5():
    # treatment minus control SMCR, Morris (2008) p. 382, Table 5 (4 decimals)
    t, c = _morris("treatment"), _morris("control")
    gt = standardized_mean_change(t["m_pre"], t["m_post"], t["ni"], standardizer="raw", sd_pre=t["sd_pre"], ri=t["ri"])
    gc = standardized_mean_change(c["m_pre"], c["m_post"], c["ni"], standardizer="raw", sd_pre=c["sd_pre"], ri=c["ri"])
    np.testing.assert_allclose(gt.yi - gc.yi, [0.7421, 0.9524, 1.8054, 1.1514, 0.5050], atol=5e-5)


def test_reported_change_sd_and_mean_change_give_the_same_result():
    d = _morris("treatment")
    sd_change = np.sqrt(
        np.square(d["sd_pre"])
        + np.square(d["sd_post"])
        - 2 * np.array(d["ri"]) * np.array(d["sd_pre"]) * np.array(d["sd_post"])
    )
    change = np.array(d["m_post"]) - np.array(d["m_pre"])
    a = standardized_mean_change(change=change, n=d["ni"], sd_change=sd_change, standardizer="change")
    _assert_matches(a, _effect("morris2008_treatment", "SMCC_LS"))
    b = mean_change(change=change, n=d["ni"], sd_change=sd_change)
    _assert_matches(b, _effect("morris2008_treatment", "MC"))


def test_slope_change_worked_example_oh_2018():
    # Oh 2018 Table 3, ALSFRS-R slope change lead-in -> follow-up, MSC arm: 1.13 (SD 1.33), n 32
    res = slope_change(change=[1.13], sd_change=[1.33], n=[32], labels=["Oh 2018 MSC"])
    assert res.measure == "SLOPE_CHANGE"
    assert res.yi[0] == pytest.approx(1.13, rel=1e-15)
    assert res.vi[0] == pytest.approx(1.33**2 / 32, rel=1e-15)
    assert res.sei[0] == pytest.approx(1.33 / math.sqrt(32), rel=1e-15)


def test_slope_change_from_two_slopes_sds_and_correlation():
    # pre -1.2 (SD 0.8), post -0.6 (SD 0.9), r = 0.3, n = 20
    res = slope_change([-1.2], [-0.6], [20], sd_pre=[0.8], sd_post=[0.9], ri=0.3)
    assert res.yi[0] == pytest.approx(0.6, rel=1e-14)
    assert res.vi[0] == pytest.approx((0.64 + 0.81 - 2 * 0.3 * 0.8 * 0.9) / 20, rel=1e-14)


def test_pre_post_require_an_explicit_correlation_and_one_route():
    with pytest.raises(AlsmetaInputError, match="no default correlation"):
        mean_change([1], [2], [10], sd_pre=[1], sd_post=[1])
    with pytest.raises(AlsmetaInputError, match="not both"):
        mean_change([1], [2], [10], sd_change=[1], sd_pre=[1], sd_post=[1], ri=0.5)
    with pytest.raises(AlsmetaInputError, match="not both"):
        slope_change([1], [2], [10], change=[1], sd_change=[1])
    with pytest.raises(AlsmetaInputError, match="'ri'"):
        standardized_mean_change([1], [2], [10], standardizer="raw", sd_pre=[1])
    with pytest.raises(AlsmetaInputError, match="not used"):
        standardized_mean_change([1], [2], [10], standardizer="raw", sd_pre=[1], ri=0.5, sd_post=[1])
    with pytest.raises(AlsmetaInputError, match="standardizer"):
        standardized_mean_change([1], [2], [10], standardizer="pre", sd_change=[1])
    with pytest.raises(AlsmetaInputError, match="n >= 3"):
        standardized_mean_change([1], [2], [2], standardizer="change", sd_change=[1])


# --- the result object ------------------------------------------------------------


def test_effect_sizes_are_frozen_and_read_only():
    res = mean_difference([1, 2], [1, 1], [5, 5], [0, 0], [1, 1], [5, 5], labels=["a", "b"])
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.measure = "SMD"  # type: ignore[misc]
    with pytest.raises(ValueError):
        res.yi[0] = 9.0
    np.testing.assert_allclose(res.sei, np.sqrt([0.4, 0.4]), rtol=1e-15)
    frame = res.to_frame()
    assert list(frame["label"]) == ["a", "b"] and list(frame["yi"]) == [1.0, 2.0]
    assert len(res) == res.k == 2


# --- properties -----------------------------------------------------------------------

means = st.floats(-100, 100, allow_nan=False)
sds = st.floats(0.1, 50, allow_nan=False)
sizes = st.integers(2, 500)


@settings(max_examples=100, deadline=None)
@given(means, sds, sizes, means, sds, sizes)
def test_md_and_smd_are_antisymmetric_in_the_groups(m1, s1, n1, m2, s2, n2):
    for f in (mean_difference, standardized_mean_difference):
        ab = f([m1], [s1], [n1], [m2], [s2], [n2])
        ba = f([m2], [s2], [n2], [m1], [s1], [n1])
        assert ba.yi[0] == pytest.approx(-ab.yi[0], rel=1e-12, abs=1e-12)
        assert ba.vi[0] == pytest.approx(ab.vi[0], rel=1e-12)


@settings(max_examples=100, deadline=None)
@given(means, sds, sizes, means, sds, sizes, st.floats(1e-3, 1e3), st.floats(-1e3, 1e3))
def test_smd_is_invariant_to_linear_rescaling(m1, s1, n1, m2, s2, n2, scale, shift):
    a = standardized_mean_difference([m1], [s1], [n1], [m2], [s2], [n2])
    b = standardized_mean_difference([scale * m1 + shift], [scale * s1], [n1], [scale * m2 + shift], [scale * s2], [n2])
    assert b.yi[0] == pytest.approx(a.yi[0], rel=1e-8, abs=1e-9)
    assert b.vi[0] == pytest.approx(a.vi[0], rel=1e-8)
    md_a = mean_difference([m1], [s1], [n1], [m2], [s2], [n2])
    md_b = mean_difference([scale * m1], [scale * s1], [n1], [scale * m2], [scale * s2], [n2])
    assert md_b.vi[0] == pytest.approx(scale**2 * md_a.vi[0], rel=1e-10)


@st.composite
def tables(draw):
    n1, n2 = draw(st.integers(1, 300)), draw(st.integers(1, 300))
    return draw(st.integers(0, n1)), n1, draw(st.integers(0, n2)), n2


@settings(max_examples=150, deadline=None)
@given(tables())
def test_log_or_symmetries(table):
    a, n1, c, n2 = table
    base = log_odds_ratio([a], [n1], [c], [n2])
    swapped = log_odds_ratio([c], [n2], [a], [n1])
    flipped = log_odds_ratio([n1 - a], [n1], [n2 - c], [n2])  # count non-events instead
    for other in (swapped, flipped):
        assert other.yi[0] == pytest.approx(-base.yi[0], rel=1e-12, abs=1e-12)
        assert other.vi[0] == pytest.approx(base.vi[0], rel=1e-12)
    for f in (log_risk_ratio, risk_difference):
        ab, ba = f([a], [n1], [c], [n2]), f([c], [n2], [a], [n1])
        assert ba.yi[0] == pytest.approx(-ab.yi[0], rel=1e-12, abs=1e-15)
        assert ba.vi[0] == pytest.approx(ab.vi[0], rel=1e-12)


@settings(max_examples=100, deadline=None)
@given(means, means, sds, sds, st.floats(-0.9, 0.9), st.integers(3, 300), st.floats(-50, 50))
def test_pre_post_measures_ignore_a_common_shift(pre, post, s1, s2, r, n, shift):
    kw = {"sd_pre": [s1], "sd_post": [s2], "ri": r}
    for f, extra in ((mean_change, {}), (standardized_mean_change, {"standardizer": "change"})):
        a = f([pre], [post], [n], **kw, **extra)
        b = f([pre + shift], [post + shift], [n], **kw, **extra)
        assert b.yi[0] == pytest.approx(a.yi[0], rel=1e-9, abs=1e-9)
        assert b.vi[0] == pytest.approx(a.vi[0], rel=1e-9, abs=1e-12)


# --- bad input: message names the study and the column ------------------------------

LABELS = ["Mazzini 2012", "Petrou 2016", "Oh 2018"]


def _md_args(**override):
    args = {
        "mean1": [1.0, 2.0, 3.0],
        "sd1": [1.0, 1.0, 1.0],
        "n1": [10, 10, 10],
        "mean2": [0.5, 0.5, 0.5],
        "sd2": [1.0, 1.0, 1.0],
        "n2": [10, 10, 10],
    }
    args.update(override)
    return args


BAD_TWO_GROUP = [
    ("sd1", [1.0, -1.0, 1.0], "Petrou 2016", "must be > 0"),
    ("sd2", [1.0, 1.0, 0.0], "Oh 2018", "must be > 0"),
    ("n1", [10, 1, 10], "Petrou 2016", "below 2"),
    ("n2", [10, 10, 9.5], "Oh 2018", "whole number"),
    ("mean1", [1.0, float("nan"), 3.0], "Petrou 2016", "missing"),
    ("mean2", [0.5, "1.5", 0.5], "Petrou 2016", "not a number"),
    ("mean1", [1.0, None, 3.0], "Petrou 2016", "missing"),
    ("sd1", [1.0, 1.0], "Oh 2018", "no value"),
]


@pytest.mark.parametrize("func", [mean_difference, standardized_mean_difference, log_ratio_of_means])
@pytest.mark.parametrize(("column", "values", "study", "what"), BAD_TWO_GROUP)
def test_two_group_bad_input_names_study_and_column(func, column, values, study, what):
    assert_input_error(lambda: func(**_md_args(**{column: values}), labels=LABELS), study, column, what)


def test_mismatched_lengths_without_labels_name_the_default_label():
    with pytest.raises(AlsmetaInputError, match=r"'Study 3'.*'sd2'"):
        mean_difference(**_md_args(sd2=[1.0, 1.0]))


def test_ratio_of_means_needs_positive_means():
    with pytest.raises(AlsmetaInputError, match=r"'Oh 2018'.*'mean2'.*> 0"):
        log_ratio_of_means(**_md_args(mean2=[1.0, 1.0, -2.0]), labels=LABELS)


def test_duplicate_labels_made_unique_and_single_values_rejected():
    # issue 14: duplicate labels are made unique as metafor does, with a warning (no longer refused)
    with pytest.warns(UserWarning, match="duplicate"):
        es = mean_difference(**_md_args(), labels=["A", "B", "A"])
    assert list(es.labels) == ["A.1", "B", "A.2"]
    with pytest.raises(AlsmetaInputError, match="'mean1'.*single value"):
        mean_difference(**_md_args(mean1=3.0))


@pytest.mark.parametrize(
    ("override", "study", "column", "what"),
    [
        ({"events1": [3, 12, 1]}, "Petrou 2016", "events1", "events in a group"),
        ({"events2": [3, -1, 1]}, "Petrou 2016", "events2", ">= 0"),
        ({"n2": [10, 10, 0]}, "Oh 2018", "n2", "> 0"),
        ({"events1": [3, 2.5, 1]}, "Petrou 2016", "events1", "whole number"),
        ({"n1": [10, "ten", 10]}, "Petrou 2016", "n1", "not a number"),
        ({"events2": [1, 2]}, "Oh 2018", "events2", "no value"),
    ],
)
@pytest.mark.parametrize("func", [log_odds_ratio, log_risk_ratio, risk_difference])
def test_two_by_two_bad_input_names_study_and_column(func, override, study, column, what):
    args = {"events1": [3, 2, 1], "n1": [10, 10, 10], "events2": [1, 2, 3], "n2": [10, 10, 10]}
    args.update(override)
    assert_input_error(lambda: func(**args, labels=LABELS), study, column, what)


@pytest.mark.parametrize(
    ("override", "study", "column", "what"),
    [
        ({"ri": [0.5, 1.2, 0.5]}, "Petrou 2016", "ri", "outside [-1, 1]"),
        ({"ri": 1.0, "sd_post": [1.0, 1.0, 1.0]}, "Mazzini 2012", "ri", "SD of change of 0"),
        ({"sd_pre": [1.0, 1.0, -2.0]}, "Oh 2018", "sd_pre", "> 0"),
        ({"n": [10, 1, 10]}, "Petrou 2016", "n", "below 2"),
        ({"mean_post": [1.0, float("nan"), 1.0]}, "Petrou 2016", "mean_post", "missing"),
        ({"mean_pre": [1.0, 1.0, "x"]}, "Oh 2018", "mean_pre", "not a number"),
        ({"sd_post": [1.0, 2.0]}, "Oh 2018", "sd_post", "no value"),
    ],
)
@pytest.mark.parametrize("func", [mean_change, slope_change])
def test_pre_post_bad_input_names_study_and_column(func, override, study, column, what):
    args = {
        "mean_pre": [1.0, 2.0, 3.0],
        "mean_post": [2.0, 2.0, 2.0],
        "n": [10, 10, 10],
        "sd_pre": [1.0, 1.0, 1.0],
        "sd_post": [1.5, 1.5, 1.5],
        "ri": 0.5,
    }
    args.update(override)
    if func is slope_change:
        args["pre_slope"], args["post_slope"] = args.pop("mean_pre"), args.pop("mean_post")
        column = {"mean_pre": "pre_slope", "mean_post": "post_slope"}.get(column, column)
    assert_input_error(lambda: func(**args, labels=LABELS), study, column, what)


def test_unknown_options_are_rejected():
    with pytest.raises(AlsmetaInputError, match="vtype"):
        mean_difference(**_md_args(), vtype="UB")
    with pytest.raises(AlsmetaInputError, match="'to'|to:"):
        log_odds_ratio([1], [10], [2], [10], to="some")
    with pytest.raises(AlsmetaInputError, match="add"):
        log_odds_ratio([1], [10], [2], [10], add=-0.5)
