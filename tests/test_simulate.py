"""The natural-history simulator against closed-form expectations in special cases.

Monte-Carlo checks use fixed seeds and a 4-standard-error tolerance computed
from the closed form itself, so they test agreement, not luck.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from scipy import stats

import alsmeta as am
from alsmeta.simulate import (
    DESIGN_PRESETS,
    NaturalHistory,
    TrialDesign,
    design_preset,
    expected_change_under_selection,
    least_squares_slopes,
    least_squares_weights,
    simulate_meta_analyses,
    simulate_trials,
    slope_change_variance,
    summarise_changes,
    true_course,
    two_point_slopes,
)
from alsmeta.simulate.history import observe
from alsmeta.validation import AlsmetaInputError, AlsmetaWarning

INF = math.inf
SIGMA = 1.3


def linear_history(**overrides) -> NaturalHistory:
    """ALSFRS-R with normal slopes, no cap, no floor, no noise, no attrition (overridable)."""
    params = {
        "slope_distribution": "normal",
        "slope_sd": 0.5,
        "slope_max": INF,
        "floor": -INF,
        "ceiling": INF,
        "measurement_sd": 0.0,
        "integer_scores": False,
        "death_rate": 0.0,
        "dropout_rate": 0.0,
    }
    params.update(overrides)
    return NaturalHistory.alsfrs_r(**params)


def sxx(times) -> float:
    t = np.asarray(times, float)
    return float(((t - t.mean()) ** 2).sum())


# -- 1. linear decline, no error, no selection, no attrition: zero change per patient -----------------


@pytest.mark.parametrize(
    "design",
    [
        TrialDesign(),
        TrialDesign(pre_slope="two_point", post_slope="two_point"),
        TrialDesign(pre_slope="onset", lead_in_visits=(0.0,)),
        design_preset("blanquer2012"),
        design_preset("sykova2017"),
    ],
    ids=["lead_in", "two_point", "onset", "blanquer2012", "sykova2017"],
)
def test_linear_noise_free_change_is_exactly_zero_per_patient(design):
    res = simulate_trials(linear_history(), design, 300, seed=11, keep_patients=True)
    p = res.patients
    assert p.analysed.all() and (res.n_analysed == design.n_patients).all()
    assert np.abs(p.change).max() < 1e-12
    assert np.abs(p.change_noiseless).max() < 1e-12
    # every patient's pre and post slope is his true slope
    np.testing.assert_allclose(p.pre_slope, p.true_rate, atol=1e-12)
    np.testing.assert_allclose(p.post_slope, p.true_rate, atol=1e-12)


def test_onset_lag_gives_exact_apparent_worsening_with_onset_pre_slope():
    """Decline starting ``lag`` months after onset: DeltaFS = r (D - lag)/D, so change = r lag / D < 0."""
    lag = 6.2
    res = simulate_trials(
        linear_history(onset_lag_months=lag, slope_sd=0.2),
        TrialDesign(pre_slope="onset", lead_in_visits=(0.0,), onset_to_screening_sd=2.0),
        100,
        seed=12,
        keep_patients=True,
    )
    p = res.patients
    np.testing.assert_allclose(p.change, p.true_rate * lag / p.onset_to_baseline, atol=1e-12)
    assert (p.change < 0).all()


# -- 2. pure measurement error: Var(change) = sigma^2 (1/Sxx_pre + 1/Sxx_post) ---------------------------


def test_slope_change_variance_closed_form_disjoint_periods():
    pre, post = (-3.0, -2.0, -1.0, 0.0), (1.0, 2.0, 3.0, 4.0, 5.0, 6.0)
    want = SIGMA**2 * (1 / sxx(pre) + 1 / sxx(post))
    assert slope_change_variance(pre, post, SIGMA) == pytest.approx(want, rel=1e-14)
    # a shared baseline visit adds -2 Cov(b_pre, b_post) > 0
    w_pre, w_post = least_squares_weights(pre), least_squares_weights((0.0,) + post)
    cov = SIGMA**2 * w_pre[-1] * w_post[0]
    shared = SIGMA**2 * (1 / sxx(pre) + 1 / sxx((0.0,) + post)) - 2 * cov
    assert slope_change_variance(pre, (0.0,) + post, SIGMA) == pytest.approx(shared, rel=1e-14)


@pytest.mark.parametrize(
    "follow_up",
    [(1.0, 2.0, 3.0, 4.0, 5.0, 6.0), (0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0)],
    ids=["disjoint", "shared_baseline"],
)
def test_variance_of_slope_change_matches_closed_form(follow_up):
    design = TrialDesign(n_patients=50, follow_up_visits=follow_up)
    res = simulate_trials(linear_history(measurement_sd=SIGMA), design, 800, seed=21, keep_patients=True)
    change = res.patients.change.ravel()
    n = change.size
    want = slope_change_variance(design.lead_in_visits, follow_up, SIGMA)
    if follow_up[0] > 0:
        assert want == pytest.approx(SIGMA**2 * (1 / sxx(design.lead_in_visits) + 1 / sxx(follow_up)))
    got = change.var(ddof=1)
    assert abs(got - want) < 4 * want * math.sqrt(2 / (n - 1)), (got, want)
    assert abs(change.mean()) < 4 * math.sqrt(want / n)
    # study level: SD^2 is unbiased for the variance, SE = SD/sqrt(n)
    assert abs(np.mean(res.sd_change**2) - want) < 4 * want * math.sqrt(2 / (n - res.n_studies))
    np.testing.assert_allclose(res.se_change, res.sd_change / math.sqrt(50))


# -- 3. selection on a noisy pre-slope: regression to the mean ------------------------------------------


def test_selection_on_observed_pre_slope_regresses_to_the_mean_as_closed_form():
    history = linear_history(measurement_sd=SIGMA)
    base = TrialDesign(n_patients=50)
    means = []
    for threshold in (-0.5, -1.0, -1.5):  # enrol only patients observed to decline faster than this
        design = replace(base, pre_slope_range=(-INF, threshold))
        res = simulate_trials(history, design, 400, seed=31, keep_patients=True)
        change = res.patients.change.ravel()
        cf = expected_change_under_selection(
            design.lead_in_visits,
            design.follow_up_visits,
            measurement_sd=SIGMA,
            slope_mean=history.slope_mean,
            slope_sd=history.slope_sd,
            upper=threshold,
        )
        assert abs(change.mean() - cf.mean_change) < 4 * cf.sd_change / math.sqrt(change.size)
        assert change.std(ddof=1) == pytest.approx(cf.sd_change, rel=0.03)
        enrolled_share = res.n_enrolled.sum() / res.n_screened.sum()
        assert abs(enrolled_share - cf.prob_selected) < 4 * math.sqrt(cf.prob_selected / res.n_screened.sum())
        assert np.abs(res.mean_change_noiseless).max() < 1e-12  # the apparent benefit is all noise
        means.append(change.mean())
    assert 0 < means[0] < means[1] < means[2]  # apparent improvement, growing with selection strength


def test_minimum_lead_in_decline_rule_regresses_to_the_mean_as_closed_form():
    """Cudkowicz 2022's '>= 3-point decline before randomisation', with a screening and a baseline visit."""
    history = linear_history(measurement_sd=SIGMA)
    design = TrialDesign(n_patients=60, lead_in_visits=(-3.0, 0.0), min_lead_in_decline=3.0)
    res = simulate_trials(history, design, 300, seed=32, keep_patients=True)
    change = res.patients.change.ravel()
    cf = expected_change_under_selection(
        design.lead_in_visits,
        design.follow_up_visits,
        measurement_sd=SIGMA,
        slope_mean=history.slope_mean,
        slope_sd=history.slope_sd,
        select_on="lead_in_decline",
        lower=3.0,
    )
    assert cf.mean_change > 0.2
    assert abs(change.mean() - cf.mean_change) < 4 * cf.sd_change / math.sqrt(change.size)
    assert change.std(ddof=1) == pytest.approx(cf.sd_change, rel=0.03)


