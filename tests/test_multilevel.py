"""pool_multilevel against metafor 3.8-1 rma.mv(yi, vi, random = ~ 1 | study/effect).

Reference values: tests/reference/metafor_multilevel.json, written by
tests/reference/generate_multilevel_reference.R. Iterative quantities are
compared at relative 1e-6; the variance components also at absolute 1e-8,
because metafor optimises over log(sigma2) and so reports a tiny positive
number (1e-12) where the optimum lies on the boundary 0.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import alsmeta as am
from alsmeta import AlsmetaInputError, AlsmetaWarning, pool_multilevel
from conftest import multilevel_fit

REF = json.loads((Path(__file__).parent / "reference" / "metafor_multilevel.json").read_text())
RTOL = 1e-6

CASES = [(ds, fit) for ds in REF["datasets"] for fit in ds["fits"]]
IDS = [f"{ds['name']}/{fit['id']}" for ds, fit in CASES]


def _close(actual: object, expected: object, atol: float = 0.0) -> None:
    np.testing.assert_allclose(np.asarray(actual, float), np.asarray(expected, float), rtol=RTOL, atol=atol)


def test_reference_file_records_versions_and_controls() -> None:
    assert REF["metafor_version"] == "3.8.1"
    assert REF["clubSandwich_version"] == "0.5.8"
    assert REF["rma_mv_controls"][0]["rel.tol"] == 1e-12
    assert all(not fit["failed"] for _, fit in CASES)


@pytest.mark.parametrize(("ds", "ref"), CASES, ids=IDS)
def test_matches_metafor_rma_mv(ds: dict, ref: dict) -> None:
    r = multilevel_fit(ds, ref)
    assert r.converged
    _close(r.sigma2, ref["sigma2"], atol=1e-8)
    c = r.coefficients
    _close(c["estimate"], ref["beta"])
    _close(c["se"], ref["se"])
    _close(c["statistic"], ref["zval"])
    _close(c["pvalue"], ref["pval"])
    _close(c["ci_low"], ref["ci_lb"])
    _close(c["ci_high"], ref["ci_ub"])
    assert (r.estimate, r.se, r.ci_low, r.ci_high) == (c["estimate"][0], c["se"][0], c["ci_low"][0], c["ci_high"][0])
    if ref["test"] == "t":
        assert r.df == ref["df"]
    else:
        assert np.isnan(r.df)
    _close(r.qe, ref["QE"])
    assert r.qe_df == ref["QEdf"]
    _close(r.qe_pvalue, ref["QEp"])
    _close(r.qm, ref["QM"])
    _close(r.qm_pvalue, ref["QMp"])
    stats_ref = ref["fit_stats"][ref["method"]]
    _close(r.loglik, stats_ref["ll"])
    _close(r.loglik, ref["logLik"])
    _close(r.aic, stats_ref["AIC"])
    _close(r.bic, stats_ref["BIC"])
    _close(r.aicc, stats_ref["AICc"])
    assert r.n_parameters == ref["parms"]
    assert (r.k, r.p) == (ref["k"], ref["p"])
    assert [r.n_studies, r.n_effects] == ref["n_levels"]
    assert list(r.sigma2_fixed) == ref["sigma2_fixed"]


def test_restricted_loglik_includes_all_constants() -> None:
    """REML logLik is metafor's full restricted likelihood (with log|X'X| and (k-p) log 2 pi)."""
    ds = REF["datasets"][0]
    ref = next(f for f in ds["fits"] if f["id"] == "REML/z")
    r = multilevel_fit(ds, ref)
    # the ML and REML values differ by far more than the tolerance, so the check has teeth
    assert abs(ref["fit_stats"]["ML"]["ll"] - ref["fit_stats"]["REML"]["ll"]) > 0.1
    assert r.loglik == pytest.approx(ref["fit_stats"]["REML"]["ll"], rel=1e-9)


# --------------------------------------------------------------------- edge cases
def _ds(name: str) -> dict:
    return next(ds for ds in REF["datasets"] if ds["name"] == name)


def test_all_effects_in_one_study_fixes_study_component_with_note() -> None:
    ds = _ds("edge.one_study")
    r = pool_multilevel(ds["yi"], ds["vi"], study=ds["study"], effect=ds["effect"])
    assert r.sigma2_fixed == (True, False)
    assert r.sigma2[0] == 0.0
    assert r.n_parameters == 2
    assert any("one study" in n for n in r.notes)
    assert "Single-level" in " ".join(next(f for f in ds["fits"] if f["id"] == "REML/z")["warnings"])


def test_one_effect_per_study_is_flagged_not_identifiable_and_sums_to_pool_tau2() -> None:
    ds = _ds("dat.bcg.one_per_study")
    r = pool_multilevel(ds["yi"], ds["vi"], study=ds["study"], effect=ds["effect"])
    assert not r.sigma2_identifiable
    assert any("not separately identifiable" in n for n in r.notes)
    assert r.sigma2_total == pytest.approx(am.pool(ds["yi"], ds["vi"], method="REML").tau2, rel=1e-9)
    # metafor agrees: its two components add up to rma.uni's REML tau2
    ref = next(f for f in ds["fits"] if f["id"] == "REML/z")
    uni = next(u for u in ds["uni_fits"] if u["id"] == "rma.uni/REML")
    assert sum(ref["sigma2"]) == pytest.approx(uni["tau2"], rel=1e-9)


def test_k1_fixes_both_components() -> None:
    r = pool_multilevel([0.3], [0.04], study=["A"])
    assert r.sigma2 == (0.0, 0.0) and r.sigma2_fixed == (True, True)
    assert r.estimate == pytest.approx(0.3) and r.se == pytest.approx(0.2)
    assert r.n_parameters == 1


def test_k1_t_test_has_no_df_and_says_so() -> None:
    r = pool_multilevel([0.3], [0.04], study=["A"], test="t")
    assert r.df == 0 and np.isnan(r.pvalue) and np.isnan(r.ci_low)
    assert any("no t test is possible" in n for n in r.notes)


def test_t_test_uses_k_minus_p_df() -> None:
    ds = REF["datasets"][0]
    r = pool_multilevel(ds["yi"], ds["vi"], study=ds["study"], effect=ds["effect"], test="t")
    assert r.df == len(ds["yi"]) - 1


def test_non_convergence_is_flagged_with_a_warning() -> None:
    ds = REF["datasets"][1]
    with pytest.warns(AlsmetaWarning, match="did not converge"):
        r = pool_multilevel(ds["yi"], ds["vi"], study=ds["study"], effect=ds["effect"], maxiter=1)
    assert not r.converged
    assert any("did not converge" in n for n in r.notes)


def test_summary_to_dict_to_frame() -> None:
    ds = REF["datasets"][0]
    r = pool_multilevel(ds["yi"], ds["vi"], study=ds["study"], effect=ds["effect"])
    text = r.summary()
    assert "sigma^2.1" in text and "0.0651" in text and "0.0327" in text and "0.1847" in text
    d = r.to_dict()
    json.dumps(d)
    assert d["sigma2_study"] == r.sigma2[0] and d["loglik"] == r.loglik and d["n_studies"] == 11
    frame = r.to_frame()
    assert list(frame.columns) == ["study", "effect", "yi", "vi", "sei", "weight"]
    assert frame["weight"].sum() == pytest.approx(100.0)
    # the GLS weights reproduce the estimate
    assert np.sum(frame["weight"] * frame["yi"]) / 100 == pytest.approx(r.estimate, rel=1e-12)


# --------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"study": ["a", float("nan"), "b"]}, r"study: row 2"),
        ({"study": ["a", None, "b"]}, r"study: row 2"),
        ({"study": ["a", "b"]}, r"study: 2 labels given for 3 effects"),
        ({"study": ["a", "a", "b"], "effect": ["1", "2"]}, r"effect: 2 labels given for 3 effects"),
        ({"study": ["a", "a", "b"], "effect": ["1", "", "1"]}, r"effect: row 2"),
        ({"study": "abc"}, r"study: expected one label per effect"),
        ({"study": ["a", "a", "b"], "method": "DL"}, r"method: 'DL' is not one of REML, ML"),
        ({"study": ["a", "a", "b"], "test": "knha"}, r"test: 'knha'"),
    ],
)
def test_bad_labels_and_options(kwargs: dict, match: str) -> None:
    with pytest.raises(AlsmetaInputError, match=match):
        pool_multilevel([0.1, 0.2, 0.3], [0.01, 0.02, 0.03], **kwargs)


def test_bad_effect_values_name_row_and_column() -> None:
    with pytest.raises(AlsmetaInputError, match=r"study 'b/1', column 'yi'|Study 3.*'yi'"):
        pool_multilevel([0.1, 0.2, float("nan")], [0.01, 0.02, 0.03], study=["a", "a", "b"])
    with pytest.raises(AlsmetaInputError, match=r"'vi'.*must be > 0"):
        pool_multilevel([0.1, 0.2, 0.3], [0.01, 0.0, 0.03], study=["a", "a", "b"])
    with pytest.raises(AlsmetaInputError, match=r"vi: 2 values given for 3 effects"):
        pool_multilevel([0.1, 0.2, 0.3], [0.01, 0.02], study=["a", "a", "b"])
    with pytest.raises(AlsmetaInputError, match=r"k = 0"):
        pool_multilevel([], [], study=[])


def test_more_coefficients_than_effects_is_refused() -> None:
    with pytest.raises(AlsmetaInputError, match="moderators: the design matrix .* not of full rank"):
        pool_multilevel([0.1], [0.01], study=["a"], mods={"x": [1.0]})


# --------------------------------------------------------------------- properties
@st.composite
def _data(draw: st.DrawFn, one_per_study: bool = False) -> tuple[list[float], list[float], list[str]]:
    n_studies = draw(st.integers(3, 7))
    sizes = (
        [1] * n_studies if one_per_study else draw(st.lists(st.integers(1, 3), min_size=n_studies, max_size=n_studies))
    )
    k = sum(sizes)
    y = draw(st.lists(st.floats(-2, 2, allow_nan=False), min_size=k, max_size=k))
    v = draw(st.lists(st.floats(0.01, 0.5), min_size=k, max_size=k))
    study = [f"s{i}" for i, n in enumerate(sizes) for _ in range(n)]
    return y, v, study


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_data(one_per_study=True), st.sampled_from(["REML", "ML"]))
def test_one_effect_per_study_total_equals_pool_tau2(data: tuple, method: str) -> None:
    y, v, study = data
    r = pool_multilevel(y, v, study=study, method=method)
    fit = am.pool(y, v, method=method)
    assert r.sigma2_total == pytest.approx(fit.tau2, rel=1e-6, abs=1e-8)
    assert r.estimate == pytest.approx(fit.estimate, rel=1e-6, abs=1e-8)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_data(), st.randoms(use_true_random=False))
def test_permuting_rows_changes_nothing(data: tuple, rnd: object) -> None:
    y, v, study = data
    order = list(range(len(y)))
    rnd.shuffle(order)  # type: ignore[attr-defined]
    a = pool_multilevel(y, v, study=study)
    b = pool_multilevel([y[i] for i in order], [v[i] for i in order], study=[study[i] for i in order])
    np.testing.assert_allclose(a.sigma2, b.sigma2, rtol=1e-6, atol=1e-8)
    assert b.estimate == pytest.approx(a.estimate, rel=1e-6, abs=1e-8)
    assert b.loglik == pytest.approx(a.loglik, rel=1e-8)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_data(), st.floats(0.1, 10.0))
def test_scaling_effects_scales_variance_components(data: tuple, c: float) -> None:
    y, v, study = data
    a = pool_multilevel(y, v, study=study)
    b = pool_multilevel([c * x for x in y], [c * c * x for x in v], study=study)
    np.testing.assert_allclose(b.sigma2, c * c * np.asarray(a.sigma2), rtol=1e-5, atol=1e-8 * c * c)
    assert b.estimate == pytest.approx(c * a.estimate, rel=1e-6, abs=1e-8 * c)
    assert b.pvalue == pytest.approx(a.pvalue, rel=1e-5, abs=1e-9)


def test_converges_where_fisher_scoring_cycles() -> None:
    """A data set (found by a random search) on which pure Fisher scoring oscillated for 1000 iterations."""
    y = [
        -0.46959800720274825,
        -1.6440516099343072,
        -0.03766949946740159,
        0.3083049095236414,
        -0.5963528197254155,
        -0.6569375616910381,
        -0.6445764692431349,
        1.67904090351525,
        0.18801780255100786,
        0.38773964004757955,
    ]
    v = [
        0.39598939440638464,
        0.39075102412183077,
        0.15992073221717787,
        0.4139752097105102,
        0.25065429150797774,
        0.09541018701235585,
        0.1337833892543966,
        0.26938215521234005,
        0.24594510403410022,
        0.4935243511716943,
    ]
    study = ["s0", "s0", "s1", "s2", "s2", "s3", "s4", "s5", "s5", "s5"]
    for method in ("REML", "ML"):
        with warnings.catch_warnings():
            warnings.simplefilter("error", AlsmetaWarning)
            r = pool_multilevel(y, v, study=study, method=method)
        assert r.converged and r.iterations < 50
        assert min(r.sigma2) > 0.1


# --------------------------------------------------------------------- correlated sampling errors
def test_sampling_covariance_matches_the_reference_formula() -> None:
    V = am.sampling_covariance([0.04, 0.09, 0.01], ["a", "a", "b"], 0.5)
    np.testing.assert_allclose(V, [[0.04, 0.5 * 0.2 * 0.3, 0], [0.03, 0.09, 0], [0, 0, 0.01]], rtol=1e-15)
    with pytest.raises(AlsmetaInputError, match=r"rho: 1.0 must lie in \[0, 1\)"):
        am.sampling_covariance([0.04, 0.09], ["a", "a"], 1.0)


def test_correlated_sampling_errors_widen_the_interval_for_one_study_with_two_time_points() -> None:
    """Two time points of one trial: treating them as independent understates the SE."""
    yi, vi, study = [2.98, 3.38], [0.75**2, 1.07**2], ["oh2018", "oh2018"]
    independent = pool_multilevel(yi, vi, study=study)
    correlated = pool_multilevel(yi, V=am.sampling_covariance(vi, study, 0.8), study=study)
    assert correlated.se > independent.se


@pytest.mark.parametrize(
    ("V", "match"),
    [
        ([[0.04, 0.01], [0.01, 0.04]], r"rows 1 and 2 are in different studies \('a', 'b'\)"),
        ([[0.04, 0.0], [0.01, 0.04]], r"V: the sampling covariance matrix is not symmetric"),
        ([[0.04, 0.0], [0.0, float("nan")]], r"V: row 2 \(study 'b'\) has a missing"),
        ([[0.04, 0.0], [0.0, -0.01]], r"V: row 2 \(study 'b'\) has a sampling variance <= 0"),
        ([[0.04]], r"V: expected a 2 x 2 matrix"),
    ],
)
def test_bad_sampling_covariance(V: list, match: str) -> None:
    with pytest.raises(AlsmetaInputError, match=match):
        pool_multilevel([0.1, 0.2], V=V, study=["a", "b"])


def test_not_positive_definite_and_exactly_one_of_vi_and_v() -> None:
    with pytest.raises(AlsmetaInputError, match="not positive definite"):
        pool_multilevel([0.1, 0.2], V=[[0.01, 0.05], [0.05, 0.04]], study=["a", "a"])
    with pytest.raises(AlsmetaInputError, match="exactly one of vi"):
        pool_multilevel([0.1, 0.2], [0.01, 0.02], V=np.diag([0.01, 0.02]), study=["a", "b"])
    with pytest.raises(AlsmetaInputError, match="exactly one of vi"):
        pool_multilevel([0.1, 0.2], study=["a", "b"])


def test_a_local_maximum_at_zero_does_not_trap_the_one_effect_per_study_fit() -> None:
    # The ML likelihood in tau^2 here has a local maximum at 0 (loglik -9.0847) and the global one at
    # 0.2887 (loglik -8.9455); found by the property test above. pool() finds the global one.
    y = [0.0, 0.0, -0.375, 0.0, -0.125, 1.75, -1.875]
    v = [0.1304, 0.3655, 0.2432, 0.0831, 0.0528, 0.3712, 0.4316]
    r = pool_multilevel(y, v, study=[f"s{i}" for i in range(7)], method="ML")
    fit = am.pool(y, v, method="ML")
    assert fit.tau2 == pytest.approx(0.2887009639, rel=1e-8)
    assert r.sigma2_total == pytest.approx(fit.tau2, rel=1e-8)
    assert r.loglik == pytest.approx(-8.945535, abs=1e-5)


def test_na_action_drop_removes_the_effect_with_its_rows_of_v() -> None:
    ds = REF["datasets"][0]
    yi, vi = np.array(ds["yi"], dtype=float), np.array(ds["vi"], dtype=float)
    study, effect = list(ds["study"]), list(ds["effect"])
    V = am.sampling_covariance(vi, study, rho=0.5)
    keep = np.ones(len(yi), dtype=bool)
    keep[[2, 5]] = False
    y_nan = yi.copy()
    y_nan[2] = np.nan
    V_nan = V.copy()
    V_nan[5, 5] = np.nan
    with pytest.raises(AlsmetaInputError, match="yi"):
        pool_multilevel(y_nan, V=V, study=study, effect=effect)
    with pytest.warns(AlsmetaWarning, match="2 of .* dropped"):
        dropped = pool_multilevel(y_nan, V=V_nan, study=study, effect=effect, na_action="drop")
    ref = pool_multilevel(
        yi[keep],
        V=V[np.ix_(keep, keep)],
        study=[s for s, k in zip(study, keep, strict=True) if k],
        effect=[e for e, k in zip(effect, keep, strict=True) if k],
    )
    assert dropped.k == ref.k == len(yi) - 2
    np.testing.assert_allclose([dropped.estimate, *dropped.sigma2], [ref.estimate, *ref.sigma2], rtol=1e-12)
    with pytest.raises(AlsmetaInputError, match="na_action"):
        pool_multilevel(yi, vi, study=study, na_action="omit")
