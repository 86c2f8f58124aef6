"""alsmeta.effects.conversions: worked examples with the formula written out, properties, bad input.

The worked examples compute the expected value independently of the package
(typed-in quantiles, Python's statistics module, raw individual values).
metafor 3.8.1 has no conv.fivenum(), so Wan et al. (2014) is checked against
its published formulas and against the exact expected range of normal
samples (the d2 constants of quality control).
"""

from __future__ import annotations

import math
import statistics

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from alsmeta.effects.conversions import (
    combine_groups,
    correlation_from_sds,
    mean_sd_from_median,
    parse_p_value,
    sd_change_from_sds,
    sd_from_se,
    se_from_ci,
    se_from_p,
)
from alsmeta.validation import AlsmetaInputError

Z975 = 1.959963984540054  # qnorm(0.975)
T975_10 = 2.2281388519862739  # qt(0.975, 10)
Z995 = 2.5758293035489004  # qnorm(0.995)
PHI_INV = statistics.NormalDist().inv_cdf  # independent of scipy


def assert_input_error(call, study: str, column: str, what: str) -> None:
    """``call()`` raises AlsmetaInputError naming the study, the column and the problem."""
    with pytest.raises(AlsmetaInputError) as info:
        call()
    message = str(info.value)
    assert f"study {study!r}" in message and f"column {column!r}" in message and what in message, message


# --- SE from a confidence interval ---------------------------------------------------


def test_se_from_normal_ci():
    # Oh 2018 ALSFRS-R change at 4 months: MD 2.98, 95% CI 1.48 to 4.47 -> SE = (4.47 - 1.48) / 3.92
    se = se_from_ci([1.48], [4.47])
    assert se[0] == pytest.approx((4.47 - 1.48) / (2 * Z975), rel=1e-14)
    assert se_from_ci([1.48], [4.47], level=99)[0] == pytest.approx((4.47 - 1.48) / (2 * Z995), rel=1e-14)


def test_se_from_t_ci_and_ratio_ci():
    assert se_from_ci([-1.0, 0.0], [3.0, 1.0], df=10)[0] == pytest.approx(4.0 / (2 * T975_10), rel=1e-14)
    # odds ratio 1.0 (0.5 to 2.0): SE of log OR = (ln 2 - ln 0.5) / 3.92
    assert se_from_ci(0.5, 2.0, log_scale=True)[0] == pytest.approx(2 * math.log(2) / (2 * Z975), rel=1e-14)


@settings(max_examples=200, deadline=None)
@given(st.floats(-1e3, 1e3), st.floats(1e-4, 1e3), st.floats(0.5, 0.999), st.one_of(st.none(), st.floats(1, 500)))
def test_se_ci_round_trip(estimate, se, level, df):
    from scipy import stats

    q = stats.norm.isf((1 - level) / 2) if df is None else stats.t.isf((1 - level) / 2, df)
    back = se_from_ci([estimate - q * se], [estimate + q * se], level=level, df=df)
    assert back[0] == pytest.approx(se, rel=1e-6)


# --- SE from a p-value ------------------------------------------------------------------


def test_se_from_p_worked_examples():
    # two-sided z: estimate 2, p = 0.05 -> z = 1.96, SE = 2 / 1.96
    res = se_from_p([2.0], [0.05])
    assert res.se[0] == pytest.approx(2 / Z975, rel=1e-12)
    assert not res.any_bound and res.relation == ("=",)
    # one-sided p = 0.025 is the same statistic; a negative estimate gives the same SE
    assert se_from_p([-2.0], [0.025], sided=1).se[0] == pytest.approx(2 / Z975, rel=1e-12)
    # t with 10 df, p = 0.05 -> t = 2.228
    assert se_from_p([2.0], ["p=0.05"], df=10).se[0] == pytest.approx(2 / T975_10, rel=1e-12)


