"""MBG/NBD correctness: published CDNOW estimates, lifetimes oracle, scalar and mpmath references, simulation."""

from __future__ import annotations

import math
import warnings

import mpmath
import numpy as np
import pytest
from clvkit.valuation.modified_beta_geo import FittedModifiedBetaGeo, ModifiedBetaGeo, ModifiedBetaGeoParams

from clvkit import CustomerSummary
from clvkit.valuation.models import _mbgnbd as kernel
from clvkit.valuation.models._special import residual_by_quadrature

lifetimes = pytest.importorskip("lifetimes")

PARAMS = np.array([0.525, 6.183, 0.891, 1.614])

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")


@pytest.fixture(scope="module")
def fitted(cdnow_weeks: CustomerSummary) -> FittedModifiedBetaGeo:
    return ModifiedBetaGeo().fit(cdnow_weeks)


@pytest.fixture(scope="module")
def oracle(cdnow_weeks: CustomerSummary):  # type: ignore[no-untyped-def]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return lifetimes.ModifiedBetaGeoFitter().fit(cdnow_weeks.frequency, cdnow_weeks.recency, cdnow_weeks.T)


def _model(params: np.ndarray) -> FittedModifiedBetaGeo:
    return FittedModifiedBetaGeo(params=ModifiedBetaGeoParams(**dict(zip(("r", "alpha", "a", "b"),
                                                                          map(float, params), strict=True))),
                                 time_unit="W")


# ----------------------------------------------------------------------------- published values
def test_reproduces_published_cdnow_estimates(fitted: FittedModifiedBetaGeo, cdnow_weeks: CustomerSummary) -> None:
    # BTYDplus (M. Platzer), mbgnbd.EstimateParameters on the CDNOW sample (39 weeks, weeks), as quoted by
    # lifetimes' test suite ("test_params_out_is_close_to_BTYDplus"): r = 0.525, alpha = 6.183,
    # a = 0.891, b = 1.614. Batislam et al. (2007) fit a Turkish grocery panel, not CDNOW, so no
    # CDNOW estimate is published in the paper itself.
    p = fitted.params
    assert (round(p.r, 3), round(p.alpha, 3), round(p.a, 3), round(p.b, 3)) == (0.525, 6.183, 0.891, 1.614)
    # No published LL: the reported LL must be the plain likelihood (Batislam et al. 2007, written out in
    # _scalar_loglik below) at the reported parameters.
    s = cdnow_weeks
    reference = math.fsum(_scalar_loglik(tuple(fitted.param_array()), x, tx, T)
                          for x, tx, T in zip(s.frequency, s.recency, s.T, strict=True))
    assert fitted.log_likelihood == pytest.approx(reference, rel=1e-12)
    assert fitted.fit_info is not None and fitted.fit_info.converged and fitted.fit_info.n_customers == 2357
    assert fitted.standard_errors is not None and all(v > 0 for v in fitted.standard_errors.values())


def test_same_optimum_and_likelihood_as_lifetimes(fitted: FittedModifiedBetaGeo, oracle, cdnow_weeks) -> None:  # type: ignore[no-untyped-def]
    theirs = oracle.params_[["r", "alpha", "a", "b"]].to_numpy()
    np.testing.assert_allclose(fitted.param_array(), theirs, rtol=1e-3)
    s = cdnow_weeks
    ll_theirs = math.fsum(_scalar_loglik(tuple(theirs), x, tx, T)
                          for x, tx, T in zip(s.frequency, s.recency, s.T, strict=True))
    assert fitted.log_likelihood >= ll_theirs - 1e-6  # ours is at least as good an optimum
    assert fitted.log_likelihood == pytest.approx(ll_theirs, abs=1e-3)


