r"""Bayesian random-effects meta-analysis by numerical integration.

The normal-normal hierarchical model of Röver (2020), as in the R package
*bayesmeta*:

.. math::

    y_i \mid \theta_i \sim N(\theta_i, s_i^2), \qquad
    \theta_i \mid \mu, \tau \sim N(\mu, \tau^2), \qquad
    \tau \sim \text{half-normal}(\text{scale}), \qquad
    \mu \sim N(m_0, s_0^2) \ \text{or flat } (s_0 = \infty).

The joint posterior of :math:`(\mu, \tau)` is evaluated without simulation,
so every number is deterministic:

1. Integrating :math:`\mu` out analytically gives the marginal posterior of
   :math:`\tau` up to a constant,

   .. math::

       p(\tau \mid y) \propto p(\tau)\,
       \Bigl[\prod_i v_i^{-1/2}\Bigr] P(\tau)^{-1/2}
       \exp\Bigl\{-\tfrac12 \Bigl[\sum_i w_i (y_i - m(\tau))^2
       + \frac{(m_0 - m(\tau))^2}{s_0^2}\Bigr]\Bigr\},

   with :math:`v_i = s_i^2 + \tau^2`, :math:`w_i = 1/v_i`,
   :math:`P(\tau) = \sum_i w_i + 1/s_0^2` and
   :math:`m(\tau) = (\sum_i w_i y_i + m_0/s_0^2)/P(\tau)` (the prior terms
   vanish for a flat prior).
2. Given :math:`\tau`, :math:`\mu` is normal with mean :math:`m(\tau)` and
   variance :math:`1/P(\tau)`, so the marginal posterior of :math:`\mu` (and
   the predictive distribution of a new study's effect
   :math:`\theta_{\text{new}}`, variance :math:`1/P(\tau) + \tau^2`) is a
   continuous normal mixture over :math:`p(\tau \mid y)`.
3. That mixture is integrated with composite Gauss-Legendre quadrature in
   :math:`\tau` (20 nodes on each of about 160 panels spanning the region
   where the posterior density of :math:`\tau` exceeds :math:`e^{-50}` times
   its maximum). Quantiles are found by Brent's method on the exact mixture
   distribution functions. This replaces bayesmeta's DIRECT grid (whose
   accuracy is set by its ``delta``/``epsilon`` arguments) by a quadrature
   that is accurate to about machine precision for these smooth integrands.

Everything is validated in ``tests/test_bayes.py`` against the conjugate
normal posterior (tau prior scale -> 0), brute-force two-dimensional
integration, Monte Carlo, and reference values from bayesmeta 3.4 itself.

References
----------
Röver C (2020). Bayesian random-effects meta-analysis using the bayesmeta R
package. Journal of Statistical Software 93(6):1-51. doi:10.18637/jss.v093.i06
Röver C, Bender R, Dias S, Schmid CH, Schmidli H, Sturtz S, Weber S, Friede T
(2021). On weakly informative prior distributions for the heterogeneity
parameter in Bayesian random-effects meta-analysis. Research Synthesis
Methods 12:448-474.
Spiegelhalter DJ, Abrams KR, Myles JP (2004). Bayesian Approaches to Clinical
Trials and Health-Care Evaluation, ch. 8. Wiley.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import optimize, special

from alsmeta.validation import (
    AlsmetaInputError,
    align_on_index,
    finite_number,
    numeric_column,
    probability_level,
    study_labels,
)

Array = npt.NDArray[np.float64]

__all__ = ["BayesMetaResult", "bayes_meta"]

_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(20)
_LOG_CUTOFF = 50.0  # the tau range keeps every point within e^-50 of the density maximum
_SCREEN_POINTS = 2001  # points of the screening grid that locates the posterior of tau
_DENSITY_POINTS = 401  # points of the density arrays returned for plotting


@dataclass(frozen=True, eq=False)
class BayesMetaResult:
    """Posterior of a Bayesian normal-normal random-effects meta-analysis.

    Attributes
    ----------
    k : int
        Number of studies (0 gives an empty result: every number NaN).
    labels : tuple of str
    yi, sei : numpy.ndarray
        The data as used (effects and standard errors).
    tau_prior_scale : float
        Scale of the half-normal prior on tau.
    mu_prior_mean, mu_prior_sd : float
        Normal prior on mu; ``mu_prior_sd = inf`` is the flat (improper)
        prior, bayesmeta's default.
    level : float
        Probability of the equal-tailed ("central") credible intervals.
    mu_mean, mu_sd, mu_median, mu_ci_low, mu_ci_high : float
        Posterior of the overall effect mu.
    tau_mean, tau_sd, tau_median, tau_ci_low, tau_ci_high : float
        Posterior of the heterogeneity tau.
    pred_mean, pred_sd, pred_ci_low, pred_ci_high : float
        Posterior predictive distribution of the effect in a new study
        (theta_new); its interval is the Bayesian prediction interval.
    thresholds : tuple of float
        The thresholds asked for.
    prob_mu_above : tuple of float
        P(mu > threshold | data) for each threshold.
    mu_grid, mu_density, tau_grid, tau_density : numpy.ndarray
        Marginal posterior densities on grids covering their 0.05%-99.95%
        (mu) and 0-99.95% (tau) quantile ranges, for plotting.
    notes : tuple of str
        Plain statements about the data and the model (e.g. k = 1).
    """

    k: int
    labels: tuple[str, ...]
    yi: Array
    sei: Array
    tau_prior_scale: float
    mu_prior_mean: float
    mu_prior_sd: float
    level: float
    mu_mean: float
    mu_sd: float
    mu_median: float
    mu_ci_low: float
    mu_ci_high: float
    tau_mean: float
    tau_sd: float
    tau_median: float
    tau_ci_low: float
    tau_ci_high: float
    pred_mean: float
    pred_sd: float
    pred_ci_low: float
    pred_ci_high: float
    thresholds: tuple[float, ...]
    prob_mu_above: tuple[float, ...]
    mu_grid: Array = field(repr=False)
    mu_density: Array = field(repr=False)
    tau_grid: Array = field(repr=False)
    tau_density: Array = field(repr=False)
    notes: tuple[str, ...] = ()
    _posterior: _TauPosterior | None = field(default=None, repr=False)

    @property
    def is_empty(self) -> bool:
        """True when there was no study (k = 0)."""
        return self.k == 0

    @property
    def mu_prior_is_flat(self) -> bool:
        return math.isinf(self.mu_prior_sd)

    def prob_above(self, threshold: float) -> float:
        """Posterior probability P(mu > threshold | data)."""
        x = finite_number(threshold, "threshold")
        if self._posterior is None:
            return math.nan
        return float(1.0 - self._posterior.mu_cdf(x))

    def prob_below(self, threshold: float) -> float:
        """Posterior probability P(mu < threshold | data)."""
        x = finite_number(threshold, "threshold")
        if self._posterior is None:
            return math.nan
        return float(self._posterior.mu_cdf(x))

    def prob_pred_above(self, threshold: float) -> float:
        """Posterior predictive probability that a new study's true effect exceeds ``threshold``."""
        x = finite_number(threshold, "threshold")
        if self._posterior is None:
            return math.nan
        return float(1.0 - self._posterior.pred_cdf(x))

    def mu_quantile(self, p: float) -> float:
        """Quantile of the marginal posterior of mu."""
        if self._posterior is None:
            return math.nan
        return self._posterior.mu_quantile(_open_probability(p, "p"))

    def tau_quantile(self, p: float) -> float:
        """Quantile of the marginal posterior of tau."""
        if self._posterior is None:
            return math.nan
        return self._posterior.tau_quantile(_open_probability(p, "p"))

    def summary(self, digits: int = 3) -> str:
        """A bayesmeta-like text summary."""
        if self.is_empty:
            return "Bayesian random-effects meta-analysis: no study (k = 0); the posterior is the prior.\n"
        f = f"{{:.{digits}f}}"
        lv = f"{100 * self.level:g}%"
        prior_mu = (
            "flat (improper)"
            if self.mu_prior_is_flat
            else f"normal(mean {self.mu_prior_mean:g}, sd {self.mu_prior_sd:g})"
        )
        w = max(10, digits + 6)
        lines = [
            f"Bayesian random-effects meta-analysis (normal-normal model; k = {self.k})",
            f"Priors: tau ~ half-normal(scale {self.tau_prior_scale:g}); mu ~ {prior_mu}",
            "",
            f"{'':8s}{'mean':>{w}s}{'sd':>{w}s}{'median':>{w}s}{lv + ' lower':>{w + 2}s}{lv + ' upper':>{w + 2}s}",
        ]
        for name, row in (
            ("tau", (self.tau_mean, self.tau_sd, self.tau_median, self.tau_ci_low, self.tau_ci_high)),
            ("mu", (self.mu_mean, self.mu_sd, self.mu_median, self.mu_ci_low, self.mu_ci_high)),
            ("theta", (self.pred_mean, self.pred_sd, math.nan, self.pred_ci_low, self.pred_ci_high)),
        ):
            cells = [f.format(v) if math.isfinite(v) else "" for v in row]
            lines.append(
                f"{name:8s}{cells[0]:>{w}s}{cells[1]:>{w}s}{cells[2]:>{w}s}{cells[3]:>{w + 2}s}{cells[4]:>{w + 2}s}"
            )
        lines.append("")
        for t, p in zip(self.thresholds, self.prob_mu_above, strict=True):
            lines.append(f"P(mu > {t:g} | data) = {p:.4f}")
        lines += [f"Note: {n}" for n in self.notes]
        return "\n".join(lines) + "\n"

    def to_dict(self, densities: bool = False) -> dict[str, Any]:
        """The numbers as a plain dict (for ``numbers.json``); densities only on request."""
        out: dict[str, Any] = {
            "k": self.k,
            "tau_prior": f"half-normal(scale={self.tau_prior_scale:g})",
            "tau_prior_scale": self.tau_prior_scale,
            "mu_prior": "flat"
            if self.mu_prior_is_flat
            else f"normal(mean={self.mu_prior_mean:g}, sd={self.mu_prior_sd:g})",
            "level": self.level,
            **{
                name: getattr(self, name)
                for name in (
                    "mu_mean",
                    "mu_sd",
                    "mu_median",
                    "mu_ci_low",
                    "mu_ci_high",
                    "tau_mean",
                    "tau_sd",
                    "tau_median",
                    "tau_ci_low",
                    "tau_ci_high",
                    "pred_mean",
                    "pred_sd",
                    "pred_ci_low",
                    "pred_ci_high",
                )
            },
            "prob_mu_above": {f"{t:g}": p for t, p in zip(self.thresholds, self.prob_mu_above, strict=True)},
            "notes": list(self.notes),
        }
        if densities:
            out.update(
                mu_grid=self.mu_grid, mu_density=self.mu_density, tau_grid=self.tau_grid, tau_density=self.tau_density
            )
        return out


