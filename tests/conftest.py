"""Shared fixtures: metafor reference data and a small classic data set."""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

# hypothesis profiles: "ci" (default; the whole property suite within about a minute, the same examples on
# every run so that a submission's CI result does not depend on luck), "explore" (random examples, as many
# as "ci": run it locally to look for new counterexamples) and "nightly" (many more random examples).
# Select with HYPOTHESIS_PROFILE=explore|nightly. Tests that pin max_examples keep theirs.
settings.register_profile(
    "ci", max_examples=25, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("explore", max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile(
    "nightly",
    max_examples=1000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

if TYPE_CHECKING:
    from alsmeta.models.multilevel import MultilevelResult

REFERENCE_DIR = Path(__file__).parent / "reference"


def load_reference(name: str) -> dict:
    """Load a committed metafor reference JSON file from tests/reference/."""
    return json.loads((REFERENCE_DIR / name).read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def bcg() -> tuple[np.ndarray, np.ndarray]:
    """dat.bcg log risk ratios (Colditz et al. 1994), as escalc(measure='RR')."""
    tpos = np.array([4, 6, 3, 62, 33, 180, 8, 505, 29, 17, 186, 5, 27], dtype=float)
    tneg = np.array([119, 300, 228, 13536, 5036, 1361, 2537, 87886, 7470, 1699, 50448, 2493, 16886], dtype=float)
    cpos = np.array([11, 29, 11, 248, 47, 372, 10, 499, 45, 65, 141, 3, 29], dtype=float)
    cneg = np.array([128, 274, 209, 12619, 5761, 1079, 619, 87892, 7232, 1600, 27197, 2338, 17825], dtype=float)
    yi = np.log(tpos / (tpos + tneg)) - np.log(cpos / (cpos + cneg))
    vi = 1 / tpos - 1 / (tpos + tneg) + 1 / cpos - 1 / (cpos + cneg)
    return yi, vi


def data(ds: dict) -> tuple[np.ndarray, np.ndarray]:
    """yi and vi of one reference data set as float arrays."""
    return np.asarray(ds["yi"], dtype=float), np.asarray(ds["vi"], dtype=float)


def close(got, expected, rel: float = 1e-6, abs_: float = 1e-8, what: str = "") -> float:
    """Element-wise comparison with metafor that skips its NA (None); returns the largest relative deviation."""
    exp = np.atleast_1d(np.array(expected, dtype=float))
    g = np.atleast_1d(np.array(got, dtype=float))
    assert g.shape == exp.shape, f"{what}: shape {g.shape} vs metafor {exp.shape}"
    ok = ~np.isnan(exp)
    assert not np.isnan(g[ok]).any(), f"{what}: NaN where metafor has {exp[ok]}"
    diff = np.abs(g[ok] - exp[ok])
    assert np.all(diff <= rel * np.abs(exp[ok]) + abs_), f"{what}: {g} vs metafor {exp}"
    big = np.abs(exp[ok]) > abs_
    return float(np.max(diff[big] / np.abs(exp[ok][big]))) if big.any() else 0.0


REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def report_index(tmp_path_factory) -> Path:
    """report/index.html built (once per session) from the checkout's figures/ and data/ into a temporary folder."""
    from alsmeta.als.report import build_report

    return build_report(REPO_ROOT / "figures", REPO_ROOT / "data", tmp_path_factory.mktemp("report"))


def multilevel_fit(ds: dict, ref: dict) -> MultilevelResult:
    """The rma.mv model of one case of metafor_multilevel.json: study/effect random effects on ``ds``,
    with the case's moderator, method and test (and, where the data set gives ``rho``, its sampling
    covariance); warnings about the fit are silenced (the tests compare its numbers)."""
    import alsmeta as am  # here, not at the top: conftest must not load the package for every test

    mods = {"x": ds["x"]} if ref["mods"] else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", am.AlsmetaWarning)
        if ds.get("rho") is not None:
            V = am.sampling_covariance(ds["vi"], ds["study"], ds["rho"])
            return am.pool_multilevel(
                ds["yi"], V=V, study=ds["study"], effect=ds["effect"], method=ref["method"], test=ref["test"]
            )
        return am.pool_multilevel(
            ds["yi"],
            ds["vi"],
            study=ds["study"],
            effect=ds["effect"],
            mods=mods,
            method=ref["method"],
            test=ref["test"],
        )
