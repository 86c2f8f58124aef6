r"""Mantel-Haenszel pooling of 2x2 tables: :func:`pool_mh` (metafor's ``rma.mh``).

With cells :math:`a_i, b_i` (events, non-events in group 1), :math:`c_i, d_i`
(group 2), :math:`n_{1i} = a_i + b_i`, :math:`n_{2i} = c_i + d_i`,
:math:`N_i = n_{1i} + n_{2i}`:

* Odds ratio (Mantel & Haenszel 1959):
  :math:`\hat\psi = R/S`, :math:`R = \sum a_i d_i / N_i`,
  :math:`S = \sum b_i c_i / N_i`; variance of :math:`\ln\hat\psi` by
  Robins, Breslow & Greenland (1986):
  :math:`\tfrac12\big[\sum P_iR_i/R^2 + \sum (P_iS_i + Q_iR_i)/(RS) + \sum Q_iS_i/S^2\big]`
  with :math:`P_i = (a_i + d_i)/N_i`, :math:`Q_i = (b_i + c_i)/N_i`.
* Risk ratio: :math:`\hat\theta = \sum a_i n_{2i}/N_i \,/\, \sum c_i n_{1i}/N_i`;
  variance of the log by Greenland & Robins (1985):
  :math:`\sum (n_{1i} n_{2i} (a_i + c_i)/N_i^2 - a_i c_i/N_i) / (R S)`.
* Risk difference: :math:`\hat\delta = \sum (a_i n_{2i} - c_i n_{1i})/N_i \,/\, \sum n_{1i} n_{2i}/N_i`
  with the Greenland & Robins (1985) variance as implemented in metafor
  (Sato, Greenland & Robins 1989 form).

Heterogeneity: Cochran's Q of the individual effects (computed with the
first-stage zero-cell rule) around the MH estimate, :math:`Q = \sum
(y_i - \hat\theta)^2 / v_i`, with ``k_yi - 1`` df. For the odds ratio also
the Cochran-Mantel-Haenszel test of OR = 1 (Mantel & Haenszel 1959, with
continuity correction unless ``correct=False``), Cochran's version with
:math:`N_i` instead of :math:`N_i - 1` in the variance, and the
Breslow-Day test (Breslow & Day 1980) with and without Tarone's (1985)
correction, over the tables whose fitted cell :math:`\tilde a_i > 0` and with
events and non-events.

References
----------
Mantel N, Haenszel W (1959). J Natl Cancer Inst 22:719-748.
Robins J, Breslow N, Greenland S (1986). Biometrics 42:311-323.
Greenland S, Robins JM (1985). Biometrics 41:55-68.
Sato T, Greenland S, Robins JM (1989). Biometrics 45:1323-1324.
Breslow NE, Day NE (1980). Statistical Methods in Cancer Research I. IARC.
Tarone RE (1985). Biometrika 72:91-95.
Viechtbauer W (2010). Conducting meta-analyses in R with the metafor package.
J Stat Softw 36(3).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import special

from alsmeta.effects.two_by_two import (
    apply_rule,
    study_effects,
    tables_2x2,
    zero_cell_notes,
    zero_cell_rules,
)
from alsmeta.models.binary_result import (
    NO_ODDS_RATIO_TESTS,
    BinaryPooledResult,
    Heterogeneity,
    OddsRatioTests,
    complete_tables,
    empty_result,
    q_summary,
    tables_result,
    zero_cell_fields,
)
from alsmeta.validation import AlsmetaInputError, AlsmetaWarning, probability_level

Array = npt.NDArray[np.float64]
MH_MEASURES = ("OR", "RR", "RD")
NAN = float("nan")


@dataclass(frozen=True)
class MHEstimate:
    """A Mantel-Haenszel point estimate (log scale for OR/RR), its SE and the raw table weights."""

    estimate: float
    se: float
    table_weights: Array


def mh_odds_ratio(a: Array, b: Array, c: Array, d: Array) -> MHEstimate:
    """Log MH odds ratio with the Robins-Breslow-Greenland variance; NaN when R or S is 0."""
    n = a + b + c + d
    p, q = (a + d) / n, (b + c) / n
    r_i, s_i = a * d / n, b * c / n
    r, s = float(r_i.sum()), float(s_i.sum())
    if r == 0 or s == 0:
        return MHEstimate(NAN, NAN, s_i)
    var = 0.5 * ((p * r_i).sum() / r**2 + (p * s_i + q * r_i).sum() / (r * s) + (q * s_i).sum() / s**2)
    return MHEstimate(float(np.log(r / s)), float(np.sqrt(var)), s_i)


def mh_risk_ratio(a: Array, b: Array, c: Array, d: Array) -> MHEstimate:
    """Log MH risk ratio with the Greenland-Robins variance; NaN when either arm has no events in any table."""
    n1, n2 = a + b, c + d
    n = n1 + n2
    weights = c * n1 / n
    r, s = float((a * n2 / n).sum()), float(weights.sum())
    if a.sum() == 0 or c.sum() == 0:
        return MHEstimate(NAN, NAN, weights)
    var = (n1 * n2 * (a + c) / n**2 - a * c / n).sum() / (r * s)
    return MHEstimate(float(np.log(r / s)), float(np.sqrt(var)), weights)


def mh_risk_difference(a: Array, b: Array, c: Array, d: Array) -> MHEstimate:
    """MH risk difference with the Greenland-Robins / Sato variance (always defined)."""
    n1, n2 = a + b, c + d
    n = n1 + n2
    weights = n1 * n2 / n
    total = float(weights.sum())
    rd = float((a * n2 / n - c * n1 / n).sum() / total)
    numerator = rd * (c * (n1 / n) ** 2 - a * (n2 / n) ** 2 + (n1 / n) * (n2 / n) * (n2 - n1) / 2).sum()
    numerator += (a * (n2 - c) / n + c * (n1 - a) / n).sum() / 2
    return MHEstimate(rd, float(np.sqrt(numerator / total**2)), weights)


_ESTIMATORS = {"OR": mh_odds_ratio, "RR": mh_risk_ratio, "RD": mh_risk_difference}


def odds_ratio_tests(a: Array, b: Array, c: Array, d: Array, log_or: float, correct: bool) -> OddsRatioTests:
    """Tests reported by metafor's ``rma.mh`` for ``measure="OR"``.

    * Cochran / CMH: :math:`(|\\sum a_i - n_{1i} m_{1i}/N_i| - c)^2` over
      :math:`\\sum n_{1i} n_{2i} m_{1i} m_{2i} / (N_i^2 N_i)` (Cochran) or
      :math:`/(N_i^2 (N_i - 1))` (CMH), :math:`m_{1i} = a_i + c_i`,
      :math:`m_{2i} = b_i + d_i`, ``c = 0.5`` if ``correct``; chi^2(1).
      As metafor and statsmodels, the corrected numerator is not truncated
      at 0.
    * Breslow-Day: :math:`\\sum (a_i - \\tilde a_i)^2 / \\operatorname{Var}(a_i)`
      where :math:`\\tilde a_i` solves the quadratic for the expected cell
      under the common MH odds ratio and
      :math:`\\operatorname{Var}(a_i)^{-1} = 1/\\tilde a_i + 1/\\tilde b_i + 1/\\tilde c_i + 1/\\tilde d_i`;
      Tarone's correction subtracts :math:`(\\sum a_i - \\tilde a_i)^2 / \\sum \\operatorname{Var}(a_i)`.
      Both chi^2(k_pos - 1) over the k_pos tables with :math:`\\tilde a_i > 0`
      and with both events and non-events; p is NaN when k_pos < 2.
    """
    n1, n2 = a + b, c + d
    n = n1 + n2
    m1, m2 = a + c, b + d
    if m1.sum() == 0 or m2.sum() == 0:
        co = cmh = co_p = cmh_p = NAN
    else:
        numerator = (abs((a - n1 / n * m1).sum()) - (0.5 if correct else 0.0)) ** 2
        co = float(numerator / ((n1 / n) * (n2 / n) * (m1 * (m2 / n))).sum())
        cmh = float(numerator / ((n1 / n) * (n2 / n) * (m1 * (m2 / (n - 1)))).sum())
        co_p, cmh_p = float(special.chdtrc(1, co)), float(special.chdtrc(1, cmh))
    if not np.isfinite(log_or):
        return OddsRatioTests(co, co_p, cmh, cmh_p, NAN, NAN, NAN, NAN, 0)
    psi = float(np.exp(log_or))
    if psi == 1.0:
        fitted = n1 * m1 / n
    else:
        lin = psi * (n1 + m1) + (n2 - m1)
        with np.errstate(invalid="ignore"):
            fitted = (lin - np.sqrt(lin**2 - 4 * n1 * m1 * psi * (psi - 1))) / (2 * (psi - 1))
    pos = (fitted > 0) & (m1 > 0) & (m2 > 0)
    k_pos = int(pos.sum())
    f11 = fitted[pos]
    f12, f21 = n1[pos] - f11, m1[pos] - f11
    f22 = f11 - n1[pos] - m1[pos] + n[pos]
    var_a = 1.0 / (1 / f11 + 1 / f12 + 1 / f21 + 1 / f22)
    resid = a[pos] - f11
    bd = max(0.0, float((resid**2 / var_a).sum()))
    tarone = max(0.0, bd - float(resid.sum() ** 2 / var_a.sum())) if k_pos else 0.0
    if k_pos > 1:
        bd_p, ta_p = float(special.chdtrc(k_pos - 1, bd)), float(special.chdtrc(k_pos - 1, tarone))
    else:
        bd_p = ta_p = NAN
    return OddsRatioTests(co, co_p, cmh, cmh_p, bd, bd_p, tarone, ta_p, max(k_pos - 1, 0))


def cochran_q(yi: Array, vi: Array, estimate: float) -> float:
    """Cochran's Q of individual effects around a given pooled estimate: ``max(0, sum (y - est)^2 / v)``.

    Fewer than two effects: Q = 0 (as metafor, even when the estimate is undefined); an undefined
    estimate with two or more effects: NaN.
    """
    if len(yi) < 2:
        return 0.0
    if not np.isfinite(estimate):
        return NAN
    return max(0.0, float(((yi - estimate) ** 2 / vi).sum()))


def _canonical_measure(measure: Any) -> str:
    m = str(measure).upper() if isinstance(measure, str) else measure
    if m not in MH_MEASURES:
        raise AlsmetaInputError(
            f"measure: {measure!r} is not one of {', '.join(MH_MEASURES)} for Mantel-Haenszel pooling"
        )
    return m


def _check_correct(correct: Any) -> bool:
    if not isinstance(correct, (bool, np.bool_)):
        raise AlsmetaInputError(f"correct: must be True or False, got {correct!r}")
    return bool(correct)


def pool_mh(
    ai: Sequence[float] | Array,
    bi: Sequence[float] | Array,
    ci: Sequence[float] | Array,
    di: Sequence[float] | Array,
    measure: str = "OR",
    *,
    labels: Sequence[Any] | None = None,
    add: float | Sequence[float] = 0.5,
    to: str | Sequence[str] = "only0",
    drop00: bool | Sequence[bool] = True,
    correct: bool = True,
    level: float = 0.95,
    na_action: str = "raise",
) -> BinaryPooledResult:
    """Mantel-Haenszel common-effect pooling of 2x2 tables (metafor ``rma.mh``).

    Parameters
    ----------
    ai, bi, ci, di
        Cell counts per study: events and non-events in group 1 (e.g.
        treatment), events and non-events in group 2 (control). Whole
        numbers >= 0; each arm must have participants.
    measure : {"OR", "RR", "RD"}
        Odds ratio, risk ratio or risk difference.
    labels
        Study labels (unique); default ``Study 1`` ... .
    add, to, drop00
        metafor's zero-cell rules, one value or a pair (study effects,
        pooled sums). Defaults as metafor: ``add=(1/2, 0)``,
        ``to=("only0", "none")``, ``drop00=(True, False)``: the individual
        effects (shown, and entering Q) get 1/2 added to every cell of a
        table with a zero cell and tables with no events in both arms are
        left out of them; the MH estimate uses the raw counts, where such
        a double-zero table contributes nothing.
    correct
        Continuity correction of the Cochran and CMH tests (default True).
    level
        Confidence level, 0.95 or 95.
    na_action
        ``"raise"`` (default): a missing count is an error naming the study
        and the cell; ``"drop"``: tables with a missing count are dropped with
        a warning naming them.

    Returns
    -------
    BinaryPooledResult
        Estimate on the log scale for OR and RR (``summary(transf=np.exp)``
        and ``to_frame(transf=np.exp)`` back-transform).

    Raises
    ------
    AlsmetaInputError
        Bad counts (missing, negative, non-integer, different lengths, a
        table or an arm without participants: the message names the study
        and the column), an unknown measure or zero-cell option.

    Notes
    -----
    k = 0 gives a defined empty result. An MH OR is undefined when
    :math:`\\sum a_i d_i/N_i` or :math:`\\sum b_i c_i/N_i` is 0, an MH RR when
    one arm has no event in any table: the estimate is then NaN (metafor:
    NA) with a warning and a note. Formulas: see the module docstring.

    Agrees with metafor 3.8-1 ``rma.mh`` to about 1e-12 relative
    (``tests/reference/metafor_sparse.json``).
    """
    measure = _canonical_measure(measure)
    level = probability_level(level)
    correct = _check_correct(correct)
    effect_rule, pool_rule = zero_cell_rules(add, to, drop00)
    spec = zero_cell_fields(effect_rule, pool_rule)
    ai, bi, ci, di, labels = complete_tables(ai, bi, ci, di, labels, na_action)
    t = tables_2x2(ai, bi, ci, di, labels)
    if t.k == 0:
        return empty_result("MH", measure, level, correct=correct, **spec)
    e_cells = apply_rule(t, effect_rule)
    yi, vi = study_effects(measure, *e_cells[:4])
    in_q = np.isfinite(yi)
    p_cells = apply_rule(t, pool_rule)
    in_pool = ~p_cells[4]
    a, b, c, d = (x[in_pool] for x in p_cells[:4])
    fit = _ESTIMATORS[measure](a, b, c, d) if in_pool.any() else MHEstimate(NAN, NAN, np.zeros(0))
    k_yi = int(in_q.sum())
    q = cochran_q(yi[in_q], vi[in_q], fit.estimate)
    q_df = max(k_yi - 1, 0)
    heterogeneity = Heterogeneity(q, q_df, *q_summary(q, q_df))
    if measure == "OR" and in_pool.any():
        tests = odds_ratio_tests(a, b, c, d, fit.estimate, correct)
    else:
        tests = NO_ODDS_RATIO_TESTS
    weights = np.full(t.k, np.nan)
    total = fit.table_weights.sum()
    if total > 0:
        weights[in_pool] = 100.0 * fit.table_weights / total
    undefined = ~in_q & ~(t.double_zero & effect_rule.drop00)
    notes = zero_cell_notes(t, effect_rule, pool_rule, e_cells[5], p_cells[5], undefined)
    notes += _edge_notes(measure, int(in_pool.sum()), k_yi, fit.estimate)
    return tables_result(
        "MH",
        measure,
        level,
        t,
        yi=yi,
        vi=vi,
        weights=weights,
        in_pool=in_pool,
        estimate=fit.estimate,
        se=fit.se,
        heterogeneity=heterogeneity,
        tests=tests,
        rules=spec,
        correct=correct,
        notes=notes,
    )


def _edge_notes(measure: str, k: int, k_yi: int, estimate: float) -> list[str]:
    notes: list[str] = []
    if k == 0:
        msg = "Every table was left out of the pooled sums (drop00): nothing to pool."
        notes.append(msg)
        warnings.warn(msg, AlsmetaWarning, stacklevel=3)
    elif not np.isfinite(estimate):
        why = {
            "OR": "the sum of a*d/N or of b*c/N over the tables is 0 (no events, or no non-events, on one side)",
            "RR": "one group has no events in any table",
            "RD": "the tables carry no information",
        }[measure]
        msg = f"The Mantel-Haenszel {measure} is undefined: {why}. Estimate, CI and tests are NaN (metafor: NA)."
        notes.append(msg)
        warnings.warn(msg, AlsmetaWarning, stacklevel=3)
    if k == 1:
        notes.append("Only one table: the estimate is that study's MH effect; heterogeneity cannot be assessed.")
    elif k_yi < 2 <= k:
        notes.append("Fewer than two individual effects are defined: heterogeneity cannot be assessed (Q = 0, df = 0).")
    return notes
