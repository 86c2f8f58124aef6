"""The multiverse's specifications: every defensible data choice crossed with every model."""

from __future__ import annotations

from typing import Any

import pandas as pd

from alsmeta.als.msc2021.effects import kim2009, oh_arm, petrou_regression
from alsmeta.als.msc2021.protocol import FIRST, SIX
from alsmeta.diagnostics import multiverse as mv

NA = "n/a"

# The model choices this multiverse was specified with. Pinned here on purpose rather than read from
# the engine's METHODS/TESTS: an estimator added to the library later (GENQ, say) must not silently
# change a reported analysis. tests/test_stress.py checks that each is still one the engine offers.
FREQ_METHODS = ("CE", "DL", "HE", "HS", "HSk", "SJ", "ML", "REML", "EB", "PM", "PMM")

TESTS = ("z", "t", "knha", "adhoc")

P_TO_SE = ("z", "t(n-1)")
"""How a P value becomes an SE (:mod:`alsmeta.als.msc2021.effects`): z (primary) or a paired t with n - 1 df."""

TEST_NAMES = {"z": "z", "t": "t", "knha": "HKSJ", "adhoc": "HKSJ ad hoc", NA: "posterior"}


def effect_table(ev: Any) -> tuple[dict[str, Any], pd.DataFrame]:
    """Every study value a specification may use, recomputed from data/ by the reconstruction's functions.

    Parameters
    ----------
    ev
        The evidence tables.

    Returns
    -------
    tuple
        The effects by key (:class:`alsmeta.als.msc2021.effects.Effect`) and the table of their yi, se, n,
        study, status and derivation, indexed by key.
    """
    e = {
        "oh_first": oh_arm(ev, "alsfrs_r", FIRST, "msc"),
        "oh_6mo": oh_arm(ev, "alsfrs_r", SIX, "msc"),
        "oh_fvc": oh_arm(ev, "fvc", FIRST, "msc"),
        "kim_per3_t": kim2009(ev, t_test=True),
        "kim_per3_z": kim2009(ev),
        "kim_printed_t": kim2009(ev, per_month=False, t_test=True),
        "kim_printed_z": kim2009(ev, per_month=False),
        "petrou_minus_t": petrou_regression(ev, "alsfrs_r", "neuronews", t_test=True),
        "petrou_minus_z": petrou_regression(ev, "alsfrs_r", "neuronews"),
        "petrou_plus_t": petrou_regression(ev, "alsfrs_r", "neurologyadvisor", t_test=True),
        "petrou_plus_z": petrou_regression(ev, "alsfrs_r", "neurologyadvisor"),
        "petrou_fvc_t": petrou_regression(ev, "fvc", "neuronews", t_test=True),
        "petrou_fvc_z": petrou_regression(ev, "fvc", "neuronews"),
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
    """Every frequentist estimator x test, and the Bayesian model at each prior scale on tau."""
    freq = [{"method": m, "test": t, "tau_scale": NA, "framework": "frequentist"} for m in FREQ_METHODS for t in TESTS]
    bayes = [{"method": mv.BAYES, "test": NA, "tau_scale": s, "framework": "Bayesian"} for s in tau_scales]
    return freq + bayes


def alsfrs_specifications(tau_scales: tuple[float, ...]) -> pd.DataFrame:
    """ALSFRS-R, intrathecal MSC (and MSC-NTF): every combination of data choices, then every model.

    Parameters
    ----------
    tau_scales
        The half-normal prior scales on tau of the Bayesian specifications.

    Returns
    -------
    pandas.DataFrame
        One row per specification: the data choices (n/a where a choice does not apply), the study slots
        (effect keys or None) and the model.
    """
    data = []
    for time_point in ("first follow-up", "6 months", "longest per study"):
        for secondary in ("exclude", "include"):
            for sign in ("-0.6 (primary)", "+0.6 (as printed)"):
                for unit in ("per 3 months, /3", "per month, as printed"):
                    for conv in P_TO_SE:
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
                            slots, conversion = _published_p_decides_one_study(slots, conv)
                            data.append(
                                {
                                    "time point": time_point,
                                    "secondary source": secondary if time_point != "first follow-up" else NA,
                                    "Petrou sign": sign if slots["Petrou 2016"] else NA,
                                    "Kim unit": unit if slots["Kim 2009"] else NA,
                                    "p to SE": conversion,
                                    "study subset": subset,
                                    **slots,
                                }
                            )
    return _cross(_unique_data(data, ["Oh 2018", "Kim 2009", "Petrou 2016"]), _models(tau_scales))


def fvc_specifications(tau_scales: tuple[float, ...]) -> pd.DataFrame:
    """FVC: every combination of data choices (secondary source, p-value conversion, subset), then every model.

    Parameters
    ----------
    tau_scales
        The half-normal prior scales on tau of the Bayesian specifications.

    Returns
    -------
    pandas.DataFrame
        One row per specification, as :func:`alsfrs_specifications`.
    """
    data = []
    for secondary in ("exclude", "include"):
        for conv in P_TO_SE:
            for subset in ("all available", "without Oh 2018", "without Petrou 2016"):
                pet = ("petrou_fvc_" + ("t" if conv == "t(n-1)" else "z")) if secondary == "include" else None
                slots = _subset({"Oh 2018": "oh_fvc", "Petrou 2016": pet}, subset)
                if slots is None:
                    continue
                slots, conversion = _published_p_decides_one_study(slots, conv)
                data.append(
                    {
                        "secondary source": secondary,
                        "p to SE": conversion,
                        "study subset": subset,
                        **slots,
                    }
                )
    return _cross(_unique_data(data, ["Oh 2018", "Petrou 2016"]), _models(tau_scales))


def _published_p_decides_one_study(slots: dict[str, str | None], conversion: str) -> tuple[dict[str, str | None], str]:
    """The slots and the "p to SE" level of one data choice, with a study whose SE comes from a P value alone.

    How the P value is turned into an SE (z or t(n - 1)) is a choice only when the study is pooled with
    another: the pooled interval is not that study's test. An analysis of that study alone must agree with its
    own published P (Kim 2009 p = 0.04, Petrou 2016 p = 0.052 and 0.036), and every model here gives one study
    a z interval (or a wider posterior interval), which reproduces P only with the z-derived SE. So a lone
    p-derived study always takes its z-derived SE and the conversion is n/a; the t-derived SE with a z interval
    would call Petrou 2016's p = 0.052 significant.

    Parameters
    ----------
    slots
        Effect key per study slot (None where the study is left out).
    conversion
        The "p to SE" level of the choice combination (:data:`P_TO_SE`).

    Returns
    -------
    tuple
        The slots (a lone p-derived study's key set to its ``_z`` variant) and the "p to SE" level: n/a when
        no p-derived study is used or one is used alone.
    """
    used = [v for v in slots.values() if v is not None]
    from_p = [v for v in used if not v.startswith("oh_")]
    if not from_p:
        return slots, NA
    if len(used) > 1:
        return slots, conversion
    return {k: (v if v is None else v.removesuffix("_t").removesuffix("_z") + "_z") for k, v in slots.items()}, NA


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
    """Every data choice with every model, each column of object dtype."""
    m = pd.DataFrame(models)
    out = data.merge(m, how="cross")
    for c in out.columns:
        out[c] = pd.Series(out[c].to_numpy(dtype=object), dtype=object)
    return out
