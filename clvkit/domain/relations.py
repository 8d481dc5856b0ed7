"""People on both sides, the relationships between them, and the touchpoints where they meet."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from ._fields import Identifier, Label, Timestamp, UnitInterval
from .enums import (
    AccountManagerLevel,
    Channel,
    Closeness,
    OrgLevel,
    RelationshipGrade,
    RelationshipPyramidStage,
    RelationshipType,
    TouchpointFunction,
)

__all__ = ["Contact", "Employee", "Relationship", "Touchpoint"]


class Employee(BaseModel):
    """One of the company's own people who handles customers.

    ``active`` is the employee's status when the record was taken and ``left_at`` the (possibly planned)
    leaving date; the two are not cross-checked, so an announced departure can be recorded while the
    employee is still active - the case that value-at-risk analysis cares about.

    Examples
    --------
    >>> e = Employee(employee_id="E-7", level=AccountManagerLevel.ACCOUNT_MANAGER, team="North")
    >>> e.level >= AccountManagerLevel.SALES_REP
    True
    >>> e.model_dump_json(exclude_none=True)
    '{"employee_id":"E-7","level":"ACCOUNT_MANAGER","team":"North","active":true}'
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    employee_id: Identifier = Field(description="The employee's id, kept verbatim; not blank.")
    name: Label | None = Field(default=None, description="Display name; None when unknown.")
    level: AccountManagerLevel = Field(description="Rung from product pusher to strategic partner.")
    team: Label | None = Field(default=None, description="Team or unit, e.g. for project binding.")
    active: bool = Field(default=True, description="Whether the employee still works for the company.")
    left_at: Timestamp | None = Field(
        default=None, description="When the employee left or will leave; timezone-aware; None if not leaving."
    )


class Contact(BaseModel):
    """A person on the customer's side.

    Examples
    --------
    >>> boss = Contact(contact_id="P-1", customer_id="C-001", org_level="decision_maker")
    >>> heir = Contact(contact_id="P-2", customer_id="C-001", org_level=OrgLevel.MANAGER, is_successor=True)
    >>> boss.org_level > heir.org_level
    True
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    contact_id: Identifier = Field(description="The person's id, kept verbatim; not blank.")
    customer_id: Identifier = Field(description="Id of the customer the person works for.")
    name: Label | None = Field(default=None, description="Display name; None when unknown.")
    org_level: OrgLevel = Field(description="Seniority in the customer's organisation (user to executive).")
    is_successor: bool = Field(
        default=False, description="True for the likely successor of the current decision maker."
    )


class Relationship(BaseModel):
    """A tie between one of our employees and one of the customer's people.

    The optional ladders describe the tie from different angles and are independent of each other;
    ``strength`` is the single number that binding measures use.

    Parameters
    ----------
    strength:
        Strength of the tie in [0, 1]: 0 no tie, 1 the strongest.
    start, end:
        When the tie began and (if it did) ended; timezone-aware, ``end >= start``. ``end=None`` means
        the tie is ongoing.

    Raises
    ------
    pydantic.ValidationError
        A ``ValueError`` naming each invalid field and what to pass instead.

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> r = Relationship(
    ...     employee_id="E-7",
    ...     contact_id="P-1",
    ...     customer_id="C-001",
    ...     strength=0.8,
    ...     closeness=Closeness.FRIEND,
    ...     start=datetime(2022, 1, 10, tzinfo=timezone.utc),
    ... )
    >>> r.end is None and r.closeness >= Closeness.ACQUAINTANCE
    True
    >>> Relationship.model_validate_json(r.model_dump_json()) == r
    True
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    employee_id: Identifier = Field(description="Id of our employee.")
    contact_id: Identifier = Field(description="Id of the customer's person.")
    customer_id: Identifier = Field(description="Id of the customer the person works for.")
    employee_level: AccountManagerLevel | None = Field(
        default=None, description="Our employee's level in this relationship, if recorded."
    )
    contact_level: OrgLevel | None = Field(
        default=None, description="The contact's level in this relationship, if recorded (else see Contact.org_level)."
    )
    strength: UnitInterval = Field(description="Strength of the tie in [0, 1]: 0 no tie, 1 the strongest.")
    grade: RelationshipGrade | None = Field(default=None, description="Loose, close, die-hard or strategic partner.")
    closeness: Closeness | None = Field(
        default=None, description="Personal closeness: passer-by, acquaintance, friend or confidant."
    )
    pyramid_stage: RelationshipPyramidStage | None = Field(
        default=None, description="Relationship pyramid stage: basic, cooperative or interdependent."
    )
    relationship_type: RelationshipType | None = Field(
        default=None, description="Intimate, face-to-face, distant or brand."
    )
    start: Timestamp = Field(description="When the tie began; timezone-aware.")
    end: Timestamp | None = Field(default=None, description="When the tie ended; None while ongoing; >= start.")

    @field_validator("end")
    @classmethod
    def _end_not_before_start(cls, end: datetime | None, info: ValidationInfo) -> datetime | None:
        start = info.data.get("start")
        if end is not None and start is not None and end < start:
            raise ValueError(
                f"'end' must not be before 'start'; got start={start.isoformat()} and end={end.isoformat()}. "
                "Swap them if they were entered the wrong way round, or pass end=None for an ongoing relationship."
            )
        return end


