# Reference values from R metafor for the alsmeta pooling engine (rma.uni, intercept-only).
#
# Usage (from the repository root):
#   Rscript tests/reference/generate_pool_reference.R tests/reference/metafor_pool.json
#
# Needs the Debian packages r-base-core r-cran-metafor r-cran-metadat r-cran-jsonlite.
# Every rma() call uses tight controls (metafor's defaults leave tau2 off by up to ~4e-4);
# every confint() call uses tight uniroot controls. Nothing is dropped silently: a call that
# fails is recorded as {"failed": true, "error": "..."}, and every warning or message metafor
# emits is recorded as a string next to the values it concerns.
#
# Numbers are written with the shortest of %.15g/%.16g/%.17g that reads back to the same
# double (exact round trip). NA is written as null; Inf, -Inf and NaN as the bare tokens
# Infinity, -Infinity and NaN, which Python's json module reads as floats (strict JSON
# parsers do not accept them; they occur only where metafor itself returns them).

suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = TRUE)
out_path <- if (length(args) >= 1) args[1] else "tests/reference/metafor_pool.json"

RMA_CONTROL <- list(threshold = 1e-12, tol = 1e-12, maxiter = 1000)
# confint.rma.uni's own control list has tol, maxiter, tau2.min, tau2.max, verbose; tol and
# maxiter go to uniroot() for the Q-profile bounds.
CONFINT_CONTROL <- list(tol = 1e-12, maxiter = 1000)
# confint.rma.uni searches the Q-profile bounds in [tau2.min, tau2.max] with the default
# tau2.max = max(100, 10 * tau2) and silently returns tau2.max when the bound lies beyond it
# (dat.normand1999 is such a case, and the truncated bound then differs between methods).
# So each data set gets an upper search limit far above any possible bound: for large tau2,
# Q(tau2) ~ (k - 1) * var(yi) / tau2, and chi2_{1, 0.025} ~ 1e-3.
confint_tau2_max <- function(yi, vi) {
  s2 <- if (length(yi) > 1) var(yi) else 0
  max(100, 1e5 * (s2 + max(vi)))
}
METHODS <- c("EE", "DL", "HE", "HS", "HSk", "SJ", "ML", "REML", "EB", "PM", "PMM", "GENQ")
TESTS <- c("z", "t", "knha", "adhoc")
FIXED_TAU2 <- 0.1

# fmt_num, to_json, strip_ansi, capture: the JSON writer shared by every generator
script_dir <- dirname(normalizePath(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))))
source(file.path(script_dir, "json_exact.R"))

arr <- function(x) if (is.null(x)) NULL else I(x)

num <- function(x) {
  if (is.null(x) || length(x) == 0) return(NULL)
  as.numeric(x)
}

# ---------------------------------------------------------------------------------------
# Data sets
# ---------------------------------------------------------------------------------------
from_escalc <- function(name, description, es) {
  keep <- !(is.na(es$yi) | is.na(es$vi))
  list(name = name, source = paste0("metadat::", name), description = description,
       rows_in_source = nrow(es), rows_dropped_na = sum(!keep),
       yi = as.numeric(es$yi[keep]), vi = as.numeric(es$vi[keep]))
}

# Data sets with the columns ai, n1i, ci, n2i (events and group sizes in two groups).
two_group <- function(name, measure, what) {
  from_escalc(name,
    sprintf("escalc(measure=\"%s\", ai=ai, n1i=n1i, ci=ci, n2i=n2i, data=%s): %s", measure, name, what),
    escalc(measure = measure, ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = get(name)))
}

