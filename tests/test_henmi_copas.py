"""henmi_copas against metafor's hc() (metafor_methods.json section ``hc``).

hc() solves its interval equation with uniroot around integrate() at integrate's default
rel.tol (about 1.2e-4). The entries ``tight_integrate`` run metafor's own hc.rma.uni with
integrate(rel.tol = 1e-13) and uniroot(tol = 1e-12): compared at relative 1e-9 (measured worst
2e-13 absolute). The entries with metafor's default integrate are within 5e-5 (its own error).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, optimize, special, stats

import alsmeta as am
from alsmeta.models.henmi_copas import _half_width
from conftest import load_reference

REF = load_reference("metafor_methods.json")
DATA = {d["name"]: d for d in REF["datasets"]}


@pytest.mark.parametrize("ref", REF["hc"], ids=[f"{e['dataset']}-{e['level']}-{e['control_name']}" for e in REF["hc"]])
def test_matches_metafor_hc(ref):
    d = DATA[ref["dataset"]]
    fit = am.pool(d["yi"], d["vi"], method="DL", level=ref["level"])
    res = am.henmi_copas(fit)
    exact = {"rel": 1e-12, "abs": 1e-14}
    assert res.estimate == pytest.approx(ref["beta"], **exact)
    assert res.se == pytest.approx(ref["se"], **exact)
    assert res.tau2 == pytest.approx(ref["tau2"], **exact)
    assert res.fit_ci_low == pytest.approx(ref["rma_ci_lb"], rel=1e-10)
    tol = {"rel": 1e-9, "abs": 1e-12} if ref["control_name"] == "tight_integrate" else {"abs": 5e-5}
    assert res.ci_low == pytest.approx(ref["ci_lb"], **tol)
    assert res.ci_high == pytest.approx(ref["ci_ub"], **tol)


def test_bad_input_is_refused_by_name(bcg):
    yi, vi = bcg
    with pytest.raises(am.AlsmetaInputError, match="at least 2 studies"):
        am.henmi_copas(am.pool([0.1], [0.01]))
    with pytest.raises(am.AlsmetaInputError, match="weights"):
        am.henmi_copas(am.pool(yi, vi, weights=np.ones_like(yi)))
    with pytest.raises(am.AlsmetaInputError, match="henmi_copas"):
        am.henmi_copas((yi, vi))


def test_result_protocol(bcg):
    res = am.henmi_copas(am.pool(*bcg))
    assert res.to_dict()["ci_low"] == res.ci_low
    assert res.to_frame().loc[0, "estimate"] == res.estimate
    assert "Henmi-Copas" in res.summary()


@st.composite
def _data(draw):
    k = draw(st.integers(3, 10))
    y = np.array(draw(st.lists(st.floats(-2, 2), min_size=k, max_size=k)))
    v = np.array(draw(st.lists(st.floats(0.01, 1.0), min_size=k, max_size=k)))
    return y, v


@given(_data())
def test_interval_is_centred_on_the_common_effect_and_grows_with_the_level(data):
    """Symmetric about the common-effect estimate; the 95% interval contains the 90% one.

    (It can be narrower than the z interval: for y = (0, 0, 0), v = 1 metafor's hc() gives
    +-1.0607 against +-1.1316, and so does alsmeta.)
    """
    y, v = data
    res = am.henmi_copas(am.pool(y, v, method="DL"))
    narrow = am.henmi_copas(am.pool(y, v, method="DL", level=0.9))
    assert res.estimate - res.ci_low == pytest.approx(res.ci_high - res.estimate, rel=1e-12)
    assert res.estimate == pytest.approx(am.pool(y, v, method="CE").estimate, rel=1e-12, abs=1e-15)
    assert res.ci_low < narrow.ci_low <= narrow.ci_high < res.ci_high
    assert math.isfinite(res.ci_low)


def test_homogeneous_example_agrees_with_metafor():
    """hc(rma(c(0, 0, 0), c(1, 1, 1), method="DL"), control=list(tol=1e-12)): +-1.06068902492371 (default integrate)."""
    res = am.henmi_copas(am.pool([0.0, 0.0, 0.0], [1.0, 1.0, 1.0], method="DL"))
    assert res.ci_high == pytest.approx(1.06068902492371, abs=5e-8)


def _half_width_by_adaptive_quadrature(k, w, tau2, alpha):
    """The interval equation as first written: QUADPACK on a scalar integrand (the reference for the fixed rule)."""
    w1 = w.sum()
    w2, w3, w4 = (np.sum(w**j) / w1 for j in (2, 3, 4))
    vr = 1.0 + tau2 * w2
    d3 = w3 - w2**2

    def integrand(r, x):
        rr = np.sqrt(vr) * r
        c = rr * rr / vr**2 - 1.0 / vr
        eq = (k - 1) + tau2 * (w1 - w2) + tau2**2 * c * d3
        vq = (
            2 * (k - 1)
            + 4 * tau2 * (w1 - w2)
            + 2 * tau2**2 * (w1 * w2 - 2 * w3 + w2**2)
            + 4 * tau2**2 * c * d3
            + 4 * tau2**3 * c * (w4 - 2 * w2 * w3 + w2**3)
            + 2 * tau2**4 * (1.0 / vr**2 - 2.0 * rr * rr / vr**3) * d3**2
        )
        finv = (w1 / w2 - 1.0) * ((r / x) ** 2 - 1.0) + (k - 1)
        return special.gammainc(eq * eq / vq, max(finv, 0.0) * eq / vq) * stats.norm.pdf(r)

    def eqn(x):
        val, _ = integrate.quad(integrand, x, np.inf, args=(x,), epsabs=1e-15, epsrel=1e-13, limit=500)
        return val - alpha / 2.0

    return optimize.brentq(eqn, 1e-12, 2.0, xtol=1e-15, rtol=4 * np.finfo(float).eps, maxiter=1000)


@settings(max_examples=40)
@given(
    st.integers(2, 200),
    st.integers(0, 2**32 - 1),
    st.sampled_from([0.0, 0.01, 0.3, 5.0]),
    st.sampled_from([0.2, 0.05, 0.001]),
)
def test_fixed_rule_matches_adaptive_quadrature(k, seed, tau2, alpha):
    """The 1400-point Gauss-Legendre rule of _half_width gives QUADPACK's root to 1e-12 relative.

    Where the equation has no root in (0, 2] (small alpha with no heterogeneity), both refuse.
    """
    w = 1.0 / np.exp(np.random.default_rng(seed).uniform(-5.0, 2.0, k))
    try:
        expected = _half_width_by_adaptive_quadrature(k, w, tau2, alpha)
    except ValueError:
        with pytest.raises(ValueError, match="different signs"):
            _half_width(k, w, tau2, alpha)
        return
    assert _half_width(k, w, tau2, alpha) == pytest.approx(expected, rel=1e-12)
