"""Within-patient slope changes (post minus pre) rebuilt from data/, each with the conversion behind its SE.

An SE recovered from a published P value is only as good as the test assumed behind that P (Cochrane Handbook
v6.4, 6.3.1: the statistic is recovered from P under the test's reference distribution, then SE = estimate /
statistic). The rebuild's primary conversion uses z: every interval it draws or pools treats a study's SE as
known (normal), and only a z-derived SE gives a study interval that excludes 0 exactly when the published P is
below 0.05. Neither source names its test (Kim 2009: none; Petrou 2016: "linear regression", whose df depends on
the visits modelled, not on n - 1), and a z-derived SE is the larger one, so the study never gets more weight than
its P allows. A paired t(n - 1) conversion (Handbook 6.5.2.3) is the sensitivity reading; its study interval then
uses t(n - 1) too (:attr:`Effect.ci`), so it also reproduces the published P.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from scipy import stats

import alsmeta as am
from alsmeta.als.msc2021.cohorts import COHORTS
from alsmeta.als.msc2021.protocol import (
    FIRST,
    IT_MSC,
    NTF,
    NULL,
    OUTCOME_NAMES,
    PERIOD_TEXT,
    PETROU_SOURCES,
    SIX,
    UNITS,
)
from alsmeta.als.tables import Evidence, Reported
from alsmeta.validation import AlsmetaInputError


@dataclass(frozen=True)
class Effect:
    """One within-patient slope change (post minus pre) with its provenance."""

    key: str
    study_id: str
    label: str
    outcome: str
    period: str
    group: str
    yi: float
    se: float
    n: int
    se_from: str
    status: str
    derivation: str
    flags: tuple[str, ...] = ()
    sources: tuple[dict[str, Any], ...] = field(default=(), repr=False)
    df: float = math.inf

    @property
    def ci(self) -> tuple[float, float]:
        """The study's 95% interval in the reference distribution its SE came from.

        z (``df`` infinite) for an SE from SD/sqrt(n) or from a P value converted with z; t(``df``) for an SE
        back-calculated from a P value with t (sensitivity). Either way an SE from a P value gives an interval
        that excludes 0 exactly when that P is below 0.05.
        """
        q = stats.norm.isf(0.025) if math.isinf(self.df) else stats.t.isf(0.025, self.df)
        return self.yi - q * self.se, self.yi + q * self.se

    @property
    def interval_from(self) -> str:
        """The reference distribution of :attr:`ci`: ``"z"`` or ``"t(df)"``."""
        return "z" if math.isinf(self.df) else f"t({self.df:g})"

    def row(self) -> dict[str, Any]:
        """The effect as a row of effects.csv (rounded to 4 decimals, with unit, SE conversion and flags)."""
        lo, hi = self.ci
        return {
            "key": self.key,
            "study": self.label,
            "outcome": OUTCOME_NAMES[self.outcome],
            "period": PERIOD_TEXT[self.period],
            "group": self.group,
            "n": self.n,
            "slope_change": round(self.yi, 4),
            "se": round(self.se, 4),
            "ci_low": round(lo, 4),
            "ci_high": round(hi, 4),
            "ci_from": self.interval_from,
            "unit": UNITS[self.outcome],
            "se_from": self.se_from,
            "status": self.status,
            "flags": "; ".join(self.flags),
            "derivation": self.derivation,
        }


def require(r: Reported) -> Reported:
    """The reported number; raises :class:`~alsmeta.validation.AlsmetaInputError` naming it if data/ lacks it.

    The rebuild never pools a number it does not have: a missing row (``not_found``) stops it.
    """
    if r.missing:
        raise AlsmetaInputError(f"msc2021: a number the reconstruction needs is missing: {r.describe()}")
    return r


def provenance(r: Reported) -> dict[str, Any]:
    """Where a reported number comes from (study, outcome, time point, arm, statistic, value, status, location, URL)."""
    return r.source()


def oh_arm(ev: Evidence, outcome: str, period: str, arm: str) -> Effect:
    """Oh 2018: the trial's own within-patient slope change (lead-in vs follow-up), mean (SD), n per arm.

    Parameters
    ----------
    ev
        The evidence tables.
    outcome
        ``"alsfrs_r"`` or ``"fvc"``.
    period
        :data:`~alsmeta.als.msc2021.protocol.FIRST` or :data:`~alsmeta.als.msc2021.protocol.SIX`.
    arm
        ``"msc"`` (treated) or ``"control"`` (riluzole alone: the empirical null).

    Returns
    -------
    Effect
        The mean slope change with SE = SD / sqrt(n) (:func:`alsmeta.slope_change`).
    """
    name = {"alsfrs_r": "alsfrs_r_slope_change", "fvc": "fvc_pct_slope_change"}[outcome]
    timepoint = {FIRST: "lead-in vs follow-up", SIX: "lead-in vs follow-up up to 6 months"}[period]
    mean, sd, n = (require(ev.statistic("oh2018", name, timepoint, arm, s)) for s in ("mean", "sd", "n"))
    es = am.slope_change(change=[mean.value], sd_change=[sd.value], n=[n.value], labels=["Oh 2018"])
    treated = arm == "msc"
    return Effect(
        key=f"oh2018_{arm}_{outcome}_{period.replace(' ', '_').replace('-', '_')}",
        study_id="oh2018",
        label="Oh 2018, MSC arm" if treated else "Oh 2018, control arm",
        outcome=outcome,
        period=period,
        group=IT_MSC if treated else NULL,
        yi=float(es.yi[0]),
        se=float(es.sei[0]),
        n=int(n.value),
        se_from="SD/\u221an",
        status=mean.status,
        derivation=f"Table 3 '{timepoint}': mean {mean.value:g} (SD {sd.value:g}), n = {n.value:g}; SE = SD/sqrt(n)"
        + ("" if treated else "; riluzole alone, no cells: the same pre-post analysis without treatment"),
        flags=()
        if period == SIX
        else ("follow-up period not stated in Table 3; 16 weeks per the registry (INFERRED)",),
        sources=tuple(provenance(r) for r in (mean, sd, n)),
    )


def se_from_published_p(change: float, p: Reported, df: float | None, label: str) -> tuple[float, str, str]:
    """SE of a slope change from its published two-sided P value, with the conversion in words.

    Parameters
    ----------
    change
        The slope change the P value tests against 0.
    p
        The published P value.
    df
        Degrees of freedom of the t test assumed behind P; ``None`` for z (the rebuild's primary reading).
    label
        The study, for error messages.

    Returns
    -------
    tuple
        The SE (:func:`alsmeta.se_from_p`; Cochrane Handbook 6.3.1 for z, 6.5.2.3 for t), the short
        ``se_from`` text (``p = 0.04, z``) and the formula with the interval it implies.
    """
    se = float(am.se_from_p([change], [p.value], df=df, labels=[label]).se[0])
    q = f"1 - {p.value:g}/2"
    dist = "z" if df is None else f"t({df:g})"
    formula = (f"z({q})" if df is None else f"t({q}, {df:g})") + f"; {dist} interval: excludes 0 iff p < 0.05"
    return se, f"p = {p.value:g}, {dist}", formula


def kim2009(ev: Evidence, per_month: bool = True, t_test: bool = False) -> Effect:
    """Kim 2009: slopes 2.68 (lead-in) -> 1.54 (follow-up), p = 0.04, n = 22; no SD.

    Sign: the printed positive numbers are taken as rates of decline (the abstract concludes slower decline),
    so the signed slopes are -2.68 and -1.54 and the change is +1.14. Unit: not stated. The same 1.54 is
    printed as the ALSFRS-R change "during the 3-month follow-up", so the slopes are most plausibly points
    per 3-month period (INFERRED) and are divided by 3 to give points/month. SE from the two-sided p-value
    with z (:func:`alsmeta.se_from_p`; Cochrane Handbook 6.3.1): the abstract names no test, and the z
    interval then excludes 0 exactly when p < 0.05 (module docstring). A paired t-test with df = n - 1
    (Handbook 6.5.2.3) is the sensitivity reading.

    Parameters
    ----------
    ev
        The evidence tables.
    per_month
        False keeps the slopes as printed, i.e. assumes points/month (sensitivity).
    t_test
        True converts the p-value with t(n - 1) instead of z (sensitivity); the effect's interval is then
        t(n - 1) too.

    Returns
    -------
    Effect
        The slope change with its derivation and flags.
    """
    pre, post, p, n = (
        require(ev.statistic("kim2009", "alsfrs_r_slope", "lead-in vs follow-up", "msc", s))
        for s in ("slope_pre", "slope_post", "p", "n")
    )
    change = (-post.value) - (-pre.value)
    df = n.value - 1 if t_test else None
    se, se_from, formula = se_from_published_p(change, p, df, "Kim 2009")
    factor = 3.0 if per_month else 1.0
    flags = ["sign convention not stated (positive numbers read as rates of decline)"]
    flags.append(
        "unit not stated: read as points per 3-month period, divided by 3 (INFERRED)"
        if per_month
        else "unit not stated: read as points/month as printed"
    )
    return Effect(
        key="kim2009_alsfrs_r" + ("" if per_month else "_as_printed") + ("_t" if t_test else ""),
        study_id="kim2009",
        label="Kim 2009",
        outcome="alsfrs_r",
        period=FIRST,
        group=IT_MSC,
        yi=change / factor,
        se=se / factor,
        n=int(n.value),
        se_from=se_from,
        status=pre.status,
        derivation=(
            f"abstract: slope {pre.value:g} (lead-in) -> {post.value:g} (follow-up), p = {p.value:g}, n = {n.value:g}; "
            f"change = {change:.2f}{' / 3' if per_month else ''}; SE = |change|{' / 3' if per_month else ''} / "
            + formula
        ),
        flags=tuple(flags),
        sources=tuple(provenance(r) for r in (pre, post, p, n)),
        df=math.inf if df is None else float(df),
    )


def petrou_regression(ev: Evidence, outcome: str, source: str = "neuronews", t_test: bool = False) -> Effect:
    """Petrou 2016, IT and IM+IT cohorts pooled (linear regression): slopes pre -> post with a p-value.

    Secondary sources only. ALSFRS-R: one source prints -1.2 -> -0.6, the other -1.2 -> 0.6 (a lost minus
    sign is very likely: the primary analysis uses -0.6, the other is a sensitivity analysis). n = 6 (IT) + 14
    (IM+IT) = 20 from the abstract; SE from the two-sided p with z (the source says 'linear regression',
    whose df is not known; the z interval then excludes 0 exactly when p < 0.05). A paired t(19) is the
    sensitivity reading.

    Parameters
    ----------
    ev
        The evidence tables.
    outcome
        ``"alsfrs_r"`` or ``"fvc"``.
    source
        ``"neuronews"`` or ``"neurologyadvisor"`` (:data:`~alsmeta.als.msc2021.protocol.PETROU_SOURCES`).
    t_test
        True converts the p-value with t(n - 1) instead of z (sensitivity); the effect's interval is then
        t(n - 1) too.

    Returns
    -------
    Effect
        The slope change, flagged as a secondary source.
    """
    name = {"alsfrs_r": "alsfrs_r_slope", "fvc": "fvc_pct_slope"}[outcome]
    tp = "3-month run-in vs 6 months after transplantation"
    url = PETROU_SOURCES[source]
    pre, post, p = (
        require(ev.statistic("petrou2016", name, tp, "it_and_im_it_regression", s, source_url=url))
        for s in ("slope_pre", "slope_post", "p")
    )
    n_it, n_imit = (require(ev.statistic("petrou2016", "alsfrs_r_slope", tp, arm, "n")) for arm in ("it", "im_it"))
    n = int(n_it.value + n_imit.value)
    change = post.value - pre.value
    df = n - 1 if t_test else None
    se, se_from, formula = se_from_published_p(change, p, df, "Petrou 2016")
    flags = ["secondary source (news / press coverage), not checked against the paper"]
    if outcome == "alsfrs_r":
        flags.append(
            "sign of the post-treatment slope differs between the two sources"
            + (": -0.6 used" if post.value < 0 else ": +0.6 as printed by one source")
        )
    return Effect(
        key=f"petrou2016_{outcome}_{source}" + ("_t" if t_test else ""),
        study_id="petrou2016",
        label="Petrou 2016, IT + IM/IT pooled",
        outcome=outcome,
        period=SIX,
        group=NTF,
        yi=change,
        se=se,
        n=n,
        se_from=se_from,
        status=pre.status,
        derivation=(
            f"{source}: slope {pre.value:g} -> {post.value:g} per month, p = {p.value:g}; n = {n_it.value:g} + "
            f"{n_imit.value:g} (abstract); SE = |change| / " + formula
        ),
        flags=tuple(flags),
        sources=tuple(provenance(r) for r in (pre, post, p, n_it, n_imit)),
        df=math.inf if df is None else float(df),
    )


def not_poolable(ev: Evidence) -> list[dict[str, Any]]:
    """Within-patient results that exist but cannot enter a numeric pool, and why.

    Parameters
    ----------
    ev
        The evidence tables.

    Returns
    -------
    list of dict
        One row per result (study, outcome, what is reported, slope change if any, why it is not pooled):
        Petrou 2016's single cohorts, Syková 2017, Mazzini 2019 and every statement in words only.
    """
    rows = []
    tp = "3-month run-in vs 6 months after transplantation"
    for outcome, name in (("alsfrs_r", "alsfrs_r_slope"), ("fvc", "fvc_pct_slope")):
        for arm, cohort in (("it", "phase 1/2 IT, n = 6"), ("im_it", "phase 2a IM+IT, n = 14")):
            pre = ev.statistic("petrou2016", name, tp, arm, "slope_pre")
            post = ev.statistic("petrou2016", name, tp, arm, "slope_post")
            if pre.missing or post.missing:
                continue
            sign = " (sign of the post slope UNCERTAIN: printed without a minus)" if "UNCERTAIN" in post.note else ""
            rows.append(
                {
                    "study": f"Petrou 2016 ({cohort})",
                    "outcome": OUTCOME_NAMES[outcome],
                    "reported": f"slope {pre.value:g} -> {post.value:g} {UNITS[outcome]}{sign}",
                    "slope_change": round(post.value - pre.value, 4),
                    "why_not_pooled": "no SD, SE, CI or p-value for this cohort: the spread cannot be derived "
                    "(secondary source)",
                }
            )
    syk = ev.statistic("sykova2017", "alsfrs_decline", "3 months after application", "msc", "p")
    rows.append(
        {
            "study": "Syková 2017 (IT BM-MSC, n = 23)",
            "outcome": "ALSFRS",
            "reported": f"decline reduced at 3 months, p {syk.relation} {syk.value:g}",
            "slope_change": math.nan,
            "why_not_pooled": "no estimate: a p-value bound without an effect size gives no SE (se_from_p needs the "
            "estimate)",
        }
    )
    mz = ev.statistic("mazzini2019", "alsfrs_r_slope", "before vs after transplantation", "nsc", "p")
    if not mz.missing:
        rows.append(
            {
                "study": "Mazzini 2019 (hNSC, n = 18)",
                "outcome": "ALSFRS-R",
                "reported": f"p = {mz.value:g} [{mz.status}; {mz.location}]",
                "slope_change": math.nan,
                "why_not_pooled": "a p-value whose comparison is not certain and no estimate: no SE can be derived",
            }
        )
    q = ev.qualitative
    studies = ev.studies.set_index("study_id")
    for r in q[q.study_id.isin(list(COHORTS))].itertuples():
        s = studies.loc[r.study_id]
        rows.append(
            {
                "study": f"{s['label']} ({s['cell_type']}, {s['route']})",
                "outcome": r.outcome,
                "reported": f"{r.direction}: {r.statement} [{r.status}]",
                "slope_change": math.nan,
                "why_not_pooled": "stated in words only; no number retrievable",
            }
        )
    return rows


@dataclass(frozen=True)
class RebuiltEffects:
    """Every within-patient effect of the rebuild: the primary values and the alternative conversions.

    ``oh`` maps ``(outcome, period, arm)`` to Oh 2018's arms (arm ``"msc"`` or ``"control"``);
    ``kim`` and ``pet_a`` / ``pet_f`` (Petrou 2016, ALSFRS-R / FVC) are the primary readings, the
    other fields the sensitivity readings (unit as printed, SE via t(n - 1) instead of z, the other source's
    sign).
    """

    oh: dict[tuple[str, str, str], Effect]
    kim: Effect
    kim_printed: Effect
    kim_t: Effect
    pet_a: Effect
    pet_a_plus: Effect
    pet_a_t: Effect
    pet_f: Effect
    pet_f_t: Effect

    @property
    def primary(self) -> list[Effect]:
        """Oh 2018's arms, Kim 2009 and Petrou 2016 as the primary analysis reads them."""
        return [*self.oh.values(), self.kim, self.pet_a, self.pet_f]

    @property
    def alternatives(self) -> list[Effect]:
        """The same studies under the alternative conversions (sensitivity analyses)."""
        return [self.kim_printed, self.kim_t, self.pet_a_plus, self.pet_a_t, self.pet_f_t]


def rebuild_effects(ev: Evidence) -> RebuiltEffects:
    """Recompute every effect of the rebuild from data/.

    Parameters
    ----------
    ev
        The evidence tables (:func:`alsmeta.als.tables.load_evidence`).

    Returns
    -------
    RebuiltEffects
        Oh 2018 (ALSFRS-R first follow-up and 6 months, FVC first follow-up, both arms), Kim 2009
        and Petrou 2016 with their alternative readings.
    """
    oh = {
        (o, p, a): oh_arm(ev, o, p, a)
        for o, p in (("alsfrs_r", FIRST), ("alsfrs_r", SIX), ("fvc", FIRST))
        for a in ("msc", "control")
    }
    return RebuiltEffects(
        oh=oh,
        kim=kim2009(ev),
        kim_printed=kim2009(ev, per_month=False),
        kim_t=kim2009(ev, t_test=True),
        pet_a=petrou_regression(ev, "alsfrs_r", "neuronews"),
        pet_a_plus=petrou_regression(ev, "alsfrs_r", "neurologyadvisor"),
        pet_a_t=petrou_regression(ev, "alsfrs_r", "neuronews", t_test=True),
        pet_f=petrou_regression(ev, "fvc", "neuronews"),
        pet_f_t=petrou_regression(ev, "fvc", "neuronews", t_test=True),
    )


def effects_table(rebuilt: RebuiltEffects) -> pd.DataFrame:
    """One row per effect (:meth:`Effect.row`) with its role: primary, sensitivity or empirical null."""
    effect_rows = [
        dict(e.row(), role="primary" if e.status == "verified" else "sensitivity (secondary source)")
        for e in rebuilt.primary
    ]
    effect_rows += [dict(e.row(), role="sensitivity (alternative conversion)") for e in rebuilt.alternatives]
    for r in effect_rows:
        if r["group"] == NULL:
            r["role"] = "empirical null"
    return pd.DataFrame(effect_rows)


def effect_numbers(e: Effect) -> dict[str, Any]:
    """An effect with its provenance, as written to numbers.json."""
    return {
        "study_id": e.study_id,
        "outcome": e.outcome,
        "period": e.period,
        "group": e.group,
        "yi": e.yi,
        "se": e.se,
        "n": e.n,
        "se_from": e.se_from,
        "ci_from": e.interval_from,
        "status": e.status,
        "flags": list(e.flags),
        "sources": list(e.sources),
    }
