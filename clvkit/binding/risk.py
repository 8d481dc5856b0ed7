"""Value at risk by employee, and what happens when an employee hands over and leaves.

Share rule. The value an employee puts at risk is ``sum over customers of value[c] * holding[c, e]``,
where ``holding[c, e]`` is the employee's holding share of the customer (see
:class:`~clvkit.binding.BindingConfig`: by default half the employee's share of the customer's active
relationship strength and half their share of its recent touchpoints). A held customer's shares sum to
1, so the values at risk of all employees add up exactly to the *value exposed*: the value of the
customers that anybody holds. Customers nobody holds are reported apart (``value_unheld``): they are not
at risk from a departure - they are not bound at all.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from .._validation import check_scalar, non_number_problem, raise_if, row_problem
from ..errors import InvalidInputError
from ._kernels import sum_by
from .config import BindingConfig
from .data import BindingData
from .ladders import with_strength
from .measures import BindingMeasures, measure_binding

__all__ = ["EmployeeRisk", "HandoverResult", "customer_values", "simulate_handover", "value_at_risk"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def customer_values(data: BindingData, values: Any, *, where: str = "value_at_risk()") -> FloatArray:
    """Per-customer values as a float array in ``data.customer_ids`` order.

    ``values`` is an array of shape (n_customers,) aligned to ``data.customer_ids`` (e.g. CLV from the
    valuation layer) or a mapping of customer id to value (absent customers count 0). Values must be finite.

    Examples
    --------
    >>> from clvkit.binding import BindingData
    >>> con = {"contact_id": ["P1", "P2"], "customer_id": ["C2", "C1"], "org_level": [1, 1]}
    >>> d = BindingData(employees=[], contacts=con, relationships=[], touchpoints=[], as_of="2024-01-01")
    >>> customer_values(d, {"C2": 7.0}).tolist(), customer_values(d, [1.0, 2.0]).tolist()
    ([0.0, 7.0], [1.0, 2.0])
    """
    if isinstance(values, Mapping):
        bad = [k for k, v in values.items()
               if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.integer, np.floating))]
        if bad:
            raise InvalidInputError(f"The 'values' parameter of {where} must map customer ids to real numbers; "
                                    f"{len(bad)} do not, first {bad[0]!r}: {values[bad[0]]!r}.")
        arr = data.align(values)
    else:
        try:
            problem = non_number_problem(np.asarray(values), "values")
        except (TypeError, ValueError):
            problem = None  # reported below as unreadable
        if problem is not None:  # numpy would parse strings and drop imaginary parts silently
            raise_if([problem], where)
        try:
            arr = np.asarray(values, dtype=np.float64).reshape(-1)
        except (TypeError, ValueError):
            raise InvalidInputError(f"The 'values' parameter of {where} must be numbers. Got {values!r}.") from None
        if arr.shape[0] != data.n_customers:
            raise InvalidInputError(
                f"The 'values' parameter of {where} must have one value per customer, aligned to "
                f"data.customer_ids: shape ({data.n_customers},). Got shape {arr.shape} instead; pass a mapping "
                "of customer id to value, or use data.align()."
            )
    raise_if([row_problem(~np.isfinite(arr), "values", "must be finite", "Fill or drop the missing values.",
                          data.customer_ids if data.customer_ids.dtype != object else None)], where)
    with np.errstate(over="ignore"):
        total = float(np.abs(arr).sum())
    if not math.isfinite(total):  # every sum of value (exposed, at risk, per team) must stay a float
        raise InvalidInputError(f"The 'values' parameter of {where} adds up to more than the largest float; express "
                                f"the values in a larger unit.")
    return arr


def _check_measures(measures: Any, where: str) -> None:
    if not isinstance(measures, BindingMeasures):
        raise InvalidInputError(f"The 'measures' parameter of {where} must be the BindingMeasures of "
                                f"measure_binding(). Got {type(measures).__name__} instead.")


@dataclass(frozen=True, eq=False)
class EmployeeRisk:
    """Value at risk per employee, ranked from the largest.

    Attributes
    ----------
    employee_id, team:
        The employees (every employee of the data), ranked by ``value_at_risk`` (ties by id).
    value_at_risk:
        ``sum_c value[c] * holding[c, e]``: what is exposed if the employee leaves.
    sole_value:
        Value of the single-threaded customers whose top employee this is (what walks out with them).
    customers_held, customers_sole:
        Number of customers the employee holds a share of, and of those single-threaded on them.
    mean_score:
        How well the employee's accounts are bound: the mean binding score (0-100) of the customers the
        employee holds, weighted by the employee's holding share of each, ``sum_c score[c] holding[c, e] /
        sum_c holding[c, e]``; ``NaN`` (undefined) for an employee who holds no customer.
    value_exposed:
        Value of the customers anybody holds; equals ``value_at_risk.sum()``.
    value_unheld:
        Value of the customers nobody holds.
    """

    employee_id: npt.NDArray[Any] = dataclasses.field(repr=False)
    team: npt.NDArray[Any] = dataclasses.field(repr=False)
    value_at_risk: FloatArray = dataclasses.field(repr=False)
    sole_value: FloatArray = dataclasses.field(repr=False)
    customers_held: IntArray = dataclasses.field(repr=False)
    customers_sole: IntArray = dataclasses.field(repr=False)
    mean_score: FloatArray = dataclasses.field(repr=False)
    value_exposed: float
    value_unheld: float

    @property
    def share_of_exposed(self) -> FloatArray:
        """Each employee's share of the value exposed (0 when nothing is exposed)."""
        total = self.value_exposed
        return self.value_at_risk / total if total != 0 else np.zeros_like(self.value_at_risk)

    def to_columns(self) -> dict[str, npt.NDArray[Any]]:
        """The per-employee columns as a mapping of name to array."""
        return {"employee_id": self.employee_id, "team": self.team, "value_at_risk": self.value_at_risk,
                "share_of_exposed": self.share_of_exposed, "sole_value": self.sole_value,
                "customers_held": self.customers_held, "customers_sole": self.customers_sole,
                "mean_score": self.mean_score}


