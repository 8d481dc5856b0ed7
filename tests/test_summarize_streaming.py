"""summarize() of a stream (issue 15, scope 2): equal to summarize() of the concatenated log, with bounded memory.

The oracle is clvkit's own in-memory summarize() on the same rows (its definitions are tested against lifetimes,
the published CDNOW summary and a scalar reference in test_summarize.py). Amounts in the property tests are
multiples of 1/4 below 2**20, so every sum is exact in any order and the monetary columns must match exactly too;
with arbitrary floats only the order of additions differs (checked to 1e-12 on CDNOW).
"""

from __future__ import annotations

import datetime as dt
import gc
import itertools
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.parquet as pq
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from clvkit import CustomerSummary, InvalidInputError, summarize
from clvkit.datasets import load_cdnow_transactions

Log = dict[str, np.ndarray[Any, Any]]
COLUMNS = ("customer_id", "frequency", "recency", "T", "monetary_value", "frequency_holdout",
           "monetary_value_holdout")


def assert_same(got: CustomerSummary, want: CustomerSummary, *, rtol: float = 0.0) -> None:
    """Every column, the metadata and the purchase times equal (monetary columns to ``rtol``)."""
    for name in COLUMNS:
        a, b = getattr(got, name), getattr(want, name)
        assert (a is None) == (b is None), name
        if b is None:
            continue
        if rtol and name.startswith("monetary"):
            np.testing.assert_allclose(a, b, rtol=rtol, atol=0, err_msg=name)
        else:
            np.testing.assert_array_equal(a, b, err_msg=name)
            assert a.dtype.kind == b.dtype.kind, name
    for name in ("time_unit", "observation_end", "calibration_end", "duration_holdout"):
        assert getattr(got, name) == getattr(want, name), name
    pa_, pb = got.purchase_times, want.purchase_times
    assert (pa_ is None) == (pb is None)
    if pb is not None and pa_ is not None:
        np.testing.assert_array_equal(pa_.origin, pb.origin)
        np.testing.assert_array_equal(pa_.offsets, pb.offsets)
        np.testing.assert_array_equal(pa_.times, pb.times)
        assert (pa_.period_days, pa_.unit_days) == (pb.period_days, pb.unit_days)


def pieces(log: Log, cuts: list[int]) -> list[Log]:
    bounds = [0, *sorted(cuts), len(log["when"])]
    return [{k: v[a:b] for k, v in log.items()} for a, b in itertools.pairwise(bounds)]


def as_kind(part: Log, kind: str) -> Any:
    if kind == "pandas":
        return pd.DataFrame(part)
    if kind == "polars":
        return pl.DataFrame(part)
    if kind == "arrow":
        return pa.record_batch(part)
    return part


def outcome(log_or_stream: Any, **kwargs: Any) -> CustomerSummary | str:
    """The summary, or the columns named by the InvalidInputError raised."""
    try:
        return summarize(log_or_stream, customer_id="cust", datetime="when", **kwargs)
    except InvalidInputError as exc:
        return "error: " + ",".join(exc.columns)


# =============================================================================== the property
START = np.datetime64("2023-02-01T00", "h")
_rows = st.lists(
    st.tuples(st.sampled_from([3, 11, 12, 40, 41, 99]), st.integers(0, 60 * 24 - 1), st.integers(-40, 2000)),
    min_size=1, max_size=50,
)


