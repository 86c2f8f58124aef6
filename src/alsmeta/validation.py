"""Input validation shared by every public function.

Every user-facing function converts its study-level inputs with the helpers
here, so that bad input always produces the same kind of message: the name of
the column (argument), the label of the offending study and what is wrong.
Nothing is silently dropped, coerced or reordered: missing values are an
error unless the caller asks for ``na_action="drop"`` (then a warning says
how many studies were dropped and which), duplicate study labels are made
unique as metafor does (with a warning naming them), and pandas Series are
paired by their index, not by position.

One helper per kind of check; the happy path is vectorised (no Python loop
over studies), so a million studies are validated in milliseconds.
"""

from __future__ import annotations

import math
import sys
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt


class AlsmetaInputError(ValueError):
    """Raised when user input is malformed; the message names study and column."""


class AlsmetaWarning(UserWarning):
    """Warnings about estimation and input: fallbacks, boundaries, downgraded tests, dropped rows."""


def _loaded_pandas() -> Any:
    """The pandas module if something has imported it, else None.

    Checks for pandas objects use it: no pandas object can exist before
    pandas is imported, so alsmeta need not import pandas (half a second)
    to find out that an input is a plain array.
    """
    return sys.modules.get("pandas")


NA_ACTIONS = ("raise", "drop")
_SHOW = 5  # labels listed in a message before "..."


def _listing(names: Sequence[str]) -> str:
    """``'a', 'b', 'c'`` (at most five, then the count of the rest)."""
    shown = ", ".join(repr(str(n)) for n in names[:_SHOW])
    rest = len(names) - _SHOW
    return shown + (f" and {rest} more" if rest > 0 else "")


# ---------------------------------------------------------------- scalar arguments
def _real(value: Any, name: str) -> float:
    """A real number from a scalar argument; booleans and text are refused, not coerced."""
    if type(value) is float or type(value) is int:  # the usual argument, without numpy's checks
        return float(value)
    if isinstance(value, (bool, np.bool_, str, bytes)) or value is None:
        raise AlsmetaInputError(f"{name}: {value!r} is not a number")
    if np.ndim(value) != 0:
        raise AlsmetaInputError(f"{name}: expected a single number, got {type(value).__name__}")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise AlsmetaInputError(f"{name}: {value!r} is not a number") from None


def finite_number(value: Any, name: str) -> float:
    """Convert one scalar argument to a finite float, or raise naming the argument.

    Booleans and text are refused rather than coerced (``True`` or ``"0.5"``
    passed where a number is expected is almost always a mistake).
    """
    v = _real(value, name)
    if not np.isfinite(v):
        raise AlsmetaInputError(f"{name}: must be finite, got {value!r}")
    return v


def positive_number(value: Any, name: str) -> float:
    """A finite number > 0 (convergence tolerances, thresholds), or raise naming the argument."""
    v = finite_number(value, name)
    if v <= 0:
        raise AlsmetaInputError(f"{name}: must be > 0, got {value!r}")
    return v


def nonnegative_number(value: Any, name: str) -> float:
    """A finite number >= 0 (a fixed tau^2), or raise naming the argument."""
    v = finite_number(value, name)
    if v < 0:
        raise AlsmetaInputError(f"{name}: must be >= 0, got {value!r}")
    return v


def whole_number(value: Any, name: str, minimum: int = 1) -> int:
    """A whole number >= ``minimum`` (iteration limits, counts), or raise naming the argument.

    ``100.0`` is accepted as 100; ``2.5``, ``True`` and ``"100"`` are refused.
    """
    v = finite_number(value, name)
    if v != np.floor(v):
        raise AlsmetaInputError(f"{name}: must be a whole number, got {value!r}")
    if v < minimum:
        raise AlsmetaInputError(f"{name}: must be >= {minimum}, got {value!r}")
    return int(v)


def flag(value: Any, name: str) -> bool:
    """A boolean switch; ``0``/``1`` and text are refused (``"False"`` is truthy in Python)."""
    if not isinstance(value, (bool, np.bool_)):
        raise AlsmetaInputError(f"{name}: must be True or False, got {value!r}")
    return bool(value)


