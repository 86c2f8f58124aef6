"""Machine-readable numbers behind every analysis.

Each analysis script writes its headline numbers with :func:`write_numbers`
into ``figures/<analysis>/numbers.json``; ``alsmeta reproduce`` gathers them
into ``figures/results.json`` with :func:`collect_numbers`, so that a change in
any published number shows up as a one-line diff. Output is deterministic:
keys sorted, floats rounded to :data:`SIGNIFICANT_DIGITS` (10) significant
digits and then written with ``repr`` (so last-bit floating-point noise, e.g.
1.0799999999999998 vs 1.0800000000000003 from a different summation order,
gives the same text), NaN and infinities written as null. Files are written
atomically (a temporary file renamed into place).

A stored number never sits on a rounding tie it did not have: where the
10-digit decimal ends in 5 before its 10th digit (or is a whole number) but is
not the value itself, more digits are kept (see :func:`round_significant`), so
that a consumer that prints a stored number (the README, the report) shows the
digits the analysis shows for the unrounded value (0.5449999999999997 is
stored as such, not as 0.545, which prints as 0.55 instead of 0.54).
:func:`format_stored` prints a stored number and refuses digits the file does
not settle.
"""

from __future__ import annotations

import json
import math
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd

from alsmeta.io.atomic import write_text
from alsmeta.jsonsafe import json_safe
from alsmeta.validation import AlsmetaInputError

SIGNIFICANT_DIGITS = 10
"""Significant digits kept for every float stored by :func:`dumps` (10: far
below any reported precision, far above last-digit noise of ~1e-16)."""


WHOLE_KEPT_BELOW = 1e15
"""Whole numbers below this are stored exactly: free of rounding noise, and no larger value rounds to one of
them (a whole number from 2**53 on, where every double is whole, is rounded like any other)."""

EXACT_DIGITS_LIMIT = 15
"""Most significant digits :func:`round_significant` tries before it keeps the float exactly (``repr``): every
decimal of up to 15 digits survives a round trip through a double (DBL_DIG), and beyond it the digits are noise."""


def _on_rounding_boundary(text: str, digits: int, first: int, *, whole: bool) -> bool:
    """Whether ``text``, a value rounded to ``digits`` significant digits, is a decimal the store writes only for
    itself: one on a rounding tie (ending on the digit 5) or, if ``whole``, a whole number (where the report
    switches from ``2.00`` to ``2``). At the first rounding (``digits == first``) only a tie that ends before the
    last digit counts (0.545 = 0.5450000000, a tie when printed to 2 decimals); beyond it every tie does, so that
    storing a stored number again gives the same text."""
    _, kept, exponent = Decimal(text).normalize().as_tuple()
    tie = kept[-1] == 5 and (digits > first or len(kept) < digits)
    return tie or (whole and isinstance(exponent, int) and exponent >= 0)


def round_significant(x: float, digits: int = SIGNIFICANT_DIGITS) -> float:
    """``x`` rounded to ``digits`` significant digits (decimal, via ``%.{digits}g``); 0.0 for -0.0.

    Whole numbers below :data:`WHOLE_KEPT_BELOW` (exact in floating point, so
    free of rounding noise) and a value that would round past the largest
    double are returned unchanged.

    The rounded decimal never lands on a rounding tie that ``x`` is not on:
    when it ends on the digit 5 before its last digit, or is a whole number
    while ``x`` is not, and is not ``x`` itself, more digits are kept (the
    fewest, up to :data:`EXACT_DIGITS_LIMIT`, whose decimal does not end on 5
    and is no whole number; beyond that ``x`` is returned unchanged). So a
    number printed from the file with fewer digits than it stores shows the
    digits of ``x``: 0.5449999999999997 is kept as is (at 10
    digits it would be 0.545, printed ``0.55`` at 2 decimals where ``x`` prints
    ``0.54``), 0.54499999997 is kept with 11 digits, while 0.545 itself (the
    double nearest to 0.545) stays 0.545. Formatting a double correctly
    rounded, which this relies on, is what C99 ``printf`` does (Python's
    ``format``, R's ``sprintf``).
    """
    if x.is_integer() and abs(x) < WHOLE_KEPT_BELOW:
        return x + 0.0
    for n in range(digits, max(digits, EXACT_DIGITS_LIMIT) + 1):
        text = f"{x:.{n}g}"
        rounded = float(text)
        if not math.isfinite(rounded):
            break
        if rounded == x or not _on_rounding_boundary(text, n, digits, whole=not x.is_integer()):
            return rounded + 0.0  # -0.0 -> 0.0
    return x + 0.0


