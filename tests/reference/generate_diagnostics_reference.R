# Reference values from R metafor for alsmeta's diagnostics:
#   publication bias (regtest, ranktest, trimfill, fsn, PET-PEESE via regtest, selmodel),
#   sensitivity (leave1out, influence, cumul, gosh, estimator sweep),
#   moderators (subgroups, meta-regression with every tau2 estimator, permutest).
#
# Usage (from the repository root):
#   Rscript tests/reference/generate_diagnostics_reference.R tests/reference/metafor_diagnostics.json
#
# Needs the Debian packages r-base-core r-cran-metafor r-cran-metadat r-cran-jsonlite
# (and r-cran-numderiv, which selmodel() uses for its Hessian).
# Every model is fitted with tight convergence control (see `ctrl`), so that the values
# are the exact solutions of metafor's estimating equations, not its default-tolerance
# approximations; the controls and the metafor version are written into the JSON.
suppressMessages(library(metafor))
script_dir <- dirname(normalizePath(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))))
source(file.path(script_dir, "json_exact.R"))  # to_json, num, write_exact_json: the shared writer
args <- commandArgs(trailingOnly = TRUE)
out_file <- if (length(args) >= 1) args[1] else "tests/reference/metafor_diagnostics.json"

ctrl <- list(threshold = 1e-12, tol = 1e-12, maxiter = 1000)
# selmodel(): optim(BFGS) on the likelihood; unknown control names go to optim()
sel_ctrl <- list(reltol = 1e-14, maxit = 10000)
perm_iter <- 1000
perm_seed <- 1234
methods <- c("EE", "DL", "HE", "HS", "HSk", "SJ", "ML", "REML", "EB", "PM", "PMM")
reg_methods <- c("EE", "DL", "HE", "HS", "HSk", "SJ", "ML", "REML", "EB", "PM", "PMM")
tests <- c("z", "t", "knha", "adhoc")

safe <- function(expr) tryCatch(suppressWarnings(expr), error = function(e) list(error = conditionMessage(e)))
failed <- function(x) is.list(x) && !is.null(x$error) && length(x) == 1
rma_t <- function(...) rma(..., control = ctrl)
# treatment-coded dummies (first level in sort order is the reference), as factor() would give
dummies <- function(g) { levs <- sort(unique(g)); sapply(levs[-1], function(l) as.numeric(g == l)) }

# ------------------------------------------------------------------ data sets
make_sets <- function() {
  sets <- list()
  d <- escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
  sets[[length(sets) + 1]] <- list(name = "dat.bcg", measure = "RR", yi = c(d$yi), vi = c(d$vi),
    labels = paste(d$author, d$year), x = d$ablat, x_name = "ablat", group = as.character(d$alloc),
    group_name = "alloc", order = d$year)
  d <- escalc(measure = "OR", ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = dat.egger2001)
  sets[[length(sets) + 1]] <- list(name = "dat.egger2001", measure = "OR", yi = c(d$yi), vi = c(d$vi),
    labels = paste(d$study, d$year), x = d$year, x_name = "year",
    group = ifelse(d$year < 1990, "before 1990", "1990 or later"), group_name = "period", order = d$year)
  d2 <- d[d$study != "ISIS-4", ]
  sets[[length(sets) + 1]] <- list(name = "dat.egger2001 (without ISIS-4)", measure = "OR", yi = c(d2$yi),
    vi = c(d2$vi), labels = paste(d2$study, d2$year), x = d2$year, x_name = "year",
    group = ifelse(d2$year < 1990, "before 1990", "1990 or later"), group_name = "period", order = d2$year)
  d <- dat.hackshaw1998
  sets[[length(sets) + 1]] <- list(name = "dat.hackshaw1998", measure = "OR", yi = c(d$yi), vi = c(d$vi),
    labels = paste(d$author, d$year), x = d$year, x_name = "year", group = as.character(d$design),
    group_name = "design", order = d$year)
  d <- dat.raudenbush1985
  sets[[length(sets) + 1]] <- list(name = "dat.raudenbush1985", measure = "SMD", yi = c(d$yi), vi = c(d$vi),
    labels = paste(d$author, d$year), x = d$weeks, x_name = "weeks", group = as.character(d$tester),
    group_name = "tester", order = d$year)
  d <- escalc(measure = "OR", ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = dat.lee2004)
  sets[[length(sets) + 1]] <- list(name = "dat.lee2004", measure = "OR", yi = c(d$yi), vi = c(d$vi),
    labels = paste(d$study, d$year), x = d$year, x_name = "year",
    group = ifelse(d$year < 1998, "before 1998", "1998 or later"), group_name = "period", order = d$year)
  d <- escalc(measure = "MD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i,
    data = dat.normand1999)
  sets[[length(sets) + 1]] <- list(name = "dat.normand1999", measure = "MD", yi = c(d$yi), vi = c(d$vi),
    labels = d$source, x = log(d$n1i + d$n2i), x_name = "log_n",
    group = ifelse(grepl("Orpington", d$source), "Orpington", "other"), group_name = "centre",
    order = NULL)
  # study labels must be unique (alsmeta rejects duplicates): "Shechter 1986 #1", ...
  lapply(sets, function(s) { s$labels <- make.unique(s$labels, sep = " #"); s })
}