def test_closed_form_without_selection_is_the_unselected_variance():
    cf = expected_change_under_selection(
        (-3, -2, -1, 0), (0, 2, 4, 6), measurement_sd=SIGMA, slope_mean=-1.0, slope_sd=0.5
    )
    assert cf.mean_change == 0 and cf.prob_selected == pytest.approx(1.0)
    assert cf.sd_change**2 == pytest.approx(slope_change_variance((-3, -2, -1, 0), (0, 2, 4, 6), SIGMA))
    assert cf.reliability == pytest.approx(0.25 / (0.25 + SIGMA**2 / 5))


# -- 4. curvilinear courses ----------------------------------------------------------------------------------


def test_decelerating_course_with_onset_pre_slope_gives_exact_positive_change():
    """Quadratic course: DeltaFS = r + q(D - 2 s_ref), post LS slope = r + 2q(D + 3 - s_ref): change = q (D + 6)."""
    q = 0.01
    history = linear_history(shape="quadratic", curvature_mean=q, slope_sd=0.1)
    design = TrialDesign(pre_slope="onset", lead_in_visits=(0.0,), onset_to_screening_sd=3.0)
    p = simulate_trials(history, design, 100, seed=41, keep_patients=True).patients
    np.testing.assert_allclose(p.change, q * (p.onset_to_baseline + 6.0), rtol=1e-9)
    assert (p.change > 0).all()
    # with a lead-in the bias is the curvature alone: 2q x (distance between period midpoints, 4.5)
    p = simulate_trials(history, TrialDesign(), 100, seed=42, keep_patients=True).patients
    np.testing.assert_allclose(p.change, 9 * q, rtol=1e-9)
    # an accelerating course gives apparent worsening
    p = simulate_trials(replace(history, curvature_mean=-q), TrialDesign(), 20, seed=43, keep_patients=True).patients
    np.testing.assert_allclose(p.change, -9 * q, rtol=1e-9)


