"""Pooling the rebuilt effects: the primary analysis (REML + HKSJ), its alternatives, agreement in distinct analyses."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, replace
from typing import Any

import pandas as pd

import alsmeta as am
from alsmeta.als.msc2021.effects import Effect, RebuiltEffects
from alsmeta.als.msc2021.protocol import FIRST, PERIOD_SHORT, PRIMARY_METHOD, PRIMARY_TEST, SIX, UNITS
from alsmeta.diagnostics.multiverse import distinct_analyses


def fit(effects: list[Effect], method: str = "REML", test: str = "z") -> am.PooledResult:
    """Pool effects with ``method`` and ``test`` (:func:`alsmeta.pool`), silencing the k = 1 fall-back to z.

    Parameters
    ----------
    effects
        The studies to pool.
    method, test
        As in :func:`alsmeta.pool` (REML: Viechtbauer 2005; knha: Hartung & Knapp 2001).

    Returns
    -------
    alsmeta.PooledResult
    """
    with warnings.catch_warnings():
        warnings.simplefilter(
            "ignore", am.AlsmetaWarning
        )  # k = 1 with a t-based test falls back to z (noted in the output)
        return am.pool(
            [e.yi for e in effects],
            sei=[e.se for e in effects],
            labels=[e.label for e in effects],
            method=method,
            test=test,
        )


def fit_numbers(f: am.PooledResult) -> dict[str, Any]:
    """The numbers of a fit that numbers.json keeps (k, estimate, interval, tau2, I2, Q, test and df)."""
    return {
        "k": f.k,
        "estimate": f.estimate,
        "se": f.se,
        "ci_low": f.ci_low,
        "ci_high": f.ci_high,
        "pvalue": f.pvalue,
        "tau2": f.tau2,
        "i2": f.i2,
        "q": f.q,
        "q_pvalue": f.q_pvalue,
        "method": f.method,
        "test": f.test,
        "df": f.df,
        "test_downgraded": f.test_downgraded,
    }


def ci_text(est: float, lo: float, hi: float, digits: int = 2) -> str:
    """``estimate (low to high)`` with ``digits`` decimals."""
    return f"{est:.{digits}f} ({lo:.{digits}f} to {hi:.{digits}f})"


@dataclass(frozen=True)
class Pool:
    """One pooled analysis of the reconstruction."""

    key: str
    title: str
    outcome: str
    effects: tuple[Effect, ...]
    note: str = ""

    @property
    def n(self) -> int:
        """Patients in the pool (sum over its effects)."""
        return sum(e.n for e in self.effects)

    @property
    def statuses(self) -> str:
        """The sources' statuses, e.g. ``secondary/verified``."""
        return "/".join(sorted({e.status for e in self.effects}))


def pool_numbers(p: Pool) -> dict[str, Any]:
    """A pool with its REML z and REML HKSJ fits, as numbers.json keeps them."""
    z, h = fit(list(p.effects), "REML", "z"), fit(list(p.effects), "REML", "knha")
    return {
        "title": p.title,
        "outcome": p.outcome,
        "unit": UNITS[p.outcome],
        "k": len(p.effects),
        "n": p.n,
        "studies": [e.key for e in p.effects],
        "status": p.statuses,
        "note": p.note,
        "reml_z": fit_numbers(z),
        "reml_hksj": fit_numbers(h),
    }


def primary_fit(effects: list[Effect]) -> am.PooledResult:
    """The rebuild's pre-specified primary analysis of a set of effects.

    REML + HKSJ (t with k - 1 df; Hartung & Knapp 2001, IntHout et al. 2014); with k = 1 the study's own
    z interval (:data:`~alsmeta.als.msc2021.protocol.PRIMARY_TEXT`).
    """
    return fit(effects, PRIMARY_METHOD, PRIMARY_TEST)


def prediction_note(f: am.PooledResult) -> str:
    """Why no prediction interval is drawn for a k = 2 HKSJ fit, in words.

    The t(k - 2) interval of Riley et al. 2011 has no degrees of freedom with k = 2; metafor's predict()
    uses t(k - 1), whose limits the note quotes.
    """
    return (
        f"No prediction interval: with k = {f.k} the t(k - 2) interval of Riley et al. 2011 has {f.k - 2} df and is "
        "undefined "
        f"(metafor's predict() uses t(k - 1) = t({f.df:g}) and gives {f.pi_low:.2f} to {f.pi_high:.2f})."
    )


