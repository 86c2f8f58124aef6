"""Morata-Tarifa et al. 2021 (npj Regen Med 6:20), reconstructed from the primary studies.

The 2021 meta-analysis pooled each treated patient's ALSFRS-R and FVC
progression before versus after cell administration (11 studies, 220
patients: MSC 152, NSC 57, MNC 11) and concluded that intrathecal MSC had a
transient positive effect on ALSFRS-R while FVC worsened after all
interventions. Its study list and numbers were not retrievable
(shared/evidence/msc2021.md), so this script rebuilds the analysis from what
the candidate primary studies verifiably report, and states which claims
that evidence reproduces, contradicts or cannot assess.

Effect measure: the within-patient change in progression rate, post-treatment
slope minus pre-treatment (lead-in) slope, in points/month (ALSFRS-R) or
% predicted/month (FVC); positive = slower decline after cells. Standard
errors come only from documented conversions (SD of the change / sqrt(n);
paired-t p-value with df = n - 1). Studies without a usable spread are listed
as not assessable, never given an invented one.

Writes into figures/msc2021/: candidate table, effect table, forest plots by
cell type and route at each time point, the estimator x test sweep, data-choice
sensitivity, leave-one-out, a Bayesian analysis (half-normal priors on tau,
Röver 2020), the empirical null (Oh 2018's untreated arm analysed the same
way), the claims check (CSV, Markdown, figure), a readable report and
numbers.json.
"""

from __future__ import annotations

import math
import textwrap
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from scipy import stats

import alsmeta as am
from alsmeta.bayes import BayesMetaResult, bayes_meta
from alsmeta.evidence.claims_check import (
    CONTRADICTED,
    NOT_ASSESSABLE,
    REPRODUCED,
    Cohort,
    cohort_sums,
    direction_verdict,
    max_disjoint_total,
    overall_verdict,
)
from alsmeta.evidence.tables import Evidence, Reported, load_evidence
from alsmeta.plots.forest import forest_plot, symmetric_xlim
from alsmeta.plots.style import BLUE, GREEN, GREY, INK, LIGHT_GREY, ORANGE, SKY_BLUE, VERMILLION, save_figure, style_context
from alsmeta.reporting import markdown_table, write_numbers

from alsmeta.io import figures_dir  # ALSMETA_FIGURES when run by alsmeta reproduce, else figures/
OUT = figures_dir() / "msc2021"
SYNTHESIS = "msc2021"
META_ANALYSIS_DATE = "2021-04"  # issue date of npj Regen Med 6:20 (ADDI record: 2021-04-01)

UNITS = {"alsfrs_r": "points/month", "fvc": "% predicted/month"}
OUTCOME_NAMES = {"alsfrs_r": "ALSFRS-R", "fvc": "FVC % predicted"}
FIRST, SIX = "first follow-up", "6 months"
PERIOD_TEXT = {
    FIRST: "first follow-up (3-4 months)",
    SIX: "6 months",
}
PERIOD_SHORT = {FIRST: "3-4 mo", SIX: "6 mo"}
IT_MSC = "MSC, intrathecal"
NTF = "MSC-NTF, intrathecal \u00b1 intramuscular (secondary source)"
NULL = "No cells: untreated control arm (empirical null)"
FAVOURS = ("Faster progression after", "Slower progression after")

# Clinically relevant slowing of ALSFRS-R progression: 25% and 50% of the natural-history decline of about
# 1 point/month (GUIDE methods references: Kaufmann 2009, PRO-ACT); 25% is also Petrou 2016's responder
# threshold and 50% Oh 2018's.
ALSFRS_THRESHOLDS = (0.0, 0.25, 0.5)
FVC_THRESHOLDS = (0.0,)
# Half-normal prior scales on tau (median tau = 0.674 x scale), from tight to wide relative to the patient-level
# SD of the slope change (Oh 2018: 1.33 points/month for ALSFRS-R, 3.38 %/month for FVC).
TAU_SCALES = {"alsfrs_r": (0.1, 0.25, 0.5, 1.0), "fvc": (0.5, 1.0, 2.0, 4.0)}
PRIMARY_TAU_SCALE = {"alsfrs_r": 0.5, "fvc": 2.0}
WIDE_MU_SD = {"alsfrs_r": 10.0, "fvc": 30.0}  # a "very wide" proper normal prior on mu, next to the flat one

PETROU_SOURCES = {
    "neuronews": "https://neuronewsinternational.com/nurown-demonstrates-a-statistically-significant-effect-in-als-patients/",
    "neurologyadvisor": "https://www.neurologyadvisor.com/topics/neuromuscular-disorders/mesenchymal-neurotrophic-growth-factor-cells-may-slow-als/2/",
}

# The 2021 subgroups the candidates would fall in, and which reports describe the same patients.
# Overlaps come from shared/evidence/msc2021.md section 4 (NSI-566 reports; Mazzini 2015 within Mazzini 2019);
# MSC-NTF counted as MSC is INFERRED. Sizes: every count the evidence gives for the report.
COHORTS: dict[str, tuple[str, tuple[int, ...], tuple[str, ...], str]] = {
    "kim2009": ("MSC", (22,), (), "22 treated"),
    "mazzini2003": ("MSC", (), ("novara_msc",), "n not in the abstract (often cited as 7: unverified); probably within Mazzini 2012's two phase I trials (INFERRED)"),
    "mazzini2012": ("MSC", (19,), ("novara_msc",), "19, pooled from two consecutive phase I trials"),
    "karussis2010": ("MSC", (19,), (), "19 ALS patients (plus 15 MS)"),
    "oh2015": ("MSC", (7,), (), "8 enrolled, 7 treated"),
    "petrou2016": ("MSC", (26,), (), "IM 6 + IT 6 + IM+IT 14; MSC-NTF counted as MSC (INFERRED)"),
    "staff2016": ("MSC", (27,), (), "27 treated"),
    "sykova2017": ("MSC", (26, 23), (), "26 safety / 23 efficacy"),
    "nabavi2018": ("MSC", (14,), (), "IV 6 + IT 8"),
    "oh2018": ("MSC", (33, 32), (), "33 randomised to MSC / 32 in the ALSFRS-R slope analysis"),
    "berry2019": ("MSC", (36,), (), "36 MSC-NTF; MSC-NTF counted as MSC (INFERRED)"),
    "barczewska2020": ("MSC", (67,), (), "67 treated; same centre as the Olsztyn study (overlap UNCERTAIN, not assumed)"),
    "olsztyn_wjmsc": ("MSC", (43,), (), "43 treated; year not in the data (listed as a pre-2021 candidate in the evidence notes)"),
    "glass2012": ("NSC", (12,), ("nsi566_phase1",), "early report of the NSI-566 phase I (12)"),
    "riley2014": ("NSC", (15,), ("nsi566_phase1",), "NSI-566 phase I, 15 patients"),
    "feldman2014": ("NSC", (15,), ("nsi566_phase1",), "NSI-566 phase I final (15)"),
    "glass2016": ("NSC", (15,), ("nsi566_phase2",), "NSI-566 phase II (15)"),
    "goutman2018": ("NSC", (21, 20), ("nsi566_phase1", "nsi566_phase2"), "phase I+II subsets (21 / 20)"),
    "mazzini2015": ("NSC", (6,), ("novara_hnsc",), "first 6 patients of the Novara hNSC phase I"),
    "mazzini2019": ("NSC", (18,), ("novara_hnsc",), "full Novara hNSC phase I (18), includes Mazzini 2015 (INFERRED)"),
    "jns2016_autologous_nsc": ("NSC", (8,), (), "8 injected"),
    "blanquer2012": ("MNC", (11,), (), "11 treated"),
    "geijo_barrientos2020": ("MNC", (22,), (), "22 (treated muscle vs placebo-injected muscle)"),
}
PUBLISHED_COUNTS = {"MSC": 152, "NSC": 57, "MNC": 11}


# ---------------------------------------------------------------------------
# within-patient effects
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Effect:
    """One within-patient slope change (post minus pre) with its provenance."""

    key: str
    study_id: str
    label: str
    outcome: str
    period: str
    group: str
    yi: float
    se: float
    n: int
    se_from: str
    status: str
    derivation: str
    flags: tuple[str, ...] = ()
    sources: tuple[dict[str, Any], ...] = field(default=(), repr=False)

    @property
    def ci(self) -> tuple[float, float]:
        z = stats.norm.isf(0.025)
        return self.yi - z * self.se, self.yi + z * self.se

    def row(self) -> dict[str, Any]:
        lo, hi = self.ci
        return {
            "key": self.key, "study": self.label, "outcome": OUTCOME_NAMES[self.outcome], "period": PERIOD_TEXT[self.period],
            "group": self.group, "n": self.n, "slope_change": round(self.yi, 4), "se": round(self.se, 4),
            "ci_low": round(lo, 4), "ci_high": round(hi, 4), "unit": UNITS[self.outcome], "se_from": self.se_from,
            "status": self.status, "flags": "; ".join(self.flags), "derivation": self.derivation,
        }


def _source(r: Reported) -> dict[str, Any]:
    return {"study_id": r.study_id, "outcome": r.outcome, "timepoint": r.timepoint, "arm": r.arm, "statistic": r.statistic,
            "value": r.value, "status": r.status, "location": r.location, "source_url": r.source_url}


