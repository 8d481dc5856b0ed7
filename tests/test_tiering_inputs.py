"""Tiering inputs: every kind of source is read alike, and every bad configuration or batch is a typed error
that names the field (and, for data, the first bad rows)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from clvkit.errors import InvalidInputError
from clvkit.tiering import (
    AxisCut,
    Criterion,
    FiveA,
    KeyCustomers,
    LifecycleStage,
    LoyaltyProgram,
    QuantileCut,
    RFMSegments,
    Scorecard,
    SegmentRule,
    StarRating,
    ThresholdCut,
    ValueCostMatrix,
    ValueRiskMatrix,
)


def error_of(fn: Any) -> InvalidInputError:
    with pytest.raises(InvalidInputError) as info:
        fn()
    return info.value


# ---------------------------------------------------------------------------------------------- configuration
@pytest.mark.parametrize(("make", "field"), [
    (lambda: ThresholdCut(thresholds=(10, 5, 20)), "thresholds"),
    (lambda: ThresholdCut(thresholds=(10, 10)), "thresholds"),
    (lambda: ThresholdCut(thresholds=()), "thresholds"),
    (lambda: FiveA(cut=ThresholdCut(thresholds=(1, 2, 3))), "cut"),
    (lambda: FiveA(cut={"kind": "thresholds", "thresholds": [4, 3, 2, 1]}), "cut.thresholds"),
    (lambda: QuantileCut(shares=(0.0, 1.0)), "shares"),
    (lambda: QuantileCut(shares=(1.2, -0.2)), "shares"),
    (lambda: QuantileCut(shares=(0.5, 0.6)), "shares"),
    (lambda: QuantileCut(shares=(1.0,)), "shares"),
    (lambda: FiveA(cut={"kind": "quantiles", "shares": [0.2, 0.2, 0.2, 0.2, 0.1]}), "cut.shares"),
    (lambda: KeyCustomers(share=0.0), "share"),
    (lambda: KeyCustomers(share=1.01), "share"),
    (lambda: KeyCustomers(share=math.nan), "share"),
    (lambda: ThresholdCut(thresholds=(1.0, math.nan)), "thresholds.1"),
    (lambda: Scorecard(criteria={"value": 0.5, "frequency": 0.4}), "criteria"),
    (lambda: Scorecard(criteria={"value": 1.0}, cutoffs=(0.5, 0.4)), "cutoffs"),
    (lambda: Scorecard(criteria={"value": 1.0}, cutoffs=(0.5, 1.5)), "cutoffs"),
    (lambda: Scorecard(criteria=()), "criteria"),
    (lambda: StarRating(criteria={"value": 0.7, "frequency": 0.7}), "criteria"),
    (lambda: StarRating(criteria={"value": 1.0}, budget=(1, 2, 3, -4, 5)), "budget"),
    (lambda: StarRating(criteria={"value": 1.0}, labels=("a", "b", "c", "d", "d")), "labels"),
    (lambda: Criterion(name="value", weight=-0.5), "weight"),
    (lambda: Criterion(name="value", weight=math.nan), "weight"),
    (lambda: Criterion(name="value", weight=1.0, low=5.0), "low"),
    (lambda: Criterion(name="value", weight=1.0, low=5.0, high=5.0), "high"),
    (lambda: AxisCut(), "quantile"),
    (lambda: AxisCut(quantile=0.5, threshold=3.0), "quantile"),
    (lambda: AxisCut(quantile=1.0), "quantile"),
    (lambda: ValueCostMatrix(value_cut={"quantile": 1.5}), "value_cut.quantile"),
    (lambda: ValueRiskMatrix(labels=("a", "b", "c")), "labels"),
    (lambda: SegmentRule(name="x", recency=(4, 2)), "recency"),
    (lambda: SegmentRule(name="x", monetary=(0, 5)), "monetary"),
    (lambda: RFMSegments(segments=(SegmentRule(name="a"), SegmentRule(name="a"))), "segments"),
    (lambda: LoyaltyProgram(upgrade=(500, 100), downgrade=(50, 90)), "upgrade"),
    (lambda: LoyaltyProgram(upgrade=(100, 500), downgrade=(200, 300)), "downgrade"),
    (lambda: LoyaltyProgram(upgrade=(100,), downgrade=(50,)), "upgrade"),
    (lambda: LoyaltyProgram(window=0), "window"),
    (lambda: LoyaltyProgram(levels=("gold",), upgrade=(), downgrade=()), "levels"),
    (lambda: LifecycleStage(repeat_purchases=1), "repeat_purchases"),
    (lambda: FiveA(tiers=5), "tiers"),
])
def test_invalid_configuration_names_the_field(make: Any, field: str) -> None:
    err = error_of(make)
    assert field in err.columns, str(err)
    assert "configuration has" in str(err)


def test_configuration_errors_from_mappings_and_json_are_typed_too() -> None:
    err = error_of(lambda: FiveA.model_validate({"cut": {"kind": "quantiles", "shares": [2, -1, 0, 0, 0]}}))
    assert err.columns[0] == "cut.shares"
    err = error_of(lambda: KeyCustomers.model_validate_json('{"share": 3}'))
    assert err.columns == ("share",)
    assert isinstance(err, ValueError)


def test_all_problems_of_a_configuration_are_reported_together() -> None:
    err = error_of(lambda: LoyaltyProgram(levels=("a", "a", "b"), upgrade=(9, 1), downgrade=(10, 0)))
    assert set(err.columns) >= {"levels", "upgrade", "downgrade"}


def test_policies_are_frozen() -> None:
    p = KeyCustomers()
    with pytest.raises(Exception):  # noqa: B017 - Pydantic's frozen-instance ValidationError
        p.share = 0.5  # type: ignore[misc]


# ---------------------------------------------------------------------------------------------- data
def test_nan_values_name_the_column_and_first_rows() -> None:
    err = error_of(lambda: FiveA().assign([1.0, math.nan, 2.0, math.inf, 5.0]))
    assert err.columns == ("value",)
    assert err.problems[0].rows == (1, 3) and err.problems[0].n_bad == 2
    assert "first at row 1, 3" in str(err)


def test_bad_rows_are_named_by_customer_id_when_given() -> None:
    err = error_of(lambda: KeyCustomers().assign(value=[1.0, math.nan], customer_id=[101, 202]))
    assert "customer_id=202" in str(err)


def test_every_data_problem_is_reported_at_once() -> None:
    err = error_of(lambda: LifecycleStage().assign(transactions=[1.5, -1, 2], referrals=[0, math.nan, 0]))
    assert err.columns == ("transactions", "referrals")
    err = error_of(lambda: ValueCostMatrix().assign(value=[1.0]))
    assert err.columns == ("cost",)
    err = error_of(lambda: RFMSegments().assign(frequency=[1.0]))
    assert set(err.columns) == {"monetary_value"}


@pytest.mark.parametrize(("call", "column"), [
    (lambda: FiveA().assign(value=[1.0, 2.0], customer_id=[1, 2, 3]), "customer_id"),
    (lambda: FiveA().assign(valu=[1.0]), "valu"),
    (lambda: FiveA().assign(value=[[1.0, 2.0]]), "value"),
    (lambda: FiveA().assign(value=["a", "b"]), "value"),
    (lambda: FiveA().assign([1.0, 2.0], classes=["consumer", "martian"]), "classes"),
    (lambda: FiveA().assign([1.0, 2.0], classes=[0, 3]), "classes"),
    (lambda: ValueRiskMatrix().assign(value=[1.0], p_alive=[1.5]), "p_alive"),
    (lambda: ValueRiskMatrix().assign(value=[1.0]), "risk"),
    (lambda: ValueRiskMatrix().assign(value=[1.0], risk=[0.1], p_alive=[0.9]), "risk"),
    (lambda: LoyaltyProgram().assign(history=[1.0, 2.0]), "history"),
    (lambda: LoyaltyProgram().assign(history=[[1.0, math.nan]]), "history"),
    (lambda: LoyaltyProgram().assign(history=[[1.0]], initial_level=["platinum"]), "initial_level"),
    (lambda: RFMSegments().assign(frequency=[1.0], monetary_value=[1.0], recency=[1.0]), "time_since_last"),
    (lambda: StarRating(criteria={"value": 0.5, "frequency": 0.5}).assign(value=[1.0]), "frequency"),
])
def test_invalid_batches_name_the_column(call: Any, column: str) -> None:
    assert column in error_of(call).columns


def test_unsupported_source_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="Got int instead"):
        FiveA().assign(42)


# ---------------------------------------------------------------------------------------------- sources
VALUES = [5.0, 1.0, 9.0, 3.0, 7.0, 2.0, 8.0, 4.0, 6.0, 0.0]
IDS = list(range(100, 110))


def expected_codes() -> list[int]:
    return FiveA().assign(np.array(VALUES), customer_id=np.array(IDS)).codes.tolist()


@pytest.mark.parametrize("kind", ["list", "tuple", "array", "mapping", "pandas", "polars", "pyarrow", "series"])
def test_every_source_gives_the_same_tiers(kind: str) -> None:
    data: Any
    if kind == "list":
        data = {"value": VALUES, "customer_id": IDS}
    elif kind == "tuple":
        data = {"value": tuple(VALUES), "customer_id": tuple(IDS)}
    elif kind == "array":
        data = {"value": np.array(VALUES, dtype=np.float32), "customer_id": np.array(IDS)}
    elif kind == "mapping":
        data = {"value": np.array(VALUES), "customer_id": np.array(IDS), "unused": np.zeros(10)}
    elif kind in ("pandas", "series"):
        pd = pytest.importorskip("pandas")
        frame = pd.DataFrame({"value": VALUES, "customer_id": IDS, "other": "x"})
        data = frame if kind == "pandas" else {"value": frame["value"], "customer_id": frame["customer_id"]}
    elif kind == "polars":
        pl = pytest.importorskip("polars")
        data = pl.DataFrame({"value": VALUES, "customer_id": IDS})
    else:
        pa = pytest.importorskip("pyarrow")
        data = pa.table({"value": VALUES, "customer_id": IDS})
    a = FiveA().assign(data) if kind not in ("list", "tuple", "array", "series") else FiveA().assign(**data)
    assert a.codes.tolist() == expected_codes()
    assert a.customer_id is not None and a.customer_id.tolist() == IDS


def test_a_bare_array_is_the_value_column_and_keywords_override_the_data() -> None:
    assert KeyCustomers(share=0.5).assign([1.0, 9.0]).codes.tolist() == [0, 1]
    frame = {"value": np.array([1.0, 9.0])}
    assert KeyCustomers(share=0.5).assign(frame, value=[9.0, 1.0]).codes.tolist() == [1, 0]


def test_clv_result_gives_value_and_ids() -> None:
    from clvkit import CustomerSummary
    from clvkit.valuation import BetaGeoParams, FittedBetaGeo, clv

    bg = FittedBetaGeo(params=BetaGeoParams(r=0.243, alpha=4.414, a=0.793, b=2.426), time_unit="W")
    s = CustomerSummary(frequency=[0, 2, 7], recency=[0.0, 30.43, 38.0], T=[38.86] * 3, time_unit="W",
                        customer_id=["x", "y", "z"])
    res = clv(bg, 20.0, s, horizon=52, discount_rate=0.0)
    a = KeyCustomers(share=0.34).assign(res)
    assert a.tier_labels().tolist() == ["other", "other", "key"]
    assert a.explain(2).startswith("customer z: tier key because value ")
    np.testing.assert_array_equal(a.features["value"], res.clv)


def test_outputs_are_read_only_and_inputs_are_not_modified() -> None:
    values = np.array([3.0, 1.0, 2.0])
    a = FiveA().assign(values)
    assert values.tolist() == [3.0, 1.0, 2.0] and values.flags.writeable
    for arr in (a.codes, a.reasons, a.features["value"]):
        with pytest.raises(ValueError):
            arr[0] = 0


def test_empty_batch() -> None:
    for policy, cols in [(FiveA(), {"value": []}), (KeyCustomers(), {"value": []}),
                         (RFMSegments(), {"time_since_last": [], "frequency": [], "monetary_value": []}),
                         (ValueCostMatrix(), {"value": [], "cost": []}),
                         (LoyaltyProgram(window=1), {"history": np.zeros((0, 3))})]:
        a = policy.assign(**cols)
        assert len(a) == 0 and a.counts().sum() == 0


def test_a_bare_array_is_the_first_column_the_policy_reads() -> None:
    history = np.array([[600.0, 600.0], [0.0, 0.0]])
    prog = LoyaltyProgram(upgrade=(1000, 2000), downgrade=(500, 1500), window=2)
    assert prog.assign(history).codes.tolist() == [1, 0]
    with pytest.raises(InvalidInputError, match="array of 'value'"):
        FiveA().assign(object())
