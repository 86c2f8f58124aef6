r"""Effect sizes of 2x2 tables given as metafor's cells: ``OR``, ``RR``, ``RD`` and Peto's log odds ratio ``PETO``.

The tables are ``ai``/``bi`` (events/non-events in group 1) and ``ci``/``di``
(group 2), or ``ai``, ``n1i``, ``ci``, ``n2i`` with the group sizes, as in
metafor's ``escalc``. Formulas (after any continuity correction, see
:mod:`alsmeta.effects.zero_cells`) are those of
:func:`alsmeta.effects.two_by_two.study_effects`; Peto's one-step log odds
ratio (Yusuf et al. 1985) is

.. math::

    y_i = \frac{a_i - E_i}{V_i}, \quad v_i = \frac{1}{V_i}, \quad
    E_i = \frac{n_{1i}(a_i + c_i)}{N_i}, \quad
    V_i = \frac{(a_i + c_i)(b_i + d_i)\,n_{1i} n_{2i}}{N_i^2 (N_i - 1)},

which, unlike the Woolf log odds ratio, is defined with a single zero cell.
Zero cells, as metafor's ``escalc`` (for ``PETO`` too): ``add=1/2`` is added
to all four cells of a table with a zero cell (``to="only0"``); a table
without events in either group (or with events in every patient) is kept
with that correction unless ``drop00=True``. The pooled estimates
:func:`alsmeta.pool_mh` and :func:`alsmeta.pool_peto` use the raw counts.

References
----------
Yusuf S, Peto R, Lewis J, Collins R, Sleight P (1985). Beta blockade during
and after myocardial infarction: an overview of the randomized trials.
Progress in Cardiovascular Diseases 27:335-371. doi:10.1016/S0033-0620(85)80003-7
Woolf B (1955). On estimating the relation between blood group and disease.
Annals of Human Genetics 19:251-253. doi:10.1111/j.1469-1809.1955.tb01348.x
Cochrane Handbook for Systematic Reviews of Interventions, sections 6.4.1 and 10.4.4.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from alsmeta.effects._study_columns import (
    NO_CORRECTION_HINT,
    checked_effect_sizes,
    counts,
    events_within,
    group_sizes,
    study_labels_for,
)
from alsmeta.effects.measures import EffectSizes
from alsmeta.effects.two_by_two import study_effects, tables_2x2
from alsmeta.effects.zero_cells import add_to_zero_cells, correction_notes, zero_cell_rule
from alsmeta.validation import AlsmetaInputError, choice

__all__ = ["TABLE_MEASURES", "table_effects"]

TABLE_MEASURES = ("OR", "RR", "RD", "PETO")


def _other_cell(events: Any, complement: Any, total: Any, names: tuple[str, str, str], labels: list[str]) -> Any:
    """``bi`` from ``bi`` or ``n1i - ai`` (``di`` likewise); both given must agree, as metafor requires."""
    event_name, complement_name, total_name = names
    if total is None:
        if complement is None:
            raise AlsmetaInputError(f"{complement_name}: required, or give the group size {total_name}")
        return complement
    a = counts(events, event_name, labels)
    n = group_sizes(total, total_name, labels)
    events_within(a, n, labels, (event_name, total_name))
    if complement is not None:
        b = counts(complement, complement_name, labels)
        bad = a + b != n
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise AlsmetaInputError(
                f"study {labels[i]!r}, column {total_name!r}: {n[i]:g} is not "
                f"{event_name} + {complement_name} = {a[i] + b[i]:g}"
            )
    return n - a


def table_effects(
    measure: str,
    ai: Any,
    ci: Any,
    *,
    bi: Any = None,
    di: Any = None,
    n1i: Any = None,
    n2i: Any = None,
    add: float | None = None,
    to: str = "only0",
    drop00: bool = False,
    labels: Sequence[Any] | None = None,
) -> EffectSizes:
    """Log odds ratio, log risk ratio, risk difference or Peto's log odds ratio of 2x2 tables.

    Parameters
    ----------
    measure : {"OR", "RR", "RD", "PETO"}
    ai, ci : array_like
        Events in group 1 (treatment) and group 2 (control), whole numbers >= 0.
    bi, di : array_like, optional
        Patients without the event in each group; or give ``n1i``, ``n2i``.
    n1i, n2i : array_like, optional
        Group sizes, instead of (or consistent with) ``bi``, ``di``.
    add : float, optional
        Continuity correction added to all four cells (default 1/2, as metafor).
    to : {"only0", "all", "if0all", "none"}
    drop00 : bool
        NaN (with a note) for tables with no event in either group, or an
        event in every patient, instead of correcting them.
    labels : sequence, optional

    Returns
    -------
    EffectSizes
        Log scale for OR, RR and PETO (back-transform with ``exp``);
        ``notes`` names the corrected and dropped studies.

    Raises
    ------
    AlsmetaInputError
        Naming the study and argument: counts that are not whole numbers >= 0,
        more events than patients, a group without patients, ``n1i`` not
        ``ai + bi``, or an effect that is undefined without a correction.
    """
    measure = choice(measure, "measure", TABLE_MEASURES)
    rule = zero_cell_rule(add, to, drop00)
    labs = study_labels_for(labels, {"ai": ai, "bi": bi, "ci": ci, "di": di, "n1i": n1i, "n2i": n2i})
    bi = _other_cell(ai, bi, n1i, ("ai", "bi", "n1i"), labs)
    di = _other_cell(ci, di, n2i, ("ci", "di", "n2i"), labs)
    tables = tables_2x2(ai, bi, ci, di, labels=labs)
    dropped = tables.double_zero & rule.drop00
    cells, corrected = add_to_zero_cells([tables.ai, tables.bi, tables.ci, tables.di], rule, dropped)
    a, b, c, d = cells
    yi, vi = study_effects(measure, a, b, c, d)
    return checked_effect_sizes(
        measure,
        yi,
        vi,
        labs,
        column="ai",
        describe=lambda i: f"the table ai={a[i]:g}, bi={b[i]:g}, ci={c[i]:g}, di={d[i]:g}",
        hint=NO_CORRECTION_HINT if rule.add == 0 or rule.to == "none" else "",
        notes=correction_notes(labs, rule, corrected, dropped),
        dropped=dropped,
    )
