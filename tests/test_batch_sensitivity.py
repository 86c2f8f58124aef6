"""GOSH, leave-one-out, cumulative analysis and the bootstrap on the batched engine.

Each row must be bit for bit :func:`alsmeta.pool` on its subset or resample.
"""

from __future__ import annotations

import numpy as np
import pytest

import alsmeta as am
from alsmeta.diagnostics import sensitivity
from alsmeta.diagnostics.sensitivity import (
    GOSH_EXACT_MAX_K,
    bootstrap,
    cumulative,
    gosh,
    leave_one_out,
    subset_membership,
)

pytestmark = pytest.mark.filterwarnings("ignore::alsmeta.AlsmetaWarning")


def _data(k, seed=0):
    rng = np.random.default_rng(seed)
    v = rng.uniform(0.01, 0.4, k)
    return rng.normal(0.3, np.sqrt(v + 0.05)), v


def _assert_rows_are_pool(frame, members, yi, vi, method, test, columns):
    for i in range(len(frame)):
        sel = members[i]
        fit = am.pool(yi[sel], vi[sel], method=method, test=test)
        for c in columns:
            got, want = frame[c].iloc[i], getattr(fit, c)
            assert got == want or (np.isnan(got) and np.isnan(want)), (i, c, got, want)


@pytest.mark.parametrize("method", ["REML", "DL", "ML", "PM", "CE"])
def test_gosh_rows_are_pool_on_each_subset(method):
    yi, vi = _data(9, seed=2)
    fit = am.pool(yi, vi, method=method, test="knha")
    g = gosh(fit)
    assert g.attrs["exact"] and len(g) == 2**9 - 1 and g.attrs["completed"] == len(g)
    members = subset_membership(g["subset"].to_numpy(), 9)
    pick = np.r_[0:20, 200:230, len(g) - 20 : len(g)]
    _assert_rows_are_pool(
        g.iloc[pick],
        members[pick],
        yi,
        vi,
        method,
        "knha",
        ["k", "estimate", "se", "tau2", "i2", "h2", "q", "converged"],
    )


def test_gosh_is_exhaustive_up_to_k_20_by_default():
    assert GOSH_EXACT_MAX_K == 20
    yi, vi = _data(12)
    assert gosh(am.pool(yi, vi)).attrs["exact"]
    assert not gosh(am.pool(yi, vi), max_subsets=4094, seed=1).attrs["exact"]


def test_gosh_interrupted_returns_the_subsets_fitted():
    yi, vi = _data(17, seed=4)
    fit = am.pool(yi, vi, method="DL")
    full = gosh(fit)

    def stop(done, total):
        raise KeyboardInterrupt

    with pytest.warns(am.AlsmetaWarning, match="gosh interrupted"):
        part = gosh(fit, progress=stop)
    assert part.attrs["interrupted"] and part.attrs["completed"] == len(part) == 65536
    assert part.attrs["total"] == 2**17 - 1
    assert part.equals(full.iloc[: len(part)])


def test_gosh_progress_callback_counts_fits():
    yi, vi = _data(17, seed=4)
    seen = []
    gosh(am.pool(yi, vi, method="DL"), progress=lambda done, total: seen.append((done, total)))
    assert seen == [(65536, 131071), (131071, 131071)]


def test_leave_one_out_and_cumulative_rows_are_pool():
    yi, vi = _data(11, seed=5)
    fit = am.pool(yi, vi, method="REML", test="knha")
    loo = leave_one_out(fit)
    members = ~np.eye(11, dtype=bool)
    _assert_rows_are_pool(loo, members, yi, vi, "REML", "knha", ["estimate", "se", "ci_low", "tau2", "i2", "q"])
    cum = cumulative(fit)
    _assert_rows_are_pool(
        cum, np.tril(np.ones((11, 11), dtype=bool)), yi, vi, "REML", "knha", ["estimate", "se", "tau2", "i2", "q"]
    )


@pytest.mark.parametrize("method", ["REML", "DL", "CE"])
def test_bootstrap_replicates_are_pool_on_the_resamples(method):
    yi, vi = _data(8, seed=6)
    fit = am.pool(yi, vi, method=method)
    res = bootstrap(fit, n_boot=60, seed=11)
    idx = np.random.default_rng(11).integers(0, 8, size=(60, 8), dtype=np.int32)
    for b in range(60):
        rep = am.pool(yi[idx[b]], vi[idx[b]], method=method)
        assert res.replicates["estimate"].iloc[b] == rep.estimate
        assert res.replicates["tau2"].iloc[b] == rep.tau2
    est = res.replicates["estimate"].to_numpy()
    assert res.n_used == 60 and res.n_boot == 60 and not res.interrupted
    alpha = 1 - fit.level
    assert (res.ci_low, res.ci_high) == tuple(np.quantile(est, [alpha / 2, 1 - alpha / 2]))
    assert res.se == pytest.approx(np.std(est, ddof=1), rel=1e-15)
    assert res.estimate == fit.estimate and res.tau2 == fit.tau2
    if method == "CE":
        assert res.tau2_ci_low == res.tau2_ci_high == 0.0
    again = bootstrap(fit, n_boot=60, seed=11)
    assert again.replicates.equals(res.replicates)


def test_bootstrap_level_edge_cases_and_interruption():
    yi, vi = _data(6, seed=7)
    fit = am.pool(yi, vi)
    narrow = bootstrap(fit, n_boot=200, seed=1, level=0.5)
    wide = bootstrap(fit, n_boot=200, seed=1)
    assert wide.ci_low <= narrow.ci_low <= narrow.ci_high <= wide.ci_high
    with pytest.raises(am.AlsmetaInputError, match="at least 2 studies"):
        bootstrap(am.pool([0.1], [0.2]))
    with pytest.raises(am.AlsmetaInputError, match="n_boot"):
        bootstrap(fit, n_boot=1)

    def stop(done, total):
        raise KeyboardInterrupt

    with pytest.warns(am.AlsmetaWarning):
        part = bootstrap(fit, n_boot=70000, seed=2, progress=stop)
    assert part.interrupted and part.n_used == len(part.replicates) == 65536
    assert any("Interrupted" in n for n in part.notes)


def test_gosh_k_above_62_keeps_python_integer_bitmasks():
    yi, vi = _data(64, seed=8)
    g = gosh(am.pool(yi, vi, method="DL"), max_subsets=40, seed=3)
    member = subset_membership(g["subset"].to_numpy(), 64)
    assert (member.sum(axis=1) == g["k"].to_numpy()).all()
    assert sensitivity._bitmask_objects(member[:1])[0] == g["subset"].iloc[0]
