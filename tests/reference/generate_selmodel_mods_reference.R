# Selection models on meta-regression fits: selmodel(rma(yi, vi, mods = ~ x), type = ...).
#
# metafor refits the model by ML (keeping a fixed tau2, and EE as EE), optimises the selection likelihood
# with the location X %*% beta (non-dummy moderator columns standardised while optimising, as its
# control scaleX = TRUE), and takes SEs from the numerical Hessian (numDeriv, r = 6) in that standardised
# parametrisation, transformed back. This script records those fits with tight controls:
#   rma(): threshold = 1e-12, tol = 1e-12, maxiter = 1000
#   selmodel(): optim/BFGS with reltol = 1e-14, maxit = 10000; for the continuous types the integral at
#   intCtrl rel.tol = 1e-12 (falling back to 1e-11, then 1e-10 where integrate() fails; recorded per fit).
#
# Data: dat.bcg (log risk ratios, escalc("RR")) with mods ablat (and ablat + alloc, a factor) and
# dat.hackshaw1998 (log odds ratios as given) with mods year. The inputs (yi, vi, the design matrix X
# and its column names) are written with each case, so the tests need neither R nor metadat.
#
# Usage (from the repository root; needs r-cran-numderiv):
#   Rscript tests/reference/generate_selmodel_mods_reference.R tests/reference/metafor_selmodel_mods.json
suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})
script_dir <- dirname(normalizePath(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))))
source(file.path(script_dir, "json_exact.R"))
args <- commandArgs(trailingOnly = TRUE)
out_file <- if (length(args) >= 1) args[1] else "tests/reference/metafor_selmodel_mods.json"
rma_ctrl <- list(threshold = 1e-12, tol = 1e-12, maxiter = 1000)

bcg <- escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
hack <- dat.hackshaw1998
data_sets <- list(bcg = bcg, hackshaw = hack)
formulas <- list(ablat = ~ ablat, ablat_alloc = ~ ablat + alloc, year = ~ year)

# Every continuous case has its delta inside its bounds: with dat.bcg ~ ablat, halfnorm, negexp and logistic put
# delta on its bound 0 for alternative = "less" (no selection), where BFGS on the log scale runs on for
# thousands of iterations and the Hessian SE of delta means nothing; they are fitted with "greater" instead.
cases <- list()
add <- function(...) cases[[length(cases) + 1]] <<- list(...)
for (st in list(c(0.025, 1), c(0.05, 0.5, 1))) {
  add(d = "bcg", mods = "ablat", method = "REML", type = "stepfun", alternative = "less", steps = st)
  add(d = "hackshaw", mods = "year", method = "REML", type = "stepfun", alternative = "greater", steps = st)
}
for (tp in c("beta", "power")) add(d = "bcg", mods = "ablat", method = "REML", type = tp, alternative = "less")
for (tp in c("halfnorm", "negexp", "logistic")) add(d = "bcg", mods = "ablat", method = "REML", type = tp, alternative = "greater")
for (tp in c("beta", "halfnorm", "negexp", "logistic", "power")) {
  add(d = "hackshaw", mods = "year", method = "REML", type = tp, alternative = "greater")
}
add(d = "hackshaw", mods = "year", method = "REML", type = "halfnorm", alternative = "two.sided")
add(d = "hackshaw", mods = "year", method = "REML", type = "negexp", alternative = "greater", steps = 0.05)
add(d = "bcg", mods = "ablat", method = "REML", type = "stepfun", alternative = "two.sided", steps = c(0.05, 1))
add(d = "bcg", mods = "ablat_alloc", method = "REML", type = "stepfun", alternative = "less", steps = c(0.025, 1))
add(d = "bcg", mods = "ablat", method = "ML", type = "power", alternative = "less")
add(d = "bcg", mods = "ablat", method = "EE", type = "stepfun", alternative = "less", steps = c(0.025, 1))
add(d = "bcg", mods = "ablat", method = "EE", type = "power", alternative = "less")
add(d = "bcg", mods = "ablat", method = "REML", tau2 = 0.05, type = "stepfun", alternative = "less", steps = c(0.025, 1))

