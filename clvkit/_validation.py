"""Small helpers that turn boolean masks of bad rows into :class:`~clvkit.errors.Problem` records."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

from .errors import MAX_ROWS_SHOWN, InvalidInputError, Problem

__all__ = [
    "as_float_array", "check_scalar", "id_problems", "is_hashable", "is_null", "non_number_problem", "raise_if",
    "row_problem",
]


def row_problem(
    bad: npt.NDArray[np.bool_],
    column: str,
    message: str,
    fix: str = "",
    ids: npt.NDArray[Any] | None = None,
) -> Problem | None:
    """A :class:`Problem` for the rows where ``bad`` is true, or ``None`` when no row is bad.

    Rows are named by position; when ``ids`` is given, by position and customer id.
    """
    n_bad = int(np.count_nonzero(bad))
    if n_bad == 0:
        return None
    first = np.flatnonzero(bad)[:MAX_ROWS_SHOWN]
    rows: tuple[object, ...]
    if ids is not None:
        rows = tuple(f"{int(i)} (customer_id={_plain(ids[i])!r})" for i in first)
    else:
        rows = tuple(int(i) for i in first)
    return Problem(column=column, message=message, rows=rows, n_bad=n_bad, fix=fix)


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python value it holds (so messages show 'a', not np.str_('a'))."""
    item = getattr(value, "item", None)
    return item() if callable(item) else value


def raise_if(problems: list[Problem | None], context: str) -> None:
    """Raise one :class:`InvalidInputError` listing every non-``None`` problem, if any."""
    found = [p for p in problems if p is not None]
    if found:
        raise InvalidInputError(found, context=context)


#: What a column of numbers must not be read from, by numpy dtype kind: numpy would convert each of these
#: silently (strings parsed, booleans as 0/1, datetimes as an epoch count, complex numbers losing their
#: imaginary part with only a warning).
_NOT_NUMBERS = {
    "U": ("strings", "Convert the column to numbers first (e.g. with float())."),
    "S": ("bytes", "Decode and convert the column to numbers first."),
    "b": ("booleans", "Pass counts or amounts, not flags."),
    "M": ("datetimes", "Pass durations as numbers in the time unit, not timestamps."),
    "m": ("time differences (timedelta64)", "Divide by the time unit first, e.g. td / np.timedelta64(1, 'D')."),
    "c": ("complex numbers", "Pass real numbers; the imaginary part would be dropped."),
}
_NOT_NUMBER_TYPES: tuple[type, ...] = (str, bytes, bool, np.bool_, complex, np.complexfloating, np.datetime64,
                                       np.timedelta64)


def non_number_problem(arr: npt.NDArray[Any], column: str) -> Problem | None:
    """A :class:`Problem` when ``arr`` holds strings, booleans, times or complex numbers, else ``None``.

    An object column is checked value by value (its first offending row is named); a typed one as a whole.
    """
    kind = arr.dtype.kind
    if kind in _NOT_NUMBERS:
        what, fix = _NOT_NUMBERS[kind]
        n_bad = int(arr.size)
        return Problem(column, f"cannot be read as numbers: holds {what} ({arr.dtype}), not real numbers",
                       rows=(0,) if n_bad else (), n_bad=n_bad, fix=fix)
    if kind == "O":
        flat = arr.reshape(-1).tolist()
        bad = np.fromiter((isinstance(v, _NOT_NUMBER_TYPES) for v in flat), dtype=bool, count=len(flat))
        if bad.any():
            first = flat[int(np.argmax(bad))]
            is_complex = isinstance(first, (complex, np.complexfloating))
            fix = _NOT_NUMBERS["c"][1] if is_complex else "Convert the column to numbers first."
            return row_problem(bad, column, f"cannot be read as numbers: holds values that are not real numbers "
                                            f"(e.g. {type(first).__name__} {first!r})", fix)
    return None


