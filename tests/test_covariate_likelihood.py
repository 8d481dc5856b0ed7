"""The likelihood the covariate fit optimises (``_covariates.CovariateLikelihood``) and the kernels behind it.

Checked against independent computations: the Pareto/NBD kernel with one row of parameters per customer against
the same kernel called customer by customer; the grouped totals against the older per-group implementation
(``grouped_loglik``) and against a plain per-customer sum; the chain-rule Hessian against central differences of
the analytic gradient; the one-call (``row_params``) fit with a continuous covariate against the per-group fit; the
quadrature of the BG/NBD family at a concentrated dropout distribution against mpmath.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import mpmath
import numpy as np
import pytest
from _covmatrix import Cov as _Cov

from clvkit import CustomerSummary
from clvkit.valuation import BetaGeo, GammaGamma, ParetoNBD
from clvkit.valuation.models import _bgnbd, _paretonbd
from clvkit.valuation.models._covariates import build_design, group_customers, grouped_loglik
from clvkit.valuation.models._estimation import maximize_likelihood
from clvkit.valuation.models._special import scaled_residual_by_quadrature


def _customers(seed: int, n: int, *, continuous: bool = False) -> tuple[CustomerSummary, _Cov]:
    """Pareto/NBD customers with a binary covariate A and either a binary B or a continuous (rounded normal) C,
    drawn at their individual parameters (alpha_i = 8 exp(-0.4 A - 0.2 C), beta_i = 30 exp(0.3 A)), observed for
    one to three years."""
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 2, n).astype(float)
    other = rng.normal(0.0, 1.0, n).round(3) if continuous else rng.integers(0, 2, n).astype(float)
    T = np.round(rng.uniform(52.0, 156.0, n), 1)
    x, tx = np.empty(n), np.empty(n)
    for i in range(n):
        p = np.array([0.8, 8.0 * math.exp(-0.4 * a[i] - 0.2 * other[i]), 2.0, 30.0 * math.exp(0.3 * a[i])])
        x[i:i + 1], tx[i:i + 1] = _paretonbd.simulate(p, T[i:i + 1], rng)
    ids = np.arange(n) + 100
    name = "C" if continuous else "B"
    return CustomerSummary(x, tx, T, customer_id=ids, time_unit="W"), _Cov(ids, {"A": a, name: other})


def test_pareto_kernel_with_a_row_of_parameters_per_customer_is_the_kernel_customer_by_customer() -> None:
    rng = np.random.default_rng(3)
    n = 400
    x = rng.integers(0, 12, n).astype(float)
    T = np.round(rng.uniform(5.0, 50.0, n))
    tx = np.where(x > 0, np.round(rng.uniform(0.0, 1.0, n) * T), 0.0)
    key = rng.integers(0, 5, n)
    levels = np.array([[0.7, 6.0, 0.5, 9.0], [0.7, 2.0, 0.5, 30.0], [0.7, 9.0, 0.5, 1.5], [0.7, 40.0, 0.5, 40.0],
                       [0.7, 0.3, 0.5, 300.0]])  # kappa from ~1 to far from it: the series and the quadrature
    params = levels[key]
    one_by_one = [_paretonbd.loglik(params[i], x[i:i + 1], tx[i:i + 1], T[i:i + 1]) for i in range(n)]
    ll_ref = np.array([o[0][0] for o in one_by_one])
    grad_ref = np.array([o[1][0] for o in one_by_one])
    # without groups one row of parameters per customer; with groups built on the key, one row per key
    for table, groups in ((params, None), (levels, _paretonbd.group_rows(x, tx, T, key))):
        ll, grad = _paretonbd.loglik(table, x, tx, T, groups)
        np.testing.assert_allclose(ll, ll_ref, rtol=1e-13)
        np.testing.assert_allclose(grad, grad_ref, rtol=1e-11, atol=1e-14)


@pytest.mark.parametrize("engine", [ParetoNBD(), BetaGeo()])
def test_grouped_totals_are_the_per_group_implementation(engine: Any) -> None:
    summary, cov = _customers(5, 300)
    links = engine.fitted_class.covariate_links
    design = build_design(summary.customer_id, {"purchase": cov, "dropout": cov}, (), links, "test")
    assert design is not None
    likelihood, weights, _ = engine._covariate_likelihood(summary, design)
    members, rows = group_customers(design)
    prepared = [engine._prepare(summary.take(idx)) for idx in members]
    older = grouped_loglik(engine._loglik, [(p[0], z) for p, z in zip(prepared, rows, strict=True)], 4, links)
    w_older = np.concatenate([p[1] for p in prepared])
    theta = np.array([0.9, 7.0, 0.7, 11.0 if isinstance(engine, ParetoNBD) else 3.0, 0.3, -0.2, 0.25, 0.1])
    ll, grad = likelihood(theta, {})
    ll_old, grad_old = older(theta, {})
    assert float(weights.sum()) == pytest.approx(300.0)
    assert ll[0] == pytest.approx(float(w_older @ ll_old), rel=1e-13)
    np.testing.assert_allclose(grad[0], w_older @ grad_old, rtol=1e-11)


def test_summed_engine_groups_give_the_per_customer_total() -> None:
    rng = np.random.default_rng(2)
    n = 200
    x = rng.integers(1, 8, n).astype(float)
    spend = np.round(rng.gamma(4.0, 10.0, n), 2)
    z = rng.integers(0, 3, n).astype(float)
    ids = np.arange(n)
    summary = CustomerSummary(x, x, x + 5.0, monetary_value=spend, customer_id=ids, time_unit="W")
    engine = GammaGamma()
    design = build_design(ids, {"spend": _Cov(ids, {"Z": z})}, (), engine.fitted_class.covariate_links, "test")
    assert design is not None
    likelihood = engine._covariate_likelihood(summary, design)[0]
    theta = np.array([3.0, 4.0, 12.0, 0.2])
    total = 0.0
    for i in range(n):  # each customer alone, at v_i = v exp(gamma z_i)
        one = summary.take(np.array([i]))
        data, _ = engine._prepare(one)
        total += float(engine._loglik(np.array([3.0, 4.0, 12.0 * math.exp(0.2 * z[i])]), data)[0][0])
    assert likelihood(theta, {})[0][0] == pytest.approx(total, rel=1e-12)


@pytest.mark.parametrize(("engine", "continuous"), [(ParetoNBD(), False), (ParetoNBD(), True), (BetaGeo(), False)])
def test_chain_rule_hessian_is_the_derivative_of_the_gradient(engine: Any, continuous: bool) -> None:
    summary, cov = _customers(9, 250, continuous=continuous)
    design = build_design(summary.customer_id, {"purchase": cov, "dropout": cov}, ("A",),
                          engine.fitted_class.covariate_links, "test")
    assert design is not None and design.n_free == 3
    likelihood = engine._covariate_likelihood(summary, design)[0]
    params = np.array([0.9, 7.0, 0.7, 11.0 if isinstance(engine, ParetoNBD) else 3.0, 0.3, -0.2, 0.25])
    hess, evaluations = likelihood.hessian(params)
    assert evaluations <= 5  # the model's 4 parameters (+ the point itself), not 7
    k = 4

    def log_gradient(theta: np.ndarray) -> np.ndarray:  # d total / d (log params, gamma)
        p = np.concatenate([np.exp(theta[:k]), theta[k:]])
        g = likelihood(p, {})[1][0]
        return np.concatenate([g[:k] * p[:k], g[k:]])

    theta = np.concatenate([np.log(params[:k]), params[k:]])
    for j in range(theta.shape[0]):
        h = 1e-5
        up, down = theta.copy(), theta.copy()
        up[j] += h
        down[j] -= h
        column = (log_gradient(up) - log_gradient(down)) / (2 * h)
        np.testing.assert_allclose(hess[:, j], column, rtol=2e-5, atol=1e-4 * float(np.max(np.abs(column))))


class _PerGroupParetoNBD(ParetoNBD):
    """The same model evaluated group by group (the path of engines without per-row parameters)."""

    row_params: ClassVar[bool] = False


def test_continuous_covariate_in_one_call_is_the_per_group_likelihood() -> None:
    summary, cov = _customers(13, 150, continuous=True)
    links = ParetoNBD.fitted_class.covariate_links
    design = build_design(summary.customer_id, {"purchase": cov, "dropout": cov}, (), links, "test")
    assert design is not None
    fast, _, n_rows = ParetoNBD()._covariate_likelihood(summary, design)
    slow = _PerGroupParetoNBD()._covariate_likelihood(summary, design)[0]
    assert n_rows == 150  # every customer has its own C: one row each, all in one kernel call
    params = np.array([0.8, 7.0, 1.8, 25.0, 0.35, 0.15, -0.25, 0.05])
    ll_fast, grad_fast = fast(params, {})
    ll_slow, grad_slow = slow(params, {})
    assert ll_fast[0] == pytest.approx(ll_slow[0], rel=1e-13)
    np.testing.assert_allclose(grad_fast, grad_slow, rtol=1e-11)
    np.testing.assert_allclose(fast.hessian(params)[0], slow.hessian(params)[0], rtol=1e-9, atol=1e-9)


def test_continuous_covariate_fit_converges_and_recovers_its_sign() -> None:
    summary, cov = _customers(21, 1500, continuous=True)
    fitted = ParetoNBD().fit(summary, purchase_covariates=cov, dropout_covariates=cov)
    assert fitted.fit_info is not None and fitted.fit_info.converged and fitted.fit_info.n_rows == 1500
    se = fitted.standard_errors
    assert se is not None
    # true purchase coefficients: A 0.4, C 0.2 (alpha_i = alpha exp(-gamma'z)); dropout A -0.3, C 0
    for name, true in (("A", 0.4), ("C", 0.2)):
        assert abs(fitted.coefficients["purchase"][name] - true) < 4.0 * se[f"purchase.{name}"]
    assert abs(fitted.coefficients["dropout"]["C"]) < 4.0 * se["dropout.C"]


@pytest.mark.parametrize(("penalizer", "lambdas"), [(0.0, None), (0.05, None), (0.0, (0.5, 0.0, 0.2, 1.0))])
def test_standard_errors_from_the_chain_rule_equal_those_from_differences_of_the_gradient(
        penalizer: float, lambdas: tuple[float, ...] | None) -> None:
    summary, cov = _customers(17, 600)
    engine = ParetoNBD()
    design = build_design(summary.customer_id, {"purchase": cov, "dropout": cov}, (),
                          engine.fitted_class.covariate_links, "test")
    assert design is not None
    likelihood, weights, _ = engine._covariate_likelihood(summary, design)
    start = np.concatenate([np.array([1.0, 10.0, 1.0, 10.0]), np.zeros(design.n_free)])
    names = engine.param_names + design.labels
    kwargs: dict[str, Any] = {"model": "test", "param_names": names, "penalizer": penalizer, "summed": True,
                              "total_weight": float(weights.sum()), "n_free": design.n_free,
                              "coefficient_lambdas": None if lambdas is None else np.array(lambdas)}
    chain = maximize_likelihood(likelihood, {}, weights, start, hessian=likelihood.hessian, **kwargs)
    plain = maximize_likelihood(likelihood, {}, weights, start, **kwargs)
    # With lambdas the reported (unpenalised) log-likelihood is not stationary at the penalised optimum, so it moves
    # to first order with the optimum's last digits.
    assert chain.log_likelihood == pytest.approx(plain.log_likelihood, rel=1e-12 if lambdas is None else 1e-9)
    np.testing.assert_allclose(chain.params, plain.params, rtol=1e-6, atol=1e-8)
    assert chain.standard_errors is not None and plain.standard_errors is not None
    np.testing.assert_allclose(chain.standard_errors, plain.standard_errors, rtol=1e-4)
    assert chain.n_evaluations < plain.n_evaluations


def _mp_expectation(a: float, bp: float, R: float, ts: float) -> float:
    """``E[(1 - (1 + t'p)^-R)/p]`` for ``p ~ Beta(a, bp)`` in mpmath (60 digits): tanh-sinh quadrature in
    ``u = logit(p)`` with breakpoints every two spreads around the peak ``log(a/bp)``."""
    with mpmath.workdps(60):
        a_, b_, r_, t_ = (mpmath.mpf(v) for v in (a, bp, R, ts))
        log_beta = mpmath.loggamma(a_) + mpmath.loggamma(b_) - mpmath.loggamma(a_ + b_)

        def f(u: Any) -> Any:
            p = 1 / (1 + mpmath.exp(-u))
            log_dens = -a_ * mpmath.log1p(mpmath.exp(-u)) - b_ * mpmath.log1p(mpmath.exp(u)) - log_beta
            return mpmath.exp(log_dens) * (1 - (1 + t_ * p) ** (-r_)) / p

        peak, spread = mpmath.log(a_ / b_), mpmath.sqrt(1 / a_ + 1 / b_)
        points = [peak + k * spread for k in range(-40, 41, 2)]
        return float(mpmath.quad(f, [-mpmath.inf, *points, mpmath.inf]))


@pytest.mark.parametrize(
    ("a", "b_post", "r", "x", "t_scaled"),
    [
        (1415853.98, 10573382.7, 0.713, 5.0, 52.0 / 142.66),  # BG/NBD on the apparel data with Gender and Channel
        (1415853.98, 10573382.7, 0.713, 0.0, 1000.0 / 146.66),
        (60.0, 90.0, 0.5, 3.0, 1e4 / 12.0),
        (1000.0, 1000.0, 2.0, 10.0, 1e6 / 2.0),
        (2.5, 3.0, 1.0, 1.0, 5.0),
    ],
)
def test_quadrature_at_a_concentrated_dropout_distribution_matches_mpmath(
        a: float, b_post: float, r: float, x: float, t_scaled: float) -> None:
    got = scaled_residual_by_quadrature(a, b_post, r, np.array([x]), np.array([t_scaled]))[0]
    assert got == pytest.approx(_mp_expectation(a, b_post + x, r + x, t_scaled), rel=1e-13)


def test_bgnbd_at_a_degenerate_optimum_scores_by_the_windowed_quadrature() -> None:
    # a, b ~ 1e6..1e7 (the apparel BG/NBD optimum with Gender and Channel): every customer's conditional expectation
    # goes through the quadrature; against eq. (10) with mpmath's 2F1 at 50 digits.
    params = np.array([0.713, 42.66, 1415853.98, 10573382.7])
    x, tx, T = np.array([0.0, 2.0, 7.0]), np.array([0.0, 30.0, 96.0]), np.array([104.0, 100.0, 104.0])
    got = _bgnbd.expected_purchases(params, x, tx, T, 52.0)
    for i in range(3):
        with mpmath.workdps(50):
            r, alpha, a, b, xi, txi, Ti, t = (mpmath.mpf(float(v)) for v in (*params, x[i], tx[i], T[i], 52.0))
            z = t / (alpha + Ti + t)
            num = 1 - ((alpha + Ti) / (alpha + Ti + t)) ** (r + xi) * mpmath.hyp2f1(r + xi, b + xi, a + b + xi - 1, z)
            den = 1 + (a / (b + xi - 1) * ((alpha + Ti) / (alpha + txi)) ** (r + xi) if xi > 0 else 0)
            ref = float((a + b + xi - 1) / (a - 1) * num / den)
        assert got[i] == pytest.approx(ref, rel=1e-12)
