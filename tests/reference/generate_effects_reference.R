# Reference effect sizes from R metafor::escalc() for tests/test_effects.py.
#
# Usage (from the repository root):
#   Rscript tests/reference/generate_effects_reference.R tests/reference/metafor_effects.json
#
# Needs the Debian packages r-base-core r-cran-metafor r-cran-metadat r-cran-jsonlite.
# escalc() is closed form, so no convergence controls are involved; values are
# written as exact doubles (json_exact.R).
#
# Data sets
#   dat.normand1999 (metadat)    two-group means: MD, SMD, ROM
#   dat.bcg (metadat)            2x2 tables without zero cells: OR, RR, RD
#   dat.nielweise2007 (metadat)  2x2 tables with single-zero studies and one
#                                double-zero study (Yucel 2004, 0/118 vs 0/105)
#   Morris (2008), Table 1       pre-post means of a treatment and a control group:
#                                MC, SMCC, SMCR. metadat 1.2 has no dat.morris2008,
#                                so the values are typed in exactly as in metafor's
#                                tests/testthat/test_analysis_example_morris2008.r.
#
# Wan et al. (2014) median/IQR/range conversions are NOT generated here: this
# metafor version has no conv.fivenum() (it arrived in metafor 4.0, and its
# default method is not Wan et al. anyway), so tests/test_conversions.py checks
# them against the published formulas worked by hand.
suppressMessages(library(metafor))
suppressMessages(library(metadat))
script_dir <- dirname(normalizePath(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))))
source(file.path(script_dir, "json_exact.R"))  # to_json, num, write_exact_json: the shared writer

args <- commandArgs(trailingOnly = TRUE)
out_file <- if (length(args) >= 1) args[1] else "tests/reference/metafor_effects.json"

effect <- function(name, es, call) {
  list(name = name, call = call, yi = as.numeric(es$yi), vi = as.numeric(es$vi))
}

# --- two-group means ---------------------------------------------------------
nd <- dat.normand1999
means_args <- "m1i=m1i, sd1i=sd1i, n1i=n1i, m2i=m2i, sd2i=sd2i, n2i=n2i, data=dat.normand1999"
means_effects <- list()
for (spec in list(c("MD", "LS"), c("MD", "HO"), c("SMD", "LS"), c("SMD", "UB"),
                  c("SMD", "LS2"), c("SMD", "AV"), c("ROM", "LS"))) {
  es <- escalc(measure = spec[1], vtype = spec[2], m1i = m1i, sd1i = sd1i, n1i = n1i,
               m2i = m2i, sd2i = sd2i, n2i = n2i, data = nd)
  means_effects[[length(means_effects) + 1]] <- effect(
    paste(spec, collapse = "_"), es,
    sprintf("escalc(measure='%s', vtype='%s', %s)", spec[1], spec[2], means_args))
}

# --- 2x2 tables ----------------------------------------------------------------
counts_block <- function(ai, n1i, ci, n2i, label, settings) {
  res <- list()
  for (s in settings) {
    es <- suppressWarnings(do.call(escalc, c(list(measure = s$measure, ai = ai, n1i = n1i,
                                                  ci = ci, n2i = n2i), s$extra)))
    extra_txt <- if (length(s$extra) == 0) "" else
      paste0(", ", paste(names(s$extra), sapply(s$extra, deparse), sep = "=", collapse = ", "))
    res[[length(res) + 1]] <- c(effect(s$name, es, sprintf(
      "escalc(measure='%s', ai=, n1i=, ci=, n2i= of %s%s)", s$measure, label, extra_txt)),
      list(options = s$extra))
  }
  res
}
no_options <- setNames(list(), character(0))  # written as {} in JSON
defaults <- lapply(c("OR", "RR", "RD"), function(m) list(name = m, measure = m, extra = no_options))

bcg <- dat.bcg
bcg_effects <- counts_block(bcg$tpos, bcg$tpos + bcg$tneg, bcg$cpos, bcg$cpos + bcg$cneg,
                            "dat.bcg (ai=tpos, n1i=tpos+tneg, ci=cpos, n2i=cpos+cneg)", defaults)

