"""Confidence intervals for the between-study variance tau^2: :func:`tau2_ci`.

Three methods, as metafor's ``confint(fit, type=)``; each inverts a test, so
a bound is 0 where the test at tau^2 = 0 does not reject (and the interval is
the null set ``[0, 0]`` where even the upper bound is 0):

``"qprofile"`` (Viechtbauer 2007)
    the generalised Q statistic ``Q(t) = y'P(t) y`` with weights
    ``1/(v + t)`` is chi^2 with ``k - p`` df at the true tau^2; the bounds
    solve ``Q(t) = chi^2_{k-p}(1 - alpha/2)`` (lower) and
    ``chi^2_{k-p}(alpha/2)`` (upper). Any fit.
``"profile"`` (Hardy and Thompson 1996)
    the bounds solve ``2 [ll(tau2_hat) - ll(t)] = chi^2_1(1 - alpha)`` with
    ``ll`` the profile log-likelihood (ML, or the restricted likelihood for
    REML; the coefficients at their GLS estimate for each ``t``). ML and
    REML fits.
``"bj"`` (Biggerstaff and Jackson 2008; Jackson 2013)
    the weighted statistic ``Q_a = y'P_a y`` (fixed weights ``a``: ``1/v``,
    i.e. Cochran's Q, or the user's weights of a GENQ fit) is distributed as
    ``sum lambda_j(t) chi^2_1`` with ``lambda(t)`` the non-zero eigenvalues
    of ``S P_a S``, ``S = diag(sqrt(v + t))``; the bounds solve
    ``P(Q_a > q_obs; t) = alpha/2`` (lower) and ``1 - alpha/2`` (upper),
    with the tail from :func:`alsmeta.engine.quadform.quadform_sf`. This is
    metafor's ``type="GENQ"``; with weights ``1/v`` it is the interval that
    goes with the DerSimonian-Laird estimator.

The bounds of I^2 and H^2 follow from those of tau^2 as metafor computes
them: ``I^2 = 100 t / (vt + t)``, ``H^2 = t / vt + 1`` with
``vt = (k - p) / tr(P)`` (weights ``1/v``).

References
----------
Viechtbauer W (2007). Confidence intervals for the amount of heterogeneity
in meta-analysis. Stat Med 26:37-52.
Hardy RJ, Thompson SG (1996). A likelihood approach to meta-analysis with
random effects. Stat Med 15:619-629.
Biggerstaff BJ, Jackson D (2008). The exact distribution of Cochran's
heterogeneity statistic in one-way random effects meta-analysis. Stat Med
27:6093-6110.
Jackson D (2013). Confidence intervals for the between-study variance in
random effects meta-analysis using generalised Cochran heterogeneity
statistics. Res Synth Methods 4:220-229.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
from scipy import optimize, stats

from alsmeta.engine.likelihood import log_likelihoods
from alsmeta.engine.quadform import quadform_sf
from alsmeta.engine.weighted import weighted_projection
from alsmeta.models._model_data import ModelData, model_data
from alsmeta.results import ResultMixin
from alsmeta.validation import AlsmetaInputError, choice, probability_level

__all__ = ["Tau2Interval", "tau2_ci"]

Array = npt.NDArray[np.float64]

METHODS = ("qprofile", "profile", "bj")


@dataclass(frozen=True)
class Tau2Interval(ResultMixin):
    """Result of :func:`tau2_ci`.

    Attributes
    ----------
    tau2, ci_low, ci_high
        The fit's tau^2 estimate and the interval.
    tau_ci_low, tau_ci_high, i2_ci_low, i2_ci_high, h2_ci_low, h2_ci_high
        The same interval for tau, I^2 (percent) and H^2.
    method, level
        ``"qprofile"``, ``"profile"`` or ``"bj"``, and the confidence level.
    null_set
        True when both bounds are 0 (the data vary less than the sampling
        variances imply).
    """

    _title: ClassVar[str] = "Confidence interval for tau^2"

    tau2: float
    ci_low: float
    ci_high: float
    tau_ci_low: float
    tau_ci_high: float
    i2_ci_low: float
    i2_ci_high: float
    h2_ci_low: float
    h2_ci_high: float
    method: str
    level: float
    null_set: bool
    notes: tuple[str, ...] = field(default=())


def _gls(y: Array, v: Array, X: Array, t: float) -> Array:
    w = 1.0 / (v + t)
    xtw = X.T * w[None, :]
    return np.linalg.solve(xtw @ X, xtw @ y)


def _q_of(d: ModelData) -> Callable[[float], float]:
    """The generalised Q statistic ``y'P(t)y`` (weights ``1/(v + t)``), decreasing in ``t``."""

    def q(t: float) -> float:
        w = 1.0 / (d.vi + t)
        return float(np.sum(w * (d.yi - d.X @ _gls(d.yi, d.vi, d.X, t)) ** 2))

    return q


def _upper_bracket(f: Callable[[float], float], start: float) -> float:
    """A ``t >= start`` with ``f(t) < 0`` for a function positive at 0 (doubling)."""
    hi = start
    for _ in range(400):
        if f(hi) < 0:
            return hi
        hi *= 2.0
    raise AlsmetaInputError("fit: no upper bound for tau^2 could be bracketed (the data are degenerate)")


def _root(f: Callable[[float], float], lo: float, hi: float) -> float:
    return float(optimize.brentq(f, lo, hi, xtol=1e-15 * max(hi, 1e-300), rtol=4 * np.finfo(float).eps, maxiter=1000))


