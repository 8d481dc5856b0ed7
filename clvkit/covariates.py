"""Covariates as data: what is known about each customer (static) and what happens around them (dynamic).

:class:`Covariates` holds numeric covariates keyed by customer id, checked once at the boundary, in the form the
estimation kernels read (float64 arrays). It plays :class:`~clvkit.protocols.CovariateMatrix`: ``names`` and
``align(customer_id)``, the design rows in the order of a summary's customers.

- :meth:`Covariates.static`: one row per customer.
- :meth:`Covariates.dynamic`: one row per customer and period on a regular grid (e.g. weekly), stored densely as
  ``(n_customers, n_periods, k)`` over the union of the customers' periods, with each customer's first and last period.

Coding. A numeric column is used as it is. A column of text, booleans or a pandas/polars category becomes
indicator columns, one per level except the reference level, named ``"Channel[offline]"``; the reference is the
first level in sorted order of the levels' text (``"False"`` before ``"True"``) unless ``reference={"Channel":
"online"}`` says otherwise. The coding (columns, levels, reference) is the :class:`CovariateDesign`, a frozen,
JSON-serialisable record: pass it back as ``design=`` to code prediction data identically (a level the design does
not know is refused).

Identifiability. When a design is made (no ``design=`` given), a column that is constant, a categorical column with
one level, two identical columns and any column that is a linear combination of the others (with a constant) are
refused: their coefficients could not be told apart from each other or from the model's own scale parameter. Data
coded with a given design are not checked so (one new customer is constant in every column).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from enum import Enum
from typing import Any, Final, Literal

import numpy as np
import numpy.typing as npt

from ._display import block, key_value_table, number, shorten, table
from ._frames import frame_kind, make_frame, to_columns
from ._pydantic import FrozenModel
from ._timeunits import unit_days
from ._validation import is_null
from .errors import MAX_ROWS_SHOWN, InvalidInputError, Problem

__all__ = ["CovariateColumn", "CovariateDesign", "Covariates"]

FloatArray = npt.NDArray[np.float64]

#: The ``schema`` name of a saved design.
DESIGN_SCHEMA: Final = "clvkit.covariate_design"
#: The ``schema_version`` written by this clvkit.
DESIGN_SCHEMA_VERSION: Final = 1


class CovariateColumn(FrozenModel):
    """How one input column is coded: as it is (``"numeric"``) or as indicators of its non-reference levels."""

    name: str
    coding: Literal["numeric", "categorical"]
    levels: tuple[str, ...] = ()
    reference: str | None = None

    @property
    def names(self) -> tuple[str, ...]:
        """The design columns this input column becomes."""
        if self.coding == "numeric":
            return (self.name,)
        return tuple(f"{self.name}[{level}]" for level in self.levels if level != self.reference)


class CovariateDesign(FrozenModel):
    """The remembered coding of covariate data: its columns, each categorical column's levels and reference level.

    Persist it with :meth:`to_json` and read it back with :meth:`from_json`; pass it as ``design=`` to
    :meth:`Covariates.static` or :meth:`Covariates.dynamic` to code new data identically.

    Examples
    --------
    >>> d = Covariates.static({"id": [1, 2, 3], "Channel": ["web", "shop", "web"]}, customer_id="id",
    ...                       columns=["Channel"]).design
    >>> d.names
    ('Channel[web]',)
    >>> CovariateDesign.from_json(d.to_json()) == d
    True
    """

    schema_name: Literal["clvkit.covariate_design"] = DESIGN_SCHEMA
    schema_version: Literal[1] = DESIGN_SCHEMA_VERSION
    kind: Literal["static", "dynamic"]
    columns: tuple[CovariateColumn, ...]

    @property
    def names(self) -> tuple[str, ...]:
        """The design column names after coding, in order."""
        return tuple(n for c in self.columns for n in c.names)

    def to_json(self) -> str:
        """The design as a JSON document (no data)."""
        return json.dumps(self.model_dump(mode="json"), sort_keys=True)

    @classmethod
    def from_json(cls, text: str | bytes) -> CovariateDesign:
        """Read a design written by :meth:`to_json`; a malformed document is an :class:`InvalidInputError`."""
        return cls.model_validate_json(text)


def _context(kind: str) -> str:
    return f"Covariates.{kind}()"


def _show(value: Any) -> Any:
    item = getattr(value, "item", None)
    return item() if callable(item) else value


def _first_rows(bad: npt.NDArray[np.bool_], ids: npt.NDArray[Any], extra: npt.NDArray[Any] | None = None
                ) -> tuple[int, tuple[object, ...]]:
    where = np.flatnonzero(bad)
    shown: list[object] = []
    for i in where[:MAX_ROWS_SHOWN]:
        parts = [f"customer {_show(ids[i])!r}"] if ids.size else []
        if extra is not None:
            parts.append(f"period {np.datetime_as_string(extra[i], unit='D')}")
        shown.append(f"{int(i)} ({', '.join(parts)})" if parts else int(i))
    return int(where.size), tuple(shown)


def _row_problem(bad: npt.NDArray[np.bool_], column: str, message: str, fix: str, ids: npt.NDArray[Any],
                 periods: npt.NDArray[Any] | None = None) -> Problem | None:
    n_bad, rows = _first_rows(bad, ids, periods)
    return Problem(column, message, rows=rows, n_bad=n_bad, fix=fix) if n_bad else None


def _raise(problems: Sequence[Problem | None], context: str) -> None:
    found = [p for p in problems if p is not None]
    if found:
        raise InvalidInputError(found, context=context)


def _read_ids(raw: npt.NDArray[Any], column: str, context: str) -> npt.NDArray[Any]:
    """Customer ids as an int64 or a unicode array (sortable), refusing missing ids and other kinds."""
    arr = np.asarray(raw)
    if arr.ndim != 1:
        raise InvalidInputError([Problem(column, "must be one-dimensional", fix="Pass one id per row.")],
                                context=context)
    if arr.dtype.kind in "iu":
        return arr.astype(np.int64) if arr.dtype != np.uint64 else arr
    if arr.dtype.kind == "U":
        return arr
    if arr.dtype.kind == "f":
        bad = ~np.isfinite(arr)
        _raise([_row_problem(bad, column, "has missing ids", "Give every row a customer id.", np.array([]))],
               context)
        frac = arr != np.floor(arr)
        _raise([_row_problem(frac, column, "holds ids that are not whole numbers",
                             "Pass integer or text customer ids.", np.array([]))], context)
        return arr.astype(np.int64)
    if arr.dtype.kind == "O":
        values = arr.tolist()
        null = np.fromiter((is_null(v) for v in values), dtype=bool, count=len(values))
        _raise([_row_problem(null, column, "has missing ids", "Give every row a customer id.", np.array([]))],
               context)
        if all(isinstance(v, str) for v in values):
            return np.array(values, dtype=str)
        if all(isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)) for v in values):
            return np.array(values, dtype=np.int64)
        if all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))
               for v in values):
            return _read_ids(np.array(values, dtype=np.float64), column, context)
        other = np.fromiter((not isinstance(v, str) for v in values), dtype=bool, count=len(values))
        mixed = other if other.any() and not other.all() else np.ones(len(values), dtype=bool)
        _raise([_row_problem(mixed, column, "mixes kinds of ids (ids must be all integers or all text)",
                             "Convert the id column to one type, e.g. text.", np.array([]))], context)
    raise InvalidInputError([Problem(column, f"cannot hold customer ids ({arr.dtype})",
                                     fix="Pass integer or text customer ids.")], context=context)


def _is_categorical(arr: npt.NDArray[Any]) -> bool:
    if arr.dtype.kind in "UbS":
        return True
    if arr.dtype.kind != "O":
        return False
    return any(isinstance(v, (str, bool, np.bool_)) for v in arr.tolist())


def _level_texts(arr: npt.NDArray[Any], column: str, ids: npt.NDArray[Any], periods: npt.NDArray[Any] | None,
                 context: str) -> npt.NDArray[Any]:
    """The text of each row's level; a missing value or a value of another kind is a typed error."""
    values = arr.tolist()
    null = np.fromiter((is_null(v) for v in values), dtype=bool, count=len(values))
    kinds = {type(v) for v, n in zip(values, null, strict=True) if not n}
    boolean = kinds <= {bool, np.bool_}
    text = kinds <= {str, np.str_}
    problems = [_row_problem(null, column, "has missing values",
                             "Fill them (e.g. with an 'unknown' level) or drop those customers.", ids, periods)]
    if not (boolean or text):
        odd = np.fromiter((not n and not isinstance(v, str) for v, n in zip(values, null, strict=True)), dtype=bool,
                          count=len(values))
        problems.append(_row_problem(odd, column, "mixes text with other values",
                                     "Make the column all text (a category) or all numbers.", ids, periods))
    _raise(problems, context)
    return np.array([str(v) for v in values], dtype=str)


