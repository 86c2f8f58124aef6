"""alsmeta.models.bayes: Bayesian random-effects meta-analysis by numerical integration.

Checked four independent ways:

1. the conjugate normal posterior, which the model must reach as the
   half-normal prior on tau shrinks to 0 (flat and normal priors on mu);
2. brute-force two-dimensional integration of the joint posterior of
   (mu, tau) written from the raw likelihood (no analytic marginalisation);
3. a seeded Monte-Carlo (importance sampling from the priors);
4. reference values from the R package bayesmeta 3.4 (Röver 2020), produced
   by tests/reference/generate_bayesmeta_reference.R (bayesmeta is not on CRAN
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

from alsmeta.models.bayes import BayesMetaResult, bayes_meta
from alsmeta.validation import AlsmetaInputError
from conftest import load_reference

BAYESMETA_REFERENCE = load_reference("bayesmeta_reference.json")["cases"]


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
    for t, p in zip(r.thresholds, r.prob_mu_above, strict=True):
        assert p == pytest.approx(post.sf(t), rel=1e-7, abs=1e-14)
    assert r.tau_median < 1e-8
    # the predictive distribution collapses onto the posterior of mu
    assert r.pred_ci_low == pytest.approx(post.ppf(0.025), rel=1e-8)


def test_one_study_flat_prior_mixture_over_the_prior_of_tau():
    """k = 1: p(tau | y) is proportional to the prior times N(y; mu, s^2 + tau^2) integrated over flat mu,
    i.e. the prior."""
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
    for t, p in zip(r.thresholds, r.prob_mu_above, strict=True):
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
    for t, p in zip(r.thresholds, r.prob_mu_above, strict=True):
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
