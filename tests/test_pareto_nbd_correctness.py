"""Pareto/NBD correctness: published CDNOW estimates, lifetimes oracle, mpmath references, gradient."""

from __future__ import annotations

import math
import warnings
from typing import Any

import mpmath
import numpy as np
import pytest
from clvkit.valuation.pareto_nbd import FittedParetoNBD, ParetoNBD, ParetoNBDParams
from conftest import fit_oracle

from clvkit import CustomerSummary
from clvkit.datasets import load_cdnow_summary
from clvkit.valuation.models import _paretonbd as kernel
from clvkit.valuation.models import _paretonbd_g as g_kernel

lifetimes = pytest.importorskip("lifetimes")

PARAMS = np.array([0.553, 10.578, 0.606, 11.669])

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")


def _model(params: Any) -> FittedParetoNBD:
    values = dict(zip(("r", "alpha", "s", "beta"), map(float, params), strict=True))
    return FittedParetoNBD(params=ParetoNBDParams(**values), time_unit="W")


def _col(*values: float) -> np.ndarray:
    return np.array(values, dtype=np.float64)


# ----------------------------------------------------------------------------- mpmath references
# Straight from the published formulas, at 60 significant digits (the subtraction in A0 and the
# hypergeometric functions are then exact to far more than double precision):
#
#   Fader, Hardie & Lee (2005), "A Note on Implementing the Pareto/NBD Model in MATLAB":
#     L = Gamma(r+x) alpha^r beta^s / Gamma(r) * [ 1/((alpha+T)^(r+x) (beta+T)^s) + s/(r+s+x) A0 ]
#     alpha >= beta: A0 = 2F1(r+s+x, s+1; r+s+x+1; (alpha-beta)/(alpha+tx)) / (alpha+tx)^(r+s+x)
#                       - 2F1(r+s+x, s+1; r+s+x+1; (alpha-beta)/(alpha+T)) / (alpha+T)^(r+s+x)
#     alpha <  beta: A0 = 2F1(r+s+x, r+x; r+s+x+1; (beta-alpha)/(beta+tx)) / (beta+tx)^(r+s+x)
#                       - 2F1(r+s+x, r+x; r+s+x+1; (beta-alpha)/(beta+T)) / (beta+T)^(r+s+x)
#     P(alive) = Gamma(r+x) alpha^r beta^s / (Gamma(r) (alpha+T)^(r+x) (beta+T)^s L)
#     E[X(T,T+t)] = P(alive) (r+x)(beta+T) / ((alpha+T)(s-1)) [1 - ((beta+T)/(beta+T+t))^(s-1)]
#   Fader, Hardie & Lee (2005), "RFM and CLV", JMR 42(4):
#     DERT = alpha^r beta^s delta^(s-1) Gamma(r+x+1) U(s, s; delta(beta+T))
#            / (Gamma(r) (alpha+T)^(r+x+1) L)
#   Fader & Hardie, "Deriving an Expression for P(X(t) = x) Under the Pareto/NBD Model" (closed form
#   with the sum over i of 2F1 terms), and the conditional PMF
#     P(X(T,T+t) = n | x, tx, T) = P(alive) P(X(t) = n | r+x, alpha+T, s, beta+T) + (1 - P(alive)) 1{n=0}.
def mp_model(r: float, alpha: float, s: float, beta: float, x: float, tx: float, T: float) -> dict[str, Any]:
    with mpmath.workdps(60):
        mp = mpmath.mp
        r_, a_, s_, b_, x_, tx_, T_ = (mp.mpf(v) for v in (r, alpha, s, beta, x, tx, T))
        m = r_ + s_ + x_
        if a_ >= b_:
            def F(t: Any) -> Any:
                return mp.hyp2f1(m, s_ + 1, m + 1, (a_ - b_) / (a_ + t)) / (a_ + t) ** m
        else:
            def F(t: Any) -> Any:
                return mp.hyp2f1(m, r_ + x_, m + 1, (b_ - a_) / (b_ + t)) / (b_ + t) ** m
        A0 = F(tx_) - F(T_)
        C = mp.exp(mp.loggamma(r_ + x_) - mp.loggamma(r_)) * a_**r_ * b_**s_
        alive = 1 / ((a_ + T_) ** (r_ + x_) * (b_ + T_) ** s_)
        L = C * (alive + s_ / m * A0)
        return {"mp": (r_, a_, s_, b_, x_, tx_, T_), "ll": mp.log(L), "L": L, "p_alive": C * alive / L}


