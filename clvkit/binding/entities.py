"""Entities that binding needs and :mod:`clvkit.domain` lacks: industry ties, projects and their teams.

They follow the domain conventions: frozen, unknown fields refused, ids kept verbatim, datetimes
timezone-aware, exact JSON round trip. Unlike the domain entities they are :class:`clvkit._pydantic.FrozenModel`s:
a bad argument raises :class:`~clvkit.InvalidInputError` naming the field (the domain keeps Pydantic's
``ValidationError`` because its import contract keeps it free of clvkit's modules; binding has no such limit).
``model_validate_json`` is strict, as for every ``FrozenModel``.
"""

from __future__ import annotations

import enum
from datetime import datetime

from pydantic import Field, ValidationInfo, field_validator

from .._pydantic import FrozenModel
from ..domain._fields import Identifier, Label, Timestamp

__all__ = ["IndustryTie", "IndustryTieKind", "Project", "ProjectMember"]


class IndustryTieKind(str, enum.Enum):
    """How a customer is tied to the company through its industry (unordered).

    ``ASSOCIATION`` and ``CHAMBER_OF_COMMERCE``: the company and the customer meet in an industry body the
    company takes part in; ``SECTOR_SOLUTION``: the customer uses a solution the company built for its
    sector; ``STANDARD_SUPPLIER``: the company is the standard supplier of the customer's sector;
    ``OTHER``: any other industry tie.
    """

    ASSOCIATION = "association"
    CHAMBER_OF_COMMERCE = "chamber_of_commerce"
    SECTOR_SOLUTION = "sector_solution"
    STANDARD_SUPPLIER = "standard_supplier"
    OTHER = "other"


def _end_not_before_start(end: datetime | None, info: ValidationInfo) -> datetime | None:
    start = info.data.get("start")
    if end is not None and start is not None and end < start:
        raise ValueError(
            f"'end' must not be before 'start'; got start={start.isoformat()} and end={end.isoformat()}. "
            "Swap them if they were entered the wrong way round, or pass end=None while it is ongoing."
        )
    return end


class IndustryTie(FrozenModel):
    """One tie between a customer and the company through the customer's industry.

    Parameters
    ----------
    customer_id:
        The customer that is tied.
    kind:
        Association, chamber of commerce, sector solution, standard supplier or other.
    start, end:
        When the tie began (``None``: since before the records) and ended (``None``: ongoing);
        timezone-aware, ``end >= start``.

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> tie = IndustryTie(customer_id="C-001", kind="sector_solution", name="Dairy ERP",
    ...                   start=datetime(2023, 3, 1, tzinfo=timezone.utc))
    >>> tie.kind is IndustryTieKind.SECTOR_SOLUTION, tie.end is None
    (True, True)
    >>> IndustryTie.model_validate_json(tie.model_dump_json()) == tie
    True
    """

    customer_id: Identifier = Field(description="Id of the customer that is tied.")
    kind: IndustryTieKind = Field(description="Association, chamber of commerce, sector solution, ...")
    name: Label | None = Field(default=None, description="Name of the body or solution; None when unknown.")
    start: Timestamp | None = Field(default=None, description="When the tie began; None: before the records.")
    end: Timestamp | None = Field(default=None, description="When the tie ended; None while ongoing; >= start.")

    _check_end = field_validator("end")(_end_not_before_start)


class Project(FrozenModel):
    """A project run for a customer by a team of the company's people (project binding).

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> p = Project(project_id="PR-1", customer_id="C-001", start=datetime(2024, 2, 1, tzinfo=timezone.utc))
    >>> p.end is None
    True
    """

    project_id: Identifier = Field(description="The project's id, kept verbatim; not blank.")
    customer_id: Identifier = Field(description="Id of the customer the project is run for.")
    name: Label | None = Field(default=None, description="Display name; None when unknown.")
    start: Timestamp = Field(description="When the project began; timezone-aware.")
    end: Timestamp | None = Field(default=None, description="When it ended; None while running; >= start.")

    _check_end = field_validator("end")(_end_not_before_start)


class ProjectMember(FrozenModel):
    """One of the company's employees on a project team.

    Examples
    --------
    >>> ProjectMember(project_id="PR-1", employee_id="E-7", role="lead").role
    'lead'
    """

    project_id: Identifier = Field(description="Id of the project.")
    employee_id: Identifier = Field(description="Id of the employee on the team.")
    role: Label | None = Field(default=None, description="Role on the team; None when unknown.")
