"""Parameter uncertainty: draws, Wald intervals and their coverage, prediction/CLV intervals, bootstrap."""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from clvkit.valuation.uncertainty import (
    clv_intervals,
    parameter_intervals,
    parametric_bootstrap,
    prediction_intervals,
    sample_parameters,
)
from scipy import stats

from clvkit import (
    ContractSummary,
    ConvergenceWarning,
    CustomerSummary,
    InvalidInputError,
    ModelDomainError,
    NotFittedError,
)
from clvkit.datasets import load_cdnow_summary
from clvkit.valuation import (
    CNBD,
    BetaGeo,
    BetaGeoBetaBinom,
    BetaGeoCNBD,
    BetaGeoParams,
    Engine,
    FittedBetaGeo,
    FittedGammaGamma,
    FittedGammaGompertzNBD,
    FittedModifiedBetaGeoCNBD,
    GammaGamma,
    GammaGammaParams,
    GammaGompertzNBD,
    GammaGompertzNBDParams,
    ModifiedBetaGeo,
    ModifiedBetaGeoCNBD,
    ModifiedBetaGeoCNBDParams,
    ParetoNBD,
    ShiftedBetaGeo,
    clv,
)
from clvkit.valuation.models import _bgnbd as kernel
from clvkit.valuation.models._simulate import simulate_bgnbd

TRUE = np.array([0.243, 4.414, 0.793, 2.426])  # FHL (2005) CDNOW estimates, used as a realistic truth


@pytest.fixture(scope="module")
def cdnow() -> CustomerSummary:
    return load_cdnow_summary()


@pytest.fixture(scope="module")
def fitted(cdnow: CustomerSummary) -> FittedBetaGeo:
    return BetaGeo().fit(cdnow)


@pytest.fixture(scope="module")
def spend(cdnow: CustomerSummary) -> FittedGammaGamma:
    return GammaGamma().fit(cdnow)


def _ep52(m: Any, s: CustomerSummary) -> Any:
    return m.expected_purchases(s, 52.0)


# ============================================================================ simulator
def test_simulator_matches_the_model(rng: np.random.Generator) -> None:
    T = np.round(rng.uniform(30.0, 39.0, 100_000) * 7.0) / 7.0
    x, tx = simulate_bgnbd(TRUE, T, rng)
    assert np.all((tx >= 0) & (tx <= T)) and np.all(tx[x == 0] == 0) and np.all(tx[x > 0] > 0)
    # Mean frequency vs E[X(T)] (eq. 9), within 4 standard errors.
    expected = kernel.expected_purchases_new(TRUE, T)
    assert abs(x.mean() - expected.mean()) < 4 * x.std() / np.sqrt(x.size)
    # Histogram vs P(X(T) = x) (eq. 8): chi-square goodness of fit, bins 0..7+.
    T_unique, counts = np.unique(T, return_counts=True)
    zeros = np.zeros_like(T_unique)
    probs = np.array([counts @ kernel.probability_of_purchases(TRUE, zeros, zeros, zeros, float(n), T_unique)
                      for n in range(7)])
    exp_counts = np.append(probs, T.size - probs.sum())
    obs = np.bincount(np.minimum(x, 7).astype(int), minlength=8)
    assert stats.chisquare(obs, exp_counts).pvalue > 1e-3


def test_simulated_data_recover_parameters(rng: np.random.Generator) -> None:
    T = rng.uniform(20.0, 39.0, 10_000)
    x, tx = simulate_bgnbd(TRUE, T, rng)
    est = BetaGeo().fit(CustomerSummary(frequency=x, recency=tx, T=T, time_unit="W"))
    ci = parameter_intervals(est, level=0.999)
    assert np.all(ci.covers(TRUE)), (est.param_array(), ci)


