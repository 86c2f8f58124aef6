"""selection_model on meta-regression fits against metafor's selmodel(rma(yi, vi, mods = ~ x), type = ...).

Reference: metafor_selmodel_mods.json (tests/reference/generate_selmodel_mods_reference.R): dat.bcg log risk
ratios with mods ablat (and ablat + alloc), dat.hackshaw1998 with mods year; step functions, beta, halfnorm,
negexp, logistic and power; REML, ML, EE and a fixed tau^2; optim/BFGS reltol 1e-14, the integral of the
continuous types at rel.tol 1e-12 (or as recorded). Tolerances as tests/test_selection_types.py: log-likelihoods
and LRTs absolute 1e-6, SEs relative 1e-5, estimates relative 1e-5 or 2e-5 of their SE (the maximum is flat:
both optimisers stop within that of it).
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import alsmeta as am
from alsmeta.models.selection_functions import loglik_continuous, selection_spec, study_pvalues
from conftest import load_reference

SEL = load_reference("metafor_selmodel_mods.json")
OK = [c for c in SEL["cases"] if not c.get("failed")]
TYPE = {"stepfun": "step"}
REL, ABS = 1e-5, 1e-7


def _case_id(c: dict) -> str:
    tau2 = f"-tau2={c['tau2_fixed']}" if c.get("tau2_fixed") is not None else ""
    steps = f"-{c['steps_requested']}" if c.get("steps_requested") else ""
    return f"{c['dataset']}~{c['mods']}-{c['fit_method']}{tau2}-{c['type']}{steps}-{c['alternative']}"


def _regression(case: dict) -> am.MetaRegressionResult:
    X = np.asarray(case["X"], dtype=float)
    mods = {name: X[:, j] for j, name in enumerate(case["terms"]) if j > 0}
    method = "CE" if case["fit_method"] == "EE" else case["fit_method"]
    return am.meta_regression(case["yi"], case["vi"], mods=mods, method=method, tau2=case.get("tau2_fixed"))


def _selection(case: dict) -> am.SelectionRegressionResult:
    steps = case.get("steps_requested")
    if steps is not None:
        steps = steps[:-1] if steps[-1] == 1 else steps
    return am.selection_model(_regression(case), type=TYPE.get(case["type"], case["type"]), steps=steps,
                              alternative=case["alternative"])  # fmt: skip


def _close(got, expected, se) -> None:
    """Relative REL, or 2e-5 of the standard error (the flat maximum), elementwise; metafor's NA must be NaN."""
    exp = np.array([np.nan if x is None else x for x in np.atleast_1d(expected)], dtype=float)
    got = np.atleast_1d(np.asarray(got, dtype=float))
    slack = 2e-5 * np.nan_to_num(np.atleast_1d(np.asarray(se, dtype=float))) + ABS
    np.testing.assert_array_equal(np.isnan(got), np.isnan(exp))
    ok = np.isnan(exp) | (np.abs(got - exp) <= REL * np.abs(exp) + slack)
    assert ok.all(), f"got {got}, metafor {exp}"


def _two_maxima(ref: dict) -> bool:
    """metafor stopped at a local maximum: its own fit with tau^2 = 0 fixed has a higher likelihood."""
    return ref.get("logLik_tau2_zero") is not None and ref["logLik_tau2_zero"] > ref["logLik"] + 1e-6


SINGLE = [c for c in OK if not _two_maxima(c)]
TWO_MAXIMA = [c for c in OK if _two_maxima(c)]


