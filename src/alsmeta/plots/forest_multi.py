"""RevMan-style multi-outcome forest plot: one block per outcome, arm-level columns.

:func:`multi_outcome_forest` draws several analyses of one comparison (for
example every outcome of a Cochrane review's comparison) in one figure, as
RevMan's analysis forests do: for each outcome a heading, one row per study
with the arm-level data (mean, SD and total of each arm for a continuous
outcome; events and total for a dichotomous one), the study's weight and
effect with its CI, the subtotal diamond, the heterogeneity line
("not applicable" for one study) and the test for the overall effect.

It is a renderer: every number it draws comes from the
:class:`~alsmeta.PooledResult` of each block and the arm table given with it;
it computes no statistics (the study CIs are the z intervals of the study's
``yi`` and ``vi`` at the fit's level, as in :func:`alsmeta.plots.forest_plot`).

References
----------
Higgins JPT et al. (eds). Cochrane Handbook for Systematic Reviews of
Interventions, version 6.4, ch. 10 (forest plots of RevMan analyses).
Review Manager (RevMan) 5.4 User Guide, "Forest plots".
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from alsmeta.models.pooling import PooledResult
from alsmeta.plots import _axis, _format
from alsmeta.plots._tables import require_columns
from alsmeta.plots.forest import model_name
from alsmeta.plots.forest_layout import ForestLayout, ForestRow, draw_forest
from alsmeta.validation import AlsmetaInputError

MEASURES: dict[str, tuple[str, bool, bool]] = {
    # code: (name, dichotomous arm data, log scale)
    "MD": ("Mean difference", False, False),
    "SMD": ("Std. mean difference", False, False),
    "OR": ("Odds ratio", True, True),
    "RR": ("Risk ratio", True, True),
    "RD": ("Risk difference", True, False),
}
CONTINUOUS_COLUMNS = ("mean1", "sd1", "n1", "mean2", "sd2", "n2")
DICHOTOMOUS_COLUMNS = ("events1", "n1", "events2", "n2")


@dataclass(frozen=True)
class OutcomeBlock:
    """One outcome of a multi-outcome forest.

    Attributes
    ----------
    title
        Heading of the block: the outcome, its time point and unit, e.g.
        ``"FVC % predicted change, baseline to 4 months (% predicted)"``.
    fit
        The pooled result of this outcome (:func:`alsmeta.pool`); its studies
        are drawn in the order of ``fit.labels``.
    arms
        Arm-level data, one row per study in the order of ``fit.labels``:
        columns ``mean1 sd1 n1 mean2 sd2 n2`` for a continuous measure,
        ``events1 n1 events2 n2`` for a dichotomous one (1 = experimental).
        Missing values are drawn as ``NR``.
    notes
        Extra lines drawn in the block under its test for overall effect.
    """

    title: str
    fit: PooledResult
    arms: pd.DataFrame
    notes: tuple[str, ...] = field(default=())


def heterogeneity_line(fit: PooledResult, digits: int = 2) -> str:
    """RevMan's heterogeneity line: ``Tau² = ..; Chi² = .., df = .. (P = ..); I² = ..%``.

    "not applicable" for one study.
    """
    if fit.k < 2:
        return "Heterogeneity: not applicable"
    tau2 = f"Tau\u00b2 = {_format.small(fit.tau2, digits)}; " if fit.is_random_effects else ""
    return (
        f"Heterogeneity: {tau2}Chi\u00b2 = {_format.num(fit.q, 2)}, df = {fit.q_df} "
        f"({_p(fit.q_pvalue)}); I\u00b2 = {_format.percent(fit.i2, 0)}"
    )


def overall_effect_line(fit: PooledResult) -> str:
    """RevMan's ``Test for overall effect: Z = 3.06 (P = 0.002)`` (``t``, with its df, for t-based tests)."""
    if math.isfinite(fit.df):
        return f"Test for overall effect: t = {_format.num(fit.statistic, 2)}, df = {fit.df:g} ({_p(fit.pvalue)})"
    return f"Test for overall effect: Z = {_format.num(fit.statistic, 2)} ({_p(fit.pvalue)})"


