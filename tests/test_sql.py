"""clvkit.sql: the summary computed inside DuckDB equals clvkit.summarize() on the same log.

The reference is clvkit.summarize() (numpy) on the very rows loaded into the database; nothing here states an
expected summary of its own except the small hand-counted cases. Float columns are compared to 1e-12 (the
database sums spend in its own order).
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from _sqllogs import UNITS, US_PER_DAY, assert_compressed_same, ends_of, generated_log
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import clvkit
from clvkit import sql
from clvkit.datasets import CDNOW_CALIBRATION_END, CDNOW_OBSERVATION_END, load_cdnow_transactions
from clvkit.errors import InvalidInputError

duckdb = pytest.importorskip("duckdb")
pd = pytest.importorskip("pandas")



# ---------------------------------------------------------------------------------------------- helpers
@pytest.fixture
def con() -> Iterator[Any]:
    connection = duckdb.connect()
    # A session time zone other than UTC: flooring TIMESTAMPTZ must not depend on it (summarize() floors in UTC).
    connection.execute("SET TimeZone = 'America/New_York'")
    yield connection
    connection.close()


def load(con: Any, log: dict[str, Any], kind: str, table: str = "sales") -> None:
    """Load the log into ``table`` with the time column as ``kind``: DATE, TIMESTAMP, TIMESTAMPTZ or DOUBLE."""
    frame = pd.DataFrame({"cust": log["cust"], "us": log["us"], "amount": log["amount"]})
    con.register("clvkit_test_src", frame)
    when = {"DATE": "CAST(make_timestamp(us) AS DATE)", "TIMESTAMP": "make_timestamp(us)",
            "TIMESTAMP_NS": "CAST(make_timestamp(us) AS TIMESTAMP_NS)",
            "TIMESTAMPTZ": "make_timestamptz(us)", "DOUBLE": "CAST(us AS DOUBLE) / 86400000000.0"}[kind]
    con.execute(f'CREATE OR REPLACE TABLE "{table}" AS SELECT cust, {when} AS "when", amount FROM clvkit_test_src')
    con.unregister("clvkit_test_src")


def memory_times(log: dict[str, Any], kind: str) -> Any:
    """The same times as summarize() takes them."""
    us = log["us"]
    if kind == "DATE":
        return (us // US_PER_DAY).astype("datetime64[D]")
    if kind in ("TIMESTAMP", "TIMESTAMP_NS"):
        return us.astype("datetime64[us]")
    if kind == "TIMESTAMPTZ":
        return pd.Series(us.astype("datetime64[us]")).dt.tz_localize("UTC")
    return us / float(US_PER_DAY)


def assert_same(got: clvkit.CustomerSummary, want: clvkit.CustomerSummary, *, purchase_times: bool = True) -> None:
    assert got.customer_id is not None and want.customer_id is not None
    assert got.customer_id.tolist() == want.customer_id.tolist()
    for name in ("frequency", "recency", "T"):
        np.testing.assert_array_equal(getattr(got, name), getattr(want, name), err_msg=name)
    for name in ("monetary_value", "monetary_value_holdout", "frequency_holdout"):
        a, b = getattr(got, name), getattr(want, name)
        assert (a is None) == (b is None), name
        if a is not None:
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12, err_msg=name)
    assert got.duration_holdout == want.duration_holdout
    if purchase_times:
        assert (got.purchase_times is None) == (want.purchase_times is None)
        if want.purchase_times is not None and got.purchase_times is not None:
            for name in ("origin", "offsets", "times", "period_days", "unit_days"):
                np.testing.assert_array_equal(getattr(got.purchase_times, name), getattr(want.purchase_times, name),
                                              err_msg=name)
    assert got.time_unit == want.time_unit
    assert got.observation_end == want.observation_end
    assert got.calibration_end == want.calibration_end


def both(con: Any, log: dict[str, Any], kind: str, *, unit: str, holdout: bool, refunds: str = "error",
         monetary: bool = True, table: str = "sales") -> tuple[clvkit.CustomerSummary, clvkit.CustomerSummary]:
    load(con, log, kind, table)
    ends = ends_of(log, kind, holdout)
    mem = {"cust": log["cust"], "when": memory_times(log, kind), "amount": log["amount"]}
    amount = "amount" if monetary else None
    want = clvkit.summarize(mem, customer_id="cust", datetime="when", monetary_value=amount, time_unit=unit,
                            refunds=refunds, **ends)  # type: ignore[arg-type]
    got = sql.summarize(con, table=table, customer_id="cust", datetime="when", monetary_value=amount,
                        time_unit=unit, refunds=refunds, **ends)  # type: ignore[arg-type]
    return got, want


# ---------------------------------------------------------------------------------------------- equality
@pytest.mark.parametrize("unit", UNITS)
@pytest.mark.parametrize("kind", ["DATE", "TIMESTAMP", "TIMESTAMPTZ"])
@pytest.mark.parametrize("holdout", [False, True])
def test_equals_summarize_every_unit_and_time_type(con: Any, unit: str, kind: str, holdout: bool) -> None:
    log = generated_log(100 * UNITS.index(unit) + 10 * ["DATE", "TIMESTAMP", "TIMESTAMPTZ"].index(kind) + holdout)
    got, want = both(con, log, kind, unit=unit, holdout=holdout)
    assert_same(got, want)
    assert len(got) > 10 and (got.frequency > 0).any()
    # summarize() keeps each repeat purchase's time for the units of one length; so does the SQL route
    assert (got.purchase_times is not None) == (unit in ("s", "min", "h", "D", "W"))


def test_purchase_times_can_stay_in_the_database(con: Any) -> None:
    log = generated_log(8)
    load(con, log, "TIMESTAMP")
    got = sql.summarize(con, table="sales", customer_id="cust", datetime="when", time_unit="D", purchase_times=False,
                        **ends_of(log, "TIMESTAMP", False))
    assert got.purchase_times is None


@pytest.mark.parametrize("refunds", ["drop", "net"])
@pytest.mark.parametrize("holdout", [False, True])
@pytest.mark.parametrize("unit", ["D", "W", "M"])
def test_refund_policies_equal_summarize(con: Any, refunds: str, holdout: bool, unit: str) -> None:
    log = generated_log(7 + len(refunds) + holdout, refunds=True)
    got, want = both(con, log, "TIMESTAMP", unit=unit, holdout=holdout, refunds=refunds)
    assert_same(got, want)


@pytest.mark.parametrize("holdout", [False, True])
def test_string_ids_and_no_amounts(con: Any, holdout: bool) -> None:
    log = generated_log(11, string_ids=True)
    got, want = both(con, log, "DATE", unit="W", holdout=holdout, monetary=False)
    assert got.monetary_value is None
    assert_same(got, want)


@pytest.mark.parametrize("unit", ["D", "W"])
@pytest.mark.parametrize("holdout", [False, True])
def test_numeric_time_column(con: Any, unit: str, holdout: bool) -> None:
    """Numbers are times counted in time_unit and floored to whole periods (summarize()'s rule)."""
    log = generated_log(5)
    got, want = both(con, log, "DOUBLE", unit=unit, holdout=holdout)
    assert_same(got, want)


@pytest.mark.parametrize("unit", ["s", "W", "M"])
def test_nanosecond_timestamps(con: Any, unit: str) -> None:
    log = generated_log(31)
    got, want = both(con, log, "TIMESTAMP_NS", unit=unit, holdout=True)
    assert con.execute('SELECT typeof("when") FROM sales LIMIT 1').fetchone() == ("TIMESTAMP_NS",)
    assert_same(got, want)


class PlainConnection:
    """Only the DB-API surface (cursor, execute, description, fetchone, fetchall) of a DuckDB connection."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def cursor(self) -> Any:
        return PlainCursor(self.inner.cursor())


class PlainCursor:
    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.description: Any = None

    def execute(self, operation: str) -> None:
        self.inner.execute(operation)
        self.description = self.inner.description

    def fetchone(self) -> Any:
        return self.inner.fetchone()

    def fetchall(self) -> Any:
        return self.inner.fetchall()


@pytest.mark.parametrize("string_ids", [False, True])
def test_plain_dbapi_connection(con: Any, string_ids: bool) -> None:
    """A connection without DuckDB's columnar fetch goes through fetchall() and gives the same summary."""
    log = generated_log(41, string_ids=string_ids)
    load(con, log, "TIMESTAMP")
    ends = ends_of(log, "TIMESTAMP", True)
    args: dict[str, Any] = {"table": "sales", "customer_id": "cust", "datetime": "when", "monetary_value": "amount",
                            "time_unit": "D", **ends}
    plain = PlainConnection(con)
    with pytest.raises(InvalidInputError, match="dialect"):
        sql.summarize(plain, **args)
    assert_same(sql.summarize(plain, dialect="duckdb", **args), sql.summarize(con, **args))
    assert_compressed_same(sql.compressed_summary(plain, dialect="duckdb", **args),
                           sql.compressed_summary(con, **args))


def test_file_database_and_qualified_table(tmp_path: Path) -> None:
    path = tmp_path / "log.duckdb"
    log = generated_log(21, n_customers=60, n_rows=900)
    with duckdb.connect(str(path)) as writer:
        writer.execute("CREATE SCHEMA shop")
        load(writer, log, "TIMESTAMP", table="tmp")
        writer.execute('CREATE TABLE shop."Sales ""2024""" AS SELECT * FROM tmp')
    ends = ends_of(log, "TIMESTAMP", True)
    want = clvkit.summarize({"cust": log["cust"], "when": memory_times(log, "TIMESTAMP"), "amount": log["amount"]},
                            customer_id="cust", datetime="when", monetary_value="amount", time_unit="W", **ends)
    with duckdb.connect(str(path), read_only=True) as reader:
        got = sql.summarize(reader, table=("shop", 'Sales "2024"'), customer_id="cust", datetime="when",
                            monetary_value="amount", time_unit="W", **ends)
    assert_same(got, want)


def _outcome(call: Callable[[], clvkit.CustomerSummary]) -> clvkit.CustomerSummary | InvalidInputError:
    try:
        return call()
    except InvalidInputError as exc:
        return exc


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1), unit=st.sampled_from(UNITS), holdout=st.booleans(),
       refunds=st.sampled_from(["error", "drop", "net"]), string_ids=st.booleans(),
       kind=st.sampled_from(["DATE", "TIMESTAMP", "TIMESTAMPTZ"]), n_rows=st.integers(5, 120),
       span=st.integers(10, 3000))