@pytest.mark.parametrize("ref", SINGLE, ids=[_case_id(c) for c in SINGLE])
def test_matches_metafor_selmodel_with_moderators(ref):
    res = _selection(ref)
    assert res.converged and res.type == TYPE.get(ref["type"], ref["type"])
    assert list(res.coefficients["term"]) == ["intercept", *ref["terms"][1:]]  # metafor: "intrcpt"
    assert res.loglik == pytest.approx(ref["logLik"], abs=1e-6)
    assert res.loglik_null == pytest.approx(ref["logLik_no_selection"], abs=1e-9)
    np.testing.assert_allclose(res.se, ref["se"], rtol=REL)
    _close(res.estimate, ref["beta"], ref["se"])
    crit = 1.959963984540054
    _close(res.coefficients["ci_low"], ref["ci_lb"], np.asarray(ref["se"]) * (1 + crit))
    _close(res.coefficients["ci_high"], ref["ci_ub"], np.asarray(ref["se"]) * (1 + crit))
    np.testing.assert_allclose(res.vcov, ref["vb"], rtol=2 * REL, atol=ABS * np.max(np.abs(ref["vb"])))
    assert res.qm == pytest.approx(ref["QM"], rel=1e-4) and res.qm_df == ref["QMdf"]
    assert res.qm_pvalue == pytest.approx(ref["QMp"], rel=1e-3, abs=1e-12)
    if ref["se_tau2"] is not None and ref["tau2"] > 1e-6:
        assert res.tau2_se == pytest.approx(ref["se_tau2"], rel=REL)
        _close(res.tau2, ref["tau2"], ref["se_tau2"])
    else:
        assert res.tau2 == pytest.approx(ref["tau2"], abs=ABS)
    if ref["se_tau2"] is None:
        assert math.isnan(res.tau2_se)
    np.testing.assert_allclose(res.delta_se, [np.nan if x is None else x for x in ref["se_delta"]], rtol=REL, atol=ABS)
    _close(res.delta, ref["delta"], [0.0 if x is None else x for x in ref["se_delta"]])
    assert res.lrt == pytest.approx(ref["LRT"], abs=1e-6) and res.lrt_df == ref["LRTdf"]
    if ref.get("logLik_tau2_zero") is None:  # tau^2 fixed (EE or tau2=): no test of tau^2
        assert ref["LRT_tau2"] is None and math.isnan(res.lrt_tau2)
    else:
        # against metafor's own fit with tau^2 = 0 (its LRT.tau2 with moderators refits from scaled start values in
        # the unscaled design and can stop early: dat.hackshaw1998 ~ year 57.7 and 441 instead of 2.02 and 5.72, or NA)
        assert res.lrt_tau2 == pytest.approx(max(0.0, 2 * (ref["logLik"] - ref["logLik_tau2_zero"])), abs=1e-6)
        assert ref["LRT_tau2"] is None or res.lrt_tau2 <= ref["LRT_tau2"] + 1e-6
    if ref.get("ptable_k") is not None and res.type == "step":
        np.testing.assert_array_equal(res.counts, ref["ptable_k"])


@pytest.mark.parametrize("ref", TWO_MAXIMA, ids=[_case_id(c) for c in TWO_MAXIMA])
def test_higher_maximum_at_tau2_zero_is_reported_and_named(ref):
    """dat.bcg ~ ablat + alloc: metafor's selmodel stops at a local maximum with tau^2 > 0; its own fit with tau^2 = 0
    fixed is higher, and that is what alsmeta reports (with a warning and a note that names metafor's value)."""
    with pytest.warns(am.AlsmetaWarning, match="more than one maximum"):
        res = _selection(ref)
    assert res.loglik == pytest.approx(ref["logLik_tau2_zero"], abs=1e-6) and res.tau2 == 0.0
    assert f"log-likelihood {ref['logLik']:.6g}" in res.notes[0]
    zero = ref["tau2_zero_fit"]
    np.testing.assert_allclose(res.estimate, zero["beta"], rtol=1e-4, atol=1e-4 * np.max(ref["se"]))
    np.testing.assert_allclose(res.delta, zero["delta"], rtol=1e-4)
    assert res.lrt_tau2 == 0.0


ABLAT = np.array([44, 55, 42, 52, 13, 44, 19, 13, 27, 42, 18, 33, 33], dtype=float)  # dat.bcg


def test_one_column_of_ones_is_the_pooled_selection_model(bcg):
    """A meta-regression on the intercept alone is the pooled model: the same selection model to optimiser noise."""
    yi, vi = bcg
    reg = am.meta_regression(yi, vi, mods={"one": np.ones(yi.size)}, intercept=False, method="ML")
    pooled = am.selection_model(am.pool(yi, vi, method="ML"), steps=0.025, alternative="less")
    res = am.selection_model(reg, steps=0.025, alternative="less")
    assert res.loglik == pytest.approx(pooled.loglik, abs=1e-9)
    assert res.estimate[0] == pytest.approx(pooled.estimate, abs=1e-5 * pooled.se)
    assert res.se[0] == pytest.approx(pooled.se, rel=1e-6)
    np.testing.assert_allclose(res.delta, pooled.delta, rtol=1e-5)
    assert res.lrt == pytest.approx(pooled.lrt, abs=1e-8)