_FORMAT_SPEC = re.compile(r"(?P<head>.*?)(?:\.(?P<precision>\d+))?(?P<type>[eEfFgG%])?")
"""A format specification split into everything before the precision, the precision and the presentation type."""


def _stored_range(value: float) -> tuple[Decimal, Decimal] | None:
    """The interval of values that :func:`round_significant` may store as ``value``, or None when only ``value``.

    ``value`` is read from a file :func:`dumps` wrote, whose text is ``repr(value)``. A whole number below
    :data:`WHOLE_KEPT_BELOW` and a decimal that ends on the digit 5 (unless at its 10th digit) are stored only for
    themselves; any other decimal of n digits stands for every value that rounds to it at
    max(n, :data:`SIGNIFICANT_DIGITS`) significant digits. The interval is open: it is returned shrunk by a
    thousandth of the last digit's unit.
    """
    text = repr(value)
    _, kept, _ = Decimal(text).normalize().as_tuple()
    if (value.is_integer() and abs(value) < WHOLE_KEPT_BELOW) or (kept[-1] == 5 and len(kept) != SIGNIFICANT_DIGITS):
        return None
    stored = Decimal(text)
    unit = Decimal(1).scaleb(stored.adjusted() - max(len(kept), SIGNIFICANT_DIGITS) + 1)
    half = unit / 2 - unit / 1000
    return stored - half, stored + half


def format_stored(value: Any, spec: str, *, name: str = "value") -> str:
    """``format(value, spec)`` for a number read from a file :func:`dumps` wrote, refusing unsettled digits.

    The digits are settled when every value the analysis may have computed for
    the stored number (see :func:`round_significant`) prints the same; then
    they are the digits the analysis prints for its unrounded value. They are
    not when ``spec`` asks for more digits than the file stores (``.12f``, or
    ``.4f`` of a number above a million). Non-float values and specs without a
    float presentation type (``e``, ``f``, ``g``, ``%``) are formatted as
    they are.

    Parameters
    ----------
    value
        The number as read from the file (a float for a stored float).
    spec : str
        A format specification (``.2f``, ``.0%``).
    name : str
        What the number is (its key path), for the error message.

    Raises
    ------
    AlsmetaInputError
        Naming ``name``, when the stored digits do not settle the printed ones.
    """
    shown = format(value, spec)
    parsed = _FORMAT_SPEC.fullmatch(spec)
    if not isinstance(value, float) or not math.isfinite(value) or parsed is None or parsed["type"] is None:
        return shown
    stored = _stored_range(value)
    if stored is None:
        return shown
    exact_spec = f"{parsed['head']}.{parsed['precision'] or 6}{parsed['type']}"  # a float's default precision
    low, high = (format(bound, exact_spec) for bound in stored)
    if low != high:
        raise AlsmetaInputError(
            f"{name}: {value!r} printed with {spec!r} needs more digits than the results file stores "
            f"(the value may print as {low} or {high}); print fewer digits"
        )
    return shown


def _plain(value: Any) -> Any:
    """JSON-safe values with every float stored to :data:`SIGNIFICANT_DIGITS`
    (see :func:`alsmeta.jsonsafe.json_safe`)."""
    return json_safe(value, round_significant)


def dumps(numbers: Any) -> str:
    """Deterministic JSON text (sorted keys, 2-space indent, floats to >= 10 significant digits, trailing newline)."""
    return json.dumps(_plain(numbers), indent=2, sort_keys=True, allow_nan=False) + "\n"


TOP_LEVEL_KEY = "_top_level"
"""Reserved key of a ``numbers.json``: entries that :func:`collect_numbers` lifts to the top of results.json."""


