"""Figures of the 2021 reconstruction: ALS-specific drawing glue over alsmeta.plots.

Each function draws results computed elsewhere in :mod:`alsmeta.als.msc2021` and returns the figure
(183 or 89 mm wide, text >= 7 pt); :func:`draw_figures` makes them all and the script saves them.
"""

from __future__ import annotations

import math
import textwrap
import warnings
from collections.abc import Iterable
from typing import Any, cast

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from scipy import stats

import alsmeta as am
from alsmeta.als.claims_check import (
    CONTRADICTED,
    NOT_ASSESSABLE,
    REPRODUCED,
)
from alsmeta.als.msc2021.cohorts import PUBLISHED_COUNTS
from alsmeta.als.msc2021.effects import Effect
from alsmeta.als.msc2021.pooling import ci_text, sweep_agreement
from alsmeta.als.msc2021.protocol import (
    ALSFRS_THRESHOLDS,
    FAVOURS,
    IT_MSC,
    NTF,
    NULL,
    OUTCOME_NAMES,
    PRIMARY_METHOD,
    PRIMARY_TAU_SCALE,
    PRIMARY_TEST,
    PRIMARY_TEXT,
    UNITS,
)
from alsmeta.als.msc2021.reconstruction import Reconstruction, null_pairs
from alsmeta.als.msc2021.transience import Transience
from alsmeta.plots.availability import availability_map
from alsmeta.plots.forest import forest_plot
from alsmeta.plots.forest_layout import MARGIN as FOREST_MARGIN
from alsmeta.plots.forest_layout import PRINT_WIDTH, wrap_text
from alsmeta.plots.style import (
    BLUE,
    GREEN,
    GREY,
    INK,
    LIGHT_GREY,
    ORANGE,
    SKY_BLUE,
    VERMILLION,
    style_context,
)

MSC2021_FIGURES = {
    "forest_alsfrs_r_first_follow_up": (
        "Does ALSFRS-R progression slow after intrathecal MSC at the first follow-up, and does the untreated arm show "
        "the same?",
        "Within-patient slope change per study (95% z intervals); each subgroup's diamond and printed CI are the "
        "primary analysis, "
        "REML + HKSJ (t with k - 1 df); no prediction interval with k = 2.",
    ),
    "forest_alsfrs_r_6_months": (
        "Does the slowing of ALSFRS-R progression persist at 6 months?",
        "Within-patient slope change per study at 6 months; MSC-NTF (Petrou 2016) rests on news and press coverage "
        "only; "
        "single-study subgroups have no subtotal.",
    ),
    "forest_fvc": (
        "Did FVC decline faster after cell treatment, as the 2021 paper claims?",
        "Within-patient FVC % predicted slope change at each study's own follow-up; Petrou 2016 is a secondary source.",
    ),
    "sweep_estimator_by_test": (
        "Does the pooled result depend on the tau-squared estimator and the test?",
        "Every estimator x test combination for the two k = 2 pools; repeated analyses are greyed so that distinct "
        "analyses are "
        "counted once; the primary analysis is outlined.",
    ),
    "sensitivity_data_choices": (
        "Do the data choices of the rebuild (secondary sources, sign, unit, p-value conversion) change the pooled "
        "result?",
        "Each data specification pooled with the primary analysis (REML + HKSJ) and with REML z; arrows mark "
        "intervals beyond the axis.",
    ),
    "bayes_posteriors": (
        "How probable is any or a clinically relevant slowing under a Bayesian random-effects model, whatever the "
        "prior on tau?",
        "Posterior of the mean slope change under half-normal priors on tau (flat prior on the mean; Röver 2020), and "
        "posterior "
        "probabilities against the prior scale; the untreated arm analysed the same way.",
    ),
    "empirical_null": (
        "Does the within-patient design find 'benefit' without cells?",
        "Oh 2018's MSC arm, its untreated (riluzole-only) arm analysed the same way, and their randomised difference "
        "(95% z intervals).",
    ),
    "claims": (
        "Which published claims of the 2021 meta-analysis does this project's rebuild reproduce?",
        "Verdict of each claim and component from the pre-specified primary analysis; agreement across alternatives "
        "counted in "
        "distinct analyses, for the rebuild, not the 2021 paper.",
    ),
    "transience": (
        "Is the MSC benefit in Oh 2018 transient, i.e. does the between-arm gain accrue more slowly after month 4?",
        "Between-arm ALSFRS-R gain per month in months 0-4 and 4-6 and their difference, over the range of the "
        "unreported "
        "correlation r of the 4- and 6-month changes (derived from Oh 2018 Table 3).",
    ),
    "availability": (
        "Which candidate studies of the 2021 meta-analysis have usable numbers, by outcome and follow-up window, and "
        "how sure is each?",
        "Status of the best evidence in data/ per study, outcome and window (verified, secondary, not retrievable, "
        "nothing retrieved), "
        "with what it is (numbers, p only, words only).",
    ),
}
"""Every figure the script writes: the question it answers and its one-line caption (figures/README.md)."""

