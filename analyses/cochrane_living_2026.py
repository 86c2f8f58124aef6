"""A living update of Cochrane CD011742 with the evidence known in 2026.

Applies the pub3 criteria to every trial in data/ as of 2026, then pools what
can be pooled with the small-k methods a reviewer needs (REML with z and with
Hartung-Knapp-Sidik-Jonkman intervals, prediction intervals):

* responders: Oh 2018 (>= 50% ALSFRS-R slope improvement, 6 months, counts)
  and Cudkowicz 2022 (>= 1.25 points/month improvement, 28 weeks, adjusted OR
  with its p-value). The definitions differ, so the primary presentation is
  the two trials side by side, unpooled; a pooled odds ratio appears only as
  a labelled sensitivity analysis (its own figure, SoF row and numbers key
  ``responders_pooled_sensitivity_different_definitions``) to show how
  fragile such a pool is;
* serious adverse events and deaths: only Cudkowicz 2022 (NurOwn phase 3:
  95 treated with cells, 94 with placebo, 189 treated in all) reports them.

Everything else eligible (ALSUMMIT, Agüera-Morales 2025, Berry 2019's arm
data) is listed with what is missing. Writes into figures/cochrane_living_2026/.
"""

from __future__ import annotations

import importlib.util
import re
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import alsmeta as am
from alsmeta.als.screening import screen
from alsmeta.als.tables import gather_arms, load_evidence
from alsmeta.effects.conversions import se_from_p
from alsmeta.effects.measures import log_odds_ratio, log_risk_ratio, mean_difference
from alsmeta.io import figures_dir  # ALSMETA_FIGURES when run by alsmeta reproduce, else figures/
from alsmeta.io.reporting import figure_entry, markdown_table, write_numbers
from alsmeta.plots.forest import forest_plot, symmetric_xlim
from alsmeta.plots.forest_multi import OutcomeBlock, multi_outcome_forest
from alsmeta.plots.prisma import PrismaCounts, prisma_flow
from alsmeta.plots.risk_of_bias import risk_of_bias_figure
from alsmeta.plots.sequential import trial_sequential_plot
from alsmeta.plots.style import save_figure

OUT = figures_dir() / "cochrane_living_2026"
FAVOURS = ("Favours control", "Favours cells")


def _fit_summary(fit: am.PooledResult, ratio: bool = True) -> dict:
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


def ratio_text(x: float) -> str:
    """A ratio with 2 decimals (none from 100 up); one that would round to 0.00 is written <0.01."""
    if x < 0.005:
        return "<0.01"
    return f"{x:.0f}" if x >= 99.5 else f"{x:.2f}"


def definitions_match(trials: list[tuple[str, str, str, str, str]]) -> bool:
    """Responder results may be pooled only if every trial used the same outcome definition at the same time point."""
    return len({(outcome, timepoint) for _, _, outcome, timepoint, _ in trials}) == 1


