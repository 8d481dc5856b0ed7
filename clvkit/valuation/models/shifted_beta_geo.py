"""The shifted-beta-geometric contract model (Fader & Hardie 2007, 2010).

Engine :class:`ShiftedBetaGeo`, result :class:`FittedShiftedBetaGeo`, parameters
:class:`ShiftedBetaGeoParams`. The engine reads a :class:`~clvkit.ContractSummary` (not a
:class:`~clvkit.CustomerSummary`), so it overrides ``fit`` but runs the same shared estimation routine
(:func:`~clvkit.valuation.models._estimation.maximize_likelihood`) on compressed rows with an analytic gradient,
and reports a :class:`~clvkit.valuation.FitInfo` built the same way as every other engine.

Static covariates (``ShiftedBetaGeo().fit(contracts, covariates=...)``) enter through the one template as a
``dropout`` process scaling ``alpha``: ``alpha_i = alpha exp(gamma' z_i)``, so a positive coefficient means a
higher churn probability (the direction of Pareto/NBD's dropout coefficients).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, overload

import numpy as np
import numpy.typing as npt

from ..._validation import check_scalar
from ...contracts import ContractSummary
from ...errors import InvalidInputError, ModelDomainError
from ...protocols import CovariateMatrix
from . import _sbg
from ._base import Engine, FittedModel, ModelParams, PositiveFinite, ProgressCallback
from ._covariates import CoefficientLayout, Links

__all__ = ["FittedShiftedBetaGeo", "ShiftedBetaGeo", "ShiftedBetaGeoParams"]

FloatArray = npt.NDArray[np.float64]
_Groups = list[tuple[npt.NDArray[np.intp] | None, FloatArray]]


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

    A model fitted with covariates (``alpha_i = alpha exp(gamma' z_i)``; ``coefficients`` is
    ``{"dropout": {name: value}}``, standard errors are keyed ``"dropout.<name>"``) predicts per customer, and
    every method then needs ``covariates=`` for the customers predicted: the methods of a horizon or a number
    of renewals (:meth:`survival`, :meth:`retention_rate`, :meth:`probability_churn`,
    :meth:`expected_survivors`, :meth:`expected_lifetime`, and the residual methods given renewal counts) return
    one row per customer of the covariates, in their ``customer_id`` order - shape ``(n_customers, *shape)``,
    row ``i`` the model without covariates at ``alpha_i`` - and the residual methods given a
    :class:`~clvkit.ContractSummary` match the covariates by the contracts' ``customer_id`` (shape
    ``(n_contracts,)``).

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

    With a covariate raising ``alpha`` by ``exp(0.5)`` for customer ``"b"``, one survival curve per customer
    (``S(1) = beta / (alpha_i + beta)``: 1.182 / (0.704 + 1.182) = 0.627 and 1.182 / (1.161 + 1.182) = 0.505):

    >>> from clvkit import Covariates
    >>> m = FittedShiftedBetaGeo(params=ShiftedBetaGeoParams(alpha=0.704, beta=1.182), time_unit="Y",
    ...                          coefficients={"dropout": {"phone": 0.5}})
    >>> cov = Covariates.static({"id": ["a", "b"], "phone": [0.0, 1.0]}, customer_id="id", columns=["phone"])
    >>> m.survival([1, 2], covariates=cov).round(3).tolist()
    [[0.627, 0.474], [0.505, 0.329]]
    """

    model_name: ClassVar[str] = "ShiftedBetaGeo"
    #: ``alpha_i = alpha exp(gamma' z_i)``: a positive coefficient raises the churn probability.
    covariate_links: ClassVar[Links] = {"dropout": ((0, 1.0),)}
    covariate_keywords: ClassVar[Mapping[str, str]] = {"dropout": "covariates"}
    #: ``exp(gamma)`` multiplies ``alpha`` and so the mean churn odds ``E[theta] / E[1 - theta] = alpha / beta``.
    covariate_readings: ClassVar[Mapping[str, str]] = {"dropout": "churn odds alpha/beta"}
    params: ShiftedBetaGeoParams

    def _check_contracts(self, contracts: ContractSummary, where: str) -> None:
        if contracts.time_unit != self.time_unit:
            raise InvalidInputError(
                f"FittedShiftedBetaGeo.{where}(): the model was fitted on periods of {self.time_unit!r} but the "
                f"contracts have periods of {contracts.time_unit!r}. Refit on contracts of this period length."
            )

    def _customer_groups(self, covariates: Any, where: str) -> tuple[int, _Groups] | None:
        """The customers of ``covariates`` grouped by their parameters, or ``None`` for the population curve."""
        full = f"FittedShiftedBetaGeo.{where}()"
        if covariates is None:
            if self.has_covariates:
                raise InvalidInputError(
                    f"{full}: this model was fitted with covariates, so it predicts per customer; pass covariates= "
                    f"(e.g. clvkit.Covariates.static(...)) for the customers to predict for."
                )
            return None
        if not self.has_covariates:
            self._param_groups_of(None, where, {"dropout": covariates})  # raises: fitted without covariates
        ids = getattr(covariates, "customer_id", None)
        if ids is None:
            raise InvalidInputError(
                f"{full}: the covariates must list their customers in a 'customer_id' array (as "
                f"clvkit.Covariates does); the result has one row per customer. Got {type(covariates).__name__}."
            )
        ids = np.asarray(ids)
        return int(ids.shape[0]), self._param_groups_of(ids, where, {"dropout": covariates})

    def _per_customer(self, where: str, covariates: Any, shape: tuple[int, ...],
                      curve: Callable[[FloatArray], FloatArray]) -> FloatArray:
        """``curve`` at the model's parameters, or one row per customer of ``covariates`` at theirs."""
        groups = self._customer_groups(covariates, where)
        if groups is None:
            return curve(self.param_array())
        n, parts = groups
        out: FloatArray = np.empty((n, *shape))
        for idx, params in parts:
            out[idx] = curve(params)
        return out

    def survival(self, t: Any, *, covariates: Any = None) -> FloatArray:
        """``S(t)``: probability a new customer is still active after ``t`` periods (``t`` renewals).

        Parameters
        ----------
        t:
            Whole number(s) of periods ``>= 0``.
        covariates:
            For a model fitted with covariates (and only then): the customers' covariates (e.g.
            ``clvkit.Covariates.static(...)``); the result then has one row per customer.

        Returns
        -------
        numpy.ndarray
            Same shape as ``t`` (with covariates ``(n_customers, *t.shape)``); in [0, 1], 1 at ``t = 0``,
            non-increasing.

        Raises
        ------
        InvalidInputError
            For ``t`` not whole and ``>= 0``; covariates missing for a model fitted with them, passed to one
            fitted without, or lacking a covariate of the fit.
        """
        t_arr = check_periods(t, "FittedShiftedBetaGeo.survival()")
        return self._per_customer("survival", covariates, t_arr.shape, lambda p: _sbg.survival(p, t_arr))

    def retention_rate(self, t: Any, *, covariates: Any = None) -> FloatArray:
        """``r_t = (beta + t - 1)/(alpha + beta + t - 1)``: share of those active in period ``t`` who renew.

        Parameters
        ----------
        t:
            Whole number(s) of periods ``>= 1``.
        covariates:
            For a model fitted with covariates: the customers' covariates (result ``(n_customers, *t.shape)``).
        """
        t_arr = check_periods(t, "FittedShiftedBetaGeo.retention_rate()", minimum=1)
        return self._per_customer("retention_rate", covariates, t_arr.shape,
                                  lambda p: _sbg.retention_rate(p, t_arr))

    def probability_churn(self, t: Any, *, covariates: Any = None) -> FloatArray:
        """``P(T = t)``: probability a new customer's contract ends in period ``t`` (0 for ``t = 0``).

        With ``covariates`` (a model fitted with them): one row per customer, ``(n_customers, *t.shape)``.
        """
        t_arr = check_periods(t, "FittedShiftedBetaGeo.probability_churn()")
        return self._per_customer("probability_churn", covariates, t_arr.shape,
                                  lambda p: _sbg.probability_churn(p, t_arr))

    @overload
    def expected_lifetime(self, *, covariates: None = None) -> float: ...

    @overload
    def expected_lifetime(self, *, covariates: CovariateMatrix) -> FloatArray: ...

    def expected_lifetime(self, *, covariates: Any = None) -> float | FloatArray:
        """Mean number of periods a new customer stays, counting the first: ``(alpha + beta - 1)/(alpha - 1)``.

        With ``covariates`` (a model fitted with them): an array of shape (n_customers,), each customer's
        ``(alpha_i + beta - 1)/(alpha_i - 1)``.

        Raises
        ------
        ModelDomainError
            When ``alpha <= 1`` (with covariates: some ``alpha_i <= 1``): the mean lifetime is then infinite
            (a heavy tail of near-certain renewers). Use :meth:`discounted_expected_residual_lifetime` with a
            positive discount rate.
        """
        out = self._per_customer("expected_lifetime", covariates, (),
                                 lambda p: np.asarray(_sbg.expected_lifetime(p), dtype=np.float64))
        infinite = ~np.isfinite(out)
        if infinite.any():
            if out.ndim == 0:
                who = f"alpha = {self.params.alpha:g}"
            else:
                first = int(np.flatnonzero(infinite)[0])
                who = (f"alpha_i <= 1 for {int(infinite.sum())} of {out.shape[0]} customers, first customer "
                       f"{np.asarray(covariates.customer_id)[first].tolist()!r}")
            raise ModelDomainError(
                f"The sBG mean lifetime is infinite for alpha <= 1 ({who}): some customers almost never churn. "
                f"Use discounted_expected_residual_lifetime() with a discount rate > 0."
            )
        return float(out) if out.ndim == 0 else out

    def expected_survivors(self, n0: Any, t: Any, *, covariates: Any = None) -> FloatArray:
        """Expected number still active after ``t`` periods out of a cohort of ``n0``: ``n0 * S(t)``.

        With ``covariates`` (a model fitted with them): one row per customer, ``n0 * S_i(t)`` - a cohort of
        ``n0`` customers like customer ``i`` - of shape ``(n_customers, *shape)`` (``shape`` of ``n0`` and
        ``t`` broadcast); ``.mean(axis=0)`` is a cohort of ``n0`` with these customers' mix.
        """
        n_arr = np.asarray(n0, dtype=np.float64)
        if not np.all(np.isfinite(n_arr)) or np.any(n_arr < 0):
            raise InvalidInputError(
                f"The 'n0' parameter of FittedShiftedBetaGeo.expected_survivors() must be finite and non-negative. "
                f"Got {n0!r} instead."
            )
        t_arr = check_periods(t, "FittedShiftedBetaGeo.expected_survivors()")
        try:
            shape = np.broadcast_shapes(n_arr.shape, t_arr.shape)
        except ValueError:
            raise InvalidInputError(
                f"FittedShiftedBetaGeo.expected_survivors(): 'n0' (shape {n_arr.shape}) and 't' (shape "
                f"{t_arr.shape}) must broadcast together."
            ) from None
        return self._per_customer("expected_survivors", covariates, shape,
                                  lambda p: np.asarray(n_arr * _sbg.survival(p, t_arr), dtype=np.float64))

    def _renewals(self, contracts_or_renewals: Any, where: str) -> tuple[FloatArray, FloatArray | None]:
        if isinstance(contracts_or_renewals, ContractSummary):
            self._check_contracts(contracts_or_renewals, where)
            active = ~contracts_or_renewals.churned
            return np.where(active, contracts_or_renewals.duration, 0.0), active.astype(np.float64)
        return check_periods(contracts_or_renewals, f"FittedShiftedBetaGeo.{where}()", "n_renewals"), None

    def discounted_expected_residual_lifetime(self, contracts_or_renewals: Any, discount_rate: float, *,
                                              covariates: Any = None) -> FloatArray:
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
        covariates:
            For a model fitted with covariates (and only then): the customers' covariates, matched by the
            contracts' ``customer_id``; with renewal counts instead of contracts, the result has one row per
            customer of the covariates.

        Returns
        -------
        numpy.ndarray
            Same shape as the renewals (with covariates ``(n_customers, *renewals.shape)``), or (n_contracts,).

        Raises
        ------
        ModelDomainError
            When ``discount_rate == 0`` and ``alpha <= 1`` (the undiscounted residual lifetime is infinite).
        InvalidInputError
            For bad renewals or rate; covariates missing for a model fitted with them (or the contracts without
            ``customer_id``), passed to one fitted without, or lacking a covariate of the fit.
        """
        where = "discounted_expected_residual_lifetime"
        d = check_scalar(discount_rate, "discount_rate", f"FittedShiftedBetaGeo.{where}()", low=0.0,
                         high=math.inf, high_open=True)
        renewals, active = self._renewals(contracts_or_renewals, where)
        beta = self.params.beta  # the link scales alpha only
        # With covariates: one vectorised evaluation at every customer's alpha_i (_sbg.derl_rows), not one
        # continued fraction per customer group (a continuous covariate has a group per customer).
        if active is None:
            groups = self._customer_groups(covariates, where)
            if groups is None:
                return _derl(self.param_array(), renewals, d, None)
            n, parts = groups
            shape = (n, *renewals.shape)
            alpha = np.broadcast_to(_alpha_by_row(parts, n).reshape((n,) + (1,) * renewals.ndim), shape)
            return _derl_rows(alpha, beta, np.broadcast_to(renewals, shape), d, None,
                              np.asarray(covariates.customer_id))
        contracts: ContractSummary = contracts_or_renewals
        parts = self._param_groups(contracts, where, {"dropout": covariates})
        if parts[0][0] is None:
            values = _derl(self.param_array(), renewals, d, active)
        else:
            values = _derl_rows(_alpha_by_row(parts, len(contracts)), beta, renewals, d, active,
                                np.asarray(contracts.customer_id))
        out: FloatArray = np.where(active > 0, values, 0.0)
        return out

    def expected_residual_value(self, contracts_or_renewals: Any, value_per_period: Any,
                                discount_rate: float, *, covariates: Any = None) -> FloatArray:
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
        covariates:
            For a model fitted with covariates: the customers' covariates (see
            :meth:`discounted_expected_residual_lifetime` for the shape of the result).

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
        out: FloatArray = v * self.discounted_expected_residual_lifetime(contracts_or_renewals, discount_rate,
                                                                         covariates=covariates)
        return out

    def residual_value(self, value_per_period: Any, discount_rate: float, n_renewals: Any, *,
                       covariates: Any = None) -> FloatArray:
        """Deprecated: :meth:`expected_residual_value` with the arguments ``(n_renewals, value_per_period,
        discount_rate)``, the order of :meth:`discounted_expected_residual_lifetime`."""
        warnings.warn("FittedShiftedBetaGeo.residual_value(value_per_period, discount_rate, n_renewals) is "
                      "deprecated and will be removed in clvkit 0.3; use expected_residual_value(n_renewals, "
                      "value_per_period, discount_rate).", DeprecationWarning, stacklevel=2)
        return self.expected_residual_value(n_renewals, value_per_period, discount_rate, covariates=covariates)


def _derl(params: FloatArray, renewals: FloatArray, d: float, active: FloatArray | None) -> FloatArray:
    """DERL at ``params``; refuses the infinite undiscounted value (``alpha <= 1``) where a customer is active."""
    if d == 0.0 and params[0] <= 1.0 and (active is None or active.any()) and renewals.size:
        raise ModelDomainError(
            f"With discount_rate = 0 the sBG residual lifetime is infinite for alpha <= 1 "
            f"(alpha = {params[0]:g}). Pass a positive discount rate."
        )
    return _sbg.derl(params, renewals, d)


def _alpha_by_row(groups: _Groups, n: int) -> FloatArray:
    """Every customer's ``alpha_i`` from the customers grouped by their parameters."""
    alpha: FloatArray = np.empty(n)
    for idx, params in groups:
        alpha[slice(None) if idx is None else idx] = params[0]
    return alpha


