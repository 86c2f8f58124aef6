"""The Morata-Tarifa 2021 reconstruction: numbers recomputed independently from data/, verdicts, determinism.

The analysis script runs twice in a scratch copy of data/ and analyses/; its
outputs must be byte-identical. Every pinned number is recomputed here from
the raw rows of data/outcomes.csv with formulas written out in this file
(SE from a p-value with z and with a paired t, REML by its score equation, HKSJ, the Bayesian
posterior by one-dimensional quadrature), not with alsmeta.
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

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, optimize, stats

from alsmeta.als.claims_check import (
    CONTRADICTED,
    NOT_ASSESSABLE,
    REPRODUCED,
    Cohort,
    cohort_sums,
    direction_verdict,
    max_disjoint_total,
    overall_verdict,
)
from alsmeta.plots.print_check import grayscale_problems, print_problems
from alsmeta.validation import AlsmetaInputError

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = "msc2021_reconstruction.py"
NEURONEWS = "https://neuronewsinternational.com/nurown-demonstrates-a-statistically-significant-effect-in-als-patients/"
NEUROLOGYADVISOR = "https://www.neurologyadvisor.com/topics/neuromuscular-disorders/mesenchymal-neurotrophic-growth-factor-cells-may-slow-als/2/"
FIGURES = [
    "forest_alsfrs_r_first_follow_up",
    "forest_alsfrs_r_6_months",
    "forest_fvc",
    "sweep_estimator_by_test",
    "sensitivity_data_choices",
    "bayes_posteriors",
    "empirical_null",
    "claims",
    "transience",
    "availability",
]
TABLES = [
    "candidates.csv",
    "effects.csv",
    "not_assessable.csv",
    "claims.csv",
    "claims.md",
    "reconstruction.md",
    "sweep_alsfrs_r_first.csv",
    "sweep_fvc_all_msc.csv",
    "sweep_alsfrs_r_6mo_all_msc.csv",
    "numbers.json",
    "availability.csv",
]


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _run(workdir: Path) -> None:
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONHASHSEED="0")
    done = subprocess.run(
        [sys.executable, str(workdir / "analyses" / SCRIPT)], cwd=workdir, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, f"{SCRIPT} failed:\n{done.stderr}"


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    work = tmp_path_factory.mktemp("repo")
    shutil.copytree(ROOT / "data", work / "data")
    (work / "analyses").mkdir()
    shutil.copy(ROOT / "analyses" / SCRIPT, work / "analyses" / SCRIPT)
    _run(work)
    first = _digest(work / "figures" / "msc2021")
    _run(work)
    return work / "figures" / "msc2021", first


@pytest.fixture(scope="module")
def numbers(run) -> dict:
    return json.loads((run[0] / "numbers.json").read_text())


def _value(study, outcome, timepoint, arm, statistic, source_url=None) -> float:
    out = pd.read_csv(ROOT / "data" / "outcomes.csv", dtype=str, keep_default_na=False)
    rows = out[
        (out.study_id == study)
        & (out.outcome == outcome)
        & (out.timepoint == timepoint)
        & (out.arm == arm)
        & (out.statistic == statistic)
    ]
    if source_url is not None:
        rows = rows[rows.source_url == source_url]
    assert len(rows) == 1, (study, outcome, timepoint, arm, statistic)
    return float(rows.value.iloc[0])


# --- independent formulas ---------------------------------------------------


def _paired_t_se(estimate: float, p: float, n: int) -> float:
    """SE of a mean within-patient change from its two-sided paired-t p-value (Cochrane Handbook 6.5.2.3)."""
    return abs(estimate) / stats.t.isf(p / 2, n - 1)


def _z_se(estimate: float, p: float) -> float:
    """SE of an estimate from its two-sided p-value under a z (Wald) test (Cochrane Handbook 6.3.1)."""
    return abs(estimate) / stats.norm.isf(p / 2)


def _reml(y, se):
    """REML tau^2 from its score equation; mean, z and HKSJ intervals."""
    y, v = np.asarray(y, float), np.asarray(se, float) ** 2

    def score(t2):
        w = 1 / (v + t2)
        mu = (w * y).sum() / w.sum()
        return -0.5 * w.sum() + 0.5 * (w**2 * (y - mu) ** 2).sum() + 0.5 * (w**2).sum() / w.sum()

    tau2 = 0.0 if score(0.0) <= 0 else optimize.brentq(score, 0.0, 100.0, xtol=1e-15, rtol=1e-15)
    w = 1 / (v + tau2)
    mu = (w * y).sum() / w.sum()
    se_z = 1 / math.sqrt(w.sum())
    k = len(y)
    se_hk = math.sqrt((w * (y - mu) ** 2).sum() / (k - 1) / w.sum())
    z, t = stats.norm.isf(0.025), stats.t.isf(0.025, k - 1)
    return {"tau2": tau2, "estimate": mu, "z": (mu - z * se_z, mu + z * se_z), "hksj": (mu - t * se_hk, mu + t * se_hk)}


def _bayes_prob_above(y, se, scale, threshold):
    """P(mu > t | y): flat prior on mu, half-normal(scale) on tau; mu integrated analytically, tau by quad."""
    y, s2 = np.asarray(y, float), np.asarray(se, float) ** 2

    def parts(tau):
        w = 1 / (s2 + tau**2)
        m = (w * y).sum() / w.sum()
        dens = (
            np.prod(w) ** 0.5
            / w.sum() ** 0.5
            * math.exp(-0.5 * (w * (y - m) ** 2).sum())
            * stats.halfnorm.pdf(tau, scale=scale)
        )
        return dens, m, 1 / math.sqrt(w.sum())

    z = integrate.quad(lambda t: parts(t)[0], 0, 12 * scale, epsabs=0, epsrel=1e-12, limit=200)[0]
    num = integrate.quad(
        lambda t: parts(t)[0] * stats.norm.sf(threshold, parts(t)[1], parts(t)[2]),
        0,
        12 * scale,
        epsabs=0,
        epsrel=1e-12,
        limit=200,
    )[0]
    return num / z


# --- raw effects -------------------------------------------------------------


def _oh(outcome, timepoint, arm):
    mean, sd, n = (_value("oh2018", outcome, timepoint, arm, s) for s in ("mean", "sd", "n"))
    return mean, sd / math.sqrt(n), int(n)


def _kim(per_month=True):
    pre, post, p, n = (
        _value("kim2009", "alsfrs_r_slope", "lead-in vs follow-up", "msc", s)
        for s in ("slope_pre", "slope_post", "p", "n")
    )
    change = pre - post  # printed as positive rates of decline: -post - (-pre)
    se = _z_se(change, p)  # primary: z, so that the study's z interval reproduces p
    f = 3.0 if per_month else 1.0
    return change / f, se / f


def _petrou(name, source):
    tp = "3-month run-in vs 6 months after transplantation"
    pre, post, p = (
        _value("petrou2016", name, tp, "it_and_im_it_regression", s, source) for s in ("slope_pre", "slope_post", "p")
    )
    n = sum(_value("petrou2016", "alsfrs_r_slope", tp, arm, "n") for arm in ("it", "im_it"))
    return post - pre, _z_se(post - pre, p), int(n)


# --- tests --------------------------------------------------------------------


def test_outputs_exist_and_are_byte_identical_on_rerun(run):
    folder, first = run
    for stem in FIGURES:
        assert (folder / f"{stem}.png").is_file() and (folder / f"{stem}.svg").is_file(), stem
    for name in TABLES:
        assert (folder / name).is_file(), name
    assert _digest(folder) == first


def test_within_patient_effects_recomputed_from_raw_rows(numbers):
    eff = numbers["effects"]
    y, se, n = _oh("alsfrs_r_slope_change", "lead-in vs follow-up", "msc")
    assert (y, n) == (1.13, 32)
    assert eff["oh2018_msc_alsfrs_r_first_follow_up"]["yi"] == pytest.approx(y, rel=1e-9)
    assert eff["oh2018_msc_alsfrs_r_first_follow_up"]["se"] == pytest.approx(se, rel=1e-9)
    for key, args in {
        "oh2018_control_alsfrs_r_first_follow_up": ("alsfrs_r_slope_change", "lead-in vs follow-up", "control"),
        "oh2018_msc_alsfrs_r_6_months": ("alsfrs_r_slope_change", "lead-in vs follow-up up to 6 months", "msc"),
        "oh2018_control_alsfrs_r_6_months": ("alsfrs_r_slope_change", "lead-in vs follow-up up to 6 months", "control"),
        "oh2018_msc_fvc_first_follow_up": ("fvc_pct_slope_change", "lead-in vs follow-up", "msc"),
        "oh2018_control_fvc_first_follow_up": ("fvc_pct_slope_change", "lead-in vs follow-up", "control"),
    }.items():
        y, se, n = _oh(*args)
        assert (
            eff[key]["yi"] == pytest.approx(y, rel=1e-9)
            and eff[key]["se"] == pytest.approx(se, rel=1e-9)
            and eff[key]["n"] == n
        )
    ky, kse = _kim()
    assert ky == pytest.approx(0.38, rel=1e-12)
    assert eff["kim2009_alsfrs_r"]["yi"] == pytest.approx(ky, rel=1e-9)
    assert eff["kim2009_alsfrs_r"]["se"] == pytest.approx(kse, rel=1e-9)
    assert eff["kim2009_alsfrs_r"]["se_from"] == "p = 0.04, z"
    assert eff["kim2009_alsfrs_r"]["ci_from"] == "z"
    assert eff["kim2009_alsfrs_r"]["se"] == pytest.approx(0.38 / stats.norm.isf(0.02), rel=1e-9)
    assert eff["kim2009_alsfrs_r_as_printed"]["yi"] == pytest.approx(1.14, rel=1e-9)
    # sensitivity: a paired t(21), and then the study's interval is t(21) too
    assert eff["kim2009_alsfrs_r_t"]["se"] == pytest.approx(_paired_t_se(1.14, 0.04, 22) / 3, rel=1e-9)
    assert eff["kim2009_alsfrs_r_t"]["ci_from"] == "t(21)"
    assert eff["petrou2016_alsfrs_r_neuronews_t"]["se"] == pytest.approx(_paired_t_se(0.6, 0.052, 20), rel=1e-9)
    py, pse, pn = _petrou("alsfrs_r_slope", NEURONEWS)
    assert (py, pn) == (pytest.approx(0.6), 20)
    assert eff["petrou2016_alsfrs_r_neuronews"]["se"] == pytest.approx(pse, rel=1e-9)
    assert eff["petrou2016_alsfrs_r_neurologyadvisor"]["yi"] == pytest.approx(
        _petrou("alsfrs_r_slope", NEUROLOGYADVISOR)[0], rel=1e-9
    )
    fy, fse, _ = _petrou("fvc_pct_slope", NEURONEWS)
    assert eff["petrou2016_fvc_neuronews"]["yi"] == pytest.approx(fy, rel=1e-9) and eff["petrou2016_fvc_neuronews"][
        "se"
    ] == pytest.approx(fse, rel=1e-9)
    # secondary and sign-ambiguous values are marked as such
    assert eff["petrou2016_alsfrs_r_neuronews"]["status"] == "secondary"
    assert any("sign" in f for f in eff["petrou2016_alsfrs_r_neurologyadvisor"]["flags"])
    assert all(s["source_url"] for e in eff.values() for s in e["sources"])


def test_primary_pool_recomputed_and_z_versus_hksj(numbers):
    oy, ose, _ = _oh("alsfrs_r_slope_change", "lead-in vs follow-up", "msc")
    ky, kse = _kim()
    ref = _reml([oy, ky], [ose, kse])
    got = numbers["pools"]["alsfrs_r_first"]
    assert got["k"] == 2 and got["n"] == 54 and got["status"] == "verified"
    assert got["reml_z"]["tau2"] == pytest.approx(ref["tau2"], rel=1e-6)
    assert got["reml_z"]["estimate"] == pytest.approx(ref["estimate"], rel=1e-8)
    assert (got["reml_z"]["ci_low"], got["reml_z"]["ci_high"]) == (
        pytest.approx(ref["z"][0], rel=1e-6, abs=1e-8),
        pytest.approx(ref["z"][1], rel=1e-6),
    )
    assert (got["reml_hksj"]["ci_low"], got["reml_hksj"]["ci_high"]) == (
        pytest.approx(ref["hksj"][0], rel=1e-6),
        pytest.approx(ref["hksj"][1], rel=1e-6),
    )
    # the published-style z interval excludes no change (barely); HKSJ with 1 df does not:
    # the conclusion depends on the test
    assert 0 < got["reml_z"]["ci_low"] < 0.01
    assert got["reml_hksj"]["ci_low"] < -4 and got["reml_hksj"]["ci_high"] > 5
    assert ref["estimate"] == pytest.approx(0.7410, abs=1e-4)
    sweep = pd.DataFrame(numbers["sweeps"]["alsfrs_r_first"])
    excl = sweep[sweep.ci_low > 0]
    assert set(excl.test) == {"z"} and len(excl) == 10
    # FVC with the secondary MSC-NTF report: heterogeneous, inconclusive under every specification
    fvc = _reml(
        [_oh("fvc_pct_slope_change", "lead-in vs follow-up", "msc")[0], _petrou("fvc_pct_slope", NEURONEWS)[0]],
        [_oh("fvc_pct_slope_change", "lead-in vs follow-up", "msc")[1], _petrou("fvc_pct_slope", NEURONEWS)[1]],
    )
    assert numbers["pools"]["fvc_all_msc"]["reml_z"]["estimate"] == pytest.approx(fvc["estimate"], rel=1e-6)
    sw = pd.DataFrame(numbers["sweeps"]["fvc_all_msc"])
    assert ((sw.ci_low < 0) & (sw.ci_high > 0)).all()


def test_single_study_pools_are_the_study(numbers):
    for key, args in {
        "alsfrs_r_6mo": ("alsfrs_r_slope_change", "lead-in vs follow-up up to 6 months", "msc"),
        "fvc_first": ("fvc_pct_slope_change", "lead-in vs follow-up", "msc"),
    }.items():
        y, se, _ = _oh(*args)
        got = numbers["pools"][key]["reml_z"]
        z = stats.norm.isf(0.025)
        assert got["k"] == 1
        assert got["estimate"] == pytest.approx(y, rel=1e-9)
        assert got["ci_low"] == pytest.approx(y - z * se, rel=1e-9) and got["ci_high"] == pytest.approx(
            y + z * se, rel=1e-9
        )


def test_empirical_null(numbers):
    null = numbers["empirical_null"]
    for key, (outcome, tp) in {
        "alsfrs_r_first_follow_up": ("alsfrs_r_slope_change", "lead-in vs follow-up"),
        "alsfrs_r_6_months": ("alsfrs_r_slope_change", "lead-in vs follow-up up to 6 months"),
        "fvc_first_follow_up": ("fvc_pct_slope_change", "lead-in vs follow-up"),
    }.items():
        ty, tse, _ = _oh(outcome, tp, "msc")
        cy, cse, _ = _oh(outcome, tp, "control")
        assert null[key]["untreated"]["estimate"] == pytest.approx(cy, rel=1e-9)
        d = null[key]["treated_minus_untreated"]
        assert d["estimate"] == pytest.approx(ty - cy, rel=1e-9)
        assert d["se"] == pytest.approx(math.hypot(tse, cse), rel=1e-9)
    # no cells: no within-patient ALSFRS-R change; FVC slope worsens without cells as well
    u = null["alsfrs_r_first_follow_up"]["untreated"]
    assert u["ci_low"] < 0 < u["ci_high"]
    assert null["fvc_first_follow_up"]["untreated"]["estimate"] < 0
    # the MSC - control contrast reproduces the trial's 1.10 and p = 0.406 for FVC (unpooled SEs)
    assert null["alsfrs_r_first_follow_up"]["treated_minus_untreated"]["estimate"] == pytest.approx(1.10, abs=1e-9)
    assert null["fvc_first_follow_up"]["treated_minus_untreated"]["pvalue"] == pytest.approx(0.40, abs=0.01)


def test_bayesian_probabilities_recomputed(numbers):
    oy, ose, _ = _oh("alsfrs_r_slope_change", "lead-in vs follow-up", "msc")
    ky, kse = _kim()
    b = numbers["bayes"]["alsfrs_r_first"]["flat_mu_prior"]
    for scale in (0.1, 0.25, 0.5, 1.0):
        for t in (0.0, 0.25, 0.5):
            assert b[f"{scale:g}"]["prob_mu_above"][f"{t:g}"] == pytest.approx(
                _bayes_prob_above([oy, ky], [ose, kse], scale, t), rel=1e-7
            )
    probs = [b[f"{s:g}"]["prob_mu_above"]["0"] for s in (0.1, 0.25, 0.5, 1.0)]
    assert probs == sorted(probs, reverse=True) and 0.9 < probs[-1] < probs[0] < 1
    # a very wide normal prior on mu gives nearly the flat-prior answer
    wide = numbers["bayes"]["alsfrs_r_first"]["wide_normal_mu_prior"]["prob_mu_above"]["0"]
    assert wide == pytest.approx(b["0.5"]["prob_mu_above"]["0"], abs=2e-3)
    # untreated arm: about even odds of "benefit" with no cells
    null = numbers["bayes"]["null_alsfrs_r_first"]["flat_mu_prior"]["0.5"]["prob_mu_above"]["0"]
    cy, cse, _ = _oh("alsfrs_r_slope_change", "lead-in vs follow-up", "control")
    assert null == pytest.approx(_bayes_prob_above([cy], [cse], 0.5, 0.0), rel=1e-7)
    assert 0.45 < null < 0.6


CLAIM_VERDICTS = {
    "records_identified": NOT_ASSESSABLE,
    "full_texts_assessed": NOT_ASSESSABLE,
    "studies_included": NOT_ASSESSABLE,
    "patients_total": NOT_ASSESSABLE,
    "patients_msc": NOT_ASSESSABLE,
    "patients_nsc": NOT_ASSESSABLE,
    "patients_mnc": REPRODUCED,
    "it_msc_transient_alsfrs_benefit": NOT_ASSESSABLE,
    "fvc_worse_all": NOT_ASSESSABLE,
}


def test_every_published_claim_has_its_verdict(numbers, run):
    claims = pd.read_csv(ROOT / "data" / "claims.csv", dtype=str, keep_default_na=False)
    published = set(claims[claims.synthesis == "msc2021"].claim_id)
    assert set(numbers["verdicts"]) == published
    assert numbers["verdicts"] == CLAIM_VERDICTS
    table = pd.read_csv(run[0] / "claims.csv", dtype=str, keep_default_na=False)
    overall = table[table.component == "overall"]
    assert sorted(overall.claim_id) == sorted(published)
    assert (table.reason != "").all() and set(table.verdict) <= {REPRODUCED, CONTRADICTED, NOT_ASSESSABLE}


POSITIVE = (
    "it_msc_transient_alsfrs_benefit|positive effect: slower ALSFRS-R decline after intrathecal MSC (first follow-up)"
)
SLOWING = (
    "it_msc_transient_alsfrs_benefit|transience: the slowing of progression is transient "
    "(the between-arm gain accrues more slowly after month 4)"
)
FADING = (
    "it_msc_transient_alsfrs_benefit|other reading: the gain fades (the between-arm difference shrinks after month 4)"
)


def test_claim_components(numbers):
    c = numbers["claims"]
    pos = c[POSITIVE]
    assert pos["k"] == 2 and pos["n"] == 54
    assert "HKSJ" in pos["analysis"] and "with HKSJ" in pos["agreement"]
    assert c[SLOWING]["verdict"] == NOT_ASSESSABLE and c[FADING]["verdict"] == NOT_ASSESSABLE
    it = c["fvc_worse_all|intrathecal MSC"]
    y, se, _ = _oh("fvc_pct_slope_change", "lead-in vs follow-up", "msc")
    assert (
        it["verdict"] == REPRODUCED
        and it["estimate"] == pytest.approx(y)
        and it["ci_high"] == pytest.approx(y + stats.norm.isf(0.025) * se)
    )
    assert c["fvc_worse_all|MSC-NTF (intrathecal \u00b1 intramuscular)"]["verdict"] == CONTRADICTED
    assert c["fvc_worse_all|NSC"]["verdict"] == NOT_ASSESSABLE and c["fvc_worse_all|MNC"]["verdict"] == NOT_ASSESSABLE


def test_candidate_counts(numbers):
    m = numbers["candidates"]["count_matching"]
    assert m["MNC"]["selections_matching"] == 1 and m["MNC"]["examples"] == [["Blanquer 2012 (11)"]]
    assert m["NSC"]["selections_matching"] == 0 and m["NSC"]["max_disjoint_total"] == 56
    assert m["NSC"]["selections_matching_with_double_counting"] > 0
    assert m["MSC"]["selections_matching"] == 54
    # independent check of the NSC maximum from studies.csv: one report per patient cohort, largest n each
    st = pd.read_csv(ROOT / "data" / "studies.csv", dtype=str, keep_default_na=False).set_index("study_id")
    largest = max(int(st.loc[s, "n_treated"]) for s in ("glass2012", "riley2014", "feldman2014"))
    assert (
        largest
        + int(st.loc["glass2016", "n_treated"])
        + int(st.loc["mazzini2019", "n_treated"])
        + int(st.loc["jns2016_autologous_nsc", "n_treated"])
        == 56
    )
    mnc = st[(st.cell_type == "MNC") & (st.publication_status == "published")]
    assert list(mnc[mnc.n_treated == "11"].index) == ["blanquer2012"]
    table = pd.DataFrame(numbers["candidates"]["table"])
    assert "oh2018" in set(table.study_id) and "petrou2021" not in set(table.study_id)  # published after April 2021


def test_not_poolable_studies_are_listed(run):
    frame = pd.read_csv(run[0] / "not_assessable.csv")
    text = " ".join(frame.study)
    for name in (
        "Syková 2017",
        "Petrou 2016 (phase 1/2 IT",
        "Mazzini 2019",
        "Blanquer 2012",
        "Karussis 2010",
        "Staff 2016",
        "Glass 2016",
    ):
        assert name in text, name
    assert (frame.why_not_pooled.str.len() > 0).all()


# --- alsmeta.als.claims_check ---------------------------------------------


def test_cohort_sums_respect_overlapping_reports():
    cohorts = [Cohort("a", (10,), "p1"), Cohort("b", (12,), "p1"), Cohort("c", (5, 7)), Cohort("d", (17,), ("p1", "x"))]
    assert sorted(cohort_sums(cohorts, 17)) == [(("a", 10), ("c", 7)), (("b", 12), ("c", 5)), (("d", 17),)]
    assert (("a", 10), ("b", 12)) not in cohort_sums(cohorts, 22)
    assert (("a", 10), ("b", 12)) in cohort_sums(cohorts, 22, allow_overlap=True)
    assert max_disjoint_total(cohorts) == (24, (("c", 7), ("d", 17)))
    assert cohort_sums(cohorts, 100) == []
    with pytest.raises(AlsmetaInputError, match="'c'"):
        Cohort("c", (5, -1))
    with pytest.raises(AlsmetaInputError, match="duplicate"):
        cohort_sums([Cohort("a", (1,)), Cohort("a", (2,))], 1)


def test_direction_verdict_rule():
    assert direction_verdict(1.0, 0.2, 1.8, 2, "increase")[0] == REPRODUCED
    assert direction_verdict(-1.0, -1.8, -0.2, 2, "increase")[0] == CONTRADICTED
    assert direction_verdict(0.5, -0.1, 1.1, 2, "increase")[0] == NOT_ASSESSABLE
    assert direction_verdict(-1.0, -1.8, -0.2, 1, "decrease")[0] == REPRODUCED
    assert direction_verdict(math.nan, math.nan, math.nan, 0, "decrease") == (
        NOT_ASSESSABLE,
        "no usable number (k = 0)",
    )
    with pytest.raises(AlsmetaInputError):
        direction_verdict(1.0, 0.0, 2.0, 1, "up")
    assert overall_verdict([(REPRODUCED, True), (NOT_ASSESSABLE, True)]) == NOT_ASSESSABLE
    assert overall_verdict([(REPRODUCED, True), (CONTRADICTED, False)]) == REPRODUCED
    assert overall_verdict([(REPRODUCED, True), (CONTRADICTED, True)]) == CONTRADICTED
    assert overall_verdict([(CONTRADICTED, False)]) == NOT_ASSESSABLE


# --- issue 12/13 corrections: primary analysis, distinct analyses, windows, the 152 count ----------------------


def test_positive_component_verdict_follows_the_primary_hksj_analysis(numbers, run):
    """The positive IT-MSC ALSFRS-R part was 'reproduced' under z only.

    The pre-specified primary analysis (REML + HKSJ, t(1)) decides.
    """
    oy, ose, _ = _oh("alsfrs_r_slope_change", "lead-in vs follow-up", "msc")
    ky, kse = _kim()
    ref = _reml([oy, ky], [ose, kse])
    pos = numbers["claims"][POSITIVE]
    assert (pos["ci_low"], pos["ci_high"]) == (
        pytest.approx(ref["hksj"][0], rel=1e-6),
        pytest.approx(ref["hksj"][1], rel=1e-6),
    )
    assert pos["verdict"] == NOT_ASSESSABLE
    assert pos["analysis"] == "REML + HKSJ, t(1), k = 2"
    assert numbers["primary_analysis"]["method"] == "REML" and numbers["primary_analysis"]["test"] == "knha"
    # the z interval appears only as agreement, never as the verdict
    assert f"{ref['z'][0]:.2f} to {ref['z'][1]:.2f}" in pos["agreement"]
    table = pd.read_csv(run[0] / "claims.csv", dtype=str, keep_default_na=False)
    assert {"analysis", "agreement"} <= set(table.columns) and "robustness" not in table.columns
    # FVC after IT MSC: k = 1, so the primary is the study's own z interval, and it stays reproduced
    assert numbers["claims"]["fvc_worse_all|intrathecal MSC"]["verdict"] == REPRODUCED
    assert "not the 2021 paper" in (run[0] / "claims.md").read_text()


def test_forest_subtotal_is_the_primary_hksj_interval(numbers, run):
    """The k = 2 diamond and its printed CI are the HKSJ (t, 1 df) interval, not the z interval."""
    oy, ose, _ = _oh("alsfrs_r_slope_change", "lead-in vs follow-up", "msc")
    ky, kse = _kim()
    ref = _reml([oy, ky], [ose, kse])
    sub = numbers["forest_subgroups"]["alsfrs_r_first"]["MSC, intrathecal"]["primary_reml_hksj"]
    assert sub["test"] == "knha" and sub["df"] == 1
    assert (sub["ci_low"], sub["ci_high"]) == (
        pytest.approx(ref["hksj"][0], rel=1e-6),
        pytest.approx(ref["hksj"][1], rel=1e-6),
    )
    svg = (run[0] / "forest_alsfrs_r_first_follow_up.svg").read_text()
    hksj_text = f"{ref['estimate']:.2f} [{ref['hksj'][0]:.2f}, {ref['hksj'][1]:.2f}]".replace("-", "\u2212")
    z_text = f"{ref['estimate']:.2f} [{ref['z'][0]:.2f}, {ref['z'][1]:.2f}]".replace("-", "\u2212")
    assert hksj_text in svg and z_text not in svg
    assert "t with 1 df" in svg and "Riley" in svg  # test, df and why no prediction interval is drawn


def _distinct(rows: list[dict]) -> list[tuple]:
    seen: list[tuple] = []
    for r in rows:
        key = tuple(float(f"{r[c]:.9e}") for c in ("estimate", "ci_low", "ci_high"))
        if key not in seen:
            seen.append(key)
    return seen


def test_sweep_counts_distinct_analyses(numbers):
    """44 estimator x test combinations collapse to 20 distinct analyses for the primary ALSFRS-R pool; 6 hold."""
    rows = numbers["sweeps"]["alsfrs_r_first"]
    distinct = _distinct(rows)
    holds = [d for d in distinct if d[1] > 0]
    got = numbers["sweep_agreement"]["alsfrs_r_first"]
    assert (
        (got["combinations"], got["distinct"], got["holds_distinct"])
        == (len(rows), len(distinct), len(holds))
        == (44, 20, 6)
    )
    assert got["holds_combinations"] == 10
    z = _distinct([r for r in rows if r["test"] == "z"])
    assert got["z"] == {"combinations": 11, "distinct": len(z), "holds_distinct": sum(d[1] > 0 for d in z)}
    assert got["knha"]["holds_distinct"] == 0
    assert "6 of 20 distinct analyses (44 estimator x test combinations" in numbers["claims"][POSITIVE]["agreement"]


def _arm(arm: str, months: int) -> tuple[float, float, int]:
    tp = f"baseline to {months} months"
    return tuple(_value("oh2018", "alsfrs_r_change", tp, arm, s) for s in ("mean", "sd", "n"))  # type: ignore[return-value]


def _hand_windows(r: float) -> dict[str, tuple[float, float]]:
    """Oh 2018 between-arm gain per month in months 0-4 and 4-6, written out by hand from data/outcomes.csv."""
    (mt4, st4, nt4), (mt6, st6, nt6) = _arm("msc", 4), _arm("msc", 6)
    (mc4, sc4, nc4), (mc6, sc6, nc6) = _arm("control", 4), _arm("control", 6)
    d4, d6 = mt4 - mc4, mt6 - mc6
    v4 = st4**2 / nt4 + sc4**2 / nc4
    cov = r * st4 * st6 * min(nt4, nt6) / (nt4 * nt6) + r * sc4 * sc6 * min(nc4, nc6) / (nc4 * nc6)
    v_inc = v4 + st6**2 / nt6 + sc6**2 / nc6 - 2 * cov
    z = stats.norm.isf(0.025)
    early, late = d4 / 4, (d6 - d4) / 2
    return {"early": (early, z * math.sqrt(v4) / 4), "late": (late, z * math.sqrt(v_inc) / 2)}


def test_window_increments_recomputed_from_raw_rows(numbers):
    """'Transient' is judged on increments per window, not on nested changes from baseline (issue 12 item 2).

    numbers.json keeps 10 significant digits, so differences of stored values agree to about 1e-9."""
    t = numbers["transience"]
    assert t["status"] == "derived" and t["r_range"] == [0.0, 1.0]
    for key, r in (("widest_r0", 0.0), ("narrowest_r1", 1.0)):
        hand = _hand_windows(r)
        early, late = t[key]["windows"]
        assert (early["start"], early["end"], late["start"], late["end"]) == (0.0, 4.0, 4.0, 6.0)
        assert early["estimate"] == pytest.approx(hand["early"][0], rel=1e-9)
        assert early["ci_high"] - early["estimate"] == pytest.approx(hand["early"][1], rel=1e-8)
        assert late["estimate"] == pytest.approx(hand["late"][0], rel=1e-9)
        assert late["ci_high"] - late["estimate"] == pytest.approx(hand["late"][1], rel=1e-8)
    # 2.98 of the 3.38-point 6-month difference is there at 4 months: ~0.75 vs ~0.20 points/month
    assert t["widest_r0"]["differences_from_baseline"] == [pytest.approx(2.98), pytest.approx(3.38)]
    assert t["widest_r0"]["windows"][0]["estimate"] == pytest.approx(0.745) and t["widest_r0"]["windows"][1][
        "estimate"
    ] == pytest.approx(0.20)
    # at both ends of the correlation range the 4-6 month interval contains 0 (no further gain) and positive values
    for key in ("widest_r0", "narrowest_r1", "derived_r"):
        late = t[key]["windows"][1]
        assert late["ci_low"] < 0 < late["ci_high"]
    # the derived r: linear decline + visit error, solved from each arm's SDs (hand formula)
    for arm, key in (("msc", "treated"), ("control", "control")):
        (_, s4, _), (_, s6, _) = _arm(arm, 4), _arm(arm, 6)
        slope_var = (s6**2 - s4**2) / 20
        err_var = (s4**2 - 16 * slope_var) / 2
        assert t["r_derived"][key] == pytest.approx((24 * slope_var + err_var) / (s4 * s6), rel=1e-9)
    reason = numbers["claims"][SLOWING]["reason"]
    assert "no further gain" in reason and "continued" in reason
    assert "does not wane" not in numbers["claims"][SLOWING]["reason"]


def test_no_fade_claim_in_the_texts(run):
    for name in ("claims.md", "reconstruction.md", "claims.csv"):
        text = (run[0] / name).read_text()
        assert "does not fade" not in text and "does not wane" not in text, name


def test_msc_152_count_states_its_choices(numbers):
    """'54 ways' lets Sykova 2017 (26/23) and Oh 2018 (33/32) enter with either n.

    One n each gives 17-32 (brute force).
    """
    import itertools

    st = pd.read_csv(ROOT / "data" / "studies.csv", dtype=str, keep_default_na=False).set_index("study_id")
    single = {
        "kim2009": 22,
        "mazzini2012": 19,
        "karussis2010": 19,
        "oh2015": 7,
        "petrou2016": 26,
        "staff2016": 27,
        "nabavi2018": 14,
        "berry2019": 36,
        "barczewska2020": 67,
        "olsztyn_wjmsc": 43,
    }
    counts = []
    for syk, oh in itertools.product((23, 26), (32, 33)):
        sizes = [*single.values(), syk, oh]
        counts.append(
            sum(
                1
                for mask in itertools.product((0, 1), repeat=len(sizes))
                if sum(m * n for m, n in zip(mask, sizes, strict=True)) == 152
            )
        )
    cc = numbers["candidates"]["count_matching"]["MSC"]["count_choices"]
    assert cc["selections_either_size"] == 54
    assert [b["selections"] for b in cc["by_fixed_size"]] == counts
    assert cc["range_fixed_size"] == [min(counts), max(counts)] == [17, 32]
    assert cc["alternative_sizes"] == {st.loc["sykova2017", "label"]: [23, 26], st.loc["oh2018", "label"]: [32, 33]}
    assert set(cc["msc_ntf_counted_as_msc"]) == {st.loc["petrou2016", "label"], st.loc["berry2019", "label"]}
    reason = numbers["claims"]["patients_msc|overall"]["reason"]
    assert "either of two sizes" in reason and "17 to 32" in reason


def test_sums_by_size_choice():
    from alsmeta.als.claims_check import sums_by_size_choice

    cohorts = [Cohort("a", (10, 12)), Cohort("b", (5,)), Cohort("c", (7, 5))]
    got = sums_by_size_choice(cohorts, 17)
    # a 12 + b 5 needs a = 12; a 10 + c 7 needs c = 7; a 12 + c 5 needs both
    assert got == [({"a": 10, "c": 5}, 0), ({"a": 10, "c": 7}, 1), ({"a": 12, "c": 5}, 2), ({"a": 12, "c": 7}, 1)]
    assert len(cohort_sums(cohorts, 17)) == 3  # either size allowed: the three selections above, each once


# --- alsmeta.als.windows ------------------------------------------------------


def test_window_increments_formula_and_correlation_bounds():
    from alsmeta.als.windows import ArmChange, linear_decline_correlation, window_increments

    t = [ArmChange(-1.0, 2.0, 20), ArmChange(-2.0, 3.0, 18)]
    c = [ArmChange(-3.0, 2.5, 21), ArmChange(-5.0, 3.5, 19)]
    for r in (0.0, 0.3, 1.0):
        a = window_increments(t, c, (3, 5), r)
        cov = r * 2 * 3 * 18 / (20 * 18) + r * 2.5 * 3.5 * 19 / (21 * 19)
        var = 4 / 20 + 9 / 18 + 6.25 / 21 + 12.25 / 19 - 2 * cov
        assert a.windows[1].estimate == pytest.approx(((-2 + 5) - (-1 + 3)) / 2, rel=1e-12)
        assert a.windows[1].se == pytest.approx(math.sqrt(var) / 2, rel=1e-12)
        assert a.windows[0].se == pytest.approx(math.sqrt(4 / 20 + 6.25 / 21) / 3, rel=1e-12)
        early, late = np.array([1 / 3, 0.0]), np.array([-0.5, 0.5])
        v = np.array([[4 / 20 + 6.25 / 21, cov], [cov, 9 / 18 + 12.25 / 19]])
        assert a.slowing.se == pytest.approx(math.sqrt((early - late) @ v @ (early - late)), rel=1e-12)
    one = window_increments(t[:1], c[:1], (3,), 0.5)
    assert one.windows[0].estimate == pytest.approx(2 / 3) and math.isnan(one.slowing.estimate)
    # the interval narrows as r grows: r = 0 is the widest in [0, 1]
    assert window_increments(t, c, (3, 5), 0.0).windows[1].se > window_increments(t, c, (3, 5), 0.5).windows[1].se
    # linear decline + error: exact when the SDs come from the model
    sb2, se2 = 0.5, 1.2
    sd = lambda x: math.sqrt(x**2 * sb2 + 2 * se2)  # noqa: E731
    assert linear_decline_correlation(sd(4), sd(6), 4, 6) == pytest.approx(
        (24 * sb2 + se2) / (sd(4) * sd(6)), rel=1e-12
    )
    with pytest.raises(AlsmetaInputError, match="'sd'"):
        ArmChange(-1.0, 0.0, 10, "Oh 2018 msc")
    with pytest.raises(AlsmetaInputError, match="Oh 2018 msc"):
        ArmChange(-1.0, -2.0, 10, "Oh 2018 msc")
    with pytest.raises(AlsmetaInputError, match="r"):
        window_increments(t, c, (3, 5), 1.5)
    with pytest.raises(AlsmetaInputError, match="times"):
        window_increments(t, c, (5, 3), 0.5)
    with pytest.raises(AlsmetaInputError, match="sd_early, sd_late"):
        linear_decline_correlation(3.0, 2.0, 4, 6)  # SD falling over time: negative slope variance


def test_availability_map(run):
    """Every candidate x outcome x window has one cell; a sample size alone never makes a cell 'verified'."""
    frame = pd.read_csv(run[0] / "availability.csv", dtype=str, keep_default_na=False)
    assert len(frame) == 23 * 2 * 3 and not frame.duplicated(["study_id", "outcome", "window"]).any()
    cell = frame.set_index(["study_id", "outcome", "window"])
    assert tuple(cell.loc[("oh2018", "FVC", "\u2264 4 months"), ["status", "content"]]) == ("verified", "numbers")
    # Petrou 2016: n per cohort is verified (abstract), the slopes only secondary: the cell is secondary
    assert tuple(cell.loc[("petrou2016", "ALSFRS(-R)", "6 months"), ["status", "content"]]) == ("secondary", "numbers")
    # Sykova 2017's p < 0.02 was read on a trial-listing aggregator (ichgcp.net): secondary since the provenance rule
    assert tuple(cell.loc[("sykova2017", "ALSFRS(-R)", "\u2264 4 months"), ["status", "content"]]) == (
        "secondary",
        "p only",
    )
    assert cell.loc[("berry2019", "ALSFRS(-R)", "6 months"), "status"] == "not_found"
    assert cell.loc[("mazzini2003", "ALSFRS(-R)", "\u2264 4 months"), "status"] == "none"
    assert set(frame.status) <= {"verified", "secondary", "derived", "not_found", "none"}


def test_headline_block_for_the_readme(numbers):
    """The README block reads numbers.json['headline']: primary = HKSJ interval, agreement and windows beside it."""
    h = numbers["headline"]
    it = h["it_msc_alsfrs_r_first_follow_up"]
    pos = numbers["claims"][POSITIVE]
    assert (it["primary"]["ci_low"], it["primary"]["ci_high"]) == (pos["ci_low"], pos["ci_high"])
    assert it["z_alternative"]["ci_low"] == pytest.approx(
        numbers["pools"]["alsfrs_r_first"]["reml_z"]["ci_low"], rel=1e-12
    )
    assert it["sweep"] == numbers["sweep_agreement"]["alsfrs_r_first"] and "not of the 2021 paper" in it["scope"]
    tr = h["transience_oh2018"]
    assert tr["gain_per_month_4_6"]["r0"] == {
        k: numbers["transience"]["widest_r0"]["windows"][1][k] for k in ("estimate", "ci_low", "ci_high")
    }
    assert tr["status"] == "derived" and any("not reported" in a for a in tr["assumptions"])
    assert h["msc_152_selections"]["either_size"] == 54 and h["msc_152_selections"]["one_size_fixed_range"] == [17, 32]


def test_availability_rules_on_a_small_table():
    from alsmeta.als.availability import availability_table, row_months, window_of

    cols = ["study_id", "outcome", "timepoint", "timepoint_months", "statistic", "status"]
    out = pd.DataFrame(
        [
            ["a", "alsfrs_r_slope", "6 months", "6", "n", "verified"],  # n alone: not evidence
            ["a", "alsfrs_r_slope", "6 months", "6", "slope_pre", "secondary"],
            ["a", "fvc_pct_change", "12 weeks", "", "p", "verified"],  # 12 weeks -> <= 4 months, p only
            ["b", "alsfrs_r_slope_change", "6 months", "6", "mean", "not_found"],
            ["b", "alsfrs_baseline", "baseline", "0", "mean", "verified"],  # baseline only: skipped
            ["c", "alsfrs_r_slope", "lead-in vs follow-up", "", "mean", "verified"],
        ],
        columns=cols,
    )
    q = pd.DataFrame(
        [["a", "alsfrs_r", "no_change", "x", "verified"], ["b", "clinical", "no_change", "y", "verified"]],
        columns=["study_id", "outcome", "direction", "statement", "status"],
    )
    t = availability_table(
        out,
        q,
        {"a": "MSC", "b": "MSC", "c": "NSC"},
        {"a": "A", "b": "B", "c": "C"},
        {("c", "lead-in vs follow-up"): 4.0},
    )
    cell = t.set_index(["study_id", "outcome", "window"])
    assert tuple(cell.loc[("a", "ALSFRS(-R)", "6 months"), ["status", "content"]]) == ("secondary", "numbers")
    assert tuple(cell.loc[("a", "FVC", "\u2264 4 months"), ["status", "content"]]) == ("verified", "p only")
    assert (
        cell.loc[("a", "ALSFRS(-R)", "later / not stated"), "status"] == "none"
    )  # words do not count where numbers exist
    assert cell.loc[("b", "ALSFRS(-R)", "6 months"), "status"] == "not_found"
    assert tuple(cell.loc[("b", "FVC", "later / not stated"), ["status", "content"]]) == ("verified", "words only")
    assert cell.loc[("c", "ALSFRS(-R)", "\u2264 4 months"), "status"] == "verified"
    assert len(t) == 3 * 2 * 3
    assert (
        window_of(row_months("x", "4 weeks", "")) == "\u2264 4 months" and window_of(math.nan) == "later / not stated"
    )
    with pytest.raises(AlsmetaInputError, match="timepoint_months"):
        row_months("x", "t", "six")
    with pytest.raises(AlsmetaInputError, match="'d'"):
        availability_table(out, q, {"d": "MSC"}, {})


def test_data_choice_agreement_counts_distinct_analyses(numbers):
    """Single-study specifications give the same analysis with z and HKSJ: counted once.

    10 combinations, 8 distinct.
    """
    panel = numbers["data_choice_sensitivity"]["ALSFRS-R, intrathecal MSC, first follow-up"]
    fits = [(s["specification"], t, s[key]) for s in panel for t, key in (("z", "reml_z"), ("knha", "reml_hksj"))]
    distinct = _distinct([f for _, _, f in fits])
    got = numbers["data_choice_agreement_alsfrs_r_first"]
    assert (got["combinations"], got["distinct"]) == (len(fits), len(distinct)) == (10, 8)
    assert got["holds_distinct"] == sum(d[1] > 0 for d in distinct)
    assert "leave out Kim 2009 (Oh 2018 only) (z)" in got["holding"]


@pytest.fixture(scope="module")
def script_figures() -> dict:
    """Every figure the script saves, as matplotlib figures, drawn by the evidence layer from data/."""
    from alsmeta.als.msc2021.figures import draw_figures
    from alsmeta.als.msc2021.reconstruction import reconstruct
    from alsmeta.als.tables import load_evidence

    return draw_figures(reconstruct(load_evidence(ROOT / "data")))


def test_every_figure_prints_at_a_column_width_with_text_of_7pt_or_more(script_figures):
    """89 or 183 mm wide, every drawn text >= 7 pt at that size, nothing cut off, no text over another, and every colour
    distinction also carried by shape or grey level (alsmeta.plots.print_check)."""
    assert set(script_figures) == set(FIGURES)
    problems = {stem: print_problems(fig) + grayscale_problems(fig) for stem, fig in script_figures.items()}
    assert problems == {stem: [] for stem in FIGURES}


def test_forest_subtotals_name_the_primary_analysis(script_figures):
    """The k = 2 subtotal row says its diamond is REML + HKSJ with t on 1 df."""
    from alsmeta.plots.artists import texts

    labels = texts(script_figures["forest_alsfrs_r_first_follow_up"], "label:summary")
    assert labels == ["Subtotal, REML + HKSJ (t, 1 df)"]


def test_every_figure_has_its_question_in_the_figure_index(numbers, run):
    """numbers.json lists each figure the script writes (question + caption), so figures/README.md indexes them all."""
    from alsmeta.io.reporting import figure_index

    assert set(numbers["figures"]) == set(FIGURES)
    assert all(e["script"] == f"analyses/{SCRIPT}" and e["question"].endswith("?") for e in numbers["figures"].values())
    index = figure_index(run[0].parent)  # raises if a PNG has no entry
    assert all(f"msc2021/{stem}.png" in index for stem in FIGURES)


def test_a_missing_number_stops_the_rebuild():
    """A number the reconstruction needs that data/ does not hold raises, naming the study, outcome and statistic."""
    from alsmeta.als.msc2021.effects import require
    from alsmeta.als.tables import Reported

    found = Reported("kim2009", "alsfrs_r_slope", "lead-in vs follow-up", "msc", "p", 0.04, "=", "verified", "", "", "")
    assert require(found) is found
    lost = Reported(
        "kim2009", "alsfrs_r_slope", "lead-in vs follow-up", "msc", "p", math.nan, "", "not_found", "", "", ""
    )
    with pytest.raises(AlsmetaInputError, match=r"kim2009 alsfrs_r_slope \(lead-in vs follow-up\) msc p: not reported"):
        require(lost)
