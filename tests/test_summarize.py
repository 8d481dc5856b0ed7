"""summarize(): agreement with lifetimes and the published CDNOW summary, a scalar reference, properties.

The oracle is lifetimes 0.11.3 (``summary_data_from_transaction_data`` and
``calibration_and_holdout_data``); the reference is the plain-Python implementation below, written from
the definitions with datetime arithmetic only (a customer is a dict of period start -> total spend).
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import clvkit
from clvkit import CustomerSummary, InvalidInputError, summarize

DATA = Path(clvkit.__file__).parent / "data" / "cdnow_sample.txt"

# =============================================================================== scalar reference
Row = tuple[Any, dt.datetime, float]
_UNIT = {"h": dt.timedelta(hours=1), "D": dt.timedelta(days=1), "W": dt.timedelta(weeks=1)}


def period_start(t: dt.datetime, freq: str) -> dt.datetime:
    """Start of the period of ``freq`` holding ``t`` (weeks start on Monday, as pandas' "W")."""
    if freq == "h":
        return t.replace(minute=0, second=0, microsecond=0)
    day = dt.datetime(t.year, t.month, t.day)
    if freq == "D":
        return day
    if freq == "W":
        return day - dt.timedelta(days=day.weekday())
    if freq == "M":
        return dt.datetime(t.year, t.month, 1)
    if freq == "Y":
        return dt.datetime(t.year, 1, 1)
    raise ValueError(freq)


def periods_between(a: dt.datetime, b: dt.datetime, freq: str) -> float:
    """Whole periods from period start ``a`` to period start ``b``."""
    if freq == "M":
        return float((b.year - a.year) * 12 + b.month - a.month)
    if freq == "Y":
        return float(b.year - a.year)
    return (b - a) / _UNIT[freq]


def _periods_of_customers(rows: Iterable[Row], freq: str, net: bool) -> dict[Any, dict[dt.datetime, float]]:
    out: dict[Any, dict[dt.datetime, float]] = {}
    for cust, t, amount in rows:
        periods = out.setdefault(cust, {})
        p = period_start(t, freq)
        periods[p] = periods.get(p, 0.0) + amount
    if net:  # only periods of positive net spend are purchase periods
        out = {c: {p: v for p, v in ps.items() if v > 0} for c, ps in out.items()}
        out = {c: ps for c, ps in out.items() if ps}
    return out


def reference_summary(
    rows: Sequence[Row],
    *,
    freq: str = "D",
    observation_end: dt.datetime | None = None,
    calibration_end: dt.datetime | None = None,
    refunds: str = "error",
) -> dict[Any, dict[str, float]]:
    """customer -> {frequency, recency, T, monetary_value[, frequency_holdout, monetary_value_holdout]}."""
    if refunds == "drop":
        rows = [r for r in rows if r[2] >= 0]
    obs = observation_end if observation_end is not None else max(t for _, t, _ in rows)
    end = calibration_end if calibration_end is not None else obs
    net = refunds == "net"
    cal = _periods_of_customers([r for r in rows if r[1] <= end], freq, net)
    hold = {}
    if calibration_end is not None:
        hold = _periods_of_customers([r for r in rows if end < r[1] <= obs], freq, net)
    end_start = period_start(end, freq)
    result: dict[Any, dict[str, float]] = {}
    for cust, periods in cal.items():
        ordered = sorted(periods)
        repeat = [periods[p] for p in ordered[1:]]
        row = {
            "frequency": float(len(ordered) - 1),
            "recency": periods_between(ordered[0], ordered[-1], freq),
            "T": periods_between(ordered[0], end_start, freq),
            "monetary_value": sum(repeat) / len(repeat) if repeat else 0.0,
        }
        if calibration_end is not None:
            h = hold.get(cust, {})
            row["frequency_holdout"] = float(len(h))
            row["monetary_value_holdout"] = sum(h.values()) / len(h) if h else 0.0
        result[cust] = row
    return result


def assert_matches_reference(summary: CustomerSummary, expected: dict[Any, dict[str, float]]) -> None:
    assert summary.customer_id is not None
    assert summary.customer_id.tolist() == sorted(expected)
    for column in next(iter(expected.values())):
        want = np.array([expected[c][column] for c in sorted(expected)])
        got = getattr(summary, column)
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12, err_msg=column)


