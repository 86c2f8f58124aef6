"""The living update of CD011742 (evidence as of 2026): responders, harms and the summary of findings.

The pub3 criteria are applied to every trial in ``data/`` as of 2026 and what
can be pooled is pooled with the small-k methods a reviewer needs (REML with
z and with Hartung-Knapp-Sidik-Jonkman intervals, prediction intervals):

* responders: Oh 2018 (>= 50% ALSFRS-R slope improvement, 6 months, counts)
  and Cudkowicz 2022 (>= 1.25 points/month improvement, 28 weeks, adjusted OR
  with its p-value). The definitions differ, so the primary presentation is
  the two trials side by side, unpooled; a pooled odds ratio exists only as a
  labelled sensitivity analysis, to show how fragile such a pool is;
* serious adverse events and deaths: only Cudkowicz 2022 (the NurOwn phase 3)
  reports them; Mantel-Haenszel risk ratio (Cochrane's default for sparse
  events) with inverse-variance RR and Peto's OR as sensitivity analyses.

Everything else eligible (ALSUMMIT, Agüera-Morales 2025, Berry 2019's arm
data) is listed with what is missing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

import alsmeta as am
from alsmeta.als.tables import Evidence, gather_arms
from alsmeta.effects.conversions import se_from_p
from alsmeta.effects.measures import log_odds_ratio, log_risk_ratio

REVIEW = "living2026"
CUDKOWICZ_SOURCE = "https://openaccess.library.uitm.edu.my./Record/scopus_10-1002-mus-27472/Details"
NUROWN_TIMEPOINT = "screening to 28 weeks after first treatment"
RESPONDER_TRIALS = [
    # study, label, outcome, time point, definition as the trial states it
    (
        "oh2018",
        "Oh 2018",
        "alsfrs_r_slope_improvement_ge50pct",
        "6 months",
        "slope \u2265 50% better than lead-in, 6 months",
    ),
    (
        "cudkowicz2022",
        "Cudkowicz 2022",
        "responder_slope_improvement_ge1.25",
        "28 weeks",
        "slope \u2265 1.25 points/month better, 28 weeks",
    ),
]
NO_USABLE_NUMBERS = {
    "ALSUMMIT (NCT04745299)": "press releases only: CAFS primary endpoint not met overall; no effect sizes with SEs",
    "Agüera-Morales 2025": "reported as no statistically significant efficacy; numbers not found",
    "Berry 2019": "arm-level means/SDs and AE counts not retrievable; responder p-values only",
    "Cudkowicz 2022, ALSFRS-R change (overall)": "MD 0.36 points (press); SE/CI not found; subgroup MMRM values in "
    "PMC are pre-erratum and nested",
}
"""Eligible or ongoing trials without usable numbers, each with what is missing."""


def fit_summary(fit: am.PooledResult, ratio: bool = True) -> dict[str, Any]:
    """A fit's numbers for numbers.json; estimate, CI and prediction interval exponentiated when ``ratio``."""
    tr = np.exp if ratio else (lambda x: x)
    return {
        "k": fit.k,
        "method": fit.method,
        "test": fit.test,
        "estimate": float(tr(fit.estimate)),
        "ci_low": float(tr(fit.ci_low)),
        "ci_high": float(tr(fit.ci_high)),
        "pvalue": fit.pvalue,
        "tau2": fit.tau2,
        "i2": fit.i2,
        "q": fit.q,
        "q_pvalue": fit.q_pvalue,
        "pi_low": float(tr(fit.pi_low)) if np.isfinite(fit.pi_low) else None,
        "pi_high": float(tr(fit.pi_high)) if np.isfinite(fit.pi_high) else None,
        "df": fit.df if np.isfinite(fit.df) else None,
    }


def ratio_text(x: float) -> str:
    """A ratio with 2 decimals (none from 100 up); one that would round to 0.00 is written <0.01."""
    if x < 0.005:
        return "<0.01"
    return f"{x:.0f}" if x >= 99.5 else f"{x:.2f}"


