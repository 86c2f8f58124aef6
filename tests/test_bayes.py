"""alsmeta.bayes: Bayesian random-effects meta-analysis by numerical integration.

Checked four independent ways:

1. the conjugate normal posterior, which the model must reach as the
   half-normal prior on tau shrinks to 0 (flat and normal priors on mu);
2. brute-force two-dimensional integration of the joint posterior of
   (mu, tau) written from the raw likelihood (no analytic marginalisation);
3. a seeded Monte-Carlo (importance sampling from the priors);
4. reference values from the R package bayesmeta 3.4 (Röver 2020), produced
   by the R script in ``BAYESMETA_SCRIPT`` below (bayesmeta is not on CRAN
   for Debian's R here; its ``R/bayesmeta.R`` was sourced from the CRAN
   mirror github.com/cran/bayesmeta, commit e7eaba2, version 3.4, with R
   4.2.2, metafor 3.8-1, numDeriv and mvtnorm). bayesmeta's DIRECT grid is
   accurate to about 1e-6 with ``delta=1e-6, epsilon=1e-10``; our quadrature
   is checked to 1e-9 against (2), so the bayesmeta comparison uses a
   relative tolerance of 5e-5 (absolute 1e-6).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, stats

from alsmeta.bayes import BayesMetaResult, bayes_meta
from alsmeta.validation import AlsmetaInputError

BAYESMETA_SCRIPT = r"""
suppressMessages({library(metafor); library(numDeriv); library(mvtnorm); library(jsonlite)})
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
  out[[nm]] <- list(y=cs$y, sigma=cs$s, tau_scale=sc, mu_prior_mean=cs$m0, mu_prior_sd=cs$s0,
    mu_mean=s["mean","mu"], mu_sd=s["sd","mu"], mu_q=muq, tau_mean=s["mean","tau"], tau_sd=s["sd","tau"], tau_q=tauq,
    theta_sd=s["sd","theta"], theta_q=thq, p_mu_gt_0=1-bm$pposterior(mu=0),
    mu_x=xs, mu_density=bm$dposterior(mu=xs), tau_x=ts, tau_density=bm$dposterior(tau=ts))
}
meta <- list(bayesmeta_version="3.4 (CRAN mirror github.com/cran/bayesmeta, commit e7eaba2, R/bayesmeta.R sourced)",
             R=R.version.string, controls="bayesmeta(..., interval.type='central', delta=1e-6, epsilon=1e-10)")
