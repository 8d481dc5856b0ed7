"""Hardening: bad rows and bad arguments are typed errors naming the column, the first bad row and the fix.

Each test here failed before its fix (issue 10: rows accepted silently, or raw numpy/scipy/Python errors).
"""

from __future__ import annotations

import contextlib
import datetime as dt

import numpy as np
import pytest

import clvkit
from clvkit import CustomerSummary
from clvkit.errors import ClvkitError, InvalidInputError


def _day(d: int) -> dt.datetime:
    return dt.datetime(2024, 1, d)


def _columns_of(exc: pytest.ExceptionInfo[InvalidInputError]) -> tuple[str, ...]:
    return exc.value.columns


# ---------------------------------------------------------------------------------------------- CustomerSummary
@pytest.mark.parametrize("ids", [[np.nan, 1.0], [None, "a"], np.array(["a", None], dtype=object)])
def test_summary_refuses_missing_customer_ids(ids: list[object]) -> None:
    with pytest.raises(InvalidInputError) as exc:
        CustomerSummary([0, 1], [0, 1], [2, 2], customer_id=ids)
    assert "customer_id" in _columns_of(exc)
    assert "first at row" in str(exc.value) and "missing" in str(exc.value)


def test_summary_refuses_repeat_purchases_without_recency() -> None:
    with pytest.raises(InvalidInputError) as exc:
        CustomerSummary([0, 5], [0.0, 0.0], [2.0, 3.0])
    assert _columns_of(exc) == ("recency",)
    assert "first at row 1" in str(exc.value)


@pytest.mark.parametrize("column", ["frequency", "recency", "T"])
@pytest.mark.parametrize("dtype", ["datetime64[D]", "timedelta64[D]"])
def test_summary_refuses_time_typed_columns(column: str, dtype: str) -> None:
    cols: dict[str, object] = {"frequency": [1], "recency": [1], "T": [3]}
    time_like = [1] if dtype.startswith("timedelta") else ["2024-01-03"]
    cols[column] = np.array(time_like, dtype=dtype)
    with pytest.raises(InvalidInputError) as exc:
        CustomerSummary(**cols)  # type: ignore[arg-type]
    assert column in _columns_of(exc)
    assert "not real numbers" in str(exc.value) and "first at row 0" in str(exc.value)


@pytest.mark.parametrize("values", [["3"], np.array(["3"]), np.array([b"3"]), [True]])
def test_summary_refuses_strings_and_booleans_as_counts(values: object) -> None:
    with pytest.raises(InvalidInputError) as exc:
        CustomerSummary(values, [1.0], [3.0])
    assert _columns_of(exc) == ("frequency",)


def test_summary_refuses_complex_numbers() -> None:
    with pytest.raises(InvalidInputError) as exc:
        CustomerSummary([1], [1.0], [2.0], monetary_value=np.array([1 + 2j]))
    assert _columns_of(exc) == ("monetary_value",)
    assert "complex" in str(exc.value)


def test_with_time_unit_refuses_overflow_to_inf() -> None:
    s = CustomerSummary([1], [1.0], [1e307], time_unit="Y")
    with pytest.raises(InvalidInputError) as exc:
        s.with_time_unit("s")
    assert "T" in _columns_of(exc)


@pytest.mark.parametrize("unit", [["D"], {"D": 1}, 7j])
def test_unhashable_time_unit_is_a_typed_error(unit: object) -> None:
    with pytest.raises(InvalidInputError, match="time_unit"):
        CustomerSummary([1], [1.0], [2.0], time_unit=unit)  # type: ignore[arg-type]
    s = CustomerSummary([1], [1.0], [2.0])
    with pytest.raises(InvalidInputError, match="time_unit"):
        s.with_time_unit(unit)  # type: ignore[arg-type]


def test_unhashable_ids_are_a_typed_error() -> None:
    ids = np.empty(2, dtype=object)
    ids[:] = [[1], [2]]
    with pytest.raises(InvalidInputError) as exc:
        CustomerSummary([0, 1], [0, 1], [2, 2], customer_id=ids)
    assert _columns_of(exc) == ("customer_id",)


# ---------------------------------------------------------------------------------------------- summarize
def _log(**extra: object) -> dict[str, object]:
    log: dict[str, object] = {"cust": ["a", "a", "a"], "when": [_day(1), _day(3), _day(3)], "amount": [1.0, 2.0, 3.0]}
    log.update(extra)
    return log


def test_summarize_refuses_complex_amounts() -> None:
    with pytest.raises(InvalidInputError) as exc:
        clvkit.summarize(_log(amount=np.array([1.0, 2 + 1j, 3.0])), customer_id="cust", datetime="when",
                         monetary_value="amount")
    assert _columns_of(exc) == ("amount",)
    assert "complex" in str(exc.value)


def test_summarize_overflowing_amounts_name_the_users_column() -> None:
    with pytest.raises(InvalidInputError) as exc:
        clvkit.summarize(_log(amount=[1.0, 1e308, 1e308]), customer_id="cust", datetime="when",
                         monetary_value="amount")
    assert _columns_of(exc) == ("amount",)
    assert "customer_id='a'" in str(exc.value) or "'a'" in str(exc.value)


@pytest.mark.parametrize("key", ["time_unit", "freq"])
def test_summarize_unhashable_time_unit_is_a_typed_error(key: str) -> None:
    with pytest.warns(DeprecationWarning) if key == "freq" else contextlib.nullcontext():
        with pytest.raises(InvalidInputError, match="time_unit"):
            clvkit.summarize(_log(), customer_id="cust", datetime="when", **{key: ["D"]})


