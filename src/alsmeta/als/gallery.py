"""The gallery's example data: the 13 BCG vaccine trials of Colditz et al. (1994), and the figures drawn on them.

The data are metadat's ``dat.bcg`` (Colditz GA, Brewer TF, Berkey CS, et al.
Efficacy of BCG vaccine in the prevention of tuberculosis: meta-analysis of
the published literature. JAMA 1994;271:698-702), a classic example every
metafor user knows, so every number the gallery prints can be checked against
metafor. Effects are log risk ratios pooled with REML and a z test
(metafor's defaults). This is the one example in the ALS layer that is not
about ALS: it shows what each renderer of :mod:`alsmeta.plots` draws.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from alsmeta.diagnostics.bias import TrimFillResult
from alsmeta.io.reporting import figure_entry
from alsmeta.models.moderators import SubgroupResult
from alsmeta.models.pooling import PooledResult

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
    """Log risk ratios and their variances, as ``metafor::escalc(measure="RR", ai=tpos, bi=tneg, ci=cpos, di=cneg)``."""
    tpos, tneg, cpos, cneg = (np.asarray(x, dtype=float) for x in (TPOS, TNEG, CPOS, CNEG))
    yi = np.log(tpos / (tpos + tneg)) - np.log(cpos / (cpos + cneg))
    vi = 1 / tpos - 1 / (tpos + tneg) + 1 / cpos - 1 / (cpos + cneg)
    return yi, vi


def bcg_labels() -> list[str]:
    """Study labels "author year" in the order of dat.bcg."""
    return [f"{a} {y}" for a, y in zip(AUTHOR, YEAR, strict=True)]


def bcg_columns() -> dict[str, list[str]]:
    """The forest's arm columns: TB cases / participants in each arm."""
    return {
        "BCG\n(TB / n)": [f"{p} / {p + n}" for p, n in zip(TPOS, TNEG, strict=True)],
        "Control\n(TB / n)": [f"{p} / {p + n}" for p, n in zip(CPOS, CNEG, strict=True)],
    }


GALLERY_FIGURES = {
    # stem: (the question the figure answers, caption); every figure is drawn on dat.bcg (13 BCG vaccine trials)
    "forest": (
        "What does a metafor/RevMan-style forest plot from alsmeta look like?",
        "dat.bcg: 13 BCG trials, log risk ratios, REML with z test, common and random-effects diamonds, "
        "prediction interval.",
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


def gallery_numbers(
    fit: PooledResult,
    subgroups: SubgroupResult,
    trim_fill: TrimFillResult,
    loo: pd.DataFrame,
    subsets: pd.DataFrame,
    baujat: pd.DataFrame,
    influence: pd.DataFrame,
    script: str,
) -> dict[str, Any]:
    """The numbers behind the gallery's figures (each checkable against metafor on dat.bcg)."""
    return {
        "figures": {stem: figure_entry(q, c, script=script) for stem, (q, c) in GALLERY_FIGURES.items()},
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
            "names": list(subgroups.names),
            "estimates": [f.estimate for f in subgroups.fits],
            "tau2": [f.tau2 for f in subgroups.fits],
            "q_between": subgroups.q_between,
            "q_df": subgroups.q_between_df,
            "q_pvalue": subgroups.q_between_pvalue,
        },
        "trim_and_fill": {
            "estimator": trim_fill.estimator,
            "k0": trim_fill.k0,
            "side": trim_fill.side,
            "log_rr": trim_fill.fit.estimate,
        },
        "leave_one_out": {"min_log_rr": float(loo["estimate"].min()), "max_log_rr": float(loo["estimate"].max())},
        "gosh": {
            "subsets": len(subsets),
            "exact": bool(subsets.attrs.get("exact", True)),
            "share_i2_below_50": float((subsets["i2"] < 50).mean()),
        },
        "baujat_largest_influence": baujat.set_index("label")["y"].idxmax(),
        "influential_studies": [lab for lab, flag in zip(fit.labels, influence["inf"], strict=True) if flag],
    }
