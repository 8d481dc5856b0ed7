"""Tracking: a cohort's expected vs actual repeat transactions per calendar period, across calibration and
holdout (Fader, Hardie & Lee 2005, Figures 2 and 3; references in :mod:`clvkit.valuation.checking`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from ..._customer_codes import code_ids, read_object_ids
from ..._deprecation import MISSING, renamed_argument
from ..._display import block, count, key_value_table, percent, shorten, table
from ..._frames import make_frame, to_columns
from ..._timecolumns import period_of, read_param, read_times, source_is_aware, to_periods
from ..._timeunits import UNIT_DAYS, unit_days
from ..._validation import raise_if
from ...errors import InvalidInputError, Problem
from ._common import CountModel, FloatArray, IntArray, read_only, relative_error

__all__ = ["MAX_TRACKING_CELLS", "TrackingResult", "tracking"]

#: Most model evaluations :func:`tracking` makes: distinct first-purchase periods x tracking periods (each a
#: float64 in one array: 800 MB). A finer ``time_unit`` or a shorter ``period`` grows both factors.
MAX_TRACKING_CELLS = 100_000_000


@dataclass(frozen=True)
class TrackingResult:
    """Expected vs actual repeat transactions of a cohort per calendar period.

    Period ``k`` (1-based) covers ``period_length`` periods of ``freq`` starting at the cohort's first
    purchase period; its end is ``elapsed[k-1]`` model time units after that start.

    Attributes
    ----------
    period:
        Array of shape (n_periods,): 1, 2, ...
    elapsed:
        Time from the start of the first period to the end of each period, in the model's time unit.
    expected_incremental, actual_incremental:
        Repeat transactions in each period, expected and actual.
    expected_cumulative, actual_cumulative:
        Running totals.
    n_calibration_periods:
        How many leading periods end on or before ``calibration_end`` (a period that straddles it counts
        as holdout).
    n_customers:
        Size of the cohort (customers whose first purchase is on or before ``calibration_end``).
    time_unit:
        The model's time unit (the unit of ``elapsed``).
    """

    period: IntArray
    elapsed: FloatArray
    expected_incremental: FloatArray
    actual_incremental: FloatArray
    expected_cumulative: FloatArray
    actual_cumulative: FloatArray
    n_calibration_periods: int
    n_customers: int
    time_unit: str

    def to_frame(self, backend: str = "pandas") -> Any:
        """The per-period curves as a DataFrame keyed by period.

        Parameters
        ----------
        backend:
            ``"pandas"`` (default): index ``period``; ``"polars"``: a first ``period`` column.

        Raises
        ------
        InvalidInputError
            For another ``backend``.
        MissingDependencyError
            If the library is not installed: ``pip install 'clvkit[frames]'``.

        Returns
        -------
        pandas.DataFrame or polars.DataFrame
            Columns ``elapsed, expected_incremental, actual_incremental, expected_cumulative,
            actual_cumulative`` and ``calibration`` (true for the first ``n_calibration_periods`` periods).

        Examples
        --------
        >>> from clvkit.datasets import CDNOW_CALIBRATION_END, load_cdnow_transactions
        >>> from clvkit.valuation import BetaGeoParams, FittedBetaGeo
        >>> bg = FittedBetaGeo(params=BetaGeoParams(r=0.243, alpha=4.414, a=0.793, b=2.426), time_unit="W")
        >>> res = tracking(bg, load_cdnow_transactions(), customer_id="customer_id", datetime="date",
        ...                calibration_end=CDNOW_CALIBRATION_END, time_unit="D", period=7)
        >>> frame = res.to_frame()
        >>> len(frame), int(frame["calibration"].sum()), int(frame["actual_cumulative"].iloc[-1])
        (78, 39, 4339)
        """
        cols = {"elapsed": self.elapsed, "expected_incremental": self.expected_incremental,
                "actual_incremental": self.actual_incremental, "expected_cumulative": self.expected_cumulative,
                "actual_cumulative": self.actual_cumulative,
                "calibration": np.arange(self.period.shape[0]) < self.n_calibration_periods}
        return make_frame(cols, key=self.period, backend=backend, where="TrackingResult.to_frame()",
                          key_name="period")

    def __repr__(self) -> str:
        n = self.period.shape[0]
        if n == 0:
            return f"TrackingResult(no periods, {count(self.n_customers)} customers)"
        e, a = float(self.expected_cumulative[-1]), float(self.actual_cumulative[-1])
        return shorten(f"TrackingResult({n} periods ({self.n_calibration_periods} calibration), "
                       f"{count(self.n_customers)} customers: {e:,.1f} repeat transactions expected vs {a:,.0f} "
                       f"actual by the end ({self.total_relative_error:+.1%})")

    def _repr_html_(self) -> str:
        n = self.period.shape[0]
        facts = [("periods", n), ("calibration periods", self.n_calibration_periods),
                 ("customers in the cohort", self.n_customers), ("time unit", self.time_unit)]
        if n == 0:
            return block("TrackingResult", key_value_table(facts))
        facts += [("relative error, end of calibration", percent(self.calibration_relative_error)),
                  ("relative error, holdout periods", percent(self.holdout_relative_error)),
                  ("relative error, end", percent(self.total_relative_error)),
                  ("mean absolute error per period", self.incremental_mae)]
        marks = sorted({k for k in (1, self.n_calibration_periods, n) if 1 <= k <= n})
        rows = [[str(k), float(self.elapsed[k - 1]), float(self.expected_cumulative[k - 1]),
                 float(self.actual_cumulative[k - 1])] for k in marks]
        curve = table(["period", "elapsed", "expected cumulative", "actual cumulative"], rows,
                      caption="Cumulative repeat transactions")
        return block("TrackingResult", key_value_table(facts), curve)

    def cumulative_at(self, k: int) -> tuple[float, float]:
        """``(expected, actual)`` cumulative repeat transactions at the end of period ``k`` (1-based)."""
        if not 1 <= k <= self.period.shape[0]:
            raise InvalidInputError(f"The 'k' parameter of cumulative_at() must be in [1, {self.period.shape[0]}]. "
                                    f"Got {k!r} instead.")
        return float(self.expected_cumulative[k - 1]), float(self.actual_cumulative[k - 1])

    @property
    def calibration_relative_error(self) -> float:
        """Relative error of the cumulative expectation at the end of the calibration periods."""
        if self.n_calibration_periods == 0:
            return 0.0
        e, a = self.cumulative_at(self.n_calibration_periods)
        return relative_error(e, a)

    @property
    def holdout_relative_error(self) -> float:
        """Relative error of the expected repeat transactions summed over the holdout periods."""
        c = self.n_calibration_periods
        e = float(self.expected_incremental[c:].sum())
        a = float(self.actual_incremental[c:].sum())
        return relative_error(e, a)

    @property
    def total_relative_error(self) -> float:
        """Relative error of the cumulative expectation at the end of the last period."""
        return relative_error(float(self.expected_cumulative[-1]), float(self.actual_cumulative[-1]))

    @property
    def incremental_mae(self) -> float:
        """Mean absolute error of the per-period repeat transactions over all periods."""
        return float(np.mean(np.abs(self.expected_incremental - self.actual_incremental)))


def tracking(model: CountModel, transactions: Any, *, customer_id: str, datetime: str, calibration_end: Any,
             time_unit: str = MISSING, period: int = MISSING, observation_end: Any = None,
             freq: str = MISSING, period_length: int = MISSING) -> TrackingResult:
    """Expected vs actual repeat transactions per calendar period for the cohort in a transaction log.

    As in Fader, Hardie & Lee (2005, Figures 2 and 3): a customer whose first purchase is at calendar
    time ``s_i`` is expected to have made ``E[X(tau - s_i)]`` repeat purchases by calendar time ``tau``
    (the model's ``expected_purchases_new_customer``), so the cohort's expected cumulative repeat
    transactions are ``sum_i E[X(tau - s_i)]``. Customers are grouped by first-purchase period, so the
    model is evaluated once per (first period, tracking period) pair, not per customer.

    Times are floored to periods of ``freq`` exactly as :func:`clvkit.summarize` does, and a customer's
    purchases in one period count once; a repeat transaction is a purchase period after the customer's
    first. With ``e`` the last ``freq`` period of tracking period ``k``, the expectation uses the elapsed
    time ``e - s_i`` - the same convention as the summary's ``T`` - so at ``calibration_end`` the
    expected cumulative equals ``sum_i E[X(T_i)]`` over the calibration summary.

    Parameters
    ----------
    model:
        A fitted transaction model (see :class:`CountModel`), e.g. fitted on
        ``summarize(log, ..., time_unit=time_unit, calibration_end=calibration_end)`` (possibly converted with
        ``with_time_unit``).
    transactions:
        The transaction log (a pandas/polars DataFrame, pyarrow Table or mapping of columns).
    customer_id, datetime:
        Column names of the customer ids and transaction times.
    calibration_end:
        End of the calibration period (inclusive), as for :func:`clvkit.summarize`. The cohort is the
        customers whose first purchase is on or before it.
    time_unit:
        Resolution at which purchases are counted (default ``"D"``: distinct purchase days), as the
        ``time_unit`` of :func:`clvkit.summarize`. ``freq`` is its deprecated spelling.
    period:
        Length of one tracking period as a whole number of ``time_unit`` periods (default 1;
        ``time_unit="D", period=7`` gives the papers' weekly tracking). ``period_length`` is its deprecated
        spelling.
    observation_end:
        Last time tracked (default: the last transaction); later rows are ignored.

    Returns
    -------
    TrackingResult

    Raises
    ------
    InvalidInputError
        For missing or unreadable columns, a bad ``time_unit``/``period``, or a ``calibration_end``
        before the first transaction or after ``observation_end``; when first-purchase periods x tracking
        periods exceed :data:`MAX_TRACKING_CELLS` (checked before the model is evaluated).

    Examples
    --------
    >>> from clvkit.datasets import load_cdnow_transactions
    >>> from clvkit.valuation import BetaGeoParams, FittedBetaGeo
    >>> bg = FittedBetaGeo(params=BetaGeoParams(r=0.243, alpha=4.414, a=0.793, b=2.426), time_unit="W")
    >>> tr = tracking(bg, load_cdnow_transactions(), customer_id="customer_id", datetime="date",
    ...               calibration_end="1997-09-30", period=7)
    >>> len(tr.period), tr.n_calibration_periods
    (78, 39)
    >>> int(tr.actual_cumulative[-1])  # repeat purchases in the 78 weeks: a count of the data
    4339
    >>> bool(abs(tr.total_relative_error) < 0.05)  # the model tracks the total within 5% over 78 weeks
    True
    """
    where = "tracking()"
    freq = renamed_argument(time_unit, freq, new="time_unit", old="freq", where=where, default="D")
    period_length = renamed_argument(period, period_length, new="period", old="period_length", where=where,
                                     default=1)
    _check_parameters(freq, period_length, where)
    log = _read_log(transactions, customer_id, datetime, calibration_end, observation_end, freq, where)
    cohort = _cohort(log, int(period_length))
    ends = cohort.ends
    scale = unit_days(freq) / unit_days(model.time_unit)
    expected_cum = _expected_cumulative(model, cohort.first, ends, scale)
    return TrackingResult(
        period=np.arange(1, ends.shape[0] + 1, dtype=np.int64),
        elapsed=read_only((ends - cohort.origin + 1).astype(np.float64) * scale),
        expected_incremental=read_only(np.diff(expected_cum, prepend=0.0)),
        expected_cumulative=read_only(expected_cum),
        actual_incremental=read_only(cohort.actual_incremental),
        actual_cumulative=read_only(np.cumsum(cohort.actual_incremental)),
        n_calibration_periods=int(np.count_nonzero(ends <= log.cal_rel)),
        n_customers=int(cohort.first.shape[0]),
        time_unit=model.time_unit,
    )


def _check_parameters(freq: str, period_length: int, where: str) -> None:
    problems: list[Problem | None] = []
    if not (isinstance(freq, str) and freq in UNIT_DAYS):
        problems.append(Problem("time_unit", f"must be one of {list(UNIT_DAYS)}; got {freq!r}"))
    if isinstance(period_length, bool) or not isinstance(period_length, (int, np.integer)) or period_length < 1:
        problems.append(Problem("period", f"must be a positive whole number of time_unit periods; got "
                                          f"{period_length!r}", fix="E.g. time_unit='D', period=7 for weeks."))
    raise_if(problems, where)


@dataclass(frozen=True)
class _Log:
    """The log's purchases in periods of ``freq`` counted from the first transaction's period."""

    codes: IntArray  # customer code of each row up to observation_end
    n_codes: int
    rel: IntArray  # period of each of those rows
    cal_rel: int  # period of calibration_end
    obs_rel: int  # period of observation_end (default: the last transaction's)


def _read_log(transactions: Any, customer_id: str, datetime: str, calibration_end: Any, observation_end: Any,
              freq: str, where: str) -> _Log:
    """Read and check the two columns and the two ends; floor times to periods as summarize() does."""
    problems: list[Problem | None] = []
    columns = to_columns(transactions, list(dict.fromkeys([customer_id, datetime])), context=where)
    ids, raw_times = columns[customer_id], columns[datetime]
    if ids.shape[0] == 0:
        raise InvalidInputError([Problem(datetime, "the transaction log is empty (0 rows)")], context=where)
    times = read_times(raw_times, datetime, source_is_aware(transactions, datetime), problems)
    coded = read_object_ids(ids, customer_id, problems) if ids.dtype.kind == "O" else code_ids(ids)
    cal = read_param(calibration_end, "calibration_end", times, problems) if times is not None else None
    obs = None
    if observation_end is not None and times is not None:
        obs = read_param(observation_end, "observation_end", times, problems)
    raise_if(problems, where)
    if times is None or coded is None or cal is None:  # pragma: no cover - reported above
        raise AssertionError("unreachable")

    periods = to_periods(times.values, times.numeric, freq)
    cal_period = period_of(cal, times, freq)
    obs_period = int(periods.max()) if obs is None else period_of(obs, times, freq)
    first_all = int(periods.min())
    if not first_all <= cal_period < obs_period:
        raise InvalidInputError([Problem(
            "calibration_end", "must fall in a period from the first transaction up to (not including) the "
                               "period of observation_end",
            fix="Pick a calibration end inside the tracked data.")], context=where)
    keep = periods <= obs_period
    return _Log(coded.codes[keep], coded.n_codes, periods[keep] - first_all, cal_period - first_all,
                obs_period - first_all)


class _Cohort(NamedTuple):
    first: IntArray  # first purchase period of each cohort customer
    origin: int  # start of the first tracking period: the cohort's first purchase period
    ends: IntArray  # last period of each tracking period (the last may be short)
    actual_incremental: FloatArray  # the cohort's repeat transactions in each tracking period


def _cohort(log: _Log, period_length: int) -> _Cohort:
    """The cohort (first purchase on or before calibration_end), its tracking periods and repeat transactions."""
    # Distinct (customer, period) pairs: one purchase per customer and period, as in summarize().
    span = int(log.rel.max()) + 1
    pairs = np.unique(log.codes * span + log.rel)
    pair_code, pair_rel = pairs // span, pairs % span
    first_rel = np.full(log.n_codes, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first_rel, pair_code, pair_rel)
    in_cohort = first_rel <= log.cal_rel
    cohort_first = first_rel[in_cohort]
    origin = int(cohort_first.min())
    is_repeat = (pair_rel > first_rel[pair_code]) & in_cohort[pair_code]
    P = period_length
    n_periods = (log.obs_rel - origin) // P + 1
    n_starts = int(np.unique(cohort_first).shape[0])
    if n_starts * n_periods > MAX_TRACKING_CELLS:
        raise InvalidInputError(
            f"tracking() would evaluate the model at first-purchase periods x tracking periods = {n_starts:,} x "
            f"{n_periods:,} points, more than MAX_TRACKING_CELLS = {MAX_TRACKING_CELLS:,} "
            f"(clvkit.valuation.checking). Use a coarser time_unit or a longer period."
        )
    actual_inc = np.bincount((pair_rel[is_repeat] - origin) // P, minlength=n_periods).astype(np.float64)
    ends = np.minimum(origin + P * np.arange(1, n_periods + 1) - 1, log.obs_rel)
    return _Cohort(cohort_first, origin, ends, actual_inc)


def _expected_cumulative(model: CountModel, cohort_first: IntArray, ends: IntArray, scale: float) -> FloatArray:
    """The cohort's expected cumulative repeat transactions at each period end, one model call in all."""
    starts, counts = np.unique(cohort_first, return_counts=True)
    elapsed = np.maximum(ends[None, :] - starts[:, None], 0).astype(np.float64) * scale
    expected_by_start = np.asarray(model.expected_purchases_new_customer(elapsed.ravel()), dtype=np.float64)
    out: FloatArray = counts.astype(np.float64) @ expected_by_start.reshape(elapsed.shape)
    return out
