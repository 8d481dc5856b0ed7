"""Time columns of transaction logs: reading them, the study's end points, and flooring times to periods.

A time column is read once into a :class:`Times` - naive ``datetime64`` (UTC when the column is time-zone
aware) or plain numbers already counted in periods - and every later step (``observation_end`` and
``calibration_end``, flooring to periods of ``freq``, comparisons and messages) works on that. Shared by
:func:`clvkit.summarize` and :func:`clvkit.valuation.tracking`, which must floor times identically.
"""

from __future__ import annotations

import datetime as _dt
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from ._csvio import parse_time_and_zone
from ._frames import frame_kind
from ._timeunits import UNIT_DAYS
from ._validation import is_null, row_problem
from .errors import Problem

__all__ = ["DAYS_MAX", "DAYS_MIN", "NAMED_FORMATS", "NUMERIC_LIMIT", "YYYYMMDD_LIKE", "Times",
           "apply_datetime_format", "as_metadata", "check_datetime_format", "days_to_dates", "period_of",
           "read_param", "read_times", "same_unit", "scalar_key", "show_time", "source_is_aware", "to_periods",
           "yyyymmdd_to_dates"]

IntArray = npt.NDArray[np.int64]

_FIXED_SECONDS = {"s": 1, "min": 60, "h": 3600, "D": 86400}
_TICKS_PER_SECOND = {"ns": 10**9, "us": 10**6, "ms": 10**3, "s": 1}
_EPOCH = _dt.datetime(1970, 1, 1)
#: Numeric times must stay well inside int64 once floored to whole periods.
NUMERIC_LIMIT = 2.0**62
_NS_PER_UNIT = {"W": 7 * 86400 * 10**9, "D": 86400 * 10**9, "h": 3600 * 10**9, "m": 60 * 10**9, "s": 10**9,
                "ms": 10**6, "us": 10**3, "ns": 1}


# ---------------------------------------------------------------------------------------------- reading
def source_is_aware(frame: Any, name: str) -> bool:
    """Whether the time column of a frame (or a series in a mapping) carries a time zone."""
    kind = frame_kind(frame)
    try:
        if kind == "pandas":
            return _dtype_tz(frame[name].dtype) is not None
        if kind == "polars":
            return getattr(frame.schema[name], "time_zone", None) is not None
        if kind == "pyarrow":
            return getattr(frame.schema.field(name).type, "tz", None) is not None
        if kind == "mapping":
            value = frame[name]
            root = type(value).__module__.split(".")[0]
            if root == "pandas":
                return _dtype_tz(value.dtype) is not None
            if root == "polars":
                return getattr(value.dtype, "time_zone", None) is not None
            if root == "pyarrow":
                return getattr(value.type, "tz", None) is not None
    except (KeyError, AttributeError, TypeError):
        return False
    return False


def _dtype_tz(dtype: Any) -> Any:
    tz = getattr(dtype, "tz", None)
    if tz is None:
        tz = getattr(getattr(dtype, "pyarrow_dtype", None), "tz", None)
    return tz


def _zone_key(value: _dt.datetime) -> str:
    """A name for the time zone of an aware datetime ("" when naive)."""
    tz = value.tzinfo
    if tz is None or value.utcoffset() is None:
        return ""
    for attr in ("key", "zone"):  # zoneinfo, pytz
        name = getattr(tz, attr, None)
        if isinstance(name, str):
            return name
    return str(tz)


@dataclass
class Times:
    """A time column read into numbers: naive ``datetime64`` (UTC when aware) or numbers of periods."""

    values: npt.NDArray[Any]
    numeric: bool
    aware: bool


def read_times(arr: npt.NDArray[Any], column: str, source_aware: bool,
                problems: list[Problem | None]) -> Times | None:
    kind = arr.dtype.kind
    if kind == "M":
        problems.append(row_problem(np.isnat(arr), column, "is missing (NaT)", "Drop or fill the missing times."))
        return Times(arr, numeric=False, aware=source_aware)
    if kind in "iu":
        if arr.size and (int(arr.max()) >= NUMERIC_LIMIT or int(arr.min()) <= -NUMERIC_LIMIT):
            problems.append(row_problem((arr >= NUMERIC_LIMIT) | (arr <= -NUMERIC_LIMIT), column,
                                        "is too large to count periods in", "Use a coarser unit."))
        return Times(arr, numeric=True, aware=False)
    if kind == "f":
        with np.errstate(invalid="ignore"):
            bad = ~(np.abs(arr) < NUMERIC_LIMIT)
        problems.append(row_problem(bad, column, "is missing or not finite (NaN/inf)",
                                    "Drop or fill the missing times."))
        return Times(arr, numeric=True, aware=False)
    if kind == "O":
        return _read_object_times(arr, column, problems)
    problems.append(Problem(column, f"cannot be read as times (dtype {arr.dtype})",
                            fix="Pass datetimes, or numbers counted in units of freq."))
    return None


