"""One house style for every alsmeta figure, and deterministic saving.

Colours come from the Okabe-Ito palette (safe for the common forms of colour
blindness) and were chosen so that the roles that appear together in one
figure also differ in lightness (they stay distinct when printed in grey):
study markers are near-black, the random-effects diamond dark blue, the
prediction interval vermillion, the common-effect diamond orange, subgroup
subtotals pale blue (in that order from dark to light). Roles differ in shape as well (square, diamond, bar).

Fonts are fixed to the DejaVu Sans shipped with matplotlib, so a figure looks
the same on every machine. :func:`save_figure` writes PNG (300 dpi) plus a
vector format with no timestamps and a fixed SVG hash salt, so that running
an analysis twice gives byte-identical files (:mod:`alsmeta.plots.save`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal

import matplotlib as mpl
import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import RendererAgg
from matplotlib.figure import Figure, SubFigure
from matplotlib.font_manager import FontProperties
from matplotlib.layout_engine import ConstrainedLayoutEngine

from alsmeta.validation import AlsmetaInputError

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

FONT_FAMILY = "DejaVu Sans"
FONT_SIZE = 9.0
"""Body text (study labels, table cells), in points."""
SMALL_SIZE = 8.0
"""Tick labels, footers, annotations."""
TITLE_SIZE = 10.0
FOOTNOTE_SIZE = 7.0
"""Captions, keys and secondary tick labels: the smallest text alsmeta draws."""
MIN_TEXT_SIZE = 7.0
"""Smallest text size (points) at print size (GUIDE figure standard, Nature artwork guide)."""

MM = 1 / 25.4
"""One millimetre in inches."""
SINGLE_COLUMN = 89.0 * MM
"""Single-column print width (89 mm), in inches."""
DOUBLE_COLUMN = 183.0 * MM
"""Double-column print width (183 mm), in inches: no figure is wider."""
COLUMN_WIDTHS: dict[str, float] = {"single": SINGLE_COLUMN, "double": DOUBLE_COLUMN}

INK = "#1a1a1a"
GREY = "#6b6b6b"
LIGHT_GREY = "#c8c8c8"
BLUE = "#0072B2"
ORANGE = "#E69F00"
SKY_BLUE = "#56B4E9"
PALE_BLUE = "#A8D8F5"
"""A tint of Okabe-Ito sky blue, lighter than orange in greyscale."""
VERMILLION = "#D55E00"
GREEN = "#009E73"
PURPLE = "#CC79A7"

ROLE_COLOURS: dict[str, str] = {
    "study": INK,
    "random": BLUE,
    "common": ORANGE,
    "subgroup": PALE_BLUE,
    "prediction": VERMILLION,
    "highlight": VERMILLION,
    "reference": GREY,
    "filled": "white",
}
"""Colour of each plot role; use :func:`colour` to look one up."""

CONTOUR_SHADES: tuple[str, ...] = ("#ffffff", "#e3e3e3", "#bdbdbd", "#969696")
"""Funnel contour regions from non-significant (white) to p < .01 (darkest)."""

DPI = 300
VECTOR_FORMATS = ("svg", "pdf")

RC_PARAMS: dict[RcKeyType, Any] = {
    "font.family": "sans-serif",
    "font.sans-serif": [FONT_FAMILY],
    "font.size": FONT_SIZE,
    "axes.titlesize": TITLE_SIZE,
    "axes.labelsize": FONT_SIZE,
    "axes.edgecolor": INK,
    "axes.labelcolor": INK,
    "axes.linewidth": 0.8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.unicode_minus": True,
    "xtick.labelsize": SMALL_SIZE,
    "ytick.labelsize": SMALL_SIZE,
    "xtick.color": INK,
    "ytick.color": INK,
    "xtick.major.width": 0.8,
    "ytick.major.width": 0.8,
    "xtick.major.size": 3.0,
    "ytick.major.size": 3.0,
    "legend.fontsize": SMALL_SIZE,
    "legend.frameon": False,
    "lines.linewidth": 1.0,
    "text.color": INK,
    "figure.dpi": 100,
    "savefig.dpi": DPI,
    "savefig.facecolor": "white",
    "svg.hashsalt": "alsmeta",
    "svg.fonttype": "none",
    "pdf.fonttype": 42,
    "image.cmap": "viridis",
}
"""matplotlib settings applied while a figure is built and saved."""


def column_width(width: str, argument: str = "width") -> float:
    """The print width in inches of ``"single"`` (89 mm) or ``"double"`` (183 mm) column.

    Raises
    ------
    AlsmetaInputError
        Naming ``argument`` if ``width`` is neither.
    """
    try:
        return COLUMN_WIDTHS[width]
    except (KeyError, TypeError):
        raise AlsmetaInputError(f"{argument}: expected 'single' (89 mm) or 'double' (183 mm), got {width!r}") from None


def colour(role: str) -> str:
    """Return the house colour of a plot role (``"random"``, ``"study"`` ...).

    Raises
    ------
    AlsmetaInputError
        If the role is unknown.
    """
    try:
        return ROLE_COLOURS[role]
    except KeyError:
        known = ", ".join(sorted(ROLE_COLOURS))
        raise AlsmetaInputError(f"unknown plot role {role!r}; known roles: {known}") from None


@contextmanager
def style_context() -> Iterator[None]:
    """Apply :data:`RC_PARAMS` inside a ``with`` block (restored afterwards)."""
    with mpl.rc_context(RC_PARAMS):
        yield


def figure_and_axes(ax: Axes | None, size: tuple[float, float]) -> tuple[Figure, Axes]:
    """The figure of ``ax``, or a new constrained-layout figure of ``size`` inches with one axes.

    New figures are created without pyplot, so building many figures does
    not accumulate global state.
    """
    if ax is not None:
        return root_figure(ax), ax
    fig = Figure(figsize=size, layout="constrained")
    return fig, fig.add_subplot()


def two_subfigures(fig: Figure | SubFigure, ratios: Sequence[float], side_by_side: bool = False) -> list[SubFigure]:
    """Two subfigures of ``fig``, one above the other (or side by side), sized by ``ratios``."""
    pair = fig.subfigures(1, 2, width_ratios=ratios) if side_by_side else fig.subfigures(2, 1, height_ratios=ratios)
    if not isinstance(pair, np.ndarray):  # matplotlib returns an array for two subfigures
        raise TypeError(f"expected two subfigures, got {type(pair).__name__}")
    return [sub for sub in pair.ravel()]


def root_figure(ax: Axes) -> Figure:
    """The figure that holds ``ax`` (through any subfigure)."""
    fig = ax.get_figure(root=True)
    if fig is None:
        raise AlsmetaInputError("ax: the axes belongs to no figure")
    return fig


def constrained_layout(fig: Figure) -> ConstrainedLayoutEngine:
    """The constrained-layout engine of a figure made by :func:`figure_and_axes` (adjusted by some plots)."""
    engine = fig.get_layout_engine()
    if not isinstance(engine, ConstrainedLayoutEngine):
        raise AlsmetaInputError("ax: the figure must use constrained layout (layout='constrained')")
    return engine


_FONT_STYLES: dict[str, Literal["normal", "italic", "oblique"]] = {
    "normal": "normal",
    "italic": "italic",
    "oblique": "oblique",
}


@lru_cache(maxsize=4096)
def _text_extent_points(text: str, size: float, weight: str, style: str) -> tuple[float, float]:
    renderer = RendererAgg(10, 10, 72.0)  # at 72 dpi one pixel is one point
    prop = FontProperties(family=FONT_FAMILY, size=size, weight=weight, style=_FONT_STYLES[style])
    width, height, _ = renderer.get_text_width_height_descent(text, prop, ismath=False)
    return float(width), float(height)


def text_width(text: str, size: float = FONT_SIZE, weight: str = "normal", style: str = "normal") -> float:
    """Width in inches of ``text`` set in the house font (for layout)."""
    if not text:
        return 0.0
    return max(_text_extent_points(line, size, weight, style)[0] for line in text.split("\n")) / 72.0
