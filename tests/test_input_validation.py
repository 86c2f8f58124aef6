"""Never a silently wrong number (issue 14, library half).

Every public statistics function either returns a correct result or raises
:class:`alsmeta.AlsmetaInputError` naming the argument (and, for data, the
study and the column). Each test here failed before the change that made it
pass: levels outside (0, 1) / (1, 100), data at extreme scales, pandas Series
paired by position, arguments of the wrong type, missing values, duplicate
labels.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import alsmeta as am
from alsmeta.engine.regression import fit_regression_many
from alsmeta.validation import AlsmetaInputError

pytestmark = pytest.mark.filterwarnings("ignore:.*:alsmeta.AlsmetaWarning")

YI = np.array([-0.889, -1.585, -1.348, -1.442, -0.218, -0.786, -1.621, 0.012, -0.469, -1.371, -0.339, 0.446, -0.017])
VI = np.array([0.326, 0.195, 0.415, 0.020, 0.051, 0.007, 0.223, 0.004, 0.056, 0.073, 0.012, 0.533, 0.071])
LAT = np.array([44.0, 55, 42, 52, 13, 44, 19, 13, -27, 42, 18, 33, 33])


def _quiet(func, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return func(*args, **kwargs)


# ================================================================== 1. confidence level
BAD_LEVELS = [
    0,
    1,
    100,
    1.0,
    100.0,
    -0.5,
    -95,
    0.0,
    float("nan"),
    float("inf"),
    -float("inf"),
    True,
    False,
    "0.95",
    "95",
    None,
    [0.95],
]

LEVEL_CALLS = {
    "pool": lambda lv: am.pool(YI, VI, level=lv),
    "pool_many": lambda lv: am.pool_many(YI[None], VI[None], level=lv),
    "meta_regression": lambda lv: am.meta_regression(YI, VI, {"lat": LAT}, level=lv),
    "subgroup_analysis": lambda lv: am.subgroup_analysis(YI, VI, LAT > 30, level=lv),
    "estimator_sweep": lambda lv: am.estimator_sweep(YI, VI, methods=["DL"], tests=["z"], level=lv),
    "bootstrap": lambda lv: am.bootstrap(am.pool(YI, VI), n_boot=10, seed=1, level=lv),
    "bayes_meta": lambda lv: am.bayes_meta(YI, VI, tau_scale=0.5, level=lv),
    "fit_regression_many": lambda lv: fit_regression_many(YI, VI, np.column_stack([np.ones(13), LAT]), level=lv),
}


@pytest.mark.parametrize("name", sorted(LEVEL_CALLS))
@pytest.mark.parametrize("level", BAD_LEVELS, ids=repr)
def test_bad_levels_are_refused_naming_level(name, level):
    if name == "bootstrap" and level is None:
        pytest.skip("level=None means 'the fit's level' for bootstrap")
    with pytest.raises(AlsmetaInputError, match="level"):
        LEVEL_CALLS[name](level)


@pytest.mark.parametrize("name", sorted(LEVEL_CALLS))
def test_percent_levels_equal_proportions(name):
    a, b = LEVEL_CALLS[name](0.9), LEVEL_CALLS[name](90)
    assert getattr(a, "level", 0.9) == getattr(b, "level", 0.9) == pytest.approx(0.9)
    if isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b)


def test_bias_tests_fail_safe_alpha_is_checked():
    for alpha in (0, 1, float("nan"), True, "0.05"):
        with pytest.raises(AlsmetaInputError, match="alpha"):
            am.fail_safe_n(YI, VI, alpha=alpha)
        with pytest.raises(AlsmetaInputError, match="alpha"):
            am.pet_peese(am.pool(YI, VI), alpha=alpha)


# ================================================================== 2. scale
FIELDS_1 = ("estimate", "se", "ci_low", "ci_high", "pi_low", "pi_high")
FIELDS_2 = ("tau2", "tau2_se", "tau2_ci_low", "tau2_ci_high")
FIELDS_0 = ("statistic", "pvalue", "i2", "i2_ci_low", "i2_ci_high", "h2", "q", "q_pvalue")


def _assert_scaled(base, scaled, c: float, rel: float = 1e-9, variances: bool = True) -> None:
    for names, power in ((FIELDS_1, 1), (FIELDS_2 if variances else (), 2), (FIELDS_0, 0)):
        for name in names:
            a, b = getattr(base, name), getattr(scaled, name) / c**power
            if np.isnan(a):
                assert np.isnan(b), name
            else:
                assert b == pytest.approx(a, rel=rel, abs=1e-12 * (abs(a) + (1.0 if power == 0 else 0.0))), (name, c)


@pytest.mark.parametrize("c", [1e-40, 1e-20, 3e-7, 1e20, 1e40, 2.0**-480, 2.0**480])
@pytest.mark.parametrize("test", ["z", "t", "knha", "adhoc"])
@pytest.mark.parametrize("method", am.METHODS)
def test_every_method_and_test_scales_with_the_data(method, test, c):
    """yi * c, vi * c^2: effects scale by c, tau2 by c^2, p-values and I2 do not change.

    Before: tau2 was silently wrong from about c = 1e20 (weights to the fourth power underflowed).
    """
    base = _quiet(am.pool, YI, VI, method=method, test=test)
    scaled = _quiet(am.pool, YI * c, VI * c * c, method=method, test=test)
    _assert_scaled(base, scaled, c)


def test_power_of_two_scaling_is_bit_exact():
    """Rescaling by a power of two is exact in floating point, so the engine's working scale gives the same bits."""
    for method in am.METHODS:
        base = _quiet(am.pool, YI, VI, method=method)
        c = 2.0**-300
        scaled = _quiet(am.pool, YI * c, VI * c * c, method=method)
        for name in ("estimate", "se", "tau2", "ci_low", "pvalue", "i2", "q"):
            p = 2 if name == "tau2" else (0 if name in ("pvalue", "i2", "q") else 1)
            assert getattr(scaled, name) == getattr(base, name) * c**p, (method, name)


