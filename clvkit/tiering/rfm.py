"""RFM segmentation: quintile scores for recency, frequency and monetary value, and named segments.

Each customer gets three scores from 1 to 5. Frequency and monetary value score higher when larger;
recency scores higher when the last purchase is *more recent*, i.e. when the time since it is smaller.
Score ``s`` means: strictly above the values of the customers ranked at ``s - 1`` of the quantiles
0.2, 0.4, 0.6, 0.8 (see :class:`~clvkit.tiering.AxisCut` for the rank rule). Tied customers always share
a score, so a column with many equal values (e.g. one-time buyers' frequency 0) puts them all in its
lowest score instead of splitting them arbitrarily; the scores then hold 20% each only without ties.

A segment map (a list of :class:`SegmentRule`, first match wins) names (R, F, M) combinations.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import numpy.typing as npt
from pydantic import Field, model_validator

from ..errors import InvalidInputError, Problem
from ._assignment import CODE_DTYPE, IntArray, TierAssignment, readonly
from ._config import FrozenConfig
from ._inputs import Column, read_columns
from ._kernels import quantile_scores

__all__ = ["DEFAULT_RFM_SEGMENTS", "RFM_QUANTILES", "RFMSegments", "SegmentRule"]

FloatArray = npt.NDArray[np.float64]

#: Quantiles separating the five scores (clvkit default: quintiles; RFM is not in the texts).
RFM_QUANTILES: tuple[float, ...] = (0.2, 0.4, 0.6, 0.8)

Score = int


class SegmentRule(FrozenConfig):
    """A named segment: inclusive score ranges for recency (R), frequency (F) and monetary value (M).

    Examples
    --------
    >>> SegmentRule(name="champions", recency=(4, 5), frequency=(4, 5), monetary=(4, 5)).matches(5, 4, 4)
    True
    """

    name: str = Field(min_length=1)
    recency: tuple[int, int] = (1, 5)
    frequency: tuple[int, int] = (1, 5)
    monetary: tuple[int, int] = (1, 5)

    @model_validator(mode="after")
    def _check(self) -> SegmentRule:
        problems = [Problem(f, f"must be a range (low, high) with 1 <= low <= high <= 5; got {r}")
                    for f, r in (("recency", self.recency), ("frequency", self.frequency),
                                 ("monetary", self.monetary)) if not 1 <= r[0] <= r[1] <= 5]
        if problems:
            raise InvalidInputError(problems)
        return self

    def matches(self, r: int, f: int, m: int) -> bool:
        """Whether scores (r, f, m) fall in this segment's ranges."""
        return all(lo <= s <= hi for s, (lo, hi) in ((r, self.recency), (f, self.frequency), (m, self.monetary)))

    def describe(self) -> str:
        """The ranges in words, for explanations."""
        def rng(lo_hi: tuple[int, int]) -> str:
            return str(lo_hi[0]) if lo_hi[0] == lo_hi[1] else f"{lo_hi[0]}-{lo_hi[1]}"
        return f"R {rng(self.recency)}, F {rng(self.frequency)}, M {rng(self.monetary)}"


#: clvkit default segment map (not from the texts; first match wins), lowest scores are worst:
#:
#: ============== ======= ======= ======= ==================================================
#: segment        R       F       M       reading
#: ============== ======= ======= ======= ==================================================
#: champions      4-5     4-5     4-5     recent, frequent, big spenders
#: loyal          3-5     4-5     any     buy often and still recently
#: potential      4-5     2-3     any     recent, buying again: could become loyal
#: new            4-5     1       any     recent first-time buyers
#: cannot_lose    1       4-5     4-5     were frequent big spenders, now long gone
#: at_risk        1-2     3-5     any     used to buy often, quiet for a while
#: need_attention 3       1-3     any     middling: neither recent nor frequent
#: hibernating    1-2     1-2     any     long gone and rarely bought
#: ============== ======= ======= ======= ==================================================
#:
#: The eight rules cover all 125 score combinations.
DEFAULT_RFM_SEGMENTS: tuple[SegmentRule, ...] = (
    SegmentRule(name="champions", recency=(4, 5), frequency=(4, 5), monetary=(4, 5)),
    SegmentRule(name="loyal", recency=(3, 5), frequency=(4, 5)),
    SegmentRule(name="potential", recency=(4, 5), frequency=(2, 3)),
    SegmentRule(name="new", recency=(4, 5), frequency=(1, 1)),
    SegmentRule(name="cannot_lose", recency=(1, 1), frequency=(4, 5), monetary=(4, 5)),
    SegmentRule(name="at_risk", recency=(1, 2), frequency=(3, 5)),
    SegmentRule(name="need_attention", recency=(3, 3), frequency=(1, 3)),
    SegmentRule(name="hibernating", recency=(1, 2), frequency=(1, 2)),
)


