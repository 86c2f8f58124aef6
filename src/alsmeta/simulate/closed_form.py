r"""Closed-form expectations for the within-patient design under the null.

Model (linear course, no floor, no attrition): patient *i* has true slope
:math:`b_i \sim N(m, s^2)` and observations :math:`y_{ij} = a_i + b_i t_j +
e_{ij}`, :math:`e_{ij} \sim N(0, \sigma^2)` independent. Every slope the
design uses is a fixed linear combination :math:`\sum_j w_j y_{ij}` with
:math:`\sum_j w_j = 0`, so it equals :math:`b_i \sum_j w_j t_j + \sum_j w_j
e_{ij}`. For the least-squares slope over visits :math:`t_j`,
:math:`w_j = (t_j - \bar t)/S_{xx}`, :math:`S_{xx} = \sum_j (t_j - \bar t)^2`.

The slope change :math:`D = b_{post} - b_{pre}` has weights
:math:`w^D = w^{post} - w^{pre}` on the union of visit times (a visit in both
periods is one measurement), so :math:`E D = 0` and

.. math:: \operatorname{Var} D = \sigma^2 \sum_j (w^D_j)^2,

which is :math:`\sigma^2 (1/S_{xx}^{pre} + 1/S_{xx}^{post})` when the periods
share no visit.

Selecting patients on a statistic :math:`S = \sum_j w^S_j y_j` (the observed
pre-slope, or the observed lead-in decline) with :math:`S \in (l, u)` is a
truncation of the bivariate normal :math:`(D, S)`: with
:math:`\alpha = (l - E S)/\operatorname{sd} S`, :math:`\beta = (u - E
S)/\operatorname{sd} S` and :math:`Z = \Phi(\beta) - \Phi(\alpha)`,

.. math::

    E[D \mid S \in (l, u)] = \frac{\operatorname{Cov}(D, S)}{\operatorname{sd} S}
        \frac{\phi(\alpha) - \phi(\beta)}{Z}, \qquad
    \operatorname{Cov}(D, S) = \sigma^2 \sum_j w^D_j w^S_j

(Johnson, Kotz & Balakrishnan 1994, ch. 13; regression to the mean: Barnett,
van der Pols & Dobson 2005, Int J Epidemiol 34:215-220). Selecting patients
whose observed pre-slope is steep (``upper`` < mean) gives a positive
expected change: apparent slowing without any treatment.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import stats

from alsmeta.simulate import _checks as chk
from alsmeta.validation import AlsmetaInputError

FloatArray = npt.NDArray[np.float64]

SELECTION_STATISTICS = ("pre_slope", "lead_in_decline")


def least_squares_weights(times: npt.ArrayLike) -> FloatArray:
    r"""Weights :math:`(t_j - \bar t)/S_{xx}` of the least-squares slope over ``times``."""
    t = np.asarray(times, float)
    dt = t - t.mean()
    sxx = float(dt @ dt)
    if not sxx > 0:
        raise AlsmetaInputError(f"times: a slope needs at least 2 distinct visit times, got {t.tolist()}")
    return dt / sxx


def two_point_weights(times: npt.ArrayLike) -> FloatArray:
    """Weights of the slope between the first and the last of ``times``."""
    t = np.asarray(times, float)
    if t.size < 2 or not t[-1] > t[0]:
        raise AlsmetaInputError(f"times: a slope needs at least 2 distinct visit times, got {t.tolist()}")
    w = np.zeros(t.size)
    w[0], w[-1] = -1.0 / (t[-1] - t[0]), 1.0 / (t[-1] - t[0])
    return w


def _weights(method: str, times: tuple[float, ...]) -> FloatArray:
    return two_point_weights(times) if method == "two_point" else least_squares_weights(times)


def _on_union(union: FloatArray, times: tuple[float, ...], weights: FloatArray) -> FloatArray:
    out = np.zeros(union.size)
    out[np.searchsorted(union, times)] = weights
    return out


def slope_change_variance(
    pre_times: npt.ArrayLike,
    post_times: npt.ArrayLike,
    measurement_sd: float,
    *,
    pre_method: str = "least_squares",
    post_method: str = "least_squares",
) -> float:
    r"""Variance of the within-patient slope change due to measurement error alone.

    :math:`\sigma^2 \sum_j (w^{post}_j - w^{pre}_j)^2` over the union of
    visit times; equal to :math:`\sigma^2(1/S_{xx}^{pre} + 1/S_{xx}^{post})`
    when the two periods share no visit. A shared baseline visit adds
    :math:`-2\operatorname{Cov}(b_{pre}, b_{post}) > 0`.

    Parameters
    ----------
    pre_times, post_times : array_like
        Visit times (months) of the two periods, strictly increasing.
    measurement_sd : float
        Visit-level measurement error SD :math:`\sigma`.
    pre_method, post_method : {"least_squares", "two_point"}
    """
    sigma = chk.nonnegative(measurement_sd, "measurement_sd")
    pre = chk.times(np.atleast_1d(pre_times).tolist(), "pre_times", minimum=2)
    post = chk.times(np.atleast_1d(post_times).tolist(), "post_times", minimum=2)
    union = np.union1d(pre, post)
    w = _on_union(union, post, _weights(post_method, post)) - _on_union(union, pre, _weights(pre_method, pre))
    return sigma**2 * float(w @ w)


@dataclass(frozen=True)
class SelectionExpectation:
    """Closed-form moments of the slope change among selected patients.

    Attributes
    ----------
    mean_change, sd_change : float
        Mean and SD of :math:`D = b_{post} - b_{pre}` given selection.
    prob_selected : float
        Probability that a screened patient meets the criterion.
    reliability : float
        Share of the pre-slope's variance that is true between-patient
        variance, :math:`s^2 / (s^2 + \\sigma^2 \\sum (w^{pre})^2)`.
    """

    mean_change: float
    sd_change: float
    prob_selected: float
    reliability: float


def _truncation_moments(alpha: float, beta: float) -> tuple[float, float, float]:
    """(P, shift/sd, var ratio) of a standard normal truncated to (alpha, beta)."""
    z = float(stats.norm.cdf(beta) - stats.norm.cdf(alpha))
    if not z > 0:
        raise AlsmetaInputError("lower/upper: the selection interval has probability 0 under the model")
    pa, pb = float(stats.norm.pdf(alpha)), float(stats.norm.pdf(beta))
    apa = alpha * pa if math.isfinite(alpha) else 0.0
    bpb = beta * pb if math.isfinite(beta) else 0.0
    shift = (pa - pb) / z
    return z, shift, 1.0 + (apa - bpb) / z - shift**2


def expected_change_under_selection(
    pre_times: npt.ArrayLike,
    post_times: npt.ArrayLike,
    *,
    measurement_sd: float,
    slope_mean: float,
    slope_sd: float,
    select_on: str = "pre_slope",
    lower: float = -math.inf,
    upper: float = math.inf,
    pre_method: str = "least_squares",
    post_method: str = "least_squares",
) -> SelectionExpectation:
    r"""Mean (and SD) slope change among patients selected on a noisy lead-in statistic.

    Regression to the mean in closed form (see the module docstring): the
    linear-normal model, no floor, no attrition, normal true slopes.

    Parameters
    ----------
    pre_times, post_times : array_like
        Lead-in and follow-up visit times (months).
    measurement_sd, slope_mean, slope_sd : float
        :math:`\sigma`, :math:`m` and :math:`s` of the model.
    select_on : {"pre_slope", "lead_in_decline"}
        The statistic: the observed pre-slope (``pre_method``), or the observed
        decline from the first to the last lead-in visit (screening minus
        baseline, in score units).
    lower, upper : float
        Patients are selected when ``lower <= S <= upper``.
    pre_method, post_method : {"least_squares", "two_point"}

    Returns
    -------
    SelectionExpectation
    """
    sigma = chk.nonnegative(measurement_sd, "measurement_sd")
    m = chk.number(slope_mean, "slope_mean")
    s = chk.nonnegative(slope_sd, "slope_sd")
    chk.choice(select_on, "select_on", SELECTION_STATISTICS)
    lo, hi = chk.interval((lower, upper), "lower/upper")
    pre = chk.times(np.atleast_1d(pre_times).tolist(), "pre_times", minimum=2)
    post = chk.times(np.atleast_1d(post_times).tolist(), "post_times", minimum=2)
    union = np.union1d(pre, post)
    w_pre = _on_union(union, pre, _weights(pre_method, pre))
    w_d = _on_union(union, post, _weights(post_method, post)) - w_pre
    w_s = w_pre if select_on == "pre_slope" else _on_union(union, pre, np.r_[1.0, np.zeros(len(pre) - 2), -1.0])
    a_s = float(w_s @ union)  # S = b * a_s + noise
    mean_s = m * a_s
    var_s = s**2 * a_s**2 + sigma**2 * float(w_s @ w_s)
    var_d = sigma**2 * float(w_d @ w_d)
    cov = sigma**2 * float(w_d @ w_s)
    if not var_s > 0:
        raise AlsmetaInputError("slope_sd/measurement_sd: the selection statistic has zero variance")
    sd_s = math.sqrt(var_s)
    prob, shift, ratio = _truncation_moments((lo - mean_s) / sd_s, (hi - mean_s) / sd_s)
    mean_change = cov / sd_s * shift
    var_change = var_d - cov**2 / var_s * (1.0 - ratio)
    var_pre_noise = sigma**2 * float(w_pre @ w_pre)
    reliability = s**2 / (s**2 + var_pre_noise) if s**2 + var_pre_noise > 0 else math.nan
    return SelectionExpectation(
        mean_change=mean_change,
        sd_change=math.sqrt(max(var_change, 0.0)),
        prob_selected=prob,
        reliability=reliability,
    )