def random_seed(value: Any, name: str = "seed") -> Any:
    """A seed for :func:`numpy.random.default_rng`: None, a whole number >= 0, or a numpy Generator/SeedSequence."""
    if value is None or isinstance(value, (np.random.Generator, np.random.SeedSequence, np.random.BitGenerator)):
        return value
    return whole_number(value, name, minimum=0)


def choice(value: Any, name: str, allowed: Sequence[str]) -> str:
    """One of ``allowed`` (exact string), or raise listing them."""
    if not isinstance(value, str) or value not in allowed:
        raise AlsmetaInputError(f"{name}: must be one of {', '.join(map(repr, allowed))}, got {value!r}")
    return value


def probability_level(level: Any, name: str = "level") -> float:
    """Validate a confidence level given as a proportion (0.95) or a percentage (95).

    As in metafor, a value in (1, 100) is a percentage. 0, 1, 100, negative,
    NaN and infinite values, booleans and text are refused with an error
    naming the argument.
    """
    lv = _real(level, name)
    if not np.isfinite(lv):
        raise AlsmetaInputError(f"{name}: must be finite, got {level!r}")
    if 1.0 < lv < 100.0:
        lv = lv / 100.0
    if not 0.0 < lv < 1.0:
        raise AlsmetaInputError(f"{name}: {level!r} must lie strictly between 0 and 1 (or, as a percentage, 1 and 100)")
    return lv


def na_action_arg(na_action: Any) -> str:
    """``"raise"`` or ``"drop"``."""
    return choice(na_action, "na_action", NA_ACTIONS)


# ---------------------------------------------------------------- study labels
def missing_labels(labels: Sequence[Any] | None) -> npt.NDArray[np.bool_]:
    """True for each label that is missing (None, NaN, pd.NA, NaT) or empty (vectorised)."""
    if labels is None:
        return np.zeros(0, dtype=bool)
    raw = list(labels)
    if _all_text(raw):  # the common case, without pandas: missing means blank
        stripped = list(map(str.strip, raw))
        if all(stripped):  # no blank label (C-level loops only)
            return np.zeros(len(raw), dtype=bool)
        return np.fromiter((not x for x in stripped), dtype=bool, count=len(raw))
    import pandas as pd

    values = pd.Series(raw, dtype=object)
    missing = values.isna().to_numpy().copy()
    texts = np.asarray(
        [str(v) for v in values[~missing]] if values.map(type).ne(str).any() else values[~missing].to_numpy(), dtype=str
    )
    empty = np.char.str_len(np.char.strip(texts)) == 0
    missing[np.flatnonzero(~missing)[empty]] = True
    return missing


def _all_text(values: list[Any]) -> bool:
    """True when every value is a ``str`` (exactly; subclasses take the general path)."""
    return set(map(type, values)) <= {str}


def default_labels(k: int) -> list[str]:
    """``["Study 1", ..., "Study k"]``, built by one C-level string format (twice a list comprehension's speed)."""
    k = int(k)
    return ("Study %d\n" * k % tuple(range(1, k + 1))).split("\n")[:k]


def make_unique(labels: Sequence[str]) -> list[str]:
    """Append ``.1``, ``.2``, ... to every copy of a duplicated label (metafor's ``.make.unique``).

    ``["a", "b", "a"]`` becomes ``["a.1", "b", "a.2"]``; repeated until no
    label is duplicated (a made-up label may itself clash with a given one).
    """
    import pandas as pd

    out = list(labels)
    while True:
        s = pd.Series(out, dtype=object)
        dup = s.duplicated(keep=False).to_numpy()
        if not dup.any():
            return out
        rank = s[dup].groupby(s[dup], sort=False).cumcount() + 1
        for i, r in zip(np.flatnonzero(dup), rank.to_numpy(), strict=True):
            out[i] = f"{out[i]}.{r}"


