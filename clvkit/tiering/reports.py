"""Reports on tier assignments: inventory ("take stock of the base") and migration between snapshots.

:func:`inventory` counts customers and value per tier and measures value concentration;
:func:`migration` compares two snapshots tier by tier. :func:`format_inventory` and :func:`format_migration`
render them as plain text (for the CLI and the demo).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from .._display import block, key_value_table, number, percent, shorten, table
from .._texttable import table_lines
from ..errors import InvalidInputError
from ..i18n import N_, Translator, translator
from ._assignment import TierAssignment
from ._inputs import read_values
from .concentration import DEFAULT_TOP_SHARES, Concentration, _from_sorted
from .cuts import QuantileCut

__all__ = ["Inventory", "Migration", "format_inventory", "format_migration", "inventory", "migration"]

FloatArray = npt.NDArray[np.float64]
CountArray = npt.NDArray[np.intp]


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

    def __repr__(self) -> str:
        gini = "" if self.concentration is None else f", Gini {number(self.concentration.gini)}"
        return shorten(f"Inventory({self.policy}: {number(self.n_customers)} customers in {len(self.labels)} tiers, "
                       f"total value {number(self.total_value)}{gini})")

    def _repr_html_(self) -> str:
        rows = [[self.labels[k], int(self.counts[k]), percent(float(self.count_shares[k])), float(self.values[k]),
                 percent(float(self.value_shares[k])), float(self.mean_values[k])]
                for k in _display_order(len(self.labels), self.ordered, self.policy)]
        parts = [table(["tier", "customers", "customers %", "value", "value %", "mean value"], rows)]
        c = self.concentration
        if c is not None:
            parts.append(key_value_table([("Gini", c.gini), *((f"top {p:.0%} hold", percent(v))
                                                               for p, v in c.top_shares.items())],
                                         caption="Concentration of value"))
        if self.class_counts is not None:
            order = _display_order(len(self.labels), self.ordered, self.policy)
            parts.append(table(["tier", *self.class_labels],
                               [[self.labels[k], *(int(v) for v in self.class_counts[k])] for k in order],
                               caption="Customers by tier and class"))
        note = "Concentration not reported: some values are negative." if c is None else None
        return block(f"Inventory ({self.policy}): {self.n_customers:,} customers, total value "
                     f"{number(self.total_value)}", *parts, note=note)

    def cumulative_shares(self) -> tuple[FloatArray, FloatArray]:
        """Shares of the customers and of the value in the tiers up to each tier, lowest tier first.

        Two arrays of shape (n_tiers,): entry ``k`` is the share of all customers, and of all value, in tiers
        ``0..k`` (the last entries are 1, or 0 for a value share of a zero total). For tiers cut by value
        (:class:`~clvkit.tiering.FiveA`, :class:`~clvkit.tiering.KeyCustomers`) these are points of the Lorenz
        curve, at the tier boundaries; for other orders they lie on or above it.

        Examples
        --------
        >>> from clvkit.tiering import KeyCustomers
        >>> v = [1.0, 1.0, 1.0, 1.0, 6.0]
        >>> population, value = inventory(v, KeyCustomers().assign(v)).cumulative_shares()
        >>> population.tolist(), value.tolist()
        ([0.8, 1.0], [0.4, 1.0])
        """
        return np.cumsum(self.count_shares), np.cumsum(self.value_shares)


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
    x = read_values(values, assignment, where)
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


# ---------------------------------------------------------------------------------------------- text
#: The names of clvkit's policies in report titles (the class names are the API's; FiveA and KeyCustomers keep
#: theirs in English, the texts' 5A 分级 and 关键客户 in Chinese).
_POLICY_NAMES = {
    "FiveA": N_("FiveA"), "KeyCustomers": N_("KeyCustomers"),
    "ValueRiskMatrix": N_("value x churn risk matrix"), "ValueCostMatrix": N_("value x acquisition cost matrix"),
    "StarRating": N_("star rating"), "RFMSegments": N_("RFM segments"), "LifecycleStage": N_("lifecycle stage"),
    "LoyaltyProgram": N_("loyalty program"),
}


def policy_name(policy: str, *, lang: str | None = None) -> str:
    """The plain name of a policy (its class name, as in :attr:`TierAssignment.policy`) in the reader's language.

    A policy of your own is named as given.

    Examples
    --------
    >>> policy_name("ValueRiskMatrix", lang="en"), policy_name("ValueRiskMatrix", lang="zh")
    ('value x churn risk matrix', '价值×流失风险矩阵')
    >>> policy_name("MyPolicy", lang="zh")
    'MyPolicy'
    """
    return translator(lang)(_POLICY_NAMES.get(policy, policy))


def _display_order(n: int, ordered: bool, policy: str = "") -> list[int]:
    # Ordered tiers read top-down (highest first), as managers list them; a matrix's cells in the order a manager
    # acts on them (DISPLAY_ORDER); other unordered ones in code order.
    from .matrix import DISPLAY_ORDER

    cells = DISPLAY_ORDER.get(policy)
    if cells is not None and sorted(cells) == list(range(n)):
        return list(cells)
    return list(range(n - 1, -1, -1)) if ordered else list(range(n))


def _group_word(policy: str, tr: Translator) -> str:
    """The header of the tiers column: "cell" (象限) for a matrix's cells, else "tier" (层级)."""
    from .matrix import DISPLAY_ORDER

    return tr("cell") if policy in DISPLAY_ORDER else tr("tier")


