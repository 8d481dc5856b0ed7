"""MBG/NBD properties (Hypothesis): probabilities, monotonicity, PMF mass, compression, order, JSON."""

from __future__ import annotations

import numpy as np
import pytest
from clvkit.valuation.modified_beta_geo import FittedModifiedBetaGeo, ModifiedBetaGeo, ModifiedBetaGeoParams
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clvkit import CustomerSummary, load_json
from clvkit.valuation.models import _mbgnbd as kernel

positive = st.floats(min_value=1e-3, max_value=1e3, allow_nan=False, allow_infinity=False)
params_st = st.tuples(positive, positive, positive, positive)

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")


@st.composite
def customers(draw: st.DrawFn, max_size: int = 8) -> CustomerSummary:
    size = draw(st.integers(1, max_size))
    x = draw(st.lists(st.integers(0, 10_000), min_size=size, max_size=size))
    T = draw(st.lists(st.floats(0.0, 1e4, allow_nan=False), min_size=size, max_size=size))
    frac = draw(st.lists(st.floats(0.0, 1.0), min_size=size, max_size=size))
    tx = [0.0 if xi == 0 else Ti * fi for xi, Ti, fi in zip(x, T, frac, strict=True)]
    x = [xi if ti > 0 else 0 for xi, ti in zip(x, tx, strict=True)]  # a repeat purchase needs recency > 0
    return CustomerSummary(frequency=x, recency=tx, T=T, time_unit="W")


def simulate(seed: int, size: int, params: tuple[float, float, float, float] = (0.5, 6.0, 0.9, 1.6)
             ) -> CustomerSummary:
    """Customers drawn from the MBG/NBD, observed 30-40 weeks, times rounded to days (so rows repeat)."""
    rng = np.random.default_rng(seed)
    r, alpha, a, b = params
    T = np.round(rng.uniform(30.0, 40.0, size) * 7.0) / 7.0
    lam, p = rng.gamma(r, 1.0 / alpha, size), rng.beta(a, b, size)
    N, J = rng.poisson(lam * T), rng.geometric(p) - 1
    x = np.minimum(N, J)
    tx = np.where(x > 0, np.maximum(np.round(T * rng.beta(np.maximum(x, 1), N - x + 1) * 7.0), 1.0) / 7.0, 0.0)
    return CustomerSummary(frequency=x, recency=np.minimum(tx, T), T=T, time_unit="W")


def model(params: tuple[float, ...]) -> FittedModifiedBetaGeo:
    return FittedModifiedBetaGeo(params=ModifiedBetaGeoParams(r=params[0], alpha=params[1], a=params[2],
                                                              b=params[3]), time_unit="W")


@settings(max_examples=60, deadline=None)
@given(params=params_st, s=customers())
def test_probability_alive_is_a_probability(params: tuple[float, ...], s: CustomerSummary) -> None:
    p = model(params).probability_alive(s)
    assert np.all((p >= 0.0) & (p <= 1.0))
    # The customer may have dropped out right after the first purchase, so P(alive) < 1 even at x = 0.
    assert np.all(p[s.frequency == 0] < 1.0)


@settings(max_examples=60, deadline=None)
@given(params=params_st, s=customers(), t1=st.floats(0.0, 1e4), dt=st.floats(0.0, 1e4))
def test_expected_purchases_nonnegative_finite_and_nondecreasing(params: tuple[float, ...], s: CustomerSummary,
                                                                 t1: float, dt: float) -> None:
    m = model(params)
    e1 = m.expected_purchases(s, t1)
    e2 = m.expected_purchases(s, t1 + dt)
    assert np.all(np.isfinite(e1)) and np.all(e1 >= 0.0)
    assert np.all(e2 >= e1 * (1.0 - 1e-9) - 1e-300)


@settings(max_examples=40, deadline=None)
@given(r=st.floats(0.05, 5.0), alpha=st.floats(0.5, 50.0), a=st.floats(0.05, 20.0), b=st.floats(0.05, 20.0),
       x=st.integers(0, 20), T=st.floats(0.0, 60.0), frac=st.floats(0.0, 1.0), t=st.floats(0.0, 20.0))
def test_pmf_sums_to_one_with_the_expected_mean(r: float, alpha: float, a: float, b: float, x: int, T: float,
                                                frac: float, t: float) -> None:
    params = np.array([r, alpha, a, b])
    X, TX, TT = np.array([float(x)]), np.array([0.0 if x == 0 else T * frac]), np.array([T])
    n = np.arange(0.0, 3000.0)
    pmf = kernel.probability_of_purchases(params, X, TX, TT, n, t)
    assert np.all(pmf >= 0.0)
    assert pmf.sum() == pytest.approx(1.0, abs=1e-8)
    assert (n * pmf).sum() == pytest.approx(kernel.expected_purchases(params, X, TX, TT, t)[0], rel=1e-6, abs=1e-9)


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**31 - 1))
def test_fit_on_compressed_rows_equals_fit_on_raw_rows(seed: int) -> None:
    s = simulate(seed, 1500)
    raw = ModifiedBetaGeo().fit(s)
    comp = ModifiedBetaGeo().fit(s.compress().summary)
    assert comp.fit_info is not None and raw.fit_info is not None
    assert comp.fit_info.n_customers == raw.fit_info.n_customers == 1500
    np.testing.assert_allclose(comp.param_array(), raw.param_array(), rtol=1e-6)
    assert comp.log_likelihood == pytest.approx(raw.log_likelihood, rel=1e-10)


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**31 - 1))
def test_row_order_does_not_matter(seed: int) -> None:
    s = simulate(seed, 1200)
    perm = np.random.default_rng(seed).permutation(len(s))
    shuffled = s.take(perm)
    a = ModifiedBetaGeo().fit(s)
    b = ModifiedBetaGeo().fit(shuffled)
    np.testing.assert_allclose(a.param_array(), b.param_array(), rtol=1e-9)
    np.testing.assert_allclose(a.expected_purchases(s, 10.0)[perm], b.expected_purchases(shuffled, 10.0),
                               rtol=1e-8)


def test_time_unit_rescaling_rescales_alpha_and_keeps_predictions() -> None:
    weeks = simulate(5, 3000)
    days = weeks.with_time_unit("D")
    fw = ModifiedBetaGeo().fit(weeks)
    fd = ModifiedBetaGeo().fit(days)
    np.testing.assert_allclose(fd.params.alpha, 7.0 * fw.params.alpha, rtol=1e-5)
    np.testing.assert_allclose([fd.params.r, fd.params.a, fd.params.b], [fw.params.r, fw.params.a, fw.params.b],
                               rtol=1e-5)
    np.testing.assert_allclose(fd.expected_purchases(days, 70.0), fw.expected_purchases(weeks, 10.0), rtol=1e-5)


@settings(max_examples=50, deadline=None)
@given(params=params_st, unit=st.sampled_from(["D", "W", "M", "Y"]))
def test_json_round_trip_is_exact(params: tuple[float, ...], unit: str) -> None:
    m = FittedModifiedBetaGeo(params=ModifiedBetaGeoParams(r=params[0], alpha=params[1], a=params[2], b=params[3]),
                              time_unit=unit)
    assert load_json(m.to_json()) == m


def test_json_round_trip_of_a_fit_keeps_diagnostics() -> None:
    fitted = ModifiedBetaGeo().fit(simulate(3, 800))
    back = load_json(fitted.to_json(indent=None))
    assert back == fitted
    assert isinstance(back, FittedModifiedBetaGeo) and back.fit_info == fitted.fit_info
