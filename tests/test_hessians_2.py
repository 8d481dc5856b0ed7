"""Analytic Hessians of the Pareto/NBD, CNBD-k and Gamma-Gompertz/NBD kernels (the engines' ``_loglik_hessian`` hook,
issue 16).

Each Hessian is checked against central finite differences of the analytic gradient (which the model tests check
against differences of the log-likelihood and against mpmath) over rows with x = 0, large x, tx = T and extreme
parameters, and against mpmath's differentiation of the published likelihood at high precision; the value and
gradient of the Hessian kernel must be those of ``_loglik`` exactly.
"""

from __future__ import annotations

from collections.abc import Callable

import mpmath
import numpy as np
import pytest

from clvkit.datasets import load_cdnow_summary
from clvkit.valuation.models import _cnbd
from clvkit.valuation.models import _ggomnbd as ggom
from clvkit.valuation.models import _paretonbd as pnbd
from clvkit.valuation.models import _paretonbd_g as g_kernel
from clvkit.valuation.models.cnbd import (
    CNBD,
    BetaGeoCNBD,
    BetaGeoCNBDParams,
    FittedBetaGeoCNBD,
    ModifiedBetaGeoCNBD,
    _rows_data,
)
from clvkit.valuation.models.gamma_gompertz_nbd import GammaGompertzNBD
from clvkit.valuation.models.pareto_nbd import ParetoNBD

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")

Gradient = Callable[[np.ndarray], np.ndarray]


def _rows(seed: int, n: int = 240) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows with every awkward kind: x = 0, x = 1, very large x, tx = T, tx close to T, short and long ages."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 40, n).astype(np.float64)
    x[:20] = 0.0
    x[20:30] = 3000.0
    x[30:40] = 1.0
    T = np.round(rng.uniform(0.5, 150.0, n), 2)
    tx = np.where(x > 0, np.round(T * rng.uniform(0.0, 1.0, n), 2), 0.0)
    tx[40:60] = T[40:60]
    tx[60:70] = np.where(x[60:70] > 0, T[60:70] - 1e-3, 0.0)
    return x, tx, T


def _scaled_fd_check(params: np.ndarray, hess: np.ndarray, gradient: Gradient, rtol: float = 1e-6) -> float:
    """Compare ``hess`` with central differences of ``gradient`` in log-parameters, both scaled by the parameters
    (``D H D``, ``D = diag(params)``: unit-free, so one tolerance serves every scale). Returns the largest error
    relative to each row's largest entry (entries below 1e-3 in a row compare at 1e-3: there the differences of a
    gradient that is itself a difference of large terms carry more noise than the Hessian's size)."""
    h = 1e-4
    columns = []
    for j in range(params.shape[0]):
        up, down = params.copy(), params.copy()
        up[j] *= np.exp(h)
        down[j] *= np.exp(-h)
        columns.append((gradient(up) - gradient(down)) / (2 * h))
    fd = np.stack(columns, axis=2) * params[None, :, None]  # d(grad_i)/d(log p_j) * p_i
    mine = hess * params[None, :, None] * params[None, None, :]
    scale = np.maximum(np.abs(mine).max(axis=(1, 2)), 1e-3)
    err = np.abs(mine - fd).max(axis=(1, 2)) / scale
    worst = int(np.argmax(err))
    assert err[worst] <= rtol, (worst, mine[worst], fd[worst])
    return float(err.max())


def _sym_check(hess: np.ndarray) -> None:
    assert np.all(np.isfinite(hess))
    assert np.array_equal(hess, hess.transpose(0, 2, 1))