# ---------------------------------------------------------------------------
# the posterior of tau and the normal mixtures built on it
# ---------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class _TauPosterior:
    """Quadrature representation of p(tau | y) and of the mixtures over it."""

    y: Array
    s2: Array
    scale: float
    m0: float
    s0: float
    breaks: Array  # panel boundaries in tau
    nodes: Array  # quadrature nodes in tau (all panels)
    weights: Array  # posterior probability carried by each node (sums to 1)
    cum: Array  # posterior CDF of tau at each panel boundary
    log_max: float  # log of the maximum unnormalised density
    log_norm: float  # log of the normalising constant (relative to log_max)
    cond_mean: Array  # E(mu | tau, y) at the nodes
    cond_var: Array  # Var(mu | tau, y) at the nodes

    def log_density(self, tau: Array) -> Array:
        """Log of the normalised posterior density of tau."""
        return (
            _log_unnormalised(np.asarray(tau, dtype=float), self.y, self.s2, self.scale, self.m0, self.s0)[0]
            - self.log_max
            - self.log_norm
        )

    # mu -------------------------------------------------------------------
    def mu_cdf(self, x: float) -> float:
        z = (x - self.cond_mean) / np.sqrt(self.cond_var)
        return float(np.clip(np.dot(self.weights, special.ndtr(z)), 0.0, 1.0))

    def mu_pdf(self, x: Array) -> Array:
        sd = np.sqrt(self.cond_var)
        z = (np.asarray(x, dtype=float)[:, None] - self.cond_mean[None, :]) / sd[None, :]
        return (np.exp(-0.5 * z**2) / (sd * math.sqrt(2.0 * math.pi))[None, :]) @ self.weights

    def mu_quantile(self, p: float) -> float:
        sd = np.sqrt(self.cond_var)
        return _mixture_quantile(self.mu_cdf, p, self.cond_mean, sd)

    # theta_new --------------------------------------------------------------
    def pred_cdf(self, x: float) -> float:
        z = (x - self.cond_mean) / np.sqrt(self.cond_var + self.nodes**2)
        return float(np.clip(np.dot(self.weights, special.ndtr(z)), 0.0, 1.0))

    def pred_quantile(self, p: float) -> float:
        return _mixture_quantile(self.pred_cdf, p, self.cond_mean, np.sqrt(self.cond_var + self.nodes**2))

    # tau ------------------------------------------------------------------
    def tau_cdf(self, t: float) -> float:
        if t <= 0.0:
            return 0.0
        if t >= self.breaks[-1]:
            return 1.0
        i = int(np.searchsorted(self.breaks, t, side="right")) - 1
        a = self.breaks[i]
        half = 0.5 * (t - a)
        x = a + half * (_GL_NODES + 1.0)
        partial = half * float(np.dot(_GL_WEIGHTS, np.exp(self.log_density(x))))
        return float(min(1.0, self.cum[i] + partial))

    def tau_pdf(self, t: Array) -> Array:
        t = np.asarray(t, dtype=float)
        out = np.exp(self.log_density(np.maximum(t, 0.0)))
        out[(t < 0) | (t > self.breaks[-1])] = 0.0
        return out

    def tau_quantile(self, p: float) -> float:
        return float(
            optimize.brentq(
                lambda t: self.tau_cdf(t) - p,
                0.0,
                float(self.breaks[-1]),
                xtol=1e-15 * float(self.breaks[-1]),
                rtol=4 * np.finfo(float).eps,
                maxiter=500,
            )
        )


