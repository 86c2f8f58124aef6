"""quadform_sf (saddle-point contour, trapezoidal rule) against exact values, bounds and Imhof's integral.

References:
- equal weights: ``sum lambda chi^2_1 = lambda chi^2_m`` exactly (scipy's chi2), through the contour
  itself (``quadform_sf`` hands equal weights to chi2 directly); measured worst 2.8e-13 absolute
  over m = 2..299 and q / m = 0.01..6.
- ordering: ``lambda_min chi^2_m <= Q <= lambda_max chi^2_m``, so the tail lies between the two chi^2
  tails for every q, however small (Imhof's integral as first implemented gave 1/2 for q far below
  the weights, e.g. q = 0.001 with weights in [0.7, 2.8]).
- Imhof (1961): the inversion integral along the imaginary axis by adaptive QUADPACK quadrature
  (the implementation this module replaced, kept below as the reference), where it is reliable
  (q at least 2% of the mean): measured worst 1.2e-13 absolute over 3000 random cases.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, stats

from alsmeta.engine.quadform import _sf_by_saddle_contour, quadform_sf


def _imhof_sf(q, lam):
    """P(sum lam chi^2_1 > q) by Imhof's integral: QUADPACK on [0, c] and its Fourier rule (QAWF) beyond."""
    scale = lam.max()
    lam, x = lam / scale, q / scale

    def theta_rho(u):
        lu = lam * u
        return 0.5 * np.sum(np.arctan(lu)), math.exp(0.25 * np.sum(np.log1p(lu * lu)))

    def full(u):
        if u == 0.0:
            return 0.5 * lam.sum() - 0.5 * x
        a, rho = theta_rho(u)
        return math.sin(a - 0.5 * x * u) / (u * rho)

    def amplitude(u, part):
        a, rho = theta_rho(u)
        return part(a) / (u * rho)

    w = 0.5 * x
    c = max(1.0, 4.0 * 2.0 * math.pi / w)
    head, _ = integrate.quad(full, 0.0, c, epsabs=1e-14, epsrel=1e-13, limit=2000)
    # sin(a - w u) = sin a cos(w u) - cos a sin(w u); the shift u = t + c by the angle-sum formulas
    parts = [
        integrate.quad(lambda t, p=part: amplitude(t + c, p), 0.0, np.inf, weight=wt, wvar=w, epsabs=1e-13, limlst=200)[
            0
        ]
        for part, wt in ((math.sin, "cos"), (math.sin, "sin"), (math.cos, "sin"), (math.cos, "cos"))
    ]
    cw, sw = math.cos(w * c), math.sin(w * c)
    tail = (parts[0] * cw - parts[1] * sw) - (parts[2] * cw + parts[3] * sw)
    return 0.5 + (head + tail) / math.pi


def _weights(seed, m, spread):
    return np.exp(np.random.default_rng(seed).uniform(-spread, 0.0, m))


@settings(max_examples=30)
@given(st.integers(2, 120), st.integers(0, 2**32 - 1), st.sampled_from([0.5, 3.0, 8.0]), st.floats(-2.5, 7.0))
def test_matches_imhof_integral(m, seed, spread, z):
    lam = _weights(seed, m, spread)
    q = max(0.02 * lam.sum(), lam.sum() + z * math.sqrt(2.0 * np.sum(lam**2)))
    assert quadform_sf(q, lam) == pytest.approx(_imhof_sf(q, lam), abs=1e-10)


@given(st.integers(2, 300), st.floats(0.01, 6.0))
def test_equal_weights_give_the_chi2_tail(m, ratio):
    q = ratio * m
    assert _sf_by_saddle_contour(q, np.ones(m)) == pytest.approx(stats.chi2.sf(q, m), abs=1e-12)


@given(st.integers(2, 60), st.integers(0, 2**32 - 1), st.floats(-12.0, 6.0))
def test_tail_lies_between_the_chi2_tails_of_the_extreme_weights(m, seed, log_ratio):
    lam = 10.0 * _weights(seed, m, 8.0)
    q = math.exp(log_ratio) * lam.sum()
    tail = quadform_sf(q, lam)
    assert stats.chi2.sf(q / lam.min(), m) - 1e-12 <= tail <= stats.chi2.sf(q / lam.max(), m) + 1e-12


def test_small_q_has_tail_one():
    """Q below 0.001 needs every one of 14 chi^2_1 below 0.001 / 0.7: probability under 1e-20."""
    lam = np.linspace(0.7, 2.8, 14)
    assert quadform_sf(0.001, lam) == pytest.approx(1.0, abs=1e-13)


def test_far_upper_tail_keeps_relative_accuracy():
    """No large terms cancel on the saddle-point contour: chi^2_20 at 200 (about 1e-31) to 1e-9 relative."""
    assert _sf_by_saddle_contour(200.0, np.ones(20)) == pytest.approx(stats.chi2.sf(200.0, 20), rel=1e-9)
