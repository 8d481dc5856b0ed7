"""Synthetic B2B binding data: a deterministic, vectorised generator, and the bundled sample it writes.

Everything here is **synthetic**: invented customers, people and contacts drawn from a fixed seed, not
real companies or persons. :func:`generate_b2b` builds all the tables of
:class:`~clvkit.binding.BindingData` as column arrays with numpy only (no loop over rows), so the same
code gives the bundled sample (60 customers) and the benchmark data (a million touchpoints).

How the data is drawn. Employees sit in teams of about five, with account-manager levels from product
pusher to strategic partner; 4% have announced a departure after ``as_of`` and 3% have already left
(at least one of each from ten employees).
Each customer is served by 1-4 employees (35% by one only), mostly from the primary employee's team, and
has 2-6 contacts: a decision maker, then users, managers, decision makers or executives; 15% have a
flagged successor. About 80% of contacts have a relationship with one of the customer's employees (the
decision maker with the primary one), 10% of them ended. Touchpoints fall on customers in proportion to
a gamma-distributed activity, on the primary employee more often than the others, within two years of
``as_of``. A third of customers have industry ties; a quarter have projects with teams of 1-4. Every
relationship records its closeness, grade and pyramid stage, and ties begun in the last year have an earlier,
dated record (see :func:`_add_ladders`; drawn from a second generator).

Regenerate the bundled files with ``python -m clvkit.binding._sample`` (it rewrites
``clvkit/data/b2b_sample/*.csv``).
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from .._csvio import write_csv
from ..domain import Channel, TouchpointFunction
from ..errors import InvalidInputError
from .entities import IndustryTieKind
from .io import B2B_SAMPLE_AS_OF, B2B_SAMPLE_SEED

__all__ = ["B2B_SAMPLE_AS_OF", "B2B_SAMPLE_SEED", "MAX_SAMPLE_SIZE", "generate_b2b", "write_b2b_sample"]

#: Largest ``n_customers``, ``n_employees`` or ``n_touchpoints`` :func:`generate_b2b` draws (each table grows
#: with it; 10 million touchpoints take about a gigabyte).
MAX_SAMPLE_SIZE = 10_000_000


_DAY = 86400.0
_TEAMS = ("North", "South", "East", "West", "Central", "Coast", "Mountain", "Valley")
_INDUSTRIES = ("dairy", "logistics", "machinery", "retail", "healthcare", "construction")
Tables = dict[str, dict[str, npt.NDArray[Any]]]
IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


def _ids(prefix: str, n: int, as_int: bool, width: int) -> npt.NDArray[Any]:
    if as_int:
        return np.arange(1, n + 1, dtype=np.int64)
    return np.char.add(prefix, np.char.zfill(np.arange(1, n + 1).astype(str), width))


def _iso(seconds: npt.NDArray[np.float64]) -> npt.NDArray[Any]:
    """ISO 8601 strings with a UTC offset; empty where the time is not finite."""
    ok = np.isfinite(seconds)
    stamps = np.where(ok, seconds, 0).astype("datetime64[s]").astype(str)
    return np.where(ok, np.char.add(stamps, "+00:00"), "")


def generate_b2b(n_customers: int, n_employees: int, n_touchpoints: int, *, seed: int = B2B_SAMPLE_SEED,
                 as_of: _dt.datetime = B2B_SAMPLE_AS_OF, int_ids: bool = False) -> Tables:
    """All binding tables of a synthetic B2B customer base, as column arrays.

    Times are ``datetime64[s]`` (UTC); ids are strings such as ``"C-0001"`` (or int64 with ``int_ids``).
    Also returns a ``customers`` table with a synthetic ``value`` (lognormal, a stand-in for CLV from the
    valuation layer), ``tier`` (1 = top fifth by value ... 5) and ``key_customer`` (tier 1).

    Raises
    ------
    InvalidInputError
        For a size outside ``[1, MAX_SAMPLE_SIZE]`` (:data:`MAX_SAMPLE_SIZE`), checked before anything is drawn.

    Examples
    --------
    >>> t = generate_b2b(20, 6, 300, seed=1)
    >>> len(t["touchpoints"]["timestamp"]), len(t["customers"]["customer_id"]), t["employees"]["employee_id"][:2]
    (300, 20, array(['E-001', 'E-002'], dtype='<U5'))
    """
    for name, value in (("n_customers", n_customers), ("n_employees", n_employees),
                        ("n_touchpoints", n_touchpoints)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 1 <= value <= MAX_SAMPLE_SIZE:
            raise InvalidInputError(f"The '{name}' parameter of generate_b2b() must be a whole number in "
                                    f"[1, MAX_SAMPLE_SIZE = {MAX_SAMPLE_SIZE:,}]. Got {value!r} instead.")
    rng = np.random.default_rng(seed)
    t0 = as_of.timestamp()
    n_c, n_e = int(n_customers), int(n_employees)
    # One generator, drawn from in this order: changing the order changes every table.
    staff = _draw_employees(rng, t0, n_e)
    k, assigned = _draw_assignments(rng, staff, n_c)
    con = _draw_contacts(rng, n_c)
    rel = _draw_relationships(rng, t0, staff, k, assigned, con)
    tp = _draw_touchpoints(rng, t0, n_touchpoints, staff, k, assigned, con)
    ties = _draw_industry_ties(rng, t0, n_c)
    prj = _draw_projects(rng, t0, n_c, n_e, assigned)
    cus = _draw_customers(rng, n_c, k)
    tables = _tables(staff, con, rel, tp, ties, prj, cus, int_ids)
    # The ladders come from a second generator, so the tables above are the same with or without them.
    _add_ladders(tables["relationships"], np.random.default_rng(seed + 1), t0)
    return tables


# ---------------------------------------------------------------------------------------------- steps
# The draws give customers, employees, contacts and projects as positions; _tables names them.
# ``k`` is how many employees serve each customer and ``assigned`` which ones (slot 0 = the primary one).
class _Staff(NamedTuple):
    team: IntArray  # each employee's team: teams are contiguous blocks
    team_start: IntArray  # each team's first employee
    team_size: IntArray
    level: IntArray
    gone: BoolArray  # left before as_of
    left_at: FloatArray  # NaN for those who stay


def _draw_employees(rng: np.random.Generator, t0: float, n_e: int) -> _Staff:
    # teams are contiguous blocks of about five
    n_teams = max(1, min(len(_TEAMS), round(n_e / 5)))
    emp_team = np.minimum(np.arange(n_e) * n_teams // max(n_e, 1), n_teams - 1)
    team_start = np.searchsorted(emp_team, np.arange(n_teams))
    team_size = np.bincount(emp_team, minlength=n_teams)
    level = rng.choice(np.arange(1, 6), size=n_e, p=[0.15, 0.35, 0.3, 0.15, 0.05])
    # 4% announced departures and 3% already gone, at least one of each once there are ten employees
    n_leaving, n_gone = (max(round(0.04 * n_e), n_e >= 10), max(round(0.03 * n_e), n_e >= 10))
    fate = rng.permutation(n_e)
    leaving, gone = np.zeros(n_e, dtype=bool), np.zeros(n_e, dtype=bool)
    leaving[fate[:n_leaving]] = True
    gone[fate[n_leaving:n_leaving + n_gone]] = True
    left_at = np.full(n_e, np.nan)
    left_at[leaving] = t0 + rng.uniform(14, 120, leaving.sum()).round() * _DAY
    left_at[gone] = t0 - rng.uniform(30, 300, gone.sum()).round() * _DAY
    return _Staff(emp_team, team_start, team_size, level, gone, left_at)


def _draw_assignments(rng: np.random.Generator, staff: _Staff, n_c: int) -> tuple[IntArray, IntArray]:
    """The employees serving each customer: 1-4, mostly from the primary employee's team."""
    n_e = staff.team.shape[0]
    k = rng.choice(np.arange(1, 5), size=n_c, p=[0.35, 0.3, 0.2, 0.15])
    primary = rng.integers(0, n_e, n_c)
    pt = staff.team[primary]
    same_team = staff.team_start[pt][:, None] + (rng.random((n_c, 3)) * staff.team_size[pt][:, None]).astype(np.int64)
    anyone = rng.integers(0, n_e, (n_c, 3))
    assigned = np.concatenate([primary[:, None], np.where(rng.random((n_c, 3)) < 0.7, same_team, anyone)], axis=1)
    return k, assigned


