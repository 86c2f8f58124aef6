"""Effect sizes (metafor's measure codes) and conversions from reported statistics.

:mod:`~alsmeta.effects.measures` computes effect sizes and sampling variances from summary
statistics; :mod:`~alsmeta.effects.conversions` recovers those statistics from what papers
report (medians and ranges, confidence intervals, p-values, combined groups);
:mod:`~alsmeta.effects.two_by_two` validates 2x2 tables and applies the zero-cell rules.
:func:`~alsmeta.effects.escalc.effect_sizes` is metafor's ``escalc``: every measure code
under metafor's argument names, computed by the modules of one family each
(:mod:`~alsmeta.effects.table_effects`, :mod:`~alsmeta.effects.proportions`,
:mod:`~alsmeta.effects.rates`, :mod:`~alsmeta.effects.correlations`,
:mod:`~alsmeta.effects.variability`, :mod:`~alsmeta.effects.single_means`,
:mod:`~alsmeta.effects.smdh`) with metafor's continuity corrections
(:mod:`~alsmeta.effects.zero_cells`).
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
from alsmeta.effects.correlations import correlation_effects
from alsmeta.effects.escalc import MEASURES, effect_sizes
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
from alsmeta.effects.proportions import proportion_effects, transf_ipft, transf_ipft_hm
from alsmeta.effects.rates import incidence_rate, incidence_rate_comparison
from alsmeta.effects.single_means import single_group_mean
from alsmeta.effects.smdh import smd_heteroscedastic
from alsmeta.effects.table_effects import table_effects
from alsmeta.effects.variability import variability_ratio

__all__ = [
    "MEASURES",
    "CombinedGroups",
    "EffectSizes",
    "MeanSDEstimate",
    "SEFromP",
    "combine_groups",
    "correlation_effects",
    "correlation_from_sds",
    "effect_sizes",
    "hedges_correction",
    "incidence_rate",
    "incidence_rate_comparison",
    "log_odds_ratio",
    "log_ratio_of_means",
    "log_risk_ratio",
    "mean_change",
    "mean_difference",
    "mean_sd_from_median",
    "parse_p_value",
    "proportion_effects",
    "risk_difference",
    "sd_change_from_sds",
    "sd_from_se",
    "se_from_ci",
    "se_from_p",
    "single_group_mean",
    "slope_change",
    "smd_heteroscedastic",
    "standardized_mean_change",
    "standardized_mean_difference",
    "table_effects",
    "transf_ipft",
    "transf_ipft_hm",
    "variability_ratio",
]
