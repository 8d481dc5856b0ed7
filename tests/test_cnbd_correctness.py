"""Correctness of the CNBD-k family (CNBD-k, BG/CNBD-k, MBG/CNBD-k; Platzer & Reutterer 2016, Reutterer, Platzer &
Schroeder 2020).

(a) k = 1 is exactly the NBD, BG/NBD and MBG/NBD (likelihood, fit, predictions) - against clvkit's closed-form kernels
    and an NBD likelihood written here;
(b) the grocery data of BTYDplus (calibration to 2006-12-31, 52-week holdout, weeks, same-day purchases counted once):
    k = 2 as published, the vignette's fixed numbers (customer rows, per-customer MAE of Pareto/NBD (HB) and
    Pareto/GGG), and the holdout errors of MBG/CNBD-k against BG/NBD;
(c) seeded simulations with k = 2 and k = 3 recover k and the parameters;
(d) the kernels against slow mpmath references built by another route (numerical integration over lambda, the
    series over the n-th future purchase), including large x, long gaps and long horizons.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
from scipy import optimize, special

from clvkit import CustomerSummary, InvalidInputError, PurchaseTimes, load_json, summarize
from clvkit.valuation import (
    CNBD,
    BetaGeo,
    BetaGeoCNBD,
    BetaGeoCNBDParams,
    CNBDParams,
    FittedBetaGeoCNBD,
    FittedCNBD,
    FittedModifiedBetaGeoCNBD,
    ModifiedBetaGeo,
    ModifiedBetaGeoCNBD,
    ModifiedBetaGeoCNBDParams,
    ParetoNBD,
)
from clvkit.valuation.models import _bgnbd, _cnbd, _mbgnbd
from clvkit.valuation.models.cnbd import sum_log_interpurchase_times

ROWS_X = np.array([0.0, 1.0, 3.0, 12.0, 40.0])
ROWS_TX = np.array([0.0, 2.5, 20.0, 30.0, 51.0])
ROWS_T = np.array([52.0, 40.0, 52.0, 60.0, 52.0])
CLOSED = {"bg": _bgnbd, "mbg": _mbgnbd}


# --------------------------------------------------------------------------------------------- (a) k = 1
@pytest.mark.parametrize("family", ["bg", "mbg"])
def test_k1_likelihood_and_predictions_equal_the_closed_forms(family: str) -> None:
    params = np.array([1.0, 0.55, 4.2, 0.8, 2.6])
    closed = CLOSED[family]
    ll, grad = _cnbd.loglik(params, ROWS_X, ROWS_TX, ROWS_T, 0.0, family)
    ll_ref, grad_ref = closed.loglik(params[1:], ROWS_X, ROWS_TX, ROWS_T)
    np.testing.assert_allclose(ll, ll_ref, rtol=1e-13)
    np.testing.assert_allclose(grad, grad_ref, rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(_cnbd.probability_alive(params, ROWS_X, ROWS_TX, ROWS_T, family),
                               closed.probability_alive(params[1:], ROWS_X, ROWS_TX, ROWS_T), rtol=1e-13)
    for t in (0.5, 52.0, 400.0):
        # the general numerical route (phase-type form, Gauss-Jacobi over p) against the hypergeometric closed form
        np.testing.assert_allclose(_cnbd.expected_purchases(params, ROWS_X, ROWS_TX, ROWS_T, np.full(5, t), family),
                                   closed.expected_purchases(params[1:], ROWS_X, ROWS_TX, ROWS_T, t), rtol=1e-10)
        for n in (0.0, 1.0, 4.0):
            np.testing.assert_allclose(
                _cnbd.probability_of_purchases(params, ROWS_X, ROWS_TX, ROWS_T, np.full(5, n), np.full(5, t), family),
                closed.probability_of_purchases(params[1:], ROWS_X, ROWS_TX, ROWS_T, np.full(5, n), t),
                rtol=1e-9, atol=1e-15)


@pytest.mark.parametrize("family", ["bg", "mbg"])
@pytest.mark.parametrize(("a", "b"), [(0.42, 0.79), (0.05, 10.0), (3.0, 0.3), (1.0, 50.0), (0.02, 0.02)])
def test_k1_general_route_at_long_horizons_and_large_x(family: str, a: float, b: float) -> None:
    # The graded quadrature over p must resolve the scale k (alpha+T)/(t R) at long horizons and large x (DERT reads
    # horizons up to 60 / delta): against the hypergeometric closed form at k = 1.
    params = np.array([1.0, 1.3, 2.8, a, b])
    x = np.array([0.0, 1.0, 5.0, 40.0, 300.0, 3000.0])
    tx, T = np.array([0.0, 3.0, 30.0, 50.0, 51.9, 52.0]), np.full(6, 52.0)
    for t in (2000.0, 3e4, 1e6):
        np.testing.assert_allclose(_cnbd.expected_purchases(params, x, tx, T, np.full(6, t), family),
                                   CLOSED[family].expected_purchases(params[1:], x, tx, T, t), rtol=1e-8)


def _nbd_loglik(r: float, alpha: float, x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """The NBD likelihood (Ehrenberg 1959) of x purchases in (0, T] at Poisson rates ~ Gamma(r, alpha), without the
    timing term that CNBD-1 adds (prod of the x exponential densities: lambda^x e^(-lambda T) instead of the count
    probability (lambda T)^x e^(-lambda T)/x!), so the two differ by x log T - log x!."""
    return (special.gammaln(r + x) - special.gammaln(r) - special.gammaln(x + 1) + r * np.log(alpha / (alpha + T))
            + x * np.log(T / (alpha + T)))


def _simulated(model, n: int = 3000, seed: int = 1):  # type: ignore[no-untyped-def]
    return model.simulate(np.random.default_rng(seed).uniform(30.0, 52.0, n), seed=seed)


def test_cnbd_k1_is_the_nbd_fit() -> None:
    summary = _simulated(FittedCNBD(params=CNBDParams(k=1, r=0.9, alpha=5.0), time_unit="W"))
    fitted = CNBD(k=1).fit(summary)
    x, T = summary.frequency, summary.T

    def neg(theta: np.ndarray) -> float:
        return -float(np.sum(_nbd_loglik(math.exp(theta[0]), math.exp(theta[1]), x, T)))

    best = optimize.minimize(neg, np.zeros(2), method="Nelder-Mead", options={"xatol": 1e-10, "fatol": 1e-10,
                                                                            "maxiter": 4000})
    np.testing.assert_allclose(fitted.param_array(), np.exp(best.x), rtol=1e-5)
    timing = float(np.sum(x * np.log(T) - special.gammaln(x + 1)))
    assert fitted.log_likelihood == pytest.approx(-best.fun - timing, rel=1e-9)
    assert fitted.params.k == 1


@pytest.mark.parametrize(("engine", "closed_engine", "fitted"), [
    (BetaGeoCNBD, BetaGeo, FittedBetaGeoCNBD(params=BetaGeoCNBDParams(k=1, r=0.6, alpha=5.0, a=0.8, b=2.5),
                                              time_unit="W")),
    (ModifiedBetaGeoCNBD, ModifiedBetaGeo,
     FittedModifiedBetaGeoCNBD(params=ModifiedBetaGeoCNBDParams(k=1, r=0.6, alpha=5.0, a=0.8, b=2.5), time_unit="W")),
])
def test_k1_fit_and_predictions_equal_bgnbd_and_mbgnbd(engine, closed_engine, fitted) -> None:  # type: ignore[no-untyped-def]
    summary = _simulated(fitted)
    ours = engine(k=1).fit(summary)
    theirs = closed_engine().fit(summary)
    np.testing.assert_allclose(ours.param_array(), theirs.param_array(), rtol=2e-5)
    assert ours.log_likelihood == pytest.approx(theirs.log_likelihood, rel=1e-10)
    same = ours.with_param_array(theirs.param_array())
    np.testing.assert_array_equal(same.expected_purchases(summary, 20.0), theirs.expected_purchases(summary, 20.0))
    np.testing.assert_array_equal(same.probability_alive(summary), theirs.probability_alive(summary))
    np.testing.assert_array_equal(same.discounted_expected_residual_transactions(summary, 0.01),
                                  theirs.discounted_expected_residual_transactions(summary, 0.01))


# --------------------------------------------------------------------------------------------- (b) grocery
@pytest.fixture(scope="module")
def grocery(shared_data):  # type: ignore[no-untyped-def]
    pd = pytest.importorskip("pandas")
    log = pd.read_csv(shared_data("grocery_elog.csv"))
    log["when"] = pd.to_datetime(log["date"], unit="D")
    # As BTYDplus's elog2cbs: days (same-day purchases counted once), then weeks = days / 7.
    days = summarize(log, customer_id="cust", datetime="when", time_unit="D", calibration_end="2006-12-31",
                     observation_end="2007-12-30")
    return days.with_time_unit("W")


def test_grocery_regularity_and_holdout(grocery: CustomerSummary) -> None:
    s = grocery
    # The data's README (and BTYDplus's elog2cbs): 1,525 customers, 3,389 holdout purchases in 52 weeks.
    assert len(s) == 1525 and s.frequency_holdout.sum() == 3389 and s.duration_holdout == 52.0
    mbg = ModifiedBetaGeoCNBD().fit(s)
    bg_cnbd = BetaGeoCNBD().fit(s)
    bgnbd = BetaGeo().fit(s)
    # Published: k = 2 for the grocery data (BTYDplus demo/grocery.R, "k=2 -> regularity detected for grocery
    # dataset"; its Wheat-Morrison estimate "detects Erlang-2").
    assert mbg.params.k == 2 and bg_cnbd.params.k == 2
    assert mbg.fit_info is not None and mbg.fit_info.converged
    # The profile: k = 2 beats its neighbours (fits at a fixed k).
    assert mbg.log_likelihood > ModifiedBetaGeoCNBD(k=1).fit(s).log_likelihood
    assert mbg.log_likelihood > ModifiedBetaGeoCNBD(k=3).fit(s).log_likelihood
    actual = s.frequency_holdout
    errors = {}
    for name, model in (("bgnbd", bgnbd), ("mbgcnbd", mbg)):
        predicted = model.expected_purchases(s, 52.0)
        errors[name] = (abs(predicted.sum() - actual.sum()), np.abs(predicted - actual).mean(),
                        np.abs(predicted - actual).sum() / actual.sum())
    # clvkit measured (this test's run): BG/NBD 3,996 predicted (+18%), MAE 1.577, sum|e|/sum(actual) 0.710;
    # MBG/CNBD-k 3,812 (+12%), MAE 1.400, 0.630. The regular model is better on every measure.
    assert errors["mbgcnbd"][0] < errors["bgnbd"][0]
    assert errors["mbgcnbd"][1] < errors["bgnbd"][1]
    assert errors["mbgcnbd"][2] < errors["bgnbd"][2]


def test_grocery_against_the_btydplus_vignette(grocery: CustomerSummary) -> None:
    """What the BTYDplus vignette "Customer Base Analysis with BTYDplus" (M. Platzer; vignettes/BTYDplus-HowTo.Rmd of
    github.com/mplatzer/BTYDplus, commit 1c5ae0c) prints as fixed text for this split. Its MBG/CNBD-k totals and
    MAE are computed when the vignette is rendered and are not in its source; the fixed numbers are:

    - the section "BG/CNBD-k and MBG/CNBD-k": "the estimate for regularity parameter k is 2", and "the MBG/CNBD-k
      remains overly optimistic" at the aggregate level;
    - the section "Pareto/GGG": ``head(cbs)`` of the calibration summary (x, t.x, x.star of customers 1 to 6) and the
      mean absolute error per customer of the holdout predictions, Pareto/GGG 1.389548 and Pareto/NBD (HB) 1.513515
      (both MCMC; "a lift of 8.2%" from exploiting the regularity).
    """
    s = grocery
    ids = s.customer_id
    assert ids is not None
    head = {1: (0, 0.0, 0), 2: (1, 50.28571, 0), 3: (19, 48.57143, 14), 4: (0, 0.0, 0), 5: (2, 40.42857, 3),
            6: (5, 47.57143, 6)}
    for cust, (x, tx, xstar) in head.items():
        i = int(np.flatnonzero(ids == cust)[0])
        assert (s.frequency[i], s.frequency_holdout[i]) == (x, xstar)
        assert s.recency[i] == pytest.approx(tx, abs=5e-6)
    mbg = ModifiedBetaGeoCNBD().fit(s)
    assert mbg.params.k == 2
    actual = s.frequency_holdout
    predicted = mbg.expected_purchases(s, 52.0)
    assert predicted.sum() > actual.sum()  # "overly optimistic"
    mae_mbg = float(np.abs(predicted - actual).mean())
    mae_pnbd = float(np.abs(ParetoNBD().fit(s).expected_purchases(s, 52.0) - actual).mean())
    # clvkit measured (this test's run): MBG/CNBD-k 1.3998 per customer, 0.7% above the published Pareto/GGG (a
    # hierarchical model with a regularity per customer); maximum-likelihood Pareto/NBD 1.5079, 0.4% below the
    # published Pareto/NBD (HB); the lift from regularity 7.2% against the vignette's 8.2%.
    assert mae_mbg == pytest.approx(1.389548, rel=0.01)
    assert mae_pnbd == pytest.approx(1.513515, rel=0.01)
    assert 1 - mae_mbg / mae_pnbd == pytest.approx(0.082, abs=0.015)


def test_litt_comes_from_the_purchase_times(grocery: CustomerSummary) -> None:
    litt = sum_log_interpurchase_times(grocery)
    pt = grocery.purchase_times
    assert pt is not None
    i = int(np.argmax(grocery.frequency))
    times = pt.of(i)
    assert litt[i] == pytest.approx(float(np.sum(np.log(np.diff(np.concatenate([[0.0], times]))))), rel=1e-12)
    assert np.all(litt[grocery.frequency == 0] == 0.0)
    # passing litt explicitly to a summary without purchase times gives the same fit
    bare = CustomerSummary(grocery.frequency, grocery.recency, grocery.T, time_unit="W")
    a = ModifiedBetaGeoCNBD(k=2).fit(grocery)
    b = ModifiedBetaGeoCNBD(k=2).fit(bare, litt=litt)
    np.testing.assert_allclose(a.param_array(), b.param_array(), rtol=1e-12)
    assert a.log_likelihood == pytest.approx(b.log_likelihood, rel=1e-12)


# --------------------------------------------------------------------------------------------- (c) simulation
@pytest.mark.parametrize(("fitted", "engine"), [
    (FittedCNBD(params=CNBDParams(k=3, r=1.2, alpha=4.0), time_unit="W"), CNBD),
    (FittedBetaGeoCNBD(params=BetaGeoCNBDParams(k=2, r=0.85, alpha=1.45, a=0.79, b=2.42), time_unit="W"),
     BetaGeoCNBD),
    (FittedModifiedBetaGeoCNBD(params=ModifiedBetaGeoCNBDParams(k=3, r=0.85, alpha=1.45, a=0.79, b=2.42),
                               time_unit="W"), ModifiedBetaGeoCNBD),
    (FittedModifiedBetaGeoCNBD(params=ModifiedBetaGeoCNBDParams(k=2, r=1.3, alpha=2.8, a=0.42, b=0.79),
                               time_unit="W"), ModifiedBetaGeoCNBD),
])
def test_simulation_recovers_k_and_the_parameters(fitted, engine) -> None:  # type: ignore[no-untyped-def]
    # BTYDplus's simulation settings (k=3, r=0.85, alpha=1.45, a=0.79, b=2.42; its bgcnbd.EstimateParameters
    # example) and grocery-like ones; 8,000 customers observed 24 to 32 weeks.
    ages = np.random.default_rng(20).uniform(24.0, 32.0, 8000)
    sample = fitted.simulate(ages, seed=20)
    est = engine().fit(sample)
    assert est.params.k == fitted.params.k
    se = np.array(list((est.standard_errors or {}).values()))
    assert se.shape == (len(est.param_names),)
    assert np.all(np.abs(est.param_array() - fitted.param_array()) < 4.0 * se)


def test_simulated_purchase_times_follow_the_model() -> None:
    # Erlang-k gaps of rate lambda: with no dropout and one lambda, mean gap k/lambda and variance k/lambda^2.
    model = FittedCNBD(params=CNBDParams(k=3, r=4000.0, alpha=2000.0), time_unit="W")  # lambda ~ 2 (CV 1.6%)
    s = model.simulate(np.full(500, 200.0), seed=4)
    pt = s.purchase_times
    assert pt is not None
    gaps = np.concatenate([np.diff(np.concatenate([[0.0], pt.of(i)])) for i in range(len(s))])
    assert gaps.mean() == pytest.approx(1.5, rel=0.02)
    assert gaps.var() == pytest.approx(0.75, rel=0.06)


# --------------------------------------------------------------------------------------------- (d) mpmath


def _ref_likelihood(family: str, k: int, r: float, alpha: float, a: float, b: float, x: float, tx: float,
                    T: float, litt: float) -> mpmath.mpf:
    """L by numerical integration over lambda (mpmath.quad) of the model's likelihood given lambda, p integrated by
    Beta functions: ``lambda^(kx) e^(-lambda tx) exp((k-1) litt)/Gamma(k)^x [E(1-p)^(x+m) e^(-lambda(T-tx))
    sum_j (lambda(T-tx))^j/j! + E p(1-p)^(x-1+m)]``."""
    m = 1 if family == "mbg" else 0
    R, A = mpmath.mpf(r), mpmath.mpf(alpha)
    gap = mpmath.mpf(T) - tx
    if family == "nbd":
        alive_w, dead_w = mpmath.mpf(1), mpmath.mpf(0)
    else:
        alive_w = mpmath.beta(a, b + x + m) / mpmath.beta(a, b)
        dead_w = (mpmath.beta(a + 1, b + x - 1 + m) / mpmath.beta(a, b)) if (x > 0 or m) else mpmath.mpf(0)

    def integrand(lam: mpmath.mpf) -> mpmath.mpf:
        prior = A**R * lam ** (R - 1) * mpmath.exp(-A * lam) / mpmath.gamma(R)
        survive = mpmath.exp(-lam * gap) * mpmath.fsum((lam * gap) ** j / mpmath.factorial(j) for j in range(k))
        return prior * lam ** (k * x) * mpmath.exp(-lam * tx) * (alive_w * survive + dead_w)

    scale = (r + k * x) / (alpha + T)
    total = mpmath.quad(integrand, [0, scale / 4, scale, 4 * scale, 20 * scale, mpmath.inf])
    return total * mpmath.exp((k - 1) * mpmath.mpf(litt)) / mpmath.gamma(k) ** x


def _ref_posterior(family: str, k: int, r: float, alpha: float, a: float, b: float, x: float, tx: float,
                   T: float) -> tuple[mpmath.mpf, list[mpmath.mpf]]:
    """P(alive) and the phase weights from the two branches' integrals (each by its own closed form)."""
    m = 1 if family == "mbg" else 0
    R0, A = mpmath.mpf(r) + k * x, mpmath.mpf(alpha) + T
    u = (mpmath.mpf(T) - tx) / A
    terms = [mpmath.rf(R0, j) / mpmath.factorial(j) * u**j for j in range(k)]
    alive = mpmath.fsum(terms)
    if family == "nbd" or (family == "bg" and x == 0):
        dead = mpmath.mpf(0)
    else:
        dead = mpmath.mpf(a) / (b + x - 1 + m) * ((mpmath.mpf(alpha) + T) / (mpmath.mpf(alpha) + tx)) ** R0
    return alive / (alive + dead), [t / alive for t in terms]


