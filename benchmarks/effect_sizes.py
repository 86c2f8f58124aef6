"""effect_sizes benchmark: alsmeta against metafor's escalc, same data, same run, for the issue-18 measures.

Run with ``.venv/bin/python benchmarks/effect_sizes.py`` (``--quick`` for a short run). For
seeded data of k studies per family (2x2 tables with some zero cells, proportions, rates, two-group
rates, correlations, two groups' means and SDs, one group's mean and SD) it times
``am.effect_sizes(measure, ...)`` for PETO, PR, PLN, PLO, PAS, PFT, IR, IRLN, IRR, IRD, COR, UCOR,
ZCOR, SMDH, CVR, VR, MN, MNLN and metafor's ``escalc`` through Rscript (timed inside R; skipped
cleanly without R/metafor). statsmodels offers none of these measures (its
``effectsize_2proportions`` covers RD/RR/OR/AS only). It checks that yi and vi agree to a
relative 1e-12 (UCOR: 1e-2, see ``UCOR_RTOL``) before printing the times: best of several
repeats, per call, and metafor's time over alsmeta's. Tests never assert on time.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

import alsmeta as am

SEED = 20261205
UCOR_RTOL = 1e-2
"""metafor's UCOR uses GSL's hyperg_2F1, which is inaccurate near x = 1 with small c: for 105 of
the 100,000 studies here (n = 15 to 18, |r| < 0.1) metafor's yi is off by up to 0.15 % (e.g.
r = 0.0451, n = 18: metafor 0.046811, alsmeta 0.046783, which is what scipy's hyp2f1 and the
directly summed series both give; see tests/test_effect_sizes.py)."""
MEASURES = {
    "PETO": ("ai", "bi", "ci", "di"),
    "PR": ("xi", "ni"),
    "PLN": ("xi", "ni"),
    "PLO": ("xi", "ni"),
    "PAS": ("xi", "ni"),
    "PFT": ("xi", "ni"),
    "IR": ("xi", "ti"),
    "IRLN": ("xi", "ti"),
    "IRR": ("x1i", "t1i", "x2i", "t2i"),
    "IRD": ("x1i", "t1i", "x2i", "t2i"),
    "COR": ("ri", "ni"),
    "UCOR": ("ri", "ni"),
    "ZCOR": ("ri", "ni"),
    "SMDH": ("m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i"),
    "CVR": ("m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i"),
    "VR": ("sd1i", "n1i", "sd2i", "n2i"),
    "MN": ("mi", "sdi", "ni"),
    "MNLN": ("mi", "sdi", "ni"),
}


def make_data(k: int, seed: int = SEED) -> pd.DataFrame:
    """One table holding every column: counts with some zeros, person-times, correlations, means, SDs."""
    rng = np.random.default_rng(seed)
    n1, n2 = rng.integers(10, 301, size=k), rng.integers(10, 301, size=k)
    a, c = rng.binomial(n1, 0.05), rng.binomial(n2, 0.08)
    return pd.DataFrame(
        {
            "ai": a, "bi": n1 - a, "ci": c, "di": n2 - c,
            "xi": a, "ni": n1 + 5, "ti": rng.uniform(10, 500, size=k),
            "x1i": a, "t1i": rng.uniform(10, 500, size=k), "x2i": c, "t2i": rng.uniform(10, 500, size=k),
            "ri": rng.uniform(-0.8, 0.8, size=k),
            "m1i": rng.uniform(5, 40, size=k), "sd1i": rng.uniform(1, 8, size=k), "n1i": n1,
            "m2i": rng.uniform(5, 40, size=k), "sd2i": rng.uniform(1, 8, size=k), "n2i": n2,
            "mi": rng.uniform(5, 40, size=k), "sdi": rng.uniform(1, 8, size=k),
        }
    ).astype(float)  # fmt: skip


def best_time(fn: Callable[[], object], repeats: int, number: int) -> float:
    """Best of ``repeats`` runs of ``number`` calls, seconds per call."""
    best = np.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - t0) / number)
    return float(best)


R_SCRIPT = r"""
suppressPackageStartupMessages(library(metafor))
d <- read.csv(commandArgs(TRUE)[1]); n <- as.integer(commandArgs(TRUE)[2])
specs <- jsonlite::fromJSON(commandArgs(TRUE)[3])
out <- list()
for (m in names(specs)) {
  args <- c(list(measure = m), as.list(d[specs[[m]]]))
  es <- suppressWarnings(do.call(escalc, args))
  t <- min(replicate(3, system.time(for (i in seq_len(n)) suppressWarnings(do.call(escalc, args)))[["elapsed"]])) / n
  out[[m]] <- list(yi = as.numeric(es$yi), vi = as.numeric(es$vi), t = t)
}
cat(jsonlite::toJSON(out, digits = NA, auto_unbox = TRUE))
"""


def run_metafor(data: pd.DataFrame, number: int) -> dict | None:
    """escalc values and timings from R, or None if R/metafor is unavailable."""
    if shutil.which("Rscript") is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        csv, script = Path(tmp) / "data.csv", Path(tmp) / "bench.R"
        data.to_csv(csv, index=False, float_format="%.17g")
        script.write_text(R_SCRIPT)
        spec = json.dumps({m: list(cols) for m, cols in MEASURES.items()})
        proc = subprocess.run(["Rscript", str(script), str(csv), str(number), spec], capture_output=True, text=True)
    if proc.returncode != 0:
        print(f"metafor: skipped ({proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else 'Rscript failed'})")
        return None
    return json.loads(proc.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--k", type=int, nargs="+", default=[10, 1000, 100_000], help="numbers of studies")
    args = parser.parse_args()
    repeats = 3 if args.quick else 5
    print(f"{'k':>7} {'measure':>7} {'alsmeta':>11} {'metafor':>11} {'R/als':>7}")
    for k in args.k:
        data = make_data(k)
        number = max(1, min(200, 200_000 // k)) // (4 if args.quick else 1) or 1
        ref = run_metafor(data, number)
        for measure, cols in MEASURES.items():
            columns = {c: data[c].to_numpy() for c in cols}
            es = am.effect_sizes(measure, **columns)
            t_als = best_time(lambda m=measure, cs=columns: am.effect_sizes(m, **cs), repeats, number)
            if ref is not None:
                r = ref[measure]
                rtol = UCOR_RTOL if measure == "UCOR" else 1e-12
                np.testing.assert_allclose(es.yi, np.asarray(r["yi"], dtype=float), rtol=rtol, atol=1e-15)
                np.testing.assert_allclose(es.vi, np.asarray(r["vi"], dtype=float), rtol=rtol)
                t_r, ratio = f"{1e3 * r['t']:9.3f}ms", f"{r['t'] / t_als:7.1f}"
            else:
                t_r = ratio = "n/a"
            print(f"{k:>7} {measure:>7} {1e3 * t_als:9.3f}ms {t_r:>11} {ratio:>7}")
    print(
        "times: best of several repeats, per call; values agree to 1e-12 relative or 1e-15 absolute "
        "(ZCOR: metafor takes the log of (1+r)/(1-r), alsmeta atanh; UCOR: 1e-2, see UCOR_RTOL), checked above."
    )


if __name__ == "__main__":
    main()
