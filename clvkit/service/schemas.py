"""The wire schemas of the scoring service: Pydantic models of what goes over HTTP, made of the library's own parts.

Nothing here restates a rule the library already holds. A request is checked for *types* only (numbers are
finite JSON numbers, ids are text or integers, no unknown fields), by :class:`~clvkit._pydantic.FrozenModel`,
which turns every failure into :class:`~clvkit.errors.InvalidInputError` naming the field by its path
(``customers.3.T``); the *invariants* of a customer summary (whole repeat counts, ``recency <= T``, spend
``>= 0``, unique ids) are checked by :class:`clvkit.CustomerSummary` itself when the columns are turned into a
batch, and the valuation by :func:`clvkit.valuation.clv`. The answers carry the fields of
:class:`clvkit.valuation.ClvResult` under the names of the issue's contract (``probability_alive`` is
``ClvResult.p_alive``), and the log of ``POST /fit`` is a list of :class:`clvkit.domain.Transaction`
entities, summarized by :func:`clvkit.summarize_transactions`.

JSON clients write every number as a float; a count (``horizon``) takes a whole-number float such as ``12.0``
and refuses ``12.5`` naming the field.

Examples
--------
>>> req = ScoreRequest.model_validate_json(
...     '{"customers": [{"customer_id": "a", "frequency": 2.0, "recency": 30.4, "T": 38.9}], '
...     '"horizon": 12.0, "discount_rate": 0.01}')
>>> req.horizon, req.customers[0].frequency
(12, 2.0)
>>> ScoreRequest.model_validate_json('{"customers": [{"customer_id": "a", "frequency": 2, "recency": 3}], '
...                                  '"horizon": 12.5, "discount_rate": 0.01}')
Traceback (most recent call last):
...
clvkit.errors.InvalidInputError: ScoreRequest has 2 problems:
  - 'horizon': must be a whole number; got 12.5. Pass an integer (not a string, a boolean or a fraction).
  - 'customers.0.T': is required. Pass it.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, JsonValue

from .._pydantic import FrozenModel
from ..binding.config import BindingConfig
from ..binding.entities import IndustryTie, Project, ProjectMember
from ..domain import Contact, Employee, Relationship, Touchpoint, Transaction

__all__ = [
    "BindingCustomer",
    "BindingRequest",
    "BindingResponse",
    "CustomerIn",
    "EmployeeAtRisk",
    "FitRequest",
    "FitResponse",
    "Health",
    "LoadedModel",
    "ModelDocument",
    "ModelsResponse",
    "ProblemDetail",
    "ProblemDocument",
    "ScoreParams",
    "ScoreRequest",
    "ScoreResponse",
    "ScoreResult",
    "ScoreTiers",
    "TierOption",
    "TierRequest",
    "TierResponse",
    "TierResult",
]


def _whole_number(value: Any) -> Any:
    """A whole-number float (``12.0``) becomes the int it is; anything else is left to the int check."""
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    return value


#: A count as JSON clients send it: ``12`` or ``12.0``; ``12.5``, ``true`` and ``"12"`` are refused.
WholeNumber = Annotated[int, BeforeValidator(_whole_number)]
#: A finite JSON number (an integer is fine).
Number = Annotated[float, Field(allow_inf_nan=False)]
#: A customer id: text or an integer, echoed back as given.
CustomerId = Annotated[str | int, Field(union_mode="left_to_right")]


class CustomerIn(FrozenModel):
    """One customer's purchase summary, in the time unit of the model that scores it (see ``GET /models``)."""

    customer_id: CustomerId = Field(description="The customer's id (text or an integer), echoed in the answer.")
    frequency: Number = Field(description="Repeat purchases (distinct purchase periods minus one); a whole number.")
    recency: Number = Field(description="Time from the first to the last purchase, in the model's time unit.")
    T: Number = Field(description="Time from the first purchase to the end of observation, in the model's time unit.")
    monetary_value: Number | None = Field(
        default=None, description="Mean spend per repeat purchase period; needed with a Gamma-Gamma spend model.")


