"""The readable report of the reconstruction and the README headline numbers."""

from __future__ import annotations

from typing import Any

import pandas as pd

import alsmeta as am
from alsmeta.als.msc2021.pooling import Pool, analysis_text, ci_text, fit, primary_fit
from alsmeta.als.msc2021.protocol import PRIMARY_TEXT, TAU_SCALES, UNITS
from alsmeta.als.msc2021.transience import Transience, transience_table, transience_text
from alsmeta.io.reporting import markdown_table
from alsmeta.models.bayes import BayesMetaResult


def headline_numbers(
    primary: am.PooledResult,
    z: am.PooledResult,
    agreement: dict[str, Any],
    bayes_probs: list[float],
    t: Transience,
    match: dict[str, Any],
    studies: str,
    data_choices: dict[str, Any],
) -> dict[str, Any]:
    """The numbers a reader of the README sees, each with the assumptions it rests on.

    One place for the generated README text (``headline`` in numbers.json).
    """

    def interval(f: Any) -> dict[str, Any]:
        """Estimate and 95% interval of a fit or window increment."""
        return {"estimate": f.estimate, "ci_low": f.ci_low, "ci_high": f.ci_high}

    cc = match["MSC"]["count_choices"]
    return {
        "it_msc_alsfrs_r_first_follow_up": {
            "primary": {
                **interval(primary),
                "k": primary.k,
                "analysis": analysis_text(primary),
                "unit": "points/month",
            },
            "z_alternative": {**interval(z), "analysis": analysis_text(z)},
            "studies": studies + "; Kim 2009 slopes read as points per 3 months (INFERRED)",
            "sweep": agreement,
            "data_choices": data_choices,
            "bayes_prob_benefit": {
                "min": min(bayes_probs),
                "max": max(bayes_probs),
                "tau_prior_scales": list(TAU_SCALES["alsfrs_r"]),
            },
            "scope": "properties of this project's two-study rebuild, not of the 2021 paper (which published no "
            "study-level data)",
        },
        "transience_oh2018": {
            "difference_4mo": t.widest.differences[0],
            "difference_6mo": t.widest.differences[1],
            "gain_per_month_0_4": interval(t.widest.windows[0]),
            "gain_per_month_4_6": {
                "r0": interval(t.widest.windows[1]),
                "r_derived": interval(t.derived.windows[1]),
                "r1": interval(t.narrowest.windows[1]),
            },
            "r_derived": list(t.r_derived),
            "r_slowing_threshold": t.r_slowing_threshold,
            "assumptions": list(t.widest.assumptions[:1])
            + [
                "within-patient correlation r of the 4- and 6-month changes not reported: "
                "range 0 to 1; derived value from linear decline + visit error"
            ],
            "status": "derived",
        },
        "msc_152_selections": {
            "either_size": cc["selections_either_size"],
            "one_size_fixed_range": cc["range_fixed_size"],
            "without_msc_ntf_either_size": cc["without_msc_ntf_either_size"],
            "without_msc_ntf_one_size_fixed_range": cc["without_msc_ntf_range_fixed_size"],
            "candidates_with_known_n": len(cc["candidates_counted"]),
            "alternative_sizes": cc["alternative_sizes"],
            "msc_ntf_counted_as_msc": cc["msc_ntf_counted_as_msc"],
            "left_out_n_unknown": cc["left_out_n_unknown"],
        },
    }


