"""Valuation: probabilistic customer-base models, spend models, CLV, value and model checking.

Laid out by concern:

- :mod:`clvkit.valuation.models` - engines (frozen configurations with ``fit(summary)``), the immutable
  fitted models they return (versioned JSON) and the pure numpy kernels behind them;
- :mod:`clvkit.valuation.value` - discounted CLV and equity, direct + indirect value, referrals;
- :mod:`clvkit.valuation.checking` - holdout, tracking, fit histogram, model selection, uncertainty, regularity;
- :mod:`clvkit.valuation.protocols` - the roles the parts play for each other (``TransactionModel``,
  ``SpendModel``, ``ContractModel``, ``ValueEngine``, ...).
"""

import sys as _sys

from . import checking as checking
from . import models as models
from . import protocols as protocols
from . import value as value
from ._registry import MODELS, register_model
from .checking import (
    BootstrapResult,
    ConditionalExpectations,
    CountModel,
    FrequencyHistogram,
    HoldoutEvaluation,
    InformationCriteria,
    LikelihoodRatioTest,
    ModelComparison,
    ModelScore,
    ParameterIntervals,
    PredictionIntervals,
    Recommendation,
    RegularityEstimate,
    RegularityResult,
    TrackingResult,
    clv_intervals,
    compare,
    conditional_expectations,
    format_recommendation,
    frequency_histogram,
    holdout_evaluation,
    information_criteria,
    likelihood_ratio_test,
    parameter_intervals,
    parametric_bootstrap,
    prediction_intervals,
    recommend,
    regularity,
    sample_parameters,
    tracking,
)
from .models import (
    CNBD,
    BetaGeo,
    BetaGeoBetaBinom,
    BetaGeoBetaBinomParams,
    BetaGeoCNBD,
    BetaGeoCNBDParams,
    BetaGeoParams,
    CNBDParams,
    Engine,
    FitInfo,
    FitProgress,
    FittedBetaGeo,
    FittedBetaGeoBetaBinom,
    FittedBetaGeoCNBD,
    FittedCNBD,
    FittedGammaGamma,
    FittedGammaGompertzNBD,
    FittedModel,
    FittedModifiedBetaGeo,
    FittedModifiedBetaGeoCNBD,
    FittedParetoNBD,
    FittedShiftedBetaGeo,
    GammaGamma,
    GammaGammaParams,
    GammaGompertzNBD,
    GammaGompertzNBDParams,
    ModifiedBetaGeo,
    ModifiedBetaGeoCNBD,
    ModifiedBetaGeoCNBDParams,
    ModifiedBetaGeoParams,
    ParetoNBD,
    ParetoNBDParams,
    ShiftedBetaGeo,
    ShiftedBetaGeoParams,
)
from .protocols import IndirectValueSource, SpendModel, TransactionModel, ValueEngine, engine_values, load_engine
from .value import (
    ACQUISITION_COST_MULTIPLE,
    ACQUISITION_COST_MULTIPLE_RANGE,
    AttributionRule,
    ClvResult,
    CompositeResult,
    CompositeValue,
    CustomerDeliveredValue,
    DeliveredValueBatch,
    DirectValue,
    DirectValueResult,
    EquitySplit,
    InfluencerReport,
    InfluencerRule,
    ReferralAttribution,
    ReferralGraph,
    WordOfMouth,
    WordOfMouthPrior,
    clv,
    discounted_lifetime,
    estimate_acquisition_cost,
    format_value_table,
    influencers,
    new_customer_value,
    read_referrals,
    synthetic_referrals,
)

# The module paths of clvkit 0.1 (one flat folder) keep importing for one release, as aliases of the
# modules' new homes: ``from clvkit.valuation.beta_geo import BetaGeo`` still works. New code should import
# from ``clvkit.valuation`` (or the subpackages).
_MOVED = {
    "beta_geo": "models.beta_geo",
    "beta_geo_beta_binom": "models.beta_geo_beta_binom",
    "gamma_gamma": "models.gamma_gamma",
    "modified_beta_geo": "models.modified_beta_geo",
    "pareto_nbd": "models.pareto_nbd",
    "shifted_beta_geo": "models.shifted_beta_geo",
    "clv": "value.clv",
    "composite": "value.composite",
    "delivered_value": "value.delivered_value",
    "direct": "value.direct",
    "referral": "value.referral",
    "word_of_mouth": "value.word_of_mouth",
    "diagnostics": "checking",
    "uncertainty": "checking",
}
for _old, _new in _MOVED.items():
    _sys.modules.setdefault(f"{__name__}.{_old}", _sys.modules[f"{__name__}.{_new}"])
del _old, _new

__all__ = [
    "ACQUISITION_COST_MULTIPLE", "ACQUISITION_COST_MULTIPLE_RANGE", "MODELS",
    "AttributionRule", "BetaGeo", "BetaGeoBetaBinom", "BetaGeoBetaBinomParams", "BetaGeoParams", "BootstrapResult",
    "ClvResult", "CompositeResult", "CompositeValue", "ConditionalExpectations", "CountModel",
    "CustomerDeliveredValue", "DeliveredValueBatch", "DirectValue", "DirectValueResult", "Engine", "EquitySplit",
    "FitInfo", "FitProgress", "FittedBetaGeo", "FittedBetaGeoBetaBinom", "FittedGammaGamma", "FittedGammaGompertzNBD",
    "FittedModel",
    "FittedModifiedBetaGeo", "FittedParetoNBD", "FittedShiftedBetaGeo", "FrequencyHistogram", "GammaGamma",
    "GammaGammaParams", "GammaGompertzNBD", "GammaGompertzNBDParams", "HoldoutEvaluation", "IndirectValueSource",
    "InfluencerReport", "InfluencerRule", "InformationCriteria", "LikelihoodRatioTest", "ModelComparison",
    "ModelScore", "ModifiedBetaGeo", "ModifiedBetaGeoParams", "ParameterIntervals", "ParetoNBD", "ParetoNBDParams",
    "PredictionIntervals", "Recommendation", "ReferralAttribution", "ReferralGraph", "RegularityEstimate",
    "RegularityResult", "ShiftedBetaGeo", "ShiftedBetaGeoParams", "SpendModel", "TrackingResult", "TransactionModel",
    "ValueEngine", "WordOfMouth", "WordOfMouthPrior", "clv", "clv_intervals", "compare", "conditional_expectations",
    "discounted_lifetime", "engine_values", "estimate_acquisition_cost",
    "format_recommendation", "format_value_table", "frequency_histogram", "holdout_evaluation",
    "influencers", "information_criteria", "likelihood_ratio_test", "load_engine", "new_customer_value",
    "parameter_intervals", "parametric_bootstrap", "prediction_intervals", "read_referrals", "recommend",
    "register_model", "regularity", "sample_parameters",
    "synthetic_referrals", "tracking",
]
# The CNBD-k family (issue 14), on a line of its own so the models of that issue merge cleanly.
__all__ += ["CNBD", "BetaGeoCNBD", "BetaGeoCNBDParams", "CNBDParams", "FittedBetaGeoCNBD", "FittedCNBD",
            "FittedModifiedBetaGeoCNBD", "ModifiedBetaGeoCNBD", "ModifiedBetaGeoCNBDParams"]
