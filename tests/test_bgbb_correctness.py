"""BG/BB correctness: published donations results, lifetimes oracle, scalar and mpmath references, simulation."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
from clvkit.valuation.beta_geo_beta_binom import BetaGeoBetaBinom, BetaGeoBetaBinomParams, FittedBetaGeoBetaBinom
from conftest import fit_oracle

from clvkit import ConvergenceError, CustomerSummary
from clvkit.valuation.models import _bgbb as kernel

lifetimes = pytest.importorskip("lifetimes")
datasets = pytest.importorskip("lifetimes.datasets")

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")

PUBLISHED = np.array([1.204, 0.750, 0.657, 2.783])


@pytest.fixture(scope="module")
def donations() -> CustomerSummary:
    """The donations data of Fader, Hardie & Shang (2010): 11,104 first-time donors of 1995, six annual
    opportunities 1996-2001; 22 distinct (x, t_x) patterns with counts, from lifetimes' copy."""
    df = datasets.load_donations()
    return CustomerSummary(frequency=df["frequency"].to_numpy(float), recency=df["recency"].to_numpy(float),
                           T=df["periods"].to_numpy(float), weights=df["weights"].to_numpy(float), time_unit="Y")


@pytest.fixture(scope="module")
def fitted(donations: CustomerSummary) -> FittedBetaGeoBetaBinom:
    return BetaGeoBetaBinom().fit(donations)


@pytest.fixture(scope="module")
def oracle(donations: CustomerSummary):  # type: ignore[no-untyped-def]
    fitter, d = lifetimes.BetaGeoBetaBinomFitter(), donations
    return fit_oracle(lambda: fitter.fit(d.frequency, d.recency, d.T, weights=d.weights))


def _model(params: np.ndarray) -> FittedBetaGeoBetaBinom:
    names = ("alpha", "beta", "gamma", "delta")
    return FittedBetaGeoBetaBinom(params=BetaGeoBetaBinomParams(**dict(zip(names, map(float, params), strict=True))),
                                  time_unit="Y")


# ----------------------------------------------------------------------------- published values
def test_reproduces_published_estimates_and_log_likelihood(fitted: FittedBetaGeoBetaBinom) -> None:
    # Fader, Hardie & Shang (2010), Marketing Science 29(6), the donations application: alpha = 1.204,
    # beta = 0.750, gamma = 0.657, delta = 2.783, LL = -33,225.6 on the 11,104 donors.
    np.testing.assert_array_equal(np.round(fitted.param_array(), 3), PUBLISHED)
    assert round(fitted.log_likelihood, 1) == -33225.6
    assert fitted.fit_info is not None and fitted.fit_info.converged
    assert fitted.fit_info.n_customers == 11104 and fitted.fit_info.n_rows == 22


def test_reproduces_published_probability_alive(fitted: FittedBetaGeoBetaBinom) -> None:
    # FHS (2010), Table 6, P(alive in 2002) by recency and frequency (values as quoted, to two
    # decimals, in lifetimes' test "test_prob_alive_is_close_to_Hardie_paper_table_6"): last
    # donation 1995 with x = 0 -> 0.11; 1999 with x = 2 -> 0.59; 2001 with x = 6 -> 0.93.
    s = CustomerSummary(frequency=[0, 2, 6], recency=[0, 4, 6], T=[6, 6, 6], time_unit="Y")
    np.testing.assert_array_equal(np.round(fitted.probability_alive(s), 2), [0.11, 0.59, 0.93])


def test_reproduces_hardies_spreadsheet_totals(fitted: FittedBetaGeoBetaBinom, donations: CustomerSummary) -> None:
    # B. Hardie's BG/BB Excel implementation (brucehardie.com/notes/010, BGBB_2011-01-20.xlsx), as quoted
    # in lifetimes' tests: "Conditional Expectations (II)" total expected donations 2002-2006 = 12,884.2
    # (sum of column F); "In-Sample Fit" expected number of donors with 0 and with 6 repeat donations in
    # 1996-2001 = 3,454.9 and 1,253.1.
    total = float(donations.weights @ fitted.expected_purchases(donations, 5))
    assert round(total, 1) == 12884.2
    new = CustomerSummary(frequency=[0], recency=[0], T=[0], time_unit="Y")
    counts = [11104 * fitted.probability_of_purchases(new, k, 6)[0] for k in (0, 6)]
    assert [round(c, 1) for c in counts] == [3454.9, 1253.1]


