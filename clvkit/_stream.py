"""Streaming input to :func:`clvkit.summarize`: a log read batch by batch, with bounded memory.

A polars ``LazyFrame``, a ``pyarrow.dataset.Dataset``, a ``pyarrow.RecordBatchReader`` or an iterable of eager
frames is read one batch at a time. Each batch goes through the same column checks as an in-memory log
(:mod:`clvkit._summarize`'s readers: ids, the time column and ``datetime_format``, amounts and refunds), its rows
are floored to periods, and it is reduced to its distinct ``(customer, period, holdout)`` keys. Those keys are
merged into one sorted state: a customer-period seen in two batches is one key, so distinct periods that span
batches are never counted twice. Spend is kept per key under ``refunds="net"`` (a refund netted in a later batch
is added to the period's total before the total's sign is read) and otherwise per customer (first period, its
spend, the spend of later periods). When the stream ends, the keys are laid out the way
:func:`clvkit._aggregate.aggregate` lays out a whole log and read with its steps, and the summary is built by
:func:`clvkit.summarize`'s own builder, so every definition (frequency, recency, ``T``, repeat spend without the
first period, holdout columns, purchase times, refunds) is :func:`summarize`'s.

The observation end is fixed once, in one pass: rows only need it to be checked (without ``calibration_end``,
an explicit end with rows after it is an error) or cut (with ``calibration_end``, rows after an explicit end
are left out); ``T`` and the holdout duration are computed after the last batch, from the given end or else the
last transaction over all batches (``T`` is deferred, so a one-pass iterator works and nothing is read twice).

Memory (see :class:`_State`): the batch being read (its columns and the temporaries of its checks, a few times
its size); one int64 per distinct key (two under ``refunds="net"``, with the key's net spend); per customer its
code in the id table (16 bytes for numeric ids, a dict entry for others) and, with amounts, four numbers. Merging a
batch's keys copies the keys once (a stable sort of the two sorted runs); after the last batch the keys are re-packed
in place and read a block at a time, so the peak stays near twice the keys plus the repeat purchase times returned.
A rejected alternative: keeping each batch's keys and merging them all at the end (or only now and then) - fewer
passes over the state, but up to twice the keys in memory, and memory is what a stream is for.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from ._aggregate import Aggregate, _KeyLayout, _netted_spend, _new_runs, _run_starts, _Runs
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
            "pyarrow.RecordBatchReader, or an iterable (e.g. a generator) of such DataFrames, Tables or mappings "
            "(for files on disk: pyarrow.dataset.dataset(path) or polars.scan_parquet(path))")


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
    elif root == "dask":
        raise InvalidInputError(f"{_CONTEXT} needs {ACCEPTED}. Got a Dask {type(obj).__name__}: summarize it with "
                                f"clvkit.dask.summarize, which keeps the work on the Dask workers.")
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
        if uniques.dtype.kind == "O":  # Python numbers (e.g. floats in an object column) are numbers in any batch
            values = uniques.tolist()
            if values and all(isinstance(v, (int, float, np.integer, np.floating))
                              and not isinstance(v, (bool, np.bool_)) for v in values):
                uniques = np.array(values)
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
            first: IntArray = self.sorted_codes.copy()
            return first
        held = self.sorted_ids
        if held.dtype != uniques.dtype:
            common = np.result_type(held.dtype, uniques.dtype)
            if (common.kind == "f" and "f" not in (held.dtype.kind, uniques.dtype.kind)) or common.kind == "O":
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
_NO_PERIOD = np.iinfo(np.int64).max  # "no calibration purchase yet" in the per-customer first period
_BLOCK = 1 << 16  # keys re-packed at a time after the last batch (temporaries of a few MB)
_END = object()  # the end of the batches (a batch may be anything, None included: it is then reported)


class _State:
    """The distinct ``(customer, period, holdout)`` keys of every batch so far, and the spend they need.

    A key is one int64, ``code << (bits + shift) | period code << shift | holdout``, where the customer code comes
    from the id table and the period code from a table of the distinct periods (so the packing never depends
    on how far apart the periods are); the keys are held sorted and distinct, and a batch's keys are merged in
    with one ``searchsorted`` and one ``np.insert`` (a copy of the state, no sort of it). ``bits`` grows (by
    re-packing the keys, which keeps their order) when the period table outgrows it.

    Spend: under ``refunds="net"`` each key keeps its summed amount, since whether a customer-period counts
    depends on the sign of its net total over all batches. Otherwise spend is kept per customer, not per key:
    the first calibration period, the spend in it and the spend in later calibration periods (a period found
    earlier than the first moves the old first period's spend to the repeats, so nothing is subtracted and no
    precision is lost), and the holdout spend.
    """

    def __init__(self, holdout: bool, net: bool, monetary: bool) -> None:
        self.shift = 1 if holdout else 0
        self.bits = 10  # period codes < 2**bits
        self.keys: IntArray = np.zeros(0, dtype=np.int64)
        self.key_spend: FloatArray | None = np.zeros(0) if net and monetary else None
        self.per_customer = monetary and not net
        self.first: IntArray = np.zeros(0, dtype=np.int64)
        self.first_spend: FloatArray = np.zeros(0)
        self.repeat_spend: FloatArray = np.zeros(0)
        self.hold_spend: FloatArray = np.zeros(0)

    @property
    def size(self) -> int:
        return int(self.keys.shape[0])

    def fit_periods(self, n_periods: int) -> None:
        """Room for ``n_periods`` period codes: re-pack the keys when ``bits`` must grow (their order is kept)."""
        if n_periods <= 1 << self.bits:
            return
        bits = max(self.bits + 1, int(n_periods - 1).bit_length() + 1)
        old, low = self.bits + self.shift, (1 << (self.bits + self.shift)) - 1
        for i in range(0, self.keys.shape[0], _BLOCK):  # in place, a block at a time
            block = self.keys[i:i + _BLOCK]
            block[...] = ((block >> old) << (bits + self.shift)) | (block & low)
        self.bits = bits

    def fit_customers(self, n_codes: int, context: str, column: str) -> None:
        if n_codes >= 1 << (62 - self.bits - self.shift):
            raise InvalidInputError([Problem(column, f"has {n_codes} customers and the periods "
                                             f"{1 << self.bits} distinct values: too many to pack in 64 bits",
                                             fix="Use a coarser time_unit or split the customers into groups "
                                                 "(see the chunking route in summarize()'s notes).")],
                                    context=context)
        if self.per_customer and n_codes > self.first.shape[0]:
            size = n_codes  # whole-array updates run over every customer: no spare room

            def grown(a: npt.NDArray[Any], fill: Any) -> Any:
                out = np.full(size, fill, dtype=a.dtype)
                out[:a.shape[0]] = a
                return out

            self.first = grown(self.first, _NO_PERIOD)
            self.first_spend, self.repeat_spend = grown(self.first_spend, 0.0), grown(self.repeat_spend, 0.0)
            if self.shift:
                self.hold_spend = grown(self.hold_spend, 0.0)

    def add(self, code: IntArray, pcode: IntArray, hold: BoolArray | None, amounts: FloatArray | None) -> None:
        """Merge a batch's rows (global customer codes, period codes, holdout flags, amounts); ``code`` and
        ``pcode`` are fresh arrays, used up in place."""
        key = code
        key <<= self.bits + self.shift
        if hold is not None:
            pcode <<= self.shift
            key |= pcode
            key |= hold
        else:
            key |= pcode
        del code, pcode
        spend = None
        if self.key_spend is not None and amounts is not None:
            order = np.argsort(key)
            key = key[order]
            starts = _run_starts(key)
            spend = np.add.reduceat(amounts[order], starts)
            del order
            key = key[starts]
        else:  # (np.unique hashes in numpy 2.4, much slower than a sort of int64 here)
            key.sort()
            key = key[_run_starts(key)]
        if spend is None:
            # Both parts are sorted: numpy's stable sort (timsort) merges the two runs in linear time, and
            # a key of both parts is then two neighbours, kept once. (np.insert at searchsorted positions was
            # 5x slower: a binary search per key into the whole state.)
            merged = np.concatenate([self.keys, key])
            self.keys = np.zeros(0, dtype=np.int64)
            del key
            merged.sort(kind="stable")
            self.keys = merged[_new_runs(merged)]
            return
        pos = np.searchsorted(self.keys, key)
        found = pos < self.keys.shape[0]
        found[found] = self.keys[pos[found]] == key[found]
        new = ~found
        if self.key_spend is not None:
            self.key_spend[pos[found]] += spend[found]
            self.key_spend = np.insert(self.key_spend, pos[new], spend[new])
        self.keys = np.insert(self.keys, pos[new], key[new])

    def add_spend(self, code: IntArray, period: IntArray, hold: BoolArray | None, amounts: FloatArray) -> None:
        """Update each customer's first period, first-period spend, repeat spend and holdout spend.

        Whole-array updates over every customer seen so far (contiguous, no random gathers): a customer absent
        from the batch adds zeros, which changes no float.
        """
        n = int(self.first.shape[0])
        b_first = np.full(n, _NO_PERIOD, dtype=np.int64)
        if hold is None:
            np.minimum.at(b_first, code, period)
            in_first = period == b_first[code]
            not_first = ~in_first
        else:
            np.minimum.at(b_first, code[~hold], period[~hold])
            in_first = ~hold & (period == b_first[code])
            not_first = ~hold & ~in_first
            self.hold_spend += np.bincount(code, weights=np.where(hold, amounts, 0.0), minlength=n)
        b_sf = np.bincount(code, weights=np.where(in_first, amounts, 0.0), minlength=n)
        del in_first
        rep = self.repeat_spend
        rep += np.bincount(code, weights=np.where(not_first, amounts, 0.0), minlength=n)
        del not_first
        g_first, g_sf = self.first, self.first_spend
        later = b_first > g_first
        rep += np.where(later, b_sf, 0.0)  # the batch's first period is a repeat of an earlier one
        rep += np.where(b_first < g_first, g_sf, 0.0)  # an earlier period found: the old first is a repeat
        same = b_first == g_first
        self.first_spend = np.where(later, g_sf, b_sf)
        self.first_spend[same] += g_sf[same]
        np.minimum(g_first, b_first, out=g_first)

    def aggregate(self, rank: IntArray, sorted_periods: IntArray, period_rank: IntArray,
                  repeat_periods: bool) -> Aggregate:
        """The per-customer aggregate of every key, as :func:`clvkit._aggregate.aggregate` gives a whole log.

        The keys are re-packed in place, block by block, as ``(customer rank, period rank, holdout)`` - the
        layout ``aggregate`` uses for periods too far apart to pack - and sorted in place; from there its own
        steps read the runs, purchase periods and holdout counts. Nothing the size of the log is rebuilt.
        The state's keys are consumed.
        """
        keys, self.keys = self.keys, np.zeros(0, dtype=np.int64)
        old, shift = self.bits + self.shift, self.shift
        new = max(1, int(sorted_periods.shape[0] - 1).bit_length()) + shift
        period_mask = (1 << self.bits) - 1
        for i in range(0, keys.shape[0], _BLOCK):
            block = keys[i:i + _BLOCK]
            packed = rank[block >> old] << new
            packed |= period_rank[(block >> shift) & period_mask] << shift
            if shift:
                packed |= block & 1
            block[...] = packed
        del block, packed
        n_codes = int(rank.shape[0])
        layout = _KeyLayout(1 << new, shift, 0, sorted_periods)
        totals = None
        if self.key_spend is not None:  # refunds="net": a customer-period counts when its net total is positive
            order = np.argsort(keys)
            keys, spend = keys[order], self.key_spend[order]
            del order
            self.key_spend = None
            positive = spend > 0
            keys, totals = keys[positive], spend[positive]
            del spend, positive
        else:
            keys.sort()
        hold_customer, in_cal = None, None
        if shift:
            in_cal = (keys & 1) == 0
            hold_customer = keys[~in_cal] // layout.stride
            keys = keys[in_cal]
        runs, repeats = _runs_blockwise(keys, layout, repeat_periods)
        del keys
        n_hold = None if hold_customer is None else np.bincount(hold_customer, minlength=n_codes)[runs.customers]
        spend_repeat = spend_hold = None
        if totals is not None:
            spend_repeat, spend_hold = _netted_spend(totals, in_cal, hold_customer, runs, n_codes)
        elif self.per_customer:  # spend kept per customer: read it off in the summary's (id) order
            code_of_rank = np.empty(n_codes, dtype=np.int64)
            code_of_rank[rank] = np.arange(n_codes, dtype=np.int64)
            of = code_of_rank[runs.customers]
            spend_repeat = self.repeat_spend[of]
            spend_hold = self.hold_spend[of] if shift else None
        n_periods = (runs.ends - runs.starts).astype(np.int64)
        return Aggregate(runs.customers, runs.first, runs.last, n_periods, spend_repeat,
                         None if n_hold is None else n_hold.astype(np.int64), spend_hold, repeats)


def _runs_blockwise(keys: IntArray, layout: _KeyLayout, repeat_periods: bool) -> tuple[_Runs, FloatArray | None]:
    """Each customer's run of sorted calibration keys and its repeat purchase periods (``aggregate``'s
    ``_customer_runs`` and ``_repeat_periods``), computed a block at a time so that no temporary the size of
    the keys is made besides the repeat periods returned."""
    assert layout.decode_period is not None
    n = int(keys.shape[0])
    new = np.empty(n, dtype=bool)
    previous = -1
    for i in range(0, n, _BLOCK):
        customer = keys[i:i + _BLOCK] // layout.stride
        new[i] = customer[0] != previous
        np.not_equal(customer[1:], customer[:-1], out=new[i + 1:i + customer.shape[0]])
        previous = int(customer[-1])
    starts = np.flatnonzero(new)
    ends = np.empty_like(starts)
    ends[:-1] = starts[1:]
    ends[-1:] = n
    first = layout.decode_period[(keys[starts] % layout.stride) >> layout.shift]
    last = layout.decode_period[(keys[ends - 1] % layout.stride) >> layout.shift]
    runs = _Runs(starts, ends, keys[starts] // layout.stride, first, last)
    if not repeat_periods:
        return runs, None
    out = np.empty(n - starts.shape[0], dtype=np.float64)
    done = 0
    runs_before = 0
    for i in range(0, n, _BLOCK):
        block = keys[i:i + _BLOCK]
        owner = np.cumsum(new[i:i + block.shape[0]], dtype=np.int64)
        owner += runs_before - 1
        runs_before = int(owner[-1]) + 1
        rel = layout.decode_period[(block % layout.stride) >> layout.shift] - first[owner]
        rel = rel[~new[i:i + block.shape[0]]]
        out[done:done + rel.shape[0]] = rel
        done += rel.shape[0]
    return runs, out


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
    state: _State | None = None
    periods: _IdTable | None = None


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
    state, periods_table = st.state, st.periods
    assert state is not None and periods_table is not None
    local, to_global = _global_codes(st.ids, coded, context)
    periods = to_periods(values, times.numeric, st.freq)
    holdout = None if st.cal is None else values > same_unit(st.cal, values)
    del values
    p_local, p_to_global = _global_codes(periods_table, code_ids(periods), context)
    state.fit_customers(len(st.ids), context, id_col)
    state.fit_periods(len(periods_table))
    code = to_global[local]
    with np.errstate(over="ignore"):  # an overflowing total is reported after the last batch, like summarize()'s
        if state.per_customer and amounts is not None:
            state.add_spend(code, periods, holdout, amounts)
        state.add(code, p_to_global[p_local], holdout, amounts)


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


def _global_codes(table: _IdTable, coded: Codes, context: str) -> tuple[IntArray, IntArray]:
    """A batch's codes, and the table's code of each (the table learns the values it had not seen)."""
    present = np.zeros(coded.n_codes, dtype=bool)
    present[coded.codes] = True
    local = np.flatnonzero(present)
    got = table.codes_of(coded.decode(local))
    if isinstance(got, Problem):
        raise InvalidInputError([got], context=context)
    to_global = np.zeros(coded.n_codes, dtype=np.int64)
    to_global[local] = got
    return coded.codes, to_global


# ---------------------------------------------------------------------------------------------- driver
def summarize_stream(source: Any, kind: str, *, customer_id: str, datetime: str, monetary_value: str | None,
                     freq: str, observation_end: Any, calibration_end: Any, refunds: str,
                     datetime_format: str | None, batch_size: int) -> CustomerSummary:
    """:func:`clvkit.summarize` of a stream (the parameters are checked by the caller); see the module notes."""
    names = (customer_id, datetime, monetary_value or "")
    st = _Stream(_IdTable(customer_id), names, freq, refunds, datetime_format, observation_end, calibration_end,
                 state=_State(calibration_end is not None, refunds == "net", monetary_value is not None),
                 periods=_IdTable("periods"))
    needed = [n for n in dict.fromkeys(names) if n]
    batches = _batches(source, kind, needed, batch_size)
    index = 0
    while (frame := next(batches, _END)) is not _END:
        _add_batch(st, frame, index)
        del frame  # before the next batch is read: one batch held at a time
        index += 1
    return _finish(st)


def _finish(st: _Stream) -> CustomerSummary:
    _, time_col, amount_col = st.names
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
    state, periods_table = st.state, st.periods
    if st.kept == 0 or state is None or periods_table is None or state.size == 0:
        problems.append(Problem(time_col, f"has no rows up to observation_end ({show_time(obs, times)})",
                                fix="Pass a later observation_end."))
    raise_if(problems, _CONTEXT)
    assert state is not None and periods_table is not None and periods_table.sorted_ids is not None
    ends = _Ends(obs, st.cal, as_metadata(obs, times, st.freq),
                 None if st.cal is None else as_metadata(st.cal, times, st.freq))
    ranked = st.ids.ranked()
    if isinstance(ranked, Problem):
        raise InvalidInputError([ranked], context=_CONTEXT)
    rank, uniques = ranked
    period_rank = np.empty(len(periods_table), dtype=np.int64)
    period_rank[periods_table.sorted_codes] = np.arange(len(periods_table), dtype=np.int64)
    with np.errstate(over="ignore"):
        agg = state.aggregate(rank, periods_table.sorted_ids.astype(np.int64), period_rank,
                              repeat_periods=not st.numeric and st.freq in _TIMELINE_UNITS)
    coded = Codes(np.zeros(0, dtype=np.int64), uniques.shape[0], uniques=uniques)
    if agg.customers.shape[0] == 0:
        raise InvalidInputError([Problem(amount_col, "has no customer-period with a positive net total",
                                         fix="With refunds='net' only periods of positive net spend count.")],
                                context=_CONTEXT)
    if agg.spend_repeat is not None:
        _overflow_problem(agg, coded, amount_col, _CONTEXT)
    return _build_summary(agg, coded, times, ends, st.freq)
