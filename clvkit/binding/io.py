"""Reading binding tables from a directory of CSV or Parquet files, and the bundled synthetic sample.

A directory holds one file per table, named after it: ``employees``, ``contacts``, ``relationships`` and
``touchpoints`` (required), ``industry_ties``, ``projects``, ``project_members`` and ``customers``
(optional), each as ``.csv``, ``.csv.gz`` or ``.parquet``. Columns are the entity field names (see
:class:`~clvkit.binding.BindingData`). ``customers`` fixes the customers and their order and may carry
per-customer ``value`` (e.g. CLV from the valuation layer), ``key_customer`` (true/false) and ``tier``
(integer code) columns.

CSV is read with the standard library (pandas is not needed): empty cells are missing values, times are
ISO 8601 (with or without a UTC offset), levels are names or ranks, functions are names joined by ``|``.
Parquet needs pyarrow (the ``frames`` extra).
"""

from __future__ import annotations

import datetime as _dt
import math
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from .._csvio import FORMULA_PREFIXES, read_rows
from .._frames import require, to_columns
from ..errors import InvalidInputError, Problem
from ._columns import read_bool, read_times
from .data import BindingData

__all__ = ["B2B_SAMPLE_AS_OF", "B2B_SAMPLE_SEED", "BindingDataset", "ScoreValues", "load_b2b_sample",
           "read_binding_dir", "read_score_values"]

#: The date the bundled synthetic sample describes.
B2B_SAMPLE_AS_OF = _dt.datetime(2024, 12, 31, tzinfo=_dt.timezone.utc)
#: The seed :mod:`clvkit.binding._sample` drew the bundled sample from.
B2B_SAMPLE_SEED = 20241231

_REQUIRED = ("employees", "contacts", "relationships", "touchpoints")
_OPTIONAL = ("industry_ties", "projects", "project_members", "customers")


class BindingDataset(NamedTuple):
    """What :func:`read_binding_dir` and :func:`load_b2b_sample` return.

    Attributes
    ----------
    data:
        The validated :class:`BindingData`.
    values:
        Per-customer values in ``data.customer_ids`` order (the ``value`` column of ``customers``), or
        ``None``.
    key_customers:
        Boolean key-customer mask (the ``key_customer`` column), or ``None``.
    tiers:
        Integer tier codes (the ``tier`` column), or ``None``.
    """

    data: BindingData
    values: npt.NDArray[np.float64] | None
    key_customers: npt.NDArray[np.bool_] | None
    tiers: npt.NDArray[np.int64] | None


def _find(directory: Traversable, table: str) -> Traversable | None:
    for suffix in (".csv", ".csv.gz", ".parquet"):
        entry = directory.joinpath(table + suffix)
        if entry.is_file():
            return entry
    return None


def _read_csv(entry: Traversable) -> dict[str, npt.NDArray[Any]]:
    rows = read_rows(entry, where=f"The file {entry.name}")
    header = rows.pop(0) if rows else None
    if not header:
        raise InvalidInputError(f"The file {entry.name} is empty; it needs a header row with the column names.")
    short = [i + 2 for i, r in enumerate(rows) if len(r) != len(header)]
    if short:
        raise InvalidInputError(
            f"The file {entry.name} has rows whose number of cells differs from the header ({len(header)}): "
            f"lines {short[:5]}{' and more' if len(short) > 5 else ''}. Fix the quoting or the separators."
        )
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in header]
    return {name.strip(): np.array(col, dtype=str) for name, col in zip(header, columns, strict=True)}


def _read(entry: Traversable) -> Any:
    if entry.name.endswith(".parquet"):
        pq = require("pyarrow.parquet")
        return pq.read_table(str(entry))
    return _read_csv(entry)


def _customer_column(customers: Any, name: str) -> npt.NDArray[Any] | None:
    try:
        return to_columns(customers, [name], context="The 'customers' table")[name]
    except InvalidInputError:
        return None