FOREST_FONT = 8.0
"""Body text of the forests (footnotes 7 pt): the table and a readable panel fit 183 mm."""


def _wrap_notes(notes: list[str]) -> list[str]:
    """Footnotes wrapped to the 183 mm forest width, continuation lines indented so each note reads as one."""
    room = 0.95 * (PRINT_WIDTH - 2 * FOREST_MARGIN)
    size = FOREST_FONT - 1.0
    return [("  " if j else "") + line for n in notes for j, line in enumerate(wrap_text(n, room, size))]


def _forest_xlim(effects: list[Effect]) -> tuple[float, float]:
    """Symmetric limits around 0 that show every study interval (a wide HKSJ subtotal is clipped with an arrow)."""
    reach = max(max(abs(lo), abs(hi)) for e in effects for lo, hi in [e.ci])
    step = 0.5 if reach <= 3 else 1.0 if reach <= 6 else 2.0
    edge = math.ceil(reach * 1.1 / step) * step
    return (-edge, edge)


DOUBLE_COLUMN_IN = 183 / 25.4  # GUIDE figure standard: 183 mm (double column) ...

SINGLE_COLUMN_IN = 89 / 25.4  # ... or 89 mm (single column)


def forest_figure(f: am.PooledResult, effects: list[Effect], outcome: str, title: str, notes: list[str]) -> Figure:
    """Forest by subgroup; every subtotal diamond and its printed CI are the primary analysis (REML + HKSJ).

    Parameters
    ----------
    f
        The fit drawn (:func:`alsmeta.als.msc2021.pooling.forest_fit`).
    effects
        The study rows, in order; each is drawn in its subgroup (``Effect.group``).
    outcome
        ``"alsfrs_r"`` or ``"fvc"`` (axis label and unit).
    title
        Figure title.
    notes
        The forest's footnotes (:func:`alsmeta.als.msc2021.pooling.forest_notes`), printed after the two
        general ones.

    Returns
    -------
    matplotlib.figure.Figure
        The forest at 183 mm (:func:`alsmeta.plots.forest.forest_plot`); subtotals pooled with
        REML + HKSJ (Hartung & Knapp 2001).
    """
    order = [IT_MSC, NTF, NULL]
    groups = [e.group for e in effects]
    with warnings.catch_warnings():
        warnings.simplefilter(
            "ignore", am.AlsmetaWarning
        )  # single-study subgroups: HKSJ reduces to z (said in the notes)
        fig = forest_plot(
            f,
            subgroups=groups,
            subgroup_order=[g for g in order if g in groups],
            overall=False,
            columns={"n": [e.n for e in effects], "SE from": [e.se_from for e in effects]},
            weights=False,
            effect_label="Change",
            xlabel=f"Change in {OUTCOME_NAMES[outcome]} slope, post minus pre ({UNITS[outcome]})",
            favours=FAVOURS,
            xlim=_forest_xlim(effects),
            title=title,
            notes=_wrap_notes(
                [
                    "Within-patient change in progression rate (post-treatment minus lead-in slope); positive = "
                    "slower decline after. "
                    "Study rows: 95% z intervals.",
                    "Subgroups pooled separately with the primary analysis, REML + HKSJ (t with k - 1 df; a single "
                    "study keeps its z interval). No test between subgroups: they differ in study, follow-up and "
                    "source, so a difference would not be the cells' effect; the randomised treated-vs-untreated "
                    "comparison is Oh 2018's own (empirical_null.png).",
                    *notes,
                ]
            ),
            panel_width=1.8,
            subtotal_test=True,
            subgroup_test=False,
            font_size=FOREST_FONT,
        )
    return fig