def _ref_at_least(family: str, k: int, r: float, alpha: float, a: float, b: float, x: float, tx: float, T: float,
                  n: int, t: float) -> mpmath.mpf:
    """P(X(T, T+t) >= n | alive): the n-th future purchase needs nk - j Poisson ticks, integrated over lambda
    numerically (mpmath.quad), times E[(1-p)^(n-1)]."""
    m = 1 if family == "mbg" else 0
    _, w = _ref_posterior(family, k, r, alpha, a, b, x, tx, T)
    c = mpmath.mpf(1) if family == "nbd" else mpmath.beta(a, b + x + m + n - 1) / mpmath.beta(a, b + x + m)
    A = mpmath.mpf(alpha) + T
    total = mpmath.mpf(0)
    for j in range(k):
        R = mpmath.mpf(r) + k * x + j

        def integrand(lam: mpmath.mpf, R: mpmath.mpf = R, j: int = j) -> mpmath.mpf:
            return (A**R * lam ** (R - 1) * mpmath.exp(-A * lam) / mpmath.gamma(R)
                    * mpmath.gammainc(n * k - j, 0, lam * t, regularized=True))

        scale = R / A
        total += w[j] * mpmath.quad(integrand, [0, scale / 4, scale, 4 * scale, 20 * scale, mpmath.inf])
    return c * total


