"""effect_sizes(measure, data=, ...) against R metafor escalc(), its data interface, bad input and properties.

Reference values: tests/reference/metafor_measures.json, written by
tests/reference/generate_measures_reference.R (metafor 3.8-1 escalc() for PETO, PR, PLN, PLO,
PAS, PFT, IR, IRLN, IRR, IRD, COR, UCOR, ZCOR, SMDH, CVR, VR, MN, MNLN with metafor's zero-cell
options, and transf.ipft / transf.ipft.hm). escalc() is closed form: agreement is demanded to a
relative 1e-13 (measured: 5e-15 at worst), except UCOR with vtype="UB" (1e-10): at r = 0 GSL's
2F1(1, 1; n/2; 1) inside metafor is off by up to 7e-12, while alsmeta gives the exact 1/(n - 4)
(checked below). Where metafor returns NA (a log of zero with add=0) or a zero variance, alsmeta
raises an error naming the first such study (it cannot be weighted); where metafor stops, alsmeta
raises too.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import alsmeta as am
from alsmeta.effects import log_odds_ratio, log_risk_ratio, risk_difference, transf_ipft, transf_ipft_hm
from alsmeta.effects.correlations import SERIES_FROM_C, gauss_hypergeometric
from alsmeta.effects.escalc import MEASURES, effect_sizes
from alsmeta.effects.proportions import _pft
from alsmeta.validation import AlsmetaInputError
from conftest import load_reference

REF = load_reference("metafor_measures.json")
CASES = REF["cases"]
RTOL = 1e-13


def _options(case: dict) -> dict:
    return {k: (bool(v) if k == "drop00" else v) for k, v in case["options"].items()}


def _array(values: list) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def _unweightable(case: dict) -> np.ndarray:
    """Studies metafor gives NA (not by drop00) or a zero variance."""
    yi, vi = _array(case["yi"]), _array(case["vi"])
    na = np.isnan(yi) | np.isnan(vi)
    if case["options"].get("drop00"):
        na[:] = False
    return na | (vi == 0)


def test_reference_covers_every_new_measure():
    measured = {c["measure"] for c in CASES}
    new = {"PETO", "PR", "PLN", "PLO", "PAS", "PFT", "IR", "IRLN", "IRR", "IRD", "COR", "UCOR", "ZCOR"}
    assert new | {"SMDH", "CVR", "VR", "MN", "MNLN"} <= measured
    assert measured <= set(MEASURES)


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_against_metafor_escalc(case):
    args = dict(labels=case["labels"], **_options(case), **case["inputs"])
    if case.get("failed"):  # metafor stops (COR with vtype="UB"): so does alsmeta, naming the option
        with pytest.raises(AlsmetaInputError, match="vtype"):
            effect_sizes(case["measure"], **args)
        return
    bad = _unweightable(case)
    if bad.any():
        first = case["labels"][int(np.flatnonzero(bad)[0])]
        with pytest.raises(AlsmetaInputError, match=f"study {re.escape(repr(first))}.*{case['measure']} is undefined"):
            effect_sizes(case["measure"], **args)
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate labels in a data set are made unique with a warning
        es = effect_sizes(case["measure"], **args)
    rtol = 1e-10 if case["id"].startswith("UCOR") and "UB" in case["id"] else RTOL
    yi, vi = _array(case["yi"]), _array(case["vi"])
    assert np.array_equal(np.isnan(es.yi), np.isnan(yi)), "NaN (drop00) where metafor has NA"
    np.testing.assert_allclose(es.yi, yi, rtol=rtol, atol=1e-300, equal_nan=True)
    np.testing.assert_allclose(es.vi, vi, rtol=rtol, atol=0, equal_nan=True)
    assert es.measure == case["measure"]
    assert len(es.labels) == len(case["labels"])


def test_ucor_unbiased_variance_is_exact_at_zero_correlation():
    """r = 0: y = 0 and 2F1(1, 1; n/2; 1) = (n - 2)/(n - 4) (Gauss), so vi = 1/(n - 4) exactly."""
    n = np.array([5, 6, 9, 65, 116, 771], dtype=float)
    es = effect_sizes("UCOR", ri=np.zeros(6), ni=n, vtype="UB")
    np.testing.assert_allclose(es.vi, 1 / (n - 4), rtol=1e-12)  # vi is a difference of numbers near 1: ~n ulps
    assert np.all(es.yi == 0)


@pytest.mark.parametrize("c", [SERIES_FROM_C, 12.5, 40.0, 162.0, 385.5])
@pytest.mark.parametrize(("a", "b"), [(0.5, 0.5), (1.0, 1.0)])
def test_hypergeometric_series_matches_gauss_at_one_and_scipy_below(a, b, c):
    from scipy.special import gamma, hyp2f1

    exact_at_one = (c - 1) / (c - 2) if a == b == 1.0 else None
    if exact_at_one is not None:
        assert gauss_hypergeometric(a, b, c, 1.0) == pytest.approx(exact_at_one, rel=2e-15)
    elif c < 100:
        expected = gamma(c) * gamma(c - a - b) / (gamma(c - a) * gamma(c - b))
        assert gauss_hypergeometric(a, b, c, 1.0) == pytest.approx(expected, rel=1e-13)
    scipy_value = hyp2f1(a, b, c, 0.3)
    assert gauss_hypergeometric(a, b, c, 0.3) == pytest.approx(scipy_value, rel=1e-15)


def _series_2f1(a: float, b: float, c: float, x: float) -> float:
    """The defining series summed term by term in plain Python (all terms positive), to 1e-18."""
    term = total = 1.0
    k = 0
    while term > 1e-18 * total:
        term *= (a + k) * (b + k) / ((c + k) * (k + 1)) * x
        total += term
        k += 1
    return total


@pytest.mark.parametrize(("r", "n"), [(0.008380122872622131, 16), (0.05, 6), (0.3, 9), (0.01, 21), (0.9, 40)])
def test_ucor_near_x_one_with_small_c_equals_the_plain_series(r, n):
    """Here GSL (inside metafor) is off: for r = 0.00838, n = 16 metafor's UCOR is 0.0087364067, 2e-5 too high."""
    es = effect_sizes("UCOR", ri=[r], ni=[n])
    assert es.yi[0] == pytest.approx(r * _series_2f1(0.5, 0.5, (n - 2) / 2, 1 - r * r), rel=1e-14)


