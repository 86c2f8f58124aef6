"""meta_regression(weights=) and method="GENQ" with moderators against metafor's rma(yi, vi, mods=, weights=).

Reference: tests/reference/metafor_regression_weights.json (generate_regression_weights_reference.R): dat.bcg
(mods ablat; ablat + year) and a hand-made ALS-like set of six trials (log10 dose; dose + intrathecal route), for
EE, DL, HE, SJ, ML, REML, PM and GENQ with the total sample size as weights, GENQ with 1/vi and 1, REML with unit
weights and with tau2 fixed at 0.05, under the z and Knapp-Hartung tests (plus t and adhoc). Given tau2 the
weighted fit is closed form; tau2 comes from the tested engine (metafor run with threshold 1e-12). Tolerance:
relative 1e-7, absolute 1e-10 near 0 (1e-8 for I^2 in percent: metafor's ML tau2 on the ALS set is 1.2e-13
where alsmeta's is 0); the
worst measured difference is 3.8e-9 (a CI bound of the ill-conditioned ablat + year design on dat.bcg).
"""

from __future__ import annotations

import math
from itertools import permutations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import alsmeta as am
from alsmeta.engine.weighted import genq_tau2
from conftest import load_reference

REF = load_reference("metafor_regression_weights.json")
DATA = {d["name"]: d for d in REF["datasets"]}
RTOL, ATOL = 1e-7, 1e-10
FITS = [f for f in REF["fits"] if not f.get("failed")]

# metafor's coefficient columns and alsmeta's
METAFOR_COEF = ("beta", "se", "zval", "pval", "ci_lb", "ci_ub")
COEF_FIELDS = dict(zip(METAFOR_COEF, ("estimate", "se", "statistic", "pvalue", "ci_low", "ci_high"), strict=True))
SCALAR_FIELDS = {
    "tau2": "tau2",
    "se_tau2": "tau2_se",
    "QE": "qe",
    "QEp": "qe_pvalue",
    "QM": "qm",
    "QMp": "qm_pvalue",
    "I2": "i2",
    "H2": "h2",
    "ll_ML": "ll_ml",
    "ll_REML": "ll_reml",
}


def _fit(ref, **extra):
    d = DATA[ref["dataset"]]
    mods = pd.DataFrame({m: d["mods"][m] for m in ref["mods"]})
    return am.meta_regression(
        d["yi"],
        d["vi"],
        mods,
        method="CE" if ref["method"] == "EE" else ref["method"],
        test=ref["test"],
        weights=d["weights"][ref["weights_name"]],
        tau2=ref.get("tau2_fixed"),
        labels=d["labels"],
        **extra,
    )


def _close(got, expected, what, atol=ATOL):
    got = np.atleast_1d(np.asarray(got, dtype=float))
    expected = np.atleast_1d(np.asarray([np.nan if x is None else x for x in np.atleast_1d(expected)], dtype=float))
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=atol, equal_nan=True, err_msg=what)


@pytest.mark.filterwarnings("ignore::alsmeta.AlsmetaWarning")
@pytest.mark.parametrize("ref", FITS, ids=[f["id"] for f in FITS])
def test_weighted_meta_regression_matches_metafor(ref):
    res = _fit(ref)
    for rfield, afield in COEF_FIELDS.items():
        _close(res.coefficients[afield].to_numpy(), ref[rfield], afield)
    for rfield, afield in SCALAR_FIELDS.items():
        _close(getattr(res, afield), ref[rfield], afield, atol=100 * ATOL if afield == "i2" else ATOL)  # I2 in %
    _close(res.vcov, ref["vb"], "vcov")
    _close(res.weights, ref["weights_pct"], "weights")
    np.testing.assert_array_equal(res.user_weights, DATA[ref["dataset"]]["weights"][ref["weights_name"]])
    assert (res.qm_df, res.k, res.p) == (ref["QMdf"][0], ref["k"], ref["p"])
    assert (res.qm_df2 == ref["QMdf"][1]) if ref["QMdf"][1] is not None else math.isnan(res.qm_df2)
    _close(res.r2, ref["R2"], "R2")  # with tau2 fixed too: the baseline is the estimated intercept-only tau2