# ------------------------------------------------------------------ pieces
fit_summary <- function(fit) {
  list(estimate = num(fit$beta), se = num(fit$se), zval = num(fit$zval), pval = num(fit$pval),
       ci_lb = num(fit$ci.lb), ci_ub = num(fit$ci.ub), tau2 = num(fit$tau2), se_tau2 = num(fit$se.tau2),
       QE = num(fit$QE), QEp = num(fit$QEp), I2 = num(fit$I2), H2 = num(fit$H2), k = fit$k)
}

egger <- function(fit) {
  res <- list()
  for (model in c("lm", "rma")) {
    for (pred in c("sei", "vi")) {
      r <- safe(regtest(fit, model = model, predictor = pred))
      if (failed(r)) { res[[paste(model, pred, sep = "_")]] <- r; next }
      item <- list(statistic = num(r$zval), pval = num(r$pval), df = num(r$dfs), est = num(r$est),
                   ci_lb = num(r$ci.lb), ci_ub = num(r$ci.ub))
      if (model == "lm") {
        co <- coef(summary(r$fit))
        item$coef <- num(co[, 1]); item$coef_se <- num(co[, 2]); item$coef_t <- num(co[, 3]); item$coef_p <- num(co[, 4])
      } else {
        item$coef <- num(r$fit$beta); item$coef_se <- num(r$fit$se); item$tau2 <- num(r$fit$tau2)
      }
      res[[paste(model, pred, sep = "_")]] <- item
    }
  }
  res
}

trimfills <- function(fit) {
  res <- list()
  for (est in c("L0", "R0", "Q0")) {
    tf <- safe(trimfill(fit, estimator = est, control = ctrl))
    if (failed(tf)) { res[[est]] <- tf; next }
    item <- c(fit_summary(tf), list(k0 = num(tf$k0), se_k0 = num(tf$se.k0), side = tf$side,
              p_k0 = if (is.na(tf$p.k0)) NULL else num(tf$p.k0), yi = num(tf$yi), vi = num(tf$vi),
              fill = as.logical(tf$fill)))
    res[[est]] <- item
  }
  # side given explicitly (the other side from the one metafor picks)
  tf0 <- safe(trimfill(fit, control = ctrl))
  if (!failed(tf0)) {
    other <- if (tf0$side == "left") "right" else "left"
    tf <- safe(trimfill(fit, side = other, control = ctrl))
    if (!failed(tf)) res[[paste0("L0_", other)]] <- c(fit_summary(tf), list(k0 = num(tf$k0), side = tf$side))
  }
  res
}