def as_float_array(values: Any, column: str, context: str) -> npt.NDArray[np.float64]:
    """Convert ``values`` to a 1-D float64 array or raise a typed error naming ``column``.

    Strings, booleans, datetimes, time differences and complex numbers are refused rather than converted.
    """
    try:
        raw = np.asarray(values)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(
            [Problem(column, f"cannot be read as numbers ({exc})", fix="Pass numeric values.")],
            context=context,
        ) from None
    problem = non_number_problem(raw, column)
    if problem is not None:
        raise InvalidInputError([problem], context=context)
    try:
        arr = raw.astype(np.float64, copy=False)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(
            [Problem(column, f"cannot be read as numbers ({exc})", fix="Pass numeric values.")],
            context=context,
        ) from None
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        raise InvalidInputError(
            [Problem(column, f"must be one-dimensional; got shape {arr.shape}", fix="Pass a flat array.")],
            context=context,
        )
    return arr


def check_scalar(
    value: float,
    name: str,
    where: str,
    *,
    low: float = -math.inf,
    high: float = math.inf,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """Check a scalar parameter lies in an interval; raise in scikit-learn's message form otherwise."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise InvalidInputError(
            f"The '{name}' parameter of {where} must be a real number. Got {value!r} instead."
        ) from None
    ok = math.isfinite(x) or (x == high == math.inf and not high_open)
    ok = ok and (x > low if low_open else x >= low) and (x < high if high_open else x <= high)
    if not ok:
        lb = "(" if low_open else "["
        rb = ")" if high_open else "]"
        raise InvalidInputError(
            f"The '{name}' parameter of {where} must be in {lb}{low:g}, {high:g}{rb}. Got {value!r} instead."
        )
    return x


def is_null(value: Any) -> bool:
    """Whether a scalar is missing: ``None``, NaN, NaT or ``pandas.NA``."""
    if value is None:
        return True
    try:
        return bool(value != value)  # NaN, NaT
    except (TypeError, ValueError):  # pandas.NA refuses to be a bool
        return True


def is_hashable(value: object) -> bool:
    """Whether ``value`` can be a dictionary key (a customer id must be)."""
    try:
        hash(value)
    except TypeError:
        return False
    return True


def id_problems(ids: npt.NDArray[Any], column: str) -> list[Problem | None]:
    """Problems of a 1-D column of customer ids: missing (None, NaN, NaT), unhashable (lists, dicts) or repeated.

    Rows are named by position (and by id for repeats of plain ids).
    """
    kind = ids.dtype.kind
    fix_missing = "Drop the rows or fill in the customer."
    if kind == "f":
        return [row_problem(np.isnan(ids), column, "is missing (NaN)", fix_missing), _duplicates(ids, column)]
    if kind in "mM":
        return [row_problem(np.isnat(ids), column, "is missing (NaT)", fix_missing), _duplicates(ids, column)]
    if kind != "O":
        return [_duplicates(ids, column)]
    values = ids.tolist()
    unhashable = np.fromiter((not is_hashable(v) for v in values), dtype=bool, count=len(values))
    if unhashable.any():
        example = type(values[int(np.argmax(unhashable))]).__name__
        return [row_problem(unhashable, column, f"must be hashable scalars such as strings or integers (got {example})",
                            "Pass one plain id per row.")]
    missing = np.fromiter((is_null(v) for v in values), dtype=bool, count=len(values))
    seen: set[object] = set()
    repeated = np.zeros(len(values), dtype=bool)
    for i, v in enumerate(values):
        if v in seen:
            repeated[i] = True
        seen.add(v)
    return [row_problem(missing, column, "is missing (None or NaN)", fix_missing),
            row_problem(repeated & ~missing, column, "must be unique", "Aggregate to one row per customer.")]


def _duplicates(ids: npt.NDArray[Any], column: str) -> Problem | None:
    """The rows repeating an earlier id (sorted once; NaN never equals itself, so missing ids are not repeats)."""
    if ids.shape[0] < 2:
        return None
    order = np.argsort(ids, kind="stable")
    s = ids[order]
    dup_sorted = np.zeros(s.shape[0], dtype=bool)
    dup_sorted[1:] = s[1:] == s[:-1]
    bad = np.zeros(s.shape[0], dtype=bool)
    bad[order[dup_sorted]] = True
    return row_problem(bad, column, "must be unique", "Aggregate to one row per customer.", ids)
