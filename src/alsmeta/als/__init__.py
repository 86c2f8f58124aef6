"""Curated evidence: schema, validation and loading of the tables in ``data/``, and verdicts on public claims."""

from alsmeta.als.public_claims import PUBLIC_CLAIM_IDS, ClaimVerdict, assess_public_claims, simulate_public_claim_nulls
from alsmeta.als.validate import DataIssue, check_data, validate_data

__all__ = [
    "PUBLIC_CLAIM_IDS",
    "ClaimVerdict",
    "DataIssue",
    "assess_public_claims",
    "check_data",
    "simulate_public_claim_nulls",
    "validate_data",
]
