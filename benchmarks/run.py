"""GOSH benchmark: alsmeta's batched engine against fitting one model at a time.

Run with ``make bench`` (``.venv/bin/python benchmarks/run.py``); ``--quick``
for a short run, ``--help`` for the options. Everything is measured in one run
on the same data (one seeded data set of 20 studies; GOSH at k uses the first
k studies):

* alsmeta: :func:`alsmeta.gosh`, every one of the 2^k - 1 subsets, REML and
  DL (and PM, the other estimator statsmodels has), total time (best of three
  runs: a shared machine is noisy) and time per fit, and the traced peak
  memory of the run;
* the single-fit loop: the same engine called once per subset
  (``pool_many`` on one row, no Q-profile interval, i.e. the same outputs)
  on a random sample of subsets; its results must equal the batched rows bit
  for bit;
* statsmodels' ``combine_effects`` in a loop, where the methods coincide
  (DL; PM, which statsmodels calls "iterated");
* metafor's ``gosh()`` through Rscript when R and metafor are installed, and
  pimeta's ``gosh()`` when pimeta can be imported (it is installed at run time
  into a cache directory outside the project if missing and the network
  allows; never a dependency of alsmeta). Each is skipped cleanly otherwise.
  They are timed on random subsets of the same data (their per-fit cost does
  not depend on how many subsets are drawn), with their default settings,
  and their numbers are compared with alsmeta's rows for the same subsets.

Ratios are per fit: (their time per fit) / (alsmeta's time per fit at the same
k). Nothing is written to disk except the temporary files for R.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
import warnings
from pathlib import Path
from typing import Any

import numpy as np

import alsmeta as am
from alsmeta.diagnostics.sensitivity import subset_membership

SEED = 20240611
PIMETA = "pimeta==1.1.0"


def make_data(k: int = 20, seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    """Standardised mean differences of k trials with 8 to 200 patients per arm, tau = 0.15."""
    rng = np.random.default_rng(seed)
    n = rng.integers(8, 201, size=k)
    v = 2.0 / n + 0.3**2 / (4 * n)
    theta = rng.normal(0.3, 0.15, size=k)
    return rng.normal(theta, np.sqrt(v)), v


def best_time(fn: Any, repeat: int) -> tuple[float, Any]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def sample_subsets(k: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """Bitmasks of n random subsets with at least two studies (uniform over such subsets)."""
    total = 2**k - 1
    draws = rng.choice(np.arange(1, total + 1, dtype=np.int64), size=min(n, total), replace=False)
    draws = draws[np.bitwise_count(draws) >= 2] if hasattr(np, "bitwise_count") else draws
    return draws


def position(subset: np.ndarray, k: int) -> np.ndarray:
    pos = np.full(2**k, -1, dtype=np.int64)
    pos[subset] = np.arange(subset.size)
    return pos


def us(x: float) -> str:
    if not np.isfinite(x):
        return "-"
    return f"{x * 1e6:.2f} us" if x < 1e-4 else (f"{x * 1e3:.2f} ms" if x < 1 else f"{x:.2f} s")


def rel_diff(a: np.ndarray, b: np.ndarray, floor: float = 1e-12) -> float:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    ok = np.isfinite(a) & np.isfinite(b)
    if not ok.any():
        return float("nan")
    return float(np.max(np.abs(a[ok] - b[ok]) / np.maximum(np.abs(b[ok]), floor)))


# ------------------------------------------------------------------ alsmeta
def run_alsmeta(yi: np.ndarray, vi: np.ndarray, k: int, method: str, repeat: int) -> dict[str, Any]:
    fit = am.pool(yi[:k], vi[:k], method=method)
    seconds, g = best_time(lambda: am.gosh(fit, progress=False), repeat)
    assert g.attrs["exact"] and len(g) == 2**k - 1
    tracemalloc.start()
    am.gosh(fit, progress=False)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {
        "fits": len(g),
        "seconds": seconds,
        "per_fit": seconds / len(g),
        "peak_mib": peak / 2**20,
        "gosh": g,
        "zero_share": float((g["tau2"] == 0).mean()),
    }


def run_loop(yi: np.ndarray, vi: np.ndarray, k: int, method: str, subsets: np.ndarray, g: Any) -> dict[str, Any]:
    member = subset_membership(subsets, k)
    t0 = time.perf_counter()
    rows = [am.pool_many(yi[:k][m][None, :], vi[:k][m][None, :], method=method, confint=False) for m in member]
    seconds = time.perf_counter() - t0
    pos = position(g["subset"].to_numpy(), k)[subsets]
    same = sum(
        all(
            getattr(r, c)[0] == g[c].iloc[p] or (np.isnan(getattr(r, c)[0]) and np.isnan(g[c].iloc[p]))
            for c in ("estimate", "se", "tau2", "i2", "h2", "q")
        )
        for r, p in zip(rows, pos, strict=True)
    )
    return {"per_fit": seconds / len(rows), "n": len(rows), "identical": same}


def run_statsmodels(yi: np.ndarray, vi: np.ndarray, k: int, method: str, subsets: np.ndarray, g: Any) -> dict[str, Any]:
    try:
        from statsmodels.stats.meta_analysis import combine_effects
    except ImportError:
        return {"skipped": "statsmodels not installed"}
    method_re = {"DL": "dl", "PM": "iterated"}[method]
    member = subset_membership(subsets, k)
    est, tau2 = np.empty(len(member)), np.empty(len(member))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        for i, m in enumerate(member):
            res = combine_effects(yi[:k][m], vi[:k][m], method_re=method_re)
            est[i], tau2[i] = res.mean_effect_re, res.tau2
        seconds = time.perf_counter() - t0
    pos = position(g["subset"].to_numpy(), k)[subsets]
    # statsmodels does not truncate the DL estimate at 0: compare where it is a variance
    keep = tau2 >= 0
    return {
        "per_fit": seconds / len(member),
        "n": len(member),
        "negative": int((~keep).sum()),
        "d_est": rel_diff(est[keep], g["estimate"].to_numpy()[pos][keep]),
        "d_tau2": float(np.max(np.abs(tau2 - g["tau2"].to_numpy()[pos])[keep])),
    }


# ------------------------------------------------------------------ metafor
def run_metafor(yi: np.ndarray, vi: np.ndarray, jobs: list[dict[str, Any]]) -> dict[str, Any]:
    rscript = shutil.which("Rscript")
    if rscript is None:
        return {"skipped": "Rscript not found"}
    here = Path(__file__).resolve().parent
    with tempfile.TemporaryDirectory() as tmp:
        inp, out = Path(tmp) / "in.json", Path(tmp) / "out.json"
        inp.write_text(json.dumps({"yi": yi.tolist(), "vi": vi.tolist(), "jobs": jobs}))
        try:
            done = subprocess.run(
                [rscript, str(here / "metafor_gosh.R"), str(inp), str(out)],
                capture_output=True,
                text=True,
                timeout=3600,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return {"skipped": f"Rscript failed ({exc})"}
        if done.returncode != 0 or not out.exists():
            msg = (done.stderr.strip().splitlines() or ["no output"])[-1]
            return {"skipped": f"metafor not available ({msg})"}
        return json.loads(out.read_text())


def compare(other_subset: np.ndarray, other_est: np.ndarray, other_tau2: np.ndarray, g: Any, k: int) -> dict[str, Any]:
    pos = position(g["subset"].to_numpy(), k)[np.asarray(other_subset, dtype=np.int64)]
    est, tau2 = g["estimate"].to_numpy()[pos], g["tau2"].to_numpy()[pos]
    mm = am.pool_many(
        np.broadcast_to(g.attrs["yi"], (pos.size, k)),
        np.broadcast_to(g.attrs["vi"], (pos.size, k)),
        subset_membership(np.asarray(other_subset, dtype=np.int64), k),
        method=g.attrs["method"],
        confint=False,
    ).multimodal
    keep = ~mm
    other_tau2 = np.asarray(other_tau2, dtype=float)
    return {
        "n": int(pos.size),
        "multimodal": int(mm.sum()),
        "d_est": rel_diff(np.asarray(other_est, dtype=float)[keep], est[keep]),
        "d_tau2": float(np.nanmax(np.abs(other_tau2[keep] - tau2[keep]))) if keep.any() else float("nan"),
    }


# ------------------------------------------------------------------ pimeta
def import_pimeta(install: bool) -> tuple[Any, str]:
    try:
        return importlib.import_module("pimeta"), "installed"
    except ImportError:
        pass
    if not install:
        return None, "not installed (--no-install)"
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "alsmeta-bench" / "site"
    if not (cache / "pimeta").is_dir():
        cache.mkdir(parents=True, exist_ok=True)
        try:
            done = subprocess.run(
                [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(cache), PIMETA],
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return None, f"could not be installed ({exc})"
        if done.returncode != 0:
            return None, "could not be installed (" + (done.stderr.strip().splitlines() or ["pip failed"])[-1] + ")"
    sys.path.insert(0, str(cache))
    try:
        return importlib.import_module("pimeta"), f"installed at run time into {cache}"
    except ImportError as exc:
        return None, f"not importable ({exc})"


def run_pimeta(pimeta: Any, yi: np.ndarray, vi: np.ndarray, k: int, method: str, n: int) -> dict[str, Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        res = pimeta.gosh(yi[:k], vi[:k], method=method, subsets=n, seed=1)
        seconds = time.perf_counter() - t0
    incl = np.asarray(res.incl, dtype=bool)
    subset = incl @ (np.int64(1) << np.arange(k, dtype=np.int64))
    return {
        "per_fit": seconds / len(res.k),
        "n": len(res.k),
        "subset": subset,
        "estimate": np.asarray(res.estimate, dtype=float),
        "tau2": np.asarray(res.tau2, dtype=float),
    }


# ------------------------------------------------------------------ main
def python_timings(
    yi: np.ndarray, vi: np.ndarray, ks: list[int], methods: list[str], args: argparse.Namespace, pimeta: Any
) -> dict[tuple[int, str], dict[str, Any]]:
    """alsmeta's gosh(), the single-fit loop, statsmodels and pimeta, per (k, method)."""
    rng = np.random.default_rng(1)
    rows: dict[tuple[int, str], dict[str, Any]] = {}
    for k in ks:
        for method in methods:
            a = run_alsmeta(yi, vi, k, method, 3)
            g = a["gosh"]
            g.attrs.update(yi=yi[:k], vi=vi[:k], method=method)
            subsets = sample_subsets(k, args.loop, rng)
            a["loop"] = run_loop(yi, vi, k, method, subsets, g)
            if method in ("DL", "PM"):
                a["statsmodels"] = run_statsmodels(yi, vi, k, method, subsets, g)
            if pimeta is not None and method in ("REML", "DL"):
                p = run_pimeta(pimeta, yi, vi, k, method, args.pimeta)
                agree = compare(p["subset"], p["estimate"], p["tau2"], g, k)
                a["pimeta"] = {**p, **{f"agree_{key}": val for key, val in agree.items()}}
            rows[(k, method)] = a
    return rows


