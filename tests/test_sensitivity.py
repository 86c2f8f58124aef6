"""Leave-one-out, influence, cumulative, GOSH and the estimator sweep against R metafor.

Reference values: tests/reference/metafor_diagnostics.json (see
generate_diagnostics_reference.R). Tolerance: relative 1e-6, absolute 1e-8
(metafor's ML/REML solutions on the boundary are ~1e-13 instead of 0).
metafor's NA (a refit whose Fisher scoring failed) is skipped: alsmeta's
engine falls back to a bracketing root finder and reports a value there.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import alsmeta as am
from alsmeta.diagnostics.sensitivity import (
    _refit,
    cumulative,
    estimator_sweep,
    gosh,
    influence,
    leave_one_out,
    subset_membership,
)
from alsmeta.models.moderators import meta_regression
from conftest import close, data, load_reference

REF = load_reference("metafor_diagnostics.json")
DATASETS = {ds["name"]: ds for ds in REF["datasets"]}
SPEC = {
    "REML": ("REML", "z"),
    "EE": ("CE", "z"),
    "DL": ("DL", "z"),
    "REML_knha": ("REML", "knha"),
    "DL_knha": ("DL", "knha"),
}
FIT_FIELDS = [
    ("estimate", "estimate"),
    ("se", "se"),
    ("zval", "statistic"),
    ("pval", "pvalue"),
    ("ci_lb", "ci_low"),
    ("ci_ub", "ci_high"),
    ("Q", "q"),
    ("Qp", "q_pvalue"),
    ("I2", "i2"),
    ("H2", "h2"),
    ("tau2", "tau2"),
]

pytestmark = pytest.mark.filterwarnings("ignore::alsmeta.AlsmetaWarning")


def cases(section):
    return [pytest.param(name, key, id=f"{name}-{key}") for name, ds in DATASETS.items() for key in ds[section]]


@pytest.mark.parametrize(("name", "key"), cases("leave1out"))
def test_leave_one_out_matches_leave1out(name, key, record_property):
    ds = DATASETS[name]
    method, test = SPEC[key]
    res = leave_one_out(am.pool(*data(ds), method=method, test=test, labels=ds["labels"]))
    ref = ds["leave1out"][key]
    assert list(res["label"]) == ds["labels"]
    worst = 0.0
    for rname, col in FIT_FIELDS:
        if ref.get(rname) is not None:  # metafor drops tau2 for common-effect fits
            worst = max(worst, close(res[col].to_numpy(), ref[rname], what=col))
    record_property("max_rel_dev", worst)


@pytest.mark.parametrize(("name", "key"), cases("influence"))
def test_influence_matches_metafor(name, key, record_property):
    ds = DATASETS[name]
    method, test = SPEC[key]
    res = influence(am.pool(*data(ds), method=method, test=test))
    ref = ds["influence"][key]
    worst = 0.0
    for rname, col in [
        ("rstudent", "rstudent"),
        ("dffits", "dffits"),
        ("cook_d", "cook_d"),
        ("cov_r", "cov_r"),
        ("tau2_del", "tau2_del"),
        ("QE_del", "q_del"),
        ("hat", "hat"),
        ("weight", "weight"),
        ("dfbs", "dfbetas"),
    ]:
        worst = max(worst, close(res[col].to_numpy(), ref[rname], what=col))
    flags = [f for f in ref["inf"]]
    for got, exp in zip(res["inf"], flags, strict=True):
        if exp is not None:
            assert bool(got) == exp
    record_property("max_rel_dev", worst)


@pytest.mark.parametrize(("name", "key"), cases("influence_metareg"))
def test_influence_of_meta_regression_matches_metafor(name, key, record_property):
    ds = DATASETS[name]
    method, test = {"REML": ("REML", "z"), "REML_knha": ("REML", "knha"), "DL": ("DL", "z")}[key]
    model = meta_regression(*data(ds), {ds["x_name"]: ds["x"]}, method=method, test=test)
    res = influence(model)
    ref = ds["influence_metareg"][key]
    # With raw publication years metafor inverts an ill-conditioned X'WX and its influence measures carry
    # relative errors up to ~3e-6 (with a centred year metafor agrees with alsmeta to 1e-9, e.g. Cook's D of
    # dat.egger2001 ~ year, DL); alsmeta works in a centred parametrisation throughout.
    rel = 2e-5 if ds["x_name"] == "year" else 1e-6
    worst = 0.0
    for rname, col in [
        ("rstudent", "rstudent"),
        ("dffits", "dffits"),
        ("cook_d", "cook_d"),
        ("cov_r", "cov_r"),
        ("tau2_del", "tau2_del"),
        ("QE_del", "q_del"),
        ("hat", "hat"),
        ("weight", "weight"),
    ]:
        worst = max(worst, close(res[col].to_numpy(), ref[rname], rel=rel, what=col))
    for j, term in enumerate(model.terms):
        worst = max(
            worst, close(res[f"dfbetas_{term}"].to_numpy(), ref["dfbs_all"][j], rel=rel, what=f"dfbetas {term}")
        )
    for got, exp in zip(res["inf"], ref["inf"], strict=True):
        if exp is not None:
            assert bool(got) == exp
    record_property("max_rel_dev", worst)


def test_influence_of_meta_regression_anchor_and_rank_loss():
    """metafor test_misc_influence.r: dat.bcg ~ ablat (REML) hat values and Cook's distances."""
    ds = DATASETS["dat.bcg"]
    res = influence(meta_regression(*data(ds), {"ablat": ds["x"]}))
    assert np.round(res["hat"].to_numpy()[:4], 4).tolist() == [0.0490, 0.1493, 0.0351, 0.3481]
    assert np.round(res["cook_d"].to_numpy()[:2], 4).tolist() == [0.0048, 0.0489]
    # deleting the only study of a level leaves a design without full rank: NaN, as metafor's NA
    model = meta_regression(
        [0.1, 0.4, 0.3, 0.8, 0.5, 0.2], [0.02, 0.03, 0.02, 0.05, 0.04, 0.03], {"g": ["a"] * 5 + ["b"]}
    )
    res = influence(model)
    assert res.iloc[5][["rstudent", "cook_d", "dffits"]].isna().all() and not res["inf"].iloc[5]
    assert np.isfinite(res.iloc[:5]["cook_d"]).all()


