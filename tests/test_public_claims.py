"""The public claims register (issue 12, part 2): data rows, verdict rules, no-treatment nulls, results.json lifting."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from alsmeta.als.claims_check import CONTRADICTED, NOT_ASSESSABLE, REPRODUCED
from alsmeta.als.public_claims import (
    OVERSTATED,
    PUBLIC_CLAIM_IDS,
    ClaimVerdict,
    ResponderDefinition,
    ResponderNull,
    assess_moderator,
    assess_public_claims,
    calibrate_measurement_sd,
    calibrate_to_responder_rate,
    closed_form_responder_share,
    controlled_trial_results,
    quoted_share_matches,
    responder_flags,
    simulate_public_claim_nulls,
    usable_slope_changes,
    zero_event_upper_bound,
)
from alsmeta.als.schema import CLAIM_VERDICTS, PUBLIC_CLAIMS_REGISTER
from alsmeta.als.tables import load_evidence
from alsmeta.als.validate import read_table, validate_data, validate_table
from alsmeta.io.reporting import collect_numbers, write_numbers
from alsmeta.simulate import NaturalHistory, TrialDesign, simulate_trials
from alsmeta.validation import AlsmetaInputError

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(scope="module")
def evidence():
    return load_evidence(DATA)


@pytest.fixture(scope="module")
def nulls(evidence):
    return simulate_public_claim_nulls(evidence, 200, seed=7)


@pytest.fixture(scope="module")
def verdicts(evidence, nulls):
    return {v.claim_id: v for v in assess_public_claims(evidence, nulls)}


# -- data ------------------------------------------------------------------------------------------


def test_data_has_exactly_the_thirteen_public_claims(evidence):
    public = evidence.claims[evidence.claims["synthesis"] == "public"]
    assert tuple(public["claim_id"]) == PUBLIC_CLAIM_IDS
    # no public page was identified: no URL is invented, and the row says so
    assert (public["source_url"] == "").all()
    assert (public["status"] == "not_found").all()
    assert public.set_index("claim_id").loc["phase2_79pct_slowed_25pct", "value"] == "79"


def test_validator_accepts_the_new_rows():
    assert validate_data(DATA) == []


def test_validator_rejects_an_unknown_synthesis_and_a_sourceless_verified_public_claim(tmp_path):
    for f in DATA.glob("*.csv"):
        (tmp_path / f.name).write_bytes(f.read_bytes())
    claims = read_table(tmp_path / "claims.csv")
    row = claims[claims["claim_id"] == "no_approved_stem_cell_therapy"].copy()
    bad_synthesis = row.assign(synthesis="clinic_page", claim_id="x1")
    bad_status = row.assign(claim_id="x2", status="verified")
    pd.concat([claims, bad_synthesis, bad_status]).to_csv(tmp_path / "claims.csv", index=False, lineterminator="\n")
    issues = [str(i) for i in validate_data(tmp_path)]
    n = len(claims)
    assert any(f"line {n + 2}, column 'synthesis'" in i and "'clinic_page' is not one of" in i for i in issues)
    assert any(f"line {n + 3}, column 'source_url'" in i and "and not_found rows may lack" in i for i in issues)


def test_register_schema_rejects_a_public_claim_with_an_unknown_verdict(verdicts):
    rows = [v.to_row() for v in verdicts.values()]
    frame = pd.DataFrame(rows, columns=list(PUBLIC_CLAIMS_REGISTER.column_names))
    assert validate_table(frame, PUBLIC_CLAIMS_REGISTER) == []
    frame.loc[3, "verdict"] = "probably true"
    issues = [str(i) for i in validate_table(frame, PUBLIC_CLAIMS_REGISTER)]
    assert issues == [
        "public_claims.csv, line 5, column 'verdict': 'probably true' is not one of: "
        "reproduced, contradicted, not assessable, overstated"
    ]
    with pytest.raises(AlsmetaInputError, match="claim 'x', column 'verdict'"):
        ClaimVerdict("x", "a claim", "probably true", "because")
    with pytest.raises(AlsmetaInputError, match="needs its reason"):
        ClaimVerdict("x", "a claim", OVERSTATED, "  ")


# -- the register ------------------------------------------------------------------------------------


def test_every_claim_has_an_allowed_verdict_and_a_reason(verdicts):
    assert tuple(verdicts) == PUBLIC_CLAIM_IDS
    for v in verdicts.values():
        assert v.verdict in CLAIM_VERDICTS
        assert len(v.reason) > 40


def test_verdicts_that_follow_from_the_sources(verdicts):
    assert verdicts["ammar2021_six_trials_all_benefit"].verdict == CONTRADICTED
    assert "Aljabri" in verdicts["ammar2021_six_trials_all_benefit"].reason
    assert verdicts["mazzini_19_patients_9_years"].verdict == CONTRADICTED
    assert "No clear clinical benefits" in verdicts["mazzini_19_patients_9_years"].reason
    assert verdicts["no_approved_stem_cell_therapy"].verdict == CONTRADICTED
    assert verdicts["no_approved_stem_cell_therapy"].key_numbers["first_approval"] == "2014-07"
    assert verdicts["it_msc_safe_effective"].verdict == OVERSTATED
    assert verdicts["it_msc_safe_effective"].key_numbers["placebo_controlled_positive"] == 0
    assert verdicts["jama_neurology_msc_ntf_safe"].verdict == NOT_ASSESSABLE
    hist = verdicts["slower_than_historical_controls"]
    assert hist.verdict == OVERSTATED
    assert (hist.key_numbers["external_control_studies"], hist.key_numbers["usable_external_comparisons"]) == (2, 0)


def test_safety_numbers_match_the_living_update(verdicts):
    # the same counts as analyses/cochrane_living_2026.py: SAE RR 1.34 (0.77 to 2.34), deaths RR 2.47 (0.80 to 7.61)
    k = verdicts["safety_shown_no_durable_benefit"].key_numbers
    assert (
        round(k["nurown_sae_rr"], 2),
        round(k["nurown_sae_rr_ci_low"], 2),
        round(k["nurown_sae_rr_ci_high"], 2),
    ) == (1.34, 0.77, 2.34)
    k = verdicts["cell_therapy_slows_progression_survival"].key_numbers
    assert (
        round(k["nurown_deaths_rr"], 2),
        round(k["nurown_deaths_rr_ci_low"], 2),
        round(k["nurown_deaths_rr_ci_high"], 2),
    ) == (2.47, 0.80, 7.61)


def test_moderator_claims_name_the_study_counts_per_level(verdicts):
    v = verdicts["allogeneic_better_than_autologous"]
    assert v.verdict == NOT_ASSESSABLE
    assert "allogeneic: 0, autologous: 2" in v.reason
    v = verdicts["combined_it_iv_preferred"]
    assert v.verdict == NOT_ASSESSABLE
    assert "intrathecal + intravenous: 0, intrathecal alone: 2" in v.reason
    assert verdicts["earlier_treatment_better"].verdict == NOT_ASSESSABLE
    assert verdicts["earlier_treatment_better"].key_numbers == {"studies_earlier": 1.0, "studies_later": 0.0}


def test_approval_verdict_follows_from_the_timeline(evidence, nulls):
    tl = evidence.timeline
    without = dataclasses.replace(evidence, timeline=tl[tl["event"] != "regulatory_approval"])
    v = {x.claim_id: x for x in assess_public_claims(without, nulls)}["no_approved_stem_cell_therapy"]
    assert v.verdict == NOT_ASSESSABLE


def test_approval_reason_says_when_it_rests_on_secondary_sources_only(evidence, nulls, verdicts):
    v = verdicts["no_approved_stem_cell_therapy"]
    assert "contradicted on secondary sources only" in v.reason and "regulator's own record was not read" in v.reason
    tl = evidence.timeline.copy()
    tl.loc[tl["event"] == "regulatory_approval", "status"] = "verified"
    primary = dataclasses.replace(evidence, timeline=tl)
    w = {x.claim_id: x for x in assess_public_claims(primary, nulls)}["no_approved_stem_cell_therapy"]
    assert w.verdict == CONTRADICTED and "secondary sources only" not in w.reason


def test_placebo_trials_are_counted_as_efficacy_benefits_with_each_basis_and_status(verdicts):
    """Berry 2019's primary endpoint was safety: the count is of efficacy benefits, never 'met its primary endpoint'."""
    for cid in ("it_msc_safe_effective", "cell_therapy_slows_progression_survival", "safety_shown_no_durable_benefit"):
        reason = verdicts[cid].reason
        assert "primary endpoint." not in reason and "met its primary" not in reason, cid
        assert "0 of 3 placebo- or sham-controlled" in reason or "0 showed an efficacy benefit" in reason, cid
    survival = verdicts["cell_therapy_slows_progression_survival"].reason
    assert "berry2019 (placebo, double blind): not significant" in survival and "(secondary)" in survival