def rows_of(frame: pd.DataFrame, cust: str = "cust", when: str = "when", amount: str = "amount") -> list[Row]:
    return [(c, pd.Timestamp(t).to_pydatetime(), float(a))
            for c, t, a in zip(frame[cust].tolist(), frame[when].tolist(), frame[amount].tolist(), strict=True)]


def random_log(seed: int, n: int = 1500, n_customers: int = 120, refunds: bool = False,
               span_days: int = 400) -> pd.DataFrame:
    """A log with several transactions per customer-day, times to the second, and optional refunds."""
    rng = np.random.default_rng(seed)
    seconds = rng.integers(0, span_days * 86400, n)
    amount = np.round(rng.gamma(2.0, 15.0, n), 2)
    if refunds:
        amount[rng.random(n) < 0.1] *= -1.0
    return pd.DataFrame({
        "cust": rng.integers(0, n_customers, n) * 3 + 1000,
        "when": np.datetime64("2021-03-05T00:00:00") + seconds.astype("timedelta64[s]"),
        "amount": amount,
    })


# =============================================================================== the oracle (lifetimes)
@pytest.fixture(scope="module")
def lt_utils() -> Any:
    return pytest.importorskip("lifetimes.utils")


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    # CDNOW_sample.txt (as shipped with lifetimes): master id, customer id, yyyymmdd, CDs, dollar value.
    df = pd.read_csv(DATA, sep=r"\s+", header=None, names=["master", "cust", "date", "cds", "amount"])
    df["when"] = pd.to_datetime(df["date"].astype(str), format="%Y%m%d")
    return df


def lifetimes_summary(lt: Any, frame: pd.DataFrame, freq: str, **kw: Any) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = lt.summary_data_from_transaction_data(frame, "cust", "when", monetary_value_col="amount",
                                                    freq=freq, **kw)
    return out.sort_index()


def lifetimes_calibration(lt: Any, frame: pd.DataFrame, freq: str, calibration_end: Any,
                          observation_end: Any = None) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = lt.calibration_and_holdout_data(frame, "cust", "when", calibration_end,
                                              observation_period_end=observation_end, freq=freq,
                                              monetary_value_col="amount")
    return out.sort_index()


def assert_matches_lifetimes(summary: CustomerSummary, expected: pd.DataFrame, suffix: str = "") -> None:
    assert summary.customer_id is not None
    np.testing.assert_array_equal(summary.customer_id, expected.index.to_numpy())
    for column in ("frequency", "recency", "T", "monetary_value"):
        np.testing.assert_allclose(getattr(summary, column), expected[column + suffix].to_numpy(),
                                   rtol=1e-12, atol=1e-10, err_msg=column)


@pytest.mark.parametrize("freq", ["D", "W", "h"])
def test_cdnow_matches_lifetimes_summary(lt_utils: Any, cdnow: pd.DataFrame, freq: str) -> None:
    s = summarize(cdnow, customer_id="cust", datetime="when", monetary_value="amount", time_unit=freq)
    assert s.time_unit == freq and len(s) == 2357
    assert_matches_lifetimes(s, lifetimes_summary(lt_utils, cdnow, freq))


@pytest.mark.parametrize("freq", ["D", "W"])
def test_cdnow_matches_lifetimes_calibration_and_holdout(lt_utils: Any, cdnow: pd.DataFrame, freq: str) -> None:
    s = summarize(cdnow, customer_id="cust", datetime="when", monetary_value="amount", time_unit=freq,
                  calibration_end="1997-09-30")
    expected = lifetimes_calibration(lt_utils, cdnow, freq, "1997-09-30")
    assert_matches_lifetimes(s, expected, suffix="_cal")
    np.testing.assert_array_equal(s.frequency_holdout, expected["frequency_holdout"].to_numpy())
    assert s.duration_holdout == expected["duration_holdout"].iloc[0] == {"D": 273.0, "W": 39.0}[freq]
    assert s.calibration_end == dt.datetime(1997, 9, 30)
    assert s.observation_end == dt.datetime(1998, 6, 30)