def definitions_match(trials: list[tuple[str, str, str, str, str]]) -> bool:
    """Responder results may be pooled only if every trial used the same outcome definition at the same time point."""
    return len({(outcome, timepoint) for _, _, outcome, timepoint, _ in trials}) == 1


@dataclass(frozen=True, eq=False)
class ResponderEvidence:
    """Each responder trial's log odds ratio, its one-study fit, and the labelled pooled sensitivity fits.

    ``oh_arms`` holds Oh 2018's counts (events1, n1, events2, n2); Cudkowicz
    2022 published an adjusted OR (``cu_or``) with its p-value (``cu_p``)
    and the responder percentages (``cu_percent``), from which the SE of its
    log OR (``cu_se``) is back-calculated. ``pooled`` maps the test ("z",
    "knha") to the REML fit across the two definitions.
    """

    labels: list[str]
    definitions: list[str]
    yi: np.ndarray
    vi: np.ndarray
    singles: list[am.PooledResult]
    pooled: dict[str, am.PooledResult]
    oh_arms: pd.DataFrame
    cu_or: float
    cu_p: float
    cu_percent: dict[str, float]
    cu_se: float
    sources: tuple[list[dict[str, Any]], ...] = ()
    """The data rows each trial's result was read from (``Reported.source`` records), in the order of ``labels``."""


def responder_evidence(ev: Evidence) -> ResponderEvidence:
    """Each trial's responder odds ratio as it defined response, and the pool across definitions (sensitivity)."""
    (oh_id, oh_label, oh_outcome, oh_tp, _), (cu_id, cu_label, cu_outcome, cu_tp, _) = RESPONDER_TRIALS
    oh = gather_arms(ev, [(oh_id, oh_tp)], oh_outcome, ("msc", "control"), ("events", "n"))
    oh_es = log_odds_ratio(
        oh.column("events1"), oh.column("n1"), oh.column("events2"), oh.column("n2"), labels=[oh_label]
    )
    cu_or = ev.statistic(cu_id, cu_outcome, cu_tp, "msc_ntf_vs_placebo", "or")
    cu_p = ev.statistic(cu_id, cu_outcome, cu_tp, "msc_ntf_vs_placebo", "p", source_url=CUDKOWICZ_SOURCE)
    cu_percent_rows = {
        arm: ev.statistic(cu_id, cu_outcome, cu_tp, arm, "percent", source_url=CUDKOWICZ_SOURCE)
        for arm in ("msc_ntf", "placebo")
    }
    cu_pct = {arm: row.value for arm, row in cu_percent_rows.items()}
    cu_log = float(np.log(cu_or.value))
    cu_se = float(se_from_p([cu_log], [cu_p.value], labels=[cu_label]).se[0])
    yi = np.array([oh_es.yi[0], cu_log])
    vi = np.array([oh_es.vi[0], cu_se**2])
    labels = [oh_label, cu_label]
    singles = [
        am.pool([y], [v], labels=[lab], method="REML", test="z") for y, v, lab in zip(yi, vi, labels, strict=True)
    ]
    oh_arms = pd.DataFrame({c: oh.column(c) for c in ("events1", "n1", "events2", "n2")})
    pooled = {test: am.pool(yi, vi, labels=labels, method="REML", test=test) for test in ("z", "knha")}
    return ResponderEvidence(
        labels,
        [d for *_, d in RESPONDER_TRIALS],
        yi,
        vi,
        singles,
        pooled,
        oh_arms,
        cu_or.value,
        cu_p.value,
        cu_pct,
        cu_se,
        (oh.sources(), [r.source() for r in (cu_or, cu_p, *cu_percent_rows.values())]),
    )