def test_true_course_never_improves_beyond_the_vertex():
    h = linear_history(shape="quadratic", curvature_mean=0.05)
    t = np.linspace(0, 80, 161)
    mu = true_course(h, np.full_like(t, -1.0), np.full_like(t, 0.05), np.full_like(t, np.nan), t)
    assert (np.diff(mu) <= 1e-12).all()
    vertex = 15 + 1.0 / (2 * 0.05)
    assert np.ptp(mu[t > vertex]) == 0


# -- 5. floors ---------------------------------------------------------------------------------------------


def test_floor_flattens_the_post_slope_exactly():
    """Losing 3 points a month from 48: 12, 9, 6, 3 over the lead-in, then 3, 0, 0, ... after baseline."""
    history = NaturalHistory.alsfrs_r(
        slope_distribution="normal",
        slope_mean=-3.0,
        slope_sd=0.0,
        measurement_sd=0.0,
        integer_scores=False,
        death_rate=0.0,
        dropout_rate=0.0,
    )
    design = TrialDesign(n_patients=5, onset_to_screening_mean=12.0, onset_to_screening_sd=0.0)
    p = simulate_trials(history, design, 3, seed=51, keep_patients=True).patients
    pre = np.polyfit([-3, -2, -1, 0], [12, 9, 6, 3], 1)[0]
    post = np.polyfit(np.arange(7), [3, 0, 0, 0, 0, 0, 0], 1)[0]
    np.testing.assert_allclose(p.pre_slope, pre)
    np.testing.assert_allclose(p.post_slope, post)
    assert (p.change > 2.5).all()  # an apparent near-halt of progression, produced by the scale