fsns <- function(yi, vi) {
  res <- list()
  r <- fsn(yi, vi, type = "Rosenthal"); res$rosenthal <- list(n = num(r$fsnum), pval = num(r$pval), alpha = 0.05)
  r <- fsn(yi, vi, type = "Rosenthal", alpha = 0.01); res$rosenthal_01 <- list(n = num(r$fsnum), pval = num(r$pval), alpha = 0.01)
  r <- fsn(yi, vi, type = "Orwin"); res$orwin <- list(n = num(r$fsnum), meanes = num(r$meanes), target = num(r$target))
  r <- fsn(yi, vi, type = "Orwin", target = 0.05); res$orwin_005 <- list(n = num(r$fsnum), meanes = num(r$meanes), target = num(r$target))
  r <- fsn(yi, vi, type = "Orwin", weighted = TRUE); res$orwin_weighted <- list(n = num(r$fsnum), meanes = num(r$meanes), target = num(r$target))
  r <- fsn(yi, vi, type = "Rosenberg"); res$rosenberg <- list(n = num(r$fsnum), pval = num(r$pval), meanes = num(r$meanes))
  res
}

leave1 <- function(fit) {
  l <- leave1out(fit)
  list(estimate = num(l$estimate), se = num(l$se), zval = num(l[[3]]), pval = num(l$pval),
       ci_lb = num(l$ci.lb), ci_ub = num(l$ci.ub), Q = num(l$Q), Qp = num(l$Qp),
       tau2 = num(l$tau2), I2 = num(l$I2), H2 = num(l$H2))
}

infl <- function(fit) {
  inf <- influence(fit)
  list(rstudent = num(inf$inf$rstudent), dffits = num(inf$inf$dffits), cook_d = num(inf$inf$cook.d),
       cov_r = num(inf$inf$cov.r), tau2_del = num(inf$inf$tau2.del), QE_del = num(inf$inf$QE.del),
       hat = num(inf$inf$hat), weight = num(inf$inf$weight), dfbs = num(inf$dfbs[[1]]),
       dfbs_all = lapply(seq_len(fit$p), function(j) num(inf$dfbs[[j]])),
       inf = as.logical(inf$is.infl))
}

cumul_res <- function(fit, order) {
  cm <- if (is.null(order)) cumul(fit) else do.call(cumul, list(fit, order = order))
  list(estimate = num(cm$estimate), se = num(cm$se), zval = num(cm[[3]]), pval = num(cm$pvals),
       ci_lb = num(cm$ci.lb), ci_ub = num(cm$ci.ub), Q = num(cm$Q), Qp = num(cm$Qp),
       tau2 = num(cm$tau2), I2 = num(cm$I2), H2 = num(cm$H2), slab = as.character(cm$slab))
}

bits <- function(incl) apply(incl, 1, function(r) paste(as.integer(r), collapse = ""))

gosh_full <- function(fit) {
  g <- gosh(fit, progbar = FALSE)
  list(exact = TRUE, incl = bits(g$incl), k = num(g$res$k), QE = num(g$res$QE), I2 = num(g$res$I2),
       H2 = num(g$res$H2), tau2 = num(g$res$tau2), estimate = num(g$res$estimate))
}

gosh_sample <- function(yi, vi, method, n = 150, seed = 42) {
  # fits of metafor's rma() on a fixed random sample of subsets (the full set is too large to store)
  set.seed(seed)
  k <- length(yi)
  incl <- t(sapply(seq_len(n), function(i) {
    m <- sample(seq_len(k), 1)
    seq_len(k) %in% sample(k, m)
  }))
  # a subset on which metafor's Fisher scoring fails is recorded as NA (null)
  fits <- lapply(seq_len(n), function(i) safe(rma_t(yi[incl[i, ]], vi[incl[i, ]], method = method)))
  get <- function(name) sapply(fits, function(f) if (failed(f)) NA_real_ else c(f[[name]]))
  list(exact = FALSE, incl = bits(incl), k = num(rowSums(incl)), QE = get("QE"), I2 = get("I2"),
       H2 = get("H2"), tau2 = get("tau2"), estimate = get("beta"))
}

