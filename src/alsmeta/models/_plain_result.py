"""Plain ``to_dict()``/``to_frame()``/``summary()`` for the result objects of the issue-18 methods.

A stop-gap until the common result protocol (``alsmeta.results.ResultMixin``)
is merged: every scalar or array field of the frozen dataclass is exported;
``summary()`` lists the scalar fields under a title, followed by the notes.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from alsmeta.jsonsafe import json_safe


class PlainResult:
    """Mixin for frozen dataclasses: JSON-safe ``to_dict``, one-row ``to_frame``, text ``summary``."""

    _title: ClassVar[str] = "Result"

    def to_dict(self) -> dict[str, Any]:
        """Every field as plain JSON-safe Python values (NaN as None, arrays as lists)."""
        return {f.name: json_safe(getattr(self, f.name)) for f in fields(self)}  # type: ignore[arg-type]

    def _scalars(self) -> dict[str, Any]:
        return {k: v for k, v in self.to_dict().items() if not isinstance(v, (list, dict))}

    def to_frame(self) -> pd.DataFrame:
        """The scalar fields as a one-row table."""
        return pd.DataFrame([self._scalars()])

    def summary(self, digits: int = 4) -> str:
        """The title, each scalar field and the notes as text."""
        lines = [self._title, ""]
        for name, value in self._scalars().items():
            if isinstance(value, float):
                value = f"{value:.{digits}f}" if np.isfinite(value) else "NA"
            lines.append(f"{name:>18}: {'NA' if value is None else value}")
        notes = getattr(self, "notes", ())
        if notes:
            lines += ["", "Notes:"] + [f"- {n}" for n in notes]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()
