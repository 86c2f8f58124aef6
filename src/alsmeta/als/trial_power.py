"""What a definitive trial needs: power and sample size on ALSFRS-R change at 6 months.

The outcome SD is the pooled SD of the 6-month ALSFRS-R change in Oh 2018 (the
only RCT with arm-level data). The plausible true effects are the RCT estimate
(MD 3.38 points) and the lower end of its 95% CI (1.22 points), the NurOwn
phase 3 overall difference (0.36 points at 28 weeks, press report) and the
effect a single-arm pre-post analysis implies (6 months x the MSC arm's
1.08 points/month slope improvement over its own lead-in). The headline
"at least N per arm" is never quoted without its assumptions: every scenario
(outcome SD from Oh 2018, 5 and 6; attrition 0 and 20%) carries SD, alpha,
power, the difference to detect and the attrition beside it.

The minimal clinically important difference (MCID) is an assumption, derived
and labelled as such: a 20% slowing of ALSFRS-R decline (rated at least
somewhat clinically meaningful by 90% of surveyed ALS clinicians,
Castrillo-Viguera et al. 2010) applied to the 6-month decline of the Oh 2018
control arm. The trial sequential analysis of the living update uses the same
pre-specified inputs (:func:`pre_specified_inputs`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from scipy import stats

from alsmeta.als.tables import ArmData, Evidence, gather_arms
from alsmeta.effects.measures import mean_difference
from alsmeta.planning.power import (
    SampleSizeScenario,
    optimal_information_size,
    sample_size_scenarios,
    trial_power,
    trial_sample_size,
)

MONTHS = 6
ALPHA, POWER = 0.05, 0.8
ALTERNATIVE_SDS = (5.0, 6.0)
ATTRITIONS = (0.0, 0.2)
MCID_SLOWING = 0.20
MCID_SOURCE = (
    "Castrillo-Viguera C, Grasso DL, Simpson E, Shefner J, Cudkowicz ME. Clinical significance in the change of "
    "decline in ALSFRS-R. Amyotroph Lateral Scler 2010;11(1-2):178-180. doi:10.3109/17482960903093710 (survey of 65 "
    "NEALS members: 90% rated a 20% change in the ALSFRS-R slope at least somewhat clinically meaningful)"
)
SD_POOLED_SOURCE = "pooled SD of the 6-month ALSFRS-R change, Oh 2018 (derived)"
DELTA_SOURCE = "lower 95% limit of Oh 2018's 6-month ALSFRS-R MD (inverse-variance, z)"


def mcid_points(control_decline: float, slowing: float = MCID_SLOWING) -> float:
    """An assumed MCID in points: a ``slowing`` fraction of the control arm's decline over the same period."""
    return abs(control_decline) * slowing


def oh2018_six_month_arms(ev: Evidence) -> ArmData:
    """Oh 2018's 6-month ALSFRS-R change per arm (mean, SD, n): the data rows the pre-specified inputs rest on."""
    return gather_arms(
        ev, [("oh2018", "baseline to 6 months")], "alsfrs_r_change", ("msc", "control"), ("mean", "sd", "n")
    )


def pre_specified_inputs(ev: Evidence) -> dict[str, float]:
    """The inputs fixed before any monitoring, from Oh 2018's 6-month ALSFRS-R arms (data/ via the library).

    Returns the pooled SD of the 6-month change (``sd_pooled``), the
    inverse-variance MD and its z 95% limits (``md_iv``, ``ci_low``,
    ``ci_high``), the control arm's 6-month decline and the assumed MCID
    (``mcid``: :data:`MCID_SLOWING` of that decline), and the arm sizes. The
    trial sequential analysis of the living update uses the same numbers, so
    its required information size is this power calculation's.
    """
    arms = oh2018_six_month_arms(ev)
    s1, n1, s2, n2 = (float(arms.column(c)[0]) for c in ("sd1", "n1", "sd2", "n2"))
    oh = mean_difference(*([arms.column(c)[0]] for c in ("mean1", "sd1", "n1", "mean2", "sd2", "n2")))
    z = stats.norm.isf(ALPHA / 2)
    control_decline = float(arms.column("mean2")[0])
    return {
        "sd_pooled": float(np.sqrt(((n1 - 1) * s1**2 + (n2 - 1) * s2**2) / (n1 + n2 - 2))),
        "sd1": s1,
        "sd2": s2,
        "n1": n1,
        "n2": n2,
        "md_iv": float(oh.yi[0]),
        "ci_low": float(oh.yi[0] - z * oh.sei[0]),  # inverse-variance z limit, as the pub3 analysis
        "ci_high": float(oh.yi[0] + z * oh.sei[0]),
        "control_decline": control_decline,
        "mcid": mcid_points(control_decline),
    }


def candidate_effects(ev: Evidence, inputs: dict[str, float]) -> dict[str, float]:
    """The plausible true 6-month differences (points), each named by where it comes from."""
    md = ev.statistic("oh2018", "alsfrs_r_change", "baseline to 6 months", "msc_minus_control", "md").value
    slope_msc = ev.statistic(
        "oh2018", "alsfrs_r_slope_change", "lead-in vs follow-up up to 6 months", "msc", "mean"
    ).value
    cud = ev.statistic("cudkowicz2022", "alsfrs_r_change", "baseline to week 28", "msc_ntf_minus_placebo", "md").value
    lower = inputs["ci_low"]
    return {
        "NurOwn phase 3 overall (0.36, press)": cud,
        f"Oh 2018 lower 95% limit ({lower:.2f})": lower,
        "Oh 2018 RCT estimate (3.38)": md,
        "pre-post implied, MSC arm (6 x 1.08)": MONTHS * slope_msc,
    }