@settings(max_examples=200, deadline=None)
@given(st.floats(0.01, 100), st.floats(0.01, 100), st.one_of(st.none(), st.floats(2, 300)))
def test_se_p_round_trip(estimate, se, df):
    from scipy import stats

    stat = estimate / se
    p = 2 * (stats.norm.sf(stat) if df is None else stats.t.sf(stat, df))
    assume(1e-300 < p < 1)
    assert se_from_p([estimate], [p], df=df).se[0] == pytest.approx(se, rel=1e-6)


def test_upper_bound_needs_consent_and_is_conservative():
    with pytest.raises(AlsmetaInputError, match=r"'Sykova 2017'.*'p'.*upper bound.*bound='conservative'"):
        se_from_p([1.5], ["p<0.02"], labels=["Sykova 2017"])
    res = se_from_p([1.5, 1.5], ["p<0.02", 0.01], bound="conservative", labels=["Sykova 2017", "X"])
    assert list(res.is_bound) == [True, False] and res.relation == ("<", "=")
    assert res.se[0] == pytest.approx(1.5 / PHI_INV(1 - 0.01), rel=1e-9)
    # any true p below the bound gives a smaller SE: the bound is the largest compatible SE
    assert res.se[0] > res.se[1]


def test_lower_bound_is_always_rejected():
    with pytest.raises(AlsmetaInputError, match=r"'B'.*lower bound.*infinite SE"):
        se_from_p([1.0, 2.0], [0.01, "p>0.05"], bound="conservative", labels=["A", "B"])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("p<0.02", (0.02, "<")),
        ("<0.001", (0.001, "<")),
        ("P = .003", (0.003, "=")),
        ("p≤0.05", (0.05, "<=")),
        ("p >= 0.1", (0.1, ">=")),
        ("p-value < 1e-4", (1e-4, "<")),
        ("0.36", (0.36, "=")),
        (0.2, (0.2, "=")),
    ],
)
def test_parse_p_value(text, expected):
    assert parse_p_value(text) == expected


@pytest.mark.parametrize("text", ["NS", "n.s.", "p<", "p=1.5", "significant", "", True])
def test_parse_p_value_rejects_non_p_values(text):
    with pytest.raises(AlsmetaInputError, match="p-value"):
        parse_p_value(text)


@pytest.mark.parametrize(
    ("kwargs", "column", "what"),
    [
        ({"estimate": [1.0, 0.0], "p": [0.1, 0.1]}, "estimate", "estimate of 0"),
        ({"estimate": [1.0, 2.0], "p": [0.1, 1.0]}, "p", "strictly between 0 and 1"),
        ({"estimate": [1.0, 2.0], "p": [0.1, "NS"]}, "p", "cannot read"),
        ({"estimate": [1.0, 2.0], "p": [0.1, float("nan")]}, "p", "missing"),
        ({"estimate": [1.0, 2.0], "p": [0.1, 0.6], "sided": 1}, "p", ">= 0.5"),
        ({"estimate": [1.0, 2.0], "p": [0.1, 0.2], "df": [5, -1]}, "df", "> 0"),
    ],
)
def test_se_from_p_bad_input(kwargs, column, what):
    labels = ["Karussis 2010", "Nabavi 2018"]
    assert_input_error(lambda: se_from_p(**kwargs, labels=labels), "Nabavi 2018", column, what)


# --- SDs ------------------------------------------------------------------------------


def test_sd_from_se():
    assert sd_from_se([0.5], [25])[0] == pytest.approx(2.5, rel=1e-15)
    # SE of a difference in means (Cochrane 6.5.2.3): SD = SE / sqrt(1/n1 + 1/n2)
    assert sd_from_se(1.07, 32, 25)[0] == pytest.approx(1.07 / math.sqrt(1 / 32 + 1 / 25), rel=1e-14)


def _xi(n):
    return 2 * PHI_INV((n - 0.375) / (n + 0.25))


def _eta(n):
    return 2 * PHI_INV((0.75 * n - 0.125) / (n + 0.25))