def _numeric(arr: npt.NDArray[Any], column: str, ids: npt.NDArray[Any], periods: npt.NDArray[Any] | None,
             context: str) -> FloatArray:
    if arr.dtype.kind in "iuf":
        x = arr.astype(np.float64)
    elif arr.dtype.kind == "O":
        values = arr.tolist()
        odd = np.fromiter((not (v is None or (isinstance(v, (int, float, np.integer, np.floating))
                                              and not isinstance(v, (bool, np.bool_)))) for v in values),
                          dtype=bool, count=len(values))
        _raise([_row_problem(odd, column, "holds values that are not numbers",
                             "Pass numbers, or text/booleans/a category for a categorical covariate.", ids,
                             periods)], context)
        x = np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64)
    else:
        raise InvalidInputError(
            [Problem(column, f"is not numeric ({arr.dtype})",
                     fix="Pass numbers, or text/booleans/a category for a categorical covariate.")], context=context)
    bad = ~np.isfinite(x)
    _raise([_row_problem(bad, column, "has missing or infinite values (NaN, inf)",
                         "Fill or drop those rows: every customer needs a finite value.", ids, periods)], context)
    return x


def _design_for(cols: Mapping[str, npt.NDArray[Any]], columns: Sequence[str], kind: Literal["static", "dynamic"],
                reference: Mapping[str, Any] | None, ids: npt.NDArray[Any], periods: npt.NDArray[Any] | None,
                context: str) -> CovariateDesign:
    reference = dict(reference or {})
    unknown = [c for c in reference if c not in columns]
    if unknown:
        raise InvalidInputError(f"The 'reference' parameter of {context} names columns that are not covariates: "
                                f"{unknown}. Covariate columns: {list(columns)}.")
    out: list[CovariateColumn] = []
    for c in columns:
        arr = cols[c]
        if not _is_categorical(arr):
            if c in reference:
                raise InvalidInputError([Problem(c, "is numeric, so it has no reference level",
                                                 fix="Drop it from 'reference', or pass it as text to code it.")],
                                        context=context)
            out.append(CovariateColumn(name=c, coding="numeric"))
            continue
        texts = _level_texts(arr, c, ids, periods, context)
        levels = tuple(sorted(set(texts.tolist())))
        if len(levels) < 2:
            raise InvalidInputError(
                [Problem(c, f"has one level only ({levels[0]!r}): its effect cannot be told apart from the model's "
                            "own scale", fix="Drop the column.")], context=context)
        ref = str(reference.get(c, levels[0]))
        if ref not in levels:
            raise InvalidInputError([Problem(c, f"has no level {ref!r} to be the reference",
                                             fix=f"Choose one of {list(levels)}.")], context=context)
        out.append(CovariateColumn(name=c, coding="categorical", levels=levels, reference=ref))
    return CovariateDesign(kind=kind, columns=tuple(out))


