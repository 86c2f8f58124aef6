"""Helpers shared by the diagnostic modules (bias, sensitivity, moderators)."""

from __future__ import annotations

import warnings
from typing import Any

from alsmeta.models.pooling import PooledResult
from alsmeta.validation import AlsmetaInputError

#: Sterne et al. (2011, BMJ 343:d4002): tests for funnel-plot asymmetry only with at least 10 studies.
MIN_STUDIES_ASYMMETRY = 10


def require_fit(fit: Any, what: str) -> PooledResult:
    """Check that ``fit`` is a :class:`PooledResult` (the input of every diagnostic)."""
    if not isinstance(fit, PooledResult):
        raise AlsmetaInputError(
            f"{what}: expected the result of alsmeta.pool(...) (a PooledResult), got {type(fit).__name__}"
        )
    return fit


def fixed_tau2(fit: PooledResult) -> float | None:
    """The user-fixed tau^2 of a fit, or None when it was estimated."""
    return float(fit.tau2) if fit.tau2_fixed else None


def few_studies_note(k: int, what: str, minimum: int = MIN_STUDIES_ASYMMETRY) -> str | None:
    """A plain-language note when ``k`` is below the number a method needs to be meaningful."""
    if k < minimum:
        return (
            f"{what} with {k} stud{'y' if k == 1 else 'ies'}: fewer than {minimum}, so the test has little power "
            "and cannot distinguish chance from small-study effects (Sterne et al. 2011); treat it as not meaningful."
        )
    return None


def quiet(func: Any, *args: Any, **kwargs: Any) -> Any:
    """Call ``func`` with alsmeta's warnings about edge cases silenced (the caller reports them)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return func(*args, **kwargs)