def test_property_equals_summarize(con: Any, seed: int, unit: str, holdout: bool, refunds: str, string_ids: bool,
                                   kind: str, n_rows: int, span: int) -> None:
    """Same summary, or both refuse naming the same columns (e.g. a calibration end in the last period)."""
    log = generated_log(seed, n_customers=12, n_rows=n_rows, refunds=refunds != "error", string_ids=string_ids,
                        span_days=span)
    load(con, log, kind)
    ends = ends_of(log, kind, holdout)
    mem = {"cust": log["cust"], "when": memory_times(log, kind), "amount": log["amount"]}
    want = _outcome(lambda: clvkit.summarize(mem, customer_id="cust", datetime="when", monetary_value="amount",
                                             time_unit=unit, refunds=refunds, **ends))
    got = _outcome(lambda: sql.summarize(con, table="sales", customer_id="cust", datetime="when",
                                         monetary_value="amount", time_unit=unit, refunds=refunds, **ends))
    if isinstance(want, InvalidInputError) or isinstance(got, InvalidInputError):
        assert isinstance(want, InvalidInputError) and isinstance(got, InvalidInputError), (want, got)
        assert got.columns == want.columns
        return
    assert_same(got, want)


def test_cdnow_log(con: Any) -> None:
    log = load_cdnow_transactions()
    con.register("cdnow_src", pd.DataFrame({"customer_id": log["customer_id"], "date": log["date"],
                                            "amount": log["amount"]}))
    con.execute("CREATE TABLE cdnow AS SELECT customer_id, CAST(date AS DATE) AS date, amount FROM cdnow_src")
    args = {"customer_id": "customer_id", "datetime": "date", "monetary_value": "amount",
            "calibration_end": CDNOW_CALIBRATION_END, "observation_end": CDNOW_OBSERVATION_END}
    for unit in ("D", "W"):
        want = clvkit.summarize(log, time_unit=unit, **args)  # type: ignore[arg-type]
        got = sql.summarize(con, table="cdnow", time_unit=unit, **args)  # type: ignore[arg-type]
        assert_same(got, want)
    assert len(got) == 2357  # the CDNOW sample's customers (bundled log)


