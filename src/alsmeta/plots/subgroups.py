"""Deprecated home of the subgroup analysis of a fit; it computes nothing.

The subgroup analysis drawn by :func:`alsmeta.plots.forest_plot` is
:func:`alsmeta.models.moderators.subgroup_analysis_of` (separate tau^2 per
subgroup, the test for subgroup differences), whose
:class:`~alsmeta.models.moderators.SubgroupResult` carries the per-subgroup
fits. :func:`subgroup_analysis` here only repackages that result under the
old names (``q_df``, ``q_pvalue``) for callers that have not moved yet, with
a :class:`DeprecationWarning`; remove it when none is left.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from alsmeta.models.moderators import subgroup_analysis_of
from alsmeta.models.pooling import PooledResult


@dataclass(frozen=True)
class SubgroupAnalysis:
    """Deprecated view of a :class:`~alsmeta.models.moderators.SubgroupResult`.

    ``q_df`` and ``q_pvalue`` are its ``q_between_df`` and ``q_between_pvalue``.
    """

    names: tuple[str, ...]
    members: tuple[tuple[int, ...], ...]
    fits: tuple[PooledResult, ...]
    q_between: float
    q_df: int
    q_pvalue: float


def subgroup_analysis(fit: PooledResult, groups: Sequence[Any], order: Sequence[str] | None = None) -> SubgroupAnalysis:
    """Deprecated: use :func:`alsmeta.models.moderators.subgroup_analysis_of` (same numbers)."""
    warnings.warn(
        "alsmeta.plots.subgroup_analysis is deprecated: use alsmeta.subgroup_analysis_of(fit, groups, order) "
        "(q_df and q_pvalue are its q_between_df and q_between_pvalue)",
        DeprecationWarning,
        stacklevel=2,
    )
    res = subgroup_analysis_of(fit, groups, "appearance" if order is None else order)
    return SubgroupAnalysis(res.names, res.members, res.fits, res.q_between, res.q_between_df, res.q_between_pvalue)
