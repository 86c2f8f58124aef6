"""The whole 2021 reconstruction as one result.

Effects, pools, sensitivity, Bayes, the empirical null, candidates and claims.

:func:`reconstruct` runs every analysis of the rebuild from the evidence tables and returns a
:class:`Reconstruction`; :func:`reconstruction_numbers` is what numbers.json holds. Writing files
and drawing figures is left to ``analyses/msc2021_reconstruction.py`` and
:mod:`alsmeta.als.msc2021.figures`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pandas as pd
from scipy import stats

import alsmeta as am
from alsmeta.als.msc2021.cohorts import COHORTS, availability_table, candidate_table
from alsmeta.als.msc2021.effects import (
    Effect,
    RebuiltEffects,
    effect_numbers,
    effects_table,
    not_poolable,
    rebuild_effects,
)
from alsmeta.als.msc2021.pooling import (
    DataChoice,
    Pool,
    ReconstructionPools,
    data_choice_panels,
    estimator_sweep,
    fit,
    fit_numbers,
    forest_fit,
    forest_notes,
    pool_numbers,
    primary_fit,
    reconstruction_pools,
    spec_agreement,
    subgroup_numbers,
    sweep_agreement,
)
from alsmeta.als.msc2021.protocol import (
    ALSFRS_THRESHOLDS,
    FIRST,
    FVC_THRESHOLDS,
    PRIMARY_METHOD,
    PRIMARY_TAU_SCALE,
    PRIMARY_TEST,
    PRIMARY_TEXT,
    SIX,
    SYNTHESIS,
    TAU_SCALES,
    WIDE_MU_SD,
)
from alsmeta.als.msc2021.report import bayes_table, headline_numbers, pool_table
from alsmeta.als.msc2021.transience import Transience, transience_analysis
from alsmeta.als.msc2021.verdicts import claims_table, count_claims, fvc_worse_claim, transient_benefit_claim
from alsmeta.als.tables import Evidence
from alsmeta.models.bayes import BayesMetaResult, bayes_meta

Z_975 = 1.959963984540054
"""The 97.5% normal quantile, as the empirical-null and FVC-level intervals have always used it."""


@dataclass(frozen=True)
class Forest:
    """One forest of the reconstruction: which effects, under which title, with which study-specific notes."""

    key: str
    stem: str
    outcome: str
    title: str
    effects: tuple[Effect, ...]
    notes: tuple[str, ...]

    @property
    def fit(self) -> am.PooledResult:
        """The fit the forest draws (:func:`alsmeta.als.msc2021.pooling.forest_fit`)."""
        return forest_fit(list(self.effects))

    @property
    def footnotes(self) -> list[str]:
        """Its footnotes (:func:`alsmeta.als.msc2021.pooling.forest_notes`)."""
        return forest_notes(list(self.effects), list(self.notes))


def forests(e: RebuiltEffects) -> list[Forest]:
    """The three forests: ALSFRS-R at first follow-up and at 6 months, FVC; each with Oh 2018's untreated arm."""
    oh = e.oh
    return [
        Forest(
            "alsfrs_r_first",
            "forest_alsfrs_r_first_follow_up",
            "alsfrs_r",
            "Morata-Tarifa 2021 reconstructed: ALSFRS-R, first follow-up (3-4 months)",
            (oh["alsfrs_r", FIRST, "msc"], e.kim, oh["alsfrs_r", FIRST, "control"]),
            (
                "Kim 2009: slopes printed without unit or sign; read as points per 3-month period and divided by 3 "
                "(INFERRED; see sensitivity).",
                "Oh 2018: Table 3 'lead-in vs follow-up' (follow-up 16 weeks per the registry).",
            ),
        ),
        Forest(
            "alsfrs_r_6mo",
            "forest_alsfrs_r_6_months",
            "alsfrs_r",
            "Morata-Tarifa 2021 reconstructed: ALSFRS-R, 6 months",
            (oh["alsfrs_r", SIX, "msc"], e.pet_a, oh["alsfrs_r", SIX, "control"]),
            (
                "Petrou 2016: news/press coverage only; post slope -0.6 (one source prints 0.6); SE from p = 0.052 "
                "with z (t(19) in sensitivity), so its interval reproduces p = 0.052.",
            ),
        ),
        Forest(
            "fvc",
            "forest_fvc",
            "fvc",
            "Morata-Tarifa 2021 reconstructed: FVC % predicted, each study's follow-up",
            (oh["fvc", FIRST, "msc"], e.pet_f, oh["fvc", FIRST, "control"]),
            (
                "Oh 2018: lead-in vs follow-up (about 4 months); Petrou 2016: 6 months, press coverage only, SE from "
                "p = 0.036 with z (t(19) in sensitivity).",
            ),
        ),
    ]