def responder_numbers(r: ResponderEvidence) -> dict[str, Any]:
    """The responder results: one per trial (primary, unpooled) and the pooled sensitivity analysis, labelled."""
    knha = r.pooled["knha"]
    by_trial: dict[str, dict[str, Any]] = {
        lab: {
            "definition": d,
            "or": float(np.exp(f.estimate)),
            "ci_low": float(np.exp(f.ci_low)),
            "ci_high": float(np.exp(f.ci_high)),
            "log_or": f.estimate,
            "se_log_or": f.se,
            "sources": list(sources),
        }
        for lab, d, f, sources in zip(r.labels, r.definitions, r.singles, r.sources, strict=True)
    }
    cu_label = r.labels[1]
    by_trial[cu_label]["percent_responders"] = {"cells": r.cu_percent["msc_ntf"], "placebo": r.cu_percent["placebo"]}
    by_trial[cu_label]["se_derivation"] = (
        f"SE = |log(OR)| / z(1 - p/2) = |log({r.cu_or})| / z(1 - {r.cu_p}/2) = {r.cu_se:.6f}"
    )
    sensitivity = {
        "label": "SENSITIVITY ANALYSIS ONLY: pooled across different responder definitions; not a valid summary",
        "studies": r.labels,
        "definitions": r.definitions,
        "log_or": r.yi.tolist(),
        "se_log_or": np.sqrt(r.vi).tolist(),
        "reml_z": fit_summary(r.pooled["z"]),
        "reml_knha": fit_summary(knha),
        "sources": [record for sources in r.sources for record in sources],
        "why_fragile": [
            "the responder definitions differ (relative >= 50% slope improvement vs absolute >= 1.25 points/month)",
            "one OR is unadjusted from counts, the other adjusted by logistic regression and recovered from a "
            "rounded p-value",
            "time points differ (6 months vs 28 weeks) and so do the controls (open-label riluzole vs placebo)",
            f"k = 2: tau2 has one degree of freedom; the HKSJ interval (OR {ratio_text(float(np.exp(knha.ci_low)))} "
            f"to {ratio_text(float(np.exp(knha.ci_high)))}) is very wide, the z interval is not",
            "Berry 2019's responder result (one-sided p = 0.02 at 4 weeks) has no effect estimate and cannot enter",
        ],
    }
    return {
        "definitions_match": definitions_match(RESPONDER_TRIALS),
        "pooled_in_primary_analysis": False,
        "by_trial": by_trial,
        "sensitivity": sensitivity,
    }


def nurown_binary(ev: Evidence, outcome: str, assume_denominator: bool) -> dict[str, Any]:
    """Counts and risk-ratio fit of a binary outcome of the NurOwn phase 3 (Cudkowicz 2022); draws nothing.

    When the registry gives no denominators and ``assume_denominator`` is
    true, the treated N of each arm is assumed and the assumption is returned
    beside the fit; otherwise the outcome is not estimable.
    """
    ev1 = ev.statistic("cudkowicz2022", outcome, NUROWN_TIMEPOINT, "msc_ntf", "events")
    ev2 = ev.statistic("cudkowicz2022", outcome, NUROWN_TIMEPOINT, "placebo", "events")
    n1 = ev.statistic("cudkowicz2022", outcome, NUROWN_TIMEPOINT, "msc_ntf", "n")
    n2 = ev.statistic("cudkowicz2022", outcome, NUROWN_TIMEPOINT, "placebo", "n")
    notes = [
        "Only Cudkowicz 2022 reports this outcome (registry adverse-event module, secondary source); "
        "Oh 2018: not found."
    ]
    denominators = (n1.value, n2.value)
    assumption = None
    if n1.missing or n2.missing:
        if not assume_denominator:
            return {"estimable": False, "missing": [n1.describe(), n2.describe()]}
        study = ev.study("cudkowicz2022")
        denominators = (float(study["n_treated"]), float(study["n_control"]))
        cells, placebo = int(denominators[0]), int(denominators[1])
        assumption = (
            f"denominators not reported for this outcome; the treated N of each arm (Table 1: {cells} treated with "
            f"cells, {placebo} with placebo) is assumed (derived)"
        )
        notes.append(
            f"Denominators not reported for deaths; assumed = treated N ({cells} with cells, {placebo} with placebo)."
        )
    es = log_risk_ratio([ev1.value], [denominators[0]], [ev2.value], [denominators[1]], labels=["Cudkowicz 2022"])
    fit = am.pool(es.yi, es.vi, labels=es.labels, method="REML", test="z")
    return {
        "estimable": True,
        "fit": fit,
        "events": (ev1.value, ev2.value),
        "denominators": denominators,
        "assumption": assumption,
        "status": [ev1.status, ev2.status],
        "notes": notes,
        "sources": [r.source() for r in (ev1, ev2, n1, n2) if not r.missing],
    }


