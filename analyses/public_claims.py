"""The public claims register: every claim patients read gets a verdict, its reason and its numbers.

Thirteen statements from patient-information and clinic web pages (2024-2025;
``data/claims.csv``, synthesis ``public``) are checked against the curated
evidence in ``data/`` by :mod:`alsmeta.als.public_claims`: quoted numbers
against the sources, responder and "slower than historical controls" claims
against what untreated patients would show under the same design (the
natural-history simulator calibrated to real untreated arms), moderator claims
by subgroup analysis where at least two studies per level have usable numbers.

Writes into figures/claims/: public_claims.csv and .md (the register),
responder_null (observed responder shares beside the no-treatment
distribution), trajectories (reported lead-in vs post-treatment slopes with the
regression-to-the-mean expectation) and numbers.json, whose ``public_claims``
entry ``alsmeta reproduce`` lifts to the top level of figures/results.json.
"""

from __future__ import annotations

import warnings
from pathlib import Path

from alsmeta.als.public_claims import assess_public_claims, reported_trajectories, simulate_public_claim_nulls
from alsmeta.als.public_claims_figures import responder_figure, trajectory_figure
from alsmeta.als.public_claims_report import (
    RTM_DESIGN_TEXT,
    public_numbers,
    register_markdown,
    register_table,
    regression_to_the_mean,
    rtm_at_pre_slopes,
    verdict_counts,
)
from alsmeta.als.schema import PUBLIC_CLAIMS_REGISTER
from alsmeta.als.tables import load_evidence
from alsmeta.als.validate import validate_table
from alsmeta.io import figures_dir  # ALSMETA_FIGURES when run by alsmeta reproduce, else figures/
from alsmeta.io.reporting import figure_entry, write_numbers
from alsmeta.plots.save import save_figure
from alsmeta.plots.style import style_context

OUT = figures_dir() / "claims"
N_STUDIES = 2000
SEED = 20261205


def main() -> None:
    warnings.simplefilter("error", RuntimeWarning)
    OUT.mkdir(parents=True, exist_ok=True)
    ev = load_evidence("data")
    nulls = simulate_public_claim_nulls(ev, N_STUDIES, seed=SEED)
    verdicts = assess_public_claims(ev, nulls)
    register = register_table(verdicts)
    issues = validate_table(register.fillna(""), PUBLIC_CLAIMS_REGISTER)
    if issues:
        raise SystemExit("\n".join(str(i) for i in issues))
    register.to_csv(OUT / "public_claims.csv", index=False, lineterminator="\n")
    (OUT / "public_claims.md").write_text(register_markdown(register, nulls), encoding="utf-8")

    traj = reported_trajectories(ev)
    rtm = regression_to_the_mean(nulls, seed=SEED + 40)
    with style_context():
        save_figure(responder_figure(nulls), OUT / "responder_null")
        save_figure(trajectory_figure(traj, rtm, float(nulls.history.slope_mean)), OUT / "trajectories")

    write_numbers(
        OUT,
        {
            "figures": {
                "responder_null": figure_entry(
                    "Are the responder shares clinics and trials report more than untreated patients would show?",
                    "Observed responder shares beside the shares that simulated untreated studies of the same size "
                    "and design show (no-treatment natural history; assumptions in public_claims.md).",
                    script=Path(__file__).name,
                ),
                "trajectories": figure_entry(
                    "Do reported slowings of ALSFRS-R decline after cells exceed regression to the mean?",
                    "Reported lead-in vs post-treatment slopes against the no-change line and the simulated "
                    "regression-to-the-mean curve of untreated patients selected on their lead-in slope.",
                    script=Path(__file__).name,
                ),
            },
            "verdict_counts": {str(k): int(n) for k, n in verdict_counts(register).items()},
            "no_treatment": nulls.summary(),
            "trajectories": traj.to_dict("records"),
            "rtm_post_slope_at_pre_slope": rtm_at_pre_slopes(rtm),
            "rtm_design": RTM_DESIGN_TEXT,
            "n_studies": N_STUDIES,
            "seed": SEED,
        },
        top_level={"public_claims": public_numbers(verdicts)},
    )


if __name__ == "__main__":
    main()