def _tier_naming(inv_labels: Sequence[str], ordered: bool, policy: Any, lang: str | None
                 ) -> tuple[dict[str, str], list[str]]:
    """Printed tier names (with the rank) and the provenance lines of ``policy``'s defaults."""
    from .matrix import VALUE_RISK_CUTS_SOURCE, VALUE_RISK_LABELS, VALUE_RISK_LEGEND, ValueRiskMatrix
    from .treatment import five_a_provenance, key_customer_provenance, tier_names
    from .value import FiveA, KeyCustomers

    tr = translator(lang)
    shares: tuple[float, ...] | None = None
    notes: list[str] = []
    if isinstance(policy, FiveA):
        if isinstance(policy.cut, QuantileCut):
            shares = policy.cut.shares
            notes.append(five_a_provenance(shares, policy.labels, lang=lang))
        notes.append(tr("{top} is the top tier and {bottom} the bottom tier: the number is the rank (1 = best), not "
                        "a count of A's as in 5A scenic-spot ratings.", top=policy.labels[-1],
                        bottom=policy.labels[0]))
    elif isinstance(policy, KeyCustomers):
        shares = (1.0 - policy.share, policy.share)
        notes.append(key_customer_provenance(policy.share, lang=lang))
    elif isinstance(policy, ValueRiskMatrix):
        if policy.labels == VALUE_RISK_LABELS:  # the legend names the default cells
            notes.append(tr(VALUE_RISK_LEGEND))
        if policy.value_cut == ValueRiskMatrix().value_cut and policy.risk_cut == ValueRiskMatrix().risk_cut:
            notes.append(tr(VALUE_RISK_CUTS_SOURCE))
    return tier_names(inv_labels, shares=shares, ordered=ordered, lang=lang), notes


