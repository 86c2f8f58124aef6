"""Specification curves: batched fits equal alsmeta.pool in a loop; shares; input errors."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

import alsmeta as am
from alsmeta.diagnostics import multiverse as mv
from alsmeta.validation import AlsmetaInputError

EFFECTS = {
    "oh": (1.13, 0.2351),
    "kim": (0.38, 0.1736),
    "kim_printed": (1.14, 0.5207),
    "petrou": (0.6, 0.2894),
    "petrou_plus": (1.8, 0.8682),
}


def _specs() -> pd.DataFrame:
    return mv.expand_grid(
        s_oh=["oh"],
        s_kim=["kim", "kim_printed", None],
        s_petrou=["petrou", "petrou_plus", None],
        method=["CE", "DL", "REML", "PM", "SJ"],
        test=["z", "t", "knha", "adhoc"],
    )


def test_expand_grid_is_full_factorial() -> None:
    g = mv.expand_grid(a=[1, 2, 3], b=["x", "y"])
    assert g.shape == (6, 2)
    assert set(map(tuple, g.to_numpy().tolist())) == {(i, j) for i in (1, 2, 3) for j in "xy"}


def test_batch_equals_pool_in_a_loop_and_share_recomputed() -> None:
    specs = _specs()
    res = mv.fit_specifications(specs, EFFECTS, slots=["s_oh", "s_kim", "s_petrou"])
    assert len(res) == len(specs) == 180
    hits = 0
    for i, row in enumerate(specs.itertuples(index=False)):
        keys = [k for k in (row.s_oh, row.s_kim, row.s_petrou) if k is not None]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", am.AlsmetaWarning)
            f = am.pool(
                [EFFECTS[k][0] for k in keys], sei=[EFFECTS[k][1] for k in keys], method=row.method, test=row.test
            )
        got = res.specifications.loc[i]
        assert got.k == len(keys)
        for c in ("estimate", "se", "ci_low", "ci_high", "tau2"):
            assert got[c] == pytest.approx(getattr(f, c), rel=1e-10, abs=1e-12)
        hits += f.ci_low > 0
    assert res.share("positive") == pytest.approx(hits / len(specs), abs=1e-15)
    by = res.share("positive", by="test")
    assert set(by.index) == {"z", "t", "knha", "adhoc"}


def test_bayesian_rows_match_bayes_meta_and_are_cached() -> None:
    specs = pd.DataFrame(
        {"s1": ["oh", "oh", "oh"], "s2": ["kim", "kim", None], "method": ["bayes"] * 3, "tau_scale": [0.5, 0.5, 1.0]}
    )
    res = mv.fit_specifications(specs, EFFECTS, slots=["s1", "s2"])
    r = am.bayes_meta([1.13, 0.38], sei=[0.2351, 0.1736], tau_scale=0.5)
    row = res.specifications.loc[0]
    assert row.estimate == pytest.approx(r.mu_mean) and row.ci_low == pytest.approx(r.mu_ci_low)
    assert row.prob_positive == pytest.approx(r.prob_above(0.0))
    assert math.isnan(row.pvalue)
    r1 = am.bayes_meta([1.13], sei=[0.2351], tau_scale=1.0)
    assert res.specifications.loc[2].ci_high == pytest.approx(r1.mu_ci_high)


def test_empty_specification_never_holds_and_curve_is_sorted() -> None:
    specs = pd.DataFrame({"s": ["oh", None, "kim"], "method": ["REML"] * 3, "test": ["z"] * 3})
    res = mv.fit_specifications(specs, EFFECTS, slots=["s"])
    assert res.specifications.k.tolist() == [1, 0, 1]
    assert res.holds("positive").tolist() == [True, False, True]
    assert res.holds("negative").tolist() == [False, False, False]
    curve = res.curve()
    assert curve.estimate.iloc[:2].is_monotonic_increasing and curve.spec.tolist() == [2, 0, 1]


@pytest.mark.parametrize(
    ("specs", "effects", "match"),
    [
        (pd.DataFrame({"s": ["nope"], "method": ["REML"], "test": ["z"]}), EFFECTS, "not in effects"),
        (pd.DataFrame({"s": ["oh"], "method": ["XX"], "test": ["z"]}), EFFECTS, "unknown method"),
        (pd.DataFrame({"s": ["oh"], "method": ["REML"], "test": ["wald"]}), EFFECTS, "unknown test"),
        (pd.DataFrame({"s": ["oh"], "method": ["bayes"]}), EFFECTS, "tau_scale"),
        (pd.DataFrame({"s": ["oh"], "method": ["bayes"], "tau_scale": [0.0]}), EFFECTS, "must be > 0"),
        (pd.DataFrame({"s": ["oh"], "method": ["REML"], "test": ["z"]}), {"oh": (1.0, -1.0)}, "must be > 0"),
        (pd.DataFrame({"s": ["oh"], "method": ["REML"], "test": ["z"]}), {"oh": (float("nan"), 1.0)}, "finite"),
        (pd.DataFrame({"s": [], "method": [], "test": []}), EFFECTS, "0 rows"),
        (pd.DataFrame({"s": ["oh"], "method": ["REML"], "test": ["z"], "estimate": [1]}), EFFECTS, "reserved"),
    ],
)
def test_bad_input_names_the_problem(specs: pd.DataFrame, effects: dict, match: str) -> None:
    with pytest.raises(AlsmetaInputError, match=match):
        mv.fit_specifications(specs, effects, slots=["s"])


def test_bad_slots_and_grid() -> None:
    specs = pd.DataFrame({"s": ["oh"], "method": ["REML"], "test": ["z"]})
    with pytest.raises(AlsmetaInputError, match="not in the specifications"):
        mv.fit_specifications(specs, EFFECTS, slots=["t"])
    with pytest.raises(AlsmetaInputError, match="duplicate"):
        mv.fit_specifications(specs, EFFECTS, slots=["s", "s"])
    with pytest.raises(AlsmetaInputError, match="at least one level"):
        mv.expand_grid(a=[])
    with pytest.raises(AlsmetaInputError, match="list or tuple"):
        mv.expand_grid(a="REML")
    res = mv.fit_specifications(specs, EFFECTS, slots=["s"])
    with pytest.raises(AlsmetaInputError, match="direction"):
        res.share("up")
    with pytest.raises(AlsmetaInputError, match="no column"):
        res.share(by="nope")


def test_effects_as_dataframe() -> None:
    table = pd.DataFrame({"yi": [1.13, 0.38], "se": [0.2351, 0.1736]}, index=["oh", "kim"])
    specs = pd.DataFrame({"a": ["oh"], "b": ["kim"], "method": ["DL"], "test": ["z"]})
    y, v, m = mv.specification_data(specs, table, ["a", "b"])
    np.testing.assert_allclose(y, [[1.13, 0.38]])
    np.testing.assert_allclose(v, [[0.2351**2, 0.1736**2]])
    assert m.all()


def test_distinct_analyses_collapses_identical_fits_only():
    # DL and REML put tau2 at 0 on these two equal-precision studies with equal effects:
    # the same analysis; PM on other data is another one, and so is k = 1.
    table = pd.DataFrame(
        {
            "method": ["DL", "REML", "PM", "DL"],
            "k": [2, 2, 2, 1],
            "estimate": [1.0, 1.0 + 1e-14, 1.5, 1.0],
            "ci_low": [0.0, 0.0, 1.0, 0.0],
            "ci_high": [2.0, 2.0, 2.0, 2.0],
        }
    )
    out = mv.distinct_analyses(table)
    assert list(out["method"]) == ["DL", "PM", "DL"]
    assert list(out["n_combinations"]) == [2, 1, 1]
    assert list(out["combinations"]) == [(0, 1), (2,), (3,)]
    # a difference in the 9th significant digit is a different analysis
    table.loc[1, "estimate"] = 1.000000001
    assert len(mv.distinct_analyses(table)) == 4


def test_distinct_analyses_treats_nan_as_equal_and_rejects_unknown_columns():
    table = pd.DataFrame(
        {"k": [0, 0], "estimate": [np.nan, np.nan], "ci_low": [np.nan, np.nan], "ci_high": [np.nan, np.nan]}
    )
    assert len(mv.distinct_analyses(table)) == 1
    with pytest.raises(AlsmetaInputError, match="columns"):
        mv.distinct_analyses(table, columns=("k", "nope"))


def _duplicated_multiverse() -> mv.MultiverseResult:
    # "oh" alone: every estimator and test gives one fit (20 combinations, 1 analysis, holds);
    # "kim" alone: likewise (does not hold at 0.5); "oh"+"kim": the estimators differ.
    specs = mv.expand_grid(
        s1=["oh", None], s2=["kim", None], method=["CE", "DL", "REML", "PM", "SJ"], test=["z", "t", "knha", "adhoc"]
    )
    specs = specs[specs.s1.notna() | specs.s2.notna()].reset_index(drop=True)
    return mv.fit_specifications(specs, EFFECTS, slots=["s1", "s2"])


def test_share_over_distinct_analyses_counts_each_fit_once() -> None:
    res = _duplicated_multiverse()
    s = res.specifications
    assert len(res) == 60
    # distinct analyses recomputed by hand: rounded (k, estimate, ci_low, ci_high)
    keys = {(r.k, round(r.estimate, 9), round(r.ci_low, 9), round(r.ci_high, 9)) for r in s.itertuples()}
    distinct = res.distinct()
    assert len(distinct) == len(keys) == res.count() and res.count(distinct=False) == 60
    assert distinct.n_combinations.sum() == 60
    single = distinct[distinct.k == 1]
    assert len(single) == 2 and single.n_combinations.tolist() == [20, 20]
    holds = {key for key in keys if key[2] > 0.5}
    assert res.share("positive", 0.5, distinct=True) == pytest.approx(len(holds) / len(keys), abs=1e-15)
    assert res.share("positive", 0.5) == pytest.approx(float((s.ci_low > 0.5).mean()), abs=1e-15)
    # a restriction: without "kim", only the one-study "oh" analysis is left
    without_kim = (s.s2.isna()).to_numpy()
    assert res.count(without_kim) == 1 and res.count(without_kim, distinct=False) == 20
    assert res.share("positive", 0.5, rows=without_kim, distinct=True) == 1.0
    # per level of a choice: the distinct analyses reachable with that level
    by = res.share("positive", 0.5, by="method", distinct=True)
    for method, value in by.items():
        sub = s[s.method == method]
        k = {(r.k, round(r.estimate, 9), round(r.ci_low, 9), round(r.ci_high, 9)) for r in sub.itertuples()}
        assert value == pytest.approx(sum(key[2] > 0.5 for key in k) / len(k), abs=1e-15)


def test_bayesian_rows_are_never_merged_with_frequentist_ones_but_priors_are_compared() -> None:
    specs = pd.DataFrame(
        {
            "s": ["oh", "oh", "oh", "oh"],
            "method": ["REML", "bayes", "bayes", "bayes"],
            "test": ["z", None, None, None],
            "tau_scale": [None, 0.5, 0.5, 1.0],
        }
    )
    res = mv.fit_specifications(specs, EFFECTS, slots=["s"])
    assert res.count() == 3  # REML; bayes 0.5 (twice: one analysis); bayes 1.0
    # a Bayesian row whose numbers equal a frequentist one's is still a different analysis
    frame = res.specifications.copy()
    frame.loc[1, ["estimate", "ci_low", "ci_high"]] = frame.loc[0, ["estimate", "ci_low", "ci_high"]].to_numpy()
    doctored = mv.MultiverseResult(frame, res.choices, res.slots, res.level)
    assert len(mv.distinct_analyses(frame)) == 3 and doctored.count() == 4


def test_curve_order_ignores_last_bit_noise_and_breaks_ties_by_choices() -> None:
    res = _duplicated_multiverse()
    frame = res.specifications.copy()
    noisy = frame.copy()
    # the same results with last-bit differences in alternating directions (as another platform or input path gives)
    step = np.where(np.arange(len(noisy)) % 2 == 0, np.inf, -np.inf)
    for c in ("estimate", "ci_low", "ci_high"):
        noisy[c] = np.nextafter(noisy[c].to_numpy(), step)
    a = mv.MultiverseResult(frame, res.choices, res.slots, res.level).curve()
    b = mv.MultiverseResult(noisy, res.choices, res.slots, res.level).curve()
    assert a.spec.tolist() == b.spec.tolist()
    assert a.round(6).to_csv(index=False) == b.round(6).to_csv(index=False)
    # ties are ordered by the choices as text: the 20 "oh"-only rows by method, then test
    oh = a[(a.k == 1) & (a.s1 == "oh")]
    assert list(zip(oh.method, oh.test, strict=True)) == sorted(zip(oh.method, oh.test, strict=True))
    dist = res.curve(distinct=True)
    assert len(dist) == res.count() and dist.estimate.is_monotonic_increasing
    assert (dist["rank"] == np.arange(len(dist))).all()


def test_rows_mask_must_match_the_specifications() -> None:
    res = _duplicated_multiverse()
    with pytest.raises(AlsmetaInputError, match="rows"):
        res.share(rows=[True, False])
    with pytest.raises(AlsmetaInputError, match="rows"):
        res.count(np.ones(len(res), int))


def test_uses_marks_the_specifications_that_include_a_study() -> None:
    res = _duplicated_multiverse()
    assert res.uses("s2").tolist() == res.specifications.s2.notna().tolist()
    with pytest.raises(AlsmetaInputError, match="slot"):
        res.uses("method")
