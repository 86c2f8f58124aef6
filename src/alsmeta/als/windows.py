"""Between-arm differences in *increments per window* from nested change-from-baseline summaries.

Trials report the change from baseline at several times (e.g. Oh 2018,
ALSFRS-R at 4 and 6 months). Those windows are nested: the 6-month change
contains the 4-month change, so "the difference at 6 months is as large as at
4 months" does not show that the benefit keeps growing, and "the difference
is still there at 6 months" does not show that it does not fade. The question
"does the between-arm gain keep accruing, stop, or reverse?" is about the
*increment* in each window, ``(D_j - D_{j-1}) / (t_j - t_{j-1})`` per month,
where ``D_j`` is the between-arm difference (treated minus control) of the
mean change from baseline at time ``t_j``.

The variance of an increment needs the covariance of the two changes within
each arm, which trials rarely report. Nothing here invents it: every result
is computed under a correlation ``r`` that the caller states, so an analysis
can report bounds over a range (the interval is widest at the smallest r) and
a value under a stated, sourced or derived r. For the covariance of two arm
means measured on partly different patients the number measured at both times
is taken as the smaller of the two n (every patient measured later was also
measured earlier: monotone drop-out), an assumption recorded in the result.

Formulas (for one arm, means ``m_a, m_b`` at times ``a < b``, SDs ``s_a, s_b``,
sizes ``n_a, n_b``; Cochrane Handbook ch. 6.5.2.8 for changes from baseline)::

    Cov(m_a, m_b) = r s_a s_b min(n_a, n_b) / (n_a n_b)
    Var(m_b - m_a) = s_a^2 / n_a + s_b^2 / n_b - 2 Cov(m_a, m_b)

and the two arms are independent (randomised).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from alsmeta.validation import AlsmetaInputError

__all__ = [
    "ArmChange",
    "WindowAnalysis",
    "WindowIncrement",
    "arm_change_covariance",
    "linear_decline_correlation",
    "window_increments",
]

N_BOTH_ASSUMPTION = "patients measured at both times = the smaller n (monotone drop-out; not reported)"


@dataclass(frozen=True)
class ArmChange:
    """Mean change from baseline in one arm at one time.

    Attributes
    ----------
    mean, sd : float
        Mean and standard deviation of the change from baseline.
    n : int
        Patients in the mean.
    label : str
        Where the numbers come from (named in error messages).
    """

    mean: float
    sd: float
    n: int
    label: str = ""

    def __post_init__(self) -> None:
        where = f" ({self.label})" if self.label else ""
        for name in ("mean", "sd"):
            value = getattr(self, name)
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, float, np.floating, np.integer))
                or not math.isfinite(value)
            ):
                raise AlsmetaInputError(f"ArmChange{where}, column {name!r}: {value!r} is not a finite number")
        if self.sd <= 0:
            raise AlsmetaInputError(f"ArmChange{where}, column 'sd': {self.sd!r} must be > 0")
        if isinstance(self.n, bool) or int(self.n) != self.n or self.n < 2:
            raise AlsmetaInputError(f"ArmChange{where}, column 'n': {self.n!r} must be a whole number >= 2")

    @property
    def var_mean(self) -> float:
        return self.sd**2 / self.n


@dataclass(frozen=True)
class WindowIncrement:
    """Between-arm difference (treated minus control) in the change accrued in one window, per month.

    ``start``/``end`` in months; ``estimate``, ``se``, ``ci_low``, ``ci_high``
    per month; ``r`` the within-arm correlations (treated, control) assumed
    (NaN for a window starting at baseline, which needs none); ``formula`` the
    computation written out.
    """

    start: float
    end: float
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    r: tuple[float, float]
    formula: str

    def to_dict(self) -> dict[str, object]:
        return {
            "start": self.start,
            "end": self.end,
            "estimate": self.estimate,
            "se": self.se,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "r_treated": self.r[0],
            "r_control": self.r[1],
            "formula": self.formula,
        }


@dataclass(frozen=True)
class WindowAnalysis:
    """Per-window increments, and the change of the increment rate between the first and the last window.

    ``slowing`` is (rate in the first window) minus (rate in the last window):
    positive means the between-arm gain accrued more slowly later.
    """

    times: tuple[float, ...]
    differences: tuple[float, ...]
    windows: tuple[WindowIncrement, ...]
    slowing: WindowIncrement
    r: tuple[float, float]
    level: float
    assumptions: tuple[str, ...]

    def to_dict(self) -> dict[str, object]:
        return {
            "times": list(self.times),
            "differences_from_baseline": list(self.differences),
            "windows": [w.to_dict() for w in self.windows],
            "slowing": self.slowing.to_dict(),
            "r_treated": self.r[0],
            "r_control": self.r[1],
            "level": self.level,
            "assumptions": list(self.assumptions),
        }


def arm_change_covariance(a: ArmChange, b: ArmChange, r: float) -> float:
    """Covariance of two mean changes from baseline of the same arm, under within-patient correlation ``r``.

    ``r s_a s_b min(n_a, n_b) / (n_a n_b)``: the patients measured at both
    times are taken to be the smaller group (monotone drop-out).
    """
    r = _correlation(r, "r")
    return r * a.sd * b.sd * min(a.n, b.n) / (a.n * b.n)


def _correlation(r: float, name: str) -> float:
    if (
        isinstance(r, bool)
        or not isinstance(r, (int, float, np.floating, np.integer))
        or not math.isfinite(r)
        or not -1 <= r <= 1
    ):
        raise AlsmetaInputError(f"{name}: a correlation must be a number in [-1, 1], got {r!r}")
    return float(r)


def _arm_cov(arm: Sequence[ArmChange], r: float) -> np.ndarray:
    k = len(arm)
    cov = np.empty((k, k))
    for i in range(k):
        for j in range(k):
            cov[i, j] = arm[i].var_mean if i == j else arm_change_covariance(arm[i], arm[j], r)
    return cov


def window_increments(
    treated: Sequence[ArmChange],
    control: Sequence[ArmChange],
    times: Sequence[float],
    r: float | tuple[float, float],
    level: float = 0.95,
) -> WindowAnalysis:
    """Between-arm difference in the change accrued in each window between reported times, per month.

    Parameters
    ----------
    treated, control : sequence of ArmChange
        Mean change from baseline in each arm at each of ``times``.
    times : sequence of float
        Months after baseline, strictly increasing, > 0. Windows are
        ``[0, t_1], [t_1, t_2], ...``.
    r : float or (float, float)
        Within-patient correlation between the changes from baseline at any two
        of the times (one value, or one per arm: treated, control). Not
        reported by trials: pass the bounds of a stated range and a stated
        plausible value, never a guess presented as data.
    level : float
        Confidence level; intervals are normal (z), with unpooled SEs.

    Returns
    -------
    WindowAnalysis
        Increments per window (the first needs no correlation), and the
        slowing of the increment rate from the first to the last window
        (NaN with a single time: nothing to compare).

    Notes
    -----
    With ``D_j`` the difference in mean change at ``t_j`` (``D_0 = 0``), the
    window increment is ``(D_j - D_{j-1}) / (t_j - t_{j-1})`` and its
    variance follows from ``Cov(D) = Cov_treated + Cov_control`` (see the
    module docstring). Change scores: Cochrane Handbook ch. 6.5.2.8 and 10.5.2;
    a correlation range as sensitivity analysis: Follmann et al. 1992, J Clin
    Epidemiol 45:769-773.
    """
    times_t = tuple(float(t) for t in times)
    if len(times_t) < 1 or len(treated) != len(times_t) or len(control) != len(times_t):
        raise AlsmetaInputError(
            f"times, treated, control: need one ArmChange per time in each arm; got {len(times_t)} times, "
            f"{len(treated)} treated, {len(control)} control"
        )
    if (
        not all(math.isfinite(t) for t in times_t)
        or times_t[0] <= 0
        or any(b <= a for a, b in itertools.pairwise(times_t))
    ):
        raise AlsmetaInputError(f"times: must be finite, > 0 and strictly increasing, got {list(times_t)}")
    for name, arm in (("treated", treated), ("control", control)):
        for i, a in enumerate(arm):
            if not isinstance(a, ArmChange):
                raise AlsmetaInputError(f"{name}[{i}]: expected an ArmChange, got {type(a).__name__}")
    if isinstance(r, tuple):
        if len(r) != 2:
            raise AlsmetaInputError(f"r: give one correlation or (treated, control), got {r!r}")
        rr = (_correlation(r[0], "r (treated)"), _correlation(r[1], "r (control)"))
    else:
        rr = (_correlation(r, "r"), _correlation(r, "r"))
    if not 0 < level < 1:
        raise AlsmetaInputError(f"level: must be in (0, 1), got {level!r}")
    z = float(stats.norm.isf((1 - level) / 2))
    d = np.array([t.mean - c.mean for t, c in zip(treated, control, strict=True)])
    cov = _arm_cov(treated, rr[0]) + _arm_cov(control, rr[1])
    k = len(times_t)
    edges = (0.0, *times_t)

    def contrast(
        weights: np.ndarray, start: float, end: float, formula: str, r_used: tuple[float, float]
    ) -> WindowIncrement:
        est = float(weights @ d)
        var = float(weights @ cov @ weights)
        se = math.sqrt(max(var, 0.0))
        return WindowIncrement(start, end, est, se, est - z * se, est + z * se, r_used, formula)

    windows = []
    for j in range(k):
        w = np.zeros(k)
        w[j] = 1.0
        if j:
            w[j - 1] = -1.0
        width = edges[j + 1] - edges[j]
        w /= width
        lab = f"D({edges[j + 1]:g})" + (f" - D({edges[j]:g})" if j else "")
        formula = (
            f"({lab}) / {width:g} months; Var = "
            + (
                f"Var(D({edges[j + 1]:g}))"
                if not j
                else f"Var(D({edges[j + 1]:g})) + Var(D({edges[j]:g})) - 2 Cov, "
                "Cov per arm r s_a s_b min(n_a, n_b) / (n_a n_b)"
            )
            + f" / {width:g}^2; D = treated minus control mean change from baseline"
        )
        windows.append(contrast(w, edges[j], edges[j + 1], formula, (math.nan, math.nan) if not j else rr))
    slowing_formula = (
        "rate in the first window minus rate in the last window "
        "(positive: the between-arm gain accrued more slowly later)"
    )
    if k == 1:  # one window: nothing to compare
        slowing = WindowIncrement(
            0.0,
            edges[-1],
            math.nan,
            math.nan,
            math.nan,
            math.nan,
            (math.nan, math.nan),
            "undefined with one window: " + slowing_formula,
        )
    else:
        first, last = np.zeros(k), np.zeros(k)
        first[0] = 1.0 / edges[1]
        last[k - 1] += 1.0 / (edges[k] - edges[k - 1])
        last[k - 2] -= 1.0 / (edges[k] - edges[k - 1])
        slowing = contrast(first - last, 0.0, edges[-1], slowing_formula, rr)
    return WindowAnalysis(
        times_t,
        tuple(float(x) for x in d),
        tuple(windows),
        slowing,
        rr,
        level,
        (
            N_BOTH_ASSUMPTION,
            f"within-patient correlation of the changes: {rr[0]:g} (treated), {rr[1]:g} (control)",
            "normal (z) intervals with unpooled SEs",
        ),
    )


def linear_decline_correlation(sd_early: float, sd_late: float, t_early: float, t_late: float) -> float:
    """Correlation of two changes from baseline implied by linear individual decline plus measurement error.

    Model: ``y_i(t) = y_i(0) + b_i t + e_i(t)``, slopes ``b_i`` with variance
    ``s_b^2``, independent visit errors ``e`` with variance ``s_e^2`` (the
    random-slope model of ALSFRS-R natural history, e.g. Kaufmann 2009; the
    shared baseline error makes the two changes correlated even with no slope
    variance). Then ``Var(c_t) = t^2 s_b^2 + 2 s_e^2`` and
    ``Cov(c_a, c_b) = a b s_b^2 + s_e^2``; the two variance components are
    solved from the two reported SDs of the change.

    Raises
    ------
    AlsmetaInputError
        If the SDs imply a negative variance component (the model does not
        fit those numbers).
    """
    for name, v in (("sd_early", sd_early), ("sd_late", sd_late), ("t_early", t_early), ("t_late", t_late)):
        if (
            isinstance(v, bool)
            or not isinstance(v, (int, float, np.floating, np.integer))
            or not math.isfinite(v)
            or v <= 0
        ):
            raise AlsmetaInputError(f"{name}: must be a finite number > 0, got {v!r}")
    if t_late <= t_early:
        raise AlsmetaInputError(f"t_late: must exceed t_early, got {t_early!r} and {t_late!r}")
    va, vb = sd_early**2, sd_late**2
    slope_var = (vb - va) / (t_late**2 - t_early**2)
    error_var = (va - t_early**2 * slope_var) / 2
    if slope_var < 0 or error_var < 0:
        raise AlsmetaInputError(
            f"sd_early, sd_late: {sd_early!r} and {sd_late!r} imply a negative variance component under linear decline "
            f"(slope variance {slope_var:.4g}, error variance {error_var:.4g})"
        )
    return (t_early * t_late * slope_var + error_var) / math.sqrt(va * vb)
