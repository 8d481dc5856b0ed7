"""Relationship ladders that count: strength from a rung, the closeness check per employee, movement up the ladders.

The texts describe a relationship by rungs, not by numbers:

- personal closeness, passer-by -> acquaintance -> friend -> confidant (过客、熟人、朋友、知己), with the rule of
  thumb that of 100 people met roughly 50 become acquaintances, about 10 friends and 3-5 confidants (text 004;
  :class:`~clvkit.domain.Closeness`);
- relationship grade, loose -> close -> die-hard -> strategic partner (松散型、紧密型、死党型、战略合作伙伴;
  张子凡 CRM notes, text 003; :class:`~clvkit.domain.RelationshipGrade`);
- the relationship pyramid, basic -> cooperative -> interdependent (基础、合作、相互依存阶段; text 003;
  :class:`~clvkit.domain.RelationshipPyramidStage`).

The texts give no number for a rung. :class:`LadderConfig` is **clvkit's default table** (configurable) that turns
the rungs recorded on a relationship into the 0-1 strength the binding measures use when no numeric strength is
given: each recorded ladder gives the strength of its rung, and the strengths of the ladders recorded are combined
(their mean by default, or their maximum). A numeric strength, when given, always wins.

:func:`ladder_report` checks each employee's closeness mix against the 50/10/3-5 rule and counts, from dated
relationship records (one row per period of a tie, with ``start`` and ``end``), which ties moved up or down
each ladder over ``movement_days``.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from pydantic import Field, model_validator

from .._pydantic import FrozenModel
from ..domain import Closeness, RelationshipGrade, RelationshipPyramidStage
from ..errors import InvalidInputError
from ._coded import Coded

__all__ = ["CHINESE_RUNGS", "LADDERS", "LadderConfig", "LadderReport", "ladder_report"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

Strength = float
_DAY = 86400.0

#: The ladders a relationship may record, by their column name in the relationships table.
LADDERS: dict[str, type[Closeness] | type[RelationshipGrade] | type[RelationshipPyramidStage]] = {
    "closeness": Closeness, "grade": RelationshipGrade, "pyramid_stage": RelationshipPyramidStage}


#: The texts' own words for the rungs, accepted in a relationships table beside the English names and the ranks:
#: 过客/熟人/朋友/知己 (text 004), 松散型/紧密型/死党型/战略合作伙伴 and the pyramid's 基础/合作/相互依存 stages
#: (张子凡 CRM notes, text 003).
CHINESE_RUNGS: dict[str, dict[str, int]] = {
    "closeness": {"过客": 1, "路人": 1, "熟人": 2, "朋友": 3, "知己": 4},
    "grade": {"松散型": 1, "松散": 1, "紧密型": 2, "紧密": 2, "死党型": 3, "死党": 3, "战略合作伙伴": 4,
              "战略合作伙伴关系": 4},
    "pyramid_stage": {"基础阶段": 1, "基础": 1, "合作阶段": 2, "合作": 2, "相互依存阶段": 3, "相互依存": 3},
}


def _check_rungs(name: str, values: tuple[float, ...]) -> None:
    if not all(math.isfinite(v) and 0.0 <= v <= 1.0 for v in values):
        raise ValueError(f"'{name}' strengths must be numbers in [0, 1]; got {list(values)}.")
    if any(b < a for a, b in itertools.pairwise(values)):
        raise ValueError(f"'{name}' strengths must not fall as the rung rises (a higher rung is never weaker); "
                         f"got {list(values)}.")


class LadderConfig(FrozenModel):
    """clvkit's default table from ladder rungs to relationship strength, and the closeness rule of thumb.

    Every number here is **clvkit's own default**: the texts order the rungs but give no strength. Rungs are
    listed from the lowest up.

    Attributes
    ----------
    closeness:
        Strength of passer-by, acquaintance, friend, confidant (过客、熟人、朋友、知己; text 004).
    grade:
        Strength of loose, close, die-hard, strategic partner (text 003).
    pyramid_stage:
        Strength of the basic, cooperative, interdependent stage (text 003).
    combine:
        How the strengths of several recorded ladders make one: ``"mean"`` (default) or ``"max"``.
    closeness_target:
        Shares of passer-by, acquaintance, friend, confidant the rule of thumb expects among an employee's
        contacts: "of 100 people met roughly 50 become acquaintances, about 10 friends and 3-5 confidants"
        (text 004); clvkit takes 4 confidants (the middle of 3-5) and the remaining 36 as passers-by. Must sum to 1.
    movement_days:
        The span of :func:`ladder_report`'s movement: rungs at ``as_of - movement_days`` against rungs at ``as_of``.

    Examples
    --------
    >>> cfg = LadderConfig()
    >>> cfg.strength("closeness", 3), cfg.strength("grade", 4)
    (0.7, 1.0)
    >>> LadderConfig(closeness=(0.1, 0.5, 0.4, 0.9))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    clvkit.errors.InvalidInputError: ...must not fall as the rung rises...
    """

    closeness: tuple[Strength, Strength, Strength, Strength] = (0.1, 0.4, 0.7, 0.95)
    grade: tuple[Strength, Strength, Strength, Strength] = (0.2, 0.5, 0.8, 1.0)
    pyramid_stage: tuple[Strength, Strength, Strength] = (0.3, 0.6, 0.9)
    combine: Literal["mean", "max"] = "mean"
    closeness_target: tuple[float, float, float, float] = (0.36, 0.50, 0.10, 0.04)
    movement_days: float = Field(default=365.0, gt=0.0, le=36500.0, allow_inf_nan=False)

    @model_validator(mode="after")
    def _valid(self) -> LadderConfig:
        for name in LADDERS:
            _check_rungs(name, getattr(self, name))
        target = self.closeness_target
        if not all(math.isfinite(v) and v >= 0.0 for v in target) or abs(sum(target) - 1.0) > 1e-9:
            raise ValueError(f"'closeness_target' must be four shares >= 0 that sum to 1; got {list(target)}.")
        return self

    def strength(self, ladder: str, rank: int) -> float:
        """The strength of rung ``rank`` (1 = lowest) of ``ladder`` (a key of :data:`LADDERS`)."""
        table: tuple[float, ...] = getattr(self, ladder)
        return float(table[rank - 1])

    def table(self, ladder: str) -> FloatArray:
        """Strength by rank, index 0 (not recorded) = NaN."""
        return np.array((math.nan, *getattr(self, ladder)), dtype=np.float64)


def ladder_strength(c: Coded, cfg: LadderConfig) -> FloatArray:
    """Each relationship's strength from its rungs (NaN where no ladder is recorded)."""
    n = c.rel_strength.shape[0]
    parts = [cfg.table(name)[getattr(c, f"rel_{name}")] for name in LADDERS]
    stack = np.stack(parts, axis=1) if n else np.zeros((0, len(LADDERS)))
    some = ~np.isnan(stack).all(axis=1)
    out = np.full(n, math.nan)
    if some.any():
        filled = stack[some]
        if cfg.combine == "max":
            out[some] = np.nanmax(filled, axis=1)
        else:
            out[some] = np.nansum(filled, axis=1) / (~np.isnan(filled)).sum(axis=1)
    return out


