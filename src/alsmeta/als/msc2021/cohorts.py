"""Candidate reports of the 2021 meta-analysis, their cohorts, and which selections match the published counts."""

from __future__ import annotations

from typing import Any

import pandas as pd

from alsmeta.als import availability as avail
from alsmeta.als.claims_check import (
    Cohort,
    cohort_sums,
    max_disjoint_total,
    sums_by_size_choice,
)
from alsmeta.als.tables import Evidence

# The 2021 subgroups the candidates would fall in, and which reports describe the same patients.
# Overlaps come from shared/evidence/msc2021.md section 4 (NSI-566 reports; Mazzini 2015 within Mazzini 2019);
# MSC-NTF counted as MSC is INFERRED. Sizes: every count the evidence gives for the report.
COHORTS: dict[str, tuple[str, tuple[int, ...], tuple[str, ...], str]] = {
    "kim2009": ("MSC", (22,), (), "22 treated"),
    "mazzini2003": (
        "MSC",
        (),
        ("novara_msc",),
        "n not in the abstract (often cited as 7: unverified); probably within Mazzini 2012's two phase I trials "
        "(INFERRED)",
    ),
    "mazzini2012": ("MSC", (19,), ("novara_msc",), "19, pooled from two consecutive phase I trials"),
    "karussis2010": ("MSC", (19,), (), "19 ALS patients (plus 15 MS)"),
    "oh2015": ("MSC", (7,), (), "8 enrolled, 7 treated"),
    "petrou2016": ("MSC", (26,), (), "IM 6 + IT 6 + IM+IT 14; MSC-NTF counted as MSC (INFERRED)"),
    "staff2016": ("MSC", (27,), (), "27 treated"),
    "sykova2017": ("MSC", (26, 23), (), "26 safety / 23 efficacy"),
    "nabavi2018": ("MSC", (14,), (), "IV 6 + IT 8"),
    "oh2018": ("MSC", (33, 32), (), "33 randomised to MSC / 32 in the ALSFRS-R slope analysis"),
    "berry2019": ("MSC", (36,), (), "36 MSC-NTF; MSC-NTF counted as MSC (INFERRED)"),
    "barczewska2020": (
        "MSC",
        (67,),
        (),
        "67 treated; same centre as the Olsztyn study (overlap UNCERTAIN, not assumed)",
    ),
    "olsztyn_wjmsc": (
        "MSC",
        (43,),
        (),
        "43 treated; year not in the data (listed as a pre-2021 candidate in the evidence notes)",
    ),
    "glass2012": ("NSC", (12,), ("nsi566_phase1",), "early report of the NSI-566 phase I (12)"),
    "riley2014": ("NSC", (15,), ("nsi566_phase1",), "NSI-566 phase I, 15 patients"),
    "feldman2014": ("NSC", (15,), ("nsi566_phase1",), "NSI-566 phase I final (15)"),
    "glass2016": ("NSC", (15,), ("nsi566_phase2",), "NSI-566 phase II (15)"),
    "goutman2018": ("NSC", (21, 20), ("nsi566_phase1", "nsi566_phase2"), "phase I+II subsets (21 / 20)"),
    "mazzini2015": ("NSC", (6,), ("novara_hnsc",), "first 6 patients of the Novara hNSC phase I"),
    "mazzini2019": ("NSC", (18,), ("novara_hnsc",), "full Novara hNSC phase I (18), includes Mazzini 2015 (INFERRED)"),
    "jns2016_autologous_nsc": ("NSC", (8,), (), "8 injected"),
    "blanquer2012": ("MNC", (11,), (), "11 treated"),
    "geijo_barrientos2020": ("MNC", (22,), (), "22 (treated muscle vs placebo-injected muscle)"),
}

PUBLISHED_COUNTS = {"MSC": 152, "NSC": 57, "MNC": 11}

# Rows without timepoint_months whose window is known from the report
# (Oh 2018: first follow-up, 16 weeks per the registry; INFERRED)
TIMEPOINT_MONTHS = {("oh2018", "lead-in vs follow-up"): 4.0}


def availability_table(ev: Evidence) -> pd.DataFrame:
    """Every candidate report x outcome x window: the best evidence in data/.

    Parameters
    ----------
    ev
        The evidence tables (:func:`alsmeta.als.tables.load_evidence`).

    Returns
    -------
    pandas.DataFrame
        One row per report, outcome and window (:func:`alsmeta.als.availability.availability_table`), the
        2021 subgroup in ``subgroup_2021``; Oh 2018's 'lead-in vs follow-up' is placed at 4 months
        (:data:`TIMEPOINT_MONTHS`).
    """
    labels = ev.studies.set_index("study_id")["label"].astype(str).to_dict()
    frame = avail.availability_table(
        ev.outcomes, ev.qualitative, {sid: c[0] for sid, c in COHORTS.items()}, labels, TIMEPOINT_MONTHS
    )
    return frame.rename(columns={"group": "subgroup_2021"})


def _sharing_patients(report: str, groups: tuple[str, ...]) -> list[str]:
    """The other candidate reports that describe some of the same patients as ``report``."""
    return [o for o, (_, _, gr2, _) in COHORTS.items() if o != report and set(gr2) & set(groups)]


