"""Past one machine with Dask: summarize a transaction log partitioned by customer, fit on its distinct rows, score.

:func:`summarize` takes a Dask DataFrame or a Parquet dataset (a folder or a glob) and returns a
:class:`DaskSummary`: the per-customer summary as a Dask DataFrame, partitioned by customer.

How it stays exactly :func:`clvkit.summarize`:

1. One pass over the log validates every partition with clvkit's own readers (ids, times, amounts: a typed error
   naming the partition and the row within it) and finds the first and last transaction. ``observation_end``
   defaults to the last transaction of the *whole* log, and ``calibration_end`` is checked against the whole log,
   once, before any partition is summarized (manual chunking gets ``T`` wrong exactly here).
2. The rows are numbered, shuffled by customer id (every customer's rows land in one partition) and put back in
   their original order inside each partition: a customer's spend is then added up in the same order as on one
   machine, so even the floating-point sums are the same.
3. Each partition runs clvkit's in-memory summary (``clvkit._summarize``: the same periods, frequency, recency,
   ``T``, spend and holdout columns), told the whole log's time range.

A fit needs only the distinct ``(frequency, recency, T[, monetary_value])`` rows with their counts
(:meth:`DaskSummary.compress`, a tree reduction): for the count models a few hundred thousand rows whatever the
number of customers, so the engines fit locally and give the single-machine estimates. Scoring is per customer
(:meth:`DaskSummary.score`, ``map_partitions``), written with ``.to_parquet(path)``.

Dask is the ``dask`` extra (``pip install 'clvkit[dask]'``), imported on first use. Computations run on the
``distributed.Client`` passed as ``client=`` or the one active, else on Dask's default scheduler.
"""

from __future__ import annotations

import datetime as _dt
import glob as _glob
import importlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from ._frames import require
from ._rows import unique_rows
from ._summarize import (
    Refunds,
    _check_lengths,
    _check_parameters,
    _read_amounts,
    _read_columns,
    _read_ends,
    _read_ids,
    _summarize_columns,
    _time_range,
)
from ._timecolumns import Times, apply_datetime_format, period_of, read_times, scalar_key, show_time, source_is_aware
from ._timeunits import UNIT_DAYS
from ._validation import raise_if
from .batch import CustomerSummary
from .errors import ClvkitError, ComputationError, InvalidInputError, Problem

__all__ = ["DaskSummary", "summarize"]

#: The column numbering the log's rows across the shuffle (dropped before summarizing).
_ROW = "__clvkit_row__"
#: The count of customers of a distinct row in :meth:`DaskSummary.compress`'s partial results.
_WEIGHT = "__clvkit_weight__"
_ID = "customer_id"
_WHERE = "clvkit.dask.summarize()"


def _dd() -> Any:
    return require("dask.dataframe")


def _pd() -> Any:
    return require("pandas")


def _compute(what: str, client: Any, *collections: Any) -> tuple[Any, ...]:
    """``dask.compute`` on ``client`` (or the active/default scheduler); a failed computation as a typed error.

    Dask retries the tasks of a lost worker by itself (``distributed.scheduler.allowed-failures`` times); what
    still fails - a task that killed its workers too often, a shuffle aborted - is a :class:`ComputationError`
    naming the step, never a partial result. clvkit's own errors (bad input found in a partition) pass unchanged.
    """
    dask = require("dask")
    try:
        if client is not None:
            return tuple(dask.compute(*collections, scheduler=client))
        return tuple(dask.compute(*collections))
    except ClvkitError:
        raise
    except Exception as exc:  # Dask raises the workers' and the scheduler's errors as they are
        raise ComputationError(
            f"The Dask computation of {what} failed: {type(exc).__name__}: {exc}. No partial result was returned. "
            f"Check the workers (memory, logs), raise 'distributed.scheduler.allowed-failures' if workers were lost, "
            f"and run it again.") from exc


