"""Figures of the pre-post stress test: ALS-specific drawing glue over alsmeta.plots.

Each function draws results of :mod:`alsmeta.als.prepost_stress` and returns the figure (183 mm wide,
text >= 7 pt); :func:`draw_figures` makes them all and the script saves them.
"""

from __future__ import annotations

import math
import textwrap
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.transforms import blended_transform_factory

from alsmeta.als.prepost_stress.mechanisms import ERROR_SENSITIVITY
from alsmeta.als.prepost_stress.settings import (
    CALIBRATED_MEASUREMENT_SD,
    MEASUREMENT_SD,
    R_META,
    R_META_ERROR_SENSITIVITY,
    R_MISSING,
    R_STUDIES,
)
from alsmeta.als.prepost_stress.specifications import NA, TEST_NAMES
from alsmeta.als.prepost_stress.stress_test import StressTest
from alsmeta.diagnostics import multiverse as mv
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
    text_width,
)

STRESS_FIGURES = {
    "null_by_design": (
        "How often does a within-patient pre-post design find a benefit when the cells do nothing?",
        "False-positive rates of each 2021 study's design, and of the meta-analysis, under simulated ALS natural "
        "history with no treatment effect (cited progression; no selection, no curvature).",
    ),
    "mechanisms": (
        "Which mechanisms turn no effect into an apparent benefit in pre-post studies?",
        "Apparent benefit and false-positive rates under enrolment after a measured decline, responder rules and "
        "decelerating courses (sizes labelled as assumptions).",
    ),
    "empirical_null": (
        "Where do the untreated and treated arms of Oh 2018 fall in the simulated no-treatment distribution?",
        "Oh 2018's arms analysed the 2021 way, against simulated untreated studies of the same design.",
    ),
    "missing_studies": (
        "How many unpublished null studies would overturn the 2021 claims?",
        "Share of replicates in which the ALSFRS-R and FVC claims still hold as simulated no-effect studies are added.",
    ),
    "specification_curve_alsfrs_r": (
        "Does the ALSFRS-R benefit claim hold across reasonable analyses?",
        "Every distinct analysis of this project's rebuild (data choices, estimators, tests, Bayes), "
        "sorted by estimate, with the choices that give each; not the 2021 paper's analysis.",
    ),
    "specification_curve_fvc": (
        "Does the FVC worsening claim hold across reasonable analyses?",
        "Every distinct analysis of this project's rebuild, sorted by estimate, with the choices that "
        "give each; not the 2021 paper's analysis.",
    ),
}

RATE_FLOOR = 1e-3


def _note(text: str, width: int = 175) -> str:
    """``text`` wrapped to ``width`` characters."""
    return textwrap.fill(text, width=width)


def _rate_axis(ax: Any, label: str) -> None:
    """A log-scale rate axis with the nominal one-sided rate 0.025 dashed."""
    ax.set_xscale("log")
    ax.set_xlim(RATE_FLOOR * 0.8, 1.25)
    ax.set_xticks([0.001, 0.01, 0.025, 0.1, 0.5, 1.0])
    ax.set_xticklabels(["0.001", "0.01", "0.025", "0.1", "0.5", "1"], fontsize=7)
    ax.minorticks_off()
    ax.axvline(0.025, color=GREY, lw=0.8, ls="--")
    ax.set_xlabel(label, fontsize=8)


def _rate_point(ax: Any, y: float, r: dict[str, float], col: str, marker: str) -> None:
    """A rate with its 95% Monte-Carlo interval; a rate of 0 as an open arrow at its rule-of-three bound 3/n.

    A rate above 0 but under :data:`RATE_FLOOR` is an open arrow at the floor.
    """
    p, se = r["rate"], r["mc_se"]
    if p == 0 and r.get("n"):
        ax.plot([3.0 / r["n"]], [y], marker="<", color=col, ms=5, mfc="white")  # 95% upper bound (Hanley 1983)
        return
    if p < RATE_FLOOR:
        ax.plot([RATE_FLOOR], [y], marker="<", color=col, ms=5, mfc="white")
        return
    lo, hi = max(p - 1.96 * se, RATE_FLOOR), min(p + 1.96 * se, 1.0)
    ax.plot([lo, hi], [y, y], color=col, lw=1.2)
    ax.plot([p], [y], marker=marker, color=col, ms=4.5)


