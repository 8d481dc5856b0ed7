"""Discounted customer lifetime value and customer equity, composed from a transaction and a spend model.

``CLV_i = margin * spend_i * sum_{k=1..H} [E X_i(k P) - E X_i((k-1) P)] / (1 + d)^k``

where ``E X_i(t)`` is the transaction model's expected purchases in the next ``t`` time units, ``P`` is
the length of one discounting period in the summary's time unit, ``H`` the number of periods and ``d``
the discount rate per period. This is the discrete-period form used by Fader, Hardie & Lee (2005, "RFM
and CLV", eq. 2 with purchases counted per period) and by lifetimes' ``customer_lifetime_value``.

Two further views of the same forecast:

* **Value if still active** (the value basis of a value x churn-risk matrix). A customer who has dropped out
  buys nothing more, so for every "buy till you die" model ``E[X(t) | data] = P(alive | data) x E[X(t) |
  alive, data]`` (total expectation over alive/dead; e.g. Fader, Hardie & Lee 2005, "Counting your customers
  the easy way", eq. 10 is P(alive) times the conditional expectation of an active customer). CLV is linear in
  the expected purchases per period, so ``value_if_active = CLV / P(alive)``: the discounted value the
  customer brings *if* still active. Crossing CLV itself with churn risk counts the risk twice.
* **Profit** (financial value = transaction revenue - transaction cost, 张子凡 CRM notes, text 003:
  财务价值 ... 体现为交易收益与交易成本之差): ``profit_clv = CLV - cost_per_purchase x discounted purchases
  - retention_cost``; acquisition cost is kept per customer beside it (sunk for a customer already won, but
  the cost axis of the value x cost matrix of 蔡强 2010, text 001).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from ..._display import block, count, describe, key_value_table, number, shorten, table
from ..._frames import make_frame
from ..._timeunits import unit_days
from ..._validation import check_scalar
from ...batch import CustomerSummary
from ...errors import InvalidInputError
from ...i18n import Translator, translator
from ..protocols import SpendModel, TransactionModel

__all__ = ["ACQUISITION_COST_MULTIPLE", "ACQUISITION_COST_MULTIPLE_RANGE", "MAX_HORIZON", "MAX_PATH_CELLS",
           "ClvResult", "SpendModel", "TransactionModel", "clv", "estimate_acquisition_cost"]

#: Most discounting periods :func:`clv` sums over (e.g. 8,000 years of months): the cost grows with the horizon.
MAX_HORIZON = 100_000
#: Deprecated, no longer enforced: :func:`clv` refused ``horizon x n_customers`` above this (the float64
#: expected-purchases path it once built whole, 2 GB). Its memory is bounded now (a weighted sum per distinct row,
#: or the path in chunks of customers), so any number of customers is valued in one call. Kept for old imports.
MAX_PATH_CELLS = 250_000_000
#: For a transaction model without ``weighted_expected_purchases``, clv() builds the path of expected purchases
#: for this many (horizon x customer) values at a time (16 MiB).
_CHUNK_CELLS = 1 << 21

FloatArray = npt.NDArray[np.float64]

#: "Winning a new customer costs 5 times keeping an old one": 张子凡 CRM notes (text 003, 企业争取1位新客户的
#: 成本是留住1位老客户所需成本的5倍, quoting a survey); text 004 gives 5-10 times (开发一个新客户的成本是维护
#: 一个老客户成本的5—10倍). clvkit's default where a customer's acquisition cost is unknown: 5 x its retention
#: cost (the low end of the range; a rule of thumb from the texts, not a measurement of your business).
ACQUISITION_COST_MULTIPLE = 5.0
#: The range text 004 gives for the same rule (5-10 times).
ACQUISITION_COST_MULTIPLE_RANGE = (5.0, 10.0)


@dataclass(frozen=True)
class ClvResult:
    """Per-customer discounted CLV and the settings that produced it.

    Attributes
    ----------
    clv:
        Array of shape (n_customers,): discounted value of one customer of each row over the horizon (a
        weighted row stands for ``weight`` customers of that value; see :attr:`customer_equity`).
    expected_purchases:
        Undiscounted expected purchases over the whole horizon, shape (n_customers,).
    discounted_purchases:
        Discounted expected purchases (CLV before spend and margin), shape (n_customers,).
    expected_spend:
        Expected spend per purchase used, shape (n_customers,).
    customer_id:
        The summary's customer ids, or ``None``.
    horizon, discount_rate, margin, period:
        The settings: ``horizon`` periods of ``period`` time units each.
    time_unit:
        The summary's time unit.
    weights:
        The summary's weights (customers per row), or ``None``.
    p_alive:
        P(alive) per customer from the transaction model, shape (n_customers,), or ``None`` when the model
        has no ``probability_alive``.
    value_if_active:
        ``clv / p_alive``: the discounted value of the customer *if still active* (see the module docstring:
        ``E[X(t)|data] = P(alive) x E[X(t)|alive, data]``), the value basis of a value x churn-risk matrix
        (risk ``1 - p_alive``). ``None`` without ``p_alive``; 0 where ``p_alive`` is 0 to double precision.
    cost_to_serve:
        Discounted cost of serving and keeping the customer over the horizon, ``cost_per_purchase x
        discounted_purchases + retention_cost``, shape (n_customers,); zeros when no cost was given.
    profit_clv:
        ``clv - cost_to_serve``: the financial value (revenue x margin - transaction cost, text 003).
    acquisition_cost:
        What winning the customer cost (given, or :data:`ACQUISITION_COST_MULTIPLE` x ``retention_cost`` when
        only that was given), shape (n_customers,), or ``None``.
    acquisition_cost_estimated:
        True when ``acquisition_cost`` comes from the 5x rule (:func:`estimate_acquisition_cost`).
    costs_given:
        True when ``cost_per_purchase`` or ``retention_cost`` was given.
    """

    clv: FloatArray
    expected_purchases: FloatArray
    discounted_purchases: FloatArray
    expected_spend: FloatArray
    customer_id: npt.NDArray[Any] | None
    horizon: int
    discount_rate: float
    margin: float
    period: float
    time_unit: str
    weights: FloatArray | None = None
    p_alive: FloatArray | None = None
    value_if_active: FloatArray | None = None
    cost_to_serve: FloatArray | None = None
    profit_clv: FloatArray | None = None
    acquisition_cost: FloatArray | None = None
    acquisition_cost_estimated: bool = False
    costs_given: bool = False

    @property
    def customer_equity(self) -> float:
        """Sum of CLV over the customers (each row counted ``weight`` times when the summary has weights)."""
        return float(self.clv.sum() if self.weights is None else self.clv @ self.weights)

    def top(self, k: int = 10) -> npt.NDArray[np.intp]:
        """Positions of the ``k`` most valuable customers (by value per customer), most valuable first (ties by
        position)."""
        order = np.argsort(-self.clv, kind="stable")
        result: npt.NDArray[np.intp] = order[: max(int(k), 0)]
        return result

    def to_frame(self, backend: str = "pandas") -> Any:
        """The per-customer results as a DataFrame keyed by customer id (needs the ``frames`` extra).

        Parameters
        ----------
        backend:
            ``"pandas"`` (default): index ``customer_id``; ``"polars"``: a first ``customer_id`` column. Without
            customer ids the rows are keyed by position, named ``row``.

        Returns
        -------
        pandas.DataFrame or polars.DataFrame
            Columns ``clv, expected_purchases, discounted_purchases, expected_spend``, then ``p_alive,
            value_if_active`` (when the model gives P(alive)), ``cost_to_serve, profit_clv`` (when costs were
            given), ``acquisition_cost`` (when known) and ``weights`` when the summary had weights.

        Raises
        ------
        InvalidInputError
            For another ``backend``.
        MissingDependencyError
            If the library is not installed: ``pip install 'clvkit[frames]'``.

        Examples
        --------
        >>> from clvkit.datasets import load_cdnow_summary
        >>> from clvkit.valuation import BetaGeo, GammaGamma
        >>> s = load_cdnow_summary()
        >>> res = clv(BetaGeo().fit(s), GammaGamma().fit(s), s, horizon=12, discount_rate=0.01, period="M")
        >>> frame = res.to_frame()
        >>> frame.index.name, list(frame.columns)  # doctest: +NORMALIZE_WHITESPACE
        ('customer_id', ['clv', 'expected_purchases', 'discounted_purchases', 'expected_spend', 'p_alive',
                         'value_if_active'])
        """
        cols = {"clv": self.clv, "expected_purchases": self.expected_purchases,
                "discounted_purchases": self.discounted_purchases, "expected_spend": self.expected_spend}
        optional = {"p_alive": self.p_alive, "value_if_active": self.value_if_active,
                    "cost_to_serve": self.cost_to_serve if self.costs_given else None,
                    "profit_clv": self.profit_clv if self.costs_given else None,
                    "acquisition_cost": self.acquisition_cost}
        cols.update({k: v for k, v in optional.items() if v is not None})
        if self.weights is not None:
            cols["weights"] = self.weights
        return make_frame(cols, key=self.customer_id, backend=backend, where="ClvResult.to_frame()")

    def _customers(self) -> float:
        return float(self.clv.shape[0] if self.weights is None else self.weights.sum())

    def __repr__(self) -> str:
        return shorten(f"ClvResult({count(self._customers())} customers, customer equity "
                       f"{number(self.customer_equity)}; horizon {self.horizon} periods of {number(self.period)} "
                       f"{self.time_unit}, discount rate {number(self.discount_rate)} per period, margin "
                       f"{number(self.margin)})")

    def _repr_html_(self) -> str:
        return self._html(translator("en"))

    def _html(self, tr: Translator) -> str:
        """The notebook display in ``tr``'s language (the HTML report shows it in the report's language)."""
        facts = key_value_table([
            (tr("customers"), count(self._customers())), (tr("customer equity"), self.customer_equity),
            (tr("horizon (periods)"), self.horizon), (tr("period length"), f"{number(self.period)} {self.time_unit}"),
            (tr("discount rate per period"), self.discount_rate), (tr("margin"), self.margin),
        ])
        spread = describe([(tr("clv"), self.clv), (tr("expected_purchases"), self.expected_purchases),
                           (tr("expected_spend"), self.expected_spend)], self.weights,
                          header=(tr("column"), tr("mean"), tr("min"), tr("max")))
        top = self.top(5)
        ids = self.customer_id
        rows = [[(ids[i].item() if isinstance(ids[i], np.generic) else ids[i]) if ids is not None else int(i),
                 float(self.clv[i]), float(self.expected_purchases[i]), float(self.expected_spend[i])] for i in top]
        head = tr("customer_id") if ids is not None else tr("row")
        best = table([head, tr("clv"), tr("expected purchases"), tr("expected spend")],
                     [[str(r[0]), *r[1:]] for r in rows], caption=tr("Top {count} customers by CLV", count=len(rows)))
        return block(tr("ClvResult"), facts, spread, best)


def clv(
    transaction_model: TransactionModel,
    spend_model: SpendModel | float | Any,
    summary: CustomerSummary,
    *,
    horizon: int,
    discount_rate: float,
    margin: float = 1.0,
    period: float | str | None = None,
    cost_per_purchase: Any = None,
    retention_cost: Any = None,
    acquisition_cost: Any = None,
    purchase_covariates: Any = None,
    dropout_covariates: Any = None,
    spend_covariates: Any = None,
) -> ClvResult:
    """Discounted CLV per customer over ``horizon`` periods.

    Parameters
    ----------
    transaction_model:
        A fitted model with ``expected_purchases(summary, t)`` and ``expected_purchases_path(summary, ts)`` (e.g.
        :class:`FittedBetaGeo`). When it also has ``weighted_expected_purchases(summary, ts, weights)`` (every
        clvkit count model) the discounted sum is taken from it, without the (horizon x customers) path: the
        cost of BG/NBD and MBG/NBD grows with the distinct (frequency, T) pairs times the horizon, not with the
        customers times the horizon.
    spend_model:
        A fitted spend model with ``expected_spend(summary)`` (e.g. :class:`FittedGammaGamma`), or a
        spend per purchase: a number or an array of shape (n_customers,).
    summary:
        The customers to value.
    horizon:
        Number of discounting periods (a positive whole number).
    discount_rate:
        Discount rate per period, in [0, 1).
    margin:
        Profit margin applied to spend, in [0, 1] (1 = value in revenue, as text 002's formula).
    period:
        Length of one discounting period: ``None`` (default) for one unit of the summary's time unit, a
        number of summary time units (``30`` on a daily summary matches lifetimes' month), or a unit
        name (``"M"`` = 30.436875 days, ``"W"``, ``"Y"``, ...). E.g. 12 months at 1% a month on a daily
        summary: ``horizon=12, discount_rate=0.01, period="M"``.
    cost_per_purchase:
        Cost to serve one purchase (delivery, handling, service), a number or an array of shape
        (n_customers,), finite and >= 0, in the currency of the spend; subtracted per expected purchase,
        discounted like the revenue. ``None`` = 0.
    retention_cost:
        Cost of keeping the customer over the horizon (account management, retention offers), in present value,
        a number or an array of shape (n_customers,), finite and >= 0. ``None`` = 0.
    acquisition_cost:
        What winning the customer cost (e.g. :attr:`clvkit.domain.Customer.acquisition_cost`), a number or an
        array of shape (n_customers,), finite and >= 0. When ``None`` and ``retention_cost`` is given it is
        estimated as :data:`ACQUISITION_COST_MULTIPLE` (5) x ``retention_cost`` (the texts' rule of thumb,
        flagged by ``acquisition_cost_estimated``); otherwise unknown (``None``).
    purchase_covariates, dropout_covariates:
        For a transaction model fitted with covariates: the customers' covariates (``clvkit.Covariates``), passed
        to its predictions. Time-varying covariates (``Covariates.dynamic``) must cover the whole horizon.
    spend_covariates:
        For a spend model fitted with covariates: the customers' spend covariates.

    Returns
    -------
    ClvResult
        ``.clv`` per customer; ``.customer_equity`` the sum.

    Raises
    ------
    InvalidInputError
        For a horizon, rate, margin or period out of range, or a spend array of the wrong shape; for a horizon
        above :data:`MAX_HORIZON` (checked before any work starts). Any number of customers is valued in one call,
        in memory bounded per distinct customer row (see :data:`MAX_PATH_CELLS`, no longer a limit).

    Examples
    --------
    >>> from clvkit import CustomerSummary
    >>> from clvkit.valuation import FittedBetaGeo, BetaGeoParams
    >>> bg = FittedBetaGeo(params=BetaGeoParams(r=0.243, alpha=4.414, a=0.793, b=2.426), time_unit="W")
    >>> s = CustomerSummary(frequency=[0, 2], recency=[0.0, 30.43], T=[38.86, 38.86], time_unit="W")
    >>> res = clv(bg, 20.0, s, horizon=52, discount_rate=0.0)
    >>> res.clv.round(2).tolist()
    [5.04, 31.17]

    Value if still active is CLV over P(alive); profit subtracts the cost to serve (2 per purchase here):

    >>> bool(np.allclose(res.value_if_active * res.p_alive, res.clv))
    True
    >>> res = clv(bg, 20.0, s, horizon=52, discount_rate=0.0, cost_per_purchase=2.0, retention_cost=1.0)
    >>> bool(np.allclose(res.profit_clv, res.clv - 2.0 * res.discounted_purchases - 1.0))
    True
    >>> res.acquisition_cost.tolist(), res.acquisition_cost_estimated  # 5 x the retention cost
    ([5.0, 5.0], True)
    """
    where = "clv()"
    if isinstance(horizon, bool) or not isinstance(horizon, (int, np.integer)) or horizon < 1:
        raise InvalidInputError(f"The 'horizon' parameter of clv() must be a positive whole number of periods. "
                                f"Got {horizon!r} instead.")
    if horizon > MAX_HORIZON:
        raise InvalidInputError(f"The 'horizon' parameter of clv() must be at most MAX_HORIZON = {MAX_HORIZON:,} "
                                f"periods (clvkit.valuation.value.clv). Got {horizon!r} instead; use a longer "
                                f"'period' for long horizons.")
    d = check_scalar(discount_rate, "discount_rate", where, low=0.0, high=1.0, high_open=True)
    mg = check_scalar(margin, "margin", where, low=0.0, high=1.0)
    if not isinstance(summary, CustomerSummary):
        raise InvalidInputError(f"The 'summary' parameter of clv() must be a clvkit.CustomerSummary. "
                                f"Got {type(summary).__name__} instead.")
    if period is None:
        step = 1.0
    elif isinstance(period, str):
        step = unit_days(period, name="period", where=where) / unit_days(summary.time_unit)
    else:
        step = check_scalar(period, "period", where, low=0.0, low_open=True)

    spend = _spend(spend_model, summary, spend_covariates)
    n = len(summary)
    covs = {k: v for k, v in (("purchase_covariates", purchase_covariates),
                              ("dropout_covariates", dropout_covariates)) if v is not None}
    per_purchase = _cost(cost_per_purchase, "cost_per_purchase", n)
    keeping = _cost(retention_cost, "retention_cost", n)
    acquisition = _cost(acquisition_cost, "acquisition_cost", n)

    if not isinstance(transaction_model, TransactionModel):
        raise InvalidInputError(
            f"The 'transaction_model' parameter of clv() must be a fitted transaction model (with expected_purchases "
            f"and expected_purchases_path, e.g. FittedBetaGeo). Got {type(transaction_model).__name__} instead."
        )
    k = np.arange(1, int(horizon) + 1, dtype=np.float64)
    discount = (1.0 + d) ** -k
    # sum_k discount_k (E_k - E_{k-1}) = sum_k (discount_k - discount_{k+1}) E_k: no differenced copy of the path.
    weights_k = discount - np.append(discount[1:], 0.0)
    ts = k * step
    weighted = getattr(transaction_model, "weighted_expected_purchases", None)
    if callable(weighted):
        # The discounted sum and the last horizon's expected purchases in one pass, without the path (e.g. BG/NBD
        # sums its hypergeometric factor once per distinct (x, T)); memory bounded by the model, not the horizon.
        last = np.zeros(int(horizon))
        last[-1] = 1.0
        both = np.asarray(weighted(summary, ts, np.stack([weights_k, last]), **covs), dtype=np.float64)
        discounted, total = both[0], both[1]
    else:
        discounted, total = _path_sums(transaction_model, summary, ts, weights_k, covs)
    value = mg * spend * discounted
    if not np.all(np.isfinite(value)):
        bad = np.flatnonzero(~np.isfinite(value))[:5].tolist()
        raise InvalidInputError(f"clv() produced non-finite values at rows {bad}; check the models' parameters "
                                f"and the spend input.")
    p_alive = value_if_active = None
    if callable(getattr(transaction_model, "probability_alive", None)):
        p_alive = np.asarray(transaction_model.probability_alive(summary, **covs),  # type: ignore[attr-defined]
                             dtype=np.float64)
        if p_alive.shape != (n,) or not np.all((p_alive >= 0.0) & (p_alive <= 1.0)):
            raise InvalidInputError(f"clv(): the transaction model's probability_alive() must give {n} probabilities "
                                    f"in [0, 1]; check the model's parameters.")
        # E[X(t)|data] = P(alive) E[X(t)|alive, data] for every buy-till-you-die model (a dropped-out customer buys
        # nothing), and CLV is linear in the expected purchases: CLV / P(alive) is the value if still active.
        value_if_active = np.divide(value, p_alive, out=np.zeros(n), where=p_alive > 0.0)
    serve = np.zeros(n)
    if per_purchase is not None:
        serve += per_purchase * discounted
    if keeping is not None:
        serve += keeping
    estimated = acquisition is None and keeping is not None
    if estimated:
        acquisition = estimate_acquisition_cost(keeping)
    return ClvResult(
        clv=value,
        expected_purchases=total,
        discounted_purchases=discounted,
        expected_spend=spend,
        customer_id=summary.customer_id,
        weights=summary.weights,
        horizon=int(horizon),
        discount_rate=d,
        margin=mg,
        period=step,
        time_unit=summary.time_unit,
        p_alive=p_alive,
        value_if_active=value_if_active,
        cost_to_serve=serve,
        profit_clv=value - serve,
        acquisition_cost=acquisition,
        acquisition_cost_estimated=estimated,
        costs_given=per_purchase is not None or keeping is not None,
    )


def _path_sums(model: TransactionModel, summary: CustomerSummary, ts: FloatArray, weights_k: FloatArray,
               covs: dict[str, Any]) -> tuple[FloatArray, FloatArray]:
    """``weights_k @ path`` and the path's last row from ``expected_purchases_path``, customers in chunks.

    For transaction models without ``weighted_expected_purchases``: the path is built for at most
    ``_CHUNK_CELLS`` (horizon x customer) values at a time, so memory is bounded whatever the number of customers.
    """
    n = len(summary)
    chunk = max(1024, _CHUNK_CELLS // ts.shape[0])
    discounted, total = np.empty(n), np.empty(n)
    for start in range(0, n, chunk):
        stop = min(n, start + chunk)
        part = summary if (start, stop) == (0, n) else summary.take(np.arange(start, stop))
        cumulative = np.asarray(model.expected_purchases_path(part, ts, **covs), dtype=np.float64)
        discounted[start:stop] = weights_k @ cumulative
        total[start:stop] = cumulative[-1]
        del cumulative
    return discounted, total


def estimate_acquisition_cost(retention_cost: Any, multiple: float = ACQUISITION_COST_MULTIPLE) -> FloatArray:
    """Acquisition cost where it is unknown: ``multiple`` x the cost of keeping the customer.

    The rule "a new customer costs 5 times keeping one" (张子凡 CRM notes, text 003; 5-10 times in text 004,
    :data:`ACQUISITION_COST_MULTIPLE_RANGE`) with clvkit's default ``multiple`` of 5. A rule of thumb from the
    texts: use your own acquisition costs when you have them.

    Parameters
    ----------
    retention_cost:
        Cost of keeping each customer, a number or an array, finite and >= 0.
    multiple:
        In [1, inf); default :data:`ACQUISITION_COST_MULTIPLE`.

    Returns
    -------
    numpy.ndarray
        ``multiple * retention_cost`` (at least 1-D).

    Raises
    ------
    InvalidInputError
        For a negative or non-finite cost or a multiple below 1.

    Examples
    --------
    >>> estimate_acquisition_cost([10.0, 0.0]).tolist()
    [50.0, 0.0]
    >>> estimate_acquisition_cost(10.0, multiple=ACQUISITION_COST_MULTIPLE_RANGE[1]).tolist()
    [100.0]
    """
    m = check_scalar(multiple, "multiple", "estimate_acquisition_cost()", low=1.0)
    cost = _cost(retention_cost, "retention_cost", None)
    assert cost is not None
    out: FloatArray = m * cost
    if not np.all(np.isfinite(out)):
        raise InvalidInputError("estimate_acquisition_cost(): the estimate overflows; give the costs in a larger unit.")
    return out


def _cost(value: Any, name: str, n: int | None) -> FloatArray | None:
    """A per-customer cost: ``None``, a number or an array of shape (n,), finite and >= 0 (a float64 copy)."""
    if value is None:
        return None
    arr = np.asarray(value)
    if arr.dtype == object or arr.dtype.kind not in "iuf":
        raise InvalidInputError(f"The '{name}' parameter of clv() must be a number or an array of numbers. Got "
                                f"dtype {arr.dtype} instead.")
    arr = np.atleast_1d(arr.astype(np.float64))
    if n is not None:
        try:
            arr = np.broadcast_to(arr, (n,)).copy()
        except ValueError:
            raise InvalidInputError(f"The '{name}' parameter of clv() must be a number or an array of shape ({n},). "
                                    f"Got shape {np.shape(value)} instead.") from None
    bad = np.flatnonzero(~np.isfinite(arr) | (arr < 0))
    if bad.size:
        raise InvalidInputError(f"The '{name}' parameter of clv() must be finite and >= 0: {bad.size} value(s) are "
                                f"not, first at row {int(bad[0])} ({arr[bad[0]]!r}).")
    return arr


def _spend(spend_model: Any, summary: CustomerSummary, spend_covariates: Any = None) -> FloatArray:
    n = len(summary)
    if isinstance(spend_model, SpendModel):
        extra = {} if spend_covariates is None else {"spend_covariates": spend_covariates}
        spend = np.asarray(spend_model.expected_spend(summary, **extra), dtype=np.float64)
    elif spend_covariates is not None:
        raise InvalidInputError("The 'spend_covariates' parameter of clv() needs a fitted spend model as 'spend_model' "
                                "(e.g. GammaGamma().fit(summary, spend_covariates=...)); a fixed spend takes none.")
    else:
        try:
            spend = np.broadcast_to(np.asarray(spend_model, dtype=np.float64), (n,)).copy()
        except (TypeError, ValueError):
            raise InvalidInputError(
                f"The 'spend_model' parameter of clv() must be a fitted spend model, a number or an array of "
                f"shape ({n},). Got {type(spend_model).__name__} instead."
            ) from None
    if spend.shape != (n,) or not np.all(np.isfinite(spend)) or np.any(spend < 0):
        raise InvalidInputError(
            f"The spend per purchase given to clv() must be finite, non-negative and of shape ({n},)."
        )
    return spend
