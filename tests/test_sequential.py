"""Trial sequential monitoring: boundaries against rpact and an independent multivariate-normal check."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

import alsmeta as am
from alsmeta import AlsmetaInputError
from alsmeta.planning.power import optimal_information_size
from alsmeta.planning.sequential import (
    alpha_spending,
    diversity,
    group_sequential_boundaries,
    trial_sequential_analysis,
)
from conftest import load_reference

RPACT = load_reference("rpact_sequential.json")


@pytest.mark.parametrize("case", sorted(RPACT["cases"]))
def test_boundaries_match_rpact(case):
    ref = RPACT["cases"][case]
    got = group_sequential_boundaries(ref["fraction"], alpha=ref["alpha"], spending=ref["spending"])
    ref_z = np.asarray(ref["z"], dtype=float)  # Infinity where rpact's look spends almost nothing
    # rpact's root finder stops at about 1e-9 on the probability scale, so where a look spends
    # very little (nominal p < 1e-4) its z is compared on that scale (see the K = 10 test below)
    tiny = 2 * stats.norm.sf(ref_z) < 1e-4
    np.testing.assert_allclose(got.z[~tiny], ref_z[~tiny], rtol=0, atol=2e-6)
    np.testing.assert_allclose(got.nominal_p[tiny], 2 * stats.norm.sf(ref_z[tiny]), rtol=0, atol=5e-9)
    # rpact reports 0.04999999 spent at t = 1 for asOF; the closed form is exactly alpha
    np.testing.assert_allclose(got.alpha_spent, ref["alpha_spent"], rtol=1e-6, atol=2e-8)


def test_classical_obrien_fleming_five_looks_published_values():
    # Lan-DeMets O'Brien-Fleming type, K = 5 equally spaced, two-sided alpha 0.05
    # (DeMets & Lan 1994, Stat Med 13:1341; ldbounds): 4.877, 3.357, 2.680, 2.290, 2.031
    got = group_sequential_boundaries([0.2, 0.4, 0.6, 0.8, 1.0])
    np.testing.assert_allclose(np.round(got.z, 3), [4.877, 3.357, 2.680, 2.290, 2.031], atol=0)


def test_second_of_ten_looks_is_bracketed_by_its_analytic_bounds():
    # Look 1 (t = 0.1) spends 2.7e-12, so P(|Z_2| >= c_2) lies within 2.7e-12 of the spending at look 2
    # (1.0777e-6): c_2 is in [4.8768849, 4.8768854]. rpact 3.3.4 prints 4.877024 (its probability tolerance).
    b = group_sequential_boundaries(np.arange(1, 11) / 10)
    spent2 = b.alpha_spent[1]
    assert stats.norm.isf(spent2 / 2) <= b.z[1] <= stats.norm.isf((spent2 - b.alpha_spent[0]) / 2)


@pytest.mark.parametrize("spending", ["obrien_fleming", "pocock"])
def test_crossing_probability_under_h0_equals_alpha_spent_by_multivariate_normal(spending):
    # Independent of the recursive integration: Z_j = B(t_j)/sqrt(t_j) has corr(Z_i, Z_j) = sqrt(t_i/t_j);
    # P(no crossing at any of the three looks) from scipy's multivariate normal CDF (Genz).
    t = np.array([0.3, 0.65, 1.0])
    b = group_sequential_boundaries(t, alpha=0.05, spending=spending)
    corr = np.sqrt(np.minimum.outer(t, t) / np.maximum.outer(t, t))
    mvn = stats.multivariate_normal(mean=np.zeros(3), cov=corr, abseps=1e-9, releps=1e-9)
    no_cross = mvn.cdf(b.z, lower_limit=-b.z)
    assert 1 - no_cross == pytest.approx(0.05, abs=2e-5)
    two = stats.multivariate_normal(mean=np.zeros(2), cov=corr[:2, :2], abseps=1e-9, releps=1e-9)
    assert 1 - two.cdf(b.z[:2], lower_limit=-b.z[:2]) == pytest.approx(b.alpha_spent[1], abs=2e-6)


@pytest.mark.parametrize("spending", ["obrien_fleming", "pocock"])
@pytest.mark.parametrize("alpha", [0.01, 0.05, 0.1])
def test_spending_reaches_alpha_at_full_information(spending, alpha):
    spent = alpha_spending([0.1, 0.5, 1.0], alpha=alpha, spending=spending)
    assert spent[-1] == pytest.approx(alpha, rel=1e-12)
    assert np.all(np.diff(spent) > 0)


def test_obrien_fleming_spending_closed_form():
    t = 0.25
    expected = 4 * (1 - stats.norm.cdf(stats.norm.ppf(1 - 0.05 / 4) / math.sqrt(t)))
    assert alpha_spending([t])[0] == pytest.approx(expected, rel=1e-12)
    assert alpha_spending([t], spending="pocock")[0] == pytest.approx(0.05 * math.log(1 + (math.e - 1) * t), rel=1e-12)


@pytest.mark.parametrize("alpha", [0.01, 0.05, 0.2])
@pytest.mark.parametrize("spending", ["obrien_fleming", "pocock"])
def test_single_look_at_full_information_is_the_fixed_sample_z(alpha, spending):
    b = group_sequential_boundaries([1.0], alpha=alpha, spending=spending)
    assert b.z[0] == pytest.approx(stats.norm.isf(alpha / 2), rel=1e-12)
    assert b.nominal_p[0] == pytest.approx(alpha, rel=1e-10)


def test_boundary_at_a_look_does_not_depend_on_later_looks():
    short = group_sequential_boundaries([0.1, 0.3, 0.55])
    long = group_sequential_boundaries([0.1, 0.3, 0.55, 0.9, 1.0])
    np.testing.assert_allclose(short.z, long.z[:3], rtol=1e-12)


def test_no_alpha_to_spend_gives_an_infinite_boundary_not_a_number():
    b = group_sequential_boundaries([1e-4, 0.5, 1.0])  # OBF spends ~1e-300 at t = 1e-4
    assert b.z[0] > 38 or math.isinf(b.z[0])
    assert np.all(np.isfinite(b.z[1:]))


@pytest.mark.parametrize(
    "kwargs, argument",
    [
        ({"fraction": [0.5, 0.4, 1.0]}, "fraction"),
        ({"fraction": [0.5, 0.5]}, "fraction"),
        ({"fraction": [0.0, 1.0]}, "fraction"),
        ({"fraction": [0.5, 1.2]}, "fraction"),
        ({"fraction": [-0.1]}, "fraction"),
        ({"fraction": []}, "fraction"),
        ({"fraction": [0.5, float("nan")]}, "fraction"),
        ({"fraction": "0.5"}, "fraction"),
        ({"fraction": [1.0], "alpha": 0.0}, "alpha"),
        ({"fraction": [1.0], "alpha": 1.0}, "alpha"),
        ({"fraction": [1.0], "alpha": 1.5}, "alpha"),
        ({"fraction": [1.0], "spending": "haybittle"}, "spending"),
        ({"fraction": [1.0], "grid_r": 2}, "grid_r"),
    ],
)
def test_bad_input_names_the_argument(kwargs, argument):
    with pytest.raises(AlsmetaInputError, match=argument):
        group_sequential_boundaries(**kwargs)


def test_bad_fraction_message_names_the_look():
    with pytest.raises(AlsmetaInputError, match="look 3"):
        group_sequential_boundaries([0.2, 0.6, 0.4])


def test_summary_and_frame():
    b = group_sequential_boundaries([0.5, 1.0])
    frame = b.to_frame()
    assert list(frame.columns) == ["look", "fraction", "z", "alpha_spent", "nominal_p"]
    assert frame["z"].tolist() == pytest.approx([2.96258804272755, 1.96859564632177], abs=2e-6)
    assert "O'Brien-Fleming-type" in b.summary() and "2.9626" in b.summary()


# ------------------------------------------------------------------ diversity and TSA
YI = np.array([3.38, 0.36, 2.1, -0.5])
VI = np.array([1.104**2, 1.2**2, 0.9**2, 1.5**2])
N = np.array([56, 189, 40, 115])
YEAR = [2018, 2022, 2019, 2025]


def _fit(method="DL"):
    return am.pool(YI, VI, method=method, test="z", labels=["Oh 2018", "Cudkowicz 2022", "X 2019", "Y 2025"])


def test_diversity_is_the_wetterslev_variance_ratio():
    fit = _fit()
    w = 1 / VI
    v_fixed = 1 / w.sum()
    v_random = 1 / (1 / (VI + fit.tau2)).sum()
    assert fit.tau2 > 0
    assert diversity(fit) == pytest.approx((v_random - v_fixed) / v_random, rel=1e-10)
    assert diversity(am.pool(YI, VI, method="CE")) == pytest.approx(0.0, abs=1e-14)


def test_tsa_cumulative_z_is_the_cumulative_meta_analysis_in_year_order():
    fit = _fit()
    res = trial_sequential_analysis(fit, N, YEAR, delta=3.0, sd=6.0)
    cum = am.cumulative(fit, order=YEAR)
    assert res.labels == ("Oh 2018", "X 2019", "Cudkowicz 2022", "Y 2025")
    np.testing.assert_allclose(res.z, cum["statistic"].to_numpy(float), rtol=1e-12)
    np.testing.assert_allclose(res.cumulative_participants, [56, 96, 285, 400])
    ois = optimal_information_size(3.0, 6.0, diversity=diversity(fit))
    assert res.ris == pytest.approx(ois.heterogeneity_adjusted, rel=1e-12)
    np.testing.assert_allclose(res.fraction, res.cumulative_participants / res.ris, rtol=1e-12)


def test_tsa_boundaries_are_those_at_the_looks_below_ris_then_the_final_one():
    fit = _fit()
    res = trial_sequential_analysis(fit, N, YEAR, delta=3.0, sd=6.0, heterogeneity_adjusted=False)
    assert res.ris == pytest.approx(optimal_information_size(3.0, 6.0).total, rel=1e-12)  # 251.2
    below = res.fraction < 1
    assert below.tolist() == [True, True, False, False]
    expected = group_sequential_boundaries(list(res.fraction[below]) + [1.0])
    np.testing.assert_allclose(res.boundary, [expected.z[0], expected.z[1], expected.z[2], expected.z[2]], rtol=1e-12)
    assert res.ris_reached


def test_tsa_single_study_at_full_information_is_the_conventional_test():
    fit = am.pool([3.38], [1.104**2], test="z", labels=["Oh 2018"])
    ris = optimal_information_size(3.38, 6.0).total
    res = trial_sequential_analysis(fit, [ris], [2018], delta=3.38, sd=6.0)
    assert res.boundary[0] == pytest.approx(stats.norm.isf(0.025), rel=1e-12)
    assert res.z[0] == pytest.approx(3.38 / 1.104, rel=1e-12)
    assert res.crossed and res.first_crossing == "Oh 2018"


def test_tsa_crossing_is_judged_against_the_monitoring_boundary_not_1_96():
    # One small study with z = 3.06: beyond 1.96 but far below the O'Brien-Fleming boundary at 10% of the RIS
    fit = am.pool([3.38], [1.104**2], test="z", labels=["Oh 2018"])
    res = trial_sequential_analysis(fit, [56], [2018], delta=1.0, sd=6.0)
    assert res.fraction[0] < 0.1
    assert abs(res.z[0]) > 1.96 and not res.crossed and res.first_crossing is None
    assert not res.ris_reached
    d = res.to_dict()
    assert d["crossed"] is False and d["ris"] == pytest.approx(res.ris) and d["delta"] == 1.0
    assert "no boundary crossed" in res.summary()


def test_tsa_diversity_inflates_the_ris():
    fit = _fit()
    adjusted = trial_sequential_analysis(fit, N, YEAR, delta=3.0, sd=6.0)
    plain = trial_sequential_analysis(fit, N, YEAR, delta=3.0, sd=6.0, heterogeneity_adjusted=False)
    assert adjusted.ris == pytest.approx(plain.ris / (1 - diversity(fit)), rel=1e-12)
    assert adjusted.diversity == plain.diversity > 0


@pytest.mark.parametrize(
    "change, argument",
    [
        ({"participants": [56, 189, 40]}, "participants"),
        ({"participants": [56, 0, 40, 115]}, "participants"),
        ({"order": [2018, 2022]}, "order"),
        ({"alpha": 1.0}, "alpha"),
        ({"power": 1.0}, "power"),
        ({"delta": 0.0}, "delta"),
        ({"sd": -1.0}, "sd"),
        ({"spending": "linear"}, "spending"),
    ],
)
def test_tsa_bad_input_names_the_argument(change, argument):
    kwargs = {"participants": N, "order": YEAR, "delta": 3.0, "sd": 6.0, **change}
    with pytest.raises(AlsmetaInputError, match=argument):
        trial_sequential_analysis(_fit(), **kwargs)


def test_tsa_bad_participants_names_the_study():
    with pytest.raises(AlsmetaInputError, match="Cudkowicz 2022.*participants"):
        trial_sequential_analysis(_fit(), [56, -3, 40, 115], YEAR, delta=3.0, sd=6.0)


def test_tsa_refuses_a_t_based_fit():
    fit = am.pool(YI, VI, method="REML", test="knha")
    with pytest.raises(AlsmetaInputError, match="test='z'"):
        trial_sequential_analysis(fit, N, YEAR, delta=3.0, sd=6.0)


def test_tsa_boundary_path_passes_through_each_look_and_is_the_boundary_of_a_look_there():
    fit = _fit()
    res = trial_sequential_analysis(fit, N, YEAR, delta=3.0, sd=6.0)
    looks = res.boundaries.fraction
    for t, z in zip(looks, res.boundaries.z, strict=True):
        assert res.path_z[np.flatnonzero(np.isclose(res.path_fraction, t))[0]] == pytest.approx(z, rel=1e-10)
    # between looks 1 and 2 the path is the boundary a look at tau would face after look 1
    tau = res.path_fraction[(res.path_fraction > looks[0]) & (res.path_fraction < looks[1])][0]
    expected = group_sequential_boundaries([looks[0], tau]).z[-1]
    assert res.path_z[res.path_fraction == tau][0] == pytest.approx(expected, rel=1e-10)
    # before the first look: the one-look boundary; O'Brien-Fleming paths fall towards z_{1-alpha/2}
    first = res.path_fraction[0]
    assert res.path_z[0] == pytest.approx(group_sequential_boundaries([first]).z[0], rel=1e-10)
    assert res.path_fraction[-1] == 1.0
    # O'Brien-Fleming: the path falls between looks; just after a look it may rise a little, never by much
    for lo, hi in zip(np.concatenate(([0.0], looks[:-1])), looks, strict=True):
        inside = (res.path_fraction > lo) & (res.path_fraction <= hi) & np.isfinite(res.path_z)
        assert np.all(np.diff(res.path_z[inside]) < 0)
    assert np.all(np.diff(res.path_z[np.isfinite(res.path_z)]) < 0.05)
    assert np.min(np.diff(res.path_fraction)) >= 0.005


@pytest.mark.parametrize("column", ["participants", "order"])
def test_tsa_missing_participants_or_order_raise_naming_the_study_or_drop_and_refit(column):
    fit = _fit()
    n, year = N.astype(float).tolist(), list(YEAR)
    (n if column == "participants" else year)[1] = None
    with pytest.raises(AlsmetaInputError, match=rf"study 'Cudkowicz 2022', column '{column}'.*na_action='drop'"):
        trial_sequential_analysis(fit, n, year, delta=3.0, sd=6.0)
    with pytest.warns(am.AlsmetaWarning, match=r"1 of 4 studies dropped .*Cudkowicz 2022"):
        res = trial_sequential_analysis(fit, n, year, delta=3.0, sd=6.0, na_action="drop")
    keep = [0, 2, 3]
    sub = am.pool(YI[keep], VI[keep], method="DL", test="z", labels=["Oh 2018", "X 2019", "Y 2025"])
    ref = trial_sequential_analysis(sub, N[keep], [YEAR[i] for i in keep], delta=3.0, sd=6.0)
    assert res.labels == ref.labels == ("Oh 2018", "X 2019", "Y 2025")
    np.testing.assert_array_equal(res.z, ref.z)
    assert res.ris == ref.ris  # D^2 of the refitted meta-analysis, not of the fit with the dropped study


def test_tsa_na_action_is_checked_and_all_missing_is_refused():
    with pytest.raises(AlsmetaInputError, match="na_action"):
        trial_sequential_analysis(_fit(), N, YEAR, delta=3.0, sd=6.0, na_action="omit")
    with pytest.raises(AlsmetaInputError, match="every study has a missing value"), pytest.warns(am.AlsmetaWarning):
        trial_sequential_analysis(_fit(), [np.nan] * 4, YEAR, delta=3.0, sd=6.0, na_action="drop")