def _row_panels(a: Any, b: Any, labels: list[str], left: tuple[str, str], right: tuple[str, str]) -> None:
    """One row per scenario: the effect panel ``a`` (x label, title) and the rate panel ``b``."""
    a.axvline(0, color=GREY, lw=0.8)
    a.set_yticks(range(len(labels)))
    a.set_yticklabels(labels, fontsize=MIN_PT)
    a.set_ylim(len(labels) - 0.5, -0.5)
    a.set_xlabel(left[0], fontsize=MIN_PT)
    a.set_title(left[1], fontsize=8, loc="left")
    a.tick_params(axis="x", labelsize=MIN_PT)
    _rate_axis(b, right[0])
    b.xaxis.label.set_size(MIN_PT)
    b.set_title(right[1], fontsize=8, loc="left")


def figure_null_by_design(numbers: dict[str, Any], draws: dict[str, np.ndarray]) -> Figure:
    """What each design reports when the cells do nothing (183 mm).

    Left, the simulated study-level slope change (mean, middle 50% and 95%); right, the false-positive rate.
    """
    names = list(numbers)
    with style_context():
        fig = Figure(figsize=(WIDTH_183MM, 0.4 * len(names) + 1.9), layout="constrained")
        a, b = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.7, 1.2]}, sharey=True)
        for i, name in enumerate(names):
            d = draws[name]
            q = np.quantile(d, [0.025, 0.25, 0.5, 0.75, 0.975])
            col = VERMILLION if name == "cudkowicz2022" else INK
            a.plot([q[0], q[4]], [i, i], color=col, lw=1.0)
            a.plot([q[1], q[3]], [i, i], color=col, lw=4.5, solid_capstyle="butt", alpha=0.55)
            a.plot([d.mean()], [i], marker="D", color=col, ms=4.5)
            _rate_point(b, i, numbers[name]["apparent_benefit"], col, "o")
            b.text(1.45, i, f"{numbers[name]['apparent_benefit']['rate']:.3f}", va="center", fontsize=7, color=col)
        _row_panels(
            a,
            b,
            [textwrap.fill(numbers[n]["label"], 30) for n in names],
            (
                "study-level slope change with no treatment\n(points/month; > 0: apparent slowing)",
                "What each design reports when the cells do nothing",
            ),
            ("share reporting significant slowing (log scale)", "False-positive rate (nominal 0.025)"),
        )
        handles = [
            Line2D([], [], color=INK, marker="D", lw=0, label="mean"),
            Line2D([], [], color=INK, lw=4.5, alpha=0.55, label="middle 50%"),
            Line2D([], [], color=INK, lw=1.0, label="middle 95% of simulated studies"),
        ]
        a.legend(handles=handles, fontsize=7, loc="lower left")
        fig.supxlabel(
            _note(
                f"{R_STUDIES} simulated studies per design; cited ALSFRS-R natural history (PRO-ACT), visit-to-visit "
                "SD "
                f"{CALIBRATED_MEASUREMENT_SD:g} calibrated to Oh 2018's untreated arm, death and dropout, each "
                "design's own "
                "eligibility rules. Bars on the right: 95% Monte-Carlo intervals. Significant = paired t-test p < "
                "0.05 with slowing.",
                140,
            ),
            fontsize=MIN_PT,
            color=GREY,
            x=0.01,
            ha="left",
        )
        return fig


