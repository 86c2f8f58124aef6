"""Curated evidence: schema, validation and loading of the tables in ``data/``."""

from alsmeta.evidence.validate import DataIssue, check_data, validate_data

__all__ = ["DataIssue", "check_data", "validate_data"]
