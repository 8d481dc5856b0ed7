"""Tiering reports: inventory and concentration (Gini, Lorenz, top shares), migration, budgets, text output."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clvkit.errors import InvalidInputError
from clvkit.tiering import (
    FiveA,
    KeyCustomers,
    RFMSegments,
    ThresholdCut,
    TierAssignment,
    budget_allocation,
    concentration,
    format_budget,
    format_inventory,
    format_migration,
    gini,
    inventory,
    lorenz_curve,
    migration,
    top_share,
)


def snapshot(codes: list[int], labels: tuple[str, ...] = ("C", "B", "A"), ids: list[int] | None = None,
             ordered: bool = True) -> TierAssignment:
    c = np.array(codes, dtype=np.int8)
    return TierAssignment(codes=c, labels=labels, reasons=c, rules=("",) * len(labels), policy="test",
                          ordered=ordered, customer_id=None if ids is None else np.array(ids))


# ---------------------------------------------------------------------------------------------- concentration
@pytest.mark.parametrize("n", [1, 2, 3, 5, 10, 1000])
def test_gini_of_equal_values_is_zero_and_of_one_holder_is_n_minus_one_over_n(n: int) -> None:
    assert gini(np.full(n, 7.5)) == 0.0
    one = np.zeros(n)
    one[n // 2] = 42.0
    assert gini(one) == pytest.approx((n - 1) / n, abs=1e-12)


def test_gini_worked_examples() -> None:
    # [1, 2, 3, 4]: sum of |xi - xj| over ordered pairs = 20, n^2 = 16, mean 2.5 -> 20 / (2 * 16 * 2.5) = 0.25
    assert gini([4.0, 1.0, 3.0, 2.0]) == pytest.approx(0.25, abs=1e-15)
    # all value zero: nothing to concentrate
    assert gini([0.0, 0.0, 0.0]) == 0.0


def test_gini_of_large_samples_approaches_the_known_values() -> None:
    rng = np.random.default_rng(5)
    assert gini(rng.uniform(0, 1, 200_000)) == pytest.approx(1 / 3, abs=0.005)  # uniform: 1/3
    assert gini(rng.exponential(1.0, 200_000)) == pytest.approx(0.5, abs=0.005)  # exponential: 1/2


@settings(max_examples=150, deadline=None)
@given(values=st.lists(st.floats(0, 1e6, allow_nan=False, allow_subnormal=False), min_size=1, max_size=40))
def test_gini_equals_the_mean_absolute_difference_formula(values: list[float]) -> None:
    x = np.array(values)
    if x.sum() == 0:
        assert gini(x) == 0.0
        return
    expected = np.abs(x[:, None] - x[None, :]).sum() / (2 * len(x) ** 2 * x.mean())
    assert gini(x) == pytest.approx(expected, abs=1e-9)
    pop, val = lorenz_curve(x, points=len(x) + 1)
    assert val[0] == 0.0 and val[-1] == pytest.approx(1.0)
    assert np.all(np.diff(val) >= -1e-12) and np.all(np.diff(val, 2) >= -1e-9)  # increasing and convex
    area = float(np.sum((val[1:] + val[:-1]) / 2 * np.diff(pop)))
    assert gini(x) == pytest.approx(1 - 2 * area, abs=1e-9)


def test_top_shares_and_lorenz_by_hand() -> None:
    x = [1.0, 1.0, 2.0, 6.0]  # total 10
    assert top_share(x, 0.25) == pytest.approx(0.6)
    assert top_share(x, 0.5) == pytest.approx(0.8)
    assert top_share(x, 0.01) == pytest.approx(0.6)  # the top 1% is at least one customer
    c = concentration(x, points=5)
    assert c.lorenz_population.tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    np.testing.assert_allclose(c.lorenz_value, [0.0, 0.1, 0.2, 0.4, 1.0])
    assert top_share(np.arange(1.0, 31.0), 0.1) == pytest.approx((28 + 29 + 30) / 465)  # 3 of 30, not 4


def test_concentration_refuses_negative_values_and_bad_parameters() -> None:
    with pytest.raises(InvalidInputError, match="non-negative"):
        gini([1.0, -2.0])
    with pytest.raises(InvalidInputError, match="points"):
        concentration([1.0], points=1)
    with pytest.raises(InvalidInputError, match="top"):
        concentration([1.0], top=(0.0,))


# ---------------------------------------------------------------------------------------------- inventory
def test_inventory_by_hand() -> None:
    values = np.array([50.0, 150.0, 600.0, 2000.0, 9000.0, 80.0])
    a = FiveA(cut=ThresholdCut(thresholds=(100, 500, 1000, 5000))).assign(
        values, classes=["consumer", "consumer", "intermediary", "consumer", "intermediary", "public_interest"])
    inv = inventory(values, a)
    assert inv.counts.tolist() == [2, 1, 1, 1, 1]
    assert inv.values.tolist() == [130.0, 150.0, 600.0, 2000.0, 9000.0]
    assert inv.total_value == 11880.0 and inv.n_customers == 6
    np.testing.assert_allclose(inv.value_shares, inv.values / 11880.0)
    np.testing.assert_allclose(inv.count_shares, [2 / 6] + [1 / 6] * 4)
    assert inv.mean_values.tolist() == [65.0, 150.0, 600.0, 2000.0, 9000.0]
    assert inv.class_counts is not None
    assert inv.class_counts.tolist() == [[1, 0, 1], [1, 0, 0], [0, 1, 0], [1, 0, 0], [0, 1, 0]]
    assert inv.concentration is not None
    assert inv.concentration.top_shares[0.1] == pytest.approx(9000.0 / 11880.0)  # ceil(0.6): one customer
    records = inv.to_records()
    assert records[4] == {"tier": "A1", "customers": 1, "customer_share": 1 / 6, "value": 9000.0,
                          "value_share": 9000.0 / 11880.0, "mean_value": 9000.0}


def test_inventory_top_twenty_percent_of_six_is_two_customers() -> None:
    inv = inventory([50.0, 150.0, 600.0, 2000.0, 9000.0, 80.0], KeyCustomers().assign([1.0] * 6))
    assert inv.concentration is not None
    assert inv.concentration.top_shares[0.2] == pytest.approx(11000.0 / 11880.0)


def test_inventory_empty_tiers_negative_values_and_errors() -> None:
    a = FiveA(cut=ThresholdCut(thresholds=(100, 500, 1000, 5000))).assign([-5.0, 10.0])
    inv = inventory([-5.0, 10.0], a)
    assert inv.counts.tolist() == [2, 0, 0, 0, 0] and inv.mean_values.tolist() == [2.5, 0.0, 0.0, 0.0, 0.0]
    assert inv.concentration is None
    assert "not reported" in format_inventory(inv)
    with pytest.raises(InvalidInputError, match="rows"):
        inventory([1.0, 2.0, 3.0], a)
    with pytest.raises(InvalidInputError, match="finite"):
        inventory([1.0, np.nan], a)


def test_format_inventory_lists_tiers_top_first_and_classes() -> None:
    values = np.arange(1.0, 101.0)
    a = FiveA().assign(values, classes=np.arange(100) % 3)
    text = format_inventory(inventory(values, a))
    lines = text.splitlines()
    assert lines[0] == "Customer inventory (FiveA): 100 customers, total value 5,050.00"
    assert [ln.split()[0] for ln in lines[3:8]] == ["A1", "A2", "A3", "A4", "A5"]
    assert "Gini 0.330" in text and "Customers by tier and class:" in text  # Gini of 1..n: (n - 1)/(3n)
    assert format_inventory(inventory(values, a), title="Base").startswith("Base\n")


# ---------------------------------------------------------------------------------------------- migration
def test_migration_matrix_by_hand() -> None:
    before = snapshot([0, 0, 0, 1, 1, 2, 2, 2])
    after = snapshot([0, 1, 2, 1, 0, 2, 2, 1])
    m = migration(before, after)
    assert m.counts.tolist() == [[1, 1, 1], [1, 1, 0], [0, 1, 2]]
    np.testing.assert_allclose(m.rates, [[1 / 3, 1 / 3, 1 / 3], [0.5, 0.5, 0.0], [0.0, 1 / 3, 2 / 3]])
    assert (m.stay_rate, m.up_rate, m.down_rate) == (4 / 8, 2 / 8, 2 / 8)
    assert m.n_customers == 8 and m.n_entered is None and m.n_left is None


def test_migration_matches_customers_by_id() -> None:
    before = snapshot([0, 1, 2, 1], ids=[10, 20, 30, 40])
    after = snapshot([2, 2, 0, 1], ids=[50, 30, 20, 10])  # 40 left, 50 entered, others reordered
    m = migration(before, after)
    # 10: 0 -> 1 (up), 20: 1 -> 0 (down), 30: 2 -> 2 (stay)
    assert m.counts.tolist() == [[0, 1, 0], [1, 0, 0], [0, 0, 1]]
    assert (m.n_entered, m.n_left, m.n_customers) == (1, 1, 3)
    assert "1 entered, 1 left" in format_migration(m)


def test_migration_of_unordered_segments_has_no_up_or_down() -> None:
    labels = RFMSegments().labels
    m = migration(snapshot([0, 1], labels, ordered=False), snapshot([1, 1], labels, ordered=False))
    assert m.up_rate is None and m.down_rate is None and m.stay_rate == 0.5
    assert "moved up" not in format_migration(m)


def test_migration_errors() -> None:
    with pytest.raises(InvalidInputError, match="same tiers"):
        migration(snapshot([0]), snapshot([0], labels=("x", "y", "z")))
    with pytest.raises(InvalidInputError, match="same number"):
        migration(snapshot([0, 1]), snapshot([0]))
    with pytest.raises(InvalidInputError, match="unique"):
        migration(snapshot([0, 1], ids=[1, 1]), snapshot([0, 1], ids=[1, 2]))


def test_migration_between_two_policy_runs() -> None:
    p = KeyCustomers(share=0.5)
    ids = [1, 2, 3, 4]
    m = migration(p.assign(value=[1.0, 2.0, 3.0, 4.0], customer_id=ids),
                  p.assign(value=[4.0, 3.0, 2.0, 1.0], customer_id=ids))
    assert m.counts.tolist() == [[0, 2], [2, 0]] and m.up_rate == 0.5 and m.down_rate == 0.5


# ---------------------------------------------------------------------------------------------- budgets
def test_budget_allocation_is_ring_fenced() -> None:
    a = snapshot([0, 0, 2, 2, 2])
    alloc = budget_allocation(a, [100.0, 50.0, 300.0], values=[1.0, 1.0, 10.0, 10.0, 10.0])
    assert alloc.per_customer.tolist() == [50.0, 0.0, 100.0]
    assert alloc.unspent == 50.0  # tier B is empty: its budget is not moved to A or C
    assert alloc.value_per_budget is not None and alloc.value_per_budget.tolist() == [0.02, 0.0, 0.1]
    text = format_budget(alloc)
    assert "unspent 50.00" in text and "value per budget" in text
    by_name = budget_allocation(a, {"A": 30.0})
    assert by_name.budget.tolist() == [0.0, 0.0, 30.0]


@pytest.mark.parametrize("budget", [[1.0, 2.0], [1.0, -2.0, 3.0], [1.0, np.nan, 3.0], {"Z": 1.0}])
def test_budget_allocation_errors(budget: object) -> None:
    with pytest.raises(InvalidInputError, match="budget"):
        budget_allocation(snapshot([0, 1]), budget)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------- command-line helpers
def test_make_policy_by_name_and_json() -> None:
    from clvkit.tiering import POLICIES, LoyaltyProgram, make_policy

    for name, cls in POLICIES.items():
        default = cls() if name not in ("star-rating",) else cls(criteria={"value": 1.0})
        config = default.model_dump_json()
        assert make_policy(name, config) == default
    assert isinstance(make_policy("loyalty", {"window": 3}), LoyaltyProgram)
    with pytest.raises(InvalidInputError, match="Unknown tiering policy"):
        make_policy("six-b")
    with pytest.raises(InvalidInputError) as info:
        make_policy("key-customers", '{"share": 2}')
    assert info.value.columns == ("share",)


def test_tier_report_and_assignment_columns() -> None:
    from clvkit.tiering import make_policy, tier_report

    data = {"value": np.array([5.0, 50.0, 500.0, 5000.0]), "customer_id": np.array([7, 8, 9, 10]),
            "classes": np.array(["consumer", "intermediary", "consumer", "public_interest"])}
    a, text = tier_report(make_policy("five-a"), data, title="Stock")
    assert text.startswith("Stock\n") and "Customers by tier and class:" in text
    cols = a.to_columns(explain=True)
    assert list(cols) == ["customer_id", "tier_code", "tier", "class", "reason"]
    assert cols["class"].tolist() == ["consumer", "intermediary", "consumer", "public_interest"]
    assert cols["reason"][3] == a.reason(3)
    with pytest.raises(InvalidInputError, match="'clv' column"):
        tier_report(make_policy("five-a"), data, value_column="clv")