def figure_mechanisms(numbers: dict[str, Any]) -> Figure:
    """Bias and false-positive rates per mechanism, 183 mm wide; the measurement-error rows shaded as one group."""
    keys = list(numbers)
    series = (
        ("single_study_benefit", "one study (paired t-test)", INK, "o"),
        ("meta_reml_z_benefit", "11-study meta-analysis, REML z", BLUE, "s"),
        ("meta_reml_hksj_benefit", "11-study meta-analysis, REML HKSJ", ORANGE, "^"),
    )
    with style_context():
        fig = Figure(figsize=(WIDTH_183MM, 0.34 * len(keys) + 2.2), layout="constrained")
        a, b, c = fig.subplots(1, 3, gridspec_kw={"width_ratios": [1.0, 1.45, 0.42]}, sharey=True)
        group = [i for i, k in enumerate(keys) if k in ERROR_SENSITIVITY]
        for ax in (a, b):
            ax.axhspan(min(group) - 0.5, max(group) + 0.5, color=SHADE, lw=0, zorder=0)
        for i, k in enumerate(keys):
            n = numbers[k]
            m, se = n["mean_study_change"], n["mean_study_change_mc_se"]
            a.plot([m - 1.96 * se, m + 1.96 * se], [i, i], color=INK, lw=1.2)
            a.plot([m], [i], marker="D", color=INK, ms=4)
            for off, (field, _, col, mk) in zip((-0.22, 0.0, 0.22), series, strict=True):
                _rate_point(b, i + off, n[field], col, mk)
            c.text(
                0.0, i, " / ".join(f"{n[f]['rate']:.2f}" for f, *_ in series), va="center", ha="left", fontsize=MIN_PT
            )
        a.axvline(0, color=GREY, lw=0.8)
        a.set_yticks(range(len(keys)))
        a.set_yticklabels([textwrap.fill(numbers[k]["label"], 40) for k in keys], fontsize=MIN_PT)
        a.set_ylim(len(keys) - 0.5, -0.5)
        a.set_xlabel("mean apparent slowing per study\n(points/month; diamond, 95% MC interval)", fontsize=MIN_PT)
        a.set_title("Bias with no treatment", fontsize=8, loc="left")
        a.tick_params(axis="x", labelsize=MIN_PT)
        _rate_axis(b, "share reporting significant slowing (log scale)")
        b.xaxis.label.set_size(MIN_PT)
        b.set_title("False-positive rate", fontsize=8, loc="left")
        c.set_axis_off()
        c.set_xlim(0, 1)
        c.set_title("one / z / HKSJ", fontsize=MIN_PT, loc="left")
        fig.legend(
            handles=[Line2D([], [], color=col, marker=mk, lw=1.2, label=lab) for _, lab, col, mk in series],
            fontsize=MIN_PT,
            loc="outside upper right",
            ncol=3,
            frameon=False,
        )
        fig.supxlabel(
            _note(
                "Each mechanism added alone to the baseline (top row); then the cited natural history as the studies "
                "were designed, and "
                f"with selection added. {R_META} simulated meta-analyses of 11 studies (7 designs of the "
                "reconstruction + 4 generic, "
                f"220 patients) per row ({R_META_ERROR_SENSITIVITY} for the half- and double-error rows); bars: 95% "
                "Monte-Carlo intervals; "
                f"open <: no replicate was significant, drawn at the 95% upper bound 3/n (rule of three: "
                f"{3 / R_META:.4f} for {R_META}, {3 / R_META_ERROR_SENSITIVITY:.3f} for {R_META_ERROR_SENSITIVITY}). "
                "Dashed line: nominal 0.025 (significant in the direction of benefit). Shaded: "
                "the same selection "
                f"rule at three measurement errors. The ALSFRS-R measurement error SD of {MEASUREMENT_SD:g} points is "
                "an assumption, "
                "derived from an intra-rater ICC of 0.95 (Kaufmann 2007) and a between-patient SD of about 6 points; "
                "no source measures it "
                "directly.",
                140,
            ),
            fontsize=MIN_PT,
            color=GREY,
            x=0.01,
            ha="left",
        )
        return fig


