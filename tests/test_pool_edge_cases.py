"""Documented behaviour at the edges: k = 0, 1, 2, boundaries, fallbacks, bad input."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import alsmeta as am
from alsmeta import AlsmetaInputError, AlsmetaWarning

ALL_METHODS = ["CE", "DL", "HE", "HS", "HSk", "SJ", "ML", "REML", "EB", "PM", "PMM"]


@pytest.mark.parametrize("method", ALL_METHODS)
def test_k0_is_a_defined_empty_result(method):
    fit = am.pool([], [], method=method, test="knha")
    assert fit.is_empty and fit.k == 0
    for name in ("estimate", "se", "ci_low", "ci_high", "pvalue", "tau2", "i2", "q", "pi_low"):
        assert np.isnan(getattr(fit, name)), name
    assert "No studies available" in fit.summary()
    assert fit.to_frame().shape[0] == 0
    assert fit.to_dict()["estimate"] is None


def test_k1_returns_the_study_and_downgrades_t_tests_with_a_warning():
    with pytest.warns(AlsmetaWarning, match="z test was used"):
        fit = am.pool([0.3], [0.04], method="REML", test="knha")
    assert fit.estimate == 0.3 and fit.se == pytest.approx(0.2)
    assert fit.ci_low == pytest.approx(0.3 - 1.959963984540054 * 0.2)
    assert fit.tau2 == 0 and np.isnan(fit.tau2_se) and np.isnan(fit.tau2_ci_low)
    assert fit.q == 0 and fit.q_pvalue == 1 and fit.i2 == 0 and fit.h2 == 1
    assert fit.test_downgraded and np.isnan(fit.df)
    assert fit.pi_low == fit.ci_low  # tau2 = 0: PI equals CI


def test_k1_with_fixed_tau2_widens_the_prediction_interval():
    fit = am.pool([0.3], [0.04], method="REML", tau2=0.05)
    assert fit.tau2 == 0.05 and fit.tau2_fixed
    assert np.isnan(fit.tau2_ci_low)  # no interval for a fixed value
    # se^2 = v + tau2 for the single study, and the PI adds tau2 once more
    assert fit.se == pytest.approx(np.sqrt(0.04 + 0.05))
    assert fit.pi_high - fit.pi_low == pytest.approx(2 * 1.959963984540054 * np.sqrt(0.04 + 0.05 + 0.05))


def test_k2_knha_uses_one_degree_of_freedom():
    fit = am.pool([0.1, 0.5], [0.04, 0.09], method="DL", test="knha")
    assert fit.df == 1
    from scipy import stats

    assert fit.ci_high - fit.estimate == pytest.approx(stats.t.isf(0.025, 1) * fit.se, rel=1e-12)
    assert "two studies" in fit.summary()


def test_all_equal_effects_give_zero_heterogeneity_and_zero_knha_se():
    # issue 14: the degenerate Knapp-Hartung test (SE 0, p = 0) is no longer silent
    with pytest.warns(AlsmetaWarning, match="degenerate"):
        fit = am.pool([0.2, 0.2, 0.2], [0.04, 0.09, 0.01], method="REML", test="knha")
    assert fit.tau2 == 0 and fit.q == pytest.approx(0, abs=1e-25) and fit.i2 == 0
    assert fit.se == 0  # metafor: s2w = 0 when the weighted RSS is 0
    adhoc = am.pool([0.2, 0.2, 0.2], [0.04, 0.09, 0.01], method="REML", test="adhoc")
    z = am.pool([0.2, 0.2, 0.2], [0.04, 0.09, 0.01], method="REML", test="z")
    assert adhoc.se == pytest.approx(z.se)  # ad hoc correction keeps s2w >= 1


def test_homogeneous_data_truncate_tau2_and_report_null_qprofile_set():
    yi = [0.10, 0.12, 0.11, 0.09, 0.10]
    vi = [0.01, 0.02, 0.015, 0.01, 0.02]
    fit = am.pool(yi, vi, method="DL")
    assert fit.tau2 == 0 and fit.i2 == 0 and fit.h2 == 1  # statsmodels returns negative tau2 here
    assert fit.tau2_ci_low == 0 and fit.tau2_ci_high == 0
    assert any("null set" in n for n in fit.notes)


def test_huge_variance_ratio_is_stable():
    yi = np.array([0.1, 0.4, -0.2, 1.5, 0.3])
    vi = np.array([1e-4, 1e-2, 1.0, 1e2, 1e-3])
    for method in ALL_METHODS:
        fit = am.pool(yi, vi, method=method)
        assert np.isfinite(fit.estimate) and fit.converged, method


def test_reml_fallback_to_bracketing_is_recorded_and_gives_the_same_answer(bcg):
    # issue 14: a successful fallback does not change the answer, so it is a note and a flag, not a warning
    yi, vi = bcg
    ref = am.pool(yi, vi, method="REML")
    fb = am.pool(yi, vi, method="REML", maxiter=1)
    assert any("bracketing root finder" in n for n in fb.notes)
    assert fb.fallback and fb.converged
    assert fb.tau2 == pytest.approx(ref.tau2, rel=1e-12)


def test_multimodal_reml_likelihood_reports_global_maximum():
    """Fisher scoring from HE stops at 0 here (score < 0 at 0), but a higher interior maximum exists."""
    from alsmeta.engine.estimators import log_likelihood

    y = np.array([0.0] * 10 + [2.0])
    v = np.array([1.0] * 8 + [0.015625, 0.0078125, 0.25])
    with pytest.warns(AlsmetaWarning, match="more than one maximum"):
        fit = am.pool(y, v, method="REML")
    assert fit.multimodal and fit.tau2 > 0.2
    m = np.ones((1, 11), bool)
    at_fit = log_likelihood(y[None], v[None], np.array([fit.tau2]), m, True)[0]
    at_zero = log_likelihood(y[None], v[None], np.array([0.0]), m, True)[0]
    assert at_fit > at_zero + 0.5


def test_boundary_reset_when_zero_beats_scoring_solution():
    """metafor's ll0check: found with adversarial data, where ML scoring lands below ll(0)."""
    rng = np.random.default_rng(0)
    B = 20000
    k = rng.integers(2, 13, size=B)
    Y = rng.choice([0.0, 1.0, 2.0, -3.0], size=(B, 12)) + rng.normal(size=(B, 12)) * (rng.random((B, 12)) < 0.5)
    V = rng.choice([1.0, 0.5, 0.0078125, 0.015625, 0.25, 2.0, 0.005], size=(B, 12))
    mask = np.arange(12)[None, :] < k[:, None]
    res = am.pool_many(Y, V, mask, method="ML", confint=False)
    assert res.boundary_reset.any()
    from alsmeta.engine.estimators import log_likelihood

    rows = np.flatnonzero(res.boundary_reset & ~res.multimodal)
    assert rows.size > 0
    assert np.all(res.tau2[rows] == 0)
    # at the reported 0, no small positive tau2 does better
    eps = np.full(rows.size, 1e-6)
    ll0 = log_likelihood(Y[rows], V[rows], np.zeros(rows.size), mask[rows], False)
    lle = log_likelihood(Y[rows], V[rows], eps, mask[rows], False)
    assert np.all(ll0 >= lle - 1e-9)


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize(
    ("yi", "vi", "message"),
    [
        ([0.1, 0.2], [0.01, -0.02], "study 'B', column 'vi': value -0.02 must be > 0"),
        ([0.1, 0.2], [0.01, 0.0], "study 'B', column 'vi': value 0.0 must be > 0"),
        ([0.1, float("nan")], [0.01, 0.02], "study 'B', column 'yi': value is missing"),
        ([0.1, None], [0.01, 0.02], "study 'B', column 'yi': value is missing"),
        ([0.1, "abc"], [0.01, 0.02], "study 'B', column 'yi': 'abc' is not a number"),
        ([0.1, float("inf")], [0.01, 0.02], "study 'B', column 'yi': value inf is not finite"),
        ([0.1, 0.2], [0.01, True], "study 'B', column 'vi': boolean True is not a number"),
    ],
)
def test_bad_values_name_study_and_column(yi, vi, message):
    with pytest.raises(AlsmetaInputError) as err:
        am.pool(yi, vi, labels=["A", "B"])
    assert message in str(err.value)


