"""PRISMA 2020 flow diagram drawn from counts, with unreported counts kept visible.

:class:`PrismaCounts` holds the counts of the PRISMA 2020 template for new
reviews that searched databases and registers (Page et al. 2021, figure 1),
plus ongoing studies (as Cochrane reviews report them). ``None`` means "not
reported": the box then says ``n = not reported`` and is drawn with a dashed
outline - a count is never derived or invented to fill the gap. Counts that
are reported but do not add up are reported by
:meth:`PrismaCounts.inconsistencies` (and as a warning when drawing).
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from alsmeta.plots._labels import literal_text
from alsmeta.plots.style import INK, style_context, text_width
from alsmeta.validation import AlsmetaInputError, AlsmetaWarning

Count = int | None
NOT_REPORTED = "not reported"

FONT = 8.0
LINE = FONT * 1.35 / 72.0  # line height, inches
PAD = 0.09  # inner padding, inches
WIDTH = 183.0 / 25.4  # double-column print width (183 mm)
PHASE_W = 0.32
MAIN_X, MAIN_W = 0.55, 3.05
SIDE_X, SIDE_W = 4.05, 3.0
ROW_GAP = 0.32
PHASE_COLOUR = "#cfe3f1"
NOT_REPORTED_EDGE = "#7a7a7a"


def _count(value: Any, name: str) -> Count:
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_, str)):
        raise AlsmetaInputError(f"PRISMA count {name!r}: {value!r} is not a whole number (use None if not reported)")
    try:
        f = float(value)
    except (TypeError, ValueError):
        raise AlsmetaInputError(
            f"PRISMA count {name!r}: {value!r} is not a whole number (use None if not reported)"
        ) from None
    if math.isnan(f):
        raise AlsmetaInputError(f"PRISMA count {name!r}: NaN; use None for a count that is not reported")
    if f < 0 or f != round(f):
        raise AlsmetaInputError(f"PRISMA count {name!r}: {value!r} must be a non-negative whole number")
    return int(f)


def _pairs(mapping: Mapping[str, Any] | None, name: str) -> tuple[tuple[str, Count], ...] | None:
    if mapping is None:
        return None
    if not isinstance(mapping, Mapping):
        raise AlsmetaInputError(f"PRISMA {name}: expected a mapping of name -> count")
    return tuple((str(k), _count(v, f"{name}[{k!r}]")) for k, v in mapping.items())


@dataclass(frozen=True)
class PrismaCounts:
    """Counts of a PRISMA 2020 flow diagram; ``None`` means not reported.

    Attributes
    ----------
    identified
        Records identified, by source, e.g. ``{"Databases": 670,
        "Registers": None}``.
    duplicates_removed, automation_removed, other_removed
        Records removed before screening.
    screened, excluded_screening
        Records screened (titles/abstracts) and excluded at that stage.
    sought, not_retrieved
        Reports sought for retrieval and reports not retrieved.
    assessed, excluded_full_text
        Reports assessed for eligibility (full texts) and excluded.
    exclusion_reasons
        Full-text exclusions by reason, e.g. ``{"Not randomised": 40}``;
        ``None`` if the reasons were not reported.
    included_studies, included_reports
        Studies (and their reports) included in the review.
    ongoing
        Ongoing studies identified (Cochrane reviews list them separately).
    awaiting_classification
        Studies awaiting classification (Cochrane reviews list them
        separately); drawn in the ongoing box only when given.
    """

    identified: tuple[tuple[str, Count], ...] | Mapping[str, Any] = field(default_factory=tuple)
    duplicates_removed: Count = None
    automation_removed: Count = None
    other_removed: Count = None
    screened: Count = None
    excluded_screening: Count = None
    sought: Count = None
    not_retrieved: Count = None
    assessed: Count = None
    excluded_full_text: Count = None
    exclusion_reasons: tuple[tuple[str, Count], ...] | Mapping[str, Any] | None = None
    included_studies: Count = None
    included_reports: Count = None
    ongoing: Count = None
    awaiting_classification: Count = None

    def __post_init__(self) -> None:
        ident = self.identified if isinstance(self.identified, Mapping) else dict(self.identified)
        object.__setattr__(self, "identified", _pairs(ident, "identified"))
        reasons = self.exclusion_reasons
        if reasons is not None and not isinstance(reasons, Mapping):
            reasons = dict(reasons)
        object.__setattr__(self, "exclusion_reasons", _pairs(reasons, "exclusion_reasons"))
        for f in fields(self):
            if f.name not in ("identified", "exclusion_reasons"):
                object.__setattr__(self, f.name, _count(getattr(self, f.name), f.name))

    def inconsistencies(self) -> list[str]:
        """Reported counts that do not add up (each as a sentence); empty if none."""
        out = []
        ident = [c for _, c in _stored_pairs(self.identified)]
        removed = (self.duplicates_removed, self.automation_removed, self.other_removed)
        if ident and None not in ident and None not in removed and self.screened is not None:
            expected = sum(c for c in ident if c is not None) - sum(r for r in removed if r is not None)
            if expected != self.screened:
                out.append(f"identified minus removed is {expected}, but {self.screened} records were screened")
        for a, b, c, what in (
            ("screened", "excluded_screening", "sought", "reports sought"),
            ("sought", "not_retrieved", "assessed", "reports assessed"),
        ):
            va, vb, vc = getattr(self, a), getattr(self, b), getattr(self, c)
            if None not in (va, vb, vc) and va - vb != vc:
                out.append(f"{a} minus {b} is {va - vb}, but {vc} {what}")
        reasons = _stored_pairs(self.exclusion_reasons)
        if reasons and self.excluded_full_text is not None:
            counts = [c for _, c in reasons]
            total = sum(c for c in counts if c is not None)
            if None not in counts and total != self.excluded_full_text:
                out.append(f"exclusion reasons add up to {total}, but {self.excluded_full_text} reports were excluded")
        return out


def _stored_pairs(value: tuple[tuple[str, Count], ...] | Mapping[str, Any] | None) -> tuple[tuple[str, Count], ...]:
    """The ``(name, count)`` pairs that ``PrismaCounts.__post_init__`` stored (``()`` for None)."""
    return value if isinstance(value, tuple) else ()


def _n(value: Count) -> str:
    return f"(n = {NOT_REPORTED if value is None else f'{value:,}'})"


def _wrap(text: str, width: float) -> list[str]:
    """Greedy word wrap of one paragraph to ``width`` inches; ``(n = ...)`` stays on one line."""
    words, lines, line = re.findall(r"\(n = [^)]*\)|\S+", text), [], ""
    for word in words:
        candidate = word if not line else f"{line} {word}"
        if line and text_width(candidate, FONT) > width:
            lines.append(line)
            line = word
        else:
            line = candidate
    lines.append(line)
    return lines


@dataclass(frozen=True)
class _Box:
    key: str
    paragraphs: tuple[str, ...]
    reported: bool

    def lines(self, width: float) -> list[str]:
        out: list[str] = []
        for para in self.paragraphs:
            indent = para.startswith("  ")
            wrapped = _wrap(para.strip(), width - (0.12 if indent else 0.0))
            out += [("    " if indent else "") + w for w in wrapped]
        return out

    def height(self, width: float) -> float:
        return len(self.lines(width - 2 * PAD)) * LINE + 2 * PAD


def _boxes(c: PrismaCounts) -> list[tuple[str, _Box, _Box | None]]:
    ident = list(_stored_pairs(c.identified))
    ident_lines = (
        ["Records identified from:"] + [f"  {name} {_n(v)}" for name, v in ident]
        if ident
        else [f"Records identified {_n(None)}"]
    )
    removed = (c.duplicates_removed, c.automation_removed, c.other_removed)
    reasons = _stored_pairs(c.exclusion_reasons)
    reason_lines = [f"  {name} {_n(v)}" for name, v in reasons] if reasons else [f"  Reasons: {NOT_REPORTED}"]
    return [
        (
            "Identification",
            _Box("identified", tuple(ident_lines), any(v is not None for _, v in ident)),
            _Box(
                "removed",
                (
                    "Records removed before screening:",
                    f"  Duplicate records removed {_n(c.duplicates_removed)}",
                    f"  Records marked as ineligible by automation tools {_n(c.automation_removed)}",
                    f"  Records removed for other reasons {_n(c.other_removed)}",
                ),
                any(v is not None for v in removed),
            ),
        ),
        (
            "Screening",
            _Box("screened", (f"Records screened {_n(c.screened)}",), c.screened is not None),
            _Box(
                "excluded_screening",
                (f"Records excluded {_n(c.excluded_screening)}",),
                c.excluded_screening is not None,
            ),
        ),
        (
            "Screening",
            _Box("sought", (f"Reports sought for retrieval {_n(c.sought)}",), c.sought is not None),
            _Box("not_retrieved", (f"Reports not retrieved {_n(c.not_retrieved)}",), c.not_retrieved is not None),
        ),
        (
            "Screening",
            _Box("assessed", (f"Reports assessed for eligibility {_n(c.assessed)}",), c.assessed is not None),
            _Box(
                "excluded_full_text",
                (f"Reports excluded {_n(c.excluded_full_text)}", *reason_lines),
                c.excluded_full_text is not None,
            ),
        ),
        (
            "Included",
            _Box(
                "included",
                (
                    f"Studies included in review {_n(c.included_studies)}",
                    f"Reports of included studies {_n(c.included_reports)}",
                ),
                c.included_studies is not None,
            ),
            _Box(
                "ongoing",
                (
                    f"Ongoing studies {_n(c.ongoing)}",
                    *(
                        [f"Studies awaiting classification {_n(c.awaiting_classification)}"]
                        if c.awaiting_classification is not None
                        else []
                    ),
                ),
                c.ongoing is not None,
            ),
        ),
    ]


def prisma_flow(
    counts: PrismaCounts,
    *,
    title: str | None = "Identification of studies via databases and registers",
    caption: str | None = None,
    check: bool = True,
) -> Figure:
    """Draw the PRISMA 2020 flow diagram of a review.

    Parameters
    ----------
    counts
        The counts; ``None`` entries are drawn as "not reported" in dashed
        boxes.
    title
        Header above the flow (the PRISMA 2020 template's heading).
    caption
        Source note written below the diagram.
    check
        Warn (``AlsmetaWarning``) when reported counts do not add up.

    Returns
    -------
    matplotlib.figure.Figure
        Boxes carry gids ``prisma:<key>`` and their texts
        ``prisma-text:<key>`` (keys: identified, removed, screened,
        excluded_screening, sought, not_retrieved, assessed,
        excluded_full_text, included, ongoing).

    References
    ----------
    Page MJ, McKenzie JE, Bossuyt PM, et al. (2021). The PRISMA 2020
    statement: an updated guideline for reporting systematic reviews. BMJ
    372:n71.
    """
    if not isinstance(counts, PrismaCounts):
        raise AlsmetaInputError(f"counts: expected PrismaCounts, got {type(counts).__name__}")
    if check:
        for problem in counts.inconsistencies():
            warnings.warn(f"PRISMA counts do not add up: {problem}", AlsmetaWarning, stacklevel=2)
    rows = _boxes(counts)
    heights = [max(left.height(MAIN_W), right.height(SIDE_W) if right else 0.0) for _, left, right in rows]
    _fit_phase_labels(rows, heights)
    top = 0.15 + (0.5 if title else 0.0)
    ys = []
    y = top
    for h in heights:
        ys.append(y)
        y += h + ROW_GAP
    bottom = y - ROW_GAP
    caption_lines = _wrap(caption, WIDTH - 0.3) if caption else []
    legend_y = bottom + 0.22
    total = legend_y + 0.2 + len(caption_lines) * LINE + 0.12
    with style_context():
        fig = Figure(figsize=(WIDTH, total))
        ax = fig.add_axes((0, 0, 1, 1))
        ax.set_xlim(0, WIDTH)
        ax.set_ylim(total, 0)
        ax.set_axis_off()
        if title:
            _draw_box(
                ax,
                "title",
                [title],
                MAIN_X,
                0.15,
                SIDE_X + SIDE_W - MAIN_X,
                0.36,
                True,
                bold=True,
                face="#f3f3f3",
                centre=True,
            )
        _phases(ax, rows, ys, heights)
        for (_, left, right), y0, h in zip(rows, ys, heights, strict=True):
            _draw_box(ax, left.key, left.lines(MAIN_W - 2 * PAD), MAIN_X, y0, MAIN_W, h, left.reported)
            if right is not None:
                _draw_box(ax, right.key, right.lines(SIDE_W - 2 * PAD), SIDE_X, y0, SIDE_W, h, right.reported)
                if right.key != "ongoing":
                    _arrow(ax, (MAIN_X + MAIN_W, y0 + h / 2), (SIDE_X, y0 + h / 2), f"arrow:{left.key}->{right.key}")
        for (_, a, _), (_, b, _), y0, h, y1 in zip(rows[:-1], rows[1:], ys[:-1], heights[:-1], ys[1:], strict=True):
            _arrow(ax, (MAIN_X + MAIN_W / 2, y0 + h), (MAIN_X + MAIN_W / 2, y1), f"arrow:{a.key}->{b.key}")
        ax.add_patch(
            FancyBboxPatch(
                (MAIN_X, legend_y - 0.06),
                0.28,
                0.12,
                boxstyle="square,pad=0",
                facecolor="white",
                edgecolor=NOT_REPORTED_EDGE,
                ls=(0, (3, 2)),
                lw=0.8,
            )
        )
        ax.text(
            MAIN_X + 0.38,
            legend_y,
            "Dashed box: count not reported in the source (shown as \u201cnot reported\u201d, never estimated)",
            fontsize=FONT - 0.5,
            va="center",
            gid="prisma-legend",
        )
        for j, line in enumerate(caption_lines):
            ax.text(
                0.15,
                legend_y + 0.22 + (j + 0.5) * LINE,
                line,
                fontsize=FONT - 0.5,
                va="center",
                style="italic",
                gid="prisma-caption",
            )
    return literal_text(fig)


def _draw_box(
    ax: Axes,
    key: str,
    lines: list[str],
    x: float,
    y: float,
    w: float,
    h: float,
    reported: bool,
    bold: bool = False,
    face: str = "white",
    centre: bool = False,
) -> None:
    edge, style = (INK, "solid") if reported else (NOT_REPORTED_EDGE, (0, (3, 2)))
    ax.add_patch(
        FancyBboxPatch(
            (x, y), w, h, boxstyle="square,pad=0", facecolor=face, edgecolor=edge, lw=0.9, ls=style, gid=f"prisma:{key}"
        )
    )
    weight = "bold" if bold else "normal"
    if centre:
        ax.text(
            x + w / 2,
            y + h / 2,
            "\n".join(lines),
            ha="center",
            va="center",
            fontsize=FONT + 0.5,
            fontweight=weight,
            gid=f"prisma-text:{key}",
        )
        return
    for j, line in enumerate(lines):  # one text per line: exact, measured line spacing
        ax.text(
            x + PAD,
            y + PAD + (j + 0.5) * LINE,
            line,
            ha="left",
            va="center_baseline",
            fontsize=FONT,
            fontweight=weight,
            gid=f"prisma-text:{key}",
        )


def _arrow(ax: Axes, start: tuple[float, float], end: tuple[float, float], gid: str) -> None:
    ax.add_patch(
        FancyArrowPatch(
            start, end, arrowstyle="-|>", mutation_scale=9, color=INK, lw=0.9, shrinkA=0, shrinkB=0, gid=gid
        )
    )


def _fit_phase_labels(rows: list[tuple[str, _Box, _Box | None]], heights: list[float]) -> None:
    """Make each phase at least as tall as its rotated label (grows its last row)."""
    phases = [phase for phase, _, _ in rows]
    for phase in dict.fromkeys(phases):
        idx = [i for i, p in enumerate(phases) if p == phase]
        span = sum(heights[i] for i in idx) + ROW_GAP * (len(idx) - 1)
        need = text_width(phase, FONT + 0.5, "bold") + 0.2
        if span < need:
            heights[idx[-1]] += need - span


def _phases(ax: Axes, rows: list[tuple[str, _Box, _Box | None]], ys: list[float], heights: list[float]) -> None:
    spans: dict[str, list[float]] = {}
    for (phase, _, _), y0, h in zip(rows, ys, heights, strict=True):
        lo, hi = spans.get(phase, [y0, y0 + h])
        spans[phase] = [min(lo, y0), max(hi, y0 + h)]
    for phase, (y0, y1) in spans.items():
        ax.add_patch(
            FancyBboxPatch(
                (0.12, y0),
                PHASE_W,
                y1 - y0,
                boxstyle="round,pad=0,rounding_size=0.06",
                facecolor=PHASE_COLOUR,
                edgecolor="none",
                gid=f"prisma-phase:{phase}",
            )
        )
        ax.text(
            0.12 + PHASE_W / 2,
            (y0 + y1) / 2,
            phase,
            rotation=90,
            ha="center",
            va="center",
            fontsize=FONT + 0.5,
            fontweight="bold",
            gid=f"prisma-phase-text:{phase}",
        )
