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
- :mod:`~clvkit.valuation.checking.grids` - expected purchases and P(alive) over a frequency x recency
  grid, and one customer's P(alive) history;
- :mod:`~clvkit.valuation.checking.distributions` - a new customer's expected repeat purchases over time,
  the heterogeneity densities, implied vs observed average spend, inter-purchase times (what
  :mod:`clvkit.plotting` draws);
- :mod:`~clvkit.valuation.checking.regularity` - how regular the purchase timing is (the gamma shape ``k`` of
  the inter-purchase times, Wheat & Morrison 1990 and maximum likelihood), to choose between the Poisson
  models and the CNBD-k family;
- :mod:`~clvkit.valuation.checking.selection` - AIC/BIC, the likelihood-ratio test and a holdout ranking
  to choose between models;
- :mod:`~clvkit.valuation.checking.recommendation` - :func:`recommend`: fit the registered models on the
  calibration period, score them on the holdout and say which to use and why.

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
from .distributions import (
    MAX_CURVE_POINTS,
    HeterogeneityDensity,
    InterpurchaseTimes,
    RepeatPurchaseCurve,
    SpendDistribution,
    expected_repeat_purchases,
    heterogeneity_density,
    interpurchase_times,
    spend_distribution,
)
from .grids import MAX_GRID_POINTS, AliveHistory, FrequencyRecencyGrid, alive_history, frequency_recency_grid
from .histogram import FrequencyHistogram, frequency_histogram
from .holdout import ConditionalExpectations, HoldoutEvaluation, conditional_expectations, holdout_evaluation
from .recommendation import DEFAULT_TIE_TOLERANCE, ModelScore, Recommendation, format_recommendation, recommend
from .regularity import RegularityEstimate, RegularityResult, regularity
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
    "DEFAULT_TIE_TOLERANCE",
    "MAX_BOOTSTRAP_DRAWS",
    "MAX_CURVE_POINTS",
    "MAX_DRAWS",
    "MAX_DRAW_CELLS",
    "MAX_FREQUENCY_BINS",
    "MAX_GRID_POINTS",
    "MAX_TRACKING_CELLS",
    "AliveHistory",
    "BootstrapResult",
    "ConditionalExpectations",
    "CountModel",
    "FrequencyHistogram",
    "FrequencyRecencyGrid",
    "HeterogeneityDensity",
    "HoldoutEvaluation",
    "InformationCriteria",
    "InterpurchaseTimes",
    "LikelihoodRatioTest",
    "ModelComparison",
    "ModelScore",
    "ParameterIntervals",
    "PredictionIntervals",
    "Recommendation",
    "RegularityEstimate",
    "RegularityResult",
    "RepeatPurchaseCurve",
    "SpendDistribution",
    "TrackingResult",
    "alive_history",
    "clv_intervals",
    "compare",
    "conditional_expectations",
    "expected_repeat_purchases",
    "format_recommendation",
    "frequency_histogram",
    "frequency_recency_grid",
    "heterogeneity_density",
    "holdout_evaluation",
    "information_criteria",
    "interpurchase_times",
    "likelihood_ratio_test",
    "parameter_intervals",
    "parametric_bootstrap",
    "prediction_intervals",
    "recommend",
    "regularity",
    "sample_parameters",
    "spend_distribution",
    "tracking",
]