def _ref_expected(family: str, k: int, r: float, alpha: float, a: float, b: float, x: float, tx: float, T: float,
                  t: float) -> mpmath.mpf:
    """E[X(T, T+t)] = P(alive) sum_{n>=1} P(X >= n | alive), the tails from the negative binomial tick count
    (mpmath.betainc), summed until the terms vanish."""
    m = 1 if family == "mbg" else 0
    p_alive, w = _ref_posterior(family, k, r, alpha, a, b, x, tx, T)
    A = mpmath.mpf(alpha) + T
    z = mpmath.mpf(t) / (A + t)
    total, n = mpmath.mpf(0), 1
    while True:
        c = mpmath.mpf(1) if family == "nbd" else mpmath.beta(a, b + x + m + n - 1) / mpmath.beta(a, b + x + m)
        term = c * mpmath.fsum(w[j] * mpmath.betainc(n * k - j, mpmath.mpf(r) + k * x + j, 0, z, regularized=True)
                               for j in range(k))
        total += term
        if term < mpmath.mpf(10) ** -25 * total or n > 20000:
            break
        n += 1
    return p_alive * total


REF_CASES = [
    # family, k, r, alpha, a, b, x, tx, T, litt
    ("mbg", 2, 1.33, 2.81, 0.42, 0.79, 5.0, 30.0, 52.0, 11.0),  # grocery-like
    ("bg", 3, 0.85, 1.45, 0.79, 2.42, 0.0, 0.0, 32.0, 0.0),
    ("bg", 3, 0.85, 1.45, 0.79, 2.42, 200.0, 190.0, 200.0, -10.0),  # large x
    ("mbg", 4, 0.5, 6.0, 1.7, 3.0, 2.0, 5.0, 300.0, 1.5),  # a long gap since the last purchase
    ("nbd", 2, 1.2, 4.0, 0.0, 0.0, 8.0, 40.0, 52.0, 14.0),
    ("nbd", 5, 2.0, 1.0, 0.0, 0.0, 0.0, 0.0, 10.0, 0.0),
]


