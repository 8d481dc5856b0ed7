"""Ring-fenced tier budgets: each tier's maintenance budget is spent on that tier's customers only."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from .._texttable import table_lines
from .._validation import as_float_array
from ..errors import InvalidInputError
from ..i18n import translator
from ._assignment import TierAssignment
from ._inputs import read_values

__all__ = ["BudgetAllocation", "budget_allocation", "format_budget"]

FloatArray = npt.NDArray[np.float64]
CountArray = npt.NDArray[np.intp]


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
        weights = read_values(values, assignment, where)
        per_tier = np.asarray(np.bincount(assignment.codes, weights=weights, minlength=k), dtype=np.float64)
        value_ratio = np.divide(per_tier, amounts, out=np.zeros(k), where=amounts > 0)
    return BudgetAllocation(labels=assignment.labels, budget=amounts, counts=counts, per_customer=per_customer,
                            unspent=float(amounts[counts == 0].sum()), values=per_tier,
                            value_per_budget=value_ratio)


def format_budget(alloc: BudgetAllocation, *, value_format: str = ",.2f", lang: str | None = None) -> str:
    """The budget allocation as text: budget, customers and budget per customer per tier.

    ``lang`` is ``"en"``, ``"zh"`` or ``None`` for the locale's language.

    Examples
    --------
    >>> from clvkit.tiering import KeyCustomers
    >>> a = KeyCustomers(share=0.25).assign([1.0, 2.0, 3.0, 4.0])
    >>> print(format_budget(budget_allocation(a, [300.0, 400.0], values=[1.0, 2.0, 3.0, 4.0]), lang="en"))
    Ring-fenced budget: total 700.00, unspent 0.00 (budget of empty tiers)
    tier   budget  customers  per customer  value per budget
    -----  ------  ---------  ------------  ----------------
    other  300.00          3        100.00              0.02
    key    400.00          1        400.00              0.01
    Each tier's budget is spent on that tier's customers only (ring-fenced).
    """
    tr = translator(lang)
    header = [tr("tier"), tr("budget"), tr("customers"), tr("per customer")] + \
        ([tr("value per budget")] if alloc.values is not None else [])
    rows = []
    for k, lab in enumerate(alloc.labels):
        row = [tr(lab), f"{alloc.budget[k]:{value_format}}", f"{alloc.counts[k]:,}",
               f"{alloc.per_customer[k]:{value_format}}"]
        if alloc.value_per_budget is not None:
            row.append(f"{alloc.value_per_budget[k]:.2f}")
        rows.append(row)
    lines = [tr("Ring-fenced budget: total {total}, unspent {unspent} (budget of empty tiers)",
                total=f"{alloc.budget.sum():{value_format}}", unspent=f"{alloc.unspent:{value_format}}"),
             *table_lines(header, rows),
             tr("Each tier's budget is spent on that tier's customers only (ring-fenced).")]
    return "\n".join(lines)
