"""Forest plot of a pooled result, with optional subgroups (metafor/RevMan style).

:func:`forest_plot` turns a :class:`alsmeta.PooledResult` into rows of the
forest engine (:mod:`alsmeta.plots.forest_layout`): one row per study with
its label, optional extra columns, weight-scaled square, CI whiskers (with
arrows where the axis cuts them) and "estimate [CI]" text; then the pooled
diamond(s), the prediction interval, and footer lines with heterogeneity,
the test for the overall effect and, with subgroups, the test for subgroup
differences.

Edge cases are drawn honestly: with k = 0 the frame states that no study met
the criteria (the state of the 2016 Cochrane review); with k = 1 the single
study is drawn without a pretend summary.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from scipy import stats

from alsmeta.models.pooling import PooledResult, pool
from alsmeta.plots import _axis, _format
from alsmeta.plots.forest_layout import MIN_FONT, ForestLayout, ForestRow, draw_forest
from alsmeta.plots.style import FONT_SIZE, SMALL_SIZE
from alsmeta.plots.subgroups import SubgroupAnalysis, subgroup_analysis
from alsmeta.validation import AlsmetaInputError

EMPTY_MESSAGE = "No study met the inclusion criteria for this analysis (k = 0)."
SORT_KEYS = ("estimate", "se", "weight", "label")
TEST_NAMES = {"z": "z", "t": "t", "knha": "t", "adhoc": "t"}


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
    keys = {
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


def _summary_row(
    fit: PooledResult, label: str, role: str, right_weights: tuple[str, ...], digits: int, log_scale: bool
) -> ForestRow:
    text = _format.estimate_ci(fit.estimate, fit.ci_low, fit.ci_high, digits, log_scale)
    return ForestRow("summary", label, fit.estimate, fit.ci_low, fit.ci_high, right=(*right_weights, text), role=role)


def forest_plot(
    fit: PooledResult,
    *,
    subgroups: Sequence[Any] | None = None,
    subgroup_order: Sequence[str] | None = None,
    columns: Mapping[str, Sequence[Any]] | pd.DataFrame | None = None,
    sort_by: str | None = None,
    descending: bool = False,
    common: bool = False,
    prediction: bool = True,
    overall: bool = True,
    weights: bool = True,
    log_scale: bool = False,
    effect_label: str | None = None,
    xlabel: str | None = None,
    reference: float | None = None,
    show_reference: bool = True,
    favours: tuple[str, str] | None = None,
    xlim: tuple[float, float] | None = None,
    digits: int = 2,
    title: str | None = None,
    notes: Sequence[str] = (),
    empty_message: str = EMPTY_MESSAGE,
    panel_width: float = 2.8,
    row_height: float = 0.2,
    font_size: float = FONT_SIZE,
    subtotal_test: bool = False,
) -> Figure:
    """Forest plot of a pooled result (metafor/RevMan quality).

    Parameters
    ----------
    fit
        Result of :func:`alsmeta.pool`; its labels, data, model and level are
        drawn. Study CIs are z-based at ``fit.level`` (as metafor).
    subgroups
        Subgroup of each study (in the order of ``fit.labels``). Each subgroup
        is pooled separately with the model of ``fit`` (separate tau^2) and
        drawn as a block with a subtotal diamond and its heterogeneity; the
        footer gives the test for subgroup differences.
    subgroup_order
        Display order of the subgroups (default: order of first appearance).
    columns
        Extra columns left of the plot (e.g. ``{"n": [...], "Cells": [...]}``
        or a DataFrame), one value per study. Missing values are shown as
        ``NR`` (not reported) with a footnote.
    sort_by, descending
        Order studies (within subgroups) by ``"estimate"``, ``"se"``,
        ``"weight"`` or ``"label"``; default keeps the order of the data.
    common
        Also draw the common-effect (inverse-variance) diamond and weights
        when ``fit`` is a random-effects model.
    prediction
        Draw the prediction interval of a random-effects model (k >= 3).
    overall
        With subgroups, also draw the overall summary.
    weights
        Show the percentage weight column(s).
    log_scale
        The effects are logs of ratios (log RR, OR, HR): the axis and the
        text columns show back-transformed ratios, and ``xlim`` and
        ``reference`` are given as ratios.
    effect_label
        Name of the effect measure, e.g. ``"Risk ratio"`` (default
        ``"Estimate"``, or ``"Ratio"`` on the log scale).
    xlabel
        Axis title (default: ``effect_label``, plus "(log scale)").
    reference, show_reference
        Position of the line of no effect (default 0, or ratio 1).
    favours
        ``("Favours treatment", "Favours control")``: labels written below the
        axis on each side of the reference line.
    xlim
        Axis limits; CIs beyond them end in an arrow.
    digits
        Decimals of the text columns.
    title, notes
        Title above, extra footnote lines below.
    empty_message
        Statement drawn when ``fit.k == 0``.
    panel_width, row_height
        Width of the plot panel and height of one row, in inches; the figure
        height grows with the number of rows.
    font_size
        Body text size in points (at least 7); footnotes are one point
        smaller, but never below 7. The figure is at most 183 mm wide:
        footnotes and the title wrap, and the panel narrows if needed.
    subtotal_test
        Name each subtotal by the analysis its diamond and interval come
        from, ``Subtotal, REML + HKSJ (t, 1 df)`` (:func:`analysis_label`),
        instead of ``Subtotal (k = 2)``: a reader sees that the diamond is
        the analysis's own interval.

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
    if sort_by is not None and sort_by not in SORT_KEYS:
        raise AlsmetaInputError(f"sort_by: {sort_by!r} is not one of {', '.join(SORT_KEYS)}")
    if digits < 0 or digits > 6:
        raise AlsmetaInputError(f"digits: {digits} is outside 0..6")
    ref, lim = _axis.data_reference_and_limits(reference, xlim, log_scale)
    effect_label = effect_label or ("Ratio" if log_scale else "Estimate")
    lv = f"{100 * fit.level:g}%"
    left_headers, cells = _columns(columns, fit.k)
    show_common = common and fit.is_random_effects and fit.k >= 2
    common_fit = pool(fit.yi, fit.vi, method="CE", level=fit.level, labels=fit.labels) if show_common else None
    weight_headers: tuple[str, ...] = ()
    if weights and fit.k >= 1:
        weight_headers = ("Weight\n(common)", "Weight\n(random)") if show_common else ("Weight",)
    right_headers = (*weight_headers, f"{effect_label} [{lv} CI]")

    def study_row(i: int) -> ForestRow:
        sei = math.sqrt(fit.vi[i])
        crit = float(stats.norm.isf((1.0 - fit.level) / 2.0))
        lo, hi = fit.yi[i] - crit * sei, fit.yi[i] + crit * sei
        w_cells: tuple[str, ...] = ()
        if weight_headers:
            w_cells = (_format.percent(common_fit.weights[i]),) if common_fit is not None else ()
            w_cells += (_format.percent(fit.weights[i]),)
        text = _format.estimate_ci(fit.yi[i], lo, hi, digits, log_scale)
        return ForestRow(
            "study", fit.labels[i], fit.yi[i], lo, hi, weight=fit.weights[i], left=cells[i], right=(*w_cells, text)
        )

    def weight_cells(total_common: float, total_random: float) -> tuple[str, ...]:
        if not weight_headers:
            return ()
        if common_fit is not None:
            return (_format.percent(total_common), _format.percent(total_random))
        return (_format.percent(total_random),)

    rows: list[ForestRow] = []
    footer: list[str] = []
    analysis: SubgroupAnalysis | None = None
    if fit.k == 0:
        rows += [ForestRow("blank"), ForestRow("note", empty_message), ForestRow("blank")]
        footer.append("No summary estimate: there is nothing to pool.")
    elif subgroups is not None:
        analysis = subgroup_analysis(fit, subgroups, subgroup_order)
        for name, idx, sub in zip(analysis.names, analysis.members, analysis.fits):
            rows.append(ForestRow("heading", name))
            rows += [study_row(i) for i in _order(fit, idx, sort_by, descending)]
            if sub.k >= 2:
                wc = weight_cells(
                    float(common_fit.weights[list(idx)].sum()) if common_fit is not None else math.nan,
                    float(fit.weights[list(idx)].sum()),
                )
                label = f"Subtotal, {analysis_label(sub)}" if subtotal_test else f"Subtotal (k = {sub.k})"
                rows.append(_summary_row(sub, label, "subgroup", wc, digits, log_scale))
                rows.append(ForestRow("note", heterogeneity_text(sub, digits, compact=True)))
            else:
                rows.append(ForestRow("note", "Single study: no subtotal"))
            rows.append(ForestRow("blank"))
        if not overall:
            rows.pop()
    else:
        rows += [study_row(i) for i in _order(fit, range(fit.k), sort_by, descending)]

    if fit.k == 1:
        footer.append("One study (k = 1): no pooled estimate, heterogeneity or prediction interval is shown.")
    elif fit.k >= 2 and (overall or analysis is None):
        if analysis is None:
            rows.append(ForestRow("blank"))
        if common_fit is not None:
            ce_weights = (_format.percent(100.0), "") if weight_headers else ()
            rows.append(_summary_row(common_fit, "Common-effect model", "common", ce_weights, digits, log_scale))
        role = "random" if fit.is_random_effects else "common"
        main_weights = weight_cells(math.nan, 100.0)
        if common_fit is not None and weight_headers:
            main_weights = ("", _format.percent(100.0))
        rows.append(_summary_row(fit, model_name(fit), role, main_weights, digits, log_scale))
        if prediction and fit.is_random_effects and fit.k >= 3 and math.isfinite(fit.pi_low):
            fmt = _format.ratio if log_scale else _format.num
            pi_text = f"[{fmt(fit.pi_low, digits)}, {fmt(fit.pi_high, digits)}]"
            rows.append(
                ForestRow(
                    "prediction",
                    "Prediction interval",
                    fit.estimate,
                    fit.pi_low,
                    fit.pi_high,
                    right=(*("" for _ in weight_headers), pi_text),
                    role=role,
                )
            )
        footer.append(heterogeneity_text(fit, digits))
        if common_fit is not None:
            footer.append(test_text(common_fit, "common effect"))
            footer.append(test_text(fit, "random effects"))
        else:
            footer.append(test_text(fit))
    if analysis is not None and fit.k >= 1:
        footer.append(
            f"Test for subgroup differences: Q = {_format.num(analysis.q_between, 2)} (df = {analysis.q_df}), "
            f"{_format.pvalue(analysis.q_pvalue)}"
        )
    if any(_format.NOT_REPORTED in c for row in cells for c in row):
        footer.append(f"{_format.NOT_REPORTED} = not reported in the source.")
    footer += [str(n) for n in notes]
    layout = ForestLayout(
        rows=tuple(rows),
        label_header="Study",
        left_headers=left_headers,
        right_headers=right_headers,
        xlabel=xlabel if xlabel is not None else effect_label + (" (log scale)" if log_scale else ""),
        log_scale=log_scale,
        reference=ref if show_reference else None,
        favours=favours,
        footer=tuple(footer),
        xlim=lim,
        title=title,
        panel_width=panel_width,
        row_height=row_height,
        font_size=font_size,
        small_size=max(MIN_FONT, min(SMALL_SIZE, font_size - 1.0)),
    )
    return draw_forest(layout)


def symmetric_xlim(fit: PooledResult, log_scale: bool = False) -> tuple[float, float]:
    """Axis limits centred on no effect that contain every study CI and the summary CI.

    For use as ``forest_plot(fit, xlim=symmetric_xlim(fit))`` when both
    "favours" sides should be equally visible. The half-width is rounded up
    to a whole number (a whole ratio on the log scale, at least 2).
    """
    crit = stats.norm.isf((1.0 - fit.level) / 2.0)
    sei = np.sqrt(fit.vi)
    ends = np.concatenate([fit.yi - crit * sei, fit.yi + crit * sei, [fit.ci_low, fit.ci_high]])
    ends = ends[np.isfinite(ends)]
    if ends.size == 0:
        return (0.5, 2.0) if log_scale else (-1.0, 1.0)
    half = float(np.max(np.abs(ends)))
    if log_scale:
        m = max(2.0, float(np.ceil(np.exp(half))))
        return 1.0 / m, m
    m = max(1.0, float(np.ceil(half)))
    return -m, m
