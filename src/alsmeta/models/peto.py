r"""Peto's one-step odds ratio: :func:`pool_peto` (metafor's ``rma.peto``).

For each table, with :math:`m_{1i} = a_i + c_i` events, :math:`m_{2i} = b_i + d_i`
non-events, group sizes :math:`n_{1i}, n_{2i}` and :math:`N_i`: the observed
minus expected events in group 1 under no effect,
:math:`O_i - E_i = a_i - n_{1i} m_{1i}/N_i`, and its hypergeometric variance
:math:`V_i = m_{1i} m_{2i} n_{1i} n_{2i} / (N_i^2 (N_i - 1))`. Then

.. math::

    \ln\widehat{OR}_{Peto} = \frac{\sum (O_i - E_i)}{\sum V_i}, \qquad
    SE = 1/\sqrt{\textstyle\sum V_i},

and the heterogeneity statistic
:math:`Q = \sum (O_i - E_i)^2 / V_i - (\sum (O_i - E_i))^2 / \sum V_i` over the
tables with :math:`V_i > 0` (Yusuf et al. 1985), with ``k_yi - 1`` df as in
metafor. Tables without events (or without non-events) in both arms have
:math:`V_i = 0` and contribute nothing.

The method is unbiased and recommended (Cochrane Handbook 10.4.4.2) when
events are rare, effects are small and arms are of similar size; it is
biased for large effects or unbalanced arms (Greenland & Salvan 1990;
Bradburn et al. 2007).

References
----------
Yusuf S, Peto R, Lewis J, Collins R, Sleight P (1985). Beta blockade during
and after myocardial infarction. Prog Cardiovasc Dis 27:335-371.
Greenland S, Salvan A (1990). Bias in the one-step method for pooling study
results. Stat Med 9:247-252.
Bradburn MJ, Deeks JJ, Berlin JA, Localio AR (2007). Much ado about nothing.
Stat Med 26:53-77.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from alsmeta.effects.two_by_two import apply_rule, study_effects, tables_2x2, zero_cell_notes, zero_cell_rules
from alsmeta.models.binary_result import (
    NO_ODDS_RATIO_TESTS,
    BinaryPooledResult,
    Heterogeneity,
    complete_tables,
    empty_result,
    q_summary,
    tables_result,
    zero_cell_fields,
)
from alsmeta.validation import AlsmetaWarning, probability_level

Array = npt.NDArray[np.float64]
NAN = float("nan")


@dataclass(frozen=True)
class PetoEstimate:
    """Peto log odds ratio, its SE, Peto's Q, the number of informative tables and the variances V_i."""

    estimate: float
    se: float
    q: float
    k_pos: int
    hyper_var: Array


def peto_odds_ratio(a: Array, b: Array, c: Array, d: Array) -> PetoEstimate:
    """Peto's one-step log odds ratio and Q from (already corrected) counts; NaN when every V_i is 0."""
    n1, n2 = a + b, c + d
    n = n1 + n2
    m1, m2 = a + c, b + d
    o_minus_e = a - m1 * n1 / n
    v = m1 * m2 * (n1 / n) * (n2 / n) / (n - 1)
    total = float(v.sum())
    pos = v > 0
    if total == 0:
        return PetoEstimate(NAN, NAN, NAN, 0, v)
    q = max(0.0, float((o_minus_e[pos] ** 2 / v[pos]).sum() - o_minus_e.sum() ** 2 / total))
    return PetoEstimate(float(o_minus_e.sum() / total), float(np.sqrt(1.0 / total)), q, int(pos.sum()), v)


