"""Forest plot of a pooled result, with optional subgroups (metafor/RevMan style).

:func:`forest_plot` turns a :class:`alsmeta.PooledResult` into rows of the
forest engine (:mod:`alsmeta.plots.forest_layout`): one row per study with
its label, optional extra columns, weight-scaled square, CI whiskers (with
arrows where the axis cuts them) and "estimate [CI]" text; then the pooled
diamond(s), the prediction interval, and footer lines with heterogeneity,
the test for the overall effect and, with subgroups, the test for subgroup
differences. Every number comes from a result object: the fit, its
:class:`~alsmeta.models.moderators.SubgroupResult` and the common-effect fit
of :func:`alsmeta.diagnostics.common_effect.common_effect`; the options are a
:class:`~alsmeta.plots.forest_options.ForestOptions`.

Edge cases are drawn honestly: with k = 0 the frame states that no study met
the criteria (the state of the 2016 Cochrane review); with k = 1 the single
study is drawn without a pretend summary.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from alsmeta.diagnostics.common_effect import common_effect
from alsmeta.models.moderators import SubgroupResult, subgroup_analysis_of
from alsmeta.models.pooling import PooledResult
from alsmeta.plots import _axis, _format
from alsmeta.plots.forest_layout import MIN_FONT, ForestLayout, ForestRow, draw_forest
from alsmeta.plots.forest_options import ForestOptions, forest_options
from alsmeta.plots.style import SMALL_SIZE
from alsmeta.validation import AlsmetaInputError


def _columns(
    columns: Mapping[str, Sequence[Any]] | pd.DataFrame | None, k: int
) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
    """Validate the extra columns and return headers and per-study cell texts."""
    if columns is None:
        return (), [() for _ in range(k)]
    items = (
        list(columns.items()) if not isinstance(columns, pd.DataFrame) else [(c, columns[c]) for c in columns.columns]
    )
    headers, cells = [], []
    for name, values in items:
        if isinstance(values, (str, bytes)) or np.ndim(values) != 1:
            raise AlsmetaInputError(f"columns: column {name!r} must hold one value per study")
        vals = list(values.tolist() if hasattr(values, "tolist") else values)
        if len(vals) != k:
            raise AlsmetaInputError(f"columns: column {name!r} has {len(vals)} values for {k} studies")
        headers.append(str(name))
        cells.append([_format.cell(v) for v in vals])
    return tuple(headers), [tuple(col[i] for col in cells) for i in range(k)]


def _order(fit: PooledResult, idx: Sequence[int], sort_by: str | None, descending: bool) -> list[int]:
    idx = list(idx)
    if sort_by is None:
        return idx
    keys: dict[str, Callable[[int], Any]] = {
        "estimate": lambda i: fit.yi[i],
        "se": lambda i: fit.vi[i],
        "weight": lambda i: fit.weights[i],
        "label": lambda i: fit.labels[i],
    }
    return sorted(idx, key=keys[sort_by], reverse=descending)


def model_name(fit: PooledResult) -> str:
    if not fit.is_random_effects:
        return "Common-effect model"
    extra = {"knha": ", HKSJ", "adhoc": ", HKSJ ad hoc", "t": ", t"}.get(fit.test, "")
    return f"Random-effects model ({fit.method}{extra})"


def analysis_label(fit: PooledResult) -> str:
    """The model and test behind an interval, e.g. ``REML + HKSJ (t, 1 df)`` or ``DL (z)``.

    HKSJ is the Hartung-Knapp-Sidik-Jonkman adjustment (Hartung & Knapp 2001;
    Sidik & Jonkman 2002); ``ad hoc`` its variant never narrower than z
    (Knapp & Hartung 2003).
    """
    model = fit.method if fit.is_random_effects else "Common effect"
    adjust = {"knha": " + HKSJ", "adhoc": " + HKSJ ad hoc"}.get(fit.test, "")
    dist = f"t, {fit.df:g} df" if math.isfinite(fit.df) else "z"
    return f"{model}{adjust} ({dist})"


def heterogeneity_text(fit: PooledResult, digits: int = 2, compact: bool = False) -> str:
    """Heterogeneity line: ``tau^2; I^2; Q (df), p`` (compact: ``tau^2, I^2, p``)."""
    tau2 = [f"\u03c4\u00b2 = {_format.small(fit.tau2, digits)}"] if fit.is_random_effects else []
    if compact:
        parts = [*tau2, f"I\u00b2 = {_format.percent(fit.i2, 0)}", _format.pvalue(fit.q_pvalue)]
        return "Heterogeneity: " + ", ".join(parts)
    parts = [*tau2, f"I\u00b2 = {_format.percent(fit.i2, 1)}", f"Q = {_format.num(fit.q, 2)} (df = {fit.q_df})"]
    return "Heterogeneity: " + "; ".join(parts) + f", {_format.pvalue(fit.q_pvalue)}"


def test_text(fit: PooledResult, which: str = "") -> str:
    """``Test for overall effect: z = .., p = ..`` (t with its df for t-based tests)."""
    name = "t" if math.isfinite(fit.df) else "z"
    df = f" (df = {fit.df:g})" if math.isfinite(fit.df) else ""
    suffix = f" ({which})" if which else ""
    return (
        f"Test for overall effect{suffix}: {name} = {_format.num(fit.statistic, 2)}{df}, {_format.pvalue(fit.pvalue)}"
    )


@dataclass(frozen=True)
class _ForestTable:
    """A fit and what every row of its forest table shares: options, study CIs, extra cells, weights."""

    fit: PooledResult
    options: ForestOptions
    studies: pd.DataFrame
    cells: list[tuple[str, ...]]
    common_fit: PooledResult | None
    weight_headers: tuple[str, ...]

    def study_row(self, i: int) -> ForestRow:
        fit, opts = self.fit, self.options
        lo, hi = self.studies["ci_low"].iloc[i], self.studies["ci_high"].iloc[i]
        w_cells: tuple[str, ...] = ()
        if self.weight_headers:
            w_cells = (_format.percent(self.common_fit.weights[i]),) if self.common_fit is not None else ()
            w_cells += (_format.percent(fit.weights[i]),)
        text = _format.estimate_ci(fit.yi[i], lo, hi, opts.digits, opts.log_scale)
        return ForestRow(
            "study", fit.labels[i], fit.yi[i], lo, hi, weight=fit.weights[i], left=self.cells[i], right=(*w_cells, text)
        )

    def weight_cells(self, total_common: float, total_random: float) -> tuple[str, ...]:
        if not self.weight_headers:
            return ()
        if self.common_fit is not None:
            return (_format.percent(total_common), _format.percent(total_random))
        return (_format.percent(total_random),)

    def summary_row(self, fit: PooledResult, label: str, role: str, weights: tuple[str, ...]) -> ForestRow:
        text = _format.estimate_ci(fit.estimate, fit.ci_low, fit.ci_high, self.options.digits, self.options.log_scale)
        return ForestRow("summary", label, fit.estimate, fit.ci_low, fit.ci_high, right=(*weights, text), role=role)


def _forest_table(fit: PooledResult, opts: ForestOptions, columns: Any) -> tuple[_ForestTable, tuple[str, ...]]:
    """The shared row context and the left column headers."""
    left_headers, cells = _columns(columns, fit.k)
    show_common = opts.common and fit.is_random_effects and fit.k >= 2
    common_fit = common_effect(fit) if show_common else None
    weight_headers: tuple[str, ...] = ()
    if opts.weights and fit.k >= 1:
        weight_headers = ("Weight\n(common)", "Weight\n(random)") if show_common else ("Weight",)
    return _ForestTable(fit, opts, fit.to_frame(), cells, common_fit, weight_headers), left_headers


def _subgroup_result(fit: PooledResult, subgroups: Any, order: Sequence[str] | None) -> SubgroupResult:
    """The subgroup analysis to draw: given, or that of :func:`subgroup_analysis_of` for per-study groups."""
    if not isinstance(subgroups, SubgroupResult):
        return subgroup_analysis_of(fit, subgroups, "appearance" if order is None else order)
    if order is not None:
        raise AlsmetaInputError("subgroup_order: a SubgroupResult has its order; give order= to subgroup_analysis_of")
    positions = sorted(i for idx in subgroups.members for i in idx)
    same = positions == list(range(fit.k)) and all(
        sub.labels == tuple(fit.labels[i] for i in idx)
        for idx, sub in zip(subgroups.members, subgroups.fits, strict=True)
    )
    if not same:
        raise AlsmetaInputError("subgroups: the SubgroupResult is not an analysis of this fit's studies")
    return subgroups


def _subgroup_rows(table: _ForestTable, analysis: SubgroupResult) -> list[ForestRow]:
    """A block per subgroup: heading, studies, subtotal diamond and heterogeneity (or a note for one study)."""
    fit, opts, common_fit = table.fit, table.options, table.common_fit
    rows: list[ForestRow] = []
    for name, idx, sub in zip(analysis.names, analysis.members, analysis.fits, strict=True):
        rows.append(ForestRow("heading", name))
        rows += [table.study_row(i) for i in _order(fit, idx, opts.sort_by, opts.descending)]
        if sub.k >= 2:
            wc = table.weight_cells(
                float(common_fit.weights[list(idx)].sum()) if common_fit is not None else math.nan,
                float(fit.weights[list(idx)].sum()),
            )
            label = f"Subtotal, {analysis_label(sub)}" if opts.subtotal_test else f"Subtotal (k = {sub.k})"
            rows.append(table.summary_row(sub, label, "subgroup", wc))
            rows.append(ForestRow("note", heterogeneity_text(sub, opts.digits, compact=True)))
        else:
            rows.append(ForestRow("note", "Single study: no subtotal"))
        rows.append(ForestRow("blank"))
    if not opts.overall:
        rows.pop()
    return rows


def _overall_rows(table: _ForestTable) -> list[ForestRow]:
    """The common-effect and main summary diamonds and the prediction interval."""
    fit, opts, common_fit = table.fit, table.options, table.common_fit
    rows: list[ForestRow] = []
    if common_fit is not None:
        ce_weights = (_format.percent(100.0), "") if table.weight_headers else ()
        rows.append(table.summary_row(common_fit, "Common-effect model", "common", ce_weights))
    role = "random" if fit.is_random_effects else "common"
    main_weights = table.weight_cells(math.nan, 100.0)
    if common_fit is not None and table.weight_headers:
        main_weights = ("", _format.percent(100.0))
    rows.append(table.summary_row(fit, model_name(fit), role, main_weights))
    if opts.prediction and fit.is_random_effects and fit.k >= 3 and math.isfinite(fit.pi_low):
        fmt = _format.ratio if opts.log_scale else _format.num
        pi_text = f"[{fmt(fit.pi_low, opts.digits)}, {fmt(fit.pi_high, opts.digits)}]"
        blank_weights = tuple("" for _ in table.weight_headers)
        rows.append(
            ForestRow(
                "prediction",
                "Prediction interval",
                fit.estimate,
                fit.pi_low,
                fit.pi_high,
                right=(*blank_weights, pi_text),
                role=role,
            )
        )
    return rows


def _overall_footer(table: _ForestTable) -> list[str]:
    """Heterogeneity and the test(s) for the overall effect."""
    fit, common_fit = table.fit, table.common_fit
    footer = [heterogeneity_text(fit, table.options.digits)]
    if common_fit is not None:
        return [*footer, test_text(common_fit, "common effect"), test_text(fit, "random effects")]
    return [*footer, test_text(fit)]


def _rows_and_footer(table: _ForestTable, analysis: SubgroupResult | None) -> tuple[list[ForestRow], list[str]]:
    """Every row of the table and the footer lines about the analysis."""
    fit, opts = table.fit, table.options
    if fit.k == 0:
        rows = [ForestRow("blank"), ForestRow("note", opts.empty_message), ForestRow("blank")]
        return rows, ["No summary estimate: there is nothing to pool."]
    if analysis is not None:
        rows = _subgroup_rows(table, analysis)
    else:
        rows = [table.study_row(i) for i in _order(fit, range(fit.k), opts.sort_by, opts.descending)]
    footer: list[str] = []
    if fit.k == 1:
        footer.append("One study (k = 1): no pooled estimate, heterogeneity or prediction interval is shown.")
    elif opts.overall or analysis is None:
        if analysis is None:
            rows.append(ForestRow("blank"))
        rows += _overall_rows(table)
        footer += _overall_footer(table)
    if analysis is not None and opts.subgroup_test:
        footer.append(
            f"Test for subgroup differences: Q = {_format.num(analysis.q_between, 2)} "
            f"(df = {analysis.q_between_df}), {_format.pvalue(analysis.q_between_pvalue)}"
        )
    return rows, footer


def forest_plot(
    fit: PooledResult,
    options: ForestOptions | None = None,
    *,
    subgroups: SubgroupResult | Sequence[Any] | None = None,
    subgroup_order: Sequence[str] | None = None,
    columns: Mapping[str, Sequence[Any]] | pd.DataFrame | None = None,
    **option_values: Any,
) -> Figure:
    """Forest plot of a pooled result (metafor/RevMan quality).

    Parameters
    ----------
    fit
        Result of :func:`alsmeta.pool`; its labels, data, model and level are
        drawn. Study CIs are z-based at ``fit.level`` (as metafor,
        :meth:`alsmeta.PooledResult.to_frame`).
    options
        What to show and how (:class:`~alsmeta.plots.forest_options.ForestOptions`:
        sorting, common-effect and prediction summaries, weights, the effect
        axis, digits, title and notes, sizes).
    subgroups
        A :class:`alsmeta.SubgroupResult` of the fit's studies
        (:func:`alsmeta.subgroup_analysis_of`), or the subgroup of each study
        (in the order of ``fit.labels``), which is analysed with
        :func:`alsmeta.subgroup_analysis_of` (the model of ``fit``, a separate
        tau^2 per subgroup). Each subgroup is drawn as a block with a subtotal
        diamond and its heterogeneity; the footer gives the test for subgroup
        differences.
    subgroup_order
        Display order of per-study subgroups (default: order of first appearance).
    columns
        Extra columns left of the plot (e.g. ``{"n": [...], "Cells": [...]}``
        or a DataFrame), one value per study. Missing values are shown as
        ``NR`` (not reported) with a footnote.
    **option_values
        Keyword shortcuts for the fields of ``options``:
        ``forest_plot(fit, log_scale=True, favours=(...))``.

    Returns
    -------
    matplotlib.figure.Figure
        The forest-table axes is ``fig.axes[0]`` and the plot panel
        ``fig.axes[1]``; artists carry gids (see
        :mod:`alsmeta.plots.forest_layout`).

    Raises
    ------
    AlsmetaInputError
        For bad options (unknown sort key, columns of the wrong length,
        non-positive ratio limits, ...).
    """
    if not isinstance(fit, PooledResult):
        raise AlsmetaInputError(f"fit: expected a PooledResult from alsmeta.pool, got {type(fit).__name__}")
    opts = forest_options(options, option_values)
    ref, lim = _axis.data_reference_and_limits(opts.reference, opts.xlim, opts.log_scale)
    table, left_headers = _forest_table(fit, opts, columns)
    analysis = _subgroup_result(fit, subgroups, subgroup_order) if subgroups is not None and fit.k > 0 else None
    rows, footer = _rows_and_footer(table, analysis)
    if any(_format.NOT_REPORTED in c for row in table.cells for c in row):
        footer.append(f"{_format.NOT_REPORTED} = not reported in the source.")
    footer += [str(n) for n in opts.notes]
    layout = ForestLayout(
        rows=tuple(rows),
        label_header="Study",
        left_headers=left_headers,
        right_headers=(*table.weight_headers, f"{opts.effect_name} [{100 * fit.level:g}% CI]"),
        xlabel=opts.axis_title,
        log_scale=opts.log_scale,
        reference=ref if opts.show_reference else None,
        favours=opts.favours,
        footer=tuple(footer),
        xlim=lim,
        title=opts.title,
        panel_width=opts.panel_width,
        row_height=opts.row_height,
        font_size=opts.font_size,
        small_size=max(MIN_FONT, min(SMALL_SIZE, opts.font_size - 1.0)),
    )
    return draw_forest(layout)


def symmetric_xlim(fit: PooledResult, log_scale: bool = False) -> tuple[float, float]:
    """Axis limits centred on no effect that contain every study CI and the summary CI.

    For use as ``forest_plot(fit, xlim=symmetric_xlim(fit))`` when both
    "favours" sides should be equally visible. The half-width is rounded up
    to a whole number (a whole ratio on the log scale, at least 2).
    """
    studies = fit.to_frame()
    ends = np.concatenate([studies["ci_low"], studies["ci_high"], [fit.ci_low, fit.ci_high]])
    ends = ends[np.isfinite(ends)]
    if ends.size == 0:
        return (0.5, 2.0) if log_scale else (-1.0, 1.0)
    half = float(np.max(np.abs(ends)))
    if log_scale:
        m = max(2.0, float(np.ceil(np.exp(half))))
        return 1.0 / m, m
    m = max(1.0, float(np.ceil(half)))
    return -m, m
