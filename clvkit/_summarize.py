"""From a transaction log to a :class:`~clvkit.batch.CustomerSummary`: :func:`summarize`.

The definitions are those of the field (Fader, Hardie and Lee's RFM summary, as implemented by
lifetimes' ``summary_data_from_transaction_data`` and ``calibration_and_holdout_data``): purchase times
are floored to periods of ``freq``, a customer's purchases in one period count once, and

- ``frequency`` = number of distinct purchase periods - 1,
- ``recency`` = last purchase period - first purchase period,
- ``T`` = period of the observation (calibration) end - first purchase period,
- ``monetary_value`` = mean, over the repeat periods, of the customer's total spend in the period
  (the first purchase period is excluded; 0 when ``frequency`` is 0).

The hot path is numpy only: customers are coded as dense integers, times floored to integer periods, and
one sort of a packed ``(customer, period)`` key gives the distinct purchase periods; spend is summed with
``np.bincount``. A pandas ``groupby`` (what lifetimes does) was rejected: it is several times slower and
needs several copies of the log in memory.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from ._frames import frame_kind, to_columns
from ._timeunits import UNIT_DAYS
from ._validation import raise_if, row_problem
from .batch import CustomerSummary
from .errors import InvalidInputError, Problem

__all__ = ["summarize", "summarize_transactions"]

Refunds = Literal["error", "drop", "net"]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]

_CONTEXT = "summarize()"
_REFUND_OPTIONS = ("error", "drop", "net")
_FIXED_SECONDS = {"s": 1, "min": 60, "h": 3600, "D": 86400}
_TICKS_PER_SECOND = {"ns": 10**9, "us": 10**6, "ms": 10**3, "s": 1}
_EPOCH = _dt.datetime(1970, 1, 1)
#: Numeric times must stay well inside int64 once floored to whole periods.
_NUMERIC_LIMIT = 2.0**62
_REFUND_FIX = (
    "Refunds must be handled explicitly: pass refunds='drop' to ignore refund rows, refunds='net' to net "
    "them against the same customer's spend in the same period, or remove them from the log."
)


# ---------------------------------------------------------------------------------------------- public API
def summarize(
    transactions: Any,
    *,
    customer_id: str,
    datetime: str,
    monetary_value: str | None = None,
    freq: str = "D",
    observation_end: Any = None,
    calibration_end: Any = None,
    refunds: Refunds = "error",
) -> CustomerSummary:
    """Summarize a transaction log into per-customer frequency, recency, ``T`` and spend.

    Each transaction's time is floored to a period of ``freq``; a customer's transactions in one period
    count as one purchase (their amounts are added). Then, in units of ``freq``:

    - ``frequency`` = number of distinct purchase periods - 1 (repeat purchases);
    - ``recency`` = last purchase period - first purchase period;
    - ``T`` = period of ``observation_end`` (or ``calibration_end``) - first purchase period;
    - ``monetary_value`` = mean over the repeat periods of the customer's total spend in the period
      (the first period is excluded; 0 when ``frequency`` is 0).

    These are the definitions of lifetimes' ``summary_data_from_transaction_data`` and
    ``calibration_and_holdout_data``; clvkit reproduces their numbers for ``freq`` ``"s"``, ``"h"``,
    ``"D"`` and ``"W"`` (tested), and lifetimes 0.11.3 cannot compute the other units (see Notes, also
    for the one holdout difference).

    Parameters
    ----------
    transactions:
        The log: a pandas or polars DataFrame, a pyarrow Table, or a mapping of column name to array,
        one row per transaction.
    customer_id:
        Name of the column of customer ids (integers, strings or any sortable scalars; no nulls).
    datetime:
        Name of the column of transaction times. Accepted: numpy ``datetime64``; pandas, polars and
        pyarrow datetimes and dates (time-zone-aware columns are converted to UTC); Python
        ``datetime``/``date`` objects (all naive, or all aware in one time zone - a column mixing zones,
        or aware and naive values, is an error); or **numbers, which are taken as times already
        counted in units of** ``freq`` (e.g. days since 1970-01-01 with ``freq="D"``) and are floored
        to whole periods.
    monetary_value:
        Optional name of the column of transaction amounts (finite numbers). Without it the summary has
        no ``monetary_value`` column.
    freq:
        Period length: ``"s"``, ``"min"``, ``"h"``, ``"D"``, ``"W"`` (weeks Monday to Sunday, as pandas'
        ``"W"``), ``"M"``, ``"Q"`` or ``"Y"`` (calendar months, quarters and years). Also the
        ``time_unit`` of the result.
    observation_end:
        End of the study (a ``datetime``, ``date``, ``numpy.datetime64`` or ISO string; a number for a
        numeric time column). Default: the last transaction. It must be time-zone aware exactly when the
        time column is. Without ``calibration_end``, a row after ``observation_end`` is an error; with
        ``calibration_end``, rows after ``observation_end`` lie outside the study window and are not used.
    calibration_end:
        Optional end of the calibration period, inclusive. The summary then describes the rows up to
        ``calibration_end`` (``T`` counts to ``calibration_end``; customers whose first purchase is later
        are left out) and adds holdout columns from the rows in ``(calibration_end, observation_end]``:
        ``frequency_holdout`` (number of distinct purchase periods), ``monetary_value_holdout`` (mean
        spend per holdout purchase period, 0 when none) and ``duration_holdout`` (period of
        ``observation_end`` - period of ``calibration_end``). Must lie in
        ``[first transaction, last transaction)`` and before ``observation_end``, in an earlier period.
    refunds:
        What to do with negative amounts (refunds); never done silently:

        - ``"error"`` (default): raise, naming the rows;
        - ``"drop"``: remove negative-amount rows before anything else (including the default
          ``observation_end``);
        - ``"net"``: add refunds to the same customer's total of the same period; a customer-period
          whose net total is ``<= 0`` does not count as a purchase period (so a refund in a later period
          cancels that period's spend, not the earlier purchase), and a customer with no period of
          positive net total is left out. Under ``"net"`` a period whose purchases total exactly 0 does
          not count either.

    Returns
    -------
    CustomerSummary
        One row per customer, sorted by ``customer_id`` (ascending), with ``time_unit=freq`` and the
        ``observation_end`` and ``calibration_end`` metadata (UTC-aware when the time column is aware;
        for a numeric time column, the nominal datetime ``1970-01-01 + value * freq``, with ``"M"``,
        ``"Q"`` and ``"Y"`` taken as mean Gregorian lengths, or ``None`` outside the years 1 to 9999).

    Raises
    ------
    InvalidInputError
        Listing every problem at once, each with the column, the number of bad rows and the first bad
        row positions: missing columns; null customer ids; NaT/NaN or unreadable times; mixed time
        zones; NaN/inf amounts; refunds under ``refunds="error"``; rows after ``observation_end``
        (without ``calibration_end``); ``calibration_end`` outside the data or not before
        ``observation_end``; an empty log; an unknown ``freq`` or ``refunds``.

    Notes
    -----
    - ``monetary_value_holdout`` is the mean spend per holdout *purchase period*, like the calibration
      ``monetary_value``. lifetimes 0.11.3 averages the holdout *transactions* instead; the two agree
      when a customer has at most one transaction per period.
    - For ``"M"``, ``"Q"`` and ``"Y"`` clvkit counts whole calendar periods (pandas' ``to_period``
      months, quarters ending in December, and years), so ``recency`` and ``T`` are integers. lifetimes
      0.11.3 cannot summarize in these units under pandas >= 2 (it divides by ``np.timedelta64(1, freq)``,
      which pandas rejects for months and years and numpy for quarters), nor in ``"min"`` (numpy calls
      minutes ``"m"``). :meth:`CustomerSummary.with_time_unit` converts with the mean month and year.
    - Periods are floored in UTC for aware times and on the wall clock for naive ones.

    Examples
    --------
    >>> import numpy as np
    >>> import clvkit
    >>> log = {
    ...     "cust": np.array([7, 7, 7, 3]),
    ...     "when": np.array(["2024-01-01", "2024-01-01", "2024-01-15", "2024-01-10"], dtype="datetime64[D]"),
    ...     "amount": np.array([10.0, 5.0, 20.0, 7.0]),
    ... }
    >>> s = clvkit.summarize(log, customer_id="cust", datetime="when", monetary_value="amount")
    >>> s.customer_id.tolist(), s.frequency.tolist(), s.recency.tolist(), s.T.tolist()
    ([3, 7], [0.0, 1.0], [0.0, 14.0], [5.0, 14.0])
    >>> s.monetary_value.tolist()
    [0.0, 20.0]
    >>> h = clvkit.summarize(log, customer_id="cust", datetime="when", calibration_end=np.datetime64("2024-01-10"))
    >>> h.frequency.tolist(), h.T.tolist(), h.frequency_holdout.tolist(), h.duration_holdout
    ([0.0, 0.0], [0.0, 9.0], [0.0, 1.0], 5.0)
    >>> log["amount"][3] = -7.0
    >>> clvkit.summarize(log, customer_id="cust", datetime="when", monetary_value="amount")
    Traceback (most recent call last):
    ...
    clvkit.errors.InvalidInputError: summarize() has 1 problem:
      - 'amount': is a refund (negative amount) (1 row fail; first at row 3). Refunds must be handled explicitly: ...
    """
    problems: list[Problem | None] = _check_parameters(freq, refunds)
    names = [customer_id, datetime] + ([monetary_value] if monetary_value is not None else [])
    try:
        columns = to_columns(transactions, list(dict.fromkeys(names)), context=_CONTEXT)
    except InvalidInputError as exc:
        if not exc.problems:
            raise
        problems.extend(exc.problems)
        raise_if(problems, _CONTEXT)
        raise  # pragma: no cover - raise_if always raises here
    return _summarize_columns(
        columns[customer_id],
        columns[datetime],
        None if monetary_value is None else columns[monetary_value],
        names=(customer_id, datetime, monetary_value or ""),
        source_aware=_source_is_aware(transactions, datetime),
        freq=freq,
        observation_end=observation_end,
        calibration_end=calibration_end,
        refunds=refunds,
        problems=problems,
    )


def summarize_transactions(
    transactions: Iterable[Any],
    *,
    freq: str = "D",
    observation_end: Any = None,
    calibration_end: Any = None,
    refunds: Refunds = "error",
) -> CustomerSummary:
    """Summarize :class:`clvkit.domain.Transaction` entities; the same definitions as :func:`summarize`.

    A transaction with a negative ``amount`` or with ``is_refund=True`` (whose amount is ``<= 0``) is a
    refund, and ``refunds`` says how refunds are treated; a flagged refund of amount 0 is a refund too,
    never a purchase. Entity timestamps are
    time-zone aware and are converted to UTC one by one (an instant is unambiguous, so entities from
    different zones may be mixed), so ``observation_end`` and ``calibration_end`` must be aware too.

    Parameters
    ----------
    transactions:
        Iterable of ``Transaction`` entities, all in one currency.
    freq, observation_end, calibration_end, refunds:
        As in :func:`summarize`.

    Returns
    -------
    CustomerSummary
        As :func:`summarize` with ``monetary_value`` from the amounts.

    Raises
    ------
    InvalidInputError
        If an item is not a ``Transaction``, the currencies differ, or for any reason listed in
        :func:`summarize` (errors about rows name the columns ``customer_id``, ``timestamp`` and
        ``amount`` and the positions in the iterable).
    """
    # Lazy: the domain layer sits on top of the batch layer, so the batch layer must not import it eagerly.
    from .domain import Transaction

    problems: list[Problem | None] = _check_parameters(freq, refunds)
    ids: list[Any] = []
    times: list[Any] = []
    amounts: list[float] = []
    flagged: list[bool] = []
    not_entity: list[int] = []
    currency_rows: dict[str, list[int]] = {}
    for i, tr in enumerate(transactions):
        if not isinstance(tr, Transaction):
            not_entity.append(i)
            ids.append(None)
            times.append(None)
            amounts.append(math.nan)
            flagged.append(False)
            continue
        ids.append(tr.customer_id)
        ts = tr.timestamp
        if ts is not None and ts.utcoffset() is not None:
            ts = ts.astimezone(_dt.timezone.utc)
        times.append(ts)
        amount = float(tr.amount)
        amounts.append(-abs(amount) if tr.is_refund else amount)
        flagged.append(bool(tr.is_refund))
        currency_rows.setdefault(str(tr.currency), []).append(i)
    n = len(ids)
    if not_entity:
        bad = np.zeros(n, dtype=bool)
        bad[not_entity] = True
        problems.append(row_problem(bad, "transactions", "is not a clvkit.domain.Transaction",
                                    "Pass Transaction entities, or use summarize() for a table."))
    if len(currency_rows) > 1:
        ordered = sorted(currency_rows.items(), key=lambda kv: -len(kv[1]))
        bad = np.zeros(n, dtype=bool)
        for _, rows in ordered[1:]:
            bad[rows] = True
        problems.append(row_problem(
            bad, "currency",
            f"mixes currencies {[c for c, _ in ordered]}; rows not in {ordered[0][0]!r} are flagged",
            "Convert the amounts to one currency first, or summarize each currency separately."))
    if not_entity:
        raise_if(problems, "summarize_transactions()")
    id_arr = np.empty(n, dtype=object)
    id_arr[:] = ids
    time_arr = np.empty(n, dtype=object)
    time_arr[:] = times
    return _summarize_columns(
        id_arr,
        time_arr,
        np.asarray(amounts, dtype=np.float64),
        names=("customer_id", "timestamp", "amount"),
        source_aware=False,
        freq=freq,
        observation_end=observation_end,
        calibration_end=calibration_end,
        refunds=refunds,
        context="summarize_transactions()",
        flagged_refunds=np.asarray(flagged, dtype=bool),
        problems=problems,
    )


# ---------------------------------------------------------------------------------------------- checks
def _check_parameters(freq: Any, refunds: Any) -> list[Problem | None]:
    problems: list[Problem | None] = []
    if not (isinstance(freq, str) and freq in UNIT_DAYS):
        problems.append(Problem("freq", f"must be one of {list(UNIT_DAYS)}; got {freq!r}",
                                fix="Pick the period length to count purchases in."))
    if refunds not in _REFUND_OPTIONS:
        problems.append(Problem("refunds", f"must be one of {list(_REFUND_OPTIONS)}; got {refunds!r}"))
    return problems


def _source_is_aware(frame: Any, name: str) -> bool:
    """Whether the time column of a frame (or a series in a mapping) carries a time zone."""
    kind = frame_kind(frame)
    try:
        if kind == "pandas":
            return _dtype_tz(frame[name].dtype) is not None
        if kind == "polars":
            return getattr(frame.schema[name], "time_zone", None) is not None
        if kind == "pyarrow":
            return getattr(frame.schema.field(name).type, "tz", None) is not None
        if kind == "mapping":
            value = frame[name]
            root = type(value).__module__.split(".")[0]
            if root == "pandas":
                return _dtype_tz(value.dtype) is not None
            if root == "polars":
                return getattr(value.dtype, "time_zone", None) is not None
            if root == "pyarrow":
                return getattr(value.type, "tz", None) is not None
    except (KeyError, AttributeError, TypeError):
        return False
    return False


def _dtype_tz(dtype: Any) -> Any:
    tz = getattr(dtype, "tz", None)
    if tz is None:
        tz = getattr(getattr(dtype, "pyarrow_dtype", None), "tz", None)
    return tz


def _is_null(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(value != value)  # NaN, NaT
    except (TypeError, ValueError):  # pandas.NA refuses to be a bool
        return True


def _zone_key(value: _dt.datetime) -> str:
    """A name for the time zone of an aware datetime ("" when naive)."""
    tz = value.tzinfo
    if tz is None or value.utcoffset() is None:
        return ""
    for attr in ("key", "zone"):  # zoneinfo, pytz
        name = getattr(tz, attr, None)
        if isinstance(name, str):
            return name
    return str(tz)


@dataclass
class _Times:
    """A time column read into numbers: naive ``datetime64`` (UTC when aware) or numbers of periods."""

    values: npt.NDArray[Any]
    numeric: bool
    aware: bool


def _read_times(arr: npt.NDArray[Any], column: str, source_aware: bool,
                problems: list[Problem | None]) -> _Times | None:
    kind = arr.dtype.kind
    if kind == "M":
        problems.append(row_problem(np.isnat(arr), column, "is missing (NaT)", "Drop or fill the missing times."))
        return _Times(arr, numeric=False, aware=source_aware)
    if kind in "iu":
        if arr.size and (int(arr.max()) >= _NUMERIC_LIMIT or int(arr.min()) <= -_NUMERIC_LIMIT):
            problems.append(row_problem((arr >= _NUMERIC_LIMIT) | (arr <= -_NUMERIC_LIMIT), column,
                                        "is too large to count periods in", "Use a coarser unit."))
        return _Times(arr, numeric=True, aware=False)
    if kind == "f":
        with np.errstate(invalid="ignore"):
            bad = ~(np.abs(arr) < _NUMERIC_LIMIT)
        problems.append(row_problem(bad, column, "is missing or not finite (NaN/inf)",
                                    "Drop or fill the missing times."))
        return _Times(arr, numeric=True, aware=False)
    if kind == "O":
        return _read_object_times(arr, column, problems)
    problems.append(Problem(column, f"cannot be read as times (dtype {arr.dtype})",
                            fix="Pass datetimes, or numbers counted in units of freq."))
    return None


def _read_object_times(arr: npt.NDArray[Any], column: str, problems: list[Problem | None]) -> _Times | None:
    """Times held as Python objects: datetimes/dates (one zone, or all naive) or plain numbers."""
    values = arr.tolist()
    n = len(values)
    null = np.fromiter(map(_is_null, values), dtype=bool, count=n)
    present = [v for v, bad in zip(values, null.tolist(), strict=True) if not bad]
    problems.append(row_problem(null, column, "is missing (None/NaT/NaN)", "Drop or fill the missing times."))
    if present and all(isinstance(v, (int, float, np.number)) and not isinstance(v, (bool, np.bool_))
                       for v in present):
        out = np.array([math.nan if b else v for v, b in zip(values, null.tolist(), strict=True)], dtype=np.float64)
        with np.errstate(invalid="ignore"):
            problems.append(row_problem(~null & ~(np.abs(out) < _NUMERIC_LIMIT), column, "is not finite (inf)",
                                        "Drop the row or fix the time."))
        return _Times(out, numeric=True, aware=False)
    unreadable = np.zeros(n, dtype=bool)
    zones: list[str | None] = []
    for i, v in enumerate(values):
        if null[i]:
            zones.append(None)
        elif isinstance(v, _dt.datetime):
            zones.append(_zone_key(v))
        elif isinstance(v, (_dt.date, np.datetime64)):
            zones.append("")
        else:
            zones.append(None)
            unreadable[i] = True
    problems.append(row_problem(unreadable, column, "cannot be read as a datetime",
                                "Pass datetime objects, numpy datetime64 or numbers in units of freq."))
    reference = next((z for z in zones if z is not None), "")
    mixed = np.fromiter((z is not None and z != reference for z in zones), dtype=bool, count=n)
    shown = "naive" if reference == "" else repr(reference)
    problems.append(row_problem(
        mixed, column, f"mixes time zones (first value is {shown}, these rows differ)",
        "Convert the column to one time zone (e.g. UTC) first; a column mixing zones, or aware and naive "
        "values, is usually a parsing mistake."))
    out = np.full(n, np.datetime64("NaT", "us"))
    aware = reference != ""
    for i, v in enumerate(values):
        if zones[i] is None or mixed[i]:
            continue
        if isinstance(v, _dt.datetime) and aware:
            v = v.astimezone(_dt.timezone.utc).replace(tzinfo=None)
        out[i] = np.datetime64(v.replace(tzinfo=None) if isinstance(v, _dt.datetime) else v, "us")
    return _Times(out, numeric=False, aware=aware)


def _to_datetime64(value: Any) -> np.datetime64:
    to64 = getattr(value, "to_datetime64", None)  # pandas.Timestamp keeps its nanoseconds this way
    out: np.datetime64 = np.datetime64(to64()) if callable(to64) else np.datetime64(value)
    return out


def _read_param(value: Any, name: str, times: _Times, problems: list[Problem | None]) -> Any:
    """``observation_end``/``calibration_end`` in the log's representation, or ``None`` (reported)."""
    if times.numeric:
        if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_)):
            x = float(value)
            if abs(x) < _NUMERIC_LIMIT:
                return x
        problems.append(Problem(name, f"must be a finite number for a numeric time column; got {value!r}",
                                fix="Give it in the same units as the time column (units of freq)."))
        return None
    if isinstance(value, str):
        try:
            value = _dt.datetime.fromisoformat(value)
        except ValueError:
            problems.append(Problem(name, f"is not an ISO date/time string; got {value!r}",
                                    fix="Pass a datetime or a string like '2024-01-31'."))
            return None
    aware = False
    if isinstance(value, _dt.datetime) and not _is_null(value):
        aware = value.utcoffset() is not None
        if aware:
            value = value.astimezone(_dt.timezone.utc).replace(tzinfo=None)
    elif not (isinstance(value, (_dt.date, np.datetime64)) and not _is_null(value)):
        problems.append(Problem(name, f"must be a datetime, date, numpy.datetime64 or ISO string; got {value!r}"))
        return None
    if aware != times.aware:
        if times.aware:
            msg, fix = "is naive but the time column is time-zone aware", "Pass an aware datetime."
        else:
            msg, fix = "is time-zone aware but the time column is naive", "Pass a naive datetime."
        problems.append(Problem(name, msg, fix=fix))
        return None
    return _to_datetime64(value)


