"""The figures of the public claims register: responder shares vs no treatment, slopes vs regression to the mean.

Both are drawn from results of :mod:`alsmeta.als.public_claims`: the
no-treatment responder distributions of :func:`simulate_public_claim_nulls`
and the reported lead-in vs post-treatment slopes of
:func:`reported_trajectories` beside the regression-to-the-mean curve of
:func:`rtm_curve`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from alsmeta.als.public_claims import PublicClaimNulls
from alsmeta.plots.style import BLUE, GREEN, GREY, INK, LIGHT_GREY, ORANGE, PURPLE, SKY_BLUE, VERMILLION

MM = 1 / 25.4

NULL_ROWS = (
    ("petrou2021_monthly", "Petrou 2021: >25% slower decline, injection 1 to 2", "monthly visits (primary)"),
    ("petrou2021_quarterly", "Petrou 2021: same", "quarterly two-point slopes"),
    ("petrou2021_monthly_sd_matched", "Petrou 2021: same", "noise matched to Oh 2018 control SD"),
    ("petrou2021_monthly_default_noise", "Petrou 2021: same", "simulator default noise 1.3"),
    ("oh2018_4mo", "Oh 2018: slope improved >= 50%, 4 months", "MSC arm; riluzole-only arm n = 27"),
    ("oh2018_6mo", "Oh 2018: slope improved >= 50%, 6 months", "MSC arm; riluzole-only arm n = 27"),
    (
        "cudkowicz2022",
        "NurOwn phase 3: slope improved >= 1.25/month",
        "MSC-NTF arm; placebo (n = 94) = calibration target",
    ),
)


def responder_figure(nulls: PublicClaimNulls) -> Figure:
    """Observed responder shares beside the share untreated simulated studies of the same size show."""
    fig = Figure(figsize=(183 * MM, 92 * MM), layout="constrained")
    ax = fig.add_subplot()
    labels = []
    for i, (key, title, detail) in enumerate(NULL_ROWS):
        r = nulls.responders[key]
        y = len(NULL_ROWS) - 1 - i
        shares = 100 * np.asarray(r.study_shares)
        q25, q50, q75 = np.quantile(shares, (0.25, 0.5, 0.75))
        ax.plot(
            [100 * r.share_low, 100 * r.share_high], [y, y], color=LIGHT_GREY, lw=7, solid_capstyle="butt", zorder=1
        )
        ax.plot([q25, q75], [y, y], color=GREY, lw=7, solid_capstyle="butt", zorder=2)
        ax.plot([q50, q50], [y - 0.22, y + 0.22], color=INK, lw=1.2, zorder=3)
        if np.isfinite(r.observed_share):
            ax.plot(100 * r.observed_share, y, "o", ms=7, color=VERMILLION, mec=INK, mew=0.6, zorder=4)
        if np.isfinite(r.control_share):
            ax.plot(100 * r.control_share, y, "s", ms=6.5, mfc="white", mec=BLUE, mew=1.6, zorder=4)
        labels.append(f"{title} (n = {r.n_patients})\n{detail}")
    ax.set_yticks(range(len(NULL_ROWS))[::-1], labels, fontsize=7.5)
    ax.set_xlim(0, 100)
    ax.set_ylim(-0.7, len(NULL_ROWS) - 0.3)
    ax.set_xlabel("Patients counted as responders (%)", fontsize=8.5)
    ax.tick_params(axis="x", labelsize=8)
    ax.grid(axis="x", color="0.9", lw=0.6)
    ax.set_axisbelow(True)
    ax.axhline(len(NULL_ROWS) - 4.5, color="0.75", lw=0.6)
    handles = [
        Patch(color=LIGHT_GREY, label="Untreated (simulated): 95% of studies"),
        Patch(color=GREY, label="Untreated (simulated): middle 50%, tick = median"),
        Line2D([], [], ls="", marker="o", ms=7, color=VERMILLION, mec=INK, mew=0.6, label="Treated, as reported"),
        Line2D(
            [],
            [],
            ls="",
            marker="s",
            ms=6.5,
            mfc="white",
            mec=BLUE,
            mew=1.6,
            label="Control or placebo arm, as reported",
        ),
    ]
    fig.legend(handles=handles, loc="outside lower center", ncol=2, fontsize=7.5, frameon=False)
    fig.suptitle(
        f"Share of 'responders': as reported, and in untreated patients simulated under the same design\n"
        f"(visit noise SD {nulls.measurement_sd:.2f} points, calibrated to the NurOwn phase 3 placebo arm)",
        fontsize=8.5,
    )
    return fig


STUDY_LOOKS = {  # (study, arm[, source host]) -> label, colour, marker
    ("petrou2016", "it"): ("Petrou 2016, intrathecal (n = 6)", ORANGE, "^"),
    ("petrou2016", "im_it"): ("Petrou 2016, IM + IT (n = 14)", GREEN, "D"),
    ("petrou2016", "it_and_im_it_regression", "www.neurologyadvisor.com"): (
        "Petrou 2016, IT and IM+IT pooled (neurologyadvisor)",
        PURPLE,
        "v",
    ),
    ("petrou2016", "it_and_im_it_regression", "neuronewsinternational.com"): (
        "Petrou 2016, IT and IM+IT pooled (neuronews)",
        PURPLE,
        "P",
    ),
    ("kim2009", "msc"): ("Kim 2009 (n = 22; no unit printed,\nread as points per 3 months)", SKY_BLUE, "o"),
}


def trajectory_figure(traj: pd.DataFrame, rtm: pd.DataFrame, mean_slope: float) -> Figure:
    """Reported lead-in vs post-treatment slopes, the no-change line and the regression-to-the-mean curve."""
    fig = Figure(figsize=(183 * MM, 120 * MM), layout="constrained")
    ax = fig.add_subplot()
    lim = (-3.0, 0.5)
    ax.plot(lim, lim, ls="--", color=GREY, lw=1.0, label="No change (post = pre)")
    ok = rtm["n_patients"] >= 300
    ax.plot(
        rtm.loc[ok, "pre_slope"],
        rtm.loc[ok, "post_slope_mean"],
        color=BLUE,
        lw=2.0,
        label="Untreated, simulated: mean post-slope of patients\nselected at that observed lead-in slope",
    )
    ax.axhline(mean_slope, color=BLUE, lw=0.8, ls=":", label=f"Mean untreated decline ({mean_slope:g} points/month)")
    seen = set()
    for r in traj.to_dict("records"):
        host = r["source_url"].split("/")[2]
        look = STUDY_LOOKS.get((r["study_id"], r["arm"], host)) or STUDY_LOOKS.get((r["study_id"], r["arm"]))
        label, col, marker = look or (f"{r['study_id']} {r['arm']}", INK, "o")
        secondary = r["status"] != "verified"
        text = label
        ax.plot([r["pre_slope"], r["pre_slope"]], [r["pre_slope"], r["post_slope"]], color=col, lw=1.0, alpha=0.8)
        ax.plot(
            r["pre_slope"],
            r["post_slope"],
            marker=marker,
            ms=7.5,
            ls="",
            color=col,
            mfc="white" if secondary else col,
            mec=col,
            mew=1.6,
            label=text + (" [secondary]" if secondary else "") if text not in seen else None,
        )
        seen.add(text)
    ax.set_xlim(*lim)
    ax.set_ylim(-2.5, 1.0)
    ax.set_xlabel("Lead-in (pre-treatment) ALSFRS-R slope, points/month", fontsize=8.5)
    ax.set_ylabel("Post-treatment slope, points/month", fontsize=8.5)
    ax.tick_params(labelsize=8)
    ax.grid(color="0.92", lw=0.6)
    ax.set_axisbelow(True)
    ax.legend(
        loc="upper left",
        bbox_to_anchor=(1.02, 1.0),
        fontsize=7,
        frameon=False,
        title="Filled = verified source, hollow = secondary",
        title_fontsize=7,
    )
    ax.set_title("ALSFRS-R slopes before and after cells as reported\n(vertical line = apparent slowing)", fontsize=8.5)
    return fig