def _log_unnormalised(
    tau: Array, y: Array, s2: Array, scale: float, m0: float, s0: float
) -> tuple[Array, Array, Array]:
    """Log unnormalised p(tau | y) and the conditional mean and variance of mu given tau."""
    tau = np.atleast_1d(tau)
    v = s2[None, :] + tau[:, None] ** 2
    w = 1.0 / v
    prec = w.sum(axis=1)
    num = (w * y[None, :]).sum(axis=1)
    if math.isfinite(s0):
        prec = prec + 1.0 / s0**2
        num = num + m0 / s0**2
    m = num / prec
    rss = (w * (y[None, :] - m[:, None]) ** 2).sum(axis=1)
    if math.isfinite(s0):
        rss = rss + (m0 - m) ** 2 / s0**2
    loglik = -0.5 * np.log(v).sum(axis=1) - 0.5 * np.log(prec) - 0.5 * rss
    logprior = -0.5 * (tau / scale) ** 2
    return loglik + logprior, m, 1.0 / prec


def _mixture_quantile(cdf: Any, p: float, means: Array, sds: Array) -> float:
    lo = float(np.min(means - 40.0 * sds))
    hi = float(np.max(means + 40.0 * sds))
    width = hi - lo
    return float(
        optimize.brentq(
            lambda x: cdf(x) - p, lo, hi, xtol=1e-15 * max(width, 1e-300), rtol=4 * np.finfo(float).eps, maxiter=500
        )
    )