def _as_metadata(value: Any, times: _Times, freq: str) -> _dt.datetime | None:
    if times.numeric:
        try:
            return _EPOCH + _dt.timedelta(days=float(value) * UNIT_DAYS[freq])
        except (OverflowError, ValueError):  # beyond the years 1..9999: no datetime to show
            return None
    out = np.datetime64(value, "us").item()
    if isinstance(out, _dt.date) and not isinstance(out, _dt.datetime):
        out = _dt.datetime(out.year, out.month, out.day)
    if not isinstance(out, _dt.datetime):  # pragma: no cover - datetime64[us] of a valid date
        raise TypeError(value)
    return out.replace(tzinfo=_dt.timezone.utc) if times.aware else out


# ---------------------------------------------------------------------------------------------- ids
@dataclass
class _Codes:
    """Dense integer codes of customer ids; ``decode`` maps codes back to ids in ascending id order."""

    codes: IntArray
    n_codes: int
    uniques: npt.NDArray[Any] | None = None
    offset: int = 0
    dtype: Any = None

    def decode(self, codes: IntArray) -> npt.NDArray[Any]:
        out: npt.NDArray[Any]
        if self.uniques is not None:
            out = self.uniques[codes]
        elif np.dtype(self.dtype) == np.uint64:
            out = codes.astype(np.uint64) + np.uint64(self.offset)
        else:
            out = (codes + self.offset).astype(self.dtype)
        return out

    def take(self, keep: BoolArray) -> _Codes:
        return _Codes(self.codes[keep], self.n_codes, self.uniques, self.offset, self.dtype)