def test_the_79_percent_is_tied_to_its_window_and_the_whole_period_share_is_given(verdicts):
    v = verdicts["phase2_79pct_slowed_25pct"]
    assert (v.key_numbers["responders"], v.key_numbers["treated"]) == (15.0, 19.0)
    assert (v.key_numbers["whole_period_responders"], v.key_numbers["whole_period_treated"]) == (13.0, 19.0)
    assert "for that window" in v.reason and "13/19 = 68%" in v.reason


def test_the_tumour_bound_is_conditional_on_zero_events(verdicts):
    reason = verdicts["jama_neurology_msc_ntf_safe"].reason
    assert "Even if none of the 26 had a tumour" in reason and "would rule out only" in reason


def test_historical_control_nulls_name_their_noise_and_keep_small_mc_errors_visible(verdicts, nulls):
    v = verdicts["slower_than_historical_controls"]
    assert v.key_numbers["visit_noise_sd"] == nulls.measurement_sd
    assert f"visit noise SD {nulls.measurement_sd:.2f}" in v.reason
    for null in nulls.slowing.values():  # significant digits: a Monte Carlo SE under 0.005 is not printed as 0.00
        assert f"(MC SE {null.mc_se:.2g})" in v.reason and null.mc_se > 0


def test_review_count_mismatch_is_reported(evidence, nulls):
    c = evidence.claims.copy()
    c.loc[(c.synthesis == "aljabri2021") & (c.claim_id == "studies_included"), "value"] = "7"
    v = {x.claim_id: x for x in assess_public_claims(dataclasses.replace(evidence, claims=c), nulls)}
    assert "is not what it reports" in v["ammar2021_six_trials_all_benefit"].reason


