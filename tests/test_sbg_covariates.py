"""Static covariates on the shifted-beta-geometric contract model (issue 13, scope 2).

Link: a ``dropout`` process scaling alpha, ``alpha_i = alpha exp(gamma' z_i)`` (a positive coefficient raises the
churn probability). Provenance of the expected values: the fitted log-likelihood is compared with an independent
per-contract evaluation of the sBG likelihood written out here from Fader & Hardie (2007, section 3) with each
contract's ``alpha_i`` - ``P(T = t) = B(alpha_i + 1, beta + t - 1) / B(alpha_i, beta)`` for a churned contract,
``S(t) = B(alpha_i, beta + t) / B(alpha_i, beta)`` for an active one - itself checked against the Beta integral by
quadrature; that independent likelihood must be flat at the estimates. Recovery tests simulate contracts from the
generative model (``theta_i ~ Beta(alpha_i, beta)``, a shifted-geometric lifetime, censoring at the end of each
contract's observation) with known coefficients. Predictions are checked against models without covariates built
at each customer's ``alpha_i``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from _covmatrix import Cov as _Cov
from scipy import integrate, special, stats

from clvkit import ContractSummary, Covariates, load_json
from clvkit.errors import InvalidInputError, ModelDomainError
from clvkit.valuation import FittedShiftedBetaGeo, ShiftedBetaGeo, ShiftedBetaGeoParams, likelihood_ratio_test
from clvkit.valuation.models._covariates import build_design, group_customers, grouped_loglik

ALPHA, BETA, GAMMA = 1.1, 2.8, (0.6, -0.4)


def _simulate(seed: int, n: int, alpha: float = ALPHA, beta: float = BETA, gamma: tuple[float, ...] = GAMMA,
              z: np.ndarray | None = None) -> tuple[ContractSummary, np.ndarray, np.ndarray]:
    """Contracts from the sBG model with ``alpha_i = alpha exp(gamma' z_i)``: ``theta_i ~ Beta(alpha_i, beta)``,
    the lifetime (period of cancellation) ~ shifted geometric(theta_i), each contract observed for 1-10 periods
    (cohorts acquired at different times). Default covariates: a binary one and a continuous one (a standard
    normal on a grid of 0.25, so the template evaluates about 60 distinct covariate rows, not 20k)."""
    rng = np.random.default_rng(seed)
    if z is None:
        z = np.column_stack([rng.integers(0, 2, n), np.round(rng.normal(0.0, 1.0, n) * 4.0) / 4.0])
    theta = rng.beta(alpha * np.exp(z @ np.asarray(gamma)), beta)
    lifetime = rng.geometric(theta)
    observed = rng.integers(1, 11, n)
    churned = lifetime <= observed
    ids = np.arange(n) + 1000
    contracts = ContractSummary(np.where(churned, lifetime, observed), churned, customer_id=ids, time_unit="M")
    return contracts, z, ids


def _covariates(ids: np.ndarray, z: np.ndarray) -> Covariates:
    return Covariates.static({"id": ids, "A": z[:, 0], "B": z[:, 1]}, customer_id="id", columns=["A", "B"])


def _independent_ll(alpha_i: np.ndarray, beta: float, duration: np.ndarray, churned: np.ndarray) -> np.ndarray:
    """Per-contract sBG log-likelihood (Fader & Hardie 2007, section 3) at each contract's own alpha_i."""
    t = duration
    churn = special.betaln(alpha_i + 1.0, beta + t - 1.0) - special.betaln(alpha_i, beta)
    alive = special.betaln(alpha_i, beta + t) - special.betaln(alpha_i, beta)
    return np.where(churned, churn, alive)


@pytest.fixture(scope="module")
def simulated() -> tuple[ContractSummary, np.ndarray, np.ndarray, Covariates, FittedShiftedBetaGeo]:
    contracts, z, ids = _simulate(20261207, 20_000)
    cov = _covariates(ids, z)
    return contracts, z, ids, cov, ShiftedBetaGeo().fit(contracts, covariates=cov)


def test_the_independent_likelihood_is_the_beta_integral() -> None:
    # The test's own closed form against E_theta[P(T = t | theta)] by quadrature over theta ~ Beta(alpha_i, beta).
    for alpha_i, t, churned in ((0.4, 1.0, True), (1.7, 5.0, True), (0.9, 3.0, False), (2.5, 9.0, False)):
        def integrand(th: float, t: float = t, churned: bool = churned, a: float = alpha_i) -> float:
            p = th * (1.0 - th) ** (t - 1.0) if churned else (1.0 - th) ** t
            return float(p * stats.beta.pdf(th, a, BETA))

        value = integrate.quad(integrand, 0.0, 1.0, epsabs=0.0, epsrel=1e-12, limit=200)[0]
        ll = _independent_ll(np.array([alpha_i]), BETA, np.array([t]), np.array([churned]))[0]
        assert ll == pytest.approx(np.log(value), rel=1e-9)


def test_simulation_recovers_alpha_beta_and_coefficients_within_three_standard_errors(simulated: Any) -> None:
    _, _, _, _, fitted = simulated
    info = fitted.fit_info
    assert info is not None and info.converged and info.n_params == 4 and info.n_customers == 20_000
    se = fitted.standard_errors or {}
    assert set(se) == {"alpha", "beta", "dropout.A", "dropout.B"}
    assert set(fitted.coefficients) == {"dropout"} and list(fitted.coefficients["dropout"]) == ["A", "B"]
    for name, value in zip(("A", "B"), GAMMA, strict=True):
        assert abs(fitted.coefficients["dropout"][name] - value) < 3.0 * se[f"dropout.{name}"], name
    for name, value in (("alpha", ALPHA), ("beta", BETA)):
        assert abs(getattr(fitted.params, name) - value) < 3.0 * se[name], name
    # AIC counts the coefficients.
    assert info.aic == pytest.approx(2 * 4 - 2 * info.log_likelihood)


def test_fitted_log_likelihood_is_the_independent_maximum(simulated: Any) -> None:
    contracts, z, _, _, fitted = simulated
    d, c = contracts.duration, contracts.churned

    def ll(theta: np.ndarray) -> float:
        return float(_independent_ll(theta[0] * np.exp(z @ theta[2:]), theta[1], d, c).sum())

    theta = np.concatenate([fitted.param_array(), list(fitted.coefficients["dropout"].values())])
    assert fitted.log_likelihood == pytest.approx(ll(theta), rel=1e-11)
    for j in range(theta.shape[0]):  # flat at the estimates: the score is ~0 per contract
        h = 1e-5 * abs(theta[j])
        up, down = theta.copy(), theta.copy()
        up[j] += h
        down[j] -= h
        assert abs((ll(up) - ll(down)) / (2 * h)) * abs(theta[j]) < 1e-3, j


def test_grouped_gradient_matches_the_independent_likelihood_and_finite_differences() -> None:
    contracts, z, ids = _simulate(11, 600)
    engine = ShiftedBetaGeo()
    links = engine.fitted_class.covariate_links
    design = build_design(ids, {"dropout": _Cov(ids, {"A": z[:, 0], "B": z[:, 1]})}, (), links, "test")
    assert design is not None and design.labels == ("dropout.A", "dropout.B")
    members, rows = group_customers(design)
    groups, weights = [], []
    for idx, row in zip(members, rows, strict=True):
        data, w = engine._prepare_group(contracts.take(idx))
        groups.append((data, row))
        weights.append(w)
    loglik = grouped_loglik(engine._loglik, groups, 2, links)
    w = np.concatenate(weights)
    theta = np.array([0.9, 3.3, 0.4, -0.2])
    ll, grad = loglik(theta, {})
    expected = _independent_ll(theta[0] * np.exp(z @ theta[2:]), theta[1], contracts.duration, contracts.churned)
    assert float(w @ ll) == pytest.approx(float(expected.sum()), rel=1e-12)
    for j in range(theta.shape[0]):
        h = 1e-6 * abs(theta[j])
        up, down = theta.copy(), theta.copy()
        up[j] += h
        down[j] -= h
        fd = (w @ loglik(up, {})[0] - w @ loglik(down, {})[0]) / (2 * h)
        assert float(w @ grad[:, j]) == pytest.approx(fd, rel=1e-6, abs=1e-6)


def test_all_zero_covariate_reproduces_the_plain_fit_exactly() -> None:
    contracts, _, ids = _simulate(3, 3000)
    plain = ShiftedBetaGeo().fit(contracts)
    with_zero = ShiftedBetaGeo().fit(contracts, covariates=_Cov(ids, {"Z": np.zeros(3000)}))
    np.testing.assert_array_equal(with_zero.param_array(), plain.param_array())
    assert with_zero.log_likelihood == plain.log_likelihood
    assert with_zero.coefficients == {"dropout": {"Z": 0.0}}
    assert with_zero.standard_errors == plain.standard_errors


def test_dropout_covariates_keyword_is_the_same_process() -> None:
    contracts, z, ids = _simulate(5, 2000)
    cov = _covariates(ids, z)
    a = ShiftedBetaGeo().fit(contracts, covariates=cov)
    b = ShiftedBetaGeo().fit(contracts, dropout_covariates=cov)
    assert a.params == b.params and a.coefficients == b.coefficients
    assert a.standard_errors == b.standard_errors and a.log_likelihood == b.log_likelihood


def test_a_continuous_covariate_with_one_contract_per_value_fits() -> None:
    # Every covariate row is distinct, so most groups hold a single contract with no churn or no renewal of its
    # own: identification is a property of all contracts, not of each group.
    rng = np.random.default_rng(17)
    z = rng.normal(0.0, 1.0, (400, 1))
    contracts, _, ids = _simulate(17, 400, gamma=(0.5,), z=z)
    fitted = ShiftedBetaGeo().fit(contracts, covariates=_Cov(ids, {"C": z[:, 0]}))
    assert fitted.fit_info is not None and fitted.fit_info.converged and fitted.fit_info.n_rows == 400
    theta = np.concatenate([fitted.param_array(), [fitted.coefficients["dropout"]["C"]]])
    expected = _independent_ll(theta[0] * np.exp(z[:, 0] * theta[2]), theta[1], contracts.duration,
                               contracts.churned).sum()
    assert fitted.log_likelihood == pytest.approx(float(expected), rel=1e-11)


def test_bad_covariates_are_typed_errors() -> None:
    contracts, z, ids = _simulate(7, 500)
    engine = ShiftedBetaGeo()
    with pytest.raises(InvalidInputError, match="name a column twice"):
        engine.fit(contracts, covariates=_Cov(ids, {"A": z[:, 0], "A2": z[:, 1]}, names=("A", "A")))
    with pytest.raises(InvalidInputError, match=r"'A' and 'A_copy' are identical.*Drop one"):
        engine.fit(contracts, covariates=_Cov(ids, {"A": z[:, 0], "A_copy": z[:, 0]}))
    no_ids = ContractSummary(contracts.duration, contracts.churned, time_unit="M")
    with pytest.raises(InvalidInputError, match=r"no customer_id\. Pass customer_id= to ContractSummary"):
        engine.fit(no_ids, covariates=_Cov(ids, {"A": z[:, 0]}))
    with pytest.raises(InvalidInputError, match=r"same process.*pass the covariates once"):
        engine.fit(contracts, covariates=_Cov(ids, {"A": z[:, 0]}), dropout_covariates=_Cov(ids, {"A": z[:, 0]}))
    with pytest.raises(InvalidInputError, match=r"'covariates' parameter of ShiftedBetaGeo\.fit"):
        engine.fit(contracts, covariates=z)
    with pytest.raises(InvalidInputError, match="takes no purchase covariates"):
        engine.fit(contracts, purchase_covariates=_Cov(ids, {"A": z[:, 0]}))
    nan = z[:, 0].copy()
    nan[3] = np.nan
    with pytest.raises(InvalidInputError, match=f"'A' is not finite for customer .*{ids[3]}"):
        engine.fit(contracts, covariates=_Cov(ids, {"A": nan}))
    with pytest.raises(InvalidInputError, match="customer"):  # a contract whose customer has no covariates
        engine.fit(contracts, covariates=Covariates.static({"id": ids[1:], "A": z[1:, 0]}, customer_id="id",
                                                           columns=["A"]))


def test_a_covariate_that_separates_churn_is_refused() -> None:
    contracts, z, ids = _simulate(9, 1000)
    never = contracts.churned & (z[:, 0] == 1.0)  # no contract with A = 1 churned: alpha_i -> 0 is best for them
    separated = ContractSummary(np.where(never, contracts.duration - 1, contracts.duration),
                                contracts.churned & ~never, customer_id=ids, time_unit="M")
    with pytest.raises(InvalidInputError, match=r"covariate 'A' = 1, no contract churned.*no maximum"):
        ShiftedBetaGeo().fit(separated, covariates=_Cov(ids, {"A": z[:, 0]}))
    a1 = z[:, 0] == 1.0  # everyone with A = 1 left in period 1: alpha_i -> infinity is best for them
    instant = ContractSummary(np.where(a1, 1.0, contracts.duration), contracts.churned | a1, customer_id=ids,
                              time_unit="M")
    with pytest.raises(InvalidInputError, match="covariate 'A' = 1, no contract renewed"):
        ShiftedBetaGeo().fit(instant, covariates=_Cov(ids, {"A": z[:, 0]}))


def _with_covariates() -> tuple[FittedShiftedBetaGeo, Covariates, np.ndarray, np.ndarray]:
    """A model at known parameters with coefficients, and customers of three kinds (repeated)."""
    model = FittedShiftedBetaGeo(params=ShiftedBetaGeoParams(alpha=1.3, beta=2.2), time_unit="M",
                                 coefficients={"dropout": {"A": 0.5, "B": -0.3}})
    ids = np.array([40, 10, 30, 20, 50])
    z = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 2.0], [0.0, -1.5], [1.0, 0.0]])
    return model, _covariates(ids, z), ids, z


