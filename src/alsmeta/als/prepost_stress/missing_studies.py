"""Missing studies: how many added null studies overturn a claim of the rebuild."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

import alsmeta as am
from alsmeta.als.msc2021.effects import Effect
from alsmeta.als.prepost_stress.rates import pool_rows, rate
from alsmeta.als.prepost_stress.settings import CALIBRATED_MEASUREMENT_SD, R_MISSING, SEED
from alsmeta.simulate import NaturalHistory, TrialDesign, simulate_trials


@dataclass(frozen=True)
class ClaimPool:
    """A claim of the rebuild, its direction and the studies it rests on."""

    key: str
    title: str
    outcome: str
    direction: str  # "positive": slowing claimed; "negative": worsening claimed
    effects: tuple[Any, ...]

    def holds(self, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """Whether the claim holds for intervals ``[lo, hi]``: beyond 0 in the claimed direction."""
        return (lo > 0) if self.direction == "positive" else (hi < 0)


def studies_to_overturn(share_holding: np.ndarray) -> int | None:
    """Fewest added studies from which on the claim holds in under half of the replicates.

    "From which on": for that number of added studies and every larger one.
    """
    above = np.flatnonzero(np.asarray(share_holding) >= 0.5)
    if above.size == 0:
        return 0
    last = int(above[-1])
    return None if last == len(share_holding) - 1 else last + 1


def missing_studies(pools: list[ClaimPool]) -> tuple[dict[str, Any], dict[str, pd.DataFrame]]:
    """Add the 2021 analysis's missing studies to the rebuild and count how often each claim still holds.

    The 11 - k missing studies are 20-patient pre-post studies drawn from the simulated null, or from the
    rebuild's own REML estimate (N(estimate, tau2 + SE2)); for each number of added studies the share of
    :data:`R_MISSING` replicates in which the claim holds, with z and HKSJ intervals.

    Parameters
    ----------
    pools
        The claims (:func:`claim_pools`).

    Returns
    -------
    tuple
        Numbers per claim (including :func:`studies_to_overturn`) and the curves per claim.
    """
    hist = {
        "alsfrs_r": replace(NaturalHistory.alsfrs_r(), measurement_sd=CALIBRATED_MEASUREMENT_SD),
        "fvc": NaturalHistory.fvc(),
    }
    generic = TrialDesign(name="generic (220 / 11 = 20 patients)", n_patients=20)
    numbers: dict[str, Any] = {}
    curves: dict[str, pd.DataFrame] = {}
    for i, p in enumerate(pools):
        k_obs = len(p.effects)
        n_missing = 11 - k_obs
        sim = simulate_trials(hist[p.outcome], generic, R_MISSING * n_missing, seed=SEED + 400 + i, progress=False)
        null_y = sim.yi.reshape(R_MISSING, n_missing)
        null_v = sim.vi.reshape(R_MISSING, n_missing)
        y_obs = np.array([e.yi for e in p.effects])
        v_obs = np.array([e.se**2 for e in p.effects])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", am.AlsmetaWarning)
            own = am.pool(y_obs, v_obs, method="REML", test="z")
        rng = np.random.default_rng([SEED, 500 + i])
        own_y = own.estimate + np.sqrt(own.tau2 + null_v) * rng.standard_normal(null_v.shape)
        rows = []
        for source, extra_y in (("simulated null", null_y), ("reconstruction's estimate", own_y)):
            ms = np.arange(n_missing + 1)
            y = np.concatenate([np.broadcast_to(y_obs, (R_MISSING, k_obs)), extra_y], axis=1)
            v = np.concatenate([np.broadcast_to(v_obs, (R_MISSING, k_obs)), null_v], axis=1)
            Y, V = np.tile(y, (ms.size, 1)), np.tile(v, (ms.size, 1))
            M = np.arange(k_obs + n_missing)[None, :] < (k_obs + np.repeat(ms, R_MISSING))[:, None]
            for test in ("z", "knha"):
                f = pool_rows(Y, V, M, test)
                held = p.holds(f.ci_low, f.ci_high).reshape(ms.size, R_MISSING)
                est = f.estimate.reshape(ms.size, R_MISSING)
                for m in ms:
                    r = rate(held[m])
                    rows.append(
                        {
                            "claim": p.key,
                            "source": source,
                            "test": "HKSJ" if test == "knha" else "z",
                            "added": int(m),
                            "k": int(k_obs + m),
                            "share_holding": r.p,
                            "mc_se": r.se,
                            "replicates": r.n,
                            "median_estimate": float(np.median(est[m])),
                        }
                    )
        frame = pd.DataFrame(rows)
        curves[p.key] = frame
        overturn = {}
        for (source, test), g in frame.groupby(["source", "test"], sort=False):
            overturn[f"{source} | {test}"] = {
                "studies_to_overturn": studies_to_overturn(g.share_holding.to_numpy()),
                "share_holding_with_all_added": float(g.share_holding.iloc[-1]),
                "share_holding_with_all_added_mc_se": float(g.mc_se.iloc[-1]),
                "share_holding_without_added": float(g.share_holding.iloc[0]),
                "share_holding_with_one_added": float(g.share_holding.iloc[1]),
                "share_holding_with_one_added_mc_se": float(g.mc_se.iloc[1]),
            }
        numbers[p.key] = {
            "title": p.title,
            "observed_k": k_obs,
            "basis": "Property of this project's rebuild, not of the 2021 paper (which published no study-level "
            "data): the "
            f"observed studies are the {k_obs} effect(s) this project could rebuild "
            f"({'; '.join(e.label for e in p.effects)}); "
            f"the {n_missing} missing ones are simulated.",
            "missing": n_missing,
            "replicates": R_MISSING,
            "own_estimate": {"estimate": own.estimate, "tau2": own.tau2},
            "null_study_mean": float(null_y.mean()),
            "null_study_mean_se": float(np.sqrt(null_v).mean()),
            "overturn": overturn,
            "rule": "studies_to_overturn = fewest added studies from which on the claim holds in under half of the "
            "replicates "
            "(0: it does not hold even without added studies; None: it holds in at least half with all missing "
            "studies added)",
        }
    return numbers, curves


def claim_pools(effects: dict[str, Effect]) -> list[ClaimPool]:
    """The two claims of the rebuild that missing studies could overturn, with their observed studies.

    Parameters
    ----------
    effects
        The study values by key (:func:`alsmeta.als.prepost_stress.specifications.effect_table`).

    Returns
    -------
    list of ClaimPool
        ALSFRS-R slowing (Oh 2018 + Kim 2009, first follow-up) and FVC worsening (Oh 2018).
    """
    return [
        ClaimPool(
            "alsfrs_r_benefit",
            "ALSFRS-R slowing after intrathecal MSC (Oh 2018 + Kim 2009, first follow-up)",
            "alsfrs_r",
            "positive",
            (effects["oh_first"], effects["kim_per3_t"]),
        ),
        ClaimPool(
            "fvc_worse", "FVC worsening after intrathecal MSC (Oh 2018)", "fvc", "negative", (effects["oh_fvc"],)
        ),
    ]