#: Up to this many partitions the log is shuffled by tasks: on 10M transactions in 10 partitions the task shuffle took
#: half the time of the peer-to-peer one (benchmarks/bench_dask.py); beyond, Dask's choice (peer-to-peer on a
#: cluster: memory-bounded, a graph linear in the partitions). ``dataframe.shuffle.method`` in Dask's config wins.
_TASK_SHUFFLE_UP_TO = 32


def _shuffle_method(client: Any, npartitions: int) -> str | None:
    """The task shuffle for few partitions or off a cluster; else ``None``: Dask's choice (peer-to-peer).

    Dask picks the method when the graph is built, from the client active then; the peer-to-peer shuffle runs
    only on distributed workers, so a graph built beside a client but computed on another scheduler (a
    ``dask.config.set(scheduler=...)`` block) must not use it.
    """
    dask = require("dask")
    if dask.config.get("dataframe.shuffle.method", None) is not None:
        return None  # the user's choice
    if npartitions <= _TASK_SHUFFLE_UP_TO:
        return "tasks"
    if client is not None:
        return None
    scheduler = dask.config.get("scheduler", None)
    if scheduler not in (None, "dask.distributed", "distributed"):
        return "tasks"
    try:
        distributed: Any = importlib.import_module("distributed")
        distributed.default_client()
    except (ImportError, ValueError):  # no distributed, or no client: Dask's local schedulers
        return "tasks"
    return None


# ---------------------------------------------------------------------------------------------- sources
def _read_source(source: Any, columns: list[str]) -> Any:
    """A Dask DataFrame of ``columns`` from a Dask DataFrame or a Parquet folder, file or glob."""
    dd = _dd()
    if isinstance(source, dd.DataFrame):
        missing = [c for c in columns if c not in source.columns]
        if missing:
            raise InvalidInputError([Problem(c, "is not a column of the input",
                                             fix=f"Available columns: {list(source.columns)}.") for c in missing],
                                    context=_WHERE)
        return source[columns]
    if not isinstance(source, (str, Path)):
        raise InvalidInputError(f"The 'source' parameter of {_WHERE} must be a Dask DataFrame or the path of a "
                                f"Parquet dataset (a folder, a file or a glob such as 'logs/*.parquet'). Got "
                                f"{type(source).__name__} instead.")
    text = str(source)
    if _glob.has_magic(text):
        files = sorted(_glob.glob(text))
        if not files:
            raise InvalidInputError(f"The glob {text!r} given to {_WHERE} matches no file.")
        path: Any = files
    else:
        p = Path(text)
        if not p.exists():
            raise InvalidInputError(f"The Parquet dataset {text!r} given to {_WHERE} does not exist.")
        path = text
    try:
        frame = dd.read_parquet(path)
    except Exception as exc:  # pyarrow and dask raise several unrelated types for unreadable files
        raise InvalidInputError(f"{text!r} cannot be read as a Parquet dataset: {exc}") from None
    return _read_source(frame, columns)


# ---------------------------------------------------------------------------------------------- pass 1
def _part_context(number: int) -> str:
    return f"{_WHERE} (partition {number}; rows are counted from 0 within the partition)"


def _scan_part(part: Any, number: int, names: tuple[str, str, str], refunds: str) -> tuple[int, Any, Any]:
    """Validate one partition as :func:`clvkit.summarize` would; its row count and first and last time."""
    n = len(part)
    if n == 0:
        return 0, None, None
    id_col, time_col, amount_col = names
    problems: list[Problem | None] = []
    wanted = [id_col, time_col] + ([amount_col] if amount_col else [])
    columns = _read_columns(part, wanted, problems)
    ids, times_in = columns[id_col], columns[time_col]
    amounts_in = columns[amount_col] if amount_col else None
    context = _part_context(number)
    _check_lengths(ids, times_in, amounts_in, names, problems, context)
    _read_ids(ids, id_col, problems)
    formatted, aware = apply_datetime_format(times_in, time_col, None, source_is_aware(part, time_col), problems)
    times = None if formatted is None else read_times(formatted, time_col, aware, problems)
    _, negative = _read_amounts(amounts_in, amount_col, None, refunds, problems)
    raise_if(problems, context)
    if times is None:  # pragma: no cover - reported above
        raise AssertionError("unreachable")
    keep = None if refunds != "drop" or negative is None else ~negative
    first, last = _time_range(times, keep)  # (None, None) for a partition of refunds only, under 'drop'
    return n, (first, last, times.numeric, times.aware), int(0 if negative is None else negative.sum())