def _need(r: Reported) -> Reported:
    if r.missing:
        raise SystemExit(f"msc2021: a number the reconstruction needs is missing: {r.describe()}")
    return r


def oh_arm(ev: Evidence, outcome: str, period: str, arm: str) -> Effect:
    """Oh 2018: the trial's own within-patient slope change (lead-in vs follow-up), mean (SD), n per arm."""
    name = {"alsfrs_r": "alsfrs_r_slope_change", "fvc": "fvc_pct_slope_change"}[outcome]
    timepoint = {FIRST: "lead-in vs follow-up", SIX: "lead-in vs follow-up up to 6 months"}[period]
    mean, sd, n = (_need(ev.statistic("oh2018", name, timepoint, arm, s)) for s in ("mean", "sd", "n"))
    es = am.slope_change(change=[mean.value], sd_change=[sd.value], n=[n.value], labels=["Oh 2018"])
    treated = arm == "msc"
    return Effect(
        key=f"oh2018_{arm}_{outcome}_{period.replace(' ', '_').replace('-', '_')}",
        study_id="oh2018", label="Oh 2018, MSC arm" if treated else "Oh 2018, control arm",
        outcome=outcome, period=period, group=IT_MSC if treated else NULL,
        yi=float(es.yi[0]), se=float(es.sei[0]), n=int(n.value), se_from="SD/\u221an", status=mean.status,
        derivation=f"Table 3 '{timepoint}': mean {mean.value:g} (SD {sd.value:g}), n = {n.value:g}; SE = SD/sqrt(n)"
        + ("" if treated else "; riluzole alone, no cells: the same pre-post analysis without treatment"),
        flags=() if period == SIX else ("follow-up period not stated in Table 3; 16 weeks per the registry (INFERRED)",),
        sources=tuple(_source(r) for r in (mean, sd, n)),
    )


def kim2009(ev: Evidence, per_month: bool = True, t_test: bool = True) -> Effect:
    """Kim 2009: slopes 2.68 (lead-in) -> 1.54 (follow-up), p = 0.04, n = 22; no SD.

    Sign: the printed positive numbers are taken as rates of decline (the abstract concludes slower decline),
    so the signed slopes are -2.68 and -1.54 and the change is +1.14. Unit: not stated. The same 1.54 is
    printed as the ALSFRS-R change "during the 3-month follow-up", so the slopes are most plausibly points
    per 3-month period (INFERRED) and are divided by 3 to give points/month (per_month=False keeps them as
    printed, i.e. assumes points/month). SE from the p-value of a paired t-test with df = n - 1 (the test is
    not named in the abstract; t_test=False uses z).
    """
    pre, post, p, n = (_need(ev.statistic("kim2009", "alsfrs_r_slope", "lead-in vs follow-up", "msc", s)) for s in ("slope_pre", "slope_post", "p", "n"))
    change = (-post.value) - (-pre.value)
    df = n.value - 1 if t_test else None
    se = float(am.se_from_p([change], [p.value], df=df, labels=["Kim 2009"]).se[0])
    factor = 3.0 if per_month else 1.0
    flags = ["sign convention not stated (positive numbers read as rates of decline)"]
    flags.append("unit not stated: read as points per 3-month period, divided by 3 (INFERRED)" if per_month
                 else "unit not stated: read as points/month as printed")
    return Effect(
        key="kim2009_alsfrs_r" + ("" if per_month else "_as_printed") + ("" if t_test else "_z"),
        study_id="kim2009", label="Kim 2009", outcome="alsfrs_r", period=FIRST, group=IT_MSC,
        yi=change / factor, se=se / factor, n=int(n.value),
        se_from=f"p = {p.value:g}, " + (f"t({df:g})" if t_test else "z"), status=pre.status,
        derivation=(f"abstract: slope {pre.value:g} (lead-in) -> {post.value:g} (follow-up), p = {p.value:g}, n = {n.value:g}; "
                    f"change = {change:.2f}{' / 3' if per_month else ''}; SE = |change| / "
                    + (f"t(0.975, {df:g})" if t_test else "z(0.975)") + (" / 3" if per_month else "")),
        flags=tuple(flags),
        sources=tuple(_source(r) for r in (pre, post, p, n)),
    )


def petrou_regression(ev: Evidence, outcome: str, source: str = "neuronews", t_test: bool = True) -> Effect:
    """Petrou 2016, IT and IM+IT cohorts pooled (linear regression): slopes pre -> post with a p-value.

    Secondary sources only. ALSFRS-R: one source prints -1.2 -> -0.6, the other -1.2 -> 0.6 (a lost minus
    sign is very likely: the primary analysis uses -0.6, the other is a sensitivity analysis). n = 6 (IT) + 14
    (IM+IT) = 20 from the abstract; SE from the two-sided p with t(19) (a paired comparison is assumed; the
    source says 'linear regression', so z is the other sensitivity choice).
    """
    name = {"alsfrs_r": "alsfrs_r_slope", "fvc": "fvc_pct_slope"}[outcome]
    tp = "3-month run-in vs 6 months after transplantation"
    url = PETROU_SOURCES[source]
    pre, post, p = (_need(ev.statistic("petrou2016", name, tp, "it_and_im_it_regression", s, source_url=url)) for s in ("slope_pre", "slope_post", "p"))
    n_it, n_imit = (_need(ev.statistic("petrou2016", "alsfrs_r_slope", tp, arm, "n")) for arm in ("it", "im_it"))
    n = int(n_it.value + n_imit.value)
    change = post.value - pre.value
    df = n - 1 if t_test else None
    se = float(am.se_from_p([change], [p.value], df=df, labels=["Petrou 2016"]).se[0])
    flags = ["secondary source (news / press coverage), not checked against the paper"]
    if outcome == "alsfrs_r":
        flags.append("sign of the post-treatment slope differs between the two sources"
                     + (": -0.6 used" if post.value < 0 else ": +0.6 as printed by one source"))
    return Effect(
        key=f"petrou2016_{outcome}_{source}" + ("" if t_test else "_z"),
        study_id="petrou2016", label="Petrou 2016, IT + IM/IT pooled", outcome=outcome, period=SIX, group=NTF,
        yi=change, se=se, n=n, se_from=f"p = {p.value:g}, " + (f"t({df})" if t_test else "z"), status=pre.status,
        derivation=(f"{source}: slope {pre.value:g} -> {post.value:g} per month, p = {p.value:g}; n = {n_it.value:g} + {n_imit.value:g} "
                    f"(abstract); SE = |change| / " + (f"t(0.975, {df})" if t_test else "z(0.975)")),
        flags=tuple(flags),
        sources=tuple(_source(r) for r in (pre, post, p, n_it, n_imit)),
    )


def not_poolable(ev: Evidence) -> list[dict[str, Any]]:
    """Within-patient results that exist but cannot enter a numeric pool, and why."""
    rows = []
    tp = "3-month run-in vs 6 months after transplantation"
    for outcome, name in (("alsfrs_r", "alsfrs_r_slope"), ("fvc", "fvc_pct_slope")):
        for arm, cohort in (("it", "phase 1/2 IT, n = 6"), ("im_it", "phase 2a IM+IT, n = 14")):
            pre = ev.statistic("petrou2016", name, tp, arm, "slope_pre")
            post = ev.statistic("petrou2016", name, tp, arm, "slope_post")
            if pre.missing or post.missing:
                continue
            sign = " (sign of the post slope UNCERTAIN: printed without a minus)" if "UNCERTAIN" in post.note else ""
            rows.append({
                "study": f"Petrou 2016 ({cohort})", "outcome": OUTCOME_NAMES[outcome],
                "reported": f"slope {pre.value:g} -> {post.value:g} {UNITS[outcome]}{sign}",
                "slope_change": round(post.value - pre.value, 4),
                "why_not_pooled": "no SD, SE, CI or p-value for this cohort: the spread cannot be derived (secondary source)",
            })
    syk = ev.statistic("sykova2017", "alsfrs_decline", "3 months after application", "msc", "p")
    rows.append({
        "study": "Syková 2017 (IT BM-MSC, n = 23)", "outcome": "ALSFRS", "reported": f"decline reduced at 3 months, p {syk.relation} {syk.value:g}",
        "slope_change": math.nan,
        "why_not_pooled": "no estimate: a p-value bound without an effect size gives no SE (se_from_p needs the estimate)",
    })
    mz = ev.statistic("mazzini2019", "alsfrs_r_slope", "before vs after transplantation", "nsc", "p")
    if not mz.missing:
        rows.append({
            "study": "Mazzini 2019 (hNSC, n = 18)", "outcome": "ALSFRS-R", "reported": f"p = {mz.value:g} [{mz.status}; {mz.location}]",
            "slope_change": math.nan, "why_not_pooled": "a p-value whose comparison is not certain and no estimate: no SE can be derived",
        })
    q = ev.qualitative
    studies = ev.studies.set_index("study_id")
    for r in q[q.study_id.isin(list(COHORTS))].itertuples():
        s = studies.loc[r.study_id]
        rows.append({"study": f"{s['label']} ({s['cell_type']}, {s['route']})", "outcome": r.outcome,
                     "reported": f"{r.direction}: {r.statement} [{r.status}]",
                     "slope_change": math.nan, "why_not_pooled": "stated in words only; no number retrievable"})
    return rows


