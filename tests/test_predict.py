"""alsmeta.predict, blup and ranef against metafor's predict.rma, blup.rma.uni and ranef.rma.uni; their properties.

Reference values: tests/reference/metafor_methods.json ("predict_fits", "predict"), written by
tests/reference/generate_methods_reference.R (metafor 3.8-1, rma control threshold = tol = 1e-12).
Tolerance: relative 1e-8 (absolute 1e-10 near zero).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import alsmeta as am
from alsmeta.validation import AlsmetaInputError
from conftest import load_reference

pytestmark = pytest.mark.filterwarnings("ignore::alsmeta.AlsmetaWarning")

REF = load_reference("metafor_methods.json")

RTOL, ATOL = 1e-8, 1e-10


def _fit(spec: dict):
    ds = next(d for d in REF["datasets"] if d["name"] == spec["dataset"])
    yi, vi, labels = np.array(ds["yi"]), np.array(ds["vi"]), ds["labels"]
    if spec["mods"] is None:
        return am.pool(yi, vi, method=spec["method"], test=spec["test"], labels=labels, tol=1e-12, maxiter=1000)
    mods = pd.DataFrame({spec["mods"]: ds["mods"][spec["mods"]]})
    return am.meta_regression(yi, vi, mods, method=spec["method"], test=spec["test"], labels=labels)


def _cases():
    fits = {f["id"]: f for f in REF["predict_fits"]}
    return [pytest.param(fits[e["fit"]], e, id=e["id"]) for e in REF["predict"]]


def _close(actual, expected, what):
    expected = np.array([np.nan if x is None else x for x in expected], dtype=float)
    np.testing.assert_allclose(np.asarray(actual, dtype=float), expected, rtol=RTOL, atol=ATOL, err_msg=what)


@pytest.mark.parametrize(("spec", "entry"), _cases())
def test_predict_and_blup_match_metafor(spec, entry):
    fit = _fit(spec)
    np.testing.assert_allclose(np.atleast_1d(fit.estimate), spec["beta"], rtol=RTOL, atol=ATOL)
    transf = np.exp if "transf=exp" in entry["id"] else None
    if "/blup" in entry["id"] or entry["id"].endswith("/ranef"):
        res = (am.blup if "/blup" in entry["id"] else am.ranef)(fit, transf=transf)
        assert entry["ci_lb"] is None
    else:
        newmods = REF["newmods"] if "/newmods" in entry["id"] else None
        res = am.predict(fit, transf=transf, newmods=newmods)
        _close(res.ci_low, entry["ci_lb"], "ci_lb")
        _close(res.ci_high, entry["ci_ub"], "ci_ub")
    _close(res.pred, entry["pred"], "pred")
    _close(res.se, entry["se"], "se")
    _close(res.pi_low, entry["pi_lb"], "pi_lb")
    _close(res.pi_high, entry["pi_ub"], "pi_ub")


# --------------------------------------------------------------------------- properties
studies = st.integers(min_value=2, max_value=12).flatmap(
    lambda k: st.tuples(
        st.lists(st.floats(-3, 3, allow_nan=False), min_size=k, max_size=k),
        st.lists(st.floats(0.01, 2.0, allow_nan=False), min_size=k, max_size=k),
    )
)


@given(studies, st.sampled_from(["REML", "DL", "PM", "CE"]), st.sampled_from(["z", "t", "knha"]))
def test_predict_without_newmods_is_the_fit(data, method, test):
    yi, vi = data
    fit = am.pool(yi, vi, method=method, test=test)
    p = am.predict(fit)
    assert p.labels == ("estimate",)
    np.testing.assert_allclose(
        [p.pred[0], p.se[0], p.ci_low[0], p.ci_high[0]],
        [fit.estimate, fit.se, fit.ci_low, fit.ci_high],
        rtol=1e-12,
        atol=1e-14,
    )
    np.testing.assert_allclose([p.pi_low[0], p.pi_high[0]], [fit.pi_low, fit.pi_high], rtol=1e-12, atol=1e-14)
    json.dumps(p.to_dict())


@given(studies, st.floats(0.5, 0.999))
def test_intervals_nest_and_widen_with_level(data, level):
    yi, vi = data
    fit = am.pool(yi, vi, method="REML")
    narrow, wide = am.predict(fit, level=level * 0.5), am.predict(fit, level=level)
    assert wide.ci_low[0] <= narrow.ci_low[0] <= narrow.pred[0] <= narrow.ci_high[0] <= wide.ci_high[0]
    assert wide.pi_low[0] <= wide.ci_low[0] and wide.ci_high[0] <= wide.pi_high[0]


@given(studies)
def test_blup_lies_between_study_and_estimate(data):
    yi, vi = data
    fit = am.pool(yi, vi, method="DL")
    b = am.blup(fit)
    lo, hi = np.minimum(fit.yi, fit.estimate), np.maximum(fit.yi, fit.estimate)
    assert np.all(b.pred >= lo - 1e-12) and np.all(b.pred <= hi + 1e-12)
    assert np.all(b.se <= np.sqrt(fit.vi) + 1e-12)  # shrinkage never loses precision
    assert list(b.to_frame()["labels"]) == list(fit.labels)


def test_common_effect_fit_has_no_prediction_interval_and_blups_are_the_estimate(bcg):
    fit = am.pool(*bcg, method="CE")
    p = am.predict(fit)
    assert np.isnan(p.pi_low[0]) and np.isnan(p.pi_high[0]) and p.notes
    b = am.blup(fit)
    np.testing.assert_allclose(b.pred, fit.estimate, rtol=1e-14)
    u = am.ranef(fit)  # metafor: no random effects in a common-effect model, all 0
    assert np.all(u.pred == 0) and np.all(u.se == 0) and np.all(u.pi_low == 0) and np.all(u.pi_high == 0)


@given(studies, st.sampled_from(["REML", "DL", "PM"]), st.sampled_from(["z", "knha"]))
def test_blup_is_fitted_value_plus_random_effect(data, method, test):
    yi, vi = data
    fit = am.pool(yi, vi, method=method, test=test)
    b, u = am.blup(fit), am.ranef(fit)
    np.testing.assert_allclose(b.pred, fit.estimate + u.pred, rtol=1e-12, atol=1e-12)
    # the random effect has the residual's sign and is shrunk towards 0
    resid = fit.yi - fit.estimate
    assert np.all(np.abs(u.pred) <= np.abs(resid) + 1e-12) and np.all(u.pred * resid >= 0)
    assert np.all(u.pi_low <= u.pred) and np.all(u.pred <= u.pi_high)
    assert list(u.to_frame()["labels"]) == list(fit.labels) and "Predicted random effects" in u.summary()
    json.dumps(u.to_dict())


def test_meta_regression_newmods_at_the_study_values_equal_the_fitted_values(bcg):
    yi, vi = bcg
    ablat = np.array([44, 55, 42, 52, 13, 44, 19, 13, 27, 42, 18, 33, 33], dtype=float)
    year = np.arange(13, dtype=float)
    m = am.meta_regression(yi, vi, pd.DataFrame({"ablat": ablat, "year": year}), test="knha")
    fitted = am.predict(m)
    at_rows = am.predict(m, newmods=np.column_stack([ablat, year]))
    by_name = am.predict(m, newmods=pd.DataFrame({"year": year, "ablat": ablat}))
    for other in (at_rows, by_name):
        np.testing.assert_allclose(other.pred, fitted.pred, rtol=1e-13)
        np.testing.assert_allclose(other.pi_high, fitted.pi_high, rtol=1e-13)
    assert fitted.labels == m.labels and fitted.df == 13 - 3  # k - p
    one = am.predict(m, newmods=[30, 5])  # several moderators: a flat sequence is one prediction
    assert one.pred.shape == (1,)


def test_decreasing_transformation_keeps_bounds_ordered(bcg):
    fit = am.pool(*bcg)
    p = am.predict(fit, transf=lambda x: -x)
    assert p.ci_low[0] < p.ci_high[0] and p.pi_low[0] < p.pi_high[0]
    assert np.isnan(p.se[0]) and p.pred[0] == -fit.estimate


def test_bad_input_is_refused_naming_the_argument(bcg):
    fit = am.pool(*bcg)
    with pytest.raises(AlsmetaInputError, match="newmods"):
        am.predict(fit, newmods=[1.0])
    with pytest.raises(AlsmetaInputError, match="predict: expected"):
        am.predict(am.egger_test(fit))
    with pytest.raises(AlsmetaInputError, match="level"):
        am.predict(fit, level=0)
    m = am.meta_regression(*bcg, pd.DataFrame({"a": np.arange(13.0), "b": np.arange(13.0) ** 2}))
    with pytest.raises(AlsmetaInputError, match="newmods: expected 2"):
        am.predict(m, newmods=[[1.0, 2.0, 3.0]])
    with pytest.raises(AlsmetaInputError, match="no column for the term"):
        am.predict(m, newmods=pd.DataFrame({"a": [1.0]}))
    with pytest.raises(AlsmetaInputError, match="newmods\\[b\\]"):
        am.predict(m, newmods=[[1.0, float("nan")]])
    with pytest.raises(AlsmetaInputError, match="k = 0"):
        am.blup(am.pool([], []))
    with pytest.raises(AlsmetaInputError, match="ranef: expected"):
        am.ranef(am.egger_test(fit))
    with pytest.raises(AlsmetaInputError, match="level"):
        am.ranef(fit, level=-0.5)
