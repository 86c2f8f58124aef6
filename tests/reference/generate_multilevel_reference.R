# Reference values from R metafor / clubSandwich for alsmeta.pool_multilevel and alsmeta.models.robust.
#
# Usage (from the repository root):
#   Rscript tests/reference/generate_multilevel_reference.R tests/reference/metafor_multilevel.json
#
# Needs the Debian packages r-base-core r-cran-metafor r-cran-metadat r-cran-clubsandwich
# r-cran-jsonlite. Every rma.mv() call uses tight nlminb controls (metafor's defaults stop at
# rel.tol 1e-10 on the log-likelihood, which leaves sigma2 off by up to ~1e-5 relative).
# A call that fails is recorded as {"failed": true, "error": "..."}; every warning or message
# is recorded as a string next to the values it concerns.
#
# Model: rma.mv(yi, vi, random = ~ 1 | study/effect), i.e. a three-level model with
# sigma2[1] = between-study and sigma2[2] = between-effect-within-study variance.
# metafor optimises over log(sigma2), so a component on the zero boundary comes out as a
# tiny positive number (compare with an absolute tolerance there).

suppressPackageStartupMessages({
  library(metafor)
  library(clubSandwich)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = TRUE)
out_path <- if (length(args) >= 1) args[1] else "tests/reference/metafor_multilevel.json"

MV_CONTROLS <- list(list(rel.tol = 1e-12, iter.max = 1000, eval.max = 5000),
                    list(rel.tol = 1e-11, iter.max = 1000, eval.max = 5000),
                    list(rel.tol = 1e-10, iter.max = 1000, eval.max = 5000))
UNI_CONTROL <- list(threshold = 1e-12, tol = 1e-12, maxiter = 1000)

# fmt_num, to_json, strip_ansi, capture: the JSON writer shared by every generator
script_dir <- dirname(normalizePath(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))))
source(file.path(script_dir, "json_exact.R"))

arr <- function(x) I(as.numeric(x))
vec <- function(x) if (is.null(x)) NULL else I(x)

# ---------------------------------------------------------------------------------------
# Data sets: yi, vi, study, effect (and optional moderator x)
# ---------------------------------------------------------------------------------------
k2011 <- dat.konstantopoulos2011
a2016 <- dat.assink2016
bcg <- escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)

datasets <- list(
  list(name = "dat.konstantopoulos2011", source = "metadat::dat.konstantopoulos2011",
       description = "yi, vi as given; study = district, effect = school; x = year",
       yi = k2011$yi, vi = k2011$vi, study = as.character(k2011$district),
       effect = as.character(k2011$school), x = k2011$year),
  list(name = "dat.assink2016", source = "metadat::dat.assink2016",
       description = "yi, vi as given; study = study, effect = esid; x = year",
       yi = a2016$yi, vi = a2016$vi, study = as.character(a2016$study),
       effect = as.character(a2016$esid), x = a2016$year),
  list(name = "dat.bcg.one_per_study", source = "metadat::dat.bcg",
       description = "escalc(measure=\"RR\", ai=tpos, bi=tneg, ci=cpos, di=cneg, data=dat.bcg); study = trial, effect = 1 (one effect per study)",
       yi = as.numeric(bcg$yi), vi = as.numeric(bcg$vi), study = as.character(bcg$trial),
       effect = rep("1", nrow(bcg)), x = bcg$ablat),
  list(name = "dat.konstantopoulos2011.rho0.6", source = "metadat::dat.konstantopoulos2011",
       description = "as dat.konstantopoulos2011, with V = sampling covariance, correlation 0.6 between effects of one district (V_ij = 0.6 sqrt(v_i v_j))",
       yi = k2011$yi, vi = k2011$vi, study = as.character(k2011$district),
       effect = as.character(k2011$school), x = k2011$year, rho = 0.6),
  list(name = "edge.one_study", source = "first 6 rows of metadat::dat.konstantopoulos2011 (all in district 11)",
       description = "all effects in one study: the between-study component is not identifiable",
       yi = k2011$yi[1:4], vi = k2011$vi[1:4], study = as.character(k2011$district[1:4]),
       effect = as.character(k2011$school[1:4]), x = k2011$year[1:4]),
  list(name = "edge.homogeneous", source = "hand-made",
       description = "3 studies with 2 effects each and small spread: both components on the boundary",
       yi = c(0.10, 0.11, 0.10, 0.12, 0.11, 0.10), vi = c(0.04, 0.05, 0.04, 0.06, 0.05, 0.04),
       study = c("A", "A", "B", "B", "C", "C"), effect = c("1", "2", "1", "2", "1", "2"),
       x = c(1, 2, 3, 4, 5, 6))
)

