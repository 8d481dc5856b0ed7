"""Reading and cross-checking the input tables into :class:`~clvkit.binding._coded.Coded` arrays.

:func:`build` is the one pass behind :class:`~clvkit.binding.BindingData`: it reads every column of every
table (:mod:`clvkit.binding._columns`), codes the ids against the employees, contacts, customers and
projects tables, checks every cross-reference and date, and raises one
:class:`~clvkit.errors.InvalidInputError` listing all problems with the ids of the offending rows.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Mapping
from typing import Any, NamedTuple

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
from ._tables import Columns, n_rows
from .entities import IndustryTieKind
from .ladders import CHINESE_RUNGS, LADDERS

__all__ = ["build", "future_problem", "read_as_of"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
Fields = dict[str, npt.NDArray[Any]]
_UTC = _dt.timezone.utc


#: The instants a ``datetime`` can show (``as_of`` is shown and compared as one): years 1 to 9999, UTC.
_AS_OF_RANGE = (_dt.datetime(1, 1, 2, tzinfo=_UTC).timestamp(), _dt.datetime(9999, 12, 31, tzinfo=_UTC).timestamp())


def read_as_of(as_of: Any) -> float:
    problems: list[Problem | None] = []
    scalar = not isinstance(as_of, (list, tuple, dict, set, frozenset)) and np.ndim(as_of) == 0
    cell = np.empty(1, dtype=object)
    cell[0] = as_of
    value = read_times(cell, "as_of", problems, required=True)[0] if scalar else math.nan
    if not (_AS_OF_RANGE[0] <= value <= _AS_OF_RANGE[1]):  # NaN too
        # (a number of POSIX seconds such as 1e20 is readable but lies past the year 9999)
        raise InvalidInputError(
            f"The 'as_of' parameter of BindingData must be one datetime, date, numpy.datetime64 or ISO 8601 "
            f"string between the years 1 and 9999. Got {as_of!r} instead."
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

def future_problem(future: npt.NDArray[np.bool_], customers: npt.NDArray[Any], employees: npt.NDArray[Any],
                    tp_ids: npt.NDArray[Any] | None, as_of: float) -> Problem | None:
    labels = _touchpoint_labels(customers, employees, tp_ids)
    when = _dt.datetime.fromtimestamp(as_of, tz=_UTC).isoformat()
    return id_problem(future, "touchpoints.timestamp", f"is after as_of ({when})",
                      "A touchpoint cannot lie in the future of the date described: pass a later as_of, or "
                      "fix the time (time zone?).", labels)


def _touchpoint_labels(customers: npt.NDArray[Any], employees: npt.NDArray[Any],
                       tp_ids: npt.NDArray[Any] | None) -> dict[str, Any]:
    """How a touchpoint is named in a problem: its id when the table has one, its customer and employee."""
    labels = {"customer_id": customers, "employee_id": employees}
    return labels if tp_ids is None else {"touchpoint_id": tp_ids, **labels}


def _end_problem(start: FloatArray, end: FloatArray, table: str, labels: Mapping[str, Any]) -> Problem | None:
    return id_problem(end < start, f"{table}.end", "is before start",
                      "Swap start and end if they were entered the wrong way round, or leave end empty while "
                      "ongoing.", labels)


def build(t: Mapping[str, Columns | None], as_of: float) -> Coded:
    p: list[Problem | None] = []
    emp, con, rel, tp = t["employees"], t["contacts"], t["relationships"], t["touchpoints"]
    ties, prj, mem, cus = t["industry_ties"], t["projects"], t["project_members"], t["customers"]
    assert emp is not None and con is not None and rel is not None and tp is not None

    # Employees and contacts define their ids. Without a customers table the customers are every id referenced,
    # so all columns that refer to other tables are read before any is coded (their problems are listed first).
    emp_dict, emp_fields = _employees(emp, p)
    contacts = _read_contacts(con, p)
    refs = _read_references(rel, tp, ties, prj, p)
    code = _Coder(p, _customer_dict(cus, contacts.customer_raw, refs, p), emp_dict, contacts.ids)
    con_fields = _code_contacts(contacts, code)
    contact_customer = con_fields["contact_customer"]
    rel_fields = _relationships(rel, refs, code, emp_fields["employee_level"], contact_customer,
                                con_fields["contact_level"])
    tp_fields = _touchpoints(tp, refs, code, contact_customer, as_of)
    tie_fields = _industry_ties(ties, refs, code)
    prj_dict, prj_fields = _projects(prj, refs, code)
    mem_fields = _members(mem, prj_dict, code)
    raise_if(p, "BindingData")
    return index_pairs(Coded(as_of=as_of, customer_ids=code.customers.ids, **emp_fields, **con_fields,
                             **rel_fields, **tp_fields, **tie_fields, **prj_fields, **mem_fields))


# ---------------------------------------------------------------------------------------------- steps
# Each step returns its table's fields of Coded by name (Fields). Problems are appended to ``p`` in the order
# the columns are read, which is the order of the error message.


def _ids_or_empty(cols: Columns | None, name: str, column: str, p: list[Problem | None]) -> npt.NDArray[Any]:
    """A required id column of an optional table; no ids when the table is not given."""
    return read_ids(cols[name], column, p)[0] if cols else np.zeros(0, dtype=str)


def _times_or(cols: Columns | None, name: str, n: int, column: str, p: list[Problem | None],
              missing: float) -> FloatArray:
    """An optional time column, ``missing`` (an infinity) where it is empty or the table lacks it."""
    times = read_times(_get(cols, name, n, np.nan), column, p, required=False)
    return np.where(np.isnan(times), missing, times)


def _employees(emp: Columns, p: list[Problem | None]) -> tuple[IdDict, Fields]:
    """The employees' ids and their columns in employee-code order (team codes index the team names)."""
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
    left_at = by_code(_times_or(emp, "left_at", n_emp_rows, "employees.left_at", p, np.inf))
    return emp_dict, {"employee_ids": emp_dict.ids, "team_names": team_names, "employee_level": level,
                      "employee_team": by_code(team_code), "employee_active": active, "employee_left_at": left_at}


