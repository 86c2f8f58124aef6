"""Power and sample size against textbook values and closed forms."""

from __future__ import annotations

import math

import pytest
from scipy import stats

from alsmeta import AlsmetaInputError
from alsmeta.power import meta_analysis_power, optimal_information_size, trial_power, trial_sample_size


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
    assert meta_analysis_power(1.0, v, 1) == pytest.approx(stats.norm.sf(1.959963984540054 - 1 / math.sqrt(v)) + stats.norm.cdf(-1.959963984540054 - 1 / math.sqrt(v)))
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
    ],
)
def test_bad_input(call, message):
    with pytest.raises(AlsmetaInputError, match=message):
        call()