def mp_expected(ref: dict[str, Any], t: float) -> Any:
    with mpmath.workdps(60):
        r, a, s, b, x, _, T = ref["mp"]
        t_ = mpmath.mpf(t)
        if s == 1:
            bracket = (b + T) * mpmath.log((b + T + t_) / (b + T))
        else:
            bracket = (b + T) / (s - 1) * (1 - ((b + T) / (b + T + t_)) ** (s - 1))
        return ref["p_alive"] * (r + x) / (a + T) * bracket


def mp_dert(ref: dict[str, Any], delta: float) -> Any:
    with mpmath.workdps(60):
        r, a, s, b, x, _, T = ref["mp"]
        d = mpmath.mpf(delta)
        num = a**r * b**s * d ** (s - 1) * mpmath.exp(mpmath.loggamma(r + x + 1)) * mpmath.hyperu(s, s, d * (b + T))
        return num / (mpmath.gamma(r) * (a + T) ** (r + x + 1) * ref["L"])


def mp_pmf_fresh(r: Any, a: Any, s: Any, b: Any, n: int, t: float) -> Any:
    """P(X(t) = n) of a customer alive at 0 (Fader & Hardie's closed form; exact at 60 digits)."""
    with mpmath.workdps(60):
        mp = mpmath.mp
        t_ = mp.mpf(t)
        first = (mp.exp(mp.loggamma(r + n) - mp.loggamma(r) - mp.loggamma(n + 1))
                 * (a / (a + t_)) ** r * (t_ / (a + t_)) ** n * (b / (b + t_)) ** s)
        pre = a**r * b**s * mp.beta(r + n, s + 1) / mp.beta(r, s)
        if a >= b:
            B1 = mp.hyp2f1(r + s, s + 1, r + s + n + 1, (a - b) / a) / a ** (r + s)

            def B2(i: int) -> Any:
                return mp.hyp2f1(r + s + i, s + 1, r + s + n + 1, (a - b) / (a + t_)) / (a + t_) ** (r + s + i)
        else:
            B1 = mp.hyp2f1(r + s, r + n, r + s + n + 1, (b - a) / b) / b ** (r + s)

            def B2(i: int) -> Any:
                return mp.hyp2f1(r + s + i, r + n, r + s + n + 1, (b - a) / (b + t_)) / (b + t_) ** (r + s + i)
        total = sum(mp.exp(mp.loggamma(r + s + i) - mp.loggamma(r + s) - mp.loggamma(i + 1)) * t_**i * B2(i)
                    for i in range(n + 1))
        return first + pre * (B1 - total)


def mp_pmf(ref: dict[str, Any], n: int, t: float) -> Any:
    with mpmath.workdps(60):
        r, a, s, b, x, _, T = ref["mp"]
        fresh = mp_pmf_fresh(r + x, a + T, s, b + T, n, t)
        return ref["p_alive"] * fresh + (1 - ref["p_alive"] if n == 0 else 0)


# ----------------------------------------------------------------------------- published values
def test_reproduces_published_cdnow_estimates() -> None:
    # Fader, Hardie & Lee (2005), "A Note on Implementing the Pareto/NBD Model in MATLAB" (and "RFM and
    # CLV", JMR 2005): on the CDNOW sample (2,357 customers, 39-week calibration, weeks)
    # r = 0.55, alpha = 10.58, s = 0.61, beta = 11.67, LL = -9594.98.
    fitted = ParetoNBD().fit(load_cdnow_summary())
    p = fitted.params
    assert (round(p.r, 2), round(p.alpha, 2), round(p.s, 2), round(p.beta, 2)) == (0.55, 10.58, 0.61, 11.67)
    assert round(fitted.log_likelihood, 2) == -9594.98
    info = fitted.fit_info
    assert info is not None and info.converged and info.n_customers == 2357
    assert fitted.standard_errors is not None and all(v > 0 for v in fitted.standard_errors.values())


@pytest.fixture(scope="module")
def oracle(cdnow_weeks: CustomerSummary) -> Any:
    fitter = lifetimes.ParetoNBDFitter()
    return fit_oracle(lambda: fitter.fit(cdnow_weeks.frequency, cdnow_weeks.recency, cdnow_weeks.T))