def _null(label: str, low: float, high: float, observed: float) -> ResponderNull:
    return ResponderNull(label, label, 19, 100, 1.9, (low + high) / 2, 0.01, low, high, (low, high), observed, 0.5)


@pytest.mark.parametrize(
    ("high_values", "claimed", "expected"),
    [
        ((0.65, 0.65, 0.65, 0.65), "79", REPRODUCED),  # above the untreated range under every calibration
        ((0.65, 0.80, 0.65, 0.65), "79", OVERSTATED),  # within it under one of them
        ((0.85, 0.85, 0.85, 0.85), "79", OVERSTATED),  # untreated patients would show it too
        ((0.65, 0.65, 0.65, 0.65), "90", CONTRADICTED),  # misquoted
    ],
)
def test_responder_claim_rule(evidence, nulls, high_values, claimed, expected):
    keys = (
        "petrou2021_monthly",
        "petrou2021_quarterly",
        "petrou2021_monthly_sd_matched",
        "petrou2021_monthly_default_noise",
    )
    resp = dict(nulls.responders)
    for k, hi in zip(keys, high_values, strict=True):
        resp[k] = _null(k, 0.2, hi, 15 / 19)
    fake = dataclasses.replace(nulls, responders=resp)
    c = evidence.claims.copy()
    c.loc[(c.synthesis == "public") & (c.claim_id == "phase2_79pct_slowed_25pct"), "value"] = claimed
    v = {x.claim_id: x for x in assess_public_claims(dataclasses.replace(evidence, claims=c), fake)}
    assert v["phase2_79pct_slowed_25pct"].verdict == expected


def test_quoted_share_and_zero_event_bound():
    assert quoted_share_matches(79, 15, 19)
    assert not quoted_share_matches(80, 15, 19)
    assert zero_event_upper_bound(26) == pytest.approx(1 - 0.05 ** (1 / 26), rel=1e-12)
    assert zero_event_upper_bound(3000) == pytest.approx(3 / 3000, rel=0.01)  # the rule of three
    with pytest.raises(AlsmetaInputError, match="n: "):
        zero_event_upper_bound(0)


