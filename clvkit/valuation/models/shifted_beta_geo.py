"""The shifted-beta-geometric contract model (Fader & Hardie 2007, 2010).

Engine :class:`ShiftedBetaGeo`, result :class:`FittedShiftedBetaGeo`, parameters
:class:`ShiftedBetaGeoParams`. The engine reads a :class:`~clvkit.ContractSummary` (not a
:class:`~clvkit.CustomerSummary`), so it overrides ``fit`` but runs the same shared estimation routine
(:func:`~clvkit.valuation.models._estimation.maximize_likelihood`) on compressed rows with an analytic gradient,
and reports a :class:`~clvkit.valuation.FitInfo` built the same way as every other engine.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from ..._validation import check_scalar
from ...contracts import ContractSummary
from ...errors import InvalidInputError, ModelDomainError
from . import _sbg
from ._base import Engine, FittedModel, ModelParams, PositiveFinite, ProgressCallback

__all__ = ["FittedShiftedBetaGeo", "ShiftedBetaGeo", "ShiftedBetaGeoParams"]

FloatArray = npt.NDArray[np.float64]


class ShiftedBetaGeoParams(ModelParams):
    """sBG parameters: the per-period churn probability ``theta ~ Beta(alpha, beta)`` across customers."""

    alpha: PositiveFinite
    beta: PositiveFinite


def check_periods(t: Any, where: str, name: str = "t", minimum: int = 0) -> FloatArray:
    """Whole numbers of periods ``>= minimum`` (scalar or array) as float64, or a typed error."""
    try:
        arr = np.asarray(t, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidInputError(
            f"The '{name}' parameter of {where} must be a whole number of periods >= {minimum}. Got {t!r} instead."
        ) from None
    if not np.all(np.isfinite(arr)) or np.any(arr < minimum) or np.any(arr != np.floor(arr)):
        raise InvalidInputError(
            f"The '{name}' parameter of {where} must be a whole number of periods >= {minimum}. Got {t!r} instead."
        )
    return arr


class FittedShiftedBetaGeo(FittedModel):
    """An sBG model with known parameters: retention curves, expected lifetimes and residual values.

    Build it by fitting (:meth:`ShiftedBetaGeo.fit`) or directly from parameters. Horizons ``t`` are whole
    numbers of periods (``time_unit`` says how long one period is); every method accepts a scalar or an
    array and returns an array of the same shape.

    References
    ----------
    P. S. Fader and B. G. S. Hardie (2007), "How to Project Customer Retention", Journal of Interactive
    Marketing 21(1), 76-90. P. S. Fader and B. G. S. Hardie (2010), "Customer-Base Valuation in a
    Contractual Setting: The Perils of Ignoring Heterogeneity", Marketing Science 29(1), 85-93.

    Examples
    --------
    The "high end" cohort estimates of Fader & Hardie (2007):

    >>> m = FittedShiftedBetaGeo(params=ShiftedBetaGeoParams(alpha=0.668, beta=3.806), time_unit="Y")
    >>> m.survival([1, 7, 12]).round(3).tolist()
    [0.851, 0.489, 0.378]
    >>> m.retention_rate([1, 2, 12]).round(3).tolist()
    [0.851, 0.878, 0.957]
    >>> m.expected_survivors(1000, 12).round(1).tolist()
    378.0
    >>> m.discounted_expected_residual_lifetime([0, 7], discount_rate=0.1).round(3).tolist()
    [5.415, 7.53]
    """

    model_name: ClassVar[str] = "ShiftedBetaGeo"
    params: ShiftedBetaGeoParams

    def _check_contracts(self, contracts: ContractSummary, where: str) -> None:
        if contracts.time_unit != self.time_unit:
            raise InvalidInputError(
                f"FittedShiftedBetaGeo.{where}(): the model was fitted on periods of {self.time_unit!r} but the "
                f"contracts have periods of {contracts.time_unit!r}. Refit on contracts of this period length."
            )

    def survival(self, t: Any) -> FloatArray:
        """``S(t)``: probability a new customer is still active after ``t`` periods (``t`` renewals).

        Parameters
        ----------
        t:
            Whole number(s) of periods ``>= 0``.

        Returns
        -------
        numpy.ndarray
            Same shape as ``t``; in [0, 1], 1 at ``t = 0``, non-increasing.
        """
        t_arr = check_periods(t, "FittedShiftedBetaGeo.survival()")
        return _sbg.survival(self.param_array(), t_arr)

    def retention_rate(self, t: Any) -> FloatArray:
        """``r_t = (beta + t - 1)/(alpha + beta + t - 1)``: share of those active in period ``t`` who renew.

        Parameters
        ----------
        t:
            Whole number(s) of periods ``>= 1``.
        """
        t_arr = check_periods(t, "FittedShiftedBetaGeo.retention_rate()", minimum=1)
        return _sbg.retention_rate(self.param_array(), t_arr)

    def probability_churn(self, t: Any) -> FloatArray:
        """``P(T = t)``: probability a new customer's contract ends in period ``t`` (0 for ``t = 0``)."""
        t_arr = check_periods(t, "FittedShiftedBetaGeo.probability_churn()")
        return _sbg.probability_churn(self.param_array(), t_arr)

    def expected_lifetime(self) -> float:
        """Mean number of periods a new customer stays, counting the first: ``(alpha + beta - 1)/(alpha - 1)``.

        Raises
        ------
        ModelDomainError
            When ``alpha <= 1``: the mean lifetime is then infinite (a heavy tail of near-certain
            renewers). Use :meth:`discounted_expected_residual_lifetime` with a positive discount rate.
        """
        value = _sbg.expected_lifetime(self.param_array())
        if not np.isfinite(value):
            raise ModelDomainError(
                f"The sBG mean lifetime is infinite for alpha <= 1 (alpha = {self.params.alpha:g}): some customers "
                f"almost never churn. Use discounted_expected_residual_lifetime() with a discount rate > 0."
            )
        return value

    def expected_survivors(self, n0: Any, t: Any) -> FloatArray:
        """Expected number still active after ``t`` periods out of a cohort of ``n0``: ``n0 * S(t)``."""
        n_arr = np.asarray(n0, dtype=np.float64)
        if not np.all(np.isfinite(n_arr)) or np.any(n_arr < 0):
            raise InvalidInputError(
                f"The 'n0' parameter of FittedShiftedBetaGeo.expected_survivors() must be finite and non-negative. "
                f"Got {n0!r} instead."
            )
        t_arr = check_periods(t, "FittedShiftedBetaGeo.expected_survivors()")
        out: FloatArray = n_arr * _sbg.survival(self.param_array(), t_arr)
        return out

    def _renewals(self, contracts_or_renewals: Any, where: str) -> tuple[FloatArray, FloatArray | None]:
        if isinstance(contracts_or_renewals, ContractSummary):
            self._check_contracts(contracts_or_renewals, where)
            active = ~contracts_or_renewals.churned
            return np.where(active, contracts_or_renewals.duration, 0.0), active.astype(np.float64)
        return check_periods(contracts_or_renewals, f"FittedShiftedBetaGeo.{where}()", "n_renewals"), None

    def discounted_expected_residual_lifetime(self, contracts_or_renewals: Any, discount_rate: float) -> FloatArray:
        """DERL: expected discounted number of future renewals (Fader & Hardie 2010, eq. 6).

        For a customer who has made ``n - 1`` renewals, standing just before the ``n``-th renewal decision,

        ``DERL = sum_{t >= n} S(t)/S(n-1) / (1+d)^(t-n)
        = (beta+n-1)/(alpha+beta+n-1) * 2F1(1, beta+n; alpha+beta+n; 1/(1+d))``.

        The next renewal is counted undiscounted (it happens now, with probability ``r_n``); multiplied by
        the net cash flow per period this is the customer's expected residual value
        (:meth:`expected_residual_value`).

        Parameters
        ----------
        contracts_or_renewals:
            Either a :class:`~clvkit.ContractSummary` (result of shape (n_contracts,): active contracts
            have made ``duration`` renewals; churned contracts have no residual lifetime, 0), or whole
            number(s) of renewals already made, ``n - 1 >= 0`` (0 for a customer in the first period).
        discount_rate:
            ``d`` per period, ``>= 0``. At 0 the result is the undiscounted expected residual lifetime.

        Returns
        -------
        numpy.ndarray
            Same shape as the renewals (or (n_contracts,)).

        Raises
        ------
        ModelDomainError
            When ``discount_rate == 0`` and ``alpha <= 1`` (the undiscounted residual lifetime is infinite).
        """
        where = "discounted_expected_residual_lifetime"
        d = check_scalar(discount_rate, "discount_rate", f"FittedShiftedBetaGeo.{where}()", low=0.0,
                         high=math.inf, high_open=True)
        renewals, active = self._renewals(contracts_or_renewals, where)
        if d == 0.0 and self.params.alpha <= 1.0 and (active is None or active.any()) and renewals.size:
            raise ModelDomainError(
                f"With discount_rate = 0 the sBG residual lifetime is infinite for alpha <= 1 "
                f"(alpha = {self.params.alpha:g}). Pass a positive discount rate."
            )
        values = _sbg.derl(self.param_array(), renewals, d)
        if active is not None:
            values = np.where(active > 0, values, 0.0)
        return values

    def expected_residual_value(self, contracts_or_renewals: Any, value_per_period: Any,
                                discount_rate: float) -> FloatArray:
        """Expected residual value ``value_per_period * DERL`` (Fader & Hardie 2010).

        Arguments in the order every residual method of clvkit takes them: the customers first, the
        discount rate last.

        Parameters
        ----------
        contracts_or_renewals:
            Renewals already made, or a :class:`~clvkit.ContractSummary` (see
            :meth:`discounted_expected_residual_lifetime`).
        value_per_period:
            Net cash flow received at each renewal (scalar or array broadcastable to the renewals).
        discount_rate:
            ``d`` per period, ``>= 0``.

        Examples
        --------
        >>> m = FittedShiftedBetaGeo(params=ShiftedBetaGeoParams(alpha=0.704, beta=1.182), time_unit="Y")
        >>> m.expected_residual_value([0, 1, 4], 100.0, 0.1).round(2).tolist()
        [296.47, 410.35, 589.44]
        """
        v = np.asarray(value_per_period, dtype=np.float64)
        if not np.all(np.isfinite(v)):
            raise InvalidInputError(
                f"The 'value_per_period' parameter of FittedShiftedBetaGeo.expected_residual_value() must be "
                f"finite. Got {value_per_period!r} instead."
            )
        out: FloatArray = v * self.discounted_expected_residual_lifetime(contracts_or_renewals, discount_rate)
        return out

    def residual_value(self, value_per_period: Any, discount_rate: float, n_renewals: Any) -> FloatArray:
        """Deprecated: :meth:`expected_residual_value` with the arguments ``(n_renewals, value_per_period,
        discount_rate)``, the order of :meth:`discounted_expected_residual_lifetime`."""
        warnings.warn("FittedShiftedBetaGeo.residual_value(value_per_period, discount_rate, n_renewals) is "
                      "deprecated and will be removed in clvkit 0.3; use expected_residual_value(n_renewals, "
                      "value_per_period, discount_rate).", DeprecationWarning, stacklevel=2)
        return self.expected_residual_value(n_renewals, value_per_period, discount_rate)


