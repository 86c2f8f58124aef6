"""Effect sizes (metafor's measure codes) and conversions from reported statistics.

:mod:`~alsmeta.effects.measures` computes effect sizes and sampling variances from summary
statistics; :mod:`~alsmeta.effects.conversions` recovers those statistics from what papers
report (medians and ranges, confidence intervals, p-values, combined groups);
:mod:`~alsmeta.effects.two_by_two` validates 2x2 tables and applies the zero-cell rules.
"""

from alsmeta.effects.conversions import (
    CombinedGroups,
    MeanSDEstimate,
    SEFromP,
    combine_groups,
    correlation_from_sds,
    mean_sd_from_median,
    parse_p_value,
    sd_change_from_sds,
    sd_from_se,
    se_from_ci,
    se_from_p,
)
from alsmeta.effects.measures import (
    EffectSizes,
    hedges_correction,
    log_odds_ratio,
    log_ratio_of_means,
    log_risk_ratio,
    mean_change,
    mean_difference,
    risk_difference,
    slope_change,
    standardized_mean_change,
    standardized_mean_difference,
)

__all__ = [
    "CombinedGroups",
    "EffectSizes",
    "MeanSDEstimate",
    "SEFromP",
    "combine_groups",
    "correlation_from_sds",
    "hedges_correction",
    "log_odds_ratio",
    "log_ratio_of_means",
    "log_risk_ratio",
    "mean_change",
    "mean_difference",
    "mean_sd_from_median",
    "parse_p_value",
    "risk_difference",
    "sd_change_from_sds",
    "sd_from_se",
    "se_from_ci",
    "se_from_p",
    "slope_change",
    "standardized_mean_change",
    "standardized_mean_difference",
]