# ---------------------------------------------------------------------------
# pooling helpers
# ---------------------------------------------------------------------------


def fit(effects: list[Effect], method: str = "REML", test: str = "z") -> am.PooledResult:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", am.AlsmetaWarning)  # k = 1 with a t-based test falls back to z (noted in the output)
        return am.pool([e.yi for e in effects], sei=[e.se for e in effects], labels=[e.label for e in effects], method=method, test=test)


def fit_numbers(f: am.PooledResult) -> dict[str, Any]:
    return {
        "k": f.k, "estimate": f.estimate, "se": f.se, "ci_low": f.ci_low, "ci_high": f.ci_high, "pvalue": f.pvalue,
        "tau2": f.tau2, "i2": f.i2, "q": f.q, "q_pvalue": f.q_pvalue, "method": f.method, "test": f.test,
        "df": f.df, "test_downgraded": f.test_downgraded,
    }


def ci_text(est: float, lo: float, hi: float, digits: int = 2) -> str:
    return f"{est:.{digits}f} ({lo:.{digits}f} to {hi:.{digits}f})"


@dataclass(frozen=True)
class Pool:
    """One pooled analysis of the reconstruction."""

    key: str
    title: str
    outcome: str
    effects: tuple[Effect, ...]
    note: str = ""

    @property
    def n(self) -> int:
        return sum(e.n for e in self.effects)

    @property
    def statuses(self) -> str:
        return "/".join(sorted({e.status for e in self.effects}))


def pool_numbers(p: Pool) -> dict[str, Any]:
    z, h = fit(list(p.effects), "REML", "z"), fit(list(p.effects), "REML", "knha")
    return {
        "title": p.title, "outcome": p.outcome, "unit": UNITS[p.outcome], "k": len(p.effects), "n": p.n,
        "studies": [e.key for e in p.effects], "status": p.statuses, "note": p.note,
        "reml_z": fit_numbers(z), "reml_hksj": fit_numbers(h),
    }


# ---------------------------------------------------------------------------
# figures
# ---------------------------------------------------------------------------


def forest(effects: list[Effect], outcome: str, title: str, stem: str, notes: list[str]) -> dict[str, Any]:
    order = [IT_MSC, NTF, NULL]
    groups = [e.group for e in effects]
    f = fit(effects, "REML", "z")
    for g in dict.fromkeys(groups):
        members = [e for e in effects if e.group == g]
        if len(members) > 1:
            h = fit(members, "REML", "knha")
            notes = [f"{g} with REML-HKSJ instead of z: {ci_text(h.estimate, h.ci_low, h.ci_high)} (t with {h.df:g} df).", *notes]
    fig = forest_plot(
        f, subgroups=groups, subgroup_order=[g for g in order if g in groups], overall=False,
        columns={"n": [e.n for e in effects], **({"Period": [PERIOD_SHORT[e.period] for e in effects]} if len({e.period for e in effects}) > 1 else {}),
                 "SE from": [e.se_from for e in effects], "Source": [e.status for e in effects]},
        weights=False,
        effect_label="Slope change", xlabel=f"Change in {OUTCOME_NAMES[outcome]} slope, post minus pre ({UNITS[outcome]})",
        favours=FAVOURS, xlim=symmetric_xlim(f), title=title,
        notes=[
            "Within-patient change in progression rate (post-treatment minus lead-in slope); positive = slower decline after.",
            "Subgroups pooled separately (REML, z); the test for subgroup differences compares treated subgroups with the untreated arm.",
            *notes,
        ],
        panel_width=2.6,
    )
    save_figure(fig, OUT / stem)
    return {g: fit_numbers(fit([e for e in effects if e.group == g])) for g in dict.fromkeys(groups)}


def sweep_figure(panels: list[tuple[str, pd.DataFrame, str]], stem: str) -> None:
    """Estimator x test grid: each cell the pooled estimate and CI, green where the CI excludes 0."""
    methods = list(dict.fromkeys(panels[0][1]["method"]))
    tests = ["z", "t", "knha", "adhoc"]
    test_names = {"z": "z", "t": "t", "knha": "HKSJ", "adhoc": "HKSJ ad hoc"}
    cell_w, cell_h = 1.18, 0.34
    with style_context():
        width = len(panels) * (len(tests) * cell_w + 0.25) + 0.9
        grid_h, top, bottom = (len(methods) + 1) * cell_h, 0.75, 0.65
        height = grid_h + top + bottom
        fig = Figure(figsize=(width, height))
        for pi, (title, frame, unit) in enumerate(panels):
            left = (0.9 + pi * (len(tests) * cell_w + 0.25)) / width
            ax = fig.add_axes((left, bottom / height, len(tests) * cell_w / width, grid_h / height))
            ax.set_xlim(0, len(tests))
            ax.set_ylim(len(methods) + 1, 0)
            ax.axis("off")
            ax.set_title(title, fontsize=9, loc="left", pad=4)
            for j, t in enumerate(tests):
                ax.text(j + 0.5, 0.5, test_names[t], ha="center", va="center", fontweight="bold", fontsize=8)
            for i, m in enumerate(methods):
                if pi == 0:
                    ax.text(-0.08, i + 1.5, m, ha="right", va="center", fontsize=8)
                for j, t in enumerate(tests):
                    r = frame[(frame.method == m) & (frame.test == t)].iloc[0]
                    excl = r.ci_low > 0 or r.ci_high < 0
                    ax.add_patch(_rect(j, i + 1, "#d4efe4" if excl else "#f2f2f2"))
                    ax.text(j + 0.5, i + 1.5, f"{r.estimate:.2f}\n[{r.ci_low:.2f}, {r.ci_high:.2f}]", ha="center", va="center", fontsize=6.5, linespacing=1.1)
            ax.text(0, len(methods) + 1.35, unit, ha="left", va="top", fontsize=7, color=GREY)
        fig.text(0.01, 0.12 / height, "Green: 95% CI excludes no change. Rows: tau\u00b2 estimator (CE = common effect); columns: test. k = 2 in both panels, "
                 "so t-based intervals use 1 df.", fontsize=7, color=GREY, ha="left", va="bottom")
        save_figure(fig, OUT / stem)


def _rect(x: float, y: float, face: str) -> Any:
    from matplotlib.patches import Rectangle

    return Rectangle((x + 0.03, y + 0.05), 0.94, 0.9, facecolor=face, edgecolor="white", linewidth=0.5)


def intervals_figure(panels: list[tuple[str, str, list[tuple[str, am.PooledResult, am.PooledResult, bool]]]], stem: str, title: str) -> None:
    """Data-choice sensitivity: for each specification the REML z and REML HKSJ intervals."""
    rows_total = sum(len(rows) + 1.6 for _, _, rows in panels)
    with style_context():
        fig = Figure(figsize=(9.6, 1.2 + 0.4 * rows_total), layout="constrained")
        heights = [len(rows) + 0.6 for _, _, rows in panels]
        grid = fig.subplots(len(panels), 2, gridspec_kw={"height_ratios": heights, "width_ratios": [3.0, 1.25]}, squeeze=False)
        for (ax, tx), (ptitle, outcome, rows) in zip(grid, panels):
            lim = {"alsfrs_r": (-2.0, 3.0), "fvc": (-8.0, 10.0)}[outcome]
            for i, (label, fz, fh, primary) in enumerate(rows):
                for off, f, col, mk, name in ((-0.17, fz, INK, "o", "z"), (0.17, fh, ORANGE, "s", "HKSJ")):
                    y = i + off
                    lo, hi = max(f.ci_low, lim[0]), min(f.ci_high, lim[1])
                    ax.plot([lo, hi], [y, y], color=col, lw=1.3)
                    ax.plot([f.estimate], [y], marker=mk, color=col, ms=4.5, mfc=col if mk == "o" else "white")
                    if f.ci_low < lim[0]:
                        ax.plot([lim[0]], [y], marker="<", color=col, ms=4)
                    if f.ci_high > lim[1]:
                        ax.plot([lim[1]], [y], marker=">", color=col, ms=4)
                    note = " (k = 1: z)" if f.k == 1 and name == "HKSJ" else ""
                    tx.text(0.0, y, f"{name}: {ci_text(f.estimate, f.ci_low, f.ci_high)}{note}", va="center", fontsize=7, color=col)
            for a in (ax, tx):
                a.set_ylim(len(rows) - 0.5, -0.6)
            tx.set_xlim(0, 1)
            tx.axis("off")
            ax.set_yticks(range(len(rows)))
            ax.set_yticklabels([("\u25b6 " if r[3] else "") + r[0] for r in rows], fontsize=7.5)
            ax.set_xlim(*lim)
            ax.axvline(0, color=GREY, lw=0.8)
            ax.set_title(ptitle, fontsize=9, loc="left")
            ax.set_xlabel(f"Slope change, post minus pre ({UNITS[outcome]})", fontsize=8)
        handles = [Line2D([], [], color=INK, marker="o", lw=1.3, label="REML, z interval"),
                   Line2D([], [], color=ORANGE, marker="s", mfc="white", lw=1.3, label="REML, HKSJ interval (k = 1: z)")]
        grid[0][1].legend(handles=handles, loc="lower left", bbox_to_anchor=(0.0, 1.0), fontsize=7)
        fig.suptitle(title, fontsize=10, x=0.01, ha="left")
        fig.supxlabel("\u25b6 = primary analysis. Arrows: the interval continues beyond the axis (numbers on the right).\n"
                      "HKSJ with k = 2 uses t with 1 df; with two near-identical estimates it can be narrower than z "
                      "(the 'adhoc' variant keeps it at least as wide).", x=0.01, ha="left", fontsize=7, color=GREY)
        save_figure(fig, OUT / stem)