@pytest.mark.parametrize("freq", ["D", "W"])
def test_holdout_spend_matches_lifetimes_with_one_transaction_per_period(
    lt_utils: Any, cdnow: pd.DataFrame, freq: str
) -> None:
    # lifetimes averages holdout *transactions*, clvkit holdout *purchase periods* (like the calibration
    # monetary_value); with one transaction per customer-period the two definitions coincide.
    per_period = (cdnow.assign(period=cdnow["when"].dt.to_period(freq))
                  .groupby(["cust", "period"], as_index=False).agg(when=("when", "min"), amount=("amount", "sum")))
    s = summarize(per_period, customer_id="cust", datetime="when", monetary_value="amount", time_unit=freq,
                  calibration_end="1997-09-30")
    expected = lifetimes_calibration(lt_utils, per_period, freq, "1997-09-30")
    assert_matches_lifetimes(s, expected, suffix="_cal")
    np.testing.assert_allclose(s.monetary_value_holdout, expected["monetary_value_holdout"].to_numpy(),
                               rtol=1e-12, atol=1e-10)


def test_holdout_spend_is_per_purchase_period(lt_utils: Any) -> None:
    # The documented difference: two holdout transactions on one day are one purchase period of 40.
    log = pd.DataFrame({"cust": [1, 1, 1, 1],
                        "when": pd.to_datetime(["2024-01-01", "2024-01-20", "2024-01-20", "2024-01-25"]),
                        "amount": [5.0, 10.0, 30.0, 20.0]})
    s = summarize(log, customer_id="cust", datetime="when", monetary_value="amount", calibration_end="2024-01-10")
    assert s.frequency_holdout.tolist() == [2.0]
    assert s.monetary_value_holdout.tolist() == [(40.0 + 20.0) / 2]
    lt = lifetimes_calibration(lt_utils, log, "D", "2024-01-10")
    assert lt["monetary_value_holdout"].tolist() == [(10.0 + 30.0 + 20.0) / 3]


def test_cdnow_matches_published_summary(cdnow: pd.DataFrame) -> None:
    # Hardie's CDNOW summary as shipped with lifetimes (cdnow_customers_summary_with_transactions.csv):
    # 39-week calibration 1997-01-01..1997-09-30, x = repeat purchase days, t_x and T in weeks, zbar = mean
    # spend per repeat purchase day; values rounded to 2 decimals.
    datasets = pytest.importorskip("lifetimes.datasets")
    published = pd.read_csv(Path(datasets.__file__).parent / "cdnow_customers_summary_with_transactions.csv")
    s = summarize(cdnow, customer_id="cust", datetime="when", monetary_value="amount", time_unit="D",
                  calibration_end=dt.datetime(1997, 9, 30)).with_time_unit("W")
    assert s.time_unit == "W"
    np.testing.assert_array_equal(s.customer_id, published["ID"].to_numpy())
    np.testing.assert_array_equal(s.frequency, published["x"].to_numpy())
    for ours, theirs in (("recency", "t_x"), ("T", "T"), ("monetary_value", "zbar")):
        np.testing.assert_allclose(getattr(s, ours), published[theirs].to_numpy(), rtol=0, atol=1e-2,
                                   err_msg=ours)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("freq", ["D", "W", "h", "s"])
def test_random_logs_match_lifetimes(lt_utils: Any, seed: int, freq: str) -> None:
    log = random_log(seed)
    s = summarize(log, customer_id="cust", datetime="when", monetary_value="amount", time_unit=freq)
    assert_matches_lifetimes(s, lifetimes_summary(lt_utils, log, freq))
    cal_end = pd.Timestamp("2021-11-17 13:00")  # mid-day, mid-week: the boundary period is split
    obs_end = pd.Timestamp("2022-03-01 18:30")
    s = summarize(log[log["when"] <= obs_end], customer_id="cust", datetime="when", monetary_value="amount",
                  time_unit=freq, calibration_end=cal_end, observation_end=obs_end)
    expected = lifetimes_calibration(lt_utils, log, freq, cal_end, obs_end)
    assert_matches_lifetimes(s, expected, suffix="_cal")
    np.testing.assert_array_equal(s.frequency_holdout, expected["frequency_holdout"].to_numpy())
    assert s.duration_holdout == expected["duration_holdout"].iloc[0]


