"""Value tiers: 5A tiered and classified management (:class:`FiveA`) and :class:`KeyCustomers`.

The CLV management-system book (text 000) names a five-level "5A" scheme (5A客户分层分类管理) for tiering
customers vertically (by value) and classifying them horizontally (by type or need) but, in the text
available, does not define the levels. clvkit therefore
implements five ordered value tiers with a configurable cut rule and keeps the class as a separate axis;
the default shares below are clvkit's, chosen so that the two top tiers are the top 20% key customers.
"""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np
import numpy.typing as npt
from pydantic import Field, model_validator

from ..domain.enums import CustomerKind
from ..errors import InvalidInputError, Problem
from ._assignment import TierAssignment, readonly
from ._config import Finite, FrozenConfig, check_labels
from ._inputs import Column, label_codes, read_columns
from ._kernels import TIE_RULE, rank_cut, top_share_count, top_share_threshold
from .cuts import QuantileCut, ThresholdCut
from .scorecard import Scorecard

__all__ = [
    "FIVE_A_LABELS",
    "FIVE_A_SHARES",
    "KEY_CUSTOMER_SHARE",
    "TAKE_ONE_DROP_NINE_SHARE",
    "FiveA",
    "KeyCustomers",
    "top_share_mask",
]

#: Default 5A tier names, lowest tier first: A1 is the top tier.
FIVE_A_LABELS: tuple[str, ...] = ("A5", "A4", "A3", "A2", "A1")
#: Default 5A shares, lowest tier first (clvkit default, not from text 000, which names 5A only): A5 the bottom
#: 20%, A4 the next 30%, A3 the next 30%, A2 the next 15% and A1 the top 5%; A1 + A2 are the top 20% key customers.
FIVE_A_SHARES: tuple[float, ...] = (0.20, 0.30, 0.30, 0.15, 0.05)
#: Share of key customers given relationship management ("the top 20% of customers by value"): the 关键客户
#: "20%" of 张子凡 CRM notes (text 003); the exact cut (rank, ties) is clvkit's, see :func:`top_share_mask`.
KEY_CUSTOMER_SHARE = 0.2
#: The stricter focus rule 取一舍九 "take one, drop nine" of the CLV management-system book (text 000, chapter
#: 4): roughly the top tenth (the book names the rule; 0.1 is clvkit's reading of it).
TAKE_ONE_DROP_NINE_SHARE = 0.1


def top_share_mask(values: Any, share: float = KEY_CUSTOMER_SHARE) -> npt.NDArray[np.bool_]:
    """Which customers are in the top ``share`` by value: clvkit's one definition of "the top 20%".

    Both :class:`KeyCustomers` and the binding team report (:func:`clvkit.binding.key_customer_mask`) use it.
    The nominal count is ``k = floor(share * n + 1/2)`` (``n`` customers); the top share is everyone whose
    value reaches the ``k``-th largest value, so customers tied with it are all in (:data:`TIE_RULE`): the
    top share may hold a few more than ``k``, never fewer, and it depends neither on ids nor on row order.

    Parameters
    ----------
    values:
        Array of shape (n_customers,), finite.
    share:
        In (0, 1].

    Returns
    -------
    numpy.ndarray
        Boolean array of shape (n_customers,).

    Raises
    ------
    InvalidInputError
        For a share outside (0, 1] or values that are not a finite 1-D array of numbers.

    Examples
    --------
    >>> top_share_mask([5.0, 9.0, 9.0, 1.0, 7.0], 0.2).tolist()  # k = 1, but the two 9s tie: both are in
    [False, True, True, False, False]
    >>> int(top_share_mask(np.arange(2357.0)).sum())  # floor(0.2 * 2357 + 1/2) = 471
    471
    """
    if isinstance(share, (bool, np.bool_)) or not isinstance(share, (int, float, np.integer, np.floating)) \
            or not 0.0 < float(share) <= 1.0:
        raise InvalidInputError(f"The 'share' parameter of top_share_mask() must be a number in (0, 1]. Got "
                                f"{share!r} instead.")
    x = np.asarray(values)
    if x.ndim != 1 or x.dtype.kind not in "iuf" or not np.all(np.isfinite(x)):
        raise InvalidInputError("The 'values' parameter of top_share_mask() must be a 1-D array of finite numbers. "
                                f"Got dtype {x.dtype} and shape {x.shape} instead.")
    x = x.astype(np.float64, copy=False)
    mask: npt.NDArray[np.bool_] = x >= top_share_threshold(x, float(share))
    return mask