def _code(cols: Mapping[str, npt.NDArray[Any]], design: CovariateDesign, ids: npt.NDArray[Any],
          periods: npt.NDArray[Any] | None, context: str) -> FloatArray:
    n = len(ids)
    blocks: list[FloatArray] = []
    for col in design.columns:
        arr = cols[col.name]
        if col.coding == "numeric":
            if _is_categorical(arr):
                raise InvalidInputError([Problem(col.name, "holds text or booleans, but the design codes it as a "
                                                           "number", fix="Pass the column as numbers.")],
                                        context=context)
            blocks.append(_numeric(arr, col.name, ids, periods, context)[:, None])
            continue
        texts = _level_texts(np.asarray(arr, dtype=object) if arr.dtype.kind != "O" else arr, col.name, ids,
                             periods, context)
        known = np.isin(texts, np.array(col.levels, dtype=str))
        if not known.all():
            first = texts[~known][0]
            _raise([_row_problem(~known, col.name, f"has a level the design does not know ({first!r})",
                                 f"Known levels: {list(col.levels)}; map new levels onto one of them.", ids,
                                 periods)], context)
        for level in col.levels:
            if level != col.reference:
                blocks.append((texts == level).astype(np.float64)[:, None])
    if not blocks:
        return np.zeros((n, 0), dtype=np.float64)
    return np.ascontiguousarray(np.hstack(blocks))


def _check_identifiable(x: FloatArray, names: tuple[str, ...], context: str) -> None:
    problems: list[Problem] = []
    constant = [j for j in range(x.shape[1]) if x.shape[0] and np.all(x[:, j] == x[0, j])]
    for j in constant:
        problems.append(Problem(names[j], f"is constant ({number(float(x[0, j]))} in every row): its effect cannot "
                                          "be told apart from the model's own scale", fix="Drop the column."))
    for j in range(x.shape[1]):
        for i in range(j):
            if i not in constant and np.array_equal(x[:, i], x[:, j]):
                problems.append(Problem(names[j], f"is identical to '{names[i]}': the two effects cannot be told "
                                                  "apart", fix=f"Drop '{names[j]}' or '{names[i]}'."))
                break
    if problems:
        raise InvalidInputError(problems, context=context)
    if x.shape[1] == 0:
        return
    # Rank of the centred columns: a column in the span of the others (and a constant) is not identifiable.
    centred = x - x.mean(axis=0)
    scale = np.maximum(np.abs(centred).max(axis=0), 1e-300)
    centred = centred / scale
    for j in range(1, x.shape[1] + 1):
        sub = centred[:, :j]
        if np.linalg.matrix_rank(sub) < j:
            raise InvalidInputError(
                [Problem(names[j - 1], "is a linear combination of " + ", ".join(f"'{n}'" for n in names[:j - 1])
                         + " and a constant: its effect cannot be told apart from theirs",
                         fix="Drop one of these columns (e.g. one indicator of each categorical variable).")],
                context=context)


def _to_datetimes(raw: npt.NDArray[Any], column: str, ids: npt.NDArray[Any], context: str
                  ) -> npt.NDArray[np.datetime64]:
    arr = np.asarray(raw)
    if arr.dtype.kind == "M":
        out = arr.astype("datetime64[ns]")
        bad = np.isnat(out)
    else:
        values = arr.tolist()
        if all(isinstance(v, str) for v in values):
            try:  # ISO text in one go; the loop below finds the first bad row when this fails
                fast = np.array(values, dtype="datetime64[ns]")
            except (ValueError, TypeError, OverflowError):
                fast = None
            if fast is not None and not np.isnat(fast).any():
                return fast
        parsed = np.empty(len(values), dtype="datetime64[ns]")
        bad = np.zeros(len(values), dtype=bool)
        for i, v in enumerate(values):
            try:
                if is_null(v) or isinstance(v, (bool, int, float)):
                    raise ValueError
                parsed[i] = np.datetime64(v, "ns")
            except (ValueError, TypeError, OverflowError):
                bad[i] = True
                parsed[i] = np.datetime64("NaT")
        out = parsed
    _raise([_row_problem(bad, column, "holds values that are not dates (or missing dates)",
                         "Pass each row's period start as a datetime or an ISO date such as '2005-01-02'.", ids)],
           context)
    return out