class ShiftedBetaGeo(Engine[ContractSummary, FittedShiftedBetaGeo]):
    """sBG engine: maximum-likelihood fit on a :class:`~clvkit.ContractSummary`.

    Uses the shared estimation routine: log-scale parameters, analytic gradient, compressed rows,
    standard errors from the observed information.

    Examples
    --------
    The "regular" cohort of Fader & Hardie (2007), calibrated on its first seven years:

    >>> from clvkit import ContractSummary
    >>> alive = [1000, 631, 468, 382, 326, 289, 262, 241]
    >>> fitted = ShiftedBetaGeo().fit(ContractSummary.from_survival_counts(alive, time_unit="Y"))
    >>> {k: round(v, 3) for k, v in fitted.params.model_dump().items()}
    {'alpha': 0.704, 'beta': 1.182}
    >>> round(fitted.log_likelihood, 1)
    -1680.3
    >>> fitted.expected_survivors(1000, [8, 12]).round(1).tolist()
    [220.1, 170.0]
    """

    name: ClassVar[str] = "ShiftedBetaGeo"
    fitted_class: ClassVar[type[FittedModel]] = FittedShiftedBetaGeo
    data_type: ClassVar[type[Any]] = ContractSummary
    row_noun: ClassVar[str] = "contract"
    data_hint: ClassVar[str] = (
        "build one with ContractSummary(duration, churned) or ContractSummary.from_survival_counts(alive)"
    )

    def fit(self, contracts: ContractSummary, *, purchase_covariates: Any = None, dropout_covariates: Any = None,
            equal: Any = (), spend_covariates: Any = None, progress: ProgressCallback | None = None
            ) -> FittedShiftedBetaGeo:
        """Fit by maximum likelihood on contracts (:meth:`Engine.fit <clvkit.valuation.Engine.fit>`; the
        argument keeps its name ``contracts``). The model takes no covariates yet: passing them is a typed
        error."""
        return super().fit(contracts, purchase_covariates=purchase_covariates, dropout_covariates=dropout_covariates,
                           equal=equal, spend_covariates=spend_covariates, progress=progress)

    def _loglik(self, params: FloatArray, data: Mapping[str, FloatArray]) -> tuple[FloatArray, FloatArray]:
        return _sbg.loglik(params, data["duration"], data["churned"])

    def _prepare(self, contracts: ContractSummary) -> tuple[dict[str, npt.NDArray[Any]], FloatArray]:
        """Compressed contracts; refuses data that cannot identify the model.

        With no contract churned (retention looks perfect) or none ever renewed (churn looks certain) the
        likelihood keeps rising towards a boundary of the parameter space: a typed error says so.
        """
        z = contracts.compress().summary
        data: dict[str, npt.NDArray[Any]] = {"duration": z.duration, "churned": z.churned.astype(np.float64)}
        churned = data["churned"] > 0
        renewals = data["duration"] - data["churned"]
        if churned.size and (not churned.any() or not (renewals > 0).any()):
            what = "no contract churned" if not churned.any() else "no contract ever renewed"
            raise InvalidInputError(
                f"ShiftedBetaGeo.fit(): {what}, so the sBG likelihood has no maximum (it keeps rising towards "
                f"a boundary of the parameter space). Fit on contracts with both churn and renewals."
            )
        return data, z.weights_or_ones()