def bayes_fit(p: Pool, scale: float, mu_sd: float = math.inf) -> BayesMetaResult:
    """Bayesian random effects for one pool (:func:`alsmeta.models.bayes.bayes_meta`; Röver 2020).

    Parameters
    ----------
    p
        The pool.
    scale
        Scale of the half-normal prior on tau.
    mu_sd
        SD of the normal prior on mu; infinite (default) is the flat prior.

    Returns
    -------
    BayesMetaResult
        With posterior probabilities above the outcome's thresholds (clinically relevant slowing for ALSFRS-R).
    """
    thr = ALSFRS_THRESHOLDS if p.outcome == "alsfrs_r" else FVC_THRESHOLDS
    return bayes_meta(
        [e.yi for e in p.effects],
        sei=[e.se for e in p.effects],
        tau_scale=scale,
        mu_prior_sd=mu_sd,
        thresholds=thr,
        labels=[e.label for e in p.effects],
    )


def bayes_analyses(pools: dict[str, Pool]) -> tuple[dict[str, dict[float, BayesMetaResult]], dict[str, Any]]:
    """Every pool under each half-normal prior scale on tau (Röver 2020), and under a wide normal prior on mu.

    Returns
    -------
    tuple
        The fits by pool and prior scale, and their numbers as written to numbers.json.
    """
    results: dict[str, dict[float, BayesMetaResult]] = {}
    numbers: dict[str, Any] = {}
    for name, p in pools.items():
        results[name] = {s: bayes_fit(p, s) for s in TAU_SCALES[p.outcome]}
        wide = bayes_fit(p, PRIMARY_TAU_SCALE[p.outcome], WIDE_MU_SD[p.outcome])
        numbers[name] = {
            "title": p.title,
            "k": len(p.effects),
            "flat_mu_prior": {
                f"{s:g}": {**r.to_dict(), "prob_mu_below": {"0": r.prob_below(0.0)}} for s, r in results[name].items()
            },
            "wide_normal_mu_prior": {**wide.to_dict(), "prob_mu_below": {"0": wide.prob_below(0.0)}},
        }
    return results, numbers


def null_pairs(e: RebuiltEffects) -> list[tuple[str, Effect, Effect]]:
    """Oh 2018's MSC arm next to its untreated arm, per outcome and period."""
    return [
        ("first follow-up", e.oh["alsfrs_r", FIRST, "msc"], e.oh["alsfrs_r", FIRST, "control"]),
        ("6 months", e.oh["alsfrs_r", SIX, "msc"], e.oh["alsfrs_r", SIX, "control"]),
        ("first follow-up", e.oh["fvc", FIRST, "msc"], e.oh["fvc", FIRST, "control"]),
    ]


def empirical_null_numbers(e: RebuiltEffects) -> dict[str, Any]:
    """Treated arm, untreated arm and their randomised difference (unpooled SEs, z interval) per outcome and period."""
    out = {}
    for (o, p, arm), c in e.oh.items():
        if arm != "control":
            continue
        t = e.oh[o, p, "msc"]
        diff = t.yi - c.yi
        se = math.hypot(t.se, c.se)
        out[f"{o}_{p.replace(' ', '_').replace('-', '_')}"] = {
            "treated": {"estimate": t.yi, "se": t.se, "ci_low": t.ci[0], "ci_high": t.ci[1], "n": t.n},
            "untreated": {"estimate": c.yi, "se": c.se, "ci_low": c.ci[0], "ci_high": c.ci[1], "n": c.n},
            "treated_minus_untreated": {
                "estimate": diff,
                "se": se,
                "ci_low": diff - Z_975 * se,
                "ci_high": diff + Z_975 * se,
                "pvalue": 2 * stats.norm.sf(abs(diff) / se),
            },
        }
    return out


STUDIES_WITH_NUMBERS = {
    "oh2018": "slope change mean (SD), n, per arm: ALSFRS-R and FVC (verified)",
    "kim2009": "slopes pre/post with p = 0.04 (verified; unit and sign not stated)",
    "petrou2016": "slopes pre/post; p only for the pooled IT + IM/IT regression (secondary)",
}
"""What each candidate with a within-patient number reports (the candidate table's ``numbers_available``)."""