class TierOption(FrozenModel):
    """A tiering policy for ``POST /score``: its name in :data:`clvkit.tiering.POLICIES` and its configuration
    (the arguments of :func:`clvkit.tiering.make_policy`)."""

    policy: str = Field(description="A policy name of clvkit.tiering.POLICIES, e.g. 'five-a'.")
    config: dict[str, JsonValue] | None = Field(default=None, description="The policy's configuration.")


class ScoreParams(FrozenModel):
    """The valuation settings of ``POST /score``: those of :func:`clvkit.valuation.clv`, and the model to use.

    ``horizon`` periods of ``period`` each (``None``: one unit of the model's time unit; a number of time units;
    or a unit name such as ``"M"``), discounted at ``discount_rate`` per period; ``margin`` applies to the spend.
    With a columnar body (Arrow, Parquet) they are query parameters.
    """

    horizon: WholeNumber = Field(description="Number of discounting periods (a positive whole number).")
    discount_rate: Number = Field(description="Discount rate per period, in [0, 1).")
    period: Number | str | None = Field(
        default=None, description="Length of one period: model time units, or a unit name ('D', 'W', 'M', ...).")
    margin: Number = Field(default=1.0, description="Profit margin applied to spend, in [0, 1].")
    model: str | None = Field(default=None, description="Name of the loaded model (see GET /models); "
                                                        "optional when one model is loaded.")
    tiers: TierOption | str | None = Field(
        default=None, description="Also assign each customer a tier: a policy name of clvkit.tiering.POLICIES "
                                  "(e.g. 'five-a', 'key-customers', 'value-risk') or {'policy', 'config'}. The "
                                  "policy reads 'value' (the CLV), 'p_alive' and the customer's summary columns; "
                                  "quantile cuts are taken over the request's customers. Default: no tiers.")


class ScoreRequest(ScoreParams):
    """``POST /score`` as JSON: customers in, their P(alive), expected purchases, expected spend and CLV out."""

    customers: list[CustomerIn] = Field(description="The customers to score (one summary each).")


class ScoreResult(FrozenModel):
    """One customer's scores: the per-customer fields of :class:`clvkit.valuation.ClvResult`."""

    customer_id: CustomerId
    probability_alive: float | None = Field(description="P(alive) (ClvResult.p_alive); null for a model without it.")
    expected_purchases: float = Field(description="Undiscounted expected purchases over the horizon.")
    expected_spend: float = Field(description="Expected spend per purchase.")
    clv: float = Field(description="Discounted customer lifetime value over the horizon.")
    tier: str | None = Field(default=None, description="The customer's tier label; present only when the request "
                                                       "asks for tiers.")


class ScoreTiers(FrozenModel):
    """The tiering of a ``POST /score`` answer: the policy and its tier labels (as ``POST /tier`` gives them)."""

    policy: str
    labels: list[str]


class ScoreResponse(FrozenModel):
    """The answer of ``POST /score``: the one model version that scored every customer, and the scores."""

    model: str = Field(description="Name of the model that scored the request.")
    model_version: str = Field(description="SHA-256 of the model's files: which version scored the request.")
    tiers: ScoreTiers | None = Field(default=None, description="The policy and labels of the tiers; present only "
                                                               "when the request asks for tiers.")
    results: list[ScoreResult]


class TierRequest(FrozenModel):
    """``POST /tier``: assign customers to tiers with a policy of :data:`clvkit.tiering.POLICIES`.

    Each customer is a row of the columns the policy reads (``value`` for value tiers; ``recency``,
    ``frequency``, ``monetary`` for RFM, ...), as :func:`clvkit.tiering.make_policy`'s policies document.
    """

    policy: str = Field(description="A policy name of clvkit.tiering.POLICIES, e.g. 'key-customers', 'five-a'.")
    config: dict[str, JsonValue] | None = Field(default=None, description="The policy's configuration.")
    customers: list[dict[str, CustomerId | Number]] = Field(
        description="One object per customer: 'customer_id' and the policy's columns.")


class TierResult(FrozenModel):
    """One customer's tier."""

    customer_id: CustomerId | None
    tier: str
    tier_code: int