@pytest.mark.parametrize("case", REF_CASES)
def test_kernels_against_mpmath(case: tuple) -> None:  # type: ignore[type-arg]
    with mpmath.workdps(25):  # a local precision: other tests' mpmath settings are untouched
        _check_against_mpmath(case)


def _check_against_mpmath(case: tuple) -> None:  # type: ignore[type-arg]
    family, k, r, alpha, a, b, x, tx, T, litt = case
    params = np.array([k, r, alpha] + ([] if family == "nbd" else [a, b]), dtype=np.float64)
    X, TX, TT = np.array([x]), np.array([tx]), np.array([T])
    ll, _ = _cnbd.loglik(params, X, TX, TT, np.array([litt]), family)
    assert ll[0] == pytest.approx(float(mpmath.log(_ref_likelihood(family, k, r, alpha, a, b, x, tx, T, litt))),
                                  rel=1e-12, abs=1e-11)
    p_alive, _ = _ref_posterior(family, k, r, alpha, a, b, x, tx, T)
    assert _cnbd.probability_alive(params, X, TX, TT, family)[0] == pytest.approx(float(p_alive), rel=1e-12)
    for t in (1.0, 52.0, 2000.0):
        got = _cnbd.expected_purchases(params, X, TX, TT, np.array([t]), family)[0]
        assert got == pytest.approx(float(_ref_expected(family, k, r, alpha, a, b, x, tx, T, t)), rel=1e-9)
    for n in (0, 1, 3):
        got = _cnbd.probability_of_purchases(params, X, TX, TT, np.array([float(n)]), np.array([52.0]), family)[0]
        if n == 0:
            ref = 1 - p_alive * _ref_at_least(family, k, r, alpha, a, b, x, tx, T, 1, 52.0)
        else:
            ref = p_alive * (_ref_at_least(family, k, r, alpha, a, b, x, tx, T, n, 52.0)
                             - _ref_at_least(family, k, r, alpha, a, b, x, tx, T, n + 1, 52.0))
        assert got == pytest.approx(float(ref), rel=1e-8, abs=1e-15)


