# Time metafor's gosh() for the alsmeta benchmark (benchmarks/run.py).
# Usage: Rscript metafor_gosh.R input.json output.json
# input:  {"yi": [...], "vi": [...], "jobs": [{"k", "method", "subsets", "seed", "tight"}, ...]}
# output: {"metafor": version, "jobs": [{..., "seconds", "n", "subset", "estimate", "tau2"}]}
# "subset" is the bitmask of each fitted subset (bit j = study j + 1), as alsmeta's gosh().
suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})
args <- commandArgs(trailingOnly = TRUE)
inp <- fromJSON(args[1], simplifyVector = TRUE)
jobs <- inp$jobs
out <- vector("list", nrow(jobs))
for (i in seq_len(nrow(jobs))) {
  job <- jobs[i, ]
  k <- job$k
  ctrl <- if (isTRUE(job$tight)) list(threshold = 1e-12, tol = 1e-12, maxiter = 1000) else list()
  res <- rma(inp$yi[1:k], inp$vi[1:k], method = job$method, control = ctrl)
  set.seed(job$seed)
  t0 <- proc.time()[["elapsed"]]
  g <- gosh(res, subsets = job$subsets, progbar = FALSE)
  secs <- proc.time()[["elapsed"]] - t0
  bits <- as.numeric(g$incl %*% 2^(0:(k - 1)))
  out[[i]] <- list(k = k, method = job$method, tight = isTRUE(job$tight), seconds = secs,
                   n = nrow(g$res), subset = bits, estimate = g$res$estimate, tau2 = g$res$tau2)
}
write_json(list(metafor = as.character(packageVersion("metafor")), jobs = out), args[2],
           digits = NA, auto_unbox = TRUE, na = "null")