class TierResponse(FrozenModel):
    """The answer of ``POST /tier``: the tier labels (lowest first when ordered) and every customer's tier."""

    policy: str
    labels: list[str]
    results: list[TierResult]


class FitRequest(FrozenModel):
    """``POST /fit``: a transaction log of :class:`clvkit.domain.Transaction` entities in, fitted models out.

    The log is summarized by :func:`clvkit.summarize_transactions` (``time_unit`` and ``observation_end``: its
    arguments) and the count model named ``model`` (a key of
    :data:`clvkit.valuation.MODELS`) is fitted; with ``spend`` a Gamma-Gamma spend model too.
    """

    transactions: list[Transaction] = Field(description="The log: customer_id, timestamp (with a UTC offset), "
                                                        "amount, ...; one object per transaction.")
    model: str = Field(default="bgnbd", description="Count model to fit: a name of clvkit.valuation.MODELS.")
    time_unit: str = Field(default="W", description="Time unit of the summary and the fitted model; transactions in "
                                                    "one period of it count as one purchase.")
    observation_end: datetime | None = Field(
        default=None, description="End of observation, ISO 8601 with a UTC offset (default: the last transaction).")
    spend: bool = Field(default=True, description="Also fit a Gamma-Gamma spend model on the amounts.")


#: A fitted model as :meth:`FittedModel.to_json` writes it (the document :func:`clvkit.load_json` reads).
ModelDocument = dict[str, JsonValue]


class FitResponse(FrozenModel):
    """The answer of ``POST /fit``: the fitted models as their versioned JSON documents."""

    model: ModelDocument = Field(description="The fitted count model's document (clvkit.load_json reads it).")
    spend_model: ModelDocument | None = Field(description="The fitted Gamma-Gamma document, or null.")
    customers: int
    transactions: int
    seconds: float


class LoadedModel(FrozenModel):
    """One loaded model: its name, version, files and the schema version of its documents."""

    name: str
    model_version: str = Field(description="SHA-256 of the model file (of a folder's manifest.json).")
    source: str
    transaction_model: str = Field(description="The model kind, e.g. 'BetaGeo'.")
    spend_model: str | None = Field(description="The spend model kind ('GammaGamma'), or null.")
    fixed_spend: float | None = Field(description="A fixed spend per purchase used instead of a spend model.")
    time_unit: str = Field(description="Time unit of recency and T that /score expects for this model.")
    schema_name: str = Field(description="The documents' schema ('clvkit.fitted_model').")
    schema_version: int
    params: dict[str, float]
    loaded_at: str


class ModelsResponse(FrozenModel):
    """The answer of ``GET /models`` (and ``POST /models/reload``)."""

    default: str | None = Field(description="The model /score uses when the request names none (null: several).")
    models: list[LoadedModel]


class Health(FrozenModel):
    """The answer of ``GET /health``."""

    status: Literal["ok"]
    models: int
    clvkit_version: str


class ProblemDetail(FrozenModel):
    """One problem of a request: the field, the first offending rows and customers, what to do."""

    field: str
    message: str
    rows: list[int] = Field(default_factory=list)
    customers: list[CustomerId] = Field(default_factory=list)
    count: int = 0
    fix: str = ""


