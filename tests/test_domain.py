"""Example-based tests of the domain entities and enums: construction, immutability, JSON, vocabularies.

The validation rules are tested in test_domain_inputs.py, the round-trip properties in test_domain_properties.py.
"""

from __future__ import annotations

import enum
import json
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import pytest
from pydantic import BaseModel, TypeAdapter, ValidationError

import clvkit.domain as domain
from clvkit.domain import (
    AccountManagerLevel,
    Channel,
    Closeness,
    Contact,
    Customer,
    CustomerKind,
    Employee,
    LifecycleStage,
    OrgLevel,
    Relationship,
    RelationshipGrade,
    RelationshipPyramidStage,
    RelationshipType,
    SatisfactionLevel,
    Touchpoint,
    TouchpointFunction,
    Transaction,
)

IST = timezone(timedelta(hours=5, minutes=30))
NST = timezone(timedelta(hours=-3, minutes=-30))
T0 = datetime(2024, 3, 1, 9, 15, 30, 123456, tzinfo=IST)

# Complete, valid keyword arguments per entity: every optional field is filled so that the JSON
# round trip exercises every field type.
VALID: dict[type[BaseModel], dict[str, Any]] = {
    Customer: {
        "customer_id": "C-1",
        "name": "Acme Trading",
        "kind": CustomerKind.INTERMEDIARY,
        "industry": "retail",
        "region": "East",
        "segment": "dealers",
        "tags": ("kol", "north"),
        "acquired_at": T0,
        "lifecycle_stage": LifecycleStage.RETAINED,
        "satisfaction": SatisfactionLevel.LOYAL,
        "referred_by": "C-0",
        "acquisition_cost": 250.75,
    },
    Transaction: {
        "customer_id": "C-1",
        "timestamp": T0,
        "amount": 99.99,
        "currency": "CNY",
        "transaction_id": "T-1",
        "is_refund": False,
    },
    Employee: {
        "employee_id": "E-1",
        "name": "Li Wei",
        "level": AccountManagerLevel.PERSONAL_ADVISER,
        "team": "Key accounts",
        "active": False,
        "left_at": datetime(2024, 12, 31, 17, 0, tzinfo=NST),
    },
    Contact: {
        "contact_id": "P-1",
        "customer_id": "C-1",
        "name": "Ms Chen",
        "org_level": OrgLevel.DECISION_MAKER,
        "is_successor": True,
    },
    Relationship: {
        "employee_id": "E-1",
        "contact_id": "P-1",
        "customer_id": "C-1",
        "employee_level": AccountManagerLevel.ACCOUNT_MANAGER,
        "contact_level": OrgLevel.MANAGER,
        "strength": 0.625,
        "grade": RelationshipGrade.DIE_HARD,
        "closeness": Closeness.CONFIDANT,
        "pyramid_stage": RelationshipPyramidStage.COOPERATIVE,
        "relationship_type": RelationshipType.FACE_TO_FACE,
        "start": T0,
        "end": datetime(2025, 1, 2, 3, 4, 5, tzinfo=NST),
    },
    Touchpoint: {
        "touchpoint_id": "TP-1",
        "customer_id": "C-1",
        "timestamp": T0,
        "channel": Channel.EVENT,
        "employee_id": "E-1",
        "contact_id": "P-1",
        "functions": TouchpointFunction.CARE | TouchpointFunction.INTELLIGENCE,
    },
}
ENTITIES = list(VALID)

# Fields every entity requires, i.e. without a default.
REQUIRED: dict[type[BaseModel], set[str]] = {
    Customer: {"customer_id", "kind"},
    Transaction: {"customer_id", "timestamp", "amount"},
    Employee: {"employee_id", "level"},
    Contact: {"contact_id", "customer_id", "org_level"},
    Relationship: {"employee_id", "contact_id", "customer_id", "strength", "start"},
    Touchpoint: {"customer_id", "timestamp", "channel", "employee_id", "functions"},
}

M = TypeVar("M", bound=BaseModel)


def make(model: type[M], **changes: Any) -> M:
    return model(**{**VALID[model], **changes})


# --- construction --------------------------------------------------------------------------------


@pytest.mark.parametrize("model", ENTITIES, ids=lambda m: m.__name__)
def test_full_construction_keeps_every_value(model: type[BaseModel]) -> None:
    entity = make(model)
    for name, value in VALID[model].items():
        assert getattr(entity, name) == value


@pytest.mark.parametrize("model", ENTITIES, ids=lambda m: m.__name__)
def test_required_fields_are_exactly_the_documented_ones(model: type[BaseModel]) -> None:
    assert {n for n, f in model.model_fields.items() if f.is_required()} == REQUIRED[model]
    minimal = model(**{k: VALID[model][k] for k in REQUIRED[model]})
    assert minimal.model_dump(include=REQUIRED[model]) == {k: VALID[model][k] for k in REQUIRED[model]}