def test_grocery_log(con: Any, shared_data: Callable[[str], Path]) -> None:
    path = shared_data("grocery_elog.csv")
    con.execute("CREATE TABLE grocery AS SELECT cust, DATE '1970-01-01' + CAST(date AS INTEGER) AS day "
                "FROM read_csv(?, header = true, columns = {'cust': 'BIGINT', 'date': 'DOUBLE'})", [str(path)])
    frame = pd.read_csv(path)
    mem = {"cust": frame["cust"].to_numpy(), "date": frame["date"].to_numpy()}
    args = {"calibration_end": dt.datetime(2006, 12, 31), "observation_end": dt.datetime(2007, 12, 30)}
    for unit in ("D", "W"):
        want = clvkit.summarize(mem, customer_id="cust", datetime="date", datetime_format="days", time_unit=unit,
                                **args)  # type: ignore[arg-type]
        got = sql.summarize(con, table="grocery", customer_id="cust", datetime="day", time_unit=unit,
                            **args)  # type: ignore[arg-type]
        assert_same(got, want)
        compressed = sql.compressed_summary(con, table="grocery", customer_id="cust", datetime="day", time_unit=unit,
                                            **args)  # type: ignore[arg-type]
        assert_compressed_same(compressed, want.compress().summary)


# ---------------------------------------------------------------------------------------------- compressed
@pytest.mark.parametrize("include_monetary", [True, False])
@pytest.mark.parametrize("holdout", [False, True])
def test_compressed_equals_compress(con: Any, include_monetary: bool, holdout: bool) -> None:
    # Amounts of 10, 20 or 30: every sum is exact in float64, and many customers share a mean spend.
    log = generated_log(3, n_customers=2000, n_rows=5000, span_days=140)
    log["amount"] = 10.0 * (1 + np.arange(log["amount"].shape[0]) % 3)
    got_full, want = both(con, log, "TIMESTAMP", unit="W", holdout=holdout)
    ends = ends_of(log, "TIMESTAMP", holdout)
    got = sql.compressed_summary(con, table="sales", customer_id="cust", datetime="when", monetary_value="amount",
                                 time_unit="W", include_monetary=include_monetary, **ends)  # type: ignore[arg-type]
    expected = want.compress(include_monetary=include_monetary).summary
    assert_compressed_same(got, expected)
    assert got.total_weight == len(want) == len(got_full)
    assert len(got) < (len(want) if include_monetary else len(want) / 2)


