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

import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import alsmeta as am
from alsmeta.conversions import se_from_p
from alsmeta.effects import log_odds_ratio, log_risk_ratio
from alsmeta.evidence.screening import screen
from alsmeta.evidence.tables import gather_arms, load_evidence
from alsmeta.plots.forest import forest_plot, symmetric_xlim
from alsmeta.plots.forest_multi import OutcomeBlock, multi_outcome_forest
from alsmeta.plots.style import save_figure
from alsmeta.reporting import markdown_table, write_numbers

from alsmeta.io import figures_dir  # ALSMETA_FIGURES when run by alsmeta reproduce, else figures/
OUT = figures_dir() / "cochrane_living_2026"
FAVOURS = ("Favours control", "Favours cells")


def _fit_summary(fit: am.PooledResult, ratio: bool = True) -> dict:
    tr = np.exp if ratio else (lambda x: x)
    return {
        "k": fit.k, "method": fit.method, "test": fit.test,
        "estimate": float(tr(fit.estimate)), "ci_low": float(tr(fit.ci_low)), "ci_high": float(tr(fit.ci_high)),
        "pvalue": fit.pvalue, "tau2": fit.tau2, "i2": fit.i2, "q": fit.q, "q_pvalue": fit.q_pvalue,
        "pi_low": float(tr(fit.pi_low)) if np.isfinite(fit.pi_low) else None,
        "pi_high": float(tr(fit.pi_high)) if np.isfinite(fit.pi_high) else None,
        "df": fit.df if np.isfinite(fit.df) else None,
    }


