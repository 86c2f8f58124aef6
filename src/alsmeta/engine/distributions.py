"""Tail probabilities and quantiles of the normal, t and chi^2 distributions, from :mod:`scipy.special`.

The engine needs a handful of distribution functions per fit. ``scipy.stats``
computes them with the very same :mod:`scipy.special` kernels, but each call
first checks and broadcasts its arguments (about half a millisecond), and
importing ``scipy.stats`` takes longer than all of alsmeta's own modules. The
functions below call the kernels directly, with the arithmetic
``scipy.stats`` applies around them (``x * scale + loc`` with ``scale = 1``,
``loc = 0``), so they return the same bits as ``scipy.stats`` (held to
that by ``tests/test_single_fit.py``) at about a hundredth of the cost.

Arguments are floats or numpy arrays; degrees of freedom are positive.
"""

from __future__ import annotations

from typing import Any

from scipy import special

__all__ = ["chi2_isf", "chi2_ppf", "chi2_sf", "norm_isf", "norm_sf", "t_isf", "t_sf"]


def norm_sf(x: Any) -> Any:
    """Upper tail ``P(Z > x)`` of the standard normal (``scipy.stats.norm.sf``)."""
    return special.ndtr(-x)


def norm_isf(q: Any) -> Any:
    """Upper-tail quantile: ``x`` with ``P(Z > x) = q`` (``scipy.stats.norm.isf``)."""
    return -special.ndtri(q) + 0.0


def t_sf(x: Any, df: Any) -> Any:
    """Upper tail of Student's t with ``df`` degrees of freedom (``scipy.stats.t.sf``)."""
    return special.stdtr(df, -x)


def t_isf(q: Any, df: Any) -> Any:
    """Upper-tail quantile of Student's t (``scipy.stats.t.isf``)."""
    return -special.stdtrit(df, q) + 0.0


def chi2_sf(x: Any, df: Any) -> Any:
    """Upper tail of chi^2 with ``df`` degrees of freedom (``scipy.stats.chi2.sf``)."""
    return special.chdtrc(df, x)


def chi2_isf(q: Any, df: Any) -> Any:
    """Upper-tail quantile of chi^2 (``scipy.stats.chi2.isf``)."""
    return special.chdtri(df, q) + 0.0


def chi2_ppf(p: Any, df: Any) -> Any:
    """Lower-tail quantile of chi^2 (``scipy.stats.chi2.ppf``)."""
    return 2 * special.gammaincinv(df / 2, p) + 0.0