def test_predictions_agree_with_lifetimes(cdnow_weeks: CustomerSummary, oracle) -> None:  # type: ignore[no-untyped-def]
    params = oracle.params_[["r", "alpha", "a", "b"]].to_numpy()
    model = _model(params)
    s = cdnow_weeks
    for t in (1.0, 13.0, 39.0, 52.0):
        np.testing.assert_allclose(
            model.expected_purchases(s, t),
            oracle.conditional_expected_number_of_purchases_up_to_time(t, s.frequency, s.recency, s.T),
            rtol=1e-9, atol=1e-12,
        )
    np.testing.assert_allclose(model.probability_alive(s),
                               oracle.conditional_probability_alive(s.frequency, s.recency, s.T), rtol=1e-12)
    times = np.array([0.5, 1.0, 13.0, 39.0, 78.0])
    np.testing.assert_allclose(model.expected_purchases_new_customer(times),
                               oracle.expected_number_of_purchases_up_to_time(times), rtol=1e-10)
    # lifetimes' probability_of_n_purchases_up_to_time is the unconditional PMF of a new customer.
    z = CustomerSummary(frequency=[0], recency=[0], T=[0], time_unit="W")
    for n in range(6):
        assert model.probability_of_purchases(z, n, 30.0)[0] == pytest.approx(
            float(oracle.probability_of_n_purchases_up_to_time(30.0, n)), rel=1e-9)


def test_probability_alive_below_one_without_repeat_purchases(fitted: FittedModifiedBetaGeo) -> None:
    s = CustomerSummary(frequency=[0, 0], recency=[0, 0], T=[1.0, 38.86], time_unit="W")
    p = fitted.probability_alive(s)
    assert np.all(p < 1.0)
    # At T -> 0 the only evidence is "bought at 0": P(alive) -> P(survived the time-0 dropout) = b/(a+b).
    a, b = fitted.params.a, fitted.params.b
    s0 = CustomerSummary(frequency=[0], recency=[0], T=[0], time_unit="W")
    assert fitted.probability_alive(s0)[0] == pytest.approx(b / (a + b), rel=1e-14)


# ----------------------------------------------------------------------------- kernel vs plain scalar formulas
def _scalar_loglik(p: tuple[float, ...], x: float, tx: float, T: float) -> float:
    r, alpha, a, b = p
    lbeta = lambda u, v: math.lgamma(u) + math.lgamma(v) - math.lgamma(u + v)  # noqa: E731
    head = lbeta(a, b + x + 1) - lbeta(a, b) + math.lgamma(r + x) - math.lgamma(r) + r * math.log(alpha)
    return head + math.log((alpha + T) ** -(r + x) + a / (b + x) * (alpha + tx) ** -(r + x))


def _scalar_hyp2f1(A: float, B: float, C: float, z: float) -> float:
    term, total, k = 1.0, 1.0, 0
    while abs(term) > 1e-17 * abs(total):
        term *= (A + k) * (B + k) / ((C + k) * (k + 1)) * z
        total += term
        k += 1
    return total


def _scalar_expected(p: tuple[float, ...], x: float, tx: float, T: float, t: float) -> float:
    r, alpha, a, b = p
    p_alive = 1.0 / (1.0 + a / (b + x) * ((alpha + T) / (alpha + tx)) ** (r + x))
    z = t / (alpha + T + t)
    bracket = 1.0 - ((alpha + T) / (alpha + T + t)) ** (r + x) * _scalar_hyp2f1(r + x, b + x + 1, a + b + x, z)
    return (a + b + x) / (a - 1.0) * bracket * p_alive


def _scalar_pmf(p: tuple[float, ...], x: float, tx: float, T: float, n: int, t: float) -> float:
    # Direct sum over the dropout purchase j and the Poisson count k, both integrated analytically.
    r, alpha, a, b = p
    p_alive = 1.0 / (1.0 + a / (b + x) * ((alpha + T) / (alpha + tx)) ** (r + x))
    z = t / (alpha + T + t)
    R = r + x
    lb = lambda u, v: math.lgamma(u) + math.lgamma(v) - math.lgamma(u + v)  # noqa: E731

    def nb(k: int) -> float:
        return math.exp(math.lgamma(R + k) - math.lgamma(R) - math.lgamma(k + 1) + R * math.log1p(-z)
                        + (k * math.log(z) if k else 0.0))

    stay = math.exp(lb(a, b + x + 1 + n) - lb(a, b + x + 1)) * nb(n)
    drop = 0.0
    if n > 0:
        tail = 1.0 - sum(nb(k) for k in range(n))
        drop = math.exp(lb(a + 1, b + x + n) - lb(a, b + x + 1)) * tail
    return p_alive * (stay + drop) + (1.0 - p_alive if n == 0 else 0.0)


