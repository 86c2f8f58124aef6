"""Conversions for studies that report other statistics than means and SDs.

Primary studies rarely report exactly what a meta-analysis needs. The
functions here recover standard errors, standard deviations and means from
what *is* reported, each with the published formula written out in its
docstring so that every derived number can be audited:

========================  =====================================================
:func:`se_from_ci`        SE from a confidence interval (normal or t)
:func:`se_from_p`         SE from an estimate and its p-value (normal or t);
                          p-values reported as bounds ("p<0.02") only on request
:func:`parse_p_value`     ``"p<0.02"`` -> ``(0.02, "<")``
:func:`sd_from_se`        SD from the SE of a mean or of a difference in means
:func:`mean_sd_from_median`  mean and SD from median with range and/or IQR
                          (Wan et al. 2014, scenarios S1, S2, S3)
:func:`sd_change_from_sds`   SD of a within-patient change from the baseline and
                          follow-up SDs and their correlation
:func:`correlation_from_sds` the inverse: the pre-post correlation implied by
                          reported baseline, follow-up and change SDs
:func:`combine_groups`    N, mean and SD of two subgroups merged into one
========================  =====================================================

All functions are vectorised over studies: every study-level argument takes a
sequence (list, array, pandas Series) and a single number is accepted and
applied to every study. Results are always 1-d numpy arrays (even for one
study), in the order of the input. Bad input raises
:class:`~alsmeta.validation.AlsmetaInputError` naming the study (``labels=``,
default ``"Study 1"``, ...) and the argument; nothing is dropped or coerced.

References
----------
Higgins JPT, Li T, Deeks JJ (eds). Chapter 6: Choosing effect measures and
computing estimates of effect. In: Cochrane Handbook for Systematic Reviews of
Interventions, version 6.4 (2023), sections 6.3.1, 6.5.2.2-6.5.2.3, 6.5.2.8,
6.5.2.10.

Wan X, Wang W, Liu J, Tong T (2014). Estimating the sample mean and standard
deviation from the sample size, median, range and/or interquartile range.
BMC Medical Research Methodology 14:135.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
from scipy import stats

from alsmeta.results import ResultMixin
from alsmeta.validation import (
    AlsmetaInputError,
    numeric_column,
    probability_level,
    same_length,
    study_labels,
)

Array = npt.NDArray[np.float64]

__all__ = [
    "CombinedGroups",
    "MeanSDEstimate",
    "SEFromP",
    "combine_groups",
    "correlation_from_sds",
    "mean_sd_from_median",
    "parse_p_value",
    "sd_change_from_sds",
    "sd_from_se",
    "se_from_ci",
    "se_from_p",
]


# ---------------------------------------------------------------------------
# input helpers shared with alsmeta.effects.measures
# ---------------------------------------------------------------------------


def _is_single_value(values: Any) -> bool:
    return isinstance(values, (str, bytes)) or np.ndim(values) == 0


def _study_table(
    labels: Sequence[Any] | None,
    columns: dict[str, Any],
    *,
    broadcast: Iterable[str] = (),
) -> list[str]:
    """Check the shapes of the study-level columns and return the study labels.

    ``columns`` maps argument names to their values (``None`` = not given).
    Names in ``broadcast`` may be a single value applied to every study; all
    others must hold one value per study. The number of studies is the number
    of labels if given, else the common length of the columns (1 if every
    column is a single value).
    """
    allowed = set(broadcast)
    sequences: dict[str, Any] = {}
    for name, values in columns.items():
        if values is None:
            continue
        try:
            single = _is_single_value(values)
            ndim = np.ndim(values)
        except ValueError:  # ragged nested lists
            raise AlsmetaInputError(f"column {name!r}: expected a flat sequence of numbers") from None
        if single:
            if name not in allowed:
                raise AlsmetaInputError(
                    f"column {name!r}: expected one value per study, got the single value {values!r}"
                )
            continue
        if ndim != 1:
            raise AlsmetaInputError(f"column {name!r}: expected a 1-d column, got {ndim} dimensions")
        sequences[name] = values
    if labels is not None and isinstance(labels, (str, bytes)):
        study_labels(labels, 0)  # raises: a single string is not a list of labels
    n_labels = None if labels is None else len(list(labels))
    try:
        k = same_length(sequences) if sequences else (n_labels if n_labels is not None else 1)
        if n_labels is not None and sequences and k != n_labels:
            raise AlsmetaInputError("labels and columns differ in length")
    except AlsmetaInputError:
        raise AlsmetaInputError(_length_message(labels, sequences)) from None
    return study_labels(labels, k)


def _length_message(labels: Sequence[Any] | None, sequences: dict[str, Any]) -> str:
    """Explain a length mismatch, naming the first study that lacks a value."""
    lengths = {name: len(values) for name, values in sequences.items()}
    if labels is not None:
        names = [str(lab) for lab in labels]
        source = f"{len(names)} labelled studies"
    else:
        names = [f"Study {i + 1}" for i in range(max(lengths.values()))]
        source = f"{len(names)} studies (the longest column)"
    for name, m in lengths.items():
        if m < len(names):
            return f"column {name!r} has {m} values for {source}: study {names[m]!r} has no value in column {name!r}"
    name, m = next((n, m) for n, m in lengths.items() if m > len(names))
    return (
        f"column {name!r} has {m} values for {source} ({', '.join(map(repr, names))}): "
        f"value {m} of column {name!r} belongs to no study"
    )


def _column(
    values: Any,
    name: str,
    labels: list[str],
    **checks: bool,
) -> Array:
    """One study-level column as floats (a single value is applied to all studies)."""
    if values is not None and _is_single_value(values):
        values = [values] * len(labels)
    if values is None:
        raise AlsmetaInputError(f"column {name!r}: required but not given")
    return numeric_column(values, name, labels, **checks)


def _missing_partner_message(given: str, pair: tuple[str, str]) -> Callable[[int], str]:
    """Message for a study that gives one end of a range or IQR (``given``) without the other."""
    message = f"value missing although {given!r} is given ({pair[0]} and {pair[1]} go together)"
    return lambda i: message


def _out_of_order_message(name_lo: str, lo: Any, hi: Any) -> Callable[[int], str]:
    """Message for study ``i`` whose value ``hi[i]`` lies below the lower summary ``name_lo`` (``lo[i]``)."""
    return lambda i: f"value {hi[i]:g} is below {name_lo} {lo[i]:g} (values out of order)"


def _fail_where(bad: Any, labels: list[str], name: str, message: Callable[[int], str]) -> None:
    """Raise for the first study where ``bad`` is true, naming study and column."""
    bad = np.asarray(bad, dtype=bool)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise AlsmetaInputError(f"study {labels[i]!r}, column {name!r}: {message(i)}")


def _sample_size(values: Any, name: str, labels: list[str], minimum: int, why: str) -> Array:
    """Whole-number sample sizes of at least ``minimum``; ``why`` explains the minimum."""
    n = _column(values, name, labels, integer=True, positive=True)
    _fail_where(n < minimum, labels, name, lambda i: f"sample size {n[i]:g} is below {minimum} ({why})")
    return n


def _correlation(values: Any, name: str, labels: list[str]) -> Array:
    r = _column(values, name, labels)
    _fail_where(np.abs(r) > 1, labels, name, lambda i: f"correlation {r[i]:g} lies outside [-1, 1]")
    return r


def _change_sd(sd_pre: Array, sd_post: Array, ri: Array) -> Array:
    """sqrt(sd_pre^2 + sd_post^2 - 2 r sd_pre sd_post), clipped at 0 against rounding."""
    return np.sqrt(np.maximum(sd_pre**2 + sd_post**2 - 2.0 * ri * sd_pre * sd_post, 0.0))


def _frozen(x: Any, dtype: Any = float) -> npt.NDArray[Any]:
    arr = np.array(x, dtype=dtype)
    arr.flags.writeable = False
    return arr


# ---------------------------------------------------------------------------
# standard errors from confidence intervals and p-values
# ---------------------------------------------------------------------------


def _degrees_of_freedom(df: Any, labels: list[str]) -> Array | None:
    if df is None:
        return None
    return _column(df, "df", labels, positive=True)


def _quantile(upper_tail: Array, df: Array | None) -> Array:
    """Upper-tail quantile of N(0, 1), or of t with ``df`` degrees of freedom."""
    if df is None:
        return np.asarray(stats.norm.isf(upper_tail), dtype=float)
    return np.asarray(stats.t.isf(upper_tail, df), dtype=float)


def se_from_ci(
    lower: Any,
    upper: Any,
    level: float = 0.95,
    df: Any = None,
    log_scale: bool = False,
    *,
    labels: Sequence[Any] | None = None,
) -> Array:
    r"""Standard error of an estimate from its symmetric confidence interval.

    .. math::

        \mathrm{SE} = \frac{U - L}{2\, q_{1-\alpha/2}}

    with :math:`q` the standard normal quantile (3.92 = 2 x 1.96 for a 95%
    interval), or the t quantile with ``df`` degrees of freedom when the
    interval was built from a t distribution (Cochrane Handbook 6.5.2.2 and
    6.5.2.3: small samples, e.g. df = n - 1 for one mean, n1 + n2 - 2 for a
    difference of two means). For ratio measures (odds, risk or rate ratios)
    reported on their natural scale, set ``log_scale=True``: the interval is
    symmetric on the log scale, so :math:`L, U` are replaced by
    :math:`\log L, \log U` and the SE is that of the log ratio (Cochrane
    Handbook 6.3.2).

    Parameters
    ----------
    lower, upper : array_like
        Confidence limits, one per study (a single number is one study).
    level : float
        Confidence level as a fraction (0.95) or percent (95).
    df : array_like or float, optional
        Degrees of freedom of a t-based interval; ``None`` for a normal one.
    log_scale : bool
        Limits are ratios; return the SE of the log ratio.
    labels : sequence, optional
        Study labels used in error messages.

    Returns
    -------
    numpy.ndarray
        One standard error per study.

    Raises
    ------
    AlsmetaInputError
        If a limit is missing or not a number, ``lower >= upper``, a limit is
        not positive with ``log_scale=True``, or ``df <= 0``.

    Examples
    --------
    >>> se_from_ci([1.48], [4.47])  # Oh 2018, ALSFRS-R 4 months: reported SE 0.75
    array([0.76276...])
    """
    labs = _study_table(labels, {"lower": lower, "upper": upper, "df": df}, broadcast=("lower", "upper", "df"))
    lo = _column(lower, "lower", labs, positive=log_scale)
    hi = _column(upper, "upper", labs, positive=log_scale)
    _fail_where(lo >= hi, labs, "upper", lambda i: f"upper limit {hi[i]:g} is not above lower limit {lo[i]:g}")
    lv = probability_level(level)
    dfs = _degrees_of_freedom(df, labs)
    if log_scale:
        lo, hi = np.log(lo), np.log(hi)
    q = _quantile(np.full(len(labs), (1.0 - lv) / 2.0), dfs)
    return (hi - lo) / (2.0 * q)


_P_PATTERN = re.compile(
    r"""^\s*(?:p\s*(?:-?\s*value)?\s*)?      # optional leading 'p' / 'p-value'
        (?P<rel><=|>=|=<|=>|==|≤|≥|<|>|=)?\s*
        (?P<num>[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*$""",
    re.IGNORECASE | re.VERBOSE,
)
_RELATIONS = {
    None: "=",
    "=": "=",
    "==": "=",
    "<": "<",
    ">": ">",
    "<=": "<=",
    "=<": "<=",
    "≤": "<=",
    ">=": ">=",
    "=>": ">=",
    "≥": ">=",
}


def parse_p_value(text: str | float) -> tuple[float, str]:
    """Split a reported p-value into its number and relation.

    ``"p<0.02"`` -> ``(0.02, "<")``; ``"P = .003"`` -> ``(0.003, "=")``;
    ``"<0.001"`` -> ``(0.001, "<")``; ``"p≥0.05"`` -> ``(0.05, ">=")``;
    a plain number -> ``(number, "=")``. The relation is one of ``"="``,
    ``"<"``, ``"<="``, ``">"``, ``">="``.

    Raises
    ------
    AlsmetaInputError
        If the text is not a p-value ("NS", "n.s.", "significant", ...) or the
        number lies outside [0, 1].
    """
    if isinstance(text, (bool, np.bool_)):
        raise AlsmetaInputError(f"p-value: boolean {text!r} is not a p-value")
    if isinstance(text, (int, float, np.integer, np.floating)):
        value, relation = float(text), "="
    elif isinstance(text, str):
        match = _P_PATTERN.match(text)
        if match is None:
            raise AlsmetaInputError(
                f"p-value: cannot read {text!r}; expected a number, optionally with p and a "
                "relation, e.g. '0.03', 'p=0.03', 'p<0.001' (verbal reports such as 'NS' carry no number)"
            )
        value, relation = float(match["num"]), _RELATIONS[match["rel"]]
    else:
        raise AlsmetaInputError(f"p-value: {text!r} is neither a number nor text")
    if not 0.0 <= value <= 1.0:
        raise AlsmetaInputError(f"p-value: {text!r} lies outside [0, 1]")
    return value, relation


@dataclass(frozen=True, eq=False)
class SEFromP(ResultMixin):
    """Result of :func:`se_from_p`.

    Attributes
    ----------
    se : numpy.ndarray
        Standard error per study. Where ``is_bound`` is true this is the
        largest SE compatible with the reported bound (an upper bound).
    p : numpy.ndarray
        The p-value used (the bound itself where a bound was reported).
    relation : tuple of str
        The reported relation per study: ``"="``, ``"<"`` or ``"<="``.
    is_bound : numpy.ndarray of bool
        True where the p-value was reported as a bound and ``se`` is therefore
        an upper bound rather than an exact back-calculation.
    labels : list of str
    """

    _per_row: ClassVar[bool] = True

    se: Array
    p: Array
    relation: tuple[str, ...]
    is_bound: npt.NDArray[np.bool_]
    labels: list[str]

    @property
    def any_bound(self) -> bool:
        """True if at least one SE rests on a p-value bound."""
        return bool(self.is_bound.any())


def se_from_p(
    estimate: Any,
    p: Any,
    df: Any = None,
    sided: int = 2,
    *,
    bound: str = "error",
    labels: Sequence[Any] | None = None,
) -> SEFromP:
    r"""Standard error of an estimate from its p-value (Cochrane Handbook 6.3.1, 6.5.2.3).

    The test statistic is recovered from the p-value and the SE follows from
    :math:`z = \hat\theta / \mathrm{SE}`:

    .. math::

        \mathrm{SE} = \frac{|\hat\theta|}{q}, \qquad
        q = \Phi^{-1}(1 - p/2) \ \text{(two-sided)}, \quad
        q = \Phi^{-1}(1 - p) \ \text{(one-sided)},

    or the corresponding quantile of t with ``df`` degrees of freedom if the
    p-value came from a t test (e.g. df = n1 + n2 - 2 for a two-sample t test,
    n - 1 for a paired one). Ratio estimates must be given on the log scale.

    **p-values reported as inequalities.** ``"p<0.02"`` says only that the
    true p is below 0.02, i.e. the true statistic is *larger* than
    :math:`q(0.02)` and the true SE *smaller* than :math:`|\hat\theta|/q(0.02)`.
    Treating p < x as p = x therefore gives the **largest SE compatible with
    the report**: the study gets the smallest weight it could deserve and its
    own confidence interval is at least as wide as the truth - conservative.
    By default (``bound="error"``) a bound raises an error; pass
    ``bound="conservative"`` to accept ``<`` and ``<=`` this way, and check
    ``is_bound`` in the result. A lower bound (``"p>0.05"``) is always
    rejected: it is compatible with p = 1, i.e. with an infinite SE, and
    treating it as p = x would give the *smallest* compatible SE
    (anti-conservative).

    Parameters
    ----------
    estimate : array_like
        Point estimates (mean difference, log odds ratio, ...), not zero.
    p : array_like
        p-values: numbers or text as in :func:`parse_p_value` ("p=0.03",
        "p<0.001", ".003"). Must lie in (0, 1); one-sided p must be < 0.5.
    df : array_like or float, optional
        Degrees of freedom of a t test; ``None`` for a z test.
    sided : {2, 1}
        Two-sided (default) or one-sided p-value.
    bound : {"error", "conservative"}
        How to treat p-values reported as upper bounds (see above).
    labels : sequence, optional
        Study labels used in error messages and in the result.

    Returns
    -------
    SEFromP
        ``se``, ``p``, ``relation``, ``is_bound``, ``labels``.

    Raises
    ------
    AlsmetaInputError
        For a bound without ``bound="conservative"``, any lower bound, a
        p-value of 0 or 1, an estimate of 0 (no SE can be recovered from it),
        unreadable text, or invalid ``df``/``sided``.

    Examples
    --------
    >>> se_from_p([3.38], [0.003], df=54).se   # Oh 2018 ALSFRS-R 6 months: reported SE 1.07
    array([1.0874...])
    """
    if sided not in (1, 2):
        raise AlsmetaInputError(f"sided: must be 1 or 2, got {sided!r}")
    if bound not in ("error", "conservative"):
        raise AlsmetaInputError(f"bound: must be 'error' or 'conservative', got {bound!r}")
    labs = _study_table(labels, {"estimate": estimate, "p": p, "df": df}, broadcast=("estimate", "p", "df"))
    est = _column(estimate, "estimate", labs)
    _fail_where(est == 0, labs, "estimate", lambda i: "an estimate of 0 carries no information about its SE")
    raw_p = [p] * len(labs) if _is_single_value(p) else list(p.tolist() if hasattr(p, "tolist") else p)
    values, relations = [], []
    for lab, entry in zip(labs, raw_p, strict=True):
        if isinstance(entry, str):
            try:
                value, relation = parse_p_value(entry)
            except AlsmetaInputError as exc:
                raise AlsmetaInputError(f"study {lab!r}, column 'p': {exc}") from None
            values.append(value)
        else:
            values.append(entry)
            relation = "="
        relations.append(relation)
    pv = numeric_column(values, "p", labs)
    for i, relation in enumerate(relations):
        where = f"study {labs[i]!r}, column 'p'"
        if relation in (">", ">="):
            raise AlsmetaInputError(
                f"{where}: p{relation}{pv[i]:g} is a lower bound; it is compatible with p = 1 "
                "(an infinite SE), so no conservative SE exists - find the exact p-value or a CI"
            )
        if relation in ("<", "<=") and bound != "conservative":
            raise AlsmetaInputError(
                f"{where}: p{relation}{pv[i]:g} is an upper bound, not a p-value; treating it as "
                f"p = {pv[i]:g} gives the largest SE compatible with the report - pass "
                "bound='conservative' to accept that (the result flags it in is_bound)"
            )
    _fail_where((pv <= 0) | (pv >= 1), labs, "p", lambda i: f"p-value {pv[i]:g} must lie strictly between 0 and 1")
    if sided == 1:
        _fail_where(pv >= 0.5, labs, "p", lambda i: f"one-sided p-value {pv[i]:g} >= 0.5 gives no usable statistic")
    dfs = _degrees_of_freedom(df, labs)
    q = _quantile(pv / sided, dfs)
    return SEFromP(
        se=_frozen(np.abs(est) / q),
        p=_frozen(pv),
        relation=tuple(relations),
        is_bound=_frozen([r != "=" for r in relations], dtype=bool),
        labels=labs,
    )


# ---------------------------------------------------------------------------
# standard deviations
# ---------------------------------------------------------------------------


def sd_from_se(
    se: Any,
    n: Any,
    n2: Any = None,
    *,
    labels: Sequence[Any] | None = None,
) -> Array:
    r"""Standard deviation from a standard error (Cochrane Handbook 6.5.2.2, 6.5.2.3).

    Of one group's mean (``n2`` not given):

    .. math:: \mathrm{SD} = \mathrm{SE}\,\sqrt{n}

    Of a difference between two independent means (``n2`` given), the pooled
    within-group SD assumed equal in both groups:

    .. math:: \mathrm{SD} = \mathrm{SE} \Big/ \sqrt{1/n_1 + 1/n_2}

    Parameters
    ----------
    se : array_like
        Standard errors (> 0).
    n : array_like
        Sample size of the group (or of group 1), whole numbers >= 2.
    n2 : array_like, optional
        Sample size of group 2 when ``se`` belongs to a difference in means.
    labels : sequence, optional

    Returns
    -------
    numpy.ndarray
    """
    labs = _study_table(labels, {"se": se, "n": n, "n2": n2}, broadcast=("se", "n", "n2"))
    s = _column(se, "se", labs, positive=True)
    n1 = _sample_size(n, "n", labs, 2, "an SD needs at least two observations")
    if n2 is None:
        return s * np.sqrt(n1)
    m2 = _sample_size(n2, "n2", labs, 2, "an SD needs at least two observations")
    return s / np.sqrt(1.0 / n1 + 1.0 / m2)


def _wan_xi(n: Array) -> Array:
    """Wan et al. (2014) xi(n) = 2 Phi^-1((n - 0.375) / (n + 0.25)): expected range / sigma."""
    return 2.0 * stats.norm.ppf((n - 0.375) / (n + 0.25))


def _wan_eta(n: Array) -> Array:
    """Wan et al. (2014) eta(n) = 2 Phi^-1((0.75 n - 0.125) / (n + 0.25)): expected IQR / sigma."""
    return 2.0 * stats.norm.ppf((0.75 * n - 0.125) / (n + 0.25))


@dataclass(frozen=True, eq=False)
class MeanSDEstimate(ResultMixin):
    """Result of :func:`mean_sd_from_median`.

    Attributes
    ----------
    mean, sd : numpy.ndarray
        Estimated sample mean and standard deviation per study.
    scenario : tuple of str
        Wan et al. scenario used per study: ``"S1"`` (min, median, max),
        ``"S2"`` (min, q1, median, q3, max) or ``"S3"`` (q1, median, q3).
    labels : list of str
    """

    _per_row: ClassVar[bool] = True

    mean: Array
    sd: Array
    scenario: tuple[str, ...]
    labels: list[str]


def mean_sd_from_median(
    median: Any,
    n: Any,
    *,
    minimum: Any = None,
    maximum: Any = None,
    q1: Any = None,
    q3: Any = None,
    labels: Sequence[Any] | None = None,
) -> MeanSDEstimate:
    r"""Mean and SD from the median with the range and/or IQR (Wan et al. 2014).

    With :math:`a` = minimum, :math:`q_1`, :math:`m` = median, :math:`q_3`,
    :math:`b` = maximum and the sample size :math:`n`, and

    .. math::

        \xi(n) = 2\,\Phi^{-1}\!\left(\frac{n - 0.375}{n + 0.25}\right), \qquad
        \eta(n) = 2\,\Phi^{-1}\!\left(\frac{0.75\,n - 0.125}{n + 0.25}\right)

    (the expected range and interquartile range of n standard normal draws,
    by Blom's approximation), the scenario is chosen per study from the
    values available:

    * **S1** (min, median, max): :math:`\bar x = (a + 2m + b)/4` (Hozo et al.
      2005), :math:`s = (b - a)/\xi(n)` (Wan eq. 7);
    * **S2** (min, q1, median, q3, max):
      :math:`\bar x = (a + 2q_1 + 2m + 2q_3 + b)/8` (Wan eq. 10),
      :math:`s = \frac{b - a}{2\,\xi(n)} + \frac{q_3 - q_1}{2\,\eta(n)}` (Wan eq. 12);
    * **S3** (q1, median, q3): :math:`\bar x = (q_1 + m + q_3)/3` (Wan eq. 14),
      :math:`s = (q_3 - q_1)/\eta(n)` (Wan eq. 15).

    All of these assume roughly normal data; a skewed outcome (a median far
    from the middle of its quartiles) makes the mean estimate unreliable.

    Parameters
    ----------
    median : array_like
    n : array_like
        Sample sizes, whole numbers >= 2.
    minimum, maximum : array_like, optional
        The range; give both (entries may be NaN/None for studies without it).
    q1, q3 : array_like, optional
        The quartiles; give both (entries may be NaN/None likewise).
    labels : sequence, optional

    Returns
    -------
    MeanSDEstimate
        ``mean``, ``sd``, ``scenario``, ``labels``.

    Raises
    ------
    AlsmetaInputError
        If a study has neither a complete range nor a complete IQR, has only
        one end of a range or IQR, has values out of order
        (min <= q1 <= median <= q3 <= max), a zero spread, or n < 2.
    """
    columns = {"median": median, "n": n, "minimum": minimum, "maximum": maximum, "q1": q1, "q3": q3}
    labs = _study_table(labels, columns, broadcast=("n",))
    med = _column(median, "median", labs)
    size = _sample_size(n, "n", labs, 2, "Wan et al.'s formulas need n >= 2")
    k = len(labs)
    optional = {}
    for name in ("minimum", "maximum", "q1", "q3"):
        values = columns[name]
        optional[name] = np.full(k, np.nan) if values is None else _column(values, name, labs, allow_nan=True)
    a, b, lq, uq = optional["minimum"], optional["maximum"], optional["q1"], optional["q3"]
    for pair in (("minimum", "maximum"), ("q1", "q3")):
        for given, missing in (pair, pair[::-1]):
            _fail_where(
                ~np.isnan(optional[given]) & np.isnan(optional[missing]),
                labs,
                missing,
                _missing_partner_message(given, pair),
            )
    has_range, has_iqr = ~np.isnan(a), ~np.isnan(lq)
    _fail_where(
        ~has_range & ~has_iqr, labs, "median", lambda i: "needs a range (minimum, maximum) and/or quartiles (q1, q3)"
    )
    order = [("minimum", a), ("q1", lq), ("median", med), ("q3", uq), ("maximum", b)]
    for j, (name_lo, lo) in enumerate(order):  # NaN (absent) compares False: skipped
        for name_hi, hi in order[j + 1 :]:
            _fail_where(lo > hi, labs, name_hi, _out_of_order_message(name_lo, lo, hi))
    _fail_where(has_range & (b <= a), labs, "maximum", lambda i: "range has zero width, so the SD would be 0")
    _fail_where(~has_range & (uq <= lq), labs, "q3", lambda i: "IQR has zero width, so the SD would be 0")
    xi, eta = _wan_xi(size), _wan_eta(size)
    s1 = has_range & ~has_iqr
    s2 = has_range & has_iqr
    with np.errstate(invalid="ignore"):
        mean = np.where(
            s2, (a + 2 * lq + 2 * med + 2 * uq + b) / 8.0, np.where(s1, (a + 2 * med + b) / 4.0, (lq + med + uq) / 3.0)
        )
        sd = np.where(s2, (b - a) / (2 * xi) + (uq - lq) / (2 * eta), np.where(s1, (b - a) / xi, (uq - lq) / eta))
    scenario = tuple("S2" if both else "S1" if rng else "S3" for both, rng in zip(s2, s1, strict=True))
    return MeanSDEstimate(mean=_frozen(mean), sd=_frozen(sd), scenario=scenario, labels=labs)


def sd_change_from_sds(
    sd_pre: Any,
    sd_post: Any,
    ri: Any,
    *,
    labels: Sequence[Any] | None = None,
) -> Array:
    r"""SD of the within-patient change (Cochrane Handbook 6.5.2.8).

    .. math::

        \mathrm{SD}_{\text{change}} = \sqrt{\mathrm{SD}_{\text{pre}}^2
            + \mathrm{SD}_{\text{post}}^2
            - 2\,r\,\mathrm{SD}_{\text{pre}}\,\mathrm{SD}_{\text{post}}}

    ``ri`` is the correlation between baseline and follow-up measurements.
    It is rarely reported; an imputed value (e.g. from
    :func:`correlation_from_sds` applied to a study that reports all three
    SDs) must be stated and varied in a sensitivity analysis.

    Parameters
    ----------
    sd_pre, sd_post : array_like
        Baseline and follow-up SDs (> 0).
    ri : array_like or float
        Pre-post correlation(s) in [-1, 1]; a single number applies to all.
    labels : sequence, optional

    Returns
    -------
    numpy.ndarray
    """
    labs = _study_table(labels, {"sd_pre": sd_pre, "sd_post": sd_post, "ri": ri}, broadcast=("sd_pre", "sd_post", "ri"))
    s1 = _column(sd_pre, "sd_pre", labs, positive=True)
    s2 = _column(sd_post, "sd_post", labs, positive=True)
    return _change_sd(s1, s2, _correlation(ri, "ri", labs))


def correlation_from_sds(
    sd_pre: Any,
    sd_post: Any,
    sd_change: Any,
    *,
    labels: Sequence[Any] | None = None,
) -> Array:
    r"""Pre-post correlation implied by baseline, follow-up and change SDs.

    The inverse of :func:`sd_change_from_sds` (Cochrane Handbook 6.5.2.8):

    .. math::

        r = \frac{\mathrm{SD}_{\text{pre}}^2 + \mathrm{SD}_{\text{post}}^2
                  - \mathrm{SD}_{\text{change}}^2}
                 {2\,\mathrm{SD}_{\text{pre}}\,\mathrm{SD}_{\text{post}}}

    Raises
    ------
    AlsmetaInputError
        If the three SDs are inconsistent, i.e. the implied correlation lies
        outside [-1, 1] (equivalently :math:`\mathrm{SD}_{\text{change}}`
        outside :math:`[|\mathrm{SD}_{\text{pre}} - \mathrm{SD}_{\text{post}}|,
        \mathrm{SD}_{\text{pre}} + \mathrm{SD}_{\text{post}}]`).
    """
    labs = _study_table(
        labels,
        {"sd_pre": sd_pre, "sd_post": sd_post, "sd_change": sd_change},
        broadcast=("sd_pre", "sd_post", "sd_change"),
    )
    s1 = _column(sd_pre, "sd_pre", labs, positive=True)
    s2 = _column(sd_post, "sd_post", labs, positive=True)
    sc = _column(sd_change, "sd_change", labs, positive=True)
    r = (s1**2 + s2**2 - sc**2) / (2.0 * s1 * s2)
    _fail_where(
        np.abs(r) > 1.0 + 1e-12,
        labs,
        "sd_change",
        lambda i: f"SDs are inconsistent: the implied correlation {r[i]:.4g} lies outside [-1, 1]",
    )
    return np.clip(r, -1.0, 1.0)


@dataclass(frozen=True, eq=False)
class CombinedGroups(ResultMixin):
    """Result of :func:`combine_groups`: ``n``, ``mean``, ``sd`` and ``labels``."""

    _per_row: ClassVar[bool] = True

    n: Array
    mean: Array
    sd: Array
    labels: list[str]


def combine_groups(
    n1: Any,
    mean1: Any,
    sd1: Any,
    n2: Any,
    mean2: Any,
    sd2: Any,
    *,
    labels: Sequence[Any] | None = None,
) -> CombinedGroups:
    r"""Merge two subgroups into one group (Cochrane Handbook 6.5.2.10, Table 6.5.a).

    .. math::

        N = N_1 + N_2, \qquad
        M = \frac{N_1 M_1 + N_2 M_2}{N_1 + N_2}, \\
        \mathrm{SD} = \sqrt{\frac{(N_1 - 1)\,\mathrm{SD}_1^2 + (N_2 - 1)\,\mathrm{SD}_2^2
            + \frac{N_1 N_2}{N_1 + N_2}\,(M_1 - M_2)^2}{N_1 + N_2 - 1}}

    This is exact: the result equals the mean and SD (n - 1 denominator) of
    the pooled individual values. For more than two subgroups apply it
    repeatedly.

    Parameters
    ----------
    n1, mean1, sd1, n2, mean2, sd2 : array_like
        Size (whole number >= 1), mean and SD (>= 0) of each subgroup.
    labels : sequence, optional

    Returns
    -------
    CombinedGroups
    """
    columns = {"n1": n1, "mean1": mean1, "sd1": sd1, "n2": n2, "mean2": mean2, "sd2": sd2}
    labs = _study_table(labels, columns, broadcast=tuple(columns))
    a = _column(n1, "n1", labs, integer=True, positive=True)
    b = _column(n2, "n2", labs, integer=True, positive=True)
    m1, m2 = _column(mean1, "mean1", labs), _column(mean2, "mean2", labs)
    s1 = _column(sd1, "sd1", labs, nonnegative=True)
    s2 = _column(sd2, "sd2", labs, nonnegative=True)
    total = a + b
    mean = (a * m1 + b * m2) / total
    var = ((a - 1) * s1**2 + (b - 1) * s2**2 + a * b / total * (m1 - m2) ** 2) / (total - 1)
    return CombinedGroups(n=_frozen(total), mean=_frozen(mean), sd=_frozen(np.sqrt(var)), labels=labs)
