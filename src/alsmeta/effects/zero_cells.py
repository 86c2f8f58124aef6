"""metafor's continuity correction for counts (``add``, ``to``, ``drop00``) in ``escalc``.

One rule for every count-based measure: proportions (cells ``xi`` and
``mi = ni - xi``), incidence rates (``xi``; ``x1i`` and ``x2i``) and 2x2
tables (``ai``, ``bi``, ``ci``, ``di``). ``add`` is added to *every* count
cell of a study chosen by ``to``:

* ``"only0"`` (metafor's default): studies with a zero cell;
* ``"all"``: every study;
* ``"if0all"``: every study, if any study has a zero cell;
* ``"none"``: no study.

``drop00=True`` (two-group measures only) sets the effects of studies with no
events in either group, or (2x2 tables) events in every patient of both
groups, to NaN instead of correcting them; dropped studies never count as
having a zero cell. metafor's default ``add`` is 1/2, except for the
arcsine-type measures (``PAS``, ``PFT``, ``AS``, ...), where it is 0.

References
----------
Viechtbauer W (2010). Conducting meta-analyses in R with the metafor
package. Journal of Statistical Software 36(3):1-48. doi:10.18637/jss.v036.i03
(``escalc``, arguments ``add``, ``to``, ``drop00``).
Sweeting MJ, Sutton AJ, Lambert PC (2004). What to add to nothing? Use and
avoidance of continuity corrections in meta-analysis of sparse data.
Statistics in Medicine 23:1351-1375. doi:10.1002/sim.1761
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from alsmeta.effects.two_by_two import TO_RULES, ZeroCellRule
from alsmeta.validation import AlsmetaInputError, choice, flag, nonnegative_number

Array = npt.NDArray[np.float64]
Mask = npt.NDArray[np.bool_]


def zero_cell_rule(
    add: Any, to: Any, drop00: Any, *, default_add: float = 0.5, drop00_allowed: bool = True
) -> ZeroCellRule:
    """Validate ``add`` (None = ``default_add``), ``to`` and ``drop00`` into one :class:`ZeroCellRule`."""
    value = default_add if add is None else nonnegative_number(add, "add")
    rule = choice(to, "to", TO_RULES)
    drop = flag(drop00, "drop00")
    if drop and not drop00_allowed:
        raise AlsmetaInputError("drop00: applies only to measures comparing two groups")
    return ZeroCellRule(add=value, to=rule, drop00=drop)


def add_to_zero_cells(cells: Sequence[Array], rule: ZeroCellRule, dropped: Mask) -> tuple[list[Array], Mask]:
    """Apply ``rule`` to the count cells of each study; returns the corrected cells and which studies got ``add``."""
    k = len(cells[0])
    has_zero = np.logical_or.reduce([c == 0 for c in cells]) & ~dropped
    if rule.to == "none" or rule.add == 0:
        corrected = np.zeros(k, dtype=bool)
    elif rule.to == "only0":
        corrected = has_zero
    elif rule.to == "all":
        corrected = ~dropped
    else:  # if0all
        corrected = ~dropped if bool(has_zero.any()) else np.zeros(k, dtype=bool)
    return [c + rule.add * corrected for c in cells], corrected


def correction_notes(labels: Sequence[str], rule: ZeroCellRule, corrected: Mask, dropped: Mask) -> list[str]:
    """Say which studies were corrected or dropped (for :attr:`EffectSizes.notes`)."""
    if not (dropped.any() or corrected.any()):
        return []
    names = np.asarray(labels, dtype=object)
    notes = []
    if dropped.any():
        notes.append(
            "excluded on request (drop00=True; yi and vi are NaN) because no group has an event, or "
            f"every patient has one: {', '.join(names[dropped])}"
        )
    if corrected.any():
        notes.append(f"{rule.add:g} added to every count of (to={rule.to!r}): {', '.join(names[corrected])}")
    return notes
