"""Property tests of the domain entities: the JSON round trip is exact for any valid entity."""

from __future__ import annotations

import functools
import math
import operator
from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, TypeAdapter, ValidationError

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

# --- strategies ----------------------------------------------------------------------------------

# Every whole-minute offset strictly inside +-24 h, which is what ISO 8601 and Python's timezone allow.
offsets = st.integers(min_value=-(24 * 60 - 1), max_value=24 * 60 - 1).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
# The whole datetime range except the first and last day, where a large offset would move the instant
# outside the range Python can represent.
aware_datetimes = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=offsets)
finite_floats = st.floats(allow_nan=False, allow_infinity=False)
ids = st.text(min_size=1, max_size=12).filter(lambda s: s.strip() != "")
labels = st.none() | ids
single_functions = st.sampled_from(list(TouchpointFunction))
function_sets = st.sets(single_functions, min_size=1).map(
    lambda fs: functools.reduce(operator.or_, fs, TouchpointFunction(0))
)


def optional(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | strategy


@st.composite
def customers(draw: st.DrawFn) -> Customer:
    customer_id = draw(ids)
    return Customer(
        customer_id=customer_id,
        name=draw(labels),
        kind=draw(st.sampled_from(CustomerKind)),
        industry=draw(labels),
        region=draw(labels),
        segment=draw(labels),
        tags=tuple(draw(st.lists(ids, unique=True, max_size=4))),
        acquired_at=draw(optional(aware_datetimes)),
        lifecycle_stage=draw(optional(st.sampled_from(LifecycleStage))),
        satisfaction=draw(optional(st.sampled_from(SatisfactionLevel))),
        referred_by=draw(optional(ids.filter(lambda r: r != customer_id))),
        acquisition_cost=draw(optional(finite_floats.map(abs))),
    )


@st.composite
def transactions(draw: st.DrawFn) -> Transaction:
    amount = draw(finite_floats)
    return Transaction(
        customer_id=draw(ids),
        timestamp=draw(aware_datetimes),
        amount=amount,
        currency=draw(st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=3, max_size=3)),
        transaction_id=draw(labels),
        is_refund=draw(st.booleans()) if amount <= 0 else False,
    )


employees = st.builds(
    Employee,
    employee_id=ids,
    name=labels,
    level=st.sampled_from(AccountManagerLevel),
    team=labels,
    active=st.booleans(),
    left_at=optional(aware_datetimes),
)
contacts = st.builds(
    Contact,
    contact_id=ids,
    customer_id=ids,
    name=labels,
    org_level=st.sampled_from(OrgLevel),
    is_successor=st.booleans(),
)


@st.composite
def relationships(draw: st.DrawFn) -> Relationship:
    start, other = draw(aware_datetimes), draw(optional(aware_datetimes))
    end = None if other is None else max(start, other)  # aware comparison: by instant, whatever the offsets
    return Relationship(
        employee_id=draw(ids),
        contact_id=draw(ids),
        customer_id=draw(ids),
        employee_level=draw(optional(st.sampled_from(AccountManagerLevel))),
        contact_level=draw(optional(st.sampled_from(OrgLevel))),
        strength=draw(st.floats(min_value=0.0, max_value=1.0)),
        grade=draw(optional(st.sampled_from(RelationshipGrade))),
        closeness=draw(optional(st.sampled_from(Closeness))),
        pyramid_stage=draw(optional(st.sampled_from(RelationshipPyramidStage))),
        relationship_type=draw(optional(st.sampled_from(RelationshipType))),
        start=start,
        end=end,
    )


touchpoints = st.builds(
    Touchpoint,
    touchpoint_id=labels,
    customer_id=ids,
    timestamp=aware_datetimes,
    channel=st.sampled_from(Channel),
    employee_id=ids,
    contact_id=labels,
    functions=function_sets,
)

entities = st.one_of(customers(), transactions(), employees, contacts, relationships(), touchpoints)


def datetimes_of(entity: BaseModel) -> dict[str, datetime]:
    return {name: value for name, value in entity if isinstance(value, datetime)}


# --- properties ----------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(entities)
def test_json_round_trip_is_exact(entity: BaseModel) -> None:
    model = type(entity)
    text = entity.model_dump_json()
    back = model.model_validate_json(text)
    assert back == entity
    assert back.model_dump_json() == text
    # Equality of aware datetimes compares instants only; the offset must survive as well.
    for name, value in datetimes_of(entity).items():
        assert getattr(back, name).utcoffset() == value.utcoffset(), name
    for name, value in entity:
        if isinstance(value, float):
            assert math.copysign(1.0, getattr(back, name)) == math.copysign(1.0, value), name  # keeps -0.0


