"""Discounted CLV: agreement with lifetimes, closed-form identities, direct summation, inputs."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from clvkit import CustomerSummary, InvalidInputError
from clvkit.valuation import BetaGeo, BetaGeoParams, FittedBetaGeo, GammaGamma, clv

lifetimes = pytest.importorskip("lifetimes")


@pytest.fixture(scope="module")
def days(cdnow_weeks: CustomerSummary) -> CustomerSummary:
    return cdnow_weeks.with_time_unit("D")


@pytest.fixture(scope="module")
def models(days: CustomerSummary):  # type: ignore[no-untyped-def]
    return BetaGeo().fit(days), GammaGamma().fit(days)


def test_agrees_with_lifetimes_customer_lifetime_value(days: CustomerSummary, models) -> None:  # type: ignore[no-untyped-def]
    bg, gg = models
    s = days
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bgf = lifetimes.BetaGeoFitter()
        bgf.params_ = __import__("pandas").Series(bg.params.model_dump())
        bgf.predict = bgf.conditional_expected_number_of_purchases_up_to_time  # what lifetimes' fit() sets
        ggf = lifetimes.GammaGammaFitter()
        ggf.params_ = __import__("pandas").Series(gg.params.model_dump())
        pd = __import__("pandas")
        theirs = ggf.customer_lifetime_value(bgf, pd.Series(s.frequency), pd.Series(s.recency), pd.Series(s.T),
                                             pd.Series(s.monetary_value), time=12, discount_rate=0.01, freq="D")
    # lifetimes' month is 30 days: period=30 on a daily summary is the same schedule.
    ours = clv(bg, gg, s, horizon=12, discount_rate=0.01, period=30)
    np.testing.assert_allclose(ours.clv, np.asarray(theirs), rtol=1e-9)
    assert ours.customer_equity == pytest.approx(float(np.sum(theirs)), rel=1e-9)


def test_undiscounted_clv_is_spend_times_expected_purchases(days: CustomerSummary, models) -> None:  # type: ignore[no-untyped-def]
    bg, gg = models
    res = clv(bg, gg, days, horizon=10, discount_rate=0.0, margin=0.3, period="W")
    expected = 0.3 * gg.expected_spend(days) * bg.expected_purchases(days, 70.0)
    np.testing.assert_allclose(res.clv, expected, rtol=1e-10)
    np.testing.assert_allclose(res.expected_purchases, bg.expected_purchases(days, 70.0), rtol=1e-10)


def test_matches_direct_summation(days: CustomerSummary, models) -> None:  # type: ignore[no-untyped-def]
    bg, gg = models
    sub = days.take(np.arange(40))
    res = clv(bg, gg, sub, horizon=6, discount_rate=0.05, period=30.4375)
    spend = gg.expected_spend(sub)
    for i in range(len(sub)):
        one = sub.take([i])
        total = 0.0
        for k in range(1, 7):
            inc = bg.expected_purchases(one, k * 30.4375)[0] - bg.expected_purchases(one, (k - 1) * 30.4375)[0]
            total += spend[i] * inc / 1.05**k
        assert res.clv[i] == pytest.approx(total, rel=1e-10)
    # period="M" is the Gregorian mean month, 30.436875 days
    assert clv(bg, gg, sub, horizon=6, discount_rate=0.05, period="M").period == pytest.approx(30.436875)


def test_weights_scale_value_and_order_does_not_matter(days: CustomerSummary, models,  # type: ignore[no-untyped-def]
                                                       rng: np.random.Generator) -> None:
    bg, gg = models
    perm = rng.permutation(len(days))
    a = clv(bg, gg, days, horizon=3, discount_rate=0.01, period="M")
    b = clv(bg, gg, days.take(perm), horizon=3, discount_rate=0.01, period="M")
    np.testing.assert_allclose(b.clv, a.clv[perm], rtol=1e-12)
    c = days.compress()
    weighted = clv(bg, gg, c.summary, horizon=3, discount_rate=0.01, period="M")
    assert weighted.customer_equity == pytest.approx(a.customer_equity, rel=1e-10)


def test_bad_settings_are_named(days: CustomerSummary, models) -> None:  # type: ignore[no-untyped-def]
    bg, gg = models
    with pytest.raises(InvalidInputError, match=r"The 'discount_rate' parameter of clv\(\) must be in \[0, 1\)\. "
                                                r"Got -0\.1 instead\."):
        clv(bg, gg, days, horizon=12, discount_rate=-0.1)
    with pytest.raises(InvalidInputError, match="'horizon'"):
        clv(bg, gg, days, horizon=0, discount_rate=0.1)
    with pytest.raises(InvalidInputError, match="'margin'"):
        clv(bg, gg, days, horizon=1, discount_rate=0.1, margin=1.5)
    with pytest.raises(InvalidInputError, match="'period'"):
        clv(bg, gg, days, horizon=1, discount_rate=0.1, period="fortnight")
    with pytest.raises(InvalidInputError, match="spend"):
        clv(bg, np.ones(3), days, horizon=1, discount_rate=0.1)
    with pytest.raises(InvalidInputError, match="time unit"):
        clv(bg, gg, days.with_time_unit("W"), horizon=1, discount_rate=0.1)


def test_compressed_summary_ranks_customers_not_groups() -> None:
    # Defect (issue 9): clv was multiplied by the row weights while discounted_purchases was not, so on a
    # compressed summary top() ranked groups (value x head count), not customers. Customer A is worth more
    # per head than each of the 100 identical customers B.
    bg = FittedBetaGeo(params=BetaGeoParams(r=0.243, alpha=4.414, a=0.793, b=2.426), time_unit="W")
    s = CustomerSummary(frequency=[8, 1], recency=[38.0, 5.0], T=[39.0, 39.0], weights=[1, 100], time_unit="W")
    res = clv(bg, 20.0, s, horizon=52, discount_rate=0.0)
    one_each = clv(bg, 20.0, CustomerSummary(frequency=[8, 1], recency=[38.0, 5.0], T=[39.0, 39.0], time_unit="W"),
                   horizon=52, discount_rate=0.0)
    np.testing.assert_allclose(res.clv, one_each.clv, rtol=1e-12)  # per customer, like discounted_purchases
    np.testing.assert_allclose(res.clv, 20.0 * res.discounted_purchases, rtol=1e-12)
    assert res.top(1).tolist() == [0]
    assert res.customer_equity == pytest.approx(one_each.clv[0] + 100 * one_each.clv[1], rel=1e-12)
