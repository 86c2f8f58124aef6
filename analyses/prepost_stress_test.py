"""Stress test of the within-patient (pre-post) design behind Morata-Tarifa et al. 2021.

The 2021 meta-analysis compared each patient's ALSFRS-R and FVC progression
after cell administration with his own progression before it, without a
control group. This script asks what that design finds when the cells do
nothing, and whether the published claims survive:

1. **The null by design.** For each study design of the reconstruction
   (presets of :mod:`alsmeta.simulate`, cited natural history), the
   distribution of the study-level slope change with no treatment effect and
   the share of single-arm studies reporting significant slowing.
2. **Mechanisms.** Starting from a baseline with no mechanism (linear
   courses, no floor, no attrition, no selection: only measurement error),
   each mechanism alone - floor and scale, decelerating or accelerating
   courses, larger visit-to-visit variability, enrolment after a measured
   decline (at the assumed ALSFRS-R measurement error of 1.3 points, at half
   and at double it), death and dropout - then
   the cited history as the studies were designed, and all together: false-positive rate of one study and of an 11-study
   random-effects meta-analysis at the published size (220 patients), with
   Monte-Carlo standard errors.
3. **The empirical null.** The simulated null next to Oh 2018's untreated
   arm analysed the same way.
4. **Missing studies.** The 2021 analysis pooled 11 studies; numbers exist
   for two (ALSFRS-R) or one (FVC). The missing ones are added with effects
   drawn from the simulated null, or from the reconstruction's own estimate,
   and the share of replicates in which each claim still holds is counted.
5. **The multiverse.** Every defensible analysis choice together (estimator,
   interval, secondary source, sign ambiguity, p-value conversion, unit, time
   point, study subset, frequentist or Bayesian) as a specification curve,
   fitted in batches by :mod:`alsmeta.diagnostics.multiverse`. Shares count *distinct
   analyses* (choice combinations that give the same fit counted once), with
   the number of choice combinations beside them, and the rebuild's own
   dependence on single sources (without Kim 2009, without secondary
   sources, ...) is reported.

Sections 4 and 5 are properties of this project's *rebuild* of the 2021
analysis from the study-level numbers it could find (Oh 2018 MSC arm, Kim
2009, Petrou 2016 from secondary sources), not of the 2021 paper, which
published no study-level data.

The analysis lives in :mod:`alsmeta.als.prepost_stress`; the study-level inputs
are recomputed from ``data/`` with :mod:`alsmeta.als.msc2021`, so this script
stands alone. Writes figures (PNG + SVG), CSV tables and ``numbers.json`` into
``figures/stress/``. Every rate comes with its Monte-Carlo standard error
``sqrt(p (1 - p) / R)``.
"""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd

from alsmeta.als.prepost_stress.figures import STRESS_FIGURES, draw_figures
from alsmeta.als.prepost_stress.mechanisms import mechanisms_table, null_by_design_table
from alsmeta.als.prepost_stress.multiverse import csv_text, specification_tables
from alsmeta.als.prepost_stress.stress_test import run_stress_test, stress_numbers
from alsmeta.als.tables import load_evidence
from alsmeta.io import figures_dir  # ALSMETA_FIGURES when run by alsmeta reproduce, else figures/
from alsmeta.io.reporting import figure_entry, write_numbers
from alsmeta.plots.save import save_figure

OUT = figures_dir() / "stress"


def _csv(frame: pd.DataFrame, name: str) -> None:
    (OUT / name).write_text(csv_text(frame), encoding="utf-8")


def main() -> None:
    t0 = time.perf_counter()
    OUT.mkdir(parents=True, exist_ok=True)
    result = run_stress_test(load_evidence("data"), report=print)

    for stem, fig in draw_figures(result).items():
        save_figure(fig, OUT / stem)
    _csv(null_by_design_table(result.design_numbers), "null_by_design.csv")
    _csv(mechanisms_table(result.mechanisms), "mechanisms.csv")
    _csv(pd.concat(list(result.missing_curves.values()), ignore_index=True), "missing_studies.csv")
    for key, res in result.multiverse_results.items():
        combos, distinct = specification_tables(res, result.multiverse[key]["direction"])
        _csv(combos, f"specifications_{key}.csv")
        _csv(distinct, f"distinct_analyses_{key}.csv")
    _csv(result.inputs.reset_index(), "multiverse_inputs.csv")

    numbers = stress_numbers(result)
    numbers["figures"] = {
        stem: figure_entry(question, caption, script=Path(__file__).name)
        for stem, (question, caption) in STRESS_FIGURES.items()
    }
    write_numbers(OUT, numbers)
    print(f"prepost_stress_test: done in {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
