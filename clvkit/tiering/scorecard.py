"""Weighted scorecards and the five-star rating of customers, dealers or retailers.

A :class:`Scorecard` scales each criterion to [0, 1], weighs the scaled criteria (weights sum to 1, so the
score lies in [0, 1]) and cuts the score at increasing cut-offs. A criterion scales by its fixed range when it
has one; otherwise by the customer's rank in the batch (``scaling="rank"``, the default: the share of the other
customers it beats, ties counted half) or by the batch's minimum and maximum (``scaling="minmax"``, opt-in).
Min-max scaling lets one very large value squeeze everyone else towards 0: on the skewed CLV of the CDNOW demo
it puts 98% of the customers at one star; rank scaling spreads them over the bands by their standing.
:class:`StarRating` is a scorecard with five levels, a benefits table (the star
level decides the treatment) and an optional ring-fenced budget per star level.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from pydantic import Field, field_validator, model_validator

from ..errors import InvalidInputError, Problem
from ._assignment import IntArray, TierAssignment, readonly
from ._config import Finite, FrozenConfig, check_increasing, check_labels, close_to
from ._inputs import Column, read_columns
from ._kernels import add_scaled, count_passed, rank_scaled
from .budget import BudgetAllocation, budget_allocation

__all__ = ["DEFAULT_BENEFITS", "SCALINGS", "STAR_LABELS", "Criterion", "Scorecard", "StarRating"]

FloatArray = npt.NDArray[np.float64]

#: How a criterion without a fixed range is scaled to [0, 1]: by rank in the batch (default) or min-max.
SCALINGS: tuple[str, str] = ("rank", "minmax")
Scaling = Literal["rank", "minmax"]

#: Tier names of :class:`StarRating`, lowest first (code ``k`` is ``k + 1`` stars): the five-star rating of the
#: CLV management-system book (text 000, 五星级客户享受五星级待遇); the criteria are the clvkit default.
STAR_LABELS: tuple[str, str, str, str, str] = ("1 star", "2 stars", "3 stars", "4 stars", "5 stars")

#: clvkit default placeholder benefits table, one entry per star level from 1 to 5. Text 000 says that the star
#: level decides the treatment but list no benefits: replace this with your programme's table.
DEFAULT_BENEFITS: tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...], tuple[str, ...], tuple[str, ...]] = (
    ("standard service",),
    ("standard service", "periodic offers"),
    ("priority service", "periodic offers"),
    ("priority service", "named account manager", "loyalty rewards"),
    ("priority service", "named account manager", "loyalty rewards", "executive sponsor"),
)


class Criterion(FrozenConfig):
    """One criterion of a scorecard: the column it reads, its weight and how it is scaled to [0, 1].

    Parameters
    ----------
    name:
        Column name (e.g. ``"value"``, ``"frequency"``, ``"satisfaction"``).
    weight:
        Positive weight; the weights of a scorecard sum to 1.
    low, high:
        Optional fixed range: the criterion scales as ``(x - low) / (high - low)`` clipped to [0, 1], so a
        customer's score does not depend on the rest of the batch. Without them the scorecard's ``scaling``
        applies (by rank in the batch by default). Give both or neither.
    higher_is_better:
        ``False`` for criteria such as cost or churn risk: the scale is reversed.

    Examples
    --------
    >>> Criterion(name="complaints", weight=0.2, low=0, high=10, higher_is_better=False).low
    0.0
    """

    name: str = Field(min_length=1)
    weight: Finite = Field(gt=0.0)
    low: Finite | None = None
    high: Finite | None = None
    higher_is_better: bool = True

    @model_validator(mode="after")
    def _check(self) -> Criterion:
        if (self.low is None) != (self.high is None):
            raise InvalidInputError([Problem("low", "give both 'low' and 'high' or neither")])
        if self.low is not None and self.high is not None and not self.low < self.high:
            raise InvalidInputError([Problem("high", f"must exceed 'low'; got low={self.low}, high={self.high}")])
        return self


def _criteria_from_mapping(value: Any) -> Any:
    # {"value": 0.6, "frequency": 0.4} is shorthand for two Criterion objects with those weights.
    if isinstance(value, Mapping):
        return tuple(Criterion(name=str(k), weight=w) for k, w in value.items())
    if isinstance(value, list):  # a JSON array: strict JSON validation (the default) takes a tuple from here on
        return tuple(value)
    return value


def _check_criteria(criteria: tuple[Criterion, ...]) -> list[Problem]:
    problems: list[Problem] = []
    names = [c.name for c in criteria]
    if not criteria:
        problems.append(Problem("criteria", "must hold at least one criterion"))
    elif len(set(names)) != len(names):
        problems.append(Problem("criteria", f"must name each column once; got {names}"))
    total = sum(c.weight for c in criteria)
    if criteria and not close_to(total, 1.0):
        problems.append(Problem("criteria", f"weights must sum to 1; they sum to {total:.12g}",
                                fix="Rescale the weights so that they add up to 1."))
    return problems


def _check_cutoffs(cutoffs: tuple[float, ...], field: str) -> list[Problem]:
    problems = [p for p in [check_increasing(cutoffs, field)] if p is not None]
    if any(not 0.0 < c <= 1.0 for c in cutoffs):
        problems.append(Problem(field, f"must lie in (0, 1] (the score's range); got {list(cutoffs)}"))
    return problems


class Scorecard(FrozenConfig):
    """A weighted scorecard cut into ordered tiers; usable as the cut rule of :class:`~clvkit.tiering.FiveA`.

    Parameters
    ----------
    criteria:
        The criteria (:class:`Criterion`), or a mapping of column name to weight. Weights sum to 1.
    cutoffs:
        Increasing score cut-offs in (0, 1]; a customer reaches tier ``k`` when ``score >= cutoffs[k-1]``.
        ``len(cutoffs) + 1`` tiers.
    scaling:
        How criteria without a fixed range scale to [0, 1]: ``"rank"`` (default) - the share of the other
        customers of the batch the customer beats, ties counted half, ``(#below + (#equal - 1) / 2) / (n - 1)``;
        ``"minmax"`` - ``(x - min) / (max - min)`` over the batch (one outlier squeezes everyone else to 0).
        A constant criterion scores 0.5 either way.

    Examples
    --------
    Ranks: value 0 < 5 < 10 scores 0, 0.5, 1; frequency 4, 0, 4 scores 0.75 (beats one, ties one), 0, 0.75.

    >>> card = Scorecard(criteria={"value": 0.75, "frequency": 0.25}, cutoffs=(0.5,))
    >>> cols = {"value": np.array([0.0, 10.0, 5.0]), "frequency": np.array([4.0, 0.0, 4.0])}
    >>> card.score(cols).tolist()
    [0.1875, 0.75, 0.5625]
    >>> card.apply(cols)[0].tolist()
    [0, 1, 1]
    >>> Scorecard(criteria={"value": 0.75, "frequency": 0.25}, scaling="minmax").score(cols).tolist()
    [0.25, 0.75, 0.625]
    """

    kind: Literal["scorecard"] = "scorecard"
    criteria: tuple[Criterion, ...]
    cutoffs: tuple[Finite, ...] = (0.2, 0.4, 0.6, 0.8)
    scaling: Scaling = "rank"

    _criteria = field_validator("criteria", mode="before")(_criteria_from_mapping)

    @model_validator(mode="after")
    def _check(self) -> Scorecard:
        problems = _check_criteria(self.criteria) + _check_cutoffs(self.cutoffs, "cutoffs")
        if not self.cutoffs:
            problems.append(Problem("cutoffs", "must hold at least one cut-off"))
        if problems:
            raise InvalidInputError(problems)
        return self

    @property
    def n_tiers(self) -> int:
        """Number of tiers (``len(cutoffs) + 1``)."""
        return len(self.cutoffs) + 1

    @property
    def columns(self) -> tuple[Column, ...]:
        """The columns the scorecard reads."""
        return tuple(Column(c.name) for c in self.criteria)

    def score(self, cols: Mapping[str, FloatArray]) -> FloatArray:
        """Weighted score in [0, 1] of each customer, shape (n_customers,)."""
        n = next(iter(cols.values())).shape[0] if cols else 0
        total = np.zeros(n)
        for c in self.criteria:
            if c.low is not None or self.scaling == "minmax":
                add_scaled(total, cols[c.name], c.weight, c.low, c.high, c.higher_is_better)
            else:
                z = rank_scaled(cols[c.name])
                total += c.weight * (z if c.higher_is_better else 1.0 - z)
        return total

    def rule_texts(self) -> tuple[str, ...]:
        """One rule text per tier; ``{score}`` is filled from the assignment's features."""
        how = "scaled by rank" if self.scaling == "rank" else "scaled min-max"
        if all(c.low is not None for c in self.criteria):
            how = "fixed ranges"
        weights = ", ".join(f"{c.name} {c.weight:g}" for c in self.criteria) + f"; {how}"
        rules = [f"score {{score:.3f}} < cut-off {self.cutoffs[0]:g} (weights: {weights})"]
        rules += [f"score {{score:.3f}} >= cut-off {c:g} (weights: {weights})" for c in self.cutoffs]
        return tuple(rules)

    def apply(self, cols: Mapping[str, FloatArray]) -> tuple[IntArray, tuple[str, ...], FloatArray]:
        """Codes, one rule text per tier and the scores."""
        score = self.score(cols)
        return count_passed(score, self.cutoffs), self.rule_texts(), score


class StarRating(FrozenConfig):
    """One to five stars from a weighted scorecard; the star level decides the treatment.

    Reads the criteria's columns and, optionally, ``customer_id``. Code ``k`` means ``k + 1`` stars.

    Parameters
    ----------
    criteria:
        :class:`Criterion` objects or a mapping of column name to weight (weights sum to 1).
    cutoffs:
        Four increasing score cut-offs in (0, 1]; default ``(0.2, 0.4, 0.6, 0.8)`` (equal-width bands; with
        the default rank scaling of one criterion, about a fifth of the customers per star).
    scaling:
        ``"rank"`` (default) or ``"minmax"`` (opt-in), for criteria without a fixed range: see
        :class:`Scorecard`.
    labels:
        Names of the five levels, lowest first.
    benefits:
        Five tuples of benefit names, for 1 to 5 stars (default :data:`DEFAULT_BENEFITS`, a placeholder).
    budget:
        Optional ring-fenced maintenance budget of each star level (five non-negative amounts, 1 star
        first); see :meth:`budget_report`.

    Examples
    --------
    >>> rating = StarRating(criteria={"value": 0.5, "satisfaction": 0.5}, budget=(0, 0, 100, 200, 300))
    >>> a = rating.assign(value=[0.0, 50.0, 100.0], satisfaction=[1.0, 3.0, 5.0])
    >>> rating.stars(a).tolist()
    [1, 3, 5]
    >>> a.explain(2)
    'customer 2: tier 5 stars because score 1.000 >= cut-off 0.8 (weights: value 0.5, satisfaction 0.5; scaled by rank)'
    >>> rating.benefits_for(5)[-1]
    'executive sponsor'
    """

    criteria: tuple[Criterion, ...]
    cutoffs: tuple[Finite, Finite, Finite, Finite] = (0.2, 0.4, 0.6, 0.8)
    labels: tuple[str, str, str, str, str] = STAR_LABELS
    benefits: tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...], tuple[str, ...], tuple[str, ...]] = (
        DEFAULT_BENEFITS
    )
    budget: tuple[Finite, Finite, Finite, Finite, Finite] | None = None
    scaling: Scaling = "rank"

    _criteria = field_validator("criteria", mode="before")(_criteria_from_mapping)

    @model_validator(mode="after")
    def _check(self) -> StarRating:
        problems = _check_criteria(self.criteria) + _check_cutoffs(self.cutoffs, "cutoffs")
        problems += [p for p in [check_labels(self.labels, 5, "labels")] if p is not None]
        if self.budget is not None and any(b < 0 for b in self.budget):
            problems.append(Problem("budget", f"must be non-negative amounts; got {list(self.budget)}"))
        if problems:
            raise InvalidInputError(problems)
        return self

    @property
    def scorecard(self) -> Scorecard:
        """The underlying :class:`Scorecard`."""
        return Scorecard(criteria=self.criteria, cutoffs=self.cutoffs, scaling=self.scaling)

    def assign(self, data: Any = None, /, **columns: Any) -> TierAssignment:
        """Stars of every customer (codes 0-4 for 1-5 stars); features: the score and the criteria.

        Raises
        ------
        InvalidInputError
            When a column is missing or has the wrong shape, or rows hold NaN, infinite or out-of-range
            values (the first offending rows are named).
        """
        card = self.scorecard
        cols = read_columns(data, columns, [*card.columns, Column("customer_id", "label", required=False)],
                            "StarRating.assign()")
        codes, rules, score = card.apply(cols)
        features = {c.name: readonly(cols[c.name]) for c in self.criteria}
        features["score"] = readonly(score)
        return TierAssignment(codes=readonly(codes), labels=self.labels, reasons=readonly(codes), rules=rules,
                              policy="StarRating", features=features, customer_id=cols.get("customer_id"))

    def stars(self, assignment: TierAssignment) -> npt.NDArray[np.int8]:
        """Number of stars (1-5) of every customer of an assignment made by this policy."""
        stars: npt.NDArray[np.int8] = assignment.codes + np.int8(1)
        return stars

    def benefits_for(self, stars: int) -> tuple[str, ...]:
        """The benefits of a star level (1-5)."""
        if not 1 <= int(stars) <= 5:
            raise InvalidInputError(f"The 'stars' parameter of StarRating.benefits_for() must be in [1, 5]. "
                                    f"Got {stars!r} instead.")
        return self.benefits[int(stars) - 1]

    def budget_report(self, assignment: TierAssignment, values: Any = None) -> BudgetAllocation:
        """The ring-fenced budget of each star level spread over its customers.

        ``values`` (optional, one per customer) adds the value per unit of budget of each level.
        """
        if self.budget is None:
            raise InvalidInputError("StarRating.budget_report() needs a configured 'budget' (five amounts).")
        return budget_allocation(assignment, self.budget, values)
