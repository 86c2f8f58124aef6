"""One protocol for every result object: ``summary()``, ``to_dict()``, ``to_frame()`` and ``_repr_html_``.

Result classes are frozen dataclasses that inherit :class:`ResultMixin`. The
mixin derives everything it can from the dataclass fields:

* ``to_dict()`` - every field as plain JSON-safe Python values
  (:func:`alsmeta.jsonsafe.json_safe`; NaN becomes ``None``, arrays become
  lists, a table becomes a list of row records, a nested result its own
  ``to_dict()``), plus the class's :meth:`ResultMixin._derived` values;
* ``to_frame()`` - a one-row table of the scalar fields (classes whose result
  is a table return that table instead);
* ``summary()`` - a titled block of the scalar fields and the notes (classes
  with a metafor-like print layout write their own);
* ``_repr_html_()`` - the summary as preformatted text for notebooks;
* ``str(result)`` - the summary.

A class adds only what is its own: a better ``summary``, a table, derived
values. The number formatting helpers (:func:`fmt_number`, :func:`fmt_pvalue`,
:func:`p_phrase`, :func:`text_table`) are shared by every summary so that all
results print numbers the same way, as metafor does.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Sequence
from dataclasses import fields, is_dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from alsmeta.jsonsafe import json_safe
from alsmeta.validation import AlsmetaInputError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "ResultMixin",
    "Transform",
    "fmt_number",
    "fmt_pvalue",
    "p_phrase",
    "text_table",
    "transf_name",
    "transformed",
]

#: a back-transformation such as ``np.exp`` (applied elementwise to an array)
Transform = Callable[[Any], Any]


def fmt_number(x: Any, digits: int = 4) -> str:
    """``x`` with ``digits`` decimals; scientific where that would hide it (|x| >= 1e7 or tiny); NA if undefined."""
    if x is None or isinstance(x, str):
        return "NA" if x is None else x
    x = float(x)
    if not math.isfinite(x):
        return "NA"
    if x != 0 and (abs(x) >= 1e7 or abs(x) < 0.5 * 10.0**-digits):
        return f"{x:.{digits}e}"
    return f"{x:.{digits}f}"


def fmt_pvalue(p: Any, digits: int = 4) -> str:
    """A p-value as metafor prints it: ``digits`` decimals, ``<.0001`` below the last one, NA if undefined."""
    if p is None or not math.isfinite(float(p)):
        return "NA"
    floor = 10.0 ** (-digits)
    return f"<{floor:.{digits}f}".replace("0.", ".", 1) if p < floor else f"{float(p):.{digits}f}"


def p_phrase(p: Any, digits: int = 4) -> str:
    """``"= 0.0123"`` or ``"<.0001"``, to follow ``p-val`` in a sentence."""
    txt = fmt_pvalue(p, digits)
    return txt if txt.startswith("<") or txt == "NA" else f"= {txt}"


def text_table(columns: Sequence[str], rows: Sequence[Sequence[str]], first_left: bool = False) -> list[str]:
    """Lines of a right-aligned text table (the first column left-aligned when ``first_left``)."""
    widths = [max([len(c)] + [len(r[j]) for r in rows]) for j, c in enumerate(columns)]

    def line(cells: Sequence[str]) -> str:
        out = [
            c.ljust(w) if (first_left and j == 0) else c.rjust(w)
            for j, (c, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(out).rstrip()

    return [line(columns)] + [line(r) for r in rows]


def transformed(values: Any, transf: Transform | None) -> Any:
    """``transf(values)`` as floats (``values`` unchanged without ``transf``); NaN stays NaN."""
    if transf is None:
        return values
    arr = np.asarray(values, dtype=float)
    with np.errstate(over="ignore", invalid="ignore"):
        out = np.asarray(transf(arr), dtype=float)
    if out.shape != arr.shape:
        raise AlsmetaInputError(f"transf: must map each value to one value (got shape {out.shape} for {arr.shape})")
    return out if out.ndim else float(out)


def transf_name(transf: Transform | None) -> str:
    """A readable name of a transformation (``np.exp`` -> ``"exp"``; ``""`` for none)."""
    return "" if transf is None else str(getattr(transf, "__name__", None) or type(transf).__name__)


def _is_scalar(value: Any) -> bool:
    return isinstance(value, (bool, int, float, str, np.bool_, np.integer, np.floating))


def _plain(value: Any) -> Any:
    """A JSON-safe form of one field: nested results, dataclasses, tables and seeds included."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, ResultMixin):
        return value.to_dict()
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, np.random.SeedSequence):
        return {"entropy": _plain(value.entropy), "spawn_key": list(value.spawn_key)}
    if type(value).__module__.startswith("pandas"):
        if hasattr(value, "columns"):  # DataFrame: a list of row records
            return [_plain(r) for r in value.to_dict(orient="records")]
        if hasattr(value, "tolist"):  # Series, Index, Categorical
            return [_plain(v) for v in value.tolist()]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)) or (isinstance(value, np.ndarray) and value.dtype == object):
        return [_plain(v) for v in value]
    if isinstance(value, (np.ndarray, bool, int, float, np.bool_, np.integer, np.floating)):
        return json_safe(value)
    return str(value)