def test_observations_stay_on_the_scale_and_are_whole_points():
    h = NaturalHistory.alsfrs_r(measurement_sd=3.0)
    mu = np.array([[0.0, 0.4, 24.0, 47.7, 48.0]] * 2000)
    y = observe(h, mu, np.random.default_rng(52))
    assert y.min() == 0 and y.max() == 48 and (y == np.rint(y)).all()
    # noise at the floor cannot go below it: observed values there are biased upward
    assert y[:, 0].mean() > 0.5


# -- 6. death and dropout ----------------------------------------------------------------------------------


def test_constant_hazards_match_the_exponential_closed_form():
    h_death, h_drop = 0.02, 0.03
    history = linear_history(
        death_rate=h_death,
        dropout_rate=h_drop,
        death_level_effect=0.0,
        death_slope_effect=0.0,
        dropout_slope_effect=0.0,
    )
    design = TrialDesign(n_patients=50)
    res = simulate_trials(history, design, 400, seed=61, keep_patients=True)
    p, n = res.patients, res.n_enrolled.sum()
    complete = math.exp(-(h_death + h_drop) * 6)  # in the study at month 6, given in it at baseline
    share = (p.n_post_visits == len(design.follow_up_visits)).mean()
    assert abs(share - complete) < 4 * math.sqrt(complete * (1 - complete) / n)
    died = h_death / (h_death + h_drop) * (1 - complete)
    assert abs(res.n_died.sum() / n - died) < 4 * math.sqrt(died * (1 - died) / n)
    lost = 1 - math.exp(-(h_death + h_drop) * 3)  # during the 3-month lead-in, before treatment
    share_lost = res.n_lost_lead_in.sum() / res.n_screened.sum()
    assert abs(share_lost - lost) < 4 * math.sqrt(lost * (1 - lost) / res.n_screened.sum())
    # a patient with fewer than 2 follow-up visits is not analysed
    assert (p.analysed == (p.n_post_visits >= 2)).all()
    assert (res.n_analysed == p.analysed.sum(axis=1)).all()


def test_progression_linked_attrition_removes_fast_progressors():
    history = NaturalHistory.alsfrs_r(death_rate=0.02, dropout_rate=0.02)
    res = simulate_trials(history, design_preset("sykova2017"), 200, seed=62, keep_patients=True)
    p = res.patients
    rate = -p.true_rate
    assert rate[p.died].mean() > rate[~p.died].mean()
    assert rate[p.analysed].mean() < rate.mean()
    assert (res.n_analysed <= res.n_enrolled).all() and res.n_analysed.mean() < res.n_enrolled.mean()


# -- 7. reproducibility ------------------------------------------------------------------------------------


def _same(a, b) -> bool:
    return all(
        np.array_equal(getattr(a, f), getattr(b, f), equal_nan=True)
        for f in ("mean_change", "sd_change", "n_analysed", "n_screened", "pvalue")
    )


def test_same_seed_same_studies_and_prefix_property():
    h, d = NaturalHistory.alsfrs_r(), design_preset("oh2018")
    a = simulate_trials(h, d, 300, seed=71)
    assert _same(a, simulate_trials(h, d, 300, seed=71))
    assert not _same(a, simulate_trials(h, d, 300, seed=72))
    short = simulate_trials(h, d, 10, seed=71)
    assert np.array_equal(short.mean_change, a.mean_change[:10], equal_nan=True)
    assert _same(simulate_trials(h, d, 300, seed=None), simulate_trials(h, d, 300, seed=None)) is False
    rerun = simulate_trials(h, d, 50, seed=None)
    assert np.array_equal(rerun.mean_change, simulate_trials(h, d, 50, seed=rerun.seed).mean_change)
    g1, g2 = np.random.default_rng(5), np.random.default_rng(5)
    assert _same(simulate_trials(h, d, 40, seed=g1), simulate_trials(h, d, 40, seed=g2))