def _tau_posterior(y: Array, s2: Array, scale: float, m0: float, s0: float) -> _TauPosterior:
    """Locate the posterior of tau, then build the quadrature on it."""
    upper = 9.0 * scale  # half-normal prior mass beyond 9 scales: 2e-19
    for _ in range(200):
        screen = np.unique(
            np.concatenate([np.linspace(0.0, upper, _SCREEN_POINTS), upper * np.geomspace(1e-8, 1.0, _SCREEN_POINTS)])
        )
        g = _log_unnormalised(screen, y, s2, scale, m0, s0)[0]
        gmax = float(np.max(g))
        if g[-1] < gmax - _LOG_CUTOFF:
            break
        upper *= 2.0
    else:  # pragma: no cover - the prior term -tau^2/(2 scale^2) always wins eventually
        raise AlsmetaInputError("tau: could not bound the posterior of tau; check the data and the prior scale")
    above = np.nonzero(g >= gmax - _LOG_CUTOFF)[0]
    t_end = float(screen[min(above[-1] + 1, screen.size - 1)])
    breaks = np.unique(np.concatenate([np.linspace(0.0, t_end, 101), t_end * np.geomspace(1e-6, 1.0, 61)]))
    a, b = breaks[:-1], breaks[1:]
    half = 0.5 * (b - a)
    nodes = (a[:, None] + half[:, None] * (_GL_NODES[None, :] + 1.0)).ravel()
    qw = (half[:, None] * _GL_WEIGHTS[None, :]).ravel()
    g_nodes, m, var = _log_unnormalised(nodes, y, s2, scale, m0, s0)
    log_max = max(gmax, float(np.max(g_nodes)))
    dens = np.exp(g_nodes - log_max)
    mass = qw * dens
    total = float(mass.sum())
    panel_mass = mass.reshape(a.size, _GL_NODES.size).sum(axis=1) / total
    cum = np.concatenate([[0.0], np.cumsum(panel_mass)])
    return _TauPosterior(
        y=y,
        s2=s2,
        scale=scale,
        m0=m0,
        s0=s0,
        breaks=breaks,
        nodes=nodes,
        weights=mass / total,
        cum=cum,
        log_max=log_max,
        log_norm=math.log(total),
        cond_mean=m,
        cond_var=var,
    )


