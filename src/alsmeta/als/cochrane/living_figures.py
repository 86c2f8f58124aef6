"""The figures of the living update: responder forests, the one-trial harm forests, PRISMA flow, RoB 2 and TSA."""

from __future__ import annotations

from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from alsmeta.als.cochrane.living import ResponderEvidence
from alsmeta.als.cochrane.living_flow import prisma_counts
from alsmeta.als.cochrane.living_tsa import AlsfrsTsa, firmness
from alsmeta.als.screening import Screening
from alsmeta.io.reporting import figure_entry
from alsmeta.plots.forest import forest_plot, symmetric_xlim
from alsmeta.plots.forest_multi import OutcomeBlock, multi_outcome_forest
from alsmeta.plots.prisma import prisma_flow
from alsmeta.plots.sequential import trial_sequential_plot

FAVOURS = ("Favours control", "Favours cells")
TSA_Z_LABEL = "Cumulative Z (> 0 favours cells)"


def responders_forest(r: ResponderEvidence) -> Figure:
    """The primary responder presentation: each trial as it defined response, side by side, not pooled."""
    arms = [
        r.oh_arms,
        pd.DataFrame({"events1": [None], "n1": [None], "events2": [None], "n2": [None]}),
    ]
    notes = [
        ("Counts (Table 3); unadjusted OR.", "Control: open-label riluzole alone."),
        (
            f"Counts not reported: {r.cu_percent['msc_ntf']:g}% vs {r.cu_percent['placebo']:g}%.",
            f"Published adjusted OR {r.cu_or:g}, P = {r.cu_p:g};",
            "SE from the P value (derived). Placebo control.",
        ),
    ]
    return multi_outcome_forest(
        [
            OutcomeBlock(f"{lab}: {d}", fit, a, n)
            for lab, d, fit, a, n in zip(r.labels, r.definitions, r.singles, arms, notes, strict=True)
        ],
        measure="OR",
        arm_names=("Cells", "Control"),
        favours=FAVOURS,
        xlim=(0.1, 100),
        title="Living update (2026): responders as each trial defined them, not pooled",
        notes=[
            "The two trials define response differently (relative vs absolute slope improvement, 6 months vs 28 "
            "weeks): their results are shown side by side and not pooled.",
            "A pooled OR is given only as a sensitivity analysis (forest_responders_pooled_sensitivity). "
            "Berry 2019 (\u2265 1.5 points/month) reports only P values and cannot be shown.",
        ],
    )


def responders_pooled_forest(r: ResponderEvidence) -> Figure:
    """The pool across different responder definitions, titled and noted as a sensitivity analysis only."""
    return forest_plot(
        r.pooled["knha"],
        log_scale=True,
        effect_label="Odds ratio",
        favours=FAVOURS,
        xlim=(0.01, 100),
        digits=2,
        columns={"Definition": ["\u2265 50%, 6 mo", "\u2265 1.25/mo, 28 wk"]},
        panel_width=1.6,
        font_size=7.0,
        title="SENSITIVITY ANALYSIS ONLY: responders pooled across different definitions",
        notes=[
            "Not a valid summary: the definitions, time points, controls and adjustment differ. The primary "
            "presentation is forest_responders (unpooled).",
            "REML, Hartung-Knapp-Sidik-Jonkman interval with 1 df. Cudkowicz 2022: published adjusted OR 1.33 "
            "(P = .45); its SE is back-calculated from the P value (derived).",
        ],
    )


def sparse_outcome_forest(binary: dict[str, Any], title: str) -> Figure:
    """One trial's risk ratio of a harm (:func:`alsmeta.als.cochrane.living.nurown_binary`, estimable)."""
    fit, (e1, e2), (d1, d2) = binary["fit"], binary["events"], binary["denominators"]
    notes = [
        *binary["notes"],
        "Mantel-Haenszel RR (primary); with one trial it equals the inverse-variance RR drawn here.",
    ]
    return forest_plot(
        fit,
        log_scale=True,
        effect_label="Risk ratio",
        favours=("Favours cells", "Favours placebo"),
        xlim=symmetric_xlim(fit, log_scale=True),
        columns={"MSC-NTF": [f"{int(e1)}/{int(d1)}"], "Placebo": [f"{int(e2)}/{int(d2)}"]},
        title=f"Living update: {title}",
        notes=notes,
    )