sweep <- function(yi, vi) {
  out <- list()
  for (m in methods) for (t in tests) {
    f <- safe(rma_t(yi, vi, method = m, test = t))
    if (failed(f)) { out[[length(out) + 1]] <- list(method = m, test = t, error = f$error); next }
    out[[length(out) + 1]] <- c(list(method = m, test = t), fit_summary(f))
  }
  out
}

reg_summary <- function(f) {
  list(coef = num(f$beta), se = num(f$se), zval = num(f$zval), pval = num(f$pval), ci_lb = num(f$ci.lb),
       ci_ub = num(f$ci.ub), tau2 = num(f$tau2), se_tau2 = num(f$se.tau2), QM = num(f$QM), QMp = num(f$QMp),
       QMdf = num(f$QMdf), QE = num(f$QE), QEp = num(f$QEp), I2 = num(f$I2), H2 = num(f$H2),
       R2 = if (is.null(f$R2)) NULL else num(f$R2), ll_ML = num(f$fit.stats["ll", "ML"]),
       ll_REML = num(f$fit.stats["ll", "REML"]), s2w = num(f$s2w), k = f$k, p = f$p)
}

metareg <- function(yi, vi, x) {
  out <- list()
  for (m in reg_methods) for (t in c("z", "knha")) {
    f <- safe(rma_t(yi, vi, mods = x, method = m, test = t))
    if (failed(f)) { out[[length(out) + 1]] <- list(method = m, test = t, error = f$error); next }
    out[[length(out) + 1]] <- c(list(method = m, test = t), reg_summary(f))
  }
  out
}

subgroups <- function(yi, vi, group, method) {
  levs <- sort(unique(group))
  sep <- lapply(levs, function(g) rma_t(yi[group == g], vi[group == g], method = method))
  est <- sapply(sep, function(f) c(f$beta)); se <- sapply(sep, function(f) f$se)
  wald <- rma(est, sei = se, mods = dummies(levs), method = "EE")
  common <- rma_t(yi, vi, mods = dummies(group), method = method)
  list(method = method, levels = levs,
       separate = lapply(sep, fit_summary),
       Qb = num(wald$QM), Qb_df = num(wald$QMdf[1]), Qb_p = num(wald$QMp),
       common = reg_summary(common))
}

perm <- function(fit, label) {
  set.seed(perm_seed)
  p <- permutest(fit, iter = perm_iter, seed = perm_seed, progbar = FALSE)
  list(model = label, pval = num(p$pval), QMp = num(p$QMp), exact_iter = num(p$exact.iter),
       exact = p$exact.iter <= perm_iter, iter = perm_iter, seed = perm_seed,
       zval = num(fit$zval), QM = num(fit$QM))
}

selm <- function(yi, vi, steps, alternative = "greater") {
  fit <- rma_t(yi, vi, method = "ML")
  s <- safe(selmodel(fit, type = "stepfun", steps = steps, alternative = alternative, control = sel_ctrl))
  if (failed(s)) return(c(list(steps = steps, alternative = alternative), s))
  list(steps = num(s$steps), alternative = alternative, estimate = num(s$beta), se = num(s$se), zval = num(s$zval), pval = num(s$pval),
       ci_lb = num(s$ci.lb), ci_ub = num(s$ci.ub), tau2 = num(s$tau2), se_tau2 = num(s$se.tau2),
       delta = num(s$delta), se_delta = num(s$se.delta), LRT = num(s$LRT), LRTdf = num(s$LRTdf),
       LRTp = num(s$LRTp), LRT_tau2 = num(s$LRT.tau2), ll = num(s$ll), ll0 = num(s$ll0),
       ptable = num(s$ptable$k))
}

