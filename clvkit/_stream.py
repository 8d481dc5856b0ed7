"""Streaming input to :func:`clvkit.summarize`: a log read batch by batch, with bounded memory.

A polars ``LazyFrame``, a ``pyarrow.dataset.Dataset``, a ``pyarrow.RecordBatchReader`` or an iterable of eager
frames is read one batch at a time. Each batch goes through the same column checks as an in-memory log
(:mod:`clvkit._summarize`'s readers: ids, the time column and ``datetime_format``, amounts and refunds), its rows
are floored to periods, and it is reduced to its distinct ``(customer, period, holdout)`` keys with the summed
spend of each key. Those keys are merged into one sorted state: a customer-period seen in two batches is one
key, so distinct periods that span batches are never counted twice, and a refund netted in a later batch is
added to the period's total before the total's sign is read. When the stream ends, the state - a log with one
row per customer-period - goes through the in-memory kernel (:func:`clvkit._aggregate.aggregate`) and summary
builder, so every definition (frequency, recency, ``T``, repeat spend without the first period, holdout
columns, purchase times, refunds) is :func:`summarize`'s by construction.

The observation end is fixed once, in one pass: rows only need it to be checked (without ``calibration_end``,
an explicit end with rows after it is an error) or cut (with ``calibration_end``, rows after an explicit end
are left out); ``T`` and the holdout duration are computed after the last batch, from the given end or else the
last transaction over all batches (``T`` is deferred, so a one-pass iterator works and nothing is read twice).

Memory: the batch being read (its columns and the temporaries of its checks, a few times its size) plus the
state, 17 bytes per distinct key (25 with amounts) and a customer-id table (16 bytes per customer for numeric
ids, a Python dict entry for other ids); merging a batch's keys into the state copies the state once
(a rejected alternative: keeping each batch's keys and merging them all at the end would hold the keys of
every batch, up to the whole log when customers rarely buy twice in one period).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from ._aggregate import _KeyLayout, _pack_keys, _run_starts, aggregate
from ._customer_codes import Codes, code_ids
from ._frames import frame_kind, require, to_columns
from ._summarize import (
    _TIMELINE_UNITS,
    _build_summary,
    _calibration_problem,
    _check_lengths,
    _Ends,
    _format_end,
    _overflow_problem,
    _read_amounts,
    _read_ids,
    _time_range,
)
from ._timecolumns import (
    Times,
    _all_strings,
    _yyyymmdd_like_problem,
    apply_datetime_format,
    as_metadata,
    read_param,
    read_times,
    same_unit,
    scalar_key,
    show_time,
    source_is_aware,
    to_periods,
)
from ._validation import raise_if, row_problem
from .batch import CustomerSummary
from .errors import InvalidInputError, Problem

__all__ = ["DEFAULT_BATCH_SIZE", "STREAM_KINDS", "source_kind", "summarize_stream"]

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]

#: Rows per batch read from a LazyFrame or a Dataset (a RecordBatchReader and an iterable keep their own batches).
DEFAULT_BATCH_SIZE = 1_000_000
#: The streamed sources, as :func:`source_kind` names them.
STREAM_KINDS = ("lazyframe", "dataset", "reader", "chunks")
_CONTEXT = "summarize()"
ACCEPTED = ("a pandas or polars DataFrame, a pyarrow Table or RecordBatch, a mapping of column name to array, "
            "or a stream read batch by batch: a polars LazyFrame, a pyarrow.dataset.Dataset, a "
            "pyarrow.RecordBatchReader, or an iterable (e.g. a generator) of such DataFrames, Tables or mappings")


# ---------------------------------------------------------------------------------------------- sources
def source_kind(obj: Any) -> str:
    """``"eager"`` for an in-memory frame, one of :data:`STREAM_KINDS` for a stream; else a typed error.

    A frame library is imported only when ``obj`` comes from it (it is then imported already).
    """
    root = type(obj).__module__.split(".")[0]
    if root == "polars":
        pl = require("polars")
        if isinstance(obj, pl.LazyFrame):
            return "lazyframe"
        if isinstance(obj, pl.DataFrame):
            return "eager"
    elif root == "pyarrow":
        pa = require("pyarrow")
        if isinstance(obj, (pa.Table, pa.RecordBatch)):
            return "eager"
        if isinstance(obj, pa.RecordBatchReader):
            return "reader"
        if type(obj).__module__ == "pyarrow._dataset" and isinstance(obj, require("pyarrow.dataset").Dataset):
            return "dataset"
    elif root == "pandas":
        if isinstance(obj, require("pandas").DataFrame):
            return "eager"
    elif isinstance(obj, Mapping):
        return "eager"
    if isinstance(obj, Iterable) and not isinstance(obj, (str, bytes, np.ndarray)) \
            and root not in ("polars", "pyarrow") and not _is_pandas_container(obj, root):
        return "chunks"
    raise InvalidInputError(f"{_CONTEXT} needs {ACCEPTED}. Got {type(obj).__name__} instead.")


def _is_pandas_container(obj: Any, root: str) -> bool:
    """A pandas Series or Index: iterable, but values, not frames (a chunked CSV reader is fine)."""
    if root != "pandas":
        return False
    pd = require("pandas")
    return isinstance(obj, (pd.Series, pd.Index))


def _check_names(available: list[str], names: list[str]) -> None:
    missing = [n for n in names if n not in available]
    if missing:
        raise InvalidInputError(
            [Problem(n, "is not a column of the input", fix=f"Available columns: {available}.") for n in missing],
            context=_CONTEXT)


def _batches(source: Any, kind: str, names: list[str], batch_size: int) -> Iterator[Any]:
    """The source's batches as eager frames of (at least) the needed columns."""
    if kind == "lazyframe":
        _check_names(list(source.collect_schema().names()), names)
        # polars' streaming engine: only the needed columns are read, chunk_size rows at a time.
        yield from source.select(names).collect_batches(chunk_size=batch_size, maintain_order=True)
    elif kind == "dataset":
        _check_names(list(source.schema.names), names)
        # One batch and one file read ahead (pyarrow's defaults, 16 and 4, would hold many batches at once).
        yield from source.to_batches(columns=names, batch_size=batch_size, batch_readahead=1, fragment_readahead=1)
    elif kind == "reader":
        _check_names(list(source.schema.names), names)
        for batch in source:
            yield batch.select(names)
    else:
        yield from source