def test_mismatched_lengths_duplicate_labels_and_specification_errors():
    with pytest.raises(AlsmetaInputError, match="yi has 3 values but vi has 2"):
        am.pool([1, 2, 3], [1, 1])
    # duplicates are made unique as metafor does (issue 14), not refused
    with pytest.warns(am.AlsmetaWarning, match="duplicate study labels 'A'"):
        assert am.pool([1, 2], [1, 1], labels=["A", "A"]).labels == ("A.1", "A.2")
    with pytest.raises(AlsmetaInputError, match="3 labels given for 2 studies"):
        am.pool([1, 2], [1, 1], labels=["A", "B", "C"])
    with pytest.raises(AlsmetaInputError, match="exactly one of vi"):
        am.pool([1, 2], [1, 1], sei=[1, 1])
    with pytest.raises(AlsmetaInputError, match="exactly one of vi"):
        am.pool([1, 2])
    with pytest.raises(AlsmetaInputError, match="unknown tau2 estimator 'XYZ'"):
        am.pool([1, 2], [1, 1], method="XYZ")
    with pytest.raises(AlsmetaInputError, match="unknown test 'wald'"):
        am.pool([1, 2], [1, 1], test="wald")
    for bad_level in (0, 100, -0.5, "high"):
        with pytest.raises(AlsmetaInputError, match="level"):
            am.pool([1, 2], [1, 1], level=bad_level)
    with pytest.raises(AlsmetaInputError, match="cannot fix tau2 for the common-effect"):
        am.pool([1, 2], [1, 1], method="CE", tau2=0.1)
    with pytest.raises(AlsmetaInputError, match="tau2: must be >= 0"):
        am.pool([1, 2], [1, 1], tau2=-0.1)


