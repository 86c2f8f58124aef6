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

import numpy as np
import pandas as pd

from alsmeta.validation import AlsmetaInputError
from alsmeta.io.atomic import write_text

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
    """Convert numpy scalars/arrays, tuples and NaN to JSON-safe Python values."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return [_plain(v) for v in value.tolist()]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        f = float(value)
        return round_significant(f) if math.isfinite(f) else None
    return value


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
