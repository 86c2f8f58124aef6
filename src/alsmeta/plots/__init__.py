"""Publication-quality figures for alsmeta (matplotlib).

Every function returns a :class:`matplotlib.figure.Figure` built in the house
style (:mod:`alsmeta.plots.style`) without touching pyplot's global state;
:func:`save_figure` writes PNG plus SVG/PDF deterministically.

- :func:`forest_plot` - forest plot with subgroups, PI, heterogeneity, "favours"
- :func:`funnel_plot` - funnel plot, contour-enhanced, with trim-and-fill studies
"""

from alsmeta.plots.forest import forest_plot
from alsmeta.plots.funnel import funnel_plot, trim_and_fill_parts
from alsmeta.plots.style import save_figure, style_context
from alsmeta.plots.subgroups import SubgroupAnalysis, subgroup_analysis

__all__ = [
    "SubgroupAnalysis",
    "forest_plot",
    "funnel_plot",
    "save_figure",
    "style_context",
    "subgroup_analysis",
    "trim_and_fill_parts",
]
