"""Risk of bias in the living update: this project's own RoB 2 judgements (``data/risk_of_bias.csv``), not Cochrane's.

RoB 2 (Sterne et al. 2019, BMJ 366:l4898) judges a result, not a trial, so
each row names the trial and the result assessed.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd

from alsmeta.als.tables import Evidence

ROB_CAPTION = (
    "RoB 2 judgements are this project's own assessment (data/risk_of_bias.csv, one result per trial), "
    "not the Cochrane review's."
)
_OUTCOME_SHORT = {
    "alsfrs_r_change": "ALSFRS-R change",
    "alsfrs_r_slope_change": "ALSFRS-R slope",
    "alsfrs_r_slope_responders_ge1_25": "responders",
    "cafs": "CAFS",
    "efficacy_outcomes": "efficacy",
}


def read_risk_of_bias(data_dir: str | Path, review_version: str) -> pd.DataFrame:
    """The RoB 2 judgements of one review version (every column as text)."""
    rob = pd.read_csv(Path(data_dir) / "risk_of_bias.csv", dtype=str, keep_default_na=False)
    return rob[rob.review_version == review_version]


def rob_row_label(label: str, outcome: str, timepoint: str) -> str:
    """A traffic-light row: the trial and the result assessed (RoB 2 judges a result, not a trial)."""
    when = re.search(r"(\d+) (month|week)s?", timepoint)
    short = f"{when.group(1)} {'mo' if when.group(2) == 'month' else 'wk'}" if when else timepoint
    return f"{label}: {_OUTCOME_SHORT.get(outcome, outcome.replace('_', ' '))}, {short}"


def risk_of_bias_rows(ev: Evidence, rob: pd.DataFrame) -> pd.DataFrame:
    """The judgements with a ``trial`` column naming each row's trial and result (:func:`rob_row_label`)."""
    labels = ev.studies.set_index("study_id")["label"]
    return rob.assign(
        trial=[rob_row_label(labels[s], o, t) for s, o, t in zip(rob.study_id, rob.outcome, rob.timepoint, strict=True)]
    )


def risk_of_bias_numbers(rows: pd.DataFrame) -> dict[str, Any]:
    """Who assessed, with which tool, and each result's overall judgement (rows from :func:`risk_of_bias_rows`)."""
    overall = rows[rows.domain == "overall"]
    return {
        "assessor": "this project (not Cochrane)",
        "tool": "RoB 2 (Sterne et al. 2019)",
        "overall": dict(zip(overall.trial, overall.judgement, strict=True)),
        "overall_counts": overall.judgement.value_counts().sort_index().to_dict(),
    }
