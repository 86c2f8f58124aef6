"""Parameter checks for the simulator: every message names the parameter."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

from alsmeta.validation import AlsmetaInputError, nonnegative_number, positive_number, whole_number


def number(value: Any, name: str, *, allow_inf: bool = False) -> float:
    """``value`` as a float; NaN (and infinity unless allowed) is an error."""
    if isinstance(value, bool):
        raise AlsmetaInputError(f"{name}: expected a number, got {value!r}")
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise AlsmetaInputError(f"{name}: expected a number, got {value!r}") from None
    if math.isnan(v) or (math.isinf(v) and not allow_inf):
        raise AlsmetaInputError(f"{name}: must be a finite number, got {value!r}")
    return v


# one home for each kind of scalar check: the simulator uses the library's (same messages, same rules;
# text such as "0.5" is refused, not coerced)
nonnegative = nonnegative_number
positive = positive_number


def whole(value: Any, name: str, minimum: int) -> int:
    """A whole number >= ``minimum`` (floats such as 20.0 are accepted)."""
    return whole_number(value, name, minimum)


def choice(value: Any, name: str, allowed: Sequence[str]) -> str:
    if value not in allowed:
        raise AlsmetaInputError(f"{name}: must be one of {', '.join(map(repr, allowed))}; got {value!r}")
    return str(value)


def times(values: Any, name: str, *, minimum: int) -> tuple[float, ...]:
    """Visit times in months: strictly increasing finite numbers, at least ``minimum`` of them."""
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
        try:
            values = list(values)
        except TypeError:
            raise AlsmetaInputError(f"{name}: expected a sequence of visit times in months, got {values!r}") from None
    out = tuple(number(v, f"{name}[{i}]") for i, v in enumerate(values))
    if len(out) < minimum:
        raise AlsmetaInputError(f"{name}: needs at least {minimum} visit(s), got {len(out)}")
    if any(b <= a for a, b in itertools.pairwise(out)):
        raise AlsmetaInputError(f"{name}: visit times must be strictly increasing, got {out}")
    return out


def interval(value: Any, name: str) -> tuple[float, float]:
    """A (lower, upper) pair with lower <= upper; either end may be infinite."""
    try:
        lo, hi = value
    except (TypeError, ValueError):
        raise AlsmetaInputError(f"{name}: expected a (lower, upper) pair, got {value!r}") from None
    lo_f = number(lo, f"{name}[0]", allow_inf=True)
    hi_f = number(hi, f"{name}[1]", allow_inf=True)
    if lo_f > hi_f:
        raise AlsmetaInputError(f"{name}: lower bound {lo_f} exceeds upper bound {hi_f}")
    return lo_f, hi_f
