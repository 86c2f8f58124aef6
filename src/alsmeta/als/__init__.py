"""The ALS evidence layer: the curated data, cohorts, claims and the reproduction report."""