def sweep_figure(panels: list[tuple[str, pd.DataFrame, str, str]]) -> Figure:
    """Estimator x test grid (183 mm): each cell the pooled estimate and CI.

    Green and bold where the CI excludes 0 in the claimed direction; cells that repeat an earlier cell's
    analysis in grey italics, so the distinct analyses can be counted; the primary analysis outlined.

    Parameters
    ----------
    panels
        (title, sweep, unit, claimed direction) per panel; sweeps from :func:`alsmeta.estimator_sweep`.
    """
    methods = list(dict.fromkeys(panels[0][1]["method"]))
    tests = ["z", "t", "knha", "adhoc"]
    test_names = {"z": "z", "t": "t", "knha": "HKSJ", "adhoc": "HKSJ\nad hoc"}
    label_w, gap, cell_h = 0.42, 0.16, 0.3
    width = DOUBLE_COLUMN_IN
    cell_w = (width - label_w - 0.05 - gap * (len(panels) - 1)) / (len(tests) * len(panels))
    with style_context():
        grid_h, top, bottom = (len(methods) + 1) * cell_h, 0.62, 0.72
        height = grid_h + top + bottom
        fig = Figure(figsize=(width, height))
        for pi, (title, frame, unit, claimed) in enumerate(panels):
            left = (label_w + pi * (len(tests) * cell_w + gap)) / width
            ax = fig.add_axes((left, bottom / height, len(tests) * cell_w / width, grid_h / height))
            ax.set_xlim(0, len(tests))
            ax.set_ylim(len(methods) + 1, 0)
            ax.axis("off")
            a = sweep_agreement(frame, claimed)
            ax.set_title(
                f"{title}\n{a['combinations']} combinations = {a['distinct']} distinct analyses;\n"
                f"95% CI {'> 0' if claimed == 'increase' else '< 0'} in {a['holds_distinct']} of the {a['distinct']} "
                "distinct analyses",
                fontsize=7.5,
                loc="left",
                pad=4,
                linespacing=1.2,
            )
            for j, t in enumerate(tests):
                ax.text(
                    j + 0.5,
                    0.5,
                    test_names[t],
                    ha="center",
                    va="center",
                    fontweight="bold",
                    fontsize=7,
                    linespacing=1.0,
                )
            seen: set[tuple[float, ...]] = set()
            for i, m in enumerate(methods):
                if pi == 0:
                    ax.text(-0.06, i + 1.5, m, ha="right", va="center", fontsize=7)
                for j, t in enumerate(tests):
                    r = frame[(frame.method == m) & (frame.test == t)].iloc[0]
                    key = tuple(float(f"{v:.9e}") for v in (r.estimate, r.ci_low, r.ci_high))
                    repeat = key in seen
                    seen.add(key)
                    excl = (r.ci_low > 0) if claimed == "increase" else (r.ci_high < 0)
                    ax.add_patch(_rect(j, i + 1, "#d4efe4" if excl else "#f2f2f2"))
                    if (m, t) == (PRIMARY_METHOD, PRIMARY_TEST):
                        ax.add_patch(_rect(j, i + 1, "none", edge=INK, lw=1.4))
                    ax.text(
                        j + 0.5,
                        i + 1.5,
                        f"{r.estimate:.2f}\n[{r.ci_low:.2f}, {r.ci_high:.2f}]",
                        ha="center",
                        va="center",
                        fontsize=7,
                        linespacing=1.0,
                        fontweight="bold" if excl else "normal",
                        fontstyle="italic" if repeat else "normal",
                        color=GREY if repeat else INK,
                    )
            ax.text(0, len(methods) + 1.25, unit, ha="left", va="top", fontsize=7, color=GREY)
        fig.text(
            0.02 / width,
            0.06 / height,
            "Green, bold: 95% CI excludes no change in the claimed direction. Grey italics: the same analysis as an "
            "earlier cell "
            "(counted once).\nRows: tau\u00b2 estimator (CE = common effect); columns: test. k = 2 in both panels, so "
            "t-based "
            "intervals use 1 df.\nOutlined: the pre-specified primary analysis (REML, HKSJ).",
            fontsize=7,
            color=GREY,
            ha="left",
            va="bottom",
            linespacing=1.2,
        )
        return fig


def _rect(x: float, y: float, face: str, edge: str = "white", lw: float = 0.5) -> Any:
    """A cell background of the sweep grid."""
    from matplotlib.patches import Rectangle

    return Rectangle((x + 0.03, y + 0.05), 0.94, 0.9, facecolor=face, edgecolor=edge, linewidth=lw)


