"""Customers not yet seen, valued from their covariates alone (issue 13, scope 5).

Expected values are computed independently in the tests: the base model (no covariates) built at each customer's
individual parameters by the link written out here (Pareto/NBD ``alpha_i = alpha exp(-gamma_p'z)``,
``beta_i = beta exp(-gamma_d'z)``; BG/NBD ``alpha`` down, ``a`` and ``b`` up; Gamma-Gamma ``v_i = v exp(gamma'z)``),
and DERT of a fresh customer as ``delta int_0^inf exp(-delta t) E[X(t)] dt`` by adaptive quadrature of the
new-customer curve.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from _covmatrix import Cov as _Cov
from scipy import integrate

from clvkit import Covariates, CustomerSummary
from clvkit.errors import InvalidInputError
from clvkit.valuation import (
    BetaGeo,
    BetaGeoBetaBinomParams,
    FittedBetaGeo,
    FittedBetaGeoBetaBinom,
    FittedGammaGamma,
    FittedParetoNBD,
    GammaGamma,
    ParetoNBD,
    new_customer_value,
)
from clvkit.valuation.models import _bgnbd, _paretonbd


def _fitted(model: str) -> tuple[Any, Any]:
    """A model fitted with two binary covariates in both processes (and a Gamma-Gamma with one spend covariate)."""
    rng = np.random.default_rng(11)
    n = 1500
    z = rng.integers(0, 2, (n, 2)).astype(float)
    T = rng.uniform(30.0, 80.0, n)
    x, tx = np.empty(n), np.empty(n)
    for row in np.unique(z, axis=0):
        idx = np.flatnonzero((z == row).all(axis=1))
        if model == "pnbd":
            p = np.array([0.8, 8.0 * math.exp(-0.5 * row[0]), 0.6, 12.0 * math.exp(0.4 * row[1])])
            x[idx], tx[idx] = _paretonbd.simulate(p, T[idx], rng)
        else:
            up = math.exp(0.5 * row[1])
            p = np.array([0.8, 8.0 * math.exp(-0.5 * row[0]), 0.8 * up, 3.0 * up])
            x[idx], tx[idx] = _bgnbd.simulate(p, T[idx], rng)
    m = np.where(x > 0, rng.gamma(4.0, 5.0 * np.exp(0.3 * z[:, 0]), n), 0.0)
    ids = np.arange(n) + 1
    summary = CustomerSummary(x, tx, T, monetary_value=m, customer_id=ids, time_unit="W")
    cov = Covariates.static({"id": ids, "A": z[:, 0], "B": z[:, 1]}, customer_id="id", columns=["A", "B"])
    engine = ParetoNBD() if model == "pnbd" else BetaGeo()
    return (engine.fit(summary, purchase_covariates=cov, dropout_covariates=cov),
            GammaGamma().fit(summary, spend_covariates=cov))


def _new_customers(fitted: Any) -> Covariates:
    """Four customers not yet seen (given as ids 903, 901, 904, 902; Covariates keeps them in ascending id order)."""
    return Covariates.static({"id": [903, 901, 904, 902], "A": [1.0, 0.0, 1.0, 0.0], "B": [0.0, 0.0, 1.0, 1.0]},
                             customer_id="id", columns=["A", "B"])


def _individual(fitted: Any, z: np.ndarray) -> Any:
    """The base model (no covariates) at the individual parameters of covariate row ``z``, link written out."""
    gp = np.array(list(fitted.coefficients["purchase"].values()))
    gd = np.array(list(fitted.coefficients["dropout"].values()))
    p = fitted.param_array().copy()
    if isinstance(fitted, FittedParetoNBD):
        p[1] *= math.exp(-z @ gp)
        p[3] *= math.exp(-z @ gd)
        return FittedParetoNBD(params=dict(zip(fitted.param_names, p, strict=True)), time_unit=fitted.time_unit)
    p[1] *= math.exp(-z @ gp)
    p[2:] *= math.exp(z @ gd)
    return FittedBetaGeo(params=dict(zip(fitted.param_names, p, strict=True)), time_unit=fitted.time_unit)


@pytest.mark.parametrize("model", ["pnbd", "bgnbd"])
def test_new_customer_predictions_are_the_base_model_at_each_customers_parameters(model: str) -> None:
    fitted, _ = _fitted(model)
    new = _new_customers(fitted)
    rows = {901: [0.0, 0.0], 902: [0.0, 1.0], 903: [1.0, 0.0], 904: [1.0, 1.0]}
    got = fitted.expected_purchases_new_customer(26.0, purchase_covariates=new, dropout_covariates=new)
    pmf = fitted.probability_of_purchases_new_customer(2, 26.0, purchase_covariates=new, dropout_covariates=new)
    assert got.shape == (4,) and pmf.shape == (4,)
    for i, cid in enumerate([901, 902, 903, 904]):  # the covariates' own order: ascending id
        base = _individual(fitted, np.array(rows[cid]))
        assert got[i] == pytest.approx(float(base.expected_purchases_new_customer(26.0)), rel=1e-13)
        assert pmf[i] == pytest.approx(float(base.probability_of_purchases_new_customer(2, 26.0)), rel=1e-13)
    # The effects are real: customers differ.
    assert np.ptp(got) > 0.05 * got.mean()


def test_all_zero_covariates_give_the_model_without_covariates() -> None:
    fitted, _ = _fitted("pnbd")
    zero = Covariates.static({"id": [5, 6], "A": [0.0, 0.0], "B": [0.0, 0.0]}, customer_id="id",
                             columns=["A", "B"], design=_new_customers(fitted).design)
    plain = FittedParetoNBD(params=fitted.params, time_unit="W")
    t = np.array([[4.0], [52.0]])
    got = fitted.expected_purchases_new_customer(t, purchase_covariates=zero, dropout_covariates=zero)
    assert got.shape == (2, 2)
    np.testing.assert_array_equal(got, np.broadcast_to(plain.expected_purchases_new_customer(t), (2, 2)))
    np.testing.assert_array_equal(
        fitted.probability_of_purchases_new_customer([0, 1], 52.0, purchase_covariates=zero,
                                                     dropout_covariates=zero),
        plain.probability_of_purchases_new_customer([0, 1], 52.0))


def test_customer_id_picks_and_orders_the_customers() -> None:
    fitted, _ = _fitted("pnbd")
    new = _new_customers(fitted)
    default = fitted.expected_purchases_new_customer(13.0, purchase_covariates=new, dropout_covariates=new)
    picked = fitted.expected_purchases_new_customer(13.0, purchase_covariates=new, dropout_covariates=new,
                                                    customer_id=[904, 901, 904])
    np.testing.assert_array_equal(picked, default[[3, 0, 3]])
    plain = _Cov([901, 902, 903, 904], {"A": [0.0, 0.0, 1.0, 1.0], "B": [0.0, 1.0, 0.0, 1.0]})
    np.testing.assert_array_equal(
        fitted.expected_purchases_new_customer(13.0, purchase_covariates=plain, dropout_covariates=plain,
                                               customer_id=[901, 902, 903, 904]), default)
    with pytest.raises(InvalidInputError, match=r"customer_id=\[\.\.\.\]"):
        fitted.expected_purchases_new_customer(13.0, purchase_covariates=plain, dropout_covariates=plain)


def test_new_customer_errors_are_typed() -> None:
    fitted, _ = _fitted("pnbd")
    new = _new_customers(fitted)
    with pytest.raises(InvalidInputError, match="purchase_covariates and dropout_covariates"):
        fitted.expected_purchases_new_customer(13.0)
    with pytest.raises(InvalidInputError, match="purchase_covariates and dropout_covariates"):
        fitted.probability_of_purchases_new_customer(1, 13.0, purchase_covariates=new)
    with pytest.raises(InvalidInputError, match="without covariates"):
        FittedParetoNBD(params=fitted.params, time_unit="W").expected_purchases_new_customer(
            13.0, purchase_covariates=new)
    with pytest.raises(InvalidInputError, match="customer_id"):
        fitted.expected_purchases_new_customer(13.0, purchase_covariates=new, dropout_covariates=new,
                                               customer_id=[999])
    with pytest.raises(InvalidInputError, match="one-dimensional"):
        fitted.expected_purchases_new_customer(13.0, purchase_covariates=new, dropout_covariates=new,
                                               customer_id=[[901]])
    with pytest.raises(InvalidInputError, match="broadcastable to the 4 customers"):
        fitted.expected_purchases_new_customer([1.0, 2.0], purchase_covariates=new, dropout_covariates=new)
    with pytest.raises(InvalidInputError, match="'t' parameter"):
        fitted.expected_purchases_new_customer(-1.0, purchase_covariates=new, dropout_covariates=new)
    # Without covariates nothing changes: the shape of t.
    plain = FittedParetoNBD(params=fitted.params, time_unit="W")
    assert plain.expected_purchases_new_customer([1.0, 2.0, 3.0]).shape == (3,)


def _fresh_dert(model: Any, d: float) -> float:
    delta = math.log1p(d)
    return integrate.quad(lambda t: delta * math.exp(-delta * t) * float(model.expected_purchases_new_customer(t)),
                          0.0, np.inf, epsabs=0.0, epsrel=1e-12, limit=500)[0]


@pytest.mark.parametrize("model", ["pnbd", "bgnbd"])
def test_new_customer_value_is_margin_spend_and_discounted_purchases_per_customer(model: str) -> None:
    fitted, gg = _fitted(model)
    new = _new_customers(fitted)
    d = 1.1 ** (1 / 52) - 1
    got = new_customer_value(fitted, gg, discount_rate=d, margin=0.3, purchase_covariates=new,
                             dropout_covariates=new, spend_covariates=new)
    rows = {901: [0.0, 0.0], 902: [0.0, 1.0], 903: [1.0, 0.0], 904: [1.0, 1.0]}
    p, q, v = gg.param_array()
    g = np.array(list(gg.coefficients["spend"].values()))
    for i, cid in enumerate([901, 902, 903, 904]):
        z = np.array(rows[cid])
        spend = p * v * math.exp(z @ g) / (q - 1.0)  # the Gamma-Gamma mean spend at v_i = v exp(gamma'z)
        expected = 0.3 * spend * _fresh_dert(_individual(fitted, z), d)
        assert got[i] == pytest.approx(expected, rel=1e-8)


def test_new_customer_value_without_covariates_and_with_zero_covariates() -> None:
    fitted, gg = _fitted("pnbd")
    d = 0.002
    plain = FittedParetoNBD(params=fitted.params, time_unit="W")
    plain_gg = FittedGammaGamma(params=gg.params, time_unit="W")
    one = new_customer_value(plain, plain_gg, discount_rate=d)
    assert one.shape == (1,)
    assert one[0] == pytest.approx(plain_gg.population_mean_spend * _fresh_dert(plain, d), rel=1e-8)
    zero = Covariates.static({"id": [1, 2], "A": [0.0, 0.0], "B": [0.0, 0.0]}, customer_id="id",
                             columns=["A", "B"], design=_new_customers(fitted).design)
    both = new_customer_value(fitted, gg, discount_rate=d, purchase_covariates=zero, dropout_covariates=zero,
                              spend_covariates=zero)
    np.testing.assert_allclose(both, np.full(2, one[0]), rtol=1e-14)
    assert new_customer_value(plain, 10.0, discount_rate=d, customer_id=[7, 8, 9]).shape == (3,)


def test_new_customer_value_of_the_discrete_time_bg_bb_is_the_discounted_series() -> None:
    # BG/BB (no covariate link): sum over opportunities k of the new customer's expected transactions in k,
    # discounted by (1 + d)^k; the series is summed here from expected_purchases_new_customer up to k = 3000.
    model = FittedBetaGeoBetaBinom(params=BetaGeoBetaBinomParams(alpha=1.2, beta=0.75, gamma=0.66, delta=2.78),
                                   time_unit="Y")
    k = np.arange(0, 3001, dtype=float)
    series = float(np.diff(model.expected_purchases_new_customer(k)) @ (1.1 ** -k[1:]))
    assert new_customer_value(model, 10.0, discount_rate=0.1, margin=0.5)[0] == pytest.approx(5.0 * series,
                                                                                              rel=1e-10)


def test_new_customer_value_errors_are_typed() -> None:
    fitted, gg = _fitted("pnbd")
    new = _new_customers(fitted)
    with pytest.raises(InvalidInputError, match="purchase_covariates and dropout_covariates"):
        new_customer_value(fitted, 10.0, discount_rate=0.01)
    with pytest.raises(InvalidInputError, match="spend_covariates"):
        new_customer_value(fitted, gg, discount_rate=0.01, purchase_covariates=new, dropout_covariates=new)
    with pytest.raises(InvalidInputError, match="need a fitted spend model"):
        new_customer_value(fitted, 10.0, discount_rate=0.01, purchase_covariates=new, dropout_covariates=new,
                           spend_covariates=new)
    with pytest.raises(InvalidInputError, match="'margin' parameter"):
        new_customer_value(fitted, 10.0, discount_rate=0.01, margin=1.5)
    with pytest.raises(InvalidInputError, match="discount_rate"):
        new_customer_value(FittedParetoNBD(params=fitted.params, time_unit="W"), 10.0, discount_rate=0.0)
    with pytest.raises(InvalidInputError, match="fitted count model"):
        new_customer_value(gg, 10.0, discount_rate=0.01)