class _Contacts(NamedTuple):
    customer: IntArray  # contiguous per customer
    first: IntArray  # each customer's first contact, a decision maker
    per_customer: IntArray  # how many contacts each customer has
    is_first: BoolArray
    org: IntArray
    successor: BoolArray


def _draw_contacts(rng: np.random.Generator, n_c: int) -> _Contacts:
    m = rng.integers(2, 7, n_c)
    con_cust = np.repeat(np.arange(n_c), m)
    first_con = np.cumsum(m) - m
    is_first = np.zeros(con_cust.shape[0], dtype=bool)
    is_first[first_con] = True
    org = np.where(is_first, 3, rng.choice([1, 2, 3, 4], size=con_cust.shape[0], p=[0.45, 0.3, 0.1, 0.15]))
    succ_cust = rng.random(n_c) < 0.15
    successor = np.zeros(con_cust.shape[0], dtype=bool)
    successor[first_con[succ_cust] + 1] = True  # the second contact of the customer
    org[successor] = 2
    return _Contacts(con_cust, first_con, m, is_first, org, successor)


class _Relationships(NamedTuple):
    contact: IntArray
    customer: IntArray
    employee: IntArray
    strength: FloatArray
    start: FloatArray
    end: FloatArray  # NaN while ongoing


def _draw_relationships(rng: np.random.Generator, t0: float, staff: _Staff, k: IntArray, assigned: IntArray,
                        con: _Contacts) -> _Relationships:
    """About 80% of contacts, the decision maker with the primary employee; 10% ended."""
    has_rel = con.is_first | (rng.random(con.customer.shape[0]) < 0.78)
    rc = np.flatnonzero(has_rel)
    rcust = con.customer[rc]
    slot = np.where(con.is_first[rc], 0, (rng.random(rc.shape[0]) * k[rcust]).astype(np.int64))
    remp = assigned[rcust, slot]
    strength = np.round(0.1 + 0.9 * rng.beta(2.0, 2.0, rc.shape[0]), 2)
    rstart = t0 - rng.uniform(30, 1500, rc.shape[0]).round() * _DAY
    ended = rng.random(rc.shape[0]) < 0.10
    rend = np.where(ended, rstart + (t0 - rstart) * rng.random(rc.shape[0]), np.inf)
    rend = np.where(staff.gone[remp], np.minimum(rend, np.nan_to_num(staff.left_at[remp], nan=np.inf)), rend)
    rend = np.maximum(rend, rstart)  # ties of people who had left before they began end as they start
    rend[np.isinf(rend)] = np.nan
    return _Relationships(rc, rcust, remp, strength, rstart, rend)


