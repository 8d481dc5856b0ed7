"""Discounted customer lifetime value and customer equity, composed from a transaction and a spend model.

``CLV_i = margin * spend_i * sum_{k=1..H} [E X_i(k P) - E X_i((k-1) P)] / (1 + d)^k``

where ``E X_i(t)`` is the transaction model's expected purchases in the next ``t`` time units, ``P`` is
the length of one discounting period in the summary's time unit, ``H`` the number of periods and ``d``
the discount rate per period. This is the discrete-period form used by Fader, Hardie & Lee (2005, "RFM
and CLV", eq. 2 with purchases counted per period) and by lifetimes' ``customer_lifetime_value``.
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
from ..protocols import SpendModel, TransactionModel

__all__ = ["MAX_HORIZON", "MAX_PATH_CELLS", "ClvResult", "SpendModel", "TransactionModel", "clv"]

#: Most discounting periods :func:`clv` sums over (e.g. 8,000 years of months): the cost grows with the horizon.
MAX_HORIZON = 100_000
#: Most entries of the expected-purchases path :func:`clv` builds, ``horizon x n_customers`` float64 values
#: (2 GB; 12 monthly periods of 20 million customers fit). Value larger batches in chunks of customers.
MAX_PATH_CELLS = 250_000_000

FloatArray = npt.NDArray[np.float64]


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
            Columns ``clv, expected_purchases, discounted_purchases, expected_spend`` and ``weights`` when the
            summary had weights.

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
        >>> frame.index.name, list(frame.columns)
        ('customer_id', ['clv', 'expected_purchases', 'discounted_purchases', 'expected_spend'])
        """
        cols = {"clv": self.clv, "expected_purchases": self.expected_purchases,
                "discounted_purchases": self.discounted_purchases, "expected_spend": self.expected_spend}
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
        facts = key_value_table([
            ("customers", count(self._customers())), ("customer equity", self.customer_equity),
            ("horizon (periods)", self.horizon), ("period length", f"{number(self.period)} {self.time_unit}"),
            ("discount rate per period", self.discount_rate), ("margin", self.margin),
        ])
        spread = describe([("clv", self.clv), ("expected_purchases", self.expected_purchases),
                           ("expected_spend", self.expected_spend)], self.weights)
        top = self.top(5)
        ids = self.customer_id
        rows = [[(ids[i].item() if isinstance(ids[i], np.generic) else ids[i]) if ids is not None else int(i),
                 float(self.clv[i]), float(self.expected_purchases[i]), float(self.expected_spend[i])] for i in top]
        head = "customer_id" if ids is not None else "row"
        best = table([head, "clv", "expected purchases", "expected spend"],
                     [[str(r[0]), *r[1:]] for r in rows], caption=f"Top {len(rows)} customers by CLV")
        return block("ClvResult", facts, spread, best)


def clv(
    transaction_model: TransactionModel,
    spend_model: SpendModel | float | Any,
    summary: CustomerSummary,
    *,
    horizon: int,
    discount_rate: float,
    margin: float = 1.0,
    period: float | str | None = None,
) -> ClvResult:
    """Discounted CLV per customer over ``horizon`` periods.

    Parameters
    ----------
    transaction_model:
        A fitted model with ``expected_purchases(summary, t)`` (e.g. :class:`FittedBetaGeo`).
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
        Profit margin applied to spend, in [0, 1] (1 = value in revenue, as the book's formula).
    period:
        Length of one discounting period: ``None`` (default) for one unit of the summary's time unit, a
        number of summary time units (``30`` on a daily summary matches lifetimes' month), or a unit
        name (``"M"`` = 30.436875 days, ``"W"``, ``"Y"``, ...). E.g. 12 months at 1% a month on a daily
        summary: ``horizon=12, discount_rate=0.01, period="M"``.

    Returns
    -------
    ClvResult
        ``.clv`` per customer; ``.customer_equity`` the sum.

    Raises
    ------
    InvalidInputError
        For a horizon, rate, margin or period out of range, or a spend array of the wrong shape; for a horizon
        above :data:`MAX_HORIZON` or ``horizon x n_customers`` above :data:`MAX_PATH_CELLS` (checked before any
        work starts).

    Examples
    --------
    >>> from clvkit import CustomerSummary
    >>> from clvkit.valuation import FittedBetaGeo, BetaGeoParams
    >>> bg = FittedBetaGeo(params=BetaGeoParams(r=0.243, alpha=4.414, a=0.793, b=2.426), time_unit="W")
    >>> s = CustomerSummary(frequency=[0, 2], recency=[0.0, 30.43], T=[38.86, 38.86], time_unit="W")
    >>> res = clv(bg, 20.0, s, horizon=52, discount_rate=0.0)
    >>> res.clv.round(2).tolist()
    [5.04, 31.17]
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

    if int(horizon) * len(summary) > MAX_PATH_CELLS:
        raise InvalidInputError(
            f"clv() would build a path of horizon x customers = {int(horizon):,} x {len(summary):,} values, more "
            f"than MAX_PATH_CELLS = {MAX_PATH_CELLS:,} (clvkit.valuation.value.clv). Value the customers in "
            f"chunks (summary.take(...)), compress the summary, or use fewer, longer periods."
        )
    spend = _spend(spend_model, summary)

    if not isinstance(transaction_model, TransactionModel):
        raise InvalidInputError(
            f"The 'transaction_model' parameter of clv() must be a fitted transaction model (with expected_purchases "
            f"and expected_purchases_path, e.g. FittedBetaGeo). Got {type(transaction_model).__name__} instead."
        )
    k = np.arange(1, int(horizon) + 1, dtype=np.float64)
    discount = (1.0 + d) ** -k
    # The model shares work across horizons itself (e.g. once per distinct (x, t_x, T) row).
    cumulative = np.asarray(transaction_model.expected_purchases_path(summary, k * step), dtype=np.float64)
    discounted = discount @ np.diff(cumulative, axis=0, prepend=0.0)
    total = cumulative[-1]
    value = mg * spend * discounted
    if not np.all(np.isfinite(value)):
        bad = np.flatnonzero(~np.isfinite(value))[:5].tolist()
        raise InvalidInputError(f"clv() produced non-finite values at rows {bad}; check the models' parameters "
                                f"and the spend input.")
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
    )


def _spend(spend_model: Any, summary: CustomerSummary) -> FloatArray:
    n = len(summary)
    if isinstance(spend_model, SpendModel):
        spend = np.asarray(spend_model.expected_spend(summary), dtype=np.float64)
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