def test_sei_route_equals_vi_route(bcg):
    yi, vi = bcg
    a = am.pool(yi, vi, method="PM", test="knha")
    b = am.pool(yi, sei=np.sqrt(vi), method="PM", test="knha")
    da, db = a.to_dict(), b.to_dict()
    for key, value in da.items():
        if isinstance(value, float):
            assert db[key] == pytest.approx(value, rel=1e-13, abs=1e-15), key
        elif key != "vi":
            assert db[key] == value, key
    np.testing.assert_allclose(a.vi, b.vi, rtol=1e-15)
    with pytest.raises(AlsmetaInputError, match="column 'sei'"):
        am.pool([0.1, 0.2], sei=[0.1, -0.1])


def test_level_accepts_percent_and_fraction(bcg):
    yi, vi = bcg
    assert am.pool(yi, vi, level=90).ci_low == am.pool(yi, vi, level=0.9).ci_low


def test_aliases_and_method_names(bcg):
    yi, vi = bcg
    assert am.pool(yi, vi, method="EE").estimate == am.pool(yi, vi, method="CE").estimate
    assert am.pool(yi, vi, method="reml").method == "REML"
    assert am.pool(yi, vi, test="hksj").test == "knha"


def test_pool_many_rejects_bad_arrays_naming_row_and_column():
    with pytest.raises(AlsmetaInputError, match="V: row 1, study column 2"):
        am.pool_many(np.zeros((2, 3)), np.array([[1, 1, 1], [1, 1, -1.0]]))
    with pytest.raises(AlsmetaInputError, match="same shape"):
        am.pool_many(np.zeros((2, 3)), np.ones((2, 4)))
    with pytest.raises(AlsmetaInputError, match="mask: must be a boolean"):
        am.pool_many(np.zeros((2, 3)), np.ones((2, 3)), mask=np.ones((2, 3)))
    # NaN outside the mask is fine
    Y = np.array([[0.1, np.nan, 0.3]])
    res = am.pool_many(Y, np.ones((1, 3)), mask=np.array([[True, False, True]]))
    assert res.k[0] == 2 and np.isfinite(res.estimate[0])


def test_pool_many_rows_with_k0_k1_and_chunking_agree():
    rng = np.random.default_rng(5)
    Y = rng.normal(size=(50, 6))
    V = rng.uniform(0.05, 1, size=(50, 6))
    mask = rng.random((50, 6)) > 0.5
    mask[0] = False
    mask[1] = [True, False, False, False, False, False]
    whole = am.pool_many(Y, V, mask, method="REML", test="knha")
    chunked = am.pool_many(Y, V, mask, method="REML", test="knha", chunk_size=7)
    pd_whole, pd_chunked = whole.to_frame(), chunked.to_frame()
    assert pd_whole.equals(pd_chunked)
    assert np.isnan(whole.estimate[0]) and not whole.converged[0]
    assert whole.estimate[1] == Y[1, 0] and whole.test_downgraded[1]
    assert len(whole) == 50


