"""Plots drawn from clvkit's own result objects (matplotlib, from the ``plot`` extra, imported lazily).

Every function returns the matplotlib ``Axes`` it drew on and accepts ``ax=`` to draw into an existing one.
Model-only plots take the fitted model first (``plot_frequency_recency_matrix(model, ...)``); plots that
compare a model with data take ``(model, summary, ...)`` (``plot_period_transactions(model, summary)``).
Importing this package does not import matplotlib; the first plot does, or raises
:class:`clvkit.MissingDependencyError` naming the ``plot`` extra.

Every function takes ``lang="en"`` or ``"zh"`` (``None``, the default: the locale's language, as the reports):
the titles, axis labels, legends and annotations are drawn in that language. Chinese texts are drawn in the
first installed font of :data:`CJK_FONTS`, given to the plot's own texts only (no ``rcParams`` change); with no
such font installed, a ``lang="zh"`` plot is drawn with English texts, silently - install one (Debian/Ubuntu:
``apt-get install fonts-wqy-microhei``) for Chinese charts.
"""

from __future__ import annotations

from . import _lang

# Covariate effects (clvkit/plotting/coefficients.py)
from .coefficients import plot_coefficients

# Model diagnostics (clvkit/plotting/diagnostics.py)
from .diagnostics import (
    plot_calibration_purchases_vs_holdout_purchases,
    plot_cumulative_transactions,
    plot_dropout_rate_heterogeneity,
    plot_expected_repeat_purchases,
    plot_frequency_recency_matrix,
    plot_history_alive,
    plot_incremental_transactions,
    plot_interpurchase_times,
    plot_period_transactions,
    plot_pmf,
    plot_probability_alive_matrix,
    plot_spend_distribution,
    plot_tracking,
    plot_transaction_rate_heterogeneity,
)

# Management (clvkit/plotting/management.py)
from .management import plot_binding, plot_lorenz, plot_tier_migration, plot_value_cost, plot_value_risk

# Regularity of purchase timing (clvkit/plotting/regularity.py)
from .regularity import plot_regularity

#: Font families that draw Simplified Chinese, in order of preference: the first one installed draws the texts
#: of a ``lang="zh"`` plot.
CJK_FONTS: tuple[str, ...] = _lang.CJK_FONTS

__all__: list[str] = [
    "CJK_FONTS",
    "plot_binding",
    "plot_calibration_purchases_vs_holdout_purchases",
    "plot_coefficients",
    "plot_cumulative_transactions",
    "plot_dropout_rate_heterogeneity",
    "plot_expected_repeat_purchases",
    "plot_frequency_recency_matrix",
    "plot_history_alive",
    "plot_incremental_transactions",
    "plot_interpurchase_times",
    "plot_lorenz",
    "plot_period_transactions",
    "plot_pmf",
    "plot_probability_alive_matrix",
    "plot_regularity",
    "plot_spend_distribution",
    "plot_tier_migration",
    "plot_tracking",
    "plot_transaction_rate_heterogeneity",
    "plot_value_cost",
    "plot_value_risk",
]