def test_same_optimum_as_lifetimes(cdnow_weeks: CustomerSummary, oracle: Any) -> None:
    fitted = ParetoNBD().fit(cdnow_weeks)
    theirs = oracle.params_[["r", "alpha", "s", "beta"]].to_numpy()
    np.testing.assert_allclose(fitted.param_array(), theirs, rtol=1e-3)
    s = cdnow_weeks
    ll_theirs = float(kernel.loglik(theirs, s.frequency, s.recency, s.T)[0].sum())
    assert fitted.log_likelihood >= ll_theirs - 1e-6  # ours is at least as good an optimum
    # The reported LL is the published likelihood (mp_model, 60 digits) at the reported parameters, summed
    # over the distinct rows of lifetimes' copy of the data (recency and T rounded to 0.01 week).
    rows, counts = np.unique(np.column_stack([s.frequency, s.recency, s.T]), axis=0, return_counts=True)
    p = fitted.param_array()
    reference = math.fsum(c * float(mp_model(*p, *row)["ll"]) for row, c in zip(rows, counts, strict=True))
    assert fitted.log_likelihood == pytest.approx(reference, rel=1e-12)
    # The published maximum (FHL 2005), -9594.98; the rounding of lifetimes' copy moves it by ~0.002.
    assert fitted.log_likelihood == pytest.approx(-9594.98, abs=0.01)


def test_predictions_agree_with_lifetimes_where_it_is_finite(cdnow_weeks: CustomerSummary, oracle: Any) -> None:
    params = oracle.params_[["r", "alpha", "s", "beta"]].to_numpy()
    model = _model(params)
    s = cdnow_weeks
    np.testing.assert_allclose(model.probability_alive(s),
                               oracle.conditional_probability_alive(s.frequency, s.recency, s.T), rtol=1e-10)
    for t in (1.0, 13.0, 39.0):
        np.testing.assert_allclose(
            model.expected_purchases(s, t),
            oracle.conditional_expected_number_of_purchases_up_to_time(t, s.frequency, s.recency, s.T),
            rtol=1e-10,
        )
    times = np.array([0.5, 1.0, 13.0, 39.0, 78.0])
    np.testing.assert_allclose(model.expected_purchases_new_customer(times),
                               oracle.expected_number_of_purchases_up_to_time(times), rtol=1e-12)
    head = s.take(np.arange(40))
    for n in (0, 1, 2, 5):
        theirs_pmf = np.asarray(oracle.conditional_probability_of_n_purchases_up_to_time(
            n, 39.0, head.frequency, head.recency, head.T), dtype=float)
        np.testing.assert_allclose(model.probability_of_purchases(head, n, 39.0), theirs_pmf, rtol=1e-8, atol=1e-14)


# The two rows where lifetimes 0.11.3 returns NaN: its hyp2f1 overflows for large r+s+x.
LIFETIMES_NAN_ROWS = [(200.0, 1000.0, 1000.0), (1000.0, 78.0, 78.0)]


@pytest.mark.parametrize("row", LIFETIMES_NAN_ROWS)
def test_finite_and_exact_where_lifetimes_returns_nan(row: tuple[float, float, float], oracle: Any) -> None:
    x, tx, T = (np.array([v]) for v in row)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = np.asarray(oracle.conditional_probability_alive(x, tx, T), dtype=float)
        theirs_e = np.asarray(oracle.conditional_expected_number_of_purchases_up_to_time(39.0, x, tx, T), dtype=float)
    assert np.isnan(theirs).all() and np.isnan(theirs_e).all()  # documents the oracle's failure
    params = oracle.params_[["r", "alpha", "s", "beta"]].to_numpy()
    ref = mp_model(*params, *row)
    ll = kernel.loglik(params, x, tx, T)[0][0]
    p_alive = kernel.probability_alive(params, x, tx, T)[0]
    e = kernel.expected_purchases(params, x, tx, T, 39.0)[0]
    assert ll == pytest.approx(float(ref["ll"]), rel=1e-14)
    # Here tx == T: no time has passed since the last purchase, so P(alive) = 1 exactly.
    assert p_alive == 1.0 and float(ref["p_alive"]) == pytest.approx(1.0, abs=1e-50)
    assert e == pytest.approx(float(mp_expected(ref, 39.0)), rel=1e-13)


