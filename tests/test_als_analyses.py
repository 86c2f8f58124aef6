"""The analysis definitions that moved from analyses/*.py into alsmeta.als, checked directly (issue 15).

The scripts' outputs are checked end to end in tests/test_analyses_cochrane.py
and tests/test_public_claims.py; these tests pin the pieces a script cannot
show on today's data: the branches for numbers that are missing, the rounding
rules of printed ratios, and the example data against metafor's.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from alsmeta.als.cochrane.living import (
    RESPONDER_TRIALS,
    definitions_match,
    fit_summary,
    nurown_binary,
    ratio_text,
    sparse_outcome_numbers,
)
from alsmeta.als.cochrane.pub3 import summary_of_findings
from alsmeta.als.gallery import bcg_effects, bcg_labels
from alsmeta.als.public_claims_report import rtm_at_pre_slopes
from alsmeta.als.summary import SummaryRow, summary_sentence
from alsmeta.als.tables import load_evidence
from alsmeta.als.trial_power import mcid_points

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def ev():
    return load_evidence(ROOT / "data")


def test_gallery_data_are_metafors_dat_bcg():
    ref = json.loads((ROOT / "tests" / "reference" / "metafor_effects.json").read_text(encoding="utf-8"))
    bcg = ref["datasets"]["bcg"]
    rr = next(e for e in bcg["effects"] if e["name"] == "RR")
    yi, vi = bcg_effects()
    assert bcg_labels() == bcg["labels"]
    np.testing.assert_allclose(yi, rr["yi"], rtol=1e-12)
    np.testing.assert_allclose(vi, rr["vi"], rtol=1e-12)


@pytest.mark.parametrize(
    ("x", "text"),
    [(0.004, "<0.01"), (0.006, "0.01"), (1.3349, "1.33"), (99.49, "99.49"), (99.5, "100"), (1234.4, "1234")],
)
def test_ratio_text_rounding(x, text):
    assert ratio_text(x) == text


@given(st.floats(min_value=1e-12, max_value=1e6))
def test_ratio_text_never_prints_a_positive_ratio_as_zero(x):
    text = ratio_text(x)
    assert text == "<0.01" or float(text) > 0


def test_responders_are_pooled_only_when_outcome_and_time_point_match():
    assert definitions_match(RESPONDER_TRIALS) is False
    same = [(s, lab, "outcome", "6 months", d) for s, lab, _, _, d in RESPONDER_TRIALS]
    assert definitions_match(same) is True
    later = [same[0], (*same[1][:3], "28 weeks", same[1][4])]
    assert definitions_match(later) is False


def test_nurown_deaths_need_an_assumed_denominator_and_say_so(ev):
    refused = nurown_binary(ev, "deaths", assume_denominator=False)
    assert refused["estimable"] is False and len(refused["missing"]) == 2
    assert sparse_outcome_numbers(refused, "deaths") == {
        "title": "deaths",
        "estimable": False,
        "missing": refused["missing"],
    }
    assumed = nurown_binary(ev, "deaths", assume_denominator=True)
    assert assumed["denominators"] == (95.0, 94.0)
    assert "assumed" in assumed["assumption"] and "95 treated with cells, 94 with placebo" in assumed["assumption"]
    reported = nurown_binary(ev, "serious_adverse_events", assume_denominator=False)
    assert reported["estimable"] is True and reported["assumption"] is None


def test_one_trial_mantel_haenszel_rr_is_the_ratio_of_risks(ev):
    binary = nurown_binary(ev, "deaths", assume_denominator=True)
    out = sparse_outcome_numbers(binary, "deaths")
    (e1, e2), (n1, n2) = binary["events"], binary["denominators"]
    assert out["estimate"] == pytest.approx((e1 / n1) / (e2 / n2), rel=1e-12)
    assert out["sensitivity_inverse_variance"]["estimate"] == pytest.approx(out["estimate"], rel=1e-9)
    assert out["assumption"] == binary["assumption"]


def test_fit_summary_exponentiates_only_ratios(ev):
    fit = nurown_binary(ev, "serious_adverse_events", assume_denominator=False)["fit"]
    log_scale, ratio = fit_summary(fit, ratio=False), fit_summary(fit)
    assert log_scale["estimate"] == fit.estimate and ratio["estimate"] == pytest.approx(math.exp(fit.estimate))
    assert ratio["ci_low"] == pytest.approx(math.exp(fit.ci_low)) and ratio["k"] == 1


def test_summary_sentence_refuses_when_the_harm_row_has_no_arm_sizes():
    rows = [
        SummaryRow("alsfrs_r_change_6mo", "alsfrs", "0 to 6 months", "Oh 2018", 1, 56, "MD", 3.38, 1.22, 5.54),
        SummaryRow("fvc_pct_change_4mo", "fvc", "0 to 4 months", "Oh 2018", 1, 56, "MD", -0.53, -5.37, 4.31),
        SummaryRow("deaths_28wk", "safety", "Deaths", "Cudkowicz 2022", 1, 189, "RR", 2.47, 0.80, 7.61),
        SummaryRow("serious_adverse_events_28wk", "safety", "SAE", "Cudkowicz 2022", 0, None, "RR", None, None, None),
    ]
    with pytest.raises(ValueError, match="serious_adverse_events_28wk"):
        summary_sentence(rows)
    rows[-1] = SummaryRow(
        "serious_adverse_events_28wk", "safety", "SAE", "Cudkowicz 2022", 1, 189, "RR", 1.34, 0.77, 2.34, "", (95, 94)
    )
    assert "(NurOwn phase 3, 95 with cells and 94 with placebo)" in summary_sentence(rows)


def test_pub3_summary_of_findings_lists_what_is_missing_as_not_estimable():
    sof = summary_of_findings({"continuous": {}, "responders": {}}, {"Deaths": "deaths: not reported/not found"})
    assert sof.to_dict("records") == [
        {
            "outcome": "Deaths",
            "studies": 0,
            "participants": 0,
            "effect": "not estimable",
            "missing": "deaths: not reported/not found",
        }
    ]


@given(st.floats(min_value=-50, max_value=50), st.floats(min_value=0, max_value=1))
def test_mcid_is_a_share_of_the_decline_whatever_its_sign(decline, slowing):
    assert mcid_points(decline, slowing) == mcid_points(-decline, slowing) == abs(decline) * slowing >= 0


def test_rtm_numbers_keep_only_the_reported_lead_in_slopes():
    grid = np.round(np.arange(-3.0, 0.51, 0.1), 2)
    rtm = pd.DataFrame({"pre_slope": grid, "post_slope_mean": 0.5 * grid - 0.3})
    assert rtm_at_pre_slopes(rtm) == pytest.approx({"-2": -1.3, "-1.5": -1.05, "-1": -0.8})
    assert list(rtm_at_pre_slopes(rtm)) == ["-2", "-1.5", "-1"]
