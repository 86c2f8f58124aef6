"""Reading study-level effect tables from CSV files (or standard input).

One reader for every delimited text table alsmeta takes from a user:
:func:`read_effects_csv` finds the delimiter (comma, semicolon or tab) and the
decimal mark (a decimal comma is accepted in semicolon- or tab-separated files,
as European spreadsheet programs write them), refuses what it cannot read
unambiguously with a one-line message naming the file, the study (row label)
and the column, and reads only the columns asked for, with explicit dtypes, so
a million-row table costs little more than its numbers.

Nothing is guessed silently: a file whose rows have more fields than its
header (the usual sign of a decimal comma in a comma-separated file), a
duplicated column header, a column that mixes decimal points and decimal
commas, or a cell that is not a number are errors, never a shifted or dropped
value.
"""

from __future__ import annotations

import csv
import io
import re
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import numpy as np

from alsmeta.validation import AlsmetaInputError

if TYPE_CHECKING:
    import pandas as pd

DELIMITERS: tuple[str, ...] = (",", ";", "\t")
"""Delimiters recognised, in order of preference when several fit."""

MISSING_TOKENS: tuple[str, ...] = ("", "NA", "NaN", "nan", "na", "N/A", "n/a")
"""Cells read as a missing value in numeric columns (never in the label column)."""

SNIFF_BYTES = 65536
"""How much of the file is read to detect its format."""

_NAMES = {",": "','", ";": "';'", "\t": "tab"}
_DECIMAL_COMMA = re.compile(r"\s*[+-]?(\d+,\d*|,\d+)([eE][+-]?\d+)?\s*")
_DECIMAL_POINT = re.compile(r"\s*[+-]?(\d+\.\d*|\.\d+)([eE][+-]?\d+)?\s*")


class CsvInputError(AlsmetaInputError):
    """A table that cannot be read unambiguously; the message names the file."""


@dataclass(frozen=True)
class CsvFormat:
    """The dialect found in a file.

    Attributes
    ----------
    delimiter : str
        ``","``, ``";"`` or ``"\\t"``.
    decimal : str
        ``"."`` or ``","``.
    header : tuple of str
        The column names, as written.
    """

    delimiter: str
    decimal: str
    header: tuple[str, ...]


@dataclass(frozen=True)
class EffectsTable:
    """Columns read from a table.

    Attributes
    ----------
    source : str
        The file name as given (``"<stdin>"`` for standard input).
    format : CsvFormat
        Delimiter, decimal mark and header found.
    values : dict of str to numpy.ndarray
        One float64 array per numeric column; missing cells are NaN.
    labels : pandas.Series or None
        The label column as text (``None`` if no label column was asked for).
    """

    source: str
    format: CsvFormat
    values: dict[str, np.ndarray]
    labels: pd.Series | None

    @property
    def n_rows(self) -> int:
        """Number of data rows."""
        first = next(iter(self.values.values()), None)
        if first is not None:
            return int(first.size)
        return 0 if self.labels is None else int(self.labels.size)

    def label(self, i: int) -> str:
        """The study label of data row ``i`` (0-based): the label cell, else ``row i+1``."""
        if self.labels is not None:
            text = str(self.labels.iloc[i])
            if text.strip():
                return text
        return f"row {i + 1}"


def _open(source: str | Path | BinaryIO) -> tuple[str, Any]:
    """The display name and something pandas can read; checks that a path is a readable file."""
    if isinstance(source, (str, Path)) and str(source) == "-":
        return "<stdin>", io.BytesIO(sys.stdin.buffer.read())
    if not isinstance(source, (str, Path)):
        data = source.read()
        return getattr(source, "name", "<stream>"), io.BytesIO(data if isinstance(data, bytes) else data.encode())
    path = Path(source)
    name = str(source)
    if path.is_dir():
        raise CsvInputError(f"{name}: is a directory, expected a CSV file")
    if not path.exists():
        raise CsvInputError(f"{name}: no such file")
    if not path.is_file():
        raise CsvInputError(f"{name}: not a regular file")
    return name, path


def _sample(handle: Any, name: str) -> str:
    """The beginning of the file, decoded (cut after the last complete line when the file is longer)."""
    try:
        if isinstance(handle, Path):
            with handle.open("rb") as fh:
                raw = fh.read(SNIFF_BYTES + 1)
        else:
            raw = handle.getvalue()[: SNIFF_BYTES + 1]
    except OSError as exc:
        raise CsvInputError(f"{name}: cannot be read ({exc.strerror})") from None
    whole = len(raw) <= SNIFF_BYTES
    raw = raw[:SNIFF_BYTES]
    if not whole:  # drop a possibly cut last line
        raw = raw[: raw.rfind(b"\n") + 1] or raw
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CsvInputError(f"{name}: is not UTF-8 text (byte {exc.start + 1}); save it as CSV UTF-8") from None
    if not text.strip():
        raise CsvInputError(f"{name}: is empty (expected a header line and one row per study)")
    return text


