"""robust() against metafor 3.8-1 robust() (CR0, CR1) and clubSandwich 0.5.8 (CR2, Satterthwaite df).

Reference values: tests/reference/metafor_multilevel.json (see its generator). The
cluster is the study in every reference case; fits are rma.mv three-level models
(``fits[*].robust``) and rma.uni models that ignore the nesting (``uni_fits``).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import alsmeta as am
from alsmeta import AlsmetaInputError, pool_multilevel, robust
from conftest import multilevel_fit

REF = json.loads((Path(__file__).parent / "reference" / "metafor_multilevel.json").read_text())
RTOL = 1e-6


def _close(actual: object, expected: object) -> None:
    np.testing.assert_allclose(np.asarray(actual, float), np.asarray(expected, float), rtol=RTOL, atol=0)


MV_CASES = [(ds, fit, rb) for ds in REF["datasets"] for fit in ds["fits"] for rb in fit["robust"][:3]]
MV_IDS = [f"{ds['name']}/{fit['id']}/{rb['type']}" for ds, fit, rb in MV_CASES]
UNI_CASES = [
    (ds, u, rb)
    for ds in REF["datasets"]
    for u in ds.get("uni_fits", [])
    if u["id"] in ("rma.uni/REML", "rma.uni/DL", "rma.uni/ML")
    for rb in u["robust"][:3]
]
UNI_IDS = [f"{ds['name']}/{u['id']}/{rb['type']}" for ds, u, rb in UNI_CASES]


def _check(res: am.RobustResult, rb: dict) -> None:
    c = res.coefficients
    assert not rb["failed"]
    assert res.adjust == rb["type"]
    assert res.n_clusters == rb["n_clusters"]
    _close(c["estimate"], rb["beta"])
    _close(c["se"], rb["se"])
    _close(c["statistic"], rb["zval"])
    _close(c["df"], np.broadcast_to(rb["df"], len(c)))  # metafor gives one df (n - p) for CR0/CR1
    _close(c["pvalue"], rb["pval"])
    _close(c["ci_low"], rb["ci_lb"])
    _close(c["ci_high"], rb["ci_ub"])
    _close(res.vcov.ravel(order="F"), rb["vb"])
    assert (res.estimate, res.se, res.df, res.pvalue) == (c["estimate"][0], c["se"][0], c["df"][0], c["pvalue"][0])


def test_reference_has_all_three_estimators_for_every_robust_case() -> None:
    assert len(MV_CASES) >= 15 and len(UNI_CASES) >= 30
    assert {rb["type"] for _, _, rb in MV_CASES} == {"CR0", "CR1", "CR2"}


@pytest.mark.parametrize(("ds", "fit", "rb"), MV_CASES, ids=MV_IDS)
def test_multilevel_matches_metafor_and_clubsandwich(ds: dict, fit: dict, rb: dict) -> None:
    _check(robust(multilevel_fit(ds, fit), ds["study"], adjust=rb["type"]), rb)


@pytest.mark.parametrize(("ds", "u", "rb"), UNI_CASES, ids=UNI_IDS)
def test_pool_matches_metafor_and_clubsandwich(ds: dict, u: dict, rb: dict) -> None:
    fit = am.pool(ds["yi"], ds["vi"], method=u["method"])
    assert fit.tau2 == pytest.approx(u["tau2"], rel=RTOL, abs=1e-10)
    _check(robust(fit, ds["study"], adjust=rb["type"]), rb)


def test_metafor_wrapper_agrees_with_clubsandwich_coef_test() -> None:
    """metafor's robust(clubSandwich=TRUE) and clubSandwich::coef_test give the same CR2 numbers."""
    for ds in REF["datasets"]:
        for fit in ds["fits"] + ds.get("uni_fits", []):
            rbs = fit["robust"]
            if len(rbs) == 4:
                assert rbs[2]["se"] == rbs[3]["se"] and rbs[2]["df"] == rbs[3]["df"]


def test_cr2_adjustment_changes_the_answer() -> None:
    """CR0, CR1 and CR2 differ (so a test that matched only one of them would fail for the others)."""
    ds = REF["datasets"][0]
    fit = multilevel_fit(ds, ds["fits"][0])
    se = [robust(fit, ds["study"], adjust=a).se for a in ("CR0", "CR1", "CR2")]
    assert len({round(s, 8) for s in se}) == 3
    assert robust(fit, ds["study"], adjust="CR1").se == pytest.approx(se[0] * np.sqrt(11 / 10), rel=1e-12)


def test_knha_fit_uses_the_model_weights_not_the_knapp_hartung_factor() -> None:
    """metafor 3.8-1 multiplies the robust SE of a test="knha" fit by s2w; alsmeta does not (documented)."""
    for ds in REF["datasets"]:
        knha = next((u for u in ds.get("uni_fits", []) if u["id"] == "rma.uni/REML/knha"), None)
        if knha is None:
            continue
        z_fit = am.pool(ds["yi"], ds["vi"], method="REML", test="z")
        k_fit = am.pool(ds["yi"], ds["vi"], method="REML", test="knha")
        ours = robust(k_fit, ds["study"], adjust="CR1").se
        assert ours == pytest.approx(robust(z_fit, ds["study"], adjust="CR1").se, rel=1e-12)
        assert knha["robust"][0]["se"][0] == pytest.approx(knha["s2w"] * ours, rel=RTOL)


META_CASES = [
    (ds, u, rb)
    for ds in REF["datasets"]
    for u in ds.get("uni_fits", [])
    if u["id"] == "rma.uni/REML/mods=x"
    for rb in u["robust"][:3]
]