class _Touchpoints(NamedTuple):
    customer: IntArray
    employee: IntArray
    contact: IntArray
    known: BoolArray  # whether the contact is recorded
    time: FloatArray
    channel: IntArray
    functions: IntArray


def _draw_touchpoints(rng: np.random.Generator, t0: float, n: int, staff: _Staff, k: IntArray, assigned: IntArray,
                      con: _Contacts) -> _Touchpoints:
    """Activity-weighted customers, the primary employee more often than the others, within two years."""
    n_c = k.shape[0]
    activity = rng.gamma(1.5, 1.0, n_c) * k
    tcust = rng.choice(n_c, size=n, p=activity / activity.sum())
    tslot = (rng.random(n) ** 2 * k[tcust]).astype(np.int64)
    temp = assigned[tcust, tslot]
    ttime = t0 - np.round(rng.exponential(120.0, n) % 730.0 * _DAY, -2)
    ttime = np.where(staff.gone[temp], np.minimum(ttime, staff.left_at[temp] - _DAY), ttime)
    tcon = con.first[tcust] + (rng.random(n) * con.per_customer[tcust]).astype(np.int64)
    known = rng.random(n) < 0.7
    single_fn = rng.choice([1, 2, 4, 8, 16], size=n, p=[0.3, 0.25, 0.2, 0.15, 0.1])
    functions = np.where(rng.random(n) < 0.3, single_fn | rng.choice([1, 4, 8], n), single_fn)
    channel = rng.choice(len(Channel), size=n, p=[0.25, 0.25, 0.2, 0.1, 0.08, 0.07, 0.05])
    return _Touchpoints(tcust, temp, tcon, known, ttime, channel, functions)


class _Ties(NamedTuple):
    customer: IntArray
    kind: IntArray  # position in IndustryTieKind
    start: FloatArray


def _draw_industry_ties(rng: np.random.Generator, t0: float, n_c: int) -> _Ties:
    """A third of the customers have one or two."""
    tie_cust = np.repeat(np.arange(n_c), np.where(rng.random(n_c) < 0.33, rng.integers(1, 3, n_c), 0))
    tie_kind = rng.integers(0, len(IndustryTieKind), tie_cust.shape[0])
    tie_start = t0 - rng.uniform(60, 2000, tie_cust.shape[0]).round() * _DAY
    return _Ties(tie_cust, tie_kind, tie_start)


