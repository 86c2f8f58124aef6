"""What the public-claims analysis reports: the register table, its Markdown page and the numbers behind its figures.

The verdicts come from :func:`alsmeta.als.public_claims.assess_public_claims`;
this module lays them out in the register's columns
(:data:`alsmeta.als.schema.PUBLIC_CLAIMS_REGISTER`), writes the page readers
see, and defines the regression-to-the-mean curve the trajectory figure draws
(the Petrou 2016 design: 3-month lead-in, 6 months of follow-up, monthly
visits).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from alsmeta.als.public_claims import ClaimVerdict, PublicClaimNulls, rtm_curve
from alsmeta.als.schema import PUBLIC_CLAIMS_REGISTER
from alsmeta.io.reporting import markdown_table
from alsmeta.simulate import design_preset

RTM_DESIGN = "petrou2016"
RTM_DESIGN_TEXT = "petrou2016 preset: 3-month lead-in, 6 months of follow-up, monthly visits (assumed)"
RTM_PRE_SLOPES = (-2.0, -1.5, -1.0)
"""The lead-in slopes (points/month) at which numbers.json reports the regression-to-the-mean expectation."""


def register_table(verdicts: Sequence[ClaimVerdict]) -> pd.DataFrame:
    """One row per claim in the register's columns (validate it with :func:`alsmeta.als.validate.validate_table`)."""
    return pd.DataFrame([v.to_row() for v in verdicts], columns=list(PUBLIC_CLAIMS_REGISTER.column_names))


def verdict_counts(register: pd.DataFrame) -> pd.Series:
    """How many claims got each verdict, verdicts in alphabetical order."""
    return register["verdict"].value_counts().sort_index()


def register_markdown(register: pd.DataFrame, nulls: PublicClaimNulls) -> str:
    """The register as a page: verdict counts, each claim's verdict and reason, key numbers, the assumptions."""
    counts = verdict_counts(register)
    lines = [
        "# What the public claims hold up to",
        "",
        "Claims from patient-information and clinic pages (2024-2025), checked against data/ by "
        "`alsmeta.als.public_claims`. Verdicts: reproduced, overstated (a real source exists but says less), "
        "contradicted, not assessable.",
        "",
        "Verdict counts: " + ", ".join(f"{v} {n}" for v, n in counts.items()),
        "",
        markdown_table(register[["claim_id", "claim", "verdict", "reason"]]),
        "## Key numbers and sources",
        "",
        markdown_table(register[["claim_id", "key_numbers", "sources"]]),
        "## Assumptions of the no-treatment simulations",
        "",
        *[f"- {a}" for a in nulls.assumptions],
        "",
    ]
    return "\n".join(lines)


def regression_to_the_mean(nulls: PublicClaimNulls, *, seed: int) -> pd.DataFrame:
    """Untreated patients' mean post-slope by observed lead-in slope (-3 to 0.5 points/month, step 0.1)."""
    return rtm_curve(
        nulls.history,
        design_preset(RTM_DESIGN),
        np.round(np.arange(-3.0, 0.51, 0.1), 2).tolist(),
        n_studies=800,
        seed=seed,
        half_width=0.2,
    )


def rtm_at_pre_slopes(rtm: pd.DataFrame) -> dict[str, float]:
    """The regression-to-the-mean post-slope at each of :data:`RTM_PRE_SLOPES`, keyed by the pre-slope."""
    at = {
        float(x): float(y) for x, y in zip(rtm["pre_slope"], rtm["post_slope_mean"], strict=True) if x in RTM_PRE_SLOPES
    }
    return {f"{k:g}": v for k, v in sorted(at.items())}


def public_numbers(verdicts: Sequence[ClaimVerdict]) -> dict[str, dict[str, Any]]:
    """Each claim's verdict, reason and key numbers (lifted to the top level of figures/results.json)."""
    return {
        v.claim_id: {
            "verdict": v.verdict,
            "reason": v.reason,
            "key_numbers": dict(v.key_numbers),
            "sources": [dict(r) for r in v.data_rows],
        }
        for v in verdicts
    }
