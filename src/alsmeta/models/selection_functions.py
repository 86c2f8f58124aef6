"""Selection functions of the selection models (metafor's ``selmodel`` types) and their likelihood pieces.

A selection model multiplies the density of each study's effect by the
relative probability ``w(p)`` that a study with one-sided (or two-sided)
p-value ``p`` is published. With ``p_i`` the p-value of study ``i`` and
``s_i^2 = v_i + tau^2``, the log-likelihood is

    ll = sum_i [log w(p_i) + log phi(y_i; mu, s_i^2) - log A_i],
    A_i = int w(p(y)) phi(y; mu, s_i^2) dy

(Iyengar and Greenhouse 1988; Hedges 1992; Vevea and Hedges 1995; metafor's
``.selmodel.ll.cont``). The continuous types (``p0`` the optional single
step below which ``w = 1``; 0 by default):

========  ===============================================  =========================
beta      ``p^(d1 - 1) (1 - p)^(d2 - 1)``                  Citkowicz & Vevea (2017)
halfnorm  ``exp(-d p^2) / exp(-d p0^2)``                   Preston et al. (2004)
negexp    ``exp(-d p) / exp(-d p0)``                       Preston et al. (2004)
logistic  ``[2 e^(-d p) / (1 + e^(-d p))] / [same at p0]``  Preston et al. (2004)
power     ``(1 - p)^d / (1 - p0)^d``                       Preston et al. (2004)
========  ===============================================  =========================

As metafor, p-values are clipped to ``[p_min, 1 - p_min]`` with
``p_min = 1e-5`` for beta and power (whose weights are unbounded at 0 or 1)
and 0 otherwise, and ``delta`` lies in ``[1e-5, 100]`` (beta) or ``[0, 100]``.
``A_i`` is computed by Gauss-Legendre quadrature (24 nodes) on each piece of
the standardised effect between the points where the integrand has a kink
(``p = p_min``, ``1 - p_min``, ``p0``, and ``y = 0`` for two-sided
p-values) and a grid of z-scores over which ``p(y)`` falls from 1 to 0,
truncated at 12 standard deviations: the integrand is analytic on every
piece, so the rule is accurate to about 1e-13 relative.

References
----------
Iyengar S, Greenhouse JB (1988). Selection models and the file drawer
problem. Stat Sci 3:109-117.
Preston C, Ashby D, Smyth R (2004). Adjusting for publication bias: modelling
the selection process. J Eval Clin Pract 10:313-322.
Citkowicz M, Vevea JL (2017). A parsimonious weight function for modeling
publication bias. Psychol Methods 22:28-41.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import special

from alsmeta.validation import AlsmetaInputError

Array = npt.NDArray[np.float64]

TYPES = ("step", "beta", "halfnorm", "negexp", "logistic", "power")
CONTINUOUS = TYPES[1:]
_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(24)
_INV_SQRT_2PI = 1.0 / np.sqrt(2.0 * np.pi)
_TRUNCATE = 12.0  # standard deviations; phi(12) < 1e-31


@dataclass(frozen=True)
class SelectionSpec:
    """A selection function: its type, p-value direction, steps and the bounds of its parameters."""

    type: str
    alternative: str
    steps: Array
    pval_min: float
    delta_min: Array
    delta_max: Array
    delta_init: Array


def selection_spec(type: str, steps: float | None, alternative: str) -> SelectionSpec:
    """The :class:`SelectionSpec` of a continuous type (metafor's defaults).

    ``steps`` is ``None`` or one value in ``[0, 1)`` below which the weight
    is 1 (not allowed for ``"beta"``).
    """
    if type == "beta":
        if steps is not None:
            raise AlsmetaInputError("steps: the beta selection function has no step; leave steps=None")
        one = np.ones(2)
        return SelectionSpec(type, alternative, np.array([0.0, 1.0]), 1e-5, one * 1e-5, one * 100.0, one.copy())
    p0 = 0.0 if steps is None else float(steps)
    if not 0.0 <= p0 < 1.0:
        raise AlsmetaInputError(f"steps: type={type!r} takes at most one step, a p-value in [0, 1); got {steps!r}")
    pmin = 1e-5 if type == "power" else 0.0
    return SelectionSpec(type, alternative, np.array([p0, 1.0]), pmin, np.zeros(1), np.full(1, 100.0), np.ones(1))


def study_pvalues(yi: Array, vi: Array, alternative: str) -> Array:
    """p-values of the individual studies (metafor's ``.selmodel.pval``)."""
    z = yi / np.sqrt(vi)
    if alternative == "two.sided":
        return 2.0 * special.ndtr(-np.abs(z))
    return special.ndtr(z) if alternative == "less" else special.ndtr(-z)


def weight(spec: SelectionSpec, p: Array, delta: Array) -> Array:
    """``w(p)`` of the continuous types (module docstring); ``p`` already clipped."""
    p0 = spec.steps[0]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if spec.type == "beta":
            return p ** (delta[0] - 1.0) * (1.0 - p) ** (delta[1] - 1.0)
        d = delta[0]
        if spec.type == "halfnorm":
            w = np.exp(-d * (p * p - p0 * p0))
        elif spec.type == "negexp":
            w = np.exp(-d * (p - p0))
        elif spec.type == "logistic":
            w = (np.exp(-d * (p - p0)) * (1.0 + np.exp(-d * p0))) / (1.0 + np.exp(-d * p))
        else:  # power
            w = ((1.0 - p) / (1.0 - p0)) ** d
    return np.where(p <= p0, 1.0, w)


def _clip(p: Array, pmin: float) -> Array:
    return np.clip(p, pmin, 1.0 - pmin) if pmin > 0 else p


_Z_GRID = (0.0, 1e-3, 1e-2, 0.1, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 9.0)  # p(y) changes here (two-sided: |z|^a near 0)


def _kinks(spec: SelectionSpec) -> Array:
    """z-scores ``y / sqrt(v)`` where the integrand of ``A_i`` is not smooth, and a grid where ``p(y)`` changes."""
    ps = [p for p in (spec.pval_min, 1.0 - spec.pval_min, spec.steps[0]) if 0.0 < p < 1.0]
    if spec.alternative == "two.sided":
        z = [float(special.ndtri(1.0 - p / 2.0)) for p in ps]
    else:
        z = [float(special.ndtri(1.0 - p)) for p in ps]
    return np.array(sorted({*_Z_GRID, *z, *(-x for x in (*_Z_GRID, *z))}))


def selection_integrals(mu: float | Array, tau2: float, vi: Array, delta: Array, spec: SelectionSpec) -> Array:
    """``A_i = int w(p(y)) phi(y; mu_i, v_i + tau^2) dy`` for every study (module docstring).

    ``mu`` is one location for all studies or one per study (``X beta`` of a meta-regression).
    """
    s = np.sqrt(vi + tau2)
    sv = np.sqrt(vi)
    m = np.broadcast_to(np.asarray(mu, dtype=float), vi.shape)[:, None]
    kinks = (_kinks(spec)[None, :] * sv[:, None] - m) / s[:, None]
    edges = np.sort(
        np.clip(
            np.hstack([np.full((vi.size, 1), -_TRUNCATE), kinks, np.full((vi.size, 1), _TRUNCATE)]),
            -_TRUNCATE,
            _TRUNCATE,
        ),
        axis=1,
    )
    a, b = edges[:, :-1, None], edges[:, 1:, None]
    half = 0.5 * (b - a)
    t = a + half * (_GL_NODES[None, None, :] + 1.0)
    y = m[:, :, None] + s[:, None, None] * t
    z = y / sv[:, None, None]
    if spec.alternative == "two.sided":
        p = 2.0 * special.ndtr(-np.abs(z))
    else:
        p = special.ndtr(z) if spec.alternative == "less" else special.ndtr(-z)
    f = weight(spec, _clip(p, spec.pval_min), delta) * np.exp(-0.5 * t * t) * _INV_SQRT_2PI
    return np.sum(half[..., 0] * np.sum(f * _GL_WEIGHTS[None, None, :], axis=2), axis=1)


_LOG_2PI = float(np.log(2 * np.pi))


def loglik_continuous(
    mu: float | Array, tau2: float, delta: Array, yi: Array, vi: Array, pvals: Array, spec: SelectionSpec
) -> float:
    """Log-likelihood of a continuous selection model (module docstring); ``-inf`` where undefined.

    ``mu`` is the location of every study: one value, or ``X beta`` (one per study) for a meta-regression.
    """
    if tau2 < 10 * np.finfo(float).eps:
        tau2 = 0.0  # as metafor
    var = vi + tau2
    with np.errstate(divide="ignore", invalid="ignore"):
        A = selection_integrals(mu, tau2, vi, delta, spec)
        ll = np.sum(
            np.log(weight(spec, _clip(pvals, spec.pval_min), delta))
            - 0.5 * (_LOG_2PI + np.log(var) + (yi - mu) ** 2 / var)
            - np.log(A)
        )
    return float(ll) if np.isfinite(ll) else -np.inf
