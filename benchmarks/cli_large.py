"""Scale of input: ``alsmeta pool`` on a 1,000,000-row effect-size CSV.

Run with ``make bench`` (after ``benchmarks/run.py``) or
``.venv/bin/python benchmarks/cli_large.py [--rows N] [--repeat R]``.

A seeded table (study label, yi, vi and two unused columns, written with
``repr`` precision) is generated in a temporary folder; each command runs in
its own process, and its wall time and peak resident memory (``wait4``
rusage, the kernel's maxrss of that one process) are measured in the same
run:

* the reference: a plain ``pandas.read_csv(path)`` of the whole file;
* the start-up cost: ``import alsmeta`` (numpy, scipy, pandas, matplotlib);
* the reader alone: :func:`alsmeta.io.read_effects_csv` of the two columns;
* ``alsmeta pool FILE --yi yi --vi vi`` (text summary);
* ``alsmeta pool FILE --yi yi --vi vi --labels study --json`` (every study
  listed, streamed to /dev/null);
* a breakdown in one process after the imports: the plain read, the reader,
  :func:`alsmeta.pool` on the arrays, and the CLI's ``main``.

The targets (issue 14) are within 4x the plain read's time and within the
plain read's memory + 200 MB; the ratios are printed with the verdict. Best
of ``--repeat`` runs (a shared machine is noisy). Nothing is kept on disk.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

SEED = 20261205
TIME_RATIO_TARGET = 4.0
EXTRA_MB_TARGET = 200.0


def write_table(path: Path, rows: int, seed: int = SEED) -> None:
    """A random-effects table: vi ~ U(0.01, 0.2), yi ~ N(0.3, vi + 0.05)."""
    rng = np.random.default_rng(seed)
    vi = rng.uniform(0.01, 0.2, rows)
    yi = rng.normal(0.3, np.sqrt(vi + 0.05))
    n = rng.integers(20, 400, rows)
    year = rng.integers(1990, 2026, rows)
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        fh.write("study,yi,vi,n,year\n")
        for start in range(0, rows, 100_000):
            stop = min(rows, start + 100_000)
            fh.write(
                "".join(
                    f"S{i + 1},{y!r},{v!r},{m},{t}\n"
                    for i, y, v, m, t in zip(
                        range(start, stop),
                        yi[start:stop].tolist(),
                        vi[start:stop].tolist(),
                        n[start:stop].tolist(),
                        year[start:stop].tolist(),
                        strict=True,
                    )
                )
            )


def measure(cmd: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS in MB of one process (stdout discarded)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode() if proc.stderr else ""
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}): {err.strip()}")
    maxrss_kb = usage.ru_maxrss  # kilobytes on Linux
    return wall, maxrss_kb / 1024.0


BREAKDOWN = """
import contextlib, io, os, sys, time
import numpy as np, pandas as pd
from alsmeta.cli import main
from alsmeta.io import read_effects_csv
from alsmeta.models.pooling import pool
path = sys.argv[1]
def clock(f):
    t = time.perf_counter(); out = f(); return time.perf_counter() - t, out
rows = {}
rows["pandas.read_csv (whole file)"], _ = clock(lambda: pd.read_csv(path))
rows["read_effects_csv (yi, vi)"], table = clock(lambda: read_effects_csv(path, ["yi", "vi"]))
yi, vi = table.values["yi"], table.values["vi"]
rows["pool(yi, vi) (validation + fit)"], _ = clock(lambda: pool(yi, vi))
with open(os.devnull, "w") as null, contextlib.redirect_stdout(null):
    rows["cli main(pool) after imports"], _ = clock(lambda: main(["pool", path, "--yi", "yi", "--vi", "vi"]))
for name, sec in rows.items():
    print(f"  {name:34s} {sec:7.2f} s")
"""


def best(cmd: list[str], repeat: int) -> tuple[float, float]:
    runs = [measure(cmd) for _ in range(repeat)]
    return min(r[0] for r in runs), min(r[1] for r in runs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="best of this many runs per command (default 3: a shared machine is noisy)",
    )
    args = parser.parse_args(argv)
    py = sys.executable
    with tempfile.TemporaryDirectory(prefix="alsmeta-cli-large-") as tmp:
        path = Path(tmp) / "effects.csv"
        write_table(path, args.rows)
        size_mb = path.stat().st_size / 2**20
        print(
            f"alsmeta pool on {args.rows:,} rows ({size_mb:.0f} MB CSV); best of {args.repeat}; "
            f"python {sys.version.split()[0]}"
        )
        commands = {
            "pandas.read_csv (reference)": [py, "-c", f"import pandas as pd; pd.read_csv({str(path)!r})"],
            "python -c 'import alsmeta'": [py, "-c", "import alsmeta"],
            "read_effects_csv (2 columns)": [
                py,
                "-c",
                f"from alsmeta.io import read_effects_csv; read_effects_csv({str(path)!r}, ['yi', 'vi'])",
            ],
            "alsmeta pool": [py, "-m", "alsmeta.cli", "pool", str(path), "--yi", "yi", "--vi", "vi"],
            "alsmeta pool --labels --json": [
                py,
                "-m",
                "alsmeta.cli",
                "pool",
                str(path),
                "--yi",
                "yi",
                "--vi",
                "vi",
                "--labels",
                "study",
                "--json",
            ],
        }
        results = {name: best(cmd, args.repeat) for name, cmd in commands.items()}
        print("in one process, after the imports (where the time goes):")
        done = subprocess.run([py, "-c", BREAKDOWN, str(path)], capture_output=True, text=True, check=False)
        print(done.stdout.rstrip() or done.stderr.strip())
    ref_time, ref_mb = results["pandas.read_csv (reference)"]
    print(f"{'command':32s} {'wall s':>8s} {'peak MB':>8s} {'x read':>7s} {'+MB':>7s}  target")
    for name, (wall, mb) in results.items():
        ratio, extra = wall / ref_time, mb - ref_mb
        verdict = ""
        if name.startswith("alsmeta pool"):
            ok = ratio <= TIME_RATIO_TARGET and extra <= EXTRA_MB_TARGET
            verdict = "met" if ok else f"MISSED (<= {TIME_RATIO_TARGET:g}x, <= +{EXTRA_MB_TARGET:g} MB)"
        print(f"{name:32s} {wall:8.2f} {mb:8.0f} {ratio:7.2f} {extra:+7.0f}  {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