# ---------------------------------------------------------------------------------------
# Fits
# ---------------------------------------------------------------------------------------
coefs <- function(fit) list(
  beta = arr(fit$beta), se = arr(fit$se), zval = arr(fit$zval), pval = arr(fit$pval),
  ci_lb = arr(fit$ci.lb), ci_ub = arr(fit$ci.ub))

# Sampling covariance with correlation rho between effects of one study: V_ij = rho sqrt(v_i v_j).
within_cov <- function(vi, study, rho) {
  same <- outer(study, study, "==")
  V <- rho * sqrt(outer(vi, vi)) * same
  diag(V) <- vi
  V
}

mv_fit <- function(ds, method, test, mods) {
  dat <- data.frame(yi = ds$yi, vi = ds$vi, study = ds$study, effect = ds$effect, x = ds$x)
  if (!is.null(ds$rho)) dat$vi <- NULL
  Vmat <- if (!is.null(ds$rho)) within_cov(ds$vi, ds$study, ds$rho) else NULL
  # The tightest control that nlminb accepts: it reports "false convergence" (code 1) on some
  # data sets at rel.tol 1e-12, so fall back step by step and record what was used.
  r <- NULL
  for (ctrl in MV_CONTROLS) {
    r <- capture(if (!is.null(Vmat)) {
      rma.mv(yi, Vmat, random = ~ 1 | study/effect, data = dat, method = method, test = test,
             control = ctrl)
    } else if (mods) {
      rma.mv(yi, vi, mods = ~ x, random = ~ 1 | study/effect, data = dat, method = method,
             test = test, control = ctrl)
    } else {
      rma.mv(yi, vi, random = ~ 1 | study/effect, data = dat, method = method, test = test,
             control = ctrl)
    })
    if (!is.null(r$value)) break
  }
  r$control <- ctrl
  id <- paste0(method, "/", test, if (mods) "/mods=x" else "")
  if (is.null(r$value)) return(list(id = id, method = method, test = test, mods = mods, failed = TRUE, error = r$error))
  fit <- r$value
  fs <- fit$fit.stats
  out <- c(list(id = id, method = method, test = test, mods = mods, failed = FALSE,
                control = r$control, k = fit$k, p = fit$p, n_levels = arr(fit$s.nlevels), sigma2 = arr(fit$sigma2),
                sigma2_fixed = vec(fit$vc.fix$sigma2), parms = fit$parms,
                df = if (test == "t") fit$ddf[[1]] else NULL,
                QE = fit$QE, QEdf = fit$k - fit$p, QEp = fit$QEp, QM = fit$QM, QMp = fit$QMp),
           coefs(fit),
           list(fit_stats = list(
                  ML = list(ll = fs["ll", "ML"], dev = fs["dev", "ML"], AIC = fs["AIC", "ML"], BIC = fs["BIC", "ML"], AICc = fs["AICc", "ML"]),
                  REML = list(ll = fs["ll", "REML"], dev = fs["dev", "REML"], AIC = fs["AIC", "REML"], BIC = fs["BIC", "REML"], AICc = fs["AICc", "REML"])),
                logLik = as.numeric(logLik(fit)), AIC = AIC(fit), BIC = BIC(fit),
                warnings = vec(r$warnings), messages = vec(r$messages)))
  robust_fits <- list()
  if (length(unique(ds$study)) >= 2 && method == "REML" && test == "z") {
    robust_fits <- robust_all(fit, dat$study)
  }
  out$robust <- robust_fits
  out
}

robust_one <- function(fit, cluster, adjust, cs) {
  r <- capture(robust(fit, cluster = cluster, adjust = adjust, clubSandwich = cs))
  type <- if (cs) "CR2" else if (adjust) "CR1" else "CR0"
  if (is.null(r$value)) return(list(type = type, failed = TRUE, error = r$error))
  rb <- r$value
  c(list(type = type, failed = FALSE, n_clusters = rb$n, df = arr(rb$ddf)), coefs(rb),
    list(vb = arr(as.vector(rb$vb)), warnings = vec(r$warnings), messages = vec(r$messages)))
}

robust_all <- function(fit, cluster) {
  out <- list(robust_one(fit, cluster, FALSE, FALSE), robust_one(fit, cluster, TRUE, FALSE),
              robust_one(fit, cluster, TRUE, TRUE))
  # clubSandwich directly, as a cross-check of metafor's wrapper
  ct <- capture(coef_test(fit, vcov = "CR2", cluster = cluster, test = "Satterthwaite"))
  if (!is.null(ct$value)) {
    out[[4]] <- list(type = "clubSandwich::coef_test CR2", failed = FALSE,
                     se = arr(ct$value$SE), tstat = arr(ct$value$tstat),
                     df = arr(ct$value$df_Satt), pval = arr(ct$value$p_Satt))
  }
  out
}