def _step_text(step: np.timedelta64) -> str:
    days = step / np.timedelta64(1, "D")
    if float(days).is_integer():
        return f"{int(days)} day{'s' if days != 1 else ''}"
    return f"{step / np.timedelta64(1, 's'):g} seconds"


class Covariates:
    """Covariates keyed by customer id: static (one row per customer) or dynamic (one row per customer and period).

    Make them with :meth:`static` or :meth:`dynamic`; the object is read-only. ``names`` are the design column
    names after coding (``"Gender"``, ``"Channel[offline]"``), ``design`` the coding to pass as ``design=`` for new
    data and to save as JSON, ``customer_id`` the customers in ascending id order and ``values`` the coded float64
    values: (n_customers, k) static, (n_customers, n_periods, k) dynamic, where a customer's cells outside its own
    first..last period are NaN and never returned.
    """

    def __init__(self, *, kind: Literal["static", "dynamic"], design: CovariateDesign, customer_id: npt.NDArray[Any],
                 values: FloatArray, periods: npt.NDArray[np.datetime64] | None = None,
                 step: np.timedelta64 | None = None, first: npt.NDArray[np.int64] | None = None,
                 last: npt.NDArray[np.int64] | None = None) -> None:
        self._kind = kind
        self._design = design
        self._ids = customer_id
        self._values = values
        self._periods = periods
        self._step = step
        self._first = first
        self._last = last
        for arr in (customer_id, values, periods, first, last):
            if arr is not None:
                arr.flags.writeable = False

    # -- construction -------------------------------------------------------------------------------------------
    @classmethod
    def static(cls, data: Any, *, customer_id: str, columns: Sequence[str],
               reference: Mapping[str, Any] | None = None, design: CovariateDesign | None = None) -> Covariates:
        """Static covariates: one row per customer.

        Parameters
        ----------
        data:
            A pandas or polars DataFrame, a pyarrow Table, a mapping of column name to array, or a sequence of
            domain entities (e.g. :class:`clvkit.domain.Customer`) whose attributes are the columns.
        customer_id:
            The column of customer ids (integers or text; unique, none missing).
        columns:
            The covariate columns, in order. Numbers are used as they are; text, booleans and categories become
            indicators of their non-reference levels.
        reference:
            Reference level per categorical column (default: the first level in sorted order of the levels' text).
        design:
            A design from earlier covariates: code ``data`` identically (prediction data). Then ``columns`` must
            be the design's columns and ``reference`` is not given.

        Returns
        -------
        Covariates

        Raises
        ------
        InvalidInputError
            Missing columns, missing or duplicate ids, NaN/inf, non-numeric values, a categorical column with one
            level, constant, identical or collinear columns (new design), a level the given design does not know;
            each problem names the column, the first rows with their customer and the fix.

        Examples
        --------
        >>> cov = Covariates.static({"id": [7, 3, 5], "age": [31.0, 45.0, 27.0], "Channel": ["shop", "web", "web"]},
        ...                         customer_id="id", columns=["age", "Channel"])
        >>> cov.names
        ('age', 'Channel[web]')
        >>> cov.align(np.array([5, 7]))
        array([[27.,  1.],
               [31.,  0.]])
        """
        context = _context("static")
        ids, cols = _read_input(data, customer_id, columns, design, reference, context)
        order = np.argsort(ids, kind="stable")
        sorted_ids = ids[order]
        dup = np.zeros(len(ids), dtype=bool)
        if len(ids) > 1:
            same = sorted_ids[1:] == sorted_ids[:-1]
            dup[order[1:][same]] = True
        _raise([_row_problem(dup, customer_id, "has customers with more than one row",
                             "Static covariates take one row per customer: drop or merge the duplicates, or use "
                             "Covariates.dynamic() for values that change over time.", ids)], context)
        if design is None:
            design = _design_for(cols, columns, "static", reference, ids, None, context)
            x = _code(cols, design, ids, None, context)
            _check_identifiable(x, design.names, context)
        else:
            x = _code(cols, design, ids, None, context)
        return cls(kind="static", design=design.model_copy(update={"kind": "static"}), customer_id=sorted_ids,
                   values=np.ascontiguousarray(x[order]))

    @classmethod
    def dynamic(cls, data: Any, *, customer_id: str, period: str, columns: Sequence[str],
                time_unit: str | float | None = None, reference: Mapping[str, Any] | None = None,
                design: CovariateDesign | None = None) -> Covariates:
        """Time-varying covariates: one row per customer and period on a regular grid.

        Parameters
        ----------
        data, customer_id, columns, reference, design:
            As in :meth:`static`.
        period:
            The column holding each row's period start (datetimes or ISO dates).
        time_unit:
            The grid's step: a unit name (``"D"``, ``"W"``) or a number of days. Default: inferred as the most
            common step between a customer's consecutive periods.

        Returns
        -------
        Covariates
            ``values`` of shape (n_customers, n_periods, k) over the union grid ``periods``.

        Raises
        ------
        InvalidInputError
            As :meth:`static`, and: duplicate (customer, period), a customer's missing periods (gaps), periods off
            the grid; each names the customer and the period.

        Examples
        --------
        >>> weeks = np.array(["2005-01-02", "2005-01-09", "2005-01-09", "2005-01-16"], dtype="datetime64[ns]")
        >>> cov = Covariates.dynamic({"id": [1, 1, 2, 2], "week": weeks, "season": [0, 1, 1, 0]},
        ...                          customer_id="id", period="week", columns=["season"])
        >>> cov.step == np.timedelta64(7, "D"), cov.values.shape
        (np.True_, (2, 3, 1))
        >>> cov.window(np.array([1, 2]), np.datetime64("2005-01-09"), np.datetime64("2005-01-16"))[:, :, 0]
        array([[1.],
               [1.]])
        """
        context = _context("dynamic")
        if period in columns or period == customer_id:
            raise InvalidInputError(f"The 'period' parameter of {context} must not be the id or a covariate column. "
                                    f"Got {period!r} instead.")
        ids, cols = _read_input(data, customer_id, columns, design, reference, context, extra=(period,))
        when = _to_datetimes(cols[period], period, ids, context)
        if design is None:
            design = _design_for(cols, columns, "dynamic", reference, ids, when, context)
            x = _code(cols, design, ids, when, context)
            _check_identifiable(x, design.names, context)
        else:
            x = _code(cols, design, ids, when, context)
        uniq, code = np.unique(ids, return_inverse=True)
        code = code.reshape(-1)
        order = np.lexsort((when, code))
        c_s, w_s = code[order], when[order]
        same_customer = c_s[1:] == c_s[:-1]
        diffs = (w_s[1:] - w_s[:-1])[same_customer]
        if time_unit is not None:
            step = np.timedelta64(round(unit_days(time_unit, where=context) * 86400e9), "ns")
        elif diffs.size == 0:
            step = np.timedelta64(7 * 86400 * 10**9, "ns")  # one period per customer: any step fits; say weekly
        else:
            positive = diffs[diffs > np.timedelta64(0, "ns")]
            if positive.size == 0:
                step = np.timedelta64(7 * 86400 * 10**9, "ns")
            else:
                vals, counts = np.unique(positive.astype(np.int64), return_counts=True)
                step = np.timedelta64(int(vals[np.argmax(counts)]), "ns")
        dup = np.zeros(len(ids), dtype=bool)
        dup[order[1:][same_customer & (w_s[1:] == w_s[:-1])]] = True
        _raise([_row_problem(dup, period, "has customers with two rows for one period",
                             "Keep one row per customer and period.", ids, when)], context)
        origin = when.min()
        offset = (when - origin).astype(np.int64)
        step_ns = int(step.astype(np.int64))
        off_grid = offset % step_ns != 0
        _raise([_row_problem(off_grid, period, f"has periods off the grid of one step ({_step_text(step)}) from "
                                               f"{np.datetime_as_string(origin, unit='D')}",
                             "Give each row the start of its period (e.g. floor dates to the week), or pass "
                             "time_unit= for the grid's step.", ids, when)], context)
        index = offset // step_ns
        idx_s = index[order]
        gap_after = np.zeros(len(ids), dtype=bool)
        gap_after[order[:-1][same_customer & (idx_s[1:] - idx_s[:-1] > 1)]] = True
        if gap_after.any():
            n_bad, rows = _first_rows(gap_after, ids, when)
            g = int(np.flatnonzero(gap_after)[0])
            missing = np.datetime_as_string(when[g] + step, unit="D")
            raise InvalidInputError([Problem(period, f"has gaps: customers miss the period after these rows (first: "
                                                     f"customer {_show(ids[g])!r} has no row for {missing})",
                                             rows=rows, n_bad=n_bad,
                                             fix="Give every customer one row for each period from its first to its "
                                                 "last (fill missing periods).")], context=context)
        n_periods = int(index.max()) + 1
        values = np.full((len(uniq), n_periods, x.shape[1]), np.nan, dtype=np.float64)
        values[code, index] = x
        first = np.full(len(uniq), n_periods, dtype=np.int64)
        np.minimum.at(first, code, index)
        last = np.zeros(len(uniq), dtype=np.int64)
        np.maximum.at(last, code, index)
        periods = origin + np.arange(n_periods, dtype=np.int64) * step
        return cls(kind="dynamic", design=design.model_copy(update={"kind": "dynamic"}), customer_id=uniq,
                   values=values, periods=periods, step=step, first=first, last=last)

    # -- reading --------------------------------------------------------------------------------------------------
    @property
    def kind(self) -> Literal["static", "dynamic"]:
        """``"static"`` or ``"dynamic"``."""
        return self._kind

    @property
    def names(self) -> tuple[str, ...]:
        """Design column names after coding, e.g. ``("Gender", "Channel[offline]")``."""
        return self._design.names

    @property
    def design(self) -> CovariateDesign:
        """The coding (columns, levels, reference levels); JSON-serialisable."""
        return self._design

    @property
    def customer_id(self) -> npt.NDArray[Any]:
        """The customers, in ascending id order (read-only)."""
        return self._ids

    @property
    def values(self) -> FloatArray:
        """The coded values (read-only): (n_customers, k) static, (n_customers, n_periods, k) dynamic."""
        return self._values

    @property
    def periods(self) -> npt.NDArray[np.datetime64]:
        """The union grid of period starts (dynamic only)."""
        if self._periods is None:
            raise self._not_dynamic("periods")
        return self._periods

    @property
    def step(self) -> np.timedelta64:
        """The grid's step (dynamic only)."""
        if self._step is None:
            raise self._not_dynamic("step")
        return self._step

    @property
    def first_period(self) -> npt.NDArray[np.int64]:
        """Each customer's first period, as an index into :attr:`periods` (dynamic only)."""
        if self._first is None:
            raise self._not_dynamic("first_period")
        return self._first

    @property
    def last_period(self) -> npt.NDArray[np.int64]:
        """Each customer's last period, as an index into :attr:`periods` (dynamic only)."""
        if self._last is None:
            raise self._not_dynamic("last_period")
        return self._last

    @staticmethod
    def _not_dynamic(name: str) -> InvalidInputError:
        return InvalidInputError(f"'{name}' belongs to dynamic covariates; these are static covariates "
                                 "(made by Covariates.static()).")

    def __len__(self) -> int:
        return int(self._ids.shape[0])

    def _rows(self, customer_id: Any, where: str) -> npt.NDArray[np.int64]:
        """Positions of ``customer_id`` among the stored customers, or a typed error naming the missing ones."""
        context = f"Covariates.{where}()"
        try:
            wanted = np.asarray(customer_id)
        except (TypeError, ValueError):
            raise InvalidInputError(f"The 'customer_id' parameter of {context} must be an array of customer ids. "
                                    f"Got {type(customer_id).__name__} instead.") from None
        if wanted.ndim != 1:
            raise InvalidInputError(f"The 'customer_id' parameter of {context} must be one-dimensional. Got shape "
                                    f"{wanted.shape} instead.")
        ids = self._ids
        if wanted.size == 0:
            return np.zeros(0, dtype=np.int64)
        comparable = (wanted.dtype.kind in "iuf" and ids.dtype.kind in "iu") or (
            wanted.dtype.kind == "U" and ids.dtype.kind == "U")
        if wanted.dtype.kind == "O":
            try:
                wanted = _read_ids(wanted, "customer_id", context)
                comparable = wanted.dtype.kind == ids.dtype.kind
            except InvalidInputError:
                comparable = False
        if comparable and len(ids):
            pos = np.clip(np.searchsorted(ids, wanted), 0, len(ids) - 1)
            found = ids[pos] == wanted
        else:
            pos = np.zeros(wanted.shape[0], dtype=np.int64)
            found = np.zeros(wanted.shape[0], dtype=bool)
        if not found.all():
            missing = wanted[~found]
            raise InvalidInputError(
                [Problem("customer_id", f"has customers without covariates (first: {_show(missing[0])!r})",
                         rows=tuple(_show(m) for m in missing[:MAX_ROWS_SHOWN]), n_bad=int(missing.size),
                         row_label="customer",
                         fix="Give every customer of the summary a row of covariates, or drop the customers "
                             f"without (the covariates hold {len(ids)} customers; ids must be of one kind, "
                             f"here {'text' if ids.dtype.kind == 'U' else 'integers'}).")],
                context=context)
        return pos.astype(np.int64)

    def align(self, customer_id: npt.NDArray[Any], /) -> FloatArray:
        """The covariate rows of ``customer_id``, in its order: float64 of shape (n, k), C-contiguous.

        Dynamic covariates align only when every column is constant over time for every customer (the value is
        then that constant); otherwise a time-varying fit is needed and this raises.

        Raises
        ------
        InvalidInputError
            An id has no covariates (names the first and how many), or dynamic covariates vary over time.
        """
        rows = self._rows(customer_id, "align")
        if self._kind == "static":
            return np.ascontiguousarray(self._values[rows])
        first = self.first_period
        base = self._values[np.arange(len(self)), first]  # (n_customers, k)
        covered = (np.arange(self._values.shape[1])[None, :] >= first[:, None]) & (
            np.arange(self._values.shape[1])[None, :] <= self.last_period[:, None])
        varies = covered[:, :, None] & (self._values != base[:, None, :])
        if varies.any():
            cust, t, j = (int(a[0]) for a in np.nonzero(varies))
            n_var = int(varies.any(axis=(1, 2)).sum())
            raise InvalidInputError(
                [Problem(self.names[j], f"varies over time (customer {_show(self._ids[cust])!r} changes at period "
                                        f"{np.datetime_as_string(self.periods[t], unit='D')}; {n_var} customers "
                                        "vary in some column)",
                         fix="A time-varying fit is needed for these covariates; for a static fit pass "
                             "Covariates.static() of the values known per customer.")],
                context="Covariates.align()")
        return np.ascontiguousarray(base[rows])

    def customer_grid(self, customer_id: npt.NDArray[Any], /) -> tuple[FloatArray, npt.NDArray[np.int64],
                                                                         npt.NDArray[np.int64]]:
        """Dynamic covariates of ``customer_id`` on the whole grid (what a time-varying fit reads).

        Returns
        -------
        (values, first, last)
            ``values`` of shape (n, n_periods, k) over :attr:`periods` (NaN outside a customer's rows), and each
            customer's first and last period index.

        Raises
        ------
        InvalidInputError
            Static covariates, or an id without covariates (names the first and how many).
        """
        if self._kind != "dynamic":
            raise self._not_dynamic("customer_grid")
        rows = self._rows(customer_id, "customer_grid")
        return self._values[rows], self.first_period[rows], self.last_period[rows]

    def window(self, customer_id: npt.NDArray[Any], start: Any, end: Any) -> FloatArray:
        """Dynamic covariates of ``customer_id`` for the periods starting in ``[start, end)``.

        Returns
        -------
        ndarray of shape (n, n_periods_in_window, k)
            float64, C-contiguous.

        Raises
        ------
        InvalidInputError
            Static covariates, a window outside the grid or empty, an unknown customer, or a customer without a
            row for a period of the window (names the customer and the period).
        """
        periods = self.periods
        context = "Covariates.window()"
        try:
            lo, hi = np.datetime64(start, "ns"), np.datetime64(end, "ns")
        except (TypeError, ValueError):
            raise InvalidInputError(f"The 'start' and 'end' parameters of {context} must be datetimes. Got "
                                    f"{start!r} and {end!r} instead.") from None
        inside = np.flatnonzero((periods >= lo) & (periods < hi))
        if inside.size == 0:
            raise InvalidInputError(
                f"The window [{start}, {end}) of {context} holds no period of the covariates, which run from "
                f"{np.datetime_as_string(periods[0], unit='D')} to {np.datetime_as_string(periods[-1], unit='D')} "
                f"in steps of {_step_text(self.step)}.")
        rows = self._rows(customer_id, "window")
        a, b = int(inside[0]), int(inside[-1])
        short = (self.first_period[rows] > a) | (self.last_period[rows] < b)
        if short.any():
            k = int(np.flatnonzero(short)[0])
            r = rows[k]
            gap = a if self.first_period[r] > a else self.last_period[r] + 1
            raise InvalidInputError(
                [Problem("customer_id", f"has customers without covariates for part of the window (first: customer "
                                        f"{_show(self._ids[r])!r} at period "
                                        f"{np.datetime_as_string(periods[gap], unit='D')})",
                         rows=tuple(_show(self._ids[i]) for i in rows[short][:MAX_ROWS_SHOWN]),
                         n_bad=int(short.sum()), row_label="customer",
                         fix="Give these customers rows for every period of the window (for prediction: the "
                             "horizon too).")], context=context)
        return np.ascontiguousarray(self._values[rows][:, a:b + 1])

    # -- display and export ---------------------------------------------------------------------------------------
    def __repr__(self) -> str:
        text = f"Covariates.{self._kind}(n_customers={len(self)}, names={list(self.names)}"
        if self._kind == "dynamic":
            text += (f", n_periods={self.periods.shape[0]}, step={_step_text(self.step)!r}, "
                     f"from={str(np.datetime_as_string(self.periods[0], unit='D'))!r}")
        return shorten(text + ")")

    def _repr_html_(self) -> str:
        facts: list[tuple[str, Any]] = [("kind", self._kind), ("customers", len(self))]
        if self._kind == "dynamic":
            facts += [("periods", int(self.periods.shape[0])), ("step", _step_text(self.step)),
                      ("first period", np.datetime_as_string(self.periods[0], unit="D")),
                      ("last period", np.datetime_as_string(self.periods[-1], unit="D"))]
        flat = self._values.reshape(-1, len(self.names)) if self.names else np.zeros((0, 0))
        rows: list[list[Any]] = []
        coding = {n: c for c in self._design.columns for n in c.names}
        for j, name in enumerate(self.names):
            col = flat[:, j]
            col = col[np.isfinite(col)]
            source = coding[name]
            how = "as given" if source.coding == "numeric" else f"indicator (reference {source.reference!r})"
            rows.append([name, how, float(col.mean()) if col.size else None, float(col.min()) if col.size else None,
                         float(col.max()) if col.size else None])
        return block(f"Covariates ({self._kind})", key_value_table(facts),
                     table(["column", "coding", "mean", "min", "max"], rows))

    def to_frame(self, backend: str = "pandas") -> Any:
        """The coded covariates as a DataFrame (needs the ``frames`` extra).

        Static: one row per customer, keyed by ``customer_id`` (pandas: the index; polars: the first column).
        Dynamic: one row per customer and covered period, with a ``period`` column after the key.
        """
        where = "Covariates.to_frame()"
        if self._kind == "static":
            return make_frame({n: self._values[:, j] for j, n in enumerate(self.names)}, key=self._ids,
                              backend=backend, where=where)
        first, last = self.first_period, self.last_period
        n_per = last - first + 1
        cust = np.repeat(np.arange(len(self)), n_per)
        starts = np.repeat(first - np.concatenate(([0], np.cumsum(n_per)[:-1])), n_per)
        t = np.arange(cust.size) + starts
        cols: dict[str, npt.NDArray[Any]] = {"period": self.periods[t]}
        for j, n in enumerate(self.names):
            cols[n] = self._values[cust, t, j]
        return make_frame(cols, key=self._ids[cust], backend=backend, where=where)


