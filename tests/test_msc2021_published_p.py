"""A study whose SE comes from its published P value: every interval of it agrees with that P.

Audit B2: an SE back-calculated with t(19) and then drawn with a z interval made Petrou 2016 (p = 0.052)
look significant. The rule now: an Effect's own interval uses the reference distribution its SE came from
(Effect.ci), the primary conversion is z (what the forests and pooled z analyses draw), and an analysis of
one such study alone takes the z-derived SE, so that its z interval reproduces the published P.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

import alsmeta as am
from alsmeta.als.msc2021.effects import Effect, rebuild_effects
from alsmeta.als.msc2021.protocol import FIRST, IT_MSC
from alsmeta.als.msc2021.reconstruction import forests
from alsmeta.als.prepost_stress.specifications import NA, alsfrs_specifications, effect_table, fvc_specifications
from alsmeta.als.tables import load_evidence

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def rebuilt():
    return rebuild_effects(load_evidence(ROOT / "data"))


def published_p(e: Effect) -> float:
    """The P value the effect's SE was derived from (its source row)."""
    (p,) = [s["value"] for s in e.sources if s["statistic"] == "p"]
    return float(p)


def p_from_interval(e: Effect) -> float:
    """The two-sided P value implied by the effect's own 95% interval (its reference distribution)."""
    lo, hi = e.ci
    half = (hi - lo) / 2
    q975 = stats.norm.isf(0.025) if math.isinf(e.df) else stats.t.isf(0.025, e.df)
    statistic = abs(e.yi) / (half / q975)
    return float(2 * (stats.norm.sf(statistic) if math.isinf(e.df) else stats.t.sf(statistic, e.df)))


def _effect(yi: float, se: float, df: float) -> Effect:
    return Effect("k", "s", "S", "alsfrs_r", FIRST, IT_MSC, yi, se, 20, "p", "verified", "", df=df)


@given(
    yi=st.floats(0.01, 100) | st.floats(-100, -0.01),
    p=st.floats(0.001, 0.999),
    df=st.sampled_from([math.inf, 2.0, 5.0, 19.0, 21.0, 200.0]),
)
def test_an_interval_in_the_distribution_of_its_se_reproduces_p(yi: float, p: float, df: float) -> None:
    """SE from P under z or t(df), interval under the same: P recovered, and it excludes 0 iff P < 0.05."""
    se = float(am.se_from_p([yi], [p], df=None if math.isinf(df) else df).se[0])
    e = _effect(yi, se, df)
    assert p_from_interval(e) == pytest.approx(p, rel=1e-7)
    lo, hi = e.ci
    if abs(p - 0.05) > 1e-9:
        assert (lo > 0 or hi < 0) == (p < 0.05)


def test_mixing_distributions_is_what_went_wrong() -> None:
    """The audited case: a t(19)-derived SE with a z interval excludes 0 at p = 0.052; with t(19) it does not."""
    se_t = float(am.se_from_p([0.6], [0.052], df=19).se[0])
    assert _effect(0.6, se_t, math.inf).ci[0] > 0  # the old drawing: [0.03, 1.17]
    assert _effect(0.6, se_t, 19.0).ci[0] < 0


def test_every_p_derived_effect_agrees_with_its_published_p(rebuilt) -> None:
    from_p = [e for e in [*rebuilt.primary, *rebuilt.alternatives] if e.se_from.startswith("p = ")]
    assert {e.study_id for e in from_p} == {"kim2009", "petrou2016"}
    assert len(from_p) == 8  # Kim 2009 (3 readings), Petrou 2016 (ALSFRS-R 3, FVC 2)
    for e in from_p:
        p = published_p(e)
        assert p_from_interval(e) == pytest.approx(p, rel=1e-7), e.key
        lo, hi = e.ci
        assert (lo > 0 or hi < 0) == (p < 0.05), e.key
        assert e.interval_from in e.se_from, e.key  # "p = 0.052, z" is drawn with z; "..., t(19)" with t(19)
    # the primary readings are z (so the z-based forests and pooled z analyses use them as they are)
    assert all(e.interval_from == "z" for e in (rebuilt.kim, rebuilt.pet_a, rebuilt.pet_f))
    assert rebuilt.pet_a.ci[0] < 0 < rebuilt.pet_a.ci[1]  # p = 0.052: not significant, as published


def test_every_forest_row_is_drawn_as_its_published_p_says(rebuilt) -> None:
    """The forests draw z intervals of the fit's studies: each row is the effect's own interval."""
    for forest in forests(rebuilt):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", am.AlsmetaWarning)
            rows = forest.fit.to_frame()
        for e, (_, row) in zip(forest.effects, rows.iterrows(), strict=True):
            assert e.interval_from == "z", (forest.key, e.key)
            assert (row.ci_low, row.ci_high) == pytest.approx(e.ci, rel=1e-12), (forest.key, e.key)
            if e.se_from.startswith("p = "):
                assert (row.ci_low > 0 or row.ci_high < 0) == (published_p(e) < 0.05), (forest.key, e.key)


@pytest.mark.parametrize("specifications", [alsfrs_specifications, fvc_specifications])
def test_a_lone_p_derived_study_takes_its_z_se(specifications) -> None:
    """One study alone: its SE is the z-derived one and the conversion choice is n/a; pooled, both readings stay."""
    specs = specifications((0.5,))
    slots = [c for c in ("Oh 2018", "Kim 2009", "Petrou 2016") if c in specs.columns]
    used = specs[slots].notna().sum(axis=1)
    lone = specs[(used == 1) & specs[slots].apply(lambda r: any(isinstance(v, str) and v[:2] != "oh" for v in r), 1)]
    assert len(lone) > 0
    keys = {v for r in lone[slots].itertuples(index=False) for v in r if isinstance(v, str)}
    assert keys and all(k.endswith("_z") for k in keys)
    assert (lone["p to SE"] == NA).all()
    pooled = specs[(used > 1) & (specs["p to SE"] != NA)]
    assert set(pooled["p to SE"]) == {"z", "t(n-1)"}


def test_no_single_study_analysis_holds_against_its_published_p() -> None:
    """Every frequentist model of one p-derived study holds iff its published P < 0.05 (in the claimed direction)."""
    effects, table = effect_table(load_evidence(ROOT / "data"))
    for specifications, direction in ((alsfrs_specifications, 1.0), (fvc_specifications, -1.0)):
        specs = specifications((0.1, 0.5))
        slots = [c for c in ("Oh 2018", "Kim 2009", "Petrou 2016") if c in specs.columns]
        for _, row in specs[specs.framework == "frequentist"].iterrows():
            keys = [row[c] for c in slots if isinstance(row[c], str)]
            if len(keys) != 1 or keys[0].startswith("oh_"):
                continue
            e = effects[keys[0]]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", am.AlsmetaWarning)
                f = am.pool([e.yi], sei=[e.se], method=row["method"], test=row["test"])
            holds = (f.ci_low > 0) if direction > 0 else (f.ci_high < 0)
            assert holds == (published_p(e) < 0.05 and np.sign(e.yi) == direction), (keys[0], row["method"])
