"""The BG/NBD model (Fader, Hardie & Lee 2005): engine :class:`BetaGeo`, result :class:`FittedBetaGeo`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from ...batch import CustomerSummary
from . import _bgnbd
from ._base import Engine, FittedModel, ModelParams, PositiveFinite, check_count, observed_rows, rate_scaled_start
from ._count import CountKernel, FittedCountModel
from ._covariates import Links
from ._mixing import MixingDistribution, beta_mixing, gamma_mixing

__all__ = ["BetaGeo", "BetaGeoParams", "FittedBetaGeo", "check_count"]

FloatArray = npt.NDArray[np.float64]


class BetaGeoParams(ModelParams):
    """BG/NBD parameters: purchase rates ~ Gamma(shape ``r``, rate ``alpha``); dropout p ~ Beta(``a``, ``b``)."""

    r: PositiveFinite
    alpha: PositiveFinite
    a: PositiveFinite
    b: PositiveFinite



class FittedBetaGeo(FittedCountModel):
    """A BG/NBD model with known parameters; every prediction is vectorised over a summary.

    Build it by fitting (:meth:`BetaGeo.fit`) or directly from parameters.

    Examples
    --------
    >>> from clvkit import CustomerSummary
    >>> m = FittedBetaGeo(params=BetaGeoParams(r=0.243, alpha=4.414, a=0.793, b=2.426), time_unit="W")
    >>> s = CustomerSummary(frequency=[0, 2], recency=[0.0, 30.43], T=[38.86, 38.86], time_unit="W")
    >>> m.probability_alive(s).round(3).tolist()
    [1.0, 0.727]
    >>> m.expected_purchases(s, 39).round(3).tolist()
    [0.195, 1.226]
    """

    model_name: ClassVar[str] = "BetaGeo"
    dynamic_family: ClassVar[str] = "bgnbd"
    kernel: ClassVar[CountKernel] = _bgnbd
    #: CLVTools' link: ``alpha_i = alpha exp(-gamma_purchase' z_i)``; ``a_i = a exp(gamma_dropout' z_i)`` and
    #: ``b_i = b exp(gamma_dropout' z_i)`` (one dropout coefficient scales both).
    covariate_links: ClassVar[Links] = {"purchase": ((1, -1.0),), "dropout": ((2, 1.0), (3, 1.0))}
    params: BetaGeoParams

    def transaction_rate_distribution(self) -> MixingDistribution:
        """How purchase rates vary across customers while they are active: lambda ~ Gamma(``r``, ``alpha``)."""
        return gamma_mixing("purchase rate", "lambda", self.time_unit, self.params.r, self.params.alpha,
                            ("r", "alpha"))

    def dropout_distribution(self) -> MixingDistribution:
        """How dropout probabilities (after each purchase) vary across customers: p ~ Beta(``a``, ``b``)."""
        return beta_mixing("dropout probability", "p", "purchase", self.params.a, self.params.b, ("a", "b"))



def _data_hessian(params: FloatArray, data: Mapping[str, npt.NDArray[Any]]
                  ) -> tuple[FloatArray, FloatArray, FloatArray]:
    """:func:`._bgnbd.loglik_hessian` on the data of :meth:`BetaGeo._prepare` (the engine's ``_loglik_hessian``)."""
    lookups = {k: v for k, v in data.items() if k.startswith(("T_", "tx_"))}
    return _bgnbd.loglik_hessian(params, data["x"], data["tx"], data["T"], data["x_unique"], data["x_code"], lookups)


class BetaGeo(Engine[CustomerSummary, FittedBetaGeo]):
    """BG/NBD engine: maximum-likelihood fit on a :class:`~clvkit.CustomerSummary`.

    Uses the shared estimation routine: log-scale parameters, analytic gradient, compressed rows,
    standard errors from the observed information.

    Examples
    --------
    >>> from clvkit.datasets import load_cdnow_summary
    >>> fitted = BetaGeo().fit(load_cdnow_summary())
    >>> {k: round(v, 3) for k, v in fitted.params.model_dump().items()}
    {'r': 0.243, 'alpha': 4.414, 'a': 0.793, 'b': 2.426}
    >>> round(fitted.log_likelihood, 1)
    -9582.4
    """

    name: ClassVar[str] = "BetaGeo"
    dynamic_family: ClassVar[str] = "bgnbd"
    fitted_class: ClassVar[type[FittedModel]] = FittedBetaGeo
    _loglik_hessian = _data_hessian

    def _loglik(self, params: FloatArray, data: Mapping[str, npt.NDArray[Any]]) -> tuple[FloatArray, FloatArray]:
        lookups = {k: v for k, v in data.items() if k.startswith(("T_", "tx_"))}
        return _bgnbd.loglik(params, data["x"], data["tx"], data["T"], data["x_unique"], data["x_code"], lookups)

    def _prepare(self, summary: CustomerSummary) -> tuple[dict[str, npt.NDArray[Any]], FloatArray]:
        x, tx, T, w = observed_rows(summary, "BetaGeo.fit()")
        x_unique, x_code = np.unique(x, return_inverse=True)
        data = {"x": x, "tx": tx, "T": T, "x_unique": x_unique, "x_code": x_code.reshape(-1)}
        data.update(_bgnbd.lookup_tables(tx, T))
        return data, w

    def _default_start(self, data: Mapping[str, npt.NDArray[Any]], weights: FloatArray) -> FloatArray:
        return rate_scaled_start(data, weights)