# ----------------------------------------------------------------------------- vs mpmath, moderate and extreme
MODERATE = [
    # (r, alpha, s, beta), (x, tx, T)
    ((0.553, 10.578, 0.606, 11.669), (0.0, 0.0, 38.86)),
    ((0.553, 10.578, 0.606, 11.669), (2.0, 30.43, 38.86)),
    ((0.553, 10.578, 0.606, 11.669), (1.0, 1.71, 38.86)),
    ((0.553, 10.578, 0.606, 11.669), (29.0, 38.0, 38.86)),
    ((2.5, 3.0, 1.0, 40.0), (7.0, 20.0, 52.0)),  # s = 1: removable singularity of E[X]
    ((0.3, 30.0, 2.5, 1.0), (3.0, 0.5, 100.0)),  # alpha > beta, far apart
    ((1.2, 0.8, 0.2, 90.0), (12.0, 9.0, 10.0)),  # beta >> alpha
]


@pytest.mark.parametrize(("params", "row"), MODERATE)
def test_all_predictions_match_mpmath(params: tuple[float, ...], row: tuple[float, float, float]) -> None:
    p = np.array(params)
    x, tx, T = (np.array([v]) for v in row)
    ref = mp_model(*params, *row)
    assert kernel.loglik(p, x, tx, T)[0][0] == pytest.approx(float(ref["ll"]), rel=1e-13, abs=1e-13)
    assert kernel.probability_alive(p, x, tx, T)[0] == pytest.approx(float(ref["p_alive"]), rel=1e-13)
    for t in (0.5, 39.0, 1e3):
        assert kernel.expected_purchases(p, x, tx, T, t)[0] == pytest.approx(float(mp_expected(ref, t)), rel=1e-12)
    for n in (0, 1, 4):
        pm = kernel.probability_of_purchases(p, x, tx, T, np.array([float(n)]), 39.0)[0]
        assert pm == pytest.approx(float(mp_pmf(ref, n, 39.0)), rel=1e-11, abs=1e-300)
    for delta in (0.0027, 0.1):
        assert kernel.dert(p, x, tx, T, delta)[0] == pytest.approx(float(mp_dert(ref, delta)), rel=1e-12)


EXTREMES = [
    # (r, alpha, s, beta), (x, tx, T): parameters 1e-3..1e3, frequency to 1e4, T to 1e4, tx at 0 and T.
    ((1e-3, 1e3, 1e3, 1e-3), (1e4, 1e-6, 1e4)),
    ((1e3, 1e-3, 1e-3, 1e3), (1e4, 9999.99, 1e4)),
    ((1e-3, 1e-3, 1e-3, 1e-3), (0.0, 0.0, 1e4)),
    ((1e3, 1e3, 1e3, 1e3), (1e4, 5e3, 1e4)),
    ((0.5, 1e3, 2.0, 1e-3), (3.0, 1e-3, 1e4)),
    ((1e-3, 1e-3, 1e3, 1e3), (1e4, 1e-3, 1e4)),
    ((1e3, 1e3, 1e-3, 1e-3), (1.0, 1e4 * (1 - 1e-12), 1e4)),
    ((0.553, 10.578, 0.606, 11.669), (1e4, 0.0, 1e4)),
    ((0.553, 10.578, 0.606, 11.669), (0.0, 0.0, 1e-6)),
    ((2.0, 1e-3, 1e3, 1e3), (50.0, 25.0, 1e4)),
]


def _log(v: Any) -> float:
    return float(mpmath.log(v)) if v > 0 else -math.inf