def reconstruction_report(
    candidates: pd.DataFrame,
    effects: pd.DataFrame,
    excluded: pd.DataFrame,
    pools: pd.DataFrame,
    bayes: pd.DataFrame,
    claims: pd.DataFrame,
    match: dict[str, Any],
    transience: Transience,
) -> str:
    """The readable report (reconstruction.md): candidates and counts, effects, pools, transience, Bayes, claims.

    Parameters
    ----------
    candidates, effects, excluded
        The candidate table, the effect table and the results that cannot enter a pool.
    pools, bayes
        The pooled-analysis and Bayesian tables (:func:`pool_table`, :func:`bayes_table`).
    claims
        The claims check, one row per claim or component.
    match
        The count matching of :func:`alsmeta.als.msc2021.cohorts.candidate_table`.
    transience
        Oh 2018's gain per window (:func:`alsmeta.als.msc2021.transience.transience_analysis`).

    Returns
    -------
    str
        Markdown text.
    """
    cols = [
        "study",
        "outcome",
        "period",
        "group",
        "n",
        "slope_change",
        "se",
        "ci_low",
        "ci_high",
        "se_from",
        "status",
        "role",
        "flags",
    ]
    cc = match["MSC"]["count_choices"]
    alt = " and ".join(f"{k} ({' or '.join(map(str, v))})" for k, v in cc["alternative_sizes"].items())
    text = [
        "# Morata-Tarifa et al. 2021, reconstructed from the primary studies\n",
        "Within-patient effect: post-treatment minus pre-treatment (lead-in) slope of ALSFRS-R (points/month) or FVC "
        "(% predicted/month); positive = slower decline after cell administration. SEs only from documented "
        "conversions "
        "(SD/sqrt(n); two-sided p with z, so each such study's interval reproduces its published p; a paired t, "
        "df = n - 1, in sensitivity, with a t interval). The 2021 study list and numbers were not retrievable; every "
        "number below comes from data/ with its source (see effects.csv and numbers.json).\n",
        f"Primary analysis (pre-specified; every verdict follows from it): {PRIMARY_TEXT}. REML with z intervals, the "
        "other tau\u00b2 "
        "estimators and tests, data choices and a Bayesian model are alternatives, reported as agreement. Every "
        "fragility or robustness "
        "statement below describes this project's rebuild (at most two studies per pool), not the 2021 paper, which "
        "published no "
        "study-level data.\n",
        "## Candidate studies and the published counts\n",
        f"MSC 152: {match['MSC']['selections_matching']} selections of the {len(match['MSC']['candidates'])} MSC "
        "candidates with a known n sum to "
        f"exactly 152, so the count does not identify the studies. This count lets {alt} enter with either size and "
        "counts the MSC-NTF "
        f"studies ({', '.join(cc['msc_ntf_counted_as_msc'])}) as MSC (INFERRED); "
        f"{', '.join(cc['left_out_n_unknown'])} is left out (n unknown). "
        f"With one size fixed per study: {cc['range_fixed_size'][0]} to {cc['range_fixed_size'][1]} selections; "
        "without the MSC-NTF studies: "
        f"{cc['without_msc_ntf_either_size']} (either size) or {cc['without_msc_ntf_range_fixed_size'][0]} to "
        f"{cc['without_msc_ntf_range_fixed_size'][1]}. "
        "NSC 57: no selection of non-overlapping NSC cohorts sums to 57 (largest "
        f"{match['NSC']['max_disjoint_total']}); "
        f"{match['NSC']['selections_matching_with_double_counting']} selections reach 57 only by counting the same "
        "patients twice. "
        "MNC 11: Blanquer 2012 (n = 11) is the only match.\n",
        markdown_table(
            candidates[
                [
                    "study",
                    "year",
                    "subgroup_2021",
                    "route",
                    "design",
                    "n_treated",
                    "numbers_available",
                    "fits_2021_count",
                ]
            ]
        ),
        "\n## Within-patient effects\n",
        markdown_table(effects[cols]),
        "\n## Results that cannot enter a numeric pool\n",
        markdown_table(excluded),
        "\n## Pooled analyses (REML; HKSJ primary, z alternative)\n",
        markdown_table(pools),
        "\n## Is the benefit transient? Between-arm gain per window (Oh 2018, derived)\n",
        transience_text(transience),
        markdown_table(transience_table(transience)),
        "\n## Bayesian random effects (flat prior on mu; half-normal priors on tau)\n",
        markdown_table(bayes),
        "\n## Claims check\n",
        markdown_table(claims),
    ]
    return "\n".join(text)


def claims_markdown(claims: pd.DataFrame) -> str:
    """claims.md: how a verdict is reached, then the claims table."""
    return (
        "# Claims check: Morata-Tarifa et al. 2021 (npj Regen Med 6:20)\n\n"
        f"Every verdict follows from the pre-specified primary analysis of this project's rebuild: {PRIMARY_TEXT}. "
        "reproduced = its 95% CI excludes no effect in the claimed direction; contradicted = it excludes no effect in "
        "the opposite "
        "direction; not assessable = no usable number, or an interval that contains no effect. A claim is reproduced "
        "only if every "
        "decisive part is (parts resting only on secondary sources, and alternative readings of a claim, are shown "
        "but do not decide). "
        "Agreement across alternatives (z intervals, other tau\u00b2 estimators, Bayesian priors, data choices) is "
        "reported separately "
        "and counts distinct analyses, not choice combinations. Fragility or robustness statements describe this "
        "project's two-study "
        "rebuild, not the 2021 paper, which published no study-level data.\n\n" + markdown_table(claims)
    )


def pool_table(pools: dict[str, Pool]) -> pd.DataFrame:
    """Every pooled analysis with its primary (REML + HKSJ) and alternative (REML + z) interval, as text."""
    return pd.DataFrame(
        [
            {
                "analysis": p.title,
                "k": len(p.effects),
                "n": p.n,
                "status": p.statuses,
                "REML, HKSJ (primary)": ci_text(
                    *(lambda f: (f.estimate, f.ci_low, f.ci_high))(primary_fit(list(p.effects)))
                )
                + (" (k = 1: z)" if len(p.effects) == 1 else f" (t, {len(p.effects) - 1} df)"),
                "REML, z (alternative)": ci_text(*(lambda f: (f.estimate, f.ci_low, f.ci_high))(fit(list(p.effects)))),
                "unit": UNITS[p.outcome],
            }
            for p in pools.values()
        ]
    )


BAYES_TABLE_POOLS = (
    "alsfrs_r_first",
    "alsfrs_r_6mo",
    "null_alsfrs_r_first",
    "fvc_first",
    "fvc_all_msc",
    "null_fvc_first",
)
"""The pools whose posteriors the report tabulates."""


def bayes_table(pools: dict[str, Pool], results: dict[str, dict[float, BayesMetaResult]]) -> pd.DataFrame:
    """Posterior summaries per pool and half-normal prior scale on tau (P(mu > t) for ALSFRS-R, P(mu < 0) for FVC)."""
    return pd.DataFrame(
        [
            {
                "analysis": pools[name].title,
                "tau prior": f"half-normal({s:g})",
                "mu median (95% CrI)": ci_text(r.mu_median, r.mu_ci_low, r.mu_ci_high),
                "tau median": f"{r.tau_median:.2f}",
                **(
                    {f"P(mu > {t:g})": f"{pv:.3f}" for t, pv in zip(r.thresholds, r.prob_mu_above, strict=True)}
                    if pools[name].outcome == "alsfrs_r"
                    else {"P(mu < 0)": f"{r.prob_below(0.0):.3f}"}
                ),
            }
            for name in BAYES_TABLE_POOLS
            for s, r in results[name].items()
        ]
    ).fillna("")
