"""Pareto/NBD properties (Hypothesis and grids): probabilities, monotonicity, PMF mass, DERT, the G
identity, extreme-input grid, compression, order, time units, JSON."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from clvkit.valuation.pareto_nbd import FittedParetoNBD, ParetoNBD, ParetoNBDParams
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import integrate

from clvkit import CustomerSummary, load_json
from clvkit.valuation.models import _paretonbd as kernel

positive = st.floats(min_value=1e-3, max_value=1e3, allow_nan=False, allow_infinity=False)
params_st = st.tuples(positive, positive, positive, positive)

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")


@st.composite
def customers(draw: st.DrawFn, max_size: int = 6) -> CustomerSummary:
    size = draw(st.integers(1, max_size))
    x = draw(st.lists(st.integers(0, 10_000), min_size=size, max_size=size))
    T = draw(st.lists(st.floats(0.0, 1e4, allow_nan=False), min_size=size, max_size=size))
    frac = draw(st.lists(st.floats(0.0, 1.0), min_size=size, max_size=size))
    tx = [0.0 if xi == 0 else Ti * fi for xi, Ti, fi in zip(x, T, frac, strict=True)]
    x = [xi if ti > 0 else 0 for xi, ti in zip(x, tx, strict=True)]  # a repeat purchase needs recency > 0
    return CustomerSummary(frequency=x, recency=tx, T=T, time_unit="W")


def model(params: tuple[float, ...], unit: str = "W") -> FittedParetoNBD:
    return FittedParetoNBD(params=ParetoNBDParams(r=params[0], alpha=params[1], s=params[2], beta=params[3]),
                           time_unit=unit)


def simulate(seed: int, size: int, params: tuple[float, float, float, float] = (0.55, 10.6, 0.61, 11.7)
             ) -> CustomerSummary:
    """Pareto/NBD customers observed 30-40 weeks, times rounded to whole days (so rows repeat)."""
    rng = np.random.default_rng(seed)
    r, alpha, s, beta = params
    T = np.round(rng.uniform(30.0, 40.0, size) * 7.0) / 7.0
    lam, mu = rng.gamma(r, 1.0 / alpha, size), rng.gamma(s, 1.0 / beta, size)
    active = np.minimum(rng.exponential(1.0, size) / mu, T)
    x = rng.poisson(lam * active)
    # The last of x uniform purchase times on (0, active): active * Beta(x, 1).
    tx = np.where(x > 0, np.maximum(np.floor(active * rng.beta(np.maximum(x, 1), 1.0) * 7.0), 1.0) / 7.0, 0.0)
    return CustomerSummary(frequency=x, recency=np.minimum(tx, T), T=T, time_unit="W")


# ----------------------------------------------------------------------------- probabilities and expectations
@settings(max_examples=60, deadline=None)
@given(params=params_st, s=customers())
def test_probability_alive_is_a_probability(params: tuple[float, ...], s: CustomerSummary) -> None:
    p = model(params).probability_alive(s)
    assert np.all((p >= 0.0) & (p <= 1.0))
    # P(alive) = 1 exactly when no time has passed since the last purchase (tx == T) ...
    assert np.all(p[s.recency == s.T] == 1.0)
    # ... and P(dead) > 0 otherwise - also at x = 0: unlike BG/NBD, a Pareto/NBD customer may drop out
    # at any time after the first purchase. (P(alive) itself may round to 1.0 when P(dead) < 1e-16.)
    log_dead = kernel._log_alive_dead(np.array(params), s.frequency, s.recency, s.T)[1]
    gap = s.recency < s.T
    assert np.all(np.isfinite(log_dead[gap]) & (log_dead[gap] <= 0.0))


@settings(max_examples=60, deadline=None)
@given(params=params_st, s=customers(), t1=st.floats(0.0, 1e4), dt=st.floats(0.0, 1e4))
def test_expected_purchases_nonnegative_finite_and_nondecreasing(params: tuple[float, ...], s: CustomerSummary,
                                                                 t1: float, dt: float) -> None:
    m = model(params)
    e1 = m.expected_purchases(s, t1)
    e2 = m.expected_purchases(s, t1 + dt)
    assert np.all(np.isfinite(e1)) and np.all(e1 >= 0.0)
    assert np.all(e2 >= e1 * (1.0 - 1e-12))
    new1, new2 = m.expected_purchases_new_customer(t1), m.expected_purchases_new_customer(t1 + dt)
    assert np.isfinite(new1) and 0.0 <= new1 <= new2 * (1.0 + 1e-12)


@settings(max_examples=40, deadline=None)
@given(params=params_st, t=st.floats(0.0, 1e4))
def test_new_customer_is_the_conditional_at_zero(params: tuple[float, ...], t: float) -> None:
    zero = CustomerSummary(frequency=[0], recency=[0.0], T=[0.0], time_unit="W")
    m = model(params)
    assert m.probability_alive(zero)[0] == 1.0
    assert m.expected_purchases(zero, t)[0] == pytest.approx(float(m.expected_purchases_new_customer(t)), rel=1e-13)


@settings(max_examples=25, deadline=None)
@given(r=st.floats(0.05, 5.0), alpha=st.floats(1.0, 50.0), s=st.floats(0.05, 5.0), beta=st.floats(0.5, 50.0),
       x=st.integers(0, 10), T=st.floats(0.0, 60.0), frac=st.floats(0.0, 1.0), t=st.floats(0.0, 10.0))
def test_pmf_sums_to_one_with_the_expected_mean(r: float, alpha: float, s: float, beta: float, x: int, T: float,
                                                frac: float, t: float) -> None:
    params = np.array([r, alpha, s, beta])
    x = x if T * frac > 0 else 0  # a repeat purchase needs recency > 0
    X, TX, TT = np.array([float(x)]), np.array([0.0 if x == 0 else T * frac]), np.array([T])
    n = np.arange(0.0, 800.0)
    pmf = kernel.probability_of_purchases(params, X, TX, TT, n, t)
    assert np.all((pmf >= 0.0) & (pmf <= 1.0))
    assert pmf.sum() == pytest.approx(1.0, abs=1e-9)
    assert (n * pmf).sum() == pytest.approx(kernel.expected_purchases(params, X, TX, TT, t)[0], rel=1e-7, abs=1e-9)


def test_new_customer_distribution_matches_simulation() -> None:
    # Simulate the model's story for customers just acquired: Poisson purchases at rate lambda until an
    # exponential lifetime with rate mu ends; 4-sigma bounds on the PMF, 2% on the mean.
    rng = np.random.default_rng(11)
    r, alpha, s, beta = 0.8, 5.0, 1.5, 8.0
    size, t = 200_000, 20.0
    lam, mu = rng.gamma(r, 1.0 / alpha, size), rng.gamma(s, 1.0 / beta, size)
    X = rng.poisson(lam * np.minimum(rng.exponential(1.0, size) / mu, t))
    params = np.array([r, alpha, s, beta])
    zero = np.zeros(1)
    pmf = kernel.probability_of_purchases(params, zero, zero, zero, np.arange(8.0), t)
    emp = np.bincount(X, minlength=8)[:8] / size
    assert np.all(np.abs(emp - pmf) <= 4.0 * np.sqrt(pmf * (1 - pmf) / size))
    assert X.mean() == pytest.approx(float(kernel.expected_purchases_new(params, np.array(t))), rel=0.02)


@pytest.mark.parametrize("row", [(0.0, 0.0, 38.86), (2.0, 30.43, 38.86), (12.0, 5.0, 40.0), (3.0, 39.0, 39.0)])
@pytest.mark.parametrize("params", [(0.553, 10.578, 0.606, 11.669), (2.0, 3.0, 3.5, 20.0)])
def test_dert_is_the_discounted_sum_of_expected_purchases(params: tuple[float, ...],
                                                          row: tuple[float, float, float]) -> None:
    # DERT = int_0^inf e^(-delta t) dE[X(T, T+t)] = int_0^inf delta e^(-delta t) E[X(T, T+t)] dt.
    p = np.array(params)
    x, tx, T = (np.array([v]) for v in row)
    delta = 0.05

    def integrand(t: float) -> float:
        return delta * math.exp(-delta * t) * float(kernel.expected_purchases(p, x, tx, T, t)[0])

    value, _ = integrate.quad(integrand, 0.0, np.inf, epsabs=1e-13, epsrel=1e-11, limit=200)
    assert kernel.dert(p, x, tx, T, delta)[0] == pytest.approx(value, rel=1e-8)


@settings(max_examples=30, deadline=None)
@given(params=params_st, s=customers(), d1=st.floats(1e-4, 1.0), d2=st.floats(1e-4, 1.0))
def test_dert_is_positive_finite_and_decreasing_in_the_rate(params: tuple[float, ...], s: CustomerSummary,
                                                            d1: float, d2: float) -> None:
    m = model(params)
    lo, hi = sorted((d1, d2))
    a, b = (m.discounted_expected_residual_transactions(s, d) for d in (lo, hi))
    assert np.all(np.isfinite(a)) and np.all(b >= 0.0) and np.all(b <= a * (1.0 + 1e-12))


@settings(max_examples=80, deadline=None)
@given(log_kappa=st.floats(-30.0, 30.0), p=st.floats(1e-3, 1e4), q=st.floats(1e-3, 1e4))
def test_g_identity_g_plus_mirror_is_one(log_kappa: float, p: float, q: float) -> None:
    # P(V > U) + P(U > V) = 1: G(kappa; p, q) + G(1/kappa; q, p) = 1, whichever path evaluates each side.
    a = math.exp(kernel.log_g(np.array([log_kappa]), np.array([p]), np.array([q]))[0][0])
    b = math.exp(kernel.log_g(np.array([-log_kappa]), np.array([q]), np.array([p]))[0][0])
    assert 0.0 <= a <= 1.0 and 0.0 <= b <= 1.0
    assert a + b == pytest.approx(1.0, abs=1e-12)  # the kernel's accuracy against mpmath is ~1e-13


# ----------------------------------------------------------------------------- the extreme-input grid
GRID_PARAMS = [*itertools.product((1e-3, 1e3), repeat=4), (1.0, 1.0, 1.0, 1.0), (0.553, 10.578, 0.606, 11.669)]


def _grid_rows() -> CustomerSummary:
    x, tx, T = [], [], []
    for age in (1e-3, 1.0, 39.0, 1e4):
        x.append(0.0), tx.append(0.0), T.append(age)
        for freq in (1.0, 100.0, 1e4):
            for rec in (1e-9 * age, 0.5 * age, age * (1.0 - 1e-9), age):
                x.append(freq), tx.append(rec), T.append(age)
    return CustomerSummary(frequency=x, recency=tx, T=T, time_unit="W")


@pytest.mark.parametrize("params", GRID_PARAMS)
def test_every_public_function_is_finite_on_the_extreme_grid(params: tuple[float, ...]) -> None:
    # Frequency 0..1e4, T from 1e-3 to 1e4 periods, recency at 0+, T/2, T-, T; parameters 1e-3 and 1e3.
    # (Agreement with mpmath at such points: test_pareto_nbd_correctness.py.)
    s = _grid_rows()
    m = model(params)
    p_alive = m.probability_alive(s)
    assert np.all(np.isfinite(p_alive) & (p_alive >= 0.0) & (p_alive <= 1.0))
    for t in (0.0, 1e-3, 39.0, 1e4):
        e = m.expected_purchases(s, t)
        assert np.all(np.isfinite(e) & (e >= 0.0))
        assert np.isfinite(m.expected_purchases_new_customer(t))
    for n, t in ((0, 39.0), (1, 1e-3), (50, 1e4)):
        pm = m.probability_of_purchases(s, n, t)
        assert np.all(np.isfinite(pm) & (pm >= 0.0) & (pm <= 1.0))
    for delta in (1e-4, 1.0):
        d = m.discounted_expected_residual_transactions(s, delta)
        assert np.all(np.isfinite(d) & (d >= 0.0))
    ll, grad = kernel.loglik(np.array(params), s.frequency, s.recency, s.T)
    assert np.all(np.isfinite(ll)) and np.all(np.isfinite(grad))


# ----------------------------------------------------------------------------- fitting invariances
@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**31 - 1))
def test_fit_on_compressed_rows_equals_fit_on_raw_rows(seed: int) -> None:
    s = simulate(seed, 1500)
    raw = ParetoNBD().fit(s)
    comp = ParetoNBD().fit(s.compress().summary)
    assert comp.fit_info is not None and raw.fit_info is not None
    assert comp.fit_info.n_customers == raw.fit_info.n_customers == 1500
    np.testing.assert_allclose(comp.param_array(), raw.param_array(), rtol=1e-6)
    assert comp.log_likelihood == pytest.approx(raw.log_likelihood, rel=1e-10)


@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**31 - 1))
def test_row_order_and_batching_do_not_matter(seed: int) -> None:
    s = simulate(seed, 1200)
    perm = np.random.default_rng(seed).permutation(len(s))
    shuffled = s.take(perm)
    a = ParetoNBD().fit(s)
    b = ParetoNBD().fit(shuffled)
    np.testing.assert_allclose(a.param_array(), b.param_array(), rtol=1e-9)
    np.testing.assert_allclose(a.expected_purchases(s, 10.0)[perm], b.expected_purchases(shuffled, 10.0),
                               rtol=1e-8)
    halves = [s.take(np.arange(0, 600)), s.take(np.arange(600, 1200))]
    # batching may change the number of series terms summed for a row (a shared stopping rule): 1 ulp
    np.testing.assert_allclose(np.concatenate([a.probability_alive(h) for h in halves]), a.probability_alive(s),
                               rtol=1e-14, atol=0)


def test_time_unit_rescaling_rescales_alpha_and_beta_and_keeps_predictions() -> None:
    weeks = simulate(5, 3000)
    days = weeks.with_time_unit("D")
    fw = ParetoNBD().fit(weeks)
    fd = ParetoNBD().fit(days)
    np.testing.assert_allclose([fd.params.alpha, fd.params.beta], [7.0 * fw.params.alpha, 7.0 * fw.params.beta],
                               rtol=1e-5)
    np.testing.assert_allclose([fd.params.r, fd.params.s], [fw.params.r, fw.params.s], rtol=1e-5)
    np.testing.assert_allclose(fd.probability_alive(days), fw.probability_alive(weeks), rtol=1e-5)
    np.testing.assert_allclose(fd.expected_purchases(days, 70.0), fw.expected_purchases(weeks, 10.0), rtol=1e-5)
    # Discrete rates compound: 1% a week is 1.01 ** (1/7) - 1 a day.
    np.testing.assert_allclose(fd.discounted_expected_residual_transactions(days, 1.01 ** (1 / 7) - 1.0),
                               fw.discounted_expected_residual_transactions(weeks, 0.01), rtol=1e-5)
    # The log-likelihood of the same customers differs by the Jacobian of the time change, x log 7.
    shift = float(weeks.frequency.sum()) * math.log(7.0)
    assert fd.log_likelihood == pytest.approx(fw.log_likelihood - shift, rel=1e-9)


# ----------------------------------------------------------------------------- persistence
@settings(max_examples=50, deadline=None)
@given(params=params_st, unit=st.sampled_from(["D", "W", "M", "Y"]))
def test_json_round_trip_is_exact(params: tuple[float, ...], unit: str) -> None:
    m = model(params, unit)
    assert load_json(m.to_json()) == m


def test_json_round_trip_of_a_fit_keeps_diagnostics() -> None:
    fitted = ParetoNBD().fit(simulate(3, 800))
    back = load_json(fitted.to_json(indent=None))
    assert back == fitted
    assert isinstance(back, FittedParetoNBD) and back.fit_info == fitted.fit_info