# =============================================================================== the scalar reference
@pytest.mark.parametrize("seed", [3, 4])
@pytest.mark.parametrize("freq", ["h", "D", "W", "M", "Y"])
def test_random_logs_match_reference(seed: int, freq: str) -> None:
    log = random_log(seed, span_days=900)
    rows = rows_of(log)
    s = summarize(log, customer_id="cust", datetime="when", monetary_value="amount", time_unit=freq)
    assert_matches_reference(s, reference_summary(rows, freq=freq))
    cal_end = dt.datetime(2022, 6, 15, 12)
    s = summarize(log, customer_id="cust", datetime="when", monetary_value="amount", time_unit=freq,
                  calibration_end=cal_end)
    assert s.duration_holdout == periods_between(period_start(cal_end, freq),
                                                 period_start(max(t for _, t, _ in rows), freq), freq)
    assert_matches_reference(s, reference_summary(rows, freq=freq, calibration_end=cal_end))


@pytest.mark.parametrize("refunds", ["drop", "net"])
@pytest.mark.parametrize("freq", ["D", "W"])
def test_refund_options_match_reference(refunds: str, freq: str) -> None:
    log = random_log(5, refunds=True)
    assert (log["amount"] < 0).sum() > 50
    rows = rows_of(log)
    s = summarize(log, customer_id="cust", datetime="when", monetary_value="amount", time_unit=freq, refunds=refunds)
    assert_matches_reference(s, reference_summary(rows, freq=freq, refunds=refunds))
    cal_end = dt.datetime(2021, 12, 1)
    s = summarize(log, customer_id="cust", datetime="when", monetary_value="amount", time_unit=freq, refunds=refunds,
                  calibration_end=cal_end)
    assert_matches_reference(s, reference_summary(rows, freq=freq, refunds=refunds, calibration_end=cal_end))


def test_net_refunds_by_hand() -> None:
    log = {
        "cust": np.array(["a", "a", "a", "a", "b", "b"]),
        "when": np.array(["2024-01-01", "2024-01-03", "2024-01-03", "2024-01-05", "2024-01-02", "2024-01-02"],
                         dtype="datetime64[D]"),
        "amount": np.array([10.0, 8.0, -8.0, 6.0, 5.0, -9.0]),
    }
    s = summarize(log, customer_id="cust", datetime="when", monetary_value="amount", refunds="net")
    # a: day 3 nets to 0 and does not count; b: its only day nets negative, so b is not a customer.
    assert s.customer_id.tolist() == ["a"]
    assert (s.frequency.tolist(), s.recency.tolist(), s.T.tolist(), s.monetary_value.tolist()) == (
        [1.0], [4.0], [4.0], [6.0])
    d = summarize(log, customer_id="cust", datetime="when", monetary_value="amount", refunds="drop")
    assert d.customer_id.tolist() == ["a", "b"]
    assert d.frequency.tolist() == [2.0, 0.0] and d.monetary_value.tolist() == [7.0, 0.0]


def test_numeric_times_are_periods_of_freq() -> None:
    log = {"c": np.array([1, 1, 1, 2]), "t": np.array([0.5, 0.9, 3.2, 2.0]), "v": np.array([1.0, 2.0, 4.0, 8.0])}
    s = summarize(log, customer_id="c", datetime="t", monetary_value="v", time_unit="W")
    assert s.time_unit == "W"
    assert (s.frequency.tolist(), s.recency.tolist(), s.T.tolist()) == ([1.0, 0.0], [3.0, 0.0], [3.0, 1.0])
    assert s.monetary_value.tolist() == [4.0, 0.0]
    assert s.observation_end == dt.datetime(1970, 1, 1) + dt.timedelta(weeks=3.2)


