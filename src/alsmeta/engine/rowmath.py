"""Row sums for many meta-analyses at once, in one fixed order of summation.

The public interface of alsmeta takes ``(B, k)`` arrays with a boolean
``mask`` that marks the studies in use of each row. The engine does not sum
over the padded rows: it groups the rows by their number of studies ``c``
and works on dense, *transposed* ``(c, n)`` arrays holding only the studies in
use, in their original order (see :func:`count_groups` and :func:`dense`).
A sum over the studies of every row is then :func:`psum`, a handful of
vector additions of length ``n``, and it adds the terms in exactly the order
of ``numpy.sum`` over one meta-analysis of ``c`` studies (pairwise summation
in blocks of eight). Consequences:

* a row of a batch gives bit for bit the numbers of :func:`alsmeta.pool` on
  that row's studies alone, whatever the padding, the mask, the chunking or
  the other rows of the batch;
* no work is spent on padding (a GOSH subset of 10 of 20 studies costs 10).

For the intercept-only random-effects model with weights ``w`` the hat-type
matrix is ``P = W - w w' / S`` with ``S = sum(w)`` (Viechtbauer 2005). The
traces metafor needs never require a ``k x k`` matrix; :func:`p_trace_pair`
gives ``sum_ij P_ij^2 a_i b_j`` in O(k), which covers ``sum(P*P)``,
``tr(PVPV)`` and ``sum(PV*P)``.

Functions named ``*_dense`` take transposed ``(c, n)`` arrays (one column per
meta-analysis); the others keep the ``(B, k)`` + mask interface.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]
Mask = npt.NDArray[np.bool_]
Index = npt.NDArray[np.intp]

_BLOCK = 128  # numpy's pairwise-summation block size (PW_BLOCKSIZE)
_FEW = 64  # up to this many columns psum transposes and lets numpy sum


def _pairwise(x: Array, lo: int, n: int) -> Array:
    """numpy's ``pairwise_sum`` of ``x[..., lo:lo+n, :]`` over axis -2 (n >= 1)."""
    if n < 8:
        res = x[..., lo, :]
        for i in range(lo + 1, lo + n):
            res = res + x[..., i, :]
        return res
    if n <= _BLOCK:
        m = n - n % 8
        if m >= 16:
            r = x[..., lo : lo + 8, :] + x[..., lo + 8 : lo + 16, :]
            for i in range(lo + 16, lo + m, 8):
                r += x[..., i : i + 8, :]
        else:
            r = x[..., lo : lo + 8, :]
        r = r[..., 0::2, :] + r[..., 1::2, :]
        r = r[..., 0::2, :] + r[..., 1::2, :]
        res = r[..., 0, :] + r[..., 1, :]
        for i in range(lo + m, lo + n):
            res += x[..., i, :]
        return res
    n2 = n // 2
    n2 -= n2 % 8
    return _pairwise(x, lo, n2) + _pairwise(x, lo + n2, n - n2)


def psum(x: Array) -> Array:
    """Sum over axis -2 of a ``(..., c, n)`` array.

    Bit for bit ``x[..., :, j].sum()`` for every column ``j`` (numpy's
    reduction: 0.0 plus the pairwise sum), computed as vector additions over
    the columns. Stacking several quantities in the leading axes sums them
    all in one call.
    """
    c = x.shape[-2]
    if c == 0:
        return np.zeros(x.shape[:-2] + x.shape[-1:])
    if x.shape[-1] <= _FEW:  # few columns: numpy's own sum over contiguous rows is cheaper
        return np.ascontiguousarray(np.swapaxes(x, -1, -2)).sum(axis=-1)
    return _pairwise(x, 0, c) + 0.0


# ------------------------------------------------------------------ grouping
def count_groups(mask: Mask) -> Iterator[tuple[int, Index]]:
    """Rows of ``mask`` grouped by their number of studies: ``(c, rows)``, c ascending."""
    k = mask.sum(axis=1)
    if k.size == 0:
        return
    order = np.argsort(k, kind="stable")
    counts = np.bincount(k)
    start = 0
    for c in np.flatnonzero(counts):
        stop = start + int(counts[c])
        yield int(c), order[start:stop]
        start = stop