@pytest.mark.parametrize("c", [1e-150, 1e-40, 1e40, 1e150])
def test_diagnostics_and_meta_regression_scale(c):
    fit, fit_c = am.pool(YI, VI), am.pool(YI * c, VI * c * c)
    for model in ("lm", "rma"):
        a, b = am.egger_test(fit, model=model), am.egger_test(fit_c, model=model)
        assert b.pvalue == pytest.approx(a.pvalue, rel=1e-9) and b.intercept / c == pytest.approx(a.intercept, rel=1e-9)
    assert am.begg_test(fit_c).pvalue == pytest.approx(am.begg_test(fit).pvalue, rel=1e-12)
    assert am.trim_and_fill(fit_c).k0 == am.trim_and_fill(fit).k0
    loo, loo_c = am.leave_one_out(fit), am.leave_one_out(fit_c)
    np.testing.assert_allclose(loo_c["tau2"] / c**2, loo["tau2"], rtol=1e-9)
    np.testing.assert_allclose(loo_c["estimate"] / c, loo["estimate"], rtol=1e-9)
    reg, reg_c = am.meta_regression(YI, VI, {"lat": LAT}), am.meta_regression(YI * c, VI * c * c, {"lat": LAT})
    assert reg_c.tau2 / c**2 == pytest.approx(reg.tau2, rel=1e-9)  # before: 0.266 instead of 0.217 at 1e150
    np.testing.assert_allclose(reg_c.coefficients["estimate"] / c, reg.coefficients["estimate"], rtol=1e-9)
    np.testing.assert_allclose(reg_c.coefficients["pvalue"], reg.coefficients["pvalue"], rtol=1e-9)


