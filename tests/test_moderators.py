"""Meta-regression, subgroup analyses and permutation tests against R metafor.

Reference values: tests/reference/metafor_diagnostics.json. Tolerance:
relative 1e-6 (absolute 1e-8). With raw publication years as the moderator
metafor's direct inversion of X'WX loses about seven digits (up to ~3e-7 in
p-values); alsmeta fits a centred and scaled design, so those comparisons
test metafor's rounding as much as ours. Random permutation p-values are
compared within Monte Carlo error, exact ones exactly.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import alsmeta as am
from alsmeta.engine.regression import REGRESSION_METHODS, fit_regression_many
from alsmeta.models.moderators import design_matrix, meta_regression, permutation_test, subgroup_analysis
from conftest import close, data, load_reference

REF = load_reference("metafor_diagnostics.json")
DATASETS = {ds["name"]: ds for ds in REF["datasets"]}
METHOD = {"EE": "CE"}

pytestmark = pytest.mark.filterwarnings("ignore::alsmeta.AlsmetaWarning")


def reg_cases():
    return [
        pytest.param(name, i, id=f"{name}-{r['method']}-{r['test']}")
        for name, ds in DATASETS.items()
        for i, r in enumerate(ds["metareg"])
    ]


@pytest.mark.parametrize(("name", "i"), reg_cases())
def test_meta_regression_matches_rma_with_moderator(name, i, record_property):
    ds = DATASETS[name]
    ref = ds["metareg"][i]
    assert "error" not in ref
    yi, vi = data(ds)
    res = meta_regression(
        yi, vi, {ds["x_name"]: ds["x"]}, method=METHOD.get(ref["method"], ref["method"]), test=ref["test"]
    )
    c = res.coefficients
    assert list(c["term"]) == ["intercept", ds["x_name"]]
    worst = max(
        close(c["estimate"], ref["coef"], what="coef"),
        close(c["se"], ref["se"], what="se"),
        close(c["statistic"], ref["zval"], what="z/t"),
        close(c["pvalue"], ref["pval"], what="p"),
        close(c["ci_low"], ref["ci_lb"], what="ci_lb"),
        close(c["ci_high"], ref["ci_ub"], what="ci_ub"),
        close(res.tau2, ref["tau2"], what="tau2"),
        close(res.qm, ref["QM"], what="QM"),
        close(res.qm_pvalue, ref["QMp"], what="QMp"),
        close(res.qe, ref["QE"], what="QE"),
        close(res.qe_pvalue, ref["QEp"], what="QEp"),
        close(res.i2, ref["I2"], what="I2"),
        close(res.h2, ref["H2"], what="H2"),
        close(res.ll_ml, ref["ll_ML"], what="ll ML"),
        close(res.ll_reml, ref["ll_REML"], what="ll REML"),
    )
    if ref["method"] != "EE":
        worst = max(worst, close(res.tau2_se, ref["se_tau2"], what="se tau2"))
    if ref["R2"] is not None:
        worst = max(worst, close(res.r2, ref["R2"], what="R2"))
    assert res.qm_df == ref["QMdf"][0]
    if ref["test"] == "knha":
        assert res.qm_df2 == ref["QMdf"][1]
    record_property("max_rel_dev", worst)


def test_meta_regression_anchor_values():
    """anchors.md 4.3 (dat.bcg ~ ablat, REML, high precision) and 4.2 (ablat + year)."""
    ds = DATASETS["dat.bcg"]
    yi, vi = data(ds)
    res = meta_regression(yi, vi, pd.DataFrame({"ablat": ds["x"]}))
    assert res.tau2 == pytest.approx(0.0763479640, rel=1e-8)
    assert res.estimate == pytest.approx([0.2514682100, -0.0291017250], rel=1e-8)
    assert res.se == pytest.approx([0.2490953966, 0.0071953272], rel=1e-8)
    assert res.qm == pytest.approx(16.35823215, rel=1e-8)
    assert res.qe == pytest.approx(30.73309001, rel=1e-8)
    assert round(res.r2, 2) == 75.63
    year = [1948, 1949, 1960, 1977, 1973, 1953, 1973, 1980, 1968, 1961, 1974, 1969, 1976]
    res = meta_regression(yi, vi, {"ablat": ds["x"], "year": year})
    assert (round(res.tau2, 4), round(res.i2, 2), round(res.r2, 2)) == (0.1108, 71.98, 64.63)
    assert (round(res.qe, 4), res.qe_df, res.qm_df) == (28.3251, 10, 2)
    # the documented 12.2043 is metafor at default tolerance; with tight control metafor gives 12.2044868792
    assert res.qm == pytest.approx(12.2044868792, rel=1e-8)
    assert (round(res.estimate[1], 4), round(res.se[1], 4)) == (-0.0280, 0.0102)
    assert "Test of Moderators" in res.summary()


@pytest.mark.parametrize("method", REGRESSION_METHODS)
@pytest.mark.parametrize("test", ["z", "t", "knha", "adhoc"])
def test_intercept_only_design_reproduces_pool(method, test):
    """The design-matrix estimators with X = 1 give alsmeta.pool's numbers (every data set)."""
    for ds in DATASETS.values():
        yi, vi = data(ds)
        fit = am.pool(yi, vi, method=method, test=test)
        b = fit_regression_many(yi, vi, np.ones((yi.size, 1)), method=method, test=test)
        for attr, got in [
            ("estimate", b.coef[0, 0]),
            ("se", b.se[0, 0]),
            ("statistic", b.statistic[0, 0]),
            ("pvalue", b.pvalue[0, 0]),
            ("ci_low", b.ci_low[0, 0]),
            ("ci_high", b.ci_high[0, 0]),
            ("tau2", b.tau2[0]),
            ("q", b.qe[0]),
            ("i2", b.i2[0]),
            ("h2", b.h2[0]),
        ]:
            assert got == pytest.approx(getattr(fit, attr), rel=1e-10, abs=1e-13), (ds["name"], attr)
        if method != "CE":
            assert b.tau2_se[0] == pytest.approx(fit.tau2_se, rel=1e-9), ds["name"]
        assert bool(b.multimodal[0]) == fit.multimodal