# ============================================================================ sample_parameters
def test_sample_parameters_shape_reproducibility_and_moments(fitted: FittedBetaGeo) -> None:
    draws = sample_parameters(fitted, 20_000, seed=11)
    assert draws.shape == (20_000, 4) and np.all(draws > 0)
    np.testing.assert_array_equal(draws, sample_parameters(fitted, 20_000, seed=11))
    np.testing.assert_array_equal(draws, sample_parameters(fitted, 20_000, seed=np.random.default_rng(11)))
    assert not np.array_equal(draws, sample_parameters(fitted, 20_000, seed=12))
    assert fitted.fit_info is not None and fitted.fit_info.covariance is not None
    theta = fitted.param_array()
    cov_log = np.asarray(fitted.fit_info.covariance) / np.outer(theta, theta)
    logs = np.log(draws)
    assert np.all(np.abs(logs.mean(axis=0) - np.log(theta)) < 4 * np.sqrt(np.diag(cov_log) / 20_000))
    np.testing.assert_allclose(np.cov(logs, rowvar=False), cov_log, rtol=0.05, atol=0.05 * np.abs(cov_log).max())


def test_typed_errors_without_covariance(fitted: FittedBetaGeo) -> None:
    by_hand = FittedBetaGeo(params=BetaGeoParams(r=0.243, alpha=4.414, a=0.793, b=2.426), time_unit="W")
    with pytest.raises(NotFittedError, match="built from parameters"):
        sample_parameters(by_hand, 10, seed=0)
    assert fitted.fit_info is not None
    no_cov = fitted.model_copy(update={"fit_info": fitted.fit_info.model_copy(update={"covariance": None})})
    for call in (lambda: sample_parameters(no_cov, 10, seed=0), lambda: parameter_intervals(no_cov),
                 lambda: prediction_intervals(no_cov, load_cdnow_summary(), _ep52, seed=0)):
        with pytest.raises(ModelDomainError, match="positive definite"):
            call()
    indefinite = fitted.model_copy(update={"fit_info": fitted.fit_info.model_copy(
        update={"covariance": [[1.0, 2.0, 0, 0], [2.0, 1.0, 0, 0], [0, 0, 1.0, 0], [0, 0, 0, 1.0]]})})
    with pytest.raises(ModelDomainError, match="not positive definite"):
        sample_parameters(indefinite, 10, seed=0)
    with pytest.raises(InvalidInputError, match="n_draws"):
        sample_parameters(fitted, 0, seed=0)
    with pytest.raises(InvalidInputError, match="fitted clvkit model"):
        sample_parameters(object(), 10, seed=0)  # type: ignore[arg-type]


# ============================================================================ parameter_intervals
def test_parameter_intervals_are_log_scale_wald(fitted: FittedBetaGeo) -> None:
    ci = parameter_intervals(fitted, level=0.9)
    theta = fitted.param_array()
    assert ci.names == ("r", "alpha", "a", "b") and ci.level == 0.9
    assert np.all(ci.lower < theta) and np.all(theta < ci.upper) and np.all(ci.covers(theta))
    # Symmetric on the log scale: log(upper) - log(theta) = log(theta) - log(lower) = z * se(log theta),
    # with z from the normal quantile (1.6449 at 90%), and se(log theta) = se(theta) / theta (delta method).
    z = stats.norm.ppf(0.95)
    se = np.array([fitted.standard_errors[k] for k in ci.names])  # type: ignore[index]
    np.testing.assert_allclose(np.log(ci.upper / theta), z * se / theta, rtol=1e-10)
    np.testing.assert_allclose(np.log(theta / ci.lower), z * se / theta, rtol=1e-10)
    np.testing.assert_allclose(ci.standard_errors, se, rtol=1e-12)
    wider = parameter_intervals(fitted, level=0.99)
    assert np.all(wider.lower < ci.lower) and np.all(wider.upper > ci.upper)
    assert set(ci.as_dict()) == {"r", "alpha", "a", "b"}
    for bad in (0.0, 1.0, 1.5, "x"):
        with pytest.raises(InvalidInputError, match="level"):
            parameter_intervals(fitted, level=bad)  # type: ignore[arg-type]


