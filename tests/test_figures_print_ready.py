"""Every figure of the analyses the other tests do not run is held to the print standard (issue 13).

The Cochrane, power and summary analyses (tests/test_analyses_cochrane.py) and the 2021
reconstruction (tests/test_msc2021.py) are checked where they run; this runs the rest with
``ALSMETA_CHECK_FIGURES`` set, so :func:`alsmeta.plots.save.save_figure` refuses any figure wider
than 183 mm, with text under 7 pt, text cut off or overlapping, or encodings that merge in greyscale.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("script", ["gallery.py", "public_claims.py", "prepost_stress_test.py"])
def test_analysis_figures_are_print_ready(script, tmp_path):
    env = dict(
        os.environ, MPLBACKEND="Agg", PYTHONHASHSEED="0", ALSMETA_CHECK_FIGURES="1", ALSMETA_FIGURES=str(tmp_path)
    )
    done = subprocess.run(
        [sys.executable, str(ROOT / "analyses" / script)], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, f"{script}:\n{done.stderr[-3000:]}"
    assert list(tmp_path.rglob("*.png")), "the script wrote no figure"
