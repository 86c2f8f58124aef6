"""ML/REML safeguards shared by every fit of the engine: score roots and the scan for an interior maximum.

Intercept-only fits (:mod:`alsmeta.engine.estimators`) and fits with a design
matrix (:mod:`alsmeta.engine.regression`) compute the ML/REML score and
log-likelihood in their own data layouts (closed forms over ``(k, B)`` columns,
projection matrices over ``(B, k, p)`` rows), but they share the two algorithms
below. Each caller passes functions of ``(x, rows)`` (see
:mod:`alsmeta.engine.roots`), so both layouts run exactly the same steps.

* :func:`score_root` - the bracketing root of a decreasing score, the fallback
  when Fisher scoring fails to converge.
* :func:`escape_boundary` - Fisher scoring from the Hedges start (metafor's
  algorithm; Viechtbauer 2005, J Educ Behav Stat 30:261-293) stops at
  tau^2 = 0 whenever the score is negative there, even when the likelihood has
  a second, higher maximum inside (possible with very unequal variances). The
  score is scanned on a geometric grid and the first interior maximum is kept
  if its likelihood beats the one at 0.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from alsmeta.engine.roots import RowFunction, expand_upper, solve_decreasing

Array = npt.NDArray[np.float64]
Rows = npt.NDArray[np.intp]
BoolArray = npt.NDArray[np.bool_]
Crossing = Callable[[Array, Rows], tuple[BoolArray, npt.NDArray[np.intp]]]

GRID_SIZE = 40
"""Grid points of the boundary scan (geometric, from 1e-8 to 1 times the row's upper scale)."""


def score_root(score: RowFunction, rows: Rows, scale: Array) -> tuple[Array, BoolArray]:
    """Root of a decreasing ML/REML score on ``rows``, 0 where the score is not positive at 0.

    Parameters
    ----------
    score
        ``score(tau2, rows)``: the score at ``tau2`` (one value per row) for the given rows.
    rows
        Integer indices of the rows to solve.
    scale
        A first upper bound per row of the whole batch (indexed by row), doubled until the
        score is negative there; bounds below 1e-8 are raised to 1e-8.

    Returns
    -------
    (tau2, ok)
        The roots (0 where the score at 0 is <= 0) and whether each was found.
    """
    out = np.zeros(rows.size)
    ok = np.ones(rows.size, dtype=bool)
    positive = score(np.zeros(rows.size), rows) > 0
    if not positive.any():
        return out, ok
    sub = rows[positive]
    hi = expand_upper(score, np.maximum(scale[sub], 1e-8), sub)
    roots, success = solve_decreasing(score, np.zeros(sub.size), hi, sub)
    out[positive] = roots
    ok[positive] = success
    return out, ok


def escape_boundary(
    score: RowFunction,
    loglik: RowFunction,
    tau2: Array,
    top: Callable[[Rows], Array],
    tol: float,
    crossing: Crossing | None = None,
) -> tuple[Array, BoolArray]:
    """Replace tau^2 = 0 by a higher interior likelihood maximum where one exists.

    Parameters
    ----------
    score, loglik
        ``score(tau2, rows)`` and ``loglik(tau2, rows)`` for the given rows.
    tau2
        The fitted values, one per row of the batch; only rows at exactly 0 are scanned.
    top
        ``top(rows)``: the upper end of each scanned row's grid, a value beyond which the
        score is negative.
    tol
        A maximum is kept only if its log-likelihood exceeds the one at 0 by more than ``tol``.
    crossing
        ``crossing(grid, rows) -> (has, j)``: for each row whether the score changes sign from
        + to - on its grid and the first such interval ``j``. By default the score is evaluated
        at every grid point; a caller with a cheaper exact rule (certificates that skip points
        where the score is provably negative) passes it here.

    Returns
    -------
    (tau2, multimodal)
        The values with the interior maxima substituted, and which rows changed.
    """
    multimodal = np.zeros(tau2.shape[0], dtype=bool)
    rows = np.flatnonzero(tau2 == 0)
    if rows.size == 0:
        return tau2, multimodal
    grid = top(rows)[:, None] * np.geomspace(1e-8, 1.0, GRID_SIZE)[None, :]
    if crossing is None:
        scores = np.stack([score(grid[:, j], rows) for j in range(GRID_SIZE)], axis=1)
        down = (scores[:, :-1] > 0) & (scores[:, 1:] <= 0)
        has, first = down.any(axis=1), down.argmax(axis=1)
    else:
        has, first = crossing(grid, rows)
    if not has.any():
        return tau2, multimodal
    sub = rows[has]
    j = first[has]
    roots, ok = solve_decreasing(score, grid[has, j], grid[has, j + 1], sub)
    gain = loglik(np.nan_to_num(roots), sub) - loglik(np.zeros(sub.size), sub)
    better = ok & (gain > tol)
    tau2 = tau2.copy()
    tau2[sub[better]] = roots[better]
    multimodal[sub[better]] = True
    return tau2, multimodal
