"""alsmeta: metafor-grade meta-analysis in Python, applied to cell therapy for ALS/MND.

The public interface (see the README and docs/ARCHITECTURE.md): ``pool`` for one meta-analysis,
``pool_many`` for many at once, effect sizes from reported statistics and their conversions,
power and sample size, and the diagnostic and plotting functions built on them.

Every public name is loaded on first use (PEP 562), so ``import alsmeta`` itself loads none of
numpy, scipy, pandas, statsmodels or matplotlib; ``alsmeta.pool`` brings in what pooling needs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__version__ = "0.1.0"

if TYPE_CHECKING:  # the same names, imported eagerly for type checkers and IDEs
    from alsmeta import plots, simulate
    from alsmeta.diagnostics import multiverse
    from alsmeta.diagnostics.bias import (
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
    from alsmeta.diagnostics.multiverse import MultiverseResult, expand_grid, fit_specifications, specification_data
    from alsmeta.diagnostics.sensitivity import (
        BootstrapResult,
        bootstrap,
        cumulative,
        estimator_sweep,
        gosh,
        influence,
        leave_one_out,
        subset_membership,
    )
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
    from alsmeta.effects.escalc import effect_sizes
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
    from alsmeta.effects.proportions import transf_ipft, transf_ipft_hm
    from alsmeta.engine.batch import BatchResult, pool_many
    from alsmeta.engine.estimators import METHODS
    from alsmeta.models.bayes import BayesMetaResult, bayes_meta
    from alsmeta.models.binary_result import BinaryPooledResult
    from alsmeta.models.compare import ModelComparison, compare_models
    from alsmeta.models.henmi_copas import HenmiCopasResult, henmi_copas
    from alsmeta.models.mantel_haenszel import pool_mh
    from alsmeta.models.moderators import (
        MetaRegressionResult,
        PermutationResult,
        SubgroupResult,
        meta_regression,
        permutation_test,
        subgroup_analysis,
        subgroup_analysis_of,
    )
    from alsmeta.models.multilevel import MultilevelResult, pool_multilevel, sampling_covariance
    from alsmeta.models.peto import pool_peto
    from alsmeta.models.pooling import AlsmetaWarning, PooledResult, pool
    from alsmeta.models.predict import Blups, Prediction, RandomEffects, blup, predict, ranef
    from alsmeta.models.robust import RobustResult, robust
    from alsmeta.models.selection import SelectionModelResult, SelectionRegressionResult, selection_model
    from alsmeta.models.tau2_ci import Tau2Interval, tau2_ci
    from alsmeta.planning.power import meta_analysis_power, optimal_information_size, trial_power, trial_sample_size
    from alsmeta.planning.sequential import (
        SequentialBoundaries,
        TrialSequentialResult,
        alpha_spending,
        diversity,
        group_sequential_boundaries,
        trial_sequential_analysis,
    )
    from alsmeta.plots.forest import forest_plot
    from alsmeta.plots.funnel import funnel_plot
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

#: public name -> the module that defines it
_LAZY_NAMES: dict[str, str] = {
    "henmi_copas": "alsmeta.models.henmi_copas",
    "HenmiCopasResult": "alsmeta.models.henmi_copas",
    "tau2_ci": "alsmeta.models.tau2_ci",
    "Tau2Interval": "alsmeta.models.tau2_ci",
    "compare_models": "alsmeta.models.compare",
    "ModelComparison": "alsmeta.models.compare",
    "AlsmetaInputError": "alsmeta.validation",
    "AlsmetaWarning": "alsmeta.models.pooling",
    "BatchResult": "alsmeta.engine.batch",
    "BayesMetaResult": "alsmeta.models.bayes",
    "BeggResult": "alsmeta.diagnostics.bias",
    "BinaryPooledResult": "alsmeta.models.binary_result",
    "Blups": "alsmeta.models.predict",
    "BootstrapResult": "alsmeta.diagnostics.sensitivity",
    "CombinedGroups": "alsmeta.effects.conversions",
    "EffectSizes": "alsmeta.effects.measures",
    "EggerResult": "alsmeta.diagnostics.bias",
    "FailSafeResult": "alsmeta.diagnostics.bias",
    "METHODS": "alsmeta.engine.estimators",
    "MeanSDEstimate": "alsmeta.effects.conversions",
    "MetaRegressionResult": "alsmeta.models.moderators",
    "MetaSimulationResult": "alsmeta.simulate",
    "MultilevelResult": "alsmeta.models.multilevel",
    "MultiverseResult": "alsmeta.diagnostics.multiverse",
    "NaturalHistory": "alsmeta.simulate",
    "PermutationResult": "alsmeta.models.moderators",
    "PetPeeseResult": "alsmeta.diagnostics.bias",
    "PooledResult": "alsmeta.models.pooling",
    "Prediction": "alsmeta.models.predict",
    "RandomEffects": "alsmeta.models.predict",
    "RobustResult": "alsmeta.models.robust",
    "SEFromP": "alsmeta.effects.conversions",
    "SelectionModelResult": "alsmeta.models.selection",
    "SelectionRegressionResult": "alsmeta.models.selection",
    "SequentialBoundaries": "alsmeta.planning.sequential",
    "SimulationResult": "alsmeta.simulate",
    "SubgroupResult": "alsmeta.models.moderators",
    "TrialDesign": "alsmeta.simulate",
    "TrialSequentialResult": "alsmeta.planning.sequential",
    "TrimFillResult": "alsmeta.diagnostics.bias",
    "alpha_spending": "alsmeta.planning.sequential",
    "bayes_meta": "alsmeta.models.bayes",
    "blup": "alsmeta.models.predict",
    "begg_test": "alsmeta.diagnostics.bias",
    "bootstrap": "alsmeta.diagnostics.sensitivity",
    "combine_groups": "alsmeta.effects.conversions",
    "correlation_from_sds": "alsmeta.effects.conversions",
    "cumulative": "alsmeta.diagnostics.sensitivity",
    "design_preset": "alsmeta.simulate",
    "diversity": "alsmeta.planning.sequential",
    "effect_sizes": "alsmeta.effects.escalc",
    "egger_test": "alsmeta.diagnostics.bias",
    "estimator_sweep": "alsmeta.diagnostics.sensitivity",
    "expand_grid": "alsmeta.diagnostics.multiverse",
    "fail_safe_n": "alsmeta.diagnostics.bias",
    "fit_specifications": "alsmeta.diagnostics.multiverse",
    "forest_plot": "alsmeta.plots.forest",
    "funnel_plot": "alsmeta.plots.funnel",
    "gosh": "alsmeta.diagnostics.sensitivity",
    "group_sequential_boundaries": "alsmeta.planning.sequential",
    "hedges_correction": "alsmeta.effects.measures",
    "influence": "alsmeta.diagnostics.sensitivity",
    "leave_one_out": "alsmeta.diagnostics.sensitivity",
    "log_odds_ratio": "alsmeta.effects.measures",
    "log_ratio_of_means": "alsmeta.effects.measures",
    "log_risk_ratio": "alsmeta.effects.measures",
    "mean_change": "alsmeta.effects.measures",
    "mean_difference": "alsmeta.effects.measures",
    "mean_sd_from_median": "alsmeta.effects.conversions",
    "meta_analysis_power": "alsmeta.planning.power",
    "meta_regression": "alsmeta.models.moderators",
    "optimal_information_size": "alsmeta.planning.power",
    "parse_p_value": "alsmeta.effects.conversions",
    "permutation_test": "alsmeta.models.moderators",
    "pet_peese": "alsmeta.diagnostics.bias",
    "pool": "alsmeta.models.pooling",
    "pool_many": "alsmeta.engine.batch",
    "pool_mh": "alsmeta.models.mantel_haenszel",
    "pool_multilevel": "alsmeta.models.multilevel",
    "pool_peto": "alsmeta.models.peto",
    "predict": "alsmeta.models.predict",
    "ranef": "alsmeta.models.predict",
    "risk_difference": "alsmeta.effects.measures",
    "robust": "alsmeta.models.robust",
    "sampling_covariance": "alsmeta.models.multilevel",
    "sd_change_from_sds": "alsmeta.effects.conversions",
    "sd_from_se": "alsmeta.effects.conversions",
    "se_from_ci": "alsmeta.effects.conversions",
    "se_from_p": "alsmeta.effects.conversions",
    "selection_model": "alsmeta.models.selection",
    "simulate_meta_analyses": "alsmeta.simulate",
    "simulate_trials": "alsmeta.simulate",
    "slope_change": "alsmeta.effects.measures",
    "specification_data": "alsmeta.diagnostics.multiverse",
    "standardized_mean_change": "alsmeta.effects.measures",
    "standardized_mean_difference": "alsmeta.effects.measures",
    "subgroup_analysis": "alsmeta.models.moderators",
    "subgroup_analysis_of": "alsmeta.models.moderators",
    "subset_membership": "alsmeta.diagnostics.sensitivity",
    "trial_power": "alsmeta.planning.power",
    "trial_sample_size": "alsmeta.planning.power",
    "trial_sequential_analysis": "alsmeta.planning.sequential",
    "transf_ipft": "alsmeta.effects.proportions",
    "transf_ipft_hm": "alsmeta.effects.proportions",
    "trim_and_fill": "alsmeta.diagnostics.bias",
}

#: public submodules reachable as attributes (``alsmeta.plots``, ``alsmeta.multiverse``)
_LAZY_MODULES: dict[str, str] = {
    "multiverse": "alsmeta.diagnostics.multiverse",
    "plots": "alsmeta.plots",
    "simulate": "alsmeta.simulate",
}

__all__ = sorted([*_LAZY_NAMES, *_LAZY_MODULES, "__version__"])


def __getattr__(name: str) -> object:
    """Import a public name's module on first access and cache the name in this module."""
    if name in _LAZY_NAMES:
        value = getattr(importlib.import_module(_LAZY_NAMES[name]), name)
    elif name in _LAZY_MODULES:
        value = importlib.import_module(_LAZY_MODULES[name])
    else:
        raise AttributeError(f"module 'alsmeta' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY_NAMES, *_LAZY_MODULES])