def value_at_risk(measures: BindingMeasures, values: Any) -> EmployeeRisk:
    """Value each employee puts at risk by leaving, under the share rule of the module docstring.

    Parameters
    ----------
    measures:
        From :func:`~clvkit.binding.measure_binding`.
    values:
        Per-customer values, shape (n_customers,) in ``measures.customer_id`` order, or a mapping of
        customer id to value.

    Examples
    --------
    >>> from clvkit.binding import BindingData, measure_binding
    >>> emp = {"employee_id": ["E1", "E2"], "level": [3, 3]}
    >>> con = {"contact_id": ["P1", "P2", "P3"], "customer_id": ["C1", "C1", "C2"], "org_level": [3, 1, 3]}
    >>> rel = {"employee_id": ["E1", "E2", "E1"], "contact_id": ["P1", "P2", "P3"], "strength": [0.6, 0.2, 0.5],
    ...        "start": ["2023-01-01"] * 3}
    >>> m = measure_binding(BindingData(employees=emp, contacts=con, relationships=rel, touchpoints=[],
    ...                                 as_of="2024-06-30"))
    >>> risk = value_at_risk(m, {"C1": 1000.0, "C2": 400.0})
    >>> risk.employee_id.tolist(), risk.value_at_risk.tolist(), risk.value_exposed
    (['E1', 'E2'], [1150.0, 250.0], 1400.0)
    >>> risk.sole_value.tolist()  # C1 is 75% on E1 (below the 80% single-thread share), C2 is E1's alone
    [400.0, 0.0]
    >>> held = m.holdings().toarray()  # customers x employees; E1 holds 3/4 of C1 and all of C2
    >>> bool(np.allclose(risk.mean_score, (m.score @ held) / held.sum(axis=0)))
    True
    """
    _check_measures(measures, "value_at_risk()")
    data = measures.data
    c = data._c
    v = customer_values(data, values)
    n_e = c.n_employees
    pc, pe, h = measures.pair_customer, measures.pair_employee, measures.pair_holding
    var = sum_by(pe, v[pc] * h, n_e)
    held = measures.n_employees > 0
    top = measures.top_employee_code
    sole = measures.single_threaded & (top >= 0)
    sole_value = sum_by(top[sole], v[sole], n_e)
    held_share = sum_by(pe, h, n_e)
    mean_score = np.divide(sum_by(pe, measures.score[pc] * h, n_e), held_share, out=np.full(n_e, np.nan),
                           where=held_share > 0)
    order = np.lexsort((np.arange(n_e), -var))
    return EmployeeRisk(
        employee_id=c.employee_ids[order], team=data.employee_team[order], value_at_risk=var[order],
        sole_value=sole_value[order],
        customers_held=np.bincount(pe[h > 0], minlength=n_e).astype(np.int64)[order],
        customers_sole=np.bincount(top[sole], minlength=n_e).astype(np.int64)[order], mean_score=mean_score[order],
        value_exposed=float(v[held].sum()), value_unheld=float(v[~held].sum()),
    )