def figure_empirical_null(panels: dict[str, dict[str, Any]], numbers: dict[str, Any]) -> Figure:
    """The simulated null of Oh 2018's design against its arms analysed the same way (183 mm, one panel per outcome)."""
    titles = {
        "alsfrs_r_first_follow_up": "ALSFRS-R, first follow-up",
        "alsfrs_r_6_months": "ALSFRS-R, 6 months",
        "fvc_first_follow_up": "FVC % predicted, first follow-up",
    }
    with style_context():
        fig = Figure(figsize=(WIDTH_183MM, 3.3), layout="constrained")
        axes = fig.subplots(1, len(panels))
        for ax, (key, p) in zip(axes, panels.items(), strict=True):
            d, c, t = p["null"], p["control"], p["treated"]
            lo = min(np.quantile(d, 0.0005), c.yi - 2 * c.se, t.yi - 2 * t.se)
            hi = max(np.quantile(d, 0.9995), c.yi + 2 * c.se, t.yi + 2 * t.se)
            bins = np.linspace(lo, hi, 45)
            ax.hist(
                d,
                bins=bins,
                color=SKY_BLUE,
                edgecolor="white",
                linewidth=0.3,
                density=True,
                label="simulated untreated studies",
            )
            top = ax.get_ylim()[1]
            for eff, col, name, yy in ((c, GREY, "untreated arm", 0.9), (t, VERMILLION, "MSC arm", 0.75)):
                ax.plot([eff.yi - 1.96 * eff.se, eff.yi + 1.96 * eff.se], [top * yy] * 2, color=col, lw=1.4)
                ax.plot([eff.yi], [top * yy], marker="o", color=col, ms=5)
                ax.axvline(eff.yi, color=col, lw=0.9, ls="--")
                ax.text(eff.yi, top * (yy + 0.04), f"{name} {eff.yi:+.2f}", ha="center", fontsize=MIN_PT, color=col)
            n = numbers[key]
            ax.axvline(0, color=INK, lw=0.6)
            ax.set_ylim(0, top * 1.05)
            ax.set_title(
                f"{titles[key]}\nuntreated arm: percentile {100 * n['percentile_of_untreated_arm']:.0f} of the null\n"
                f"patient SD {n['observed_untreated']['sd']:.2f} (sim. "
                f"{n['simulated_untreated']['mean_patient_sd']:.2f})",
                fontsize=MIN_PT,
                loc="left",
            )
            ax.set_xlabel(f"slope change, post minus pre\n({n['unit']})", fontsize=MIN_PT)
            ax.tick_params(axis="x", labelsize=MIN_PT)
            ax.set_yticks([])

        fig.suptitle(
            _note(
                f"Simulated null (histogram: {R_STUDIES} studies of Oh 2018's design, no treatment) against Oh 2018's "
                "arms analysed the same way (Table 3; points and lines: estimate and 95% CI)",
                115,
            ),
            fontsize=8,
            x=0.01,
            ha="left",
        )
        return fig


def figure_missing(curves: dict[str, pd.DataFrame], numbers: dict[str, Any]) -> Figure:
    # source by colour AND marker (circles/squares vs triangles/diamonds), test by line style: readable in greyscale
    """Share of replicates in which each claim holds as missing studies are added (183 mm, one panel per claim)."""
    styles = {
        ("simulated null", "z"): (BLUE, "-", "o"),
        ("simulated null", "HKSJ"): (BLUE, "--", "s"),
        ("reconstruction's estimate", "z"): (GREEN, "-", "^"),
        ("reconstruction's estimate", "HKSJ"): (GREEN, "--", "D"),
    }
    with style_context():
        fig = Figure(figsize=(WIDTH_183MM, 3.6), layout="constrained")
        axes = fig.subplots(1, len(curves), sharey=True)
        for ax, (key, frame) in zip(axes, curves.items(), strict=True):
            for (source, test), g in frame.groupby(["source", "test"], sort=False):
                col, ls, mk = styles[str(source), str(test)]
                ax.errorbar(
                    g.added,
                    g.share_holding,
                    yerr=1.96 * g.mc_se,
                    color=col,
                    ls=ls,
                    marker=mk,
                    ms=3.5,
                    lw=1.2,
                    capsize=0,
                    label=f"added: {source}, {test}",
                )
            ax.axhline(0.5, color=GREY, lw=0.8, ls=":")
            n = numbers[key]
            ax.set_xticks(range(n["missing"] + 1))
            ax.set_xlabel(f"missing studies added (observed k = {n['observed_k']}; 11 in 2021)", fontsize=MIN_PT)
            ax.set_title(textwrap.fill(f"{n['title']}: this project's rebuild", 52), fontsize=MIN_PT, loc="left")
            ax.tick_params(labelsize=MIN_PT)
            ax.set_ylim(-0.02, 1.02)
        axes[0].set_ylabel("share of replicates in which the claim holds", fontsize=MIN_PT)
        handles, labels = axes[0].get_legend_handles_labels()
        fig.legend(handles, labels, fontsize=MIN_PT, loc="outside upper center", ncols=2, frameon=False)
        fig.supxlabel(
            _note(
                f"{R_MISSING} replicates per point (bars: 95% Monte-Carlo intervals). Simulated null: 20-patient "
                "pre-post "
                "studies of untreated ALS (calibrated ALSFRS-R / cited FVC natural history). Reconstruction's "
                "estimate: drawn from "
                "N(REML estimate, tau\u00b2 + SE\u00b2) with the simulated studies' SEs. With k = 1 a t-based (HKSJ) "
                "test falls "
                "back to z; with k = 2 it has 1 df. The observed studies are this project's rebuild; the 2021 paper "
                "published no "
                "study-level data.",
                140,
            ),
            fontsize=MIN_PT,
            color=GREY,
            x=0.01,
            ha="left",
        )
        return fig