def prisma_figure(screening: Screening) -> Figure:
    """The living update's PRISMA 2020 flow from its own screening; steps not done are "not reported"."""
    return prisma_flow(
        prisma_counts(screening),
        title=f"Living update of CD011742: evidence as of {screening.search_date:%d %B %Y}".replace(" 0", " "),
        caption=(
            f"No new database search: the {len(screening.table)} candidates are every study in this project's "
            "evidence notes (data/studies.csv), each assessed against the pub3 criteria from its records "
            "(data/screening.csv, alsmeta.als.screen). Record screening and report retrieval were not separate "
            "steps, so those counts are shown as not reported."
        ),
    )


def tsa_figure(a: AlsfrsTsa) -> Figure:
    """Cumulative Z against the O'Brien-Fleming boundaries, with the RIS's source and what could not enter."""
    tsa, mcid = a.tsa, a.mcid
    _, firm = firmness(tsa)
    verdict = "crosses" if tsa.crossed else "does not cross"
    title = (
        f"ALSFRS-R change at 6 months: one trial ({int(tsa.cumulative_participants[-1])} of the {tsa.ris:.0f} "
        f"participants required) gives Z = {tsa.z[-1]:.2f}.\nIt passes the conventional 1.96 but {verdict} the "
        f"monitoring boundary ({tsa.boundary[-1]:.2f}): {firm} evidence."
    )
    notes = [
        f"RIS from the definitive-trial power calculation's inputs (normal approximation; its exact t-test gives "
        f"{2 * a.n_per_arm_exact_t}): the effect is the lower 95% limit of Oh 2018's MD, fixed "
        f"in advance (sensitivity, the assumed MCID {a.inputs['mcid']:.2f} points: RIS {mcid.ris:.0f}, boundary "
        f"{mcid.boundary[-1]:.2f}, {'crossed' if mcid.crossed else 'not crossed'}).",
        f"Not entered: Cudkowicz 2022 (NurOwn phase 3, 28 weeks): difference {a.nurown_md.value:g} points reported "
        f"without SE or CI.",
    ]
    return trial_sequential_plot(tsa, z_label=TSA_Z_LABEL, title=title, notes=notes)


def figure_entries(a: AlsfrsTsa, script: str) -> dict[str, dict[str, str]]:
    """The figures the living update writes, each with the question it answers (for figures/README.md)."""
    tsa = a.tsa
    entries = {
        "prisma": (
            "Which trials does the living update (evidence as of 2026) include, and why were the others excluded?",
            "PRISMA 2020 flow of this project's own screening of every study in its evidence notes against the pub3 "
            "criteria; no new database search; steps that were not done are shown as not reported.",
        ),
        "risk_of_bias": (
            "How trustworthy is each included trial's main result?",
            "RoB 2 traffic light and summary across trials; this project's own judgements, not Cochrane's.",
        ),
        "cumulative_tsa": (
            "Is the randomised evidence on ALSFRS-R change at 6 months firm enough to stop asking?",
            f"Cumulative Z by publication year against O'Brien-Fleming alpha-spending boundaries; RIS "
            f"{tsa.ris:.0f} participants from the definitive-trial power calculation's inputs (effect "
            f"{tsa.information_size.delta:.2f} points fixed in advance, SD {tsa.information_size.sd:.2f}; normal "
            f"approximation - its exact t-test gives 2 x {a.n_per_arm_exact_t} = {2 * a.n_per_arm_exact_t}); "
            f"only Oh 2018 reports a 6-month difference with an SE.",
        ),
        "forest_responders": (
            "Did more patients respond to cells than to control, by each trial's own responder definition?",
            "Oh 2018 and Cudkowicz 2022 side by side, not pooled (definitions differ); odds ratios with 95% CI.",
        ),
        "forest_responders_pooled_sensitivity": (
            "How fragile would a pooled responder odds ratio be?",
            "SENSITIVITY ANALYSIS ONLY: the two trials pooled across different definitions (REML, HKSJ with 1 df); "
            "not a valid summary.",
        ),
        "forest_serious_adverse_events": (
            "Do cells change the risk of serious adverse events?",
            "Cudkowicz 2022 only (registry adverse-event module); risk ratio with 95% CI.",
        ),
        "forest_deaths": (
            "Do cells change the risk of death within 28 weeks?",
            "Cudkowicz 2022 only; denominators not reported and assumed to be the treated N of each arm.",
        ),
    }
    return {stem: figure_entry(q, c, script=script) for stem, (q, c) in entries.items()}
