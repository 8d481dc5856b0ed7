"""CompositeValue: the book's direct + indirect on worked examples, equity counted once, influencers,
the word-of-mouth prior, the command line's table and the synthetic CDNOW referral layer."""

from __future__ import annotations

import re

import numpy as np
import pytest
from clvkit.valuation.word_of_mouth import WORD_OF_MOUTH_SOURCE

from clvkit import CustomerSummary
from clvkit.datasets import load_cdnow_summary
from clvkit.domain import Customer, SatisfactionLevel
from clvkit.valuation import (
    AttributionRule,
    BetaGeoParams,
    CompositeValue,
    DirectValue,
    FittedBetaGeo,
    FittedGammaGamma,
    GammaGammaParams,
    InfluencerRule,
    ReferralGraph,
    WordOfMouth,
    WordOfMouthPrior,
    clv,
    format_value_table,
    influencers,
    synthetic_referrals,
)

IDS = ["A", "B", "C"]


def book_example() -> CompositeValue:
    # 客户经营 (2021): direct = spend x retention time; indirect = referral revenue.
    # A spends 1,000 a year for 5 years and brought in B (2,000 x 3 years) and C (500 x 2 years).
    dv = DirectValue(spend_per_period=[1000, 2000, 500], retention_time=[5, 3, 2], customer_id=IDS)
    return CompositeValue(direct=dv, indirect=ReferralGraph.from_pairs(["A", "A"], ["B", "C"]))


def test_book_worked_example_exactly() -> None:
    res = book_example().evaluate()
    assert res.direct.tolist() == [5000.0, 6000.0, 1000.0]
    assert res.indirect.tolist() == [7000.0, 0.0, 0.0]      # 6,000 + 1,000
    assert res.total.tolist() == [12000.0, 6000.0, 1000.0]  # value = direct + indirect
    assert res.indirect_source == "referral graph" and res.overlaps_direct
    eq = res.equity
    assert (eq.direct, eq.indirect, eq.total, eq.overlap) == (12000.0, 7000.0, 19000.0, 7000.0)
    assert res.customer_equity == 12000.0  # B's and C's revenue counted once, not again as A's credit
    assert book_example().value().tolist() == [12000.0, 6000.0, 1000.0]


def test_realistic_settings_one_argument_away() -> None:
    dv = DirectValue(spend_per_period=[1000.0, 2000.0, 500.0], churn_rate=[0.2, 1 / 3, 0.5], margin=0.3,
                     discount_rate=0.1, customer_id=IDS)
    res = CompositeValue(direct=dv, indirect=ReferralGraph.from_pairs(["A", "A"], ["B", "C"])).evaluate()
    # 0.3 x spend x (1+d)/(d+churn)
    direct = [0.3 * 1000 * 1.1 / 0.3, 0.3 * 2000 * 1.1 / (0.1 + 1 / 3), 0.3 * 500 * 1.1 / 0.6]
    np.testing.assert_allclose(res.direct, direct, rtol=1e-14)
    np.testing.assert_allclose(res.indirect, [direct[1] + direct[2], 0.0, 0.0], rtol=1e-14)


def test_several_levels_pass_through() -> None:
    dv = DirectValue(spend_per_period=[10.0, 20.0, 40.0], retention_time=1.0, customer_id=IDS)
    g = ReferralGraph.from_pairs(["A", "B"], ["B", "C"])
    res = CompositeValue(direct=dv, indirect=g, attribution=AttributionRule(max_levels=2, decay=0.25)).evaluate()
    assert res.indirect.tolist() == [20.0 + 0.25 * 40.0, 40.0, 0.0]
    assert res.attribution is not None and res.attribution.reach.tolist() == [2, 1, 0]