def test_wan_three_scenarios_worked_by_hand():
    n, a, q1, m, q3, b = 40, 10.0, 21.0, 25.0, 31.0, 46.0
    s1 = mean_sd_from_median([m], [n], minimum=[a], maximum=[b])
    assert s1.scenario == ("S1",)
    assert s1.mean[0] == pytest.approx((a + 2 * m + b) / 4, rel=1e-14)
    assert s1.sd[0] == pytest.approx((b - a) / _xi(n), rel=1e-12)
    s2 = mean_sd_from_median([m], [n], minimum=[a], maximum=[b], q1=[q1], q3=[q3])
    assert s2.scenario == ("S2",)
    assert s2.mean[0] == pytest.approx((a + 2 * q1 + 2 * m + 2 * q3 + b) / 8, rel=1e-14)
    assert s2.sd[0] == pytest.approx((b - a) / (2 * _xi(n)) + (q3 - q1) / (2 * _eta(n)), rel=1e-12)
    s3 = mean_sd_from_median([m], [n], q1=[q1], q3=[q3])
    assert s3.scenario == ("S3",)
    assert s3.mean[0] == pytest.approx((q1 + m + q3) / 3, rel=1e-14)
    assert s3.sd[0] == pytest.approx((q3 - q1) / _eta(n), rel=1e-12)


def test_wan_scenario_is_chosen_per_study():
    nan = float("nan")
    res = mean_sd_from_median(
        [5, 5, 5], [20, 20, 20], minimum=[1, nan, 1], maximum=[9, nan, 9], q1=[nan, 3, 3], q3=[None, 7, 7]
    )
    assert res.scenario == ("S1", "S3", "S2")


@pytest.mark.parametrize(("n", "d2"), [(10, 3.078), (25, 3.931), (50, 4.498)])
def test_wan_xi_approximates_the_expected_normal_range(n, d2):
    # d2(n) = E[range of n standard normals] (control-chart constants); a range of d2 means SD ~ 1
    assert mean_sd_from_median([0], [n], minimum=[-d2 / 2], maximum=[d2 / 2]).sd[0] == pytest.approx(1, abs=0.006)


def test_wan_eta_tends_to_the_normal_iqr():
    iqr = 2 * 0.6744897501960817  # 2 qnorm(0.75)
    assert mean_sd_from_median([0], [100000], q1=[-iqr / 2], q3=[iqr / 2]).sd[0] == pytest.approx(1, rel=1e-4)


@pytest.mark.parametrize(
    ("kwargs", "column", "what"),
    [
        ({"q1": [1, 2], "q3": [9, None]}, "q3", "go together"),
        ({"minimum": [1, 2], "maximum": [9, None]}, "maximum", "go together"),
        ({"q1": [1, None], "q3": [9, float("nan")]}, "median", "needs a range"),
        ({"q1": [1, 6], "q3": [9, 9]}, "median", "out of order"),
        ({"minimum": [1, 1], "maximum": [9, 6], "q1": [2, 2], "q3": [8, 7]}, "maximum", "out of order"),
        ({"q1": [1, 5], "q3": [9, 5]}, "q3", "zero width"),
        ({"q1": [1, 2], "q3": [9, 9], "n": [10, 1]}, "n", "below 2"),
    ],
)
def test_wan_bad_input(kwargs, column, what):
    args = {"median": [5, 5], "n": [10, 10]}
    args.update(kwargs)
    labels = ["Blanquer 2012", "Staff 2016"]
    assert_input_error(lambda: mean_sd_from_median(**args, labels=labels), "Staff 2016", column, what)


# --- change SDs and correlations ----------------------------------------------------------


def test_sd_change_and_correlation_worked_example():
    # SD_change = sqrt(3^2 + 4^2 - 2 * 0.5 * 3 * 4) = sqrt(13)
    assert sd_change_from_sds([3.0], [4.0], 0.5)[0] == pytest.approx(math.sqrt(13), rel=1e-15)
    assert correlation_from_sds([3.0], [4.0], [math.sqrt(13)])[0] == pytest.approx(0.5, rel=1e-14)


@settings(max_examples=200, deadline=None)
@given(st.floats(0.01, 100), st.floats(0.01, 100), st.floats(-0.99, 0.99))
def test_correlation_round_trip(sd_pre, sd_post, r):
    sd_change = sd_change_from_sds([sd_pre], [sd_post], [r])
    assume(sd_change[0] > 1e-6 * (sd_pre + sd_post))
    assert correlation_from_sds([sd_pre], [sd_post], sd_change)[0] == pytest.approx(r, abs=1e-6)


