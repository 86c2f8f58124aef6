r"""Standardized mean difference without assuming equal variances (metafor's ``SMDH``).

Bonett's (2009) standardizer is the root mean square of the two SDs rather
than the pooled SD, so heteroscedastic groups (e.g. a treatment that makes
some patients respond and others not) do not distort the scale:

.. math::

    s_i = \sqrt{\frac{s_1^2 + s_2^2}{2}}, \qquad
    y_i = J(m)\,\frac{\bar x_1 - \bar x_2}{s_i}, \quad m = n_1 + n_2 - 2,

with :math:`J` the exact correction of
:func:`~alsmeta.effects.measures.hedges_correction`. Variance
(``vtype="LS"``, metafor's default, Bonett 2009 eq. 5 with the correction):

.. math::

    v_i = J^2\left[\frac{y_i^2\,\left(s_1^4/(n_1-1) + s_2^4/(n_2-1)\right)}{2\,(s_1^2 + s_2^2)^2}
          + \frac{s_1^2/(n_1-1) + s_2^2/(n_2-1)}{(s_1^2 + s_2^2)/2}\right]

and ``vtype="LS2"`` (Bonett 2008, without the correction and with
:math:`n` in place of :math:`n - 1`):

.. math::

    v_i = \frac{y_i^2\,(s_1^2/n_1 + s_2^2/n_2)}{2\,(s_1^2+s_2^2)^2}
          + \frac{2\,(s_1^2/n_1 + s_2^2/n_2)}{s_1^2 + s_2^2}.

References
----------
Bonett DG (2008). Confidence intervals for standardized linear contrasts of
means. Psychological Methods 13:99-109. doi:10.1037/1082-989X.13.2.99
Bonett DG (2009). Meta-analytic interval estimation for standardized and
unstandardized mean differences. Psychological Methods 14:225-238.
doi:10.1037/a0016619
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from alsmeta.effects._study_columns import checked_effect_sizes, two_groups
from alsmeta.effects.measures import EffectSizes, hedges_correction
from alsmeta.validation import choice

__all__ = ["smd_heteroscedastic"]


def smd_heteroscedastic(
    m1i: Any,
    sd1i: Any,
    n1i: Any,
    m2i: Any,
    sd2i: Any,
    n2i: Any,
    *,
    vtype: str = "LS",
    labels: Sequence[Any] | None = None,
) -> EffectSizes:
    """Standardized mean difference with heteroscedastic SDs (``SMDH``), as metafor's ``escalc``.

    Parameters
    ----------
    m1i, sd1i, n1i : array_like
        Mean, SD (> 0) and size (whole number >= 2) of group 1 (treatment).
    m2i, sd2i, n2i : array_like
        The same for group 2 (control).
    vtype : {"LS", "LS2"}
    labels : sequence, optional

    Returns
    -------
    EffectSizes
    """
    vtype = choice(vtype, "vtype", ("LS", "LS2"))
    columns = {"m1i": m1i, "sd1i": sd1i, "n1i": n1i, "m2i": m2i, "sd2i": sd2i, "n2i": n2i}
    labs, c = two_groups(columns, labels)
    n1, n2 = c["n1i"], c["n2i"]
    var1, var2 = c["sd1i"] ** 2, c["sd2i"] ** 2
    j = hedges_correction(n1 + n2 - 2)
    yi = j * (c["m1i"] - c["m2i"]) / ((var1 + var2) / 2) ** 0.5
    if vtype == "LS":
        vi = j**2 * (
            yi**2 * (var1**2 / (n1 - 1) + var2**2 / (n2 - 1)) / (2 * (var1 + var2) ** 2)
            + (var1 / (n1 - 1) + var2 / (n2 - 1)) / ((var1 + var2) / 2)
        )
    else:
        vi = yi**2 * (var1 / n1 + var2 / n2) / (2 * (var1 + var2) ** 2) + 2 * (var1 / n1 + var2 / n2) / (var1 + var2)
    return checked_effect_sizes(
        "SMDH", yi, vi, labs, column="sd1i", describe=lambda i: f"SDs {c['sd1i'][i]:g} and {c['sd2i'][i]:g}"
    )