def pool_peto(
    ai: Sequence[float] | Array,
    bi: Sequence[float] | Array,
    ci: Sequence[float] | Array,
    di: Sequence[float] | Array,
    *,
    labels: Sequence[Any] | None = None,
    add: float | Sequence[float] = 0.5,
    to: str | Sequence[str] = "only0",
    drop00: bool | Sequence[bool] = True,
    level: float = 0.95,
    na_action: str = "raise",
) -> BinaryPooledResult:
    """Peto's one-step odds ratio for 2x2 tables (metafor ``rma.peto``).

    Parameters
    ----------
    ai, bi, ci, di
        Cell counts per study (events / non-events in group 1, then group
        2); whole numbers >= 0, each arm with participants.
    labels
        Study labels (unique).
    add, to, drop00
        metafor's zero-cell rules, one value or a pair (study effects,
        pooled sums); defaults ``add=(1/2, 0)``, ``to=("only0", "none")``,
        ``drop00=(True, False)``. Note that metafor (and so alsmeta) applies
        the first-stage correction to the individual Peto effects shown in
        ``to_frame()`` although Peto's method needs none; ``add=0`` gives
        the uncorrected individual Peto ORs (RevMan's). The pooled estimate
        uses the raw counts by default.
    level
        Confidence level, 0.95 or 95.
    na_action
        ``"raise"`` (default): a missing count is an error naming the study
        and the cell; ``"drop"``: tables with a missing count are dropped with
        a warning naming them.

    Returns
    -------
    BinaryPooledResult
        ``method="Peto"``, ``measure="OR"``; estimate on the log scale.

    Raises
    ------
    AlsmetaInputError
        Bad counts (named by study and column) or options.

    Notes
    -----
    When no table has both events and non-events (every V_i = 0) the Peto
    OR is undefined: metafor stops with an error; alsmeta returns NaN with
    a warning and a note. k = 0 gives the defined empty result.

    Agrees with metafor 3.8-1 ``rma.peto`` to about 1e-12 relative
    (``tests/reference/metafor_sparse.json``).
    """
    level = probability_level(level)
    effect_rule, pool_rule = zero_cell_rules(add, to, drop00)
    spec = zero_cell_fields(effect_rule, pool_rule)
    ai, bi, ci, di, labels = complete_tables(ai, bi, ci, di, labels, na_action)
    t = tables_2x2(ai, bi, ci, di, labels)
    if t.k == 0:
        return empty_result("Peto", "OR", level, correct=False, **spec)
    e_cells = apply_rule(t, effect_rule)
    yi, vi = study_effects("PETO", *e_cells[:4])
    in_q = np.isfinite(yi)
    p_cells = apply_rule(t, pool_rule)
    in_pool = ~p_cells[4]
    fit = (
        peto_odds_ratio(*(x[in_pool] for x in p_cells[:4]))
        if in_pool.any()
        else PetoEstimate(NAN, NAN, NAN, 0, np.zeros(0))
    )
    q_df = max(int(in_q.sum()) - 1, 0)
    if fit.k_pos > 1:
        q_p, i2, h2 = q_summary(fit.q, q_df)
    elif np.isfinite(fit.q):
        q_p, i2, h2 = 1.0, 0.0, 1.0
    else:
        q_p = i2 = h2 = NAN
    weights = np.full(t.k, np.nan)
    if in_pool.any() and fit.hyper_var.sum() > 0:
        weights[in_pool] = 100.0 * fit.hyper_var / fit.hyper_var.sum()
    undefined = ~in_q & ~(t.double_zero & effect_rule.drop00)
    notes = zero_cell_notes(t, effect_rule, pool_rule, e_cells[5], p_cells[5], undefined)
    if not np.isfinite(fit.estimate):
        msg = (
            "Peto's odds ratio is undefined: no table has both events and non-events (every hypergeometric "
            "variance is 0). Estimate, CI and Q are NaN (metafor stops with an error)."
        )
        notes.append(msg)
        warnings.warn(msg, AlsmetaWarning, stacklevel=2)
    if int(in_pool.sum()) == 1:
        notes.append("Only one table: the estimate is that study's Peto OR; heterogeneity cannot be assessed.")
    return tables_result(
        "Peto",
        "OR",
        level,
        t,
        yi=yi,
        vi=vi,
        weights=weights,
        in_pool=in_pool,
        estimate=fit.estimate,
        se=fit.se,
        heterogeneity=Heterogeneity(fit.q, q_df, q_p, i2, h2),
        tests=NO_ODDS_RATIO_TESTS,
        rules=spec,
        correct=False,
        notes=notes,
    )
