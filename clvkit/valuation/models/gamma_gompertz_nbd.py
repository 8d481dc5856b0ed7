"""The Gamma-Gompertz/NBD model (Bemmaor & Glady 2012): engine :class:`GammaGompertzNBD`, result
:class:`FittedGammaGompertzNBD`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from ...batch import CustomerSummary
from . import _ggomnbd
from ._base import Engine, FittedModel, ModelParams, PositiveFinite, frequency_matched_scale, observed_rows
from ._count import CountKernel, FittedCountModel
from ._covariates import Links
from ._mixing import MixingDistribution, gamma_mixing

__all__ = ["FittedGammaGompertzNBD", "GammaGompertzNBD", "GammaGompertzNBDParams"]

FloatArray = npt.NDArray[np.float64]
#: The engine hook ``_loglik_hessian``: ``(params, data) -> (ll, grad, hess)`` in ``_loglik``'s convention (here the
#: weighted totals, shapes (1,), (1, k), (1, k, k)).
HessianKernel = Callable[[FloatArray, Mapping[str, npt.NDArray[Any]]], tuple[FloatArray, FloatArray, FloatArray]]


class GammaGompertzNBDParams(ModelParams):
    """Gamma-Gompertz/NBD parameters: purchase rates ~ Gamma(shape ``r``, rate ``alpha``); lifetimes with the
    Gompertz hazard ``b eta exp(b t)``, ``eta ~ Gamma(shape s, rate beta)``. ``alpha`` and ``1 / b`` are in the
    summary's time unit; ``beta`` has no unit (it scales ``exp(b t) - 1``)."""

    r: PositiveFinite
    alpha: PositiveFinite
    b: PositiveFinite
    s: PositiveFinite
    beta: PositiveFinite


class FittedGammaGompertzNBD(FittedCountModel):
    """A Gamma-Gompertz/NBD model with known parameters; every prediction is vectorised over a summary.

    The dropout hazard of a customer changes with its age (``b`` the speed; ``beta < 1`` falling, ``beta > 1``
    rising marginal hazard); as ``b -> 0`` with ``beta / b`` fixed the model becomes the Pareto/NBD with
    ``beta_PNBD = beta / b``. Build it by fitting (:meth:`GammaGompertzNBD.fit`) or directly from parameters.

    References
    ----------
    Bemmaor & Glady (2012), "Modeling Purchasing Behavior with Sudden 'Death': A Flexible Customer Lifetime
    Model", Management Science 58(5), 1012-1021. Formulas and their numerical evaluation:
    :mod:`clvkit.valuation.models._ggomnbd`.

    Examples
    --------
    Near ``b = 0`` the predictions are the Pareto/NBD's (:class:`~clvkit.valuation.FittedParetoNBD` prints
    ``[0.295, 0.869]`` and ``[0.107, 1.455]`` for these customers at ``r=0.553, alpha=10.578, s=0.606,
    beta=11.669``):

    >>> from clvkit import CustomerSummary
    >>> b = 1e-9
    >>> m = FittedGammaGompertzNBD(params=GammaGompertzNBDParams(r=0.553, alpha=10.578, b=b, s=0.606,
    ...                                                          beta=11.669 * b), time_unit="W")
    >>> s = CustomerSummary(frequency=[0, 2], recency=[0.0, 30.43], T=[38.86, 38.86], time_unit="W")
    >>> m.probability_alive(s).round(3).tolist()
    [0.295, 0.869]
    >>> m.expected_purchases(s, 39).round(3).tolist()
    [0.107, 1.455]
    """

    model_name: ClassVar[str] = "GammaGompertzNBD"
    kernel: ClassVar[CountKernel] = _ggomnbd
    #: CLVTools' link: ``alpha_i = alpha exp(-gamma_purchase' z_i)``, ``beta_i = beta exp(-gamma_dropout' z_i)``.
    covariate_links: ClassVar[Links] = {"purchase": ((1, -1.0),), "dropout": ((4, -1.0),)}
    params: GammaGompertzNBDParams

    def transaction_rate_distribution(self) -> MixingDistribution:
        """How purchase rates vary across customers while they are active: lambda ~ Gamma(``r``, ``alpha``)."""
        return gamma_mixing("purchase rate", "lambda", self.time_unit, self.params.r, self.params.alpha,
                            ("r", "alpha"))

    def dropout_distribution(self) -> MixingDistribution:
        """How the Gompertz dropout scale varies across customers: eta ~ Gamma(``s``, ``beta``) (the hazard at age
        ``t`` is ``b eta exp(b t)``)."""
        return gamma_mixing("dropout hazard scale", "eta", "hazard", self.params.s, self.params.beta, ("s", "beta"))


def _groups_of(data: Mapping[str, npt.NDArray[Any]]) -> _ggomnbd.Grouping | None:
    if "groups_rows" not in data:
        return None
    return _ggomnbd.Grouping(x=data["groups_x"], t=data["groups_t"][0], rows=data["groups_rows"])


