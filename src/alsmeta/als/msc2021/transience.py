"""Is the benefit transient? Oh 2018's between-arm ALSFRS-R gain per follow-up window."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pandas as pd
from scipy import optimize

from alsmeta.als.msc2021.effects import provenance, require
from alsmeta.als.msc2021.pooling import ci_text
from alsmeta.als.tables import Evidence
from alsmeta.als.windows import (
    ArmChange,
    WindowAnalysis,
    linear_decline_correlation,
    window_increments,
)

WINDOW_TIMES = (4.0, 6.0)  # Oh 2018 Table 3: ALSFRS-R change from baseline to 4 and to 6 months

CHANGE_TIMEPOINTS = {4.0: "baseline to 4 months", 6.0: "baseline to 6 months"}


def oh_change_arms(ev: Evidence) -> tuple[list[ArmChange], list[ArmChange], list[dict[str, Any]]]:
    """Oh 2018 ALSFRS-R change from baseline, mean (SD), n per arm at 4 and 6 months (Table 3), with their sources."""
    arms: dict[str, list[ArmChange]] = {"msc": [], "control": []}
    sources: list[dict[str, Any]] = []
    for arm in arms:
        for t in WINDOW_TIMES:
            mean, sd, n = (
                require(ev.statistic("oh2018", "alsfrs_r_change", CHANGE_TIMEPOINTS[t], arm, s))
                for s in ("mean", "sd", "n")
            )
            arms[arm].append(ArmChange(mean.value, sd.value, int(n.value), f"Oh 2018 {arm}, {CHANGE_TIMEPOINTS[t]}"))
            sources += [provenance(r) for r in (mean, sd, n)]
    return arms["msc"], arms["control"], sources


@dataclass(frozen=True)
class Transience:
    """Between-arm ALSFRS-R gain per window in Oh 2018 under the unreported within-patient correlation r."""

    widest: WindowAnalysis  # r = 0: the widest interval for r in [0, 1]
    derived: WindowAnalysis  # r implied by linear decline + measurement error, calibrated to each arm's SDs
    narrowest: WindowAnalysis  # r = 1
    r_derived: tuple[float, float]
    r_slowing_threshold: float  # smallest r (both arms) at which the slowing interval excludes 0; NaN if none in [0, 1]
    n_patients: int  # randomised patients with a 6-month change (both arms)
    sources: tuple[dict[str, Any], ...]

    def to_dict(self) -> dict[str, Any]:
        """The analysis with its design, formula, assumptions and sources, as numbers.json keeps it."""
        return {
            "design": "Oh 2018 (randomised; MSC + riluzole vs riluzole), ALSFRS-R change from baseline to 4 and to 6 "
            "months, mean (SD), n per arm",
            "status": "derived",
            "formula": (
                "increment per month in window [a, b] = (D(b) - D(a)) / (b - a), D = MSC minus control mean change "
                "from baseline; "
                "Var(D(6) - D(4)) = sum over arms of s4^2/n4 + s6^2/n6 - 2 r s4 s6 min(n4, n6)/(n4 n6); normal 95% "
                "intervals"
            ),
            "r_range": [0.0, 1.0],
            "r_range_reason": (
                "the correlation of the 0-4 and 0-6 month changes is not reported; the 6-month change contains the "
                "4-month change, "
                "so r < 0 would need patients who declined more in months 0-4 to recover all of it and more in months "
                "4-6"
            ),
            "r_derived": {
                "treated": self.r_derived[0],
                "control": self.r_derived[1],
                "how": (
                    "linear individual decline plus independent visit error (random-slope model of ALSFRS-R natural "
                    "history, "
                    "Kaufmann 2009): slope and error variances solved from each arm's reported SDs at 4 and 6 months"
                ),
            },
            "r_slowing_threshold": self.r_slowing_threshold,
            "widest_r0": self.widest.to_dict(),
            "derived_r": self.derived.to_dict(),
            "narrowest_r1": self.narrowest.to_dict(),
            "sources": list(self.sources),
        }


def transience_analysis(ev: Evidence) -> Transience:
    """Oh 2018's between-arm ALSFRS-R gain per window (months 0-4 and 4-6) over the range of the unreported r.

    The 4-6 month increment needs the within-patient correlation r of the 4- and 6-month changes, which is
    not reported: it is computed at r = 0 (widest for r in [0, 1]), at the r implied by linear decline plus
    visit error (:func:`alsmeta.als.windows.linear_decline_correlation`) and at r = 1
    (:func:`alsmeta.als.windows.window_increments`); the r from which on the slowing excludes 0 is found by
    root finding.

    Parameters
    ----------
    ev
        The evidence tables (Oh 2018 Table 3).

    Returns
    -------
    Transience
    """
    treated, control, sources = oh_change_arms(ev)
    (t4, t6) = WINDOW_TIMES
    r_derived = (
        linear_decline_correlation(treated[0].sd, treated[1].sd, t4, t6),
        linear_decline_correlation(control[0].sd, control[1].sd, t4, t6),
    )

    def slowing_low(r: float) -> float:
        return window_increments(treated, control, WINDOW_TIMES, r).slowing.ci_low

    lo0, lo1 = slowing_low(0.0), slowing_low(1.0)
    threshold = math.nan if (lo0 > 0) == (lo1 > 0) else float(optimize.brentq(slowing_low, 0.0, 1.0, xtol=1e-10))
    if lo0 > 0:
        threshold = 0.0
    return Transience(
        window_increments(treated, control, WINDOW_TIMES, 0.0),
        window_increments(treated, control, WINDOW_TIMES, r_derived),
        window_increments(treated, control, WINDOW_TIMES, 1.0),
        r_derived,
        threshold,
        treated[-1].n + control[-1].n,
        tuple(sources),
    )


def transience_table(t: Transience) -> pd.DataFrame:
    """The window increments at each assumed correlation, as a report table."""
    rows = []
    for name, a in (
        ("r = 0 (widest for r in [0, 1])", t.widest),
        (
            f"r = {t.r_derived[0]:.2f} / {t.r_derived[1]:.2f} (derived: linear decline + visit error, each arm's SDs)",
            t.derived,
        ),
        ("r = 1 (narrowest)", t.narrowest),
    ):
        for w in (*a.windows, a.slowing):
            what = "slowing: months 0-4 minus months 4-6" if w is a.slowing else f"months {w.start:g}-{w.end:g}"
            rows.append(
                {
                    "correlation assumed": name,
                    "window": what,
                    "MSC minus control, points/month (95% CI)": ci_text(w.estimate, w.ci_low, w.ci_high),
                    "se": f"{w.se:.3f}",
                }
            )
    return pd.DataFrame(rows)


def transience_text(t: Transience) -> str:
    """What the window increments can and cannot decide, in words (the report's transience section)."""
    early, late0, late1 = t.widest.windows[0], t.widest.windows[1], t.narrowest.windows[1]
    d4, d6 = t.widest.differences
    thr = "at no r in [0, 1]" if math.isnan(t.r_slowing_threshold) else f"only if r >= {t.r_slowing_threshold:.2f}"
    return (
        "The 2021 paper calls the intrathecal-MSC benefit *transient*. The only randomised time course is Oh 2018's "
        "change from baseline "
        f"at 4 and 6 months. The windows are nested: {d4:.2f} of the {d6:.2f}-point 6-month difference (MSC minus "
        "control) is already "
        f"there at 4 months. Per window, the between-arm gain is {early.estimate:.2f} points/month in months 0-4 "
        f"(95% CI {early.ci_low:.2f} to {early.ci_high:.2f}) and {late0.estimate:.2f} points/month in months 4-6. The "
        "interval for months 4-6 needs "
        "the within-patient correlation r of the 4- and 6-month changes, which is not reported: it is "
        f"{late0.ci_low:.2f} to {late0.ci_high:.2f} at r = 0 (the widest for r in [0, 1]) and {late1.ci_low:.2f} to "
        f"{late1.ci_high:.2f} at r = 1; "
        f"under the r implied by linear decline plus visit error ({t.r_derived[0]:.2f} / {t.r_derived[1]:.2f}, "
        "derived from each arm's SDs) "
        f"it is {t.derived.windows[1].ci_low:.2f} to {t.derived.windows[1].ci_high:.2f}.\n\n"
        "What the data can decide: the gain accrues mostly in months 0-4. What they cannot decide: whether it stops "
        "after month 4. At every "
        f"r in [0, 1] the 4-6 month increment is compatible with no further gain (lower limits {late0.ci_low:.2f} to "
        f"{late1.ci_low:.2f}) and with "
        f"continued gain (upper limits {late1.ci_high:.2f} to {late0.ci_high:.2f}); that the gain accrued more slowly "
        "after month 4 than before "
        f"is shown {thr}. Fading (a loss of the gain) is not shown at any r: the 6-month difference is larger than "
        "the 4-month "
        "one, but a partial loss is not excluded either. Nothing after 6 months is randomised. The within-patient "
        "slope changes (1.13 to first "
        "follow-up, 1.08 to 6 months) are nested windows as well and cannot show fading. Assumptions: patients "
        "measured at both times = the "
        "smaller n (monotone drop-out); normal intervals with unpooled SEs. Formula: increment = (D(b) - D(a)) / (b - "
        "a), "
        "Var(D6 - D4) = sum over arms of s4^2/n4 + s6^2/n6 - 2 r s4 s6 min(n4, n6)/(n4 n6).\n"
    )
