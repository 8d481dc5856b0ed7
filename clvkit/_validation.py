"""Small helpers that turn boolean masks of bad rows into :class:`~clvkit.errors.Problem` records."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

from .errors import MAX_ROWS_SHOWN, InvalidInputError, Problem

__all__ = ["as_float_array", "check_scalar", "is_null", "raise_if", "row_problem"]


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


def as_float_array(values: Any, column: str, context: str) -> npt.NDArray[np.float64]:
    """Convert ``values`` to a 1-D float64 array or raise a typed error naming ``column``."""
    try:
        arr = np.asarray(values, dtype=np.float64)
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
