"""User-facing models and their result objects.

``pool`` (random- and common-effect models), meta-regression and subgroup analysis, the
Bayesian normal-normal model, selection models, the three-level model for dependent effects,
cluster-robust inference, and Mantel-Haenszel / Peto pooling of 2x2 tables. Each fits through
:mod:`alsmeta.engine` (or, for the likelihood-based models, its own documented optimiser) and
returns a frozen result object.
"""
