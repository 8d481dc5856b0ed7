"""The Pareto/NBD model (Schmittlein, Morrison & Colombo 1987): engine :class:`ParetoNBD`, result
:class:`FittedParetoNBD`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from ...batch import CustomerSummary
from . import _paretonbd
from ._base import (
    Engine,
    FittedModel,
    ModelParams,
    PositiveFinite,
    frequency_matched_scale,
    observed_rows,
    observed_rows_keyed,
)
from ._count import CountKernel, FittedCountModel
from ._covariates import Links
from ._mixing import MixingDistribution, gamma_mixing

__all__ = ["FittedParetoNBD", "ParetoNBD", "ParetoNBDParams"]

FloatArray = npt.NDArray[np.float64]
#: The engine hook ``_loglik_hessian``: ``(params, data) -> (ll (n,), grad (n, k), hess (n, k, k))``.
HessianKernel = Callable[[FloatArray, Mapping[str, npt.NDArray[Any]]], tuple[FloatArray, FloatArray, FloatArray]]


class ParetoNBDParams(ModelParams):
    """Pareto/NBD parameters: purchase rates ~ Gamma(shape ``r``, rate ``alpha``); dropout rates
    ~ Gamma(shape ``s``, rate ``beta``). ``alpha`` and ``beta`` are in the summary's time unit."""

    r: PositiveFinite
    alpha: PositiveFinite
    s: PositiveFinite
    beta: PositiveFinite


class FittedParetoNBD(FittedCountModel):
    """A Pareto/NBD model with known parameters; every prediction is vectorised over a summary.

    Build it by fitting (:meth:`ParetoNBD.fit`) or directly from parameters. ``alpha`` and ``beta``
    are in ``time_unit``; every summary passed in must use the same unit.

    References
    ----------
    Schmittlein, Morrison & Colombo (1987), "Counting Your Customers: Who Are They and What Will They
    Do Next?", Management Science 33(1). Fader & Hardie (2005), "A Note on Deriving the Pareto/NBD
    Model and Related Expressions". Fader, Hardie & Lee (2005), "RFM and CLV: Using Iso-Value Curves
    for Customer Base Analysis", Journal of Marketing Research 42(4) (DERT). Formulas and the
    numerically stable forms used: :mod:`clvkit.valuation.models._paretonbd`.

    Examples
    --------
    >>> from clvkit import CustomerSummary
    >>> m = FittedParetoNBD(params=ParetoNBDParams(r=0.553, alpha=10.578, s=0.606, beta=11.669),
    ...                     time_unit="W")
    >>> s = CustomerSummary(frequency=[0, 2], recency=[0.0, 30.43], T=[38.86, 38.86], time_unit="W")
    >>> m.probability_alive(s).round(3).tolist()
    [0.295, 0.869]
    >>> m.expected_purchases(s, 39).round(3).tolist()
    [0.107, 1.455]
    >>> m.probability_of_purchases(s, 0, 39).round(3).tolist()
    [0.931, 0.408]
    >>> m.discounted_expected_residual_transactions(s, 1.15 ** (1 / 52) - 1).round(2).tolist()  # 15% a year, weekly
    [0.48, 6.5]
    >>> m.expected_purchases_new_customer([39, 78]).round(3).tolist()
    [1.213, 1.909]
    """

    model_name: ClassVar[str] = "ParetoNBD"
    dynamic_family: ClassVar[str] = "paretonbd"
    kernel: ClassVar[CountKernel] = _paretonbd
    #: CLVTools' link: ``alpha_i = alpha exp(-gamma_purchase' z_i)``, ``beta_i = beta exp(-gamma_dropout' z_i)``.
    covariate_links: ClassVar[Links] = {"purchase": ((1, -1.0),), "dropout": ((3, -1.0),)}
    params: ParetoNBDParams

    def transaction_rate_distribution(self) -> MixingDistribution:
        """How purchase rates vary across customers while they are active: lambda ~ Gamma(``r``, ``alpha``)."""
        return gamma_mixing("purchase rate", "lambda", self.time_unit, self.params.r, self.params.alpha,
                            ("r", "alpha"))

    def dropout_distribution(self) -> MixingDistribution:
        """How dropout rates vary across customers: mu ~ Gamma(``s``, ``beta``)."""
        return gamma_mixing("dropout rate", "mu", self.time_unit, self.params.s, self.params.beta, ("s", "beta"))