def cohort_groups() -> set[str]:
    """The distinct patient cohorts among the candidates (reports of the same patients count once)."""
    return {g for sid, (_, _, gr, _) in COHORTS.items() for g in (gr or (sid,))}


@dataclass(frozen=True)
class Reconstruction:
    """Every result of the rebuild, as the script writes it (tables, figures, numbers.json)."""

    effects: RebuiltEffects
    pools: ReconstructionPools
    effects_frame: pd.DataFrame
    excluded: pd.DataFrame
    forests: list[Forest]
    subgroup_fits: dict[str, Any]
    sweeps: dict[str, pd.DataFrame]
    data_choices: list[tuple[str, str, list[DataChoice]]]
    data_choice_agreement: dict[str, Any]
    leave_one_out: dict[str, Any]
    bayes_results: dict[str, dict[float, BayesMetaResult]]
    bayes_numbers: dict[str, Any]
    empirical_null: dict[str, Any]
    candidates: pd.DataFrame
    match: dict[str, Any]
    availability: pd.DataFrame
    transience: Transience
    claims: list[dict[str, Any]]
    claims_frame: pd.DataFrame
    published: dict[str, float | None]

    @property
    def pool_table(self) -> pd.DataFrame:
        """Every pool with its primary and alternative interval (report table)."""
        return pool_table(self.pools.all)

    @property
    def bayes_table(self) -> pd.DataFrame:
        """Posterior summaries (report table)."""
        return bayes_table(self.pools.all, self.bayes_results)

    @property
    def claims_markdown_frame(self) -> pd.DataFrame:
        """The columns of the claims table that claims.md and the report show."""
        return self.claims_frame[
            ["claim_id", "component", "shows", "verdict", "analysis", "reason", "agreement", "decisive"]
        ]


def reconstruct(ev: Evidence) -> Reconstruction:
    """Run the 2021 reconstruction from the evidence tables.

    Every verdict follows from the pre-specified primary analysis, REML + HKSJ (Hartung & Knapp
    2001; IntHout et al. 2014); z intervals, the other estimators and tests, data choices and a
    Bayesian model (Röver 2020) are agreement.

    Parameters
    ----------
    ev
        The evidence tables (:func:`alsmeta.als.tables.load_evidence`).

    Returns
    -------
    Reconstruction
        Everything the analysis writes.
    """
    rebuilt = rebuild_effects(ev)
    pools = reconstruction_pools(rebuilt)
    sweeps = {
        "alsfrs_r_first": estimator_sweep(pools.primary["alsfrs_r_first"]),
        "fvc_all_msc": estimator_sweep(pools.with_secondary["fvc_all_msc"]),
        "alsfrs_r_6mo_all_msc": estimator_sweep(pools.with_secondary["alsfrs_r_6mo_all_msc"]),
    }
    panels = data_choice_panels(rebuilt)
    data_choice_agreement = spec_agreement(panels[0][2], "increase")
    loo = {
        name: am.leave_one_out(fit(list(p.effects))).reset_index().to_dict(orient="list")
        for name, p in {
            **{k: v for k, v in pools.primary.items() if len(v.effects) > 1},
            **pools.with_secondary,
        }.items()
    }
    bayes_results, bayes_numbers = bayes_analyses(pools.all)
    null_numbers = empirical_null_numbers(rebuilt)
    candidates, match = candidate_table(ev, STUDIES_WITH_NUMBERS)
    transience = transience_analysis(ev)
    claims = count_claims(ev, match, len(COHORTS), len(cohort_groups()))
    claims += transient_benefit_claim(
        ev,
        rebuilt,
        pools,
        sweeps["alsfrs_r_first"],
        bayes_results["alsfrs_r_first"],
        data_choice_agreement,
        transience,
    )
    claims += fvc_worse_claim(ev, rebuilt, pools, sweeps["fvc_all_msc"], null_numbers)
    all_forests = forests(rebuilt)
    return Reconstruction(
        effects=rebuilt,
        pools=pools,
        effects_frame=effects_table(rebuilt),
        excluded=pd.DataFrame(not_poolable(ev)),
        forests=all_forests,
        subgroup_fits={f.key: subgroup_numbers(list(f.effects)) for f in all_forests},
        sweeps=sweeps,
        data_choices=panels,
        data_choice_agreement=data_choice_agreement,
        leave_one_out=loo,
        bayes_results=bayes_results,
        bayes_numbers=bayes_numbers,
        empirical_null=null_numbers,
        candidates=candidates,
        match=match,
        availability=availability_table(ev),
        transience=transience,
        claims=claims,
        claims_frame=claims_table(claims),
        published={
            r.claim_id: (float(r.value) if r.value != "" else None)
            for r in ev.claims[ev.claims.synthesis == SYNTHESIS].itertuples()
        },
    )


