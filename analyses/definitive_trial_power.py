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
import numpy as np
from scipy import stats

from alsmeta.als.tables import gather_arms, load_evidence
from alsmeta.effects.measures import mean_difference
from alsmeta.io import figures_dir  # ALSMETA_FIGURES when run by alsmeta reproduce, else figures/
from alsmeta.io.reporting import figure_entry, write_numbers
from alsmeta.planning.power import optimal_information_size, sample_size_scenarios, trial_power, trial_sample_size
from alsmeta.plots.style import colour, save_figure, style_context

OUT = figures_dir() / "definitive_trial"
MONTHS = 6
ALPHA, POWER = 0.05, 0.8
ALTERNATIVE_SDS = (5.0, 6.0)
ATTRITIONS = (0.0, 0.2)
MCID_SLOWING = 0.20
MCID_SOURCE = (
    "Castrillo-Viguera C, Grasso DL, Simpson E, Shefner J, Cudkowicz ME. Clinical significance in the change of decline "
    "in ALSFRS-R. Amyotroph Lateral Scler 2010;11(1-2):178-180. doi:10.3109/17482960903093710 (survey of 65 NEALS "
    "members: 90% rated a 20% change in the ALSFRS-R slope at least somewhat clinically meaningful)"
)


def mcid_points(control_decline: float, slowing: float = MCID_SLOWING) -> float:
    """An assumed MCID in points: a ``slowing`` fraction of the control arm's decline over the same period."""
    return abs(control_decline) * slowing


def at_least_sentence(primary, scenarios) -> str:
    """The sentence a README prints for the definitive-trial size, with every assumption beside the number."""
    alt = [s for s in scenarios if s.sd in ALTERNATIVE_SDS and s.attrition == 0]
    drop = [s for s in scenarios if s.attrition > 0]
    return (
        f"To detect the lower end of Oh 2018's 95% CI for the 6-month ALSFRS-R difference ({primary.delta:.2f} points) "
        f"with {100 * primary.power:g}% power at two-sided alpha {primary.alpha:g}, a trial needs at least "
        f"{primary.n_analysed_per_arm} analysed patients per arm if the outcome SD is {primary.sd:.1f} (pooled from Oh 2018) "
        f"and no one drops out; with an SD of {alt[0].sd:g} to {alt[-1].sd:g} it needs {alt[0].n_analysed_per_arm} to "
        f"{alt[-1].n_analysed_per_arm} per arm, and with {100 * drop[0].attrition:g}% attrition "
        f"{min(s.n_enrolled_per_arm for s in drop)} to {max(s.n_enrolled_per_arm for s in drop)} enrolled per arm."
    )