# ----------------------------------------------------------------------------- lifetimes oracle
def test_same_optimum_as_lifetimes(fitted: FittedBetaGeoBetaBinom, oracle) -> None:  # type: ignore[no-untyped-def]
    theirs = oracle.params_[["alpha", "beta", "gamma", "delta"]].to_numpy()
    np.testing.assert_allclose(fitted.param_array(), theirs, rtol=1e-3)
    assert fitted.log_likelihood == pytest.approx(-oracle._negative_log_likelihood_ * 11104, abs=1e-3)


def test_predictions_agree_with_lifetimes(donations: CustomerSummary, oracle) -> None:  # type: ignore[no-untyped-def]
    model = _model(oracle.params_[["alpha", "beta", "gamma", "delta"]].to_numpy())
    s = donations
    np.testing.assert_allclose(model.probability_alive(s),
                               oracle.conditional_probability_alive(1, s.frequency, s.recency, s.T), rtol=1e-10)
    for t in (1, 5, 10, 50):
        np.testing.assert_allclose(
            model.expected_purchases(s, t),
            oracle.conditional_expected_number_of_purchases_up_to_time(t, s.frequency, s.recency, s.T),
            rtol=1e-9)
    table = oracle.expected_number_of_transactions_in_first_n_periods(6).to_numpy().ravel()
    new = CustomerSummary(frequency=[0], recency=[0], T=[0], time_unit="Y")
    ours = [11104 * model.probability_of_purchases(new, k, 6)[0] for k in range(7)]
    np.testing.assert_allclose(ours, table, rtol=1e-9)


# ----------------------------------------------------------------------------- kernel vs plain scalar formulas
def _lb(u: float, v: float) -> float:
    return math.lgamma(u) + math.lgamma(v) - math.lgamma(u + v)


def _scalar_likelihood(p: tuple[float, ...], x: int, tx: int, n: int) -> float:
    a, b, g, d = p
    L = math.exp(_lb(a + x, b + n - x) - _lb(a, b) + _lb(g, d + n) - _lb(g, d))
    for i in range(n - tx):
        L += math.exp(_lb(a + x, b + tx - x + i) - _lb(a, b) + _lb(g + 1, d + tx + i) - _lb(g, d))
    return L


def _scalar_alive_at(p: tuple[float, ...], x: int, tx: int, n: int, m: int) -> float:
    """P(alive at opportunity n + m | history), straight from Bayes' rule."""
    a, b, g, d = p
    return math.exp(_lb(a + x, b + n - x) - _lb(a, b) + _lb(g, d + n + m) - _lb(g, d)) / _scalar_likelihood(p, x, tx, n)


def _scalar_expected(p: tuple[float, ...], x: int, tx: int, n: int, t: int) -> float:
    # Sum over the future opportunities of P(alive there) * E[p | alive, history]: no closed form used.
    a, b = p[0], p[1]
    return sum(_scalar_alive_at(p, x, tx, n, s) for s in range(1, t + 1)) * (a + x) / (a + b + n)


def _scalar_dert(p: tuple[float, ...], x: int, tx: int, n: int, d: float) -> float:
    a, b = p[0], p[1]
    total, s = 0.0, 1
    while True:
        term = _scalar_alive_at(p, x, tx, n, s) * (a + x) / (a + b + n) / (1 + d) ** s
        total += term
        if term < 1e-17 * total:
            return total
        s += 1


ROWS = [(0, 0, 6), (1, 1, 6), (2, 4, 6), (6, 6, 6), (3, 7, 12), (0, 0, 1), (5, 20, 40)]


@pytest.mark.parametrize("params", [PUBLISHED, np.array([0.3, 4.0, 2.5, 0.8]), np.array([5.0, 0.2, 1.0, 9.0])])
def test_kernel_equals_scalar_reference(params: np.ndarray) -> None:
    x, tx, n = (np.array([r[j] for r in ROWS], dtype=float) for j in range(3))
    p = tuple(map(float, params))
    ll = kernel.log_likelihood(params, x, tx, n)
    pa = kernel.probability_alive(params, x, tx, n)
    for i, (xi, txi, ni) in enumerate(ROWS):
        assert ll[i] == pytest.approx(math.log(_scalar_likelihood(p, xi, txi, ni)), rel=1e-12, abs=1e-13)
        assert pa[i] == pytest.approx(_scalar_alive_at(p, xi, txi, ni, 1), rel=1e-12)
        for t in (1, 5, 30):
            e = kernel.expected_purchases(params, x[i:i + 1], tx[i:i + 1], n[i:i + 1], float(t))[0]
            assert e == pytest.approx(_scalar_expected(p, xi, txi, ni, t), rel=1e-11)
        for d in (0.1, 0.5):
            assert kernel.dert(params, x[i:i + 1], tx[i:i + 1], n[i:i + 1], d)[0] == pytest.approx(
                _scalar_dert(p, xi, txi, ni, d), rel=1e-11)


