"""Subgroup fits and the test for subgroup differences shown in forest plots.

Each subgroup is pooled on its own, with the model of the overall fit
(estimator, test, level) and therefore its own tau^2 - the "separate
tau^2" convention of RevMan and of metafor's subgroup examples. The test for
subgroup differences is Cochran's Q between the subgroup estimates, weighted
by their inverse squared standard errors, with (number of subgroups - 1)
degrees of freedom; it is the Q statistic of ``rma(estimates, sei=ses,
method="FE")``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from alsmeta.models.pooling import PooledResult, pool
from alsmeta.validation import AlsmetaInputError


@dataclass(frozen=True)
class SubgroupAnalysis:
    """Separate fits per subgroup and the test for subgroup differences.

    Attributes
    ----------
    names
        Subgroup names in display order.
    members
        For each subgroup, the positions of its studies in the overall fit.
    fits
        One :class:`alsmeta.PooledResult` per subgroup.
    q_between, q_df, q_pvalue
        Test for subgroup differences (NaN when fewer than two subgroups, or
        when a subgroup's standard error is zero).
    """

    names: tuple[str, ...]
    members: tuple[tuple[int, ...], ...]
    fits: tuple[PooledResult, ...]
    q_between: float
    q_df: int
    q_pvalue: float


def _group_names(groups: Sequence[Any], fit: PooledResult) -> list[str]:
    if isinstance(groups, (str, bytes)):
        raise AlsmetaInputError("subgroups: expected one subgroup name per study, got a single string")
    values = list(groups.tolist() if hasattr(groups, "tolist") else groups)
    if len(values) != fit.k:
        raise AlsmetaInputError(f"subgroups: {len(values)} values given for {fit.k} studies")
    out = []
    for label, value in zip(fit.labels, values):
        if value is None or (not isinstance(value, str) and pd.isna(value)) or str(value).strip() == "":
            raise AlsmetaInputError(f"study {label!r}, column 'subgroups': subgroup is missing")
        out.append(str(value))
    return out


def subgroup_analysis(
    fit: PooledResult,
    groups: Sequence[Any],
    order: Sequence[str] | None = None,
) -> SubgroupAnalysis:
    """Pool each subgroup separately and test for subgroup differences.

    Parameters
    ----------
    fit
        The overall fit; its data, estimator, test and level are reused.
    groups
        Subgroup of each study, in the order of ``fit.labels``.
    order
        Display order of the subgroups (default: order of first appearance).

    Returns
    -------
    SubgroupAnalysis

    References
    ----------
    Borenstein M, Higgins JPT (2013). Meta-analysis and subgroups. Prev Sci
    14:134-143. Cochrane Handbook, chapter 10.11.3.
    """
    names = _group_names(groups, fit)
    present = list(dict.fromkeys(names))
    if order is None:
        ordered = present
    else:
        ordered = [str(g) for g in order]
        missing = sorted(set(present) - set(ordered))
        extra = sorted(set(ordered) - set(present))
        if missing or extra or len(set(ordered)) != len(ordered):
            raise AlsmetaInputError(
                f"subgroup_order: must list each subgroup once; missing {missing}, not in the data {extra}"
            )
    members = tuple(tuple(i for i, g in enumerate(names) if g == name) for name in ordered)
    fits = []
    for idx in members:
        sel = list(idx)
        fits.append(
            pool(
                fit.yi[sel],
                fit.vi[sel],
                method=fit.method,
                test=fit.test,
                level=fit.level,
                labels=[fit.labels[i] for i in sel],
                tau2=fit.tau2 if fit.tau2_fixed else None,
            )
        )
    q, df, p = _q_between([f.estimate for f in fits], [f.se for f in fits])
    return SubgroupAnalysis(tuple(ordered), members, tuple(fits), q, df, p)


def _q_between(estimates: Sequence[float], ses: Sequence[float]) -> tuple[float, int, float]:
    est, se = np.asarray(estimates, dtype=float), np.asarray(ses, dtype=float)
    df = len(est) - 1
    if df < 1 or not np.all(np.isfinite(se)) or np.any(se <= 0):
        return math.nan, max(df, 0), math.nan
    w = 1.0 / se**2
    centre = float(np.sum(w * est) / np.sum(w))
    q = float(np.sum(w * (est - centre) ** 2))
    return q, df, float(stats.chi2.sf(q, df))
