"""DirectValue: invalid inputs raise InvalidInputError naming the setting, column and ids."""

from __future__ import annotations

import numpy as np
import pytest
from clvkit.valuation.direct import DirectValue, discounted_lifetime

from clvkit import CustomerSummary, InvalidInputError
from clvkit.valuation import (
    BetaGeoParams,
    FittedBetaGeo,
    FittedParetoNBD,
    FittedShiftedBetaGeo,
    ParetoNBDParams,
    ShiftedBetaGeoParams,
)


def test_needs_exactly_one_retention_source() -> None:
    with pytest.raises(InvalidInputError, match="exactly one retention source"):
        DirectValue(spend_per_period=1.0)
    with pytest.raises(InvalidInputError, match="retention_time', 'retention_rate"):
        DirectValue(spend_per_period=1.0, retention_time=2.0, retention_rate=0.5)


def test_bad_rows_are_named_by_id_all_at_once() -> None:
    with pytest.raises(InvalidInputError) as err:
        DirectValue(spend_per_period=[1.0, -2.0, np.nan], retention_rate=[0.5, 1.5, 0.2], customer_id=["a", "b", "c"])
    text = str(err.value)
    assert err.value.columns == ("spend_per_period", "retention_rate")
    assert "customer_id='b'" in text and "2 rows fail" in text


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"margin": 1.5}, "'margin'"),
    ({"margin": -0.1}, "'margin'"),
    ({"discount_rate": -0.01}, "'discount_rate'"),
    ({"discount_rate": float("nan")}, "'discount_rate'"),
    ({"horizon": 0}, "'horizon'"),
    ({"horizon": 2.5}, "'horizon'"),
    ({"horizon": True}, "'horizon'"),
    ({"timing": "middle"}, "'timing'"),
])
def test_bad_settings(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(InvalidInputError, match=match):
        DirectValue(spend_per_period=1.0, retention_rate=0.5, **kwargs)  # type: ignore[arg-type]


def test_infinite_lifetime_is_refused_naming_the_customer() -> None:
    dv = DirectValue(spend_per_period=[1.0, 1.0], retention_rate=[0.5, 1.0], customer_id=[10, 11])
    with pytest.raises(InvalidInputError, match=r"infinite lifetime.*customer_id=11"):
        dv.value()
    with pytest.raises(InvalidInputError, match="infinite lifetime"):
        discounted_lifetime(1.0)
    with pytest.raises(InvalidInputError, match="churn_rate"):
        DirectValue(spend_per_period=1.0, churn_rate=0.0).value()


def test_rate_out_of_range_in_function() -> None:
    with pytest.raises(InvalidInputError, match="retention_rate"):
        discounted_lifetime([0.5, -0.1])


def test_first_period_and_timing_apply_only_where_meaningful() -> None:
    with pytest.raises(InvalidInputError, match="first_period"):
        DirectValue(spend_per_period=1.0, retention_time=3.0, first_period=False)
    bg = FittedBetaGeo(params=BetaGeoParams(r=0.243, alpha=4.414, a=0.793, b=2.426), time_unit="W")
    with pytest.raises(InvalidInputError, match="fixes its own timing"):
        DirectValue(spend_per_period=1.0, model=bg, horizon=3, timing="end")


def test_shape_mismatch() -> None:
    with pytest.raises(InvalidInputError, match="shapes"):
        DirectValue(spend_per_period=[1.0, 2.0], retention_time=[1.0, 2.0, 3.0]).value()
    with pytest.raises(InvalidInputError, match="one-dimensional"):
        DirectValue(spend_per_period=[[1.0]], retention_time=1.0)
    with pytest.raises(InvalidInputError, match="cannot be read as numbers"):
        DirectValue(spend_per_period=["x"], retention_time=1.0)


def test_model_sources_refuse_what_they_cannot_do() -> None:
    s = CustomerSummary(frequency=[0, 2], recency=[0.0, 30.0], T=[38.0, 38.0], time_unit="W")
    bg = FittedBetaGeo(params=BetaGeoParams(r=0.243, alpha=4.414, a=0.793, b=2.426), time_unit="W")
    with pytest.raises(InvalidInputError, match="discount_rate > 0, or value a finite horizon"):
        DirectValue.from_model(bg, 10.0).value(s)  # BG/NBD DERT needs discounting
    with pytest.raises(InvalidInputError, match="needs the customers"):
        DirectValue.from_model(bg, 10.0, horizon=4).value()
    with pytest.raises(InvalidInputError, match="needs spend_per_period"):
        DirectValue.from_model(bg, horizon=4).value(s)  # no monetary_value in the summary
    pnbd = FittedParetoNBD(params=ParetoNBDParams(r=0.553, alpha=10.578, s=0.606, beta=11.669), time_unit="W")
    with pytest.raises(InvalidInputError, match="discount_rate > 0"):
        DirectValue.from_model(pnbd, 10.0).value(s)
    sbg = FittedShiftedBetaGeo(params=ShiftedBetaGeoParams(alpha=0.7, beta=1.2), time_unit="Y")
    with pytest.raises(InvalidInputError, match="no horizon"):
        DirectValue.from_model(sbg, 10.0, horizon=3).value([0, 1])
    with pytest.raises(InvalidInputError, match="not a transaction model"):
        DirectValue.from_model(object(), 10.0, horizon=3).value(s)


def test_spend_model_needs_summary_and_must_be_sane() -> None:
    class Negative:
        def expected_spend(self, summary: object) -> np.ndarray:
            return np.array([-1.0])

    with pytest.raises(InvalidInputError, match="spend model needs the customers"):
        DirectValue(spend_per_period=Negative(), retention_time=2.0).value()
    s = CustomerSummary(frequency=[0], recency=[0.0], T=[3.0])
    with pytest.raises(InvalidInputError, match="finite and >= 0"):
        DirectValue(spend_per_period=Negative(), retention_time=2.0).value(s)


def test_inputs_are_copied_read_only() -> None:
    spend = np.array([1.0, 2.0])
    dv = DirectValue(spend_per_period=spend, retention_time=[1.0, 1.0])
    spend[0] = 100.0
    assert dv.value().tolist() == [1.0, 2.0]