def _p(p: float) -> str:
    return _format.pvalue(p).replace("p ", "P ")


def _arm_cells(row: pd.Series, dichotomous: bool, arm_digits: int) -> tuple[str, ...]:
    def number(v: Any) -> str:
        return _format.NOT_REPORTED if v is None or pd.isna(v) else _format.num(float(v), arm_digits)

    if dichotomous:
        return tuple(_format.cell(row[c]) for c in DICHOTOMOUS_COLUMNS)
    return (
        number(row["mean1"]),
        number(row["sd1"]),
        _format.cell(row["n1"]),
        number(row["mean2"]),
        number(row["sd2"]),
        _format.cell(row["n2"]),
    )


def _total(values: pd.Series) -> str:
    vals = pd.to_numeric(values, errors="coerce")
    if vals.isna().any():
        return _format.NOT_REPORTED
    return _format.cell(int(vals.sum()))


def _validate(blocks: Sequence[OutcomeBlock], measure: str) -> tuple[str, bool, bool]:
    if measure not in MEASURES:
        raise AlsmetaInputError(f"measure: {measure!r} is not one of {', '.join(MEASURES)}")
    name, dichotomous, log_scale = MEASURES[measure]
    if len(blocks) == 0:
        raise AlsmetaInputError("blocks: at least one outcome block is needed")
    columns = DICHOTOMOUS_COLUMNS if dichotomous else CONTINUOUS_COLUMNS
    for block in blocks:
        if not isinstance(block, OutcomeBlock):
            raise AlsmetaInputError(f"blocks: expected OutcomeBlock, got {type(block).__name__}")
        if not isinstance(block.fit, PooledResult):
            raise AlsmetaInputError(
                f"blocks[{block.title!r}].fit: expected a PooledResult, got {type(block.fit).__name__}"
            )
        if block.fit.k < 1:
            raise AlsmetaInputError(f"blocks[{block.title!r}].fit: an outcome block needs at least one study (k = 0)")
        require_columns(block.arms, columns, f"blocks[{block.title!r}].arms")
        if len(block.arms) != block.fit.k:
            raise AlsmetaInputError(f"blocks[{block.title!r}].arms: {len(block.arms)} rows for {block.fit.k} studies")
    return name, dichotomous, log_scale


def _block_rows(
    block: OutcomeBlock, dichotomous: bool, log_scale: bool, digits: int, arm_digits: int
) -> list[ForestRow]:
    fit = block.fit
    studies = fit.to_frame()  # study CIs (z, at the fit's level)
    rows = [ForestRow("heading", block.title)]
    for i in range(fit.k):
        lo, hi = studies["ci_low"].iloc[i], studies["ci_high"].iloc[i]
        rows.append(
            ForestRow(
                "study",
                fit.labels[i],
                fit.yi[i],
                lo,
                hi,
                weight=fit.weights[i],
                left=_arm_cells(block.arms.iloc[i], dichotomous, arm_digits),
                right=(_format.percent(fit.weights[i]), _format.estimate_ci(fit.yi[i], lo, hi, digits, log_scale)),
            )
        )
    a = block.arms
    if dichotomous:
        totals: tuple[str, ...] = ("", _total(a["n1"]), "", _total(a["n2"]))
    else:
        totals = ("", "", _total(a["n1"]), "", "", _total(a["n2"]))
    lv = f"{100 * fit.level:g}%"
    rows.append(
        ForestRow(
            "summary",
            f"Subtotal ({lv} CI)",
            fit.estimate,
            fit.ci_low,
            fit.ci_high,
            left=totals,
            right=(
                _format.percent(100.0),
                _format.estimate_ci(fit.estimate, fit.ci_low, fit.ci_high, digits, log_scale),
            ),
            role="random" if fit.is_random_effects else "common",
        )
    )
    if dichotomous:
        rows.append(ForestRow("note", "Total events", left=(_total(a["events1"]), "", _total(a["events2"]), "")))
    rows.append(ForestRow("note", heterogeneity_line(fit, digits)))
    rows.append(ForestRow("note", overall_effect_line(fit)))
    rows += [ForestRow("note", str(n)) for n in block.notes]
    return rows