def test_huge_period_ranges_fall_back_to_ranks() -> None:
    # 2000 customers x 1e16 periods cannot be packed in one int64 key; the result must not change.
    rng = np.random.default_rng(7)
    n = 6000
    cust = rng.integers(0, 2000, n)
    t = rng.integers(0, 40, n).astype(np.float64) * 2.5e14
    s = summarize({"c": cust, "t": t}, customer_id="c", datetime="t")
    small = summarize({"c": cust, "t": t / 2.5e14}, customer_id="c", datetime="t")
    np.testing.assert_array_equal(s.frequency, small.frequency)
    np.testing.assert_allclose(s.recency, small.recency * 2.5e14)
    np.testing.assert_allclose(s.T, small.T * 2.5e14)


@pytest.mark.parametrize("kind", ["sparse", "negative", "uint64", "float", "string", "bytes", "object_str"])
def test_id_types_give_the_same_summary(kind: str) -> None:
    log = random_log(8, n=800, n_customers=60)
    base = summarize(log, customer_id="cust", datetime="when", monetary_value="amount")
    ids = log["cust"].to_numpy()
    mapped: np.ndarray[Any, Any] = {
        "sparse": ids * 10**12 + 7,
        "negative": -ids,
        "uint64": ids.astype(np.uint64) + np.uint64(2**63),
        "float": ids / 4.0,
        "string": np.char.add("c", ids.astype(str)),
        "bytes": np.char.add(b"c", ids.astype("S")),
        "object_str": np.array([f"c{i:05d}" for i in ids], dtype=object),
    }[kind]
    s = summarize({"cust": mapped, "when": log["when"].to_numpy(), "amount": log["amount"].to_numpy()},
                  customer_id="cust", datetime="when", monetary_value="amount")
    assert s.customer_id is not None and base.customer_id is not None
    assert s.customer_id.dtype != object
    assert list(s.customer_id) == sorted(s.customer_id.tolist())
    order = np.argsort(np.array([dict(zip(mapped.tolist(), ids.tolist(), strict=False))[c]
                                 for c in s.customer_id.tolist()]))
    for column in ("frequency", "recency", "T", "monetary_value"):
        np.testing.assert_array_equal(getattr(s, column)[order], getattr(base, column), err_msg=column)


# =============================================================================== grocery log (numeric days)
@pytest.fixture(scope="module")
def grocery(shared_data: Callable[[str], Path]) -> pd.DataFrame:
    return pd.read_csv(shared_data("grocery_elog.csv"))


def test_grocery_frequencies_match_plain_python(grocery: pd.DataFrame) -> None:
    # Days since 1970-01-01: calibration to 2006-12-31 (day 13513), holdout through 2007-12-30 (day 13877).
    s = summarize(grocery, customer_id="cust", datetime="date", time_unit="D", calibration_end=13513)
    days: dict[int, set[int]] = {}
    hold: dict[int, set[int]] = {}
    for c, d in zip(grocery["cust"].tolist(), grocery["date"].tolist(), strict=True):
        (days if d <= 13513 else hold).setdefault(c, set()).add(int(d))
    customers = sorted(days)
    assert len(customers) == 1525
    assert s.customer_id.tolist() == customers
    assert s.frequency.tolist() == [len(days[c]) - 1 for c in customers]
    assert s.recency.tolist() == [max(days[c]) - min(days[c]) for c in customers]
    assert s.T.tolist() == [13513 - min(days[c]) for c in customers]
    assert s.frequency_holdout.tolist() == [len(hold.get(c, ())) for c in customers]
    assert s.duration_holdout == 364.0
    assert s.calibration_end == dt.datetime(2006, 12, 31) and s.observation_end == dt.datetime(2007, 12, 30)


def test_grocery_numeric_days_equal_datetimes(grocery: pd.DataFrame, lt_utils: Any) -> None:
    as_dates = grocery.assign(when=np.datetime64("1970-01-01") + grocery["date"].astype("timedelta64[D]"),
                              amount=1.0)
    numeric = summarize(grocery, customer_id="cust", datetime="date")
    dated = summarize(as_dates, customer_id="cust", datetime="when")
    for column in ("customer_id", "frequency", "recency", "T"):
        np.testing.assert_array_equal(getattr(numeric, column), getattr(dated, column))
    expected = lifetimes_summary(lt_utils, as_dates, "D")
    np.testing.assert_array_equal(numeric.frequency, expected["frequency"].to_numpy())
    np.testing.assert_array_equal(numeric.T, expected["T"].to_numpy())