# ------------------------------------------------------------------ run
out <- list()
for (s in make_sets()) {
  message("data set: ", s$name)
  yi <- s$yi; vi <- s$vi
  fit <- rma_t(yi, vi, method = "REML", slab = s$labels)
  fit_ee <- rma_t(yi, vi, method = "EE", slab = s$labels)
  fit_dl <- rma_t(yi, vi, method = "DL", slab = s$labels)
  fit_knha <- rma_t(yi, vi, method = "REML", test = "knha", slab = s$labels)
  res <- list(name = s$name, measure = s$measure, k = length(yi), yi = yi, vi = vi, labels = s$labels,
              x = s$x, x_name = s$x_name, group = s$group, group_name = s$group_name,
              order = if (is.null(s$order)) NULL else s$order)
  res$fit_reml <- fit_summary(fit)
  res$regtest <- list(REML = egger(fit), EE = egger(fit_ee))
  res$ranktest <- {r <- ranktest(fit); list(tau = num(r$tau), pval = num(r$pval))}
  res$trimfill <- list(REML = trimfills(fit), EE = trimfills(fit_ee), DL = trimfills(fit_dl))
  res$fsn <- fsns(yi, vi)
  res$leave1out <- list(REML = leave1(fit), EE = leave1(fit_ee), REML_knha = leave1(fit_knha))
  res$influence <- list(REML = infl(fit), EE = infl(fit_ee), DL = infl(fit_dl), REML_knha = infl(fit_knha))
  res$cumul <- list(REML = cumul_res(fit, s$order), DL_knha = cumul_res(
    rma_t(yi, vi, method = "DL", test = "knha", slab = s$labels), s$order))
  res$gosh <- if (length(yi) <= 10) list(REML = gosh_full(fit), EE = gosh_full(fit_ee)) else
    list(REML = gosh_sample(yi, vi, "REML"), EE = gosh_sample(yi, vi, "EE"))
  res$sweep <- sweep(yi, vi)
  res$metareg <- metareg(yi, vi, s$x)
  res$subgroups <- list(REML = subgroups(yi, vi, s$group, "REML"), DL = subgroups(yi, vi, s$group, "DL"),
                        EE = subgroups(yi, vi, s$group, "EE"))
  reg <- rma_t(yi, vi, mods = s$x, method = "REML")
  sub <- rma_t(yi, vi, mods = dummies(s$group), method = "REML")
  res$influence_metareg <- list(REML = infl(reg), REML_knha = infl(rma_t(yi, vi, mods = s$x, method = "REML",
                                  test = "knha")), DL = infl(rma_t(yi, vi, mods = s$x, method = "DL")))
  res$permutest <- list(intercept = perm(fit, "intercept-only REML"), metareg = perm(reg, "REML ~ x"),
                        subgroup = perm(sub, "REML ~ group"))
  res$selmodel <- list(three_psm = selm(yi, vi, 0.025), three_psm_less = selm(yi, vi, 0.025, "less"))
  if (s$name == "dat.hackshaw1998") res$selmodel$steps4 <- selm(yi, vi, c(0.05, 0.10, 0.50, 1))
  out[[length(out) + 1]] <- res
}

doc <- list(
  generator = "tests/reference/generate_diagnostics_reference.R",
  metafor_version = as.character(packageVersion("metafor")),
  metadat_version = as.character(packageVersion("metadat")),
  r_version = R.version.string,
  control = ctrl,
  selmodel_control = sel_ctrl,
  permutest = list(iter = perm_iter, seed = perm_seed),
  notes = paste(
    "All rma() fits use control = list(threshold = 1e-12, tol = 1e-12, maxiter = 1000);",
    "trimfill/leave1out/influence/cumul/gosh/permutest/regtest refit with the control stored in the",
    "model object. selmodel() is optimised with optim(BFGS, reltol = 1e-14, maxit = 10000).",
    "permutest() p-values from random permutations depend on R's RNG and are compared within",
    "Monte Carlo error; exact ones (exact = TRUE) are compared exactly."),
  datasets = out)
write_exact_json(doc, out_file)
message("wrote ", out_file)
