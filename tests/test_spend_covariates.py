"""Static spend covariates on the Gamma-Gamma model (issue 13, scope 2).

clvkit's link (CLVTools' Gamma-Gamma has no covariates): the scale ``v_i = v exp(gamma' z_i)``, so a
customer's mean spend per transaction ``p v_i / (q - 1)`` is multiplied by ``exp(gamma' z_i)``.

Provenance of the expected values: the apparel check compares the fitted log-likelihood with an independent
per-customer evaluation - under the model ``x m / v_i`` follows a beta prime distribution BetaPrime(p x, q)
(a Gamma(p x, 1) over a Gamma(q, 1) variable), evaluated by ``scipy.stats.betaprime`` rather than the
kernel's closed form - and checks that this independent likelihood is flat at the estimates (finite
differences). Recovery tests simulate every transaction from the generative model with known coefficients.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from _covmatrix import Cov as _Cov
from scipy import stats

from clvkit import CustomerSummary, load_json
from clvkit.errors import InvalidInputError
from clvkit.valuation import BetaGeo, GammaGamma
from clvkit.valuation.models._covariates import build_design


def _simulated(seed: int, n: int, gamma: tuple[float, float], params: tuple[float, float, float] = (3.0, 4.0, 10.0)
               ) -> tuple[CustomerSummary, _Cov]:
    """Customers with 0-9 repeat transactions; each spend drawn one by one from the Gamma-Gamma model:
    nu_i ~ Gamma(q, rate v exp(gamma'z_i)), every spend ~ Gamma(p, rate nu_i); m is the mean of the spends."""
    p, q, v = params
    rng = np.random.default_rng(seed)
    z = np.column_stack([rng.integers(0, 2, n), rng.normal(0.0, 1.0, n).round(1)])
    x = rng.integers(0, 10, n).astype(float)
    nu = rng.gamma(q, 1.0 / (v * np.exp(z @ np.array(gamma))))
    m = np.array([rng.gamma(p, 1.0 / nu[i], int(x[i])).mean() if x[i] > 0 else 0.0 for i in range(n)])
    T = np.full(n, 52.0)
    ids = np.arange(n) + 500
    summary = CustomerSummary(x, np.where(x > 0, 30.0, 0.0), T, monetary_value=m, customer_id=ids, time_unit="W")
    return summary, _Cov(ids, {"A": z[:, 0], "B": z[:, 1]})


def _independent_ll(theta: np.ndarray, x: np.ndarray, m: np.ndarray, w: np.ndarray, z: np.ndarray) -> float:
    """Sum over repeat customers of log f(m | x): x m / v_i ~ BetaPrime(p x, q), by scipy.stats."""
    p, q, v = theta[:3]
    v_i = v * np.exp(z @ theta[3:])
    keep = x > 0
    x, m, w, v_i = x[keep], m[keep], w[keep], v_i[keep]
    return float(w @ (stats.betaprime.logpdf(x * m / v_i, p * x, q) + np.log(x / v_i)))


def test_simulation_recovers_spend_coefficients_within_their_standard_errors() -> None:
    gamma = (0.5, -0.3)
    summary, cov = _simulated(20261207, 4000, gamma)
    fitted = GammaGamma().fit(summary, spend_covariates=cov)
    assert fitted.fit_info is not None and fitted.fit_info.converged and fitted.fit_info.n_params == 5
    se = fitted.standard_errors or {}
    for name, value in zip(("A", "B"), gamma, strict=True):
        assert abs(fitted.coefficients["spend"][name] - value) < 2.5 * se[f"spend.{name}"], name
    for name, value in zip(("p", "q", "v"), (3.0, 4.0, 10.0), strict=True):
        assert abs(getattr(fitted.params, name) - value) < 3.0 * se[name], name
    assert set(fitted.coefficients) == {"spend"}


def test_all_zero_spend_covariate_reproduces_the_plain_fit() -> None:
    summary, _ = _simulated(7, 1500, (0.0, 0.0))
    zero = _Cov(summary.customer_id, {"Z": np.zeros(1500)})
    plain = GammaGamma().fit(summary)
    with_zero = GammaGamma().fit(summary, spend_covariates=zero)
    np.testing.assert_allclose(with_zero.param_array(), plain.param_array(), rtol=1e-12)
    assert with_zero.log_likelihood == pytest.approx(plain.log_likelihood, rel=1e-14)
    assert with_zero.coefficients == {"spend": {"Z": 0.0}}


def test_grouped_spend_gradient_matches_finite_differences() -> None:
    summary, cov = _simulated(11, 400, (0.3, -0.2))
    engine = GammaGamma()
    links = engine.fitted_class.covariate_links
    design = build_design(summary.customer_id, {"spend": cov}, (), links, "test")
    assert design is not None and design.labels == ("spend.A", "spend.B")
    loglik = engine._covariate_likelihood(summary, design)[0]  # what fit() optimises: totals over customers
    theta = np.array([2.5, 3.5, 12.0, 0.2, -0.3])
    ll, grad = loglik(theta, {})
    assert ll.shape == (1,) and grad.shape == (1, 5)
    # The grouped total is the independent per-customer likelihood.
    x, m, w = summary.frequency, summary.monetary_value, summary.weights_or_ones()
    z = cov.align(summary.customer_id)
    assert float(ll[0]) == pytest.approx(_independent_ll(theta, x, m, w, z), rel=1e-11)
    for j in range(theta.shape[0]):
        h = 1e-6 * max(abs(theta[j]), 1.0)
        up, down = theta.copy(), theta.copy()
        up[j] += h
        down[j] -= h
        fd = (loglik(up, {})[0][0] - loglik(down, {})[0][0]) / (2 * h)
        assert grad[0, j] == pytest.approx(fd, rel=1e-6, abs=1e-6)


def _apparel(shared_data: Any) -> tuple[CustomerSummary, _Cov]:
    pd = pytest.importorskip("pandas")
    from clvkit import summarize

    trans = pd.read_csv(shared_data("apparel_trans.csv"), parse_dates=["Date"])
    cov = pd.read_csv(shared_data("apparel_static_cov.csv"))
    trans = trans[trans.Date <= "2006-12-31"]
    summary = summarize(trans, customer_id="Id", datetime="Date", monetary_value="Price", time_unit="W",
                        observation_end="2006-12-31")
    return summary, _Cov(cov.Id, {"Gender": cov.Gender, "Channel": cov.Channel})


def test_apparel_spend_fit_is_the_independent_likelihood_maximum(shared_data: Any) -> None:
    summary, cov = _apparel(shared_data)
    fitted = GammaGamma().fit(summary, spend_covariates=cov)
    z = cov.align(summary.customer_id)
    x, m, w = summary.frequency, summary.monetary_value, summary.weights_or_ones()
    assert m is not None
    theta = np.concatenate([fitted.param_array(), list(fitted.coefficients["spend"].values())])
    assert fitted.log_likelihood == pytest.approx(_independent_ll(theta, x, m, w, z), rel=1e-10)
    for j in range(theta.shape[0]):  # flat at the estimates (relative steps for p, q, v)
        scale = theta[j] if j < 3 else 1.0
        h = 1e-5 * scale
        up, down = theta.copy(), theta.copy()
        up[j] += h
        down[j] -= h
        slope = (_independent_ll(up, x, m, w, z) - _independent_ll(down, x, m, w, z)) / (2 * h)
        assert abs(slope * scale) < 1e-3, j
    plain = GammaGamma().fit(summary)
    assert fitted.log_likelihood > plain.log_likelihood
    assert fitted.fit_info is not None and fitted.fit_info.aic == pytest.approx(10 - 2 * fitted.log_likelihood)
    se = fitted.standard_errors or {}
    assert {"spend.Gender", "spend.Channel"} <= set(se)
    table = fitted.coefficient_table()
    assert list(table.index) == ["spend.Gender", "spend.Channel"]
    assert table.loc["spend.Gender", "exp_estimate"] == pytest.approx(math.exp(fitted.coefficients["spend"]["Gender"]))
    assert table.loc["spend.Channel", "reading"].startswith("mean spend x")


def test_expected_spend_uses_each_customers_scale_and_json_round_trips() -> None:
    summary, cov = _simulated(3, 1000, (0.4, 0.2))
    fitted = GammaGamma().fit(summary, spend_covariates=cov)
    got = fitted.expected_spend(summary, spend_covariates=cov)
    z = cov.align(summary.customer_id)
    p, q, v = fitted.param_array()
    gamma = np.array(list(fitted.coefficients["spend"].values()))
    x, m = summary.frequency, summary.monetary_value
    assert m is not None
    for i in range(0, 1000, 97):
        v_i = v * math.exp(z[i] @ gamma)
        # Fader & Hardie (2013) eq. 5 at the customer's own scale: a weighted average of p v_i/(q-1) and m.
        weight = (q - 1.0) / (p * x[i] + q - 1.0)
        expected = weight * p * v_i / (q - 1.0) + (1.0 - weight) * m[i]
        assert got[i] == pytest.approx(expected, rel=1e-12)
    back = load_json(fitted.to_json())
    assert back == fitted and back.coefficients == fitted.coefficients
    np.testing.assert_array_equal(back.expected_spend(summary, spend_covariates=cov), got)
    assert "coefficients" not in GammaGamma().fit(summary).to_json()


def test_bad_spend_covariates_are_typed_errors() -> None:
    summary, cov = _simulated(5, 300, (0.0, 0.0))
    with pytest.raises(InvalidInputError, match="no purchase covariates"):
        GammaGamma().fit(summary, purchase_covariates=cov)
    with pytest.raises(InvalidInputError, match="no spend covariates"):
        BetaGeo().fit(summary, spend_covariates=cov)
    fitted = GammaGamma().fit(summary, spend_covariates=cov)
    with pytest.raises(InvalidInputError, match="spend_covariates"):
        fitted.expected_spend(summary)
    with pytest.raises(InvalidInputError, match="without covariates"):
        GammaGamma().fit(summary).expected_spend(summary, spend_covariates=cov)
    nan = _Cov(summary.customer_id, {"A": np.where(np.arange(300) == 4, np.nan, 1.0)})
    with pytest.raises(InvalidInputError, match="not finite"):
        GammaGamma().fit(summary, spend_covariates=nan)
