"""Newton's method with analytic per-row Hessians (issue 16): the BG/NBD, MBG/NBD and BG/BB Hessian kernels against
central differences of their analytic gradients, the estimation template's Newton route against its BFGS route,
honest evaluation counts, and the pass budget of a fit (<= 12 likelihood passes)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from clvkit import ConvergenceError, CustomerSummary, InvalidInputError
from clvkit.valuation import (
    BetaGeo,
    BetaGeoBetaBinom,
    BetaGeoBetaBinomParams,
    BetaGeoParams,
    FittedBetaGeo,
    FittedBetaGeoBetaBinom,
    FittedModifiedBetaGeo,
    ModifiedBetaGeo,
    ModifiedBetaGeoParams,
)
from clvkit.valuation.models import _bgbb, _bgnbd, _estimation, _mbgnbd
from clvkit.valuation.models._estimation import maximize_likelihood

FloatArray = npt.NDArray[np.float64]
Kernel = Callable[[FloatArray], tuple[FloatArray, FloatArray]]


def _richardson_jacobian(grad: Callable[[FloatArray], FloatArray], params: FloatArray, h: float = 1e-3
                         ) -> FloatArray:
    """``d grad_i / d log params_j`` by the five-point central difference (truncation O(h^4) ~ 1e-12 of the
    curvature scale, rounding ~1e-13 / h): an independent check of an analytic Hessian, shape (n, k, k)."""
    k = params.shape[0]
    cols = []
    for j in range(k):
        def at(step: float, j: int = j) -> FloatArray:
            p = params.copy()
            p[j] *= np.exp(step)
            return grad(p)

        d = (8.0 * (at(h) - at(-h)) - (at(2 * h) - at(-2 * h))) / (12.0 * h)
        cols.append(d)
    return np.stack(cols, axis=2)


def _check_hessian(kernel: Callable[..., tuple[FloatArray, ...]], hessian_kernel: Callable[..., tuple[FloatArray, ...]],
                   params: FloatArray, *cols: FloatArray) -> None:
    ll, grad, hess = hessian_kernel(params, *cols)
    ll0, grad0 = kernel(params, *cols)
    # The Hessian kernel's log-likelihood and gradient are the likelihood kernel's.
    np.testing.assert_allclose(ll, ll0, rtol=1e-14, atol=0)
    np.testing.assert_allclose(grad, grad0, rtol=1e-11, atol=1e-14 * float(np.max(np.abs(grad0))))
    assert hess.shape == (ll.shape[0], params.shape[0], params.shape[0])
    np.testing.assert_array_equal(hess, np.swapaxes(hess, 1, 2))
    # Compared on the optimiser's (log) scale, p_i p_j H_ij against p_i d grad_i / d log p_j, relative to each
    # row's curvature scale (its largest |entry|, and the gradient's size for the rounding of the differences);
    # a row that carries no information (x = 0, T = 0: likelihood 1 whatever the parameters) has none: its
    # Hessian must be 0 to rounding.
    numeric = _richardson_jacobian(lambda p: kernel(p, *cols)[1], params) * params[None, :, None]
    scaled = hess * np.outer(params, params)[None, :, :]
    scale = np.maximum(np.max(np.abs(scaled), axis=(1, 2)), 1e-3 * np.max(np.abs(grad0 * params), axis=1))
    abs_err = np.max(np.abs(numeric - scaled), axis=(1, 2))
    err = abs_err / np.maximum(scale, 1e-300)
    flat = scale < 1e-8
    assert np.all(err[~flat] < 1e-6), (params, err)
    assert np.all(abs_err[flat] < 1e-9) and np.all(scale[flat] < 1e-8)


# Rows: no repeat purchase (T > 0 and T = 0), tx = T, large x, recent and old last purchases, whole and
# fractional times.
_X = np.array([0.0, 0.0, 1.0, 2.0, 5.0, 30.0, 200.0, 3.0, 1.0, 1.0, 12.0])
_TX = np.array([0.0, 0.0, 3.0, 30.43, 38.0, 49.9, 60.0, 5.0, 0.5, 7.0, 360.0])
_T = np.array([10.0, 0.0, 20.0, 38.86, 38.0, 50.0, 60.0, 5.0, 7.0, 7.0, 540.0])
_BG_PARAMS = [
    np.array([0.243, 4.414, 0.793, 2.426]),  # CDNOW (Fader, Hardie & Lee 2005)
    np.array([5.0, 0.1, 50.0, 0.01]),
    np.array([0.01, 300.0, 0.02, 200.0]),
    np.array([1e3, 1e3, 1e-3, 1e3]),
]


@pytest.mark.parametrize("params", _BG_PARAMS)
def test_bgnbd_hessian_matches_differences_of_the_gradient(params: FloatArray) -> None:
    _check_hessian(_bgnbd.loglik, _bgnbd.loglik_hessian, params, _X, _TX, _T)


def test_bgnbd_hessian_on_the_engines_tabulated_data() -> None:
    # The engine's data: distinct frequencies and lookup tables of T and tx (many repeated rows).
    rng = np.random.default_rng(3)
    summary = FittedBetaGeo(params=BetaGeoParams(r=0.243, alpha=4.414, a=0.793, b=2.426), time_unit="W").simulate(
        rng.integers(1, 40, 5000).astype(float), seed=4)
    engine = BetaGeo()
    data, _ = engine._prepare(summary)
    assert "T_code" in data and "x_code" in data
    hook = type(engine)._loglik_hessian
    assert hook is not None
    for params in _BG_PARAMS[:2]:
        _check_hessian(lambda p, d: engine._loglik(p, d), hook, params, data)


@pytest.mark.parametrize("params", _BG_PARAMS)
def test_mbgnbd_hessian_matches_differences_of_the_gradient(params: FloatArray) -> None:
    _check_hessian(_mbgnbd.loglik, _mbgnbd.loglik_hessian, params, _X, _TX, _T)
    # Whole-numbered columns take the tabulated route of the kernel.
    x, tx, T = np.array([0.0, 0, 1, 4, 9]), np.array([0.0, 0, 3, 4, 20]), np.array([0.0, 5, 9, 4, 30])
    assert all(i is not None for i in _mbgnbd.count_indices(x, tx, T))
    _check_hessian(_mbgnbd.loglik, _mbgnbd.loglik_hessian, params, x, tx, T)


# BG/BB rows: x = tx = n, no transaction, short and long gaps n - tx (beyond the direct terms: the
# Euler-Maclaurin tail), and a million opportunities.
_BB_X = np.array([0.0, 0.0, 1.0, 2.0, 5.0, 3.0, 6.0, 0.0, 4.0, 100.0, 7.0, 40.0])
_BB_TX = np.array([0.0, 0.0, 1.0, 5.0, 6.0, 3.0, 6.0, 0.0, 200.0, 150.0, 7.0, 90.0])
_BB_N = np.array([6.0, 1.0, 6.0, 6.0, 6.0, 3.0, 6.0, 300.0, 1000.0, 1000.0, 1e6, 100.0])


@pytest.mark.parametrize("params", [
    np.array([1.204, 0.750, 0.657, 2.783]),  # donations (Fader, Hardie & Shang 2010)
    np.array([0.05, 30.0, 0.02, 0.5]),
    np.array([40.0, 0.3, 5.0, 0.05]),
    np.array([0.5, 2.0, 20.0, 200.0]),
])
def test_bgbb_hessian_matches_differences_of_the_gradient(params: FloatArray) -> None:
    _check_hessian(_bgbb.loglik, _bgbb.loglik_hessian, params, _BB_X, _BB_TX, _BB_N)


def test_bgbb_hessian_of_repeated_rows_is_computed_once() -> None:
    rng = np.random.default_rng(5)
    n = rng.integers(1, 12, 3000).astype(float)
    x = np.floor(rng.random(3000) * (n + 1))
    tx = np.where(x > 0, np.maximum(x, np.floor(rng.random(3000) * (n + 1))), 0.0)
    params = np.array([1.2, 0.75, 0.66, 2.78])
    grouped = _bgbb.loglik_hessian(params, x, tx, n)
    one_by_one = [_bgbb.loglik_hessian(params, x[i:i + 1], tx[i:i + 1], n[i:i + 1]) for i in range(0, 3000, 97)]
    for part, i in zip(one_by_one, range(0, 3000, 97), strict=True):
        for a, b in zip(part, grouped, strict=True):
            np.testing.assert_allclose(a[0], b[i], rtol=1e-13, atol=1e-15)


# ---------------------------------------------------------------------------------------------- the template
def _counted(kernel: Callable[..., Any], calls: list[int]) -> Callable[..., Any]:
    def run(*args: Any) -> Any:
        calls[0] += 1
        return kernel(*args)

    return run


def _engine_pair(engine: Any, summary: CustomerSummary) -> tuple[Any, Any, Mapping[str, Any], FloatArray, FloatArray]:
    data, weights = engine._prepare(summary)
    return (lambda p, d: engine._loglik(p, d)), type(engine)._loglik_hessian, data, weights, engine._start(data,
                                                                                                           weights)


@pytest.mark.parametrize("penalizer", [0.0, 0.05])
def test_newton_and_bfgs_routes_reach_the_same_optimum(cdnow_weeks: CustomerSummary, penalizer: float) -> None:
    loglik, hessian, data, weights, start = _engine_pair(BetaGeo(), cdnow_weeks)
    names = ("r", "alpha", "a", "b")
    plain = maximize_likelihood(loglik, data, weights, start, model="BG", param_names=names, penalizer=penalizer)
    calls = [0, 0]
    newton = maximize_likelihood(_counted(loglik, calls[:1]), data, weights, start, model="BG", param_names=names,
                                 penalizer=penalizer, loglik_hessian=_counted(hessian, calls[1:]))
    # Both converge to tol (1e-9 on the gradient of the mean log-likelihood): the estimates agree far below
    # their standard errors, and the standard errors (exact Hessian against differences) to ~1e-6.
    np.testing.assert_allclose(newton.params, plain.params, rtol=1e-6)
    assert newton.log_likelihood == pytest.approx(plain.log_likelihood, rel=1e-9)
    assert newton.standard_errors is not None and plain.standard_errors is not None
    np.testing.assert_allclose(newton.standard_errors, plain.standard_errors, rtol=1e-5)
    assert newton.gradient_norm < 1e-9
    assert newton.n_evaluations < plain.n_evaluations


def test_every_kernel_call_is_counted(cdnow_weeks: CustomerSummary) -> None:
    loglik, hessian, data, weights, start = _engine_pair(ModifiedBetaGeo(), cdnow_weeks)
    plain_calls, hessian_calls = [0], [0]
    result = maximize_likelihood(_counted(loglik, plain_calls), data, weights, start, model="MBG",
                                 param_names=("r", "alpha", "a", "b"),
                                 loglik_hessian=_counted(hessian, hessian_calls))
    assert hessian_calls[0] >= 2
    assert result.n_evaluations == plain_calls[0] + hessian_calls[0]


def test_a_failing_hessian_falls_back_to_bfgs(cdnow_weeks: CustomerSummary) -> None:
    loglik, hessian, data, weights, start = _engine_pair(BetaGeo(), cdnow_weeks)
    names = ("r", "alpha", "a", "b")

    def broken(params: FloatArray, d: Mapping[str, Any]) -> tuple[FloatArray, FloatArray, FloatArray]:
        ll, grad, hess = hessian(params, d)
        return ll, grad, np.full_like(hess, np.nan)

    reference = maximize_likelihood(loglik, data, weights, start, model="BG", param_names=names)
    with pytest.warns(Warning, match="not positive definite"):
        result = maximize_likelihood(loglik, data, weights, start, model="BG", param_names=names,
                                     loglik_hessian=broken)
    np.testing.assert_allclose(result.params, reference.params, rtol=1e-6)
    assert "Newton" not in result.message


def test_objective_hessian_on_the_optimiser_scale_with_penalties_and_coefficients() -> None:
    # A toy kernel with two positive parameters and one free coefficient: ll = -(p0 - 2)^2 p1 - (p1 - 1)^2 c^2
    # - exp(c) p0, its exact derivatives by hand; the objective's Hessian on (log p0, log p1, c) with both
    # penalties must equal differences of its gradient.
    def kernel_h(params: FloatArray, _data: Mapping[str, Any]) -> tuple[FloatArray, FloatArray, FloatArray]:
        p0, p1, c = params
        ll = -(p0 - 2) ** 2 * p1 - (p1 - 1) ** 2 * c * c - np.exp(c) * p0
        g = np.array([-2 * (p0 - 2) * p1 - np.exp(c), -(p0 - 2) ** 2 - 2 * (p1 - 1) * c * c,
                      -2 * (p1 - 1) ** 2 * c - np.exp(c) * p0])
        h = np.array([[-2 * p1, -2 * (p0 - 2), -np.exp(c)],
                      [-2 * (p0 - 2), -2 * c * c, -4 * (p1 - 1) * c],
                      [-np.exp(c), -4 * (p1 - 1) * c, -2 * (p1 - 1) ** 2 - np.exp(c) * p0]])
        return np.array([ll]), g[None, :], h[None, :, :]

    def kernel(params: FloatArray, data: Mapping[str, Any]) -> tuple[FloatArray, FloatArray]:
        return kernel_h(params, data)[:2]

    counter = [0]
    lambdas = np.array([0.3])
    plain = _estimation._objective(kernel, {}, np.ones(1), 1.0, 0.2, counter, False, [np.inf], 1, lambdas)
    fun = _estimation._NewtonObjective(plain, kernel_h, {}, np.ones(1), 1.0, 0.2, counter, [np.inf], 1, lambdas)
    theta = np.array([np.log(1.5), np.log(0.7), 0.4])
    value, grad, hess = fun.full(theta)
    assert value == pytest.approx(plain(theta)[0], rel=1e-15)
    np.testing.assert_allclose(grad, plain(theta)[1], rtol=1e-14)
    h = 1e-4
    numeric = np.empty((3, 3))
    for j in range(3):
        e = np.zeros(3)
        e[j] = h
        numeric[:, j] = (8 * (plain(theta + e)[1] - plain(theta - e)[1])
                         - (plain(theta + 2 * e)[1] - plain(theta - 2 * e)[1])) / (12 * h)
    np.testing.assert_allclose(hess, numeric, rtol=1e-8, atol=1e-10)


def test_summed_hessian_kernels_give_the_per_row_fit(cdnow_weeks: CustomerSummary) -> None:
    # A summed kernel (weighted totals, shapes (1,), (1, k), (1, k, k)) takes the same Newton route.
    loglik, hessian, data, weights, start = _engine_pair(BetaGeo(), cdnow_weeks)
    names = ("r", "alpha", "a", "b")

    def summed(params: FloatArray, d: Mapping[str, Any]) -> tuple[FloatArray, FloatArray]:
        ll, grad = loglik(params, d)
        return np.array([weights @ ll]), (weights @ grad)[None, :]

    def summed_h(params: FloatArray, d: Mapping[str, Any]) -> tuple[FloatArray, FloatArray, FloatArray]:
        ll, grad, hess = hessian(params, d)
        return (np.array([weights @ ll]), (weights @ grad)[None, :],
                np.einsum("i,ijk->jk", weights, hess)[None, :, :])

    rows = maximize_likelihood(loglik, data, weights, start, model="BG", param_names=names, loglik_hessian=hessian)
    totals = maximize_likelihood(summed, data, np.ones(1), start, model="BG", param_names=names, summed=True,
                                 total_weight=float(weights.sum()), loglik_hessian=summed_h)
    np.testing.assert_allclose(totals.params, rows.params, rtol=1e-8)
    assert totals.standard_errors is not None and rows.standard_errors is not None
    np.testing.assert_allclose(totals.standard_errors, rows.standard_errors, rtol=1e-6)
    assert totals.n_evaluations <= _PASS_BUDGET and totals.message.startswith("Newton")


def test_loglik_hessian_is_refused_with_a_hessian_callback() -> None:
    def kernel(params: FloatArray, _data: Mapping[str, Any]) -> tuple[FloatArray, FloatArray]:
        return np.zeros(1), np.zeros((1, 1))

    def kernel_h(params: FloatArray, _data: Mapping[str, Any]) -> tuple[FloatArray, FloatArray, FloatArray]:
        return np.zeros(1), np.zeros((1, 1)), np.zeros((1, 1, 1))

    with pytest.raises(InvalidInputError, match="loglik_hessian"):
        maximize_likelihood(kernel, {}, np.ones(1), np.ones(1), model="toy", param_names=("p",),
                            hessian=lambda p: (np.zeros((1, 1)), 0), loglik_hessian=kernel_h)


def test_flat_likelihood_is_still_refused() -> None:
    # Nobody repeats and every T is 0: the likelihood is 1 whatever the parameters (the engines refuse such data
    # before; the optimiser must too).
    zero = np.zeros(3)
    with pytest.raises(ConvergenceError, match="cannot identify"):
        maximize_likelihood(lambda p, d: _bgnbd.loglik(p, zero, zero, zero), {}, np.ones(3), np.ones(4),
                            model="BG", param_names=("r", "alpha", "a", "b"),
                            loglik_hessian=lambda p, d: _bgnbd.loglik_hessian(p, zero, zero, zero))


# ---------------------------------------------------------------------------------------------- pass budget
_PASS_BUDGET = 12  # issue 16: likelihood (+gradient, +Hessian) passes per count-model fit


@pytest.fixture(scope="module")
def daily_batch() -> CustomerSummary:
    """100,000 customers from the BG/NBD at CDNOW's estimates on a daily scale, ages up to 18 months."""
    rng = np.random.default_rng(16)
    model = FittedBetaGeo(params=BetaGeoParams(r=0.243, alpha=4.414 * 7, a=0.793, b=2.426), time_unit="D")
    return model.simulate(rng.integers(1, 541, 100_000).astype(float), seed=17)


