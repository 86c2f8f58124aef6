"""Text drawn from user data: printed literally, and point labels that avoid each other.

:func:`literal_text` is the one place where alsmeta makes every text it drew
(study labels, table cells, titles, axis labels, legends, PRISMA boxes)
print exactly as written: matplotlib would otherwise read ``$...$`` in a
study label as mathtext (``"Smith $5 vs $10"`` loses its dollar signs and
italicises the words between them; an ``_`` inside turns into a subscript).
Tick labels and axis offset texts, which matplotlib's own formatters may
write as mathtext, are left alone. It also warns when the font lacks a
character (matplotlib would print an empty box).

:func:`place_labels` places point labels: each label tries eight positions
around its point and takes the first one that overlaps no earlier label, no
other point and stays inside the axes; if none is free, the position with
the least overlap. No randomness, so the output is reproducible.
"""

from __future__ import annotations

import unicodedata
import warnings
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import numpy.typing as npt
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties, findfont
from matplotlib.ft2font import FT2Font
from matplotlib.text import Annotation, Text

from alsmeta.plots.style import root_figure, style_context, text_width
from alsmeta.validation import AlsmetaWarning


def _figure_texts(fig: Figure) -> list[Text]:
    """Texts a plot function writes: figure and axes texts and annotations, titles, axis labels, legends."""
    out: list[Text] = list(fig.texts)
    legends = list(fig.legends)
    for ax in fig.axes:
        out += list(ax.texts)
        out += [
            t for t in (ax.title, getattr(ax, "_left_title", None), getattr(ax, "_right_title", None)) if t is not None
        ]
        out += [ax.xaxis.label, ax.yaxis.label]
        legend = ax.get_legend()
        if legend is not None:
            legends.append(legend)
    for legend in legends:
        out += [*legend.get_texts(), legend.get_title()]
    return out


def text_snapshot(fig: Figure) -> dict[int, str]:
    """The texts already on ``fig`` (before a plot function draws on a user's axes), by identity."""
    return {id(t): t.get_text() for t in _figure_texts(fig)}


@lru_cache(maxsize=64)
def _charmap(font_path: str) -> frozenset[int]:
    return frozenset(FT2Font(font_path).get_charmap())


def missing_glyphs(text: str, font: FontProperties | None = None) -> list[str]:
    """Characters of ``text`` that the font (default: the house font) cannot draw, in order, once each."""
    with style_context():
        path = findfont(font if font is not None else FontProperties())
    have = _charmap(path)
    seen: list[str] = []
    for ch in text:
        if ord(ch) not in have and unicodedata.category(ch) != "Cc" and ch not in seen:
            seen.append(ch)
    return seen


def literal_text(fig: Figure, before: dict[int, str] | None = None) -> Figure:
    """Make every text alsmeta drew on ``fig`` print literally, and warn about missing glyphs.

    Parameters
    ----------
    fig
        A figure built by an alsmeta plot function.
    before
        :func:`text_snapshot` of the figure taken before drawing on a
        user-supplied axes: texts that were there and are unchanged are left
        as the user made them (their mathtext included).

    Returns
    -------
    Figure
        ``fig``, whose texts now have ``parse_math=False``.

    Warns
    -----
    AlsmetaWarning
        Naming the text and each character that the font lacks (matplotlib
        draws an empty box for it): e.g. CJK characters or emoji with the
        house font DejaVu Sans.
    """
    before = before or {}
    with style_context():
        for text in _figure_texts(fig):
            content = text.get_text()
            if before.get(id(text)) == content and content:
                continue
            text.set_parse_math(False)
            missing = missing_glyphs(content, text.get_fontproperties()) if content else []
            if missing:
                chars = ", ".join(f"{ch!r} (U+{ord(ch):04X})" for ch in missing)
                family = text.get_fontproperties().get_name()
                warnings.warn(
                    f"text {content!r}: character(s) {chars} not in the font {family}; they print as empty boxes",
                    AlsmetaWarning,
                    stacklevel=3,
                )
    return fig


