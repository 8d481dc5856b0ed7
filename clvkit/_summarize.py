"""From a transaction log to a :class:`~clvkit.batch.CustomerSummary`: :func:`summarize`.

The definitions are those of the field (Fader, Hardie and Lee's RFM summary, as implemented by
lifetimes' ``summary_data_from_transaction_data`` and ``calibration_and_holdout_data``): purchase times
are floored to periods of ``freq``, a customer's purchases in one period count once, and

- ``frequency`` = number of distinct purchase periods - 1,
- ``recency`` = last purchase period - first purchase period,
- ``T`` = period of the observation (calibration) end - first purchase period,
- ``monetary_value`` = mean, over the repeat periods, of the customer's total spend in the period
  (the first purchase period is excluded; 0 when ``frequency`` is 0).

The hot path (:mod:`clvkit._aggregate`) is numpy only: customers are coded as dense integers, times
floored to integer periods, and one sort of a packed ``(customer, period)`` key gives the distinct
purchase periods; spend is summed with ``np.bincount``. A pandas ``groupby`` (what lifetimes does) was
rejected: it is several times slower and needs several copies of the log in memory.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from ._aggregate import Aggregate, aggregate
from ._csvio import parse_time_and_zone
from ._customer_codes import Codes, code_ids, read_object_ids
from ._deprecation import MISSING, renamed_argument
from ._frames import to_columns
from ._timecolumns import (
    _FIXED_SECONDS,
    NUMERIC_LIMIT,
    Times,
    apply_datetime_format,
    as_metadata,
    check_datetime_format,
    days_to_dates,
    period_of,
    read_param,
    read_times,
    same_unit,
    scalar_key,
    show_time,
    source_is_aware,
    to_periods,
    yyyymmdd_to_dates,
)
from ._timeunits import UNIT_DAYS
from ._validation import is_hashable, non_number_problem, raise_if, row_problem
from .batch import CustomerSummary, PurchaseTimes, _register_entity_summarizer
from .errors import MAX_ROWS_SHOWN, InvalidInputError, Problem

__all__ = ["summarize", "summarize_transactions"]

Refunds = Literal["error", "drop", "net"]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]

_CONTEXT = "summarize()"
_REFUND_OPTIONS = ("error", "drop", "net")
_REFUND_FIX = (
    "Refunds must be handled explicitly: pass refunds='drop' to ignore refund rows, refunds='net' to net "
    "them against the same customer's spend in the same period, or remove them from the log."
)


# ---------------------------------------------------------------------------------------------- public API
def summarize(transactions: Any, *, customer_id: str, datetime: str, monetary_value: str | None = None,
              time_unit: str = MISSING, observation_end: Any = None, calibration_end: Any = None,
              refunds: Refunds = "error", freq: str = MISSING,
              datetime_format: str | None = None, batch_size: int | None = None) -> CustomerSummary:
    """Summarize a transaction log into per-customer frequency, recency, ``T`` and spend.

    Each transaction's time is floored to a period of ``time_unit``; a customer's transactions in one
    period count as one purchase (their amounts are added). Then, in units of ``time_unit``:

    - ``frequency`` = number of distinct purchase periods - 1 (repeat purchases);
    - ``recency`` = last purchase period - first purchase period;
    - ``T`` = period of ``observation_end`` (or ``calibration_end``) - first purchase period;
    - ``monetary_value`` = mean over the repeat periods of the customer's total spend in the period
      (the first period is excluded; 0 when ``frequency`` is 0).

    These are the definitions of lifetimes' ``summary_data_from_transaction_data`` and
    ``calibration_and_holdout_data`` (their ``freq``); clvkit reproduces their numbers for ``"s"``, ``"h"``,
    ``"D"`` and ``"W"`` (tested; see Notes for the other units and the one holdout difference).

    Parameters
    ----------
    transactions:
        The log: a pandas or polars DataFrame, a pyarrow Table, or a mapping of column name to array,
        one row per transaction. Or a **stream**, read batch by batch with bounded memory (see Notes): a polars
        ``LazyFrame`` (e.g. ``pl.scan_parquet(...)``; only the needed columns are collected, by polars'
        streaming engine), a ``pyarrow.dataset.Dataset`` (e.g. a folder of Parquet files; scanned in record
        batches of the needed columns), a ``pyarrow.RecordBatchReader``, or any iterable of the frames above
        (a list, a generator, pandas' ``read_csv(..., chunksize=...)``), rows in any order. The result is the
        summary of all batches together, as if they had been concatenated.
    customer_id:
        Name of the column of customer ids (integers, strings or any sortable scalars; no nulls).
    datetime:
        Name of the column of transaction times. Accepted without ``datetime_format``: numpy
        ``datetime64``; pandas, polars and pyarrow datetimes and dates (time-zone-aware columns are
        converted to UTC); Python ``datetime``/``date`` objects (all naive, or all aware in one time zone -
        a column mixing zones, or aware and naive values, is an error); ISO 8601 strings (``"2024-03-01"``,
        ``"2024-03-01 14:05:00+02:00"``; offsets are converted to UTC, and a column mixing naive and offset
        strings is an error); or **numbers, which are taken as times already counted in units of**
        ``time_unit`` since 1970-01-01 (e.g. days with ``time_unit="D"``, weeks with ``"W"``) and are
        floored to whole periods. Whole numbers that all look like ``YYYYMMDD`` dates (every value in
        19000101..21001231 with a valid month and day) are refused: pass ``datetime_format``.
    monetary_value:
        Optional name of the column of transaction amounts (finite numbers). Without it the summary has
        no ``monetary_value`` column.
    time_unit:
        Period length and the summary's time unit (default ``"D"``): ``"s"``, ``"min"``, ``"h"``, ``"D"``,
        ``"W"`` (weeks Monday to Sunday, as pandas' ``"W"``), ``"M"``, ``"Q"`` or ``"Y"`` (calendar months,
        quarters and years). ``freq`` is its deprecated spelling (clvkit 0.1, lifetimes).
    observation_end:
        End of the study (a ``datetime``, ``date``, ``numpy.datetime64`` or ISO string; a number for a
        numeric time column). Default: the last transaction. It must be time-zone aware exactly when the
        time column is. Without ``calibration_end``, a row after ``observation_end`` is an error; with
        ``calibration_end``, rows after ``observation_end`` lie outside the study window and are not used.
    calibration_end:
        Optional end of the calibration period, inclusive. The summary then describes the rows up to
        ``calibration_end`` (customers whose first purchase is later are left out) and adds holdout
        columns from the rows in ``(calibration_end, observation_end]``: ``frequency_holdout`` (number of
        distinct purchase periods), ``monetary_value_holdout`` (mean spend per holdout purchase period, 0
        when none) and ``duration_holdout`` (period of ``observation_end`` - period of
        ``calibration_end``). Must lie in ``[first transaction, last transaction)``, in an earlier period
        than ``observation_end``.
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
    datetime_format:
        How to read the time column (default ``None``: as described under ``datetime``):

        - ``"yyyymmdd"``: whole numbers (or digit strings) such as ``19970101`` are dates; a value whose
          month is not 1-12 or whose day is not in the month (``20230230``), a fraction, a negative number
          or a missing value is an error naming the row;
        - ``"days"``: numbers are days since 1970-01-01 (``0`` is 1970-01-01; a fraction is part of a day),
          floored to periods of ``time_unit`` like datetimes (so ``time_unit="W"`` counts Monday-to-Sunday
          weeks); values outside the years 1 to 9999 are an error;
        - ``"periods"``: numbers counted in units of ``time_unit`` since 1970-01-01, as without a format
          but without the ``YYYYMMDD`` check;
        - a :func:`~datetime.datetime.strptime` format such as ``"%d/%m/%Y"`` for a column of strings.

        With ``"yyyymmdd"`` or ``"days"``, ``observation_end`` and ``calibration_end`` may also be given
        as such numbers; with a strptime format, as strings in that format. The result is the same as
        for the same log given as datetimes.
    batch_size:
        Rows per batch read from a ``LazyFrame`` or a ``Dataset`` (default 1,000,000); a
        ``RecordBatchReader`` and an iterable keep their own batches, and an in-memory frame is not batched.

    Returns
    -------
    CustomerSummary
        One row per customer, sorted by ``customer_id`` (ascending), with that ``time_unit`` and the
        ``observation_end`` and ``calibration_end`` metadata (UTC-aware when the time column is aware;
        for a numeric time column, the nominal datetime ``1970-01-01 + value * time_unit``, with ``"M"``,
        ``"Q"`` and ``"Y"`` taken as mean Gregorian lengths, or ``None`` outside the years 1 to 9999).
        Its ``purchase_times`` (:class:`~clvkit.batch.PurchaseTimes`) hold each customer's calendar origin
        (the start of its first purchase period, UTC for an aware column) and the start of each later
        calibration purchase period in ``time_unit`` from it, for a column of datetimes and a unit of fixed
        length (``"s"``, ``"min"``, ``"h"``, ``"D"``, ``"W"``); ``None`` for ``"M"``, ``"Q"``, ``"Y"``, a
        numeric time column, or origins outside the years 1678 to 2261 (``datetime64[ns]``).

    Raises
    ------
    InvalidInputError
        Listing every problem at once, each with the column, the number of bad rows and the first bad
        row positions: missing columns; null customer ids; NaT/NaN or unreadable times; NaN/inf amounts;
        an empty log; and each case the parameters above call an error.

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
    - **Streams.** A stream is read once, batch by batch; each batch is checked like an in-memory log and
      reduced to its distinct (customer, period, holdout) keys, which are merged across batches, so a customer
      whose purchases (or whose purchases in one period) are spread over several batches is counted once per
      period, and a refund netted in a later batch cancels its period exactly as in memory. The observation end
      is fixed once for all batches: the given one (rows after it are an error, or left out with
      ``calibration_end``), else the last transaction over all batches - ``T`` is computed after the last batch,
      so a one-pass generator works. The result equals :func:`summarize` of the concatenated log; only the
      order in which amounts are added may differ (``monetary_value`` to ~1e-15 relative; exactly equal when
      the sums are exact, e.g. amounts in quarter units). An invalid row stops the stream at its batch: the
      error names the batch and the rows' positions counted from the start of the stream (problems in later
      batches are not listed). Memory, with numeric customer ids: no more than 8 times one batch's needed
      columns plus 32 bytes per distinct (customer, period) plus 200 bytes per customer (a test checks it);
      20 million rows of 2 million customers (nearly every row its own customer-day: the worst case) in
      batches of 1 million peaked at 477 MiB traced, against 714 MiB for ``summarize`` of the log in memory
      plus the 458 MiB log; from Parquet, 734-831 MiB peak RSS against 1,795 MiB for reading the table and
      summarizing it, in 11-15 s against 10 s (3.8 s for the in-memory call alone, the log already in memory;
      ``benchmarks/bench_streaming.py``). String ids add a dict entry and the string per customer. Most
      logs have several rows per customer-period (baskets of line items), which the state does not grow with.
    - **Chunking by customer** (another route for a log too large for memory): summarize groups of customers
      separately with one shared ``observation_end`` (and ``calibration_end``) and join the parts with
      :meth:`CustomerSummary.concat`, which refuses parts with different ends.

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
    >>> ymd = {"cust": [7, 7, 7, 3], "when": [20240101, 20240101, 20240115, 20240110]}
    >>> clvkit.summarize(ymd, customer_id="cust", datetime="when", datetime_format="yyyymmdd").T.tolist()
    [5.0, 14.0]
    >>> batches = ({k: v[i:i + 2] for k, v in log.items()} for i in (0, 2))  # a stream: any iterable of frames
    >>> clvkit.summarize(batches, customer_id="cust", datetime="when", monetary_value="amount").frequency.tolist()
    [0.0, 1.0]
    >>> log["amount"][3] = -7.0
    >>> clvkit.summarize(log, customer_id="cust", datetime="when", monetary_value="amount")
    Traceback (most recent call last):
    ...
    clvkit.errors.InvalidInputError: summarize() has 1 problem:
      - 'amount': is a refund (negative amount) (1 row fail; first at row 3). Refunds must be handled explicitly: ...
    """
    freq = renamed_argument(time_unit, freq, new="time_unit", old="freq", where="summarize()", default="D")
    problems: list[Problem | None] = _check_parameters(freq, refunds, datetime_format)
    from ._stream import DEFAULT_BATCH_SIZE, source_kind, summarize_stream  # it builds on this module

    kind = source_kind(transactions)
    if batch_size is not None and (isinstance(batch_size, (bool, np.bool_))
                                   or not isinstance(batch_size, (int, np.integer)) or batch_size < 1):
        problems.append(Problem("batch_size", f"must be a whole number of rows >= 1 or None; got {batch_size!r}"))
    if kind != "eager":
        raise_if(problems, _CONTEXT)
        return summarize_stream(
            transactions, kind, customer_id=customer_id, datetime=datetime, monetary_value=monetary_value, freq=freq,
            observation_end=observation_end, calibration_end=calibration_end, refunds=refunds,
            datetime_format=datetime_format, batch_size=DEFAULT_BATCH_SIZE if batch_size is None else int(batch_size))
    names = [customer_id, datetime] + ([monetary_value] if monetary_value is not None else [])
    columns = _read_columns(transactions, names, problems)
    return _summarize_columns(
        columns[customer_id], columns[datetime], None if monetary_value is None else columns[monetary_value],
        names=(customer_id, datetime, monetary_value or ""), source_aware=source_is_aware(transactions, datetime),
        freq=freq, observation_end=observation_end, calibration_end=calibration_end, refunds=refunds,
        datetime_format=datetime_format, problems=problems)


def summarize_transactions(
    transactions: Iterable[Any],
    *,
    time_unit: str = MISSING,
    observation_end: Any = None,
    calibration_end: Any = None,
    refunds: Refunds = "error",
    freq: str = MISSING,
    datetime_format: str | None = None,
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
    time_unit, observation_end, calibration_end, refunds:
        As in :func:`summarize` (``freq`` is the deprecated spelling of ``time_unit``).
    datetime_format:
        As in :func:`summarize`; entity timestamps are datetimes already, so it applies to
        ``observation_end`` and ``calibration_end`` only (e.g. ``observation_end=19980630`` with
        ``"yyyymmdd"``, taken as that date in UTC).

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
    freq = renamed_argument(time_unit, freq, new="time_unit", old="freq", where="summarize_transactions()",
                            default="D")
    problems: list[Problem | None] = _check_parameters(freq, refunds, datetime_format)
    ids, times, amounts, flagged = _entity_columns(transactions, problems)
    return _summarize_columns(
        ids, times, amounts, names=("customer_id", "timestamp", "amount"), source_aware=False, freq=freq,
        observation_end=observation_end, calibration_end=calibration_end, refunds=refunds,
        context="summarize_transactions()", flagged_refunds=flagged, datetime_format=datetime_format,
        format_column=False, problems=problems)


_register_entity_summarizer(summarize_transactions)  # CustomerSummary.from_entities() calls it


def _entity_columns(transactions: Iterable[Any], problems: list[Problem | None]) -> tuple[
        npt.NDArray[Any], npt.NDArray[Any], FloatArray, BoolArray]:
    """Ids, UTC times, amounts (refunds negative) and refund flags of the entities, as columns.

    Items that are not ``Transaction`` entities are reported at once; mixed currencies with the rest.
    """
    # Lazy: the domain layer sits on top of the batch layer, so the batch layer must not import it eagerly.
    from .domain import Transaction

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
    _entity_problems(len(ids), not_entity, currency_rows, problems)
    return (_object_column(ids), _object_column(times), np.asarray(amounts, dtype=np.float64),
            np.asarray(flagged, dtype=bool))


def _entity_problems(n: int, not_entity: list[int], currency_rows: dict[str, list[int]],
                     problems: list[Problem | None]) -> None:
    """Report items that are not entities (raising at once) and currencies other than the most common."""
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


def _object_column(values: list[Any]) -> npt.NDArray[Any]:
    """``values`` as they are in a 1-D object array (``np.asarray`` would convert strings and numbers)."""
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


# ---------------------------------------------------------------------------------------------- checks
def _read_columns(transactions: Any, names: list[str], problems: list[Problem | None]) -> dict[str, npt.NDArray[Any]]:
    """The named columns as arrays; missing ones are reported with the parameter problems found so far."""
    try:
        return to_columns(transactions, list(dict.fromkeys(names)), context=_CONTEXT)
    except InvalidInputError as exc:
        if not exc.problems:
            raise
        problems.extend(exc.problems)
        raise_if(problems, _CONTEXT)
        raise  # pragma: no cover - raise_if always raises here


def _check_parameters(freq: Any, refunds: Any, datetime_format: Any) -> list[Problem | None]:
    problems: list[Problem | None] = []
    if not (isinstance(freq, str) and freq in UNIT_DAYS):
        problems.append(Problem("time_unit", f"must be one of {list(UNIT_DAYS)}; got {freq!r}",
                                fix="Pick the period length to count purchases in."))
    if refunds not in _REFUND_OPTIONS:
        problems.append(Problem("refunds", f"must be one of {list(_REFUND_OPTIONS)}; got {refunds!r}"))
    problems.append(check_datetime_format(datetime_format))
    return problems


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
    datetime_format: str | None = None,
    format_column: bool = True,
    problems: list[Problem | None] | None = None,
    part_of: tuple[Any, Any] | None = None,
) -> CustomerSummary:
    """The shared body: ``problems`` holds the parameter problems found so far (reported with the rest).

    ``part_of`` is the (first, last) time of the whole log, in the time column's representation, when these rows
    are one part of it holding whole customers (:mod:`clvkit.dask`): the ends default to and are checked against
    the whole log's range, and a part without a customer in the calibration period gives an empty summary.
    """
    id_col, time_col, amount_col = names
    problems = [] if problems is None else problems
    _check_lengths(ids, times_in, amounts_in, names, problems, context)
    coded = _read_ids(ids, id_col, problems)
    fmt = datetime_format if check_datetime_format(datetime_format) is None else None
    formatted: npt.NDArray[Any] | None = times_in
    if format_column:
        formatted, source_aware = apply_datetime_format(times_in, time_col, fmt, source_aware, problems)
    times = None if formatted is None else read_times(formatted, time_col, source_aware, problems)
    amounts, negative = _read_amounts(amounts_in, amount_col, flagged_refunds, refunds, problems)
    keep = _kept_after_drop(negative, refunds, amount_col, problems)
    ends = None if times is None else _read_ends(times, keep, _format_end(observation_end, fmt, times.aware),
                                                 _format_end(calibration_end, fmt, times.aware), freq,
                                                 time_col, problems, time_range=part_of)
    raise_if(problems, context)
    if times is None or ends is None or ends.obs is None:  # pragma: no cover - reported above
        raise AssertionError("unreachable")

    # ---- select the rows used
    values = times.values
    if ends.cal is not None and scalar_key(ends.obs) < scalar_key(values.max()):
        within = values <= same_unit(ends.obs, values)
        keep = within if keep is None else keep & within
    if keep is not None and not keep.all():
        ids = ids[keep]
        values = values[keep]
        amounts = None if amounts is None else amounts[keep]
        coded = None if coded is None else coded.take(keep)
    if coded is None:
        coded = code_ids(ids)
    holdout = None if ends.cal is None else values > same_unit(ends.cal, values)
    periods = to_periods(values, times.numeric, freq)
    del values
    with np.errstate(over="ignore"):  # an overflowing customer total is reported below, naming the column
        agg = aggregate(coded.codes, coded.n_codes, periods, amounts, holdout, net=refunds == "net",
                        repeat_periods=not times.numeric and freq in _TIMELINE_UNITS)
    del periods, holdout
    if agg.customers.shape[0] == 0 and part_of is None:
        raise InvalidInputError([Problem(amount_col, "has no customer-period with a positive net total",
                                         fix="With refunds='net' only periods of positive net spend count.")],
                                context=context)
    if amounts is not None:
        _overflow_problem(agg, coded, amount_col, context)
    return _build_summary(agg, coded, times, ends, freq)


# ---------------------------------------------------------------------------------------------- steps
def _check_lengths(ids: npt.NDArray[Any], times_in: npt.NDArray[Any], amounts_in: npt.NDArray[Any] | None,
                   names: tuple[str, str, str], problems: list[Problem | None], context: str) -> None:
    """Raise, with the problems found so far, unless the columns are 1-D, of one length and not empty."""
    id_col, time_col, amount_col = names
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


def _read_ids(ids: npt.NDArray[Any], column: str, problems: list[Problem | None]) -> Codes | None:
    """Codes of an object column of ids (``None`` when unreadable); other dtypes are coded later, if valid."""
    if ids.dtype.kind == "O":
        try:
            return read_object_ids(ids, column, problems)
        except TypeError:  # unhashable ids (lists, dicts): name them rather than fail in the hash table
            values = ids.tolist()
            bad = np.fromiter((not is_hashable(v) for v in values), dtype=bool, count=len(values))
            problems.append(row_problem(bad, column, "must be hashable scalars such as strings or integers",
                                        "Pass one plain id per row."))
            return None
    if ids.dtype.kind == "f":
        problems.append(row_problem(np.isnan(ids), column, "is missing (null customer id)",
                                    "Drop the rows or fill in the customer."))
    elif ids.dtype.kind == "M":
        problems.append(row_problem(np.isnat(ids), column, "is missing (null customer id)",
                                    "Drop the rows or fill in the customer."))
    return None


def _read_amounts(amounts_in: npt.NDArray[Any] | None, column: str, flagged_refunds: BoolArray | None,
                  refunds: str, problems: list[Problem | None]) -> tuple[FloatArray | None, BoolArray | None]:
    """The amounts as float64 and the refund rows (``None`` when there are none)."""
    if amounts_in is None:
        return None, None
    if amounts_in.dtype.kind in "cO":  # numpy would drop an imaginary part with only a warning
        problem = non_number_problem(amounts_in, column) if amounts_in.dtype.kind == "c" else _complex_rows(
            amounts_in, column)
        if problem is not None:
            problems.append(problem)
            return None, None
    try:
        amounts = np.asarray(amounts_in, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        problems.append(Problem(column, f"cannot be read as numbers ({exc})",
                                fix="Pass numeric amounts; fill or drop the missing ones."))
        return None, None
    problems.append(row_problem(~np.isfinite(amounts), column, "is not finite (NaN or inf)",
                                "Drop or fill the missing amounts."))
    with np.errstate(invalid="ignore"):
        negative = amounts < 0
    if flagged_refunds is not None:
        negative |= flagged_refunds
    if not negative.any():
        return amounts, None
    if refunds == "error":
        problems.append(row_problem(negative, column, "is a refund (negative amount)", _REFUND_FIX))
    return amounts, negative


def _kept_after_drop(negative: BoolArray | None, refunds: str, column: str,
                     problems: list[Problem | None]) -> BoolArray | None:
    """The rows left by ``refunds='drop'`` (``None``: every row)."""
    if refunds != "drop" or negative is None:
        return None
    keep = ~negative
    if not keep.any():
        problems.append(Problem(column, "has only refunds; nothing is left after refunds='drop'"))
    return keep


@dataclass
class _Ends:
    """``observation_end`` and ``calibration_end`` in the log's representation, and as summary metadata."""

    obs: Any  # None when unreadable (reported)
    cal: Any  # None when not given or unreadable (reported)
    obs_meta: _dt.datetime | None
    cal_meta: _dt.datetime | None


