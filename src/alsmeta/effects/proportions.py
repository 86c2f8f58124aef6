r"""Single proportions (metafor's ``PR``, ``PLN``, ``PLO``, ``PAS``, ``PFT``) and the PFT back-transformation.

For study i with :math:`x_i` events among :math:`n_i` patients
(:math:`m_i = n_i - x_i` without the event), after any continuity
correction (:mod:`alsmeta.effects.zero_cells`) and :math:`p_i = x_i/n_i`:

========  ==========================================================  ===============================
measure   :math:`y_i`                                                 :math:`v_i` (``vtype="LS"``)
========  ==========================================================  ===============================
``PR``    :math:`p_i` (raw proportion)                                :math:`p_i(1-p_i)/n_i`
``PLN``   :math:`\ln p_i`                                             :math:`1/x_i - 1/n_i`
``PLO``   :math:`\ln[p_i/(1-p_i)]` (logit)                            :math:`1/x_i + 1/m_i`
``PAS``   :math:`\arcsin\sqrt{p_i}`                                   :math:`1/(4 n_i)`
``PFT``   :math:`\tfrac12[\arcsin\sqrt{x_i/(n_i+1)} +
          \arcsin\sqrt{(x_i+1)/(n_i+1)}]` (Freeman-Tukey)             :math:`1/(4 n_i + 2)`
========  ==========================================================  ===============================

Other variances (metafor's ``vtype``): ``PR`` ``"UB"`` (unbiased,
:math:`p_i(1-p_i)/(n_i-1)`) and ``"AV"`` (:math:`\bar p` in place of
:math:`p_i`, with :math:`\bar p` the :math:`n`-weighted mean proportion of all
studies); ``PLN`` and ``PLO`` ``"AV"`` likewise.

Zero cells, as metafor: ``add=1/2`` is added to :math:`x_i` and :math:`m_i` of
each study with :math:`x_i = 0` or :math:`x_i = n_i` (``to="only0"``); for
``PAS`` and ``PFT`` the default is ``add=0`` (they are defined at 0 and 1).

References
----------
Freeman MF, Tukey JW (1950). Transformations related to the angular and the
square root. Annals of Mathematical Statistics 21:607-611.
doi:10.1214/aoms/1177729756
Miller JJ (1978). The inverse of the Freeman-Tukey double arcsine
transformation. The American Statistician 32:138. doi:10.1080/00031305.1978.10479283
Barendregt JJ, Doi SA, Lee YY, Norman RE, Vos T (2013). Meta-analysis of
prevalence. Journal of Epidemiology and Community Health 67:974-978.
doi:10.1136/jech-2013-203104
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from alsmeta.effects._study_columns import (
    NO_CORRECTION_HINT,
    checked_effect_sizes,
    counts,
    events_within,
    group_sizes,
    study_labels_for,
)
from alsmeta.effects.measures import EffectSizes
from alsmeta.effects.zero_cells import add_to_zero_cells, correction_notes, zero_cell_rule
from alsmeta.validation import AlsmetaInputError, choice

Array = npt.NDArray[np.float64]

__all__ = ["PROPORTION_MEASURES", "proportion_effects", "transf_ipft", "transf_ipft_hm"]

PROPORTION_MEASURES = ("PR", "PLN", "PLO", "PAS", "PFT")
_VTYPES = {"PR": ("LS", "UB", "AV"), "PLN": ("LS", "AV"), "PLO": ("LS", "AV"), "PAS": ("LS",), "PFT": ("LS",)}


def proportion_effects(
    measure: str,
    xi: Any,
    ni: Any = None,
    *,
    mi: Any = None,
    add: float | None = None,
    to: str = "only0",
    vtype: str = "LS",
    labels: Sequence[Any] | None = None,
) -> EffectSizes:
    """Effect sizes of single proportions, as metafor's ``escalc(measure, xi=, ni=)`` (formulas: module docstring).

    Parameters
    ----------
    measure : {"PR", "PLN", "PLO", "PAS", "PFT"}
    xi : array_like
        Patients with the event (whole numbers >= 0).
    ni : array_like, optional
        Patients in all (whole numbers >= 1, >= ``xi``); or give ``mi``.
    mi : array_like, optional
        Patients without the event (``ni - xi``), instead of ``ni``.
    add : float, optional
        Continuity correction; default 1/2 (0 for ``PAS`` and ``PFT``), as metafor.
    to : {"only0", "all", "if0all", "none"}
        Which studies receive ``add`` (default: those with no or only events).
    vtype : str
        Variance: ``"LS"`` (default); ``"UB"`` or ``"AV"`` where listed in the module docstring.
    labels : sequence, optional
        Study labels (default ``"Study 1"``, ...).

    Returns
    -------
    EffectSizes
        ``notes`` names the studies that received a continuity correction.

    Raises
    ------
    AlsmetaInputError
        Naming the study and the argument: counts that are not whole numbers,
        negative, more events than patients, ``ni`` and ``mi`` both given and
        inconsistent, or an effect that is undefined or has zero variance
        without a continuity correction (metafor returns NA or a zero
        variance there; such a study cannot be weighted).
    """
    measure = choice(measure, "measure", PROPORTION_MEASURES)
    vtype = choice(vtype, "vtype", _VTYPES[measure])
    rule = zero_cell_rule(add, to, False, default_add=0.0 if measure in ("PAS", "PFT") else 0.5, drop00_allowed=False)
    if ni is None and mi is None:
        raise AlsmetaInputError("ni: required (patients in all), or give mi (patients without the event)")
    labs = study_labels_for(labels, {"xi": xi, "ni": ni, "mi": mi})
    x = counts(xi, "xi", labs)
    if ni is not None:
        n = group_sizes(ni, "ni", labs)
        events_within(x, n, labs, ("xi", "ni"))
        if mi is not None:
            m_given = counts(mi, "mi", labs)
            bad = m_given != n - x
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise AlsmetaInputError(
                    f"study {labs[i]!r}, column 'mi': {m_given[i]:g} is not ni - xi = {n[i] - x[i]:g}"
                )
        m = n - x
    else:
        m = counts(mi, "mi", labs)
        if (x + m == 0).any():
            i = int(np.flatnonzero(x + m == 0)[0])
            raise AlsmetaInputError(f"study {labs[i]!r}, column 'mi': xi + mi = 0 (a study without patients)")
    none_dropped = np.zeros(len(labs), dtype=bool)
    (x, m), corrected = add_to_zero_cells([x, m], rule, none_dropped)
    yi, vi = _proportion_formula(measure, vtype, x, m)
    hint = NO_CORRECTION_HINT if rule.add == 0 or rule.to == "none" else ""
    return checked_effect_sizes(
        measure,
        yi,
        vi,
        labs,
        column="xi",
        describe=lambda i: f"{x[i]:g} events of {x[i] + m[i]:g}",
        hint=hint,
        notes=correction_notes(labs, rule, corrected, none_dropped),
    )


def _proportion_formula(measure: str, vtype: str, x: Array, m: Array) -> tuple[Array, Array]:
    n = x + m
    p = x / n
    with np.errstate(divide="ignore", invalid="ignore"):
        p_bar = float(np.sum(p * n) / np.sum(n))  # metafor's .wmean(p, n); used by vtype="AV"
        if measure == "PR":
            spread = {"LS": p * (1 - p) / n, "UB": p * (1 - p) / (n - 1), "AV": p_bar * (1 - p_bar) / n}
            return p, spread[vtype]
        if measure == "PLN":
            return np.log(p), (1 / x - 1 / n) if vtype == "LS" else 1 / (p_bar * n) - 1 / n
        if measure == "PLO":
            return np.log(p / (1 - p)), (1 / x + 1 / m) if vtype == "LS" else 1 / (p_bar * n) + 1 / ((1 - p_bar) * n)
        if measure == "PAS":
            return np.arcsin(np.sqrt(p)), 1 / (4 * n)
        return _pft(x, n), 1 / (4 * n + 2)


def _pft(x: Any, n: Any) -> Any:
    """Freeman-Tukey double arcsine of ``x`` events in ``n`` (metafor's ``transf.pft(x/n, n)``)."""
    return 0.5 * (np.arcsin(np.sqrt(x / (n + 1))) + np.arcsin(np.sqrt((x + 1) / (n + 1))))


def _finite_array(values: Any, name: str) -> Array:
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise AlsmetaInputError(f"{name}: expected numbers") from None
    if not np.isfinite(arr).all():
        raise AlsmetaInputError(f"{name}: values must be finite (got NaN or infinite)")
    return arr


def _sample_sizes(ni: Any) -> Array:
    n = _finite_array(ni, "ni")
    if (n <= 0).any():
        raise AlsmetaInputError(f"ni: sample sizes must be > 0, got {n[n <= 0].ravel()[0]:g}")
    return n


def _ipft(y: Array, n: Any) -> Any:
    """Miller's inverse with metafor's clamping to 0 below ``PFT(0 of n)`` and to 1 above ``PFT(n of n)``."""
    s = np.sin(2 * y)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = 0.5 * (1 - np.sign(np.cos(2 * y)) * np.sqrt(1 - (s + (s - 1 / s) / n) ** 2))
    p = np.where(y > _pft(n, n), 1.0, p)
    return np.where(y < _pft(0.0, n), 0.0, p)


def transf_ipft(yi: Any, ni: Any) -> Any:
    r"""Back-transform Freeman-Tukey values to proportions (metafor's ``transf.ipft``).

    Miller's (1978) inverse of the double arcsine for a study of :math:`n` patients:

    .. math::

        p = \tfrac12\left[1 - \operatorname{sgn}(\cos 2y)\sqrt{1 - \left(\sin 2y
            + \frac{\sin 2y - 1/\sin 2y}{n}\right)^2}\,\right],

    set to 0 below the PFT value of 0 events in :math:`n` and to 1 above that
    of :math:`n` events in :math:`n` (as metafor). Elementwise; NaN where the
    formula is undefined (metafor's NA).

    Parameters
    ----------
    yi : array_like
        Values on the PFT scale (e.g. ``effect_sizes("PFT", ...).yi``).
    ni : array_like
        Sample size(s) > 0, broadcast against ``yi``.

    Returns
    -------
    numpy.ndarray or float
        Proportions in [0, 1] (a float for scalar input).

    References
    ----------
    Miller JJ (1978). The inverse of the Freeman-Tukey double arcsine
    transformation. The American Statistician 32:138. doi:10.1080/00031305.1978.10479283
    """
    y = _finite_array(yi, "yi")
    out = _ipft(y, _sample_sizes(ni))
    return float(out) if np.ndim(out) == 0 else out


def transf_ipft_hm(yi: Any, ni: Any) -> Any:
    r"""Back-transform a pooled Freeman-Tukey value with the harmonic mean sample size (metafor's ``transf.ipft.hm``).

    :func:`transf_ipft` with :math:`n = 1 / \overline{(1/n_i)}`, the harmonic
    mean of the studies' sample sizes ``ni`` (Miller 1978), the usual way to
    report a pooled PFT estimate, its CI and prediction interval as
    proportions, e.g. ``pool(es).predict(transf=lambda y: transf_ipft_hm(y, ni))``
    where the fit offers ``transf=``. Schwarzer et al. (2019) show that this
    back-transformation can mislead when sample sizes vary a lot; report the
    proportions of the individual studies alongside.

    Parameters
    ----------
    yi : array_like
        Values on the PFT scale (pooled estimate, CI or PI bounds).
    ni : array_like
        The sample sizes of all studies in the meta-analysis (> 0).

    Returns
    -------
    numpy.ndarray or float

    References
    ----------
    Miller JJ (1978). The American Statistician 32:138. doi:10.1080/00031305.1978.10479283
    Schwarzer G, Chemaitelly H, Abu-Raddad LJ, Rücker G (2019). Seriously
    misleading results using inverse of Freeman-Tukey double arcsine
    transformation in meta-analysis of single proportions. Research Synthesis
    Methods 10:476-483. doi:10.1002/jrsm.1348
    """
    y = _finite_array(yi, "yi")
    n = _sample_sizes(ni)
    harmonic = 1.0 / float(np.mean(1.0 / n))
    out = _ipft(y, harmonic)
    return float(out) if np.ndim(out) == 0 else out
