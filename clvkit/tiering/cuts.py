"""Cut rules that turn one number per customer into ordered tiers.

* :class:`QuantileCut` - tiers holding given shares of the customers, by rank (customers with equal values
  are never split: at a boundary they all go to the higher tier, :data:`TIE_RULE`);
* :class:`ThresholdCut` - absolute thresholds: a customer reaches tier ``k`` when ``x >= thresholds[k-1]``;
* :class:`AxisCut` - one high/low cut for an axis of a 2x2 matrix, by quantile or threshold.

Shares and thresholds are listed from the lowest tier to the highest, like the tier codes.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import numpy as np
import numpy.typing as npt
from pydantic import Field, model_validator

from ..errors import InvalidInputError, Problem
from ._assignment import IntArray
from ._config import Finite, FrozenConfig, check_increasing, close_to
from ._kernels import TIE_RULE, count_passed, rank_bounds, rank_cut, tie_up_thresholds

__all__ = ["TIE_RULE", "AxisCut", "QuantileCut", "ThresholdCut"]

FloatArray = npt.NDArray[np.float64]
Share = Annotated[float, Field(allow_inf_nan=False)]


class QuantileCut(FrozenConfig):
    """Tiers that hold fixed shares of the batch, ranked by value.

    Parameters
    ----------
    shares:
        Share of the customers in each tier, lowest tier first; each in (0, 1], summing to 1 (to 1e-9).
        Tier ``k`` holds ``b[k+1] - b[k]`` customers where ``b[k] = floor(n * (shares[0] + ... +
        shares[k-1]) + 1/2)``, i.e. its share of ``n`` to within one customer, when no two customers tie at
        a boundary.

    Notes
    -----
    Ties stay together (:data:`TIE_RULE`, clvkit's rule): tier ``k`` starts at the value ``t`` of the
    customer at rank ``b[k]`` and holds everyone with ``x >= t``, so customers equal to ``t`` all go to the
    higher tier and that tier may hold a few more than its share (the tier below a few fewer). The tiers
    depend neither on the row order nor on the ids. ``explain()`` says so.

    Examples
    --------
    >>> cut = QuantileCut(shares=(0.5, 0.3, 0.2))
    >>> codes, rules = cut.apply(np.array([5.0, 1.0, 9.0, 3.0, 7.0, 2.0, 8.0, 4.0, 6.0, 0.0]))
    >>> codes.tolist()
    [1, 0, 2, 0, 1, 0, 2, 0, 1, 0]
    >>> rules[2]
    'value {value:.6g} >= threshold 8 (quantile 0.8; ties share the higher tier)'
    """

    kind: Literal["quantiles"] = "quantiles"
    shares: tuple[Share, ...]

    @model_validator(mode="after")
    def _check(self) -> QuantileCut:
        problems: list[Problem] = []
        if len(self.shares) < 2:
            problems.append(Problem("shares", f"must list at least two tiers; got {list(self.shares)}"))
        bad = [s for s in self.shares if not 0.0 < s <= 1.0]
        if bad:
            problems.append(Problem("shares", f"must each lie in (0, 1]; got {bad}",
                                    fix="Give every tier a positive share."))
        elif not close_to(sum(self.shares), 1.0):
            problems.append(Problem("shares", f"must sum to 1; they sum to {sum(self.shares):.12g}",
                                    fix="Rescale the shares so that they add up to 1."))
        if problems:
            raise InvalidInputError(problems)
        return self

    @property
    def n_tiers(self) -> int:
        """Number of tiers (``len(shares)``)."""
        return len(self.shares)

    @property
    def quantiles(self) -> tuple[float, ...]:
        """Nominal lower quantile of each tier above the lowest (cumulative shares)."""
        return tuple(float(q) for q in np.cumsum(self.shares)[:-1])

    def apply(self, x: FloatArray, ids: npt.NDArray[Any] | None = None, name: str = "value"
              ) -> tuple[IntArray, tuple[str, ...]]:
        """Codes of ``x`` (shape (n,)) and one rule text per tier naming the feature ``name``.

        ``ids`` is accepted for compatibility and not used: ties no longer depend on ids (:data:`TIE_RULE`).
        """
        bounds = rank_bounds(self.shares, x.shape[0])
        codes, values = rank_cut(x, bounds)
        qs = self.quantiles
        rules: list[str] = []
        for k in range(self.n_tiers):
            b = bounds[0] if k == 0 else bounds[k - 1]
            q = qs[0] if k == 0 else qs[k - 1]
            if b not in values:
                word = "below" if k == 0 else "at or above"
                rules.append(f"{name} {{{name}:.6g}} ranks {word} quantile {q:g}")
            elif k == 0:
                rules.append(f"{name} {{{name}:.6g}} < threshold {values[b]:.6g} (below quantile {q:g})")
            else:
                rules.append(f"{name} {{{name}:.6g}} >= threshold {values[b]:.6g} (quantile {q:g}; {TIE_RULE})")
        return codes, tuple(rules)


class ThresholdCut(FrozenConfig):
    """Tiers by absolute thresholds: tier ``k`` for ``thresholds[k-1] <= x < thresholds[k]``.

    Parameters
    ----------
    thresholds:
        Finite, strictly increasing; ``len(thresholds) + 1`` tiers.

    Examples
    --------
    >>> ThresholdCut(thresholds=(10, 100)).apply(np.array([5.0, 10.0, 150.0]))[0].tolist()
    [0, 1, 2]
    """

    kind: Literal["thresholds"] = "thresholds"
    thresholds: tuple[Finite, ...]

    @model_validator(mode="after")
    def _check(self) -> ThresholdCut:
        problem = check_increasing(self.thresholds, "thresholds")
        if not self.thresholds:
            problem = Problem("thresholds", "must hold at least one threshold")
        if problem is not None:
            raise InvalidInputError([problem])
        return self

    @property
    def n_tiers(self) -> int:
        """Number of tiers (``len(thresholds) + 1``)."""
        return len(self.thresholds) + 1

    def apply(self, x: FloatArray, ids: npt.NDArray[Any] | None = None, name: str = "value"
              ) -> tuple[IntArray, tuple[str, ...]]:
        """Codes of ``x`` and one rule text per tier naming the feature ``name`` (``ids`` is not used)."""
        t = self.thresholds
        rules = [f"{name} {{{name}:.6g}} < threshold {t[0]:.6g}"]
        rules += [f"{name} {{{name}:.6g}} >= threshold {tk:.6g}" for tk in t]
        return count_passed(x, t), tuple(rules)


class AxisCut(FrozenConfig):
    """The high/low cut of one axis of a 2x2 matrix: give exactly one of ``quantile`` or ``threshold``.

    Parameters
    ----------
    quantile:
        In (0, 1): "high" means at least the value ``t`` of the customer at 0-based ascending rank
        ``floor(q n + 1/2)`` (the first of the top ``1 - q``); customers tied with ``t`` are all "high"
        (:data:`TIE_RULE`), so the high side may hold a few more than ``1 - q`` of the customers.
    threshold:
        "high" means ``x >= threshold``.

    Examples
    --------
    >>> AxisCut(quantile=0.5).apply(np.array([1.0, 2.0, 3.0, 4.0]))[0].tolist()
    [0, 0, 1, 1]
    >>> AxisCut(threshold=2.0).apply(np.array([1.0, 2.0, 3.0, 4.0]))[0].tolist()
    [0, 1, 1, 1]
    """

    quantile: Finite | None = None
    threshold: Finite | None = None

    @model_validator(mode="after")
    def _check(self) -> AxisCut:
        if (self.quantile is None) == (self.threshold is None):
            raise InvalidInputError([Problem("quantile", "give exactly one of 'quantile' and 'threshold'")])
        if self.quantile is not None and not 0.0 < self.quantile < 1.0:
            raise InvalidInputError([Problem("quantile", f"must lie in (0, 1); got {self.quantile}")])
        return self

    def apply(self, x: FloatArray) -> tuple[IntArray, float, str]:
        """0/1 codes (1 = high), the cut value and a description such as ``">= 1000 (threshold)"``."""
        if self.threshold is not None:
            t = self.threshold
            return count_passed(x, [t]), t, f"{t:.6g} (threshold)"
        q = float(self.quantile)  # type: ignore[arg-type]
        cut = tie_up_thresholds(x, rank_bounds((q, 1.0 - q), x.shape[0]))[0]
        return count_passed(x, [cut]), cut, f"{cut:.6g} (quantile {q:g}; {TIE_RULE})"

    def describe(self, high: bool, name: str, cut: str) -> str:
        """Rule text for the high or low side of this axis, for the feature ``name``."""
        return f"{name} {{{name}:.6g}} {'>=' if high else '<'} {cut}"
