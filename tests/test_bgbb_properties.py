"""BG/BB properties (Hypothesis): probabilities, monotonicity, PMF mass, DERT, compression, order, JSON."""

from __future__ import annotations

import numpy as np
import pytest
from clvkit.valuation.beta_geo_beta_binom import BetaGeoBetaBinom, BetaGeoBetaBinomParams, FittedBetaGeoBetaBinom
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clvkit import CustomerSummary, load_json
from clvkit.valuation.models import _bgbb as kernel

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")

positive = st.floats(min_value=1e-3, max_value=1e3, allow_nan=False, allow_infinity=False)
params_st = st.tuples(positive, positive, positive, positive)


@st.composite
def histories(draw: st.DrawFn, max_size: int = 6, max_n: int = 60) -> CustomerSummary:
    """Valid (x, t_x, n) rows: x transactions at distinct opportunities, the last at t_x <= n."""
    size = draw(st.integers(1, max_size))
    xs, txs, ns = [], [], []
    for _ in range(size):
        n = draw(st.integers(0, max_n))
        tx = draw(st.integers(0, n))
        x = 0 if tx == 0 else draw(st.integers(1, tx))
        xs.append(x)
        txs.append(tx)
        ns.append(n)
    return CustomerSummary(frequency=xs, recency=txs, T=ns, time_unit="Y")


def simulate(seed: int, size: int, n_max: int = 8, params: tuple[float, ...] = (1.2, 0.75, 0.66, 2.8)
             ) -> CustomerSummary:
    """Customers drawn from the BG/BB with 1..n_max opportunities (cohorts of different ages)."""
    rng = np.random.default_rng(seed)
    n = rng.integers(1, n_max + 1, size)
    p, theta = rng.beta(params[0], params[1], size), rng.beta(params[2], params[3], size)
    alive = np.minimum(rng.geometric(theta) - 1, n)  # opportunities at which the customer is alive
    buys = rng.random((size, n_max)) < p[:, None]
    buys &= np.arange(1, n_max + 1)[None, :] <= alive[:, None]
    x = buys.sum(axis=1)
    tx = np.where(x > 0, n_max - np.argmax(buys[:, ::-1], axis=1), 0)
    return CustomerSummary(frequency=x, recency=tx, T=n, time_unit="Y")


def model(params: tuple[float, ...]) -> FittedBetaGeoBetaBinom:
    return FittedBetaGeoBetaBinom(params=BetaGeoBetaBinomParams(alpha=params[0], beta=params[1], gamma=params[2],
                                                                delta=params[3]), time_unit="Y")


@settings(max_examples=60, deadline=None)
@given(params=params_st, s=histories())
def test_probability_alive_is_a_probability(params: tuple[float, ...], s: CustomerSummary) -> None:
    p = model(params).probability_alive(s)
    assert np.all((p >= 0.0) & (p <= 1.0))


@settings(max_examples=60, deadline=None)
@given(params=params_st, s=histories(), t1=st.integers(0, 2000), dt=st.integers(0, 2000))
def test_expected_purchases_nonnegative_and_nondecreasing(params: tuple[float, ...], s: CustomerSummary, t1: int,
                                                          dt: int) -> None:
    m = model(params)
    e1 = m.expected_purchases(s, t1)
    e2 = m.expected_purchases(s, t1 + dt)
    assert np.all(np.isfinite(e1)) and np.all(e1 >= 0.0)
    assert np.all(e2 >= e1 * (1.0 - 1e-10))
    # Never more transactions than opportunities.
    assert np.all(e2 <= t1 + dt + 1e-9)


@settings(max_examples=40, deadline=None)
@given(params=params_st, s=histories(max_size=3, max_n=30), t=st.integers(0, 25))
def test_pmf_sums_to_one_with_the_expected_mean(params: tuple[float, ...], s: CustomerSummary, t: int) -> None:
    m = model(params)
    pmf = np.stack([m.probability_of_purchases(s, k, t) for k in range(t + 1)])
    assert np.all(pmf >= 0.0)
    np.testing.assert_allclose(pmf.sum(axis=0), 1.0, atol=1e-10)
    mean = np.arange(t + 1) @ pmf
    np.testing.assert_allclose(mean, m.expected_purchases(s, t), rtol=1e-8, atol=1e-12)
    # More transactions than opportunities are impossible.
    assert np.all(m.probability_of_purchases(s, t + 1, t) == 0.0)