def _one(alpha_i: float) -> FittedShiftedBetaGeo:
    return FittedShiftedBetaGeo(params=ShiftedBetaGeoParams(alpha=alpha_i, beta=2.2), time_unit="M")


def test_predictions_equal_the_plain_model_at_each_customers_alpha() -> None:
    model, cov, ids, z = _with_covariates()
    order = np.argsort(ids)  # the covariates list their customers in ascending id order
    alpha_i = (1.3 * np.exp(z @ np.array([0.5, -0.3])))[order]
    t = np.array([[1, 2], [5, 12]])
    checks = {
        "survival": (lambda m, **k: m.survival(t, **k)),
        "retention_rate": (lambda m, **k: m.retention_rate(t, **k)),
        "probability_churn": (lambda m, **k: m.probability_churn(t, **k)),
        "expected_survivors": (lambda m, **k: m.expected_survivors([100.0, 50.0], 4, **k)),
        "expected_lifetime": (lambda m, **k: m.expected_lifetime(**k)),
        "derl": (lambda m, **k: m.discounted_expected_residual_lifetime([0, 3, 7], 0.1, **k)),
        "residual_value": (lambda m, **k: m.expected_residual_value([0, 3], 20.0, 0.05, **k)),
        "derl_undiscounted": (lambda m, **k: m.discounted_expected_residual_lifetime(2, 0.0, **k)),
        "derl_quadrature": (lambda m, **k: m.discounted_expected_residual_lifetime([4], 5e-5, **k)),
    }
    for name, call in checks.items():
        got = call(model, covariates=cov)
        expected = np.array([call(_one(a)) for a in alpha_i])
        assert got.shape == expected.shape, name
        np.testing.assert_allclose(got, expected, rtol=1e-13, atol=0, err_msg=name)
    with pytest.warns(DeprecationWarning):
        old = model.residual_value(20.0, 0.05, [1, 2], covariates=cov)
    np.testing.assert_allclose(old, [_one(a).expected_residual_value([1, 2], 20.0, 0.05) for a in alpha_i],
                               rtol=1e-13)