class _Contacts(NamedTuple):
    """The contacts table as read, before its customer ids are coded."""

    ids: IdDict
    raw: npt.NDArray[Any]  # contact_id, in table order
    order: npt.NDArray[np.intp]  # table rows in contact-code order
    customer_raw: npt.NDArray[Any]
    level: npt.NDArray[Any]
    successor: npt.NDArray[np.bool_]


def _read_contacts(con: Columns, p: list[Problem | None]) -> _Contacts:
    con_raw, _ = read_ids(con["contact_id"], "contacts.contact_id", p)
    con_dict, con_rows = IdDict.from_table(con_raw, "contacts.contact_id", p)
    con_cust_raw, _ = read_ids(con["customer_id"], "contacts.customer_id", p)
    con_level = read_ladder(con["org_level"], OrgLevel, "contacts.org_level", p, required=True)
    con_succ = read_bool(_get(con, "is_successor", con_raw.shape[0], False), "contacts.is_successor", p,
                         default=False)
    return _Contacts(con_dict, con_raw, np.argsort(con_rows, kind="stable"), con_cust_raw, con_level, con_succ)


class _References(NamedTuple):
    """The id columns of relationships, touchpoints, industry ties and projects that name other tables' rows."""

    rel_employee: npt.NDArray[Any]
    rel_contact: npt.NDArray[Any]
    rel_customer: npt.NDArray[Any]
    rel_customer_missing: npt.NDArray[np.bool_]
    tp_customer: npt.NDArray[Any]
    tp_employee: npt.NDArray[Any]
    tp_contact: npt.NDArray[Any]
    tp_contact_missing: npt.NDArray[np.bool_]
    tie_customer: npt.NDArray[Any]
    project_customer: npt.NDArray[Any]


