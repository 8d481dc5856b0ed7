"""One conformance suite over every tiering policy: the properties every policy must have.

Each case is a configured policy plus the *monotone directions* it promises: which input column, moved in
which direction with everything else equal, can never move the customer down on which output (the tier
code, or an ordered component such as the value axis of a matrix or the M score of RFM). Hypothesis draws
small batches with many ties (values from short integer ranges) as well as continuous values, because
ties are where rank-based tiering goes wrong.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import clvkit.tiering as tiering
from clvkit.tiering import (
    POLICIES,
    AxisCut,
    Criterion,
    FiveA,
    KeyCustomers,
    LifecycleStage,
    LoyaltyProgram,
    QuantileCut,
    RFMSegments,
    Scorecard,
    StarRating,
    ThresholdCut,
    TierAssignment,
    TieringPolicy,
    ValueCostMatrix,
    ValueRiskMatrix,
)

N_PERIODS = 6
WINDOW = 2

Output = Callable[[TierAssignment], np.ndarray]


def codes(a: TierAssignment) -> np.ndarray:
    return a.codes


def component(name: str) -> Output:
    return lambda a: a.components[name]


@dataclass(frozen=True)
class Case:
    """A policy, the columns it reads, and its monotone promises (column, +1 or -1, output)."""

    name: str
    policy: Any
    columns: tuple[str, ...]
    monotone: tuple[tuple[str, int, Output], ...]
    shares: tuple[float, ...] | None = None  # quantile tiers must hold these shares within one customer


CASES = [
    Case("FiveA-quantiles", FiveA(), ("value", "customer_id", "classes"), (("value", +1, codes),),
         shares=(0.20, 0.30, 0.30, 0.15, 0.05)),
    Case("FiveA-thresholds", FiveA(cut=ThresholdCut(thresholds=(5, 50, 200, 800))), ("value", "customer_id"),
         (("value", +1, codes),)),
    Case("FiveA-scorecard", FiveA(cut=Scorecard(criteria={"value": 0.6, "frequency": 0.4})),
         ("value", "frequency", "customer_id"), (("value", +1, codes), ("frequency", +1, codes))),
    Case("KeyCustomers-0.2", KeyCustomers(), ("value", "customer_id"), (("value", +1, codes),), shares=(0.8, 0.2)),
    Case("KeyCustomers-0.1", KeyCustomers(share=0.1), ("value", "customer_id"), (("value", +1, codes),),
         shares=(0.9, 0.1)),
    Case("StarRating", StarRating(criteria=(Criterion(name="value", weight=0.5),
                                            Criterion(name="satisfaction", weight=0.3, low=1, high=5),
                                            Criterion(name="cost", weight=0.2, higher_is_better=False))),
         ("value", "satisfaction", "cost", "customer_id"),
         (("value", +1, codes), ("satisfaction", +1, codes), ("cost", -1, codes))),
    Case("RFMSegments", RFMSegments(), ("time_since_last", "frequency", "monetary_value", "customer_id"),
         (("monetary_value", +1, component("monetary")), ("frequency", +1, component("frequency")),
          ("time_since_last", -1, component("recency")))),
    Case("ValueCostMatrix", ValueCostMatrix(), ("value", "cost", "customer_id"),
         (("value", +1, codes), ("value", +1, component("value")), ("cost", +1, component("cost")))),
    Case("ValueCostMatrix-thresholds",
         ValueCostMatrix(value_cut=AxisCut(threshold=100), cost_cut=AxisCut(threshold=20)),
         ("value", "cost"), (("value", +1, codes),)),
    Case("ValueRiskMatrix", ValueRiskMatrix(), ("value", "p_alive", "customer_id"),
         (("value", +1, codes), ("p_alive", -1, component("risk")))),
    Case("LoyaltyProgram", LoyaltyProgram(upgrade=(600, 1500), downgrade=(400, 1000), window=WINDOW),
         ("history", "customer_id"), (("history", +1, codes),)),
    Case("LoyaltyProgram-4-levels", LoyaltyProgram(levels=("basic", "silver", "gold", "platinum"),
                                                   upgrade=(300, 700, 1200), downgrade=(300, 500, 900), window=3),
         ("history", "initial_level", "customer_id"), (("history", +1, codes),)),
    Case("LifecycleStage", LifecycleStage(), ("transactions", "referrals", "customer_id"),
         (("transactions", +1, codes), ("referrals", +1, codes))),
    Case("LifecycleStage-no-repeat", LifecycleStage(repeat_purchases=3, advocate_needs_repeat=False),
         ("transactions", "referrals"), (("transactions", +1, codes), ("referrals", +1, codes))),
]
IDS = [c.name for c in CASES]


def _values(rng: np.random.Generator, n: int, distinct: int) -> np.ndarray:
    """``distinct`` > 0: whole numbers below it (many ties); 0: continuous lognormal values."""
    if distinct:
        return rng.integers(0, distinct, n).astype(np.float64)
    return rng.lognormal(4.0, 1.5, n)


@st.composite
def batches(draw: st.DrawFn, min_size: int = 1) -> dict[str, np.ndarray]:
    """A batch of ``n`` customers with every column any policy reads.

    Hypothesis chooses the size, a seed and, per column, how tied the values are (shrinking towards one
    customer, seed 0 and all-equal values); numpy draws the values from the seed, which keeps each example
    cheap enough for the suite to run every policy through hundreds of batches.
    """
    n = draw(st.integers(min_size, 40))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    ties = st.sampled_from([1, 2, 3, 5, 13, 0])
    counts = rng.integers(0, 9, n).astype(np.float64)
    if draw(st.booleans()):
        history = 100.0 * rng.integers(0, 13, (n, N_PERIODS))
    else:
        history = rng.uniform(0, 1_000, (n, N_PERIODS))
    return {
        "value": _values(rng, n, draw(ties)),
        "cost": _values(rng, n, draw(ties)),
        "p_alive": rng.choice([0.0, 0.1, 0.5, 0.7, 1.0], n) if draw(st.booleans()) else rng.uniform(0, 1, n),
        "frequency": counts,
        "monetary_value": _values(rng, n, draw(ties)),
        "time_since_last": 30.0 * rng.integers(0, draw(ties) or 400, n),
        "satisfaction": rng.integers(1, 6, n).astype(np.float64),
        "transactions": rng.integers(0, 9, n).astype(np.float64),
        "referrals": rng.integers(0, 3, n).astype(np.float64),
        "history": history,
        "initial_level": rng.integers(0, 4, n),
        "classes": rng.integers(0, 3, n),
        "customer_id": rng.permutation(n).astype(np.int64) * 7 + 3,
    }


def run(case: Case, data: dict[str, np.ndarray]) -> TierAssignment:
    result: TierAssignment = case.policy.assign(**{k: data[k] for k in case.columns})
    return result


def take(data: dict[str, np.ndarray], rows: np.ndarray) -> dict[str, np.ndarray]:
    return {k: v[rows] for k, v in data.items()}


SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ---------------------------------------------------------------------------------------------- coverage
def test_the_suite_covers_every_registered_policy() -> None:
    # A policy added to the registry (the names `clvkit tier --policy` accepts) must be added to CASES.
    assert {type(c.policy) for c in CASES} == set(POLICIES.values())
    # ... and every policy class the package exports is in the registry.
    exported = [getattr(tiering, name) for name in tiering.__all__]
    policies = {p for p in exported if isinstance(p, type) and p is not TieringPolicy and hasattr(p, "assign")}
    assert policies == set(POLICIES.values())


# ---------------------------------------------------------------------------------------------- protocol
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_policy_follows_the_protocol_and_is_frozen(case: Case) -> None:
    assert isinstance(case.policy, TieringPolicy)
    with pytest.raises(Exception):  # noqa: B017 - Pydantic's frozen-instance error
        case.policy.__setattr__(next(iter(type(case.policy).model_fields)), None)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_configuration_round_trips_through_json(case: Case) -> None:
    policy = case.policy
    assert type(policy).model_validate_json(policy.model_dump_json()) == policy


# ---------------------------------------------------------------------------------------------- properties
@pytest.mark.parametrize("case", CASES, ids=IDS)
@SETTINGS
@given(data=batches())
def test_every_customer_gets_exactly_one_tier(case: Case, data: dict[str, np.ndarray]) -> None:
    a = run(case, data)
    n = data["value"].shape[0]
    assert a.codes.shape == (n,) and a.codes.dtype == np.int8
    assert ((a.codes >= 0) & (a.codes < len(a.labels))).all()
    assert ((a.reasons >= 0) & (a.reasons < len(a.rules))).all()
    assert a.counts().sum() == n
    for name, comp in a.components.items():
        assert comp.shape == (n,), name
    for i in range(n):  # every customer can be explained: the rule's fields are all present
        text = a.explain(i)
        assert f"tier {a.labels[a.codes[i]]} because " in text


@pytest.mark.parametrize("case", CASES, ids=IDS)
@SETTINGS
@given(data=batches())
def test_assignment_is_deterministic(case: Case, data: dict[str, np.ndarray]) -> None:
    a, b = run(case, data), run(case, {k: v.copy() for k, v in data.items()})
    np.testing.assert_array_equal(a.codes, b.codes)
    np.testing.assert_array_equal(a.reasons, b.reasons)
    assert a.labels == b.labels and a.rules == b.rules


@pytest.mark.parametrize("case", CASES, ids=IDS)
@SETTINGS
@given(data=batches(), perm_seed=st.integers(0, 2**32 - 1))
def test_assignment_is_invariant_to_row_order(case: Case, data: dict[str, np.ndarray], perm_seed: int) -> None:
    perm = np.random.default_rng(perm_seed).permutation(data["value"].shape[0])
    a, b = run(case, data), run(case, take(data, perm))
    np.testing.assert_array_equal(b.codes, a.codes[perm])
    np.testing.assert_array_equal(b.reasons, a.reasons[perm])
    for name in a.components:
        np.testing.assert_array_equal(b.components[name], a.components[name][perm])
    if a.classes is not None:
        np.testing.assert_array_equal(b.classes, a.classes[perm])
    assert b.reason(0) == a.reason(int(perm[0]))
    if a.customer_id is not None:
        assert b.explain(0) == a.explain(int(perm[0]))


@pytest.mark.parametrize("case", CASES, ids=IDS)
@SETTINGS
@given(data=batches(min_size=2), pair=st.tuples(st.integers(0, 10**6), st.integers(0, 10**6)),
       delta=st.integers(1, 300), which=st.integers(0, 5))
def test_a_better_customer_never_gets_a_lower_tier(case: Case, data: dict[str, np.ndarray], pair: tuple[int, int],
                                                    delta: int, which: int) -> None:
    column, direction, output = case.monotone[which % len(case.monotone)]
    n = data["value"].shape[0]
    i, j = pair[0] % n, pair[1] % n
    if i == j:
        j = (i + 1) % n
    data = {k: v.copy() for k, v in data.items()}
    for k, v in data.items():  # all else equal: j becomes a copy of i ...
        if k != "customer_id":
            v[j] = v[i]
    col = data[column]  # ... then better than i on one column only
    if column == "history":
        col[j] += delta * np.arange(1, N_PERIODS + 1) % 7
    elif column == "p_alive":  # stays a probability
        lo, hi = sorted((col[i], min(1.0, col[i] + delta / 300)))
        col[i], col[j] = (lo, hi) if direction > 0 else (hi, lo)
    elif direction > 0:
        col[j] = col[i] + delta
    else:
        col[i] = col[j] + delta
    out = output(run(case, data))
    assert out[j] >= out[i], (column, out[i], out[j])


@pytest.mark.parametrize("case", [c for c in CASES if c.shares], ids=[c.name for c in CASES if c.shares])
@SETTINGS
@given(data=batches())
def test_quantile_tiers_hold_their_shares_within_one_customer(case: Case, data: dict[str, np.ndarray]) -> None:
    a = run(case, data)
    _check_tie_rule(data["value"], a.codes, case.shares)


def _check_tie_rule(x: np.ndarray, codes: np.ndarray, shares: tuple[float, ...]) -> None:
    """Ties share the higher tier: equal values share a tier; at each boundary the part above holds at least its
    nominal count and would hold fewer without the customers tied at the boundary; without ties every tier holds
    its share within one customer."""
    n = x.shape[0]
    for v in np.unique(x):
        assert np.unique(codes[x == v]).shape[0] == 1, f"value {v} split across tiers"
    nominal = [n - math.floor(n * sum(shares[:k]) + 0.5) for k in range(1, len(shares))]  # customers at or above
    for k, m in enumerate(nominal, start=1):
        above = codes >= k
        assert above.sum() >= m
        if above.any():
            lowest = x[above].min()
            assert np.count_nonzero(x > lowest) < max(m, 1)
    if np.unique(x).shape[0] == n:
        expected = np.asarray(shares) * n
        assert np.all(np.abs(np.bincount(codes, minlength=len(shares)) - expected) <= 1 + 1e-9)


LOYALTY = [c for c in CASES if isinstance(c.policy, LoyaltyProgram)]


@pytest.mark.parametrize("case", LOYALTY, ids=[c.name for c in LOYALTY])
@SETTINGS
@given(data=batches())
def test_loyalty_levels_change_at_most_once_per_qualification_window(case: Case,
                                                                     data: dict[str, np.ndarray]) -> None:
    policy: LoyaltyProgram = case.policy
    inputs = {k: data[k] for k in case.columns if k != "customer_id"}
    path = policy.level_history(**inputs)
    start = inputs.get("initial_level", np.zeros(path.shape[0], dtype=np.int64))
    full = np.column_stack([start, path])
    changed = full[:, 1:] != full[:, :-1]  # changed[:, t]: the level changed during period t
    w = policy.window
    for t in range(path.shape[1] - w + 1):  # every run of `window` consecutive periods
        assert (changed[:, t:t + w].sum(axis=1) <= 1).all()
    off_review = [t for t in range(path.shape[1]) if (t + 1) % w != 0]
    assert not changed[:, off_review].any()
    np.testing.assert_array_equal(path[:, -1], run(case, data).codes)


# ---------------------------------------------------------------------------------------------- batch independence
BATCH_FREE = [c for c in CASES if c.name in ("FiveA-thresholds", "ValueCostMatrix-thresholds", "LoyaltyProgram",
                                             "LifecycleStage")]


@pytest.mark.parametrize("case", BATCH_FREE, ids=[c.name for c in BATCH_FREE])
@SETTINGS
@given(data=batches(min_size=2), cut=st.integers(1, 39))
def test_rules_without_batch_statistics_split_into_batches(case: Case, data: dict[str, np.ndarray], cut: int) -> None:
    n = data["value"].shape[0]
    cut = min(cut, n - 1)
    whole = run(case, data).codes
    parts = [run(case, take(data, np.arange(lo, hi))).codes for lo, hi in ((0, cut), (cut, n))]
    np.testing.assert_array_equal(np.concatenate(parts), whole)


def test_quantile_cut_property_also_holds_for_general_shares() -> None:
    rng = np.random.default_rng(3)
    for n in (1, 2, 3, 7, 10, 101):
        x = rng.integers(0, 4, n).astype(float)
        cut = QuantileCut(shares=(0.15, 0.35, 0.5))
        c, _ = cut.apply(x, np.arange(n))
        _check_tie_rule(x, c, cut.shares)
        distinct = rng.permutation(n).astype(float)
        _check_tie_rule(distinct, cut.apply(distinct)[0], cut.shares)