def intervals_figure(
    panels: list[tuple[str, str, list[tuple[str, am.PooledResult, am.PooledResult, bool]]]], title: str
) -> Figure:
    """Data-choice sensitivity (183 mm): for each specification the REML z and REML HKSJ intervals.

    Parameters
    ----------
    panels
        (title, outcome, specifications) per panel (:func:`alsmeta.als.msc2021.pooling.data_choice_panels`).
    title
        Figure title.
    """
    rows_total = sum(len(rows) + 1.6 for _, _, rows in panels)
    with style_context():
        fig = Figure(figsize=(DOUBLE_COLUMN_IN, 1.3 + 0.36 * rows_total), layout="constrained")
        heights = [len(rows) + 0.6 for _, _, rows in panels]
        grid = fig.subplots(
            len(panels), 2, gridspec_kw={"height_ratios": heights, "width_ratios": [2.0, 1.2]}, squeeze=False
        )
        for (ax, tx), (ptitle, outcome, rows) in zip(grid, panels, strict=True):
            lim = {"alsfrs_r": (-2.0, 3.0), "fvc": (-8.0, 10.0)}[outcome]
            for i, (_label, fz, fh, _primary) in enumerate(rows):
                for off, f, col, mk, name in ((-0.17, fz, INK, "o", "z"), (0.17, fh, BLUE, "s", "HKSJ")):
                    y = i + off
                    lo, hi = max(f.ci_low, lim[0]), min(f.ci_high, lim[1])
                    ax.plot([lo, hi], [y, y], color=col, lw=1.3)
                    ax.plot([f.estimate], [y], marker=mk, color=col, ms=4.5, mfc=col if mk == "o" else "white")
                    if f.ci_low < lim[0]:
                        ax.plot([lim[0]], [y], marker="<", color=col, ms=4)
                    if f.ci_high > lim[1]:
                        ax.plot([lim[1]], [y], marker=">", color=col, ms=4)
                    note = " (= z)" if f.k == 1 and name == "HKSJ" else ""
                    tx.text(
                        0.0,
                        y,
                        f"{name}: {ci_text(f.estimate, f.ci_low, f.ci_high)}{note}",
                        va="center",
                        fontsize=7,
                        color=col,
                    )
            for a in (ax, tx):
                a.set_ylim(len(rows) - 0.5, -0.6)
            tx.set_xlim(0, 1)
            tx.axis("off")
            ax.set_yticks(range(len(rows)))
            ax.set_yticklabels([("\u25b6 " if r[3] else "") + r[0] for r in rows], fontsize=7)
            ax.set_xlim(*lim)
            ax.axvline(0, color=GREY, lw=0.8)
            ax.set_title(ptitle, fontsize=8, loc="left")
            ax.tick_params(labelsize=7)
            ax.set_xlabel(f"Slope change, post minus pre ({UNITS[outcome]})", fontsize=7.5)
        handles = [
            Line2D([], [], color=INK, marker="o", lw=1.3, label="REML z (alternative)"),
            Line2D([], [], color=BLUE, marker="s", mfc="white", lw=1.3, label="HKSJ (primary)"),
        ]
        grid[0][1].legend(handles=handles, loc="lower left", bbox_to_anchor=(0.0, 1.0), fontsize=7)
        fig.suptitle(title, fontsize=9, x=0.01, ha="left")
        fig.supxlabel(
            "\n".join(
                textwrap.wrap(
                    "\u25b6 = primary data set; the primary analysis is REML + HKSJ (blue, open squares), z (black, "
                    "dots) is the alternative. Arrows: the interval "
                    "continues beyond the axis (numbers on the right). HKSJ with k = 1 is the z interval (= z); with "
                    "k = 2 it uses t with 1 df, and "
                    "with two near-identical estimates it can be narrower than z (the 'adhoc' variant keeps it at "
                    "least as wide). These are "
                    "properties of this project's rebuild, not of the 2021 paper.",
                    150,
                )
            ),
            x=0.01,
            ha="left",
            fontsize=7,
            color=GREY,
        )
        return fig


def transience_figure(t: Transience) -> Figure:
    """Oh 2018 between-arm ALSFRS-R gain per month by window (89 mm).

    The 4-6 month window is drawn under the range of the unreported within-patient correlation r.
    """
    early = t.widest.windows[0]
    derived = (
        f"r = {max(t.r_derived):.2f}"
        if f"{t.r_derived[0]:.2f}" == f"{t.r_derived[1]:.2f}"
        else f"r = {t.r_derived[0]:.2f}/{t.r_derived[1]:.2f}"
    )
    styles = (
        ("r = 0", t.widest, VERMILLION, "s", "-"),
        (f"{derived}*", t.derived, BLUE, "D", "--"),
        ("r = 1", t.narrowest, SKY_BLUE, "^", ":"),
    )
    rows = [("Months 0-4", early, INK, "o", "-")]
    rows += [(f"Months 4-6, {name}", a.windows[1], col, mk, ls) for name, a, col, mk, ls in styles]
    rows += [(f"Slowing, {name}", a.slowing, col, mk, ls) for name, a, col, mk, ls in styles]
    width = SINGLE_COLUMN_IN
    row_h, top, bottom = 0.24, 0.36, 1.45
    height = top + len(rows) * row_h + bottom
    with style_context():
        fig = Figure(figsize=(width, height))
        ax = fig.add_axes((1.3 / width, bottom / height, (width - 1.42) / width, len(rows) * row_h / height))
        for i, (label, w, col, mk, ls) in enumerate(rows):
            ax.plot([w.ci_low, w.ci_high], [i, i], color=col, lw=1.3, ls=ls)
            ax.plot([w.estimate], [i], marker=mk, color=col, ms=4.5, mfc=col, ls="none")
            ax.text(-0.03, i, label, transform=ax.get_yaxis_transform(), ha="right", va="center", fontsize=7)
        ax.axvline(0, color=GREY, lw=0.8)
        ax.axvline(early.estimate, color=GREY, lw=0.8, ls=(0, (1, 2)))
        ax.axhline(3.5, color=LIGHT_GREY, lw=0.5)
        ax.axhline(0.5, color=LIGHT_GREY, lw=0.5)
        ax.set_ylim(len(rows) - 0.5, -0.5)
        ax.set_yticks([])
        ax.spines["left"].set_visible(False)
        ax.tick_params(labelsize=7)
        ax.set_xlabel("MSC minus control (points/month)", fontsize=7)
        fig.text(
            0.04 / width,
            1 - 0.06 / height,
            "Is the benefit transient? Oh 2018, gain per window",
            fontsize=8,
            fontweight="bold",
            va="top",
        )
        fig.text(
            0.04 / width,
            0.04 / height,
            "\n".join(
                textwrap.wrap(
                    "ALSFRS-R gain per month, 95% intervals. Dotted line: the 0-4 month rate. Slowing = 0-4 minus "
                    "4-6 month rate. "
                    f"{t.widest.differences[0]:.2f} of the {t.widest.differences[1]:.2f}-point 6-month difference is "
                    "there at 4 months. "
                    "Months 4-6 need the unreported correlation r of the 4- and 6-month changes; r = 0 gives the "
                    "widest interval in [0, 1]; "
                    "*\u00a0r\u00a0derived from linear decline + visit error, calibrated to each arm's SDs. Derived "
                    "from Oh 2018 Table 3.",
                    60,
                )
            ),
            fontsize=7,
            color=GREY,
            va="bottom",
            linespacing=1.2,
        )
        return fig


