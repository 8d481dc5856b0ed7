"""The integer-coded arrays behind :class:`~clvkit.binding.BindingData` (no validation, no Pydantic).

Ids are coded as dense int64 positions into the id arrays; times are float64 POSIX seconds (UTC) with
``+inf`` for an open end and ``-inf`` for an unknown start; levels are the ladder ranks (int8, 0 = not
recorded). ``rel_strength`` is NaN where a relationship gives its ladder rungs instead of a number
(see :mod:`clvkit.binding.ladders`).
Touchpoints are sorted by customer, then time (to the second). Every (customer, employee)
combination that occurs in a relationship, a touchpoint or a project team is a *pair*; pairs are sorted
by (customer, employee) and each row carries its pair code, so the scoring kernels aggregate with
``np.bincount`` and never sort.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["Coded", "index_pairs"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
I8Array = npt.NDArray[np.int8]

_EMPTY_INT: IntArray = np.zeros(0, dtype=np.int64)


def _empty() -> IntArray:
    return np.zeros(0, dtype=np.int64)


@dataclass(frozen=True)
class Coded:
    """All binding inputs as coded, read-only arrays; see the module docstring for the conventions."""

    as_of: float
    customer_ids: npt.NDArray[Any]
    employee_ids: npt.NDArray[Any]
    contact_ids: npt.NDArray[Any]
    team_names: npt.NDArray[Any]
    project_ids: npt.NDArray[Any]
    employee_level: I8Array
    employee_team: IntArray
    employee_active: BoolArray
    employee_left_at: FloatArray
    contact_customer: IntArray
    contact_level: I8Array
    contact_is_successor: BoolArray
    rel_employee: IntArray
    rel_contact: IntArray
    rel_customer: IntArray
    rel_strength: FloatArray
    rel_start: FloatArray
    rel_end: FloatArray
    rel_employee_level: I8Array
    rel_contact_level: I8Array
    rel_closeness: I8Array
    rel_grade: I8Array
    rel_pyramid_stage: I8Array
    tp_customer: IntArray
    tp_employee: IntArray
    tp_contact: IntArray
    tp_time: FloatArray
    tp_channel: I8Array
    tp_functions: IntArray
    tie_customer: IntArray
    tie_kind: I8Array
    tie_start: FloatArray
    tie_end: FloatArray
    project_customer: IntArray
    project_start: FloatArray
    project_end: FloatArray
    member_project: IntArray
    member_employee: IntArray
    pair_customer: IntArray = field(default_factory=_empty)
    pair_employee: IntArray = field(default_factory=_empty)
    rel_pair: IntArray = field(default_factory=_empty)
    tp_pair: IntArray = field(default_factory=_empty)
    member_pair: IntArray = field(default_factory=_empty)

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, np.ndarray) and value.flags.writeable:
                value = value.copy() if value.base is not None else value
                value.flags.writeable = False
                object.__setattr__(self, f.name, value)

    @property
    def n_customers(self) -> int:
        return int(self.customer_ids.shape[0])

    @property
    def n_employees(self) -> int:
        return int(self.employee_ids.shape[0])

    def employee_present(self) -> BoolArray:
        """Whether each employee still works for the company at ``as_of`` (see BindingData)."""
        left = self.employee_left_at
        return np.where(np.isfinite(left), left > self.as_of, self.employee_active)

    def replace(self, **changes: Any) -> Coded:
        """A copy with ``changes`` applied; touchpoints re-sorted and pairs re-indexed."""
        return index_pairs(dataclasses.replace(self, **changes))


def _touchpoint_order(c: Coded) -> IntArray | None:
    """Order of the touchpoints by (customer, whole second), or ``None`` when they are already in order.

    One quicksort of a packed int64 key (customer in the high bits) is several times faster than
    ``np.lexsort``; rows tied within a second may come in any order, which no measure depends on.
    """
    n = c.tp_time.shape[0]
    if n == 0:
        return None
    secs = np.floor(c.tp_time - c.tp_time.min()).astype(np.int64)
    shift = 63 - max(c.n_customers, 1).bit_length()
    if int(secs.max()) < (1 << shift):
        key = (c.tp_customer << shift) | secs
        if np.all(key[1:] >= key[:-1]):
            return None
        return np.argsort(key).astype(np.int64)
    return np.lexsort((c.tp_time, c.tp_customer)).astype(np.int64)  # pragma: no cover - times span > 1e4 years


def _unique_inverse(keys: IntArray) -> tuple[IntArray, IntArray]:
    # np.unique(return_inverse=True) does the same at twice the cost (it flattens and sorts stably)
    if keys.size == 0:
        return keys, keys
    order = np.argsort(keys)
    s = keys[order]
    first = np.r_[True, s[1:] != s[:-1]]
    inverse = np.empty(keys.shape[0], dtype=np.int64)
    inverse[order] = np.cumsum(first) - 1
    return s[first], inverse


def index_pairs(c: Coded) -> Coded:
    """``c`` with touchpoints sorted by (customer, time) and the pair table built."""
    order = _touchpoint_order(c)
    changes: dict[str, Any] = {}
    if order is not None:
        changes = {name: getattr(c, name)[order] for name in
                   ("tp_customer", "tp_employee", "tp_contact", "tp_time", "tp_channel", "tp_functions")}
    tp_customer = changes.get("tp_customer", c.tp_customer)
    tp_employee = changes.get("tp_employee", c.tp_employee)
    n_e = max(c.n_employees, 1)
    member_customer = c.project_customer[c.member_project] if c.member_project.size else _EMPTY_INT
    keys = np.concatenate([
        c.rel_customer * n_e + c.rel_employee,
        tp_customer * n_e + tp_employee,
        member_customer * n_e + c.member_employee,
    ])
    uniq, inverse = _unique_inverse(keys)
    n_rel, n_tp = c.rel_customer.shape[0], tp_customer.shape[0]
    changes.update(
        pair_customer=uniq // n_e,
        pair_employee=uniq % n_e,
        rel_pair=inverse[:n_rel],
        tp_pair=inverse[n_rel:n_rel + n_tp],
        member_pair=inverse[n_rel + n_tp:],
    )
    return dataclasses.replace(c, **changes)