def test_residual_values_of_contracts_match_covariates_by_customer_id() -> None:
    model, cov, ids, z = _with_covariates()
    alpha_by_id = dict(zip(ids.tolist(), (1.3 * np.exp(z @ np.array([0.5, -0.3]))).tolist(), strict=True))
    contract_ids = np.array([30, 50, 10, 40, 20])  # another order than the covariates'
    contracts = ContractSummary([3, 1, 6, 0, 2], [False, True, False, False, True], customer_id=contract_ids,
                                time_unit="M")
    got = model.discounted_expected_residual_lifetime(contracts, 0.08, covariates=cov)
    expected = [0.0 if churned else _one(alpha_by_id[i]).discounted_expected_residual_lifetime(int(d), 0.08)
                for i, d, churned in zip(contract_ids.tolist(), contracts.duration, contracts.churned, strict=True)]
    np.testing.assert_allclose(got, expected, rtol=1e-13, atol=0)
    assert got[1] == 0.0 and got[4] == 0.0  # churned contracts have no residual lifetime
    value = model.expected_residual_value(contracts, np.arange(1.0, 6.0), 0.08, covariates=cov)
    np.testing.assert_allclose(value, np.arange(1.0, 6.0) * got, rtol=1e-15)


def test_predictions_refuse_missing_or_unexpected_covariates() -> None:
    model, cov, ids, z = _with_covariates()
    contracts = ContractSummary([3, 1], [False, True], customer_id=[10, 20], time_unit="M")
    for call in (lambda m, **k: m.survival(3, **k), lambda m, **k: m.retention_rate(3, **k),
                 lambda m, **k: m.probability_churn(3, **k), lambda m, **k: m.expected_survivors(10, 3, **k),
                 lambda m, **k: m.expected_lifetime(**k),
                 lambda m, **k: m.discounted_expected_residual_lifetime(2, 0.1, **k),
                 lambda m, **k: m.expected_residual_value(2, 5.0, 0.1, **k)):
        with pytest.raises(InvalidInputError, match=r"fitted with covariates.*pass covariates="):
            call(model)
        with pytest.raises(InvalidInputError, match="fitted without covariates; do not pass covariates"):
            call(_one(1.3), covariates=cov)
    with pytest.raises(InvalidInputError, match="fitted with covariates; pass covariates for these customers"):
        model.discounted_expected_residual_lifetime(contracts, 0.1)
    no_ids = ContractSummary([3, 1], [False, True], time_unit="M")
    with pytest.raises(InvalidInputError, match="customer_id, which this summary lacks"):
        model.discounted_expected_residual_lifetime(no_ids, 0.1, covariates=cov)
    only_a = Covariates.static({"id": ids, "A": z[:, 0]}, customer_id="id", columns=["A"])
    with pytest.raises(InvalidInputError, match=r"lack \['B'\]"):
        model.survival(2, covariates=only_a)
    with pytest.raises(InvalidInputError, match="list their customers in a 'customer_id' array"):
        model.survival(2, covariates=_Cov(ids, {"A": z[:, 0], "B": z[:, 1]}))
    # A test-local CovariateMatrix matched by the contracts' ids works for contracts.
    out = model.discounted_expected_residual_lifetime(contracts, 0.1, covariates=_Cov(ids, {"A": z[:, 0],
                                                                                          "B": z[:, 1]}))
    assert out.shape == (2,) and out[0] > 0 and out[1] == 0


