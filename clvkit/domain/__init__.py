"""Typed per-record domain entities (Pydantic v2).

The entities (:class:`Customer`, :class:`Transaction`, :class:`Touchpoint`, :class:`Relationship`,
:class:`Employee`, :class:`Contact`) are immutable, refuse unknown fields and round-trip exactly through
JSON (``Model.model_validate_json(x.model_dump_json()) == x``). Datetimes must be timezone-aware and
keep their UTC offset. The enums are the vocabularies and ladders of the domain; see
:mod:`clvkit.domain.enums` for how they are ordered and serialised.
"""

from .commerce import Customer, Transaction
from .enums import (
    AccountManagerLevel,
    Channel,
    Closeness,
    CustomerKind,
    LifecycleStage,
    OrgLevel,
    RelationshipGrade,
    RelationshipPyramidStage,
    RelationshipType,
    SatisfactionLevel,
    TouchpointFunction,
)
from .relations import Contact, Employee, Relationship, Touchpoint

__all__ = [
    "AccountManagerLevel",
    "Channel",
    "Closeness",
    "Contact",
    "Customer",
    "CustomerKind",
    "Employee",
    "LifecycleStage",
    "OrgLevel",
    "Relationship",
    "RelationshipGrade",
    "RelationshipPyramidStage",
    "RelationshipType",
    "SatisfactionLevel",
    "Touchpoint",
    "TouchpointFunction",
    "Transaction",
]