def analysis_text(f: am.PooledResult) -> str:
    """The analysis a verdict rests on, with its test and df (e.g. ``REML + HKSJ, t(1), k = 2``)."""
    if f.k == 1:
        return "one study, z interval"
    if not math.isfinite(f.df):
        return f"{f.method} + z, k = {f.k}"
    name = {"knha": "HKSJ", "t": "t", "adhoc": "HKSJ ad hoc"}[f.test]
    return f"{f.method} + {name}, t({f.df:g}), k = {f.k}"


def _holds(frame: pd.DataFrame, claimed: str) -> pd.Series:
    return (frame.ci_low > 0) if claimed == "increase" else (frame.ci_high < 0)


SWEEP_IDENTITY = (
    "estimate",
    "ci_low",
    "ci_high",
)  # one sweep = one data set (same k): an analysis is its estimate and interval


def sweep_agreement(sw: pd.DataFrame, claimed: str) -> dict[str, Any]:
    """How many *distinct* analyses of an estimator x test sweep put the 95% CI beyond 0 in the claimed direction.

    Choice combinations that give the same fitted result (e.g. every estimator when tau2 = 0) are one analysis
    (:func:`alsmeta.diagnostics.multiverse.distinct_analyses`); both counts are returned.

    Parameters
    ----------
    sw
        The sweep (:func:`alsmeta.estimator_sweep`): one row per estimator x test.
    claimed
        ``"increase"`` or ``"decrease"``.

    Returns
    -------
    dict
        Combinations, distinct analyses and how many hold, overall and for z and HKSJ alone.
    """
    distinct = distinct_analyses(sw, columns=SWEEP_IDENTITY)
    out: dict[str, Any] = {
        "claimed": claimed,
        "combinations": len(sw),
        "distinct": len(distinct),
        "holds_distinct": int(_holds(distinct, claimed).sum()),
        "holds_combinations": int(_holds(sw, claimed).sum()),
    }
    for test in ("z", "knha"):
        sub = sw[sw.test == test]
        d = distinct_analyses(sub, columns=SWEEP_IDENTITY)
        out[test] = {"combinations": len(sub), "distinct": len(d), "holds_distinct": int(_holds(d, claimed).sum())}
    return out


def spec_agreement(rows: list[tuple[str, am.PooledResult, am.PooledResult, bool]], claimed: str) -> dict[str, Any]:
    """Data-choice sensitivity of the rebuild: how many distinct (data set, test) analyses hold, counted once each.

    Parameters
    ----------
    rows
        The data specifications (:func:`data_choice`).
    claimed
        ``"increase"`` or ``"decrease"``.

    Returns
    -------
    dict
        Combinations, distinct analyses, how many hold, and which.
    """
    frame = pd.DataFrame(
        [
            {
                "specification": lab,
                "test": name,
                "k": f.k,
                "estimate": f.estimate,
                "ci_low": f.ci_low,
                "ci_high": f.ci_high,
            }
            for lab, fz, fh, _ in rows
            for name, f in (("z", fz), ("knha", fh))
        ]
    )
    distinct = distinct_analyses(frame)
    holds = _holds(distinct, claimed).to_numpy()
    return {
        "claimed": claimed,
        "combinations": len(frame),
        "distinct": len(distinct),
        "holds_distinct": int(holds.sum()),
        "holding": [f"{r.specification} ({r.test})" for r, h in zip(distinct.itertuples(), holds, strict=True) if h],
    }


def sweep_robustness(sw: pd.DataFrame, claimed: str) -> str:
    """The agreement of an estimator x test sweep in words (distinct analyses holding, with z and HKSJ)."""
    a = sweep_agreement(sw, claimed)
    return (
        f"95% CI beyond 0 in the claimed direction in {a['holds_distinct']} of {a['distinct']} distinct analyses "
        f"({a['combinations']} estimator x test combinations; {a['z']['holds_distinct']} of {a['z']['distinct']} "
        "distinct with z, "
        f"{a['knha']['holds_distinct']} of {a['knha']['distinct']} with HKSJ)"
    )


