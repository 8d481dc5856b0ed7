"""Binding: how firmly each customer is tied to the company rather than to one employee.

The book's chapter "from the salesperson's customer to the company's customer" names three binding
methods - hierarchical, industry and project binding - without formulas; clvkit defines measurable
versions and documents them as its own (see :mod:`clvkit.binding.measures`).

- :class:`BindingData` validates the people, relationships, touchpoints, industry ties and projects once
  and stores them as integer-coded arrays, as of a date.
- :func:`measure_binding` gives per-customer coverage, breadth, concentration, presence, ties and the
  0-100 binding score, configured by a frozen :class:`BindingConfig`.
- :func:`value_at_risk` ranks employees by the value exposed if they leave; :func:`simulate_handover`
  re-assigns one employee's relationships and re-scores.
- :func:`team_report` credits accounts bound together and flags accounts held alone, per employee, and
  shows how well each team's key customers are bound.
"""

from .config import BindingConfig, LevelMatch, LevelWeights, ScoreWeights
from .data import BindingData
from .entities import IndustryTie, IndustryTieKind, Project, ProjectMember
from .measures import LEVELS, SUB_SCORES, BindingMeasures, measure_binding
from .risk import EmployeeRisk, HandoverResult, customer_values, simulate_handover, value_at_risk
from .team import NO_TEAM, TeamReport, key_customer_mask, team_report

__all__ = [
    "LEVELS",
    "NO_TEAM",
    "SUB_SCORES",
    "BindingConfig",
    "BindingData",
    "BindingMeasures",
    "EmployeeRisk",
    "HandoverResult",
    "IndustryTie",
    "IndustryTieKind",
    "LevelMatch",
    "LevelWeights",
    "Project",
    "ProjectMember",
    "ScoreWeights",
    "TeamReport",
    "customer_values",
    "key_customer_mask",
    "measure_binding",
    "simulate_handover",
    "team_report",
    "value_at_risk",
]