def test_influence_anchor_values():
    """metafor test_misc_influence.r, dat.bcg REML, study 1."""
    res = influence(am.pool(*data(DATASETS["dat.bcg"])))
    first = res.iloc[0]
    assert round(first.rstudent, 4) == -0.2181
    assert round(first.dffits, 4) == -0.0407
    assert round(first.cook_d, 5) == 0.00172
    assert round(first.cov_r, 4) == 1.1164
    assert round(first.tau2_del, 4) == 0.3362
    assert round(first.q_del, 4) == 151.5826
    assert not res["inf"].any()


@pytest.mark.parametrize(("name", "key"), cases("cumul"))
def test_cumulative_matches_cumul(name, key, record_property):
    ds = DATASETS[name]
    method, test = SPEC[key]
    res = cumulative(am.pool(*data(ds), method=method, test=test, labels=ds["labels"]), order=ds["order"])
    ref = ds["cumul"][key]
    assert list(res["label"]) == ref["slab"]
    worst = 0.0
    for rname, col in FIT_FIELDS:
        if ref.get(rname) is not None:
            worst = max(worst, close(res[col].to_numpy(), ref[rname], what=col))
    assert list(res["k"]) == list(range(1, ds["k"] + 1))
    record_property("max_rel_dev", worst)


def test_cumulative_order_ties_and_decreasing():
    fit = am.pool([0.1, 0.2, 0.3, 0.4], [0.1, 0.1, 0.2, 0.2], labels=list("ABCD"))
    assert list(cumulative(fit, order=[2, 1, 2, 1])["label"]) == ["B", "D", "A", "C"]  # stable, as R's order()
    assert list(cumulative(fit, order=[2, 1, 2, 1], decreasing=True)["label"]) == ["A", "C", "B", "D"]
    assert list(cumulative(fit, order=["b", "a", "c", "a"])["label"]) == ["B", "D", "A", "C"]
    with pytest.raises(am.AlsmetaInputError, match="order"):
        cumulative(fit, order=[1, 2])
    with pytest.raises(am.AlsmetaInputError, match="study 'C', column 'order'"):
        cumulative(fit, order=[1.0, 2.0, float("nan"), 3.0])
    first = cumulative(am.pool([0.1, 0.2, 0.3], [0.1, 0.1, 0.2], test="knha")).iloc[0]
    assert first.k == 1 and first.estimate == pytest.approx(0.1) and first.tau2 == 0


@pytest.mark.parametrize(("name", "key"), cases("gosh"))
def test_gosh_matches_metafor(name, key, record_property):
    ds = DATASETS[name]
    method, test = SPEC[key]
    fit = am.pool(*data(ds), method=method, test=test)
    ref = ds["gosh"][key]
    bits = np.array([int(s[::-1], 2) for s in ref["incl"]], dtype=np.int64)  # column j of incl = study j
    if ref["exact"]:
        res = gosh(fit)
        assert res.attrs["exact"] and len(res) == 2 ** ds["k"] - 1
        assert np.array_equal(res["subset"].to_numpy(), bits)  # metafor's row order
    else:  # metafor fits on a stored random sample of subsets; refit the same subsets
        b = _refit(fit, subset_membership(bits, ds["k"]))
        res = pd.DataFrame({"k": b.k, "q": b.q, "i2": b.i2, "h2": b.h2, "tau2": b.tau2, "estimate": b.estimate})
    worst = 0.0
    for rname, col in [("k", "k"), ("QE", "q"), ("I2", "i2"), ("H2", "h2"), ("tau2", "tau2"), ("estimate", "estimate")]:
        worst = max(worst, close(res[col].to_numpy(), ref[rname], what=col))
    record_property("max_rel_dev", worst)