def _decreasing_bounds(
    g: Callable[[float], float], lower_target: float, upper_target: float, scale: float
) -> tuple[float, float]:
    """Bounds of ``{t >= 0 : hi_target >= g(t) >= lo_target}`` for a decreasing ``g`` (0 where none)."""
    g0 = g(0.0)
    if g0 < upper_target:
        return 0.0, 0.0
    upper = _root_above(lambda t: g(t) - upper_target, scale)
    lower = 0.0 if g0 < lower_target else _root_above(lambda t: g(t) - lower_target, scale)
    return lower, upper


def _root_above(f: Callable[[float], float], scale: float) -> float:
    if f(0.0) <= 0:
        return 0.0
    return _root(f, 0.0, _upper_bracket(f, scale))


def _scale(d: ModelData) -> float:
    return max(float(d.tau2), float(np.var(d.yi)), float(np.max(d.vi)), 1e-300)


def _qprofile(d: ModelData, alpha: float) -> tuple[float, float]:
    df = d.X.shape[0] - d.X.shape[1]
    return _decreasing_bounds(_q_of(d), stats.chi2.isf(alpha / 2, df), stats.chi2.ppf(alpha / 2, df), _scale(d))


def _profile(d: ModelData, alpha: float) -> tuple[float, float]:
    if d.method not in ("ML", "REML"):
        raise AlsmetaInputError(f"method: 'profile' needs an ML or REML fit; this fit used method={d.method!r}")
    reml = d.method == "REML"

    def ll(t: float) -> float:
        return log_likelihoods(d.yi, d.vi, d.X, t, _gls(d.yi, d.vi, d.X, t))[int(reml)]

    target = ll(d.tau2) - 0.5 * stats.chi2.ppf(1.0 - alpha, 1)

    def f(t: float) -> float:
        return ll(t) - target

    lower = 0.0 if f(0.0) >= 0 else _root(f, 0.0, d.tau2)
    hi = _upper_bracket(f, max(2.0 * d.tau2, _scale(d)))
    return lower, _root(f, d.tau2, hi)


def _bj(d: ModelData, alpha: float) -> tuple[float, float]:
    a = d.user_weights if d.user_weights is not None else 1.0 / d.vi
    k, p = d.X.shape
    P = weighted_projection(d.X, a)
    q_obs = float(d.yi @ P @ d.yi)

    def tail(t: float) -> float:
        s = np.sqrt(d.vi + t)
        lam = np.linalg.eigvalsh(s[:, None] * P * s[None, :])[::-1][: k - p].astype(np.float64)
        return quadform_sf(q_obs, lam)

    # the tail probability increases with t: g = 1 - tail decreases
    return _decreasing_bounds(lambda t: 1.0 - tail(t), 1.0 - alpha / 2, alpha / 2, _scale(d))


def _i2_h2(d: ModelData, t: float) -> tuple[float, float]:
    k, p = d.X.shape
    tr_p = float(np.trace(weighted_projection(d.X, 1.0 / d.vi)))
    vt = (k - p) / tr_p
    return 100.0 * t / (vt + t), t / vt + 1.0


def tau2_ci(fit: Any, method: str = "qprofile", level: float | None = None) -> Tau2Interval:
    """Confidence interval for tau^2 of a random-effects fit (metafor's ``confint()``).

    Parameters
    ----------
    fit
        Result of :func:`alsmeta.pool` or :func:`alsmeta.meta_regression`
        with tau^2 estimated (not the common-effect model, not a fixed tau^2)
        and at least ``p + 1`` studies.
    method
        ``"qprofile"`` (default; Viechtbauer 2007), ``"profile"`` (profile
        likelihood; ML and REML fits) or ``"bj"`` (Biggerstaff-Jackson /
        generalised Q; uses the fit's user weights if it has them, else
        ``1/v``). Formulas in :mod:`alsmeta.models.tau2_ci`.
    level
        Confidence level (0.95 or 95); default the fit's level.

    Returns
    -------
    Tau2Interval

    Raises
    ------
    AlsmetaInputError
        For a fit without an estimated tau^2, too few studies, an unknown
        ``method`` or a bad ``level``.
    """
    method = choice(method, "method", METHODS)
    d = model_data(fit)
    level = d.level if level is None else probability_level(level)
    k, p = d.X.shape
    if d.method == "CE":
        raise AlsmetaInputError("fit: a common-effect fit (method='CE') has no tau^2 to give an interval for")
    if d.tau2_fixed:
        raise AlsmetaInputError("fit: tau^2 was fixed by the user, not estimated; there is no interval")
    if k - p < 1:
        raise AlsmetaInputError(
            f"fit: {k} stud{'y' if k == 1 else 'ies'} for {p} coefficient(s); tau^2 has no interval"
        )
    alpha = 1.0 - level
    low, high = {"qprofile": _qprofile, "profile": _profile, "bj": _bj}[method](d, alpha)
    (i2_low, h2_low), (i2_high, h2_high) = _i2_h2(d, low), _i2_h2(d, high)
    null_set = high == 0.0
    notes = (
        ("The interval is the null set [0, 0]: the studies vary less than their sampling variances imply.",)
        if null_set
        else ()
    )
    return Tau2Interval(
        tau2=d.tau2,
        ci_low=low,
        ci_high=high,
        tau_ci_low=float(np.sqrt(low)),
        tau_ci_high=float(np.sqrt(high)),
        i2_ci_low=i2_low,
        i2_ci_high=i2_high,
        h2_ci_low=h2_low,
        h2_ci_high=h2_high,
        method=method,
        level=level,
        null_set=null_set,
        notes=notes,
    )