def test_summarize_unhashable_ids_are_a_typed_error() -> None:
    ids = np.empty(3, dtype=object)
    ids[:] = [["a"], ["a"], {"b": 1}]
    with pytest.raises(InvalidInputError) as exc:
        clvkit.summarize(_log(cust=ids), customer_id="cust", datetime="when")
    assert _columns_of(exc) == ("cust",)


# ---------------------------------------------------------------------------------------------- models and value
@pytest.mark.parametrize("engine", ["BetaGeo", "ModifiedBetaGeo", "ParetoNBD", "GammaGompertzNBD"])
def test_fit_on_a_log_where_nobody_repeats_is_a_typed_error(engine: str) -> None:
    # Every purchase on one day: T = 0 for everyone. BG/NBD raised scipy's ValueError; Pareto/NBD and MBG/NBD
    # returned meaningless estimates (alpha ~ 1e-20) with only a warning.
    import clvkit.valuation

    s = clvkit.summarize({"cust": ["a", "b", "c"], "when": [_day(1)] * 3}, customer_id="cust", datetime="when")
    with pytest.raises(clvkit.InvalidInputError, match=r"every customer has T = 0.*cannot identify"):
        getattr(clvkit.valuation, engine)().fit(s)


def test_explain_out_of_range_is_a_typed_error() -> None:
    from clvkit.tiering import FiveA

    assignment = FiveA().assign(value=[1.0, 2.0, 3.0, 4.0, 5.0])
    with pytest.raises(InvalidInputError, match="explain"):
        assignment.explain(99)
    with pytest.raises(InvalidInputError, match="explain"):
        assignment.explain("x")  # type: ignore[arg-type]


def test_tiering_refuses_duplicate_customer_ids() -> None:
    from clvkit.tiering import FiveA

    with pytest.raises(InvalidInputError) as exc:
        FiveA().assign(value=[1.0, 2.0, 3.0], customer_id=["a", "b", "a"])
    assert _columns_of(exc) == ("customer_id",)
    assert "first at row 2" in str(exc.value)


def test_every_failure_here_is_a_clvkit_error() -> None:
    assert issubclass(InvalidInputError, ClvkitError)


def test_tiering_refuses_numeric_strings() -> None:
    from clvkit.tiering import FiveA

    with pytest.raises(InvalidInputError) as exc:
        FiveA().assign(value=["3", "4"])
    assert _columns_of(exc) == ("value",)


def test_direct_value_refuses_numeric_strings_and_ids_of_another_length() -> None:
    from clvkit.valuation.value import DirectValue

    with pytest.raises(InvalidInputError, match="spend_per_period"):
        DirectValue(spend_per_period=["3"], retention_rate=[0.8]).value()
    with pytest.raises(InvalidInputError, match="customer_id"):
        DirectValue(spend_per_period=np.ones(3), retention_time=np.ones(3), customer_id=[1, 2]).value()


def test_contract_summary_refuses_unhashable_time_unit_and_strings() -> None:
    from clvkit import ContractSummary

    with pytest.raises(InvalidInputError, match="time_unit"):
        ContractSummary([1, 2], [True, False], time_unit=["M"])  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError) as exc:
        ContractSummary(["1", "2"], [True, False])
    assert _columns_of(exc) == ("duration",)


def test_clv_with_models_in_the_wrong_roles_is_a_typed_error() -> None:
    # Already typed on main when this suite was written (kept as a regression test for issue 10).
    from clvkit.valuation import BetaGeoParams, FittedBetaGeo, FittedGammaGamma, GammaGammaParams, clv

    s = CustomerSummary([0, 2], [0.0, 10.0], [40.0, 40.0], monetary_value=[0.0, 10.0], time_unit="W")
    bg = FittedBetaGeo(params=BetaGeoParams(r=0.243, alpha=4.414, a=0.793, b=2.426), time_unit="W")
    gg = FittedGammaGamma(params=GammaGammaParams(p=6.25, q=3.74, v=15.44), time_unit="W")
    with pytest.raises(InvalidInputError, match="transaction_model"):
        clv(gg, gg, s, horizon=3, discount_rate=0.0)
    with pytest.raises(InvalidInputError, match="spend_model"):
        clv(bg, bg, s, horizon=3, discount_rate=0.0)


def test_measure_binding_with_the_dataset_instead_of_its_data_is_a_typed_error() -> None:
    from clvkit.binding import BindingConfig, load_b2b_sample, measure_binding

    dataset = load_b2b_sample()
    with pytest.raises(InvalidInputError, match=r"dataset\.data"):
        measure_binding(dataset)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="config"):
        measure_binding(dataset.data, config={"x": 1})  # type: ignore[arg-type]
    assert isinstance(BindingConfig(), BindingConfig)


def test_binding_values_refuse_strings_complex_and_non_scalar_mapping_values() -> None:
    from clvkit.binding import load_b2b_sample, measure_binding, value_at_risk

    dataset = load_b2b_sample()
    m = measure_binding(dataset.data)
    n = dataset.data.n_customers
    first = dataset.data.customer_ids[0]
    for bad in (["1"] * n, np.ones(n) * (1 + 1j), {first: [1, 2]}, {first: "3"}):
        with pytest.raises(InvalidInputError, match="values"):
            value_at_risk(m, bad)
