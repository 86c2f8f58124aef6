"""Run an R script on a JSON payload and read its JSON answer: the peer side of the benchmarks.

The R script is given as text and is called as ``Rscript script.R in.json out.json [args...]``;
it reads the payload from ``in.json`` and writes its answer to ``out.json``. Everything lives
in a temporary directory. When R, a package or the script fails, the answer is
``{"skipped": why}`` so that a benchmark can still print alsmeta's side.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any


def run_r_json(script: str, payload: Any, *args: str, timeout: float = 1800) -> dict[str, Any]:
    """The JSON object the R ``script`` writes for ``payload``, or ``{"skipped": why}``."""
    rscript = shutil.which("Rscript")
    if rscript is None:
        return {"skipped": "Rscript not found"}
    with tempfile.TemporaryDirectory() as tmp:
        path, inp, out = Path(tmp) / "bench.R", Path(tmp) / "in.json", Path(tmp) / "out.json"
        path.write_text(script)
        inp.write_text(json.dumps(payload))
        try:
            done = subprocess.run(
                [rscript, str(path), str(inp), str(out), *args],
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return {"skipped": f"Rscript failed ({exc})"}
        if done.returncode != 0 or not out.exists():
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            return {"skipped": f"R script failed ({last})"}
        return dict(json.loads(out.read_text()))
