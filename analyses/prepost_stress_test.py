"""Stress test of the within-patient (pre-post) design behind Morata-Tarifa et al. 2021.

The 2021 meta-analysis compared each patient's ALSFRS-R and FVC progression
after cell administration with his own progression before it, without a
control group. This script asks what that design finds when the cells do
nothing, and whether the published claims survive:

1. **The null by design.** For each study design of the reconstruction
   (presets of :mod:`alsmeta.simulate`, cited natural history), the
   distribution of the study-level slope change with no treatment effect and
   the share of single-arm studies reporting significant slowing.
2. **Mechanisms.** Starting from a baseline with no mechanism (linear
   courses, no floor, no attrition, no selection: only measurement error),
   each mechanism alone - floor and scale, decelerating or accelerating
   courses, larger visit-to-visit variability, enrolment after a measured
   decline (at the assumed ALSFRS-R measurement error of 1.3 points, at half
   and at double it), death and dropout - then
   the cited history as the studies were designed, and all together: false-positive rate of one study and of an 11-study
   random-effects meta-analysis at the published size (220 patients), with
   Monte-Carlo standard errors.
3. **The empirical null.** The simulated null next to Oh 2018's untreated
   arm analysed the same way.
4. **Missing studies.** The 2021 analysis pooled 11 studies; numbers exist
   for two (ALSFRS-R) or one (FVC). The missing ones are added with effects
   drawn from the simulated null, or from the reconstruction's own estimate,
   and the share of replicates in which each claim still holds is counted.
5. **The multiverse.** Every defensible analysis choice together (estimator,
   interval, secondary source, sign ambiguity, p-value conversion, unit, time
   point, study subset, frequentist or Bayesian) as a specification curve,
   fitted in batches by :mod:`alsmeta.diagnostics.multiverse`. Shares count *distinct
   analyses* (choice combinations that give the same fit counted once), with
   the number of choice combinations beside them, and the rebuild's own
   dependence on single sources (without Kim 2009, without secondary
   sources, ...) is reported.

Sections 4 and 5 are properties of this project's *rebuild* of the 2021
analysis from the study-level numbers it could find (Oh 2018 MSC arm, Kim
2009, Petrou 2016 from secondary sources), not of the 2021 paper, which
published no study-level data.

The study-level inputs are recomputed from ``data/`` with the functions of
``analyses/msc2021_reconstruction.py`` (imported, not re-run), so this script
stands alone. Writes figures (PNG + SVG), CSV tables and ``numbers.json`` into
``figures/stress/``. Every rate comes with its Monte-Carlo standard error
``sqrt(p (1 - p) / R)``.
"""

from __future__ import annotations

import importlib.util
import math
import sys
import textwrap
import time
import warnings
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.transforms import blended_transform_factory

import alsmeta as am
from alsmeta.als.tables import load_evidence
from alsmeta.diagnostics import multiverse as mv
from alsmeta.io import figures_dir  # ALSMETA_FIGURES when run by alsmeta reproduce, else figures/
from alsmeta.io.reporting import figure_entry, write_numbers
from alsmeta.plots.style import (
    BLUE,
    GREEN,
    GREY,
    INK,
    LIGHT_GREY,
    ORANGE,
    SKY_BLUE,
    VERMILLION,
    save_figure,
    style_context,
    text_width,
)
from alsmeta.simulate import NaturalHistory, TrialDesign, design_preset, simulate_meta_analyses, simulate_trials

OUT = figures_dir() / "stress"
SEED = 2021_0420
R_STUDIES = 2000  # single-arm studies per design (null distributions)
R_META = 2000  # meta-analyses per mechanism
R_META_ERROR_SENSITIVITY = 1000  # meta-analyses for the half / double measurement-error rows (MC SE <= 0.016)
R_MISSING = 1000  # replicates per number of added studies
ALPHA = 0.05

# Within-patient variability calibrated to Oh 2018's untreated arm: the SD of the patients' slope changes was
# 1.33 (first follow-up, n = 27) and 1.46 points/month (6 months, n = 25) (Table 3). With the cited visit-level
# measurement error of 1.3 points the simulator gives 0.92 and 0.81 in Oh's design; a visit-level SD of 2.2
# gives about 1.50 and 1.31, bracketing both (derived by us from those two numbers; the excess over 1.3 is
# real fluctuation of ALSFRS-R courses that a straight line per period does not capture).
CALIBRATED_MEASUREMENT_SD = 2.2
SELECTION_SLOPE = (
    -1.0
)  # enrol only patients observed to lose >= 1 point/month before treatment (as >= 3 points in 3 months, Cudkowicz 2022)
MEASUREMENT_SD = NaturalHistory.alsfrs_r().measurement_sd  # 1.3 points, derived (see MEASUREMENT_SD_ASSUMPTION)
HALF_ERROR = MEASUREMENT_SD / 2  # 0.65
DOUBLE_ERROR = MEASUREMENT_SD * 2  # 2.6
MEASUREMENT_SD_ASSUMPTION = (
    "ALSFRS-R visit-level measurement error SD 1.3 points (the simulator's default) is derived, not measured: SD = "
    "between-patient SD x sqrt(1 - ICC) = 6 x sqrt(1 - 0.95) = 1.34, with the intra-rater ICC 0.95 (95% CI 0.92 to 0.98; "
    "screening vs baseline visit, n = 41, QALS trial) of Kaufmann et al. 2007, Amyotroph Lateral Scler 8:42-46, abstract "
    "(https://pubmed.ncbi.nlm.nih.gov/17364435/), and a between-patient SD of about 6 points (NurOwn phase 3 baseline, "
    "Cudkowicz et al. 2022, Table 1: 6.1 and 6.5). No source gives the SD directly; the QALS patients' own between-patient SD "
    "is not in the abstract, so applying 6 points to them is an assumption. The ICC's CI alone spans about 0.85 to 1.7 points; "
    "Oh 2018's untreated arm implies larger visit-to-visit variation (SD about 2.2, calibrated in this script). Results are "
    "shown at half (0.65) and double (2.6) the assumed error."
)
CURVATURE = (
    0.02  # points/month^2; sign: + decelerating (van Eijk 2025), - accelerating (PRO-ACT 2018); size an assumption
)

RECONSTRUCTION_DESIGNS = ("oh2018", "petrou2016", "berry2019", "kim2009", "blanquer2012", "sykova2017", "nabavi2018")
GENERIC_SIZES = (14, 14, 14, 13)  # 7 transcribed designs (165 patients) + 4 generic ones = 11 studies, 220 patients
DESIGN_LABELS = {
    "oh2018": "Oh 2018 (3-mo lead-in, 6-mo follow-up, n = 33)",
    "petrou2016": "Petrou 2016 (3 + 6 months, n = 26)",
    "berry2019": "Berry 2019 (3 + 6 months, n = 36)",
    "kim2009": "Kim 2009 (3 + 3 months, n = 22)",
    "blanquer2012": "Blanquer 2012 (6 + 12 months, n = 11)",
    "sykova2017": "Syková 2017 (6 + 18 months, n = 23)",
    "nabavi2018": "Nabavi 2018 (slope from onset, n = 14)",
    "cudkowicz2022": "NurOwn ph. 3 arm: enrols >= 3-pt decline (n = 95)",
}


