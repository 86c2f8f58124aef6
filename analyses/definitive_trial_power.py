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
information available so far (56 participants at 6 months). Writes a
power-curve figure and numbers into figures/definitive_trial/.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from scipy import stats

from alsmeta.effects import mean_difference
from alsmeta.evidence.tables import gather_arms, load_evidence
from alsmeta.plots.style import colour, save_figure, style_context
from alsmeta.power import optimal_information_size, trial_power, trial_sample_size
from alsmeta.reporting import write_numbers

from alsmeta.io import figures_dir  # ALSMETA_FIGURES when run by alsmeta reproduce, else figures/
OUT = figures_dir() / "definitive_trial"
MONTHS = 6


def main() -> None:
    warnings.simplefilter("error", RuntimeWarning)
    OUT.mkdir(parents=True, exist_ok=True)
    ev = load_evidence("data")
    arms = gather_arms(ev, [("oh2018", "baseline to 6 months")], "alsfrs_r_change", ("msc", "control"), ("mean", "sd", "n"))
    s1, n1, s2, n2 = (arms.column(c)[0] for c in ("sd1", "n1", "sd2", "n2"))
    sd_pooled = float(np.sqrt(((n1 - 1) * s1**2 + (n2 - 1) * s2**2) / (n1 + n2 - 2)))
    md = ev.statistic("oh2018", "alsfrs_r_change", "baseline to 6 months", "msc_minus_control", "md").value
    slope_msc = ev.statistic("oh2018", "alsfrs_r_slope_change", "lead-in vs follow-up up to 6 months", "msc", "mean").value
    slope_ctrl = ev.statistic("oh2018", "alsfrs_r_slope_change", "lead-in vs follow-up up to 6 months", "control", "mean").value
    cud = ev.statistic("cudkowicz2022", "alsfrs_r_change", "baseline to week 28", "msc_ntf_minus_placebo", "md").value
    oh = mean_difference(*([arms.column(c)[0]] for c in ("mean1", "sd1", "n1", "mean2", "sd2", "n2")))
    lower = float(oh.yi[0] - stats.norm.isf(0.025) * oh.sei[0])  # inverse-variance z limit, as the pub3 analysis
    effects = {
        "NurOwn phase 3 overall (0.36, press)": cud,
        f"Oh 2018 lower 95% limit ({lower:.2f})": lower,
        "Oh 2018 RCT estimate (3.38)": md,
        "pre-post implied, MSC arm (6 x 1.08)": MONTHS * slope_msc,
    }
    n_grid = np.arange(5, 401)
    curves = {name: [trial_power(d, sd_pooled, n) for n in n_grid] for name, d in effects.items()}
    sizes = {name: {"n_per_arm_80": trial_sample_size(d, sd_pooled, 0.8), "n_per_arm_90": trial_sample_size(d, sd_pooled, 0.9)} for name, d in effects.items()}
    ois = {name: optimal_information_size(d, sd_pooled).total for name, d in effects.items()}

    with style_context():
        fig, ax = plt.subplots(figsize=(7.2, 4.4))
        # line style and colour both differ, so the curves survive greyscale printing
        looks = [(":", "reference"), ("--", "common"), ("-", "random"), ("-.", "highlight")]
        for (name, power), (ls, role) in zip(curves.items(), looks):
            ax.plot(n_grid, power, ls, color=colour(role), lw=1.6, label=f"{name}: {sizes[name]['n_per_arm_80']} per arm for 80%")
        ax.axhline(0.8, color="0.6", lw=0.8)
        ax.axhline(0.9, color="0.6", lw=0.8, ls=":")
        ax.axvspan(min(n1, n2), max(n1, n2), color="0.85", lw=0)
        ax.annotate(f"Oh 2018: {n1:g} and {n2:g} analysed", (max(n1, n2), 0.03), xytext=(max(n1, n2) + 6, 0.03), fontsize=8, color="0.3")
        ax.set_xlim(0, 400)
        ax.set_ylim(0, 1.01)
        ax.set_xlabel("Participants per arm")
        ax.set_ylabel("Power (two-sided alpha 0.05)")
        ax.set_title(f"ALSFRS-R change at 6 months, SD {sd_pooled:.2f} (pooled, Oh 2018)", fontsize=10)
        ax.legend(loc="center right", bbox_to_anchor=(1.0, 0.48), fontsize=7.5, frameon=False)
        fig.tight_layout()
        save_figure(fig, OUT / "power_curves")
        plt.close(fig)

    write_numbers(OUT, {
        "sd_pooled": sd_pooled,
        "sd_derivation": f"sqrt(((n1-1) sd1^2 + (n2-1) sd2^2) / (n1+n2-2)) with Oh 2018 6-month arms: n {n1:g}/{n2:g}, sd {s1}/{s2}",
        "effects": effects,
        "pre_post_control_arm_slope_change_per_month": slope_ctrl,
        "pre_post_control_arm_implied_6mo": MONTHS * slope_ctrl,
        "sample_size": sizes,
        "optimal_information_size_total": ois,
        "information_so_far_participants_6mo": int(n1 + n2),
        "power_at_oh2018_size": {name: trial_power(d, sd_pooled, n2, ratio=n1 / n2) for name, d in effects.items()},
    })


if __name__ == "__main__":
    main()
