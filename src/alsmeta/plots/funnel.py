"""Funnel plot: study effects against their precision, optionally contour-enhanced.

The precision axis is the standard error by default, inverted (most precise
studies at the top, as in metafor and RevMan). The pseudo-confidence region
is ``centre +/- z * SE`` around the pooled estimate. With ``contours``, the
plane is shaded by the two-sided p-value of each point against the null
(Peters et al. 2008), so that one can see whether "missing" studies would lie
in regions of non-significance. Studies imputed by trim-and-fill are drawn as
open circles.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Polygon
from scipy import stats

from alsmeta.models.pooling import PooledResult
from alsmeta.plots import _axis
from alsmeta.plots._labels import literal_text, text_snapshot
from alsmeta.plots.style import (
    CONTOUR_SHADES,
    GREY,
    INK,
    SMALL_SIZE,
    colour,
    column_width,
    figure_and_axes,
    root_figure,
    style_context,
)
from alsmeta.validation import AlsmetaInputError, numeric_column

Y_AXES = {
    "sei": "Standard error",
    "vi": "Sampling variance",
    "seinv": "Inverse standard error",
    "vinv": "Inverse sampling variance",
}
DEFAULT_CONTOURS = (0.10, 0.05, 0.01)
_GRID = 200


_TO_SE: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "sei": lambda v: v,
    "vi": np.sqrt,
    "seinv": lambda v: 1.0 / v,
    "vinv": lambda v: 1.0 / np.sqrt(v),
}
_FROM_SE: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "sei": lambda s: s,
    "vi": np.square,
    "seinv": lambda s: 1.0 / s,
    "vinv": lambda s: 1.0 / s**2,
}


def _to_se(y: np.ndarray, yaxis: str) -> np.ndarray:
    """Standard error that corresponds to a value on the chosen y axis."""
    return _TO_SE[yaxis](y)


def _from_se(se: np.ndarray, yaxis: str) -> np.ndarray:
    return _FROM_SE[yaxis](se)


def _y_range(se: np.ndarray, yaxis: str) -> tuple[float, float]:
    """(start, end) of the y axis in its own units (0 for SE and variance axes)."""
    y = _from_se(se, yaxis)
    if yaxis in ("sei", "vi"):
        return 0.0, float(y.max()) * 1.05
    return float(y.min()) * 0.9, float(y.max()) * 1.05


def _band(centre: float, z: float, ys: np.ndarray, yaxis: str) -> np.ndarray:
    """Closed outline of ``centre +/- z * SE(y)`` over the y grid."""
    half = z * _to_se(ys, yaxis)
    left = np.column_stack([centre - half, ys])
    right = np.column_stack([centre + half, ys])[::-1]
    return np.vstack([left, right])


def funnel_plot(
    fit: PooledResult,
    *,
    ax: Axes | None = None,
    yaxis: str = "sei",
    contours: bool | Sequence[float] = False,
    pseudo_ci: bool = True,
    filled_yi: Sequence[float] | None = None,
    filled_vi: Sequence[float] | None = None,
    filled_fit: PooledResult | None = None,
    side: str | None = None,
    log_scale: bool = False,
    effect_label: str | None = None,
    null: float | None = None,
    legend: bool = True,
    width: str = "single",
) -> Figure:
    """Funnel plot of a pooled result.

    Parameters
    ----------
    fit
        Result of :func:`alsmeta.pool` with the observed studies.
    ax
        Draw into this axes (default: a new figure ``width`` wide).
    yaxis
        ``"sei"`` (default), ``"vi"``, ``"seinv"`` or ``"vinv"``; SE and
        variance axes are inverted so that precise studies are at the top.
    contours
        ``True`` for p = .10/.05/.01 contours, or a sequence of p-values.
    pseudo_ci
        Draw the pseudo-confidence region ``estimate +/- z * SE`` (at
        ``fit.level``), centred on ``filled_fit`` when given.
    filled_yi, filled_vi
        Effects and variances of the studies imputed by trim-and-fill (drawn
        as open circles).
    filled_fit
        The model fitted to observed plus filled studies; its estimate is
        drawn as a dashed line.
    side
        Side on which studies were filled (``"left"``/``"right"``), for the
        legend.
    log_scale, effect_label
        As in :func:`alsmeta.plots.forest_plot`.
    null
        Centre of the contours (default 0, i.e. ratio 1; give a ratio on the
        log scale).
    legend
        Add a legend below the plot.
    width
        Print width of a new figure: ``"single"`` (89 mm, default) or
        ``"double"`` (183 mm) column; text stays at print size (>= 7 pt).

    Returns
    -------
    matplotlib.figure.Figure

    References
    ----------
    Sterne JAC, Egger M (2001). Funnel plots for detecting bias in
    meta-analysis. J Clin Epidemiol 54:1046-1055. Peters JL et al. (2008).
    Contour-enhanced meta-analysis funnel plots. J Clin Epidemiol 61:991-996.
    """
    if not isinstance(fit, PooledResult):
        raise AlsmetaInputError(f"fit: expected a PooledResult from alsmeta.pool, got {type(fit).__name__}")
    if fit.k < 1:
        raise AlsmetaInputError("funnel plot: needs at least one study (k = 0)")
    if yaxis not in Y_AXES:
        raise AlsmetaInputError(f"yaxis: {yaxis!r} is not one of {', '.join(Y_AXES)}")
    levels = _contour_levels(contours)
    fyi, fvi = _filled(filled_yi, filled_vi)
    if side is not None and side not in ("left", "right"):
        raise AlsmetaInputError(f"side: expected 'left' or 'right', got {side!r}")
    centre_null, _ = _axis.data_reference_and_limits(null, None, log_scale)
    fig_w = column_width(width)
    before = text_snapshot(root_figure(ax)) if ax is not None else None
    with style_context():
        aspect = 1.2 if legend and (levels or fyi.size) else (1.05 if legend else 0.9)
        fig, ax = figure_and_axes(ax, (fig_w, min(fig_w * aspect, 5.0)))
        _draw(
            ax, fit, yaxis, levels, pseudo_ci, fyi, fvi, filled_fit, side, log_scale, effect_label, centre_null, legend
        )
    return literal_text(fig, before)


def _contour_levels(contours: bool | Sequence[float]) -> tuple[float, ...]:
    if contours is False or contours is None:
        return ()
    if contours is True:
        return DEFAULT_CONTOURS
    levels = tuple(sorted((float(p) for p in contours), reverse=True))
    if not levels or any(not 0 < p < 1 for p in levels) or len(set(levels)) != len(levels):
        raise AlsmetaInputError(f"contours: expected distinct p-values in (0, 1), got {contours!r}")
    if len(levels) > len(CONTOUR_SHADES) - 1:
        raise AlsmetaInputError(f"contours: at most {len(CONTOUR_SHADES) - 1} levels")
    return levels


def _filled(filled_yi: Any, filled_vi: Any) -> tuple[np.ndarray, np.ndarray]:
    if (filled_yi is None) != (filled_vi is None):
        raise AlsmetaInputError("filled_yi and filled_vi: give both or neither")
    if filled_yi is None:
        return np.zeros(0), np.zeros(0)
    yi = numeric_column(filled_yi, "filled_yi", [f"filled {i + 1}" for i in range(len(filled_yi))])
    vi = numeric_column(filled_vi, "filled_vi", [f"filled {i + 1}" for i in range(len(filled_vi))], positive=True)
    if len(yi) != len(vi):
        raise AlsmetaInputError(f"filled_yi has {len(yi)} values but filled_vi has {len(vi)}")
    return yi, vi


def _draw(
    ax: Axes,
    fit: PooledResult,
    yaxis: str,
    levels: tuple[float, ...],
    pseudo_ci: bool,
    fyi: np.ndarray,
    fvi: np.ndarray,
    filled_fit: PooledResult | None,
    side: str | None,
    log_scale: bool,
    effect_label: str | None,
    null: float,
    legend: bool,
) -> None:
    se_all = np.sqrt(np.concatenate([fit.vi, fvi]))
    y0, y1 = _y_range(se_all, yaxis)
    ys = np.linspace(y0, y1, _GRID)
    if yaxis in ("seinv", "vinv"):
        ys = ys[ys > 0]
    centre = filled_fit.estimate if filled_fit is not None and np.isfinite(filled_fit.estimate) else fit.estimate
    crit = float(stats.norm.isf((1 - fit.level) / 2))
    z_levels = [float(stats.norm.isf(p / 2)) for p in levels]
    se_max = float(_to_se(np.array([ys[0] if yaxis in ("seinv", "vinv") else ys[-1]]), yaxis)[0])
    span = [*fit.yi, *fyi]
    if pseudo_ci:
        span += [centre - crit * se_max, centre + crit * se_max]
    if z_levels:
        span += [null - z_levels[-1] * se_max, null + z_levels[-1] * se_max]
    lo, hi = _axis.set_effect_axis(ax, span, log_scale)
    handles: list[Any] = []
    if z_levels:
        ax.add_patch(
            Polygon(
                [[lo, y0], [hi, y0], [hi, y1], [lo, y1]],
                closed=True,
                facecolor=CONTOUR_SHADES[len(z_levels)],
                edgecolor="none",
                zorder=0,
                gid="contour:background",
            )
        )
        for j in range(len(z_levels) - 1, -1, -1):  # widest band first, narrower ones on top
            ax.add_patch(
                Polygon(
                    _band(null, z_levels[j], ys, yaxis),
                    closed=True,
                    facecolor=CONTOUR_SHADES[j],
                    edgecolor="none",
                    zorder=0,
                    gid=f"contour:{levels[j]:g}",
                )
            )
        names = _contour_names(levels)
        handles += [
            Patch(facecolor=CONTOUR_SHADES[j], edgecolor=GREY, lw=0.5, label=names[j]) for j in range(len(names))
        ]
    if pseudo_ci and np.isfinite(centre):
        band = _band(centre, crit, ys, yaxis)
        half = len(band) // 2
        lines = [
            ax.plot(part[:, 0], part[:, 1], color=INK, lw=0.7, ls=(0, (4, 2)), zorder=2, gid=f"pseudo-ci:{name}")[0]
            for name, part in (("low", band[:half]), ("high", band[half:]))
        ]
        lines[0].set_label(f"{100 * fit.level:g}% pseudo-CI region")
        handles.append(lines[0])
    handles.append(
        ax.axvline(
            fit.estimate,
            color=colour("random" if fit.is_random_effects else "common"),
            lw=1.0,
            zorder=2,
            gid="estimate-line",
            label="Pooled estimate",
        )
    )
    y_obs = _from_se(np.sqrt(fit.vi), yaxis)
    handles.append(
        ax.plot(
            fit.yi,
            y_obs,
            ls="none",
            marker="o",
            ms=4.5,
            mfc=INK,
            mec="white",
            mew=0.4,
            zorder=4,
            gid="studies",
            label=f"Studies (k = {fit.k})",
        )[0]
    )
    if fyi.size:
        what = f"Filled (k0 = {fyi.size}" + (f", {side} side)" if side else ")")
        handles.append(
            ax.plot(
                fyi,
                _from_se(np.sqrt(fvi), yaxis),
                ls="none",
                marker="o",
                ms=4.5,
                mfc="white",
                mec=INK,
                mew=0.9,
                zorder=4,
                gid="filled-studies",
                label=what,
            )[0]
        )
    if filled_fit is not None and np.isfinite(filled_fit.estimate):
        handles.append(
            ax.axvline(
                filled_fit.estimate,
                color=INK,
                lw=1.0,
                ls=(0, (1.5, 1.5)),
                zorder=2,
                gid="filled-estimate-line",
                label="Trim-and-fill estimate",
            )
        )
    ax.set_ylim((y1, y0) if yaxis in ("sei", "vi") else (y0, y1))
    ax.set_xlim(lo, hi)
    ax.set_ylabel(Y_AXES[yaxis])
    label = effect_label or ("Ratio" if log_scale else "Estimate")
    ax.set_xlabel(label + (" (log scale)" if log_scale else ""))
    ax.tick_params(labelsize=SMALL_SIZE)
    if legend:
        ax.legend(
            handles=handles,
            loc="upper center",
            bbox_to_anchor=(0.5, -0.18),
            ncols=2,
            fontsize=SMALL_SIZE - 0.5,
            handlelength=1.6,
            columnspacing=1.0,
        )


def _contour_names(levels: tuple[float, ...]) -> list[str]:
    """Legend names of the regions, from the centre outwards."""
    names = [f"p > {levels[0]:.2f}"]
    for a, b in zip(levels[:-1], levels[1:], strict=True):
        names.append(f"{b:.2f} < p \u2264 {a:.2f}")
    names.append(f"p \u2264 {levels[-1]:.2f}")
    return names


def trim_and_fill_parts(result: Any, fit: PooledResult) -> dict[str, Any]:
    """Keyword arguments for :func:`funnel_plot` from a trim-and-fill result.

    ``result`` needs ``.fit`` (the pooled result of observed plus filled
    studies, observed first) and ``.k0`` and ``.side`` as in
    ``alsmeta.trim_and_fill``. The filled studies are the entries of
    ``result.fit`` after the ``fit.k`` observed ones.
    """
    full = result.fit
    k0 = int(result.k0)
    if full.k != fit.k + k0:
        raise AlsmetaInputError(f"trim-and-fill result has k = {full.k}, expected {fit.k} observed + {k0} filled")
    if not np.allclose(full.yi[: fit.k], fit.yi):
        raise AlsmetaInputError("trim-and-fill result: the first k studies are not the observed studies")
    side = getattr(result, "side", None)
    return {"filled_yi": full.yi[fit.k :], "filled_vi": full.vi[fit.k :], "filled_fit": full, "side": side}
