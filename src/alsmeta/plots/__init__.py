"""Publication-quality figures for alsmeta (matplotlib).

Every function returns a :class:`matplotlib.figure.Figure` built in the house
style (:mod:`alsmeta.plots.style`) without touching pyplot's global state;
:func:`save_figure` writes PNG plus SVG/PDF deterministically. Functions
whose figure is a single panel also accept ``ax=`` to draw into an existing
axes.

- :func:`forest_plot` - forest plot with subgroups, PI, heterogeneity, "favours"
- :func:`leave_one_out_forest`, :func:`cumulative_forest` - sensitivity forests
- :func:`funnel_plot` - funnel plot, contour-enhanced, with trim-and-fill studies
- :func:`baujat_plot`, :func:`gosh_plot`, :func:`influence_plot`,
  :func:`drapery_plot` - diagnostics

Plots only draw: the numbers they show come from result objects of
:mod:`alsmeta.models` and :mod:`alsmeta.diagnostics`. ``baujat_coordinates``
and ``p_value_function`` are re-exported here from
:mod:`alsmeta.diagnostics.baujat` and :mod:`alsmeta.diagnostics.pvalue_function`.

- :func:`prisma_flow` with :class:`PrismaCounts` - PRISMA 2020 flow diagram
- :func:`trial_sequential_plot` - cumulative Z with alpha-spending boundaries and the RIS
- :func:`traffic_light_plot`, :func:`risk_of_bias_summary_plot`, :func:`risk_of_bias_figure` - RoB 2 (robvis style)
- :func:`availability_map` - which number exists for which study, outcome and time point
"""

from alsmeta.diagnostics.baujat import baujat_coordinates
from alsmeta.diagnostics.pvalue_function import p_value_function
from alsmeta.plots.availability import availability_map
from alsmeta.plots.baujat import baujat_plot
from alsmeta.plots.drapery import drapery_plot
from alsmeta.plots.forest import forest_plot
from alsmeta.plots.forest_multi import multi_outcome_forest
from alsmeta.plots.forest_options import ForestOptions
from alsmeta.plots.funnel import funnel_plot, trim_and_fill_parts
from alsmeta.plots.gosh import gosh_plot
from alsmeta.plots.influence import influence_plot, influential_flags
from alsmeta.plots.print_check import grayscale_problems, print_problems
from alsmeta.plots.prisma import PrismaCounts, prisma_flow
from alsmeta.plots.risk_of_bias import risk_of_bias_figure, risk_of_bias_summary_plot, traffic_light_plot
from alsmeta.plots.save import save_figure
from alsmeta.plots.sensitivity import cumulative_forest, leave_one_out_forest
from alsmeta.plots.sequential import trial_sequential_plot
from alsmeta.plots.style import style_context

__all__ = [
    "ForestOptions",
    "PrismaCounts",
    "availability_map",
    "baujat_coordinates",
    "baujat_plot",
    "cumulative_forest",
    "drapery_plot",
    "forest_plot",
    "funnel_plot",
    "gosh_plot",
    "grayscale_problems",
    "influence_plot",
    "influential_flags",
    "leave_one_out_forest",
    "multi_outcome_forest",
    "p_value_function",
    "print_problems",
    "prisma_flow",
    "risk_of_bias_figure",
    "risk_of_bias_summary_plot",
    "save_figure",
    "style_context",
    "traffic_light_plot",
    "trial_sequential_plot",
    "trim_and_fill_parts",
]
