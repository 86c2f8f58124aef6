"""Diagnostics of fitted models: small-study effects and publication bias, leave-one-out,
influence, cumulative and GOSH analyses, bootstrap, estimator sweeps, and multiverse analyses.

Every diagnostic takes a fitted result (or arrays it validates the same way) and refits
through :mod:`alsmeta.engine`; none has an estimator of its own.
"""