@settings(max_examples=40, deadline=None)
@given(params=params_st, s=histories(), d1=st.floats(1e-3, 10.0), factor=st.floats(1.0, 10.0))
def test_dert_is_positive_and_decreasing_in_the_discount_rate(params: tuple[float, ...], s: CustomerSummary,
                                                              d1: float, factor: float) -> None:
    m = model(params)
    lo = m.discounted_expected_residual_transactions(s, d1 * factor)
    hi = m.discounted_expected_residual_transactions(s, d1)
    assert np.all(np.isfinite(hi)) and np.all(lo >= 0.0)
    assert np.all(lo <= hi * (1.0 + 1e-10))
    # Discounted residual transactions exceed the first opportunity's discounted expectation.
    assert np.all(hi >= m.expected_purchases(s, 1) / (1.0 + d1) * (1.0 - 1e-10))


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**31 - 1))
def test_fit_on_compressed_rows_equals_fit_on_raw_rows(seed: int) -> None:
    s = simulate(seed, 3000)
    raw = BetaGeoBetaBinom().fit(s)
    comp = BetaGeoBetaBinom().fit(s.compress().summary)
    assert comp.fit_info is not None and comp.fit_info.n_customers == 3000
    np.testing.assert_allclose(comp.param_array(), raw.param_array(), rtol=1e-7)
    assert comp.log_likelihood == pytest.approx(raw.log_likelihood, rel=1e-12)


def test_weighted_donations_fit_equals_the_fit_on_11104_raw_rows() -> None:
    datasets = pytest.importorskip("lifetimes.datasets")
    df = datasets.load_donations()
    w = df["weights"].to_numpy()
    weighted = CustomerSummary(frequency=df["frequency"], recency=df["recency"], T=df["periods"], weights=w,
                               time_unit="Y")
    raw = CustomerSummary(frequency=np.repeat(df["frequency"].to_numpy(), w),
                          recency=np.repeat(df["recency"].to_numpy(), w),
                          T=np.repeat(df["periods"].to_numpy(), w), time_unit="Y")
    a, b = BetaGeoBetaBinom().fit(weighted), BetaGeoBetaBinom().fit(raw)
    np.testing.assert_allclose(a.param_array(), b.param_array(), rtol=1e-9)
    assert a.log_likelihood == pytest.approx(b.log_likelihood, rel=1e-12)


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**31 - 1))
def test_row_order_does_not_matter(seed: int) -> None:
    s = simulate(seed, 2000)
    perm = np.random.default_rng(seed).permutation(len(s))
    shuffled = s.take(perm)
    a, b = BetaGeoBetaBinom().fit(s), BetaGeoBetaBinom().fit(shuffled)
    np.testing.assert_allclose(a.param_array(), b.param_array(), rtol=1e-12)
    np.testing.assert_allclose(a.probability_alive(s)[perm], b.probability_alive(shuffled), rtol=1e-12)


@settings(max_examples=30, deadline=None)
@given(params=params_st, s=histories(max_size=8, max_n=200))
def test_kernel_is_invariant_to_row_order_and_batching(params: tuple[float, ...], s: CustomerSummary) -> None:
    # The likelihood sorts rows by n - t_x internally; results must come back in the caller's order.
    p = np.array(params)
    x, tx, n = s.frequency, s.recency, s.T
    ll, grad = kernel.loglik(p, x, tx, n)
    one_by_one = [kernel.loglik(p, x[i:i + 1], tx[i:i + 1], n[i:i + 1]) for i in range(len(s))]
    np.testing.assert_allclose(ll, [o[0][0] for o in one_by_one], rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(grad, np.vstack([o[1] for o in one_by_one]), rtol=1e-12, atol=1e-12)


@settings(max_examples=50, deadline=None)
@given(params=params_st, unit=st.sampled_from(["D", "W", "M", "Y"]))
def test_json_round_trip_is_exact(params: tuple[float, ...], unit: str) -> None:
    m = FittedBetaGeoBetaBinom(params=BetaGeoBetaBinomParams(alpha=params[0], beta=params[1], gamma=params[2],
                                                             delta=params[3]), time_unit=unit)
    assert load_json(m.to_json()) == m


def test_json_round_trip_of_a_fit_keeps_diagnostics() -> None:
    fitted = BetaGeoBetaBinom().fit(simulate(1, 2000))
    back = load_json(fitted.to_json())
    assert back == fitted and isinstance(back, FittedBetaGeoBetaBinom)
