r"""The within-patient analysis of a single-arm pre-post study, vectorised.

Per patient: a pre-treatment slope (least squares over the lead-in visits, a
two-point slope, or the DeltaFS from symptom onset), a post-treatment slope
(least squares over the observed follow-up visits), and their difference
:math:`d_i = b_{post,i} - b_{pre,i}` (positive = slower decline after
treatment). Per study, exactly as a single-arm study reports it:

.. math::

    \bar d = \frac{1}{n}\sum_i d_i, \qquad
    s_d^2 = \frac{1}{n - 1}\sum_i (d_i - \bar d)^2, \qquad
    SE = s_d / \sqrt{n}, \qquad t = \bar d / SE \sim t_{n-1}

(the paired t-test of post against pre slopes). These are the ``yi`` and
``vi = SE^2`` of :func:`alsmeta.effects.measures.slope_change`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import stats

FloatArray = npt.NDArray[np.float64]


def least_squares_slopes(
    times: npt.ArrayLike,
    values: npt.ArrayLike,
    observed: npt.ArrayLike | None = None,
    min_visits: int = 2,
) -> FloatArray:
    r"""Ordinary least-squares slope over the observed visits, along the last axis.

    .. math:: b = \frac{\sum_j w_j (t_j - \bar t_w)(y_j - \bar y_w)}{\sum_j w_j (t_j - \bar t_w)^2}

    with :math:`w_j` = 1 for observed visits and 0 otherwise. NaN where fewer
    than ``min_visits`` visits are observed.
    """
    t = np.asarray(times, float)
    y = np.asarray(values, float)
    w = np.ones(y.shape) if observed is None else np.asarray(observed, float) * np.ones(y.shape)
    y = np.where(w > 0, y, 0.0)  # unobserved values never enter, even if NaN
    sw = w.sum(axis=-1)
    ok = sw >= min_visits
    safe = np.where(ok, sw, 1.0)
    t_bar = (w * t).sum(axis=-1) / safe
    y_bar = (w * y).sum(axis=-1) / safe
    dt = t - t_bar[..., None]
    sxx = (w * dt * dt).sum(axis=-1)
    sxy = (w * dt * (y - y_bar[..., None])).sum(axis=-1)
    ok &= sxx > 0
    return np.where(ok, sxy / np.where(ok, sxx, 1.0), np.nan)


def two_point_slopes(
    times: npt.ArrayLike,
    values: npt.ArrayLike,
    observed: npt.ArrayLike | None = None,
    min_visits: int = 2,
) -> FloatArray:
    """Slope between the first and the last observed visit (NaN with fewer than ``min_visits``)."""
    t = np.asarray(times, float)
    y = np.asarray(values, float)
    w = np.ones(y.shape, bool) if observed is None else np.asarray(observed, bool) & np.ones(y.shape, bool)
    n_visits = y.shape[-1]
    first = np.argmax(w, axis=-1)
    last = n_visits - 1 - np.argmax(w[..., ::-1], axis=-1)
    y_first = np.take_along_axis(y, first[..., None], axis=-1)[..., 0]
    y_last = np.take_along_axis(y, last[..., None], axis=-1)[..., 0]
    span = t[last] - t[first]
    ok = (w.sum(axis=-1) >= min_visits) & (span > 0)
    return np.where(ok, (y_last - y_first) / np.where(ok, span, 1.0), np.nan)


def slopes(
    method: str,
    times: npt.ArrayLike,
    values: npt.ArrayLike,
    observed: npt.ArrayLike | None = None,
    min_visits: int = 2,
) -> FloatArray:
    """Dispatch: ``"least_squares"``/``"lead_in"`` or ``"two_point"``."""
    if method == "two_point":
        return two_point_slopes(times, values, observed, min_visits)
    return least_squares_slopes(times, values, observed, min_visits)


@dataclass(frozen=True)
class StudySummary:
    """Study-level summary of within-patient changes (arrays over studies).

    Attributes
    ----------
    n : ndarray of int
        Patients analysed (finite change).
    mean, sd, se : ndarray
        Mean change, its SD across patients (n - 1 denominator) and SE = SD/sqrt(n);
        NaN for SD and SE with fewer than 2 patients.
    t_statistic, pvalue : ndarray
        One-sample (paired) t-test of zero mean change, two-sided; NaN if SE = 0.
    """

    n: npt.NDArray[np.int64]
    mean: FloatArray
    sd: FloatArray
    se: FloatArray
    t_statistic: FloatArray
    pvalue: FloatArray


def summarise_changes(change: npt.ArrayLike) -> StudySummary:
    """Summarise per-patient changes (last axis = patients; NaN = not analysed)."""
    d = np.asarray(change, float)
    finite = np.isfinite(d)
    n = finite.sum(axis=-1)
    x = np.where(finite, d, 0.0)
    mean = np.where(n > 0, x.sum(axis=-1) / np.maximum(n, 1), np.nan)
    ss = (np.where(finite, d - mean[..., None], 0.0) ** 2).sum(axis=-1)
    sd = np.where(n >= 2, np.sqrt(ss / np.maximum(n - 1, 1)), np.nan)
    se = sd / np.sqrt(np.maximum(n, 1))
    has_t = np.isfinite(se) & (se > 0)
    t_stat = np.where(has_t, mean / np.where(has_t, se, 1.0), np.nan)
    p = np.where(has_t, 2.0 * stats.t.sf(np.abs(np.where(has_t, t_stat, 0.0)), np.maximum(n - 1, 1)), np.nan)
    return StudySummary(n=n.astype(np.int64), mean=mean, sd=sd, se=se, t_statistic=t_stat, pvalue=p)
