"""The Pareto/NBD model (Schmittlein, Morrison & Colombo 1987): engine :class:`ParetoNBD`, result
:class:`FittedParetoNBD`."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Annotated, Any, ClassVar

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field

from ..._rows import unique_rows
from ...batch import CustomerSummary
from ...errors import InvalidInputError
from . import _paretonbd
from ._base import Engine, FittedModel, ProgressCallback, check_horizon
from .beta_geo import check_count

__all__ = ["FittedParetoNBD", "ParetoNBD", "ParetoNBDParams"]

FloatArray = npt.NDArray[np.float64]
PositiveFinite = Annotated[float, Field(gt=0.0, allow_inf_nan=False)]


class ParetoNBDParams(BaseModel):
    """Pareto/NBD parameters: purchase rates ~ Gamma(shape ``r``, rate ``alpha``); dropout rates
    ~ Gamma(shape ``s``, rate ``beta``). ``alpha`` and ``beta`` are in the summary's time unit."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    r: PositiveFinite
    alpha: PositiveFinite
    s: PositiveFinite
    beta: PositiveFinite


def _check_rate(rate: Any, where: str) -> float:
    try:
        value = float(rate)
    except (TypeError, ValueError):
        value = math.nan
    if not (math.isfinite(value) and value > 0.0):
        raise InvalidInputError(
            f"The 'discount_rate' parameter of {where} must be a finite number > 0 (a continuously "
            f"compounded rate per time unit of the summary). Got {rate!r} instead."
        )
    return value


def _check_broadcast(x: FloatArray, where: str, **arrays: FloatArray) -> None:
    try:
        np.broadcast_shapes(x.shape, *(a.shape for a in arrays.values()))
    except ValueError:
        shapes = ", ".join(f"'{k}' (shape {v.shape})" for k, v in arrays.items())
        raise InvalidInputError(
            f"FittedParetoNBD.{where}(): {shapes} must be scalars or broadcastable to the {x.shape[0]} customers."
        ) from None


