"""Input validation shared by every public function.

Every user-facing function converts its study-level inputs with the helpers
here, so that bad input always produces the same kind of message: the name of
the column (argument), the label of the offending study and what is wrong.
Nothing is silently dropped, coerced or reordered.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt


class AlsmetaInputError(ValueError):
    """Raised when user input is malformed; the message names study and column."""


def study_labels(labels: Sequence[Any] | None, k: int) -> list[str]:
    """Return ``k`` study labels as strings, defaulting to ``"Study 1"`` ... .

    Raises
    ------
    AlsmetaInputError
        If the number of labels differs from ``k``, a label is missing/empty,
        or two studies share a label.
    """
    if labels is None:
        return [f"Study {i + 1}" for i in range(k)]
    if isinstance(labels, str):
        raise AlsmetaInputError("labels: expected one label per study, got a single string")
    out = []
    for i, lab in enumerate(list(labels)):
        if lab is None or (isinstance(lab, float) and np.isnan(lab)) or str(lab).strip() == "":
            raise AlsmetaInputError(f"labels: study {i + 1} has an empty or missing label")
        out.append(str(lab))
    if len(out) != k:
        raise AlsmetaInputError(f"labels: {len(out)} labels given for {k} studies")
    seen: dict[str, int] = {}
    for i, lab in enumerate(out):
        if lab in seen:
            raise AlsmetaInputError(
                f"labels: duplicate study label {lab!r} (studies {seen[lab] + 1} and {i + 1})"
            )
        seen[lab] = i
    return out


def numeric_column(
    values: Any,
    column: str,
    labels: Sequence[str] | None = None,
    *,
    allow_nan: bool = False,
    positive: bool = False,
    nonnegative: bool = False,
    integer: bool = False,
) -> npt.NDArray[np.float64]:
    """Convert one study-level column to a 1-d float array, checking each entry.

    Parameters
    ----------
    values
        A sequence of numbers (list, tuple, numpy array or pandas Series).
    column
        Name used in error messages (the argument or CSV column name).
    labels
        Study labels used in error messages; defaults to ``Study 1`` ... .
    allow_nan
        Accept missing values (NaN/None) and keep them as NaN.
    positive, nonnegative
        Require every (non-missing) value to be > 0 or >= 0.
    integer
        Require whole numbers (for counts and sample sizes).

    Raises
    ------
    AlsmetaInputError
        Naming the study and the column for every kind of bad entry.
    """
    if isinstance(values, (str, bytes)):
        raise AlsmetaInputError(f"{column}: expected one value per study, got a single string")
    if np.ndim(values) == 0:
        raise AlsmetaInputError(f"{column}: expected one value per study, got a scalar")
    raw = list(values.tolist() if hasattr(values, "tolist") else values)
    k = len(raw)
    names = list(labels) if labels is not None else [f"Study {i + 1}" for i in range(k)]
    if len(names) != k:
        raise AlsmetaInputError(f"{column}: {k} values given for {len(names)} studies")
    out = np.empty(k, dtype=float)
    for i, x in enumerate(raw):
        where = f"study {names[i]!r}, column {column!r}"
        if x is None:
            if not allow_nan:
                raise AlsmetaInputError(f"{where}: value is missing")
            out[i] = np.nan
            continue
        if isinstance(x, bool) or isinstance(x, np.bool_):
            raise AlsmetaInputError(f"{where}: boolean {x!r} is not a number")
        if isinstance(x, (str, bytes)):
            raise AlsmetaInputError(f"{where}: {x!r} is not a number")
        try:
            xf = float(x)
        except (TypeError, ValueError):
            raise AlsmetaInputError(f"{where}: {x!r} is not a number") from None
        if np.isnan(xf):
            if not allow_nan:
                raise AlsmetaInputError(f"{where}: value is missing (NaN)")
        elif not np.isfinite(xf):
            raise AlsmetaInputError(f"{where}: value {xf} is not finite")
        elif positive and xf <= 0:
            raise AlsmetaInputError(f"{where}: value {xf!r} must be > 0")
        elif nonnegative and xf < 0:
            raise AlsmetaInputError(f"{where}: value {xf!r} must be >= 0")
        elif integer and xf != np.round(xf):
            raise AlsmetaInputError(f"{where}: value {xf!r} must be a whole number")
        out[i] = xf
    return out


def same_length(columns: dict[str, Sequence[Any]]) -> int:
    """Check that all given columns have the same length and return it."""
    lengths = {name: len(col) for name, col in columns.items() if col is not None}
    if len(set(lengths.values())) > 1:
        detail = ", ".join(f"{n}={m}" for n, m in lengths.items())
        raise AlsmetaInputError(f"columns have different lengths: {detail}")
    return next(iter(lengths.values()), 0)


def probability_level(level: float, name: str = "level") -> float:
    """Validate a confidence level given as a fraction (0.95) or percent (95)."""
    try:
        lv = float(level)
    except (TypeError, ValueError):
        raise AlsmetaInputError(f"{name}: {level!r} is not a number") from None
    if 1.0 < lv < 100.0:
        lv = lv / 100.0
    if not 0.0 < lv < 1.0:
        raise AlsmetaInputError(f"{name}: {level!r} must lie strictly between 0 and 1 (or 0 and 100)")
    return lv


def finite_number(value: Any, name: str) -> float:
    """Convert one scalar argument to a finite float, or raise naming the argument.

    Booleans and text are refused rather than coerced (``True`` or ``"0.5"``
    passed where a number is expected is almost always a mistake).
    """
    if isinstance(value, (bool, np.bool_, str, bytes)):
        raise AlsmetaInputError(f"{name}: {value!r} is not a number")
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise AlsmetaInputError(f"{name}: {value!r} is not a number") from None
    if not np.isfinite(v):
        raise AlsmetaInputError(f"{name}: must be finite, got {value!r}")
    return v
