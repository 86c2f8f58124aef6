"""A living update of Cochrane CD011742 with the evidence known in 2026.

Applies the pub3 criteria to every trial in data/ as of 2026, then pools what
can be pooled with the small-k methods a reviewer needs (REML with z and with
Hartung-Knapp-Sidik-Jonkman intervals, prediction intervals):

* responders: Oh 2018 (>= 50% ALSFRS-R slope improvement, 6 months, counts)
  and Cudkowicz 2022 (>= 1.25 points/month improvement, 28 weeks, adjusted OR
  with its p-value) - pooled on the log odds ratio scale only to show how
  fragile such a pool is;
* serious adverse events and deaths: only Cudkowicz 2022 reports them.

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


def responders(ev) -> dict:
    """Oh 2018 counts + Cudkowicz 2022 adjusted OR (SE from its p-value), on the log-OR scale."""
    oh = gather_arms(ev, [("oh2018", "6 months")], "alsfrs_r_slope_improvement_ge50pct", ("msc", "control"), ("events", "n"))
    oh_es = log_odds_ratio(oh.column("events1"), oh.column("n1"), oh.column("events2"), oh.column("n2"), labels=["Oh 2018"])
    cu_or = ev.statistic("cudkowicz2022", "responder_slope_improvement_ge1.25", "28 weeks", "msc_ntf_vs_placebo", "or")
    cu_p = ev.statistic("cudkowicz2022", "responder_slope_improvement_ge1.25", "28 weeks", "msc_ntf_vs_placebo", "p",
                        source_url="https://openaccess.library.uitm.edu.my./Record/scopus_10-1002-mus-27472/Details")
    cu_log = float(np.log(cu_or.value))
    cu_se = float(se_from_p([cu_log], [cu_p.value], labels=["Cudkowicz 2022"]).se[0])
    yi = np.array([oh_es.yi[0], cu_log])
    vi = np.array([oh_es.vi[0], cu_se**2])
    labels = ["Oh 2018", "Cudkowicz 2022"]
    definitions = [">= 50% slope improvement, 6 mo (counts)", ">= 1.25 pts/mo improvement, 28 wk (adjusted OR)"]
    fits = {test: am.pool(yi, vi, labels=labels, method="REML", test=test) for test in ("z", "knha")}
    fig = forest_plot(
        fits["knha"], log_scale=True, effect_label="Odds ratio", favours=FAVOURS, xlim=(0.05, 50), digits=3,
        columns={"Responder definition": definitions},
        title="Living update: responders (different definitions; fragile by construction)",
        notes=[
            "REML, Hartung-Knapp-Sidik-Jonkman interval with 1 df. Cudkowicz 2022: published adjusted OR 1.33 (P = .45);",
            "its SE is back-calculated from the p-value (derived). Berry 2019 reports only p-values: not poolable.",
        ],
    )
    save_figure(fig, OUT / "forest_responders")
    z = fits["z"]
    return {
        "studies": labels, "definitions": definitions,
        "log_or": yi.tolist(), "se_log_or": np.sqrt(vi).tolist(),
        "cudkowicz_se_derivation": f"SE = |log(OR)| / z(1 - p/2) = |log({cu_or.value})| / z(1 - {cu_p.value}/2) = {cu_se:.6f}",
        "reml_z": _fit_summary(z), "reml_knha": _fit_summary(fits["knha"]),
        "why_fragile": [
            "the responder definitions differ (relative >= 50% slope improvement vs absolute >= 1.25 points/month)",
            "one OR is unadjusted from counts, the other adjusted by logistic regression and recovered from a rounded p-value",
            "time points differ (6 months vs 28 weeks) and so do the controls (open-label riluzole vs placebo)",
            f"k = 2: tau2 has one degree of freedom; the HKSJ interval ({fits['knha'].ci_low:.2f} to {fits['knha'].ci_high:.2f} on the log scale) is very wide, the z interval is not",
            "Berry 2019's responder result (one-sided p = 0.02 at 4 weeks) has no effect estimate and cannot enter",
        ],
    }


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
        assumption = "denominators not reported for this outcome; the treated N of each arm (Table 1: 95 / 94) is assumed (derived)"
        notes.append("Denominators assumed = treated N (95 / 94): not reported for deaths.")
    es = log_risk_ratio([ev1.value], [denominators[0]], [ev2.value], [denominators[1]], labels=["Cudkowicz 2022"])
    fit = am.pool(es.yi, es.vi, labels=es.labels, method="REML", test="z")
    fig = forest_plot(fit, log_scale=True, effect_label="Risk ratio", favours=("Favours cells", "Favours placebo"),
                      xlim=symmetric_xlim(fit, log_scale=True),
                      columns={"MSC-NTF": [f"{int(ev1.value)}/{int(denominators[0])}"], "Placebo": [f"{int(ev2.value)}/{int(denominators[1])}"]},
                      title=f"Living update: {title}", notes=notes)
    save_figure(fig, OUT / f"forest_{outcome}")
    return {"title": title, "estimable": True, "events": [ev1.value, ev2.value], "n": list(denominators),
            "assumption": assumption, "status": [ev1.status, ev2.status], **_fit_summary(fit)}


def main() -> None:
    warnings.simplefilter("error", RuntimeWarning)
    OUT.mkdir(parents=True, exist_ok=True)
    ev = load_evidence("data")
    scr = screen("living2026", "data")
    table = scr.table[scr.table.decision != "excluded"].drop(columns=["ambiguous"])
    table.to_csv(OUT / "screening.csv", index=False, lineterminator="\n")

    resp = responders(ev)
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
    sof = pd.DataFrame([
        {"outcome": "Responders (different definitions)", "studies": 2,
         "effect": f"OR {resp['reml_knha']['estimate']:.2f} (HKSJ {resp['reml_knha']['ci_low']:.3g} to {resp['reml_knha']['ci_high']:.3g}; z {resp['reml_z']['ci_low']:.2f} to {resp['reml_z']['ci_high']:.2f})",
         "missing": "Berry 2019 (p-values only); definitions differ"},
        {"outcome": "Serious adverse events, 28 weeks", "studies": 1,
         "effect": f"RR {sae['estimate']:.2f} ({sae['ci_low']:.2f} to {sae['ci_high']:.2f})", "missing": "Oh 2018, Berry 2019, ALSUMMIT, Agüera-Morales 2025: not found"},
        {"outcome": "Deaths, 28 weeks", "studies": 1,
         "effect": f"RR {deaths['estimate']:.2f} ({deaths['ci_low']:.2f} to {deaths['ci_high']:.2f})", "missing": "denominators assumed (treated N); other trials not found"},
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
        "responders": resp, "serious_adverse_events": sae, "deaths": deaths,
        "no_usable_numbers": no_numbers, "alsfrs_r_change_missing": change_missing,
    })


if __name__ == "__main__":
    main()