def _read_references(rel: Columns, tp: Columns, ties: Columns | None, prj: Columns | None,
                     p: list[Problem | None]) -> _References:
    rel_emp_raw, _ = read_ids(rel["employee_id"], "relationships.employee_id", p)
    rel_con_raw, _ = read_ids(rel["contact_id"], "relationships.contact_id", p)
    rel_cust_raw, rel_cust_missing = _opt_ids(rel, "customer_id", rel_emp_raw.shape[0], "relationships.customer_id",
                                              p)
    tp_cust_raw, _ = read_ids(tp["customer_id"], "touchpoints.customer_id", p)
    tp_emp_raw, _ = read_ids(tp["employee_id"], "touchpoints.employee_id", p)
    tp_con_raw, tp_con_missing = _opt_ids(tp, "contact_id", tp_cust_raw.shape[0], "touchpoints.contact_id", p)
    return _References(rel_emp_raw, rel_con_raw, rel_cust_raw, rel_cust_missing, tp_cust_raw, tp_emp_raw, tp_con_raw,
                       tp_con_missing, _ids_or_empty(ties, "customer_id", "industry_ties.customer_id", p),
                       _ids_or_empty(prj, "customer_id", "projects.customer_id", p))


def _customer_dict(cus: Columns | None, con_cust_raw: npt.NDArray[Any], refs: _References,
                   p: list[Problem | None]) -> IdDict:
    """The customers: as given (order kept) or every one referenced (sorted)."""
    if cus is not None:
        cus_raw, _ = read_ids(cus["customer_id"], "customers.customer_id", p)
        return IdDict.from_table(cus_raw, "customers.customer_id", p, keep_order=True)[0]
    parts = [a for a in (con_cust_raw, refs.rel_customer[~refs.rel_customer_missing], refs.tp_customer,
                         refs.tie_customer, refs.project_customer)
             if a.size]  # an empty string array would turn integer ids into strings
    kinds = {a.dtype.kind for a in parts}
    parts = [a.astype(str) for a in parts] if len(kinds) > 1 else parts
    return IdDict(np.unique(np.concatenate(parts)) if kinds else np.zeros(0, dtype=str))


class _Coder:
    """Codes id columns against the customers, employees, contacts (or a projects) dictionary.

    An id not in the dictionary is a problem; ``missing`` marks empty ids of an optional column, coded -1.
    """

    def __init__(self, p: list[Problem | None], customers: IdDict, employees: IdDict, contacts: IdDict) -> None:
        self.p, self.customers, self.employees, self.contacts = p, customers, employees, contacts

    def __call__(self, d: IdDict, raw: npt.NDArray[Any], column: str, what: str, labels: Mapping[str, Any],
                 missing: npt.NDArray[np.bool_] | None = None) -> IntArray:
        codes, unknown = d.code(raw)
        if missing is not None:
            unknown &= ~missing
            codes[missing] = -1
        self.p.append(id_problem(unknown, column, f"is not {what}", f"Add it to the {what.split()[-2]} table or "
                                 "fix the id.", labels))
        return codes


_A_CUSTOMER = "a customer in the customers table"
_AN_EMPLOYEE = "an employee in the employees table"
_A_CONTACT = "a contact in the contacts table"


def _code_contacts(c: _Contacts, code: _Coder) -> Fields:
    contact_customer = code(code.customers, c.customer_raw, "contacts.customer_id", _A_CUSTOMER,
                            {"contact_id": c.raw, "customer_id": c.customer_raw})[c.order]
    return {"contact_ids": c.ids.ids, "contact_customer": contact_customer, "contact_level": c.level[c.order],
            "contact_is_successor": c.successor[c.order]}