# ---------------------------------------------------------------------------------------------- customer ids
class _IdTable:
    """Customer ids seen so far -> codes in order of first appearance; sorted into id order at the end.

    Numeric ids (numbers, datetimes, booleans) are held as one sorted array with the code of each (a batch's
    distinct ids are found with one ``searchsorted``); other ids (strings, objects) in a dict.
    """

    def __init__(self, column: str) -> None:
        self.column = column
        self.numeric: bool | None = None
        self.sorted_ids: npt.NDArray[Any] | None = None
        self.sorted_codes: IntArray = np.zeros(0, dtype=np.int64)
        self.table: dict[Any, int] = {}

    def __len__(self) -> int:
        return int(self.sorted_codes.shape[0]) if self.numeric else len(self.table)

    def codes_of(self, uniques: npt.NDArray[Any]) -> IntArray | Problem:
        """The codes of a batch's distinct ids (sorted ascending), adding the new ones."""
        numeric = uniques.dtype.kind in "biufmM"
        if self.numeric is None:
            self.numeric = numeric
        elif numeric != self.numeric:
            return self._mixed(uniques.dtype)
        if not numeric:
            table = self.table
            return np.fromiter((table.setdefault(v, len(table)) for v in uniques.tolist()), dtype=np.int64,
                               count=uniques.shape[0])
        if self.sorted_ids is None:
            self.sorted_ids = uniques.copy()
            self.sorted_codes = np.arange(uniques.shape[0], dtype=np.int64)
            return self.sorted_codes.copy()
        held = self.sorted_ids
        if held.dtype != uniques.dtype:
            common = np.result_type(held.dtype, uniques.dtype)
            if common.kind == "f" and "f" not in (held.dtype.kind, uniques.dtype.kind) or common.kind == "O":
                return self._mixed(uniques.dtype)
            held, uniques = held.astype(common), uniques.astype(common)
        pos = np.searchsorted(held, uniques)
        found = pos < held.shape[0]
        found[found] = held[pos[found]] == uniques[found]
        out = np.empty(uniques.shape[0], dtype=np.int64)
        out[found] = self.sorted_codes[pos[found]]
        new = ~found
        n_new = int(np.count_nonzero(new))
        out[new] = np.arange(len(self), len(self) + n_new, dtype=np.int64)
        if n_new:
            self.sorted_ids = np.insert(held, pos[new], uniques[new])
            self.sorted_codes = np.insert(self.sorted_codes, pos[new], out[new])
        else:
            self.sorted_ids = held
        return out

    def _mixed(self, dtype: Any) -> Problem:
        held = "numbers" if self.numeric else "strings or other objects"
        return Problem(self.column, f"holds customer ids of another type ({dtype}) than earlier batches ({held})",
                       fix="Give every batch customer ids of one type, e.g. all integers or all strings.")

    def ranked(self) -> tuple[IntArray, npt.NDArray[Any]] | Problem:
        """The rank (position in id order) of each code, and the ids in ascending order."""
        rank = np.empty(len(self), dtype=np.int64)
        if self.numeric:
            assert self.sorted_ids is not None
            rank[self.sorted_codes] = np.arange(len(self), dtype=np.int64)
            return rank, self.sorted_ids
        distinct = list(self.table)
        try:
            order = sorted(range(len(distinct)), key=distinct.__getitem__)
        except TypeError:
            kinds = sorted({type(v).__name__ for v in distinct})
            return Problem(self.column, f"mixes id types that cannot be ordered ({', '.join(kinds)})",
                           fix="Make every customer id the same type, e.g. all strings.")
        rank[np.array(order, dtype=np.int64)] = np.arange(len(distinct), dtype=np.int64)
        ordered = [distinct[i] for i in order]
        id_types = {type(v) for v in ordered}
        uniques: npt.NDArray[Any]
        if id_types <= {str}:  # the dtypes read_object_ids gives an in-memory log
            uniques = np.array(ordered, dtype=str)
        elif id_types <= {int} and -(2**63) <= ordered[0] and ordered[-1] < 2**63:
            uniques = np.array(ordered, dtype=np.int64)
        else:
            uniques = np.empty(len(ordered), dtype=object)
            uniques[:] = ordered
        return rank, uniques


