# Reference values for alsmeta.planning.sequential (group-sequential boundaries) from the R package rpact.
#
# Usage (from the repository root):
#   Rscript tests/reference/generate_sequential_reference.R tests/reference/rpact_sequential.json
#
# Needs the Debian packages r-base-core r-cran-rpact r-cran-jsonlite.
# Two-sided symmetric designs (sided = 2) with Lan-DeMets alpha spending:
# typeOfDesign "asOF" (O'Brien-Fleming type) and "asP" (Pocock type).
# rpact needs the last information rate to be 1; a boundary at a look depends only on
# the looks up to it, so cases whose last look is below 1 are run with 1 appended and
# the extra look dropped (field `looks_used`).
suppressMessages({library(rpact); library(jsonlite)})
script_dir <- dirname(normalizePath(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))))
source(file.path(script_dir, "json_exact.R"))  # to_json, num, write_exact_json: the shared writer
args <- commandArgs(trailingOnly = TRUE)
out_file <- if (length(args) >= 1) args[1] else "tests/reference/rpact_sequential.json"
cases <- list(
  of_k5_equal_a05 = list(fraction = (1:5) / 5, alpha = 0.05, spending = "obrien_fleming"),
  pocock_k5_equal_a05 = list(fraction = (1:5) / 5, alpha = 0.05, spending = "pocock"),
  of_k2_a05 = list(fraction = c(0.5, 1), alpha = 0.05, spending = "obrien_fleming"),
  of_k10_equal_a05 = list(fraction = (1:10) / 10, alpha = 0.05, spending = "obrien_fleming"),
  of_unequal_a05 = list(fraction = c(0.1, 0.25, 0.5, 0.8, 1), alpha = 0.05, spending = "obrien_fleming"),
  pocock_unequal_a05 = list(fraction = c(0.1, 0.25, 0.5, 0.8, 1), alpha = 0.05, spending = "pocock"),
  of_k3_a01 = list(fraction = c(1/3, 2/3, 1), alpha = 0.01, spending = "obrien_fleming"),
  of_tsa_like_below_ris = list(fraction = c(0.05, 0.12, 0.4, 0.62), alpha = 0.05, spending = "obrien_fleming"),
  pocock_tsa_like_below_ris = list(fraction = c(0.05, 0.12, 0.4, 0.62), alpha = 0.05, spending = "pocock")
)
design_type <- c(obrien_fleming = "asOF", pocock = "asP")
out <- list()
for (nm in names(cases)) {
  cs <- cases[[nm]]
  rates <- cs$fraction
  if (rates[length(rates)] < 1) rates <- c(rates, 1)
  d <- getDesignGroupSequential(kMax = length(rates), alpha = cs$alpha, sided = 2,
                                typeOfDesign = design_type[[cs$spending]], informationRates = rates)
  k <- length(cs$fraction)
  out[[nm]] <- list(fraction = cs$fraction, alpha = cs$alpha, spending = cs$spending,
                    looks_used = k, z = d$criticalValues[1:k], alpha_spent = d$alphaSpent[1:k])
}
meta <- list(generator = "tests/reference/generate_sequential_reference.R", r_version = R.version.string,
             rpact_version = as.character(packageVersion("rpact")),
             settings = "getDesignGroupSequential(sided = 2, typeOfDesign = asOF | asP, informationRates)")
write_exact_json(list(meta = meta, cases = out), out_file)