def _number_rows(part: Any, offset: int) -> Any:
    out = part.copy()
    out[_ROW] = np.arange(offset, offset + len(part), dtype=np.int64)
    return out


# ---------------------------------------------------------------------------------------------- pass 2
def _empty_summary_frame(id_dtype: Any, columns: Sequence[str]) -> Any:
    pd = _pd()
    return pd.DataFrame({c: np.zeros(0, dtype=np.float64) for c in columns},
                        index=pd.Index([], dtype=id_dtype, name=_ID))


def _summarize_part(part: Any, names: tuple[str, str, str], settings: dict[str, Any], id_dtype: Any,
                    columns: Sequence[str], partition_info: Any = None) -> Any:
    """One partition (whole customers) summarized by clvkit's in-memory summary, as a frame keyed by id."""
    if len(part) == 0:
        return _empty_summary_frame(id_dtype, columns)
    number = 0 if partition_info is None else int(partition_info["number"])
    part = part.sort_values(_ROW, kind="stable")  # the log's order: spend adds up as on one machine
    id_col, time_col, amount_col = names
    refunds = settings["refunds"]
    if refunds == "drop":  # 'drop' removes the refund rows before anything else: here, then 'error' finds none
        part = part[~(part[amount_col].to_numpy(dtype=np.float64) < 0)]
        refunds = "error"
        if len(part) == 0:
            return _empty_summary_frame(id_dtype, columns)
    wanted = [id_col, time_col] + ([amount_col] if amount_col else [])
    problems: list[Problem | None] = _check_parameters(settings["freq"], refunds, None)
    cols = _read_columns(part, wanted, problems)
    summary = _summarize_columns(
        cols[id_col], cols[time_col], cols[amount_col] if amount_col else None, names=names,
        source_aware=source_is_aware(part, time_col), freq=settings["freq"],
        observation_end=settings["observation_end"], calibration_end=settings["calibration_end"], refunds=refunds,
        context=_part_context(number), problems=problems, part_of=settings["range"])
    return _summary_frame(summary, settings["time_unit"], id_dtype, columns)


def _summary_frame(summary: CustomerSummary, time_unit: str | None, id_dtype: Any, columns: Sequence[str]) -> Any:
    pd = _pd()
    if time_unit is not None and time_unit != summary.time_unit:
        summary = summary.with_time_unit(time_unit)
    data = {c: np.array(getattr(summary, c), dtype=np.float64) for c in columns}
    ids = summary.customer_id if summary.customer_id is not None else np.zeros(0, dtype=np.int64)
    index = pd.Index(ids, name=_ID)
    if index.dtype != id_dtype:
        index = index.astype(id_dtype)
    return pd.DataFrame(data, index=index)


