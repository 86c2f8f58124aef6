# Reference effect sizes from R metafor::escalc() for the measures of issue 18 (PETO, PR, PLN,
# PLO, PAS, PFT, IR, IRLN, IRR, IRD, COR, UCOR, ZCOR, SMDH, MN, MNLN, CVR, VR) and the PFT
# back-transformations transf.ipft() and transf.ipft.hm().
#
# Usage (from the repository root):
#   Rscript tests/reference/generate_measures_reference.R tests/reference/metafor_measures.json
#
# Needs the Debian packages r-base-core r-cran-metafor r-cran-metadat r-cran-jsonlite.
# escalc() is closed form; the one model fit (rma() for the pooled PFT value) uses tight
# controls. Every case stores its exact inputs, so the Python tests need neither R nor metadat.
# Numbers are exact doubles (json_exact.R); NA is null, Inf is Infinity.
suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})
script_dir <- dirname(normalizePath(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))))
source(file.path(script_dir, "json_exact.R"))

args <- commandArgs(trailingOnly = TRUE)
out_file <- if (length(args) >= 1) args[1] else "tests/reference/metafor_measures.json"
ctrl <- list(threshold = 1e-12, tol = 1e-12, maxiter = 1000)

# ------------------------------------------------------------------ input sets
# Each set: name, source, labels and named numeric columns in escalc's argument names.
set_of <- function(name, source, labels, ...) {
  cols <- list(...)
  list(name = name, source = source, labels = as.character(labels), cols = lapply(cols, as.numeric))
}
bcg <- dat.bcg
pritz <- dat.pritz1997
hart <- dat.hart1999
molloy <- dat.molloy2014
normand <- dat.normand1999

sets <- list(
  two_by_two = list(
    set_of("dat.bcg", "metadat::dat.bcg (ai=tpos, n1i=tpos+tneg, ci=cpos, n2i=cpos+cneg)",
           paste(bcg$author, bcg$year), ai = bcg$tpos, n1i = bcg$tpos + bcg$tneg,
           ci = bcg$cpos, n2i = bcg$cpos + bcg$cneg),
    set_of("edge.zero_cells", "hand-made: no zero cell, single zero (each arm), double zero, all events in both arms",
           c("none", "zero_arm1", "zero_arm2", "double_zero", "all_events"),
           ai = c(5, 0, 3, 0, 10), n1i = c(20, 20, 25, 30, 10), ci = c(8, 4, 0, 0, 12), n2i = c(21, 19, 25, 28, 12))),
  proportions = list(
    set_of("dat.pritz1997", "metadat::dat.pritz1997 (xi, ni)", paste(pritz$study, pritz$authors),
           xi = pritz$xi, ni = pritz$ni),
    set_of("edge.proportions", "hand-made: xi = 0, xi = ni, 1 < xi < ni, ni = 1",
           c("none", "all", "some", "single_none", "single_all"),
           xi = c(0, 12, 3, 0, 1), ni = c(15, 12, 10, 1, 1))),
  rates = list(
    set_of("dat.hart1999.arm1", "metadat::dat.hart1999, warfarin arm (xi=x1i, ti=t1i, patient-years)",
           hart$study, xi = hart$x1i, ti = hart$t1i),
    set_of("edge.rates", "hand-made: zero events, some events",
           c("zero", "some", "many"), xi = c(0, 3, 40), ti = c(12.5, 20, 310.25))),
  two_rates = list(
    set_of("dat.hart1999", "metadat::dat.hart1999 (x1i, t1i warfarin; x2i, t2i placebo/control)",
           hart$study, x1i = hart$x1i, t1i = hart$t1i, x2i = hart$x2i, t2i = hart$t2i),
    set_of("edge.two_rates", "hand-made: no zero, zero in arm 1, zero in arm 2, zero in both arms",
           c("none", "zero_arm1", "zero_arm2", "zero_both"),
           x1i = c(4, 0, 6, 0), t1i = c(100, 80, 120.5, 50), x2i = c(9, 3, 0, 0), t2i = c(95, 85, 110, 60))),
  correlations = list(
    set_of("dat.molloy2014", "metadat::dat.molloy2014 (ri, ni)",
           paste(molloy$authors, molloy$year), ri = molloy$ri, ni = molloy$ni),
    set_of("edge.correlations", "hand-made: r = 0, negative, near 1, small n",
           c("zero", "negative", "high", "small_n"), ri = c(0, -0.45, 0.97, 0.3), ni = c(50, 30, 200, 5))),
  two_means = list(
    set_of("dat.normand1999", "metadat::dat.normand1999 (m1i, sd1i, n1i, m2i, sd2i, n2i)",
           normand$source, m1i = normand$m1i, sd1i = normand$sd1i, n1i = normand$n1i,
           m2i = normand$m2i, sd2i = normand$sd2i, n2i = normand$n2i)),
  one_mean = list(
    set_of("dat.normand1999.arm1", "metadat::dat.normand1999, group 1 (mi=m1i, sdi=sd1i, ni=n1i)",
           normand$source, mi = normand$m1i, sdi = normand$sd1i, ni = normand$n1i))
)

