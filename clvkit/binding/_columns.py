"""Reading the columns of the binding tables into typed numpy arrays, collecting every problem found.

Each reader takes a raw column (a numpy array from :func:`clvkit._frames.to_columns` or a list), appends
:class:`~clvkit.errors.Problem` records for bad rows to ``problems`` and returns a typed array with a
sentinel where the value is missing or bad, so that one call reports all problems of all tables at once.
Python loops run only over the *distinct* values of object columns (or over rows of object time columns,
which come from CSV files or entity lists), never in the scoring path.
"""

from __future__ import annotations

import datetime as _dt
import enum
import math
import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from ..errors import MAX_ROWS_SHOWN, Problem

__all__ = [
    "IdDict",
    "id_problem",
    "read_bool",
    "read_choice",
    "read_functions",
    "read_ids",
    "read_ladder",
    "read_strength",
    "read_times",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
E = TypeVar("E", bound=enum.Enum)

_UTC = _dt.timezone.utc


def id_problem(bad: BoolArray, column: str, message: str, fix: str,
               labels: Mapping[str, npt.NDArray[Any]]) -> Problem | None:
    """A :class:`Problem` naming the first bad rows by position and by the ids in ``labels``."""
    n_bad = int(np.count_nonzero(bad))
    if n_bad == 0:
        return None
    rows = []
    for i in np.flatnonzero(bad)[:MAX_ROWS_SHOWN].tolist():
        named = ", ".join(f"{k}={_plain(v[i])!r}" for k, v in labels.items() if v is not None)
        rows.append(f"{i} ({named})" if named else str(i))
    return Problem(column=column, message=message, rows=tuple(rows), n_bad=n_bad, fix=fix)


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, float):
        return math.isnan(value)
    try:  # pandas.NA, NaT and numpy NaT
        return bool(value != value)
    except (TypeError, ValueError):
        return False


def _as_array(values: Any) -> npt.NDArray[Any]:
    if isinstance(values, (list, tuple)) and any(isinstance(v, (list, tuple, set)) for v in values):
        arr = np.empty(len(values), dtype=object)  # e.g. lists of function names: one object per row
        arr[:] = [tuple(v) if isinstance(v, (list, tuple, set)) else v for v in values]
        return arr
    arr = np.asarray(values)
    return arr.reshape(1) if arr.ndim == 0 else arr.reshape(-1)


def _map_distinct(arr: npt.NDArray[Any], fn: Callable[[Any], int | None], dtype: Any) -> tuple[npt.NDArray[Any],
                                                                                            BoolArray]:
    """Apply ``fn`` to each distinct value of ``arr``; return the mapped array and a mask of failures."""
    if arr.dtype.kind in "US" or (arr.dtype.kind in "iub" and arr.size > 64):
        uniq, inverse = np.unique(arr, return_inverse=True)
        mapped = [fn(v) for v in uniq.tolist()]
    else:
        items = arr.tolist()
        lookup: dict[Any, int] = {}
        mapped = []
        inv_list = []
        for v in items:
            try:
                j = lookup.get(v)
                hashable = True
            except TypeError:  # unhashable, e.g. a list of flag names: mapped on its own
                j, hashable = None, False
            if j is None:
                j = len(mapped)
                mapped.append(fn(v))
                if hashable:
                    lookup[v] = j
            inv_list.append(j)
        inverse = np.asarray(inv_list, dtype=np.intp)
    bad_distinct = np.array([m is None for m in mapped], dtype=bool)
    values = np.array([0 if m is None else m for m in mapped], dtype=dtype)
    return values[inverse], bad_distinct[inverse]


# ---------------------------------------------------------------------------------------------- ids
def read_ids(values: Any, column: str, problems: list[Problem | None], *, required: bool = True
             ) -> tuple[npt.NDArray[Any], BoolArray]:
    """Ids as an int64 or a unicode array, plus the mask of missing ids (a problem when ``required``)."""
    arr = _as_array(values)
    if arr.dtype.kind in "iu":
        return arr.astype(np.int64, copy=False), np.zeros(arr.shape[0], dtype=bool)
    if arr.dtype.kind == "U":
        missing = np.char.str_len(np.char.strip(arr)) == 0
    else:
        items = arr.tolist()
        missing = np.fromiter((_is_missing(v) for v in items), dtype=bool, count=len(items))
        arr = np.array(["" if m else str(v) for v, m in zip(items, missing.tolist(), strict=True)], dtype=str)
        if arr.dtype.kind != "U":  # an empty column
            arr = arr.astype(str)
    if required:
        problems.append(id_problem(missing, column, "is missing", "Give every row its id.", {}))
    return arr, missing