TAU_LINESTYLES = [(0, (1, 1.5)), (0, (4, 1.5)), "-", (0, (7, 2))]  # line style also separates the priors (grayscale)


def bayes_figure(curves: dict[str, Any]) -> Figure:
    """Bayesian random effects (183 mm): posteriors of mu and posterior probabilities against the prior on tau.

    Normal-normal model with a flat prior on mu and half-normal priors on tau (Röver 2020); the untreated arm
    analysed the same way.

    Parameters
    ----------
    curves
        Per outcome: title, the treated fits by prior scale, the untreated fit(s) (and for FVC the pool with
        the secondary source).
    """
    colours = [SKY_BLUE, BLUE, INK, VERMILLION]
    with style_context():
        fig = Figure(figsize=(DOUBLE_COLUMN_IN, 5.9), layout="constrained")
        (a, b), (c, d) = fig.subplots(2, 2)
        for ax, key, xlab in (
            (a, "alsfrs_r", "\u03bc: ALSFRS-R slope change (points/month)"),
            (b, "fvc", "\u03bc: FVC slope change (% predicted/month)"),
        ):
            cur = curves[key]
            peak = 0.0
            for col, ls, (scale, res) in zip(colours, TAU_LINESTYLES, cur["treated"].items(), strict=True):
                ax.plot(res.mu_grid, res.mu_density, color=col, lw=1.3, ls=ls, label=f"treated, half-normal({scale:g})")
                peak = max(peak, float(np.max(res.mu_density)))
            null = cur["null"]
            ax.plot(
                null.mu_grid,
                null.mu_density,
                color=GREY,
                lw=1.2,
                ls=(0, (6, 2, 1, 2)),
                label=f"untreated arm, half-normal({null.tau_prior_scale:g})",
            )
            ax.axvline(0, color=GREY, lw=0.8, ymax=0.55)  # reference lines stop below the legend
            if key == "alsfrs_r":
                for i, t in enumerate(ALSFRS_THRESHOLDS[1:]):
                    ax.axvline(
                        t,
                        color=GREY,
                        lw=0.8,
                        ls=":",
                        zorder=0,
                        ymax=0.55,
                        label=f"clinically relevant slowing: {', '.join(f'{x:g}' for x in ALSFRS_THRESHOLDS[1:])}"
                        if i == 0
                        else None,
                    )
            ax.set_xlim(*{"alsfrs_r": (-2.0, 3.0), "fvc": (-10.0, 8.0)}[key])
            ax.set_xlabel(xlab, fontsize=7.5)
            ax.set_ylabel("posterior density", fontsize=7.5)
            ax.tick_params(labelsize=7)
            ax.set_title(cur["title"], fontsize=7.5, loc="left")
            ax.legend(
                fontsize=7,
                loc="upper right" if key == "alsfrs_r" else "upper left",
                frameon=True,
                framealpha=1.0,
                edgecolor="none",
                facecolor="white",
            )  # reference lines pass behind the legend, not through its text
            ax.set_ylim(0, peak * 2.0)  # headroom for the legend
        cur = curves["alsfrs_r"]
        _probability_panel(
            c,
            list(cur["treated"]),
            [
                *(
                    (f"P(\u03bc > {t:g})", col, mk, "-", {s: r.prob_above(t) for s, r in cur["treated"].items()})
                    for t, col, mk in zip(ALSFRS_THRESHOLDS, (INK, BLUE, SKY_BLUE), ("o", "s", "^"), strict=True)
                ),
                (
                    "untreated arm: P(\u03bc > 0)",
                    GREY,
                    "o",
                    "--",
                    {s: r.prob_above(0.0) for s, r in cur["null_by_scale"].items()},
                ),
            ],
            "points/month",
            "ALSFRS-R: probability of any / clinically relevant slowing",
        )
        cur = curves["fvc"]
        _probability_panel(
            d,
            list(cur["treated"]),
            [
                (
                    "treated (primary set): P(\u03bc < 0)",
                    INK,
                    "o",
                    "-",
                    {s: r.prob_below(0.0) for s, r in cur["treated"].items()},
                ),
                (
                    "treated, with Petrou 2016 (secondary): P(\u03bc < 0)",
                    ORANGE,
                    "s",
                    "-",
                    {s: r.prob_below(0.0) for s, r in cur["with_secondary"].items()},
                ),
                (
                    "untreated arm: P(\u03bc < 0)",
                    GREY,
                    "o",
                    "--",
                    {s: r.prob_below(0.0) for s, r in cur["null_by_scale"].items()},
                ),
            ],
            "% predicted/month",
            "FVC: probability that progression worsened after",
        )
        fig.suptitle(
            "This project's rebuild, Bayesian random effects (normal-normal model, flat prior on \u03bc; Röver 2020)",
            fontsize=9,
            x=0.01,
            ha="left",
        )
        return fig


