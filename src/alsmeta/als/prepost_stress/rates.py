"""Monte-Carlo rates with their standard errors, and the rule for an apparent benefit."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np

import alsmeta as am
from alsmeta.als.prepost_stress.settings import ALPHA


@dataclass(frozen=True)
class Rate:
    """A Monte-Carlo proportion with its standard error."""

    hits: int
    n: int

    @property
    def p(self) -> float:
        """The proportion (NaN with no replicates)."""
        return self.hits / self.n if self.n else math.nan

    @property
    def se(self) -> float:
        """Its Monte-Carlo standard error ``sqrt(p (1 - p) / n)``."""
        return math.sqrt(self.p * (1 - self.p) / self.n) if self.n else math.nan

    def numbers(self) -> dict[str, float]:
        """Rate, MC SE and n; at 0 or n hits (SE 0) also the 95% rule-of-three bound."""
        out = {"rate": self.p, "mc_se": self.se, "n": self.n}
        if self.n and self.hits in (0, self.n):  # the binomial SE is 0 there; give the 95% rule-of-three bound instead
            out["rule_of_three_bound"] = 3 / self.n if self.hits == 0 else 1 - 3 / self.n
        return out

    def text(self, digits: int = 3) -> str:
        """``rate (MC SE se)`` with ``digits`` decimals."""
        return f"{self.p:.{digits}f} (MC SE {self.se:.{digits}f})"


def rate(flags: np.ndarray) -> Rate:
    """The share of True in ``flags``, as a :class:`Rate`."""
    f = np.asarray(flags, bool)
    return Rate(int(f.sum()), int(f.size))


def benefit(pvalue: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """A single-arm study reports significant slowing: two-sided p < 0.05 with a positive mean change.

    A missing p-value counts as not significant.
    """
    return (np.nan_to_num(pvalue, nan=1.0) < ALPHA) & (mean > 0)


def pool_rows(y: np.ndarray, v: np.ndarray, m: np.ndarray, test: str) -> am.BatchResult:
    """REML fits of many meta-analyses at once (:func:`alsmeta.pool_many`), without confidence intervals for tau2.

    Parameters
    ----------
    y, v, m
        Effects, variances and the mask of studies in use, shaped (B, k).
    test
        ``"z"`` or ``"knha"`` (HKSJ; with k = 1 it falls back to z, silently here).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", am.AlsmetaWarning)
        return am.pool_many(y, v, m, method="REML", test=test, confint=False)