def _read_object_times(arr: npt.NDArray[Any], column: str, problems: list[Problem | None]) -> Times | None:
    """Times held as Python objects: datetimes/dates (one zone, or all naive) or plain numbers."""
    values = arr.tolist()
    n = len(values)
    null = np.fromiter(map(is_null, values), dtype=bool, count=n)
    present = [v for v, bad in zip(values, null.tolist(), strict=True) if not bad]
    problems.append(row_problem(null, column, "is missing (None/NaT/NaN)", "Drop or fill the missing times."))
    if present and all(isinstance(v, (int, float, np.number)) and not isinstance(v, (bool, np.bool_))
                       for v in present):
        out = np.array([math.nan if b else v for v, b in zip(values, null.tolist(), strict=True)], dtype=np.float64)
        with np.errstate(invalid="ignore"):
            problems.append(row_problem(~null & ~(np.abs(out) < NUMERIC_LIMIT), column, "is not finite (inf)",
                                        "Drop the row or fix the time."))
        return Times(out, numeric=True, aware=False)
    unreadable = np.zeros(n, dtype=bool)
    zones: list[str | None] = []
    for i, v in enumerate(values):
        if null[i]:
            zones.append(None)
        elif isinstance(v, _dt.datetime):
            zones.append(_zone_key(v))
        elif isinstance(v, (_dt.date, np.datetime64)):
            zones.append("")
        else:
            zones.append(None)
            unreadable[i] = True
    problems.append(row_problem(unreadable, column, "cannot be read as a datetime",
                                "Pass datetime objects, numpy datetime64 or numbers in units of freq."))
    reference = next((z for z in zones if z is not None), "")
    mixed = np.fromiter((z is not None and z != reference for z in zones), dtype=bool, count=n)
    shown = "naive" if reference == "" else repr(reference)
    problems.append(row_problem(
        mixed, column, f"mixes time zones (first value is {shown}, these rows differ)",
        "Convert the column to one time zone (e.g. UTC) first; a column mixing zones, or aware and naive "
        "values, is usually a parsing mistake."))
    out = np.full(n, np.datetime64("NaT", "us"))
    aware = reference != ""
    for i, v in enumerate(values):
        if zones[i] is None or mixed[i]:
            continue
        if isinstance(v, _dt.datetime) and aware:
            v = v.astimezone(_dt.timezone.utc).replace(tzinfo=None)
        out[i] = np.datetime64(v.replace(tzinfo=None) if isinstance(v, _dt.datetime) else v, "us")
    return Times(out, numeric=False, aware=aware)


def _to_datetime64(value: Any) -> np.datetime64:
    to64 = getattr(value, "to_datetime64", None)  # pandas.Timestamp keeps its nanoseconds this way
    out: np.datetime64 = np.datetime64(to64()) if callable(to64) else np.datetime64(value)
    return out


def read_param(value: Any, name: str, times: Times, problems: list[Problem | None]) -> Any:
    """``observation_end``/``calibration_end`` in the log's representation, or ``None`` (reported)."""
    if times.numeric:
        if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_)):
            x = float(value)
            if abs(x) < NUMERIC_LIMIT:
                return x
        problems.append(Problem(name, f"must be a finite number for a numeric time column; got {value!r}",
                                fix="Give it in the same units as the time column (units of freq)."))
        return None
    if isinstance(value, str):
        try:
            value = _dt.datetime.fromisoformat(value)
        except ValueError:
            problems.append(Problem(name, f"is not an ISO date/time string; got {value!r}",
                                    fix="Pass a datetime or a string like '2024-01-31'."))
            return None
    aware = False
    if isinstance(value, _dt.datetime) and not is_null(value):
        aware = value.utcoffset() is not None
        if aware:
            value = value.astimezone(_dt.timezone.utc).replace(tzinfo=None)
    elif not (isinstance(value, (_dt.date, np.datetime64)) and not is_null(value)):
        problems.append(Problem(name, f"must be a datetime, date, numpy.datetime64 or ISO string; got {value!r}"))
        return None
    if aware != times.aware:
        if times.aware:
            msg, fix = "is naive but the time column is time-zone aware", "Pass an aware datetime."
        else:
            msg, fix = "is time-zone aware but the time column is naive", "Pass a naive datetime."
        problems.append(Problem(name, msg, fix=fix))
        return None
    return _to_datetime64(value)