def test_batched_regression_with_mask_equals_subset_fit():
    ds = DATASETS["dat.bcg"]
    yi, vi = data(ds)
    X = np.column_stack([np.ones(13), ds["x"]])
    mask = np.ones((3, 13), dtype=bool)
    mask[1, [0, 5]] = False
    mask[2, 7:] = False
    b = fit_regression_many(np.tile(yi, (3, 1)), np.tile(vi, (3, 1)), X, mask=mask)
    for r in range(3):
        one = fit_regression_many(yi[mask[r]], vi[mask[r]], X[mask[r]])
        assert b.coef[r] == pytest.approx(one.coef[0], rel=1e-10)
        assert b.tau2[r] == pytest.approx(one.tau2[0], rel=1e-10, abs=1e-14)
        assert b.qm[r] == pytest.approx(one.qm[0], rel=1e-10)


def test_meta_regression_input_errors():
    yi, vi = [0.1, 0.3, 0.2, 0.5], [0.01, 0.02, 0.03, 0.04]
    with pytest.raises(am.AlsmetaInputError, match="study 'C', column 'dose': value is missing"):
        meta_regression(yi, vi, pd.DataFrame({"dose": [1.0, 2.0, None, 4.0]}), labels=list("ABCD"))
    with pytest.raises(am.AlsmetaInputError, match="study 'B', column 'arm': value is missing"):
        meta_regression(yi, vi, pd.DataFrame({"arm": ["x", None, "y", "y"]}), labels=list("ABCD"))
    with pytest.raises(am.AlsmetaInputError, match="study 'B', column 'dose'.*not a number"):
        meta_regression(yi, vi, {"dose": [1, "two", 3, 4]}, labels=list("ABCD"))
    with pytest.raises(am.AlsmetaInputError, match="full rank"):
        meta_regression(yi, vi, {"a": [1, 2, 3, 4], "b": [2, 4, 6, 8]})
    with pytest.raises(am.AlsmetaInputError, match="4 rows given for 3 studies|rows given"):
        meta_regression(yi[:3], vi[:3], {"a": [1, 2, 3, 4]})
    with pytest.raises(am.AlsmetaInputError, match="at least 4 studies"):
        meta_regression(yi[:3], vi[:3], {"a": [1, 2, 3], "b": [0, 1, 5]})
    with pytest.raises(am.AlsmetaInputError, match="study 'D', column 'vi'"):
        meta_regression(yi, [0.1, 0.1, 0.1, -1], [1, 2, 3, 4], labels=list("ABCD"))
    # k = p + 1: estimable, flagged
    res = meta_regression(yi[:3], vi[:3], [1.0, 2.0, 4.0])
    assert np.isfinite(res.tau2) and any("One residual" in n for n in res.notes)
    # common-effect model with k = p: no residual df
    res = meta_regression(yi[:2], vi[:2], [1.0, 2.0], method="CE")
    assert res.qe == 0 and any("no residual" in n for n in res.notes)