def test_meta_analysis_simulation_shapes_reproducibility_and_pooling():
    designs = [design_preset(n) for n in ("oh2018", "petrou2016", "blanquer2012")]
    meta = simulate_meta_analyses(NaturalHistory.alsfrs_r(), designs, 60, seed=73)
    assert meta.yi.shape == meta.vi.shape == meta.mask.shape == (60, 3)
    assert meta.labels == ["oh2018", "petrou2016", "blanquer2012"]
    again = simulate_meta_analyses(NaturalHistory.alsfrs_r(), designs, 60, seed=73)
    assert np.array_equal(meta.yi, again.yi, equal_nan=True)
    np.testing.assert_array_equal(meta.yi[:, 1], meta.studies[1].mean_change)
    fit = am.pool_many(meta.yi, meta.vi, mask=meta.mask, method="DL")
    assert np.isfinite(fit.estimate).all() and fit.estimate.shape == (60,)


# -- 8. progress and interruption --------------------------------------------------------------------------


def test_interrupt_returns_completed_studies_flagged():
    h, d = NaturalHistory.alsfrs_r(), TrialDesign()

    def stop(done, total):
        if done >= 256:
            raise KeyboardInterrupt

    with pytest.warns(AlsmetaWarning, match="interrupted"):
        res = simulate_trials(h, d, 2000, seed=81, progress=stop)
    assert res.interrupted and res.n_requested == 2000 and res.n_studies == 256
    full = simulate_trials(h, d, 300, seed=81)
    assert not full.interrupted
    assert np.array_equal(res.mean_change, full.mean_change[:256], equal_nan=True)
    with pytest.warns(AlsmetaWarning, match="interrupted"):
        meta = simulate_meta_analyses(h, [d, d], 2000, seed=82, progress=stop)
    assert meta.interrupted and meta.yi.shape == (256, 2)


def test_progress_is_written_when_asked(capsys):
    simulate_trials(NaturalHistory.alsfrs_r(), TrialDesign(), 10, seed=83, progress=True)
    assert "studies" in capsys.readouterr().err
    simulate_trials(NaturalHistory.alsfrs_r(), TrialDesign(), 10, seed=83)  # not a terminal: silent
    assert capsys.readouterr().err == ""


# -- 9. presets, FVC, analysis helpers -----------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(DESIGN_PRESETS))
def test_presets_run_and_honour_their_rules(name):
    design = design_preset(name)
    res = simulate_trials(NaturalHistory.alsfrs_r(), design, 20, seed=91)
    assert (res.n_enrolled == design.n_patients).all()
    assert (res.n_screened >= res.n_enrolled).all()
    assert design.note
    if design.eligibility:
        assert res.n_screened.sum() > res.n_enrolled.sum()


def test_fvc_history_with_lead_in_design():
    res = simulate_trials(NaturalHistory.fvc(), design_preset("oh2018"), 100, seed=92, keep_patients=True)
    pre = res.patients.pre_slope
    assert -3.5 < np.nanmean(pre) < -1.5
    assert res.history.unit == "% predicted"


def test_least_squares_and_two_point_slopes_with_missing_visits():
    t = np.array([0.0, 1.0, 2.0, 4.0, 6.0])
    rng = np.random.default_rng(93)
    y = rng.normal(size=(4, 5))
    seen = np.array([[1, 1, 1, 1, 1], [1, 1, 0, 1, 0], [1, 0, 0, 0, 0], [0, 1, 1, 0, 1]], bool)
    got = least_squares_slopes(t, y, seen)
    for i in range(3):
        if seen[i].sum() >= 2:
            assert got[i] == pytest.approx(np.polyfit(t[seen[i]], y[i, seen[i]], 1)[0])
    assert np.isnan(got[2])
    tp = two_point_slopes(t, y, seen)
    assert tp[1] == pytest.approx((y[1, 3] - y[1, 0]) / 4.0)
    assert tp[3] == pytest.approx((y[3, 4] - y[3, 1]) / 5.0)