@settings(deadline=None)
@given(entities)
def test_python_round_trip_is_exact(entity: BaseModel) -> None:
    assert type(entity).model_validate(entity.model_dump()) == entity


@settings(deadline=None)
@given(function_sets)
def test_function_set_forms_agree(functions: TouchpointFunction) -> None:
    adapter = TypeAdapter(TouchpointFunction)
    names = [str(f.name) for f in TouchpointFunction if f in functions]
    assert adapter.validate_python(functions.value) == functions
    assert adapter.validate_python(names) == functions
    assert adapter.validate_python([n.lower() for n in reversed(names)]) == functions
    assert adapter.dump_python(functions, mode="json") == names


@settings(deadline=None)
@given(start=aware_datetimes, end=aware_datetimes)
def test_relationship_end_is_checked_by_instant(start: datetime, end: datetime) -> None:
    kwargs: dict[str, Any] = {"employee_id": "E", "contact_id": "P", "customer_id": "C", "strength": 0.5}
    if end >= start:
        assert Relationship(start=start, end=end, **kwargs).end == end
    else:
        with pytest.raises(ValidationError, match="'end' must not be before 'start'"):
            Relationship(start=start, end=end, **kwargs)


@settings(deadline=None)
@given(amount=finite_floats, is_refund=st.booleans())
def test_flagged_refunds_never_add_revenue(amount: float, is_refund: bool) -> None:
    ts = datetime(2024, 1, 1, tzinfo=timezone.utc)
    if is_refund and amount > 0:
        with pytest.raises(ValidationError, match="'amount' must be <= 0 when 'is_refund' is True"):
            Transaction(customer_id="C", timestamp=ts, amount=amount, is_refund=is_refund)
    else:
        assert Transaction(customer_id="C", timestamp=ts, amount=amount, is_refund=is_refund).amount == amount


@settings(deadline=None)
@given(
    local=st.datetimes(min_value=datetime(1800, 1, 1), max_value=datetime(2100, 1, 1)),
    zone=st.sampled_from(["Europe/Amsterdam", "Asia/Kolkata", "America/St_Johns", "Asia/Kathmandu", "Africa/Monrovia"]),
)
def test_zoneinfo_datetimes_round_trip_or_are_refused(local: datetime, zone: str) -> None:
    aware = local.replace(tzinfo=ZoneInfo(zone))
    offset = aware.utcoffset()
    assert offset is not None
    kwargs: dict[str, Any] = {"customer_id": "C", "amount": 1.0}
    # A wall time in a spring-forward gap does not exist (independent check: it does not survive UTC and back).
    in_gap = aware.astimezone(timezone.utc).astimezone(aware.tzinfo).replace(tzinfo=None) != local
    if offset % timedelta(minutes=1):
        with pytest.raises(ValidationError, match="not a whole number of minutes"):
            Transaction(timestamp=aware, **kwargs)
    elif in_gap:
        with pytest.raises(ValidationError, match="does not exist there"):
            Transaction(timestamp=aware, **kwargs)
    else:
        t = Transaction(timestamp=aware, **kwargs)
        back = Transaction.model_validate_json(t.model_dump_json())
        assert back == t
        assert back.timestamp.utcoffset() == offset


def test_daylight_saving_gap_is_refused_and_fold_round_trips() -> None:
    # Found by Hypothesis: 2000-04-02 00:01 did not exist in St. John's (clocks jumped to 01:01, -02:30);
    # it was accepted and then compared unequal to its own JSON round trip (PEP 495 gap semantics).
    kwargs: dict[str, Any] = {"customer_id": "C", "amount": 1.0}
    with pytest.raises(ValidationError, match="does not exist there"):
        Transaction(timestamp=datetime(2000, 4, 2, 0, 1, tzinfo=ZoneInfo("America/St_Johns")), **kwargs)
    # The repeated hour of a fall-back (fold=1 is the second, standard-time 02:30) keeps its own offset.
    second = datetime(2000, 10, 29, 2, 30, fold=1, tzinfo=ZoneInfo("Europe/Amsterdam"))
    t = Transaction(timestamp=second, **kwargs)
    assert t.timestamp.utcoffset() == timedelta(hours=1)
    assert Transaction.model_validate_json(t.model_dump_json()) == t
