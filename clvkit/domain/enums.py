"""The vocabularies of the domain: customer kinds, channels, ladders and touchpoint functions.

Three families of enumeration live here.

* **Ladders** (:class:`OrgLevel`, :class:`AccountManagerLevel`, :class:`LifecycleStage`,
  :class:`SatisfactionLevel`, :class:`RelationshipGrade`, :class:`Closeness`,
  :class:`RelationshipPyramidStage`) are :class:`enum.IntEnum` subclasses whose values are ranks starting
  at 1, so ``SatisfactionLevel.LOYAL > SatisfactionLevel.SATISFIED`` holds and ladders can be sorted and
  thresholded. The ladders are deliberately separate types: a member of one ladder is refused where
  another ladder is expected, even though ``IntEnum`` members compare as plain integers in Python.
* **Unordered vocabularies** (:class:`CustomerKind`, :class:`RelationshipType`, :class:`Channel`) are
  string enums; their value is a lower-case word.
* :class:`TouchpointFunction` is an :class:`enum.Flag`: one touchpoint may serve several functions.

How they are written to JSON (by every Pydantic model that uses them): string enums by their value,
ladders by their member name (``"NOT_DISSATISFIED"``, not the rank, so that stored files keep their meaning
if a rung is ever added) and flag sets as the list of member names (``["CARE", "DEAL"]``). On input a
ladder accepts its member, its name (any letter case) or its integer rank; a flag set accepts the flag,
a list of names or members, or its integer bit value.

Examples
--------
>>> SatisfactionLevel.LOYAL > SatisfactionLevel.SATISFIED
True
>>> max([Closeness.FRIEND, Closeness.ACQUAINTANCE]).name
'FRIEND'
>>> fn = TouchpointFunction.CARE | TouchpointFunction.DEAL
>>> TouchpointFunction.DEAL in fn, TouchpointFunction.SERVICE in fn
(True, False)
>>> [m.name for m in TouchpointFunction if m in fn]
['CARE', 'DEAL']
"""

from __future__ import annotations

import enum
from typing import Any

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler, ValidationInfo
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, core_schema

__all__ = [
    "AccountManagerLevel",
    "Channel",
    "Closeness",
    "CustomerKind",
    "LifecycleStage",
    "OrgLevel",
    "RelationshipGrade",
    "RelationshipPyramidStage",
    "RelationshipType",
    "SatisfactionLevel",
    "TouchpointFunction",
]


def _field_name(info: ValidationInfo) -> str:
    return info.field_name or "value"


def _first_line(doc: str | None) -> str:
    lines = (doc or "").strip().splitlines()
    return lines[0] if lines else ""


