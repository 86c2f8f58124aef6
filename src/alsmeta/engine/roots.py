"""Vectorised bracketing root finding for many meta-analyses at once.

Thin wrappers around :func:`scipy.optimize.elementwise.find_root`
(Chandrupatla's method), which solves one scalar equation per row and drops
rows from the computation as they converge. The row data (``(B, k)`` arrays)
cannot be broadcast against the scalar unknowns, so callers pass a function of
``(x, rows)`` where ``rows`` are integer row indices into their own arrays.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]
RowFunction = Callable[[Array, npt.NDArray[np.intp]], Array]


def expand_upper(fun: RowFunction, hi: Array, rows: npt.NDArray[np.intp], max_doublings: int = 200) -> Array:
    """Double ``hi`` until ``fun(hi, rows) < 0`` for a decreasing ``fun``.

    Rows for which no sign change is found keep a non-finite bound (NaN),
    which :func:`solve_decreasing` reports as failure.
    """
    hi = np.asarray(hi, dtype=float).copy()
    todo = np.flatnonzero(fun(hi, rows) >= 0)
    for _ in range(max_doublings):
        if todo.size == 0:
            return hi
        hi[todo] *= 2.0
        still = fun(hi[todo], rows[todo]) >= 0
        todo = todo[still]
    hi[todo] = np.nan
    return hi


def solve_decreasing(
    fun: RowFunction,
    lo: Array,
    hi: Array,
    rows: npt.NDArray[np.intp],
) -> tuple[Array, npt.NDArray[np.bool_]]:
    """Root of a decreasing function on ``[lo, hi]`` per row.

    ``fun(lo) > 0 >= fun(hi)`` must hold. Returns the roots and a success
    flag per row; tolerances are scipy's defaults (about machine precision).
    """
    roots = np.full(rows.shape, np.nan)
    ok = np.zeros(rows.shape, dtype=bool)
    usable = np.isfinite(lo) & np.isfinite(hi)
    if not usable.any():
        return roots, ok
    from scipy.optimize import elementwise  # imported on first use: a single pool() does not need it

    res = elementwise.find_root(fun, (lo[usable], hi[usable]), args=(rows[usable],))
    roots[usable] = res.x
    ok[usable] = res.success
    return roots, ok
