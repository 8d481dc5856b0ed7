"""Array kernels of the tiering policies: pure functions of numpy arrays (no Pydantic, no I/O).

Speed notes (10M customers, measured on the project machine with numpy 2): one ``np.partition`` with a
single ``kth`` takes ~0.04 s, but with four ``kth`` values ~0.4 s, slower than a full ``np.sort``
(~0.15 s). :func:`order_statistics` therefore partitions once per rank, each time only the part of the
array below the previous rank (~0.12 s for four ranks). ``np.searchsorted(thresholds, x)`` costs ~0.4 s
for 10M values; summing one boolean comparison per threshold into int8 codes costs ~0.05 s for four
thresholds, so :func:`count_passed` compares when there are few thresholds and searches otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

#: dtype of tier codes and reason codes: one byte per customer keeps 10M-customer batches cheap; a policy
#: has at most 127 tiers. (Defined here, not in ``_assignment``: a kernel imports nothing above it.)
CODE_DTYPE = np.int8
IntArray = npt.NDArray[np.int8]

__all__ = [
    "CODE_DTYPE",
    "TIE_RULE",
    "IntArray",
    "add_scaled",
    "count_passed",
    "order_statistics",
    "quantile_scores",
    "rank_bounds",
    "rank_cut",
    "rank_scaled",
    "strict_quantile_thresholds",
    "tie_up_thresholds",
    "top_share_count",
    "top_share_threshold",
]

FloatArray = npt.NDArray[np.float64]

#: Up to this many thresholds, codes are sums of comparisons; beyond it, a binary search.
_COMPARE_MAX = 8


def rank_bounds(shares: Sequence[float], n: int) -> list[int]:
    """Rank boundaries of tiers holding ``shares`` (lowest tier first) of ``n`` customers.

    Boundary ``k`` is ``floor(n * (shares[0] + ... + shares[k-1]) + 1/2)``: cumulative rounding, so every
    tier holds its share of ``n`` to within one customer and the counts add up to ``n``.
    """
    cum = np.cumsum(np.asarray(shares, dtype=np.float64))[:-1]
    return [min(max(math.floor(n * c + 0.5), 0), n) for c in cum]


def _integer_order_statistics(x: FloatArray, ranks: Sequence[int]) -> dict[int, float] | None:
    """Order statistics by counting when ``x`` holds whole numbers spanning at most ``n`` values, else None.

    Purchase counts and day counts are such columns; they are also full of ties, which make
    ``np.partition`` several times slower, while counting costs one ``bincount``.
    """
    n = x.shape[0]
    lo, hi = float(x.min()), float(x.max())
    span = max(n, 1024)
    if not hi - lo <= span:
        return None
    # Non-negative columns (the usual counts) are counted as they are; shifting by the minimum costs two
    # more passes and a 8-byte-per-customer temporary, so it is done only when needed.
    origin = 0.0 if 0.0 <= lo and hi <= span else lo
    shifted = x - origin if origin else x
    whole = shifted.astype(np.intp)
    if not np.array_equal(whole, shifted):
        return None
    below = np.cumsum(np.bincount(whole))  # below[v]: how many values are <= origin + v
    pos = np.searchsorted(below, np.asarray(ranks, dtype=np.intp), side="right")
    return {r: origin + float(p) for r, p in zip(ranks, pos.tolist(), strict=True)}


def order_statistics(x: FloatArray, ranks: Sequence[int]) -> dict[int, float]:
    """Values at 0-based sorted positions ``ranks`` (each in ``[0, n)``) of ``x``, without sorting it.

    Whole-number columns are counted (:func:`_integer_order_statistics`); otherwise a copy is partitioned
    from the largest rank down, each time only the part below the previous rank.
    """
    if not ranks:
        return {}
    counted = _integer_order_statistics(x, ranks)
    if counted is not None:
        return counted
    work = x.copy()
    hi = work.shape[0]
    for r in sorted(set(ranks), reverse=True):
        work[:hi].partition(r)
        hi = r
    return {r: float(work[r]) for r in ranks}


def count_passed(x: FloatArray, thresholds: Sequence[float], *, strict: bool = False) -> IntArray:
    """For each value, how many of the increasing ``thresholds`` it reaches (``>=``; ``>`` if ``strict``)."""
    codes = np.zeros(x.shape[0], dtype=CODE_DTYPE)
    if len(thresholds) <= _COMPARE_MAX:
        for t in thresholds:
            # A bool array viewed as int8 is 0/1 without a conversion pass.
            codes += (x > t if strict else x >= t).view(CODE_DTYPE)
        return codes
    side: Any = "left" if strict else "right"
    found = np.searchsorted(np.asarray(thresholds, dtype=np.float64), x, side=side)
    codes[:] = found
    return codes


#: The tie rule of every rank or quantile cut (clvkit's rule, stated in every explanation): customers with equal
#: values are never split; when a boundary falls among them, **they all go to the higher tier**, so the tier
#: above a boundary may hold a little more than its share and the one below a little less.
TIE_RULE = "ties share the higher tier"


def tie_up_thresholds(x: FloatArray, bounds: Sequence[int]) -> list[float]:
    """The value of the customer at each 0-based ascending rank ``bounds[k]``: ``x >= threshold`` is the upper part.

    With distinct values exactly ``n - b`` customers reach the threshold of boundary ``b``; customers tied with
    the customer at rank ``b`` all reach it too (:data:`TIE_RULE`). ``-inf`` for ``b <= 0`` (everyone reaches
    it) and ``+inf`` for ``b >= n`` (no one does).
    """
    n = x.shape[0]
    values = order_statistics(x, [b for b in bounds if 0 < b < n])
    return [-math.inf if b <= 0 else math.inf if b >= n else values[b] for b in bounds]


def rank_cut(x: FloatArray, bounds: Sequence[int]) -> tuple[IntArray, dict[int, float]]:
    """Tier codes by rank: tier ``k`` starts at the customer at ascending rank ``bounds[k-1]`` (0-based).

    A customer's code is the number of boundaries whose value (the value of the customer at that rank) it
    reaches, ``x >= value``: customers with equal values always share a tier, the higher one
    (:data:`TIE_RULE`), whatever their ids or row order. Returns the codes and, for every boundary strictly
    inside ``(0, n)``, the value at that rank (the threshold of the upper tier).

    No full sort: the boundary values come from :func:`order_statistics`.
    """
    n = x.shape[0]
    inner = [b for b in bounds if 0 < b < n]
    thresholds = tie_up_thresholds(x, bounds)
    codes = count_passed(x, thresholds) if n else np.zeros(0, dtype=CODE_DTYPE)
    values = {b: t for b, t in zip(bounds, thresholds, strict=True) if b in inner}
    return codes, values


def top_share_count(share: float, n: int) -> int:
    """How many of ``n`` customers make the nominal top ``share``: ``floor(share * n + 1/2)``, at most ``n``."""
    return min(max(math.floor(share * n + 0.5), 0), n)


def top_share_threshold(x: FloatArray, share: float) -> float:
    """The value at which the top ``share`` of ``x`` starts: the value of the ``k``-th largest, ``k`` from
    :func:`top_share_count` (``inf`` when ``k`` is 0, ``-inf`` when it is ``n``). ``x >= threshold`` is the top
    share with the customers tied at the threshold (:data:`TIE_RULE`)."""
    n = x.shape[0]
    return tie_up_thresholds(x, [n - top_share_count(share, n)])[0]


def quantile_scores(x: FloatArray, quantiles: Sequence[float], higher_is_better: bool = True) -> IntArray:
    """Scores ``1 + #{cuts passed}`` with the cuts of :func:`strict_quantile_thresholds`.

    Equal values share a score, the *lower* one: RFM scores are the one exception to :data:`TIE_RULE`, because
    in a column full of ties (most customers make no repeat purchase) the higher score would give the
    customers who never came back a middle frequency score.

    For ``higher_is_better=False`` the score is that of ``-x`` - strictly *below* the value of the customer
    ranked ``m`` from the top - computed on ``x`` itself: ``-x > -x_(n-m)`` is ``x < x_(n-m)`` (0-based
    ascending rank), which saves negating the column.
    """
    n = x.shape[0]
    if higher_is_better:
        score = count_passed(x, strict_quantile_thresholds(x, quantiles), strict=True)
    else:
        ms = [math.floor(q * n + 0.5) for q in quantiles]
        values = order_statistics(x, [n - m for m in ms if 0 < m < n])
        cuts = [math.inf if m <= 0 else -math.inf if m >= n else values[n - m] for m in ms]
        score = np.zeros(n, dtype=CODE_DTYPE)
        for c in cuts:
            score += (x < c).view(CODE_DTYPE)
    score += np.int8(1)
    return score


def strict_quantile_thresholds(x: FloatArray, quantiles: Sequence[float]) -> list[float]:
    """Cut values such that ``x > cut`` holds for the customers ranked above quantile ``q``.

    The cut for ``q`` is the value of the customer at rank ``m = floor(q n + 1/2)`` (1-based, ascending):
    without ties exactly ``n - m`` customers lie strictly above it; tied customers stay together below the
    cut. ``-inf`` when ``m = 0`` (everyone passes), ``+inf`` when ``m >= n`` (no one does).
    """
    n = x.shape[0]
    ms = [math.floor(q * n + 0.5) for q in quantiles]
    inner = [m - 1 for m in ms if 0 < m < n]
    values = order_statistics(x, inner)
    cuts: list[float] = []
    for m in ms:
        if m <= 0:
            cuts.append(-math.inf)
        elif m >= n:
            cuts.append(math.inf)
        else:
            cuts.append(values[m - 1])
    return cuts


def _integer_rank_scaled(x: FloatArray) -> FloatArray | None:
    """:func:`rank_scaled` by counting when ``x`` holds whole numbers spanning at most ``max(n, 1024)`` values
    (purchase counts, satisfaction levels: no sort, one ``bincount``), else None."""
    n = x.shape[0]
    lo, hi = float(x.min()), float(x.max())
    if not hi - lo <= max(n, 1024):
        return None
    shifted = x - lo
    whole = shifted.astype(np.intp)
    if not np.array_equal(whole, shifted):
        return None
    counts = np.bincount(whole)
    smaller = np.cumsum(counts) - counts
    per_value = (smaller + (counts - 1) / 2.0) / (n - 1)
    z: FloatArray = per_value[whole]
    return z


def rank_scaled(x: FloatArray) -> FloatArray:
    """Each value's mid-rank share of the others, in [0, 1]: ``(#{x_j < x_i} + (#{x_j = x_i} - 1) / 2) / (n - 1)``.

    The share of the other customers a customer beats, ties counted half: distinct values score ``0, 1/(n-1),
    ..., 1``, equal values score the same, a constant column (and a batch of one) scores 0.5. Unlike min-max
    scaling it does not let one very large value squeeze everyone else towards 0 (skewed value: most
    customers would land in the lowest band). One argsort, ``O(n log n)``; the rest is linear (two binary
    searches of every value in the sorted column took 40 s for 10M customers, being cache-unfriendly).
    """
    n = x.shape[0]
    if n <= 1:
        return np.full(n, 0.5)
    counted = _integer_rank_scaled(x)
    if counted is not None:
        return counted
    order = np.argsort(x)  # not stable: equal values get one score anyway (a stable sort is ~3x slower)
    ordered = x[order]
    first = np.empty(n, dtype=bool)
    first[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
    starts = np.flatnonzero(first)  # sorted position of the first of each run of equal values = #{smaller}
    counts = np.diff(np.append(starts, n))
    per_value = (starts + (counts - 1) / 2.0) / (n - 1)
    z: FloatArray = np.empty(n)
    z[order] = np.repeat(per_value, counts)
    return z


def add_scaled(total: FloatArray, x: FloatArray, weight: float, low: float | None, high: float | None,
               higher_is_better: bool) -> None:
    """Add ``weight * z`` to ``total`` in place, ``z`` being ``x`` scaled to [0, 1].

    ``z = (x - low) / (high - low)`` clipped to [0, 1] for a fixed range, else by the batch's minimum and
    maximum (no clipping needed); ``1 - z`` when lower is better, computed as ``(high - x) / (high - low)``
    so that both directions round the same way. A constant column (``max == min``) scores 0.5 for
    everyone: it does not separate customers. Three passes over ``x`` plus the min/max: the weight is
    folded into the scale factor (``np.clip`` is avoided, it is several times slower than min/max).
    """
    if x.shape[0] == 0:
        return
    fixed = low is not None and high is not None
    lo = low if low is not None else float(x.min())
    hi = high if high is not None else float(x.max())
    if not hi > lo:
        total += 0.5 * weight
        return
    z = x - lo if higher_is_better else hi - x
    if fixed:
        np.minimum(z, hi - lo, out=z)
        np.maximum(z, 0.0, out=z)
    z *= weight / (hi - lo)
    total += z
