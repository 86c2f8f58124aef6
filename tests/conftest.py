"""Shared fixtures: metafor reference data and a small classic data set."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

REFERENCE_DIR = Path(__file__).parent / "reference"


def load_reference(name: str) -> dict:
    """Load a committed metafor reference JSON file from tests/reference/."""
    return json.loads((REFERENCE_DIR / name).read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def bcg() -> tuple[np.ndarray, np.ndarray]:
    """dat.bcg log risk ratios (Colditz et al. 1994), as escalc(measure='RR')."""
    tpos = np.array([4, 6, 3, 62, 33, 180, 8, 505, 29, 17, 186, 5, 27], dtype=float)
    tneg = np.array([119, 300, 228, 13536, 5036, 1361, 2537, 87886, 7470, 1699, 50448, 2493, 16886], dtype=float)
    cpos = np.array([11, 29, 11, 248, 47, 372, 10, 499, 45, 65, 141, 3, 29], dtype=float)
    cneg = np.array([128, 274, 209, 12619, 5761, 1079, 619, 87892, 7232, 1600, 27197, 2338, 17825], dtype=float)
    yi = np.log(tpos / (tpos + tneg)) - np.log(cpos / (cpos + cneg))
    vi = 1 / tpos - 1 / (tpos + tneg) + 1 / cpos - 1 / (cpos + cneg)
    return yi, vi