# ---------------------------------------------------------------------------------------------- the summary
class DaskSummary:
    """A per-customer summary held as a Dask DataFrame, partitioned by customer (returned by :func:`summarize`).

    Every customer's row lies in exactly one partition; the columns are those of
    :meth:`clvkit.CustomerSummary.to_frame` (``frequency, recency, T`` and, when present, ``monetary_value``,
    ``frequency_holdout``, ``monetary_value_holdout``), keyed by ``customer_id`` (the index). The time unit, the
    ends and the holdout duration are those of the whole log, fixed once.

    Attributes
    ----------
    time_unit:
        Unit of ``recency`` and ``T``.
    observation_end, calibration_end:
        The study's ends as :func:`clvkit.summarize` records them (``calibration_end`` ``None`` without holdout).
    duration_holdout:
        Length of the holdout period in ``time_unit`` (``None`` without holdout).
    n_rows:
        Transactions read.
    """

    def __init__(self, frame: Any, *, time_unit: str, observation_end: _dt.datetime | None,
                 calibration_end: _dt.datetime | None, duration_holdout: float | None, n_rows: int,
                 client: Any = None) -> None:
        self._frame = frame
        self.time_unit = time_unit
        self.observation_end = observation_end
        self.calibration_end = calibration_end
        self.duration_holdout = duration_holdout
        self.n_rows = n_rows
        self._client = client
        self._n_customers: int | None = None

    def __repr__(self) -> str:
        return (f"DaskSummary({self._frame.npartitions} partitions, time_unit={self.time_unit!r}, "
                f"observation_end={self.observation_end}, calibration_end={self.calibration_end})")

    @property
    def npartitions(self) -> int:
        """Number of partitions of the summary."""
        return int(self._frame.npartitions)

    @property
    def n_customers(self) -> int:
        """Number of customers summarized (computed once; every customer is one row)."""
        if self._n_customers is None:
            (n,) = _compute("the number of customers", self._client, self._frame.map_partitions(len).sum())
            self._n_customers = int(n)
        return self._n_customers

    def to_dask(self) -> Any:
        """The per-customer summary: a Dask DataFrame indexed by ``customer_id`` (partitioned by customer)."""
        return self._frame

    def persist(self) -> DaskSummary:
        """The same summary computed once and kept in the workers' memory (on the client's cluster)."""
        frame = self._frame.persist() if self._client is None else self._client.persist(self._frame)
        out = DaskSummary(frame, time_unit=self.time_unit, observation_end=self.observation_end,
                          calibration_end=self.calibration_end, duration_holdout=self.duration_holdout,
                          n_rows=self.n_rows, client=self._client)
        out._n_customers = self._n_customers
        return out

    def compute(self) -> CustomerSummary:
        """The whole summary in this process, as one :class:`~clvkit.CustomerSummary` sorted by customer id.

        For data that fits in memory (tests, small logs): the columns equal :func:`clvkit.summarize`'s (purchase
        times are not carried through Dask).
        """
        (frame,) = _compute("the summary", self._client, self._frame)
        frame = frame.sort_index(kind="stable")
        return self._customer_summary(frame)

    def _customer_summary(self, frame: Any) -> CustomerSummary:
        cols = {c: frame[c].to_numpy(dtype=np.float64) for c in frame.columns}
        hold = "frequency_holdout" in cols
        return CustomerSummary(
            frequency=cols["frequency"], recency=cols["recency"], T=cols["T"],
            monetary_value=cols.get("monetary_value"), customer_id=_index_values(frame.index),
            time_unit=self.time_unit, frequency_holdout=cols.get("frequency_holdout"),
            monetary_value_holdout=cols.get("monetary_value_holdout"),
            duration_holdout=self.duration_holdout if hold else None,
            observation_end=self.observation_end, calibration_end=self.calibration_end, _validate=False)

    def compress(self, *, include_monetary: bool = True) -> CustomerSummary:
        """The distinct ``(frequency, recency, T[, monetary_value])`` rows with their counts as ``weights``.

        A tree reduction counts the customers of each distinct row; the result is the weighted
        :class:`~clvkit.CustomerSummary` (rows in ascending lexicographic order) that
        ``CustomerSummary.compress().summary`` gives on one machine. The count models fit it exactly as the in-memory
        summary (they read distinct rows and weights); Gamma-Gamma adds its statistics row by row, so its estimates
        match the raw customers' up to the rounding of those sums (2e-11 relative on CDNOW).

        Parameters
        ----------
        include_monetary:
            Keep ``monetary_value`` in the key (needed by Gamma-Gamma), as :meth:`CustomerSummary.compress`.
        """
        keys = ["frequency", "recency", "T"]
        if include_monetary and "monetary_value" in self._frame.columns:
            keys.append("monetary_value")
        pd = _pd()
        meta = pd.DataFrame({k: np.zeros(0, dtype=np.float64) for k in [*keys, _WEIGHT]})
        # A tree reduction of clvkit's own unique_rows: each partition's distinct rows with their counts, merged
        # eight at a time; only distinct rows travel. (Dask's group-by shuffled them: several times slower here.)
        distinct = self._frame[keys].reduction(_distinct_rows, aggregate=_distinct_rows, combine=_distinct_rows,
                                               meta=meta, split_every=8)
        (table,) = _compute("the compressed summary", self._client, distinct)
        weights = table[_WEIGHT].to_numpy(dtype=np.float64)
        if weights.shape[0] == 0:
            raise InvalidInputError(f"{_WHERE}: no customer was summarized (the calibration period holds no "
                                    f"purchase).")
        self._n_customers = int(weights.sum())
        cols = [table[k].to_numpy(dtype=np.float64) for k in keys]
        return CustomerSummary(frequency=cols[0], recency=cols[1], T=cols[2],
                               monetary_value=cols[3] if len(cols) > 3 else None, weights=weights,
                               time_unit=self.time_unit, observation_end=self.observation_end,
                               calibration_end=self.calibration_end)

    def score(self, transaction_model: Any, spend_model: Any = None, *, horizon: int, discount_rate: float,
              period: float | str | None = None, margin: float = 1.0) -> Any:
        """Per-customer value, partition by partition: a Dask DataFrame indexed by ``customer_id``.

        Each partition is scored by :func:`clvkit.valuation.clv` (and the model's ``probability_alive``) on its
        customers, exactly as on one machine. Write it with ``.to_parquet(path)``.

        Parameters
        ----------
        transaction_model:
            A fitted transaction model (e.g. fitted on :meth:`compress`). The summary is converted to its time unit.
        spend_model:
            A fitted spend model (Gamma-Gamma) or a spend per purchase (a number). ``None``: the customers'
            ``monetary_value`` column as the spend per purchase.
        horizon, discount_rate, period, margin:
            As in :func:`clvkit.valuation.clv`.

        Returns
        -------
        dask.dataframe.DataFrame
            Columns ``frequency, recency, T`` (in the model's time unit), ``monetary_value`` when present, then
            ``p_alive`` (when the model gives it), ``expected_purchases``, ``expected_spend``, ``clv``,
            ``value_if_active`` (``clv / p_alive``, when given) and ``frequency_holdout`` (with a holdout): the
            columns of ``clvkit score``.
        """
        from .protocols import CountModel
        from .valuation import clv

        if spend_model is None and "monetary_value" not in self._frame.columns:
            raise InvalidInputError("score() needs a spend model, a spend per purchase, or a summary with "
                                    "monetary_value (summarize with monetary_value=...).")
        unit = getattr(transaction_model, "time_unit", self.time_unit)
        # Check the settings once, here, on one customer, rather than in every partition.
        probe = CustomerSummary(frequency=[0.0], recency=[0.0], T=[1.0], monetary_value=[1.0], time_unit=unit)
        probed = clv(transaction_model, 1.0 if spend_model is None else spend_model, probe, horizon=horizon,
                     discount_rate=discount_rate, margin=margin, period=period)
        with_p_alive = isinstance(transaction_model, CountModel)
        pd = _pd()
        summary_cols = [c for c in ("frequency", "recency", "T", "monetary_value") if c in self._frame.columns]
        out_cols = [*summary_cols, *(["p_alive"] if with_p_alive else []), "expected_purchases", "expected_spend",
                    "clv", *(["value_if_active"] if probed.value_if_active is not None else []),
                    *(["frequency_holdout"] if "frequency_holdout" in self._frame.columns else [])]
        meta_index = self._frame._meta.index
        meta = pd.DataFrame({c: np.zeros(0, dtype=np.float64) for c in out_cols}, index=meta_index)
        return self._frame.map_partitions(
            _score_part, transaction_model, spend_model, self._settings(), unit, horizon, discount_rate, period,
            margin, with_p_alive, out_cols, meta=meta, enforce_metadata=False)

    def _settings(self) -> dict[str, Any]:
        return {"time_unit": self.time_unit, "observation_end": self.observation_end,
                "calibration_end": self.calibration_end, "duration_holdout": self.duration_holdout}


