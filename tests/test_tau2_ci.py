"""tau2_ci (Q-profile, profile likelihood, Biggerstaff-Jackson / generalised Q) against metafor's confint().

References:
- metafor_methods.json section ``tau2_ci``: confint(type="QP"|"PL"|"GENQ") for REML, ML, DL and
  GENQ fits, intercept-only and with a moderator, levels 95 and 90. QP and PL were run with
  tol = 1e-12: relative 1e-6 (absolute 1e-8), the tolerance of the other iterative reference
  tests (measured worst: 1.2e-10 absolute on tau2, 4e-9 absolute on I2 in percent).
- metafor's confint(type="GENQ") ignores control$tol (uniroot's default tolerance, about 1.2e-4),
  so its GENQ bounds are compared at absolute 2e-4 only, and metafor_bj.json (same algorithm,
  metafor's own objective, uniroot tol = 1e-12) at relative 1e-6 (measured worst 1.4e-9).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import integrate, stats

import alsmeta as am
from alsmeta.engine.quadform import quadform_sf
from conftest import load_reference

REF = load_reference("metafor_methods.json")
BJ = load_reference("metafor_bj.json")
DATA = {d["name"]: d for d in REF["datasets"]}
TYPES = {"QP": "qprofile", "PL": "profile", "GENQ": "bj"}


def _weights(d, name):
    vi = np.asarray(d["vi"])
    return {"inv_vi": 1 / vi, "inv_sei": 1 / np.sqrt(vi), "unit": np.ones_like(vi), None: None}[name]


def _fit(d, method, mods, weights_name, level):
    if mods is not None:
        assert weights_name in (None, "inv_vi")  # GENQ with 1/v weights: the DL meta-regression
        method = "DL" if method == "GENQ" else method
        return am.meta_regression(d["yi"], d["vi"], moderators={mods: d["mods"][mods]}, method=method, level=level)
    return am.pool(d["yi"], d["vi"], method=method, weights=_weights(d, weights_name), level=level)


CASES = [
    e
    for e in REF["tau2_ci"]
    if not e.get("failed") and not (e["mods"] is not None and e["weights_name"] not in (None, "inv_vi"))
]


@pytest.mark.parametrize("ref", CASES, ids=[e["call"].replace(" ", "") + e["dataset"] for e in CASES])
def test_matches_metafor_confint(ref):
    d = DATA[ref["dataset"]]
    fit = _fit(d, ref["method"], ref["mods"], ref["weights_name"], ref["level"])
    res = am.tau2_ci(fit, method=TYPES[ref["type"]])
    assert res.tau2 == pytest.approx(ref["tau2_estimate"], rel=1e-6, abs=1e-10)
    if ref["type"] == "GENQ":
        tol = {"abs": 2e-4}
        assert res.ci_low == pytest.approx(ref["tau2_ci"][0], **tol)
        assert res.ci_high == pytest.approx(ref["tau2_ci"][1], **tol)
        return
    tol = {"rel": 1e-6, "abs": 1e-8}
    for ours, theirs in (("ci", "tau2_ci"), ("tau_ci", "tau_ci"), ("i2_ci", "I2_ci"), ("h2_ci", "H2_ci")):
        assert getattr(res, f"{ours}_low") == pytest.approx(ref[theirs][0], **tol), ours
        assert getattr(res, f"{ours}_high") == pytest.approx(ref[theirs][1], **tol), ours
    assert res.level == pytest.approx(ref["level"] / 100)


BJ_CASES = [e for e in BJ["cases"] if e["mods"] is None or e["weights_name"] == "inv_vi"]


@pytest.mark.parametrize(
    "ref", BJ_CASES, ids=[f"{e['dataset']}-{e['weights_name']}-{e['mods']}-{e['level']}" for e in BJ_CASES]
)
def test_biggerstaff_jackson_matches_tight_metafor(ref):
    d = DATA[ref["dataset"]]
    if ref["mods"] is None:
        fit = am.pool(d["yi"], d["vi"], method="GENQ", weights=ref["weights"], level=ref["level"])
    else:
        fit = _fit(d, "DL", ref["mods"], "inv_vi", ref["level"])
    res = am.tau2_ci(fit, method="bj")
    assert res.ci_low == pytest.approx(ref["tau2_ci"][0], rel=1e-6, abs=1e-10)
    assert res.ci_high == pytest.approx(ref["tau2_ci"][1], rel=1e-6, abs=1e-10)
    assert res.null_set == ref["null_set"]


def test_qprofile_agrees_with_the_pool_fields(bcg):
    yi, vi = bcg
    fit = am.pool(yi, vi, method="REML", level=0.9)
    res = am.tau2_ci(fit)
    assert res.method == "qprofile" and res.level == 0.9
    assert res.ci_low == pytest.approx(fit.tau2_ci_low, rel=1e-9)
    assert res.ci_high == pytest.approx(fit.tau2_ci_high, rel=1e-9)
    assert res.to_dict()["ci_low"] == res.ci_low
    assert res.to_frame().loc[0, "ci_high"] == res.ci_high
    assert "tau^2" in res.summary()


def test_null_set_is_flagged():
    fit = am.pool([0.10, 0.12, 0.09, 0.11, 0.10], [0.010, 0.020, 0.015, 0.010, 0.030], method="DL")
    for method in ("qprofile", "bj"):
        res = am.tau2_ci(fit, method=method)
        assert (res.ci_low, res.ci_high, res.null_set) == (0.0, 0.0, True)
        assert res.notes


def test_bad_input_is_refused_by_name(bcg):
    yi, vi = bcg
    with pytest.raises(am.AlsmetaInputError, match="common-effect"):
        am.tau2_ci(am.pool(yi, vi, method="CE"))
    with pytest.raises(am.AlsmetaInputError, match="fixed by the user"):
        am.tau2_ci(am.pool(yi, vi, tau2=0.1))
    with pytest.raises(am.AlsmetaInputError, match="1 study"), pytest.warns(am.AlsmetaWarning):
        am.tau2_ci(am.pool([0.1], [0.01], test="knha"))
    with pytest.raises(am.AlsmetaInputError, match="'profile' needs an ML or REML fit"):
        am.tau2_ci(am.pool(yi, vi, method="DL"), method="profile")
    with pytest.raises(am.AlsmetaInputError, match="method: must be one of"):
        am.tau2_ci(am.pool(yi, vi), method="wald")
    with pytest.raises(am.AlsmetaInputError, match="level"):
        am.tau2_ci(am.pool(yi, vi), level=0)
    with pytest.raises(am.AlsmetaInputError, match="fit: expected the result"):
        am.tau2_ci([0.1, 0.2])


@st.composite
def _data(draw):
    k = draw(st.integers(3, 10))
    y = np.array(draw(st.lists(st.floats(-2, 2), min_size=k, max_size=k)))
    v = np.array(draw(st.lists(st.floats(0.01, 1.0), min_size=k, max_size=k)))
    return y, v


@given(_data(), st.sampled_from(["qprofile", "profile", "bj"]))
def test_intervals_are_nested_in_the_level(data, method):
    """A 90% interval lies inside the 95% one, and each bound is >= 0."""
    y, v = data
    fit = am.pool(y, v, method="REML")
    wide, narrow = am.tau2_ci(fit, method, level=0.95), am.tau2_ci(fit, method, level=0.90)
    assert 0 <= wide.ci_low <= narrow.ci_low + 1e-12
    assert narrow.ci_low <= narrow.ci_high <= wide.ci_high + 1e-12 * max(1.0, wide.ci_high)


@given(st.floats(0.05, 30.0), st.floats(0.1, 5.0), st.floats(0.1, 5.0))
def test_quadform_tail_of_two_terms_matches_convolution(q, a, b):
    """P(a X + b Y > q) for independent chi^2_1 X, Y, by one-dimensional integration."""
    exact = integrate.quad(lambda x: stats.chi2.pdf(x, 1) * stats.chi2.sf((q - a * x) / b, 1), 0, q / a, limit=200)[0]
    exact += stats.chi2.sf(q / a, 1)
    assert quadform_sf(q, np.array([a, b])) == pytest.approx(exact, abs=1e-8)


@given(st.floats(0.05, 40.0), st.integers(1, 12))
def test_quadform_tail_with_equal_weights_is_chi2(q, m):
    assert quadform_sf(q, np.full(m, 2.0)) == pytest.approx(stats.chi2.sf(q / 2.0, m), rel=1e-12)
    assert quadform_sf(q, 2.0 * (1 + 1e-9 * np.arange(m))) == pytest.approx(stats.chi2.sf(q / 2.0, m), abs=1e-7)