# ---------------------------------------------------------------- PFT back-transformation
PFT = REF["pft_backtransform"]


@pytest.mark.parametrize("item", PFT["studies"], ids=[s["dataset"] for s in PFT["studies"]])
def test_pft_back_transformation_against_metafor(item):
    es = effect_sizes("PFT", xi=item["xi"], ni=item["ni"])
    np.testing.assert_allclose(es.yi, item["yi"], rtol=RTOL)
    np.testing.assert_allclose(transf_ipft(es.yi, item["ni"]), item["ipft"], rtol=1e-12, atol=1e-15)
    for method, ref in item["pooled"].items():
        fit = am.pool(es.yi, es.vi, method={"EE": "CE"}.get(method, method))
        assert fit.estimate == pytest.approx(ref["pred_pft"], rel=1e-9)
        back = transf_ipft_hm([fit.estimate, fit.ci_low, fit.ci_high], item["ni"])
        np.testing.assert_allclose(back, [ref["pred"], ref["ci_lb"], ref["ci_ub"]], rtol=1e-8)
        if ref["pi_lb"] is not None:
            np.testing.assert_allclose(
                transf_ipft_hm([fit.pi_low, fit.pi_high], item["ni"]), [ref["pi_lb"], ref["pi_ub"]], rtol=1e-8
            )