@settings(max_examples=300, deadline=None)
@given(rows=_rows, data=st.data())
def test_property_stream_equals_in_memory(rows: list[tuple[int, int, int]], data: st.DataObject) -> None:
    """Random logs cut at random rows (customers and customer-periods fall on both sides of a cut), each piece
    a DataFrame, Table or mapping, under every refunds policy, with or without amounts, a holdout and an end."""
    string_ids = data.draw(st.booleans(), label="string ids")
    log: Log = {
        "cust": np.array([f"c{r[0]}" if string_ids else r[0] for r in rows]),
        "when": (START + np.array([r[1] for r in rows], dtype="timedelta64[h]")).astype("datetime64[us]"),
        "amount": np.array([r[2] / 4 for r in rows], dtype=np.float64),
    }
    kwargs: dict[str, Any] = {"time_unit": data.draw(st.sampled_from(["h", "D", "W", "M"]), label="unit")}
    if data.draw(st.booleans(), label="monetary"):
        kwargs["monetary_value"] = "amount"
        kwargs["refunds"] = data.draw(st.sampled_from(["error", "drop", "net"]), label="refunds")
    if data.draw(st.booleans(), label="calibration"):
        kwargs["calibration_end"] = (START + np.timedelta64(data.draw(st.integers(0, 60 * 24)), "h")).item()
    if data.draw(st.booleans(), label="observation_end"):
        kwargs["observation_end"] = (START + np.timedelta64(data.draw(st.integers(0, 61 * 24)), "h")).item()
    cuts = data.draw(st.lists(st.integers(0, len(rows)), max_size=6), label="cuts")
    kind = data.draw(st.sampled_from(["mapping", "pandas", "polars", "arrow"]), label="kind")
    want = outcome(log, **kwargs)
    got = outcome((as_kind(p, kind) for p in pieces(log, cuts)), **kwargs)
    event("refused" if isinstance(want, str) else "summarized")
    if isinstance(want, str) or isinstance(got, str):
        # Both refuse the log. (The stream names the problems of the batch where it stopped, so only the
        # verdict is compared, not the list.)
        assert isinstance(want, str) and isinstance(got, str), (want, got)
    else:
        assert_same(got, want)


@settings(max_examples=60, deadline=None)
@given(rows=_rows, cuts=st.lists(st.integers(0, 50), max_size=4), fmt=st.sampled_from([None, "days", "yyyymmdd"]))
def test_property_numeric_and_formatted_times(rows: list[tuple[int, int, int]], cuts: list[int],
                                              fmt: str | None) -> None:
    """Numeric time columns (counted in periods, days or YYYYMMDD) stream like datetimes."""
    days = np.array([r[1] for r in rows]) // 24
    when: np.ndarray[Any, Any] = days + 19000
    if fmt == "yyyymmdd":
        dates = (np.datetime64("2022-01-01") + days.astype("timedelta64[D]")).astype(dt.date)
        when = np.array([d.year * 10000 + d.month * 100 + d.day for d in dates.tolist()])
    log: Log = {"cust": np.array([r[0] for r in rows]), "when": when,
                "amount": np.array([r[2] / 4 for r in rows], dtype=np.float64)}
    kwargs = {"datetime_format": fmt, "monetary_value": "amount", "refunds": "net", "time_unit": "W"}
    want = outcome(log, **kwargs)
    got = outcome(iter(pieces(log, [c for c in cuts if c <= len(rows)])), **kwargs)
    if isinstance(want, str) or isinstance(got, str):
        assert want == got
    else:
        assert_same(got, want)


def test_periods_far_apart() -> None:
    """Numeric times spanning 2**60 periods (in memory: packed as ranks) stream the same."""
    log = {"cust": np.array([1, 2, 1, 2, 1]), "when": np.array([0, 2**60, 5, 7, 2**60 - 1], dtype=np.int64),
           "amount": np.array([1.0, 2.0, 3.0, 4.0, 5.0])}
    kwargs = {"customer_id": "cust", "datetime": "when", "monetary_value": "amount", "datetime_format": "periods"}
    assert_same(summarize(iter(pieces(log, [2, 3])), **kwargs), summarize(log, **kwargs))


def test_time_sorted_stream_in_seconds() -> None:
    """A log in time order, summarized in seconds: new periods in every batch make the packed keys grow wider
    several times (re-packed in place); the result is still the in-memory one."""
    rng = np.random.default_rng(3)
    n = 100_000
    log = {"cust": rng.integers(0, 3000, n), "when": np.sort(rng.integers(0, 10**7, n)).astype("datetime64[s]"),
           "amount": rng.integers(1, 100, n) / 4}
    kwargs = {"customer_id": "cust", "datetime": "when", "monetary_value": "amount", "time_unit": "s"}
    assert_same(summarize(iter(pieces(log, list(range(3000, n, 3000)))), **kwargs), summarize(log, **kwargs))


def test_yyyymmdd_like_numbers_are_judged_over_the_whole_stream() -> None:
    """In memory, numbers are refused when *every* value looks like a YYYYMMDD date; a stream judges all batches."""
    like = {"cust": np.array([1, 2]), "when": np.array([20240101, 20240102])}
    other = {"cust": np.array([1, 3]), "when": np.array([19000, 19001])}
    with pytest.raises(InvalidInputError, match="look like YYYYMMDD"):
        summarize(iter([like, like]), customer_id="cust", datetime="when")
    whole = {k: np.concatenate([like[k], other[k]]) for k in like}
    assert_same(summarize(iter([like, other]), customer_id="cust", datetime="when"),
                summarize(whole, customer_id="cust", datetime="when"))