CHOICE_NAMES = {"tau_scale": "prior scale on \u03c4", "method": "estimator", "test": "interval"}


def _level_text(col: str, v: Any) -> str:
    """How a choice level is printed under the specification curve."""
    if col == "test":
        return TEST_NAMES.get(v, str(v))
    if v == mv.BAYES:
        return "Bayes"
    if col == "tau_scale" and v != NA:
        return f"half-normal({float(v):g})"
    return str(v)


SHADE = "#ececec"  # background of a group of rows (grey level only, no hue)

WIDTH_183MM = 183 / 25.4  # double-column print width (inches)

MIN_PT = 7.0  # smallest text at print size (GUIDE figure standard)

REDUNDANT_LEVELS = {("method", "Bayes"), ("test", "posterior")}  # the same analyses as the framework row "Bayesian"


def choice_matrix(
    res: mv.MultiverseResult, curve: pd.DataFrame, choice_cols: list[str]
) -> list[tuple[str, str, np.ndarray]]:
    """For each (choice, level): which distinct analyses of ``curve`` it gives.

    ``curve`` is sorted, from ``res.curve(distinct=True)``.

    An analysis reached through several levels of a choice (e.g. every estimator when tau^2 is 0) is marked at each.
    Levels that do not apply (n/a) get no row.
    """
    rank_of = pd.Series(
        {label: rank for rank, labels in zip(curve["rank"], curve["combinations"], strict=True) for label in labels}
    )
    s = res.specifications
    rows = []
    for col in choice_cols:
        text = s[col].map(lambda v, c=col: _level_text(c, v)).astype(str)
        for lev in dict.fromkeys(text.tolist()):  # levels in the order the specifications list them
            if lev == NA or (col, lev) in REDUNDANT_LEVELS:
                continue
            marked = np.zeros(len(curve), bool)
            marked[rank_of.loc[s.index[(text == lev).to_numpy()]].to_numpy()] = True
            rows.append((CHOICE_NAMES.get(col, col), lev, marked))
    return rows


