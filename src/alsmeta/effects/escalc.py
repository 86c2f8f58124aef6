"""``effect_sizes(measure, data=, ...)``: metafor's ``escalc`` in Python, one entry for every measure code.

=================================  ==========================================  ================================
measure                            columns (metafor's argument names)          computed by (in effects.)
=================================  ==========================================  ================================
``OR``, ``RR``, ``RD``, ``PETO``   ``ai``, ``ci`` and ``bi``, ``di`` or        ``table_effects.table_effects``
                                   ``n1i``, ``n2i``
``PR``, ``PLN``, ``PLO``,          ``xi`` and ``ni`` (or ``mi``)               ``proportions.proportion_effects``
``PAS``, ``PFT``
``IR``, ``IRLN``                   ``xi``, ``ti``                              ``rates.incidence_rate``
``IRR``, ``IRD``                   ``x1i``, ``t1i``, ``x2i``, ``t2i``          ``rates.incidence_rate_comparison``
``COR``, ``UCOR``, ``ZCOR``        ``ri``, ``ni``                              ``correlations.correlation_effects``
``MD``, ``SMD``, ``ROM``           ``m1i``, ``sd1i``, ``n1i``, ``m2i``,        ``measures.mean_difference``, ...
                                   ``sd2i``, ``n2i``
``SMDH``                           the same                                    ``smdh.smd_heteroscedastic``
``CVR``; ``VR``                    the same; ``VR`` without the means          ``variability.variability_ratio``
``MN``, ``MNLN``                   ``mi``, ``sdi``, ``ni``                     ``single_means.single_group_mean``
``MC``, ``SMCC``                   ``m1i`` (after), ``m2i`` (before),          ``measures.mean_change``,
                                   ``sd1i``, ``sd2i``, ``ni``, ``ri``          ``measures.standardized_mean_change``
``SMCR``                           ``m1i``, ``m2i``, ``sd1i`` (before),        ``measures.standardized_mean_change``
                                   ``ni``, ``ri``
=================================  ==========================================  ================================

Each function's docstring gives the formulas, the defaults and the paper.
Columns are checked under metafor's names before anything is computed, so an
error names the argument (and, when it was given as a column name of
``data``, that column) and the study.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from alsmeta.effects._study_columns import study_labels_for, two_groups
from alsmeta.effects.conversions import _column, _correlation, _sample_size
from alsmeta.effects.correlations import CORRELATION_MEASURES, correlation_effects
from alsmeta.effects.measures import (
    EffectSizes,
    log_ratio_of_means,
    mean_change,
    mean_difference,
    standardized_mean_change,
    standardized_mean_difference,
)
from alsmeta.effects.missing import complete_studies
from alsmeta.effects.proportions import PROPORTION_MEASURES, proportion_effects
from alsmeta.effects.rates import RATE_MEASURES, TWO_RATE_MEASURES, incidence_rate, incidence_rate_comparison
from alsmeta.effects.single_means import SINGLE_MEAN_MEASURES, single_group_mean
from alsmeta.effects.smdh import smd_heteroscedastic
from alsmeta.effects.table_effects import TABLE_MEASURES, table_effects
from alsmeta.effects.variability import variability_ratio
from alsmeta.validation import (
    AlsmetaInputError,
    align_on_index,
    na_action_arg,
)

__all__ = ["MEASURES", "effect_sizes"]

Compute = Callable[[str, dict[str, Any], dict[str, Any], Any], EffectSizes]

COUNT_OPTIONS = ("add", "to")
TWO_GROUP_COLUMNS = ("m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i")


@dataclass(frozen=True)
class _Measure:
    """The columns a measure takes, which are required (each entry: one of these), its options and its function."""

    columns: tuple[str, ...]
    required: tuple[tuple[str, ...], ...]
    options: tuple[str, ...]
    compute: Compute


def _each(names: Sequence[str]) -> tuple[tuple[str, ...], ...]:
    return tuple((n,) for n in names)


# ---------------------------------------------------------------- the measures kept in effects.measures
def _means_two_groups(measure: str, cols: dict[str, Any], opts: dict[str, Any], labels: Any) -> EffectSizes:
    """MD, SMD, ROM: checked here under metafor's names, then computed by effects.measures."""
    labs, c = two_groups(cols, labels, positive_means=measure == "ROM")
    function = {"MD": mean_difference, "SMD": standardized_mean_difference, "ROM": log_ratio_of_means}[measure]
    return function(c["m1i"], c["sd1i"], c["n1i"], c["m2i"], c["sd2i"], c["n2i"], labels=labs, **opts)


