# Reference values for alsmeta.bayes_meta from the R package bayesmeta 3.4 (Roever 2020).
# bayesmeta is not packaged for Debian's R here: put bayesmeta's R/bayesmeta.R and the data files
# defining CrinsEtAl2014 and Rubin1981 (data/CrinsEtAl2014.R and data/Rubin1981.R of that package,
# saved as crins.R and rubin.R) in a working folder, e.g. from the CRAN mirror at version 3.4:
#   git -C bayesmeta show e7eaba2:R/bayesmeta.R > bayesmeta.R
#   git -C bayesmeta show e7eaba2:data/CrinsEtAl2014.R > crins.R
#   git -C bayesmeta show e7eaba2:data/Rubin1981.R > rubin.R
# then, from that folder:
#   Rscript /path/to/tests/reference/generate_bayesmeta_reference.R /path/to/tests/reference/bayesmeta_reference.json
# (metafor, numDeriv, mvtnorm and jsonlite from Debian). Numbers are exact doubles (json_exact.R).
suppressMessages({library(metafor); library(numDeriv); library(mvtnorm); library(jsonlite)})
script_dir <- dirname(normalizePath(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))))
source(file.path(script_dir, "json_exact.R"))  # to_json, write_exact_json: the shared writer
args <- commandArgs(trailingOnly = TRUE)
out_file <- if (length(args) >= 1) args[1] else file.path(script_dir, "bayesmeta_reference.json")
source("bayesmeta.R"); source("crins.R"); source("rubin.R")
crins <- escalc(measure="OR", ai=exp.AR.events, n1i=exp.total, ci=cont.AR.events, n2i=cont.total, data=CrinsEtAl2014)
cases <- list(
  crins_hn05_flat = list(y=as.numeric(crins$yi), s=sqrt(as.numeric(crins$vi)), scale=0.5, m0=NA, s0=NA),
  crins_hn1_normal = list(y=as.numeric(crins$yi), s=sqrt(as.numeric(crins$vi)), scale=1.0, m0=0, s0=4),
  rubin_hn10_flat = list(y=Rubin1981$effect, s=Rubin1981$stderr, scale=10, m0=NA, s0=NA),
  two_study_hn05_flat = list(y=c(1.13, 0.38), s=c(0.235, 0.174), scale=0.5, m0=NA, s0=NA),
  one_study_hn025_flat = list(y=c(1.13), s=c(0.235), scale=0.25, m0=NA, s0=NA)
)
out <- list()
for (nm in names(cases)) {
  cs <- cases[[nm]]
  sc <- cs$scale
  bm <- bayesmeta(y=cs$y, sigma=cs$s, tau.prior=function(t) dhalfnormal(t, scale=sc),
                  mu.prior.mean=cs$m0, mu.prior.sd=cs$s0, interval.type="central", delta=1e-6, epsilon=1e-10)
  s <- bm$summary
  muq <- bm$qposterior(mu.p=c(0.025, 0.5, 0.975)); tauq <- bm$qposterior(tau.p=c(0.025, 0.5, 0.975))
  thq <- bm$qposterior(theta.p=c(0.025, 0.975), predict=TRUE)
  xs <- c(s["median","mu"] - s["sd","mu"], s["median","mu"], s["median","mu"] + s["sd","mu"])
  ts <- c(0.5*s["median","tau"], s["median","tau"], 2*s["median","tau"])
  out[[nm]] <- list(y=I(cs$y), sigma=I(cs$s), tau_scale=sc, mu_prior_mean=cs$m0, mu_prior_sd=cs$s0,
    mu_mean=s["mean","mu"], mu_sd=s["sd","mu"], mu_q=muq, tau_mean=s["mean","tau"], tau_sd=s["sd","tau"], tau_q=tauq,
    theta_sd=s["sd","theta"], theta_q=thq, p_mu_gt_0=1-bm$pposterior(mu=0),
    mu_x=xs, mu_density=bm$dposterior(mu=xs), tau_x=ts, tau_density=bm$dposterior(tau=ts))
}
meta <- list(generator="tests/reference/generate_bayesmeta_reference.R", bayesmeta_version="3.4 (CRAN mirror github.com/cran/bayesmeta, commit e7eaba2, R/bayesmeta.R sourced)",
             R=R.version.string, controls="bayesmeta(..., interval.type='central', delta=1e-6, epsilon=1e-10)")
write_exact_json(list(meta=meta, cases=out), out_file)