# =============================================================================== the sources, on CDNOW
@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    log = load_cdnow_transactions()
    # Row order shuffled (a customer's purchases scattered over the batches); amounts arbitrary floats.
    order = np.random.default_rng(15).permutation(len(log["date"]))
    return pd.DataFrame({"cust": log["customer_id"][order], "when": log["date"][order],
                         "amount": log["amount"][order]})


CDNOW_CASES = [
    {"time_unit": "W", "monetary_value": "amount"},
    {"time_unit": "D", "monetary_value": "amount", "calibration_end": "1997-09-30", "observation_end": "1998-06-30"},
    {"time_unit": "D", "calibration_end": "1997-09-30"},
    {"time_unit": "M", "monetary_value": "amount", "refunds": "net", "calibration_end": "1997-09-30"},
]


def _summarize(source: Any, case: dict[str, Any], batch_size: int | None = None) -> CustomerSummary:
    return summarize(source, customer_id="cust", datetime="when", batch_size=batch_size, **case)


@pytest.mark.parametrize("case", CDNOW_CASES)
def test_every_source_equals_the_in_memory_summary(cdnow: pd.DataFrame, case: dict[str, Any],
                                                   tmp_path: Path) -> None:
    want = _summarize(cdnow, case)
    table = pa.Table.from_pandas(cdnow, preserve_index=False)
    folder = tmp_path / "parquet"
    folder.mkdir()
    for i, part in enumerate(np.array_split(np.arange(len(cdnow)), 4)):
        pq.write_table(table.take(pa.array(part)), folder / f"part-{i}.parquet", row_group_size=700)
    csv = tmp_path / "log.csv"
    cdnow.to_csv(csv, index=False)
    sources = {
        "LazyFrame": pl.from_pandas(cdnow).lazy(),
        "scanned Parquet LazyFrame": pl.scan_parquet(folder / "*.parquet"),
        "Dataset": pads.dataset(folder, format="parquet"),
        "RecordBatchReader": table.to_reader(max_chunksize=500),
        "generator of pandas": (cdnow.iloc[i:i + 1000] for i in range(0, len(cdnow), 1000)),
        "list of polars": [pl.from_pandas(cdnow.iloc[i:i + 3000]) for i in range(0, len(cdnow), 3000)],
        "pandas CSV reader": pd.read_csv(csv, parse_dates=["when"], chunksize=2000),
    }
    for name, source in sources.items():
        got = _summarize(source, case, batch_size=800)
        assert_same(got, want, rtol=1e-12)
        if case.get("refunds") != "net" and "monetary_value" in case:
            assert got.monetary_value is not None and np.any(got.monetary_value > 0), name


def test_one_batch_and_many_agree_exactly(cdnow: pd.DataFrame) -> None:
    """Batch size only changes the order of additions: with one batch the stream equals summarize() exactly."""
    case = {"time_unit": "D", "monetary_value": "amount", "calibration_end": "1997-09-30"}
    assert_same(_summarize(pl.from_pandas(cdnow).lazy(), case, batch_size=10**6), _summarize(cdnow, case))


def test_observation_end_is_the_last_transaction_of_all_batches(cdnow: pd.DataFrame) -> None:
    """Without observation_end, T counts to the last transaction of the whole stream, not of each batch."""
    ordered = cdnow.sort_values("when", kind="stable")
    got = _summarize((ordered.iloc[i:i + 500] for i in range(0, len(ordered), 500)), {"time_unit": "D"})
    assert got.observation_end == dt.datetime(1998, 6, 30)  # the last CDNOW purchase
    assert_same(got, _summarize(cdnow, {"time_unit": "D"}))


# =============================================================================== errors
@pytest.mark.parametrize("source", [42, "log.csv", np.zeros(3), None, pd.Series([1, 2])])
def test_unsupported_source_names_what_is_accepted(source: Any) -> None:
    with pytest.raises(InvalidInputError, match=r"LazyFrame.*Dataset.*RecordBatchReader.*iterable"):
        summarize(source, customer_id="cust", datetime="when")