def test_clv_result_as_direct_part() -> None:
    bg = FittedBetaGeo(params=BetaGeoParams(r=0.243, alpha=4.414, a=0.793, b=2.426), time_unit="W")
    gg = FittedGammaGamma(params=GammaGammaParams(p=6.25, q=3.74, v=15.44), time_unit="W")
    s = CustomerSummary(frequency=[0, 2, 6], recency=[0.0, 30.0, 35.0], T=[38.0, 38.0, 38.0],
                        monetary_value=[0.0, 25.0, 40.0], customer_id=[7, 8, 9], time_unit="W")
    base = clv(bg, gg, s, horizon=12, discount_rate=0.01, period="M")
    g = ReferralGraph.from_pairs([9], [8], customer_ids=[7, 8, 9])
    res = CompositeValue(direct=base, indirect=g).evaluate()
    np.testing.assert_array_equal(res.direct, base.clv)
    assert res.indirect.tolist() == [0.0, 0.0, float(base.clv[1])]
    via_engine = CompositeValue(direct=DirectValue.from_model(bg, gg, horizon=12, discount_rate=0.01, period="M"),
                                indirect=g).evaluate(s)
    np.testing.assert_allclose(via_engine.total, res.total, rtol=1e-14)


def test_array_direct_with_ids_and_no_indirect() -> None:
    res = CompositeValue(direct=[3.0, 4.0]).evaluate(customer_id=["x", "y"])
    assert res.indirect.tolist() == [0.0, 0.0] and res.indirect_source == "none"
    assert res.customer_equity == 7.0 and res.top(1).tolist() == [1]


# ---------------------------------------------------------------------------------------------- word of mouth
def test_word_of_mouth_prior_constants_are_named_sourced_and_overridable() -> None:
    p = WordOfMouthPrior()
    assert (p.prospects_per_satisfied, p.buyers_per_satisfied, p.influenced_per_dissatisfied) == (8.0, 1.0, 25.0)
    assert p.loss_per_influenced == 1 / 8
    for name in ("prospects_per_satisfied", "buyers_per_satisfied", "influenced_per_dissatisfied"):
        assert "Source" in (WordOfMouthPrior.model_fields[name].description or "")
    assert "8 prospects" in WORD_OF_MOUTH_SOURCE and "25 others" in WORD_OF_MOUTH_SOURCE
    levels = list(SatisfactionLevel)
    assert p.net_buyers(levels).tolist() == [-25 / 8, 0.0, 1.0, 1.0, 1.0]
    q = WordOfMouthPrior(buyers_per_satisfied=2.0, lost_buyers_per_influenced=0.04,
                         satisfied_levels=(SatisfactionLevel.RECOMMENDS,))
    assert q.net_buyers([1, 2, 3, 4, 5]).tolist() == [-1.0, 0.0, 0.0, 0.0, 2.0]
    with pytest.raises(ValueError, match="frozen"):
        p.buyers_per_satisfied = 3.0  # type: ignore[misc]


def test_word_of_mouth_composite_adds_to_equity() -> None:
    wom = WordOfMouth(["satisfied", "dissatisfied", "loyal", None], customer_id=["a", "b", "c", "d"])
    res = CompositeValue(direct=[100.0, 200.0, 300.0, 400.0], indirect=wom).evaluate(customer_id=["d", "c", "b", "a"])
    mean = 250.0  # value per buyer: mean direct value of the customers valued
    assert res.indirect.tolist() == [0.0, mean, -25 / 8 * mean, mean]
    assert res.indirect_source == "word-of-mouth prior" and not res.overlaps_direct
    assert res.label.startswith("PRIOR")
    assert res.customer_equity == pytest.approx(1000.0 + (1 - 25 / 8 + 1) * mean)
    assert "buyers outside the base" in format_value_table(res, 2, lang="en")


def test_word_of_mouth_from_customers_and_positional() -> None:
    cs = [Customer(customer_id="a", kind="consumer", satisfaction="recommends"),
          Customer(customer_id="b", kind="consumer")]
    wom = WordOfMouth.from_customers(cs, value_per_buyer=50.0)
    assert wom.indirect_value(np.array([1.0, 1.0]), np.array(["b", "a"])).tolist() == [0.0, 50.0]
    assert wom.expected_buyers().tolist() == [1.0, 0.0]
    assert WordOfMouth([3, 1]).indirect_value([10.0, 30.0], None).tolist() == [20.0, -62.5]