def test_study_summary_is_a_one_sample_t_test():
    d = np.array([[0.3, -0.1, 0.5, np.nan, 0.2], [np.nan] * 5])
    s = summarise_changes(d)
    x = d[0, :4][~np.isnan(d[0, :4])].tolist() + [0.2]
    ref = stats.ttest_1samp(x, 0.0)
    assert s.n.tolist() == [4, 0]
    assert s.mean[0] == pytest.approx(np.mean(x)) and s.sd[0] == pytest.approx(np.std(x, ddof=1))
    assert s.se[0] == pytest.approx(np.std(x, ddof=1) / 2)
    assert s.pvalue[0] == pytest.approx(ref.pvalue) and np.isnan(s.pvalue[1])


def test_with_follow_up_truncates_the_analysis_window():
    d = design_preset("oh2018").with_follow_up(3)
    assert d.follow_up_visits == (0.0, 1.0, 2.0, 3.0)


# -- 10. bad input names the parameter ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: NaturalHistory(measurement_sd=-1), "measurement_sd"),
        (lambda: NaturalHistory(slope_sd=float("nan")), "slope_sd"),
        (lambda: NaturalHistory(shape="cubic"), "shape"),
        (lambda: NaturalHistory(slope_distribution="lognormal", slope_mean=0.5), "slope_mean"),
        (lambda: NaturalHistory(floor=50.0), "floor"),
        (lambda: NaturalHistory(death_rate=-0.1), "death_rate"),
        (lambda: NaturalHistory.fvc(onset_value=48.0), "level_mean"),
        (lambda: NaturalHistory(integer_scores="yes"), "integer_scores"),
        (lambda: TrialDesign(n_patients=1), "n_patients"),
        (lambda: TrialDesign(n_patients=2.5), "n_patients"),
        (lambda: TrialDesign(lead_in_visits=(-3.0, -1.0)), "lead_in_visits"),
        (lambda: TrialDesign(follow_up_visits=(0.0, 2.0, 1.0)), "follow_up_visits"),
        (lambda: TrialDesign(follow_up_visits=(-1.0, 2.0)), "follow_up_visits"),
        (lambda: TrialDesign(follow_up_visits=(0.0, "x")), "follow_up_visits"),
        (lambda: TrialDesign(pre_slope="baseline"), "pre_slope"),
        (lambda: TrialDesign(lead_in_visits=(0.0,)), "pre_slope"),
        (lambda: TrialDesign(min_post_visits=9), "min_post_visits"),
        (lambda: TrialDesign(pre_slope_range=(1.0, -1.0)), "pre_slope_range"),
        (lambda: TrialDesign(min_score=30.0, max_score=20.0), "min_score"),
        (lambda: TrialDesign(onset_to_screening_mean=0.0), "onset_to_screening_mean"),
        (lambda: design_preset("nope"), "name"),
        (
            lambda: simulate_trials(NaturalHistory.fvc(), TrialDesign(pre_slope="onset", lead_in_visits=(0.0,)), 5),
            "pre_slope",
        ),
        (lambda: simulate_trials(NaturalHistory(), TrialDesign(), 0), "n_studies"),
        (lambda: simulate_trials(NaturalHistory(), TrialDesign(), 5, seed="x"), "seed"),
        (lambda: simulate_trials(NaturalHistory(), TrialDesign(), 5, seed=-1), "seed"),
        (lambda: simulate_trials("ALSFRS-R", TrialDesign(), 5), "history"),
        (lambda: simulate_trials(NaturalHistory(), TrialDesign(min_score=60.0), 5, seed=1), "min_score"),
        (lambda: simulate_meta_analyses(NaturalHistory(), [], 5), "designs"),
        (lambda: slope_change_variance((0.0,), (0.0, 1.0), 1.0), "pre_times"),
        (lambda: slope_change_variance((-1.0, 0.0), (0.0, 1.0), -1.0), "measurement_sd"),
        (
            lambda: expected_change_under_selection(
                (-1, 0), (0, 1), measurement_sd=1, slope_mean=-1, slope_sd=0.5, select_on="x"
            ),
            "select_on",
        ),
    ],
)
def test_bad_input_raises_naming_the_parameter(make, match):
    with pytest.raises(AlsmetaInputError, match=match):
        make()