def _read_ends(times: Times, keep: BoolArray | None, observation_end: Any, calibration_end: Any, freq: str,
               time_col: str, problems: list[Problem | None], time_range: tuple[Any, Any] | None = None) -> _Ends:
    """Read both ends (``observation_end`` defaults to the last transaction) and check them against the data.

    Times are compared as exact Python numbers: numpy silently wraps when it casts a far-away datetime
    to the nanosecond unit of a column.
    """
    first_time, last_time = _time_range(times, keep) if time_range is None else time_range
    if observation_end is not None:
        obs = read_param(observation_end, "observation_end", times, problems)
    else:
        obs = last_time
    cal = None if calibration_end is None else read_param(calibration_end, "calibration_end", times, problems)
    # Without a calibration end every row must lie in the study; with one, later rows are just not used.
    rows_after = calibration_end is None and obs is not None and last_time is not None
    if rows_after and scalar_key(obs) < scalar_key(last_time):
        after = times.values > same_unit(obs, times.values)
        if keep is not None:
            after &= keep
        problems.append(row_problem(
            after, time_col, f"is after observation_end ({show_time(obs, times)})",
            "Pass a later observation_end (the default is the last transaction), remove those rows, "
            "or pass calibration_end to summarize a calibration period with a holdout."))
    if cal is not None and obs is not None and first_time is not None and last_time is not None:
        problems.append(_calibration_problem(cal, obs, first_time, last_time, times, freq))
    freq_ok = isinstance(freq, str) and freq in UNIT_DAYS
    return _Ends(obs, cal, as_metadata(obs, times, freq) if freq_ok and obs is not None else None,
                 as_metadata(cal, times, freq) if freq_ok and cal is not None else None)


