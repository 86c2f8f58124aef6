"""Power and sample size: a single two-arm trial and a meta-analysis.

* Two-arm trial on a continuous outcome (e.g. ALSFRS-R change at 6 months):
  exact power of the two-sample t-test from the noncentral t distribution,
  via :class:`statsmodels.stats.power.TTestIndPower`.
* Optimal information size (OIS) of a meta-analysis: the total number of
  participants a single adequately powered trial would need, inflated for
  heterogeneity by the diversity ``D^2`` (Pogue & Yusuf 1997; Wetterslev,
  Thorlund, Brok & Gluud 2009).
* Power of a random-effects meta-analysis of ``k`` studies with a common
  within-study variance (Hedges & Pigott 2001; Jackson & Turner 2017).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats
from statsmodels.stats.power import TTestIndPower

from alsmeta.validation import AlsmetaInputError


def _positive(x: float, name: str) -> float:
    try:
        v = float(x)
    except (TypeError, ValueError):
        raise AlsmetaInputError(f"{name}: {x!r} is not a number") from None
    if not math.isfinite(v) or v <= 0:
        raise AlsmetaInputError(f"{name}: must be a finite number > 0, got {x!r}")
    return v


def _probability(x: float, name: str) -> float:
    v = float(x)
    if not 0 < v < 1:
        raise AlsmetaInputError(f"{name}: must lie strictly between 0 and 1, got {x!r}")
    return v


def trial_power(delta: float, sd: float, n_per_arm: float, alpha: float = 0.05, ratio: float = 1.0) -> float:
    """Power of a two-sided two-sample t-test.

    Parameters
    ----------
    delta
        True difference in means (treated minus control), in outcome units.
    sd
        Common standard deviation of the outcome in each arm.
    n_per_arm
        Participants in the control arm; the treated arm has ``ratio`` times as many.
    alpha
        Two-sided significance level.

    References
    ----------
    Cohen J (1988). Statistical Power Analysis for the Behavioral Sciences, ch. 2.
    """
    effect = float(delta) / _positive(sd, "sd")
    n = _positive(n_per_arm, "n_per_arm")
    if n < 2:
        raise AlsmetaInputError("n_per_arm: a t-test needs at least 2 participants per arm")
    return float(TTestIndPower().power(effect_size=abs(effect), nobs1=n, alpha=_probability(alpha, "alpha"), ratio=_positive(ratio, "ratio"), alternative="two-sided"))


def trial_sample_size(delta: float, sd: float, power: float = 0.8, alpha: float = 0.05, ratio: float = 1.0) -> int:
    """Participants per (control) arm for a two-sided two-sample t-test, rounded up.

    Solved exactly on the noncentral t distribution (statsmodels'
    ``TTestIndPower.solve_power``). The classic check: a difference of half
    an SD at 80% power and alpha 0.05 needs 64 per arm.
    """
    effect = abs(float(delta)) / _positive(sd, "sd")
    if effect == 0:
        raise AlsmetaInputError("delta: a zero difference cannot be detected with any sample size")
    n = TTestIndPower().solve_power(
        effect_size=effect, alpha=_probability(alpha, "alpha"), power=_probability(power, "power"),
        ratio=_positive(ratio, "ratio"), alternative="two-sided",
    )
    return int(math.ceil(float(np.asarray(n).item()) - 1e-9))


@dataclass(frozen=True)
class InformationSize:
    """Optimal information size of a meta-analysis.

    ``total`` is the number of participants (both arms) that one trial with
    the given power would need; ``heterogeneity_adjusted`` divides it by
    ``1 - D^2``.
    """

    total: float
    heterogeneity_adjusted: float
    diversity: float
    delta: float
    sd: float
    alpha: float
    power: float


def optimal_information_size(delta: float, sd: float, alpha: float = 0.05, power: float = 0.8, diversity: float = 0.0) -> InformationSize:
    """Optimal information size (OIS) for a continuous outcome, 1:1 allocation.

    ``OIS = 4 (z_{1-alpha/2} + z_{power})^2 sd^2 / delta^2``, divided by
    ``1 - D^2`` where ``D^2`` is the diversity of the meta-analysis
    (Wetterslev et al. 2009, BMC Med Res Methodol 9:86).
    """
    d = abs(float(delta))
    if d == 0:
        raise AlsmetaInputError("delta: must be non-zero")
    s = _positive(sd, "sd")
    a, p = _probability(alpha, "alpha"), _probability(power, "power")
    if not 0 <= diversity < 1:
        raise AlsmetaInputError(f"diversity: D^2 must lie in [0, 1), got {diversity!r}")
    z = stats.norm.isf(a / 2) + stats.norm.ppf(p)
    total = 4.0 * z**2 * s**2 / d**2
    return InformationSize(total, total / (1.0 - diversity), float(diversity), d, s, a, p)


def meta_analysis_power(delta: float, within_variance: float, k: int, tau2: float = 0.0, alpha: float = 0.05) -> float:
    """Power of the two-sided z test of a random-effects meta-analysis.

    ``k`` studies, each with sampling variance ``within_variance``, and
    between-study variance ``tau2``: the pooled estimate has variance
    ``(v + tau2) / k`` and ``lambda = delta / sqrt((v + tau2)/k)``; power is
    ``1 - Phi(z - lambda) + Phi(-z - lambda)`` (Hedges & Pigott 2001).
    """
    v = _positive(within_variance, "within_variance")
    if int(k) != k or k < 1:
        raise AlsmetaInputError(f"k: must be a whole number >= 1, got {k!r}")
    if tau2 < 0:
        raise AlsmetaInputError(f"tau2: must be >= 0, got {tau2!r}")
    lam = float(delta) / math.sqrt((v + tau2) / k)
    z = stats.norm.isf(_probability(alpha, "alpha") / 2)
    return float(stats.norm.sf(z - lam) + stats.norm.cdf(-z - lam))