def with_strength(c: Coded, cfg: LadderConfig) -> Coded:
    """``c`` with every relationship's strength: the numeric one where given, else the one of its rungs."""
    missing = np.isnan(c.rel_strength)
    if not missing.any():
        return c
    strength = np.where(missing, ladder_strength(c, cfg), c.rel_strength)
    return dataclasses.replace(c, rel_strength=np.where(np.isnan(strength), 0.0, strength))


@dataclass(frozen=True, eq=False)
class LadderReport:
    """What :func:`ladder_report` returns.

    Attributes
    ----------
    closeness:
        One row per present employee with at least one active relationship whose closeness is recorded:
        ``employee_id``, ``contacts`` (such relationships), ``passer_by``, ``acquaintance``, ``friend``,
        ``confidant`` (counts), ``share_<rung>`` (shares) and ``distance`` - half the sum of the absolute
        differences between the shares and ``closeness_target`` (0 = the rule of thumb exactly, 1 = nothing in
        common; clvkit's measure). Largest distance first.
    movement:
        One row per ladder (``ladder``), over the ties of employees present at ``as_of``: ``compared`` ties whose
        rung is known at both dates, ``up``, ``down``, ``same``, and ``new`` (a rung at ``as_of`` but none at the
        earlier date).
    movement_by_employee:
        ``employee_id``, ``up``, ``down``: moves on any ladder, per employee holding the tie at ``as_of``; most
        up first.
    since, as_of:
        The two dates compared (POSIX seconds, UTC).
    target:
        The closeness target shares used.
    """

    closeness: dict[str, npt.NDArray[Any]]
    movement: dict[str, npt.NDArray[Any]]
    movement_by_employee: dict[str, npt.NDArray[Any]]
    since: float
    as_of: float
    target: tuple[float, float, float, float]

    @property
    def has_closeness(self) -> bool:
        """Whether any employee has a closeness on record."""
        return bool(len(self.closeness["employee_id"]))

    @property
    def has_movement(self) -> bool:
        """Whether any tie has a rung at both dates or a new rung."""
        return bool(np.sum(self.movement["compared"]) + np.sum(self.movement["new"]))


