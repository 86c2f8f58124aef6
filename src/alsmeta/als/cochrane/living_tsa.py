"""Trial sequential analysis of the 6-month ALSFRS-R change, with the definitive-trial power calculation's RIS.

Only Oh 2018 has a 6-month ALSFRS-R difference with its SE; the NurOwn phase
3's 28-week difference has no SE or CI and cannot enter. The effect for the
required information size (RIS) is fixed in advance - the lower 95% limit of
Oh 2018's MD, the power analysis's primary difference
(:func:`alsmeta.als.trial_power.pre_specified_inputs`) - and the assumed MCID
is a labelled sensitivity analysis; never the pooled estimate itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import alsmeta as am
from alsmeta.als.tables import Evidence, Reported, gather_arms
from alsmeta.als.trial_power import pre_specified_inputs, scenarios
from alsmeta.effects.measures import mean_difference
from alsmeta.planning.sequential import TrialSequentialResult

MCID_KEYS = ("ris", "delta", "sd", "crossed", "final_fraction", "final_boundary")
"""The numbers kept of the MCID sensitivity analysis."""


@dataclass(frozen=True, eq=False)
class AlsfrsTsa:
    """The monitored 6-month ALSFRS-R evidence: the primary TSA, its MCID sensitivity and what could not enter.

    ``inputs`` are the definitive-trial power calculation's pre-specified
    inputs; ``nurown_md`` and ``nurown_se`` the NurOwn phase 3's 28-week
    difference and its (missing) SE. ``n_per_arm_exact_t`` is that power
    calculation's own answer (exact t-test), beside the TSA's RIS, which uses
    the usual normal-approximation formula (so 2 x n_per_arm differs a little).
    """

    tsa: TrialSequentialResult
    mcid: TrialSequentialResult
    inputs: dict[str, float]
    nurown_md: Reported
    nurown_se: Reported
    n_per_arm_exact_t: int


def alsfrs_tsa(ev: Evidence) -> AlsfrsTsa:
    """Trial sequential analysis of the 6-month ALSFRS-R change (RIS from the pre-specified difference and SD)."""
    inputs = pre_specified_inputs(ev)
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
    return AlsfrsTsa(tsa, mcid, inputs, cu, cu_se, scenarios(inputs)[0].n_analysed_per_arm)


def firmness(tsa: TrialSequentialResult) -> tuple[str, str]:
    """Whether the last look is past the boundary ("past"/"short of") and the evidence "firm"/"not yet firm"."""
    return ("past", "firm") if tsa.crossed else ("short of", "not yet firm")


def tsa_numbers(a: AlsfrsTsa) -> dict[str, Any]:
    """The TSA's numbers, where its effect and SD come from, what could not enter, and the README sentence."""
    tsa, cu, cu_se = a.tsa, a.nurown_md, a.nurown_se
    past, firm = firmness(tsa)
    n_final = int(tsa.cumulative_participants[-1])
    return {
        **tsa.to_dict(),
        "delta_source": "lower 95% limit of Oh 2018's 6-month ALSFRS-R MD (inverse-variance, z), as the "
        "definitive-trial power calculation (fixed in advance, not the pooled estimate)",
        "sd_source": "pooled SD of the 6-month ALSFRS-R change in Oh 2018 (derived), as the definitive-trial power "
        "calculation",
        "ris_formula": f"normal approximation, the usual TSA formula; the definitive-trial calculation's exact t-test "
        f"gives {a.n_per_arm_exact_t} per arm ({2 * a.n_per_arm_exact_t} in all)",
        "studies": list(tsa.labels),
        "years": list(tsa.order),
        "not_entered": {
            "Cudkowicz 2022": f"28-week ALSFRS-R difference {cu.value:g} points ({cu.status}) has no SE or CI: "
            f"{cu_se.describe()}"
        },
        "sensitivity_mcid": {
            "label": "SENSITIVITY: RIS from the assumed MCID (20% slowing of the Oh 2018 control arm's 6-month "
            "decline)",
            **{k: v for k, v in a.mcid.to_dict().items() if k in MCID_KEYS},
        },
        "reading": (
            f"One trial ({n_final} participants, {100 * tsa.fraction[-1]:.0f}% of the "
            f"required {tsa.ris:.0f}) gives Z = {tsa.z[-1]:.2f}: past the conventional 1.96 but "
            f"{past} the O'Brien-Fleming boundary ({tsa.boundary[-1]:.2f}) at that "
            f"information; the evidence is {firm}."
        ),
        "readme_sentence": (
            f"Monitored as a trial sequential analysis, the randomised ALSFRS-R evidence at 6 months is one trial "
            f"(Oh 2018, {n_final} participants) with Z = {tsa.z[-1]:.2f}: past the conventional 1.96 but {past} the "
            f"O'Brien-Fleming boundary of {tsa.boundary[-1]:.2f} at {100 * tsa.fraction[-1]:.0f}% of the required "
            f"information size ({tsa.ris:.0f} participants for a {tsa.information_size.delta:.2f}-point "
            f"difference, SD {tsa.information_size.sd:.2f}, the definitive-trial power calculation's pre-specified "
            f"difference, by the normal approximation; its exact t-test gives {2 * a.n_per_arm_exact_t}); the NurOwn "
            "phase 3's 28-week difference has no SE and cannot enter."
        ),
    }
