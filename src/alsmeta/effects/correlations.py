r"""Correlation coefficients: raw (metafor's ``COR``), bias-corrected (``UCOR``) and Fisher's z (``ZCOR``).

For a Pearson correlation :math:`r_i` from :math:`n_i` patients:

========  ==================================================================  =====================================
measure   :math:`y_i`                                                         :math:`v_i` (``vtype="LS"``)
========  ==================================================================  =====================================
``COR``   :math:`r_i`                                                         :math:`(1 - y_i^2)^2/(n_i - 1)`
``UCOR``  :math:`r_i\,{}_2F_1\!\left(\tfrac12, \tfrac12; \tfrac{n_i-2}{2};
          1 - r_i^2\right)` (Olkin & Pratt 1958, unbiased)                     :math:`(1 - y_i^2)^2/(n_i - 1)`
``ZCOR``  :math:`\tfrac12 \ln\frac{1 + r_i}{1 - r_i}` (Fisher 1921)           :math:`1/(n_i - 3)`
========  ==================================================================  =====================================

Other variances (metafor's ``vtype``): ``"AV"`` (``COR``, ``UCOR``) uses the
:math:`n`-weighted mean of the :math:`y_i` in place of :math:`y_i`; ``"UB"``
(``UCOR`` only) is the unbiased estimate of Hedges (1989),
:math:`y_i^2 - 1 + \frac{n_i - 3}{n_i - 2}(1 - r_i^2)\,{}_2F_1(1, 1; n_i/2; 1 - r_i^2)`.
Back-transform ``ZCOR`` with :func:`numpy.tanh`.

metafor returns NA for the variance when :math:`n_i \le 3` (and for ``UCOR``
when :math:`n_i \le 4`); alsmeta refuses such studies, naming them.

References
----------
Fisher RA (1921). On the "probable error" of a coefficient of correlation
deduced from a small sample. Metron 1:3-32.
Olkin I, Pratt JW (1958). Unbiased estimation of certain correlation
coefficients. Annals of Mathematical Statistics 29:201-211. doi:10.1214/aoms/1177706717
Hedges LV (1989). An unbiased correction for sampling error in validity
generalization studies. Journal of Applied Psychology 74:469-477. doi:10.1037/0021-9010.74.3.469
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.special import hyp2f1

from alsmeta.effects._study_columns import checked_effect_sizes, group_sizes, study_labels_for
from alsmeta.effects.conversions import _correlation
from alsmeta.effects.measures import EffectSizes
from alsmeta.validation import choice

Array = npt.NDArray[np.float64]

__all__ = ["CORRELATION_MEASURES", "correlation_effects"]

CORRELATION_MEASURES = ("COR", "UCOR", "ZCOR")
_VTYPES = {"COR": ("LS", "AV"), "UCOR": ("LS", "UB", "AV"), "ZCOR": ("LS",)}
_MIN_N = {
    "COR": (4, "its variance needs n >= 4 (metafor: NA for n <= 3)"),
    "ZCOR": (4, "its variance 1/(n - 3) needs n >= 4"),
    "UCOR": (5, "the bias correction needs n >= 5 (metafor: NA for n <= 4)"),
}


SERIES_FROM_C = 10.0
"""From this c on, :func:`gauss_hypergeometric` sums the series itself (scipy's hyp2f1: NaN for large c near x = 1)."""


def gauss_hypergeometric(a: float, b: float, c: Any, x: Any) -> Array:
    r"""Gauss's hypergeometric function :math:`{}_2F_1(a, b; c; x)` for :math:`0 \le x \le 1`, :math:`c > a + b > 0`.

    For :math:`c \ge 10` the defining series
    :math:`\sum_k \frac{(a)_k (b)_k}{(c)_k\,k!} x^k` is summed directly: all
    terms are positive (no cancellation) and decay at least like
    :math:`k^{-(c-a-b+1)}`, so it converges to machine precision within a few
    hundred terms even at :math:`x = 1`. Below that, :func:`scipy.special.hyp2f1`
    (accurate there; it returns NaN for large :math:`c` near :math:`x = 1`, e.g.
    ``hyp2f1(0.5, 0.5, 162, 0.9975)`` in scipy 1.17). The same function as
    metafor's ``.Fcalc`` (GSL's ``hyperg_2F1``).
    """
    c_arr, x_arr = np.broadcast_arrays(np.asarray(c, dtype=float), np.asarray(x, dtype=float))
    out = np.asarray(hyp2f1(a, b, c_arr, x_arr), dtype=float).copy()
    big = c_arr >= SERIES_FROM_C
    if big.any():
        cb, xb = c_arr[big], x_arr[big]
        term = np.ones_like(cb)
        total = np.ones_like(cb)
        for k in range(100_000):
            term = term * (a + k) * (b + k) / ((cb + k) * (k + 1)) * xb
            total = total + term
            if np.all(term <= 1e-17 * total):
                break
        out[big] = total
    return out


def correlation_effects(
    measure: str,
    ri: Any,
    ni: Any,
    *,
    vtype: str = "LS",
    labels: Sequence[Any] | None = None,
) -> EffectSizes:
    """Effect sizes of correlations, as metafor's ``escalc(measure, ri=, ni=)`` (formulas: module docstring).

    Parameters
    ----------
    measure : {"COR", "UCOR", "ZCOR"}
    ri : array_like
        Correlations in [-1, 1].
    ni : array_like
        Sample sizes (whole numbers; >= 4, or >= 5 for ``UCOR``).
    vtype : {"LS", "AV", "UB"}
        ``"UB"`` only for ``UCOR`` (as metafor), ``"AV"`` not for ``ZCOR``.
    labels : sequence, optional

    Returns
    -------
    EffectSizes

    Raises
    ------
    AlsmetaInputError
        Naming the study and argument: a correlation outside [-1, 1], a
        sample size too small for the variance, or a correlation of exactly
        +-1 (zero or infinite variance).
    """
    measure = choice(measure, "measure", CORRELATION_MEASURES)
    vtype = choice(vtype, "vtype", _VTYPES[measure])
    labs = study_labels_for(labels, {"ri": ri, "ni": ni})
    r = _correlation(ri, "ri", labs)
    minimum, why = _MIN_N[measure]
    n = group_sizes(ni, "ni", labs, minimum, why)
    with np.errstate(divide="ignore", invalid="ignore"):
        if measure == "ZCOR":
            yi, vi = np.arctanh(r), 1 / (n - 3)
        else:
            yi = r * gauss_hypergeometric(0.5, 0.5, (n - 2) / 2, 1 - r**2) if measure == "UCOR" else r
            y_bar = float(np.sum(yi * n) / np.sum(n))  # metafor's .wmean(yi, ni), for vtype="AV"
            if vtype == "LS":
                vi = (1 - yi**2) ** 2 / (n - 1)
            elif vtype == "AV":
                vi = (1 - y_bar**2) ** 2 / (n - 1)
            else:
                vi = yi**2 - (1 - (n - 3) / (n - 2) * (1 - r**2) * gauss_hypergeometric(1.0, 1.0, n / 2, 1 - r**2))
    return checked_effect_sizes(
        measure, yi, vi, labs, column="ri", describe=lambda i: f"r = {r[i]:g} from n = {n[i]:g}"
    )
