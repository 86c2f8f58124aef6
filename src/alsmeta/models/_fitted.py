"""Helpers shared by the diagnostic modules (bias, sensitivity, moderators)."""

from __future__ import annotations

import warnings
from typing import Any

from alsmeta.models.pooling import PooledResult
from alsmeta.validation import AlsmetaInputError

#: Sterne et al. (2011, BMJ 343:d4002): tests for funnel-plot asymmetry only with at least 10 studies.
MIN_STUDIES_ASYMMETRY = 10


def require_fit(fit: Any, what: str, *, honours_weights: bool = False) -> PooledResult:
    """Check that ``fit`` is a :class:`PooledResult` (the input of every diagnostic).

    A fit with user weights (``pool(weights=)``, including ``method="GENQ"``)
    is refused (:func:`refuse_user_weights`) unless the caller declares that
    it uses them (``honours_weights=True``), so that no diagnostic silently
    falls back to inverse-variance weights.
    """
    if not isinstance(fit, PooledResult):
        raise AlsmetaInputError(
            f"{what}: expected the result of alsmeta.pool(...) (a PooledResult), got {type(fit).__name__}"
        )
    if not honours_weights:
        refuse_user_weights(fit, what)
    return fit


def refuse_user_weights(fit: Any, what: str, why: str = "") -> None:
    """Raise :class:`AlsmetaInputError` naming ``fit`` when the fit has user weights.

    For the functions that would otherwise use inverse-variance weights and so
    silently drop the weights given to ``pool(weights=)`` or
    ``meta_regression(weights=)``. ``why`` adds the method-specific reason.
    """
    if getattr(fit, "user_weights", None) is not None:
        reason = why or "it weights the studies by inverse variance and would silently drop the user weights"
        raise AlsmetaInputError(
            f"fit: {what}() does not support a fit with user weights (weights=, method={fit.method!r}): "
            f"{reason}; refit without weights= to use it"
        )


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