# --------------------------------------------------------------------------------------------- log G
@pytest.mark.parametrize("route", ["series", "quadrature"])
def test_log_g_second_derivatives_match_differences_of_its_gradient(route: str) -> None:
    rng = np.random.default_rng(7)
    n = 600
    # z = 1 - kappa or 1 - 1/kappa: |log kappa| <= 2.3 keeps z <= 0.9 (series), beyond it the quadrature.
    lk = rng.uniform(-2.2, 2.2, n) if route == "series" else rng.choice([-1, 1], n) * rng.uniform(2.4, 12.0, n)
    lk[:5] = 0.0 if route == "series" else lk[:5]
    p, q = np.exp(rng.uniform(-5.0, 6.0, n)), np.exp(rng.uniform(-5.0, 6.0, n))
    hess6 = np.empty((n, 6))
    values = g_kernel.log_g(lk, p, q, True, hess6)
    plain = g_kernel.log_g(lk, p, q, True)
    for a, b in zip(values, plain, strict=True):
        assert np.array_equal(a, b)  # the same values and first derivatives with or without the Hessian
    hess = np.empty((n, 3, 3))
    for k, (i, j) in enumerate(((0, 0), (0, 1), (0, 2), (1, 1), (1, 2), (2, 2))):
        hess[:, i, j] = hess[:, j, i] = hess6[:, k]
    h = 1e-5
    # Differences in (log kappa, log p, log q); the Hessian scaled accordingly.
    columns = []
    for j in range(3):
        step = np.zeros((3, n))
        step[j] = h
        up = g_kernel.log_g(lk + step[0], p * np.exp(step[1]), q * np.exp(step[2]), True)
        down = g_kernel.log_g(lk - step[0], p * np.exp(-step[1]), q * np.exp(-step[2]), True)
        columns.append((np.stack(up[1:], axis=1) - np.stack(down[1:], axis=1)) / (2 * h))
    scale = np.stack([np.ones(n), p, q], axis=1)
    fd = np.stack(columns, axis=2) * scale[:, :, None]
    mine = hess * scale[:, :, None] * scale[:, None, :]
    row_scale = np.maximum(np.abs(mine).max(axis=(1, 2)), 1e-3)
    err = np.abs(mine - fd).max(axis=(1, 2)) / row_scale
    assert err.max() <= 1e-6, (int(np.argmax(err)), err.max())


# ------------------------------------------------------------------------------------------ Pareto/NBD
PNBD_PARAMS = [
    (0.553, 10.578, 0.606, 11.669),  # CDNOW (Fader, Hardie & Lee 2005)
    (1e-3, 1e3, 50.0, 1e-2),
    (30.0, 1e-2, 2e-3, 500.0),
    (0.2, 1e-3, 0.3, 1e-3),
    (100.0, 1e4, 100.0, 1e4),
    (2.0, 2.0, 2.0, 2.0),  # alpha = beta: kappa = 1 at every age
]


@pytest.mark.parametrize("params", PNBD_PARAMS)
def test_pareto_nbd_hessian_matches_differences_of_the_gradient(params: tuple[float, ...]) -> None:
    x, tx, T = _rows(11)
    p = np.array(params)
    groups = pnbd.group_rows(x, tx, T)
    ll, grad, hess = pnbd.loglik_hessian(p, x, tx, T)
    ll_g, grad_g, hess_g = pnbd.loglik_hessian(p, x, tx, T, groups)
    for got, want in ((ll, pnbd.loglik(p, x, tx, T)[0]), (grad, pnbd.loglik(p, x, tx, T)[1]),
                      (ll_g, pnbd.loglik(p, x, tx, T, groups)[0]), (grad_g, pnbd.loglik(p, x, tx, T, groups)[1])):
        assert np.array_equal(got, want)
    _sym_check(hess)
    np.testing.assert_allclose(hess_g, hess, rtol=1e-12, atol=1e-300)
    _scaled_fd_check(p, hess, lambda q: pnbd.loglik(q, x, tx, T)[1])


