"""The whole pre-post stress test as one result.

Null by design, mechanisms, empirical null, missing studies and the multiverse.

:func:`run_stress_test` runs every section from the evidence tables (the study-level inputs are
recomputed with :mod:`alsmeta.als.msc2021`) and returns a :class:`StressTest`; the script writes
its tables, figures and numbers.json.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from alsmeta.als.prepost_stress.empirical_null import empirical_null
from alsmeta.als.prepost_stress.mechanisms import error_sensitivity, mechanisms, null_by_design
from alsmeta.als.prepost_stress.missing_studies import claim_pools, missing_studies
from alsmeta.als.prepost_stress.multiverse import multiverse
from alsmeta.als.prepost_stress.settings import settings_numbers
from alsmeta.als.prepost_stress.specifications import effect_table
from alsmeta.als.tables import Evidence
from alsmeta.diagnostics import multiverse as mv


@dataclass(frozen=True)
class StressTest:
    """Every result of the stress test, section by section (numbers, and what the figures draw)."""

    inputs: pd.DataFrame
    design_numbers: dict[str, Any]
    design_draws: dict[str, np.ndarray]
    mechanisms: dict[str, Any]
    empirical_null: dict[str, Any]
    empirical_panels: dict[str, dict[str, Any]]
    missing_studies: dict[str, Any]
    missing_curves: dict[str, pd.DataFrame]
    multiverse: dict[str, Any]
    multiverse_results: dict[str, mv.MultiverseResult]


def run_stress_test(ev: Evidence, report: Callable[[str], None] | None = None) -> StressTest:
    """Run the stress test of the within-patient design.

    Parameters
    ----------
    ev
        The evidence tables (:func:`alsmeta.als.tables.load_evidence`).
    report
        Called with a timing line per multiverse (e.g. ``print``); ``None`` stays silent.

    Returns
    -------
    StressTest
        Every section's numbers; every rate with its Monte-Carlo SE ``sqrt(p (1 - p) / R)``.
    """
    effects, table = effect_table(ev)
    design_numbers, draws = null_by_design()
    mech = mechanisms()
    emp, panels = empirical_null(ev)
    missing, curves = missing_studies(claim_pools(effects))
    multi, results = multiverse(table, report)
    return StressTest(table, design_numbers, draws, mech, emp, panels, missing, curves, multi, results)


def stress_numbers(result: StressTest) -> dict[str, Any]:
    """numbers.json of the stress test (without the figure index, which the script adds)."""
    return {
        "settings": settings_numbers(),
        "null_by_design": result.design_numbers,
        "mechanisms": result.mechanisms,
        "selection_measurement_error": error_sensitivity(result.mechanisms),
        "empirical_null": result.empirical_null,
        "missing_studies": result.missing_studies,
        "multiverse": result.multiverse,
    }
