# Reference values from R metafor 3.8-1 (and clubSandwich, through metafor's robust()) for the
# diagnostics of fits with user weights: leave1out(), cumul(), influence() and robust() of
# rma(yi, vi, weights = a, method = m, test = t), and influence() and robust() of
# rma(yi, vi, mods = ~ x, weights = a, method = m, test = t).
#
# Usage (from the repository root):
#   Rscript tests/reference/generate_weighted_diagnostics_reference.R \
#     tests/reference/metafor_weighted_diagnostics.json
#
# Needs r-base-core, r-cran-metafor, r-cran-metadat, r-cran-jsonlite and clubSandwich (CR2 with
# Satterthwaite df, metafor's robust(clubSandwich = TRUE)). Every input is stored in the JSON
# (`datasets`), so the Python tests need neither R nor metadat. Numbers are exact doubles
# (json_exact.R); NA is null.
suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
  library(clubSandwich)
})
local({
  script_dir <- dirname(normalizePath(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))))
  source(file.path(script_dir, "json_exact.R"), local = globalenv())
})

args <- commandArgs(trailingOnly = TRUE)
out_file <- if (length(args) >= 1) args[1] else "tests/reference/metafor_weighted_diagnostics.json"

rma_ctrl <- list(threshold = 1e-12, tol = 1e-12, maxiter = 1000)
arr <- function(x) I(as.numeric(x))

bcg <- escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
# the hand-made ALS-like set of generate_regression_weights_reference.R (not real data)
als <- data.frame(
  yi = c(0.82, -0.25, 0.31, -0.38, 0.93, 0.05),
  vi = c(0.081, 0.125, 0.210, 0.095, 0.160, 0.058),
  log10_dose = c(7.0, 6.3, 8.0, 6.0, 7.5, 6.7),
  n_total = c(48, 32, 20, 44, 26, 70))
datasets <- list(
  dat.bcg = list(yi = arr(bcg$yi), vi = arr(bcg$vi), mod = arr(bcg$ablat), mod_name = "ablat",
                 weights = arr(with(dat.bcg, tpos + tneg + cpos + cneg)),
                 cluster = arr(ceiling(seq_len(nrow(bcg)) / 2))),
  als.small = list(yi = arr(als$yi), vi = arr(als$vi), mod = arr(als$log10_dose), mod_name = "log10_dose",
                   weights = arr(als$n_total), cluster = arr(c(1, 1, 2, 2, 3, 4))))

rows <- function(r) {
  list(estimate = arr(r$estimate), se = arr(r$se), zval = arr(if (is.null(r$zval)) r$tval else r$zval), pval = arr(r$pval),
       ci_lb = arr(r$ci.lb), ci_ub = arr(r$ci.ub), Q = arr(r$Q), Qp = arr(r$Qp), tau2 = arr(r$tau2),
       I2 = arr(r$I2), H2 = arr(r$H2))
}
infl <- function(f) {
  r <- influence(f)
  i <- r$inf
  list(rstudent = arr(i$rstudent), dffits = arr(i$dffits), cook_d = arr(i$cook.d), cov_r = arr(i$cov.r),
       tau2_del = arr(i$tau2.del), q_del = arr(i$QE.del), hat = arr(i$hat), weight = arr(i$weight),
       inf = I(as.logical(i$inf == "*")),
       dfbetas = lapply(seq_len(length(coef(f))), function(j) arr(r$dfbs[[j]])))
}
rob <- function(r) {
  list(beta = arr(r$beta), se = arr(r$se), tval = arr(r$zval), df = arr(r$dfs), pval = arr(r$pval),
       ci_lb = arr(r$ci.lb), ci_ub = arr(r$ci.ub))
}
# clubSandwich looks the cluster and the fit's data up again by name, so both live in the global
# environment (a data frame `cur` with the columns, a vector `cl`) when robust() is called
robust_all <- function(f) {
  list(CR0 = rob(robust(f, cluster = cl, adjust = FALSE)),
       CR1 = rob(robust(f, cluster = cl, adjust = TRUE)),
       CR2 = rob(robust(f, cluster = cl, clubSandwich = TRUE)))
}

pool_cases <- list()
reg_cases <- list()
for (dn in names(datasets)) {
  d <- datasets[[dn]]
  for (method in c("REML", "DL", "GENQ")) {
    for (test in c("z", "knha")) {
      cur <<- data.frame(yi = as.numeric(d$yi), vi = as.numeric(d$vi), a = as.numeric(d$weights), x = as.numeric(d$mod))
      f <- rma(yi, vi, weights = a, data = cur, method = method, test = test, control = rma_ctrl)
      pool_cases[[length(pool_cases) + 1]] <- list(
        dataset = dn, method = method, test = test, estimate = as.numeric(f$beta), se = f$se,
        leave1out = rows(leave1out(f)),
        cumul = rows(cumul(f)),
        influence = infl(f),
        robust_cluster = {cl <<- as.numeric(d$cluster); robust_all(f)},
        robust_study = {cl <<- seq_along(d$yi); robust_all(f)})
      g <- rma(yi, vi, mods = ~ x, weights = a, data = cur, method = method, test = test, control = rma_ctrl)
      reg_cases[[length(reg_cases) + 1]] <- list(
        dataset = dn, method = method, test = test, beta = arr(g$beta), se = arr(g$se),
        influence = infl(g),
        robust_cluster = {cl <<- as.numeric(d$cluster); robust_all(g)})
    }
  }
}

out <- list(
  description = paste("metafor leave1out(), cumul(), influence() and robust() (CR0: adjust=FALSE; CR1: adjust=TRUE;",
                      "CR2: clubSandwich=TRUE, Satterthwaite df) of fits with user weights"),
  metafor_version = as.character(packageVersion("metafor")),
  clubSandwich_version = as.character(packageVersion("clubSandwich")),
  r_version = R.version.string,
  control = rma_ctrl,
  datasets = datasets,
  pool = pool_cases,
  regression = reg_cases)
writeLines(to_json(out), out_file)
