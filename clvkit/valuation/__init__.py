"""Valuation engines: probabilistic customer-base models, spend models and CLV.

Engines are frozen configurations with a ``fit(summary)`` method returning an immutable fitted model;
fitted models predict vectorised over a :class:`~clvkit.CustomerSummary` and persist as versioned JSON.
"""

from ._base import Engine, FitInfo, FittedModel
from ._estimation import FitProgress
from .beta_geo import BetaGeo, BetaGeoParams, FittedBetaGeo
from .clv import ClvResult, SpendModel, TransactionModel, clv
from .gamma_gamma import FittedGammaGamma, GammaGamma, GammaGammaParams

__all__ = [
    "BetaGeo",
    "BetaGeoParams",
    "ClvResult",
    "Engine",
    "FitInfo",
    "FitProgress",
    "FittedBetaGeo",
    "FittedGammaGamma",
    "FittedModel",
    "GammaGamma",
    "GammaGammaParams",
    "SpendModel",
    "TransactionModel",
    "clv",
]