# ---------------------------------------------------------------------------
# input checks
# ---------------------------------------------------------------------------


def _open_probability(p: Any, name: str) -> float:
    v = finite_number(p, name)
    if not 0.0 < v < 1.0:
        raise AlsmetaInputError(f"{name}: must lie strictly between 0 and 1, got {p!r}")
    return v


def _thresholds(values: Any) -> tuple[float, ...]:
    if isinstance(values, (str, bytes)):
        raise AlsmetaInputError(f"thresholds: {values!r} is not a number")
    seq = [values] if np.ndim(values) == 0 else list(values)
    return tuple(finite_number(t, f"thresholds[{i}]") for i, t in enumerate(seq))


def _empty(
    labels: tuple[str, ...], scale: float, m0: float, s0: float, level: float, thresholds: tuple[float, ...]
) -> BayesMetaResult:
    nan = math.nan
    none = np.empty(0)
    return BayesMetaResult(
        k=0,
        labels=labels,
        yi=none,
        sei=none,
        tau_prior_scale=scale,
        mu_prior_mean=m0,
        mu_prior_sd=s0,
        level=level,
        mu_mean=nan,
        mu_sd=nan,
        mu_median=nan,
        mu_ci_low=nan,
        mu_ci_high=nan,
        tau_mean=nan,
        tau_sd=nan,
        tau_median=nan,
        tau_ci_low=nan,
        tau_ci_high=nan,
        pred_mean=nan,
        pred_sd=nan,
        pred_ci_low=nan,
        pred_ci_high=nan,
        thresholds=thresholds,
        prob_mu_above=tuple(nan for _ in thresholds),
        mu_grid=none,
        mu_density=none,
        tau_grid=none,
        tau_density=none,
        notes=("No study (k = 0): there is nothing to update the prior with; no posterior is reported.",),
    )


# ---------------------------------------------------------------------------
# public function
# ---------------------------------------------------------------------------


