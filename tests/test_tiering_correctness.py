"""Tiering policies: worked examples checked by hand, and fast kernels against plain scalar references."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clvkit.domain import LifecycleStage as Stage
from clvkit.tiering import (
    AxisCut,
    Criterion,
    FiveA,
    KeyCustomers,
    LifecycleStage,
    LoyaltyProgram,
    QuantileCut,
    RFMSegments,
    Scorecard,
    SegmentRule,
    StarRating,
    ThresholdCut,
    ValueCostMatrix,
    ValueRiskMatrix,
)
from clvkit.tiering._kernels import order_statistics, rank_bounds, rank_cut, strict_quantile_thresholds

SETTINGS = settings(max_examples=150, deadline=None)


# ---------------------------------------------------------------------------------------------- 5A and key customers
def test_five_a_explains_the_issue_example() -> None:
    # 20 customers; the 0.8 quantile cut is rank 16 (value 1000) and the 0.95 cut rank 19 (value 5000).
    values = np.array([10.0 * k for k in range(16)] + [1000.0, 1234.5, 1500.0, 5000.0])
    a = FiveA().assign(values)
    assert a.explain(17) == ("customer 17: tier A2 because value 1234.5 >= threshold 1000 (quantile 0.8; ties share "
                             "the higher tier)")
    assert a.tier_labels().tolist() == ["A5"] * 4 + ["A4"] * 6 + ["A3"] * 6 + ["A2"] * 3 + ["A1"]
    assert a.explain(0) == "customer 0: tier A5 because value 0 < threshold 40 (below quantile 0.2)"


def test_five_a_default_shares_are_documented_and_top_two_tiers_are_the_key_fifth() -> None:
    a = FiveA().assign(np.arange(1000.0))
    assert a.counts().tolist() == [200, 300, 300, 150, 50]
    key = KeyCustomers().assign(np.arange(1000.0))
    np.testing.assert_array_equal(a.codes >= 3, key.codes == 1)


def test_five_a_thresholds_are_inclusive_lower_bounds() -> None:
    p = FiveA(cut=ThresholdCut(thresholds=(100, 500, 1000, 5000)))
    a = p.assign([99.99, 100.0, 499.0, 500.0, 1000.0, 4999.0, 5000.0, 1e9])
    assert a.codes.tolist() == [0, 1, 1, 2, 3, 3, 4, 4]
    assert a.explain(4) == "customer 4: tier A2 because value 1000 >= threshold 1000"
    assert a.explain(0) == "customer 0: tier A5 because value 99.99 < threshold 100"


def test_five_a_scorecard_and_class_axis_are_separate() -> None:
    p = FiveA(cut=Scorecard(criteria={"value": 0.5, "frequency": 0.5}, cutoffs=(0.2, 0.4, 0.6, 0.8)))
    a = p.assign(value=[0.0, 50.0, 100.0, 100.0], frequency=[0.0, 5.0, 10.0, 0.0],
                 classes=["consumer", "intermediary", "public_interest", "consumer"])
    # scores: 0, 0.5, 1, 0.5 -> A5, A3, A1, A3; the classes do not move the tiers.
    assert a.tier_labels().tolist() == ["A5", "A3", "A1", "A3"]
    assert a.classes is not None and a.classes.tolist() == [0, 1, 2, 0]
    assert a.class_labels == ("consumer", "intermediary", "public_interest")
    assert a.explain(1).endswith("; class intermediary")
    assert "score 0.500 >= cut-off 0.4" in a.explain(1)


def test_five_a_custom_labels_and_classes_by_enum() -> None:
    from clvkit.domain import CustomerKind

    p = FiveA(labels=("E", "D", "C", "B", "A"))
    a = p.assign(value=np.arange(20.0), classes=[CustomerKind.INTERMEDIARY] * 19 + [CustomerKind.CONSUMER])
    assert a.tier_labels()[[0, 4, 10, 16, 19]].tolist() == ["E", "D", "C", "B", "A"]
    assert a.classes is not None and a.classes.tolist() == [1] * 19 + [0]


def test_key_customers_ties_stay_together_in_the_higher_tier() -> None:
    values = [3.0, 7.0, 7.0, 7.0, 1.0]  # share 0.4 of 5 = 2 key customers; three tie at 7: all three are key
    with_ids = KeyCustomers(share=0.4).assign(value=values, customer_id=[50, 40, 30, 20, 10])
    assert with_ids.codes.tolist() == [0, 1, 1, 1, 0]  # (was [0, 0, 1, 1, 0]: id 40 lost to 30 and 20)
    without_ids = KeyCustomers(share=0.4).assign(values)
    assert without_ids.codes.tolist() == [0, 1, 1, 1, 0]  # neither ids nor row order decide


def test_take_one_drop_nine_is_the_top_tenth() -> None:
    from clvkit.tiering import TAKE_ONE_DROP_NINE_SHARE

    a = KeyCustomers(share=TAKE_ONE_DROP_NINE_SHARE).assign(np.arange(95.0))
    assert a.counts().tolist() == [85, 10]  # floor(9.5 + 0.5) = 10
    assert a.members("key").tolist() == list(range(85, 95))


def test_key_customers_with_string_ids() -> None:
    a = KeyCustomers(share=0.5).assign(value=[5.0, 5.0, 5.0, 5.0], customer_id=["d", "b", "a", "c"])
    assert a.codes.tolist() == [1, 1, 1, 1]  # four equal values: all in the top half (ties share the higher tier)
    assert a.explain(2) == ("customer a: tier key because value 5 >= threshold 5 (top 50% by value; ties share the "
                            "higher tier)")


# ---------------------------------------------------------------------------------------------- stars
def test_star_rating_by_hand() -> None:
    rating = StarRating(criteria=(Criterion(name="value", weight=0.5, low=0, high=1000),
                                  Criterion(name="complaints", weight=0.5, low=0, high=10, higher_is_better=False)),
                        budget=(0.0, 100.0, 200.0, 300.0, 400.0))
    a = rating.assign(value=[0.0, 500.0, 1000.0, 2000.0, 200.0], complaints=[10.0, 5.0, 0.0, 0.0, 20.0])
    # scores: 0, 0.5, 1, 1 (value clipped at 1000), 0.1 (complaints clipped at 10)
    np.testing.assert_allclose(a.features["score"], [0.0, 0.5, 1.0, 1.0, 0.1])
    assert rating.stars(a).tolist() == [1, 3, 5, 5, 1]
    assert rating.benefits_for(3) == ("priority service", "periodic offers")
    report = rating.budget_report(a, values=[0.0, 500.0, 1000.0, 2000.0, 200.0])
    assert report.counts.tolist() == [2, 0, 1, 0, 2]
    assert report.per_customer.tolist() == [0.0, 0.0, 200.0, 0.0, 200.0]
    assert report.unspent == 400.0  # the 2- and 4-star budgets are ring-fenced, not moved
    assert report.value_per_budget is not None and report.value_per_budget.tolist() == [0.0, 0.0, 2.5, 0.0, 7.5]


def test_scorecard_constant_column_scores_the_midpoint() -> None:
    card = Scorecard(criteria={"value": 1.0}, cutoffs=(0.5,))
    assert card.score({"value": np.array([3.0, 3.0])}).tolist() == [0.5, 0.5]


# ---------------------------------------------------------------------------------------------- RFM
def test_rfm_scores_and_segments_by_hand() -> None:
    # 10 customers with distinct values: quintile scores are 1,1,2,2,3,3,4,4,5,5 from the lowest up.
    since = np.array([5.0, 50, 10, 300, 200, 100, 1, 40, 150, 250])
    freq = np.array([8.0, 2, 9, 7, 6, 1, 0, 3, 4, 5])
    money = np.array([900.0, 10, 800, 700, 20, 30, 40, 50, 60, 70])
    a = RFMSegments().assign(time_since_last=since, frequency=freq, monetary_value=money)
    assert a.components["recency"].tolist() == [5, 3, 4, 1, 2, 3, 5, 4, 2, 1]
    assert a.components["frequency"].tolist() == [5, 2, 5, 4, 4, 1, 1, 2, 3, 3]
    assert a.components["monetary"].tolist() == [5, 1, 5, 4, 1, 2, 2, 3, 3, 4]
    assert a.tier_labels().tolist() == ["champions", "need_attention", "champions", "cannot_lose", "at_risk",
                                        "need_attention", "new", "potential", "at_risk", "at_risk"]
    assert not a.ordered


def test_rfm_reads_a_customer_summary_recency_and_t() -> None:
    from clvkit import CustomerSummary

    s = CustomerSummary(frequency=[0, 2, 5, 1, 3], recency=[0.0, 20, 30, 5, 9], T=[40.0, 40, 40, 40, 10],
                        monetary_value=[0.0, 10, 30, 5, 12], customer_id=[11, 12, 13, 14, 15])
    a = RFMSegments().assign(s)
    direct = RFMSegments().assign(time_since_last=[40.0, 20, 10, 35, 1], frequency=s.frequency,
                                  monetary_value=s.monetary_value)
    np.testing.assert_array_equal(a.codes, direct.codes)
    assert a.explain(0).startswith("customer 11: tier ")


def test_rfm_ties_share_a_score() -> None:
    # 60% one-time buyers (frequency 0): all of them score F=1 rather than being split over F=1..3. The
    # 0.2, 0.4 and 0.6 cuts are all 0, so any repeat purchase beats three cuts (F=4); the 0.8 cut is the
    # 8th value, 2, so only 3 and 4 reach F=5.
    freq = np.array([0.0] * 6 + [1.0, 2.0, 3.0, 4.0])
    assert RFMSegments.scores(freq).tolist() == [1] * 6 + [4, 4, 5, 5]


def test_rfm_uncovered_map_gets_a_fallback_segment() -> None:
    p = RFMSegments(segments=(SegmentRule(name="best", recency=(5, 5), frequency=(5, 5), monetary=(5, 5)),))
    assert p.labels == ("best", "other")
    a = p.assign(time_since_last=[1.0, 9.0, 5, 6, 7], frequency=[9.0, 1.0, 2, 3, 4],
                 monetary_value=[9.0, 1.0, 2, 3, 4])
    assert a.tier_labels().tolist() == ["best", "other", "other", "other", "other"]
    assert a.explain(1) == "customer 1: tier other because R 1, F 1, M 1 matches no segment rule"
    assert "other" not in RFMSegments().labels  # the default map covers all 125 combinations


# ---------------------------------------------------------------------------------------------- matrices
def test_value_cost_matrix_two_by_two_by_hand() -> None:
    m = ValueCostMatrix()  # value: top 20% (quantile 0.8); cost: above the median
    value = np.array([1.0, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    cost = np.array([10.0, 1, 9, 2, 8, 3, 7, 4, 6, 5])
    a = m.assign(value=value, cost=cost)
    # high value: >= 9 (the value at 0-based rank 8) -> customers 8, 9. high cost: >= 6 (rank 5) -> 0,2,4,6,8
    assert a.components["value"].tolist() == [0, 0, 0, 0, 0, 0, 0, 0, 1, 1]
    assert a.components["cost"].tolist() == [1, 0, 1, 0, 1, 0, 1, 0, 1, 0]
    assert a.tier_labels().tolist() == ["costly", "routine", "costly", "routine", "costly", "routine", "costly",
                                        "routine", "strategic", "contested"]
    assert a.explain(8) == ("customer 8: tier strategic because value 9 >= 9 (quantile 0.8; ties share the higher "
                            "tier) and cost 6 >= 6 (quantile 0.5; ties share the higher tier)")
    counts = np.bincount(a.codes, minlength=4).reshape(2, 2)  # rows: value low/high; columns: cost low/high
    assert counts.tolist() == [[4, 4], [1, 1]]


def test_value_risk_matrix_from_p_alive_or_risk() -> None:
    m = ValueRiskMatrix(value_cut=AxisCut(threshold=500), risk_cut=AxisCut(threshold=0.5))
    value = [100.0, 100.0, 900.0, 900.0]
    from_p = m.assign(value=value, p_alive=[0.9, 0.2, 0.9, 0.5])
    from_risk = m.assign(value=value, risk=[0.1, 0.8, 0.1, 0.5])
    assert from_p.tier_labels().tolist() == ["maintain", "let_go", "nurture", "rescue"]
    np.testing.assert_array_equal(from_p.codes, from_risk.codes)


def test_value_risk_matrix_takes_p_alive_from_a_fitted_model() -> None:
    from clvkit import CustomerSummary
    from clvkit.valuation import BetaGeoParams, FittedBetaGeo, clv

    bg = FittedBetaGeo(params=BetaGeoParams(r=0.243, alpha=4.414, a=0.793, b=2.426), time_unit="W")
    s = CustomerSummary(frequency=[0, 2, 6, 6], recency=[0.0, 30.43, 37.0, 5.0], T=[38.86] * 4, time_unit="W",
                        customer_id=[1, 2, 3, 4])
    res = clv(bg, 20.0, s, horizon=52, discount_rate=0.0)
    a = ValueRiskMatrix(value_cut=AxisCut(quantile=0.5)).assign(res, p_alive=bg.probability_alive(s))
    assert a.customer_id is not None and a.customer_id.tolist() == [1, 2, 3, 4]
    # customer 4 bought 6 times but not for 34 weeks: valuable on paper, probably gone.
    assert a.tier_labels()[3] in ("rescue", "let_go")
    assert a.features["risk"][3] > 0.5 > a.features["risk"][2]


# ---------------------------------------------------------------------------------------------- loyalty
def test_loyalty_hysteresis_by_hand() -> None:
    prog = LoyaltyProgram(levels=("member", "silver", "gold"), upgrade=(100, 300), downgrade=(50, 200), window=1)
    spend = [[120, 80, 40, 310, 250, 190, 199, 60]]
    path = prog.level_history(history=spend)[0].tolist()
    # 120 up to silver; 80 keeps silver (>= 50 though < 100); 40 drops to member; 310 up to gold;
    # 250 keeps gold (< 300 but >= 200); 190 drops to silver (>= 50); 199 stays silver; 60 keeps silver.
    assert path == [1, 1, 0, 2, 2, 1, 1, 1]
    naive = [int(v >= 100) + int(v >= 300) for v in spend[0]]  # one threshold per level: flips every period
    assert naive == [1, 0, 0, 2, 1, 1, 1, 0]


def test_loyalty_reviews_only_complete_windows() -> None:
    prog = LoyaltyProgram(upgrade=(100, 300), downgrade=(50, 200), window=3)
    a = prog.assign(history=[[100, 100, 100, 999, 999], [50, 0, 0, 0, 0]], initial_level=["gold", "silver"])
    # one complete window (periods 0-2): 300 -> gold kept/reached; 50 keeps silver. Periods 3-4 wait.
    assert a.tier_labels().tolist() == ["gold", "silver"]
    assert a.explain(0) == "customer 0: tier gold because window value 300 >= keep threshold 200 for gold"
    assert a.explain(1) == ("customer 1: tier silver because window value 50 >= keep threshold 50 for silver "
                            "and < upgrade threshold 300 for gold")
    short = prog.assign(history=[[500.0, 500.0]])
    assert short.codes.tolist() == [0]
    assert "no complete qualification window" in short.explain(0)


def _loyalty_reference(prog: LoyaltyProgram, row: list[float], start: int) -> list[int]:
    """Plain scalar version of the documented rule, one customer at a time."""
    level, path = start, []
    for t in range(len(row)):
        if (t + 1) % prog.window == 0:
            q = sum(row[t + 1 - prog.window:t + 1])
            qualified = sum(q >= u for u in prog.upgrade)
            kept = sum(q >= d for d in prog.downgrade)
            level = max(qualified, min(level, kept))
        path.append(level)
    return path


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 20), periods=st.integers(0, 9), window=st.integers(1, 4))
def test_loyalty_matches_the_scalar_reference(seed: int, n: int, periods: int, window: int) -> None:
    rng = np.random.default_rng(seed)
    prog = LoyaltyProgram(levels=("a", "b", "c", "d"), upgrade=(100, 250, 400), downgrade=(60, 250, 300),
                          window=window)
    history = 25.0 * rng.integers(0, 9, (n, periods))
    start = rng.integers(0, 4, n)
    path = prog.level_history(history=history, initial_level=start)
    for i in range(n):
        assert path[i].tolist() == _loyalty_reference(prog, history[i].tolist(), int(start[i]))


# ---------------------------------------------------------------------------------------------- lifecycle
def test_lifecycle_stages_map_to_the_domain_ladder() -> None:
    policy = LifecycleStage()
    a = policy.assign(transactions=[0, 0, 1, 1, 2, 2, 7], referrals=[0, 3, 0, 2, 0, 1, 9])
    assert policy.stages(a) == [Stage.LEAD, Stage.LEAD, Stage.CONVERTED, Stage.CONVERTED, Stage.RETAINED,
                                Stage.ADVOCATE, Stage.ADVOCATE]
    assert policy.stage_ranks(a).tolist() == [s.value for s in policy.stages(a)]
    assert a.labels == tuple(s.name for s in Stage)
    lenient = LifecycleStage(advocate_needs_repeat=False).assign(transactions=[1, 0], referrals=[2, 5])
    assert lenient.tier_labels().tolist() == ["ADVOCATE", "LEAD"]  # a lead who refers is still a lead


# ---------------------------------------------------------------------------------------------- kernels vs reference
def _rank_reference(x: list[float], ids: list[int], shares: tuple[float, ...]) -> list[int]:
    n = len(x)
    bounds = [math.floor(n * sum(shares[:k]) + 0.5) for k in range(1, len(shares))]
    # tier k starts at the value of the customer at ascending rank bounds[k-1]; equal values share the higher tier
    s = sorted(x)
    starts = [s[b] for b in bounds if 0 < b < n]
    low = sum(1 for b in bounds if b <= 0)
    return [low + sum(v >= t for t in starts) for v in x]


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 60), distinct=st.sampled_from([1, 2, 4, 50, 0]),
       shares=st.sampled_from([(0.2, 0.3, 0.3, 0.15, 0.05), (0.8, 0.2), (0.5, 0.5), (0.1, 0.1, 0.8), (1.0,) * 1]))
def test_rank_cut_matches_a_sorted_reference(seed: int, n: int, distinct: int, shares: tuple[float, ...]) -> None:
    if len(shares) < 2:
        shares = (0.3, 0.7)
    rng = np.random.default_rng(seed)
    x = rng.integers(0, distinct, n).astype(float) if distinct else rng.normal(0, 1e3, n)
    ids = rng.permutation(n) * 3
    codes, _ = rank_cut(x, rank_bounds(shares, n))
    assert codes.tolist() == _rank_reference(x.tolist(), ids.tolist(), shares)
    # QuantileCut is the same kernel behind a configuration
    assert QuantileCut(shares=shares).apply(x, ids)[0].tolist() == codes.tolist()


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 80), kind=st.sampled_from(["int", "neg-int", "float", "mix"]))
def test_order_statistics_paths_agree_with_a_sort(seed: int, n: int, kind: str) -> None:
    rng = np.random.default_rng(seed)
    x = {"int": rng.integers(0, 5, n).astype(float), "neg-int": -rng.integers(0, 400, n).astype(float),
         "float": rng.normal(size=n), "mix": rng.integers(0, 3, n) + 0.5 * rng.integers(0, 2, n)}[kind]
    ranks = sorted({int(r) for r in rng.integers(0, n, 4)})
    assert order_statistics(x, ranks) == {r: float(np.sort(x)[r]) for r in ranks}
    cuts = strict_quantile_thresholds(x, (0.2, 0.5, 0.8))
    s = sorted(x.tolist())
    for q, c in zip((0.2, 0.5, 0.8), cuts, strict=True):
        m = math.floor(q * n + 0.5)
        assert c == (-math.inf if m == 0 else math.inf if m >= n else s[m - 1])


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 30))
def test_scorecard_matches_a_scalar_reference(seed: int, n: int) -> None:
    rng = np.random.default_rng(seed)
    cols = {"a": rng.integers(0, 5, n).astype(float), "b": rng.normal(size=n), "c": rng.uniform(-5, 15, n)}
    criteria = (Criterion(name="a", weight=0.25), Criterion(name="b", weight=0.5, higher_is_better=False),
                Criterion(name="c", weight=0.25, low=0, high=10))
    for scaling in ("rank", "minmax"):
        card = Scorecard(criteria=criteria, cutoffs=(0.25, 0.5, 0.75), scaling=scaling)
        got = card.score(cols)
        for i in range(n):
            expected = 0.0
            for c in card.criteria:
                col = cols[c.name].tolist()
                if c.low is None and scaling == "rank":  # the share of the others beaten, ties counted half
                    beaten = sum(v < col[i] for v in col) + 0.5 * (sum(v == col[i] for v in col) - 1)
                    z = 0.5 if n == 1 else beaten / (n - 1)
                else:
                    lo = c.low if c.low is not None else min(col)
                    hi = c.high if c.high is not None else max(col)
                    z = 0.5 if hi == lo else min(max((col[i] - lo) / (hi - lo), 0.0), 1.0)
                expected += c.weight * (z if c.higher_is_better else 1.0 - z)
            assert got[i] == pytest.approx(expected, abs=1e-12)


def test_rfm_scores_match_a_scalar_reference() -> None:
    rng = np.random.default_rng(11)
    for n in (1, 2, 5, 9, 10, 11, 57):
        x = rng.integers(0, 6, n).astype(float)
        s = sorted(x.tolist())
        cuts = [s[m - 1] if 0 < m < n else (-math.inf if m == 0 else math.inf)
                for m in (math.floor(q * n + 0.5) for q in (0.2, 0.4, 0.6, 0.8))]
        expected = [1 + sum(v > c for c in cuts) for v in x.tolist()]
        assert RFMSegments.scores(x).tolist() == expected