def test_genq_without_weights_is_refused_as_by_metafor():
    ref = next(f for f in REF["fits"] if f.get("failed"))
    assert "weights" in ref["error"]
    d = DATA[ref["dataset"]]
    with pytest.raises(am.AlsmetaInputError, match="weights: method='GENQ' needs weights="):
        am.meta_regression(d["yi"], d["vi"], mods={"ablat": d["mods"]["ablat"]}, method="GENQ")


# ---------------------------------------------------------------- properties
studies = st.integers(min_value=5, max_value=9).flatmap(
    lambda k: st.tuples(
        st.lists(st.floats(-2, 2, allow_nan=False), min_size=k, max_size=k),
        st.lists(st.floats(0.02, 1.0, allow_nan=False), min_size=k, max_size=k),
        st.lists(st.floats(-3, 3, allow_nan=False), min_size=k, max_size=k).filter(lambda x: np.ptp(x) > 0.5),
        st.lists(st.floats(0.1, 50, allow_nan=False), min_size=k, max_size=k),
    )
)


def _arrays(data):
    return tuple(np.array(c, dtype=float) for c in data)


@settings(max_examples=25, deadline=None)
@given(
    studies, st.sampled_from(["REML", "DL", "GENQ", "CE", "PM"]), st.sampled_from(["z", "knha"]), st.floats(0.01, 1e4)
)
def test_rescaling_the_weights_changes_nothing(data, method, test, c):
    y, v, x, w = _arrays(data)
    a = am.meta_regression(y, v, {"x": x}, method=method, test=test, weights=w)
    b = am.meta_regression(y, v, {"x": x}, method=method, test=test, weights=c * w)
    np.testing.assert_allclose(b.estimate, a.estimate, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(b.se, a.se, rtol=1e-8, atol=1e-12)
    assert b.tau2 == pytest.approx(a.tau2, rel=1e-8, abs=1e-12)
    assert b.qm == pytest.approx(a.qm, rel=1e-7, abs=1e-10)


@settings(max_examples=25, deadline=None)
@given(studies, st.sampled_from(["z", "knha"]), st.floats(0.0, 0.5))
def test_inverse_variance_weights_give_the_unweighted_fit(data, test, tau2):
    """With a = 1/(v + tau2) at the model's own tau2 the sandwich collapses to (X'WX)^-1: the usual fit."""
    y, v, x, _ = _arrays(data)
    plain = am.meta_regression(y, v, {"x": x}, test=test, tau2=tau2)
    weighted = am.meta_regression(y, v, {"x": x}, test=test, tau2=tau2, weights=1.0 / (v + tau2))
    np.testing.assert_allclose(weighted.estimate, plain.estimate, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(weighted.vcov, plain.vcov, rtol=1e-7, atol=1e-14)
    assert weighted.ll_reml == pytest.approx(plain.ll_reml, rel=1e-9)
    assert weighted.qe == plain.qe


@settings(max_examples=25, deadline=None)
@given(studies)
def test_genq_is_dl_with_inverse_variance_weights_and_he_with_unit_weights(data):
    y, v, x, _ = _arrays(data)
    mods = {"x": x}
    dl = am.meta_regression(y, v, mods, method="DL")
    he = am.meta_regression(y, v, mods, method="HE")
    genq_iv = am.meta_regression(y, v, mods, method="GENQ", weights=1.0 / v)
    genq_1 = am.meta_regression(y, v, mods, method="GENQ", weights=np.ones_like(v))
    assert genq_iv.tau2 == pytest.approx(dl.tau2, rel=1e-8, abs=1e-12)
    assert genq_iv.tau2_se == pytest.approx(dl.tau2_se, rel=1e-8)
    assert genq_1.tau2 == pytest.approx(he.tau2, rel=1e-8, abs=1e-12)
    assert genq_1.tau2_se == pytest.approx(he.tau2_se, rel=1e-8)


@settings(max_examples=25, deadline=None)
@given(studies, st.integers(0, 8))
def test_genq_with_a_zero_weight_is_the_fit_without_that_study(data, drop):
    """Weight 0 removes a study from the generalised Q, the coefficients and the sandwich (QE still counts it)."""
    y, v, x, w = _arrays(data)
    i = drop % y.size
    keep = np.arange(y.size) != i
    if np.ptp(x[keep]) <= 0.5:
        return
    w0 = w.copy()
    w0[i] = 0.0
    full = am.meta_regression(y, v, {"x": x}, method="GENQ", weights=w0)
    sub = am.meta_regression(y[keep], v[keep], {"x": x[keep]}, method="GENQ", weights=w[keep])
    assert full.tau2 == pytest.approx(sub.tau2, rel=1e-8, abs=1e-12)
    np.testing.assert_allclose(full.estimate, sub.estimate, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(full.se, sub.se, rtol=1e-8, atol=1e-12)
    assert full.weights[i] == 0.0


def test_genq_tau2_matches_the_single_fit_helper():
    d = DATA["als.small"]
    y, v = np.array(d["yi"]), np.array(d["vi"])
    X = np.column_stack([np.ones(y.size), d["mods"]["log10_dose"]])
    a = np.array(d["weights"]["n_total"])
    res = am.meta_regression(y, v, {"log10_dose": X[:, 1]}, method="GENQ", weights=a)
    est = genq_tau2(y - y.mean(), v, X, a)
    assert res.tau2 == pytest.approx(est.tau2, rel=1e-12)
    assert res.tau2_se == pytest.approx(est.tau2_se, rel=1e-12)


# ---------------------------------------------------------------- pairing, missing values, bad weights
Y = [0.82, -0.25, 0.31, -0.38, 0.93, 0.05]
V = [0.081, 0.125, 0.210, 0.095, 0.160, 0.058]
DOSE = [7.0, 6.3, 8.0, 6.0, 7.5, 6.7]
N = [48.0, 32.0, 20.0, 44.0, 26.0, 70.0]
LABELS = [f"Trial {c}" for c in "ABCDEF"]


def test_pandas_weights_are_paired_by_index():
    idx = pd.Index(LABELS)
    order = [3, 0, 5, 1, 4, 2]
    ref = am.meta_regression(Y, V, {"dose": DOSE}, weights=N, method="GENQ", labels=LABELS)
    shuffled = pd.Series(np.array(N)[order], index=idx[order])
    res = am.meta_regression(
        pd.Series(Y, index=idx),
        pd.Series(V, index=idx),
        pd.DataFrame({"dose": DOSE}, index=idx),
        weights=shuffled,
        method="GENQ",
        labels=LABELS,
    )
    np.testing.assert_array_equal(res.estimate, ref.estimate)
    np.testing.assert_array_equal(res.user_weights, N)
    other = pd.Series(N, index=[f"X{i}" for i in range(6)])
    with pytest.raises(am.AlsmetaInputError, match="weights"):
        am.meta_regression(pd.Series(Y, index=idx), pd.Series(V, index=idx), {"dose": DOSE}, weights=other)


@pytest.mark.parametrize(
    ("weights", "match"),
    [
        ([1, 1, -2, 1, 1, 1], "study 'Trial C', column 'weights': value -2.0 must be >= 0"),
        ([1, 1, 1, np.inf, 1, 1], "study 'Trial D', column 'weights': value inf is not finite"),
        ([0, 0, 0, 0, 0, 0], "weights: every weight is 0"),
        ([1, 1, 1, 1, 1], "weights: 5 values given for 6 studies"),
        ([1, 1, None, 1, 1, 1], "Trial C.*weights"),
        (["a", 1, 1, 1, 1, 1], "study 'Trial A', column 'weights'"),
    ],
)
def test_bad_weights_are_refused_naming_the_argument_and_study(weights, match):
    with pytest.raises(am.AlsmetaInputError, match=match):
        am.meta_regression(Y, V, {"dose": DOSE}, weights=weights, labels=LABELS)


def test_a_missing_weight_is_a_missing_value():
    w = N.copy()
    w[2] = np.nan
    with pytest.warns(am.AlsmetaWarning, match="Trial C"):
        res = am.meta_regression(Y, V, {"dose": DOSE}, weights=w, labels=LABELS, na_action="drop")
    keep = [0, 1, 3, 4, 5]
    ref = am.meta_regression(
        np.array(Y)[keep], np.array(V)[keep], {"dose": np.array(DOSE)[keep]}, weights=np.array(N)[keep]
    )
    assert res.k == 5
    np.testing.assert_array_equal(res.estimate, ref.estimate)


def test_weights_that_leave_a_coefficient_undefined_are_refused():
    group = [1, 1, 0, 0, 0, 0]
    with pytest.raises(am.AlsmetaInputError, match="weights: with weight 0 for 'Trial A', 'Trial B'.*full rank"):
        am.meta_regression(Y, V, {"g": group}, weights=[0, 0, 1, 1, 1, 1], labels=LABELS)
    with pytest.raises(am.AlsmetaInputError, match="GENQ.*positive weight"):
        am.meta_regression(Y, V, {"dose": DOSE}, weights=[0, 0, 0, 0, 1, 1], method="GENQ", labels=LABELS)


# ---------------------------------------------------------------- what uses a weighted fit
def test_exact_permutation_test_refits_with_the_weights():
    """metafor's permutest passes the weights to every refit: count the permutations by hand."""
    y, v, w = np.array(Y[:5]), np.array(V[:5]), np.array(N[:5])
    g = np.array([1.0, 1.0, 0.0, 0.0, 0.0])
    fit = am.meta_regression(y, v, {"g": g}, method="GENQ", weights=w)
    perm = am.permutation_test(fit, n_permutations=100)
    assert perm.exact and perm.n_permutations == 10
    stats_ = {
        tuple(g[list(p)]): am.meta_regression(y, v, {"g": g[list(p)]}, method="GENQ", weights=w)
        .coefficients["statistic"]
        .to_numpy()[1]
        for p in permutations(range(5))
    }
    obs = fit.coefficients["statistic"].to_numpy()[1]
    expected = np.mean([abs(s) >= abs(obs) - 1e-8 for s in stats_.values()])
    assert perm.pvalue[1] == pytest.approx(expected)
    unweighted = am.meta_regression(y, v, {"g": g}, method="DL")
    assert fit.coefficients["statistic"].to_numpy()[1] != pytest.approx(
        unweighted.coefficients["statistic"].to_numpy()[1]
    )


def test_likelihood_comparisons_refuse_a_weighted_meta_regression():
    full = am.meta_regression(Y, V, {"dose": DOSE}, method="ML", weights=N)
    reduced = am.pool(Y, V, method="ML")
    with pytest.raises(am.AlsmetaInputError, match="user weights"):
        am.compare_models(full, reduced)


def test_summary_and_weights_say_the_fit_is_weighted():
    res = am.meta_regression(Y, V, {"dose": DOSE}, method="GENQ", weights=N)
    assert "GENQ; user weights" in res.summary()
    np.testing.assert_allclose(res.weights, 100 * np.array(N) / sum(N), rtol=1e-15)
    assert res.fit_stats.parms == 3  # two coefficients and the estimated tau^2, as metafor


BJ = load_reference("metafor_bj.json")
METHODS_DATA = {d["name"]: d for d in load_reference("metafor_methods.json")["datasets"]}
BJ_WEIGHTED = [e for e in BJ["cases"] if e["mods"] is not None and e["weights_name"] != "inv_vi"]


@pytest.mark.parametrize(
    "ref", BJ_WEIGHTED, ids=[f"{e['dataset']}-{e['weights_name']}-{e['mods']}-{e['level']}" for e in BJ_WEIGHTED]
)
def test_generalised_q_interval_of_a_weighted_meta_regression_matches_tight_metafor(ref):
    """tau2_ci(method="bj") uses the fit's own weights (Jackson et al. 2014): metafor_bj.json, 1/sei and 1."""
    d = METHODS_DATA[ref["dataset"]]
    fit = am.meta_regression(
        d["yi"],
        d["vi"],
        {ref["mods"]: d["mods"][ref["mods"]]},
        method="GENQ",
        weights=ref["weights"],
        level=ref["level"],
    )
    assert fit.tau2 == pytest.approx(ref["tau2_estimate"], rel=1e-8, abs=1e-12)
    res = am.tau2_ci(fit, method="bj")
    assert res.ci_low == pytest.approx(ref["tau2_ci"][0], rel=1e-6, abs=1e-10)
    assert res.ci_high == pytest.approx(ref["tau2_ci"][1], rel=1e-6, abs=1e-10)
    assert res.null_set == ref["null_set"]
