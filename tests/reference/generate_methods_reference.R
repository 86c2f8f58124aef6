# Reference values from R metafor for the methods of issue 18 (user weights and GENQ, tau2
# confidence intervals by Q-profile, profile likelihood and Biggerstaff-Jackson, logLik/AIC/
# BIC/AICc and likelihood-ratio tests, Henmi-Copas, selection models) and issue 16 (predict
# with transf and newmods, blup, ranef).
#
# Usage (from the repository root):
#   Rscript tests/reference/generate_methods_reference.R tests/reference/metafor_methods.json
#
# Needs the Debian packages r-base-core r-cran-metafor r-cran-metadat r-cran-jsonlite
# r-cran-numderiv, and the R package CompQuadForm (not in Debian; confint(type="GENQ") calls its
# farebrother()). See tests/reference/README.md. Every input is stored in the JSON (the
# `datasets` list), so the Python tests need neither R nor metadat. Numbers are exact doubles
# (json_exact.R); NA is null. Every warning and error metafor emits is recorded as a string.
suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})
script_dir <- dirname(normalizePath(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))))
source(file.path(script_dir, "json_exact.R"))
if (!requireNamespace("CompQuadForm", quietly = TRUE)) stop("CompQuadForm is needed for confint(type='GENQ')")

args <- commandArgs(trailingOnly = TRUE)
out_file <- if (length(args) >= 1) args[1] else "tests/reference/metafor_methods.json"

rma_ctrl <- list(threshold = 1e-12, tol = 1e-12, maxiter = 1000)
ci_ctrl <- function(yi, vi) list(tol = 1e-12, maxiter = 1000, tau2.max = max(100, 1e5 * (var(yi) + max(vi))))
hc_ctrl <- list(tol = 1e-12, maxiter = 1000)
sel_ctrls <- list(
  optim = list(optimizer = "optim", optmethod = "BFGS", reltol = 1e-14, maxit = 10000),
  nlminb = list(optimizer = "nlminb", rel.tol = 1e-12, iter.max = 10000, eval.max = 20000))
# nlminb reports "false convergence" at rel.tol 1e-12 on some fits: fall back to 1e-11, then 1e-10
nlminb_fallback <- c(1e-12, 1e-11, 1e-10)

