"""The columnar binding batch: people, relationships, touchpoints, industry ties and projects, as of a date.

:class:`BindingData` is built once, at the boundary, from entity lists or from frames (pandas, polars,
pyarrow or mappings of column arrays, with the entity field names as column names). It validates every
cross-reference and date on construction, reports all problems in one
:class:`~clvkit.errors.InvalidInputError` that names the offending ids, and stores integer-coded,
read-only numpy arrays that the scoring kernels read without further checks.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from .._validation import raise_if
from ..errors import InvalidInputError, Problem
from ._build import build, future_problem, read_as_of
from ._coded import Coded
from ._columns import IdDict, id_problem, read_ids
from ._tables import TABLES, read_table

__all__ = ["BindingData"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
_UTC = _dt.timezone.utc


class BindingData:
    """Everything binding measures need, validated once and stored as integer-coded numpy arrays.

    Parameters
    ----------
    employees:
        Our people: ``employee_id``, ``level`` (:class:`~clvkit.domain.AccountManagerLevel`), optional
        ``team``, ``active`` (default true) and ``left_at``.
    contacts:
        The customers' people: ``contact_id``, ``customer_id``, ``org_level``
        (:class:`~clvkit.domain.OrgLevel`), optional ``is_successor``.
    relationships:
        ``employee_id``, ``contact_id``, ``strength`` in [0, 1], ``start``, optional ``end`` (empty:
        ongoing), ``customer_id`` (checked against the contact's), ``employee_level`` and
        ``contact_level`` (levels in this relationship; default: the employee's and the contact's).
    touchpoints:
        ``customer_id``, ``timestamp``, ``employee_id``, optional ``contact_id``, ``channel``,
        ``functions`` (bit value or names such as ``"CARE|DEAL"``) and ``touchpoint_id``.
    as_of:
        The instant the measures describe (aware ``datetime``, ``date``, ``datetime64`` or ISO string; naive
        values are read as UTC, and a bare date means its start, midnight UTC). No touchpoint may lie
        after it.
    industry_ties, projects, project_members:
        Optional :class:`IndustryTie`, :class:`Project` and :class:`ProjectMember` tables.
    customers:
        Optional customer ids (or :class:`~clvkit.domain.Customer` entities, or a table with a
        ``customer_id`` column) fixing the customers and their order - e.g. the order of a value array
        from the valuation layer. Default: every customer referenced, sorted.

    Each table is a pandas or polars DataFrame, a pyarrow Table, a mapping of column name to array, or a
    list of the matching entities. Times in frames may be ``datetime64`` (naive = UTC), datetimes, dates
    or ISO 8601 strings.

    Notes
    -----
    An employee is *present* at ``as_of`` when ``left_at`` is after ``as_of``, or, without ``left_at``,
    when ``active`` is true. Relationships and touchpoints of employees who are not present do not bind
    a customer any more; their touchpoints still count for the recency of the company's contact.

    Raises
    ------
    InvalidInputError
        Listing every problem at once - unknown employees, contacts, customers or projects, a relationship
        whose ``customer_id`` differs from its contact's, ``end`` before ``start``, touchpoints after
        ``as_of``, duplicate ids, missing or unreadable values - with the offending rows and their ids.

    Examples
    --------
    >>> emp = {"employee_id": ["E1", "E2"], "level": ["account_manager", "sales_rep"]}
    >>> con = {"contact_id": ["P1", "P2"], "customer_id": ["C1", "C1"], "org_level": ["decision_maker", "user"]}
    >>> rel = {"employee_id": ["E1", "E2"], "contact_id": ["P1", "P2"], "strength": [0.8, 0.5],
    ...        "start": ["2023-01-01", "2023-06-01"]}
    >>> tp = {"customer_id": ["C1", "C1"], "timestamp": ["2024-05-01", "2024-06-01"], "employee_id": ["E1", "E1"]}
    >>> data = BindingData(employees=emp, contacts=con, relationships=rel, touchpoints=tp, as_of="2024-06-30")
    >>> data
    BindingData(as_of=2024-06-30T00:00:00+00:00, customers=1, employees=2, contacts=2, relationships=2, touchpoints=2)
    >>> bad = dict(rel, employee_id=["E1", "E9"])
    >>> BindingData(employees=emp, contacts=con, relationships=bad, touchpoints=tp, as_of="2024-06-30")
    ... # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    clvkit.errors.InvalidInputError: BindingData has 1 problem:
      - 'relationships.employee_id': is not an employee ... first at row 1 (employee_id='E9', contact_id='P2'))...
    """

    __slots__ = ("_c",)

    def __init__(self, *, employees: Any, contacts: Any, relationships: Any, touchpoints: Any, as_of: Any,
                 industry_ties: Any = None, projects: Any = None, project_members: Any = None,
                 customers: Any = None) -> None:
        t = {name: read_table(table, TABLES[name]) for name, table in (
            ("employees", employees), ("contacts", contacts), ("relationships", relationships),
            ("touchpoints", touchpoints), ("industry_ties", industry_ties), ("projects", projects),
            ("project_members", project_members), ("customers", customers))}
        for name in ("employees", "contacts", "relationships", "touchpoints"):
            if t[name] is None:
                raise InvalidInputError(f"BindingData needs the '{name}' table. Got None; pass an empty list "
                                        "if there are none.")
        self._c = build(t, read_as_of(as_of))

    @classmethod
    def _from_coded(cls, coded: Coded) -> BindingData:
        out = object.__new__(cls)
        out._c = coded
        return out

    @classmethod
    def from_entities(cls, employees: Iterable[Any], contacts: Iterable[Any], relationships: Iterable[Any],
                      touchpoints: Iterable[Any], *, as_of: Any, industry_ties: Iterable[Any] = (),
                      projects: Iterable[Any] = (), project_members: Iterable[Any] = (),
                      customers: Iterable[Any] | None = None) -> BindingData:
        """Build from lists of domain entities (the same as passing the lists to the constructor)."""
        return cls(employees=list(employees), contacts=list(contacts), relationships=list(relationships),
                   touchpoints=list(touchpoints), as_of=as_of, industry_ties=list(industry_ties),
                   projects=list(projects), project_members=list(project_members),
                   customers=None if customers is None else list(customers))

    # ------------------------------------------------------------------ attributes
    @property
    def as_of(self) -> _dt.datetime:
        """The date the data describes (UTC)."""
        return _dt.datetime.fromtimestamp(self._c.as_of, tz=_UTC)

    @property
    def customer_ids(self) -> npt.NDArray[Any]:
        """Customer ids, shape (n_customers,); every per-customer result follows this order."""
        return self._c.customer_ids

    @property
    def employee_ids(self) -> npt.NDArray[Any]:
        """Employee ids (sorted), shape (n_employees,)."""
        return self._c.employee_ids

    @property
    def employee_team(self) -> npt.NDArray[Any]:
        """Each employee's team name (``""`` when none), shape (n_employees,)."""
        names = np.append(self._c.team_names.astype(str), "")
        return names[self._c.employee_team]

    @property
    def employee_present(self) -> npt.NDArray[np.bool_]:
        """Whether each employee still works for the company at :attr:`as_of`."""
        return self._c.employee_present()

    @property
    def contact_ids(self) -> npt.NDArray[Any]:
        """Contact ids (sorted), shape (n_contacts,)."""
        return self._c.contact_ids

    @property
    def n_customers(self) -> int:
        """Number of customers."""
        return self._c.n_customers

    def __len__(self) -> int:
        return self._c.n_customers

    def __repr__(self) -> str:
        c = self._c
        return (f"BindingData(as_of={self.as_of.isoformat()}, customers={c.n_customers}, "
                f"employees={c.n_employees}, contacts={c.contact_ids.shape[0]}, "
                f"relationships={c.rel_employee.shape[0]}, touchpoints={c.tp_time.shape[0]})")

    def customer_index(self, ids: Any) -> IntArray:
        """Positions of ``ids`` in :attr:`customer_ids`; raises naming the unknown ids."""
        return _positions(self._c.customer_ids, ids, "customer_id", "customer")

    def employee_index(self, ids: Any) -> IntArray:
        """Positions of ``ids`` in :attr:`employee_ids`; raises naming the unknown ids."""
        return _positions(self._c.employee_ids, ids, "employee_id", "employee")

    def align(self, values: Mapping[Any, float], *, fill: float = 0.0) -> FloatArray:
        """Per-customer values given by id, as an array in :attr:`customer_ids` order (``fill`` if absent).

        Examples
        --------
        >>> emp = {"employee_id": ["E1"], "level": [3]}
        >>> con = {"contact_id": ["P1", "P2"], "customer_id": ["C2", "C1"], "org_level": [1, 1]}
        >>> d = BindingData(employees=emp, contacts=con, relationships=[], touchpoints=[], as_of="2024-01-01")
        >>> d.customer_ids.tolist(), d.align({"C2": 5.0}).tolist()
        (['C1', 'C2'], [0.0, 5.0])
        """
        if not isinstance(values, Mapping):
            raise InvalidInputError(f"The 'values' parameter of BindingData.align() must be a mapping of customer id "
                                    f"to value. Got {type(values).__name__} instead.")
        def number(v: Any) -> bool:
            return not isinstance(v, (bool, np.bool_)) and isinstance(v, (int, float, np.integer, np.floating)) \
                and math.isfinite(float(v))

        bad = [k for k, v in values.items() if not number(v)]
        if bad or not number(fill):
            what = f"value for {bad[0]!r}: {values[bad[0]]!r}" if bad else f"fill: {fill!r}"
            raise InvalidInputError(f"BindingData.align() takes finite real numbers. Got the {what}.")
        out = np.full(self.n_customers, float(fill))
        if values:
            keys = list(values.keys())
            out[self.customer_index(np.asarray(keys))] = np.asarray([values[k] for k in keys], dtype=np.float64)
        return out

    def with_as_of(self, as_of: Any, *, drop_future: bool = False) -> BindingData:
        """The same data described at another date.

        Touchpoints after the new date are an error unless ``drop_future`` is true, which drops them (for
        back-testing at an earlier date). Relationships, ties and projects starting later are kept; they
        are simply not active yet.
        """
        t = read_as_of(as_of)
        c = self._c
        future = c.tp_time > t
        if future.any() and not drop_future:
            raise_if([future_problem(future, c.customer_ids[c.tp_customer], c.employee_ids[c.tp_employee], None,
                                      t)], "BindingData")
        keep = ~future
        return BindingData._from_coded(c.replace(as_of=t, **{
            name: getattr(c, name)[keep]
            for name in ("tp_customer", "tp_employee", "tp_contact", "tp_time", "tp_channel", "tp_functions")}))


def _positions(table: npt.NDArray[Any], ids: Any, column: str, what: str) -> IntArray:
    problems: list[Problem | None] = []
    raw, _ = read_ids(np.asarray(ids).reshape(-1), column, problems)
    codes, unknown = IdDict(table, keep_order=True).code(raw)
    raise_if([id_problem(unknown, column, f"is not a known {what}", f"Pass ids of {what}s in the data.",
                         {column: raw})], "BindingData")
    return codes