class _Ladder(enum.IntEnum):
    """Base of the ordered enums: ranks from 1, JSON by member name, other ladders refused on input."""

    @classmethod
    def _coerce(cls, value: object, info: ValidationInfo) -> _Ladder:
        if isinstance(value, cls):
            return value
        field = _field_name(info)
        names = ", ".join(m.name for m in cls)
        ranks = f"{min(cls).value}-{max(cls).value}"
        if isinstance(value, enum.Enum):
            # IntEnum members of another ladder are ints too; accepting them would silently equate,
            # say, Closeness.FRIEND with SatisfactionLevel.SATISFIED because both have rank 3.
            raise ValueError(
                f"'{field}' must be a {cls.__name__}; got {type(value).__name__}.{value.name}, a member of "
                f"another enum. Pass one of {names}."
            )
        if isinstance(value, str):
            member = cls.__members__.get(value.upper())
            if member is not None:
                return member
        elif isinstance(value, int) and not isinstance(value, bool):
            try:
                return cls(value)
            except ValueError:
                pass
        raise ValueError(
            f"'{field}' must be a {cls.__name__}: one of {names} (a name in any letter case) or its rank "
            f"{ranks}; got {value!r}."
        )

    @staticmethod
    def _dump(member: _Ladder) -> str:
        return member.name

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.with_info_plain_validator_function(
            cls._coerce,
            serialization=core_schema.plain_serializer_function_ser_schema(cls._dump, when_used="json"),
        )

    @classmethod
    def __get_pydantic_json_schema__(cls, schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        by_name: JsonSchemaValue = {"type": "string", "enum": [m.name for m in cls]}
        if handler.mode == "validation":
            by_rank: JsonSchemaValue = {"type": "integer", "enum": [m.value for m in cls]}
            return {"title": cls.__name__, "description": _first_line(cls.__doc__), "anyOf": [by_name, by_rank]}
        return {"title": cls.__name__, "description": _first_line(cls.__doc__), **by_name}


class CustomerKind(str, enum.Enum):
    """What kind of party a customer is (unordered).

    ``CONSUMER`` buys for its own use; ``INTERMEDIARY`` resells (a dealer or retailer); ``PUBLIC_INTEREST``
    is a public-interest body (government agency, school, hospital, association).
    """

    CONSUMER = "consumer"
    INTERMEDIARY = "intermediary"
    PUBLIC_INTEREST = "public_interest"


class OrgLevel(_Ladder):
    """Seniority of a person in the customer's organisation, lowest first.

    ``USER`` uses the product; ``MANAGER`` runs the users; ``DECISION_MAKER`` decides the purchase;
    ``EXECUTIVE`` is top management above the purchase decision (chief executive, owner, board), the
    "senior people" that hierarchical binding says to reach early. clvkit chose these four rungs; the
    texts name only decision makers, managers and users. There is no "other" rung because an ordered
    ladder has no place for it: map people outside the hierarchy to the nearest rung.
    """

    USER = 1
    MANAGER = 2
    DECISION_MAKER = 3
    EXECUTIVE = 4


class AccountManagerLevel(_Ladder):
    """Level of the company's own person who handles a customer, lowest first.

    From pushing products to being the customer's strategic partner: ``PRODUCT_PUSHER`` <
    ``SALES_REP`` < ``ACCOUNT_MANAGER`` < ``PERSONAL_ADVISER`` < ``STRATEGIC_PARTNER``.
    """

    PRODUCT_PUSHER = 1
    SALES_REP = 2
    ACCOUNT_MANAGER = 3
    PERSONAL_ADVISER = 4
    STRATEGIC_PARTNER = 5


class LifecycleStage(_Ladder):
    """Where a customer stands in the lifecycle, earliest first.

    Attract (``LEAD``), convert (``CONVERTED``: first purchase made), repurchase (``RETAINED``: has bought
    again) and refer (``ADVOCATE``: brings new customers).
    """

    LEAD = 1
    CONVERTED = 2
    RETAINED = 3
    ADVOCATE = 4


class SatisfactionLevel(_Ladder):
    """The satisfaction ladder ("five-star relationship"), lowest first.

    ``DISSATISFIED`` < ``NOT_DISSATISFIED`` < ``SATISFIED`` < ``LOYAL`` < ``RECOMMENDS``; the rank is the
    number of stars.
    """

    DISSATISFIED = 1
    NOT_DISSATISFIED = 2
    SATISFIED = 3
    LOYAL = 4
    RECOMMENDS = 5


class RelationshipGrade(_Ladder):
    """Grade of the relationship between the company and a customer, loosest first.

    ``LOOSE`` < ``CLOSE`` < ``DIE_HARD`` < ``STRATEGIC_PARTNER`` (松散型, 紧密型, 死党型, 战略合作伙伴关系: 张子凡 CRM
    notes, text 003).
    """

    LOOSE = 1
    CLOSE = 2
    DIE_HARD = 3
    STRATEGIC_PARTNER = 4


class Closeness(_Ladder):
    """Personal closeness between two people, most distant first.

    ``PASSER_BY`` < ``ACQUAINTANCE`` < ``FRIEND`` < ``CONFIDANT`` (过客, 熟人, 朋友, 知己). Text 004's rule of
    thumb: of 100 contacts roughly 50 become acquaintances, 10 friends and 3-5 confidants.
    """

    PASSER_BY = 1
    ACQUAINTANCE = 2
    FRIEND = 3
    CONFIDANT = 4


class RelationshipPyramidStage(_Ladder):
    """Stage of the relationship pyramid, base first.

    ``BASIC``: equal exchange. ``COOPERATIVE``: useful, not sensitive, information is shared.
    ``INTERDEPENDENT``: sensitive information is shared and problems are solved together. A stage is
    reached only once the one below it is satisfied.
    """

    BASIC = 1
    COOPERATIVE = 2
    INTERDEPENDENT = 3


class RelationshipType(str, enum.Enum):
    """How a relationship is carried (unordered): intimate, face to face, at a distance, or via the brand."""

    INTIMATE = "intimate"
    FACE_TO_FACE = "face_to_face"
    DISTANT = "distant"
    BRAND = "brand"


class Channel(str, enum.Enum):
    """The channel a touchpoint used (unordered)."""

    VISIT = "visit"
    PHONE = "phone"
    EMAIL = "email"
    MESSAGE = "message"
    EVENT = "event"
    ONLINE = "online"
    OTHER = "other"


class TouchpointFunction(enum.Flag):
    """The functions a touchpoint served; combine with ``|`` because one contact may serve several.

    ``CARE`` (looking after the customer), ``INFORMATION`` (giving information), ``DEAL`` (moving a deal
    forward), ``SERVICE`` (delivering service) and ``INTELLIGENCE`` (gathering intelligence).
    """

    CARE = 1
    INFORMATION = 2
    DEAL = 4
    SERVICE = 8
    INTELLIGENCE = 16

    @classmethod
    def _coerce(cls, value: object, info: ValidationInfo) -> TouchpointFunction:
        if isinstance(value, cls):
            return value
        field = _field_name(info)
        names = ", ".join(m.name or "" for m in _members())
        if isinstance(value, int) and not isinstance(value, bool):
            if 0 <= value <= _ALL_BITS:
                return cls(value)
            raise ValueError(
                f"'{field}' as an integer must be a bit set between 0 and {_ALL_BITS}; got {value}. "
                f"Pass a list of names instead, e.g. ['CARE', 'DEAL'] (names: {names})."
            )
        if isinstance(value, (list, tuple, set, frozenset)):
            result = cls(0)
            for item in value:
                result |= _one_function(item, field, names)
            return result
        raise ValueError(
            f"'{field}' must be a TouchpointFunction, a list of its names such as ['CARE', 'DEAL'] or an "
            f"integer bit set; got {value!r}. Names: {names}."
        )

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.with_info_plain_validator_function(
            cls._coerce,
            serialization=core_schema.plain_serializer_function_ser_schema(_function_names, when_used="json"),
        )

    @classmethod
    def __get_pydantic_json_schema__(cls, schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        as_list: JsonSchemaValue = {
            "type": "array",
            "items": {"type": "string", "enum": [m.name for m in _members()]},
            "uniqueItems": True,
        }
        head = {"title": cls.__name__, "description": _first_line(cls.__doc__)}
        if handler.mode == "validation":
            return {**head, "anyOf": [as_list, {"type": "integer", "minimum": 0, "maximum": _ALL_BITS}]}
        return {**head, **as_list}


def _members() -> list[TouchpointFunction]:
    # Iterating the class lists the single-bit members in definition order on every Python >= 3.10
    # (iterating a *value* only works from 3.11 on, so it is avoided).
    return list(TouchpointFunction)


_ALL_BITS = sum(m.value for m in TouchpointFunction)


def _one_function(item: object, field: str, names: str) -> TouchpointFunction:
    if isinstance(item, TouchpointFunction):
        return item
    if isinstance(item, str):
        member = TouchpointFunction.__members__.get(item.upper())
        if member is not None:
            return member
    raise ValueError(f"'{field}' lists {item!r}, which is not a touchpoint function. Use names from: {names}.")


def _function_names(functions: TouchpointFunction) -> list[str]:
    """The JSON form of a flag set: names of its single functions in definition order."""
    return [m.name or "" for m in _members() if m in functions]
