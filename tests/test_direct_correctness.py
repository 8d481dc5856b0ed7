"""DirectValue: the book's formula exactly, closed forms against direct summation, model sources."""

from __future__ import annotations

import numpy as np
import pytest
from clvkit.valuation.direct import DirectValue, discounted_lifetime
from hypothesis import given, settings
from hypothesis import strategies as st

from clvkit import ContractSummary, CustomerSummary
from clvkit.valuation import (
    BetaGeoBetaBinomParams,
    BetaGeoParams,
    FittedBetaGeo,
    FittedBetaGeoBetaBinom,
    FittedGammaGamma,
    FittedParetoNBD,
    FittedShiftedBetaGeo,
    GammaGammaParams,
    ParetoNBDParams,
    ShiftedBetaGeoParams,
    clv,
)
from clvkit.valuation.protocols import ValueEngine

# ---------------------------------------------------------------------------------------------- the book
# 客户经营 (2021): value = direct + indirect, direct = spend x retention time. Worked by hand:
#   A spends 1,000 a year and stays 5 years  -> 5,000
#   B spends 2,000 a year and stays 3 years  -> 6,000
#   C spends   500 a year and stays 2 years  -> 1,000


def test_book_formula_exactly_with_defaults() -> None:
    dv = DirectValue(spend_per_period=[1000, 2000, 500], retention_time=[5, 3, 2])
    res = dv.evaluate()
    assert res.value.tolist() == [5000.0, 6000.0, 1000.0]  # exact, not approximate
    assert res.margin == 1.0 and res.discount_rate == 0.0
    assert res.customer_equity == 12000.0
    assert res.source == "retention_time"


def test_book_formula_from_churn_rate_is_spend_over_churn() -> None:
    # retention time of a geometric lifetime = 1 / churn (the current period counted)
    dv = DirectValue(spend_per_period=[1000.0, 2000.0, 500.0], churn_rate=[0.2, 1 / 3, 0.5])
    np.testing.assert_allclose(dv.value(), [5000.0, 6000.0, 1000.0], rtol=1e-15)
    assert DirectValue(spend_per_period=1000.0, churn_rate=0.2).value().tolist() == [5000.0]


def test_margin_scales_and_is_one_argument_away() -> None:
    base = DirectValue(spend_per_period=[1000.0, 2000.0], retention_time=[5, 3]).value()
    np.testing.assert_array_equal(DirectValue(spend_per_period=[1000.0, 2000.0], retention_time=[5, 3],
                                              margin=0.25).value(), 0.25 * base)


def test_is_a_value_engine() -> None:
    assert isinstance(DirectValue(spend_per_period=1.0, retention_time=1.0), ValueEngine)


# ---------------------------------------------------------------------------------------------- closed forms
def _summed(r: float, d: float, horizon: int | None, timing: str, first: bool) -> float:
    """Plain sum of r^t (1+d)^-(t+e) over the counted periods (to convergence when no horizon)."""
    e = 1 if timing == "end" else 0
    start = 0 if first else 1
    stop = start + horizon if horizon is not None else start + 200_000
    total = 0.0
    for t in range(start, stop):
        term = r**t / (1.0 + d) ** (t + e)
        total += term
        if horizon is None and term < 1e-18:
            break
    return total


@pytest.mark.parametrize("timing", ["start", "end"])
@pytest.mark.parametrize("first", [True, False])
@pytest.mark.parametrize("horizon", [None, 1, 7, 40])
def test_geometric_closed_form_equals_direct_summation(timing: str, first: bool, horizon: int | None) -> None:
    for r in (0.0, 0.3, 0.8, 0.97):
        for d in (0.0, 0.01, 0.1):
            if horizon is None and r == 1.0 and d == 0.0:
                continue
            got = float(discounted_lifetime(r, d, horizon=horizon, timing=timing,  # type: ignore[arg-type]
                                            first_period=first))
            assert got == pytest.approx(_summed(r, d, horizon, timing, first), rel=1e-12, abs=1e-15)


def test_textbook_closed_forms() -> None:
    r, d = 0.8, 0.1
    assert float(discounted_lifetime(r, d)) == pytest.approx((1 + d) / (1 + d - r), rel=1e-15)
    assert float(discounted_lifetime(r, d, timing="end")) == pytest.approx(1 / (1 + d - r), rel=1e-15)
    assert float(discounted_lifetime(r, d, first_period=False)) == pytest.approx(r / (1 + d - r), rel=1e-15)
    # finite sum: (1 - q^H)/(1 - q), q = r/(1+d)
    q = r / (1 + d)
    assert float(discounted_lifetime(r, d, horizon=5)) == pytest.approx((1 - q**5) / (1 - q), rel=1e-14)


def test_retention_one_needs_discount_or_horizon_and_is_finite_with_either() -> None:
    assert float(discounted_lifetime(1.0, 0.0, horizon=12)) == 12.0
    assert float(discounted_lifetime(1.0, 0.1)) == pytest.approx(11.0, rel=1e-14)  # (1+d)/d


@settings(max_examples=200, deadline=None)
@given(r=st.floats(0.0, 0.999), d=st.floats(0.0, 0.5), horizon=st.integers(1, 60),
       timing=st.sampled_from(["start", "end"]), first=st.booleans())
def test_geometric_finite_horizon_property(r: float, d: float, horizon: int, timing: str, first: bool) -> None:
    got = float(discounted_lifetime(r, d, horizon=horizon, timing=timing, first_period=first))  # type: ignore[arg-type]
    assert got == pytest.approx(_summed(r, d, horizon, timing, first), rel=1e-10, abs=1e-300)
    longer = float(discounted_lifetime(r, d, horizon=horizon + 1, timing=timing,  # type: ignore[arg-type]
                                       first_period=first))
    assert longer >= got  # non-decreasing in the horizon


