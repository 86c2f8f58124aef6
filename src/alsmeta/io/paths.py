"""Where analysis scripts write their outputs."""

from __future__ import annotations

import os
from pathlib import Path

FIGURES_ENV = "ALSMETA_FIGURES"
"""Environment variable naming the output folder (set by ``alsmeta reproduce``)."""


def figures_dir() -> Path:
    """The folder analysis scripts write into.

    ``$ALSMETA_FIGURES`` when set (``alsmeta reproduce`` points it at a
    staging folder and moves each analysis's outputs into ``figures/`` only
    when the script succeeded), otherwise ``figures`` in the current
    directory (scripts are run from the checkout's root).
    """
    env = os.environ.get(FIGURES_ENV, "").strip()
    return Path(env) if env else Path("figures")