def _common(a: npt.NDArray[Any], b: npt.NDArray[Any]) -> tuple[npt.NDArray[Any], npt.NDArray[Any]]:
    if a.dtype.kind == b.dtype.kind == "i":
        return a, b
    return a.astype(str), b.astype(str)


class IdDict:
    """Sorted distinct ids of one kind (employees, contacts, ...), coding ids as dense int64 positions."""

    def __init__(self, ids: npt.NDArray[Any], *, keep_order: bool = False) -> None:
        self.ids = ids
        if keep_order:
            order = np.argsort(ids, kind="stable")
            self._sorted, self._pos = ids[order], order.astype(np.int64)
        else:
            self._sorted, self._pos = ids, np.arange(ids.shape[0], dtype=np.int64)

    @classmethod
    def from_table(cls, ids: npt.NDArray[Any], column: str, problems: list[Problem | None], *,
                   keep_order: bool = False) -> tuple[IdDict, IntArray]:
        """The dictionary of a table's primary key (duplicates are a problem) and each row's code."""
        if keep_order:
            order = np.argsort(ids, kind="stable")
            s = ids[order]
            dup = np.zeros(ids.shape[0], dtype=bool)
            dup[order[1:][s[1:] == s[:-1]]] = True
            problems.append(id_problem(dup, column, "must be unique", "Keep one row per id.", {column: ids}))
            return cls(ids, keep_order=True), np.arange(ids.shape[0], dtype=np.int64)
        uniq, inverse, counts = np.unique(ids, return_inverse=True, return_counts=True)
        dup = counts[inverse] > 1
        problems.append(id_problem(dup, column, "must be unique", "Keep one row per id.", {column: ids}))
        return cls(uniq), inverse.astype(np.int64)

    def __len__(self) -> int:
        return int(self.ids.shape[0])

    def code(self, values: npt.NDArray[Any]) -> tuple[IntArray, BoolArray]:
        """Codes of ``values`` (-1 where unknown) and the mask of unknown values."""
        table, vals = _common(self._sorted, values)
        if table.shape[0] == 0:
            return np.full(vals.shape[0], -1, dtype=np.int64), np.ones(vals.shape[0], dtype=bool)
        pos = np.searchsorted(table, vals)
        pos_c = np.minimum(pos, table.shape[0] - 1)
        found = table[pos_c] == vals
        codes = np.where(found, self._pos[pos_c], -1).astype(np.int64)
        return codes, ~found


# ---------------------------------------------------------------------------------------------- times
def _one_time(value: Any) -> float:
    if _is_missing(value):
        return math.nan
    if isinstance(value, np.datetime64):
        return float(value.astype("datetime64[us]").astype(np.int64)) / 1e6
    if isinstance(value, str):
        text = value.strip()
        value = _dt.datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text)
    if isinstance(value, _dt.datetime):
        if value.utcoffset() is None:
            value = value.replace(tzinfo=_UTC)
        return float(value.timestamp())
    if isinstance(value, _dt.date):
        return _dt.datetime(value.year, value.month, value.day, tzinfo=_UTC).timestamp()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    raise TypeError(type(value).__name__)


#: The end of an ISO 8601 time with a UTC offset or "Z" (e.g. "10:00:00+05:00", "10:00Z", "10:00-0300").
_OFFSET = re.compile(r"\d:\d\d(?::\d\d(?:[.,]\d*)?)?\s*(?:[zZ]|[+-]\d\d(?::?\d\d)?)\s*$")


def _any_offset(arr: npt.NDArray[np.str_]) -> bool:
    """Whether any string looks like a time with a UTC offset (which numpy cannot parse correctly)."""
    return any(_OFFSET.search(v) is not None for v in arr.tolist())


