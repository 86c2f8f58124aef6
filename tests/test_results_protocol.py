"""Every result object reads and travels the same way: summary(), to_dict(), to_frame(), _repr_html_().

The protocol lives in alsmeta.results.ResultMixin. These tests build every public result type
from real calls and check what a user relies on: the summary is text that states the result's
own numbers, to_dict() survives ``json.dumps(..., allow_nan=False)`` and keeps the values,
to_frame() is a DataFrame, and the notebook view is the escaped summary.
"""

from __future__ import annotations

import dataclasses
import html
import importlib
import inspect
import json
import pkgutil
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import alsmeta as am
from alsmeta.results import ResultMixin, fmt_number
from alsmeta.validation import AlsmetaInputError

pytestmark = pytest.mark.filterwarnings("ignore::alsmeta.AlsmetaWarning")

LAT = np.array([44, 55, 42, 52, 13, 44, 19, 13, 27, 42, 18, 33, 33], dtype=float)


def _results(bcg) -> dict[str, object]:
    yi, vi = bcg
    fit = am.pool(yi, vi)
    reg = am.meta_regression(yi, vi, {"lat": LAT})
    tables = dict(ai=[4, 6, 3, 62], bi=[119, 300, 228, 13536], ci=[11, 29, 11, 248], di=[128, 274, 209, 12619])
    sim = am.simulate_trials(am.NaturalHistory.alsfrs_r(), am.TrialDesign(), 5, seed=1, progress=False)
    meta = am.simulate_meta_analyses(am.NaturalHistory.alsfrs_r(), [am.TrialDesign()] * 2, 3, seed=2)
    specs = am.expand_grid(s=["a", "b"], method=["REML", "DL"], test=["z"])
    effects = {"a": (0.3, 0.1), "b": (0.5, 0.2)}
    return {
        "PooledResult": fit,
        "EggerResult": am.egger_test(fit),
        "BeggResult": am.begg_test(fit),
        "TrimFillResult": am.trim_and_fill(fit),
        "PetPeeseResult": am.pet_peese(fit),
        "FailSafeResult": am.fail_safe_n(fit),
        "SelectionModelResult": am.selection_model(fit),
        "SelectionRegressionResult": am.selection_model(reg),
        "BootstrapResult": am.bootstrap(fit, n_boot=20, seed=1, progress=False),
        "MetaRegressionResult": reg,
        "SubgroupResult": am.subgroup_analysis(yi, vi, LAT > 30),
        "PermutationResult": am.permutation_test(reg, n_permutations=20, seed=1),
        "RobustResult": am.robust(fit, cluster=[f"c{i // 2}" for i in range(13)]),
        "MultilevelResult": am.pool_multilevel(yi, vi, study=[f"s{i // 2}" for i in range(13)]),
        "BayesMetaResult": am.bayes_meta(yi, vi, tau_scale=0.5),
        "BinaryPooledResult": am.pool_mh(**tables),
        "TrialSequentialResult": am.trial_sequential_analysis(
            fit, participants=[100] * 13, order=list(range(13)), delta=0.3, sd=1.0
        ),
        "SequentialBoundaries": am.group_sequential_boundaries([0.5, 1.0]),
        "InformationSize": am.optimal_information_size(0.3, 1.0),
        "SimulationResult": sim,
        "MetaSimulationResult": meta,
        "MultiverseResult": am.multiverse.fit_specifications(specs, effects, slots=["s"]),
        "SEFromP": am.se_from_p([0.5, 0.2], [0.01, 0.2]),
        "MeanSDEstimate": am.mean_sd_from_median([10.0, 12.0], [20, 30], minimum=[2.0, 3.0], maximum=[20.0, 25.0]),
        "CombinedGroups": am.combine_groups([10, 12], [1.0, 2.0], [1.0, 1.5], [11, 9], [2.0, 1.0], [1.2, 0.9]),
        "BatchResult": am.pool_many(np.vstack([yi, yi]), np.vstack([vi, vi])),
        "Prediction": am.predict(fit),
        "Blups": am.blup(fit),
    }


@pytest.fixture(scope="module")
def results(bcg):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _results(bcg)


#: public dataclasses that describe inputs (data, designs, model parameters), not results
INPUT_CLASSES = {"EffectSizes", "TrialDesign", "NaturalHistory"}


def test_every_public_result_class_has_the_protocol():
    """A result dataclass added to the package without the mixin fails here."""
    missing = []
    for info in pkgutil.walk_packages(am.__path__, "alsmeta."):
        if info.name.startswith("alsmeta.als") or info.name.startswith("alsmeta.plots"):
            continue  # the ALS evidence layer and the figure code hold records, not analysis results
        module = importlib.import_module(info.name)
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ != info.name or name.startswith("_") or not dataclasses.is_dataclass(cls):
                continue
            public = name in am.__all__ and name not in INPUT_CLASSES
            if (public or name.endswith(("Result", "Results"))) and not issubclass(cls, ResultMixin):
                missing.append(f"{info.name}.{name}")
    assert not missing, f"result classes without alsmeta.results.ResultMixin: {missing}"


