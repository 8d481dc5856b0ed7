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
- :func:`read_binding_dir` reads a directory of CSV/Parquet tables; :func:`load_b2b_sample` loads the
  bundled synthetic sample; :func:`format_report` and :func:`cli_report` give the plain-text report.
"""

from .config import BindingConfig, LevelMatch, LevelWeights, ScoreWeights
from .data import BindingData
from .entities import IndustryTie, IndustryTieKind, Project, ProjectMember
from .io import B2B_SAMPLE_AS_OF, BindingDataset, load_b2b_sample, read_binding_dir
from .measures import LEVELS, SUB_SCORES, BindingMeasures, measure_binding
from .report import cli_report, format_report
from .risk import EmployeeRisk, HandoverResult, customer_values, simulate_handover, value_at_risk
from .team import NO_TEAM, TeamReport, key_customer_mask, team_report

__all__ = [
    "B2B_SAMPLE_AS_OF",
    "LEVELS",
    "NO_TEAM",
    "SUB_SCORES",
    "BindingConfig",
    "BindingData",
    "BindingDataset",
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
    "cli_report",
    "customer_values",
    "format_report",
    "key_customer_mask",
    "load_b2b_sample",
    "measure_binding",
    "read_binding_dir",
    "simulate_handover",
    "team_report",
    "value_at_risk",
]