def _rung_at(c: Coded, ranks: npt.NDArray[np.int8], t: float) -> tuple[IntArray, IntArray]:
    """For each (employee, contact) tie: its rung at ``t`` (the record in force with the latest start; 0 = none).

    Returns the tie key (employee * n_contacts + contact) of every tie with a rung at ``t`` and the rungs.
    """
    n_con = max(int(c.contact_ids.shape[0]), 1)
    on = (c.rel_start <= t) & (c.rel_end > t) & (ranks > 0) & (c.rel_employee >= 0) & (c.rel_contact >= 0)
    idx = np.flatnonzero(on)
    if idx.size == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    key = c.rel_employee[idx] * n_con + c.rel_contact[idx]
    order = np.lexsort((c.rel_start[idx], key))  # by key, then start: the last of each key is the latest
    key, idx = key[order], idx[order]
    last = np.r_[key[1:] != key[:-1], True]
    return key[last], ranks[idx[last]].astype(np.int64)


def ladder_report(data: Any, config: Any = None) -> LadderReport:
    """The closeness check per employee and the movement up the ladders (see :class:`LadderReport`).

    Parameters
    ----------
    data:
        A :class:`~clvkit.binding.BindingData`.
    config:
        A :class:`LadderConfig`, or a :class:`~clvkit.binding.BindingConfig` (its ``ladders``); default
        ``LadderConfig()``.

    Examples
    --------
    One employee with four contacts; a tie that was an acquaintance a year ago is a friend now:

    >>> from clvkit.binding import BindingData
    >>> emp = {"employee_id": ["E1"], "level": [3]}
    >>> con = {"contact_id": ["P1", "P2", "P3", "P4"], "customer_id": ["C1"] * 4, "org_level": [3, 1, 1, 2]}
    >>> rel = {"employee_id": ["E1"] * 5, "contact_id": ["P1", "P1", "P2", "P3", "P4"],
    ...        "closeness": ["acquaintance", "friend", "passer_by", "acquaintance", "acquaintance"],
    ...        "start": ["2023-01-01", "2024-03-01", "2023-01-01", "2023-01-01", "2023-01-01"],
    ...        "end": ["2024-03-01", "", "", "", ""]}
    >>> r = ladder_report(BindingData(employees=emp, contacts=con, relationships=rel, touchpoints=[],
    ...                               as_of="2024-06-30"))
    >>> [int(r.closeness[k][0]) for k in ("contacts", "passer_by", "acquaintance", "friend", "confidant")]
    [4, 1, 2, 1, 0]
    >>> round(float(r.closeness["distance"][0]), 2)  # (|.25-.36| + |.5-.5| + |.25-.1| + |0-.04|) / 2
    0.15
    >>> int(r.movement["up"][0]), int(r.movement["same"][0])  # closeness: P1 moved up, P2-P4 stayed
    (1, 3)
    """
    from .config import BindingConfig
    from .data import BindingData

    if not isinstance(data, BindingData):
        raise InvalidInputError(f"The 'data' parameter of ladder_report() must be a BindingData. "
                                f"Got {type(data).__name__} instead.")
    if config is None:
        cfg = LadderConfig()
    elif isinstance(config, BindingConfig):
        cfg = config.ladders
    elif isinstance(config, LadderConfig):
        cfg = config
    else:
        raise InvalidInputError(f"The 'config' parameter of ladder_report() must be a LadderConfig, a BindingConfig "
                                f"or None. Got {type(config).__name__} instead.")
    c = data._c
    t = c.as_of
    since = t - cfg.movement_days * _DAY
    return LadderReport(closeness=_closeness(c, cfg), **_movement(c, since), since=since, as_of=t,
                        target=cfg.closeness_target)


