"""Static covariates through the one fit template (issue 13, scope 2): Pareto/NBD, BG/NBD and MBG/NBD.

Provenance of the expected values: the apparel check compares the fitted log-likelihood with an
independent per-customer evaluation of the Pareto/NBD likelihood (Fader & Hardie 2005 note, eq. 22, the
dropout integral by scipy.integrate.quad, with CLVTools' link alpha_i = alpha exp(-gamma_p'z),
beta_i = beta exp(-gamma_d'z)) and checks that this independent likelihood is flat at the estimates
(finite differences). The apparel summary here floors purchases to weeks; CLVTools' own summary (days / 7) and
its published estimates are compared in tests/test_clvtools_apparel.py. Recovery tests use seeded simulations with
known coefficients.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from _covmatrix import Cov as _Cov
from scipy import integrate, special

from clvkit import CustomerSummary, load_json
from clvkit.errors import InvalidInputError
from clvkit.protocols import CovariateMatrix
from clvkit.valuation import BetaGeo, ModifiedBetaGeo, ParetoNBD
from clvkit.valuation.models import _bgnbd, _mbgnbd, _paretonbd
from clvkit.valuation.models._covariates import build_design


def _apparel(shared_data: Any) -> tuple[CustomerSummary, _Cov]:
    pd = pytest.importorskip("pandas")
    from clvkit import summarize

    trans = pd.read_csv(shared_data("apparel_trans.csv"), parse_dates=["Date"])
    cov = pd.read_csv(shared_data("apparel_static_cov.csv"))
    trans = trans[trans.Date <= "2006-12-31"]  # 104 weekly periods from the common first purchase 2005-01-02
    summary = summarize(trans, customer_id="Id", datetime="Date", time_unit="W", observation_end="2006-12-31")
    return summary, _Cov(cov.Id, {"Gender": cov.Gender, "Channel": cov.Channel})


def _independent_ll(theta: np.ndarray, summary: CustomerSummary, zp: np.ndarray, zd: np.ndarray) -> float:
    """Sum of per-customer Pareto/NBD log-likelihoods with the dropout integral by adaptive quadrature."""
    r, alpha, s, beta = theta[:4]
    m = zp.shape[1]
    gp, gd = theta[4:4 + m], theta[4 + m:]
    total = 0.0
    for x, tx, T, a_i, b_i in zip(summary.frequency, summary.recency, summary.T, alpha * np.exp(-zp @ gp),
                                  beta * np.exp(-zd @ gd), strict=True):
        # Scale the integrand by its value at tx to keep it O(1); add the log back.
        log_at_tx = -(r + x) * math.log(a_i + tx) - (s + 1) * math.log(b_i + tx)

        def integrand(u: float, x: float = x, a_i: float = a_i, b_i: float = b_i, c: float = log_at_tx) -> float:
            return math.exp(-(r + x) * math.log(a_i + u) - (s + 1) * math.log(b_i + u) - c)

        integral = integrate.quad(integrand, tx, T, epsabs=0, epsrel=1e-12)[0]
        log_e = -(r + x) * math.log(a_i + T) - s * math.log(b_i + T)
        bracket = math.exp(log_e - log_at_tx) + s * integral
        total += (special.gammaln(r + x) - special.gammaln(r) + r * math.log(a_i) + s * math.log(b_i)
                  + log_at_tx + math.log(bracket))
    return total


def test_apparel_static_fit_is_the_independent_likelihood_maximum(shared_data: Any) -> None:
    summary, cov = _apparel(shared_data)
    fitted = ParetoNBD().fit(summary, purchase_covariates=cov, dropout_covariates=cov)
    z = cov.align(summary.customer_id)
    theta = np.concatenate([fitted.param_array(), list(fitted.coefficients["purchase"].values()),
                            list(fitted.coefficients["dropout"].values())])
    ll = _independent_ll(theta, summary, z, z)
    assert fitted.log_likelihood == pytest.approx(ll, rel=1e-9)
    # Flat at the estimates: central differences of the independent likelihood (relative steps for the
    # positive parameters, absolute for the coefficients).
    for j in range(theta.shape[0]):
        h = 1e-5 * (theta[j] if j < 4 else 1.0)
        up, down = theta.copy(), theta.copy()
        up[j] += h
        down[j] -= h
        slope = (_independent_ll(up, summary, z, z) - _independent_ll(down, summary, z, z)) / (2 * h)
        assert abs(slope * (theta[j] if j < 4 else 1.0)) < 1e-3
    # The covariates improve on the plain fit; AIC/BIC count 8 parameters; every coefficient has an SE.
    plain = ParetoNBD().fit(summary)
    assert fitted.log_likelihood > plain.log_likelihood
    assert fitted.fit_info is not None and fitted.fit_info.n_params == 8
    assert fitted.fit_info.aic == pytest.approx(16 - 2 * fitted.log_likelihood)
    se = fitted.standard_errors or {}
    assert {"purchase.Gender", "purchase.Channel", "dropout.Gender", "dropout.Channel"} <= set(se)


def test_apparel_fit_with_clvkit_covariates_matches_the_test_local_matrix(shared_data: Any) -> None:
    pd = pytest.importorskip("pandas")
    from clvkit import Covariates

    summary, cov = _apparel(shared_data)
    frame = pd.read_csv(shared_data("apparel_static_cov.csv"))
    static = Covariates.static(frame, customer_id="Id", columns=["Gender", "Channel"])
    a = ParetoNBD().fit(summary, purchase_covariates=cov, dropout_covariates=cov)
    b = ParetoNBD().fit(summary, purchase_covariates=static, dropout_covariates=static)
    assert b.coefficients == a.coefficients
    assert b.log_likelihood == a.log_likelihood


def test_apparel_equal_constraint_nests_between_plain_and_free(shared_data: Any) -> None:
    summary, cov = _apparel(shared_data)
    free = ParetoNBD().fit(summary, purchase_covariates=cov, dropout_covariates=cov)
    tied = ParetoNBD().fit(summary, purchase_covariates=cov, dropout_covariates=cov, equal=("Gender",))
    plain = ParetoNBD().fit(summary)
    assert plain.log_likelihood < tied.log_likelihood <= free.log_likelihood + 1e-9
    assert tied.coefficients["purchase"]["Gender"] == tied.coefficients["dropout"]["Gender"]
    assert tied.fit_info is not None and tied.fit_info.n_params == 7
    se = tied.standard_errors or {}
    assert se["purchase.Gender"] == se["dropout.Gender"]
    assert "Gender" not in se
    back = load_json(tied.to_json())
    assert back == tied and back.equal == ["Gender"]


def _simulated(seed: int, n: int, gamma_p: tuple[float, float], gamma_d: tuple[float, float], *,
               model: str = "pnbd") -> tuple[CustomerSummary, _Cov, np.ndarray]:
    """Customers in four covariate groups, each drawn at its individual parameters (CLVTools' link)."""
    rng = np.random.default_rng(seed)
    z = np.column_stack([rng.integers(0, 2, n), rng.integers(0, 2, n)]).astype(float)
    params = np.array([0.8, 8.0, 0.6, 12.0]) if model == "pnbd" else np.array([0.8, 8.0, 0.8, 3.0])
    T = rng.uniform(30.0, 80.0, n)
    x, tx = np.empty(n), np.empty(n)
    for row in np.unique(z, axis=0):
        idx = np.flatnonzero((z == row).all(axis=1))
        if model == "pnbd":  # alpha_i = alpha exp(-gamma_p'z), beta_i = beta exp(-gamma_d'z)
            p = params * np.array([1.0, math.exp(-row @ gamma_p), 1.0, math.exp(-row @ gamma_d)])
            x[idx], tx[idx] = _paretonbd.simulate(p, T[idx], rng)
        else:  # alpha_i = alpha exp(-gamma_p'z), a_i and b_i times exp(gamma_d'z)
            up = math.exp(row @ gamma_d)
            p = params * np.array([1.0, math.exp(-row @ gamma_p), up, up])
            draw = _mbgnbd.simulate if model == "mbgnbd" else _bgnbd.simulate
            x[idx], tx[idx] = draw(p, T[idx], rng)
    ids = np.arange(n) + 1000
    summary = CustomerSummary(x, tx, T, customer_id=ids, time_unit="W")
    return summary, _Cov(ids, {"A": z[:, 0], "B": z[:, 1]}), params


@pytest.mark.parametrize(("engine", "model"), [(ParetoNBD(), "pnbd"), (BetaGeo(), "bgnbd"),
                                               (ModifiedBetaGeo(), "mbgnbd")])
def test_simulation_recovers_coefficients_within_their_standard_errors(engine: Any, model: str) -> None:
    gamma_p, gamma_d = (0.5, -0.3), (-0.4, 0.7)
    summary, cov, _ = _simulated(20261207, 4000, gamma_p, gamma_d, model=model)
    fitted = engine.fit(summary, purchase_covariates=cov, dropout_covariates=cov)
    se = fitted.standard_errors or {}
    truth = {"purchase": dict(zip(("A", "B"), gamma_p, strict=True)),
             "dropout": dict(zip(("A", "B"), gamma_d, strict=True))}
    for process, values in truth.items():
        for name, value in values.items():
            assert abs(fitted.coefficients[process][name] - value) < 2.5 * se[f"{process}.{name}"], (process, name)


def test_all_zero_covariate_reproduces_the_plain_fit() -> None:
    summary, _, _ = _simulated(7, 1500, (0.0, 0.0), (0.0, 0.0))
    zero = _Cov(summary.customer_id, {"Z": np.zeros(1500)})
    for engine in (ParetoNBD(), BetaGeo(), ModifiedBetaGeo()):
        plain = engine.fit(summary)
        with_zero = engine.fit(summary, purchase_covariates=zero, dropout_covariates=zero)
        np.testing.assert_allclose(with_zero.param_array(), plain.param_array(), rtol=1e-12)
        assert with_zero.log_likelihood == pytest.approx(plain.log_likelihood, rel=1e-14)
        assert with_zero.coefficients == {"purchase": {"Z": 0.0}, "dropout": {"Z": 0.0}}


@pytest.mark.parametrize("engine", [ParetoNBD(), BetaGeo(), ModifiedBetaGeo()])
def test_grouped_gradient_matches_finite_differences(engine: Any) -> None:
    summary, cov, _ = _simulated(11, 300, (0.3, -0.2), (0.1, 0.4))
    design = build_design(summary.customer_id, {"purchase": cov, "dropout": cov}, ("B",),
                          engine.fitted_class.covariate_links, "test")
    assert design is not None and design.labels == ("purchase.A", "B", "dropout.A")
    loglik = engine._covariate_likelihood(summary, design)[0]  # what fit() optimises: totals over customers
    theta = np.array([0.9, 7.0, 0.7, 11.0, 0.2, -0.3, 0.4]) if isinstance(engine, ParetoNBD) else \
        np.array([0.9, 7.0, 0.7, 3.0, 0.2, -0.3, 0.4])
    _, grad = loglik(theta, {})
    total = grad.sum(axis=0)
    for j in range(theta.shape[0]):
        h = 1e-6 * max(abs(theta[j]), 1.0)
        up, down = theta.copy(), theta.copy()
        up[j] += h
        down[j] -= h
        fd = (loglik(up, {})[0].sum() - loglik(down, {})[0].sum()) / (2 * h)
        assert total[j] == pytest.approx(fd, rel=1e-6, abs=1e-6)


def test_predictions_use_each_customers_parameters_and_json_round_trips() -> None:
    summary, cov, _ = _simulated(3, 800, (0.4, 0.0), (0.0, 0.5))
    fitted = ParetoNBD().fit(summary, purchase_covariates=cov, dropout_covariates=cov)
    got = fitted.expected_purchases(summary, 10.0, purchase_covariates=cov, dropout_covariates=cov)
    alive = fitted.probability_alive(summary, purchase_covariates=cov, dropout_covariates=cov)
    z = cov.align(summary.customer_id)
    gp = np.array(list(fitted.coefficients["purchase"].values()))
    gd = np.array(list(fitted.coefficients["dropout"].values()))
    for i in (0, 1, 2, 500):
        r, alpha, s, beta = fitted.param_array()
        p = np.array([r, alpha * math.exp(-z[i] @ gp), s, beta * math.exp(-z[i] @ gd)])
        one = (summary.frequency[i:i + 1], summary.recency[i:i + 1], summary.T[i:i + 1])
        assert got[i] == pytest.approx(float(_paretonbd.expected_purchases(p, *one, 10.0)[0]), rel=1e-13)
        assert alive[i] == pytest.approx(float(_paretonbd.probability_alive(p, *one)[0]), rel=1e-13)
    back = load_json(fitted.to_json())
    assert back.coefficients == fitted.coefficients
    np.testing.assert_array_equal(back.probability_alive(summary, purchase_covariates=cov, dropout_covariates=cov),
                                  alive)
    table = fitted.coefficient_table()
    assert list(table.index) == ["purchase.A", "purchase.B", "dropout.A", "dropout.B"]
    assert table.loc["purchase.A", "exp_estimate"] == pytest.approx(math.exp(fitted.coefficients["purchase"]["A"]))
    assert "coefficients" not in ParetoNBD().fit(summary).to_json()
    assert isinstance(cov, CovariateMatrix)


def test_bad_covariates_are_typed_errors() -> None:
    summary, cov, _ = _simulated(5, 200, (0.0, 0.0), (0.0, 0.0))
    z = cov.align(summary.customer_id)
    dup = _Cov(summary.customer_id, {"A": z[:, 0], "A2": z[:, 0]})
    with pytest.raises(InvalidInputError, match="identical"):
        ParetoNBD().fit(summary, purchase_covariates=dup)
    with pytest.raises(InvalidInputError, match="customer_id"):
        ParetoNBD().fit(CustomerSummary(summary.frequency, summary.recency, summary.T, time_unit="W"),
                        purchase_covariates=cov)
    with pytest.raises(InvalidInputError, match="both the purchase and the dropout"):
        ParetoNBD().fit(summary, purchase_covariates=cov, equal=("A",))
    nan = _Cov(summary.customer_id, {"A": np.where(np.arange(200) == 3, np.nan, 1.0)})
    with pytest.raises(InvalidInputError, match="not finite"):
        ParetoNBD().fit(summary, dropout_covariates=nan)
    fitted = ParetoNBD().fit(summary, purchase_covariates=cov)
    with pytest.raises(InvalidInputError, match="purchase_covariates"):
        fitted.probability_alive(summary)
    with pytest.raises(InvalidInputError, match="without covariates"):
        ParetoNBD().fit(summary).probability_alive(summary, purchase_covariates=cov)


@pytest.mark.parametrize(("engine", "model", "reps"), [(ParetoNBD(), "pnbd", 20), (BetaGeo(), "bgnbd", 40)])
def test_ninety_percent_wald_intervals_cover_near_ninety_percent(engine: Any, model: str, reps: int) -> None:
    # Seeded repeated simulations (1,500 customers each, four coefficients): the share of 90% Wald intervals
    # holding the true coefficient. Binomial noise at 80-160 intervals is 2.4-3.4 points, so the bounds are wide.
    gamma_p, gamma_d = (0.5, -0.3), (-0.4, 0.7)
    truth = {"purchase": dict(zip(("A", "B"), gamma_p, strict=True)),
             "dropout": dict(zip(("A", "B"), gamma_d, strict=True))}
    hits = total = 0
    for seed in range(reps):
        summary, cov, _ = _simulated(1000 + seed, 1500, gamma_p, gamma_d, model=model)
        fitted = engine.fit(summary, purchase_covariates=cov, dropout_covariates=cov)
        se = fitted.standard_errors or {}
        for process, values in truth.items():
            for name, value in values.items():
                total += 1
                hits += abs(fitted.coefficients[process][name] - value) <= 1.6449 * se[f"{process}.{name}"]
    assert 0.78 <= hits / total <= 0.98


def test_modified_beta_geo_predictions_use_each_customers_parameters_and_json_round_trips() -> None:
    summary, cov, _ = _simulated(13, 1500, (0.4, 0.0), (0.0, 0.5), model="mbgnbd")
    fitted = ModifiedBetaGeo().fit(summary, purchase_covariates=cov, dropout_covariates=cov)
    assert fitted.fit_info is not None and fitted.fit_info.n_params == 8
    got = fitted.expected_purchases(summary, 10.0, purchase_covariates=cov, dropout_covariates=cov)
    alive = fitted.probability_alive(summary, purchase_covariates=cov, dropout_covariates=cov)
    z = cov.align(summary.customer_id)
    gp = np.array(list(fitted.coefficients["purchase"].values()))
    gd = np.array(list(fitted.coefficients["dropout"].values()))
    r, alpha, a, b = fitted.param_array()
    for i in (0, 1, 2, 700):
        up = math.exp(z[i] @ gd)
        p = np.array([r, alpha * math.exp(-z[i] @ gp), a * up, b * up])
        one = (summary.frequency[i:i + 1], summary.recency[i:i + 1], summary.T[i:i + 1])
        assert got[i] == pytest.approx(float(_mbgnbd.expected_purchases(p, *one, 10.0)[0]), rel=1e-13)
        assert alive[i] == pytest.approx(float(_mbgnbd.probability_alive(p, *one)[0]), rel=1e-13)
    # The fitted log-likelihood is the sum of the kernel at each customer's own parameters.
    ll = sum(float(_mbgnbd.loglik(np.array([r, alpha * math.exp(-z[i] @ gp), a * math.exp(z[i] @ gd),
                                            b * math.exp(z[i] @ gd)]),
                                  summary.frequency[i:i + 1], summary.recency[i:i + 1], summary.T[i:i + 1])[0][0])
             for i in range(summary.frequency.shape[0]))
    assert fitted.log_likelihood == pytest.approx(ll, rel=1e-12)
    back = load_json(fitted.to_json())
    assert back == fitted
    assert list(fitted.coefficient_table().index) == ["purchase.A", "purchase.B", "dropout.A", "dropout.B"]


def test_coefficient_table_reads_bgnbd_dropout_coefficients_as_a_and_b_not_a_rate() -> None:
    # CLVTools' BG/NBD link scales both a and b of the dropout probability by exp(gamma'z): no rate to multiply.
    pytest.importorskip("pandas")
    from clvkit.valuation import BetaGeoParams, FittedBetaGeo, FittedParetoNBD, ParetoNBDParams

    bg = FittedBetaGeo(params=BetaGeoParams(r=0.24, alpha=4.4, a=0.79, b=2.4), time_unit="W",
                       coefficients={"purchase": {"x": 0.2}, "dropout": {"x": 0.5}})
    readings = bg.coefficient_table()["reading"].tolist()
    assert readings[0].startswith("purchase rate x1.22")
    assert readings[1].startswith("dropout probability's a and b x1.65")
    pnbd = FittedParetoNBD(params=ParetoNBDParams(r=0.55, alpha=10.6, s=0.6, beta=11.7), time_unit="W",
                           coefficients={"dropout": {"x": 0.5}})
    assert pnbd.coefficient_table()["reading"].tolist()[0].startswith("dropout rate x1.65")
