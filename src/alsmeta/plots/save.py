"""Saving figures: deterministic bytes, atomic files, and the print standard as a gate.

:func:`save_figure` writes PNG (300 dpi) plus vector formats in the house style
(:mod:`alsmeta.plots.style`); when ``ALSMETA_CHECK_FIGURES`` is set it first refuses a
figure that fails the print checks of :mod:`alsmeta.plots.print_check`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib as mpl
from matplotlib.figure import Figure

from alsmeta.io.atomic import atomic_write
from alsmeta.plots.frozen_layout import frozen_layout
from alsmeta.plots.print_check import grayscale_problems, print_problems
from alsmeta.plots.style import DPI, style_context
from alsmeta.validation import AlsmetaInputError

CHECK_FIGURES_ENV = "ALSMETA_CHECK_FIGURES"
"""When this environment variable is set (the test suite sets it), :func:`save_figure`
refuses a figure that fails :func:`alsmeta.plots.print_check.print_problems` or
:func:`~alsmeta.plots.print_check.grayscale_problems`, so every analysis figure is
held to the print standard whenever the tests run the analyses."""


def _refuse_unprintable(fig: Figure, stem: Path) -> None:
    problems = print_problems(fig) + grayscale_problems(fig)
    if problems:
        raise AlsmetaInputError(f"{stem.name}: not print-ready ({CHECK_FIGURES_ENV} is set): " + "; ".join(problems))


def save_figure(
    fig: Figure,
    path_stem: str | Path,
    formats: Sequence[str] = ("png", "svg"),
    dpi: int = DPI,
) -> list[Path]:
    """Write ``fig`` deterministically as ``path_stem.<format>`` for each format.

    Parameters
    ----------
    fig
        The figure to save.
    path_stem
        Output path without extension; parent folders are created.
    formats
        Any of ``"png"``, ``"svg"``, ``"pdf"``. PNG alone is not publication
        ready: give at least one vector format as well (the default writes
        PNG and SVG).
    dpi
        Raster resolution for PNG (at least 200).

    Returns
    -------
    list of Path
        The files written, in the order of ``formats``.

    Notes
    -----
    No timestamps are written (SVG ``Date``, PDF ``CreationDate`` and
    ``ModDate`` are removed) and SVG element ids use a fixed hash salt. The
    layout is solved once, at ``dpi``, from the figure as it was built
    (:func:`alsmeta.plots.frozen_layout.freeze_layout`; undoing whatever
    earlier draws moved) and used for every format, so the bytes depend only
    on the figure and on the matplotlib version, not on how often or at what
    dpi it was drawn before (the figure's layout engine is restored after
    saving). SVG
    text is kept as ``<text>`` in the house font (``svg.fonttype: none``) so
    a journal can edit it; PDF embeds the font as TrueType (type 42). Each
    file is written to a temporary file in the same folder and renamed into
    place (:func:`alsmeta.io.atomic_write`), so an interrupted save leaves the
    previous file intact, never a truncated one.
    """
    if dpi < 200:
        raise AlsmetaInputError(f"dpi: {dpi} is below the 200 dpi minimum for publication figures")
    stem = Path(path_stem)
    if stem.suffix.lower() in (".png", ".svg", ".pdf"):
        raise AlsmetaInputError(f"path_stem: give the path without extension, got {str(stem)!r}")
    unknown = [f for f in formats if f not in ("png", "svg", "pdf")]
    if unknown or not formats:
        raise AlsmetaInputError(f"formats: expected some of 'png', 'svg', 'pdf', got {list(formats)!r}")
    if os.environ.get(CHECK_FIGURES_ENV):
        _refuse_unprintable(fig, stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    metadata: dict[str, dict[str, Any]] = {
        "png": {"Software": f"matplotlib {mpl.__version__} via alsmeta"},
        "svg": {"Date": None, "Creator": f"matplotlib {mpl.__version__} via alsmeta"},
        "pdf": {"CreationDate": None, "ModDate": None, "Creator": f"matplotlib {mpl.__version__} via alsmeta"},
    }
    written = []
    # one layout, solved from the figure as built, for every format: the bytes do not depend on earlier draws
    with style_context(), frozen_layout(fig, dpi):
        for fmt in formats:
            path = stem.with_name(f"{stem.name}.{fmt}")
            with atomic_write(path, "wb") as fh:  # never a truncated file, whatever interrupts us
                fig.savefig(fh, format=fmt, dpi=dpi, metadata=metadata[fmt], facecolor="white")
            written.append(path)
    return written
