"""One pool() call and the import: alsmeta against statsmodels, pimeta and metafor (issue 16, "Speed").

Run with ``make bench`` (``.venv/bin/python benchmarks/single_fit.py``;
``--quick`` for a short run). A shared machine is noisy, so every contender
is measured in the same run, interleaved: each round times a batch of calls
of every contender in turn, and the table shows the median over the rounds.

* single fit: ``alsmeta.pool(yi, vi, method=...)`` with k = 10 studies (the
  seeded standardised mean differences of ``benchmarks/run.py``), for every
  tau^2 estimator, against statsmodels' ``combine_effects`` (``method_re="dl"``
  and ``"iterated"``, its Paule-Mandel iteration), pimeta's ``rma`` (installed
  at run time into a cache outside the project when missing and the network
  allows; skipped otherwise) and metafor's ``rma`` through Rscript when R and
  metafor are installed (timed inside R with a loop, so R's start-up is not
  counted). alsmeta's Q-profile interval for tau^2 is computed on first use
  and is not part of a fit; metafor's ``rma`` does not compute it either
  (``confint()``), and statsmodels and pimeta's ``rma`` do not report it.
* import: a fresh interpreter running ``import alsmeta; alsmeta.pool(yi, vi)``
  against one running ``import numpy, scipy.special, scipy.optimize`` (what
  the pool path needs), alternately, median of the runs. Measured with
  compiled bytecode cached (in a temporary ``PYTHONPYCACHEPREFIX``, after a
  warm-up run), as for any installed package, and, when the environment sets
  ``PYTHONDONTWRITEBYTECODE`` (alsmeta's sources then compile on every
  import, numpy's and scipy's installed bytecode does not), also as run here.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

import alsmeta as am

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import import_pimeta, make_data  # the GOSH benchmark's data and pimeta loader

METHODS = ("CE", "DL", "HE", "HS", "SJ", "ML", "REML", "EB", "PM", "PMM")
K = 10

R_LOOP = r"""
suppressMessages(library(metafor))
args <- commandArgs(TRUE)
d <- jsonlite::fromJSON(args[1])
out <- list()
for (m in d$methods) {
  rma(d$yi, d$vi, method = m)
  best <- Inf
  for (r in seq_len(d$rounds)) {
    t0 <- proc.time()[["elapsed"]]
    for (i in seq_len(d$n)) rma(d$yi, d$vi, method = m)
    best <- c(best, (proc.time()[["elapsed"]] - t0) / d$n)
  }
  out[[m]] <- median(best[-1])
}
cat(jsonlite::toJSON(out, auto_unbox = TRUE, digits = NA))
"""


def per_call(fn: Callable[[], Any], n: int) -> float:
    t0 = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - t0) / n


def contenders(yi: np.ndarray, vi: np.ndarray, pimeta: Any) -> dict[str, Callable[[], Any]]:
    out: dict[str, Callable[[], Any]] = {}
    for m in METHODS:
        out[f"alsmeta pool {m}"] = partial(am.pool, yi, vi, method=m)
    out["alsmeta pool REML, knha"] = lambda: am.pool(yi, vi, method="REML", test="knha")
    out["alsmeta pool REML + Q-profile CI"] = lambda: am.pool(yi, vi, method="REML").tau2_ci_low
    try:
        from statsmodels.stats.meta_analysis import combine_effects

        out["statsmodels combine_effects dl"] = lambda: combine_effects(yi, vi, method_re="dl")
        out["statsmodels combine_effects iterated (PM)"] = lambda: combine_effects(yi, vi, method_re="iterated")
    except ImportError:
        pass
    if pimeta is not None:
        for m in ("DL", "REML", "PM"):
            out[f"pimeta rma {m}"] = partial(pimeta.rma, yi, vi, method=m)
    return out


def metafor_times(yi: np.ndarray, vi: np.ndarray, rounds: int, n: int) -> dict[str, float] | str:
    rscript = shutil.which("Rscript")
    if rscript is None:
        return "Rscript not found"
    with tempfile.TemporaryDirectory() as tmp:
        script, data = Path(tmp) / "loop.R", Path(tmp) / "in.json"
        script.write_text(R_LOOP)
        payload = {"yi": yi.tolist(), "vi": vi.tolist(), "methods": ["DL", "REML", "PM", "ML", "EB"]}
        data.write_text(json.dumps({**payload, "rounds": rounds, "n": n}))
        try:
            done = subprocess.run(
                [rscript, str(script), str(data)], capture_output=True, text=True, timeout=1800, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"Rscript failed ({exc})"
    if done.returncode != 0:
        return "metafor not available (" + (done.stderr.strip().splitlines() or ["no output"])[-1] + ")"
    return {f"metafor rma {m} (timed in R)": float(s) for m, s in json.loads(done.stdout).items()}


IMPORT_BASE = "import numpy, scipy.special, scipy.optimize"
IMPORT_ALSMETA = "import alsmeta; alsmeta.pool([0.1, 0.3, 0.2], [0.01, 0.02, 0.015])"


def import_seconds(code: str, env: dict[str, str] | None = None) -> float:
    prog = f"import time; t0 = time.perf_counter(); {code}; print(time.perf_counter() - t0)"
    done = subprocess.run([sys.executable, "-c", prog], capture_output=True, text=True, check=True, env=env)
    return float(done.stdout.strip().splitlines()[-1])


def import_times(runs: int, env: dict[str, str] | None) -> tuple[float, float]:
    """Median seconds of the two imports, alternating (after one warm-up run of each)."""
    import_seconds(IMPORT_BASE, env)
    import_seconds(IMPORT_ALSMETA, env)
    base, ours = [], []
    for _ in range(runs):
        base.append(import_seconds(IMPORT_BASE, env))
        ours.append(import_seconds(IMPORT_ALSMETA, env))
    return statistics.median(base), statistics.median(ours)


def fmt(seconds: float) -> str:
    return f"{seconds * 1e6:9.1f} us" if abs(seconds) < 0.01 else f"{seconds * 1e3:9.1f} ms"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer rounds and calls")
    ap.add_argument("--no-install", action="store_true", help="do not install pimeta at run time")
    args = ap.parse_args(argv)
    rounds, budget, imports = (5, 0.05, 3) if args.quick else (11, 0.2, 9)
    yi, vi = make_data(K)
    pimeta, pimeta_note = import_pimeta(not args.no_install)
    fns = contenders(yi, vi, pimeta)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        calls = {name: max(3, int(budget / max(per_call(fn, 3), 1e-7))) for name, fn in fns.items()}
        times: dict[str, list[float]] = {name: [] for name in fns}
        for _ in range(rounds):
            for name, fn in fns.items():
                times[name].append(per_call(fn, calls[name]))
    med = {name: statistics.median(t) for name, t in times.items()}
    r_loop = max(10, int(budget / 0.002))
    metafor = metafor_times(yi, vi, rounds, r_loop)
    if isinstance(metafor, dict):
        med.update(metafor)

    ref_name = "statsmodels combine_effects iterated (PM)"
    ref = med.get(ref_name)
    print(f"Single fit, k = {K} (median of {rounds} interleaved rounds; ratio = time / {ref_name})")
    for name, sec in med.items():
        ratio = f"{sec / ref:6.2f}x" if ref else ""
        print(f"  {name:44s} {fmt(sec)}  {ratio}")
    if not isinstance(metafor, dict):
        print(f"  metafor: skipped ({metafor})")
    print(f"  pimeta: {pimeta_note}")

    print(f"\nImport, fresh interpreter (median of {imports} alternating runs)")
    with tempfile.TemporaryDirectory() as cache:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        settings = [("bytecode cached", {**env, "PYTHONPYCACHEPREFIX": cache})]
        if os.environ.get("PYTHONDONTWRITEBYTECODE"):
            settings.append(("no bytecode cache (PYTHONDONTWRITEBYTECODE is set here)", None))
        for label, run_env in settings:
            b, o = import_times(imports, run_env)
            print(f"  {label}:")
            print(f"    {IMPORT_BASE:64s} {fmt(b)}")
            print(f"    {'import alsmeta + first pool() call':64s} {fmt(o)}")
            print(f"    {'difference (target: at most 0.1 s)':64s} {fmt(o - b)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