def _mean_change(measure: str, cols: dict[str, Any], opts: dict[str, Any], labels: Any) -> EffectSizes:
    """MC, SMCC, SMCR (metafor: m1i after, m2i before; SMCR standardizes by sd1i, the SD before)."""
    labs = study_labels_for(labels, cols)
    after, before = _column(cols["m1i"], "m1i", labs), _column(cols["m2i"], "m2i", labs)
    minimum, why = (2, "a change SD needs two patients") if measure == "MC" else (3, "J(n - 1) needs n >= 3")
    n = _sample_size(cols["ni"], "ni", labs, minimum, why)
    r = _correlation(cols["ri"], "ri", labs)
    sd1 = _column(cols["sd1i"], "sd1i", labs, positive=True)
    if measure == "SMCR":
        return standardized_mean_change(before, after, n, standardizer="raw", sd_pre=sd1, ri=r, labels=labs, **opts)
    sd2 = _column(cols["sd2i"], "sd2i", labs, positive=True)
    if measure == "MC":
        return mean_change(before, after, n, sd_pre=sd2, sd_post=sd1, ri=r, labels=labs)
    return standardized_mean_change(
        before, after, n, standardizer="change", sd_pre=sd2, sd_post=sd1, ri=r, labels=labs, **opts
    )


# ---------------------------------------------------------------- the measures of the new modules
def _table(measure: str, cols: dict[str, Any], opts: dict[str, Any], labels: Any) -> EffectSizes:
    return table_effects(measure, labels=labels, **cols, **opts)


def _proportion(measure: str, cols: dict[str, Any], opts: dict[str, Any], labels: Any) -> EffectSizes:
    return proportion_effects(measure, labels=labels, **cols, **opts)


def _rate(measure: str, cols: dict[str, Any], opts: dict[str, Any], labels: Any) -> EffectSizes:
    return incidence_rate(measure, labels=labels, **cols, **opts)


def _two_rates(measure: str, cols: dict[str, Any], opts: dict[str, Any], labels: Any) -> EffectSizes:
    return incidence_rate_comparison(measure, labels=labels, **cols, **opts)


def _correlation_measure(measure: str, cols: dict[str, Any], opts: dict[str, Any], labels: Any) -> EffectSizes:
    return correlation_effects(measure, labels=labels, **cols, **opts)


def _variability(measure: str, cols: dict[str, Any], opts: dict[str, Any], labels: Any) -> EffectSizes:
    return variability_ratio(measure, labels=labels, **cols)


def _single_mean(measure: str, cols: dict[str, Any], opts: dict[str, Any], labels: Any) -> EffectSizes:
    return single_group_mean(measure, labels=labels, **cols)


def _smdh(measure: str, cols: dict[str, Any], opts: dict[str, Any], labels: Any) -> EffectSizes:
    return smd_heteroscedastic(labels=labels, **cols, **opts)


