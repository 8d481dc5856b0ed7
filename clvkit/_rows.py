"""Grouping equal rows of several columns: the engine behind compression (weights + inverse index)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["unique_rows"]

FloatArray = npt.NDArray[np.float64]


def unique_rows(
    columns: list[FloatArray], weights: FloatArray
) -> tuple[list[FloatArray], FloatArray, npt.NDArray[np.intp]]:
    """Distinct rows of ``columns`` (sorted), their summed ``weights`` and each input row's group.

    ``inverse`` satisfies ``unique[j][inverse] == columns[j]`` for every column ``j``. One lexsort plus
    linear passes; no Python loop over rows.
    """
    n = weights.shape[0]
    if n == 0:
        return [c[:0] for c in columns], weights[:0], np.zeros(0, dtype=np.intp)
    order = np.lexsort(columns[::-1])
    sorted_cols = [c[order] for c in columns]
    new_group = np.zeros(n, dtype=bool)
    new_group[0] = True
    for c in sorted_cols:
        new_group[1:] |= c[1:] != c[:-1]
    group_sorted = np.cumsum(new_group) - 1
    inverse = np.empty(n, dtype=np.intp)
    inverse[order] = group_sorted
    starts = np.flatnonzero(new_group)
    summed = np.bincount(group_sorted, weights=weights[order]).astype(np.float64)
    return [c[starts] for c in sorted_cols], summed, inverse.astype(np.intp)