def subgroup_numbers(effects: list[Effect]) -> dict[str, Any]:
    """Each subgroup of a forest pooled with the primary analysis and with REML + z, as written to numbers.json.

    Parameters
    ----------
    effects
        The study rows of one forest; subgroups are ``Effect.group`` in order of appearance.

    Returns
    -------
    dict
        ``{group: {"primary_reml_hksj": ..., "reml_z": ...}}`` (:func:`fit_numbers` of each fit).
    """
    groups = [e.group for e in effects]
    return {
        g: {"primary_reml_hksj": fit_numbers(primary_fit(m)), "reml_z": fit_numbers(fit(m))}
        for g in dict.fromkeys(groups)
        for m in [[e for e in effects if e.group == g]]
    }


@dataclass(frozen=True)
class ReconstructionPools:
    """The pooled analyses of the rebuild.

    The primary pools (verified values only), the pools with the secondary source, and the untreated-arm pools.
    """

    primary: dict[str, Pool]
    with_secondary: dict[str, Pool]
    nulls: dict[str, Pool]

    @property
    def all(self) -> dict[str, Pool]:
        """Every pool, the untreated-arm pools keyed ``null_<name>``."""
        return {**self.primary, **self.with_secondary, **{f"null_{k}": v for k, v in self.nulls.items()}}


def reconstruction_pools(e: RebuiltEffects) -> ReconstructionPools:
    """Which effects each pooled analysis of the rebuild combines.

    The primary pools use verified values only; the sensitivity pools add Petrou 2016 (secondary source);
    the null pools are Oh 2018's untreated arm.
    """
    oh = e.oh
    primary = {
        "alsfrs_r_first": Pool(
            "alsfrs_r_first",
            "ALSFRS-R, intrathecal MSC, first follow-up (3-4 months)",
            "alsfrs_r",
            (oh["alsfrs_r", FIRST, "msc"], e.kim),
            "primary: verified values only",
        ),
        "alsfrs_r_6mo": Pool(
            "alsfrs_r_6mo",
            "ALSFRS-R, intrathecal MSC, 6 months",
            "alsfrs_r",
            (oh["alsfrs_r", SIX, "msc"],),
            "primary: verified values only",
        ),
        "fvc_first": Pool(
            "fvc_first",
            "FVC, intrathecal MSC, first follow-up (about 4 months)",
            "fvc",
            (oh["fvc", FIRST, "msc"],),
            "primary: verified values only",
        ),
    }
    with_secondary = {
        "alsfrs_r_6mo_all_msc": Pool(
            "alsfrs_r_6mo_all_msc",
            "ALSFRS-R, all MSC incl. MSC-NTF, 6 months (with secondary source)",
            "alsfrs_r",
            (oh["alsfrs_r", SIX, "msc"], e.pet_a),
            "sensitivity: adds Petrou 2016 (secondary)",
        ),
        "fvc_all_msc": Pool(
            "fvc_all_msc",
            "FVC, all MSC incl. MSC-NTF, each study's period (with secondary source)",
            "fvc",
            (oh["fvc", FIRST, "msc"], e.pet_f),
            "sensitivity: adds Petrou 2016 (secondary; 6 months)",
        ),
    }
    nulls = {
        "alsfrs_r_first": Pool(
            "null_alsfrs_r_first",
            "ALSFRS-R, untreated arm, first follow-up",
            "alsfrs_r",
            (oh["alsfrs_r", FIRST, "control"],),
        ),
        "alsfrs_r_6mo": Pool(
            "null_alsfrs_r_6mo", "ALSFRS-R, untreated arm, 6 months", "alsfrs_r", (oh["alsfrs_r", SIX, "control"],)
        ),
        "fvc_first": Pool(
            "null_fvc_first", "FVC, untreated arm, first follow-up", "fvc", (oh["fvc", FIRST, "control"],)
        ),
    }
    return ReconstructionPools(primary, with_secondary, nulls)


def estimator_sweep(p: Pool) -> pd.DataFrame:
    """Every tau2 estimator x test for one pool (:func:`alsmeta.estimator_sweep`)."""
    return am.estimator_sweep(
        [e.yi for e in p.effects], [e.se**2 for e in p.effects], labels=[e.label for e in p.effects]
    )