uni_fits <- function(ds) {
  out <- list()
  for (method in c("REML", "DL", "ML")) {
    dat <- data.frame(yi = ds$yi, vi = ds$vi, study = ds$study)
    r <- capture(rma(yi, vi, data = dat, method = method, control = UNI_CONTROL))
    fit <- r$value
    if (is.null(fit)) next
    out[[length(out) + 1]] <- list(id = paste0("rma.uni/", method), method = method,
      tau2 = fit$tau2, beta = arr(fit$beta), se = arr(fit$se),
      robust = robust_all(fit, dat$study))
  }
  # a meta-regression (rma.uni with a moderator), clustered by study
  dat <- data.frame(yi = ds$yi, vi = ds$vi, study = ds$study, x = ds$x)
  r <- capture(rma(yi, vi, mods = ~ x, data = dat, method = "REML", control = UNI_CONTROL))
  if (!is.null(r$value) && length(unique(ds$study)) > 2) {
    fit <- r$value
    out[[length(out) + 1]] <- list(id = "rma.uni/REML/mods=x", method = "REML", mods = TRUE,
      tau2 = fit$tau2, beta = arr(fit$beta), se = arr(fit$se), robust = robust_all(fit, dat$study))
  }
  # metafor's robust() builds its bread from fit$vb, which for test="knha" includes the
  # Knapp-Hartung factor s2w: the robust SE is then scaled by s2w (recorded, not followed).
  dat <- data.frame(yi = ds$yi, vi = ds$vi, study = ds$study)
  r <- capture(rma(yi, vi, data = dat, method = "REML", test = "knha", control = UNI_CONTROL))
  if (!is.null(r$value)) {
    fit <- r$value
    out[[length(out) + 1]] <- list(id = "rma.uni/REML/knha", method = "REML", test = "knha",
      tau2 = fit$tau2, s2w = fit$s2w, beta = arr(fit$beta), se = arr(fit$se),
      robust = list(robust_one(fit, dat$study, TRUE, FALSE)))
  }
  out
}

out_sets <- list()
for (ds in datasets) {
  fits <- list()
  for (method in c("REML", "ML")) for (test in c("z", "t")) {
    fits[[length(fits) + 1]] <- mv_fit(ds, method, test, FALSE)
  }
  if (ds$name %in% c("dat.konstantopoulos2011", "dat.assink2016")) {  # moderator fits
    for (method in c("REML", "ML")) fits[[length(fits) + 1]] <- mv_fit(ds, method, "z", TRUE)
  }
  entry <- list(name = ds$name, source = ds$source, description = ds$description,
                k = length(ds$yi), yi = arr(ds$yi), vi = arr(ds$vi), study = I(ds$study),
                effect = I(ds$effect), x = arr(ds$x), rho = ds$rho, fits = fits)
  if (length(unique(ds$study)) >= 2 && is.null(ds$rho)) entry$uni_fits <- uni_fits(ds)
  out_sets[[length(out_sets) + 1]] <- entry
}

result <- list(
  generator = "tests/reference/generate_multilevel_reference.R",
  generated_utc = format(Sys.time(), "%Y-%m-%dT%H:%M:%SZ", tz = "UTC"),
  metafor_version = as.character(packageVersion("metafor")),
  clubSandwich_version = as.character(packageVersion("clubSandwich")),
  metadat_version = as.character(packageVersion("metadat")),
  r_version = R.version.string,
  rma_mv_controls = MV_CONTROLS,
  rma_uni_control = UNI_CONTROL,
  notes = I(c(
    "rho (when present): rma.mv(yi, V, ...) with V_ij = rho sqrt(v_i v_j) for effects of one study, v_i on the diagonal.",
    "rma.mv(yi, vi, random = ~ 1 | study/effect, method, test, control) with the first of rma_mv_controls that converges (recorded per fit); sigma2 = (study, effect).",
    "fit_stats are metafor's fit.stats (ML and REML columns); logLik/AIC/BIC are for the fitted method.",
    "robust: CR0 = robust(adjust=FALSE), CR1 = robust(adjust=TRUE), CR2 = robust(clubSandwich=TRUE) (vcovCR CR2, Satterthwaite df); cluster = study; vb is column-major.",
    "uni_fits: rma(yi, vi, method) ignoring the nesting, with the same robust() variants clustered by study.",
    "rma.uni/REML/knha: metafor 3.8-1 robust() uses fit$vb, which includes the Knapp-Hartung factor s2w, so its robust SE is s2w times the CR1 SE of the same REML fit with test z (alsmeta does not apply s2w)."
  )),
  datasets = out_sets
)

writeLines(to_json(result), out_path)
cat("wrote", out_path, "\n")
