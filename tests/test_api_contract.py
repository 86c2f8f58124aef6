"""The public API contract (README.md, "The library"): names and fields users and acceptance checks rely on."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import alsmeta as am


@pytest.fixture(scope="module")
def fit(request):
    bcg = request.getfixturevalue("bcg")
    return am.pool(bcg[0], bcg[1], method="REML", test="z", labels=[f"S{i}" for i in range(13)], level=0.95)


CONTRACT_FIELDS = [
    "k",
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "pvalue",
    "tau2",
    "tau2_se",
    "tau2_ci_low",
    "tau2_ci_high",
    "i2",
    "i2_ci_low",
    "i2_ci_high",
    "h2",
    "q",
    "q_df",
    "q_pvalue",
    "pi_low",
    "pi_high",
]


def test_pool_result_fields_and_methods(fit):
    for name in CONTRACT_FIELDS:
        assert np.isfinite(getattr(fit, name)), name
    assert isinstance(fit.summary(), str) and isinstance(fit.to_frame(), pd.DataFrame)
    assert len(fit.to_frame()) == 13 and "weight" in fit.to_frame()


@pytest.mark.parametrize("method", ["CE", "DL", "HE", "HS", "SJ", "ML", "REML", "EB", "PM", "PMM"])
@pytest.mark.parametrize("test", ["z", "t", "knha", "adhoc"])
@pytest.mark.filterwarnings("ignore:The Knapp-Hartung adjustment is meant")
def test_every_contract_method_and_test_runs(bcg, method, test):
    r = am.pool(bcg[0], sei=np.sqrt(bcg[1]), method=method, test=test)
    assert r.method == method and r.test == test and np.isfinite(r.estimate)


def test_diagnostics_contract(fit, bcg):
    eg = am.egger_test(fit)
    assert {"statistic", "pvalue", "intercept"} <= set(dir(eg))
    bg = am.begg_test(fit)
    assert {"tau", "pvalue"} <= set(dir(bg))
    tf = am.trim_and_fill(fit, estimator="L0")
    assert isinstance(tf.fit, am.PooledResult) and tf.k0 >= 0 and tf.side in ("left", "right")
    loo = am.leave_one_out(fit)
    assert {"estimate", "se", "ci_low", "ci_high", "tau2", "i2", "q"} <= set(loo.columns) and len(loo) == 13
    inf = am.influence(fit)
    assert {"rstudent", "dffits", "cook_d", "cov_r", "tau2_del", "q_del", "hat", "weight"} <= set(inf.columns)
    fsn = am.fail_safe_n(bcg[0], bcg[1], method="rosenthal")
    assert {"n", "method", "target"} <= set(dir(fsn))


def test_batch_contract(bcg):
    Y = np.vstack([bcg[0], bcg[0][::-1]])
    V = np.vstack([bcg[1], bcg[1][::-1]])
    batch = am.pool_many(Y, V, mask=None, method="REML", test="z")
    for name in ["estimate", "se", "tau2", "i2", "ci_low", "converged"]:
        assert getattr(batch, name).shape == (2,)
    assert batch.converged.dtype == bool and batch.converged.all()
    assert batch.estimate[0] == pytest.approx(batch.estimate[1], rel=1e-12)


def test_gosh_contract(fit):
    g = am.gosh(fit, max_subsets=500, seed=1)
    assert {"estimate", "tau2", "i2", "q", "k", "subset"} <= set(g.columns)
    assert len(g) == 500
    g_all = am.gosh(fit)
    assert len(g_all) == 2**13 - 1


def test_import_alsmeta_does_not_load_matplotlib_until_plots_are_used():
    import subprocess
    import sys

    code = (
        "import sys, alsmeta; assert 'matplotlib' not in sys.modules, 'matplotlib loaded by import alsmeta'; "
        "alsmeta.plots.forest.forest_plot; assert 'matplotlib' in sys.modules"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
