"""summarize(): input kinds, time zones, metadata, every error path, and summarize_transactions()."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest

from clvkit import CustomerSummary, InvalidInputError, summarize, summarize_transactions

UTC = dt.timezone.utc
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def small_log() -> pd.DataFrame:
    return pd.DataFrame({
        "cust": ["b", "a", "a", "b", "a", "c", "a"],
        "when": pd.to_datetime(["2024-01-01 10:00", "2024-01-01 08:00", "2024-01-01 20:00", "2024-01-09 09:00",
                                "2024-01-03 11:00", "2024-01-20 17:00", "2024-01-22 08:00"]),
        "amount": [4.0, 1.0, 2.0, 6.0, 5.0, 3.0, 7.0],
    })


def columns_of(s: CustomerSummary) -> dict[str, list[Any]]:
    return {k: v.tolist() for k, v in s.to_columns().items()}


def errors_of(call: Any) -> InvalidInputError:
    with pytest.raises(InvalidInputError) as info:
        call()
    return info.value


# =============================================================================== the result
def test_small_log_by_hand() -> None:
    s = summarize(small_log(), customer_id="cust", datetime="when", monetary_value="amount")
    # a: days 1 (1+2), 3 (5), 22 (7); b: days 1 (4), 9 (6); c: day 20; observation end = day 22.
    assert columns_of(s) == {
        "customer_id": ["a", "b", "c"],
        "frequency": [2.0, 1.0, 0.0],
        "recency": [21.0, 8.0, 0.0],
        "T": [21.0, 21.0, 2.0],
        "monetary_value": [6.0, 6.0, 0.0],
    }
    assert s.time_unit == "D" and s.calibration_end is None
    assert s.observation_end == dt.datetime(2024, 1, 22, 8)
    assert s.customer_id is not None and s.customer_id.dtype.kind == "U"


def test_calibration_metadata_and_holdout_by_hand() -> None:
    s = summarize(small_log(), customer_id="cust", datetime="when", monetary_value="amount",
                  calibration_end=dt.datetime(2024, 1, 5), observation_end=dt.datetime(2024, 1, 21))
    # c's first purchase is in the holdout: not a calibration customer; a's day-22 row is after the end.
    assert columns_of(s) == {
        "customer_id": ["a", "b"],
        "frequency": [1.0, 0.0],
        "recency": [2.0, 0.0],
        "T": [4.0, 4.0],
        "monetary_value": [5.0, 0.0],
        "frequency_holdout": [0.0, 1.0],
        "monetary_value_holdout": [0.0, 6.0],
    }
    assert s.duration_holdout == 16.0
    assert s.observation_end == dt.datetime(2024, 1, 21) and s.calibration_end == dt.datetime(2024, 1, 5)


def test_without_monetary_value() -> None:
    s = summarize(small_log(), customer_id="cust", datetime="when")
    assert s.monetary_value is None and s.frequency.tolist() == [2.0, 1.0, 0.0]


def test_arrays_are_read_only() -> None:
    s = summarize(small_log(), customer_id="cust", datetime="when", monetary_value="amount")
    with pytest.raises(ValueError):
        s.frequency[0] = 5.0


# =============================================================================== input kinds
def test_pandas_polars_pyarrow_and_mapping_agree() -> None:
    pl = pytest.importorskip("polars")
    pa = pytest.importorskip("pyarrow")
    log = small_log()
    inputs = {
        "pandas": log,
        "polars": pl.from_pandas(log),
        "pyarrow": pa.Table.from_pandas(log),
        "mapping": {k: log[k].to_numpy() for k in log.columns},
        "mapping_of_series": {k: log[k] for k in log.columns},
        "mapping_of_lists": {k: log[k].tolist() for k in log.columns},
    }
    results = {name: summarize(obj, customer_id="cust", datetime="when", monetary_value="amount",
                               calibration_end="2024-01-05")
               for name, obj in inputs.items()}
    expected = columns_of(results["pandas"])
    for name, s in results.items():
        assert columns_of(s) == expected, name
        assert s.observation_end == results["pandas"].observation_end, name
        assert s.duration_holdout == results["pandas"].duration_holdout


def test_integer_ids_and_date_columns_from_every_frame_kind() -> None:
    pl = pytest.importorskip("polars")
    pa = pytest.importorskip("pyarrow")
    days = [dt.date(2024, 1, d) for d in (1, 5, 5, 9, 2)]
    data = {"id": [10, 10, 11, 10, 12], "day": days, "v": [1.0, 2.0, 3.0, 4.0, 5.0]}
    base = summarize({"id": np.array(data["id"]), "day": np.array(days, dtype="datetime64[D]"), "v": data["v"]},
                     customer_id="id", datetime="day", monetary_value="v")
    assert columns_of(base)["frequency"] == [2.0, 0.0, 0.0]
    for obj in (pd.DataFrame(data), pl.DataFrame(data), pa.table(data), data):
        s = summarize(obj, customer_id="id", datetime="day", monetary_value="v")
        assert columns_of(s) == columns_of(base), type(obj)
        assert s.customer_id is not None and s.customer_id.dtype.kind == "i"


def test_nullable_integer_ids_without_nulls() -> None:
    log = small_log().assign(cust=pd.array([2, 1, 1, 2, 1, 3, 1], dtype="Int64"))
    s = summarize(log, customer_id="cust", datetime="when")
    assert s.customer_id is not None and s.customer_id.tolist() == [1, 2, 3]


def test_unsupported_container() -> None:
    err = errors_of(lambda: summarize([(1, 2)], customer_id="a", datetime="b"))
    assert "pandas or polars DataFrame" in str(err)


# =============================================================================== time zones
def test_aware_pandas_column_is_floored_in_utc() -> None:
    log = pd.DataFrame({
        "cust": [1, 1, 2],
        # 23:30 in New York on Jan 1 is 04:30 UTC on Jan 2: the same UTC day as the second purchase.
        "when": pd.to_datetime(["2024-01-01 23:30", "2024-01-02 01:00", "2024-01-05 12:00"]).tz_localize(NEW_YORK),
    })
    s = summarize(log, customer_id="cust", datetime="when")
    assert s.frequency.tolist() == [0.0, 0.0]
    naive_utc = log.assign(when=log["when"].dt.tz_convert("UTC").dt.tz_localize(None))
    assert columns_of(summarize(naive_utc, customer_id="cust", datetime="when")) == columns_of(s)
    assert s.observation_end == dt.datetime(2024, 1, 5, 17, tzinfo=UTC)


def test_aware_columns_of_every_kind_agree() -> None:
    pl = pytest.importorskip("polars")
    pa = pytest.importorskip("pyarrow")
    log = small_log().assign(when=small_log()["when"].dt.tz_localize(BERLIN))
    objects = np.empty(len(log), dtype=object)
    objects[:] = [t.to_pydatetime() for t in log["when"]]
    inputs = [log, pl.from_pandas(log), pa.Table.from_pandas(log),
              {"cust": log["cust"].to_numpy(), "when": objects, "amount": log["amount"].to_numpy()}]
    end = dt.datetime(2024, 1, 22, 12, tzinfo=BERLIN)
    results = [summarize(x, customer_id="cust", datetime="when", monetary_value="amount", observation_end=end)
               for x in inputs]
    for s in results:
        assert columns_of(s) == columns_of(results[0])
        assert s.observation_end == end.astimezone(UTC) and s.observation_end.tzinfo == UTC


def test_aware_observation_end_in_another_zone_is_the_same_instant() -> None:
    log = small_log().assign(when=small_log()["when"].dt.tz_localize(UTC))
    a = summarize(log, customer_id="cust", datetime="when", observation_end=dt.datetime(2024, 2, 1, tzinfo=UTC))
    b = summarize(log, customer_id="cust", datetime="when",
                  observation_end=dt.datetime(2024, 2, 1, 1, tzinfo=BERLIN))
    assert columns_of(a) == columns_of(b)


def test_naive_end_for_aware_column_and_vice_versa() -> None:
    aware = small_log().assign(when=small_log()["when"].dt.tz_localize(UTC))
    err = errors_of(lambda: summarize(aware, customer_id="cust", datetime="when",
                                      observation_end=dt.datetime(2024, 2, 1)))
    assert err.columns == ("observation_end",) and "naive" in str(err)
    err = errors_of(lambda: summarize(small_log(), customer_id="cust", datetime="when",
                                      calibration_end=dt.datetime(2024, 1, 5, tzinfo=UTC)))
    assert err.columns == ("calibration_end",) and "aware" in str(err)


@pytest.mark.parametrize("second", [dt.datetime(2024, 1, 2, tzinfo=BERLIN), dt.datetime(2024, 1, 2)])
def test_object_column_mixing_time_zones_is_an_error(second: dt.datetime) -> None:
    times = np.empty(4, dtype=object)
    times[:] = [dt.datetime(2024, 1, 1, tzinfo=UTC), second, dt.datetime(2024, 1, 3, tzinfo=UTC), second]
    err = errors_of(lambda: summarize({"c": [1, 1, 2, 2], "t": times}, customer_id="c", datetime="t"))
    assert err.columns == ("t",)
    problem = err.problems[0]
    assert "mixes time zones" in problem.message and problem.n_bad == 2 and problem.rows == (1, 3)


def test_object_column_of_one_zone_with_daylight_saving() -> None:
    times = np.empty(2, dtype=object)
    times[:] = [dt.datetime(2024, 1, 1, 12, tzinfo=BERLIN), dt.datetime(2024, 7, 1, 12, tzinfo=BERLIN)]
    s = summarize({"c": [1, 1], "t": times}, customer_id="c", datetime="t")
    assert s.recency.tolist() == [182.0]


# =============================================================================== error paths
def test_missing_columns_are_all_listed() -> None:
    err = errors_of(lambda: summarize(small_log(), customer_id="id", datetime="time", monetary_value="amount"))
    assert err.columns == ("id", "time")
    assert "Available columns" in str(err)


def test_every_problem_is_reported_at_once() -> None:
    log = {
        "cust": np.array([1.0, np.nan, 2.0, 3.0, 3.0]),
        "when": np.array(["2024-01-01", "2024-01-02", "NaT", "2024-01-04", "2024-01-09"], dtype="datetime64[D]"),
        "amount": np.array([1.0, np.inf, np.nan, -2.0, 1.0]),
    }
    err = errors_of(lambda: summarize(log, customer_id="cust", datetime="when", monetary_value="amount",
                                      observation_end="2024-01-05", refunds="error"))
    by_message = {(p.column, p.message.split(" (")[0]): p for p in err.problems}
    assert set(by_message) == {
        ("cust", "is missing"),
        ("when", "is missing"),
        ("amount", "is not finite"),
        ("amount", "is a refund"),
        ("when", "is after observation_end"),
    }
    assert by_message[("cust", "is missing")].rows == (1,)
    assert by_message[("when", "is missing")].rows == (2,)
    assert by_message[("amount", "is not finite")].rows == (1, 2)
    assert by_message[("amount", "is a refund")].rows == (3,)
    assert by_message[("when", "is after observation_end")].rows == (4,)
    assert str(err).startswith("summarize() has 5 problems:")


def test_parameter_and_column_problems_are_reported_together() -> None:
    err = errors_of(lambda: summarize(small_log(), customer_id="cust", datetime="nope", time_unit="fortnight",
                                      refunds="ignore"))
    assert err.columns == ("time_unit", "refunds", "nope")


def test_unknown_freq_with_bad_rows() -> None:
    log = small_log()
    log.loc[2, "amount"] = np.nan
    err = errors_of(lambda: summarize(log, customer_id="cust", datetime="when", monetary_value="amount",
                                      time_unit="fortnight"))
    assert err.columns == ("time_unit", "amount")


def test_null_ids_of_every_kind() -> None:
    log = small_log()
    obj = log["cust"].astype(object).to_numpy().copy()
    obj[[1, 4]] = [None, np.nan]
    err = errors_of(lambda: summarize({"cust": obj, "when": log["when"].to_numpy()}, customer_id="cust",
                                      datetime="when"))
    assert err.columns == ("cust",) and err.problems[0].rows == (1, 4)
    nullable = log.assign(cust=pd.array([1, None, 2, 2, 1, None, 3], dtype="Int64"))
    err = errors_of(lambda: summarize(nullable, customer_id="cust", datetime="when"))
    assert err.problems[0].rows == (1, 5) and err.problems[0].n_bad == 2
    strings = log.assign(cust=pd.array(["a", None, "b", "b", "a", "c", "a"], dtype="string"))
    err = errors_of(lambda: summarize(strings, customer_id="cust", datetime="when"))
    assert err.problems[0].rows == (1,)


def test_ids_of_unorderable_mixed_types() -> None:
    ids = np.array([1, "a", 1, "b"], dtype=object)
    err = errors_of(lambda: summarize({"c": ids, "t": np.arange(4.0)}, customer_id="c", datetime="t"))
    assert err.columns == ("c",) and "mixes id types" in str(err)


def test_missing_and_unreadable_times() -> None:
    err = errors_of(lambda: summarize({"c": [1, 2, 3], "t": [1.0, np.nan, np.inf]}, customer_id="c", datetime="t"))
    assert err.problems[0].rows == (1, 2)
    # ISO strings are read (since 0.2); other text is refused naming the row and datetime_format.
    err = errors_of(lambda: summarize({"c": [1, 2], "t": ["2024-01-01", "Jan 2 2024"]}, customer_id="c",
                                      datetime="t"))
    assert err.problems[0].rows == (1,) and "datetime_format" in str(err)
    err = errors_of(lambda: summarize({"c": [1, 2], "t": np.array([1, 2], dtype=complex)}, customer_id="c",
                                      datetime="t"))
    assert "cannot be read as times" in str(err)
    times = np.array([dt.datetime(2024, 1, 1), "soon", None], dtype=object)
    err = errors_of(lambda: summarize({"c": [1, 2, 3], "t": times}, customer_id="c", datetime="t"))
    assert [(p.column, p.rows) for p in err.problems] == [("t", (2,)), ("t", (1,))]
    err = errors_of(lambda: summarize({"c": [1, 2], "t": np.array([1, 2], dtype="timedelta64[D]")},
                                      customer_id="c", datetime="t"))
    assert err.columns == ("t",)


def test_pandas_nat_times() -> None:
    log = small_log()
    log.loc[[3, 5], "when"] = pd.NaT
    err = errors_of(lambda: summarize(log, customer_id="cust", datetime="when"))
    assert err.problems[0].rows == (3, 5)


def test_amounts_that_are_not_numbers() -> None:
    err = errors_of(lambda: summarize({"c": [1, 2], "t": [1.0, 2.0], "v": ["x", "y"]}, customer_id="c",
                                      datetime="t", monetary_value="v"))
    assert err.columns == ("v",) and "cannot be read as numbers" in str(err)


def test_rows_after_observation_end_are_an_error_without_calibration() -> None:
    err = errors_of(lambda: summarize(small_log(), customer_id="cust", datetime="when",
                                      observation_end=dt.datetime(2024, 1, 8)))
    problem = err.problems[0]
    assert problem.column == "when" and problem.n_bad == 3 and problem.rows == (3, 5, 6)
    assert "calibration_end" in problem.fix


def test_observation_end_beyond_the_data() -> None:
    s = summarize(small_log(), customer_id="cust", datetime="when", observation_end=dt.date(9999, 1, 1))
    assert s.T.tolist()[0] == (dt.date(9999, 1, 1) - dt.date(2024, 1, 1)).days


@pytest.mark.parametrize(
    ("calibration_end", "observation_end", "words"),
    [
        (dt.datetime(2023, 12, 31), None, "before the first transaction"),
        (dt.datetime(2024, 1, 22, 8), None, "must be before observation_end"),
        (dt.datetime(2024, 2, 1), dt.datetime(2024, 3, 1), "not before the last transaction"),
        (dt.datetime(2024, 1, 10), dt.datetime(2024, 1, 9), "must be before observation_end"),
        (dt.datetime(2024, 1, 22, 1), None, "same 'D' period"),
        ("2024-13-01", None, "not an ISO"),
        (3.5, None, "must be a datetime"),
    ],
)
def test_bad_calibration_end(calibration_end: Any, observation_end: Any, words: str) -> None:
    err = errors_of(lambda: summarize(small_log(), customer_id="cust", datetime="when",
                                      calibration_end=calibration_end, observation_end=observation_end))
    assert err.columns == ("calibration_end",)
    assert words in str(err)


def test_numeric_times_need_numeric_ends() -> None:
    log = {"c": [1, 1], "t": [3.0, 9.0]}
    err = errors_of(lambda: summarize(log, customer_id="c", datetime="t", observation_end=dt.datetime(2024, 1, 1)))
    assert err.columns == ("observation_end",)
    s = summarize(log, customer_id="c", datetime="t", observation_end=12, calibration_end=5)
    assert s.T.tolist() == [2.0] and s.frequency_holdout.tolist() == [1.0] and s.duration_holdout == 7.0


def test_rows_after_observation_end_with_calibration_are_outside_the_window() -> None:
    full = summarize(small_log(), customer_id="cust", datetime="when", calibration_end=dt.datetime(2024, 1, 5),
                     observation_end=dt.datetime(2024, 1, 21))
    cut = small_log()[small_log()["when"] <= "2024-01-21"]
    assert columns_of(full) == columns_of(summarize(cut, customer_id="cust", datetime="when",
                                                    calibration_end=dt.datetime(2024, 1, 5)))


def test_empty_log() -> None:
    err = errors_of(lambda: summarize(small_log().iloc[:0], customer_id="cust", datetime="when"))
    assert err.columns == ("when",) and "empty" in str(err)


def test_columns_of_different_lengths() -> None:
    err = errors_of(lambda: summarize({"c": [1, 2, 3], "t": [1.0, 2.0]}, customer_id="c", datetime="t"))
    assert err.columns == ("c",)


# =============================================================================== refunds
def test_refunds_error_names_rows_and_options() -> None:
    log = small_log()
    log.loc[[2, 6], "amount"] = [-2.0, -7.0]
    err = errors_of(lambda: summarize(log, customer_id="cust", datetime="when", monetary_value="amount"))
    problem = err.problems[0]
    assert problem.column == "amount" and problem.rows == (2, 6) and problem.n_bad == 2
    assert "refunds='drop'" in problem.fix and "refunds='net'" in problem.fix


def test_refunds_drop_equals_removing_the_rows_first() -> None:
    log = small_log()
    log.loc[[2, 6], "amount"] = [-2.0, -7.0]
    dropped = summarize(log, customer_id="cust", datetime="when", monetary_value="amount", refunds="drop")
    manual = summarize(log[log["amount"] >= 0], customer_id="cust", datetime="when", monetary_value="amount")
    assert columns_of(dropped) == columns_of(manual)
    # the default observation end is the last kept row (the refund on day 22 is gone)
    assert dropped.observation_end == dt.datetime(2024, 1, 20, 17)


def test_refunds_net_against_the_same_period() -> None:
    log = small_log()
    log.loc[2, "amount"] = -0.5  # day 1 of a: 1.0 - 0.5 = 0.5 > 0 still counts
    log.loc[6, "amount"] = -7.0  # day 22 of a: only a refund, does not count
    s = summarize(log, customer_id="cust", datetime="when", monetary_value="amount", refunds="net")
    assert columns_of(s)["frequency"] == [1.0, 1.0, 0.0]
    assert columns_of(s)["monetary_value"] == [5.0, 6.0, 0.0]
    assert columns_of(s)["T"] == [21.0, 21.0, 2.0]  # the refund row still ends the observation


def test_refund_options_only_refunds_left() -> None:
    log = {"c": [1, 2], "t": [1.0, 2.0], "v": [-1.0, -3.0]}
    err = errors_of(lambda: summarize(log, customer_id="c", datetime="t", monetary_value="v", refunds="drop"))
    assert "only refunds" in str(err)
    err = errors_of(lambda: summarize(log, customer_id="c", datetime="t", monetary_value="v", refunds="net"))
    assert "positive net total" in str(err)


def test_refunds_without_amounts_are_not_checked() -> None:
    s = summarize(small_log(), customer_id="cust", datetime="when", refunds="net")
    assert s.frequency.tolist() == [2.0, 1.0, 0.0]


# =============================================================================== domain entities
def transactions(currency: str = "USD") -> list[Any]:
    from clvkit.domain import Transaction

    log = small_log()
    return [Transaction(customer_id=c, timestamp=t.to_pydatetime().replace(tzinfo=UTC), amount=a, currency=currency)
            for c, t, a in zip(log["cust"], log["when"], log["amount"], strict=True)]


def test_entities_equal_the_table() -> None:
    table = summarize(small_log().assign(when=small_log()["when"].dt.tz_localize(UTC)), customer_id="cust",
                      datetime="when", monetary_value="amount", calibration_end=dt.datetime(2024, 1, 5, tzinfo=UTC))
    s = summarize_transactions(transactions(), calibration_end=dt.datetime(2024, 1, 5, tzinfo=UTC))
    assert columns_of(s) == columns_of(table)
    assert s.observation_end == table.observation_end and s.calibration_end == table.calibration_end


def test_entities_from_several_zones_are_the_same_instants() -> None:
    entities = [t.model_copy(update={"timestamp": t.timestamp.astimezone(BERLIN if i % 2 else NEW_YORK)})
                for i, t in enumerate(transactions())]
    assert columns_of(summarize_transactions(entities)) == columns_of(summarize_transactions(transactions()))


def test_entity_refunds() -> None:
    from clvkit.domain import Transaction

    base = transactions()
    refund = Transaction(customer_id="a", timestamp=dt.datetime(2024, 1, 3, 15, tzinfo=UTC), amount=0.0,
                         is_refund=True)
    err = errors_of(lambda: summarize_transactions([*base, refund]))
    assert err.columns == ("amount",) and err.problems[0].rows == (7,)
    assert columns_of(summarize_transactions([*base, refund], refunds="drop")) == columns_of(
        summarize_transactions(base))
    partial = refund.model_copy(update={"amount": -2.0})
    netted = summarize_transactions([*base, partial], refunds="net")
    assert columns_of(netted)["monetary_value"] == [(3.0 + 7.0) / 2, 6.0, 0.0]


def test_entities_mixing_currencies() -> None:
    mixed = transactions("USD")[:5] + transactions("EUR")[5:]
    err = errors_of(lambda: summarize_transactions(mixed))
    assert err.columns == ("currency",) and err.problems[0].rows == (5, 6)
    assert "one currency" in err.problems[0].fix


def test_entities_reject_other_objects() -> None:
    err = errors_of(lambda: summarize_transactions([*transactions(), {"customer_id": "a"}]))
    assert err.columns == ("transactions",) and err.problems[0].rows == (7,)
    err = errors_of(lambda: summarize_transactions([]))
    assert "empty" in str(err)