def study_labels(labels: Sequence[Any] | None, k: int) -> list[str]:
    """Return ``k`` study labels as strings, defaulting to ``"Study 1"`` ... .

    Duplicated labels are made unique as metafor does (``.1``, ``.2``
    appended to each copy; see :func:`make_unique`) with an
    :class:`AlsmetaWarning` naming them.

    Raises
    ------
    AlsmetaInputError
        If the number of labels differs from ``k`` or a label is
        missing/empty (naming the studies).
    """
    if labels is None:
        return default_labels(k)
    if isinstance(labels, (str, bytes)):
        raise AlsmetaInputError("labels: expected one label per study, got a single string")
    raw = list(labels)
    if len(raw) != k:
        raise AlsmetaInputError(f"labels: {len(raw)} labels given for {k} studies")
    gone = np.flatnonzero(missing_labels(raw))
    if gone.size:
        rows = ", ".join(str(i + 1) for i in gone[:_SHOW]) + (
            f" and {gone.size - _SHOW} more" if gone.size > _SHOW else ""
        )
        raise AlsmetaInputError(
            f"labels: {gone.size} studies have an empty or missing label (studies {rows}); "
            "give every study a label, or use na_action='drop'"
        )
    out = raw if _all_text(raw) else [str(x) for x in raw]
    if len(set(out)) < len(out):
        import pandas as pd

        s = pd.Series(out, dtype=object)
        dup = s.duplicated(keep=False).to_numpy()
        names = list(dict.fromkeys(s[dup]))
        out = make_unique(out)
        warnings.warn(
            f"labels: duplicate study labels {_listing(names)} were made unique as metafor does "
            f"('.1', '.2', ... appended to each copy)",
            AlsmetaWarning,
            stacklevel=3,
        )
    return out


def one_spread(vi: Any, sei: Any, required: bool = True) -> str:
    """Which of ``vi=`` (sampling variances) and ``sei=`` (standard errors) was given: ``"vi"`` or ``"sei"``.

    Giving both is an error, and so is giving neither when ``required``
    (then ``""`` is returned when neither was given).
    """
    if vi is not None and sei is not None:
        raise AlsmetaInputError("give exactly one of vi= (sampling variances) or sei= (standard errors), not both")
    if vi is None and sei is None:
        if required:
            raise AlsmetaInputError("give exactly one of vi= (sampling variances) or sei= (standard errors)")
        return ""
    return "vi" if vi is not None else "sei"


def variances_from_se(
    sei: Any, labels: Sequence[str] | None = None, *, allow_nan: bool = False
) -> npt.NDArray[np.float64]:
    """Sampling variances ``sei**2`` from standard errors, checked under the name ``sei`` first.

    Each standard error must be a number > 0 (NaN allowed with
    ``allow_nan``, and kept); a square that double precision cannot hold
    (0 or infinite) is refused naming the study.
    """
    s = numeric_column(sei, "sei", labels, allow_nan=allow_nan, positive=True)
    v = s * s
    bad = np.flatnonzero((v == 0) | np.isinf(v))
    if bad.size:
        names = list(labels) if labels is not None else default_labels(len(v))
        raise AlsmetaInputError(
            f"study {names[bad[0]]!r}, column 'sei': its square (the variance) is not representable "
            f"in double precision ({v[bad[0]]!r}); rescale the data"
        )
    return v


# ---------------------------------------------------------------- numeric columns
def _column_error(
    column: str, names: Sequence[str], bad: npt.NDArray[np.intp], what: str, values: np.ndarray
) -> AlsmetaInputError:
    i = int(bad[0])
    more = f" ({bad.size} studies in all: {_listing([names[j] for j in bad])})" if bad.size > 1 else ""
    shown = "value" if np.isnan(values[i]) else f"value {float(values[i])!r}"
    return AlsmetaInputError(f"study {names[i]!r}, column {column!r}: {shown} {what}{more}")


