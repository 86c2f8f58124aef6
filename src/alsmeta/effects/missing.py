"""Studies with a missing value in the inputs of an effect-size measure: refused or dropped (``na_action``).

One rule for :func:`alsmeta.effect_sizes` and the per-measure functions (:func:`alsmeta.mean_difference`,
:func:`alsmeta.log_odds_ratio`, ...): with ``na_action="raise"`` (the default) a study with a missing
input (None, NaN, pd.NA, NaT) or a missing label is an error naming the study and the argument; with
``"drop"`` such studies are left out with a warning that counts and names them, and the others keep
their labels (default labels keep their original numbers: "Study 1", "Study 3"). metafor's ``escalc``
keeps such rows as NA; here every result holds only computable studies.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from alsmeta.validation import default_labels, missing_labels, missing_studies, na_action_arg

R = TypeVar("R")


def _missing_values(values: Any) -> npt.NDArray[np.bool_]:
    """True where an entry of one column is missing (None, NaN, pd.NA, NaT); numeric arrays without pandas."""
    arr = np.asarray(values)
    if arr.dtype.kind == "f":
        return np.isnan(arr)
    if arr.dtype.kind in "iub":
        return np.zeros(arr.shape[0], dtype=bool)
    import pandas as pd  # only for object columns (None, pd.NA, NaT)

    return np.asarray(pd.isna(arr.astype(object)), dtype=bool)


def complete_studies(columns: dict[str, Any], labels: Any, na_action: str) -> tuple[dict[str, Any], Any]:
    """The columns and labels without the studies that miss a value, or an error naming one (``na_action``).

    Only columns with one value per study are looked at; when their lengths
    disagree nothing is done here and the measure's own checks name the problem.
    """
    per_study = {
        name: v for name, v in columns.items() if v is not None and not isinstance(v, (str, bytes)) and np.ndim(v) == 1
    }
    lengths = {len(v) for v in per_study.values()} | ({len(labels)} if labels is not None else set())
    if len(lengths) != 1:
        return columns, labels
    (k,) = lengths
    missing = {name: _missing_values(v) for name, v in per_study.items()}
    lab_missing = missing_labels(labels) if labels is not None else np.zeros(k, dtype=bool)
    if not lab_missing.any() and not any(m.any() for m in missing.values()):
        return columns, labels
    names = list(labels) if labels is not None else default_labels(k)
    keep = missing_studies(missing, names, na_action, lab_missing)
    if keep is None:  # pragma: no cover - something is missing, so missing_studies raised or chose rows
        return columns, labels
    rows = np.flatnonzero(keep)
    kept = {name: (_rows(v, rows) if name in per_study else v) for name, v in columns.items()}
    return kept, [names[i] for i in rows]


def _rows(values: Any, rows: npt.NDArray[np.intp]) -> Any:
    """The entries ``rows`` of one column, keeping a numpy array's dtype (other sequences as objects, unconverted)."""
    return values[rows] if isinstance(values, np.ndarray) else np.asarray(values, dtype=object)[rows]


def handles_missing(func: Callable[..., R]) -> Callable[..., R]:
    """Give a per-measure function the keyword ``na_action`` ("raise" or "drop"), applied before it runs.

    Every argument holding one value per study is checked (options such as ``vtype`` are scalars and
    are not); ``labels`` is subset with the studies.
    """
    signature = inspect.signature(func)

    @functools.wraps(func)
    def wrapper(*args: Any, na_action: str = "raise", **kwargs: Any) -> R:
        na_action = na_action_arg(na_action)
        bound = signature.bind(*args, **kwargs)
        labels = bound.arguments.get("labels")
        columns = {name: value for name, value in bound.arguments.items() if name != "labels"}
        kept, kept_labels = complete_studies(columns, labels, na_action)
        if kept is not columns:
            bound.arguments.update(kept)
            bound.arguments["labels"] = kept_labels
        return func(*bound.args, **bound.kwargs)

    parameters = [*signature.parameters.values()]
    extra = inspect.Parameter("na_action", inspect.Parameter.KEYWORD_ONLY, default="raise", annotation="str")
    wrapper.__signature__ = signature.replace(parameters=[*parameters, extra])  # type: ignore[attr-defined]
    if wrapper.__doc__:
        wrapper.__doc__ += (
            "\n\n    A study with a missing input is an error naming it (``na_action='raise'``, the default) "
            "or, with ``na_action='drop'``, is left out with a warning (:mod:`alsmeta.effects.missing`)."
        )
    return wrapper