def _probability_panel(
    ax: Any, scales: list[float], series: list[tuple[str, str, str, str, dict[float, float]]], unit: str, title: str
) -> None:
    """Posterior probabilities against the scale of the half-normal prior on tau."""
    for label, col, marker, style, probs in series:
        ax.plot(scales, [probs[s] for s in scales], marker=marker, color=col, ls=style, label=label)
    _log_ticks(ax, scales)
    ax.set_ylim(0, 1.05)  # a probability of 1 keeps its whole marker
    ax.set_xlabel(f"scale of the half-normal prior on \u03c4 ({unit})", fontsize=7.5)
    ax.set_ylabel("posterior probability", fontsize=7.5)
    ax.set_title(title, fontsize=7.5, loc="left")
    ax.tick_params(labelsize=7)
    ax.legend(fontsize=7, loc="lower left")


def _log_ticks(ax: Any, values: list[float]) -> None:
    """A log x axis with ticks at exactly ``values``."""
    from matplotlib.ticker import FixedFormatter, FixedLocator, NullLocator

    ax.set_xscale("log")
    ax.xaxis.set_major_locator(FixedLocator(values))
    ax.xaxis.set_major_formatter(FixedFormatter([f"{v:g}" for v in values]))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xlim(values[0] / 1.25, values[-1] * 1.25)


def null_figure(pairs: list[tuple[str, Effect, Effect]]) -> Figure:
    """The empirical null (183 mm): treated arm, untreated arm of the same trial, and their difference.

    Parameters
    ----------
    pairs
        (period, MSC arm, control arm) per row block (:func:`alsmeta.als.msc2021.reconstruction.null_pairs`).
    """
    z = stats.norm.isf(0.025)
    blocks = []
    for outcome in ("alsfrs_r", "fvc"):
        rows = []
        for period, t, c in (p for p in pairs if p[1].outcome == outcome):
            d, dse = t.yi - c.yi, math.hypot(t.se, c.se)
            rows += [
                (f"{period}: MSC arm (cells), n = {t.n}", t.yi, *t.ci, INK, "s"),
                (f"{period}: control arm (no cells), n = {c.n}", c.yi, *c.ci, GREY, "o"),
                (f"{period}: MSC minus control (randomised)", d, d - z * dse, d + z * dse, BLUE, "D"),
            ]
        blocks.append((outcome, rows))
    row_h, top, gap, bottom = 0.27, 0.62, 0.8, 0.62
    height = top + sum(len(r) * row_h for _, r in blocks) + gap * (len(blocks) - 1) + bottom
    width = DOUBLE_COLUMN_IN
    with style_context():
        fig = Figure(figsize=(width, height))
        fig.text(
            0.1 / width,
            1 - 0.12 / height,
            "Empirical null: the same within-patient analysis in Oh 2018's untreated arm (riluzole alone)",
            fontsize=9,
            va="top",
            ha="left",
        )
        y_top = height - top
        for outcome, rows in blocks:
            h = len(rows) * row_h
            ax = fig.add_axes((2.75 / width, (y_top - h) / height, 2.85 / width, h / height))
            lo = min(r[2] for r in rows)
            hi = max(r[3] for r in rows)
            pad = 0.08 * (hi - lo)
            ax.set_xlim(min(lo, 0) - pad, max(hi, 0) + pad)
            ax.set_ylim(len(rows) - 0.5, -0.5)
            ax.axvline(0, color=GREY, lw=0.8)
            for i, (label, est, low, high, col, mk) in enumerate(rows):
                ax.plot([low, high], [i, i], color=col, lw=1.3)
                ax.plot([est], [i], marker=mk, color=col, ms=4.5)
                ax.text(
                    -0.03, i, label, transform=ax.get_yaxis_transform(), ha="right", va="center", fontsize=7, color=col
                )
                ax.text(
                    1.03,
                    i,
                    ci_text(est, low, high),
                    transform=ax.get_yaxis_transform(),
                    ha="left",
                    va="center",
                    fontsize=7,
                    color=col,
                )
                if i % 3 == 2 and i < len(rows) - 1:
                    ax.axhline(i + 0.5, color=LIGHT_GREY, lw=0.5)
            ax.set_yticks([])
            ax.spines["left"].set_visible(False)
            ax.set_title(
                f"{OUTCOME_NAMES[outcome]}: slope change, post minus pre ({UNITS[outcome]})",
                fontsize=8,
                loc="left",
                x=-0.9,
            )
            ax.tick_params(labelsize=7)
            y_top -= h + gap
        fig.text(
            0.1 / width,
            0.08 / height,
            "Oh 2018 Table 3, mean (SD) per arm; 95% z intervals (unpooled SEs for the difference).\n"
            "Positive = slower decline after the lead-in period.",
            fontsize=7,
            color=GREY,
            ha="left",
            va="bottom",
        )
        return fig


