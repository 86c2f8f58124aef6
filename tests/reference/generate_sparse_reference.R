# Reference values from R metafor for alsmeta.pool_mh and alsmeta.pool_peto (rma.mh, rma.peto).
#
# Usage (from the repository root):
#   Rscript tests/reference/generate_sparse_reference.R tests/reference/metafor_sparse.json
#
# Needs the Debian packages r-base-core r-cran-metafor r-cran-metadat r-cran-jsonlite.
# rma.mh and rma.peto are closed forms (no iteration, no control list), so the values are exact
# up to floating-point rounding. Nothing is dropped silently: a call that fails is recorded as
# {"failed": true, "error": "..."}, and every warning or message metafor emits is recorded as a
# string next to the values it concerns.
#
# Numbers are written with the shortest of %.15g/%.16g/%.17g that reads back to the same double.
# NA is written as null; Inf, -Inf and NaN as the bare tokens Infinity, -Infinity and NaN (read
# by Python's json module as floats).

suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = TRUE)
out_path <- if (length(args) >= 1) args[1] else "tests/reference/metafor_sparse.json"

# fmt_num, to_json, strip_ansi, capture: the JSON writer shared by every generator
script_dir <- dirname(normalizePath(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))))
source(file.path(script_dir, "json_exact.R"))

num1 <- function(x) if (is.null(x) || length(x) == 0) NA_real_ else as.numeric(x)[1]

# ---------------------------------------------------------------------------------------
# Data sets: 2x2 cell counts ai (events, group 1), bi (no event, group 1), ci, di (group 2)
# ---------------------------------------------------------------------------------------
table_set <- function(name, source, description, ai, bi, ci, di, labels) {
  list(name = name, source = source, description = description,
       labels = I(as.character(labels)), ai = I(as.numeric(ai)), bi = I(as.numeric(bi)),
       ci = I(as.numeric(ci)), di = I(as.numeric(di)))
}
from_n <- function(name, d, labels, what) {
  table_set(name, paste0("metadat::", name), paste0("ai, bi = n1i - ai, ci, di = n2i - ci: ", what),
            d$ai, d$n1i - d$ai, d$ci, d$n2i - d$ci, labels)
}
yusuf6 <- dat.yusuf1985[dat.yusuf1985$table == "6", ]
yusuf6_keep <- !(is.na(yusuf6$ai) | is.na(yusuf6$ci) | is.na(yusuf6$n1i) | is.na(yusuf6$n2i))
yusuf6 <- yusuf6[yusuf6_keep, ]

datasets <- list(
  table_set("dat.bcg", "metadat::dat.bcg", "ai=tpos, bi=tneg, ci=cpos, di=cneg: BCG vaccine and tuberculosis, 13 trials",
            dat.bcg$tpos, dat.bcg$tneg, dat.bcg$cpos, dat.bcg$cneg, paste(dat.bcg$author, dat.bcg$year)),
  from_n("dat.nielweise2007", dat.nielweise2007, paste(dat.nielweise2007$author, dat.nielweise2007$year),
         "anti-infective catheters and bloodstream infections; single-zero studies and one double-zero study (0/118 vs 0/105)"),
  from_n("dat.egger2001", dat.egger2001, paste(dat.egger2001$study, dat.egger2001$year),
         "intravenous magnesium and mortality after myocardial infarction; one single-zero study"),
  from_n("dat.li2007", dat.li2007, paste(dat.li2007$study, dat.li2007$year),
         "magnesium and mortality (Li et al. 2007); sparse and very large trials together"),
  from_n("dat.yusuf1985", yusuf6, paste(yusuf6$trial, yusuf6$id),
         sprintf("table 6 only (beta blockers), %d rows with missing counts removed", sum(!yusuf6_keep))),
  table_set("edge.sparse", "hand-made", "single-zero, double-zero (no events) and all-events studies",
            c(0, 2, 0, 5, 1, 10), c(20, 18, 30, 15, 24, 0), c(3, 0, 0, 9, 4, 12), c(17, 21, 28, 11, 21, 0),
            c("A", "B", "C", "D", "E", "F")),
  table_set("edge.k1", "hand-made", "one study", c(4), c(16), c(9), c(11), c("Only")),
  table_set("edge.k2", "hand-made", "two studies", c(4, 1), c(16, 30), c(9, 6), c(11, 25), c("P", "Q")),
  table_set("edge.noevents_arm2", "hand-made", "no event in any control arm (MH RR and OR undefined)",
            c(2, 1, 3), c(18, 19, 27), c(0, 0, 0), c(20, 21, 30), c("U", "V", "W"))
)