def test_fit_on_counts_equals_fit_on_summary(con: Any) -> None:
    """BG/NBD fitted on the counts from the database gives the in-memory fit's parameters."""
    log = load_cdnow_transactions()
    con.register("cdnow_src", pd.DataFrame({"id": log["customer_id"], "date": log["date"]}))
    con.execute("CREATE TABLE cdnow AS SELECT id, CAST(date AS DATE) AS date FROM cdnow_src")
    args = {"time_unit": "W", "calibration_end": CDNOW_CALIBRATION_END, "observation_end": CDNOW_OBSERVATION_END}
    summary = clvkit.summarize(log, customer_id="customer_id", datetime="date", **args)  # type: ignore[arg-type]
    counts = sql.compressed_summary(con, table="cdnow", customer_id="id", datetime="date",
                                    **args)  # type: ignore[arg-type]
    assert len(counts) < len(summary) / 2
    from clvkit.valuation import BetaGeo

    engine = BetaGeo()
    want, got = engine.fit(summary).params, engine.fit(counts).params
    for name in ("r", "alpha", "a", "b"):
        assert getattr(got, name) == pytest.approx(getattr(want, name), rel=1e-12)


# ---------------------------------------------------------------------------------------------- the SQL text
def test_small_log_counted_by_hand(con: Any) -> None:
    """Week periods run Monday to Sunday; a refund netted in a later week cancels that week, not the first."""
    con.execute("""CREATE TABLE t AS SELECT * FROM (VALUES
        ('a', TIMESTAMP '2024-01-01 09:00', 10.0),  -- Monday, week 0
        ('a', TIMESTAMP '2024-01-07 23:59', 5.0),   -- Sunday, still week 0
        ('a', TIMESTAMP '2024-01-08 00:00', 8.0),   -- Monday, week 1
        ('a', TIMESTAMP '2024-01-09 00:00', -8.0),  -- refund in week 1: the week nets to 0 and does not count
        ('a', TIMESTAMP '2024-01-22 12:00', 6.0),   -- week 3
        ('b', TIMESTAMP '2024-01-10 00:00', 3.0)    -- week 1
        ) AS v(c, t, x)""")
    q = sql.summary_query("duckdb", table="t", customer_id="c", datetime="t", monetary_value="x", time_unit="W",
                          observation_end="2024-01-28 00:00", refunds="net")
    rows = con.execute(q).fetchall()
    # a: weeks 0 and 3 count -> frequency 1, recency 3, T 3 (2024-01-28 is the Sunday of week 3), spend 6
    # b: week 1 only -> T 2
    assert rows == [("a", 1.0, 3.0, 3.0, 6.0), ("b", 0.0, 0.0, 2.0, 0.0)]


