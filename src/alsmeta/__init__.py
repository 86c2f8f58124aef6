"""alsmeta: metafor-grade meta-analysis in Python, applied to cell therapy for ALS/MND.

The public interface (see the README): ``pool`` for one meta-analysis,
``pool_many`` for many at once, effect sizes from reported statistics and
their conversions, power and sample size, and the diagnostic and plotting
functions built on them.
"""

from alsmeta import multiverse, simulate
from alsmeta.batch import BatchResult, pool_many
from alsmeta.bayes import BayesMetaResult, bayes_meta
from alsmeta.binary_result import BinaryPooledResult
from alsmeta.bias import (
    BeggResult,
    EggerResult,
    FailSafeResult,
    PetPeeseResult,
    TrimFillResult,
    begg_test,
    egger_test,
    fail_safe_n,
    pet_peese,
    trim_and_fill,
)
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
from alsmeta.mantel_haenszel import pool_mh
from alsmeta.moderators import (
    MetaRegressionResult,
    PermutationResult,
    SubgroupResult,
    meta_regression,
    permutation_test,
    subgroup_analysis,
)
from alsmeta.multilevel import MultilevelResult, pool_multilevel, sampling_covariance
from alsmeta.multiverse import (
    MultiverseResult,
    expand_grid,
    fit_specifications,
    specification_data,
)
from alsmeta.peto import pool_peto
from alsmeta.pooling import AlsmetaWarning, PooledResult, pool
from alsmeta.power import (
    meta_analysis_power,
    optimal_information_size,
    trial_power,
    trial_sample_size,
)
from alsmeta.robust import RobustResult, robust
from alsmeta.selection import SelectionModelResult, selection_model
from alsmeta.sensitivity import (
    BootstrapResult,
    bootstrap,
    cumulative,
    estimator_sweep,
    gosh,
    influence,
    leave_one_out,
    subset_membership,
)
from alsmeta.sequential import (
    SequentialBoundaries,
    TrialSequentialResult,
    alpha_spending,
    diversity,
    group_sequential_boundaries,
    trial_sequential_analysis,
)
from alsmeta.simulate import (
    MetaSimulationResult,
    NaturalHistory,
    SimulationResult,
    TrialDesign,
    design_preset,
    simulate_meta_analyses,
    simulate_trials,
)
from alsmeta.validation import AlsmetaInputError

__version__ = "0.1.0"

__all__ = [
    "AlsmetaInputError",
    "AlsmetaWarning",
    "BatchResult",
    "BayesMetaResult",
    "BeggResult",
    "BinaryPooledResult",
    "BootstrapResult",
    "CombinedGroups",
    "EffectSizes",
    "EggerResult",
    "FailSafeResult",
    "MeanSDEstimate",
    "MetaRegressionResult",
    "MetaSimulationResult",
    "METHODS",
    "MultilevelResult",
    "MultiverseResult",
    "NaturalHistory",
    "PermutationResult",
    "PetPeeseResult",
    "PooledResult",
    "RobustResult",
    "SEFromP",
    "SelectionModelResult",
    "SequentialBoundaries",
    "SimulationResult",
    "SubgroupResult",
    "TrialDesign",
    "TrialSequentialResult",
    "TrimFillResult",
    "__version__",
    "alpha_spending",
    "bayes_meta",
    "begg_test",
    "bootstrap",
    "combine_groups",
    "correlation_from_sds",
    "cumulative",
    "design_preset",
    "diversity",
    "egger_test",
    "estimator_sweep",
    "expand_grid",
    "fail_safe_n",
    "fit_specifications",
    "gosh",
    "group_sequential_boundaries",
    "hedges_correction",
    "influence",
    "leave_one_out",
    "log_odds_ratio",
    "log_ratio_of_means",
    "log_risk_ratio",
    "mean_change",
    "mean_difference",
    "mean_sd_from_median",
    "meta_analysis_power",
    "meta_regression",
    "multiverse",
    "optimal_information_size",
    "parse_p_value",
    "permutation_test",
    "pet_peese",
    "plots",
    "pool",
    "pool_many",
    "pool_mh",
    "pool_peto",
    "pool_multilevel",
    "risk_difference",
    "robust",
    "sampling_covariance",
    "sd_change_from_sds",
    "sd_from_se",
    "se_from_ci",
    "se_from_p",
    "selection_model",
    "simulate",
    "simulate_meta_analyses",
    "simulate_trials",
    "slope_change",
    "specification_data",
    "standardized_mean_change",
    "standardized_mean_difference",
    "subgroup_analysis",
    "subset_membership",
    "trial_power",
    "trial_sample_size",
    "trial_sequential_analysis",
    "trim_and_fill",
]


def __getattr__(name: str) -> object:
    """``alsmeta.plots`` is imported on first use, so that ``import alsmeta`` does not load matplotlib."""
    if name == "plots":
        import importlib

        return importlib.import_module("alsmeta.plots")
    raise AttributeError(f"module 'alsmeta' has no attribute {name!r}")
