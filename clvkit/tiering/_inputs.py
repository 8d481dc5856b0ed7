"""Reading a policy's per-customer columns from whatever the caller holds, validated once.

Accepted sources (``data``), with keyword columns adding to or overriding them:

* ``None``: keyword columns only;
* a mapping of column name to array, or a pandas/polars DataFrame or pyarrow Table (through
  :func:`clvkit._frames.to_columns`; only the columns the policy reads are extracted);
* a :class:`~clvkit.CustomerSummary`: ``frequency``, ``recency``, ``T``, ``monetary_value`` and
  ``customer_id``;
* a :class:`~clvkit.valuation.ClvResult`: ``value`` (its ``clv``) and ``customer_id``;
* a numpy array, list, tuple or Series: the policy's first column (``value`` for the value-based
  policies, ``history`` for :class:`~clvkit.tiering.LoyaltyProgram`, the first criterion of a scorecard).

Numeric columns become float64 arrays without a copy when they already are; every problem of the batch
(missing column, wrong shape, NaN or out-of-range rows) is reported in one :class:`InvalidInputError`.
"""

from __future__ import annotations

import enum
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from .._frames import frame_kind, to_columns
from .._validation import as_float_array, id_problems, non_number_problem, raise_if, row_problem
from ..batch import CustomerSummary
from ..errors import InvalidInputError, Problem
from ._assignment import CODE_DTYPE, IntArray, TierAssignment

__all__ = ["Column", "label_codes", "read_columns", "read_values"]

Kind = Literal["real", "count", "probability", "label", "matrix"]


@dataclass(frozen=True)
class Column:
    """A column a policy reads: its name, what values it takes and whether it must be present."""

    name: str
    kind: Kind = "real"
    required: bool = True


def _is_clv_result(data: object) -> bool:
    # ClvResult lives in clvkit.valuation, whose import pulls in scipy; a ClvResult can only exist if that
    # module is already loaded, so checking sys.modules avoids the import for every other input.
    module = sys.modules.get("clvkit.valuation.clv")
    return module is not None and isinstance(data, module.ClvResult)


def _frame_names(data: Any) -> list[str] | None:
    """Column names of a mapping or data frame, or ``None`` for anything else (a Series is not a frame)."""
    kind = frame_kind(data)
    if kind == "mapping":
        return [str(k) for k in data.keys()]
    if kind == "pyarrow" and hasattr(data, "column_names"):
        return [str(c) for c in data.column_names]
    if kind in ("pandas", "polars") and hasattr(data, "columns"):
        return [str(c) for c in data.columns]
    return None


def _source(data: Any, wanted: Sequence[str], context: str) -> dict[str, Any]:
    if data is None:
        return {}
    if isinstance(data, CustomerSummary):
        found: dict[str, Any] = {"frequency": data.frequency, "recency": data.recency, "T": data.T}
        if data.monetary_value is not None:
            found["monetary_value"] = data.monetary_value
        if data.customer_id is not None:
            found["customer_id"] = data.customer_id
        return found
    if _is_clv_result(data):
        found = {"value": data.clv}
        if data.customer_id is not None:
            found["customer_id"] = data.customer_id
        return found
    names = _frame_names(data)
    if names is not None:
        present = [n for n in wanted if n in names]
        return dict(to_columns(data, present, context=context)) if present else {}
    if isinstance(data, (np.ndarray, list, tuple)) or hasattr(data, "__array__"):
        return {wanted[0]: data}
    raise InvalidInputError(
        f"{context} reads a mapping or data frame of columns, a CustomerSummary, a ClvResult or an array of "
        f"'{wanted[0]}'. Got {type(data).__name__} instead."
    )