_RUNGS = ("passer_by", "acquaintance", "friend", "confidant")


def _closeness(c: Coded, cfg: LadderConfig) -> dict[str, npt.NDArray[Any]]:
    n_e = c.n_employees
    present = c.employee_present()
    key, rung = _rung_at(c, c.rel_closeness, c.as_of)
    n_con = max(int(c.contact_ids.shape[0]), 1)
    emp = key // n_con
    keep = present[emp] if emp.size else np.zeros(0, dtype=bool)
    emp, rung = emp[keep], rung[keep]
    counts = np.zeros((n_e, 4), dtype=np.int64)
    np.add.at(counts, (emp, rung - 1), 1)
    total = counts.sum(axis=1)
    rows = np.flatnonzero(total > 0)
    shares = counts[rows] / total[rows, None]
    distance = 0.5 * np.abs(shares - np.asarray(cfg.closeness_target)).sum(axis=1)
    order = np.lexsort((rows, -distance))
    out: dict[str, npt.NDArray[Any]] = {"employee_id": c.employee_ids[rows[order]],
                                        "contacts": total[rows[order]]}
    for j, name in enumerate(_RUNGS):
        out[name] = counts[rows[order], j]
    for j, name in enumerate(_RUNGS):
        out[f"share_{name}"] = shares[order, j]
    out["distance"] = distance[order]
    return out


def _movement(c: Coded, since: float) -> dict[str, dict[str, npt.NDArray[Any]]]:
    n_e = c.n_employees
    n_con = max(int(c.contact_ids.shape[0]), 1)
    present = c.employee_present()
    rows: dict[str, list[Any]] = {k: [] for k in ("ladder", "compared", "up", "down", "same", "new")}
    up_e, down_e = np.zeros(n_e, dtype=np.int64), np.zeros(n_e, dtype=np.int64)
    for name in LADDERS:
        ranks = getattr(c, f"rel_{name}")
        k_now, r_now = _rung_at(c, ranks, c.as_of)
        held = present[k_now // n_con] if k_now.size else np.zeros(0, dtype=bool)  # ties of people still here
        k_now, r_now = k_now[held], r_now[held]
        k_then, r_then = _rung_at(c, ranks, since)
        pos = np.searchsorted(k_then, k_now)
        found = (pos < k_then.shape[0]) & (k_then[np.minimum(pos, max(k_then.shape[0] - 1, 0))] == k_now) \
            if k_then.size else np.zeros(k_now.shape[0], dtype=bool)
        before = np.where(found, r_then[np.minimum(pos, max(k_then.shape[0] - 1, 0))] if k_then.size else 0, 0)
        up, down = found & (r_now > before), found & (r_now < before)
        np.add.at(up_e, k_now[up] // n_con, 1)
        np.add.at(down_e, k_now[down] // n_con, 1)
        for k, v in (("ladder", name), ("compared", int(found.sum())), ("up", int(up.sum())),
                     ("down", int(down.sum())), ("same", int((found & (r_now == before)).sum())),
                     ("new", int((~found).sum()))):
            rows[k].append(v)
    movement = {k: np.asarray(v) for k, v in rows.items()}
    moved = np.flatnonzero((up_e + down_e) > 0)
    moved = moved[np.lexsort((moved, down_e[moved], -up_e[moved]))]
    by_emp = {"employee_id": c.employee_ids[moved], "up": up_e[moved], "down": down_e[moved]}
    return {"movement": movement, "movement_by_employee": by_emp}