def _relationships(rel: Columns, refs: _References, code: _Coder, level: npt.NDArray[Any], con_cust: IntArray,
                   con_level: npt.NDArray[Any]) -> Fields:
    """The relationships coded; their customer is the contact's, and levels not recorded are the people's."""
    p, n_rel = code.p, refs.rel_employee.shape[0]
    rel_labels = {"employee_id": refs.rel_employee, "contact_id": refs.rel_contact}
    rel_emp = code(code.employees, refs.rel_employee, "relationships.employee_id", _AN_EMPLOYEE, rel_labels)
    rel_con = code(code.contacts, refs.rel_contact, "relationships.contact_id", _A_CONTACT, rel_labels)
    rel_cust = np.where(rel_con >= 0, con_cust[np.maximum(rel_con, 0)] if con_cust.size else -1, -1)
    if "customer_id" in rel:
        cust_labels = {**rel_labels, "customer_id": refs.rel_customer}
        stated = code(code.customers, refs.rel_customer, "relationships.customer_id", _A_CUSTOMER, cust_labels,
                      refs.rel_customer_missing)
        p.append(id_problem((stated >= 0) & (rel_con >= 0) & (stated != rel_cust), "relationships.customer_id",
                            "differs from the customer of the contact", "Fix the contact or the customer id.",
                            cust_labels))
    rungs = {name: read_ladder(_get(rel, name, n_rel, 0), ladder, f"relationships.{name}", p, required=False,
                               aliases=CHINESE_RUNGS[name]) for name, ladder in LADDERS.items()}
    has_rung = np.any(np.stack(list(rungs.values())) > 0, axis=0) if n_rel else np.zeros(0, dtype=bool)
    if "strength" in rel:
        strength = read_strength(rel["strength"], "relationships.strength", p, ladder_given=has_rung)
    elif not any(name in rel for name in LADDERS):
        strength = np.zeros(n_rel)
        p.append(Problem("relationships.strength", "is not a column, and no ladder column (closeness, grade, "
                         "pyramid_stage) is given either",
                         fix="Add a 'strength' column in [0, 1] or a 'closeness', 'grade' or 'pyramid_stage' column."))
    else:
        strength = np.full(n_rel, np.nan)
        p.append(id_problem(~has_rung, "relationships.strength", "is not given and the row records no ladder rung",
                            "Give a 'strength' in [0, 1] or a 'closeness', 'grade' or 'pyramid_stage' rung.",
                            rel_labels))
    rel_start = read_times(rel["start"], "relationships.start", p, required=True)
    rel_end = _times_or(rel, "end", n_rel, "relationships.end", p, np.inf)
    p.append(_end_problem(rel_start, rel_end, "relationships", rel_labels))
    rel_elevel = read_ladder(_get(rel, "employee_level", n_rel, 0), AccountManagerLevel,
                             "relationships.employee_level", p, required=False)
    rel_clevel = read_ladder(_get(rel, "contact_level", n_rel, 0), OrgLevel, "relationships.contact_level",
                             p, required=False)
    ok_e, ok_c = rel_emp >= 0, rel_con >= 0
    rel_elevel = np.where((rel_elevel == 0) & ok_e, level[np.maximum(rel_emp, 0)] if level.size else 0, rel_elevel)
    rel_clevel = np.where((rel_clevel == 0) & ok_c, con_level[np.maximum(rel_con, 0)] if con_level.size else 0,
                          rel_clevel)
    return {"rel_employee": rel_emp, "rel_contact": rel_con, "rel_customer": rel_cust.astype(np.int64),
            "rel_strength": strength, "rel_start": rel_start, "rel_end": rel_end,
            "rel_employee_level": rel_elevel.astype(np.int8), "rel_contact_level": rel_clevel.astype(np.int8),
            **{f"rel_{name}": ranks.astype(np.int8) for name, ranks in rungs.items()}}