FiveACut = Annotated[QuantileCut | ThresholdCut | Scorecard, Field(discriminator="kind")]


def _default_cut() -> QuantileCut:
    return QuantileCut(shares=FIVE_A_SHARES)


class FiveA(FrozenConfig):
    """5A management: five ordered value tiers (vertical) and an optional class axis (horizontal).

    Reads ``value`` (or the criteria of a scorecard cut), and optionally ``classes`` (customer kind or
    need: labels, :class:`~clvkit.domain.CustomerKind` members or integer codes) and ``customer_id``
    (names customers in explanations; customers with equal values share the higher tier, ``TIE_RULE``).

    Parameters
    ----------
    cut:
        The cut rule: :class:`QuantileCut` with five shares (default :data:`FIVE_A_SHARES`),
        :class:`ThresholdCut` with four value thresholds, or :class:`Scorecard` with four cut-offs.
    labels:
        Five tier names, lowest first (default :data:`FIVE_A_LABELS`: ``A5`` ... ``A1``).
    class_labels:
        Names of the classes (default: the :class:`~clvkit.domain.CustomerKind` values).

    Examples
    --------
    >>> import numpy as np
    >>> values = np.arange(1.0, 21.0)
    >>> a = FiveA().assign(values, classes=["consumer"] * 19 + ["intermediary"])
    >>> a.counts().tolist()
    [4, 6, 6, 3, 1]
    >>> a.explain(19)  # doctest: +NORMALIZE_WHITESPACE
    'customer 19: tier A1 because value 20 >= threshold 20 (quantile 0.95; ties share the higher tier);
    class intermediary'
    >>> FiveA(cut=ThresholdCut(thresholds=(10, 100, 1000, 10000))).assign([5.0, 1234.5]).tier_labels().tolist()
    ['A5', 'A2']
    """

    cut: FiveACut = Field(default_factory=_default_cut)
    labels: tuple[str, ...] = FIVE_A_LABELS
    class_labels: tuple[str, ...] = tuple(k.value for k in CustomerKind)

    @model_validator(mode="after")
    def _check(self) -> FiveA:
        problems = [p for p in [check_labels(self.labels, 5, "labels"),
                                check_labels(self.class_labels, len(self.class_labels), "class_labels")] if p]
        if self.cut.n_tiers != 5:
            problems.append(Problem("cut", f"must make 5 tiers; this {type(self.cut).__name__} makes "
                                           f"{self.cut.n_tiers}", fix="Give 5 shares, 4 thresholds or 4 cut-offs."))
        if problems:
            raise InvalidInputError(problems)
        return self

    def assign(self, data: Any = None, /, **columns: Any) -> TierAssignment:
        """The 5A tier (and class, when ``classes`` is given) of every customer.

        Raises
        ------
        InvalidInputError
            When a column is missing or has the wrong shape, or rows hold NaN, infinite or out-of-range
            values (the first offending rows are named).
        """
        context = "FiveA.assign()"
        extra = [Column("customer_id", "label", False), Column("classes", "label", False)]
        if isinstance(self.cut, Scorecard):
            cols = read_columns(data, columns, [*self.cut.columns, *extra], context)
            codes, rules, score = self.cut.apply(cols)
            features = {c.name: readonly(cols[c.name]) for c in self.cut.criteria}
            features["score"] = readonly(score)
        else:
            cols = read_columns(data, columns, [Column("value"), *extra], context)
            codes, rules = self.cut.apply(cols["value"])
            features = {"value": readonly(cols["value"])}
        classes = cols.get("classes")
        return TierAssignment(
            codes=readonly(codes), labels=self.labels, reasons=readonly(codes), rules=rules, policy="FiveA",
            features=features, customer_id=cols.get("customer_id"),
            classes=None if classes is None else readonly(label_codes(classes, self.class_labels, "classes", context)),
            class_labels=self.class_labels if classes is not None else (),
        )


