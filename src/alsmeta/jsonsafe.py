"""Plain JSON-safe Python values from numpy and pandas results (one converter for every result object)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np


def json_safe(value: Any, number: Callable[[float], float] | None = None) -> Any:
    """``value`` with numpy scalars/arrays, tuples and dicts turned into plain Python values.

    Non-finite floats (NaN, inf) become ``None`` (JSON has no NaN); dict keys
    become strings. ``number`` maps every finite float (e.g. rounding to fixed
    significant digits when the value is stored in a file); by default floats
    are kept exactly.
    """
    if isinstance(value, dict):
        return {str(k): json_safe(v, number) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v, number) for v in value]
    if isinstance(value, np.ndarray):
        return [json_safe(v, number) for v in value.tolist()]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        f = float(value)
        if not math.isfinite(f):
            return None
        return number(f) if number is not None else f
    return value
