"""Purchase times: each customer's calendar origin and repeat purchase times on a summary.

Expected values come from the logs themselves: a plain-Python reference (:func:`_reference`) floors every
transaction with ``datetime`` arithmetic (midnight for days, the Monday before for weeks, the whole hour for
hours), keeps the calibration rows, and counts each later distinct period from the first one; a few values
are also worked out by hand in the comments.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import clvkit
from clvkit import CustomerSummary, InvalidInputError, PurchaseTimes, summarize
from clvkit._aggregate import aggregate

_UNIT = {"D": dt.timedelta(days=1), "W": dt.timedelta(weeks=1), "h": dt.timedelta(hours=1),
         "min": dt.timedelta(minutes=1), "s": dt.timedelta(seconds=1)}


def _floor(when: dt.datetime, unit: str) -> dt.datetime:
    day = dt.datetime(when.year, when.month, when.day)
    if unit == "D":
        return day
    if unit == "W":
        return day - dt.timedelta(days=when.weekday())  # Monday = 0
    if unit == "h":
        return when.replace(minute=0, second=0, microsecond=0)
    if unit == "min":
        return when.replace(second=0, microsecond=0)
    return when.replace(microsecond=0)


def _reference(rows: Iterable[tuple[Any, dt.datetime]], unit: str,
               calibration_end: dt.datetime | None = None) -> dict[Any, tuple[dt.datetime, list[float]]]:
    """Per customer: (origin, repeat purchase times in ``unit``) from (id, naive UTC datetime) rows."""
    periods: dict[Any, set[dt.datetime]] = {}
    for cid, when in rows:
        if calibration_end is None or when <= calibration_end:
            periods.setdefault(cid, set()).add(_floor(when, unit))
    out = {}
    for cid, starts in periods.items():
        first, *rest = sorted(starts)
        out[cid] = (first, [(p - first) / _UNIT[unit] for p in rest])
    return out


def _as_datetime(value: np.datetime64) -> dt.datetime:
    out = value.astype("datetime64[us]").item()
    assert isinstance(out, dt.datetime)
    return out


def _check_against(summary: CustomerSummary, expected: dict[Any, tuple[dt.datetime, list[float]]]) -> None:
    pt = summary.purchase_times
    assert pt is not None and summary.customer_id is not None
    assert sorted(summary.customer_id.tolist()) == sorted(expected)
    for i, cid in enumerate(summary.customer_id.tolist()):
        origin, times = expected[cid]
        assert _as_datetime(pt.origin[i]) == origin, cid
        assert pt.of(i).tolist() == times, cid
        assert len(times) == summary.frequency[i]
        assert (times[-1] if times else 0.0) == summary.recency[i]


def _log(rows: list[tuple[str, str]]) -> dict[str, Any]:
    return {"id": np.array([r[0] for r in rows]), "when": np.array([r[1] for r in rows], dtype="datetime64[s]")}


def _rows(log: dict[str, Any]) -> list[tuple[Any, dt.datetime]]:
    return [(cid, _as_datetime(w)) for cid, w in zip(log["id"].tolist(), log["when"], strict=True)]


# 2024-01-01 is a Monday.
DAILY = [
    ("a", "2024-01-01T09:30:00"), ("a", "2024-01-01T18:00:00"),  # two purchases on one day: one period
    ("a", "2024-01-03T00:00:00"), ("a", "2024-01-10T23:59:59"), ("a", "2024-01-20T12:00:00"),  # 01-20: holdout
    ("b", "2024-01-05T07:00:00"),  # one purchase only
    ("c", "2024-01-07T23:00:00"), ("c", "2024-01-08T01:00:00"),  # Sunday, then Monday
    ("d", "2024-01-16T10:00:00"),  # first purchase after the calibration end: not a customer of the summary
]


def test_daily_log_with_a_calibration_split() -> None:
    log = _log(DAILY)
    s = summarize(log, customer_id="id", datetime="when", time_unit="D", calibration_end="2024-01-14",
                  observation_end="2024-01-31")
    pt = s.purchase_times
    assert pt is not None and s.customer_id is not None
    assert s.customer_id.tolist() == ["a", "b", "c"]
    # By hand: a's days are 01-01 (origin), 01-03 and 01-10 -> times 2 and 9; b none; c 01-07 -> 01-08: 1.
    assert pt.origin.astype("datetime64[D]").astype(str).tolist() == ["2024-01-01", "2024-01-05", "2024-01-07"]
    assert pt.offsets.tolist() == [0, 2, 2, 3]
    assert pt.times.tolist() == [2.0, 9.0, 1.0]
    assert pt.period_days == pt.unit_days == 1.0
    assert pt.origin.dtype == np.dtype("datetime64[ns]") and pt.offsets.dtype == np.int64
    assert pt.times.dtype == np.float64
    _check_against(s, _reference(_rows(log), "D", dt.datetime(2024, 1, 14)))


def test_weekly_log_runs_monday_to_sunday() -> None:
    log = _log(DAILY)
    s = summarize(log, customer_id="id", datetime="when", time_unit="W", calibration_end="2024-01-14",
                  observation_end="2024-01-31")
    pt = s.purchase_times
    assert pt is not None
    # By hand: a's weeks start 01-01 (three purchases) and 01-08 -> time 1; c's Sunday 01-07 is in the week of
    # Monday 01-01, its Monday 01-08 starts the next week -> time 1; b's Friday 01-05 is in the week of 01-01.
    assert pt.origin.astype("datetime64[D]").astype(str).tolist() == ["2024-01-01"] * 3
    assert pt.times.tolist() == [1.0, 1.0]
    assert pt.offsets.tolist() == [0, 1, 1, 2]
    assert pt.period_days == pt.unit_days == 7.0
    _check_against(s, _reference(_rows(log), "W", dt.datetime(2024, 1, 14)))


def test_hourly_and_minute_units() -> None:
    log = _log(DAILY[:8])
    for unit in ("h", "min", "s"):
        s = summarize(log, customer_id="id", datetime="when", time_unit=unit)
        _check_against(s, _reference(_rows(log), unit))
    s = summarize(log, customer_id="id", datetime="when", time_unit="h")
    assert s.purchase_times is not None
    assert str(s.purchase_times.origin[0]) == "2024-01-01T09:00:00.000000000"
    assert s.purchase_times.of(0)[0] == 9.0  # 09:30 and 18:00 fall in the hours from 09:00 and 18:00


def test_zone_aware_times_give_utc_origins() -> None:
    pd = pytest.importorskip("pandas")
    local = ["2024-03-04 00:30", "2024-03-05 23:30", "2024-03-11 00:15", "2024-03-04 12:00"]
    frame = pd.DataFrame({"id": ["x", "x", "x", "y"],
                          "when": pd.to_datetime(local).tz_localize("Europe/Berlin")})  # UTC+1 in March
    utc = [w.to_pydatetime().astimezone(dt.timezone.utc).replace(tzinfo=None) for w in frame["when"]]
    rows = list(zip(frame["id"], utc, strict=True))
    for unit in ("D", "W", "h"):
        s = summarize(frame, customer_id="id", datetime="when", time_unit=unit)
        _check_against(s, _reference(rows, unit))
    s = summarize(frame, customer_id="id", datetime="when", time_unit="D")
    assert s.purchase_times is not None
    # By hand: x's local 03-04 00:30 is 03-03 23:30 UTC -> origin 03-03; 03-05 22:30 UTC -> 2; 03-10 23:15 -> 7.
    assert str(s.purchase_times.origin[0])[:10] == "2024-03-03"
    assert s.purchase_times.of(0).tolist() == [2.0, 7.0]


def test_summarize_transactions_with_aware_entities() -> None:
    from clvkit.domain import Transaction

    plus2 = dt.timezone(dt.timedelta(hours=2))
    stamps = [("p", dt.datetime(2024, 6, 3, 1, 0, tzinfo=plus2)), ("p", dt.datetime(2024, 6, 4, 1, 0, tzinfo=plus2)),
              ("p", dt.datetime(2024, 6, 9, 12, 0, tzinfo=plus2)), ("q", dt.datetime(2024, 6, 5, tzinfo=plus2))]
    log = [Transaction(customer_id=c, timestamp=w, amount=5.0) for c, w in stamps]
    s = clvkit.summarize_transactions(log, time_unit="D")
    rows = [(c, w.astimezone(dt.timezone.utc).replace(tzinfo=None)) for c, w in stamps]
    _check_against(s, _reference(rows, "D"))
    assert s.purchase_times is not None
    assert str(s.purchase_times.origin[0])[:10] == "2024-06-02"  # 01:00 at UTC+2 is 23:00 UTC the day before


def test_calendar_units_and_numeric_times_have_none() -> None:
    log = _log(DAILY[:8])
    for unit in ("M", "Q", "Y"):
        assert summarize(log, customer_id="id", datetime="when", time_unit=unit).purchase_times is None
    numeric = {"id": log["id"], "t": np.array([0.0, 0.5, 2.0, 9.0, 19.0, 4.0, 6.0, 7.0])}
    assert summarize(numeric, customer_id="id", datetime="t", time_unit="D").purchase_times is None
    assert CustomerSummary(frequency=[1], recency=[2.0], T=[3.0]).purchase_times is None


def test_origin_beyond_datetime64_ns_gives_none() -> None:
    log = {"id": np.array(["a", "a"]), "when": np.array(["2300-01-01", "2300-01-05"], dtype="datetime64[s]")}
    s = summarize(log, customer_id="id", datetime="when", time_unit="D")
    assert s.frequency.tolist() == [1.0] and s.purchase_times is None


def test_netted_refund_periods_do_not_count() -> None:
    log = _log([("a", "2024-01-01T10:00:00"), ("a", "2024-01-02T10:00:00"), ("a", "2024-01-02T11:00:00"),
                ("a", "2024-01-04T10:00:00")])
    log["amount"] = np.array([10.0, 5.0, -5.0, 7.0])  # 01-02 nets to zero: no purchase that day
    s = summarize(log, customer_id="id", datetime="when", monetary_value="amount", time_unit="D", refunds="net")
    assert s.purchase_times is not None
    assert s.frequency.tolist() == [1.0] and s.purchase_times.times.tolist() == [3.0]


def test_arrays_are_read_only_and_private() -> None:
    origin = np.array(["2024-01-01", "2024-01-02"], dtype="datetime64[ns]")
    offsets = np.array([0, 1, 1])
    times = np.array([4.0])
    pt = PurchaseTimes(origin, offsets, times, 1.0, 1.0)
    times[0] = 99.0
    assert pt.times.tolist() == [4.0]
    for arr in (pt.origin, pt.offsets, pt.times, pt.of(0)):
        assert not arr.flags.writeable
    with pytest.raises(AttributeError):
        pt.period_days = 2.0  # type: ignore[misc]
    s = summarize(_log(DAILY), customer_id="id", datetime="when")
    assert s.purchase_times is not None and not s.purchase_times.times.flags.writeable


# ---------------------------------------------------------------------------------------------- builders
def _daily_summary() -> CustomerSummary:
    return summarize(_log(DAILY[:8]), customer_id="id", datetime="when", time_unit="D",
                     observation_end="2024-01-31")


def test_take_subsets_the_ragged_times() -> None:
    s = _daily_summary()
    pt = s.purchase_times
    assert pt is not None
    for idx in ([2, 0], [True, False, True], [0, 0, 1], [-1], []):
        sub = s.take(idx)
        positions = np.flatnonzero(idx) if np.asarray(idx).dtype == bool else np.asarray(idx, dtype=int) % 3
        got = sub.purchase_times
        assert got is not None and len(got) == len(positions)
        for j, i in enumerate(positions):
            assert got.of(j).tolist() == pt.of(int(i)).tolist()
            assert got.origin[j] == pt.origin[i]
        assert np.diff(got.offsets).tolist() == sub.frequency.tolist()


def test_with_time_unit_rescales_times_and_keeps_the_period() -> None:
    s = _daily_summary()
    w = s.with_time_unit("W")
    pt, pw = s.purchase_times, w.purchase_times
    assert pt is not None and pw is not None
    assert pw.unit_days == 7.0 and pw.period_days == 1.0
    assert np.allclose(pw.times, pt.times / 7.0, rtol=1e-15, atol=0.0)
    assert np.array_equal(pw.origin, pt.origin) and np.array_equal(pw.offsets, pt.offsets)
    last = pw.offsets[1:][w.frequency > 0] - 1
    assert np.array_equal(pw.times[last], w.recency[w.frequency > 0])  # times[-1] == recency exactly
    back = w.with_time_unit("D").purchase_times
    assert back is not None and back.unit_days == 1.0 and np.allclose(back.times, pt.times, rtol=1e-15)


def test_with_weights_and_replace_keep_them_compress_drops_them() -> None:
    s = _daily_summary()
    assert s.with_weights([1.0, 2.0, 3.0]).purchase_times is s.purchase_times
    c = s.compress()
    assert c.summary.purchase_times is None
    assert s.take([]).compress().summary.purchase_times is None


def test_concat_joins_when_all_have_them() -> None:
    s = _daily_summary()
    pt = s.purchase_times
    assert pt is not None
    joined = CustomerSummary.concat([s.take([2]), s.take([0, 1])])
    got = joined.purchase_times
    assert got is not None
    assert [got.of(i).tolist() for i in range(3)] == [pt.of(2).tolist(), pt.of(0).tolist(), pt.of(1).tolist()]
    # By hand: c bought on 01-07 and 01-08 (1 repeat day), a on 01-01, 01-03, 01-10 and 01-20 (3), b once (0).
    assert got.offsets.tolist() == [0, 1, 4, 4]
    assert np.array_equal(got.origin, pt.origin[[2, 0, 1]])
    no_times = CustomerSummary(frequency=[0], recency=[0.0], T=[5.0], customer_id=["z"])
    assert CustomerSummary.concat([s, no_times]).purchase_times is None
    weekly = summarize(_log(DAILY[:8]), customer_id="id", datetime="when", time_unit="W").with_time_unit("D")
    other = weekly.take([0])._replace(customer_id=np.array(["w"]), observation_end=s.observation_end)  # one study end
    assert CustomerSummary.concat([s, other]).purchase_times is None  # floored to different periods


# ---------------------------------------------------------------------------------------------- validation
def _pt(origins: int, offsets: list[int], times: list[float], unit_days: float = 1.0) -> PurchaseTimes:
    origin = np.datetime64("2024-01-01", "ns") + np.arange(origins).astype("timedelta64[D]")
    return PurchaseTimes(origin, np.array(offsets), np.array(times), 1.0, unit_days)


def _problems(exc: pytest.ExceptionInfo[InvalidInputError]) -> dict[str, str]:
    return {p.column: str(p) for p in exc.value.problems}


def test_summary_checks_the_times_against_its_rows() -> None:
    base = {"frequency": [2, 0, 1], "recency": [5.0, 0.0, 3.0], "T": [10.0, 4.0, 3.0], "customer_id": ["a", "b", "c"]}
    CustomerSummary(**base, purchase_times=_pt(3, [0, 2, 2, 3], [1.0, 5.0, 3.0]))  # valid
    with pytest.raises(InvalidInputError) as exc:
        CustomerSummary(**base, purchase_times=_pt(2, [0, 2, 2], [1.0, 5.0]))
    assert "has 2 customers but 'frequency' has 3 rows" in _problems(exc)["purchase_times"]
    with pytest.raises(InvalidInputError) as exc:
        CustomerSummary(**base, purchase_times=_pt(3, [0, 1, 2, 3], [5.0, 1.0, 3.0]))
    text = str(exc.value)
    assert "must hold 'frequency' times" in text and "first at row 0 (customer_id='a')" in text
    with pytest.raises(InvalidInputError) as exc:
        CustomerSummary(**base, purchase_times=_pt(3, [0, 2, 2, 3], [5.0, 1.0, 3.0]))
    assert "must be in ascending order (1 row fail; first at row 0 (customer_id='a'))" in str(exc.value)
    with pytest.raises(InvalidInputError) as exc:
        CustomerSummary(**base, purchase_times=_pt(3, [0, 2, 2, 3], [-1.0, 5.0, 3.5]))
    assert "must lie within [0, T] (2 rows fail; first at row 0 (customer_id='a'), 2 (customer_id='c'))" in str(
        exc.value)
    with pytest.raises(InvalidInputError, match=r"are in units of 7\.0 days but time_unit .D. is 1\.0 days"):
        CustomerSummary(**base, purchase_times=_pt(3, [0, 2, 2, 3], [1.0, 5.0, 3.0], unit_days=7.0))
    with pytest.raises(InvalidInputError, match=r"must be a PurchaseTimes or None\. Got dict instead"):
        CustomerSummary(**base, purchase_times={"times": [1.0]})  # type: ignore[arg-type]


def test_purchase_times_checks_its_arrays() -> None:
    origin = np.array(["2024-01-01"], dtype="datetime64[ns]")
    with pytest.raises(InvalidInputError) as exc:
        PurchaseTimes(origin, np.array([0, 1, 2]), np.array([1.0, 2.0]), 1.0, 1.0)
    assert "has 3 entries but 'origin' has 1 customers" in _problems(exc)["offsets"]
    with pytest.raises(InvalidInputError) as exc:
        PurchaseTimes(origin, np.array([0, 3]), np.array([1.0, 2.0]), 1.0, 1.0)
    assert "must run from 0 to the number of times (2); got 0..3" in _problems(exc)["offsets"]
    with pytest.raises(InvalidInputError) as exc:
        PurchaseTimes(np.repeat(origin, 2), np.array([0, 2, 1]), np.array([1.0]), 1.0, 1.0)
    assert "must not decrease (1 row fail; first at row 1)" in _problems(exc)["offsets"]
    with pytest.raises(InvalidInputError) as exc:
        PurchaseTimes(origin, np.array([0.0, 1.0]), np.array([np.nan]), 0.0, True)
    assert set(_problems(exc)) == {"offsets", "times", "period_days", "unit_days"}
    with pytest.raises(InvalidInputError) as exc:
        PurchaseTimes(np.array([3.0]), np.array([0, 0]), np.array([]), 1.0, 1.0)
    assert "must be datetimes" in _problems(exc)["origin"]
    with pytest.raises(InvalidInputError) as exc:
        PurchaseTimes(np.array(["NaT"], dtype="datetime64[ns]"), np.array([0, 0]), np.array([]), 1.0, 1.0)
    assert "is missing (NaT)" in _problems(exc)["origin"]
    with pytest.raises(InvalidInputError) as exc:
        PurchaseTimes(np.array(["2400-01-01"], dtype="datetime64[D]"), np.array([0, 0]), np.array([]), 1.0, 1.0)
    assert "do not fit datetime64[ns]" in _problems(exc)["origin"]
    with pytest.raises(InvalidInputError, match="'times'"):
        PurchaseTimes(origin, np.array([0, 1]), np.array(["x"]), 1.0, 1.0)
    day = PurchaseTimes(np.array(["2024-01-01"], dtype="datetime64[D]"), [0, 0], [], 1.0, 1.0)
    assert day.origin.dtype == np.dtype("datetime64[ns]") and str(day.origin[0])[:10] == "2024-01-01"
    pt = PurchaseTimes(origin, np.array([0, 1]), np.array([2.0]), 1.0, 1.0)
    for bad in (1, -2, 0.0, True, "0"):
        with pytest.raises(InvalidInputError, match=r"must be an integer in \[-1, 1\)"):
            pt.of(bad)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------- kernel
def test_rank_packed_periods_decode_to_the_same_times() -> None:
    # Periods far apart force the kernel to pack them as ranks (n_codes * span >= 2**62).
    codes = np.array([0, 0, 1, 0, 1, 1], dtype=np.int64)
    # (Differences chosen exact in float64, like any difference of periods of a datetime64 log.)
    periods = np.array([2**10, 2**61, -(2**60), 2**10, 2**20, 2**61 + 2**30], dtype=np.int64)
    agg = aggregate(codes, 2, periods, None, None, False, repeat_periods=True)
    assert agg.repeat_periods is not None
    assert agg.repeat_periods.tolist() == [2**61 - 2**10, 2**20 + 2**60, 2**61 + 2**30 + 2**60]
    holdout = np.array([False, True, False, False, False, True])
    agg = aggregate(codes, 2, periods, None, holdout, False, repeat_periods=True)
    assert agg.repeat_periods is not None and agg.repeat_periods.tolist() == [2**20 + 2**60]


def test_packed_keys_near_the_int64_limit_give_exact_differences() -> None:
    # 2**21 customers and a span of 2**40 periods: keys up to about 2**61 (no rank packing), which float64
    # cannot hold exactly; the differences must still be the exact period differences.
    n_codes = 2**21
    codes = np.array([n_codes - 1] * 3 + [0, 0], dtype=np.int64)
    periods = np.array([3, 2**40, 10, 0, 1], dtype=np.int64)
    for holdout in (None, np.array([False, False, False, False, True])):
        agg = aggregate(codes, n_codes, periods, None, holdout, False, repeat_periods=True)
        assert agg.repeat_periods is not None
        expected = ([] if holdout is not None else [1.0]) + [7.0, 2.0**40 - 3]
        assert agg.repeat_periods.tolist() == expected


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("abcde"), st.integers(0, 60 * 24 * 40)), min_size=1, max_size=40),
       st.sampled_from(["D", "W", "h"]), st.integers(0, 40))
def test_random_logs_match_the_plain_python_reference(rows: list[tuple[str, int]], unit: str, cal_day: int) -> None:
    start = dt.datetime(2024, 1, 3, 5, 0)  # a Wednesday
    when = [start + dt.timedelta(minutes=m) for _, m in rows]
    log = {"id": np.array([c for c, _ in rows]), "when": np.array(when, dtype="datetime64[s]")}
    cal = start + dt.timedelta(days=cal_day)
    if min(when) <= cal < max(when) and _floor(cal, unit) != _floor(max(when), unit):
        s = summarize(log, customer_id="id", datetime="when", time_unit=unit, calibration_end=cal)
        expected = _reference(zip(log["id"].tolist(), when, strict=True), unit, cal)
    else:
        s = summarize(log, customer_id="id", datetime="when", time_unit=unit)
        expected = _reference(zip(log["id"].tolist(), when, strict=True), unit)
    _check_against(s, expected)
    pt = s.purchase_times
    assert pt is not None
    T = np.repeat(s.T, np.diff(pt.offsets))
    assert np.all((pt.times >= 0) & (pt.times <= T))


# ---------------------------------------------------------------------------------------------- real data
def test_apparel_times_reproduce_frequency_and_recency(shared_data: Any) -> None:
    pd = pytest.importorskip("pandas")
    trans = pd.read_csv(shared_data("apparel_trans.csv"), parse_dates=["Date"])
    # Calibration: the 104 weeks from the common first purchase 2005-01-02 (a Sunday), then the holdout.
    s = summarize(trans, customer_id="Id", datetime="Date", time_unit="W", calibration_end="2006-12-31")
    pt = s.purchase_times
    assert pt is not None and len(pt) == len(s) == 600
    counts = np.diff(pt.offsets)
    assert np.array_equal(counts, s.frequency)
    has = counts > 0
    assert np.array_equal(pt.times[pt.offsets[1:][has] - 1], s.recency[has])
    T = np.repeat(s.T, counts)
    assert np.all((pt.times >= 0) & (pt.times <= T))
    assert all(np.all(np.diff(pt.of(i)) > 0) for i in range(len(s)))  # one time per distinct week, ascending
    # Every customer starts in the week of Monday 2004-12-27, the week holding Sunday 2005-01-02.
    assert set(pt.origin.astype("datetime64[D]").astype(str).tolist()) == {"2004-12-27"}
    rows = [(cid, d.to_pydatetime()) for cid, d in zip(trans["Id"], trans["Date"], strict=True)]
    _check_against(s, _reference(rows, "W", dt.datetime(2006, 12, 31)))