def _factorize(values: npt.NDArray[Any]) -> tuple[npt.NDArray[Any], IntArray]:
    """Sorted distinct values and the code of each value (one argsort; numpy's ``unique`` is slower)."""
    n = values.shape[0]
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    new = np.empty(n, dtype=bool)
    new[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=new[1:])
    codes = np.empty(n, dtype=np.int64)
    codes[order] = np.cumsum(new) - 1
    return ordered[new], codes


def _code_ids(ids: npt.NDArray[Any]) -> _Codes:
    n = ids.shape[0]
    if ids.dtype.kind in "iu" and n:
        lo, hi = int(ids.min()), int(ids.max())
        if hi - lo < 2 * n + 1024:
            # Dense enough: the id minus the smallest id is the code (no sort needed); ids that are
            # already small non-negative int64 are their own codes (no copy).
            if ids.dtype == np.int64 and 0 <= lo and hi < 2 * n + 1024:
                return _Codes(ids, hi + 1, offset=0, dtype=ids.dtype)
            if ids.dtype == np.uint64:
                codes = (ids - np.uint64(lo)).astype(np.int64)
            else:
                codes = ids.astype(np.int64, copy=False) - lo
            return _Codes(codes, hi - lo + 1, offset=lo, dtype=ids.dtype)
    uniques, codes = _factorize(ids)
    return _Codes(codes, int(uniques.shape[0]), uniques=uniques)