def test_query_names_are_quoted_never_pasted(con: Any) -> None:
    con.execute("CREATE TABLE sales AS SELECT 1 AS c, DATE '2024-01-01' AS d")
    evil = 'sales"; DROP TABLE sales; --'
    q = sql.summary_query("duckdb", table=evil, customer_id='c"c', datetime="d", observation_end="2024-01-31")
    assert '"sales""; DROP TABLE sales; --"' in q and '"c""c"' in q
    with pytest.raises(InvalidInputError, match="cannot be read"):
        sql.summarize(con, table=evil, customer_id="c", datetime="d", observation_end="2024-01-31")
    assert con.execute("SELECT COUNT(*) FROM sales").fetchone() == (1,)  # still there


@pytest.mark.parametrize("bad", ["", "a\x00b", 3, None])
def test_bad_identifiers_are_typed_errors(bad: Any) -> None:
    with pytest.raises(InvalidInputError, match="customer_id") as info:
        sql.summary_query("duckdb", table="t", customer_id=bad, datetime="d", observation_end="2024-01-31")
    assert info.value.columns == ("customer_id",)


@pytest.mark.parametrize("dialect", ["spark", "bigquery", "snowflake"])
def test_untested_dialects_are_refused_naming_the_tested_ones(dialect: str) -> None:
    with pytest.raises(InvalidInputError, match=r"not supported yet.*\['duckdb', 'postgresql'\]"):
        sql.compressed_query(dialect, table="t", customer_id="c", datetime="d", observation_end="2024-01-31")
    with pytest.raises(InvalidInputError, match=r"must be one of \['duckdb', 'postgresql'\]"):
        sql.summary_query("mysql", table="t", customer_id="c", datetime="d", observation_end="2024-01-31")


def test_postgresql_is_text_only(con: Any) -> None:
    with pytest.raises(InvalidInputError, match=r"tested as text.*\['duckdb'\]"):
        sql.summarize(con, table="t", customer_id="c", datetime="d", observation_end="2024-01-31",
                      dialect="postgresql")