class _Projects(NamedTuple):
    customer: IntArray
    start: FloatArray
    end: FloatArray  # NaN while running
    member_project: IntArray
    member_employee: IntArray


def _draw_projects(rng: np.random.Generator, t0: float, n_c: int, n_e: int, assigned: IntArray) -> _Projects:
    """A quarter of the customers have one or two, with teams of 1-4: mostly the customer's employees."""
    prj_cust = np.repeat(np.arange(n_c), np.where(rng.random(n_c) < 0.25, rng.integers(1, 3, n_c), 0))
    n_p = prj_cust.shape[0]
    pstart = t0 - rng.uniform(20, 900, n_p).round() * _DAY
    pend = np.where(rng.random(n_p) < 0.4, np.minimum(pstart + rng.uniform(60, 400, n_p).round() * _DAY, t0), np.nan)
    team_n = rng.integers(1, 5, n_p)
    mem_prj = np.repeat(np.arange(n_p), team_n)
    mem_slot = np.arange(mem_prj.shape[0]) - np.repeat(np.cumsum(team_n) - team_n, team_n)
    mem_emp = np.where(mem_slot < 4, assigned[prj_cust[mem_prj], np.minimum(mem_slot, 3)], 0)
    mem_emp = np.where(rng.random(mem_prj.shape[0]) < 0.2, rng.integers(0, n_e, mem_prj.shape[0]), mem_emp)
    keep = np.r_[True, (mem_prj[1:] != mem_prj[:-1]) | (mem_emp[1:] != mem_emp[:-1])]
    return _Projects(prj_cust, pstart, pend, mem_prj[keep], mem_emp[keep])


class _Customers(NamedTuple):
    value: npt.NDArray[np.floating[Any]]  # a synthetic CLV
    tier: IntArray  # 1 = top fifth by value ... 5
    industry: IntArray  # position in _INDUSTRIES


def _draw_customers(rng: np.random.Generator, n_c: int, k: IntArray) -> _Customers:
    value = np.round(rng.lognormal(10.0, 1.2, n_c) * (0.6 + 0.2 * k), 0)
    rank = np.argsort(np.argsort(-value, kind="stable"), kind="stable")
    tier = 1 + rank * 5 // max(n_c, 1)
    return _Customers(value, tier, rng.integers(0, len(_INDUSTRIES), n_c))


def _tables(staff: _Staff, con: _Contacts, rel: _Relationships, tp: _Touchpoints, ties: _Ties, prj: _Projects,
            cus: _Customers, int_ids: bool) -> Tables:
    """The drawn positions as ids, codes as the names in the tables, times as ``datetime64[s]``."""
    n_c, n_e, n_tp = cus.value.shape[0], staff.team.shape[0], tp.customer.shape[0]
    cid, eid = _ids("C-", n_c, int_ids, 4), _ids("E-", n_e, int_ids, 3)
    pid, prid = _ids("P-", con.customer.shape[0], int_ids, 5), _ids("PR-", prj.customer.shape[0], int_ids, 4)
    names = np.array(_TEAMS[:staff.team_start.shape[0]])
    tp_order = np.lexsort((tp.employee, tp.time, tp.customer))
    # int ids have no "missing" value: every contact is known then
    contact = pid[tp.contact] if int_ids else np.where(tp.known, pid[tp.contact], "")
    channels, tie_kinds = np.array([c.value for c in Channel]), np.array([x.value for x in IndustryTieKind])
    s = "datetime64[s]"
    return {
        "employees": {"employee_id": eid, "level": staff.level, "team": names[staff.team], "active": ~staff.gone,
                      "left_at": np.where(np.isnan(staff.left_at), np.nan, staff.left_at).astype(s)},
        "contacts": {"contact_id": pid, "customer_id": cid[con.customer], "org_level": con.org,
                     "is_successor": con.successor},
        "relationships": {"employee_id": eid[rel.employee], "contact_id": pid[rel.contact],
                          "customer_id": cid[rel.customer], "strength": rel.strength, "start": rel.start.astype(s),
                          "end": rel.end.astype(s)},
        "touchpoints": {"touchpoint_id": _ids("T-", n_tp, int_ids, 7),
                        "customer_id": cid[tp.customer][tp_order], "timestamp": tp.time[tp_order].astype(s),
                        "employee_id": eid[tp.employee][tp_order],
                        "contact_id": contact[tp_order],
                        "channel": channels[tp.channel][tp_order],
                        "functions": tp.functions[tp_order]},
        "industry_ties": {"customer_id": cid[ties.customer], "kind": tie_kinds[ties.kind],
                          "start": ties.start.astype(s)},
        "projects": {"project_id": prid, "customer_id": cid[prj.customer], "start": prj.start.astype(s),
                     "end": prj.end.astype(s)},
        "project_members": {"project_id": prid[prj.member_project], "employee_id": eid[prj.member_employee]},
        "customers": {"customer_id": cid, "industry": np.array(_INDUSTRIES)[cus.industry], "value": cus.value,
                      "tier": cus.tier, "key_customer": cus.tier == 1},
    }