RESPONDER_TRIALS = [
    # study, label, outcome, time point, definition as the trial states it
    ("oh2018", "Oh 2018", "alsfrs_r_slope_improvement_ge50pct", "6 months",
     "slope \u2265 50% better than lead-in, 6 months"),
    ("cudkowicz2022", "Cudkowicz 2022", "responder_slope_improvement_ge1.25", "28 weeks",
     "slope \u2265 1.25 points/month better, 28 weeks"),
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
    oh_es = log_odds_ratio(oh.column("events1"), oh.column("n1"), oh.column("events2"), oh.column("n2"), labels=[oh_label])
    cu_or = ev.statistic(cu_id, cu_outcome, cu_tp, "msc_ntf_vs_placebo", "or")
    cu_p = ev.statistic(cu_id, cu_outcome, cu_tp, "msc_ntf_vs_placebo", "p",
                        source_url="https://openaccess.library.uitm.edu.my./Record/scopus_10-1002-mus-27472/Details")
    cu_pct = {arm: ev.statistic(cu_id, cu_outcome, cu_tp, arm, "percent",
                                source_url="https://openaccess.library.uitm.edu.my./Record/scopus_10-1002-mus-27472/Details").value
              for arm in ("msc_ntf", "placebo")}
    cu_log = float(np.log(cu_or.value))
    cu_se = float(se_from_p([cu_log], [cu_p.value], labels=[cu_label]).se[0])
    yi = np.array([oh_es.yi[0], cu_log])
    vi = np.array([oh_es.vi[0], cu_se**2])
    labels = [oh_label, cu_label]
    definitions = [d for *_, d in RESPONDER_TRIALS]
    same = definitions_match(RESPONDER_TRIALS)
    singles = [am.pool([y], [v], labels=[lab], method="REML", test="z") for y, v, lab in zip(yi, vi, labels)]
    arms = [
        pd.DataFrame({"events1": oh.column("events1"), "n1": oh.column("n1"), "events2": oh.column("events2"), "n2": oh.column("n2")}),
        pd.DataFrame({"events1": [None], "n1": [None], "events2": [None], "n2": [None]}),
    ]
    notes = [
        ("Counts (Table 3); unadjusted OR.", "Control: open-label riluzole alone."),
        (f"Counts not reported: {cu_pct['msc_ntf']:g}% vs {cu_pct['placebo']:g}%.",
         f"Published adjusted OR {cu_or.value:g}, P = {cu_p.value:g};", "SE from the P value (derived). Placebo control."),
    ]
    fig = multi_outcome_forest(
        [OutcomeBlock(f"{lab}: {d}", fit, a, n) for lab, d, fit, a, n in zip(labels, definitions, singles, arms, notes)],
        measure="OR", arm_names=("Cells", "Control"), favours=FAVOURS, xlim=(0.1, 100),
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
        knha, log_scale=True, effect_label="Odds ratio", favours=FAVOURS, xlim=(0.01, 100), digits=2,
        columns={"Definition": ["\u2265 50%, 6 mo", "\u2265 1.25/mo, 28 wk"]}, panel_width=1.6, font_size=7.0,
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
        lab: {"definition": d, "or": float(np.exp(f.estimate)), "ci_low": float(np.exp(f.ci_low)), "ci_high": float(np.exp(f.ci_high)),
              "log_or": f.estimate, "se_log_or": f.se}
        for lab, d, f in zip(labels, definitions, singles)
    }
    by_trial[cu_label]["percent_responders"] = {"cells": cu_pct["msc_ntf"], "placebo": cu_pct["placebo"]}
    by_trial[cu_label]["se_derivation"] = (
        f"SE = |log(OR)| / z(1 - p/2) = |log({cu_or.value})| / z(1 - {cu_p.value}/2) = {cu_se:.6f}")
    sensitivity = {
        "label": "SENSITIVITY ANALYSIS ONLY: pooled across different responder definitions; not a valid summary",
        "studies": labels, "definitions": definitions,
        "log_or": yi.tolist(), "se_log_or": np.sqrt(vi).tolist(),
        "reml_z": _fit_summary(fits["z"]), "reml_knha": _fit_summary(knha),
        "why_fragile": [
            "the responder definitions differ (relative >= 50% slope improvement vs absolute >= 1.25 points/month)",
            "one OR is unadjusted from counts, the other adjusted by logistic regression and recovered from a rounded p-value",
            "time points differ (6 months vs 28 weeks) and so do the controls (open-label riluzole vs placebo)",
            f"k = 2: tau2 has one degree of freedom; the HKSJ interval (OR {ratio_text(float(np.exp(knha.ci_low)))} to "
            f"{ratio_text(float(np.exp(knha.ci_high)))}) is very wide, the z interval is not",
            "Berry 2019's responder result (one-sided p = 0.02 at 4 weeks) has no effect estimate and cannot enter",
        ],
    }
    return {"definitions_match": same, "pooled_in_primary_analysis": False, "by_trial": by_trial,
            "sensitivity": sensitivity}


def single_trial_binary(ev, outcome: str, title: str, assume_denominator: bool) -> dict:
    tp = "screening to 28 weeks after first treatment"
    ev1 = ev.statistic("cudkowicz2022", outcome, tp, "msc_ntf", "events")
    ev2 = ev.statistic("cudkowicz2022", outcome, tp, "placebo", "events")
    n1 = ev.statistic("cudkowicz2022", outcome, tp, "msc_ntf", "n")
    n2 = ev.statistic("cudkowicz2022", outcome, tp, "placebo", "n")
    notes = ["Only Cudkowicz 2022 reports this outcome (registry adverse-event module, secondary source); Oh 2018: not found."]
    denominators = (n1.value, n2.value)
    assumption = None
    if n1.missing or n2.missing:
        if not assume_denominator:
            return {"title": title, "estimable": False, "missing": [n1.describe(), n2.describe()]}
        study = ev.study("cudkowicz2022")
        denominators = (float(study["n_treated"]), float(study["n_control"]))
        cells, placebo = int(denominators[0]), int(denominators[1])
        assumption = (f"denominators not reported for this outcome; the treated N of each arm (Table 1: {cells} treated with "
                      f"cells, {placebo} with placebo) is assumed (derived)")
        notes.append(f"Denominators not reported for deaths; assumed = treated N ({cells} with cells, {placebo} with placebo).")
    es = log_risk_ratio([ev1.value], [denominators[0]], [ev2.value], [denominators[1]], labels=["Cudkowicz 2022"])
    fit = am.pool(es.yi, es.vi, labels=es.labels, method="REML", test="z")
    fig = forest_plot(fit, log_scale=True, effect_label="Risk ratio", favours=("Favours cells", "Favours placebo"),
                      xlim=symmetric_xlim(fit, log_scale=True),
                      columns={"MSC-NTF": [f"{int(ev1.value)}/{int(denominators[0])}"], "Placebo": [f"{int(ev2.value)}/{int(denominators[1])}"]},
                      title=f"Living update: {title}", notes=notes)
    save_figure(fig, OUT / f"forest_{outcome}")
    return {"title": title, "estimable": True, "events": [ev1.value, ev2.value], "n": list(denominators),
            "assumption": assumption, "status": [ev1.status, ev2.status], **_fit_summary(fit)}


def living_sentence(resp: dict, nurown: dict, sae: dict, deaths: dict) -> str:
    """The sentence a README prints for the living update, each number from this analysis."""
    oh, cu = resp["by_trial"]["Oh 2018"], resp["by_trial"]["Cudkowicz 2022"]
    return (
        f"Adding what is known by 2026 does not make the picture firmer. The NurOwn phase 3 trial, with {nurown['sentence']}, "
        f"missed its primary endpoint (responders: adjusted OR {cu['or']:.2f}, 95% CI {cu['ci_low']:.2f} to {cu['ci_high']:.2f}, "
        f"the CI derived from the published P value); its serious adverse events (RR {sae['estimate']:.2f}, "
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
        "treated_with_cells": cells, "treated_with_placebo": placebo, "treated_in_all": cells + placebo,
        "randomised_note": study["n_note"], "source": f"{study['source_url']} ({study['location']}, {study['status']})",
        "sentence": f"{cells} treated with cells ({cells + placebo} treated in all)",
    }


def main() -> None:
    warnings.simplefilter("error", RuntimeWarning)
    OUT.mkdir(parents=True, exist_ok=True)
    ev = load_evidence("data")
    scr = screen("living2026", "data")
    table = scr.table[scr.table.decision != "excluded"].drop(columns=["ambiguous"])
    table.to_csv(OUT / "screening.csv", index=False, lineterminator="\n")

    resp = responders(ev)
    nurown = nurown_treated(ev)
    sae = single_trial_binary(ev, "serious_adverse_events", "serious adverse events (28 weeks)", assume_denominator=False)
    deaths = single_trial_binary(ev, "deaths", "deaths (28 weeks)", assume_denominator=True)
    change_missing = [
        ev.statistic("cudkowicz2022", "alsfrs_r_change", "baseline to week 28", "msc_ntf_minus_placebo", "se").describe(),
    ]
    no_numbers = {
        "ALSUMMIT (NCT04745299)": "press releases only: CAFS primary endpoint not met overall; no effect sizes with SEs",
        "Agüera-Morales 2025": "reported as no statistically significant efficacy; numbers not found",
        "Berry 2019": "arm-level means/SDs and AE counts not retrievable; responder p-values only",
        "Cudkowicz 2022, ALSFRS-R change (overall)": "MD 0.36 points (press); SE/CI not found; subgroup MMRM values in PMC are pre-erratum and nested",
    }
    oh_r, cu_r = resp["by_trial"]["Oh 2018"], resp["by_trial"]["Cudkowicz 2022"]
    sens = resp["sensitivity"]
    sof = pd.DataFrame([
        {"outcome": "Responders, each trial's own definition (not pooled: definitions differ)", "studies": 2,
         "effect": (f"Oh 2018 (\u2265 50% slope improvement, 6 months): OR {ratio_text(oh_r['or'])} ({ratio_text(oh_r['ci_low'])} to "
                    f"{ratio_text(oh_r['ci_high'])}); Cudkowicz 2022 (\u2265 1.25 points/month, 28 weeks, adjusted): OR "
                    f"{ratio_text(cu_r['or'])} ({ratio_text(cu_r['ci_low'])} to {ratio_text(cu_r['ci_high'])})"),
         "missing": "Berry 2019 (p-values only); Cudkowicz 2022 counts not reported"},
        {"outcome": "SENSITIVITY ANALYSIS ONLY: responders pooled across different definitions", "studies": 2,
         "effect": (f"OR {ratio_text(sens['reml_knha']['estimate'])} (HKSJ {ratio_text(sens['reml_knha']['ci_low'])} to "
                    f"{ratio_text(sens['reml_knha']['ci_high'])}; z {ratio_text(sens['reml_z']['ci_low'])} to "
                    f"{ratio_text(sens['reml_z']['ci_high'])})"),
         "missing": "not a valid summary: definitions, time points, controls and adjustment differ"},
        {"outcome": "Serious adverse events, 28 weeks", "studies": 1,
         "effect": f"RR {sae['estimate']:.2f} ({sae['ci_low']:.2f} to {sae['ci_high']:.2f})", "missing": "Oh 2018, Berry 2019, ALSUMMIT, Agüera-Morales 2025: not found"},
        {"outcome": "Deaths, 28 weeks", "studies": 1,
         "effect": f"RR {deaths['estimate']:.2f} ({deaths['ci_low']:.2f} to {deaths['ci_high']:.2f})",
         "missing": (f"denominators assumed = treated N: {nurown['treated_with_cells']} with cells, "
                     f"{nurown['treated_with_placebo']} with placebo ({nurown['treated_in_all']} treated in all); other trials not found")},
        {"outcome": "ALSFRS-R change, about 6 months", "studies": 1,
         "effect": "Oh 2018 only: see the pub3 analysis (MD 3.38, 1.22 to 5.54)", "missing": "; ".join(change_missing)},
    ])
    sof.to_csv(OUT / "summary_of_findings.csv", index=False, lineterminator="\n")
    (OUT / "summary_of_findings.md").write_text(
        "# Summary of findings: living update of CD011742 (evidence as of 2026)\n\n"
        "Criteria of pub3 carried forward; candidates are the trials in the evidence notes (not a new search).\n\n"
        + markdown_table(sof) + "\n## Eligible or ongoing, without usable numbers\n\n"
        + "\n".join(f"- **{k}**: {v}" for k, v in no_numbers.items()) + "\n",
        encoding="utf-8",
    )
    write_numbers(OUT, {
        "search_date": scr.search_date.isoformat(), "counts": scr.counts,
        "included": scr.ids("included"), "ongoing": scr.ids("ongoing"),
        "awaiting_classification": scr.ids("awaiting_classification"),
        "responders_by_definition": {k: v for k, v in resp.items() if k != "sensitivity"},
        "responders_pooled_sensitivity_different_definitions": resp["sensitivity"],
        "nurown_phase3_treated": nurown,
        "readme_sentence": living_sentence(resp, nurown, sae, deaths),
        "serious_adverse_events": sae, "deaths": deaths,
        "no_usable_numbers": no_numbers, "alsfrs_r_change_missing": change_missing,
    })


if __name__ == "__main__":
    main()
