"""Trial sequential monitoring of a cumulative meta-analysis.

* :func:`alpha_spending` - Lan-DeMets alpha-spending functions (O'Brien-Fleming
  type and Pocock type), two-sided and symmetric.
* :func:`group_sequential_boundaries` - two-sided monitoring boundaries at
  arbitrary information fractions, computed by the recursive numerical
  integration of Armitage, McPherson & Rowe (1969) on the grid of Jennison &
  Turnbull (2000, ch. 19).
* :func:`diversity` - the diversity ``D^2`` of a random-effects meta-analysis
  (Wetterslev, Thorlund, Brok & Gluud 2009).
* :func:`trial_sequential_analysis` - the cumulative Z curve of a meta-analysis
  in publication order (from :func:`alsmeta.cumulative`, so the same engine as
  every other fit), the required information size (RIS, from
  :func:`alsmeta.optimal_information_size`) and the boundaries at each
  cumulative information fraction (Wetterslev et al. 2008; Thorlund et al. 2011).

Boundaries are on the Wald Z scale: ``Z_j = estimate_j / se_j`` of the
meta-analysis of the first ``j`` studies, under the fit's tau^2 estimator and
a z test.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import optimize, stats

from alsmeta.diagnostics.sensitivity import cumulative
from alsmeta.models._fitted import fixed_tau2, require_fit
from alsmeta.models.pooling import PooledResult, pool
from alsmeta.planning.power import InformationSize, optimal_information_size
from alsmeta.results import ResultMixin
from alsmeta.validation import AlsmetaInputError, finite_number, missing_studies, na_action_arg, numeric_column

Array = npt.NDArray[np.float64]

SPENDING_FUNCTIONS = ("obrien_fleming", "pocock")
_SPENDING_NAMES = {"obrien_fleming": "O'Brien-Fleming-type", "pocock": "Pocock-type"}
PATH_POINTS = 100
"""Information fractions (besides the looks) at which the boundary path is traced for figures."""
_BOUNDARY_CAP = 40.0  # |Z| beyond this has probability < 1e-300 under H0: no alpha left to spend


# ------------------------------------------------------------------ input checks
def _alpha(alpha: Any, name: str = "alpha") -> float:
    a = finite_number(alpha, name)
    if not 0.0 < a < 1.0:
        raise AlsmetaInputError(f"{name}: must lie strictly between 0 and 1, got {alpha!r}")
    return a


def _spending(spending: Any) -> str:
    if spending not in SPENDING_FUNCTIONS:
        raise AlsmetaInputError(f"spending: {spending!r} is not one of {', '.join(SPENDING_FUNCTIONS)}")
    return str(spending)


def _fractions(fraction: Any, name: str = "fraction") -> Array:
    if isinstance(fraction, (str, bytes)) or np.ndim(fraction) > 1:
        raise AlsmetaInputError(f"{name}: expected a sequence of information fractions")
    values = np.atleast_1d(np.asarray(fraction, dtype=object))
    if values.size == 0:
        raise AlsmetaInputError(f"{name}: at least one information fraction is needed")
    t = numeric_column(values, name, [f"look {i + 1}" for i in range(values.size)])
    for i, ti in enumerate(t):
        if not 0.0 < ti <= 1.0:
            raise AlsmetaInputError(f"{name}: look {i + 1} has information fraction {ti!r}, outside (0, 1]")
        if i and ti <= t[i - 1]:
            raise AlsmetaInputError(
                f"{name}: information fractions must increase strictly; look {i + 1} ({ti!r}) "
                f"does not exceed look {i} ({t[i - 1]!r})"
            )
    return t


# ------------------------------------------------------------------ spending
def alpha_spending(fraction: Any, alpha: float = 0.05, spending: str = "obrien_fleming") -> Array:
    """Cumulative two-sided type I error spent at each information fraction.

    Parameters
    ----------
    fraction
        Information fractions ``t`` in (0, 1], strictly increasing.
    alpha
        Two-sided significance level (half on each side).
    spending
        ``"obrien_fleming"``: ``2 * [2 - 2 Phi(z_{1-alpha/4} / sqrt(t))]``, the
        O'Brien-Fleming-type function of Lan & DeMets (1983) applied to each
        side at one-sided level ``alpha/2`` (as ldbounds, gsDesign and rpact
        do for symmetric two-sided boundaries). ``"pocock"``:
        ``alpha * log(1 + (e - 1) t)`` (Lan & DeMets 1983).

    Returns
    -------
    numpy.ndarray
        ``alpha(t)``; equals ``alpha`` at ``t = 1``.

    References
    ----------
    Lan KKG, DeMets DL (1983). Discrete sequential boundaries for clinical
    trials. Biometrika 70:659-663.
    """
    t = _fractions(fraction)
    a = _alpha(alpha)
    kind = _spending(spending)
    if kind == "obrien_fleming":
        return 4.0 * stats.norm.sf(stats.norm.isf(a / 4.0) / np.sqrt(t))
    return a * np.log1p((math.e - 1.0) * t)


# ------------------------------------------------------------------ recursive integration
def _grid(lower: float, upper: float, r: int) -> tuple[Array, Array]:
    """Jennison & Turnbull (2000, sec. 19.2.1) grid on (lower, upper) with Simpson weights.

    The ``6r - 1`` points are dense near 0 and sparse in the tails (for a
    standardised statistic under H0); points outside (lower, upper) are
    replaced by the end points, and midpoints are added for Simpson's rule.
    """
    i = np.arange(1, 6 * r, dtype=float)
    x = np.where(
        i < r,
        -3.0 - 4.0 * np.log(r / i),
        np.where(i <= 5 * r, -3.0 + 3.0 * (i - r) / (2.0 * r), 3.0 + 4.0 * np.log(r / np.maximum(6 * r - i, 1e-300))),
    )
    inside = x[(x > lower) & (x < upper)]
    odd = np.concatenate(([lower], inside, [upper]))
    z = np.empty(2 * odd.size - 1)
    z[0::2] = odd
    z[1::2] = 0.5 * (odd[:-1] + odd[1:])
    w = np.zeros_like(z)
    d = np.diff(odd)  # width of each Simpson panel
    w[0:-1:2] += d / 6.0
    w[2::2] += d / 6.0
    w[1::2] = 4.0 * d / 6.0
    return z, w


def _exit_probability(c: float, z_prev: Array, h_prev: Array, t_prev: float, t_now: float) -> float:
    """P(continue to the previous look, then |Z| >= c now), under H0."""
    s = math.sqrt(t_now - t_prev)
    u = z_prev * math.sqrt(t_prev)
    b = c * math.sqrt(t_now)
    return float(np.sum(h_prev * (stats.norm.sf((b - u) / s) + stats.norm.cdf((-b - u) / s))))


def _boundary(target: float, exit_prob: Any) -> float:
    """Solve exit_prob(c) = target for c on (0, cap]; inf when no alpha is left to spend."""
    if target <= 0.0 or exit_prob(_BOUNDARY_CAP) >= target:
        return math.inf
    return float(
        optimize.brentq(lambda c: exit_prob(c) - target, 0.0, _BOUNDARY_CAP, xtol=1e-13, rtol=1e-14, maxiter=500)
    )


def _recursion(t: Array, increments: Array, r: int) -> tuple[Array, list[tuple[Array, Array]]]:
    """Boundaries spending ``increments[j]`` at look ``j`` (Armitage et al. 1969), and after each look
    the grid and weighted sub-density of Z on the continuation region (the state of the recursion)."""
    c = np.empty(t.size)
    c[0] = stats.norm.isf(increments[0] / 2.0) if increments[0] > 0 else math.inf
    z, w = _grid(-min(c[0], _BOUNDARY_CAP), min(c[0], _BOUNDARY_CAP), r)
    h = w * stats.norm.pdf(z)  # density of Z_1 on the continuation region, times the weights
    states = [(z, h)]
    for j in range(1, t.size):
        t_prev, t_now = t[j - 1], t[j]
        exit_prob = functools.partial(_exit_probability, z_prev=z, h_prev=h, t_prev=t_prev, t_now=t_now)
        c[j] = _boundary(increments[j], exit_prob)
        z_new, w_new = _grid(-min(c[j], _BOUNDARY_CAP), min(c[j], _BOUNDARY_CAP), r)
        s = math.sqrt(t_now - t_prev)
        kernel = stats.norm.pdf((z_new[:, None] * math.sqrt(t_now) - z[None, :] * math.sqrt(t_prev)) / s)
        h = w_new * (kernel @ h) * math.sqrt(t_now) / s
        z = z_new
        states.append((z, h))
    return c, states


def _boundaries(t: Array, increments: Array, r: int) -> Array:
    """Two-sided symmetric boundaries spending ``increments[j]`` at look ``j``."""
    return _recursion(t, increments, r)[0]


def _path_grid(looks: Array) -> Array:
    """Fractions at which to trace the boundary path: the looks, and between them points no closer than
    1/PATH_POINTS, so that no point falls just after a look (where little alpha has accrued)."""
    points = [looks]
    edges = np.concatenate(([0.0], looks))
    step = 1.0 / PATH_POINTS
    for lo, hi in itertools.pairwise(edges):
        n = int((hi - lo) / step)
        if n >= 2:
            points.append(lo + (hi - lo) * np.arange(1, n) / n)
    return np.unique(np.concatenate(points))


def _boundary_path(t: Array, alpha: float, spending: str, r: int, grid: Array) -> Array:
    """Boundary a look at each ``grid`` fraction would face, given the actual looks before it.

    Between looks ``j`` and ``j + 1`` the value at ``tau`` is the boundary of a
    look at ``tau`` after looks ``1..j`` (spending ``alpha(tau) - alpha(t_j)``);
    at a look it equals that look's boundary, so the path passes through every
    monitoring boundary. Before the first look it is the one-look boundary.
    Just after a look the path rises a little (a look soon after another has
    little alpha to spend), so it is traced on :func:`_path_grid`.
    """
    spent = alpha_spending(grid, alpha, spending)
    spent_at_looks = alpha_spending(t, alpha, spending)
    _, states = _recursion(t, np.diff(np.concatenate(([0.0], spent_at_looks))), r)
    out = np.empty(grid.size)
    for i, tau in enumerate(grid):
        j = int(np.searchsorted(t, tau, side="left")) - 1  # looks strictly before tau
        if j < 0:
            out[i] = stats.norm.isf(spent[i] / 2.0) if spent[i] > 0 else math.inf
            continue
        z, h = states[j]
        out[i] = _boundary(
            spent[i] - spent_at_looks[j],
            lambda cj, z=z, h=h, t_prev=t[j], t_now=tau: _exit_probability(cj, z, h, t_prev, t_now),
        )
    return out


@dataclass(frozen=True)
class SequentialBoundaries(ResultMixin):
    """Two-sided group-sequential boundaries from an alpha-spending function.

    Attributes
    ----------
    fraction
        Information fraction of each look.
    z
        Boundary on the Z scale at each look (reject H0 when ``|Z| >= z``);
        ``inf`` where the spending function has no alpha left to spend.
    alpha_spent
        Cumulative two-sided alpha spent up to each look.
    nominal_p
        Two-sided nominal p-value of each boundary, ``2 (1 - Phi(z))``.
    alpha, spending, grid_r
        Inputs: level, spending function and grid size ``r``.
    """

    fraction: Array
    z: Array
    alpha_spent: Array
    nominal_p: Array
    alpha: float
    spending: str
    grid_r: int

    @property
    def k(self) -> int:
        return int(self.fraction.size)

    def to_frame(self) -> pd.DataFrame:
        """One row per look: ``look``, ``fraction``, ``z``, ``alpha_spent``, ``nominal_p``."""
        return pd.DataFrame(
            {
                "look": np.arange(1, self.k + 1),
                "fraction": self.fraction,
                "z": self.z,
                "alpha_spent": self.alpha_spent,
                "nominal_p": self.nominal_p,
            }
        )

    def summary(self, digits: int = 4) -> str:
        """Plain-text table as printed by ldbounds/gsDesign."""
        head = (
            f"Two-sided {_SPENDING_NAMES[self.spending]} alpha-spending boundaries "
            f"(Lan & DeMets 1983), alpha = {self.alpha:g}, {self.k} look{'s' if self.k != 1 else ''}"
        )
        lines = [head, f"{'look':>4}  {'fraction':>9}  {'boundary z':>10}  {'alpha spent':>11}  {'nominal p':>10}"]
        for row in self.to_frame().itertuples(index=False):
            lines.append(
                f"{row.look:>4}  {row.fraction:>9.{digits}f}  {row.z:>10.{digits}f}  "
                f"{row.alpha_spent:>11.{digits + 2}g}  {row.nominal_p:>10.{digits + 2}g}"
            )
        return "\n".join(lines)


def group_sequential_boundaries(
    fraction: Any,
    alpha: float = 0.05,
    spending: str = "obrien_fleming",
    grid_r: int = 32,
) -> SequentialBoundaries:
    """Two-sided symmetric monitoring boundaries at arbitrary information fractions.

    The boundary ``c_j`` at look ``j`` solves
    ``P(|Z_1| < c_1, ..., |Z_{j-1}| < c_{j-1}, |Z_j| >= c_j) = alpha(t_j) - alpha(t_{j-1})``
    under H0, where ``Z_j`` is a Brownian motion ``B(t_j) / sqrt(t_j)``. The
    probabilities come from the recursive numerical integration of Armitage,
    McPherson & Rowe (1969) with Simpson's rule on the grid of Jennison &
    Turnbull (2000, ch. 19), which they show is accurate to about 1e-6 already
    for ``r = 16``.

    Parameters
    ----------
    fraction
        Information fractions of the looks, strictly increasing in (0, 1]. The
        last need not be 1 (boundaries at a look depend only on the looks up
        to it).
    alpha
        Two-sided significance level.
    spending
        ``"obrien_fleming"`` or ``"pocock"`` (see :func:`alpha_spending`).
    grid_r
        Grid size ``r`` (``12 r - 1`` integration points per look).

    Returns
    -------
    SequentialBoundaries

    Notes
    -----
    One look at ``t = 1`` gives the fixed-sample ``z_{1-alpha/2}``. Five
    equally spaced looks at alpha 0.05 (O'Brien-Fleming type) give 4.877,
    3.357, 2.680, 2.290, 2.031 (ldbounds, gsDesign, rpact).

    References
    ----------
    Armitage P, McPherson CK, Rowe BC (1969). Repeated significance tests on
    accumulating data. J R Stat Soc A 132:235-244.
    Lan KKG, DeMets DL (1983). Biometrika 70:659-663.
    Jennison C, Turnbull BW (2000). Group Sequential Methods with
    Applications to Clinical Trials, ch. 7 and 19. Chapman & Hall/CRC.
    """
    t = _fractions(fraction)
    a = _alpha(alpha)
    kind = _spending(spending)
    if isinstance(grid_r, bool) or not isinstance(grid_r, (int, np.integer)) or grid_r < 4:
        raise AlsmetaInputError(f"grid_r: must be a whole number >= 4, got {grid_r!r}")
    spent = alpha_spending(t, a, kind)
    increments = np.diff(np.concatenate(([0.0], spent)))
    c = _boundaries(t, increments, int(grid_r))
    nominal = np.where(np.isfinite(c), 2.0 * stats.norm.sf(np.minimum(c, _BOUNDARY_CAP)), 0.0)
    return SequentialBoundaries(t, c, spent, nominal, a, kind, int(grid_r))


# ------------------------------------------------------------------ heterogeneity
def diversity(fit: PooledResult) -> float:
    """Diversity ``D^2 = (V_R - V_F) / V_R`` of a meta-analysis (Wetterslev et al. 2009).

    ``V_R`` is the variance of the pooled estimate of ``fit`` (its tau^2
    estimator) and ``V_F`` that of the common-effect (inverse-variance) fit of
    the same studies. ``D^2`` is the share of the random-effects variance
    due to heterogeneity; the required information size is divided by
    ``1 - D^2``. 0 for a common-effect fit or ``tau^2 = 0``.

    References
    ----------
    Wetterslev J, Thorlund K, Brok J, Gluud C (2009). Estimating required
    information size by quantifying diversity in random-effects model
    meta-analyses. BMC Med Res Methodol 9:86.
    """
    fit = require_fit(fit, "diversity")
    if fit.k == 0:
        raise AlsmetaInputError("fit: diversity needs at least one study (k = 0)")
    if fit.test != "z":
        raise AlsmetaInputError(f"fit: D^2 compares Wald variances; refit with test='z' (got test={fit.test!r})")
    common = pool(fit.yi, fit.vi, method="CE", test="z")
    return float(max(0.0, 1.0 - common.se**2 / fit.se**2))


# ------------------------------------------------------------------ trial sequential analysis
@dataclass(frozen=True)
class TrialSequentialResult(ResultMixin):
    """Cumulative meta-analysis monitored with alpha-spending boundaries.

    One entry per look (a study added in publication order): ``labels``,
    ``order`` (its sort key, e.g. year), ``participants`` (the study's),
    ``cumulative_participants``, ``fraction`` (cumulative participants / RIS),
    ``estimate``, ``se``, ``z`` (cumulative Wald Z), ``k`` (studies pooled) and
    ``boundary`` (the two-sided boundary that look is judged against; looks
    at or beyond the RIS are judged against the boundary at fraction 1).

    ``ris`` is the required information size (participants) and
    ``information_size`` the full calculation (unadjusted total, ``D^2``,
    effect, SD, alpha, power); ``boundaries`` holds the boundaries at the
    looks below the RIS plus fraction 1. ``crossed`` says whether any ``|z|``
    reached its boundary, ``first_crossing`` the label of the first such look
    (``None`` if none), ``ris_reached`` whether the cumulative participants
    reached the RIS.
    """

    labels: tuple[str, ...]
    order: tuple[Any, ...]
    participants: Array
    cumulative_participants: Array
    fraction: Array
    estimate: Array
    se: Array
    z: Array
    k: npt.NDArray[np.int64]
    boundary: Array
    boundaries: SequentialBoundaries
    path_fraction: Array
    path_z: Array
    information_size: InformationSize
    heterogeneity_adjusted: bool
    method: str
    alpha: float
    spending: str

    @property
    def ris(self) -> float:
        """Required information size in participants (heterogeneity-adjusted if requested)."""
        size = self.information_size
        return float(size.heterogeneity_adjusted if self.heterogeneity_adjusted else size.total)

    @property
    def diversity(self) -> float:
        return float(self.information_size.diversity)

    @property
    def crossed(self) -> bool:
        return bool(np.any(np.abs(self.z) >= self.boundary))

    @property
    def first_crossing(self) -> str | None:
        hits = np.flatnonzero(np.abs(self.z) >= self.boundary)
        return self.labels[int(hits[0])] if hits.size else None

    @property
    def ris_reached(self) -> bool:
        return bool(self.cumulative_participants[-1] >= self.ris)

    def to_frame(self) -> pd.DataFrame:
        """One row per look."""
        return pd.DataFrame(
            {
                "label": list(self.labels),
                "order": list(self.order),
                "participants": self.participants,
                "cumulative_participants": self.cumulative_participants,
                "fraction": self.fraction,
                "k": self.k,
                "estimate": self.estimate,
                "se": self.se,
                "z": self.z,
                "boundary": self.boundary,
                "crossed": np.abs(self.z) >= self.boundary,
            }
        )

    def to_dict(self) -> dict[str, Any]:
        """Headline numbers (for ``numbers.json``), with the assumptions beside them."""
        size = self.information_size
        return {
            "ris": self.ris,
            "ris_unadjusted": float(size.total),
            "diversity_d2": self.diversity,
            "heterogeneity_adjusted": self.heterogeneity_adjusted,
            "delta": float(size.delta),
            "sd": float(size.sd),
            "alpha": self.alpha,
            "power": float(size.power),
            "spending": self.spending,
            "method": self.method,
            "cumulative_participants": float(self.cumulative_participants[-1]),
            "final_fraction": float(self.fraction[-1]),
            "final_z": float(self.z[-1]),
            "final_boundary": float(self.boundary[-1]),
            "crossed": self.crossed,
            "first_crossing": self.first_crossing,
            "ris_reached": self.ris_reached,
        }

    def summary(self, digits: int = 3) -> str:
        size = self.information_size
        adj = (
            f", adjusted for diversity D^2 = {self.diversity:.{digits}f}"
            if self.heterogeneity_adjusted
            else " (not adjusted for heterogeneity)"
        )
        lines = [
            f"Trial sequential analysis ({self.method}, Wald z), two-sided alpha = {self.alpha:g}, "
            f"{_SPENDING_NAMES[self.spending]} alpha spending (Lan & DeMets 1983)",
            f"Required information size: {self.ris:.1f} participants (effect {size.delta:g}, SD {size.sd:g}, "
            f"power {size.power:g}{adj})",
            f"{'study':<24} {'order':>6} {'N cum':>7} {'fraction':>8} {'z':>8} {'boundary':>9}",
        ]
        for row in self.to_frame().itertuples(index=False):
            lines.append(
                f"{str(row.label)[:24]:<24} {str(row.order):>6} {row.cumulative_participants:>7.0f} "
                f"{row.fraction:>8.{digits}f} {row.z:>8.{digits}f} {row.boundary:>9.{digits}f}"
            )
        verdict = f"boundary crossed at {self.first_crossing}" if self.crossed else "no boundary crossed"
        lines.append(
            f"{verdict}; RIS {'reached' if self.ris_reached else 'not reached'} "
            f"({self.cumulative_participants[-1]:.0f} of {self.ris:.0f} participants)."
        )
        return "\n".join(lines)


def trial_sequential_analysis(
    fit: PooledResult,
    participants: Sequence[Any],
    order: Sequence[Any],
    *,
    delta: float,
    sd: float,
    alpha: float = 0.05,
    power: float = 0.8,
    spending: str = "obrien_fleming",
    heterogeneity_adjusted: bool = True,
    grid_r: int = 32,
    na_action: str = "raise",
) -> TrialSequentialResult:
    """Trial sequential analysis of a meta-analysis of a continuous outcome.

    Studies are added in increasing ``order`` (e.g. publication year; ties
    keep the data order) with :func:`alsmeta.cumulative`; look ``j`` has
    cumulative information fraction ``t_j = N_j / RIS`` where ``N_j`` is the
    cumulative number of participants. The required information size is
    :func:`alsmeta.optimal_information_size` for a two-arm comparison (1:1)
    with effect ``delta``, SD ``sd``, two-sided ``alpha`` and ``power``,
    divided by ``1 - D^2`` when ``heterogeneity_adjusted`` (D^2 of the full
    meta-analysis, :func:`diversity`). Boundaries come from
    :func:`group_sequential_boundaries` at the fractions of the looks below
    the RIS plus fraction 1.

    Parameters
    ----------
    fit
        An :func:`alsmeta.pool` result with ``test="z"``.
    participants
        Participants analysed in each study (both arms), in the fit's order.
    order
        Publication order key per study (e.g. year).
    delta, sd
        Anticipated intervention effect and SD (outcome units) for the RIS.
    alpha, power, spending, grid_r
        As in :func:`optimal_information_size` and
        :func:`group_sequential_boundaries`.
    heterogeneity_adjusted
        Divide the RIS by ``1 - D^2`` (Wetterslev et al. 2009).
    na_action
        ``"raise"`` (default): a study with a missing number of participants
        or order is an error naming the study and the column; ``"drop"``:
        such studies are left out with a warning that counts and names
        them, and the meta-analysis is refitted without them (same method,
        test, level and fixed tau^2), so the monitoring, D^2 and the
        cumulative estimates all rest on the same studies.

    Notes
    -----
    The RIS is the fixed-sample size (not inflated for the sequential
    design), as in Wetterslev et al. (2008). ``delta`` should be the effect
    worth detecting (e.g. a minimal clinically important difference) fixed
    in advance, not the pooled estimate itself: a RIS built on the observed
    effect makes the monitoring circular.

    References
    ----------
    Wetterslev J, Thorlund K, Brok J, Gluud C (2008). Trial sequential analysis
    may establish when firm evidence is reached in cumulative meta-analysis.
    J Clin Epidemiol 61:64-75.
    Thorlund K, Engstrom J, Wetterslev J, et al. (2011). User manual for trial
    sequential analysis (TSA). Copenhagen Trial Unit.
    """
    fit = require_fit(fit, "trial_sequential_analysis")
    na_action = na_action_arg(na_action)
    if fit.k == 0:
        raise AlsmetaInputError("fit: no study to monitor (k = 0)")
    if fit.test != "z":
        raise AlsmetaInputError(
            f"fit: the boundaries are on the Wald Z scale; refit with test='z' (got test={fit.test!r})"
        )
    n = numeric_column(participants, "participants", fit.labels, positive=True, allow_nan=True)
    fit, n, order = _complete_studies(fit, n, order, na_action)
    a = _alpha(alpha)
    kind = _spending(spending)
    size = optimal_information_size(delta, sd, alpha=a, power=_alpha(power, "power"), diversity=diversity(fit))
    ris = float(size.heterogeneity_adjusted if heterogeneity_adjusted else size.total)
    cum = cumulative(fit, order=order)
    by_label = dict(zip(fit.labels, n, strict=True))
    n_sorted = np.array([by_label[lab] for lab in cum["label"]], dtype=float)
    n_cum = np.cumsum(n_sorted)
    frac = n_cum / ris
    below = frac < 1.0
    looks = np.concatenate((frac[below], [1.0]))
    bounds = group_sequential_boundaries(looks, a, kind, grid_r)
    path_fraction = _path_grid(looks)
    path_z = _boundary_path(looks, a, kind, int(grid_r), path_fraction)
    m = int(below.sum())  # fractions increase, so the looks below the RIS come first
    boundary = np.concatenate((bounds.z[:m], np.full(frac.size - m, bounds.z[-1])))
    estimate = cum["estimate"].to_numpy(float)
    se = cum["se"].to_numpy(float)
    return TrialSequentialResult(
        labels=tuple(str(x) for x in cum["label"]),
        order=tuple(cum["order"].tolist()),
        participants=n_sorted,
        cumulative_participants=n_cum,
        fraction=frac,
        estimate=estimate,
        se=se,
        z=estimate / se,
        k=cum["k"].to_numpy(np.int64),
        boundary=boundary.astype(float),
        boundaries=bounds,
        path_fraction=path_fraction,
        path_z=path_z,
        information_size=size,
        heterogeneity_adjusted=bool(heterogeneity_adjusted),
        method=fit.method,
        alpha=a,
        spending=kind,
    )


def _complete_studies(
    fit: PooledResult, n: Array, order: Any, na_action: str
) -> tuple[PooledResult, Array, Sequence[Any]]:
    """The fit, participants and order without the studies missing ``participants`` or ``order`` (``na_action``).

    ``order`` of the wrong shape is passed on unchanged for :func:`alsmeta.cumulative` to refuse.
    """
    order_missing = None
    if not isinstance(order, (str, bytes)) and np.ndim(order) == 1 and len(order) == fit.k:
        order_missing = pd.isna(np.asarray(order, dtype=object)).astype(bool)
    keep = missing_studies({"participants": n, "order": order_missing}, list(fit.labels), na_action)
    if keep is None:
        return fit, n, order
    if not keep.any():
        raise AlsmetaInputError("participants, order: every study has a missing value; no study to monitor")
    labels = [lab for lab, kp in zip(fit.labels, keep, strict=True) if kp]
    refit = pool(
        fit.yi[keep],
        fit.vi[keep],
        method=fit.method,
        test=fit.test,
        level=fit.level,
        labels=labels,
        tau2=fixed_tau2(fit),
    )
    return refit, n[keep], [o for o, kp in zip(order, keep, strict=True) if kp]