def metafor_timings(
    yi: np.ndarray, vi: np.ndarray, ks: list[int], args: argparse.Namespace, rows: dict[tuple[int, str], dict[str, Any]]
) -> dict[str, Any]:
    """Time metafor's rma() on random subsets and add its agreement with alsmeta to ``rows``."""
    jobs = []
    for k in ks:
        jobs.append({"k": k, "method": "REML", "subsets": args.metafor_reml, "seed": 1, "tight": False})
        jobs.append({"k": k, "method": "DL", "subsets": args.metafor_dl, "seed": 2, "tight": False})
        jobs.append({"k": k, "method": "REML", "subsets": 300, "seed": 3, "tight": True})
    metafor = run_metafor(yi, vi, jobs)
    for job in metafor.get("jobs", []):
        a = rows[(job["k"], job["method"])]
        agree = compare(job["subset"], job["estimate"], job["tau2"], a["gosh"], job["k"])
        if job["tight"]:
            a["metafor_tight"] = agree
        else:
            a["metafor"] = {"per_fit": job["seconds"] / job["n"], "n": job["n"], **agree}
    return metafor


def print_timings(rows: dict[tuple[int, str], dict[str, Any]]) -> None:
    """One line per (k, method): alsmeta's time per fit and each other tool's ratio to it."""
    print(
        f"{'k':>3} {'method':<6} {'fits':>9} {'alsmeta':>9} {'per fit':>9} {'peak':>8} | {'1-fit loop':>18} |"
        f" {'statsmodels':>18} | {'metafor gosh()':>18} | {'pimeta gosh()':>18}"
    )

    def col(a: dict[str, Any], name: str) -> str:
        x = a.get(name)
        if not x or "per_fit" not in x:
            return f"{'-':>18}"
        return f"{us(x['per_fit']):>10} {x['per_fit'] / a['per_fit']:>6.0f}x"

    for (k, method), a in rows.items():
        print(
            f"{k:>3} {method:<6} {a['fits']:>9,} {a['seconds']:>8.2f}s {us(a['per_fit']):>9} "
            f"{a['peak_mib']:>5.0f}MiB | {col(a, 'loop')} | {col(a, 'statsmodels')} | {col(a, 'metafor')} | "
            f"{col(a, 'pimeta')}"
        )
    print(
        "\nratios: (their time per fit) / (alsmeta's time per fit), same k, same data, this run;"
        " 'peak' is the traced peak memory of alsmeta's gosh()"
    )
    print(f"process peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


def print_agreement(rows: dict[tuple[int, str], dict[str, Any]]) -> None:
    """One line per (k, method): how closely every other tool agrees with alsmeta on the same subsets."""
    print("\nagreement (same subsets):")
    for (k, method), a in rows.items():
        parts = [
            f"loop identical bit for bit {a['loop']['identical']}/{a['loop']['n']}",
            f"share of subsets at tau2 = 0: {a['zero_share']:.2f}",
        ]
        sm = a.get("statsmodels")
        if sm and "d_est" in sm:
            parts.append(
                f"statsmodels max rel d(estimate) {sm['d_est']:.1e}, max |d tau2| {sm['d_tau2']:.1e}"
                + (f" ({sm['negative']} rows with its untruncated tau2 < 0 excluded)" if sm["negative"] else "")
            )
        for key, label in (
            ("metafor", "metafor (defaults)"),
            ("metafor_tight", "metafor (threshold 1e-12)"),
            ("pimeta", "pimeta"),
        ):
            x = a.get(key)
            if not x:
                continue
            pre = "agree_" if key == "pimeta" else ""
            parts.append(
                f"{label} max rel d(estimate) {x[pre + 'd_est']:.1e}, max |d tau2| {x[pre + 'd_tau2']:.1e}"
                + (f" ({x[pre + 'multimodal']} multimodal rows excluded)" if x[pre + "multimodal"] else "")
            )
        print(f"  k = {k:<2} {method:<4}  " + "; ".join(parts))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ks", default="12,16,20", help="numbers of studies (default 12,16,20)")
    ap.add_argument("--quick", action="store_true", help="k = 12, 16 and small samples")
    ap.add_argument("--loop", type=int, default=1000, help="subsets in the single-fit and statsmodels loops")
    ap.add_argument("--metafor-reml", type=int, default=1000, help="random subsets timed in metafor, REML")
    ap.add_argument("--metafor-dl", type=int, default=20000, help="random subsets timed in metafor, DL")
    ap.add_argument("--pimeta", type=int, default=3000, help="random subsets timed in pimeta")
    ap.add_argument("--no-r", action="store_true", help="skip metafor")
    ap.add_argument("--no-install", action="store_true", help="do not install pimeta when it is missing")
    args = ap.parse_args(argv)
    ks = [12, 16] if args.quick else [int(x) for x in args.ks.split(",")]
    if args.quick:
        args.loop, args.metafor_reml, args.metafor_dl, args.pimeta = 200, 200, 2000, 500
    yi, vi = make_data(max(20, max(ks)))

    print(
        f"alsmeta {am.__version__} GOSH benchmark - numpy {np.__version__}, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs ({platform.machine()})"
    )
    print(f"data: {len(yi)} simulated SMDs (seed {SEED}); GOSH at k uses the first k studies; all subsets fitted\n")
    pimeta, pimeta_status = import_pimeta(not args.no_install)
    rows = python_timings(yi, vi, ks, ["REML", "DL", "PM"], args, pimeta)
    metafor = {"skipped": "--no-r"} if args.no_r else metafor_timings(yi, vi, ks, args, rows)
    print_timings(rows)
    print_agreement(rows)
    version = getattr(pimeta, "__version__", "") if pimeta else ""
    print(
        f"\nmetafor: {metafor.get('metafor', metafor.get('skipped'))}; pimeta: "
        + " ".join(x for x in (version, pimeta_status) if x)
    )
    print(
        "statsmodels: "
        + (
            importlib.import_module("statsmodels").__version__
            if importlib.util.find_spec("statsmodels")
            else "not installed"
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