run_case <- function(sc) {
  dd <- data_sets[[sc$d]]
  fargs <- list(yi = dd$yi, vi = dd$vi, mods = formulas[[sc$mods]], data = dd, method = sc$method, control = rma_ctrl)
  if (!is.null(sc$tau2)) fargs$tau2 <- sc$tau2
  f <- do.call(rma, fargs)
  continuous <- sc$type != "stepfun"
  tried <- character(0)
  for (rt in if (continuous) c(1e-12, 1e-11, 1e-10) else NA) {
    ctrl <- list(optimizer = "optim", optmethod = "BFGS", reltol = 1e-14, maxit = 10000)
    if (continuous) ctrl$intCtrl <- list(rel.tol = rt, subdivisions = 1000L)
    sargs <- list(f, type = sc$type, alternative = sc$alternative, control = ctrl)
    if (!is.null(sc$steps)) sargs$steps <- sc$steps
    r <- capture(do.call(selmodel, sargs))
    if (is.null(r$error)) break
    tried <- c(tried, sprintf("rel.tol=%g: %s", rt, r$error))
  }
  # metafor's own LRT for tau2 = 0 refits with the moderators no longer scaled but from the scaled start values
  # (selmodel.rma.uni restores X before the heterogeneity test): on dat.hackshaw1998 ~ year (raw years) that
  # BFGS run stops far from the maximum (LRT 57.7 instead of 2.02) or fails (LRT NA). The fit with tau2 = 0
  # fixed through selmodel's own tau2 argument is optimised like the main fit; its log-likelihood is recorded.
  r0 <- NULL
  if (is.null(r$error) && sc$method != "EE" && is.null(sc$tau2)) {
    r0 <- capture(do.call(selmodel, c(sargs, list(tau2 = 0))))
  }
  body <- if (is.null(r$error)) {
    s <- r$value
    list(beta = vec(s$beta), se = vec(s$se), zval = vec(s$zval), pval = vec(s$pval), ci_lb = vec(s$ci.lb),
         ci_ub = vec(s$ci.ub), vb = lapply(seq_len(nrow(s$vb)), function(i) vec(s$vb[i, ])),
         QM = num(s$QM), QMdf = num(s$QMdf[1]), QMp = num(s$QMp),
         tau2 = num(s$tau2), se_tau2 = num(s$se.tau2),
         delta = vec(s$delta), se_delta = vec(s$se.delta), ci_lb_delta = vec(s$ci.lb.delta),
         ci_ub_delta = vec(s$ci.ub.delta), steps = vec(s$steps),
         ptable_k = if (is.data.frame(s$ptable)) vec(s$ptable$k) else NULL,
         logLik = num(s$ll), logLik_no_selection = num(s$ll0), LRT = num(s$LRT), LRTdf = num(s$LRTdf),
         LRTp = num(s$LRTp), LRT_tau2 = num(s$LRT.tau2), LRTp_tau2 = num(s$LRTp.tau2),
         logLik_tau2_zero = if (is.null(r0) || !is.null(r0$error)) NULL else num(r0$value$ll),
         tau2_zero_fit = if (is.null(r0)) NULL else list(error = r0$error, warnings = r0$warnings,
                                                         beta = vec(r0$value$beta), delta = vec(r0$value$delta)))
  } else list(failed = TRUE, error = r$error)
  X <- model.matrix(f)
  out <- c(
    list(dataset = sc$d, mods = sc$mods, fit_method = sc$method, tau2_fixed = if (is.null(sc$tau2)) NULL else sc$tau2,
         type = sc$type, alternative = sc$alternative,
         steps_requested = if (is.null(sc$steps)) NULL else vec(sc$steps),
         int_rel_tol = if (continuous) ctrl$intCtrl$rel.tol else NULL, control_failures = I(tried),
         call = sprintf("selmodel(rma(yi, vi, mods=%s, method=\"%s\"%s), type=\"%s\", alternative=\"%s\"%s, control=...)",
                        deparse(formulas[[sc$mods]]), sc$method, if (is.null(sc$tau2)) "" else sprintf(", tau2=%g", sc$tau2),
                        sc$type, sc$alternative,
                        if (is.null(sc$steps)) "" else paste0(", steps=c(", paste(sc$steps, collapse = ", "), ")")),
         yi = vec(dd$yi), vi = vec(dd$vi), terms = I(colnames(X)),
         X = lapply(seq_len(nrow(X)), function(i) vec(X[i, ]))),
    body, list(warnings = r$warnings, messages = r$messages))
  cat(format(Sys.time(), "%H:%M:%S"), sc$d, sc$mods, sc$method, sc$type, sc$alternative,
      if (is.null(r$error)) "ok" else r$error, "\n")
  out
}
# two cases at a time (each fit is single-threaded; the order of the output is that of cases)
out_cases <- parallel::mclapply(cases, run_case, mc.cores = 2L, mc.preschedule = FALSE)

out <- c(versions(), list(
  numderiv_version = as.character(packageVersion("numDeriv")),
  generator = "tests/reference/generate_selmodel_mods_reference.R",
  generated_utc = format(Sys.time(), "%Y-%m-%dT%H:%M:%SZ", tz = "UTC"),
  rma_control = rma_ctrl,
  selmodel_control = list(optimizer = "optim", optmethod = "BFGS", reltol = 1e-14, maxit = 10000),
  notes = I(c("Each case carries its inputs: yi, vi, the design matrix X (rows) and its column names terms.",
              "Continuous types: intCtrl rel.tol as recorded in int_rel_tol (1e-12, else 1e-11, else 1e-10).",
              "vb is the covariance matrix of the coefficients (rows), as selmodel's vb.",
              "logLik_tau2_zero: selmodel(..., tau2 = 0)$ll, the maximum with tau2 fixed at 0 (metafor's LRT_tau2 with moderators comes from a refit that can stop early; see the script).")),
  cases = out_cases))
write_exact_json(out, out_file)
cat("wrote", out_file, "\n")