def figure_spec_curve(
    res: mv.MultiverseResult,
    direction: str,
    title: str,
    unit: str,
    choice_cols: list[str],
    ylim: tuple[float, float],
) -> Figure:
    """Specification curve of the distinct analyses (183 mm wide; Simonsohn et al. 2020).

    Above, the number of choice combinations behind each analysis; below, the choices that give it.
    """
    curve = res.curve(distinct=True)
    holds = (
        res.holds(direction).loc[curve["spec"]].to_numpy()
    )  # combinations merged into one analysis share the verdict
    n, x = len(curve), curve["rank"].to_numpy()
    n_comb = curve["n_combinations"].to_numpy()
    rows = choice_matrix(res, curve, choice_cols)
    group_w = max(text_width(g, MIN_PT, "bold") for g, _, _ in rows)
    level_w = max(text_width(lev, MIN_PT) for _, lev, _ in rows)
    with style_context():
        width = WIDTH_183MM
        left_in, right_in = group_w + level_w + 0.22, 0.62
        title_h, top_h, strip_h, gap, row_h, foot_h = 0.6, 1.9, 0.42, 0.12, 0.122, 0.86
        mat_h = row_h * (len(rows) + 1)
        height = title_h + top_h + gap + strip_h + gap + mat_h + foot_h
        fig = Figure(figsize=(width, height))
        ax_w = (width - left_in - right_in) / width

        def box(top_from: float, h: float) -> tuple[float, float, float, float]:
            return (left_in / width, (height - top_from - h) / height, ax_w, h / height)

        ax = fig.add_axes(box(title_h, top_h))
        lo, hi, est = curve.ci_low.to_numpy(), curve.ci_high.to_numpy(), curve.estimate.to_numpy()
        lw = float(np.clip(120 / n, 0.45, 1.5))  # thin lines for hundreds of analyses, visible ones for a few dozen
        dot = float(np.clip(500 / n, 1.2, 9.0))
        for sel, col in ((~holds, LIGHT_GREY), (holds, GREEN)):
            ax.vlines(x[sel], np.clip(lo[sel], *ylim), np.clip(hi[sel], *ylim), color=col, lw=lw)
        ax.scatter(
            x[~holds], est[~holds], s=dot, color=GREY, marker="o", linewidths=0, zorder=3, gid="estimates_not_holding"
        )
        ax.scatter(x[holds], est[holds], s=dot, color=INK, marker="o", linewidths=0, zorder=3, gid="estimates_holding")
        ax.axhline(0, color=INK, lw=0.7)
        ax.set_ylim(*ylim)
        ax.set_xlim(-0.5, n - 0.5)
        ax.set_xticks([])
        ax.tick_params(labelsize=MIN_PT)
        ax.set_ylabel(f"pooled estimate, 95% interval\n({unit})", fontsize=MIN_PT)
        ax.legend(
            handles=[
                Line2D([], [], color=GREEN, lw=1.2, label="claim holds (interval excludes 0 in the claimed direction)"),
                Line2D([], [], color=LIGHT_GREY, lw=1.2, label="does not hold"),
            ],
            fontsize=MIN_PT,
            loc="lower left",
            bbox_to_anchor=(0.0, 1.0),
            ncol=2,
            frameon=False,
            borderaxespad=0.1,
        )
        n_hold = int(holds.sum())
        fig.text(
            0.01,
            1 - 0.05 / height,
            gid="title",
            s=_note(
                f"{title}, this project's rebuild: the claim holds in {n_hold} of {n} distinct analyses "
                f"({n_hold / n:.0%}); {len(res):,} choice combinations",
                118,
            ),
            fontsize=8,
            fontweight="bold",
            ha="left",
            va="top",
        )

        sx = fig.add_axes(box(title_h + top_h + gap, strip_h))
        sx.vlines(x, 1, n_comb, color=GREY, lw=lw)
        sx.set_yscale("log")
        sx.set_ylim(0.8, max(40, n_comb.max() * 1.3))
        sx.set_xlim(-0.5, n - 0.5)
        sx.set_xticks([])
        sx.set_yticks([1, 10] + ([100] if n_comb.max() >= 100 else []))
        sx.set_yticklabels(["1", "10"] + (["100"] if n_comb.max() >= 100 else []), fontsize=MIN_PT)
        sx.minorticks_off()
        sx.set_ylabel("combinations", fontsize=MIN_PT)
        for side in ("top", "right"):
            sx.spines[side].set_visible(False)

        mx = fig.add_axes(box(title_h + top_h + gap + strip_h + gap, mat_h))
        all_rows = [("", "claim holds", holds)] + rows
        share_of = {}
        for r, (_group, lev, sel) in enumerate(all_rows):
            marks: Any = INK if r == 0 else np.where(holds[sel], GREEN, GREY)
            mx.scatter(x[sel], np.full(int(sel.sum()), r), marker="|", s=12, linewidths=min(lw, 1.0), color=marks)
            mx.text(
                -0.01,
                r,
                lev,
                transform=mx.get_yaxis_transform(),
                ha="right",
                va="center",
                fontsize=MIN_PT,
                fontweight="bold" if r == 0 else "normal",
            )
            share_of[r] = (holds[sel].mean() if sel.any() else math.nan, int(sel.sum()))
            if r > 0:
                sh, cnt = share_of[r]
                mx.text(
                    1.01,
                    r,
                    f"{sh:.0%} ({cnt})",
                    transform=mx.get_yaxis_transform(),
                    ha="left",
                    va="center",
                    fontsize=MIN_PT,
                )
        mx.text(
            1.01,
            0,
            f"{n_hold / n:.0%} ({n})",
            transform=mx.get_yaxis_transform(),
            ha="left",
            va="center",
            fontsize=MIN_PT,
            fontweight="bold",
        )
        prev = None
        for r, (group, _, _) in enumerate(all_rows):
            if group != prev:
                if group:
                    fig.text(
                        0.01,
                        r,
                        group,
                        transform=blended_transform_factory(fig.transFigure, mx.transData),
                        ha="left",
                        va="center",
                        fontsize=MIN_PT,
                        fontweight="bold",
                    )
                mx.axhline(r - 0.5, color=LIGHT_GREY, lw=0.5)
                prev = group
        mx.set_ylim(len(all_rows) - 0.5, -0.5)
        mx.set_xlim(-0.5, n - 0.5)
        mx.axis("off")
        mx.text(
            1.01,
            -1.0,
            "holds (n)",
            transform=mx.get_yaxis_transform(),
            ha="left",
            va="center",
            fontsize=MIN_PT,
            color=GREY,
        )
        fig.text(
            0.01,
            0.08 / height,
            _note(
                "Each column is one distinct analysis of this project's rebuild: choice combinations that give the "
                "same k, estimate and "
                "95% interval (to 10 significant digits) are counted once; the bars above the choices show how many "
                "combinations give each "
                "(log scale). Analyses are sorted by the pooled estimate (dots) with 95% intervals (lines, clipped to "
                "the axis). Below, the "
                "choices that give each analysis (marked at every level that gives it); right, the share of the "
                "distinct analyses with that "
                "level in which the claim holds, and their number. Bayes: flat prior on \u03bc, half-normal prior on "
                "\u03c4 with the scale "
                "shown; posterior mean and 95% credible interval. The 2021 paper published no study-level data: this "
                "is not its analysis.",
                135,
            ),
            fontsize=MIN_PT,
            color=GREY,
            ha="left",
            va="bottom",
        )
        return fig