def test_gosh_random_subsets_reproducible_and_consistent_with_pool():
    yi, vi = data(DATASETS["dat.hackshaw1998"])
    fit = am.pool(yi, vi)
    a = gosh(fit, max_subsets=500, seed=7)
    b = gosh(fit, max_subsets=500, seed=7)
    assert not a.attrs["exact"] and len(a) == 500
    pd.testing.assert_frame_equal(a, b)
    assert a["k"].is_monotonic_increasing and a["k"].between(1, 37).all()
    assert abs(a["k"].mean() - 37 / 2) < 1.5  # sizes ~ Binomial(37, 1/2), as metafor draws them
    member = subset_membership(a["subset"].to_numpy(), 37)
    assert np.array_equal(member.sum(axis=1), a["k"].to_numpy())
    for i in (0, 250, 499):
        one = am.pool(yi[member[i]], vi[member[i]])
        assert a["estimate"].iloc[i] == pytest.approx(one.estimate, rel=1e-12)
        assert a["tau2"].iloc[i] == pytest.approx(one.tau2, rel=1e-12, abs=1e-15)


def test_gosh_small_k_and_input():
    res = gosh(am.pool([0.2], [0.1]))
    assert len(res) == 1 and res["estimate"].iloc[0] == pytest.approx(0.2)
    res = gosh(am.pool([0.2, 0.4], [0.1, 0.1], labels=["a", "b"]))
    assert list(res["subset"]) == [1, 2, 3] and list(res["k"]) == [1, 1, 2]
    assert len(gosh(am.pool([], []))) == 0
    with pytest.raises(am.AlsmetaInputError, match="max_subsets"):
        gosh(am.pool([0.2, 0.4], [0.1, 0.1]), max_subsets=0)
    assert not gosh(am.pool([0.1, 0.2, 0.3, 0.5], [0.1] * 4), max_subsets=10, seed=1).attrs["exact"]
    assert subset_membership([5], 3).tolist() == [[True, False, True]]


def test_sweep_matches_rma_for_every_estimator_and_test(record_property):
    worst = 0.0
    for name, ds in DATASETS.items():
        res = estimator_sweep(*data(ds))
        assert len(res) == 11 * 4
        for ref in ds["sweep"]:
            if "error" in ref:
                continue
            row = res[(res.method == ("CE" if ref["method"] == "EE" else ref["method"])) & (res.test == ref["test"])]
            assert len(row) == 1
            row = row.iloc[0]
            for rname, col in [
                ("estimate", "estimate"),
                ("se", "se"),
                ("zval", "statistic"),
                ("pval", "pvalue"),
                ("ci_lb", "ci_low"),
                ("ci_ub", "ci_high"),
                ("tau2", "tau2"),
                ("I2", "i2"),
                ("H2", "h2"),
                ("QE", "q"),
            ]:
                worst = max(worst, close(row[col], ref[rname], what=f"{name} {ref['method']} {ref['test']} {col}"))
    record_property("max_rel_dev", worst)


def test_sweep_edges_and_input():
    one = estimator_sweep([0.3], [0.1], methods=["REML", "DL"], tests=["z", "knha"])
    assert len(one) == 4 and (one["tau2"] == 0).all() and one["df"].isna().all()
    with pytest.raises(am.AlsmetaInputError, match="study 'b', column 'vi'"):
        estimator_sweep([0.1, 0.2], [0.1, 0.0], labels=["a", "b"])
    with pytest.raises(am.AlsmetaInputError, match="method"):
        estimator_sweep([0.1, 0.2], [0.1, 0.2], methods=["XX"])


def test_leave_one_out_and_influence_small_k():
    assert len(leave_one_out(am.pool([], []))) == 0
    one = leave_one_out(am.pool([0.3], [0.1]))
    assert len(one) == 1 and math.isnan(one["estimate"].iloc[0]) and one["k"].iloc[0] == 0
    two = leave_one_out(am.pool([0.3, 0.5], [0.1, 0.2]))
    assert two["estimate"].tolist() == pytest.approx([0.5, 0.3]) and (two["tau2"] == 0).all()
    inf = influence(am.pool([0.3, 0.5], [0.1, 0.2]))
    assert len(inf) == 2 and np.isfinite(inf["cook_d"]).all()
    with pytest.raises(am.AlsmetaInputError, match="PooledResult"):
        influence({"yi": [1, 2]})