# ---------------------------------------------------------------------------------------------- the state
@dataclasses.dataclass
class _Keys:
    """Distinct ``(customer code, period, holdout)`` keys with the summed spend of each, sorted by key."""

    code: IntArray
    period: IntArray
    hold: BoolArray | None
    spend: FloatArray | None

    @property
    def size(self) -> int:
        return int(self.code.shape[0])


def _distinct(code: IntArray, n_codes: int, period: IntArray, hold: BoolArray | None,
              spend: FloatArray | None, *, runs: bool = False) -> _Keys:
    """The distinct keys of rows (or of keys from several batches), spend summed per key, sorted.

    ``runs``: the input is a few sorted runs, which numpy's stable sort (timsort) merges in linear time.
    """
    key, layout = _pack_keys(code, n_codes, period, hold)
    if spend is None:
        key.sort(kind="stable" if runs else "quicksort")
        key = key[_run_starts(key)]
        total = None
    else:
        order = np.argsort(key, kind="stable")
        key = key[order]
        starts = _run_starts(key)
        total = np.add.reduceat(spend[order], starts)
        key = key[starts]
    return _unpack(key, layout, hold is not None, total)


def _unpack(key: IntArray, layout: _KeyLayout, with_hold: bool, spend: FloatArray | None) -> _Keys:
    code = key // layout.stride
    rest = key % layout.stride
    hold = (rest & 1).astype(bool) if with_hold else None
    rest >>= layout.shift
    period = layout.decode_period[rest] if layout.decode_period is not None else rest + layout.pmin
    return _Keys(code, period, hold, spend)


def _merge(state: _Keys | None, new: _Keys, n_codes: int) -> _Keys:
    """The state with a batch's keys added (equal keys: spend summed)."""
    if state is None or state.size == 0:
        return new
    if new.size == 0:
        return state

    def join(a: npt.NDArray[Any] | None, b: npt.NDArray[Any] | None) -> Any:
        return None if a is None or b is None else np.concatenate([a, b])

    # Both parts are sorted by key, and the packing keeps that order: the stable sort only merges two runs.
    return _distinct(np.concatenate([state.code, new.code]), n_codes, np.concatenate([state.period, new.period]),
                     join(state.hold, new.hold), join(state.spend, new.spend), runs=True)


@dataclasses.dataclass
class _Stream:
    """What the batches told so far."""

    ids: _IdTable
    names: tuple[str, str, str]
    freq: str
    refunds: str
    fmt: str | None
    observation_end: Any
    calibration_end: Any
    numeric: bool | None = None  # the time column's representation, fixed by the first batch
    aware: bool = False
    dtype: Any = None
    obs: Any = None  # the given ends, read against the first batch's time column
    cal: Any = None
    first: Any = None  # first and last valid time over the kept rows of all batches
    last: Any = None
    rows: int = 0
    kept: int = 0
    yyyymmdd_like: Problem | None = None  # the first batch's, while every batch looks like YYYYMMDD dates
    all_like: bool = True
    state: _Keys | None = None