def test_infinite_mean_lifetime_names_the_first_customer() -> None:
    model = FittedShiftedBetaGeo(params=ShiftedBetaGeoParams(alpha=1.3, beta=2.2), time_unit="M",
                                 coefficients={"dropout": {"A": -1.0}})
    cov = Covariates.static({"id": ["u", "v", "w"], "A": [0.0, 1.0, 1.0]}, customer_id="id", columns=["A"])
    with pytest.raises(ModelDomainError, match="alpha_i <= 1 for 2 of 3 customers, first customer 'v'"):
        model.expected_lifetime(covariates=cov)
    with pytest.raises(ModelDomainError, match=r"residual lifetime is infinite.*2 customers, first customer 'v'"):
        model.discounted_expected_residual_lifetime(0, 0.0, covariates=cov)
    # Given contracts, only active ones count: 'v' has churned, 'w' is the first active one with alpha_i <= 1.
    contracts = ContractSummary([2, 3, 1], [False, True, False], customer_id=["u", "v", "w"], time_unit="M")
    with pytest.raises(ModelDomainError, match=r"\(1 customer, first customer 'w'"):
        model.discounted_expected_residual_lifetime(contracts, 0.0, covariates=cov)
    only_u = ContractSummary([2, 3], [False, True], customer_id=["u", "v"], time_unit="M")
    values = model.discounted_expected_residual_lifetime(only_u, 0.0, covariates=cov)
    np.testing.assert_allclose(values, [_one(1.3).discounted_expected_residual_lifetime(2, 0.0)[()], 0.0], rtol=1e-15)


