"""The roles clvkit's parts play for each other, as :class:`typing.Protocol` classes, all in one place.

Structural: a model, engine or policy written outside clvkit plays a role by having the methods, with no
clvkit base class. Code that *uses* a model (:func:`~clvkit.valuation.clv`, the value engines, model
checking, uncertainty, the command line) relies on these protocols only, never on a concrete model class.

============================  ===============================================================================
role                          who plays it in clvkit
============================  ===============================================================================
:class:`TransactionModel`     every fitted count model (BG/NBD, MBG/NBD, Pareto/NBD, BG/BB): expected
                              purchases, shared across horizons - what :func:`~clvkit.valuation.clv` needs
:class:`CountModel`           the same models: the whole prediction surface model checking and the value
                              engines use (P(alive), purchase PMF, new customers, DERT, simulation)
:class:`SpendModel`           the fitted Gamma-Gamma model: expected spend per purchase
:class:`ContractModel`        the fitted sBG model: survival, retention, DERL, residual value
:class:`EstimatedModel`       every fitted model: parameters, fit diagnostics, a copy at other parameters
:class:`ValueEngine`          :class:`~clvkit.valuation.DirectValue`, :class:`~clvkit.valuation.CompositeValue`
:class:`IndirectValueSource`  :class:`~clvkit.valuation.ReferralGraph`, :class:`~clvkit.valuation.WordOfMouth`
:class:`TieringPolicy`        every tiering policy of :mod:`clvkit.tiering`
:class:`CovariateMatrix`      :class:`clvkit.Covariates`: covariate rows in the order of a summary's customers
============================  ===============================================================================

Conventions every implementation follows: horizons ``t`` are in the summary's time unit (the model's
``time_unit``); a ``discount_rate`` is discrete and per period of that time unit (``(1 + d)^-k`` after
``k`` periods); counts of random draws are called ``n_draws``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from .batch import CustomerSummary
    from .contracts import ContractSummary
    from .tiering._assignment import TierAssignment

__all__ = [
    "ContractModel",
    "CountModel",
    "CovariateMatrix",
    "EstimatedModel",
    "FitDiagnostics",
    "HeterogeneityModel",
    "IndirectValueSource",
    "MixingDensity",
    "SpendDensityModel",
    "SpendModel",
    "TieringPolicy",
    "TransactionModel",
    "ValueEngine",
]

FloatArray = npt.NDArray[np.float64]


@runtime_checkable
class CovariateMatrix(Protocol):
    """Covariates of customers, by name, that a fit or a prediction aligns with a summary's customer ids
    (``clvkit.Covariates`` plays it)."""

    @property
    def names(self) -> tuple[str, ...]:
        """The covariates' names, in column order."""
        ...

    def align(self, customer_id: npt.NDArray[Any], /) -> npt.NDArray[np.float64]:
        """The covariates of these customers, shape (n, k), rows in the order of ``customer_id``."""
        ...


@runtime_checkable
class FitDiagnostics(Protocol):
    """What model checking reads of a fit (:class:`~clvkit.valuation.FitInfo` plays it)."""

    @property
    def log_likelihood(self) -> float: ...

    @property
    def n_customers(self) -> float: ...

    @property
    def n_params(self) -> int: ...

    @property
    def converged(self) -> bool: ...

    @property
    def standard_errors(self) -> dict[str, float] | None: ...

    @property
    def covariance(self) -> list[list[float]] | None: ...


@runtime_checkable
class EstimatedModel(Protocol):
    """A model with named parameters: what information criteria and uncertainty need.

    ``with_param_array(values)`` returns a copy of the model at other parameter values (same order as
    ``param_array()``), with no fit diagnostics.
    """

    @property
    def time_unit(self) -> str: ...

    @property
    def param_names(self) -> tuple[str, ...]: ...

    @property
    def fit_info(self) -> FitDiagnostics | None: ...

    def param_array(self) -> FloatArray: ...

    def with_param_array(self, values: Any) -> Any: ...


@runtime_checkable
class TransactionModel(Protocol):
    """What :func:`~clvkit.valuation.clv` needs of a transaction model: expected purchases over horizons.

    ``expected_purchases_path(summary, ts)`` returns the expected purchases at each horizon of the 1-D
    ``ts``, shape (len(ts), n_customers); the same numbers as ``expected_purchases`` per horizon, with the
    shared work done once. A model may also offer ``weighted_expected_purchases(summary, ts, weights)``
    (``weights @ path`` without the path; every clvkit count model does): ``clv()`` then uses it, and builds the
    path in chunks of customers otherwise.
    """

    @property
    def time_unit(self) -> str: ...

    def expected_purchases(self, summary: CustomerSummary, t: Any) -> FloatArray: ...

    def expected_purchases_path(self, summary: CustomerSummary, ts: Any) -> FloatArray: ...


@runtime_checkable
class CountModel(TransactionModel, EstimatedModel, Protocol):
    """A fitted count ("buy till you die") model: the whole prediction surface, with its parameters.

    Every method is vectorised over the customers of a :class:`~clvkit.CustomerSummary`;
    ``discounted_expected_residual_transactions`` takes a discrete rate per time unit; ``simulate`` draws a
    summary of customers observed for ``T`` time units from the model.
    """

    def probability_alive(self, summary: CustomerSummary) -> FloatArray: ...

    def probability_of_purchases(self, summary: CustomerSummary, n: Any, t: Any) -> FloatArray: ...

    def expected_purchases_new_customer(self, t: Any) -> FloatArray: ...

    def probability_of_purchases_new_customer(self, n: Any, t: Any) -> FloatArray: ...

    def discounted_expected_residual_transactions(self, summary: CustomerSummary, discount_rate: Any) -> FloatArray:
        ...

    def simulate(self, T: Any, *, seed: Any = None) -> CustomerSummary: ...