def test_subnormal_variances_do_not_give_nan():
    """vi = 5e-324 (the smallest subnormal) was NaN; on the working scale it is an ordinary number."""
    fit = am.pool([0.1, 0.1, 0.1], [5e-324] * 3)
    assert fit.estimate == 0.1 and fit.tau2 == 0.0 and np.isfinite(fit.se) and fit.q == 0.0
    s = 2.0**-537  # sqrt(5e-324)
    yi = np.array([0.0, 1.0, 3.0, -2.0])
    vi = np.array([1.0, 2.0, 3.0, 1.0])
    base = am.pool(yi, vi, method="REML")
    tiny = am.pool(yi * s, np.array([5e-324, 1e-323, 1.5e-323, 5e-324]), method="REML")
    _assert_scaled(base, tiny, s, rel=1e-12, variances=False)
    # tau2 = 2.29 x 5e-324 is itself subnormal: right to the one representable step
    assert abs(tiny.tau2 - base.tau2 * 5e-324) <= 5e-324


def test_what_double_precision_cannot_pool_is_refused_naming_the_studies():
    with pytest.raises(AlsmetaInputError, match=r"column 'vi'.*'B'.*'A'"):
        am.pool([0.1, 0.2, 0.3], [5e-324, 1.0, 1.0], labels=["A", "B", "C"])
    with pytest.raises(AlsmetaInputError, match="column 'yi'"):
        am.pool([0.1, 0.2, 0.3], [5e-324] * 3)
    with pytest.raises(AlsmetaInputError, match="row 1"):
        am.pool_many([[0.1, 0.2], [0.1, 0.2]], [[1.0, 1.0], [1e-200, 1.0]])
    with pytest.raises(AlsmetaInputError, match="column 'sei'"):
        am.pool([0.1, 0.2], sei=[1e-170, 1.0])


def test_nearly_equal_large_effects_have_no_spurious_heterogeneity():
    """Rounding error of the mean of large, equal effects looked like tau2 = 1e-34 >> vi."""
    fit = am.pool([0.1, 0.1, 0.1], [5e-324, 5e-324, 5e-324], method="REML")
    assert fit.tau2 == 0.0 and fit.i2 == 0.0
    fit = am.pool([1e30, 1e30, 1e30], [1e-30, 2e-30, 1e-30], method="DL", test="knha")
    assert fit.tau2 == 0.0 and fit.estimate == 1e30


# ================================================================== 4. pandas input
def test_series_are_aligned_on_their_index():
    idx = [f"s{i}" for i in range(13)]
    perm = np.random.default_rng(1).permutation(13)
    y = pd.Series(YI, index=idx)
    v = pd.Series(VI, index=idx).iloc[perm]
    labels = pd.Series(idx, index=idx).iloc[perm[::-1]]
    fit = am.pool(y, v, labels=labels)
    ref = am.pool(YI, VI, labels=idx)
    assert fit.estimate == ref.estimate and fit.tau2 == ref.tau2 and fit.labels == ref.labels


def test_series_with_different_labels_are_refused():
    y = pd.Series(YI[:3], index=["a", "b", "c"])
    v = pd.Series(VI[:3], index=["a", "b", "x"])
    with pytest.raises(AlsmetaInputError, match=r"yi and vi: pandas indexes hold different labels"):
        am.pool(y, v)
    with pytest.raises(AlsmetaInputError, match=r"yi and sei"):
        am.pool(y, sei=v)


def test_moderators_and_groups_given_as_series_are_aligned():
    idx = [f"s{i}" for i in range(13)]
    perm = np.random.default_rng(2).permutation(13)
    y, v = pd.Series(YI, index=idx), pd.Series(VI, index=idx)
    mods = pd.DataFrame({"lat": LAT}, index=idx).iloc[perm]
    reg = am.meta_regression(y, v, mods)
    ref = am.meta_regression(YI, VI, {"lat": LAT})
    np.testing.assert_array_equal(reg.coefficients["estimate"], ref.coefficients["estimate"])
    groups = pd.Series(np.where(LAT > 30, "high", "low"), index=idx).iloc[perm]
    sg = am.subgroup_analysis(y, v, groups)
    sg_ref = am.subgroup_analysis(YI, VI, np.where(LAT > 30, "high", "low"))
    assert sg.q_between == sg_ref.q_between
    with pytest.raises(AlsmetaInputError, match="yi and moderators"):
        am.meta_regression(y, v, pd.DataFrame({"lat": LAT}))  # RangeIndex vs labels