# =============================================================================== properties
_log_rows = st.lists(
    st.tuples(st.integers(0, 6), st.integers(0, 90 * 24 - 1), st.floats(0.0, 500.0, allow_nan=False)),
    min_size=1, max_size=60,
)


def _frame(rows: list[tuple[int, int, float]]) -> dict[str, np.ndarray[Any, Any]]:
    return {
        "cust": np.array([r[0] for r in rows], dtype=np.int64),
        "when": np.datetime64("2023-02-01T00", "h") + np.array([r[1] for r in rows], dtype="timedelta64[h]"),
        "amount": np.array([r[2] for r in rows], dtype=np.float64),
    }


@settings(max_examples=150, deadline=None)
@given(rows=_log_rows, freq=st.sampled_from(["h", "D", "W", "M"]), split=st.integers(1, 90 * 24 - 2))
def test_property_matches_reference(rows: list[tuple[int, int, float]], freq: str, split: int) -> None:
    log = _frame(rows)
    ref_rows = [(c, t, a) for c, t, a in zip(log["cust"].tolist(), log["when"].astype(dt.datetime).tolist(),
                                             log["amount"].tolist(), strict=True)]
    s = summarize(log, customer_id="cust", datetime="when", monetary_value="amount", time_unit=freq)
    assert_matches_reference(s, reference_summary(ref_rows, freq=freq))
    cal_end = dt.datetime(2023, 2, 1) + dt.timedelta(hours=split)
    times = [r[1] for r in ref_rows]
    obs = max(times)
    if min(times) <= cal_end < obs and period_start(cal_end, freq) != period_start(obs, freq):
        h = summarize(log, customer_id="cust", datetime="when", monetary_value="amount", time_unit=freq,
                      calibration_end=cal_end)
        assert_matches_reference(h, reference_summary(ref_rows, freq=freq, calibration_end=cal_end))


@settings(max_examples=100, deadline=None)
@given(rows=_log_rows, seed=st.integers(0, 2**32 - 1))
def test_property_invariant_to_row_order(rows: list[tuple[int, int, float]], seed: int) -> None:
    log = _frame(rows)
    perm = np.random.default_rng(seed).permutation(len(rows))
    shuffled = {k: v[perm] for k, v in log.items()}
    a = summarize(log, customer_id="cust", datetime="when", monetary_value="amount")
    b = summarize(shuffled, customer_id="cust", datetime="when", monetary_value="amount")
    for column in ("customer_id", "frequency", "recency", "T"):
        np.testing.assert_array_equal(getattr(a, column), getattr(b, column))
    np.testing.assert_allclose(b.monetary_value, a.monetary_value, rtol=1e-12)


@settings(max_examples=100, deadline=None)
@given(rows=_log_rows, cut=st.integers(0, 6))
def test_property_split_by_customer_then_concat(rows: list[tuple[int, int, float]], cut: int) -> None:
    log = _frame(rows)
    end = log["when"].max()
    parts = [log["cust"] < cut, log["cust"] >= cut]
    pieces = [summarize({k: v[m] for k, v in log.items()}, customer_id="cust", datetime="when",
                        monetary_value="amount", observation_end=end) for m in parts if m.any()]
    whole = summarize(log, customer_id="cust", datetime="when", monetary_value="amount")
    joined = CustomerSummary.concat(pieces)
    for column in ("customer_id", "frequency", "recency", "T", "monetary_value"):
        np.testing.assert_array_equal(getattr(joined, column), getattr(whole, column))


def test_freq_is_the_deprecated_spelling_of_time_unit(cdnow: pd.DataFrame) -> None:
    new = summarize(cdnow, customer_id="cust", datetime="when", time_unit="W")
    with pytest.warns(DeprecationWarning, match="'freq' argument is deprecated.*use 'time_unit'"):
        old = summarize(cdnow, customer_id="cust", datetime="when", freq="W")
    assert old.time_unit == "W"
    np.testing.assert_array_equal(old.T, new.T)
    with pytest.raises(InvalidInputError, match="not both"):
        summarize(cdnow, customer_id="cust", datetime="when", freq="W", time_unit="W")
