"""Checks and row labels for the plain tables that diagnostic plots accept."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from alsmeta.models.pooling import PooledResult
from alsmeta.validation import AlsmetaInputError


def require_columns(table: Any, columns: Sequence[str], what: str) -> pd.DataFrame:
    """Return ``table`` if it is a DataFrame with all ``columns``; else raise naming the missing ones."""
    if not isinstance(table, pd.DataFrame):
        raise AlsmetaInputError(f"{what}: expected a pandas DataFrame, got {type(table).__name__}")
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise AlsmetaInputError(
            f"{what}: missing column(s) {', '.join(missing)}; has {', '.join(map(str, table.columns))}"
        )
    return table


def row_labels(table: pd.DataFrame, labels: Sequence[Any] | None, fit: PooledResult | None, what: str) -> list[str]:
    """Labels of the rows: ``labels``, else a ``label`` column, else a non-default index, else ``fit.labels``."""
    n = len(table)
    if labels is not None:
        out = [str(x) for x in labels]
    elif "label" in table.columns:
        out = [str(x) for x in table["label"]]
    elif not isinstance(table.index, pd.RangeIndex):
        out = [str(x) for x in table.index]
    elif fit is not None and fit.k == n:
        out = list(fit.labels)
    else:
        out = [f"Study {i + 1}" for i in range(n)]
    if len(out) != n:
        raise AlsmetaInputError(f"{what}: {len(out)} labels for {n} rows")
    return out
