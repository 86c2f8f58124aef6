"""Influence panel: the eight case diagnostics of Viechtbauer & Cheung (2010).

Takes the table of ``alsmeta.influence`` (columns ``rstudent, dffits,
cook_d, cov_r, tau2_del, q_del, hat, weight``, one row per study) and draws
one small panel per diagnostic, with metafor's reference lines
(``plot(influence(res))``). Studies flagged as influential are drawn as
vermillion triangles; the flag is taken from an ``influential`` (or ``inf``)
column when present, otherwise computed with metafor's rules for a model with
one coefficient: |DFFITS| > 3 sqrt(p / (k - p)), P(chi2_p <= Cook's D) > 0.5
or hat > 3 p / k.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from scipy import stats

from alsmeta.models.pooling import PooledResult
from alsmeta.plots._labels import literal_text, wrap_key
from alsmeta.plots._tables import require_columns, row_labels
from alsmeta.plots.style import (
    FOOTNOTE_SIZE,
    GREY,
    INK,
    SMALL_SIZE,
    colour,
    column_width,
    constrained_layout,
    style_context,
)
from alsmeta.validation import AlsmetaInputError

COLUMNS = ("rstudent", "dffits", "cook_d", "cov_r", "tau2_del", "q_del", "hat", "weight")
TITLES = {
    "rstudent": "Studentized residual",
    "dffits": "DFFITS",
    "cook_d": "Cook's distance",
    "cov_r": "Covariance ratio",
    "tau2_del": "\u03c4\u00b2 without the study",
    "q_del": "Q without the study",
    "hat": "Hat value (leverage)",
    "weight": "Weight (%)",
}


def influential_flags(infl: pd.DataFrame, p: int = 1) -> np.ndarray:
    """metafor's ``is.infl`` rule (without DFBETAS) for each study."""
    k = len(infl)
    flags = np.zeros(k, dtype=bool)
    if k > p:
        flags |= np.abs(infl["dffits"].to_numpy(float)) > 3 * math.sqrt(p / (k - p))
    flags |= stats.chi2.cdf(infl["cook_d"].to_numpy(float), p) > 0.5
    flags |= infl["hat"].to_numpy(float) > 3 * p / k
    return flags


def _reference_lines(name: str, k: int, p: int, fit: PooledResult | None) -> list[tuple[float, str]]:
    """(value, style) pairs: dashed = centre/expected value, dotted = threshold."""
    if name == "rstudent":
        z = float(stats.norm.isf(0.025))
        return [(0.0, "dashed"), (-z, "dotted"), (z, "dotted")]
    if name == "dffits":
        cut = 3 * math.sqrt(p / (k - p)) if k > p else math.nan
        return [(0.0, "dashed"), (-cut, "dotted"), (cut, "dotted")]
    if name == "cook_d":
        return [(float(stats.chi2.ppf(0.5, p)), "dotted")]
    if name == "cov_r":
        return [(1.0, "dashed")]
    if name == "tau2_del":
        return [(fit.tau2, "dashed")] if fit is not None and fit.is_random_effects else []
    if name == "q_del":
        return [(fit.q, "dashed")] if fit is not None else []
    if name == "hat":
        return [(p / k, "dashed"), (3 * p / k, "dotted")]
    return [(100.0 / k, "dashed")]


def influence_plot(
    infl: pd.DataFrame,
    fit: PooledResult | None = None,
    *,
    labels: Sequence[Any] | None = None,
    p: int = 1,
    columns: Sequence[str] = COLUMNS,
    width: str = "double",
) -> Figure:
    """Panels of influence diagnostics, one per column, studies along the x axis.

    Parameters
    ----------
    infl
        One row per study with the columns in ``columns``.
    fit
        The full model; gives the reference lines of ``tau2_del`` (tau^2)
        and ``q_del`` (Q).
    labels
        Study labels for the x axis (default: ``label`` column, index, or
        ``fit.labels``); long label sets are shown as numbers with a key.
    p
        Number of model coefficients (1 for the intercept-only model).
    columns
        Which diagnostics to draw, in order (two rows of panels; two columns
        of panels at single-column width).
    width
        Print width: ``"double"`` (183 mm, default) or ``"single"`` (89 mm)
        column; the study key wraps to it and text stays >= 7 pt.

    Returns
    -------
    matplotlib.figure.Figure

    References
    ----------
    Viechtbauer W, Cheung MWL (2010). Outlier and influence diagnostics for
    meta-analysis. Res Synth Methods 1:112-125.
    """
    require_columns(infl, columns, "infl")
    k = len(infl)
    if k < 2:
        raise AlsmetaInputError(f"influence plot: needs at least two studies, got k = {k}")
    names = row_labels(infl, labels, fit, "infl")
    flag_col = next((c for c in ("influential", "inf") if c in infl.columns), None)
    flags = infl[flag_col].astype(bool).to_numpy() if flag_col else influential_flags(infl, p)
    half = math.ceil(len(columns) / 2)
    nrows, ncols = (2, half) if width == "double" else (half, 2)
    key = "   ".join(f"{i} {n}" for i, n in enumerate(names, start=1))
    fig_w = column_width(width)
    caption = wrap_key(
        "Studies: " + key + ("   \u25b2 influential (metafor rule)" if flags.any() else ""), 0.96 * fig_w, FOOTNOTE_SIZE
    )
    n_lines = caption.count("\n") + 1
    key_h = n_lines * FOOTNOTE_SIZE * 1.4 / 72.0 + 0.08
    height = (4.6 if width == "double" else 1.5 * nrows + 0.3) + key_h
    with style_context():
        fig = Figure(figsize=(fig_w, height), layout="constrained")
        axes = fig.subplots(nrows, ncols, sharex=True, squeeze=False).ravel()
        idx = np.arange(1, k + 1)
        for ax, name in zip(axes, columns, strict=False):
            _panel(ax, name, idx, infl[name].to_numpy(float), flags, _reference_lines(name, k, p, fit))
        for ax in axes[len(columns) :]:
            ax.set_visible(False)
        for ax in axes[-ncols:]:
            ax.set_xlabel("Study", fontsize=SMALL_SIZE)
        fig.text(0.5, 0.02 / height, caption, ha="center", va="bottom", fontsize=FOOTNOTE_SIZE, gid="influence-key")
        constrained_layout(fig).set(rect=(0, key_h / height, 1, 1 - key_h / height))
    return literal_text(fig)


def _panel(
    ax: Axes, name: str, idx: np.ndarray, values: np.ndarray, flags: np.ndarray, lines: list[tuple[float, str]]
) -> None:
    for value, style in lines:
        if math.isfinite(value):
            ax.axhline(value, color=GREY, lw=0.7, ls=style, zorder=1, gid=f"reference:{name}")
    ax.plot(idx, values, color=INK, lw=0.6, zorder=2)
    ax.plot(idx[~flags], values[~flags], ls="none", marker="o", ms=3.5, color=INK, zorder=3, gid=f"points:{name}")
    if flags.any():
        ax.plot(
            idx[flags],
            values[flags],
            ls="none",
            marker="^",
            ms=5.5,
            color=colour("highlight"),
            mec=INK,
            mew=0.4,
            zorder=4,
            gid=f"influential:{name}",
        )
    ax.set_title(TITLES.get(name, name), fontsize=SMALL_SIZE + 0.5)
    step = max(1, math.ceil(len(idx) / 12))
    ax.set_xticks(idx[::step])
    ax.tick_params(labelsize=FOOTNOTE_SIZE)
    ax.set_xlim(0.4, len(idx) + 0.6)