nw <- dat.nielweise2007
zero_settings <- defaults
for (m in c("OR", "RR", "RD")) {
  zero_settings[[length(zero_settings) + 1]] <- list(name = paste0(m, "_all"), measure = m,
                                                     extra = list(to = "all"))
  zero_settings[[length(zero_settings) + 1]] <- list(name = paste0(m, "_if0all"), measure = m,
                                                     extra = list(to = "if0all"))
  zero_settings[[length(zero_settings) + 1]] <- list(name = paste0(m, "_drop00"), measure = m,
                                                     extra = list(drop00 = TRUE))
  zero_settings[[length(zero_settings) + 1]] <- list(name = paste0(m, "_add0.25"), measure = m,
                                                     extra = list(add = 0.25))
}
nw_effects <- counts_block(nw$ai, nw$n1i, nw$ci, nw$n2i, "dat.nielweise2007", zero_settings)

# --- pre-post (Morris 2008) -----------------------------------------------------
morris <- list(
  treatment = data.frame(
    m_pre = c(30.6, 23.5, 0.5, 53.4, 35.6), m_post = c(38.5, 26.8, 0.7, 75.9, 36.0),
    sd_pre = c(15.0, 3.1, 0.1, 14.5, 4.7), sd_post = c(11.6, 4.1, 0.1, 4.4, 4.6),
    ni = c(20, 50, 9, 10, 14), ri = c(.47, .64, .77, .89, .44)),
  control = data.frame(
    m_pre = c(23.1, 24.9, 0.6, 55.7, 34.8), m_post = c(19.7, 25.3, 0.6, 60.7, 33.4),
    sd_pre = c(13.8, 4.1, 0.2, 17.3, 3.1), sd_post = c(14.8, 3.3, 0.2, 17.9, 6.9),
    ni = c(20, 42, 9, 11, 14), ri = c(.47, .64, .77, .89, .44)))
prepost <- list()
for (grp in names(morris)) {
  d <- morris[[grp]]
  effects <- list()
  effects[[1]] <- effect("MC", escalc(measure = "MC", m1i = m_post, m2i = m_pre, sd1i = sd_post,
                                      sd2i = sd_pre, ni = ni, ri = ri, data = d),
                         "escalc(measure='MC', m1i=m_post, m2i=m_pre, sd1i=sd_post, sd2i=sd_pre, ni=ni, ri=ri)")
  for (vt in c("LS", "LS2")) {
    effects[[length(effects) + 1]] <- effect(
      paste0("SMCC_", vt),
      escalc(measure = "SMCC", vtype = vt, m1i = m_post, m2i = m_pre, sd1i = sd_post,
             sd2i = sd_pre, ni = ni, ri = ri, data = d),
      sprintf("escalc(measure='SMCC', vtype='%s', m1i=m_post, m2i=m_pre, sd1i=sd_post, sd2i=sd_pre, ni=ni, ri=ri)", vt))
    effects[[length(effects) + 1]] <- effect(
      paste0("SMCR_", vt),
      escalc(measure = "SMCR", vtype = vt, m1i = m_post, m2i = m_pre, sd1i = sd_pre,
             ni = ni, ri = ri, data = d),
      sprintf("escalc(measure='SMCR', vtype='%s', m1i=m_post, m2i=m_pre, sd1i=sd_pre, ni=ni, ri=ri)", vt))
  }
  prepost[[grp]] <- list(data = as.list(d), effects = effects)
}

out <- list(
  generator = "tests/reference/generate_effects_reference.R",
  R_version = R.version.string,
  metafor_version = as.character(packageVersion("metafor")),
  metadat_version = as.character(packageVersion("metadat")),
  controls = "none needed: escalc() is closed form",
  datasets = list(
    normand1999 = list(data = as.list(nd[, c("n1i", "m1i", "sd1i", "n2i", "m2i", "sd2i")]),
                       labels = as.character(nd$source), effects = means_effects),
    bcg = list(data = list(ai = bcg$tpos, n1i = bcg$tpos + bcg$tneg, ci = bcg$cpos,
                           n2i = bcg$cpos + bcg$cneg),
               labels = paste(bcg$author, bcg$year), effects = bcg_effects),
    nielweise2007 = list(data = as.list(nw[, c("ai", "n1i", "ci", "n2i")]),
                         labels = paste(nw$author, nw$year), effects = nw_effects),
    morris2008_treatment = prepost$treatment,
    morris2008_control = prepost$control))

write_exact_json(out, out_file)
cat("wrote", out_file, "\n")
