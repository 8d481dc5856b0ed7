"""Valuation engines: probabilistic customer-base models, spend models and CLV.

Engines are frozen configurations with a ``fit(summary)`` method returning an immutable fitted model;
fitted models predict vectorised over a :class:`~clvkit.CustomerSummary` and persist as versioned JSON.
"""

from ._base import Engine, FitInfo, FittedModel
from ._estimation import FitProgress
from .beta_geo import BetaGeo, BetaGeoParams, FittedBetaGeo
from .beta_geo_beta_binom import BetaGeoBetaBinom, BetaGeoBetaBinomParams, FittedBetaGeoBetaBinom
from .clv import ClvResult, SpendModel, TransactionModel, clv
from .composite import (
    CompositeResult,
    CompositeValue,
    EquitySplit,
    format_value_table,
    read_referrals,
    synthetic_referrals,
)
from .delivered_value import CustomerDeliveredValue, DeliveredValueBatch
from .diagnostics import (
    ConditionalExpectations,
    CountModel,
    FrequencyHistogram,
    HoldoutEvaluation,
    InformationCriteria,
    LikelihoodRatioTest,
    ModelComparison,
    TrackingResult,
    compare,
    conditional_expectations,
    frequency_histogram,
    holdout_evaluation,
    information_criteria,
    likelihood_ratio_test,
    tracking,
)
from .direct import DirectValue, DirectValueResult, discounted_lifetime
from .gamma_gamma import FittedGammaGamma, GammaGamma, GammaGammaParams
from .modified_beta_geo import FittedModifiedBetaGeo, ModifiedBetaGeo, ModifiedBetaGeoParams
from .pareto_nbd import FittedParetoNBD, ParetoNBD, ParetoNBDParams
from .protocols import IndirectValueSource, ValueEngine, engine_values, load_engine
from .referral import AttributionRule, ReferralAttribution, ReferralGraph
from .shifted_beta_geo import FittedShiftedBetaGeo, ShiftedBetaGeo, ShiftedBetaGeoParams
from .uncertainty import (
    BootstrapResult,
    ParameterIntervals,
    PredictionIntervals,
    clv_intervals,
    parameter_intervals,
    parametric_bootstrap,
    prediction_intervals,
    sample_parameters,
)
from .word_of_mouth import InfluencerReport, InfluencerRule, WordOfMouth, WordOfMouthPrior, influencers

__all__ = [
    "AttributionRule",
    "BetaGeo",
    "BetaGeoBetaBinom",
    "BetaGeoBetaBinomParams",
    "BetaGeoParams",
    "BootstrapResult",
    "ClvResult",
    "CompositeResult",
    "CompositeValue",
    "ConditionalExpectations",
    "CountModel",
    "CustomerDeliveredValue",
    "DeliveredValueBatch",
    "DirectValue",
    "DirectValueResult",
    "Engine",
    "EquitySplit",
    "FitInfo",
    "FitProgress",
    "FittedBetaGeo",
    "FittedBetaGeoBetaBinom",
    "FittedGammaGamma",
    "FittedModel",
    "FittedModifiedBetaGeo",
    "FittedParetoNBD",
    "FittedShiftedBetaGeo",
    "FrequencyHistogram",
    "GammaGamma",
    "GammaGammaParams",
    "HoldoutEvaluation",
    "IndirectValueSource",
    "InfluencerReport",
    "InfluencerRule",
    "InformationCriteria",
    "LikelihoodRatioTest",
    "ModelComparison",
    "ModifiedBetaGeo",
    "ModifiedBetaGeoParams",
    "ParameterIntervals",
    "ParetoNBD",
    "ParetoNBDParams",
    "PredictionIntervals",
    "ReferralAttribution",
    "ReferralGraph",
    "ShiftedBetaGeo",
    "ShiftedBetaGeoParams",
    "SpendModel",
    "TrackingResult",
    "TransactionModel",
    "ValueEngine",
    "WordOfMouth",
    "WordOfMouthPrior",
    "clv",
    "clv_intervals",
    "compare",
    "conditional_expectations",
    "discounted_lifetime",
    "engine_values",
    "format_value_table",
    "frequency_histogram",
    "holdout_evaluation",
    "influencers",
    "information_criteria",
    "likelihood_ratio_test",
    "load_engine",
    "parameter_intervals",
    "parametric_bootstrap",
    "prediction_intervals",
    "read_referrals",
    "sample_parameters",
    "synthetic_referrals",
    "tracking",
]