def test_bgnbd_fits_within_the_pass_budget(cdnow_weeks: CustomerSummary, daily_batch: CustomerSummary) -> None:
    for summary in (cdnow_weeks, daily_batch):
        info = BetaGeo().fit(summary).fit_info
        assert info is not None and info.converged
        assert info.n_evaluations <= _PASS_BUDGET, info
        assert info.gradient_norm < 1e-9


def test_mbgnbd_fits_within_the_pass_budget(cdnow_weeks: CustomerSummary) -> None:
    rng = np.random.default_rng(18)
    model = FittedModifiedBetaGeo(params=ModifiedBetaGeoParams(r=0.5, alpha=40.0, a=0.9, b=1.6), time_unit="D")
    batch = model.simulate(rng.integers(1, 541, 100_000).astype(float), seed=19)
    for summary in (cdnow_weeks, batch):
        info = ModifiedBetaGeo().fit(summary).fit_info
        assert info is not None and info.converged
        assert info.n_evaluations <= _PASS_BUDGET, info


def test_bgbb_fits_within_the_pass_budget() -> None:
    rng = np.random.default_rng(20)
    model = FittedBetaGeoBetaBinom(params=BetaGeoBetaBinomParams(alpha=1.204, beta=0.750, gamma=0.657, delta=2.783),
                                   time_unit="Y")
    batch = model.simulate(rng.integers(1, 13, 100_000).astype(float), seed=21)
    info = BetaGeoBetaBinom().fit(batch).fit_info
    assert info is not None and info.converged
    assert info.n_evaluations <= _PASS_BUDGET, info