@runtime_checkable
class SpendModel(Protocol):
    """What :func:`~clvkit.valuation.clv` needs of a spend model: expected spend per transaction of each customer."""

    def expected_spend(self, summary: CustomerSummary) -> FloatArray: ...


@runtime_checkable
class MixingDensity(Protocol):
    """How one individual-level quantity varies across customers (the models' ``MixingDistribution`` plays it):
    what it is (``quantity``, ``symbol``, ``per`` - a time unit name, ``"purchase"`` or
    ``"opportunity"``), its ``family`` with parameters, and its density and quantiles."""

    @property
    def quantity(self) -> str: ...

    @property
    def symbol(self) -> str: ...

    @property
    def per(self) -> str: ...

    @property
    def family(self) -> str: ...

    def pdf(self, x: Any) -> FloatArray: ...

    def ppf(self, q: Any) -> FloatArray: ...

    def mean(self) -> float: ...


@runtime_checkable
class HeterogeneityModel(Protocol):
    """A count model whose customers differ by a purchase rate (or probability) and a dropout rate (or
    probability) drawn from mixing distributions: BG/NBD, MBG/NBD, Pareto/NBD, BG/BB."""

    @property
    def time_unit(self) -> str: ...

    def transaction_rate_distribution(self) -> MixingDensity: ...

    def dropout_distribution(self) -> MixingDensity: ...


@runtime_checkable
class SpendDensityModel(Protocol):
    """A spend model with the density of a customer's average spend per transaction over ``frequency``
    transactions (the fitted Gamma-Gamma model)."""

    def average_spend_density(self, z: Any, frequency: Any) -> FloatArray: ...


@runtime_checkable
class ContractModel(Protocol):
    """A fitted contractual (subscription) model: survival, retention and discounted residual lifetime.

    ``discounted_expected_residual_lifetime(contracts_or_renewals, discount_rate)`` takes a
    :class:`~clvkit.ContractSummary` or renewal counts and a discrete rate per period.
    """

    @property
    def time_unit(self) -> str: ...

    def survival(self, t: Any) -> FloatArray: ...

    def retention_rate(self, t: Any) -> FloatArray: ...

    def discounted_expected_residual_lifetime(
        self, contracts_or_renewals: ContractSummary | Any, discount_rate: Any
    ) -> FloatArray: ...


@runtime_checkable
class ValueEngine(Protocol):
    """Anything that values a batch of customers.

    The one method takes the customers (normally a :class:`~clvkit.CustomerSummary`; an engine may accept
    more, e.g. ``None`` when it holds its own per-customer inputs) and returns one finite value per
    customer, in the summary's row order, as an array of shape (n_customers,). Values are money over the
    customer's (remaining) relationship; whether they are discounted, net of margin or capped at a horizon
    is the engine's documented choice.

    Examples
    --------
    A class written anywhere, with no clvkit base class:

    >>> from clvkit import CustomerSummary
    >>> class TenPerPurchase:
    ...     def value(self, summary):
    ...         return 10.0 * (summary.frequency + 1.0)
    >>> isinstance(TenPerPurchase(), ValueEngine)
    True
    """

    def value(self, summary: Any) -> FloatArray: ...


@runtime_checkable
class IndirectValueSource(Protocol):
    """What :class:`~clvkit.valuation.CompositeValue` needs of an indirect-value source.

    ``indirect_value(direct, customer_id)`` returns, for the customers whose direct values are ``direct``
    (shape (n_customers,), ids ``customer_id`` or ``None``), their indirect values in the same order.
    ``overlaps_direct`` says whether that indirect value is money already counted in the direct value of
    other customers of the same base (true for a referral graph: what a referrer is credited with is the
    referred customers' own value) or money from outside the base (false for a word-of-mouth prior about
    prospects); customer equity counts overlapping value once.
    """

    @property
    def overlaps_direct(self) -> bool: ...

    def indirect_value(self, direct: FloatArray, customer_id: npt.NDArray[Any] | None) -> FloatArray: ...


@runtime_checkable
class TieringPolicy(Protocol):
    """A frozen tiering configuration that assigns every customer of a batch to exactly one tier.

    ``data`` is optional and may be a mapping or data frame of columns, a
    :class:`~clvkit.CustomerSummary`, a :class:`~clvkit.valuation.ClvResult` (its ``clv`` becomes
    ``value``) or a plain array (the policy's first column, e.g. ``value``); keyword columns add to or
    override it. Each policy documents the columns it reads.

    Examples
    --------
    >>> from clvkit.tiering import KeyCustomers
    >>> isinstance(KeyCustomers(), TieringPolicy)
    True
    """

    def assign(self, data: Any = None, /, **columns: Any) -> TierAssignment:
        """The tier of every customer of the batch.

        Raises
        ------
        InvalidInputError
            When a column is missing or has the wrong shape, or rows hold NaN, infinite or out-of-range
            values (the first offending rows are named).
        """
        ...