def candidate_table(ev: Evidence, effects_by_study: dict[str, str]) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The candidate reports and which selections of them match the published counts (MSC 152, NSC 57, MNC 11).

    Counts use :func:`alsmeta.als.claims_check.cohort_sums` (reports of the same patients are never
    counted twice unless ``allow_overlap``), :func:`~alsmeta.als.claims_check.max_disjoint_total` and
    :func:`~alsmeta.als.claims_check.sums_by_size_choice` over the cohort definitions in :data:`COHORTS`.

    Parameters
    ----------
    ev
        The evidence tables (study labels, years, designs, qualitative statements).
    effects_by_study
        What each candidate with a within-patient number reports (the ``numbers_available`` column).

    Returns
    -------
    tuple
        The candidate table (one row per report) and the count matching per subgroup, with the MSC
        count's choices (sizes, MSC-NTF counted as MSC) spelled out under ``count_choices``.
    """
    studies = ev.studies.set_index("study_id")
    cohorts = {
        g: [Cohort(sid, sizes, groups) for sid, (sg, sizes, groups, _) in COHORTS.items() if sg == g and sizes]
        for g in PUBLISHED_COUNTS
    }
    match: dict[str, Any] = {}
    label = {sid: str(studies.loc[sid, "label"]) for sid in COHORTS}
    for g, target in PUBLISHED_COUNTS.items():
        exact = cohort_sums(cohorts[g], target)
        overlapping = cohort_sums(cohorts[g], target, allow_overlap=True)
        best, best_sel = max_disjoint_total(cohorts[g])
        appear = {c.report: sum(any(r == c.report for r, _ in sel) for sel in exact) for c in cohorts[g]}
        match[g] = {
            "published": target,
            "candidates": [c.report for c in cohorts[g]],
            "selections_matching": len(exact),
            "selections_matching_with_double_counting": len(overlapping),
            "max_disjoint_total": best,
            "max_disjoint_selection": [f"{label[r]} ({n})" for r, n in best_sel],
            "examples": [[f"{label[r]} ({n})" for r, n in sel] for sel in (exact or overlapping)[:3]],
            "appearances": appear,
        }
    msc = cohorts["MSC"]
    multi = {c.report: sorted(set(c.sizes)) for c in msc if len(set(c.sizes)) > 1}
    ntf = [sid for sid, (_, _, _, note) in COHORTS.items() if "MSC-NTF counted as MSC" in note]
    by_choice = sums_by_size_choice(msc, PUBLISHED_COUNTS["MSC"])
    no_ntf = [c for c in msc if c.report not in ntf]
    by_choice_no_ntf = sums_by_size_choice(no_ntf, PUBLISHED_COUNTS["MSC"])
    match["MSC"]["count_choices"] = {
        "candidates_counted": {label[c.report]: list(c.sizes) for c in msc},
        "left_out_n_unknown": [label[sid] for sid, (sg, sizes, _, _) in COHORTS.items() if sg == "MSC" and not sizes],
        "alternative_sizes": {label[r]: v for r, v in multi.items()},
        "alternative_sizes_why": {label[sid]: COHORTS[sid][3] for sid in multi},
        "msc_ntf_counted_as_msc": [label[sid] for sid in ntf],
        "selections_either_size": len(cohort_sums(msc, PUBLISHED_COUNTS["MSC"])),
        "by_fixed_size": [{"sizes": {label[r]: n for r, n in ch.items()}, "selections": cnt} for ch, cnt in by_choice],
        "range_fixed_size": [min(cnt for _, cnt in by_choice), max(cnt for _, cnt in by_choice)],
        "without_msc_ntf_either_size": len(cohort_sums(no_ntf, PUBLISHED_COUNTS["MSC"])),
        "without_msc_ntf_range_fixed_size": [
            min(cnt for _, cnt in by_choice_no_ntf),
            max(cnt for _, cnt in by_choice_no_ntf),
        ],
    }
    q = ev.qualitative
    rows = []
    for sid, (sg, sizes, groups, size_note) in COHORTS.items():
        s = studies.loc[sid]
        numeric = effects_by_study.get(sid, "")
        if not numeric:
            has_q = sid in set(q.study_id)
            numeric = "direction in words only" if has_q else "no pre/post number or statement retrieved"
        if sid == "sykova2017":
            numeric = "direction with p < 0.02, no estimate"
        m = match[sg]
        if sg == "MNC":
            fits = (
                "matches MNC n = 11 exactly (the only MNC candidate that does; identification INFERRED)"
                if 11 in sizes
                else f"cannot be the MNC group: n = {'/'.join(map(str, sizes))}, not 11"
            )
        elif sg == "NSC":
            fits = (
                "NSC candidate; no selection of non-overlapping NSC cohorts reaches 57 (maximum "
                f"{m['max_disjoint_total']})"
                + (
                    "; shares patients with " + ", ".join(sorted(label[o] for o in _sharing_patients(sid, groups)))
                    if groups
                    else ""
                )
            )
        else:
            fits = (
                f"in {m['appearances'].get(sid, 0)} of the {m['selections_matching']} selections of MSC candidates "
                "summing to 152"
                if sizes
                else "n unknown: cannot enter the count"
            )
        rows.append(
            {
                "study_id": sid,
                "study": s["label"],
                "year": s["year"],
                "subgroup_2021": sg,
                "cell_type": s["cell_type"],
                "route": s["route"],
                "design": s["design"],
                "n_treated": "/".join(map(str, sizes)) if sizes else "not reported",
                "n_note": size_note,
                "lead_in": s["lead_in"] or "not stated",
                "numbers_available": numeric,
                "fits_2021_count": fits,
            }
        )
    return pd.DataFrame(rows), match
