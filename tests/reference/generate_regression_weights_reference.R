# Reference values from R metafor for meta-regression with user weights and the generalised Q
# estimator: rma(yi, vi, mods = X, weights = a, method = m, test = t).
#
# Usage (from the repository root):
#   Rscript tests/reference/generate_regression_weights_reference.R \
#     tests/reference/metafor_regression_weights.json
#
# Needs the Debian packages r-base-core r-cran-metafor r-cran-metadat r-cran-jsonlite (see
# tests/reference/README.md). Every input is stored in the JSON (`datasets`), so the Python tests
# need neither R nor metadat. Numbers are exact doubles (json_exact.R); NA is null. Every warning,
# message and error metafor emits is recorded as a string.
suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})
local({
  script_dir <- dirname(normalizePath(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))))
  source(file.path(script_dir, "json_exact.R"), local = globalenv())
})

args <- commandArgs(trailingOnly = TRUE)
out_file <- if (length(args) >= 1) args[1] else "tests/reference/metafor_regression_weights.json"

rma_ctrl <- list(threshold = 1e-12, tol = 1e-12, maxiter = 1000)
arr <- function(x) I(as.numeric(x))

# ------------------------------------------------------------------ data sets
bcg <- escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
# ALS-like small set (hand-made): standardised mean differences of the ALSFRS-R slope in six
# small stem-cell trials, log10 cell dose, intrathecal route (1) or not (0), total sample size.
als <- data.frame(
  yi = c(0.82, -0.25, 0.31, -0.38, 0.93, 0.05),
  vi = c(0.081, 0.125, 0.210, 0.095, 0.160, 0.058),
  log10_dose = c(7.0, 6.3, 8.0, 6.0, 7.5, 6.7),
  intrathecal = c(1, 0, 1, 0, 1, 1),
  n_total = c(48, 32, 20, 44, 26, 70))

datasets <- list(
  list(name = "dat.bcg",
       source = "metadat::dat.bcg; escalc(measure=\"RR\", ai=tpos, bi=tneg, ci=cpos, di=cneg)",
       labels = I(paste(bcg$author, bcg$year)), yi = arr(bcg$yi), vi = arr(bcg$vi),
       mods = list(ablat = arr(bcg$ablat), year = arr(bcg$year)),
       weights = list(n_total = arr(with(dat.bcg, tpos + tneg + cpos + cneg)), inv_vi = arr(1 / bcg$vi),
                      unit = arr(rep(1, nrow(bcg))))),
  list(name = "als.small",
       source = "hand-made, ALS-like: SMD of the ALSFRS-R slope in six small trials (not real data)",
       labels = I(paste("Trial", LETTERS[1:6])), yi = arr(als$yi), vi = arr(als$vi),
       mods = list(log10_dose = arr(als$log10_dose), intrathecal = arr(als$intrathecal)),
       weights = list(n_total = arr(als$n_total), inv_vi = arr(1 / als$vi), unit = arr(rep(1, 6)))))
by_name <- setNames(datasets, vapply(datasets, function(d) d$name, character(1)))
mod_sets <- list(dat.bcg = list("ablat", c("ablat", "year")),
                 als.small = list("log10_dose", c("log10_dose", "intrathecal")))

# ------------------------------------------------------------------ one fit
record <- function(f) {
  vb <- unclass(f$vb)
  list(beta = arr(f$beta), se = arr(f$se), zval = arr(f$zval), pval = arr(f$pval),
       ci_lb = arr(f$ci.lb), ci_ub = arr(f$ci.ub), vb = lapply(seq_len(nrow(vb)), function(i) arr(vb[i, ])),
       tau2 = f$tau2, se_tau2 = f$se.tau2, QE = f$QE, QEp = f$QEp, QM = f$QM, QMdf = arr(f$QMdf),
       QMp = f$QMp, I2 = f$I2, H2 = f$H2, R2 = if (is.null(f$R2)) NA else f$R2, s2w = f$s2w,
       ddf = f$ddf, ll_ML = f$fit.stats["ll", "ML"], ll_REML = f$fit.stats["ll", "REML"],
       k = f$k, p = f$p, weights_pct = arr(weights(f)), method_used = f$method, test_used = f$test)
}