# -- helpers on the evidence ---------------------------------------------------------------------


def test_usable_slope_changes_from_reported_numbers(evidence):
    t = usable_slope_changes(evidence).set_index("study_id")
    assert list(t.index) == ["oh2018", "kim2009"]
    assert t.loc["oh2018", "yi"] == pytest.approx(1.13)
    assert t.loc["oh2018", "vi"] == pytest.approx(1.33**2 / 32)
    # Kim 2009: declines printed as positive numbers; SE from the paired p = 0.04 with 21 df
    assert t.loc["kim2009", "yi"] == pytest.approx(2.68 - 1.54)
    assert math.sqrt(t.loc["kim2009", "vi"]) == pytest.approx(1.14 / stats.t.isf(0.02, 21))


def test_controlled_trials_primary_results(evidence):
    t = controlled_trial_results(evidence).set_index("study_id")["result"].to_dict()
    assert t == {
        "oh2018": "positive",
        "cudkowicz2022": "not significant",
        "berry2019": "not significant",
        "alsummit": "not significant",
    }


def test_moderator_with_too_few_studies_is_not_assessable():
    table = pd.DataFrame(
        {"study_id": ["a", "b", "c"], "level": ["x", "y", "y"], "yi": [1.0, 0.2, 0.3], "vi": [0.1, 0.1, np.nan]}
    )
    a = assess_moderator(table, "route", "x", "y")
    assert a.verdict == NOT_ASSESSABLE
    assert a.counts == {"x": 1, "y": 1}  # the study without a variance is not usable
    assert "x: 1, y: 1" in a.reason


def test_moderator_with_two_studies_per_level_is_tested():
    table = pd.DataFrame(
        {
            "study_id": list("abcd"),
            "level": ["x", "x", "y", "y"],
            "yi": [2.0, 2.2, 0.0, 0.1],
            "vi": [0.01, 0.01, 0.01, 0.01],
        }
    )
    a = assess_moderator(table, "route", "x", "y", test="z")
    assert a.verdict == REPRODUCED
    assert a.difference == pytest.approx(2.1 - 0.05)
    assert a.ci_low > 0
    b = assess_moderator(table, "route", "y", "x", test="z")
    assert b.verdict == CONTRADICTED


# -- the no-treatment simulations ------------------------------------------------------------------


def _ideal_history(sigma: float) -> NaturalHistory:
    return NaturalHistory.alsfrs_r(
        slope_distribution="normal",
        slope_max=math.inf,
        measurement_sd=sigma,
        integer_scores=False,
        death_rate=0.0,
        dropout_rate=0.0,
        floor=-math.inf,
        ceiling=math.inf,
    )


def _patients(history, design, n_studies, seed):
    p = simulate_trials(history, design, n_studies, seed=seed, keep_patients=True, progress=False).patients
    return p.pre_slope[p.analysed], p.post_slope[p.analysed]


@pytest.mark.parametrize(
    "definition",
    [
        ResponderDefinition("relative > 25%", "relative", 0.25, strict=True),
        ResponderDefinition("relative >= 50%", "relative", 0.5),
        ResponderDefinition("absolute >= 1.25", "absolute", 1.25),
    ],
)
@pytest.mark.parametrize("variant", ["monthly", "quarterly"])
def test_responder_share_matches_closed_form(definition, variant):
    from alsmeta.als.public_claims import petrou2021_design

    design = petrou2021_design(variant)
    history = _ideal_history(1.9)
    pre, post = _patients(history, design, 600, seed=3)
    share = responder_flags(pre, post, definition).mean()
    exact = closed_form_responder_share(history, design, definition)
    mc_se = math.sqrt(exact * (1 - exact) / pre.size)
    assert abs(share - exact) < 4 * mc_se


def test_responder_flags_edge_cases():
    d = ResponderDefinition("r", "relative", 0.25, strict=True)
    pre = np.array([-1.0, -1.0, -1.0, 0.0, 0.5, np.nan])
    post = np.array([-0.75, -0.7, 1.0, 1.0, 2.0, 0.0])
    assert responder_flags(pre, post, d).tolist() == [False, True, True, False, False, False]
    assert responder_flags(pre, post, dataclasses.replace(d, strict=False)).tolist()[0]