def power_figure(effects, sizes, sd_pooled, sds, oh, mcid, n1, n2):
    """Two panels: (a) participants per arm needed vs the true difference, (b) power vs participants per arm."""
    with style_context():
        fig, (ax_a, ax_b) = plt.subplots(1, 2, figsize=(183 / 25.4, 4.6))
        deltas = np.linspace(0.5, 7.0, 131)
        looks = [("-", "random"), ("--", "common"), (":", "highlight")]
        for sd, (ls, role) in zip(sds, looks):
            need = [trial_sample_size(d, sd, POWER, ALPHA) for d in deltas]
            label = f"{sd:.1f} (Oh 2018)" if sd == sds[0] else f"{sd:.1f} (assumed)"
            ax_a.plot(deltas, need, ls, color=colour(role), lw=1.5, label=label, gid=f"sample-size:sd{sd:.1f}")
        ax_a.set_yscale("log")
        ax_a.set_ylim(3, 3000)
        ax_a.set_xlim(0.5, 7.0)
        ax_a.axvline(mcid, color="0.3", lw=1.0, ls="-.", gid="mcid")
        ax_a.annotate(
            f"MCID (assumed)\n{mcid:.1f} points",
            (mcid, 1400),
            xytext=(4, 0),
            textcoords="offset points",
            fontsize=7,
            color="0.2",
            va="center",
            ha="left",
        )
        y_oh = 5.0
        ax_a.errorbar(
            [oh["md"]],
            [y_oh],
            xerr=[[oh["md"] - oh["ci_low"]], [oh["ci_high"] - oh["md"]]],
            fmt="s",
            ms=4,
            color="black",
            capsize=2.5,
            lw=1.0,
            gid="oh2018-estimate",
        )
        ax_a.annotate(
            f"Oh 2018: {oh['md']:.2f} (95% CI {oh['ci_low']:.2f} to {oh['ci_high']:.2f})",
            (oh["ci_low"], y_oh),
            xytext=(8, 5),
            textcoords="offset points",
            ha="left",
            va="bottom",
            fontsize=7,
        )
        ax_a.set_xlabel("True difference at 6 months (ALSFRS-R points)")
        ax_a.set_ylabel(f"Participants per arm for {100 * POWER:g}% power")
        ax_a.legend(
            loc="upper right", fontsize=7, title="Outcome SD (points)", title_fontsize=7, bbox_to_anchor=(1.0, 0.84)
        )
        ax_a.set_title("a  Sample size needed", loc="left", fontsize=9, fontweight="bold")

        n_grid = np.arange(5, 501)
        looks_b = [(":", "reference", "o"), ("--", "common", "s"), ("-", "random", "D"), ("-.", "highlight", "^")]
        for (name, d), (ls, role, marker) in zip(effects.items(), looks_b):
            power = [trial_power(d, sd_pooled, n, alpha=ALPHA) for n in n_grid]
            n80 = sizes[name]["n_per_arm_80"]
            short = name.split(" (")[0]
            label = f"{d:.2f}, {short}: {n80}" + (" (off scale)" if n80 > 500 else "")
            ax_b.plot(n_grid, power, ls, color=colour(role), lw=1.4, label=label, gid=f"power:{name}")
            if n80 <= 500:
                ax_b.plot(
                    [n80],
                    [trial_power(d, sd_pooled, n80, alpha=ALPHA)],
                    marker=marker,
                    color=colour(role),
                    ms=4,
                    ls="none",
                    gid=f"n80:{name}",
                )
        ax_b.axhline(POWER, color="0.6", lw=0.8)
        ax_b.axvspan(min(n1, n2), max(n1, n2), color="0.85", lw=0)
        ax_b.text(
            max(n1, n2) + 12,
            0.6,
            f"Oh 2018 size ({n2:g}/{n1:g})",
            rotation=90,
            fontsize=7,
            color="0.3",
            ha="center",
            va="center",
        )
        ax_b.set_xlim(0, 500)
        ax_b.set_ylim(0, 1.01)
        ax_b.set_xlabel("Participants per arm (analysed)")
        ax_b.set_ylabel("Power (probability of P < 0.05)")
        ax_b.legend(
            loc="upper center",
            fontsize=7,
            title=f"True difference (points), SD {sd_pooled:.1f}: n per arm for 80%",
            title_fontsize=7,
            bbox_to_anchor=(0.5, -0.19),
            alignment="left",
        )
        ax_b.set_title("b  Power for a given size", loc="left", fontsize=9, fontweight="bold")
        fig.text(
            0.02,
            0.02,
            f"Assumptions: two-sided alpha {ALPHA:g}; exact two-sample t-test;\n"
            f"1:1 allocation; no attrition (with 20% attrition enrol n / 0.8).\n"
            f"SD {sd_pooled:.1f} = pooled SD of the 6-month change in Oh 2018 (panel b).\n"
            f"MCID (an assumption): {100 * MCID_SLOWING:g}% slowing of decline (Castrillo-\n"
            f"Viguera et al. 2010) x the {mcid / MCID_SLOWING:.2f}-point 6-month decline of the\n"
            f"Oh 2018 control arm = {mcid:.2f} points.",
            fontsize=7,
            va="bottom",
            ha="left",
            color="0.2",
            linespacing=1.3,
        )
        fig.subplots_adjust(left=0.09, right=0.98, top=0.93, bottom=0.40, wspace=0.32)
    return fig


def pre_specified_inputs(ev) -> dict[str, float]:
    """The inputs fixed before any monitoring, from Oh 2018's 6-month ALSFRS-R arms (data/ via the library).

    Returns the pooled SD of the 6-month change (``sd_pooled``), the
    inverse-variance MD and its z 95% limits (``md_iv``, ``ci_low``,
    ``ci_high``), the control arm's 6-month decline and the assumed MCID
    (``mcid``: :data:`MCID_SLOWING` of that decline), and the arm sizes. The
    trial sequential analysis of the living update uses the same numbers, so
    its required information size is this power calculation's.
    """
    arms = gather_arms(
        ev, [("oh2018", "baseline to 6 months")], "alsfrs_r_change", ("msc", "control"), ("mean", "sd", "n")
    )
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