def read_times(values: Any, column: str, problems: list[Problem | None], *, required: bool) -> FloatArray:
    """Times as float64 POSIX seconds (UTC), NaN where missing (a problem when ``required``).

    Accepted: numpy ``datetime64`` (naive values are read as UTC), timezone-aware or naive ``datetime``
    and ``date`` objects, ISO 8601 strings (with or without a UTC offset) and numbers of POSIX seconds.
    """
    arr = _as_array(values)
    if arr.dtype.kind == "M":
        out = arr.astype("datetime64[us]").astype(np.int64).astype(np.float64) / 1e6
        out[np.isnat(arr)] = np.nan
    elif arr.dtype.kind in "iuf":
        out = arr.astype(np.float64)
    else:
        parsed_out: FloatArray | None = None
        # numpy warns on, and mis-reads, strings with a UTC offset or "Z": those take the slow path below.
        # (Checked up front rather than by turning warnings into errors: warnings.catch_warnings swaps the
        # process-wide filters and is not thread-safe.)
        if arr.dtype.kind == "U" and not _any_offset(arr):
            try:
                parsed = arr.astype("datetime64[us]")
                parsed_out = parsed.astype(np.int64).astype(np.float64) / 1e6
                parsed_out[np.isnat(parsed)] = np.nan
            except (ValueError, OverflowError):
                parsed_out = None
        if parsed_out is not None:
            out = parsed_out
        else:
            items = arr.tolist()
            out = np.empty(len(items), dtype=np.float64)
            unreadable = np.zeros(len(items), dtype=bool)
            for i, v in enumerate(items):
                try:
                    out[i] = _one_time(v)
                except (TypeError, ValueError, OverflowError):
                    out[i], unreadable[i] = math.nan, True
            problems.append(id_problem(unreadable, column, "cannot be read as a time",
                                       "Pass datetimes, numpy datetime64 or ISO 8601 strings such as "
                                       "'2024-03-01T09:30:00+08:00'.", {}))
            if unreadable.any():
                return out
    if required:
        problems.append(id_problem(~np.isfinite(out), column, "is missing", "Give every row a time.", {}))
    return out


# ---------------------------------------------------------------------------------------------- enums
def _ladder_code(cls: type[enum.IntEnum], aliases: Mapping[str, int] | None = None) -> Callable[[Any], int | None]:
    def code(v: Any) -> int | None:
        if aliases and isinstance(v, str) and v.strip() in aliases:
            return aliases[v.strip()]
        if isinstance(v, cls):
            return int(v)
        if isinstance(v, enum.Enum):
            return None  # another ladder: refused, as the entities do
        if isinstance(v, str):
            text = v.strip()
            if text.isdigit():  # a rank written as text, e.g. in a CSV file
                return int(text) if int(text) in cls._value2member_map_ else None
            member = cls.__members__.get(text.upper())
            return None if member is None else int(member)
        if isinstance(v, (int, float)) and not isinstance(v, bool) and float(v).is_integer():
            return int(v) if int(v) in cls._value2member_map_ else None
        return None
    return code


def read_ladder(values: Any, cls: type[enum.IntEnum], column: str, problems: list[Problem | None], *,
                required: bool, aliases: Mapping[str, int] | None = None) -> npt.NDArray[np.int8]:
    """Ranks of an ordered enum (names in any letter case, ``aliases`` or ranks; rank 0 = missing); 0 where missing."""
    arr = _as_array(values)
    if arr.dtype.kind in "iu":
        ranks64 = arr.astype(np.int64)
        missing = ranks64 == 0
        bad = ~missing & ~np.isin(ranks64, np.array([int(m) for m in cls], dtype=np.int64))
        ranks = np.where(bad, 0, ranks64).astype(np.int8)
    else:
        if arr.dtype.kind == "f":
            arr = arr.astype(object)
        if arr.dtype.kind == "U":
            missing = np.char.str_len(np.char.strip(arr)) == 0
        else:
            missing = np.fromiter((_is_missing(v) for v in arr.tolist()), dtype=bool, count=arr.shape[0])
        ranks, bad = _map_distinct(arr, _ladder_code(cls, aliases), np.int8)
    names = ", ".join(cls.__members__)
    also = f", {', '.join(aliases)}" if aliases else ""
    problems.append(id_problem(bad & ~missing, column, f"is not a {cls.__name__}",
                               f"Use one of {names}{also} (any letter case) or the rank.", {}))
    if required:
        problems.append(id_problem(missing, column, "is missing", f"Give every row a {cls.__name__}.", {}))
    ranks[missing] = 0
    return ranks


def read_choice(values: Any, cls: type[E], column: str, problems: list[Problem | None]) -> npt.NDArray[np.int8]:
    """Positions (in declaration order) of the members of a string enum, given by member or value."""
    members = list(cls)
    by_key: dict[Any, int] = {}
    for i, m in enumerate(members):
        by_key[m] = i
        by_key[str(m.value).lower()] = i
        by_key[m.name.lower()] = i

    def code(v: Any) -> int | None:
        if isinstance(v, enum.Enum):
            return by_key.get(v)
        return by_key.get(str(v).strip().lower()) if isinstance(v, str) else None

    arr = _as_array(values)
    if arr.dtype.kind == "U":  # fast path: compare with the canonical values, map the rest one by one
        codes = np.full(arr.shape[0], -1, dtype=np.int8)
        for i, m in enumerate(members):
            codes[arr == str(m.value)] = i
        rest = codes < 0
        bad = np.zeros(arr.shape[0], dtype=bool)
        if rest.any():
            codes[rest], bad[rest] = _map_distinct(arr[rest], code, np.int8)
    else:
        codes, bad = _map_distinct(arr, code, np.int8)
    problems.append(id_problem(bad, column, f"is not a {cls.__name__}",
                               f"Use one of {[str(m.value) for m in members]}.", {}))
    return codes


