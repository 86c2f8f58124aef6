"""The estimation engine: the one place where tau^2, weights and pooled estimates are computed.

Every fit in alsmeta - one meta-analysis or millions, intercept-only or with moderators - runs
through these modules:

* :mod:`~alsmeta.engine.estimators` - the tau^2 estimators, vectorised over rows of ``(B, k)`` arrays;
* :mod:`~alsmeta.engine.heterogeneity` - Q, I^2, H^2 and the Q-profile intervals;
* :mod:`~alsmeta.engine.batch` - :func:`pool_many`, the batched intercept-only fit;
* :mod:`~alsmeta.engine.regression` - the batched fit with a design matrix (meta-regression);
* :mod:`~alsmeta.engine.rowmath`, :mod:`~alsmeta.engine.roots` - fixed-order row sums and
  vectorised bracketing root finding shared by the above;
* :mod:`~alsmeta.engine.single` - one intercept-only fit on Python floats (the fast path of
  :func:`alsmeta.pool`), bit for bit the batched result;
* :mod:`~alsmeta.engine.distributions` - normal, t and chi^2 tails and quantiles from scipy.special.
"""