def _distinct_rows(frame: Any) -> Any:
    """The distinct rows of ``frame`` (in ascending lexicographic order) with their summed ``weight`` column (1 per
    row when absent): a step of :meth:`DaskSummary.compress`, on a partition and on the concatenated partial results.
    """
    pd = _pd()
    keys = [c for c in frame.columns if c != _WEIGHT]
    weights = frame[_WEIGHT].to_numpy(dtype=np.float64) if _WEIGHT in frame.columns else np.ones(len(frame))
    cols, summed, _ = unique_rows([frame[k].to_numpy(dtype=np.float64) for k in keys], weights)
    return pd.DataFrame({**dict(zip(keys, cols, strict=True)), _WEIGHT: summed})


def _index_values(index: Any) -> npt.NDArray[Any]:
    if str(index.dtype) in ("string", "str") or str(index.dtype).startswith("string"):
        return np.asarray(index.to_numpy(dtype=object))
    return np.asarray(index.to_numpy())


def _score_part(frame: Any, transaction_model: Any, spend_model: Any, settings: dict[str, Any], unit: str,
                horizon: int, discount_rate: float, period: Any, margin: float, with_p_alive: bool,
                out_cols: Sequence[str]) -> Any:
    from .valuation import clv

    pd = _pd()
    if len(frame) == 0:
        return pd.DataFrame({c: np.zeros(0, dtype=np.float64) for c in out_cols}, index=frame.index)
    cols = {c: frame[c].to_numpy(dtype=np.float64) for c in frame.columns}
    summary = CustomerSummary(frequency=cols["frequency"], recency=cols["recency"], T=cols["T"],
                              monetary_value=cols.get("monetary_value"), time_unit=settings["time_unit"],
                              _validate=False)
    if summary.time_unit != unit:
        summary = summary.with_time_unit(unit)
    spend = spend_model if spend_model is not None else summary.monetary_value
    result = clv(transaction_model, spend, summary, horizon=horizon, discount_rate=discount_rate, margin=margin,
                 period=period)
    data: dict[str, Any] = {"frequency": summary.frequency, "recency": summary.recency, "T": summary.T}
    if summary.monetary_value is not None:
        data["monetary_value"] = summary.monetary_value
    if with_p_alive:
        data["p_alive"] = np.asarray(transaction_model.probability_alive(summary), dtype=np.float64)
    data["expected_purchases"] = result.expected_purchases
    data["expected_spend"] = result.expected_spend
    data["clv"] = result.clv
    if "value_if_active" in out_cols:
        data["value_if_active"] = result.value_if_active
    if "frequency_holdout" in out_cols:
        data["frequency_holdout"] = cols["frequency_holdout"]
    return pd.DataFrame({c: np.array(data[c], dtype=np.float64) for c in out_cols}, index=frame.index)