def _read_input(data: Any, customer_id: str, columns: Sequence[str], design: CovariateDesign | None,
                reference: Mapping[str, Any] | None, context: str, extra: Sequence[str] = ()
                ) -> tuple[npt.NDArray[Any], dict[str, npt.NDArray[Any]]]:
    if isinstance(columns, str) or not all(isinstance(c, str) for c in columns):
        raise InvalidInputError(f"The 'columns' parameter of {context} must be a list of column names. Got "
                                f"{columns!r} instead.")
    columns = list(columns)
    if not columns:
        raise InvalidInputError(f"The 'columns' parameter of {context} must name at least one covariate column. "
                                "Got [] instead.")
    if len(set(columns)) != len(columns):
        raise InvalidInputError(f"The 'columns' parameter of {context} names a column twice: {columns}.")
    if customer_id in columns:
        raise InvalidInputError(f"The 'columns' parameter of {context} must not hold the id column {customer_id!r}.")
    if design is not None:
        if reference is not None:
            raise InvalidInputError(f"{context}: pass either 'design' or 'reference', not both (the design fixes "
                                    "the reference levels).")
        if [c.name for c in design.columns] != columns:
            raise InvalidInputError(f"The 'columns' parameter of {context} must be the design's columns "
                                    f"{[c.name for c in design.columns]} in that order. Got {columns} instead.")
    names = [customer_id, *extra, *columns]
    if not frame_kind(data) and isinstance(data, Sequence) and not isinstance(data, (str, bytes)):
        data = _from_entities(data, names, context)
    cols = to_columns(data, names, context=context)
    if frame_kind(data) == "mapping":
        for n in names:
            given = data[n]
            if cols[n].dtype.kind == "U" and not isinstance(given, np.ndarray) and not all(
                    isinstance(v, str) for v in given):
                # numpy turns [1, "b"] into text silently: keep the values as given so mixed kinds are refused
                kept = np.empty(len(cols[n]), dtype=object)
                kept[:] = list(given)
                cols[n] = kept
    lengths = {n: np.asarray(v).shape for n, v in cols.items()}
    if len({s[0] if s else -1 for s in lengths.values()}) != 1 or any(len(s) != 1 for s in lengths.values()):
        raise InvalidInputError(f"{context}: the columns must be one-dimensional and of one length. Got shapes "
                                f"{lengths}.")
    ids = _read_ids(cols[customer_id], customer_id, context)
    return ids, cols