@pytest.mark.parametrize(("params", "row"), EXTREMES)
def test_extreme_inputs_are_finite_and_match_mpmath(params: tuple[float, ...], row: tuple[float, float, float]
                                                    ) -> None:
    p = np.array(params)
    x, tx, T = (np.array([v]) for v in row)
    ref = mp_model(*params, *row)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow/invalid warnings either
        ll, grad = kernel.loglik(p, x, tx, T)
        log_pa = kernel.log_probability_alive(p, x, tx, T)[0]
        e = kernel.expected_purchases(p, x, tx, T, 39.0)[0]
        d = kernel.dert(p, x, tx, T, 0.01)[0]
        pm = kernel.probability_of_purchases(p, x, tx, T, np.array([0.0, 1.0]), 39.0)
        e_new = kernel.expected_purchases_new(p, np.array([1e-3, 39.0, 1e4]))
    assert np.isfinite(grad).all() and np.isfinite([ll[0], log_pa, e, d]).all() and np.isfinite(pm).all()
    assert np.all((pm >= 0) & (pm <= 1)) and np.all(e_new >= 0)
    # Values of order exp(+-1e4): compare logarithms; the logs are accurate to ~1e-15 of the
    # log-gamma and power terms they are built from.
    assert ll[0] == pytest.approx(float(ref["ll"]), rel=1e-13, abs=1e-11)
    assert log_pa == pytest.approx(_log(ref["p_alive"]), rel=1e-12, abs=1e-11)
    # Expectations are exp(log P(alive) + ...): as accurate as log P(alive), i.e. relative error of the
    # order of (size of the exponent) x 1e-16; both sides underflow to 0 together below 1e-308.
    assert e == pytest.approx(float(mp_expected(ref, 39.0)), rel=1e-10, abs=1e-300)
    assert d == pytest.approx(float(mp_dert(ref, 0.01)), rel=1e-10, abs=1e-300)
    # n = 0 conditional PMF (the dead part dominates when P(alive) is small).
    assert pm[0] == pytest.approx(float(mp_pmf(ref, 0, 39.0)), rel=1e-10, abs=1e-300)


# ----------------------------------------------------------------------------- kernel vs plain scalar reference
def scalar_reference(params: tuple[float, ...], x: float, tx: float, T: float) -> tuple[float, float]:
    """Log-likelihood and P(alive) by mpmath quadrature of the model definition, one customer at a time.

    Given lambda and the dropout time tau, the likelihood is lambda^x e^(-lambda T) if tau > T and
    lambda^x e^(-lambda tau) if tx < tau <= T; integrating lambda ~ Gamma(r, alpha) and tau (exponential
    with mu ~ Gamma(s, beta): density s beta^s (beta+tau)^-(s+1)) analytically where elementary leaves
    one integral over tau.
    """
    with mpmath.workdps(20):
        r, alpha, s, beta = (mpmath.mpf(v) for v in params)
        x_, tx_, T_ = (mpmath.mpf(v) for v in (x, tx, T))
        lam = mpmath.exp(mpmath.loggamma(r + x_) - mpmath.loggamma(r)) * alpha**r

        def dead(tau: Any) -> Any:
            return lam * (alpha + tau) ** (-(r + x_)) * s * beta**s * (beta + tau) ** (-(s + 1))

        alive = lam * (alpha + T_) ** (-(r + x_)) * (beta / (beta + T_)) ** s
        # Breakpoints crowd towards tx, where the integrand is steepest for large x.
        points = [tx_ + (T_ - tx_) * mpmath.mpf(2) ** -k for k in range(40, -1, -1)]
        total = alive + (mpmath.quad(dead, [tx_, *points]) if T_ > tx_ else 0)
        return float(mpmath.log(total)), float(alive / total)


def test_vectorised_kernel_equals_scalar_reference_row_by_row(rng: np.random.Generator) -> None:
    n = 12
    x = rng.integers(0, 40, n).astype(float)
    T = rng.uniform(1.0, 80.0, n)
    tx = np.where(x > 0, T * rng.uniform(0.0, 1.0, n), 0.0)
    for params in (PARAMS, np.array([1.7, 3.2, 0.3, 45.0]), np.array([0.2, 60.0, 3.0, 2.0])):
        ll, _ = kernel.loglik(params, x, tx, T)
        pa = kernel.probability_alive(params, x, tx, T)
        for i in range(n):
            ll_ref, pa_ref = scalar_reference(tuple(params), x[i], tx[i], T[i])
            assert ll[i] == pytest.approx(ll_ref, rel=1e-12)
            assert pa[i] == pytest.approx(pa_ref, rel=1e-11)


# ----------------------------------------------------------------------------- the G function's two paths
def test_series_and_quadrature_paths_agree(rng: np.random.Generator) -> None:
    # Wherever the series converges (z <= 0.9) both evaluations of G and its three derivatives must agree.
    n = 400
    log_kappa = rng.uniform(-2.3, 2.3, n)
    p, q = 10 ** rng.uniform(-3, 4, n), 10 ** rng.uniform(-3, 3, n)
    series = g_kernel._g_series(log_kappa, p, q, True)
    quad = g_kernel._g_quadrature(log_kappa, p, q, True)
    ok = series[4]
    assert ok.mean() > 0.9
    np.testing.assert_allclose(series[0][ok], quad[0][ok], rtol=1e-13, atol=1e-13)
    for j in (1, 2, 3):
        np.testing.assert_allclose(series[j][ok], quad[j][ok], rtol=1e-10, atol=1e-12)