@dataclass(frozen=True, eq=False)
class HandoverResult:
    """Outcome of :func:`simulate_handover`.

    Attributes
    ----------
    employee_id:
        The employee who hands over and leaves.
    before, after:
        Binding measures before the hand-over and after it (with the employee gone).
    moved:
        Per handed-over relationship: ``customer_id``, ``contact_id``, ``receiver`` (``None`` when no one
        could take it: the relationship is lost), ``strength_before`` and ``strength_after``.
    risk_before, risk_after:
        Value at risk by employee before and after, when values were given.
    """

    employee_id: Any
    before: BindingMeasures = dataclasses.field(repr=False)
    after: BindingMeasures = dataclasses.field(repr=False)
    moved: dict[str, npt.NDArray[Any]] = dataclasses.field(repr=False)
    risk_before: EmployeeRisk | None = dataclasses.field(default=None, repr=False)
    risk_after: EmployeeRisk | None = dataclasses.field(default=None, repr=False)

    @property
    def affected(self) -> npt.NDArray[np.bool_]:
        """Customers the leaving employee held a share of before, shape (n_customers,)."""
        b = self.before
        e = int(b.data.employee_index([self.employee_id])[0])
        return sum_by(b.pair_customer, (b.pair_employee == e) & (b.pair_holding > 0), len(b)) > 0

    @property
    def score_change(self) -> FloatArray:
        """``after.score - before.score`` per customer."""
        return self.after.score - self.before.score

    @property
    def n_lost(self) -> int:
        """Relationships that no one could take over."""
        return int(sum(r is None for r in self.moved["receiver"].tolist()))


def _receivers(data: BindingData, before: BindingMeasures, e: int, customers: IntArray, to: Any) -> IntArray:
    """Receiver code per handed-over relationship (-1: lost), by the rule of :func:`simulate_handover`."""
    c = data._c
    present = c.employee_present()
    present[e] = False
    n_c = data.n_customers
    # default: the other present employee with the largest holding at the customer ...
    ok = present[before.pair_employee] & (before.pair_holding > 0)
    best = np.full(n_c, -1, dtype=np.int64)
    idx = np.flatnonzero(ok)
    if idx.size:
        order = idx[np.lexsort((before.pair_employee[idx], -before.pair_holding[idx], before.pair_customer[idx]))]
        first = order[np.r_[True, before.pair_customer[order][1:] != before.pair_customer[order][:-1]]]
        best[before.pair_customer[first]] = before.pair_employee[first]
    # ... else the most senior present colleague of the same team (ties: smallest id)
    team = c.employee_team[e]
    mates = np.flatnonzero(present & (c.employee_team == team)) if team >= 0 else np.zeros(0, dtype=np.int64)
    fallback = int(mates[np.lexsort((mates, -c.employee_level[mates].astype(np.int64)))][0]) if mates.size else -1
    best[best < 0] = fallback
    if isinstance(to, Mapping):
        keys = list(to.keys())
        target = data.employee_index(np.asarray([to[k] for k in keys]))
        best[data.customer_index(np.asarray(keys))] = target
        chosen = target
    elif to is not None:
        chosen = data.employee_index([to])
        best[:] = chosen[0]
    else:
        chosen = np.zeros(0, dtype=np.int64)
    bad = (chosen == e) | ~present[chosen]
    if bad.any():
        raise InvalidInputError(
            f"The 'to' parameter of simulate_handover() must name present employees other than the one leaving. "
            f"Got {c.employee_ids[chosen[bad]].tolist()}."
        )
    return best[customers]


