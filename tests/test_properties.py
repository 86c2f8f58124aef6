"""Property-based tests over the public API (issue 14): never a silently wrong number.

For any finite input in a wide range - k = 1 to 50 studies, effects and
variances from 1e-30 to 1e30 (independently per study), ties and zero
effects - every public statistic is finite where it is defined and obeys the
invariances of the model:

* scale: ``yi * c``, ``vi * c^2`` scales effects by ``c`` and tau^2 by
  ``c^2`` and leaves p-values, I^2, H^2 and Q unchanged;
* permutation of the studies changes nothing;
* a study with a huge variance (1e12 times the largest) changes nothing
  beyond tolerance where the estimator gives it no weight (common effect,
  fixed tau^2, ML, REML);

or :class:`alsmeta.AlsmetaInputError` is raised. Example counts come from
the hypothesis profile (``ci`` by default, ``HYPOTHESIS_PROFILE=nightly``
for many more; see ``tests/conftest.py``).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import alsmeta as am
from alsmeta.validation import AlsmetaInputError

pytestmark = pytest.mark.filterwarnings("ignore::alsmeta.AlsmetaWarning")

METHODS = list(am.METHODS)
TESTS = ["z", "t", "knha", "adhoc"]


@st.composite
def magnitudes(draw, n: int, lo: int = -30, hi: int = 30, zero: bool = False, signed: bool = True) -> np.ndarray:
    """``n`` numbers with magnitudes 10^lo .. 10^hi, with ties (and zeros) drawn on purpose."""
    pool = draw(st.lists(st.floats(float(lo), float(hi)), min_size=1, max_size=max(1, n)))
    picks = draw(st.lists(st.integers(0, len(pool) - 1), min_size=n, max_size=n))  # repeats = ties
    x = 10.0 ** np.array([pool[i] for i in picks])
    if signed:
        x = x * np.array(draw(st.lists(st.sampled_from([-1.0, 1.0]), min_size=n, max_size=n)))
    if zero:
        x = np.where(np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n))), 0.0, x)
    return x


@st.composite
def studies(draw, min_k: int = 1, max_k: int = 50, max_span_v: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """Effects and variances at magnitudes 1e-30 .. 1e30; within one meta-analysis the effects span up
    to 30 orders of magnitude and the variances up to ``max_span_v`` (alsmeta refuses variance ratios
    above 1e8, see :func:`alsmeta.validation.out_of_range`)."""
    k = draw(st.integers(min_k, max_k))
    span_y = draw(st.integers(0, 30))
    span_v = draw(st.integers(0, max_span_v))
    centre_y = draw(st.integers(-30 + span_y // 2, 30 - span_y // 2))
    centre_v = draw(st.integers(-30 + span_v // 2, 30 - span_v // 2))
    yi = draw(magnitudes(k, centre_y - span_y // 2, centre_y + span_y // 2, zero=True))
    vi = draw(magnitudes(k, centre_v - span_v // 2, centre_v + span_v // 2, signed=False))
    return yi, vi


def _pool(yi, vi, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return am.pool(yi, vi, **kw)


def _near(a: float, b: float, scale: float, rel: float = 1e-6) -> bool:
    """Equal within ``rel`` of the larger value or of the natural ``scale`` of the quantity."""
    if np.isnan(a) or np.isnan(b):
        return bool(np.isnan(a) and np.isnan(b))
    return abs(a - b) <= rel * max(abs(a), abs(b), scale)


def _assert_sane(fit: am.PooledResult) -> None:
    """Finite where defined, and in range."""
    for name in ("estimate", "se", "ci_low", "ci_high", "tau2", "i2", "h2", "q", "q_pvalue"):
        assert np.isfinite(getattr(fit, name)), name
    if fit.se == 0:  # Knapp-Hartung with no residual spread: degenerate (p = 0, or NaN at an estimate of 0), said so
        assert fit.test == "knha" and any("degenerate" in n for n in fit.notes)
    else:
        assert fit.se > 0 and np.isfinite(fit.statistic) and 0 <= fit.pvalue <= 1
    assert fit.ci_low <= fit.estimate <= fit.ci_high
    assert 0 <= fit.q_pvalue <= 1 and 0 <= fit.i2 <= 100 and fit.h2 >= 0
    if fit.method != "CE":  # H2 = Q / (k - 1) of the common-effect model may be below 1 (as metafor)
        assert fit.h2 >= 1 - 1e-12
    assert fit.tau2 >= 0
    if fit.method != "CE":
        assert np.isfinite(fit.pi_low) and np.isfinite(fit.pi_high)
        if fit.k >= 2:
            assert np.isfinite(fit.tau2_se), "tau2_se"
            assert np.isfinite(fit.tau2_ci_low) and np.isfinite(fit.tau2_ci_high), "Q-profile"
            assert fit.tau2_ci_low <= fit.tau2_ci_high


def _input_noise(yi: np.ndarray, vi: np.ndarray) -> float:
    """Rounding of the effects themselves, in standard errors of the most precise study.

    Scaling ``yi * c`` rounds each effect by up to 1.1e-16 relative; when the effects are 1e12
    standard errors from 0, no algorithm can give the p-value to better than that.
    """
    return 1e-15 * float(np.abs(yi).max(initial=0.0)) * np.sqrt(yi.size) / float(np.sqrt(vi.min()))


def _assert_equivalent(a: am.PooledResult, b: am.PooledResult, c: float = 1.0, rel: float = 1e-6) -> None:
    """``b`` is ``a`` on data scaled by ``c`` (c = 1: the same data, e.g. permuted), within the input's rounding."""
    tol = rel + 10.0 * _input_noise(a.yi, a.vi)
    unit = np.sqrt(np.mean(a.vi) + a.tau2)  # the natural scale of an effect
    for name in ("estimate", "ci_low", "ci_high", "pi_low", "pi_high"):
        assert _near(getattr(a, name), getattr(b, name) / c, unit, tol), name
    assert _near(a.tau2, b.tau2 / c**2, np.mean(a.vi), tol), "tau2"
    if a.se == 0 or b.se == 0:  # degenerate Knapp-Hartung (warned): nothing more to compare
        assert a.test == "knha"
        return
    assert _near(a.se, b.se / c, a.se, tol), "se"
    for name in ("pvalue", "q_pvalue"):
        assert _near(getattr(a, name), getattr(b, name), 1.0, tol), name
    assert _near(a.i2, b.i2, 100.0, tol) and _near(a.h2, b.h2, 1.0, tol) and _near(a.q, b.q, a.k, tol)