@settings(max_examples=100, deadline=None)
@given(r=st.floats(0.0, 0.99), d=st.floats(0.0, 0.5))
def test_horizon_converges_to_unbounded(r: float, d: float) -> None:
    inf = float(discounted_lifetime(r, d))
    far = float(discounted_lifetime(r, d, horizon=5000))
    assert far == pytest.approx(inf, rel=1e-9)


@pytest.mark.parametrize("timing", ["start", "end"])
def test_deterministic_lifetime_is_an_annuity(timing: str) -> None:
    d = 0.07
    e = 1 if timing == "end" else 0
    for length in range(0, 12):
        dv = DirectValue(spend_per_period=1.0, retention_time=length, discount_rate=d, timing=timing)  # type: ignore[arg-type]
        expected = sum((1 + d) ** -(t + e) for t in range(length))
        assert float(dv.value()[0]) == pytest.approx(expected, rel=1e-13, abs=1e-15)
    capped = DirectValue(spend_per_period=1.0, retention_time=10, discount_rate=d, horizon=4, timing=timing)  # type: ignore[arg-type]
    assert float(capped.value()[0]) == pytest.approx(sum((1 + d) ** -(t + e) for t in range(4)), rel=1e-13)


def test_rate_sources_agree_and_broadcast() -> None:
    a = DirectValue(spend_per_period=[10.0, 20.0, 30.0], retention_rate=0.6, discount_rate=0.05, horizon=9)
    b = DirectValue(spend_per_period=[10.0, 20.0, 30.0], churn_rate=0.4, discount_rate=0.05, horizon=9)
    np.testing.assert_allclose(a.value(), b.value(), rtol=1e-14)
    assert a.value().shape == (3,)


# ---------------------------------------------------------------------------------------------- model sources
@pytest.fixture(scope="module")
def weekly() -> CustomerSummary:
    return CustomerSummary(frequency=[0, 2, 7], recency=[0.0, 30.43, 35.0], T=[38.86, 38.86, 38.86],
                           monetary_value=[0.0, 22.35, 40.0], customer_id=["a", "b", "c"], time_unit="W")


def test_pareto_nbd_dert_times_spend(weekly: CustomerSummary) -> None:
    m = FittedParetoNBD(params=ParetoNBDParams(r=0.553, alpha=10.578, s=0.606, beta=11.669), time_unit="W")
    d = 0.0027
    res = DirectValue.from_model(m, 25.0, discount_rate=d, margin=0.3).evaluate(weekly)
    dert = m.discounted_expected_residual_transactions(weekly, d)  # discrete per week, like DirectValue's
    np.testing.assert_allclose(res.value, 0.3 * 25.0 * dert, rtol=1e-14)
    assert res.customer_id is not None and res.customer_id.tolist() == ["a", "b", "c"]
    assert "DERT" in res.source


def test_bgbb_dert_times_spend_model(weekly: CustomerSummary) -> None:
    s = CustomerSummary(frequency=[0, 2, 5], recency=[0, 4, 6], T=[6, 6, 6], monetary_value=[0.0, 10.0, 30.0])
    m = FittedBetaGeoBetaBinom(params=BetaGeoBetaBinomParams(alpha=1.204, beta=0.750, gamma=0.657, delta=2.783))
    gg = FittedGammaGamma(params=GammaGammaParams(p=6.25, q=3.74, v=15.44), time_unit="D")
    res = DirectValue.from_model(m, gg, discount_rate=0.1).evaluate(s)
    expected = gg.expected_spend(s) * m.discounted_expected_residual_transactions(s, 0.1)
    np.testing.assert_allclose(res.value, expected, rtol=1e-14)


def test_sbg_derl_times_value_per_period() -> None:
    m = FittedShiftedBetaGeo(params=ShiftedBetaGeoParams(alpha=0.704, beta=1.182), time_unit="Y")
    dv = DirectValue.from_model(m, 100.0, discount_rate=0.1)
    np.testing.assert_allclose(dv.value([0, 1, 4]), m.expected_residual_value([0, 1, 4], 100.0, 0.1), rtol=1e-14)
    c = ContractSummary(duration=[1, 3, 2], churned=[True, False, False], time_unit="Y")
    np.testing.assert_allclose(dv.value(c), 100.0 * m.discounted_expected_residual_lifetime(c, 0.1), rtol=1e-14)


def test_bgnbd_and_gamma_gamma_via_clv(weekly: CustomerSummary) -> None:
    bg = FittedBetaGeo(params=BetaGeoParams(r=0.243, alpha=4.414, a=0.793, b=2.426), time_unit="W")
    gg = FittedGammaGamma(params=GammaGammaParams(p=6.25, q=3.74, v=15.44), time_unit="W")
    ours = DirectValue.from_model(bg, gg, horizon=12, discount_rate=0.01, margin=0.2, period="M").evaluate(weekly)
    theirs = clv(bg, gg, weekly, horizon=12, discount_rate=0.01, margin=0.2, period="M")
    np.testing.assert_allclose(ours.value, theirs.clv, rtol=1e-14)
    np.testing.assert_allclose(ours.retention_time, theirs.discounted_purchases, rtol=1e-14)


def test_pareto_with_horizon_uses_clv_route(weekly: CustomerSummary) -> None:
    m = FittedParetoNBD(params=ParetoNBDParams(r=0.553, alpha=10.578, s=0.606, beta=11.669), time_unit="W")
    ours = DirectValue.from_model(m, horizon=52, discount_rate=0.0).value(weekly)
    theirs = clv(m, weekly.monetary_value, weekly, horizon=52, discount_rate=0.0).clv
    np.testing.assert_allclose(ours, theirs, rtol=1e-14)