def responders(ev) -> dict:
    """Each trial's responder odds ratio as it defined response; pooled only as a labelled sensitivity analysis."""
    (oh_id, oh_label, oh_outcome, oh_tp, _), (cu_id, cu_label, cu_outcome, cu_tp, _) = RESPONDER_TRIALS
    oh = gather_arms(ev, [(oh_id, oh_tp)], oh_outcome, ("msc", "control"), ("events", "n"))
    oh_es = log_odds_ratio(
        oh.column("events1"), oh.column("n1"), oh.column("events2"), oh.column("n2"), labels=[oh_label]
    )
    cu_or = ev.statistic(cu_id, cu_outcome, cu_tp, "msc_ntf_vs_placebo", "or")
    cu_p = ev.statistic(
        cu_id,
        cu_outcome,
        cu_tp,
        "msc_ntf_vs_placebo",
        "p",
        source_url="https://openaccess.library.uitm.edu.my./Record/scopus_10-1002-mus-27472/Details",
    )
    cu_pct = {
        arm: ev.statistic(
            cu_id,
            cu_outcome,
            cu_tp,
            arm,
            "percent",
            source_url="https://openaccess.library.uitm.edu.my./Record/scopus_10-1002-mus-27472/Details",
        ).value
        for arm in ("msc_ntf", "placebo")
    }
    cu_log = float(np.log(cu_or.value))
    cu_se = float(se_from_p([cu_log], [cu_p.value], labels=[cu_label]).se[0])
    yi = np.array([oh_es.yi[0], cu_log])
    vi = np.array([oh_es.vi[0], cu_se**2])
    labels = [oh_label, cu_label]
    definitions = [d for *_, d in RESPONDER_TRIALS]
    same = definitions_match(RESPONDER_TRIALS)
    singles = [am.pool([y], [v], labels=[lab], method="REML", test="z") for y, v, lab in zip(yi, vi, labels)]
    arms = [
        pd.DataFrame(
            {
                "events1": oh.column("events1"),
                "n1": oh.column("n1"),
                "events2": oh.column("events2"),
                "n2": oh.column("n2"),
            }
        ),
        pd.DataFrame({"events1": [None], "n1": [None], "events2": [None], "n2": [None]}),
    ]
    notes = [
        ("Counts (Table 3); unadjusted OR.", "Control: open-label riluzole alone."),
        (
            f"Counts not reported: {cu_pct['msc_ntf']:g}% vs {cu_pct['placebo']:g}%.",
            f"Published adjusted OR {cu_or.value:g}, P = {cu_p.value:g};",
            "SE from the P value (derived). Placebo control.",
        ),
    ]
    fig = multi_outcome_forest(
        [
            OutcomeBlock(f"{lab}: {d}", fit, a, n)
            for lab, d, fit, a, n in zip(labels, definitions, singles, arms, notes)
        ],
        measure="OR",
        arm_names=("Cells", "Control"),
        favours=FAVOURS,
        xlim=(0.1, 100),
        title="Living update (2026): responders as each trial defined them, not pooled",
        notes=[
            "The two trials define response differently (relative vs absolute slope improvement, 6 months vs 28 weeks): "
            "their results are shown side by side and not pooled.",
            "A pooled OR is given only as a sensitivity analysis (forest_responders_pooled_sensitivity). "
            "Berry 2019 (\u2265 1.5 points/month) reports only P values and cannot be shown.",
        ],
    )
    save_figure(fig, OUT / "forest_responders")

    fits = {test: am.pool(yi, vi, labels=labels, method="REML", test=test) for test in ("z", "knha")}
    knha = fits["knha"]
    fig = forest_plot(
        knha,
        log_scale=True,
        effect_label="Odds ratio",
        favours=FAVOURS,
        xlim=(0.01, 100),
        digits=2,
        columns={"Definition": ["\u2265 50%, 6 mo", "\u2265 1.25/mo, 28 wk"]},
        panel_width=1.6,
        font_size=7.0,
        title="SENSITIVITY ANALYSIS ONLY: responders pooled across different definitions",
        notes=[
            "Not a valid summary: the definitions, time points, controls and adjustment differ. The primary presentation "
            "is forest_responders (unpooled).",
            "REML, Hartung-Knapp-Sidik-Jonkman interval with 1 df. Cudkowicz 2022: published adjusted OR 1.33 (P = .45); "
            "its SE is back-calculated from the P value (derived).",
        ],
    )
    save_figure(fig, OUT / "forest_responders_pooled_sensitivity")
    by_trial = {
        lab: {
            "definition": d,
            "or": float(np.exp(f.estimate)),
            "ci_low": float(np.exp(f.ci_low)),
            "ci_high": float(np.exp(f.ci_high)),
            "log_or": f.estimate,
            "se_log_or": f.se,
        }
        for lab, d, f in zip(labels, definitions, singles)
    }
    by_trial[cu_label]["percent_responders"] = {"cells": cu_pct["msc_ntf"], "placebo": cu_pct["placebo"]}
    by_trial[cu_label]["se_derivation"] = (
        f"SE = |log(OR)| / z(1 - p/2) = |log({cu_or.value})| / z(1 - {cu_p.value}/2) = {cu_se:.6f}"
    )
    sensitivity = {
        "label": "SENSITIVITY ANALYSIS ONLY: pooled across different responder definitions; not a valid summary",
        "studies": labels,
        "definitions": definitions,
        "log_or": yi.tolist(),
        "se_log_or": np.sqrt(vi).tolist(),
        "reml_z": _fit_summary(fits["z"]),
        "reml_knha": _fit_summary(knha),
        "why_fragile": [
            "the responder definitions differ (relative >= 50% slope improvement vs absolute >= 1.25 points/month)",
            "one OR is unadjusted from counts, the other adjusted by logistic regression and recovered from a rounded p-value",
            "time points differ (6 months vs 28 weeks) and so do the controls (open-label riluzole vs placebo)",
            f"k = 2: tau2 has one degree of freedom; the HKSJ interval (OR {ratio_text(float(np.exp(knha.ci_low)))} to "
            f"{ratio_text(float(np.exp(knha.ci_high)))}) is very wide, the z interval is not",
            "Berry 2019's responder result (one-sided p = 0.02 at 4 weeks) has no effect estimate and cannot enter",
        ],
    }
    return {
        "definitions_match": same,
        "pooled_in_primary_analysis": False,
        "by_trial": by_trial,
        "sensitivity": sensitivity,
    }


