"""The columnar batch: many customers' purchase summaries as read-only numpy arrays.

:class:`CustomerSummary` is what every valuation engine reads. It is built once, at the boundary, from
keyword arrays, a data frame, a transaction log (:func:`clvkit.summarize`) or domain entities, and it
validates every invariant on construction so that the numerical kernels never need to.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from ._display import block, count, describe, key_value_table, number
from ._frames import make_frame, require, to_columns
from ._rows import unique_rows
from ._timeunits import UNIT_DAYS, check_unit, unit_days
from ._validation import as_float_array, id_problems, raise_if, row_problem
from .errors import InvalidInputError, Problem
from .i18n import N_, Translator, translator

__all__ = ["CompressedSummary", "CustomerSummary", "PurchaseTimes"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

_CONTEXT = "CustomerSummary"

#: What :meth:`CustomerSummary.from_entities` delegates to: :func:`clvkit.summarize_transactions`. Summarizing
#: sits a layer above the batch (it builds batches), so this module must not import it; ``clvkit._summarize``
#: registers the function here when it is imported, which ``import clvkit`` always does first.
_entity_summarizer: Callable[..., CustomerSummary] | None = None


def _register_entity_summarizer(summarizer: Callable[..., CustomerSummary]) -> None:
    global _entity_summarizer
    _entity_summarizer = summarizer


def _unit_name(value: Any, where: str) -> str:
    """``value`` if it is a string; otherwise a typed error (a list or a dict cannot even be looked up)."""
    if not isinstance(value, str):
        raise InvalidInputError(
            f"The 'time_unit' parameter of {where} must be one of {list(UNIT_DAYS)}. Got {value!r} instead."
        )
    return value


def _readonly(arr: npt.NDArray[Any]) -> npt.NDArray[Any]:
    arr.flags.writeable = False
    return arr


_TIMES_CONTEXT = "PurchaseTimes"


@dataclass(frozen=True, eq=False)
class PurchaseTimes:
    """Each customer's calendar start and repeat purchase times: the timeline behind a summary's columns.

    Filled by :func:`clvkit.summarize` (and :func:`clvkit.summarize_transactions`) for a column of datetimes
    and a time unit of fixed length (``"s"``, ``"min"``, ``"h"``, ``"D"``, ``"W"``); it is ``None`` for
    calendar months, quarters and years (``"M"``, ``"Q"``, ``"Y"``), whose periods differ in length, for a
    numeric time column (no calendar) and when a period start lies outside what ``datetime64[ns]`` holds
    (the years 1678 to 2261). All arrays are read-only.

    Attributes
    ----------
    origin:
        Array of shape (n_customers,), ``datetime64[ns]``: the start of the period of each customer's first
        purchase (customer time 0): midnight of the day for ``"D"``, the Monday of the week for ``"W"``
        (weeks run Monday to Sunday), the whole hour for ``"h"``. UTC for a time-zone-aware time column.
    offsets:
        Array of shape (n_customers + 1,), int64: customer ``i``'s times are
        ``times[offsets[i]:offsets[i + 1]]`` (as many as its ``frequency``).
    times:
        Array of shape (offsets[-1],), float64: the repeat purchase times in the summary's time unit from
        each customer's origin, one per distinct purchase period after the first (the start of that period),
        ascending; calibration period only. A customer's last time is its ``recency``.
    period_days:
        Length in days of the periods purchases were floored to (the unit given to ``summarize``).
    unit_days:
        Length in days of one unit of ``times`` (the summary's current time unit).

    Raises
    ------
    InvalidInputError
        When the arrays do not fit together (naming the field and the fix).

    Examples
    --------
    >>> import numpy as np
    >>> pt = PurchaseTimes(origin=np.array(["2024-01-01", "2024-01-03"], dtype="datetime64[ns]"),
    ...                    offsets=[0, 2, 2], times=[3.0, 5.0], period_days=1.0, unit_days=1.0)
    >>> len(pt), pt.of(0).tolist(), pt.of(1).tolist()
    (2, [3.0, 5.0], [])
    """

    origin: npt.NDArray[np.datetime64]
    offsets: IntArray
    times: FloatArray
    period_days: float
    unit_days: float

    def __post_init__(self) -> None:
        problems: list[Problem | None] = []
        origin = _datetimes_ns(self.origin, problems)
        offsets = _offsets(self.offsets, problems)
        times = as_float_array(self.times, "times", _TIMES_CONTEXT)
        for name in ("period_days", "unit_days"):
            value = getattr(self, name)
            try:
                days = float(value)
            except (TypeError, ValueError):
                days = math.nan
            if isinstance(value, (bool, np.bool_)) or not (math.isfinite(days) and days > 0):
                problems.append(Problem(name, f"must be a finite number of days > 0; got {value!r}",
                                        fix="Pass the length of the time unit in days (e.g. 7.0 for weeks)."))
            else:
                object.__setattr__(self, name, days)
        if origin is not None and offsets is not None:
            if offsets.shape[0] != origin.shape[0] + 1:
                problems.append(Problem("offsets", f"has {offsets.shape[0]} entries but 'origin' has "
                                        f"{origin.shape[0]} customers", fix="Pass one more offset than customers."))
            elif offsets[0] != 0 or offsets[-1] != times.shape[0]:
                problems.append(Problem("offsets", f"must run from 0 to the number of times ({times.shape[0]}); "
                                        f"got {int(offsets[0])}..{int(offsets[-1])}",
                                        fix="offsets[i]:offsets[i + 1] are customer i's positions in 'times'."))
            elif offsets.shape[0] > 1:
                problems.append(row_problem(offsets[1:] < offsets[:-1], "offsets", "must not decrease",
                                            "offsets[i]:offsets[i + 1] are customer i's positions in 'times'."))
        problems.append(row_problem(~np.isfinite(times), "times", "must be finite (no NaN or inf)",
                                    "Drop or fill the missing times."))
        raise_if(problems, _TIMES_CONTEXT)
        for name, value in (("origin", origin), ("offsets", offsets), ("times", times)):
            if value is not None and (value.base is not None or value.flags.writeable):
                value = value.copy()  # a private copy: the caller mutating their array cannot change ours
            object.__setattr__(self, name, _readonly(value) if value is not None else value)

    @classmethod
    def _trusted(cls, origin: npt.NDArray[np.datetime64], offsets: IntArray, times: FloatArray, period_days: float,
                 unit_days: float) -> PurchaseTimes:
        """Built from arrays the library made and knows to fit: no checks and no copies (summarize runs on
        whole logs); the arrays, which nothing else holds, are made read-only."""
        self = object.__new__(cls)
        for name, value in (("origin", origin), ("offsets", offsets), ("times", times)):
            object.__setattr__(self, name, _readonly(value) if value.flags.writeable else value)
        object.__setattr__(self, "period_days", float(period_days))
        object.__setattr__(self, "unit_days", float(unit_days))
        return self

    def of(self, i: int) -> FloatArray:
        """Customer ``i``'s repeat purchase times (a read-only view; negative ``i`` counts from the end).

        Examples
        --------
        >>> import numpy as np
        >>> pt = PurchaseTimes(origin=np.array(["2024-01-01"], dtype="datetime64[ns]"), offsets=[0, 1],
        ...                    times=[2.0], period_days=7.0, unit_days=7.0)
        >>> pt.of(-1).tolist()
        [2.0]
        """
        n = len(self)
        if isinstance(i, (bool, np.bool_)) or not isinstance(i, (int, np.integer)) or not -n <= i < n:
            raise InvalidInputError(
                f"The 'i' parameter of PurchaseTimes.of() must be an integer in [{-n}, {n}). Got {i!r} instead."
            )
        k = int(i) % n
        return self.times[int(self.offsets[k]):int(self.offsets[k + 1])]

    def __len__(self) -> int:
        return int(self.origin.shape[0])

    def __repr__(self) -> str:
        return (f"PurchaseTimes(n_customers={len(self)}, n_times={self.times.shape[0]}, "
                f"period_days={self.period_days!r}, unit_days={self.unit_days!r})")

    # ------------------------------------------------------------------ what the summary's builders need
    def _counts(self) -> IntArray:
        return np.diff(self.offsets)

    def _take(self, idx: npt.NDArray[np.intp]) -> PurchaseTimes:
        """The customers at ``idx`` (valid positions), their times gathered in that order."""
        counts = self._counts()[idx]
        offsets = np.zeros(idx.shape[0] + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        # position in self.times of each output time: its customer's old start plus its rank in the customer
        gather = np.repeat(self.offsets[:-1][idx] - offsets[:-1], counts) + np.arange(offsets[-1])
        return PurchaseTimes._trusted(self.origin[idx], offsets, self.times[gather], self.period_days, self.unit_days)

    def _rescaled(self, factor: float, unit_days: float) -> PurchaseTimes:
        """The same times in a unit ``unit_days`` long (``factor`` = old unit / new unit)."""
        return PurchaseTimes._trusted(self.origin, self.offsets, self.times * factor, self.period_days, unit_days)

    @staticmethod
    def _concat(parts: Sequence[PurchaseTimes | None]) -> PurchaseTimes | None:
        """All parts joined, or ``None`` when one is missing or the parts were floored to different periods."""
        present = [p for p in parts if p is not None]
        if len(present) != len(parts) or not present:
            return None
        first = present[0]
        if any(p.period_days != first.period_days or p.unit_days != first.unit_days for p in present):
            return None
        starts = np.cumsum([0] + [p.times.shape[0] for p in present[:-1]])
        offsets = np.concatenate([present[0].offsets[:1]]
                                 + [p.offsets[1:] + start for p, start in zip(present, starts, strict=True)])
        return PurchaseTimes._trusted(np.concatenate([p.origin for p in present]), offsets,
                                      np.concatenate([p.times for p in present]), first.period_days, first.unit_days)


def _datetimes_ns(values: Any, problems: list[Problem | None]) -> npt.NDArray[np.datetime64] | None:
    """``values`` as a 1-D ``datetime64[ns]`` array without NaT, or ``None`` with the problem noted."""
    fix = "Pass each customer's time 0 as numpy datetime64 values (e.g. np.array([...], dtype='datetime64[ns]'))."
    try:
        raw = np.asarray(values)
        if raw.dtype.kind != "M":
            raise TypeError(f"dtype {raw.dtype}")
        out = raw.astype("datetime64[ns]")
        # numpy wraps silently when a far date does not fit in nanoseconds: compare back in the coarser unit
        if raw.dtype != out.dtype and not np.array_equal(out.astype(raw.dtype), raw, equal_nan=True):
            raise ValueError("dates outside the years 1678..2261 do not fit datetime64[ns]")
    except (TypeError, ValueError) as exc:
        problems.append(Problem("origin", f"must be datetimes ({exc})", fix=fix))
        return None
    if out.ndim != 1:
        problems.append(Problem("origin", f"must be one-dimensional; got shape {out.shape}", fix=fix))
        return None
    problems.append(row_problem(np.isnat(out), "origin", "is missing (NaT)", fix))
    return out


def _offsets(values: Any, problems: list[Problem | None]) -> IntArray | None:
    """``values`` as a 1-D int64 array of at least one entry, or ``None`` with the problem noted."""
    raw = np.asarray(values)
    if raw.dtype.kind not in "iu" or raw.ndim != 1 or raw.shape[0] == 0:
        problems.append(Problem("offsets", f"must be a non-empty 1-D array of integers; got dtype {raw.dtype}, "
                                f"shape {raw.shape}", fix="Pass n_customers + 1 positions, starting at 0."))
        return None
    return raw.astype(np.int64, copy=False)


class CompressedSummary(NamedTuple):
    """Result of :meth:`CustomerSummary.compress`.

    Attributes
    ----------
    summary:
        One row per distinct ``(frequency, recency, T[, monetary_value])``, with ``weights`` holding how
        many original customers (or how much original weight) each row stands for.
    inverse:
        Array of shape (n_customers,): ``summary`` row of each original customer, so that
        ``per_row_result[inverse]`` expands a per-unique-row result back to the original customers.
    """

    summary: CustomerSummary
    inverse: npt.NDArray[np.intp]


class _DistinctRows(NamedTuple):
    """The distinct ``(frequency, recency, T)`` rows of a summary (lexicographic order, as :meth:`~CustomerSummary.
    compress`), cached on the summary by :meth:`CustomerSummary._distinct_rows`.

    ``frequency[inverse]``, ``recency[inverse]``, ``T[inverse]`` give the summary's columns back; ``counts`` is
    how many of the summary's rows each distinct row stands for (not the weights).
    """

    frequency: FloatArray
    recency: FloatArray
    T: FloatArray
    inverse: npt.NDArray[np.intp]
    counts: FloatArray


class _DistinctPairs(NamedTuple):
    """The distinct ``(frequency, T)`` pairs among a summary's distinct rows (see :class:`_DistinctRows`).

    ``code[j]`` is the pair of distinct row ``j``: ``frequency[code] == rows.frequency`` and ``T[code] == rows.T``.
    """

    frequency: FloatArray
    T: FloatArray
    code: npt.NDArray[np.intp]


#: Predictions are evaluated on the distinct rows when there are at most 1/_DISTINCT_GAIN as many as rows; otherwise
#: (nearly every row distinct, e.g. times of day) the expansion would cost more than it saves.
_DISTINCT_GAIN = 2
#: Before building the distinct rows for scoring, a summary of more than 4 x _PROBE_ROWS rows groups about
#: _PROBE_ROWS evenly spaced rows: when more than _PROBE_DISTINCT of them are distinct, the whole summary is taken
#: to be nearly all distinct and is scored directly, without paying for the index (a sort when the times are not on
#: a grid). 1M daily BG/NBD customers: 43% of the probe distinct (18% of all rows); with times of day: 100%.
_PROBE_ROWS = 4096
_PROBE_DISTINCT = 0.9

#: The private slots of :class:`CustomerSummary` that cache derived data (not pickled, not copied to derived summaries).
_CACHE_SLOTS = ("_distinct", "_distinct_pairs", "_probed_distinct", "_scored_once")

#: The summary's columns in its notebook display, with their labels (translated where shown).
_SUMMARY_COLUMNS = (("frequency", N_("frequency")), ("recency", N_("recency")), ("T", N_("T")),
                    ("monetary_value", N_("monetary_value")), ("frequency_holdout", N_("frequency_holdout")),
                    ("monetary_value_holdout", N_("monetary_value_holdout")))


class CustomerSummary:
    """Per-customer purchase summaries of a batch of customers, in one time unit.

    All arrays are one-dimensional, of shape (n_customers,), float64 and read-only.

    Parameters
    ----------
    frequency:
        Number of repeat purchase periods (distinct purchase periods minus one): a non-negative integer.
    recency:
        Time from the first purchase to the last one, in ``time_unit``; 0 when ``frequency`` is 0.
    T:
        Time from the first purchase to the end of the observation (calibration) period; ``>= recency``.
        For the discrete-time BG/BB model, the number of purchase opportunities.
    monetary_value:
        Optional mean spend per repeat purchase period (the field's convention; 0 where ``frequency`` is
        0). Finite and non-negative.
    weights:
        Optional positive weights: how many customers each row stands for (see :meth:`compress`).
    customer_id:
        Optional unique customer ids (any hashable scalar dtype numpy can sort).
    time_unit:
        Unit of ``recency`` and ``T``: one of ``"s", "min", "h", "D", "W", "M", "Q", "Y"``.
    frequency_holdout, monetary_value_holdout:
        Optional holdout-period repeat frequency and mean spend (from
        :func:`clvkit.summarize` with ``calibration_end``).
    duration_holdout:
        Length of the holdout period in ``time_unit`` (a scalar), when holdout columns are given.
    observation_end, calibration_end:
        Optional timestamps the summary was computed at (metadata only).
    purchase_times:
        Optional :class:`PurchaseTimes`: each customer's calendar origin and repeat purchase times (filled by
        :func:`clvkit.summarize` for datetimes and a fixed-length unit). Checked against the columns: one
        customer per row, ``frequency`` times each, ascending within ``[0, T]``, in ``time_unit``.

    Raises
    ------
    InvalidInputError
        Listing every failed invariant with its column, the count and first positions of bad rows.

    Examples
    --------
    >>> s = CustomerSummary(frequency=[0, 2, 5], recency=[0.0, 10.0, 30.0], T=[40.0, 40.0, 35.0],
    ...                     time_unit="W")
    >>> len(s), s.time_unit
    (3, 'W')
    >>> CustomerSummary(frequency=[1.5], recency=[3.0], T=[2.0])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    clvkit.errors.InvalidInputError: CustomerSummary has 2 problems:
      - 'frequency': must be a whole number of repeat purchases (1 row fail; first at row 0)...
      - 'recency': must not exceed T (1 row fail; first at row 0)...
    """

    __slots__ = (
        "_T",
        "_calibration_end",
        "_customer_id",
        "_distinct",
        "_distinct_pairs",
        "_duration_holdout",
        "_frequency",
        "_frequency_holdout",
        "_monetary_value",
        "_monetary_value_holdout",
        "_observation_end",
        "_probed_distinct",
        "_purchase_times",
        "_recency",
        "_scored_once",
        "_time_unit",
        "_weights",
    )

    def __init__(
        self,
        frequency: Any,
        recency: Any,
        T: Any,
        *,
        monetary_value: Any = None,
        weights: Any = None,
        customer_id: Any = None,
        time_unit: str = "D",
        frequency_holdout: Any = None,
        monetary_value_holdout: Any = None,
        duration_holdout: float | None = None,
        observation_end: _dt.datetime | None = None,
        calibration_end: _dt.datetime | None = None,
        purchase_times: PurchaseTimes | None = None,
        _validate: bool = True,
    ) -> None:
        self._time_unit = check_unit(_unit_name(time_unit, "CustomerSummary"), where="CustomerSummary")
        self._frequency = as_float_array(frequency, "frequency", _CONTEXT)
        self._recency = as_float_array(recency, "recency", _CONTEXT)
        self._T = as_float_array(T, "T", _CONTEXT)
        self._monetary_value = (
            None if monetary_value is None else as_float_array(monetary_value, "monetary_value", _CONTEXT)
        )
        self._weights = None if weights is None else as_float_array(weights, "weights", _CONTEXT)
        self._frequency_holdout = (
            None if frequency_holdout is None else as_float_array(frequency_holdout, "frequency_holdout", _CONTEXT)
        )
        self._monetary_value_holdout = (
            None
            if monetary_value_holdout is None
            else as_float_array(monetary_value_holdout, "monetary_value_holdout", _CONTEXT)
        )
        self._duration_holdout = None if duration_holdout is None else float(duration_holdout)
        self._customer_id = None if customer_id is None else np.asarray(customer_id)
        self._observation_end = observation_end
        self._calibration_end = calibration_end
        if purchase_times is not None and not isinstance(purchase_times, PurchaseTimes):
            raise InvalidInputError(
                f"The 'purchase_times' parameter of CustomerSummary must be a PurchaseTimes or None. "
                f"Got {type(purchase_times).__name__} instead."
            )
        self._purchase_times = purchase_times
        # Caches of the distinct rows (see _distinct_rows): private, computed on first use, never serialised.
        self._distinct: _DistinctRows | None = None
        self._distinct_pairs: _DistinctPairs | None = None
        self._probed_distinct: bool | None = None
        self._scored_once = False
        if _validate:
            self._check()
        for name in self.__slots__:
            value = getattr(self, name)
            if isinstance(value, np.ndarray):
                if value.base is not None or value.flags.writeable:
                    # Own a private copy so that the caller mutating their array cannot change ours.
                    value = value.copy()
                setattr(self, name, _readonly(value))

    # ------------------------------------------------------------------ validation
    def _check(self) -> None:
        n = self._frequency.shape[0]
        lengths = {
            "recency": self._recency,
            "T": self._T,
            "monetary_value": self._monetary_value,
            "weights": self._weights,
            "customer_id": self._customer_id,
            "frequency_holdout": self._frequency_holdout,
            "monetary_value_holdout": self._monetary_value_holdout,
        }
        shape_problems: list[Problem | None] = []
        for name, arr in lengths.items():
            if arr is not None and (arr.ndim != 1 or arr.shape[0] != n):
                shape_problems.append(
                    Problem(
                        name,
                        f"has shape {arr.shape} but 'frequency' has {n} rows",
                        fix="Pass arrays of one length, one entry per customer.",
                    )
                )
        pt = self._purchase_times
        if pt is not None and len(pt) != n:
            shape_problems.append(Problem("purchase_times", f"has {len(pt)} customers but 'frequency' has {n} rows",
                                          fix="Pass the purchase times of these customers, in their order."))
        raise_if(shape_problems, _CONTEXT)

        # Problems name rows by id with ids[i].item(), which plain Python objects lack: name the rows of an
        # object id column by position only.
        ids = self._customer_id if self._customer_id is None or self._customer_id.dtype != object else None
        x, tx, T = self._frequency, self._recency, self._T
        problems: list[Problem | None] = []
        with np.errstate(invalid="ignore"):
            for name, arr in (("frequency", x), ("recency", tx), ("T", T)):
                finite = np.isfinite(arr)
                problems.append(row_problem(~finite, name, "must be finite (no NaN or inf)",
                                            "Drop or fill the missing values.", ids))
                problems.append(row_problem(finite & (arr < 0), name, "must be non-negative",
                                            "Check the sign and the time origin.", ids))
            problems.append(
                row_problem(np.isfinite(x) & (x != np.floor(x)), "frequency",
                            "must be a whole number of repeat purchases",
                            "Round or recount the transactions.", ids)
            )
            # A tiny relative slack absorbs rounding when recency and T were converted between units.
            slack = 1e-9 * np.maximum(np.abs(T), 1.0)
            problems.append(
                row_problem(tx > T + slack, "recency", "must not exceed T",
                            "Check that T is counted from the first purchase to the end of the "
                            "observation period.", ids)
            )
            problems.append(
                row_problem((x == 0) & (tx != 0), "recency", "must be 0 where frequency is 0",
                            "Recency is the time from the first to the last purchase; with no repeat "
                            "purchase it is 0.", ids)
            )
            problems.append(
                row_problem((x > 0) & (tx <= 0), "recency", "must be > 0 where frequency > 0",
                            "A repeat purchase falls after the first one: recency is the time from the first "
                            "to the last purchase.", ids)
            )
            if self._monetary_value is not None:
                m = self._monetary_value
                problems.append(row_problem(~np.isfinite(m), "monetary_value", "must be finite (no NaN or inf)",
                                            "Use 0 for customers without repeat purchases.", ids))
                problems.append(row_problem(np.isfinite(m) & (m < 0), "monetary_value", "must be non-negative",
                                            "Handle refunds when summarizing (see summarize(refunds=...)).", ids))
            if self._weights is not None:
                w = self._weights
                problems.append(row_problem(~(np.isfinite(w) & (w > 0)), "weights",
                                            "must be finite and > 0", "Drop rows that stand for no customer.", ids))
            if self._frequency_holdout is not None:
                fh = self._frequency_holdout
                problems.append(row_problem(~np.isfinite(fh) | (fh < 0) | (fh != np.floor(fh)),
                                            "frequency_holdout", "must be a non-negative whole number", "", ids))
            if self._monetary_value_holdout is not None:
                mh = self._monetary_value_holdout
                problems.append(row_problem(~np.isfinite(mh) | (mh < 0), "monetary_value_holdout",
                                            "must be finite and non-negative", "", ids))
        if (self._frequency_holdout is not None) != (self._duration_holdout is not None):
            problems.append(Problem("duration_holdout", "must be given together with 'frequency_holdout'",
                                    fix="Pass both or neither."))
        if self._duration_holdout is not None and not (
            np.isfinite(self._duration_holdout) and self._duration_holdout > 0
        ):
            problems.append(Problem("duration_holdout", f"must be finite and > 0; got {self._duration_holdout!r}"))
        if self._customer_id is not None and n > 0:
            problems.extend(id_problems(self._customer_id, "customer_id"))
        if pt is not None:
            problems.extend(self._purchase_time_problems(pt, ids))
        raise_if(problems, _CONTEXT)

    def _purchase_time_problems(self, pt: PurchaseTimes, ids: npt.NDArray[Any] | None) -> list[Problem | None]:
        """Each customer's purchase times against its row: ``frequency`` of them, ascending, within ``[0, T]``."""
        fix = "Pass the repeat purchase times of each row's customer, from its first purchase, in 'time_unit'."
        counts = pt._counts()
        problems: list[Problem | None] = []
        expected = unit_days(self._time_unit)
        if not math.isclose(pt.unit_days, expected, rel_tol=1e-12):
            problems.append(Problem("purchase_times", f"are in units of {pt.unit_days!r} days but time_unit "
                                    f"{self._time_unit!r} is {expected!r} days",
                                    fix="Convert with the summary's with_time_unit(), or rescale the times."))
        with np.errstate(invalid="ignore"):
            problems.append(row_problem(np.isfinite(self._frequency) & (counts != self._frequency), "purchase_times",
                                        "must hold 'frequency' times for the customer", fix, ids))
        times, offsets = pt.times, pt.offsets
        fall = times[1:] < times[:-1]
        later_starts = offsets[1:-1]
        fall[later_starts[(later_starts > 0) & (later_starts < times.shape[0])] - 1] = False  # customer to customer
        falls = np.flatnonzero(fall)  # usually none: find their customers only then
        bad = np.zeros(counts.shape[0], dtype=bool)
        bad[np.searchsorted(offsets, falls, side="right") - 1] = True
        problems.append(row_problem(bad, "purchase_times", "must be in ascending order", fix, ids))
        # Each customer's lowest and highest time: its first and last when ascending (times are finite).
        has = np.flatnonzero(counts > 0)
        low, high = np.zeros(counts.shape[0]), np.zeros(counts.shape[0])
        if has.size and falls.size:
            low[has] = np.minimum.reduceat(times, offsets[has])
            high[has] = np.maximum.reduceat(times, offsets[has])
        elif has.size:
            low[has], high[has] = times[offsets[has]], times[offsets[has + 1] - 1]
        T = self._T
        with np.errstate(invalid="ignore"):
            outside = (low < 0) | (high > T + 1e-9 * np.maximum(np.abs(T), 1.0))
        problems.append(row_problem(outside, "purchase_times", "must lie within [0, T]", fix, ids))
        return problems

    # ------------------------------------------------------------------ read-only attributes
    @property
    def frequency(self) -> FloatArray:
        """Repeat purchase periods, shape (n_customers,)."""
        return self._frequency

    @property
    def recency(self) -> FloatArray:
        """Time of the last purchase since the first, shape (n_customers,)."""
        return self._recency

    @property
    def T(self) -> FloatArray:
        """Time from the first purchase to the end of observation, shape (n_customers,)."""
        return self._T

    @property
    def monetary_value(self) -> FloatArray | None:
        """Mean spend per repeat purchase period, or ``None``."""
        return self._monetary_value

    @property
    def weights(self) -> FloatArray | None:
        """Row weights, or ``None`` (every row stands for one customer)."""
        return self._weights

    @property
    def customer_id(self) -> npt.NDArray[Any] | None:
        """Customer ids, or ``None``."""
        return self._customer_id

    @property
    def time_unit(self) -> str:
        """Unit of ``recency``, ``T`` and the holdout duration."""
        return self._time_unit

    @property
    def frequency_holdout(self) -> FloatArray | None:
        """Repeat purchase periods in the holdout period, or ``None``."""
        return self._frequency_holdout

    @property
    def monetary_value_holdout(self) -> FloatArray | None:
        """Mean spend per purchase period in the holdout period, or ``None``."""
        return self._monetary_value_holdout

    @property
    def duration_holdout(self) -> float | None:
        """Length of the holdout period in ``time_unit``, or ``None``."""
        return self._duration_holdout

    @property
    def observation_end(self) -> _dt.datetime | None:
        """End of the observation (or calibration) period the summary describes, if known."""
        return self._observation_end

    @property
    def calibration_end(self) -> _dt.datetime | None:
        """End of the calibration period, if the summary was built with a holdout split."""
        return self._calibration_end

    @property
    def purchase_times(self) -> PurchaseTimes | None:
        """Each customer's calendar origin and repeat purchase times (see :class:`PurchaseTimes`), or ``None``.

        :func:`clvkit.summarize` fills it for a column of datetimes and a unit of fixed length (``"s"`` to
        ``"W"``); it stays ``None`` for ``"M"``, ``"Q"``, ``"Y"``, numeric times, compressed summaries and
        summaries built from columns without it.

        Examples
        --------
        >>> import clvkit
        >>> log = {"id": ["a", "a", "a", "b"],
        ...        "when": np.array(["2024-01-01T09:00", "2024-01-01T17:00", "2024-01-04T08:00", "2024-01-02"],
        ...                         dtype="datetime64[s]")}
        >>> s = clvkit.summarize(log, customer_id="id", datetime="when", time_unit="D")
        >>> s.purchase_times.origin.astype("datetime64[D]").tolist()
        [datetime.date(2024, 1, 1), datetime.date(2024, 1, 2)]
        >>> s.purchase_times.of(0).tolist(), s.frequency.tolist()
        ([3.0], [1.0, 0.0])
        """
        return self._purchase_times

    @property
    def total_weight(self) -> float:
        """Number of customers the batch stands for (sum of weights)."""
        return float(self._weights.sum()) if self._weights is not None else float(len(self))

    def weights_or_ones(self) -> FloatArray:
        """The weights, or an array of ones when the summary has none."""
        return self._weights if self._weights is not None else np.ones(len(self))

    def _distinct_rows(self) -> _DistinctRows:
        """The distinct ``(frequency, recency, T)`` rows, each row's index into them and their counts.

        Computed once per summary (by the fit of a count model on this summary, or by its second prediction -
        see :meth:`_repeated_rows`), then cached: the summary is immutable, so the index never goes stale, and every
        summary derived from it (``take``, ``compress``, ``with_time_unit``, ...) is a new object with its own cache.
        Threads sharing a fresh summary may each compute it; the cache is one tuple assigned once, so no thread
        sees half of it.
        """
        cached = self._distinct
        if cached is None:
            (x, tx, T), counts, inverse = unique_rows([self._frequency, self._recency, self._T], np.ones(len(self)))
            cached = _DistinctRows(_readonly(x), _readonly(tx), _readonly(T), _readonly(inverse), _readonly(counts))
            self._distinct = cached
        return cached

    def _repeated_rows(self) -> _DistinctRows | None:
        """:meth:`_distinct_rows` when scoring on them pays (at most half as many as rows), else ``None``.

        Without the cache yet, the first prediction on a summary gives ``None`` (it is scored directly, at the cost a
        one-off prediction always had: building the index costs more than one cheap prediction, e.g. P(alive), saves)
        and the second builds the index, which every later prediction reuses; the fit builds it in any case. A large
        summary whose evenly spaced probe rows are nearly all distinct gives ``None`` without building it (see
        ``_PROBE_ROWS``).
        """
        rows = self._distinct
        n = len(self)
        if rows is None:
            if not self._scored_once:
                self._scored_once = True  # a benign race: at worst two threads both score directly
                return None
            if self._probed_distinct is None and n > 4 * _PROBE_ROWS:
                step = n // _PROBE_ROWS
                probe = [c[::step] for c in (self._frequency, self._recency, self._T)]
                m = probe[0].shape[0]
                self._probed_distinct = unique_rows(probe, np.ones(m))[1].shape[0] > _PROBE_DISTINCT * m
            if self._probed_distinct:
                return None
            rows = self._distinct_rows()
        return rows if rows.frequency.shape[0] * _DISTINCT_GAIN <= n else None

    def _distinct_frequency_age(self) -> tuple[_DistinctRows, _DistinctPairs]:
        """:meth:`_distinct_rows` and the distinct ``(frequency, T)`` pairs among them (for models whose
        predictions factor through ``(x, T)``), cached like the rows."""
        rows = self._distinct_rows()
        cached = self._distinct_pairs
        if cached is None:
            (x, T), _, code = unique_rows([rows.frequency, rows.T], rows.counts)
            cached = _DistinctPairs(_readonly(x), _readonly(T), _readonly(code))
            self._distinct_pairs = cached
        return rows, cached

    def __getstate__(self) -> tuple[None, dict[str, Any]]:
        # The distinct-row caches are derived data: pickles (Dask, multiprocessing) carry the columns only.
        return None, {name: getattr(self, name) for name in self.__slots__ if name not in _CACHE_SLOTS}

    def __setstate__(self, state: tuple[None, dict[str, Any]]) -> None:
        for name, value in state[1].items():
            setattr(self, name, value)
        for name in _CACHE_SLOTS:
            setattr(self, name, None)

    def __len__(self) -> int:
        return int(self._frequency.shape[0])

    def __repr__(self) -> str:
        extra = [name for name in ("monetary_value", "weights", "customer_id", "frequency_holdout")
                 if getattr(self, name) is not None]
        return f"CustomerSummary(n_customers={len(self)}, time_unit={self._time_unit!r}, columns=+{extra})"

    def _repr_html_(self) -> str:
        return self._html(translator("en"))

    def _html(self, tr: Translator) -> str:
        """The notebook display in ``tr``'s language (the HTML report shows it in the report's language)."""
        facts: list[tuple[str, Any]] = [(tr("rows"), len(self)),
                                        (tr("customers (sum of weights)"), count(self.total_weight)),
                                        (tr("time unit"), self._time_unit)]
        for label, when in ((tr("calibration end"), self._calibration_end),
                            (tr("observation end"), self._observation_end)):
            if when is not None:
                facts.append((label, when.isoformat()))
        if self._duration_holdout is not None:
            facts.append((tr("holdout length"), f"{number(self._duration_holdout)} {self._time_unit}"))
        cols = [(tr(label), getattr(self, name)) for name, label in _SUMMARY_COLUMNS if getattr(self, name) is not None]
        return block(tr("CustomerSummary"), key_value_table(facts), describe(cols, self._weights,
                                                               header=(tr("column"), tr("mean"), tr("min"), tr("max"))),
                     note=tr("Means are weighted by the rows' weights.") if self._weights is not None else None)

    # ------------------------------------------------------------------ builders
    def _replace(self, **changes: Any) -> CustomerSummary:
        fields: dict[str, Any] = {
            "frequency": self._frequency,
            "recency": self._recency,
            "T": self._T,
            "monetary_value": self._monetary_value,
            "weights": self._weights,
            "customer_id": self._customer_id,
            "time_unit": self._time_unit,
            "frequency_holdout": self._frequency_holdout,
            "monetary_value_holdout": self._monetary_value_holdout,
            "duration_holdout": self._duration_holdout,
            "observation_end": self._observation_end,
            "calibration_end": self._calibration_end,
            "purchase_times": self._purchase_times,
        }
        validate = bool(changes.pop("_validate", False))
        fields.update(changes)
        return CustomerSummary(**fields, _validate=validate)

    def take(self, indices: Any) -> CustomerSummary:
        """The customers at ``indices`` (integer positions or a boolean mask), as a new summary."""
        idx = np.asarray(indices)
        if idx.dtype == bool:
            if idx.shape != (len(self),):
                raise InvalidInputError(
                    f"A boolean mask for take() must have shape ({len(self)},). Got {idx.shape} instead."
                )
            idx = np.flatnonzero(idx)
        elif idx.size and not np.issubdtype(idx.dtype, np.integer):
            raise InvalidInputError(f"take() needs integer positions or a boolean mask. Got dtype {idx.dtype}.")
        idx = idx.astype(np.intp, copy=False).reshape(-1)
        if idx.size and (idx.min() < -len(self) or idx.max() >= len(self)):
            raise InvalidInputError(f"take() positions must lie in [0, {len(self)}). Got {idx.min()}..{idx.max()}.")
        idx = np.where(idx < 0, idx + len(self), idx)  # -1 and n-1 are one customer (id uniqueness below)
        def pick(a: npt.NDArray[Any] | None) -> npt.NDArray[Any] | None:
            return None if a is None else a[idx]

        customer_id = pick(self._customer_id)
        if customer_id is not None and np.unique(idx).size != idx.size:
            customer_id = None  # the same customer twice would break id uniqueness
        return self._replace(
            frequency=self._frequency[idx],
            recency=self._recency[idx],
            T=self._T[idx],
            monetary_value=pick(self._monetary_value),
            weights=pick(self._weights),
            customer_id=customer_id,
            frequency_holdout=pick(self._frequency_holdout),
            monetary_value_holdout=pick(self._monetary_value_holdout),
            purchase_times=None if self._purchase_times is None else self._purchase_times._take(idx),
        )

    @classmethod
    def concat(cls, summaries: Sequence[CustomerSummary]) -> CustomerSummary:
        """Stack summaries of one time unit into one batch (ids must stay unique).

        Purchase times are joined when every summary has them and all were floored to one period length;
        otherwise the result has none.

        This is the manual chunking route for a log too large for one :func:`clvkit.summarize` call: split the
        customers into groups (e.g. by id range, each group's transactions read together), summarize each
        group with **one shared** ``observation_end`` (and ``calibration_end``), and stack the parts. Without
        an explicit end each part would count ``T`` to its own last transaction; summaries whose
        ``observation_end`` or ``calibration_end`` differ are refused. (A stream of transactions in any order
        can go to :func:`clvkit.summarize` directly instead: it reads batch by batch.)

        Raises
        ------
        InvalidInputError
            For no summaries, different time units, holdout durations, ``observation_end`` or
            ``calibration_end`` (ends missing from a summary built from arrays are not compared), ids repeated
            across the parts, or a column present in some parts only.

        Examples
        --------
        >>> import numpy as np, clvkit
        >>> log = {"cust": np.array([1, 1, 2, 3]), "when": np.array(["2024-01-01", "2024-01-08", "2024-01-03",
        ...        "2024-01-20"], dtype="datetime64[D]")}
        >>> end = log["when"].max()
        >>> parts = [clvkit.summarize({k: v[m] for k, v in log.items()}, customer_id="cust", datetime="when",
        ...                           observation_end=end) for m in (log["cust"] <= 2, log["cust"] > 2)]
        >>> whole = clvkit.summarize(log, customer_id="cust", datetime="when")
        >>> CustomerSummary.concat(parts).T.tolist() == whole.T.tolist()
        True
        """
        if not summaries:
            raise InvalidInputError("concat() needs at least one CustomerSummary. Got an empty sequence.")
        units = {s.time_unit for s in summaries}
        if len(units) != 1:
            raise InvalidInputError(
                f"concat() needs summaries of one time unit. Got {sorted(units)}; convert with with_time_unit()."
            )
        def join(name: str) -> npt.NDArray[Any] | None:
            parts = [getattr(s, name) for s in summaries]
            present = [p is not None for p in parts]
            if all(present):
                return np.concatenate(parts)
            if any(present):
                raise InvalidInputError(
                    f"concat() needs '{name}' in all summaries or in none; it is missing from "
                    f"summary {present.index(False)}."
                )
            return None

        durations = {s.duration_holdout for s in summaries}
        if len(durations) != 1:
            raise InvalidInputError("concat() needs one holdout duration across summaries.")
        for name in ("observation_end", "calibration_end"):
            ends = {getattr(s, name) for s in summaries} - {None}
            if len(ends) > 1:
                raise InvalidInputError(
                    f"concat() needs summaries of one {name}: T counts to it, so customers of summaries with "
                    f"different ends are not comparable. Got {sorted(str(e) for e in ends)}. Pass the same "
                    f"observation_end (and calibration_end) to every summarize() call, e.g. the last transaction "
                    f"of the whole log."
                )
        first = summaries[0]
        return cls(
            frequency=join("frequency"),
            recency=join("recency"),
            T=join("T"),
            monetary_value=join("monetary_value"),
            weights=join("weights"),
            customer_id=join("customer_id"),
            time_unit=first.time_unit,
            frequency_holdout=join("frequency_holdout"),
            monetary_value_holdout=join("monetary_value_holdout"),
            duration_holdout=first.duration_holdout,
            observation_end=first.observation_end,
            calibration_end=first.calibration_end,
            purchase_times=PurchaseTimes._concat([s.purchase_times for s in summaries]),
        )

    def compress(self, *, include_monetary: bool = True) -> CompressedSummary:
        """Collapse customers with equal ``(frequency, recency, T[, monetary_value])`` into one weighted row.

        Likelihoods are sums over customers, so fitting the compressed batch gives the same optimum
        as fitting the raw rows at a fraction of the cost; per-row predictions expand back with
        ``result[compressed.inverse]``. Ids, holdout columns and purchase times are dropped (the rows are not
        customers).

        Examples
        --------
        >>> s = CustomerSummary(frequency=[0, 1, 0, 1], recency=[0, 5, 0, 5], T=[9, 9, 9, 8])
        >>> c = s.compress()
        >>> len(c.summary), c.summary.weights.tolist(), c.inverse.tolist()
        (3, [2.0, 1.0, 1.0], [0, 2, 0, 1])
        """
        cols = [self._frequency, self._recency, self._T]
        if include_monetary and self._monetary_value is not None:
            cols.append(self._monetary_value)
        n = len(self)
        w = self.weights_or_ones()
        if n == 0:
            return CompressedSummary(self._replace(customer_id=None, frequency_holdout=None,
                                                   monetary_value_holdout=None, duration_holdout=None,
                                                   purchase_times=None),
                                     np.zeros(0, dtype=np.intp))
        uniq, weights, inverse = unique_rows(cols, w)
        summary = CustomerSummary(
            frequency=uniq[0],
            recency=uniq[1],
            T=uniq[2],
            # Without monetary_value in the key, a group's rows may differ in spend: drop the column.
            monetary_value=uniq[3] if len(uniq) > 3 else None,
            weights=weights,
            time_unit=self._time_unit,
            observation_end=self._observation_end,
            calibration_end=self._calibration_end,
            _validate=False,
        )
        return CompressedSummary(summary, inverse)

    def with_time_unit(self, time_unit: str) -> CustomerSummary:
        """The same customers with ``recency``, ``T``, the holdout duration and the purchase times in ``time_unit``.

        Raises
        ------
        InvalidInputError
            For an unknown unit, or times that overflow float64 in the new unit (naming the column and rows).

        Examples
        --------
        >>> s = CustomerSummary(frequency=[1], recency=[7.0], T=[14.0], time_unit="D")
        >>> s.with_time_unit("W").T.tolist()
        [2.0]
        """
        where = "with_time_unit()"
        new_days = unit_days(_unit_name(time_unit, where), where=where)
        factor = unit_days(self._time_unit) / new_days
        with np.errstate(over="ignore"):
            recency, T = self._recency * factor, self._T * factor
            duration = None if self._duration_holdout is None else self._duration_holdout * factor
        ids = self._customer_id if self._customer_id is None or self._customer_id.dtype != object else None
        fix = f"These times do not fit in float64 in {time_unit!r}: use a coarser time unit."
        problems = [row_problem(~np.isfinite(col), name, "overflows to infinity", fix, ids)
                    for name, col in (("recency", recency), ("T", T))]
        if duration is not None and not np.isfinite(duration):
            problems.append(Problem("duration_holdout", "overflows to infinity", fix=fix))
        raise_if(problems, f"CustomerSummary.{where}")
        pt = self._purchase_times
        return self._replace(recency=recency, T=T, time_unit=time_unit, duration_holdout=duration,
                             purchase_times=None if pt is None else pt._rescaled(factor, new_days))

    def with_weights(self, weights: Any) -> CustomerSummary:
        """The same customers with new weights (validated)."""
        return self._replace(weights=weights, _validate=True)

    # ------------------------------------------------------------------ other constructors
    @classmethod
    def from_arrays(cls, **columns: Any) -> CustomerSummary:
        """Build from keyword arrays; the same as calling the class."""
        return cls(**columns)

    @classmethod
    def from_frame(
        cls,
        frame: Any,
        *,
        frequency: str = "frequency",
        recency: str = "recency",
        T: str = "T",
        monetary_value: str | None = None,
        weights: str | None = None,
        customer_id: str | None = None,
        time_unit: str = "D",
    ) -> CustomerSummary:
        """Build from a pandas or polars data frame, a pyarrow table or a mapping of column arrays.

        Column names default to the field's convention; pass the names your frame uses.
        """
        wanted = {"frequency": frequency, "recency": recency, "T": T}
        optional = {"monetary_value": monetary_value, "weights": weights, "customer_id": customer_id}
        names = list(wanted.values()) + [v for v in optional.values() if v is not None]
        columns = to_columns(frame, names, context="CustomerSummary.from_frame()")
        kwargs: dict[str, Any] = {key: columns[col] for key, col in wanted.items()}
        kwargs.update({key: columns[col] for key, col in optional.items() if col is not None})
        return cls(**kwargs, time_unit=time_unit)

    @classmethod
    def from_entities(
        cls,
        transactions: Any,
        *,
        time_unit: str = "D",
        observation_end: Any = None,
        calibration_end: Any = None,
        refunds: str = "error",
        datetime_format: str | None = None,
        **deprecated: Any,
    ) -> CustomerSummary:
        """Build from :class:`clvkit.domain.Transaction` entities (see :func:`clvkit.summarize_transactions`;
        ``freq`` is the deprecated spelling of ``time_unit``; ``datetime_format`` says how ``observation_end``
        and ``calibration_end`` are written, as there).

        Examples
        --------
        >>> from datetime import datetime, timezone
        >>> from clvkit.domain import Transaction
        >>> day = lambda d: datetime(2024, 1, d, tzinfo=timezone.utc)
        >>> log = [Transaction(customer_id="a", timestamp=day(1), amount=10.0),
        ...        Transaction(customer_id="a", timestamp=day(5), amount=30.0),
        ...        Transaction(customer_id="b", timestamp=day(3), amount=5.0)]
        >>> s = CustomerSummary.from_entities(log, observation_end=day(10))
        >>> s.frequency.tolist(), s.recency.tolist(), s.T.tolist(), s.monetary_value.tolist()
        ([1.0, 0.0], [4.0, 0.0], [9.0, 7.0], [30.0, 0.0])
        """
        if _entity_summarizer is None:  # pragma: no cover - importing clvkit registers it
            raise AssertionError("clvkit._summarize has not registered the entity summarizer")
        if "freq" in deprecated and time_unit == "D":  # the old spelling: summarize_transactions() warns
            return _entity_summarizer(transactions, observation_end=observation_end, calibration_end=calibration_end,
                                      refunds=refunds, datetime_format=datetime_format, **deprecated)
        return _entity_summarizer(transactions, time_unit=time_unit, observation_end=observation_end,
                                  calibration_end=calibration_end, refunds=refunds, datetime_format=datetime_format,
                                  **deprecated)

    def to_columns(self) -> dict[str, npt.NDArray[Any]]:
        """The summary as a mapping of column name to array (present columns only)."""
        out: dict[str, npt.NDArray[Any]] = {}
        for name in ("customer_id", "frequency", "recency", "T", "monetary_value", "weights",
                     "frequency_holdout", "monetary_value_holdout"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        return out

    def to_pandas(self) -> Any:
        """The summary as a pandas DataFrame (needs the ``frames`` extra)."""
        pd = require("pandas")
        cols = self.to_columns()
        index = cols.pop("customer_id", None)
        return pd.DataFrame(cols, index=pd.Index(index, name="customer_id") if index is not None else None)

    def to_frame(self, backend: str = "pandas") -> Any:
        """Every per-customer column as a DataFrame keyed by customer id (needs the ``frames`` extra).

        Parameters
        ----------
        backend:
            ``"pandas"`` (default): index ``customer_id``; ``"polars"``: a first ``customer_id`` column. Without
            customer ids the rows are keyed by position, named ``row``.

        Returns
        -------
        pandas.DataFrame or polars.DataFrame
            Columns ``frequency, recency, T`` and those present of ``monetary_value, weights,
            frequency_holdout, monetary_value_holdout`` (copies).

        Raises
        ------
        InvalidInputError
            For another ``backend``.
        MissingDependencyError
            If the library is not installed: ``pip install 'clvkit[frames]'``.

        Examples
        --------
        >>> s = CustomerSummary(frequency=[0, 2], recency=[0.0, 10.0], T=[40.0, 40.0], customer_id=["a", "b"])
        >>> s.to_frame().loc["b", "recency"]
        np.float64(10.0)
        """
        cols = self.to_columns()
        key = cols.pop("customer_id", None)
        return make_frame(cols, key=key, backend=backend, where="CustomerSummary.to_frame()")