@pytest.mark.parametrize("model", ENTITIES, ids=lambda m: m.__name__)
def test_every_field_is_documented(model: type[BaseModel]) -> None:
    undocumented = [n for n, f in model.model_fields.items() if not f.description]
    assert undocumented == []


def test_defaults() -> None:
    t = Transaction(customer_id="C", timestamp=T0, amount=1.0)
    assert (t.currency, t.is_refund, t.transaction_id) == ("USD", False, None)
    e = Employee(employee_id="E", level=AccountManagerLevel.SALES_REP)
    assert (e.active, e.left_at) == (True, None)
    c = Contact(contact_id="P", customer_id="C", org_level=OrgLevel.USER)
    assert c.is_successor is False
    assert Customer(customer_id="C", kind="consumer").tags == ()


def test_inputs_are_coerced_to_the_enum_types() -> None:
    c = make(Customer, kind="public_interest", satisfaction="not_dissatisfied", lifecycle_stage=4)
    assert c.kind is CustomerKind.PUBLIC_INTEREST
    assert c.satisfaction is SatisfactionLevel.NOT_DISSATISFIED
    assert c.lifecycle_stage is LifecycleStage.ADVOCATE
    tp = make(Touchpoint, functions=["deal", TouchpointFunction.SERVICE], channel="phone")
    assert tp.functions == TouchpointFunction.DEAL | TouchpointFunction.SERVICE
    assert tp.channel is Channel.PHONE
    assert make(Touchpoint, functions=5).functions == TouchpointFunction.CARE | TouchpointFunction.DEAL


def test_refunds_negative_or_flagged() -> None:
    assert make(Transaction, amount=-30.0).amount == -30.0
    assert make(Transaction, amount=-30.0, is_refund=True).is_refund
    assert make(Transaction, amount=0.0, is_refund=True).amount == 0.0


def test_boundary_values_are_accepted() -> None:
    assert make(Relationship, strength=0.0).strength == 0.0
    assert make(Relationship, strength=1).strength == 1.0
    assert make(Customer, acquisition_cost=0.0).acquisition_cost == 0.0
    assert make(Relationship, end=T0).end == T0  # a zero-length relationship is allowed
    # 09:30 UTC is after 08:00 UTC even though the wall-clock time 09:30 is earlier than 10:00.
    start = datetime(2024, 1, 1, 10, 0, tzinfo=timezone(timedelta(hours=2)))
    end = datetime(2024, 1, 1, 9, 30, tzinfo=timezone.utc)
    assert make(Relationship, start=start, end=end).end == end


def test_unix_time_and_zoneinfo_inputs_are_aware() -> None:
    t = make(Transaction, timestamp=1_700_000_000)
    assert t.timestamp == datetime(2023, 11, 14, 22, 13, 20, tzinfo=timezone.utc)
    berlin = datetime(2024, 7, 1, 12, tzinfo=ZoneInfo("Europe/Berlin"))
    back = Transaction.model_validate_json(make(Transaction, timestamp=berlin).model_dump_json())
    assert back.timestamp == berlin
    assert back.timestamp.utcoffset() == timedelta(hours=2)


# --- immutability and strictness -----------------------------------------------------------------


@pytest.mark.parametrize("model", ENTITIES, ids=lambda m: m.__name__)
def test_entities_are_frozen_and_hashable(model: type[BaseModel]) -> None:
    entity = make(model)
    first = next(iter(model.model_fields))
    with pytest.raises(ValidationError, match="frozen"):
        setattr(entity, first, "changed")
    assert getattr(entity, first) == VALID[model][first]
    assert hash(entity) == hash(make(model))
    assert model.model_config.get("frozen") is True
    assert model.model_config.get("extra") == "forbid"


@pytest.mark.parametrize("model", ENTITIES, ids=lambda m: m.__name__)
def test_extra_fields_are_forbidden(model: type[BaseModel]) -> None:
    with pytest.raises(ValidationError) as info:
        make(model, colour="blue")
    assert [e["loc"] for e in info.value.errors()] == [("colour",)]
    data = json.loads(make(model).model_dump_json())
    data["colour"] = "blue"
    with pytest.raises(ValidationError, match="colour"):
        model.model_validate_json(json.dumps(data))


# --- JSON ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("model", ENTITIES, ids=lambda m: m.__name__)
def test_json_round_trip_is_exact(model: type[BaseModel]) -> None:
    entity = make(model)
    back = model.model_validate_json(entity.model_dump_json())
    assert back == entity
    assert back.model_dump_json() == entity.model_dump_json()
    for name, value in VALID[model].items():
        if isinstance(value, datetime):
            assert getattr(back, name).utcoffset() == value.utcoffset(), name
    assert model.model_validate(entity.model_dump()) == entity


