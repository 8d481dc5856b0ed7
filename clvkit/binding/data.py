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
from ..domain import AccountManagerLevel, Channel, OrgLevel, TouchpointFunction
from ..errors import InvalidInputError, Problem
from ._coded import Coded, index_pairs
from ._columns import (
    IdDict,
    id_problem,
    read_bool,
    read_choice,
    read_functions,
    read_ids,
    read_ladder,
    read_strength,
    read_times,
)
from ._tables import TABLES, Columns, n_rows, read_table
from .entities import IndustryTieKind

__all__ = ["BindingData"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
_UTC = _dt.timezone.utc


def _read_as_of(as_of: Any) -> float:
    problems: list[Problem | None] = []
    value = read_times(np.array([as_of], dtype=object), "as_of", problems, required=True)[0]
    if not math.isfinite(value):
        raise InvalidInputError(
            f"The 'as_of' parameter of BindingData must be a datetime, date, numpy.datetime64 or ISO 8601 "
            f"string. Got {as_of!r} instead."
        )
    return float(value)


def _get(cols: Columns | None, name: str, n: int, fill: Any) -> npt.NDArray[Any]:
    """The column, or a typed array of ``fill`` when the table lacks it (so the readers take a fast path)."""
    if cols is not None and name in cols:
        return cols[name]
    return np.full(n, fill)


def _opt_ids(cols: Columns | None, name: str, n: int, column: str, p: list[Problem | None]
             ) -> tuple[npt.NDArray[Any], npt.NDArray[np.bool_]]:
    if cols is not None and name in cols:
        return read_ids(cols[name], column, p, required=False)
    return np.full(n, "", dtype="U1"), np.ones(n, dtype=bool)


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
        The date the measures describe (aware ``datetime``, ``date``, ``datetime64`` or ISO string; naive
        values are read as UTC). No touchpoint may lie after it.
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
        self._c = _build(t, _read_as_of(as_of))

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
        t = _read_as_of(as_of)
        c = self._c
        future = c.tp_time > t
        if future.any() and not drop_future:
            raise_if([_future_problem(future, c.customer_ids[c.tp_customer], c.employee_ids[c.tp_employee], None,
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


def _future_problem(future: npt.NDArray[np.bool_], customers: npt.NDArray[Any], employees: npt.NDArray[Any],
                    tp_ids: npt.NDArray[Any] | None, as_of: float) -> Problem | None:
    labels = {"customer_id": customers, "employee_id": employees}
    if tp_ids is not None:
        labels = {"touchpoint_id": tp_ids, **labels}
    when = _dt.datetime.fromtimestamp(as_of, tz=_UTC).isoformat()
    return id_problem(future, "touchpoints.timestamp", f"is after as_of ({when})",
                      "A touchpoint cannot lie in the future of the date described: pass a later as_of, or "
                      "fix the time (time zone?).", labels)


def _end_problem(start: FloatArray, end: FloatArray, table: str, labels: Mapping[str, Any]) -> Problem | None:
    return id_problem(end < start, f"{table}.end", "is before start",
                      "Swap start and end if they were entered the wrong way round, or leave end empty while "
                      "ongoing.", labels)


def _build(t: Mapping[str, Columns | None], as_of: float) -> Coded:
    p: list[Problem | None] = []
    emp, con, rel, tp = t["employees"], t["contacts"], t["relationships"], t["touchpoints"]
    ties, prj, mem, cus = t["industry_ties"], t["projects"], t["project_members"], t["customers"]
    assert emp is not None and con is not None and rel is not None and tp is not None

    # employees and contacts define their ids
    emp_raw, _ = read_ids(emp["employee_id"], "employees.employee_id", p)
    emp_dict, emp_rows = IdDict.from_table(emp_raw, "employees.employee_id", p)
    n_emp_rows = emp_raw.shape[0]
    order = np.argsort(emp_rows, kind="stable")  # table rows in employee-code order

    def by_code(a: npt.NDArray[Any]) -> npt.NDArray[Any]:
        out = np.empty((len(emp_dict), *a.shape[1:]), dtype=a.dtype)
        out[emp_rows[order]] = a[order]
        return out

    level = by_code(read_ladder(emp["level"], AccountManagerLevel, "employees.level", p, required=True))
    team_raw, team_missing = _opt_ids(emp, "team", n_emp_rows, "employees.team", p)
    team_names = np.unique(team_raw[~team_missing])
    team_code = np.where(team_missing, -1, np.searchsorted(team_names, team_raw)).astype(np.int64)
    active = by_code(read_bool(_get(emp, "active", n_emp_rows, True), "employees.active", p, default=True))
    left_at = read_times(_get(emp, "left_at", n_emp_rows, np.nan), "employees.left_at", p, required=False)
    left_at = by_code(np.where(np.isnan(left_at), np.inf, left_at))

    con_raw, _ = read_ids(con["contact_id"], "contacts.contact_id", p)
    con_dict, con_rows = IdDict.from_table(con_raw, "contacts.contact_id", p)
    con_order = np.argsort(con_rows, kind="stable")
    con_cust_raw, _ = read_ids(con["customer_id"], "contacts.customer_id", p)
    con_level = read_ladder(con["org_level"], OrgLevel, "contacts.org_level", p, required=True)
    n_con_rows = con_raw.shape[0]
    con_succ = read_bool(_get(con, "is_successor", n_con_rows, False), "contacts.is_successor", p, default=False)

    rel_emp_raw, _ = read_ids(rel["employee_id"], "relationships.employee_id", p)
    rel_con_raw, _ = read_ids(rel["contact_id"], "relationships.contact_id", p)
    n_rel = rel_emp_raw.shape[0]
    rel_cust_raw, rel_cust_missing = _opt_ids(rel, "customer_id", n_rel, "relationships.customer_id", p)
    tp_cust_raw, _ = read_ids(tp["customer_id"], "touchpoints.customer_id", p)
    tp_emp_raw, _ = read_ids(tp["employee_id"], "touchpoints.employee_id", p)
    n_tp = tp_cust_raw.shape[0]
    tp_con_raw, tp_con_missing = _opt_ids(tp, "contact_id", n_tp, "touchpoints.contact_id", p)
    tp_ids = tp.get("touchpoint_id")
    tie_cust_raw, _ = read_ids(ties["customer_id"], "industry_ties.customer_id", p) if ties else (
        np.zeros(0, dtype=str), None)
    prj_cust_raw, _ = read_ids(prj["customer_id"], "projects.customer_id", p) if prj else (np.zeros(0, dtype=str),
                                                                                         None)

    # customers: given (order kept) or every one referenced (sorted)
    if cus is not None:
        cus_raw, _ = read_ids(cus["customer_id"], "customers.customer_id", p)
        cus_dict, _ = IdDict.from_table(cus_raw, "customers.customer_id", p, keep_order=True)
    else:
        parts = [a for a in (con_cust_raw, rel_cust_raw[~rel_cust_missing], tp_cust_raw, tie_cust_raw, prj_cust_raw)
                 if a.size]  # an empty string array would turn integer ids into strings
        kinds = {a.dtype.kind for a in parts}
        parts = [a.astype(str) for a in parts] if len(kinds) > 1 else parts
        cus_dict = IdDict(np.unique(np.concatenate(parts)) if kinds else np.zeros(0, dtype=str))

    def code_of(d: IdDict, raw: npt.NDArray[Any], column: str, what: str, labels: Mapping[str, Any],
                missing: npt.NDArray[np.bool_] | None = None) -> IntArray:
        codes, unknown = d.code(raw)
        if missing is not None:
            unknown &= ~missing
            codes[missing] = -1
        p.append(id_problem(unknown, column, f"is not {what}", f"Add it to the {what.split()[-2]} table or fix "
                            "the id.", labels))
        return codes

    con_cust = code_of(cus_dict, con_cust_raw, "contacts.customer_id", "a customer in the customers table",
                       {"contact_id": con_raw, "customer_id": con_cust_raw})[con_order]
    con_level, con_succ = con_level[con_order], con_succ[con_order]

    rel_labels = {"employee_id": rel_emp_raw, "contact_id": rel_con_raw}
    rel_emp = code_of(emp_dict, rel_emp_raw, "relationships.employee_id", "an employee in the employees table",
                      rel_labels)
    rel_con = code_of(con_dict, rel_con_raw, "relationships.contact_id", "a contact in the contacts table",
                      rel_labels)
    rel_cust = np.where(rel_con >= 0, con_cust[np.maximum(rel_con, 0)] if con_cust.size else -1, -1)
    if "customer_id" in rel:
        stated = code_of(cus_dict, rel_cust_raw, "relationships.customer_id", "a customer in the customers table",
                         {**rel_labels, "customer_id": rel_cust_raw}, rel_cust_missing)
        p.append(id_problem((stated >= 0) & (rel_con >= 0) & (stated != rel_cust), "relationships.customer_id",
                            "differs from the customer of the contact", "Fix the contact or the customer id.",
                            {**rel_labels, "customer_id": rel_cust_raw}))
    strength = read_strength(rel["strength"], "relationships.strength", p)
    rel_start = read_times(rel["start"], "relationships.start", p, required=True)
    rel_end = read_times(_get(rel, "end", n_rel, np.nan), "relationships.end", p, required=False)
    rel_end = np.where(np.isnan(rel_end), np.inf, rel_end)
    p.append(_end_problem(rel_start, rel_end, "relationships", rel_labels))
    rel_elevel = read_ladder(_get(rel, "employee_level", n_rel, 0), AccountManagerLevel,
                             "relationships.employee_level", p, required=False)
    rel_clevel = read_ladder(_get(rel, "contact_level", n_rel, 0), OrgLevel, "relationships.contact_level",
                             p, required=False)
    ok_e, ok_c = rel_emp >= 0, rel_con >= 0
    rel_elevel = np.where((rel_elevel == 0) & ok_e, level[np.maximum(rel_emp, 0)] if level.size else 0, rel_elevel)
    rel_clevel = np.where((rel_clevel == 0) & ok_c, con_level[np.maximum(rel_con, 0)] if con_level.size else 0,
                          rel_clevel)

    tp_labels = {"customer_id": tp_cust_raw, "employee_id": tp_emp_raw}
    if tp_ids is not None:
        tp_labels = {"touchpoint_id": tp_ids, **tp_labels}
    tp_cust = code_of(cus_dict, tp_cust_raw, "touchpoints.customer_id", "a customer in the customers table",
                      tp_labels)
    tp_emp = code_of(emp_dict, tp_emp_raw, "touchpoints.employee_id", "an employee in the employees table",
                     tp_labels)
    tp_con = code_of(con_dict, tp_con_raw, "touchpoints.contact_id", "a contact in the contacts table",
                     {**tp_labels, "contact_id": tp_con_raw}, tp_con_missing)
    p.append(id_problem((tp_con >= 0) & (tp_cust >= 0) & (con_cust[np.maximum(tp_con, 0)] != tp_cust)
                        if con_cust.size else np.zeros(n_tp, dtype=bool), "touchpoints.contact_id",
                        "belongs to another customer", "Fix the contact or the customer id.",
                        {**tp_labels, "contact_id": tp_con_raw}))
    tp_time = read_times(tp["timestamp"], "touchpoints.timestamp", p, required=True)
    p.append(_future_problem(tp_time > as_of, tp_cust_raw, tp_emp_raw, tp_ids, as_of))
    channel = read_choice(tp["channel"], Channel, "touchpoints.channel", p) if "channel" in tp \
        else np.full(n_tp, -1, dtype=np.int8)
    functions = read_functions(tp["functions"], TouchpointFunction, "touchpoints.functions", p) \
        if "functions" in tp else np.zeros(n_tp, dtype=np.int64)

    n_tie = n_rows(ties)
    tie_labels = {"customer_id": tie_cust_raw}
    tie_cust = code_of(cus_dict, tie_cust_raw, "industry_ties.customer_id", "a customer in the customers table",
                       tie_labels)
    tie_kind = read_choice(ties["kind"], IndustryTieKind, "industry_ties.kind", p) if ties \
        else np.zeros(0, dtype=np.int8)
    tie_start = read_times(_get(ties, "start", n_tie, np.nan), "industry_ties.start", p, required=False)
    tie_end = read_times(_get(ties, "end", n_tie, np.nan), "industry_ties.end", p, required=False)
    tie_start, tie_end = np.where(np.isnan(tie_start), -np.inf, tie_start), np.where(np.isnan(tie_end), np.inf,
                                                                                    tie_end)
    p.append(_end_problem(tie_start, tie_end, "industry_ties", tie_labels))

    n_prj = n_rows(prj)
    prj_raw, _ = read_ids(prj["project_id"], "projects.project_id", p) if prj else (np.zeros(0, dtype=str), None)
    prj_dict, prj_rows = IdDict.from_table(prj_raw, "projects.project_id", p)
    prj_order = np.argsort(prj_rows, kind="stable")
    prj_labels = {"project_id": prj_raw, "customer_id": prj_cust_raw}
    prj_cust = code_of(cus_dict, prj_cust_raw, "projects.customer_id", "a customer in the customers table",
                       prj_labels)
    prj_start = read_times(prj["start"], "projects.start", p, required=True) if prj else np.zeros(0)
    prj_end = read_times(_get(prj, "end", n_prj, np.nan), "projects.end", p, required=False)
    prj_end = np.where(np.isnan(prj_end), np.inf, prj_end)
    p.append(_end_problem(prj_start, prj_end, "projects", prj_labels))

    mem_prj_raw, _ = read_ids(mem["project_id"], "project_members.project_id", p) if mem else (
        np.zeros(0, dtype=str), None)
    mem_emp_raw, _ = read_ids(mem["employee_id"], "project_members.employee_id", p) if mem else (
        np.zeros(0, dtype=str), None)
    mem_labels = {"project_id": mem_prj_raw, "employee_id": mem_emp_raw}
    mem_prj = code_of(prj_dict, mem_prj_raw, "project_members.project_id", "a project in the projects table",
                      mem_labels)
    mem_emp = code_of(emp_dict, mem_emp_raw, "project_members.employee_id", "an employee in the employees table",
                      mem_labels)
    raise_if(p, "BindingData")

    return index_pairs(Coded(
        as_of=as_of, customer_ids=cus_dict.ids, employee_ids=emp_dict.ids, contact_ids=con_dict.ids,
        team_names=team_names, project_ids=prj_dict.ids,
        employee_level=level, employee_team=by_code(team_code), employee_active=active, employee_left_at=left_at,
        contact_customer=con_cust, contact_level=con_level, contact_is_successor=con_succ,
        rel_employee=rel_emp, rel_contact=rel_con, rel_customer=rel_cust.astype(np.int64), rel_strength=strength,
        rel_start=rel_start, rel_end=rel_end, rel_employee_level=rel_elevel.astype(np.int8),
        rel_contact_level=rel_clevel.astype(np.int8),
        tp_customer=tp_cust, tp_employee=tp_emp, tp_contact=tp_con, tp_time=tp_time, tp_channel=channel,
        tp_functions=functions,
        tie_customer=tie_cust, tie_kind=tie_kind, tie_start=tie_start, tie_end=tie_end,
        project_customer=prj_cust[prj_order], project_start=prj_start[prj_order],
        project_end=prj_end[prj_order], member_project=mem_prj, member_employee=mem_emp,
    ))
