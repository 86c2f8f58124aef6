"""One name for one thing across the API (issue 16): ``mods=`` as metafor, ``sei=`` wherever ``vi=`` is
accepted for study-level input, ``progress=`` on every long run. Each alternative gives exactly the same
result as the original spelling, and giving both spellings (or neither) is an error naming them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import alsmeta as am
from alsmeta.validation import AlsmetaInputError

pytestmark = pytest.mark.filterwarnings("ignore::alsmeta.AlsmetaWarning")

studies = st.integers(min_value=4, max_value=10).flatmap(
    lambda k: st.tuples(
        st.lists(st.floats(-2, 2, allow_nan=False), min_size=k, max_size=k),
        st.lists(st.floats(0.05, 1.5, allow_nan=False), min_size=k, max_size=k),
        st.lists(st.integers(0, 60), min_size=k, max_size=k, unique=True),
    )
)


def _same(a, b):
    np.testing.assert_array_equal(np.asarray(a, dtype=float), np.asarray(b, dtype=float))


@settings(max_examples=15, deadline=None)
@given(studies, st.sampled_from(["REML", "DL"]))
def test_meta_regression_mods_and_sei_equal_moderators_and_vi(data, method):
    yi, sei, x = (np.array(c) for c in data)
    vi = sei * sei  # the square alsmeta takes of sei
    mods = pd.DataFrame({"x": x})
    ref = am.meta_regression(yi, vi, mods, method=method, test="knha")
    for other in (
        am.meta_regression(yi, vi, mods=mods, method=method, test="knha"),
        am.meta_regression(yi, sei=sei, mods=mods, method=method, test="knha"),
        am.meta_regression(yi, None, mods, method=method, test="knha", sei=sei),
    ):
        _same(other.estimate, ref.estimate)
        _same(other.se, ref.se)
        _same([other.tau2, other.qm], [ref.tau2, ref.qm])  # NaN (e.g. a zero Knapp-Hartung scale) equals NaN
        assert other.terms == ref.terms


@settings(max_examples=10, deadline=None)
@given(studies)
def test_sei_equals_vi_in_subgroups_fail_safe_n_multilevel_and_the_sweep(data):
    yi, sei, x = (np.array(c) for c in data)
    vi = sei * sei
    k = yi.size
    groups = ["a" if i % 2 else "b" for i in range(k)]
    a, b = am.subgroup_analysis(yi, vi, groups), am.subgroup_analysis(yi, sei=sei, groups=groups)
    assert a.q_between == b.q_between
    pd.testing.assert_frame_equal(a.subgroups, b.subgroups)
    for method in ("rosenthal", "orwin", "rosenberg"):
        fa, fb = am.fail_safe_n(yi, vi, method=method), am.fail_safe_n(yi, sei=sei, method=method)
        assert fa.to_dict() == fb.to_dict()
    study = [i // 2 for i in range(k)]
    ma, mb = am.pool_multilevel(yi, vi, study=study), am.pool_multilevel(yi, sei=sei, study=study)
    _same(ma.estimate, mb.estimate)
    _same(ma.sigma2, mb.sigma2)
    sa = am.estimator_sweep(yi, vi, methods=["REML", "DL"], tests=["z"])
    sb = am.estimator_sweep(yi, sei=sei, methods=["REML", "DL"], tests=["z"])
    pd.testing.assert_frame_equal(sa, sb)


def test_both_spellings_or_neither_are_refused(bcg):
    yi, vi = bcg
    sei, x = np.sqrt(vi), np.arange(13.0)
    with pytest.raises(AlsmetaInputError, match="moderators, mods"):
        am.meta_regression(yi, vi, x, mods=x)
    with pytest.raises(AlsmetaInputError, match="mods: required"):
        am.meta_regression(yi, vi)
    with pytest.raises(AlsmetaInputError, match="groups: required"):
        am.subgroup_analysis(yi, vi)
    both = "exactly one of vi= .* or sei= .*not both"
    with pytest.raises(AlsmetaInputError, match=both):
        am.meta_regression(yi, vi, x, sei=sei)
    with pytest.raises(AlsmetaInputError, match=both):
        am.subgroup_analysis(yi, vi, ["a"] * 13, sei=sei)
    with pytest.raises(AlsmetaInputError, match=both):
        am.fail_safe_n(yi, vi, sei=sei)
    with pytest.raises(AlsmetaInputError, match=both):
        am.pool_multilevel(yi, vi, sei=sei, study=range(13))
    with pytest.raises(AlsmetaInputError, match=both):
        am.estimator_sweep(yi, vi, sei=sei)
    with pytest.raises(AlsmetaInputError, match="exactly one of vi="):
        am.meta_regression(yi, mods=x)
    with pytest.raises(AlsmetaInputError, match="sei, V"):
        am.pool_multilevel(yi, sei=sei, V=np.diag(vi), study=range(13))
    with pytest.raises(AlsmetaInputError, match="vi/sei/labels"):
        am.fail_safe_n(am.pool(yi, vi), sei=sei)


def test_bad_standard_errors_are_refused_naming_the_study_and_sei(bcg):
    yi, vi = bcg
    sei = np.sqrt(vi)
    sei[3] = -0.1
    labels = [f"S{i}" for i in range(13)]
    for call in (
        lambda: am.meta_regression(yi, sei=sei, mods=np.arange(13.0), labels=labels),
        lambda: am.subgroup_analysis(yi, sei=sei, groups=["a", "b"] * 6 + ["a"], labels=labels),
        lambda: am.fail_safe_n(yi, sei=sei, labels=labels),
        lambda: am.estimator_sweep(yi, sei=sei, labels=labels),
    ):
        with pytest.raises(AlsmetaInputError, match=r"study 'S3', column 'sei'"):
            call()
    with pytest.raises(AlsmetaInputError, match=r"column 'sei': its square"):
        am.fail_safe_n(yi, sei=np.full(13, 1e-200))
    with pytest.raises(AlsmetaInputError, match=r"column 'sei'"):
        am.pool_multilevel(yi, sei=sei, study=range(13))


def test_a_missing_standard_error_is_dropped_with_na_action_drop(bcg):
    yi, vi = bcg
    sei = np.sqrt(vi)
    sei[5] = np.nan
    keep = np.arange(13) != 5
    with pytest.warns(am.AlsmetaWarning, match="1 of 13"):
        fit = am.meta_regression(yi, sei=sei, mods=np.arange(13.0), na_action="drop")
    ref = am.meta_regression(yi[keep], sei=np.sqrt(vi[keep]), mods=np.arange(13.0)[keep])
    _same(fit.estimate, ref.estimate)
    with pytest.warns(am.AlsmetaWarning, match="1 of 13"):
        ml = am.pool_multilevel(yi, sei=sei, study=range(13), na_action="drop")
    assert ml.k == 12


@pytest.mark.parametrize("kind", ["pool", "regression"])
def test_permutation_test_reports_progress_and_gives_the_same_result(bcg, kind):
    yi, vi = bcg
    fit = am.pool(yi, vi) if kind == "pool" else am.meta_regression(yi, vi, np.arange(13.0))
    calls: list[tuple[int, int]] = []
    n = 5000  # more than one chunk of 4096 fits
    with_bar = am.permutation_test(fit, n, seed=3, progress=lambda done, total: calls.append((done, total)))
    quiet = am.permutation_test(fit, n, seed=3, progress=False)
    assert calls == [(4096, n), (n, n)]
    pd.testing.assert_frame_equal(with_bar.table, quiet.table)
    assert with_bar.qm_pvalue == quiet.qm_pvalue


def test_permutation_test_progress_callback_can_stop_the_run(bcg):
    def stop(done, total):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        am.permutation_test(am.pool(*bcg), 100, seed=1, progress=stop)