datasets <- list(
  from_escalc("dat.bcg",
    "escalc(measure=\"RR\", ai=tpos, bi=tneg, ci=cpos, di=cneg, data=dat.bcg): log risk ratios",
    escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)),
  from_escalc("dat.raudenbush1985",
    "yi, vi as given in dat.raudenbush1985 (standardized mean differences)",
    dat.raudenbush1985),
  from_escalc("dat.normand1999",
    "escalc(measure=\"MD\", m1i=m1i, sd1i=sd1i, n1i=n1i, m2i=m2i, sd2i=sd2i, n2i=n2i, data=dat.normand1999): raw mean differences",
    escalc(measure = "MD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i, data = dat.normand1999)),
  from_escalc("dat.hackshaw1998",
    "yi, vi as given in dat.hackshaw1998 (log odds ratios)",
    dat.hackshaw1998),
  from_escalc("dat.molloy2014",
    "escalc(measure=\"ZCOR\", ri=ri, ni=ni, data=dat.molloy2014): Fisher r-to-z",
    escalc(measure = "ZCOR", ri = ri, ni = ni, data = dat.molloy2014)),
  two_group("dat.hine1989", "RD", "risk differences"),
  from_escalc("dat.ishak2007",
    "yi = y1i, vi = v1i of dat.ishak2007 (mean change at the first time point); rows where y1i/v1i is NA dropped",
    data.frame(yi = dat.ishak2007$y1i, vi = dat.ishak2007$v1i)),
  two_group("dat.egger2001", "OR", "log odds ratios (escalc default add=1/2 to=\"only0\" for zero cells)"),
  two_group("dat.lee2004", "OR", "log odds ratios (escalc default add=1/2 to=\"only0\" for zero cells)"),
  from_escalc("dat.collins1985b",
    "escalc(measure=\"OR\", ai=pre.xti, n1i=pre.nti, ci=pre.xci, n2i=pre.nci, data=dat.collins1985b): log odds ratios of pre-eclampsia",
    escalc(measure = "OR", ai = pre.xti, n1i = pre.nti, ci = pre.xci, n2i = pre.nci, data = dat.collins1985b)),
  from_escalc("dat.pritz1997",
    "escalc(measure=\"PLO\", xi=xi, ni=ni, data=dat.pritz1997): logit proportions",
    escalc(measure = "PLO", xi = xi, ni = ni, data = dat.pritz1997)),
  two_group("dat.li2007", "OR", "log odds ratios (escalc default add=1/2 to=\"only0\" for zero cells)"),
  two_group("dat.linde2005", "RR", "log risk ratios; rows with NA yi/vi (missing counts) dropped"),
  from_escalc("dat.mcdaniel1994",
    "escalc(measure=\"ZCOR\", ri=ri, ni=ni, data=dat.mcdaniel1994): Fisher r-to-z",
    escalc(measure = "ZCOR", ri = ri, ni = ni, data = dat.mcdaniel1994)),
  from_escalc("dat.bangertdrowns2004",
    "yi, vi as given in dat.bangertdrowns2004 (standardized mean differences); rows with NA yi/vi would be dropped (none are)",
    dat.bangertdrowns2004)
)

edge <- function(name, description, yi, vi) {
  list(name = name, source = "hand-made", description = description,
       rows_in_source = length(yi), rows_dropped_na = 0L, yi = yi, vi = vi)
}

datasets <- c(datasets, list(
  edge("edge.k2", "k = 2", c(0.1, 0.5), c(0.04, 0.09)),
  edge("edge.k3_heterogeneous", "k = 3, clearly heterogeneous (Q >> df)",
       c(-0.5, 0.3, 1.2), c(0.02, 0.03, 0.05)),
  edge("edge.k3_homogeneous", "k = 3, Q < df so DL tau2 is truncated to 0",
       c(0.2, 0.25, 0.22), c(0.05, 0.04, 0.06)),
  edge("edge.homogeneous5", "k = 5, fully homogeneous (Q < df)",
       c(0.10, 0.12, 0.11, 0.09, 0.10), c(0.01, 0.02, 0.015, 0.01, 0.02)),
  edge("edge.all_equal", "k = 5, all effects identical (Q = 0)",
       rep(0.25, 5), c(0.01, 0.02, 0.03, 0.04, 0.05)),
  edge("edge.huge_variance_ratio", "k = 7, vi spanning 1e-4 to 1e2 (ratio 1e6)",
       c(0.1, 0.3, -0.2, 0.5, 1.0, -2.0, 3.0), c(1e-4, 1e-3, 1e-2, 1e-1, 1, 1e1, 1e2)),
  edge("edge.k1", "k = 1", 0.3, 0.04)
))

# ---------------------------------------------------------------------------------------
# Fitting
# ---------------------------------------------------------------------------------------
confint_record <- function(fit, tau2_max) {
  ctrl <- c(CONFINT_CONTROL, list(tau2.max = tau2_max))
  r <- capture(confint(fit, control = ctrl))
  res <- list(type = "QP", control = ctrl)
  if (!is.null(r$error)) {
    res <- c(res, list(failed = TRUE, error = r$error))
  } else {
    rnd <- r$value$random
    get_row <- function(row) if (row %in% rownames(rnd)) num(rnd[row, c("ci.lb", "ci.ub")]) else NULL
    res <- c(res, list(
      failed = FALSE,
      tau2 = arr(get_row("tau^2")), tau = arr(get_row("tau")),
      I2 = arr(get_row("I^2(%)")), H2 = arr(get_row("H^2")),
      tau2_estimate = if ("tau^2" %in% rownames(rnd)) num(rnd["tau^2", "estimate"]) else NULL,
      I2_estimate = if ("I^2(%)" %in% rownames(rnd)) num(rnd["I^2(%)", "estimate"]) else NULL,
      H2_estimate = if ("H^2" %in% rownames(rnd)) num(rnd["H^2", "estimate"]) else NULL))
    ub <- res$tau2[2]
    # TRUE would mean the bound was cut at the search limit rather than found as a root.
    res$tau2_ub_at_search_limit <- !is.null(ub) && !is.na(ub) && ub >= tau2_max * (1 - 1e-9)
  }
  res$warnings <- I(r$warnings)
  res$messages <- I(r$messages)
  res
}

# confint() of a GENQ fit is the generalised-Q interval, which needs CompQuadForm and whose uniroot()
# ignores control$tol (about 1.2e-4 accurate). It is not run here, so this file does not depend on
# whether CompQuadForm is installed; metafor_bj.json has those intervals with a tight root finder.
GENQ_CONFINT_SKIPPED <- list(type = "GENQ", failed = TRUE, skipped = TRUE,
  reason = paste("not run: confint() of a GENQ fit ignores control$tol (uniroot default, about 1.2e-4);",
                 "see metafor_bj.json for these intervals with a tight root finder"))

fit_record <- function(yi, vi, method, test, level = 95, tau2 = NULL) {
  id <- paste0(method, "/", test, "/", level, if (!is.null(tau2)) paste0("/tau2=", tau2) else "")
  rec <- list(id = id, method = method, test = test, level = level,
              tau2_fixed = if (is.null(tau2)) NULL else tau2,
              weights = if (method == "GENQ") "1/vi" else NULL)
  call_args <- list(yi = yi, vi = vi, method = method, test = test, level = level,
                    control = RMA_CONTROL)
  if (method == "GENQ") call_args$weights <- 1 / vi
  if (!is.null(tau2)) call_args$tau2 <- tau2
  r <- capture(do.call(rma, call_args))
  if (!is.null(r$error)) {
    return(c(rec, list(failed = TRUE, error = r$error, warnings = I(r$warnings), messages = I(r$messages))))
  }
  fit <- r$value
  rec <- c(rec, list(
    failed = FALSE,
    method_used = fit$method, test_used = fit$test,
    k = fit$k,
    estimate = num(fit$beta[1]), se = num(fit$se), zval = num(fit$zval), pval = num(fit$pval),
    ci_lb = num(fit$ci.lb), ci_ub = num(fit$ci.ub),
    df = if (is.null(fit$ddf)) NULL else num(fit$ddf),
    tau2 = num(fit$tau2), se_tau2 = num(fit$se.tau2),
    I2 = num(fit$I2), H2 = num(fit$H2),
    QE = num(fit$QE), QEp = num(fit$QEp),
    s2w = num(fit$s2w),
    warnings = I(r$warnings), messages = I(r$messages)))
  p <- capture(predict(fit))
  if (!is.null(p$error)) {
    rec$predict <- list(failed = TRUE, error = p$error)
  } else {
    pr <- p$value
    rec$pred <- num(pr$pred)
    rec$pred_se <- num(pr$se)
    rec["pi_lb"] <- list(num(pr$pi.lb))
    rec["pi_ub"] <- list(num(pr$pi.ub))
    if (length(p$warnings) || length(p$messages))
      rec$predict <- list(failed = FALSE, warnings = I(p$warnings), messages = I(p$messages))
  }
  ci <- if (method == "EE") NULL else if (method == "GENQ") GENQ_CONFINT_SKIPPED else
    confint_record(fit, confint_tau2_max(yi, vi))
  for (par in c("tau2", "I2", "H2")) {
    b <- if (is.null(ci) || isTRUE(ci$failed)) NULL else ci[[par]]
    rec[paste0(par, "_ci_lb")] <- list(if (is.null(b)) NULL else as.numeric(b)[1])
    rec[paste0(par, "_ci_ub")] <- list(if (is.null(b)) NULL else as.numeric(b)[2])
  }
  if (!is.null(ci)) rec$confint <- ci
  rec
}

fits_for <- function(yi, vi) {
  fits <- list()
  for (m in METHODS) for (t in TESTS) fits[[length(fits) + 1]] <- fit_record(yi, vi, m, t)
  fits[[length(fits) + 1]] <- fit_record(yi, vi, "REML", "knha", level = 90)
  fits[[length(fits) + 1]] <- fit_record(yi, vi, "DL", "z", level = 90)
  for (t in c("z", "knha")) fits[[length(fits) + 1]] <- fit_record(yi, vi, "REML", t, tau2 = FIXED_TAU2)
  fits
}

out_sets <- list()
for (ds in datasets) {
  cat(sprintf("%-28s k = %d\n", ds$name, length(ds$yi)))
  ds$k <- length(ds$yi)
  ds$yi <- I(ds$yi)
  ds$vi <- I(ds$vi)
  ds$fits <- fits_for(as.numeric(ds$yi), as.numeric(ds$vi))
  out_sets[[length(out_sets) + 1]] <- ds
}

result <- list(
  generator = "tests/reference/generate_pool_reference.R",
  generated_utc = format(Sys.time(), "%Y-%m-%dT%H:%M:%SZ", tz = "UTC"),
  metafor_version = as.character(packageVersion("metafor")),
  metadat_version = as.character(packageVersion("metadat")),
  r_version = R.version.string,
  control = RMA_CONTROL,
  rma_control = RMA_CONTROL,
  confint_control = CONFINT_CONTROL,
  confint_tau2_max = "per data set: max(100, 1e5 * (var(yi) + max(vi))), recorded in each confint.control",
  methods = I(METHODS),
  tests = I(TESTS),
  notes = I(c(
    "Every (method, test) pair is fitted at level 95; plus REML/knha/90, DL/z/90 and REML with tau2 fixed at 0.1 (z, knha) for every data set.",
    "GENQ is fitted with weights = 1/vi; with user weights metafor also uses those weights for the pooled estimate.",
    "zval is the test statistic (z for test z, t otherwise); df is fit$ddf (null when test = z).",
    "confint is the Q-profile CI from confint(fit, control = confint_control); absent for EE; not run for GENQ (skipped: true, see reason).",
    "method_used/test_used are what metafor actually fitted (it may change them, e.g. for k = 1).",
    "Flat fields tau2_ci_lb/ub, I2_ci_lb/ub, H2_ci_lb/ub repeat confint's bounds (null when confint failed or was not run, and for EE).",
    "NA is null; Inf, -Inf, NaN are the bare tokens Infinity, -Infinity, NaN (Python json reads them); numbers round-trip to the exact double."
  )),
  datasets = out_sets
)

writeLines(to_json(result), out_path)
cat("wrote", out_path, "\n")