def test_ends_enter_only_as_numbers() -> None:
    q = sql.summary_query("duckdb", table="t", customer_id="c", datetime="d", time_unit="D",
                          observation_end=dt.datetime(2024, 1, 31, 12), calibration_end="2024-01-15T00:00:01")
    assert "2024" not in q  # no text of the caller: the ends are microseconds and periods since 1970
    assert str((dt.datetime(2024, 1, 15, 0, 0, 1) - dt.datetime(1970, 1, 1)) // dt.timedelta(microseconds=1)) in q
    with pytest.raises(InvalidInputError, match="observation_end"):
        sql.summary_query("duckdb", table="t", customer_id="c", datetime="d", observation_end="31/01/2024; --")


def test_freq_is_the_deprecated_spelling(con: Any) -> None:
    log = generated_log(2)
    load(con, log, "DATE")
    ends = ends_of(log, "DATE", False)
    new = sql.summarize(con, table="sales", customer_id="cust", datetime="when", time_unit="W", **ends)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        old = sql.summarize(con, table="sales", customer_id="cust", datetime="when", freq="W", **ends)
        q_old = sql.summary_query("duckdb", table="sales", customer_id="cust", datetime="when", freq="W", **ends)
    assert [w.category for w in caught] == [DeprecationWarning, DeprecationWarning]
    assert_same(old, new)
    assert q_old == sql.summary_query("duckdb", table="sales", customer_id="cust", datetime="when", time_unit="W",
                                      **ends)


# ---------------------------------------------------------------------------------------------- bad data
def make(con: Any, values: str, types: str = "c BIGINT, d TIMESTAMP, x DOUBLE") -> None:
    con.execute(f"CREATE OR REPLACE TABLE t ({types})")
    if values:
        con.execute(f"INSERT INTO t VALUES {values}")


def run(con: Any, **kwargs: Any) -> clvkit.CustomerSummary:
    args: dict[str, Any] = {"table": "t", "customer_id": "c", "datetime": "d", "monetary_value": "x",
                            "observation_end": "2024-02-01"}
    args.update(kwargs)
    return sql.summarize(con, **args)


def test_data_problems_are_reported_together(con: Any) -> None:
    make(con, "(NULL, '2024-01-01', 1.0), (2, NULL, 1.0), (3, '2024-01-02', NULL), (4, '2024-01-03', 'nan'), "
              "(5, '2024-01-04', -2.0), (6, '2024-01-05', 1.0)")
    with pytest.raises(InvalidInputError) as info:
        run(con)
    message = str(info.value)
    assert info.value.columns == ("c", "d", "x", "x", "x")
    assert "null customer id" in message
    assert "is a refund (negative amount) in 1 row (first of customers 5)" in message


def test_rows_after_observation_end(con: Any) -> None:
    make(con, "(1, '2024-01-01', 1.0), (2, '2024-03-01', 1.0)")
    with pytest.raises(InvalidInputError, match=r"is after observation_end .* in 1 row \(first of customers 2\)"):
        run(con)


def test_calibration_end_checked_against_the_data(con: Any) -> None:
    make(con, "(1, '2024-01-01', 1.0), (2, '2024-01-20', 1.0)")
    with pytest.raises(InvalidInputError, match="is before the first transaction"):
        run(con, calibration_end="2023-12-01")
    with pytest.raises(InvalidInputError, match="same 'M' period"):
        run(con, calibration_end="2024-01-10", observation_end="2024-01-31", time_unit="M")
    with pytest.raises(InvalidInputError, match="must be before observation_end"):
        run(con, calibration_end="2024-02-10")


def test_awareness_and_types_must_match_the_column(con: Any) -> None:
    make(con, "(1, '2024-01-01', 1.0)")
    with pytest.raises(InvalidInputError, match="time-zone aware but the time column is naive"):
        run(con, observation_end=dt.datetime(2024, 2, 1, tzinfo=dt.timezone.utc))
    with pytest.raises(InvalidInputError, match="must be a finite number for a numeric time column"):
        make(con, "(1, 5.5, 1.0)", "c BIGINT, d DOUBLE, x DOUBLE")
        run(con)
    make(con, "(1, '2024-01-01', 'ten')", "c BIGINT, d VARCHAR, x VARCHAR")
    with pytest.raises(InvalidInputError) as info:
        run(con)
    assert info.value.columns == ("d", "x")


def test_column_names_match_without_case_as_duckdb_does(con: Any) -> None:
    make(con, "(1, '2024-01-01', 1.0), (1, '2024-01-05', 2.0)")
    got = run(con, customer_id="C", datetime="D", monetary_value="X")
    assert (got.frequency.tolist(), got.monetary_value.tolist()) == ([1.0], [2.0])


def test_missing_table_and_columns(con: Any) -> None:
    with pytest.raises(InvalidInputError, match="cannot be read"):
        run(con, table="nowhere")
    make(con, "(1, '2024-01-01', 1.0)")
    with pytest.raises(InvalidInputError, match="Available columns") as info:
        run(con, customer_id="customer", monetary_value="amount")
    assert info.value.columns == ("customer", "amount")


def test_empty_and_refund_only_tables(con: Any) -> None:
    make(con, "")
    with pytest.raises(InvalidInputError, match="empty"):
        run(con)
    make(con, "(1, '2024-01-01', -1.0)")
    with pytest.raises(InvalidInputError, match="only refunds"):
        run(con, refunds="drop")
    with pytest.raises(InvalidInputError, match="no customer"):
        run(con, refunds="net")


def test_connection_without_a_known_dialect() -> None:
    with pytest.raises(InvalidInputError, match="dialect"):
        sql.summarize(object(), table="t", customer_id="c", datetime="d", observation_end="2024-01-31")


def test_observation_end_is_required() -> None:
    with pytest.raises(InvalidInputError, match="observation_end"):
        sql.summary_query("duckdb", table="t", customer_id="c", datetime="d", observation_end=None)
