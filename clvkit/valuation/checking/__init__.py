"""Model checking and uncertainty: holdout error, tracking, the fit histogram, model selection, and
parameter, prediction and CLV intervals.

Everything here uses the models only through :mod:`clvkit.valuation.protocols`.
"""

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
    "BootstrapResult",
    "ConditionalExpectations",
    "CountModel",
    "FrequencyHistogram",
    "HoldoutEvaluation",
    "InformationCriteria",
    "LikelihoodRatioTest",
    "ModelComparison",
    "ParameterIntervals",
    "PredictionIntervals",
    "TrackingResult",
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