def bayes_figure(curves: dict[str, Any], stem: str) -> None:
    colours = [SKY_BLUE, BLUE, INK, VERMILLION]
    with style_context():
        fig = Figure(figsize=(9.0, 6.6), layout="constrained")
        (a, b), (c, d) = fig.subplots(2, 2)
        for ax, key, xlab in ((a, "alsfrs_r", "\u03bc: ALSFRS-R slope change (points/month)"), (b, "fvc", "\u03bc: FVC slope change (% predicted/month)")):
            cur = curves[key]
            for col, (scale, res) in zip(colours, cur["treated"].items()):
                ax.plot(res.mu_grid, res.mu_density, color=col, lw=1.3, label=f"treated, half-normal({scale:g})")
            null = cur["null"]
            ax.plot(null.mu_grid, null.mu_density, color=GREY, lw=1.2, ls="--", label=f"untreated arm, half-normal({null.tau_prior_scale:g})")
            ax.axvline(0, color=GREY, lw=0.8)
            if key == "alsfrs_r":
                for t in ALSFRS_THRESHOLDS[1:]:
                    ax.axvline(t, color=LIGHT_GREY, lw=0.8, ls=":")
            ax.set_xlim(*{"alsfrs_r": (-2.0, 3.0), "fvc": (-10.0, 8.0)}[key])
            ax.set_xlabel(xlab, fontsize=8)
            ax.set_ylabel("posterior density", fontsize=8)
            ax.set_title(cur["title"], fontsize=8.5, loc="left")
            ax.legend(fontsize=6.5, loc="upper left")
            ax.set_ylim(bottom=0)
        cur = curves["alsfrs_r"]
        _probability_panel(c, list(cur["treated"]), [
            *((f"P(\u03bc > {t:g})", col, mk, "-", {s: r.prob_above(t) for s, r in cur["treated"].items()})
              for t, col, mk in zip(ALSFRS_THRESHOLDS, (INK, BLUE, SKY_BLUE), ("o", "s", "^"))),
            ("untreated arm: P(\u03bc > 0)", GREY, "o", "--", {s: r.prob_above(0.0) for s, r in cur["null_by_scale"].items()}),
        ], "points/month", "ALSFRS-R: probability of any / clinically relevant slowing")
        cur = curves["fvc"]
        _probability_panel(d, list(cur["treated"]), [
            ("treated (primary set): P(\u03bc < 0)", INK, "o", "-", {s: r.prob_below(0.0) for s, r in cur["treated"].items()}),
            ("treated, with Petrou 2016 (secondary): P(\u03bc < 0)", ORANGE, "s", "-", {s: r.prob_below(0.0) for s, r in cur["with_secondary"].items()}),
            ("untreated arm: P(\u03bc < 0)", GREY, "o", "--", {s: r.prob_below(0.0) for s, r in cur["null_by_scale"].items()}),
        ], "% predicted/month", "FVC: probability that progression worsened after")
        fig.suptitle("Bayesian random-effects reconstruction (normal-normal model, flat prior on \u03bc; Röver 2020)", fontsize=10, x=0.01, ha="left")
        save_figure(fig, OUT / stem)


def _probability_panel(ax: Any, scales: list[float], series: list[tuple[str, str, str, str, dict[float, float]]], unit: str, title: str) -> None:
    """Posterior probabilities against the scale of the half-normal prior on tau."""
    for label, col, marker, style, probs in series:
        ax.plot(scales, [probs[s] for s in scales], marker=marker, color=col, ls=style, label=label)
    _log_ticks(ax, scales)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel(f"scale of the half-normal prior on \u03c4 ({unit})", fontsize=8)
    ax.set_ylabel("posterior probability", fontsize=8)
    ax.set_title(title, fontsize=8.5, loc="left")
    ax.legend(fontsize=6.5, loc="lower left")


def _log_ticks(ax: Any, values: list[float]) -> None:
    from matplotlib.ticker import FixedFormatter, FixedLocator, NullLocator

    ax.set_xscale("log")
    ax.xaxis.set_major_locator(FixedLocator(values))
    ax.xaxis.set_major_formatter(FixedFormatter([f"{v:g}" for v in values]))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xlim(values[0] / 1.25, values[-1] * 1.25)


def null_figure(pairs: list[tuple[str, Effect, Effect]], stem: str) -> None:
    """Treated arm next to the untreated arm of the same trial, analysed the same way, and their difference."""
    z = stats.norm.isf(0.025)
    blocks = []
    for outcome in ("alsfrs_r", "fvc"):
        rows = []
        for period, t, c in (p for p in pairs if p[1].outcome == outcome):
            d, dse = t.yi - c.yi, math.hypot(t.se, c.se)
            rows += [(f"{period}: MSC arm (cells), n = {t.n}", t.yi, *t.ci, INK, "s"),
                     (f"{period}: control arm (no cells), n = {c.n}", c.yi, *c.ci, GREY, "o"),
                     (f"{period}: MSC minus control (randomised)", d, d - z * dse, d + z * dse, BLUE, "D")]
        blocks.append((outcome, rows))
    row_h, top, gap, bottom = 0.27, 0.62, 0.8, 0.62
    height = top + sum(len(r) * row_h for _, r in blocks) + gap * (len(blocks) - 1) + bottom
    width = 8.2
    with style_context():
        fig = Figure(figsize=(width, height))
        fig.text(0.1 / width, 1 - 0.12 / height, "Empirical null: the same within-patient analysis in Oh 2018's untreated arm (riluzole alone)",
                 fontsize=10, va="top", ha="left")
        y_top = height - top
        for outcome, rows in blocks:
            h = len(rows) * row_h
            ax = fig.add_axes((3.1 / width, (y_top - h) / height, 3.6 / width, h / height))
            lo = min(r[2] for r in rows)
            hi = max(r[3] for r in rows)
            pad = 0.08 * (hi - lo)
            ax.set_xlim(min(lo, 0) - pad, max(hi, 0) + pad)
            ax.set_ylim(len(rows) - 0.5, -0.5)
            ax.axvline(0, color=GREY, lw=0.8)
            for i, (label, est, l, u, col, mk) in enumerate(rows):
                ax.plot([l, u], [i, i], color=col, lw=1.3)
                ax.plot([est], [i], marker=mk, color=col, ms=4.5)
                ax.text(-0.03, i, label, transform=ax.get_yaxis_transform(), ha="right", va="center", fontsize=7.5, color=col)
                ax.text(1.03, i, ci_text(est, l, u), transform=ax.get_yaxis_transform(), ha="left", va="center", fontsize=7.5, color=col)
                if i % 3 == 2 and i < len(rows) - 1:
                    ax.axhline(i + 0.5, color=LIGHT_GREY, lw=0.5)
            ax.set_yticks([])
            ax.spines["left"].set_visible(False)
            ax.set_title(f"{OUTCOME_NAMES[outcome]}: slope change, post minus pre ({UNITS[outcome]})", fontsize=8.5, loc="left", x=-0.78)
            ax.tick_params(labelsize=7)
            y_top -= h + gap
        fig.text(0.1 / width, 0.08 / height, "Oh 2018 Table 3, mean (SD) per arm; 95% z intervals (unpooled SEs for the difference). "
                 "Positive = slower decline after the lead-in period.",
                 fontsize=7, color=GREY, ha="left", va="bottom")
        save_figure(fig, OUT / stem)


VERDICT_COLOURS = {REPRODUCED: GREEN, CONTRADICTED: VERMILLION, NOT_ASSESSABLE: GREY}


def claims_figure(claims: pd.DataFrame, stem: str) -> None:
    rows = []
    for r in claims.itertuples():
        comp = r.component != "overall"
        if comp:
            claim = textwrap.wrap(r.component, 36, initial_indent="\u2022 ", subsequent_indent="   ")
        else:
            claim = textwrap.wrap(f"{r.claim} ({r.published})" if r.published else r.claim, 34)
        shows = textwrap.wrap(r.shows, 66)
        if r.robustness_short:
            shows += textwrap.wrap(r.robustness_short, 66)
        verdict = [r.verdict] + ([] if r.decisive == "yes" else textwrap.wrap(f"({r.decisive.removeprefix('no: ')}; not decisive)", 22))
        rows.append((claim, shows, verdict, comp, r.verdict))
    line = 0.148
    heights = [max(len(a), len(b), len(c)) * line + 0.13 for a, b, c, _, _ in rows]
    total = sum(heights) + 0.7
    with style_context():
        fig = Figure(figsize=(9.8, total))
        ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
        ax.set_xlim(0, 9.8)
        ax.set_ylim(total, 0)
        ax.axis("off")
        y = 0.2
        for x, head in ((0.12, "Published claim (Morata-Tarifa et al. 2021)"), (3.45, "What the reconstructed evidence shows"), (8.15, "Verdict")):
            ax.text(x, y, head, fontweight="bold", fontsize=8, va="top")
        y += 0.3
        ax.plot([0.1, 9.7], [y - 0.07, y - 0.07], color=INK, lw=0.8)
        for (claim, shows, verdict, comp, v), h in zip(rows, heights):
            if not comp:
                ax.plot([0.1, 9.7], [y - 0.05, y - 0.05], color=LIGHT_GREY, lw=0.5)
            ax.text(0.12 + (0.15 if comp else 0), y, "\n".join(claim), fontsize=7.0 if comp else 7.6, va="top", linespacing=1.3,
                    fontweight="normal" if comp else "bold")
            ax.text(3.45, y, "\n".join(shows), fontsize=7.0, va="top", linespacing=1.3)
            ax.text(8.15, y, verdict[0], fontsize=7.6, va="top", color=VERDICT_COLOURS[v], fontweight="normal" if comp else "bold")
            if len(verdict) > 1:
                ax.text(8.15, y + line, "\n".join(verdict[1:]), fontsize=6.5, va="top", color=GREY, linespacing=1.3)
            y += h
        save_figure(fig, OUT / stem)