def _shifted(problem: Problem | None, start: int) -> Problem | None:
    """A batch's problem with its row positions counted from the start of the stream."""
    if problem is None or problem.row_label != "row" or not problem.rows:
        return problem
    rows = tuple(r + start if isinstance(r, int) else r for r in problem.rows)
    return dataclasses.replace(problem, rows=rows)


def _add_batch(st: _Stream, frame: Any, index: int) -> None:
    id_col, time_col, amount_col = st.names
    names = [n for n in dict.fromkeys(st.names) if n]
    if not frame_kind(frame) or source_kind(frame) != "eager":
        raise InvalidInputError(f"{_CONTEXT} reads a stream of frames: each batch must be a pandas or polars "
                                f"DataFrame, a pyarrow Table or RecordBatch, or a mapping of column name to array. "
                                f"Batch {index} is a {type(frame).__name__}.")
    columns = to_columns(frame, names, context=f"{_CONTEXT} (batch {index})")
    ids, times_in = columns[id_col], columns[time_col]
    amounts_in = columns[amount_col] if amount_col else None
    n = int(times_in.shape[0]) if times_in.ndim == 1 else int(ids.size)
    start = st.rows
    context = f"{_CONTEXT} (batch {index}: rows {start} to {start + n - 1} of the stream)"
    problems: list[Problem | None] = []
    if all(a is None or (a.ndim == 1 and a.shape[0] == 0) for a in (ids, times_in, amounts_in)):
        return  # an empty batch adds nothing (an empty stream is reported at the end)
    _check_lengths(ids, times_in, amounts_in, st.names, problems, context)
    st.rows += n
    coded = _read_ids(ids, id_col, problems)
    fmt = st.fmt
    if fmt is None and not (times_in.dtype.kind in "US" or (times_in.dtype.kind == "O" and _all_strings(times_in))):
        # "Every value looks like YYYYMMDD" is a property of the whole column: judged after the last batch.
        like = _yyyymmdd_like_problem(times_in, time_col)
        if like is None:
            st.all_like = False
        elif st.yyyymmdd_like is None:
            st.yyyymmdd_like = like
        fmt = "periods"
    else:
        st.all_like = False
    formatted, aware = apply_datetime_format(times_in, time_col, fmt, source_is_aware(frame, time_col), problems)
    times = None if formatted is None else read_times(formatted, time_col, aware, problems)
    amounts, negative = _read_amounts(amounts_in, amount_col, None, st.refunds, problems)
    keep = ~negative if st.refunds == "drop" and negative is not None else None
    if times is not None:
        _fix_time_kind(st, times, time_col, index, problems)
    _raise(problems, start, context)
    assert times is not None
    first, last = _time_range(times, keep)
    values = times.values
    if last is not None:
        if st.first is None or scalar_key(first) < scalar_key(st.first):
            st.first = first
        if st.last is None or scalar_key(last) > scalar_key(st.last):
            st.last = last
        if st.obs is not None and scalar_key(st.obs) < scalar_key(last):
            after = values > same_unit(st.obs, values)
            if keep is not None:
                after &= keep
            if st.cal is None:  # the in-memory message: summarize()'s _read_ends
                problems.append(row_problem(
                    after, time_col, f"is after observation_end ({show_time(st.obs, times)})",
                    "Pass a later observation_end (the default is the last transaction), remove those rows, "
                    "or pass calibration_end to summarize a calibration period with a holdout."))
                _raise(problems, start, context)
            keep = ~after if keep is None else keep & ~after
    if keep is not None and not keep.all():
        ids, values = ids[keep], values[keep]
        amounts = None if amounts is None else amounts[keep]
        coded = None if coded is None else coded.take(keep)
    if values.shape[0] == 0:
        return
    st.kept += int(values.shape[0])
    if coded is None:
        coded = code_ids(ids)
    code = _global_codes(st, coded, start, context)
    periods = to_periods(values, times.numeric, st.freq)
    holdout = None if st.cal is None else values > same_unit(st.cal, values)
    with np.errstate(over="ignore"):  # an overflowing total is reported after the last batch, like summarize()'s
        keys = _distinct(code, len(st.ids), periods, holdout, amounts)
        st.state = _merge(st.state, keys, len(st.ids))


def _raise(problems: list[Problem | None], start: int, context: str) -> None:
    raise_if([_shifted(p, start) for p in problems], context)


