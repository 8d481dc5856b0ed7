"""Tiering and segmentation: which customers deserve which treatment.

Every policy is a frozen, typed configuration (Pydantic, unknown fields refused, invalid settings raise
:class:`~clvkit.errors.InvalidInputError` naming the field) that follows the :class:`TieringPolicy`
protocol: ``policy.assign(data, **columns)`` returns a :class:`TierAssignment` - one tier code per
customer, the ordered tier labels and the rule that put each customer there - computed vectorised over the
batch. Inputs may be arrays, lists, mappings, data frames, a :class:`~clvkit.CustomerSummary` or a
:class:`~clvkit.valuation.ClvResult`.

Policies
--------
:class:`FiveA` (5A tiers and classes), :class:`KeyCustomers` (top share by value),
:class:`StarRating` (1-5 stars from a scorecard, benefits, budgets), :class:`RFMSegments`,
:class:`ValueCostMatrix`, :class:`ValueRiskMatrix`, :class:`LoyaltyProgram` (levels with hysteresis),
:class:`LifecycleStage` (lead -> converted -> retained -> advocate).

Reports
-------
:func:`inventory` and :func:`format_inventory` (count and value per tier, concentration),
:func:`migration` and :func:`format_migration` (transition matrix between snapshots),
:func:`budget_allocation` and :func:`format_budget` (ring-fenced tier budgets), :class:`TreatmentTable` and
:func:`format_treatments` (what to do with each tier), :func:`tier_names` (names that carry the rank),
:func:`portraits` and :func:`format_portraits` (who the customers of each tier are: kind, industry, region,
tenure), and the concentration measures :func:`gini`, :func:`lorenz_curve`, :func:`top_share`.
:func:`make_policy` and :func:`tier_report`
serve command lines (policies by name, configured from JSON).

Examples
--------
>>> import numpy as np
>>> from clvkit.tiering import FiveA, inventory
>>> values = np.array([120.0, 5.0, 40.0, 3000.0, 75.0, 10.0, 640.0, 18.0, 260.0, 33.0])
>>> a = FiveA().assign(values)  # shares 20/30/30/15/5%: of 10 customers the top 5% rounds to none
>>> a.tier_labels().tolist()
['A3', 'A5', 'A4', 'A2', 'A3', 'A5', 'A2', 'A4', 'A3', 'A4']
>>> a.explain(6)
'customer 6: tier A2 because value 640 >= threshold 640 (quantile 0.8; ties share the higher tier)'
>>> round(inventory(values, a).concentration.gini, 3)
0.782
"""

from ..protocols import TieringPolicy
from ._assignment import TierAssignment
from .budget import BudgetAllocation, budget_allocation, format_budget
from .concentration import Concentration, concentration, gini, lorenz_curve, top_share
from .cuts import TIE_RULE, AxisCut, QuantileCut, ThresholdCut
from .lifecycle import LifecycleStage
from .loyalty import LoyaltyProgram
from .matrix import VALUE_COST_LABELS, VALUE_RISK_LABELS, ValueCostMatrix, ValueRiskMatrix
from .portrait import DEFAULT_TENURE_BANDS, Portraits, format_portraits, portraits
from .registry import POLICIES, make_policy, tier_report
from .reports import Inventory, Migration, format_inventory, format_migration, inventory, migration
from .rfm import DEFAULT_RFM_SEGMENTS, RFMSegments, SegmentRule
from .scorecard import DEFAULT_BENEFITS, Criterion, Scorecard, StarRating
from .treatment import DEFAULT_TREATMENTS, Treatment, TreatmentTable, format_treatments, tier_names
from .value import (
    FIVE_A_LABELS,
    FIVE_A_SHARES,
    KEY_CUSTOMER_SHARE,
    TAKE_ONE_DROP_NINE_SHARE,
    FiveA,
    KeyCustomers,
    top_share_mask,
)

__all__ = [
    "DEFAULT_BENEFITS",
    "DEFAULT_RFM_SEGMENTS",
    "DEFAULT_TENURE_BANDS",
    "DEFAULT_TREATMENTS",
    "FIVE_A_LABELS",
    "FIVE_A_SHARES",
    "KEY_CUSTOMER_SHARE",
    "POLICIES",
    "TAKE_ONE_DROP_NINE_SHARE",
    "TIE_RULE",
    "VALUE_COST_LABELS",
    "VALUE_RISK_LABELS",
    "AxisCut",
    "BudgetAllocation",
    "Concentration",
    "Criterion",
    "FiveA",
    "Inventory",
    "KeyCustomers",
    "LifecycleStage",
    "LoyaltyProgram",
    "Migration",
    "Portraits",
    "QuantileCut",
    "RFMSegments",
    "Scorecard",
    "SegmentRule",
    "StarRating",
    "ThresholdCut",
    "TierAssignment",
    "TieringPolicy",
    "Treatment",
    "TreatmentTable",
    "ValueCostMatrix",
    "ValueRiskMatrix",
    "budget_allocation",
    "concentration",
    "format_budget",
    "format_inventory",
    "format_migration",
    "format_portraits",
    "format_treatments",
    "gini",
    "inventory",
    "lorenz_curve",
    "make_policy",
    "migration",
    "portraits",
    "tier_names",
    "tier_report",
    "top_share",
    "top_share_mask",
]