def simulate_handover(data: BindingData, employee_id: Any, *, to: Any = None, strength_kept: float = 0.5,
                      values: Any = None, config: BindingConfig | None = None) -> HandoverResult:
    """Hand one employee's active relationships over to colleagues, let the employee leave, and re-score.

    Rule: each active relationship of the leaving employee is re-assigned to a receiver, starts afresh at
    ``as_of`` with ``strength * strength_kept`` (a new person does not inherit the full closeness; 0.5 is
    clvkit's default) and the receiver's level; the employee is then no longer present (``left_at =
    as_of``), so their touchpoints and project seats stop counting. Receiver per customer: ``to`` (an
    employee id for all, or a mapping of customer id to employee id); by default the other present
    employee with the largest holding of that customer, else the most senior present colleague of the
    leaver's team; with neither, the relationship is lost. The employee must still be present at
    ``as_of``.

    Examples
    --------
    >>> from clvkit.binding import BindingData
    >>> emp = {"employee_id": ["E1", "E2"], "level": [3, 3], "team": ["N", "N"]}
    >>> con = {"contact_id": ["P1", "P2"], "customer_id": ["C1", "C1"], "org_level": [3, 1]}
    >>> rel = {"employee_id": ["E1", "E2"], "contact_id": ["P1", "P2"], "strength": [0.8, 0.4],
    ...        "start": ["2023-01-01"] * 2}
    >>> data = BindingData(employees=emp, contacts=con, relationships=rel, touchpoints=[], as_of="2024-06-30")
    >>> h = simulate_handover(data, "E1", values=[1000.0])
    >>> h.moved["receiver"].tolist(), h.moved["strength_after"].tolist()
    (['E2'], [0.4])
    >>> h.risk_before.employee_id.tolist(), h.risk_before.value_at_risk.round(2).tolist()  # E1 held 2/3
    (['E1', 'E2'], [666.67, 333.33])
    >>> h.risk_after.employee_id.tolist(), h.risk_after.value_at_risk.tolist()
    (['E2', 'E1'], [1000.0, 0.0])
    >>> h.before.score.round(1).tolist(), h.after.score.round(1).tolist()  # one employee left: less breadth
    ([26.3], [18.3])
    """
    if not isinstance(data, BindingData):
        raise InvalidInputError(f"The 'data' parameter of simulate_handover() must be a BindingData. Got "
                                f"{type(data).__name__} instead.")
    cfg = config if config is not None else BindingConfig()
    if isinstance(strength_kept, (bool, np.bool_)) or not isinstance(strength_kept, (int, float, np.integer,
                                                                                       np.floating)):
        raise InvalidInputError(f"The 'strength_kept' parameter of simulate_handover() must be a real number in "
                                f"[0, 1]. Got {strength_kept!r} instead.")
    kept = check_scalar(strength_kept, "strength_kept", "simulate_handover()", low=0.0, high=1.0)
    if isinstance(employee_id, (list, tuple, dict, set, frozenset)) or np.ndim(employee_id) != 0:
        raise InvalidInputError(f"The 'employee_id' parameter of simulate_handover() must be one employee id. Got "
                                f"{employee_id!r} instead; hand over one employee at a time.")
    e = int(data.employee_index([employee_id])[0])
    c = data._c
    if not c.employee_present()[e]:
        # their ties already count for nothing; re-assigning them would revive relationships nobody holds
        raise InvalidInputError(
            f"The 'employee_id' parameter of simulate_handover() must name an employee present at as_of "
            f"({data.as_of.isoformat()}). Got {employee_id!r}, who has already left."
        )
    before = measure_binding(data, cfg)
    c = with_strength(c, cfg.ladders)  # rungs as strengths, so the kept share applies to them too
    t = c.as_of
    mine = (c.rel_employee == e) & (c.rel_start <= t) & (c.rel_end > t) & (c.rel_strength > cfg.min_strength)
    rows = np.flatnonzero(mine)
    receiver = _receivers(data, before, e, c.rel_customer[rows], to)
    got = receiver >= 0
    rel_employee, rel_strength = c.rel_employee.copy(), c.rel_strength.copy()
    rel_start, rel_end, rel_level = c.rel_start.copy(), c.rel_end.copy(), c.rel_employee_level.copy()
    rel_employee[rows[got]] = receiver[got]
    rel_strength[rows[got]] *= kept
    rel_start[rows[got]] = t
    rel_level[rows[got]] = c.employee_level[receiver[got]]
    rel_end[rows[~got]] = t
    left_at = c.employee_left_at.copy()
    left_at[e] = t
    after_data = BindingData._from_coded(c.replace(
        rel_employee=rel_employee, rel_strength=rel_strength, rel_start=rel_start, rel_end=rel_end,
        rel_employee_level=rel_level, employee_left_at=left_at))
    after = measure_binding(after_data, cfg)
    names = np.concatenate([c.employee_ids.astype(object), np.array([None], dtype=object)])
    moved = {"customer_id": c.customer_ids[c.rel_customer[rows]], "contact_id": c.contact_ids[c.rel_contact[rows]],
             "receiver": names[receiver], "strength_before": c.rel_strength[rows],
             "strength_after": np.where(got, c.rel_strength[rows] * kept, 0.0)}
    risk_b = risk_a = None
    if values is not None:
        risk_b, risk_a = value_at_risk(before, values), value_at_risk(after, values)
    return HandoverResult(employee_id=c.employee_ids[e].item(), before=before, after=after, moved=moved,
                          risk_before=risk_b, risk_after=risk_a)
