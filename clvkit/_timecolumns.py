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

from ._frames import frame_kind
from ._timeunits import UNIT_DAYS
from ._validation import is_null, row_problem
from .errors import Problem

__all__ = ["NUMERIC_LIMIT", "Times", "as_metadata", "period_of", "read_param", "read_times", "same_unit",
           "scalar_key", "show_time", "source_is_aware", "to_periods"]

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