def test_pft_back_transformation_grid_with_clamping():
    grid = PFT["grid"]
    np.testing.assert_allclose(transf_ipft_hm(grid["x"], grid["ni"]), grid["ipft_hm"], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(transf_ipft(grid["x"], 10), grid["ipft_at_ni_10"], rtol=1e-12, atol=1e-15)
    assert isinstance(transf_ipft(0.5, 10), float)


@given(st.integers(min_value=1, max_value=5000), st.data())
def test_pft_round_trip_recovers_the_proportion(n, data):
    x = data.draw(st.integers(min_value=0, max_value=n))
    assert transf_ipft(_pft(float(x), float(n)), n) == pytest.approx(x / n, abs=1e-9)


@pytest.mark.parametrize(("yi", "ni", "arg"), [([0.5, np.nan], 10, "yi"), (0.5, 0, "ni"), (0.5, [10, -1], "ni")])
def test_pft_back_transformation_bad_input(yi, ni, arg):
    with pytest.raises(AlsmetaInputError, match=f"^{arg}:"):
        transf_ipft(yi, ni)


# ---------------------------------------------------------------- data= and labels
@pytest.fixture()
def bcg_frame():
    return pd.DataFrame(
        {
            "trial": ["Aronson", "Ferguson", "Rosenthal", "Hart"],
            "tpos": [4, 6, 3, 62],
            "tneg": [119, 300, 228, 13536],
            "cpos": [11, 29, 11, 248],
            "cneg": [128, 274, 209, 12619],
        },
        index=[10, 11, 12, 13],
    )


def test_columns_by_name_equal_columns_as_arrays(bcg_frame):
    named = effect_sizes("RR", data=bcg_frame, ai="tpos", bi="tneg", ci="cpos", di="cneg", labels="trial")
    direct = log_risk_ratio(
        bcg_frame.tpos, bcg_frame.tpos + bcg_frame.tneg, bcg_frame.cpos, bcg_frame.cpos + bcg_frame.cneg
    )
    np.testing.assert_array_equal(named.yi, direct.yi)
    np.testing.assert_array_equal(named.vi, direct.vi)
    frame = named.to_frame()
    assert frame["label"].tolist() == ["Aronson", "Ferguson", "Rosenthal", "Hart"]
    assert list(frame.columns[:3]) == ["label", "yi", "vi"]
    assert set(frame["measure"]) == {"RR"}


def test_series_are_paired_by_index(bcg_frame):
    shuffled = bcg_frame.cneg.iloc[::-1]  # same labels, other order: paired by index, not position
    es = effect_sizes("OR", data=bcg_frame, ai="tpos", bi="tneg", ci="cpos", di=shuffled, labels="trial")
    ref = effect_sizes("OR", data=bcg_frame, ai="tpos", bi="tneg", ci="cpos", di="cneg", labels="trial")
    np.testing.assert_array_equal(es.yi, ref.yi)
    other = pd.Series([1, 2, 3, 4], index=[0, 1, 2, 3])
    with pytest.raises(AlsmetaInputError, match="pandas indexes hold different labels"):
        effect_sizes("OR", data=bcg_frame, ai="tpos", bi="tneg", ci="cpos", di=other)


def test_mapping_as_data_and_case_insensitive_measure():
    es = effect_sizes("pr", data={"x": [2, 5], "n": [10, 20]}, xi="x", ni="n")
    np.testing.assert_allclose(es.yi, [0.2, 0.25])
    assert es.measure == "PR"


def test_duplicate_labels_made_unique_with_a_warning():
    with pytest.warns(am.AlsmetaWarning, match="made unique"):
        es = effect_sizes("IR", xi=[1, 2, 3], ti=[10, 10, 10], labels=["a", "b", "a"])
    assert es.labels == ["a.1", "b", "a.2"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"measure": "XYZ", "xi": [1]}, "measure: 'XYZ' is not one of"),
        ({"measure": "PR", "xi": [1], "ni": [2], "ai": [1]}, "ai: not an argument of measure 'PR'"),
        ({"measure": "PR", "xi": [1]}, "ni or mi: required for measure 'PR'"),
        ({"measure": "OR", "ai": [1], "ci": [2], "di": [3]}, "bi or n1i: required"),
        (
            {"measure": "MD", "m1i": [1], "sd1i": [1], "n1i": [5], "m2i": [0], "sd2i": [1], "n2i": [5], "add": 0},
            "add: not an option of measure 'MD'",
        ),
        ({"measure": "MN", "mi": [1], "sdi": [1], "ni": [5], "vtype": "UB"}, "vtype: not an option of measure 'MN'"),
        ({"measure": "PR", "xi": "x", "ni": [5]}, "xi: 'x' looks like a column name, but no data= was given"),
        ({"measure": "IR", "xi": [1], "ti": [1], "drop00": True}, "drop00: not an option of measure 'IR'"),
        ({"measure": "PR", "xi": [1], "ni": [5], "to": "some"}, "to: must be one of"),
        ({"measure": "PR", "xi": [1], "ni": [5], "add": -1}, "add: must be >= 0"),
    ],
)
def test_argument_mistakes_name_the_argument(kwargs, message):
    with pytest.raises(AlsmetaInputError, match=re.escape(message)):
        effect_sizes(**kwargs)