def test_summary_mentions_the_key_numbers(bcg):
    yi, vi = bcg
    text = am.pool(yi, vi, method="REML", test="knha").summary()
    for token in (
        "k = 13",
        "REML",
        "0.3132",
        "Q(df = 12) = 152.2330",
        "-0.7145",
        "tval",
        "df = 12",
        "prediction interval",
    ):
        assert token in text, token


def test_to_frame_weights_sum_to_100(bcg):
    yi, vi = bcg
    frame = am.pool(yi, vi, method="DL", labels=[f"S{i}" for i in range(13)]).to_frame()
    assert list(frame.columns) == ["label", "yi", "vi", "sei", "ci_low", "ci_high", "weight"]
    assert frame["weight"].sum() == pytest.approx(100.0)
    assert frame["label"].iloc[0] == "S0"


def test_no_warning_on_ordinary_data(bcg):
    yi, vi = bcg
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for method in ALL_METHODS:
            am.pool(yi, vi, method=method, test="knha" if method != "CE" else "z")


# ------------------------------------------------------------------ spurious warnings (issue 14)
def test_fisher_scoring_fallback_is_recorded_quietly_when_the_estimate_is_right():
    """Fisher scoring oscillates on these ordinary data (found by a random search); the root finder is right.

    Before: an AlsmetaWarning "Fisher scoring did not converge" although the estimate is the REML maximum.
    Now: no warning, ``fallback`` True and a note; the estimate is checked against a direct maximisation.
    """
    import warnings

    from scipy import optimize

    from alsmeta.engine.estimators import log_likelihood

    yi = np.array([0.26, -1.63, 1.06, 0.21])
    vi = np.array([0.002, 0.63, 0.945, 0.243])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit = am.pool(yi, vi, method="REML")
    assert fit.fallback and fit.converged
    assert any("estimate is unaffected" in n for n in fit.notes)

    def neg_ll(t: float) -> float:
        return -float(log_likelihood(yi[None], vi[None], np.array([t]), np.ones((1, 4), bool), True)[0])

    best = optimize.minimize_scalar(neg_ll, bounds=(0.0, 5.0), method="bounded", options={"xatol": 1e-12})
    assert fit.tau2 == pytest.approx(best.x, rel=1e-6)
    assert neg_ll(fit.tau2) <= best.fun + 1e-12


def test_one_dominant_study_loses_no_digits():
    """tr(P) and sum P_ij^2 lost eps * (w_max / w_rest)^2: the SE of the DL tau2 was 4e-2 wrong at a
    variance ratio of 1e8 (issue 14). Checked against exact rational arithmetic."""
    from fractions import Fraction as F

    rng = np.random.default_rng(0)
    k = 10
    y = rng.normal(0, 1, k) * 3
    v = rng.uniform(0.5, 2, k)
    v[0] = 2e-8 * v.max()  # a variance ratio of 5e7, near the 1e8 limit
    fit = am.pool(y, v, method="DL")
    w = [1 / F(x) for x in v]
    s = sum(w)
    mu = sum(wi * F(yi) for wi, yi in zip(w, y, strict=True)) / s
    q = sum(wi * (F(yi) - mu) ** 2 for wi, yi in zip(w, y, strict=True))
    tr_p = s - sum(wi**2 for wi in w) / s
    tau2 = max(F(0), (q - (k - 1)) / tr_p)
    tr_pp = sum((w[i] * (i == j) - w[i] * w[j] / s) ** 2 for i in range(k) for j in range(k))
    se = float(2 * (k - 1) + 4 * tau2 * tr_p + 2 * tau2 * tau2 * tr_pp) ** 0.5 / float(tr_p)
    assert fit.tau2 == pytest.approx(float(tau2), rel=1e-13)
    assert fit.tau2_se == pytest.approx(se, rel=1e-13)
    assert fit.i2 == pytest.approx(float(100 * tau2 / ((k - 1) / tr_p + tau2)), rel=1e-13)