def test_wald_intervals_cover_true_parameters_about_90_percent() -> None:
    # Coverage by simulation: 100 data sets of 2,000 BG/NBD customers at the CDNOW-like truth, each fitted
    # and its 90% interval checked. With 100 replicates a 90% coverage has standard deviation 3%, so each
    # parameter's coverage must lie in [80%, 97%] and the average over the four in [85%, 95%].
    rng = np.random.default_rng(20240607)
    reps, n = 100, 2000
    hits = np.zeros(4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for _ in range(reps):
            T = np.round(rng.uniform(27.0, 39.0, n) * 7.0) / 7.0  # ages on whole days, as in real data
            x, tx = simulate_bgnbd(TRUE, T, rng)
            est = BetaGeo().fit(CustomerSummary(frequency=x, recency=tx, T=T, time_unit="W"))
            hits += parameter_intervals(est, level=0.9).covers(TRUE)
    coverage = hits / reps  # [0.91, 0.92, 0.89, 0.90] with this seed
    assert np.all((coverage >= 0.80) & (coverage <= 0.97)), coverage
    assert 0.85 <= coverage.mean() <= 0.95, coverage


# ============================================================================ prediction_intervals
def test_prediction_intervals_contain_point_and_are_reproducible(fitted: FittedBetaGeo,
                                                                 cdnow: CustomerSummary) -> None:
    pi = prediction_intervals(fitted, cdnow, _ep52, n_draws=300, level=0.9, seed=42)
    np.testing.assert_allclose(pi.point, fitted.expected_purchases(cdnow, 52.0), rtol=1e-12)
    assert pi.lower.shape == (len(cdnow),) and pi.n_draws == 300 and pi.level == 0.9
    assert np.all(pi.lower <= pi.median) and np.all(pi.median <= pi.upper)
    assert np.all((pi.lower <= pi.point) & (pi.point <= pi.upper))
    assert pi.total_lower < pi.total_point < pi.total_upper
    assert pi.total_point == pytest.approx(float(pi.point.sum()))
    assert pi.customer_id is not None and pi.customer_id.tolist() == cdnow.customer_id.tolist()
    again = prediction_intervals(fitted, cdnow, _ep52, n_draws=300, level=0.9, seed=42)
    np.testing.assert_array_equal(pi.lower, again.lower)
    np.testing.assert_array_equal(pi.upper, again.upper)
    narrow = prediction_intervals(fitted, cdnow, _ep52, n_draws=300, level=0.5, seed=42)
    assert np.all(narrow.upper - narrow.lower <= pi.upper - pi.lower + 1e-12)


def test_prediction_intervals_match_direct_draws(fitted: FittedBetaGeo, cdnow: CustomerSummary) -> None:
    # Slow reference: the same draws, the model rebuilt from its params class, evaluated on all rows.
    draws = sample_parameters(fitted, 50, seed=5)
    direct = np.array([FittedBetaGeo(params=BetaGeoParams(**dict(zip(("r", "alpha", "a", "b"), d, strict=True))),
                                     time_unit="W").probability_alive(cdnow) for d in draws])
    pi = prediction_intervals(fitted, cdnow, lambda m, s: m.probability_alive(s), n_draws=50, seed=5)
    np.testing.assert_allclose(pi.lower, np.quantile(direct, 0.05, axis=0), rtol=1e-10)
    np.testing.assert_allclose(pi.upper, np.quantile(direct, 0.95, axis=0), rtol=1e-10)


def test_prediction_intervals_weighted_rows_equal_raw_rows(fitted: FittedBetaGeo, cdnow: CustomerSummary) -> None:
    compressed = cdnow.compress(include_monetary=False)
    raw = prediction_intervals(fitted, cdnow, _ep52, n_draws=100, seed=9)
    weighted = prediction_intervals(fitted, compressed.summary, _ep52, n_draws=100, seed=9)
    np.testing.assert_allclose(weighted.upper[compressed.inverse], raw.upper, rtol=1e-12)
    assert weighted.total_upper == pytest.approx(raw.total_upper, rel=1e-12)


def test_prediction_intervals_inputs(fitted: FittedBetaGeo, cdnow: CustomerSummary) -> None:
    with pytest.raises(InvalidInputError, match="shape"):
        prediction_intervals(fitted, cdnow, lambda m, s: np.ones(3), n_draws=5, seed=0)
    with pytest.raises(InvalidInputError, match="callable"):
        prediction_intervals(fitted, cdnow, "expected_purchases", n_draws=5, seed=0)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="CustomerSummary"):
        prediction_intervals(fitted, {"frequency": [1]}, _ep52, n_draws=5, seed=0)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="n_draws"):
        prediction_intervals(fitted, cdnow, _ep52, n_draws=True, seed=0)  # type: ignore[arg-type]


