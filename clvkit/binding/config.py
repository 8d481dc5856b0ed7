"""The settings of the binding measures: windows, targets, the level-matching rule and the score weights.

The CLV management-system book (text 000, 绑定管理: 层级绑定, 行业绑定, 项目绑定) names hierarchical, industry and
project binding but gives no formula, so every number below is a clvkit default, documented, never the book's.
Each is one argument away: all models are frozen Pydantic models, so ``BindingConfig(window_days=180)`` or
``BindingConfig.model_validate_json(text)`` gives a new configuration; a bad value raises
:class:`~clvkit.InvalidInputError` naming the field (``level_weights.user``).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, PositiveFloat, model_validator

from .._pydantic import FrozenModel
from ..domain import AccountManagerLevel, OrgLevel
from .entities import IndustryTieKind
from .ladders import LadderConfig

__all__ = ["BindingConfig", "LevelMatch", "LevelWeights", "ScoreWeights"]

#: A finite weight >= 0.
Weight = Annotated[float, Field(ge=0.0, allow_inf_nan=False)]


class LevelMatch(FrozenModel):
    """The lowest :class:`~clvkit.domain.AccountManagerLevel` of ours that *matches* each customer level.

    Matching rule: a relationship with a contact at org level ``L`` is matched when our employee's level
    in that relationship (``Relationship.employee_level``, else ``Employee.level``) is at least the level
    given here for ``L``. The default asks for more seniority on our side as the customer's person is more
    senior: a sales rep for users, an account manager for managers and decision makers, a personal
    adviser for executives.

    Examples
    --------
    >>> m = LevelMatch()
    >>> m.required(OrgLevel.EXECUTIVE).name
    'PERSONAL_ADVISER'
    """

    user: AccountManagerLevel = AccountManagerLevel.SALES_REP
    manager: AccountManagerLevel = AccountManagerLevel.ACCOUNT_MANAGER
    decision_maker: AccountManagerLevel = AccountManagerLevel.ACCOUNT_MANAGER
    executive: AccountManagerLevel = AccountManagerLevel.PERSONAL_ADVISER

    def required(self, level: OrgLevel) -> AccountManagerLevel:
        """The lowest level of ours that matches a contact at ``level``."""
        value: AccountManagerLevel = getattr(self, level.name.lower())
        return value

    def ranks(self) -> tuple[int, int, int, int]:
        """Required ranks for ``USER, MANAGER, DECISION_MAKER, EXECUTIVE`` (in that order)."""
        return (int(self.user), int(self.manager), int(self.decision_maker), int(self.executive))


class LevelWeights(FrozenModel):
    """Weight of each customer org level (and of serving the successor) in the hierarchical sub-score.

    The weights are fixed per customer - they do not depend on which contacts are on record - so adding
    a relationship can only raise the sub-score. ``successor`` credits an active relationship with a
    contact flagged ``is_successor`` (the likely successor of the current decision maker).

    Examples
    --------
    >>> LevelWeights(decision_maker=2.0).level_weights()
    (1.0, 1.0, 2.0, 1.0)
    """

    user: Weight = 1.0
    manager: Weight = 1.0
    decision_maker: Weight = 1.0
    executive: Weight = 1.0
    successor: Weight = 0.5

    def level_weights(self) -> tuple[float, float, float, float]:
        """Weights of ``USER, MANAGER, DECISION_MAKER, EXECUTIVE`` (in that order)."""
        return (self.user, self.manager, self.decision_maker, self.executive)

    @model_validator(mode="after")
    def _some_weight(self) -> LevelWeights:
        if sum(self.level_weights()) + self.successor <= 0.0:
            raise ValueError("LevelWeights needs at least one positive weight; got all zeros.")
        return self


class ScoreWeights(FrozenModel):
    """Weights of the six sub-scores (each in [0, 1]) in the 0-100 binding score.

    ``score = 100 * sum(w_k * sub_k) / sum(w_k)``. Defaults: hierarchy 0.30, presence 0.20, breadth 0.15,
    spread 0.15, industry 0.10, project 0.10 (clvkit default) - hierarchical binding is the method the texts
    stress most.
    Weights need not sum to 1: they are normalised.

    Examples
    --------
    >>> w = ScoreWeights(industry=0.0, project=0.0)
    >>> round(sum(w.as_tuple()), 2)
    0.8
    """

    hierarchy: Weight = 0.30
    breadth: Weight = 0.15
    spread: Weight = 0.15
    presence: Weight = 0.20
    industry: Weight = 0.10
    project: Weight = 0.10

    def as_tuple(self) -> tuple[float, float, float, float, float, float]:
        """The weights in the order hierarchy, breadth, spread, presence, industry, project."""
        return (self.hierarchy, self.breadth, self.spread, self.presence, self.industry, self.project)

    @model_validator(mode="after")
    def _some_weight(self) -> ScoreWeights:
        if sum(self.as_tuple()) <= 0.0:
            raise ValueError("ScoreWeights needs at least one positive weight; got all zeros.")
        return self


def _default_tie_weights() -> dict[IndustryTieKind, float]:
    return {kind: (2.0 if kind is IndustryTieKind.STANDARD_SUPPLIER else 1.0) for kind in IndustryTieKind}


class BindingConfig(FrozenModel):
    """Settings of :func:`~clvkit.binding.measure_binding` and of the measures built on it.

    Every field is clvkit's documented default (the texts give none). Times are in days.

    Attributes
    ----------
    min_strength:
        A relationship is *active* at ``as_of`` when ``start <= as_of < end`` (open end: ongoing), its
        employee is still present (see :class:`~clvkit.binding.BindingData`) and ``strength >
        min_strength``.
    window_days:
        Touchpoints in ``(as_of - window_days, as_of]`` are *recent*: they count for breadth, for the
        holding shares and concentration, and for the regularity of contact.
    frequency_days, target_touchpoints:
        ``touchpoints_recent`` counts touchpoints in the last ``frequency_days``; the frequency part of
        presence is ``min(1, touchpoints_recent / target_touchpoints)``.
    recency_half_life_days:
        The recency part of presence is ``0.5 ** (days_since_last / recency_half_life_days)``.
    strength_share_weight:
        Share rule: an employee's holding of a customer is ``w * (their share of active relationship
        strength) + (1 - w) * (their share of recent touchpoints)``; when the customer has only one kind
        the other kind's weight moves to it, so holdings of a held customer sum to 1.
    single_thread_share:
        A held customer is *single-threaded* when its top employee's holding is at least this share.
    target_employees, target_backup_strength:
        Breadth is ``min(1, n_employees / target_employees)``. Spread is the mean of
        ``min(1, backup_strength / target_backup_strength)`` (relationship strength held by others than
        the strongest employee: what stays if that one leaves) and ``min(1, (1 / hhi_touchpoints - 1) /
        (target_employees - 1))`` (effective number of employees in contact beyond the first).
    unmatched_credit:
        Hierarchical credit of a level that is covered but not matched by a suitable level of ours
        (1 when matched, 0 when not covered).
    tie_weights, target_industry_ties:
        Industry sub-score ``min(1, sum of tie_weights of active ties / target_industry_ties)``; the
        standard supplier of a sector counts double by default.
    target_active_projects, target_team_size:
        Project sub-score: mean of ``min(1, active_projects / target_active_projects)`` and
        ``min(1, team_size / target_team_size)``.
    ladders:
        The table from ladder rungs (closeness, grade, pyramid stage) to strength for relationships recorded
        without a numeric strength, the closeness rule of thumb and the span of the ladder movement
        (:class:`~clvkit.binding.LadderConfig`; clvkit's default, the rungs cite their texts).

    Examples
    --------
    >>> cfg = BindingConfig(window_days=180, weights=ScoreWeights(industry=0.0))
    >>> cfg.window_days, cfg.weights.industry, cfg.level_match.manager.name
    (180.0, 0.0, 'ACCOUNT_MANAGER')
    >>> BindingConfig.model_validate_json(cfg.model_dump_json()) == cfg
    True
    """

    min_strength: float = Field(default=0.0, ge=0.0, lt=1.0)
    window_days: PositiveFloat = Field(default=365.0, allow_inf_nan=False)
    frequency_days: PositiveFloat = Field(default=90.0, allow_inf_nan=False)
    target_touchpoints: PositiveFloat = Field(default=6.0, allow_inf_nan=False)
    recency_half_life_days: PositiveFloat = Field(default=30.0, allow_inf_nan=False)
    strength_share_weight: float = Field(default=0.5, ge=0.0, le=1.0)
    single_thread_share: float = Field(default=0.8, gt=0.0, le=1.0)
    target_employees: float = Field(default=3.0, ge=2.0, allow_inf_nan=False)
    target_backup_strength: PositiveFloat = Field(default=1.0, allow_inf_nan=False)
    unmatched_credit: float = Field(default=0.5, ge=0.0, le=1.0)
    tie_weights: dict[IndustryTieKind, float] = Field(default_factory=_default_tie_weights)
    target_industry_ties: PositiveFloat = Field(default=2.0, allow_inf_nan=False)
    target_active_projects: PositiveFloat = Field(default=1.0, allow_inf_nan=False)
    target_team_size: PositiveFloat = Field(default=3.0, allow_inf_nan=False)
    level_match: LevelMatch = Field(default_factory=LevelMatch)
    level_weights: LevelWeights = Field(default_factory=LevelWeights)
    weights: ScoreWeights = Field(default_factory=ScoreWeights)
    ladders: LadderConfig = Field(default_factory=LadderConfig)

    @model_validator(mode="after")
    def _tie_weights_valid(self) -> BindingConfig:
        bad = {k.value: v for k, v in self.tie_weights.items() if not (v >= 0.0 and v < float("inf"))}
        if bad:
            raise ValueError(f"'tie_weights' must be finite and >= 0; got {bad}.")
        return self

    def tie_weight_array(self) -> tuple[float, ...]:
        """Weight of each :class:`IndustryTieKind`, in declaration order (0 for kinds left out)."""
        return tuple(float(self.tie_weights.get(kind, 0.0)) for kind in IndustryTieKind)
