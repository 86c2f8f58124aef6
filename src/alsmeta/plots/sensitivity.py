"""Leave-one-out and cumulative forest plots (sensitivity of the pooled estimate).

Both take plain tables, so that they work with the output of
``alsmeta.leave_one_out`` (columns ``estimate, se, ci_low, ci_high, tau2,
i2, q``, one row per omitted study) and with any cumulative meta-analysis
(columns ``estimate, ci_low, ci_high`` and optionally ``i2, tau2, k``, one row
per step, in the order studies were added). Each row is drawn as a point
with its CI; the estimate from all studies is drawn as a diamond and marked by
a dotted line through the rows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from alsmeta.models.pooling import PooledResult
from alsmeta.plots import _axis, _format
from alsmeta.plots._tables import require_columns, row_labels
from alsmeta.plots.forest import model_name
from alsmeta.plots.forest_layout import ForestLayout, ForestRow, draw_forest

REQUIRED = ("estimate", "ci_low", "ci_high")


def _optional(table: pd.DataFrame, column: str, i: int) -> float:
    return float(table[column].iloc[i]) if column in table.columns else math.nan


@dataclass(frozen=True)
class _Display:
    """Display options shared by the leave-one-out and cumulative forests."""

    log_scale: bool
    effect_label: str | None
    digits: int
    reference: float | None
    xlim: tuple[float, float] | None
    title: str | None
    panel_width: float
    row_height: float


def _point_forest(
    table: pd.DataFrame,
    labels: list[str],
    fit: PooledResult | None,
    label_header: str,
    extra_headers: tuple[str, ...],
    extra_cells: list[tuple[str, ...]],
    footer: tuple[str, ...],
    d: _Display,
) -> Figure:
    log_scale, digits = d.log_scale, d.digits
    ref, lim = _axis.data_reference_and_limits(d.reference, d.xlim, log_scale)
    effect_label = d.effect_label or ("Ratio" if log_scale else "Estimate")
    level = fit.level if fit is not None else 0.95
    rows = []
    for i, label in enumerate(labels):
        est, lo, hi = (float(table[c].iloc[i]) for c in REQUIRED)
        text = _format.estimate_ci(est, lo, hi, digits, log_scale)
        rows.append(ForestRow("point", label, est, lo, hi, right=(*extra_cells[i], text)))
    marker_lines: tuple[tuple[float, str], ...] = ()
    if fit is not None and not fit.is_empty:
        role = "random" if fit.is_random_effects else "common"
        blank = tuple("" for _ in extra_headers)
        text = _format.estimate_ci(fit.estimate, fit.ci_low, fit.ci_high, digits, log_scale)
        rows += [
            ForestRow("blank"),
            ForestRow(
                "summary",
                f"All studies: {model_name(fit)}",
                fit.estimate,
                fit.ci_low,
                fit.ci_high,
                right=(*blank, text),
                role=role,
            ),
        ]
        marker_lines = ((fit.estimate, role),)
    layout = ForestLayout(
        rows=tuple(rows),
        label_header=label_header,
        right_headers=(*extra_headers, f"{effect_label} [{100 * level:g}% CI]"),
        xlabel=effect_label + (" (log scale)" if log_scale else ""),
        log_scale=log_scale,
        reference=ref,
        footer=footer,
        xlim=lim,
        title=d.title,
        panel_width=d.panel_width,
        row_height=d.row_height,
        marker_lines=marker_lines,
    )
    return draw_forest(layout)


def leave_one_out_forest(
    loo: pd.DataFrame,
    fit: PooledResult | None = None,
    *,
    labels: Sequence[Any] | None = None,
    log_scale: bool = False,
    effect_label: str | None = None,
    digits: int = 2,
    reference: float | None = None,
    xlim: tuple[float, float] | None = None,
    title: str | None = None,
    panel_width: float = 2.6,
    row_height: float = 0.2,
) -> Figure:
    """Forest plot of leave-one-out results: row i is the model without study i.

    Parameters
    ----------
    loo
        DataFrame with columns ``estimate, ci_low, ci_high`` and optionally
        ``i2`` and ``tau2`` (shown as columns), one row per omitted study.
        Row labels come from ``labels``, a ``label`` column, a non-default
        index or ``fit.labels``, in that order.
    fit
        The model with all studies, drawn as a diamond and a dotted line.
    log_scale, effect_label, digits, reference, xlim, title
        As in :func:`alsmeta.plots.forest_plot` (ratios on the log scale).
    panel_width, row_height
        Size of the plot panel and of one row, in inches.

    Returns
    -------
    matplotlib.figure.Figure
    """
    table = require_columns(loo, REQUIRED, "loo")
    names = row_labels(table, labels, fit, "loo")
    headers, cells = _heterogeneity_cells(table, digits)
    footer: tuple[str, ...] = ("Each row: the model refitted without the named study.",)
    if fit is not None and not fit.is_empty:
        footer += ("Dotted line: the estimate from all studies.",)
    display = _Display(log_scale, effect_label, digits, reference, xlim, title, panel_width, row_height)
    return _point_forest(table, [f"Omitting {n}" for n in names], fit, "Study omitted", headers, cells, footer, display)


def cumulative_forest(
    cumulative: pd.DataFrame,
    fit: PooledResult | None = None,
    *,
    labels: Sequence[Any] | None = None,
    order_note: str | None = None,
    log_scale: bool = False,
    effect_label: str | None = None,
    digits: int = 2,
    reference: float | None = None,
    xlim: tuple[float, float] | None = None,
    title: str | None = None,
    panel_width: float = 2.6,
    row_height: float = 0.2,
) -> Figure:
    """Forest plot of a cumulative meta-analysis: row i pools studies 1..i.

    Parameters
    ----------
    cumulative
        DataFrame with columns ``estimate, ci_low, ci_high`` and optionally
        ``k``, ``i2`` and ``tau2``, one row per step in the order the studies
        were added (for example by year of publication).
    fit
        The model with all studies (drawn as a diamond and a dotted line).
    labels
        Label of the study added at each step (default as in
        :func:`leave_one_out_forest`).
    order_note
        How the studies were ordered, e.g. ``"by year of publication"``
        (written in the footer).
    log_scale, effect_label, digits, reference, xlim, title, panel_width, row_height
        As in :func:`leave_one_out_forest`.

    Returns
    -------
    matplotlib.figure.Figure
    """
    table = require_columns(cumulative, REQUIRED, "cumulative")
    names = row_labels(table, labels, fit, "cumulative")
    headers, cells = _heterogeneity_cells(table, digits)
    ks = [str(int(table["k"].iloc[i])) if "k" in table.columns else str(i + 1) for i in range(len(table))]
    cells = [(k, *c) for k, c in zip(ks, cells, strict=True)]
    footer = (
        "Each row pools the studies of that row and all rows above it"
        + (f", ordered {order_note}." if order_note else "."),
    )
    display = _Display(log_scale, effect_label, digits, reference, xlim, title, panel_width, row_height)
    return _point_forest(table, [f"+ {n}" for n in names], fit, "Study added", ("k", *headers), cells, footer, display)


def _heterogeneity_cells(table: pd.DataFrame, digits: int) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
    headers: list[str] = []
    if "tau2" in table.columns:
        headers.append("\u03c4\u00b2")
    if "i2" in table.columns:
        headers.append("I\u00b2")
    cells = []
    for i in range(len(table)):
        row = []
        if "tau2" in table.columns:
            row.append(_format.small(_optional(table, "tau2", i), digits))
        if "i2" in table.columns:
            row.append(_format.percent(_optional(table, "i2", i), 1))
        cells.append(tuple(row))
    return tuple(headers), cells
