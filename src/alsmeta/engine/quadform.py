"""Distribution of a positive quadratic form in normal variables (Imhof 1961).

``Q = sum_j lambda_j chi^2_1`` (independent chi^2 variables with one degree
of freedom, ``lambda_j > 0``) has the upper tail

    P(Q > q) = 1/2 + (1/pi) int_0^inf sin(theta(u)) / (u rho(u)) du,
    theta(u) = 1/2 sum_j arctan(lambda_j u) - q u / 2,
    rho(u)   = prod_j (1 + lambda_j^2 u^2)^(1/4)

(Imhof 1961, eq. 3.2 with central variables). The integral is evaluated by
adaptive quadrature in the variable ``s = log(u)`` (the integrand then decays
exponentially in both directions), to an absolute accuracy of about 1e-12.
This is the distribution behind the generalised Q statistic of a
meta-analysis (Biggerstaff and Jackson 2008; Jackson 2013), which metafor
evaluates with Farebrother's (1984) algorithm.

References
----------
Imhof JP (1961). Computing the distribution of quadratic forms in normal
variables. Biometrika 48:419-426.
Farebrother RW (1984). Algorithm AS 204: the distribution of a positive
linear combination of chi^2 random variables. Appl Stat 33:332-339.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import numpy.typing as npt
from scipy import integrate, stats

Array = npt.NDArray[np.float64]

_CYCLES = 4.0  # the Fourier rule starts this many cycles of exp(-i w u) out (sooner it fails at low w)


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
    lam, x = lam / scale, q / scale

    def theta_rho(u: float) -> tuple[float, float]:
        lu = lam * u
        return 0.5 * float(np.sum(np.arctan(lu))), math.exp(0.25 * float(np.sum(np.log1p(lu * lu))))

    def full(u: float) -> float:
        if u == 0.0:
            return 0.5 * float(lam.sum()) - 0.5 * x
        a, rho = theta_rho(u)
        return math.sin(a - 0.5 * x * u) / (u * rho)

    def sin_part(u: float) -> float:
        a, rho = theta_rho(u)
        return math.sin(a) / (u * rho)

    def cos_part(u: float) -> float:
        a, rho = theta_rho(u)
        return math.cos(a) / (u * rho)

    # [0, c]: the integrand is smooth (finite at 0); [c, inf): sin(a - w u) = sin a cos(w u) - cos a sin(w u)
    # with slowly varying amplitudes, integrated by QUADPACK's Fourier-integral rule (QAWF)
    w = 0.5 * x
    c = max(1.0, _CYCLES * 2.0 * math.pi / w)
    head, _ = integrate.quad(full, 0.0, c, epsabs=1e-14, epsrel=1e-13, limit=2000)
    return float(min(1.0, max(0.0, 0.5 + (head + _tail(sin_part, cos_part, full, c, w)) / math.pi)))


def _tail(
    sin_part: Callable[[float], float],
    cos_part: Callable[[float], float],
    full: Callable[[float], float],
    c: float,
    w: float,
) -> float:
    """``int_c^inf sin(a(u) - w u) / (u rho(u)) du`` by QUADPACK's Fourier rule (QAWF).

    ``sin(a - w u) = sin a cos(w u) - cos a sin(w u)`` with slowly varying
    amplitudes; the shift to ``[0, inf)`` uses the angle-sum formulas. Where
    QAWF reports trouble (very low frequency ``w``: few, long cycles), the
    integrand is integrated directly.
    """
    parts = []
    for amp, wt in ((sin_part, "cos"), (sin_part, "sin"), (cos_part, "sin"), (cos_part, "cos")):
        out = integrate.quad(
            lambda t, f=amp: f(t + c), 0.0, np.inf, weight=wt, wvar=w, epsabs=1e-13, limlst=200, full_output=1
        )
        val = out[0]
        if len(out) > 3:  # QUADPACK returned an error message (ier > 0)
            val_direct, _ = integrate.quad(full, c, np.inf, epsabs=1e-14, epsrel=1e-12, limit=5000)
            return float(val_direct)
        parts.append(val)
    cw, sw = math.cos(w * c), math.sin(w * c)
    return (parts[0] * cw - parts[1] * sw) - (parts[2] * cw + parts[3] * sw)