def read_binding_dir(directory: str | Path | Traversable, *, as_of: Any = None) -> BindingDataset:
    r"""Read the binding tables of a directory (see the module docstring) into a :class:`BindingDataset`.

    Parameters
    ----------
    directory:
        The directory holding the files.
    as_of:
        The date described; by default the time of the latest touchpoint.

    Raises
    ------
    InvalidInputError
        When a required file is missing, a file is malformed, or the data fails validation.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     d = Path(tmp)
    ...     _ = (d / "employees.csv").write_text("employee_id,level,team\nE1,ACCOUNT_MANAGER,North\n")
    ...     _ = (d / "contacts.csv").write_text("contact_id,customer_id,org_level\nP1,C1,DECISION_MAKER\n")
    ...     _ = (d / "relationships.csv").write_text("employee_id,contact_id,strength,start,end\n"
    ...                                              "E1,P1,0.7,2023-01-01,\n")
    ...     _ = (d / "touchpoints.csv").write_text("customer_id,timestamp,employee_id,functions\n"
    ...                                            "C1,2024-06-01T10:00:00+02:00,E1,CARE|DEAL\n")
    ...     _ = (d / "customers.csv").write_text("customer_id,value\nC1,2500\n")
    ...     ds = read_binding_dir(d)
    >>> ds.data.as_of.isoformat(), ds.values.tolist()
    ('2024-06-01T08:00:00+00:00', [2500.0])
    """
    root: Traversable = Path(directory) if isinstance(directory, (str, Path)) else directory
    if not root.is_dir():
        raise InvalidInputError(f"The binding directory {directory} does not exist or is not a directory.")
    found = {table: _find(root, table) for table in _REQUIRED + _OPTIONAL}
    missing = [t for t in _REQUIRED if found[t] is None]
    if missing:
        raise InvalidInputError(
            f"The binding directory {directory} lacks {', '.join(f'{t}.csv' for t in missing)} (or .csv.gz / "
            f".parquet). It needs employees, contacts, relationships and touchpoints."
        )
    tables = {t: _read(entry) for t, entry in found.items() if entry is not None}
    if as_of is None:
        problems: list[Problem | None] = []
        stamps = to_columns(tables["touchpoints"], ["timestamp"], context="The 'touchpoints' table")["timestamp"]
        times = read_times(stamps, "touchpoints.timestamp", problems, required=True)
        if not np.isfinite(times).any():
            raise InvalidInputError("There are no readable touchpoint times to take as_of from; pass as_of.")
        as_of = float(np.nanmax(times))
    data = BindingData(as_of=as_of, **tables)
    customers = tables.get("customers")
    values = key = tiers = None
    if customers is not None:
        raw_values = _customer_column(customers, "value")
        if raw_values is not None:
            try:
                values = np.asarray(raw_values, dtype=np.float64)
            except ValueError:
                raise InvalidInputError("The 'value' column of the customers table must hold numbers.") from None
        raw_key = _customer_column(customers, "key_customer")
        if raw_key is not None:
            problems = []
            key = read_bool(raw_key, "customers.key_customer", problems, default=False)
            if any(problems):
                raise InvalidInputError([p for p in problems if p is not None], context="The 'customers' table")
        raw_tier = _customer_column(customers, "tier")
        if raw_tier is not None:
            try:
                tiers = np.asarray(raw_tier).astype(np.int64)
            except ValueError:
                raise InvalidInputError("The 'tier' column of the customers table must hold whole numbers.") from None
    return BindingDataset(data=data, values=values, key_customers=key, tiers=tiers)


def load_b2b_sample() -> BindingDataset:
    """The bundled **synthetic** B2B sample, as of 2024-12-31.

    60 invented customers with 258 contacts, 14 employees in 3 teams (one gone, one with an announced
    departure), 280 relationships (53 of them earlier, dated records of a tie; every one records its closeness,
    grade and pyramid stage), 1,500 touchpoints, industry ties, projects, and a synthetic per-customer
    ``value`` with tiers (1 = top fifth) and key customers (tier 1). Drawn by
    ``clvkit.binding._sample.generate_b2b``; no real company or person.

    Examples
    --------
    >>> sample = load_b2b_sample()
    >>> sample.data  # doctest: +NORMALIZE_WHITESPACE
    BindingData(as_of=2024-12-31T00:00:00+00:00, customers=60, employees=14, contacts=258,
                relationships=280, touchpoints=1500)
    >>> int(sample.key_customers.sum()), sample.values.shape
    (12, (60,))
    """
    return read_binding_dir(resources.files("clvkit").joinpath("data").joinpath("b2b_sample"), as_of=B2B_SAMPLE_AS_OF)


