# Reference values from R metafor for meta-regressions whose Knapp-Hartung test is degenerate.
#
# Usage (from the repository root):
#   Rscript tests/reference/generate_regression_degenerate_reference.R \
#     tests/reference/metafor_regression_degenerate.json
#
# Needs r-base-core, r-cran-metafor and r-cran-jsonlite (Debian); a few seconds. A rerun changes
# only generated_utc.
#
# When the effects lie exactly on the fitted regression (identical effects, or y = a + b x), the
# weighted residual sum of squares is 0 and metafor 3.8-1 sets the Knapp-Hartung factor s2w to 0
# (rma.uni: `if (RSS.knha <= .Machine$double.eps) s2w <- 0`). Then se = 0, zval = beta / 0 (Inf,
# or NaN where beta is exactly 0), pval = 0, a CI of width 0, and QM = NA (chol() of the zero
# matrix fails). test = "adhoc" raises s2w to 1 (the z-test SE with t quantiles); "t" and "z" do
# not use s2w. Every rma() call uses control = list(threshold = 1e-12, tol = 1e-12, maxiter = 1000)
# as the other generators. Inf/NaN are written as the bare tokens Infinity/NaN, NA as null.

suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = TRUE)
out_path <- if (length(args) >= 1) args[1] else "tests/reference/metafor_regression_degenerate.json"

# fmt_num, to_json, strip_ansi, capture: shared with the other generators
local({
  file_arg <- grep("^--file=", commandArgs(trailingOnly = FALSE), value = TRUE)
  here <- if (length(file_arg)) dirname(sub("^--file=", "", file_arg[1])) else "tests/reference"
  source(file.path(here, "json_exact.R"))
})

CTRL <- list(threshold = 1e-12, tol = 1e-12, maxiter = 1000)
arr <- function(x) I(as.numeric(x))
num <- function(x) if (is.null(x) || length(x) == 0) NULL else as.numeric(x)

x <- c(1, 2, 3, 5, 8, 13)
x2 <- c(2, 0, 1, 3, 1, 4)
vi <- c(0.04, 0.09, 0.01, 0.02, 0.05, 0.03)
bcg <- escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)

datasets <- list(
  list(name = "edge.identical", description = "identical effects 0.3: every model fits exactly",
       yi = rep(0.3, 6), vi = vi, mods = list(x = x)),
  list(name = "edge.zero", description = "all effects exactly 0: every coefficient is 0, so beta/se is 0/0",
       yi = rep(0, 6), vi = vi, mods = list(x = x)),
  list(name = "edge.line", description = "y = 1 + 0.5 x exactly (every value exact in binary)",
       yi = 1 + 0.5 * x, vi = vi, mods = list(x = x)),
  list(name = "edge.line_rounded", description = "y = 0.1 + 0.3 x (rounded to doubles): fits to rounding",
       yi = 0.1 + 0.3 * x, vi = vi, mods = list(x = x)),
  list(name = "edge.plane", description = "y = 1 + 0.5 x - 0.25 x2 exactly, two moderators",
       yi = 1 + 0.5 * x - 0.25 * x2, vi = vi, mods = list(x = x, x2 = x2)),
  list(name = "edge.near_line", description = "y = 1 + 0.5 x plus small residuals: s2w well below 1, not degenerate",
       yi = 1 + 0.5 * x + c(0.01, -0.02, 0.015, 0, -0.01, 0.005), vi = vi, mods = list(x = x)),
  list(name = "dat.bcg", description = "escalc(measure=\"RR\", ai=tpos, bi=tneg, ci=cpos, di=cneg, data=dat.bcg); moderator ablat",
       yi = as.numeric(bcg$yi), vi = as.numeric(bcg$vi), mods = list(ablat = bcg$ablat))
)

newmods_for <- function(ds) {
  if (length(ds$mods) == 1) matrix(c(0, 4, 20), ncol = 1) else rbind(c(0, 0), c(4, 1), c(20, -3))
}