# ------------------------------------------------------------------ pool
@given(data=studies(), method=st.sampled_from(METHODS), test=st.sampled_from(TESTS))
def test_pool_is_finite_and_in_range(data, method, test):
    yi, vi = data
    try:
        fit = _pool(yi, vi, method=method, test=test)
    except AlsmetaInputError:
        return
    _assert_sane(fit)


@given(data=studies(), method=st.sampled_from(METHODS), test=st.sampled_from(TESTS), log_c=st.floats(-40, 40))
def test_pool_scales_with_the_data(data, method, test, log_c):
    yi, vi = data
    c = 10.0**log_c
    try:
        a = _pool(yi, vi, method=method, test=test)
        b = _pool(yi * c, vi * c * c, method=method, test=test)
    except AlsmetaInputError:
        return
    assume(np.all(np.isfinite(yi * c)) and np.all((vi * c * c > 1e-300) & (vi * c * c < 1e300)))
    _assert_equivalent(a, b, c)


@given(data=studies(min_k=2), method=st.sampled_from(METHODS), seed=st.integers(0, 2**32 - 1))
def test_pool_ignores_the_order_of_studies(data, method, seed):
    yi, vi = data
    perm = np.random.default_rng(seed).permutation(yi.size)
    try:
        a = _pool(yi, vi, method=method, test="knha")
    except AlsmetaInputError:
        return
    _assert_equivalent(a, _pool(yi[perm], vi[perm], method=method, test="knha"))


