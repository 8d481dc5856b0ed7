"""Two-by-two matrices: acquisition cost x value (:class:`ValueCostMatrix`) and value x churn risk
(:class:`ValueRiskMatrix`).

A cell's code is ``2 * value_high + other_high``: 0 low/low, 1 low value with high cost (or risk), 2 high
value with low cost (or risk), 3 high/high. Codes name cells and are not a ranking (``ordered`` is
false), but a higher value never gives a lower code. ``components`` holds the two 0/1 axes and ``cuts`` the
value of each axis's cut (the quadrant lines of a plot).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from pydantic import Field, model_validator

from ..errors import InvalidInputError, Problem
from ..i18n import N_
from ._assignment import IntArray, TierAssignment, readonly
from ._config import FrozenConfig, check_labels
from ._inputs import Column, read_columns
from .cuts import AxisCut

__all__ = ["VALUE_COST_LABELS", "VALUE_RISK_LABELS", "ValueCostMatrix", "ValueRiskMatrix"]

FloatArray = npt.NDArray[np.float64]

#: Cells of the cost x value matrix, in code order (low value/low cost, low/high, high/low, high/high).
#: "strategic" (high value, high acquisition cost: invest over time) and "contested" (high value, low
#: cost: every competitor wants them) follow 蔡强 2010 (text 001, 用户价值 x 开发成本); "routine" and "costly"
#: are clvkit default names.
VALUE_COST_LABELS: tuple[str, ...] = ("routine", "costly", "contested", "strategic")
#: Cells of the value x risk matrix, in code order (low value/low risk, low/high, high/low, high/high).
#: 蔡强 2010 (text 001) gives priority to high-value customers at high risk of leaving ("rescue"; 流失危害
#: 比较高的客户); the other names are clvkit default names.
VALUE_RISK_LABELS: tuple[str, ...] = ("maintain", "let_go", "nurture", "rescue")

#: The order reports list the cells in, by policy name: what a manager acts on first (rescue, nurture, maintain,
#: let_go; strategic, contested, costly, routine). Display only: the codes and labels above are unchanged.
DISPLAY_ORDER: dict[str, tuple[int, ...]] = {"ValueRiskMatrix": (3, 2, 0, 1), "ValueCostMatrix": (3, 2, 1, 0)}
#: What each cell of the value x risk matrix means (for the default labels), printed under its tables.
VALUE_RISK_LEGEND = N_("rescue = high value, high risk: call them first; nurture = high value, low risk: keep them "
                       "growing; maintain = low value, low risk; let_go = low value, high risk: no effort to win "
                       "them back.")
#: Where the value x risk matrix's cuts come from, printed when they are the defaults.
VALUE_RISK_CUTS_SOURCE = N_("The cells' cuts are clvkit's default, configurable (ValueRiskMatrix).")


def _cells(value: FloatArray, other: FloatArray, value_cut: AxisCut, other_cut: AxisCut, other_name: str
           ) -> tuple[IntArray, IntArray, IntArray, tuple[str, ...], dict[str, float]]:
    v, v_cut, v_desc = value_cut.apply(value)
    o, o_cut, o_desc = other_cut.apply(other)
    codes = v * np.int8(2)
    codes += o
    rules = tuple(
        f"{value_cut.describe(bool(vh), 'value', v_desc)} and {other_cut.describe(bool(oh), other_name, o_desc)}"
        for vh in (0, 1) for oh in (0, 1)
    )
    return codes, v, o, rules, {"value": float(v_cut), other_name: float(o_cut)}


class ValueCostMatrix(FrozenConfig):
    """Acquisition cost x customer value, 2x2; high value and high cost are the strategic customers.

    Reads ``value`` and ``cost`` (acquisition cost), optionally ``customer_id``.

    Parameters
    ----------
    value_cut:
        The high/low cut of value; default ``AxisCut(quantile=0.8)``: the top 20% are high value.
    cost_cut:
        The high/low cut of acquisition cost; default ``AxisCut(quantile=0.5)`` (the median).
    labels:
        Names of the four cells in code order (default :data:`VALUE_COST_LABELS`).

    Examples
    --------
    >>> m = ValueCostMatrix(value_cut=AxisCut(threshold=100), cost_cut=AxisCut(threshold=50))
    >>> a = m.assign(value=[10.0, 10.0, 500.0, 500.0], cost=[20.0, 80.0, 20.0, 80.0])
    >>> a.tier_labels().tolist()
    ['routine', 'costly', 'contested', 'strategic']
    >>> a.explain(3)
    'customer 3: tier strategic because value 500 >= 100 (threshold) and cost 80 >= 50 (threshold)'
    """

    value_cut: AxisCut = Field(default_factory=lambda: AxisCut(quantile=0.8))
    cost_cut: AxisCut = Field(default_factory=lambda: AxisCut(quantile=0.5))
    labels: tuple[str, ...] = VALUE_COST_LABELS

    @model_validator(mode="after")
    def _check(self) -> ValueCostMatrix:
        problem = check_labels(self.labels, 4, "labels")
        if problem is not None:
            raise InvalidInputError([problem])
        return self

    def assign(self, data: Any = None, /, **columns: Any) -> TierAssignment:
        """The matrix cell of every customer; ``components``: ``"value"`` and ``"cost"`` (0 low, 1 high); ``cuts``:
        the value and cost at the cuts.

        Raises
        ------
        InvalidInputError
            When a column is missing or has the wrong shape, or rows hold NaN, infinite or out-of-range
            values (the first offending rows are named).
        """
        cols = read_columns(data, columns, [Column("value"), Column("cost"), Column("customer_id", "label", False)],
                            "ValueCostMatrix.assign()")
        codes, v, c, rules, cuts = _cells(cols["value"], cols["cost"], self.value_cut, self.cost_cut, "cost")
        return TierAssignment(
            codes=readonly(codes), labels=self.labels, reasons=readonly(codes), rules=rules,
            policy="ValueCostMatrix", ordered=False,
            features={"value": readonly(cols["value"]), "cost": readonly(cols["cost"])},
            components={"value": readonly(v), "cost": readonly(c)}, cuts=cuts, customer_id=cols.get("customer_id"),
        )


class ValueRiskMatrix(FrozenConfig):
    """Customer value x churn risk, 2x2; high value at high risk comes first ("rescue").

    Reads ``value`` and either ``risk`` (any churn-risk score, higher is riskier) or ``p_alive`` (the
    probability the customer is still active, e.g. from
    :meth:`~clvkit.valuation.FittedBetaGeo.probability_alive`; risk is ``1 - p_alive``), optionally
    ``customer_id``.

    **Value basis.** Give a value that is *not* already discounted by the risk: the value if still active,
    :attr:`ClvResult.value_if_active <clvkit.valuation.ClvResult>` = CLV / P(alive) (for every buy-till-you-die
    model ``E[X(t)|data] = P(alive) x E[X(t)|alive, data]``; ``clvkit score`` writes it as ``value_if_active``
    and ``clvkit tier --policy value-risk`` reads it), or past value. CLV itself already counts the risk once:
    crossed with ``1 - P(alive)`` it counts it twice and hides the valuable customers who are slipping away (on
    the CDNOW demo the rescue list shrinks from 141 customers holding 23.6% of the value if active to 71 holding
    5.5% of CLV).

    Parameters
    ----------
    value_cut:
        Default ``AxisCut(quantile=0.8)``: the top 20% are high value.
    risk_cut:
        Default ``AxisCut(threshold=0.5)``: risk of at least one half (P(alive) <= 0.5) is high.
    labels:
        Names of the four cells in code order (default :data:`VALUE_RISK_LABELS`).

    Examples
    --------
    >>> m = ValueRiskMatrix(value_cut=AxisCut(threshold=100))
    >>> a = m.assign(value=[10.0, 500.0, 500.0], p_alive=[0.9, 0.9, 0.2])
    >>> a.tier_labels().tolist()
    ['maintain', 'nurture', 'rescue']
    >>> a.explain(2)
    'customer 2: tier rescue because value 500 >= 100 (threshold) and risk 0.8 >= 0.5 (threshold)'
    >>> a.cuts  # the quadrant lines
    {'value': 100.0, 'risk': 0.5}
    """

    value_cut: AxisCut = Field(default_factory=lambda: AxisCut(quantile=0.8))
    risk_cut: AxisCut = Field(default_factory=lambda: AxisCut(threshold=0.5))
    labels: tuple[str, ...] = VALUE_RISK_LABELS

    @model_validator(mode="after")
    def _check(self) -> ValueRiskMatrix:
        problem = check_labels(self.labels, 4, "labels")
        if problem is not None:
            raise InvalidInputError([problem])
        return self

    def assign(self, data: Any = None, /, **columns: Any) -> TierAssignment:
        """The matrix cell of every customer; ``components``: ``"value"`` and ``"risk"`` (0 low, 1 high); ``cuts``:
        the value and risk at the cuts.

        Raises
        ------
        InvalidInputError
            When a column is missing or has the wrong shape, or rows hold NaN, infinite or out-of-range
            values (the first offending rows are named).
        """
        context = "ValueRiskMatrix.assign()"
        specs = [Column("value"), Column("risk", required=False), Column("p_alive", "probability", False),
                 Column("customer_id", "label", False)]
        cols = read_columns(data, columns, specs, context)
        if ("risk" in cols) == ("p_alive" in cols):
            raise InvalidInputError([Problem("risk", "give exactly one of 'risk' and 'p_alive'",
                                             fix="Pass P(alive) from a fitted model, or your own risk score.")],
                                    context=context)
        risk = cols["risk"] if "risk" in cols else 1.0 - cols["p_alive"]
        codes, v, r, rules, cuts = _cells(cols["value"], risk, self.value_cut, self.risk_cut, "risk")
        return TierAssignment(
            codes=readonly(codes), labels=self.labels, reasons=readonly(codes), rules=rules,
            policy="ValueRiskMatrix", ordered=False,
            features={"value": readonly(cols["value"]), "risk": readonly(risk)},
            components={"value": readonly(v), "risk": readonly(r)}, cuts=cuts, customer_id=cols.get("customer_id"),
        )
