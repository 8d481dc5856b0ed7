"""Binding: how firmly each customer is tied to the company rather than to one employee.

The book's chapter "from the salesperson's customer to the company's customer" names three binding
methods - hierarchical, industry and project binding - without formulas; clvkit defines measurable
versions and documents them as its own (see :mod:`clvkit.binding.measures`).

- :class:`BindingData` validates the people, relationships, touchpoints, industry ties and projects once
  and stores them as integer-coded arrays, as of a date.
- :func:`measure_binding` gives per-customer coverage, breadth, concentration, presence, ties and the
  0-100 binding score, configured by a frozen :class:`BindingConfig`.
"""

from .config import BindingConfig, LevelMatch, LevelWeights, ScoreWeights
from .data import BindingData
from .entities import IndustryTie, IndustryTieKind, Project, ProjectMember
from .measures import LEVELS, SUB_SCORES, BindingMeasures, measure_binding

__all__ = [
    "LEVELS",
    "SUB_SCORES",
    "BindingConfig",
    "BindingData",
    "BindingMeasures",
    "IndustryTie",
    "IndustryTieKind",
    "LevelMatch",
    "LevelWeights",
    "Project",
    "ProjectMember",
    "ScoreWeights",
    "measure_binding",
]
