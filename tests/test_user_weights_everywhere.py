"""User weights are never silently ignored: every public function that takes a fit honours them or refuses.

A fit with user weights (``pool(weights=)``, ``meta_regression(weights=)``, ``method="GENQ"``) either gives
metafor's numbers for that weighted fit or raises :class:`AlsmetaInputError` naming ``fit`` (the argument).

Reference: tests/reference/metafor_weighted_diagnostics.json (generate_weighted_diagnostics_reference.R):
``leave1out()``, ``cumul()``, ``influence()`` and ``robust()`` (CR0, CR1 and clubSandwich's CR2 with
Satterthwaite df) of ``rma(yi, vi, weights=n_total, method=REML|DL|GENQ, test=z|knha)`` on dat.bcg and a
hand-made ALS-like set of six trials, and of the same meta-regressions on one moderator. Tolerance: relative
1e-9 (absolute near 0); the worst measured difference is 1.0e-11 (a covariance ratio of influence()).

The last test walks the public API (``alsmeta._LAZY_NAMES`` and ``alsmeta.plots``) and fails when a function
that takes a fit is not classified here, so a new one has to say what it does with user weights.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import alsmeta as am
import alsmeta.plots as plots
from alsmeta.diagnostics.common_effect import common_effect
from alsmeta.diagnostics.pvalue_function import prediction_p_value_function
from conftest import load_reference

REF = load_reference("metafor_weighted_diagnostics.json")
DATA = REF["datasets"]
RTOL = 1e-9


def _fit(case: dict[str, Any]) -> Any:
    d = DATA[case["dataset"]]
    kw = {"method": case["method"], "test": case["test"], "weights": d["weights"]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if "beta" in case:  # a meta-regression case
            return am.meta_regression(d["yi"], d["vi"], moderators={d["mod_name"]: d["mod"]}, **kw)
        return am.pool(d["yi"], d["vi"], **kw)


def _close(ours: Any, metafor: Any, what: str) -> None:
    expected = np.array([np.nan if x is None else x for x in np.atleast_1d(metafor)], dtype=float)
    got = np.asarray(ours, dtype=float)
    if expected.size == 1:  # metafor gives one df for all coefficients of CR0/CR1
        expected = np.broadcast_to(expected, got.shape)
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=RTOL, err_msg=what)


def _case_id(case: dict[str, Any]) -> str:
    return f"{case['dataset']}-{case['method']}-{case['test']}"


POOL_CASES = REF["pool"]
REG_CASES = REF["regression"]
ROW_COLUMNS = {
    "estimate": "estimate",
    "se": "se",
    "statistic": "zval",
    "pvalue": "pval",
    "ci_low": "ci_lb",
    "ci_high": "ci_ub",
    "q": "Q",
    "q_pvalue": "Qp",
    "tau2": "tau2",
    "i2": "I2",
    "h2": "H2",
}
INFLUENCE_COLUMNS = ("rstudent", "dffits", "cook_d", "cov_r", "tau2_del", "q_del", "hat", "weight")


# ---------------------------------------------------------------------------------- pool(weights=) pairing
def _bcg() -> tuple[pd.Series, pd.Series, pd.Series]:
    d = DATA["dat.bcg"]
    index = [f"trial {i}" for i in range(len(d["yi"]))]
    yi, vi, a = (pd.Series(d[c], index=index) for c in ("yi", "vi", "weights"))
    return yi, vi, a


def test_pool_pairs_weights_series_by_index_not_position() -> None:
    yi, vi, a = _bcg()
    by_position = am.pool(yi.to_numpy(), vi.to_numpy(), weights=a.to_numpy())
    reversed_weights = a.iloc[::-1]  # same labels, reversed order: must be realigned, not read by position
    fit = am.pool(yi, vi, weights=reversed_weights)
    assert fit.estimate == pytest.approx(by_position.estimate, rel=1e-14)
    np.testing.assert_array_equal(fit.user_weights, a.to_numpy())
    case = next(c for c in POOL_CASES if c["dataset"] == "dat.bcg" and c["method"] == "REML" and c["test"] == "z")
    assert fit.estimate == pytest.approx(case["estimate"], rel=RTOL)


def test_pool_refuses_weights_with_other_index_labels() -> None:
    yi, vi, a = _bcg()
    other = a.copy()
    other.index = [f"study {i}" for i in range(len(a))]
    with pytest.raises(am.AlsmetaInputError, match=r"weights: pandas indexes hold different labels"):
        am.pool(yi, vi, weights=other)


@settings(max_examples=40, deadline=None)
@given(st.permutations(list(range(13))))
def test_pool_weights_any_index_order_gives_the_aligned_fit(order: list[int]) -> None:
    yi, vi, a = _bcg()
    expected = am.pool(yi, vi, weights=a.to_numpy(), method="DL")
    got = am.pool(yi, vi, weights=a.iloc[order], method="DL")
    assert got.estimate == pytest.approx(expected.estimate, rel=1e-13)
    assert got.se == pytest.approx(expected.se, rel=1e-13)


# ---------------------------------------------------------------------------------- honoured: metafor's numbers
@pytest.mark.parametrize("case", POOL_CASES, ids=_case_id)
def test_leave_one_out_and_cumulative_refit_with_the_weights(case: dict[str, Any]) -> None:
    fit = _fit(case)
    for frame, key in ((am.leave_one_out(fit), "leave1out"), (am.cumulative(fit), "cumul")):
        for ours, theirs in ROW_COLUMNS.items():
            _close(frame[ours], case[key][theirs], f"{key}.{ours}")


@pytest.mark.parametrize("case", POOL_CASES + REG_CASES, ids=lambda c: _case_id(c) + ("-reg" if "beta" in c else ""))
def test_influence_with_the_weights(case: dict[str, Any]) -> None:
    frame = am.influence(_fit(case))
    ref = case["influence"]
    for col in INFLUENCE_COLUMNS:
        _close(frame[col], ref[col], f"influence.{col}")
    dfbetas = [c for c in frame.columns if c.startswith("dfbetas")]
    assert len(dfbetas) == len(ref["dfbetas"])
    for col, expected in zip(dfbetas, ref["dfbetas"], strict=True):
        _close(frame[col], expected, col)
    assert list(frame["inf"]) == ref["inf"]


ROBUST_CASES = [(c, key) for c in POOL_CASES + REG_CASES for key in ("robust_cluster", "robust_study") if key in c]


@pytest.mark.parametrize(
    ("case", "key"),
    ROBUST_CASES,
    ids=[f"{_case_id(c)}-{'reg' if 'beta' in c else 'pool'}-{k}" for c, k in ROBUST_CASES],
)
@pytest.mark.parametrize("adjust", ["CR0", "CR1", "CR2"])
def test_robust_with_the_weights(case: dict[str, Any], key: str, adjust: str) -> None:
    d = DATA[case["dataset"]]
    cluster = d["cluster"] if key == "robust_cluster" else list(range(len(d["yi"])))
    res = am.robust(_fit(case), cluster, adjust=adjust)
    ref = case[key][adjust]
    columns = {"estimate": "beta", "se": "se", "statistic": "tval", "df": "df", "pvalue": "pval"}
    for ours, theirs in {**columns, "ci_low": "ci_lb", "ci_high": "ci_ub"}.items():
        _close(res.coefficients[ours], ref[theirs], f"robust {adjust}.{ours}")


def test_robust_refuses_zero_user_weights() -> None:
    d = DATA["als.small"]
    a = np.array(d["weights"], dtype=float)
    a[2] = 0.0
    fit = am.pool(d["yi"], d["vi"], weights=a)
    with pytest.raises(am.AlsmetaInputError, match=r"^fit: robust\(\) of a fit with user weights of 0"):
        am.robust(fit, d["cluster"])


def test_predict_common_effect_and_prediction_curve_use_the_weighted_fit() -> None:
    d = DATA["dat.bcg"]
    fit = am.pool(d["yi"], d["vi"], weights=d["weights"])
    unweighted = am.pool(d["yi"], d["vi"])
    assert abs(fit.estimate - unweighted.estimate) > 0.1  # the weights matter here
    pred = am.predict(fit)
    assert (pred.pred, pred.ci_low, pred.ci_high) == pytest.approx((fit.estimate, fit.ci_low, fit.ci_high), rel=1e-12)
    assert (pred.pi_low, pred.pi_high) == pytest.approx((fit.pi_low, fit.pi_high), rel=1e-12)
    # the common-effect fit keeps the weights (metafor's rma(method="EE", weights=)): same estimate
    ce = common_effect(fit)
    assert ce.estimate == pytest.approx(fit.estimate, rel=1e-12)
    np.testing.assert_allclose(ce.weights, 100 * np.array(d["weights"]) / np.sum(d["weights"]), rtol=1e-13)
    # the predictive p-value curve crosses alpha at the weighted fit's prediction interval
    p = prediction_p_value_function(np.array([fit.pi_low, fit.pi_high]), fit)
    np.testing.assert_allclose(p, 1 - fit.level, rtol=1e-9)
    # forest plot weight column: the user weights
    np.testing.assert_allclose(fit.to_frame()["weight"], ce.weights, rtol=1e-13)


# ---------------------------------------------------------------------------------- refused
def _weighted_fits() -> list[Any]:
    d = DATA["dat.bcg"]
    return [
        am.pool(d["yi"], d["vi"], weights=d["weights"]),
        am.pool(d["yi"], d["vi"], weights=d["weights"], method="GENQ"),
    ]


def _weighted_regression() -> Any:
    d = DATA["dat.bcg"]
    return am.meta_regression(d["yi"], d["vi"], moderators={"ablat": d["mod"]}, weights=d["weights"])


K = len(DATA["dat.bcg"]["yi"])
REFUSERS: dict[str, Callable[[Any], Any]] = {
    "begg_test": am.begg_test,
    "egger_test": am.egger_test,
    "trim_and_fill": am.trim_and_fill,
    "pet_peese": am.pet_peese,
    "bootstrap": lambda f: am.bootstrap(f, n_boot=10, seed=1),
    "gosh": lambda f: am.gosh(f, max_subsets=10, seed=1),
    "selection_model": lambda f: am.selection_model(f, steps=[0.025]),
    "diversity": am.diversity,
    "trial_sequential_analysis": lambda f: am.trial_sequential_analysis(
        f, [100] * K, list(range(K)), delta=0.2, sd=1.0
    ),
    "subgroup_analysis_of": lambda f: am.subgroup_analysis_of(f, ["a", "b"] * (K // 2) + ["a"] * (K % 2)),
    "permutation_test": lambda f: am.permutation_test(f, n_permutations=10, seed=1),
    "blup": am.blup,
    "ranef": am.ranef,
    "henmi_copas": am.henmi_copas,
    "baujat_coordinates": plots.baujat_coordinates,
    "baujat_plot": plots.baujat_plot,
    "compare_models": lambda f: am.compare_models(f, f),
}


@pytest.mark.parametrize("name", sorted(REFUSERS))
def test_functions_that_cannot_use_the_weights_refuse_naming_fit(name: str) -> None:
    for fit in _weighted_fits():
        arg = "fit_full" if name == "compare_models" else "fit"
        with pytest.raises(am.AlsmetaInputError, match=rf"^{arg}: .*(user weights|weights=)"):
            REFUSERS[name](fit)


@pytest.mark.parametrize("name", ["blup", "ranef", "compare_models"])
def test_refusals_cover_weighted_meta_regression(name: str) -> None:
    arg = "fit_full" if name == "compare_models" else "fit"
    with pytest.raises(am.AlsmetaInputError, match=rf"^{arg}: .*(user weights|weights=)"):
        REFUSERS[name](_weighted_regression())


def test_refusing_functions_still_work_without_weights() -> None:
    d = DATA["dat.bcg"]
    fit = am.pool(d["yi"], d["vi"])
    assert np.isfinite(am.egger_test(fit).pvalue)
    assert len(am.blup(fit).pred) == K


# ---------------------------------------------------------------------------------- every fit-taking function
#: what each public function that takes a fit does with user weights (tested above or where named)
HONOURS = {
    "leave_one_out",  # refits with the weights, metafor's leave1out()
    "cumulative",  # metafor's cumul()
    "influence",  # metafor's influence.rma.uni with weights (pool and meta_regression)
    "robust",  # metafor's robust() / clubSandwich with weights (weights of 0 refused)
    "predict",  # the fit's estimate and (sandwich) covariance, as metafor's predict()
    "tau2_ci",  # generalised Q interval with the weights (tests/test_tau2_ci.py, test_regression_weights.py)
    "permutation_test",  # meta_regression fits refit with the weights (test_regression_weights.py); pool refused
    "forest_plot",  # weight column = user weights; common-effect row keeps them; subgroups refused
    "drapery_plot",  # the fit's curves and common_effect() with the weights
    "funnel_plot",  # draws the fit's estimate only
}
DRAW_ONLY = {  # take a result of another function (which honours or refuses) plus the fit for labels
    "gosh_plot",
    "influence_plot",
    "leave_one_out_forest",
    "cumulative_forest",
    "trim_and_fill_parts",
    "trial_sequential_plot",
}
FIT_PARAMETERS = {"fit", "result", "fit_full"}


def _public_functions() -> dict[str, Any]:
    found = {name: getattr(am, name) for name in am._LAZY_NAMES}
    found.update({name: getattr(plots, name) for name in plots.__all__})
    return {n: f for n, f in found.items() if inspect.isfunction(f)}


def test_every_public_function_taking_a_fit_is_classified() -> None:
    takes_fit = {
        name
        for name, func in _public_functions().items()
        if FIT_PARAMETERS & set(list(inspect.signature(func).parameters)[:2])
    }
    classified = HONOURS | DRAW_ONLY | set(REFUSERS)
    unclassified = takes_fit - classified
    assert not unclassified, f"classify what these do with user weights (honour or refuse): {sorted(unclassified)}"
    assert classified <= set(_public_functions()), sorted(classified - set(_public_functions()))
    assert HONOURS & set(REFUSERS) == {"permutation_test"}  # honours meta_regression fits, refuses pool fits


def test_forest_plot_weight_columns_show_the_user_weights() -> None:
    import matplotlib.pyplot as plt

    d = DATA["dat.bcg"]
    fit = am.pool(d["yi"], d["vi"], weights=d["weights"])
    fig = am.forest_plot(fit)
    try:
        texts = {t.get_text() for t in fig.findobj(lambda o: hasattr(o, "get_text"))}
    finally:
        plt.close(fig)
    percent = 100 * np.array(d["weights"]) / np.sum(d["weights"])
    inverse_variance = 100 * (1 / np.array(d["vi"])) / np.sum(1 / np.array(d["vi"]))
    assert all(f"{w:.1f}%" in texts for w in percent)
    assert not all(f"{w:.1f}%" in texts for w in inverse_variance)