def _from_entities(items: Sequence[Any], names: Sequence[str], context: str) -> dict[str, npt.NDArray[Any]]:
    """A sequence of entities (e.g. :class:`clvkit.domain.Customer`) as columns of their attributes."""
    out: dict[str, npt.NDArray[Any]] = {}
    for n in names:
        missing = [i for i, item in enumerate(items) if not hasattr(item, n)]
        if missing:
            raise InvalidInputError([Problem(n, "is not an attribute of the entities", rows=tuple(missing[:5]),
                                             n_bad=len(missing), fix="Name attributes the entities have.")],
                                    context=context)
        column = np.empty(len(items), dtype=object)
        for i, item in enumerate(items):
            value = getattr(item, n)
            column[i] = value.value if isinstance(value, Enum) else value
        out[n] = column
    return out


def customer_rows(customer_id: Any, covariates: Mapping[str, Any], where: str) -> npt.NDArray[Any] | None:
    """Whose predictions a method for customers not yet seen returns (``expected_purchases_new_customer`` etc.).

    ``customer_id`` when given (any ids the covariates hold, in the order wanted); otherwise the ``customer_id``
    of the first covariates given (for :class:`Covariates`, its customers in ascending id order); ``None`` when
    neither is given. ``covariates`` maps a process name to covariates or ``None``.

    Raises
    ------
    InvalidInputError
        For ``customer_id`` that is not one-dimensional, or covariates without a ``customer_id`` attribute when
        no ``customer_id`` is given.
    """
    if customer_id is not None:
        try:
            ids = np.asarray(customer_id)
        except (TypeError, ValueError):
            ids = np.empty((0, 0))
        if ids.ndim != 1:
            raise InvalidInputError(f"The 'customer_id' parameter of {where} must be a one-dimensional array of "
                                    f"customer ids. Got {type(customer_id).__name__} of shape {ids.shape} instead.")
        return ids
    for process, cov in covariates.items():
        if cov is None:
            continue
        own = getattr(cov, "customer_id", None)
        if own is None:
            raise InvalidInputError(
                f"{where}: the {process} covariates do not say which customers they hold (no 'customer_id'). Pass "
                f"customer_id=[...] to say whose predictions to return, in which order."
            )
        return np.asarray(own)
    return None