def _as_numeric(raw: Any, name: str, ndim: int) -> tuple[npt.NDArray[np.float64] | None, Problem | None]:
    try:
        # numpy would parse strings and read booleans, times and complex numbers silently: refuse them.
        problem = non_number_problem(np.asarray(raw), name)
        if problem is not None:
            return None, problem
        arr = np.asarray(raw, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        return None, Problem(name, f"cannot be read as numbers ({exc})", fix="Pass numeric values.")
    if arr.ndim == 0 and ndim == 1:
        arr = arr.reshape(1)
    if arr.ndim != ndim:
        shape = "(n_customers,)" if ndim == 1 else "(n_customers, n_periods)"
        return None, Problem(name, f"must have shape {shape}; got shape {arr.shape}")
    return arr, None


def _check_values(arr: npt.NDArray[np.float64], spec: Column, ids: npt.NDArray[Any] | None) -> list[Problem | None]:
    problems: list[Problem | None] = []
    # A finite sum proves every entry finite (NaN and inf propagate) at a third of the cost of isfinite;
    # only when it is not (a bad entry, or an overflow of the sum) are the rows checked one by one.
    with np.errstate(over="ignore", invalid="ignore"):
        all_finite = bool(np.isfinite(arr.sum()))
    if all_finite:
        flat_ok = np.ones(arr.shape[0], dtype=np.bool_)
    else:
        finite = np.isfinite(arr)
        flat_ok = np.asarray(finite.all(axis=1) if arr.ndim == 2 else finite, dtype=np.bool_)
        problems.append(row_problem(~flat_ok, spec.name, "must be finite (no NaN or inf)",
                                    "Drop or fill the missing values.", ids))
    if spec.kind == "count":
        with np.errstate(invalid="ignore"):
            bad = (arr < 0) | (arr != np.floor(arr))
        problems.append(row_problem(bad & flat_ok, spec.name, "must be a non-negative whole number", "Recount.", ids))
    elif spec.kind == "probability" and not (all_finite and arr.size and 0.0 <= arr.min() and arr.max() <= 1.0):
        with np.errstate(invalid="ignore"):
            bad = (arr < 0) | (arr > 1)
        problems.append(row_problem(bad & flat_ok, spec.name, "must lie in [0, 1]", "Pass probabilities.", ids))
    return problems


def read_columns(data: Any, columns: Mapping[str, Any], specs: Sequence[Column], context: str
                 ) -> dict[str, npt.NDArray[Any]]:
    """The columns of ``specs`` (numeric ones as float64), from ``data`` and keyword ``columns``.

    Optional columns that are absent are left out of the result. Raises one :class:`InvalidInputError`
    naming every missing column, bad shape and (for data) the first offending rows.
    """
    known = {s.name for s in specs}
    unknown = [k for k in columns if k not in known]
    if unknown:
        raise InvalidInputError(
            [Problem(k, "is not a column this policy reads", fix=f"It reads: {sorted(known)}.") for k in unknown],
            context=context,
        )
    raw = {**_source(data, [s.name for s in specs], context), **columns}
    raw = {k: v for k, v in raw.items() if k in known and v is not None}
    problems: list[Problem | None] = [
        Problem(s.name, "is required but was not given", fix="Pass it as a keyword or as a column of the data.")
        for s in specs if s.required and s.name not in raw
    ]
    out: dict[str, npt.NDArray[Any]] = {}
    for spec in specs:
        if spec.name not in raw:
            continue
        if spec.kind == "label":
            value = raw[spec.name]
            if isinstance(value, (list, tuple)) and any(isinstance(v, enum.Enum) for v in value):
                # numpy would turn str-enum members into "Kind.MEMBER" strings: keep their values.
                value = [v.value if isinstance(v, enum.Enum) else v for v in value]
            arr_any = np.asarray(value)
            if arr_any.ndim != 1:
                problems.append(Problem(spec.name, f"must have shape (n_customers,); got shape {arr_any.shape}"))
            else:
                out[spec.name] = arr_any
            continue
        arr, problem = _as_numeric(raw[spec.name], spec.name, 2 if spec.kind == "matrix" else 1)
        problems.append(problem)
        if arr is not None:
            out[spec.name] = arr
    raise_if(problems, context)
    n = next(iter(out.values())).shape[0] if out else 0
    lengths = [Problem(k, f"has {v.shape[0]} rows but '{next(iter(out))}' has {n}",
                       fix="Pass one entry per customer in every column.")
               for k, v in out.items() if v.shape[0] != n]
    raise_if(list(lengths), context)
    ids = out.get("customer_id")
    if ids is not None:
        # One id given twice would get two tiers (and two rows in a tier file).
        problems.extend(id_problems(ids, "customer_id"))
    row_ids = ids if ids is not None and ids.dtype != object else None
    for spec in specs:
        if spec.name in out and spec.kind != "label":
            problems.extend(_check_values(out[spec.name], spec, row_ids))
    raise_if(problems, context)
    return out


def label_codes(raw: npt.NDArray[Any], labels: Sequence[str], column: str, context: str) -> IntArray:
    """Codes into ``labels`` of a column given as labels (strings or enum members) or as integer codes."""
    codes = np.zeros(raw.shape[0], dtype=CODE_DTYPE)
    if raw.dtype.kind in "iuf":
        arr = raw.astype(np.float64)
        with np.errstate(invalid="ignore"):
            bad = ~np.isfinite(arr) | (arr < 0) | (arr >= len(labels)) | (arr != np.floor(arr))
        fix = f"Integer codes must lie in 0..{len(labels) - 1} (for {list(labels)})."
        np.copyto(codes, arr, where=~bad, casting="unsafe")
    else:
        if raw.dtype.kind == "U":
            text = raw  # already fixed-width text: compared in place (a copy costs ~0.1 s per 10M)
        else:
            items = raw.tolist() if raw.dtype == object else raw
            text = np.array([getattr(v, "value", v) for v in items] if raw.dtype == object else items, dtype=str)
        codes -= np.int8(1)  # -1: not (yet) matched
        for k, lab in enumerate(labels):
            np.putmask(codes, text == lab, k)
        bad = codes < 0
        fix = f"Use one of {list(labels)}."
    problem = row_problem(bad, column, "is not a known label", fix)
    if problem is not None:
        raise InvalidInputError([problem], context=context)
    return codes


def read_values(values: Any, assignment: TierAssignment, where: str) -> npt.NDArray[np.float64]:
    """Finite per-customer values (an array, a list or a ClvResult's ``clv``) matching an assignment."""
    module = sys.modules.get("clvkit.valuation.clv")
    if module is not None and isinstance(values, module.ClvResult):
        values = values.clv
    x = as_float_array(values, "values", where)
    if x.shape[0] != len(assignment):
        raise InvalidInputError([Problem("values", f"has {x.shape[0]} rows but the assignment has "
                                                   f"{len(assignment)}", fix="Pass one value per assigned customer.")],
                                context=where)
    raise_if([row_problem(~np.isfinite(x), "values", "must be finite (no NaN or inf)", "Drop or fill them.")], where)
    return x