def test_design_matrix_coding():
    X, names = design_matrix(
        pd.DataFrame(
            {"g": pd.Categorical(["b", "a", "c", "a"], categories=["c", "a", "b"]), "x": [1.0, 2.0, 3.0, 4.0]}
        ),
        4,
        list("ABCD"),
    )
    assert names == ["intercept", "g[a]", "g[b]", "x"]
    assert X[:, 1].tolist() == [0, 1, 0, 1] and X[:, 2].tolist() == [1, 0, 0, 0]
    X, names = design_matrix(["u", "v", "u", "w"], 4, list("ABCD"))
    assert names == ["intercept", "x[v]", "x[w]"]
    X, names = design_matrix(np.array([[1.0, 0.5], [2.0, 0.1], [3.0, 0.9]]), 3, list("ABC"), intercept=False)
    assert names == ["x1", "x2"] and X.shape == (3, 2)


# ---------------------------------------------------------------- subgroups
SUB_CASES = [pytest.param(name, key, id=f"{name}-{key}") for name, ds in DATASETS.items() for key in ds["subgroups"]]


@pytest.mark.parametrize(("name", "key"), SUB_CASES)
def test_subgroups_match_separate_fits_and_wald_test(name, key, record_property):
    ds = DATASETS[name]
    ref = ds["subgroups"][key]
    method = METHOD.get(ref["method"], ref["method"])
    res = subgroup_analysis(*data(ds), ds["group"], method=method)
    assert list(res.subgroups["group"]) == ref["levels"]
    sep = ref["separate"]
    t = res.subgroups
    worst = max(
        close(t["estimate"], [s["estimate"] for s in sep], what="estimate"),
        close(t["se"], [s["se"] for s in sep], what="se"),
        close(t["ci_low"], [s["ci_lb"] for s in sep], what="ci_lb"),
        close(t["tau2"], [s["tau2"] for s in sep], what="tau2"),
        close(t["q"], [s["QE"] for s in sep], what="Q"),
        close(res.q_between, ref["Qb"], what="Q between"),
        close(res.q_between_pvalue, ref["Qb_p"], what="Q between p"),
    )
    assert list(t["k"]) == [s["k"] for s in sep] and res.q_between_df == ref["Qb_df"]
    com = subgroup_analysis(*data(ds), ds["group"], method=method, tau2="common")
    c = ref["common"]
    worst = max(
        worst,
        close(com.q_between, c["QM"], what="QM"),
        close(com.q_between_pvalue, c["QMp"], what="QMp"),
        close(com.regression.estimate, c["coef"], what="coef"),
        close(com.regression.qe, c["QE"], what="QE"),
    )
    if method != "CE":
        worst = max(worst, close(com.tau2_common, c["tau2"], what="common tau2"))
        # subgroup estimates under the common tau2 are the cell means of the factor regression
        cells = c["coef"][0] + np.concatenate([[0.0], c["coef"][1:]])
        close(com.subgroups["estimate"], cells, what="cell means")
    record_property("max_rel_dev", worst)


def test_subgroup_edges_and_input():
    yi, vi = [0.1, 0.3, 0.2, 0.5], [0.01, 0.02, 0.03, 0.04]
    one = subgroup_analysis(yi, vi, ["a"] * 4)
    assert math.isnan(one.q_between) and "Only one subgroup" in one.notes[0]
    single = subgroup_analysis(yi, vi, ["a", "a", "a", "b"])
    assert single.subgroups["k"].tolist() == [3, 1] and single.subgroups["tau2"].iloc[1] == 0
    assert any("single study" in n for n in single.notes)
    knha = subgroup_analysis(yi, vi, ["a", "a", "b", "b"], test="knha", tau2="common")
    assert knha.q_between_df2 == 2
    with pytest.raises(am.AlsmetaInputError, match="study 'C', column 'groups'"):
        subgroup_analysis(yi, vi, ["a", "b", None, "b"], labels=list("ABCD"))
    with pytest.raises(am.AlsmetaInputError, match="tau2"):
        subgroup_analysis(yi, vi, ["a", "a", "b", "b"], tau2="pooled")
    with pytest.raises(am.AlsmetaInputError, match="groups"):
        subgroup_analysis(yi, vi, ["a", "b"])


