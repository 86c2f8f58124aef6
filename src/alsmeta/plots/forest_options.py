"""What a forest plot shows and how: :class:`ForestOptions`.

:func:`alsmeta.plots.forest_plot` takes the data (a fit, its subgroups, extra
columns) as arguments and everything else as one :class:`ForestOptions`;
its keyword arguments of the same names are shortcuts
(``forest_plot(fit, log_scale=True)`` is
``forest_plot(fit, ForestOptions(log_scale=True))``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

from alsmeta.plots.style import FONT_SIZE
from alsmeta.validation import AlsmetaInputError

EMPTY_MESSAGE = "No study met the inclusion criteria for this analysis (k = 0)."
SORT_KEYS = ("estimate", "se", "weight", "label")


@dataclass(frozen=True)
class ForestOptions:
    """Options of :func:`alsmeta.plots.forest_plot`, grouped by what they control.

    Rows
        ``sort_by`` orders studies (within subgroups) by ``"estimate"``,
        ``"se"``, ``"weight"`` or ``"label"`` (default: the order of the
        data), ``descending`` reverses it.
    Summaries
        ``common``: also draw the common-effect (inverse-variance) diamond and
        weights when the fit is a random-effects model
        (:func:`alsmeta.diagnostics.common_effect.common_effect`).
        ``prediction``: draw the prediction interval of a random-effects model
        (k >= 3). ``overall``: with subgroups, also draw the overall summary.
        ``weights``: show the percentage weight column(s). ``subtotal_test``:
        name each subtotal by the analysis its diamond and interval come from,
        ``Subtotal, REML + HKSJ (t, 1 df)``, instead of ``Subtotal (k = 2)``.
        ``subgroup_test``: with subgroups, print the test for subgroup
        differences in the footer (False when the subgroups are not
        comparable groups, e.g. different designs or follow-ups).
    Effect axis
        ``log_scale``: the effects are logs of ratios (log RR, OR, HR); the
        axis and the text columns show back-transformed ratios, and ``xlim``
        and ``reference`` are given as ratios. ``effect_label``: name of the
        effect measure, e.g. ``"Risk ratio"`` (default ``"Estimate"``, or
        ``"Ratio"`` on the log scale). ``xlabel``: axis title (default:
        ``effect_label``, plus "(log scale)"). ``reference``,
        ``show_reference``: the line of no effect (default 0, or ratio 1).
        ``favours``: ``("Favours treatment", "Favours control")`` written
        below the axis on each side of the reference line. ``xlim``: axis
        limits; CIs beyond them end in an arrow.
    Text
        ``digits``: decimals of the text columns (0..6). ``title`` above and
        ``notes`` (extra footnote lines) below. ``empty_message``: the
        statement drawn when ``fit.k == 0``.
    Size
        ``panel_width``, ``row_height``: width of the plot panel and height
        of one row, in inches (the figure grows with the number of rows).
        ``font_size``: body text in points (at least 7); footnotes are one
        point smaller, never below 7. The figure is at most 183 mm wide:
        footnotes and the title wrap, and the panel narrows if needed.
    """

    sort_by: str | None = None
    descending: bool = False
    common: bool = False
    prediction: bool = True
    overall: bool = True
    weights: bool = True
    subtotal_test: bool = False
    subgroup_test: bool = True
    log_scale: bool = False
    effect_label: str | None = None
    xlabel: str | None = None
    reference: float | None = None
    show_reference: bool = True
    favours: tuple[str, str] | None = None
    xlim: tuple[float, float] | None = None
    digits: int = 2
    title: str | None = None
    notes: Sequence[str] = ()
    empty_message: str = EMPTY_MESSAGE
    panel_width: float = 2.8
    row_height: float = 0.2
    font_size: float = FONT_SIZE

    def __post_init__(self) -> None:
        if self.sort_by is not None and self.sort_by not in SORT_KEYS:
            raise AlsmetaInputError(f"sort_by: {self.sort_by!r} is not one of {', '.join(SORT_KEYS)}")
        if self.digits < 0 or self.digits > 6:
            raise AlsmetaInputError(f"digits: {self.digits} is outside 0..6")

    @property
    def effect_name(self) -> str:
        """``effect_label``, or its default (``"Ratio"`` on the log scale, else ``"Estimate"``)."""
        return self.effect_label or ("Ratio" if self.log_scale else "Estimate")

    @property
    def axis_title(self) -> str:
        """``xlabel``, or the effect name with "(log scale)" on the log scale."""
        if self.xlabel is not None:
            return self.xlabel
        return self.effect_name + (" (log scale)" if self.log_scale else "")


def forest_options(options: ForestOptions | None, values: dict[str, Any]) -> ForestOptions:
    """``options`` (default :class:`ForestOptions()`) with the keyword shortcuts in ``values`` applied."""
    base = ForestOptions() if options is None else options
    if not isinstance(base, ForestOptions):
        raise AlsmetaInputError(f"options: expected a ForestOptions, got {type(base).__name__}")
    unknown = sorted(set(values) - {f.name for f in fields(ForestOptions)})
    if unknown:
        raise TypeError(
            f"forest_plot() got unexpected keyword argument(s) {', '.join(unknown)}; "
            "the options are the fields of alsmeta.plots.ForestOptions"
        )
    return replace(base, **values)