def _fix_time_kind(st: _Stream, times: Times, time_col: str, index: int, problems: list[Problem | None]) -> None:
    """Fix the time column's representation at the first batch (and read the ends); later batches must match."""
    if st.numeric is None:
        st.numeric, st.aware, st.dtype = times.numeric, times.aware, times.values.dtype
        if st.observation_end is not None:
            st.obs = read_param(_format_end(st.observation_end, st.fmt, times.aware), "observation_end", times,
                                problems)
        if st.calibration_end is not None:
            st.cal = read_param(_format_end(st.calibration_end, st.fmt, times.aware), "calibration_end", times,
                                problems)
        return
    if (times.numeric, times.aware) != (st.numeric, st.aware):
        def show(numeric: bool, aware: bool) -> str:
            return "numbers" if numeric else ("time-zone-aware datetimes" if aware else "naive datetimes")

        problems.append(Problem(time_col, f"holds {show(times.numeric, times.aware)} in batch {index} but "
                                f"{show(st.numeric, st.aware)} in the first batch",
                                fix="Give every batch the same kind of time column (e.g. all UTC datetimes)."))


def _global_codes(st: _Stream, coded: Codes, start: int, context: str) -> IntArray:
    """Each row's code in the stream's id table."""
    present = np.zeros(coded.n_codes, dtype=bool)
    present[coded.codes] = True
    local = np.flatnonzero(present)
    got = st.ids.codes_of(coded.decode(local))
    if isinstance(got, Problem):
        raise InvalidInputError([got], context=context)
    to_global = np.zeros(coded.n_codes, dtype=np.int64)
    to_global[local] = got
    out: IntArray = to_global[coded.codes]
    return out


# ---------------------------------------------------------------------------------------------- driver
def summarize_stream(source: Any, kind: str, *, customer_id: str, datetime: str, monetary_value: str | None,
                     freq: str, observation_end: Any, calibration_end: Any, refunds: str,
                     datetime_format: str | None, batch_size: int) -> CustomerSummary:
    """:func:`clvkit.summarize` of a stream (the parameters are checked by the caller); see the module notes."""
    names = (customer_id, datetime, monetary_value or "")
    st = _Stream(_IdTable(customer_id), names, freq, refunds, datetime_format, observation_end, calibration_end)
    needed = [n for n in dict.fromkeys(names) if n]
    for index, frame in enumerate(_batches(source, kind, needed, batch_size)):
        _add_batch(st, frame, index)
    return _finish(st)


def _finish(st: _Stream) -> CustomerSummary:
    id_col, time_col, amount_col = st.names
    problems: list[Problem | None] = []
    if st.rows == 0:
        problems.append(Problem(time_col, "has no rows: the transaction log is empty",
                                fix="Pass at least one transaction."))
        raise_if(problems, _CONTEXT)
    if st.all_like and st.yyyymmdd_like is not None:
        raise_if([dataclasses.replace(st.yyyymmdd_like, n_bad=st.rows)], _CONTEXT)
    if st.first is None:
        if st.refunds == "drop":
            problems.append(Problem(amount_col, "has only refunds; nothing is left after refunds='drop'"))
        raise_if(problems, _CONTEXT)
    assert st.numeric is not None and st.first is not None
    times = Times(np.zeros(0, dtype=st.dtype), numeric=st.numeric, aware=st.aware)
    obs = st.last if st.obs is None else st.obs
    if st.cal is not None:
        problems.append(_calibration_problem(st.cal, obs, st.first, st.last, times, st.freq))
    if st.kept == 0 or st.state is None:
        problems.append(Problem(time_col, f"has no rows up to observation_end ({show_time(obs, times)})",
                                fix="Pass a later observation_end."))
    raise_if(problems, _CONTEXT)
    assert st.state is not None
    ends = _Ends(obs, st.cal, as_metadata(obs, times, st.freq),
                 None if st.cal is None else as_metadata(st.cal, times, st.freq))
    ranked = st.ids.ranked()
    if isinstance(ranked, Problem):
        raise InvalidInputError([ranked], context=_CONTEXT)
    rank, uniques = ranked
    keys = st.state
    st.state = None
    coded = Codes(rank[keys.code], uniques.shape[0], uniques=uniques)
    with np.errstate(over="ignore"):
        agg = aggregate(coded.codes, coded.n_codes, keys.period, keys.spend, keys.hold, net=st.refunds == "net",
                        repeat_periods=not st.numeric and st.freq in _TIMELINE_UNITS)
    del keys
    if agg.customers.shape[0] == 0:
        raise InvalidInputError([Problem(amount_col, "has no customer-period with a positive net total",
                                         fix="With refunds='net' only periods of positive net spend count.")],
                                context=_CONTEXT)
    if agg.spend_repeat is not None:
        _overflow_problem(agg, coded, amount_col, _CONTEXT)
    return _build_summary(agg, coded, times, ends, st.freq)