def as_metadata(value: Any, times: Times, freq: str) -> _dt.datetime | None:
    if times.numeric:
        try:
            return _EPOCH + _dt.timedelta(days=float(value) * UNIT_DAYS[freq])
        except (OverflowError, ValueError):  # beyond the years 1..9999: no datetime to show
            return None
    out = np.datetime64(value, "us").item()
    if isinstance(out, _dt.date) and not isinstance(out, _dt.datetime):
        out = _dt.datetime(out.year, out.month, out.day)
    if not isinstance(out, _dt.datetime):  # pragma: no cover - datetime64[us] of a valid date
        raise TypeError(value)
    return out.replace(tzinfo=_dt.timezone.utc) if times.aware else out


# ---------------------------------------------------------------------------------------------- periods
def to_periods(values: npt.NDArray[Any], numeric: bool, freq: str) -> IntArray:
    """Integer period index of each time: floor to periods of ``freq`` (pandas ``to_period`` semantics)."""
    out: IntArray
    if numeric:
        out = values.astype(np.int64) if values.dtype.kind in "iu" else np.floor(values).astype(np.int64)
        return out
    unit, count = np.datetime_data(values.dtype)
    if freq in ("M", "Q", "Y"):
        out = values.astype("datetime64[Y]" if freq == "Y" else "datetime64[M]").view(np.int64)
        if freq == "Q":
            np.floor_divide(out, 3, out=out)  # quarters end in March, June, September, December
        return out
    if unit == "D" and count == 1:
        ticks, raw = 1, values.view(np.int64)
        seconds_per_tick = 86400
    elif unit in _TICKS_PER_SECOND and count == 1:
        ticks, raw = _TICKS_PER_SECOND[unit], values.view(np.int64)
        seconds_per_tick = 1
    else:
        ticks, raw = 1, values.astype("datetime64[s]").view(np.int64)
        seconds_per_tick = 1
    if freq == "W":
        # 1970-01-01 is a Thursday: day + 3 counts from the Monday before, so weeks run Monday to Sunday
        # like pandas' "W" (= "W-SUN") periods.
        out = raw + 3 if seconds_per_tick == 86400 else np.floor_divide(raw, 86400 * ticks) + 3
        np.floor_divide(out, 7, out=out)
        return out
    period_seconds = _FIXED_SECONDS[freq]
    if seconds_per_tick == 86400:  # whole days: every day holds a whole number of periods
        out = raw * (86400 // period_seconds)
    else:
        out = np.floor_divide(raw, period_seconds * ticks)
    return out


def period_of(value: Any, times: Times, freq: str) -> int:
    arr = np.array([value], dtype=np.float64) if times.numeric else np.array([np.datetime64(value)])
    return int(to_periods(arr, times.numeric, freq)[0])


# ---------------------------------------------------------------------------------------------- comparisons
def scalar_key(value: Any) -> float | int:
    """A time as an exact Python number (nanoseconds for datetimes) for comparisons across units."""
    if not isinstance(value, np.datetime64):
        return float(value)
    unit, count = np.datetime_data(value.dtype)
    if unit not in _NS_PER_UNIT:
        value = value.astype("datetime64[D]") if unit in ("Y", "M") else value.astype("datetime64[ns]")
        unit, count = np.datetime_data(value.dtype)
    return int(value.astype(np.int64)) * _NS_PER_UNIT[unit] * count


def same_unit(value: Any, values: npt.NDArray[Any]) -> Any:
    """``value`` cast to the dtype of ``values`` (a datetime scalar inside the column's range)."""
    if values.dtype.kind == "M":
        return np.datetime64(value).astype(values.dtype)
    return value


def show_time(value: Any, times: Times) -> str:
    if times.numeric:
        return f"{float(value):g}"
    text = str(np.datetime64(value, "s"))
    return text + ("Z" if times.aware else "")


# ---------------------------------------------------------------------------------------------- formats
#: The named values of ``datetime_format``; any other value must be a :func:`~datetime.datetime.strptime`
#: format (it holds a ``%``) for a column of strings.
NAMED_FORMATS = ("days", "yyyymmdd", "periods")
#: 0001-01-01 and 9999-12-31 in days since 1970-01-01: the dates a ``datetime`` can hold.
DAYS_MIN, DAYS_MAX = -719162, 2932896
#: Whole numbers in this range whose month and day are valid are taken for ``YYYYMMDD`` dates, not day counts.
YYYYMMDD_LIKE = (19000101, 21001231)
_FORMAT_FIX = ("Pass datetime_format='yyyymmdd' (integers such as 19970101), 'days' (days since 1970-01-01), "
               "'periods' (numbers counted in units of time_unit) or a strptime format such as '%d/%m/%Y'.")


def check_datetime_format(value: Any) -> Problem | None:
    """A problem when ``value`` is neither ``None``, a named format nor a strptime format."""
    if value is None or value in NAMED_FORMATS or (isinstance(value, str) and "%" in value):
        return None
    return Problem("datetime_format", f"must be None, one of {list(NAMED_FORMATS)} or a strptime format "
                   f"holding '%'; got {value!r}", fix=_FORMAT_FIX)


def yyyymmdd_to_dates(values: npt.NDArray[np.float64]) -> tuple[npt.NDArray[Any], npt.NDArray[np.bool_]]:
    """``YYYYMMDD`` numbers as ``datetime64[D]``, and the rows that are no such date (NaT there).

    A row is bad when it is not finite, not a whole number, outside ``00010101..99991231``, or its month is
    not 1-12 or its day not within the month (``20230230``). ``NaN`` rows are bad too; callers that report
    missing values separately mask them out.
    """
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(values) & (values >= 10101) & (values <= 99991231)
    ok &= np.floor(np.where(ok, values, 0.0)) == np.where(ok, values, 0.0)
    whole = np.where(ok, values, 19700101.0).astype(np.int64)
    year, month, day = whole // 10000, whole // 100 % 100, whole % 100
    ok &= (year >= 1) & (month >= 1) & (month <= 12) & (day >= 1)
    month_index = (year - 1970) * 12 + np.clip(month, 1, 12) - 1
    starts = month_index.astype("datetime64[M]").astype("datetime64[D]")
    lengths = ((month_index + 1).astype("datetime64[M]").astype("datetime64[D]") - starts).astype(np.int64)
    ok &= day <= lengths
    out = starts + (np.clip(day, 1, 31) - 1).astype("timedelta64[D]")
    out[~ok] = np.datetime64("NaT")
    return out, ~ok


def days_to_dates(values: npt.NDArray[np.float64]) -> tuple[npt.NDArray[Any], npt.NDArray[np.bool_]]:
    """Days since 1970-01-01 (fractions are parts of a day) as ``datetime64[us]``, and the rows out of range."""
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(values) & (values >= DAYS_MIN) & (values < DAYS_MAX + 1)
    micros = np.round(np.where(ok, values, 0.0) * 86400e6).astype(np.int64)
    out = micros.astype("datetime64[us]")
    out[~ok] = np.datetime64("NaT")
    return out, ~ok


def _as_numbers(arr: npt.NDArray[Any]) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_],
                                                 npt.NDArray[np.bool_]]:
    """A column as float64 numbers, its missing rows, and the rows that are not numbers at all.

    Integers, floats and digit strings are numbers; booleans, datetimes and other text are not.
    """
    kind = arr.dtype.kind
    if kind in "iuf":
        with np.errstate(over="ignore"):
            out = arr.astype(np.float64)
        missing = np.isnan(out) if kind == "f" else np.zeros(arr.shape, dtype=bool)
        return out, missing, np.zeros(arr.shape, dtype=bool)
    values = arr.tolist() if kind in "OUS" else [None] * arr.shape[0]
    n = len(values)
    out = np.full(n, np.nan)
    missing = np.zeros(n, dtype=bool)
    not_number = np.zeros(n, dtype=bool) if kind in "OUS" else np.ones(n, dtype=bool)
    for i, v in enumerate(values):
        if kind not in "OUS":
            break
        if isinstance(v, bytes):
            v = v.decode("ascii", "replace")
        if isinstance(v, str):
            text = v.strip()
            try:
                out[i] = float(int(text)) if text.lstrip("-").isdigit() else float(text)
            except OverflowError:  # a digit string beyond float64: a number, out of every range
                out[i] = math.inf
            except ValueError:
                not_number[i] = True
        elif is_null(v):
            missing[i] = True
        elif isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_)):
            try:
                out[i] = float(v)
            except OverflowError:
                out[i] = math.inf
        else:
            not_number[i] = True
    return out, missing, not_number


