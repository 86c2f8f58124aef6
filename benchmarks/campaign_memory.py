"""Memory of a campaign: the same pool_many job held in memory and streamed with ``out=``.

Run with ``.venv/bin/python benchmarks/campaign_memory.py`` (``--rows``, ``--k``).
Each mode runs in a fresh Python process, which builds a seeded ``(rows, k)``
batch, fits it with :func:`alsmeta.pool_many` (DL, z test, chunks of 16,384
rows) and reports the peak growth of its *anonymous* resident memory
(``RssAnon`` in ``/proc/self/status``, sampled every 5 ms by a thread) over
the value before the fit, next to the size of the result arrays. In memory
the result is allocated there; with ``out=`` (a temporary folder) the result
arrays are memory-mapped files filled chunk by chunk, whose pages are file
cache the kernel writes back and drops under pressure (``RssFile``, also
printed), so anonymous memory stays near a few chunks whatever the number of
rows. The bytes of both results are compared (a hash of every array). Linux
only (``/proc``).
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import fields

import numpy as np

SEED = 20261205


def _status_mb(field: str) -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


class _PeakSampler(threading.Thread):
    """The largest RssAnon and RssFile seen while running."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.stop = threading.Event()
        self.anon = self.file = 0.0

    def run(self) -> None:
        while not self.stop.is_set():
            self.anon = max(self.anon, _status_mb("RssAnon"))
            self.file = max(self.file, _status_mb("RssFile"))
            time.sleep(0.005)


def _child(rows: int, k: int, streamed: bool) -> None:
    from alsmeta.engine.batch import pool_many

    rng = np.random.default_rng(SEED)
    y = rng.normal(0.2, 0.4, (rows, k))
    v = rng.uniform(0.01, 0.3, (rows, k))
    pool_many(y[:10], v[:10], method="DL")  # imports and first-call set-up outside the measurement
    anon0, file0 = _status_mb("RssAnon"), _status_mb("RssFile")
    with tempfile.TemporaryDirectory() as folder:
        sampler = _PeakSampler()
        sampler.start()
        t0 = time.perf_counter()
        res = pool_many(y, v, method="DL", confint=False, chunk_size=16_384, out=folder if streamed else None)
        seconds = time.perf_counter() - t0
        sampler.stop.set()
        sampler.join()
        arrays = [getattr(res, f.name) for f in fields(res) if isinstance(getattr(res, f.name), np.ndarray)]
        result_mb = sum(a.nbytes for a in arrays) / 2**20
        digest = hashlib.sha256(b"".join(a.tobytes() for a in arrays)).hexdigest()[:16]
        del res, arrays
    print(f"{result_mb:.0f} {sampler.anon - anon0:.0f} {max(sampler.file - file0, 0.0):.0f} {seconds:.1f} {digest}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--child", choices=["memory", "streamed"])
    args = parser.parse_args()
    if args.child:
        _child(args.rows, args.k, args.child == "streamed")
        return
    print(f"pool_many DL, {args.rows:,} rows x k = {args.k}; each mode in a fresh process")
    print(f"  {'mode':<10} {'result MB':>10} {'anon. growth MB':>16} {'file pages MB':>14} {'seconds':>8}  sha256")
    for mode in ("memory", "streamed"):
        cmd = [sys.executable, __file__, "--rows", str(args.rows), "--k", str(args.k), "--child", mode]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.split()
        result_mb, anon, file_pages, seconds, digest = out
        print(f"  {mode:<10} {result_mb:>10} {anon:>16} {file_pages:>14} {seconds:>8}  {digest}")


if __name__ == "__main__":
    main()
