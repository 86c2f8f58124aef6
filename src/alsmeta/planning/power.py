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
* Sample-size scenarios: the participants per arm to analyse and to enrol
  (after inflating for attrition) under alternative outcome SDs, so that a
  sample size is never quoted without its assumptions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats
from statsmodels.stats.power import TTestIndPower

from alsmeta.results import ResultMixin
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
    return float(
        TTestIndPower().power(
            effect_size=abs(effect),
            nobs1=n,
            alpha=_probability(alpha, "alpha"),
            ratio=_positive(ratio, "ratio"),
            alternative="two-sided",
        )
    )


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
        effect_size=effect,
        alpha=_probability(alpha, "alpha"),
        power=_probability(power, "power"),
        ratio=_positive(ratio, "ratio"),
        alternative="two-sided",
    )
    return int(math.ceil(float(np.asarray(n).item()) - 1e-9))


@dataclass(frozen=True)
class InformationSize(ResultMixin):
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


def optimal_information_size(
    delta: float, sd: float, alpha: float = 0.05, power: float = 0.8, diversity: float = 0.0
) -> InformationSize:
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


def attrition_adjusted(n_analysed: float, attrition: float) -> int:
    """Participants to enrol per arm so that ``n_analysed`` remain after losing a fraction ``attrition``.

    ``ceil(n / (1 - attrition))`` - the usual inflation of a sample size for
    expected dropout (e.g. Julious SA (2010), Sample Sizes for Clinical
    Trials, ch. 2).

    Raises
    ------
    AlsmetaInputError
        If ``n_analysed`` is not positive or ``attrition`` is outside [0, 1).
    """
    n = _positive(n_analysed, "n_analysed")
    try:
        a = float(attrition)
    except (TypeError, ValueError):
        raise AlsmetaInputError(f"attrition: {attrition!r} is not a number") from None
    if not 0 <= a < 1:
        raise AlsmetaInputError(f"attrition: must lie in [0, 1), got {attrition!r}")
    return int(math.ceil(n / (1.0 - a) - 1e-9))


@dataclass(frozen=True)
class SampleSizeScenario(ResultMixin):
    """One sample-size scenario of a two-arm trial (1:1) and the assumptions behind it.

    ``n_analysed_per_arm`` is the exact t-test sample size
    (:func:`trial_sample_size`); ``n_enrolled_per_arm`` adds the expected
    attrition (:func:`attrition_adjusted`).
    """

    delta: float
    sd: float
    alpha: float
    power: float
    attrition: float
    n_analysed_per_arm: int
    n_enrolled_per_arm: int

    def assumptions(self) -> str:
        """The assumptions in words,
        e.g. ``"SD 4.0, two-sided alpha 0.05, power 80%, difference 1.22, attrition 20%"``."""
        return (
            f"SD {self.sd:.1f}, two-sided alpha {self.alpha:g}, power {100 * self.power:g}%, "
            f"difference to detect {self.delta:.2f}, attrition {100 * self.attrition:g}%"
        )


def sample_size_scenarios(
    delta: float,
    sds: tuple[float, ...],
    attritions: tuple[float, ...] = (0.0, 0.2),
    power: float = 0.8,
    alpha: float = 0.05,
) -> tuple[SampleSizeScenario, ...]:
    """Participants per arm for every combination of outcome SD and attrition.

    Parameters
    ----------
    delta
        The difference in means to detect (outcome units).
    sds
        Alternative outcome standard deviations (e.g. the SD of one trial and
        larger plausible values).
    attritions
        Expected fractions lost to follow-up, each in [0, 1).
    power, alpha
        Target power and two-sided significance level.

    Returns
    -------
    tuple of SampleSizeScenario
        In the order ``for sd in sds for attrition in attritions``.
    """
    if len(sds) == 0 or len(attritions) == 0:
        raise AlsmetaInputError("sds, attritions: at least one value each is needed")
    out = []
    for sd in sds:
        n = trial_sample_size(delta, sd, power=power, alpha=alpha)
        for a in attritions:
            out.append(
                SampleSizeScenario(
                    abs(float(delta)), float(sd), float(alpha), float(power), float(a), n, attrition_adjusted(n, a)
                )
            )
    return tuple(out)