class ProblemDocument(FrozenModel):
    """An error, as ``application/problem+json`` (RFC 9457), with the offending field, row and customer."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    request_id: str | None = None
    field: str | None = Field(default=None, description="The first offending field (e.g. 'customers.3.T').")
    row: int | None = Field(default=None, description="The first offending row (0-based).")
    customer: CustomerId | None = Field(default=None, description="The first offending customer's id.")
    errors: list[ProblemDetail] = Field(default_factory=list)


class BindingRequest(FrozenModel):
    """``POST /binding``: the tables of :class:`clvkit.binding.BindingData` as lists of the library's entities.

    The tables are :class:`clvkit.domain.Employee`, :class:`~clvkit.domain.Contact`,
    :class:`~clvkit.domain.Relationship` and :class:`~clvkit.domain.Touchpoint` records (and, optionally,
    :class:`clvkit.binding.IndustryTie`, :class:`~clvkit.binding.Project` and
    :class:`~clvkit.binding.ProjectMember`), exactly as :meth:`BindingData.from_entities` takes them; the measures
    are those of :func:`clvkit.binding.measure_binding` under ``config`` (a :class:`clvkit.binding.BindingConfig`),
    and with ``values`` (e.g. each customer's CLV from ``POST /score``) the value at risk per employee of
    :func:`clvkit.binding.value_at_risk`.
    """

    as_of: datetime = Field(description="The date the data describes, ISO 8601 with a UTC offset.")
    employees: list[Employee] = Field(description="Our employees (id, level, team, active/left_at).")
    contacts: list[Contact] = Field(description="The customers' people (id, customer_id, org_level).")
    relationships: list[Relationship] = Field(description="Ties between an employee and a contact (strength, start).")
    touchpoints: list[Touchpoint] = Field(description="Contacts made (customer_id, timestamp, channel, employee).")
    industry_ties: list[IndustryTie] = Field(default_factory=list, description="Industry ties of customers.")
    projects: list[Project] = Field(default_factory=list, description="Projects run for customers.")
    project_members: list[ProjectMember] = Field(default_factory=list, description="Who works on each project.")
    config: BindingConfig | None = Field(default=None, description="Windows, targets and score weights "
                                                                   "(clvkit.binding.BindingConfig; its defaults).")
    values: dict[str, Number] | None = Field(
        default=None, description="Value per customer id (e.g. CLV; absent customers count 0), for the value at "
                                  "risk per employee.")
    lang: Literal["en", "zh"] = Field(default="en", description="Language of the next actions.")


class BindingCustomer(FrozenModel):
    """One customer's binding: the per-customer fields of :class:`clvkit.binding.BindingMeasures`."""

    customer_id: str
    score: float = Field(description="Binding score, 0-100.")
    sub_scores: dict[str, float] = Field(description="The sub-scores (0-100) by name: hierarchy, breadth, spread, "
                                                     "presence, industry, project.")
    covered: dict[str, bool] = Field(description="Whether each level of the customer's organisation (user, "
                                                 "manager, decision_maker, executive) has an active relationship.")
    n_employees: int = Field(description="Employees holding a share of the customer.")
    top_employee: str | None = Field(description="The employee with the largest holding (null: nobody holds it).")
    top_share: float = Field(description="The top employee's holding share (concentration).")
    hhi: float = Field(description="Herfindahl index of the holding shares (1: one person holds it all).")
    single_threaded: bool = Field(description="Whether the top employee's share reaches the single-thread share.")
    days_since_last: float | None = Field(description="Days since the last touchpoint (null: none on record).")
    touchpoints_recent: int = Field(description="Touchpoints in the config's frequency window.")
    value: float | None = Field(description="The customer's value from the request's 'values' (null without).")
    next_actions: list[str] = Field(description="What to do first, from the weakest sub-scores (clvkit's rule).")


class EmployeeAtRisk(FrozenModel):
    """One employee's value at risk: a row of :class:`clvkit.binding.EmployeeRisk`."""

    employee_id: str
    team: str | None = Field(description="The employee's team (null: none).")
    value_at_risk: float = Field(description="Value exposed if the employee leaves: sum of value x holding share.")
    sole_value: float = Field(description="Value of the single-threaded customers whose top employee this is.")
    customers_held: int
    customers_sole: int
    mean_score: float | None = Field(description="Holding-weighted mean binding score of the employee's customers "
                                                 "(null: holds none).")


class BindingResponse(FrozenModel):
    """The answer of ``POST /binding``: every customer's binding and, with values, the value at risk."""

    as_of: datetime
    customers: list[BindingCustomer]
    employees: list[EmployeeAtRisk] | None = Field(description="Employees ranked by value at risk (null without "
                                                               "'values').")
    value_exposed: float | None = Field(description="Value of the customers anybody holds (null without 'values').")
    value_unheld: float | None = Field(description="Value of the customers nobody holds (null without 'values').")

