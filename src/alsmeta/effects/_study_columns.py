"""Study-level columns under metafor's argument names, and the last check of every measure.

Shared by the measure modules behind :func:`alsmeta.effects.escalc.effect_sizes`
(proportions, rates, correlations, variability, single means, SMDH, 2x2
tables): each validates its columns with these helpers, so an error names
metafor's argument (``"xi"``, ``"sd1i"``, ...) and the study.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from alsmeta.effects.conversions import _column, _fail_where, _sample_size, _study_table
from alsmeta.effects.measures import EffectSizes

Array = npt.NDArray[np.float64]
Mask = npt.NDArray[np.bool_]

SD_NEEDS_TWO = "an SD needs at least two patients"
NO_CORRECTION_HINT = "; a zero count without continuity correction (add=0 or to='none') gives this: use add > 0"


def study_labels_for(labels: Sequence[Any] | None, columns: dict[str, Any]) -> list[str]:
    """The study labels, after checking that every given column has one value per study."""
    return _study_table(labels, columns)


def counts(values: Any, name: str, labels: list[str]) -> Array:
    """Event counts: whole numbers >= 0."""
    return _column(values, name, labels, integer=True, nonnegative=True)


def group_sizes(values: Any, name: str, labels: list[str], minimum: int = 1, why: str = "") -> Array:
    """Whole-number sample sizes of at least ``minimum``."""
    return _sample_size(values, name, labels, minimum, why or "a group needs a patient")


def events_within(events: Array, totals: Array, labels: list[str], names: tuple[str, str]) -> None:
    """Refuse more events than patients, naming the study."""
    _fail_where(
        events > totals,
        labels,
        names[0],
        lambda i: f"{events[i]:g} events but {names[1]} = {totals[i]:g}",
    )


def two_groups(
    columns: dict[str, Any],
    labels: Sequence[Any] | None,
    *,
    means: bool = True,
    positive_means: bool = False,
    min_n: int = 2,
) -> tuple[list[str], dict[str, Array]]:
    """Validate two groups' ``m1i``, ``sd1i``, ``n1i``, ``m2i``, ``sd2i``, ``n2i`` (means optional).

    SDs must be > 0 and group sizes whole numbers >= ``min_n`` (an SD needs
    two patients); with ``positive_means`` the means must be > 0 (ratios of
    means, coefficients of variation).
    """
    names = ("m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i") if means else ("sd1i", "n1i", "sd2i", "n2i")
    given = {name: columns.get(name) for name in names}
    labs = study_labels_for(labels, given)
    out: dict[str, Array] = {}
    for name in names:
        if name.startswith("m"):
            out[name] = _column(given[name], name, labs, positive=positive_means)
        elif name.startswith("sd"):
            out[name] = _column(given[name], name, labs, positive=True)
        else:
            out[name] = group_sizes(given[name], name, labs, min_n, SD_NEEDS_TWO)
    return labs, out


def checked_effect_sizes(
    measure: str,
    yi: Array,
    vi: Array,
    labels: list[str],
    *,
    column: str,
    describe: Callable[[int], str],
    hint: str = "",
    notes: Sequence[str] = (),
    dropped: Mask | None = None,
) -> EffectSizes:
    """Wrap up one measure: refuse undefined effects and unusable variances, naming the study.

    metafor's ``escalc`` turns an infinite or undefined ``yi``/``vi`` into NA
    (with a warning) and keeps a zero variance; alsmeta raises instead,
    naming the study, the argument ``column`` and what the data were
    (``describe(i)``), because such a study cannot be weighted in a
    meta-analysis. Studies in ``dropped`` (``drop00=True``) are returned as
    NaN, as metafor does, and listed in ``notes`` by the caller.
    """
    keep = np.ones(len(labels), dtype=bool) if dropped is None else ~dropped
    with np.errstate(invalid="ignore"):
        usable = np.isfinite(yi) & np.isfinite(vi) & (vi > 0)
    _fail_where(
        keep & ~usable,
        labels,
        column,
        lambda i: (
            f"{measure} is undefined or has no positive finite sampling variance for {describe(i)}"
            f" (yi = {yi[i]:g}, vi = {vi[i]:g}){hint}"
        ),
    )
    if dropped is not None and dropped.any():
        yi = np.where(keep, yi, np.nan)
        vi = np.where(keep, vi, np.nan)
    return EffectSizes(yi, vi, labels, measure, tuple(notes))