def _first(values: npt.NDArray[Any], bad: npt.NDArray[np.bool_]) -> Any:
    value = values[int(np.flatnonzero(bad)[0])]
    return value.item() if isinstance(value, np.generic) else value


def _parse_strings(arr: npt.NDArray[Any], column: str, date_format: str | None,
                   problems: list[Problem | None]) -> tuple[npt.NDArray[Any] | None, bool]:
    """A column of strings parsed as ISO 8601 (or ``date_format``), as naive UTC ``datetime64[us]``."""
    values = arr.tolist()
    n = len(values)
    out = np.full(n, np.datetime64("NaT"), dtype="datetime64[us]")
    missing = np.zeros(n, dtype=bool)
    failed = np.zeros(n, dtype=bool)
    aware = np.zeros(n, dtype=bool)
    cache: dict[str, tuple[Any, bool] | None] = {}
    for i, v in enumerate(values):
        if isinstance(v, bytes):
            v = v.decode("utf-8", "replace")
        if not isinstance(v, str):
            if is_null(v):
                missing[i] = True
            else:
                failed[i] = True
            continue
        if v not in cache:
            try:
                cache[v] = parse_time_and_zone(v, date_format)
            except (ValueError, OverflowError):
                cache[v] = None
        got = cache[v]
        if got is None:
            failed[i] = True
        else:
            out[i] = np.datetime64(got[0], "us")
            aware[i] = got[1]
    start = len(problems)
    problems.append(row_problem(missing, column, "is missing (None/NaN)", "Drop or fill the missing times."))
    if failed.any():
        expected = f"the format {date_format!r}" if date_format else "ISO 8601 (e.g. 2024-03-01 14:05:00)"
        fix = ("Fix the values, or pass datetime_format: a strptime format such as '%d/%m/%Y', or 'yyyymmdd' / "
               "'days' for numbers." if date_format is None else "Fix the values or the datetime_format.")
        problems.append(row_problem(failed, column, f"cannot be read as a date/time in {expected}; got "
                                    f"{_first(arr, failed)!r}", fix))
    good = np.flatnonzero(~missing & ~failed)
    first_aware = bool(aware[good[0]]) if good.size else False
    mixed = ~missing & ~failed & (aware != first_aware)
    shown = "has a UTC offset" if first_aware else "is naive"
    problems.append(row_problem(
        mixed, column, f"mixes time zones (the first value {shown}, these rows differ)",
        "Give every time a UTC offset (e.g. +00:00), or none; a column mixing aware and naive values is usually "
        "a parsing mistake."))
    if any(p is not None for p in problems[start:]):
        return None, False
    return out, first_aware