# ------------------------------------------------------------------ cases
# measure, the input-set family, the columns escalc uses, and option variants.
no_opts <- setNames(list(), character(0))
zero_variants <- list(list(id = "default", opts = no_opts), list(id = "add=0", opts = list(add = 0)),
                      list(id = "to=all", opts = list(to = "all")), list(id = "to=if0all", opts = list(to = "if0all")),
                      list(id = "add=0.25", opts = list(add = 0.25)))
specs <- list(
  list(measure = "PETO", family = "two_by_two", cols = c("ai", "n1i", "ci", "n2i"),
       variants = c(zero_variants, list(list(id = "drop00=TRUE", opts = list(drop00 = TRUE))))),
  list(measure = "PR", family = "proportions", cols = c("xi", "ni"), variants = zero_variants),
  list(measure = "PLN", family = "proportions", cols = c("xi", "ni"), variants = zero_variants),
  list(measure = "PLO", family = "proportions", cols = c("xi", "ni"), variants = zero_variants),
  list(measure = "PAS", family = "proportions", cols = c("xi", "ni"), variants = zero_variants),
  list(measure = "PFT", family = "proportions", cols = c("xi", "ni"), variants = zero_variants),
  list(measure = "IR", family = "rates", cols = c("xi", "ti"), variants = zero_variants),
  list(measure = "IRLN", family = "rates", cols = c("xi", "ti"), variants = zero_variants),
  list(measure = "IRR", family = "two_rates", cols = c("x1i", "t1i", "x2i", "t2i"),
       variants = c(zero_variants, list(list(id = "drop00=TRUE", opts = list(drop00 = TRUE))))),
  list(measure = "IRD", family = "two_rates", cols = c("x1i", "t1i", "x2i", "t2i"),
       variants = c(zero_variants, list(list(id = "drop00=TRUE", opts = list(drop00 = TRUE))))),
  list(measure = "COR", family = "correlations", cols = c("ri", "ni"),
       variants = list(list(id = "default", opts = no_opts), list(id = "vtype=UB", opts = list(vtype = "UB")),
                       list(id = "vtype=AV", opts = list(vtype = "AV")))),
  list(measure = "UCOR", family = "correlations", cols = c("ri", "ni"),
       variants = list(list(id = "default", opts = no_opts), list(id = "vtype=UB", opts = list(vtype = "UB")))),
  list(measure = "ZCOR", family = "correlations", cols = c("ri", "ni"),
       variants = list(list(id = "default", opts = no_opts))),
  list(measure = "SMDH", family = "two_means", cols = c("m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i"),
       variants = list(list(id = "default", opts = no_opts))),
  list(measure = "CVR", family = "two_means", cols = c("m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i"),
       variants = list(list(id = "default", opts = no_opts))),
  list(measure = "VR", family = "two_means", cols = c("sd1i", "n1i", "sd2i", "n2i"),
       variants = list(list(id = "default", opts = no_opts))),
  list(measure = "MN", family = "one_mean", cols = c("mi", "sdi", "ni"),
       variants = list(list(id = "default", opts = no_opts))),
  list(measure = "MNLN", family = "one_mean", cols = c("mi", "sdi", "ni"),
       variants = list(list(id = "default", opts = no_opts)))
)

opt_text <- function(opts) {
  if (length(opts) == 0) return("")
  paste0(", ", paste(names(opts), vapply(opts, deparse, character(1)), sep = "=", collapse = ", "))
}