def write_numbers(directory: str | Path, numbers: dict[str, Any], top_level: dict[str, Any] | None = None) -> Path:
    """Write ``numbers`` to ``directory/numbers.json`` (atomically, see :func:`dumps`) and return the path.

    Parameters
    ----------
    directory : str or Path
        The analysis's output folder, ``figures/<analysis>``.
    numbers : dict
        The analysis's headline numbers; ``alsmeta reproduce`` stores them in
        ``figures/results.json`` under the key ``<analysis>``.
    top_level : dict, optional
        Entries that belong at the top level of ``results.json`` (e.g.
        ``{"public_claims": {...}}``), next to the analysis keys rather than
        inside them. They are written under the reserved key
        :data:`TOP_LEVEL_KEY` of ``numbers.json`` and lifted by
        :func:`collect_numbers`.
    """
    if TOP_LEVEL_KEY in numbers:
        raise AlsmetaInputError(f"numbers: the key {TOP_LEVEL_KEY!r} is reserved; pass top_level= instead")
    payload = dict(numbers)
    if top_level:
        payload[TOP_LEVEL_KEY] = dict(top_level)
    path = Path(directory) / "numbers.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text(path, dumps(payload))
    return path


def collect_numbers(figures_dir: str | Path) -> dict[str, Any]:
    """Read every ``figures/*/numbers.json`` into one dict keyed by analysis name.

    Entries an analysis wrote with ``write_numbers(..., top_level=...)`` are
    moved out of its own entry to the top level of the result.

    Raises
    ------
    AlsmetaInputError
        If a lifted key equals an analysis name or is lifted by two analyses.
    """
    root = Path(figures_dir)
    out: dict[str, Any] = {}
    lifted: dict[str, tuple[str, Any]] = {}
    for path in sorted(root.glob("*/numbers.json")):
        numbers = json.loads(path.read_text(encoding="utf-8"))
        name = path.parent.name
        if isinstance(numbers, dict) and TOP_LEVEL_KEY in numbers:
            for key, value in numbers.pop(TOP_LEVEL_KEY).items():
                if key in lifted:
                    raise AlsmetaInputError(
                        f"{path}: top-level key {key!r} is also written by figures/{lifted[key][0]}/numbers.json"
                    )
                lifted[key] = (name, value)
        out[name] = numbers
    for key, (name, value) in lifted.items():
        if key in out:
            raise AlsmetaInputError(
                f"figures/{name}/numbers.json: top-level key {key!r} collides with the analysis figures/{key}/"
            )
        out[key] = value
    return out


def markdown_table(frame: pd.DataFrame) -> str:
    """A GitHub-flavoured Markdown table of ``frame`` (no extra dependency).

    Cells are written with ``str()``; pipes inside cells are escaped.
    """

    def cell(x: Any) -> str:
        return str(x).replace("|", "\\|").replace("\n", " ")

    header = "| " + " | ".join(cell(c) for c in frame.columns) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    body = ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([header, rule, *body]) + "\n"


FIGURES_KEY = "figures"
"""Key of a ``numbers.json`` under which an analysis lists its figures (see :func:`figure_entry`)."""

FIGURE_INDEX_NAME = "README.md"
"""File name of the figure index that :func:`write_figure_index` writes into ``figures/``."""