def test_prediction_intervals_fast_on_10k_customers(fitted: FittedBetaGeo, rng: np.random.Generator) -> None:
    # 500 draws x 10,000 customers (ages and recencies on whole days, as from a transaction log).
    T = np.round(rng.uniform(1.0, 39.0, 10_000) * 7.0) / 7.0
    x, tx = simulate_bgnbd(TRUE, T, rng)
    s = CustomerSummary(frequency=x, recency=np.where(x > 0, np.maximum(np.round(tx * 7.0), 1.0), 0.0) / 7.0, T=T,
                        time_unit="W")
    start = time.perf_counter()
    pi = prediction_intervals(fitted, s, _ep52, n_draws=500, seed=1)
    elapsed = time.perf_counter() - start
    assert pi.lower.shape == (10_000,)
    assert elapsed < 8.0, elapsed  # ~1.5 s on a laptop; generous for loaded CI machines


# ============================================================================ clv_intervals
def test_clv_intervals_with_both_models(fitted: FittedBetaGeo, spend: FittedGammaGamma,
                                        cdnow: CustomerSummary) -> None:
    kw: dict[str, Any] = {"horizon": 12, "discount_rate": 0.01, "period": 4.0}
    ref = clv(fitted, spend, cdnow, **kw)
    both = clv_intervals(fitted, spend, cdnow, n_draws=40, seed=3, **kw)
    np.testing.assert_allclose(both.point, ref.clv, rtol=1e-10)
    assert both.total_point == pytest.approx(ref.customer_equity, rel=1e-10)
    assert both.total_lower < both.total_point < both.total_upper
    assert np.all(both.lower <= both.upper)
    # Slow reference: the transaction draws, then the spend draws, from one generator; clv() on every row.
    gen = np.random.default_rng(3)
    d_bg, d_gg = sample_parameters(fitted, 40, seed=gen), sample_parameters(spend, 40, seed=gen)
    values = np.array([
        clv(FittedBetaGeo(params=BetaGeoParams(**dict(zip(("r", "alpha", "a", "b"), b, strict=True))), time_unit="W"),
            FittedGammaGamma(params=GammaGammaParams(**dict(zip(("p", "q", "v"), g, strict=True))), time_unit="W"),
            cdnow, **kw).clv
        for b, g in zip(d_bg, d_gg, strict=True)])
    np.testing.assert_allclose(both.lower, np.quantile(values, 0.05, axis=0), rtol=1e-9)
    np.testing.assert_allclose(both.upper, np.quantile(values, 0.95, axis=0), rtol=1e-9)
    assert both.total_upper == pytest.approx(float(np.quantile(values.sum(axis=1), 0.95)), rel=1e-9)
    only_transactions = clv_intervals(fitted, spend.expected_spend(cdnow), cdnow, n_draws=40, seed=3, **kw)
    np.testing.assert_allclose(only_transactions.point, ref.clv, rtol=1e-10)
    assert not np.allclose(only_transactions.upper, both.upper)  # the spend draws matter
    flat = clv_intervals(fitted, 20.0, cdnow, n_draws=50, seed=3, **kw)
    np.testing.assert_allclose(flat.point, clv(fitted, 20.0, cdnow, **kw).clv, rtol=1e-10)


