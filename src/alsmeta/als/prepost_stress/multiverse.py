"""The multiverse of the rebuild: fits, shares over distinct analyses, single-source dependencies, tables."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from alsmeta.als.msc2021.protocol import TAU_SCALES
from alsmeta.als.prepost_stress.specifications import NA, alsfrs_specifications, fvc_specifications
from alsmeta.diagnostics import multiverse as mv

REBUILD_BASIS = (
    "Property of this project's rebuild, not of the 2021 paper: Morata-Tarifa et al. 2021 published no study-level "
    "data, so "
    "these analyses pool the study-level numbers this project could find (Oh 2018 MSC arm, Table 3; Kim 2009, "
    "abstract; "
    "Petrou 2016, secondary sources only) with the reconstruction's functions. Shares count distinct analyses (choice "
    "combinations that give the same fitted result counted once); the number of choice combinations is given beside "
    "them."
)


@dataclass(frozen=True)
class Subset:
    """A named restriction of a multiverse (e.g. every analysis without Kim 2009) and how it is defined."""

    key: str
    definition: str
    rows: np.ndarray  # boolean mask over the specifications


def rebuild_subsets(res: mv.MultiverseResult, table: pd.DataFrame) -> list[Subset]:
    """The rebuild's single-source dependencies: analyses with and without each study, source and inference.

    A specification uses a study when its slot names an effect; it uses a
    secondary source when any of its effects has status ``secondary`` in
    ``table`` (the reconstruction's provenance labels).
    """
    s = res.specifications
    used = {slot: res.uses(slot).to_numpy() for slot in res.slots}
    secondary = set(table.index[table.status == "secondary"])
    uses_secondary = np.array([any(s.at[i, slot] in secondary for slot in res.slots) for i in s.index], dtype=bool)
    k = s.k.to_numpy()
    subsets = [
        Subset("two_or_more_studies", "analyses that pool at least two studies (k >= 2)", k >= 2),
        Subset("one_study", "analyses of a single study (k = 1): no pooling", k == 1),
        Subset(
            "without_secondary_sources",
            "analyses that use no value with status 'secondary' (press or news reports; here every Petrou 2016 value)",
            ~uses_secondary,
        ),
    ]
    names = {"Oh 2018": "oh2018", "Kim 2009": "kim2009", "Petrou 2016": "petrou2016"}
    for slot in res.slots:
        subsets.append(
            Subset(
                f"without_{names[slot]}", f"analyses that do not use {slot} (any time point or variant)", ~used[slot]
            )
        )
        subsets.append(Subset(f"with_{names[slot]}", f"analyses that use {slot}", used[slot]))
    if "Kim unit" in s.columns:
        for unit, key in (
            ("per 3 months, /3", "kim2009_unit_per_3_months"),
            ("per month, as printed", "kim2009_unit_as_printed"),
        ):
            subsets.append(
                Subset(
                    key,
                    f"analyses with Kim 2009, its slopes read as {unit} (the unit is not printed; "
                    "per 3 months is the reconstruction's inference)",
                    (s["Kim unit"] == unit).to_numpy(),
                )
            )
    if "Petrou 2016" in used and "Kim 2009" in used:
        alone = used["Oh 2018"] & ~used["Kim 2009"] & ~used["Petrou 2016"]
        subsets.append(
            Subset(
                "oh2018_msc_arm_alone",
                "analyses of the Oh 2018 MSC arm alone (what is left without Kim 2009 and without secondary sources)",
                alone,
            )
        )
    return subsets


def _subset_numbers(res: mv.MultiverseResult, direction: str, rows: np.ndarray | None = None) -> dict[str, Any]:
    """Counts and the share holding, over distinct analyses (headline) and over choice combinations."""
    n_distinct = res.count(rows)
    holds_distinct = res.share(direction, distinct=True, rows=rows)
    return {
        "choice_combinations": res.count(rows, distinct=False),
        "distinct_analyses": n_distinct,
        "analyses_holding": int(round(holds_distinct * n_distinct)) if n_distinct else 0,
        "share_holding_distinct": holds_distinct,
        "share_holding_choice_combinations": res.share(direction, rows=rows),
    }


def multiverse(
    table: pd.DataFrame, report: Callable[[str], None] | None = None
) -> tuple[dict[str, Any], dict[str, mv.MultiverseResult]]:
    """Fit the multiverse of both claims of the rebuild and count, over distinct analyses, where each claim holds.

    Parameters
    ----------
    table
        The study values a specification may use (:func:`alsmeta.als.prepost_stress.specifications.effect_table`).
    report
        Called with a one-line timing message per multiverse (e.g. ``print``); ``None`` stays silent.

    Returns
    -------
    tuple
        The numbers per claim (shares over distinct analyses and over choice combinations, by choice, by
        single-source dependency; Simonsohn et al. 2020, Steegen et al. 2016) and the fitted
        :class:`alsmeta.diagnostics.multiverse.MultiverseResult` per claim.
    """
    runs = {
        "alsfrs_r_benefit": (
            alsfrs_specifications(TAU_SCALES["alsfrs_r"]),
            ["Oh 2018", "Kim 2009", "Petrou 2016"],
            "positive",
            "Intrathecal MSC slowed ALSFRS-R progression (post - pre slope > 0)",
        ),
        "fvc_worse": (
            fvc_specifications(TAU_SCALES["fvc"]),
            ["Oh 2018", "Petrou 2016"],
            "negative",
            "FVC progression worsened after MSC (post - pre slope < 0)",
        ),
    }
    numbers: dict[str, Any] = {}
    results: dict[str, mv.MultiverseResult] = {}
    for key, (specs, slots, direction, claim) in runs.items():
        t0 = time.perf_counter()
        res = mv.fit_specifications(specs, table[["yi", "se"]], slots=slots)
        elapsed = time.perf_counter() - t0
        if report is not None:
            report(f"multiverse {key}: {len(res)} specifications fitted in {elapsed:.2f} s")
        results[key] = res
        s = res.specifications
        freq = (s.framework == "frequentist").to_numpy()
        opposite = "negative" if direction == "positive" else "positive"
        by = {}
        for col in [c for c in res.choices if c not in slots and c not in ("method", "tau_scale")] + [
            "method",
            "tau_scale",
        ]:
            levels = s[col].map(mv.choice_text)
            by[col] = {
                lev: {
                    "distinct_analyses": res.count((levels == lev).to_numpy()),
                    "share_holding_distinct": res.share(direction, distinct=True, rows=(levels == lev).to_numpy()),
                }
                for lev in dict.fromkeys(levels)
                if lev != NA
            }
        distinct = res.distinct()
        coarse = mv.distinct_analyses(s, columns=res.distinct_columns, significant=6)
        numbers[key] = {
            "claim": claim,
            "direction": direction,
            "basis": REBUILD_BASIS,
            "studies": slots,
            **_subset_numbers(res, direction),
            "data_sets": int(s[slots].map(mv.choice_text).drop_duplicates().shape[0]),
            "results_agreeing_to_6_digits_merged": {
                "distinct_analyses": len(coarse),
                "share_holding_distinct": float(res.holds(direction).loc[coarse.index].mean()),
                "note": "distinct analyses are results that differ in the 10th significant digit or earlier; merging "
                "results "
                "that agree to 6 digits (e.g. Sidik-Jonkman's tau2 of about 1e-8 where the other estimators give 0) "
                "changes the count and share this much",
            },
            "share_opposite_direction_distinct": res.share(opposite, distinct=True),
            "frequentist": _subset_numbers(res, direction, freq),
            "bayesian": _subset_numbers(res, direction, ~freq),
            "share_by_choice": by,
            "share_by_choice_note": "per level of a choice: the distinct analyses that level can give and the share "
            "of them in which "
            "the claim holds (an analysis several levels give counts once for each)",
            **{
                sub.key: {"definition": sub.definition, **_subset_numbers(res, direction, sub.rows)}
                for sub in rebuild_subsets(res, table)
            },
            "estimate_range": [float(s.estimate.min()), float(s.estimate.max())],
            "median_estimate_distinct": float(distinct.estimate.median()),
            "all_converged": bool(s.converged.all()),
        }
    return numbers, results


def specification_tables(res: mv.MultiverseResult, direction: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The two CSV tables of a multiverse: every choice combination, and the distinct analyses.

    Both are sorted by :meth:`alsmeta.diagnostics.multiverse.MultiverseResult.curve` (rounded estimate and interval,
    then the
    choices as text), so the order never depends on last-bit floating noise. ``analysis`` in the first table is the
    rank of the combination's distinct analysis in the second; the second lists, for each choice, every level that
    gives the analysis (joined by ``" | "``).
    """
    distinct = res.curve(distinct=True)
    analysis_of = {
        label: rank for rank, labels in zip(distinct["rank"], distinct["combinations"], strict=True) for label in labels
    }
    combos = res.curve().drop(columns=["spec"])
    combos.insert(1, "analysis", [analysis_of[label] for label in res.curve()["spec"]])
    s = res.specifications
    out = distinct[["rank", "k", "estimate", "se", "ci_low", "ci_high", "pvalue", "prob_positive", "tau2", "i2"]].copy()
    out.insert(6, "claim_holds", res.holds(direction).loc[distinct["spec"]].to_numpy())  # merged rows share the verdict
    out["n_combinations"] = distinct["n_combinations"].to_numpy()
    for col in res.choices:
        out[col] = [
            " | ".join(dict.fromkeys(s.loc[list(labels), col].map(mv.choice_text)))
            for labels in distinct["combinations"]
        ]
    return combos, out


def csv_text(frame: pd.DataFrame) -> str:
    """The CSV text written for a table: floats rounded to 6 decimals, no index, LF line ends."""
    return frame.round(6).to_csv(index=False, lineterminator="\n")