def test_every_result_reads_and_travels(results):
    for name, res in results.items():
        assert isinstance(res, ResultMixin), name
        text = res.summary()
        assert isinstance(text, str) and text.strip(), name
        assert str(res) == text, name
        assert res._repr_html_() == f"<pre>{html.escape(text)}</pre>", name
        data = res.to_dict()
        back = json.loads(json.dumps(data, allow_nan=False))  # strict JSON: NaN must have become None
        assert back == data, name
        frame = res.to_frame()
        assert isinstance(frame, pd.DataFrame) and len(frame) >= 1, name


def test_to_dict_keeps_every_field_and_nests_results(results):
    tf = results["TrimFillResult"]
    d = tf.to_dict()
    assert {f.name for f in dataclasses.fields(tf)} <= set(d)
    assert d["fit"]["estimate"] == tf.fit.estimate and d["fit"]["k"] == tf.fit.k
    assert d["filled"] == json.loads(json.dumps(d["filled"]))  # the filled-studies table as row records
    sel = results["SelectionModelResult"].to_dict()
    assert sel["delta"][0] == 1.0 and len(sel["delta"]) == len(sel["steps"])
    sim = results["SimulationResult"].to_dict()
    assert set(sim["seed"]) == {"entropy", "spawn_key"} and isinstance(sim["design"], dict)


def test_summaries_state_their_own_numbers(results):
    eg = results["EggerResult"]
    assert "mixed-effects meta-regression" in eg.summary()  # the default model is metafor's regtest default
    assert fmt_number(eg.statistic) in eg.summary() and fmt_number(eg.intercept) in eg.summary()
    begg = results["BeggResult"]
    assert fmt_number(begg.tau) in begg.summary()
    fsn = results["FailSafeResult"]
    assert f"Fail-safe N: {fsn.n:g}" in fsn.summary()
    sel = results["SelectionModelResult"]
    assert fmt_number(sel.estimate) in sel.summary() and "0 < p <= 0.025" in sel.summary()
    sub = results["SubgroupResult"]
    assert fmt_number(sub.q_between) in sub.summary()
    tf = results["TrimFillResult"]
    assert f"missing studies on the {tf.side} side: {tf.k0}" in tf.summary()


def test_tables_are_the_results_own_tables(results):
    reg = results["MetaRegressionResult"]
    pd.testing.assert_frame_equal(reg.to_frame(), reg.coefficients)
    sub = results["SubgroupResult"]
    pd.testing.assert_frame_equal(sub.to_frame(), sub.subgroups)
    tf = results["TrimFillResult"]
    assert int(tf.to_frame()["filled"].sum()) == tf.k0
    conv = results["SEFromP"].to_frame()
    np.testing.assert_array_equal(conv["se"], results["SEFromP"].se)


def test_transf_back_transforms_summaries_and_tables(bcg):
    fit = am.pool(*bcg)
    frame = fit.to_frame(transf=np.exp)
    np.testing.assert_allclose(frame["yi"], np.exp(fit.yi), rtol=1e-15)
    np.testing.assert_allclose(frame["ci_low"], np.exp(fit.to_frame()["ci_low"]), rtol=1e-15)
    assert "vi" not in frame and "sei" not in frame  # log-scale quantities are not shown on the ratio scale
    text = fit.summary(transf=np.exp)
    for value in (fit.estimate, fit.ci_low, fit.ci_high, fit.pi_low, fit.pi_high):
        assert fmt_number(np.exp(value)) in text
    reg = am.meta_regression(*bcg, {"lat": LAT})
    table = reg.to_frame(transf=np.exp)
    np.testing.assert_allclose(table["estimate"], np.exp(reg.estimate), rtol=1e-15)
    assert "se" not in table and "Transformed" in reg.summary(transf=np.exp)
    with pytest.raises(AlsmetaInputError, match="transf"):
        fit.to_frame(transf=lambda x: np.array([1.0]))


finite = st.floats(-5, 5, allow_nan=False)
variances = st.floats(1e-3, 4.0, allow_nan=False)


@given(st.integers(0, 8).flatmap(lambda k: st.tuples(st.lists(finite, min_size=k, max_size=k), st.just(k))), variances)
def test_pooled_to_dict_is_strict_json_and_keeps_values(data, v):
    yi, k = data
    fit = am.pool(yi, [v] * k, method="REML")
    d = json.loads(json.dumps(fit.to_dict(), allow_nan=False))
    for name in ("estimate", "se", "tau2", "ci_low", "pi_high", "q"):
        value = getattr(fit, name)
        assert d[name] == (float(value) if np.isfinite(value) else None)
    assert d["labels"] == list(fit.labels) and d["k"] == k and d["tau"] == (fit.tau if k else None)