# ------------------------------------------------------------------ data sets
bcg <- escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
lee <- escalc(measure = "OR", ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = dat.lee2004)
hack <- dat.hackshaw1998
colditz <- escalc(measure = "OR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.colditz1994)
preston <- escalc(measure = "OR", ai = c(4, 0, 34, 7, 6, 1, 0, 11, 2, 0, 0, 33),
                  n1i = c(19, 18, 341, 71, 45, 94, 22, 88, 82, 33, 15, 221),
                  ci = c(5, 0, 50, 16, 5, 8, 0, 12, 7, 0, 1, 43),
                  n2i = c(19, 18, 334, 69, 44, 96, 22, 82, 84, 30, 20, 218), drop00 = TRUE)
preston <- preston[!is.na(preston$yi), ]
bask_sei <- c(0.52, 0.46, 0.23, 0.18, 0.29, 0.29, 0.36, 0.37, 0.15, 0.40, 0.32, 0.57, 0.29, 0.19, 0.31, 0.27, 0.32, 0.32, 0.18, 0.18, 0.31, 0.53, 0.27)

make_set <- function(name, source, labels, yi, vi, mods = NULL, weights = NULL) {
  list(name = name, source = source, labels = I(as.character(labels)), yi = vec(yi), vi = vec(vi),
       mods = if (is.null(mods)) setNames(list(), character(0)) else lapply(mods, vec),
       weights = if (is.null(weights)) setNames(list(), character(0)) else lapply(weights, vec))
}
datasets <- list(
  make_set("dat.bcg", "metadat::dat.bcg; escalc(measure=\"RR\", ai=tpos, bi=tneg, ci=cpos, di=cneg)",
           paste(bcg$author, bcg$year), bcg$yi, bcg$vi, mods = list(ablat = bcg$ablat, year = bcg$year),
           weights = list(n_total = with(dat.bcg, tpos + tneg + cpos + cneg))),
  make_set("dat.lee2004", "metadat::dat.lee2004; escalc(measure=\"OR\", ai=ai, n1i=n1i, ci=ci, n2i=n2i)",
           paste(lee$study, lee$year), lee$yi, lee$vi, mods = list(year = lee$year),
           weights = list(n_total = lee$n1i + lee$n2i)),
  make_set("dat.hackshaw1998", "metadat::dat.hackshaw1998 (yi = log OR, vi as given)",
           paste(hack$author, hack$year), hack$yi, hack$vi, mods = list(year = hack$year)),
  make_set("preston2004", "Preston et al. (2004) 2x2 tables as in metafor's test_misc_selmodel.r; escalc(\"OR\", drop00=TRUE), the two double-zero tables removed",
           seq_len(nrow(preston)), preston$yi, preston$vi),
  make_set("baskerville2012", "Baskerville et al. (2012) yi, sei, xi as in metafor's test_misc_selmodel.r (vi = sei^2)",
           seq_along(bask_sei), c(1.01, 0.82, 0.59, 0.44, 0.84, 0.73, 1.12, 0.04, 0.24, 0.32, 1.04, 1.31, 0.59, 0.66, 0.62, 0.47, 1.08, 0.98, 0.26, 0.39, 0.60, 0.94, 0.11),
           bask_sei^2, mods = list(xi = c(1, 0, 0, 0, 1, 0, 1, 1, 0, 0, 0, 1, 1, 0, 1, 1, 0, 1, 1, 1, 1, 1, 1))),
  make_set("jackson2014.ex1", "Jackson et al. (2014) example 1 (yi, vi, xi) as in metafor's test_analysis_example_jackson2014.r",
           seq_len(16), c(0.0267, 0.8242, 0.3930, 2.4405, 2.1401, 1.2528, 2.4849, 0.3087, 1.4246, 0.1823, 1.1378, 1.2321, 2.0695, 4.0237, 1.4383, 1.6021),
           c(0.1285, 0.0315, 0.0931, 2.0967, 1.0539, 0.1602, 1.0235, 0.0218, 0.5277, 0.0556, 0.3304, 0.1721, 0.4901, 2.0200, 0.3399, 0.1830),
           mods = list(xi = c(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1))),
  make_set("dat.colditz1994", "metadat::dat.colditz1994; escalc(measure=\"OR\", ai=tpos, bi=tneg, ci=cpos, di=cneg); year - 1900",
           paste(colditz$author, colditz$year), colditz$yi, colditz$vi, mods = list(year = colditz$year - 1900)),
  make_set("edge.homogeneous", "hand-made: Q < k - 1, so tau2 = 0 and the lower tau2 bounds are 0",
           LETTERS[1:5], c(0.10, 0.12, 0.09, 0.11, 0.10), c(0.010, 0.020, 0.015, 0.010, 0.030))
)
by_name <- setNames(datasets, vapply(datasets, function(d) d$name, character(1)))
Y <- function(d) num(by_name[[d]]$yi)
V <- function(d) num(by_name[[d]]$vi)
X <- function(d, m) num(by_name[[d]]$mods[[m]])

# ------------------------------------------------------------------ pieces
coefs <- function(f) {
  list(beta = vec(f$beta), se = vec(f$se), zval = vec(f$zval), pval = vec(f$pval),
       ci_lb = vec(f$ci.lb), ci_ub = vec(f$ci.ub))
}
het <- function(f) {
  list(tau2 = num(f$tau2), se_tau2 = num(f$se.tau2), QE = num(f$QE), QEp = num(f$QEp),
       I2 = num(f$I2), H2 = num(f$H2), k = f$k, p = f$p)
}
rec <- function(r, body) {
  x <- if (is.null(r$error)) body(r$value) else list(failed = TRUE, error = r$error)
  c(x, list(warnings = r$warnings, messages = r$messages))
}
fit_rma <- function(d, method, mods = NULL, weights = NULL, test = "z", tau2 = NULL) {
  a <- list(yi = Y(d), vi = V(d), method = method, test = test, control = rma_ctrl)
  if (!is.null(mods)) a$mods <- X(d, mods)
  if (!is.null(weights)) a$weights <- weights
  if (!is.null(tau2)) a$tau2 <- tau2
  capture(do.call(rma, a))
}

# ------------------------------------------------------------------ 1. user weights and GENQ
weight_choices <- function(d) {
  w <- list(inv_vi = 1 / V(d), inv_sei = 1 / sqrt(V(d)), unit = rep(1, length(V(d))))
  c(w, lapply(by_name[[d]]$weights, num))
}
weights_section <- list()
for (d in c("dat.bcg", "dat.lee2004", "dat.hackshaw1998", "edge.homogeneous")) {
  for (wn in names(weight_choices(d))) {
    w <- weight_choices(d)[[wn]]
    for (m in c("GENQ", "REML", "DL", "ML")) {
      r <- fit_rma(d, m, weights = w)
      weights_section[[length(weights_section) + 1]] <- c(
        list(dataset = d, method = m, weights_name = wn, mods = NULL, weights = vec(w),
             call = sprintf("rma(yi, vi, weights=%s, method=\"%s\")", wn, m)),
        rec(r, function(f) c(coefs(f), het(f), list(weights_pct = vec(weights(f))))))
    }
  }
}
for (wn in c("inv_vi", "inv_sei")) {  # GENQ meta-regression (as in Jackson et al. 2014)
  w <- weight_choices("dat.bcg")[[wn]]
  r <- fit_rma("dat.bcg", "GENQ", mods = "ablat", weights = w)
  weights_section[[length(weights_section) + 1]] <- c(
    list(dataset = "dat.bcg", method = "GENQ", weights_name = wn, mods = "ablat", weights = vec(w),
         call = sprintf("rma(yi, vi, mods=~ablat, weights=%s, method=\"GENQ\")", wn)),
    rec(r, function(f) c(coefs(f), het(f), list(QM = num(f$QM), QMp = num(f$QMp), weights_pct = vec(weights(f))))))
}

# ------------------------------------------------------------------ 2. tau2 confidence intervals
ci_body <- function(ci) {
  rnd <- ci$random
  list(tau2_estimate = num(rnd["tau^2", 1]), tau2_ci = vec(rnd["tau^2", 2:3]),
       tau_ci = vec(rnd["tau", 2:3]), I2_ci = vec(rnd["I^2(%)", 2:3]), H2_ci = vec(rnd["H^2", 2:3]),
       I2_estimate = num(rnd["I^2(%)", 1]), H2_estimate = num(rnd["H^2", 1]))
}
tau2_ci_section <- list()
ci_cases <- list(
  list(method = "REML", type = "QP"), list(method = "DL", type = "QP"), list(method = "ML", type = "QP"),
  list(method = "REML", type = "PL"), list(method = "ML", type = "PL"),
  list(method = "GENQ", weights = "inv_vi", type = "GENQ"),
  list(method = "GENQ", weights = "inv_sei", type = "GENQ"),
  list(method = "DL", type = "GENQ"),
  list(method = "REML", type = "PL", level = 90), list(method = "GENQ", weights = "inv_vi", type = "GENQ", level = 90),
  list(method = "REML", type = "PL", mods = "main"), list(method = "ML", type = "PL", mods = "main"),
  list(method = "REML", type = "QP", mods = "main"),
  list(method = "GENQ", weights = "inv_vi", type = "GENQ", mods = "main"),
  list(method = "GENQ", weights = "inv_sei", type = "GENQ", mods = "main"))
for (d in c("dat.bcg", "dat.lee2004", "dat.hackshaw1998", "jackson2014.ex1", "dat.colditz1994", "edge.homogeneous")) {
  for (cc in ci_cases) {
    if (!is.null(cc$mods)) {
      if (length(by_name[[d]]$mods) == 0) next
      cc$mods <- names(by_name[[d]]$mods)[1]
    }
    level <- if (is.null(cc$level)) 95 else cc$level
    w <- if (is.null(cc$weights)) NULL else weight_choices(d)[[cc$weights]]
    f <- fit_rma(d, cc$method, mods = cc$mods, weights = w)$value
    con <- ci_ctrl(Y(d), V(d))
    r <- capture(confint(f, type = cc$type, level = level, control = con))
    call <- sprintf("confint(rma(yi, vi%s%s, method=\"%s\"), type=\"%s\", level=%d, control=confint_control)",
                    if (is.null(cc$mods)) "" else paste0(", mods=~", cc$mods),
                    if (is.null(cc$weights)) "" else paste0(", weights=", cc$weights), cc$method, cc$type, level)
    tau2_ci_section[[length(tau2_ci_section) + 1]] <- c(
      list(dataset = d, method = cc$method, type = cc$type, level = level, mods = cc$mods,
           weights_name = cc$weights, call = call, fit_tau2 = num(f$tau2), confint_control = con),
      rec(r, function(ci) c(ci_body(ci), list(
        tau2_ub_at_search_limit = isTRUE(ci$random["tau^2", 3] >= con$tau2.max)))))
  }
}

# ------------------------------------------------------------------ 3. fit statistics and LRTs
fs_body <- function(f) {
  fs <- fitstats(f)
  list(logLik = num(fs["logLik:", 1]), deviance = num(fs["deviance:", 1]), AIC = num(fs["AIC:", 1]),
       BIC = num(fs["BIC:", 1]), AICc = num(fs["AICc:", 1]), parms = f$parms, k = f$k, p = f$p,
       tau2 = num(f$tau2), beta = vec(f$beta), fit_stats_ML = vec(f$fit.stats[, "ML"]),
       fit_stats_REML = vec(f$fit.stats[, "REML"]))
}
fitstats_section <- list()
anova_section <- list()
mod_of <- list(dat.bcg = "ablat", dat.lee2004 = "year", dat.hackshaw1998 = "year")
for (d in names(mod_of)) {
  for (m in c("ML", "REML")) {
    full <- fit_rma(d, m, mods = mod_of[[d]])
    red <- fit_rma(d, m)
    red0 <- fit_rma(d, m, tau2 = 0)
    for (item in list(list(r = red, mods = NULL, tau2 = NULL), list(r = full, mods = mod_of[[d]], tau2 = NULL),
                      list(r = red0, mods = NULL, tau2 = 0))) {
      fitstats_section[[length(fitstats_section) + 1]] <- c(
        list(dataset = d, method = m, mods = item$mods, tau2_fixed = item$tau2,
             call = sprintf("fitstats(rma(yi, vi%s%s, method=\"%s\"))",
                            if (is.null(item$mods)) "" else paste0(", mods=~", item$mods),
                            if (is.null(item$tau2)) "" else ", tau2=0", m)),
        rec(item$r, fs_body))
    }
    for (pair in list(list(f = full, r = red, what = "mods", desc = paste0("mods=~", mod_of[[d]], " vs intercept only")),
                      list(f = red, r = red0, what = "tau2", desc = "tau2 estimated vs tau2=0 (same fixed effects)"))) {
      a <- capture(anova(pair$f$value, pair$r$value))
      anova_section[[length(anova_section) + 1]] <- c(
        list(dataset = d, method = m, compares = pair$what, description = pair$desc,
             call = sprintf("anova(full, reduced), both method=\"%s\"", m)),
        rec(a, function(x) list(LRT = num(x$LRT), df = num(x$parms.f - x$parms.r), pval = num(x$pval),
                                parms_full = num(x$parms.f), parms_reduced = num(x$parms.r),
                                logLik_full = num(x$fit.stats.f["ll"]), logLik_reduced = num(x$fit.stats.r["ll"]),
                                AIC_full = num(x$fit.stats.f["AIC"]), AIC_reduced = num(x$fit.stats.r["AIC"]),
                                BIC_full = num(x$fit.stats.f["BIC"]), BIC_reduced = num(x$fit.stats.r["BIC"]),
                                AICc_full = num(x$fit.stats.f["AICc"]), AICc_reduced = num(x$fit.stats.r["AICc"]),
                                QE_full = num(x$QE.f), QE_reduced = num(x$QE.r),
                                tau2_full = num(x$tau2.f), tau2_reduced = num(x$tau2.r), R2 = num(x$R2))))
    }
  }
}
# anova() with the arguments in the other order (reduced first): metafor reorders by parms
a <- capture(anova(fit_rma("dat.bcg", "ML")$value, fit_rma("dat.bcg", "ML", mods = "ablat")$value))
anova_section[[length(anova_section) + 1]] <- c(
  list(dataset = "dat.bcg", method = "ML", compares = "mods", description = "reduced given first",
       call = "anova(reduced, full), both method=\"ML\""),
  rec(a, function(x) list(LRT = num(x$LRT), df = num(x$parms.f - x$parms.r), pval = num(x$pval))))

# ------------------------------------------------------------------ 4. Henmi-Copas
# hc() solves its CI equation with uniroot(tol = control$tol) around integrate() at integrate's
# default rel.tol (about 1.2e-4). To measure what that costs, hc_fine is metafor's own
# hc.rma.uni evaluated in an environment whose integrate() uses rel.tol = 1e-13.
hc_fine <- metafor:::hc.rma.uni
hc_env <- new.env(parent = asNamespace("metafor"))
hc_env$integrate <- function(f, lower, upper, ...) {
  stats::integrate(f, lower, upper, rel.tol = 1e-13, abs.tol = 0, subdivisions = 10000L, ...)
}
environment(hc_fine) <- hc_env
hc_section <- list()
for (d in c("dat.lee2004", "dat.hackshaw1998", "dat.bcg")) {
  f <- fit_rma(d, "DL")$value
  for (lv in c(95, 90)) {
    for (cn in c("tight", "default", "tight_integrate")) {
      fl <- if (lv == 95) f else fit_rma(d, "DL")$value
      if (lv != 95) fl <- update(fl, level = lv)
      r <- switch(cn, tight = capture(hc(fl, control = hc_ctrl)), default = capture(hc(fl)),
                  tight_integrate = capture(hc_fine(fl, control = hc_ctrl)))
      hc_section[[length(hc_section) + 1]] <- c(
        list(dataset = d, level = lv, control_name = cn,
             control = if (cn == "default") setNames(list(), character(0)) else hc_ctrl,
             call = sprintf("%s(rma(yi, vi, method=\"DL\", level=%d)%s)", if (cn == "tight_integrate") "hc_fine" else "hc", lv,
                            if (cn == "default") "" else ", control=list(tol=1e-12, maxiter=1000)")),
        rec(r, function(h) list(beta = num(h$beta), se = num(h$se), ci_lb = num(h$ci.lb), ci_ub = num(h$ci.ub),
                                tau2 = num(h$tau2), rma_beta = num(h$beta.rma), rma_se = num(h$se.rma),
                                rma_ci_lb = num(h$ci.lb.rma), rma_ci_ub = num(h$ci.ub.rma))))
    }
  }
}

# ------------------------------------------------------------------ 5. selection models
sel_body <- function(s) {
  list(delta = vec(s$delta), se_delta = vec(s$se.delta), ci_lb_delta = vec(s$ci.lb.delta),
       ci_ub_delta = vec(s$ci.ub.delta), beta = vec(s$beta), se = vec(s$se), zval = vec(s$zval),
       pval = vec(s$pval), ci_lb = vec(s$ci.lb), ci_ub = vec(s$ci.ub), tau2 = num(s$tau2),
       se_tau2 = num(s$se.tau2), logLik = num(s$ll), logLik_no_selection = num(s$ll0), LRT = num(s$LRT),
       LRTdf = num(s$LRTdf), LRTp = num(s$LRTp), LRT_tau2 = num(s$LRT.tau2), LRTp_tau2 = num(s$LRTp.tau2),
       k = s$k, steps = if (s$type == "stepfun") vec(s$steps) else NULL,
       ptable_k = if (is.data.frame(s$ptable)) vec(s$ptable$k) else NULL,
       delta_min = vec(s$delta.min), delta_max = vec(s$delta.max), alternative = s$alternative,
       method_of_fit = s$method)
}
sel_cases <- list()
for (tp in c("beta", "halfnorm", "negexp", "logistic", "power")) {
  alts <- if (tp == "beta") "greater" else c("greater", "two.sided")
  for (alt in alts) sel_cases[[length(sel_cases) + 1]] <- list(d = "dat.hackshaw1998", method = "REML", type = tp, alternative = alt)
}
sel_cases <- c(sel_cases, list(
  list(d = "dat.hackshaw1998", method = "REML", type = "stepfun", alternative = "greater", steps = c(0.05, 0.10, 0.50, 1)),
  list(d = "dat.hackshaw1998", method = "REML", type = "stepfun", alternative = "greater", steps = c(0.025, 1)),
  list(d = "dat.hackshaw1998", method = "REML", type = "stepfun", alternative = "two.sided", steps = c(0.05, 1)),
  list(d = "dat.hackshaw1998", method = "ML", type = "halfnorm", alternative = "greater"),
  list(d = "baskerville2012", method = "ML", type = "beta", alternative = "greater"),
  list(d = "baskerville2012", method = "ML", type = "beta", alternative = "greater", mods = "xi"),
  list(d = "preston2004", method = "EE", type = "halfnorm", alternative = "less"),
  list(d = "preston2004", method = "EE", type = "negexp", alternative = "less"),
  list(d = "preston2004", method = "EE", type = "logistic", alternative = "less"),
  list(d = "preston2004", method = "EE", type = "power", alternative = "less")))
selmodel_section <- list()
for (sc in sel_cases) {
  f <- fit_rma(sc$d, sc$method, mods = sc$mods)$value
  optim_fit <- NULL
  for (on in names(sel_ctrls)) {
    a <- list(f, type = sc$type, alternative = sc$alternative, control = sel_ctrls[[on]])
    if (!is.null(sc$steps)) a$steps <- sc$steps
    r <- capture(do.call(selmodel, a))
    tried <- character(0)
    if (on == "nlminb") {
      for (rt in nlminb_fallback[-1]) {
        if (is.null(r$error)) break
        tried <- c(tried, sprintf("rel.tol=%g: %s", a$control$rel.tol, r$error))
        a$control$rel.tol <- rt
        r <- capture(do.call(selmodel, a))
      }
      if (!is.null(r$error) && !is.null(optim_fit) && optim_fit$type != "stepfun") {
        # last resort: nlminb started at the optim solution
        tried <- c(tried, sprintf("rel.tol=%g: %s", a$control$rel.tol, r$error))
        a$control$beta.init <- num(optim_fit$beta)
        a$control$delta.init <- num(optim_fit$delta)
        if (optim_fit$tau2 > 0 && optim_fit$method != "EE") a$control$tau2.init <- num(optim_fit$tau2)
        r <- capture(do.call(selmodel, a))
      }
    } else {
      optim_fit <- r$value
    }
    selmodel_section[[length(selmodel_section) + 1]] <- c(
      list(dataset = sc$d, fit_method = sc$method, mods = sc$mods, type = sc$type, alternative = sc$alternative,
           steps_requested = if (is.null(sc$steps)) NULL else vec(sc$steps), optimizer = on,
           control = a$control, control_failures = I(tried),
           call = sprintf("selmodel(rma(yi, vi%s, method=\"%s\"), type=\"%s\", alternative=\"%s\"%s, control=control)",
                          if (is.null(sc$mods)) "" else paste0(", mods=~", sc$mods), sc$method, sc$type, sc$alternative,
                          if (is.null(sc$steps)) "" else paste0(", steps=c(", paste(sc$steps, collapse = ", "), ")"))),
      rec(r, sel_body))
  }
}

# within each pair, mark the fit with the higher log-likelihood as the reference
for (i in seq(1, length(selmodel_section), by = 2)) {
  ll <- vapply(selmodel_section[i:(i + 1)], function(e) if (is.null(e$logLik)) -Inf else e$logLik, numeric(1))
  best <- which.max(ll)
  for (j in 1:2) {
    selmodel_section[[i + j - 1]]$reference <- (j == best)
    selmodel_section[[i + j - 1]]$logLik_minus_other <- ll[j] - ll[3 - j]
  }
}

# ------------------------------------------------------------------ 6. predict, blup, ranef
pred_body <- function(p) {
  g <- function(n) if (is.null(p[[n]])) NULL else vec(p[[n]])
  list(pred = g("pred"), se = g("se"), ci_lb = g("ci.lb"), ci_ub = g("ci.ub"), pi_lb = g("pi.lb"), pi_ub = g("pi.ub"))
}
newx <- c(10, 20, 30, 33.46, 40, 55)
predict_section <- list()
add_pred <- function(id, call, fit_id, r) {
  predict_section[[length(predict_section) + 1]] <<- c(list(id = id, fit = fit_id, call = call), rec(r, pred_body))
}
fits_pred <- list(
  list(id = "dat.bcg/REML", d = "dat.bcg", method = "REML", mods = NULL, test = "z"),
  list(id = "dat.bcg/REML/mods=ablat", d = "dat.bcg", method = "REML", mods = "ablat", test = "z"),
  list(id = "dat.bcg/REML/mods=ablat/knha", d = "dat.bcg", method = "REML", mods = "ablat", test = "knha"),
  list(id = "dat.bcg/DL", d = "dat.bcg", method = "DL", mods = NULL, test = "z"),
  list(id = "dat.lee2004/REML", d = "dat.lee2004", method = "REML", mods = NULL, test = "z"))
predict_fits <- list()
for (fp in fits_pred) {
  f <- fit_rma(fp$d, fp$method, mods = fp$mods, test = fp$test)$value
  predict_fits[[length(predict_fits) + 1]] <- c(
    list(id = fp$id, dataset = fp$d, method = fp$method, mods = fp$mods, test = fp$test),
    coefs(f), het(f), list(df = if (fp$test == "z") NULL else num(f$ddf)))
  add_pred(paste0(fp$id, "/predict"), "predict(fit)", fp$id, capture(predict(f)))
  add_pred(paste0(fp$id, "/predict/transf=exp"), "predict(fit, transf=exp)", fp$id, capture(predict(f, transf = exp)))
  if (!is.null(fp$mods)) {
    add_pred(paste0(fp$id, "/predict/newmods"), "predict(fit, newmods=newmods)", fp$id, capture(predict(f, newmods = newx)))
    add_pred(paste0(fp$id, "/predict/newmods/transf=exp"), "predict(fit, newmods=newmods, transf=exp)", fp$id,
             capture(predict(f, newmods = newx, transf = exp)))
  }
  add_pred(paste0(fp$id, "/blup"), "blup(fit)", fp$id, capture(blup(f)))
  add_pred(paste0(fp$id, "/blup/transf=exp"), "blup(fit, transf=exp)", fp$id, capture(blup(f, transf = exp)))
  add_pred(paste0(fp$id, "/ranef"), "ranef(fit)", fp$id, capture(ranef(f)))
}

out <- c(versions(), list(
  compquadform_version = as.character(packageVersion("CompQuadForm")),
  numderiv_version = as.character(packageVersion("numDeriv")),
  generator = "tests/reference/generate_methods_reference.R",
  generated_utc = format(Sys.time(), "%Y-%m-%dT%H:%M:%SZ", tz = "UTC"),
  rma_control = rma_ctrl, hc_control = hc_ctrl, selmodel_controls = sel_ctrls,
  newmods = vec(newx),
  notes = I(c(
    "datasets holds every input; every other entry names its dataset. mods and weights are columns of that dataset, named in the entry.",
    "Arrays beta/se/zval/pval/ci_lb/ci_ub have one element per coefficient (intercept first).",
    "confint_control is recorded per tau2_ci entry: tol=1e-12, maxiter=1000, tau2.max = max(100, 1e5 * (var(yi) + max(vi))).",
    "Biggerstaff-Jackson CI for DL: confint(rma(yi, vi, weights=1/vi, method=\"GENQ\"), type=\"GENQ\") (entries type GENQ, weights_name inv_vi).",
    "selmodel entries come in pairs (optimizer optim/BFGS, then nlminb); the one with the higher logLik has reference=true, logLik_minus_other is its lead."
  )),
  datasets = datasets,
  weights = weights_section,
  tau2_ci = tau2_ci_section,
  fitstats = fitstats_section,
  anova = anova_section,
  hc = hc_section,
  selmodel = selmodel_section,
  predict_fits = predict_fits,
  predict = predict_section
))
write_exact_json(out, out_file)
cat("wrote", out_file, "\n")