def test_calibrated_noise_reproduces_the_target_sd():
    design = TrialDesign(name="oh", n_patients=25)
    cal = calibrate_measurement_sd(1.46, 25, design, integer_scores=False)
    pre, post = _patients(_ideal_history(cal.measurement_sd), design, 400, seed=5)
    change = post - pre
    sd = change.std(ddof=1)
    se_sd = sd / math.sqrt(2 * (change.size - 1))
    assert abs(sd - 1.46) < 4 * se_sd
    assert cal.target_sd_low < 1.46 < cal.target_sd_high
    assert cal.measurement_sd_low < cal.measurement_sd < cal.measurement_sd_high


def test_calibration_to_a_responder_rate_is_reproduced_with_fresh_random_numbers():
    design = TrialDesign(name="g", n_patients=40)
    definition = ResponderDefinition("abs", "absolute", 1.25)
    history = _ideal_history(1.0)
    sigma = calibrate_to_responder_rate(0.2, history, design, definition, n_studies=100, seed=11, tol=0.005)
    exact = closed_form_responder_share(dataclasses.replace(history, measurement_sd=sigma), design, definition)
    mc_se = math.sqrt(0.2 * 0.8 / 4000)
    assert abs(exact - 0.2) < 4 * mc_se + 0.005
    with pytest.raises(AlsmetaInputError, match="target_share"):
        calibrate_to_responder_rate(0.99, history, design, definition, n_studies=20, seed=1, bracket=(0.5, 1.0))


def test_primary_responder_null_is_reproduced_by_a_fresh_simulation(nulls):
    from alsmeta.als.public_claims import PETROU2021_GT25, null_responder_distribution, petrou2021_design

    stored = nulls.responders["petrou2021_monthly"]
    fresh = null_responder_distribution(nulls.history, petrou2021_design("monthly"), PETROU2021_GT25, 300, seed=99)
    assert stored.measurement_sd == pytest.approx(nulls.measurement_sd)
    assert abs(fresh.share_mean - stored.share_mean) < 4 * math.hypot(fresh.share_mc_se, stored.share_mc_se)
    assert fresh.share_mean < 15 / 19  # the reported 79% is not what untreated patients show on average


def test_calibrated_nulls_reproduce_the_placebo_rate_and_show_no_slowing_without_selection(nulls):
    cud = nulls.responders["cudkowicz2022"]
    assert abs(cud.share_mean - 0.28) < 0.03
    free, sel = nulls.slowing["no_selection"], nulls.slowing["selected_on_documented_decline"]
    assert abs(free.mean_change) < 4 * free.mc_se + 0.05
    assert sel.mean_change > free.mean_change + 10 * sel.mc_se


# -- results.json: top-level entries ----------------------------------------------------------------


def test_top_level_entries_are_lifted_into_results(tmp_path):
    write_numbers(tmp_path / "claims", {"n": 1}, top_level={"public_claims": {"a": {"verdict": "reproduced"}}})
    write_numbers(tmp_path / "other", {"m": 2})
    stored = json.loads((tmp_path / "claims" / "numbers.json").read_text())
    assert stored["_top_level"] == {"public_claims": {"a": {"verdict": "reproduced"}}}
    out = collect_numbers(tmp_path)
    assert out == {"claims": {"n": 1}, "other": {"m": 2}, "public_claims": {"a": {"verdict": "reproduced"}}}


def test_top_level_collisions_are_errors(tmp_path):
    write_numbers(tmp_path / "claims", {"n": 1}, top_level={"other": 1})
    write_numbers(tmp_path / "other", {"m": 2})
    with pytest.raises(AlsmetaInputError, match="collides with the analysis figures/other/"):
        collect_numbers(tmp_path)
    write_numbers(tmp_path / "other", {"m": 2}, top_level={"x": 1})
    write_numbers(tmp_path / "claims", {"n": 1}, top_level={"x": 2})
    with pytest.raises(AlsmetaInputError, match="top-level key 'x' is also written"):
        collect_numbers(tmp_path)
    with pytest.raises(AlsmetaInputError, match="reserved"):
        write_numbers(tmp_path / "z", {"_top_level": 1})