@settings(max_examples=4)  # each example is two selection-model fits
@given(st.floats(-50, 50), st.sampled_from([-3.0, 0.1, 10.0]), st.sampled_from(["step", "power"]))
def test_linear_recoding_of_a_moderator_changes_only_its_coefficients(bcg, shift, scale, type):
    """x -> shift + scale x leaves the likelihood, tau^2 and delta alone; the slope becomes slope / scale.

    (power: the bcg selection parameter is inside its bounds with alternative="less"; halfnorm, negexp and
    logistic put it on the bound 0 there, where it is not identified and a relative comparison means nothing.)
    """
    yi, vi = bcg
    x = ABLAT
    base = am.selection_model(am.meta_regression(yi, vi, mods={"x": x}), type=type, alternative="less")
    moved = am.selection_model(am.meta_regression(yi, vi, mods={"x": shift + scale * x}), type=type, alternative="less")
    assert moved.loglik == pytest.approx(base.loglik, abs=1e-7)
    assert moved.tau2 == pytest.approx(base.tau2, rel=1e-4, abs=1e-7)
    np.testing.assert_allclose(moved.delta, base.delta, rtol=1e-4)
    slope = base.estimate[1] / scale
    assert moved.estimate[1] == pytest.approx(slope, abs=1e-4 * base.se[1] / abs(scale))
    assert moved.se[1] == pytest.approx(base.se[1] / abs(scale), rel=1e-4)
    assert moved.qm == pytest.approx(base.qm, rel=1e-4)


def test_custom_weights_and_other_fits_are_refused_by_name(bcg):
    yi, vi = bcg
    with pytest.raises(am.AlsmetaInputError, match=r"^fit: .*custom weights \(weights= or method='REML'\)"):
        am.selection_model(am.pool(yi, vi, weights=np.ones(yi.size)))
    with pytest.raises(am.AlsmetaInputError, match=r"^fit: .*custom weights .*method='GENQ'"):
        am.selection_model(am.pool(yi, vi, method="GENQ", weights=1 / vi))
    multilevel = am.pool_multilevel(yi, vi, study=[f"s{i // 2}" for i in range(yi.size)])
    with pytest.raises(am.AlsmetaInputError, match="^selection_model: expected the result of alsmeta.pool"):
        am.selection_model(multilevel)


def test_too_few_studies_for_the_coefficients_gives_a_defined_empty_result():
    reg = am.meta_regression([0.1, 0.3, 0.2, 0.5], [0.01, 0.02, 0.03, 0.01], mods={"x": [1.0, 2.0, 3.0, 5.0]})
    res = am.selection_model(reg, type="beta")  # 2 coefficients, tau^2 and 2 deltas: 5 parameters for 4 studies
    assert "cannot be fitted" in res.notes[0] and not res.converged
    assert np.isnan(res.estimate).all() and res.coefficients.shape == (2, 7) and math.isnan(res.qm)
    assert json.loads(json.dumps(res.to_dict(), allow_nan=False))["qm"] is None


def test_result_reads_and_travels_like_the_other_results(bcg):
    res = am.selection_model(am.meta_regression(*bcg, mods={"ablat": ABLAT}), steps=0.025, alternative="less")
    text = res.summary()
    assert str(res) == text and "ablat" in text and "Test of Moderators (ablat): QM(df = 1)" in text
    assert am.results.fmt_number(res.estimate[1]) in text and "0 < p <= 0.025" in text
    data = res.to_dict()
    assert json.loads(json.dumps(data, allow_nan=False)) == data
    assert data["coefficients"][1]["term"] == "ablat" and data["delta"][0] == 1.0
    assert res.to_frame().equals(res.coefficients)
    assert list(res.selection_table()["k"]) == list(res.counts)


METHODS = load_reference("metafor_methods.json")
WITH_MODS = [e for e in METHODS["selmodel"] if e["mods"] is not None and e["reference"]]


@pytest.mark.parametrize("ref", WITH_MODS, ids=[e["call"] + e["dataset"] for e in WITH_MODS])
def test_maximum_not_below_metafor_default_integration_with_moderators(ref):
    """baskerville2012 beta ~ xi (metafor_methods.json, metafor's default integration, rel.tol 1.2e-4; tau2 at 0).

    Our maximum is at least the exact likelihood at metafor's estimates, and metafor's own value is within 5e-4.
    """
    d = next(x for x in METHODS["datasets"] if x["name"] == ref["dataset"])
    x = np.asarray(d["mods"][ref["mods"]], dtype=float)
    yi, vi = np.asarray(d["yi"], dtype=float), np.asarray(d["vi"], dtype=float)
    reg = am.meta_regression(yi, vi, mods={ref["mods"]: x}, method=ref["fit_method"])
    res = am.selection_model(reg, type=ref["type"], alternative=ref["alternative"])
    spec = selection_spec(ref["type"], None, ref["alternative"])
    mu = reg.X @ np.asarray(ref["beta"])
    pvals = study_pvalues(yi, vi, ref["alternative"])
    at_metafor = loglik_continuous(mu, ref["tau2"], np.asarray(ref["delta"]), yi, vi, pvals, spec)
    assert res.loglik >= at_metafor - 1e-9
    assert res.loglik == pytest.approx(ref["logLik"], abs=5e-4)
    assert res.loglik_null == pytest.approx(ref["logLik_no_selection"], abs=1e-9)
    np.testing.assert_allclose(res.estimate, ref["beta"], atol=0.05 * min(ref["se"]))
