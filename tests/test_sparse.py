"""Sparse binary outcomes: pool_mh (Mantel-Haenszel) and pool_peto against metafor and statsmodels.

tests/reference/metafor_sparse.json comes from tests/reference/generate_sparse_reference.R
(metafor 3.8-1 rma.mh / rma.peto over metadat data sets and hand-made sparse tables, every
measure and zero-cell variant). Both methods are closed forms, so every field is compared at
relative 1e-8, and metafor's NA must be NaN here (and only there).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import alsmeta as am
from conftest import load_reference

REF = load_reference("metafor_sparse.json")
REL, ABS = 1e-8, 1e-13

# metafor field -> alsmeta attribute, for every fit
COMMON_FIELDS = {
    "k": "k",
    "k_yi": "k_yi",
    "estimate": "estimate",
    "se": "se",
    "zval": "statistic",
    "pval": "pvalue",
    "ci_lb": "ci_low",
    "ci_ub": "ci_high",
    "QE": "q",
    "QEp": "q_pvalue",
    "I2": "i2",
    "H2": "h2",
}
# metafor field -> alsmeta attribute, MH odds ratio only (NaN elsewhere)
OR_TEST_FIELDS = {
    "CO": "cochran",
    "COp": "cochran_pvalue",
    "MH": "cmh",
    "MHp": "cmh_pvalue",
    "BD": "breslow_day",
    "BDp": "breslow_day_pvalue",
    "TA": "tarone",
    "TAp": "tarone_pvalue",
}


def _same(got, expected, what: str) -> None:
    """metafor NA (None) <-> NaN here; otherwise relative REL."""
    exp = np.atleast_1d(np.array([np.nan if e is None else e for e in np.atleast_1d(expected)], dtype=float))
    g = np.atleast_1d(np.asarray(got, dtype=float))
    assert g.shape == exp.shape, f"{what}: shape {g.shape} vs metafor {exp.shape}"
    assert np.array_equal(np.isnan(g), np.isnan(exp)), f"{what}: NaN pattern {g} vs metafor {exp}"
    ok = ~np.isnan(exp)
    assert np.all(np.abs(g[ok] - exp[ok]) <= REL * np.abs(exp[ok]) + ABS), f"{what}: {g} vs metafor {exp}"


def _cases():
    for ds in REF["datasets"]:
        for fit in ds["fits"]:
            assert not fit["failed"], fit
            yield pytest.param(ds, fit, id=f"{ds['name']}-{fit['id']}")


def _fit(ds: dict, ref: dict) -> am.BinaryPooledResult:
    args = ref["args"] if isinstance(ref["args"], dict) else {}
    kwargs = {
        "labels": ds["labels"],
        "add": tuple(ref["add"]),
        "to": tuple(ref["to"]),
        "drop00": tuple(ref["drop00"]),
        "level": ref["level"],
    }
    cells = (ds["ai"], ds["bi"], ds["ci"], ds["di"])
    if ref["measure"] == "PETO":
        return am.pool_peto(*cells, **kwargs)
    return am.pool_mh(*cells, measure=ref["measure"], correct=args.get("correct", True), **kwargs)


@pytest.mark.filterwarnings("ignore::alsmeta.AlsmetaWarning")
@pytest.mark.parametrize(("ds", "ref"), list(_cases()))
def test_matches_metafor(ds, ref):
    fit = _fit(ds, ref)
    for field, attr in COMMON_FIELDS.items():
        _same(getattr(fit, attr), ref[field], f"{field}")
    _same(fit.yi, ref["yi_f"], "yi")
    _same(fit.vi, ref["vi_f"], "vi")
    _same(fit.weights, ref["weights_f"], "weights")
    is_mh_or = ref["measure"] == "OR"
    for field, attr in OR_TEST_FIELDS.items():
        _same(getattr(fit, attr), ref[field] if is_mh_or else None, field)
    if is_mh_or:
        assert fit.bd_df == max(ref["k_pos"] - 1, 0)
    assert fit.level == pytest.approx(ref["level"] / 100)
    assert fit.add == tuple(ref["add"]) and fit.to == tuple(ref["to"]) and fit.drop00 == tuple(ref["drop00"])


def test_reference_covers_the_sparse_cases():
    """The reference file must hold double-zero and single-zero tables and an undefined MH estimate."""
    names = {ds["name"] for ds in REF["datasets"]}
    assert {"dat.bcg", "dat.nielweise2007", "dat.egger2001", "dat.yusuf1985", "edge.sparse", "edge.k1"} <= names
    assert REF["metafor_version"] == "3.8.1"
    undefined = [f for ds in REF["datasets"] for f in ds["fits"] if f["estimate"] is None]
    assert undefined, "expected at least one fit where metafor's MH estimate is NA"


# ---------------------------------------------------------------------------------------------
# Double-zero studies and zero-cell rules, stated
# ---------------------------------------------------------------------------------------------
NIEL = next(ds for ds in REF["datasets"] if ds["name"] == "dat.nielweise2007")
NIEL_CELLS = (NIEL["ai"], NIEL["bi"], NIEL["ci"], NIEL["di"])
DOUBLE_ZERO = NIEL["labels"][14]  # 0/118 vs 0/105


def test_double_zero_study_kept_in_mh_sums_but_not_in_q():
    fit = am.pool_mh(*NIEL_CELLS, labels=NIEL["labels"])
    row = fit.to_frame().set_index("label").loc[DOUBLE_ZERO]
    assert row["in_pool"] and not row["in_q"]
    assert row["weight"] == 0.0 and np.isnan(row["yi"])
    assert fit.k == 18 and fit.k_yi == 17 and fit.q_df == 16
    assert any(DOUBLE_ZERO in n and "kept in the pooled sums" in n for n in fit.notes)
    # contributing zero: dropping it from the sums as well leaves the MH OR unchanged, k drops by one
    dropped = am.pool_mh(*NIEL_CELLS, labels=NIEL["labels"], drop00=(True, True))
    assert dropped.k == 17 and dropped.estimate == pytest.approx(fit.estimate, rel=1e-14)


def test_double_zero_study_with_drop00_false_enters_q_with_half_added():
    fit = am.pool_mh(*NIEL_CELLS, labels=NIEL["labels"], drop00=False)
    row = fit.to_frame().set_index("label").loc[DOUBLE_ZERO]
    assert row["in_q"] and row["yi"] == pytest.approx(np.log((0.5 * 105.5) / (118.5 * 0.5)), rel=1e-13)
    assert fit.k_yi == 18


def test_mh_estimate_uses_raw_counts_by_default():
    # one single-zero table: the MH OR from the raw counts is R/S, not the corrected table's
    a, b, c, d = [0, 3], [10, 7], [2, 4], [8, 6]
    fit = am.pool_mh(a, b, c, d)
    r = sum(ai * di / (ai + bi + ci + di) for ai, bi, ci, di in zip(a, b, c, d, strict=True))
    s = sum(bi * ci / (ai + bi + ci + di) for ai, bi, ci, di in zip(a, b, c, d, strict=True))
    assert fit.estimate == pytest.approx(np.log(r / s), rel=1e-14)
    corrected = am.pool_mh(a, b, c, d, add=(0.5, 0.5), to=("only0", "only0"))
    assert corrected.estimate != pytest.approx(fit.estimate, rel=1e-3)


def test_undefined_effects_without_correction_are_left_out_of_q_with_a_note():
    a, b, c, d = [0, 3, 5], [10, 7, 5], [2, 4, 3], [8, 6, 7]
    fit = am.pool_mh(a, b, c, d, add=0, labels=["Z", "P", "Q"])
    assert not fit.in_q[0] and fit.k_yi == 2
    # metafor 3.8-1: rma.mh(ai=c(0,3,5), bi=c(10,7,5), ci=c(2,4,3), di=c(8,6,7), add=0): QE 1.268779, I2 21.18406
    assert fit.q == pytest.approx(1.268779, rel=1e-6) and fit.i2 == pytest.approx(21.18406, rel=1e-6)
    assert any("undefined" in n and "Z" in n for n in fit.notes)


def test_no_events_in_control_arm_gives_undefined_mh_rr_with_warning():
    with pytest.warns(am.AlsmetaWarning, match="undefined"):
        fit = am.pool_mh([2, 1], [18, 19], [0, 0], [20, 21], measure="RR")
    assert np.isnan(fit.estimate) and np.isnan(fit.ci_low) and np.isnan(fit.q)


def test_peto_without_any_informative_table_is_nan_with_warning():
    with pytest.warns(am.AlsmetaWarning, match="undefined"):
        fit = am.pool_peto([0, 0], [10, 12], [0, 0], [11, 9])
    assert np.isnan(fit.estimate) and fit.k == 2


# ---------------------------------------------------------------------------------------------
# k = 0, k = 1, level, output
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("pool", [am.pool_mh, am.pool_peto])
def test_k0_is_a_defined_empty_result(pool):
    fit = pool([], [], [], [])
    assert fit.is_empty and fit.k == 0 and np.isnan(fit.estimate)
    assert "nothing to pool" in fit.summary()
    assert fit.to_frame().empty
    json.dumps(fit.to_dict(), allow_nan=False)


@pytest.mark.parametrize("measure", ["OR", "RR", "RD"])
def test_k1_is_the_study_mh_effect(measure):
    fit = am.pool_mh([4], [16], [9], [11], measure=measure)
    expected = {"OR": np.log(4 * 11 / (16 * 9)), "RR": np.log((4 / 20) / (9 / 20)), "RD": 4 / 20 - 9 / 20}[measure]
    assert fit.k == 1 and fit.estimate == pytest.approx(expected, rel=1e-13)
    assert (fit.q, fit.q_df, fit.q_pvalue, fit.i2, fit.h2) == (0.0, 0, 1.0, 0.0, 1.0)


def test_level_as_percent_or_fraction():
    a = am.pool_mh(*NIEL_CELLS, level=90)
    b = am.pool_mh(*NIEL_CELLS, level=0.90)
    assert a.level == b.level == pytest.approx(0.9) and a.ci_low == b.ci_low


def test_outputs_transform_and_serialise():
    fit = am.pool_mh(*NIEL_CELLS, labels=NIEL["labels"])
    frame = fit.to_frame(transf=np.exp)
    assert len(frame) == 18 and "vi" not in frame
    assert frame["yi"].iloc[0] == pytest.approx(np.exp(fit.yi[0]))
    assert np.nansum(fit.weights) == pytest.approx(100.0)
    text = fit.summary(transf=np.exp)
    assert f"{np.exp(fit.estimate):.4f}" in text and "Breslow-Day" in text and "Tarone" in text
    d = json.loads(json.dumps(fit.to_dict(), allow_nan=False))
    assert d["estimate"] == fit.estimate and d["yi"][14] is None and d["tau2"] == 0.0


def test_result_has_the_pooled_result_names_a_forest_plot_reads():
    """Same names as PooledResult where the concept is the same: z test, no PI, tau2 = 0, common effect."""
    fit = am.pool_mh(*NIEL_CELLS, labels=NIEL["labels"])
    ce = am.pool(fit.yi[fit.in_q], fit.vi[fit.in_q], method="CE")
    for name in (
        "k",
        "estimate",
        "se",
        "statistic",
        "pvalue",
        "ci_low",
        "ci_high",
        "q",
        "q_df",
        "q_pvalue",
        "i2",
        "h2",
        "level",
        "labels",
        "yi",
        "vi",
        "weights",
        "df",
        "test",
        "pi_low",
        "pi_high",
        "tau2",
        "is_random_effects",
        "is_empty",
        "notes",
    ):
        assert hasattr(ce, name) and hasattr(fit, name), name
    assert (fit.test, fit.tau2, fit.is_random_effects) == ("z", 0.0, False)
    assert np.isnan(fit.df) and np.isnan(fit.pi_low) and np.isnan(fit.pi_high)


# ---------------------------------------------------------------------------------------------
# Bad input: errors name the argument/column and the study
# ---------------------------------------------------------------------------------------------
GOOD = ([1, 2], [9, 8], [3, 0], [7, 10])


@pytest.mark.parametrize(
    ("cells", "match"),
    [
        (([1, -2], [9, 8], [3, 0], [7, 10]), r"study 'B', column 'ai'.*>= 0"),
        (([1, 2], [9, 8.5], [3, 0], [7, 10]), r"study 'B', column 'bi'.*whole number"),
        (([1, 2], [9, 8], [np.nan, 0], [7, 10]), r"study 'A', column 'ci'.*missing"),
        (([1, 2], [9, 8], [3, 0], [7]), r"di has 1"),
        (([1, 0], [9, 0], [3, 0], [7, 0]), r"study 'B', columns 'ai', 'bi', 'ci', 'di'.*without participants"),
        (([1, 0], [9, 0], [3, 2], [7, 5]), r"study 'B', columns 'ai', 'bi'.*group 1 has no participants"),
        (([1, 2], [9, 8], [3, "x"], [7, 10]), r"study 'B', column 'ci'.*not a number"),
    ],
)
@pytest.mark.parametrize("pool", [am.pool_mh, am.pool_peto])
def test_bad_counts_name_study_and_column(pool, cells, match):
    with pytest.raises(am.AlsmetaInputError, match=match):
        pool(*cells, labels=["A", "B"])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"measure": "SMD"}, "measure"),
        ({"to": "some"}, "to"),
        ({"add": -1}, "add"),
        ({"add": (0.5, 0.5, 0.5)}, "add"),
        ({"drop00": "yes"}, "drop00"),
        ({"correct": 1}, "correct"),
        ({"level": 0}, "level"),
    ],
)
def test_bad_options_name_the_argument(kwargs, match):
    with pytest.raises(am.AlsmetaInputError, match=match):
        am.pool_mh(*GOOD, **kwargs)


# ---------------------------------------------------------------------------------------------
# Against statsmodels' StratifiedTable (an independent implementation)
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["dat.bcg", "dat.egger2001", "dat.li2007"])
def test_matches_statsmodels_stratified_table(name):
    from statsmodels.stats.contingency_tables import StratifiedTable

    ds = next(d for d in REF["datasets"] if d["name"] == name)
    tables = np.array(
        [[[a, b], [c, d]] for a, b, c, d in zip(ds["ai"], ds["bi"], ds["ci"], ds["di"], strict=True)], dtype=float
    )
    st_ = StratifiedTable(np.moveaxis(tables, 0, -1))
    fit = am.pool_mh(ds["ai"], ds["bi"], ds["ci"], ds["di"])
    assert fit.estimate == pytest.approx(st_.logodds_pooled, rel=1e-10)
    assert fit.se == pytest.approx(st_.logodds_pooled_se, rel=1e-10)
    assert fit.cmh == pytest.approx(st_.test_null_odds(correction=True).statistic, rel=1e-10)
    assert fit.breslow_day == pytest.approx(st_.test_equal_odds(adjust=False).statistic, rel=1e-8)
    assert fit.tarone == pytest.approx(st_.test_equal_odds(adjust=True).statistic, rel=1e-8)
    rr = am.pool_mh(ds["ai"], ds["bi"], ds["ci"], ds["di"], measure="RR")
    assert np.exp(rr.estimate) == pytest.approx(st_.riskratio_pooled, rel=1e-10)


# ---------------------------------------------------------------------------------------------
# Properties (hypothesis)
# ---------------------------------------------------------------------------------------------
relaxed = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def tables(draw, min_k: int = 2, max_k: int = 8):
    k = draw(st.integers(min_k, max_k))
    rows = []
    for _ in range(k):
        n1, n2 = draw(st.integers(1, 60)), draw(st.integers(1, 60))
        a, c = draw(st.integers(0, n1)), draw(st.integers(0, n2))
        rows.append((a, n1 - a, c, n2 - c))
    cells = tuple(np.array(col, dtype=float) for col in zip(*rows, strict=True))
    # keep the pooled estimates defined: events and non-events in both arms overall
    a, b, c, d = cells
    assume(a.sum() > 0 and b.sum() > 0 and c.sum() > 0 and d.sum() > 0)
    assume((a * d).sum() > 0 and (b * c).sum() > 0)
    return cells


def _fits(cells, measure):
    if measure == "PETO":
        return am.pool_peto(*cells)
    return am.pool_mh(*cells, measure=measure)


MEASURES = st.sampled_from(["OR", "RR", "RD", "PETO"])


@relaxed
@given(cells=tables(), measure=MEASURES, seed=st.integers(0, 2**16))
def test_permuting_studies_changes_nothing(cells, measure, seed):
    order = np.random.default_rng(seed).permutation(len(cells[0]))
    a, b = _fits(cells, measure), _fits(tuple(x[order] for x in cells), measure)
    for attr in ("estimate", "se", "q", "i2", "cmh", "tarone", "breslow_day"):
        x, y = getattr(a, attr), getattr(b, attr)
        assert (np.isnan(x) and np.isnan(y)) or y == pytest.approx(x, rel=1e-10, abs=1e-12), attr


@relaxed
@given(cells=tables(), measure=MEASURES)
def test_swapping_arms_negates_the_log_ratio_or_difference(cells, measure):
    a, b, c, d = cells
    fit, swapped = _fits(cells, measure), _fits((c, d, a, b), measure)
    assert swapped.estimate == pytest.approx(-fit.estimate, rel=1e-10, abs=1e-12)
    assert swapped.se == pytest.approx(fit.se, rel=1e-10)
    assert swapped.q == pytest.approx(fit.q, rel=1e-8, abs=1e-10)


@relaxed
@given(cells=tables(), measure=st.sampled_from(["OR", "RR", "RD"]), factor=st.integers(2, 7))
def test_scaling_all_counts_leaves_the_mh_estimate_unchanged(cells, measure, factor):
    fit = _fits(cells, measure)
    scaled = _fits(tuple(x * factor for x in cells), measure)
    assert scaled.estimate == pytest.approx(fit.estimate, rel=1e-10, abs=1e-12)
    assert scaled.se < fit.se or fit.se == 0