def _format_end(value: Any, datetime_format: str | None, aware: bool) -> Any:
    """An end given the way ``datetime_format`` reads the time column, as a datetime (else as it is).

    ``observation_end=19980630`` with ``"yyyymmdd"``, a day count with ``"days"``, a string in the strptime
    format; a value that does not read this way is left for :func:`read_param` to accept (a datetime, an ISO
    string) or to report. A number names no time zone: against an aware time column it is a UTC date.
    """
    if datetime_format in ("days", "yyyymmdd") and isinstance(value, (int, float, np.integer, np.floating)) \
            and not isinstance(value, (bool, np.bool_)):
        try:
            number = np.array([float(value)])
        except OverflowError:
            return value
        dates, bad = (yyyymmdd_to_dates if datetime_format == "yyyymmdd" else days_to_dates)(number)
        if bool(bad[0]):
            return value
        when = dates.astype("datetime64[us]")[0].item()
        return when.replace(tzinfo=_dt.timezone.utc) if aware else when
    if datetime_format is not None and "%" in datetime_format and isinstance(value, str):
        try:
            when, aware = parse_time_and_zone(value, datetime_format)
        except ValueError:
            return value
        return when.replace(tzinfo=_dt.timezone.utc) if aware else when
    return value


def _time_range(times: Times, keep: BoolArray | None) -> tuple[Any, Any]:
    """The first and last valid time among the rows kept, or ``(None, None)``."""
    values = times.values
    if times.numeric:
        with np.errstate(invalid="ignore"):
            valid = np.abs(values) < NUMERIC_LIMIT
    else:
        valid = ~np.isnat(values)
    if keep is not None:
        valid &= keep
    if not valid.any():
        return None, None
    usable = values if bool(valid.all()) else values[valid]
    return usable.min(), usable.max()


