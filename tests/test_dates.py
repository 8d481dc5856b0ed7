"""Dates as users have them: ``summarize(..., datetime_format=...)`` and ``clvkit fit --date-format``.

The expectation for every accepted form is the same log written as ISO 8601 strings, built from the same
calendar dates with the standard library (``date.isoformat``), so the test does not lean on the code under
test to say what a date is. The CDNOW raw file (``clvkit/data/cdnow_sample.txt``, the master file's
``YYYYMMDD`` integers) is read here with numpy alone and checked against Hardie's published summary.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import clvkit
from clvkit import CustomerSummary, InvalidInputError, summarize, summarize_transactions
from clvkit._timecolumns import DAYS_MAX, DAYS_MIN, days_to_dates, yyyymmdd_to_dates
from clvkit.cli import main

RAW_CDNOW = Path(clvkit.__file__).parent / "data" / "cdnow_sample.txt"
EPOCH = dt.date(1970, 1, 1)
COLUMNS = ("customer_id", "frequency", "recency", "T", "monetary_value", "frequency_holdout",
           "monetary_value_holdout")


# ------------------------------------------------------------------------------------------ helpers
def random_dates(seed: int, n: int = 400) -> tuple[list[int], list[dt.date], list[float]]:
    """Customers, calendar dates (1996-2001, leap days included) and amounts of a random log."""
    rng = np.random.default_rng(seed)
    start = dt.date(1996, 1, 1)
    offsets = rng.integers(0, 6 * 365, size=n).tolist()
    return (rng.integers(0, 60, size=n).tolist(), [start + dt.timedelta(days=d) for d in offsets],
            np.round(rng.uniform(1, 90, size=n), 2).tolist())


def assert_same(got: CustomerSummary, expected: CustomerSummary) -> None:
    assert len(got) == len(expected)
    for name in COLUMNS:
        a, b = getattr(got, name), getattr(expected, name)
        assert (a is None) == (b is None), name
        if a is not None:
            np.testing.assert_array_equal(a, b, err_msg=name)
    assert got.time_unit == expected.time_unit
    assert got.observation_end == expected.observation_end
    assert got.calibration_end == expected.calibration_end
    assert got.duration_holdout == expected.duration_holdout


def problem_of(call: Callable[[], Any]) -> InvalidInputError:
    with pytest.raises(InvalidInputError) as info:
        call()
    return info.value


def ymd(d: dt.date) -> int:
    return d.year * 10000 + d.month * 100 + d.day


# ------------------------------------------------------------------------------------------ every form equals ISO
FORMS: dict[str, tuple[Callable[[dt.date], Any], str | None]] = {
    "iso strings": (dt.date.isoformat, None),
    "yyyymmdd ints": (ymd, "yyyymmdd"),
    "yyyymmdd floats": (lambda d: float(ymd(d)), "yyyymmdd"),
    "yyyymmdd digit strings": (lambda d: str(ymd(d)), "yyyymmdd"),
    "days ints": (lambda d: (d - EPOCH).days, "days"),
    "days floats": (lambda d: float((d - EPOCH).days), "days"),
    "strptime %d/%m/%Y": (lambda d: d.strftime("%d/%m/%Y"), "%d/%m/%Y"),
    "python datetimes": (lambda d: dt.datetime(d.year, d.month, d.day), None),
    "python dates": (lambda d: d, None),
}


@pytest.mark.parametrize("form", list(FORMS))
@pytest.mark.parametrize("time_unit", ["D", "W", "M"])
@pytest.mark.parametrize("seed", [0, 1])
def test_each_form_equals_iso_strings(form: str, time_unit: str, seed: int) -> None:
    cust, dates, amount = random_dates(seed)
    expected = summarize({"c": np.array(cust), "t": np.array([d.isoformat() for d in dates], dtype=object),
                          "a": np.array(amount)},
                         customer_id="c", datetime="t", monetary_value="a", time_unit=time_unit,
                         calibration_end="1999-06-30", observation_end="2001-12-31")
    convert, fmt = FORMS[form]
    values = [convert(d) for d in dates]
    column = np.empty(len(values), dtype=object)
    column[:] = values
    if not isinstance(values[0], (dt.date, str)):
        column = np.array(values)  # int64 / float64 columns, as users hold them
    got = summarize({"c": np.array(cust), "t": column, "a": np.array(amount)}, customer_id="c", datetime="t",
                    monetary_value="a", time_unit=time_unit, datetime_format=fmt,
                    calibration_end=dt.datetime(1999, 6, 30), observation_end=dt.datetime(2001, 12, 31))
    assert_same(got, expected)


def test_numpy_and_frame_columns_equal_iso_strings() -> None:
    cust, dates, amount = random_dates(2)
    iso = [d.isoformat() for d in dates]
    expected = summarize({"c": cust, "t": iso, "a": amount}, customer_id="c", datetime="t", monetary_value="a",
                         time_unit="W")
    assert_same(summarize({"c": cust, "t": np.array(iso, dtype="datetime64[D]"), "a": amount}, customer_id="c",
                          datetime="t", monetary_value="a", time_unit="W"), expected)
    assert_same(summarize({"c": cust, "t": np.array(iso), "a": amount}, customer_id="c",  # numpy <U10
                          datetime="t", monetary_value="a", time_unit="W"), expected)
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"c": cust, "t": [ymd(d) for d in dates], "a": amount})
    assert_same(summarize(frame, customer_id="c", datetime="t", monetary_value="a", time_unit="W",
                          datetime_format="yyyymmdd"), expected)
    frame["t"] = frame["t"].astype("string")
    assert_same(summarize(frame, customer_id="c", datetime="t", monetary_value="a", time_unit="W",
                          datetime_format="yyyymmdd"), expected)
    frame["t"] = pd.to_datetime(iso)
    assert_same(summarize(frame, customer_id="c", datetime="t", monetary_value="a", time_unit="W"), expected)
    pl = pytest.importorskip("polars")
    pframe = pl.DataFrame({"c": cust, "t": [ymd(d) for d in dates], "a": amount})
    assert_same(summarize(pframe, customer_id="c", datetime="t", monetary_value="a", time_unit="W",
                          datetime_format="yyyymmdd"), expected)
    assert_same(summarize(pl.DataFrame({"c": cust, "t": iso, "a": amount}), customer_id="c", datetime="t",
                          monetary_value="a", time_unit="W"), expected)
    pa = pytest.importorskip("pyarrow")
    table = pa.table({"c": cust, "t": pa.array([(d - EPOCH).days for d in dates], pa.int32()), "a": amount})
    assert_same(summarize(table, customer_id="c", datetime="t", monetary_value="a", time_unit="W",
                          datetime_format="days"), expected)
    assert_same(summarize(pa.table({"c": cust, "t": iso, "a": amount}), customer_id="c", datetime="t",
                          monetary_value="a", time_unit="W"), expected)


def test_fractional_days_are_parts_of_a_day() -> None:
    # 1 hour = 1/24 day; the expectation is the same instants as ISO strings with hours, counted in hours.
    base = dt.datetime(2001, 3, 4)
    hours = [0, 5, 29, 29, 77, 200, 1000]
    cust = [1, 1, 1, 2, 2, 3, 1]
    days = [(base - dt.datetime(1970, 1, 1)).days + h / 24 for h in hours]
    iso = [(base + dt.timedelta(hours=h)).isoformat() for h in hours]
    expected = summarize({"c": cust, "t": iso}, customer_id="c", datetime="t", time_unit="h")
    assert_same(summarize({"c": cust, "t": days}, customer_id="c", datetime="t", time_unit="h",
                          datetime_format="days"), expected)


def test_strptime_with_offsets_is_converted_to_utc() -> None:
    times = ["01/02/2024 23:30 +0200", "02/02/2024 01:00 +0000", "10/02/2024 12:00 -0500"]
    iso = ["2024-02-01T21:30:00+00:00", "2024-02-02T01:00:00+00:00", "2024-02-10T17:00:00+00:00"]
    expected = summarize({"c": [1, 1, 2], "t": iso}, customer_id="c", datetime="t")
    got = summarize({"c": [1, 1, 2], "t": times}, customer_id="c", datetime="t", datetime_format="%d/%m/%Y %H:%M %z")
    assert_same(got, expected)
    assert got.observation_end == dt.datetime(2024, 2, 10, 17, tzinfo=dt.timezone.utc)


@pytest.mark.parametrize(("fmt", "obs", "cal"), [
    ("yyyymmdd", 19980630, 19970930),
    ("days", (dt.date(1998, 6, 30) - EPOCH).days, (dt.date(1997, 9, 30) - EPOCH).days),
    ("%d/%m/%Y", "30/06/1998", "30/09/1997"),
])
def test_ends_may_be_written_like_the_column(fmt: str, obs: Any, cal: Any) -> None:
    cust, dates, _ = random_dates(3)
    dates = [d for d in dates if d <= dt.date(1998, 6, 30)]
    cust = cust[:len(dates)]
    expected = summarize({"c": cust, "t": [d.isoformat() for d in dates]}, customer_id="c", datetime="t",
                         observation_end="1998-06-30", calibration_end="1997-09-30")
    convert = FORMS[{"yyyymmdd": "yyyymmdd ints", "days": "days ints"}.get(fmt, "strptime %d/%m/%Y")][0]
    got = summarize({"c": cust, "t": [convert(d) for d in dates]}, customer_id="c", datetime="t",
                    datetime_format=fmt, observation_end=obs, calibration_end=cal)
    assert_same(got, expected)


def test_entities_take_ends_in_the_format() -> None:
    from clvkit.domain import Transaction

    utc = dt.timezone.utc
    log = [Transaction(customer_id="a", timestamp=dt.datetime(1997, 1, d, tzinfo=utc), amount=10.0) for d in (1, 9)]
    expected = summarize_transactions(log, observation_end=dt.datetime(1997, 2, 1, tzinfo=utc),
                                      calibration_end=dt.datetime(1997, 1, 5, tzinfo=utc))
    assert expected.T.tolist() == [4.0] and expected.duration_holdout == 27.0
    # Entity times are aware (UTC); an end written as a number names no zone and is taken as a UTC date.
    assert_same(summarize_transactions(log, observation_end=19970201, calibration_end=19970105,
                                       datetime_format="yyyymmdd"), expected)
    assert_same(CustomerSummary.from_entities(log, observation_end=(dt.date(1997, 2, 1) - EPOCH).days,
                                              calibration_end=(dt.date(1997, 1, 5) - EPOCH).days,
                                              datetime_format="days"), expected)
    err = problem_of(lambda: summarize_transactions(log, observation_end=19970230, datetime_format="yyyymmdd"))
    assert err.columns == ("observation_end",) and "19970230" in str(err)
    err = problem_of(lambda: summarize_transactions(log, datetime_format="iso"))
    assert err.columns == ("datetime_format",)


# ------------------------------------------------------------------------------------------ the old meaning is kept
def test_numbers_without_format_are_still_counts_of_time_unit() -> None:
    # Documented since 0.1: numbers are times counted in units of time_unit; a week count stays a week count.
    log = {"c": [1, 1, 2], "t": [100, 103, 101]}
    s = summarize(log, customer_id="c", datetime="t", time_unit="W")
    assert s.T.tolist() == [3.0, 2.0] and s.recency.tolist() == [3.0, 0.0]
    assert s.observation_end == dt.datetime(1970, 1, 1) + dt.timedelta(weeks=103)
    assert_same(summarize(log, customer_id="c", datetime="t", time_unit="W", datetime_format="periods"), s)
    # "days" reads the same numbers as days and floors them to Monday-Sunday weeks like datetimes.
    iso = [(EPOCH + dt.timedelta(days=v)).isoformat() for v in log["t"]]
    assert_same(summarize(log, customer_id="c", datetime="t", time_unit="W", datetime_format="days"),
                summarize({"c": log["c"], "t": iso}, customer_id="c", datetime="t", time_unit="W"))


def test_periods_format_keeps_yyyymmdd_like_counts() -> None:
    s = summarize({"c": [1, 1], "t": [19970101, 19970108]}, customer_id="c", datetime="t", time_unit="s",
                  datetime_format="periods")
    assert s.recency.tolist() == [7.0]


# ------------------------------------------------------------------------------------------ CDNOW's raw YYYYMMDD file
def raw_cdnow() -> dict[str, np.ndarray]:
    raw = np.loadtxt(RAW_CDNOW, dtype=np.float64)
    return {"cust": raw[:, 1].astype(np.int64), "date": raw[:, 2].astype(np.int64), "amount": raw[:, 4]}


def test_cdnow_yyyymmdd_without_format_is_refused() -> None:
    log = raw_cdnow()
    err = problem_of(lambda: summarize(log, customer_id="cust", datetime="date", monetary_value="amount"))
    (problem,) = err.problems
    assert problem.column == "date" and problem.rows[0] == 0 and problem.n_bad == 6919
    assert "19970101" in problem.message and "YYYYMMDD" in problem.message
    assert "datetime_format='yyyymmdd'" in problem.fix and "datetime_format='days'" in problem.fix


def test_cdnow_yyyymmdd_with_format_equals_published_summary() -> None:
    # Hardie's CDNOW summary as shipped with lifetimes (cdnow_customers_summary_with_transactions.csv):
    # 39-week calibration 1997-01-01..1997-09-30, x = repeat purchase days, t_x and T in weeks, zbar = mean
    # spend per repeat purchase day; rounded to 2 decimals.
    datasets = pytest.importorskip("lifetimes.datasets")
    published = np.genfromtxt(Path(datasets.__file__).parent / "cdnow_customers_summary_with_transactions.csv",
                              delimiter=",", names=True)
    log = raw_cdnow()
    s = summarize(log, customer_id="cust", datetime="date", monetary_value="amount", datetime_format="yyyymmdd",
                  calibration_end=19970930).with_time_unit("W")
    np.testing.assert_array_equal(s.customer_id, published["ID"])
    np.testing.assert_array_equal(s.frequency, published["x"])
    for ours, theirs in (("recency", "t_x"), ("T", "T"), ("monetary_value", "zbar")):
        np.testing.assert_allclose(getattr(s, ours), published[theirs], rtol=0, atol=5e-3 + 1e-9, err_msg=ours)
    assert s.calibration_end == dt.datetime(1997, 9, 30) and s.observation_end == dt.datetime(1998, 6, 30)


def test_grocery_days_equal_iso(shared_data: Callable[[str], Path]) -> None:
    # BTYDplus' groceryElog: dates as days since 1970-01-01 (floats such as 13149.0), a real "days" log.
    with shared_data("grocery_elog.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    cust = [int(r["cust"]) for r in rows]
    days = [float(r["date"]) for r in rows]
    iso = [(EPOCH + dt.timedelta(days=int(d))).isoformat() for d in days]
    for unit in ("D", "W"):
        expected = summarize({"c": cust, "t": iso}, customer_id="c", datetime="t", time_unit=unit,
                             calibration_end="2006-12-31", observation_end="2007-12-30")
        got = summarize({"c": cust, "t": days}, customer_id="c", datetime="t", time_unit=unit,
                        datetime_format="days", calibration_end=(dt.date(2006, 12, 31) - EPOCH).days,
                        observation_end=(dt.date(2007, 12, 30) - EPOCH).days)
        assert_same(got, expected)
        if unit == "D":  # shared/data/README.md: 3,389 holdout purchases, same-day events counted once
            assert float(got.frequency_holdout.sum()) == 3389


# ------------------------------------------------------------------------------------------ hostile values
@pytest.mark.parametrize(("value", "row_text"), [
    (20231301, "20231301"),   # month 13
    (20230100, "20230100"),   # day 0
    (20230230, "20230230"),   # 30 February
    (20230229, "20230229"),   # not a leap year
    (-20240101, "-20240101"),  # negative
    (20240101.5, "20240101.5"),  # a fraction
    (2**62, str(2**62)),      # huge
    (10**30, str(10**30)),    # beyond int64 (an object column)
    (float("inf"), "inf"),
    ("2024-01-01", "'2024-01-01'"),  # text that is no number
    (True, "True"),
])
def test_bad_yyyymmdd_values_name_the_row(value: Any, row_text: str) -> None:
    column = np.empty(4, dtype=object)
    column[:] = [20240101, 20240229, value, 20240301]
    err = problem_of(lambda: summarize({"c": [1, 1, 2, 2], "t": column}, customer_id="c", datetime="t",
                                       datetime_format="yyyymmdd"))
    (problem,) = err.problems
    assert problem.column == "t" and problem.rows == (2,) and problem.n_bad == 1
    assert row_text in problem.message


@pytest.mark.parametrize("missing", [None, float("nan")])
@pytest.mark.parametrize("fmt", ["yyyymmdd", "days"])
def test_missing_numeric_times_are_named(missing: Any, fmt: str) -> None:
    good = {"yyyymmdd": 20240101, "days": 19723}[fmt]
    err = problem_of(lambda: summarize({"c": [1, 2, 3], "t": [good, missing, good]}, customer_id="c",
                                       datetime="t", datetime_format=fmt))
    assert [(p.column, p.rows) for p in err.problems] == [("t", (1,))] and "missing" in str(err)


@pytest.mark.parametrize("value", [1e12, -1e7, float("inf"), 2**62, "soon"])
def test_bad_day_counts_name_the_row(value: Any) -> None:
    err = problem_of(lambda: summarize({"c": [1, 2], "t": np.array([10000, value], dtype=object)}, customer_id="c",
                                       datetime="t", datetime_format="days"))
    assert [(p.column, p.rows) for p in err.problems] == [("t", (1,))]


def test_bad_strings_name_the_row_and_the_fix() -> None:
    err = problem_of(lambda: summarize({"c": [1, 2, 3], "t": ["2024-01-01", "01/02/2024", None]}, customer_id="c",
                                       datetime="t"))
    assert [(p.column, p.rows) for p in err.problems] == [("t", (2,)), ("t", (1,))]
    assert "'01/02/2024'" in str(err) and "datetime_format" in str(err)
    err = problem_of(lambda: summarize({"c": [1, 2], "t": ["31/12/2024", "32/12/2024"]}, customer_id="c",
                                       datetime="t", datetime_format="%d/%m/%Y"))
    assert [(p.column, p.rows) for p in err.problems] == [("t", (1,))]
    err = problem_of(lambda: summarize({"c": [1, 2], "t": ["2024-01-01", "2024-01-02T00:00+01:00"]},
                                       customer_id="c", datetime="t"))
    assert [(p.column, p.rows) for p in err.problems] == [("t", (1,))] and "mixes time zones" in str(err)


@pytest.mark.parametrize("fmt", ["iso", "YYYYMMDD", "", 5, b"days"])
def test_unknown_formats_are_refused(fmt: Any) -> None:
    err = problem_of(lambda: summarize({"c": [1], "t": [1.0]}, customer_id="c", datetime="t", datetime_format=fmt))
    assert err.columns == ("datetime_format",) and "yyyymmdd" in str(err)


@pytest.mark.parametrize("fmt", ["days", "yyyymmdd", "%Y-%m-%d"])
def test_a_format_for_a_datetime_column_is_refused(fmt: str) -> None:
    times = np.array(["2024-01-01", "2024-01-02"], dtype="datetime64[D]")
    err = problem_of(lambda: summarize({"c": [1, 2], "t": times}, customer_id="c", datetime="t", datetime_format=fmt))
    assert err.columns == ("t",) and "Drop datetime_format" in str(err)


def test_a_strptime_format_for_numbers_is_refused() -> None:
    err = problem_of(lambda: summarize({"c": [1, 2], "t": [20240101, 20240102]}, customer_id="c", datetime="t",
                                       datetime_format="%Y%m%d"))
    assert err.columns == ("t",) and "yyyymmdd" in str(err)


def test_text_is_not_periods() -> None:
    err = problem_of(lambda: summarize({"c": [1], "t": ["2024-01-01"]}, customer_id="c", datetime="t",
                                       datetime_format="periods"))
    assert err.columns == ("t",)


def test_yyyymmdd_check_needs_every_value_to_look_like_a_date() -> None:
    # Day counts of 2020s logs (about 18,000-20,000) are far below 19000101: never mistaken.
    s = summarize({"c": [1, 1], "t": [19000, 19010]}, customer_id="c", datetime="t")
    assert s.recency.tolist() == [10.0]
    # One value with month 13 is no YYYYMMDD date, so the column is read as documented (counts of time_unit).
    s = summarize({"c": [1, 1], "t": [19970101, 19971301]}, customer_id="c", datetime="t")
    assert s.recency.tolist() == [1200.0]
    # Floats that all look like dates are refused as well (pandas reads an integer column with gaps as float).
    err = problem_of(lambda: summarize({"c": [1, 1], "t": [19970101.0, 19970301.0]}, customer_id="c", datetime="t"))
    assert err.columns == ("t",)


# ------------------------------------------------------------------------------------------ the command line
def write_log(path: Path, dates: list[str], cust: list[int], amount: list[float]) -> Path:
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["cust", "when", "amount"])
        w.writerows(zip(cust, dates, amount, strict=True))
    return path


@pytest.fixture(scope="module")
def cdnow_csvs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    log = raw_cdnow()
    folder = tmp_path_factory.mktemp("dates")
    cust, amount = log["cust"].tolist(), [float(a) for a in log["amount"].tolist()]
    dates = [dt.date(v // 10000, v // 100 % 100, v % 100) for v in log["date"].tolist()]
    return {
        "iso": write_log(folder / "iso.csv", [d.isoformat() for d in dates], cust, amount),
        "yyyymmdd": write_log(folder / "yyyymmdd.csv", [str(ymd(d)) for d in dates], cust, amount),
        "days": write_log(folder / "days.csv", [str((d - EPOCH).days) for d in dates], cust, amount),
    }


def fitted_params(folder: Path) -> dict[str, Any]:
    return {name: json.loads((folder / name).read_text())["params"] for name in ("beta_geo.json", "gamma_gamma.json")}


@pytest.mark.parametrize("fmt", ["yyyymmdd", "days"])
def test_cli_fit_with_date_format_equals_iso(cdnow_csvs: dict[str, Path], tmp_path: Path, fmt: str,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--customer-id", "cust", "--datetime", "when", "--monetary-value", "amount", "-q"]
    ends = {"yyyymmdd": ["--calibration-end", "19970930"],
            "days": ["--calibration-end", str((dt.date(1997, 9, 30) - EPOCH).days)]}[fmt]
    assert main(["fit", str(cdnow_csvs["iso"]), *args, "--calibration-end", "1997-09-30",
                 "--output", str(tmp_path / "iso")]) == 0
    assert main(["fit", str(cdnow_csvs[fmt]), *args, "--date-format", fmt, *ends,
                 "--output", str(tmp_path / fmt)]) == 0
    iso_out = capsys.readouterr().out
    assert fitted_params(tmp_path / fmt) == fitted_params(tmp_path / "iso")
    assert "946 with repeat purchases" in iso_out  # Fader & Hardie's 946 repeat customers
    settings = json.loads((tmp_path / fmt / "summary_settings.json").read_text())
    assert settings["date_format"] == fmt
    # score reads the log again with the saved --date-format
    for name in ("iso", fmt):
        assert main(["score", str(cdnow_csvs[name]), "--models", str(tmp_path / name), "-q", "--top", "0",
                     "--output", str(tmp_path / f"{name}_scores.csv")]) == 0
    assert (tmp_path / f"{fmt}_scores.csv").read_text() == (tmp_path / "iso_scores.csv").read_text()


@pytest.mark.parametrize(("fmt", "bad", "shown"), [
    ("yyyymmdd", "20230230", "'20230230'"), ("yyyymmdd", "19971301", "'19971301'"), ("yyyymmdd", "0", "'0'"),
    ("yyyymmdd", "19970101.5", "'19970101.5'"), ("yyyymmdd", "nan", "'nan'"), ("yyyymmdd", "", "''"),
    ("days", "1e12", "'1e12'"), ("days", "inf", "'inf'"), ("days", "x", "'x'"),
])
def test_cli_bad_values_name_the_line(tmp_path: Path, fmt: str, bad: str, shown: str,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    good = {"yyyymmdd": "19970101", "days": "9862"}[fmt]
    path = write_log(tmp_path / "log.csv", [good, good, bad, good], [1, 1, 2, 3], [1.0, 2.0, 3.0, 4.0])
    code = main(["fit", str(path), "--customer-id", "cust", "--datetime", "when", "--date-format", fmt, "-q",
                 "--output", str(tmp_path / "m")])
    err = capsys.readouterr().err
    assert code == 2 and "'when'" in err and "first at line 4" in err and shown in err
    assert not (tmp_path / "m").exists()


def test_cli_unknown_date_format_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_log(tmp_path / "log.csv", ["19970101"], [1], [1.0])
    code = main(["fit", str(path), "--customer-id", "cust", "--datetime", "when", "--date-format", "YYYYMMDD",
                 "--output", str(tmp_path / "m")])
    assert code == 2 and "yyyymmdd" in capsys.readouterr().err and not (tmp_path / "m").exists()


def test_cli_parquet_integer_dates(tmp_path: Path, cdnow_csvs: dict[str, Path],
                                   capsys: pytest.CaptureFixture[str]) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    log = raw_cdnow()
    pq.write_table(pa.table({"cust": log["cust"], "when": log["date"], "amount": log["amount"]}),
                   tmp_path / "log.parquet")
    args = ["--customer-id", "cust", "--datetime", "when", "--monetary-value", "amount", "-q",
            "--calibration-end", "1997-09-30"]
    assert main(["fit", str(tmp_path / "log.parquet"), *args, "--date-format", "yyyymmdd",
                 "--output", str(tmp_path / "pq")]) == 0
    assert main(["fit", str(cdnow_csvs["iso"]), *args, "--output", str(tmp_path / "iso")]) == 0
    assert fitted_params(tmp_path / "pq") == fitted_params(tmp_path / "iso")
    # Without the format the integers are refused, naming the fix.
    code = main(["fit", str(tmp_path / "log.parquet"), *args, "--output", str(tmp_path / "no")])
    assert code == 2 and "yyyymmdd" in capsys.readouterr().err


# ------------------------------------------------------------------------------------------ the kernels, by property
@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(min_value=-10, max_value=100_000_000), min_size=1, max_size=40))
def test_yyyymmdd_kernel_agrees_with_the_calendar(values: list[int]) -> None:
    # Reference: Python's date constructor decides what a valid (year, month, day) is.
    dates, bad = yyyymmdd_to_dates(np.array(values, dtype=np.float64))
    for v, got, is_bad in zip(values, dates.tolist(), bad.tolist(), strict=True):
        try:
            expected = dt.date(v // 10000, v // 100 % 100, v % 100) if v > 0 else None
        except ValueError:
            expected = None
        assert is_bad == (expected is None), v
        assert got == expected


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=DAYS_MIN, max_value=DAYS_MAX), min_size=1, max_size=40),
       st.integers(min_value=0, max_value=86_399))
def test_days_kernel_agrees_with_the_calendar(days: list[int], second: int) -> None:
    # Reference: 1970-01-01 plus a timedelta, the definition of "days since 1970-01-01".
    values = np.array(days, dtype=np.float64) + second / 86400
    got, bad = days_to_dates(values)
    assert not bad.any()
    for d, out in zip(days, got.tolist(), strict=True):
        expected = dt.datetime(1970, 1, 1) + dt.timedelta(days=d, seconds=second)
        # float64 holds days + fraction to one part in 2**52: a microsecond near the present, 40 us in 4840.
        assert abs((out - expected).total_seconds()) <= 1e-6 + 2 * (abs(d) + 1) * 86400 * 2.0**-52
    _, bad = days_to_dates(np.array([DAYS_MIN - 1, DAYS_MAX + 1, np.nan, np.inf]))
    assert bad.all()
