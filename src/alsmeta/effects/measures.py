"""Effect sizes and their sampling variances from reported summary statistics.

Every function takes study-level columns (lists, arrays, pandas Series), is
vectorised over studies and returns an :class:`EffectSizes` (``yi``, ``vi``,
``sei``, ``labels``, ``measure``, ``notes``) ready for :func:`alsmeta.pool`.
The formulas are those of R's metafor ``escalc()`` with its default options,
and the test suite checks them against metafor to a relative 1e-10.

==================================  =========  ===================================
function                            measure    data
==================================  =========  ===================================
:func:`mean_difference`             MD         two groups: mean, SD, n
:func:`standardized_mean_difference`  SMD      two groups: Hedges' g
:func:`log_ratio_of_means`          ROM        two groups, positive outcome
:func:`mean_change`                 MC         one group, before and after
:func:`standardized_mean_change`    SMCC/SMCR  one group, before and after
:func:`slope_change`                SLOPE_CHANGE  one group, progression slope
                                               before vs after treatment
:func:`log_odds_ratio`              OR         2x2 table (log scale)
:func:`log_risk_ratio`              RR         2x2 table (log scale)
:func:`risk_difference`             RD         2x2 table
==================================  =========  ===================================

Direction: two-group measures are group 1 minus (or over) group 2 - pass the
treatment as group 1; pre-post measures are *after minus before*.

Bad input raises :class:`~alsmeta.validation.AlsmetaInputError` naming the
study and the argument (negative or zero SD, n too small, NaN, text, events
larger than the group, mismatched lengths). Nothing is dropped or coerced;
every continuity correction is listed in ``notes``. Duplicate study labels
are made unique as metafor does (``.1``, ``.2`` appended), with a warning.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.special import gammaln

from alsmeta.effects.conversions import (
    _change_sd,
    _column,
    _correlation,
    _fail_where,
    _frozen,
    _sample_size,
    _study_table,
)
from alsmeta.effects.missing import handles_missing
from alsmeta.validation import AlsmetaInputError

Array = npt.NDArray[np.float64]

__all__ = [
    "EffectSizes",
    "hedges_correction",
    "log_odds_ratio",
    "log_ratio_of_means",
    "log_risk_ratio",
    "mean_change",
    "mean_difference",
    "risk_difference",
    "slope_change",
    "standardized_mean_change",
    "standardized_mean_difference",
]


@dataclass(frozen=True, eq=False)
class EffectSizes:
    """Study-level effect sizes with their sampling variances.

    What :func:`alsmeta.effect_sizes` and the functions of :mod:`alsmeta.effects` return:
    the four things a meta-analysis needs (``yi``, ``vi``, ``labels``, ``measure``), to hand
    to :func:`alsmeta.pool` or to a table with :meth:`to_frame`.

    Attributes
    ----------
    yi : numpy.ndarray
        Effect sizes (log scale for ``"OR"``, ``"RR"``, ``"ROM"``). Read-only.
    vi : numpy.ndarray
        Sampling variances. Read-only. NaN only where a study was excluded on
        request (``drop00=True``), and then ``notes`` says so.
    labels : list of str
        Study labels, in input order.
    measure : str
        metafor's name of the measure (``"MD"``, ``"SMD"``, ``"SMCR"``, ...).
    notes : tuple of str
        What was done to the data beyond the formula (continuity corrections,
        studies excluded on request), naming the studies.
    """

    yi: Array
    vi: Array
    labels: list[str]
    measure: str
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "yi", _frozen(self.yi))
        object.__setattr__(self, "vi", _frozen(self.vi))
        object.__setattr__(self, "labels", list(self.labels))
        if not len(self.yi) == len(self.vi) == len(self.labels):
            raise AlsmetaInputError(
                f"EffectSizes: yi, vi and labels differ in length ({len(self.yi)}, {len(self.vi)}, {len(self.labels)})"
            )

    @property
    def sei(self) -> Array:
        """Standard errors, ``sqrt(vi)``."""
        return np.sqrt(self.vi)

    @property
    def k(self) -> int:
        """Number of studies."""
        return len(self.yi)

    def __len__(self) -> int:
        return self.k

    def to_frame(self) -> pd.DataFrame:
        """One row per study: ``label``, ``yi``, ``vi``, ``sei`` and ``measure``."""
        return pd.DataFrame(
            {"label": self.labels, "yi": self.yi, "vi": self.vi, "sei": self.sei, "measure": self.measure}
        )


# ---------------------------------------------------------------------------
# shared pieces
# ---------------------------------------------------------------------------


def hedges_correction(m: Any) -> Array:
    r"""Exact small-sample bias correction of a standardized mean (Hedges 1981).

    .. math::

        J(m) = \frac{\Gamma(m/2)}{\sqrt{m/2}\;\Gamma\!\left(\frac{m-1}{2}\right)}
             = \exp\!\left[\ln\Gamma(m/2) - \ln\sqrt{m/2} - \ln\Gamma\!\left(\tfrac{m-1}{2}\right)\right]

    with :math:`m` the degrees of freedom of the SD estimate (n1 + n2 - 2 for
    two groups, n - 1 for one). Computed on the log scale exactly as
    metafor's ``.cmicalc()``; :math:`J \approx 1 - 3/(4m - 1)`.

    Parameters
    ----------
    m : array_like
        Degrees of freedom, each > 1.
    """
    m = np.asarray(m, dtype=float)
    bad = np.atleast_1d(~(m > 1))
    if bad.any():
        raise AlsmetaInputError(
            f"hedges_correction: degrees of freedom must exceed 1, got {np.atleast_1d(m)[bad][0]:g}"
        )
    return np.exp(gammaln(m / 2.0) - np.log(np.sqrt(m / 2.0)) - gammaln((m - 1.0) / 2.0))


def _check_option(value: str, name: str, allowed: Sequence[str]) -> str:
    if value not in allowed:
        raise AlsmetaInputError(f"{name}: must be one of {', '.join(map(repr, allowed))}, got {value!r}")
    return value


def _two_groups(
    mean1: Any,
    sd1: Any,
    n1: Any,
    mean2: Any,
    sd2: Any,
    n2: Any,
    labels: Sequence[Any] | None,
    *,
    positive_means: bool = False,
) -> tuple[list[str], Array, Array, Array, Array, Array, Array]:
    columns = {"mean1": mean1, "sd1": sd1, "n1": n1, "mean2": mean2, "sd2": sd2, "n2": n2}
    labs = _study_table(labels, columns)
    m1 = _column(mean1, "mean1", labs, positive=positive_means)
    m2 = _column(mean2, "mean2", labs, positive=positive_means)
    s1 = _column(sd1, "sd1", labs, positive=True)
    s2 = _column(sd2, "sd2", labs, positive=True)
    why = "a group SD needs at least two patients"
    g1 = _sample_size(n1, "n1", labs, 2, why)
    g2 = _sample_size(n2, "n2", labs, 2, why)
    return labs, m1, s1, g1, m2, s2, g2


def _pooled_sd(s1: Array, n1: Array, s2: Array, n2: Array) -> Array:
    return np.sqrt(((n1 - 1) * s1**2 + (n2 - 1) * s2**2) / (n1 + n2 - 2))


# ---------------------------------------------------------------------------
# two independent groups, continuous outcome
# ---------------------------------------------------------------------------


@handles_missing
def mean_difference(
    mean1: Any,
    sd1: Any,
    n1: Any,
    mean2: Any,
    sd2: Any,
    n2: Any,
    *,
    vtype: str = "LS",
    labels: Sequence[Any] | None = None,
) -> EffectSizes:
    r"""Raw mean difference between two independent groups (measure ``"MD"``).

    .. math::

        y_i = \bar x_1 - \bar x_2, \qquad
        v_i = \frac{s_1^2}{n_1} + \frac{s_2^2}{n_2} \quad (\texttt{vtype="LS"})

    The default variance does not assume equal group variances (metafor's
    default, Cochrane Handbook 6.5.1.1). ``vtype="HO"`` assumes them equal:
    :math:`v_i = s_p^2 (1/n_1 + 1/n_2)` with the pooled SD
    :math:`s_p^2 = [(n_1-1)s_1^2 + (n_2-1)s_2^2]/(n_1+n_2-2)`.

    Parameters
    ----------
    mean1, sd1, n1 : array_like
        Mean, SD (> 0) and size (whole number >= 2) of group 1 (treatment).
    mean2, sd2, n2 : array_like
        The same for group 2 (control).
    vtype : {"LS", "HO"}
    labels : sequence, optional
        Study labels (unique); default ``"Study 1"``, ...

    Returns
    -------
    EffectSizes

    References
    ----------
    Borenstein M et al. (2009). Introduction to Meta-Analysis, ch. 4.
    Cochrane Handbook for Systematic Reviews of Interventions, section 6.5.1.
    """
    _check_option(vtype, "vtype", ("LS", "HO"))
    labs, m1, s1, g1, m2, s2, g2 = _two_groups(mean1, sd1, n1, mean2, sd2, n2, labels)
    vi = s1**2 / g1 + s2**2 / g2 if vtype == "LS" else _pooled_sd(s1, g1, s2, g2) ** 2 * (1 / g1 + 1 / g2)
    return EffectSizes(m1 - m2, vi, labs, "MD")


@handles_missing
def standardized_mean_difference(
    mean1: Any,
    sd1: Any,
    n1: Any,
    mean2: Any,
    sd2: Any,
    n2: Any,
    *,
    vtype: str = "LS",
    labels: Sequence[Any] | None = None,
) -> EffectSizes:
    r"""Hedges' g, the bias-corrected standardized mean difference (measure ``"SMD"``).

    .. math::

        d_i = \frac{\bar x_1 - \bar x_2}{s_p}, \quad
        s_p^2 = \frac{(n_1-1)s_1^2 + (n_2-1)s_2^2}{n_1+n_2-2}, \quad
        y_i = g_i = J(m)\,d_i, \quad m = n_1 + n_2 - 2,

    with the exact correction :math:`J` of :func:`hedges_correction` (Hedges
    1981). The variance, by ``vtype`` (metafor's options; default ``"LS"``,
    the large-sample approximation of Hedges & Olkin 1985, eq. 5.15 with g):

    * ``"LS"``: :math:`v_i = 1/n_1 + 1/n_2 + g_i^2 / (2(n_1+n_2))`
    * ``"LS2"``: :math:`v_i = J^2\,[1/n_1 + 1/n_2 + d_i^2 / (2(n_1+n_2))]`
      (Borenstein 2009)
    * ``"UB"``: :math:`v_i = 1/n_1 + 1/n_2 + \left(1 - \frac{m-2}{m J^2}\right) g_i^2`,
      unbiased (Hedges 1983)
    * ``"AV"``: as ``"LS"`` with :math:`g_i` replaced by the sample-size
      weighted mean of all g (Hedges 1982); depends on every study passed in.

    Parameters
    ----------
    mean1, sd1, n1, mean2, sd2, n2 : array_like
        As in :func:`mean_difference`.
    vtype : {"LS", "LS2", "UB", "AV"}
    labels : sequence, optional

    Returns
    -------
    EffectSizes

    References
    ----------
    Hedges LV (1981). Distribution theory for Glass's estimator of effect size
    and related estimators. Journal of Educational Statistics 6:107-128.
    Hedges LV, Olkin I (1985). Statistical Methods for Meta-Analysis, ch. 5.
    """
    _check_option(vtype, "vtype", ("LS", "LS2", "UB", "AV"))
    labs, m1, s1, g1, m2, s2, g2 = _two_groups(mean1, sd1, n1, mean2, sd2, n2, labels)
    m = g1 + g2 - 2
    j = hedges_correction(m)
    d = (m1 - m2) / _pooled_sd(s1, g1, s2, g2)
    g = j * d
    total = g1 + g2
    base = 1 / g1 + 1 / g2
    if vtype == "LS":
        vi = base + g**2 / (2 * total)
    elif vtype == "LS2":
        vi = j**2 * (base + d**2 / (2 * total))
    elif vtype == "UB":
        vi = base + (1 - (m - 2) / (m * j**2)) * g**2
    else:
        g_bar = np.sum(total * g) / np.sum(total)
        vi = base + g_bar**2 / (2 * total)
    return EffectSizes(g, vi, labs, "SMD")


@handles_missing
def log_ratio_of_means(
    mean1: Any,
    sd1: Any,
    n1: Any,
    mean2: Any,
    sd2: Any,
    n2: Any,
    *,
    labels: Sequence[Any] | None = None,
) -> EffectSizes:
    r"""Log ratio of means, the "response ratio" (measure ``"ROM"``).

    .. math::

        y_i = \ln(\bar x_1 / \bar x_2), \qquad
        v_i = \frac{s_1^2}{n_1 \bar x_1^2} + \frac{s_2^2}{n_2 \bar x_2^2}

    (delta method; metafor's default ``vtype="LS"``). Only meaningful for
    outcomes on a ratio scale with positive means (e.g. FVC in litres, not
    change scores); both means must be > 0. Back-transform with ``exp``.

    Parameters
    ----------
    mean1, sd1, n1, mean2, sd2, n2 : array_like
        As in :func:`mean_difference`; means > 0.
    labels : sequence, optional

    Returns
    -------
    EffectSizes

    References
    ----------
    Hedges LV, Gurevitch J, Curtis PS (1999). The meta-analysis of response
    ratios in experimental ecology. Ecology 80:1150-1156.
    Lajeunesse MJ (2011). On the meta-analysis of response ratios for studies
    with correlated and multi-group designs. Ecology 92:2049-2055.
    """
    labs, m1, s1, g1, m2, s2, g2 = _two_groups(mean1, sd1, n1, mean2, sd2, n2, labels, positive_means=True)
    vi = s1**2 / (g1 * m1**2) + s2**2 / (g2 * m2**2)
    return EffectSizes(np.log(m1 / m2), vi, labs, "ROM")


# ---------------------------------------------------------------------------
# one group measured twice (pre-post, within-patient)
# ---------------------------------------------------------------------------


def _paired_change(
    pre: Any,
    post: Any,
    n: Any,
    change: Any,
    sd_change: Any,
    sd_pre: Any,
    sd_post: Any,
    ri: Any,
    labels: Sequence[Any] | None,
    *,
    names: tuple[str, str, str],
    min_n: int,
    min_n_why: str,
    change_sd: bool = True,
) -> tuple[list[str], Array, Array | None, Array]:
    """Validate a one-group before/after design.

    Returns labels, the mean change (after - before), its SD and n. The mean
    change comes from ``pre`` and ``post`` or from ``change``; its SD from
    ``sd_change`` or from ``sd_pre``, ``sd_post`` and ``ri``. Exactly one of
    each pair of routes must be given. With ``change_sd=False`` the SD of the
    change is not needed (and returned as None); the caller validates the
    SD columns it uses and ``sd_change``/``sd_post`` must not be given.
    """
    pre_name, post_name, change_name = names
    columns = {
        pre_name: pre,
        post_name: post,
        "n": n,
        change_name: change,
        "sd_change": sd_change,
        "sd_pre": sd_pre,
        "sd_post": sd_post,
        "ri": ri,
    }
    labs = _study_table(labels, columns, broadcast=("ri",))
    if change is None:
        if pre is None or post is None:
            raise AlsmetaInputError(f"give {pre_name!r} and {post_name!r}, or the mean change as {change_name!r}")
        diff = _column(post, post_name, labs) - _column(pre, pre_name, labs)
    else:
        if pre is not None or post is not None:
            raise AlsmetaInputError(
                f"give either {pre_name!r} and {post_name!r} or {change_name!r}, not both (which should be used?)"
            )
        diff = _column(change, change_name, labs)
    if n is None:
        raise AlsmetaInputError("column 'n': the number of patients is required")
    size = _sample_size(n, "n", labs, min_n, min_n_why)
    by_parts = (sd_pre, sd_post, ri)
    if not change_sd:
        unused = [nm for nm, x in (("sd_change", sd_change), ("sd_post", sd_post)) if x is not None]
        if unused:
            raise AlsmetaInputError(
                f"{', '.join(map(repr, unused))} given but not used: raw-score standardization divides "
                "by 'sd_pre' and needs only 'sd_pre' and 'ri'"
            )
        return labs, diff, None, size
    if sd_change is not None:
        if any(x is not None for x in by_parts):
            raise AlsmetaInputError("give either 'sd_change' or 'sd_pre', 'sd_post' and 'ri', not both")
        sd = _column(sd_change, "sd_change", labs, positive=True)
    else:
        if any(x is None for x in by_parts):
            missing = [nm for nm, x in zip(("sd_pre", "sd_post", "ri"), by_parts, strict=True) if x is None]
            raise AlsmetaInputError(
                "the SD of the change needs 'sd_change', or 'sd_pre', 'sd_post' and the pre-post "
                f"correlation 'ri' (missing: {', '.join(missing)}); there is no default correlation"
            )
        s1 = _column(sd_pre, "sd_pre", labs, positive=True)
        s2 = _column(sd_post, "sd_post", labs, positive=True)
        sd = _change_sd(s1, s2, _correlation(ri, "ri", labs))
        _fail_where(sd <= 0, labs, "ri", lambda i: "sd_pre, sd_post and ri imply an SD of change of 0")
    return labs, diff, sd, size


@handles_missing
def mean_change(
    mean_pre: Any = None,
    mean_post: Any = None,
    n: Any = None,
    *,
    change: Any = None,
    sd_change: Any = None,
    sd_pre: Any = None,
    sd_post: Any = None,
    ri: Any = None,
    labels: Sequence[Any] | None = None,
) -> EffectSizes:
    r"""Raw mean change within one group of patients (measure ``"MC"``).

    .. math::

        y_i = \bar x_{\text{post}} - \bar x_{\text{pre}}, \qquad
        v_i = \frac{s_{\text{change}}^2}{n}, \qquad
        s_{\text{change}}^2 = s_{\text{pre}}^2 + s_{\text{post}}^2
            - 2\,r\,s_{\text{pre}}\,s_{\text{post}}

    (metafor ``escalc(measure="MC", m1i=post, m2i=pre, sd1i=sd_post,
    sd2i=sd_pre, ri=ri)``; Cochrane Handbook 6.5.2.8). Give either the two
    means or the reported mean ``change``, and either the reported
    ``sd_change`` or ``sd_pre``, ``sd_post`` *and* the pre-post correlation
    ``ri``. The correlation has no default: it is rarely reported, and an
    assumed value must be a visible decision of the analyst (see
    :func:`alsmeta.effects.conversions.correlation_from_sds`).

    Parameters
    ----------
    mean_pre, mean_post : array_like, optional
        Means before and after.
    n : array_like
        Patients measured at both times (whole number >= 2).
    change : array_like, optional
        Reported mean change (after - before), instead of the two means.
    sd_change : array_like, optional
        Reported SD of the within-patient change (> 0).
    sd_pre, sd_post : array_like, optional
        SDs before and after (> 0), used with ``ri``.
    ri : array_like or float, optional
        Pre-post correlation in [-1, 1] (a single value applies to all).
    labels : sequence, optional

    Returns
    -------
    EffectSizes

    References
    ----------
    Morris SB, DeShon RP (2002). Combining effect size estimates in
    meta-analysis with repeated measures and independent-groups designs.
    Psychological Methods 7:105-125.
    Cochrane Handbook for Systematic Reviews of Interventions, section 6.5.2.8.
    """
    labs, diff, sd, size = _paired_change(
        mean_pre,
        mean_post,
        n,
        change,
        sd_change,
        sd_pre,
        sd_post,
        ri,
        labels,
        names=("mean_pre", "mean_post", "change"),
        min_n=2,
        min_n_why="a change SD needs at least two patients",
    )
    assert sd is not None  # change_sd=True (the default) always returns the SD of the change
    return EffectSizes(diff, sd**2 / size, labs, "MC")


@handles_missing
def standardized_mean_change(
    mean_pre: Any = None,
    mean_post: Any = None,
    n: Any = None,
    *,
    standardizer: str,
    change: Any = None,
    sd_change: Any = None,
    sd_pre: Any = None,
    sd_post: Any = None,
    ri: Any = None,
    vtype: str = "LS",
    labels: Sequence[Any] | None = None,
) -> EffectSizes:
    r"""Standardized mean change within one group (measures ``"SMCC"``, ``"SMCR"``).

    ``standardizer="change"`` (SMCC, change-score standardization; Gibbons et
    al. 1993):

    .. math::

        d_i = \frac{\bar x_{\text{post}} - \bar x_{\text{pre}}}{s_{\text{change}}},\quad
        y_i = J(n-1)\,d_i,\quad
        v_i = \frac1n + \frac{y_i^2}{2n} \quad (\texttt{"LS"}),\quad
        v_i = J^2\left[\frac1n + \frac{d_i^2}{2n}\right] \quad (\texttt{"LS2"})

    with :math:`s_{\text{change}}` reported (``sd_change``) or computed from
    ``sd_pre``, ``sd_post`` and ``ri`` as in :func:`mean_change`.

    ``standardizer="raw"`` (SMCR, raw-score standardization by the
    *baseline* SD; Becker 1988, Morris 2000/2008):

    .. math::

        d_i = \frac{\bar x_{\text{post}} - \bar x_{\text{pre}}}{s_{\text{pre}}},\quad
        y_i = J(n-1)\,d_i,\quad
        v_i = \frac{2(1-r)}{n} + \frac{y_i^2}{2n} \quad (\texttt{"LS"}),\quad
        v_i = J^2\left[\frac{2(1-r)}{n} + \frac{d_i^2}{2n}\right] \quad (\texttt{"LS2"})

    which needs ``sd_pre`` and the correlation ``ri`` (and no other SD). :math:`J` is the exact correction of
    :func:`hedges_correction` with :math:`m = n - 1`, hence n >= 3. These are
    metafor's ``escalc(measure="SMCC"/"SMCR", m1i=post, m2i=pre, ...)``
    formulas (default ``vtype="LS"``); they reproduce Morris (2008), Table 5.

    Parameters
    ----------
    mean_pre, mean_post, n, change, sd_change, sd_pre, sd_post, ri
        As in :func:`mean_change`.
    standardizer : {"change", "raw"}
        Required: which SD to divide by (the two give different scales).
    vtype : {"LS", "LS2"}
    labels : sequence, optional

    Returns
    -------
    EffectSizes

    References
    ----------
    Becker BJ (1988). Synthesizing standardized mean-change measures. British
    Journal of Mathematical and Statistical Psychology 41:257-278.
    Morris SB (2008). Estimating effect sizes from pretest-posttest-control
    group designs. Organizational Research Methods 11:364-386.
    Gibbons RD, Hedeker DR, Davis JM (1993). Estimation of effect size from a
    series of experiments involving paired comparisons. Journal of
    Educational Statistics 18:271-279.
    """
    _check_option(standardizer, "standardizer", ("change", "raw"))
    _check_option(vtype, "vtype", ("LS", "LS2"))
    why = "the exact small-sample correction J(n - 1) needs n >= 3"
    names = ("mean_pre", "mean_post", "change")
    if standardizer == "change":
        labs, diff, sd, size = _paired_change(
            mean_pre,
            mean_post,
            n,
            change,
            sd_change,
            sd_pre,
            sd_post,
            ri,
            labels,
            names=names,
            min_n=3,
            min_n_why=why,
        )
        assert sd is not None  # change_sd=True (the default) always returns the SD of the change
        spread = 1.0 / size
        measure = "SMCC"
    else:
        if sd_pre is None or ri is None:
            raise AlsmetaInputError(
                "standardizer='raw' divides by the baseline SD 'sd_pre' and needs the pre-post "
                "correlation 'ri' for its variance; both are required"
            )
        labs, diff, _, size = _paired_change(
            mean_pre,
            mean_post,
            n,
            change,
            sd_change,
            sd_pre,
            sd_post,
            ri,
            labels,
            names=names,
            min_n=3,
            min_n_why=why,
            change_sd=False,
        )
        sd = _column(sd_pre, "sd_pre", labs, positive=True)
        spread = 2.0 * (1.0 - _correlation(ri, "ri", labs)) / size
        measure = "SMCR"
    j = hedges_correction(size - 1)
    d = diff / sd
    g = j * d
    vi = spread + g**2 / (2 * size) if vtype == "LS" else j**2 * (spread + d**2 / (2 * size))
    return EffectSizes(g, vi, labs, measure)


@handles_missing
def slope_change(
    pre_slope: Any = None,
    post_slope: Any = None,
    n: Any = None,
    *,
    change: Any = None,
    sd_change: Any = None,
    sd_pre: Any = None,
    sd_post: Any = None,
    ri: Any = None,
    labels: Sequence[Any] | None = None,
) -> EffectSizes:
    r"""Change in disease-progression slope within patients (measure ``"SLOPE_CHANGE"``).

    The within-patient design of Morata-Tarifa et al. (2021): each patient's
    rate of decline (e.g. ALSFRS-R points/month, or FVC %/month) is
    estimated over a lead-in period before cell administration and over a
    follow-up period after it, and the study reports the mean of the
    within-patient differences. For study i with n patients:

    .. math::

        y_i = \overline{b_{\text{post}} - b_{\text{pre}}}
            = \bar b_{\text{post}} - \bar b_{\text{pre}}, \qquad
        v_i = \frac{s_\Delta^2}{n},

    where :math:`s_\Delta` is the SD across patients of the slope difference
    :math:`b_{\text{post}} - b_{\text{pre}}`. If only the SDs of the two slopes
    are reported, :math:`s_\Delta^2 = s_{\text{pre}}^2 + s_{\text{post}}^2 -
    2\,r\,s_{\text{pre}} s_{\text{post}}` with ``ri`` the correlation of
    patients' pre and post slopes (required; no default).

    Algebraically this is :func:`mean_change` applied to slopes; it is a
    separate function so that the measure is labelled and documented.
    Direction: ALSFRS-R slopes are negative when patients decline, so a
    positive :math:`y_i` means slower decline after treatment. Caveats that
    no formula fixes: slopes estimated from few visits carry measurement
    error (inflating :math:`s_\Delta`); patients selected for rapid pre-
    treatment decline regress towards the mean; ALS progression is not
    linear, so a single-arm slope change is not a treatment effect without a
    control (see :mod:`alsmeta.simulate` where available).

    Parameters
    ----------
    pre_slope, post_slope : array_like, optional
        Mean slope before and after treatment (per unit time).
    n : array_like
        Patients with both slopes (whole number >= 2).
    change : array_like, optional
        Reported mean within-patient slope change, instead of the two slopes.
    sd_change : array_like, optional
        SD of the within-patient slope difference (> 0).
    sd_pre, sd_post, ri : array_like, optional
        SDs of the two slopes and their correlation, used instead of
        ``sd_change``.
    labels : sequence, optional

    Returns
    -------
    EffectSizes

    References
    ----------
    Morata-Tarifa C et al. (2021). Looking backward to move forward: a
    meta-analysis of stem cell therapy in amyotrophic lateral sclerosis. npj
    Regenerative Medicine 6:20.
    Oh K-W et al. (2018). Annals of Neurology 84:361-373 (ALSFRS-R slope
    change from lead-in to follow-up, mean (SD)).
    Cochrane Handbook for Systematic Reviews of Interventions, section 6.5.2.8.
    """
    labs, diff, sd, size = _paired_change(
        pre_slope,
        post_slope,
        n,
        change,
        sd_change,
        sd_pre,
        sd_post,
        ri,
        labels,
        names=("pre_slope", "post_slope", "change"),
        min_n=2,
        min_n_why="an SD of slope differences needs at least two patients",
    )
    assert sd is not None  # change_sd=True (the default) always returns the SD of the change
    return EffectSizes(diff, sd**2 / size, labs, "SLOPE_CHANGE")


# ---------------------------------------------------------------------------
# 2x2 tables
# ---------------------------------------------------------------------------


def _two_by_two(
    measure: str,
    events1: Any,
    n1: Any,
    events2: Any,
    n2: Any,
    add: float,
    to: str,
    drop00: bool,
    labels: Sequence[Any] | None,
) -> EffectSizes:
    _check_option(to, "to", ("only0", "all", "if0all", "none"))
    try:
        add = float(add)
    except (TypeError, ValueError):
        raise AlsmetaInputError(f"add: {add!r} is not a number") from None
    if not (np.isfinite(add) and add >= 0):
        raise AlsmetaInputError(f"add: must be a finite number >= 0, got {add!r}")
    if not isinstance(drop00, (bool, np.bool_)):
        raise AlsmetaInputError(f"drop00: must be True or False, got {drop00!r}")
    labs = _study_table(labels, {"events1": events1, "n1": n1, "events2": events2, "n2": n2})
    a = _column(events1, "events1", labs, integer=True, nonnegative=True)
    c = _column(events2, "events2", labs, integer=True, nonnegative=True)
    g1 = _column(n1, "n1", labs, integer=True, positive=True)
    g2 = _column(n2, "n2", labs, integer=True, positive=True)
    _fail_where(a > g1, labs, "events1", lambda i: f"{a[i]:g} events in a group of n1 = {g1[i]:g}")
    _fail_where(c > g2, labs, "events2", lambda i: f"{c[i]:g} events in a group of n2 = {g2[i]:g}")
    b, d = g1 - a, g2 - c
    notes = []
    double_zero = ((a == 0) & (c == 0)) | ((b == 0) & (d == 0))
    dropped = double_zero if drop00 else np.zeros(len(labs), dtype=bool)
    if dropped.any():
        notes.append(
            "excluded on request (drop00=True; yi and vi are NaN) because no arm has an event, or "
            f"every patient has one: {', '.join(np.asarray(labs)[dropped])}"
        )
    zero_cell = ((a == 0) | (b == 0) | (c == 0) | (d == 0)) & ~dropped
    if to == "none" or add == 0:
        corrected = np.zeros(len(labs), dtype=bool)
    elif to == "only0":
        corrected = zero_cell
    elif to == "all":
        corrected = ~dropped
    else:  # if0all
        corrected = ~dropped if zero_cell.any() else np.zeros(len(labs), dtype=bool)
    if corrected.any():
        notes.append(f"{add:g} added to every cell of: {', '.join(np.asarray(labs)[corrected])}")
    a, b, c, d = (x + add * corrected for x in (a, b, c, d))
    g1, g2 = a + b, c + d
    p1, p2 = a / g1, c / g2
    with np.errstate(divide="ignore", invalid="ignore"):
        if measure == "OR":
            yi = np.log(a / b) - np.log(c / d)
            vi = 1 / a + 1 / b + 1 / c + 1 / d
        elif measure == "RR":
            yi = np.log(p1) - np.log(p2)
            vi = 1 / a - 1 / g1 + 1 / c - 1 / g2
        else:
            yi = p1 - p2
            vi = p1 * (1 - p1) / g1 + p2 * (1 - p2) / g2
    usable = np.isfinite(yi) & np.isfinite(vi) & (vi > 0)
    _fail_where(
        ~usable & ~dropped,
        labs,
        "events1",
        lambda i: (
            f"{measure} is undefined or has zero variance for the table "
            f"{a[i]:g}/{g1[i]:g} vs {c[i]:g}/{g2[i]:g} without a continuity correction "
            "(use the default add=0.5, to='only0', or drop00=True)"
        ),
    )
    yi[dropped] = np.nan
    vi[dropped] = np.nan
    return EffectSizes(yi, vi, labs, measure, tuple(notes))


_COUNTS_DOC = r"""
    Parameters
    ----------
    events1, n1 : array_like
        Events and patients in group 1 (treatment); whole numbers,
        0 <= events1 <= n1, n1 >= 1.
    events2, n2 : array_like
        The same for group 2 (control).
    add : float
        Continuity correction added to all four cells (default 1/2).
    to : {"only0", "all", "if0all", "none"}
        Which studies get it: those with a zero cell (default), all, all if
        any study has a zero cell, or none.
    drop00 : bool
        Return NaN for studies with no event in either arm (or events in every
        patient of both arms) instead of correcting them; listed in ``notes``.
    labels : sequence, optional

    Returns
    -------
    EffectSizes
        ``notes`` lists the studies that received a correction or were
        excluded.

    Notes
    -----
    Defaults follow metafor ``escalc()`` (``add=1/2, to="only0",
    drop00=FALSE``): 1/2 is added to all four cells of a study that has a
    zero cell, *including* a study with zero events in both arms, which is
    therefore kept with an effect near the null and a large variance (the
    Cochrane Handbook, 10.4.4.1, instead excludes such studies from ratio
    measures: pass ``drop00=True``). Without a correction a zero cell makes
    the log ratio infinite, which raises an error naming the study.

    References
    ----------
    Cochrane Handbook for Systematic Reviews of Interventions, sections 6.4.1
    and 10.4.4.
    Sweeting MJ, Sutton AJ, Lambert PC (2004). What to add to nothing? Use and
    avoidance of continuity corrections in meta-analysis of sparse data.
    Statistics in Medicine 23:1351-1375.
"""


def _counts_measure(measure: str, name: str, summary: str) -> Any:
    """Build the public function for one 2x2 measure (they differ only in the formula)."""

    def effect(
        events1: Any,
        n1: Any,
        events2: Any,
        n2: Any,
        *,
        add: float = 0.5,
        to: str = "only0",
        drop00: bool = False,
        labels: Sequence[Any] | None = None,
    ) -> EffectSizes:
        return _two_by_two(measure, events1, n1, events2, n2, add, to, drop00, labels)

    effect.__name__ = effect.__qualname__ = name
    effect.__doc__ = summary + _COUNTS_DOC
    return handles_missing(effect)


log_odds_ratio = _counts_measure(
    "OR",
    "log_odds_ratio",
    r"""Log odds ratio from a 2x2 table (measure ``"OR"``).

    With cells :math:`a` (events) and :math:`b = n_1 - a` in group 1, and
    :math:`c`, :math:`d = n_2 - c` in group 2 (after any continuity correction):

    .. math::

        y_i = \ln\frac{a\,d}{b\,c}, \qquad v_i = \frac1a + \frac1b + \frac1c + \frac1d

    (Woolf 1955). Log scale: back-transform with ``exp``.
""",
)

log_risk_ratio = _counts_measure(
    "RR",
    "log_risk_ratio",
    r"""Log risk ratio from a 2x2 table (measure ``"RR"``).

    .. math::

        y_i = \ln\frac{a/n_1}{c/n_2}, \qquad
        v_i = \frac1a - \frac1{n_1} + \frac1c - \frac1{n_2}

    with :math:`n_1 = a + b`, :math:`n_2 = c + d` after any continuity
    correction (as metafor). Log scale: back-transform with ``exp``.
""",
)

risk_difference = _counts_measure(
    "RD",
    "risk_difference",
    r"""Risk difference from a 2x2 table (measure ``"RD"``).

    .. math::

        y_i = \frac{a}{n_1} - \frac{c}{n_2}, \qquad
        v_i = \frac{p_1(1-p_1)}{n_1} + \frac{p_2(1-p_2)}{n_2}

    metafor applies its default correction to RD as well, although RD is
    defined with zero cells: a study with a zero cell gets 1/2 added to every
    cell, so e.g. 0/118 vs 0/105 gives :math:`y_i = 0.5/119 - 0.5/106 \ne 0`
    and a positive variance. This function follows metafor; pass
    ``to="none"`` for the uncorrected RD (a study with zero events in both
    arms then has variance 0 and raises an error, as it cannot be weighted).
""",
)
