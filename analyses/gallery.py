"""Gallery: every plot of alsmeta.plots on a classic example, dat.bcg.

The data are the 13 trials of BCG vaccination against tuberculosis
summarised by Colditz et al. (1994), as distributed in the R package metadat
(``dat.bcg``; Colditz GA, Brewer TF, Berkey CS, et al. Efficacy of BCG
vaccine in the prevention of tuberculosis: meta-analysis of the published
literature. JAMA 1994;271:698-702). Effects are log risk ratios, as
``metafor::escalc(measure="RR", ai=tpos, bi=tneg, ci=cpos, di=cneg)``, pooled
with REML and a z test (metafor's defaults), so every number can be checked
against metafor.

Two edge-case forests show what the package draws when there is nothing or
almost nothing to pool: k = 0 (the state of the 2016 Cochrane review of cell
therapy for ALS) and k = 1. The PRISMA diagram shows how unreported counts
are drawn: dat.bcg records the 13 included trials but none of the search
counts, so those are "not reported".

Writes PNG (300 dpi) + SVG and numbers.json into figures/gallery/; running it
twice gives byte-identical files.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np

import alsmeta as am
from alsmeta.diagnostics.bias import trim_and_fill
from alsmeta.diagnostics.sensitivity import cumulative, gosh, influence, leave_one_out
from alsmeta.io import figures_dir  # ALSMETA_FIGURES when run by alsmeta reproduce, else figures/
from alsmeta.io.reporting import figure_entry, write_numbers
from alsmeta.plots import (
    PrismaCounts,
    baujat_coordinates,
    baujat_plot,
    cumulative_forest,
    drapery_plot,
    forest_plot,
    funnel_plot,
    gosh_plot,
    influence_plot,
    leave_one_out_forest,
    prisma_flow,
    save_figure,
    subgroup_analysis,
)

OUT = figures_dir() / "gallery"

# metadat::dat.bcg (Colditz et al. 1994): author, year, TB cases / no TB in the
# vaccinated (tpos, tneg) and control (cpos, cneg) groups, treatment allocation
AUTHOR = [
    "Aronson",
    "Ferguson & Simes",
    "Rosenthal et al",
    "Hart & Sutherland",
    "Frimodt-Moller et al",
    "Stein & Aronson",
    "Vandiviere et al",
    "TPT Madras",
    "Coetzee & Berjak",
    "Rosenthal et al",
    "Comstock et al",
    "Comstock & Webster",
    "Comstock et al",
]
YEAR = [1948, 1949, 1960, 1977, 1973, 1953, 1973, 1980, 1968, 1961, 1974, 1969, 1976]
TPOS = [4, 6, 3, 62, 33, 180, 8, 505, 29, 17, 186, 5, 27]
TNEG = [119, 300, 228, 13536, 5036, 1361, 2537, 87886, 7470, 1699, 50448, 2493, 16886]
CPOS = [11, 29, 11, 248, 47, 372, 10, 499, 45, 65, 141, 3, 29]
CNEG = [128, 274, 209, 12619, 5761, 1079, 619, 87892, 7232, 1600, 27197, 2338, 17825]
ALLOC = [
    "random",
    "random",
    "random",
    "random",
    "alternate",
    "alternate",
    "random",
    "random",
    "random",
    "systematic",
    "systematic",
    "systematic",
    "systematic",
]

FAVOURS = ("Favours vaccine", "Favours control")
SOURCE = "Data: metadat dat.bcg (Colditz et al. 1994, JAMA 271:698-702); log risk ratios, REML, z test."


def bcg_effects() -> tuple[np.ndarray, np.ndarray]:
    """Log risk ratios and their variances (escalc measure="RR")."""
    tpos, tneg, cpos, cneg = (np.asarray(x, dtype=float) for x in (TPOS, TNEG, CPOS, CNEG))
    yi = np.log(tpos / (tpos + tneg)) - np.log(cpos / (cpos + cneg))
    vi = 1 / tpos - 1 / (tpos + tneg) + 1 / cpos - 1 / (cpos + cneg)
    return yi, vi


GALLERY_FIGURES = {
    # stem: (the question the figure answers, caption); every figure is drawn on dat.bcg (13 BCG vaccine trials)
    "forest": (
        "What does a metafor/RevMan-style forest plot from alsmeta look like?",
        "dat.bcg: 13 BCG trials, log risk ratios, REML with z test, common and random-effects diamonds, prediction interval.",
    ),
    "forest_subgroups": (
        "How are subgroups, their subtotals and the test for subgroup differences drawn?",
        "dat.bcg by treatment allocation (separate tau2), studies sorted by estimate.",
    ),
    "forest_empty": (
        "What does a review with no eligible study (k = 0) show?",
        "The frame and the statement that no study met the criteria, as for Cochrane CD011742 in 2016.",
    ),
    "forest_single_study": (
        "What does a one-study analysis show?",
        "The study's estimate only: no pretend summary diamond or heterogeneity.",
    ),
    "funnel": ("Are small studies' effects asymmetric?", "Funnel plot of dat.bcg with pseudo 95% confidence limits."),
    "funnel_contour_trimfill": (
        "Could missing small studies explain asymmetry?",
        "Contour-enhanced funnel (p = .10/.05/.01) with the studies trim-and-fill would add.",
    ),
    "baujat": (
        "Which studies add most to heterogeneity and to the pooled result?",
        "Baujat plot of dat.bcg (matches metafor's baujat()).",
    ),
    "leave_one_out": ("Does any single study drive the pooled result?", "Leave-one-out forest of dat.bcg."),
    "cumulative": (
        "How did the pooled result change as trials were published?",
        "Cumulative meta-analysis of dat.bcg by year of publication.",
    ),
    "gosh": (
        "Do subsets of studies form distinct clusters of results?",
        "GOSH plot: estimate vs I2 for every subset of the 13 trials.",
    ),
    "influence": (
        "Which studies are influential by metafor's criteria?",
        "Studentised residuals, DFFITS, Cook's distance, covariance ratio, tau2 and Q after deletion, hat values.",
    ),
    "drapery": (
        "Which effect sizes are compatible with the data at each confidence level?",
        "Drapery plot (p-value functions) of each study and of the pooled estimates.",
    ),
    "prisma": (
        "How is a PRISMA 2020 flow with unreported counts drawn?",
        "dat.bcg records only the 13 included trials: every search count is shown as not reported, never filled in.",
    ),
}


def main() -> None:
    warnings.simplefilter("error", RuntimeWarning)
    OUT.mkdir(parents=True, exist_ok=True)
    yi, vi = bcg_effects()
    labels = [f"{a} {y}" for a, y in zip(AUTHOR, YEAR)]
    fit = am.pool(yi, vi, method="REML", test="z", labels=labels)
    ratio = {"log_scale": True, "effect_label": "Risk ratio"}
    columns = {
        "BCG\n(TB / n)": [f"{p} / {p + n}" for p, n in zip(TPOS, TNEG)],
        "Control\n(TB / n)": [f"{p} / {p + n}" for p, n in zip(CPOS, CNEG)],
    }

    save_figure(
        forest_plot(
            fit,
            columns=columns,
            common=True,
            favours=FAVOURS,
            notes=[SOURCE],
            title="BCG vaccine and tuberculosis: forest plot",
            **ratio,
        ),
        OUT / "forest",
    )

    sub = subgroup_analysis(fit, ALLOC)
    save_figure(
        forest_plot(
            fit,
            subgroups=ALLOC,
            sort_by="estimate",
            favours=FAVOURS,
            notes=[SOURCE],
            title="Subgroups by treatment allocation (separate \u03c4\u00b2)",
            **ratio,
        ),
        OUT / "forest_subgroups",
    )

    empty = am.pool([], [])
    save_figure(
        forest_plot(
            empty,
            effect_label="Mean difference",
            favours=("Favours cells", "Favours control"),
            title="k = 0: an empty review (as Cochrane CD011742, 2016)",
            notes=["The frame is drawn so that the absence of evidence is reported, not hidden."],
        ),
        OUT / "forest_empty",
    )
    single = am.pool(yi[:1], vi[:1], labels=labels[:1])
    save_figure(
        forest_plot(single, favours=FAVOURS, title="k = 1: one study, no pretend summary", **ratio),
        OUT / "forest_single_study",
    )

    save_figure(funnel_plot(fit, **ratio), OUT / "funnel")
    tf = trim_and_fill(fit)
    filled = tf.filled
    save_figure(
        funnel_plot(
            fit,
            contours=True,
            filled_yi=filled["yi"].to_numpy(),
            filled_vi=filled["vi"].to_numpy(),
            filled_fit=tf.fit if tf.k0 else None,
            side=tf.side or None,
            **ratio,
        ),
        OUT / "funnel_contour_trimfill",
    )

    save_figure(baujat_plot(fit), OUT / "baujat")
    loo = leave_one_out(fit)
    save_figure(leave_one_out_forest(loo, fit, title="Leave-one-out", **ratio), OUT / "leave_one_out")
    cum = cumulative(fit, order=YEAR)
    save_figure(
        cumulative_forest(cum, fit, order_note="by year of publication", title="Cumulative meta-analysis", **ratio),
        OUT / "cumulative",
    )
    subsets = gosh(fit)
    save_figure(gosh_plot(subsets, fit, **ratio), OUT / "gosh")
    infl = influence(fit)
    save_figure(influence_plot(infl, fit), OUT / "influence")
    save_figure(drapery_plot(fit, common=True, **ratio), OUT / "drapery")

    counts = PrismaCounts(identified={"Databases": None, "Other sources": None}, included_studies=13)
    save_figure(
        prisma_flow(
            counts,
            title="Identification of studies (dat.bcg: 13 trials)",
            caption="dat.bcg records the 13 included trials of Colditz et al. (1994) but none of the "
            "search counts; they are shown as not reported, never filled in.",
        ),
        OUT / "prisma",
    )

    baujat = baujat_coordinates(fit)
    write_numbers(
        OUT,
        {
            "figures": {
                stem: figure_entry(q, c, script=Path(__file__).name) for stem, (q, c) in GALLERY_FIGURES.items()
            },
            "data": "metadat dat.bcg (Colditz et al. 1994), log risk ratios",
            "model": {"method": fit.method, "test": fit.test, "k": fit.k},
            "pooled": {
                "log_rr": fit.estimate,
                "se": fit.se,
                "ci_low": fit.ci_low,
                "ci_high": fit.ci_high,
                "rr": math.exp(fit.estimate),
                "rr_ci": [math.exp(fit.ci_low), math.exp(fit.ci_high)],
                "pvalue": fit.pvalue,
                "tau2": fit.tau2,
                "i2": fit.i2,
                "q": fit.q,
                "q_df": fit.q_df,
                "q_pvalue": fit.q_pvalue,
                "pi": [fit.pi_low, fit.pi_high],
            },
            "subgroups_by_allocation": {
                "names": list(sub.names),
                "estimates": [f.estimate for f in sub.fits],
                "tau2": [f.tau2 for f in sub.fits],
                "q_between": sub.q_between,
                "q_df": sub.q_df,
                "q_pvalue": sub.q_pvalue,
            },
            "trim_and_fill": {"estimator": tf.estimator, "k0": tf.k0, "side": tf.side, "log_rr": tf.fit.estimate},
            "leave_one_out": {"min_log_rr": float(loo["estimate"].min()), "max_log_rr": float(loo["estimate"].max())},
            "gosh": {
                "subsets": len(subsets),
                "exact": bool(subsets.attrs.get("exact", True)),
                "share_i2_below_50": float((subsets["i2"] < 50).mean()),
            },
            "baujat_largest_influence": baujat.loc[baujat["y"].idxmax(), "label"],
            "influential_studies": [lab for lab, flag in zip(labels, infl["inf"]) if flag],
        },
    )


if __name__ == "__main__":
    main()