@given(
    data=studies(min_k=1, max_k=30, max_span_v=1),
    method=st.sampled_from(["CE", "ML", "REML", "fixed"]),
    z=st.floats(-3, 3),
)
def test_a_study_with_huge_variance_changes_nothing(data, method, z):
    yi, vi = data
    kw = {"method": "DL", "tau2": float(np.mean(vi))} if method == "fixed" else {"method": method}
    try:
        a = _pool(yi, vi, **kw)
        v_new = min((vi.max() + a.tau2) * 1e7, vi.min() * 0.99e8)  # huge next to every study's variance
        y_new = a.estimate + z * np.sqrt(vi.max() + a.tau2)  # an ordinary effect
        b = _pool(np.append(yi, y_new), np.append(vi, v_new), **kw)
    except AlsmetaInputError:
        return
    share = (vi.max() + a.tau2) / v_new  # the new study's weight relative to the smallest one
    unit = np.sqrt(np.mean(vi) + a.tau2)
    tol = max(1e-6, 50 * share * a.k)
    assert _near(a.estimate, b.estimate, unit, tol) and _near(a.se, b.se, a.se, tol)
    assert _near(a.tau2, b.tau2, np.mean(vi), tol)


@given(data=studies(min_k=1, max_k=20), method=st.sampled_from(METHODS))
def test_pool_many_rows_are_pool(data, method):
    yi, vi = data
    try:
        fit = _pool(yi, vi, method=method)
    except AlsmetaInputError:
        return
    pad = np.append(yi, np.nan), np.append(vi, np.nan)
    mask = np.append(np.ones(yi.size, bool), False)
    b = am.pool_many(pad[0][None], pad[1][None], mask[None], method=method)
    for name in ("estimate", "se", "tau2", "pvalue", "i2", "q"):
        assert np.array_equal(getattr(b, name)[0], getattr(fit, name), equal_nan=True), name


# ------------------------------------------------------------------ bias tests
@given(data=studies(min_k=3, max_k=40), log_c=st.floats(-30, 30))
def test_bias_tests_are_defined_or_explained_and_scale_free(data, log_c):
    yi, vi = data
    c = 10.0**log_c
    try:
        fit = _pool(yi, vi, method="REML")
        fit_c = _pool(yi * c, vi * c * c, method="REML")
    except AlsmetaInputError:
        return
    noise = _input_noise(yi, vi)
    for model in ("lm", "rma"):
        a, b = am.egger_test(fit, model=model), am.egger_test(fit_c, model=model)
        assert (0 <= a.pvalue <= 1) or (np.isnan(a.pvalue) and a.notes), model
        assert _near(a.pvalue, b.pvalue, 1.0, 1e-5 + 10 * noise), model
    bg, bg_c = am.begg_test(fit), am.begg_test(fit_c)
    assert (0 <= bg.pvalue <= 1) or (np.isnan(bg.pvalue) and bg.notes)
    if noise < 1e-9:  # ranks of standardised effects 1e15 SEs apart follow the input's rounding
        assert _near(bg.pvalue, bg_c.pvalue, 1.0, 1e-9)
    try:
        tf, tf_c = am.trim_and_fill(fit), am.trim_and_fill(fit_c)
    except AlsmetaInputError as err:  # Q0's undefined case and non-convergence are errors, never numbers
        assert "trim_and_fill" in str(err)
        return
    assert 0 <= tf.k0 <= fit.k - 1
    if np.unique(yi).size == yi.size:  # ranks of tied effects follow rounding (metafor: ties.method="first")
        assert tf.k0 == tf_c.k0
    assert np.isfinite(tf.fit.estimate)


@given(data=studies(min_k=3, max_k=30), method=st.sampled_from(METHODS))
def test_identical_effects_never_show_bias(data, method):
    _, vi = data
    yi = np.full(vi.size, 0.1)
    fit = _pool(yi, vi, method=method)
    assert np.isnan(am.egger_test(fit).pvalue) and np.isnan(am.begg_test(fit).pvalue)
    assert am.trim_and_fill(fit).k0 == 0