def test_g_matches_mpmath_hypergeometric_over_the_whole_range(rng: np.random.Generator) -> None:
    # G(kappa; p, q) = q/(p+q) 2F1(1, p; p+q+1; 1-kappa) (kappa <= 1) or
    #                 q/((p+q) kappa) 2F1(1, q+1; p+q+1; 1-1/kappa) (kappa > 1), mpmath at 30 digits.
    n = 60
    log_kappa = rng.uniform(-16.0, 16.0, n)
    p, q = 10 ** rng.uniform(-3, 4, n), 10 ** rng.uniform(-3, 3, n)
    mine = kernel.log_g(log_kappa, p, q)[0]
    with mpmath.workdps(30):
        for i in range(n):
            k, pp, qq = mpmath.exp(log_kappa[i]), mpmath.mpf(p[i]), mpmath.mpf(q[i])
            if k <= 1:
                g = qq / (pp + qq) * mpmath.hyp2f1(1, pp, pp + qq + 1, 1 - k)
            else:
                g = qq / ((pp + qq) * k) * mpmath.hyp2f1(1, qq + 1, pp + qq + 1, 1 - 1 / k)
            assert mine[i] == pytest.approx(float(mpmath.log(g)), rel=1e-13, abs=1e-13)


def test_dert_special_function_matches_hyperu() -> None:
    # z^s U(s, s, z), the factor of DERT (Fader, Hardie & Lee 2005, "RFM and CLV"): mpmath at 40 digits
    # (mpmath.mpf(z)**s * mpmath.hyperu(s, s, z)) and scipy.special.hyperu, which is itself only good
    # to ~1e-10 relative here, and not finite where z^s underflows while U overflows.
    from scipy import special

    for s in (0.05, 0.3, 0.61, 1.0, 2.5, 7.0, 30.0, 1e3):
        for z in (1e-3, 0.05, 1.0, 10.0, 100.0):
            mine = math.exp(kernel._log_w(s, np.array([z]))[0])
            with mpmath.workdps(40):
                ref = float(mpmath.mpf(z) ** s * mpmath.hyperu(s, s, z))
            assert mine == pytest.approx(ref, rel=1e-13)
            with np.errstate(all="ignore"):
                theirs = np.float64(z) ** s * special.hyperu(s, s, z)  # NaN at e.g. s = 30, z = 1e-3 (0 * inf)
            if np.isfinite(theirs):
                assert mine == pytest.approx(theirs, rel=1e-9)


# ----------------------------------------------------------------------------- gradient
GRADIENT_POINTS = [
    PARAMS,
    np.array([1.3, 2.0, 2.5, 0.4]),  # beta << alpha + t for young customers: slow path rows
    np.array([0.05, 80.0, 0.02, 0.5]),
    np.array([40.0, 5.0, 300.0, 900.0]),
]


@pytest.mark.parametrize("params", GRADIENT_POINTS)
def test_gradient_matches_finite_differences(params: np.ndarray, cdnow_weeks: CustomerSummary) -> None:
    s = cdnow_weeks.take(np.arange(0, 2357, 7))
    x = np.concatenate([s.frequency, [0.0, 500.0, 3000.0]])
    tx = np.concatenate([s.recency, [0.0, 0.5, 70.0]])
    T = np.concatenate([s.T, [1e-3, 80.0, 70.0]])
    values, grad = kernel.loglik(params, x, tx, T)

    def ll(p: np.ndarray) -> np.ndarray:
        return kernel.loglik(p, x, tx, T)[0]

    h = 1e-3
    # Differences resolve a gradient only to ~ (rounding of log L) / h; log L reaches 1e4 here.
    resolution = 1e-13 * np.abs(values) / h + 1e-10

    for j in range(4):
        # Richardson-extrapolated central differences on the log scale: error O(h^4) + rounding.
        def central(h: float, j: int = j) -> np.ndarray:
            up, dn = params.copy(), params.copy()
            up[j] *= math.exp(h)
            dn[j] *= math.exp(-h)
            return (ll(up) - ll(dn)) / (2 * h) / params[j]

        num = (4 * central(h / 2) - central(h)) / 3
        assert np.all(np.abs(grad[:, j] - num) <= 1e-7 * np.abs(num) + resolution)
