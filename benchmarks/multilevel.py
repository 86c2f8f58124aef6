"""Three-level model and cluster-robust inference: alsmeta against metafor / clubSandwich.

Run with ``.venv/bin/python benchmarks/multilevel.py`` (``--repeat N`` for the
number of timed repetitions, default 5). No Python package offers this model:
statsmodels' ``MixedLM`` estimates the residual variance instead of taking the
known sampling variances ``vi``, so it is a different model and is not timed
(PyMARE has no multilevel model). The peer is therefore R: metafor's
``rma.mv(yi, vi, random = ~ 1 | study/effect)``, ``robust(fit, cluster)``
(CR1) and ``robust(fit, cluster, clubSandwich = TRUE)`` (CR2), through Rscript
when R, metafor and clubSandwich are installed (skipped cleanly otherwise).

Data: dat.konstantopoulos2011 (k = 56, 11 districts) and dat.assink2016
(k = 100, 17 studies), read from tests/reference/metafor_multilevel.json, and a
seeded simulated set of 300 effects in 80 studies. Times are per fit (best of
the repetitions for alsmeta; R's mean over the same number of repetitions),
measured in the same run; the printed ratio is metafor time / alsmeta time.
The numbers of both are compared (largest relative difference). Nothing is
written to disk except temporary files for R.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

import alsmeta as am

sys.path.insert(0, str(Path(__file__).resolve().parent))
from rscript import run_r_json  # the benchmarks' shared R runner, beside this script

HERE = Path(__file__).resolve().parent
REFERENCE = HERE.parent / "tests" / "reference" / "metafor_multilevel.json"
SEED = 20261205

R_SCRIPT = r"""
suppressPackageStartupMessages({library(metafor); library(clubSandwich); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
sets <- fromJSON(args[1], simplifyVector = TRUE)
reps <- as.integer(args[3])
ctrl <- list(rel.tol = 1e-10, iter.max = 1000)
out <- list()
for (nm in names(sets)) {
  d <- as.data.frame(sets[[nm]])
  t_fit <- system.time(for (i in seq_len(reps))
    fit <- rma.mv(yi, vi, random = ~ 1 | study/effect, data = d, control = ctrl))[["elapsed"]] / reps
  t_cr1 <- system.time(for (i in seq_len(reps)) r1 <- robust(fit, cluster = d$study))[["elapsed"]] / reps
  t_cr2 <- system.time(for (i in seq_len(reps))
    r2 <- robust(fit, cluster = d$study, clubSandwich = TRUE))[["elapsed"]] / reps
  out[[nm]] <- list(t_fit = t_fit, t_cr1 = t_cr1, t_cr2 = t_cr2, sigma2 = fit$sigma2,
                    beta = as.numeric(fit$beta), se = as.numeric(fit$se), se_cr1 = as.numeric(r1$se),
                    se_cr2 = as.numeric(r2$se), df_cr2 = as.numeric(r2$ddf))
}
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE), args[2])
"""


def simulated(seed: int = SEED, n_studies: int = 80, k: int = 300) -> dict[str, list[Any]]:
    """80 studies with 1 to 7 effects (300 in all), sigma2 = (0.05, 0.02), vi from 0.01 to 0.2."""
    rng = np.random.default_rng(seed)
    sizes = np.ones(n_studies, dtype=int)
    extra = rng.choice(n_studies, size=k - n_studies, replace=True)
    np.add.at(sizes, extra, 1)
    sizes = np.minimum(sizes, 7)
    study = [f"s{i}" for i, n in enumerate(sizes) for _ in range(n)]
    u = np.repeat(rng.normal(0, np.sqrt(0.05), n_studies), sizes)
    vi = rng.uniform(0.01, 0.2, len(study))
    yi = 0.2 + u + rng.normal(0, np.sqrt(0.02), len(study)) + rng.normal(0, np.sqrt(vi))
    return {"yi": yi.tolist(), "vi": vi.tolist(), "study": study, "effect": [str(i) for i in range(len(study))]}


def data_sets() -> dict[str, dict[str, list[Any]]]:
    ref = json.loads(REFERENCE.read_text())
    out = {}
    for ds in ref["datasets"]:
        if ds["name"] in ("dat.konstantopoulos2011", "dat.assink2016"):
            out[ds["name"]] = {key: ds[key] for key in ("yi", "vi", "study", "effect")}
    out["simulated (k = 300)"] = simulated()
    return out


def best_time(fn: Any, repeat: int) -> tuple[float, Any]:
    best, value = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        value = fn()
        best = min(best, time.perf_counter() - t0)
    return best, value


def run_alsmeta(d: dict[str, list[Any]], repeat: int) -> dict[str, Any]:
    t_fit, fit = best_time(lambda: am.pool_multilevel(d["yi"], d["vi"], study=d["study"], effect=d["effect"]), repeat)
    t_cr1, r1 = best_time(lambda: am.robust(fit, d["study"], adjust="CR1"), repeat)
    t_cr2, r2 = best_time(lambda: am.robust(fit, d["study"], adjust="CR2"), repeat)
    return {
        "t_fit": t_fit,
        "t_cr1": t_cr1,
        "t_cr2": t_cr2,
        "sigma2": list(fit.sigma2),
        "beta": [fit.estimate],
        "se": [fit.se],
        "se_cr1": [r1.se],
        "se_cr2": [r2.se],
        "df_cr2": [r2.df],
    }


def run_metafor(sets: dict[str, dict[str, list[Any]]], repeat: int) -> dict[str, Any]:
    """metafor's and clubSandwich's numbers and times for ``sets``, or ``{"skipped": why}``."""
    return run_r_json(R_SCRIPT, sets, str(repeat))


def rel_diff(a: list[float], b: list[float]) -> float:
    x, y = np.asarray(a, float), np.asarray(b, float)
    return float(np.max(np.abs(x - y) / np.maximum(np.abs(y), 1e-8)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="timed repetitions per measurement")
    args = parser.parse_args(argv)
    sets = data_sets()
    ours = {name: run_alsmeta(d, args.repeat) for name, d in sets.items()}
    theirs = run_metafor(sets, args.repeat)
    print("Three-level REML fit (~ 1 | study/effect), robust CR1 and CR2 (clustered by study); ms per call")
    if "skipped" in theirs:
        print(f"metafor: skipped ({theirs['skipped']})")
    header = f"{'data':24s} {'step':5s} {'alsmeta':>9s} {'metafor':>9s} {'ratio':>7s}  max rel diff"
    print(header)
    print("-" * len(header))
    for name, o in ours.items():
        t = theirs.get(name, {})
        for step, keys in (("fit", ("sigma2", "beta", "se")), ("CR1", ("se_cr1",)), ("CR2", ("se_cr2", "df_cr2"))):
            mine = o[f"t_{step.lower()}"]
            other = t.get(f"t_{step.lower()}")
            diff = max(rel_diff(o[key], t[key]) for key in keys) if t else float("nan")
            ratio = f"{other / mine:7.1f}" if other else "      -"
            other_s = f"{1e3 * other:9.2f}" if other else "        -"
            print(f"{name:24s} {step:5s} {1e3 * mine:9.2f} {other_s} {ratio}  {diff:.1e}")
    print(
        "\nmetafor's time is the mean over the repetitions (R's system.time has 1 ms resolution);"
        " alsmeta's is the best of them."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
