"""Measure whether a figure is ready for print: its width and the size of every text it draws.

The GUIDE figure standard (after the Nature / npj artwork guide): a figure
is 89 mm (single column) or 183 mm (double column) wide, and every text is at
least 7 pt *at that size*. :func:`print_problems` measures a figure against
it - the width from the figure size, the text sizes from the texts the
renderer actually draws (tick labels of hidden axes and texts outside the
view are not counted), texts that leave the canvas (clipped in print) and
texts drawn over each other - and returns one sentence per problem, so a test can assert an empty list.

:func:`grayscale_problems` checks the other half of the standard: every
colour distinction is also carried by marker, line style or hatch, or by a
grey-level difference that survives greyscale printing (and colour-vision
deficiencies, which also keep lightness).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.cm import ScalarMappable
from matplotlib.collections import Collection
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.offsetbox import DrawingArea, OffsetBox, TextArea
from matplotlib.patches import Patch
from matplotlib.transforms import Bbox

from alsmeta.plots.style import style_context
from alsmeta.validation import AlsmetaInputError

__all__ = [
    "PRINT_WIDTHS_MM",
    "MIN_TEXT_PT",
    "MIN_GREY_DELTA",
    "DrawnText",
    "Encoding",
    "drawn_texts",
    "encoding_of",
    "grayscale_problems",
    "grey_level",
    "legend_entries",
    "overlapping_texts",
    "print_problems",
    "series_encodings",
]

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

            def record(
                gc: Any, x: float, y: float, s: str, prop: Any, angle: float, ismath: Any = False, mtext: Any = None
            ) -> Any:
                if s.strip():
                    extent = mtext.get_window_extent(renderer) if mtext is not None else Bbox.from_bounds(x, y, 0, 0)
                    out.append(DrawnText(s, float(prop.get_size_in_points()), extent))
                return draw_text(gc, x, y, s, prop, angle, ismath=ismath, mtext=mtext)

            renderer.draw_text = record
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
        problems.append(
            f"texts {a.text.replace(chr(10), ' ')[:40]!r} and {b.text.replace(chr(10), ' ')[:40]!r} overlap"
        )
    return problems


def overlapping_texts(texts: Sequence[DrawnText], min_overlap_px: float = 1.0) -> list[tuple[DrawnText, DrawnText]]:
    """Pairs of drawn texts whose extents overlap by more than ``min_overlap_px`` in both directions."""
    pairs = []
    for i, a in enumerate(texts):
        for b in texts[i + 1 :]:
            w = min(a.extent.x1, b.extent.x1) - max(a.extent.x0, b.extent.x0)
            h = min(a.extent.y1, b.extent.y1) - max(a.extent.y0, b.extent.y0)
            if w > min_overlap_px and h > min_overlap_px:
                pairs.append((a, b))
    return pairs


# --- readable in greyscale ------------------------------------------------------------------------

MIN_GREY_DELTA = 0.1
"""Smallest difference in grey level (0 = black, 1 = white) that keeps two colours apart in greyscale print.