def main() -> None:
    warnings.simplefilter("error", RuntimeWarning)
    OUT.mkdir(parents=True, exist_ok=True)
    ev = load_evidence("data")
    inputs = pre_specified_inputs(ev)
    s1, n1, s2, n2 = (inputs[k] for k in ("sd1", "n1", "sd2", "n2"))
    control_decline = inputs["control_decline"]
    sd_pooled = inputs["sd_pooled"]
    md = ev.statistic("oh2018", "alsfrs_r_change", "baseline to 6 months", "msc_minus_control", "md").value
    slope_msc = ev.statistic(
        "oh2018", "alsfrs_r_slope_change", "lead-in vs follow-up up to 6 months", "msc", "mean"
    ).value
    slope_ctrl = ev.statistic(
        "oh2018", "alsfrs_r_slope_change", "lead-in vs follow-up up to 6 months", "control", "mean"
    ).value
    cud = ev.statistic("cudkowicz2022", "alsfrs_r_change", "baseline to week 28", "msc_ntf_minus_placebo", "md").value
    lower, upper = inputs["ci_low"], inputs["ci_high"]
    effects = {
        "NurOwn phase 3 overall (0.36, press)": cud,
        f"Oh 2018 lower 95% limit ({lower:.2f})": lower,
        "Oh 2018 RCT estimate (3.38)": md,
        "pre-post implied, MSC arm (6 x 1.08)": MONTHS * slope_msc,
    }
    sizes = {
        name: {
            "n_per_arm_80": trial_sample_size(d, sd_pooled, 0.8),
            "n_per_arm_90": trial_sample_size(d, sd_pooled, 0.9),
        }
        for name, d in effects.items()
    }
    ois = {name: optimal_information_size(d, sd_pooled).total for name, d in effects.items()}
    mcid = inputs["mcid"]
    sds = (sd_pooled, *ALTERNATIVE_SDS)
    scenarios = sample_size_scenarios(lower, sds, ATTRITIONS, power=POWER, alpha=ALPHA)
    primary = scenarios[0]
    fig = power_figure(
        effects, sizes, sd_pooled, sds, {"md": inputs["md_iv"], "ci_low": lower, "ci_high": upper}, mcid, n1, n2
    )
    with style_context():
        save_figure(fig, OUT / "power_curves")
    plt.close(fig)

    sd_sources = {sd_pooled: "pooled SD of the 6-month ALSFRS-R change, Oh 2018 (derived)"}
    write_numbers(
        OUT,
        {
            "figures": {
                "power_curves": figure_entry(
                    "How many patients per arm would a definitive trial of ALSFRS-R change at 6 months need, for each plausible true difference?",
                    f"(a) Participants per arm for 80% power by true difference, for outcome SD {sd_pooled:.1f} (Oh 2018) and "
                    f"{ALTERNATIVE_SDS[0]:g}/{ALTERNATIVE_SDS[1]:g} (assumed), with Oh 2018's estimate, its 95% CI and the assumed "
                    f"MCID ({mcid:.2f} points) marked; (b) power by size for four candidate differences; two-sided alpha {ALPHA:g}, "
                    f"no attrition.",
                    script=Path(__file__).name,
                )
            },
            "sd_pooled": sd_pooled,
            "sd_derivation": f"sqrt(((n1-1) sd1^2 + (n2-1) sd2^2) / (n1+n2-2)) with Oh 2018 6-month arms: n {n1:g}/{n2:g}, sd {s1}/{s2}",
            "effects": effects,
            "pre_post_control_arm_slope_change_per_month": slope_ctrl,
            "pre_post_control_arm_implied_6mo": MONTHS * slope_ctrl,
            "sample_size": sizes,
            "optimal_information_size_total": ois,
            "information_so_far_participants_6mo": int(n1 + n2),
            "power_at_oh2018_size": {name: trial_power(d, sd_pooled, n2, ratio=n1 / n2) for name, d in effects.items()},
            "at_least_n_per_arm": {
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
                        "delta_source": "lower 95% limit of Oh 2018's 6-month ALSFRS-R MD (inverse-variance, z)",
                        "n_analysed_per_arm": sc.n_analysed_per_arm,
                        "n_enrolled_per_arm": sc.n_enrolled_per_arm,
                        "assumptions": sc.assumptions(),
                    }
                    for sc in scenarios
                ],
                "readme_sentence": at_least_sentence(primary, scenarios),
            },
            "mcid_assumed": {
                "points_6mo": mcid,
                "status": "assumption (derived)",
                "derivation": (
                    f"{100 * MCID_SLOWING:g}% slowing x |{control_decline}| points (Oh 2018 control arm, change "
                    f"baseline to 6 months) = {mcid:.2f}"
                ),
                "source": MCID_SOURCE,
                "n_per_arm_80_at_sd_pooled": trial_sample_size(mcid, sd_pooled, POWER, ALPHA),
            },
        },
    )


if __name__ == "__main__":
    main()