def _read_object_ids(ids: npt.NDArray[Any], column: str, problems: list[Problem | None]) -> _Codes | None:
    """Code an object column of ids with a hash table; ``None`` (reported) when they cannot be ordered.

    Sorting Python objects compares them one by one in the interpreter; hashing each row once and
    sorting only the distinct ids is much faster.
    """
    values = ids.tolist()
    distinct = list(dict.fromkeys(values))
    nulls = [v for v in distinct if _is_null(v)]
    if nulls:
        bad = np.fromiter(map(_is_null, values), dtype=bool, count=len(values))
        problems.append(row_problem(bad, column, "is missing (null customer id)",
                                    "Drop the rows or fill in the customer."))
        distinct = [v for v in distinct if not _is_null(v)]
    try:
        distinct.sort()
    except TypeError:
        kinds = sorted({type(v).__name__ for v in distinct})
        problems.append(Problem(column, f"mixes id types that cannot be ordered ({', '.join(kinds)})",
                                fix="Make every customer id the same type, e.g. all strings."))
        return None
    if nulls:
        return None
    code_of = {v: i for i, v in enumerate(distinct)}
    codes = np.fromiter(map(code_of.__getitem__, values), dtype=np.int64, count=len(values))
    id_types = {type(v) for v in distinct}
    if id_types <= {str}:
        uniques: npt.NDArray[Any] = np.array(distinct, dtype=str)
    elif id_types <= {int} and -(2**63) <= distinct[0] and distinct[-1] < 2**63:
        uniques = np.array(distinct, dtype=np.int64)
    else:
        uniques = np.empty(len(distinct), dtype=object)
        uniques[:] = distinct
    return _Codes(codes, len(distinct), uniques=uniques)