def _load_reconstruction() -> Any:
    """The 2021 reconstruction script as a module (its functions only; main() is not run)."""
    path = Path(__file__).resolve().with_name("msc2021_reconstruction.py")
    spec = importlib.util.spec_from_file_location("msc2021_reconstruction", path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules.setdefault("msc2021_reconstruction", module)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


RECON = _load_reconstruction()


# ---------------------------------------------------------------------------
# small helpers
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Rate:
    """A Monte-Carlo proportion with its standard error."""

    hits: int
    n: int

    @property
    def p(self) -> float:
        return self.hits / self.n if self.n else math.nan

    @property
    def se(self) -> float:
        return math.sqrt(self.p * (1 - self.p) / self.n) if self.n else math.nan

    def numbers(self) -> dict[str, float]:
        out = {"rate": self.p, "mc_se": self.se, "n": self.n}
        if self.n and self.hits in (0, self.n):  # the binomial SE is 0 there; give the 95% rule-of-three bound instead
            out["rule_of_three_bound"] = 3 / self.n if self.hits == 0 else 1 - 3 / self.n
        return out

    def text(self, digits: int = 3) -> str:
        return f"{self.p:.{digits}f} (MC SE {self.se:.{digits}f})"


def rate(flags: np.ndarray) -> Rate:
    f = np.asarray(flags, bool)
    return Rate(int(f.sum()), int(f.size))


def benefit(pvalue: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """A single-arm study reports significant slowing: two-sided p < 0.05 with a positive mean change."""
    return (np.nan_to_num(pvalue, nan=1.0) < ALPHA) & (mean > 0)


def pool_rows(y: np.ndarray, v: np.ndarray, m: np.ndarray, test: str) -> am.BatchResult:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", am.AlsmetaWarning)
        return am.pool_many(y, v, m, method="REML", test=test, confint=False)


def histories() -> dict[str, NaturalHistory]:
    """The natural histories of the mechanism analysis: a bare baseline and one mechanism at a time."""
    cited = NaturalHistory.alsfrs_r()
    base = replace(
        cited,
        slope_distribution="normal",
        slope_max=math.inf,
        floor=-math.inf,
        ceiling=math.inf,
        integer_scores=False,
        death_rate=0.0,
        dropout_rate=0.0,
    )
    return {
        "none": base,
        "floor": replace(
            base, slope_distribution="lognormal", slope_max=0.0, floor=0.0, ceiling=48.0, integer_scores=True
        ),
        "decelerating": replace(base, shape="quadratic", curvature_mean=CURVATURE),
        "accelerating": replace(base, shape="quadratic", curvature_mean=-CURVATURE),
        "variability": replace(base, measurement_sd=CALIBRATED_MEASUREMENT_SD),
        "selection_half_error": replace(base, measurement_sd=HALF_ERROR),
        "selection": base,
        "selection_double_error": replace(base, measurement_sd=DOUBLE_ERROR),
        "attrition": replace(base, death_rate=cited.death_rate, dropout_rate=cited.dropout_rate),
        "as_designed": replace(cited, measurement_sd=CALIBRATED_MEASUREMENT_SD),
        "all": replace(cited, measurement_sd=CALIBRATED_MEASUREMENT_SD),
    }


MECHANISM_LABELS = {
    "none": f"No mechanism (linear, measurement error {MEASUREMENT_SD:g})",
    "floor": "Scale: floor at 0, skewed decline, whole points",
    "decelerating": f"Decelerating courses (+{CURVATURE:g} points/month\u00b2)",
    "accelerating": f"Accelerating courses (\u2212{CURVATURE:g} points/month\u00b2)",
    "variability": f"Visit-to-visit variability (SD {CALIBRATED_MEASUREMENT_SD:g}, Oh 2018 calibrated)",
    "selection_half_error": f"Enrolment after a measured decline, measurement error {HALF_ERROR:g} (half)",
    "selection": f"Enrolment after a measured decline (\u2265 1 point/month), measurement error {MEASUREMENT_SD:g} (assumed)",
    "selection_double_error": f"Enrolment after a measured decline, measurement error {DOUBLE_ERROR:g} (double)",
    "attrition": "Death and dropout of the fastest / sickest",
    "as_designed": "Cited history, calibrated variability, the designs' own rules",
    "all": "... and enrolment after a measured decline (all together)",
}
SELECTING = ("selection", "selection_half_error", "selection_double_error", "all")
ERROR_SENSITIVITY = {
    "selection_half_error": HALF_ERROR,
    "selection": MEASUREMENT_SD,
    "selection_double_error": DOUBLE_ERROR,
}
MECHANISM_SEEDS = {
    "none": 0,
    "floor": 1,
    "decelerating": 2,
    "accelerating": 3,
    "variability": 4,
    "selection": 5,
    "selection_half_error": 6,
    "attrition": 7,
    "as_designed": 8,
    "all": 9,
    "selection_double_error": 10,
}
"""Seed offset per mechanism (fixed by name, so adding a row changes no other row's draws)."""


def meta_designs(selection: bool) -> list[TrialDesign]:
    """The 11 studies of one simulated meta-analysis: 7 transcribed designs + 4 generic ones, 220 patients."""
    extra: dict[str, Any] = {"pre_slope_range": (-math.inf, SELECTION_SLOPE)} if selection else {}
    designs = [design_preset(n, **extra) for n in RECONSTRUCTION_DESIGNS]
    designs += [TrialDesign(name=f"generic{i + 1}", n_patients=n, **extra) for i, n in enumerate(GENERIC_SIZES)]
    assert sum(d.n_patients for d in designs) == 220 and len(designs) == 11
    return designs


# ---------------------------------------------------------------------------
# 1. the null by design
# ---------------------------------------------------------------------------


def null_by_design() -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    history = replace(NaturalHistory.alsfrs_r(), measurement_sd=CALIBRATED_MEASUREMENT_SD)
    numbers: dict[str, Any] = {}
    draws: dict[str, np.ndarray] = {}
    for i, name in enumerate((*RECONSTRUCTION_DESIGNS, "cudkowicz2022")):
        r = simulate_trials(history, design_preset(name), R_STUDIES, seed=SEED + 100 + i, progress=False)
        d = r.mean_change
        draws[name] = d
        numbers[name] = {
            "label": DESIGN_LABELS[name],
            "n_patients": int(r.design.n_patients),
            "studies": r.n_studies,
            "mean_change": float(np.mean(d)),
            "mean_change_mc_se": float(np.std(d, ddof=1) / math.sqrt(d.size)),
            "sd_of_study_means": float(np.std(d, ddof=1)),
            "quantiles": dict(
                zip(
                    ("2.5", "25", "50", "75", "97.5"),
                    np.quantile(d, [0.025, 0.25, 0.5, 0.75, 0.975]).tolist(),
                    strict=True,
                )
            ),
            "mean_patient_sd": float(np.nanmean(r.sd_change)),
            "apparent_benefit": rate(benefit(r.pvalue, d)).numbers(),
            "any_significant_change": rate(np.nan_to_num(r.pvalue, nan=1.0) < ALPHA).numbers(),
            "mean_change_noiseless": float(np.nanmean(r.mean_change_noiseless)),
        }
    return numbers, draws


# ---------------------------------------------------------------------------
# 2. mechanisms
# ---------------------------------------------------------------------------


def mechanisms() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, history in histories().items():
        replicates = R_META_ERROR_SENSITIVITY if key in ("selection_half_error", "selection_double_error") else R_META
        meta = simulate_meta_analyses(
            history, meta_designs(key in SELECTING), replicates, seed=SEED + 200 + MECHANISM_SEEDS[key], progress=False
        )
        single_p = np.concatenate([s.pvalue for s in meta.studies])
        single_m = np.concatenate([s.mean_change for s in meta.studies])
        z, h = pool_rows(meta.yi, meta.vi, meta.mask, "z"), pool_rows(meta.yi, meta.vi, meta.mask, "knha")
        out[key] = {
            "label": MECHANISM_LABELS[key],
            "measurement_sd": history.measurement_sd,
            "single_study_benefit": rate(benefit(single_p, single_m)).numbers(),
            "single_study_two_sided": rate(np.nan_to_num(single_p, nan=1.0) < ALPHA).numbers(),
            "mean_study_change": float(np.mean(single_m)),
            "mean_study_change_mc_se": float(np.std(single_m, ddof=1) / math.sqrt(single_m.size)),
            "meta_reml_z_benefit": rate(z.ci_low > 0).numbers(),
            "meta_reml_z_two_sided": rate((z.ci_low > 0) | (z.ci_high < 0)).numbers(),
            "meta_reml_hksj_benefit": rate(h.ci_low > 0).numbers(),
            "meta_reml_hksj_two_sided": rate((h.ci_low > 0) | (h.ci_high < 0)).numbers(),
            "mean_pooled_estimate": float(np.nanmean(z.estimate)),
            "studies_per_meta": int(meta.yi.shape[1]),
            "meta_analyses": int(meta.yi.shape[0]),
            "patients_per_meta": int(sum(d.n_patients for d in meta.designs)),
        }
    return out


def error_sensitivity(mech: dict[str, Any]) -> dict[str, Any]:
    """The selection mechanism at half, the assumed and double the ALSFRS-R measurement error, side by side."""
    rows = {}
    for key, sd in ERROR_SENSITIVITY.items():
        n = mech[key]
        rows[key.replace("selection_", "").replace("selection", "assumed_error")] = {
            "measurement_sd": sd,
            "meta_analyses": n["meta_analyses"],
            "meta_reml_z_benefit": n["meta_reml_z_benefit"],
            "meta_reml_hksj_benefit": n["meta_reml_hksj_benefit"],
            "single_study_benefit": n["single_study_benefit"],
            "mean_study_change": n["mean_study_change"],
        }
    return {
        "question": "share of 11-study meta-analyses (220 patients, REML) showing significant slowing when the cells do nothing "
        "and patients are enrolled after a measured decline of at least 1 ALSFRS-R point/month before treatment",
        "assumption": MEASUREMENT_SD_ASSUMPTION,
        **rows,
    }


# ---------------------------------------------------------------------------
# 3. empirical null: Oh 2018's untreated arm
# ---------------------------------------------------------------------------


EMPIRICAL = (  # (key, outcome, follow-up months, effect keys in the reconstruction: (outcome, period))
    ("alsfrs_r_first_follow_up", "alsfrs_r", 4.0, RECON.FIRST),
    ("alsfrs_r_6_months", "alsfrs_r", 6.0, RECON.SIX),
    ("fvc_first_follow_up", "fvc", 4.0, RECON.FIRST),
)


def empirical_null(ev: Any) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    hist = {
        "alsfrs_r": replace(NaturalHistory.alsfrs_r(), measurement_sd=CALIBRATED_MEASUREMENT_SD),
        "alsfrs_r_cited": NaturalHistory.alsfrs_r(),
        "fvc": NaturalHistory.fvc(),
    }
    numbers: dict[str, Any] = {}
    panels: dict[str, dict[str, Any]] = {}
    for i, (key, outcome, months, period) in enumerate(EMPIRICAL):
        control = RECON.oh_arm(ev, outcome, period, "control")
        treated = RECON.oh_arm(ev, outcome, period, "msc")
        design = design_preset("oh2018", n_patients=control.n).with_follow_up(months)
        sim = simulate_trials(hist[outcome], design, R_STUDIES, seed=SEED + 300 + i, progress=False)
        sim_t = simulate_trials(
            hist[outcome], replace(design, n_patients=treated.n), R_STUDIES, seed=SEED + 310 + i, progress=False
        )
        d, dt = sim.mean_change, sim_t.mean_change
        entry = {
            "observed_untreated": {
                "estimate": control.yi,
                "se": control.se,
                "n": control.n,
                "sd": control.se * math.sqrt(control.n),
            },
            "observed_treated": {"estimate": treated.yi, "se": treated.se, "n": treated.n},
            "simulated_untreated": {
                "mean": float(d.mean()),
                "sd_of_study_means": float(d.std(ddof=1)),
                "q2.5": float(np.quantile(d, 0.025)),
                "q97.5": float(np.quantile(d, 0.975)),
                "mean_patient_sd": float(np.nanmean(sim.sd_change)),
            },
            "percentile_of_untreated_arm": float(np.mean(d < control.yi)),
            "share_of_null_studies_at_least_as_extreme_as_treated_arm": (
                rate(dt >= treated.yi) if treated.yi > 0 else rate(dt <= treated.yi)
            ).numbers(),
            "unit": RECON.UNITS[outcome],
        }
        if outcome == "alsfrs_r":
            cited = simulate_trials(hist["alsfrs_r_cited"], design, R_STUDIES, seed=SEED + 320 + i, progress=False)
            entry["simulated_untreated_cited_measurement_sd"] = {
                "mean": float(cited.mean_change.mean()),
                "sd_of_study_means": float(cited.mean_change.std(ddof=1)),
                "mean_patient_sd": float(np.nanmean(cited.sd_change)),
            }
        numbers[key] = entry
        panels[key] = {"null": d, "treated_null": dt, "control": control, "treated": treated, "outcome": outcome}
    return numbers, panels


# ---------------------------------------------------------------------------
# 4. missing studies
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ClaimPool:
    key: str
    title: str
    outcome: str
    direction: str  # "positive": slowing claimed; "negative": worsening claimed
    effects: tuple[Any, ...]

    def holds(self, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        return (lo > 0) if self.direction == "positive" else (hi < 0)


def studies_to_overturn(share_holding: np.ndarray) -> int | None:
    """Fewest added studies from which on (for every larger number too) the claim holds in under half of the replicates."""
    above = np.flatnonzero(np.asarray(share_holding) >= 0.5)
    if above.size == 0:
        return 0
    last = int(above[-1])
    return None if last == len(share_holding) - 1 else last + 1


def missing_studies(pools: list[ClaimPool]) -> tuple[dict[str, Any], dict[str, pd.DataFrame]]:
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
            "basis": "Property of this project's rebuild, not of the 2021 paper (which published no study-level data): the "
            f"observed studies are the {k_obs} effect(s) this project could rebuild ({'; '.join(e.label for e in p.effects)}); "
            f"the {n_missing} missing ones are simulated.",
            "missing": n_missing,
            "replicates": R_MISSING,
            "own_estimate": {"estimate": own.estimate, "tau2": own.tau2},
            "null_study_mean": float(null_y.mean()),
            "null_study_mean_se": float(np.sqrt(null_v).mean()),
            "overturn": overturn,
            "rule": "studies_to_overturn = fewest added studies from which on the claim holds in under half of the replicates "
            "(0: it does not hold even without added studies; None: it holds in at least half with all missing studies added)",
        }
    return numbers, curves


# ---------------------------------------------------------------------------
# 5. the multiverse
# ---------------------------------------------------------------------------

NA = "n/a"
FREQ_METHODS = ("CE", "DL", "HE", "HS", "HSk", "SJ", "ML", "REML", "EB", "PM", "PMM")
TESTS = ("z", "t", "knha", "adhoc")
TEST_NAMES = {"z": "z", "t": "t", "knha": "HKSJ", "adhoc": "HKSJ ad hoc", NA: "posterior"}


def effect_table(ev: Any) -> tuple[dict[str, Any], pd.DataFrame]:
    """Every study value a specification may use, recomputed from data/ by the reconstruction's functions."""
    e = {
        "oh_first": RECON.oh_arm(ev, "alsfrs_r", RECON.FIRST, "msc"),
        "oh_6mo": RECON.oh_arm(ev, "alsfrs_r", RECON.SIX, "msc"),
        "oh_fvc": RECON.oh_arm(ev, "fvc", RECON.FIRST, "msc"),
        "kim_per3_t": RECON.kim2009(ev),
        "kim_per3_z": RECON.kim2009(ev, t_test=False),
        "kim_printed_t": RECON.kim2009(ev, per_month=False),
        "kim_printed_z": RECON.kim2009(ev, per_month=False, t_test=False),
        "petrou_minus_t": RECON.petrou_regression(ev, "alsfrs_r", "neuronews"),
        "petrou_minus_z": RECON.petrou_regression(ev, "alsfrs_r", "neuronews", t_test=False),
        "petrou_plus_t": RECON.petrou_regression(ev, "alsfrs_r", "neurologyadvisor"),
        "petrou_plus_z": RECON.petrou_regression(ev, "alsfrs_r", "neurologyadvisor", t_test=False),
        "petrou_fvc_t": RECON.petrou_regression(ev, "fvc", "neuronews"),
        "petrou_fvc_z": RECON.petrou_regression(ev, "fvc", "neuronews", t_test=False),
    }
    table = pd.DataFrame(
        {
            "yi": [x.yi for x in e.values()],
            "se": [x.se for x in e.values()],
            "n": [x.n for x in e.values()],
            "study": [x.label for x in e.values()],
            "status": [x.status for x in e.values()],
            "derivation": [x.derivation for x in e.values()],
        },
        index=pd.Index(list(e), name="key"),
    )
    return e, table


def _models(tau_scales: tuple[float, ...]) -> list[dict[str, Any]]:
    freq = [{"method": m, "test": t, "tau_scale": NA, "framework": "frequentist"} for m in FREQ_METHODS for t in TESTS]
    bayes = [{"method": mv.BAYES, "test": NA, "tau_scale": s, "framework": "Bayesian"} for s in tau_scales]
    return freq + bayes


def alsfrs_specifications(tau_scales: tuple[float, ...]) -> pd.DataFrame:
    """ALSFRS-R, intrathecal MSC (and MSC-NTF): every combination of data choices, then every model."""
    data = []
    for time_point in ("first follow-up", "6 months", "longest per study"):
        for secondary in ("exclude", "include"):
            for sign in ("-0.6 (primary)", "+0.6 (as printed)"):
                for unit in ("per 3 months, /3", "per month, as printed"):
                    for conv in ("t(n-1)", "z"):
                        for subset in ("all available", "without Oh 2018", "without Kim 2009", "without Petrou 2016"):
                            c = "t" if conv == "t(n-1)" else "z"
                            oh = "oh_first" if time_point == "first follow-up" else "oh_6mo"
                            kim = (
                                None
                                if time_point == "6 months"
                                else ("kim_per3_" if unit.startswith("per 3") else "kim_printed_") + c
                            )
                            pet = None
                            if time_point != "first follow-up" and secondary == "include":
                                pet = ("petrou_minus_" if sign.startswith("-") else "petrou_plus_") + c
                            slots = _subset({"Oh 2018": oh, "Kim 2009": kim, "Petrou 2016": pet}, subset)
                            if slots is None:
                                continue
                            data.append(
                                {
                                    "time point": time_point,
                                    "secondary source": secondary if time_point != "first follow-up" else NA,
                                    "Petrou sign": sign if slots["Petrou 2016"] else NA,
                                    "Kim unit": unit if slots["Kim 2009"] else NA,
                                    "p to SE": conv if (slots["Kim 2009"] or slots["Petrou 2016"]) else NA,
                                    "study subset": subset,
                                    **slots,
                                }
                            )
    return _cross(_unique_data(data, ["Oh 2018", "Kim 2009", "Petrou 2016"]), _models(tau_scales))


def fvc_specifications(tau_scales: tuple[float, ...]) -> pd.DataFrame:
    data = []
    for secondary in ("exclude", "include"):
        for conv in ("t(n-1)", "z"):
            for subset in ("all available", "without Oh 2018", "without Petrou 2016"):
                pet = ("petrou_fvc_" + ("t" if conv == "t(n-1)" else "z")) if secondary == "include" else None
                slots = _subset({"Oh 2018": "oh_fvc", "Petrou 2016": pet}, subset)
                if slots is None:
                    continue
                data.append(
                    {
                        "secondary source": secondary,
                        "p to SE": conv if slots["Petrou 2016"] else NA,
                        "study subset": subset,
                        **slots,
                    }
                )
    return _cross(_unique_data(data, ["Oh 2018", "Petrou 2016"]), _models(tau_scales))


def _subset(slots: dict[str, str | None], subset: str) -> dict[str, str | None] | None:
    """The slots without the study the subset leaves out; None if that study is absent or nothing would remain."""
    if subset != "all available":
        drop = subset.removeprefix("without ")
        if slots.get(drop) is None:
            return None
        slots = {**slots, drop: None}
    return slots if any(slots.values()) else None


def _unique_data(rows: list[dict[str, Any]], slots: list[str]) -> pd.DataFrame:
    """One row per distinct combination of data choices (choices that do not apply are n/a, so their levels collapse).

    Different combinations may select the same study values ("6 months" and "longest per study without Kim 2009");
    they stay separate choice combinations here and are merged into one analysis by
    :func:`alsmeta.diagnostics.multiverse.distinct_analyses`, so every level that leads to an analysis is shown.
    """
    frame = pd.DataFrame(rows)
    if frame[slots].isna().all(axis=1).any():
        raise ValueError("a data choice selects no study")  # _subset never lets this happen
    return frame.loc[~frame.astype(str).duplicated()].reset_index(drop=True)


def _cross(data: pd.DataFrame, models: list[dict[str, Any]]) -> pd.DataFrame:
    m = pd.DataFrame(models)
    out = data.merge(m, how="cross")
    for c in out.columns:
        out[c] = pd.Series(out[c].to_numpy(dtype=object), dtype=object)
    return out


REBUILD_BASIS = (
    "Property of this project's rebuild, not of the 2021 paper: Morata-Tarifa et al. 2021 published no study-level data, so "
    "these analyses pool the study-level numbers this project could find (Oh 2018 MSC arm, Table 3; Kim 2009, abstract; "
    "Petrou 2016, secondary sources only) with the reconstruction's functions. Shares count distinct analyses (choice "
    "combinations that give the same fitted result counted once); the number of choice combinations is given beside them."
)


@dataclass(frozen=True)
class Subset:
    """A named restriction of a multiverse (e.g. every analysis without Kim 2009) and how it is defined."""

    key: str
    definition: str
    rows: np.ndarray  # boolean mask over the specifications


def rebuild_subsets(res: mv.MultiverseResult, table: pd.DataFrame) -> list[Subset]:
    """The rebuild's single-source dependencies: analyses with and without each study, source and inference.

    A specification uses a study when its slot names an effect; it uses a
    secondary source when any of its effects has status ``secondary`` in
    ``table`` (the reconstruction's provenance labels).
    """
    s = res.specifications
    used = {slot: res.uses(slot).to_numpy() for slot in res.slots}
    secondary = set(table.index[table.status == "secondary"])
    uses_secondary = np.array([any(s.at[i, slot] in secondary for slot in res.slots) for i in s.index], dtype=bool)
    k = s.k.to_numpy()
    subsets = [
        Subset("two_or_more_studies", "analyses that pool at least two studies (k >= 2)", k >= 2),
        Subset("one_study", "analyses of a single study (k = 1): no pooling", k == 1),
        Subset(
            "without_secondary_sources",
            "analyses that use no value with status 'secondary' (press or news reports; here every Petrou 2016 value)",
            ~uses_secondary,
        ),
    ]
    names = {"Oh 2018": "oh2018", "Kim 2009": "kim2009", "Petrou 2016": "petrou2016"}
    for slot in res.slots:
        subsets.append(
            Subset(
                f"without_{names[slot]}", f"analyses that do not use {slot} (any time point or variant)", ~used[slot]
            )
        )
        subsets.append(Subset(f"with_{names[slot]}", f"analyses that use {slot}", used[slot]))
    if "Kim unit" in s.columns:
        for unit, key in (
            ("per 3 months, /3", "kim2009_unit_per_3_months"),
            ("per month, as printed", "kim2009_unit_as_printed"),
        ):
            subsets.append(
                Subset(
                    key,
                    f"analyses with Kim 2009, its slopes read as {unit} (the unit is not printed; "
                    "per 3 months is the reconstruction's inference)",
                    (s["Kim unit"] == unit).to_numpy(),
                )
            )
    if "Petrou 2016" in used and "Kim 2009" in used:
        alone = used["Oh 2018"] & ~used["Kim 2009"] & ~used["Petrou 2016"]
        subsets.append(
            Subset(
                "oh2018_msc_arm_alone",
                "analyses of the Oh 2018 MSC arm alone (what is left without Kim 2009 and without secondary sources)",
                alone,
            )
        )
    return subsets


def _subset_numbers(res: mv.MultiverseResult, direction: str, rows: np.ndarray | None = None) -> dict[str, Any]:
    """Counts and the share holding, over distinct analyses (headline) and over choice combinations."""
    n_distinct = res.count(rows)
    holds_distinct = res.share(direction, distinct=True, rows=rows)
    return {
        "choice_combinations": res.count(rows, distinct=False),
        "distinct_analyses": n_distinct,
        "analyses_holding": int(round(holds_distinct * n_distinct)) if n_distinct else 0,
        "share_holding_distinct": holds_distinct,
        "share_holding_choice_combinations": res.share(direction, rows=rows),
    }


def multiverse(table: pd.DataFrame) -> tuple[dict[str, Any], dict[str, mv.MultiverseResult]]:
    runs = {
        "alsfrs_r_benefit": (
            alsfrs_specifications(RECON.TAU_SCALES["alsfrs_r"]),
            ["Oh 2018", "Kim 2009", "Petrou 2016"],
            "positive",
            "Intrathecal MSC slowed ALSFRS-R progression (post - pre slope > 0)",
        ),
        "fvc_worse": (
            fvc_specifications(RECON.TAU_SCALES["fvc"]),
            ["Oh 2018", "Petrou 2016"],
            "negative",
            "FVC progression worsened after MSC (post - pre slope < 0)",
        ),
    }
    numbers: dict[str, Any] = {}
    results: dict[str, mv.MultiverseResult] = {}
    for key, (specs, slots, direction, claim) in runs.items():
        t0 = time.perf_counter()
        res = mv.fit_specifications(specs, table[["yi", "se"]], slots=slots)
        elapsed = time.perf_counter() - t0
        print(f"multiverse {key}: {len(res)} specifications fitted in {elapsed:.2f} s")
        results[key] = res
        s = res.specifications
        freq = (s.framework == "frequentist").to_numpy()
        opposite = "negative" if direction == "positive" else "positive"
        by = {}
        for col in [c for c in res.choices if c not in slots and c not in ("method", "tau_scale")] + [
            "method",
            "tau_scale",
        ]:
            levels = s[col].map(mv.choice_text)
            by[col] = {
                lev: {
                    "distinct_analyses": res.count((levels == lev).to_numpy()),
                    "share_holding_distinct": res.share(direction, distinct=True, rows=(levels == lev).to_numpy()),
                }
                for lev in dict.fromkeys(levels)
                if lev != NA
            }
        distinct = res.distinct()
        coarse = mv.distinct_analyses(s, columns=res.distinct_columns, significant=6)
        numbers[key] = {
            "claim": claim,
            "direction": direction,
            "basis": REBUILD_BASIS,
            "studies": slots,
            **_subset_numbers(res, direction),
            "data_sets": int(s[slots].map(mv.choice_text).drop_duplicates().shape[0]),
            "results_agreeing_to_6_digits_merged": {
                "distinct_analyses": len(coarse),
                "share_holding_distinct": float(res.holds(direction).loc[coarse.index].mean()),
                "note": "distinct analyses are results that differ in the 10th significant digit or earlier; merging results "
                "that agree to 6 digits (e.g. Sidik-Jonkman's tau2 of about 1e-8 where the other estimators give 0) "
                "changes the count and share this much",
            },
            "share_opposite_direction_distinct": res.share(opposite, distinct=True),
            "frequentist": _subset_numbers(res, direction, freq),
            "bayesian": _subset_numbers(res, direction, ~freq),
            "share_by_choice": by,
            "share_by_choice_note": "per level of a choice: the distinct analyses that level can give and the share of them in which "
            "the claim holds (an analysis several levels give counts once for each)",
            **{
                sub.key: {"definition": sub.definition, **_subset_numbers(res, direction, sub.rows)}
                for sub in rebuild_subsets(res, table)
            },
            "estimate_range": [float(s.estimate.min()), float(s.estimate.max())],
            "median_estimate_distinct": float(distinct.estimate.median()),
            "all_converged": bool(s.converged.all()),
        }
    return numbers, results


def specification_tables(res: mv.MultiverseResult, direction: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The two CSV tables of a multiverse: every choice combination, and the distinct analyses.

    Both are sorted by :meth:`alsmeta.diagnostics.multiverse.MultiverseResult.curve` (rounded estimate and interval, then the
    choices as text), so the order never depends on last-bit floating noise. ``analysis`` in the first table is the
    rank of the combination's distinct analysis in the second; the second lists, for each choice, every level that
    gives the analysis (joined by ``" | "``).
    """
    distinct = res.curve(distinct=True)
    analysis_of = {
        label: rank for rank, labels in zip(distinct["rank"], distinct["combinations"], strict=True) for label in labels
    }
    combos = res.curve().drop(columns=["spec"])
    combos.insert(1, "analysis", [analysis_of[label] for label in res.curve()["spec"]])
    s = res.specifications
    out = distinct[["rank", "k", "estimate", "se", "ci_low", "ci_high", "pvalue", "prob_positive", "tau2", "i2"]].copy()
    out.insert(6, "claim_holds", res.holds(direction).loc[distinct["spec"]].to_numpy())  # merged rows share the verdict
    out["n_combinations"] = distinct["n_combinations"].to_numpy()
    for col in res.choices:
        out[col] = [
            " | ".join(dict.fromkeys(s.loc[list(labels), col].map(mv.choice_text)))
            for labels in distinct["combinations"]
        ]
    return combos, out


def csv_text(frame: pd.DataFrame) -> str:
    """The CSV text written for a table: floats rounded to 6 decimals, no index, LF line ends."""
    return frame.round(6).to_csv(index=False, lineterminator="\n")


# ---------------------------------------------------------------------------
# figures
# ---------------------------------------------------------------------------

RATE_FLOOR = 1e-3


def _note(text: str, width: int = 175) -> str:
    return textwrap.fill(text, width=width)


def _rate_axis(ax: Any, label: str) -> None:
    ax.set_xscale("log")
    ax.set_xlim(RATE_FLOOR * 0.8, 1.25)
    ax.set_xticks([0.001, 0.01, 0.025, 0.1, 0.5, 1.0])
    ax.set_xticklabels(["0.001", "0.01", "0.025", "0.1", "0.5", "1"], fontsize=7)
    ax.minorticks_off()
    ax.axvline(0.025, color=GREY, lw=0.8, ls="--")
    ax.set_xlabel(label, fontsize=8)


def _rate_point(ax: Any, y: float, r: dict[str, float], col: str, marker: str) -> None:
    p, se = r["rate"], r["mc_se"]
    if p < RATE_FLOOR:
        ax.plot([RATE_FLOOR], [y], marker="<", color=col, ms=5, mfc="white")
        return
    lo, hi = max(p - 1.96 * se, RATE_FLOOR), min(p + 1.96 * se, 1.0)
    ax.plot([lo, hi], [y, y], color=col, lw=1.2)
    ax.plot([p], [y], marker=marker, color=col, ms=4.5)


def _row_panels(a: Any, b: Any, labels: list[str], left: tuple[str, str], right: tuple[str, str]) -> None:
    """One row per scenario: the effect panel ``a`` (x label, title) and the rate panel ``b``."""
    a.axvline(0, color=GREY, lw=0.8)
    a.set_yticks(range(len(labels)))
    a.set_yticklabels(labels, fontsize=MIN_PT)
    a.set_ylim(len(labels) - 0.5, -0.5)
    a.set_xlabel(left[0], fontsize=MIN_PT)
    a.set_title(left[1], fontsize=8, loc="left")
    a.tick_params(axis="x", labelsize=MIN_PT)
    _rate_axis(b, right[0])
    b.xaxis.label.set_size(MIN_PT)
    b.set_title(right[1], fontsize=8, loc="left")


STRESS_FIGURES = {
    "null_by_design": (
        "How often does a within-patient pre-post design find a benefit when the cells do nothing?",
        "False-positive rates of each 2021 study's design, and of the meta-analysis, under simulated ALS natural "
        "history with no treatment effect (cited progression; no selection, no curvature).",
    ),
    "mechanisms": (
        "Which mechanisms turn no effect into an apparent benefit in pre-post studies?",
        "Apparent benefit and false-positive rates under enrolment after a measured decline, responder rules and "
        "decelerating courses (sizes labelled as assumptions).",
    ),
    "empirical_null": (
        "Where do the untreated and treated arms of Oh 2018 fall in the simulated no-treatment distribution?",
        "Oh 2018's arms analysed the 2021 way, against simulated untreated studies of the same design.",
    ),
    "missing_studies": (
        "How many unpublished null studies would overturn the 2021 claims?",
        "Share of replicates in which the ALSFRS-R and FVC claims still hold as simulated no-effect studies are added.",
    ),
    "specification_curve_alsfrs_r": (
        "Does the ALSFRS-R benefit claim hold across reasonable analyses?",
        "Every distinct analysis of this project's rebuild (data choices, estimators, tests, Bayes), "
        "sorted by estimate, with the choices that give each; not the 2021 paper's analysis.",
    ),
    "specification_curve_fvc": (
        "Does the FVC worsening claim hold across reasonable analyses?",
        "Every distinct analysis of this project's rebuild, sorted by estimate, with the choices that "
        "give each; not the 2021 paper's analysis.",
    ),
}


def figure_null_by_design(numbers: dict[str, Any], draws: dict[str, np.ndarray]) -> None:
    names = list(numbers)
    with style_context():
        fig = Figure(figsize=(WIDTH_183MM, 0.4 * len(names) + 1.9), layout="constrained")
        a, b = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.7, 1.2]}, sharey=True)
        for i, name in enumerate(names):
            d = draws[name]
            q = np.quantile(d, [0.025, 0.25, 0.5, 0.75, 0.975])
            col = VERMILLION if name == "cudkowicz2022" else INK
            a.plot([q[0], q[4]], [i, i], color=col, lw=1.0)
            a.plot([q[1], q[3]], [i, i], color=col, lw=4.5, solid_capstyle="butt", alpha=0.55)
            a.plot([d.mean()], [i], marker="D", color=col, ms=4.5)
            _rate_point(b, i, numbers[name]["apparent_benefit"], col, "o")
            b.text(1.45, i, f"{numbers[name]['apparent_benefit']['rate']:.3f}", va="center", fontsize=7, color=col)
        _row_panels(
            a,
            b,
            [textwrap.fill(numbers[n]["label"], 30) for n in names],
            (
                "study-level slope change with no treatment\n(points/month; > 0: apparent slowing)",
                "What each design reports when the cells do nothing",
            ),
            ("share reporting significant slowing (log scale)", "False-positive rate (nominal 0.025)"),
        )
        handles = [
            Line2D([], [], color=INK, marker="D", lw=0, label="mean"),
            Line2D([], [], color=INK, lw=4.5, alpha=0.55, label="middle 50%"),
            Line2D([], [], color=INK, lw=1.0, label="middle 95% of simulated studies"),
        ]
        a.legend(handles=handles, fontsize=7, loc="lower left")
        fig.supxlabel(
            _note(
                f"{R_STUDIES} simulated studies per design; cited ALSFRS-R natural history (PRO-ACT), visit-to-visit SD "
                f"{CALIBRATED_MEASUREMENT_SD:g} calibrated to Oh 2018's untreated arm, death and dropout, each design's own "
                "eligibility rules. Bars on the right: 95% Monte-Carlo intervals. Significant = paired t-test p < 0.05 with slowing.",
                140,
            ),
            fontsize=MIN_PT,
            color=GREY,
            x=0.01,
            ha="left",
        )
        save_figure(fig, OUT / "null_by_design")


def figure_mechanisms(numbers: dict[str, Any]) -> None:
    """Bias and false-positive rates per mechanism, 183 mm wide; the measurement-error rows shaded as one group."""
    keys = list(numbers)
    series = (
        ("single_study_benefit", "one study (paired t-test)", INK, "o"),
        ("meta_reml_z_benefit", "11-study meta-analysis, REML z", BLUE, "s"),
        ("meta_reml_hksj_benefit", "11-study meta-analysis, REML HKSJ", ORANGE, "^"),
    )
    with style_context():
        fig = Figure(figsize=(WIDTH_183MM, 0.34 * len(keys) + 2.2), layout="constrained")
        a, b, c = fig.subplots(1, 3, gridspec_kw={"width_ratios": [1.0, 1.45, 0.42]}, sharey=True)
        group = [i for i, k in enumerate(keys) if k in ERROR_SENSITIVITY]
        for ax in (a, b):
            ax.axhspan(min(group) - 0.5, max(group) + 0.5, color=SHADE, lw=0, zorder=0)
        for i, k in enumerate(keys):
            n = numbers[k]
            m, se = n["mean_study_change"], n["mean_study_change_mc_se"]
            a.plot([m - 1.96 * se, m + 1.96 * se], [i, i], color=INK, lw=1.2)
            a.plot([m], [i], marker="D", color=INK, ms=4)
            for off, (field, _, col, mk) in zip((-0.22, 0.0, 0.22), series, strict=True):
                _rate_point(b, i + off, n[field], col, mk)
            c.text(
                0.0, i, " / ".join(f"{n[f]['rate']:.2f}" for f, *_ in series), va="center", ha="left", fontsize=MIN_PT
            )
        a.axvline(0, color=GREY, lw=0.8)
        a.set_yticks(range(len(keys)))
        a.set_yticklabels([textwrap.fill(numbers[k]["label"], 40) for k in keys], fontsize=MIN_PT)
        a.set_ylim(len(keys) - 0.5, -0.5)
        a.set_xlabel("mean apparent slowing per study\n(points/month; diamond, 95% MC interval)", fontsize=MIN_PT)
        a.set_title("Bias with no treatment", fontsize=8, loc="left")
        a.tick_params(axis="x", labelsize=MIN_PT)
        _rate_axis(b, "share reporting significant slowing (log scale)")
        b.xaxis.label.set_size(MIN_PT)
        b.set_title("False-positive rate", fontsize=8, loc="left")
        c.set_axis_off()
        c.set_xlim(0, 1)
        c.set_title("one / z / HKSJ", fontsize=MIN_PT, loc="left")
        fig.legend(
            handles=[Line2D([], [], color=col, marker=mk, lw=1.2, label=lab) for _, lab, col, mk in series],
            fontsize=MIN_PT,
            loc="outside upper right",
            ncol=3,
            frameon=False,
        )
        fig.supxlabel(
            _note(
                f"Each mechanism added alone to the baseline (top row); then the cited natural history as the studies were designed, and "
                f"with selection added. {R_META} simulated meta-analyses of 11 studies (7 designs of the reconstruction + 4 generic, "
                f"220 patients) per row ({R_META_ERROR_SENSITIVITY} for the half- and double-error rows); bars: 95% Monte-Carlo intervals; "
                "open <: under 0.001. Dashed line: nominal 0.025 (significant in the direction of benefit). Shaded: the same selection "
                f"rule at three measurement errors. The ALSFRS-R measurement error SD of {MEASUREMENT_SD:g} points is an assumption, "
                "derived from an intra-rater ICC of 0.95 (Kaufmann 2007) and a between-patient SD of about 6 points; no source measures it "
                "directly.",
                140,
            ),
            fontsize=MIN_PT,
            color=GREY,
            x=0.01,
            ha="left",
        )
        save_figure(fig, OUT / "mechanisms")


def figure_empirical_null(panels: dict[str, dict[str, Any]], numbers: dict[str, Any]) -> None:
    titles = {
        "alsfrs_r_first_follow_up": "ALSFRS-R, first follow-up",
        "alsfrs_r_6_months": "ALSFRS-R, 6 months",
        "fvc_first_follow_up": "FVC % predicted, first follow-up",
    }
    with style_context():
        fig = Figure(figsize=(WIDTH_183MM, 3.3), layout="constrained")
        axes = fig.subplots(1, len(panels))
        for ax, (key, p) in zip(axes, panels.items(), strict=True):
            d, c, t = p["null"], p["control"], p["treated"]
            lo = min(np.quantile(d, 0.0005), c.yi - 2 * c.se, t.yi - 2 * t.se)
            hi = max(np.quantile(d, 0.9995), c.yi + 2 * c.se, t.yi + 2 * t.se)
            bins = np.linspace(lo, hi, 45)
            ax.hist(
                d,
                bins=bins,
                color=SKY_BLUE,
                edgecolor="white",
                linewidth=0.3,
                density=True,
                label="simulated untreated studies",
            )
            top = ax.get_ylim()[1]
            for eff, col, name, yy in ((c, GREY, "untreated arm", 0.9), (t, VERMILLION, "MSC arm", 0.75)):
                ax.plot([eff.yi - 1.96 * eff.se, eff.yi + 1.96 * eff.se], [top * yy] * 2, color=col, lw=1.4)
                ax.plot([eff.yi], [top * yy], marker="o", color=col, ms=5)
                ax.axvline(eff.yi, color=col, lw=0.9, ls="--")
                ax.text(eff.yi, top * (yy + 0.04), f"{name} {eff.yi:+.2f}", ha="center", fontsize=MIN_PT, color=col)
            n = numbers[key]
            ax.axvline(0, color=INK, lw=0.6)
            ax.set_ylim(0, top * 1.05)
            ax.set_title(
                f"{titles[key]}\nuntreated arm: percentile {100 * n['percentile_of_untreated_arm']:.0f} of the null\n"
                f"patient SD {n['observed_untreated']['sd']:.2f} (sim. {n['simulated_untreated']['mean_patient_sd']:.2f})",
                fontsize=MIN_PT,
                loc="left",
            )
            ax.set_xlabel(f"slope change, post minus pre\n({n['unit']})", fontsize=MIN_PT)
            ax.tick_params(axis="x", labelsize=MIN_PT)
            ax.set_yticks([])

        fig.suptitle(
            _note(
                f"Simulated null (histogram: {R_STUDIES} studies of Oh 2018's design, no treatment) against Oh 2018's "
                "arms analysed the same way (Table 3; points and lines: estimate and 95% CI)",
                115,
            ),
            fontsize=8,
            x=0.01,
            ha="left",
        )
        save_figure(fig, OUT / "empirical_null")


def figure_missing(curves: dict[str, pd.DataFrame], numbers: dict[str, Any]) -> None:
    # source by colour AND marker (circles/squares vs triangles/diamonds), test by line style: readable in greyscale
    styles = {
        ("simulated null", "z"): (BLUE, "-", "o"),
        ("simulated null", "HKSJ"): (BLUE, "--", "s"),
        ("reconstruction's estimate", "z"): (GREEN, "-", "^"),
        ("reconstruction's estimate", "HKSJ"): (GREEN, "--", "D"),
    }
    with style_context():
        fig = Figure(figsize=(WIDTH_183MM, 3.6), layout="constrained")
        axes = fig.subplots(1, len(curves), sharey=True)
        for ax, (key, frame) in zip(axes, curves.items(), strict=True):
            for (source, test), g in frame.groupby(["source", "test"], sort=False):
                col, ls, mk = styles[source, test]
                ax.errorbar(
                    g.added,
                    g.share_holding,
                    yerr=1.96 * g.mc_se,
                    color=col,
                    ls=ls,
                    marker=mk,
                    ms=3.5,
                    lw=1.2,
                    capsize=0,
                    label=f"added: {source}, {test}",
                )
            ax.axhline(0.5, color=GREY, lw=0.8, ls=":")
            n = numbers[key]
            ax.set_xticks(range(n["missing"] + 1))
            ax.set_xlabel(f"missing studies added (observed k = {n['observed_k']}; 11 in 2021)", fontsize=MIN_PT)
            ax.set_title(textwrap.fill(f"{n['title']}: this project's rebuild", 52), fontsize=MIN_PT, loc="left")
            ax.tick_params(labelsize=MIN_PT)
            ax.set_ylim(-0.02, 1.02)
        axes[0].set_ylabel("share of replicates in which the claim holds", fontsize=MIN_PT)
        handles, labels = axes[0].get_legend_handles_labels()
        fig.legend(handles, labels, fontsize=MIN_PT, loc="outside upper center", ncols=2, frameon=False)
        fig.supxlabel(
            _note(
                f"{R_MISSING} replicates per point (bars: 95% Monte-Carlo intervals). Simulated null: 20-patient pre-post "
                "studies of untreated ALS (calibrated ALSFRS-R / cited FVC natural history). Reconstruction's estimate: drawn from "
                "N(REML estimate, tau\u00b2 + SE\u00b2) with the simulated studies' SEs. With k = 1 a t-based (HKSJ) test falls "
                "back to z; with k = 2 it has 1 df. The observed studies are this project's rebuild; the 2021 paper published no "
                "study-level data.",
                140,
            ),
            fontsize=MIN_PT,
            color=GREY,
            x=0.01,
            ha="left",
        )
        save_figure(fig, OUT / "missing_studies")


CHOICE_NAMES = {"tau_scale": "prior scale on \u03c4", "method": "estimator", "test": "interval"}


def _level_text(col: str, v: Any) -> str:
    if col == "test":
        return TEST_NAMES.get(v, str(v))
    if v == mv.BAYES:
        return "Bayes"
    if col == "tau_scale" and v != NA:
        return f"half-normal({float(v):g})"
    return str(v)


SHADE = "#ececec"  # background of a group of rows (grey level only, no hue)
WIDTH_183MM = 183 / 25.4  # double-column print width (inches)
MIN_PT = 7.0  # smallest text at print size (GUIDE figure standard)


REDUNDANT_LEVELS = {("method", "Bayes"), ("test", "posterior")}  # the same analyses as the framework row "Bayesian"


def choice_matrix(
    res: mv.MultiverseResult, curve: pd.DataFrame, choice_cols: list[str]
) -> list[tuple[str, str, np.ndarray]]:
    """For each (choice, level): which distinct analyses of ``curve`` (sorted, from ``res.curve(distinct=True)``) it gives.

    An analysis reached through several levels of a choice (e.g. every estimator when tau^2 is 0) is marked at each.
    Levels that do not apply (n/a) get no row.
    """
    rank_of = pd.Series(
        {label: rank for rank, labels in zip(curve["rank"], curve["combinations"], strict=True) for label in labels}
    )
    s = res.specifications
    rows = []
    for col in choice_cols:
        text = s[col].map(lambda v, c=col: _level_text(c, v)).astype(str)
        for lev in dict.fromkeys(text.tolist()):  # levels in the order the specifications list them
            if lev == NA or (col, lev) in REDUNDANT_LEVELS:
                continue
            marked = np.zeros(len(curve), bool)
            marked[rank_of.loc[s.index[(text == lev).to_numpy()]].to_numpy()] = True
            rows.append((CHOICE_NAMES.get(col, col), lev, marked))
    return rows


def figure_spec_curve(
    res: mv.MultiverseResult,
    direction: str,
    title: str,
    unit: str,
    stem: str,
    choice_cols: list[str],
    ylim: tuple[float, float],
) -> Figure:
    """Specification curve of the distinct analyses (183 mm wide), the combinations behind each, and the choices that give it."""
    curve = res.curve(distinct=True)
    holds = (
        res.holds(direction).loc[curve["spec"]].to_numpy()
    )  # combinations merged into one analysis share the verdict
    n, x = len(curve), curve["rank"].to_numpy()
    n_comb = curve["n_combinations"].to_numpy()
    rows = choice_matrix(res, curve, choice_cols)
    group_w = max(text_width(g, MIN_PT, "bold") for g, _, _ in rows)
    level_w = max(text_width(lev, MIN_PT) for _, lev, _ in rows)
    with style_context():
        width = WIDTH_183MM
        left_in, right_in = group_w + level_w + 0.22, 0.62
        title_h, top_h, strip_h, gap, row_h, foot_h = 0.6, 1.9, 0.42, 0.12, 0.122, 0.86
        mat_h = row_h * (len(rows) + 1)
        height = title_h + top_h + gap + strip_h + gap + mat_h + foot_h
        fig = Figure(figsize=(width, height))
        ax_w = (width - left_in - right_in) / width

        def box(top_from: float, h: float) -> tuple[float, float, float, float]:
            return (left_in / width, (height - top_from - h) / height, ax_w, h / height)

        ax = fig.add_axes(box(title_h, top_h))
        lo, hi, est = curve.ci_low.to_numpy(), curve.ci_high.to_numpy(), curve.estimate.to_numpy()
        lw = float(np.clip(120 / n, 0.45, 1.5))  # thin lines for hundreds of analyses, visible ones for a few dozen
        dot = float(np.clip(500 / n, 1.2, 9.0))
        for sel, col in ((~holds, LIGHT_GREY), (holds, GREEN)):
            ax.vlines(x[sel], np.clip(lo[sel], *ylim), np.clip(hi[sel], *ylim), color=col, lw=lw)
        ax.scatter(
            x[~holds], est[~holds], s=dot, color=GREY, marker="o", linewidths=0, zorder=3, gid="estimates_not_holding"
        )
        ax.scatter(x[holds], est[holds], s=dot, color=INK, marker="o", linewidths=0, zorder=3, gid="estimates_holding")
        ax.axhline(0, color=INK, lw=0.7)
        ax.set_ylim(*ylim)
        ax.set_xlim(-0.5, n - 0.5)
        ax.set_xticks([])
        ax.tick_params(labelsize=MIN_PT)
        ax.set_ylabel(f"pooled estimate, 95% interval\n({unit})", fontsize=MIN_PT)
        ax.legend(
            handles=[
                Line2D([], [], color=GREEN, lw=1.2, label="claim holds (interval excludes 0 in the claimed direction)"),
                Line2D([], [], color=LIGHT_GREY, lw=1.2, label="does not hold"),
            ],
            fontsize=MIN_PT,
            loc="lower left",
            bbox_to_anchor=(0.0, 1.0),
            ncol=2,
            frameon=False,
            borderaxespad=0.1,
        )
        n_hold = int(holds.sum())
        fig.text(
            0.01,
            1 - 0.05 / height,
            gid="title",
            s=_note(
                f"{title}, this project's rebuild: the claim holds in {n_hold} of {n} distinct analyses "
                f"({n_hold / n:.0%}); {len(res):,} choice combinations",
                118,
            ),
            fontsize=8,
            fontweight="bold",
            ha="left",
            va="top",
        )

        sx = fig.add_axes(box(title_h + top_h + gap, strip_h))
        sx.vlines(x, 1, n_comb, color=GREY, lw=lw)
        sx.set_yscale("log")
        sx.set_ylim(0.8, max(40, n_comb.max() * 1.3))
        sx.set_xlim(-0.5, n - 0.5)
        sx.set_xticks([])
        sx.set_yticks([1, 10] + ([100] if n_comb.max() >= 100 else []))
        sx.set_yticklabels(["1", "10"] + (["100"] if n_comb.max() >= 100 else []), fontsize=MIN_PT)
        sx.minorticks_off()
        sx.set_ylabel("combinations", fontsize=MIN_PT)
        for side in ("top", "right"):
            sx.spines[side].set_visible(False)

        mx = fig.add_axes(box(title_h + top_h + gap + strip_h + gap, mat_h))
        all_rows = [("", "claim holds", holds)] + rows
        share_of = {}
        for r, (group, lev, sel) in enumerate(all_rows):
            col = INK if r == 0 else np.where(holds[sel], GREEN, GREY)
            mx.scatter(x[sel], np.full(int(sel.sum()), r), marker="|", s=12, linewidths=min(lw, 1.0), color=col)
            mx.text(
                -0.01,
                r,
                lev,
                transform=mx.get_yaxis_transform(),
                ha="right",
                va="center",
                fontsize=MIN_PT,
                fontweight="bold" if r == 0 else "normal",
            )
            share_of[r] = (holds[sel].mean() if sel.any() else math.nan, int(sel.sum()))
            if r > 0:
                sh, cnt = share_of[r]
                mx.text(
                    1.01,
                    r,
                    f"{sh:.0%} ({cnt})",
                    transform=mx.get_yaxis_transform(),
                    ha="left",
                    va="center",
                    fontsize=MIN_PT,
                )
        mx.text(
            1.01,
            0,
            f"{n_hold / n:.0%} ({n})",
            transform=mx.get_yaxis_transform(),
            ha="left",
            va="center",
            fontsize=MIN_PT,
            fontweight="bold",
        )
        prev = None
        for r, (group, _, _) in enumerate(all_rows):
            if group != prev:
                if group:
                    fig.text(
                        0.01,
                        r,
                        group,
                        transform=blended_transform_factory(fig.transFigure, mx.transData),
                        ha="left",
                        va="center",
                        fontsize=MIN_PT,
                        fontweight="bold",
                    )
                mx.axhline(r - 0.5, color=LIGHT_GREY, lw=0.5)
                prev = group
        mx.set_ylim(len(all_rows) - 0.5, -0.5)
        mx.set_xlim(-0.5, n - 0.5)
        mx.axis("off")
        mx.text(
            1.01,
            -1.0,
            "holds (n)",
            transform=mx.get_yaxis_transform(),
            ha="left",
            va="center",
            fontsize=MIN_PT,
            color=GREY,
        )
        fig.text(
            0.01,
            0.08 / height,
            _note(
                "Each column is one distinct analysis of this project's rebuild: choice combinations that give the same k, estimate and "
                "95% interval (to 10 significant digits) are counted once; the bars above the choices show how many combinations give each "
                "(log scale). Analyses are sorted by the pooled estimate (dots) with 95% intervals (lines, clipped to the axis). Below, the "
                "choices that give each analysis (marked at every level that gives it); right, the share of the distinct analyses with that "
                "level in which the claim holds, and their number. Bayes: flat prior on \u03bc, half-normal prior on \u03c4 with the scale "
                "shown; posterior mean and 95% credible interval. The 2021 paper published no study-level data: this is not its analysis.",
                135,
            ),
            fontsize=MIN_PT,
            color=GREY,
            ha="left",
            va="bottom",
        )
        save_figure(fig, OUT / stem)
    return fig


# ---------------------------------------------------------------------------
# main
# ---------------------------------------------------------------------------


def _csv(frame: pd.DataFrame, name: str) -> None:
    (OUT / name).write_text(csv_text(frame), encoding="utf-8")


def main() -> None:
    t0 = time.perf_counter()
    OUT.mkdir(parents=True, exist_ok=True)
    ev = load_evidence("data")
    effects, table = effect_table(ev)

    design_numbers, draws = null_by_design()
    mech = mechanisms()
    emp, panels = empirical_null(ev)
    pools = [
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
    missing, curves = missing_studies(pools)
    multi, results = multiverse(table)

    figure_null_by_design(design_numbers, draws)
    figure_mechanisms(mech)
    figure_empirical_null(panels, emp)
    figure_missing(curves, missing)
    figure_spec_curve(
        results["alsfrs_r_benefit"],
        "positive",
        "ALSFRS-R slowing after MSC",
        "points/month",
        "specification_curve_alsfrs_r",
        [
            "time point",
            "secondary source",
            "Petrou sign",
            "Kim unit",
            "p to SE",
            "study subset",
            "framework",
            "method",
            "test",
            "tau_scale",
        ],
        (-2.0, 4.0),
    )
    figure_spec_curve(
        results["fvc_worse"],
        "negative",
        "FVC worsening after MSC",
        "% predicted/month",
        "specification_curve_fvc",
        ["secondary source", "p to SE", "study subset", "framework", "method", "test", "tau_scale"],
        (-8.0, 10.0),
    )

    _csv(
        pd.DataFrame(
            [
                {
                    "design": k,
                    **{f: v for f, v in n.items() if not isinstance(v, dict)},
                    "apparent_benefit_rate": n["apparent_benefit"]["rate"],
                    "apparent_benefit_mc_se": n["apparent_benefit"]["mc_se"],
                }
                for k, n in design_numbers.items()
            ]
        ),
        "null_by_design.csv",
    )
    _csv(
        pd.DataFrame(
            [
                {
                    "mechanism": k,
                    "label": n["label"],
                    "mean_study_change": n["mean_study_change"],
                    **{
                        f"{f}_{s}": n[f][s2]
                        for f in (
                            "single_study_benefit",
                            "meta_reml_z_benefit",
                            "meta_reml_hksj_benefit",
                            "single_study_two_sided",
                            "meta_reml_z_two_sided",
                            "meta_reml_hksj_two_sided",
                        )
                        for s, s2 in (("rate", "rate"), ("mc_se", "mc_se"))
                    },
                }
                for k, n in mech.items()
            ]
        ),
        "mechanisms.csv",
    )
    _csv(pd.concat(list(curves.values()), ignore_index=True), "missing_studies.csv")
    for key, res in results.items():
        combos, distinct = specification_tables(res, multi[key]["direction"])
        _csv(combos, f"specifications_{key}.csv")
        _csv(distinct, f"distinct_analyses_{key}.csv")
    _csv(table.reset_index(), "multiverse_inputs.csv")

    write_numbers(
        OUT,
        {
            "figures": {
                stem: figure_entry(q, c, script=Path(__file__).name) for stem, (q, c) in STRESS_FIGURES.items()
            },
            "settings": {
                "seed": SEED,
                "studies_per_design": R_STUDIES,
                "meta_analyses_per_mechanism": R_META,
                "replicates_per_added_study_count": R_MISSING,
                "alpha": ALPHA,
                "calibrated_measurement_sd": CALIBRATED_MEASUREMENT_SD,
                "selection_slope": SELECTION_SLOPE,
                "measurement_sd_assumed": MEASUREMENT_SD,
                "measurement_sd_assumption": MEASUREMENT_SD_ASSUMPTION,
                "meta_analyses_per_error_sensitivity_row": R_META_ERROR_SENSITIVITY,
                "curvature": CURVATURE,
                "meta_designs": [*RECONSTRUCTION_DESIGNS, *(f"generic n={n}" for n in GENERIC_SIZES)],
                "false_positive": "significant in the direction of benefit: paired t p < 0.05 with mean > 0 (one study); "
                "95% CI lower bound > 0 (meta-analysis). Nominal rate 0.025.",
            },
            "null_by_design": design_numbers,
            "mechanisms": mech,
            "selection_measurement_error": error_sensitivity(mech),
            "empirical_null": emp,
            "missing_studies": missing,
            "multiverse": multi,
        },
    )
    print(f"prepost_stress_test: done in {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