# ================================================================== 5. types and ranges
@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"tau2": "0.1"}, "tau2"),
        ({"tau2": True}, "tau2"),
        ({"tau2": -0.1}, "tau2"),
        ({"tau2": float("nan")}, "tau2"),
        ({"maxiter": 0}, "maxiter"),
        ({"maxiter": 2.5}, "maxiter"),
        ({"maxiter": "100"}, "maxiter"),
        ({"maxiter": -1}, "maxiter"),
        ({"maxiter": float("inf")}, "maxiter"),
        ({"tol": 0}, "tol"),
        ({"tol": -1e-8}, "tol"),
        ({"tol": float("nan")}, "tol"),
        ({"tol": float("inf")}, "tol"),
        ({"tol": "1e-8"}, "tol"),
        ({"method": "XYZ"}, "method"),
        ({"test": "wald"}, "test"),
        ({"na_action": "ignore"}, "na_action"),
    ],
)
def test_pool_arguments_are_checked_at_the_door(kwargs, name):
    with pytest.raises(AlsmetaInputError, match=rf"^{name}\b|{name}:"):
        am.pool(YI, VI, **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"tau2": "0.1"}, "tau2"),
        ({"maxiter": 0}, "maxiter"),
        ({"tol": 0}, "tol"),
        ({"chunk_size": 0}, "chunk_size"),
        ({"chunk_size": 1.5}, "chunk_size"),
        ({"confint": "yes"}, "confint"),
    ],
)
def test_pool_many_arguments_are_checked(kwargs, name):
    with pytest.raises(AlsmetaInputError, match=name):
        am.pool_many(YI[None], VI[None], **kwargs)


def test_other_public_arguments_are_checked():
    fit = am.pool(YI, VI)
    reg = am.meta_regression(YI, VI, {"lat": LAT})
    cases = [
        (lambda: am.meta_regression(YI, VI, {"lat": LAT}, tau2="0.1"), "tau2"),
        (lambda: am.meta_regression(YI, VI, {"lat": LAT}, intercept="no"), "intercept"),
        (lambda: fit_regression_many(YI, VI, np.ones((13, 1)), maxiter=0), "maxiter"),
        (lambda: am.trim_and_fill(fit, maxiter=0), "maxiter"),
        (lambda: am.begg_test(fit, exact="no"), "exact"),
        (lambda: am.gosh(fit, max_subsets=0), "max_subsets"),
        (lambda: am.gosh(fit, max_subsets=10, seed=-1), "seed"),
        (lambda: am.bootstrap(fit, n_boot=1.5), "n_boot"),
        (lambda: am.bootstrap(fit, n_boot=1), "n_boot"),
        (lambda: am.permutation_test(reg, n_permutations="10"), "n_permutations"),
        (lambda: am.permutation_test(fit, n_permutations=10, exact="yes"), "exact"),
        (lambda: am.cumulative(fit, decreasing="yes"), "decreasing"),
        (lambda: am.selection_model(fit, steps="a"), "steps"),
        (lambda: am.leave_one_out("not a fit"), "PooledResult"),
        (lambda: am.influence(None), "influence"),
    ]
    for call, name in cases:
        with pytest.raises(AlsmetaInputError, match=name):
            call()


# ================================================================== 6. missing values
def test_missing_values_raise_naming_the_studies_and_column():
    yi = YI.copy()
    yi[[2, 5]] = np.nan
    labels = [f"S{i}" for i in range(13)]
    with pytest.raises(AlsmetaInputError, match=r"study 'S2', column 'yi': value is missing.*2 studies.*'S5'"):
        am.pool(yi, VI, labels=labels)
    with pytest.raises(AlsmetaInputError, match=r"row 4, column 'labels': value is missing"):
        am.pool(YI, VI, labels=labels[:3] + [None] + labels[4:])
    with pytest.raises(AlsmetaInputError, match=r"study 'S1', column 'sei'"):
        am.pool(YI, sei=[0.1, None] + [0.1] * 11, labels=labels)