fit_one <- function(ds, mods, method, test, tau2 = NULL) {
  X <- if (mods) do.call(cbind, ds$mods) else NULL
  args <- list(yi = ds$yi, vi = ds$vi, method = method, test = test, control = CTRL)
  if (mods) args$mods <- X
  if (!is.null(tau2)) args$tau2 <- tau2
  res <- capture(do.call(rma, args))
  id <- paste(ds$name, if (mods) "mods" else "intercept", method, test,
              if (is.null(tau2)) NULL else paste0("tau2=", tau2), sep = "/")
  out <- list(id = id, dataset = ds$name, mods = mods, method = method, test = test,
              tau2_fixed = num(tau2), warnings = I(res$warnings), messages = I(res$messages))
  f <- res$value
  if (is.null(f)) return(c(out, list(failed = TRUE, error = res$error)))
  pr <- capture(predict(f))
  p_fit <- pr$value
  out <- c(out, list(
    failed = FALSE, k = f$k, p = f$p,
    beta = arr(f$beta), se = arr(f$se), zval = arr(f$zval), pval = arr(f$pval),
    ci_lb = arr(f$ci.lb), ci_ub = arr(f$ci.ub),
    df = if (test == "z") NULL else num(f$ddf), s2w = num(f$s2w), btt = I(as.integer(f$btt)),
    QM = num(f$QM), QMdf = arr(f$QMdf), QMp = num(f$QMp), QE = num(f$QE), QEp = num(f$QEp),
    tau2 = num(f$tau2), I2 = num(f$I2), H2 = num(f$H2),
    predict = list(pred = arr(p_fit$pred), se = arr(p_fit$se), ci_lb = arr(p_fit$ci.lb),
                   ci_ub = arr(p_fit$ci.ub), pi_lb = arr(p_fit$pi.lb), pi_ub = arr(p_fit$pi.ub),
                   warnings = I(pr$warnings))
  ))
  if (mods) {
    nm <- newmods_for(ds)
    pn <- capture(predict(f, newmods = nm))
    out$predict_newmods <- list(newmods = I(lapply(seq_len(nrow(nm)), function(i) arr(nm[i, ]))),
                                pred = arr(pn$value$pred), se = arr(pn$value$se),
                                ci_lb = arr(pn$value$ci.lb), ci_ub = arr(pn$value$ci.ub),
                                pi_lb = arr(pn$value$pi.lb), pi_ub = arr(pn$value$pi.ub),
                                warnings = I(pn$warnings))
  }
  out
}

fits <- list()
for (ds in datasets) {
  for (mods in c(TRUE, FALSE)) {
    for (method in c("REML", "DL", "ML", "EE")) {
      for (test in c("z", "t", "knha", "adhoc")) {
        fits[[length(fits) + 1]] <- fit_one(ds, mods, method, test)
      }
    }
    fits[[length(fits) + 1]] <- fit_one(ds, mods, "REML", "knha", tau2 = 0.1)
  }
}

# permutest: exact (720 row orders of the design; 64 sign vectors for intercept-only fits)
perms <- list()
for (ds in datasets[1:6]) {
  for (mods in c(TRUE, FALSE)) {
    for (test in c("z", "knha")) {
      X <- if (mods) do.call(cbind, ds$mods) else NULL
      f <- if (mods) rma(ds$yi, ds$vi, mods = X, method = "REML", test = test, control = CTRL)
           else rma(ds$yi, ds$vi, method = "REML", test = test, control = CTRL)
      pt <- capture(permutest(f, exact = TRUE, progbar = FALSE, control = list(comptol = .Machine$double.eps^0.5)))
      entry <- list(id = paste(ds$name, if (mods) "mods" else "intercept", "REML", test, "permutest", sep = "/"),
                    dataset = ds$name, mods = mods, method = "REML", test = test,
                    warnings = I(pt$warnings), messages = I(pt$messages))
      if (is.null(pt$value)) {
        entry <- c(entry, list(failed = TRUE, error = pt$error))
      } else {
        entry <- c(entry, list(failed = FALSE, zval = arr(f$zval), pval = arr(pt$value$pval),
                               QM = num(f$QM), QMp = num(pt$value$QMp),
                               n_permutations = num(length(pt$value$zval.perm[, 1]))))
      }
      perms[[length(perms) + 1]] <- entry
    }
  }
}

out <- list(
  metafor_version = as.character(packageVersion("metafor")),
  metadat_version = as.character(packageVersion("metadat")),
  r_version = R.version.string,
  generator = "tests/reference/generate_regression_degenerate_reference.R",
  generated_utc = format(Sys.time(), "%Y-%m-%dT%H:%M:%SZ", tz = "UTC"),
  rma_control = CTRL,
  notes = I(c(
    "datasets: yi, vi and the moderator columns (mods); fits: rma(yi, vi, mods = cbind(...), method, test, control) for REML, DL, ML, EE x z, t, knha, adhoc, with and without moderators, plus REML/knha with tau2 = 0.1 fixed.",
    "Arrays beta/se/zval/pval/ci_lb/ci_ub have one element per coefficient (intercept first); QM is NA (null) where chol(vb[btt, btt]) fails (s2w = 0).",
    "predict: predict(fit) (fitted values); predict_newmods: predict(fit, newmods = rows of newmods).",
    "permutest: permutest(fit, exact = TRUE) on REML fits with test z and knha; pval and QMp are the permutation p-values, zval and QM the observed statistics."
  )),
  datasets = datasets,
  fits = fits,
  permutest = perms
)
writeLines(to_json(out), out_path)
cat("wrote", out_path, "with", length(fits), "fits and", length(perms), "permutation tests\n")