def test_loglik_tabulated_by_distinct_x_equals_the_direct_evaluation() -> None:
    x = np.repeat(ROWS_X, 3)
    tx, T = np.repeat(ROWS_TX, 3), np.repeat(ROWS_T, 3) + np.tile([0.0, 1.5, 7.0], 5)
    xu, code = np.unique(x, return_inverse=True)
    for family, params in (("mbg", [3.0, 1.1, 2.5, 0.6, 1.4]), ("bg", [2.0, 0.7, 3.0, 0.9, 2.0]),
                           ("nbd", [4.0, 1.5, 2.0]), ("bg", [1.0, 0.7, 3.0, 0.9, 0.5])):
        direct = _cnbd.loglik(np.array(params), x, tx, T, 0.0, family)
        tabulated = _cnbd.loglik(np.array(params), x, tx, T, 0.0, family, (xu, code))
        np.testing.assert_array_equal(direct[0], tabulated[0])
        np.testing.assert_array_equal(direct[1], tabulated[1])


def test_gradient_matches_finite_differences() -> None:
    for family, params in (("mbg", [3.0, 1.1, 2.5, 0.6, 1.4]), ("bg", [2.0, 0.7, 3.0, 0.9, 2.0]),
                           ("nbd", [4.0, 1.5, 2.0])):
        p = np.array(params)
        _, grad = _cnbd.loglik(p, ROWS_X, ROWS_TX, ROWS_T, 0.0, family)
        for i in range(1, p.shape[0]):
            h = 1e-6 * p[i]
            up, down = p.copy(), p.copy()
            up[i] += h
            down[i] -= h
            fd = (_cnbd.loglik(up, ROWS_X, ROWS_TX, ROWS_T, 0.0, family)[0]
                  - _cnbd.loglik(down, ROWS_X, ROWS_TX, ROWS_T, 0.0, family)[0]) / (2 * h)
            np.testing.assert_allclose(grad[:, i - 1], fd, rtol=1e-6, atol=1e-7)


