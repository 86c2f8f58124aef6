"""The Cochrane analyses: numbers recomputed independently from data/, and reproducibility.

The analysis scripts are run in a scratch copy of the repository (data/ and
analyses/), twice, to check their numbers against the published and expected
values and that their outputs are byte-identical.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = [
    "cochrane_2016_pub2.py",
    "cochrane_2019_pub3.py",
    "cochrane_living_2026.py",
    "definitive_trial_power.py",
    "summary_forest.py",
]


def _run_scripts(workdir: Path) -> None:
    # ALSMETA_CHECK_FIGURES: save_figure refuses any figure that is not print-ready (width, 7 pt, greyscale)
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONHASHSEED="0", ALSMETA_CHECK_FIGURES="1")
    for script in SCRIPTS:
        done = subprocess.run(
            [sys.executable, str(workdir / "analyses" / script)], cwd=workdir, env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, f"{script} failed:\n{done.stderr}"


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def outputs(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("repo")
    shutil.copytree(ROOT / "data", work / "data")
    shutil.copytree(ROOT / "analyses", work / "analyses")
    _run_scripts(work)
    return work / "figures"


def _numbers(outputs: Path, name: str) -> dict:
    return json.loads((outputs / name / "numbers.json").read_text())


def _oh(outcome: str, timepoint: str) -> dict[tuple[str, str], float]:
    out = pd.read_csv(ROOT / "data" / "outcomes.csv", dtype=str, keep_default_na=False)
    rows = out[(out.study_id == "oh2018") & (out.outcome == outcome) & (out.timepoint == timepoint)]
    return {(r.arm, r.statistic): float(r.value) for r in rows.itertuples()}


def test_pub2_is_empty_with_four_ongoing(outputs):
    n = _numbers(outputs, "cochrane_pub2")
    assert n["included"] == 0 and n["ongoing"] == 4 and n["pooled"]["k"] == 0
    assert n["reproduces_published_counts"] is True
    assert sorted(s["status"] for s in n["ongoing_trials"].values()) == ["inferred", "inferred", "inferred", "verified"]
    for stem in ("forest_empty", "prisma"):
        assert (outputs / "cochrane_pub2" / f"{stem}.png").stat().st_size > 10_000
        assert (outputs / "cochrane_pub2" / f"{stem}.svg").is_file()


def test_pub3_alsfrs_6_months_recomputed_from_raw_rows(outputs):
    a = _oh("alsfrs_r_change", "baseline to 6 months")
    md = a[("msc", "mean")] - a[("control", "mean")]
    se = math.sqrt(a[("msc", "sd")] ** 2 / a[("msc", "n")] + a[("control", "sd")] ** 2 / a[("control", "n")])
    got = _numbers(outputs, "cochrane_pub3")["continuous"]["alsfrs_r_change_6mo"]
    assert got["md"] == pytest.approx(md, rel=1e-9)
    assert got["se"] == pytest.approx(se, rel=1e-9)
    assert got["ci_low"] == pytest.approx(md - 1.959963984540054 * se, rel=1e-9)
    # the values the issue and the evidence notes give
    assert (round(got["md"], 2), round(got["ci_low"], 2), round(got["ci_high"], 2)) == (3.38, 1.22, 5.54)
    assert got["participants"] == 56


def test_pub3_explains_the_trials_interval(outputs):
    e = _numbers(outputs, "cochrane_pub3")["trial_interval_explained"]
    a = _oh("alsfrs_r_change", "baseline to 6 months")
    n1, n2, s1, s2 = a[("msc", "n")], a[("control", "n")], a[("msc", "sd")], a[("control", "sd")]
    sp = math.sqrt(((n1 - 1) * s1**2 + (n2 - 1) * s2**2) / (n1 + n2 - 2))
    assert e["pooled_sd_t"]["se"] == pytest.approx(sp * math.sqrt(1 / n1 + 1 / n2), rel=1e-9)
    assert round(e["pooled_sd_t"]["se"], 2) == e["trial_reported"]["se"] == 1.07
    mid = e["pooled_sd_t_at_reported_midpoint"]
    assert (round(mid["ci_low"], 2), round(mid["ci_high"], 2)) == (1.23, 5.54)
    assert round(e["inverse_variance_unpooled_z"]["ci_low"], 2) == 1.22


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("alsfrs_r_change_4mo", (2.98, 1.48, 4.48)),
        ("fvc_pct_change_4mo", (-0.53, -5.37, 4.31)),
        ("alsfrs_r_slope_change", (1.10, 0.42, 1.78)),
    ],
)
def test_pub3_other_continuous_outcomes(outputs, key, expected):
    got = _numbers(outputs, "cochrane_pub3")["continuous"][key]
    assert (round(got["md"], 2), round(got["ci_low"], 2), round(got["ci_high"], 2)) == expected


def test_pub3_responder_risk_ratio(outputs):
    got = _numbers(outputs, "cochrane_pub3")["responders"]["responders_ge50pct_6mo"]
    assert (got["events_msc"], got["n_msc"], got["events_control"], got["n_control"]) == (20, 32, 6, 27)
    rr = (20 / 32) / (6 / 27)
    se = math.sqrt(1 / 20 - 1 / 32 + 1 / 6 - 1 / 27)
    assert got["rr"] == pytest.approx(rr, rel=1e-9)
    assert got["ci_low"] == pytest.approx(math.exp(math.log(rr) - 1.959963984540054 * se), rel=1e-9)
    assert (round(got["rr"], 2), round(got["ci_low"], 2), round(got["ci_high"], 2)) == (2.81, 1.32, 5.98)


def test_pub3_counts_and_missing_outcomes(outputs):
    n = _numbers(outputs, "cochrane_pub3")
    assert sorted(n["included"]) == ["berry2019", "oh2018"] and n["participants_in_included_rcts"] == 112
    assert all("not reported/not found" in text for text in n["missing"].values())
    sof = pd.read_csv(outputs / "cochrane_pub3" / "summary_of_findings.csv")
    assert (sof.loc[sof.outcome == "Serious adverse events", "effect"] == "not estimable").all()


def test_living_update_pools_responders_only_as_a_labelled_sensitivity_analysis(outputs):
    n = _numbers(outputs, "cochrane_living_2026")
    # the definitions differ: the primary presentation is unpooled, one result per trial
    primary = n["responders_by_definition"]
    assert primary["definitions_match"] is False and primary["pooled_in_primary_analysis"] is False
    assert set(primary["by_trial"]) == {"Oh 2018", "Cudkowicz 2022"}
    oh = primary["by_trial"]["Oh 2018"]
    assert oh["or"] == pytest.approx((20 / 12) / (6 / 21), rel=1e-9)  # numbers.json keeps 10 significant digits
    assert primary["by_trial"]["Cudkowicz 2022"]["or"] == pytest.approx(1.33, rel=1e-12)
    assert "responders" not in n  # no unlabelled pooled responder number
    # the pool exists only under a key, label, SoF row and figure that say "sensitivity"
    r = n["responders_pooled_sensitivity_different_definitions"]
    assert r["label"].startswith("SENSITIVITY ANALYSIS ONLY")
    assert r["reml_knha"]["k"] == 2 and r["reml_knha"]["df"] == 1
    # HKSJ with one df is far wider than the z interval on the same data
    assert r["reml_knha"]["ci_high"] / r["reml_knha"]["ci_low"] > 100 * r["reml_z"]["ci_high"] / r["reml_z"]["ci_low"]
    assert math.log(1.33) == pytest.approx(r["log_or"][1])
    sof = pd.read_csv(outputs / "cochrane_living_2026" / "summary_of_findings.csv")
    pooled_rows = sof[sof.effect.str.contains("HKSJ")]
    assert len(pooled_rows) == 1 and pooled_rows.outcome.iloc[0].startswith("SENSITIVITY ANALYSIS ONLY")
    assert (outputs / "cochrane_living_2026" / "forest_responders_pooled_sensitivity.png").is_file()
    sae = n["serious_adverse_events"]
    assert (round(sae["estimate"], 2), round(sae["ci_low"], 2), round(sae["ci_high"], 2)) == (1.34, 0.77, 2.34)
    assert n["deaths"]["assumption"] is not None  # denominators were not reported; the assumption is stated
    assert "aguera_morales2025" in n["included"] and "alsummit" in n["included"]


def test_no_ratio_or_bound_is_printed_as_zero(outputs):
    import re

    for path in sorted((outputs / "cochrane_living_2026").glob("*.md")) + sorted(
        (outputs / "cochrane_pub3").glob("*.md")
    ):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"(?<![\d.])0\.0+(?![0-9])", text), path.name


def test_nurown_treated_counts_cells_and_placebo_separately(outputs):
    import re

    n = _numbers(outputs, "cochrane_living_2026")["nurown_phase3_treated"]
    studies = pd.read_csv(ROOT / "data" / "studies.csv", dtype=str).set_index("study_id")
    cells, placebo = int(studies.loc["cudkowicz2022", "n_treated"]), int(studies.loc["cudkowicz2022", "n_control"])
    assert (
        (n["treated_with_cells"], n["treated_with_placebo"], n["treated_in_all"])
        == (cells, placebo, cells + placebo)
        == (95, 94, 189)
    )
    assert n["sentence"] == "95 treated with cells (189 treated in all)"
    living = _numbers(outputs, "cochrane_living_2026")["readme_sentence"]
    assert "95 treated with cells (189 treated in all)" in living and "not pooled" in living
    # wherever an output says 189 treated, it says how many had cells
    for path in sorted(outputs.rglob("*")):
        if path.suffix in {".md", ".csv", ".json"}:
            text = path.read_text(encoding="utf-8")
            assert len(re.findall(r"189 treated", text)) == len(re.findall(r"\(189 treated in all\)", text)), path.name


def test_fvc_difference_is_labelled_as_a_4_month_outcome(outputs):
    n = _numbers(outputs, "cochrane_pub3")
    fvc = [(k, r) for k, r in n["continuous"].items() if round(r["md"], 2) == -0.53]
    assert [k for k, _ in fvc] == ["fvc_pct_change_4mo"]
    assert fvc[0][1]["time_point"] == "baseline to 4 months" and "4 months" in fvc[0][1]["title"]
    sof = pd.read_csv(outputs / "cochrane_pub3" / "summary_of_findings.csv")
    rows = sof[sof.effect.str.contains("MD -0.53")]
    assert len(rows) == 1 and "4 months" in rows.outcome.iloc[0]
    assert "FVC from baseline to 4 months did not differ (-0.53 % predicted" in n["readme_sentence"]


def test_pub3_figures_are_two_multi_outcome_forests(outputs):
    pngs = sorted(p.stem for p in (outputs / "cochrane_pub3").glob("forest*.png"))
    assert pngs == ["forest_continuous", "forest_responders"]


def test_pub2_empty_forest_names_what_was_searched_and_what_is_not_reported(outputs):
    n = _numbers(outputs, "cochrane_pub2")
    crit = pd.read_csv(ROOT / "data" / "criteria.csv", dtype=str)
    recorded = crit[(crit.review_version == "pub2") & crit.criterion.str.startswith("outcome")]
    assert n["outcomes_searched"] == ("not reported" if recorded.empty else n["outcomes_searched"])
    assert n["full_texts_assessed"] == "not reported"  # the review's PRISMA counts were not retrievable
    assert (
        "0 studies included (0 of N full texts assessed met the criteria; N not reported)"
        in n["empty_forest_statement"]
    )


def test_power_analysis(outputs):
    n = _numbers(outputs, "definitive_trial")
    assert n["sd_pooled"] == pytest.approx(math.sqrt((30 * 3.51**2 + 24 * 4.53**2) / 54), rel=1e-9)
    sizes = n["sample_size"]
    assert (
        sizes["Oh 2018 RCT estimate (3.38)"]["n_per_arm_80"]
        < sizes["NurOwn phase 3 overall (0.36, press)"]["n_per_arm_80"]
    )


def test_at_least_n_per_arm_carries_its_assumptions_and_range(outputs):
    a = _numbers(outputs, "definitive_trial")["at_least_n_per_arm"]
    assert a["n_analysed_per_arm"] == 171
    grid = {(round(s["sd"], 1), s["attrition"]): s for s in a["scenarios"]}
    assert set(grid) == {(4.0, 0.0), (4.0, 0.2), (5.0, 0.0), (5.0, 0.2), (6.0, 0.0), (6.0, 0.2)}
    for s in a["scenarios"]:  # every scenario states every assumption
        assert {"sd", "sd_source", "attrition", "alpha", "two_sided", "power", "delta", "delta_source"} <= set(s)
        assert round(s["delta"], 2) == 1.22 and s["alpha"] == 0.05 and s["power"] == 0.8
        assert s["n_enrolled_per_arm"] == math.ceil(s["n_analysed_per_arm"] / (1 - s["attrition"]) - 1e-9)
    assert (grid[(5.0, 0.0)]["n_analysed_per_arm"], grid[(6.0, 0.0)]["n_analysed_per_arm"]) == (267, 383)
    sentence = a["readme_sentence"]
    for part in (
        "at least 171",
        "SD is 4.0",
        "no one drops out",
        "80% power",
        "alpha 0.05",
        "(1.22 points)",
        "267 to 383",
        "20% attrition 214 to 479",
    ):
        assert part in sentence, part
    mcid = _numbers(outputs, "definitive_trial")["mcid_assumed"]
    assert mcid["status"].startswith("assumption") and "Castrillo-Viguera" in mcid["source"]
    assert mcid["points_6mo"] == pytest.approx(0.2 * 6.48)


def test_outputs_are_byte_identical_on_a_second_run(outputs, tmp_path):
    first = _digest(outputs)
    work = outputs.parent
    _run_scripts(work)
    assert _digest(outputs) == first


def test_pub2_statement_uses_the_count_when_it_is_reported_and_never_guesses():
    from alsmeta.als.cochrane import pub2

    known = pub2.empty_statement(0, 12, ["ALSFRS-R at 6 months", "survival"], "21 June 2016")
    assert known[-1] == "0 studies included (0 of 12 full texts assessed met the criteria)"
    assert known[1] == "Outcomes searched for: ALSFRS-R at 6 months; survival"
    unknown = pub2.empty_statement(0, None, [], "21 June 2016")
    assert unknown[-1] == "0 studies included (0 of N full texts assessed met the criteria; N not reported)"
    assert unknown[1].startswith("Outcomes searched for: not reported")
    crit = pd.DataFrame(
        {
            "review_version": ["pub2", "pub2", "pub3"],
            "criterion": ["outcome_primary", "design", "outcome_primary"],
            "value": ["ALSFRS-R; survival", "rct", "FVC"],
        }
    )
    assert pub2.outcomes_searched(crit, "pub2") == ["ALSFRS-R", "survival"]


def test_power_figure_marks_mcid_and_oh2018_and_survives_greyscale():
    from alsmeta.als.trial_power_figure import power_figure
    from alsmeta.planning.power import trial_sample_size
    from alsmeta.plots.artists import find

    effects = {"NurOwn (0.36)": 0.36, "lower (1.22)": 1.22, "Oh (3.38)": 3.38, "pre-post (6.48)": 6.48}
    sizes = {k: {"n_per_arm_80": trial_sample_size(d, 4.0, 0.8)} for k, d in effects.items()}
    oh = {"md": 3.38, "ci_low": 1.22, "ci_high": 5.54}
    fig = power_figure(effects, sizes, 4.0, (4.0, 5.0, 6.0), oh, 1.296, 31, 25)
    assert fig.get_figwidth() == pytest.approx(183 / 25.4)
    ax_a, ax_b = fig.axes[:2]
    (mcid,) = find(fig, "mcid")
    assert mcid.get_xdata()[0] == pytest.approx(1.296)
    assert find(fig, "oh2018-estimate")
    # the Oh 2018 estimate and its 95% CI sit on the effect axis
    bars = [c for c in ax_a.collections if len(c.get_segments()) and c.get_segments()[0].shape == (2, 2)]
    assert any(
        seg[0, 0] == pytest.approx(1.22) and seg[1, 0] == pytest.approx(5.54) for c in bars for seg in c.get_segments()
    )
    assert "points" in ax_a.get_xlabel() and "per arm" in ax_a.get_ylabel() and "per arm" in ax_b.get_xlabel()
    # every series differs in line style, not only in colour
    for prefix, n in (("sample-size", 3), ("power", 4)):
        lines = find(fig, prefix)
        assert len(lines) == n and len({str(line.get_linestyle()) for line in lines}) == n
    sizes_pt = [
        t.get_fontsize()
        for t in fig.findobj(lambda a: hasattr(a, "get_fontsize") and hasattr(a, "get_text") and a.get_text())
    ]
    assert min(sizes_pt) >= 7.0


# ---------------------------------------------------------------- issue 13: the missing evidence figures
def test_every_figure_of_these_analyses_has_an_index_entry(outputs):
    from alsmeta.io.reporting import figure_index

    text = figure_index(outputs)  # raises if any PNG lacks an entry
    for stem in (
        "cochrane_pub3/prisma",
        "cochrane_living_2026/prisma",
        "cochrane_living_2026/risk_of_bias",
        "cochrane_living_2026/cumulative_tsa",
        "summary/summary_forest",
        "cochrane_pub2/forest_empty",
        "definitive_trial/power_curves",
    ):
        assert f"({stem}.png)" in text and (outputs / f"{stem}.svg").is_file(), stem
    assert "Made by `analyses/summary_forest.py`." in text


def test_pub3_prisma_shows_only_the_published_count(outputs):
    p = _numbers(outputs, "cochrane_pub3")["prisma"]
    claims = pd.read_csv(ROOT / "data" / "claims.csv", dtype=str, keep_default_na=False)
    published = claims[(claims.synthesis == "cochrane_pub3") & (claims.claim_id == "studies_included")]
    assert p["included_studies"] == int(published.value.iloc[0]) == 2 and "verified" in p["included_source"]
    # the review's ongoing count was not retrievable: this project's inference stays out of the box
    assert {"screened", "assessed", "excluded_full_text", "ongoing"} <= set(p["not_reported"])
    assert len(p["ongoing_inferred_by_this_project"]) == 3


def test_pub3_prisma_boxes():
    from alsmeta.als.cochrane.pub3 import prisma_counts
    from alsmeta.als.tables import load_evidence
    from alsmeta.plots.artists import texts
    from alsmeta.plots.prisma import prisma_flow

    counts = prisma_counts(load_evidence(ROOT / "data"))
    assert counts.included_studies == 2
    assert all(c is None for c in (counts.screened, counts.assessed, counts.excluded_full_text, counts.ongoing))
    fig = prisma_flow(counts)
    assert texts(fig, "prisma-text:ongoing") == ["Ongoing studies (n = not reported)"]


def test_living_prisma_counts_are_its_own_screening(outputs):
    from alsmeta.als.screening import screen

    p = _numbers(outputs, "cochrane_living_2026")["prisma"]
    scr = screen("living2026", ROOT / "data")
    assert p["assessed"] == p["candidates"] == len(scr.table)
    assert (p["included"], p["ongoing"], p["awaiting_classification"], p["excluded"]) == (
        scr.counts["included"],
        scr.counts["ongoing"],
        scr.counts["awaiting_classification"],
        scr.counts["excluded"],
    )
    assert sum(p["exclusion_reasons"].values()) == p["excluded"]
    assert p["assessed"] == p["excluded"] + p["included"] + p["ongoing"] + p["awaiting_classification"]
    # no new search was run: the record-level counts are not filled in
    assert {"screened", "sought", "not_retrieved", "duplicates_removed"} <= set(p["not_reported"])


def test_living_risk_of_bias_is_this_projects_assessment(outputs):
    from alsmeta.als.cochrane.living_risk_of_bias import ROB_CAPTION, rob_row_label
    from alsmeta.plots.artists import find, texts
    from alsmeta.plots.risk_of_bias import risk_of_bias_figure

    n = _numbers(outputs, "cochrane_living_2026")["risk_of_bias"]
    assert n["assessor"].startswith("this project") and "not Cochrane" in n["assessor"]
    rob = pd.read_csv(ROOT / "data" / "risk_of_bias.csv", dtype=str, keep_default_na=False)
    overall = rob[(rob.review_version == "living2026") & (rob.domain == "overall")]
    assert sorted(n["overall"].values()) == sorted(overall.judgement)
    assert "Oh 2018: ALSFRS-R change, 6 mo" in n["overall"]  # each row names the result judged
    assert rob_row_label("Cudkowicz 2022", "alsfrs_r_slope_responders_ge1_25", "28 weeks after first dose") == (
        "Cudkowicz 2022: responders, 28 wk"
    )
    fig = risk_of_bias_figure(overall.assign(trial=overall.study_id), caption=ROB_CAPTION)
    (caption,) = texts(fig, "rob:caption")
    assert "this project's own assessment" in caption and "not the Cochrane review's" in caption
    assert len(find(fig, "rob:cell")) == len(overall)


def test_living_tsa_uses_the_power_calculations_pre_specified_difference(outputs):
    t = _numbers(outputs, "cochrane_living_2026")["tsa_alsfrs_r_6mo"]
    power = _numbers(outputs, "definitive_trial")
    lower = power["effects"]["Oh 2018 lower 95% limit (1.22)"]
    assert t["delta"] == pytest.approx(lower, rel=1e-12) and t["sd"] == pytest.approx(power["sd_pooled"], rel=1e-12)
    assert t["ris"] == pytest.approx(
        power["optimal_information_size_total"]["Oh 2018 lower 95% limit (1.22)"], rel=1e-9
    )
    # never the observed effect
    oh = _numbers(outputs, "cochrane_pub3")["continuous"]["alsfrs_r_change_6mo"]
    assert abs(t["delta"] - oh["md"]) > 1
    assert t["studies"] == ["Oh 2018"] and t["cumulative_participants"] == oh["participants"]
    assert t["final_z"] == pytest.approx(oh["md"] / oh["se"], rel=1e-9)
    # one look at 17% of the RIS: past 1.96, short of the O'Brien-Fleming boundary
    assert (
        t["final_z"] > 1.96
        and t["final_z"] < t["final_boundary"]
        and t["crossed"] is False
        and t["ris_reached"] is False
    )
    assert "Cudkowicz 2022" in t["not_entered"]
    s = t["sensitivity_mcid"]
    assert s["label"].startswith("SENSITIVITY") and s["delta"] == pytest.approx(power["mcid_assumed"]["points_6mo"])
    assert (
        f"Z = {t['final_z']:.2f}" in t["readme_sentence"]
        and f"boundary of {t['final_boundary']:.2f}" in t["readme_sentence"]
    )
    assert f"({t['ris']:.0f} participants for a {lower:.2f}-point difference" in t["readme_sentence"]


def test_summary_forest_rows_are_the_cochrane_analyses_results(outputs):
    rows = _numbers(outputs, "summary")["rows"]
    pub3 = _numbers(outputs, "cochrane_pub3")["continuous"]
    living = _numbers(outputs, "cochrane_living_2026")
    for key in ("alsfrs_r_change_4mo", "alsfrs_r_change_6mo", "fvc_pct_change_4mo"):
        r, q = rows[key], pub3[key]
        assert (r["estimate"], r["ci_low"], r["ci_high"], r["participants"], r["k"]) == (
            q["md"],
            q["ci_low"],
            q["ci_high"],
            q["participants"],
            q["k"],
        )
    for key, src in (("deaths_28wk", "deaths"), ("serious_adverse_events_28wk", "serious_adverse_events")):
        assert rows[key]["estimate"] == pytest.approx(living[src]["estimate"], rel=1e-12)
        assert rows[key]["participants"] == sum(living[src]["n"])
    assert rows["deaths_28wk"]["note"] == living["deaths"]["assumption"]
    assert (
        rows["alsfrs_r_change_28wk"]["estimate"] is None and rows["alsfrs_r_change_28wk"]["effect"] == "not estimable"
    )
    for r in rows.values():  # every row carries its certainty statement and where it comes from
        assert r["certainty"] == "not assessed" and "GRADE not retrievable" in r["certainty_reason"]
    sentence = _numbers(outputs, "summary")["readme_sentence"]
    for part in (
        "MD 3.38 (1.22 to 5.54) points",
        "MD -0.53 (-5.37 to 4.31) % predicted",
        "RR 2.47 (0.80 to 7.61) (denominators assumed)",
        "RR 1.34 (0.77 to 2.34)",
        "95 with cells and 94 with placebo",
        "GRADE not retrievable",
    ):
        assert part in sentence, part


def test_summary_forest_draws_each_result_and_its_certainty():
    from alsmeta.als.summary import SummaryRow
    from alsmeta.als.summary_figure import summary_forest_figure
    from alsmeta.plots.artists import find, texts

    rows = [
        SummaryRow("a", "alsfrs", "0 to 6 months", "Oh 2018", 1, 56, "MD", 3.38, 1.22, 5.54),
        SummaryRow("b", "alsfrs", "0 to 28 weeks", "Cudkowicz 2022", 0, None, "MD", None, None, None),
        SummaryRow("c", "safety", "Deaths", "Cudkowicz 2022", 1, 189, "RR", 2.47, 0.80, 7.61),
    ]
    fig = summary_forest_figure(rows, "Title", ["\u2020 footnote"])
    assert fig.get_figwidth() == pytest.approx(183 / 25.4)
    (est,) = find(fig, "summary:estimate:a")
    (ci,) = find(fig, "summary:ci:c")
    assert est.get_xdata()[0] == 3.38 and list(ci.get_xdata()) == [0.80, 7.61]
    assert not find(fig, "summary:estimate:b") and texts(fig, "summary:not-estimable:b")
    assert texts(fig, "summary:k:a") == ["1"] and texts(fig, "summary:participants:b") == ["NR"]
    assert texts(fig, "summary:effect:c") == ["RR 2.47 (0.80 to 7.61)"]
    assert all(t.startswith("not assessed") for t in texts(fig, "summary:certainty"))
    assert len(texts(fig, "summary:certainty")) == 3
    # a ratio row sits on a log axis, a mean difference on a linear one
    scales = {a.get_xscale() for a in fig.axes[1:]}
    assert scales == {"linear", "log"}
    sizes = [
        t.get_fontsize()
        for t in fig.findobj(lambda a: hasattr(a, "get_fontsize") and hasattr(a, "get_text"))
        if t.get_text()
    ]
    assert min(sizes) >= 7.0


def test_living_update_sparse_outcomes_use_mantel_haenszel_with_iv_and_peto_as_sensitivity():
    # issue 18: deaths and serious adverse events are sparse; Cochrane's default there is Mantel-Haenszel
    numbers = json.loads((ROOT / "figures" / "cochrane_living_2026" / "numbers.json").read_text(encoding="utf-8"))
    for key in ("deaths", "serious_adverse_events"):
        out = numbers[key]
        assert out["method"] == "MH" and out["measure"] == "RR (Mantel-Haenszel)"
        e1, e2 = out["events"]
        n1, n2 = out["n"]
        assert out["estimate"] == pytest.approx((e1 / n1) / (e2 / n2), rel=1e-9)  # MH RR of one 2x2 table
        assert out["sensitivity_inverse_variance"]["estimate"] == pytest.approx(out["estimate"], rel=1e-9)
        assert out["sensitivity_peto_or"]["estimate"] > 0


def test_pub3_time_points_together_state_their_dependence_assumption():
    # issue 18: Oh 2018's 4- and 6-month differences are the same patients; each multilevel result names its rho
    numbers = json.loads((ROOT / "figures" / "cochrane_pub3" / "numbers.json").read_text(encoding="utf-8"))
    ml = numbers["alsfrs_r_time_points_multilevel"]
    assert "rho" in ml["dependence"] and "not reported" in ml["dependence"]
    c = numbers["continuous"]
    y = [c["alsfrs_r_change_4mo"]["md"], c["alsfrs_r_change_6mo"]["md"]]
    w = [1 / c["alsfrs_r_change_4mo"]["se"] ** 2, 1 / c["alsfrs_r_change_6mo"]["se"] ** 2]
    # one study: both variance components at 0, so rho = 0 is the inverse-variance mean of the two time points
    assert ml["rho_0"]["sigma2"] == [0.0, 0.0]
    assert ml["rho_0"]["estimate"] == pytest.approx((w[0] * y[0] + w[1] * y[1]) / sum(w), rel=1e-8)
    assert ml["rho_0"]["se"] == pytest.approx(sum(w) ** -0.5, rel=1e-8)
    assert ml["rho_0"]["se"] < ml["rho_0.5"]["se"]  # ignoring the correlation understates the uncertainty


def test_tsa_ris_states_its_formula_beside_the_exact_t_answer() -> None:
    """The TSA's RIS (normal approximation) and the definitive-trial n (exact t) are two numbers for one question."""
    from alsmeta.als.cochrane.living_tsa import alsfrs_tsa, tsa_numbers
    from alsmeta.als.tables import load_evidence
    from alsmeta.als.trial_power import at_least_n_per_arm, pre_specified_inputs

    ev = load_evidence(Path(__file__).resolve().parents[1] / "data")
    a = alsfrs_tsa(ev)
    n_exact = at_least_n_per_arm(pre_specified_inputs(ev))["n_analysed_per_arm"]
    assert a.n_per_arm_exact_t == n_exact
    assert 2 * n_exact - 6 <= a.tsa.ris < 2 * n_exact  # the normal approximation asks for a few fewer
    numbers = tsa_numbers(a)
    assert f"gives {2 * n_exact}" in numbers["readme_sentence"] and "normal approximation" in numbers["ris_formula"]


def test_living_sentence_flags_harm_counts_from_secondary_sources() -> None:
    from alsmeta.als.cochrane.living import living_sentence

    resp = {"by_trial": {t: {"or": 2.0, "ci_low": 1.0, "ci_high": 4.0} for t in ("Oh 2018", "Cudkowicz 2022")}}
    nurown = {"sentence": "95 treated with cells"}
    harm = {"estimate": 1.3, "ci_low": 0.8, "ci_high": 2.3}
    flagged = living_sentence(resp, nurown, {**harm, "status": ["secondary", "verified"]}, harm)
    plain = living_sentence(resp, nurown, {**harm, "status": ["verified"] * 2}, {**harm, "status": ["verified"]})
    assert "secondary copy of the trial's registry results" in flagged
    assert "secondary" not in plain and "Mantel-Haenszel" not in flagged
