"""The common-effect fit beside a random-effects fit.

Forest and drapery plots in the style of R's meta package show the
common-effect (inverse-variance) summary of the same studies next to the
random-effects one, so a reader sees how much the random-effects assumption
moves the answer. :func:`common_effect` is that refit; the plots draw it.
"""

from __future__ import annotations

from alsmeta.models._fitted import require_fit
from alsmeta.models.pooling import PooledResult, pool


def common_effect(fit: PooledResult) -> PooledResult:
    """The common-effect (inverse-variance) fit of the studies of ``fit``.

    Parameters
    ----------
    fit
        Result of :func:`alsmeta.pool`.

    Returns
    -------
    PooledResult
        ``pool(fit.yi, fit.vi, method="CE", level=fit.level, labels=fit.labels)``
        (z test): its estimate, interval, test and weights. A fit with user
        weights keeps them (``weights=fit.user_weights``, as metafor's
        ``rma(method="EE", weights=)``): the estimate is then the same as the
        random-effects one and only its standard error differs.

    References
    ----------
    Borenstein M, Hedges LV, Higgins JPT, Rothstein HR (2010). A basic
    introduction to fixed-effect and random-effects models for meta-analysis.
    Res Synth Methods 1:97-111.
    """
    fit = require_fit(fit, "common_effect", honours_weights=True)
    return pool(fit.yi, fit.vi, method="CE", level=fit.level, labels=fit.labels, weights=fit.user_weights)
