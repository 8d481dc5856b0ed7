"""Influence on other customers: key opinion leaders ranked by referral credit, and word of mouth.

**Key influencers** (:func:`influencers`, :class:`InfluencerRule`): the texts' key opinion leaders and
key opinion consumers (KOL/KOC) "may bring hundreds of times their own spend through referrals"; clvkit
ranks referrers by indirect value and by the ratio of indirect to direct value, and flags them with a
configurable rule.

**Word of mouth without a referral graph**: a documented *prior* on indirect value, off unless asked for.

Where nobody recorded who referred whom, 张子凡 CRM notes (text 003) quote a survey ("一项调查表明"): *one
satisfied customer brings 8 prospects, of whom at least 1 buys; one dissatisfied customer influences 25
others* ("1个满意的客户会给企业带来8个潜在的客户,其中至少有1个客户会购买...;1个不满意的客户会影响其他25个客户的
购买意向").
:class:`WordOfMouthPrior` keeps each number as a named, overridable constant with its source, and
:class:`WordOfMouth` turns a customer's rung on the satisfaction ladder
(:class:`~clvkit.domain.SatisfactionLevel`) into an expected indirect value:

``indirect = net expected buyers x value per buyer``, where a satisfied customer (satisfied, loyal or
recommends) brings ``buyers_per_satisfied`` buyers, a dissatisfied one costs
``influenced_per_dissatisfied x lost_buyers_per_influenced`` buyers, and the others (not dissatisfied,
or unknown) neither.

This is a prior, not a measurement: the texts do not say how many of the 25 people a dissatisfied
customer talks to would otherwise have bought. clvkit assumes the satisfied customers' conversion
(1 buyer in 8 prospects), i.e. 25/8 = 3.125 lost buyers, and says so; override it. Nothing here is used
unless a :class:`WordOfMouth` is passed to :class:`~clvkit.valuation.CompositeValue`. Unlike a referral
graph, the value is about prospects outside the customer base, so customer equity adds it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
from pydantic import Field, model_validator

from ..._pydantic import FrozenModel
from ..._validation import as_float_array, check_scalar, id_problems, raise_if, row_problem
from ...domain.enums import SatisfactionLevel
from ...errors import InvalidInputError
from . import _referral_kernels as k

__all__ = [
    "WORD_OF_MOUTH_SOURCE",
    "InfluencerReport",
    "InfluencerRule",
    "WordOfMouth",
    "WordOfMouthPrior",
    "influencers",
]

FloatArray = npt.NDArray[np.float64]

#: Where the default constants come from (text 003, as /work/shared/seeds/README.md names it).
WORD_OF_MOUTH_SOURCE = (
    "张子凡 CRM notes (text 003), quoting a survey: one satisfied customer brings 8 prospects, of whom at least 1 "
    "buys; one dissatisfied customer influences 25 others."
)
_SATISFIED = (SatisfactionLevel.SATISFIED, SatisfactionLevel.LOYAL, SatisfactionLevel.RECOMMENDS)


class WordOfMouthPrior(FrozenModel):
    """The word-of-mouth rules of thumb, each a named constant with its source.

    Examples
    --------
    >>> p = WordOfMouthPrior()
    >>> p.prospects_per_satisfied, p.buyers_per_satisfied, p.influenced_per_dissatisfied, p.loss_per_influenced
    (8.0, 1.0, 25.0, 0.125)
    >>> p.net_buyers(["dissatisfied", "not_dissatisfied", "satisfied", "recommends", None]).tolist()
    [-3.125, 0.0, 1.0, 1.0, 0.0]
    """

    prospects_per_satisfied: float = Field(
        8.0, gt=0.0, allow_inf_nan=False,
        description=f"Prospects one satisfied customer brings. Source: {WORD_OF_MOUTH_SOURCE}")
    buyers_per_satisfied: float = Field(
        1.0, ge=0.0, allow_inf_nan=False,
        description="Of those prospects, how many buy ('at least 1': the lower bound is used). Source: as above.")
    influenced_per_dissatisfied: float = Field(
        25.0, ge=0.0, allow_inf_nan=False,
        description="People one dissatisfied customer influences. Source: as above.")
    lost_buyers_per_influenced: float | None = Field(
        None, ge=0.0, le=1.0, allow_inf_nan=False,
        description="Share of the influenced who do not buy because of it. Not in the texts: None (default) "
                    "uses the satisfied customers' conversion, buyers_per_satisfied / prospects_per_satisfied "
                    "(clvkit's assumption).")
    satisfied_levels: tuple[SatisfactionLevel, ...] = Field(
        _SATISFIED, description="Rungs counted as satisfied (bring buyers).")
    dissatisfied_levels: tuple[SatisfactionLevel, ...] = Field(
        (SatisfactionLevel.DISSATISFIED,), description="Rungs counted as dissatisfied (cost buyers).")

    @property
    def loss_per_influenced(self) -> float:
        """The share of influenced people lost: the override, else ``buyers / prospects`` (1/8)."""
        if self.lost_buyers_per_influenced is not None:
            return self.lost_buyers_per_influenced
        return min(self.buyers_per_satisfied / self.prospects_per_satisfied, 1.0)

    def net_buyers(self, satisfaction: Any) -> FloatArray:
        """Expected buyers won (> 0) or lost (< 0) through each customer's word of mouth.

        Parameters
        ----------
        satisfaction:
            Shape (n_customers,): :class:`~clvkit.domain.SatisfactionLevel` members, their names or ranks
            (1-5), or ``None`` for unknown (no effect).
        """
        ranks = satisfaction_ranks(satisfaction)
        lost = self.influenced_per_dissatisfied * self.loss_per_influenced
        out = np.zeros(ranks.shape[0])
        out[np.isin(ranks, [int(x) for x in self.satisfied_levels])] = self.buyers_per_satisfied
        out[np.isin(ranks, [int(x) for x in self.dissatisfied_levels])] = -lost
        return out


def satisfaction_ranks(values: Any) -> npt.NDArray[np.int64]:
    """Ranks 1-5 of satisfaction levels given as members, names or ranks; 0 for ``None`` (unknown).

    An integer array of ranks 0-5 (0 = unknown) is taken as is.
    """
    if isinstance(values, np.ndarray) and values.dtype.kind in "iu" and values.ndim == 1 and values.size \
            and 0 <= values.min() and values.max() <= 5:
        return values.astype(np.int64)
    if isinstance(values, (str, SatisfactionLevel)):
        items: list[Any] = [values]
    elif isinstance(values, Iterable) and not isinstance(values, (bytes, dict, set, frozenset)) \
            and not (isinstance(values, np.ndarray) and values.ndim == 0):
        items = list(values)
    else:  # a number, None or a mapping is not one level per customer
        raise InvalidInputError(f"Satisfaction levels must be a sequence with one level per customer (a member, name, "
                                f"rank 1-5 or None each). Got {type(values).__name__}.")
    out = np.zeros(len(items), dtype=np.int64)
    bad: list[int] = []
    for i, x in enumerate(items):
        if x is None or (isinstance(x, (float, np.floating)) and x != x):
            continue
        try:
            if isinstance(x, str):
                level = SatisfactionLevel[x.strip().upper()]
            elif isinstance(x, (bool, np.bool_)) or not isinstance(x, (int, float, np.integer, np.floating)) \
                    or x != int(x):  # a boolean or a fraction is not a rank (int(2.5) would read it as 2)
                raise ValueError(x)
            else:
                level = SatisfactionLevel(int(x))
        except (KeyError, ValueError, TypeError, OverflowError):
            bad.append(i)
            continue
        out[i] = int(level)
    if bad:
        names = ", ".join(m.name.lower() for m in SatisfactionLevel)
        raise InvalidInputError(f"Satisfaction levels must be one of {names}, a rank 1-5, or None. Rows {bad[:5]} "
                                f"({len(bad)} in all) are not; first value {items[bad[0]]!r}.")
    return out


@dataclass(frozen=True, eq=False)
class WordOfMouth:
    """Expected indirect value from the word-of-mouth prior (an :class:`IndirectValueSource`).

    Parameters
    ----------
    satisfaction:
        Each customer's satisfaction level (member, name, rank or ``None``), shape (n_customers,).
    customer_id:
        Their ids; when given, customers are matched by id (customers valued but not listed count as
        unknown), otherwise by position.
    prior:
        The constants (default :class:`WordOfMouthPrior()`).
    value_per_buyer:
        What one won or lost buyer is worth; ``None`` (default) uses the mean direct value of the
        customers being valued (clvkit's assumption: a new buyer is worth an average current one).

    Examples
    --------
    >>> wom = WordOfMouth(["satisfied", "dissatisfied", None], value_per_buyer=400.0)
    >>> wom.indirect_value([1000.0, 300.0, 500.0], None).tolist()
    [400.0, -1250.0, 0.0]
    """

    satisfaction: Any
    customer_id: Any = None
    prior: WordOfMouthPrior = field(default_factory=WordOfMouthPrior)
    value_per_buyer: float | None = None

    #: The value is about prospects outside the base: customer equity adds it.
    overlaps_direct: ClassVar[bool] = False
    #: Shown with any result that uses it.
    label: ClassVar[str] = "PRIOR: word-of-mouth rules of thumb (8 prospects/1 buyer; 25 influenced), not observed"

    def __post_init__(self) -> None:
        object.__setattr__(self, "satisfaction", satisfaction_ranks(self.satisfaction))
        if not isinstance(self.prior, WordOfMouthPrior):
            raise InvalidInputError(f"The 'prior' parameter of WordOfMouth must be a WordOfMouthPrior. Got "
                                    f"{type(self.prior).__name__} instead; pass WordOfMouthPrior(...).")
        if self.customer_id is not None:
            ids = np.asarray(self.customer_id) if np.ndim(self.customer_id) else np.zeros(0)
            if ids.shape != self.satisfaction.shape:
                raise InvalidInputError(f"WordOfMouth: customer_id has shape {np.shape(self.customer_id)} but "
                                        f"satisfaction has {self.satisfaction.shape}.")
            _check_ids(ids, "customer_id")
            object.__setattr__(self, "customer_id", ids)
        if self.value_per_buyer is not None:
            v = self.value_per_buyer
            if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.integer, np.floating)):
                raise InvalidInputError(f"The 'value_per_buyer' parameter of WordOfMouth must be a real number or "
                                        f"None. Got {v!r} instead.")
            object.__setattr__(self, "value_per_buyer", check_scalar(v, "value_per_buyer", "WordOfMouth", low=0.0,
                                                                     high=math.inf, high_open=True))

    @classmethod
    def from_customers(cls, customers: Iterable[Any], *, prior: WordOfMouthPrior | None = None,
                       value_per_buyer: float | None = None) -> WordOfMouth:
        """From :class:`~clvkit.domain.Customer` entities (their ``customer_id`` and ``satisfaction``)."""
        cs = list(customers)
        return cls([c.satisfaction for c in cs], np.array([c.customer_id for c in cs], dtype=object),
                   prior if prior is not None else WordOfMouthPrior(), value_per_buyer)

    def expected_buyers(self) -> FloatArray:
        """Net expected buyers won (lost, if negative) per listed customer."""
        return self.prior.net_buyers(self.satisfaction)

    def indirect_value(self, direct: Any, customer_id: Any = None) -> FloatArray:
        """Expected indirect value of the customers whose direct values are ``direct``, in their order."""
        d = as_float_array(direct, "direct", "WordOfMouth") if np.ndim(direct) == 1 else np.zeros((0, 0))
        if d.ndim != 1 or not np.all(np.isfinite(d)):
            raise InvalidInputError("WordOfMouth: the direct values must be a finite one-dimensional array.")
        buyers = self.expected_buyers()
        if self.customer_id is not None and customer_id is not None:
            theirs_raw = np.asarray(customer_id) if np.ndim(customer_id) == 1 else np.zeros((0, 0))
            if theirs_raw.shape != d.shape:
                raise InvalidInputError(f"WordOfMouth: {np.shape(customer_id)} customer ids for {d.shape[0]} direct "
                                        f"values; pass one id per value.")
            _check_ids(theirs_raw, "customer_id of the customers valued")
            mine, theirs = k.harmonize([k.as_ids(self.customer_id, "customer_id")[0],
                                        k.as_ids(theirs_raw, "customer_id")[0]])
            pos = k.lookup(mine, theirs)
            buyers = np.where(pos >= 0, buyers[np.maximum(pos, 0)], 0.0)
        elif buyers.shape != d.shape:
            raise InvalidInputError(f"WordOfMouth: {buyers.shape[0]} satisfaction levels for {d.shape[0]} customers; "
                                    f"give customer_id on both sides to match them by id.")
        if self.value_per_buyer is not None:
            per_buyer = float(self.value_per_buyer)
        elif d.size:  # the mean, scaled so that values near the float maximum do not overflow the sum
            scale = float(np.max(np.abs(d))) or 1.0
            per_buyer = scale * float(np.mean(d / scale))
        else:
            per_buyer = 0.0
        with np.errstate(over="ignore"):
            out: FloatArray = buyers * per_buyer
        if not np.all(np.isfinite(out)):
            raise InvalidInputError(f"WordOfMouth: the indirect value overflows ({per_buyer:g} per buyer); pass a "
                                    f"smaller value_per_buyer or direct values in a larger unit.")
        return out


def _check_ids(ids: npt.NDArray[Any], column: str) -> None:
    """Ids that match customers must be present and unique: a repeated id would take one level and drop the other."""
    if ids.ndim != 1:
        raise InvalidInputError(f"WordOfMouth: '{column}' must be one-dimensional. Got shape {ids.shape}.")
    raise_if(id_problems(ids, column), "WordOfMouth")


# ---------------------------------------------------------------------------------------------- key influencers
class InfluencerRule(FrozenModel):
    """Which referrers count as key influencers (KOL/KOC): clvkit's configurable rule.

    姚群峰《客户经营》2021 (text 002) names the opinion leader (意见领袖 KOL), who "may bring in hundreds or
    thousands of times" their own spend through referrals (可能带来成百上千倍的推荐收入), and the consumer leader
    (消费领袖 KOC, the brand fan); it gives no cut-off. clvkit's default rule flags the few referrers who stand out
    on both counts. A customer is flagged when their indirect value is positive, they made at least
    ``min_referrals`` referrals (when counts are known), and every criterion that is set holds:

    - ``min_ratio`` (default 1.0): indirect >= ``min_ratio`` x direct - they bring in through referrals at
      least as much as they spend themselves;
    - ``top_share`` (default 0.2): among the top ``top_share`` of the referrers by indirect value - the
      ``k = max(1, floor(top_share x n_referrers + 1/2))`` largest, and every referrer tied with the ``k``-th
      (ties share the higher tier, as in every clvkit rank cut).

    Both numbers are clvkit's defaults, not the texts'. The old default (``min_ratio=1``, no ``top_share``)
    flagged 77% of the referrers of the demo's synthetic referral layer (345 of 449); this one flags 19% (87).

    Examples
    --------
    >>> InfluencerRule()
    InfluencerRule(min_ratio=1.0, top_share=0.2, min_referrals=1)
    """

    min_ratio: float | None = Field(1.0, ge=0.0, allow_inf_nan=False)
    top_share: float | None = Field(0.2, gt=0.0, le=1.0)
    min_referrals: int = Field(1, ge=1)

    @model_validator(mode="after")
    def _one_criterion(self) -> InfluencerRule:
        if self.min_ratio is None and self.top_share is None:
            raise ValueError("InfluencerRule needs min_ratio or top_share (or both); both are None.")
        return self


@dataclass(frozen=True, eq=False)
class InfluencerReport:
    """Referrers ranked two ways, with the key-influencer flag.

    Attributes
    ----------
    ratio:
        ``indirect / direct`` per customer: 0 without indirect value, ``inf`` with indirect value but no
        direct value.
    is_key:
        The :class:`InfluencerRule` flag per customer.
    by_indirect, by_ratio:
        Positions of the customers with indirect value > 0, by indirect value (largest first) and by ratio
        (then by indirect value); ties in row order.
    customer_id:
        Ids, or ``None``.
    rule:
        The rule used.
    """

    ratio: FloatArray
    is_key: npt.NDArray[np.bool_]
    by_indirect: npt.NDArray[np.intp]
    by_ratio: npt.NDArray[np.intp]
    customer_id: npt.NDArray[Any] | None
    rule: InfluencerRule


def influencers(direct: Any, indirect: Any, customer_id: Any = None, *, referrals: Any = None,
                rule: InfluencerRule | None = None) -> InfluencerReport:
    """Rank referrers by indirect value and by indirect/direct, and flag key influencers.

    Examples
    --------
    >>> rep = influencers([100.0, 50.0, 0.0, 80.0], [500.0, 20.0, 30.0, 0.0])
    >>> rep.by_indirect.tolist(), rep.by_ratio.tolist(), rep.is_key.tolist()  # 3 referrers: the top 20% is 1
    ([0, 2, 1], [2, 0, 1], [True, False, False, False])
    >>> influencers([100.0, 50.0, 0.0, 80.0], [500.0, 20.0, 30.0, 0.0],
    ...             rule=InfluencerRule(min_ratio=1.0, top_share=None)).is_key.tolist()
    [True, False, True, False]
    """
    rule = rule if rule is not None else InfluencerRule()
    if not isinstance(rule, InfluencerRule):
        raise InvalidInputError(f"The 'rule' parameter of influencers() must be an InfluencerRule or None. Got "
                                f"{type(rule).__name__} instead.")
    d = as_float_array(direct, "direct", "influencers()")
    ind = as_float_array(indirect, "indirect", "influencers()")
    if d.shape != ind.shape or d.ndim != 1:
        raise InvalidInputError(f"influencers(): direct and indirect must have one shape (n_customers,). Got "
                                f"{d.shape} and {ind.shape}.")
    # a NaN direct value would make its customer a key influencer with an infinite ratio
    raise_if([row_problem(~np.isfinite(d), "direct", "must be finite"),
              row_problem(~np.isfinite(ind), "indirect", "must be finite")], "influencers()")
    counts = None
    if referrals is not None:
        counts = as_float_array(referrals, "referrals", "influencers()")
        if counts.shape != d.shape:
            raise InvalidInputError(f"influencers(): 'referrals' must have shape {d.shape}. Got {counts.shape}.")
    if customer_id is not None and np.shape(customer_id) != d.shape:
        raise InvalidInputError(f"influencers(): 'customer_id' must have shape {d.shape}. Got "
                                f"{np.shape(customer_id)}.")
    pos = ind > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(pos, np.where(d > 0, ind / np.where(d > 0, d, 1.0), math.inf), 0.0)
    rows = np.arange(d.shape[0])
    by_indirect = rows[pos][np.lexsort((rows[pos], -ind[pos]))]
    by_ratio = rows[pos][np.lexsort((rows[pos], -ind[pos], -ratio[pos]))]
    key = pos.copy()
    if counts is not None:
        key &= counts >= rule.min_referrals
    if rule.min_ratio is not None:
        key &= ratio >= rule.min_ratio
    if rule.top_share is not None and by_indirect.shape[0]:
        m = by_indirect.shape[0]
        k = max(1, min(m, math.floor(rule.top_share * m + 0.5)))
        key &= ind >= ind[by_indirect[k - 1]]  # the k largest and everyone tied with the k-th
    ids = None if customer_id is None else np.asarray(customer_id)
    return InfluencerReport(ratio=ratio, is_key=key, by_indirect=by_indirect, by_ratio=by_ratio, customer_id=ids,
                            rule=rule)
