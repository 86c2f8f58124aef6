"""The single-fit fast path (engine/single.py) against the batched engine it repeats.

:func:`alsmeta.pool` fits one meta-analysis on Python floats and must give
the batched engine's numbers (the contract of ``tests/test_batch_engine.py``:
bit for bit). Its building blocks are held to the functions they stand in
for: numpy's summation order, scipy's root finder and scipy.stats'
distribution functions.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from scipy.optimize import elementwise

import alsmeta as am
from alsmeta.engine import distributions
from alsmeta.engine.batch import _ARRAY_FIELDS, pool_many
from alsmeta.engine.batch import TESTS as TESTS_ENGINE
from alsmeta.engine.estimators import METHODS as METHODS_ENGINE
from alsmeta.engine.single import COVERED_METHODS, COVERED_TESTS, QPROFILE_FIELDS, chandrupatla, fit_one, pairwise_sum

pytestmark = pytest.mark.filterwarnings("ignore::alsmeta.AlsmetaWarning")

METHODS = ["CE", "DL", "HE", "HS", "HSk", "SJ", "ML", "REML", "EB", "PM", "PMM"]
TESTS = ["z", "t", "knha", "adhoc"]


def _same(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


def _close(a: float, b: float, rel: float = 1e-12) -> bool:
    return _same(a, b) or abs(a - b) <= rel * max(abs(a), abs(b))


# ------------------------------------------------------------------ building blocks
finite = st.floats(-1e6, 1e6, allow_nan=False) | st.floats(-1e-6, 1e-6, allow_nan=False)


@given(st.lists(finite, max_size=300))
def test_pairwise_sum_is_numpy_sum(xs):
    assert pairwise_sum(xs) == np.sum(np.array(xs, dtype=float))


@given(
    st.floats(0, 1e3, allow_nan=False) | st.sampled_from([0.0, math.inf]),
    st.floats(1e-300, 1.0, exclude_max=True),
    st.integers(1, 100_000),
)
def test_distributions_are_scipy_stats_bit_for_bit(x, q, df):
    pairs = [
        (distributions.norm_sf(x), stats.norm.sf(x)),
        (distributions.norm_isf(q), stats.norm.isf(q)),
        (distributions.t_sf(x, df), stats.t.sf(x, df)),
        (distributions.t_isf(q, df), stats.t.isf(q, df)),
        (distributions.chi2_sf(x, df), stats.chi2.sf(x, df)),
        (distributions.chi2_isf(q, df), stats.chi2.isf(q, df)),
        (distributions.chi2_ppf(q, df), stats.chi2.ppf(q, df)),
    ]
    for i, (ours, theirs) in enumerate(pairs):
        assert _same(float(ours), float(theirs)), (i, ours, theirs)


@given(
    st.floats(-50, 50, allow_nan=False),
    st.floats(0.1, 3),
    st.sampled_from([1, 3, 5]),
    st.floats(1e-3, 10),
)
def test_chandrupatla_is_scipy_find_root(c, scale, power, width):
    def f(x):
        return -scale * (x - c) ** power - 1e-3 * (x - c)

    lo, hi = c - width * 0.7, c + width
    ours = chandrupatla(lambda x: float(f(np.float64(x))), lo, hi)
    res = elementwise.find_root(f, (np.array([lo]), np.array([hi])))
    assert ours[1] == bool(res.success[0])
    assert ours[0] == res.x[0]


# ------------------------------------------------------------------ the fit
@st.composite
def study_sets(draw, max_k=40):
    k = draw(st.integers(2, max_k))
    log_v = draw(st.lists(st.floats(-6, 2), min_size=k, max_size=k))
    spread = draw(st.sampled_from([0.0, 0.01, 0.3, 2.0]))
    z = draw(st.lists(st.floats(-3, 3), min_size=k, max_size=k))
    v = np.exp(np.array(log_v))
    y = 0.2 + np.array(z) * np.sqrt(v + spread)
    if draw(st.booleans()) and k > 3:  # ties and identical effects happen in real data
        y[: k // 2] = y[0]
    return y, v


@settings(max_examples=60)
@given(study_sets(), st.sampled_from(METHODS), st.sampled_from(TESTS), st.sampled_from([0.95, 0.9, 0.8]))
def test_fast_path_equals_batched_engine(data, method, test, level):
    y, v = data
    fast = fit_one(y.tolist(), v.tolist(), method, test, level, 1e-12, 100)
    batch = pool_many(y[None, :], v[None, :], method=method, test=test, level=level)
    fit = am.pool(y, v, method=method, test=test, level=level)
    for name in _ARRAY_FIELDS:
        want = float(getattr(batch, name)[0])
        assert _close(float(getattr(fit, name)), want), (name, getattr(fit, name), want)
        if fast is not None and name in fast:
            assert _close(float(fast[name]), want), (name, fast[name], want)


@pytest.mark.parametrize("method", METHODS)
def test_fast_path_covers_ordinary_data(method):
    rng = np.random.default_rng(4)
    taken = 0
    for _ in range(20):
        v = rng.uniform(0.01, 0.3, 12)
        y = rng.normal(0.3, np.sqrt(v + 0.05))
        for test in TESTS:
            taken += fit_one(y.tolist(), v.tolist(), method, test, 0.95, 1e-12, 100) is not None
    assert taken == 80


def test_fast_path_declines_what_it_does_not_cover():
    v = [0.1, 0.2, 0.3]
    assert fit_one([0.1], [0.1], "REML", "z", 0.95, 1e-12, 100) is None  # k = 1
    assert fit_one([1e-9, 2e-9, 3e-9], [1e-20, 2e-20, 3e-20], "REML", "z", 0.95, 1e-12, 100) is None  # rescaled
    assert fit_one([1e7, 1e7 + 1e-3, 1e7], v, "DL", "z", 0.95, 1e-12, 100) is None  # centred
    assert fit_one([0.1, 1.7, 3.2], v, "REML", "z", 0.95, 1e-12, 1) is None  # scoring does not settle
    assert fit_one([0.1, 1.7, 3.2], v, "NEW", "z", 0.95, 1e-12, 100) is None  # an estimator it does not repeat


def test_fast_path_repeats_only_what_the_engine_has():
    """Names the batched engine has but the fast path does not repeat are fitted by the engine (see above)."""
    assert set(METHODS_ENGINE) >= COVERED_METHODS
    assert set(TESTS_ENGINE) >= COVERED_TESTS


# ------------------------------------------------------------------ the Q-profile interval on first use
def test_interval_is_computed_on_first_use_and_kept():
    rng = np.random.default_rng(9)
    v = rng.uniform(0.01, 0.2, 15)
    y = rng.normal(0.3, np.sqrt(v + 0.1))
    fit = am.pool(y, v, method="REML")
    assert fit.qprofile is not None and fit.qprofile._bounds is None
    low = fit.tau2_ci_low
    kept = fit.qprofile._bounds
    assert kept is not None and fit.qprofile.bounds() is kept
    batch = pool_many(y[None, :], v[None, :], method="REML")
    assert low == batch.tau2_ci_low[0]
    for name in QPROFILE_FIELDS:
        assert getattr(fit, name) == getattr(batch, name)[0]


@pytest.mark.parametrize(
    ("kwargs", "defined"),
    [({"method": "CE"}, False), ({"method": "DL", "tau2": 0.1}, False), ({"method": "PM"}, True)],
)
def test_interval_only_where_defined(kwargs, defined):
    fit = am.pool([0.1, 0.5, 0.9, 0.2], [0.01, 0.02, 0.03, 0.04], **kwargs)
    assert all(np.isfinite(getattr(fit, n)) == defined for n in QPROFILE_FIELDS)


def test_interval_for_rescaled_data_goes_through_the_batched_engine():
    y = np.array([0.1, 0.5, 0.9, 0.2]) * 1e-12
    v = np.array([0.01, 0.02, 0.03, 0.04]) * 1e-24
    fit = am.pool(y, v)
    batch = pool_many(y[None, :], v[None, :])
    for name in QPROFILE_FIELDS:
        assert getattr(fit, name) == getattr(batch, name)[0]


def test_to_dict_keeps_its_keys_and_order():
    fit = am.pool([0.1, 0.5, 0.9, 0.2], [0.01, 0.02, 0.03, 0.04])
    keys = list(fit.to_dict())
    start = keys.index("tau2")
    assert keys[start : start + 11] == [
        "tau2",
        "tau2_se",
        "tau2_ci_low",
        "tau2_ci_high",
        "i2",
        "i2_ci_low",
        "i2_ci_high",
        "h2",
        "h2_ci_low",
        "h2_ci_high",
        "q",
    ]
    assert "qprofile" not in keys
    json.dumps(fit.to_dict())
    assert "Q-profile 95% CI" in fit.summary()


def test_pool_needs_neither_pandas_nor_scipy_stats():
    """``import alsmeta`` and a first ``pool()`` import only numpy and the scipy modules they need."""
    code = (
        "import sys, alsmeta; fit = alsmeta.pool([0.1, 0.5, 0.2], [0.01, 0.02, 0.03]); fit.tau2_ci_low; "
        "print(sorted(m for m in ('pandas', 'scipy.stats', 'matplotlib', 'statsmodels') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