def test_a_batch_that_is_not_a_frame_is_named() -> None:
    good = {"cust": np.array([1]), "when": np.array(["2024-01-01"], dtype="datetime64[D]")}
    with pytest.raises(InvalidInputError, match="Batch 1 is a int"):
        summarize([good, 7], customer_id="cust", datetime="when")
    with pytest.raises(InvalidInputError, match="Batch 0 is a LazyFrame"):
        summarize([pl.DataFrame(good).lazy()], customer_id="cust", datetime="when")


def test_missing_columns_are_named_before_reading() -> None:
    frame = pl.DataFrame({"cust": [1], "when": [dt.date(2024, 1, 1)]})
    for source in (frame.lazy(), frame.to_arrow().to_reader(), pads.dataset(frame.to_arrow())):
        with pytest.raises(InvalidInputError) as info:
            summarize(source, customer_id="cust", datetime="when", monetary_value="spend")
        assert info.value.columns == ("spend",)


def test_bad_rows_are_named_by_their_position_in_the_stream() -> None:
    def batch(amounts: list[float]) -> Log:
        return {"cust": np.arange(len(amounts)), "when": np.full(len(amounts), np.datetime64("2024-01-01")),
                "amount": np.array(amounts)}

    with pytest.raises(InvalidInputError) as info:
        summarize(iter([batch([1.0, 2.0, 3.0]), batch([4.0, -5.0, 6.0, -7.0])]), customer_id="cust",
                  datetime="when", monetary_value="amount")
    message = str(info.value)
    assert "batch 1: rows 3 to 6 of the stream" in message
    assert info.value.problems[0].rows == (4, 6) and "refund" in message


def test_batches_must_agree_on_the_kind_of_time_and_id() -> None:
    day = {"cust": np.array([1]), "when": np.array(["2024-01-01"], dtype="datetime64[D]")}
    number = {"cust": np.array([2]), "when": np.array([19000.0])}
    with pytest.raises(InvalidInputError, match="numbers in batch 1 but naive datetimes in the first batch"):
        summarize([day, number], customer_id="cust", datetime="when")
    aware = pd.DataFrame({"cust": [3], "when": pd.to_datetime(["2024-01-02"]).tz_localize("UTC")})
    with pytest.raises(InvalidInputError, match="time-zone-aware datetimes in batch 1"):
        summarize([day, aware], customer_id="cust", datetime="when")
    text_id = {"cust": np.array(["a"]), "when": np.array(["2024-01-03"], dtype="datetime64[D]")}
    with pytest.raises(InvalidInputError, match="customer ids of another type"):
        summarize([day, text_id], customer_id="cust", datetime="when")


def test_empty_streams_and_ends_outside_the_data() -> None:
    with pytest.raises(InvalidInputError, match="log is empty"):
        summarize(iter([]), customer_id="cust", datetime="when")
    empty = {"cust": np.zeros(0, dtype=np.int64), "when": np.zeros(0, dtype="datetime64[D]")}
    with pytest.raises(InvalidInputError, match="log is empty"):
        summarize([empty, empty], customer_id="cust", datetime="when")
    log = {"cust": np.array([1, 2]), "when": np.array(["2024-01-01", "2024-01-09"], dtype="datetime64[D]")}
    with pytest.raises(InvalidInputError, match="after observation_end"):
        summarize([log], customer_id="cust", datetime="when", observation_end="2024-01-05")
    with pytest.raises(InvalidInputError, match="calibration_end"):
        summarize([log], customer_id="cust", datetime="when", calibration_end="2024-01-09")
    refunds = {"cust": np.array([1]), "when": np.array(["2024-01-01"], dtype="datetime64[D]"),
               "amount": np.array([-1.0])}
    with pytest.raises(InvalidInputError, match="only refunds"):
        summarize([refunds], customer_id="cust", datetime="when", monetary_value="amount", refunds="drop")


@pytest.mark.parametrize("batch_size", [0, -3, 2.5, True, "1000"])
def test_batch_size_is_checked(batch_size: Any) -> None:
    with pytest.raises(InvalidInputError, match="batch_size"):
        summarize(pl.DataFrame({"cust": [1], "when": [dt.date(2024, 1, 1)]}).lazy(), customer_id="cust",
                  datetime="when", batch_size=batch_size)