fits <- list()
add_fit <- function(d, mods, method, test, wname, tau2 = NULL) {
  ds <- by_name[[d]]
  X <- do.call(cbind, lapply(mods, function(m) as.numeric(ds$mods[[m]])))
  colnames(X) <- mods
  a <- list(yi = as.numeric(ds$yi), vi = as.numeric(ds$vi), mods = X, method = method, test = test,
            control = rma_ctrl)
  if (!is.null(wname)) a$weights <- as.numeric(ds$weights[[wname]])
  if (!is.null(tau2)) a$tau2 <- tau2
  r <- capture(do.call(rma, a))
  body <- if (is.null(r$error)) record(r$value) else list(failed = TRUE, error = r$error)
  id <- paste(d, paste(mods, collapse = "+"), method, test, if (is.null(wname)) "none" else wname,
              if (is.null(tau2)) "" else paste0("tau2=", tau2), sep = "/")
  fits[[length(fits) + 1]] <<- c(
    list(id = sub("/$", "", id), dataset = d, mods = I(mods), method = method, test = test,
         weights_name = if (is.null(wname)) NULL else wname, tau2_fixed = if (is.null(tau2)) NULL else tau2,
         call = sprintf("rma(yi, vi, mods=~%s, weights=%s, method=\"%s\", test=\"%s\"%s, control=rma_ctrl)",
                        paste(mods, collapse = "+"), if (is.null(wname)) "NULL" else wname, method, test,
                        if (is.null(tau2)) "" else paste0(", tau2=", tau2))),
    body, list(warnings = I(r$warnings), messages = I(r$messages)))
}

methods <- c("EE", "DL", "HE", "SJ", "ML", "REML", "PM", "GENQ")
for (d in names(mod_sets)) {
  for (mods in mod_sets[[d]]) {
    for (test in c("z", "knha")) {
      for (m in methods) {
        add_fit(d, mods, m, test, "n_total")
      }
      add_fit(d, mods, "GENQ", test, "inv_vi")   # GENQ with 1/vi: the DL tau2 (pooled with 1/vi)
      add_fit(d, mods, "GENQ", test, "unit")     # GENQ with 1: the HE tau2 (pooled by OLS)
      add_fit(d, mods, "REML", test, "unit")
      add_fit(d, mods, "REML", test, "n_total", tau2 = 0.05)
    }
    add_fit(d, mods, "GENQ", "t", "n_total")
    add_fit(d, mods, "REML", "adhoc", "n_total")
  }
}
add_fit("dat.bcg", "ablat", "GENQ", "z", NULL)  # metafor refuses GENQ without weights

out <- list(
  metafor_version = as.character(packageVersion("metafor")),
  metadat_version = as.character(packageVersion("metadat")),
  r_version = R.version.string,
  generator = "tests/reference/generate_regression_weights_reference.R",
  generated_utc = format(Sys.time(), "%Y-%m-%dT%H:%M:%SZ", tz = "UTC"),
  rma_control = rma_ctrl,
  notes = I(c(
    "beta, se, zval, pval, ci_lb, ci_ub: one element per coefficient (intercept first); vb: rows of vcov(fit)",
    "QMdf: c(m, k - p) for t-based tests, c(m, NA) for z; R2 from metafor's intercept-only refit (same method and weights)",
    "ll_ML, ll_REML: fit$fit.stats['ll', ]; with weights metafor's RSS uses the weighted coefficients")),
  datasets = datasets,
  fits = fits)
writeLines(to_json(out), out_file)
cat(sprintf("wrote %d fits to %s\n", length(fits), out_file))