def test_repeated_rows_are_computed_once_with_the_same_results() -> None:
    # Batches of >= 256 whole-numbered rows are grouped into distinct rows and gathered back; the
    # results must equal the row-by-row ones exactly enough, in the caller's order.
    rng = np.random.default_rng(3)
    n = rng.integers(1, 12, 3000).astype(float)
    tx = np.floor(rng.random(3000) * (n + 1))
    x = np.where(tx > 0, np.ceil(rng.random(3000) * tx), 0.0)
    t = rng.integers(0, 8, 3000).astype(float)
    k = np.minimum(rng.integers(0, 4, 3000), t).astype(float)
    assert kernel._integer_groups([x, tx, n]) is not None
    ll, grad = kernel.loglik(PUBLISHED, x, tx, n)
    head = slice(0, 200)  # below the grouping threshold: computed row by row
    ll_s, grad_s = kernel.loglik(PUBLISHED, x[head], tx[head], n[head])
    np.testing.assert_allclose(ll[head], ll_s, rtol=1e-14)
    np.testing.assert_allclose(grad[head], grad_s, rtol=1e-13)
    np.testing.assert_allclose(kernel.probability_alive(PUBLISHED, x, tx, n)[head],
                               kernel.probability_alive(PUBLISHED, x[head], tx[head], n[head]), rtol=1e-13)
    np.testing.assert_allclose(kernel.expected_purchases(PUBLISHED, x, tx, n, t)[head],
                               kernel.expected_purchases(PUBLISHED, x[head], tx[head], n[head], t[head]), rtol=1e-13)
    np.testing.assert_allclose(kernel.dert(PUBLISHED, x, tx, n, 0.1)[head],
                               kernel.dert(PUBLISHED, x[head], tx[head], n[head], 0.1), rtol=1e-13)
    pmf = kernel.probability_of_purchases(PUBLISHED, x, tx, n, k, t)
    np.testing.assert_allclose(pmf[head], kernel.probability_of_purchases(PUBLISHED, x[head], tx[head], n[head],
                                                                          k[head], t[head]), rtol=1e-12)


def test_loglik_with_and_without_gradient_agree() -> None:
    x, tx, n = (np.array([r[j] for r in ROWS], dtype=float) for j in range(3))
    ll, _ = kernel.loglik(PUBLISHED, x, tx, n)
    np.testing.assert_array_equal(ll, kernel.log_likelihood(PUBLISHED, x, tx, n))


def test_gradient_matches_central_differences(donations: CustomerSummary) -> None:
    x = np.concatenate([donations.frequency, [3.0, 0.0, 40.0]])
    tx = np.concatenate([donations.recency, [9.0, 0.0, 90.0]])
    n = np.concatenate([donations.T, [30.0, 50.0, 100.0]])
    for params in (PUBLISHED, np.array([0.3, 4.0, 2.5, 0.8])):
        _, grad = kernel.loglik(params, x, tx, n)
        for j in range(4):
            h = 1e-6 * params[j]
            up, dn = params.copy(), params.copy()
            up[j] += h
            dn[j] -= h
            num = (kernel.log_likelihood(up, x, tx, n) - kernel.log_likelihood(dn, x, tx, n)) / (2 * h)
            np.testing.assert_allclose(grad[:, j], num, rtol=1e-6, atol=1e-8)


def test_dert_equals_direct_sum_of_discounted_expected_transactions() -> None:
    # DERT(d) = sum_s [E X(n, n+s) - E X(n, n+s-1)] / (1+d)^s, summed far enough for the tail to vanish.
    x, tx, n = np.array([0.0, 2.0, 6.0]), np.array([0.0, 4.0, 6.0]), np.array([6.0, 6.0, 6.0])
    s = np.arange(0.0, 4001.0)
    cumulative = np.stack([kernel.expected_purchases(PUBLISHED, x[i:i + 1], tx[i:i + 1], n[i:i + 1], s)
                           for i in range(3)])
    per_period = np.diff(cumulative, axis=1)
    for d in (0.1, 0.03):
        direct = per_period @ (1.0 + d) ** -s[1:]
        np.testing.assert_allclose(kernel.dert(PUBLISHED, x, tx, n, d), direct, rtol=1e-10)


