"""The input tables of :class:`~clvkit.binding.BindingData`: their columns, and how they are read.

A table is any frame :func:`clvkit._frames.to_columns` reads (pandas, polars, pyarrow, a mapping of
column name to array) or a list of the matching entities. Column names are the entity field names, so
``pandas.DataFrame([r.model_dump() for r in relationships])`` is a valid relationships table.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel

from .._frames import frame_kind, to_columns
from ..domain import Contact, Customer, Employee, Relationship, Touchpoint
from ..errors import InvalidInputError
from .entities import IndustryTie, Project, ProjectMember

__all__ = ["TABLES", "TableSpec", "n_rows", "read_table"]

Columns = dict[str, npt.NDArray[Any]]


class TableSpec:
    """Name, entity type, required and optional columns of one input table."""

    def __init__(self, name: str, entity: type[BaseModel], required: tuple[str, ...],
                 optional: tuple[str, ...]) -> None:
        self.name, self.entity, self.required, self.optional = name, entity, required, optional


#: The tables, in the order they are read. Optional columns may be left out of a frame.
TABLES: dict[str, TableSpec] = {
    spec.name: spec
    for spec in (
        TableSpec("employees", Employee, ("employee_id", "level"), ("team", "active", "left_at")),
        TableSpec("contacts", Contact, ("contact_id", "customer_id", "org_level"), ("is_successor",)),
        TableSpec("relationships", Relationship, ("employee_id", "contact_id", "start"),
                  ("strength", "customer_id", "employee_level", "contact_level", "end", "closeness", "grade",
                   "pyramid_stage")),
        TableSpec("touchpoints", Touchpoint, ("customer_id", "timestamp", "employee_id"),
                  ("touchpoint_id", "contact_id", "channel", "functions")),
        TableSpec("industry_ties", IndustryTie, ("customer_id", "kind"), ("start", "end")),
        TableSpec("projects", Project, ("project_id", "customer_id", "start"), ("end",)),
        TableSpec("project_members", ProjectMember, ("project_id", "employee_id"), ()),
        TableSpec("customers", Customer, ("customer_id",), ()),
    )
}


def _column_names(frame: Any) -> list[str]:
    kind = frame_kind(frame)
    if kind in ("pandas", "polars"):
        return [str(c) for c in frame.columns]
    if kind == "pyarrow":
        return list(frame.column_names)
    if kind == "mapping":
        return [str(k) for k in frame.keys()]
    return []


def _entity_columns(rows: list[Any], spec: TableSpec) -> Columns:
    wrong = [i for i, r in enumerate(rows) if not isinstance(r, spec.entity)]
    if wrong:
        raise InvalidInputError(
            f"The '{spec.name}' table must be a frame or a list of {spec.entity.__name__} entities. "
            f"Got {type(rows[wrong[0]]).__name__} at position {wrong[0]} ({len(wrong)} such items)."
        )
    out: Columns = {}
    for name in spec.required + spec.optional:
        values = [getattr(r, name) for r in rows]
        if name == "functions":
            out[name] = np.array([int(v.value) for v in values], dtype=np.int64)
        else:
            arr = np.empty(len(values), dtype=object)
            arr[:] = values
            out[name] = arr
    return out


def read_table(table: Any, spec: TableSpec) -> Columns | None:
    """The columns of one table (required ones and the optional ones present), or ``None`` if absent.

    Raises
    ------
    InvalidInputError
        When a required column is missing (listing all of them) or the table has an unsupported type.
    """
    if table is None:
        return None
    if isinstance(table, (list, tuple)) or (not frame_kind(table) and isinstance(table, Iterable)):
        rows = list(table)
        if spec.name == "customers" and all(isinstance(r, (str, int, np.integer)) for r in rows):
            return {"customer_id": np.asarray(rows)}
        return _entity_columns(rows, spec)
    available = set(_column_names(table))
    names = list(spec.required) + [c for c in spec.optional if c in available]
    columns = {c: _one_cell_per_row(v) for c, v in to_columns(table, names, context=f"The '{spec.name}' table").items()}
    lengths = {c: int(np.shape(v)[0]) if np.ndim(v) else 1 for c, v in columns.items()}
    if len(set(lengths.values())) > 1:
        raise InvalidInputError(
            f"The columns of the '{spec.name}' table must have one length. Got {lengths} instead."
        )
    return columns


def _one_cell_per_row(values: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """A column of shape (n, k, ...) - lists of equal length in the cells - as n objects (tuples), one per row.

    numpy reads ``[["CARE", "DEAL"], ["CARE", "SALE"]]`` as a 2-D array; flattened, it would count four rows.
    """
    if values.ndim <= 1:
        return values
    out = np.empty(values.shape[0], dtype=object)
    for i, row in enumerate(values.tolist()):
        out[i] = tuple(row) if isinstance(row, list) else row
    return out


def n_rows(columns: Mapping[str, npt.NDArray[Any]] | None) -> int:
    """Number of rows of a table read by :func:`read_table` (0 when absent)."""
    if not columns:
        return 0
    first = next(iter(columns.values()))
    return int(np.shape(first)[0]) if np.ndim(first) else 1
