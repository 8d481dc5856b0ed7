"""Policies by name, for command lines and configuration files.

:func:`make_policy` builds a policy from its name and a JSON (or mapping) configuration;
:func:`tier_report` assigns a batch and renders the inventory as text. Together they are what a
``clvkit tier`` command needs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import InvalidInputError
from ..i18n import check_language
from ..protocols import TieringPolicy
from ._assignment import TierAssignment
from ._config import FrozenConfig
from ._inputs import Column, read_columns
from .lifecycle import LifecycleStage
from .loyalty import LoyaltyProgram
from .matrix import ValueCostMatrix, ValueRiskMatrix
from .reports import format_inventory, inventory
from .rfm import RFMSegments
from .scorecard import StarRating
from .value import FiveA, KeyCustomers

__all__ = ["POLICIES", "make_policy", "tier_report"]

#: Command-line names of the policies.
POLICIES: Mapping[str, type[FrozenConfig]] = {
    "five-a": FiveA,
    "key-customers": KeyCustomers,
    "star-rating": StarRating,
    "rfm": RFMSegments,
    "value-cost": ValueCostMatrix,
    "value-risk": ValueRiskMatrix,
    "loyalty": LoyaltyProgram,
    "lifecycle": LifecycleStage,
}


def make_policy(name: str, config: str | Mapping[str, Any] | None = None) -> TieringPolicy:
    """The policy called ``name`` (a key of :data:`POLICIES`), configured from JSON text or a mapping.

    Raises
    ------
    InvalidInputError
        For an unknown name or an invalid configuration (naming the field).

    Examples
    --------
    >>> make_policy("key-customers", '{"share": 0.1}')
    KeyCustomers(share=0.1, labels=('other', 'key'))
    >>> make_policy("five-a", {"cut": {"kind": "thresholds", "thresholds": [10, 100, 1000, 10000]}}).cut.thresholds
    (10.0, 100.0, 1000.0, 10000.0)
    """
    cls = POLICIES.get(name)
    if cls is None:
        raise InvalidInputError(f"Unknown tiering policy {name!r}. Choose one of {sorted(POLICIES)}.")
    if config is None:
        policy: Any = cls()
    elif isinstance(config, str):
        policy = cls.model_validate_json(config)
    else:
        policy = cls.model_validate(dict(config))
    if not isinstance(policy, TieringPolicy):  # pragma: no cover - every registered class has assign()
        raise InvalidInputError(f"{cls.__name__} is not a tiering policy.")
    return policy


def tier_report(policy: TieringPolicy, data: Any, *, value_column: str = "value", title: str | None = None,
                lang: str | None = None, treatments: Any = None) -> tuple[TierAssignment, str]:
    """Assign ``data`` with ``policy`` and take stock: the assignment and the text inventory.

    ``data`` is anything :meth:`TieringPolicy.assign` reads (a mapping of columns, a data frame, ...); the
    inventory values are its ``value_column``. The text is in ``lang`` (``"en"``, ``"zh"`` or ``None`` for the
    locale's language) and ends with what to do with each tier (``treatments``, a
    :class:`~clvkit.tiering.TreatmentTable`; default clvkit's, for the 5A tiers and key customers).

    Examples
    --------
    >>> a, text = tier_report(make_policy("key-customers"), {"value": [1.0, 2.0, 3.0, 4.0, 10.0]}, lang="en")
    >>> print(text.splitlines()[0])
    Customer inventory (KeyCustomers): 5 customers, total value 20.00
    """
    check_language(lang)
    assignment = policy.assign(data)
    try:
        values = read_columns(data, {}, [Column(value_column)], "tier_report()")[value_column]
    except InvalidInputError:
        raise InvalidInputError(
            f"tier_report() takes stock of the '{value_column}' column, which the data lacks. Add the customers' "
            f"values (e.g. CLV) or name the column with value_column=."
        ) from None
    return assignment, format_inventory(inventory(values, assignment), title=title, lang=lang, policy=policy,
                                        treatments=treatments)
