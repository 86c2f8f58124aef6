r"""Incidence rates: one group (metafor's ``IR``, ``IRLN``) and two groups (``IRR``, ``IRD``).

For :math:`x` events over person-time :math:`t` (after any continuity
correction of the event counts, :mod:`alsmeta.effects.zero_cells`) and the
rate :math:`r = x/t`:

========  ==========================================  ======================================
measure   :math:`y_i`                                 :math:`v_i`
========  ==========================================  ======================================
``IR``    :math:`r`                                   :math:`r/t = x/t^2`
``IRLN``  :math:`\ln r`                               :math:`1/x`
``IRR``   :math:`\ln(r_1/r_2)` (log rate ratio)       :math:`1/x_1 + 1/x_2`
``IRD``   :math:`r_1 - r_2` (rate difference)         :math:`r_1/t_1 + r_2/t_2`
========  ==========================================  ======================================

(Poisson variances; Rothman, Greenland & Lash 2008, ch. 14.) Zero events,
as metafor: ``add=1/2`` is added to the event count(s) of each study with a
zero count (``to="only0"``), for ``IR`` and ``IRD`` too, which changes a
zero rate into a positive one; pass ``to="none"`` for the uncorrected rate
(whose variance is then 0, which is refused). Person-time is never
corrected. ``drop00=True`` (two groups) returns NaN for studies with no event
in either group.

References
----------
Rothman KJ, Greenland S, Lash TL (2008). Modern Epidemiology, 3rd ed.,
chapter 14. Lippincott Williams & Wilkins.
Viechtbauer W (2010). Conducting meta-analyses in R with the metafor
package. Journal of Statistical Software 36(3):1-48. doi:10.18637/jss.v036.i03
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from alsmeta.effects._study_columns import NO_CORRECTION_HINT, checked_effect_sizes, counts, study_labels_for
from alsmeta.effects.conversions import _column
from alsmeta.effects.measures import EffectSizes
from alsmeta.effects.zero_cells import add_to_zero_cells, correction_notes, zero_cell_rule
from alsmeta.validation import choice

Array = npt.NDArray[np.float64]

__all__ = ["RATE_MEASURES", "TWO_RATE_MEASURES", "incidence_rate", "incidence_rate_comparison"]

RATE_MEASURES = ("IR", "IRLN")
TWO_RATE_MEASURES = ("IRR", "IRD")


def _person_time(values: Any, name: str, labels: list[str]) -> Array:
    return _column(values, name, labels, positive=True)


def incidence_rate(
    measure: str,
    xi: Any,
    ti: Any,
    *,
    add: float | None = None,
    to: str = "only0",
    labels: Sequence[Any] | None = None,
) -> EffectSizes:
    """Incidence rate (``IR``) or log incidence rate (``IRLN``) of one group, as metafor's ``escalc``.

    Parameters
    ----------
    measure : {"IR", "IRLN"}
    xi : array_like
        Events (whole numbers >= 0).
    ti : array_like
        Person-time at risk (> 0), in the unit the rate is to be expressed in.
    add : float, optional
        Continuity correction for zero counts (default 1/2, as metafor).
    to : {"only0", "all", "if0all", "none"}
    labels : sequence, optional

    Returns
    -------
    EffectSizes

    Raises
    ------
    AlsmetaInputError
        Naming the study and argument: bad counts or person-times, or a rate
        with zero variance / an undefined log rate without a correction.
    """
    measure = choice(measure, "measure", RATE_MEASURES)
    rule = zero_cell_rule(add, to, False, drop00_allowed=False)
    labs = study_labels_for(labels, {"xi": xi, "ti": ti})
    x = counts(xi, "xi", labs)
    t = _person_time(ti, "ti", labs)
    none_dropped = np.zeros(len(labs), dtype=bool)
    (x,), corrected = add_to_zero_cells([x], rule, none_dropped)
    rate = x / t
    with np.errstate(divide="ignore"):
        yi, vi = (rate, rate / t) if measure == "IR" else (np.log(rate), 1 / x)
    return checked_effect_sizes(
        measure,
        yi,
        vi,
        labs,
        column="xi",
        describe=lambda i: f"{x[i]:g} events over {t[i]:g}",
        hint=NO_CORRECTION_HINT if rule.add == 0 or rule.to == "none" else "",
        notes=correction_notes(labs, rule, corrected, none_dropped),
    )


def incidence_rate_comparison(
    measure: str,
    x1i: Any,
    t1i: Any,
    x2i: Any,
    t2i: Any,
    *,
    add: float | None = None,
    to: str = "only0",
    drop00: bool = False,
    labels: Sequence[Any] | None = None,
) -> EffectSizes:
    """Log incidence rate ratio (``IRR``) or rate difference (``IRD``) of group 1 against group 2.

    Parameters
    ----------
    measure : {"IRR", "IRD"}
    x1i, t1i : array_like
        Events (whole numbers >= 0) and person-time (> 0) in group 1 (treatment).
    x2i, t2i : array_like
        The same for group 2 (control).
    add : float, optional
        Continuity correction added to both counts of a study with a zero
        count (default 1/2, as metafor).
    to : {"only0", "all", "if0all", "none"}
    drop00 : bool
        NaN (with a note) for studies with no event in either group, instead
        of correcting them.
    labels : sequence, optional

    Returns
    -------
    EffectSizes
        ``notes`` names the corrected and dropped studies.
    """
    measure = choice(measure, "measure", TWO_RATE_MEASURES)
    rule = zero_cell_rule(add, to, drop00)
    labs = study_labels_for(labels, {"x1i": x1i, "t1i": t1i, "x2i": x2i, "t2i": t2i})
    x1, x2 = counts(x1i, "x1i", labs), counts(x2i, "x2i", labs)
    t1, t2 = _person_time(t1i, "t1i", labs), _person_time(t2i, "t2i", labs)
    dropped = (x1 == 0) & (x2 == 0) & rule.drop00
    (x1, x2), corrected = add_to_zero_cells([x1, x2], rule, dropped)
    r1, r2 = x1 / t1, x2 / t2
    with np.errstate(divide="ignore", invalid="ignore"):
        if measure == "IRR":
            yi, vi = np.log(r1) - np.log(r2), 1 / x1 + 1 / x2
        else:
            yi, vi = r1 - r2, r1 / t1 + r2 / t2
    return checked_effect_sizes(
        measure,
        yi,
        vi,
        labs,
        column="x1i",
        describe=lambda i: f"{x1[i]:g} events over {t1[i]:g} vs {x2[i]:g} over {t2[i]:g}",
        hint=NO_CORRECTION_HINT if rule.add == 0 or rule.to == "none" else "",
        notes=correction_notes(labs, rule, corrected, dropped),
        dropped=dropped,
    )