def dense(mask: Mask, rows: Index, c: int, *xs: Array) -> tuple[Array, ...]:
    """The studies in use of ``rows``, for each of ``xs``, as contiguous transposed ``(c, len(rows))`` arrays.

    Studies keep their column order. An ``x`` may be a broadcast view (for
    instance one data set under many masks), which is never expanded.
    """
    if c == 0:
        return tuple(np.zeros((0, rows.size)) for _ in xs)
    K = mask.shape[1]
    flat = np.flatnonzero(mask[rows])  # row-major: each row's studies in column order
    cols = np.ascontiguousarray((flat - (flat // K) * K).reshape(rows.size, c).T)  # gathers come out (c, n)
    return tuple(x[0][cols] if x.strides[0] == 0 else x[rows[None, :], cols] for x in xs)


# ------------------------------------------------------------------ dense (c, n) helpers
def weighted_mean_dense(y: Array, w: Array) -> tuple[Array, Array]:
    """Weighted column means ``sum(w y) / sum(w)`` and the weight sums ``S``."""
    s = psum(w)
    with np.errstate(invalid="ignore", divide="ignore"):
        mu = psum(w * y) / s
    return mu, s


def generalized_q_dense(y: Array, v: Array, tau2: Array) -> Array:
    """Generalised Q statistic of each column (see :func:`generalized_q`)."""
    w = 1.0 / (v + tau2[None, :])
    mu, _ = weighted_mean_dense(y, w)
    return psum(w * (y - mu[None, :]) ** 2)


def _without_largest(w: Array) -> tuple[Index, Index, Array, Array]:
    """Each column's largest weight ``w_j`` (index ``j``) and the weights with it set to 0.

    Differences such as ``S - w_j`` lose every digit when one weight
    dominates (a study with a variance 1e8 times smaller than the others');
    sums over the *other* studies do not, so the traces below are written
    with them.
    """
    j = np.argmax(w, axis=0)
    cols = np.arange(w.shape[1], dtype=np.intp)
    w0 = w.copy()
    w0[j, cols] = 0.0
    return j, cols, w[j, cols], w0


def p_trace_dense(w: Array) -> Array:
    """``tr(P) = sum_i w_i (S - w_i) / S`` per column, accurate when one weight dominates.

    ``S - w_i`` is the sum of the other weights; for the largest weight it
    is summed directly (``S - sum(w^2)/S``, the textbook form, has a
    relative error of about ``eps * w_max / (S - w_max)``: 2e-7 for a
    variance ratio of 1e8, everything for 1e16).
    """
    s = psum(w)
    _, _, wj, w0 = _without_largest(w)
    return (psum(w0 * (s[None, :] - w0)) + wj * psum(w0)) / s


def p_trace_pair_dense(w: Array, a: Array | None = None, b: Array | None = None) -> Array:
    """``sum_ij P_ij^2 a_i b_j`` for ``P = diag(w) - w w'/S``; ``a = None`` (and ``b = None``) mean ones.

    ``P_ii = w_i S_(-i) / S`` (``S_(-i)`` the sum of the other weights) and
    ``P_ij = -w_i w_j / S``, so the sum is
    ``sum_i a_i b_i P_ii^2 + [A B - sum_i w_i^4 a_i b_i] / S^2`` with
    ``A = sum w^2 a``, ``B = sum w^2 b``. The bracket is formed without the
    largest weight's own product (which cancels exactly), so no digit is
    lost when one study dominates; the expanded textbook form loses
    ``eps * (w_max / w_rest)^2`` (a 4% error in the SE of tau^2 at a
    variance ratio of 1e8).
    """
    s = psum(w)
    j, cols, wj, w0 = _without_largest(w)
    ones = np.ones_like(w)
    aa = ones if a is None else a
    bb = ones if b is None else b
    s_other = s[None, :] - w
    s_other[j, cols] = psum(w0)
    pii = w * s_other / s[None, :]
    diag = psum(aa * bb * pii * pii)
    w2o = w0 * w0
    a_o, b_o = psum(w2o * aa), psum(w2o * bb)
    a_j, b_j = wj * wj * aa[j, cols], wj * wj * bb[j, cols]
    d_o = psum(w2o * w2o * aa * bb)
    return diag + (a_j * b_o + a_o * b_j + (a_o * b_o - d_o)) / (s * s)


# ------------------------------------------------------------------ (B, k) + mask interface
def generalized_q(y: Array, v: Array, tau2: Array, mask: Mask) -> Array:
    """Generalised Q statistic ``sum w_i (y_i - mu_w)^2`` with ``w = 1/(v + tau2)``.

    With ``tau2 = 0`` this is Cochran's Q. It is strictly decreasing in
    ``tau2`` unless all effects are equal (then it is 0), which is what the
    Paule-Mandel estimator and the Q-profile interval exploit
    (Viechtbauer 2007). Each row is computed as the engine computes it (on
    its studies in use alone).
    """
    y, v = np.asarray(y, dtype=float), np.asarray(v, dtype=float)
    mask = np.asarray(mask, dtype=bool)
    tau2 = np.broadcast_to(np.asarray(tau2, dtype=float), (y.shape[0],))
    out = np.zeros(y.shape[0])
    for c, rows in count_groups(mask):
        y_dense, v_dense = dense(mask, rows, c, y, v)
        out[rows] = generalized_q_dense(y_dense, v_dense, tau2[rows])
    return out
