"""Reports on tier assignments: inventory ("take stock of the base"), migration, budget allocation.

:func:`inventory` counts customers and value per tier and measures value concentration;
:func:`migration` compares two snapshots tier by tier; :func:`budget_allocation` spreads ring-fenced tier
budgets over each tier's customers. The ``format_*`` functions render them as plain text (for the CLI).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from .._validation import as_float_array, raise_if, row_problem
from ..errors import InvalidInputError, Problem
from ._assignment import TierAssignment
from .concentration import DEFAULT_TOP_SHARES, Concentration, _from_sorted

__all__ = [
    "BudgetAllocation",
    "Inventory",
    "Migration",
    "budget_allocation",
    "format_budget",
    "format_inventory",
    "format_migration",
    "inventory",
    "migration",
]

FloatArray = npt.NDArray[np.float64]
CountArray = npt.NDArray[np.intp]


def _values_for(values: Any, assignment: TierAssignment, where: str) -> FloatArray:
    module = sys.modules.get("clvkit.valuation.clv")
    if module is not None and isinstance(values, module.ClvResult):
        values = values.clv
    x = as_float_array(values, "values", where)
    if x.shape[0] != len(assignment):
        raise InvalidInputError([Problem("values", f"has {x.shape[0]} rows but the assignment has "
                                                   f"{len(assignment)}", fix="Pass one value per assigned customer.")],
                                context=where)
    raise_if([row_problem(~np.isfinite(x), "values", "must be finite (no NaN or inf)", "Drop or fill them.")], where)
    return x


def _shares(part: FloatArray, whole: float) -> FloatArray:
    return part / whole if whole != 0 else np.zeros_like(part)


@dataclass(frozen=True)
class Inventory:
    """Count and value per tier, and value concentration, of one assignment.

    Attributes
    ----------
    labels, policy, ordered:
        As in the assignment.
    counts, count_shares:
        Customers per tier and their share of all customers (arrays of shape (n_tiers,)).
    values, value_shares, mean_values:
        Total value per tier, its share of the total (0 when the total is 0) and the mean value per
        customer (0 for an empty tier).
    n_customers, total_value:
        Totals.
    concentration:
        Gini, top 1/10/20% shares and Lorenz curve over all customers; ``None`` when some value is
        negative (the measures are defined for non-negative values only).
    class_labels, class_counts:
        When the assignment has classes: customers per (tier, class), shape (n_tiers, n_classes).
    """

    labels: tuple[str, ...]
    policy: str
    ordered: bool
    counts: CountArray
    count_shares: FloatArray
    values: FloatArray
    value_shares: FloatArray
    mean_values: FloatArray
    n_customers: int
    total_value: float
    concentration: Concentration | None
    class_labels: tuple[str, ...] = ()
    class_counts: CountArray | None = None

    def to_records(self) -> list[dict[str, Any]]:
        """One plain dictionary per tier (label, customers, shares, value), e.g. for JSON or CSV output."""
        return [{"tier": lab, "customers": int(self.counts[k]), "customer_share": float(self.count_shares[k]),
                 "value": float(self.values[k]), "value_share": float(self.value_shares[k]),
                 "mean_value": float(self.mean_values[k])} for k, lab in enumerate(self.labels)]


def inventory(values: Any, assignment: TierAssignment, *, top: Sequence[float] = DEFAULT_TOP_SHARES,
              lorenz_points: int = 101) -> Inventory:
    """Take stock of the base: customers, value and value share per tier; value concentration.

    Parameters
    ----------
    values:
        Value of each assigned customer (array of shape (n_customers,), list, or a
        :class:`~clvkit.valuation.ClvResult`), in the assignment's row order.
    assignment:
        The tiers, from any policy.
    top:
        Population shares whose share of value to report (default the top 1%, 10% and 20%).
    lorenz_points:
        Number of Lorenz-curve points (default 101: every percentile).

    Examples
    --------
    >>> from clvkit.tiering import KeyCustomers
    >>> v = [1.0, 1.0, 1.0, 1.0, 6.0]
    >>> inv = inventory(v, KeyCustomers().assign(v))
    >>> inv.counts.tolist(), inv.value_shares.tolist()
    ([4, 1], [0.4, 0.6])
    >>> inv.concentration.gini, inv.concentration.top_shares[0.2]
    (0.4, 0.6)
    """
    where = "inventory()"
    x = _values_for(values, assignment, where)
    k = assignment.n_tiers
    counts = np.bincount(assignment.codes, minlength=k).astype(np.intp)
    per_tier = np.asarray(np.bincount(assignment.codes, weights=x, minlength=k), dtype=np.float64)
    n = int(x.shape[0])
    total = float(per_tier.sum())
    conc = None if (x < 0).any() else _from_sorted(np.sort(x), tuple(top), int(lorenz_points))
    class_counts = None
    if assignment.classes is not None:
        c = len(assignment.class_labels)
        flat = assignment.codes.astype(np.intp) * c + assignment.classes
        class_counts = np.bincount(flat, minlength=k * c).reshape(k, c).astype(np.intp)
    return Inventory(
        labels=assignment.labels, policy=assignment.policy, ordered=assignment.ordered, counts=counts,
        count_shares=_shares(counts.astype(np.float64), float(n)), values=per_tier,
        value_shares=_shares(per_tier, total), mean_values=np.divide(per_tier, counts, out=np.zeros(k),
                                                                     where=counts > 0),
        n_customers=n, total_value=total, concentration=conc, class_labels=assignment.class_labels,
        class_counts=class_counts,
    )


@dataclass(frozen=True)
class Migration:
    """Tier-to-tier transitions between two snapshots.

    Attributes
    ----------
    labels:
        Tier names (the same in both snapshots).
    counts:
        ``counts[i, j]``: customers in tier ``i`` before and ``j`` after, shape (n_tiers, n_tiers).
    rates:
        ``counts`` divided by its row sums: where the customers of each tier went (0 rows for empty tiers).
    n_customers:
        Customers present in both snapshots.
    stay_rate, up_rate, down_rate:
        Shares of those customers who kept, raised or lowered their tier. ``up_rate`` and ``down_rate``
        are ``None`` when the tiers are not ordered (segments, matrix cells).
    n_entered, n_left:
        With customer ids in both snapshots: customers only in ``after`` / only in ``before``; otherwise
        ``None`` (snapshots are matched by row).
    """

    labels: tuple[str, ...]
    counts: CountArray
    rates: FloatArray
    n_customers: int
    stay_rate: float
    up_rate: float | None
    down_rate: float | None
    n_entered: int | None = None
    n_left: int | None = None


def _match(before: TierAssignment, after: TierAssignment) -> tuple[Any, Any, int | None, int | None]:
    ib, ia = before.customer_id, after.customer_id
    if ib is None or ia is None:
        if len(before) != len(after):
            raise InvalidInputError(
                f"migration() matches snapshots by row when they lack customer ids, so they must have the same "
                f"number of customers; got {len(before)} before and {len(after)} after. Pass customer_id.")
        return before.codes, after.codes, None, None
    for name, ids in (("before", ib), ("after", ia)):
        if np.unique(ids).shape[0] != ids.shape[0]:
            raise InvalidInputError(f"migration(): the customer ids of '{name}' must be unique.")
    _, pb, pa = np.intersect1d(ib, ia, assume_unique=True, return_indices=True)
    return before.codes[pb], after.codes[pa], len(ia) - len(pa), len(ib) - len(pb)


def migration(before: TierAssignment, after: TierAssignment) -> Migration:
    """The transition matrix between two assignments of the same policy (same tier labels).

    Customers are matched by ``customer_id`` when both assignments have ids (customers in only one
    snapshot are counted as entered or left), otherwise by row.

    Examples
    --------
    >>> from clvkit.tiering import TierAssignment
    >>> def snap(codes):
    ...     c = np.array(codes, dtype=np.int8)
    ...     return TierAssignment(codes=c, labels=("low", "mid", "high"), reasons=c, rules=("",) * 3, policy="x")
    >>> m = migration(snap([0, 0, 1, 1, 2, 2]), snap([0, 1, 1, 0, 2, 1]))
    >>> m.counts.tolist()
    [[1, 1, 0], [1, 1, 0], [0, 1, 1]]
    >>> round(m.stay_rate, 3), round(m.up_rate, 3), round(m.down_rate, 3)
    (0.5, 0.167, 0.333)
    """
    if before.labels != after.labels:
        raise InvalidInputError(f"migration() needs the same tiers in both snapshots; got {list(before.labels)} "
                                f"and {list(after.labels)}.")
    b, a, entered, left = _match(before, after)
    k = len(before.labels)
    counts = np.bincount(b.astype(np.intp) * k + a, minlength=k * k).reshape(k, k).astype(np.intp)
    rows = counts.sum(axis=1, keepdims=True)
    rates = np.divide(counts, rows, out=np.zeros((k, k)), where=rows > 0)
    n = int(counts.sum())
    stay = float(np.trace(counts)) / n if n else 0.0
    ordered = before.ordered and after.ordered
    up = float(np.triu(counts, 1).sum()) / n if n else 0.0
    down = float(np.tril(counts, -1).sum()) / n if n else 0.0
    return Migration(labels=before.labels, counts=counts, rates=rates, n_customers=n, stay_rate=stay,
                     up_rate=up if ordered else None, down_rate=down if ordered else None,
                     n_entered=entered, n_left=left)


@dataclass(frozen=True)
class BudgetAllocation:
    """Ring-fenced budgets per tier: each tier's budget is spent on its own customers only.

    Attributes
    ----------
    labels:
        Tier names.
    budget, counts:
        Budget and customers per tier.
    per_customer:
        ``budget / counts`` (0 for an empty tier, whose budget stays unspent rather than moving elsewhere).
    unspent:
        Total budget of empty tiers.
    values, value_per_budget:
        With values: total value per tier, and value per unit of budget (0 where the budget is 0).
    """

    labels: tuple[str, ...]
    budget: FloatArray
    counts: CountArray
    per_customer: FloatArray
    unspent: float
    values: FloatArray | None = None
    value_per_budget: FloatArray | None = None


def budget_allocation(assignment: TierAssignment, budget: Sequence[float] | Mapping[str, float],
                      values: Any = None) -> BudgetAllocation:
    """Spread ring-fenced tier budgets over each tier's customers.

    Parameters
    ----------
    assignment:
        The tiers.
    budget:
        One non-negative amount per tier (code order) or a mapping of tier label to amount (missing tiers
        get 0).
    values:
        Optional value per customer, to report value per unit of budget.

    Examples
    --------
    >>> from clvkit.tiering import KeyCustomers
    >>> a = KeyCustomers(share=0.25).assign([1.0, 2.0, 3.0, 4.0])
    >>> alloc = budget_allocation(a, {"other": 300.0, "key": 400.0})
    >>> alloc.per_customer.tolist()
    [100.0, 400.0]
    """
    where = "budget_allocation()"
    k = assignment.n_tiers
    if isinstance(budget, Mapping):
        unknown = [t for t in budget if t not in assignment.labels]
        if unknown:
            raise InvalidInputError(f"The 'budget' of {where} names unknown tiers {unknown}; tiers are "
                                    f"{list(assignment.labels)}.")
        amounts = np.array([float(budget.get(lab, 0.0)) for lab in assignment.labels])
    else:
        amounts = as_float_array(list(budget), "budget", where)
    if amounts.shape[0] != k or not np.isfinite(amounts).all() or (amounts < 0).any():
        raise InvalidInputError(f"The 'budget' parameter of {where} must hold {k} finite non-negative amounts "
                                f"(one per tier). Got {amounts.tolist()} instead.")
    counts = assignment.counts()
    per_customer = np.divide(amounts, counts, out=np.zeros(k), where=counts > 0)
    per_tier = value_ratio = None
    if values is not None:
        weights = _values_for(values, assignment, where)
        per_tier = np.asarray(np.bincount(assignment.codes, weights=weights, minlength=k), dtype=np.float64)
        value_ratio = np.divide(per_tier, amounts, out=np.zeros(k), where=amounts > 0)
    return BudgetAllocation(labels=assignment.labels, budget=amounts, counts=counts, per_customer=per_customer,
                            unspent=float(amounts[counts == 0].sum()), values=per_tier,
                            value_per_budget=value_ratio)


# ---------------------------------------------------------------------------------------------- text
def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    def line(r: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True)))
    return [line(header), "  ".join("-" * w for w in widths), *(line(r) for r in rows)]


def _display_order(n: int, ordered: bool) -> list[int]:
    # Ordered tiers read top-down (highest first), as managers list them; unordered ones in code order.
    return list(range(n - 1, -1, -1)) if ordered else list(range(n))


def format_inventory(inv: Inventory, *, value_format: str = ",.2f", title: str | None = None) -> str:
    """The inventory as a plain-text report (tiers table, concentration, Lorenz deciles, classes).

    Examples
    --------
    >>> from clvkit.tiering import KeyCustomers
    >>> v = [1.0, 1.0, 1.0, 1.0, 6.0]
    >>> print(format_inventory(inventory(v, KeyCustomers().assign(v))))
    Customer inventory (KeyCustomers): 5 customers, total value 10.00
    tier   customers  customers %  value  value %  mean value
    -----  ---------  -----------  -----  -------  ----------
    key            1        20.0%   6.00    60.0%        6.00
    other          4        80.0%   4.00    40.0%        1.00
    Concentration: top 1% hold 60.0% of value, top 10% hold 60.0%, top 20% hold 60.0%; Gini 0.400
    Lorenz curve (customers % -> value %): 10% 5.0%, 20% 10.0%, 30% 15.0%, 40% 20.0%, 50% 25.0%, 60% 30.0%, 70% 35.0%, 80% 40.0%, 90% 70.0%, 100% 100.0%
    """  # noqa: E501
    head = title or f"Customer inventory ({inv.policy}): {inv.n_customers:,} customers, " \
                    f"total value {inv.total_value:{value_format}}"
    rows = [[inv.labels[k], f"{inv.counts[k]:,}", f"{inv.count_shares[k]:.1%}", f"{inv.values[k]:{value_format}}",
             f"{inv.value_shares[k]:.1%}", f"{inv.mean_values[k]:{value_format}}"]
            for k in _display_order(len(inv.labels), inv.ordered)]
    lines = [head, *_table(["tier", "customers", "customers %", "value", "value %", "mean value"], rows)]
    c = inv.concentration
    if c is None:
        lines.append("Concentration: not reported (some values are negative).")
    else:
        tops = ", ".join(f"top {p:.0%} hold {s:.1%}" + (" of value" if i == 0 else "")
                         for i, (p, s) in enumerate(c.top_shares.items()))
        lines.append(f"Concentration: {tops}; Gini {c.gini:.3f}")
        deciles = np.interp(np.linspace(0.1, 1.0, 10), c.lorenz_population, c.lorenz_value)
        pts = ", ".join(f"{(i + 1) * 10}% {y:.1%}" for i, y in enumerate(deciles))
        lines.append(f"Lorenz curve (customers % -> value %): {pts}")
    if inv.class_counts is not None:
        order = _display_order(len(inv.labels), inv.ordered)
        rows = [[inv.labels[k], *(f"{v:,}" for v in inv.class_counts[k])] for k in order]
        lines += ["Customers by tier and class:", *_table(["tier", *inv.class_labels], rows)]
    return "\n".join(lines)


def format_migration(m: Migration) -> str:
    """The migration matrix (counts, rows = before, columns = after) and the move rates as text.

    Examples
    --------
    >>> from clvkit.tiering import KeyCustomers
    >>> p = KeyCustomers(share=0.5)
    >>> print(format_migration(migration(p.assign([1.0, 2.0, 3.0, 4.0]), p.assign([4.0, 3.0, 2.0, 1.0]))))
    Migration of 4 customers: 0.0% stayed, 50.0% moved up, 50.0% moved down
    before \\ after  other  key
    --------------  -----  ---
    other               0    2
    key                 2    0
    """
    moves = f"{m.stay_rate:.1%} stayed"
    if m.up_rate is not None and m.down_rate is not None:
        moves += f", {m.up_rate:.1%} moved up, {m.down_rate:.1%} moved down"
    lines = [f"Migration of {m.n_customers:,} customers: {moves}"]
    if m.n_entered is not None:
        lines[0] += f" ({m.n_entered:,} entered, {m.n_left:,} left)"
    rows = [[lab, *(f"{v:,}" for v in m.counts[k])] for k, lab in enumerate(m.labels)]
    lines += _table(["before \\ after", *m.labels], rows)
    return "\n".join(lines)


def format_budget(alloc: BudgetAllocation, *, value_format: str = ",.2f") -> str:
    """The budget allocation as text: budget, customers and budget per customer per tier."""
    header = ["tier", "budget", "customers", "per customer"] + (["value per budget"] if alloc.values is not None
                                                                 else [])
    rows = []
    for k, lab in enumerate(alloc.labels):
        row = [lab, f"{alloc.budget[k]:{value_format}}", f"{alloc.counts[k]:,}",
               f"{alloc.per_customer[k]:{value_format}}"]
        if alloc.value_per_budget is not None:
            row.append(f"{alloc.value_per_budget[k]:.2f}")
        rows.append(row)
    lines = [f"Ring-fenced budget: total {alloc.budget.sum():{value_format}}, unspent "
             f"{alloc.unspent:{value_format}} (empty tiers)", *_table(header, rows)]
    return "\n".join(lines)
