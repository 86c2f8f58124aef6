"""Campaign throughput: one batched job on each executor with 1 and 2 workers.

Run with ``.venv/bin/python benchmarks/campaign.py`` (``--rows``, ``--studies``
and ``--repeat`` to change the size; ``--no-dask`` without the dask extra).
Two jobs: :func:`alsmeta.pool_many` (REML, z test, Q-profile intervals) on a
seeded ``(rows, 10)`` batch in chunks of 8192 rows, and
:func:`alsmeta.simulate_trials` (ALSFRS-R, the cudkowicz2022 design) in
chunks of one block. Executors: serial; ``"processes"`` with 1 and 2 worker
processes; ``"dask"`` on a LocalCluster started for the job with 1 and 2
single-threaded workers. The times include starting the workers (the
processes pool and the cluster are started per call, as a user's call does),
so short jobs favour serial. Every run's result is checked to be the same
bytes as the serial one. Best of ``--repeat`` times; rates are units per
second. Nothing is written to disk.

The machine this was written on has 2 cores shared with other work, so the
2-worker speed-up is at most 2 and usually less; report what you measure.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from alsmeta.engine.batch import pool_many
from alsmeta.simulate import NaturalHistory, design_preset, simulate_trials

SEED = 20261205


def _best(run: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - t0)
    return best, result


def _executors(dask: bool) -> list[tuple[str, dict[str, Any]]]:
    runs: list[tuple[str, dict[str, Any]]] = [("serial", {})]
    runs += [(f"processes x{n}", {"executor": "processes", "workers": n}) for n in (1, 2)]
    if dask:
        runs += [(f"dask LocalCluster x{n}", {"executor": "dask", "workers": n}) for n in (1, 2)]
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--studies", type=int, default=4096)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--no-dask", action="store_true")
    args = parser.parse_args()

    rng = np.random.default_rng(SEED)
    y = rng.normal(0.2, 0.4, (args.rows, 10))
    v = rng.uniform(0.01, 0.3, (args.rows, 10))
    history, design = NaturalHistory.alsfrs_r(), design_preset("cudkowicz2022")
    jobs: list[tuple[str, int, str, Callable[..., Any], Callable[[Any], bytes]]] = [
        (
            "pool_many REML",
            args.rows,
            "fits",
            lambda **kw: pool_many(y, v, chunk_size=8192, **kw),
            lambda r: r.estimate.tobytes() + r.tau2.tobytes() + r.tau2_ci_high.tobytes(),
        ),
        (
            "simulate_trials",
            args.studies,
            "studies",
            lambda **kw: simulate_trials(history, design, args.studies, seed=SEED, **kw),
            lambda r: r.mean_change.tobytes() + r.se_change.tobytes(),
        ),
    ]
    print(f"cores: {os.cpu_count()} (shared); best of {args.repeat}")
    for name, units, unit, run, key in jobs:
        print(f"\n{name}: {units} {unit}")
        ref = None
        for label, kw in _executors(not args.no_dask):
            seconds, result = _best(lambda kw=kw, run=run: run(**kw), args.repeat)
            same = ref is None or key(result) == ref
            ref = key(result) if ref is None else ref
            print(f"  {label:<22} {seconds:8.2f} s  {units / seconds:12,.0f} {unit}/s  same bytes: {same}")


if __name__ == "__main__":
    main()
