"""2x2 tables for the sparse-event methods: validation, zero-cell rules, study effects.

One concept: a set of 2x2 tables given as metafor's cell counts

=========  ==========  =============
           event       no event
=========  ==========  =============
group 1    ``ai``      ``bi``
group 2    ``ci``      ``di``
=========  ==========  =============

and metafor's rules for zero cells (``add``, ``to``, ``drop00``), which
:func:`alsmeta.pool_mh` and :func:`alsmeta.pool_peto` apply twice, as
``rma.mh`` and ``rma.peto`` do: once (first element) for the individual
study effects that are shown and enter Cochran's Q, and once (second
element) for the counts that enter the Mantel-Haenszel or Peto sums.

Decisions (stated here because metafor differs):

* Counts must be whole numbers >= 0. metafor accepts non-integer counts
  without comment; alsmeta refuses them, because the Mantel-Haenszel and
  Peto variances (hypergeometric moments, ``N - 1`` denominators) are
  derived for counts, and a fractional "count" is usually a continuity
  correction applied by hand or a data-entry error. Apply corrections with
  ``add=`` instead.
* A table with no participants at all, or with an empty arm, is refused
  (metafor would add 1/2 to the empty arm and report an effect for a
  comparison that has no patients on one side).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from alsmeta.validation import AlsmetaInputError, numeric_column, study_labels

Array = npt.NDArray[np.float64]
Mask = npt.NDArray[np.bool_]

CELLS = ("ai", "bi", "ci", "di")
TO_RULES = ("only0", "all", "if0all", "none")


@dataclass(frozen=True, eq=False)
class Tables2x2:
    """Validated cell counts of k 2x2 tables (one per study).

    Attributes
    ----------
    ai, bi, ci, di
        Events and non-events in group 1, events and non-events in group 2.
    labels
        One unique label per study.
    """

    ai: Array
    bi: Array
    ci: Array
    di: Array
    labels: tuple[str, ...]

    @property
    def k(self) -> int:
        return len(self.labels)

    @property
    def double_zero(self) -> Mask:
        """Tables with no event in either arm, or with every patient having the event (metafor's ``drop00``)."""
        return ((self.ai == 0) & (self.ci == 0)) | ((self.bi == 0) & (self.di == 0))


@dataclass(frozen=True)
class ZeroCellRule:
    """One stage of metafor's zero-cell handling: add ``add`` to the cells of the tables chosen by ``to``;
    ``drop00`` removes double-zero tables."""

    add: float
    to: str
    drop00: bool


def _one_or_two(value: Any, name: str, second_default: Any) -> tuple[Any, Any]:
    """metafor's convention: a scalar applies to the study effects; a pair gives (study effects, pooled sums)."""
    if isinstance(value, (list, tuple, np.ndarray)):
        items = list(value)
        if len(items) != 2:
            raise AlsmetaInputError(f"{name}: give one value or two (study effects, pooled sums), got {len(items)}")
        return items[0], items[1]
    return value, second_default


def zero_cell_rules(add: Any, to: Any, drop00: Any) -> tuple[ZeroCellRule, ZeroCellRule]:
    """Parse metafor-style ``add``, ``to`` and ``drop00`` (scalars or pairs) into two validated stages.

    A scalar applies to the individual study effects; the pooled sums then
    use metafor's second-stage defaults ``add=0``, ``to="none"``,
    ``drop00=False`` (the raw counts).
    """
    adds = _one_or_two(add, "add", 0.0)
    tos = _one_or_two(to, "to", "none")
    drops = _one_or_two(drop00, "drop00", False)
    stages = []
    for i in range(2):
        a, t, d = adds[i], tos[i], drops[i]
        if isinstance(a, (bool, np.bool_, str, bytes)):
            raise AlsmetaInputError(f"add: {a!r} is not a number")
        try:
            a = float(a)
        except (TypeError, ValueError):
            raise AlsmetaInputError(f"add: {a!r} is not a number") from None
        if not (np.isfinite(a) and a >= 0):
            raise AlsmetaInputError(f"add: must be a finite number >= 0, got {a!r}")
        if t not in TO_RULES:
            raise AlsmetaInputError(f"to: {t!r} is not one of {', '.join(TO_RULES)}")
        if not isinstance(d, (bool, np.bool_)):
            raise AlsmetaInputError(f"drop00: must be True or False, got {d!r}")
        stages.append(ZeroCellRule(add=a, to=str(t), drop00=bool(d)))
    return stages[0], stages[1]


def _counts(values: Any, column: str, names: list[str]) -> Array:
    """One column of counts as floats: a vectorised check for numeric arrays, else the per-entry
    validator (which also produces the message naming the study and the column)."""
    arr = np.asarray(values) if not isinstance(values, (str, bytes)) else None
    if arr is not None and arr.ndim == 1 and arr.dtype.kind in "iuf":
        x = arr.astype(float)
        if np.all(np.isfinite(x)) and np.all(x >= 0) and np.all(x == np.round(x)):
            return x
    return numeric_column(values, column, names, nonnegative=True, integer=True)


def tables_2x2(ai: Any, bi: Any, ci: Any, di: Any, labels: Sequence[Any] | None = None) -> Tables2x2:
    """Validate four columns of cell counts.

    Raises
    ------
    AlsmetaInputError
        Naming the argument (column) and the study: not one-dimensional,
        different lengths, missing/NaN, not a number, negative, not a whole
        number, a table without participants or an arm without participants.
    """
    columns = {"ai": ai, "bi": bi, "ci": ci, "di": di}
    lengths = {}
    for name, col in columns.items():
        if col is None:
            raise AlsmetaInputError(f"{name}: missing; give the four cell counts ai, bi, ci, di")
        if isinstance(col, (str, bytes)) or np.ndim(col) != 1:
            raise AlsmetaInputError(f"{name}: expected a one-dimensional sequence with one count per study")
        lengths[name] = len(col)
    if len(set(lengths.values())) > 1:
        detail = ", ".join(f"{n} has {m}" for n, m in lengths.items())
        raise AlsmetaInputError(f"ai, bi, ci, di must have one value per study each: {detail}")
    k = lengths["ai"]
    names = study_labels(labels, k)
    counts = {name: _counts(col, name, names) for name, col in columns.items()}
    a, b, c, d = (counts[n] for n in CELLS)
    empty = (a + b == 0) | (c + d == 0)
    for i in np.flatnonzero(empty):
        lab = names[i]
        if a[i] + b[i] + c[i] + d[i] == 0:
            raise AlsmetaInputError(
                f"study {lab!r}, columns 'ai', 'bi', 'ci', 'di': all four cells are 0 (a table without participants)"
            )
        if a[i] + b[i] == 0:
            raise AlsmetaInputError(f"study {lab!r}, columns 'ai', 'bi': group 1 has no participants (ai + bi = 0)")
        if c[i] + d[i] == 0:
            raise AlsmetaInputError(f"study {lab!r}, columns 'ci', 'di': group 2 has no participants (ci + di = 0)")
    return Tables2x2(ai=a, bi=b, ci=c, di=d, labels=tuple(names))


def apply_rule(t: Tables2x2, rule: ZeroCellRule) -> tuple[Array, Array, Array, Array, Mask, Mask]:
    """Apply one zero-cell stage, as metafor ``escalc``/``rma.mh`` do.

    Returns
    -------
    ai, bi, ci, di
        Corrected counts (NaN for dropped tables).
    dropped
        Tables removed because ``drop00`` is set and they are double-zero.
    corrected
        Tables that received ``add`` in every cell.

    Notes
    -----
    ``to="only0"`` corrects tables with a zero cell, ``"all"`` every table,
    ``"if0all"`` every table if any table has a zero cell; dropped tables
    never count (metafor sets them to NA first).
    """
    dropped = t.double_zero & rule.drop00
    has_zero = ((t.ai == 0) | (t.bi == 0) | (t.ci == 0) | (t.di == 0)) & ~dropped
    if rule.to == "none" or rule.add == 0:
        corrected = np.zeros(t.k, dtype=bool)
    elif rule.to == "only0":
        corrected = has_zero
    elif rule.to == "all":
        corrected = ~dropped
    else:  # if0all
        corrected = ~dropped if bool(has_zero.any()) else np.zeros(t.k, dtype=bool)
    cells = []
    for x in (t.ai, t.bi, t.ci, t.di):
        y = x + rule.add * corrected
        y[dropped] = np.nan
        cells.append(y)
    return cells[0], cells[1], cells[2], cells[3], dropped, corrected


def study_effects(measure: str, ai: Array, bi: Array, ci: Array, di: Array) -> tuple[Array, Array]:
    """Individual study effects and sampling variances (metafor ``escalc``), NaN where undefined.

    * ``"OR"``: ``ln(a d / (b c))``, ``v = 1/a + 1/b + 1/c + 1/d`` (Woolf 1955).
    * ``"RR"``: ``ln((a/n1) / (c/n2))``, ``v = 1/a - 1/n1 + 1/c - 1/n2``.
    * ``"RD"``: ``a/n1 - c/n2``, ``v = p1(1-p1)/n1 + p2(1-p2)/n2`` (metafor's
      default ``vtype="LS"``).
    * ``"PETO"``: ``(a - E)/V``, ``v = 1/V`` with ``E = n1 (a+c)/N`` and
      ``V = (a+c)(b+d) n1 n2 / (N^2 (N-1))`` (Yusuf et al. 1985).

    An effect that is infinite or has a non-positive or infinite variance
    (a zero cell without correction) is returned as NaN and so left out of
    Q, as metafor's escalc/rma.mh do (``yi`` NA, "Some yi/vi values are
    NA."); the result's notes name the study.
    """
    n1, n2 = ai + bi, ci + di
    n = n1 + n2
    with np.errstate(divide="ignore", invalid="ignore"):
        if measure == "OR":
            yi = np.log(ai / bi) - np.log(ci / di)
            vi = 1 / ai + 1 / bi + 1 / ci + 1 / di
        elif measure == "RR":
            yi = np.log(ai / n1) - np.log(ci / n2)
            vi = 1 / ai - 1 / n1 + 1 / ci - 1 / n2
        elif measure == "RD":
            p1, p2 = ai / n1, ci / n2
            yi = p1 - p2
            vi = p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2
        elif measure == "PETO":
            xt, yt = ai + ci, bi + di
            expected = xt * n1 / n
            hyper_var = xt * yt * (n1 / n) * (n2 / n) / (n - 1)
            yi = (ai - expected) / hyper_var
            vi = 1 / hyper_var
        else:  # pragma: no cover - callers validate the measure
            raise AlsmetaInputError(f"measure: {measure!r} is not one of OR, RR, RD, PETO")
    undefined = ~(np.isfinite(yi) & np.isfinite(vi) & (vi > 0))
    yi = np.where(undefined, np.nan, yi)
    vi = np.where(undefined, np.nan, vi)
    return yi, vi


def zero_cell_notes(
    t: Tables2x2,
    effect_rule: ZeroCellRule,
    pool_rule: ZeroCellRule,
    corrected_effects: Mask,
    corrected_pool: Mask,
    undefined_effects: Mask,
) -> list[str]:
    """Plain statements of what the zero-cell rules did to which study (for ``notes``)."""
    labels = np.asarray(t.labels)
    notes: list[str] = []
    dz = t.double_zero
    if dz.any():
        names = ", ".join(labels[dz])
        where_pool = (
            "left out of the pooled sums (drop00 for the pooled sums is True)"
            if pool_rule.drop00
            else "kept in the pooled sums, where a table without events (or without non-events) in both arms "
            "contributes nothing"
        )
        where_q = (
            "left out of the individual effects and of Q (drop00=True)"
            if effect_rule.drop00
            else f"given individual effects with add={effect_rule.add:g} (drop00=False), so they enter Q"
        )
        notes.append(
            f"No events in either arm (or events in every patient of both arms): {names}; {where_pool}; {where_q}."
        )
    if corrected_effects.any():
        notes.append(
            f"{effect_rule.add:g} added to every cell of {', '.join(labels[corrected_effects])} for the individual "
            f"effects (to={effect_rule.to!r})."
        )
    if corrected_pool.any():
        notes.append(
            f"{pool_rule.add:g} added to every cell of {', '.join(labels[corrected_pool])} in the pooled sums "
            f"(to={pool_rule.to!r}); by default the pooled estimate uses the raw counts."
        )
    if undefined_effects.any():
        notes.append(
            f"Individual effect undefined (a zero cell without continuity correction) for "
            f"{', '.join(labels[undefined_effects])}: left out of Q (as metafor)."
        )
    return notes