def test_missing_data_column_is_named(bcg_frame):
    with pytest.raises(AlsmetaInputError, match=r"ci: data has no column 'cases' \(columns: trial, tpos"):
        effect_sizes("OR", data=bcg_frame, ai="tpos", bi="tneg", ci="cases", di="cneg")


@pytest.mark.parametrize(
    ("measure", "columns", "message"),
    [
        ("PR", {"xi": [3, 12], "ni": [10, 11]}, "study 'B', column 'xi': 12 events but ni = 11"),
        ("PR", {"xi": [3, 2.5], "ni": [10, 11]}, "study 'B', column 'xi': value 2.5 must be a whole number"),
        ("PR", {"xi": [3, 2], "ni": [10, 11], "mi": [7, 8]}, "study 'B', column 'mi': 8 is not ni - xi = 9"),
        (
            "IRR",
            {"x1i": [1, 2], "t1i": [10, 0], "x2i": [1, 1], "t2i": [5, 5]},
            "study 'B', column 't1i': value 0.0 must be > 0",
        ),
        ("COR", {"ri": [0.2, 1.2], "ni": [10, 20]}, "study 'B', column 'ri': correlation 1.2 lies outside"),
        ("COR", {"ri": [0.2, 0.1], "ni": [10, 3]}, "study 'B', column 'ni': sample size 3 is below 4"),
        ("ZCOR", {"ri": [0.2, 1.0], "ni": [10, 30]}, "study 'B', column 'ri': ZCOR is undefined"),
        ("UCOR", {"ri": [0.2, 0.1], "ni": [10, 4]}, "study 'B', column 'ni': sample size 4 is below 5"),
        ("MNLN", {"mi": [1.0, -2.0], "sdi": [1, 1], "ni": [5, 5]}, "study 'B', column 'mi': value -2.0 must be > 0"),
        ("MN", {"mi": [1.0, 2.0], "sdi": [1, np.nan], "ni": [5, 5]}, "study 'B', column 'sdi': value is missing"),
        (
            "VR",
            {"sd1i": [1, 1], "n1i": [5, 1], "sd2i": [1, 1], "n2i": [5, 5]},
            "study 'B', column 'n1i': sample size 1 is below 2",
        ),
        (
            "OR",
            {"ai": [1, 5], "n1i": [10, 4], "ci": [1, 1], "n2i": [5, 5]},
            "study 'B', column 'ai': 5 events but n1i = 4",
        ),
        (
            "OR",
            {"ai": [1, 2], "bi": [9, 2], "n1i": [10, 5], "ci": [1, 1], "di": [4, 4]},
            "study 'B', column 'n1i': 5 is not ai + bi = 4",
        ),
        (
            "SMD",
            {"m1i": [1, 2], "sd1i": [1, -1], "n1i": [5, 5], "m2i": [0, 0], "sd2i": [1, 1], "n2i": [5, 5]},
            "study 'B', column 'sd1i': value -1.0 must be > 0",
        ),
        (
            "SMCR",
            {"m1i": [1, 2], "m2i": [0, 0], "sd1i": [1, 1], "ni": [5, 2], "ri": [0.5, 0.5]},
            "study 'B', column 'ni': sample size 2 is below 3",
        ),
    ],
)
def test_bad_values_name_the_argument_and_the_study(measure, columns, message):
    with pytest.raises(AlsmetaInputError, match=re.escape(message)):
        effect_sizes(measure, labels=["A", "B"], **columns)


def test_error_names_the_data_column_behind_an_argument():
    frame = pd.DataFrame({"study": ["A", "B"], "events": [3, 12], "total": [10, 11]})
    with pytest.raises(AlsmetaInputError, match=r"column 'xi': 12 events but ni = 11 \(xi = data column 'events'\)"):
        effect_sizes("PR", data=frame, xi="events", ni="total", labels="study")


def test_notes_name_the_corrected_and_dropped_studies():
    es = effect_sizes(
        "IRR", x1i=[0, 0, 3], t1i=[10, 10, 10], x2i=[0, 2, 4], t2i=[9, 9, 9], labels=["a", "b", "c"], drop00=True
    )
    assert np.isnan(es.yi[0]) and np.isnan(es.vi[0])
    assert any("drop00=True" in n and "a" in n for n in es.notes)
    assert any("0.5 added" in n and n.endswith(": b") for n in es.notes)


