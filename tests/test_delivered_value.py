"""Customer delivered value (Kotler): entity by hand, batch equal to the entity row by row, inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest
from clvkit.valuation.delivered_value import COST_COMPONENTS, VALUE_COMPONENTS
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from clvkit import InvalidInputError
from clvkit.valuation import CustomerDeliveredValue, DeliveredValueBatch

ALL = VALUE_COMPONENTS + COST_COMPONENTS


def test_entity_by_hand() -> None:
    # total customer value 50+20+15+15 = 100; total customer cost 40+10+8+2 = 60
    c = CustomerDeliveredValue(product_value=50, service_value=20, personnel_value=15, image_value=15,
                               monetary_cost=40, time_cost=10, energy_cost=8, physical_cost=2)
    assert (c.total_customer_value, c.total_customer_cost) == (100.0, 60.0)
    assert c.delivered_value == 40.0
    assert c.delivered_value_ratio == pytest.approx(100 / 60, rel=1e-15)


def test_ratio_edge_cases_keep_the_sign_rule() -> None:
    assert CustomerDeliveredValue(product_value=5.0).delivered_value_ratio == math.inf
    nothing = CustomerDeliveredValue()
    assert nothing.delivered_value == 0.0 and nothing.delivered_value_ratio == 1.0
    assert CustomerDeliveredValue(time_cost=3.0).delivered_value_ratio == 0.0


def test_entity_validation_and_json() -> None:
    for bad in ({"product_value": -1.0}, {"time_cost": float("nan")}, {"image_value": float("inf")},
                {"loyalty": 1.0}):
        with pytest.raises(InvalidInputError, match=f"'{next(iter(bad))}'"):
            CustomerDeliveredValue(**bad)  # type: ignore[arg-type]
    c = CustomerDeliveredValue(customer_id="C-9", product_value=1.5, energy_cost=0.25)
    assert CustomerDeliveredValue.model_validate_json(c.model_dump_json()) == c
    with pytest.raises(ValidationError):
        c.product_value = 2.0  # type: ignore[misc]


component = st.floats(0.0, 1e6, allow_nan=False, allow_infinity=False)


@settings(max_examples=100, deadline=None)
@given(rows=st.lists(st.tuples(*[component] * 8), min_size=1, max_size=20))
def test_batch_equals_entities_row_by_row(rows: list[tuple[float, ...]]) -> None:
    entities = [CustomerDeliveredValue(customer_id=i, **dict(zip(ALL, r, strict=True))) for i, r in enumerate(rows)]
    batch = DeliveredValueBatch.from_entities(entities)
    assert len(batch) == len(rows)
    for i, e in enumerate(entities):
        assert batch.total_customer_value[i] == pytest.approx(e.total_customer_value, rel=1e-15)
        assert batch.total_customer_cost[i] == pytest.approx(e.total_customer_cost, rel=1e-15)
        assert batch.delivered_value[i] == pytest.approx(e.delivered_value, rel=1e-12, abs=1e-9)
        assert batch.delivered_value_ratio[i] == pytest.approx(e.delivered_value_ratio, rel=1e-15)
        assert batch.entity(i) == e
        assert (batch.delivered_value[i] > 0) == (batch.delivered_value_ratio[i] > 1)


def test_batch_from_keywords_frames_and_broadcast() -> None:
    b = DeliveredValueBatch(product_value=[10.0, 20.0], monetary_cost=5.0, customer_id=["a", "b"])
    assert b.delivered_value.tolist() == [5.0, 15.0] and b.column("time_cost").tolist() == [0.0, 0.0]
    with pytest.raises(ValueError, match="read-only"):
        b.column("product_value")[0] = 1.0
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({"id": [1, 2], "product_value": [3.0, 4.0], "time_cost": [1.0, 5.0]})
    f = DeliveredValueBatch.from_frame(df, customer_id="id")
    assert f.delivered_value.tolist() == [2.0, -1.0] and f.customer_id is not None
    m = DeliveredValueBatch.from_frame({"service_value": np.array([1.0]), "physical_cost": np.array([2.0])})
    assert m.delivered_value_ratio.tolist() == [0.5]
    assert len(DeliveredValueBatch()) == 0


def test_batch_errors_name_columns_and_customers() -> None:
    with pytest.raises(InvalidInputError) as err:
        DeliveredValueBatch(product_value=[1.0, -2.0], time_cost=[np.nan, 1.0], customer_id=["a", "b"])
    assert err.value.columns == ("product_value", "time_cost")
    assert "customer_id='b'" in str(err.value) and "customer_id='a'" in str(err.value)
    with pytest.raises(InvalidInputError, match="unknown components"):
        DeliveredValueBatch(price=[1.0])
    with pytest.raises(InvalidInputError, match="do not match"):
        DeliveredValueBatch(product_value=[1.0, 2.0], time_cost=[1.0, 2.0, 3.0])
    with pytest.raises(InvalidInputError, match="no column"):
        DeliveredValueBatch(product_value=[1.0]).column("price")