# --------------------------------------------------------------------------------------------- the surface
MODEL = FittedModifiedBetaGeoCNBD(params=ModifiedBetaGeoCNBDParams(k=2, r=1.33, alpha=2.81, a=0.42, b=0.79),
                                  time_unit="W")
SUMMARY = CustomerSummary(frequency=ROWS_X, recency=ROWS_TX, T=ROWS_T, time_unit="W")


def test_pmf_sums_to_one_and_its_mean_is_the_expectation() -> None:
    n = np.arange(0.0, 400.0)
    pmf = np.stack([MODEL.probability_of_purchases(SUMMARY, k, 52.0) for k in n])
    np.testing.assert_allclose(pmf.sum(axis=0), 1.0, atol=1e-10)
    np.testing.assert_allclose(n @ pmf, MODEL.expected_purchases(SUMMARY, 52.0), rtol=1e-9)
    new = MODEL.probability_of_purchases_new_customer(n, 52.0)
    assert new.sum() == pytest.approx(1.0, abs=1e-10)
    assert n @ new == pytest.approx(float(MODEL.expected_purchases_new_customer(52.0)), rel=1e-9)


def test_dert_is_the_discounted_integral_of_expected_purchases() -> None:
    from scipy import integrate

    d = 0.002
    delta = math.log1p(d)
    dert = MODEL.discounted_expected_residual_transactions(SUMMARY, d)
    for i in range(len(SUMMARY)):
        one = SUMMARY.take(np.array([i]))

        def f(t: float, one: CustomerSummary = one) -> float:
            return delta * math.exp(-delta * t) * float(MODEL.expected_purchases(one, t)[0])

        ref = integrate.quad(f, 0, np.inf, limit=400, epsabs=0, epsrel=1e-10)[0]
        assert dert[i] == pytest.approx(ref, rel=1e-7)


