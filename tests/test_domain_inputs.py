"""Input validation of the domain entities: every rule refuses bad input with a message naming the field.

Each case starts from a minimal valid record (required fields only) and changes one field, so the error
reported is the one under test.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import pytest
from pydantic import BaseModel, ValidationError

from clvkit.domain import (
    AccountManagerLevel,
    Channel,
    Closeness,
    Contact,
    Customer,
    CustomerKind,
    Employee,
    OrgLevel,
    Relationship,
    Touchpoint,
    TouchpointFunction,
    Transaction,
)

T0 = datetime(2024, 3, 1, 9, 15, 30, tzinfo=timezone(timedelta(hours=5, minutes=30)))

MINIMAL: dict[type[BaseModel], dict[str, Any]] = {
    Customer: {"customer_id": "C-1", "kind": CustomerKind.CONSUMER},
    Transaction: {"customer_id": "C-1", "timestamp": T0, "amount": 99.99},
    Employee: {"employee_id": "E-1", "level": AccountManagerLevel.SALES_REP},
    Contact: {"contact_id": "P-1", "customer_id": "C-1", "org_level": OrgLevel.USER},
    Relationship: {"employee_id": "E-1", "contact_id": "P-1", "customer_id": "C-1", "strength": 0.5, "start": T0},
    Touchpoint: {
        "customer_id": "C-1",
        "timestamp": T0,
        "channel": Channel.VISIT,
        "employee_id": "E-1",
        "functions": TouchpointFunction.CARE,
    },
}

ID_FIELDS = [
    (Customer, "customer_id"),
    (Customer, "referred_by"),
    (Transaction, "customer_id"),
    (Transaction, "transaction_id"),
    (Employee, "employee_id"),
    (Contact, "contact_id"),
    (Contact, "customer_id"),
    (Relationship, "employee_id"),
    (Relationship, "contact_id"),
    (Relationship, "customer_id"),
    (Touchpoint, "touchpoint_id"),
    (Touchpoint, "customer_id"),
    (Touchpoint, "employee_id"),
    (Touchpoint, "contact_id"),
]
TIME_FIELDS = [
    (Customer, "acquired_at"),
    (Transaction, "timestamp"),
    (Employee, "left_at"),
    (Relationship, "start"),
    (Relationship, "end"),
    (Touchpoint, "timestamp"),
]


M = TypeVar("M", bound=BaseModel)


def make(model: type[M], **changes: Any) -> M:
    return model(**{**MINIMAL[model], **changes})


def rejects(model: type[BaseModel], **changes: Any) -> tuple[tuple[int | str, ...], str]:
    """Build ``model`` with ``changes``, expect exactly one error and return its location and message."""
    with pytest.raises(ValidationError) as info:
        make(model, **changes)
    errors = info.value.errors()
    assert len(errors) == 1, errors
    return tuple(errors[0]["loc"]), errors[0]["msg"]


# --- validation rules ----------------------------------------------------------------------------


@pytest.mark.parametrize("blank", ["", " ", "\t\n"])
@pytest.mark.parametrize(("model", "field"), ID_FIELDS, ids=lambda x: getattr(x, "__name__", x))
def test_blank_ids_are_rejected(model: type[BaseModel], field: str, blank: str) -> None:
    loc, msg = rejects(model, **{field: blank})
    assert loc == (field,)
    assert f"'{field}' must be a non-empty identifier" in msg


def test_ids_are_kept_verbatim() -> None:
    assert make(Customer, customer_id=" C-1 ").customer_id == " C-1 "


def test_non_string_id_is_rejected() -> None:
    loc, _ = rejects(Customer, customer_id=17)
    assert loc == ("customer_id",)


@pytest.mark.parametrize(("model", "field"), TIME_FIELDS, ids=lambda x: getattr(x, "__name__", x))
def test_naive_datetimes_are_rejected_with_the_fix(model: type[BaseModel], field: str) -> None:
    loc, msg = rejects(model, **{field: datetime(2020, 2, 3, 4, 5)})
    assert loc == (field,)
    assert f"'{field}' must be timezone-aware" in msg
    assert "Attach a time zone, e.g. datetime(2020, 2, 3, 4, 5, tzinfo=timezone.utc)" in msg


def test_naive_iso_string_is_rejected_from_json() -> None:
    data = json.loads(make(Transaction).model_dump_json())
    data["timestamp"] = "2024-03-01T09:15:30"
    with pytest.raises(ValidationError, match="'timestamp' must be timezone-aware"):
        Transaction.model_validate_json(json.dumps(data))
    data["timestamp"] = "2024-03-01T09:15:30Z"
    assert Transaction.model_validate_json(json.dumps(data)).timestamp.utcoffset() == timedelta(0)


def test_sub_minute_offsets_are_rejected() -> None:
    lmt = datetime(1890, 1, 1, tzinfo=ZoneInfo("Europe/Amsterdam"))  # local mean time, +00:19:32
    assert lmt.utcoffset() == timedelta(minutes=19, seconds=32)
    loc, msg = rejects(Transaction, timestamp=lmt)
    assert loc == ("timestamp",)
    assert "not a whole number of minutes" in msg
    assert "astimezone(timezone.utc)" in msg
    assert make(Transaction, timestamp=lmt.astimezone(timezone.utc)).timestamp == lmt


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_amounts_are_rejected(bad: float) -> None:
    loc, msg = rejects(Transaction, amount=bad)
    assert loc == ("amount",)
    assert "'amount' must be a finite number" in msg


def test_non_finite_amount_is_rejected_from_json() -> None:
    text = make(Transaction).model_dump_json().replace('"amount":99.99', '"amount":NaN')
    with pytest.raises(ValidationError, match="'amount' must be a finite number"):
        Transaction.model_validate_json(text)


def test_flagged_refund_with_positive_amount_is_rejected() -> None:
    _, msg = rejects(Transaction, amount=12.5, is_refund=True)
    assert "'amount' must be <= 0 when 'is_refund' is True" in msg
    assert "amount=-12.5" in msg


@pytest.mark.parametrize(("bad", "hint"), [("usd", "Did you mean 'USD'?"), ("US", ""), ("USDT", ""), ("U$D", "")])
def test_bad_currency_codes_are_rejected(bad: str, hint: str) -> None:
    loc, msg = rejects(Transaction, currency=bad)
    assert loc == ("currency",)
    assert "'currency' must be a three-letter upper-case ISO 4217 code" in msg
    assert hint in msg
    assert ("Did you mean" in msg) == bool(hint)


def test_self_referral_is_rejected() -> None:
    loc, msg = rejects(Customer, customer_id="C-9", referred_by="C-9")
    assert loc == ("referred_by",)
    assert "'referred_by' must differ from 'customer_id'" in msg


@pytest.mark.parametrize("bad", [-0.01, float("nan"), float("inf")])
def test_bad_acquisition_cost_is_rejected(bad: float) -> None:
    loc, msg = rejects(Customer, acquisition_cost=bad)
    assert loc == ("acquisition_cost",)
    assert "'acquisition_cost' must be a finite number >= 0" in msg


@pytest.mark.parametrize("bad", [-0.001, 1.001, float("nan"), float("inf")])
def test_strength_outside_unit_interval_is_rejected(bad: float) -> None:
    loc, msg = rejects(Relationship, strength=bad)
    assert loc == ("strength",)
    assert "'strength' must be in [0, 1]" in msg


def test_end_before_start_is_rejected() -> None:
    start = datetime(2024, 1, 1, 10, 0, tzinfo=timezone.utc)
    end = datetime(2024, 1, 1, 11, 59, tzinfo=timezone(timedelta(hours=2)))  # 09:59 UTC
    loc, msg = rejects(Relationship, start=start, end=end)
    assert loc == ("end",)
    assert "'end' must not be before 'start'" in msg
    assert "end=None" in msg


@pytest.mark.parametrize("empty", [[], 0, TouchpointFunction(0)])
def test_touchpoint_without_function_is_rejected(empty: object) -> None:
    loc, msg = rejects(Touchpoint, functions=empty)
    assert loc == ("functions",)
    assert "'functions' must contain at least one function" in msg


@pytest.mark.parametrize(
    ("bad", "fragment"),
    [
        (32, "'functions' as an integer must be a bit set between 0 and 31"),
        (-1, "'functions' as an integer must be a bit set"),
        (True, "'functions' must be a TouchpointFunction"),
        ("CARE", "'functions' must be a TouchpointFunction"),
        (["CARE", "GOSSIP"], "'functions' lists 'GOSSIP'"),
        ([1], "'functions' lists 1"),
    ],
)
def test_bad_function_sets_are_rejected(bad: object, fragment: str) -> None:
    loc, msg = rejects(Touchpoint, functions=bad)
    assert loc == ("functions",)
    assert fragment in msg


@pytest.mark.parametrize(
    ("bad", "fragment"),
    [
        (Closeness.FRIEND, "got Closeness.FRIEND, a member of another enum"),
        ("happy", "'satisfaction' must be a SatisfactionLevel"),
        (0, "its rank 1-5; got 0"),
        (6, "its rank 1-5; got 6"),
        (True, "got True"),
        (3.0, "got 3.0"),
    ],
)
def test_bad_ladder_values_are_rejected(bad: object, fragment: str) -> None:
    loc, msg = rejects(Customer, satisfaction=bad)
    assert loc == ("satisfaction",)
    assert fragment in msg


@pytest.mark.parametrize("bad", ["", "  "])
def test_blank_labels_and_tags_are_rejected(bad: str) -> None:
    for field, value in [("name", bad), ("region", bad), ("tags", ("ok", bad))]:
        loc, msg = rejects(Customer, **{field: value})
        assert loc[0] == field
        assert "must not be empty or only whitespace" in msg
        assert "Pass None when it is unknown" in msg


def test_duplicate_tags_are_rejected() -> None:
    loc, msg = rejects(Customer, tags=("kol", "vip", "kol"))
    assert loc == ("tags",)
    assert "['kol'] appear more than once" in msg


def test_all_problems_are_reported_together() -> None:
    with pytest.raises(ValidationError) as info:
        Transaction(customer_id="", timestamp=datetime(2024, 1, 1), amount=float("nan"), currency="eur")
    assert {e["loc"] for e in info.value.errors()} == {("customer_id",), ("timestamp",), ("amount",), ("currency",)}


def test_validation_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="customer_id"):
        Customer(customer_id="", kind=CustomerKind.CONSUMER)
