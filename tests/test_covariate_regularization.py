"""L2 regularisation of the covariate coefficients per process (issue 13, scope 4: CLVTools' ``reg.lambdas``).

The form follows CLVTools' ``interlayer_regularization`` (R/interlayer_regularization.R in
bachmannpatrick/CLVTools): the summed negative log-likelihood divided by the number of customers, plus
``lambda_trans * sum(gamma_trans**2) + lambda_life * sum(gamma_life**2)``, applied after a coefficient constrained
equal across the processes has been duplicated into both (so it carries the sum of the two lambdas).

The first-order check is independent of the fit's own objective: the penalised objective is rebuilt here from the
model's per-customer log-likelihood kernel at each customer's individual parameters (the link written out in the
test) plus the penalty, and differentiated by central finite differences.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from _covmatrix import Cov as _Cov
from scipy import special

from clvkit import ContractSummary, CustomerSummary, load_json
from clvkit.errors import InvalidInputError
from clvkit.valuation import BetaGeo, BetaGeoBetaBinom, GammaGamma, ModifiedBetaGeo, ParetoNBD, ShiftedBetaGeo
from clvkit.valuation.models import _bgnbd, _gammagamma, _paretonbd


def _simulated(seed: int, n: int, model: str = "pnbd") -> tuple[CustomerSummary, _Cov, np.ndarray]:
    """Customers with two binary covariates A, B, drawn at their individual parameters (CLVTools' links) with
    purchase coefficients (0.5, -0.4) and dropout coefficients (-0.3, 0.6)."""
    rng = np.random.default_rng(seed)
    z = rng.integers(0, 2, (n, 2)).astype(float)
    gp, gd = np.array([0.5, -0.4]), np.array([-0.3, 0.6])
    T = rng.uniform(30.0, 80.0, n)
    x, tx = np.empty(n), np.empty(n)
    for row in np.unique(z, axis=0):
        idx = np.flatnonzero((z == row).all(axis=1))
        if model == "pnbd":
            p = np.array([0.8, 8.0 * math.exp(-row @ gp), 0.6, 12.0 * math.exp(-row @ gd)])
            x[idx], tx[idx] = _paretonbd.simulate(p, T[idx], rng)
        else:
            up = math.exp(row @ gd)
            p = np.array([0.8, 8.0 * math.exp(-row @ gp), 0.8 * up, 3.0 * up])
            x[idx], tx[idx] = _bgnbd.simulate(p, T[idx], rng)
    ids = np.arange(n) + 100
    m = np.where(x > 0, rng.gamma(4.0, 5.0 * np.exp(0.3 * z[:, 0]), n), 0.0)
    summary = CustomerSummary(x, tx, T, monetary_value=m, customer_id=ids, time_unit="W")
    return summary, _Cov(ids, {"A": z[:, 0], "B": z[:, 1]}), z


def _coefs(fitted: Any) -> np.ndarray:
    return np.array([v for values in fitted.coefficients.values() for v in values.values()])


@pytest.mark.parametrize("engine", [ParetoNBD(), BetaGeo(), ModifiedBetaGeo()])
def test_zero_lambdas_give_exactly_the_unregularised_fit(engine: Any) -> None:
    summary, cov, _ = _simulated(1, 1200, "pnbd" if isinstance(engine, ParetoNBD) else "bgnbd")
    plain = engine.fit(summary, purchase_covariates=cov, dropout_covariates=cov)
    zero = engine.fit(summary, purchase_covariates=cov, dropout_covariates=cov,
                      regularization={"purchase": 0.0, "dropout": 0})
    np.testing.assert_array_equal(zero.param_array(), plain.param_array())
    assert zero.coefficients == plain.coefficients
    assert zero.log_likelihood == plain.log_likelihood
    assert zero.standard_errors == plain.standard_errors
    assert plain.fit_info is not None and plain.fit_info.regularization is None
    assert zero.fit_info is not None and zero.fit_info.regularization == {"purchase": 0.0, "dropout": 0.0}


def test_zero_lambda_gives_exactly_the_unregularised_spend_fit() -> None:
    summary, cov, _ = _simulated(2, 1500)
    plain = GammaGamma().fit(summary, spend_covariates=cov)
    zero = GammaGamma().fit(summary, spend_covariates=cov, regularization={"spend": 0.0})
    np.testing.assert_array_equal(zero.param_array(), plain.param_array())
    assert zero.coefficients == plain.coefficients and zero.log_likelihood == plain.log_likelihood


@pytest.mark.parametrize(("engine", "model"), [(ParetoNBD(), "pnbd"), (BetaGeo(), "bgnbd")])
def test_growing_lambdas_shrink_the_coefficients_monotonically_to_zero(engine: Any, model: str) -> None:
    # For a penalty c * P(gamma) the penalised optimum's P is non-increasing in c (compare the two optimality
    # inequalities), here with P = |gamma_p|^2 + 2 |gamma_d|^2; it tends to 0 as c grows.
    summary, cov, _ = _simulated(3, 1500, model)
    penalty, lls = [], []
    for c in (0.0, 0.003, 0.03, 0.3, 3.0, 30.0):
        fitted = engine.fit(summary, purchase_covariates=cov, dropout_covariates=cov,
                            regularization={"purchase": c, "dropout": 2.0 * c})
        gp = np.array(list(fitted.coefficients["purchase"].values()))
        gd = np.array(list(fitted.coefficients["dropout"].values()))
        penalty.append(float(gp @ gp + 2.0 * gd @ gd))
        lls.append(fitted.log_likelihood)
    assert all(later < earlier for earlier, later in itertools.pairwise(penalty)), penalty
    assert penalty[0] > 0.1 and penalty[-1] < 1e-3 * penalty[0]
    # The unpenalised log-likelihood falls as the coefficients are held back from its maximum.
    assert all(later <= earlier + 1e-9 for earlier, later in itertools.pairwise(lls)), lls


def _fd_gradient(objective: Callable[[np.ndarray], float], u: np.ndarray, h: float = 1e-5) -> np.ndarray:
    grad = np.empty_like(u)
    for j in range(u.shape[0]):
        up, down = u.copy(), u.copy()
        up[j] += h
        down[j] -= h
        grad[j] = (objective(up) - objective(down)) / (2.0 * h)
    return grad


def test_pareto_nbd_penalised_optimum_satisfies_the_penalised_first_order_condition() -> None:
    summary, cov, z = _simulated(4, 1500)
    lam_p, lam_d = 0.05, 0.2
    fitted = ParetoNBD().fit(summary, purchase_covariates=cov, dropout_covariates=cov,
                             regularization={"purchase": lam_p, "dropout": lam_d})
    x, tx, T, n = summary.frequency, summary.recency, summary.T, len(summary)

    def neg_mean_ll(u: np.ndarray) -> float:
        r, alpha, s, beta = np.exp(u[:4])
        gp, gd = u[4:6], u[6:8]
        total = 0.0
        for row in np.unique(z, axis=0):  # the model's own kernel at each group's individual parameters
            idx = np.flatnonzero((z == row).all(axis=1))
            p = np.array([r, alpha * math.exp(-row @ gp), s, beta * math.exp(-row @ gd)])
            total += float(_paretonbd.loglik(p, x[idx], tx[idx], T[idx])[0].sum())
        return -total / n

    def penalised(u: np.ndarray) -> float:
        return neg_mean_ll(u) + lam_p * float(u[4:6] @ u[4:6]) + lam_d * float(u[6:8] @ u[6:8])

    u = np.concatenate([np.log(fitted.param_array()), _coefs(fitted)])
    assert np.max(np.abs(_fd_gradient(penalised, u))) < 2e-6
    # Not trivially flat: the likelihood alone is not at its optimum, its slope is the penalty's (-2 lambda gamma).
    slope = _fd_gradient(neg_mean_ll, u)[4:]
    np.testing.assert_allclose(slope, -2.0 * np.repeat([lam_p, lam_d], 2) * u[4:], atol=2e-6)
    assert np.max(np.abs(slope)) > 1e-3


def test_equal_coefficient_is_penalised_with_the_sum_of_both_lambdas() -> None:
    summary, cov, z = _simulated(5, 1500, "bgnbd")
    lam_p, lam_d = 0.1, 0.3
    fitted = BetaGeo().fit(summary, purchase_covariates=cov, dropout_covariates=cov, equal=("A",),
                           regularization={"purchase": lam_p, "dropout": lam_d})
    assert fitted.coefficients["purchase"]["A"] == fitted.coefficients["dropout"]["A"]
    x, tx, T, n = summary.frequency, summary.recency, summary.T, len(summary)

    def penalised(u: np.ndarray) -> float:
        r, alpha, a, b = np.exp(u[:4])
        g_a, gp_b, gd_b = u[4:]
        total = 0.0
        for row in np.unique(z, axis=0):
            idx = np.flatnonzero((z == row).all(axis=1))
            eta_p, eta_d = g_a * row[0] + gp_b * row[1], g_a * row[0] + gd_b * row[1]
            p = np.array([r, alpha * math.exp(-eta_p), a * math.exp(eta_d), b * math.exp(eta_d)])
            total += float(_bgnbd.loglik(p, x[idx], tx[idx], T[idx])[0].sum())
        return -total / n + (lam_p + lam_d) * g_a**2 + lam_p * gp_b**2 + lam_d * gd_b**2

    u = np.concatenate([np.log(fitted.param_array()), [fitted.coefficients["purchase"]["A"],
                                                        fitted.coefficients["purchase"]["B"],
                                                        fitted.coefficients["dropout"]["B"]]])
    assert np.max(np.abs(_fd_gradient(penalised, u))) < 2e-6
    table = fitted.coefficient_table()
    assert table["l2_lambda"].to_dict() == pytest.approx({"purchase.A": lam_p + lam_d, "purchase.B": lam_p,
                                                          "dropout.A": lam_p + lam_d, "dropout.B": lam_d})


def test_gamma_gamma_penalised_optimum_satisfies_the_penalised_first_order_condition() -> None:
    summary, cov, z = _simulated(6, 2000)
    lam = 0.5
    fitted = GammaGamma().fit(summary, spend_covariates=cov, regularization={"spend": lam})
    repeat = summary.frequency > 0
    x, m, zr = summary.frequency[repeat], summary.monetary_value[repeat], z[repeat]  # type: ignore[index]

    def penalised(u: np.ndarray) -> float:
        p, q, v = np.exp(u[:3])
        total = 0.0
        for row in np.unique(zr, axis=0):
            idx = np.flatnonzero((zr == row).all(axis=1))
            total += float(_gammagamma.loglik(np.array([p, q, v * math.exp(row @ u[3:])]), x[idx], m[idx])[0].sum())
        return -total / x.shape[0] + lam * float(u[3:] @ u[3:])  # the mean over the customers fitted (repeaters)

    u = np.concatenate([np.log(fitted.param_array()), _coefs(fitted)])
    assert np.max(np.abs(_fd_gradient(penalised, u))) < 2e-6
    assert abs(_coefs(fitted)[0]) > 1e-3  # a real coefficient, shrunk but not to nothing


def test_lambdas_are_saved_reported_and_round_trip() -> None:
    summary, cov, _ = _simulated(7, 800)
    fitted = ParetoNBD().fit(summary, purchase_covariates=cov, dropout_covariates=cov,
                             regularization={"dropout": 1.5})
    assert fitted.fit_info is not None and fitted.fit_info.regularization == {"dropout": 1.5}
    text = fitted.to_json()
    assert '"regularization"' in text
    back = load_json(text)
    assert back == fitted and back.fit_info is not None and back.fit_info.regularization == {"dropout": 1.5}
    table = fitted.coefficient_table()
    assert table["l2_lambda"].tolist() == [0.0, 0.0, 1.5, 1.5]  # purchase A, B unpenalised; dropout A, B
    plain = ParetoNBD().fit(summary, purchase_covariates=cov)
    assert '"regularization"' not in plain.to_json() and "l2_lambda" not in plain.coefficient_table()
    assert '"regularization"' not in ParetoNBD().fit(summary).to_json()


@pytest.mark.parametrize(("regularization", "match"), [
    ({"purchase": -0.1}, "finite lambda >= 0 for 'purchase'"),
    ({"purchase": math.nan}, "finite lambda >= 0 for 'purchase'"),
    ({"dropout": math.inf}, "finite lambda >= 0 for 'dropout'"),
    ({"purchase": True}, "finite lambda >= 0 for 'purchase'"),
    ({"purchase": "1"}, "finite lambda >= 0 for 'purchase'"),
    ({"trans": 1.0}, "names 'trans', which is not a covariate process"),
    ({"spend": 1.0}, "names 'spend', which is not a covariate process"),
    ([("purchase", 1.0)], "must be a dict"),
    (0.5, "must be a dict"),
])
def test_bad_lambdas_are_typed_errors_naming_the_key(regularization: Any, match: str) -> None:
    summary, cov, _ = _simulated(8, 200)
    with pytest.raises(InvalidInputError, match=match):
        ParetoNBD().fit(summary, purchase_covariates=cov, dropout_covariates=cov, regularization=regularization)


def test_a_process_without_covariates_cannot_be_regularised() -> None:
    summary, cov, _ = _simulated(9, 200)
    with pytest.raises(InvalidInputError, match="names 'dropout', but no dropout_covariates were given"):
        ParetoNBD().fit(summary, purchase_covariates=cov, regularization={"dropout": 1.0})
    with pytest.raises(InvalidInputError, match="names 'purchase', but no purchase_covariates were given"):
        BetaGeo().fit(summary, regularization={"purchase": 1.0})
    with pytest.raises(InvalidInputError, match="names 'purchase', which is not a covariate process"):
        GammaGamma().fit(summary, spend_covariates=cov, regularization={"purchase": 1.0})
    bgbb = CustomerSummary([0, 2, 3], [0, 4, 5], [6, 6, 6], customer_id=[1, 2, 3], time_unit="W")
    with pytest.raises(InvalidInputError, match="this model takes no covariates"):
        BetaGeoBetaBinom().fit(bgbb, regularization={"purchase": 1.0})
    # An empty mapping is no regularisation.
    fitted = ParetoNBD().fit(summary, purchase_covariates=cov, regularization={})
    assert fitted.fit_info is not None and fitted.fit_info.regularization is None


def test_sbg_dropout_coefficients_are_regularised_too() -> None:
    # sBG with alpha_i = alpha exp(gamma'z): the penalised objective rebuilt from the sBG likelihood (Fader & Hardie
    # 2007, section 3: churn in period t, B(alpha_i + 1, beta + t - 1) / B(alpha_i, beta); still active after t,
    # B(alpha_i, beta + t) / B(alpha_i, beta)), plus lambda |gamma|^2, is flat at the fit.
    rng = np.random.default_rng(12)
    n = 4000
    z = rng.integers(0, 2, (n, 2)).astype(float)
    lifetime = rng.geometric(rng.beta(1.1 * np.exp(z @ np.array([0.6, -0.4])), 2.8))
    observed = rng.integers(1, 11, n)
    churned = lifetime <= observed
    duration = np.where(churned, lifetime, observed).astype(float)
    ids = np.arange(n) + 1
    contracts = ContractSummary(duration, churned, customer_id=ids, time_unit="M")
    cov = _Cov(ids, {"A": z[:, 0], "B": z[:, 1]})
    plain = ShiftedBetaGeo().fit(contracts, covariates=cov)
    zero = ShiftedBetaGeo().fit(contracts, covariates=cov, regularization={"dropout": 0.0})
    assert zero.coefficients == plain.coefficients and zero.log_likelihood == plain.log_likelihood
    lam = 0.3
    fitted = ShiftedBetaGeo().fit(contracts, covariates=cov, regularization={"dropout": lam})

    def penalised(u: np.ndarray) -> float:
        alpha_i, beta = math.exp(u[0]) * np.exp(z @ u[2:]), math.exp(u[1])
        ll = np.where(churned, special.betaln(alpha_i + 1.0, beta + duration - 1.0),
                      special.betaln(alpha_i, beta + duration)) - special.betaln(alpha_i, beta)
        return -float(ll.sum()) / n + lam * float(u[2:] @ u[2:])

    u = np.concatenate([np.log(fitted.param_array()), _coefs(fitted)])
    assert np.max(np.abs(_fd_gradient(penalised, u))) < 2e-6
    assert float(np.abs(_coefs(fitted)).sum()) < float(np.abs(_coefs(plain)).sum())
    with pytest.raises(InvalidInputError, match="names 'dropout', but no covariates were given"):
        ShiftedBetaGeo().fit(contracts, regularization={"dropout": 1.0})


def test_time_varying_fits_take_the_same_regularization(shared_data: Any) -> None:
    # The time-varying fit (Bachmann, Meierer & Naef 2021) goes through the same optimiser: lambda 0 is exactly
    # the unregularised fit, a positive lambda shrinks the coefficients and is recorded.
    pd = pytest.importorskip("pandas")
    import clvkit

    trans = pd.read_csv(shared_data("apparel_trans.csv"), parse_dates=["Date"])
    dyn = pd.read_csv(shared_data("apparel_dyn_cov.csv.gz"), parse_dates=["Cov.Date"])
    summary = clvkit.summarize(trans, customer_id="Id", datetime="Date", time_unit="D",
                               calibration_end="2006-12-31").with_time_unit("W")
    cov = clvkit.Covariates.dynamic(dyn, customer_id="Id", period="Cov.Date", columns=["High.Season", "Gender"])
    plain = ParetoNBD().fit(summary, purchase_covariates=cov)
    zero = ParetoNBD().fit(summary, purchase_covariates=cov, regularization={"purchase": 0.0})
    assert zero.time_varying and zero.coefficients == plain.coefficients
    assert zero.log_likelihood == plain.log_likelihood
    shrunk = ParetoNBD().fit(summary, purchase_covariates=cov, regularization={"purchase": 1.0})
    assert shrunk.fit_info is not None and shrunk.fit_info.regularization == {"purchase": 1.0}
    assert float(np.linalg.norm(_coefs(shrunk))) < 0.5 * float(np.linalg.norm(_coefs(plain)))
    with pytest.raises(InvalidInputError, match="names 'dropout', but no dropout_covariates were given"):
        ParetoNBD().fit(summary, purchase_covariates=cov, regularization={"dropout": 1.0})
    with pytest.raises(InvalidInputError, match="not available for a model fitted with time-varying covariates"):
        plain.expected_purchases_new_customer(52.0, purchase_covariates=cov)


def test_likelihood_ratio_test_refuses_penalised_fits() -> None:
    # A penalised optimum's log-likelihood is not a maximum-likelihood value: the chi-square reference of the LR
    # statistic does not hold, so the test is refused rather than computed.
    from clvkit import Covariates, CustomerSummary
    from clvkit.valuation import ParetoNBD, likelihood_ratio_test
    from clvkit.valuation.models import _paretonbd

    rng = np.random.default_rng(3)
    n = 2000
    x, tx = _paretonbd.simulate(np.array([0.8, 8.0, 0.6, 12.0]), np.full(n, 52.0), rng)
    summary = CustomerSummary(x, tx, np.full(n, 52.0), customer_id=np.arange(n), time_unit="W")
    cov = Covariates.static({"id": np.arange(n), "z": rng.integers(0, 2, n)}, customer_id="id", columns=["z"])
    plain = ParetoNBD().fit(summary)
    free = ParetoNBD().fit(summary, purchase_covariates=cov)
    assert likelihood_ratio_test(plain, free).df == 1
    shrunk = ParetoNBD().fit(summary, purchase_covariates=cov, regularization={"purchase": 0.5})
    with pytest.raises(InvalidInputError, match="full model was fitted with a penalty"):
        likelihood_ratio_test(plain, shrunk)
    with pytest.raises(InvalidInputError, match="restricted model was fitted with a penalty"):
        likelihood_ratio_test(ParetoNBD(penalizer=0.01).fit(summary), free)
