"""Morata-Tarifa et al. 2021 (npj Regen Med 6:20), reconstructed from the primary studies.

The 2021 meta-analysis pooled each treated patient's ALSFRS-R and FVC
progression before versus after cell administration (11 studies, 220
patients: MSC 152, NSC 57, MNC 11) and concluded that intrathecal MSC had a
transient positive effect on ALSFRS-R while FVC worsened after all
interventions. Its study list and numbers were not retrievable
(shared/evidence/msc2021.md), so this script rebuilds the analysis from what
the candidate primary studies verifiably report, and states which claims
that evidence reproduces, contradicts or cannot assess.

Effect measure: the within-patient change in progression rate, post-treatment
slope minus pre-treatment (lead-in) slope, in points/month (ALSFRS-R) or
% predicted/month (FVC); positive = slower decline after cells. Standard
errors come only from documented conversions (SD of the change / sqrt(n);
paired-t p-value with df = n - 1). Studies without a usable spread are listed
as not assessable, never given an invented one.

Every verdict follows from one pre-specified primary analysis, REML + HKSJ
(t with k - 1 df; a single study keeps its z interval); z intervals, the other
estimators and tests, data choices and a Bayesian model are reported as
agreement, counted as distinct analyses (alsmeta.diagnostics.multiverse.distinct_analyses).
Such agreement describes this rebuild, not the 2021 paper. "Transient" is judged
on Oh 2018's between-arm gain per follow-up window
(alsmeta.als.windows), under the stated range of the unreported
within-patient correlation.

The analysis itself lives in :mod:`alsmeta.als.msc2021` (cohorts, effects,
pooling, transience, verdicts, report, figures); this script loads data/, runs
it and writes into figures/msc2021/: candidate table, study availability map,
effect table, forest plots by cell type and route at each time point, the
estimator x test sweep, data-choice sensitivity, a Bayesian analysis
(half-normal priors on tau, Röver 2020), the empirical null (Oh 2018's
untreated arm analysed the same way), the window increments ("transience"), the
claims check (CSV, Markdown, figure), a readable report and numbers.json.
"""

from __future__ import annotations

import warnings
from pathlib import Path

from alsmeta.als.msc2021.figures import MSC2021_FIGURES, draw_figures
from alsmeta.als.msc2021.reconstruction import reconstruct, reconstruction_numbers
from alsmeta.als.msc2021.report import claims_markdown, reconstruction_report
from alsmeta.als.tables import load_evidence
from alsmeta.io import figures_dir  # ALSMETA_FIGURES when run by alsmeta reproduce, else figures/
from alsmeta.io.reporting import figure_entry, write_numbers
from alsmeta.plots.save import save_figure

OUT = figures_dir() / "msc2021"


def main() -> None:
    warnings.simplefilter("error", RuntimeWarning)
    OUT.mkdir(parents=True, exist_ok=True)
    rec = reconstruct(load_evidence("data"))

    rec.effects_frame.to_csv(OUT / "effects.csv", index=False, lineterminator="\n")
    rec.excluded.to_csv(OUT / "not_assessable.csv", index=False, lineterminator="\n")
    for name, sweep in rec.sweeps.items():
        sweep.to_csv(OUT / f"sweep_{name}.csv", index=False, lineterminator="\n", float_format="%.6g")
    rec.candidates.to_csv(OUT / "candidates.csv", index=False, lineterminator="\n")
    rec.availability.to_csv(OUT / "availability.csv", index=False, lineterminator="\n")
    rec.claims_frame.to_csv(OUT / "claims.csv", index=False, lineterminator="\n", float_format="%.4f")
    for stem, fig in draw_figures(rec).items():
        save_figure(fig, OUT / stem)

    report = reconstruction_report(
        rec.candidates,
        rec.effects_frame,
        rec.excluded,
        rec.pool_table,
        rec.bayes_table,
        rec.claims_markdown_frame,
        rec.match,
        rec.transience,
    )
    (OUT / "reconstruction.md").write_text(report, encoding="utf-8")
    (OUT / "claims.md").write_text(claims_markdown(rec.claims_markdown_frame), encoding="utf-8")

    numbers = reconstruction_numbers(rec)
    numbers["figures"] = {
        stem: figure_entry(question, caption, script=Path(__file__).name)
        for stem, (question, caption) in MSC2021_FIGURES.items()
    }
    write_numbers(OUT, numbers)


if __name__ == "__main__":
    main()
