"""Checking published claims against reconstructed evidence.

Two small, auditable tools used by ``analyses/msc2021_reconstruction.py``:

* :func:`cohort_sums` - which selections of candidate study cohorts add up to
  a published patient count (e.g. "MSC n = 152"). Reports of the same
  patients are grouped so that a selection never counts a cohort twice,
  unless asked to (to show what double counting would take).
* :func:`direction_verdict` and :func:`overall_verdict` - the rule that turns
  an interval estimate into one of three verdicts, ``"reproduced"``,
  ``"contradicted"`` or ``"not assessable"``, with the reason spelled out.

The verdict rule is deliberately simple and stated in one place:

* no usable number (k = 0) -> ``not assessable``;
* the confidence interval excludes "no effect" in the claimed direction ->
  ``reproduced``;
* it excludes "no effect" in the opposite direction -> ``contradicted``;
* otherwise (the interval contains no effect) -> ``not assessable``: the
  evidence is compatible with the claim and with its negation.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from alsmeta.validation import AlsmetaInputError

REPRODUCED = "reproduced"
CONTRADICTED = "contradicted"
NOT_ASSESSABLE = "not assessable"
VERDICTS = (REPRODUCED, CONTRADICTED, NOT_ASSESSABLE)
DIRECTIONS = ("increase", "decrease")

__all__ = [
    "CONTRADICTED",
    "Cohort",
    "NOT_ASSESSABLE",
    "REPRODUCED",
    "VERDICTS",
    "Selection",
    "cohort_sums",
    "direction_verdict",
    "max_disjoint_total",
    "overall_verdict",
    "sums_by_size_choice",
]


@dataclass(frozen=True)
class Cohort:
    """One report of a group of treated patients.

    Attributes
    ----------
    report : str
        Identifier of the report (a ``study_id``).
    sizes : tuple of int
        The patient counts the report supports (e.g. ``(26, 23)`` for 26
        treated, 23 analysed); a selection uses exactly one of them.
    patients : str or tuple of str
        The group(s) of patients the report describes. Reports whose groups
        intersect describe (some of) the same patients, and a selection
        without double counting never takes two of them (a pooled follow-up
        of two trials names both trials' groups). Defaults to ``report``.
    """

    report: str
    sizes: tuple[int, ...]
    patients: str | tuple[str, ...] = ""

    def __post_init__(self) -> None:
        if not self.sizes:
            raise AlsmetaInputError(f"cohort {self.report!r}: give at least one patient count")
        for n in self.sizes:
            if isinstance(n, bool) or int(n) != n or n < 0:
                raise AlsmetaInputError(f"cohort {self.report!r}, column 'sizes': {n!r} is not a whole number >= 0")
        groups = (self.patients,) if isinstance(self.patients, str) else tuple(self.patients)
        groups = tuple(g for g in groups if g) or (self.report,)
        object.__setattr__(self, "patients", groups)


Selection = tuple[tuple[str, int], ...]


def _selections(cohorts: Sequence[Cohort], allow_overlap: bool) -> Iterable[Selection]:
    seen: set[str] = set()
    for c in cohorts:
        if c.report in seen:
            raise AlsmetaInputError(f"cohort {c.report!r}: duplicate report identifier")
        seen.add(c.report)
    options = [((None, 0),) + tuple((c.report, int(n)) for n in sorted(set(c.sizes))) for c in cohorts]
    groups = {c.report: c.patients for c in cohorts}
    for combo in itertools.product(*options):
        chosen = tuple(x for x in combo if x[0] is not None)
        if not chosen:
            continue
        if not allow_overlap:
            used = [g for r, _ in chosen for g in groups[r]]
            if len(used) != len(set(used)):
                continue
        yield chosen


def cohort_sums(cohorts: Sequence[Cohort], target: int, *, allow_overlap: bool = False) -> list[Selection]:
    """Every selection of cohorts whose patient counts add up to ``target``.

    Parameters
    ----------
    cohorts : sequence of Cohort
        The candidates (report identifiers must be unique).
    target : int
        The published count.
    allow_overlap : bool
        If False (default) no two reports of intersecting patient groups are
        combined, i.e. no patient is counted twice. If True any subset of
        reports is allowed (shows what double counting would take).

    Returns
    -------
    list of tuple of (report, size)
        Each selection as ``((report, size), ...)`` in the order of
        ``cohorts``; the list is in a deterministic order. An empty list
        means the count cannot be matched.
    """
    if isinstance(target, bool) or int(target) != target or target < 0:
        raise AlsmetaInputError(f"target: {target!r} is not a whole number >= 0")
    return [sel for sel in _selections(cohorts, allow_overlap) if sum(n for _, n in sel) == target]


def sums_by_size_choice(
    cohorts: Sequence[Cohort], target: int, *, allow_overlap: bool = False
) -> list[tuple[dict[str, int], int]]:
    """How many selections reach ``target`` under each fixed choice of the reports' alternative sizes.

    :func:`cohort_sums` lets each report enter with any of its sizes (e.g.
    Sykova 2017 with 26 treated *or* 23 analysed), so its count mixes the
    alternatives. This function fixes one size per report that has several
    and counts the selections for each such choice, so a reader sees how the
    count depends on which n is taken.

    Returns
    -------
    list of (choice, count)
        ``choice`` maps each report with more than one size to the size used;
        one entry per combination, in the order of ``cohorts`` and of the
        sizes (ascending). Reports with one size always use it.
    """
    multi = [c for c in cohorts if len(set(c.sizes)) > 1]
    out: list[tuple[dict[str, int], int]] = []
    for combo in itertools.product(*(sorted(set(c.sizes)) for c in multi)):
        choice = {c.report: int(n) for c, n in zip(multi, combo, strict=True)}
        fixed = [Cohort(c.report, (choice[c.report],) if c.report in choice else c.sizes, c.patients) for c in cohorts]
        out.append((choice, len(cohort_sums(fixed, target, allow_overlap=allow_overlap))))
    return out


def max_disjoint_total(cohorts: Sequence[Cohort]) -> tuple[int, Selection]:
    """The largest total reachable without counting any patient twice, and the first selection reaching it."""
    best: tuple[int, Selection] = (0, ())
    for sel in _selections(cohorts, allow_overlap=False):
        total = sum(n for _, n in sel)
        if total > best[0]:
            best = (total, sel)
    return best


def direction_verdict(
    estimate: float, ci_low: float, ci_high: float, k: int, claimed: str, null: float = 0.0
) -> tuple[str, str]:
    """Verdict on a claimed direction of effect from an interval estimate.

    Parameters
    ----------
    estimate, ci_low, ci_high : float
        The reconstructed estimate and its confidence (or credible) interval.
    k : int
        Number of studies behind it (0: nothing to assess).
    claimed : {"increase", "decrease"}
        The direction the claim asserts, relative to ``null``.
    null : float
        The value meaning "no effect".

    Returns
    -------
    (verdict, reason)
    """
    if claimed not in DIRECTIONS:
        raise AlsmetaInputError(f"claimed: must be one of {DIRECTIONS}, got {claimed!r}")
    if k == 0 or not all(math.isfinite(x) for x in (estimate, ci_low, ci_high)):
        return NOT_ASSESSABLE, "no usable number (k = 0)"
    if ci_low > ci_high:
        raise AlsmetaInputError(f"ci_low {ci_low!r} exceeds ci_high {ci_high!r}")
    above, below = ci_low > null, ci_high < null
    if (claimed == "increase" and above) or (claimed == "decrease" and below):
        return REPRODUCED, f"the interval [{ci_low:.2f}, {ci_high:.2f}] excludes {null:g} in the claimed direction"
    if (claimed == "increase" and below) or (claimed == "decrease" and above):
        return CONTRADICTED, f"the interval [{ci_low:.2f}, {ci_high:.2f}] excludes {null:g} in the opposite direction"
    return NOT_ASSESSABLE, f"inconclusive: the interval [{ci_low:.2f}, {ci_high:.2f}] contains {null:g}"


def overall_verdict(components: Iterable[tuple[str, bool]]) -> str:
    """Combine component verdicts into the verdict on the whole claim.

    ``components`` are ``(verdict, decisive)`` pairs; only decisive
    components (those resting on primary-source numbers) count. The claim is
    ``contradicted`` if any decisive component is, ``reproduced`` only if
    every decisive component is and there is at least one, and otherwise
    ``not assessable`` (some part of the claim cannot be checked).
    """
    decisive = [v for v, d in components if d]
    for v in decisive:
        if v not in VERDICTS:
            raise AlsmetaInputError(f"verdict {v!r} is not one of {VERDICTS}")
    if CONTRADICTED in decisive:
        return CONTRADICTED
    if decisive and all(v == REPRODUCED for v in decisive):
        return REPRODUCED
    return NOT_ASSESSABLE
