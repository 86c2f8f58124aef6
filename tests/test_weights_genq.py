"""pool(weights=) and method="GENQ" against metafor's rma(yi, vi, weights=, method=).

References: tests/reference/metafor_methods.json section ``weights`` (GENQ, REML, DL, ML with
weights 1/vi, 1/sei, 1 and total sample size on dat.bcg, dat.lee2004, dat.hackshaw1998 and a
homogeneous set) and the GENQ fits (weights 1/vi, every test) of metafor_pool.json. Everything
here is closed form given tau2 (REML/ML tau2 come from the tested engine): relative 1e-9
(absolute 1e-11 near 0); measured worst 1.1e-11.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import alsmeta as am
from alsmeta.engine.weighted import genq_tau2
from conftest import load_reference

REF = load_reference("metafor_methods.json")
POOL_REF = load_reference("metafor_pool.json")
DATA = {d["name"]: d for d in REF["datasets"]}
RTOL, ATOL = 1e-9, 1e-11

FIELDS = {
    "beta": "estimate",
    "se": "se",
    "zval": "statistic",
    "pval": "pvalue",
    "ci_lb": "ci_low",
    "ci_ub": "ci_high",
    "tau2": "tau2",
    "se_tau2": "tau2_se",
    "QE": "q",
    "QEp": "q_pvalue",
    "I2": "i2",
    "H2": "h2",
}


def _first(x):
    return x[0] if isinstance(x, list) else x


def _close(got, expected, what):
    if expected is None:
        assert math.isnan(got), f"{what}: {got!r}, metafor NA"
        return
    assert got == pytest.approx(expected, rel=RTOL, abs=ATOL), f"{what}: {got!r} vs metafor {expected!r}"


WEIGHT_CASES = [e for e in REF["weights"] if e["mods"] is None]


@pytest.mark.parametrize(
    "ref", WEIGHT_CASES, ids=[f"{e['dataset']}-{e['method']}-{e['weights_name']}" for e in WEIGHT_CASES]
)
def test_weights_match_metafor(ref):
    assert "failed" not in ref
    d = DATA[ref["dataset"]]
    fit = am.pool(d["yi"], d["vi"], method=ref["method"], weights=ref["weights"])
    for rfield, afield in FIELDS.items():
        _close(getattr(fit, afield), _first(ref[rfield]), afield)
    np.testing.assert_allclose(fit.weights, ref["weights_pct"], rtol=RTOL, atol=ATOL)
    assert fit.user_weights is not None
    assert fit.to_dict()["user_weights"] == pytest.approx(ref["weights"])


GENQ_POOL = [(ds, f) for ds in POOL_REF["datasets"] for f in ds["fits"] if f["method"] == "GENQ" and ds["k"] >= 2]


@pytest.mark.filterwarnings("ignore:Knapp-Hartung:alsmeta.AlsmetaWarning")
@pytest.mark.parametrize(
    ("ds", "ref"), GENQ_POOL, ids=[f"{ds['name']}-{f['test']}-{f.get('level', 95)}" for ds, f in GENQ_POOL]
)
def test_genq_every_test_matches_metafor(ds, ref):
    """GENQ with weights 1/vi under the z, t, Knapp-Hartung and ad hoc tests (metafor_pool.json)."""
    yi, vi = np.asarray(ds["yi"]), np.asarray(ds["vi"])
    fit = am.pool(yi, vi, method="GENQ", weights=1 / vi, test=ref["test"], level=ref.get("level", 95))
    for rfield in ("estimate", "se", "zval", "pval", "ci_lb", "ci_ub", "tau2", "se_tau2", "I2", "H2", "pi_lb", "pi_ub"):
        afield = {"zval": "statistic", "pval": "pvalue", "se_tau2": "tau2_se", "pi_lb": "pi_low", "pi_ub": "pi_high"}
        name = afield.get(rfield, FIELDS.get(rfield, rfield))
        expected = ref[rfield]
        if expected is None or not np.isfinite(expected):
            continue
        _close(getattr(fit, name), expected, name)


def test_genq_needs_weights():
    with pytest.raises(am.AlsmetaInputError, match="weights"):
        am.pool([0.1, 0.2, 0.3], [0.01, 0.02, 0.03], method="GENQ")


@pytest.mark.parametrize(
    ("weights", "match"),
    [
        ([1.0, -1.0, 1.0], "weights.*(negative|>= 0|Study 2)"),
        ([1.0, float("inf"), 1.0], "weights"),
        ([0.0, 0.0, 0.0], "weights: every weight is 0"),
        ([1.0, 1.0], "weights: 2 weights given for 3 studies"),
        ([1.0, None, 1.0], "(row|Study) 2, column .weights."),
        ("abc", "weights"),
    ],
)
def test_bad_weights_are_refused_by_name(weights, match):
    with pytest.raises(am.AlsmetaInputError, match=match):
        am.pool([0.1, 0.2, 0.3], [0.01, 0.02, 0.03], weights=weights)


def test_missing_weight_dropped_with_na_action_drop():
    with pytest.warns(am.AlsmetaWarning):
        fit = am.pool([0.1, 0.2, 0.3, 0.5], [0.01, 0.02, 0.03, 0.02], weights=[1, np.nan, 2, 3], na_action="drop")
    assert fit.k == 3
    np.testing.assert_allclose(fit.user_weights, [1, 2, 3])


def test_zero_weight_study_is_left_out_of_the_estimate():
    y, v = [0.1, 0.9, 0.3], [0.01, 0.02, 0.03]
    fit = am.pool(y, v, method="DL", weights=[1.0, 0.0, 1.0])
    assert fit.estimate == pytest.approx(0.2, rel=1e-14)


effects = st.lists(st.floats(-3, 3), min_size=3, max_size=12)


@st.composite
def weighted_data(draw):
    y = np.array(draw(effects))
    k = y.size
    v = np.array(draw(st.lists(st.floats(0.01, 2.0), min_size=k, max_size=k)))
    a = np.array(draw(st.lists(st.floats(0.1, 10.0), min_size=k, max_size=k)))
    return y, v, a


@given(weighted_data(), st.floats(1e-3, 1e3))
def test_weights_are_scale_free(data, c):
    """Multiplying every weight by a constant changes nothing (weights enter only as ratios)."""
    y, v, a = data
    f1 = am.pool(y, v, method="GENQ", weights=a)
    f2 = am.pool(y, v, method="GENQ", weights=c * a)
    for name in ("estimate", "se", "tau2", "tau2_se"):
        assert getattr(f2, name) == pytest.approx(getattr(f1, name), rel=1e-8, abs=1e-12)


@given(weighted_data())
def test_genq_special_cases_are_dl_and_he(data):
    """GENQ with weights 1/v is DerSimonian-Laird; with unit weights it is Hedges' estimator."""
    y, v, _ = data
    X = np.ones((y.size, 1))
    assert genq_tau2(y, v, X, 1 / v).tau2 == pytest.approx(am.pool(y, v, method="DL").tau2, rel=1e-8, abs=1e-12)
    assert genq_tau2(y, v, X, np.ones_like(v)).tau2 == pytest.approx(
        am.pool(y, v, method="HE").tau2, rel=1e-8, abs=1e-12
    )


@given(weighted_data())
def test_inverse_variance_weights_reproduce_the_unweighted_fit(data):
    """User weights 1/(v + tau2) give the ordinary random-effects estimate and SE."""
    y, v, _ = data
    fit = am.pool(y, v, method="DL")
    wfit = am.pool(y, v, method="DL", weights=1 / (v + fit.tau2))
    assert wfit.estimate == pytest.approx(fit.estimate, rel=1e-9, abs=1e-12)
    assert wfit.se == pytest.approx(fit.se, rel=1e-9)