def _records(text: str, delimiter: str, limit: int = 200) -> list[tuple[int, list[str]]]:
    """(line number, fields) of the first non-blank records; quoted fields may span lines."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    out: list[tuple[int, list[str]]] = []
    start = 1
    for fields in reader:
        if fields and any(f.strip() for f in fields):
            out.append((start, fields))
            if len(out) >= limit:
                break
        start = reader.line_num + 1
    return out


def sniff_format(text: str, name: str, numeric: Sequence[str] = ()) -> CsvFormat:
    """Detect delimiter and decimal mark from the beginning of a table.

    Parameters
    ----------
    text
        The first lines of the file (header first), complete lines only.
    name
        File name for messages.
    numeric
        Columns that must hold numbers (used to detect a decimal comma).

    Raises
    ------
    CsvInputError
        Naming what was found and what was expected.
    """
    parsed = {delim: _records(text, delim) for delim in DELIMITERS}
    fits = [d for d, recs in parsed.items() if len(recs[0][1]) > 1 and all(len(r[1]) == len(recs[0][1]) for r in recs)]
    if not fits:
        _raise_no_delimiter(parsed, name)
    delim = max(fits, key=lambda d: len(parsed[d][0][1]))  # max() keeps the first of equals
    header, rows = parsed[delim][0][1], parsed[delim][1:]
    dupes = [h for h, n in Counter(header).items() if n > 1]
    if dupes:
        where = "; ".join(
            f"{h!r} (columns {', '.join(str(i + 1) for i, x in enumerate(header) if x == h)})" for h in dupes
        )
        raise CsvInputError(f"{name}: duplicated column header {where}; rename the columns so each name is used once")
    decimal = _sniff_decimal(rows, header, delim, numeric, name)
    return CsvFormat(delimiter=delim, decimal=decimal, header=tuple(header))


def _raise_no_delimiter(parsed: dict[str, list[tuple[int, list[str]]]], name: str) -> None:
    for delim, records in parsed.items():
        n_head = len(records[0][1])
        if n_head < 2:
            continue
        for line, fields in records[1:]:
            if len(fields) != n_head:
                hint = ""
                if delim == "," and len(fields) > n_head:
                    hint = " (a decimal comma in a comma-separated file? use ';' as delimiter or '.' as decimal mark)"
                raise CsvInputError(
                    f"{name}: line {line} has {len(fields)} fields but the header has {n_head} "
                    f"(delimiter {_NAMES[delim]}){hint}"
                )
    first = parsed[","][0]
    raise CsvInputError(
        f"{name}: found a single column {first[1][0].strip()[:60]!r}; expected columns separated by ',', ';' or tab"
    )


def _sniff_decimal(
    rows: Sequence[tuple[int, list[str]]], header: Sequence[str], delim: str, numeric: Sequence[str], name: str
) -> str:
    if delim == ",":
        return "."
    index = {h: i for i, h in enumerate(header)}
    for col in numeric:
        if col not in index:
            continue
        cells = [(line, fields[index[col]]) for line, fields in rows]
        comma = next(((j, c) for j, c in cells if _DECIMAL_COMMA.fullmatch(c)), None)
        point = next(((j, c) for j, c in cells if _DECIMAL_POINT.fullmatch(c)), None)
        if comma and point:
            raise CsvInputError(
                f"{name}: column {col!r} mixes decimal points (line {point[0]}: {point[1]!r}) and decimal "
                f"commas (line {comma[0]}: {comma[1]!r}); use one decimal mark"
            )
        if comma:
            return ","
    return "."


def read_effects_csv(
    source: str | Path | BinaryIO,
    columns: Sequence[str],
    labels: str | None = None,
) -> EffectsTable:
    """Read numeric columns (and optionally a label column) from a CSV table.

    Parameters
    ----------
    source
        A path, ``"-"`` for standard input, or a binary file object.
    columns
        Names of the columns that must hold numbers (e.g. effect size and
        variance). Blank cells and ``NA``/``NaN`` are read as missing (NaN)
        and left to the caller to accept or refuse.
    labels
        Name of the column with study labels (read as text, never as missing),
        or None.

    Returns
    -------
    EffectsTable

    Raises
    ------
    CsvInputError
        A one-line message naming the file and, for a bad cell, the study
        (label or ``row N``) and the column: no such file, a directory, not
        UTF-8, empty, no recognisable delimiter, rows with more or fewer
        fields than the header, duplicated headers, a missing column, mixed
        decimal marks, or a cell that is not a number.

    Notes
    -----
    The format is detected from the first 64 KiB (200 records); cells after
    that with the other decimal mark are reported as not a number.
    """
    name, handle = _open(source)
    wanted = list(dict.fromkeys([*columns, *([labels] if labels else [])]))
    fmt = sniff_format(_sample(handle, name), name, numeric=columns)
    missing = [c for c in wanted if c not in fmt.header]
    if missing:
        spaced = [h for h in fmt.header if h.strip() == missing[0].strip() and h != missing[0]]
        hint = f"; the header {spaced[0]!r} has spaces around the name" if spaced else ""
        raise CsvInputError(f"{name}: no column {missing[0]!r} (columns: {', '.join(fmt.header)}){hint}")
    frame = _read(handle, name, fmt, list(columns), labels)
    values = {c: frame[c].to_numpy(dtype=np.float64) for c in columns}
    label_series = frame[labels] if labels else None
    return EffectsTable(source=name, format=fmt, values=values, labels=label_series)


def _read(handle: Any, name: str, fmt: CsvFormat, numeric: list[str], labels: str | None) -> pd.DataFrame:
    import pandas as pd  # on use: importing alsmeta.io does not load pandas

    dtype: dict[str, Any] = {c: np.float64 for c in numeric}
    if labels:
        dtype[labels] = str
    usecols = list(dict.fromkeys([*numeric, *([labels] if labels else [])]))
    try:
        if isinstance(handle, io.BytesIO):
            handle.seek(0)
        frame = pd.read_csv(
            handle,
            sep=fmt.delimiter,
            decimal=fmt.decimal,
            usecols=usecols,
            dtype=dtype,
            encoding="utf-8-sig",
            keep_default_na=False,
            na_values={c: list(MISSING_TOKENS) for c in numeric},
            index_col=False,
            engine="c",
            skip_blank_lines=True,
        )
    except ValueError as exc:
        if isinstance(exc, pd.errors.ParserError):
            raise CsvInputError(f"{name}: cannot be read as CSV ({str(exc).strip()})") from None
        raise _bad_cell(handle, name, fmt, numeric, labels) from None
    except UnicodeDecodeError as exc:
        raise CsvInputError(f"{name}: is not UTF-8 text (byte {exc.start + 1}); save it as CSV UTF-8") from None
    if labels:
        frame[labels] = frame[labels].fillna("")
    return frame


def _bad_cell(handle: Any, name: str, fmt: CsvFormat, numeric: list[str], labels: str | None) -> CsvInputError:
    """Find the first cell that is not a number and describe it (slow path, only on error)."""
    import pandas as pd

    if isinstance(handle, io.BytesIO):
        handle.seek(0)
    usecols = list(dict.fromkeys([*numeric, *([labels] if labels else [])]))
    text = pd.read_csv(
        handle,
        sep=fmt.delimiter,
        usecols=usecols,
        dtype=str,
        keep_default_na=False,
        encoding="utf-8-sig",
        index_col=False,
        engine="c",
    )
    for col in numeric:
        cells = text[col].str.strip()
        as_number = cells.str.replace(",", ".", regex=False) if fmt.decimal == "," else cells
        bad = pd.to_numeric(as_number.where(~cells.isin(MISSING_TOKENS), "nan"), errors="coerce").isna()
        bad &= ~cells.isin(MISSING_TOKENS)
        if fmt.decimal == ",":
            bad |= cells.str.contains(".", regex=False)
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            cell = text[col].iloc[i]
            label = str(text[labels].iloc[i]) if labels and str(text[labels].iloc[i]).strip() else f"row {i + 1}"
            hint = ""
            if fmt.decimal == "," and _DECIMAL_POINT.fullmatch(cell):
                hint = " (this file uses decimal commas; the cell has a decimal point)"
            elif fmt.decimal == "." and _DECIMAL_COMMA.fullmatch(cell):
                hint = " (this file uses decimal points; the cell has a decimal comma)"
            return CsvInputError(f"{name}: study {label!r}, column {col!r}: {cell!r} is not a number{hint}")
    return CsvInputError(f"{name}: a numeric column could not be read")
