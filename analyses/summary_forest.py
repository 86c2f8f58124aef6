"""One summary forest across outcomes: what the randomised evidence says, outcome by outcome.

One row per result of the living update of Cochrane CD011742 (evidence as of
2026), computed from data/ with the same functions as the Cochrane analyses:

* ALSFRS-R change from baseline to 4 and to 6 months, and FVC % predicted
  change to 4 months (Oh 2018, the only RCT with arm-level continuous data;
  inverse-variance mean differences, as ``cochrane_2019_pub3.py``);
* ALSFRS-R change to 28 weeks in the NurOwn phase 3 (Cudkowicz 2022): a
  difference was reported without SE or CI, so the row says "not estimable"
  and draws nothing;
* deaths and serious adverse events to 28 weeks (Cudkowicz 2022, risk ratios,
  as ``cochrane_living_2026.py``; the deaths denominators are assumed).

Each row gives k, participants, the effect with its 95% CI and the certainty
statement. Cochrane's GRADE ratings were not retrievable and this project
made no GRADE judgement, so every row says "not assessed" with that reason.
Units differ between outcomes, so each section (ALSFRS-R in points, FVC in %
predicted, safety as risk ratios) has its own axis. Writes into
figures/summary/ (a folder of its own so that its numbers.json sits beside the
figure, like every other analysis).
"""

from __future__ import annotations

import warnings
from pathlib import Path

from alsmeta.als.cochrane.living import REVIEW
from alsmeta.als.cochrane.living_risk_of_bias import read_risk_of_bias
from alsmeta.als.summary import CERTAINTY, CERTAINTY_REASON, footnotes, summary_rows, summary_sentence
from alsmeta.als.summary_figure import summary_forest_figure
from alsmeta.als.tables import load_evidence
from alsmeta.io import figures_dir  # ALSMETA_FIGURES when run by alsmeta reproduce, else figures/
from alsmeta.io.reporting import figure_entry, write_numbers
from alsmeta.plots.save import save_figure

OUT = figures_dir() / "summary"
SCRIPT = Path(__file__).name


def main() -> None:
    warnings.simplefilter("error", RuntimeWarning)
    OUT.mkdir(parents=True, exist_ok=True)
    ev = load_evidence("data")
    rows = summary_rows(ev)
    rob = read_risk_of_bias("data", REVIEW)
    oh_rob = rob[(rob.study_id == "oh2018") & (rob.domain == "overall")].judgement.iloc[0]
    fig = summary_forest_figure(
        rows,
        "Cell therapy vs control in ALS: randomised evidence as of 2026, outcome by outcome",
        footnotes(rows, oh_rob),
    )
    save_figure(fig, OUT / "summary_forest")
    write_numbers(
        OUT,
        {
            "figures": {
                "summary_forest": figure_entry(
                    "What does the randomised evidence (as of 2026) say about each outcome, and how much of it is "
                    "there?",
                    "One row per result (ALSFRS-R at 4 months, 6 months and 28 weeks, FVC at 4 months, deaths and "
                    "serious adverse events at 28 weeks) with k, participants, effect and 95% CI; certainty not "
                    "assessed (GRADE not retrievable).",
                    script=SCRIPT,
                )
            },
            "rows": {r.key: r.to_dict() for r in rows},
            "readme_sentence": summary_sentence(rows),
            "certainty": {"statement": CERTAINTY, "reason": CERTAINTY_REASON},
            "estimable_rows": sum(r.estimate is not None for r in rows),
            "largest_k": max(r.k for r in rows),
        },
    )


if __name__ == "__main__":
    main()