def test_json_round_trip_and_coefficient_table(simulated: Any) -> None:
    _, _, _, cov, fitted = simulated
    back = load_json(fitted.to_json())
    assert back == fitted and isinstance(back, FittedShiftedBetaGeo)
    np.testing.assert_array_equal(back.survival([1, 6], covariates=cov), fitted.survival([1, 6], covariates=cov))
    pytest.importorskip("pandas")
    table = fitted.coefficient_table()
    assert table.index.tolist() == ["dropout.A", "dropout.B"]
    se = fitted.standard_errors or {}
    for name in ("A", "B"):
        row = table.loc[f"dropout.{name}"]
        value = fitted.coefficients["dropout"][name]
        assert row["estimate"] == value and row["standard_error"] == se[f"dropout.{name}"]
        assert row["z"] == pytest.approx(value / se[f"dropout.{name}"], rel=1e-15)
        assert row["exp_estimate"] == pytest.approx(np.exp(value), rel=1e-15)
        assert row["reading"] == f"churn odds alpha/beta x{np.exp(value):.3g} per unit of {name}"


def test_likelihood_ratio_test_against_the_plain_model(simulated: Any) -> None:
    contracts, _, _, _, fitted = simulated
    plain = ShiftedBetaGeo().fit(contracts)
    result = likelihood_ratio_test(plain, fitted)
    assert result.df == 2
    assert result.statistic == pytest.approx(2.0 * (fitted.log_likelihood - plain.log_likelihood), rel=1e-12)
    assert result.statistic > 0.0