def numeric_column(
    values: Any,
    column: str,
    labels: Sequence[str] | None = None,
    *,
    allow_nan: bool = False,
    positive: bool = False,
    nonnegative: bool = False,
    integer: bool = False,
) -> npt.NDArray[np.float64]:
    """Convert one study-level column to a 1-d float array, checking each entry.

    Parameters
    ----------
    values
        A sequence of numbers (list, tuple, numpy array or pandas Series).
    column
        Name used in error messages (the argument or CSV column name).
    labels
        Study labels used in error messages; defaults to ``Study 1`` ... .
    allow_nan
        Accept missing values (NaN/None) and keep them as NaN.
    positive, nonnegative
        Require every (non-missing) value to be > 0 or >= 0.
    integer
        Require whole numbers (for counts and sample sizes).

    Raises
    ------
    AlsmetaInputError
        Naming the study and the column for every kind of bad entry.

    Notes
    -----
    Numeric arrays are checked with array operations; only input that is
    not already numeric (lists holding ``None``, text, booleans) is looked
    at entry by entry, to name exactly what is wrong.
    """
    if isinstance(values, (str, bytes)):
        raise AlsmetaInputError(f"{column}: expected one value per study, got a single string")
    ndim = np.ndim(values)
    if ndim == 0:
        raise AlsmetaInputError(f"{column}: expected one value per study, got a scalar")
    if ndim != 1:
        raise AlsmetaInputError(f"{column}: expected a one-dimensional sequence, got shape {np.shape(values)}")
    pd = _loaded_pandas()
    if pd is not None and isinstance(values, (pd.Series, pd.Index)):
        arr = values.to_numpy()
    elif isinstance(values, np.ndarray):
        arr = values
    else:  # a list may mix booleans, None and text with numbers: look at each entry
        arr = np.empty(len(values), dtype=object)
        arr[:] = list(values)
    k = arr.shape[0]
    if labels is not None and len(labels) != k:
        raise AlsmetaInputError(f"{column}: {k} values given for {len(labels)} studies")
    if arr.dtype.kind in "fiu":
        out = arr.astype(float, copy=True)
        if np.isfinite(out).all() and _all_valid(out, positive, nonnegative, integer):
            return out  # the common case, checked in two passes; the rest names what is wrong
    else:
        out = None
    names = list(labels) if labels is not None else default_labels(k)
    if out is None:
        out = _convert_entries(arr, column, names)
    return _check_entries(out, column, names, allow_nan, positive, nonnegative, integer)


def _check_entries(
    out: npt.NDArray[np.float64],
    column: str,
    names: Sequence[str],
    allow_nan: bool,
    positive: bool,
    nonnegative: bool,
    integer: bool,
) -> npt.NDArray[np.float64]:
    """The checks of :func:`numeric_column`, naming the first offending study and how many there are."""
    nan = np.isnan(out)
    if nan.any() and not allow_nan:
        raise _column_error(column, names, np.flatnonzero(nan), "is missing (NaN)", out)
    with np.errstate(invalid="ignore"):
        checks = [(np.isinf(out), "is not finite")]
        if positive:
            checks.append((out <= 0, "must be > 0"))
        if nonnegative:
            checks.append((out < 0, "must be >= 0"))
        if integer:
            checks.append((np.isfinite(out) & (out != np.round(out)), "must be a whole number"))
    for bad, what in checks:
        if bad.any():
            raise _column_error(column, names, np.flatnonzero(bad), what, out)
    return out


def _all_valid(out: npt.NDArray[np.float64], positive: bool, nonnegative: bool, integer: bool) -> bool:
    """True when finite values pass the requested sign and whole-number checks of :func:`numeric_column`."""
    if positive and not (out > 0).all():
        return False
    if nonnegative and not (out >= 0).all():
        return False
    return not integer or bool((out == np.round(out)).all())


def _convert_entries(arr: np.ndarray, column: str, names: Sequence[str]) -> npt.NDArray[np.float64]:
    """Entry-by-entry conversion of non-numeric input (object, text, boolean arrays)."""
    out = np.empty(arr.shape[0], dtype=float)
    pd = _loaded_pandas()
    for i, x in enumerate(arr.tolist()):
        where = f"study {names[i]!r}, column {column!r}"
        if x is None or (pd is not None and x is pd.NA):
            out[i] = np.nan
            continue
        if isinstance(x, (bool, np.bool_)):
            raise AlsmetaInputError(f"{where}: boolean {x!r} is not a number")
        if isinstance(x, (str, bytes)):
            raise AlsmetaInputError(f"{where}: {x!r} is not a number")
        try:
            out[i] = float(x)
        except (TypeError, ValueError):
            raise AlsmetaInputError(f"{where}: {x!r} is not a number") from None
    return out


