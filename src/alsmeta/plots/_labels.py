"""Point labels that avoid each other (deterministic greedy placement).

Each label tries eight positions around its point and takes the first one
that overlaps no earlier label, no other point and stays inside the axes;
if none is free, the position with the least overlap. No randomness, so the
output is reproducible.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.text import Annotation

from alsmeta.plots.style import text_width

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
    x: Sequence[float],
    y: Sequence[float],
    texts: Sequence[str],
    fontsize: float,
    point_size: float = 4.5,
    gid: str = "point-label",
) -> list[Annotation]:
    """Annotate points ``(x, y)`` with ``texts``, avoiding overlaps; returns the annotations."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    fig = ax.figure
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
        best, best_cost = _CANDIDATES[0], float("inf")
        for cand in _CANDIDATES:
            dx, dy, ha, va = cand
            box = _box(pts[i, 0] + dx * scale, pts[i, 1] + dy * scale, w, h, ha, va)
            cost = sum(_overlap(box, b) for b in placed)
            cost += 4.0 * sum(_overlap(box, b) for j, b in enumerate(points) if j != i)
            outside = (max(0.0, frame.x0 - box[0]) + max(0.0, box[2] - frame.x1)) * h
            outside += (max(0.0, frame.y0 - box[1]) + max(0.0, box[3] - frame.y1)) * w
            cost += 6.0 * outside
            if cost < best_cost - 1e-9:
                best, best_cost = cand, cost
            if cost == 0.0:
                break
        dx, dy, ha, va = best
        placed.append(_box(pts[i, 0] + dx * scale, pts[i, 1] + dy * scale, w, h, ha, va))
        out.append(
            ax.annotate(str(texts[i]), (x[i], y[i]), xytext=(dx, dy), textcoords="offset points", ha=ha, va=va,
                        fontsize=fontsize, gid=gid)
        )
    return out