ROWS = [(0, 0.0, 38.86), (1, 1.71, 38.86), (2, 30.43, 38.86), (7, 20.0, 35.0), (25, 37.9, 38.0), (0, 0.0, 2.0)]


@pytest.mark.parametrize("params", [PARAMS, np.array([2.0, 15.0, 3.5, 0.7]), np.array([0.2, 1.0, 1.7, 8.0])])
def test_kernel_equals_scalar_reference(params: np.ndarray) -> None:
    x = np.array([r[0] for r in ROWS], dtype=float)
    tx = np.array([r[1] for r in ROWS])
    T = np.array([r[2] for r in ROWS])
    p = tuple(map(float, params))
    ll, _ = kernel.loglik(params, x, tx, T)
    for i, (xi, txi, Ti) in enumerate(ROWS):
        assert ll[i] == pytest.approx(_scalar_loglik(p, xi, txi, Ti), rel=1e-12, abs=1e-12)
        for t in (0.5, 10.0, 39.0):
            e = kernel.expected_purchases(params, x[i:i + 1], tx[i:i + 1], T[i:i + 1], t)[0]
            assert e == pytest.approx(_scalar_expected(p, xi, txi, Ti, t), rel=1e-10)
        for n in (0, 1, 3):
            pm = kernel.probability_of_purchases(params, x[i:i + 1], tx[i:i + 1], T[i:i + 1], np.array([n]), 13.0)[0]
            assert pm == pytest.approx(_scalar_pmf(p, xi, txi, Ti, n, 13.0), rel=1e-9, abs=1e-15)


def test_gradient_matches_central_differences(cdnow_weeks: CustomerSummary) -> None:
    s = cdnow_weeks
    for params in (PARAMS, np.array([1.3, 2.0, 2.5, 0.4])):
        _, grad = kernel.loglik(params, s.frequency, s.recency, s.T)
        for j in range(4):
            h = 1e-6 * params[j]
            up, dn = params.copy(), params.copy()
            up[j] += h
            dn[j] -= h
            num = (kernel.loglik(up, s.frequency, s.recency, s.T)[0]
                   - kernel.loglik(dn, s.frequency, s.recency, s.T)[0]) / (2 * h)
            np.testing.assert_allclose(grad[:, j], num, rtol=1e-6, atol=1e-7)


def test_tabulated_and_direct_paths_agree() -> None:
    # Frequencies are gathered from a table over 0..max(x) when they are small whole numbers; the
    # direct path (huge x) must give the same numbers.
    x = np.array([0.0, 3.0, 7.0])
    tx, T = np.array([0.0, 10.0, 30.0]), np.array([40.0, 40.0, 40.0])
    ll_tab, g_tab = kernel.loglik(PARAMS, x, tx, T)
    big = np.array([0.0, 3.0, 7.0, 1e9])
    ll_dir, g_dir = kernel.loglik(PARAMS, big, np.append(tx, 39.5), np.append(T, 40.5))
    np.testing.assert_allclose(ll_tab, ll_dir[:3], rtol=1e-14)
    np.testing.assert_allclose(g_tab, g_dir[:3], rtol=1e-13)
    # Whole-numbered ages and recencies (days) are tabulated as well.
    p = (0.525, 6.183 * 7, 0.891, 1.614)
    days_x, days_tx, days_T = np.array([0.0, 1.0, 4.0, 2.0]), np.array([0.0, 12.0, 200.0, 364.0]), np.array(
        [1.0, 300.0, 365.0, 364.0])
    ll_days, _ = kernel.loglik(np.array(p), days_x, days_tx, days_T)
    for i in range(4):
        assert ll_days[i] == pytest.approx(_scalar_loglik(p, days_x[i], days_tx[i], days_T[i]), rel=1e-13)