# ---------------------------------------------------------------------------------------
# Variants (argument lists passed to rma.mh / rma.peto on top of ai, bi, ci, di)
# ---------------------------------------------------------------------------------------
MH_VARIANTS <- list(
  list(id = "default", args = list()),
  list(id = "drop00=FALSE", args = list(drop00 = FALSE)),
  list(id = "add=0", args = list(add = 0)),
  list(id = "to=all", args = list(to = "all")),
  list(id = "add=0.5,0.5/to=only0,only0", args = list(add = c(0.5, 0.5), to = c("only0", "only0"))),
  list(id = "add=0.5,0.5/to=all,all", args = list(add = c(0.5, 0.5), to = c("all", "all"))),
  list(id = "drop00=TRUE,TRUE", args = list(drop00 = c(TRUE, TRUE))),
  list(id = "correct=FALSE", args = list(correct = FALSE)),
  list(id = "level=90", args = list(level = 90))
)
PETO_VARIANTS <- list(
  list(id = "default", args = list()),
  list(id = "drop00=FALSE", args = list(drop00 = FALSE)),
  list(id = "add=0", args = list(add = 0)),
  list(id = "to=all", args = list(to = "all")),
  list(id = "add=0.5,0.5/to=only0,only0", args = list(add = c(0.5, 0.5), to = c("only0", "only0"))),
  list(id = "drop00=TRUE,TRUE", args = list(drop00 = c(TRUE, TRUE))),
  list(id = "level=90", args = list(level = 90))
)

fit_record <- function(fun, ds, measure, variant) {
  call_args <- c(list(ai = ds$ai, bi = ds$bi, ci = ds$ci, di = ds$di), variant$args)
  if (!is.null(measure)) call_args$measure <- measure
  out <- capture(do.call(fun, call_args))
  rec <- list(id = paste0(if (is.null(measure)) "PETO" else measure, "/", variant$id),
              measure = if (is.null(measure)) "PETO" else measure, variant = variant$id,
              args = variant$args)
  if (!is.null(out$error)) {
    rec$failed <- TRUE
    rec$error <- out$error
  } else {
    r <- out$value
    rec$failed <- FALSE
    rec$add <- I(as.numeric(r$add)); rec$to <- I(as.character(r$to)); rec$drop00 <- I(as.logical(r$drop00))
    rec$level <- 100 * (1 - r$level)
    rec$k <- r$k; rec$k_yi <- r$k.yi; rec$k_pos <- num1(r$k.pos)
    rec$estimate <- num1(r$beta); rec$se <- num1(r$se); rec$zval <- num1(r$zval); rec$pval <- num1(r$pval)
    rec$ci_lb <- num1(r$ci.lb); rec$ci_ub <- num1(r$ci.ub)
    rec$QE <- num1(r$QE); rec$QEp <- num1(r$QEp); rec$I2 <- num1(r$I2); rec$H2 <- num1(r$H2)
    rec$CO <- num1(r$CO); rec$COp <- num1(r$COp); rec$MH <- num1(r$MH); rec$MHp <- num1(r$MHp)
    rec$BD <- num1(r$BD); rec$BDp <- num1(r$BDp); rec$TA <- num1(r$TA); rec$TAp <- num1(r$TAp)
    rec$yi_f <- I(as.numeric(r$yi.f)); rec$vi_f <- I(as.numeric(r$vi.f))
    # weights(): percent weights of the tables used (NA for tables dropped by drop00[2])
    w <- rep(NA_real_, r$k.f)
    w[r$not.na] <- as.numeric(weights(r))
    rec$weights_f <- I(w)
  }
  rec$warnings <- I(out$warnings)
  rec$messages <- I(out$messages)
  rec
}

for (i in seq_along(datasets)) {
  ds <- datasets[[i]]
  fits <- list()
  for (m in c("OR", "RR", "RD")) for (v in MH_VARIANTS) fits[[length(fits) + 1]] <- fit_record(rma.mh, ds, m, v)
  for (v in PETO_VARIANTS) fits[[length(fits) + 1]] <- fit_record(rma.peto, ds, NULL, v)
  datasets[[i]]$fits <- fits
}

result <- list(
  generated_utc = format(Sys.time(), "%Y-%m-%dT%H:%M:%SZ", tz = "UTC"),
  metafor_version = as.character(packageVersion("metafor")),
  metadat_version = as.character(packageVersion("metadat")),
  r_version = R.version.string,
  generator = "tests/reference/generate_sparse_reference.R",
  notes = I(c(
    "rma.mh and rma.peto are closed forms: no convergence controls apply.",
    "level is recorded in percent; weights_f = weights() in percent, NA for tables left out; yi_f/vi_f are metafor's individual study effects (escalc with add[1], to[1], drop00[1]), NA where dropped.",
    "MH fields: CO = Cochran's test, MH = Cochran-Mantel-Haenszel test (both with correct), BD = Breslow-Day, TA = Breslow-Day with Tarone's correction (printed by metafor as Tarone's test); OR only."
  )),
  datasets = datasets
)
writeLines(to_json(result), out_path)
