"""loglik/aic/bic/aicc of pool and meta_regression fits and compare_models against metafor.

References: tests/reference/metafor_methods.json sections ``fitstats`` (metafor's fitstats() for
ML and REML fits, intercept-only, with a moderator and with tau2 = 0) and ``anova`` (anova(full,
reduced) likelihood-ratio tests). Tolerance: absolute 1e-8 on log-likelihoods and criteria
(they are O(10); measured worst 1.3e-11, from tau2 agreeing to about 1e-10), relative 1e-8 on the
p-values and 1e-6 on R2 (a ratio of two iterated tau2 estimates).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import alsmeta as am
from conftest import load_reference

REF = load_reference("metafor_methods.json")
DATA = {d["name"]: d for d in REF["datasets"]}
MODERATOR = {"dat.bcg": "ablat", "dat.lee2004": "year", "dat.hackshaw1998": "year"}
ABS = 1e-8


def _fit(dataset, method, mods=None, tau2=None):
    d = DATA[dataset]
    if mods is None:
        return am.pool(d["yi"], d["vi"], method=method, tau2=tau2)
    return am.meta_regression(d["yi"], d["vi"], moderators={mods: d["mods"][mods]}, method=method, tau2=tau2)


@pytest.mark.parametrize("ref", REF["fitstats"], ids=[e["call"] for e in REF["fitstats"]])
def test_fit_statistics_match_metafor(ref):
    fit = _fit(ref["dataset"], ref["method"], ref["mods"], ref["tau2_fixed"])
    for ours, theirs in (("loglik", "logLik"), ("aic", "AIC"), ("bic", "BIC"), ("aicc", "AICc")):
        assert getattr(fit, ours) == pytest.approx(ref[theirs], abs=ABS), ours
    assert fit.fit_stats.parms == ref["parms"]
    assert fit.fit_stats.reml == (ref["method"] == "REML")


def _anova_pair(ref):
    mod = MODERATOR[ref["dataset"]]
    if ref["compares"] == "mods":
        return _fit(ref["dataset"], ref["method"], mod), _fit(ref["dataset"], ref["method"])
    return _fit(ref["dataset"], ref["method"]), _fit(ref["dataset"], ref["method"], tau2=0.0)


ANOVA_OK = [e for e in REF["anova"] if not e["warnings"]]
ANOVA_WARNED = [e for e in REF["anova"] if e["warnings"]]


@pytest.mark.parametrize("ref", ANOVA_OK, ids=[f"{e['dataset']}-{e['method']}-{e['description']}" for e in ANOVA_OK])
def test_likelihood_ratio_tests_match_metafor(ref):
    full, reduced = _anova_pair(ref)
    if ref["description"] == "reduced given first":
        full, reduced = reduced, full
    res = am.compare_models(full, reduced)
    assert res.lrt == pytest.approx(ref["LRT"], abs=ABS)
    assert res.df == ref["df"]
    assert res.pvalue == pytest.approx(ref["pval"], rel=1e-8, abs=1e-300)
    for name in ("logLik", "AIC", "BIC", "AICc"):
        for side in ("full", "reduced"):
            key = f"{name}_{side}"
            if key in ref:
                ours = f"{'loglik' if name == 'logLik' else name.lower()}_{side}"
                assert getattr(res, ours) == pytest.approx(ref[key], abs=ABS), ours
    if "R2" in ref:
        assert res.r2 == pytest.approx(ref["R2"], rel=1e-6, abs=1e-8)
        assert res.qe_full == pytest.approx(ref["QE_full"], rel=1e-8)
    d = res.to_dict()
    assert d["lrt"] == res.lrt and res.to_frame().shape[0] == 1
    assert "Likelihood-ratio" in res.summary()


@pytest.mark.parametrize("ref", ANOVA_WARNED, ids=[f"{e['dataset']}-{e['method']}" for e in ANOVA_WARNED])
def test_reml_fits_with_different_moderators_are_refused(ref):
    """metafor warns 'REML comparisons not meaningful ...'; alsmeta refuses and says to use ML."""
    assert "REML comparisons not meaningful" in ref["warnings"][0]
    full, reduced = _anova_pair(ref)
    with pytest.raises(am.AlsmetaInputError, match="REML.*method='ML'"):
        am.compare_models(full, reduced)


def test_refusals_name_the_problem():
    d = DATA["dat.bcg"]
    y, v, lat, yr = d["yi"], d["vi"], d["mods"]["ablat"], d["mods"]["year"]
    ml = am.pool(y, v, method="ML")
    with pytest.raises(am.AlsmetaInputError, match="different data"):
        am.compare_models(
            am.meta_regression(y, v, moderators={"x": lat}, method="ML"), am.pool(y[:-1], v[:-1], method="ML")
        )
    with pytest.raises(am.AlsmetaInputError, match="not nested"):
        am.compare_models(
            am.meta_regression(y, v, moderators={"a": lat}, method="ML"),
            am.meta_regression(y, v, moderators={"b": yr}, method="ML", tau2=0.1),
        )
    with pytest.raises(am.AlsmetaInputError, match="same number of parameters"):
        am.compare_models(ml, am.pool(y, v, method="ML"))
    with pytest.raises(am.AlsmetaInputError, match="ML and the other REML"):
        am.compare_models(am.meta_regression(y, v, moderators={"a": lat}, method="REML"), ml)
    with pytest.raises(am.AlsmetaInputError, match="fit_reduced: method='DL' is not a likelihood fit"):
        am.compare_models(am.meta_regression(y, v, moderators={"a": lat}, method="ML"), am.pool(y, v, method="DL"))
    with pytest.raises(am.AlsmetaInputError, match="fit_full: expected the result"):
        am.compare_models("fit", ml)
    with pytest.raises(am.AlsmetaInputError, match="user weights"):
        am.compare_models(am.pool(y, v, method="ML", weights=np.ones(len(y))), am.pool(y, v, method="ML", tau2=0))


def test_common_effect_is_the_tau2_zero_model():
    d = DATA["dat.bcg"]
    ce, ml = am.pool(d["yi"], d["vi"], method="CE"), am.pool(d["yi"], d["vi"], method="ML")
    res = am.compare_models(ml, ce)
    fixed = am.compare_models(ml, am.pool(d["yi"], d["vi"], method="ML", tau2=0))
    assert res.lrt == pytest.approx(fixed.lrt, rel=1e-12)
    assert res.df == 1
    assert any("boundary" in n for n in res.notes)


@st.composite
def _data(draw):
    k = draw(st.integers(4, 12))
    y = np.array(draw(st.lists(st.floats(-2, 2), min_size=k, max_size=k)))
    v = np.array(draw(st.lists(st.floats(0.01, 1.0), min_size=k, max_size=k)))
    x = np.array(draw(st.lists(st.floats(-1, 1), min_size=k, max_size=k)))
    return y, v, x


@given(_data())
def test_lrt_is_symmetric_and_nonnegative(data):
    """The order of the arguments does not matter, and the ML fit with more parameters never fits worse."""
    y, v, x = data
    if np.ptp(x) < 1e-3:
        return
    full = am.meta_regression(y, v, moderators={"x": x}, method="ML")
    reduced = am.pool(y, v, method="ML")
    a, b = am.compare_models(full, reduced), am.compare_models(reduced, full)
    assert a.lrt == b.lrt and a.pvalue == b.pvalue
    assert a.lrt >= 0 and full.loglik >= reduced.loglik - 1e-9
    assert a.aic_full == pytest.approx(-2 * full.loglik + 2 * 3)