def read_functions(values: Any, flag: type[enum.Flag], column: str, problems: list[Problem | None]
                   ) -> npt.NDArray[np.int64]:
    """Flag sets as their integer bit values, from ints, flags, names joined by ``|`` or lists of names."""
    full = 0
    for m in flag:
        full |= int(m.value)

    def code(v: Any) -> int | None:
        if isinstance(v, flag):
            bits = int(v.value)
        elif isinstance(v, (int, np.integer)) and not isinstance(v, bool):
            bits = int(v)
        elif isinstance(v, (str, list, tuple)):
            parts = v.replace(";", "|").replace(",", "|").split("|") if isinstance(v, str) else list(v)
            bits = 0
            for p in parts:
                if isinstance(p, flag):
                    bits |= int(p.value)
                    continue
                member = flag.__members__.get(str(p).strip().upper())
                if member is None:
                    return None
                bits |= int(member.value)
        else:
            return None
        return bits if 0 < bits and bits & ~full == 0 else None

    arr = _as_array(values)
    if arr.dtype.kind in "iu":
        bits_arr = arr.astype(np.int64)
        bad = (bits_arr <= 0) | ((bits_arr & ~full) != 0)
    else:
        bits_arr, bad = _map_distinct(arr, code, np.int64)
    problems.append(id_problem(bad, column, f"is not a non-empty set of {flag.__name__} members",
                               f"Use names such as 'CARE|DEAL' from {list(flag.__members__)} or the bit value.",
                               {}))
    return bits_arr


_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0"}


def read_bool(values: Any, column: str, problems: list[Problem | None], *, default: bool) -> BoolArray:
    """Booleans from bools, 0/1 or words (true/false, yes/no); missing values take ``default``."""
    arr = _as_array(values)
    if arr.dtype.kind == "b":
        return arr.astype(bool)

    def code(v: Any) -> int | None:
        if _is_missing(v):
            return int(default)
        if isinstance(v, (bool, np.bool_)):
            return int(bool(v))
        text = str(v).strip().lower()
        if isinstance(v, (int, float)) and v in (0, 1):
            return int(v)
        return 1 if text in _TRUE else 0 if text in _FALSE else None

    out, bad = _map_distinct(arr.astype(object) if arr.dtype.kind == "f" else arr, code, np.int8)
    problems.append(id_problem(bad, column, "is not a boolean", "Use true/false, yes/no or 1/0.", {}))
    return out.astype(bool)


def read_strength(values: Any, column: str, problems: list[Problem | None],
                  ladder_given: BoolArray | None = None) -> FloatArray:
    """Relationship strengths: floats in [0, 1] (numbers or their text, as read from a CSV; not booleans).

    Where ``ladder_given`` is true a missing strength (empty cell, NaN, None) is allowed and kept as NaN: the
    strength then comes from the ladder rungs (:mod:`clvkit.binding.ladders`).
    """
    raw = _as_array(values)
    odd = (bool, np.bool_, complex, np.complexfloating)
    if raw.dtype.kind in "bc" or (raw.dtype.kind == "O" and any(isinstance(v, odd) for v in raw.tolist())):
        problems.append(Problem(column, "holds booleans or complex numbers, not strengths",
                                fix="Pass real numbers in [0, 1]."))
        return np.zeros(raw.shape[0])
    if raw.dtype.kind in "UO":  # empty cells (a CSV) and None are missing values
        items = raw.tolist()
        blank = np.fromiter((_is_missing(v) for v in items), dtype=bool, count=len(items))
        if blank.any():
            raw = np.array([math.nan if b else v for v, b in zip(items, blank.tolist(), strict=True)], dtype=object)
    try:
        arr = raw.astype(np.float64)
    except (TypeError, ValueError):
        problems.append(Problem(column, "cannot be read as numbers", fix="Pass numbers in [0, 1]."))
        return np.zeros(_as_array(values).shape[0])
    allowed = np.isnan(arr) & (ladder_given if ladder_given is not None else False)
    with np.errstate(invalid="ignore"):
        bad = ~((arr >= 0.0) & (arr <= 1.0)) & ~allowed
    problems.append(id_problem(bad, column, "must be in [0, 1] (0 = no tie, 1 = strongest)",
                               "Rescale the strengths to [0, 1], or leave it empty and record a 'closeness', "
                               "'grade' or 'pyramid_stage' rung.", {}))
    return np.where(bad, 0.0, arr)