def bayes_meta(
    yi: Sequence[float] | Array,
    vi: Sequence[float] | Array | None = None,
    *,
    sei: Sequence[float] | Array | None = None,
    tau_scale: float,
    mu_prior_mean: float = 0.0,
    mu_prior_sd: float = math.inf,
    thresholds: float | Sequence[float] = (0.0,),
    level: float = 0.95,
    labels: Sequence[Any] | None = None,
) -> BayesMetaResult:
    r"""Bayesian random-effects meta-analysis with a half-normal prior on tau.

    The normal-normal model of Röver (2020; R package bayesmeta): study
    effects :math:`y_i` with known standard errors :math:`s_i`, true effects
    :math:`\theta_i \sim N(\mu, \tau^2)`, a half-normal prior on the
    heterogeneity :math:`\tau` and a normal (or flat) prior on :math:`\mu`.
    The posterior is computed by numerical integration (no sampling; see the
    module docstring for the formulas), so results are deterministic.

    Parameters
    ----------
    yi : array_like
        Study effect estimates.
    vi, sei : array_like
        Sampling variances or standard errors (exactly one), > 0.
    tau_scale : float
        Scale of the half-normal prior on tau (> 0), in the units of ``yi``.
        Required: the prior on the heterogeneity matters with few studies
        and must be a visible choice. Röver et al. (2021) discuss weakly
        informative choices (for log odds ratios, 0.5 and 1); the prior
        median of tau is 0.674 x scale. As the scale goes to 0 the model
        becomes the common-effect model.
    mu_prior_mean, mu_prior_sd : float
        Normal prior on mu. The default ``mu_prior_sd = inf`` is the flat
        (improper) prior, bayesmeta's default; any finite sd > 0 gives a
        proper normal prior (a very wide one, e.g. 10 times any plausible
        effect, gives practically the same posterior as the flat prior).
    thresholds : float or sequence of float
        Values t for which P(mu > t | data) is reported (default 0: the
        posterior probability of any effect in the positive direction).
    level : float
        Probability of the equal-tailed credible and prediction intervals
        (0.95 or 95).
    labels : sequence, optional
        Study labels (unique), used in error messages.

    Returns
    -------
    BayesMetaResult
        Posterior mean, sd, median and equal-tailed interval of mu, tau and
        of a new study's effect, P(mu > t) for each threshold, the marginal
        densities of mu and tau on grids, and methods ``prob_above``,
        ``prob_below``, ``mu_quantile``, ``tau_quantile``, ``summary``.
        With k = 0 every number is NaN (an empty result, never an error).

    Raises
    ------
    AlsmetaInputError
        Naming the study and column for non-numeric, missing, infinite or
        non-positive variances/standard errors, mismatched lengths or
        duplicate labels; and for a non-positive or infinite ``tau_scale``,
        a non-positive ``mu_prior_sd`` or a non-finite threshold.

    Notes
    -----
    Intervals are equal-tailed (bayesmeta's ``post.interval(...,
    method="central")``); bayesmeta's printed default is the shortest
    interval, which differs for skewed posteriors such as that of tau.
    With k = 1 the heterogeneity is informed by the prior alone, and the
    posterior of mu is wider than the study's own interval by exactly the
    prior's tau.

    References
    ----------
    Röver C (2020). Bayesian random-effects meta-analysis using the
    bayesmeta R package. Journal of Statistical Software 93(6):1-51.
    doi:10.18637/jss.v093.i06
    Röver C et al. (2021). On weakly informative prior distributions for the
    heterogeneity parameter in Bayesian random-effects meta-analysis.
    Research Synthesis Methods 12:448-474.

    Examples
    --------
    >>> res = bayes_meta([1.13, 0.38], sei=[0.235, 0.174], tau_scale=0.5, thresholds=(0, 0.25))
    >>> round(res.prob_mu_above[0], 3) > 0.9
    True
    """
    if isinstance(yi, (str, bytes)) or np.ndim(yi) != 1:
        raise AlsmetaInputError("yi: expected one effect per study")
    if (vi is None) == (sei is None):
        raise AlsmetaInputError("give exactly one of vi= (sampling variances) or sei= (standard errors)")
    spread, spread_name = (vi, "vi") if vi is not None else (sei, "sei")
    aligned = align_on_index({"yi": yi, spread_name: spread, "labels": labels})  # pandas: pair by index
    yi, spread, labels = aligned["yi"], aligned[spread_name], aligned["labels"]
    if isinstance(spread, (str, bytes)) or np.ndim(spread) != 1:
        raise AlsmetaInputError(f"{spread_name}: expected one value per study")
    k = len(yi)
    if len(spread) != k:
        raise AlsmetaInputError(f"columns have different lengths: yi={k}, {spread_name}={len(spread)}")
    names = tuple(study_labels(labels, k))
    y = numeric_column(yi, "yi", names)
    sv = numeric_column(spread, spread_name, names, positive=True)
    s2 = sv if spread_name == "vi" else sv**2
    scale = finite_number(tau_scale, "tau_scale")
    if scale <= 0:
        raise AlsmetaInputError(f"tau_scale: the half-normal scale must be > 0, got {tau_scale!r}")
    m0 = finite_number(mu_prior_mean, "mu_prior_mean")
    try:
        s0 = float(mu_prior_sd)
    except (TypeError, ValueError):
        raise AlsmetaInputError(f"mu_prior_sd: {mu_prior_sd!r} is not a number") from None
    if math.isnan(s0) or s0 <= 0 or s0 == -math.inf:
        raise AlsmetaInputError(f"mu_prior_sd: must be > 0 (inf for a flat prior), got {mu_prior_sd!r}")
    lv = probability_level(level)
    thr = _thresholds(thresholds)
    if k == 0:
        return _empty(names, scale, m0, s0, lv, thr)

    post = _tau_posterior(y, s2, scale, m0, s0)
    w = post.weights
    mu_mean = float(np.dot(w, post.cond_mean))
    mu_var = float(np.dot(w, post.cond_var + (post.cond_mean - mu_mean) ** 2))
    tau_mean = float(np.dot(w, post.nodes))
    tau_var = float(np.dot(w, (post.nodes - tau_mean) ** 2))
    pred_var = float(np.dot(w, post.cond_var + post.nodes**2 + (post.cond_mean - mu_mean) ** 2))
    alpha = 1.0 - lv

    lo_mu, hi_mu = post.mu_quantile(5e-4), post.mu_quantile(1 - 5e-4)
    mu_grid = np.linspace(lo_mu, hi_mu, _DENSITY_POINTS)
    tau_grid = np.linspace(0.0, post.tau_quantile(1 - 5e-4), _DENSITY_POINTS)
    notes = []
    if k == 1:
        notes.append("One study (k = 1): the heterogeneity tau is informed by its prior alone.")
    return BayesMetaResult(
        k=k,
        labels=names,
        yi=y,
        sei=np.sqrt(s2),
        tau_prior_scale=scale,
        mu_prior_mean=m0,
        mu_prior_sd=s0,
        level=lv,
        mu_mean=mu_mean,
        mu_sd=math.sqrt(mu_var),
        mu_median=post.mu_quantile(0.5),
        mu_ci_low=post.mu_quantile(alpha / 2),
        mu_ci_high=post.mu_quantile(1 - alpha / 2),
        tau_mean=tau_mean,
        tau_sd=math.sqrt(tau_var),
        tau_median=post.tau_quantile(0.5),
        tau_ci_low=post.tau_quantile(alpha / 2),
        tau_ci_high=post.tau_quantile(1 - alpha / 2),
        pred_mean=mu_mean,
        pred_sd=math.sqrt(pred_var),
        pred_ci_low=post.pred_quantile(alpha / 2),
        pred_ci_high=post.pred_quantile(1 - alpha / 2),
        thresholds=thr,
        prob_mu_above=tuple(float(1.0 - post.mu_cdf(t)) for t in thr),
        mu_grid=mu_grid,
        mu_density=post.mu_pdf(mu_grid),
        tau_grid=tau_grid,
        tau_density=post.tau_pdf(tau_grid),
        notes=tuple(notes),
        _posterior=post,
    )