def control_arm_slope_change(ev: Evidence) -> float:
    """The Oh 2018 control arm's ALSFRS-R slope change over its lead-in (points/month), with no cells at all."""
    return ev.statistic(
        "oh2018", "alsfrs_r_slope_change", "lead-in vs follow-up up to 6 months", "control", "mean"
    ).value


def sample_sizes(effects: dict[str, float], sd: float) -> dict[str, dict[str, int]]:
    """Analysed participants per arm for 80% and 90% power (two-sided alpha 0.05) for each candidate effect."""
    return {
        name: {
            "n_per_arm_80": trial_sample_size(d, sd, 0.8),
            "n_per_arm_90": trial_sample_size(d, sd, 0.9),
        }
        for name, d in effects.items()
    }


def information_sizes(effects: dict[str, float], sd: float) -> dict[str, float]:
    """The optimal information size (total participants) of a meta-analysis for each candidate effect."""
    return {name: optimal_information_size(d, sd).total for name, d in effects.items()}


def power_at_size(effects: dict[str, float], sd: float, n1: float, n2: float) -> dict[str, float]:
    """The power a trial of Oh 2018's size (``n1`` treated, ``n2`` control) had for each candidate effect."""
    return {name: trial_power(d, sd, n2, ratio=n1 / n2) for name, d in effects.items()}


def scenarios(inputs: dict[str, float]) -> tuple[SampleSizeScenario, ...]:
    """The sample-size grid: the pre-specified difference under every outcome SD and attrition (primary first)."""
    sds = (inputs["sd_pooled"], *ALTERNATIVE_SDS)
    return sample_size_scenarios(inputs["ci_low"], sds, ATTRITIONS, power=POWER, alpha=ALPHA)


def at_least_sentence(primary: SampleSizeScenario, scenarios: Sequence[SampleSizeScenario]) -> str:
    """The sentence a README prints for the definitive-trial size, with every assumption beside the number."""
    alt = [s for s in scenarios if s.sd in ALTERNATIVE_SDS and s.attrition == 0]
    drop = [s for s in scenarios if s.attrition > 0]
    return (
        f"To detect the lower end of Oh 2018's 95% CI for the 6-month ALSFRS-R difference ({primary.delta:.2f} "
        f"points) with {100 * primary.power:g}% power at two-sided alpha {primary.alpha:g}, a trial needs at least "
        f"{primary.n_analysed_per_arm} analysed patients per arm if the outcome SD is {primary.sd:.1f} (pooled from "
        f"Oh 2018) and no one drops out; with an SD of {alt[0].sd:g} to {alt[-1].sd:g} it needs "
        f"{alt[0].n_analysed_per_arm} to {alt[-1].n_analysed_per_arm} per arm, and with "
        f"{100 * drop[0].attrition:g}% attrition {min(s.n_enrolled_per_arm for s in drop)} to "
        f"{max(s.n_enrolled_per_arm for s in drop)} enrolled per arm."
    )


def at_least_n_per_arm(inputs: dict[str, float], sources: Sequence[Mapping[str, Any]] = ()) -> dict[str, Any]:
    """The headline "at least N per arm" with its assumptions, every scenario of the grid and the README sentence.

    ``sources`` are the data rows ``inputs`` were computed from
    (``oh2018_six_month_arms(ev).sources()``); results.json keeps them so the
    report links exactly those rows.
    """
    grid = scenarios(inputs)
    primary = grid[0]
    sd_sources = {inputs["sd_pooled"]: SD_POOLED_SOURCE}
    return {
        "n_analysed_per_arm": primary.n_analysed_per_arm,
        "assumptions": primary.assumptions()
        + "; SD pooled from Oh 2018; difference = lower 95% limit of Oh 2018's 6-month MD",
        "scenarios": [
            {
                "sd": sc.sd,
                "sd_source": sd_sources.get(sc.sd, "plausible alternative (assumption)"),
                "attrition": sc.attrition,
                "alpha": sc.alpha,
                "two_sided": True,
                "power": sc.power,
                "delta": sc.delta,
                "delta_source": DELTA_SOURCE,
                "n_analysed_per_arm": sc.n_analysed_per_arm,
                "n_enrolled_per_arm": sc.n_enrolled_per_arm,
                "assumptions": sc.assumptions(),
            }
            for sc in grid
        ],
        "readme_sentence": at_least_sentence(primary, grid),
        "sources": [dict(record) for record in sources],
    }


def mcid_assumed(inputs: dict[str, float]) -> dict[str, Any]:
    """The assumed MCID, labelled as an assumption, with its derivation, source and the trial size it implies."""
    mcid = inputs["mcid"]
    return {
        "points_6mo": mcid,
        "status": "assumption (derived)",
        "derivation": (
            f"{100 * MCID_SLOWING:g}% slowing x |{inputs['control_decline']}| points (Oh 2018 control arm, change "
            f"baseline to 6 months) = {mcid:.2f}"
        ),
        "source": MCID_SOURCE,
        "n_per_arm_80_at_sd_pooled": trial_sample_size(mcid, inputs["sd_pooled"], POWER, ALPHA),
    }
