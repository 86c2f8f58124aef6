"""Cochrane CD011742 pub3 (2019): two RCTs, one with data (Oh 2018).

Reproduces every outcome that Oh 2018's arm-level data allow, as an
inverse-variance analysis of one study (the review's situation), and explains
why the trial's own CI for the 6-month ALSFRS-R change (1.23 to 5.54) differs
from the inverse-variance one (1.22 to 5.54). Writes two RevMan-style
multi-outcome forest plots (continuous outcomes as mean differences;
responders as odds ratios), a summary-of-findings table (CSV and Markdown)
and numbers.json into figures/cochrane_pub3/. Every outcome names its time
point: the FVC difference (-0.53) is a 4-month outcome (the trial reports no
6-month FVC).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

import alsmeta as am
from alsmeta.als.screening import screen
from alsmeta.als.tables import gather_arms, load_evidence
from alsmeta.effects.measures import log_odds_ratio, log_risk_ratio, mean_difference
from alsmeta.io import figures_dir  # ALSMETA_FIGURES when run by alsmeta reproduce, else figures/
from alsmeta.io.reporting import figure_entry, markdown_table, write_numbers
from alsmeta.plots.forest_multi import OutcomeBlock, multi_outcome_forest
from alsmeta.plots.prisma import PrismaCounts, prisma_flow
from alsmeta.plots.style import save_figure

OUT = figures_dir() / "cochrane_pub3"
STUDY = "oh2018"
ARMS = ("msc", "control")
ARM_NAMES = ("MSC + riluzole", "Riluzole alone")
FAVOURS = ("Favours riluzole alone", "Favours MSC + riluzole")

CONTINUOUS = [
    # key, outcome, timepoint, title, unit, heading in the forest plot (short enough for print)
    (
        "alsfrs_r_change_6mo",
        "alsfrs_r_change",
        "baseline to 6 months",
        "ALSFRS-R change, baseline to 6 months",
        "points",
        "ALSFRS-R change, 0 to 6 months (points)",
    ),
    (
        "alsfrs_r_change_4mo",
        "alsfrs_r_change",
        "baseline to 4 months",
        "ALSFRS-R change, baseline to 4 months",
        "points",
        "ALSFRS-R change, 0 to 4 months (points)",
    ),
    (
        "fvc_pct_change_4mo",
        "fvc_pct_change",
        "baseline to 4 months",
        "FVC % predicted change, baseline to 4 months",
        "% predicted",
        "FVC change, 0 to 4 months (% predicted)",
    ),
    (
        "alsfrs_r_slope_change",
        "alsfrs_r_slope_change",
        "lead-in vs follow-up",
        "Change in ALSFRS-R slope, lead-in vs follow-up",
        "points/month",
        "ALSFRS-R slope vs lead-in, follow-up (points/mo)",
    ),
    (
        "alsfrs_r_slope_change_6mo",
        "alsfrs_r_slope_change",
        "lead-in vs follow-up up to 6 months",
        "Change in ALSFRS-R slope, lead-in vs follow-up to 6 months",
        "points/month",
        "ALSFRS-R slope vs lead-in, to 6 months (points/mo)",
    ),
    (
        "fvc_pct_slope_change",
        "fvc_pct_slope_change",
        "lead-in vs follow-up",
        "Change in FVC % slope, lead-in vs follow-up",
        "% predicted/month",
        "FVC slope vs lead-in, follow-up (% predicted/mo)",
    ),
]
RESPONDERS = [
    (
        f"responders_{thr}_{m}mo",
        f"alsfrs_r_slope_improvement_{thr}",
        f"{m} months",
        f"ALSFRS-R slope improved {label} over lead-in, {m} months",
    )
    for thr, label in (("ge50pct", "\u2265 50%"), ("ge75pct", "\u2265 75%"), ("ge100pct", "\u2265 100%"))
    for m in (4, 6)
]


def continuous_outcome(ev, key, outcome, timepoint, title, unit, heading) -> tuple[dict, OutcomeBlock]:
    arms = gather_arms(ev, [(STUDY, timepoint)], outcome, ARMS, ("mean", "sd", "n"))
    es = mean_difference(
        *(arms.column(c) for c in ("mean1", "sd1", "n1", "mean2", "sd2", "n2")), labels=arms.used_labels()
    )
    fit = am.pool(es.yi, es.vi, labels=es.labels, method="REML", test="z")
    table = pd.DataFrame({c: arms.column(c) for c in ("mean1", "sd1", "n1", "mean2", "sd2", "n2")})
    block = OutcomeBlock(heading, fit, table)
    reported = {
        s: ev.statistic(STUDY, outcome, timepoint, "msc_minus_control", s) for s in ("md", "se", "ci_low", "ci_high")
    }
    n1, n2 = arms.column("n1")[0], arms.column("n2")[0]
    return {
        "title": title,
        "time_point": timepoint,
        "unit": unit,
        "k": fit.k,
        "participants": int(n1 + n2),
        "md": fit.estimate,
        "se": fit.se,
        "ci_low": fit.ci_low,
        "ci_high": fit.ci_high,
        "pvalue": fit.pvalue,
        "trial_reported": {s: r.value for s, r in reported.items()},
        "sources": arms.sources(),
    }, block


def explain_trial_interval(ev):
    """Why the trial reports 1.23 to 5.54 and the inverse-variance MD gives 1.22 to 5.54."""
    arms = gather_arms(ev, [(STUDY, "baseline to 6 months")], "alsfrs_r_change", ARMS, ("mean", "sd", "n"))
    cols = [arms.column(c)[0] for c in ("mean1", "sd1", "n1", "mean2", "sd2", "n2")]
    ls = mean_difference(*([c] for c in cols), vtype="LS")
    ho = mean_difference(*([c] for c in cols), vtype="HO")
    df = cols[2] + cols[5] - 2
    t = stats.t.isf(0.025, df)
    z = stats.norm.isf(0.025)
    md, se_ls, se_ho = ls.yi[0], float(np.sqrt(ls.vi[0])), float(np.sqrt(ho.vi[0]))
    rep = {
        s: ev.statistic(STUDY, "alsfrs_r_change", "baseline to 6 months", "msc_minus_control", s).value
        for s in ("md", "se", "ci_low", "ci_high")
    }
    midpoint = (rep["ci_low"] + rep["ci_high"]) / 2
    return {
        "inverse_variance_unpooled_z": {"md": md, "se": se_ls, "ci_low": md - z * se_ls, "ci_high": md + z * se_ls},
        "pooled_sd_t": {"md": md, "se": se_ho, "df": df, "ci_low": md - t * se_ho, "ci_high": md + t * se_ho},
        "pooled_sd_t_at_reported_midpoint": {
            "md": midpoint,
            "ci_low": midpoint - t * se_ho,
            "ci_high": midpoint + t * se_ho,
        },
        "trial_reported": rep,
        "explanation": (
            f"The trial's SE {rep['se']:.2f} is the pooled-SD (Student t-test) SE {se_ho:.4f}, not the unpooled "
            f"inverse-variance SE {se_ls:.4f} that a Cochrane MD uses; with t({df:g}) its interval around the "
            f"reported CI midpoint {midpoint:.3f} (an unrounded MD; the rounded means give {md:.2f}) is "
            f"{midpoint - t * se_ho:.2f} to {midpoint + t * se_ho:.2f}, the published 1.23 to 5.54. The inverse-variance "
            f"z interval with unpooled SDs is {md - z * se_ls:.2f} to {md + z * se_ls:.2f}."
        ),
    }


def responder_outcome(ev, key, outcome, timepoint, title) -> tuple[dict, OutcomeBlock]:
    arms = gather_arms(ev, [(STUDY, timepoint)], outcome, ARMS, ("events", "n"))
    counts = [arms.column(c) for c in ("events1", "n1", "events2", "n2")]
    rr = am.pool(
        *_yi_vi(log_risk_ratio(*counts, labels=arms.used_labels())), labels=arms.used_labels(), method="REML", test="z"
    )
    odds = am.pool(
        *_yi_vi(log_odds_ratio(*counts, labels=arms.used_labels())), labels=arms.used_labels(), method="REML", test="z"
    )
    e1, n1, e2, n2 = (int(c[0]) for c in counts)
    table = pd.DataFrame({c: arms.column(c) for c in ("events1", "n1", "events2", "n2")})
    block = OutcomeBlock(title, odds, table)
    return {
        "title": title,
        "time_point": timepoint,
        "k": rr.k,
        "participants": n1 + n2,
        "events_msc": e1,
        "n_msc": n1,
        "events_control": e2,
        "n_control": n2,
        "rr": float(np.exp(rr.estimate)),
        "ci_low": float(np.exp(rr.ci_low)),
        "ci_high": float(np.exp(rr.ci_high)),
        "log_rr": rr.estimate,
        "se_log_rr": rr.se,
        "or": float(np.exp(odds.estimate)),
        "or_ci_low": float(np.exp(odds.ci_low)),
        "or_ci_high": float(np.exp(odds.ci_high)),
        "log_or": odds.estimate,
        "se_log_or": odds.se,
        "or_pvalue": odds.pvalue,
    }, block


def _yi_vi(es) -> tuple[np.ndarray, np.ndarray]:
    return es.yi, es.vi


def draw_forests(continuous: list[OutcomeBlock], responders: list[OutcomeBlock]) -> None:
    """The two RevMan-style multi-outcome forests of the comparison (all outcomes of Oh 2018)."""
    source = (
        "Data: Oh 2018, Table 3 (arm level). The review's second RCT (Berry 2019, an abstract) gave no usable data."
    )
    fig = multi_outcome_forest(
        continuous,
        measure="MD",
        arm_names=ARM_NAMES,
        favours=FAVOURS,
        xlim=(-8, 8),
        xlabel="Mean difference (unit of each outcome, in its heading)",
        title="Cochrane CD011742 (2019): BM-MSC + riluzole vs riluzole alone, continuous outcomes",
        notes=[
            "Inverse-variance mean difference with unpooled SDs, as a one-study Cochrane analysis.",
            "Outcomes have different units: compare each CI with the line of no effect, not outcomes with each other.",
            "The 4- and 6-month outcomes are nested (same patients, overlapping periods). " + source,
        ],
    )
    save_figure(fig, OUT / "forest_continuous")
    fig = multi_outcome_forest(
        responders,
        measure="OR",
        arm_names=ARM_NAMES,
        favours=FAVOURS,
        xlim=(0.1, 200),
        title="Cochrane CD011742 (2019): BM-MSC + riluzole vs riluzole alone, ALSFRS-R responders",
        notes=[
            "Responder: ALSFRS-R slope after treatment improved over the lead-in slope by at least the threshold (the trial's definition).",
            "Thresholds and time points are nested (the same patients), so the six blocks are not independent. "
            + source,
        ],
    )
    save_figure(fig, OUT / "forest_responders")


def summary_of_findings(results, missing):
    rows = []
    for r in results["continuous"].values():
        rows.append(
            {
                "outcome": r["title"],
                "studies": r["k"],
                "participants": r["participants"],
                "effect": f"MD {r['md']:.2f} ({r['ci_low']:.2f} to {r['ci_high']:.2f}) {r['unit']}",
                "missing": "Cochrane's own estimate and GRADE rating not retrievable; Berry 2019 (abstract) gave no data",
            }
        )
    for key, r in results["responders"].items():
        if key.endswith("6mo") and "ge50" in key:
            rows.append(
                {
                    "outcome": r["title"],
                    "studies": r["k"],
                    "participants": r["participants"],
                    "effect": f"OR {r['or']:.2f} ({r['or_ci_low']:.2f} to {r['or_ci_high']:.2f}); RR {r['rr']:.2f} ({r['ci_low']:.2f} to {r['ci_high']:.2f})",
                    "missing": "responder definition is the trial's own; not a Cochrane outcome as far as known",
                }
            )
    for outcome, text in missing.items():
        rows.append({"outcome": outcome, "studies": 0, "participants": 0, "effect": "not estimable", "missing": text})
    return pd.DataFrame(rows)


def pub3_sentence(results: dict, included: list[str], participants: int) -> str:
    """The sentence a README prints for the 2019 review, each number from this analysis, each with its time point."""
    a6, fvc = results["continuous"]["alsfrs_r_change_6mo"], results["continuous"]["fvc_pct_change_4mo"]
    return (
        f"In 2019 {len(included)} RCTs ({participants} participants) were included; only Oh 2018 (bone-marrow MSC + riluzole "
        f"vs riluzole alone, open label) had usable data. From its published arm-level numbers the ALSFRS-R difference from "
        f"baseline to 6 months is {a6['md']:.2f} points (95% CI {a6['ci_low']:.2f} to {a6['ci_high']:.2f}) in favour of the "
        f"cells; the trial's own interval ({a6['trial_reported']['ci_low']:.2f} to {a6['trial_reported']['ci_high']:.2f}) "
        f"comes from a pooled-SD t-test. FVC from baseline to 4 months did not differ ({fvc['md']:.2f} % predicted, "
        f"{fvc['ci_low']:.2f} to {fvc['ci_high']:.2f}); the trial reports no 6-month FVC."
    )


def prisma_counts(ev) -> PrismaCounts:
    """PRISMA 2020 counts of the 2019 review as published: only the included-study count was retrievable.

    Every other count (records, full texts, exclusions, ongoing studies) is
    ``None`` and drawn as "not reported" - this project's own re-screening
    is not the review's flow and is not put in its boxes.
    """
    included = int(float(ev.claim("cochrane_pub3", "studies_included")["value"]))
    return PrismaCounts(
        identified={"Databases (Specialised Register, CENTRAL, MEDLINE, Embase)": None, "Trials registers (2)": None},
        included_studies=included,
    )


def draw_prisma(ev, scr) -> dict:
    counts = prisma_counts(ev)
    claim = ev.claim("cochrane_pub3", "studies_included")
    participants = int(float(ev.claim("cochrane_pub3", "participants")["value"]))
    ongoing = scr.ids("ongoing")
    fig = prisma_flow(
        counts,
        title=f"Cochrane CD011742 pub3: search of {scr.search_date:%d %B %Y}".replace(" 0", " "),
        caption=(
            f"Only the number of included RCTs ({counts.included_studies}, with {participants} participants; review "
            f"abstract, {claim['status']}) was retrievable; every other count is shown as not reported. This project's own re-screening at the search "
            f"date infers {len(ongoing)} ongoing trials; the review's own count was not retrievable."
        ),
    )
    save_figure(fig, OUT / "prisma")
    return {
        "included_studies": counts.included_studies,
        "included_source": f"{claim['source_url']} ({claim['location']}, {claim['status']})",
        "not_reported": [
            f for f in ("screened", "assessed", "excluded_full_text", "ongoing") if getattr(counts, f) is None
        ],
        "ongoing_inferred_by_this_project": ongoing,
    }


FIGURES = {
    "forest_continuous": (
        "Did BM-MSC + riluzole change ALSFRS-R and FVC compared with riluzole alone (Oh 2018, the one RCT with data)?",
        "RevMan-style forest of every continuous outcome of Oh 2018 as inverse-variance mean differences "
        "with 95% CI, each with its time point and unit; 4- and 6-month outcomes are nested.",
    ),
    "forest_responders": (
        "Did more patients' ALSFRS-R slope improve over the lead-in with cells than without?",
        "Responders at three thresholds and two time points (the trial's definitions), events/total per arm "
        "and odds ratios with 95% CI; the six blocks share patients.",
    ),
    "prisma": (
        "How were the studies of the 2019 review found and selected?",
        "PRISMA 2020 flow with only the published count (2 RCTs included); every count not retrievable is shown as "
        "not reported, never estimated.",
    ),
}


def time_points_together(continuous: dict) -> dict:
    """Oh 2018's 4- and 6-month ALSFRS-R differences in one multilevel model, under stated correlations.

    The two time points are the same patients, so their sampling errors are
    correlated by an amount the trial does not report. Each result states the
    dependence it assumes: ``rho`` is the assumed correlation of the two
    sampling errors (``rho = 0`` treats them as independent, which is false
    here and understates the uncertainty). With one study, the between-study
    variance is not identifiable (fixed at 0) and cluster-robust errors are
    undefined (one cluster).
    """
    fits = [continuous[key][0] for key in ("alsfrs_r_change_4mo", "alsfrs_r_change_6mo")]
    yi = np.array([f["md"] for f in fits])
    vi = np.array([f["se"] ** 2 for f in fits])
    study, effect = [STUDY, STUDY], ["4 months", "6 months"]
    out: dict = {
        "model": "three-level random effects (studies / time points), REML, as metafor rma.mv(random = ~1 | study/effect)",
        "dependence": "sampling errors of the two time points correlated with the stated rho (not reported by the trial)",
        "limits": "one study: between-study variance fixed at 0; cluster-robust SEs need at least 2 clusters",
    }
    for rho in (0.0, 0.5, 0.8):
        fit = am.pool_multilevel(yi, V=am.sampling_covariance(vi, study, rho), study=study, effect=effect)
        out[f"rho_{rho:g}"] = {
            "rho": rho,
            "estimate": fit.estimate,
            "se": fit.se,
            "ci_low": fit.ci_low,
            "ci_high": fit.ci_high,
            "sigma2": list(fit.sigma2),
        }
    return out


def main() -> None:
    warnings.simplefilter("error", RuntimeWarning)
    OUT.mkdir(parents=True, exist_ok=True)
    ev = load_evidence("data")
    scr = screen("pub3", "data")
    included = scr.ids("included")
    studies = ev.studies.set_index("study_id")
    participants = int(sum(int(studies.loc[s, "n_treated"]) + int(studies.loc[s, "n_control"]) for s in included))

    continuous = {key: continuous_outcome(ev, key, *rest) for key, *rest in CONTINUOUS}
    responders = {key: responder_outcome(ev, key, *rest) for key, *rest in RESPONDERS}
    draw_forests([b for _, b in continuous.values()], [b for _, b in responders.values()])
    results = {
        "continuous": {key: r for key, (r, _) in continuous.items()},
        "responders": {key: r for key, (r, _) in responders.items()},
    }
    missing = {
        "Serious adverse events": ev.statistic(
            STUDY, "serious_adverse_events", "follow-up", "msc", "events"
        ).describe(),
        "Deaths": ev.statistic(STUDY, "deaths", "follow-up", "msc", "events").describe(),
        "Overall survival (HR)": ev.statistic(STUDY, "survival", "long-term", "msc_vs_control", "hr").describe(),
        "ALSFRS-R slope (Berry 2019)": ev.statistic(
            "berry2019", "alsfrs_r_slope_change", "6 months", "msc_ntf", "mean"
        ).describe(),
    }
    sof = summary_of_findings(results, missing)
    sof.to_csv(OUT / "summary_of_findings.csv", index=False, lineterminator="\n")
    (OUT / "summary_of_findings.md").write_text(
        "# Summary of findings: Cochrane CD011742 pub3 (search 31 July 2019), reproduced\n\n"
        "Comparison: BM-MSC + riluzole vs riluzole alone (Oh 2018, the one included RCT with data).\n\n"
        + markdown_table(sof),
        encoding="utf-8",
    )
    numbers = {
        "figures": {stem: figure_entry(q, c, script=Path(__file__).name) for stem, (q, c) in FIGURES.items()},
        "prisma": draw_prisma(ev, scr),
        "search_date": scr.search_date.isoformat(),
        "included": included,
        "included_count": len(included),
        "participants_in_included_rcts": participants,
        "ongoing": scr.ids("ongoing"),
        "studies_with_data": [STUDY],
        **results,
        "alsfrs_r_time_points_multilevel": time_points_together(continuous),
        "trial_interval_explained": explain_trial_interval(ev),
        "missing": missing,
        "readme_sentence": pub3_sentence(results, included, participants),
    }
    write_numbers(OUT, numbers)


if __name__ == "__main__":
    main()