# ---------------------------------------------------------------------------------------------- periods
def _to_periods(values: npt.NDArray[Any], numeric: bool, freq: str) -> IntArray:
    """Integer period index of each time: floor to periods of ``freq`` (pandas ``to_period`` semantics)."""
    out: IntArray
    if numeric:
        out = values.astype(np.int64) if values.dtype.kind in "iu" else np.floor(values).astype(np.int64)
        return out
    unit, count = np.datetime_data(values.dtype)
    if freq in ("M", "Q", "Y"):
        out = values.astype("datetime64[Y]" if freq == "Y" else "datetime64[M]").view(np.int64)
        if freq == "Q":
            np.floor_divide(out, 3, out=out)  # quarters end in March, June, September, December
        return out
    if unit == "D" and count == 1:
        ticks, raw = 1, values.view(np.int64)
        seconds_per_tick = 86400
    elif unit in _TICKS_PER_SECOND and count == 1:
        ticks, raw = _TICKS_PER_SECOND[unit], values.view(np.int64)
        seconds_per_tick = 1
    else:
        ticks, raw = 1, values.astype("datetime64[s]").view(np.int64)
        seconds_per_tick = 1
    if freq == "W":
        # 1970-01-01 is a Thursday: day + 3 counts from the Monday before, so weeks run Monday to Sunday
        # like pandas' "W" (= "W-SUN") periods.
        out = raw + 3 if seconds_per_tick == 86400 else np.floor_divide(raw, 86400 * ticks) + 3
        np.floor_divide(out, 7, out=out)
        return out
    period_seconds = _FIXED_SECONDS[freq]
    if seconds_per_tick == 86400:  # whole days: every day holds a whole number of periods
        out = raw * (86400 // period_seconds)
    else:
        out = np.floor_divide(raw, period_seconds * ticks)
    return out


def _period_of(value: Any, times: _Times, freq: str) -> int:
    arr = np.array([value], dtype=np.float64) if times.numeric else np.array([np.datetime64(value)])
    return int(_to_periods(arr, times.numeric, freq)[0])


# ---------------------------------------------------------------------------------------------- kernel
@dataclass
class _Aggregate:
    customers: IntArray  # customer codes, ascending
    first: IntArray  # first purchase period
    last: IntArray
    n_periods: IntArray
    spend_repeat: FloatArray | None  # total spend over the repeat periods
    n_periods_holdout: IntArray | None
    spend_holdout: FloatArray | None


def _run_starts(sorted_values: npt.NDArray[Any]) -> npt.NDArray[np.intp]:
    """Positions where a run of equal values starts in a sorted array."""
    n = sorted_values.shape[0]
    new = np.empty(n, dtype=bool)
    new[:1] = True
    np.not_equal(sorted_values[1:], sorted_values[:-1], out=new[1:])
    return np.flatnonzero(new)


def _sum_by(codes: IntArray, weights: FloatArray, n_codes: int) -> FloatArray:
    """Sum of ``weights`` per code (``np.bincount``; its stubs claim an integer result)."""
    out: FloatArray = np.bincount(codes, weights=weights, minlength=n_codes).astype(np.float64, copy=False)
    return out


def _aggregate(codes: IntArray, n_codes: int, periods: IntArray, amounts: FloatArray | None,
               holdout: BoolArray | None, net: bool) -> _Aggregate:
    """Per-customer purchase periods and spend from per-row customer codes and periods.

    Rows are encoded as one int64 key ``(code, period, is_holdout)`` and sorted; runs of equal keys are
    the distinct customer-periods. Without netting, spend never needs the sorted order: the repeat spend
    of a customer is the sum of its rows outside its first period (``np.bincount``), so only the key is
    sorted (``np.sort`` is several times faster than ``np.argsort``, and no permutation is stored).
    Full-size arrays are built in place where possible: this runs on the whole log.
    """
    pmin = int(periods.min())
    span = int(periods.max()) - pmin + 1
    shift = 0 if holdout is None else 1
    key_periods = periods
    decode_period: npt.NDArray[np.int64] | None = None
    if n_codes * (span << shift) >= 2**62:  # too many periods to pack: only their order matters, use ranks
        decode_period, key_periods = _factorize(periods)
        span, pmin = int(decode_period.shape[0]), 0
    stride = span << shift
    # key = code * stride + (period - pmin) * 2**shift + is_holdout, without full-size temporaries
    key = codes * stride
    for _ in range(1 << shift):
        key += key_periods
    if pmin:
        key -= pmin << shift
    if holdout is not None:
        key += holdout
    del key_periods

    totals: FloatArray | None = None
    if net and amounts is not None:
        order = np.argsort(key)
        key = key[order]
        sorted_amounts = amounts[order]
        del order
        run = _run_starts(key)
        pair_key = key[run]
        del key
        totals = np.add.reduceat(sorted_amounts, run) if run.size else np.zeros(0)
        del sorted_amounts, run
        positive = totals > 0
        pair_key, totals = pair_key[positive], totals[positive]
    else:
        key.sort()
        pair_key = key[_run_starts(key)]
        del key

    hold_customer = None
    in_cal = None
    if holdout is not None:
        in_cal = (pair_key & 1) == 0
        hold_customer = pair_key[~in_cal] // stride
        pair_key = pair_key[in_cal]
    pair_customer = pair_key // stride
    starts = _run_starts(pair_customer)
    customers = pair_customer[starts]
    del pair_customer
    ends = np.empty_like(starts)
    ends[:-1] = starts[1:]
    ends[-1:] = pair_key.shape[0]
    first = (pair_key[starts] % stride) >> shift
    last = (pair_key[ends - 1] % stride) >> shift
    if decode_period is None:
        first += pmin
        last += pmin
    else:
        first, last = decode_period[first], decode_period[last]

    spend_repeat: FloatArray | None = None
    spend_hold: FloatArray | None = None
    n_hold: IntArray | None = None
    if hold_customer is not None:
        n_hold = np.bincount(hold_customer, minlength=n_codes)[customers].astype(np.int64)
    if amounts is not None and totals is not None:  # netted: everything at the customer-period level
        cal_totals = totals if in_cal is None else totals[in_cal]
        repeat_totals = cal_totals.copy()
        repeat_totals[starts] = 0.0
        spend_repeat = np.add.reduceat(repeat_totals, starts) if starts.size else np.zeros(0)
        if hold_customer is not None and in_cal is not None:
            spend_hold = _sum_by(hold_customer, totals[~in_cal], n_codes)[customers]
    elif amounts is not None:
        del pair_key
        first_of_code = np.full(n_codes, np.iinfo(np.int64).min, dtype=np.int64)
        first_of_code[customers] = first
        repeat_row = periods != first_of_code[codes]
        del first_of_code
        if holdout is not None:
            repeat_row &= ~holdout
            spend_hold = _sum_by(codes, np.where(holdout, amounts, 0.0), n_codes)[customers]
        spend_repeat = _sum_by(codes, np.where(repeat_row, amounts, 0.0), n_codes)[customers]

    return _Aggregate(customers, first, last, (ends - starts).astype(np.int64), spend_repeat, n_hold, spend_hold)


# ---------------------------------------------------------------------------------------------- driver
def _summarize_columns(
    ids: npt.NDArray[Any],
    times_in: npt.NDArray[Any],
    amounts_in: npt.NDArray[Any] | None,
    *,
    names: tuple[str, str, str],
    source_aware: bool,
    freq: str,
    observation_end: Any,
    calibration_end: Any,
    refunds: str,
    context: str = _CONTEXT,
    flagged_refunds: BoolArray | None = None,
    problems: list[Problem | None] | None = None,
) -> CustomerSummary:
    """The shared body: ``problems`` holds the parameter problems found so far (reported with the rest)."""
    id_col, time_col, amount_col = names
    problems = [] if problems is None else problems
    freq_ok = freq in UNIT_DAYS
    n = int(times_in.shape[0]) if times_in.ndim == 1 else int(ids.size)
    lengths = {id_col: ids, time_col: times_in}
    if amounts_in is not None:
        lengths[amount_col] = amounts_in
    shape_problems = [
        Problem(name, f"has shape {arr.shape}; expected ({n},)", fix="Pass one-dimensional columns of one length.")
        for name, arr in lengths.items() if arr.ndim != 1 or arr.shape[0] != n
    ]
    if shape_problems:
        raise_if([*problems, *shape_problems], context)
    if n == 0:
        problems.append(Problem(time_col, "has no rows: the transaction log is empty",
                                fix="Pass at least one transaction."))
        raise_if(problems, context)

    # ---- ids
    coded: _Codes | None = None
    if ids.dtype.kind == "O":
        coded = _read_object_ids(ids, id_col, problems)
    elif ids.dtype.kind == "f":
        problems.append(row_problem(np.isnan(ids), id_col, "is missing (null customer id)",
                                    "Drop the rows or fill in the customer."))
    elif ids.dtype.kind == "M":
        problems.append(row_problem(np.isnat(ids), id_col, "is missing (null customer id)",
                                    "Drop the rows or fill in the customer."))

    # ---- times
    times = _read_times(times_in, time_col, source_aware, problems)

    # ---- amounts
    amounts: FloatArray | None = None
    negative: BoolArray | None = None
    if amounts_in is not None:
        try:
            amounts = np.asarray(amounts_in, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            problems.append(Problem(amount_col, f"cannot be read as numbers ({exc})",
                                    fix="Pass numeric amounts; fill or drop the missing ones."))
        if amounts is not None:
            problems.append(row_problem(~np.isfinite(amounts), amount_col, "is not finite (NaN or inf)",
                                        "Drop or fill the missing amounts."))
            with np.errstate(invalid="ignore"):
                negative = amounts < 0
            if flagged_refunds is not None:
                negative |= flagged_refunds
            if not negative.any():
                negative = None
            elif refunds == "error":
                problems.append(row_problem(negative, amount_col, "is a refund (negative amount)", _REFUND_FIX))

    keep: BoolArray | None = None
    if refunds == "drop" and negative is not None:
        keep = ~negative
        if not keep.any():
            problems.append(Problem(amount_col, "has only refunds; nothing is left after refunds='drop'"))

    # ---- observation and calibration ends (compared as exact Python numbers: numpy silently wraps
    # when it casts a far-away datetime to the nanosecond unit of a column)
    obs: Any = None
    cal: Any = None
    obs_meta = cal_meta = None
    if times is not None:
        values = times.values
        if times.numeric:
            with np.errstate(invalid="ignore"):
                valid = np.abs(values) < _NUMERIC_LIMIT
        else:
            valid = ~np.isnat(values)
        if keep is not None:
            valid &= keep
        have_times = bool(valid.any())
        usable = values if bool(valid.all()) else values[valid]
        first_time = usable.min() if have_times else None
        last_time = usable.max() if have_times else None
        del usable
        t_min = None if first_time is None else _scalar_key(first_time)
        t_max = None if last_time is None else _scalar_key(last_time)
        if observation_end is not None:
            obs = _read_param(observation_end, "observation_end", times, problems)
        else:
            obs = last_time
        if calibration_end is not None:
            cal = _read_param(calibration_end, "calibration_end", times, problems)
        obs_key = None if obs is None else _scalar_key(obs)
        cal_key = None if cal is None else _scalar_key(cal)
        if obs_key is not None and t_max is not None and calibration_end is None and obs_key < t_max:
            after = values > _same_unit(obs, values)
            if keep is not None:
                after &= keep
            problems.append(row_problem(
                after, time_col, f"is after observation_end ({_show(obs, times)})",
                "Pass a later observation_end (the default is the last transaction), remove those rows, "
                "or pass calibration_end to summarize a calibration period with a holdout."))
        if cal_key is not None and obs_key is not None and t_min is not None and t_max is not None:
            cal_problem = None
            if cal_key >= obs_key:
                cal_problem = f"must be before observation_end ({_show(obs, times)})"
            elif cal_key < t_min:
                cal_problem = f"is before the first transaction ({_show(first_time, times)})"
            elif cal_key >= t_max:
                cal_problem = "is not before the last transaction: there are no holdout rows"
            elif freq_ok and _period_of(cal, times, freq) == _period_of(obs, times, freq):
                cal_problem = f"falls in the same {freq!r} period as observation_end ({_show(obs, times)})"
            if cal_problem is not None:
                problems.append(Problem("calibration_end", f"{_show(cal, times)} {cal_problem}",
                                        fix="Pick a calibration end inside the data, at least one period "
                                            "before observation_end."))
        if freq_ok and obs is not None:
            obs_meta = _as_metadata(obs, times, freq)
        if freq_ok and cal is not None:
            cal_meta = _as_metadata(cal, times, freq)
    raise_if(problems, context)
    if times is None or obs is None:  # pragma: no cover - reported above
        raise AssertionError("unreachable")

    # ---- select the rows used
    values = times.values
    if cal is not None and _scalar_key(obs) < _scalar_key(values.max()):
        within = values <= _same_unit(obs, values)
        keep = within if keep is None else keep & within
    if keep is not None and not keep.all():
        ids = ids[keep]
        values = values[keep]
        amounts = None if amounts is None else amounts[keep]
        coded = None if coded is None else coded.take(keep)
    if coded is None:
        coded = _code_ids(ids)
    holdout = None if cal is None else values > _same_unit(cal, values)
    periods = _to_periods(values, times.numeric, freq)
    del values
    agg = _aggregate(coded.codes, coded.n_codes, periods, amounts, holdout, net=refunds == "net")
    del periods, holdout
    if agg.customers.shape[0] == 0:
        raise InvalidInputError([Problem(amount_col, "has no customer-period with a positive net total",
                                         fix="With refunds='net' only periods of positive net spend count.")],
                                context=context)

    end_period = _period_of(obs if cal is None else cal, times, freq)
    frequency = (agg.n_periods - 1).astype(np.float64)
    monetary = None
    if agg.spend_repeat is not None:
        monetary = np.divide(agg.spend_repeat, frequency, out=np.zeros_like(frequency), where=frequency > 0)
    holdout_kwargs: dict[str, Any] = {}
    if cal is not None and agg.n_periods_holdout is not None:
        n_hold = agg.n_periods_holdout.astype(np.float64)
        holdout_kwargs["frequency_holdout"] = n_hold
        holdout_kwargs["duration_holdout"] = float(_period_of(obs, times, freq) - end_period)
        if agg.spend_holdout is not None:
            holdout_kwargs["monetary_value_holdout"] = np.divide(
                agg.spend_holdout, n_hold, out=np.zeros_like(n_hold), where=n_hold > 0)
    return CustomerSummary(
        frequency=frequency,
        recency=(agg.last - agg.first).astype(np.float64),
        T=(end_period - agg.first).astype(np.float64),
        monetary_value=monetary,
        customer_id=coded.decode(agg.customers),
        time_unit=freq,
        observation_end=obs_meta,
        calibration_end=cal_meta,
        **holdout_kwargs,
    )


_NS_PER_UNIT = {"W": 7 * 86400 * 10**9, "D": 86400 * 10**9, "h": 3600 * 10**9, "m": 60 * 10**9, "s": 10**9,
                "ms": 10**6, "us": 10**3, "ns": 1}


def _scalar_key(value: Any) -> float | int:
    """A time as an exact Python number (nanoseconds for datetimes) for comparisons across units."""
    if not isinstance(value, np.datetime64):
        return float(value)
    unit, count = np.datetime_data(value.dtype)
    if unit not in _NS_PER_UNIT:
        value = value.astype("datetime64[D]") if unit in ("Y", "M") else value.astype("datetime64[ns]")
        unit, count = np.datetime_data(value.dtype)
    return int(value.astype(np.int64)) * _NS_PER_UNIT[unit] * count


def _same_unit(value: Any, values: npt.NDArray[Any]) -> Any:
    """``value`` cast to the dtype of ``values`` (a datetime scalar inside the column's range)."""
    if values.dtype.kind == "M":
        return np.datetime64(value).astype(values.dtype)
    return value


def _show(value: Any, times: _Times) -> str:
    if times.numeric:
        return f"{float(value):g}"
    text = str(np.datetime64(value, "s"))
    return text + ("Z" if times.aware else "")

