"""Mantel-Haenszel benchmark: alsmeta.pool_mh against statsmodels and metafor, same data, same run.

Run with ``.venv/bin/python benchmarks/sparse_mh.py`` (``--quick`` for a short run). For one
seeded set of sparse 2x2 tables (k studies, 20 to 300 patients per arm, event risks 1-10 %, so
single-zero and double-zero tables occur), it times

* alsmeta: ``pool_mh(measure="OR")``, the whole result (MH OR, RBG variance, Q, CMH,
  Breslow-Day and Tarone tests, individual effects, weights), and ``pool_peto``;
* statsmodels: ``StratifiedTable`` with the quantities it offers (pooled log OR and its SE,
  the CMH test, the Breslow-Day test with and without Tarone's correction), given only the
  tables with events (its Breslow-Day statistic is NaN when any table has no events in either
  arm; metafor and alsmeta leave such tables out of that test);
* metafor: ``rma.mh`` and ``rma.peto`` through Rscript, when R and metafor are installed
  (skipped cleanly otherwise), timed inside R.

It checks that the numbers agree (they must, to 1e-8) before printing times: best of several
repeats, per fit, and the ratios (their time / alsmeta's time). Tests never assert on time.
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

import alsmeta as am

SEED = 20261205


def make_tables(k: int, seed: int = SEED) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """k sparse two-arm trials: 20-300 per arm, control risk 1-10 %, odds ratio about 0.8."""
    rng = np.random.default_rng(seed)
    n1, n2 = rng.integers(20, 301, size=k), rng.integers(20, 301, size=k)
    p2 = rng.uniform(0.01, 0.10, size=k)
    odds1 = 0.8 * p2 / (1 - p2)
    p1 = odds1 / (1 + odds1)
    a, c = rng.binomial(n1, p1), rng.binomial(n2, p2)
    return a.astype(float), (n1 - a).astype(float), c.astype(float), (n2 - c).astype(float)


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
best <- function(f) min(replicate(5, system.time(for (i in seq_len(n)) f())[["elapsed"]])) / n
fit <- suppressWarnings(rma.mh(ai=d$ai, bi=d$bi, ci=d$ci, di=d$di, measure="OR"))
peto <- suppressWarnings(rma.peto(ai=d$ai, bi=d$bi, ci=d$ci, di=d$di))
t_mh <- best(function() suppressWarnings(rma.mh(ai=d$ai, bi=d$bi, ci=d$ci, di=d$di, measure="OR")))
t_peto <- best(function() suppressWarnings(rma.peto(ai=d$ai, bi=d$bi, ci=d$ci, di=d$di)))
cat(sprintf(paste0('{"estimate": %.17g, "QE": %.17g, "TA": %.17g, "peto": %.17g, ',
                   '"t_mh": %.17g, "t_peto": %.17g, "version": "%s"}\n'),
  fit$beta, fit$QE, fit$TA, peto$beta, t_mh, t_peto, as.character(packageVersion("metafor"))))
"""


def run_metafor(cells: tuple[np.ndarray, ...], number: int) -> dict | None:
    """rma.mh / rma.peto timings and values from R, or None if R/metafor is unavailable."""
    if shutil.which("Rscript") is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        csv, script = Path(tmp) / "tables.csv", Path(tmp) / "bench.R"
        rows = ["ai,bi,ci,di"] + [",".join(f"{x:.0f}" for x in row) for row in zip(*cells, strict=True)]
        csv.write_text("\n".join(rows) + "\n")
        script.write_text(R_SCRIPT)
        proc = subprocess.run(["Rscript", str(script), str(csv), str(number)], capture_output=True, text=True)
    if proc.returncode != 0:
        print(f"metafor: skipped ({proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else 'Rscript failed'})")
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--k", type=int, nargs="+", default=[10, 100, 1000], help="numbers of studies")
    args = parser.parse_args()
    repeats, number = (3, 20) if args.quick else (5, 100)
    from statsmodels.stats.contingency_tables import StratifiedTable

    print(
        f"{'k':>6} {'alsmeta MH':>12} {'alsmeta Peto':>13} {'statsmodels':>12} {'metafor MH':>11} "
        f"{'metafor Peto':>13} {'sm/als':>7} {'R MH/als':>9} {'R Peto/als':>11}"
    )
    for k in args.k:
        cells = make_tables(k)
        fit = am.pool_mh(*cells)
        peto = am.pool_peto(*cells)
        # statsmodels' Breslow-Day test is NaN as soon as one table has no events in either arm
        # (metafor and alsmeta use the informative tables only), so it gets those tables
        informative = (cells[0] + cells[2] > 0) & (cells[1] + cells[3] > 0)
        strat = StratifiedTable(
            np.stack(
                [np.array([[a, b], [c, d]]) for a, b, c, d in zip(*(x[informative] for x in cells), strict=True)],
                axis=-1,
            )
        )

        def sm_all(s: StratifiedTable = strat) -> None:
            s.logodds_pooled, s.logodds_pooled_se, s.test_null_odds(correction=True)
            s.test_equal_odds(adjust=True), s.test_equal_odds(adjust=False)

        def sm_fresh(tab=strat.table) -> None:
            sm_all(StratifiedTable(tab))

        assert abs(fit.estimate - strat.logodds_pooled) <= 1e-10 * abs(strat.logodds_pooled)
        assert abs(fit.tarone - strat.test_equal_odds(adjust=True).statistic) <= 1e-8 * fit.tarone
        t_als = best_time(lambda cells=cells: am.pool_mh(*cells), repeats, number)
        t_peto = best_time(lambda cells=cells: am.pool_peto(*cells), repeats, number)
        t_sm = best_time(sm_fresh, repeats, number)
        r = run_metafor(cells, number)
        if r is not None:
            assert abs(r["estimate"] - fit.estimate) <= 1e-10 * abs(fit.estimate), (r, fit.estimate)
            assert abs(r["QE"] - fit.q) <= 1e-8 * fit.q and abs(r["peto"] - peto.estimate) <= 1e-10 * abs(peto.estimate)
            rmh, rpeto = f"{1e3 * r['t_mh']:9.3f}ms", f"{1e3 * r['t_peto']:11.3f}ms"
            ratio_mh, ratio_peto = f"{r['t_mh'] / t_als:9.1f}", f"{r['t_peto'] / t_peto:11.1f}"
        else:
            rmh = rpeto = ratio_mh = ratio_peto = "n/a"
        print(
            f"{k:>6} {1e3 * t_als:10.3f}ms {1e3 * t_peto:11.3f}ms {1e3 * t_sm:10.3f}ms {rmh:>11} {rpeto:>13} "
            f"{t_sm / t_als:7.2f} {ratio_mh:>9} {ratio_peto:>11}"
        )
    print("times: best of several repeats, per fit; values agree to 1e-8 (checked above).")


if __name__ == "__main__":
    main()
