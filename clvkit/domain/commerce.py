"""Customers and their transactions."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from ._fields import CurrencyCode, FiniteFloat, Identifier, Label, NonNegativeFloat, Timestamp
from .enums import CustomerKind, LifecycleStage, SatisfactionLevel

__all__ = ["Customer", "Transaction"]


class Customer(BaseModel):
    """One customer: a consumer, an intermediary (dealer or retailer) or a public-interest body.

    Immutable; unknown fields are refused. Text fields that are given must not be blank: write ``None``
    for "unknown".

    Parameters
    ----------
    customer_id:
        The customer's id, kept verbatim; must contain a non-whitespace character.
    kind:
        What kind of party the customer is.
    referred_by:
        Id of the customer who brought this one (the referral graph behind indirect value); must differ
        from ``customer_id``.
    acquisition_cost:
        What winning the customer cost, in the currency of its transactions; finite and >= 0.

    Other fields are described on the model (``Customer.model_fields``).

    Raises
    ------
    pydantic.ValidationError
        A ``ValueError`` naming each invalid field and what to pass instead.

    Examples
    --------
    >>> from datetime import datetime, timedelta, timezone
    >>> c = Customer(
    ...     customer_id="C-001",
    ...     kind=CustomerKind.INTERMEDIARY,
    ...     acquired_at=datetime(2023, 5, 4, 10, 0, tzinfo=timezone(timedelta(hours=8))),
    ...     satisfaction="loyal",
    ...     referred_by="C-000",
    ...     tags=("kol",),
    ... )
    >>> c.satisfaction > SatisfactionLevel.SATISFIED
    True
    >>> c.model_dump_json(exclude_none=True)
    '{"customer_id":"C-001","kind":"intermediary","tags":["kol"],"acquired_at":"2023-05-04T10:00:00+08:00","satisfaction":"LOYAL","referred_by":"C-000"}'
    >>> Customer.model_validate_json(c.model_dump_json()) == c
    True
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    customer_id: Identifier = Field(description="The customer's id, kept verbatim; not blank.")
    name: Label | None = Field(default=None, description="Display name; None when unknown.")
    kind: CustomerKind = Field(description="Consumer, intermediary (dealer/retailer) or public-interest body.")
    industry: Label | None = Field(default=None, description="Industry or sector (used by industry binding).")
    region: Label | None = Field(default=None, description="Region, a segmentation axis.")
    segment: Label | None = Field(
        default=None, description="A caller-defined segment or class (the horizontal axis, separate from value tiers)."
    )
    tags: tuple[Label, ...] = Field(
        default=(),
        description="Free labels such as 'kol' or 'koc'; unique, order kept (a tuple keeps the model hashable).",
    )
    acquired_at: Timestamp | None = Field(
        default=None, description="When the customer was won (first purchase or contract); timezone-aware."
    )
    lifecycle_stage: LifecycleStage | None = Field(
        default=None, description="Lead, converted (first purchase), retained (repeat) or advocate (refers others)."
    )
    satisfaction: SatisfactionLevel | None = Field(default=None, description="Rung on the satisfaction ladder.")
    referred_by: Identifier | None = Field(
        default=None, description="customer_id of the customer who referred this one; not the customer itself."
    )
    acquisition_cost: NonNegativeFloat | None = Field(
        default=None, description="What winning the customer cost; finite and >= 0; None when unknown."
    )

    @field_validator("tags")
    @classmethod
    def _unique_tags(cls, tags: tuple[str, ...]) -> tuple[str, ...]:
        repeated = sorted({t for t in tags if tags.count(t) > 1})
        if repeated:
            raise ValueError(f"'tags' must not repeat a tag; {repeated} appear more than once. Remove the duplicates.")
        return tags

    @field_validator("referred_by")
    @classmethod
    def _not_self_referred(cls, referred_by: str | None, info: ValidationInfo) -> str | None:
        if referred_by is not None and referred_by == info.data.get("customer_id"):
            raise ValueError(
                f"'referred_by' must differ from 'customer_id'; both are {referred_by!r}. A customer cannot refer "
                "itself: pass the referrer's id, or None."
            )
        return referred_by


class Transaction(BaseModel):
    """One purchase (or refund) by a customer.

    Refunds are represented in either of two ways, and both are accepted: a negative ``amount``, or
    ``is_refund=True``. A flagged refund must have ``amount <= 0`` so that summing amounts never counts a
    refund as revenue; ``is_refund`` then only marks the record, it does not flip the sign.

    Parameters
    ----------
    customer_id:
        Id of the buying customer; not blank.
    timestamp:
        When the transaction happened; timezone-aware (naive datetimes are refused).
    amount:
        Money received (negative for money given back); finite.
    currency:
        Three-letter upper-case ISO 4217 code; ``"USD"`` by default. Only the format is checked.
    transaction_id:
        Optional id of the transaction; not blank when given.
    is_refund:
        Marks a refund; requires ``amount <= 0``.

    Raises
    ------
    pydantic.ValidationError
        A ``ValueError`` naming each invalid field and what to pass instead.

    Examples
    --------
    >>> from datetime import datetime, timedelta, timezone
    >>> t = Transaction(
    ...     customer_id="C-001",
    ...     timestamp=datetime(2024, 1, 31, 18, 45, tzinfo=timezone(timedelta(hours=-5))),
    ...     amount=129.5,
    ...     currency="EUR",
    ... )
    >>> t.model_dump_json()
    '{"customer_id":"C-001","timestamp":"2024-01-31T18:45:00-05:00","amount":129.5,"currency":"EUR","transaction_id":null,"is_refund":false}'
    >>> Transaction.model_validate_json(t.model_dump_json()) == t
    True
    >>> refund = Transaction(customer_id="C-001", timestamp=t.timestamp, amount=-20.0, is_refund=True)
    >>> refund.amount
    -20.0
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    customer_id: Identifier = Field(description="Id of the buying customer; not blank.")
    timestamp: Timestamp = Field(description="When the transaction happened; timezone-aware, offset kept.")
    amount: FiniteFloat = Field(description="Money received, negative for money given back; finite.")
    currency: CurrencyCode = Field(default="USD", description="Three-letter upper-case ISO 4217 code.")
    transaction_id: Identifier | None = Field(default=None, description="Optional transaction id; not blank.")
    is_refund: bool = Field(default=False, description="Marks a refund; then amount must be <= 0.")

    @model_validator(mode="after")
    def _refund_gives_money_back(self) -> Transaction:
        if self.is_refund and self.amount > 0:
            raise ValueError(
                f"'amount' must be <= 0 when 'is_refund' is True; got amount={self.amount!r}. Record the refund "
                f"as amount={-self.amount!r}, or set is_refund=False for a sale."
            )
        return self