@pytest.mark.parametrize("model", ENTITIES, ids=lambda m: m.__name__)
def test_json_schema_is_available(model: type[BaseModel]) -> None:
    for mode in ("validation", "serialization"):
        schema = model.model_json_schema(mode=mode)
        assert set(schema["properties"]) == set(model.model_fields)


def test_json_forms_of_enums_and_offsets() -> None:
    data = json.loads(make(Touchpoint).model_dump_json())
    assert data["functions"] == ["CARE", "INTELLIGENCE"]
    assert data["channel"] == "event"
    assert data["timestamp"] == "2024-03-01T09:15:30.123456+05:30"
    rel = json.loads(make(Relationship).model_dump_json())
    assert rel["closeness"] == "CONFIDANT"
    assert rel["relationship_type"] == "face_to_face"
    assert rel["end"] == "2025-01-02T03:04:05-03:30"
    # Python-mode dumps keep the enum objects.
    assert isinstance(make(Touchpoint).model_dump()["functions"], TouchpointFunction)


def test_functions_accept_the_integer_form_in_json() -> None:
    data = json.loads(make(Touchpoint).model_dump_json())
    data["functions"] = 17
    assert Touchpoint.model_validate_json(json.dumps(data)) == make(Touchpoint)


# --- enums ---------------------------------------------------------------------------------------

LADDERS: dict[type[enum.IntEnum], list[str]] = {
    OrgLevel: ["USER", "MANAGER", "DECISION_MAKER", "EXECUTIVE"],
    AccountManagerLevel: ["PRODUCT_PUSHER", "SALES_REP", "ACCOUNT_MANAGER", "PERSONAL_ADVISER", "STRATEGIC_PARTNER"],
    LifecycleStage: ["LEAD", "CONVERTED", "RETAINED", "ADVOCATE"],
    SatisfactionLevel: ["DISSATISFIED", "NOT_DISSATISFIED", "SATISFIED", "LOYAL", "RECOMMENDS"],
    RelationshipGrade: ["LOOSE", "CLOSE", "DIE_HARD", "STRATEGIC_PARTNER"],
    Closeness: ["PASSER_BY", "ACQUAINTANCE", "FRIEND", "CONFIDANT"],
    RelationshipPyramidStage: ["BASIC", "COOPERATIVE", "INTERDEPENDENT"],
}


@pytest.mark.parametrize("ladder", list(LADDERS), ids=lambda c: c.__name__)
def test_ladders_rank_from_one_in_documented_order(ladder: type[enum.IntEnum]) -> None:
    assert issubclass(ladder, enum.IntEnum)
    members = [ladder[name] for name in LADDERS[ladder]]
    assert [m.value for m in members] == list(range(1, len(members) + 1))
    assert sorted(reversed(members)) == members
    assert list(ladder) == members
    adapter = TypeAdapter(ladder)
    for m in members:
        assert adapter.dump_json(m) == f'"{m.name}"'.encode()
        assert adapter.validate_json(adapter.dump_json(m)) is m
        assert adapter.validate_python(m.name.lower()) is m
        assert adapter.validate_python(m.value) is m


def test_unordered_vocabularies() -> None:
    assert {k.value for k in CustomerKind} == {"consumer", "intermediary", "public_interest"}
    assert {t.value for t in RelationshipType} == {"intimate", "face_to_face", "distant", "brand"}
    assert [c.value for c in Channel] == ["visit", "phone", "email", "message", "event", "online", "other"]
    for vocabulary in (CustomerKind, RelationshipType, Channel):
        assert not issubclass(vocabulary, int)


def test_touchpoint_functions_are_independent_bits() -> None:
    names = ["CARE", "INFORMATION", "DEAL", "SERVICE", "INTELLIGENCE"]
    assert [f.name for f in TouchpointFunction] == names
    values = [f.value for f in TouchpointFunction]
    assert all(v & (v - 1) == 0 for v in values)
    assert len(set(values)) == len(values)


def test_public_names() -> None:
    expected = {
        "AccountManagerLevel", "Channel", "Closeness", "Contact", "Customer", "CustomerKind", "Employee",
        "LifecycleStage", "OrgLevel", "Relationship", "RelationshipGrade", "RelationshipPyramidStage",
        "RelationshipType", "SatisfactionLevel", "Touchpoint", "TouchpointFunction", "Transaction",
    }  # fmt: skip
    assert set(domain.__all__) == expected
    assert all(hasattr(domain, name) for name in expected)
    assert domain.__doc__
