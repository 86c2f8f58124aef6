"""What evidence each candidate study has in ``data/``, by outcome and follow-up window.

One row per (study, outcome, window): the status of the best evidence
(``verified`` / ``secondary`` / ``derived``, ``not_found`` when it was searched
for and recorded as not retrievable, ``none`` when nothing was retrieved) and
what it is (``numbers``, ``p only``, ``words only``). This is the table behind a
study availability map (Cochrane Handbook ch. 13 on missing results: make
visible which results are unavailable, and why, before pooling).

Rules, stated once:

* numbers outrank words; within each, verified > secondary > derived;
* a sample size alone is not outcome evidence (a verified n beside secondary
  slopes does not make a cell verified);
* baseline-only rows are not pre/post evidence and are skipped;
* a statement in words counts only where the study has no number for that
  outcome, and goes to the "later / not stated" window (statements carry no
  time point);
* a row's window comes from ``timepoint_months``, else "N weeks" in the
  time point, else a caller-given override (documented by the caller), else
  "later / not stated".
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

import numpy as np
import pandas as pd

from alsmeta.validation import AlsmetaInputError

__all__ = ["WINDOWS", "OUTCOMES", "availability_table", "row_months", "window_of"]

WINDOWS = ("\u2264 4 months", "6 months", "later / not stated")
OUTCOMES: dict[str, tuple[str, ...]] = {"ALSFRS(-R)": ("alsfrs", "responder", "progression_response"), "FVC": ("fvc",)}
_WORDS = {"ALSFRS(-R)": "alsfrs", "FVC": "fvc"}
_STATUS_RANK = {"verified": 0, "secondary": 1, "derived": 2}
_P_ONLY = {"p", "p_one_sided"}
_DAYS_PER_MONTH = 30.4375


def row_months(
    study_id: str, timepoint: str, timepoint_months: str, overrides: Mapping[tuple[str, str], float] | None = None
) -> float:
    """Months after treatment of one outcome row (NaN if not stated)."""
    if overrides and (study_id, timepoint) in overrides:
        return float(overrides[study_id, timepoint])
    if str(timepoint_months).strip() != "":
        try:
            return float(timepoint_months)
        except ValueError:
            raise AlsmetaInputError(
                f"study {study_id!r}, column 'timepoint_months': {timepoint_months!r} is not a number"
            ) from None
    weeks = re.fullmatch(r"(\d+) weeks", str(timepoint))
    return int(weeks.group(1)) * 7 / _DAYS_PER_MONTH if weeks else math.nan


def window_of(months: float) -> str:
    """``<= 4 months``, ``6 months`` (above 4, up to 6) or ``later / not stated``."""
    if math.isnan(months) or months > 6:
        return WINDOWS[2]
    return WINDOWS[0] if months <= 4 else WINDOWS[1]


def _best(statuses: pd.Series) -> str:
    return min(statuses, key=lambda x: _STATUS_RANK.get(x, 9))


def availability_table(
    outcomes: pd.DataFrame,
    qualitative: pd.DataFrame,
    candidates: Mapping[str, str],
    labels: Mapping[str, str],
    overrides: Mapping[tuple[str, str], float] | None = None,
) -> pd.DataFrame:
    """Best evidence per candidate study, outcome (ALSFRS(-R), FVC) and follow-up window.

    Parameters
    ----------
    outcomes, qualitative : pandas.DataFrame
        ``data/outcomes.csv`` and ``data/qualitative.csv`` as read (strings).
    candidates : mapping of str to str
        ``study_id`` -> the group it is a candidate for (e.g. "MSC"), in display order.
    labels : mapping of str to str
        ``study_id`` -> label.
    overrides : mapping of (study_id, timepoint) to months, optional
        Windows known from the report for rows without ``timepoint_months``.

    Returns
    -------
    pandas.DataFrame
        Columns study_id, study, group, outcome, window, status, content, detail.
    """
    need_o = {"study_id", "outcome", "timepoint", "timepoint_months", "statistic", "status"}
    need_q = {"study_id", "outcome", "direction", "statement", "status"}
    for name, frame, need in (("outcomes", outcomes, need_o), ("qualitative", qualitative, need_q)):
        missing = need - set(frame.columns)
        if missing:
            raise AlsmetaInputError(f"{name}: missing column(s) {', '.join(sorted(missing))}")
    rows = []
    for sid, group in candidates.items():
        if sid not in labels:
            raise AlsmetaInputError(f"study {sid!r}, column 'label': no label given")
        mine = outcomes[outcomes.study_id == sid]
        for oname, prefixes in OUTCOMES.items():
            sel = mine[mine.outcome.str.startswith(prefixes) & ~mine.outcome.str.endswith("_baseline")]
            words = qualitative[
                (qualitative.study_id == sid)
                & (qualitative.outcome.str.contains(_WORDS[oname]) | (qualitative.outcome == "clinical"))
            ]
            months = [row_months(sid, r.timepoint, r.timepoint_months, overrides) for r in sel.itertuples()]
            evidence = (sel.status != "not_found") & (
                sel.statistic != "n"
            )  # a sample size alone is no outcome evidence
            for window in WINDOWS:
                in_window = np.array([window_of(m) == window for m in months], dtype=bool)
                cell = sel.loc[in_window]
                found = sel.loc[in_window & evidence.to_numpy()]
                if len(found):
                    status = _best(found.status)
                    best = found[found.status == status]
                    content = "p only" if set(best.statistic) <= _P_ONLY else "numbers"
                    detail = "; ".join(sorted(set(best.outcome + " (" + best.timepoint + ")")))
                elif window == WINDOWS[2] and len(words) and not evidence.any():
                    status = _best(words.status)
                    content = "words only"
                    detail = "; ".join(
                        f"{w.direction}: {w.statement}" for w in words[words.status == status].itertuples()
                    )
                elif len(cell):
                    status, content = "not_found", "not found"
                    detail = "; ".join(sorted(set(cell.outcome + " (" + cell.timepoint + ")")))
                else:
                    status, content, detail = "none", "nothing retrieved", ""
                rows.append(
                    {
                        "study_id": sid,
                        "study": labels[sid],
                        "group": group,
                        "outcome": oname,
                        "window": window,
                        "status": status,
                        "content": content,
                        "detail": detail,
                    }
                )
    return pd.DataFrame(rows)
