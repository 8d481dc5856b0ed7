"""Referral network and indirect value: who brought whom, and the value credited for it.

*客户经营* (2021): ``value = direct + indirect``, the indirect part being the revenue a customer brings
through social referral ("one old customer brings N big customers"). :class:`ReferralGraph` holds the
referrals (each customer has at most one referrer), validated once; :meth:`ReferralGraph.attribute`
credits each referrer with the direct value of the customers they brought in.

**Attribution rule** (:class:`AttributionRule`; a clvkit default, documented, since text 002 gives none):
a referrer is credited with ``share`` x the direct value of each customer they referred (level 1) and,
when ``max_levels > 1``, ``share x decay^(k-1)`` x the direct value of each customer ``k`` referral steps
below them. It is always the *direct* value that is passed up - never a customer's own indirect value,
which would count deeper customers again. Hence, for non-negative values:

- each customer's value reaches exactly one referrer at each level (its unique k-th ancestor), so no unit
  of referred value is attributed twice at the same level;
- the value attributed at level ``k`` is at most ``share x decay^(k-1)`` x the value of the referred
  customers, so at most their total value;
- adding a referral never lowers the referrer's indirect value (it only adds descendants).

**Cycles** (A referred B who referred A) would credit customers with their own value and make a level
walk endless. They are found when the graph is built; ``on_cycle="error"`` (default) refuses them naming
the customers, ``on_cycle="break"`` drops one edge per cycle - the latest referral by time, or without
times the referral *of* the customer with the largest id - and lists the dropped edges in
:attr:`ReferralGraph.broken`. The rule depends only on the edges, not on their order.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt
from pydantic import Field

from ..._frames import to_columns
from ..._pydantic import FrozenModel
from ..._validation import raise_if, row_problem
from ...errors import MAX_ROWS_SHOWN, InvalidInputError, Problem
from . import _referral_kernels as k

if TYPE_CHECKING:
    from scipy import sparse

__all__ = ["AttributionRule", "ReferralAttribution", "ReferralGraph"]

FloatArray = npt.NDArray[np.float64]
OnCycle = Literal["error", "break"]
_CONTEXT = "ReferralGraph"


class AttributionRule(FrozenModel):
    """How much of a referred customer's direct value is credited to the referrers above them.

    Level ``k`` (the referrer's referrer's ... ``k`` steps up) is credited ``share * decay^(k-1)``
    times the referred customer's direct value, for ``k = 1..max_levels``.

    Attributes
    ----------
    max_levels:
        Levels credited: 1 (default: only the customers one brought in oneself, text 002's "referral
        revenue", 社交推荐收入), a larger whole number, or ``None`` for every level.
    decay:
        Geometric decay per extra level, in [0, 1]; default 0.5 (clvkit's choice; unused at one level).
    share:
        Fraction of a referred customer's value credited at level 1, in [0, 1]; default 1 (the book
        counts the whole referral revenue).

    Bad values raise :class:`~clvkit.InvalidInputError` naming the field.

    Examples
    --------
    >>> AttributionRule(max_levels=3, decay=0.5).weights(3).tolist()
    [1.0, 0.5, 0.25]
    """

    max_levels: int | None = Field(1, ge=1)
    decay: float = Field(0.5, ge=0.0, le=1.0, allow_inf_nan=False)
    share: float = Field(1.0, ge=0.0, le=1.0, allow_inf_nan=False)

    def weights(self, levels: int) -> FloatArray:
        """The weights of levels ``1..levels``."""
        return self.share * self.decay ** np.arange(levels, dtype=np.float64)


@dataclass(frozen=True, eq=False)
class ReferralAttribution:
    """Indirect value of each customer under an :class:`AttributionRule`.

    Attributes
    ----------
    indirect:
        Credited value, shape (n_customers,), in the order of the values given.
    referrals:
        Number of customers each one referred directly, shape (n_customers,).
    reach:
        Number of customers below each one within ``max_levels`` (all levels counted, undecayed).
    level_value:
        Shape (levels reached,): total direct value of the customers at each level below some referrer
        (unweighted); the value credited at level ``k`` is ``rule.weights(..)[k-1] * level_value[k-1]``.
    customer_id:
        Ids of the customers, or ``None``.
    rule:
        The rule used.
    """

    indirect: FloatArray
    referrals: npt.NDArray[np.int64]
    reach: npt.NDArray[np.int64]
    level_value: FloatArray
    customer_id: npt.NDArray[Any] | None
    rule: AttributionRule

    @property
    def level_credit(self) -> FloatArray:
        """Value credited at each level (``level_value`` times the level weights)."""
        return self.rule.weights(self.level_value.shape[0]) * self.level_value


class ReferralGraph:
    """Who referred whom: a validated forest of referrals over a set of customers.

    Build it with :meth:`from_pairs`, :meth:`from_customers` or :meth:`from_frame` (the constructor is
    for those). Immutable.

    Attributes
    ----------
    ids:
        Customer ids, sorted, shape (n_customers,).
    parent:
        Position in ``ids`` of each customer's referrer, -1 for none; shape (n_customers,).
    time:
        Referral time of each customer (``NaN``/``NaT`` where there is no referrer), or ``None``.
    broken:
        ``(referrer, referred)`` pairs dropped to break cycles (``on_cycle="break"``).
    label:
        Free text describing where the referrals come from (e.g. that they are synthetic).

    Examples
    --------
    >>> g = ReferralGraph.from_pairs(["A", "A", "B"], ["B", "C", "D"])
    >>> g.n_customers, g.n_referrals
    (4, 3)
    >>> g.indirect_value([100.0, 60.0, 30.0, 10.0], ["A", "B", "C", "D"]).tolist()
    [90.0, 10.0, 0.0, 0.0]
    >>> ReferralGraph.from_pairs(["A", "B"], ["B", "A"])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    clvkit.errors.InvalidInputError: ReferralGraph has 1 problem:
      - 'referred': the referrals form 1 cycle ... (1 cycle fail; first at cycle A -> B -> A)...
    >>> ReferralGraph.from_pairs(["A", "B"], ["B", "A"], on_cycle="break").broken
    (('A', 'B'),)
    """

    __slots__ = ("_adj", "broken", "ids", "label", "parent", "time")

    #: A referrer's credit is other customers' direct value (see :class:`IndirectValueSource`).
    overlaps_direct = True

    def __init__(self, ids: npt.NDArray[Any], parent: npt.NDArray[np.int64], time: npt.NDArray[Any] | None,
                 broken: tuple[tuple[Any, Any], ...] = (), label: str = "") -> None:
        for arr in (ids, parent, time):
            if arr is not None:
                arr.flags.writeable = False
        self.ids = ids
        self.parent = parent
        self.time = time
        self.broken = broken
        self.label = label
        self._adj: sparse.csr_matrix | None = None

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_pairs(
        cls,
        referrer: Any,
        referred: Any,
        time: Any = None,
        *,
        customer_ids: Any = None,
        on_cycle: OnCycle = "error",
        label: str = "",
    ) -> ReferralGraph:
        """Build from ``(referrer, referred[, time])`` pairs.

        Parameters
        ----------
        referrer, referred:
            Arrays of shape (n_referrals,) of customer ids (numbers or text; ``"12"`` and ``12`` match).
        time:
            Optional referral times (numbers or datetimes), used to break cycles at the latest referral.
        customer_ids:
            Every customer of the base (unique). When given, ids in the pairs must be among them and
            customers without referrals are part of the graph; otherwise the customers are the ids in the
            pairs.
        on_cycle:
            ``"error"`` (default) or ``"break"`` (see the module docstring).
        label:
            Description kept on the graph.

        Raises
        ------
        InvalidInputError
            Listing every problem with the offending ids: missing or unknown ids, self-referrals,
            customers referred more than once, duplicate ``customer_ids``, bad times, and cycles (with
            ``on_cycle="error"``).
        """
        if on_cycle not in ("error", "break"):
            raise InvalidInputError(f"The 'on_cycle' parameter of ReferralGraph must be 'error' or 'break'. "
                                    f"Got {on_cycle!r} instead.")
        problems: list[Problem | None] = []
        a = _as_ids(referrer, "referrer", problems)
        b = _as_ids(referred, "referred", problems)
        if a.shape != b.shape:
            raise InvalidInputError(f"ReferralGraph: 'referrer' and 'referred' must have the same length. Got "
                                    f"{a.shape[0]} and {b.shape[0]}.")
        t = None if time is None else _times(time, b.shape[0], problems)
        universe = None if customer_ids is None else _as_ids(customer_ids, "customer_ids", problems)
        raise_if(problems, _CONTEXT)
        ids, ra, rb = _code_pairs(a, b, universe)
        parent = np.full(ids.shape[0], -1, dtype=np.int64)
        parent[rb] = ra
        node_time = None
        if t is not None:
            node_time = np.full(ids.shape[0], np.nan if t.dtype.kind == "f" else np.datetime64("NaT"), dtype=t.dtype)
            node_time[rb] = t
        parent, node_time, broken = _without_cycles(ids, parent, node_time, on_cycle)
        return cls(ids, parent, node_time, broken, label)

    @classmethod
    def from_customers(cls, customers: Iterable[Any], *, on_cycle: OnCycle = "error",
                       label: str = "") -> ReferralGraph:
        """Build from :class:`~clvkit.domain.Customer` entities' ``referred_by`` fields.

        Every customer is a node; ``referred_by`` must name one of them.

        Examples
        --------
        >>> from clvkit.domain import Customer
        >>> cs = [Customer(customer_id="A", kind="consumer"),
        ...       Customer(customer_id="B", kind="consumer", referred_by="A")]
        >>> ReferralGraph.from_customers(cs).n_referrals
        1
        """
        ids: list[str] = []
        referrer: list[str] = []
        referred: list[str] = []
        for c in customers:
            ids.append(c.customer_id)
            if c.referred_by is not None:
                referrer.append(c.referred_by)
                referred.append(c.customer_id)
        return cls.from_pairs(np.array(referrer, dtype=object), np.array(referred, dtype=object),
                              customer_ids=np.array(ids, dtype=object), on_cycle=on_cycle, label=label)

    @classmethod
    def from_frame(cls, frame: Any, *, referrer: str = "referrer", referred: str = "referred",
                   time: str | None = None, customer_ids: Any = None, on_cycle: OnCycle = "error",
                   label: str = "") -> ReferralGraph:
        """Build from a pandas/polars frame, a pyarrow table or a mapping of columns."""
        names = [referrer, referred] + ([time] if time is not None else [])
        cols = to_columns(frame, names, context=_CONTEXT)
        return cls.from_pairs(cols[referrer], cols[referred], None if time is None else cols[time],
                              customer_ids=customer_ids, on_cycle=on_cycle, label=label)

    # ------------------------------------------------------------------ structure
    @property
    def n_customers(self) -> int:
        """Number of customers (nodes)."""
        return int(self.ids.shape[0])

    @property
    def n_referrals(self) -> int:
        """Number of referrals kept (edges)."""
        return int(np.count_nonzero(self.parent >= 0))

    @property
    def adjacency(self) -> sparse.csr_matrix:
        """CSR adjacency of shape (n_customers, n_customers): entry ``[referrer, referred]`` is 1."""
        if self._adj is None:
            self._adj = k.adjacency(self.parent)
        return self._adj

    def pairs(self) -> tuple[npt.NDArray[Any], npt.NDArray[Any]]:
        """The referrals kept, as ``(referrer ids, referred ids)`` sorted by the referred id."""
        child = np.flatnonzero(self.parent >= 0)
        return self.ids[self.parent[child]], self.ids[child]

    def __len__(self) -> int:
        return self.n_customers

    def __repr__(self) -> str:
        extra = f", {len(self.broken)} broken" if self.broken else ""
        text = f", {self.label!r}" if self.label else ""
        return f"ReferralGraph({self.n_customers} customers, {self.n_referrals} referrals{extra}{text})"

    # ------------------------------------------------------------------ attribution
    def attribute(self, values: Any, customer_id: Any = None, rule: AttributionRule | None = None
                  ) -> ReferralAttribution:
        """Credit each referrer with the direct value of the customers below them.

        Parameters
        ----------
        values:
            Direct value of each customer, finite and >= 0, shape (n_customers,).
        customer_id:
            Ids of ``values`` (any order; may include customers outside the graph, who get 0). Every
            customer of the graph needs a value. ``None``: ``values`` are in the order of :attr:`ids`.
        rule:
            The :class:`AttributionRule` (default: one level, the whole value).

        Returns
        -------
        ReferralAttribution
            In the order of ``values``.

        Raises
        ------
        InvalidInputError
            For negative or non-finite values, a shape mismatch, or graph customers without a value.

        Examples
        --------
        >>> g = ReferralGraph.from_pairs(["A", "B", "C"], ["B", "C", "D"])   # a chain A -> B -> C -> D
        >>> r = g.attribute([0.0, 100.0, 100.0, 100.0], ["A", "B", "C", "D"],
        ...                 AttributionRule(max_levels=None, decay=0.5))
        >>> r.indirect.tolist(), r.reach.tolist(), r.level_value.tolist()
        ([175.0, 150.0, 100.0, 0.0], [3, 2, 1, 0], [300.0, 200.0, 100.0])
        """
        rule = rule if rule is not None else AttributionRule()
        node_values, pos, ids = self._align(values, customer_id)
        cols = np.column_stack([node_values, np.ones_like(node_values)])
        share = np.array([rule.share, 1.0])
        decay = np.array([rule.decay, 1.0])
        total, per_level = k.propagate(self.parent, self.adjacency, cols, share, decay, rule.max_levels)
        referrals = np.bincount(self.parent[self.parent >= 0], minlength=self.n_customers).astype(np.int64)
        found = pos >= 0
        if self.n_customers == 0:  # an empty graph: nobody is found, and there is no row 0 to index
            total, referrals = np.zeros((1, 2)), np.zeros(1, dtype=np.int64)
        safe = np.maximum(pos, 0)
        indirect = np.where(found, total[safe, 0], 0.0)
        reach = np.where(found, np.rint(total[safe, 1]), 0).astype(np.int64)
        return ReferralAttribution(indirect=indirect, referrals=np.where(found, referrals[safe], 0).astype(np.int64),
                                   reach=reach, level_value=per_level[:, 0].copy(), customer_id=ids, rule=rule)

    def indirect_value(self, direct: Any, customer_id: Any = None, rule: AttributionRule | None = None) -> FloatArray:
        """Indirect value of each customer (:meth:`attribute` ``.indirect``); an :class:`IndirectValueSource`."""
        return self.attribute(direct, customer_id, rule).indirect

    def _align(self, values: Any, customer_id: Any) -> tuple[FloatArray, npt.NDArray[np.intp], Any]:
        v = np.asarray(values, dtype=np.float64)
        if v.ndim != 1:
            raise InvalidInputError(f"ReferralGraph: the values must be one-dimensional. Got shape {v.shape}.")
        ids_in = None if customer_id is None else np.asarray(customer_id)
        bad = ~(np.isfinite(v) & (v >= 0.0))
        if bad.any():
            raise_if([row_problem(bad, "values", "must be finite and >= 0 to be attributed",
                                  "A referrer is credited with revenue; clip negative values first "
                                  "(np.maximum(values, 0)) if that is what you mean.",
                                  ids=ids_in if ids_in is not None and ids_in.shape == v.shape else None)],
                     _CONTEXT)
        if ids_in is None:
            if v.shape[0] != self.n_customers:
                raise InvalidInputError(f"ReferralGraph: without customer_id the values must follow the graph's "
                                        f"{self.n_customers} ids. Got {v.shape[0]} values.")
            return v, np.arange(self.n_customers), None
        problems: list[Problem | None] = []
        given = _as_ids(ids_in, "customer_id", problems)
        if given.shape != v.shape:
            raise InvalidInputError(f"ReferralGraph: customer_id has shape {given.shape} but the values have "
                                    f"shape {v.shape}.")
        uniq, counts = np.unique(given, return_counts=True)
        problems.append(_repeated(uniq, counts, "customer_id"))
        raise_if(problems, _CONTEXT)
        graph_ids, given = k.harmonize([self.ids, given])
        pos = k.lookup(graph_ids, given, is_sorted=graph_ids.dtype == self.ids.dtype)
        node_values = np.zeros(self.n_customers)
        covered = np.zeros(self.n_customers, dtype=bool)
        found = pos >= 0
        node_values[pos[found]] = v[found]
        covered[pos[found]] = True
        if not covered.all():
            missing = np.flatnonzero(~covered)
            raise InvalidInputError([Problem("customer_id", "customers of the referral graph have no value",
                                             rows=tuple(_plain(x) for x in self.ids[missing[:MAX_ROWS_SHOWN]]),
                                             n_bad=int(missing.size), row_label="customer",
                                             fix="Value every customer of the graph (0 for one who never bought).")],
                                    context=_CONTEXT)
        return node_values, pos, ids_in


def _as_ids(values: Any, column: str, problems: list[Problem | None]) -> npt.NDArray[Any]:
    """Ids as int64 or text (see :func:`._referral_kernels.as_ids`), recording missing ones as a problem."""
    ids, missing = k.as_ids(values, column)
    problems.append(row_problem(missing, column, "is missing"))
    return ids


def _repeated(ids: npt.NDArray[Any], counts: npt.NDArray[np.intp], column: str = "customer_ids") -> Problem | None:
    rep = ids[counts > 1]
    if rep.size == 0:
        return None
    return Problem(column, "repeats ids; each customer must appear once", rows=tuple(_plain(x) for x in rep[:5]),
                   n_bad=int(rep.size), row_label="id")


def _cycle_problem(ids: npt.NDArray[Any], parent: npt.NDArray[np.int64], labels: npt.NDArray[np.int64]) -> Problem:
    n_cycles = int(labels.max()) + 1
    paths = k.cycle_paths(parent, labels, MAX_ROWS_SHOWN)
    shown = tuple(" -> ".join(str(_plain(ids[i])) for i in [*p, p[0]]) for p in paths)
    plural = "s" if n_cycles != 1 else ""
    return Problem("referred", f"the referrals form {n_cycles} cycle{plural} ({int((labels >= 0).sum())} "
                   f"customers), which would credit customers with their own value", rows=shown, n_bad=n_cycles,
                   fix='Fix the data, or pass on_cycle="break" to drop the latest referral of each cycle.',
                   row_label="cycle")


def _code_pairs(a: npt.NDArray[Any], b: npt.NDArray[Any], universe: npt.NDArray[Any] | None
                ) -> tuple[npt.NDArray[Any], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """The customers (sorted) and the codes of referrer and referred; raises listing every bad pair."""
    problems: list[Problem | None] = []
    if universe is None:
        a, b = k.harmonize([a, b])
        ids, inverse = np.unique(np.concatenate([a, b]), return_inverse=True)
        ra, rb = (c.astype(np.int64) for c in np.split(inverse.ravel(), [a.shape[0]]))
    else:
        a, b, universe = k.harmonize([a, b, universe])
        ids, counts = np.unique(universe, return_counts=True)
        problems.append(_repeated(ids, counts))
        ra, rb = k.lookup(ids, a, is_sorted=True), k.lookup(ids, b, is_sorted=True)
    problems.append(row_problem(ra < 0, "referrer", "is not among customer_ids", ids=a))
    problems.append(row_problem(rb < 0, "referred", "is not among customer_ids", ids=b))
    problems.append(row_problem((ra == rb) & (ra >= 0), "referred", "is referred by itself (self-referral)",
                                "Drop the row: a customer cannot refer themselves.", ids=b))
    counts = np.bincount(rb[rb >= 0], minlength=ids.shape[0])
    dup = (rb >= 0) & (counts[np.maximum(rb, 0)] > 1)
    problems.append(row_problem(dup, "referred", "is referred more than once (a customer has at most one "
                                "referrer)", "Keep one referral per referred customer (e.g. the first).",
                                ids=b))
    raise_if(problems, _CONTEXT)
    return ids, ra, rb


def _without_cycles(ids: npt.NDArray[Any], parent: npt.NDArray[np.int64], node_time: npt.NDArray[Any] | None,
                    on_cycle: OnCycle
                    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[Any] | None, tuple[tuple[Any, Any], ...]]:
    """Refuse cycles (``on_cycle="error"``) or drop one referral per cycle; also returns the dropped pairs."""
    labels = k.cycle_labels(parent)
    if not (labels >= 0).any():
        return parent, node_time, ()
    if on_cycle == "error":
        raise InvalidInputError([_cycle_problem(ids, parent, labels)], context=_CONTEXT)
    old = parent
    parent, dropped = k.break_cycles(parent, labels, node_time)
    broken = tuple((_plain(ids[p]), _plain(ids[c])) for p, c in zip(old[dropped].tolist(), dropped.tolist(),
                                                                     strict=True))
    if node_time is not None:
        node_time[dropped] = np.nan if node_time.dtype.kind == "f" else np.datetime64("NaT")
    return parent, node_time, broken


def _times(time: Any, n: int, problems: list[Problem | None]) -> npt.NDArray[Any]:
    t, bad = k.as_times(time, n)
    problems.append(row_problem(bad, "time", "is missing or not finite"))
    return t


def _plain(value: Any) -> Any:
    item = getattr(value, "item", None)
    return item() if callable(item) else value
