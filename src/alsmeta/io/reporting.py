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
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd

from alsmeta.io.atomic import write_text
from alsmeta.jsonsafe import json_safe
from alsmeta.validation import AlsmetaInputError

SIGNIFICANT_DIGITS = 10
"""Significant digits kept for every float stored by :func:`dumps` (10: far
below any reported precision, far above last-digit noise of ~1e-16)."""


def round_significant(x: float, digits: int = SIGNIFICANT_DIGITS) -> float:
    """``x`` rounded to ``digits`` significant digits (decimal, via ``%.{digits}g``); 0.0 for -0.0.

    Whole numbers below 2**53 (exact in floating point, so free of rounding
    noise) and a value that would round past the largest double are
    returned unchanged.
    """
    if x.is_integer() and abs(x) < 2.0**53:
        return x + 0.0
    rounded = float(f"{x:.{digits}g}")
    return (rounded if math.isfinite(rounded) else x) + 0.0  # -0.0 -> 0.0


def _plain(value: Any) -> Any:
    """JSON-safe values with every float stored to :data:`SIGNIFICANT_DIGITS`
    (see :func:`alsmeta.jsonsafe.json_safe`)."""
    return json_safe(value, round_significant)


def dumps(numbers: Any) -> str:
    """Deterministic JSON text (sorted keys, 2-space indent, floats to 10 significant digits, trailing newline)."""
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