VERDICT_COLOURS = {REPRODUCED: GREEN, CONTRADICTED: VERMILLION, NOT_ASSESSABLE: GREY}


def _unbroken(text: Any) -> Any:
    """``k = 2`` stays on one line when wrapped (no-break spaces around ' = ')."""
    return text.replace(" = ", "\u00a0=\u00a0") if isinstance(text, str) else text


def claims_figure(claims: pd.DataFrame) -> Figure:
    """Claims table as a figure at 183 mm.

    The verdict is coloured by the primary analysis; agreement across alternatives is a column of its own.
    """
    cols = {"claim": (0.08, 33), "shows": (1.95, 45), "verdict": (4.5, 20), "agree": (5.72, 27)}
    rows: list[tuple[list[str], list[str], list[str], list[str], bool, str]] = []
    claims = claims.assign(**{c: claims[c].map(_unbroken) for c in ("brief", "analysis", "agreement_short")})
    for r in cast(Iterable[Any], claims.itertuples()):  # text columns
        comp = r.component != "overall"
        if comp:
            claim = textwrap.wrap(r.component, cols["claim"][1] - 2, initial_indent="\u2022 ", subsequent_indent="  ")
        else:
            claim = textwrap.wrap(
                f"{r.claim} ({r.published})" if r.published else r.claim, cols["claim"][1] - 4
            )  # bold is wider
        shows = textwrap.wrap(r.brief, cols["shows"][1])
        notes = textwrap.wrap(r.analysis, cols["verdict"][1]) if r.analysis and r.analysis != "count" else []
        if r.decisive != "yes":
            notes += textwrap.wrap(
                "not decisive "
                f"({r.decisive.removeprefix('no: ').replace('alternative reading of the claim', 'other reading')})",
                cols["verdict"][1],
            )
        agree = textwrap.wrap(r.agreement_short, cols["agree"][1]) if r.agreement_short else []
        rows.append((claim, shows, notes, agree, comp, r.verdict))
    line = 7.0 * 1.25 / 72
    heights = [max(len(a), len(b), 1 + len(c), len(d)) * line + 0.07 for a, b, c, d, _, _ in rows]
    caption = textwrap.wrap(
        f"Verdicts follow from the pre-specified primary analysis of this project's rebuild: {PRIMARY_TEXT}. "
        "Agreement counts distinct "
        "analyses, not choice combinations, and describes the rebuild, not the 2021 paper (which published no "
        "study-level data). "
        "The colour repeats the verdict word: green = reproduced, vermillion = contradicted, grey = not assessable.",
        134,
    )
    width = DOUBLE_COLUMN_IN
    top = 0.42
    total = top + sum(heights) + 0.12 + len(caption) * line + 0.1
    with style_context():
        fig = Figure(figsize=(width, total))
        ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
        ax.set_xlim(0, width)
        ax.set_ylim(total, 0)
        ax.axis("off")
        heads = {
            "claim": "Published claim\n(Morata-Tarifa et al. 2021)",
            "shows": "What this project's rebuild shows",
            "verdict": "Verdict (primary\nanalysis)",
            "agree": "Agreement across\nalternatives (rebuild)",
        }
        for key, head in heads.items():
            ax.text(cols[key][0], 0.06, head, fontweight="bold", fontsize=7.5, va="top", linespacing=1.15)
        y = top
        ax.plot([0.05, width - 0.05], [y - 0.05, y - 0.05], color=INK, lw=0.8)
        for (claim, shows, notes, agree, comp, v), h in zip(rows, heights, strict=True):
            if not comp:
                ax.plot([0.05, width - 0.05], [y - 0.03, y - 0.03], color=LIGHT_GREY, lw=0.5)
            ax.text(
                cols["claim"][0] + (0.08 if comp else 0),
                y,
                "\n".join(claim),
                fontsize=7,
                va="top",
                linespacing=1.25,
                fontweight="normal" if comp else "bold",
            )
            ax.text(cols["shows"][0], y, "\n".join(shows), fontsize=7, va="top", linespacing=1.25)
            ax.text(
                cols["verdict"][0],
                y,
                v,
                fontsize=7,
                va="top",
                color=VERDICT_COLOURS[v],
                fontweight="bold",
                gid=f"verdict-{v}",
            )
            if notes:
                ax.text(
                    cols["verdict"][0], y + line, "\n".join(notes), fontsize=7, va="top", color=GREY, linespacing=1.25
                )
            if agree:
                ax.text(cols["agree"][0], y, "\n".join(agree), fontsize=7, va="top", color=INK, linespacing=1.25)
            y += h
        ax.plot([0.05, width - 0.05], [y - 0.03, y - 0.03], color=INK, lw=0.8)
        ax.text(0.08, y + 0.06, "\n".join(caption), fontsize=7, va="top", color=GREY, linespacing=1.25)
        return fig