# ------------------------------------------------------------------ leave-one-out and meta-regression
@given(data=studies(min_k=2, max_k=20), method=st.sampled_from(METHODS), log_c=st.floats(-30, 30))
def test_leave_one_out_is_pool_without_the_study(data, method, log_c):
    yi, vi = data
    c = 10.0**log_c
    try:
        fit = _pool(yi, vi, method=method)
        fit_c = _pool(yi * c, vi * c * c, method=method)
    except AlsmetaInputError:
        return
    loo, loo_c = am.leave_one_out(fit), am.leave_one_out(fit_c)
    assert len(loo) == yi.size
    i = yi.size // 2
    keep = np.arange(yi.size) != i
    ref = _pool(yi[keep], vi[keep], method=method)
    unit = np.sqrt(np.mean(vi) + ref.tau2)
    assert _near(loo["estimate"].iloc[i], ref.estimate, unit, 1e-9) and _near(
        loo["tau2"].iloc[i], ref.tau2, np.mean(vi), 1e-9
    )
    tol = 1e-5 + 10 * _input_noise(yi, vi)
    for j in range(yi.size):
        assert _near(loo["estimate"].iloc[j], loo_c["estimate"].iloc[j] / c, unit, tol)


@given(
    data=studies(min_k=3, max_k=30),
    method=st.sampled_from(["CE", "DL", "REML", "ML", "PM"]),
    log_c=st.floats(-30, 30),
    x=st.lists(st.floats(-10, 10), min_size=50, max_size=50),
)
def test_meta_regression_is_finite_and_scales(data, method, log_c, x):
    yi, vi = data
    c = 10.0**log_c
    mod = np.array(x[: yi.size])
    try:
        a = am.meta_regression(yi, vi, {"x": mod}, method=method)
    except AlsmetaInputError as err:  # rank-deficient design or too few studies: refused, with the reason
        assert "moderators" in str(err) or "meta_regression" in str(err)
        return
    b = am.meta_regression(yi * c, vi * c * c, {"x": mod}, method=method)
    tol = 1e-5 + 10 * _input_noise(yi, vi) * max(1.0, 1.0 / max(float(np.std(mod)), 1e-12))
    assert np.isfinite(a.tau2) and a.tau2 >= 0
    assert _near(a.tau2, b.tau2 / c**2, np.mean(vi), tol)
    unit = np.sqrt(np.mean(vi) + a.tau2)
    for est_a, est_b, p_a, p_b in zip(
        a.coefficients["estimate"],
        b.coefficients["estimate"],
        a.coefficients["pvalue"],
        b.coefficients["pvalue"],
        strict=True,
    ):
        assert np.isfinite(est_a) and np.isfinite(p_a)
        assert _near(est_a, est_b / c, unit / max(1e-12, float(np.std(mod)) or 1.0), tol)
        assert _near(p_a, p_b, 1.0, tol)


# ------------------------------------------------------------------ effect sizes
@given(
    k=st.integers(1, 30),
    data=st.data(),
)
def test_effect_sizes_are_finite_or_refused(k, data):
    pos = st.floats(1e-6, 1e6)
    mean = st.floats(-1e6, 1e6)
    n = st.integers(2, 10_000)

    def col(s):
        return data.draw(st.lists(s, min_size=k, max_size=k))

    m1, s1, n1, m2, s2, n2 = col(mean), col(pos), col(n), col(mean), col(pos), col(n)
    calls = [
        lambda: am.mean_difference(m1, s1, n1, m2, s2, n2),
        lambda: am.standardized_mean_difference(m1, s1, n1, m2, s2, n2),
        lambda: am.log_ratio_of_means(np.abs(m1) + 1e-3, s1, n1, np.abs(m2) + 1e-3, s2, n2),
        lambda: am.mean_change(m1, m2, n1, sd_pre=s1, sd_post=s2, ri=[0.5] * k),
        lambda: am.slope_change(m1, m2, n1, sd_pre=s1, sd_post=s2, ri=[0.5] * k),
    ]
    events = col(st.integers(0, 50))
    totals = [e + data.draw(st.integers(0, 50)) for e in events]
    events2 = col(st.integers(0, 50))
    totals2 = [e + data.draw(st.integers(0, 50)) for e in events2]
    calls += [
        lambda: am.log_odds_ratio(events, totals, events2, totals2),
        lambda: am.log_risk_ratio(events, totals, events2, totals2),
        lambda: am.risk_difference(events, totals, events2, totals2),
    ]
    for call in calls:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                es = call()
        except AlsmetaInputError:
            continue
        assert np.all(np.isfinite(es.yi)) and np.all(np.isfinite(es.vi)) and np.all(es.vi >= 0)
