"""Plots drawn from clvkit's own result objects (matplotlib, from the ``plot`` extra, imported lazily).

Every function returns the matplotlib ``Axes`` it drew on and accepts ``ax=`` to draw into an existing one.
Model-only plots take the fitted model first (``plot_frequency_recency_matrix(model, ...)``); plots that
compare a model with data take ``(model, summary, ...)`` (``plot_period_transactions(model, summary)``).
Importing this package does not import matplotlib; the first plot does, or raises
:class:`clvkit.MissingDependencyError` naming the ``plot`` extra.
"""

from __future__ import annotations

__all__: list[str] = []

# management
from .management import plot_binding, plot_lorenz, plot_tier_migration, plot_value_cost, plot_value_risk

__all__ += ["plot_binding", "plot_lorenz", "plot_tier_migration", "plot_value_cost", "plot_value_risk"]