# ---------------------------------------------------------------------------------------------- influencers
def test_influencers_rank_and_flag() -> None:
    direct = np.array([100.0, 50.0, 0.0, 80.0, 10.0])
    indirect = np.array([500.0, 20.0, 30.0, 0.0, 10.0])
    rep = influencers(direct, indirect, ["p", "q", "r", "s", "t"], rule=InfluencerRule(min_ratio=1.0, top_share=None))
    assert rep.by_indirect.tolist() == [0, 2, 1, 4]
    assert rep.by_ratio.tolist() == [2, 0, 4, 1]  # inf, 5, 1, 0.4
    assert rep.ratio.tolist() == [5.0, 0.4, float("inf"), 0.0, 1.0]
    assert rep.is_key.tolist() == [True, False, True, False, True]  # indirect >= 1 x direct
    top = influencers(direct, indirect, rule=InfluencerRule(min_ratio=None, top_share=0.25))
    assert top.is_key.tolist() == [True, False, False, False, False]  # floor(0.25 x 4 referrers + 1/2) = 1
    # the default: indirect >= direct and in the top 20% of the 4 referrers (floor(0.8 + 0.5) = 1): p only
    assert influencers(direct, indirect).is_key.tolist() == [True, False, False, False, False]
    both = influencers(direct, indirect, rule=InfluencerRule(min_ratio=2.0, top_share=0.5))
    assert both.is_key.tolist() == [True, False, True, False, False]
    counted = influencers(direct, indirect, referrals=[3, 1, 1, 0, 1], rule=InfluencerRule(min_referrals=2))
    assert counted.is_key.tolist() == [True, False, False, False, False]


def test_result_influencers_use_referral_counts() -> None:
    rep = book_example().evaluate().influencers(InfluencerRule(min_ratio=1.0, min_referrals=2))
    assert rep.is_key.tolist() == [True, False, False]
    assert rep.ratio.tolist() == [1.4, 0.0, 0.0]


# ---------------------------------------------------------------------------------------------- CLI pieces
def test_table_on_the_book_example() -> None:
    text = format_value_table(book_example().evaluate(), 3, lang="en", legend=False)
    lines = text.splitlines()
    assert lines[0] == "Top 3 customers by total value (indirect value from: referral graph)"
    assert re.split(r"\s{2,}", lines[1].strip()) == ["customer", "direct value", "indirect value", "total value",
                                                     "indirect / direct", "referrals", "key influencer"]
    assert set(lines[2].strip()) == {"-", " "}  # the dashed rule under the header, as in every report table
    assert lines[3].split() == ["A", "5,000.00", "7,000.00", "12,000.00", "1.40", "2", "yes"]
    assert lines[-1].startswith("Customer equity 12,000.00 = direct 12,000.00 (indirect 7,000.00")


def test_columns_for_a_csv() -> None:
    cols = book_example().evaluate().to_columns()
    assert list(cols) == ["customer_id", "direct_value", "indirect_value", "total_value", "indirect_ratio",
                          "referrals", "reach", "key_influencer"]
    assert cols["total_value"].tolist() == [12000.0, 6000.0, 1000.0]
    assert cols["key_influencer"].tolist() == [True, False, False]
    plain = CompositeValue(direct=[1.0, 2.0]).evaluate().to_columns()
    assert plain["customer_id"].tolist() == [0, 1] and "referrals" not in plain


def test_synthetic_referrals_on_cdnow_with_clv() -> None:
    s = load_cdnow_summary()
    bg = FittedBetaGeo(params=BetaGeoParams(r=0.243, alpha=4.414, a=0.793, b=2.426), time_unit="W")
    gg = FittedGammaGamma(params=GammaGammaParams(p=6.25, q=3.74, v=15.44), time_unit="W")
    base = clv(bg, gg, s, horizon=12, discount_rate=0.01, period="M")
    graph = synthetic_referrals(s.customer_id, seed=2024)
    res = CompositeValue(direct=base, indirect=graph).evaluate()
    text = format_value_table(res, 10, lang="en")
    assert text.splitlines()[0].startswith("SYNTHETIC referral layer (random, seed 2024)")
    assert res.equity.customer_equity == pytest.approx(base.customer_equity, rel=1e-12)
    level = res.attribution.level_value if res.attribution is not None else None
    assert level is not None and level[0] <= float(base.clv.sum())
    assert res.influencers().is_key.any()