def test_clv_intervals_weighted_summary_reports_like_clv(fitted: FittedBetaGeo) -> None:
    s = CustomerSummary(frequency=[0, 2, 5], recency=[0, 10, 30], T=[39, 39, 35], weights=[3, 1, 2], time_unit="W")
    ci = clv_intervals(fitted, 10.0, s, horizon=12, discount_rate=0.0, n_draws=20, seed=1)
    ref = clv(fitted, 10.0, s, horizon=12, discount_rate=0.0)
    np.testing.assert_allclose(ci.point, ref.clv, rtol=1e-10)
    assert ci.total_point == pytest.approx(ref.customer_equity, rel=1e-10)


def test_clv_intervals_inputs(fitted: FittedBetaGeo, cdnow: CustomerSummary) -> None:
    by_hand = FittedGammaGamma(params=GammaGammaParams(p=6.25, q=3.74, v=15.44), time_unit="W")
    with pytest.raises(NotFittedError):
        clv_intervals(fitted, by_hand, cdnow, horizon=12, discount_rate=0.0, n_draws=5, seed=0)
    with pytest.raises(InvalidInputError, match="spend_model"):
        clv_intervals(fitted, np.ones(3), cdnow, horizon=12, discount_rate=0.0, n_draws=5, seed=0)
    with pytest.raises(InvalidInputError, match="spend_model"):
        clv_intervals(fitted, -1.0, cdnow, horizon=12, discount_rate=0.0, n_draws=5, seed=0)


def test_undefined_prediction_at_a_draw_is_a_typed_error(fitted: FittedBetaGeo, cdnow: CustomerSummary) -> None:
    # A Gamma-Gamma fit whose q is barely above 1: some draws have q <= 1, where the mean spend is infinite.
    assert fitted.fit_info is not None
    info = fitted.fit_info.model_copy(update={"covariance": [[0.01, 0, 0], [0, 0.5, 0], [0, 0, 0.01]]})
    fragile = FittedGammaGamma(params=GammaGammaParams(p=6.0, q=1.05, v=15.0), time_unit="W", fit_info=info)
    with pytest.raises(ModelDomainError, match="parameter draw"):
        clv_intervals(fitted, fragile, cdnow, horizon=4, discount_rate=0.0, n_draws=50, seed=0)


# ============================================================================ bootstrap
def test_parametric_bootstrap_agrees_with_asymptotic_errors(fitted: FittedBetaGeo, cdnow: CustomerSummary) -> None:
    boot = parametric_bootstrap(BetaGeo(), fitted, cdnow, 40, seed=8)
    assert boot.draws.shape == (40, 4) and boot.n_failed == 0 and boot.names == ("r", "alpha", "a", "b")
    se = np.array([fitted.standard_errors[k] for k in boot.names])  # type: ignore[index]
    # 40 replicates estimate a standard deviation to about +-11%; allow a factor of 1.5 either way.
    ratio = boot.standard_errors / se
    assert np.all((ratio > 1 / 1.5) & (ratio < 1.5)), ratio
    again = parametric_bootstrap(BetaGeo(), fitted, cdnow, 3, seed=8)
    np.testing.assert_array_equal(boot.draws[:3], again.draws)
    lo_hi = boot.intervals(0.9)
    assert all(lo < hi for lo, hi in lo_hi.values())


