"""Model checking and uncertainty: holdout error, tracking, the fit histogram, model selection, and
parameter, prediction and CLV intervals.

Everything here uses the models only through :mod:`clvkit.valuation.protocols`.

The checks of a fitted transaction model work with any model that offers the common prediction surface
(:class:`CountModel`): BG/NBD, MBG/NBD, Pareto/NBD, BG/BB, sBG, ... They are those Fader, Hardie and Lee
use to validate the BG/NBD model on the CDNOW data (2005, section 4):

- :mod:`~clvkit.valuation.checking.holdout` - per-customer predicted vs actual holdout purchases (MAE,
  RMSE, aggregate error) and, by calibration frequency, the mean holdout purchases (their Figure 4);
- :mod:`~clvkit.valuation.checking.tracking` - expected vs actual repeat transactions per calendar period
  of the cohort, across calibration and holdout (their Figures 2 and 3);
- :mod:`~clvkit.valuation.checking.histogram` - expected vs actual number of customers by calibration
  frequency with a chi-square goodness-of-fit test (their Figure 1; Fader, Hardie & Lee 2007);
- :mod:`~clvkit.valuation.checking.selection` - AIC/BIC, the likelihood-ratio test and a holdout ranking
  to choose between models.

:mod:`~clvkit.valuation.checking.uncertainty` adds parameter, prediction and CLV intervals. Results are
frozen dataclasses holding read-only arrays.

References
----------
P. S. Fader, B. G. S. Hardie and K. L. Lee (2005), "'Counting Your Customers' the Easy Way: An Alternative
to the Pareto/NBD Model", Marketing Science 24(2), 275-284.

P. S. Fader, B. G. S. Hardie and K. L. Lee (2007), "Creating a Fit Histogram for the BG/NBD Model",
http://brucehardie.com/notes/014/.
"""

from ._common import MAX_FREQUENCY_BINS, CountModel
from .bootstrap import MAX_BOOTSTRAP_DRAWS, BootstrapResult, parametric_bootstrap
from .histogram import FrequencyHistogram, frequency_histogram
from .holdout import ConditionalExpectations, HoldoutEvaluation, conditional_expectations, holdout_evaluation
from .selection import (
    InformationCriteria,
    LikelihoodRatioTest,
    ModelComparison,
    compare,
    information_criteria,
    likelihood_ratio_test,
)
from .tracking import MAX_TRACKING_CELLS, TrackingResult, tracking
from .uncertainty import (
    MAX_DRAW_CELLS,
    MAX_DRAWS,
    ParameterIntervals,
    PredictionIntervals,
    clv_intervals,
    parameter_intervals,
    prediction_intervals,
    sample_parameters,
)

__all__ = [
    "MAX_BOOTSTRAP_DRAWS",
    "MAX_DRAWS",
    "MAX_DRAW_CELLS",
    "MAX_FREQUENCY_BINS",
    "MAX_TRACKING_CELLS",
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