def format_inventory(inv: Inventory, *, value_format: str = ",.2f", title: str | None = None,
                     lang: str | None = None, policy: Any = None, treatments: Any = None,
                     legend: bool = True) -> str:
    """The inventory as a plain-text report in the reader's language.

    The tiers table (top tier first, each tier named with its rank), the value concentration, the share of
    value held by the least valuable customers (Lorenz curve), customers by tier and class, a legend of the
    columns and statistics words, the provenance of the policy's defaults and what to do with each tier.

    Parameters
    ----------
    inv:
        From :func:`inventory`.
    value_format:
        Format of the value columns.
    title:
        The first line (default: the policy, the customers and the total value).
    lang:
        ``"en"``, ``"zh"`` or ``None`` for the locale's language.
    policy:
        The policy that made the assignment: a :class:`~clvkit.tiering.FiveA` or
        :class:`~clvkit.tiering.KeyCustomers` adds the tiers' shares to their names and says where its
        defaults come from.
    treatments:
        A :class:`~clvkit.tiering.TreatmentTable` (default :data:`~clvkit.tiering.DEFAULT_TREATMENTS`, which
        covers the 5A tiers and key customers); ``False`` leaves the treatments out.
    legend:
        Whether to explain the columns and statistics words under the table.

    Examples
    --------
    >>> from clvkit.tiering import KeyCustomers
    >>> v = [1.0, 1.0, 1.0, 1.0, 6.0]
    >>> print(format_inventory(inventory(v, KeyCustomers().assign(v)), lang="en", legend=False, treatments=False))
    Customer inventory (KeyCustomers): 5 customers, total value 10.00
    tier            customers  customers %  value  value %  mean value
    --------------  ---------  -----------  -----  -------  ----------
    key (highest)           1        20.0%   6.00    60.0%        6.00
    other (lowest)          4        80.0%   4.00    40.0%        1.00
    Concentration of value: the top 1% of customers hold 60.0%, the top 10% hold 60.0%, the top 20% hold 60.0%; Gini 0.400
    Value held by the least valuable customers (Lorenz curve): 10%: 5.0%, 20%: 10.0%, 30%: 15.0%, 40%: 20.0%, 50%: 25.0%, 60%: 30.0%, 70%: 35.0%, 80%: 40.0%, 90%: 70.0%, 100%: 100.0%
    >>> print(format_inventory(inventory(v, KeyCustomers().assign(v)), lang="zh", policy=KeyCustomers(),
    ...                        legend=False, treatments=False).splitlines()[3])
    关键客户（价值最高的 20%）       1     20.0%  6.00     60.0%      6.00
    """  # noqa: E501
    from .treatment import DEFAULT_TREATMENTS, format_treatments

    tr = translator(lang)
    names, notes = _tier_naming(inv.labels, inv.ordered, policy, lang)
    head = title or tr("Customer inventory ({policy}): {count} customers, total value {total}",
                       policy=policy_name(inv.policy, lang=lang),
                       count=f"{inv.n_customers:,}", total=f"{inv.total_value:{value_format}}")
    rows = [[names[inv.labels[k]], f"{inv.counts[k]:,}", f"{inv.count_shares[k]:.1%}",
             f"{inv.values[k]:{value_format}}", f"{inv.value_shares[k]:.1%}", f"{inv.mean_values[k]:{value_format}}"]
            for k in _display_order(len(inv.labels), inv.ordered, inv.policy)]
    headers = [_group_word(inv.policy, tr), tr("customers"), tr("customers %"), tr("value"), tr("value %"),
               tr("mean value")]
    lines = [head, *table_lines(headers, rows)]
    c = inv.concentration
    if c is None:
        lines.append(tr("Concentration of value: not reported (some values are negative)."))
    else:
        items = list(c.top_shares.items())
        tops = [tr("the top {top} of customers hold {share}", top=f"{items[0][0]:.0%}", share=f"{items[0][1]:.1%}")]
        tops += [tr("the top {top} hold {share}", top=f"{p:.0%}", share=f"{v:.1%}") for p, v in items[1:]]
        # i18n: separator between the items of a list in a sentence (Chinese uses a full-width comma)
        lines.append(tr("Concentration of value: {items}; Gini {gini}", items=tr(", ").join(tops),
                        gini=f"{c.gini:.3f}"))
        deciles = np.interp(np.linspace(0.1, 1.0, 10), c.lorenz_population, c.lorenz_value)
        pts = tr(", ").join(tr("{population}: {share}", population=f"{(i + 1) * 10}%", share=f"{y:.1%}")
                            for i, y in enumerate(deciles))
        lines.append(tr("Value held by the least valuable customers (Lorenz curve): {points}", points=pts))
    if inv.class_counts is not None:
        order = _display_order(len(inv.labels), inv.ordered, inv.policy)
        rows = [[names[inv.labels[k]], *(f"{v:,}" for v in inv.class_counts[k])] for k in order]
        lines += [tr("Customers by tier and class:"),
                  *table_lines([tr("tier"), *(tr(x) for x in inv.class_labels)], rows)]
    if legend:
        lines += [tr("Legend:"),
                  tr("  customers % = share of all customers; value % = share of the total value; mean value = value "
                     "per customer"),
                  tr("  the top 10% hold = share of the total value held by the most valuable 10% of customers"),
                  tr("  Gini = concentration of value: 0 when every customer is worth the same, near 1 when a few "
                     "customers hold almost all of it"),
                  tr("  Lorenz curve = share of the value held by the least valuable 10%, 20%, ... of customers")]
    lines += notes
    if treatments is not False:
        text = format_treatments(inv.labels, DEFAULT_TREATMENTS if treatments is None else treatments,
                                 names=names, ordered=inv.ordered, lang=lang)
        if text:
            lines += ["", text]
    return "\n".join(lines)


def format_migration(m: Migration, *, lang: str | None = None) -> str:
    """The migration matrix (counts, rows = before, columns = after) and the move rates as text.

    ``lang`` is ``"en"``, ``"zh"`` or ``None`` for the locale's language.

    Examples
    --------
    >>> from clvkit.tiering import KeyCustomers
    >>> p = KeyCustomers(share=0.5)
    >>> print(format_migration(migration(p.assign([1.0, 2.0, 3.0, 4.0]), p.assign([4.0, 3.0, 2.0, 1.0])), lang="en"))
    Migration of 4 customers: 0.0% stayed in their tier, 50.0% moved up, 50.0% moved down
    before \\ after  other  key
    --------------  -----  ---
    other               0    2
    key                 2    0
    """
    tr = translator(lang)
    count, stay = f"{m.n_customers:,}", f"{m.stay_rate:.1%}"
    if m.up_rate is not None and m.down_rate is not None:
        head = tr("Migration of {count} customers: {stay} stayed in their tier, {up} moved up, {down} moved down",
                  count=count, stay=stay, up=f"{m.up_rate:.1%}", down=f"{m.down_rate:.1%}")
    else:
        head = tr("Migration of {count} customers: {stay} stayed in their group", count=count, stay=stay)
    if m.n_entered is not None:
        head += tr(" ({entered} entered, {left} left)", entered=f"{m.n_entered:,}", left=f"{m.n_left or 0:,}")
    rows = [[tr(lab), *(f"{v:,}" for v in m.counts[k])] for k, lab in enumerate(m.labels)]
    lines = [head, *table_lines([tr("before \\ after"), *(tr(lab) for lab in m.labels)], rows)]
    return "\n".join(lines)