# ---------------------------------------------------------------------------
# candidate table
# ---------------------------------------------------------------------------


def candidate_table(ev: Evidence, effects_by_study: dict[str, str]) -> tuple[pd.DataFrame, dict[str, Any]]:
    studies = ev.studies.set_index("study_id")
    cohorts = {g: [Cohort(sid, sizes, groups) for sid, (sg, sizes, groups, _) in COHORTS.items() if sg == g and sizes] for g in PUBLISHED_COUNTS}
    match: dict[str, Any] = {}
    label = {sid: str(studies.loc[sid, "label"]) for sid in COHORTS}
    for g, target in PUBLISHED_COUNTS.items():
        exact = cohort_sums(cohorts[g], target)
        overlapping = cohort_sums(cohorts[g], target, allow_overlap=True)
        best, best_sel = max_disjoint_total(cohorts[g])
        appear = {c.report: sum(any(r == c.report for r, _ in sel) for sel in exact) for c in cohorts[g]}
        match[g] = {
            "published": target, "candidates": [c.report for c in cohorts[g]], "selections_matching": len(exact),
            "selections_matching_with_double_counting": len(overlapping), "max_disjoint_total": best,
            "max_disjoint_selection": [f"{label[r]} ({n})" for r, n in best_sel],
            "examples": [[f"{label[r]} ({n})" for r, n in sel] for sel in (exact or overlapping)[:3]],
            "appearances": appear,
        }
    q = ev.qualitative
    rows = []
    for sid, (sg, sizes, groups, size_note) in COHORTS.items():
        s = studies.loc[sid]
        numeric = effects_by_study.get(sid, "")
        if not numeric:
            has_q = sid in set(q.study_id)
            numeric = "direction in words only" if has_q else "no pre/post number or statement retrieved"
        if sid == "sykova2017":
            numeric = "direction with p < 0.02, no estimate"
        m = match[sg]
        if sg == "MNC":
            fits = ("matches MNC n = 11 exactly (the only MNC candidate that does; identification INFERRED)" if 11 in sizes
                    else f"cannot be the MNC group: n = {'/'.join(map(str, sizes))}, not 11")
        elif sg == "NSC":
            fits = (f"NSC candidate; no selection of non-overlapping NSC cohorts reaches 57 (maximum {m['max_disjoint_total']})"
                    + (f"; shares patients with {', '.join(sorted(label[o] for o, (_, _, gr2, _) in COHORTS.items() if o != sid and set(gr2) & set(groups)))}" if groups else ""))
        else:
            fits = (f"in {m['appearances'].get(sid, 0)} of the {m['selections_matching']} selections of MSC candidates summing to 152"
                    if sizes else "n unknown: cannot enter the count")
        rows.append({
            "study_id": sid, "study": s["label"], "year": s["year"], "subgroup_2021": sg, "cell_type": s["cell_type"],
            "route": s["route"], "design": s["design"], "n_treated": "/".join(map(str, sizes)) if sizes else "not reported",
            "n_note": size_note, "lead_in": s["lead_in"] or "not stated", "numbers_available": numeric, "fits_2021_count": fits,
        })
    return pd.DataFrame(rows), match


# ---------------------------------------------------------------------------
# claims
# ---------------------------------------------------------------------------


def count_claims(ev: Evidence, match: dict[str, Any], n_candidates: int, n_cohort_groups: int) -> list[dict[str, Any]]:
    rows = []

    def add(claim_id: str, verdict: str, shows: str, reason: str) -> None:
        c = ev.claim(SYNTHESIS, claim_id)
        rows.append({"claim_id": claim_id, "claim": c["claim"], "published": c["value"], "component": "overall", "reading": "count",
                     "shows": shows, "estimate": math.nan, "ci_low": math.nan, "ci_high": math.nan, "k": 0, "n": 0,
                     "verdict": verdict, "reason": reason, "robustness": "", "robustness_short": "", "decisive": True,
                     "not_decisive_because": ""})

    search = "the search (databases, dates, strategy) and screening records were not retrieved; the toolkit cannot re-run them"
    add("records_identified", NOT_ASSESSABLE, "no search to re-run", search)
    add("full_texts_assessed", NOT_ASSESSABLE, "no screening record", search)
    add("studies_included", NOT_ASSESSABLE,
        f"{n_candidates} candidate reports from {n_cohort_groups} patient cohorts published before April 2021; the list of 11 is unknown",
        "the study list was not retrieved and the candidates do not identify a unique set of 11")
    m = match["MSC"]
    add("patients_msc", NOT_ASSESSABLE,
        f"{m['selections_matching']} different selections of the {len(m['candidates'])} MSC candidates with a known n sum to exactly 152 "
        f"(e.g. {' + '.join(m['examples'][0])})",
        "the total is reachable in many ways, so it does not identify the MSC studies (and Mazzini 2003's n is unknown)")
    m = match["NSC"]
    add("patients_nsc", NOT_ASSESSABLE,
        f"no selection of non-overlapping NSC cohorts sums to 57 (largest: {m['max_disjoint_total']} = {' + '.join(m['max_disjoint_selection'])}); "
        f"57 needs reports of the same patients counted twice ({m['selections_matching_with_double_counting']} ways) or an unretrieved study",
        "57 cannot be matched from the known candidates without double counting")
    m = match["MNC"]
    add("patients_mnc", REPRODUCED if m["selections_matching"] == 1 else NOT_ASSESSABLE,
        "Blanquer 2012 (intraspinal BM-MNC, 11 patients, 6-month pre-treatment observation) is the one MNC candidate with n = 11",
        "the count matches exactly one candidate (identification INFERRED from the n-match)")
    add("patients_total", NOT_ASSESSABLE, "152 + 57 + 11 = 220: the published arithmetic is consistent",
        "the MSC and NSC totals themselves cannot be matched from the candidates")
    return rows


def direction_row(claim_id: str, component: str, reading: str, f: am.PooledResult | None, effects: list[Effect], claimed: str,
                  decisive: bool, robustness: str = "", extra: str = "", unit: str = "", short: str = "") -> dict[str, Any]:
    if f is None or f.k == 0:
        verdict, reason = NOT_ASSESSABLE, "no usable number (k = 0)"
        est = lo = hi = math.nan
        shows = extra
    else:
        verdict, reason = direction_verdict(f.estimate, f.ci_low, f.ci_high, f.k, claimed)
        est, lo, hi = f.estimate, f.ci_low, f.ci_high
        who = ", ".join(e.label for e in effects)
        shows = f"{ci_text(est, lo, hi)} {unit}; k = {f.k}, n = {sum(e.n for e in effects)} ({who})" + (f"; {extra}" if extra else "")
    if not decisive and f is not None and f.k:
        reason += "; rests on secondary sources only, so it does not decide the claim"
    return {"claim_id": claim_id, "claim": "", "published": "", "component": component, "reading": reading, "shows": shows,
            "estimate": est, "ci_low": lo, "ci_high": hi, "k": 0 if f is None else f.k, "n": sum(e.n for e in effects),
            "verdict": verdict, "reason": reason, "robustness": robustness, "robustness_short": short, "decisive": decisive,
            "not_decisive_because": "" if decisive else "secondary source only"}


def sweep_robustness(sw: pd.DataFrame, claimed: str) -> str:
    hit = (sw.ci_low > 0) if claimed == "increase" else (sw.ci_high < 0)
    z = sw[sw.test == "z"]
    hz = (z.ci_low > 0) if claimed == "increase" else (z.ci_high < 0)
    hk = sw[sw.test == "knha"]
    hh = (hk.ci_low > 0) if claimed == "increase" else (hk.ci_high < 0)
    return (f"claimed direction excluded-null in {int(hit.sum())} of {len(sw)} estimator x test specifications "
            f"({int(hz.sum())}/{len(z)} with z, {int(hh.sum())}/{len(hk)} with HKSJ)")


# ---------------------------------------------------------------------------
# main
# ---------------------------------------------------------------------------


