"""Distribution of a positive quadratic form in normal variables.

``Q = sum_j lambda_j chi^2_1`` (independent chi^2 variables with one degree
of freedom, ``lambda_j > 0``) has the Laplace transform
``L(s) = E exp(-s Q) = prod_j (1 + 2 lambda_j s)^(-1/2)``, analytic except
for branch cuts on the negative real axis left of ``-1 / (2 max lambda)``.
Its distribution function is the Bromwich integral

    P(Q <= q) = 1/(2 pi i) int_B exp(s q) L(s) / s ds

over a vertical line right of 0. The line is deformed into a parabola
``s(u) = c - mu u^2 + 2 i mu u`` through the saddle point ``c`` of
``exp(s q) L(s)`` (``sum_j lambda_j / (1 + 2 lambda_j c) = q``), where the
integrand is a narrow bell in ``u`` that also decays exponentially along the
arms (``exp(-mu q u^2)``). The trapezoidal rule on such an integrand
converges geometrically, so a fixed rule of about 100 nodes, evaluated as
one numpy expression, gives the probability to about 1e-13 absolute (and
the tail to a small relative error, as no large terms cancel). When the
contour passes left of the pole at 0 it gives ``P(Q <= q) - 1``, the upper
tail directly. This is the saddle-point contour of Rice (1980), with the
trapezoidal rule analysed by Trefethen and Weideman (2014); Imhof (1961)
integrates the same inversion formula along the imaginary axis.

This is the distribution behind the generalised Q statistic of a
meta-analysis (Biggerstaff and Jackson 2008; Jackson 2013), which metafor
evaluates with Farebrother's (1984) algorithm.

References
----------
Imhof JP (1961). Computing the distribution of quadratic forms in normal
variables. Biometrika 48:419-426.
Rice SO (1980). Distribution of quadratic forms in normal random
variables - evaluation by numerical integration. SIAM J Sci Stat Comput
1:438-448.
Trefethen LN, Weideman JAC (2014). The exponentially convergent
trapezoidal rule. SIAM Rev 56:385-458.
Farebrother RW (1984). Algorithm AS 204: the distribution of a positive
linear combination of chi^2 random variables. Appl Stat 33:332-339.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from scipy import optimize, stats

Array = npt.NDArray[np.float64]

_REACH, _STEP = 13.0, 0.13  # trapezoid nodes in units of the bell's width (exp(-84) at the end)
_SHIFT = 4.0  # keep the crossing point this many bell widths from the pole at s = 0


def quadform_sf(q: float, lam: Array) -> float:
    """``P(sum lambda_j chi^2_1 > q)`` for positive ``lambda`` (module docstring).

    ``q <= 0`` gives 1. Eigenvalues below ``1e-14`` times the largest are
    dropped (they are rounding noise of a projection's zero eigenvalues).
    With a single distinct eigenvalue the chi^2 distribution is used directly.
    """
    lam = np.asarray(lam, dtype=float)
    lam = lam[lam > 1e-14 * lam.max()] if lam.size else lam
    if lam.size == 0 or q <= 0:
        return 1.0
    if np.ptp(lam) <= 1e-13 * lam.max():
        return float(stats.chi2.sf(q / lam.mean(), lam.size))
    scale = lam.max()
    return _sf_by_saddle_contour(q / scale, lam / scale)


def _sf_by_saddle_contour(x: float, lam: Array) -> float:
    """``P(sum lam_j chi^2_1 > x)`` for ``max(lam) = 1`` by the trapezoidal rule on the saddle-point parabola."""

    def slope(s: float) -> float:  # d/ds [s x + log L(s)], decreasing on (-1/2, inf)
        return x - float(np.sum(lam / (1.0 + 2.0 * lam * s)))

    # at s = (1/x - 1)/2 the largest term alone reaches x; at s = m/(2x) every term is below x/m
    c = optimize.brentq(slope, 0.5 * (1.0 / x - 1.0), 0.5 * lam.size / x, xtol=1e-15, rtol=1e-12)

    def curvature(s: float) -> float:  # d^2/ds^2 log L(s)
        return float(np.sum(2.0 * lam**2 / (1.0 + 2.0 * lam * s) ** 2))

    k2 = curvature(c)
    # Left of 0 (upper tail) the contour integrates exp(s x) (1 - L(s)) / s, which has no pole, to the
    # tail itself. Right of 0 it integrates exp(s x) L(s) / s to P(Q <= x) (there exp(s x) alone would
    # be large); a saddle close to the pole is then moved right, to _SHIFT bell widths from it.
    upper = c <= 0.0
    if not upper and c < _SHIFT / math.sqrt(k2):
        c = _SHIFT / math.sqrt(k2)
        k2 = curvature(c)
    # mu: the bell's width along the vertical, but no narrower than keeps the arms away from the
    # branch point at -1/2 (about the distance c + 1/2 of the crossing from it)
    mu = max(0.5 / math.sqrt(k2), 0.25 * (c + 0.5))
    width = 0.5 / (mu * math.sqrt(k2))  # the bell is exp(-2 k2 mu^2 u^2) to second order at the saddle
    step = _STEP
    if upper:  # exp(s x) along the contour oscillates at 2 mu x w and decays as exp(-mu x w^2 t^2) (t = u / w)
        freq, decay = 2.0 * mu * x * width, mu * x * width**2
        step = min(step, 2.0 * math.pi / (freq + 12.0 * math.sqrt(decay)))
    t = np.arange(0.0, _REACH + step, step)
    u = width * t
    s = c - mu * u**2 + 2j * mu * u
    ds_du = 2.0 * mu * (1j - u)
    log_laplace = -0.5 * np.sum(np.log1p(2.0 * lam[:, None] * s[None, :]), axis=0)
    if upper:
        g = np.empty_like(s)
        g[1:] = np.exp(s[1:] * x) * -np.expm1(log_laplace[1:]) / s[1:] * ds_du[1:]
        # at u = 0 (s = c, real, possibly near 0) in real arithmetic, which keeps log1p accurate;
        # (1 - L(s)) / s tends to -L'(0) = sum(lam) at s = 0
        one_minus_l = -math.expm1(-0.5 * float(np.sum(np.log1p(2.0 * lam * c))))
        g[0] = 2j * mu * (math.exp(c * x) * one_minus_l / c if c < 0.0 else float(lam.sum()))
    else:
        g = np.exp(s * x + log_laplace) / s * ds_du
    # s(-u) = conj s(u) and g(-u) = -conj g(u): the integral over the real line is 2i Im int_0^inf
    integral = width * step / math.pi * float((0.5 * g[0] + g[1:].sum()).imag)
    tail = integral if upper else 1.0 - integral
    return float(min(1.0, max(0.0, tail)))
