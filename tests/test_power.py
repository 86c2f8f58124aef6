"""Power and sample size against textbook values and closed forms."""

from __future__ import annotations

import math

import pytest
from scipy import stats

from alsmeta import AlsmetaInputError
from alsmeta.planning.power import (
    attrition_adjusted,
    meta_analysis_power,
    optimal_information_size,
    sample_size_scenarios,
    trial_power,
    trial_sample_size,
)


def test_half_sd_needs_64_per_arm():
    # Cohen (1988) Table 2.4.1: d = 0.5, power 0.80, alpha 0.05 two-sided -> n = 64
    assert trial_sample_size(delta=0.5, sd=1.0) == 64
    assert trial_sample_size(delta=5.0, sd=10.0) == 64  # only delta/sd matters


def test_power_at_the_solved_size_reaches_the_target_and_not_one_below():
    n = trial_sample_size(delta=3.38, sd=4.0, power=0.9)
    assert trial_power(3.38, 4.0, n) >= 0.9
    assert trial_power(3.38, 4.0, n - 1) < 0.9


def test_power_approaches_normal_approximation_for_large_n():
    delta, sd, n = 1.0, 4.0, 400
    z = stats.norm.isf(0.025)
    lam = delta / (sd * math.sqrt(2 / n))
    approx = stats.norm.sf(z - lam) + stats.norm.cdf(-z - lam)
    assert trial_power(delta, sd, n) == pytest.approx(approx, abs=2e-3)
    assert trial_power(-delta, sd, n) == pytest.approx(trial_power(delta, sd, n))


def test_optimal_information_size_formula():
    ois = optimal_information_size(delta=2.0, sd=4.0, alpha=0.05, power=0.8)
    z = stats.norm.isf(0.025) + stats.norm.ppf(0.8)
    assert ois.total == pytest.approx(4 * z**2 * 16 / 4)
    assert optimal_information_size(2.0, 4.0, diversity=0.5).heterogeneity_adjusted == pytest.approx(2 * ois.total)


def test_meta_analysis_power_reduces_to_single_study_and_falls_with_tau2():
    v = 4.0**2 * 2 / 50  # one trial of 50 per arm
    assert meta_analysis_power(1.0, v, 1) == pytest.approx(
        stats.norm.sf(1.959963984540054 - 1 / math.sqrt(v)) + stats.norm.cdf(-1.959963984540054 - 1 / math.sqrt(v))
    )
    assert meta_analysis_power(1.0, v, 5, tau2=0.5) < meta_analysis_power(1.0, v, 5, tau2=0.0)
    assert meta_analysis_power(0.0, v, 5) == pytest.approx(0.05)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: trial_sample_size(0.0, 1.0), "delta"),
        (lambda: trial_sample_size(1.0, -1.0), "sd"),
        (lambda: trial_power(1.0, 1.0, 1), "n_per_arm"),
        (lambda: trial_power(1.0, 1.0, 10, alpha=1.2), "alpha"),
        (lambda: optimal_information_size(1.0, 1.0, diversity=1.0), "diversity"),
        (lambda: meta_analysis_power(1.0, 1.0, 0), "k"),
        (lambda: attrition_adjusted(100, 1.0), "attrition"),
        (lambda: attrition_adjusted(100, -0.1), "attrition"),
        (lambda: attrition_adjusted(0, 0.2), "n_analysed"),
        (lambda: sample_size_scenarios(1.0, ()), "sds"),
    ],
)
def test_bad_input(call, message):
    with pytest.raises(AlsmetaInputError, match=message):
        call()


def test_attrition_inflation_rounds_up_and_is_exact_on_round_numbers():
    assert attrition_adjusted(100, 0.2) == 125  # 100 / 0.8, no spurious extra patient from floating point
    assert attrition_adjusted(171, 0.2) == 214  # 213.75 rounds up
    assert attrition_adjusted(171, 0.0) == 171


def test_sample_size_scenarios_for_the_definitive_trial():
    # issue 12 item 4: the lower 95% limit of Oh 2018's 6-month MD, SD 4.0 (Oh 2018), 5 and 6, attrition 0 and 20%
    delta = 1.2166946192213959
    sc = sample_size_scenarios(delta, (3.9956100910874675, 5.0, 6.0), (0.0, 0.2))
    assert [(s.sd, s.attrition) for s in sc] == [
        (3.9956100910874675, 0.0),
        (3.9956100910874675, 0.2),
        (5.0, 0.0),
        (5.0, 0.2),
        (6.0, 0.0),
        (6.0, 0.2),
    ]
    assert [s.n_analysed_per_arm for s in sc[::2]] == [171, 267, 383]
    assert [s.n_enrolled_per_arm for s in sc[1::2]] == [214, 334, 479]
    # the normal approximation gives the "roughly 266-382"; the exact t-test needs one more per arm
    z = stats.norm.isf(0.025) + stats.norm.ppf(0.8)
    assert [math.ceil(2 * z**2 * sd**2 / delta**2) for sd in (5.0, 6.0)] == [266, 382]
    assert sc[1].assumptions() == "SD 4.0, two-sided alpha 0.05, power 80%, difference to detect 1.22, attrition 20%"
