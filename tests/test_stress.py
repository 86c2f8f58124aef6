"""The pre-post stress test (alsmeta.als.prepost_stress, run by analyses/prepost_stress_test.py): nominal baseline,
specification set, shares, rules."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pytest

import alsmeta as am
from alsmeta.als.prepost_stress.figures import figure_spec_curve
from alsmeta.als.prepost_stress.mechanisms import histories
from alsmeta.als.prepost_stress.missing_studies import studies_to_overturn
from alsmeta.als.prepost_stress.multiverse import csv_text, multiverse, specification_tables
from alsmeta.als.prepost_stress.rates import benefit, pool_rows, rate
from alsmeta.als.prepost_stress.settings import MEASUREMENT_SD_ASSUMPTION, SELECTION_SLOPE
from alsmeta.als.prepost_stress.specifications import FREQ_METHODS, NA, alsfrs_specifications, effect_table
from alsmeta.als.tables import load_evidence
from alsmeta.plots.save import save_figure
from alsmeta.simulate import TrialDesign, simulate_meta_analyses, simulate_trials

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def table():
    return effect_table(load_evidence(ROOT / "data"))[1]


def test_no_mechanism_baseline_is_nominal() -> None:
    """Linear courses, no floor, selection or attrition: the paired t-test keeps its level (within 4 MC SEs)."""
    r = simulate_trials(histories()["none"], TrialDesign(n_patients=20), 4000, seed=7, progress=False)
    assert abs(float(np.mean(r.mean_change))) < 4 * float(np.std(r.mean_change)) / math.sqrt(4000)
    two = rate(r.pvalue < 0.05)
    one = rate(benefit(r.pvalue, r.mean_change))
    assert abs(two.p - 0.05) < 4 * math.sqrt(0.05 * 0.95 / two.n)
    assert abs(one.p - 0.025) < 4 * math.sqrt(0.025 * 0.975 / one.n)


def test_no_mechanism_meta_analysis_near_nominal() -> None:
    designs = [TrialDesign(name=f"d{i}", n_patients=20) for i in range(11)]
    meta = simulate_meta_analyses(histories()["none"], designs, 600, seed=8, progress=False)
    f = pool_rows(meta.yi, meta.vi, meta.mask, "knha")
    r = rate(f.ci_low > 0)
    assert abs(r.p - 0.025) < 4 * math.sqrt(0.025 * 0.975 / r.n)


def test_selection_on_noisy_decline_creates_apparent_slowing() -> None:
    h = histories()["selection"]
    sel = simulate_trials(
        h, TrialDesign(n_patients=20, pre_slope_range=(-math.inf, SELECTION_SLOPE)), 400, seed=9, progress=False
    )
    assert float(np.mean(sel.mean_change)) > 0.1


def test_rate_and_overturn_rule() -> None:
    r = rate(np.array([True, False, False, True]))
    assert r.p == 0.5 and r.se == pytest.approx(0.25)
    assert studies_to_overturn(np.array([1.0, 0.3, 0.2])) == 1
    assert studies_to_overturn(np.array([1.0, 0.4, 0.9, 0.95])) is None  # a dip that recovers does not overturn
    assert studies_to_overturn(np.array([0.0, 0.0, 0.6, 0.2])) == 3
    assert studies_to_overturn(np.array([0.2, 0.1])) == 0


def test_specifications_are_distinct_and_labelled() -> None:
    specs = alsfrs_specifications((0.5,))
    slots = ["Oh 2018", "Kim 2009", "Petrou 2016"]
    data = specs[(specs.method == "REML") & (specs.test == "z")]
    # every choice combination once (choices that do not apply are n/a); different combinations may select the
    # same studies - they are merged into one analysis by distinct_analyses, not dropped here
    assert not data.astype(str).duplicated().any()
    assert data[slots].astype(str).duplicated().any()
    assert data[slots].notna().any(axis=1).all()
    assert ((data["Kim unit"] == NA) == data["Kim 2009"].isna()).all()
    assert ((data["Petrou sign"] == NA) == data["Petrou 2016"].isna()).all()
    assert not data.loc[data["time point"] == "6 months", "Kim 2009"].notna().any()
    assert len(specs) == len(data) * (len(FREQ_METHODS) * 4 + 1)


@pytest.fixture(scope="module")
def multi(table):
    return multiverse(table)


def test_multiverse_share_recomputed_with_pool_in_a_loop(multi) -> None:
    """For the REML/DL x z/HKSJ subset, the batched share equals alsmeta.pool called specification by specification."""
    table = effect_table(load_evidence(ROOT / "data"))[1]
    res = multi[1]["alsfrs_r_benefit"]
    s = res.specifications
    sub = s[s.method.isin(["REML", "DL"]) & s.test.isin(["z", "knha"])]
    assert len(sub) > 100
    hits = 0
    for _, row in sub.iterrows():
        keys = [row[c] for c in ("Oh 2018", "Kim 2009", "Petrou 2016") if isinstance(row[c], str)]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", am.AlsmetaWarning)
            f = am.pool(
                table.loc[keys, "yi"].to_numpy(),
                sei=table.loc[keys, "se"].to_numpy(),
                method=row["method"],
                test=row["test"],
            )
        hits += f.ci_low > 0
    batched = res.holds("positive")[sub.index].mean()
    assert batched == pytest.approx(hits / len(sub), abs=1e-15)


def test_inputs_match_the_reconstruction(table) -> None:
    """Oh 2018 Table 3 (mean 1.13, SD 1.33, n = 32) and Kim 2009 (1.14 / 3 with SE from p = 0.04, t(21))."""
    assert table.loc["oh_first", "yi"] == pytest.approx(1.13)
    assert table.loc["oh_first", "se"] == pytest.approx(1.33 / math.sqrt(32))
    assert table.loc["kim_per3_t", "yi"] == pytest.approx(1.14 / 3)
    from scipy import stats

    assert table.loc["kim_per3_t", "se"] == pytest.approx(1.14 / stats.t.isf(0.02, 21) / 3)


def _sig(v: float) -> str:
    return f"{v:.9e}"  # 10 significant digits


def test_headline_shares_count_distinct_analyses(multi) -> None:
    """Headline shares are over distinct analyses (duplicated fits counted once), with the combinations beside them."""
    numbers, results = multi
    for key, direction in (("alsfrs_r_benefit", "positive"), ("fvc_worse", "negative")):
        s = results[key].specifications
        n = numbers[key]
        hand = {}
        for r in s.itertuples():
            k = (r.k, _sig(r.estimate), _sig(r.ci_low), _sig(r.ci_high), r.framework)
            hand[k] = (r.ci_low > 0) if direction == "positive" else (r.ci_high < 0)
        assert n["choice_combinations"] == len(s)
        assert n["distinct_analyses"] == len(hand) < len(s)
        assert n["analyses_holding"] == sum(hand.values())
        assert n["share_holding_distinct"] == pytest.approx(sum(hand.values()) / len(hand), abs=1e-12)
        assert "rebuild" in n["basis"] and "not of the 2021 paper" in n["basis"]


def test_rebuild_sensitivity_without_kim2009_recomputed(multi) -> None:
    numbers, results = multi
    s = results["alsfrs_r_benefit"].specifications
    sub = s[s["Kim 2009"].isna()]
    hand = {
        (r.k, _sig(r.estimate), _sig(r.ci_low), _sig(r.ci_high), r.framework): r.ci_low > 0 for r in sub.itertuples()
    }
    n = numbers["alsfrs_r_benefit"]["without_kim2009"]
    assert n["choice_combinations"] == len(sub) and n["distinct_analyses"] == len(hand)
    assert n["share_holding_distinct"] == pytest.approx(sum(hand.values()) / len(hand), abs=1e-12)
    secondary = numbers["alsfrs_r_benefit"]["without_secondary_sources"]
    assert secondary["choice_combinations"] == int(s["Petrou 2016"].isna().sum())  # every Petrou value is secondary


def test_no_single_study_analysis_holds_against_its_published_p(multi, table) -> None:
    """Audit B2: Petrou 2016 (p = 0.052) alone never 'holds'; Kim 2009 (p = 0.04) and Petrou FVC (p = 0.036) alone
    hold under every frequentist model, and the Bayesian models (wider than z) hold at most as often."""
    published = {"kim": 0.04, "petrou_minus": 0.052, "petrou_plus": 0.052, "petrou_fvc": 0.036}
    for key, direction in (("alsfrs_r_benefit", "positive"), ("fvc_worse", "negative")):
        res = multi[1][key]
        s = res.specifications
        slots = [c for c in ("Oh 2018", "Kim 2009", "Petrou 2016") if c in s.columns]
        holds = res.holds(direction).to_numpy()
        seen = 0
        for i, (keys, framework) in enumerate(
            zip(s[slots].to_numpy().tolist(), s.framework.to_numpy().tolist(), strict=True)
        ):
            keys = [k for k in keys if isinstance(k, str)]
            if len(keys) != 1 or keys[0].startswith("oh_"):
                continue
            seen += 1
            (p,) = [v for name, v in published.items() if keys[0].startswith(name + "_")]
            sign_ok = (table.loc[keys[0], "yi"] > 0) == (direction == "positive")
            if p >= 0.05 or not sign_ok:
                assert not holds[i], keys[0]
            elif framework == "frequentist":
                assert holds[i], keys[0]
        assert seen > 0


def test_specification_tables_are_byte_identical_under_last_bit_noise(multi) -> None:
    """Two runs whose floats differ in the last bit (another platform, another input path) write the same CSV bytes."""
    import alsmeta.diagnostics.multiverse as mv

    res = multi[1]["alsfrs_r_benefit"]
    noisy = res.specifications.copy()
    step = np.where(np.arange(len(noisy)) % 2 == 0, np.inf, -np.inf)
    for c in ("estimate", "ci_low", "ci_high", "se"):
        noisy[c] = np.nextafter(noisy[c].to_numpy(dtype=float), step)
    again = mv.MultiverseResult(noisy, res.choices, res.slots, res.level)
    for a, b in zip(specification_tables(res, "positive"), specification_tables(again, "positive"), strict=True):
        assert csv_text(a) == csv_text(b)
    combos, distinct = specification_tables(res, "positive")
    assert len(combos) == len(res) and len(distinct) == numbers_distinct(multi)
    assert distinct.n_combinations.sum() == len(res)
    assert (combos.groupby("analysis").size().to_numpy() == distinct.n_combinations.to_numpy()).all()


def numbers_distinct(multi) -> int:
    return multi[0]["alsfrs_r_benefit"]["distinct_analyses"]


def test_selection_bias_grows_with_the_assumed_measurement_error() -> None:
    """The headline selection result rests on the measurement error.

    Half the error, less apparent slowing; double, more.
    """
    h = histories()
    assert h["selection_half_error"].measurement_sd == pytest.approx(0.65)
    assert h["selection"].measurement_sd == pytest.approx(1.3)
    assert h["selection_double_error"].measurement_sd == pytest.approx(2.6)
    design = TrialDesign(n_patients=20, pre_slope_range=(-math.inf, SELECTION_SLOPE))
    means = [
        float(np.mean(simulate_trials(h[k], design, 300, seed=11, progress=False).mean_change))
        for k in ("selection_half_error", "selection", "selection_double_error")
    ]
    assert means[0] < means[1] < means[2]
    assert "assumption" in MEASUREMENT_SD_ASSUMPTION and "Kaufmann" in MEASUREMENT_SD_ASSUMPTION


def test_specification_curve_draws_each_distinct_analysis_once(multi, tmp_path) -> None:
    """The FVC curve shows one point per distinct analysis and states both counts; text >= 7 pt; 183 mm wide."""
    numbers, results = multi
    fig = figure_spec_curve(
        results["fvc_worse"],
        "negative",
        "FVC worsening after MSC",
        "% predicted/month",
        ["secondary source", "method", "test", "tau_scale"],
        (-8.0, 10.0),
    )
    n = numbers["fvc_worse"]
    points = {a.get_gid(): len(a.get_offsets()) for ax in fig.axes for a in ax.collections if a.get_gid()}
    assert points["estimates_holding"] == n["analyses_holding"]
    assert (
        points["estimates_holding"] + points["estimates_not_holding"]
        == n["distinct_analyses"]
        < n["choice_combinations"]
    )
    title = next(t.get_text() for t in fig.texts if t.get_gid() == "title").replace("\n", " ")
    assert f"{n['analyses_holding']} of {n['distinct_analyses']} distinct analyses" in title
    assert f"{n['choice_combinations']:,} choice combinations" in title
    sizes = [
        t.get_fontsize()
        for t in fig.findobj(lambda a: hasattr(a, "get_fontsize") and hasattr(a, "get_text") and a.get_text())
    ]
    assert min(sizes) >= 7.0
    assert fig.get_figwidth() == pytest.approx(183 / 25.4)
    save_figure(fig, tmp_path / "curve")  # the print checks of the house style accept it
    assert (tmp_path / "curve.png").exists() and (tmp_path / "curve.svg").exists()


def test_the_pinned_model_choices_are_ones_the_engine_offers():
    from alsmeta.als.prepost_stress.specifications import FREQ_METHODS, TESTS
    from alsmeta.engine.batch import TESTS as ENGINE_TESTS
    from alsmeta.engine.estimators import METHODS

    assert set(FREQ_METHODS) <= set(METHODS) and len(set(FREQ_METHODS)) == len(FREQ_METHODS) == 11
    assert set(TESTS) <= set(ENGINE_TESTS) and len(TESTS) == 4


def test_a_rate_of_zero_is_drawn_at_its_rule_of_three_bound_not_below_the_floor() -> None:
    import matplotlib.pyplot as plt

    from alsmeta.als.prepost_stress.figures import RATE_FLOOR, _rate_point

    fig, ax = plt.subplots()
    try:
        _rate_point(ax, 0.0, {"rate": 0.0, "mc_se": 0.0, "n": 2000}, "k", "o")
        _rate_point(ax, 1.0, {"rate": 0.0005, "mc_se": 0.0005, "n": 2000}, "k", "o")
        (zero,), (tiny,) = ax.lines[0:1], ax.lines[1:2]
        assert zero.get_xdata()[0] == 3 / 2000 and zero.get_marker() == "<"
        assert tiny.get_xdata()[0] == RATE_FLOOR and tiny.get_marker() == "<"
    finally:
        plt.close(fig)
