"""Binding: how firmly each customer is tied to the company rather than to one employee.

The CLV management-system book's (text 000) chapter "from the salesperson's customer to the company's
customer" (从个人的客户到公司的客户) names three binding
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
- :class:`LadderConfig` turns ladder rungs (closeness, grade, pyramid stage) into strength when no number is
  given; :func:`ladder_report` checks each employee's closeness mix against the 50/10/3-5 rule of thumb and
  counts the ties that moved up the ladders.
- :func:`activity_report` is the battle map (作战地图): per employee and week, contacts by the five contact
  functions, customers touched by tier, key customers not contacted, key actions checked.
- :func:`read_binding_dir` reads a directory of CSV/Parquet tables; :func:`load_b2b_sample` loads the
  bundled synthetic sample; :func:`format_report` and :func:`cli_report` give the plain-text report.
"""

from .activity import (
    FUNCTIONS,
    ActivityConfig,
    ActivityReport,
    KeyAction,
    activity_report,
    cli_activity,
    format_activity,
)
from .config import BindingConfig, LevelMatch, LevelWeights, ScoreWeights
from .data import BindingData
from .entities import IndustryTie, IndustryTieKind, Project, ProjectMember
from .io import B2B_SAMPLE_AS_OF, BindingDataset, ScoreValues, load_b2b_sample, read_binding_dir, read_score_values
from .ladders import LADDERS, LadderConfig, LadderReport, ladder_report
from .measures import LEVELS, SUB_SCORES, BindingMeasures, measure_binding
from .report import cli_report, format_report
from .risk import EmployeeRisk, HandoverResult, customer_values, simulate_handover, value_at_risk
from .team import NO_TEAM, TeamReport, key_customer_mask, team_report

__all__ = [
    "B2B_SAMPLE_AS_OF",
    "FUNCTIONS",
    "LADDERS",
    "LEVELS",
    "NO_TEAM",
    "SUB_SCORES",
    "ActivityConfig",
    "ActivityReport",
    "BindingConfig",
    "BindingData",
    "BindingDataset",
    "BindingMeasures",
    "EmployeeRisk",
    "HandoverResult",
    "IndustryTie",
    "IndustryTieKind",
    "KeyAction",
    "LadderConfig",
    "LadderReport",
    "LevelMatch",
    "LevelWeights",
    "Project",
    "ProjectMember",
    "ScoreValues",
    "ScoreWeights",
    "TeamReport",
    "activity_report",
    "cli_activity",
    "cli_report",
    "customer_values",
    "format_activity",
    "format_report",
    "key_customer_mask",
    "ladder_report",
    "load_b2b_sample",
    "measure_binding",
    "read_binding_dir",
    "read_score_values",
    "simulate_handover",
    "team_report",
    "value_at_risk",
]
