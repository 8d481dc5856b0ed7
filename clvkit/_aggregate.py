"""The summary kernel: per-customer purchase periods and spend from per-row customer codes and periods.

Pure numpy (no validation, no entities): rows are packed into one int64 key per row and sorted once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["Aggregate", "aggregate", "factorize"]

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]


def factorize(values: npt.NDArray[Any]) -> tuple[npt.NDArray[Any], IntArray]:
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


@dataclass
class Aggregate:
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


def aggregate(codes: IntArray, n_codes: int, periods: IntArray, amounts: FloatArray | None,
               holdout: BoolArray | None, net: bool) -> Aggregate:
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

    return Aggregate(customers, first, last, (ends - starts).astype(np.int64), spend_repeat, n_hold, spend_hold)