def _add_ladders(rel: dict[str, npt.NDArray[Any]], rng: np.random.Generator, t0: float) -> None:
    """Closeness, grade and pyramid stage on every relationship, and earlier records of ties begun this year.

    Closeness follows the strength (cut at 0.35, 0.7 and 0.88: about 19% passers-by, 55% acquaintances, 21%
    friends, 5% confidants), grade the strength with noise, the pyramid stage the grade. A tie whose record
    began in the last year got an earlier record, in force a year before ``as_of`` and ended when the current
    one began, one rung lower on each ladder (15%: one rung higher, a tie that cooled) and 30% weaker.
    """
    strength = rel["strength"].astype(np.float64)
    n = strength.shape[0]
    closeness = 1 + np.searchsorted(np.array([0.35, 0.7, 0.88]), strength, side="right")
    grade = np.clip(1 + np.floor((strength + rng.normal(0.0, 0.12, n)) * 4).astype(np.int64), 1, 4)
    stage = np.clip(grade - rng.integers(0, 2, n), 1, 3)
    start = rel["start"].astype("datetime64[s]").astype(np.int64).astype(np.float64)
    recent = np.flatnonzero(start > t0 - 365 * _DAY)
    step = np.where(rng.random(recent.shape[0]) < 0.15, 1, -1)
    h_start = t0 - (365 + rng.uniform(30, 500, recent.shape[0]).round()) * _DAY
    old = {
        "closeness": np.clip(closeness[recent] + step, 1, 4), "grade": np.clip(grade[recent] + step, 1, 4),
        "pyramid_stage": np.clip(stage[recent] + step, 1, 3),
    }
    for name in ("employee_id", "contact_id", "customer_id"):
        rel[name] = np.concatenate([rel[name], rel[name][recent]])
    rel["strength"] = np.concatenate([strength, np.round(strength[recent] * 0.7, 2)])
    rel["start"] = np.concatenate([rel["start"], h_start.astype("datetime64[s]")])
    rel["end"] = np.concatenate([rel["end"], rel["start"][recent]])
    for name, now in (("closeness", closeness), ("grade", grade), ("pyramid_stage", stage)):
        rel[name] = np.concatenate([now, old[name]]).astype(np.int64)


def _text(name: str, values: npt.NDArray[Any]) -> list[str]:
    if values.dtype.kind == "M":
        seconds = np.where(np.isnat(values), np.nan, values.astype(np.int64).astype(np.float64))
        stamps: list[str] = _iso(seconds).tolist()
        return stamps
    if values.dtype.kind == "b":
        return ["true" if v else "false" for v in values.tolist()]
    if name == "functions":
        return ["|".join(f.name or "" for f in TouchpointFunction if int(f.value) & v) for v in values.tolist()]
    if name in ("level", "org_level", "closeness", "grade", "pyramid_stage"):
        from ..domain import AccountManagerLevel, Closeness, OrgLevel, RelationshipGrade, RelationshipPyramidStage

        ladder = {"level": AccountManagerLevel, "org_level": OrgLevel, "closeness": Closeness,
                  "grade": RelationshipGrade, "pyramid_stage": RelationshipPyramidStage}[name]
        return [ladder(v).name for v in values.tolist()]
    if values.dtype.kind == "f":
        return [format(v, "g") for v in values.tolist()]
    return [str(v) for v in values.tolist()]


def write_b2b_sample(directory: str | Path, *, seed: int = B2B_SAMPLE_SEED) -> list[Path]:
    """Write the synthetic sample (60 customers, 14 employees, 1,500 touchpoints) as CSV files; return the paths."""
    tables = generate_b2b(60, 14, 1500, seed=seed)
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for table, columns in tables.items():
        path = out / f"{table}.csv"
        write_csv(path, {name: _text(name, arr) for name, arr in columns.items()}, lineterminator="\n")
        paths.append(path)
    return paths


if __name__ == "__main__":  # pragma: no cover - regenerates the bundled files
    write_b2b_sample(Path(__file__).resolve().parents[1] / "data" / "b2b_sample")