@settings(max_examples=25, deadline=None)
@given(
    st.lists(st.tuples(st.floats(-2, 2), st.floats(0.01, 1), st.sampled_from("abc")), min_size=3, max_size=12),
    st.sampled_from(["REML", "DL", "CE"]),
    st.permutations(["a", "b", "c"]),
)
def test_each_subgroup_is_pool_on_its_studies_bit_for_bit_in_any_order(rows, method, order):
    yi, vi, groups = (list(col) for col in zip(*rows, strict=True))
    present = [g for g in order if g in groups]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", am.AlsmetaWarning)
        res = subgroup_analysis(yi, vi, groups, method=method, order=present)
        by_factor = subgroup_analysis(yi, vi, groups, method=method)
        for name, idx, fit in zip(res.names, res.members, res.fits, strict=True):
            assert [groups[i] for i in idx] == [name] * len(idx)
            alone = am.pool(np.array(yi)[list(idx)], np.array(vi)[list(idx)], method=method, labels=fit.labels)
            assert (fit.estimate, fit.se, fit.tau2) == (alone.estimate, alone.se, alone.tau2)
    assert list(res.names) == present == list(res.subgroups["group"])
    assert sorted(i for idx in res.members for i in idx) == list(range(len(yi)))
    # the display order changes neither the subgroup numbers nor the test for subgroup differences
    table = res.subgroups.set_index("group").loc[list(by_factor.names)]
    assert np.array_equal(table["estimate"], by_factor.subgroups["estimate"], equal_nan=True)
    assert res.q_between == pytest.approx(by_factor.q_between, rel=1e-12, nan_ok=True)


def test_subgroup_order_fixed_tau2_and_the_fit_based_analysis():
    yi, vi = [0.1, 0.3, 0.2, 0.5, 0.4], [0.01, 0.02, 0.03, 0.04, 0.02]
    groups = ["b", "a", "b", "a", "c"]
    assert subgroup_analysis(yi, vi, groups).names == ("a", "b", "c")
    assert subgroup_analysis(yi, vi, groups, order="appearance").names == ("b", "a", "c")
    with pytest.raises(am.AlsmetaInputError, match="order: must list each subgroup once; missing \\['c'\\]"):
        subgroup_analysis(yi, vi, groups, order=["a", "b"])
    with pytest.raises(am.AlsmetaInputError, match="order"):
        subgroup_analysis(yi, vi, groups, order="alphabetical")
    fixed = subgroup_analysis(yi, vi, groups, tau2=0.05)
    assert fixed.tau2_mode == "fixed" and fixed.tau2_common == 0.05
    assert [f.tau2 for f in fixed.fits] == [0.05] * 3 and all(f.tau2_fixed for f in fixed.fits)
    with pytest.raises(am.AlsmetaInputError, match="tau2"):
        subgroup_analysis(yi, vi, groups, tau2=-1.0)
    with pytest.raises(am.AlsmetaInputError, match="study 'S2', column 'groups'"):
        subgroup_analysis(yi, vi, ["b", "", "b", "a", "c"], labels=["S1", "S2", "S3", "S4", "S5"])
    fit = am.pool(yi, vi, method="PM", test="knha", tau2=0.02, labels=list("VWXYZ"))
    of_fit = am.subgroup_analysis_of(fit, groups)
    assert of_fit.names == ("b", "a", "c") and of_fit.members == ((0, 2), (1, 3), (4,))
    assert (of_fit.method, of_fit.test, of_fit.tau2_mode, of_fit.tau2_common) == ("PM", "knha", "fixed", 0.02)
    assert of_fit.fits[0].labels == ("V", "X")
    with pytest.raises(am.AlsmetaInputError, match="PooledResult"):
        am.subgroup_analysis_of(yi, groups)