def _loglik_hessian(params: FloatArray, data: Mapping[str, npt.NDArray[Any]]
                    ) -> tuple[FloatArray, FloatArray, FloatArray]:
    """:meth:`GammaGompertzNBD._loglik` (weighted totals) with the total Hessian
    (:func:`._ggomnbd.loglik_hessian_summed`), in one pass."""
    return _ggomnbd.loglik_hessian_summed(params, data["x"], data["tx"], data["T"], data["w"], _groups_of(data))


class GammaGompertzNBD(Engine[CustomerSummary, FittedGammaGompertzNBD]):
    """Gamma-Gompertz/NBD engine: maximum-likelihood fit on a :class:`~clvkit.CustomerSummary`.

    Uses the shared estimation routine: log-scale parameters, analytic gradient (differentiated under the
    dropout integral), compressed rows, standard errors from the observed information. The dropout integrals of
    all customers come from one chain over the distinct ages, an interval between consecutive ages per distinct
    frequency (or, for continuous ages, one tail per distinct ``(frequency, recency)`` and ``(frequency, T)`` pair);
    the rows are grouped once per fit (:mod:`clvkit.valuation.models._ggomnbd`).

    Examples
    --------
    On CDNOW the fitted dropout hazard barely changes with age (``b`` near 0): the fit is the Pareto/NBD's
    (log-likelihood -9594.98; CLVTools 0.12.1 reports -9594.9762 with ``b = 1.1e-6``):

    >>> from clvkit.datasets import load_cdnow_summary
    >>> fitted = GammaGompertzNBD().fit(load_cdnow_summary())
    >>> round(fitted.log_likelihood, 2)
    -9594.98
    >>> round(fitted.params.r, 2), round(fitted.params.alpha, 1), round(fitted.params.s, 2)
    (0.55, 10.6, 0.61)
    """

    name: ClassVar[str] = "GammaGompertzNBD"
    fitted_class: ClassVar[type[FittedModel]] = FittedGammaGompertzNBD
    #: The kernel sums over the rows itself (``_ggomnbd.loglik_summed``): its gradient terms are summed per (frequency,
    #: age) cell, not formed per row.
    summed_loglik: ClassVar[bool] = True
    #: The log-likelihood, gradient and Hessian w.r.t. the natural parameters in one pass, on ``_loglik``'s
    #: ``(params, data)`` and, like it, summed over the rows (shapes (1,), (1, 5), (1, 5, 5)); the dropout integrals are
    #: differentiated twice under the integral on the value's nodes.
    _loglik_hessian: ClassVar[HessianKernel | None] = staticmethod(_loglik_hessian)

    def _loglik(self, params: FloatArray, data: Mapping[str, npt.NDArray[Any]]) -> tuple[FloatArray, FloatArray]:
        return _ggomnbd.loglik_summed(params, data["x"], data["tx"], data["T"], data["w"], _groups_of(data))

    def _prepare(self, summary: CustomerSummary) -> tuple[dict[str, npt.NDArray[Any]], FloatArray]:
        x, tx, T, w = observed_rows(summary, "GammaGompertzNBD.fit()")
        # The grouping of the rows by frequency and age does not depend on the parameters: once per fit. The ages
        # (up to twice as many as rows) and the row positions are kept 2-D, apart from the rows' own columns.
        groups = _ggomnbd.group_rows(x, tx, T)
        return {"x": x, "tx": tx, "T": T, "w": w, "groups_x": groups.x, "groups_t": groups.t[None, :],
                "groups_rows": groups.rows}, w

    def _default_start(self, data: Mapping[str, npt.NDArray[Any]], weights: FloatArray) -> FloatArray:
        # The Pareto/NBD start (r = s = 1, alpha = beta_PNBD = c with c matching the mean frequency: at these values
        # the expected repeat purchases of a customer of age T are log(1 + T/c)) with a Gompertz clock b = 0.3 /
        # mean T and beta = b c, so that the start is close to that Pareto/NBD. A slower clock (0.1 / mean T) sends
        # the first BFGS pass along the flat b -> 0 ridge, far from an optimum with a visible age effect; a faster
        # one (1 / mean T) ends CDNOW's fit (optimum on the ridge) where the information is not positive definite.
        # Evaluations (benchmarks/bench_ggomnbd.py's data at 100,000 / 30,000 / 10,000 customers; CDNOW) from
        # 0.1, 0.3 and 1 / mean T: 57/90/90/68, 44/39/67/69 and 38/40/47/91.
        c = frequency_matched_scale(data, weights)
        mean_T = max(float(weights @ data["T"]) / float(weights.sum()), 1e-6)
        b = 0.3 / mean_T
        return np.array([1.0, c, b, 1.0, b * c])