# =============================================================================== the chunking route
def test_chunking_by_customer_range_with_one_observation_end(cdnow: pd.DataFrame) -> None:
    """The manual route: summarize customer ranges with one shared observation_end, then concat."""
    end = cdnow["when"].max()
    ranges = [cdnow["cust"] < 800, (cdnow["cust"] >= 800) & (cdnow["cust"] < 1900), cdnow["cust"] >= 1900]
    parts = [summarize(cdnow[m], customer_id="cust", datetime="when", monetary_value="amount",
                       observation_end=end) for m in ranges]
    joined = CustomerSummary.concat(parts)
    assert_same(joined, summarize(cdnow, customer_id="cust", datetime="when", monetary_value="amount"), rtol=1e-12)
    # Without the shared end each part counts T to its own last purchase: concat refuses to mix them.
    own_end = [summarize(cdnow[m], customer_id="cust", datetime="when") for m in ranges]
    assert len({p.observation_end for p in own_end}) > 1
    with pytest.raises(InvalidInputError, match="one observation_end"):
        CustomerSummary.concat(own_end)


# =============================================================================== memory
N_CUSTOMERS, N_DAYS = 5_000, 30


def _line_items(n_batches: int, rows: int) -> Iterator[Log]:
    """Baskets of line items: several rows per customer-day, as in a retail log."""
    for i in range(n_batches):
        rng = np.random.default_rng([15, i])
        yield {"cust": rng.integers(0, N_CUSTOMERS, rows),
               "when": np.datetime64("2024-01-01") + rng.integers(0, N_DAYS, rows).astype("timedelta64[D]"),
               "amount": rng.integers(1, 400, rows) / 4}


def _peak(fn: Any) -> tuple[int, Any]:
    gc.collect()
    tracemalloc.start()
    try:
        out = fn()
        return tracemalloc.get_traced_memory()[1], out
    finally:
        tracemalloc.stop()


def test_memory_stays_within_the_documented_bound() -> None:
    """tracemalloc peak of a 2M-row stream in 50k-row batches under summarize()'s stated bound, and far below
    the log itself: holding the batches (or a copy of the log) would exceed it."""
    n_batches, rows = 40, 50_000
    batch_bytes = rows * (8 + 8 + 8)  # the three needed columns of one batch
    peak, got = _peak(lambda: summarize(_line_items(n_batches, rows), customer_id="cust", datetime="when",
                                        monetary_value="amount"))
    assert got.purchase_times is not None
    keys = int(got.frequency.sum()) + len(got)  # distinct customer-days
    bound = 8 * batch_bytes + 32 * keys + 200 * len(got)  # the bound stated in summarize()'s docstring
    log_bytes = n_batches * batch_bytes
    assert peak <= bound, (peak, bound)
    assert bound < log_bytes / 2  # the check has teeth: holding every batch would fail it
    # and the result is the in-memory one
    whole = {k: np.concatenate([b[k] for b in _line_items(n_batches, rows)]) for k in ("cust", "when", "amount")}
    want = summarize(whole, customer_id="cust", datetime="when", monetary_value="amount")
    assert_same(got, want)


def test_a_dask_frame_is_sent_to_clvkit_dask() -> None:
    dd = pytest.importorskip("dask.dataframe")
    frame = dd.from_pandas(pd.DataFrame({"cust": [1], "when": pd.to_datetime(["2024-01-01"])}), npartitions=1)
    with pytest.raises(InvalidInputError, match=r"clvkit\.dask\.summarize"):
        summarize(frame, customer_id="cust", datetime="when")


def test_python_number_ids_in_object_columns() -> None:
    """Ids read as Python ints in one batch and floats in another are numbers in both (as in memory)."""
    a = {"cust": np.array([1, 2], dtype=object), "when": np.array(["2024-01-01", "2024-01-03"], dtype="datetime64[D]")}
    b = {"cust": np.array([2.5, 1.0], dtype=object), "when": np.array(["2024-01-02", "2024-01-05"],
                                                                      dtype="datetime64[D]")}
    got = summarize([a, b], customer_id="cust", datetime="when")
    want = summarize({k: np.concatenate([a[k], b[k]]) for k in a}, customer_id="cust", datetime="when")
    assert got.customer_id is not None and want.customer_id is not None
    assert got.customer_id.tolist() == want.customer_id.tolist() == [1, 2, 2.5]
    np.testing.assert_array_equal(got.frequency, want.frequency)
    np.testing.assert_array_equal(got.T, want.T)
