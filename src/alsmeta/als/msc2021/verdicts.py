"""Claim rows of the 2021 claims check: count claims, direction verdicts, transience and the other readings."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

import alsmeta as am
from alsmeta.als.claims_check import (
    NOT_ASSESSABLE,
    REPRODUCED,
    direction_verdict,
    overall_verdict,
)
from alsmeta.als.msc2021.effects import Effect, RebuiltEffects, require
from alsmeta.als.msc2021.pooling import (
    ReconstructionPools,
    analysis_text,
    ci_text,
    fit,
    primary_fit,
    sweep_agreement,
    sweep_robustness,
)
from alsmeta.als.msc2021.protocol import FIRST, SYNTHESIS
from alsmeta.als.msc2021.transience import Transience
from alsmeta.als.tables import Evidence
from alsmeta.als.windows import (
    WindowIncrement,
)
from alsmeta.models.bayes import BayesMetaResult


def count_claims(ev: Evidence, match: dict[str, Any], n_candidates: int, n_cohort_groups: int) -> list[dict[str, Any]]:
    """Verdicts on the count claims (records, full texts, studies, patients per cell type, total).

    Parameters
    ----------
    ev
        The evidence tables (the claims' published text and values).
    match
        The count matching of :func:`alsmeta.als.msc2021.cohorts.candidate_table`.
    n_candidates, n_cohort_groups
        How many candidate reports and distinct patient cohorts there are.

    Returns
    -------
    list of dict
        One claim row per count claim; a count is reproduced only when exactly one selection matches.
    """
    rows = []

    def add(claim_id: str, verdict: str, shows: str, reason: str, brief: str = "") -> None:
        c = ev.claim(SYNTHESIS, claim_id)
        rows.append(
            {
                "claim_id": claim_id,
                "claim": c["claim"],
                "published": c["value"],
                "component": "overall",
                "reading": "count",
                "shows": shows,
                "estimate": math.nan,
                "ci_low": math.nan,
                "ci_high": math.nan,
                "k": 0,
                "n": 0,
                "verdict": verdict,
                "reason": reason,
                "agreement": "",
                "agreement_short": "",
                "decisive": True,
                "not_decisive_because": "",
                "sources": [],
                "analysis": "count",
                "brief": brief or shows,
            }
        )

    search = (
        "the search (databases, dates, strategy) and screening records were not retrieved; the toolkit cannot "
        "re-run them"
    )
    add("records_identified", NOT_ASSESSABLE, "no search to re-run", search)
    add("full_texts_assessed", NOT_ASSESSABLE, "no screening record", search)
    add(
        "studies_included",
        NOT_ASSESSABLE,
        f"{n_candidates} candidate reports from {n_cohort_groups} patient cohorts published before April 2021; the "
        "list of 11 is unknown",
        "the study list was not retrieved and the candidates do not identify a unique set of 11",
        f"{n_candidates} candidate reports ({n_cohort_groups} cohorts); which 11 is unknown",
    )
    m = match["MSC"]
    cc = m["count_choices"]
    alt = " and ".join(f"{k} ({' or '.join(map(str, v))})" for k, v in cc["alternative_sizes"].items())
    add(
        "patients_msc",
        NOT_ASSESSABLE,
        f"{m['selections_matching']} different selections of the {len(m['candidates'])} MSC candidates with a known n "
        "sum to exactly 152 "
        f"(e.g. {' + '.join(m['examples'][0])})",
        "the total is reachable in many ways, so it does not identify the MSC studies. The count "
        f"{cc['selections_either_size']} lets "
        f"{len(cc['alternative_sizes'])} studies enter with either of two sizes ({alt}) and counts the MSC-NTF studies "
        f"({', '.join(cc['msc_ntf_counted_as_msc'])}) as MSC (INFERRED); {', '.join(cc['left_out_n_unknown'])} is "
        "left out (n unknown). "
        f"With one size fixed per study the count is {cc['range_fixed_size'][0]} to {cc['range_fixed_size'][1]}; "
        "without the MSC-NTF "
        f"studies {cc['without_msc_ntf_either_size']} (either size) or {cc['without_msc_ntf_range_fixed_size'][0]} to "
        f"{cc['without_msc_ntf_range_fixed_size'][1]} (one size fixed); every choice leaves more than one selection",
        f"152 reachable in {cc['selections_either_size']} ways "
        f"({cc['range_fixed_size'][0]}-{cc['range_fixed_size'][1]} with one n per study; "
        f"{cc['without_msc_ntf_range_fixed_size'][0]}-{cc['without_msc_ntf_range_fixed_size'][1]} without MSC-NTF)",
    )
    m = match["NSC"]
    add(
        "patients_nsc",
        NOT_ASSESSABLE,
        f"no selection of non-overlapping NSC cohorts sums to 57 (largest: {m['max_disjoint_total']} = "
        f"{' + '.join(m['max_disjoint_selection'])}); "
        f"57 needs reports of the same patients counted twice ({m['selections_matching_with_double_counting']} ways) "
        "or an unretrieved study",
        "57 cannot be matched from the known candidates without double counting",
        f"no selection without double counting reaches 57 (largest {m['max_disjoint_total']})",
    )
    m = match["MNC"]
    add(
        "patients_mnc",
        REPRODUCED if m["selections_matching"] == 1 else NOT_ASSESSABLE,
        "Blanquer 2012 (intraspinal BM-MNC, 11 patients, 6-month pre-treatment observation) is the one MNC candidate "
        "with n = 11",
        "the count matches exactly one candidate (identification INFERRED from the n-match)",
        "Blanquer 2012 is the one MNC candidate with n = 11",
    )
    add(
        "patients_total",
        NOT_ASSESSABLE,
        "152 + 57 + 11 = 220: the published arithmetic is consistent",
        "the MSC and NSC totals themselves cannot be matched from the candidates",
        "152 + 57 + 11 = 220 (arithmetic only)",
    )
    return rows


def sources_of(effects: list[Effect]) -> list[dict[str, Any]]:
    """The data rows (``sources`` records) the effects were computed from, each once, in order."""
    return _unique([dict(record) for e in effects for record in e.sources])


def union_of_sources(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The data rows behind several claim rows (a claim's overall row rests on all its parts), each once."""
    return _unique([record for row in rows for record in row["sources"]])


def _unique(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: dict[tuple[tuple[str, Any], ...], dict[str, Any]] = {}
    for record in records:
        seen.setdefault(tuple(sorted(record.items())), record)
    return list(seen.values())


def direction_row(
    claim_id: str,
    component: str,
    reading: str,
    f: am.PooledResult | None,
    effects: list[Effect],
    claimed: str,
    decisive: bool,
    agreement: str = "",
    extra: str = "",
    unit: str = "",
    short: str = "",
    brief: str = "",
) -> dict[str, Any]:
    """A claim row whose verdict follows from a fit's 95% CI (:func:`alsmeta.als.claims_check.direction_verdict`).

    Parameters
    ----------
    claim_id, component, reading
        Which claim, which part of it, and how it is read.
    f
        The primary analysis of the part, or None when no number exists (not assessable).
    effects
        The studies behind ``f``.
    claimed
        ``"increase"`` or ``"decrease"``.
    decisive
        False for parts resting only on secondary sources (shown, not deciding).
    agreement, extra, unit, short, brief
        Texts: agreement across alternatives, extra context, the unit, the short agreement and the brief
        summary for the figure.

    Returns
    -------
    dict
        The claim row (claims.csv columns plus ``not_decisive_because``).
    """
    if f is None or f.k == 0:
        verdict, reason = NOT_ASSESSABLE, "no usable number (k = 0)"
        est = lo = hi = math.nan
        shows = extra
        brief = brief or "no usable number"
    else:
        verdict, reason = direction_verdict(f.estimate, f.ci_low, f.ci_high, f.k, claimed)
        reason = f"primary analysis ({analysis_text(f)}): {reason}"
        est, lo, hi = f.estimate, f.ci_low, f.ci_high
        who = ", ".join(e.label for e in effects)
        shows = f"{ci_text(est, lo, hi)} {unit}; k = {f.k}, n = {sum(e.n for e in effects)} ({who})" + (
            f"; {extra}" if extra else ""
        )
        brief = brief or f"{ci_text(est, lo, hi)} {unit}; k = {f.k}, n = {sum(e.n for e in effects)}"
    if not decisive and f is not None and f.k:
        reason += "; rests on secondary sources only, so it does not decide the claim"
    return {
        "claim_id": claim_id,
        "claim": "",
        "published": "",
        "component": component,
        "reading": reading,
        "shows": shows,
        "estimate": est,
        "ci_low": lo,
        "ci_high": hi,
        "k": 0 if f is None else f.k,
        "n": sum(e.n for e in effects),
        "verdict": verdict,
        "reason": reason,
        "agreement": agreement,
        "agreement_short": short,
        "decisive": decisive,
        "brief": brief,
        "not_decisive_because": "" if decisive else "secondary source only",
        "analysis": "" if f is None else analysis_text(f),
        "sources": sources_of(effects),
    }


def _verdict_over_r(analyses: list[WindowIncrement], claimed: str) -> tuple[str, str]:
    """One verdict if the interval gives the same one at both ends of the r range, else not assessable.

    The interval narrows monotonically in r, so its two ends decide.
    """
    verdicts = [direction_verdict(w.estimate, w.ci_low, w.ci_high, 1, claimed) for w in analyses]
    if len({v for v, _ in verdicts}) == 1:
        return verdicts[0][0], "at every r in [0, 1]: " + verdicts[0][1]
    return NOT_ASSESSABLE, (
        "depends on the unreported correlation r: "
        + "; ".join(f"r = {w.r[0]:g}: {v} ({why})" for w, (v, why) in zip(analyses, verdicts, strict=True))
    )


def transience_rows(t: Transience) -> list[dict[str, Any]]:
    """Claim rows for 'transient'.

    (a) The gain accrues more slowly after month 4 (decisive); (b) the gain is lost (fades; another reading).
    """
    w0, wd, w1 = t.widest, t.derived, t.narrowest
    early, (late0, lated, late1) = w0.windows[0], (w0.windows[1], wd.windows[1], w1.windows[1])
    d4, d6 = w0.differences
    rd = f"r = {t.r_derived[0]:.2f}/{t.r_derived[1]:.2f} (derived)"
    common = (
        "Oh 2018 (randomised), ALSFRS-R gain MSC minus control per month: months 0-4 "
        f"{ci_text(early.estimate, early.ci_low, early.ci_high)}; "
        f"months 4-6 {late0.estimate:.2f}, 95% CI {late0.ci_low:.2f} to {late0.ci_high:.2f} at r = 0 (widest), "
        f"{lated.ci_low:.2f} to {lated.ci_high:.2f} "
        f"at {rd}, {late1.ci_low:.2f} to {late1.ci_high:.2f} at r = 1; {d4:.2f} of the {d6:.2f}-point 6-month "
        "difference is there at 4 months"
    )
    sv, sreason = _verdict_over_r([w0.slowing, w1.slowing], "increase")
    thr = "at no r in [0, 1]" if math.isnan(t.r_slowing_threshold) else f"only if r >= {t.r_slowing_threshold:.2f}"
    slowing = {
        "claim_id": "it_msc_transient_alsfrs_benefit",
        "claim": "",
        "published": "",
        "component": "transience: the slowing of progression is transient (the between-arm gain accrues more slowly "
        "after month 4)",
        "reading": "gain per month in months 0-4 minus months 4-6 > 0",
        "shows": (
            common + f"; slowing of the gain {w0.slowing.estimate:.2f}/month: {w0.slowing.ci_low:.2f} to "
            f"{w0.slowing.ci_high:.2f} (r = 0), "
            f"{wd.slowing.ci_low:.2f} to {wd.slowing.ci_high:.2f} ({rd}), {w1.slowing.ci_low:.2f} to "
            f"{w1.slowing.ci_high:.2f} (r = 1)"
        ),
        "estimate": wd.slowing.estimate,
        "ci_low": wd.slowing.ci_low,
        "ci_high": wd.slowing.ci_high,
        "k": 1,
        "n": t.n_patients,
        "verdict": sv,
        "reason": (
            f"{sreason}; the slowing interval excludes 0 {thr}, and the derived r is "
            f"{t.r_derived[0]:.2f}/{t.r_derived[1]:.2f}: "
            "the gain accrues mostly in months 0-4, but at every r the 4-6 month increment is compatible with no "
            "further gain and with "
            "continued gain, so the reported numbers cannot decide whether the effect on progression is transient; "
            "no randomised numbers after 6 months"
        ),
        "agreement": (
            "derived from arm-level changes from baseline (Oh 2018 Table 3) under a stated correlation range; the "
            "within-patient slope "
            "changes to first follow-up (1.13) and to 6 months (1.08) are nested windows too and cannot show fading"
        ),
        "agreement_short": f"the 4-6 month interval depends on the unreported correlation r: slowing shown {thr}",
        "brief": (
            f"Oh 2018 RCT, gain per month: months 0-4 {ci_text(early.estimate, early.ci_low, early.ci_high)}; months "
            "4-6 "
            f"{late0.estimate:.2f} (CI {late0.ci_low:.2f} to {late0.ci_high:.2f} at r = 0; {late1.ci_low:.2f} to "
            f"{late1.ci_high:.2f} at r = 1)"
        ),
        "decisive": True,
        "not_decisive_because": "",
        "analysis": "derived: window increments, z",
        "sources": list(t.sources),
    }
    fv, freason = _verdict_over_r([late0, late1], "decrease")
    fading = {
        "claim_id": "it_msc_transient_alsfrs_benefit",
        "claim": "",
        "published": "",
        "component": "other reading: the gain fades (the between-arm difference shrinks after month 4)",
        "reading": "gain per month in months 4-6 < 0",
        "shows": f"months 4-6: {late0.estimate:.2f} points/month; lower bounds {late0.ci_low:.2f} (r = 0) to "
        f"{late1.ci_low:.2f} (r = 1), upper bounds {late1.ci_high:.2f} to {late0.ci_high:.2f}",
        "estimate": lated.estimate,
        "ci_low": lated.ci_low,
        "ci_high": lated.ci_high,
        "k": 1,
        "n": t.n_patients,
        "verdict": fv,
        "reason": freason + "; a loss of the gain is neither shown nor excluded",
        "agreement": "",
        "agreement_short": "",
        "decisive": False,
        "not_decisive_because": "alternative reading of the claim",
        "analysis": "derived: window increments, z",
        "brief": f"months 4-6: {late0.estimate:.2f}/month; the CI contains 0 at every r in [0, 1]",
        "sources": list(t.sources),
    }
    return [slowing, fading]


def oh_fvc_level(ev: Evidence) -> dict[str, Any]:
    """The other reading of 'FVC worsened': FVC fell after treatment (change from baseline, not a slope change).

    Oh 2018's MSC arm, baseline to 4 months (:func:`alsmeta.mean_change`), 95% z interval; not decisive,
    because the untreated arm fell as much.
    """
    arms = {}
    sources: list[dict[str, Any]] = []
    for arm in ("msc", "control"):
        mean, sd, size = (
            require(ev.statistic("oh2018", "fvc_pct_change", "baseline to 4 months", arm, s))
            for s in ("mean", "sd", "n")
        )
        sources += [r.source() for r in (mean, sd, size)]
        es = am.mean_change(change=[mean.value], sd_change=[sd.value], n=[size.value], labels=["Oh 2018"])
        arms[arm] = (float(es.yi[0]), float(es.sei[0]), int(size.value))
    y, se, n = arms["msc"]
    lo, hi = y - 1.959963984540054 * se, y + 1.959963984540054 * se
    cy, cse, _ = arms["control"]
    verdict, reason = direction_verdict(y, lo, hi, 1, "decrease")
    return {
        "claim_id": "fvc_worse_all",
        "claim": "",
        "published": "",
        "component": "other reading: FVC fell after intrathecal MSC (level, not slope)",
        "reading": "FVC change from baseline < 0",
        "shows": (
            f"Oh 2018 MSC arm, baseline to 4 months: {ci_text(y, lo, hi)} % predicted, n = {n}; "
            f"untreated arm {ci_text(cy, cy - 1.96 * cse, cy + 1.96 * cse)}: ALS natural history"
        ),
        "estimate": y,
        "ci_low": lo,
        "ci_high": hi,
        "k": 1,
        "n": n,
        "verdict": verdict,
        "reason": reason + "; under this reading the claim is true but uninformative (the untreated arm fell as much)",
        "agreement": "",
        "agreement_short": "",
        "decisive": False,
        "not_decisive_because": "alternative reading of the claim",
        "analysis": "one study, z interval",
        "brief": f"{ci_text(y, lo, hi)} % predicted; untreated arm {cy:.2f}",
        "sources": sources,
    }


def transient_benefit_claim(
    ev: Evidence,
    rebuilt: RebuiltEffects,
    pools: ReconstructionPools,
    sweep: pd.DataFrame,
    bayes_first: dict[float, BayesMetaResult],
    data_choice_agreement: dict[str, Any],
    transience: Transience,
) -> list[dict[str, Any]]:
    """Rows of the claim 'transient positive ALSFRS-R effect of intrathecal MSC': overall, positive part, transience.

    Parameters
    ----------
    ev
        The evidence tables (the claim's published text).
    rebuilt, pools
        The rebuilt effects and pools; the verdict follows from the primary analysis of
        ``pools.primary["alsfrs_r_first"]``.
    sweep
        The estimator x test sweep of that pool (agreement only).
    bayes_first
        Its Bayesian fits by prior scale on tau (agreement only).
    data_choice_agreement
        :func:`alsmeta.als.msc2021.pooling.spec_agreement` of its data choices (agreement only).
    transience
        Oh 2018's gain per window (:func:`transience_rows`).

    Returns
    -------
    list of dict
        The overall row, then the positive-effect component and the transience components.
    """
    effects = list(pools.primary["alsfrs_r_first"].effects)
    f_first, f_first_z = primary_fit(effects), fit(effects, "REML", "z")
    b_probs = [r.prob_mu_above[0] for r in bayes_first.values()]
    agree_first = sweep_agreement(sweep, "increase")
    oh_first, oh_null = rebuilt.oh["alsfrs_r", FIRST, "msc"], rebuilt.oh["alsfrs_r", FIRST, "control"]
    c = ev.claim(SYNTHESIS, "it_msc_transient_alsfrs_benefit")
    pos = direction_row(
        "it_msc_transient_alsfrs_benefit",
        "positive effect: slower ALSFRS-R decline after intrathecal MSC (first follow-up)",
        "post - pre slope > 0",
        f_first,
        effects,
        "increase",
        True,
        agreement=(
            "alternatives in this project's two-study rebuild (not the 2021 paper, which published no study-level "
            "data): "
            f"REML with a z interval {ci_text(f_first_z.estimate, f_first_z.ci_low, f_first_z.ci_high)}; "
            + sweep_robustness(sweep, "increase")
            + f"; Bayesian P(mu > 0) = {min(b_probs):.3f} to {max(b_probs):.3f} over half-normal scales "
            + ", ".join(f"{s:g}" for s in bayes_first)
            + f"; data choices (Kim 2009 unit and SE, leaving out either study; z and HKSJ): 95% CI > 0 in "
            f"{data_choice_agreement['holds_distinct']} of {data_choice_agreement['distinct']} distinct analyses "
            f"({data_choice_agreement['combinations']} combinations)"
            + "; without Kim 2009 (Oh 2018 alone, k = 1): "
            + ci_text(oh_first.yi, *oh_first.ci)
        ),
        short=(
            f"holds in {agree_first['holds_distinct']} of {agree_first['distinct']} distinct estimator x test analyses "
            f"({agree_first['combinations']} combinations), {agree_first['z']['holds_distinct']} of them with z; "
            f"REML z {ci_text(f_first_z.estimate, f_first_z.ci_low, f_first_z.ci_high)}; "
            f"Bayesian P(\u03bc > 0) {min(b_probs):.2f}-{max(b_probs):.4f}"
        ),
        extra=f"untreated arm of Oh 2018 (empirical null): {ci_text(oh_null.yi, *oh_null.ci)}",
        unit="points/month",
    )
    pos["sources"] = sources_of([*effects, oh_null])  # the untreated arm is shown beside the estimate
    trans_rows = transience_rows(transience)
    overall = {
        **pos,
        "component": "overall",
        "claim": c["claim"],
        "published": "",
        "reading": "transient positive effect",
        "shows": (
            "positive within-patient effect: not shown by the primary analysis (REML + HKSJ, k = 2); "
            "transience: the randomised between-arm gain accrues mostly in months 0-4, fading is not shown"
        ),
        "verdict": overall_verdict([(pos["verdict"], True), *((t["verdict"], t["decisive"]) for t in trans_rows)]),
        "reason": (
            "under the primary analysis the rebuilt positive effect is inconclusive (its z interval excludes 0, "
            "HKSJ does not); whether the effect is transient cannot be decided from the reported numbers "
            "(see the transience rows)"
        ),
        "estimate": math.nan,
        "ci_low": math.nan,
        "ci_high": math.nan,
        "agreement_short": "",
        "analysis": "from the decisive parts",
        "brief": "positive part inconclusive under the primary analysis; transience cannot be decided",
        "sources": union_of_sources([pos, *trans_rows]),
    }
    return [overall, pos, *trans_rows]


def fvc_worse_claim(
    ev: Evidence,
    rebuilt: RebuiltEffects,
    pools: ReconstructionPools,
    sweep: pd.DataFrame,
    null_numbers: dict[str, Any],
) -> list[dict[str, Any]]:
    """Rows of the claim 'FVC worse after all interventions': overall, then one component per cell type and reading.

    Parameters
    ----------
    ev
        The evidence tables (the claim's text, the qualitative statements on NSC and MNC, Oh 2018's FVC level).
    rebuilt, pools
        The rebuilt effects and pools (intrathecal MSC: ``pools.primary["fvc_first"]``).
    sweep
        The estimator x test sweep of ``pools.with_secondary["fvc_all_msc"]`` (agreement only).
    null_numbers
        The empirical null (treated minus untreated arm of Oh 2018).

    Returns
    -------
    list of dict
        The overall row (from the decisive components), then the components.
    """
    c = ev.claim(SYNTHESIS, "fvc_worse_all")
    null_f = rebuilt.oh["fvc", FIRST, "control"]
    diff = null_numbers["fvc_first_follow_up"]["treated_minus_untreated"]
    comp_it = direction_row(
        "fvc_worse_all",
        "intrathecal MSC",
        "post - pre FVC slope < 0",
        primary_fit(list(pools.primary["fvc_first"].effects)),
        list(pools.primary["fvc_first"].effects),
        "decrease",
        True,
        extra=f"untreated arm (empirical null): {ci_text(null_f.yi, *null_f.ci)}; treated minus untreated "
        f"{diff['estimate']:.2f} (p = {diff['pvalue']:.2f})",
        agreement="k = 1: estimator and test choices do not apply (the study's own z interval)",
        unit="%/month",
        short="k = 1: no alternative analyses",
    )
    comp_it["sources"] = sources_of([*pools.primary["fvc_first"].effects, null_f])  # with the untreated arm shown
    comp_ntf = direction_row(
        "fvc_worse_all",
        "MSC-NTF (intrathecal \u00b1 intramuscular)",
        "post - pre FVC slope < 0",
        primary_fit([rebuilt.pet_f]),
        [rebuilt.pet_f],
        "decrease",
        False,
        extra="secondary sources only",
        unit="%/month",
    )
    agree = sweep_agreement(sweep, "decrease")
    comp_all = direction_row(
        "fvc_worse_all",
        "all MSC pooled (sensitivity, with the secondary source)",
        "post - pre FVC slope < 0",
        primary_fit(list(pools.with_secondary["fvc_all_msc"].effects)),
        list(pools.with_secondary["fvc_all_msc"].effects),
        "decrease",
        False,
        agreement=sweep_robustness(sweep, "decrease"),
        unit="%/month",
        short=(
            f"holds in {agree['holds_distinct']} of {agree['distinct']} distinct analyses "
            f"({agree['combinations']} combinations)"
        ),
    )
    q = ev.qualitative
    mnc = q[(q.study_id == "blanquer2012")].iloc[0]
    nsc = q[(q.study_id == "mazzini2019") & (q.outcome == "fvc")].iloc[0]
    comp_nsc = direction_row(
        "fvc_worse_all",
        "NSC",
        "post - pre FVC slope < 0",
        None,
        [],
        "decrease",
        True,
        extra=f'no FVC number for any NSC candidate; Mazzini 2019 ({nsc.status}): "{nsc.statement}"',
    )
    comp_mnc = direction_row(
        "fvc_worse_all",
        "MNC",
        "post - pre FVC slope < 0",
        None,
        [],
        "decrease",
        True,
        extra=f'no FVC number; Blanquer 2012 ({mnc.status}): "{mnc.statement}"',
    )
    comp_level = oh_fvc_level(ev)
    comps = [comp_it, comp_ntf, comp_all, comp_nsc, comp_mnc, comp_level]
    overall = {
        **comp_it,
        "component": "overall",
        "claim": c["claim"],
        "published": "",
        "reading": "FVC progression worse after every cell type",
        "shows": "worse after intrathecal MSC in Oh 2018; its untreated arm also declined (not significantly) and the "
        "arms do not differ; opposite in the secondary MSC-NTF report; no numbers for NSC or MNC",
        "verdict": overall_verdict([(x["verdict"], x["decisive"]) for x in comps if x is not comp_level]),
        "reason": "FVC numbers exist only for MSC; NSC and MNC cannot be assessed, and their primary reports state no "
        "acceleration of FVC decline",
        "estimate": math.nan,
        "ci_low": math.nan,
        "ci_high": math.nan,
        "k": 0,
        "n": 0,
        "agreement": "",
        "agreement_short": "",
        "analysis": "from the decisive parts",
        "brief": "worse after IT MSC; the untreated arm also declined, the arms do not differ; no NSC or MNC numbers",
        "sources": union_of_sources(comps),
    }
    return [overall, *comps]


def claims_table(claims: list[dict[str, Any]]) -> pd.DataFrame:
    """The claim rows as a table, ``decisive`` written as ``yes`` or ``no: <why>``."""
    frame = pd.DataFrame(claims).drop(columns="sources")  # the data rows go to numbers.json, not the table
    frame["decisive"] = [
        "yes" if d else f"no: {why}" for d, why in zip(frame["decisive"], frame["not_decisive_because"], strict=True)
    ]
    return frame.drop(columns="not_decisive_because")
