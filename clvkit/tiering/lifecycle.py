"""The lifecycle ladder: lead -> first purchase -> repeat -> advocate, from purchase and referral counts.

Codes follow :class:`clvkit.domain.LifecycleStage`: code ``k`` is ``LifecycleStage(k + 1)``
(``LEAD``, ``CONVERTED``, ``RETAINED``, ``ADVOCATE``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from pydantic import Field

from ..domain.enums import LifecycleStage as Stage
from ._assignment import IntArray, TierAssignment, readonly
from ._config import FrozenConfig
from ._inputs import Column, read_columns

__all__ = ["LifecycleStage"]


class LifecycleStage(FrozenConfig):
    """Lifecycle stage of every customer (the tiering policy; the ladder itself is
    :class:`clvkit.domain.LifecycleStage`).

    Reads ``transactions`` (number of purchases, a non-negative whole number), ``referrals`` (number of
    customers they brought) and optionally ``customer_id``:

    * ``LEAD``: no purchase yet;
    * ``CONVERTED``: at least one purchase;
    * ``RETAINED``: at least ``repeat_purchases`` purchases (bought again);
    * ``ADVOCATE``: at least ``referrals_needed`` referrals, on top of being retained (or only converted
      when ``advocate_needs_repeat`` is false). A stage is reached only once the one below it is.

    Parameters
    ----------
    repeat_purchases:
        Purchases that make a customer retained (default 2: the first purchase and one more).
    referrals_needed:
        Referrals that make a customer an advocate (default 1).
    advocate_needs_repeat:
        Whether an advocate must also be retained (default true: "the ideal customers bring new ones").

    Examples
    --------
    >>> policy = LifecycleStage()
    >>> a = policy.assign(transactions=[0, 1, 3, 5, 1], referrals=[2, 0, 0, 1, 4])
    >>> a.tier_labels().tolist()
    ['LEAD', 'CONVERTED', 'RETAINED', 'ADVOCATE', 'CONVERTED']
    >>> [s.name for s in policy.stages(a)][:2]
    ['LEAD', 'CONVERTED']
    >>> a.explain(3)
    'customer 3: tier ADVOCATE because 5 purchases >= 2 and 1 referrals >= 1'
    """

    repeat_purchases: int = Field(default=2, ge=2)
    referrals_needed: int = Field(default=1, ge=1)
    advocate_needs_repeat: bool = True

    @property
    def labels(self) -> tuple[str, ...]:
        """Stage names, lowest first: the :class:`clvkit.domain.LifecycleStage` member names."""
        return tuple(s.name for s in Stage)

    def assign(self, data: Any = None, /, **columns: Any) -> TierAssignment:
        """The lifecycle stage (code = rank - 1) of every customer.

        Raises
        ------
        InvalidInputError
            When a column is missing or has the wrong shape, or rows hold NaN, infinite or out-of-range
            values (the first offending rows are named).
        """
        specs = [Column("transactions", "count"), Column("referrals", "count"), Column("customer_id", "label", False)]
        cols = read_columns(data, columns, specs, "LifecycleStage.assign()")
        t, r = cols["transactions"], cols["referrals"]
        converted = t >= 1
        retained = t >= self.repeat_purchases
        advocate = (r >= self.referrals_needed) & (retained if self.advocate_needs_repeat else converted)
        codes: IntArray = converted.view(np.int8).copy()
        codes += retained.view(np.int8)
        np.maximum(codes, advocate.view(np.int8) * np.int8(3), out=codes)
        rep, ref = self.repeat_purchases, self.referrals_needed
        few_refs = f" and {{referrals:.0f}} referrals < {ref}"
        rules = (
            "{transactions:.0f} purchases",
            f"{{transactions:.0f}} purchases >= 1 and < {rep}" + ("" if self.advocate_needs_repeat else few_refs),
            f"{{transactions:.0f}} purchases >= {rep}" + few_refs,
            f"{{transactions:.0f}} purchases >= {rep if self.advocate_needs_repeat else 1} "
            f"and {{referrals:.0f}} referrals >= {ref}",
        )
        return TierAssignment(codes=readonly(codes), labels=self.labels, reasons=readonly(codes), rules=rules,
                              policy="LifecycleStage", features={"transactions": readonly(t), "referrals": readonly(r)},
                              customer_id=cols.get("customer_id"))

    def stages(self, assignment: TierAssignment) -> list[Stage]:
        """The :class:`clvkit.domain.LifecycleStage` member of every customer (a Python list)."""
        members = list(Stage)
        return [members[c] for c in assignment.codes.tolist()]

    def stage_ranks(self, assignment: TierAssignment) -> npt.NDArray[np.int8]:
        """Ranks (1-4) of every customer's stage, as in :class:`clvkit.domain.LifecycleStage`."""
        ranks: npt.NDArray[np.int8] = assignment.codes + np.int8(1)
        return ranks
