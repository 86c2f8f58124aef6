r"""Comparing variability between two groups: log variability ratio (metafor's ``VR``) and log CV ratio (``CVR``).

For groups with SDs :math:`s_1, s_2`, sizes :math:`n_1, n_2` and (``CVR``)
means :math:`\bar x_1, \bar x_2 > 0`:

.. math::

    \text{VR:}\quad y_i = \ln\frac{s_1}{s_2} + \frac{1}{2(n_1-1)} - \frac{1}{2(n_2-1)},\qquad
    v_i = \frac{1}{2(n_1-1)} + \frac{1}{2(n_2-1)}

.. math::

    \text{CVR:}\quad y_i = \ln\frac{s_1/\bar x_1}{s_2/\bar x_2} + \frac{1}{2(n_1-1)} - \frac{1}{2(n_2-1)},\qquad
    v_i = \frac{1}{2(n_1-1)} + \frac{s_1^2}{n_1 \bar x_1^2} + \frac{1}{2(n_2-1)} + \frac{s_2^2}{n_2 \bar x_2^2}

(Nakagawa et al. 2015, with the small-sample bias corrections
:math:`1/(2(n-1))` of the log SD). Positive values: more variability in group
1. Useful e.g. to ask whether responses to a cell therapy vary more than
under placebo, a claim often made for "responders". Back-transform with
``exp``.

References
----------
Nakagawa S, Poulin R, Mengersen K, Reinhold K, Engqvist L, Lagisz M,
Senior AM (2015). Meta-analysis of variation: ecological and evolutionary
applications and beyond. Methods in Ecology and Evolution 6:143-152.
doi:10.1111/2041-210X.12309
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from alsmeta.effects._study_columns import checked_effect_sizes, two_groups
from alsmeta.effects.measures import EffectSizes
from alsmeta.validation import choice

__all__ = ["VARIABILITY_MEASURES", "variability_ratio"]

VARIABILITY_MEASURES = ("VR", "CVR")


def variability_ratio(
    measure: str,
    sd1i: Any,
    n1i: Any,
    sd2i: Any,
    n2i: Any,
    *,
    m1i: Any = None,
    m2i: Any = None,
    labels: Sequence[Any] | None = None,
) -> EffectSizes:
    """Log variability ratio (``VR``) or log coefficient-of-variation ratio (``CVR``), as metafor's ``escalc``.

    Parameters
    ----------
    measure : {"VR", "CVR"}
    sd1i, n1i : array_like
        SD (> 0) and size (whole number >= 2) of group 1.
    sd2i, n2i : array_like
        The same for group 2.
    m1i, m2i : array_like, optional
        Group means (> 0), required for ``CVR``; ``VR`` does not use them.
    labels : sequence, optional

    Returns
    -------
    EffectSizes

    Raises
    ------
    AlsmetaInputError
        Naming the study and argument (non-positive SD or mean, group size
        below 2).
    """
    measure = choice(measure, "measure", VARIABILITY_MEASURES)
    columns = {"m1i": m1i, "sd1i": sd1i, "n1i": n1i, "m2i": m2i, "sd2i": sd2i, "n2i": n2i}
    labs, c = two_groups(columns, labels, means=measure == "CVR", positive_means=True)
    n1, n2 = c["n1i"], c["n2i"]
    bias1, bias2 = 1 / (2 * (n1 - 1)), 1 / (2 * (n2 - 1))
    if measure == "VR":
        yi = np.log(c["sd1i"] / c["sd2i"]) + bias1 - bias2
        vi = bias1 + bias2
    else:
        cv1, cv2 = c["sd1i"] / c["m1i"], c["sd2i"] / c["m2i"]
        yi = np.log(cv1) + bias1 - np.log(cv2) - bias2
        vi = bias1 + cv1**2 / n1 + bias2 + cv2**2 / n2
    return checked_effect_sizes(
        measure, yi, vi, labs, column="sd1i", describe=lambda i: f"SDs {c['sd1i'][i]:g} and {c['sd2i'][i]:g}"
    )