def same_length(columns: dict[str, Sequence[Any]]) -> int:
    """Check that all given columns have the same length and return it."""
    lengths = {name: len(col) for name, col in columns.items() if col is not None}
    if len(set(lengths.values())) > 1:
        detail = ", ".join(f"{n}={m}" for n, m in lengths.items())
        raise AlsmetaInputError(f"columns have different lengths: {detail}")
    return next(iter(lengths.values()), 0)


# ---------------------------------------------------------------- computable range
MAX_VARIANCE_RATIO = 1e8
MAX_STANDARDISED_SPREAD2 = 1e200


def out_of_range(ymin: Any, ymax: Any, vmin: Any, vmax: Any) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Meta-analyses that double precision cannot fit, per row: ``(variances, effects)``.

    The engine works on a standardised scale (see
    :func:`alsmeta.engine.estimators.standardise`), so the absolute magnitude of the
    data does not matter. What is refused:

    * a ratio of the largest to the smallest variance above ``1e8``
      (standard errors differing by more than 1e4): the meta-regression
      behind the asymmetry tests and Begg's standardised effects lose about
      ``1e-16 * ratio`` of their accuracy (measured: p-values move by 1e-9
      under rescaling at 1e8, by 3e-3 at 1e12), so beyond 1e8 a number
      could be silently wrong. (The pooled fit itself is accurate far
      beyond; the limit is kept at one place so that a fit and its
      diagnostics are always both trustworthy.) No real meta-analysis is
      near it: the widest of the 22 metafor reference sets has 1e6.
    * a spread of the effects above ``1e100`` standard errors of the most
      precise study (Cochran's Q overflows).

    Such data are refused, never fitted into a silently wrong number.
    """
    if type(ymin) is type(ymax) is type(vmin) is type(vmax) is float and vmin > 0:  # one meta-analysis: no arrays
        ratio_v = vmax / vmin > MAX_VARIANCE_RATIO
        spread_y = not ratio_v and (ymax - ymin) / math.sqrt(vmin) > math.sqrt(MAX_STANDARDISED_SPREAD2)
        return np.asarray(ratio_v), np.asarray(spread_y)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        bad_v = np.asarray(vmax) / np.asarray(vmin) > MAX_VARIANCE_RATIO
        bad_y = ~bad_v & ((np.asarray(ymax) - np.asarray(ymin)) / np.sqrt(vmin) > np.sqrt(MAX_STANDARDISED_SPREAD2))
    return bad_v, bad_y


def check_computable(
    y: npt.NDArray[np.float64], v: npt.NDArray[np.float64], names: Sequence[str], spread: str = "vi"
) -> None:
    """Raise naming the studies when one meta-analysis is out of the computable range (:func:`out_of_range`)."""
    if y.size == 0:
        return
    bad_v, bad_y = out_of_range(float(y.min()), float(y.max()), float(v.min()), float(v.max()))
    if not (bad_v or bad_y):
        return
    lo, hi = int(np.argmin(v)), int(np.argmax(v))
    if bad_v:
        raise AlsmetaInputError(
            f"column {spread!r}: the variances of studies {names[hi]!r} ({v[hi]:.3g}) and {names[lo]!r} "
            f"({v[lo]:.3g}) differ by a factor above {MAX_VARIANCE_RATIO:.0e}: beyond that, double precision "
            f"cannot give trustworthy diagnostics; check the data (a variance of {v[lo]:.3g} gives study "
            f"{names[lo]!r} practically all the weight)"
        )
    if bad_y:
        a, b = int(np.argmin(y)), int(np.argmax(y))
        raise AlsmetaInputError(
            f"column 'yi': the effects of studies {names[a]!r} and {names[b]!r} differ by more than 1e100 "
            f"standard errors of study {names[lo]!r}; Cochran's Q overflows double precision; check the data"
        )


# ---------------------------------------------------------------- pandas alignment
def align_on_index(columns: dict[str, Any]) -> dict[str, Any]:
    """Pair pandas Series/DataFrames by their index, not by position.

    When two or more of ``columns`` are pandas objects, the later ones are
    reordered to the index of the first if they hold the same set of
    (unique) labels in another order; if the label sets differ (or an index
    has duplicates) an :class:`AlsmetaInputError` names the arguments.
    Plain sequences are left as they are (paired by position). Returns the
    columns with pandas objects reordered (None entries kept).
    """
    pd = _loaded_pandas()
    if pd is None:
        return dict(columns)
    frames = {n: c for n, c in columns.items() if isinstance(c, (pd.Series, pd.DataFrame))}
    if len(frames) < 2:
        return dict(columns)
    (first_name, first), *rest = frames.items()
    ref = first.index
    out = dict(columns)
    for name, col in rest:
        if col.index.equals(ref):
            continue
        if not ref.is_unique or not col.index.is_unique:
            raise AlsmetaInputError(
                f"{first_name} and {name}: pandas indexes differ and are not unique, so they cannot be paired; "
                "pass arrays (paired by position) or give them the same index"
            )
        if len(col.index) != len(ref) or not col.index.isin(ref).all():
            missing = ref.difference(col.index).tolist()[:_SHOW]
            extra = col.index.difference(ref).tolist()[:_SHOW]
            raise AlsmetaInputError(
                f"{first_name} and {name}: pandas indexes hold different labels "
                f"(in {first_name} only: {missing}; in {name} only: {extra}); "
                "align them, or pass arrays to pair by position"
            )
        out[name] = col.reindex(ref)
    return out


# ---------------------------------------------------------------- missing values
def missing_studies(
    columns: dict[str, Any],
    labels: Sequence[Any] | None,
    na_action: str,
    labels_missing: npt.NDArray[np.bool_] | None = None,
) -> npt.NDArray[np.bool_] | None:
    """Studies to keep under ``na_action``; None when nothing is missing.

    ``columns`` maps a column name to a 1-d float array (NaN = missing) or a
    boolean "missing" array. With ``na_action="raise"`` a missing value is an
    :class:`AlsmetaInputError` naming the column and the studies (by label,
    or by position when the label itself is missing); with ``"drop"`` the
    studies with any missing value are dropped with an
    :class:`AlsmetaWarning` saying how many and which.
    """
    na_action = na_action_arg(na_action)
    k = next((len(c) for c in columns.values() if c is not None), len(labels) if labels is not None else 0)
    if labels_missing is not None:  # already computed by the caller (one pass over a million labels, not two)
        lab_missing = labels_missing
    else:
        lab_missing = missing_labels(labels) if labels is not None else np.zeros(k, dtype=bool)
    per_col = {"labels": lab_missing} if lab_missing.any() else {}
    for name, col in columns.items():
        if col is None:
            continue
        a = np.asarray(col)
        miss = a if a.dtype == bool else np.isnan(a)
        if miss.ndim > 1:
            miss = miss.any(axis=1)
        if miss.any():
            per_col[name] = miss
    if not per_col:
        return None

    def who(idx: npt.NDArray[np.intp]) -> str:
        return _listing([f"row {i + 1}" if labels is None or lab_missing[i] else str(labels[i]) for i in idx])

    if na_action == "raise":
        name, miss = next(iter(per_col.items()))
        idx = np.flatnonzero(miss)
        more = f" ({idx.size} studies in all: {who(idx)})" if idx.size > 1 else ""
        i = int(idx[0])
        where = f"row {i + 1}" if labels is None or lab_missing[i] else f"study {str(labels[i])!r}"
        raise AlsmetaInputError(
            f"{where}, column {name!r}: value is missing (NaN){more}; remove it or use na_action='drop'"
        )
    drop = np.logical_or.reduce(list(per_col.values()))
    idx = np.flatnonzero(drop)
    detail = "; ".join(f"{n}: {int(m.sum())}" for n, m in per_col.items())
    warnings.warn(
        f"na_action='drop': {idx.size} of {k} studies dropped for missing values ({detail}): {who(idx)}",
        AlsmetaWarning,
        stacklevel=3,
    )
    return ~drop
