"""The simulated null next to Oh 2018's untreated arm, analysed the same way."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np

from alsmeta.als.msc2021.effects import oh_arm
from alsmeta.als.msc2021.protocol import FIRST, SIX, UNITS
from alsmeta.als.prepost_stress.rates import rate
from alsmeta.als.prepost_stress.settings import CALIBRATED_MEASUREMENT_SD, R_STUDIES, SEED
from alsmeta.simulate import NaturalHistory, design_preset, simulate_trials

EMPIRICAL = (  # (key, outcome, follow-up months, effect keys in the reconstruction: (outcome, period))
    ("alsfrs_r_first_follow_up", "alsfrs_r", 4.0, FIRST),
    ("alsfrs_r_6_months", "alsfrs_r", 6.0, SIX),
    ("fvc_first_follow_up", "fvc", 4.0, FIRST),
)


def empirical_null(ev: Any) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """Oh 2018's arms against simulated untreated studies of the same design, analysed the same way.

    Parameters
    ----------
    ev
        The evidence tables (Oh 2018 Table 3).

    Returns
    -------
    tuple
        Numbers per outcome and period (observed arms, the simulated null, the untreated arm's percentile, the
        share of null studies at least as extreme as the treated arm) and the panels the figure draws.
    """
    hist = {
        "alsfrs_r": replace(NaturalHistory.alsfrs_r(), measurement_sd=CALIBRATED_MEASUREMENT_SD),
        "alsfrs_r_cited": NaturalHistory.alsfrs_r(),
        "fvc": NaturalHistory.fvc(),
    }
    numbers: dict[str, Any] = {}
    panels: dict[str, dict[str, Any]] = {}
    for i, (key, outcome, months, period) in enumerate(EMPIRICAL):
        control = oh_arm(ev, outcome, period, "control")
        treated = oh_arm(ev, outcome, period, "msc")
        design = design_preset("oh2018", n_patients=control.n).with_follow_up(months)
        sim = simulate_trials(hist[outcome], design, R_STUDIES, seed=SEED + 300 + i, progress=False)
        sim_t = simulate_trials(
            hist[outcome], replace(design, n_patients=treated.n), R_STUDIES, seed=SEED + 310 + i, progress=False
        )
        d, dt = sim.mean_change, sim_t.mean_change
        entry = {
            "observed_untreated": {
                "estimate": control.yi,
                "se": control.se,
                "n": control.n,
                "sd": control.se * math.sqrt(control.n),
            },
            "observed_treated": {"estimate": treated.yi, "se": treated.se, "n": treated.n},
            "simulated_untreated": {
                "mean": float(d.mean()),
                "sd_of_study_means": float(d.std(ddof=1)),
                "q2.5": float(np.quantile(d, 0.025)),
                "q97.5": float(np.quantile(d, 0.975)),
                "mean_patient_sd": float(np.nanmean(sim.sd_change)),
            },
            "percentile_of_untreated_arm": float(np.mean(d < control.yi)),
            "share_of_null_studies_at_least_as_extreme_as_treated_arm": (
                rate(dt >= treated.yi) if treated.yi > 0 else rate(dt <= treated.yi)
            ).numbers(),
            "unit": UNITS[outcome],
        }
        if outcome == "alsfrs_r":
            cited = simulate_trials(hist["alsfrs_r_cited"], design, R_STUDIES, seed=SEED + 320 + i, progress=False)
            entry["simulated_untreated_cited_measurement_sd"] = {
                "mean": float(cited.mean_change.mean()),
                "sd_of_study_means": float(cited.mean_change.std(ddof=1)),
                "mean_patient_sd": float(np.nanmean(cited.sd_change)),
            }
        numbers[key] = entry
        panels[key] = {"null": d, "treated_null": dt, "control": control, "treated": treated, "outcome": outcome}
    return numbers, panels