_TABLE = _Measure(
    ("ai", "bi", "ci", "di", "n1i", "n2i"),
    (("ai",), ("bi", "n1i"), ("ci",), ("di", "n2i")),
    (*COUNT_OPTIONS, "drop00"),
    _table,
)
_TWO_MEANS = _each(TWO_GROUP_COLUMNS)
MEASURES: dict[str, _Measure] = {
    **dict.fromkeys(TABLE_MEASURES, _TABLE),
    **dict.fromkeys(
        PROPORTION_MEASURES,
        _Measure(("xi", "ni", "mi"), (("xi",), ("ni", "mi")), (*COUNT_OPTIONS, "vtype"), _proportion),
    ),
    **dict.fromkeys(RATE_MEASURES, _Measure(("xi", "ti"), _each(("xi", "ti")), COUNT_OPTIONS, _rate)),
    **dict.fromkeys(
        TWO_RATE_MEASURES,
        _Measure(
            ("x1i", "t1i", "x2i", "t2i"), _each(("x1i", "t1i", "x2i", "t2i")), (*COUNT_OPTIONS, "drop00"), _two_rates
        ),
    ),
    **dict.fromkeys(
        CORRELATION_MEASURES, _Measure(("ri", "ni"), _each(("ri", "ni")), ("vtype",), _correlation_measure)
    ),
    "MD": _Measure(TWO_GROUP_COLUMNS, _TWO_MEANS, ("vtype",), _means_two_groups),
    "SMD": _Measure(TWO_GROUP_COLUMNS, _TWO_MEANS, ("vtype",), _means_two_groups),
    "ROM": _Measure(TWO_GROUP_COLUMNS, _TWO_MEANS, (), _means_two_groups),
    "SMDH": _Measure(TWO_GROUP_COLUMNS, _TWO_MEANS, ("vtype",), _smdh),
    "CVR": _Measure(TWO_GROUP_COLUMNS, _TWO_MEANS, (), _variability),
    "VR": _Measure(("sd1i", "n1i", "sd2i", "n2i"), _each(("sd1i", "n1i", "sd2i", "n2i")), (), _variability),
    **dict.fromkeys(SINGLE_MEAN_MEASURES, _Measure(("mi", "sdi", "ni"), _each(("mi", "sdi", "ni")), (), _single_mean)),
    "MC": _Measure(
        ("m1i", "m2i", "sd1i", "sd2i", "ni", "ri"), _each(("m1i", "m2i", "sd1i", "sd2i", "ni", "ri")), (), _mean_change
    ),
    "SMCC": _Measure(
        ("m1i", "m2i", "sd1i", "sd2i", "ni", "ri"),
        _each(("m1i", "m2i", "sd1i", "sd2i", "ni", "ri")),
        ("vtype",),
        _mean_change,
    ),
    "SMCR": _Measure(
        ("m1i", "m2i", "sd1i", "ni", "ri"), _each(("m1i", "m2i", "sd1i", "ni", "ri")), ("vtype",), _mean_change
    ),
}
"""Every measure code :func:`effect_sizes` accepts, with its columns and options."""


def _measure_code(measure: Any) -> str:
    if not isinstance(measure, str) or measure.upper() not in MEASURES:
        raise AlsmetaInputError(f"measure: {measure!r} is not one of {', '.join(MEASURES)}")
    return measure.upper()


def _from_data(data: Any, name: str, value: Any) -> Any:
    """A column argument: a column name of ``data`` becomes that column; anything else is used as given."""
    if not isinstance(value, str):
        return value
    if data is None:
        raise AlsmetaInputError(f"{name}: {value!r} looks like a column name, but no data= was given")
    if value not in data.columns:
        raise AlsmetaInputError(f"{name}: data has no column {value!r} (columns: {', '.join(map(str, data.columns))})")
    return data[value]


def _as_plain(value: Any) -> Any:
    """pandas objects (already aligned) to numpy arrays / lists, so nothing downstream pairs by index again."""
    if isinstance(value, (pd.Series, pd.Index)):
        return value.to_numpy()
    return value


def _check_arguments(code: str, spec: _Measure, columns: dict[str, Any], options: dict[str, Any]) -> None:
    unknown = [name for name in columns if name not in spec.columns]
    if unknown:
        raise AlsmetaInputError(
            f"{unknown[0]}: not an argument of measure {code!r} (it takes {', '.join(spec.columns)})"
        )
    for names in spec.required:
        if not any(columns.get(n) is not None for n in names):
            either = " or ".join(names)
            raise AlsmetaInputError(f"{either}: required for measure {code!r} (it takes {', '.join(spec.columns)})")
    for name in options:
        if name not in spec.options:
            allowed = f"(it takes {', '.join(spec.options)})" if spec.options else "(it takes no options)"
            raise AlsmetaInputError(f"{name}: not an option of measure {code!r} {allowed}")


