r"""Natural-history simulation of single-arm pre-post studies in ALS, with no treatment effect.

What a within-patient ("each patient his own control") study of cell therapy
would report if the cells did nothing: ALSFRS-R or FVC courses with
between-patient variation, curvature, floors, measurement error, death and
dropout (:mod:`~alsmeta.simulate.history`); the studies' mechanics - lead-in,
pre-slope from onset or from lead-in visits, eligibility that selects on
progression, follow-up visits (:mod:`~alsmeta.simulate.design`); and the
analysis the studies report - post minus pre slope per patient, then the
mean, SD/sqrt(n) and a paired t-test (:mod:`~alsmeta.simulate.analysis`).
Closed forms for the special cases are in :mod:`~alsmeta.simulate.closed_form`.

>>> from alsmeta.simulate import NaturalHistory, design_preset, simulate_trials
>>> res = simulate_trials(NaturalHistory.alsfrs_r(), design_preset("cudkowicz2022"), 200, seed=1)
>>> rate = res.apparent_benefit_rate()   # share of null studies reporting significant slowing

Simulating many meta-analyses of several designs at once, ready for
:func:`alsmeta.pool_many`:

>>> from alsmeta.simulate import simulate_meta_analyses
>>> designs = [design_preset(n) for n in ("oh2018", "petrou2016", "berry2019")]
>>> meta = simulate_meta_analyses(NaturalHistory.alsfrs_r(), designs, 100, seed=2)
>>> meta.yi.shape
(100, 3)
"""

from alsmeta.simulate.analysis import (
    StudySummary,
    least_squares_slopes,
    summarise_changes,
    two_point_slopes,
)
from alsmeta.simulate.closed_form import (
    SelectionExpectation,
    expected_change_under_selection,
    least_squares_weights,
    slope_change_variance,
)
from alsmeta.simulate.design import DESIGN_PRESETS, TrialDesign, design_preset
from alsmeta.simulate.engine import (
    MetaSimulationResult,
    PatientData,
    SimulationResult,
    simulate_meta_analyses,
    simulate_trials,
)
from alsmeta.simulate.history import NaturalHistory, true_course

__all__ = [
    "DESIGN_PRESETS",
    "MetaSimulationResult",
    "NaturalHistory",
    "PatientData",
    "SelectionExpectation",
    "SimulationResult",
    "StudySummary",
    "TrialDesign",
    "design_preset",
    "expected_change_under_selection",
    "least_squares_slopes",
    "least_squares_weights",
    "simulate_meta_analyses",
    "simulate_trials",
    "slope_change_variance",
    "summarise_changes",
    "true_course",
    "two_point_slopes",
]