DataChoice = tuple[str, am.PooledResult, am.PooledResult, bool]
"""One data specification: its label, the REML z and REML HKSJ fits, and whether it is the primary data set."""


def data_choice(label: str, effects: list[Effect], is_primary: bool = False) -> DataChoice:
    """Pool one data specification with REML + z and REML + HKSJ."""
    return (label, fit(effects, "REML", "z"), fit(effects, "REML", "knha"), is_primary)


def data_choice_panels(e: RebuiltEffects) -> list[tuple[str, str, list[DataChoice]]]:
    """The data-choice sensitivity of the rebuild: (panel title, outcome, specifications), primary data set first."""
    oa1, oa6, of1 = e.oh["alsfrs_r", FIRST, "msc"], e.oh["alsfrs_r", SIX, "msc"], e.oh["fvc", FIRST, "msc"]
    return [
        (
            "ALSFRS-R, intrathecal MSC, first follow-up",
            "alsfrs_r",
            [
                data_choice("Oh 2018 + Kim 2009 (Kim per month; SE via z)", [oa1, e.kim], True),
                data_choice("Kim 2009 unit as printed (points/month)", [oa1, e.kim_printed]),
                data_choice("Kim 2009 SE via t(21) instead of z", [oa1, e.kim_t]),
                data_choice("leave out Kim 2009 (Oh 2018 only)", [oa1]),
                data_choice("leave out Oh 2018 (Kim 2009 only)", [e.kim]),
            ],
        ),
        (
            "ALSFRS-R, 6 months",
            "alsfrs_r",
            [
                data_choice("intrathecal MSC: Oh 2018 only", [oa6], True),
                data_choice("+ Petrou 2016 (secondary), post slope -0.6", [oa6, e.pet_a]),
                data_choice("+ Petrou 2016, post slope +0.6 as printed", [oa6, e.pet_a_plus]),
                data_choice("+ Petrou 2016, -0.6, SE via t(19)", [oa6, e.pet_a_t]),
            ],
        ),
        (
            "FVC % predicted",
            "fvc",
            [
                data_choice("intrathecal MSC: Oh 2018 only", [of1], True),
                data_choice("+ Petrou 2016 (secondary, 6 months)", [of1, e.pet_f]),
                data_choice("+ Petrou 2016, SE via t(19)", [of1, e.pet_f_t]),
            ],
        ),
    ]


def forest_fit(effects: list[Effect]) -> am.PooledResult:
    """The fit a forest draws: the primary analysis, each study's follow-up in its label when the periods differ.

    The follow-up goes into the label (not a column) to keep the figure at print width.
    """
    if len({e.period for e in effects}) > 1:
        return primary_fit([replace(e, label=f"{e.label} ({PERIOD_SHORT[e.period]})") for e in effects])
    return primary_fit(effects)


def forest_notes(effects: list[Effect], notes: list[str]) -> list[str]:
    """A forest's footnotes: each pooled subgroup's primary and z intervals, the study notes, the sources.

    Parameters
    ----------
    effects
        The study rows of the forest.
    notes
        Notes specific to its studies.

    Returns
    -------
    list of str
        Subgroup notes (primary analysis, REML z alternative, why no prediction interval), ``notes``, and
        which values rest on secondary sources.
    """
    groups = [e.group for e in effects]
    for g in dict.fromkeys(groups):
        members = [e for e in effects if e.group == g]
        if len(members) > 1:
            p, z = primary_fit(members), fit(members, "REML", "z")
            notes = [
                f"{g}: subtotal = primary analysis, REML + HKSJ, {ci_text(p.estimate, p.ci_low, p.ci_high)} (t with "
                f"{p.df:g} df, "
                f"p = {p.pvalue:.2f}); REML with a z interval (alternative): "
                f"{ci_text(z.estimate, z.ci_low, z.ci_high)}.",
                prediction_note(p),
                *notes,
            ]
    secondary = [e.label for e in effects if e.status != "verified"]
    return [
        *notes,
        "Source: every input value verified in the primary source"
        + (f" except {', '.join(secondary)} (secondary source)." if secondary else ".")
        + " Readings the sources leave open are flagged in the notes above and in effects.csv.",
    ]