def test_grid_of_distinct_ages_gives_the_elementwise_result() -> None:
    # With a scalar horizon the hypergeometric factor is computed once per distinct (x, T) and gathered:
    # whole-numbered ages (days) by a dense index, other ages by a sorted search.
    rng = np.random.default_rng(5)
    x = rng.integers(0, 6, 5000).astype(float)
    T_days = rng.integers(1, 60, 5000).astype(float)
    tx = np.where(x > 0, np.floor(T_days * rng.random(5000)), 0.0)
    for T, recency in ((T_days, tx), (T_days / 7.0, tx / 7.0)):
        grid = kernel._residual_on_grid(*PARAMS, x, T, np.asarray(13.0))
        assert grid is not None
        np.testing.assert_allclose(grid, kernel._residual(*PARAMS, x, T, np.asarray(13.0)), rtol=1e-14)
        e = kernel.expected_purchases(PARAMS, x, recency, T, 13.0)
        np.testing.assert_allclose(e[:100], kernel.expected_purchases(PARAMS, x[:100], recency[:100], T[:100], 13.0),
                                   rtol=1e-14)


@pytest.mark.parametrize("params", [(0.5, 6.0, 2.5, 1.6), (0.5, 6.0, 0.7, 3.0), (5.0, 6.0, 0.7, 1.6)])
def test_each_quadrature_form_equals_the_hypergeometric_form(params: tuple[float, ...]) -> None:
    # The three Beta-integral forms used where hyp2f1 fails (a > 1; a <= 1 < a + b - r ...; otherwise
    # the posterior mean over p) must equal residual_factor where hyp2f1 is fine.
    r, alpha, a, b = params
    x = np.array([0.0, 1.0, 4.0, 30.0])
    T = np.array([0.0, 10.0, 38.0, 39.0])
    t_scaled = 39.0 / (alpha + T)
    quad = residual_by_quadrature(a, b + 1.0, r, x, t_scaled)  # MBG/NBD: p ~ Beta(a, b+x+1)
    np.testing.assert_allclose(quad, kernel._residual(r, alpha, a, b, x, T, np.asarray(39.0)), rtol=1e-9)


# ----------------------------------------------------------------------------- pmf consistency
@pytest.mark.parametrize("row", ROWS)
def test_pmf_sums_to_one_and_has_the_expected_mean(row: tuple[float, float, float]) -> None:
    x, tx, T = (np.array([v], dtype=float) for v in row)
    n = np.arange(0, 400, dtype=float)
    for t in (1.0, 39.0):
        pmf = kernel.probability_of_purchases(PARAMS, x, tx, T, n, t)
        assert pmf.sum() == pytest.approx(1.0, abs=1e-10)
        assert (n * pmf).sum() == pytest.approx(kernel.expected_purchases(PARAMS, x, tx, T, t)[0], rel=1e-8)


def test_new_customer_distribution_matches_simulation() -> None:
    # Simulate the model's story for customers just acquired: a dropout chance right after the first
    # purchase, then Poisson purchases with a dropout chance after each. 3-sigma bounds.
    rng = np.random.default_rng(11)
    r, alpha, a, b = 0.8, 5.0, 1.5, 2.5
    size, t = 200_000, 20.0
    lam, p = rng.gamma(r, 1.0 / alpha, size), rng.beta(a, b, size)
    X = np.minimum(rng.poisson(lam * t), rng.geometric(p) - 1)
    params = np.array([r, alpha, a, b])
    zero = np.zeros(1)
    pmf = kernel.probability_of_purchases(params, zero, zero, zero, np.arange(8.0), t)
    emp = np.bincount(X, minlength=8)[:8] / size
    assert np.all(np.abs(emp - pmf) <= 4.0 * np.sqrt(pmf * (1 - pmf) / size))
    assert X.mean() == pytest.approx(kernel.expected_purchases_new(params, np.array(t)), rel=0.02)