def test_parametric_bootstrap_inputs(fitted: FittedBetaGeo, spend: FittedGammaGamma, cdnow: CustomerSummary) -> None:
    with pytest.raises(InvalidInputError, match="count model"):
        parametric_bootstrap(GammaGamma(), spend, cdnow, 2, seed=0)
    with pytest.raises(InvalidInputError, match="whole numbers"):
        parametric_bootstrap(BetaGeo(), fitted, cdnow.with_weights(np.full(len(cdnow), 0.5)), 2, seed=0)
    with pytest.raises(InvalidInputError, match="n_draws"):
        parametric_bootstrap(BetaGeo(), fitted, cdnow, 0, seed=0)
    small = CustomerSummary(frequency=[0, 2], recency=[0, 10], T=[39, 39], weights=[2, 1], time_unit="W")
    boot = parametric_bootstrap(BetaGeo(), fitted, small, 2, seed=0)
    assert boot.draws.shape[0] + boot.n_failed == 2


def test_parametric_bootstrap_n_boot_is_a_deprecated_spelling_of_n_draws(fitted: FittedBetaGeo) -> None:
    small = CustomerSummary(frequency=[0, 2, 1], recency=[0, 10, 5], T=[39, 39, 30], time_unit="W")
    new = parametric_bootstrap(BetaGeo(), fitted, small, n_draws=2, seed=4)
    with pytest.warns(DeprecationWarning, match="'n_boot' argument is deprecated.*use 'n_draws'"):
        old = parametric_bootstrap(BetaGeo(), fitted, small, n_boot=2, seed=4)
    np.testing.assert_array_equal(old.draws, new.draws)
    with pytest.raises(InvalidInputError, match="not both"):
        parametric_bootstrap(BetaGeo(), fitted, small, 2, n_boot=2, seed=4)



# ============================================================================ every engine (conformance)
# Every engine is listed here by name, imported at the top of the module: an engine that fails to import
# fails the suite instead of silently dropping out of it. Each case names the data it is fitted on and a
# prediction whose interval is drawn.
@dataclass(frozen=True)
class UncertaintyCase:
    engine: type[Any]
    data: str  # the fixture holding the batch it is fitted on
    predict: Callable[[Any, Any], Any]


UNCERTAINTY_CASES = {
    "BetaGeo": UncertaintyCase(BetaGeo, "cdnow", _ep52),
    "ModifiedBetaGeo": UncertaintyCase(ModifiedBetaGeo, "cdnow", _ep52),
    "ParetoNBD": UncertaintyCase(ParetoNBD, "cdnow", _ep52),
    # On CDNOW the Gamma-Gompertz/NBD maximum is on the Pareto/NBD boundary (b -> 0, CLVTools' b ~ 1e-6), where
    # log-normal draws of b underflow to 0: data simulated from an interior parameter point instead.
    "GammaGompertzNBD": UncertaintyCase(GammaGompertzNBD, "ggom_simulated", _ep52),
    # BG/BB counts purchase opportunities: the donations data it was published on (FHS 2010), 5 years ahead.
    "BetaGeoBetaBinom": UncertaintyCase(BetaGeoBetaBinom, "donations", lambda m, s: m.expected_purchases(s, 5.0)),
    "GammaGamma": UncertaintyCase(GammaGamma, "cdnow", lambda m, s: m.expected_spend(s)),
    "ShiftedBetaGeo": UncertaintyCase(ShiftedBetaGeo, "contracts",
                                      lambda m, c: m.expected_survivors(1000, [8, 12])),
    # The CNBD-k family: intervals of r, alpha[, a, b] at the estimated k, on customers with purchase times.
    "CNBD": UncertaintyCase(CNBD, "regular", _ep52),
    "BetaGeoCNBD": UncertaintyCase(BetaGeoCNBD, "regular", _ep52),
    "ModifiedBetaGeoCNBD": UncertaintyCase(ModifiedBetaGeoCNBD, "regular", _ep52),
}