class RFMSegments(FrozenConfig):
    """Quintile R, F, M scores (1-5) and a named segment per customer.

    Reads ``frequency``, ``monetary_value`` and the recency as either ``time_since_last`` (time since the
    last purchase: smaller is better) or, as in a :class:`~clvkit.CustomerSummary`, ``recency`` (time from
    the first to the last purchase) with ``T`` (time from the first purchase to the end of the period),
    giving ``time_since_last = T - recency``. Optionally ``customer_id``.

    The assignment's codes are segments (unordered); ``components`` holds the scores ``"recency"``,
    ``"frequency"`` and ``"monetary"`` (int8, 1-5).

    Parameters
    ----------
    segments:
        The segment map, first match wins (default :data:`DEFAULT_RFM_SEGMENTS`).
    fallback:
        Name of the segment of customers no rule matches; it is listed only when the map leaves some
        combination uncovered.

    Examples
    --------
    >>> rfm = RFMSegments()
    >>> a = rfm.assign(time_since_last=[1.0, 2, 3, 4, 5, 6, 7, 8, 9, 10],
    ...                frequency=[9.0, 8, 7, 6, 5, 4, 3, 2, 1, 0], monetary_value=[9.0, 8, 7, 6, 5, 4, 3, 2, 1, 0])
    >>> a.components["recency"].tolist()
    [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]
    >>> a.tier_labels().tolist()[:3], a.tier_labels().tolist()[-1]
    (['champions', 'champions', 'champions'], 'hibernating')
    >>> a.explain(0)
    'customer 0: tier champions because R 5, F 5, M 5 matches champions (R 4-5, F 4-5, M 4-5)'
    """

    segments: tuple[SegmentRule, ...] = DEFAULT_RFM_SEGMENTS
    fallback: str = Field(default="other", min_length=1)

    @model_validator(mode="after")
    def _check(self) -> RFMSegments:
        names = [s.name for s in self.segments]
        problems = []
        if not names:
            problems.append(Problem("segments", "must hold at least one rule"))
        if len(set(names)) != len(names) or self.fallback in names:
            problems.append(Problem("segments", f"names must be distinct (and differ from fallback "
                                                f"{self.fallback!r}); got {names}"))
        if problems:
            raise InvalidInputError(problems)
        return self

    @property
    def labels(self) -> tuple[str, ...]:
        """Segment names, in map order, then the fallback when the map does not cover every combination."""
        table = self.lookup_table()
        names = tuple(s.name for s in self.segments)
        return (*names, self.fallback) if (table == len(names)).any() else names

    def lookup_table(self) -> IntArray:
        """Segment code of every (R, F, M), an int8 array of shape (125,) indexed ``25(R-1)+5(F-1)+(M-1)``."""
        table = np.full(125, len(self.segments), dtype=CODE_DTYPE)
        for r, f, m in itertools.product(range(1, 6), repeat=3):
            for k, seg in enumerate(self.segments):
                if seg.matches(r, f, m):
                    table[25 * (r - 1) + 5 * (f - 1) + (m - 1)] = k
                    break
        return table

    @staticmethod
    def scores(x: Any, higher_is_better: bool = True) -> IntArray:
        """Quintile scores 1-5 of ``x``: 1 + how many quintile cuts ``x`` is strictly better than.

        Examples
        --------
        >>> RFMSegments.scores([10.0, 20.0, 30.0, 40.0, 50.0]).tolist()
        [1, 2, 3, 4, 5]
        >>> RFMSegments.scores([10.0, 20.0, 30.0, 40.0, 50.0], higher_is_better=False).tolist()
        [5, 4, 3, 2, 1]
        """
        return quantile_scores(np.asarray(x, dtype=np.float64), RFM_QUANTILES, higher_is_better)

    def assign(self, data: Any = None, /, **columns: Any) -> TierAssignment:
        """Segment (code), R/F/M scores (components) of every customer.

        Raises
        ------
        InvalidInputError
            When a column is missing or has the wrong shape, or rows hold NaN, infinite or out-of-range
            values (the first offending rows are named).
        """
        context = "RFMSegments.assign()"
        specs = [Column("frequency"), Column("monetary_value"), Column("time_since_last", required=False),
                 Column("recency", required=False), Column("T", required=False),
                 Column("customer_id", "label", False)]
        cols = read_columns(data, columns, specs, context)
        if "time_since_last" in cols:
            since = cols["time_since_last"]
        elif "recency" in cols and "T" in cols:
            since = cols["T"] - cols["recency"]
        else:
            raise InvalidInputError([Problem("time_since_last", "is required (or both 'recency' and 'T')",
                                             fix="Pass the time since each customer's last purchase.")],
                                    context=context)
        r = self.scores(since, higher_is_better=False)
        f = self.scores(cols["frequency"])
        m = self.scores(cols["monetary_value"])
        # 25 (R-1) + 5 (F-1) + (M-1) in int16: a quarter of the memory traffic of intp arithmetic.
        index = r.astype(np.int16)
        index *= 25
        index += f * np.int8(5)
        index += m
        index -= 31
        codes = self.lookup_table()[index]
        labels = self.labels
        rules = [f"R {{R}}, F {{F}}, M {{M}} matches {s.name} ({s.describe()})" for s in self.segments]
        if len(labels) > len(self.segments):
            rules.append("R {R}, F {F}, M {M} matches no segment rule")
        return TierAssignment(
            codes=readonly(codes), labels=labels, reasons=readonly(codes), rules=tuple(rules), policy="RFMSegments",
            ordered=False, features={"R": readonly(r), "F": readonly(f), "M": readonly(m),
                                     "time_since_last": readonly(since)},
            components={"recency": readonly(r), "frequency": readonly(f), "monetary": readonly(m)},
            customer_id=cols.get("customer_id"),
        )
