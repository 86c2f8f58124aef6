"""Effect-size axes: nice limits and ticks, on the natural or the log scale.

Ratio measures (risk, odds, hazard ratios) are analysed as logs. Plots keep
the log values as data coordinates (so distances are symmetric around the
null) and label the ticks with the back-transformed ratios, as metafor's
``atransf=exp`` does.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
from matplotlib.axes import Axes
from matplotlib.ticker import FixedLocator, MaxNLocator, NullLocator

from alsmeta.plots import _format
from alsmeta.validation import AlsmetaInputError

_RATIO_LADDER = tuple(m * 10.0**e for e in range(-4, 5) for m in (1.0, 2.0, 5.0))


def _finite(values: Iterable[float]) -> np.ndarray:
    arr = np.asarray([v for v in values if v is not None], dtype=float)
    return arr[np.isfinite(arr)]


def effect_ticks(values: Iterable[float], log_scale: bool = False) -> np.ndarray:
    """Tick positions (in data units) whose first and last ticks enclose ``values``.

    On the log scale the positions are logs of round ratios (1, 2, 5 x 10^n for
    wide ranges; a linear locator on the ratio scale for narrow ones).
    """
    vals = _finite(values)
    if vals.size == 0:
        vals = np.array([math.log(0.5), math.log(2.0)]) if log_scale else np.array([-1.0, 1.0])
    lo, hi = float(vals.min()), float(vals.max())
    if hi - lo < 1e-12:
        pad = 0.1 * max(abs(lo), 1.0) if not log_scale else 0.2
        lo, hi = lo - pad, hi + pad
    if not log_scale:
        return np.asarray(MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10]).tick_values(lo, hi), dtype=float)
    rlo, rhi = math.exp(lo), math.exp(hi)
    if rhi / rlo > 6.0:
        below = [r for r in _RATIO_LADDER if r <= rlo * (1 + 1e-12)]
        above = [r for r in _RATIO_LADDER if r >= rhi * (1 - 1e-12)]
        start = below[-1] if below else _RATIO_LADDER[0]
        stop = above[0] if above else _RATIO_LADDER[-1]
        ladder = [r for r in _RATIO_LADDER if start <= r <= stop]
        if len(ladder) > 8:  # decades only, still enclosing the range
            lo_dec = 10.0 ** math.floor(math.log10(start) + 1e-12)
            hi_dec = 10.0 ** math.ceil(math.log10(stop) - 1e-12)
            ladder = [r for r in _RATIO_LADDER if lo_dec <= r <= hi_dec and math.log10(r) % 1 == 0]
        return np.log(np.asarray(ladder))
    ticks = np.asarray(MaxNLocator(nbins=5, steps=[1, 2, 2.5, 5, 10]).tick_values(rlo, rhi), dtype=float)
    ticks = ticks[ticks > 0]
    if ticks[0] > rlo:  # the locator may not reach below a small positive ratio
        ticks = np.concatenate([[rlo], ticks])
    return np.log(ticks)


def tick_label(value: float, log_scale: bool) -> str:
    """Label of one tick: the value itself, or the ratio ``exp(value)``."""
    if not log_scale:
        text = f"{value:.6g}"
        return "0" if float(text) == 0 else text.replace("-", _format.MINUS)
    r = math.exp(value)
    return f"{r:.3g}"


def set_effect_axis(
    ax: Axes,
    values: Iterable[float],
    log_scale: bool = False,
    limits: tuple[float, float] | None = None,
    axis: str = "x",
) -> tuple[float, float]:
    """Set limits, ticks and tick labels of an effect-size axis and return the limits.

    ``limits`` (in data units, i.e. logs for ratios) overrides the automatic
    limits; ticks then stay inside them.
    """
    if limits is not None:
        lo, hi = float(limits[0]), float(limits[1])
        ticks = effect_ticks([lo, hi], log_scale)
        ticks = ticks[(ticks >= lo - 1e-9) & (ticks <= hi + 1e-9)]
    else:
        ticks = effect_ticks(values, log_scale)
        lo, hi = float(ticks[0]), float(ticks[-1])
    target = ax.xaxis if axis == "x" else ax.yaxis
    (ax.set_xlim if axis == "x" else ax.set_ylim)(lo, hi)
    target.set_major_locator(FixedLocator(list(ticks)))
    target.set_ticklabels([tick_label(t, log_scale) for t in ticks])
    target.set_minor_locator(NullLocator())
    return lo, hi


def data_reference_and_limits(
    reference: float | None, limits: tuple[float, float] | None, log_scale: bool
) -> tuple[float, tuple[float, float] | None]:
    """Convert a user-facing reference line and axis limits to data units.

    On the log scale both are given as ratios (``reference=1``,
    ``limits=(0.1, 10)``) and returned as logs; the default reference is the
    null (0, or ratio 1).
    """
    if limits is not None and (
        len(limits) != 2 or any(v is None or not math.isfinite(v) for v in limits) or not limits[0] < limits[1]
    ):
        raise AlsmetaInputError(f"xlim: expected two finite numbers with low < high, got {limits!r}")
    if not log_scale:
        ref = 0.0 if reference is None else float(reference)
        return ref, (None if limits is None else (float(limits[0]), float(limits[1])))
    if reference is not None and not reference > 0:
        raise AlsmetaInputError(f"reference: a ratio must be > 0, got {reference!r}")
    ref = 0.0 if reference is None else math.log(reference)
    if limits is None:
        return ref, None
    if not limits[0] > 0:
        raise AlsmetaInputError(f"xlim: ratio limits must be > 0, got {limits!r}")
    return ref, (math.log(limits[0]), math.log(limits[1]))
