"""The summary kernel: per-customer purchase periods and spend from per-row customer codes and periods.

Pure numpy (no validation, no entities): rows are packed into one int64 key per row and sorted once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

__all__ = ["Aggregate", "aggregate", "factorize"]

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]


def factorize(values: npt.NDArray[Any]) -> tuple[npt.NDArray[Any], IntArray]:
    """Sorted distinct values and the code of each value (one argsort; numpy's ``unique`` is slower)."""
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    new = _new_runs(ordered)
    codes = np.empty(values.shape[0], dtype=np.int64)
    codes[order] = np.cumsum(new) - 1
    return ordered[new], codes


@dataclass
class Aggregate:
    """Per customer (by code, ascending): purchase periods and spend, in calibration and holdout."""

    customers: IntArray  # customer codes, ascending
    first: IntArray  # first purchase period
    last: IntArray
    n_periods: IntArray
    spend_repeat: FloatArray | None  # total spend over the repeat periods
    n_periods_holdout: IntArray | None
    spend_holdout: FloatArray | None
    #: Each repeat purchase period minus the customer's first one (a whole number, as float64), customer after
    #: customer in ``customers`` order, ascending within a customer (``n_periods - 1`` each); ``None`` unless
    #: asked for.
    repeat_periods: FloatArray | None = None


def aggregate(codes: IntArray, n_codes: int, periods: IntArray, amounts: FloatArray | None,
              holdout: BoolArray | None, net: bool, *, repeat_periods: bool = False) -> Aggregate:
    """Per-customer purchase periods and spend from per-row customer codes and periods.

    Rows are encoded as one int64 key ``(code, period, is_holdout)`` and sorted; runs of equal keys are
    the distinct customer-periods. Without netting, spend never needs the sorted order: the repeat spend
    of a customer is the sum of its rows outside its first period (``np.bincount``), so only the key is
    sorted (``np.sort`` is several times faster than ``np.argsort``, and no permutation is stored).
    Full-size arrays are built in place where possible: this runs on the whole log. With
    ``repeat_periods`` the repeat purchase periods are read off the same sorted keys (no second sort).
    """
    pair_key, totals, layout = _customer_periods(codes, n_codes, periods, holdout, amounts if net else None)
    hold_customer = None
    in_cal = None
    if holdout is not None:
        in_cal = (pair_key & 1) == 0
        hold_customer = pair_key[~in_cal] // layout.stride
        pair_key = pair_key[in_cal]
    runs = _customer_runs(pair_key, layout)
    repeats = _repeat_periods(pair_key, runs, layout) if repeat_periods else None
    n_hold: IntArray | None = None
    if hold_customer is not None:
        n_hold = np.bincount(hold_customer, minlength=n_codes)[runs.customers].astype(np.int64)
    spend_repeat: FloatArray | None = None
    spend_hold: FloatArray | None = None
    if amounts is not None and totals is not None:  # netted: everything at the customer-period level
        spend_repeat, spend_hold = _netted_spend(totals, in_cal, hold_customer, runs, n_codes)
    elif amounts is not None:
        del pair_key
        spend_repeat, spend_hold = _row_spend(codes, periods, amounts, holdout, runs, n_codes)
    n_periods = (runs.ends - runs.starts).astype(np.int64)
    return Aggregate(runs.customers, runs.first, runs.last, n_periods, spend_repeat, n_hold, spend_hold, repeats)


# ---------------------------------------------------------------------------------------------- steps
class _KeyLayout(NamedTuple):
    """How a row is packed into one int64: ``code * stride + (period - pmin) * 2**shift + is_holdout``."""

    stride: int
    shift: int  # 1 with a holdout flag in the lowest bit, else 0
    pmin: int
    decode_period: IntArray | None  # period of each rank, when periods are packed as ranks


def _pack_keys(codes: IntArray, n_codes: int, periods: IntArray,
               holdout: BoolArray | None) -> tuple[IntArray, _KeyLayout]:
    pmin = int(periods.min())
    span = int(periods.max()) - pmin + 1
    shift = 0 if holdout is None else 1
    key_periods = periods
    decode_period: npt.NDArray[np.int64] | None = None
    if n_codes * (span << shift) >= 2**62:  # too many periods to pack: only their order matters, use ranks
        decode_period, key_periods = factorize(periods)
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
    return key, _KeyLayout(stride, shift, pmin, decode_period)


def _customer_periods(codes: IntArray, n_codes: int, periods: IntArray, holdout: BoolArray | None,
                      net_amounts: FloatArray | None) -> tuple[IntArray, FloatArray | None, _KeyLayout]:
    """The sorted distinct keys (customer-periods) and, when netting, their totals (only positive ones kept)."""
    key, layout = _pack_keys(codes, n_codes, periods, holdout)
    if net_amounts is None:
        key.sort()
        return key[_run_starts(key)], None, layout
    order = np.argsort(key)
    key = key[order]
    sorted_amounts = net_amounts[order]
    del order
    run = _run_starts(key)
    pair_key = key[run]
    del key
    totals = np.add.reduceat(sorted_amounts, run) if run.size else np.zeros(0)
    del sorted_amounts, run
    positive = totals > 0
    return pair_key[positive], totals[positive], layout


class _Runs(NamedTuple):
    """Each customer's run of distinct calibration periods in the sorted keys."""

    starts: npt.NDArray[np.intp]
    ends: npt.NDArray[np.intp]
    customers: IntArray
    first: IntArray  # first purchase period
    last: IntArray


def _customer_runs(pair_key: IntArray, layout: _KeyLayout) -> _Runs:
    pair_customer = pair_key // layout.stride
    starts = _run_starts(pair_customer)
    customers = pair_customer[starts]
    del pair_customer
    ends = np.empty_like(starts)
    ends[:-1] = starts[1:]
    ends[-1:] = pair_key.shape[0]
    first = (pair_key[starts] % layout.stride) >> layout.shift
    last = (pair_key[ends - 1] % layout.stride) >> layout.shift
    if layout.decode_period is None:
        first += layout.pmin
        last += layout.pmin
    else:
        first, last = layout.decode_period[first], layout.decode_period[last]
    return _Runs(starts, ends, customers, first, last)


def _repeat_periods(pair_key: IntArray, runs: _Runs, layout: _KeyLayout) -> FloatArray:
    """Each customer's purchase periods after its first, minus its first, from the sorted calibration keys.

    Within a customer's run the keys differ only by ``(period - first) * 2**shift`` (same code, holdout bit 0),
    so subtracting the run's first key gives the offsets without decoding, unless periods are packed as ranks.
    The difference is written as float64 at once (exact: packed keys stay below 2**62 and the differences of
    periods below 2**53 in any datetime64 log), saving a pass over the log to convert afterwards.
    """
    counts = runs.ends - runs.starts
    rel = np.empty(pair_key.shape[0], dtype=np.float64)
    if layout.decode_period is None:
        np.subtract(pair_key, np.repeat(pair_key[runs.starts], counts), out=rel, casting="unsafe")
        if layout.shift:
            rel *= 0.5**layout.shift  # a power of two: exact
    else:
        periods = layout.decode_period[(pair_key % layout.stride) >> layout.shift]
        np.subtract(periods, np.repeat(runs.first, counts), out=rel, casting="unsafe")
    repeat = np.ones(rel.shape[0], dtype=bool)
    repeat[runs.starts] = False  # each run's first key is the first purchase period, not a repeat
    return rel[repeat]


def _netted_spend(totals: FloatArray, in_cal: BoolArray | None, hold_customer: IntArray | None, runs: _Runs,
                  n_codes: int) -> tuple[FloatArray, FloatArray | None]:
    """Repeat and holdout spend from the net totals of the customer-periods."""
    cal_totals = totals if in_cal is None else totals[in_cal]
    repeat_totals = cal_totals.copy()
    repeat_totals[runs.starts] = 0.0
    spend_repeat = np.add.reduceat(repeat_totals, runs.starts) if runs.starts.size else np.zeros(0)
    spend_hold = None
    if hold_customer is not None and in_cal is not None:
        spend_hold = _sum_by(hold_customer, totals[~in_cal], n_codes)[runs.customers]
    return spend_repeat, spend_hold


def _row_spend(codes: IntArray, periods: IntArray, amounts: FloatArray, holdout: BoolArray | None, runs: _Runs,
               n_codes: int) -> tuple[FloatArray, FloatArray | None]:
    """Repeat and holdout spend summed straight from the rows (no sorted order needed)."""
    first_of_code = np.full(n_codes, np.iinfo(np.int64).min, dtype=np.int64)
    first_of_code[runs.customers] = runs.first
    repeat_row = periods != first_of_code[codes]
    del first_of_code
    spend_hold = None
    if holdout is not None:
        repeat_row &= ~holdout
        spend_hold = _sum_by(codes, np.where(holdout, amounts, 0.0), n_codes)[runs.customers]
    return _sum_by(codes, np.where(repeat_row, amounts, 0.0), n_codes)[runs.customers], spend_hold


def _new_runs(sorted_values: npt.NDArray[Any]) -> BoolArray:
    """Where a run of equal values starts in a sorted array, as a mask."""
    new = np.empty(sorted_values.shape[0], dtype=bool)
    new[:1] = True
    np.not_equal(sorted_values[1:], sorted_values[:-1], out=new[1:])
    return new


def _run_starts(sorted_values: npt.NDArray[Any]) -> npt.NDArray[np.intp]:
    """Positions where a run of equal values starts in a sorted array."""
    return np.flatnonzero(_new_runs(sorted_values))


def _sum_by(codes: IntArray, weights: FloatArray, n_codes: int) -> FloatArray:
    """Sum of ``weights`` per code (``np.bincount``; its stubs claim an integer result)."""
    out: FloatArray = np.bincount(codes, weights=weights, minlength=n_codes).astype(np.float64, copy=False)
    return out