@pytest.fixture(scope="module")
def regular() -> CustomerSummary:
    """2,000 customers simulated from an MBG/CNBD-2 (grocery-like weekly parameters), with their purchase times."""
    truth = FittedModifiedBetaGeoCNBD(params=ModifiedBetaGeoCNBDParams(k=2, r=1.3, alpha=2.8, a=0.42, b=0.79),
                                      time_unit="W")
    return truth.simulate(np.random.default_rng(5).uniform(30.0, 52.0, 2000), seed=5)


@pytest.fixture(scope="module")
def donations() -> CustomerSummary:
    df = pytest.importorskip("lifetimes.datasets").load_donations()
    return CustomerSummary(frequency=df["frequency"].to_numpy(float), recency=df["recency"].to_numpy(float),
                           T=df["periods"].to_numpy(float), weights=df["weights"].to_numpy(float), time_unit="Y")


@pytest.fixture(scope="module")
def ggom_simulated() -> CustomerSummary:
    truth = GammaGompertzNBDParams(r=0.8, alpha=5.0, b=0.05, s=1.5, beta=4.0)
    model = FittedGammaGompertzNBD(params=truth, time_unit="W")
    return model.simulate(np.random.default_rng(5).uniform(30.0, 80.0, 5000), seed=6)


@pytest.fixture(scope="module")
def contracts() -> ContractSummary:
    # Fader & Hardie (2007), the "regular" cohort's first seven years.
    return ContractSummary.from_survival_counts([1000, 631, 468, 382, 326, 289, 262, 241], time_unit="Y")


@pytest.mark.parametrize("name", list(UNCERTAINTY_CASES))
def test_uncertainty_conformance(name: str, request: pytest.FixtureRequest) -> None:
    case = UNCERTAINTY_CASES[name]
    data = request.getfixturevalue(case.data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = case.engine().fit(data)
    theta = model.param_array()
    ci = parameter_intervals(model, level=0.9)
    assert np.all(ci.covers(theta)) and ci.names == tuple(model.param_names)
    assert np.all((ci.lower < theta) & (theta < ci.upper))
    draws = sample_parameters(model, 50, seed=2)
    assert draws.shape == (50, theta.shape[0]) and np.all(draws > 0)
    pi = prediction_intervals(model, data, case.predict, n_draws=30, seed=2)
    np.testing.assert_allclose(pi.point, case.predict(model, data), rtol=1e-12)
    assert pi.total_lower < pi.total_point < pi.total_upper
    assert type(pi) is type(prediction_intervals(model, data, case.predict, n_draws=2, seed=2))


def test_uncertainty_conformance_covers_every_engine() -> None:
    assert {c.engine for c in UNCERTAINTY_CASES.values()} == set(_exported_engines())
    assert all(c.engine.__name__ == name for name, c in UNCERTAINTY_CASES.items())


def _exported_engines() -> list[type[Any]]:
    """Every estimation engine clvkit.valuation exports (a class with a name and parameter names)."""
    import clvkit.valuation as valuation

    found = []
    for name in valuation.__all__:
        obj = getattr(valuation, name)
        if isinstance(obj, type) and issubclass(obj, Engine) and obj.name and obj.param_names:
            found.append(obj)
    return found


def test_prediction_intervals_pass_other_batches_through() -> None:
    # Contract data (sBG) is not a CustomerSummary: fn gets it unchanged and may return any 1-D array.
    contracts = pytest.importorskip("clvkit.contracts")
    sbg = pytest.importorskip("clvkit.valuation.shifted_beta_geo")
    data = contracts.ContractSummary.from_survival_counts([1000, 631, 468, 382, 326, 289, 262, 241], time_unit="Y")
    fitted = sbg.ShiftedBetaGeo().fit(data)
    pi = prediction_intervals(fitted, data, lambda m, c: m.expected_survivors(1000, [8, 12]), n_draws=100, seed=1)
    np.testing.assert_allclose(pi.point, fitted.expected_survivors(1000, [8, 12]), rtol=1e-12)
    assert np.all((pi.lower < pi.point) & (pi.point < pi.upper))
    assert parameter_intervals(fitted).names == ("alpha", "beta")