class ScoreValues(NamedTuple):
    """Per-customer values read from a ``clvkit score`` CSV by :func:`read_score_values`.

    Attributes
    ----------
    values:
        One value per customer of the binding data, in ``data.customer_ids`` order; 0 for a customer the file
        does not list (the stated rule: no score, no value at risk).
    column:
        The column read.
    matched:
        How many of the binding data's customers the file lists.
    missing:
        Customers of the binding data the file does not list (their value is 0).
    unknown:
        Ids of the file that are no customer of the binding data (ignored).
    """

    values: npt.NDArray[np.float64]
    column: str
    matched: int
    missing: int
    unknown: int


def _plain_id(cell: str) -> str:
    """An id as ``clvkit score`` wrote it, without the quote that guards a formula-like cell."""
    text = cell.strip()
    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_PREFIXES) else text


def read_score_values(path: str | Path, data: BindingData, *, column: str = "clv",
                      id_column: str = "customer_id") -> ScoreValues:
    r"""Customer values from a ``clvkit score`` CSV (``customer_id`` and ``clv`` columns), matched by id to ``data``.

    Rule for ids that do not match: customers of ``data`` the file does not list get the value 0 and are
    counted in ``missing``; ids of the file that are no customer of ``data`` are ignored and counted in
    ``unknown``. A file that matches no customer at all is an error (it is the wrong file).

    Raises
    ------
    InvalidInputError
        When the file is empty, lacks ``id_column`` or ``column``, repeats an id, holds a value that is not a
        finite number, or matches no customer.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> con = {"contact_id": ["P1", "P2"], "customer_id": ["C1", "C2"], "org_level": [1, 1]}
    >>> d = BindingData(employees=[], contacts=con, relationships=[], touchpoints=[], as_of="2024-01-01")
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     f = Path(tmp) / "scores.csv"
    ...     _ = f.write_text("customer_id,p_alive,clv\nC2,0.9,120.5\nC7,0.5,3\n")
    ...     sv = read_score_values(f, d)
    >>> sv.values.tolist(), sv.matched, sv.missing, sv.unknown
    ([0.0, 120.5], 1, 1, 1)
    """
    where = f"The values file {Path(path).name}"
    rows = read_rows(Path(path), where=where)
    header = [h.strip() for h in rows.pop(0)] if rows else []
    if not header:
        raise InvalidInputError(f"{where} is empty; it needs a header row with '{id_column}' and '{column}'.")
    lacking = [c for c in (id_column, column) if c not in header]
    if lacking:
        raise InvalidInputError(f"{where} lacks the column(s) {lacking}; its columns are {header}. Pass the value "
                                "column with --value-column (e.g. clv) and write the file with 'clvkit score'.")
    i_id, i_v = header.index(id_column), header.index(column)
    by_id: dict[str, float] = {}
    for line, row in enumerate(rows, start=2):
        if len(row) != len(header):
            raise InvalidInputError(f"{where}: line {line} has {len(row)} cells, the header {len(header)}.")
        cid = _plain_id(row[i_id])
        if not cid:
            raise InvalidInputError(f"{where}: line {line} has no '{id_column}'. Give every row its id.")
        try:
            value = float(row[i_v])
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            raise InvalidInputError(f"{where}: the '{column}' of {cid!r} (line {line}) is {row[i_v]!r}, not a finite "
                                    "number. Fix or drop the row.")
        if cid in by_id:
            raise InvalidInputError(f"{where}: the id {cid!r} appears twice (line {line}). Keep one row per customer.")
        by_id[cid] = value
    ids = [str(x) for x in data.customer_ids.tolist()]
    known = set(ids)
    values = np.array([by_id.get(cid, 0.0) for cid in ids], dtype=np.float64)
    matched = sum(1 for cid in ids if cid in by_id)
    if ids and by_id and matched == 0:
        raise InvalidInputError(
            f"{where} lists {len(by_id)} customers, none of them a customer of the binding data (e.g. "
            f"{next(iter(by_id))!r} against {ids[0]!r}). Pass the scores of the same customers.")
    unknown = sum(1 for cid in by_id if cid not in known)
    return ScoreValues(values=values, column=column, matched=matched, missing=len(ids) - matched, unknown=unknown)
