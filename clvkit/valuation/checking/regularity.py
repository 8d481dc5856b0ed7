"""Regularity of purchase timing: how far the times between a customer's purchases are from the memoryless
(exponential) gaps that BG/NBD and Pareto/NBD assume.

Inter-purchase times are taken as gamma distributed with a shape ``k`` common to all customers and a rate of
each customer's own (Erlang-``k`` for a whole ``k``): ``k = 1`` is the exponential of a Poisson process, a larger
``k`` means more regular gaps (the coefficient of variation of a gap is ``1 / sqrt(k)``), ``k < 1`` clumpier
ones. Two estimators of ``k``, each named in the result by its ``method``:

- ``"wheat"``: Wheat & Morrison (1990). For two consecutive gaps ``t1, t2`` of one customer,
  ``M = t1 / (t1 + t2)`` is ``Beta(k, k)`` whatever the customer's rate, so ``Var(M) = 1 / (4 (2k + 1))`` and
  ``k = (1 - 4 Var(M)) / (8 Var(M))`` with the sample variance of ``M`` over customers (each customer's last
  two gaps, as BTYDplus' ``estimateRegularity(method = "wheat")``), at least 0 (a handful of customers can have
  a sample variance above 1/4, where the formula turns negative). Its standard error is the delta method on
  the sample variance, ``sqrt((m4 - m2^2) / n) / (8 V^2)`` (``m2``, ``m4``: central moments of ``M``).
- ``"mle"``: the maximum-likelihood ``k`` of that same model with all of each customer's gaps. The customers'
  rates are not estimated: each customer's gaps divided by their sum are ``Dirichlet(k, ..., k)`` whatever its
  rate, and ``k`` maximises the likelihood of these proportions (the conditional likelihood given each
  customer's total). Profiling the rates out instead (``lambda_i = k / mean gap``) biases ``k`` upwards by the
  incidental-parameter problem (about a factor ``n / (n - 1)`` for ``n`` gaps per customer), so it is not used.
  With two gaps per customer the likelihood is Wheat & Morrison's ``Beta(k, k)`` one. The score is
  ``sum_i w_i [n_i psi(n_i k) - n_i psi(k) + sum_j log p_ij]``, decreasing in ``k`` (the log-likelihood is
  concave), solved by Brent's method; the standard error is ``1 / sqrt(observed information)``.

BTYDplus' other methods (``"mle"``, ``"mle-minka"``, ``"mle-thom"``, ``"cv"``) fit ``k`` to each customer with at
least 10 gaps separately and report the median; they are not offered: with a dozen gaps a customer's own
estimate is noisy and biased, and the pooled likelihood above uses every customer with two gaps or more.

The plain statement of a result uses clvkit's default thresholds :data:`CLUMPY_BELOW` and :data:`REGULAR_FROM`.

References
----------
R. D. Wheat and D. G. Morrison (1990), "Estimating Purchase Regularity with Two Interpurchase Times", Journal of
Marketing Research 27(1), 87-93.

M. Platzer and T. Reutterer (2016), "Ticking Away the Moments: Timing Regularity Helps to Better Predict Customer
Activity", Marketing Science 35(5), 779-799 (the CNBD-k family; BTYDplus' ``estimateRegularity``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from scipy import optimize, special

from ..._deprecation import MISSING
from ..._display import block, count, key_value_table, number, shorten, table
from ..._frames import make_frame
from ..._summarize import summarize
from ...batch import CustomerSummary
from ...errors import InvalidInputError
from ...i18n import N_, Translator, check_language, translator
from ._common import FloatArray, IntArray, check_whole, read_only

__all__ = ["CLUMPY_BELOW", "MIN_CUSTOMERS", "REGULAR_FROM", "RegularityEstimate", "RegularityResult", "regularity"]

#: clvkit's default threshold: a shape ``k`` from this value up reads as regular purchases (prefer the CNBD-k
#: family). Halfway between the exponential (``k = 1``) and Erlang-2, the first order the CNBD-k family adds.
REGULAR_FROM = 1.5
#: clvkit's default threshold: a shape ``k`` below this value reads as purchases clumpier than a Poisson process
#: (gaps more variable than exponential ones). Between the two thresholds ``k`` counts as close to 1.
CLUMPY_BELOW = 0.75
#: Fewest customers with enough gaps for an estimate (the variance of Wheat & Morrison's statistic needs two).
MIN_CUSTOMERS = 2
#: Most inter-purchase times a customer needs to be used (the upper bound of ``min_intervals``).
_MAX_MIN_INTERVALS = 10_000
# Where the likelihood's root is searched: a gamma shape beyond 1e4 means gaps equal to 1 in 100.
_K_LOW, _K_HIGH = 1e-4, 1e4

Method = Literal["mle", "wheat"]
Verdict = Literal["clumpy", "irregular", "regular"]
_METHODS: tuple[str, ...] = ("mle", "wheat")
_METHOD_NAMES = {"mle": N_("maximum likelihood (all gaps, pooled k)"),
                 "wheat": N_("Wheat & Morrison (last two gaps)")}


@dataclass(frozen=True)
class RegularityEstimate:
    """One estimate of the common gamma shape ``k`` of the inter-purchase times.

    Attributes
    ----------
    method:
        ``"mle"`` or ``"wheat"`` (see :mod:`clvkit.valuation.checking.regularity`).
    k:
        The estimate.
    std_error:
        Its standard error (asymptotic).
    n_customers:
        Customers it uses (a sum of weights for a weighted summary).
    n_intervals:
        Inter-purchase times it uses (weighted): two per customer for ``"wheat"``, all for ``"mle"``.
    log_likelihood:
        For ``"mle"``: the maximised log-likelihood of the gap proportions (Dirichlet densities on the
        simplex); ``None`` for ``"wheat"`` (a moment estimator).
    """

    method: str
    k: float
    std_error: float
    n_customers: float
    n_intervals: float
    log_likelihood: float | None

    def __repr__(self) -> str:
        return (f"RegularityEstimate(method={self.method!r}, k={number(self.k)}, std_error={number(self.std_error)}, "
                f"n_customers={count(self.n_customers)})")


@dataclass(frozen=True)
class RegularityResult:
    """The regularity of a cohort's purchase timing: estimates of the gamma shape ``k`` and what they mean.

    Attributes
    ----------
    estimates:
        One :class:`RegularityEstimate` per method, the primary one (``method``) first.
    method:
        The method whose ``k`` the verdict and the statement read.
    verdict:
        ``"regular"`` (``k >= REGULAR_FROM``), ``"irregular"`` (``k`` close to 1) or ``"clumpy"``
        (``k < CLUMPY_BELOW``).
    customer_id:
        Array of shape (n_used,): the ids of the customers used (``None`` for a summary without ids).
    intervals:
        Array of shape (n_used,), int64: each used customer's number of inter-purchase times.
    wheat_statistic:
        Array of shape (n_used,): Wheat & Morrison's ``M = t1 / (t1 + t2)`` of each used customer's last two
        inter-purchase times ``t1, t2`` (``Beta(k, k)`` distributed under the model).
    mean_interval:
        Array of shape (n_used,): each used customer's mean inter-purchase time, in ``time_unit``.
    weights:
        Array of shape (n_used,): how many customers each row stands for (ones unless the summary is weighted).
    n_customers:
        All customers of the summary (weighted).
    n_excluded:
        Customers left out for having fewer than ``min_intervals`` inter-purchase times (weighted).
    min_intervals:
        Fewest inter-purchase times (repeat purchases) a customer needs to be used.
    time_unit:
        The summary's time unit.
    """

    estimates: tuple[RegularityEstimate, ...]
    method: str
    verdict: str
    customer_id: npt.NDArray[Any] | None
    intervals: IntArray
    wheat_statistic: FloatArray
    mean_interval: FloatArray
    weights: FloatArray
    n_customers: float
    n_excluded: float
    min_intervals: int
    time_unit: str

    @property
    def k(self) -> float:
        """The primary estimate of ``k`` (that of ``method``)."""
        return self.estimates[0].k

    @property
    def n_used(self) -> float:
        """Customers used (weighted)."""
        return float(self.weights.sum())

    @property
    def order(self) -> int:
        """The whole Erlang order nearest ``k`` (at least 1): the ``k`` a CNBD-k model would start from."""
        return max(1, math.floor(self.k + 0.5))

    def estimate(self, method: str) -> RegularityEstimate:
        """The estimate of ``method`` (``"mle"`` or ``"wheat"``).

        Raises
        ------
        InvalidInputError
            For another method.
        """
        for est in self.estimates:
            if est.method == method:
                return est
        raise InvalidInputError(f"The 'method' parameter of RegularityResult.estimate() must be one of "
                                f"{list(_METHODS)}. Got {method!r} instead.")

    def statistic_density(self, k: float, points: int = 201) -> tuple[FloatArray, FloatArray]:
        """The density of Wheat & Morrison's statistic ``M`` implied by gamma gaps of shape ``k``: ``Beta(k, k)``
        on ``points`` points of (0, 1) (the ends excluded: the density is infinite there for ``k < 1``).

        Returns
        -------
        (x, density)
            Two arrays of shape (points,).

        Raises
        ------
        InvalidInputError
            For ``k`` not finite and > 0 or ``points`` not a whole number in [3, 100,000].

        Examples
        --------
        >>> from clvkit import CustomerSummary, PurchaseTimes
        >>> times = PurchaseTimes(origin=np.zeros(3, dtype="datetime64[ns]"), offsets=[0, 2, 4, 7],
        ...                       times=[1.0, 3.0, 3.0, 5.0, 2.0, 4.0, 6.0], period_days=1.0, unit_days=1.0)
        >>> res = regularity(CustomerSummary([2, 2, 3], [3.0, 5.0, 6.0], [9.0, 9.0, 9.0], purchase_times=times))
        >>> x, d = res.statistic_density(1.0, points=5)
        >>> x.round(4).tolist(), d.tolist()
        ([0.001, 0.2505, 0.5, 0.7495, 0.999], [1.0, 1.0, 1.0, 1.0, 1.0])
        """
        kk = float(k) if isinstance(k, (int, float, np.integer, np.floating)) and not isinstance(k, bool) else math.nan
        if not (math.isfinite(kk) and kk > 0.0):
            raise InvalidInputError("The 'k' parameter of RegularityResult.statistic_density() must be a finite "
                                    f"number > 0. Got {k!r} instead.")
        n = check_whole(points, "points", "RegularityResult.statistic_density()", low=3, high=100_000)
        x = np.linspace(0.001, 0.999, n)
        return read_only(x), read_only(np.exp(_beta_logpdf(x, kk)))

    def statement(self, lang: str | None = None) -> str:
        """The verdict in one plain sentence, in English (``"en"``) or Chinese (``"zh"``; ``None``: the locale's).

        Examples
        --------
        >>> from clvkit import CustomerSummary, PurchaseTimes
        >>> times = PurchaseTimes(origin=np.zeros(3, dtype="datetime64[ns]"), offsets=[0, 2, 4, 7],
        ...                       times=[1.0, 3.0, 3.0, 5.0, 2.0, 4.0, 6.0], period_days=1.0, unit_days=1.0)
        >>> res = regularity(CustomerSummary([2, 2, 3], [3.0, 5.0, 6.0], [9.0, 9.0, 9.0], purchase_times=times))
        >>> res.statement("en")
        'Purchases are regular, k = 12.8: prefer the CNBD-k family (MBG/CNBD-k, BG/CNBD-k) with k = 13.'
        >>> print(res.statement("zh"))
        购买很有规律（k = 12.8）：宜选用 CNBD-k 系列模型（MBG/CNBD-k、BG/CNBD-k），取 k = 13。
        """
        return _statement(translator(check_language(lang, "the 'lang' parameter of RegularityResult.statement()")),
                          self.verdict, self.k, self.order)

    def to_frame(self, backend: str = "pandas") -> Any:
        """The used customers as a DataFrame: ``intervals, mean_interval, wheat_statistic, weight``.

        Parameters
        ----------
        backend:
            ``"pandas"`` (default; index ``customer_id``) or ``"polars"`` (a first ``customer_id`` column). Without
            customer ids the rows are keyed by position, named ``row``.

        Raises
        ------
        InvalidInputError
            For another ``backend``.
        MissingDependencyError
            If the library is not installed: ``pip install 'clvkit[frames]'``.
        """
        return make_frame({"intervals": self.intervals, "mean_interval": self.mean_interval,
                           "wheat_statistic": self.wheat_statistic, "weight": self.weights},
                          key=self.customer_id, backend=backend, where="RegularityResult.to_frame()")

    def __repr__(self) -> str:
        others = "".join(f"; {e.method} {number(e.k)}" for e in self.estimates[1:])
        se = number(self.estimates[0].std_error)
        return shorten(f"RegularityResult(k = {number(self.k)} by {self.method} (se {se}){others}; "
                       f"{count(self.n_used)} customers used, "
                       f"{count(self.n_excluded)} with fewer than {self.min_intervals} gaps left out: {self.verdict})")

    def _repr_html_(self) -> str:
        return self._html(translator("en"))

    def _html(self, tr: Translator) -> str:
        """The notebook display in ``tr``'s language."""
        rows = [[tr(_METHOD_NAMES[e.method]), e.k, e.std_error, count(e.n_customers), count(e.n_intervals)]
                for e in self.estimates]
        header = [tr("method"), "k", tr("standard error"), tr("customers"), tr("inter-purchase times")]
        facts = key_value_table([
            (tr("customers in the summary"), count(self.n_customers)),
            (tr("customers left out (too few purchases)"), count(self.n_excluded)),
            (tr("fewest inter-purchase times per customer"), self.min_intervals),
            (tr("time unit"), self.time_unit),
        ])
        return block(tr("Regularity of purchase timing"), table(header, rows), facts,
                     note=_statement(tr, self.verdict, self.k, self.order))


def _statement(tr: Translator, verdict: str, k: float, order: int) -> str:
    shown = f"{k:.2f}" if k < 1.0 else f"{k:.1f}"
    if verdict == "regular":
        return tr("Purchases are regular, k = {k}: prefer the CNBD-k family (MBG/CNBD-k, BG/CNBD-k) with k = {order}.",
                  k=shown, order=order)
    if verdict == "irregular":
        return tr("Purchases are irregular, k = {k} is close to 1: Poisson-like, BG/NBD and Pareto/NBD fit.", k=shown)
    return tr("Purchases are clumpier than a Poisson process, k = {k} is below 1: no regularity to use, BG/NBD and "
              "Pareto/NBD fit best.", k=shown)


def _beta_logpdf(x: FloatArray, k: float) -> FloatArray:
    """``log Beta(k, k)`` density at ``x`` in (0, 1)."""
    return np.asarray((k - 1.0) * (np.log(x) + np.log1p(-x)) - special.betaln(k, k), dtype=np.float64)


def verdict_of(k: float) -> Verdict:
    """``"clumpy"``, ``"irregular"`` or ``"regular"`` for a shape ``k``, by :data:`CLUMPY_BELOW` and
    :data:`REGULAR_FROM`.

    Examples
    --------
    >>> verdict_of(0.6), verdict_of(1.2), verdict_of(2.0)
    ('clumpy', 'irregular', 'regular')
    """
    if k >= REGULAR_FROM:
        return "regular"
    return "irregular" if k >= CLUMPY_BELOW else "clumpy"


def regularity(log_or_summary: Any, *, method: str = "mle", min_intervals: int = 2, customer_id: str | None = None,
               datetime: str | None = None, time_unit: str = MISSING, observation_end: Any = None,
               calibration_end: Any = None, refunds: Literal["error", "drop", "net"] = "error",
               datetime_format: str | None = None) -> RegularityResult:
    """How regular the customers' purchase timing is: the gamma shape ``k`` of the inter-purchase times by
    Wheat & Morrison's estimator and by maximum likelihood, with a plain verdict.

    The model and both estimators are described in :mod:`clvkit.valuation.checking.regularity`: gaps between
    a customer's purchases are gamma with a shape ``k`` common to all customers and a rate of each customer's
    own. The verdict reads the ``method`` estimate with clvkit's default thresholds: ``k >= REGULAR_FROM``
    (1.5) is regular - prefer the CNBD-k family with the nearest whole ``k``; ``k < CLUMPY_BELOW`` (0.75) is
    clumpier than Poisson; between them ``k`` is close to 1 and BG/NBD and Pareto/NBD fit.

    Parameters
    ----------
    log_or_summary:
        A :class:`~clvkit.CustomerSummary` with ``purchase_times`` (as :func:`clvkit.summarize` keeps them
        for a column of datetimes and a unit from ``"s"`` to ``"W"``), or a transaction log as
        :func:`clvkit.summarize` takes it (then ``customer_id`` and ``datetime`` are required and the log is
        summarized with the keyword arguments below). Only calibration-period purchases are used.
    method:
        ``"mle"`` (default) or ``"wheat"``: the estimate the verdict reads (both are computed).
    min_intervals:
        Fewest inter-purchase times (repeat purchases, ``frequency``) a customer needs; at least 2. Customers
        with fewer are left out and counted in ``n_excluded``.
    customer_id, datetime, time_unit, observation_end, calibration_end, refunds, datetime_format:
        As in :func:`clvkit.summarize`, for a log only. Days (``"D"``) by default: gaps are counted in whole
        periods, so a coarse unit (weeks for weekly shoppers) turns gaps into ties and blurs regularity.

    Returns
    -------
    RegularityResult

    Raises
    ------
    InvalidInputError
        For a bad ``method`` or ``min_intervals``; a summary without ``purchase_times`` or summarize arguments
        given with a summary; a log without ``customer_id``/``datetime`` or with numeric times (no calendar,
        so no purchase times: pass datetimes); fewer than ``MIN_CUSTOMERS`` customers with ``min_intervals``
        gaps; gaps so equal that ``k`` has no finite estimate.

    Examples
    --------
    Three customers' repeat purchase days (each from its first purchase, day 0): gaps (1, 2), (3, 2) and
    (2, 2, 2).

    >>> import numpy as np
    >>> from clvkit import CustomerSummary, PurchaseTimes
    >>> times = PurchaseTimes(origin=np.zeros(3, dtype="datetime64[ns]"), offsets=[0, 2, 4, 7],
    ...                       times=[1.0, 3.0, 3.0, 5.0, 2.0, 4.0, 6.0], period_days=1.0, unit_days=1.0)
    >>> res = regularity(CustomerSummary([2, 2, 3], [3.0, 5.0, 6.0], [9.0, 9.0, 9.0], purchase_times=times))
    >>> [(e.method, round(e.k, 3)) for e in res.estimates]
    [('mle', 12.842), ('wheat', 6.388)]
    >>> res.wheat_statistic.round(3).tolist(), res.verdict, res.order
    ([0.333, 0.6, 0.5], 'regular', 13)
    """
    where = "regularity()"
    if method not in _METHODS:
        raise InvalidInputError(f"The 'method' parameter of {where} must be one of {list(_METHODS)}. "
                                f"Got {method!r} instead.")
    min_n = check_whole(min_intervals, "min_intervals", where, low=2, high=_MAX_MIN_INTERVALS)
    summary = _summary_of(log_or_summary, where, customer_id=customer_id, datetime=datetime, time_unit=time_unit,
                          observation_end=observation_end, calibration_end=calibration_end, refunds=refunds,
                          datetime_format=datetime_format)
    pt = summary.purchase_times
    assert pt is not None  # _summary_of refuses a summary without them
    w_all = summary.weights_or_ones()
    n_i = np.diff(pt.offsets).astype(np.int64)
    gaps = _gaps(pt.times, pt.offsets, n_i)
    bad = ~(np.isfinite(gaps) & (gaps > 0.0))
    if np.any(bad):
        first = int(np.searchsorted(pt.offsets, int(np.flatnonzero(bad)[0]), side="right")) - 1
        raise InvalidInputError(f"{where}: the purchase times must increase within each customer; customer "
                                f"row {first} has an inter-purchase time that is <= 0 or not finite. Rebuild the "
                                f"summary with clvkit.summarize().")
    used = np.flatnonzero(n_i >= min_n)
    w = w_all[used]
    if used.shape[0] == 0 or float(w.sum()) < MIN_CUSTOMERS:
        raise InvalidInputError(
            f"{where} needs at least {MIN_CUSTOMERS} customers with {min_n} or more inter-purchase times (repeat "
            f"purchases); {count(w.sum())} of {count(w_all.sum())} have them. Lower 'min_intervals' (at least 2) or "
            f"use a longer calibration period.")
    # Both estimators read each customer's gaps relative to each other only: scaled by the customer's longest gap
    # they lie in (0, 1], so sums cannot overflow whatever the time unit.
    longest = _per_customer(np.maximum, gaps, pt.offsets, n_i, 0.0)
    scaled = gaps / np.repeat(longest, n_i)
    if np.any(scaled <= 0.0):
        first = int(np.searchsorted(pt.offsets, int(np.flatnonzero(scaled <= 0.0)[0]), side="right")) - 1
        raise InvalidInputError(f"{where}: customer row {first}'s inter-purchase times differ by more than 300 "
                                f"orders of magnitude; check its purchase times.")
    ends = pt.offsets[used + 1]
    t1, t2 = scaled[ends - 2], scaled[ends - 1]
    stat = t1 / (t1 + t2)
    wheat = _wheat(stat, w, where)
    sums = _per_customer(np.add, scaled, pt.offsets, n_i, 0.0)[used]
    log_sums = _per_customer(np.add, np.log(scaled), pt.offsets, n_i, 0.0)[used]
    mle = _mle(sums, log_sums, n_i[used], w, where)
    primary, other = (mle, wheat) if method == "mle" else (wheat, mle)
    ids = summary.customer_id
    return RegularityResult(
        estimates=(primary, other), method=method, verdict=verdict_of(primary.k),
        customer_id=None if ids is None else _read_only_any(np.asarray(ids)[used]),
        intervals=_read_only_int(n_i[used]), wheat_statistic=read_only(stat),
        mean_interval=read_only(longest[used] * (sums / n_i[used])), weights=read_only(w),
        n_customers=float(w_all.sum()), n_excluded=float(w_all.sum() - w.sum()), min_intervals=min_n,
        time_unit=summary.time_unit)


def _read_only_int(arr: npt.NDArray[Any]) -> IntArray:
    out = np.array(arr, dtype=np.int64)
    out.flags.writeable = False
    return out


def _read_only_any(arr: npt.NDArray[Any]) -> npt.NDArray[Any]:
    out = np.array(arr)
    out.flags.writeable = False
    return out


def _summary_of(data: Any, where: str, **log_args: Any) -> CustomerSummary:
    """The summary to read purchase times from: ``data`` itself, or the log summarized with ``log_args``."""
    if isinstance(data, CustomerSummary):
        given = sorted(name for name, value in log_args.items()
                       if value is not None and value is not MISSING and not (name == "refunds" and value == "error"))
        if given:
            raise InvalidInputError(f"{where} was given a CustomerSummary and the summarize() arguments {given}; "
                                    f"these are for a transaction log only. Drop them or pass the log.")
        if data.purchase_times is None:
            raise InvalidInputError(
                f"{where} needs the summary's purchase_times (each customer's repeat purchase times), and this "
                f"summary has none. Build it with clvkit.summarize() from a column of datetimes and a time unit "
                f"from 's' to 'W' (not 'M', 'Q', 'Y' or numeric times), or pass the transaction log itself.")
        return data
    if not isinstance(log_args["customer_id"], str) or not isinstance(log_args["datetime"], str):
        raise InvalidInputError(f"{where} needs a CustomerSummary, or a transaction log with the names of its "
                                f"'customer_id' and 'datetime' columns (as clvkit.summarize() takes them). Got "
                                f"customer_id={log_args['customer_id']!r}, datetime={log_args['datetime']!r}.")
    summary = summarize(data, **log_args)
    if summary.purchase_times is None:
        raise InvalidInputError(
            f"{where}: the log's times give no purchase times (a numeric time column has no calendar; units 'M', "
            f"'Q' and 'Y' have periods of different lengths). Pass datetimes (e.g. days since 1970-01-01 as "
            f"numpy.asarray(days, dtype='datetime64[D]')) and a time unit from 's' to 'W'.")
    return summary


def _gaps(times: FloatArray, offsets: IntArray, n_i: IntArray) -> FloatArray:
    """Every inter-purchase time, in the order of ``times``: each customer's gaps from its first purchase (0)."""
    gaps = np.empty_like(times)
    if times.shape[0] == 0:
        return gaps
    gaps[0] = times[0]
    gaps[1:] = times[1:] - times[:-1]
    starts = offsets[:-1][n_i > 0]
    gaps[starts] = times[starts]  # a customer's first gap is from its first purchase, time 0
    return gaps


def _per_customer(ufunc: np.ufunc, values: FloatArray, offsets: IntArray, n_i: IntArray, empty: float) -> FloatArray:
    """``ufunc`` reduced over each customer's values (``values[offsets[i]:offsets[i + 1]]``); ``empty`` for none."""
    out = np.full(n_i.shape[0], empty)
    nonempty = n_i > 0
    if np.any(nonempty):
        # Consecutive non-empty customers' starts delimit exactly their segments (empty ones hold no values).
        out[nonempty] = ufunc.reduceat(values, offsets[:-1][nonempty])
    return out


def _wheat(stat: FloatArray, w: FloatArray, where: str) -> RegularityEstimate:
    """Wheat & Morrison's moment estimator from the statistics ``M`` of the used customers (weights ``w``)."""
    n = float(w.sum())
    mean = float(w @ stat) / n
    dev = stat - mean
    var = float(w @ dev**2) / (n - 1.0)  # unbiased, as R's var() in BTYDplus
    if not var > 0.0:
        raise InvalidInputError(
            f"{where}: every used customer's last two inter-purchase times are equal, so the Wheat & Morrison "
            f"estimate of k is unbounded (perfectly regular purchases). Use a finer time unit or more customers.")
    # Var(V) ~ (mu4 - sigma^4) / n with the plain (1/n) moments, whose difference is never negative.
    m2, m4 = float(w @ dev**2) / n, float(w @ dev**4) / n
    se = math.sqrt(max(m4 - m2 * m2, 0.0) / n) / (8.0 * var * var)
    # Var(M) <= 1/4 on [0, 1]; a sample variance above it (few customers at the extremes) would give k < 0: the
    # estimate stops at the boundary of the parameter space, k = 0.
    k = max((1.0 - 4.0 * var) / (8.0 * var), 0.0)
    return RegularityEstimate(method="wheat", k=k, std_error=se, n_customers=n,
                              n_intervals=2.0 * n, log_likelihood=None)


def _mle(sums: FloatArray, log_sums: FloatArray, n_used: IntArray, w: FloatArray, where: str) -> RegularityEstimate:
    """The maximum-likelihood pooled shape from the Dirichlet(k, ..., k) gap proportions of the used customers,
    given each one's sum of gaps and sum of log gaps (any common scale per customer)."""
    # sum_j log p_ij = sum_j log t_ij - n_i log S_i: the part of the log-likelihood that multiplies (k - 1).
    c = float(w @ (log_sums - n_used * np.log(sums)))
    sizes, inverse = np.unique(n_used, return_inverse=True)
    wn = np.bincount(inverse.reshape(-1), weights=w, minlength=sizes.shape[0])
    nf = sizes.astype(np.float64)

    def score(k: float) -> float:
        return float(wn @ (nf * (special.digamma(nf * k) - special.digamma(k)))) + c

    if score(_K_HIGH) > 0.0:
        raise InvalidInputError(
            f"{where}: the used customers' inter-purchase times are (nearly) equal within each customer, so the "
            f"likelihood grows without bound in k (k > {_K_HIGH:g}: perfectly regular purchases). Use a finer time "
            f"unit or more customers.")
    if score(_K_LOW) < 0.0:
        raise InvalidInputError(f"{where}: the inter-purchase times are so uneven that k < {_K_LOW:g}; such gaps are "
                                f"not a purchase process (check the log for duplicated customers or times).")
    u = optimize.brentq(lambda v: score(math.exp(v)), math.log(_K_LOW), math.log(_K_HIGH), xtol=1e-12, rtol=1e-12)
    k = math.exp(u)
    info = -float(wn @ (nf * nf * special.polygamma(1, nf * k) - nf * special.polygamma(1, k)))
    loglik = float(wn @ (special.gammaln(nf * k) - nf * special.gammaln(k))) + (k - 1.0) * c
    return RegularityEstimate(method="mle", k=k, std_error=1.0 / math.sqrt(info), n_customers=float(w.sum()),
                              n_intervals=float(w @ n_used), log_likelihood=loglik)