NUROWN_TIMEPOINT = "screening to 28 weeks after first treatment"


def nurown_binary(ev, outcome: str, assume_denominator: bool) -> dict:
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
        "Only Cudkowicz 2022 reports this outcome (registry adverse-event module, secondary source); Oh 2018: not found."
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
    }


def single_trial_binary(ev, outcome: str, title: str, assume_denominator: bool) -> dict:
    b = nurown_binary(ev, outcome, assume_denominator)
    if not b["estimable"]:
        return {"title": title, "estimable": False, "missing": b["missing"]}
    fit, (e1, e2), (d1, d2) = b["fit"], b["events"], b["denominators"]
    # primary: Mantel-Haenszel RR (Cochrane's default for sparse events); inverse variance and Peto's OR as sensitivity
    cells = ([e1], [d1 - e1], [e2], [d2 - e2])
    mh = am.pool_mh(*cells, measure="RR", labels=["Cudkowicz 2022"])
    peto = am.pool_peto(*cells, labels=["Cudkowicz 2022"])
    notes = [*b["notes"], "Mantel-Haenszel RR (primary); with one trial it equals the inverse-variance RR drawn here."]
    fig = forest_plot(
        fit,
        log_scale=True,
        effect_label="Risk ratio",
        favours=("Favours cells", "Favours placebo"),
        xlim=symmetric_xlim(fit, log_scale=True),
        columns={"MSC-NTF": [f"{int(e1)}/{int(d1)}"], "Placebo": [f"{int(e2)}/{int(d2)}"]},
        title=f"Living update: {title}",
        notes=notes,
    )
    save_figure(fig, OUT / f"forest_{outcome}")
    primary = {
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
    }
    return {
        "title": title,
        "estimable": True,
        "events": [e1, e2],
        "n": [d1, d2],
        "assumption": b["assumption"],
        "status": b["status"],
        "measure": "RR (Mantel-Haenszel)",
        **primary,
        "sensitivity_inverse_variance": _fit_summary(fit),
        "sensitivity_peto_or": {
            "estimate": float(np.exp(peto.estimate)),
            "ci_low": float(np.exp(peto.ci_low)),
            "ci_high": float(np.exp(peto.ci_high)),
            "pvalue": peto.pvalue,
        },
    }


def living_sentence(resp: dict, nurown: dict, sae: dict, deaths: dict) -> str:
    """The sentence a README prints for the living update, each number from this analysis."""
    oh, cu = resp["by_trial"]["Oh 2018"], resp["by_trial"]["Cudkowicz 2022"]
    return (
        f"Adding what is known by 2026 does not make the picture firmer. The NurOwn phase 3 trial, with {nurown['sentence']}, "
        f"missed its primary endpoint (responders: adjusted OR {cu['or']:.2f}, 95% CI {cu['ci_low']:.2f} to {cu['ci_high']:.2f}, "
        f"the CI derived from the published P value); its serious adverse events (Mantel-Haenszel RR {sae['estimate']:.2f}, "
        f"{sae['ci_low']:.2f} to {sae['ci_high']:.2f}) and deaths (RR {deaths['estimate']:.2f}, {deaths['ci_low']:.2f} to "
        f"{deaths['ci_high']:.2f}; denominators assumed) were not significantly different but point the wrong way. "
        f"Oh 2018 and the NurOwn trial define responders differently, so their responder results are shown side by side "
        f"and not pooled (Oh 2018: OR {oh['or']:.2f}, {oh['ci_low']:.2f} to {oh['ci_high']:.2f}, at 6 months)."
    )


