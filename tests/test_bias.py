"""Small-study effects and publication bias against R metafor.

Reference values: tests/reference/metafor_diagnostics.json, written by
tests/reference/generate_diagnostics_reference.R (metafor 3.8-1, tight
convergence control recorded in the file). Tolerance: relative 1e-6 (absolute
1e-8 near zero) - the closed forms agree to ~1e-11; the selection model, an
optimisation with a numerical Hessian, to 1e-4.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from scipy import stats

import alsmeta as am
from alsmeta.diagnostics.bias import begg_test, egger_test, fail_safe_n, kendall_test, pet_peese, trim_and_fill
from alsmeta.models.selection import selection_model
from conftest import close, data, load_reference

REF = load_reference("metafor_diagnostics.json")
DATASETS = {ds["name"]: ds for ds in REF["datasets"]}
METHOD = {"REML": "REML", "EE": "CE", "DL": "DL"}

pytestmark = pytest.mark.filterwarnings("ignore::alsmeta.AlsmetaWarning")


def test_reference_file_records_versions_controls_and_datasets():
    assert REF["metafor_version"].startswith("3.")
    assert REF["control"] == {"threshold": 1e-12, "tol": 1e-12, "maxiter": 1000}
    assert REF["selmodel_control"]["reltol"] <= 1e-12
    for name in (
        "dat.bcg",
        "dat.egger2001",
        "dat.hackshaw1998",
        "dat.raudenbush1985",
        "dat.lee2004",
        "dat.normand1999",
    ):
        assert name in DATASETS


# ---------------------------------------------------------------- Egger
EGGER_CASES = [
    pytest.param(name, m, model, pred, id=f"{name}-{m}-{model}-{pred}")
    for name in DATASETS
    for m in ("REML", "EE")
    for model in ("lm", "rma")
    for pred in ("sei", "vi")
]


@pytest.mark.parametrize(("name", "method", "model", "predictor"), EGGER_CASES)
def test_egger_matches_regtest(name, method, model, predictor, record_property):
    ds = DATASETS[name]
    ref = ds["regtest"][method][f"{model}_{predictor}"]
    fit = am.pool(*data(ds), method=METHOD[method])
    res = egger_test(fit, model=model, predictor=predictor)
    worst = max(
        close(res.statistic, ref["statistic"], what="statistic"),
        close(res.pvalue, ref["pval"], what="pvalue"),
        close(res.intercept, ref["est"], what="intercept (limit estimate)"),
        close([res.intercept_ci_low, res.intercept_ci_high], [ref["ci_lb"], ref["ci_ub"]], what="CI"),
        close([res.intercept, res.slope], ref["coef"], what="coefficients"),
        close([res.intercept_se, res.slope_se], ref["coef_se"], what="SE"),
    )
    if model == "lm":
        assert res.df == ref["df"]
    record_property("max_rel_dev", worst)


def test_egger_anchor_values():
    """anchors.md 4.2/4.3 (metafor docs and high-precision values)."""
    bcg = DATASETS["dat.bcg"]
    e = egger_test(am.pool(*data(bcg)), model="lm")
    assert e.statistic == pytest.approx(-1.4012820023, rel=1e-9)
    assert e.pvalue == pytest.approx(0.1887069951, rel=1e-8)
    eg = DATASETS["dat.egger2001 (without ISIS-4)"]
    e = egger_test(am.pool(*data(eg)), model="lm")
    assert (round(e.statistic, 4), e.df, round(e.pvalue, 4)) == (-3.1783, 13, 0.0073)
    assert (round(e.intercept, 4), round(e.intercept_ci_low, 4), round(e.intercept_ci_high, 4)) == (
        -0.1512,
        -0.5130,
        0.2106,
    )
    e = egger_test(am.pool(*data(eg)), model="rma")
    assert (round(e.statistic, 4), round(e.pvalue, 4)) == (-2.8062, 0.0050)
    e = egger_test(am.pool(*data(DATASETS["dat.egger2001"])), model="rma")
    assert round(e.statistic, 4) == -4.6686


def test_egger_small_k_and_bad_input():
    fit = am.pool([0.1, 0.3], [0.01, 0.02])
    res = egger_test(fit)
    assert math.isnan(res.statistic) and not res.meaningful
    assert "at least 3" in res.notes[0]
    res = egger_test(am.pool([0.1, 0.3, 0.2, 0.5], [0.01, 0.02, 0.03, 0.05]))
    assert np.isfinite(res.statistic) and not res.meaningful
    assert any("fewer than 10" in n for n in res.notes)
    with pytest.raises(am.AlsmetaInputError, match="PooledResult"):
        egger_test([0.1, 0.2, 0.3])
    with pytest.raises(am.AlsmetaInputError, match="model"):
        egger_test(fit, model="glm")
    with pytest.raises(am.AlsmetaInputError, match="predictor"):
        egger_test(fit, predictor="ni")


# ---------------------------------------------------------------- Begg
@pytest.mark.parametrize("name", list(DATASETS))
def test_begg_matches_ranktest(name, record_property):
    ds = DATASETS[name]
    res = begg_test(am.pool(*data(ds)))
    worst = max(
        close(res.tau, ds["ranktest"]["tau"], rel=1e-12, what="tau"),
        close(res.pvalue, ds["ranktest"]["pval"], rel=1e-9, what="p"),
    )
    record_property("max_rel_dev", worst)


def test_begg_anchor_values_and_exactness():
    res = begg_test(am.pool(*data(DATASETS["dat.bcg"])))
    assert res.tau == pytest.approx(0.0256410256, abs=1e-10)
    assert res.pvalue == pytest.approx(0.9523619080, rel=1e-9)
    assert res.exact
    res = begg_test(am.pool(*data(DATASETS["dat.egger2001"])))
    assert (round(res.tau, 2), round(res.pvalue, 4)) == (0.15, 0.4503)
    # dat.raudenbush1985 has tied variances: normal approximation, as R
    res = begg_test(am.pool(*data(DATASETS["dat.raudenbush1985"])))
    assert not res.exact and any("Ties" in n for n in res.notes)


def test_kendall_exact_distribution_matches_scipy_and_scales():
    rng = np.random.default_rng(3)
    for n in (3, 7, 15, 40):
        x, y = rng.normal(size=n), rng.normal(size=n)
        tau, p, _, exact = kendall_test(x, y)
        ref = stats.kendalltau(x, y, method="exact")
        assert exact and tau == pytest.approx(ref.statistic, rel=1e-12)
        assert p == pytest.approx(ref.pvalue, rel=1e-9)
    # R's cor.test returns NaN beyond n = 170; the probability recursion neither overflows nor loses precision
    x = rng.normal(size=250)
    y = x + rng.normal(size=250) * 5
    tau, p, _, exact = kendall_test(x, y)
    assert exact and p == pytest.approx(stats.kendalltau(x, y, method="exact").pvalue, rel=1e-8)


def test_begg_small_k():
    res = begg_test(am.pool([0.1, 0.2], [0.1, 0.2]))
    assert math.isnan(res.pvalue) and not res.meaningful
    res = begg_test(am.pool([0.1, 0.2, 0.5], [0.1, 0.2, 0.3]))
    assert res.exact and res.tau == pytest.approx(1.0) and res.pvalue == pytest.approx(1 / 3) and not res.meaningful


# ---------------------------------------------------------------- trim and fill
TF_CASES = [
    pytest.param(name, m, est, id=f"{name}-{m}-{est}")
    for name in DATASETS
    for m in ("REML", "EE", "DL")
    for est in ("L0", "R0", "Q0")
]


@pytest.mark.parametrize(("name", "method", "estimator"), TF_CASES)
def test_trim_and_fill_matches_trimfill(name, method, estimator, record_property):
    ds = DATASETS[name]
    ref = ds["trimfill"][method][estimator]
    fit = am.pool(*data(ds), method=METHOD[method])
    if "error" in ref:  # metafor: Q0 undefined (negative discriminant)
        with pytest.raises(am.AlsmetaInputError, match="Q0"):
            trim_and_fill(fit, estimator=estimator)
        return
    res = trim_and_fill(fit, estimator=estimator)
    assert (res.k0, res.side) == (ref["k0"], ref["side"])
    f = res.fit
    worst = max(
        close(f.estimate, ref["estimate"], what="estimate"),
        close(f.se, ref["se"], what="se"),
        close([f.ci_low, f.ci_high], [ref["ci_lb"], ref["ci_ub"]], what="CI"),
        close(f.pvalue, ref["pval"], what="p"),
        close(f.q, ref["QE"], what="Q"),
        close(res.se_k0, ref["se_k0"], what="se_k0"),
        close(f.yi, ref["yi"], rel=1e-9, what="filled yi"),
        close(f.vi, ref["vi"], rel=1e-12, what="filled vi"),
    )
    if METHOD[method] != "CE":
        worst = max(worst, close(f.tau2, ref["tau2"], what="tau2"), close(f.i2, ref["I2"], what="I2"))
    if ref.get("p_k0") is not None:
        close(res.p_k0, ref["p_k0"], rel=1e-12, what="p_k0")
    assert f.k == ds["k"] + res.k0
    assert len(res.filled) == res.k0
    record_property("max_rel_dev", worst)


@pytest.mark.parametrize("name", list(DATASETS))
def test_trim_and_fill_forced_side(name):
    ds = DATASETS[name]
    key = next(key for key in ds["trimfill"]["REML"] if key.startswith("L0_"))
    ref = ds["trimfill"]["REML"][key]
    res = trim_and_fill(am.pool(*data(ds)), side=ref["side"])
    assert res.k0 == ref["k0"]
    close(res.fit.estimate, ref["estimate"], what="estimate")


def test_trim_and_fill_anchor_values():
    bcg = DATASETS["dat.bcg"]
    res = trim_and_fill(am.pool(*data(bcg)))
    assert (res.k0, round(res.fit.estimate, 4), round(res.fit.tau2, 4)) == (1, -0.6571, 0.3313)
    ce = am.pool(*data(bcg), method="CE")
    res = trim_and_fill(ce)
    assert (res.k0, res.side, round(res.fit.estimate, 4), round(res.fit.q, 4)) == (4, "right", -0.2910, 262.7316)
    res = trim_and_fill(ce, estimator="R0")
    assert (res.k0, round(res.p_k0, 4)) == (4, 0.0312)
    assert trim_and_fill(ce, estimator="Q0").k0 == 5
    assert trim_and_fill(am.pool(*data(bcg)), estimator="R0").k0 == 0


def test_trim_and_fill_edge_cases():
    one = am.pool([0.3], [0.1])
    res = trim_and_fill(one)
    assert res.k0 == 0 and res.fit is one and not res.meaningful
    two = am.pool([0.3, 0.5], [0.1, 0.2])
    assert "could not be estimated" in trim_and_fill(two).notes[0]
    assert trim_and_fill(two, side="left").side == "left"
    with pytest.raises(am.AlsmetaInputError, match="estimator"):
        trim_and_fill(two, estimator="L1")
    with pytest.raises(am.AlsmetaInputError, match="side"):
        trim_and_fill(two, side="up")
    labels = [f"S{i}" for i in range(13)]
    yi, vi = data(DATASETS["dat.bcg"])
    res = trim_and_fill(am.pool(yi, vi, labels=labels, method="CE"))
    assert list(res.fit.labels[-4:]) == ["Filled 1", "Filled 2", "Filled 3", "Filled 4"]
    assert set(res.filled["mirrors"]) <= set(labels)


# ---------------------------------------------------------------- PET-PEESE
@pytest.mark.parametrize("name", list(DATASETS))
def test_pet_peese_regressions_match_regtest(name):
    ds = DATASETS[name]
    res = pet_peese(am.pool(*data(ds)))
    pet, peese = ds["regtest"]["REML"]["lm_sei"], ds["regtest"]["REML"]["lm_vi"]
    close([res.pet.intercept, res.pet.slope], pet["coef"], what="PET")
    close([res.peese.intercept, res.peese.slope], peese["coef"], what="PEESE")
    p_two = pet["coef_p"][0]
    assert res.pet_test_pvalue == pytest.approx(p_two / 2, rel=1e-9)
    expected = "PEESE" if p_two / 2 < 0.05 else "PET"
    assert res.selected == expected
    chosen = peese if expected == "PEESE" else pet
    assert res.estimate == pytest.approx(chosen["est"], rel=1e-9)
    two = pet_peese(am.pool(*data(ds)), alternative="two-sided")
    assert two.selected == ("PEESE" if p_two < 0.05 else "PET")


def test_pet_peese_small_k_and_input():
    res = pet_peese(am.pool([0.1, 0.2], [0.01, 0.02]))
    assert math.isnan(res.estimate) and not res.meaningful
    with pytest.raises(am.AlsmetaInputError, match="alternative"):
        pet_peese(am.pool([0.1, 0.2, 0.3], [0.01, 0.02, 0.03]), alternative="left")
    with pytest.raises(am.AlsmetaInputError, match="alpha"):
        pet_peese(am.pool([0.1, 0.2, 0.3], [0.01, 0.02, 0.03]), alpha=1.5)


# ---------------------------------------------------------------- fail-safe N
@pytest.mark.parametrize("name", list(DATASETS))
def test_fail_safe_n_matches_fsn(name):
    ds = DATASETS[name]
    yi, vi = data(ds)
    ref = ds["fsn"]
    r = fail_safe_n(yi, vi)
    assert r.n == ref["rosenthal"]["n"] and r.method == "rosenthal"
    close(r.pvalue, ref["rosenthal"]["pval"], rel=1e-10)
    assert fail_safe_n(yi, vi, alpha=0.01).n == ref["rosenthal_01"]["n"]
    r = fail_safe_n(yi, vi, method="orwin", weighted=False)  # metafor 3.8: unweighted unless weighted=TRUE
    assert r.n == ref["orwin"]["n"]
    close(r.target, ref["orwin"]["target"], rel=1e-12)
    assert fail_safe_n(yi, method="orwin", target=0.05).n == ref["orwin_005"]["n"]
    assert fail_safe_n(yi, vi, method="orwin", weighted=True).n == ref["orwin_weighted"]["n"]
    r = fail_safe_n(yi, vi, method="rosenberg")
    assert r.n == ref["rosenberg"]["n"]
    close(r.pvalue, ref["rosenberg"]["pval"], rel=1e-10)


def test_fail_safe_n_anchor_values():
    """metafor test_misc_fsn.r and anchors.md (Rosenthal 598 on dat.bcg)."""
    assert fail_safe_n(*data(DATASETS["dat.bcg"])).n == 598
    ra, ha = data(DATASETS["dat.raudenbush1985"]), data(DATASETS["dat.hackshaw1998"])
    assert (fail_safe_n(*ra).n, fail_safe_n(*ha).n) == (26, 393)
    # metafor 4: with vi the weighted mean (4, 104); without vi the plain mean (44, 186)
    assert fail_safe_n(*ra, method="orwin", target=0.05).n == 4
    assert fail_safe_n(*ha, method="orwin", target=0.049).n == 104
    assert fail_safe_n(ra[0], method="orwin", target=0.05).n == 44
    assert fail_safe_n(ha[0], method="orwin", target=0.049).n == 186
    assert (fail_safe_n(*ra, method="rosenberg").n, fail_safe_n(*ha, method="rosenberg").n) == (0, 202)


def test_fail_safe_n_input_errors_and_edges():
    with pytest.raises(am.AlsmetaInputError, match="study 'B', column 'vi'"):
        fail_safe_n([0.1, 0.2], [0.1, -0.2], labels=["A", "B"])
    with pytest.raises(am.AlsmetaInputError, match="vi"):
        fail_safe_n([0.1, 0.2], method="rosenthal")
    with pytest.raises(am.AlsmetaInputError, match="method"):
        fail_safe_n([0.1, 0.2], [0.1, 0.2], method="fisher")
    assert math.isinf(fail_safe_n([0.1, 0.2], method="orwin", target=0).n)
    assert math.isnan(fail_safe_n([], []).n)


# ---------------------------------------------------------------- selection model
SEL_CASES = [pytest.param(name, key, id=f"{name}-{key}") for name, ds in DATASETS.items() for key in ds["selmodel"]]


@pytest.mark.filterwarnings("ignore:The likelihood has more than one maximum:alsmeta.AlsmetaWarning")
@pytest.mark.parametrize(("name", "key"), SEL_CASES)
def test_selection_model_matches_selmodel(name, key, record_property):
    ds = DATASETS[name]
    ref = ds["selmodel"][key]
    steps = ref["steps"][:-1] if isinstance(ref["steps"], list) else ref["steps"]
    res = selection_model(am.pool(*data(ds)), steps=steps, alternative=ref["alternative"])
    if "error" in ref:  # metafor's optimiser failed; ours must at least not be worse than the plain ML fit
        assert res.loglik >= res.loglik_null - 1e-9
        return
    rel = 1e-4
    # the maximised likelihood: ours is never lower than metafor's
    assert res.loglik >= ref["ll"] - 1e-9
    if res.loglik > ref["ll"] + 1e-3:
        # dat.egger2001, alternative="less": metafor's BFGS stops at a local maximum (-18.84, tau2 0.109);
        # the maximum at tau2 = 0 (-17.30) is higher, is reported, and the note names metafor's
        assert "more than one maximum" in res.notes[0] and f"{ref['ll']:.6g}" in res.notes[0]
        return
    worst = max(
        close(res.loglik, ref["ll"], rel=rel, what="loglik"),
        close(res.estimate, ref["estimate"], rel=rel, what="estimate"),
        close(res.tau2, ref["tau2"], rel=rel, abs_=1e-6, what="tau2"),
        close(res.lrt, ref["LRT"], rel=rel, abs_=1e-6, what="LRT"),
        close(res.loglik_null, ref["ll0"], rel=1e-9, what="ML loglik"),
        close(res.counts, ref["ptable"], rel=0, abs_=0, what="p-value table"),
    )
    bound = max(ref["delta"]) > 99
    if bound:  # metafor's BFGS stops just short of the bound delta = 100
        assert res.delta[-1] >= ref["delta"][-1] and not res.meaningful
    else:
        worst = max(
            worst,
            close(res.delta, ref["delta"], rel=rel, what="delta"),
            close(res.se, ref["se"], rel=rel, what="se"),
            close(res.delta_se[1:], ref["se_delta"][1:], rel=rel, what="se(delta)"),
        )
        if ref["tau2"] > 1e-6:
            worst = max(worst, close(res.tau2_se, ref["se_tau2"], rel=rel, what="se(tau2)"))
    if ref.get("LRT_tau2") is not None:
        close(res.lrt_tau2, ref["LRT_tau2"], rel=rel, abs_=1e-5, what="LRT tau2")
    record_property("max_rel_dev", worst)


def test_selection_model_anchor_hackshaw():
    """metafor test_misc_selmodel.r: dat.hackshaw1998, steps (.05, .10, .50, 1)."""
    res = selection_model(am.pool(*data(DATASETS["dat.hackshaw1998"])), steps=[0.05, 0.10, 0.50])
    assert np.round(res.delta, 4).tolist() == [1.0, 2.4221, 0.9775, 0.3967]
    assert round(res.lrt, 4) == 7.0661 and res.lrt_df == 3
    assert round(res.tau2, 5) == 0.03071


def test_selection_model_edges():
    fit = am.pool([0.1, 0.3], [0.01, 0.02])
    res = selection_model(fit)
    assert math.isnan(res.estimate) and "cannot be fitted" in res.notes[0]
    # all p-values below .025: the weight of the other interval is not identifiable
    res = selection_model(am.pool([1.0, 1.2, 0.9, 1.1], [0.01, 0.02, 0.01, 0.03]))
    assert math.isnan(res.estimate) and "not identifiable" in res.notes[0]
    with pytest.raises(am.AlsmetaInputError, match="alternative"):
        selection_model(fit, alternative="up")
    with pytest.raises(am.AlsmetaInputError, match="steps"):
        selection_model(fit, steps=[1.5])
    ce = selection_model(am.pool(*data(DATASETS["dat.bcg"]), method="CE"), alternative="less")
    assert ce.tau2 == 0 and math.isnan(ce.tau2_se) and math.isnan(ce.lrt_tau2)


# ------------------------------------------------------------------ identical effects (issue 14)
def _identical(noise: float, k: int = 12, y0: float = 0.3, seed: int = 7) -> am.PooledResult:
    rng = np.random.default_rng(seed)
    vi = rng.uniform(0.01, 0.5, k)
    yi = np.full(k, y0) * (1.0 + noise * rng.standard_normal(k))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return am.pool(yi, vi, method="REML")


@pytest.mark.parametrize("noise", [0.0, 1e-16, 1e-14])
def test_identical_effects_give_no_evidence_of_bias(noise):
    """All effects equal (or equal up to rounding): no asymmetry, so no test can report bias.

    Before: Egger lm t = -inf, p = 0; Begg tau = +/-1 with p ~ 4e-9; trim-and-fill filled studies or
    failed; PET-PEESE divided by zero. metafor's trimfill fills 7 of 12 here; alsmeta fills none.
    """
    fit = _identical(noise)
    for model in ("lm", "rma"):
        eg = am.egger_test(fit, model=model)
        assert np.isnan(eg.pvalue) and np.isnan(eg.statistic)
        assert any("no spread" in n for n in eg.notes)
        assert eg.intercept == pytest.approx(fit.estimate, rel=1e-12)
    bg = am.begg_test(fit)
    assert np.isnan(bg.pvalue) and np.isnan(bg.tau) and any("no spread" in n for n in bg.notes)
    for estimator in ("L0", "R0", "Q0"):
        tf = am.trim_and_fill(fit, estimator=estimator)
        assert tf.k0 == 0 and tf.fit is fit and len(tf.filled) == 0
    pp = am.pet_peese(fit)
    assert np.isnan(pp.pet_test_pvalue) and pp.estimate == pytest.approx(0.3, rel=1e-12)
    sm = am.selection_model(fit)
    assert np.isnan(sm.lrt_pvalue) and any("no spread" in n for n in sm.notes)


def test_a_real_spread_is_still_tested():
    """Just above the rounding-noise rule the tests run as before (the rule is not too wide)."""
    fit = _identical(1e-9)
    assert np.isfinite(am.egger_test(fit).pvalue)
    assert np.isfinite(am.begg_test(fit).pvalue)


def test_no_spread_rule_is_scale_invariant():
    from alsmeta.engine.heterogeneity import effects_without_spread

    y = np.array([1.0, 1.0 + 1e-14, 1.0 - 1e-14])
    v = np.array([0.1, 0.2, 0.3])
    for c in (1e-40, 1.0, 1e40):
        assert effects_without_spread(y * c, v * c * c)
        assert not effects_without_spread((y + [0, 1e-6, 0]) * c, v * c * c)