class ResultMixin:
    """The result protocol shared by every alsmeta result (a frozen dataclass that inherits this class)."""

    #: heading of the default summary (the class name when empty)
    _title: ClassVar[str] = ""
    #: True when the result holds one value per study/row: ``to_frame()`` then has one row each
    _per_row: ClassVar[bool] = False

    def _field_items(self) -> list[tuple[str, Any]]:
        """The public dataclass fields (names starting with ``_`` are internal)."""
        items = [(f.name, getattr(self, f.name)) for f in fields(self)]  # type: ignore[arg-type]
        return [(name, value) for name, value in items if not name.startswith("_")]

    def _derived(self) -> dict[str, Any]:
        """Values that are properties rather than fields, added to ``to_dict()`` (none by default)."""
        return {}

    def to_dict(self) -> dict[str, Any]:
        """Every field (and derived value) as plain Python values, ready for ``json.dumps`` (NaN becomes None)."""
        out = {name: _plain(value) for name, value in self._field_items()}
        out.update({name: _plain(value) for name, value in self._derived().items()})
        return out

    def _scalars(self) -> dict[str, Any]:
        items = [*self._field_items(), *self._derived().items()]
        return {name: value for name, value in items if _is_scalar(value)}

    def to_frame(self) -> pd.DataFrame:
        """The results as a DataFrame.

        One row per study/row (the one-dimensional fields of a common length)
        for results that hold one value per row; otherwise the scalar results
        as a one-row table (arrays, tables and notes left out).
        """
        import pandas as pd

        if not self._per_row:
            return pd.DataFrame([self._scalars()])
        columns = {n: v for n, v in self._field_items() if not _is_scalar(v) and v is not None and np.ndim(v) == 1}
        n_rows = max((len(v) for v in columns.values()), default=0)
        return pd.DataFrame({n: list(v) for n, v in columns.items() if len(v) == n_rows})

    def summary(self, digits: int = 4) -> str:
        """A titled text block of the scalar results (and, for per-row results, the table) and the notes."""
        title = self._title or type(self).__name__
        scalars = {k: v for k, v in self._scalars().items()}
        width = max((len(k) for k in scalars), default=0)
        lines = [title, ""] if scalars else [title]
        for name, value in scalars.items():
            shown = fmt_number(value, digits) if isinstance(value, (float, np.floating)) else str(value)
            lines.append(f"{name.ljust(width)}  {shown}")
        if self._per_row:
            lines += ["", self.to_frame().to_string(index=False, float_format=lambda x: fmt_number(x, digits))]
        return "\n".join(lines + self._notes_lines())

    def _notes_lines(self) -> list[str]:
        notes = getattr(self, "notes", ())
        return ["", "Notes:", *[f"- {n}" for n in notes]] if notes else []

    def _repr_html_(self) -> str:
        """The summary as preformatted HTML (Jupyter shows this instead of the dataclass repr)."""
        return f"<pre>{html.escape(self.summary())}</pre>"

    def __str__(self) -> str:
        return self.summary()