AVAILABILITY_TEXT = {"numbers": "numbers", "p only": "p only", "words only": "words only"}
"""Cell text: what the best evidence is (not-found and nothing-retrieved cells show only their symbol)."""


def availability_figure(frame: pd.DataFrame) -> Figure:
    """Study availability map (183 mm, :func:`alsmeta.plots.availability.availability_map`).

    Candidates by outcome and follow-up window, grouped by cell type.
    """
    table = frame.assign(
        group=[f"{g} candidates (2021 n = {PUBLISHED_COUNTS[g]})" for g in frame.subgroup_2021],
        cell_text=[AVAILABILITY_TEXT.get(c, "") for c in frame.content],
    )
    fig = availability_map(
        table,
        study="study",
        outcome="outcome",
        timepoint="window",
        status="status",
        group="group",
        text="cell_text",
        title="Morata-Tarifa 2021 candidates: what data/ holds per outcome and follow-up window",
        caption="Status of the best evidence in data/ (numbers outrank words; within each, verified > secondary > "
        "derived); the cell text "
        "says what it is: numbers, a p-value only, or words only (no usable estimate). Oh 2018's 'lead-in vs "
        "follow-up' is "
        "placed at 4 months (16 weeks per the registry; INFERRED).",
    )
    return fig


def draw_figures(rec: Reconstruction) -> dict[str, Figure]:
    """Every figure of the reconstruction, keyed by file stem (the keys of :data:`MSC2021_FIGURES`).

    Parameters
    ----------
    rec
        The result of :func:`alsmeta.als.msc2021.reconstruction.reconstruct`.

    Returns
    -------
    dict
        ``{stem: Figure}``; the script saves each with :func:`alsmeta.plots.save.save_figure`.
    """
    figures = {f.stem: forest_figure(f.fit, list(f.effects), f.outcome, f.title, f.footnotes) for f in rec.forests}
    figures["sweep_estimator_by_test"] = sweep_figure(
        [
            (
                "ALSFRS-R, IT MSC, first follow-up\n(Oh 2018 + Kim 2009)",
                rec.sweeps["alsfrs_r_first"],
                "points/month",
                "increase",
            ),
            (
                "FVC, all MSC\n(Oh 2018 + Petrou 2016, secondary source)",
                rec.sweeps["fvc_all_msc"],
                "% predicted/month",
                "decrease",
            ),
        ]
    )
    figures["sensitivity_data_choices"] = intervals_figure(
        rec.data_choices,
        "This project's rebuild: sensitivity to data choices (secondary sources, sign, unit, p-value conversion)",
    )
    bayes = rec.bayes_results
    figures["bayes_posteriors"] = bayes_figure(
        {
            "alsfrs_r": {
                "title": "ALSFRS-R, intrathecal MSC, first follow-up (Oh 2018 + Kim 2009)",
                "treated": bayes["alsfrs_r_first"],
                "null": bayes["null_alsfrs_r_first"][PRIMARY_TAU_SCALE["alsfrs_r"]],
                "null_by_scale": bayes["null_alsfrs_r_first"],
            },
            "fvc": {
                "title": "FVC, intrathecal MSC (Oh 2018 MSC arm)",
                "treated": bayes["fvc_first"],
                "with_secondary": bayes["fvc_all_msc"],
                "null": bayes["null_fvc_first"][PRIMARY_TAU_SCALE["fvc"]],
                "null_by_scale": bayes["null_fvc_first"],
            },
        }
    )
    figures["empirical_null"] = null_figure(null_pairs(rec.effects))
    figures["availability"] = availability_figure(rec.availability)
    figures["transience"] = transience_figure(rec.transience)
    figures["claims"] = claims_figure(rec.claims_frame)
    return figures
