"""The models: engines (frozen configurations with ``fit``), their fitted results, and pure numpy kernels.

Each model is a kernel module (``_bgnbd.py``, ``_paretonbd.py``, ...: arrays in, arrays out) plus a short
declaration (``beta_geo.py``, ...) on the shared template of :mod:`._base` and :mod:`._estimation`.
"""

from . import registry  # noqa: F401  (enters the models into clvkit.valuation.MODELS)
from ._base import Engine, FitInfo, FittedModel
from ._estimation import FitProgress
from .beta_geo import BetaGeo, BetaGeoParams, FittedBetaGeo
from .beta_geo_beta_binom import BetaGeoBetaBinom, BetaGeoBetaBinomParams, FittedBetaGeoBetaBinom
from .cnbd import (
    CNBD,
    BetaGeoCNBD,
    BetaGeoCNBDParams,
    CNBDParams,
    FittedBetaGeoCNBD,
    FittedCNBD,
    FittedModifiedBetaGeoCNBD,
    ModifiedBetaGeoCNBD,
    ModifiedBetaGeoCNBDParams,
)
from .gamma_gamma import FittedGammaGamma, GammaGamma, GammaGammaParams
from .gamma_gompertz_nbd import FittedGammaGompertzNBD, GammaGompertzNBD, GammaGompertzNBDParams
from .modified_beta_geo import FittedModifiedBetaGeo, ModifiedBetaGeo, ModifiedBetaGeoParams
from .pareto_nbd import FittedParetoNBD, ParetoNBD, ParetoNBDParams
from .shifted_beta_geo import FittedShiftedBetaGeo, ShiftedBetaGeo, ShiftedBetaGeoParams

__all__ = [
    "CNBD",
    "BetaGeo",
    "BetaGeoBetaBinom",
    "BetaGeoBetaBinomParams",
    "BetaGeoCNBD",
    "BetaGeoCNBDParams",
    "BetaGeoParams",
    "CNBDParams",
    "Engine",
    "FitInfo",
    "FitProgress",
    "FittedBetaGeo",
    "FittedBetaGeoBetaBinom",
    "FittedBetaGeoCNBD",
    "FittedCNBD",
    "FittedGammaGamma",
    "FittedGammaGompertzNBD",
    "FittedModel",
    "FittedModifiedBetaGeo",
    "FittedModifiedBetaGeoCNBD",
    "FittedParetoNBD",
    "FittedShiftedBetaGeo",
    "GammaGamma",
    "GammaGammaParams",
    "GammaGompertzNBD",
    "GammaGompertzNBDParams",
    "ModifiedBetaGeo",
    "ModifiedBetaGeoCNBD",
    "ModifiedBetaGeoCNBDParams",
    "ModifiedBetaGeoParams",
    "ParetoNBD",
    "ParetoNBDParams",
    "ShiftedBetaGeo",
    "ShiftedBetaGeoParams",
]