def test_na_action_drop_warns_and_fits_the_rest():
    yi = YI.copy()
    yi[2] = np.nan
    labels = [f"S{i}" for i in range(13)]
    labels[7] = float("nan")
    with pytest.warns(am.AlsmetaWarning, match=r"2 of 13 studies dropped.*'S2'.*row 8"):
        fit = am.pool(yi, VI, labels=labels, na_action="drop")
    keep = np.ones(13, bool)
    keep[[2, 7]] = False
    ref = am.pool(YI[keep], VI[keep])
    assert fit.k == 11 and fit.estimate == ref.estimate and "S2" not in fit.labels


def test_missing_moderators_and_groups():
    lat = LAT.copy()
    lat[4] = np.nan
    with pytest.raises(AlsmetaInputError, match=r"column 'lat': value is missing"):
        am.meta_regression(YI, VI, {"lat": lat})
    with pytest.warns(am.AlsmetaWarning, match="1 of 13 studies dropped"):
        reg = am.meta_regression(YI, VI, {"lat": lat}, na_action="drop")
    keep = ~np.isnan(lat)
    ref = am.meta_regression(YI[keep], VI[keep], {"lat": LAT[keep]})
    np.testing.assert_array_equal(reg.coefficients["estimate"], ref.coefficients["estimate"])
    groups = list(np.where(LAT > 30, "high", "low"))
    groups[0] = None
    with pytest.raises(AlsmetaInputError, match=r"column 'groups'"):
        am.subgroup_analysis(YI, VI, groups)
    sg = _quiet(am.subgroup_analysis, YI, VI, groups, na_action="drop")
    assert int(sg.subgroups["k"].sum()) == 12


def test_pool_many_nan_in_use_names_row_and_column():
    Y = np.tile(YI, (3, 1))
    Y[1, 4] = np.nan
    with pytest.raises(AlsmetaInputError, match=r"row 1, study column 4 is missing \(NaN\)"):
        am.pool_many(Y, np.tile(VI, (3, 1)))
    mask = np.ones((3, 13), bool)
    mask[1, 4] = False  # NaN outside the mask is never read
    res = am.pool_many(Y, np.tile(VI, (3, 1)), mask)
    assert np.isfinite(res.estimate).all()


# ================================================================== 7. duplicate labels
def test_duplicate_labels_are_made_unique_as_metafor_does():
    """dat.bcg has two trials labelled 'Rosenthal et al'; metafor makes them 'Rosenthal et al.1' and '.2'."""
    labels = [
        "Aronson",
        "Ferguson & Simes",
        "Rosenthal et al",
        "Hart & Sutherland",
        "Frimodt-Moller et al",
        "Stein & Aronson",
        "Vandiviere et al",
        "TPT Madras",
        "Coetzee & Berjak",
        "Rosenthal et al",
        "Comstock et al",
        "Comstock & Webster",
        "Comstock et al",
    ]
    with pytest.warns(am.AlsmetaWarning, match="'Rosenthal et al', 'Comstock et al'"):
        fit = am.pool(YI, VI, labels=labels)
    assert fit.labels[2] == "Rosenthal et al.1" and fit.labels[9] == "Rosenthal et al.2"
    assert fit.labels[10] == "Comstock et al.1" and fit.labels[12] == "Comstock et al.2"
    assert len(set(fit.labels)) == 13


def test_made_up_labels_never_collide():
    from alsmeta.validation import make_unique

    assert make_unique(["a", "a", "a.1"]) == ["a.1.1", "a.2", "a.1.2"]
    assert len(set(make_unique(["a", "a", "a.1", "a.2"]))) == 4


# ================================================================== 10. vectorised validation
def test_numeric_validation_of_a_million_studies_is_vectorised():
    """No per-study Python loop on the happy path: a float array is never turned into a Python list."""
    from alsmeta.validation import numeric_column

    class NoList(np.ndarray):
        def tolist(self):
            raise AssertionError("per-entry conversion on the happy path")

    arr = np.random.default_rng(0).uniform(0.1, 1.0, 1_000_000)
    out = numeric_column(arr.view(NoList), "vi", None, positive=True)
    np.testing.assert_array_equal(out, arr)
    np.testing.assert_array_equal(numeric_column(pd.Series(arr), "vi", None, positive=True), arr)