def _calibration_problem(cal: Any, obs: Any, first_time: Any, last_time: Any, times: Times,
                         freq: str) -> Problem | None:
    cal_key = scalar_key(cal)
    if cal_key >= scalar_key(obs):
        problem = f"must be before observation_end ({show_time(obs, times)})"
    elif cal_key < scalar_key(first_time):
        problem = f"is before the first transaction ({show_time(first_time, times)})"
    elif cal_key >= scalar_key(last_time):
        problem = "is not before the last transaction: there are no holdout rows"
    elif isinstance(freq, str) and freq in UNIT_DAYS and period_of(cal, times, freq) == period_of(obs, times, freq):
        problem = f"falls in the same {freq!r} period as observation_end ({show_time(obs, times)})"
    else:
        return None
    return Problem("calibration_end", f"{show_time(cal, times)} {problem}",
                   fix="Pick a calibration end inside the data, at least one period before observation_end.")


def _complex_rows(amounts_in: npt.NDArray[Any], column: str) -> Problem | None:
    """The rows of an object column of amounts that hold complex numbers, as a problem."""
    values = amounts_in.tolist()
    bad = np.fromiter((isinstance(v, (complex, np.complexfloating)) for v in values), dtype=bool, count=len(values))
    return row_problem(bad, column, "holds complex numbers, not real amounts",
                       "Pass real numbers; the imaginary part would be dropped.")