def _touchpoints(tp: Columns, refs: _References, code: _Coder, con_cust: IntArray, as_of: float) -> Fields:
    """The touchpoints coded; a contact must belong to the touchpoint's customer, a time not be after ``as_of``."""
    p, n_tp = code.p, refs.tp_customer.shape[0]
    tp_ids = tp.get("touchpoint_id")
    tp_labels = _touchpoint_labels(refs.tp_customer, refs.tp_employee, tp_ids)
    con_labels = {**tp_labels, "contact_id": refs.tp_contact}
    tp_cust = code(code.customers, refs.tp_customer, "touchpoints.customer_id", _A_CUSTOMER, tp_labels)
    tp_emp = code(code.employees, refs.tp_employee, "touchpoints.employee_id", _AN_EMPLOYEE, tp_labels)
    tp_con = code(code.contacts, refs.tp_contact, "touchpoints.contact_id", _A_CONTACT, con_labels,
                  refs.tp_contact_missing)
    p.append(id_problem((tp_con >= 0) & (tp_cust >= 0) & (con_cust[np.maximum(tp_con, 0)] != tp_cust)
                        if con_cust.size else np.zeros(n_tp, dtype=bool), "touchpoints.contact_id",
                        "belongs to another customer", "Fix the contact or the customer id.", con_labels))
    tp_time = read_times(tp["timestamp"], "touchpoints.timestamp", p, required=True)
    p.append(future_problem(tp_time > as_of, refs.tp_customer, refs.tp_employee, tp_ids, as_of))
    channel = read_choice(tp["channel"], Channel, "touchpoints.channel", p) if "channel" in tp \
        else np.full(n_tp, -1, dtype=np.int8)
    functions = read_functions(tp["functions"], TouchpointFunction, "touchpoints.functions", p) \
        if "functions" in tp else np.zeros(n_tp, dtype=np.int64)
    return {"tp_customer": tp_cust, "tp_employee": tp_emp, "tp_contact": tp_con, "tp_time": tp_time,
            "tp_channel": channel, "tp_functions": functions}


def _industry_ties(ties: Columns | None, refs: _References, code: _Coder) -> Fields:
    p, n_tie = code.p, n_rows(ties)
    tie_labels = {"customer_id": refs.tie_customer}
    tie_cust = code(code.customers, refs.tie_customer, "industry_ties.customer_id", _A_CUSTOMER, tie_labels)
    tie_kind = read_choice(ties["kind"], IndustryTieKind, "industry_ties.kind", p) if ties \
        else np.zeros(0, dtype=np.int8)
    tie_start = _times_or(ties, "start", n_tie, "industry_ties.start", p, -np.inf)
    tie_end = _times_or(ties, "end", n_tie, "industry_ties.end", p, np.inf)
    p.append(_end_problem(tie_start, tie_end, "industry_ties", tie_labels))
    return {"tie_customer": tie_cust, "tie_kind": tie_kind, "tie_start": tie_start, "tie_end": tie_end}


def _projects(prj: Columns | None, refs: _References, code: _Coder) -> tuple[IdDict, Fields]:
    """The projects' ids and their columns in project-code order."""
    p, n_prj = code.p, n_rows(prj)
    prj_raw = _ids_or_empty(prj, "project_id", "projects.project_id", p)
    prj_dict, prj_rows = IdDict.from_table(prj_raw, "projects.project_id", p)
    prj_order = np.argsort(prj_rows, kind="stable")
    prj_labels = {"project_id": prj_raw, "customer_id": refs.project_customer}
    prj_cust = code(code.customers, refs.project_customer, "projects.customer_id", _A_CUSTOMER, prj_labels)
    prj_start = read_times(prj["start"], "projects.start", p, required=True) if prj else np.zeros(0)
    prj_end = _times_or(prj, "end", n_prj, "projects.end", p, np.inf)
    p.append(_end_problem(prj_start, prj_end, "projects", prj_labels))
    return prj_dict, {"project_ids": prj_dict.ids, "project_customer": prj_cust[prj_order],
                      "project_start": prj_start[prj_order], "project_end": prj_end[prj_order]}


def _members(mem: Columns | None, prj_dict: IdDict, code: _Coder) -> Fields:
    mem_prj_raw = _ids_or_empty(mem, "project_id", "project_members.project_id", code.p)
    mem_emp_raw = _ids_or_empty(mem, "employee_id", "project_members.employee_id", code.p)
    mem_labels = {"project_id": mem_prj_raw, "employee_id": mem_emp_raw}
    return {"member_project": code(prj_dict, mem_prj_raw, "project_members.project_id",
                                   "a project in the projects table", mem_labels),
            "member_employee": code(code.employees, mem_emp_raw, "project_members.employee_id", _AN_EMPLOYEE,
                                    mem_labels)}
