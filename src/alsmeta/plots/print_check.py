"""Measure whether a figure is ready for print: its width and the size of every text it draws.

The GUIDE figure standard (after the Nature / npj artwork guide): a figure
is 89 mm (single column) or 183 mm (double column) wide, and every text is at
least 7 pt *at that size*. :func:`print_problems` measures a figure against
it - the width from the figure size, the text sizes from the texts the
renderer actually draws (tick labels of hidden axes and texts outside the
view are not counted), texts that leave the canvas (clipped in print) and
texts drawn over each other - and returns one sentence per problem, so a test can assert an empty list.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.transforms import Bbox

from alsmeta.plots.style import style_context
from alsmeta.validation import AlsmetaInputError

__all__ = ["PRINT_WIDTHS_MM", "MIN_TEXT_PT", "DrawnText", "drawn_texts", "overlapping_texts", "print_problems"]

PRINT_WIDTHS_MM = (89.0, 183.0)
"""Single- and double-column widths (mm)."""
MIN_TEXT_PT = 7.0
"""Smallest text size (points) at print size."""
MM_PER_INCH = 25.4


@dataclass(frozen=True)
class DrawnText:
    """One text as the renderer drew it: its string, size in points and extent in pixels (figure dpi)."""

    text: str
    size_pt: float
    extent: Bbox


def drawn_texts(fig: Figure) -> list[DrawnText]:
    """Every non-empty text the Agg renderer draws for ``fig``, in drawing order.

    The figure is drawn once on a private Agg canvas (its own canvas is
    restored afterwards); each call of the renderer's ``draw_text`` is
    recorded with the size of its font, so only what would be printed is
    counted.
    """
    if not isinstance(fig, Figure):
        raise AlsmetaInputError(f"fig: expected a matplotlib Figure, got {type(fig).__name__}")
    original = fig.canvas
    canvas = FigureCanvasAgg(fig)
    out: list[DrawnText] = []
    try:
        with style_context():
            renderer = canvas.get_renderer()
            draw_text = renderer.draw_text

            def record(gc: Any, x: float, y: float, s: str, prop: Any, angle: float, ismath: Any = False, mtext: Any = None) -> Any:
                if s.strip():
                    extent = mtext.get_window_extent(renderer) if mtext is not None else Bbox.from_bounds(x, y, 0, 0)
                    out.append(DrawnText(s, float(prop.get_size_in_points()), extent))
                return draw_text(gc, x, y, s, prop, angle, ismath=ismath, mtext=mtext)

            renderer.draw_text = record  # type: ignore[method-assign]
            try:
                fig.draw(renderer)
            finally:
                del renderer.draw_text
    finally:
        fig.set_canvas(original)
    return out


def print_problems(
    fig: Figure,
    *,
    widths_mm: Sequence[float] = PRINT_WIDTHS_MM,
    min_pt: float = MIN_TEXT_PT,
    tolerance_mm: float = 0.5,
) -> list[str]:
    """What keeps ``fig`` from being printed as it is, one sentence per problem (empty when it is ready).

    Parameters
    ----------
    fig
        The figure, at its print size (``figsize`` in inches).
    widths_mm
        Allowed print widths; default 89 and 183 mm (Nature Research artwork
        guide, as the GUIDE figure standard).
    min_pt
        Smallest allowed text size at print size, in points (default 7).
    tolerance_mm
        Allowed deviation of the width from a column width.

    Returns
    -------
    list of str
        ``"width ..."`` when the figure is not one of ``widths_mm`` wide;
        ``"text ... pt"`` for each drawn text smaller than ``min_pt``;
        ``"text ... outside"`` for each text that extends beyond the canvas
        (it would be cut off); ``"texts ... overlap"`` for each pair of
        drawn texts whose extents overlap.
    """
    problems = []
    width_mm = fig.get_figwidth() * MM_PER_INCH if isinstance(fig, Figure) else float("nan")
    if isinstance(fig, Figure) and not any(abs(width_mm - w) <= tolerance_mm for w in widths_mm):
        allowed = " or ".join(f"{w:g}" for w in widths_mm)
        problems.append(f"width {width_mm:.1f} mm: not {allowed} mm")
    texts = drawn_texts(fig)
    canvas = fig.bbox
    for t in texts:
        shown = t.text.replace("\n", " ")[:60]
        if t.size_pt < min_pt - 1e-9:
            problems.append(f"text {shown!r} is {t.size_pt:g} pt (< {min_pt:g} pt)")
        e = t.extent
        if e.x0 < canvas.x0 - 1 or e.y0 < canvas.y0 - 1 or e.x1 > canvas.x1 + 1 or e.y1 > canvas.y1 + 1:
            problems.append(f"text {shown!r} lies partly outside the figure (cut off in print)")
    for a, b in overlapping_texts(texts):
        problems.append(f"texts {a.text.replace(chr(10), ' ')[:40]!r} and {b.text.replace(chr(10), ' ')[:40]!r} overlap")
    return problems


def overlapping_texts(texts: Sequence[DrawnText], min_overlap_px: float = 1.0) -> list[tuple[DrawnText, DrawnText]]:
    """Pairs of drawn texts whose extents overlap by more than ``min_overlap_px`` in both directions."""
    pairs = []
    for i, a in enumerate(texts):
        for b in texts[i + 1:]:
            w = min(a.extent.x1, b.extent.x1) - max(a.extent.x0, b.extent.x0)
            h = min(a.extent.y1, b.extent.y1) - max(a.extent.y0, b.extent.y0)
            if w > min_overlap_px and h > min_overlap_px:
                pairs.append((a, b))
    return pairs