def _overflow_problem(agg: Aggregate, coded: Codes, column: str, context: str) -> None:
    """Raise naming the user's amount column when a customer's summed spend overflows float64."""
    bad = np.zeros(agg.customers.shape[0], dtype=bool)
    for spend in (agg.spend_repeat, agg.spend_holdout):
        if spend is not None:
            bad |= ~np.isfinite(spend)
    n_bad = int(np.count_nonzero(bad))
    if n_bad:
        first = coded.decode(agg.customers[np.flatnonzero(bad)[:MAX_ROWS_SHOWN]])
        rows = tuple(repr(v.item() if isinstance(v, np.generic) else v) for v in first)
        raise InvalidInputError([Problem(column, "sums to more than float64 can hold (overflow to infinity) for a "
                                         "customer", rows=rows, n_bad=n_bad, row_label="customer",
                                         fix="Rescale the amounts (e.g. to thousands) before summarizing.")],
                                context=context)


#: The units whose periods have one length, so that a purchase time is a number of units from a calendar origin.
_TIMELINE_UNITS = (*_FIXED_SECONDS, "W")
_NS_PER_SECOND = 10**9
_INT64 = np.iinfo(np.int64)


def _purchase_times(agg: Aggregate, freq: str) -> PurchaseTimes | None:
    """Each customer's first period start as a UTC/naive ``datetime64[ns]`` and its repeat periods from it.

    ``None`` when the aggregate has no repeat periods (not asked for) or an origin does not fit in
    ``datetime64[ns]``. The period starts invert :func:`~clvkit._timecolumns.to_periods`: period ``p`` of a
    fixed unit starts ``p * seconds`` after 1970-01-01; week ``w`` starts on day ``7 w - 3`` (a Monday).
    """
    if agg.repeat_periods is None:
        return None
    if freq == "W":
        step, shift = 7 * 86400 * _NS_PER_SECOND, -3 * 86400 * _NS_PER_SECOND
    else:
        step, shift = _FIXED_SECONDS[freq] * _NS_PER_SECOND, 0
    if agg.first.shape[0]:
        lowest, highest = (int(agg.first.min()) * step + shift, int(agg.first.max()) * step + shift)
        if lowest <= _INT64.min or highest > _INT64.max:  # int64 min is NaT
            return None
    origin = (agg.first * step + shift).view("datetime64[ns]")
    offsets = np.zeros(agg.n_periods.shape[0] + 1, dtype=np.int64)
    np.cumsum(agg.n_periods - 1, out=offsets[1:])
    days = UNIT_DAYS[freq]
    return PurchaseTimes._trusted(origin, offsets, agg.repeat_periods, days, days)


