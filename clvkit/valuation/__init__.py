"""Valuation engines: probabilistic customer-base models, spend models and CLV.

Engines are frozen configurations with a ``fit(summary)`` method returning an immutable fitted model;
fitted models predict vectorised over a :class:`~clvkit.CustomerSummary` and persist as versioned JSON.
"""

from ._base import Engine, FitInfo, FittedModel
from ._estimation import FitProgress
from .beta_geo import BetaGeo, BetaGeoParams, FittedBetaGeo
from .beta_geo_beta_binom import BetaGeoBetaBinom, BetaGeoBetaBinomParams, FittedBetaGeoBetaBinom
from .clv import ClvResult, SpendModel, TransactionModel, clv
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
from .gamma_gamma import FittedGammaGamma, GammaGamma, GammaGammaParams
from .modified_beta_geo import FittedModifiedBetaGeo, ModifiedBetaGeo, ModifiedBetaGeoParams
from .pareto_nbd import FittedParetoNBD, ParetoNBD, ParetoNBDParams
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

__all__ = [
    "BetaGeo",
    "BetaGeoBetaBinom",
    "BetaGeoBetaBinomParams",
    "BetaGeoParams",
    "BootstrapResult",
    "ClvResult",
    "ConditionalExpectations",
    "CountModel",
    "Engine",
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
    "InformationCriteria",
    "LikelihoodRatioTest",
    "ModelComparison",
    "ModifiedBetaGeo",
    "ModifiedBetaGeoParams",
    "ParameterIntervals",
    "ParetoNBD",
    "ParetoNBDParams",
    "PredictionIntervals",
    "ShiftedBetaGeo",
    "ShiftedBetaGeoParams",
    "SpendModel",
    "TrackingResult",
    "TransactionModel",
    "clv",
    "clv_intervals",
    "compare",
    "conditional_expectations",
    "frequency_histogram",
    "holdout_evaluation",
    "information_criteria",
    "likelihood_ratio_test",
    "parameter_intervals",
    "parametric_bootstrap",
    "prediction_intervals",
    "sample_parameters",
    "tracking",
]