cat(toJSON(list(meta=meta, cases=out), digits=NA, auto_unbox=TRUE, na="null", pretty=TRUE))
"""

BAYESMETA_REFERENCE = {
    'crins_hn05_flat': {
        'y': [-2.30970256076291, -0.459532329378441, -2.30258509299405, -1.75785791755237, -1.25846098961001, -2.41789593950504],
        'sigma': [0.599476299648217, 0.556395563777977, 0.88034084308295, 0.455868502919453, 0.641996176709091, 1.52881074618749],
        'tau_scale': 0.5,
        'mu_prior_mean': None,
        'mu_prior_sd': None,
        'mu_mean': -1.58730377786716,
        'mu_sd': 0.331295075568538,
        'mu_q': [-2.25546727541457, -1.58350933405402, -0.943198493915228],
        'tau_mean': 0.381950244698572,
        'tau_sd': 0.259839832691361,
        'tau_q': [0.0177932562823919, 0.345402807045528, 0.974805316866702],
        'theta_sd': 0.568470856650351,
        'theta_q': [-2.79305047336078, -0.429390089397946],
        'p_mu_gt_0': 5.55070949121994e-05,
        'mu_x': [-1.91480440962256, -1.58350933405402, -1.25221425848548],
        'mu_density': [0.697397793436991, 1.27454664522331, 0.712060201508826],
        'tau_x': [0.172701403522764, 0.345402807045528, 0.690805614091055],
        'tau_density': [1.46197547344129, 1.43191273732999, 0.638951785050785],
    },
    'crins_hn1_normal': {
        'y': [-2.30970256076291, -0.459532329378441, -2.30258509299405, -1.75785791755237, -1.25846098961001, -2.41789593950504],
        'sigma': [0.599476299648217, 0.556395563777977, 0.88034084308295, 0.455868502919453, 0.641996176709091, 1.52881074618749],
        'tau_scale': 1,
        'mu_prior_mean': 0,
        'mu_prior_sd': 4,
        'mu_mean': -1.58689618865569,
        'mu_sd': 0.387580178215245,
        'mu_q': [-2.37967305484959, -1.58141906896705, -0.829582505776068],
        'tau_mean': 0.548832625920015,
        'tau_sd': 0.377974870636051,
        'tau_q': [0.0277031621211767, 0.490251148064853, 1.44576984717655],
        'theta_sd': 0.770909030172887,
        'theta_q': [-3.23273635109593, 0.00608946285627826],
        'p_mu_gt_0': 0.000664142467083351,
        'mu_x': [-1.9689992471823, -1.58141906896705, -1.19383889075181],
        'mu_density': [0.569626550219168, 1.15373912166878, 0.58309016252922],
        'tau_x': [0.245125574032427, 0.490251148064854, 0.980502296129708],
        'tau_density': [1.03844458007702, 1.07222742595609, 0.416628161727564],
    },
    'rubin_hn10_flat': {
        'y': [28.39, 7.94, -2.75, 6.82, -0.64, 0.63, 18.01, 12.16],
        'sigma': [14.9, 10.2, 16.3, 11, 9.4, 11.4, 10.4, 17.6],
        'tau_scale': 10,
        'mu_prior_mean': None,
        'mu_prior_sd': None,
        'mu_mean': 8.02610893935566,
        'mu_sd': 4.74700325558066,
        'mu_q': [-1.25565436832691, 8.00773313948141, 17.4203347402924],
        'tau_mean': 4.83566079147265,
        'tau_sd': 3.75527207562551,
        'tau_q': [0.187203854894192, 4.03093450874653, 14.0108509394526],
        'theta_sd': 7.74723616387119,
        'theta_q': [-7.63014934983457, 24.0297094057981],
        'p_mu_gt_0': 0.956065731551505,
        'mu_x': [3.26072988390531, 8.00773313948597, 12.7547363950666],
        'mu_density': [0.050380370900237, 0.0863690646974203, 0.0500182957945425],
        'tau_x': [2.01546725437327, 4.03093450874654, 8.06186901749308],
        'tau_density': [0.126193046278843, 0.106047584765773, 0.0524134400546737],
    },
    'two_study_hn05_flat': {
        'y': [1.13, 0.38],
        'sigma': [0.235, 0.174],
        'tau_scale': 0.5,
        'mu_prior_mean': None,
        'mu_prior_sd': None,
        'mu_mean': 0.726511565724059,
        'mu_sd': 0.413169714804955,
        'mu_q': [-0.110646510753204, 0.716003043453524, 1.60080207741293],
        'tau_mean': 0.476822349679877,
        'tau_sd': 0.26653623531246,
        'tau_q': [0.0631242985363232, 0.436932283783068, 1.10208835966706],
        'theta_sd': 0.684916368444661,
        'theta_q': [-0.692095113269929, 2.18324516408478],
        'p_mu_gt_0': 0.962773267792331,
        'mu_x': [0.302833328648396, 0.716003043453351, 1.12917275825831],
        'mu_density': [0.445851039352531, 1.2738739873866, 0.465818435053793],
        'tau_x': [0.218466141890512, 0.436932283781024, 0.873864567562048],
        'tau_density': [1.29326775988131, 1.56648953950283, 0.411262180707989],
    },
    'one_study_hn025_flat': {
        'y': [1.13],
        'sigma': [0.235],
        'tau_scale': 0.25,
        'mu_prior_mean': None,
        'mu_prior_sd': None,
        'mu_mean': 1.13,
        'mu_sd': 0.343110617037881,
        'mu_q': [0.444036979160126, 1.13, 1.81596302083987],
        'tau_mean': 0.199471140200716,
        'tau_sd': 0.150702568747272,
        'tau_q': [0.0078344955053557, 0.16862243754902, 0.560350681901236],
        'theta_sd': 0.424528904844217,
        'theta_q': [0.261703337038809, 1.99829666296119],
        'p_mu_gt_0': 0.996842289293887,
        'mu_x': [0.786889382962119, 1.13, 1.47311061703788],
        'mu_density': [0.647412586312508, 1.31654134799689, 0.647412586312509],
        'tau_x': [0.0843112187745102, 0.16862243754902, 0.337244875098041],
        'tau_density': [3.01510892006667, 2.54221258147286, 1.28483481601508],
    },
}


CRINS_Y = BAYESMETA_REFERENCE["crins_hn05_flat"]["y"]
CRINS_S = BAYESMETA_REFERENCE["crins_hn05_flat"]["sigma"]


def _close(got, want, rel=5e-5, abs_=1e-6):
    got, want = np.atleast_1d(np.asarray(got, float)), np.atleast_1d(np.asarray(want, float))
    assert got.shape == want.shape
    assert np.all(np.abs(got - want) <= np.maximum(rel * np.abs(want), abs_)), (got, want)


# ---------------------------------------------------------------------------
# 4. bayesmeta reference values
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("case", sorted(BAYESMETA_REFERENCE))
def test_matches_bayesmeta(case):
    c = BAYESMETA_REFERENCE[case]
    prior = {} if c["mu_prior_sd"] is None else {"mu_prior_mean": c["mu_prior_mean"], "mu_prior_sd": c["mu_prior_sd"]}
    r = bayes_meta(c["y"], sei=c["sigma"], tau_scale=c["tau_scale"], **prior)
    _close(r.mu_mean, c["mu_mean"])
    _close(r.mu_sd, c["mu_sd"])
    _close([r.mu_ci_low, r.mu_median, r.mu_ci_high], c["mu_q"])
    _close(r.tau_mean, c["tau_mean"])
    _close(r.tau_sd, c["tau_sd"])
    _close([r.tau_ci_low, r.tau_median, r.tau_ci_high], c["tau_q"])
    _close(r.pred_sd, c["theta_sd"])
    _close([r.pred_ci_low, r.pred_ci_high], c["theta_q"])
    _close(r.prob_mu_above[0], c["p_mu_gt_0"], abs_=1e-8)
    _close(r._posterior.mu_pdf(np.array(c["mu_x"])), c["mu_density"])
    _close(r._posterior.tau_pdf(np.array(c["tau_x"])), c["tau_density"])


# ---------------------------------------------------------------------------
# 1. the conjugate limit
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("prior", [None, (0.5, 2.0), (-1.0, 0.3)])
def test_tau_prior_near_zero_gives_the_conjugate_normal_posterior(prior):
    y, s = np.array(CRINS_Y), np.array(CRINS_S)
    w = 1 / s**2
    if prior is None:
        prec, mean, kw = w.sum(), (w * y).sum() / w.sum(), {}
    else:
        m0, s0 = prior
        prec = w.sum() + 1 / s0**2
        mean, kw = ((w * y).sum() + m0 / s0**2) / prec, {"mu_prior_mean": m0, "mu_prior_sd": s0}
    sd = 1 / math.sqrt(prec)
    r = bayes_meta(y, sei=s, tau_scale=1e-9, thresholds=(-2.0, -1.5, 0.0), **kw)
    post = stats.norm(mean, sd)
    assert r.mu_mean == pytest.approx(mean, rel=1e-9)
    assert r.mu_sd == pytest.approx(sd, rel=1e-8)
    assert r.mu_median == pytest.approx(mean, rel=1e-9)
    assert r.mu_ci_low == pytest.approx(post.ppf(0.025), rel=1e-9)
    assert r.mu_ci_high == pytest.approx(post.ppf(0.975), rel=1e-9)
    for t, p in zip(r.thresholds, r.prob_mu_above):
        assert p == pytest.approx(post.sf(t), rel=1e-7, abs=1e-14)
    assert r.tau_median < 1e-8
    # the predictive distribution collapses onto the posterior of mu
    assert r.pred_ci_low == pytest.approx(post.ppf(0.025), rel=1e-8)


def test_one_study_flat_prior_mixture_over_the_prior_of_tau():
    """k = 1: p(tau | y) is proportional to the prior times N(y; mu, s^2 + tau^2) integrated over flat mu, i.e. the prior."""
    r = bayes_meta([1.13], sei=[0.235], tau_scale=0.25)
    # with a flat prior on mu the one-study likelihood does not depend on tau: the posterior of tau is its prior
    hn = stats.halfnorm(scale=0.25)
    assert r.tau_median == pytest.approx(hn.median(), rel=1e-9)
    assert r.tau_mean == pytest.approx(hn.mean(), rel=1e-9)
    # and mu | y is the mixture of N(y, s^2 + tau^2) over that prior
    var = integrate.quad(lambda t: (0.235**2 + t**2) * hn.pdf(t), 0, np.inf, epsabs=0, epsrel=1e-13)[0]
    assert r.mu_sd == pytest.approx(math.sqrt(var), rel=1e-9)
    assert r.mu_median == pytest.approx(1.13, rel=1e-12)
    assert r.mu_sd > 0.235
    assert any("k = 1" in n for n in r.notes)


# ---------------------------------------------------------------------------
# 2. brute-force two-dimensional integration of the joint posterior
# ---------------------------------------------------------------------------


def _composite_gauss_legendre(breaks, nodes_per_panel=10):
    x, w = np.polynomial.legendre.leggauss(nodes_per_panel)
    a, b = np.asarray(breaks[:-1]), np.asarray(breaks[1:])
    half = (b - a) / 2
    return (a[:, None] + half[:, None] * (x + 1)).ravel(), (half[:, None] * w).ravel()


@pytest.mark.parametrize("prior", [None, (0.0, 1.0)])
def test_brute_force_two_dimensional_integration(prior):
    """The joint posterior of (mu, tau) straight from the likelihood, on a 2-d tensor grid (no marginalisation)."""
    y = np.array([1.13, 0.38, 0.6])
    s = np.array([0.235, 0.174, 0.4])
    scale = 0.5
    thresholds = (0.0, 0.25, 1.0)
    kw = {} if prior is None else {"mu_prior_mean": prior[0], "mu_prior_sd": prior[1]}
    r = bayes_meta(y, sei=s, tau_scale=scale, thresholds=thresholds, **kw)
    mu, wmu = _composite_gauss_legendre(np.unique(np.concatenate([np.linspace(-10.0, 12.0, 221), thresholds])))
    tau, wtau = _composite_gauss_legendre(np.linspace(0.0, 9 * scale, 151))
    v = s[None, None, :] ** 2 + tau[None, :, None] ** 2
    loglik = stats.norm.logpdf(y[None, None, :], mu[:, None, None], np.sqrt(v)).sum(axis=2)
    logprior = stats.halfnorm.logpdf(tau, scale=scale)[None, :]
    if prior is not None:
        logprior = logprior + stats.norm.logpdf(mu, prior[0], prior[1])[:, None]
    joint = np.exp(loglik + logprior) * wmu[:, None] * wtau[None, :]
    z = joint.sum()
    assert r.mu_mean == pytest.approx((joint.sum(axis=1) @ mu) / z, rel=1e-9)
    assert r.tau_mean == pytest.approx((joint.sum(axis=0) @ tau) / z, rel=1e-9)
    for t, p in zip(r.thresholds, r.prob_mu_above):
        assert p == pytest.approx(joint[mu > t].sum() / z, rel=1e-9)


# ---------------------------------------------------------------------------
# 3. Monte Carlo
# ---------------------------------------------------------------------------


def test_monte_carlo_importance_sampling():
    y = np.array([1.13, 0.38])
    s = np.array([0.235, 0.174])
    rng = np.random.default_rng(20210401)
    n = 400_000
    tau = np.abs(rng.normal(0.0, 0.5, n))
    mu = rng.normal(0.0, 3.0, n)
    logw = stats.norm.logpdf(y[None, :], mu[:, None], np.sqrt(s[None, :] ** 2 + tau[:, None] ** 2)).sum(axis=1)
    w = np.exp(logw - logw.max())
    w /= w.sum()
    ess = 1 / np.sum(w**2)
    r = bayes_meta(y, sei=s, tau_scale=0.5, mu_prior_mean=0.0, mu_prior_sd=3.0, thresholds=(0.0, 0.25))
    for t, p in zip(r.thresholds, r.prob_mu_above):
        mc = float(np.sum(w * (mu > t)))
        assert abs(p - mc) < 5 * math.sqrt(mc * (1 - mc) / ess)
    mc_mean = float(np.sum(w * mu))
    mc_sd = math.sqrt(float(np.sum(w * (mu - mc_mean) ** 2)))
    assert abs(r.mu_mean - mc_mean) < 5 * mc_sd / math.sqrt(ess)


# ---------------------------------------------------------------------------
# properties
# ---------------------------------------------------------------------------


def test_result_is_consistent_and_deterministic():
    a = bayes_meta(CRINS_Y, sei=CRINS_S, tau_scale=0.5, thresholds=(-1.0, 0.0))
    b = bayes_meta(CRINS_Y, vi=np.square(CRINS_S), tau_scale=0.5, thresholds=(-1.0, 0.0))
    assert isinstance(a, BayesMetaResult)
    assert a.to_dict() == b.to_dict()
    assert np.array_equal(a.mu_density, b.mu_density)
    assert a.mu_quantile(0.5) == pytest.approx(a.mu_median, rel=1e-12)
    assert a.tau_quantile(0.5) == pytest.approx(a.tau_median, rel=1e-12)
    assert a.prob_above(-1.0) == a.prob_mu_above[0]
    assert a.prob_above(-1.0) + a.prob_below(-1.0) == pytest.approx(1.0, abs=1e-15)
    assert 0 < a.prob_pred_above(-1.0) < 1
    # the densities integrate to (almost) one over their 0.05%-99.95% ranges
    assert np.trapezoid(a.mu_density, a.mu_grid) == pytest.approx(0.999, abs=2e-4)
    assert np.trapezoid(a.tau_density, a.tau_grid) == pytest.approx(0.9995, abs=2e-4)
    assert np.all(a.tau_density >= 0) and a.tau_grid[0] == 0.0
    # prediction interval is wider than the credible interval of mu
    assert a.pred_ci_low < a.mu_ci_low and a.pred_ci_high > a.mu_ci_high
    assert "half-normal(scale 0.5)" in a.summary()


def test_location_and_scale_equivariance():
    y, s = np.array(CRINS_Y), np.array(CRINS_S)
    base = bayes_meta(y, sei=s, tau_scale=0.5)
    shifted = bayes_meta(y + 3.0, sei=s, tau_scale=0.5)
    assert shifted.mu_median == pytest.approx(base.mu_median + 3.0, rel=1e-10)
    assert shifted.tau_median == pytest.approx(base.tau_median, rel=1e-10)
    scaled = bayes_meta(10 * y, sei=10 * s, tau_scale=5.0)
    assert scaled.mu_ci_low == pytest.approx(10 * base.mu_ci_low, rel=1e-10)
    assert scaled.tau_ci_high == pytest.approx(10 * base.tau_ci_high, rel=1e-10)


def test_wider_prior_on_tau_gives_wider_posterior_of_mu():
    widths = [bayes_meta([1.13, 0.38], sei=[0.235, 0.174], tau_scale=sc) for sc in (0.1, 0.25, 0.5, 1.0)]
    w = [r.mu_ci_high - r.mu_ci_low for r in widths]
    assert w == sorted(w)


def test_empty_meta_analysis():
    r = bayes_meta([], sei=[], tau_scale=0.5, thresholds=(0.0, 0.25))
    assert r.is_empty and r.k == 0
    assert math.isnan(r.mu_mean) and math.isnan(r.tau_median) and all(math.isnan(p) for p in r.prob_mu_above)
    assert math.isnan(r.prob_above(0.0))
    assert "no study" in r.summary().lower()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"yi": [1.0, 2.0], "sei": [0.1, -0.2]}, "'Study 2', column 'sei'"),
        ({"yi": [1.0, 2.0], "vi": [0.1, 0.0], "labels": ["Oh 2018", "Kim 2009"]}, "'Kim 2009', column 'vi'"),
        ({"yi": [1.0, "x"], "sei": [0.1, 0.2]}, "column 'yi'"),
        ({"yi": [1.0, float("nan")], "sei": [0.1, 0.2]}, "column 'yi'"),
        ({"yi": [1.0, 2.0], "sei": [0.1]}, "different lengths"),
        ({"yi": [1.0, 2.0], "sei": [0.1, 0.2], "labels": ["A", "A"]}, "duplicate"),
        ({"yi": [1.0], "sei": [0.1], "vi": [0.01]}, "exactly one"),
        ({"yi": [1.0], "sei": [0.1], "tau_scale": 0.0}, "tau_scale"),
        ({"yi": [1.0], "sei": [0.1], "tau_scale": float("inf")}, "tau_scale"),
        ({"yi": [1.0], "sei": [0.1], "mu_prior_sd": 0.0}, "mu_prior_sd"),
        ({"yi": [1.0], "sei": [0.1], "mu_prior_mean": float("nan")}, "mu_prior_mean"),
        ({"yi": [1.0], "sei": [0.1], "thresholds": (0.0, float("nan"))}, "thresholds[1]"),
        ({"yi": [1.0], "sei": [0.1], "level": 0.0}, "level"),
    ],
)
def test_bad_input_names_study_and_column(kwargs, message):
    kwargs = {"tau_scale": 0.5, **kwargs}
    with pytest.raises(AlsmetaInputError) as err:
        bayes_meta(**kwargs)
    assert message in str(err.value)


def test_tau_scale_is_required():
    with pytest.raises(TypeError):
        bayes_meta([1.0], sei=[0.1])  # type: ignore[call-arg]