def sparse_outcome_numbers(binary: dict[str, Any], title: str) -> dict[str, Any]:
    """A sparse binary outcome of one trial (:func:`nurown_binary`): Mantel-Haenszel RR, IV and Peto as sensitivity.

    With one trial the Mantel-Haenszel RR (the primary analysis, Cochrane's
    default for sparse events) equals the inverse-variance RR.
    """
    if not binary["estimable"]:
        return {"title": title, "estimable": False, "missing": binary["missing"]}
    fit, (e1, e2), (d1, d2) = binary["fit"], binary["events"], binary["denominators"]
    cells = ([e1], [d1 - e1], [e2], [d2 - e2])
    mh = am.pool_mh(*cells, measure="RR", labels=["Cudkowicz 2022"])
    peto = am.pool_peto(*cells, labels=["Cudkowicz 2022"])
    return {
        "title": title,
        "estimable": True,
        "events": [e1, e2],
        "n": [d1, d2],
        "assumption": binary["assumption"],
        "status": binary["status"],
        "sources": binary["sources"],
        "measure": "RR (Mantel-Haenszel)",
        "k": mh.k,
        "method": "MH",
        "test": "z",
        "estimate": float(np.exp(mh.estimate)),
        "ci_low": float(np.exp(mh.ci_low)),
        "ci_high": float(np.exp(mh.ci_high)),
        "pvalue": mh.pvalue,
        "q": mh.q,
        "q_pvalue": mh.q_pvalue,
        "i2": mh.i2,
        "sensitivity_inverse_variance": fit_summary(fit),
        "sensitivity_peto_or": {
            "estimate": float(np.exp(peto.estimate)),
            "ci_low": float(np.exp(peto.ci_low)),
            "ci_high": float(np.exp(peto.ci_high)),
            "pvalue": peto.pvalue,
        },
    }


def nurown_treated(ev: Evidence) -> dict[str, Any]:
    """Who was treated in the NurOwn phase 3 (Cudkowicz 2022, Table 1): cells and placebo separately, never one lump."""
    study = ev.study("cudkowicz2022")
    cells, placebo = int(study["n_treated"]), int(study["n_control"])
    return {
        "treated_with_cells": cells,
        "treated_with_placebo": placebo,
        "treated_in_all": cells + placebo,
        "randomised_note": study["n_note"],
        "source": f"{study['source_url']} ({study['location']}, {study['status']})",
        "sentence": f"{cells} treated with cells ({cells + placebo} treated in all)",
    }


def alsfrs_change_missing(ev: Evidence) -> list[str]:
    """What is missing for a pooled ALSFRS-R change beyond Oh 2018 (the NurOwn phase 3's SE)."""
    return [
        ev.statistic(
            "cudkowicz2022", "alsfrs_r_change", "baseline to week 28", "msc_ntf_minus_placebo", "se"
        ).describe(),
    ]


def living_sentence(resp: dict[str, Any], nurown: dict[str, Any], sae: dict[str, Any], deaths: dict[str, Any]) -> str:
    """The sentence a README prints for the living update, each number from this analysis."""
    oh, cu = resp["by_trial"]["Oh 2018"], resp["by_trial"]["Cudkowicz 2022"]
    secondary = "secondary" in [*sae.get("status", ()), *deaths.get("status", ())]
    harms_source = (
        " - both counted on a secondary copy of the trial's registry results (status secondary), and whether every "
        "death falls inside the 28-week window is uncertain -"
        if secondary
        else ""
    )
    return (
        f"Adding what is known by 2026 does not make the picture firmer. The NurOwn phase 3 trial, with "
        f"{nurown['sentence']}, missed its primary endpoint (responders: adjusted OR {cu['or']:.2f}, 95% CI "
        f"{cu['ci_low']:.2f} to {cu['ci_high']:.2f}, the CI derived from the published P value); its serious adverse "
        f"events (RR {sae['estimate']:.2f}, {sae['ci_low']:.2f} to {sae['ci_high']:.2f}) and deaths "
        f"(RR {deaths['estimate']:.2f}, {deaths['ci_low']:.2f} to {deaths['ci_high']:.2f}; denominators assumed)"
        f"{harms_source} were not significantly different but point the wrong way. Oh 2018 and the NurOwn trial "
        f"define responders "
        f"differently, so their responder results are shown side by side and not pooled (Oh 2018: OR "
        f"{oh['or']:.2f}, {oh['ci_low']:.2f} to {oh['ci_high']:.2f}, at 6 months)."
    )


