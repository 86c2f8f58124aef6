"""The text checks of the docs extensions, apart from Sphinx so that the test suite can run them."""

from __future__ import annotations

import math
import re

NUMBER = re.compile(r"-?\d+\.\d+(?:[eE][-+]?\d+)?")
"""A number with a decimal point: compared to a relative 1e-9, so that the last digit of a
17-digit float printed on another machine does not fail the build; all other text must match."""


def normalise(text: str) -> str:
    """Compare outputs line by line without trailing spaces or trailing blank lines."""
    return "\n".join(line.rstrip() for line in text.strip("\n").splitlines())


def same_output(expected: str, actual: str, rel: float = 1e-9) -> bool:
    """Whether ``actual`` is ``expected`` up to spacing at line ends and a relative 1e-9 in numbers."""
    expected, actual = normalise(expected), normalise(actual)
    if NUMBER.sub("#", expected) != NUMBER.sub("#", actual):
        return False
    pairs = zip(NUMBER.findall(expected), NUMBER.findall(actual), strict=True)
    return all(math.isclose(float(a), float(b), rel_tol=rel, abs_tol=1e-300) for a, b in pairs)