def _all_strings(arr: npt.NDArray[Any]) -> bool:
    if arr.dtype.kind in "US":
        return True
    if arr.dtype.kind != "O":
        return False
    present = [v for v in arr.tolist() if not is_null(v)]
    return bool(present) and all(isinstance(v, (str, bytes)) for v in present)


def apply_datetime_format(arr: npt.NDArray[Any], column: str, datetime_format: str | None, source_aware: bool,
                          problems: list[Problem | None]) -> tuple[npt.NDArray[Any] | None, bool]:
    """The time column as :func:`read_times` takes it, given ``datetime_format``, and whether it is aware.

    - ``None``: strings are ISO 8601; datetimes and numbers pass through, but whole numbers that all look
      like ``YYYYMMDD`` dates are refused (they used to be read silently as counts of ``time_unit``);
    - ``"periods"``: numbers counted in units of ``time_unit`` (what ``None`` does with other numbers);
    - ``"days"``: numbers of days since 1970-01-01 (fractions are parts of a day);
    - ``"yyyymmdd"``: whole numbers (or digit strings) such as 19970101;
    - a strptime format: strings in that format.

    Returns ``(None, False)`` with the problems appended when the column cannot be read this way.
    """
    kind = arr.dtype.kind
    if datetime_format is None or datetime_format == "periods":
        if kind in "US" or (kind == "O" and datetime_format is None and _all_strings(arr)):
            if datetime_format == "periods":
                problems.append(Problem(column, "holds text, not numbers counted in periods",
                                        fix="Pass numbers, or drop datetime_format='periods' to read ISO text."))
                return None, False
            return _parse_strings(arr, column, None, problems)
        if datetime_format is None:
            problems.append(_yyyymmdd_like_problem(arr, column))
        return arr, source_aware
    if kind == "M" or (kind == "O" and any(isinstance(v, (_dt.date, np.datetime64)) for v in arr.tolist())):
        problems.append(Problem(column, f"holds datetimes already; datetime_format={datetime_format!r} is for "
                                f"{'strings' if '%' in datetime_format else 'numbers'}",
                                fix="Drop datetime_format (datetimes are read as they are)."))
        return None, False
    if "%" in datetime_format:
        if not _all_strings(arr):
            problems.append(Problem(column, f"holds {arr.dtype} values, not strings for the strptime format "
                                    f"{datetime_format!r}",
                                    fix="Pass strings, or datetime_format='yyyymmdd' or 'days' for numbers."))
            return None, False
        return _parse_strings(arr, column, datetime_format, problems)
    numbers, missing, not_number = _as_numbers(arr)
    start = len(problems)
    problems.append(row_problem(missing, column, "is missing (None/NaN)", "Drop or fill the missing times."))
    problems.append(row_problem(not_number, column, f"is not a number (datetime_format={datetime_format!r}); got "
                                f"{_first(arr, not_number) if not_number.any() else ''!r}",
                                "Pass whole numbers such as 19970101 (yyyymmdd) or day counts (days)."))
    if datetime_format == "yyyymmdd":
        out, bad = yyyymmdd_to_dates(numbers)
        bad &= ~missing & ~not_number
        if bad.any():
            problems.append(row_problem(
                bad, column, f"is not a valid YYYYMMDD date; got {_first(arr, bad)!r}",
                "Each value must be a whole number YYYYMMDD with the month 01-12 and the day within the month "
                "(e.g. 19970101)."))
    else:
        out, bad = days_to_dates(numbers)
        bad &= ~missing & ~not_number
        if bad.any():
            problems.append(row_problem(
                bad, column, f"is not a finite number of days in the years 1 to 9999; got {_first(arr, bad)!r}",
                f"Days since 1970-01-01 must lie in [{DAYS_MIN}, {DAYS_MAX}]."))
    if any(p is not None for p in problems[start:]):
        return None, False
    return out, False


