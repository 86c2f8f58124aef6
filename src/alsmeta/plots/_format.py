"""Number formatting shared by all plots (one convention for every figure).

Negative numbers use the typographic minus sign (U+2212), p-values below
0.001 are written ``< 0.001``, and missing values are written ``NR`` (not
reported) - never as an invented number.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

MINUS = "\u2212"
NOT_REPORTED = "NR"


def num(x: float, digits: int = 2) -> str:
    """``x`` with ``digits`` decimals and a true minus sign; ``NA`` if not finite."""
    if x is None or not math.isfinite(x):
        return "NA"
    text = f"{x:.{digits}f}"
    if float(text) == 0.0:
        text = text.lstrip("-")
    return text.replace("-", MINUS)


def ratio(x: float, digits: int = 2) -> str:
    """A back-transformed ratio ``exp(x)`` with ``digits`` decimals.

    A ratio that would round to zero is written ``<0.01`` (for two digits),
    never ``0.00``: a ratio is always positive. Ratios of 100 or more are
    written without decimals (``29913``, not ``29913.35``).
    """
    if x is None or not math.isfinite(x):
        return "NA"
    r = math.exp(x)
    smallest = 10.0 ** (-digits)
    if r < smallest * 0.5 or float(f"{r:.{digits}f}") == 0.0:
        return f"<{smallest:.{digits}f}"
    return num(r, 0 if r >= 99.5 else digits)


def estimate_ci(estimate: float, low: float, high: float, digits: int = 2, log_scale: bool = False) -> str:
    """``est [low, high]``; on the log scale the three numbers are exponentiated."""
    fmt = ratio if log_scale else num
    return f"{fmt(estimate, digits)} [{fmt(low, digits)}, {fmt(high, digits)}]"


def small(x: float, digits: int = 2) -> str:
    """A non-negative quantity such as tau^2: two significant digits when tiny."""
    if x is None or not math.isfinite(x):
        return "NA"
    if x == 0:
        return "0"
    if abs(x) < 10.0 ** (-digits):
        return f"{x:.2g}".replace("-", MINUS)
    return num(x, digits)


def pvalue(p: float) -> str:
    """``p = 0.042`` or ``p < 0.001`` (``p = NA`` when undefined)."""
    if p is None or not math.isfinite(p):
        return "p = NA"
    if p < 0.001:
        return "p < 0.001"
    return f"p = {p:.3f}"


def percent(x: float, digits: int = 1) -> str:
    """``12.3%``."""
    if x is None or not math.isfinite(x):
        return "NA"
    return f"{num(x, digits)}%"


def cell(value: Any) -> str:
    """Text of one extra table cell: whole numbers without decimals, missing as ``NR``."""
    if value is None or (not isinstance(value, str) and pd.api.types.is_scalar(value) and pd.isna(value)):
        return NOT_REPORTED
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        f = float(value)
        if not math.isfinite(f):
            return NOT_REPORTED
        return str(int(f)) if f == round(f) and abs(f) < 1e15 else f"{f:g}".replace("-", MINUS)
    text = str(value).strip()
    return text if text else NOT_REPORTED
