"""Issue-18 methods: alsmeta against metafor, per call, same data, same controls, same run.

Run with ``.venv/bin/python benchmarks/methods_issue18.py`` (``--quick`` for a short run,
``--no-r`` to time alsmeta alone). For each method added in issue 18 that had no benchmark
(``benchmarks/sparse_mh.py`` times Mantel-Haenszel and Peto, ``benchmarks/multilevel.py`` the
three-level model with CR1/CR2), it times one call of alsmeta and of metafor 3.8-1 (through
Rscript, timed inside R so R's start-up is not counted) on the same data at several k:

* ``pool(yi, vi, weights=w)`` (REML, user weights) and ``pool(..., method="GENQ")`` against
  ``rma(yi, vi, weights=w, method=)``;
* ``tau2_ci(fit, method="qprofile" | "profile" | "bj")`` against ``confint(fit, type="QP" |
  "PL" | "GENQ")`` (the fit is made once, outside the timing; "bj" on a GENQ fit with weights
  1/v, whose tau^2 is DL's). confint(type="GENQ") passes no tolerance to uniroot(), so "bj" is
  also timed against the same algorithm with metafor's own objective and uniroot(tol = 1e-12),
  as tests/reference/generate_bj_reference.R;
* two ML fits and ``compare_models(full, reduced)`` (LRT, logLik, AIC, BIC, AICc) against two
  ``rma(method="ML")`` and ``anova(full, reduced)``;
* ``henmi_copas(fit)`` against ``hc(fit)``, and against metafor's own ``hc.rma.uni`` with
  integrate() at rel.tol 1e-13 (alsmeta's accuracy; hc() ignores its control there);
* ``robust(fit, cluster, adjust="CR2")`` on a REML ``pool`` fit against ``robust(fit, cluster,
  clubSandwich=TRUE)`` (clusters of three consecutive studies);
* ``selection_model(fit, type=)`` against ``selmodel(fit, type=)`` for the step function
  (cut point 0.025) and the halfnorm, negexp, logistic and power types, on the two reference
  sets of ``tests/reference/metafor_methods.json`` that metafor fits with tight controls
  (preston2004, k = 9, common effect, alternative "less"; dat.hackshaw1998, k = 37, REML,
  "greater"). The beta type is not timed: with tight integration metafor's fit fails on
  dat.hackshaw1998 (see tests/test_selection_types.py) and took 7 to 14 s on 20 simulated
  studies. On dat.hackshaw1998 only step and halfnorm are in the default run (metafor takes 15
  to 35 s per continuous fit there); ``--all-selection`` adds the others.

metafor runs with the tight controls of the reference generators (tests/reference), under
which both programs give the same numbers: ``rma`` threshold = tol = 1e-12, ``confint`` tol =
1e-12 with a large ``tau2.max``, ``hc`` tol = 1e-12, ``selmodel`` optim/BFGS reltol = 1e-14
with the density integrated to rel.tol 1e-12 (1e-11, 1e-10 where integrate() reports a
round-off problem; recorded). alsmeta runs with its defaults (tol = 1e-12).

Every row's numbers are compared before its ratio is printed: both programs must agree within
the tolerance of the matching reference test (relative 1e-6 for fits, intervals, LRTs and CR2;
absolute 5e-5 for hc() and 2e-4 for confint(type="GENQ"), their own integration and root-finding
error; for selection models the log-likelihood to 1e-6 absolute and the estimate, tau^2 and
delta to 1e-4 relative or 1e-4, 1e-5 and 1e-3 absolute: the maximum is flat). A row that does
not agree prints DIFFERENT and no ratio.

Timing: ``rounds`` rounds per call; a round runs the call n times (n chosen so a round lasts
about ``--budget`` seconds; one call for slow methods, whose first call is the first round)
and records the time per call. The
table shows the median over the rounds with the interquartile range. On a shared machine the
load drifts, so alsmeta's rounds are split: half before the R run, half after. The ratio is
metafor's median / alsmeta's median (above 1: alsmeta is faster). Nothing is written to disk
except temporary files for R. Tests never assert on time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

import alsmeta as am

sys.path.insert(0, str(Path(__file__).resolve().parent))
from rscript import run_r_json
from run import make_data  # the seeded standardised mean differences of the GOSH benchmark

REFERENCE = Path(__file__).resolve().parent.parent / "tests" / "reference" / "metafor_methods.json"
SEL_TYPES = ("step", "halfnorm", "negexp", "logistic", "power")
SEL_SETS = {"preston2004": ("CE", "less"), "dat.hackshaw1998": ("REML", "greater")}

R_SCRIPT = r"""
suppressPackageStartupMessages({library(metafor); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
jobs <- fromJSON(args[1], simplifyVector = FALSE)
budget <- as.numeric(args[3])
rma_ctrl <- list(threshold = 1e-12, tol = 1e-12, maxiter = 1000)
hc_ctrl <- list(tol = 1e-12, maxiter = 1000)
num <- function(x) as.numeric(unlist(x))
# metafor's own hc.rma.uni with integrate() at rel.tol 1e-13, as in tests/reference/generate_methods_reference.R
hc_fine <- metafor:::hc.rma.uni
hc_env <- new.env(parent = asNamespace("metafor"))
hc_env$integrate <- function(f, lower, upper, ...) {
  stats::integrate(f, lower, upper, rel.tol = 1e-13, abs.tol = 0, subdivisions = 10000L, ...)
}
environment(hc_fine) <- hc_env
# confint(type = "GENQ") ignores control$tol (uniroot's default, about 1.2e-4 absolute): the same algorithm
# with metafor's own objective and uniroot(tol = 1e-12), as tests/reference/generate_bj_reference.R
bj_fine <- function(yi, vi, hi, alpha = 0.05) {
  k <- length(yi); a <- 1 / vi; X <- cbind(rep(1, k))
  A <- diag(a, k, k)
  P <- A - A %*% X %*% solve(t(X) %*% A %*% X) %*% t(X) %*% A
  Q <- c(crossprod(yi, P) %*% yi)
  f <- function(t, lvl, low) metafor:::.GENQ.func(t, P = P, vi = vi, Q = Q, level = lvl, k = k, p = 1L, getlower = low)
  at0 <- f(0, 0, TRUE)
  if (at0 > 1 - alpha / 2) return(c(0, 0))
  ub <- uniroot(f, c(0, hi), lvl = alpha / 2, low = FALSE, tol = 1e-12, maxiter = 1000)$root
  lb <- if (at0 > alpha / 2) 0 else uniroot(f, c(0, hi), lvl = alpha / 2, low = TRUE, tol = 1e-12, maxiter = 1000)$root
  c(lb, ub)
}
sel_ctrl <- function(rt) list(optimizer = "optim", optmethod = "BFGS", reltol = 1e-14, maxit = 10000,
                              intCtrl = list(rel.tol = rt, subdivisions = 1000L))
# one call per round for slow calls; otherwise enough calls to fill the budget (elapsed has 1 ms resolution)
timed <- function(f, slow, rounds) {
  t0 <- proc.time()[["elapsed"]]; value <- f(); t1 <- proc.time()[["elapsed"]] - t0
  if (slow) {  # the first call is the first round
    per_call <- t1
    for (r in seq_len(rounds - 1L)) per_call <- c(per_call, system.time(f())[["elapsed"]])
    return(list(value = value, seconds = per_call, calls = 1L))
  }
  n <- max(1L, as.integer(budget / max(t1, 5e-4)))
  per_call <- numeric(rounds)
  for (r in seq_len(rounds)) {
    t0 <- proc.time()[["elapsed"]]
    for (i in seq_len(n)) f()
    per_call[r] <- (proc.time()[["elapsed"]] - t0) / n
  }
  list(value = value, seconds = per_call, calls = n)
}
run_job <- function(j) {
  yi <- num(j$yi); vi <- num(j$vi)
  ci_ctrl <- list(tol = 1e-12, maxiter = 1000, tau2.max = max(100, 1e5 * (var(yi) + max(vi))))
  kind <- j$kind; note <- ""
  timed_job <- function(f) timed(f, isTRUE(j$slow), as.integer(j$rounds))
  if (kind %in% c("weights", "genq")) {
    w <- num(j$w); m <- if (kind == "genq") "GENQ" else "REML"
    r <- timed_job(function() rma(yi, vi, weights = w, method = m, control = rma_ctrl))
    f <- r$value; vals <- list(estimate = f$beta[1], se = f$se, tau2 = f$tau2)
  } else if (kind %in% c("qprofile", "profile", "bj")) {
    f <- if (kind == "bj") rma(yi, vi, weights = 1 / vi, method = "GENQ", control = rma_ctrl)
         else rma(yi, vi, method = "REML", control = rma_ctrl)
    type <- c(qprofile = "QP", profile = "PL", bj = "GENQ")[[kind]]
    r <- timed_job(function() confint(f, type = type, control = ci_ctrl))
    ci <- r$value$random; vals <- list(ci_low = ci["tau^2", 2], ci_high = ci["tau^2", 3])
  } else if (kind == "bj_fine") {
    r <- timed_job(function() bj_fine(yi, vi, ci_ctrl$tau2.max))
    vals <- list(ci_low = r$value[1], ci_high = r$value[2])
  } else if (kind == "compare") {
    x <- num(j$x)
    r <- timed_job(function() {
      full <- rma(yi, vi, mods = ~ x, method = "ML", control = rma_ctrl)
      reduced <- rma(yi, vi, method = "ML", control = rma_ctrl)
      anova(full, reduced)
    })
    a <- r$value
    vals <- list(lrt = a$LRT, pvalue = a$pval, aic_full = a$fit.stats.f[["AIC"]],
                 aic_reduced = a$fit.stats.r[["AIC"]], bic_full = a$fit.stats.f[["BIC"]],
                 aicc_full = a$fit.stats.f[["AICc"]], loglik_reduced = a$fit.stats.r[["ll"]])
  } else if (kind %in% c("hc", "hc_fine")) {
    f <- rma(yi, vi, method = "DL", control = rma_ctrl)
    h <- if (kind == "hc") hc else hc_fine
    r <- timed_job(function() h(f, control = hc_ctrl))
    vals <- list(ci_low = r$value$ci.lb, ci_high = r$value$ci.ub)
  } else if (kind == "cr2") {
    suppressPackageStartupMessages(library(clubSandwich))
    f <- rma(yi, vi, method = "REML", control = rma_ctrl); cl <- num(j$cluster)
    r <- timed_job(function() robust(f, cluster = cl, clubSandwich = TRUE))
    vals <- list(se = r$value$se, df = r$value$ddf)
  } else if (kind == "selection") {
    f <- rma(yi, vi, method = if (j$method == "CE") "EE" else j$method, control = rma_ctrl)
    a <- list(f, type = if (j$type == "step") "stepfun" else j$type, alternative = j$alternative)
    if (j$type == "step") a$steps <- 0.025
    for (rt in c(1e-12, 1e-11, 1e-10)) {
      ok <- tryCatch({do.call(selmodel, c(a, list(control = sel_ctrl(rt)))); TRUE}, error = function(e) FALSE)
      if (ok) break
    }
    if (j$type != "step") note <- sprintf("integrate rel.tol %g", rt)
    r <- timed_job(function() suppressWarnings(do.call(selmodel, c(a, list(control = sel_ctrl(rt))))))
    s <- r$value
    vals <- list(estimate = s$beta[1], tau2 = s$tau2, loglik = s$ll, delta = s$delta)
  } else stop("unknown kind ", kind)
  list(id = j$id, seconds = r$seconds, calls = r$calls, values = lapply(vals, as.numeric), note = note)
}
out <- lapply(jobs, function(j) tryCatch(run_job(j), error = function(e) list(id = j$id, error = conditionMessage(e))))
versions <- list(metafor = as.character(packageVersion("metafor")),
                 r = paste(R.version$major, R.version$minor, sep = "."))
writeLines(toJSON(c(list(jobs = out), versions), digits = NA, auto_unbox = TRUE), args[2])
"""


@dataclass
class Job:
    """One timed call: alsmeta's, metafor's (``kind`` and the data sent to R), and how to compare them."""

    id: str
    method: str
    data: str
    k: int
    kind: str
    call: Callable[[], Any]
    values: Callable[[Any], dict[str, Any]]
    r_args: dict[str, Any]
    rtol: float = 1e-6
    atol: dict[str, float] = field(default_factory=dict)
    slow: bool = False
    rounds: int = 7
    calls: int = 1
    ours: list[float] = field(default_factory=list)
    result: Any = None


def fit_values(fit: Any) -> dict[str, Any]:
    return {"estimate": fit.estimate, "se": fit.se, "tau2": fit.tau2}


def ci_values(ci: Any) -> dict[str, Any]:
    return {"ci_low": ci.ci_low, "ci_high": ci.ci_high}


def lrt_values(c: Any) -> dict[str, Any]:
    names = ("lrt", "pvalue", "aic_full", "aic_reduced", "bic_full", "aicc_full", "loglik_reduced")
    return {name: getattr(c, name) for name in names}


def robust_values(r: Any) -> dict[str, Any]:
    return {"se": r.se, "df": r.df}


def selection_values(s: Any) -> dict[str, Any]:
    return {"estimate": s.estimate, "tau2": s.tau2, "loglik": s.loglik, "delta": s.delta}


def two_ml_fits_and_lrt(yi: np.ndarray, vi: np.ndarray, x: np.ndarray) -> Any:
    return am.compare_models(am.meta_regression(yi, vi, x, method="ML"), am.pool(yi, vi, method="ML"))


def jobs_at(k: int, fast: bool, bj: bool) -> list[Job]:
    """Weights, GENQ, tau^2 intervals, LRT, Henmi-Copas and CR2 (``fast``) and BJ (``bj``) on k seeded SMDs."""
    yi, vi = make_data(k)
    n_total = np.round(2 * (2 + 0.3**2 / 4) / vi)  # both arms: make_data's variances come from n per arm
    x = np.random.default_rng(k).uniform(0, 1, k)
    cluster = (np.arange(k) // 3).tolist()
    reml, dl = am.pool(yi, vi), am.pool(yi, vi, method="DL")
    genq = am.pool(yi, vi, weights=1 / vi, method="GENQ")  # tau^2 is DL's; metafor's GENQ interval needs it
    jobs: list[Job] = []

    def add(
        method: str, kind: str, call: Callable[[], Any], values: Callable[[Any], dict[str, Any]], **kw: Any
    ) -> None:
        r_args = {"yi": yi.tolist(), "vi": vi.tolist(), **kw.pop("r", {})}
        jobs.append(Job(f"{kind}-{k}", method, "simulated SMD", k, kind, call, values, r_args, **kw))

    if fast:
        w = n_total.tolist()
        add("pool(weights=n), REML", "weights", partial(am.pool, yi, vi, weights=w), fit_values, r={"w": w})
        add(
            "pool(weights=n, method='GENQ')",
            "genq",
            partial(am.pool, yi, vi, weights=w, method="GENQ"),
            fit_values,
            r={"w": w},
        )
        add("tau2_ci qprofile (REML)", "qprofile", partial(am.tau2_ci, reml, "qprofile"), ci_values)
        add("tau2_ci profile (REML)", "profile", partial(am.tau2_ci, reml, "profile"), ci_values)
        add(
            "2 ML fits + compare_models",
            "compare",
            partial(two_ml_fits_and_lrt, yi, vi, x),
            lrt_values,
            r={"x": x.tolist()},
        )
        hc_tol = {"ci_low": 5e-5, "ci_high": 5e-5}
        add("henmi_copas vs hc()", "hc", partial(am.henmi_copas, dl), ci_values, atol=hc_tol)
        add("henmi_copas vs hc(), integrate 1e-13", "hc_fine", partial(am.henmi_copas, dl), ci_values, rtol=1e-9)
        robust = partial(am.robust, reml, cluster, adjust="CR2")
        add("robust CR2 (REML pool, 3 per cluster)", "cr2", robust, robust_values, r={"cluster": cluster})
    if bj:
        bj_call, tol = partial(am.tau2_ci, genq, "bj"), {"ci_low": 2e-4, "ci_high": 2e-4}
        add("tau2_ci bj vs confint(type='GENQ')", "bj", bj_call, ci_values, atol=tol, slow=k >= 40)
        add("tau2_ci bj vs GENQ, uniroot tol 1e-12", "bj_fine", bj_call, ci_values, slow=k >= 40)
    return jobs


def selection_jobs(every_type: bool) -> list[Job]:
    """Selection models on the two reference sets metafor fits with tight controls.

    Every type on preston2004 (k = 9); on dat.hackshaw1998 (k = 37) the step function and halfnorm
    only, unless ``every_type`` (metafor takes 15 to 35 s per continuous fit there).
    """
    ref = {d["name"]: d for d in json.loads(REFERENCE.read_text())["datasets"]}
    jobs = []
    tol = {"loglik": 1e-6, "estimate": 1e-4, "tau2": 1e-5, "delta": 1e-3}
    for name, (method, alternative) in SEL_SETS.items():
        yi, vi = np.asarray(ref[name]["yi"], float), np.asarray(ref[name]["vi"], float)
        fit = am.pool(yi, vi, method=method)
        r_args = {"yi": yi.tolist(), "vi": vi.tolist(), "method": method, "alternative": alternative}
        for sel_type in SEL_TYPES if every_type or name == "preston2004" else SEL_TYPES[:2]:
            steps = 0.025 if sel_type == "step" else None
            call = partial(am.selection_model, fit, steps, alternative, sel_type)
            label, job_id = f"selection_model {sel_type}", f"selection-{sel_type}-{name}"
            job = Job(job_id, label, name, len(yi), "selection", call, selection_values, {**r_args, "type": sel_type})
            job.rtol, job.atol, job.slow = 1e-4, tol, True
            jobs.append(job)
    return jobs


def time_ours(job: Job, rounds: int, budget: float) -> None:
    """Append ``rounds`` per-call times (seconds) of alsmeta's call to ``job.ours``.

    The first time, one untimed call keeps the result (compared with metafor's) and sets the
    number of calls per round: enough to last about ``budget`` seconds; a slow call is called once
    per round and its first call is the first round.
    """
    if job.result is None:
        t0 = time.perf_counter()
        job.result = job.call()
        first = time.perf_counter() - t0
        if job.slow:  # the first call is the first round
            job.ours.append(first)
            rounds -= 1
        else:
            job.calls = max(1, int(budget / max(first, 1e-6)))
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(job.calls):
            job.call()
        job.ours.append((time.perf_counter() - t0) / job.calls)


def run_metafor(jobs: list[Job], budget: float) -> dict[str, Any]:
    """Every job's per-round times and values from R, keyed by id; or {"skipped": why}."""
    payload = [{"id": j.id, "kind": j.kind, "slow": j.slow, "rounds": j.rounds, **j.r_args} for j in jobs]
    result = run_r_json(R_SCRIPT, payload, str(budget))
    if "skipped" in result:
        return result
    return {"by_id": {j["id"]: j for j in result["jobs"]}, "version": f"metafor {result['metafor']}, R {result['r']}"}


def agreement(job: Job, theirs: dict[str, Any]) -> tuple[float, bool]:
    """Largest relative difference over the compared values, and whether all are within tolerance.

    A value agrees when ``|ours - theirs| <= rtol |theirs| + atol`` (atol per value, default 1e-12).
    """
    ours = job.values(job.result)
    worst, ok = 0.0, True
    for name, value in ours.items():
        a = np.atleast_1d(np.asarray(value, float))
        b = np.atleast_1d(np.asarray(theirs.get(name, np.nan), float))
        if a.shape != b.shape or not np.all(np.isfinite(a) == np.isfinite(b)):
            return float("nan"), False
        a, b = a[np.isfinite(a)], b[np.isfinite(b)]
        diff = np.abs(a - b)
        worst = max(worst, float(np.max(diff / np.maximum(np.abs(b), 1e-12), initial=0.0)))
        ok &= bool(np.all(diff <= job.rtol * np.abs(b) + job.atol.get(name, 1e-12)))
    return worst, ok


def spread(seconds: list[float]) -> str:
    """Median and interquartile range, in a unit that suits them."""
    q1, med, q3 = np.percentile(seconds, [25, 50, 75])
    scale, unit = (1e3, "ms") if med < 1 else (1.0, "s")
    return f"{med * scale:8.2f} {unit} ({q1 * scale:.2f}-{q3 * scale:.2f})"


def load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def print_table(jobs: list[Job], metafor: dict[str, Any], rounds: int, slow_rounds: int) -> None:
    by_id = metafor.get("by_id", {})
    print(
        f"\nper call, median (interquartile range) of {rounds} rounds ({slow_rounds} for the slow calls);"
        " ratio = metafor / alsmeta"
    )
    head = f"{'method':38s} {'data':18s} {'k':>4s} {'alsmeta':>27s} {'metafor':>27s} {'ratio':>8s}  agreement"
    print(head)
    print("-" * len(head))
    for job in jobs:
        r = by_id.get(job.id, {})
        if "seconds" in r:
            worst, ok = agreement(job, r["values"])
            theirs = spread(r["seconds"])
            ratio = f"{np.median(r['seconds']) / np.median(job.ours):7.3g}x" if ok else "       -"
            verdict = f"max rel diff {worst:.1e}" + ("" if ok else "  DIFFERENT")
            if r.get("note"):
                verdict += f"  ({r['note']})"
        else:
            theirs, ratio, verdict = f"{'-':>27s}", "       -", r.get("error", metafor.get("skipped", "not run"))
        print(f"{job.method:38s} {job.data:18s} {job.k:4d} {spread(job.ours):>27s} {theirs:>27s} {ratio}  {verdict}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="k = 10, 40; 3 rounds; no selection models")
    ap.add_argument("--ks", default="10,40,160", help="numbers of studies (default 10,40,160)")
    ap.add_argument("--bj-ks", default="10,40", help="k for the Biggerstaff-Jackson interval (default 10,40)")
    ap.add_argument("--rounds", type=int, default=7, help="timed rounds per call (default 7)")
    ap.add_argument("--slow-rounds", type=int, default=3, help="rounds for calls of a second or more (default 3)")
    ap.add_argument("--budget", type=float, default=0.1, help="seconds per round of a fast call (default 0.1)")
    ap.add_argument("--no-r", action="store_true", help="time alsmeta only")
    ap.add_argument("--no-selection", action="store_true", help="leave out the selection models")
    ap.add_argument(
        "--all-selection", action="store_true", help="every selection type on dat.hackshaw1998 too (adds ~4 min)"
    )
    args = ap.parse_args(argv)
    if args.quick:
        args.ks, args.bj_ks, args.rounds, args.slow_rounds, args.budget = "10,40", "10,40", 3, 2, 0.03
        args.no_selection = True
    ks, bj_ks = [int(x) for x in args.ks.split(",")], [int(x) for x in args.bj_ks.split(",")]
    jobs = [job for k in sorted(set(ks) | set(bj_ks)) for job in jobs_at(k, k in ks, k in bj_ks)]
    jobs += [] if args.no_selection else selection_jobs(args.all_selection)
    for job in jobs:
        job.rounds = args.slow_rounds if job.slow else args.rounds

    print(
        f"alsmeta {am.__version__}, numpy {np.__version__}, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs ({platform.processor() or platform.machine()}); load average {load()}"
    )
    t_start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for job in jobs:
            time_ours(job, (job.rounds + 1) // 2, args.budget)
        metafor = {"skipped": "--no-r"} if args.no_r else run_metafor(jobs, args.budget)
        for job in jobs:
            time_ours(job, job.rounds // 2, args.budget)
    print_table(jobs, metafor, args.rounds, args.slow_rounds)
    print(
        f"\npeer: {metafor.get('version', metafor.get('skipped'))}; load average {load()}; "
        f"whole run {time.perf_counter() - t_start:.0f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
