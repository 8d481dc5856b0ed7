"""Grouping equal rows of several columns: the engine behind compression (weights + inverse index)."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

__all__ = ["unique_rows"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

_KEY_LIMIT = 2**62


#: Grids a column of times is often on, as steps per unit: days in weeks (1/7), hours in days or weeks, minutes in
#: days or weeks, days in 30-day months and in 365-day years.
_GRIDS = (7, 24, 168, 1440, 10080, 30, 365)
_SAMPLE = 4096


def _on_grid(col: FloatArray, m: int) -> IntArray | None:
    """``round(col * m)`` when that is an exact code of every value (``q / m`` or ``q * (1/m)``, the two ways a unit
    conversion writes a value, gives the value back), else ``None``. Exactness makes the codes one-to-one."""
    q = np.rint(col * m)
    if np.array_equal(q / m, col) or np.array_equal(q * (1.0 / m), col):
        return q.astype(np.int64)
    return None


def _codes(col: FloatArray) -> tuple[IntArray, int, FloatArray | None]:
    """Integer codes of a column preserving order: the values themselves when they are small whole
    numbers, or their steps on a grid such as days in weeks (no sort needed), else ranks from ``np.unique``;
    plus the code range and the value table (``None`` for grid codes)."""
    if col.shape[0]:
        lo, hi = float(col.min()), float(col.max())
        if lo >= 0 and hi < 2**31 and np.array_equal(col, np.floor(col)):
            return col.astype(np.int64), int(hi) + 1, None
        if math.isfinite(lo) and math.isfinite(hi):
            for m in _GRIDS:
                if max(abs(lo), abs(hi)) * m >= 2**31:
                    continue
                if _on_grid(col[:_SAMPLE], m) is None:
                    continue
                q = _on_grid(col, m)
                if q is not None:
                    base = int(q.min())
                    q -= base
                    return q, int(q.max()) + 1, None
    values, inverse = np.unique(col, return_inverse=True)
    return inverse.astype(np.int64).reshape(-1), int(values.shape[0]), values


#: Keys spanning at most ``_DENSE_FACTOR * n + _DENSE_MIN`` values are grouped through a table over the span (no sort),
#: and for few rows at most ``_SORT_COST * n * log2(n)`` (see :func:`_table_limit`).
_DENSE_FACTOR = 8
_DENSE_MIN = 1 << 20
_SORT_COST = 16


def _table_limit(n: int) -> int:
    """The largest key span grouped through a table for ``n`` rows.

    A table costs about one pass over its span; a sort about ``n log2 n`` comparisons of ~16 table cells each. For
    large ``n`` the span is capped at ``_DENSE_FACTOR * n + _DENSE_MIN`` (memory); for small ``n`` (a request of a
    thousand customers) a 1M-cell table would cost ten times the sort, so the cap is the sort's cost.
    """
    return min(_DENSE_FACTOR * n + _DENSE_MIN, max(_DENSE_FACTOR * n, _SORT_COST * n * max(1, n.bit_length())))


def _dense_unique(key: IntArray, span: int) -> tuple[IntArray, npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """``np.unique(key, return_index=True, return_inverse=True)`` for keys in ``[0, span)``, in O(n + span).

    The index of each distinct key is one of its rows (the last), which is all callers use it for.
    """
    present = np.zeros(span, dtype=bool)
    present[key] = True
    rank = np.cumsum(present, dtype=np.int64 if span >= 2**31 else np.int32)
    rank -= 1
    inverse = rank[key].astype(np.intp)
    ukey = np.flatnonzero(present).astype(np.int64)
    first = np.empty(ukey.shape[0], dtype=np.intp)
    first[inverse] = np.arange(key.shape[0], dtype=np.intp)
    return ukey, first, inverse


def _dense_rank(key: IntArray, span: int) -> tuple[IntArray, int]:
    """Each key's rank among the distinct keys (keys in ``[0, span)``, order kept) and the number of distinct keys."""
    present = np.zeros(span, dtype=bool)
    present[key] = True
    rank = np.cumsum(present, dtype=np.int64 if span >= 2**31 else np.int32)
    rank -= 1
    return rank[key].astype(np.int64), int(rank[-1]) + 1


def unique_rows(
    columns: list[FloatArray], weights: FloatArray
) -> tuple[list[FloatArray], FloatArray, npt.NDArray[np.intp]]:
    """Distinct rows of ``columns`` (in lexicographic order), their summed ``weights`` and each row's group.

    ``inverse`` satisfies ``unique[j][inverse] == columns[j]`` for every column ``j``. Columns are coded
    as integers (whole-number columns as they are, others by rank) and packed into one int64 key, so
    grouping is a single ``np.unique``, or a table over the key's span when that is small; a prefix of columns
    whose packed key is dense but would grow too sparse with the next column is first replaced by the ranks of its
    distinct combinations. When the key would overflow it falls back to a lexsort.
    """
    n = weights.shape[0]
    if n == 0:
        return [c[:0] for c in columns], weights[:0], np.zeros(0, dtype=np.intp)
    coded = [_codes(c) for c in columns]
    limit = _table_limit(n)
    key = coded[0][0].copy()
    span = max(coded[0][1], 1)
    packed = True
    for codes, size, _ in coded[1:]:
        size = max(size, 1)
        if span * size > limit and span <= limit:
            # The packed key would be too sparse for a table: first replace the columns packed so far by the
            # ranks of their distinct combinations (O(n + span), order kept), so the span stays near n x size.
            key, span = _dense_rank(key, span)
        if span * size >= _KEY_LIMIT:
            packed = False
            break
        key *= size
        key += codes
        span *= size
    if packed:
        if span <= limit:
            ukey, first, inverse = _dense_unique(key, span)
        else:
            ukey, first, inverse = np.unique(key, return_index=True, return_inverse=True)
            inverse = inverse.reshape(-1)
        summed = np.bincount(inverse, weights=weights, minlength=ukey.shape[0]).astype(np.float64)
        return [c[first] for c in columns], summed, inverse.astype(np.intp)
    order = np.lexsort(columns[::-1])
    sorted_cols = [c[order] for c in columns]
    new_group = np.zeros(n, dtype=bool)
    new_group[0] = True
    for c in sorted_cols:
        new_group[1:] |= c[1:] != c[:-1]
    group_sorted = np.cumsum(new_group) - 1
    inv = np.empty(n, dtype=np.intp)
    inv[order] = group_sorted
    starts = np.flatnonzero(new_group)
    summed_sorted = np.bincount(group_sorted, weights=weights[order]).astype(np.float64)
    return [c[starts] for c in sorted_cols], summed_sorted, inv