def living_sentence_sources(resp: dict[str, Any], sae: dict[str, Any], deaths: dict[str, Any]) -> list[dict[str, Any]]:
    """The data rows behind the numbers :func:`living_sentence` prints: both responder results, SAE and deaths."""
    by_trial = resp["by_trial"]
    return [
        *by_trial["Cudkowicz 2022"]["sources"],
        *sae.get("sources", []),
        *deaths.get("sources", []),
        *by_trial["Oh 2018"]["sources"],
    ]


def summary_of_findings(
    resp: dict[str, Any],
    sae: dict[str, Any],
    deaths: dict[str, Any],
    nurown: dict[str, Any],
    change_missing: list[str],
) -> pd.DataFrame:
    """The summary-of-findings rows of the living update; the pooled responder row says it is a sensitivity analysis."""
    oh_r, cu_r = resp["by_trial"]["Oh 2018"], resp["by_trial"]["Cudkowicz 2022"]
    sens = resp["sensitivity"]
    return pd.DataFrame(
        [
            {
                "outcome": "Responders, each trial's own definition (not pooled: definitions differ)",
                "studies": 2,
                "effect": (
                    f"Oh 2018 (\u2265 50% slope improvement, 6 months): OR {ratio_text(oh_r['or'])} "
                    f"({ratio_text(oh_r['ci_low'])} to {ratio_text(oh_r['ci_high'])}); Cudkowicz 2022 "
                    f"(\u2265 1.25 points/month, 28 weeks, adjusted): OR {ratio_text(cu_r['or'])} "
                    f"({ratio_text(cu_r['ci_low'])} to {ratio_text(cu_r['ci_high'])})"
                ),
                "missing": "Berry 2019 (p-values only); Cudkowicz 2022 counts not reported",
            },
            {
                "outcome": "SENSITIVITY ANALYSIS ONLY: responders pooled across different definitions",
                "studies": 2,
                "effect": (
                    f"OR {ratio_text(sens['reml_knha']['estimate'])} (HKSJ {ratio_text(sens['reml_knha']['ci_low'])} "
                    f"to {ratio_text(sens['reml_knha']['ci_high'])}; z {ratio_text(sens['reml_z']['ci_low'])} to "
                    f"{ratio_text(sens['reml_z']['ci_high'])})"
                ),
                "missing": "not a valid summary: definitions, time points, controls and adjustment differ",
            },
            {
                "outcome": "Serious adverse events, 28 weeks",
                "studies": 1,
                "effect": f"RR {sae['estimate']:.2f} ({sae['ci_low']:.2f} to {sae['ci_high']:.2f})",
                "missing": "Oh 2018, Berry 2019, ALSUMMIT, Agüera-Morales 2025: not found",
            },
            {
                "outcome": "Deaths, 28 weeks",
                "studies": 1,
                "effect": f"RR {deaths['estimate']:.2f} ({deaths['ci_low']:.2f} to {deaths['ci_high']:.2f})",
                "missing": (
                    f"denominators assumed = treated N: {nurown['treated_with_cells']} with cells, "
                    f"{nurown['treated_with_placebo']} with placebo ({nurown['treated_in_all']} treated in all); "
                    f"other trials not found"
                ),
            },
            {
                "outcome": "ALSFRS-R change, about 6 months",
                "studies": 1,
                "effect": "Oh 2018 only: see the pub3 analysis (MD 3.38, 1.22 to 5.54)",
                "missing": "; ".join(change_missing),
            },
        ]
    )