ALSFRS_CURVE_CHOICES = [
    "time point",
    "secondary source",
    "Petrou sign",
    "Kim unit",
    "p to SE",
    "study subset",
    "framework",
    "method",
    "test",
    "tau_scale",
]
"""The choices the ALSFRS-R specification curve lists under its analyses, top to bottom."""
FVC_CURVE_CHOICES = ["secondary source", "p to SE", "study subset", "framework", "method", "test", "tau_scale"]
"""The choices the FVC specification curve lists."""


def draw_figures(result: StressTest) -> dict[str, Figure]:
    """Every figure of the stress test, keyed by file stem (the keys of :data:`STRESS_FIGURES`).

    Parameters
    ----------
    result
        The result of :func:`alsmeta.als.prepost_stress.stress_test.run_stress_test`.

    Returns
    -------
    dict
        ``{stem: Figure}``; the script saves each with :func:`alsmeta.plots.save.save_figure`.
    """
    return {
        "null_by_design": figure_null_by_design(result.design_numbers, result.design_draws),
        "mechanisms": figure_mechanisms(result.mechanisms),
        "empirical_null": figure_empirical_null(result.empirical_panels, result.empirical_null),
        "missing_studies": figure_missing(result.missing_curves, result.missing_studies),
        "specification_curve_alsfrs_r": figure_spec_curve(
            result.multiverse_results["alsfrs_r_benefit"],
            "positive",
            "ALSFRS-R slowing after MSC",
            "points/month",
            ALSFRS_CURVE_CHOICES,
            (-2.0, 4.0),
        ),
        "specification_curve_fvc": figure_spec_curve(
            result.multiverse_results["fvc_worse"],
            "negative",
            "FVC worsening after MSC",
            "% predicted/month",
            FVC_CURVE_CHOICES,
            (-8.0, 10.0),
        ),
    }