def main() -> None:
    warnings.simplefilter("error", RuntimeWarning)
    OUT.mkdir(parents=True, exist_ok=True)
    ev = load_evidence("data")

    # --- 1. effects ---------------------------------------------------------
    oh = {(o, p, a): oh_arm(ev, o, p, a) for o, p in (("alsfrs_r", FIRST), ("alsfrs_r", SIX), ("fvc", FIRST)) for a in ("msc", "control")}
    kim = kim2009(ev)
    kim_printed = kim2009(ev, per_month=False)
    kim_z = kim2009(ev, t_test=False)
    pet_a = petrou_regression(ev, "alsfrs_r", "neuronews")
    pet_a_plus = petrou_regression(ev, "alsfrs_r", "neurologyadvisor")
    pet_a_z = petrou_regression(ev, "alsfrs_r", "neuronews", t_test=False)
    pet_f = petrou_regression(ev, "fvc", "neuronews")
    pet_f_z = petrou_regression(ev, "fvc", "neuronews", t_test=False)

    primary = {
        "alsfrs_r_first": Pool("alsfrs_r_first", "ALSFRS-R, intrathecal MSC, first follow-up (3-4 months)", "alsfrs_r",
                               (oh["alsfrs_r", FIRST, "msc"], kim), "primary: verified values only"),
        "alsfrs_r_6mo": Pool("alsfrs_r_6mo", "ALSFRS-R, intrathecal MSC, 6 months", "alsfrs_r", (oh["alsfrs_r", SIX, "msc"],), "primary: verified values only"),
        "fvc_first": Pool("fvc_first", "FVC, intrathecal MSC, first follow-up (about 4 months)", "fvc", (oh["fvc", FIRST, "msc"],), "primary: verified values only"),
    }
    with_secondary = {
        "alsfrs_r_6mo_all_msc": Pool("alsfrs_r_6mo_all_msc", "ALSFRS-R, all MSC incl. MSC-NTF, 6 months (with secondary source)", "alsfrs_r",
                                     (oh["alsfrs_r", SIX, "msc"], pet_a), "sensitivity: adds Petrou 2016 (secondary)"),
        "fvc_all_msc": Pool("fvc_all_msc", "FVC, all MSC incl. MSC-NTF, each study's period (with secondary source)", "fvc",
                            (oh["fvc", FIRST, "msc"], pet_f), "sensitivity: adds Petrou 2016 (secondary; 6 months)"),
    }
    nulls = {
        "alsfrs_r_first": Pool("null_alsfrs_r_first", "ALSFRS-R, untreated arm, first follow-up", "alsfrs_r", (oh["alsfrs_r", FIRST, "control"],)),
        "alsfrs_r_6mo": Pool("null_alsfrs_r_6mo", "ALSFRS-R, untreated arm, 6 months", "alsfrs_r", (oh["alsfrs_r", SIX, "control"],)),
        "fvc_first": Pool("null_fvc_first", "FVC, untreated arm, first follow-up", "fvc", (oh["fvc", FIRST, "control"],)),
    }

    all_effects = [*oh.values(), kim, pet_a, pet_f]
    alternatives = [kim_printed, kim_z, pet_a_plus, pet_a_z, pet_f_z]
    effect_rows = [dict(e.row(), role="primary" if e.status == "verified" else "sensitivity (secondary source)") for e in all_effects]
    effect_rows += [dict(e.row(), role="sensitivity (alternative conversion)") for e in alternatives]
    for r in effect_rows:
        if r["group"] == NULL:
            r["role"] = "empirical null"
    effects_frame = pd.DataFrame(effect_rows)
    effects_frame.to_csv(OUT / "effects.csv", index=False, lineterminator="\n")
    excluded = pd.DataFrame(not_poolable(ev))
    excluded.to_csv(OUT / "not_assessable.csv", index=False, lineterminator="\n")

    # --- 2. forests -----------------------------------------------------------
    subgroup_fits = {
        "alsfrs_r_first": forest(
            [oh["alsfrs_r", FIRST, "msc"], kim, oh["alsfrs_r", FIRST, "control"]], "alsfrs_r",
            "Morata-Tarifa 2021 reconstructed: ALSFRS-R, first follow-up (3-4 months)", "forest_alsfrs_r_first_follow_up",
            ["Kim 2009: slopes printed without unit or sign; read as points per 3-month period and divided by 3 (INFERRED; see sensitivity).",
             "Oh 2018: Table 3 'lead-in vs follow-up' (follow-up 16 weeks per the registry)."]),
        "alsfrs_r_6mo": forest(
            [oh["alsfrs_r", SIX, "msc"], pet_a, oh["alsfrs_r", SIX, "control"]], "alsfrs_r",
            "Morata-Tarifa 2021 reconstructed: ALSFRS-R, 6 months", "forest_alsfrs_r_6_months",
            ["Petrou 2016: news/press coverage only; post slope -0.6 (one source prints 0.6); SE from p = 0.052 with t(19)."]),
        "fvc": forest(
            [oh["fvc", FIRST, "msc"], pet_f, oh["fvc", FIRST, "control"]], "fvc",
            "Morata-Tarifa 2021 reconstructed: FVC % predicted, each study's follow-up", "forest_fvc",
            ["Oh 2018: lead-in vs follow-up (about 4 months); Petrou 2016: 6 months, press coverage only, SE from p = 0.036 with t(19)."]),
    }

    # --- 3. sensitivity -------------------------------------------------------
    def sweep(p: Pool) -> pd.DataFrame:
        return am.estimator_sweep([e.yi for e in p.effects], [e.se**2 for e in p.effects], labels=[e.label for e in p.effects])

    sweeps = {"alsfrs_r_first": sweep(primary["alsfrs_r_first"]), "fvc_all_msc": sweep(with_secondary["fvc_all_msc"]),
              "alsfrs_r_6mo_all_msc": sweep(with_secondary["alsfrs_r_6mo_all_msc"])}
    for name, sw in sweeps.items():
        sw.to_csv(OUT / f"sweep_{name}.csv", index=False, lineterminator="\n", float_format="%.6g")
    sweep_figure([("ALSFRS-R, intrathecal MSC, first follow-up\n(Oh 2018 MSC arm + Kim 2009; primary)", sweeps["alsfrs_r_first"], "points/month"),
                  ("FVC, all MSC incl. MSC-NTF\n(Oh 2018 MSC arm + Petrou 2016, secondary)", sweeps["fvc_all_msc"], "% predicted/month")],
                 "sweep_estimator_by_test")

    def spec(label: str, effects: list[Effect], is_primary: bool = False) -> tuple[str, am.PooledResult, am.PooledResult, bool]:
        return (label, fit(effects, "REML", "z"), fit(effects, "REML", "knha"), is_primary)

    oa1, oa6, of1 = oh["alsfrs_r", FIRST, "msc"], oh["alsfrs_r", SIX, "msc"], oh["fvc", FIRST, "msc"]
    spec_panels = [
        ("ALSFRS-R, intrathecal MSC, first follow-up", "alsfrs_r", [
            spec("Oh 2018 + Kim 2009 (Kim per month; SE via t(21))", [oa1, kim], True),
            spec("Kim 2009 unit as printed (points/month)", [oa1, kim_printed]),
            spec("Kim 2009 SE via z instead of t(21)", [oa1, kim_z]),
            spec("leave out Kim 2009 (Oh 2018 only)", [oa1]),
            spec("leave out Oh 2018 (Kim 2009 only)", [kim]),
        ]),
        ("ALSFRS-R, 6 months", "alsfrs_r", [
            spec("intrathecal MSC: Oh 2018 only", [oa6], True),
            spec("+ Petrou 2016 (secondary), post slope -0.6", [oa6, pet_a]),
            spec("+ Petrou 2016, post slope +0.6 as printed", [oa6, pet_a_plus]),
            spec("+ Petrou 2016, -0.6, SE via z", [oa6, pet_a_z]),
        ]),
        ("FVC % predicted", "fvc", [
            spec("intrathecal MSC: Oh 2018 only", [of1], True),
            spec("+ Petrou 2016 (secondary, 6 months)", [of1, pet_f]),
            spec("+ Petrou 2016, SE via z", [of1, pet_f_z]),
        ]),
    ]
    intervals_figure(spec_panels, "sensitivity_data_choices", "Sensitivity to data choices: secondary sources, sign, unit and p-value conversions")
    spec_numbers = {title: [{"specification": lab, "primary": prim, "reml_z": fit_numbers(fz), "reml_hksj": fit_numbers(fh)} for lab, fz, fh, prim in rows]
                    for title, _, rows in spec_panels}
    loo = {name: am.leave_one_out(fit(list(p.effects))).reset_index().to_dict(orient="list")
           for name, p in {**{k: v for k, v in primary.items() if len(v.effects) > 1}, **with_secondary}.items()}

    # --- 4. Bayesian ----------------------------------------------------------
    def bayes(p: Pool, scale: float, mu_sd: float = math.inf) -> BayesMetaResult:
        thr = ALSFRS_THRESHOLDS if p.outcome == "alsfrs_r" else FVC_THRESHOLDS
        return bayes_meta([e.yi for e in p.effects], sei=[e.se for e in p.effects], tau_scale=scale, mu_prior_sd=mu_sd,
                          thresholds=thr, labels=[e.label for e in p.effects])

    bayes_sets = {**primary, **with_secondary, **{f"null_{k}": v for k, v in nulls.items()}}
    bayes_numbers: dict[str, Any] = {}
    bayes_results: dict[str, dict[float, BayesMetaResult]] = {}
    for name, p in bayes_sets.items():
        bayes_results[name] = {s: bayes(p, s) for s in TAU_SCALES[p.outcome]}
        wide = bayes(p, PRIMARY_TAU_SCALE[p.outcome], WIDE_MU_SD[p.outcome])
        bayes_numbers[name] = {
            "title": p.title, "k": len(p.effects),
            "flat_mu_prior": {f"{s:g}": {**r.to_dict(), "prob_mu_below": {"0": r.prob_below(0.0)}} for s, r in bayes_results[name].items()},
            "wide_normal_mu_prior": {**wide.to_dict(), "prob_mu_below": {"0": wide.prob_below(0.0)}},
        }
    bayes_figure({
        "alsfrs_r": {"title": "ALSFRS-R, intrathecal MSC, first follow-up (Oh 2018 + Kim 2009)", "treated": bayes_results["alsfrs_r_first"],
                     "null": bayes_results["null_alsfrs_r_first"][PRIMARY_TAU_SCALE["alsfrs_r"]], "null_by_scale": bayes_results["null_alsfrs_r_first"]},
        "fvc": {"title": "FVC, intrathecal MSC (Oh 2018 MSC arm)", "treated": bayes_results["fvc_first"],
                "with_secondary": bayes_results["fvc_all_msc"],
                "null": bayes_results["null_fvc_first"][PRIMARY_TAU_SCALE["fvc"]], "null_by_scale": bayes_results["null_fvc_first"]},
    }, "bayes_posteriors")

    # --- 5. empirical null ----------------------------------------------------
    null_pairs = [("first follow-up", oh["alsfrs_r", FIRST, "msc"], oh["alsfrs_r", FIRST, "control"]),
                  ("6 months", oh["alsfrs_r", SIX, "msc"], oh["alsfrs_r", SIX, "control"]),
                  ("first follow-up", oh["fvc", FIRST, "msc"], oh["fvc", FIRST, "control"])]
    null_figure(null_pairs, "empirical_null")
    null_numbers = {}
    for (o, p, _a), e in oh.items():
        if _a != "control":
            continue
        t = oh[o, p, "msc"]
        diff = t.yi - e.yi
        se = math.hypot(t.se, e.se)
        null_numbers[f"{o}_{p.replace(' ', '_').replace('-', '_')}"] = {
            "treated": {"estimate": t.yi, "se": t.se, "ci_low": t.ci[0], "ci_high": t.ci[1], "n": t.n},
            "untreated": {"estimate": e.yi, "se": e.se, "ci_low": e.ci[0], "ci_high": e.ci[1], "n": e.n},
            "treated_minus_untreated": {"estimate": diff, "se": se, "ci_low": diff - 1.959963984540054 * se, "ci_high": diff + 1.959963984540054 * se,
                                        "pvalue": 2 * stats.norm.sf(abs(diff) / se)},
        }

    # --- 6. candidates and claims ---------------------------------------------
    studies_with_numbers = {"oh2018": "slope change mean (SD), n, per arm: ALSFRS-R and FVC (verified)",
                            "kim2009": "slopes pre/post with p = 0.04 (verified; unit and sign not stated)",
                            "petrou2016": "slopes pre/post; p only for the pooled IT + IM/IT regression (secondary)"}
    candidates, match = candidate_table(ev, studies_with_numbers)
    candidates.to_csv(OUT / "candidates.csv", index=False, lineterminator="\n")
    groups = {g for sid, (_, _, gr, _) in COHORTS.items() for g in (gr or (sid,))}

    f_first = fit(list(primary["alsfrs_r_first"].effects))
    f_6 = fit(list(primary["alsfrs_r_6mo"].effects))
    f_fvc = fit(list(primary["fvc_first"].effects))
    f_fvc_all = fit(list(with_secondary["fvc_all_msc"].effects))
    f_ntf_fvc = fit([pet_f])
    b_first = bayes_results["alsfrs_r_first"]
    b_probs = [r.prob_mu_above[0] for r in b_first.values()]
    hk = fit(list(primary["alsfrs_r_first"].effects), "REML", "knha")
    claims = count_claims(ev, match, len(COHORTS), len(groups))

    # claim: transient ALSFRS-R benefit after intrathecal MSC
    c = ev.claim(SYNTHESIS, "it_msc_transient_alsfrs_benefit")
    pos = direction_row(
        "it_msc_transient_alsfrs_benefit", "positive effect: slower ALSFRS-R decline after intrathecal MSC (first follow-up)",
        "post - pre slope > 0", f_first, list(primary["alsfrs_r_first"].effects), "increase", True,
        robustness=(f"REML-HKSJ: {ci_text(hk.estimate, hk.ci_low, hk.ci_high)}; " + sweep_robustness(sweeps["alsfrs_r_first"], "increase")
                    + f"; Bayesian P(mu > 0) = {min(b_probs):.3f} to {max(b_probs):.3f} over half-normal scales "
                    + ", ".join(f"{s:g}" for s in b_first)),
        short=(f"fragile: REML-HKSJ {ci_text(hk.estimate, hk.ci_low, hk.ci_high)}; Bayesian P(\u03bc > 0) "
               f"{min(b_probs):.2f}-{max(b_probs):.2f} over half-normal priors on \u03c4"),
        extra=f"untreated arm of Oh 2018 (empirical null): {ci_text(oh['alsfrs_r', FIRST, 'control'].yi, *oh['alsfrs_r', FIRST, 'control'].ci)}",
        unit="points/month")
    waning = oh["alsfrs_r", SIX, "msc"].yi - oh["alsfrs_r", FIRST, "msc"].yi
    trans = {"claim_id": "it_msc_transient_alsfrs_benefit", "claim": "", "published": "",
             "component": "transience: the effect fades after the first months", "reading": "effect later < effect early",
             "shows": (f"Oh 2018 MSC arm: {oh['alsfrs_r', FIRST, 'msc'].yi:.2f} at first follow-up vs {ci_text(f_6.estimate, f_6.ci_low, f_6.ci_high)} "
                       f"points/month to 6 months (change {waning:+.2f}); no intrathecal-MSC numbers beyond 6 months"),
             "estimate": f_6.estimate, "ci_low": f_6.ci_low, "ci_high": f_6.ci_high, "k": f_6.k, "n": oh["alsfrs_r", SIX, "msc"].n,
             "verdict": NOT_ASSESSABLE,
             "reason": ("where it can be checked (Oh 2018, the only intrathecal-MSC study with two post-treatment periods) the slope change does not "
                        "wane up to 6 months; the two periods share patients, so their difference has no SE; waning after 6 months cannot be assessed"),
             "robustness": "", "robustness_short": "", "decisive": True, "not_decisive_because": ""}
    claims.append({**pos, "component": "overall", "claim": c["claim"], "published": "", "reading": "transient positive effect",
                   "shows": "positive within-patient effect reproduced (fragile: z only); transience not assessable",
                   "verdict": overall_verdict([(pos["verdict"], True), (trans["verdict"], True)]),
                   "reason": "the positive part is reproduced under REML-z; whether the effect is transient cannot be assessed",
                   "estimate": math.nan, "ci_low": math.nan, "ci_high": math.nan, "robustness_short": ""})
    claims += [pos, trans]

    # claim: FVC worse after all interventions
    c = ev.claim(SYNTHESIS, "fvc_worse_all")
    null_f = oh["fvc", FIRST, "control"]
    comp_it = direction_row("fvc_worse_all", "intrathecal MSC", "post - pre FVC slope < 0", f_fvc, list(primary["fvc_first"].effects), "decrease", True,
                            extra=f"untreated arm (empirical null): {ci_text(null_f.yi, *null_f.ci)}; treated minus untreated "
                                  f"{null_numbers['fvc_first_follow_up']['treated_minus_untreated']['estimate']:.2f} "
                                  f"(p = {null_numbers['fvc_first_follow_up']['treated_minus_untreated']['pvalue']:.2f})",
                            robustness="k = 1: estimator and test choices do not apply", unit="%/month")
    comp_ntf = direction_row("fvc_worse_all", "MSC-NTF (intrathecal \u00b1 intramuscular)", "post - pre FVC slope < 0", f_ntf_fvc, [pet_f], "decrease", False,
                             extra="secondary sources only", unit="%/month")
    comp_all = direction_row("fvc_worse_all", "all MSC pooled (sensitivity, with the secondary source)", "post - pre FVC slope < 0", f_fvc_all,
                             list(with_secondary["fvc_all_msc"].effects), "decrease", False,
                             robustness=sweep_robustness(sweeps["fvc_all_msc"], "decrease"), unit="%/month")
    q = ev.qualitative
    mnc = q[(q.study_id == "blanquer2012")].iloc[0]
    nsc = q[(q.study_id == "mazzini2019") & (q.outcome == "fvc")].iloc[0]
    comp_nsc = direction_row("fvc_worse_all", "NSC", "post - pre FVC slope < 0", None, [], "decrease", True,
                             extra=f"no FVC number for any NSC candidate; Mazzini 2019 ({nsc.status}): \"{nsc.statement}\"")
    comp_mnc = direction_row("fvc_worse_all", "MNC", "post - pre FVC slope < 0", None, [], "decrease", True,
                             extra=f"no FVC number; Blanquer 2012 ({mnc.status}): \"{mnc.statement}\"")
    comp_level = oh_fvc_level(ev)
    comps = [comp_it, comp_ntf, comp_all, comp_nsc, comp_mnc, comp_level]
    claims.append({**comp_it, "component": "overall", "claim": c["claim"], "published": "", "reading": "FVC progression worse after every cell type",
                   "shows": "worse after intrathecal MSC in Oh 2018 (as in its untreated arm); opposite in the secondary MSC-NTF report; no numbers for NSC or MNC",
                   "verdict": overall_verdict([(x["verdict"], x["decisive"]) for x in comps if x is not comp_level]),
                   "reason": "FVC numbers exist only for MSC; NSC and MNC cannot be assessed, and their primary reports state no acceleration of FVC decline",
                   "estimate": math.nan, "ci_low": math.nan, "ci_high": math.nan, "k": 0, "n": 0, "robustness": "",
                   "robustness_short": ""})
    claims += comps

    claims_frame = pd.DataFrame(claims)
    claims_frame["decisive"] = ["yes" if d else f"no: {why}" for d, why in zip(claims_frame["decisive"], claims_frame["not_decisive_because"])]
    claims_frame = claims_frame.drop(columns="not_decisive_because")
    claims_frame.to_csv(OUT / "claims.csv", index=False, lineterminator="\n", float_format="%.4f")
    claims_figure(claims_frame, "claims")

    # --- 7. reports -----------------------------------------------------------
    pools = {**primary, **with_secondary, **{f"null_{k}": v for k, v in nulls.items()}}
    pool_table = pd.DataFrame([
        {"analysis": p.title, "k": len(p.effects), "n": p.n, "status": p.statuses,
         "REML, z": ci_text(*(lambda f: (f.estimate, f.ci_low, f.ci_high))(fit(list(p.effects)))),
         "REML, HKSJ": ci_text(*(lambda f: (f.estimate, f.ci_low, f.ci_high))(fit(list(p.effects), "REML", "knha")))
         + (" (k = 1: z)" if len(p.effects) == 1 else ""),
         "unit": UNITS[p.outcome]}
        for p in pools.values()])
    bayes_table = pd.DataFrame([
        {"analysis": pools[name].title, "tau prior": f"half-normal({s:g})",
         "mu median (95% CrI)": ci_text(r.mu_median, r.mu_ci_low, r.mu_ci_high),
         "tau median": f"{r.tau_median:.2f}",
         **({f"P(mu > {t:g})": f"{pv:.3f}" for t, pv in zip(r.thresholds, r.prob_mu_above)} if pools[name].outcome == "alsfrs_r"
            else {"P(mu < 0)": f"{r.prob_below(0.0):.3f}"})}
        for name in ("alsfrs_r_first", "alsfrs_r_6mo", "null_alsfrs_r_first", "fvc_first", "fvc_all_msc", "null_fvc_first")
        for s, r in bayes_results[name].items()]).fillna("")
    md_claims = claims_frame[["claim_id", "component", "shows", "verdict", "reason", "robustness", "decisive"]]
    write_report(candidates, effects_frame, excluded, pool_table, bayes_table, md_claims, match)
    (OUT / "claims.md").write_text(
        "# Claims check: Morata-Tarifa et al. 2021 (npj Regen Med 6:20)\n\n"
        "Verdict rule: reproduced = the 95% CI of the reconstructed estimate (REML, z) excludes no effect in the claimed direction; "
        "contradicted = it excludes no effect in the opposite direction; not assessable = no usable number, or an interval that "
        "contains no effect. A claim is reproduced only if every decisive part is (parts resting only on secondary sources are shown "
        "but do not decide).\n\n" + markdown_table(md_claims), encoding="utf-8")

    numbers = {
        "meta_analysis": {"published": {r.claim_id: (float(r.value) if r.value != "" else None) for r in ev.claims[ev.claims.synthesis == SYNTHESIS].itertuples()}},
        "effects": {e.key: {"study_id": e.study_id, "outcome": e.outcome, "period": e.period, "group": e.group, "yi": e.yi, "se": e.se, "n": e.n,
                            "se_from": e.se_from, "status": e.status, "flags": list(e.flags), "sources": list(e.sources)}
                    for e in [*all_effects, *alternatives]},
        "not_poolable": excluded.to_dict(orient="records"),
        "pools": {k: pool_numbers(p) for k, p in pools.items()},
        "forest_subgroups": subgroup_fits,
        "sweeps": {k: sw.to_dict(orient="records") for k, sw in sweeps.items()},
        "data_choice_sensitivity": spec_numbers,
        "leave_one_out": loo,
        "bayes": bayes_numbers,
        "empirical_null": null_numbers,
        "candidates": {"count_matching": match, "table": candidates.to_dict(orient="records")},
        "claims": {f"{r['claim_id']}|{r['component']}": {k: r[k] for k in ("verdict", "reason", "shows", "estimate", "ci_low", "ci_high", "k", "n", "robustness")}
                   for r in claims},
        "verdicts": {r["claim_id"]: r["verdict"] for r in claims if r["component"] == "overall"},
        "decisions": {
            "effect_measure": "within-patient change in progression slope, post minus pre; positive = slower decline",
            "primary_model": "REML, z (metafor default); HKSJ, all estimators and a Bayesian model as sensitivity",
            "kim2009_unit": "slopes read as points per 3-month period and divided by 3 (INFERRED); as printed in sensitivity",
            "petrou2016_sign": "post-treatment ALSFRS-R slope -0.6 (neuronews); +0.6 (neurologyadvisor) in sensitivity",
            "se_from_p": "paired t with df = n - 1 (assumed); z in sensitivity",
            "clinically_relevant_alsfrs_r": "0.25 and 0.5 points/month (25% / 50% of a ~1 point/month decline)",
            "tau_priors": {k: list(v) for k, v in TAU_SCALES.items()},
        },
    }
    write_numbers(OUT, numbers)