def effect_sizes(
    measure: str,
    data: Any = None,
    *,
    labels: Any = None,
    add: float | None = None,
    to: str | None = None,
    drop00: bool | None = None,
    vtype: str | None = None,
    na_action: str = "raise",
    **columns: Any,
) -> EffectSizes:
    """Effect sizes and sampling variances for any of metafor's measure codes (``escalc``).

    ``effect_sizes("OR", data=dat, ai="tpos", bi="tneg", ci="cpos", di="cneg", labels="trial")``
    is metafor's ``escalc(measure="OR", ai=tpos, bi=tneg, ci=cpos, di=cneg, data=dat,
    slab=trial)``; the result goes straight to :func:`alsmeta.pool` (``pool(es)``) and
    to a table (``es.to_frame()``). The measures, their columns and the function that
    computes each (where its formula, defaults and paper are given) are listed in the
    module docstring and in :data:`MEASURES`.

    Parameters
    ----------
    measure : str
        metafor's measure code (``"OR"``, ``"SMD"``, ``"PFT"``, ...; case-insensitive).
    data : pandas.DataFrame or mapping, optional
        Table holding the columns named by string arguments.
    labels : str or sequence, optional
        Study labels, or the name of the column of ``data`` holding them
        (metafor's ``slab``); default ``"Study 1"``, ... Duplicates are made
        unique as metafor does (``.1``, ``.2``) with a warning.
    add, to, drop00 : optional
        Continuity correction for count measures, as metafor's ``escalc``:
        ``add=1/2`` (0 for ``PAS`` and ``PFT``) added to every count of the
        studies with a zero count (``to="only0"``; also ``"all"``,
        ``"if0all"``, ``"none"``); ``drop00=False`` keeps studies with no
        events in either group (two-group count measures only). Omitted
        means metafor's default. See :mod:`alsmeta.effects.zero_cells`.
    vtype : str, optional
        Variance estimator, for the measures that have several (default ``"LS"``).
    na_action : {"raise", "drop"}
        A study with a missing input (None, NaN, pd.NA in any column given,
        or a missing label): ``"raise"`` (default) is an error naming the
        study and the column; ``"drop"`` leaves the study out with an
        :class:`alsmeta.AlsmetaWarning` that counts and names the studies
        dropped. Default labels keep their row numbers (dropping the second
        study leaves ``"Study 1"``, ``"Study 3"``, ...). metafor's ``escalc``
        instead keeps such rows with ``yi``/``vi`` NA and leaves them to
        ``rma``'s ``na.action``; here the result holds only computable
        studies, so ``pool(es)`` never sees a missing value.
    **columns
        The data under metafor's argument names (``ai``, ``n1i``, ``m1i``,
        ``sd1i``, ``xi``, ``ni``, ``ti``, ``ri``, ``mi``, ``sdi``, ``x1i``, ``t1i``, ...):
        each a column name of ``data`` or a sequence with one value per study.
        pandas Series are paired by their index (and must hold the same labels).

    Returns
    -------
    EffectSizes
        ``yi``, ``vi``, ``labels``, ``measure`` (and ``notes`` on any
        continuity correction).

    Raises
    ------
    AlsmetaInputError
        An unknown measure, a column the measure does not take or lacks, an
        option it does not have, a column name not in ``data``; and from
        the measure's function, bad values naming the argument and the study.
        When an argument was given as a column name, the message also names
        that column of ``data``.

    References
    ----------
    Viechtbauer W (2010). Conducting meta-analyses in R with the metafor
    package. Journal of Statistical Software 36(3):1-48. doi:10.18637/jss.v036.i03

    Examples
    --------
    >>> import alsmeta as am
    >>> es = am.effect_sizes("PR", xi=[3, 10], ni=[20, 40], labels=["A", "B"])
    >>> es.yi.tolist(), es.measure
    ([0.15, 0.25], 'PR')
    """
    code = _measure_code(measure)
    spec = MEASURES[code]
    na_action = na_action_arg(na_action)
    options = {k: v for k, v in {"add": add, "to": to, "drop00": drop00, "vtype": vtype}.items() if v is not None}
    given = {k: v for k, v in columns.items() if v is not None}
    _check_arguments(code, spec, given, options)
    if data is not None and not isinstance(data, pd.DataFrame):
        if not isinstance(data, Mapping):
            raise AlsmetaInputError(
                f"data: expected a pandas DataFrame or a mapping of columns, got {type(data).__name__}"
            )
        data = pd.DataFrame(dict(data))
    from_data = {k: v for k, v in given.items() if isinstance(v, str)}
    if isinstance(labels, str):
        from_data["labels"] = labels
    resolved = {k: _from_data(data, k, v) for k, v in given.items()}
    resolved["labels"] = _from_data(data, "labels", labels)
    aligned = {k: _as_plain(v) for k, v in align_on_index(resolved).items()}
    study_labels = aligned.pop("labels")
    try:
        aligned, study_labels = complete_studies(aligned, study_labels, na_action)
        return spec.compute(code, aligned, options, None if study_labels is None else list(study_labels))
    except AlsmetaInputError as exc:
        raise AlsmetaInputError(_with_data_columns(str(exc), from_data)) from None


def _with_data_columns(message: str, from_data: dict[str, str]) -> str:
    """Add which column of ``data`` an argument named in ``message`` was taken from."""
    named = [arg for arg in from_data if re.search(rf"(^|[\s'(]){re.escape(arg)}[':]", message)]
    if not named:
        return message
    return message + " (" + "; ".join(f"{arg} = data column {from_data[arg]!r}" for arg in named) + ")"