class Touchpoint(BaseModel):
    """One contact between the company and a customer.

    ``functions`` is a non-empty :class:`~clvkit.domain.TouchpointFunction` flag set: one visit may both
    care for the customer and move a deal forward. In JSON it is the list of function names.

    Parameters
    ----------
    timestamp:
        When the contact happened; timezone-aware.
    employee_id:
        Our employee who made the contact.
    contact_id:
        The customer's person who was met, if known.
    functions:
        What the contact served; accepts a flag value, a list of names or members, or the integer bit set.

    Raises
    ------
    pydantic.ValidationError
        A ``ValueError`` naming each invalid field and what to pass instead.

    Examples
    --------
    >>> from datetime import datetime, timedelta, timezone
    >>> tp = Touchpoint(
    ...     customer_id="C-001",
    ...     timestamp=datetime(2024, 6, 3, 15, 0, tzinfo=timezone(timedelta(hours=5, minutes=30))),
    ...     channel=Channel.VISIT,
    ...     employee_id="E-7",
    ...     functions=TouchpointFunction.CARE | TouchpointFunction.DEAL,
    ... )
    >>> tp.model_dump_json(exclude_none=True)
    '{"customer_id":"C-001","timestamp":"2024-06-03T15:00:00+05:30","channel":"visit","employee_id":"E-7","functions":["CARE","DEAL"]}'
    >>> Touchpoint.model_validate_json(tp.model_dump_json()) == tp
    True
    >>> TouchpointFunction.DEAL in tp.functions
    True
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    touchpoint_id: Identifier | None = Field(default=None, description="Optional id of the touchpoint; not blank.")
    customer_id: Identifier = Field(description="Id of the customer contacted.")
    timestamp: Timestamp = Field(description="When the contact happened; timezone-aware, offset kept.")
    channel: Channel = Field(description="Visit, phone, email, message, event, online or other.")
    employee_id: Identifier = Field(description="Id of our employee who made the contact.")
    contact_id: Identifier | None = Field(default=None, description="Id of the customer's person met, if known.")
    functions: TouchpointFunction = Field(
        description="Non-empty set of functions served (care, information, deal, service, intelligence); "
        "JSON: a list of names such as ['CARE', 'DEAL']."
    )

    @field_validator("functions")
    @classmethod
    def _serves_something(cls, functions: TouchpointFunction) -> TouchpointFunction:
        if not functions:
            names = ", ".join(m.name or "" for m in TouchpointFunction)
            raise ValueError(
                f"'functions' must contain at least one function; got an empty set. Pass e.g. ['CARE'] "
                f"(names: {names})."
            )
        return functions