# ----------------------------------------------------------------------------- extreme inputs vs mpmath
# Reference values from mpmath at 50 digits, straight from the untransformed formulas:
#   mp.mp.dps = 50
#   p_alive = 1 / (1 + a/(b+x) * ((alpha+T)/(alpha+tx))**(r+x))
#   E = (a+b+x)/(a-1) * (1 - ((alpha+T)/(alpha+T+t))**(r+x)
#                        * mp.hyp2f1(r+x, b+x+1, a+b+x, t/(alpha+T+t), maxterms=10**6)) * p_alive
#   ll = log B(a,b+x+1) - log B(a,b) + loggamma(r+x) - loggamma(r) + r log(alpha)
#        + log((alpha+T)**-(r+x) + a/(b+x) (alpha+tx)**-(r+x))
def _mp_reference(p: tuple[float, ...], x: float, tx: float, T: float, t: float) -> tuple[float, float, float]:
    mp = mpmath.mp
    with mpmath.workdps(50):
        r, alpha, a, b, x_, tx_, T_, t_ = (mp.mpf(v) for v in (*p, x, tx, T, t))
        p_alive = 1 / (1 + a / (b + x_) * ((alpha + T_) / (alpha + tx_)) ** (r + x_))
        z = t_ / (alpha + T_ + t_)
        F = mp.hyp2f1(r + x_, b + x_ + 1, a + b + x_, z, maxterms=10**6)
        E = (a + b + x_) / (a - 1) * (1 - ((alpha + T_) / (alpha + T_ + t_)) ** (r + x_) * F) * p_alive
        ll = (mp.log(mp.beta(a, b + x_ + 1)) - mp.log(mp.beta(a, b)) + mp.loggamma(r + x_) - mp.loggamma(r)
              + r * mp.log(alpha) + mp.log((alpha + T_) ** (-(r + x_)) + a / (b + x_) * (alpha + tx_) ** (-(r + x_))))
        return float(p_alive), float(E), float(ll)


EXTREMES = [
    # (r, alpha, a, b), (x, tx, T), t
    ((1e-3, 1e-3, 1e-3, 1e-3), (1e4, 9e3, 1e4), 1e4),
    ((1e3, 1e3, 1e3, 1e3), (1e4, 1e4, 1e4), 1e4),
    ((1e3, 1e-3, 1e3, 1e-3), (0.0, 0.0, 1e4), 1.0),
    ((1e-3, 1e3, 1e-3, 1e3), (1e4, 5.0, 1e4), 39.0),
    ((0.057, 1.02e-3, 693.0, 0.0617), (100.0, 0.89, 1.0), 39.0),  # scipy hyp2f1 overflows here
    ((20.6, 2.93e-3, 158.0, 181.0), (1.0, 0.136, 1.0), 1e4),  # ... and here
    ((1.0, 1.0, 0.5, 370.0), (0.0, 0.0, 0.0), 423.0),  # hyp2f1 fails with a < 1: the Beta(r+x, a+b-r) rule
    ((0.672, 13.4, 0.108, 365.7), (0.0, 0.0, 0.0), 1e4),  # ... and here
    ((0.525, 6.183, 1.0 + 1e-9, 1.614), (3.0, 20.0, 38.0), 52.0),  # a at the removable pole
    ((0.525, 6.183, 0.891, 1.614), (1e4, 1e4, 1e4), 1e4),
]


@pytest.mark.parametrize(("params", "row", "t"), EXTREMES)
def test_extreme_inputs_are_finite_and_match_mpmath(params: tuple[float, ...], row: tuple[float, ...], t: float
                                                    ) -> None:
    x, tx, T = (np.array([v]) for v in row)
    p = np.array(params)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow/invalid warnings either
        pa = kernel.probability_alive(p, x, tx, T)[0]
        e = kernel.expected_purchases(p, x, tx, T, t)[0]
        ll, grad = kernel.loglik(p, x, tx, T)
    assert np.isfinite([pa, e, ll[0]]).all() and np.isfinite(grad).all()
    pa_ref, e_ref, ll_ref = _mp_reference(params, *row, t)
    assert pa == pytest.approx(pa_ref, rel=1e-10, abs=1e-300)
    assert e == pytest.approx(e_ref, rel=1e-7)
    assert ll[0] == pytest.approx(ll_ref, rel=1e-10, abs=1e-10)