class KeyCustomers(FrozenConfig):
    """The top ``share`` of customers by value are key customers (code 1), the rest are not (code 0).

    The top share is :func:`top_share_mask`: ``floor(share * n + 1/2)`` customers, plus every customer tied
    with the last of them (:data:`TIE_RULE`; equal values are never split by id or row order). Reads ``value``
    and optionally ``customer_id``.

    Parameters
    ----------
    share:
        In (0, 1]; default :data:`KEY_CUSTOMER_SHARE` (0.2). "Take one, drop nine" is
        ``KeyCustomers(share=TAKE_ONE_DROP_NINE_SHARE)`` (0.1).
    labels:
        Names of (not key, key).

    Examples
    --------
    >>> a = KeyCustomers(share=0.4).assign(value=[5.0, 9.0, 9.0, 1.0, 7.0], customer_id=[10, 30, 20, 40, 50])
    >>> a.codes.tolist()
    [0, 1, 1, 0, 0]
    >>> a = KeyCustomers(share=0.2).assign(value=[5.0, 9.0, 9.0, 1.0, 7.0], customer_id=[10, 30, 20, 40, 50])
    >>> a.codes.tolist()
    [0, 1, 1, 0, 0]
    >>> a.explain(1)
    'customer 30: tier key because value 9 >= threshold 9 (top 20% by value; ties share the higher tier)'
    """

    share: Finite = KEY_CUSTOMER_SHARE
    labels: tuple[str, ...] = ("other", "key")

    @model_validator(mode="after")
    def _check(self) -> KeyCustomers:
        problems = [p for p in [check_labels(self.labels, 2, "labels")] if p]
        if not 0.0 < self.share <= 1.0:
            problems.append(Problem("share", f"must lie in (0, 1]; got {self.share}",
                                    fix="Use e.g. 0.2 for the top fifth or 0.1 for 'take one, drop nine'."))
        if problems:
            raise InvalidInputError(problems)
        return self

    def n_key(self, n: int) -> int:
        """How many of ``n`` customers are key before ties: ``floor(share * n + 1/2)`` (see :func:`top_share_mask`)."""
        return top_share_count(self.share, n)

    def assign(self, data: Any = None, /, **columns: Any) -> TierAssignment:
        """Key (1) or not (0) for every customer.

        Raises
        ------
        InvalidInputError
            When a column is missing or has the wrong shape, or rows hold NaN, infinite or out-of-range
            values (the first offending rows are named).
        """
        cols = read_columns(data, columns, [Column("value"), Column("customer_id", "label", False)],
                            "KeyCustomers.assign()")
        x = cols["value"]
        bound = x.shape[0] - self.n_key(x.shape[0])
        codes, values = rank_cut(x, [bound])  # the same cut as top_share_mask(x, self.share)
        top = f"top {self.share:.0%} by value"
        if bound in values:
            rules = (f"value {{value:.6g}} < threshold {values[bound]:.6g} (outside the {top})",
                     f"value {{value:.6g}} >= threshold {values[bound]:.6g} ({top}; {TIE_RULE})")
        else:
            rules = (f"value {{value:.6g}} is outside the {top}", f"value {{value:.6g}} is in the {top}")
        return TierAssignment(codes=readonly(codes), labels=self.labels, reasons=readonly(codes), rules=rules,
                              policy="KeyCustomers", features={"value": readonly(x)},
                              customer_id=cols.get("customer_id"))