def _build_summary(agg: Aggregate, coded: Codes, times: Times, ends: _Ends, freq: str) -> CustomerSummary:
    end_period = period_of(ends.obs if ends.cal is None else ends.cal, times, freq)
    frequency = (agg.n_periods - 1).astype(np.float64)
    monetary = None
    if agg.spend_repeat is not None:
        monetary = np.divide(agg.spend_repeat, frequency, out=np.zeros_like(frequency), where=frequency > 0)
    holdout_kwargs: dict[str, Any] = {}
    if ends.cal is not None and agg.n_periods_holdout is not None:
        n_hold = agg.n_periods_holdout.astype(np.float64)
        holdout_kwargs["frequency_holdout"] = n_hold
        holdout_kwargs["duration_holdout"] = float(period_of(ends.obs, times, freq) - end_period)
        if agg.spend_holdout is not None:
            holdout_kwargs["monetary_value_holdout"] = np.divide(
                agg.spend_holdout, n_hold, out=np.zeros_like(n_hold), where=n_hold > 0)
    summary = CustomerSummary(
        frequency=frequency,
        recency=(agg.last - agg.first).astype(np.float64),
        T=(end_period - agg.first).astype(np.float64),
        monetary_value=monetary,
        customer_id=coded.decode(agg.customers),
        time_unit=freq,
        observation_end=ends.obs_meta,
        calibration_end=ends.cal_meta,
        **holdout_kwargs,
    )
    times_of = _purchase_times(agg, freq)  # fits the columns by construction: attached without another check
    return summary if times_of is None else summary._replace(purchase_times=times_of)