# ---------------------------------------------------------------- the measures kept in effects.measures
@pytest.mark.parametrize("vtype", [None, "HO"])
def test_md_through_effect_sizes_equals_mean_difference(vtype):
    cols = {
        "m1i": [1.0, 2.5],
        "sd1i": [1.0, 2.0],
        "n1i": [10, 12],
        "m2i": [0.5, 2.0],
        "sd2i": [1.5, 1.0],
        "n2i": [11, 9],
    }
    es = effect_sizes("MD", vtype=vtype, **cols)
    direct = am.mean_difference(*[cols[k] for k in ("m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i")], vtype=vtype or "LS")
    np.testing.assert_array_equal(es.vi, direct.vi)


def test_mean_change_measures_use_metafors_roles():
    """m1i = after, m2i = before; SMCR standardizes by sd1i (metafor's convention, the SD before)."""
    after, before, sd_after, sd_before, n, r = [12.0], [10.0], [3.0], [2.0], [20], [0.6]
    mc = effect_sizes("MC", m1i=after, m2i=before, sd1i=sd_after, sd2i=sd_before, ni=n, ri=r)
    assert mc.yi[0] == 2.0
    assert mc.vi[0] == pytest.approx((9 + 4 - 2 * 0.6 * 6) / 20, rel=1e-15)
    smcr = effect_sizes("SMCR", m1i=after, m2i=before, sd1i=sd_before, ni=n, ri=r)
    j = am.hedges_correction(19.0)
    assert smcr.yi[0] == pytest.approx(j * 2.0 / 2.0, rel=1e-15)


# ---------------------------------------------------------------- properties
tables = st.lists(
    st.tuples(st.integers(0, 40), st.integers(1, 40), st.integers(0, 40), st.integers(1, 40)), min_size=1, max_size=8
)


@given(tables)
def test_two_by_two_through_effect_sizes_equals_the_named_functions(rows):
    a = np.array([min(r[0], r[1]) for r in rows], dtype=float)
    n1 = np.array([r[1] for r in rows], dtype=float)
    c = np.array([min(r[2], r[3]) for r in rows], dtype=float)
    n2 = np.array([r[3] for r in rows], dtype=float)
    for code, named in (("OR", log_odds_ratio), ("RR", log_risk_ratio), ("RD", risk_difference)):
        es = effect_sizes(code, ai=a, n1i=n1, ci=c, n2i=n2)
        ref = named(a, n1, c, n2)
        np.testing.assert_allclose(es.yi, ref.yi, rtol=1e-14, atol=1e-15)
        np.testing.assert_allclose(es.vi, ref.vi, rtol=1e-14)


@given(
    st.lists(
        st.tuples(st.integers(0, 50), st.floats(0.5, 500), st.integers(0, 50), st.floats(0.5, 500)),
        min_size=1,
        max_size=6,
    ),
    st.sampled_from(["IRR", "IRD"]),
)
def test_swapping_the_groups_negates_a_rate_comparison(rows, code):
    x1, t1, x2, t2 = (np.array(col, dtype=float) for col in zip(*rows, strict=True))
    forward = effect_sizes(code, x1i=x1, t1i=t1, x2i=x2, t2i=t2)
    backward = effect_sizes(code, x1i=x2, t1i=t2, x2i=x1, t2i=t1)
    np.testing.assert_allclose(backward.yi, -forward.yi, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(backward.vi, forward.vi, rtol=1e-12)


@given(st.lists(st.tuples(st.floats(-0.99, 0.99), st.integers(4, 10_000)), min_size=1, max_size=6))
def test_zcor_back_transforms_to_r_and_labels_survive_to_frame(rows):
    r, n = (np.array(col, dtype=float) for col in zip(*rows, strict=True))
    labels = [f"trial {i}" for i in range(len(rows))]
    es = effect_sizes("ZCOR", ri=r, ni=n, labels=labels)
    np.testing.assert_allclose(np.tanh(es.yi), r, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(es.vi, 1 / (n - 3), rtol=1e-15)
    assert es.to_frame()["label"].tolist() == labels


@pytest.mark.parametrize("measure", list(MEASURES))
def test_no_studies_give_an_empty_result_without_warnings(measure):
    columns = {names[0]: [] for names in MEASURES[measure].required}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        es = effect_sizes(measure, **columns)
    assert es.k == 0 and es.measure == measure
    assert es.to_frame().empty