# ---------------------------------------------------------------------------------------------- entry point
def summarize(source: Any, *, customer_id: str, datetime: str, monetary_value: str | None = None, freq: str = "D",
              observation_end: Any = None, calibration_end: Any = None, time_unit: str | None = None,
              refunds: Refunds = "error", npartitions: int | None = None, client: Any = None) -> DaskSummary:
    """Summarize a transaction log with Dask, partitioned by customer; the definitions of :func:`clvkit.summarize`.

    Parameters
    ----------
    source:
        A Dask DataFrame (one row per transaction), or the path of a Parquet dataset: a folder, a file or a glob
        (``"logs/*.parquet"``).
    customer_id, datetime, monetary_value:
        Column names, as in :func:`clvkit.summarize` (times: datetimes, ISO strings or numbers of ``freq``).
    freq:
        The period purchases are counted in (``time_unit`` of :func:`clvkit.summarize`): ``"s"``, ``"min"``,
        ``"h"``, ``"D"`` (default), ``"W"``, ``"M"``, ``"Q"``, ``"Y"``.
    observation_end, calibration_end:
        As in :func:`clvkit.summarize`. ``observation_end`` defaults to the last transaction of the whole log
        (found in a first pass), so every partition shares one ``T`` origin; ``calibration_end`` is checked
        against the whole log.
    time_unit:
        Unit of ``recency`` and ``T`` in the result (default: ``freq``); the summary is converted with
        :meth:`CustomerSummary.with_time_unit`, as ``clvkit fit --freq D --time-unit W`` does.
    refunds:
        Negative amounts: ``"error"`` (default), ``"drop"`` or ``"net"``, as in :func:`clvkit.summarize`.
    npartitions:
        Partitions of the summary (default: those of the log).
    client:
        A ``distributed.Client`` to compute on (default: the active client, else Dask's default scheduler).

    Returns
    -------
    DaskSummary
        Lazy, partitioned by customer: ``.n_customers``, ``.compress()``, ``.to_dask()``, ``.score(...)``,
        ``.persist()``, ``.compute()``.

    Raises
    ------
    InvalidInputError
        As :func:`clvkit.summarize` (a bad row is named by its partition and its position in it), or for a
        source that is neither a Dask DataFrame nor a readable Parquet dataset.
    ComputationError
        When the Dask computation fails (workers lost more often than Dask retries).
    MissingDependencyError
        Without Dask: ``pip install 'clvkit[dask]'``.

    Examples
    --------
    >>> import numpy as np, pandas as pd, dask.dataframe as dd
    >>> import clvkit, clvkit.dask
    >>> log = pd.DataFrame({"cust": [7, 7, 7, 3], "amount": [10.0, 5.0, 20.0, 7.0],
    ...                     "when": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-01-15", "2024-01-10"])})
    >>> s = clvkit.dask.summarize(dd.from_pandas(log, npartitions=2), customer_id="cust", datetime="when",
    ...                           monetary_value="amount")
    >>> s.n_customers
    2
    >>> frame = s.to_dask().compute().sort_index()
    >>> frame.index.tolist(), frame["T"].tolist(), frame["monetary_value"].tolist()
    ([3, 7], [5.0, 14.0], [0.0, 20.0])
    >>> s.compress().weights.tolist()
    [1.0, 1.0]
    """
    problems = _check_parameters(freq, refunds, None)
    if refunds != "error" and not monetary_value:
        problems.append(Problem("refunds", f"{refunds!r} needs the amounts: pass monetary_value"))
    if time_unit is not None and not (isinstance(time_unit, str) and time_unit in UNIT_DAYS):
        problems.append(Problem("time_unit", f"must be one of {list(UNIT_DAYS)} or None; got {time_unit!r}"))
    if npartitions is not None and not (isinstance(npartitions, int) and npartitions > 0):
        problems.append(Problem("npartitions", f"must be a positive whole number or None; got {npartitions!r}"))
    raise_if(problems, _WHERE)
    names = (customer_id, datetime, monetary_value or "")
    wanted = list(dict.fromkeys([customer_id, datetime] + ([monetary_value] if monetary_value else [])))
    log = _read_source(source, wanted)
    # Pass 1: validate every partition, count its rows, find the whole log's first and last transaction.
    delayed = require("dask").delayed
    parts = log.to_delayed()
    scans = _compute("the log's time range", client,
                     *[delayed(_scan_part)(p, i, names, refunds) for i, p in enumerate(parts)])
    counts = [int(s[0]) for s in scans]
    ranges = [s[1] for s in scans if s[1] is not None and s[1][0] is not None]
    if not ranges:
        if sum(counts):
            raise InvalidInputError([Problem(monetary_value or "", "has only refunds; nothing is left after "
                                             "refunds='drop'")], context=_WHERE)
        raise InvalidInputError([Problem(datetime, "has no rows: the transaction log is empty",
                                         fix="Pass at least one transaction.")], context=_WHERE)
    numeric, aware = ranges[0][2], ranges[0][3]
    first = min((r[0] for r in ranges), key=scalar_key)
    last = max((r[1] for r in ranges), key=scalar_key)
    ends = _whole_log_ends(first, last, numeric, aware, observation_end, calibration_end, freq, datetime)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64).tolist()
    # Pass 2: number the rows, shuffle by customer, summarize each partition as one machine would.
    # One task per partition, each told only its own first row number (not the list of all: a graph linear in the
    # number of partitions).
    meta = log._meta.assign(**{_ROW: np.zeros(0, dtype=np.int64)})
    numbered = _dd().from_delayed([delayed(_number_rows)(p, offset) for p, offset in zip(parts, offsets, strict=False)],
                                  meta=meta, verify_meta=False)
    shuffled = numbered.shuffle(on=customer_id, npartitions=npartitions or log.npartitions,
                                shuffle_method=_shuffle_method(client, npartitions or log.npartitions))
    columns = ["frequency", "recency", "T"]
    if monetary_value:
        columns.append("monetary_value")
    if calibration_end is not None:
        columns.append("frequency_holdout")
        if monetary_value:
            columns.append("monetary_value_holdout")
    id_dtype = log._meta[customer_id].dtype
    settings = {"freq": freq, "time_unit": time_unit, "refunds": refunds, "observation_end": observation_end,
                "calibration_end": calibration_end, "range": (first, last)}
    frame = shuffled.map_partitions(_summarize_part, names, settings, id_dtype, columns,
                                    meta=_empty_summary_frame(id_dtype, columns), enforce_metadata=False)
    unit = time_unit or freq
    factor = UNIT_DAYS[freq] / UNIT_DAYS[unit]
    duration = None if ends[2] is None else ends[2] * factor
    return DaskSummary(frame, time_unit=unit, observation_end=ends[0], calibration_end=ends[1],
                       duration_holdout=duration, n_rows=int(sum(counts)), client=client)