def oh_fvc_level(ev: Evidence) -> dict[str, Any]:
    """The other reading of 'FVC worsened': FVC fell after treatment (change from baseline, not a slope change)."""
    arms = {}
    for arm in ("msc", "control"):
        mean, sd, n = (_need(ev.statistic("oh2018", "fvc_pct_change", "baseline to 4 months", arm, s)) for s in ("mean", "sd", "n"))
        es = am.mean_change(change=[mean.value], sd_change=[sd.value], n=[n.value], labels=["Oh 2018"])
        arms[arm] = (float(es.yi[0]), float(es.sei[0]), int(n.value))
    y, se, n = arms["msc"]
    lo, hi = y - 1.959963984540054 * se, y + 1.959963984540054 * se
    cy, cse, _ = arms["control"]
    verdict, reason = direction_verdict(y, lo, hi, 1, "decrease")
    return {"claim_id": "fvc_worse_all", "claim": "", "published": "", "component": "other reading: FVC fell after intrathecal MSC (level, not slope)",
            "reading": "FVC change from baseline < 0", "shows": (f"Oh 2018 MSC arm, baseline to 4 months: {ci_text(y, lo, hi)} % predicted, n = {n}; "
                                                                  f"untreated arm {ci_text(cy, cy - 1.96 * cse, cy + 1.96 * cse)}: ALS natural history"),
            "estimate": y, "ci_low": lo, "ci_high": hi, "k": 1, "n": n, "verdict": verdict,
            "reason": reason + "; under this reading the claim is true but uninformative (the untreated arm fell as much)", "robustness": "",
            "robustness_short": "", "decisive": False, "not_decisive_because": "alternative reading of the claim"}