def test_undiscounted_dert_is_the_limit_of_expected_purchases(monkeypatch: pytest.MonkeyPatch) -> None:
    params = np.array([1.2, 0.75, 2.5, 2.8])  # gamma > 1: finite expected lifetime
    x, tx, n = np.array([2.0]), np.array([4.0]), np.array([6.0])
    limit = kernel.expected_purchases(params, x, tx, n, 1e12)[0]
    assert kernel.dert(params, x, tx, n, 0.0)[0] == pytest.approx(limit, rel=1e-6)
    # Continuity at d -> 0: DERT(d) = DERT(0) - O(d E[residual lifetime]), a few 1e-5 here.
    assert kernel.dert(params, x, tx, n, 1e-6)[0] == pytest.approx(limit, rel=1e-4)
    # The continued fraction needs ~15/sqrt(d) steps; past its step limit the kernel refuses to guess.
    monkeypatch.setattr(kernel, "_CF_MAX_ITER", 100)
    with pytest.raises(ConvergenceError, match="discount rate"):
        kernel.dert(PUBLISHED, x, tx, n, 1e-6)


def _mp_survival_sum(gamma: float, delta: float, n: int, t: int) -> float:
    """H(t) = sum_{s=1}^t B(gamma, delta+n+s)/B(gamma, delta+n+1) in mpmath: the telescoped closed form
    (u(n) - u(n+t))/(gamma-1) with u(m) = Gamma(delta+m+1)/Gamma(gamma+delta+m) at 60 digits, which
    leaves ~50 exact digits even for gamma - 1 = 1e-10; at gamma = 1 exactly the sum of
    (delta+n+1)/(delta+n+s) is a digamma difference."""
    with mpmath.workdps(60):
        g, d = mpmath.mpf(gamma), mpmath.mpf(delta)
        if g == 1:
            return float((d + n + 1) * (mpmath.digamma(d + n + t + 1) - mpmath.digamma(d + n + 1)))

        def log_u(m: int) -> mpmath.mpf:
            return mpmath.loggamma(d + m + 1) - mpmath.loggamma(g + d + m)

        return float((g + d + n) * (1 - mpmath.exp(log_u(n + t) - log_u(n))) / (g - 1))


@pytest.mark.parametrize("gamma", [1.0, 1.0 + 1e-10, 1.0 - 1e-7, 1.04, 1.06, 0.5, 7.0])
def test_survival_sum_branches_agree_with_mpmath(gamma: float) -> None:
    # Covers the term-by-term branch (t <= 256), the closed form (t > 256) with its Taylor series in
    # gamma - 1 (|gamma - 1| < 0.05) and with log-gamma differences, and the removable pole gamma = 1.
    delta = 2.5
    n = np.array([0.0, 6.0, 1000.0])
    for t in (1.0, 255.0, 256.0, 257.0, 3000.0):
        H = kernel.survival_sum(gamma, delta, n, np.full(3, t))
        ref = [_mp_survival_sum(gamma, delta, int(ni), int(t)) for ni in n]
        np.testing.assert_allclose(H, ref, rtol=1e-10)


def test_new_customer_distribution_matches_simulation() -> None:
    # The model's story: alive opportunities ~ shifted geometric(theta), transactions ~ Binomial(alive, p).
    rng = np.random.default_rng(7)
    params = (1.2, 0.75, 0.66, 2.8)
    size, n = 200_000, 6
    p, theta = rng.beta(params[0], params[1], size), rng.beta(params[2], params[3], size)
    X = rng.binomial(np.minimum(rng.geometric(theta) - 1, n), p)
    zero = np.zeros(1)
    pmf = kernel.probability_of_purchases(np.array(params), zero, zero, zero, np.arange(7.0), np.array([6.0]))
    emp = np.bincount(X, minlength=7) / size
    assert np.all(np.abs(emp - pmf) <= 4.0 * np.sqrt(pmf * (1 - pmf) / size))
    assert kernel.expected_purchases_new(np.array(params), 6.0) == pytest.approx(X.mean(), rel=0.01)