def test_pareto_nbd_hessian_with_a_row_of_parameters_per_key() -> None:
    """Customers with covariates: ``params`` of shape (m, 4), one row per key (the keyed groups of a covariate fit);
    every row's Hessian is the one at its key's parameters."""
    x, tx, T = _rows(12, 120)
    key = np.arange(x.shape[0]) % 3
    rows = np.array([[0.55, 10.6, 0.61, 11.7], [0.55, 5.0, 0.61, 30.0], [0.55, 20.0, 0.61, 2.0]])
    groups = pnbd.group_rows(x, tx, T, key)
    ll, grad, hess = pnbd.loglik_hessian(rows, x, tx, T, groups)
    assert np.array_equal(ll, pnbd.loglik(rows, x, tx, T, groups)[0])
    assert np.array_equal(grad, pnbd.loglik(rows, x, tx, T, groups)[1])
    for k in range(3):
        at = key == k
        single = pnbd.loglik_hessian(rows[k], x[at], tx[at], T[at])[2]
        np.testing.assert_allclose(hess[at], single, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize(("params", "row"), [
    ((0.553, 10.578, 0.606, 11.669), (2.0, 30.43, 38.86)),
    ((0.553, 10.578, 0.606, 11.669), (0.0, 0.0, 38.86)),
    ((3.0, 0.5, 0.2, 40.0), (25.0, 20.0, 20.0)),  # tx = T
])
def test_pareto_nbd_hessian_matches_mpmath(params: tuple[float, ...], row: tuple[float, float, float]) -> None:
    """mpmath differentiates the published likelihood (Fader & Hardie 2005, "A Note on Deriving the Pareto/NBD Model
    and Related Expressions", eqs. 22-23, the dropout integral by quadrature) at 30 digits."""
    x, tx, T = row

    def mp_ll(r: mpmath.mpf, alpha: mpmath.mpf, s: mpmath.mpf, beta: mpmath.mpf) -> mpmath.mpf:
        alive = (alpha + T) ** -(r + x) * (beta + T) ** -s
        dead = s * mpmath.quad(lambda t: (alpha + t) ** -(r + x) * (beta + t) ** -(s + 1), [tx, T]) if T > tx else 0
        return (mpmath.loggamma(r + x) - mpmath.loggamma(r) + r * mpmath.log(alpha) + s * mpmath.log(beta)
                + mpmath.log(alive + dead))

    with mpmath.workdps(30):
        ref = np.empty((4, 4))
        for i in range(4):
            for j in range(i, 4):
                order = [0, 0, 0, 0]
                order[i] += 1
                order[j] += 1
                ref[i, j] = ref[j, i] = float(mpmath.diff(mp_ll, [mpmath.mpf(v) for v in params], tuple(order)))
    hess = pnbd.loglik_hessian(np.array(params), np.array([x]), np.array([tx]), np.array([T]))[2][0]
    np.testing.assert_allclose(hess, ref, rtol=1e-9, atol=1e-12 * np.abs(ref).max())


def test_pareto_nbd_engine_hook_is_loglik_with_the_hessian() -> None:
    engine = ParetoNBD()
    data, _ = engine._prepare(load_cdnow_summary())
    params = np.array([0.553, 10.578, 0.606, 11.669])
    hook = type(engine)._loglik_hessian
    assert hook is not None and engine._loglik_hessian is hook  # unbound either way
    ll, grad, hess = hook(params, data)
    ll0, grad0 = engine._loglik(params, data)
    assert np.array_equal(ll, ll0) and np.array_equal(grad, grad0)
    assert hess.shape == (ll.shape[0], 4, 4)


# ----------------------------------------------------------------------------------------- CNBD-k family
CNBD_CONT = [(1.0, 3.0, 0.8, 4.0), (1e-3, 1e3, 50.0, 1e-2), (30.0, 1e-2, 2e-3, 500.0), (0.3, 20.0, 0.5, 0.7)]


@pytest.mark.parametrize("family", [_cnbd.NBD, _cnbd.BG, _cnbd.MBG])
@pytest.mark.parametrize("k", [1, 2, 3, 7])
@pytest.mark.parametrize("cont", CNBD_CONT)
def test_cnbd_hessian_matches_differences_of_the_gradient(family: str, k: int, cont: tuple[float, ...]) -> None:
    x, tx, T = _rows(21)
    c = np.array(cont[: 2 if family == _cnbd.NBD else 4])
    params = np.concatenate([[float(k)], c])
    codes = np.unique(x, return_inverse=True)
    ll, grad, hess = _cnbd.loglik_hessian(params, x, tx, T, 0.0, family, codes)
    ll0, grad0 = _cnbd.loglik(params, x, tx, T, 0.0, family, codes)
    assert np.array_equal(ll, ll0) and np.array_equal(grad, grad0)
    _sym_check(hess)
    direct = _cnbd.loglik_hessian(params, x, tx, T, 0.0, family)[2]
    np.testing.assert_allclose(direct, hess, rtol=1e-12, atol=1e-300)

    def gradient(q: np.ndarray) -> np.ndarray:
        return _cnbd.loglik(np.concatenate([[float(k)], q]), x, tx, T, 0.0, family)[1]

    _scaled_fd_check(c, hess, gradient)


@pytest.mark.parametrize("family", [_cnbd.BG, _cnbd.MBG])
@pytest.mark.parametrize("k", [1, 3])
def test_cnbd_hessian_matches_mpmath(family: str, k: int) -> None:
    """mpmath differentiates the likelihood of Reutterer, Platzer & Schroeder (2020, eq. 6), written out here:
    ``Gamma(R0) alpha^r / (Gamma(r) (alpha+T)^R0) B(a, b+x+m)/B(a, b) [sum_{j<k} (R0)_j/j! u^j + a/(b+x-1+m)
    ((alpha+T)/(alpha+tx))^R0]`` (without the constant ``(k-1) litt - x log Gamma(k)``)."""
    x, tx, T = 4.0, 20.0, 52.0
    m = 1 if family == _cnbd.MBG else 0

    def mp_ll(r: mpmath.mpf, alpha: mpmath.mpf, a: mpmath.mpf, b: mpmath.mpf) -> mpmath.mpf:
        R0 = r + k * x
        u = (T - tx) / (alpha + T)
        phases = mpmath.fsum(mpmath.rf(R0, j) / mpmath.factorial(j) * u**j for j in range(k))
        dead = a / (b + x - 1 + m) * ((alpha + T) / (alpha + tx)) ** R0
        return (mpmath.loggamma(R0) - mpmath.loggamma(r) + r * mpmath.log(alpha) - R0 * mpmath.log(alpha + T)
                + mpmath.log(mpmath.beta(a, b + x + m) / mpmath.beta(a, b)) + mpmath.log(phases + dead))

    params = (0.9, 2.5, 0.7, 3.0)
    with mpmath.workdps(30):
        ref = np.empty((4, 4))
        for i in range(4):
            for j in range(i, 4):
                order = [0, 0, 0, 0]
                order[i] += 1
                order[j] += 1
                ref[i, j] = ref[j, i] = float(mpmath.diff(mp_ll, [mpmath.mpf(v) for v in params], tuple(order)))
    hess = _cnbd.loglik_hessian(np.array([k, *params]), np.array([x]), np.array([tx]), np.array([T]), 0.0,
                                family)[2][0]
    np.testing.assert_allclose(hess, ref, rtol=1e-10, atol=1e-13 * np.abs(ref).max())


@pytest.mark.parametrize("engine", [CNBD(), BetaGeoCNBD(), ModifiedBetaGeoCNBD()])
def test_cnbd_engine_hooks_are_loglik_with_the_hessian(engine: CNBD) -> None:
    rng = np.random.default_rng(5)
    x = rng.integers(0, 12, 300).astype(np.float64)
    T = np.full(300, 52.0)
    tx = np.where(x > 0, np.round(rng.uniform(0, 52, 300), 1), 0.0)
    data = {**_rows_data(x, tx, T), "k": np.array([3.0])}
    params = np.array([1.0, 3.0, 0.8, 4.0])[: len(engine.param_names)]
    hook = type(engine)._loglik_hessian
    assert hook is not None
    ll, grad, hess = hook(params, data)
    ll0, grad0 = engine._loglik(params, data)
    assert np.array_equal(ll, ll0) and np.array_equal(grad, grad0)
    assert hess.shape == (300, len(params), len(params))


def test_cnbd_fit_maximises_the_kernel_at_its_k() -> None:
    """The per-k fit evaluates the engine's ``_loglik`` with k in the data: at the estimates the kernel's gradient at
    that k vanishes (and at another k it does not)."""
    truth = FittedBetaGeoCNBD(params=BetaGeoCNBDParams(k=2, r=1.0, alpha=3.0, a=0.8, b=4.0), time_unit="W")
    summary = truth.simulate(np.full(2000, 52.0), seed=5)
    fitted = BetaGeoCNBD(k=2).fit(summary)
    x, tx, T = summary.frequency.astype(np.float64), summary.recency, summary.T
    for k, small in ((2, True), (3, False)):
        grad = _cnbd.loglik(np.array([float(k), *fitted.param_array()]), x, tx, T, 0.0, _cnbd.BG)[1]
        scaled = np.abs(grad.mean(axis=0) * fitted.param_array()).max()
        assert bool(scaled < 1e-7) is small, (k, scaled)


# ------------------------------------------------------------------------------------------ Gamma-Gompertz/NBD
GGOM_PARAMS = [
    (0.55, 10.6, 0.05, 0.61, 0.6),
    (1.2, 3.0, 0.3, 2.0, 5.0),
    (0.3, 40.0, 1e-3, 0.5, 0.02),  # b near 0 (the Pareto/NBD limit), beta < 1
    (5.0, 1.0, 0.02, 0.3, 1.5),
]


def _ggom_rows(chain: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Whole-day ages with few frequencies (the chain over all ages) or continuous ages (one tail per pair)."""
    rng = np.random.default_rng(3)
    if chain:
        n = 3000
        x = rng.integers(0, 8, n).astype(np.float64)
        x[20:30] = 60.0
        T = rng.integers(1, 60, n).astype(np.float64)
        tx = np.where(x > 0, np.round(T * rng.uniform(0.0, 1.0, n)), 0.0)
    else:
        n = 200
        x = rng.integers(0, 30, n).astype(np.float64)
        x[20:30] = 500.0
        T = rng.uniform(1.0, 100.0, n)
        tx = np.where(x > 0, T * rng.uniform(0.0, 1.0, n), 0.0)
    x[:20] = 0.0
    tx[:20] = 0.0
    tx[40:60] = np.where(x[40:60] > 0, T[40:60], 0.0)
    return x, tx, T


@pytest.mark.parametrize("chain", [True, False])
@pytest.mark.parametrize("params", GGOM_PARAMS)
def test_ggomnbd_hessian_matches_differences_of_the_gradient(chain: bool, params: tuple[float, ...]) -> None:
    x, tx, T = _ggom_rows(chain)
    groups = ggom.group_rows(x, tx, T)
    assert ggom._uses_chain(groups) is chain
    p = np.array(params)
    ll, grad, hess = ggom.loglik_hessian(p, x, tx, T, groups)
    ll0, grad0 = ggom.loglik(p, x, tx, T, groups)
    # The same node sums, in matrix products with more columns: equal to rounding.
    np.testing.assert_allclose(ll, ll0, rtol=1e-14, atol=0)
    np.testing.assert_allclose(grad, grad0, rtol=1e-11, atol=1e-13 * np.abs(grad0).max())
    _sym_check(hess)
    _scaled_fd_check(p, hess, lambda q: ggom.loglik(q, x, tx, T, groups)[1])
    weights = np.random.default_rng(4).uniform(1.0, 5.0, x.shape[0])
    total, total_grad, total_hess = ggom.loglik_hessian_summed(p, x, tx, T, weights, groups)
    ll_sum, grad_sum = ggom.loglik_summed(p, x, tx, T, weights, groups)
    np.testing.assert_allclose(total, ll_sum, rtol=1e-14)
    np.testing.assert_allclose(total_grad, grad_sum, rtol=1e-11, atol=1e-12 * np.abs(grad_sum).max())
    np.testing.assert_allclose(total_hess[0], np.einsum("i,ijk->jk", weights, hess), rtol=1e-11,
                               atol=1e-13 * np.abs(total_hess).max())


def test_ggomnbd_hessian_matches_mpmath() -> None:
    """mpmath differentiates Bemmaor & Glady's (2012) eq. 7 with the Gamma-Gompertz survival and density of their
    eqs. 3-4, the dropout integral by quadrature, at 25 digits."""
    x, tx, T = 3.0, 20.0, 45.0
    params = (0.8, 6.0, 0.05, 0.7, 1.8)

    def mp_ll(r: mpmath.mpf, alpha: mpmath.mpf, b: mpmath.mpf, s: mpmath.mpf, beta: mpmath.mpf) -> mpmath.mpf:
        def den(t: mpmath.mpf) -> mpmath.mpf:
            return beta - 1 + mpmath.exp(b * t)

        def density(t: mpmath.mpf) -> mpmath.mpf:
            return s * b * mpmath.exp(b * t) * beta**s / den(t) ** (s + 1)

        alive = (alpha + T) ** -(r + x) * (beta / den(T)) ** s
        dead = mpmath.quad(lambda t: (alpha + t) ** -(r + x) * density(t), [tx, T])
        return mpmath.loggamma(r + x) - mpmath.loggamma(r) + r * mpmath.log(alpha) + mpmath.log(alive + dead)

    with mpmath.workdps(25):
        ref = np.empty((5, 5))
        for i in range(5):
            for j in range(i, 5):
                order = [0] * 5
                order[i] += 1
                order[j] += 1
                ref[i, j] = ref[j, i] = float(mpmath.diff(mp_ll, [mpmath.mpf(v) for v in params], tuple(order)))
    hess = ggom.loglik_hessian(np.array(params), np.array([x]), np.array([tx]), np.array([T]))[2][0]
    np.testing.assert_allclose(hess, ref, rtol=1e-9, atol=1e-11 * np.abs(ref).max())


def test_ggomnbd_engine_hook_is_the_summed_loglik_with_the_hessian() -> None:
    engine = GammaGompertzNBD()
    data, _ = engine._prepare(load_cdnow_summary())
    params = np.array([0.55, 10.6, 0.05, 0.61, 0.6])
    hook = type(engine)._loglik_hessian
    assert hook is not None
    ll, grad, hess = hook(params, data)
    ll0, grad0 = engine._loglik(params, data)
    assert ll.shape == (1,) and grad.shape == (1, 5) and hess.shape == (1, 5, 5)
    np.testing.assert_allclose(ll, ll0, rtol=1e-14)
    np.testing.assert_allclose(grad, grad0, rtol=1e-11, atol=1e-12 * np.abs(grad0).max())