class FittedParetoNBD(FittedModel):
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
    >>> m.discounted_expected_residual_transactions(s, 0.0027).round(2).tolist()  # 15% a year, weekly
    [0.48, 6.48]
    >>> m.expected_purchases_new_customer([39, 78]).round(3).tolist()
    [1.213, 1.909]
    """

    model_name: ClassVar[str] = "ParetoNBD"
    params: ParetoNBDParams

    def _arrays(self, summary: CustomerSummary, where: str) -> tuple[FloatArray, FloatArray, FloatArray]:
        self._check_summary(summary, where)
        return summary.frequency, summary.recency, summary.T

    def expected_purchases(self, summary: CustomerSummary, t: Any) -> FloatArray:
        """Expected purchases in the next ``t`` time units, E[X(T, T+t) | x, t_x, T].

        Parameters
        ----------
        summary:
            Customers, shape (n_customers,).
        t:
            Horizon in the summary's time unit: a scalar or an array broadcastable to (n_customers,).

        Returns
        -------
        numpy.ndarray of shape (n_customers,)
        """
        x, tx, T = self._arrays(summary, "expected_purchases")
        t_arr = check_horizon(t, "FittedParetoNBD.expected_purchases()")
        _check_broadcast(x, "expected_purchases", t=t_arr)
        return _paretonbd.expected_purchases(self.param_array(), x, tx, T, t_arr)

    def probability_alive(self, summary: CustomerSummary) -> FloatArray:
        """P(customer still active at T | x, t_x, T).

        Unlike BG/NBD, a customer without repeat purchases can have dropped out since the first
        purchase, so P(alive) < 1 whenever ``t_x < T``; it is 1 exactly when ``t_x == T``.

        Parameters
        ----------
        summary:
            Customers, shape (n_customers,).

        Returns
        -------
        numpy.ndarray of shape (n_customers,), values in [0, 1]
        """
        x, tx, T = self._arrays(summary, "probability_alive")
        return _paretonbd.probability_alive(self.param_array(), x, tx, T)

    def probability_of_purchases(self, summary: CustomerSummary, n: Any, t: Any) -> FloatArray:
        """P(exactly ``n`` purchases in (T, T+t] | x, t_x, T).

        Parameters
        ----------
        summary:
            Customers, shape (n_customers,).
        n:
            Number of purchases: a whole number >= 0, or an array of them broadcastable to
            (n_customers,).
        t:
            Horizon in the summary's time unit: a scalar or an array broadcastable to (n_customers,).

        Returns
        -------
        numpy.ndarray of shape (n_customers,) (the broadcast shape), values in [0, 1]
        """
        x, tx, T = self._arrays(summary, "probability_of_purchases")
        n_arr = check_count(n, "FittedParetoNBD.probability_of_purchases()")
        t_arr = check_horizon(t, "FittedParetoNBD.probability_of_purchases()")
        _check_broadcast(x, "probability_of_purchases", n=n_arr, t=t_arr)
        return _paretonbd.probability_of_purchases(self.param_array(), x, tx, T, n_arr, t_arr)

    def expected_purchases_new_customer(self, t: Any) -> FloatArray:
        """E[X(t)]: expected repeat purchases of a newly acquired customer in ``t`` time units.

        Parameters
        ----------
        t:
            Horizon(s) in the model's time unit: a scalar or an array of any shape.

        Returns
        -------
        numpy.ndarray of the shape of ``t``
        """
        t_arr = check_horizon(t, "FittedParetoNBD.expected_purchases_new_customer()")
        return _paretonbd.expected_purchases_new(self.param_array(), t_arr)

    def discounted_expected_residual_transactions(self, summary: CustomerSummary, discount_rate: Any) -> FloatArray:
        """DERT: the present value of all future purchases at continuous discount rate ``discount_rate``.

        ``DERT = integral_T^inf E[purchase rate at tau | x, t_x, T] exp(-delta (tau - T)) d tau``
        (Fader, Hardie & Lee 2005, "RFM and CLV"); multiply by margin and expected spend for CLV.

        Parameters
        ----------
        summary:
            Customers, shape (n_customers,).
        discount_rate:
            ``delta`` > 0, continuously compounded per time unit of the summary: an annual rate ``d``
            is ``delta = log(1 + d) / 52`` on a weekly summary (the paper's 15% a year gives
            ``delta = 0.0027`` per week).

        Returns
        -------
        numpy.ndarray of shape (n_customers,)
        """
        x, tx, T = self._arrays(summary, "discounted_expected_residual_transactions")
        delta = _check_rate(discount_rate, "FittedParetoNBD.discounted_expected_residual_transactions()")
        return _paretonbd.dert(self.param_array(), x, tx, T, delta)


def _groups_from(data: Mapping[str, FloatArray]) -> _paretonbd.Groups | None:
    if "group_inv_x" not in data:
        return None

    def pos(name: str) -> npt.NDArray[np.intp]:
        return data["group_" + name].astype(np.intp)

    return _paretonbd.Groups(
        x_u=data["group_x_u"], inv_x=pos("inv_x"),
        x_tx=data["group_x_tx"], tx_u=data["group_tx_u"], inv_tx=pos("inv_tx"),
        x_age=data["group_x_age"], age_u=data["group_age_u"], inv_age=pos("inv_age"),
    )


class ParetoNBD(Engine):
    """Pareto/NBD engine: maximum-likelihood fit on a :class:`~clvkit.CustomerSummary`.

    Uses the shared estimation routine: log-scale parameters, analytic gradient, compressed rows,
    standard errors from the observed information. The likelihood is evaluated in the numerically
    stable form of :mod:`clvkit.valuation.models._paretonbd` (finite for frequencies in the thousands, where
    the textbook hypergeometric form overflows).

    Examples
    --------
    >>> from clvkit.datasets import load_cdnow_summary
    >>> fitted = ParetoNBD().fit(load_cdnow_summary())
    >>> {k: round(v, 2) for k, v in fitted.params.model_dump().items()}
    {'r': 0.55, 'alpha': 10.58, 's': 0.61, 'beta': 11.67}
    >>> round(fitted.log_likelihood, 2)
    -9594.98
    """

    name: ClassVar[str] = "ParetoNBD"
    param_names: ClassVar[tuple[str, ...]] = ("r", "alpha", "s", "beta")

    def _loglik(self, params: FloatArray, data: Mapping[str, FloatArray]) -> tuple[FloatArray, FloatArray]:
        return _paretonbd.loglik(params, data["x"], data["tx"], data["T"], _groups_from(data))

    def _prepare(self, summary: CustomerSummary) -> tuple[dict[str, FloatArray], FloatArray]:
        (x, tx, T), w, _ = unique_rows([summary.frequency, summary.recency, summary.T], summary.weights_or_ones())
        data = {"x": x, "tx": tx, "T": T}
        # The distinct (x), (x, tx) and (x, T) values, computed once per fit. The data mapping holds
        # float arrays only, so positions are stored as float64 (exact below 2**53).
        groups = _paretonbd.group_rows(x, tx, T)
        for name, value in zip(_paretonbd.Groups._fields, groups, strict=True):
            data["group_" + name] = value.astype(np.float64)
        return data, w

    def _default_start(self, data: Mapping[str, FloatArray], weights: FloatArray) -> FloatArray:
        # r = s = 1 and alpha = beta = c with c matching the mean frequency: at r = s = 1, alpha = beta
        # the expected repeat purchases of a customer of age T are log(1 + T/c), so c solves
        # mean(log(1 + T/c)) = mean(x) (monotone in c; bisection on the log scale). alpha == beta also
        # makes the first likelihood evaluation a one-term series. Unit-free: c scales with T.
        total = float(weights.sum())
        T = data["T"]
        mean_x = max(float(weights @ data["x"]) / total, 1e-3)
        mean_T = max(float(weights @ T) / total, 1e-6)
        lo, hi = math.log(mean_T) - 30.0, math.log(mean_T) + 30.0
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            if float(weights @ np.log1p(T / math.exp(mid))) / total > mean_x:
                lo = mid
            else:
                hi = mid
        c = math.exp(0.5 * (lo + hi))
        return np.array([1.0, c, 1.0, c])

    def fit(self, summary: CustomerSummary, *, progress: ProgressCallback | None = None) -> FittedParetoNBD:
        """Fit by maximum likelihood; returns a new immutable :class:`FittedParetoNBD`.

        Parameters
        ----------
        summary:
            Customers' ``frequency``, ``recency``, ``T`` (and optional ``weights``).
        progress:
            Optional callback receiving a :class:`~clvkit.valuation.FitProgress` after each iteration.

        Raises
        ------
        ConvergenceError
            If no optimum is found; the message suggests what to change.
        """
        params, info = self._estimate(summary, progress)
        return FittedParetoNBD(params=ParetoNBDParams(**params), time_unit=summary.time_unit, fit_info=info)
