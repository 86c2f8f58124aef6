r"""One group's mean: raw (metafor's ``MN``) and log-transformed (``MNLN``).

For a group of :math:`n` patients with mean :math:`\bar x` and SD :math:`s`:

.. math::

    \text{MN:}\quad y_i = \bar x,\quad v_i = \frac{s^2}{n}; \qquad
    \text{MNLN:}\quad y_i = \ln \bar x,\quad v_i = \frac{s^2}{n\,\bar x^2}

(the second by the delta method; for outcomes on a ratio scale with a
positive mean, e.g. a biomarker level; back-transform with ``exp``). Useful
for single-arm series, e.g. the ALSFRS-R slope of the treated patients, or
natural-history rates to compare a trial's controls with.

References
----------
Borenstein M, Hedges LV, Higgins JPT, Rothstein HR (2009). Introduction to
Meta-Analysis, chapter 4. Wiley. doi:10.1002/9780470743386
Lajeunesse MJ (2011). On the meta-analysis of response ratios for studies
with correlated and multi-group designs. Ecology 92:2049-2055. doi:10.1890/11-0423.1
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from alsmeta.effects._study_columns import SD_NEEDS_TWO, checked_effect_sizes, group_sizes, study_labels_for
from alsmeta.effects.conversions import _column
from alsmeta.effects.measures import EffectSizes
from alsmeta.validation import choice

__all__ = ["SINGLE_MEAN_MEASURES", "single_group_mean"]

SINGLE_MEAN_MEASURES = ("MN", "MNLN")


def single_group_mean(
    measure: str,
    mi: Any,
    sdi: Any,
    ni: Any,
    *,
    labels: Sequence[Any] | None = None,
) -> EffectSizes:
    """Mean (``MN``) or log mean (``MNLN``) of one group, as metafor's ``escalc(measure, mi=, sdi=, ni=)``.

    Parameters
    ----------
    measure : {"MN", "MNLN"}
    mi : array_like
        Means (> 0 for ``MNLN``).
    sdi : array_like
        SDs (> 0).
    ni : array_like
        Group sizes (whole numbers >= 2).
    labels : sequence, optional

    Returns
    -------
    EffectSizes

    Raises
    ------
    AlsmetaInputError
        Naming the study and argument: a non-positive SD (metafor accepts an
        SD of 0, which gives a zero variance), a group of one, or a
        non-positive mean for ``MNLN``.
    """
    measure = choice(measure, "measure", SINGLE_MEAN_MEASURES)
    labs = study_labels_for(labels, {"mi": mi, "sdi": sdi, "ni": ni})
    m = _column(mi, "mi", labs, positive=measure == "MNLN")
    s = _column(sdi, "sdi", labs, positive=True)
    n = group_sizes(ni, "ni", labs, 2, SD_NEEDS_TWO)
    yi, vi = (m, s**2 / n) if measure == "MN" else (np.log(m), s**2 / (n * m**2))
    return checked_effect_sizes(measure, yi, vi, labs, column="mi", describe=lambda i: f"mean {m[i]:g}, SD {s[i]:g}")