# (dx, dy) in points, horizontal and vertical alignment
_CANDIDATES = (
    (4, 3, "left", "bottom"),
    (4, -3, "left", "top"),
    (-4, 3, "right", "bottom"),
    (-4, -3, "right", "top"),
    (0, 6, "center", "bottom"),
    (0, -6, "center", "top"),
    (7, 0, "left", "center"),
    (-7, 0, "right", "center"),
)


def _box(px: float, py: float, w: float, h: float, ha: str, va: str) -> tuple[float, float, float, float]:
    x0 = {"left": px, "right": px - w, "center": px - w / 2}[ha]
    y0 = {"bottom": py, "top": py - h, "center": py - h / 2}[va]
    return x0, y0, x0 + w, y0 + h


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    dx = min(a[2], b[2]) - max(a[0], b[0])
    dy = min(a[3], b[3]) - max(a[1], b[1])
    return dx * dy if dx > 0 and dy > 0 else 0.0


def place_labels(
    ax: Axes,
    x: npt.ArrayLike,
    y: npt.ArrayLike,
    texts: Sequence[str],
    fontsize: float,
    point_size: float = 4.5,
    gid: str = "point-label",
    skip_crowded: bool = False,
) -> list[Annotation]:
    """Annotate points ``(x, y)`` with ``texts``, avoiding overlaps; returns the annotations.

    With ``skip_crowded``, a label that would overlap an earlier label or
    leave the axes wherever it goes is not drawn (the caller names the
    points left unlabelled, from the texts of the returned annotations).
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    fig = root_figure(ax)
    fig.draw_without_rendering()  # settle the layout before measuring positions
    scale = fig.dpi / 72.0
    pts = ax.transData.transform(np.column_stack([x, y]))
    r = point_size / 2 * scale
    points = [(px - r, py - r, px + r, py + r) for px, py in pts]
    frame = ax.bbox
    placed: list[tuple[float, float, float, float]] = []
    out = []
    order = np.lexsort((pts[:, 0], -pts[:, 1]))  # top to bottom, then left to right
    for i in order:
        w = text_width(texts[i], fontsize) * 72.0 * scale
        h = fontsize * 1.15 * scale
        best, best_cost, best_clash = _CANDIDATES[0], float("inf"), float("inf")
        for cand in _CANDIDATES:
            dx, dy, ha, va = cand
            box = _box(pts[i, 0] + dx * scale, pts[i, 1] + dy * scale, w, h, ha, va)
            clash = sum(_overlap(box, b) for b in placed)
            outside = (max(0.0, frame.x0 - box[0]) + max(0.0, box[2] - frame.x1)) * h
            outside += (max(0.0, frame.y0 - box[1]) + max(0.0, box[3] - frame.y1)) * w
            cost = clash + 4.0 * sum(_overlap(box, b) for j, b in enumerate(points) if j != i) + 6.0 * outside
            if cost < best_cost - 1e-9:
                best, best_cost, best_clash = cand, cost, clash + outside
            if cost == 0.0:
                break
        if skip_crowded and best_clash > 0.0:
            continue
        dx, dy, ha, va = best
        placed.append(_box(pts[i, 0] + dx * scale, pts[i, 1] + dy * scale, w, h, ha, va))
        out.append(
            ax.annotate(
                str(texts[i]),
                (x[i], y[i]),
                xytext=(dx, dy),
                textcoords="offset points",
                ha=ha,
                va=va,
                fontsize=fontsize,
                gid=gid,
            )
        )
    return out


def wrap_key(text: str, width: float, size: float, separator: str = "   ") -> str:
    """Wrap a key ``"1 Label   2 Label ..."`` at its separators, each line at most ``width`` inches in ``size`` pt."""
    lines, line = [], ""
    for part in text.split(separator):
        candidate = part if not line else f"{line}{separator}{part}"
        if text_width(candidate, size) > width and line:
            lines.append(line)
            line = part
        else:
            line = candidate
    lines.append(line)
    return "\n".join(lines)