About 25 of 255 grey levels; the house roles (ink, blue, vermillion, orange,
pale blue) are at least 0.12 apart."""


def grey_level(colour: Any) -> float:
    """Grey level (0 black .. 1 white) of a matplotlib colour printed on white, as Pillow converts RGB to ``L``.

    Pillow's ``L`` conversion is ITU-R 601-2 luma, ``L = 0.299 R + 0.587 G +
    0.114 B``; a transparent colour is first blended with the white page.
    """
    from PIL import Image

    r, g, b, a = to_rgba(colour)
    rgb = tuple(int(round(255 * (a * c + (1.0 - a)))) for c in (r, g, b))
    grey = Image.new("RGB", (1, 1), rgb).convert("L").getpixel((0, 0))
    if not isinstance(grey, (int, float)):  # an "L" image has one band: never reached
        raise TypeError(f"grey level of {colour!r}: expected one band, got {grey!r}")
    return grey / 255.0


@dataclass(frozen=True)
class Encoding:
    """How one series (a legend entry or a labelled artist) is drawn: what greyscale print keeps of it.

    ``greys`` are the grey levels of its visible colours (line, marker face
    and edge, patch face and edge); ``shape`` is everything that does not
    depend on colour (artist kind, marker, dash pattern, line width to the
    half point, hatch).
    """

    label: str
    greys: tuple[float, ...]
    colours: tuple[tuple[float, ...], ...]
    shape: tuple[Any, ...]


def _visible_colours(*pairs: tuple[Any, float]) -> tuple[tuple[float, ...], ...]:
    """RGBA of each colour that is drawn (not 'none', not fully transparent, drawn width > 0)."""
    out = []
    for colour, width in pairs:
        if colour is None or width <= 0:
            continue
        if isinstance(colour, str) and colour.lower() == "none":
            continue
        rgba = to_rgba(colour)
        if rgba[3] > 0:
            out.append(rgba)
    return tuple(out)


def _dashes(artist: Any) -> Any:
    style = artist.get_linestyle()
    if isinstance(style, list):  # collections: one (offset, dashes) per path
        style = style[0] if style else None
    if isinstance(style, tuple):
        return (style[0], tuple(style[1]) if style[1] is not None else None)
    return style


def encoding_of(artist: Any, label: str = "") -> Encoding | None:
    """The :class:`Encoding` of a Line2D, Patch or Collection (None for other artists)."""
    colours: tuple[tuple[float, ...], ...]
    shape: tuple[Any, ...]
    if isinstance(artist, Line2D):
        has_line = artist.get_linestyle() not in ("None", "none", " ", "") and artist.get_linewidth() > 0
        marker = artist.get_marker()
        has_marker = marker not in (None, "None", "none", "", " ") and artist.get_markersize() > 0
        pairs = []
        if has_line:
            pairs.append((artist.get_color(), artist.get_linewidth()))
        if has_marker:
            pairs += [(artist.get_markerfacecolor(), 1.0), (artist.get_markeredgecolor(), artist.get_markeredgewidth())]
        alpha = artist.get_alpha()
        colours = tuple((r, g, b, a * (1.0 if alpha is None else alpha)) for r, g, b, a in _visible_colours(*pairs))
        width = round(2 * artist.get_linewidth()) / 2 if has_line else None  # a clearly thicker line reads in grey
        shape = ("line", _dashes(artist) if has_line else None, width, str(marker) if has_marker else None)
    elif isinstance(artist, Patch):
        colours = _visible_colours(
            (artist.get_facecolor(), 1.0) if artist.get_fill() else (None, 0.0),
            (artist.get_edgecolor(), artist.get_linewidth()),
        )
        shape = ("patch", type(artist).__name__, artist.get_hatch() or None, _dashes(artist))
    elif isinstance(artist, Collection):
        faces, edges = artist.get_facecolor(), artist.get_edgecolor()
        widths = np.atleast_1d(artist.get_linewidth())
        width = float(widths[0]) if len(widths) else 0.0
        colours = _visible_colours((faces[0] if len(faces) else None, 1.0), (edges[0] if len(edges) else None, width))
        paths = list(artist.get_paths())
        shape = (
            "collection",
            type(artist).__name__,
            artist.get_hatch() or None,
            _dashes(artist),
            int(np.shape(paths[0].vertices)[0]) if len(paths) else 0,
        )
    else:
        return None
    rgb = tuple(c[:3] for c in colours)
    return Encoding(label, tuple(grey_level(c) for c in colours), rgb, shape)


def _combine(label: str, parts: list[Encoding]) -> Encoding | None:
    """One legend entry drawn with several artists (a tuple handle: e.g. a coloured circle and a symbol)."""
    if not parts:
        return None
    if len(parts) == 1:
        return replace(parts[0], label=label)
    return Encoding(
        label,
        tuple(g for p in parts for g in p.greys),
        tuple(c for p in parts for c in p.colours),
        tuple(p.shape for p in parts),
    )


def legend_entries(legend: Any) -> list[Encoding]:
    """The :class:`Encoding` of each entry of a legend, from every artist drawn in its handle box."""
    entries: list[Encoding] = []
    stack = [legend._legend_box] if hasattr(legend, "_legend_box") else []
    while stack:
        box = stack.pop(0)
        children = box.get_children()
        handle_boxes = [c for c in children if isinstance(c, DrawingArea)]
        text_boxes = [c for c in children if isinstance(c, TextArea)]
        if handle_boxes and text_boxes:
            label = text_boxes[0].get_text()
            parts = [e for e in (encoding_of(a, label) for a in handle_boxes[0].get_children()) if e is not None]
            entry = _combine(label, parts)
            if entry is not None:
                entries.append(entry)
            continue
        stack[0:0] = [c for c in children if isinstance(c, OffsetBox)]
    return entries


def _legends(fig: Figure) -> list[Any]:
    found: list[Any] = []
    containers: list[Any] = [fig]
    while containers:
        container = containers.pop(0)
        found += list(getattr(container, "legends", []))
        containers += list(getattr(container, "subfigs", []))
    for ax in fig.get_axes():
        if ax.get_legend() is not None:
            found.append(ax.get_legend())
    return [lg for lg in found if lg.get_visible()]


def series_encodings(fig: Figure) -> list[list[Encoding]]:
    """The series of ``fig`` that carry meaning, in groups that must stay distinguishable.

    Each legend is one group (its entries: one per meaning, each with every
    artist of its handle, so a colour swatch plus a symbol counts as both). Axes without
    a legend give one group of their labelled lines and collections (label
    not starting with ``_``), e.g. series named only by direct labels.
    """
    groups: list[list[Encoding]] = []
    for legend in _legends(fig):
        groups.append(legend_entries(legend))
    for ax in fig.get_axes():
        if ax.get_legend() is not None or not ax.get_visible():
            continue
        artists = [
            a
            for a in [*ax.get_lines(), *ax.collections]
            if a.get_visible() and not str(a.get_label()).startswith("_") and a.get_label()
        ]
        group = [e for e in (encoding_of(a, str(a.get_label())) for a in artists) if e is not None]
        if len(group) > 1:
            groups.append(group)
    return groups


def _mappable_problems(fig: Figure, min_delta: float) -> list[str]:
    """Colour maps whose grey levels do not rise (or fall) steadily: their values are lost in greyscale."""
    problems = []
    seen: set[str] = set()
    for ax in fig.get_axes():
        for artist in [*ax.collections, *ax.images]:
            if not isinstance(artist, ScalarMappable) or artist.get_array() is None:
                continue
            cmap = artist.get_cmap()
            if cmap.name in seen:
                continue
            seen.add(cmap.name)
            greys = np.array([grey_level(cmap(x)) for x in np.linspace(0.0, 1.0, 33)])
            steps = np.diff(greys)
            monotonic = bool(np.all(steps >= -1e-3) or np.all(steps <= 1e-3))
            if not monotonic or abs(greys[-1] - greys[0]) < min_delta:
                problems.append(
                    f"colour map {cmap.name!r}: grey levels are not monotonic from end to end "
                    "(its values cannot be read in greyscale)"
                )
    return problems


def grayscale_problems(fig: Figure, *, min_delta: float = MIN_GREY_DELTA) -> list[str]:
    """What a reader of ``fig`` printed in greyscale (or with a colour-vision deficiency) could not tell apart.

    Two series that carry different meanings (two entries of one legend, or
    two labelled series of an axes without legend) must differ in something
    that survives greyscale: their shape (artist kind, marker or symbol,
    dash pattern, line width, hatch) or, when they differ only in colour, their grey levels
    by at least ``min_delta``. Colour maps of density or value plots must
    change grey level monotonically.

    Parameters
    ----------
    fig
        The figure.
    min_delta
        Smallest grey-level difference (0..1, Pillow ``L`` conversion) that
        keeps two colours apart.

    Returns
    -------
    list of str
        One sentence per pair of series that would merge in greyscale and
        per colour map that is not monotonic in grey; empty when the figure
        reads in greyscale.

    References
    ----------
    Okabe M, Ito K (2008). Color universal design (CUD): how to make figures
    and presentations that are friendly to colorblind people. Wong B (2011).
    Points of view: color blindness. Nat Methods 8:441.
    """
    if not isinstance(fig, Figure):
        raise AlsmetaInputError(f"fig: expected a matplotlib Figure, got {type(fig).__name__}")
    problems = []
    for group in series_encodings(fig):
        for i, a in enumerate(group):
            for b in group[i + 1 :]:
                if a.shape != b.shape or a.colours == b.colours:
                    continue  # told apart by shape, or the same colours (then a label or position tells them apart)
                if (
                    len(a.greys) != len(b.greys)
                    or max(abs(x - y) for x, y in zip(a.greys, b.greys, strict=True)) >= min_delta
                ):
                    continue
                problems.append(
                    f"series {a.label!r} and {b.label!r} differ only in colour and their grey levels "
                    f"({', '.join(f'{g:.2f}' for g in a.greys)} vs {', '.join(f'{g:.2f}' for g in b.greys)}) "
                    f"are less than {min_delta:g} apart: they merge in greyscale"
                )
    return problems + _mappable_problems(fig, min_delta)