def test_clv_json_and_errors() -> None:
    from clvkit.valuation import GammaGammaParams, clv
    from clvkit.valuation.models.gamma_gamma import FittedGammaGamma

    spend = FittedGammaGamma(params=GammaGammaParams(p=6.0, q=4.0, v=15.0), time_unit="W")
    money = CustomerSummary(frequency=ROWS_X, recency=ROWS_TX, T=ROWS_T, monetary_value=[0, 20, 30, 25, 10],
                            time_unit="W")
    value = clv(MODEL, spend, money, horizon=12, discount_rate=0.01, period=4.0)
    # 12 four-week periods, each valued at the expected purchases in it: the path's increments
    path = MODEL.expected_purchases_path(money, 4.0 * np.arange(13))
    steps = np.diff(path, axis=0)
    spent = spend.expected_spend(money)
    np.testing.assert_allclose(value.clv, (steps * spent / 1.01 ** np.arange(1, 13)[:, None]).sum(axis=0),
                               rtol=1e-6)
    again = load_json(MODEL.to_json())
    assert again == MODEL and isinstance(again, FittedModifiedBetaGeoCNBD) and again.params.k == 2
    with pytest.raises(InvalidInputError, match="purchase_times"):
        ModifiedBetaGeoCNBD().fit(SUMMARY)
    with pytest.raises(InvalidInputError, match="litt"):
        ModifiedBetaGeoCNBD().fit(SUMMARY, litt=[1.0, 0, 0, 0, 0])  # x = 0 must have litt 0
    with pytest.raises(InvalidInputError, match="covariates"):
        ModifiedBetaGeoCNBD().fit(SUMMARY, purchase_covariates=object())
    with pytest.raises(InvalidInputError):
        ModifiedBetaGeoCNBD(k=0)
    with pytest.raises(InvalidInputError):
        ModifiedBetaGeoCNBDParams(k=2.5, r=1, alpha=1, a=1, b=1)
    # A summary whose purchase times hold two purchases at one time: named, with the fix.
    pt = PurchaseTimes(origin=np.zeros(2, dtype="datetime64[ns]"), offsets=[0, 2, 2], times=[3.0, 3.0],
                       period_days=7.0, unit_days=7.0)
    twice = CustomerSummary([2, 0], [3.0, 0.0], [6.0, 6.0], time_unit="W", purchase_times=pt,
                            customer_id=["ann", "bob"])
    with pytest.raises(InvalidInputError, match="'ann'"):
        BetaGeoCNBD().fit(twice)
    # k = 1 needs no purchase times
    assert BetaGeoCNBD(k=1).fit(_simulated(MODEL)).params.k == 1