def _sentence(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise AlsmetaInputError(f"{name}: expected a non-empty sentence, got {value!r}")
    if "\n" in value:
        raise AlsmetaInputError(f"{name}: must be one line (the figure index prints it in a table cell), got {value!r}")
    return value.strip()


def figure_entry(question: str, caption: str, *, script: str) -> dict[str, str]:
    """One figure's entry in its analysis's ``numbers.json`` (under :data:`FIGURES_KEY`).

    An analysis lists every figure it writes as
    ``numbers["figures"] = {stem: figure_entry(...)}``, where ``stem`` is the
    file name without extension inside the analysis's folder (``prisma`` for
    ``figures/cochrane_pub3/prisma.png``). :func:`figure_index` builds
    ``figures/README.md`` from these entries.

    Parameters
    ----------
    question : str
        The question the figure answers, in one line.
    caption : str
        What the reader sees and must know (assumptions, what is not shown), in one line.
    script : str
        The analysis script that makes the figure, e.g. ``Path(__file__).name``.

    Returns
    -------
    dict
        ``{"question": ..., "caption": ..., "script": "analyses/<name>.py"}``.

    Raises
    ------
    AlsmetaInputError
        If a text is empty or spans several lines, or ``script`` is not a ``.py`` file name.
    """
    name = Path(_sentence(script, "script")).name
    if not name.endswith(".py"):
        raise AlsmetaInputError(f"script: expected the analysis script's file name (*.py), got {script!r}")
    return {
        "question": _sentence(question, "question"),
        "caption": _sentence(caption, "caption"),
        "script": f"analyses/{name}",
    }


def _figure_entries(root: Path) -> dict[str, dict[str, str]]:
    """Every figure entry of every ``numbers.json`` under ``root``, keyed ``<analysis>/<stem>``."""
    entries: dict[str, dict[str, str]] = {}
    for path in sorted(root.glob("*/numbers.json")):
        numbers = json.loads(path.read_text(encoding="utf-8"))
        figures = numbers.get(FIGURES_KEY, {}) if isinstance(numbers, dict) else {}
        if not isinstance(figures, dict):
            raise AlsmetaInputError(f"{path}: {FIGURES_KEY!r} must map figure stems to figure_entry(...) dicts")
        for stem, entry in sorted(figures.items()):
            where = f"{path}: figure {stem!r}"
            if not isinstance(entry, dict) or any(
                not isinstance(entry.get(k), str) or not entry.get(k) for k in ("question", "caption", "script")
            ):
                raise AlsmetaInputError(f"{where}: expected question, caption and script (use figure_entry)")
            key = f"{path.parent.name}/{stem}"
            if not (root / f"{key}.png").is_file():
                raise AlsmetaInputError(f"{where}: listed, but {root / key}.png does not exist")
            entries[key] = entry
    return entries


def figure_index(figures_dir: str | Path) -> str:
    """The Markdown index of every figure: what question it answers and which analysis makes it.

    Built from the :data:`FIGURES_KEY` entries of every
    ``figures/<analysis>/numbers.json`` (written with :func:`figure_entry`).

    Parameters
    ----------
    figures_dir : str or Path
        The ``figures/`` folder after every analysis has run.

    Returns
    -------
    str
        Markdown: one section per analysis folder, one table row per figure
        (link to the PNG and, when present, the SVG; question; caption; script).

    Raises
    ------
    AlsmetaInputError
        If a PNG anywhere under ``figures_dir`` has no entry (so the index can
        never miss a figure), or an entry names a PNG that does not exist.
    """
    root = Path(figures_dir)
    entries = _figure_entries(root)
    pngs = sorted(p.relative_to(root).with_suffix("").as_posix() for p in root.rglob("*.png"))
    unlisted = [p for p in pngs if p not in entries]
    if unlisted:
        raise AlsmetaInputError(
            f"{root}: {len(unlisted)} figure(s) without an entry in their analysis's numbers.json "
            f"({FIGURES_KEY!r}, see alsmeta.io.reporting.figure_entry): " + ", ".join(f"{p}.png" for p in unlisted)
        )

    def cell(text: str) -> str:
        return text.replace("|", "\\|")

    lines = [
        "# Figures",
        "",
        "Generated by `alsmeta reproduce` from the `figures` entry of every `figures/<analysis>/numbers.json`; "
        "do not edit by hand. Every figure is a PNG (300 dpi) and an SVG.",
    ]
    for folder in sorted({k.split("/", 1)[0] for k in entries}):
        scripts = sorted({e["script"] for k, e in entries.items() if k.split("/", 1)[0] == folder})
        lines += [
            "",
            f"## {folder}/",
            "",
            "Made by " + ", ".join(f"`{s}`" for s in scripts) + ".",
            "",
            "| Figure | Question it answers | Caption |",
            "|---|---|---|",
        ]
        for key in sorted(k for k in entries if k.split("/", 1)[0] == folder):
            e = entries[key]
            svg = f" ([svg]({key}.svg))" if (root / f"{key}.svg").is_file() else ""
            lines.append(f"| [{key.split('/', 1)[1]}]({key}.png){svg} | {cell(e['question'])} | {cell(e['caption'])} |")
    return "\n".join(lines) + "\n"


def write_figure_index(figures_dir: str | Path) -> Path:
    """Write :func:`figure_index` to ``figures_dir/README.md`` and return the path."""
    path = Path(figures_dir) / FIGURE_INDEX_NAME
    write_text(path, figure_index(figures_dir))
    return path
