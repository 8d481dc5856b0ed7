"""Plots drawn from clvkit's own result objects (matplotlib, from the ``plot`` extra, imported lazily).

Every function returns the matplotlib ``Axes`` it drew on and accepts ``ax=`` to draw into an existing one.
Model-only plots take the fitted model first (``plot_frequency_recency_matrix(model, ...)``); plots that
compare a model with data take ``(model, summary, ...)`` (``plot_period_transactions(model, summary)``).
Importing this package does not import matplotlib; the first plot does, or raises
:class:`clvkit.MissingDependencyError` naming the ``plot`` extra.
"""

from __future__ import annotations

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

__all__: list[str] = [
    "plot_binding",
    "plot_calibration_purchases_vs_holdout_purchases",
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
    "plot_spend_distribution",
    "plot_tier_migration",
    "plot_tracking",
    "plot_transaction_rate_heterogeneity",
    "plot_value_cost",
    "plot_value_risk",
]
