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

import warnings
from pathlib import Path

import alsmeta as am
from alsmeta.als.gallery import ALLOC, FAVOURS, SOURCE, YEAR, bcg_columns, bcg_effects, bcg_labels, gallery_numbers
from alsmeta.diagnostics.baujat import baujat_coordinates
from alsmeta.diagnostics.bias import trim_and_fill
from alsmeta.diagnostics.sensitivity import cumulative, gosh, influence, leave_one_out
from alsmeta.io import figures_dir  # ALSMETA_FIGURES when run by alsmeta reproduce, else figures/
from alsmeta.io.reporting import write_numbers
from alsmeta.plots import (
    PrismaCounts,
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
)

OUT = figures_dir() / "gallery"


def main() -> None:
    warnings.simplefilter("error", RuntimeWarning)
    OUT.mkdir(parents=True, exist_ok=True)
    yi, vi = bcg_effects()
    labels = bcg_labels()
    fit = am.pool(yi, vi, method="REML", test="z", labels=labels)
    ratio = {"log_scale": True, "effect_label": "Risk ratio"}
    columns = bcg_columns()

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

    sub = am.subgroup_analysis_of(fit, ALLOC)
    save_figure(
        forest_plot(
            fit,
            subgroups=sub,
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

    numbers = gallery_numbers(fit, sub, tf, loo, subsets, baujat_coordinates(fit), infl, script=Path(__file__).name)
    write_numbers(OUT, numbers)


if __name__ == "__main__":
    main()
