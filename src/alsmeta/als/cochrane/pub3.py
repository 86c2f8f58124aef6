"""The 2019 update (CD011742 pub3, search 31 July 2019): two RCTs, one with data (Oh 2018).

Every outcome that Oh 2018's arm-level data allow, as an inverse-variance
analysis of one study (the review's situation): continuous outcomes as mean
differences with unpooled SDs and a z interval, responders as risk and odds
ratios. Every outcome names its time point (the FVC difference is a 4-month
outcome: the trial reports no 6-month FVC). Also why the trial's own CI for
the 6-month ALSFRS-R change (1.23 to 5.54) differs from the inverse-variance
one (1.22 to 5.54), the two ALSFRS-R time points in one multilevel model under
stated correlations, and the review's PRISMA counts (only the included count
was retrievable).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from scipy import stats

import alsmeta as am
from alsmeta.als.screening import Screening
from alsmeta.als.tables import Evidence, gather_arms
from alsmeta.effects.measures import log_odds_ratio, log_risk_ratio, mean_difference
from alsmeta.io.reporting import figure_entry
from alsmeta.plots.forest_multi import OutcomeBlock
from alsmeta.plots.prisma import PrismaCounts

STUDY = "oh2018"
ARMS = ("msc", "control")
ARM_NAMES = ("MSC + riluzole", "Riluzole alone")
FAVOURS = ("Favours riluzole alone", "Favours MSC + riluzole")
MEAN_COLUMNS = ("mean1", "sd1", "n1", "mean2", "sd2", "n2")
COUNT_COLUMNS = ("events1", "n1", "events2", "n2")


class ContinuousOutcome(NamedTuple):
    """A continuous outcome of Oh 2018: numbers key, outcome and time point in data/, title, unit, forest heading."""

    key: str
    outcome: str
    timepoint: str
    title: str
    unit: str
    heading: str  # short enough for print


class ResponderOutcome(NamedTuple):
    """A responder outcome of Oh 2018: numbers key, outcome and time point in data/, title."""

    key: str
    outcome: str
    timepoint: str
    title: str


CONTINUOUS = [
    ContinuousOutcome(
        "alsfrs_r_change_6mo",
        "alsfrs_r_change",
        "baseline to 6 months",
        "ALSFRS-R change, baseline to 6 months",
        "points",
        "ALSFRS-R change, 0 to 6 months (points)",
    ),
    ContinuousOutcome(
        "alsfrs_r_change_4mo",
        "alsfrs_r_change",
        "baseline to 4 months",
        "ALSFRS-R change, baseline to 4 months",
        "points",
        "ALSFRS-R change, 0 to 4 months (points)",
    ),
    ContinuousOutcome(
        "fvc_pct_change_4mo",
        "fvc_pct_change",
        "baseline to 4 months",
        "FVC % predicted change, baseline to 4 months",
        "% predicted",
        "FVC change, 0 to 4 months (% predicted)",
    ),
    ContinuousOutcome(
        "alsfrs_r_slope_change",
        "alsfrs_r_slope_change",
        "lead-in vs follow-up",
        "Change in ALSFRS-R slope, lead-in vs follow-up",
        "points/month",
        "ALSFRS-R slope vs lead-in, follow-up (points/mo)",
    ),
    ContinuousOutcome(
        "alsfrs_r_slope_change_6mo",
        "alsfrs_r_slope_change",
        "lead-in vs follow-up up to 6 months",
        "Change in ALSFRS-R slope, lead-in vs follow-up to 6 months",
        "points/month",
        "ALSFRS-R slope vs lead-in, to 6 months (points/mo)",
    ),
    ContinuousOutcome(
        "fvc_pct_slope_change",
        "fvc_pct_slope_change",
        "lead-in vs follow-up",
        "Change in FVC % slope, lead-in vs follow-up",
        "% predicted/month",
        "FVC slope vs lead-in, follow-up (% predicted/mo)",
    ),
]
RESPONDERS = [
    ResponderOutcome(
        f"responders_{thr}_{m}mo",
        f"alsfrs_r_slope_improvement_{thr}",
        f"{m} months",
        f"ALSFRS-R slope improved {label} over lead-in, {m} months",
    )
    for thr, label in (("ge50pct", "\u2265 50%"), ("ge75pct", "\u2265 75%"), ("ge100pct", "\u2265 100%"))
    for m in (4, 6)
]


def continuous_outcome(
    ev: Evidence, key: str, outcome: str, timepoint: str, title: str, unit: str, heading: str
) -> tuple[dict[str, Any], OutcomeBlock]:
    """One continuous outcome of Oh 2018 as an inverse-variance MD (REML, z), beside what the trial reported.

    Returns the numbers of the outcome and its block of the multi-outcome
    forest (``key`` names the outcome in numbers.json; the block's heading is
    ``heading``).
    """
    arms = gather_arms(ev, [(STUDY, timepoint)], outcome, ARMS, ("mean", "sd", "n"))
    es = mean_difference(*(arms.column(c) for c in MEAN_COLUMNS), labels=arms.used_labels())
    fit = am.pool(es.yi, es.vi, labels=es.labels, method="REML", test="z")
    table = pd.DataFrame({c: arms.column(c) for c in MEAN_COLUMNS})
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
        "sources": arms.sources() + [r.source() for r in reported.values() if not r.missing],
    }, block


def explain_trial_interval(ev: Evidence) -> dict[str, Any]:
    """Why the trial reports 1.23 to 5.54 and the inverse-variance MD gives 1.22 to 5.54."""
    arms = gather_arms(ev, [(STUDY, "baseline to 6 months")], "alsfrs_r_change", ARMS, ("mean", "sd", "n"))
    cols = [arms.column(c)[0] for c in MEAN_COLUMNS]
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
            f"{midpoint - t * se_ho:.2f} to {midpoint + t * se_ho:.2f}, the published 1.23 to 5.54. The "
            f"inverse-variance z interval with unpooled SDs is {md - z * se_ls:.2f} to {md + z * se_ls:.2f}."
        ),
    }


def responder_outcome(
    ev: Evidence, key: str, outcome: str, timepoint: str, title: str
) -> tuple[dict[str, Any], OutcomeBlock]:
    """One responder outcome of Oh 2018: risk ratio and odds ratio (REML, z) from the arms' counts.

    Returns the numbers of the outcome and its block of the responder forest
    (drawn as odds ratios).
    """
    arms = gather_arms(ev, [(STUDY, timepoint)], outcome, ARMS, ("events", "n"))
    counts = [arms.column(c) for c in COUNT_COLUMNS]
    rr_es = log_risk_ratio(*counts, labels=arms.used_labels())
    rr = am.pool(rr_es.yi, rr_es.vi, labels=arms.used_labels(), method="REML", test="z")
    or_es = log_odds_ratio(*counts, labels=arms.used_labels())
    odds = am.pool(or_es.yi, or_es.vi, labels=arms.used_labels(), method="REML", test="z")
    e1, n1, e2, n2 = (int(c[0]) for c in counts)
    table = pd.DataFrame({c: arms.column(c) for c in COUNT_COLUMNS})
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
        "sources": arms.sources(),
    }, block


def missing_outcomes(ev: Evidence) -> dict[str, str]:
    """The outcomes a summary of findings needs that no included trial reports, each with what is missing."""
    return {
        "Serious adverse events": ev.statistic(
            STUDY, "serious_adverse_events", "follow-up", "msc", "events"
        ).describe(),
        "Deaths": ev.statistic(STUDY, "deaths", "follow-up", "msc", "events").describe(),
        "Overall survival (HR)": ev.statistic(STUDY, "survival", "long-term", "msc_vs_control", "hr").describe(),
        "ALSFRS-R slope (Berry 2019)": ev.statistic(
            "berry2019", "alsfrs_r_slope_change", "6 months", "msc_ntf", "mean"
        ).describe(),
    }


def summary_of_findings(results: dict[str, Any], missing: dict[str, str]) -> pd.DataFrame:
    """The summary-of-findings rows: every continuous outcome, the 6-month >= 50% responders, then what is missing."""
    rows = []
    for r in results["continuous"].values():
        rows.append(
            {
                "outcome": r["title"],
                "studies": r["k"],
                "participants": r["participants"],
                "effect": f"MD {r['md']:.2f} ({r['ci_low']:.2f} to {r['ci_high']:.2f}) {r['unit']}",
                "missing": "Cochrane's own estimate and GRADE rating not retrievable; "
                "Berry 2019 (abstract) gave no data",
            }
        )
    for key, r in results["responders"].items():
        if key.endswith("6mo") and "ge50" in key:
            rows.append(
                {
                    "outcome": r["title"],
                    "studies": r["k"],
                    "participants": r["participants"],
                    "effect": f"OR {r['or']:.2f} ({r['or_ci_low']:.2f} to {r['or_ci_high']:.2f}); "
                    f"RR {r['rr']:.2f} ({r['ci_low']:.2f} to {r['ci_high']:.2f})",
                    "missing": "responder definition is the trial's own; not a Cochrane outcome as far as known",
                }
            )
    for outcome, text in missing.items():
        rows.append({"outcome": outcome, "studies": 0, "participants": 0, "effect": "not estimable", "missing": text})
    return pd.DataFrame(rows)


def pub3_sentence(results: dict[str, Any], included: list[str], participants: int) -> str:
    """The sentence a README prints for the 2019 review, each number from this analysis, each with its time point."""
    a6, fvc = results["continuous"]["alsfrs_r_change_6mo"], results["continuous"]["fvc_pct_change_4mo"]
    return (
        f"In 2019 {len(included)} RCTs ({participants} participants) were included; only Oh 2018 (bone-marrow MSC + "
        f"riluzole vs riluzole alone, open label) had usable data. From its published arm-level numbers the ALSFRS-R "
        f"difference from baseline to 6 months is {a6['md']:.2f} points (95% CI {a6['ci_low']:.2f} to "
        f"{a6['ci_high']:.2f}) in favour of the cells; the trial's own interval ({a6['trial_reported']['ci_low']:.2f} "
        f"to {a6['trial_reported']['ci_high']:.2f}) comes from a pooled-SD t-test. FVC from baseline to 4 months did "
        f"not differ ({fvc['md']:.2f} % predicted, {fvc['ci_low']:.2f} to {fvc['ci_high']:.2f}); the trial reports no "
        f"6-month FVC."
    )


def pub3_sentence_sources(results: dict[str, Any]) -> list[dict[str, Any]]:
    """The data rows behind the numbers :func:`pub3_sentence` prints (its two outcomes' ``sources``)."""
    continuous = results["continuous"]
    return [*continuous["alsfrs_r_change_6mo"]["sources"], *continuous["fvc_pct_change_4mo"]["sources"]]


def participants_in(ev: Evidence, study_ids: list[str]) -> int:
    """Participants of the given studies (treated + control, data/studies.csv)."""
    studies = ev.studies.set_index("study_id")
    return int(sum(int(studies.loc[s, "n_treated"]) + int(studies.loc[s, "n_control"]) for s in study_ids))


def prisma_counts(ev: Evidence) -> PrismaCounts:
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


def prisma_numbers(ev: Evidence, screening: Screening) -> dict[str, Any]:
    """What the PRISMA diagram of the 2019 review shows, where its one count comes from, and what is inferred."""
    counts = prisma_counts(ev)
    claim = ev.claim("cochrane_pub3", "studies_included")
    return {
        "included_studies": counts.included_studies,
        "included_source": f"{claim['source_url']} ({claim['location']}, {claim['status']})",
        "not_reported": [
            f for f in ("screened", "assessed", "excluded_full_text", "ongoing") if getattr(counts, f) is None
        ],
        "ongoing_inferred_by_this_project": screening.ids("ongoing"),
    }


def time_points_together(continuous: dict[str, Any]) -> dict[str, Any]:
    """Oh 2018's 4- and 6-month ALSFRS-R differences in one multilevel model, under stated correlations.

    The two time points are the same patients, so their sampling errors are
    correlated by an amount the trial does not report. Each result states the
    dependence it assumes: ``rho`` is the assumed correlation of the two
    sampling errors (``rho = 0`` treats them as independent, which is false
    here and understates the uncertainty). With one study, the between-study
    variance is not identifiable (fixed at 0) and cluster-robust errors are
    undefined (one cluster). ``continuous`` maps each key of
    :data:`CONTINUOUS` to its numbers (the first element of
    :func:`continuous_outcome`'s result).
    """
    fits = [continuous[key] for key in ("alsfrs_r_change_4mo", "alsfrs_r_change_6mo")]
    yi = np.array([f["md"] for f in fits])
    vi = np.array([f["se"] ** 2 for f in fits])
    study, effect = [STUDY, STUDY], ["4 months", "6 months"]
    out: dict[str, Any] = {
        "model": "three-level random effects (studies / time points), REML, as metafor "
        "rma.mv(random = ~1 | study/effect)",
        "dependence": "sampling errors of the two time points correlated with the stated rho (not reported by the "
        "trial)",
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


def figure_entries(script: str) -> dict[str, dict[str, str]]:
    """The figures of the 2019 analysis, each with the question it answers (for figures/README.md)."""
    return {stem: figure_entry(q, c, script=script) for stem, (q, c) in FIGURES.items()}