# ---------------------------------------------------------------- permutation tests
PERM_CASES = [pytest.param(name, key, id=f"{name}-{key}") for name, ds in DATASETS.items() for key in ds["permutest"]]


def _model(ds, key):
    yi, vi = data(ds)
    if key == "intercept":
        return am.pool(yi, vi)
    if key == "metareg":
        return meta_regression(yi, vi, {ds["x_name"]: ds["x"]})
    return meta_regression(yi, vi, {ds["group_name"]: ds["group"]})


@pytest.mark.parametrize(("name", "key"), PERM_CASES)
def test_permutation_test_matches_permutest(name, key):
    ds = DATASETS[name]
    ref = ds["permutest"][key]
    res = permutation_test(_model(ds, key), n_permutations=ref["iter"], seed=2024)
    assert res.exact == ref["exact"]
    expected = np.atleast_1d(ref["pval"])
    if ref["exact"]:
        assert res.n_permutations == ref["exact_iter"]
        assert res.pvalue == pytest.approx(expected, rel=1e-12)
        assert res.qm_pvalue == pytest.approx(ref["QMp"], rel=1e-12)
        return
    # random permutations: different generators, so agreement within Monte Carlo error
    n = res.n_permutations
    for got, exp in zip(list(res.pvalue) + [res.qm_pvalue], list(expected) + [ref["QMp"]], strict=True):
        se = math.sqrt(2 * max(exp * (1 - exp), 1 / n) / n)
        assert abs(got - exp) <= 4 * se + 2 / n, (got, exp)
    np.testing.assert_allclose(res.table["statistic"], np.atleast_1d(ref["zval"]), rtol=1e-6)


def test_permutation_test_reproducible_and_checked():
    ds = DATASETS["dat.bcg"]
    model = _model(ds, "metareg")
    a = permutation_test(model, n_permutations=200, seed=5)
    b = permutation_test(model, n_permutations=200, seed=5)
    pd.testing.assert_frame_equal(a.table, b.table)
    assert not a.exact and a.n_permutations == 200 and "Monte Carlo" in a.notes[0]
    with pytest.raises(am.AlsmetaInputError, match="n_permutations"):
        permutation_test(model, n_permutations=1)
    with pytest.raises(am.AlsmetaInputError, match="meta_regression"):
        permutation_test({"yi": [1]})
    with pytest.raises(am.AlsmetaInputError, match="at least 2"):
        permutation_test(am.pool([0.2], [0.1]))
    # a forced exact test on few studies enumerates every distinct arrangement
    small = meta_regression([0.1, 0.4, 0.3, 0.8, 0.5], [0.02] * 5, [0, 0, 1, 1, 1], method="DL")
    res = permutation_test(small, exact=True)
    assert res.exact and res.n_permutations == 10 and res.exact_count == 10


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.floats(-2, 2, allow_nan=False), min_size=3, max_size=9),
    st.lists(st.floats(0.005, 0.6), min_size=9, max_size=9),
    st.sampled_from(["ML", "REML"]),
)
def test_one_engine_intercept_only_regression_equals_pool(y, v, method):
    """Both fit layouts run the engine's shared likelihood safeguards: the same tau2, also at a boundary maximum."""
    v = v[: len(y)]
    fit = am.pool(y, v, method=method)
    b = fit_regression_many(np.array(y), np.array(v), np.ones((len(y), 1)), method=method)
    assert b.tau2[0] == pytest.approx(fit.tau2, rel=1e-9, abs=1e-12)
    assert b.coef[0, 0] == pytest.approx(fit.estimate, rel=1e-9, abs=1e-12)
    assert bool(b.multimodal[0]) == fit.multimodal


def test_one_engine_finds_the_interior_maximum_in_both_layouts():
    # ML likelihood with a local maximum at 0 (loglik -9.0847) and the global one at 0.2887 (-8.9455)
    y = [0.0, 0.0, -0.375, 0.0, -0.125, 1.75, -1.875]
    v = [0.1304, 0.3655, 0.2432, 0.0831, 0.0528, 0.3712, 0.4316]
    fit = am.pool(y, v, method="ML")
    b = fit_regression_many(np.array(y), np.array(v), np.ones((7, 1)), method="ML")
    assert fit.tau2 == pytest.approx(0.2887009639, rel=1e-8) and b.tau2[0] == pytest.approx(fit.tau2, rel=1e-10)
