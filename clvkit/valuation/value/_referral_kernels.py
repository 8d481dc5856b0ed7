"""Pure array kernels of the referral graph (no Pydantic, no I/O): id coding, cycles, attribution.

Customers are numbered ``0..n-1``. Because a customer has at most one referrer, the graph is stored as a
*parent array*: ``parent[c]`` is the referrer of ``c`` or -1. Such a graph (a functional graph) is a forest
plus at most one cycle per weakly connected component, and every cycle is a strongly connected component
of two or more nodes - which is how :func:`cycle_labels` finds them, in linear time, with
:func:`scipy.sparse.csgraph.connected_components` (rejected alternative: Kahn-style leaf peeling, which
needs one numpy round per tree level and so is slow on long referral chains).

Attribution is linear algebra on the adjacency ``A`` (CSR, ``A[parent[c], c] = 1``): the values that
reach a customer from ``k`` levels down are ``(A^k v)``, computed by repeated sparse products
``u_k = A u_{k-1}`` (or, for every level of a deep forest, one triangular solve; see :func:`propagate`).
Every customer has one ancestor at each distance, so each unit of value reaches exactly one customer at
each level.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from ...errors import InvalidInputError

if TYPE_CHECKING:  # scipy.sparse is imported where it is used: it costs import time the models never need
    from scipy import sparse

__all__ = [
    "adjacency",
    "as_ids",
    "as_times",
    "break_cycles",
    "cycle_labels",
    "cycle_paths",
    "depths",
    "harmonize",
    "lookup",
    "propagate",
    "random_referrals",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def adjacency(parent: IntArray) -> sparse.csr_matrix:
    """CSR matrix ``A`` of shape (n, n) with ``A[parent[c], c] = 1`` for every customer with a referrer."""
    from scipy import sparse

    n = parent.shape[0]
    child = np.flatnonzero(parent >= 0)
    data = np.ones(child.shape[0], dtype=np.float64)
    return sparse.csr_matrix((data, (parent[child], child)), shape=(n, n))


def cycle_labels(parent: IntArray) -> IntArray:
    """Cycle number of each customer on a referral cycle (0, 1, ...), -1 for everyone else.

    A self-referral is not looked for here (the caller refuses it); customers who hang off a cycle
    without being on it get -1.
    """
    from scipy.sparse import csgraph

    n = parent.shape[0]
    if n == 0:
        return np.empty(0, dtype=np.int64)
    n_comp, labels = csgraph.connected_components(adjacency(parent), directed=True, connection="strong")
    sizes = np.bincount(labels, minlength=n_comp)
    on_cycle = sizes[labels] > 1
    out = np.full(n, -1, dtype=np.int64)
    if on_cycle.any():
        # Renumber the cyclic components 0..k-1 in the order of their smallest member (deterministic).
        _, first, inverse = np.unique(labels[on_cycle], return_index=True, return_inverse=True)
        order = np.argsort(np.argsort(np.flatnonzero(on_cycle)[first], kind="stable"), kind="stable")
        out[on_cycle] = order[inverse.ravel()]
    return out


def break_cycles(parent: IntArray, labels: IntArray, key: npt.NDArray[np.generic] | None) -> tuple[IntArray, IntArray]:
    """Drop one edge per cycle: the edge into the cycle member with the largest ``(key, index)``.

    With ``key`` the referral time, that is the latest referral of the cycle - the one that closed it;
    without times (or on a tie) the member with the largest index (largest id) loses its referrer.

    Returns
    -------
    (new_parent, dropped):
        The parent array without those edges, and the customers (referred side) whose edge was dropped,
        in the order of the cycles.
    """
    members = np.flatnonzero(labels >= 0)
    if members.size == 0:
        return parent, np.empty(0, dtype=np.int64)
    keys: list[npt.NDArray[np.generic]] = [members]
    if key is not None:
        keys.append(key[members])
    keys.append(labels[members])
    order = members[np.lexsort(keys)]  # by cycle, then key, then index
    lab = labels[order]
    last = np.flatnonzero(np.append(lab[1:] != lab[:-1], True))
    dropped = order[last].astype(np.int64)
    new_parent = parent.copy()
    new_parent[dropped] = -1
    return new_parent, dropped


def cycle_paths(parent: IntArray, labels: IntArray, limit: int) -> list[list[int]]:
    """Up to ``limit`` cycles as lists of customers in referral order, each starting at its smallest index."""
    starts = np.unique(labels[labels >= 0], return_index=True)[1]
    members = np.flatnonzero(labels >= 0)
    paths: list[list[int]] = []
    for s in members[starts][:limit].tolist():
        back = [s]
        x = int(parent[s])
        while x != s:  # walks referred -> referrer around the cycle; it is finite by construction
            back.append(x)
            x = int(parent[x])
        paths.append([s, *back[1:][::-1]])
    return paths


def depths(parent: IntArray) -> IntArray:
    """Number of referral steps from each customer up to the root of their tree (0 for a root).

    Pointer jumping (list ranking): each round adds the distance to the current jump target and doubles
    the jump, so a forest of depth ``D`` takes ``ceil(log2 D)`` vectorised rounds. ``parent`` must be
    acyclic.
    """
    depth = (parent >= 0).astype(np.int64)
    jump = parent.copy()
    idx = np.flatnonzero(jump >= 0)
    while idx.size:
        target = jump[idx]
        depth[idx] += depth[target]
        jump[idx] = jump[target]
        idx = idx[jump[idx] >= 0]
    return depth


#: Up to this many levels the attribution is a loop of sparse products; beyond, an exact triangular solve.
LOOP_LEVELS = 32


def propagate(
    parent: IntArray, adj: sparse.csr_matrix, columns: FloatArray, share: FloatArray, decay: FloatArray,
    max_levels: int | None,
) -> tuple[FloatArray, FloatArray]:
    """``sum_{k=1..K} share * decay^(k-1) * A^k X`` for an acyclic referral graph (a forest).

    Parameters
    ----------
    parent, adj:
        The parent array and its adjacency ``A`` (:func:`adjacency`), acyclic.
    columns:
        ``X``, shape (n, m): per-customer quantities passed up (values; ones to count customers; ...).
    share, decay:
        Arrays of shape (m,): the weight of level ``k`` in column ``j`` is ``share[j] * decay[j]^(k-1)``.
    max_levels:
        ``K``, or ``None`` for every level.

    Returns
    -------
    (total, per_level):
        ``total`` of shape (n, m); ``per_level`` of shape (min(K, depth of the forest), m): the column sums
        of the unweighted ``A^k X``, i.e. the sum of ``X`` over the customers at depth ``>= k`` (each
        customer reaches exactly one customer at each level above it).

    Notes
    -----
    ``K`` is capped at the depth ``D`` of the forest (:func:`depths`). Up to :data:`LOOP_LEVELS` levels,
    or when ``K < D``, the sum is the loop of sparse products ``u_k = A u_{k-1}`` (cost ``K`` x edges).
    When every level is wanted and the forest is deeper than that, the same sum is the solution of the
    triangular system ``(I - decay A) S = X`` with ``total = share A S`` (customers ordered by depth, so
    ``A`` is strictly upper triangular): exact, and linear in the size of the graph however long the
    referral chains are.
    """
    from scipy import sparse
    from scipy.sparse.linalg import spsolve_triangular

    n, m = columns.shape
    if max_levels == 1:  # the common case needs no depths: level 1 is every referred customer
        referred = parent >= 0
        per_level = columns[referred].sum(axis=0, keepdims=True) if referred.any() else np.zeros((0, m))
        return np.asarray(share, dtype=np.float64) * (adj @ columns), per_level
    depth = depths(parent)
    deepest = int(depth.max(initial=0))
    levels = deepest if max_levels is None else min(max_levels, deepest)
    tail = np.zeros((deepest + 2, m))
    for j in range(m):
        tail[: deepest + 1, j] = np.bincount(depth, weights=columns[:, j], minlength=deepest + 1)
    tail = np.cumsum(tail[::-1], axis=0)[::-1]  # tail[k] = sum of X over depth >= k
    per_level = tail[1 : levels + 1].copy()
    total = np.zeros_like(columns)
    if levels == 0:
        return total, per_level
    if levels <= LOOP_LEVELS or levels < deepest:
        u = columns
        weight = np.asarray(share, dtype=np.float64).copy()
        for _ in range(levels):
            u = adj @ u
            total += weight * u
            weight = weight * decay
        return total, per_level
    order = np.argsort(depth, kind="stable")  # parents before children
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    child = np.flatnonzero(parent >= 0)
    upper = sparse.csr_matrix((np.ones(child.size), (rank[parent[child]], rank[child])), shape=(n, n))
    eye = sparse.identity(n, format="csr")
    for j in range(m):
        system = (eye - float(decay[j]) * upper).tocsr()
        s = spsolve_triangular(system, columns[order, j], lower=False, unit_diagonal=True)
        total[:, j] = float(share[j]) * (adj @ np.asarray(s)[rank])
    return total, per_level


# ---------------------------------------------------------------------------------------------- ids
def as_ids(values: Any, column: str) -> tuple[npt.NDArray[Any], npt.NDArray[np.bool_]]:
    """Ids as int64 (whole numbers) or text, and the mask of missing ones (None, NaN, blank text).

    Raises
    ------
    InvalidInputError
        For a multi-dimensional input, fractional numbers or a dtype that cannot hold ids.
    """
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise InvalidInputError(f"ReferralGraph: '{column}' must be one-dimensional. Got shape {arr.shape}.")
    kind = arr.dtype.kind
    if kind in "iu":
        return arr.astype(np.int64), np.zeros(arr.shape, dtype=bool)
    if kind == "f":
        missing = ~np.isfinite(arr)
        if not np.all(arr[~missing] == np.round(arr[~missing])):
            raise InvalidInputError(f"ReferralGraph: '{column}' must hold whole numbers or text ids. "
                                    f"Got fractional numbers.")
        return np.where(missing, 0, arr).astype(np.int64), missing
    if kind in "US":
        text = arr.astype(str)
        return text, np.char.strip(text) == ""
    if kind == "O":
        items = arr.tolist()
        missing = np.array([x is None or (isinstance(x, float) and x != x) or (isinstance(x, str) and not x.strip())
                            for x in items], dtype=bool)
        if all(isinstance(x, (int, np.integer)) and not isinstance(x, bool) for x in items):
            return np.array(items, dtype=np.int64), missing
        return np.array(["" if m else str(x) for x, m in zip(items, missing.tolist(), strict=True)], dtype=str), missing
    raise InvalidInputError(f"ReferralGraph: '{column}' must hold numbers or text ids. Got dtype {arr.dtype}.")


def as_times(values: Any, n: int) -> tuple[npt.NDArray[Any], npt.NDArray[np.bool_]]:
    """Referral times as datetime64 or float64, and the mask of missing or non-finite ones."""
    t = np.asarray(values)
    if t.shape != (n,):
        raise InvalidInputError(f"ReferralGraph: 'time' must have one value per referral ({n}). Got shape {t.shape}.")
    if t.dtype.kind == "M":
        return t, np.isnat(t)
    try:
        tf = t.astype(np.float64)
    except (TypeError, ValueError):
        raise InvalidInputError("ReferralGraph: 'time' must hold numbers or datetimes.") from None
    return tf, ~np.isfinite(tf)


def harmonize(arrays: list[npt.NDArray[Any]]) -> list[npt.NDArray[Any]]:
    """Arrays of ids in one comparable dtype: int64 if all are integers, else text (``12`` -> ``"12"``)."""
    if all(a.dtype.kind in "iu" for a in arrays):
        return [a.astype(np.int64, copy=False) for a in arrays]
    return [a.astype(str) if a.dtype.kind != "U" else a for a in arrays]


def lookup(universe: npt.NDArray[Any], values: npt.NDArray[Any], *, is_sorted: bool = False) -> IntArray:
    """Position of each value in ``universe`` (unique; sorted when ``is_sorted``), or -1 where it is not there."""
    if universe.shape[0] == 0:
        return np.full(values.shape[0], -1, dtype=np.int64)
    if is_sorted and universe.shape == values.shape and np.array_equal(universe, values):
        return np.arange(values.shape[0], dtype=np.int64)
    order = None if is_sorted else np.argsort(universe, kind="stable")
    ranked = universe if order is None else universe[order]
    at = np.minimum(np.searchsorted(ranked, values), ranked.shape[0] - 1)
    hit = ranked[at] == values
    return np.where(hit, at if order is None else order[at], -1).astype(np.int64)


def random_referrals(n: int, referred_share: float, tail: float, rng: np.random.Generator) -> IntArray:
    """A random referral forest over customers ``0..n-1`` in acquisition order (a parent array).

    Each customer after the first is referred with probability ``referred_share`` by an *earlier* customer
    (so there is no cycle), chosen with probability proportional to a Pareto(``tail``) "influence" weight:
    a few customers refer many (opinion leaders), most refer none.
    """
    parent = np.full(n, -1, dtype=np.int64)
    if n < 2:
        return parent
    weight = rng.pareto(tail, size=n) + 1.0
    cum = np.cumsum(weight)
    referred = np.flatnonzero(rng.random(n) < referred_share)
    referred = referred[referred > 0]
    u = rng.random(referred.shape[0]) * cum[referred - 1]
    parent[referred] = np.minimum(np.searchsorted(cum, u, side="right"), referred - 1)
    return parent