def _groups_from(data: Mapping[str, FloatArray]) -> _paretonbd.Groups | None:
    if "group_inv_x" not in data:
        return None

    def pos(name: str) -> npt.NDArray[np.intp]:
        return data["group_" + name].astype(np.intp)

    return _paretonbd.Groups(
        x_u=data["group_x_u"], inv_x=pos("inv_x"),
        x_tx=data["group_x_tx"], tx_u=data["group_tx_u"], inv_tx=pos("inv_tx"),
        x_age=data["group_x_age"], age_u=data["group_age_u"], inv_age=pos("inv_age"),
        key_tx=pos("key_tx"), key_age=pos("key_age"), xcode_tx=pos("xcode_tx"), xcode_age=pos("xcode_age"),
    )


def _loglik_hessian(params: FloatArray, data: Mapping[str, npt.NDArray[Any]]
                    ) -> tuple[FloatArray, FloatArray, FloatArray]:
    """:meth:`ParetoNBD._loglik` with the per-row Hessian (:func:`._paretonbd.loglik_hessian`), in one pass."""
    return _paretonbd.loglik_hessian(params, data["x"], data["tx"], data["T"], _groups_from(data))


class ParetoNBD(Engine[CustomerSummary, FittedParetoNBD]):
    """Pareto/NBD engine: maximum-likelihood fit on a :class:`~clvkit.CustomerSummary`.

    Uses the shared estimation routine: log-scale parameters, analytic gradient, compressed rows,
    standard errors from the observed information. The likelihood is evaluated in the numerically
    stable form of :mod:`clvkit.valuation.models._paretonbd` (finite for frequencies in the thousands, where
    the textbook hypergeometric form overflows).

    Examples
    --------
    >>> from clvkit.datasets import load_cdnow_summary
    >>> fitted = ParetoNBD().fit(load_cdnow_summary())
    >>> round(fitted.log_likelihood, 2)  # published: -9594.98
    -9594.98
    >>> {k: round(v, 2) for k, v in fitted.params.model_dump().items()}
    {'r': 0.55, 'alpha': 10.58, 's': 0.61, 'beta': 11.67}
    """

    name: ClassVar[str] = "ParetoNBD"
    dynamic_family: ClassVar[str] = "paretonbd"
    fitted_class: ClassVar[type[FittedModel]] = FittedParetoNBD
    row_params: ClassVar[bool] = True
    #: Per-row log-likelihood, gradient and Hessian w.r.t. the natural parameters in one pass, on ``_loglik``'s
    #: ``(params, data)``: the estimation routine's Newton steps and standard errors use it.
    _loglik_hessian: ClassVar[HessianKernel | None] = staticmethod(_loglik_hessian)

    def _loglik(self, params: FloatArray, data: Mapping[str, FloatArray]) -> tuple[FloatArray, FloatArray]:
        return _paretonbd.loglik(params, data["x"], data["tx"], data["T"], _groups_from(data))

    def _prepare(self, summary: CustomerSummary) -> tuple[dict[str, FloatArray], FloatArray]:
        x, tx, T, w = observed_rows(summary, "ParetoNBD.fit()")
        return self._grouped_data(x, tx, T), w

    def _prepare_keyed(self, summary: CustomerSummary, key: npt.NDArray[np.intp]
                       ) -> tuple[dict[str, FloatArray], FloatArray, npt.NDArray[np.intp]]:
        x, tx, T, w, row_key = observed_rows_keyed(summary, "ParetoNBD.fit()", key)
        return self._grouped_data(x, tx, T, row_key), w, row_key

    @staticmethod
    def _grouped_data(x: FloatArray, tx: FloatArray, T: FloatArray,
                      key: npt.NDArray[np.intp] | None = None) -> dict[str, FloatArray]:
        data = {"x": x, "tx": tx, "T": T}
        # The distinct (x), (x, tx) and (x, T) values (within equal keys), computed once per fit. The data
        # mapping holds float arrays only, so positions are stored as float64 (exact below 2**53).
        groups = _paretonbd.group_rows(x, tx, T, key)
        for name, value in zip(_paretonbd.Groups._fields, groups, strict=True):
            data["group_" + name] = value.astype(np.float64)
        return data

    def _default_start(self, data: Mapping[str, FloatArray], weights: FloatArray) -> FloatArray:
        # r = s = 1 and alpha = beta = c with c matching the mean frequency: at r = s = 1, alpha = beta
        # the expected repeat purchases of a customer of age T are log(1 + T/c), so c solves
        # mean(log(1 + T/c)) = mean(x) (monotone in c; bisection on the log scale). alpha == beta also
        # makes the first likelihood evaluation a one-term series. Unit-free: c scales with T.
        c = frequency_matched_scale(data, weights)
        return np.array([1.0, c, 1.0, c])