CLAIM_NUMBER_FIELDS = (
    "verdict",
    "analysis",
    "reason",
    "shows",
    "estimate",
    "ci_low",
    "ci_high",
    "k",
    "n",
    "agreement",
    "sources",
)
"""The fields of each claim row that numbers.json keeps."""


def reconstruction_numbers(rec: Reconstruction) -> dict[str, Any]:
    """numbers.json of the reconstruction (without the figure index, which the script adds).

    Parameters
    ----------
    rec
        The result of :func:`reconstruct`.

    Returns
    -------
    dict
        Effects with provenance, pools, forests, sweeps, data choices, leave-one-out, Bayes, the
        empirical null, transience, candidates, availability, the README headline, claims and the
        decisions the rebuild rests on.
    """
    primary = rec.pools.primary
    first = list(primary["alsfrs_r_first"].effects)
    return {
        "meta_analysis": {"published": rec.published},
        "effects": {e.key: effect_numbers(e) for e in [*rec.effects.primary, *rec.effects.alternatives]},
        "not_poolable": rec.excluded.to_dict(orient="records"),
        "pools": {k: pool_numbers(p) for k, p in rec.pools.all.items()},
        "forest_subgroups": rec.subgroup_fits,
        "sweeps": {k: sw.to_dict(orient="records") for k, sw in rec.sweeps.items()},
        "data_choice_sensitivity": {
            title: [
                {"specification": lab, "primary": prim, "reml_z": fit_numbers(fz), "reml_hksj": fit_numbers(fh)}
                for lab, fz, fh, prim in rows
            ]
            for title, _, rows in rec.data_choices
        },
        "leave_one_out": rec.leave_one_out,
        "bayes": rec.bayes_numbers,
        "empirical_null": rec.empirical_null,
        "transience": rec.transience.to_dict(),
        "candidates": {"count_matching": rec.match, "table": rec.candidates.to_dict(orient="records")},
        "availability": rec.availability.to_dict(orient="records"),
        "headline": headline_numbers(
            primary_fit(first),
            fit(first, "REML", "z"),
            sweep_agreement(rec.sweeps["alsfrs_r_first"], "increase"),
            [r.prob_mu_above[0] for r in rec.bayes_results["alsfrs_r_first"].values()],
            rec.transience,
            rec.match,
            ", ".join(f"{e.label} (source values {e.status})" for e in first),
            rec.data_choice_agreement,
        ),
        "claims": {f"{r['claim_id']}|{r['component']}": {k: r[k] for k in CLAIM_NUMBER_FIELDS} for r in rec.claims},
        "primary_analysis": {
            "method": PRIMARY_METHOD,
            "test": PRIMARY_TEST,
            "text": PRIMARY_TEXT,
            "why": "k = 2: the z interval ignores the uncertainty in tau2 (IntHout et al. 2014); z and the other "
            "choices are agreement",
        },
        "sweep_agreement": {
            k: sweep_agreement(sw, "decrease" if k.startswith("fvc") else "increase") for k, sw in rec.sweeps.items()
        },
        "data_choice_agreement_alsfrs_r_first": rec.data_choice_agreement,
        "verdicts": {r["claim_id"]: r["verdict"] for r in rec.claims if r["component"] == "overall"},
        "decisions": {
            "effect_measure": "within-patient change in progression slope, post minus pre; positive = slower decline",
            "primary_model": f"{PRIMARY_TEXT}; REML with z intervals, all estimators x tests and a Bayesian model as "
            "agreement",
            "kim2009_unit": "slopes read as points per 3-month period and divided by 3 (INFERRED); as printed in "
            "sensitivity",
            "petrou2016_sign": "post-treatment ALSFRS-R slope -0.6 (neuronews); +0.6 (neurologyadvisor) in sensitivity",
            "se_from_p": "z, so that each study's z interval reproduces its published P (the tests are not named; "
            "z gives the larger SE); paired t with df = n - 1 in sensitivity, its study interval then t(n - 1); "
            "an analysis of one such study alone is decided by its published P",
            "clinically_relevant_alsfrs_r": "0.25 and 0.5 points/month (25% / 50% of a ~1 point/month decline)",
            "tau_priors": {k: list(v) for k, v in TAU_SCALES.items()},
        },
    }