def _yyyymmdd_like_problem(arr: npt.NDArray[Any], column: str) -> Problem | None:
    """A problem when every value of a numeric column is a whole number that reads as a ``YYYYMMDD`` date."""
    kind = arr.dtype.kind
    if kind == "O":
        values = arr.tolist()
        if not values or not all(isinstance(v, (int, float, np.integer, np.floating))
                                 and not isinstance(v, (bool, np.bool_)) for v in values):
            return None
        numbers = np.array([float(v) if abs(v) < 1e300 else math.inf for v in values])
    elif kind in "iuf":
        numbers = arr
    else:
        return None
    if numbers.size == 0:
        return None
    low, high = YYYYMMDD_LIKE
    with np.errstate(invalid="ignore"):
        if not (numbers.min() >= low and numbers.max() <= high):  # also False when a NaN is present
            return None
    floats = numbers.astype(np.float64)
    if not bool(np.all(np.floor(floats) == floats)):
        return None
    _, bad = yyyymmdd_to_dates(floats)
    if bad.any():
        return None
    first = _first(arr, np.ones(1, dtype=bool))
    return Problem(
        column, f"holds whole numbers that all look like YYYYMMDD dates (row 0 is {first!r}); "
        "without datetime_format they would be read as counts of time_unit since 1970-01-01, not as dates",
        rows=(0,), n_bad=int(numbers.size),
        fix="Pass datetime_format='yyyymmdd' if they are dates such as 19970101, or datetime_format='days' if "
            "they are days since 1970-01-01 (datetime_format='periods' keeps counts of time_unit).")
