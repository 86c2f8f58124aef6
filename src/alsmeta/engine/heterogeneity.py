"""Heterogeneity statistics: Cochran's Q, I^2, H^2 and their Q-profile intervals.

All functions are vectorised over rows of ``(B, k)`` arrays with a mask (see
:mod:`alsmeta.engine.rowmath`) and follow metafor's definitions:

* ``Q = sum w_i (y_i - mu_CE)^2`` with ``w = 1/v`` always (the test of
  homogeneity does not depend on the tau^2 estimator), p from chi^2(k - 1).
* For random-effects fits, ``I^2 = 100 tau^2 / (tau^2 + s^2)`` and
  ``H^2 = (tau^2 + s^2) / s^2`` with the "typical" sampling variance
  ``s^2 = (k - 1) / tr(P)`` (Higgins & Thompson 2002, eq. 9).
* For the common-effect model, ``I^2 = max(0, 100 (Q - (k-1)) / Q)`` and
  ``H^2 = Q / (k - 1)``.
* Q-profile confidence interval for tau^2 (Viechtbauer 2007): the values of
  tau^2 at which the generalised Q statistic equals the chi^2(k - 1)
  quantiles; bounds that fall below zero are truncated at zero (both bounds
  zero means the interval is the empty set within the parameter space, as
  metafor reports). I^2 and H^2 bounds are transformed from the tau^2 bounds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from alsmeta.engine.distributions import chi2_isf, chi2_ppf, chi2_sf
from alsmeta.engine.estimators import Rows, solve_q

Array = npt.NDArray[np.float64]


#: Effects whose spread is at most this fraction of max(|yi|, sqrt(mean vi)) count as identical.
NO_SPREAD = 1e-12
NO_SPREAD_NOTE = (
    "All effects are equal (up to rounding noise: spread <= 1e-12 x max(|yi|, sqrt(mean vi))): with no spread "
    "there is no funnel-plot asymmetry and no evidence of small-study effects or publication bias; "
    "the test is undefined (NaN) rather than a spurious result from rounding error."
)


def effects_without_spread(yi: npt.ArrayLike, vi: npt.ArrayLike) -> bool:
    """True when the effects are identical up to rounding noise.

    The spread ``max(yi) - min(yi)`` is compared with ``1e-12`` times the
    larger of ``max |yi|`` (effects computed from equal data by different
    routes differ by a few units in the last place, about 1e-16 relative,
    so 1e-12 leaves a margin of four orders of magnitude) and the typical
    standard error ``sqrt(mean(vi))`` (differences below a trillionth of a
    standard error carry no information). The rule is scale-invariant:
    multiplying ``yi`` by ``c`` and ``vi`` by ``c^2`` does not change it.
    Asymmetry tests are undefined for such data (they would only measure
    rounding error; metafor's ``trimfill()`` adds 7 of 12 studies to 12
    identical effects), so alsmeta's bias diagnostics report no evidence
    of bias for them.
    """
    y = np.asarray(yi, dtype=float)
    v = np.asarray(vi, dtype=float)
    if y.size < 2:
        return False
    spread = float(y.max() - y.min())
    ref = max(float(np.abs(y).max()), float(np.sqrt(np.mean(v))))
    return spread <= NO_SPREAD * ref


@dataclass(frozen=True)
class Heterogeneity:
    """Row-wise Q test, typical within-study variance, I^2 and H^2."""

    q: Array
    q_df: npt.NDArray[np.int64]
    q_pvalue: Array
    typical_v: Array
    i2: Array
    h2: Array


def heterogeneity(r: Rows, tau2: Array, common_effect: bool, pvalue: bool = True) -> Heterogeneity:
    """Cochran's Q, I^2 (percent) and H^2 for each meta-analysis of a :class:`~alsmeta.engine.estimators.Rows` block.

    Meta-analyses with one study get ``Q = 0``, ``p = 1``, ``I^2 = 0``,
    ``H^2 = 1`` (as metafor); with no study, NaN. ``pvalue=False`` skips the
    p-value of the Q test (NaN).
    """
    n, k = r.n, r.c
    df = np.full(n, max(k - 1, 0), dtype=np.int64)
    if k < 2:
        fill = (0.0, 1.0, 0.0, 0.0, 1.0) if k == 1 else (np.nan,) * 5
        q, q_p, typical, i2, h2 = (np.full(n, x) for x in fill)
        return Heterogeneity(q=q, q_df=df, q_pvalue=q_p, typical_v=typical, i2=i2, h2=h2)
    _, _, q_raw, tr_p = r.fe
    with np.errstate(invalid="ignore", divide="ignore"):
        q = np.maximum(q_raw, 0.0)
        q_p = chi2_sf(q, df) if pvalue else np.full(n, np.nan)
        typical = (k - 1) / tr_p
        if common_effect:
            i2 = np.clip(100.0 * (q - df) / q, 0.0, 100.0)  # rounding can give 100 + 1e-14
            h2 = q / df
        else:
            i2 = np.minimum(100.0 * tau2 / (typical + tau2), 100.0)  # rounding can give 100 + 1e-14
            h2 = tau2 / typical + 1.0
    if common_effect:
        i2[q == 0] = 0.0  # all effects identical: Q = 0 exactly, I^2 = 0 (not 0/0)
    return Heterogeneity(q=q, q_df=df, q_pvalue=q_p, typical_v=typical, i2=i2, h2=h2)


@dataclass(frozen=True)
class QProfileInterval:
    """Q-profile confidence bounds for tau^2, I^2 and H^2, per row."""

    tau2_low: Array
    tau2_high: Array
    i2_low: Array
    i2_high: Array
    h2_low: Array
    h2_high: Array
    converged: npt.NDArray[np.bool_]


def q_profile_ci(r: Rows, typical_v: Array, level: float) -> QProfileInterval:
    """Q-profile confidence interval for tau^2 (Viechtbauer 2007) of each meta-analysis of a block.

    The lower bound solves ``Q(tau2) = chi2_{1 - alpha/2}(k - 1)`` and the upper
    bound ``Q(tau2) = chi2_{alpha/2}(k - 1)``, where ``Q(tau2)`` is the
    generalised Q statistic, which decreases in tau^2. A bound whose
    equation has no non-negative solution is 0. Unlike metafor, whose search
    stops at ``tau2.max`` (default 100), the upper bracket is extended until
    the root is enclosed, so the bound is exact for any data scale.

    Meta-analyses with fewer than two studies get NaN.

    References
    ----------
    Viechtbauer W (2007). Confidence intervals for the amount of heterogeneity
    in meta-analysis. Statistics in Medicine 26:37-52.
    """
    n, k = r.n, r.c
    alpha = 1.0 - level
    low = np.full(n, np.nan)
    high = np.full(n, np.nan)
    conv = np.full(n, k >= 2)
    if k >= 2:
        q0 = r.fe[2]
        for out, crit in ((low, chi2_isf(alpha / 2, k - 1)), (high, chi2_ppf(alpha / 2, k - 1))):
            bound, ok = solve_q(r.y, r.v, q0, r.ss, np.full(n, float(crit)))
            out[:] = bound
            conv &= ok
    with np.errstate(invalid="ignore", divide="ignore"):
        i2_low = np.minimum(100.0 * low / (typical_v + low), 100.0)
        i2_high = np.minimum(100.0 * high / (typical_v + high), 100.0)
        h2_low = low / typical_v + 1.0
        h2_high = high / typical_v + 1.0
    return QProfileInterval(low, high, i2_low, i2_high, h2_low, h2_high, conv)