def _whole_log_ends(first: Any, last: Any, numeric: bool, aware: bool, observation_end: Any, calibration_end: Any,
                    freq: str, time_col: str) -> tuple[_dt.datetime | None, _dt.datetime | None, float | None]:
    """Check the ends against the whole log once; their metadata and the holdout duration in ``freq``."""
    values = np.array([first, last])
    times = Times(values, numeric, aware)
    problems: list[Problem | None] = []
    if calibration_end is None and observation_end is not None:
        # clvkit.summarize names the rows after observation_end; here: the last one, before any shuffle.
        probe: list[Problem | None] = []
        ends = _read_ends(times, None, observation_end, None, freq, time_col, probe)
        if ends.obs is not None and scalar_key(ends.obs) < scalar_key(last):
            raise InvalidInputError([Problem(
                time_col, f"has rows after observation_end ({show_time(ends.obs, times)}); the last is at "
                f"{show_time(last, times)}",
                fix="Pass a later observation_end (the default is the last transaction), remove those rows, or pass "
                    "calibration_end to summarize a calibration period with a holdout.")], context=_WHERE)
    ends = _read_ends(times, None, observation_end, calibration_end, freq, time_col, problems)
    raise_if(problems, _WHERE)
    duration = None
    if ends.cal is not None:
        duration = float(period_of(ends.obs, times, freq) - period_of(ends.cal, times, freq))
    return ends.obs_meta, ends.cal_meta, duration
