"""Team report for rewards and penalties: shared versus solo accounts, and each team's key customers.

The texts ask to credit wide, multi-person coverage and smooth hand-overs, and to flag accounts held by
one person. clvkit reads that as two tables:

- per employee: the value of the accounts they bind *together with others* (they hold a share and the
  customer is not single-threaded) against the value of the accounts they hold *alone* (the customer is
  single-threaded and they are its top employee);
- per team: the key customers the team *owns* (the team whose members' holding shares of the customer add
  up to the most; ties go to the team named first) and how well they are bound - mean score,
  single-threaded count, decision makers reached, levels covered.

Key customers come from the tiering layer as a boolean mask or as tier codes with the codes that count
as key; without either, the top ``key_share`` of customers by value (the texts' "top 20%") are key.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from .._display import block, number, shorten, table
from .._validation import check_scalar
from ..domain import OrgLevel
from ..errors import InvalidInputError
from ..i18n import N_, Translator, translator
from ..tiering import top_share_mask
from ._kernels import sum_by
from .measures import LEVELS, BindingMeasures
from .risk import EmployeeRisk, customer_values, value_at_risk

__all__ = ["NO_TEAM", "TeamReport", "key_customer_mask", "team_report"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

#: Team name shown for employees without a team, and for customers nobody holds.
NO_TEAM = "(none)"


def key_customer_mask(values: FloatArray, *, key_customers: Any = None, tiers: Any = None,
                      key_tiers: Collection[int] | None = None, key_share: float = 0.2) -> BoolArray:
    """Which customers are key: the given mask, the customers in ``key_tiers``, or the top ``key_share`` by value.

    Examples
    --------
    >>> key_customer_mask(np.array([5.0, 50.0, 1.0, 20.0, 9.0])).tolist()
    [False, True, False, False, False]
    >>> key_customer_mask(np.zeros(3), tiers=[1, 3, 2], key_tiers={1, 2}).tolist()
    [True, False, True]
    """
    n = values.shape[0]
    if key_customers is not None:
        mask = np.asarray(key_customers)
        if mask.dtype != bool or mask.shape != (n,):
            raise InvalidInputError(f"The 'key_customers' parameter must be a boolean array of shape ({n},). "
                                    f"Got dtype {mask.dtype} and shape {mask.shape} instead.")
        return mask
    if tiers is not None:
        codes = np.asarray(tiers)
        if codes.shape != (n,) or not np.issubdtype(codes.dtype, np.integer):
            raise InvalidInputError(f"The 'tiers' parameter must be an integer array of shape ({n},). "
                                    f"Got dtype {codes.dtype} and shape {codes.shape} instead.")
        if not key_tiers:
            raise InvalidInputError("The 'key_tiers' parameter must name the tier codes that count as key when "
                                    "'tiers' is given. Got none.")
        listed = isinstance(key_tiers, Collection) and not isinstance(key_tiers, (str, bytes, Mapping))
        items = list(key_tiers) if listed else None
        if items is None or any(isinstance(t, (bool, np.bool_)) or not isinstance(t, (int, np.integer)) for t in items):
            raise InvalidInputError(f"The 'key_tiers' parameter must be a collection of integer tier codes, e.g. "
                                    f"{{1, 2}}. Got {key_tiers!r} instead.")
        return np.isin(codes, np.asarray(sorted(int(t) for t in items), dtype=np.int64))
    share = check_scalar(key_share, "key_share", "team_report()", low=0.0, high=1.0)
    if share == 0.0:
        return np.zeros(n, dtype=bool)
    # the one definition of "the top 20%", shared with tiering.KeyCustomers (ties share the higher tier)
    return top_share_mask(values, share)


@dataclass(frozen=True, eq=False)
class TeamReport:
    """Per-employee and per-team binding for rewards and penalties (see the module docstring).

    Attributes
    ----------
    employees:
        Columns ``employee_id, team, present, shared_customers, shared_value, solo_customers, solo_value,
        value_at_risk``, one row per employee, ranked by ``shared_value - solo_value`` (best first).
    teams:
        Columns ``team, key_customers, key_value, mean_score, single_threaded, single_threaded_value,
        decision_maker_reached, mean_levels_covered, multi_employee``: one row per team owning a key
        customer (``NO_TEAM`` for key customers nobody holds), by key value.
    key_customers:
        The key-customer mask used, shape (n_customers,).
    risk:
        The :class:`EmployeeRisk` behind ``value_at_risk``.
    """

    employees: dict[str, npt.NDArray[Any]] = field(repr=False)
    teams: dict[str, npt.NDArray[Any]] = field(repr=False)
    key_customers: BoolArray = field(repr=False)
    risk: EmployeeRisk = field(repr=False)

    #: Most rows of each table the notebook display shows.
    DISPLAY_ROWS = 10

    def __repr__(self) -> str:
        n_e, n_t = len(self.employees["employee_id"]), len(self.teams["team"])
        key_value = float(np.sum(self.teams["key_value"]))
        solo = float(np.sum(self.employees["solo_value"]))
        return shorten(f"TeamReport({n_e} employees; {int(self.key_customers.sum())} key customers in {n_t} teams, "
                       f"worth {number(key_value)}; value held solo {number(solo)})")

    def _repr_html_(self) -> str:
        return self._html(translator("en"))

    def _html(self, tr: Translator) -> str:
        """The notebook display in ``tr``'s language (the HTML report shows it in the report's language)."""
        k = self.DISPLAY_ROWS
        emp_cols = ["employee_id", "team", "shared_customers", "shared_value", "solo_customers", "solo_value",
                    "value_at_risk"]
        team_cols = ["team", "key_customers", "key_value", "mean_score", "single_threaded", "decision_maker_reached",
                     "mean_levels_covered"]
        parts = []
        for title, cols, source in ((N_("Employees (best balance of shared over solo value first)"), emp_cols,
                                     self.employees),
                                    (N_("Teams by key value"), team_cols, self.teams)):
            n = len(source[cols[0]])
            rows = [[_cell(source[c][i]) for c in cols] for i in range(min(n, k))]
            caption = (tr("{title} (first {shown} of {count})", title=tr(title), shown=k, count=n) if n > k
                       else tr(title))
            parts.append(table([tr(_TEAM_HEADERS[c]) for c in cols], rows, caption=caption))
        return block(tr("TeamReport: {employees} employees, {teams} teams, {key} key customers",
                        employees=len(self.employees["employee_id"]), teams=len(self.teams["team"]),
                        key=int(self.key_customers.sum())), *parts)


#: The headers of the team report's tables (its column names with spaces), translated where shown.
_TEAM_HEADERS = {
    "employee_id": N_("employee id"), "team": N_("team"), "shared_customers": N_("shared customers"),
    "shared_value": N_("shared value"), "solo_customers": N_("solo customers"), "solo_value": N_("solo value"),
    "value_at_risk": N_("value at risk"), "key_customers": N_("key customers"), "key_value": N_("key value"),
    "mean_score": N_("mean score"), "single_threaded": N_("single threaded"),
    "decision_maker_reached": N_("decision maker reached"), "mean_levels_covered": N_("mean levels covered"),
}


def _cell(value: Any) -> Any:
    """A table cell from a numpy scalar: Python numbers stay numbers, ids and names become text."""
    item = value.item() if isinstance(value, np.generic) else value
    return item if isinstance(item, (int, float)) and not isinstance(item, bool) else str(item)


def team_report(measures: BindingMeasures, values: Any, *, key_customers: Any = None, tiers: Any = None,
                key_tiers: Collection[int] | None = None, key_share: float = 0.2) -> TeamReport:
    """Shared versus solo value per employee, and the binding of each team's key customers.

    Parameters
    ----------
    measures:
        From :func:`~clvkit.binding.measure_binding`.
    values:
        Per-customer values in ``measures.customer_id`` order, or a mapping of customer id to value.
    key_customers, tiers, key_tiers, key_share:
        Which customers are key: a boolean mask; or integer tier codes and the codes that are key; or,
        with neither, the top ``key_share`` of customers by value.

    Examples
    --------
    >>> from clvkit.binding import BindingData, measure_binding
    >>> emp = {"employee_id": ["E1", "E2"], "level": [3, 3], "team": ["North", "South"]}
    >>> con = {"contact_id": ["P1", "P2", "P3"], "customer_id": ["C1", "C1", "C2"], "org_level": [3, 1, 3]}
    >>> rel = {"employee_id": ["E1", "E2", "E2"], "contact_id": ["P1", "P2", "P3"], "strength": [0.5, 0.5, 0.9],
    ...        "start": ["2023-01-01"] * 3}
    >>> m = measure_binding(BindingData(employees=emp, contacts=con, relationships=rel, touchpoints=[],
    ...                                 as_of="2024-06-30"))
    >>> r = team_report(m, [900.0, 100.0], key_customers=np.array([True, True]))
    >>> r.employees["employee_id"].tolist(), r.employees["shared_value"].tolist(), r.employees["solo_value"].tolist()
    (['E1', 'E2'], [900.0, 900.0], [0.0, 100.0])
    >>> r.teams["team"].tolist(), r.teams["key_value"].tolist(), r.teams["single_threaded"].tolist()
    (['North', 'South'], [900.0, 100.0], [0, 1])
    """
    if not isinstance(measures, BindingMeasures):
        raise InvalidInputError(f"The 'measures' parameter of team_report() must be the BindingMeasures of "
                                f"measure_binding(). Got {type(measures).__name__} instead.")
    v = customer_values(measures.data, values, where="team_report()")
    key = key_customer_mask(v, key_customers=key_customers, tiers=tiers, key_tiers=key_tiers, key_share=key_share)
    risk = value_at_risk(measures, v)
    return TeamReport(employees=_employee_rows(measures, v, risk), teams=_team_rows(measures, v, key),
                      key_customers=key, risk=risk)


def _employee_rows(measures: BindingMeasures, v: FloatArray, risk: EmployeeRisk) -> dict[str, npt.NDArray[Any]]:
    """The employees table: shared and solo customers and value, value at risk; best balance first."""
    data = measures.data
    c = data._c
    n_e = c.n_employees
    pc, pe, h = measures.pair_customer, measures.pair_employee, measures.pair_holding
    single = measures.single_threaded
    shared_pair = (h > 0) & ~single[pc]
    top = measures.top_employee_code
    solo = single & (top >= 0)
    teams_of_emp = data.employee_team
    by_risk = {eid: i for i, eid in enumerate(risk.employee_id.tolist())}
    var = risk.value_at_risk[[by_risk[eid] for eid in c.employee_ids.tolist()]] if n_e else np.zeros(0)
    shared_value = sum_by(pe, shared_pair * v[pc], n_e)
    solo_value = sum_by(top[solo], v[solo], n_e)
    order = np.lexsort((np.arange(n_e), -(shared_value - solo_value)))
    return {
        "employee_id": c.employee_ids[order],
        "team": np.where(teams_of_emp == "", NO_TEAM, teams_of_emp)[order],
        "present": c.employee_present()[order],
        "shared_customers": np.bincount(pe[shared_pair], minlength=n_e).astype(np.int64)[order],
        "shared_value": shared_value[order],
        "solo_customers": np.bincount(top[solo], minlength=n_e).astype(np.int64)[order],
        "solo_value": solo_value[order],
        "value_at_risk": var[order],
    }


def _team_rows(measures: BindingMeasures, v: FloatArray, key: BoolArray) -> dict[str, npt.NDArray[Any]]:
    """The teams table: the key customers each team owns and how well they are bound; by key value."""
    c = measures.data._c
    n_c = len(measures)
    pc, pe, h = measures.pair_customer, measures.pair_employee, measures.pair_holding
    single = measures.single_threaded
    # owning team per customer: the team with the largest summed holding (team codes; n_t = no team)
    n_t = c.team_names.shape[0]
    emp_team = np.where(c.employee_team >= 0, c.employee_team, n_t)
    team_hold = sum_by(pc * (n_t + 1) + emp_team[pe], h, n_c * (n_t + 1)).reshape(n_c, n_t + 1)
    owner = np.where(team_hold.max(axis=1) > 0, team_hold.argmax(axis=1), n_t)
    names = np.append(c.team_names.astype(str), NO_TEAM)
    dm_reached = measures.covered[:, [LEVELS.index(OrgLevel.DECISION_MAKER), LEVELS.index(OrgLevel.EXECUTIVE)]]
    k = np.flatnonzero(key)
    n_key = np.bincount(owner[k], minlength=n_t + 1)
    n_safe = np.maximum(n_key, 1)
    cols = {
        "key_customers": n_key.astype(np.int64),
        "key_value": sum_by(owner[k], v[k], n_t + 1),
        "mean_score": sum_by(owner[k], measures.score[k], n_t + 1) / n_safe,
        "single_threaded": np.bincount(owner[k], weights=single[k], minlength=n_t + 1).astype(np.int64),
        "single_threaded_value": sum_by(owner[k], v[k] * single[k], n_t + 1),
        "decision_maker_reached": np.bincount(owner[k], weights=dm_reached[k].any(axis=1),
                                              minlength=n_t + 1).astype(np.int64),
        "mean_levels_covered": sum_by(owner[k], measures.levels_covered[k], n_t + 1) / n_safe,
        "multi_employee": np.bincount(owner[k], weights=measures.n_employees[k] >= 2,
                                      minlength=n_t + 1).astype(np.int64),
    }
    rows = np.flatnonzero(n_key > 0)
    rows = rows[np.lexsort((rows, -cols["key_value"][rows]))]
    return {"team": names[rows], **{name: col[rows] for name, col in cols.items()}}