def write_report(candidates, effects, excluded, pools, bayes, claims, match) -> None:
    cols = ["study", "outcome", "period", "group", "n", "slope_change", "se", "ci_low", "ci_high", "se_from", "status", "role", "flags"]
    text = [
        "# Morata-Tarifa et al. 2021, reconstructed from the primary studies\n",
        "Within-patient effect: post-treatment minus pre-treatment (lead-in) slope of ALSFRS-R (points/month) or FVC "
        "(% predicted/month); positive = slower decline after cell administration. SEs only from documented conversions "
        "(SD/sqrt(n); two-sided p with a paired t, df = n - 1). The 2021 study list and numbers were not retrievable; every "
        "number below comes from data/ with its source (see effects.csv and numbers.json).\n",
        "## Candidate studies and the published counts\n",
        f"MSC 152: {match['MSC']['selections_matching']} selections of the MSC candidates sum to exactly 152, so the count does not "
        f"identify the studies. NSC 57: no selection of non-overlapping NSC cohorts sums to 57 (largest {match['NSC']['max_disjoint_total']}); "
        f"{match['NSC']['selections_matching_with_double_counting']} selections reach 57 only by counting the same patients twice. "
        "MNC 11: Blanquer 2012 (n = 11) is the only match.\n",
        markdown_table(candidates[["study", "year", "subgroup_2021", "route", "design", "n_treated", "numbers_available", "fits_2021_count"]]),
        "\n## Within-patient effects\n",
        markdown_table(effects[cols]),
        "\n## Results that cannot enter a numeric pool\n",
        markdown_table(excluded),
        "\n## Pooled analyses (REML; z and HKSJ)\n",
        markdown_table(pools),
        "\n## Bayesian random effects (flat prior on mu; half-normal priors on tau)\n",
        markdown_table(bayes),
        "\n## Claims check\n",
        markdown_table(claims),
    ]
    (OUT / "reconstruction.md").write_text("\n".join(text), encoding="utf-8")


if __name__ == "__main__":
    main()
