# Biggerstaff-Jackson / generalised-Q confidence intervals for tau2 with a tight root finder.
#
# metafor 3.8-1's confint(type = "GENQ") calls uniroot() without passing control$tol, so its bounds
# carry uniroot's default tolerance (.Machine$double.eps^0.25, about 1.2e-4 absolute). This script
# repeats confint's algorithm (metafor's own .GENQ.func objective, which calls
# CompQuadForm::farebrother) with uniroot(tol = 1e-12, maxiter = 1000), on the inputs stored in
# metafor_methods.json, so that alsmeta.tau2_ci(method = "bj") can be checked at 1e-6.
#
# Usage (from the repository root; needs CompQuadForm, see generate_methods_reference.R):
#   Rscript tests/reference/generate_bj_reference.R tests/reference/metafor_bj.json
suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})
script_dir <- dirname(normalizePath(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))))
source(file.path(script_dir, "json_exact.R"))
args <- commandArgs(trailingOnly = TRUE)
out_file <- if (length(args) >= 1) args[1] else "tests/reference/metafor_bj.json"
# the file writes NA/Inf as bare tokens jsonlite does not read; only the datasets are used here
src_txt <- gsub("-?Infinity|NaN", "null", paste(readLines(file.path(script_dir, "metafor_methods.json")), collapse = "\n"))
src <- fromJSON(src_txt, simplifyVector = FALSE)
genq_obj <- metafor:::.GENQ.func
uni_tol <- 1e-12

bj_ci <- function(yi, vi, X, a, level) {
  k <- length(yi); p <- ncol(X); alpha <- 1 - level / 100
  A <- diag(a, k, k)
  P <- A - A %*% X %*% solve(t(X) %*% A %*% X) %*% t(X) %*% A
  Q <- c(crossprod(yi, P) %*% yi)
  hi <- max(100, 1e5 * (var(yi) + max(vi)))
  if (!is.finite(hi) || hi <= 0) stop(sprintf("bad hi %s", hi))
  f <- function(t, lvl, low) genq_obj(t, P = P, vi = vi, Q = Q, level = lvl, k = k, p = p, getlower = low)
  at0 <- f(0, 0, TRUE)
  if (at0 > 1 - alpha / 2) return(list(ci = c(0, 0), Q = Q, null_set = TRUE))
  ub <- uniroot(f, c(0, hi), lvl = alpha / 2, low = FALSE, tol = uni_tol, maxiter = 1000)$root
  lb <- if (at0 > alpha / 2) 0 else uniroot(f, c(0, hi), lvl = alpha / 2, low = TRUE, tol = uni_tol, maxiter = 1000)$root
  list(ci = c(lb, ub), Q = Q, null_set = FALSE)
}

cases <- list()
for (d in src$datasets) {
  yi <- unlist(d$yi); vi <- unlist(d$vi)
  mods <- if (length(d$mods)) names(d$mods)[1] else NULL
  for (wn in c("inv_vi", "inv_sei", "unit")) {
    a <- switch(wn, inv_vi = 1 / vi, inv_sei = 1 / sqrt(vi), unit = rep(1, length(vi)))
    for (m in c(list(NULL), if (is.null(mods)) list() else list(mods))) {
      X <- if (is.null(m)) cbind(rep(1, length(yi))) else cbind(1, unlist(d$mods[[m]]))
      for (level in c(95, 90)) {
        r <- bj_ci(yi, vi, X, a, level)
        f <- if (is.null(m)) rma(yi, vi, weights = a, method = "GENQ") else rma(yi, vi, mods = X[, 2], weights = a, method = "GENQ")
        cases[[length(cases) + 1]] <- list(
          dataset = d$name, weights_name = wn, weights = vec(a), mods = m, level = level,
          tau2_estimate = num(f$tau2), Q_a = num(r$Q), tau2_ci = vec(r$ci), null_set = r$null_set)
      }
    }
  }
}
out <- c(versions(), list(
  compquadform_version = as.character(packageVersion("CompQuadForm")),
  generator = "tests/reference/generate_bj_reference.R",
  generated_utc = format(Sys.time(), "%Y-%m-%dT%H:%M:%SZ", tz = "UTC"),
  notes = I(c(
    "Inputs (yi, vi, mods) are the datasets of metafor_methods.json; mods is the name of the moderator column or null.",
    "tau2_ci: confint(rma(yi, vi, weights, method=\"GENQ\"), type=\"GENQ\") computed with metafor:::.GENQ.func and uniroot(tol=1e-12, maxiter=1000) over [0, max(100, 1e5 (var(yi) + max(vi)))]; farebrother at its default eps=1e-10.",
    "With weights 1/vi this is the Biggerstaff-Jackson (2008) interval that goes with the DerSimonian-Laird estimator.")),
  cases = cases))
write_exact_json(out, out_file)
cat("wrote", out_file, "\n")