# ----------------------------------------------------------------------------- extreme inputs vs mpmath
# References at 40 digits straight from the paper's formulas (eqs. 5, 11, 13, 14):
#   L  = B(a+x, b+n-x)/B(a,b) B(g, d+n)/B(g,d) + fsum(B(a+x, b+tx-x+i)/B(a,b) B(g+1, d+tx+i)/B(g,d), i < n-tx)
#        (the terms of the sum generated by their exact ratio, term_{i+1}/term_i =
#        (b+tx-x+i)/(a+b+tx+i) * (d+tx+i)/(g+d+tx+i+1))
#   pa = B(a+x, b+n-x)/B(a,b) B(g, d+n+1)/B(g,d) / L
#   E  = B(a+x+1, b+n-x)/B(a,b) d/(g-1) G(g+d)/G(1+d) [G(1+d+n)/G(g+d+n) - G(1+d+n+t)/G(g+d+n+t)] / L
#   DERT = B(a+x+1, b+n-x)/B(a,b) B(g, d+n+1)/(B(g,d)(1+dr)) 2F1(1, d+n+1; g+d+n+1; 1/(1+dr)) / L,
#   with 2F1 summed term by term until the terms fall below 1e-20 of the sum.
def _mp_reference(p: tuple[float, ...], x: int, tx: int, n: int, t: int, dr: float) -> tuple[float, ...]:
    mp = mpmath.mp
    with mpmath.workdps(40):
        a, b, g, d = (mp.mpf(v) for v in p)
        B, G = mp.beta, mp.gamma
        t1 = B(a + x, b + n - x) / B(a, b) * B(g, d + n) / B(g, d)
        # Terms of the finite sum by their exact ratio (same values as B(.)B(.)/(B(a,b)B(g,d)) term by term).
        term = B(a + x, b + tx - x) / B(a, b) * B(g + 1, d + tx) / B(g, d)
        terms = []
        for i in range(n - tx):
            terms.append(term)
            term *= (b + tx - x + i) / (a + b + tx + i) * (d + tx + i) / (g + d + tx + i + 1)
        L = t1 + mp.fsum(terms)
        pa = B(a + x, b + n - x) / B(a, b) * B(g, d + n + 1) / B(g, d) / L
        E = (B(a + x + 1, b + n - x) / B(a, b) * d / (g - 1) * G(g + d) / G(1 + d)
             * (G(1 + d + n) / G(g + d + n) - G(1 + d + n + t) / G(g + d + n + t))) / L
        bb, cc, z = d + n + 1, g + d + n + 1, 1 / (1 + mp.mpf(dr))
        term = total = mp.mpf(1)
        k = 0
        while term > total * mp.mpf(10) ** -20:
            term *= (bb + k) / (cc + k) * z
            total += term
            k += 1
        D = B(a + x + 1, b + n - x) / B(a, b) * B(g, d + n + 1) / (B(g, d) * (1 + dr)) * total / L
        return float(mp.log(L)), float(pa), float(E), float(D)


EXTREMES = [
    # (alpha, beta, gamma, delta), (x, tx, n), t, discount rate
    ((1e-3, 1e-3, 1e-3, 1e-3), (10_000, 10_000, 10_000), 10_000, 0.1),
    ((1e3, 1e3, 1e3, 1e3), (5_000, 9_990, 10_000), 10_000, 0.01),
    ((1e-3, 1e3, 1e3, 1e-3), (0, 0, 10_000), 300, 0.1),
    ((1e3, 1e-3, 1e-3, 1e3), (9_000, 9_500, 10_000), 5, 0.1),
    ((0.0442, 0.851, 342.5, 0.0162), (0, 0, 6), 300, 0.1),
    ((1.204, 0.750, 1.0 + 1e-8, 2.783), (2, 4, 6), 1_000, 0.1),
    ((2.0, 3.0, 0.3, 500.0), (1, 1, 200), 10_000, 0.01),
]


@pytest.mark.parametrize(("params", "row", "t", "dr"), EXTREMES)
def test_extreme_inputs_are_finite_and_match_mpmath(params: tuple[float, ...], row: tuple[int, int, int], t: int,
                                                    dr: float) -> None:
    x, tx, n = (np.array([float(v)]) for v in row)
    p = np.array(params)
    ll, grad = kernel.loglik(p, x, tx, n)
    pa = kernel.probability_alive(p, x, tx, n)[0]
    e = kernel.expected_purchases(p, x, tx, n, float(t))[0]
    dert = kernel.dert(p, x, tx, n, dr)[0]
    assert np.isfinite([ll[0], pa, e, dert]).all() and np.isfinite(grad).all()
    ll_ref, pa_ref, e_ref, d_ref = _mp_reference(params, *row, t, dr)
    assert ll[0] == pytest.approx(ll_ref, rel=1e-10, abs=1e-12)
    assert pa == pytest.approx(pa_ref, rel=1e-9)
    assert e == pytest.approx(e_ref, rel=1e-8)
    assert dert == pytest.approx(d_ref, rel=1e-9)
