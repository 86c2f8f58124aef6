"""Freeze a figure's layout so that what is saved depends on the figure alone, not on its drawing history.

Constrained layout starts each solve from the positions the previous draw
left: it measures every axes' decorations where they are now and moves the
axes. Drawing a figure once more (at another dpi, for a print check, in a
notebook, or to write the PNG before the SVG) therefore shifts the axes by a
few hundredths of a point, and the SVG changes: its coordinates, and the ids
of its clip paths, which matplotlib hashes from the full-precision clip
rectangle. :func:`freeze_layout` undoes earlier layout runs (every axes and
subfigure back to its gridspec cell), solves the layout once at a given dpi,
rounds the solved positions and switches the layout engine off, so that every
later draw uses exactly those positions.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from matplotlib.figure import Figure, SubFigure
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.transforms import Bbox

DECIMALS = 9
"""Decimals (of the figure width or height) kept of each solved position: far below what any output shows."""


def _subfigures(fig: Figure | SubFigure) -> Iterator[SubFigure]:
    for sub in fig.subfigs:
        yield sub
        yield from _subfigures(sub)


def _rounded(box: Bbox, decimals: int) -> Bbox:
    return Bbox.from_bounds(*(round(float(v), decimals) for v in box.bounds))


def reset_constrained_layout(fig: Figure) -> None:
    """Put every gridspec-placed axes and subfigure of ``fig`` back where it was created.

    This undoes what earlier constrained-layout runs did to the positions, so
    the next run starts from the same state as on a freshly built figure.
    Axes outside the layout (``add_axes``, ``in_layout=False``) are left alone.
    """
    for sub in _subfigures(fig):
        # SubFigure has no public way to recompute its box from its subplotspec (matplotlib 3.7-3.11)
        sub._redo_transform_rel_fig()  # type: ignore[attr-defined]
    for ax in fig.get_axes():
        spec = ax.get_subplotspec()
        if spec is not None and ax.get_in_layout():
            ax.set_subplotspec(spec)  # recomputes the position from the cell; keeps in_layout


def freeze_layout(fig: Figure, dpi: float | None = None, decimals: int = DECIMALS) -> Figure:
    """Solve ``fig``'s layout once from its freshly built state, round the positions and switch the engine off.

    Parameters
    ----------
    fig
        The figure (changed in place).
    dpi
        Resolution at which text is measured for the layout (default: the
        figure's own dpi); use the dpi of the raster output.
    decimals
        Decimals of the figure fraction kept of each position: the last bits
        of a solve, which would change SVG clip-path ids, are rounded away.

    Returns
    -------
    Figure
        ``fig``, whose axes and subfigures now stay where they are on every draw.
    """
    if isinstance(fig.get_layout_engine(), ConstrainedLayoutEngine):
        reset_constrained_layout(fig)
    own_dpi = fig.get_dpi()
    fig.set_dpi(own_dpi if dpi is None else dpi)
    try:
        fig.draw_without_rendering()
    finally:
        fig.set_dpi(own_dpi)
    for sub in _subfigures(fig):
        sub._redo_transform_rel_fig(bbox=_rounded(sub.bbox_relative, decimals))  # type: ignore[attr-defined]
    for ax in fig.get_axes():
        in_layout = ax.get_in_layout()
        ax.set_position(_rounded(ax.get_position(original=True), decimals), which="both")
        ax.set_in_layout(in_layout)  # set_position takes an axes out of the layout; keep it as it was
    fig.set_layout_engine("none")
    return fig


@contextmanager
def frozen_layout(fig: Figure, dpi: float | None = None) -> Iterator[Figure]:
    """:func:`freeze_layout` inside a ``with`` block; the figure's layout engine is restored afterwards."""
    engine = fig.get_layout_engine()
    freeze_layout(fig, dpi)
    try:
        yield fig
    finally:
        if engine is not None:
            fig.set_layout_engine(engine)
