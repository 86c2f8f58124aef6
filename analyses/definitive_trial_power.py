"""What a definitive trial needs: power and sample size on ALSFRS-R change at 6 months.

The outcome SD comes from Oh 2018 (the only RCT with arm-level data): the
pooled SD of the 6-month ALSFRS-R change (derived from the two arms' SDs).
Plausible true effects:

* the RCT estimate, Oh 2018 MD 3.38 points, and the lower end of its 95% CI
  (1.22 points);
* the NurOwn phase 3 overall difference, 0.36 points at 28 weeks (press
  report; SE not found);
* the effect a single-arm pre-post analysis implies: the MSC arm of Oh 2018
  improved its ALSFRS-R slope by 1.08 points/month over its own lead-in, i.e.
  about 6 months x 1.08 = 6.5 points at 6 months if that change were caused by
  the cells - while the untreated control arm "improved" by 0.16 points/month
  (about 1 point) on the same scale with no cells at all. (The 2021 pre-post
  meta-analysis itself published no pooled number.)

Also the optimal information size of a meta-analysis for each effect, and the
information available so far (56 participants at 6 months).

The headline "at least N per arm" is never quoted without its assumptions:
numbers.json holds every scenario (SD 4.0 from Oh 2018, 5 and 6; attrition 0
and 20%), each with SD, alpha, power, the difference to detect and the
attrition beside it, and the sentence a README should print. The minimal
clinically important difference (MCID) marked in the figure is an assumption,
derived and labelled as such: a 20% slowing of ALSFRS-R decline (the change
90% of surveyed ALS clinicians rated at least somewhat clinically meaningful,
Castrillo-Viguera et al. 2010) applied to the 6-month decline of the Oh 2018
control arm. Writes a two-panel figure (sample size vs true difference, with
the Oh 2018 estimate, its 95% CI and the MCID on the effect axis; power vs
participants per arm) and numbers into figures/definitive_trial/.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import matplotlib.pyplot as plt

from alsmeta.als.tables import load_evidence
from alsmeta.als.trial_power import (
    ALPHA,
    ALTERNATIVE_SDS,
    MONTHS,
    at_least_n_per_arm,
    candidate_effects,
    control_arm_slope_change,
    information_sizes,
    mcid_assumed,
    oh2018_six_month_arms,
    power_at_size,
    pre_specified_inputs,
    sample_sizes,
)
from alsmeta.als.trial_power_figure import power_figure
from alsmeta.io import figures_dir  # ALSMETA_FIGURES when run by alsmeta reproduce, else figures/
from alsmeta.io.reporting import figure_entry, write_numbers
from alsmeta.plots.save import save_figure
from alsmeta.plots.style import style_context

OUT = figures_dir() / "definitive_trial"


def main() -> None:
    warnings.simplefilter("error", RuntimeWarning)
    OUT.mkdir(parents=True, exist_ok=True)
    ev = load_evidence("data")
    inputs = pre_specified_inputs(ev)
    s1, n1, s2, n2 = (inputs[k] for k in ("sd1", "n1", "sd2", "n2"))
    sd_pooled, mcid = inputs["sd_pooled"], inputs["mcid"]
    effects = candidate_effects(ev, inputs)
    sizes = sample_sizes(effects, sd_pooled)
    oh = {"md": inputs["md_iv"], "ci_low": inputs["ci_low"], "ci_high": inputs["ci_high"]}
    fig = power_figure(effects, sizes, sd_pooled, (sd_pooled, *ALTERNATIVE_SDS), oh, mcid, n1, n2)
    with style_context():
        save_figure(fig, OUT / "power_curves")
    plt.close(fig)

    slope_ctrl = control_arm_slope_change(ev)
    write_numbers(
        OUT,
        {
            "figures": {
                "power_curves": figure_entry(
                    "How many patients per arm would a definitive trial of ALSFRS-R change at 6 months need, for "
                    "each plausible true difference?",
                    f"(a) Participants per arm for 80% power by true difference, for outcome SD {sd_pooled:.1f} "
                    f"(Oh 2018) and {ALTERNATIVE_SDS[0]:g}/{ALTERNATIVE_SDS[1]:g} (assumed), with Oh 2018's "
                    f"estimate, its 95% CI and the assumed MCID ({mcid:.2f} points) marked; (b) power by size for "
                    f"four candidate differences; two-sided alpha {ALPHA:g}, no attrition.",
                    script=Path(__file__).name,
                )
            },
            "sd_pooled": sd_pooled,
            "sd_derivation": f"sqrt(((n1-1) sd1^2 + (n2-1) sd2^2) / (n1+n2-2)) with Oh 2018 6-month arms: "
            f"n {n1:g}/{n2:g}, sd {s1}/{s2}",
            "effects": effects,
            "pre_post_control_arm_slope_change_per_month": slope_ctrl,
            "pre_post_control_arm_implied_6mo": MONTHS * slope_ctrl,
            "sample_size": sizes,
            "optimal_information_size_total": information_sizes(effects, sd_pooled),
            "information_so_far_participants_6mo": int(n1 + n2),
            "power_at_oh2018_size": power_at_size(effects, sd_pooled, n1, n2),
            "at_least_n_per_arm": at_least_n_per_arm(inputs, oh2018_six_month_arms(ev).sources()),
            "mcid_assumed": mcid_assumed(inputs),
        },
    )


if __name__ == "__main__":
    main()
