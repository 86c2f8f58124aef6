"""Result of pooling 2x2 tables without inverse-variance weights: :class:`BinaryPooledResult`.

Shared by :func:`alsmeta.pool_mh` (Mantel-Haenszel) and
:func:`alsmeta.pool_peto` (Peto's one-step odds ratio). Attribute names are
those of :class:`alsmeta.PooledResult` where the concept is the same
(``k``, ``estimate``, ``se``, ``statistic``, ``pvalue``, ``ci_low``,
``ci_high``, ``q``, ``q_df``, ``q_pvalue``, ``i2``, ``h2``, ``level``,
``labels``, ``yi``, ``vi``, ``notes``); both models are common-effect
models (``tau2`` is 0 by construction, as in metafor).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, TypedDict

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import special, stats

from alsmeta.effects.two_by_two import Tables2x2, ZeroCellRule
from alsmeta.jsonsafe import json_safe
from alsmeta.results import ResultMixin, fmt_pvalue, p_phrase, text_table
from alsmeta.validation import align_on_index, missing_studies, na_action_arg, numeric_column

Array = npt.NDArray[np.float64]
Mask = npt.NDArray[np.bool_]
Transform = Callable[[Any], Any]

METHOD_TITLES = {
    "MH": "Mantel-Haenszel",
    "Peto": "Peto one-step",
}
MEASURE_NAMES = {"OR": "odds ratio", "RR": "risk ratio", "RD": "risk difference"}


@dataclass(frozen=True)
class OddsRatioTests:
    """Cochran, Cochran-Mantel-Haenszel and Breslow-Day (with Tarone's correction) tests for 2x2 tables.

    The fields are those of :class:`BinaryPooledResult` of the same names.
    """

    cochran: float
    cochran_pvalue: float
    cmh: float
    cmh_pvalue: float
    breslow_day: float
    breslow_day_pvalue: float
    tarone: float
    tarone_pvalue: float
    bd_df: int


_NAN = float("nan")
NO_ODDS_RATIO_TESTS = OddsRatioTests(_NAN, _NAN, _NAN, _NAN, _NAN, _NAN, _NAN, _NAN, bd_df=0)
"""The tests where they are not computed (Peto, measures other than OR, k = 0): NaN, 0 df."""


class ZeroCellFields(TypedDict):
    """The zero-cell settings of a :class:`BinaryPooledResult`: (study effects, pooled sums) pairs."""

    add: tuple[float, float]
    to: tuple[str, str]
    drop00: tuple[bool, bool]


def zero_cell_fields(effect_rule: ZeroCellRule, pool_rule: ZeroCellRule) -> ZeroCellFields:
    """The ``add``, ``to`` and ``drop00`` pairs a result records for its two zero-cell stages."""
    return {
        "add": (effect_rule.add, pool_rule.add),
        "to": (effect_rule.to, pool_rule.to),
        "drop00": (effect_rule.drop00, pool_rule.drop00),
    }


@dataclass(frozen=True, eq=False)
class BinaryPooledResult(ResultMixin):
    """Result of :func:`alsmeta.pool_mh` or :func:`alsmeta.pool_peto`.

    Attributes
    ----------
    method : {"MH", "Peto"}
    measure : {"OR", "RR", "RD"}
        The pooled measure; Peto's method pools odds ratios.
    level : float
        Confidence level (fraction).
    labels : tuple of str
    ai, bi, ci, di : ndarray
        The cell counts as given (before any continuity correction).
    yi, vi : ndarray
        Individual study effects (log OR, log RR, RD; for Peto the Peto log
        OR) and their sampling variances after the first-stage zero-cell
        rule; NaN for tables left out (``drop00``) or undefined.
    weights : ndarray
        Percentage weights of the tables in the pooled estimate (MH:
        ``b c / N`` for OR, ``c n1 / N`` for RR, ``n1 n2 / N`` for RD; Peto:
        the hypergeometric variance ``V``), NaN for tables left out; as
        metafor's ``weights()``.
    in_pool, in_q : ndarray of bool
        Tables used in the pooled sums / in Cochran's Q.
    k : int
        Number of tables in the pooled sums (metafor's ``k``).
    k_yi : int
        Number of individual effects in Q (metafor's ``k.yi``).
    estimate, se, statistic, pvalue, ci_low, ci_high : float
        Pooled effect on the log scale for OR and RR (RD as is), its
        standard error, z statistic, two-sided p-value and Wald CI.
    q, q_df, q_pvalue, i2, h2
        Test for heterogeneity: MH: Cochran's Q of the individual effects
        around the MH estimate; Peto: Peto's Q. I^2 in percent
        ``max(0, 100 (Q - df) / Q)``, ``H^2 = Q / df``.
    cochran, cochran_pvalue, cmh, cmh_pvalue
        MH odds ratio only: Cochran's and the Cochran-Mantel-Haenszel test
        of OR = 1 (1 df); NaN otherwise.
    breslow_day, breslow_day_pvalue, tarone, tarone_pvalue, bd_df
        MH odds ratio only: Breslow-Day test of homogeneous odds ratios
        and its version with Tarone's correction (which metafor prints as
        "Tarone's Test for Heterogeneity"), ``k_pos - 1`` df; NaN otherwise.
    add, to, drop00 : tuple
        Zero-cell rule as (study effects, pooled sums), metafor's convention.
    correct : bool
        Continuity correction of the CMH / Cochran tests.
    notes : tuple of str
        Plain statements about zero cells, dropped tables and edge cases.
    """

    method: str
    measure: str
    level: float
    labels: tuple[str, ...]
    ai: Array
    bi: Array
    ci: Array
    di: Array
    yi: Array
    vi: Array
    weights: Array
    in_pool: Mask
    in_q: Mask
    k: int
    k_yi: int
    estimate: float
    se: float
    statistic: float
    pvalue: float
    ci_low: float
    ci_high: float
    q: float
    q_df: int
    q_pvalue: float
    i2: float
    h2: float
    cochran: float
    cochran_pvalue: float
    cmh: float
    cmh_pvalue: float
    breslow_day: float
    breslow_day_pvalue: float
    tarone: float
    tarone_pvalue: float
    bd_df: int
    add: tuple[float, float]
    to: tuple[str, str]
    drop00: tuple[bool, bool]
    correct: bool
    notes: tuple[str, ...] = field(default=())

    # ----------------------------------------------------------------- derived
    @property
    def is_empty(self) -> bool:
        """True when no table was available (k = 0)."""
        return self.k == 0

    @property
    def tau2(self) -> float:
        """0: Mantel-Haenszel and Peto are common-effect methods (as metafor reports)."""
        return 0.0

    @property
    def is_random_effects(self) -> bool:
        return False

    @property
    def df(self) -> float:
        """NaN: inference is z-based (the name and value as in :class:`alsmeta.PooledResult`)."""
        return float("nan")

    @property
    def test(self) -> str:
        """``"z"``: Wald z test and CI (as metafor's rma.mh / rma.peto)."""
        return "z"

    @property
    def pi_low(self) -> float:
        """NaN: a common-effect model has no prediction interval (as :class:`alsmeta.PooledResult` for CE)."""
        return float("nan")

    @property
    def pi_high(self) -> float:
        """NaN: see :attr:`pi_low`."""
        return float("nan")

    @property
    def is_log_scale(self) -> bool:
        """True for odds and risk ratios (back-transform with ``transf=np.exp``)."""
        return self.measure in ("OR", "RR")

    # ----------------------------------------------------------------- output
    def to_frame(self, transf: Transform | None = None) -> pd.DataFrame:
        """One row per study: counts, individual effect, variance, study CI (z, at ``level``), % weight.

        With ``transf`` (e.g. ``np.exp``) the effect and its CI are
        transformed and ``vi``/``sei`` (log-scale quantities) are left out,
        as metafor's ``summary(escalc, transf=)``.
        """
        crit = stats.norm.isf((1.0 - self.level) / 2.0)
        sei = np.sqrt(self.vi)
        frame = pd.DataFrame(
            {
                "label": list(self.labels),
                "ai": self.ai,
                "bi": self.bi,
                "ci": self.ci,
                "di": self.di,
                "yi": self.yi,
                "vi": self.vi,
                "sei": sei,
                "ci_low": self.yi - crit * sei,
                "ci_high": self.yi + crit * sei,
                "weight": self.weights,
                "in_pool": self.in_pool,
                "in_q": self.in_q,
            }
        )
        if transf is not None:
            for col in ("yi", "ci_low", "ci_high"):
                frame[col] = np.asarray(transf(frame[col].to_numpy()), dtype=float)
            frame = frame.drop(columns=["vi", "sei"])
        return frame

    def to_dict(self) -> dict[str, Any]:
        """Every field as plain Python values (JSON-safe: NaN becomes None)."""
        out: dict[str, Any] = {}
        for name, value in asdict(self).items():
            out[name] = json_safe(value)
        out["tau2"] = 0.0
        return out

    def summary(self, digits: int = 4, transf: Transform | None = None) -> str:
        """metafor-like text summary; ``transf`` (e.g. ``np.exp``) adds the back-transformed estimate and CI."""
        return _format_summary(self, digits, transf)


def complete_tables(ai: Any, bi: Any, ci: Any, di: Any, labels: Any, na_action: str) -> tuple[Any, ...]:
    """``(ai, bi, ci, di, labels)`` without the tables that have a missing count when ``na_action="drop"``.

    The dropped tables are named in an :class:`alsmeta.AlsmetaWarning`. With
    ``"raise"`` (or nothing missing, or input of the wrong shape) the inputs
    are returned as given: :func:`alsmeta.effects.two_by_two.tables_2x2`
    then refuses a missing count naming the study and the cell.
    """
    if na_action_arg(na_action) == "raise":
        return ai, bi, ci, di, labels
    cells = align_on_index({"ai": ai, "bi": bi, "ci": ci, "di": di, "labels": labels})
    counts = {n: cells[n] for n in ("ai", "bi", "ci", "di")}
    if any(isinstance(c, (str, bytes)) or np.ndim(c) != 1 for c in counts.values()):
        return ai, bi, ci, di, labels
    k = len(counts["ai"])
    lab = list(cells["labels"]) if cells["labels"] is not None else None
    if any(len(c) != k for c in counts.values()) or (lab is not None and len(lab) != k):
        return ai, bi, ci, di, labels
    numbers = {n: numeric_column(c, n, allow_nan=True) for n, c in counts.items()}
    keep = missing_studies(numbers, lab, "drop")
    if keep is None:
        return ai, bi, ci, di, labels
    kept = [x for x, kp in zip(lab, keep, strict=True) if kp] if lab is not None else None
    return (*(numbers[n][keep] for n in ("ai", "bi", "ci", "di")), kept)


def q_summary(q: float, q_df: int) -> tuple[float, float, float]:
    """p-value, I^2 (percent) and H^2 for a Q statistic, as metafor's rma.mh/rma.peto.

    ``I^2 = max(0, 100 (Q - df) / Q)`` and ``H^2 = Q / df`` (Higgins &
    Thompson 2002); with ``df = 0`` (one study) p = 1, I^2 = 0, H^2 = 1;
    Q = 0 with df > 0 gives I^2 = 0 (metafor: max(0, -Inf) = 0).
    """
    if not np.isfinite(q):
        return float("nan"), float("nan"), float("nan")
    if q_df < 1:
        return 1.0, 0.0, 1.0
    i2 = 0.0 if q == 0 else max(0.0, 100.0 * (q - q_df) / q)
    return float(special.chdtrc(q_df, q)), i2, q / q_df


def wald(estimate: float, se: float, level: float) -> tuple[float, float, float, float]:
    """z statistic, two-sided p-value and Wald CI; NaN statistic and p when se = 0 (as metafor's 0/0)."""
    if not (np.isfinite(estimate) and np.isfinite(se)):
        return (float("nan"),) * 4
    crit = -special.ndtri((1.0 - level) / 2.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = float(np.float64(estimate) / np.float64(se))
    p = float(2.0 * special.ndtr(-abs(z))) if np.isfinite(z) else float("nan")
    return z, p, estimate - crit * se, estimate + crit * se


def _fmt(x: float, digits: int) -> str:
    return "NA" if x is None or not np.isfinite(x) else f"{x:.{digits}f}"


def _format_summary(r: BinaryPooledResult, digits: int, transf: Transform | None) -> str:
    measure = "Peto odds ratio" if r.method == "Peto" else MEASURE_NAMES[r.measure]
    lines = [f"Common-effect model, {METHOD_TITLES[r.method]} method, {measure} (k = {r.k})", ""]
    if r.is_empty:
        lines += [
            "No studies available: no study met the criteria for this analysis, so there is",
            "nothing to pool. Every statistic is undefined (NaN); this is a result, not an error.",
        ]
        return "\n".join(lines)
    lines += [
        f"I^2 (total heterogeneity / total variability):  {_fmt(r.i2, 2)}%",
        f"H^2 (total variability / sampling variability): {_fmt(r.h2, 2)}",
        "",
        "Test for Heterogeneity:",
        f"Q(df = {r.q_df}) = {_fmt(r.q, digits)}, p-val {p_phrase(r.q_pvalue, digits)}",
    ]
    scale = " (log scale)" if r.is_log_scale else ""
    lines += ["", f"Model Results{scale}:", ""]
    lines += text_table(
        ["estimate", "se", "zval", "pval", "ci.lb", "ci.ub"],
        [
            [
                _fmt(r.estimate, digits),
                _fmt(r.se, digits),
                _fmt(r.statistic, digits),
                fmt_pvalue(r.pvalue, digits),
                _fmt(r.ci_low, digits),
                _fmt(r.ci_high, digits),
            ]
        ],
    )
    if transf is not None:
        back = [float(np.asarray(transf(np.array([x], dtype=float)))[0]) for x in (r.estimate, r.ci_low, r.ci_high)]
        name = f"{r.measure} scale" if r.is_log_scale else "transformed"
        lines += ["", f"Model Results ({name}):", ""]
        lines += text_table(["estimate", "ci.lb", "ci.ub"], [[_fmt(x, digits) for x in back]])
    if r.method == "MH" and r.measure == "OR":
        lines += [
            "",
            f"Cochran-Mantel-Haenszel Test:    CMH = {_fmt(r.cmh, digits)}, df = 1, "
            f"p-val {p_phrase(r.cmh_pvalue, digits)}",
            f"Tarone's Test for Heterogeneity: X^2 = {_fmt(r.tarone, digits)}, df = {r.bd_df}, "
            f"p-val {p_phrase(r.tarone_pvalue, digits)}",
            f"Breslow-Day Test:                X^2 = {_fmt(r.breslow_day, digits)}, df = {r.bd_df}, "
            f"p-val {p_phrase(r.breslow_day_pvalue, digits)}",
        ]
    lines += [
        "",
        f"{100 * r.level:g}% CI; zero cells: add = {r.add[0]:g}/{r.add[1]:g}, to = {r.to[0]}/{r.to[1]}, "
        f"drop00 = {r.drop00[0]}/{r.drop00[1]} (study effects/pooled sums)",
    ]
    lines += r._notes_lines()
    return "\n".join(lines)


@dataclass(frozen=True)
class Heterogeneity:
    """Cochran's Q of the study effects with its df and p-value, and I^2 (percent) and H^2."""

    q: float
    q_df: int
    q_pvalue: float
    i2: float
    h2: float


def tables_result(
    method: str,
    measure: str,
    level: float,
    tables: Tables2x2,
    *,
    yi: npt.NDArray[np.float64],
    vi: npt.NDArray[np.float64],
    weights: npt.NDArray[np.float64],
    in_pool: npt.NDArray[np.bool_],
    estimate: float,
    se: float,
    heterogeneity: Heterogeneity,
    tests: OddsRatioTests,
    rules: ZeroCellFields,
    correct: bool,
    notes: list[str],
) -> BinaryPooledResult:
    """The :class:`BinaryPooledResult` of a pooled ``estimate`` (SE ``se``) over ``tables``, with its Wald test and CI.

    ``yi``, ``vi`` are the individual study effects (NaN where undefined), ``in_pool`` marks the tables in
    the pooled sums and ``weights`` their percentage weights.
    """
    statistic, pvalue, ci_low, ci_high = wald(estimate, se, level)
    in_q = np.isfinite(yi)
    return BinaryPooledResult(
        method=method,
        measure=measure,
        level=level,
        labels=tables.labels,
        ai=tables.ai,
        bi=tables.bi,
        ci=tables.ci,
        di=tables.di,
        yi=yi,
        vi=vi,
        weights=weights,
        in_pool=in_pool,
        in_q=in_q,
        k=int(in_pool.sum()),
        k_yi=int(in_q.sum()),
        estimate=estimate,
        se=se,
        statistic=statistic,
        pvalue=pvalue,
        ci_low=ci_low,
        ci_high=ci_high,
        **asdict(heterogeneity),
        **asdict(tests),
        correct=correct,
        notes=tuple(notes),
        **rules,
    )


def empty_result(
    method: str,
    measure: str,
    level: float,
    add: tuple[float, float],
    to: tuple[str, str],
    drop00: tuple[bool, bool],
    correct: bool,
) -> BinaryPooledResult:
    """The defined result for k = 0: every statistic NaN, ``is_empty`` True, a note saying so."""
    nan = float("nan")
    none = np.zeros(0)
    return BinaryPooledResult(
        method=method,
        measure=measure,
        level=level,
        labels=(),
        ai=none,
        bi=none,
        ci=none,
        di=none,
        yi=none,
        vi=none,
        weights=none,
        in_pool=np.zeros(0, dtype=bool),
        in_q=np.zeros(0, dtype=bool),
        k=0,
        k_yi=0,
        estimate=nan,
        se=nan,
        statistic=nan,
        pvalue=nan,
        ci_low=nan,
        ci_high=nan,
        q=nan,
        q_df=0,
        q_pvalue=nan,
        i2=nan,
        h2=nan,
        **asdict(NO_ODDS_RATIO_TESTS),
        add=add,
        to=to,
        drop00=drop00,
        correct=correct,
        notes=("No studies available: nothing to pool (k = 0).",),
    )