@pytest.mark.parametrize(("ds", "u", "rb"), META_CASES, ids=[f"{ds['name']}/{rb['type']}" for ds, _, rb in META_CASES])
def test_meta_regression_matches_metafor_and_clubsandwich(ds: dict, u: dict, rb: dict) -> None:
    reg = am.meta_regression(ds["yi"], ds["vi"], {"x": ds["x"]}, method="REML")
    _close(reg.estimate, u["beta"])
    _check(robust(reg, ds["study"], adjust=rb["type"]), rb)


def test_summary_and_dict() -> None:
    ds = REF["datasets"][0]
    res = robust(multilevel_fit(ds, ds["fits"][0]), ds["study"], adjust="CR2")
    text = res.summary()
    assert "Number of clusters: 11" in text and "CR2" in text and "Satterthwaite" in text
    d = res.to_dict()
    json.dumps(d)
    assert d["n_clusters"] == 11 and d["adjust"] == "CR2" and sum(d["cluster_sizes"]) == 56
    assert res.to_frame().shape == (1, 8)


# --------------------------------------------------------------------- bad input
def _small_fit() -> am.PooledResult:
    return am.pool([0.1, 0.3, 0.2, 0.5], [0.01, 0.02, 0.03, 0.02])


@pytest.mark.parametrize(
    ("cluster", "adjust", "match"),
    [
        (["a", "a", "a", "a"], "CR2", r"cluster: all 4 effects are in one cluster \('a'\)"),
        (["a", "a", "a", "a"], "CR1", r"one cluster"),
        (["a", None, "b", "b"], "CR2", r"cluster: row 2"),
        (["a", float("nan"), "b", "b"], "CR1", r"cluster: row 2"),
        (["a", "b", "c"], "CR2", r"cluster: 3 labels given for 4 effects"),
        (["a", "b", "c", "d"], "CR3", r"adjust: 'CR3' is not one of CR0, CR1, CR2"),
    ],
)
def test_bad_cluster_input(cluster: list, adjust: str, match: str) -> None:
    with pytest.raises(AlsmetaInputError, match=match):
        robust(_small_fit(), cluster, adjust=adjust)


def test_clusters_must_outnumber_coefficients_for_cr1() -> None:
    reg = am.meta_regression([0.1, 0.3, 0.2, 0.5], [0.01, 0.02, 0.03, 0.02], {"x": [1.0, 2.0, 3.0, 4.0]})
    with pytest.raises(AlsmetaInputError, match=r"number of clusters \(2\) must be larger than .* \(2\)"):
        robust(reg, ["a", "a", "b", "b"], adjust="CR1")


def test_cr2_requires_studies_nested_in_clusters() -> None:
    fit = pool_multilevel([0.1, 0.3, 0.2, 0.5], [0.01, 0.02, 0.03, 0.02], study=["s1", "s1", "s2", "s2"])
    with pytest.raises(AlsmetaInputError, match=r"study 's1' has effects in clusters 'a' and 'b'"):
        robust(fit, ["a", "b", "b", "c"], adjust="CR2")


def test_unsupported_fit_is_refused() -> None:
    with pytest.raises(AlsmetaInputError, match="fit: expected a result of pool"):
        robust(object(), ["a", "b"])
    with pytest.raises(AlsmetaInputError, match="k = 0"):
        robust(am.pool([], []), [])


def test_few_clusters_note() -> None:
    res = robust(_small_fit(), ["a", "a", "b", "c"], adjust="CR1")
    assert any("Only 3 clusters" in n for n in res.notes)


# --------------------------------------------------------------------- properties
@settings(max_examples=25, deadline=None)
@given(
    st.lists(st.tuples(st.floats(-2, 2), st.floats(0.01, 0.5)), min_size=4, max_size=12),
    st.sampled_from(["CR0", "CR1", "CR2"]),
    st.randoms(use_true_random=False),
)
def test_relabelling_and_reordering_clusters_changes_nothing(rows: list, adjust: str, rnd: object) -> None:
    y = [r[0] for r in rows]
    v = [r[1] for r in rows]
    cluster = [f"c{i // 2}" for i in range(len(y))]
    a = robust(am.pool(y, v, method="DL"), cluster, adjust=adjust)
    order = list(range(len(y)))
    rnd.shuffle(order)  # type: ignore[attr-defined]
    b = robust(
        am.pool([y[i] for i in order], [v[i] for i in order], method="DL"),
        ["x" + cluster[i] for i in order],
        adjust=adjust,
    )
    assert b.se == pytest.approx(a.se, rel=1e-9, abs=1e-14, nan_ok=True)
    assert b.df == pytest.approx(a.df, rel=1e-9, nan_ok=True)


def test_zero_robust_variance_is_not_reported_as_an_estimate() -> None:
    res = robust(am.pool([0.2] * 4, [0.1] * 4), ["a", "a", "b", "b"], adjust="CR1")
    assert np.isnan(res.se) and np.isnan(res.pvalue) and np.isnan(res.ci_low)
    assert any("is zero" in n for n in res.notes)


def test_one_effect_per_cluster_cr0_is_the_heteroscedasticity_consistent_estimator() -> None:
    """With singleton clusters, CR0 is sum w_i^2 e_i^2 / (sum w_i)^2 (White 1980) - an independent formula."""
    y = np.array([0.1, 0.3, 0.2, 0.5, -0.1])
    v = np.array([0.01, 0.02, 0.03, 0.02, 0.05])
    fit = am.pool(y, v, method="REML")
    w = 1 / (v + fit.tau2)
    e = y - fit.estimate
    expected = np.sqrt(np.sum(w**2 * e**2)) / w.sum()
    assert robust(fit, list("abcde"), adjust="CR0").se == pytest.approx(expected, rel=1e-12)
