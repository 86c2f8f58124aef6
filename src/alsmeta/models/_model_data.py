"""The data and specification of a fitted pool or meta-regression, in one shape for the methods that take either."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from alsmeta.models.moderators import MetaRegressionResult
from alsmeta.models.pooling import PooledResult
from alsmeta.validation import AlsmetaInputError

Array = npt.NDArray[np.float64]


@dataclass(frozen=True)
class ModelData:
    """``yi``, ``vi``, design ``X`` (a column of ones for pool fits), method, tau^2 and user weights of a fit."""

    yi: Array
    vi: Array
    X: Array
    method: str
    tau2: float
    tau2_fixed: bool
    qe: float
    level: float
    user_weights: Array | None
    fit: Any


def model_data(fit: Any, name: str = "fit") -> ModelData:
    """:class:`ModelData` of a :class:`PooledResult` or :class:`MetaRegressionResult`.

    Raises
    ------
    AlsmetaInputError
        Naming ``name`` when ``fit`` is neither, or has no studies.
    """
    if isinstance(fit, PooledResult):
        if fit.k == 0:
            raise AlsmetaInputError(f"{name}: the fit has no studies (k = 0)")
        return ModelData(
            fit.yi,
            fit.vi,
            np.ones((fit.k, 1)),
            fit.method,
            fit.tau2,
            fit.tau2_fixed,
            fit.q,
            fit.level,
            fit.user_weights,
            fit,
        )
    if isinstance(fit, MetaRegressionResult):
        return ModelData(
            fit.yi, fit.vi, fit.X, fit.method, fit.tau2, fit.tau2_fixed, fit.qe, fit.level, fit.user_weights, fit
        )
    raise AlsmetaInputError(
        f"{name}: expected the result of alsmeta.pool or alsmeta.meta_regression, got {type(fit).__name__}"
    )
