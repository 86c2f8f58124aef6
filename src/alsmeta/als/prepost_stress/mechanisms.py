"""What a pre-post design finds with no treatment: the null by design, and the mechanisms one at a time and together.

Sections 1 and 2 of the stress test: each design of the reconstruction under simulated natural history
(:mod:`alsmeta.simulate`), then floor and scale, curvature, visit-to-visit variability, enrolment after a
measured decline (at half, the assumed and double the measurement error) and attrition, each alone.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from alsmeta.als.prepost_stress.rates import benefit, pool_rows, rate
from alsmeta.als.prepost_stress.settings import (
    ALPHA,
    CALIBRATED_MEASUREMENT_SD,
    CURVATURE,
    DESIGN_LABELS,
    DOUBLE_ERROR,
    GENERIC_SIZES,
    HALF_ERROR,
    MEASUREMENT_SD,
    MEASUREMENT_SD_ASSUMPTION,
    R_META,
    R_META_ERROR_SENSITIVITY,
    R_STUDIES,
    RECONSTRUCTION_DESIGNS,
    SEED,
    SELECTION_SLOPE,
)
from alsmeta.simulate import NaturalHistory, TrialDesign, design_preset, simulate_meta_analyses, simulate_trials


def histories() -> dict[str, NaturalHistory]:
    """The natural histories of the mechanism analysis: a bare baseline and one mechanism at a time."""
    cited = NaturalHistory.alsfrs_r()
    base = replace(
        cited,
        slope_distribution="normal",
        slope_max=math.inf,
        floor=-math.inf,
        ceiling=math.inf,
        integer_scores=False,
        death_rate=0.0,
        dropout_rate=0.0,
    )
    return {
        "none": base,
        "floor": replace(
            base, slope_distribution="lognormal", slope_max=0.0, floor=0.0, ceiling=48.0, integer_scores=True
        ),
        "decelerating": replace(base, shape="quadratic", curvature_mean=CURVATURE),
        "accelerating": replace(base, shape="quadratic", curvature_mean=-CURVATURE),
        "variability": replace(base, measurement_sd=CALIBRATED_MEASUREMENT_SD),
        "selection_half_error": replace(base, measurement_sd=HALF_ERROR),
        "selection": base,
        "selection_double_error": replace(base, measurement_sd=DOUBLE_ERROR),
        "attrition": replace(base, death_rate=cited.death_rate, dropout_rate=cited.dropout_rate),
        "as_designed": replace(cited, measurement_sd=CALIBRATED_MEASUREMENT_SD),
        "all": replace(cited, measurement_sd=CALIBRATED_MEASUREMENT_SD),
    }


MECHANISM_LABELS = {
    "none": f"No mechanism (linear, measurement error {MEASUREMENT_SD:g})",
    "floor": "Scale: floor at 0, skewed decline, whole points",
    "decelerating": f"Decelerating courses (+{CURVATURE:g} points/month\u00b2)",
    "accelerating": f"Accelerating courses (\u2212{CURVATURE:g} points/month\u00b2)",
    "variability": f"Visit-to-visit variability (SD {CALIBRATED_MEASUREMENT_SD:g}, Oh 2018 calibrated)",
    "selection_half_error": f"Enrolment after a measured decline, measurement error {HALF_ERROR:g} (half)",
    "selection": f"Enrolment after a measured decline (\u2265 1 point/month), measurement error {MEASUREMENT_SD:g} "
    "(assumed)",
    "selection_double_error": f"Enrolment after a measured decline, measurement error {DOUBLE_ERROR:g} (double)",
    "attrition": "Death and dropout of the fastest / sickest",
    "as_designed": "Cited history, calibrated variability, the designs' own rules",
    "all": "... and enrolment after a measured decline (all together)",
}

SELECTING = ("selection", "selection_half_error", "selection_double_error", "all")

ERROR_SENSITIVITY = {
    "selection_half_error": HALF_ERROR,
    "selection": MEASUREMENT_SD,
    "selection_double_error": DOUBLE_ERROR,
}

MECHANISM_SEEDS = {
    "none": 0,
    "floor": 1,
    "decelerating": 2,
    "accelerating": 3,
    "variability": 4,
    "selection": 5,
    "selection_half_error": 6,
    "attrition": 7,
    "as_designed": 8,
    "all": 9,
    "selection_double_error": 10,
}
"""Seed offset per mechanism (fixed by name, so adding a row changes no other row's draws)."""


def meta_designs(selection: bool) -> list[TrialDesign]:
    """The 11 studies of one simulated meta-analysis: 7 transcribed designs + 4 generic ones, 220 patients."""
    extra: dict[str, Any] = {"pre_slope_range": (-math.inf, SELECTION_SLOPE)} if selection else {}
    designs = [design_preset(n, **extra) for n in RECONSTRUCTION_DESIGNS]
    designs += [TrialDesign(name=f"generic{i + 1}", n_patients=n, **extra) for i, n in enumerate(GENERIC_SIZES)]
    assert sum(d.n_patients for d in designs) == 220 and len(designs) == 11
    return designs


def null_by_design() -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The study-level slope change with no treatment effect, per design of the reconstruction.

    Each design preset (:func:`alsmeta.simulate.design_preset`) simulated :data:`R_STUDIES` times under the
    cited ALSFRS-R natural history with the calibrated visit-to-visit SD.

    Returns
    -------
    tuple
        Numbers per design (mean, quantiles, apparent-benefit rate with MC SE, ...) and the simulated study
        means per design (for the figure).
    """
    history = replace(NaturalHistory.alsfrs_r(), measurement_sd=CALIBRATED_MEASUREMENT_SD)
    numbers: dict[str, Any] = {}
    draws: dict[str, np.ndarray] = {}
    for i, name in enumerate((*RECONSTRUCTION_DESIGNS, "cudkowicz2022")):
        r = simulate_trials(history, design_preset(name), R_STUDIES, seed=SEED + 100 + i, progress=False)
        d = r.mean_change
        draws[name] = d
        numbers[name] = {
            "label": DESIGN_LABELS[name],
            "n_patients": int(r.design.n_patients),
            "studies": r.n_studies,
            "mean_change": float(np.mean(d)),
            "mean_change_mc_se": float(np.std(d, ddof=1) / math.sqrt(d.size)),
            "sd_of_study_means": float(np.std(d, ddof=1)),
            "quantiles": dict(
                zip(
                    ("2.5", "25", "50", "75", "97.5"),
                    np.quantile(d, [0.025, 0.25, 0.5, 0.75, 0.975]).tolist(),
                    strict=True,
                )
            ),
            "mean_patient_sd": float(np.nanmean(r.sd_change)),
            "apparent_benefit": rate(benefit(r.pvalue, d)).numbers(),
            "any_significant_change": rate(np.nan_to_num(r.pvalue, nan=1.0) < ALPHA).numbers(),
            "mean_change_noiseless": float(np.nanmean(r.mean_change_noiseless)),
        }
    return numbers, draws


def mechanisms() -> dict[str, Any]:
    """False-positive rates of one study and of an 11-study REML meta-analysis (220 patients) per mechanism.

    Each mechanism of :func:`histories` alone, then the cited history as designed and everything together;
    rates with Monte-Carlo SEs, for z and HKSJ intervals.

    Returns
    -------
    dict
        Numbers per mechanism.
    """
    out: dict[str, Any] = {}
    for key, history in histories().items():
        replicates = R_META_ERROR_SENSITIVITY if key in ("selection_half_error", "selection_double_error") else R_META
        meta = simulate_meta_analyses(
            history, meta_designs(key in SELECTING), replicates, seed=SEED + 200 + MECHANISM_SEEDS[key], progress=False
        )
        single_p = np.concatenate([s.pvalue for s in meta.studies])
        single_m = np.concatenate([s.mean_change for s in meta.studies])
        z, h = pool_rows(meta.yi, meta.vi, meta.mask, "z"), pool_rows(meta.yi, meta.vi, meta.mask, "knha")
        out[key] = {
            "label": MECHANISM_LABELS[key],
            "measurement_sd": history.measurement_sd,
            "single_study_benefit": rate(benefit(single_p, single_m)).numbers(),
            "single_study_two_sided": rate(np.nan_to_num(single_p, nan=1.0) < ALPHA).numbers(),
            "mean_study_change": float(np.mean(single_m)),
            "mean_study_change_mc_se": float(np.std(single_m, ddof=1) / math.sqrt(single_m.size)),
            "meta_reml_z_benefit": rate(z.ci_low > 0).numbers(),
            "meta_reml_z_two_sided": rate((z.ci_low > 0) | (z.ci_high < 0)).numbers(),
            "meta_reml_hksj_benefit": rate(h.ci_low > 0).numbers(),
            "meta_reml_hksj_two_sided": rate((h.ci_low > 0) | (h.ci_high < 0)).numbers(),
            "mean_pooled_estimate": float(np.nanmean(z.estimate)),
            "studies_per_meta": int(meta.yi.shape[1]),
            "meta_analyses": int(meta.yi.shape[0]),
            "patients_per_meta": int(sum(d.n_patients for d in meta.designs)),
        }
    return out


def error_sensitivity(mech: dict[str, Any]) -> dict[str, Any]:
    """The selection mechanism at half, the assumed and double the ALSFRS-R measurement error, side by side."""
    rows = {}
    for key, sd in ERROR_SENSITIVITY.items():
        n = mech[key]
        rows[key.replace("selection_", "").replace("selection", "assumed_error")] = {
            "measurement_sd": sd,
            "meta_analyses": n["meta_analyses"],
            "meta_reml_z_benefit": n["meta_reml_z_benefit"],
            "meta_reml_hksj_benefit": n["meta_reml_hksj_benefit"],
            "single_study_benefit": n["single_study_benefit"],
            "mean_study_change": n["mean_study_change"],
        }
    return {
        "question": "share of 11-study meta-analyses (220 patients, REML) showing significant slowing when the cells "
        "do nothing "
        "and patients are enrolled after a measured decline of at least 1 ALSFRS-R point/month before treatment",
        "assumption": MEASUREMENT_SD_ASSUMPTION,
        **rows,
    }


def null_by_design_table(numbers: dict[str, Any]) -> pd.DataFrame:
    """null_by_design.csv: one row per design, its scalar numbers and the apparent-benefit rate with its MC SE."""
    return pd.DataFrame(
        [
            {
                "design": k,
                **{f: v for f, v in n.items() if not isinstance(v, dict)},
                "apparent_benefit_rate": n["apparent_benefit"]["rate"],
                "apparent_benefit_mc_se": n["apparent_benefit"]["mc_se"],
            }
            for k, n in numbers.items()
        ]
    )


MECHANISM_RATES = (
    "single_study_benefit",
    "meta_reml_z_benefit",
    "meta_reml_hksj_benefit",
    "single_study_two_sided",
    "meta_reml_z_two_sided",
    "meta_reml_hksj_two_sided",
)
"""The rates of each mechanism that mechanisms.csv lists (rate and MC SE each)."""


def mechanisms_table(mech: dict[str, Any]) -> pd.DataFrame:
    """mechanisms.csv: one row per mechanism, its mean apparent slowing and every rate with its MC SE."""
    return pd.DataFrame(
        [
            {
                "mechanism": k,
                "label": n["label"],
                "mean_study_change": n["mean_study_change"],
                **{f"{f}_{s}": n[f][s] for f in MECHANISM_RATES for s in ("rate", "mc_se")},
            }
            for k, n in mech.items()
        ]
    )