def nurown_treated(ev) -> dict:
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


def _load_power_analysis() -> Any:
    """analyses/definitive_trial_power.py as a module (its functions only; main() is not run)."""
    path = Path(__file__).resolve().with_name("definitive_trial_power.py")
    spec = importlib.util.spec_from_file_location("definitive_trial_power", path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules.setdefault("definitive_trial_power", module)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


POWER = _load_power_analysis()
SCRIPT = Path(__file__).name

EXCLUSION_REASONS = {
    "design": "Not a randomised trial",
    "unit_of_randomisation": "Randomised within patients (body sides), not patients",
    "comparator": "Comparator not placebo or no additional treatment",
}


def prisma_counts(scr) -> PrismaCounts:
    """PRISMA 2020 counts of the living update, from its own screening (no new database search).

    Every candidate study is assessed against the pub3 criteria from its
    records; record-level screening and report retrieval were not done as
    separate steps, so those counts are ``None`` ("not reported"), never
    filled in.
    """
    table = scr.table
    excluded = table[table.decision == "excluded"]
    reasons = excluded.reason.value_counts()
    return PrismaCounts(
        identified={"Studies named in this project's evidence notes (no new database search)": len(table)},
        assessed=len(table),
        excluded_full_text=len(excluded),
        exclusion_reasons={EXCLUSION_REASONS.get(r, r): int(reasons[r]) for r in sorted(reasons.index)},
        included_studies=scr.counts["included"],
        ongoing=scr.counts["ongoing"],
        awaiting_classification=scr.counts["awaiting_classification"],
    )


def draw_prisma(scr) -> dict:
    counts = prisma_counts(scr)
    fig = prisma_flow(
        counts,
        title=f"Living update of CD011742: evidence as of {scr.search_date:%d %B %Y}".replace(" 0", " "),
        caption=(
            f"No new database search: the {len(scr.table)} candidates are every study in this project's evidence "
            "notes (data/studies.csv), each assessed against the pub3 criteria from its records (data/screening.csv, "
            "alsmeta.als.screen). Record screening and report retrieval were not separate steps, so those "
            "counts are shown as not reported."
        ),
    )
    save_figure(fig, OUT / "prisma")
    return {
        "candidates": len(scr.table),
        "assessed": counts.assessed,
        "excluded": counts.excluded_full_text,
        "exclusion_reasons": dict(counts.exclusion_reasons),
        "included": counts.included_studies,
        "ongoing": counts.ongoing,
        "awaiting_classification": counts.awaiting_classification,
        "not_reported": [
            f
            for f in (
                "duplicates_removed",
                "screened",
                "excluded_screening",
                "sought",
                "not_retrieved",
                "included_reports",
            )
            if getattr(counts, f) is None
        ],
    }


ROB_CAPTION = (
    "RoB 2 judgements are this project's own assessment (data/risk_of_bias.csv, one result per trial), "
    "not the Cochrane review's."
)
_OUTCOME_SHORT = {
    "alsfrs_r_change": "ALSFRS-R change",
    "alsfrs_r_slope_change": "ALSFRS-R slope",
    "alsfrs_r_slope_responders_ge1_25": "responders",
    "cafs": "CAFS",
    "efficacy_outcomes": "efficacy",
}


def rob_row_label(label: str, outcome: str, timepoint: str) -> str:
    """A traffic-light row: the trial and the result assessed (RoB 2 judges a result, not a trial)."""
    when = re.search(r"(\d+) (month|week)s?", timepoint)
    short = f"{when.group(1)} {'mo' if when.group(2) == 'month' else 'wk'}" if when else timepoint
    return f"{label}: {_OUTCOME_SHORT.get(outcome, outcome.replace('_', ' '))}, {short}"


def draw_risk_of_bias(ev) -> dict:
    rob = pd.read_csv("data/risk_of_bias.csv", dtype=str, keep_default_na=False)
    rob = rob[rob.review_version == "living2026"]
    labels = ev.studies.set_index("study_id")["label"]
    rob = rob.assign(
        trial=[rob_row_label(labels[s], o, t) for s, o, t in zip(rob.study_id, rob.outcome, rob.timepoint)]
    )
    save_figure(risk_of_bias_figure(rob, caption=ROB_CAPTION), OUT / "risk_of_bias")
    overall = rob[rob.domain == "overall"]
    return {
        "assessor": "this project (not Cochrane)",
        "tool": "RoB 2 (Sterne et al. 2019)",
        "overall": dict(zip(overall.trial, overall.judgement)),
        "overall_counts": overall.judgement.value_counts().sort_index().to_dict(),
    }


TSA_Z_LABEL = "Cumulative Z (> 0 favours cells)"


def alsfrs_tsa(ev) -> tuple[dict, Any]:
    """Trial sequential analysis of the 6-month ALSFRS-R change, RIS from the definitive-trial power calculation.

    Only Oh 2018 has a 6-month ALSFRS-R difference with its SE; the NurOwn
    phase 3's 28-week difference has no SE or CI and cannot enter. The
    effect for the RIS is fixed in advance: the lower 95% limit of Oh 2018's
    MD (the power analysis's primary difference); the assumed MCID is a
    labelled sensitivity analysis. Never the pooled estimate itself.
    """
    inputs = POWER.pre_specified_inputs(ev)
    arms = gather_arms(
        ev, [("oh2018", "baseline to 6 months")], "alsfrs_r_change", ("msc", "control"), ("mean", "sd", "n")
    )
    es = mean_difference(*(arms.column(c) for c in ("mean1", "sd1", "n1", "mean2", "sd2", "n2")), labels=["Oh 2018"])
    fit = am.pool(es.yi, es.vi, labels=es.labels, method="REML", test="z")
    participants = [float(arms.column("n1")[0] + arms.column("n2")[0])]
    years = [int(ev.study("oh2018")["year"])]
    tsa = am.trial_sequential_analysis(fit, participants, years, delta=inputs["ci_low"], sd=inputs["sd_pooled"])
    mcid = am.trial_sequential_analysis(fit, participants, years, delta=inputs["mcid"], sd=inputs["sd_pooled"])
    cu = ev.statistic("cudkowicz2022", "alsfrs_r_change", "baseline to week 28", "msc_ntf_minus_placebo", "md")
    cu_se = ev.statistic("cudkowicz2022", "alsfrs_r_change", "baseline to week 28", "msc_ntf_minus_placebo", "se")
    numbers = {
        **tsa.to_dict(),
        "delta_source": "lower 95% limit of Oh 2018's 6-month ALSFRS-R MD (inverse-variance, z), as the definitive-trial "
        "power calculation (fixed in advance, not the pooled estimate)",
        "sd_source": "pooled SD of the 6-month ALSFRS-R change in Oh 2018 (derived), as the definitive-trial power calculation",
        "studies": list(tsa.labels),
        "years": list(tsa.order),
        "not_entered": {
            "Cudkowicz 2022": f"28-week ALSFRS-R difference {cu.value:g} points ({cu.status}) has no SE or CI: "
            f"{cu_se.describe()}"
        },
        "sensitivity_mcid": {
            "label": "SENSITIVITY: RIS from the assumed MCID (20% slowing of the Oh 2018 control arm's 6-month decline)",
            **{
                k: v
                for k, v in mcid.to_dict().items()
                if k in ("ris", "delta", "sd", "crossed", "final_fraction", "final_boundary")
            },
        },
        "reading": (
            f"One trial ({int(tsa.cumulative_participants[-1])} participants, {100 * tsa.fraction[-1]:.0f}% of the "
            f"required {tsa.ris:.0f}) gives Z = {tsa.z[-1]:.2f}: past the conventional 1.96 but "
            f"{'past' if tsa.crossed else 'short of'} the O'Brien-Fleming boundary ({tsa.boundary[-1]:.2f}) at that "
            f"information; the evidence is {'firm' if tsa.crossed else 'not yet firm'}."
        ),
    }
    numbers["readme_sentence"] = (
        f"Monitored as a trial sequential analysis, the randomised ALSFRS-R evidence at 6 months is one trial "
        f"(Oh 2018, {int(tsa.cumulative_participants[-1])} participants) with Z = {tsa.z[-1]:.2f}: past the conventional "
        f"1.96 but {'past' if tsa.crossed else 'short of'} the O'Brien-Fleming boundary of {tsa.boundary[-1]:.2f} at "
        f"{100 * tsa.fraction[-1]:.0f}% of the required information size ({tsa.ris:.0f} participants for a "
        f"{tsa.information_size.delta:.2f}-point difference, SD {tsa.information_size.sd:.2f}, the definitive-trial "
        f"power calculation's pre-specified difference); the NurOwn phase 3's 28-week difference has no SE and cannot enter."
    )
    verdict = "crosses" if tsa.crossed else "does not cross"
    title = (
        f"ALSFRS-R change at 6 months: one trial ({int(tsa.cumulative_participants[-1])} of the {tsa.ris:.0f} participants "
        f"required) gives Z = {tsa.z[-1]:.2f}.\nIt passes the conventional 1.96 but {verdict} the monitoring boundary "
        f"({tsa.boundary[-1]:.2f}): {'firm' if tsa.crossed else 'not yet firm'} evidence."
    )
    notes = [
        f"RIS from the definitive-trial power calculation: the effect is the lower 95% limit of Oh 2018's MD, fixed in advance "
        f"(sensitivity, the assumed MCID {inputs['mcid']:.2f} points: RIS {mcid.ris:.0f}, boundary {mcid.boundary[-1]:.2f}, "
        f"{'crossed' if mcid.crossed else 'not crossed'}).",
        f"Not entered: Cudkowicz 2022 (NurOwn phase 3, 28 weeks): difference {cu.value:g} points reported without SE or CI.",
    ]
    fig = trial_sequential_plot(tsa, z_label=TSA_Z_LABEL, title=title, notes=notes)
    save_figure(fig, OUT / "cumulative_tsa")
    return numbers, tsa


def figure_list(tsa) -> dict:
    """The figures this analysis writes, each with the question it answers (for figures/README.md)."""
    entries = {
        "prisma": (
            "Which trials does the living update (evidence as of 2026) include, and why were the others excluded?",
            "PRISMA 2020 flow of this project's own screening of every study in its evidence notes against the pub3 "
            "criteria; no new database search; steps that were not done are shown as not reported.",
        ),
        "risk_of_bias": (
            "How trustworthy is each included trial's main result?",
            "RoB 2 traffic light and summary across trials; this project's own judgements, not Cochrane's.",
        ),
        "cumulative_tsa": (
            "Is the randomised evidence on ALSFRS-R change at 6 months firm enough to stop asking?",
            f"Cumulative Z by publication year against O'Brien-Fleming alpha-spending boundaries; RIS "
            f"{tsa.ris:.0f} participants from the definitive-trial power calculation (effect "
            f"{tsa.information_size.delta:.2f} points fixed in advance, SD {tsa.information_size.sd:.2f}); "
            f"only Oh 2018 reports a 6-month difference with an SE.",
        ),
        "forest_responders": (
            "Did more patients respond to cells than to control, by each trial's own responder definition?",
            "Oh 2018 and Cudkowicz 2022 side by side, not pooled (definitions differ); odds ratios with 95% CI.",
        ),
        "forest_responders_pooled_sensitivity": (
            "How fragile would a pooled responder odds ratio be?",
            "SENSITIVITY ANALYSIS ONLY: the two trials pooled across different definitions (REML, HKSJ with 1 df); not a valid summary.",
        ),
        "forest_serious_adverse_events": (
            "Do cells change the risk of serious adverse events?",
            "Cudkowicz 2022 only (registry adverse-event module); risk ratio with 95% CI.",
        ),
        "forest_deaths": (
            "Do cells change the risk of death within 28 weeks?",
            "Cudkowicz 2022 only; denominators not reported and assumed to be the treated N of each arm.",
        ),
    }
    return {stem: figure_entry(q, c, script=SCRIPT) for stem, (q, c) in entries.items()}


def main() -> None:
    warnings.simplefilter("error", RuntimeWarning)
    OUT.mkdir(parents=True, exist_ok=True)
    ev = load_evidence("data")
    scr = screen("living2026", "data")
    table = scr.table[scr.table.decision != "excluded"].drop(columns=["ambiguous"])
    table.to_csv(OUT / "screening.csv", index=False, lineterminator="\n")

    resp = responders(ev)
    nurown = nurown_treated(ev)
    sae = single_trial_binary(
        ev, "serious_adverse_events", "serious adverse events (28 weeks)", assume_denominator=False
    )
    deaths = single_trial_binary(ev, "deaths", "deaths (28 weeks)", assume_denominator=True)
    change_missing = [
        ev.statistic(
            "cudkowicz2022", "alsfrs_r_change", "baseline to week 28", "msc_ntf_minus_placebo", "se"
        ).describe(),
    ]
    no_numbers = {
        "ALSUMMIT (NCT04745299)": "press releases only: CAFS primary endpoint not met overall; no effect sizes with SEs",
        "Agüera-Morales 2025": "reported as no statistically significant efficacy; numbers not found",
        "Berry 2019": "arm-level means/SDs and AE counts not retrievable; responder p-values only",
        "Cudkowicz 2022, ALSFRS-R change (overall)": "MD 0.36 points (press); SE/CI not found; subgroup MMRM values in PMC are pre-erratum and nested",
    }
    oh_r, cu_r = resp["by_trial"]["Oh 2018"], resp["by_trial"]["Cudkowicz 2022"]
    sens = resp["sensitivity"]
    sof = pd.DataFrame(
        [
            {
                "outcome": "Responders, each trial's own definition (not pooled: definitions differ)",
                "studies": 2,
                "effect": (
                    f"Oh 2018 (\u2265 50% slope improvement, 6 months): OR {ratio_text(oh_r['or'])} ({ratio_text(oh_r['ci_low'])} to "
                    f"{ratio_text(oh_r['ci_high'])}); Cudkowicz 2022 (\u2265 1.25 points/month, 28 weeks, adjusted): OR "
                    f"{ratio_text(cu_r['or'])} ({ratio_text(cu_r['ci_low'])} to {ratio_text(cu_r['ci_high'])})"
                ),
                "missing": "Berry 2019 (p-values only); Cudkowicz 2022 counts not reported",
            },
            {
                "outcome": "SENSITIVITY ANALYSIS ONLY: responders pooled across different definitions",
                "studies": 2,
                "effect": (
                    f"OR {ratio_text(sens['reml_knha']['estimate'])} (HKSJ {ratio_text(sens['reml_knha']['ci_low'])} to "
                    f"{ratio_text(sens['reml_knha']['ci_high'])}; z {ratio_text(sens['reml_z']['ci_low'])} to "
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
                    f"{nurown['treated_with_placebo']} with placebo ({nurown['treated_in_all']} treated in all); other trials not found"
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
    sof.to_csv(OUT / "summary_of_findings.csv", index=False, lineterminator="\n")
    (OUT / "summary_of_findings.md").write_text(
        "# Summary of findings: living update of CD011742 (evidence as of 2026)\n\n"
        "Criteria of pub3 carried forward; candidates are the trials in the evidence notes (not a new search).\n\n"
        + markdown_table(sof)
        + "\n## Eligible or ongoing, without usable numbers\n\n"
        + "\n".join(f"- **{k}**: {v}" for k, v in no_numbers.items())
        + "\n",
        encoding="utf-8",
    )
    prisma = draw_prisma(scr)
    rob = draw_risk_of_bias(ev)
    tsa, tsa_result = alsfrs_tsa(ev)
    write_numbers(
        OUT,
        {
            "figures": figure_list(tsa_result),
            "prisma": prisma,
            "risk_of_bias": rob,
            "tsa_alsfrs_r_6mo": tsa,
            "search_date": scr.search_date.isoformat(),
            "counts": scr.counts,
            "included": scr.ids("included"),
            "ongoing": scr.ids("ongoing"),
            "awaiting_classification": scr.ids("awaiting_classification"),
            "responders_by_definition": {k: v for k, v in resp.items() if k != "sensitivity"},
            "responders_pooled_sensitivity_different_definitions": resp["sensitivity"],
            "nurown_phase3_treated": nurown,
            "readme_sentence": living_sentence(resp, nurown, sae, deaths),
            "serious_adverse_events": sae,
            "deaths": deaths,
            "no_usable_numbers": no_numbers,
            "alsfrs_r_change_missing": change_missing,
        },
    )


if __name__ == "__main__":
    main()