def multi_outcome_forest(
    blocks: Sequence[OutcomeBlock],
    *,
    measure: str = "MD",
    arm_names: tuple[str, str] = ("Experimental", "Control"),
    favours: tuple[str, str] | None = None,
    xlabel: str | None = None,
    xlim: tuple[float, float] | None = None,
    digits: int = 2,
    arm_digits: int = 2,
    title: str | None = None,
    notes: Sequence[str] = (),
    panel_width: float = 1.6,
    row_height: float = 0.16,
    font_size: float = 7.0,
) -> Figure:
    """RevMan-style forest of several outcomes of one comparison.

    Parameters
    ----------
    blocks
        One :class:`OutcomeBlock` per outcome, drawn top to bottom.
    measure
        ``"MD"``, ``"SMD"`` (continuous arm columns mean/SD/total) or
        ``"OR"``, ``"RR"``, ``"RD"`` (events/total); the effects of ``OR``
        and ``RR`` are logs and are drawn and printed as ratios.
    arm_names
        Names of the experimental and control arms (spanning headers).
    favours
        ``("Favours control", "Favours experimental")`` labels under the
        axis, left and right of the line of no effect.
    xlabel, xlim
        Axis title and limits (ratios for OR/RR); CIs beyond the limits end
        in an arrow.
    digits, arm_digits
        Decimals of the effect columns and of the arm means and SDs.
    title, notes
        Title above; footnote lines below.
    panel_width, row_height, font_size
        Plot panel width and row height (inches) and body text size (points,
        at least 7; footnotes are drawn at 7 pt).

    Returns
    -------
    matplotlib.figure.Figure
        At most 183 mm wide. Artists carry gids (``study:<label>``,
        ``diamond:<role>``, ``label:heading``, ``label:note``,
        ``header-group``; see :mod:`alsmeta.plots.forest_layout`).

    Raises
    ------
    AlsmetaInputError
        For an unknown measure, an empty list, a block whose arm table lacks
        a column or has the wrong number of rows, or a block with k = 0.
    """
    name, dichotomous, log_scale = _validate(blocks, measure)
    if digits < 0 or digits > 6 or arm_digits < 0 or arm_digits > 6:
        raise AlsmetaInputError(f"digits: {digits} / arm_digits: {arm_digits} outside 0..6")
    ref, lim = _axis.data_reference_and_limits(None, xlim, log_scale)
    rows: list[ForestRow] = []
    for j, block in enumerate(blocks):
        if j:
            rows.append(ForestRow("blank"))
        rows += _block_rows(block, dichotomous, log_scale, digits, arm_digits)
    per_arm = ("Events", "Total") if dichotomous else ("Mean", "SD", "Total")
    levels = {f"{100 * b.fit.level:g}%" for b in blocks}
    if all(b.fit.k == 1 for b in blocks):
        how = "one study per outcome, so each subtotal is that study's inverse-variance estimate"
    else:
        how = "each outcome analysed separately: " + ", ".join(sorted({model_name(b.fit) for b in blocks}))
    footer = [f"{name}; {how}. Study CIs: z intervals."]
    cells = [c for r in rows for c in r.left]
    if _format.NOT_REPORTED in cells:
        footer.append(f"{_format.NOT_REPORTED} = not reported in the source.")
    footer += [str(n) for n in notes]
    layout = ForestLayout(
        rows=tuple(rows),
        label_header="Study or subgroup",
        left_headers=per_arm + per_arm,
        right_headers=("Weight", f"{measure} [{'/'.join(sorted(levels))} CI]"),
        header_groups=((arm_names[0], 0, len(per_arm) - 1), (arm_names[1], len(per_arm), 2 * len(per_arm) - 1)),
        xlabel=xlabel if xlabel is not None else name + (" (log scale)" if log_scale else ""),
        log_scale=log_scale,
        reference=ref,
        favours=favours,
        footer=tuple(footer),
        xlim=lim,
        title=title,
        panel_width=panel_width,
        row_height=row_height,
        font_size=font_size,
        small_size=7.0,
        col_gap=0.12,
    )
    return draw_forest(layout)