cases <- list()
for (sp in specs) {
  for (s in sets[[sp$family]]) {
    for (v in sp$variants) {
      inputs <- s$cols[sp$cols]
      r <- capture(do.call(escalc, c(list(measure = sp$measure), inputs, v$opts)))
      case <- list(id = paste(sp$measure, s$name, v$id, sep = "/"), measure = sp$measure,
                   dataset = s$name, source = s$source, variant = v$id, options = v$opts,
                   call = sprintf("escalc(measure=\"%s\", %s%s)", sp$measure,
                                  paste0(sp$cols, "=", sp$cols, collapse = ", "), opt_text(v$opts)),
                   labels = I(s$labels), inputs = lapply(inputs, I))
      if (is.null(r$error)) {
        case$yi <- vec(r$value$yi)
        case$vi <- vec(r$value$vi)
      } else {
        case$failed <- TRUE
        case$error <- r$error
      }
      case$warnings <- r$warnings
      cases[[length(cases) + 1]] <- case
    }
  }
}

# ------------------------------------------------------------------ PFT back-transformation
pft_sets <- list(
  set_of("dat.pritz1997", "metadat::dat.pritz1997 (xi, ni)", paste(pritz$study, pritz$authors),
         xi = pritz$xi, ni = pritz$ni),
  set_of("miller1978", "Miller (1978) as in metafor's test_analysis_example_miller1978.r",
         1:4, xi = c(3, 6, 10, 1), ni = c(11, 17, 21, 6)),
  set_of("edge.proportions", "hand-made: xi = 0, xi = ni, 1 < xi < ni, ni = 1",
         c("none", "all", "some", "single_none", "single_all"),
         xi = c(0, 12, 3, 0, 1), ni = c(15, 12, 10, 1, 1)))

pft <- list()
for (s in pft_sets) {
  es <- escalc(measure = "PFT", xi = s$cols$xi, ni = s$cols$ni)
  item <- list(dataset = s$name, source = s$source, labels = I(s$labels), xi = vec(s$cols$xi),
               ni = vec(s$cols$ni), yi = vec(es$yi), vi = vec(es$vi),
               ipft = vec(transf.ipft(es$yi, s$cols$ni)),
               ipft_call = "transf.ipft(yi, ni) for each study",
               ni_harmonic_mean = num(1 / mean(1 / s$cols$ni)))
  fits <- list()
  for (m in c("REML", "EE")) {
    fit <- rma(es$yi, es$vi, method = m, control = ctrl)
    raw <- predict(fit)
    back <- predict(fit, transf = transf.ipft.hm, targs = list(ni = s$cols$ni))
    fits[[m]] <- list(call = sprintf("predict(rma(yi, vi, method=\"%s\"), transf=transf.ipft.hm, targs=list(ni=ni))", m),
                      tau2 = num(fit$tau2), pred_pft = num(raw$pred), se_pft = num(raw$se),
                      ci_lb_pft = num(raw$ci.lb), ci_ub_pft = num(raw$ci.ub),
                      pi_lb_pft = num(raw$pi.lb), pi_ub_pft = num(raw$pi.ub),
                      pred = num(back$pred), ci_lb = num(back$ci.lb), ci_ub = num(back$ci.ub),
                      pi_lb = num(back$pi.lb), pi_ub = num(back$pi.ub))
  }
  item$pooled <- fits
  pft[[length(pft) + 1]] <- item
}
# transf.ipft.hm on a grid, including values below the PFT of 0 events and above that of ni events
grid_ni <- c(11, 17, 21, 6)
grid_x <- c(-0.5, 0, 0.05, 0.1, 0.3, 0.5, 0.7853981633974483, 1, 1.3, 1.5, 1.6, 2)
pft_grid <- list(ni = vec(grid_ni), x = vec(grid_x),
                 ipft_hm = vec(transf.ipft.hm(grid_x, targs = list(ni = grid_ni))),
                 ipft_at_ni_10 = vec(transf.ipft(grid_x, 10)),
                 call = "transf.ipft.hm(x, targs=list(ni=ni)); transf.ipft(x, 10)")

out <- c(versions(), list(
  generator = "tests/reference/generate_measures_reference.R",
  generated_utc = format(Sys.time(), "%Y-%m-%dT%H:%M:%SZ", tz = "UTC"),
  escalc_defaults = list(add = 0.5, to = "only0", drop00 = FALSE, vtype = "LS"),
  rma_control = ctrl,
  notes = I(c(
    "Options not listed in a case's 'options' are escalc's defaults (escalc_defaults).",
    "inputs are the escalc arguments by name; labels are the study labels in the same order.",
    "NA (null) in yi/vi is what escalc returned (e.g. a log of zero with add=0, or a study dropped by drop00)."
  )),
  cases = cases,
  pft_backtransform = list(studies = pft, grid = pft_grid)
))
write_exact_json(out, out_file)
cat("wrote", out_file, "with", length(cases), "escalc cases\n")
