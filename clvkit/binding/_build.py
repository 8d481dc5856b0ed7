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
from ._tables import Columns, n_rows
from .entities import IndustryTieKind

__all__ = ["build", "future_problem", "read_as_of"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
_UTC = _dt.timezone.utc


def read_as_of(as_of: Any) -> float:
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

def future_problem(future: npt.NDArray[np.bool_], customers: npt.NDArray[Any], employees: npt.NDArray[Any],
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


def build(t: Mapping[str, Columns | None], as_of: float) -> Coded:
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
    p.append(future_problem(tp_time > as_of, tp_cust_raw, tp_emp_raw, tp_ids, as_of))
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