def test_inconsistent_sds_are_rejected():
    with pytest.raises(AlsmetaInputError, match=r"'B'.*'sd_change'.*outside \[-1, 1\]"):
        correlation_from_sds([3.0, 3.0], [4.0, 4.0], [5.0, 8.0], labels=["A", "B"])
    with pytest.raises(AlsmetaInputError, match=r"'B'.*'ri'.*outside"):
        sd_change_from_sds([3.0, 3.0], [4.0, 4.0], [0.5, -1.5], labels=["A", "B"])


# --- combining subgroups -------------------------------------------------------------------


def test_combine_groups_equals_the_pooled_raw_values():
    x = [31.0, 35.5, 28.0, 40.0, 33.0]
    y = [22.0, 27.5, 30.0, 19.5]
    res = combine_groups(
        len(x), statistics.mean(x), statistics.stdev(x), len(y), statistics.mean(y), statistics.stdev(y)
    )
    assert res.n[0] == 9
    assert res.mean[0] == pytest.approx(statistics.mean(x + y), rel=1e-14)
    assert res.sd[0] == pytest.approx(statistics.stdev(x + y), rel=1e-13)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(-1e3, 1e3), min_size=2, max_size=30), st.lists(st.floats(-1e3, 1e3), min_size=2, max_size=30))
def test_combine_groups_property(x, y):
    res = combine_groups([len(x)], [np.mean(x)], [np.std(x, ddof=1)], [len(y)], [np.mean(y)], [np.std(y, ddof=1)])
    pooled = np.concatenate([x, y])
    assert res.mean[0] == pytest.approx(np.mean(pooled), rel=1e-9, abs=1e-9)
    assert res.sd[0] == pytest.approx(np.std(pooled, ddof=1), rel=1e-7, abs=1e-7)


# --- bad input common to all conversions ----------------------------------------------------


@pytest.mark.parametrize(
    ("call", "column", "what"),
    [
        (lambda lab: se_from_ci([1.0, 3.0], [2.0, 2.0], labels=lab), "upper", "not above"),
        (lambda lab: se_from_ci([0.5, -0.1], [2.0, 2.0], log_scale=True, labels=lab), "lower", "> 0"),
        (lambda lab: se_from_ci([1.0, "a"], [2.0, 3.0], labels=lab), "lower", "not a number"),
        (lambda lab: se_from_ci([1.0, np.nan], [2.0, 3.0], labels=lab), "lower", "missing"),
        (lambda lab: se_from_ci([1.0, 2.0], [2.0], labels=lab), "upper", "no value"),
        (lambda lab: sd_from_se([0.5, -0.5], [10, 10], labels=lab), "se", "> 0"),
        (lambda lab: sd_from_se([0.5, 0.5], [10, 1], labels=lab), "n", "below 2"),
        (lambda lab: combine_groups([5, 5], [1, 1], [1, -1], [5, 5], [1, 1], [1, 1], labels=lab), "sd1", ">= 0"),
        (lambda lab: combine_groups([5, 5.5], [1, 1], [1, 1], [5, 5], [1, 1], [1, 1], labels=lab), "n1", "whole"),
        (lambda lab: sd_change_from_sds([1.0, 1.0], [1.0, 0.0], 0.5, labels=lab), "sd_post", "> 0"),
    ],
)
def test_conversion_bad_input_names_study_and_column(call, column, what):
    assert_input_error(lambda: call(["Glass 2016", "Mazzini 2019"]), "Mazzini 2019", column, what)


def test_scalars_broadcast_and_results_are_arrays():
    se = se_from_ci(1.0, [2.0, 3.0])
    assert se.shape == (2,)
    np.testing.assert_allclose(se, [1 / (2 * Z975), 2 / (2 * Z975)], rtol=1e-14)
    with pytest.raises(AlsmetaInputError, match="level"):
        se_from_ci([1.0], [2.0], level=100)
