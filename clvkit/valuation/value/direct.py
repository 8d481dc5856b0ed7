"""Direct value: spend per period x retention time (姚群峰《客户经营》2021, text 002), with margin and discounting.

*客户经营* (2021): ``value = direct + indirect``, ``direct = spend x retention time``. :class:`DirectValue`
computes ``margin x spend_per_period x T`` per customer. The retention time ``T`` (periods) is given per
customer (``L`` periods from the current one: ``T = L``, or the annuity ``sum_{t<L} (1+d)^-t`` when
discounted), derived from a retention rate ``r`` (geometric retention, current period counted:
``T = sum_{t>=0} r^t/(1+d)^t = (1+d)/(1+d-r)``, ``1/(1-r)`` undiscounted; see :func:`discounted_lifetime`
for cash at period end, without the current period, and finite horizons), or taken from a fitted model
(:meth:`DirectValue.from_model`: DERT, DERL or discounted expected purchases). The defaults
``margin=1, discount_rate=0`` reproduce the book exactly; a realistic value is one argument away.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from ..._validation import check_scalar, non_number_problem, raise_if, row_problem
from ...errors import InvalidInputError, Problem
from ...protocols import ContractModel, CountModel, SpendModel, TransactionModel
from .clv import clv

__all__ = ["DirectValue", "DirectValueResult", "discounted_lifetime"]

FloatArray = npt.NDArray[np.float64]
Timing = Literal["start", "end"]
_CONTEXT = "DirectValue"


def _check_settings(where: str, discount_rate: float, horizon: int | None, timing: str) -> float:
    d = check_scalar(discount_rate, "discount_rate", where, low=0.0)
    if horizon is not None and (isinstance(horizon, bool) or not isinstance(horizon, (int, np.integer))
                                or horizon < 1):
        raise InvalidInputError(f"The 'horizon' parameter of {where} must be None or a positive whole number of "
                                f"periods. Got {horizon!r} instead.")
    if timing not in ("start", "end"):
        raise InvalidInputError(f"The 'timing' parameter of {where} must be 'start' or 'end'. Got {timing!r} instead.")
    return d


def discounted_lifetime(
    retention_rate: Any,
    discount_rate: float = 0.0,
    *,
    horizon: int | None = None,
    timing: Timing = "start",
    first_period: bool = True,
) -> FloatArray:
    """Expected discounted number of paying periods under geometric retention (closed form).

    A customer active now pays once per period and stays to the next with probability ``r``. With
    ``v = 1/(1+d)``, ``q = r v``, ``s = 0`` if ``first_period`` else 1, ``e = 0`` for cash at period
    start (1 at its end): ``sum_{t=s}^{s+H-1} r^t v^(t+e) = v^e q^s (1 - q^H)/(1 - q)``, and
    ``v^e q^s/(1 - q)`` with no horizon: start ``(1+d)/(1+d-r)``, end ``1/(1+d-r)``, start without the
    current period ``r/(1+d-r)`` (Gupta & Lehmann's margin multiple); ``1/(1-r)`` undiscounted.

    Parameters
    ----------
    retention_rate:
        ``r`` in [0, 1], scalar or array.
    discount_rate:
        ``d`` >= 0 per period.
    horizon:
        Number of periods counted, or ``None`` for no limit.
    timing:
        ``"start"`` (default): a period's cash arrives at its start, the current period undiscounted;
        ``"end"``: at its end, discounted by one more period.
    first_period:
        Count the current period (default; the customer pays it for sure). ``False`` values only the
        periods after it, each reached with probability ``r^t``.

    Returns
    -------
    numpy.ndarray of the shape of ``retention_rate``

    Raises
    ------
    InvalidInputError
        For a rate outside [0, 1] or ``r = 1`` with ``d = 0`` and no horizon (an infinite lifetime).

    Examples
    --------
    >>> discounted_lifetime([0.0, 0.5, 0.75]).tolist()         # 1 / (1 - r)
    [1.0, 2.0, 4.0]
    >>> round(float(discounted_lifetime(0.8, 0.1)[()]), 6)     # 1.1 / 0.3
    3.666667
    >>> discounted_lifetime(0.5, horizon=3).tolist()           # 1 + 0.5 + 0.25
    1.75
    """
    where = "discounted_lifetime()"
    d = _check_settings(where, discount_rate, horizon, timing)
    r = np.asarray(retention_rate, dtype=np.float64)
    bad = ~((r >= 0.0) & (r <= 1.0))
    if bad.any():
        raise InvalidInputError(f"The 'retention_rate' parameter of {where} must be in [0, 1]. "
                                f"Got {retention_rate!r} instead.")
    return _geometric(r, 1.0 - r, d, horizon, timing, first_period)


def _geometric(r: FloatArray, churn: FloatArray, d: float, horizon: int | None, timing: str,
               first_period: bool) -> FloatArray:
    # 1 - q = (d + (1 - r)) / (1 + d): with the churn rate given, 1/(1-r) is computed from it exactly
    # (1/0.2 = 5, where 1/(1 - 0.8) = 5.000000000000001), and there is no cancellation as r -> 1.
    one_minus_q = (d + churn) / (1.0 + d)
    if horizon is None and np.any(one_minus_q == 0.0):
        raise InvalidInputError("A retention rate of 1 with no discounting and no horizon gives an infinite "
                                "lifetime. Give a discount_rate > 0 or a horizon.")
    q = r / (1.0 + d)
    with np.errstate(divide="ignore", invalid="ignore"):
        if horizon is None:
            sums = 1.0 / one_minus_q
        else:
            # 1 - q^H without cancellation for q near 1; q = 0 gives log q = -inf and 1 - q^H = 1.
            head = -np.expm1(horizon * (np.log(r) - math.log1p(d)))
            sums = np.where(one_minus_q > 0.0, head / one_minus_q, float(horizon))
    if not first_period:
        sums = q * sums
    if timing == "end":
        sums = sums / (1.0 + d)
    out: FloatArray = np.asarray(sums, dtype=np.float64)
    return out


def _annuity(periods: FloatArray, d: float, horizon: int | None, timing: str) -> FloatArray:
    """``sum_{t=0}^{L-1} (1+d)^-(t+e)`` in closed form (``L`` capped at the horizon)."""
    m = periods if horizon is None else np.minimum(periods, float(horizon))
    factor = m if d == 0.0 else -np.expm1(-m * math.log1p(d)) * (1.0 + d) / d
    if timing == "end":
        factor = factor / (1.0 + d)
    out: FloatArray = np.asarray(factor, dtype=np.float64)
    return out


@dataclass(frozen=True, eq=False)
class DirectValueResult:
    """Per-customer direct value and how it was made.

    Attributes
    ----------
    value:
        ``margin x spend_per_period x retention_time``, shape (n_customers,).
    spend_per_period:
        Spend per period (per transaction for transaction models), shape (n_customers,).
    retention_time:
        The (discounted, horizon-capped) number of periods or transactions multiplying spend.
    customer_id:
        Ids, or ``None``.
    margin, discount_rate, horizon, timing:
        The settings.
    source:
        Where the retention time came from, e.g. ``"retention_rate"`` or ``"FittedParetoNBD DERT"``.
    """

    value: FloatArray
    spend_per_period: FloatArray
    retention_time: FloatArray
    customer_id: npt.NDArray[Any] | None
    margin: float
    discount_rate: float
    horizon: int | None
    timing: str
    source: str

    @property
    def customer_equity(self) -> float:
        """Sum of the direct values."""
        return float(self.value.sum())


def _array(values: Any, column: str) -> FloatArray:
    try:
        problem = non_number_problem(np.asarray(values), column)
    except (TypeError, ValueError):
        problem = None  # reported below as unreadable
    if problem is not None:  # numpy would parse strings and read booleans, times and complex numbers silently
        raise InvalidInputError([problem], context=_CONTEXT)
    try:
        arr = np.array(values, dtype=np.float64)  # a private copy: the caller's array stays writable and ours fixed
    except (TypeError, ValueError):
        raise InvalidInputError([Problem(column, "cannot be read as numbers", fix="Pass numbers.")],
                                context=_CONTEXT) from None
    if arr.ndim > 1:
        raise InvalidInputError([Problem(column, f"must be a scalar or one-dimensional; got shape {arr.shape}")],
                                context=_CONTEXT)
    arr.flags.writeable = False
    return arr


@dataclass(frozen=True, eq=False)
class DirectValue:
    """Direct value ``margin x spend_per_period x retention_time`` of each customer (a :class:`ValueEngine`).

    Give spend and exactly one retention source. Scalars broadcast; arrays have shape (n_customers,).

    Parameters
    ----------
    spend_per_period:
        Spend per period (>= 0): a number, an array, or a fitted spend model (``expected_spend(summary)``,
        e.g. Gamma-Gamma). ``None`` takes the summary's ``monetary_value`` (model sources only).
    retention_time:
        Periods the customer stays, counting the current one (>= 0).
    retention_rate, churn_rate:
        Per-period probability of staying (of leaving), in [0, 1]; see :func:`discounted_lifetime`.
    margin:
        Profit margin on spend, in [0, 1]; default 1 (the book's formula, in revenue).
    discount_rate:
        ``d`` per period, >= 0; default 0 (the book's formula, undiscounted).
    horizon:
        Count at most this many periods (``None``: the whole lifetime).
    timing:
        ``"start"`` (default): cash at the start of each period, the current period undiscounted;
        ``"end"``: at the end of each period.
    first_period:
        For a rate: count the current period (default). ``False`` values the periods after it.
    model:
        A fitted model; use :meth:`from_model`.
    period:
        Length of one discounting period for transaction models valued over a horizon (see
        :func:`~clvkit.valuation.clv`).
    customer_id:
        Optional ids of the customers (otherwise the summary's).

    Raises
    ------
    InvalidInputError
        Naming every bad setting or row: no or several retention sources, rates outside [0, 1], negative
        spend or time, ``r = 1`` with ``d = 0`` and no horizon.

    Examples
    --------
    Text 002's formula on made-up numbers (1,000 a year for 5 years; 2,000 for 3), then with a 30% margin and
    10% a year:

    >>> DirectValue(spend_per_period=[1000.0, 2000.0], retention_time=[5, 3]).value().tolist()
    [5000.0, 6000.0]
    >>> dv = DirectValue(spend_per_period=1000.0, retention_rate=0.8, margin=0.3, discount_rate=0.1)
    >>> round(float(dv.value()[0]), 2)                 # 0.3 x 1000 x 1.1 / (1.1 - 0.8)
    1100.0
    >>> DirectValue(spend_per_period=100.0, churn_rate=[0.5, 0.25]).value().tolist()
    [200.0, 400.0]
    """

    spend_per_period: Any = None
    retention_time: Any = None
    retention_rate: Any = None
    churn_rate: Any = None
    margin: float = 1.0
    discount_rate: float = 0.0
    horizon: int | None = None
    timing: Timing = "start"
    first_period: bool = True
    model: Any = None
    period: float | str | None = None
    customer_id: Any = None

    def __post_init__(self) -> None:
        where = "DirectValue"
        object.__setattr__(self, "margin", check_scalar(self.margin, "margin", where, low=0.0, high=1.0))
        object.__setattr__(self, "discount_rate", _check_settings(where, self.discount_rate, self.horizon,
                                                                  self.timing))
        given = [n for n in ("retention_time", "retention_rate", "churn_rate", "model")
                 if getattr(self, n) is not None]
        if len(given) != 1:
            raise InvalidInputError(
                f"DirectValue needs exactly one retention source: retention_time, retention_rate, churn_rate or "
                f"a fitted model (DirectValue.from_model). Got {given or 'none'}."
            )
        if self.model is not None and (self.timing != "start" or not self.first_period):
            raise InvalidInputError("DirectValue: 'timing' and 'first_period' apply to a retention time or rate; "
                                    "a fitted model fixes its own timing (see DirectValue.from_model).")
        if self.retention_time is not None and not self.first_period:
            raise InvalidInputError("DirectValue: 'first_period' applies to a retention or churn rate; a "
                                    "retention_time already counts the periods to value.")
        if self.customer_id is not None:
            object.__setattr__(self, "customer_id", np.asarray(self.customer_id))
        ids = self.customer_id
        problems: list[Problem | None] = []
        if self.spend_per_period is not None and not isinstance(self.spend_per_period, SpendModel):
            s = _array(self.spend_per_period, "spend_per_period")
            object.__setattr__(self, "spend_per_period", s)
            problems.append(row_problem(np.atleast_1d(~(np.isfinite(s) & (s >= 0))), "spend_per_period",
                                        "must be finite and >= 0", ids=_ids_for(ids, s)))
        for name, low, high in (("retention_time", 0.0, math.inf), ("retention_rate", 0.0, 1.0),
                                ("churn_rate", 0.0, 1.0)):
            if getattr(self, name) is None:
                continue
            a = _array(getattr(self, name), name)
            object.__setattr__(self, name, a)
            bad = ~((a >= low) & (a <= high)) | ~np.isfinite(a)
            rng = "finite and >= 0" if high == math.inf else "in [0, 1]"
            problems.append(row_problem(np.atleast_1d(bad), name, f"must be {rng}", ids=_ids_for(ids, a)))
        raise_if(problems, _CONTEXT)

    @classmethod
    def from_model(
        cls,
        model: Any,
        spend_per_period: Any = None,
        *,
        margin: float = 1.0,
        discount_rate: float = 0.0,
        horizon: int | None = None,
        period: float | str | None = None,
        customer_id: Any = None,
    ) -> DirectValue:
        """Direct value with the retention time taken from a fitted probabilistic model.

        - a count model (:class:`~clvkit.protocols.CountModel`: BG/NBD, MBG/NBD, Pareto/NBD, BG/BB) without a
          horizon: DERT, the discounted expected residual transactions (Fader, Hardie & Lee 2005) at ``d``
          per time unit of the summary (per opportunity for BG/BB, opportunity ``n + s`` discounted by
          ``(1+d)^-s``); continuous-time models need ``d > 0``. Times spend per transaction.
        - a contract model (:class:`~clvkit.protocols.ContractModel`: sBG): DERL (Fader & Hardie 2010) times
          the value per period; the next renewal is undiscounted (start of period). Value a
          :class:`~clvkit.ContractSummary` or an array of renewals made.
        - any transaction model with a ``horizon``: the discounted expected purchases of
          :func:`~clvkit.valuation.clv` over ``horizon`` periods of ``period``; purchases in period ``k``
          are discounted by ``(1+d)^-k``.

        Parameters
        ----------
        model:
            The fitted model.
        spend_per_period:
            Spend per transaction (per period for sBG): a spend model, a number or an array; ``None``
            takes the summary's ``monetary_value``.
        margin, discount_rate, horizon, period, customer_id:
            As for :class:`DirectValue`.

        Examples
        --------
        The Pareto/NBD estimates for CDNOW, 20 per purchase, all future purchases discounted at 15% a year
        (a weekly summary, so the rate per week):

        >>> from clvkit import CustomerSummary
        >>> from clvkit.valuation import FittedParetoNBD, ParetoNBDParams
        >>> pnbd = FittedParetoNBD(params=ParetoNBDParams(r=0.553, alpha=10.578, s=0.606, beta=11.669), time_unit="W")
        >>> weekly = CustomerSummary(frequency=[0, 2], recency=[0.0, 30.43], T=[38.86, 38.86], time_unit="W")
        >>> result = DirectValue.from_model(pnbd, 20.0, discount_rate=1.15 ** (1 / 52) - 1).evaluate(weekly)
        >>> result.source, result.value.round(1).tolist()
        ('FittedParetoNBD DERT', [9.6, 130.0])
        """
        return cls(spend_per_period=spend_per_period, model=model, margin=margin, discount_rate=discount_rate,
                   horizon=horizon, period=period, customer_id=customer_id)

    # ------------------------------------------------------------------ evaluation
    def evaluate(self, summary: Any = None) -> DirectValueResult:
        """Direct value with its parts.

        Parameters
        ----------
        summary:
            The customers: a :class:`~clvkit.CustomerSummary` (a :class:`~clvkit.ContractSummary` or an
            array of renewals for sBG), needed for model sources and spend models; ``None`` when every
            input is an array or a number.

        Returns
        -------
        DirectValueResult
        """
        time, source = self._time(summary)
        spend = self._spend(summary)
        n = len(summary) if summary is not None and hasattr(summary, "__len__") else None
        try:
            shape = np.broadcast_shapes(time.shape, spend.shape, (() if n is None else (n,)))
        except ValueError:
            raise InvalidInputError(
                f"DirectValue: the inputs have shapes {spend.shape} (spend) and {time.shape} (retention) that do "
                f"not match {'the ' + str(n) + ' customers' if n is not None else 'each other'}."
            ) from None
        shape = shape if shape else (1,)
        if self.customer_id is not None and self.customer_id.shape != shape:
            raise InvalidInputError(f"DirectValue: 'customer_id' has shape {self.customer_id.shape} but the values "
                                    f"have shape {shape}. Pass one id per customer.")
        time_b = np.broadcast_to(time, shape).astype(np.float64)
        spend_b = np.broadcast_to(spend, shape).astype(np.float64)
        value = self.margin * spend_b * time_b
        if not np.all(np.isfinite(value)):
            rows = np.flatnonzero(~np.isfinite(value))[:5].tolist()
            raise InvalidInputError(f"DirectValue produced non-finite values at rows {rows}; check the spend and "
                                    f"the retention inputs.")
        ids = self.customer_id if self.customer_id is not None else getattr(summary, "customer_id", None)
        return DirectValueResult(value=value, spend_per_period=spend_b, retention_time=time_b, customer_id=ids,
                                 margin=self.margin, discount_rate=self.discount_rate, horizon=self.horizon,
                                 timing=self.timing, source=source)

    def value(self, summary: Any = None) -> FloatArray:
        """Direct value per customer, shape (n_customers,) (see :meth:`evaluate`)."""
        return self.evaluate(summary).value

    def _time(self, summary: Any) -> tuple[FloatArray, str]:
        d = self.discount_rate
        if self.retention_time is not None:
            return _annuity(self.retention_time, d, self.horizon, self.timing), "retention_time"
        if self.retention_rate is not None or self.churn_rate is not None:
            if self.retention_rate is not None:
                rate, churn, name = self.retention_rate, 1.0 - self.retention_rate, "retention_rate"
            else:
                rate, churn, name = 1.0 - self.churn_rate, self.churn_rate, "churn_rate"
            if self.horizon is None and d == 0.0 and np.any(churn == 0.0):
                bad = np.atleast_1d(churn == 0.0)
                raise_if([row_problem(bad, name, "gives an infinite lifetime (a customer who never leaves) with "
                                      "no discounting and no horizon", "Give a discount_rate > 0 or a horizon.",
                                      ids=_ids_for(self.customer_id, rate))], _CONTEXT)
            return _geometric(rate, churn, d, self.horizon, self.timing, self.first_period), name
        return _model_time(self, summary)

    def _spend(self, summary: Any) -> FloatArray:
        s = self.spend_per_period
        if isinstance(s, SpendModel):
            if summary is None:
                raise InvalidInputError("DirectValue: a spend model needs the customers; pass a CustomerSummary.")
            out = np.asarray(s.expected_spend(summary), dtype=np.float64)
        elif s is None:
            monetary = getattr(summary, "monetary_value", None)
            if monetary is None:
                raise InvalidInputError("DirectValue needs spend_per_period: a number, an array or a spend model "
                                        "(or a CustomerSummary with monetary_value for a model source).")
            out = np.asarray(monetary, dtype=np.float64)
        else:
            return np.asarray(s, dtype=np.float64)
        if not np.all(np.isfinite(out) & (out >= 0)):
            raise InvalidInputError("DirectValue: the spend per period must be finite and >= 0.")
        return np.asarray(out, dtype=np.float64)


def _ids_for(ids: npt.NDArray[Any] | None, arr: FloatArray) -> npt.NDArray[Any] | None:
    return ids if ids is not None and arr.ndim == 1 and ids.shape == arr.shape else None


def _model_time(dv: DirectValue, summary: Any) -> tuple[FloatArray, str]:
    # The model is used through its role only (clvkit.protocols): contract model -> DERL; transaction model
    # with a horizon -> clv()'s discounted expected purchases; count model without one -> DERT.
    model, d, name = dv.model, dv.discount_rate, type(dv.model).__name__
    if summary is None:
        raise InvalidInputError(f"DirectValue with a {name} needs the customers: pass a summary to value().")
    if isinstance(model, ContractModel):
        if dv.horizon is not None:
            raise InvalidInputError("DirectValue: the sBG residual lifetime (DERL) has no horizon; pass horizon=None.")
        return model.discounted_expected_residual_lifetime(summary, d), f"{name} DERL"
    if not isinstance(model, TransactionModel):
        raise InvalidInputError(f"DirectValue: {name} is not a transaction model (no expected_purchases).")
    if dv.horizon is not None:
        res = clv(model, 1.0, summary, horizon=dv.horizon, discount_rate=d, margin=1.0, period=dv.period)
        return res.discounted_purchases, f"{name} expected purchases over {dv.horizon} periods"
    if isinstance(model, CountModel):
        return model.discounted_expected_residual_transactions(summary, d), f"{name} DERT"
    raise InvalidInputError(
        f"DirectValue: {name} has no discounted residual transactions; give a horizon (periods) to value its "
        f"expected purchases with clv(), or use a clvkit count model or a contract model."
    )
