"""The figure of the definitive-trial power analysis: sample size by true difference, power by trial size."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from alsmeta.als.trial_power import ALPHA, MCID_SLOWING, POWER
from alsmeta.planning.power import trial_power, trial_sample_size
from alsmeta.plots.style import colour, style_context


def power_figure(
    effects: dict[str, float],
    sizes: dict[str, dict[str, int]],
    sd_pooled: float,
    sds: tuple[float, ...],
    oh: dict[str, float],
    mcid: float,
    n1: float,
    n2: float,
) -> Figure:
    """Two panels: (a) participants per arm needed vs the true difference, (b) power vs participants per arm.

    Panel a draws one curve per outcome SD in ``sds`` (the first is Oh
    2018's), with Oh 2018's estimate and 95% CI (``oh``: md, ci_low, ci_high)
    and the assumed ``mcid`` on the effect axis; panel b draws the power of
    each candidate effect in ``effects`` at outcome SD ``sd_pooled`` by
    participants per arm, marking the size for 80% power from ``sizes``, and
    shades Oh 2018's arm sizes ``n1`` (treated) and ``n2`` (control). Line
    styles, not only colours, tell the series apart.
    """
    with style_context():
        fig, (ax_a, ax_b) = plt.subplots(1, 2, figsize=(183 / 25.4, 4.6))
        deltas = np.linspace(0.5, 7.0, 131)
        looks = [("-", "random"), ("--", "common"), (":", "highlight")]
        for sd, (ls, role) in zip(sds, looks, strict=True):
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
        for (name, d), (ls, role, marker) in zip(effects.items(), looks_b, strict=True):
            power = [trial_power(d, sd_pooled, float(n), alpha=ALPHA) for n in n_grid]
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
