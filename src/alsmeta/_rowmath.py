"""Masked row-wise sums for many meta-analyses at once.

Every estimator in alsmeta works on arrays shaped ``(B, k)``: ``B``
meta-analyses, each with up to ``k`` studies, and a boolean ``mask`` of the
same shape that marks the studies in use. Entries outside the mask are
ignored (their values may be anything finite). All sums below are over the
studies in use of each row and return arrays of shape ``(B,)``.

For the intercept-only random-effects model with weights ``w`` the hat-type
matrix is ``P = W - w w' / S`` with ``S = sum(w)`` (Viechtbauer 2005). The
traces metafor needs never require a ``k x k`` matrix; ``p_trace_pair``
gives ``sum_ij P_ij^2 a_i b_j`` in O(k), which covers ``sum(P*P)``,
``tr(PVPV)`` and ``sum(PV*P)``.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]
Mask = npt.NDArray[np.bool_]


def rsum(x: Array, mask: Mask) -> Array:
    """Row sums of ``x`` over the studies in use."""
    return np.where(mask, x, 0.0).sum(axis=1)


def weighted_mean(y: Array, w: Array, mask: Mask) -> tuple[Array, Array]:
    """Weighted row means ``sum(w y) / sum(w)`` and the weight sums ``S``."""
    s = rsum(w, mask)
    with np.errstate(invalid="ignore", divide="ignore"):
        mu = rsum(w * y, mask) / s
    return mu, s


def generalized_q(y: Array, v: Array, tau2: Array, mask: Mask) -> Array:
    """Generalised Q statistic ``sum w_i (y_i - mu_w)^2`` with ``w = 1/(v + tau2)``.

    With ``tau2 = 0`` this is Cochran's Q. It is strictly decreasing in
    ``tau2`` unless all effects are equal (then it is 0), which is what the
    Paule-Mandel estimator and the Q-profile interval exploit
    (Viechtbauer 2007).
    """
    w = 1.0 / (v + tau2[:, None])
    mu, _ = weighted_mean(y, w, mask)
    return rsum(w * (y - mu[:, None]) ** 2, mask)


def p_trace(w: Array, mask: Mask) -> Array:
    """``tr(P) = S - sum(w^2)/S``."""
    s = rsum(w, mask)
    return s - rsum(w * w, mask) / s


def p_trace_pair(w: Array, a: Array, b: Array, mask: Mask) -> Array:
    """``sum_ij P_ij^2 a_i b_j`` for ``P = diag(w) - w w'/S``.

    Expanding ``P_ij^2 = delta_ij (w_i^2 - 2 w_i^3 / S) + w_i^2 w_j^2 / S^2``
    gives ``sum_i a_i b_i (w_i^2 - 2 w_i^3/S) + (sum w^2 a)(sum w^2 b)/S^2``.
    """
    s = rsum(w, mask)
    w2 = w * w
    diag = rsum(a * b * (w2 - 2.0 * w2 * w / s[:, None]), mask)
    return diag + rsum(w2 * a, mask) * rsum(w2 * b, mask) / (s * s)