# ------------------------------------------------------------------ pool accepts what users have
def test_pool_accepts_effect_sizes_data_frames_and_arrays(bcg):
    yi, vi = bcg
    labels = [f"S{i}" for i in range(13)]
    ref = am.pool(yi, vi, labels=labels)
    es = am.EffectSizes(yi=yi, vi=vi, labels=labels, measure="RR")
    df = pd.DataFrame({"y": yi, "v": vi, "se": np.sqrt(vi), "study": labels})
    for other in (
        am.pool(es),
        am.pool(data=df, yi="y", vi="v", labels="study"),
        am.pool("y", "v", data=df, labels="study"),
        am.pool(data=df, yi="y", sei="se", labels="study"),
    ):
        assert other.labels == ref.labels
        np.testing.assert_allclose([other.estimate, other.tau2], [ref.estimate, ref.tau2], rtol=1e-12)
    assert am.pool(es, labels=list("abcdefghijklm")).labels[0] == "a"


def test_pool_input_errors_name_the_argument(bcg):
    yi, vi = bcg
    es = am.EffectSizes(yi=yi, vi=vi, labels=[str(i) for i in range(13)], measure="RR")
    df = pd.DataFrame({"y": yi, "v": vi})
    with pytest.raises(AlsmetaInputError, match="vi/sei: not needed"):
        am.pool(es, vi)
    with pytest.raises(AlsmetaInputError, match=r"yi: no column 'x' in data \(columns: y, v\)"):
        am.pool(data=df, yi="x", vi="v")
    with pytest.raises(AlsmetaInputError, match="data: expected a pandas DataFrame"):
        am.pool("y", "v", data={"y": yi, "v": vi})
    shifted = pd.Series(vi, index=range(1, 14))
    with pytest.raises(AlsmetaInputError, match="pandas indexes hold different labels"):
        am.pool(pd.Series(yi), shifted)


def test_pool_duplicate_labels_are_made_unique_with_a_warning(bcg):
    yi, vi = bcg
    labels = ["Rosenthal et al"] * 2 + [f"S{i}" for i in range(11)]
    with pytest.warns(am.AlsmetaWarning, match="'Rosenthal et al'"):
        fit = am.pool(yi, vi, labels=labels)
    assert fit.labels[:2] == ("Rosenthal et al.1", "Rosenthal et al.2")


def test_fail_safe_n_takes_a_fit_or_data_and_handles_missing_values(bcg):
    yi, vi = bcg
    fit = am.pool(yi, vi)
    assert am.fail_safe_n(fit).n == am.fail_safe_n(yi, vi).n
    with pytest.raises(AlsmetaInputError, match="not given with a pool"):
        am.fail_safe_n(fit, vi)
    y_nan = yi.copy()
    y_nan[3] = np.nan
    with pytest.raises(AlsmetaInputError, match="study 'D', column 'yi'"):
        am.fail_safe_n(y_nan, vi, labels=list("ABCDEFGHIJKLM"))
    with pytest.warns(am.AlsmetaWarning, match="1 of 13 studies dropped"):
        dropped = am.fail_safe_n(y_nan, vi, na_action="drop")
    assert dropped.k == 12 and dropped.n == am.fail_safe_n(np.delete(yi, 3), np.delete(vi, 3)).n


def test_forest_and_funnel_plot_at_the_top_level_load_matplotlib_only_when_used():
    import subprocess
    import sys

    code = (
        "import sys, alsmeta as am\n"
        "fit = am.pool([0.1, 0.5, 0.3], [0.04, 0.05, 0.03]); am.predict(fit); am.egger_test(fit); fit.summary()\n"
        "assert 'matplotlib' not in sys.modules, 'matplotlib loaded before a plot was asked for'\n"
        "import matplotlib; matplotlib.use('Agg')\n"
        "from alsmeta.plots.forest import forest_plot; from alsmeta.plots.funnel import funnel_plot\n"
        "assert am.forest_plot is forest_plot and am.funnel_plot is funnel_plot\n"
        "figs = am.forest_plot(fit), am.funnel_plot(fit)\n"
        "assert all(len(f.axes) >= 1 for f in figs)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


@given(st.integers(0, 9).flatmap(lambda k: st.lists(st.tuples(finite, variances), min_size=k, max_size=k)))
def test_diagnostic_results_are_strict_json_for_any_data(rows):
    yi, vi = [r[0] for r in rows], [r[1] for r in rows]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = am.pool(yi, vi, method="DL")
        results = [fit, am.egger_test(fit), am.begg_test(fit), am.trim_and_fill(fit), am.fail_safe_n(fit)]
        if fit.k >= 3:
            results += [am.pet_peese(fit), am.selection_model(fit)]
        if fit.k >= 1:
            results += [am.predict(fit), am.blup(fit)]
    for res in results:
        text = json.dumps(res.to_dict(), allow_nan=False)
        assert json.loads(text) == res.to_dict()
        assert res.summary() and isinstance(res.to_frame(), pd.DataFrame)