def _derl_rows(alpha: FloatArray, beta: float, renewals: FloatArray, d: float, active: FloatArray | None,
               ids: npt.NDArray[Any]) -> FloatArray:
    """DERL at each row's ``alpha_i`` (rows: ``ids``, along the first axis); refuses the infinite undiscounted
    value where an active customer has ``alpha_i <= 1``, naming the first one."""
    if d == 0.0 and renewals.size:
        bad = alpha <= 1.0 if active is None else (alpha <= 1.0) & (active > 0)
        by_customer = bad.reshape(bad.shape[0], -1).any(axis=1)
        if by_customer.any():
            first, count = int(np.flatnonzero(by_customer)[0]), int(by_customer.sum())
            raise ModelDomainError(
                f"With discount_rate = 0 the sBG residual lifetime is infinite for alpha_i <= 1 "
                f"({count} customer{'s' * (count != 1)}, first customer {ids[first].tolist()!r} with alpha_i = "
                f"{float(alpha.reshape(alpha.shape[0], -1)[first, 0]):g}). Pass a positive discount rate."
            )
    return _sbg.derl_rows(alpha, beta, renewals, d)


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

    def fit(self, contracts: ContractSummary, *, covariates: Any = None, purchase_covariates: Any = None,
            dropout_covariates: Any = None, equal: Any = (), spend_covariates: Any = None, regularization: Any = None,
            progress: ProgressCallback | None = None) -> FittedShiftedBetaGeo:
        """Fit by maximum likelihood on contracts (:meth:`Engine.fit <clvkit.valuation.Engine.fit>`; the
        argument keeps its name ``contracts``).

        Parameters
        ----------
        contracts:
            The contracts, with ``customer_id`` when covariates are given.
        covariates:
            Optional static covariates of the customers (a :class:`~clvkit.protocols.CovariateMatrix`, e.g.
            ``clvkit.Covariates.static(...)``), matched by ``contracts.customer_id``: the ``dropout`` process,
            ``alpha_i = alpha exp(gamma' z_i)`` (so ``dropout_covariates=`` is the same thing; pass one of
            them). The model takes no purchase or spend covariates and no ``equal``.
        regularization:
            Optional L2 regularisation of the coefficients, ``{"dropout": lam}`` (see
            :meth:`Engine.fit <clvkit.valuation.Engine.fit>`).
        progress:
            Optional callback receiving a :class:`~clvkit.valuation.FitProgress` after each iteration.

        Raises
        ------
        InvalidInputError
            For data that cannot identify the model, covariates that do not fit the contracts (no
            ``customer_id``, a customer without covariates, NaN, a column named twice, two identical
            columns), or covariates given both as ``covariates`` and ``dropout_covariates``.
        ConvergenceError
            If no optimum is found.

        Examples
        --------
        Customers of one channel simulated with ``alpha`` raised by ``exp(0.7) = 2.0``:

        >>> import numpy as np
        >>> class Columns:  # anything with names and align(customer_id) is a CovariateMatrix
        ...     names = ("phone",)
        ...     def __init__(self, z): self.z = z
        ...     def align(self, customer_id, /): return self.z[customer_id][:, None]
        >>> rng = np.random.default_rng(5)
        >>> phone = np.repeat([0.0, 1.0], 3000)
        >>> theta = rng.beta(0.8 * np.exp(0.7 * phone), 2.5)  # churn probability per period
        >>> lifetime = rng.geometric(theta)  # the period in which the contract ends
        >>> contracts = ContractSummary(np.minimum(lifetime, 8), lifetime <= 8, customer_id=np.arange(6000),
        ...                             time_unit="M")
        >>> fitted = ShiftedBetaGeo().fit(contracts, covariates=Columns(phone))
        >>> round(fitted.coefficients["dropout"]["phone"], 2), round(fitted.standard_errors["dropout.phone"], 2)
        (0.72, 0.03)
        """
        if covariates is not None:
            if dropout_covariates is not None:
                raise InvalidInputError(
                    "ShiftedBetaGeo.fit(): 'covariates' and 'dropout_covariates' are the same process (alpha_i = "
                    "alpha exp(gamma' z_i)); pass the covariates once, as covariates=."
                )
            if not (hasattr(covariates, "names") and callable(getattr(covariates, "align", None))):
                raise InvalidInputError(
                    f"The 'covariates' parameter of ShiftedBetaGeo.fit() must be covariates with 'names' and "
                    f"'align()' (build them with clvkit.Covariates.static(...)). Got {type(covariates).__name__} "
                    f"instead."
                )
            dropout_covariates = covariates
        return super().fit(contracts, purchase_covariates=purchase_covariates, dropout_covariates=dropout_covariates,
                           equal=equal, spend_covariates=spend_covariates, regularization=regularization,
                           progress=progress)

    def _loglik(self, params: FloatArray, data: Mapping[str, FloatArray]) -> tuple[FloatArray, FloatArray]:
        return _sbg.loglik(params, data["duration"], data["churned"])

    def _design(self, summary: Any, covariates: Mapping[str, Any], equal: Any) -> CoefficientLayout | None:
        design = super()._design(summary, covariates, equal)
        if design is not None and isinstance(summary, ContractSummary):
            _check_separation(summary, design)
        return design

    def _prepare_group(self, contracts: ContractSummary) -> tuple[dict[str, npt.NDArray[Any]], FloatArray]:
        # One covariate group may have no churn (or no renewal) of its own: identification is checked on all
        # contracts by _prepare.
        z = contracts.compress().summary
        return {"duration": z.duration, "churned": z.churned.astype(np.float64)}, z.weights_or_ones()

    def _prepare(self, contracts: ContractSummary) -> tuple[dict[str, npt.NDArray[Any]], FloatArray]:
        """Compressed contracts; refuses data that cannot identify the model.

        With no contract churned (retention looks perfect) or none ever renewed (churn looks certain) the
        likelihood keeps rising towards a boundary of the parameter space: a typed error says so.
        """
        data, weights = self._prepare_group(contracts)
        churned = data["churned"] > 0
        renewals = data["duration"] - data["churned"]
        if churned.size and (not churned.any() or not (renewals > 0).any()):
            what = "no contract churned" if not churned.any() else "no contract ever renewed"
            raise InvalidInputError(
                f"ShiftedBetaGeo.fit(): {what}, so the sBG likelihood has no maximum (it keeps rising towards "
                f"a boundary of the parameter space). Fit on contracts with both churn and renewals."
            )
        return data, weights


def _check_separation(contracts: ContractSummary, design: CoefficientLayout) -> None:
    """Refuse a two-valued covariate one of whose sides has no churn, or no renewal, at all.

    Such a side is fitted best at ``alpha_i -> 0`` (never churning) or ``alpha_i -> infinity`` (churning at the
    first chance), which that coefficient alone reaches, whatever the others: the likelihood has no maximum
    (separation, as in logistic regression), and the optimiser would stop at a huge coefficient with a huge
    standard error.
    """
    churned = contracts.churned
    renewed = contracts.duration - churned > 0
    z = design.z["dropout"]
    for name, index in design.columns["dropout"]:
        if index < 0:
            continue
        column = z[:, index]
        levels = np.unique(column)
        if levels.shape[0] != 2:
            continue
        for level in levels.tolist():
            side = column == level
            what = ("no contract churned" if not churned[side].any()
                    else "no contract renewed" if not renewed[side].any() else None)
            if what is not None:
                raise InvalidInputError(
                    f"ShiftedBetaGeo.fit(): among the contracts with covariate '{name}' = {level:g}, {what}, so its "
                    f"coefficient grows without bound (the likelihood has no maximum). Drop the covariate, merge "
                    f"its levels, or fit on more contracts."
                )
