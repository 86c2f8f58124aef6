"""alsmeta: metafor-grade meta-analysis in Python, applied to cell therapy for ALS/MND.

The public interface (see the README): ``pool`` for one meta-analysis,
``pool_many`` for many at once, effect sizes from reported statistics and
their conversions, power and sample size, and the diagnostic and plotting
functions built on them.
"""

from alsmeta.batch import BatchResult, pool_many
from alsmeta.conversions import (
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
from alsmeta.effects import (
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
from alsmeta.estimators import METHODS
from alsmeta.pooling import AlsmetaWarning, PooledResult, pool
from alsmeta.power import meta_analysis_power, optimal_information_size, trial_power, trial_sample_size
from alsmeta.validation import AlsmetaInputError

__version__ = "0.1.0"

__all__ = [
    "METHODS",
    "AlsmetaInputError",
    "AlsmetaWarning",
    "BatchResult",
    "CombinedGroups",
    "EffectSizes",
    "MeanSDEstimate",
    "PooledResult",
    "SEFromP",
    "__version__",
    "combine_groups",
    "correlation_from_sds",
    "hedges_correction",
    "log_odds_ratio",
    "log_ratio_of_means",
    "log_risk_ratio",
    "mean_change",
    "mean_difference",
    "mean_sd_from_median",
    "meta_analysis_power",
    "optimal_information_size",
    "parse_p_value",
    "pool",
    "pool_many",
    "risk_difference",
    "sd_change_from_sds",
    "sd_from_se",
    "se_from_ci",
    "se_from_p",
    "slope_change",
    "standardized_mean_change",
    "standardized_mean_difference",
    "trial_power",
    "trial_sample_size",
]
