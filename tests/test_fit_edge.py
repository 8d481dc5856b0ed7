"""Fits whose optimum lies at the edge of the parameter space (the Newton route of the estimation template).

- Gamma-Gompertz/NBD on CDNOW and on the benchmark's 100,000 daily customers: the maximum is at ``b -> 0`` with
  ``beta / b`` fixed, the Pareto/NBD limit (Bemmaor & Glady 2012). The fit takes the limit in <= 12 passes with a
  ``ConvergenceWarning``; its log-likelihood and predictions are checked against clvkit's Pareto/NBD (its own
  closed-form kernels) at ``beta_PNBD = beta / b``, an independent computation of the same limit.
- BG/NBD and Pareto/NBD on pure-Poisson data (every customer alive): the fit returns with the warning, and the
  predictions are the Gamma-Poisson (NBD) limit computed here from the fitted ``r, alpha``.
- An interior optimum: no warning, and the same estimates as the search without edge detection.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from clvkit import ConvergenceWarning, CustomerSummary, load_json
from clvkit.valuation import (
    BetaGeo,
    FittedBetaGeo,
    FittedGammaGompertzNBD,
    FittedParetoNBD,
    GammaGompertzNBD,
    GammaGompertzNBDParams,
    ParetoNBD,
    ParetoNBDParams,
)
from clvkit.valuation.models import _estimation

_PASS_BUDGET = 12


def _as_pareto(fitted: FittedGammaGompertzNBD) -> FittedParetoNBD:
    p = fitted.params
    return FittedParetoNBD(params=ParetoNBDParams(r=p.r, alpha=p.alpha, s=p.s, beta=p.beta / p.b),
                           time_unit=fitted.time_unit)


def _fit_at_the_edge(engine: object, summary: CustomerSummary, match: str) -> object:
    with pytest.warns(ConvergenceWarning, match=match) as record:
        fitted = engine.fit(summary)  # type: ignore[attr-defined]
    # One warning: the edge's, not also the generic "not positive definite" one.
    assert len([w for w in record if issubclass(w.category, ConvergenceWarning)]) == 1
    return fitted


def _check_ggom_limit(summary: CustomerSummary, horizon: float) -> None:
    fitted = _fit_at_the_edge(GammaGompertzNBD(), summary, "parameters 'b' and 'beta' run to 0 together")
    assert isinstance(fitted, FittedGammaGompertzNBD)
    info = fitted.fit_info
    assert info is not None and info.converged
    assert info.n_evaluations <= _PASS_BUDGET, info
    assert "edge" in info.message
    # Standard errors, where reported (the information at the far point may still be positive definite), are finite:
    # the JSON below holds no NaN; the warning says those of b and beta mean nothing.
    assert info.standard_errors is None or all(np.isfinite(list(info.standard_errors.values())))
    assert fitted.params.b < 1e-8
    # The limit is the Pareto/NBD: the Pareto/NBD fit's likelihood is the supremum (to rounding), and at beta / b the
    # predictions are the Pareto/NBD's (the departure is of order b T).
    pnbd = ParetoNBD().fit(summary)
    assert fitted.log_likelihood >= pnbd.log_likelihood - 1e-9 * abs(pnbd.log_likelihood)
    limit = _as_pareto(fitted)
    rows = summary.take(np.arange(0, len(summary), max(len(summary) // 2000, 1)))
    np.testing.assert_allclose(fitted.probability_alive(rows), limit.probability_alive(rows), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(fitted.expected_purchases(rows, horizon), limit.expected_purchases(rows, horizon),
                               rtol=1e-6, atol=1e-9)
    # And the same model as the Pareto/NBD fit (estimates far below their standard errors apart).
    np.testing.assert_allclose(limit.param_array(), pnbd.param_array(), rtol=1e-4)
    # Nothing non-finite: the JSON round trip holds.
    again = load_json(fitted.to_json())
    assert again.params == fitted.params


def test_ggomnbd_cdnow_takes_the_pareto_limit(cdnow_weeks: CustomerSummary) -> None:
    _check_ggom_limit(cdnow_weeks, 39.0)
    # CLVTools' published logLik -9594.9762 (tests/test_ggomnbd_correctness.py) is reached.
    assert GammaGompertzNBD().fit(cdnow_weeks).log_likelihood >= -9594.9762 - 5e-5


def _bench_summary(n: int = 100_000, seed: int = 20240601) -> CustomerSummary:
    """The data of ``benchmarks/bench_peers.py --cases fit_passes`` (``_common.simulate_bgnbd`` at CDNOW's BG/NBD
    estimates on a daily scale, ``bench_bgnbd.SEED``), drawn here the same way: ages uniform on 1-365 days,
    ``lambda ~ Gamma(r, alpha)``, ``p ~ Beta(a, b)``, ``x = min(Poisson(lambda T), Geometric(p))``, the x-th of the
    Poisson arrivals as the last purchase, rounded up to whole days."""
    r, alpha, a, b = 0.243, 4.414 * 7.0, 0.793, 2.426
    rng = np.random.default_rng(seed)
    T = rng.integers(1, 366, size=n).astype(np.float64)
    lam = rng.gamma(r, 1.0 / alpha, size=n)
    p = rng.beta(a, b, size=n)
    arrivals = rng.poisson(lam * T)
    x = np.minimum(arrivals, rng.geometric(p))
    pos = x > 0
    recency = np.zeros(n)
    xs, ns = x[pos].astype(np.float64), arrivals[pos].astype(np.float64)
    recency[pos] = np.maximum(np.minimum(np.ceil(T[pos] * rng.beta(xs, ns - xs + 1.0)), T[pos]), 1.0)
    return CustomerSummary(x.astype(np.float64), recency, T, time_unit="D")


def test_ggomnbd_benchmark_data_takes_the_pareto_limit() -> None:
    _check_ggom_limit(_bench_summary(), 90.0)


def _poisson_summary(n: int, rate: float, seed: int, shape: float | None = None) -> CustomerSummary:
    """Every customer alive throughout: Poisson purchases at ``rate`` per day (Gamma(``shape``) rates around it if
    given), ages uniform on 100-730 days; the last purchase is the largest of ``x`` uniform times on [0, T]."""
    rng = np.random.default_rng(seed)
    T = rng.uniform(100.0, 730.0, n)
    lam = np.full(n, rate) if shape is None else rng.gamma(shape, rate / shape, n)
    x = rng.poisson(lam * T).astype(float)
    tx = np.where(x > 0, T * rng.beta(np.maximum(x, 1.0), 1.0), 0.0)
    return CustomerSummary(frequency=x, recency=tx, T=T, time_unit="D")


def _nbd_expectation(r: float, alpha: float, summary: CustomerSummary, t: float) -> np.ndarray:
    """E[X(t) | x, T] of the Gamma-Poisson model without dropout: ``(r + x) / (alpha + T) t``."""
    return np.asarray((r + summary.frequency) / (alpha + summary.T) * t)


def _smoke_log_summary() -> CustomerSummary:
    """The log of ``benchmarks/bench_dask.py --smoke`` (its ``write_log(20_000, ...)``: 20,000 transactions at uniform
    random seconds over 730 days, of 2,000 customers drawn uniformly, i.e. every customer alive with one Poisson rate;
    the same draws of its generator, spend included), summarised here in days without clvkit: the observation end is
    the last transaction's day, T counts from each customer's first day, frequency is the distinct later days."""
    rng = np.random.default_rng(20261207)
    n, n_customers, per_file = 20_000, 2_000, 5_000
    nu = rng.gamma(3.74, 1.0 / 15.44, n_customers)  # CDNOW's Gamma-Gamma q, v (the spend is not used here)
    customers, seconds = [], []
    for _ in range(n // per_file):
        ids = rng.integers(0, n_customers, per_file, dtype=np.int64)
        seconds.append(rng.integers(0, 730 * 86400, per_file))
        rng.gamma(6.25, 1.0 / nu[ids])
        customers.append(ids)
    customer, day = np.concatenate(customers), np.concatenate(seconds) // 86400
    pairs = np.unique(np.stack([customer, day], axis=1), axis=0)
    _, first_index, counts = np.unique(pairs[:, 0], return_index=True, return_counts=True)
    first, last = pairs[first_index, 1], pairs[first_index + counts - 1, 1]
    return CustomerSummary(frequency=(counts - 1).astype(float), recency=(last - first).astype(float),
                           T=(day.max() - first).astype(float), time_unit="D")


def test_bgnbd_on_pure_poisson_data_returns_at_the_edge() -> None:
    # Before, this fit ran to the evaluation limit or stopped with a ConvergenceError (bench_dask.py --smoke).
    summary = _smoke_log_summary()
    fitted = _fit_at_the_edge(BetaGeo(), summary, "runs? to")
    assert isinstance(fitted, FittedBetaGeo)
    assert fitted.fit_info is not None and "edge" in fitted.fit_info.message
    p = fitted.params
    assert p.a / (p.a + p.b) < 1e-6  # the dropout probability per purchase runs to 0
    np.testing.assert_allclose(fitted.probability_alive(summary), 1.0, atol=1e-6)
    np.testing.assert_allclose(fitted.expected_purchases(summary, 90.0),
                               _nbd_expectation(p.r, p.alpha, summary, 90.0), rtol=1e-5)


def test_pareto_nbd_on_pure_poisson_data_returns_at_the_edge() -> None:
    summary = _poisson_summary(5000, 10.0 / 730.0, 3, shape=0.8)
    fitted = _fit_at_the_edge(ParetoNBD(), summary, "runs? to")
    assert isinstance(fitted, FittedParetoNBD)
    p = fitted.params
    # Dropout rates mu ~ Gamma(s, beta): the mean s / beta runs to 0.
    assert p.s / p.beta < 1e-9
    assert np.all(fitted.probability_alive(summary) > 0.999)
    np.testing.assert_allclose(fitted.expected_purchases(summary, 90.0),
                               _nbd_expectation(p.r, p.alpha, summary, 90.0), rtol=1e-3)


def _without_edge_detection(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_estimation, "_EDGE_STEPS", 10**9)


@pytest.mark.parametrize("case", ["bgnbd_cdnow", "ggomnbd_interior"])
def test_interior_optimum_is_unchanged(case: str, cdnow_weeks: CustomerSummary,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    if case == "bgnbd_cdnow":
        engine: object = BetaGeo()
        summary = cdnow_weeks
    else:
        # An optimum with a visible age effect (tests/test_ggomnbd_correctness.py's simulation).
        engine = GammaGompertzNBD()
        truth = GammaGompertzNBDParams(r=0.8, alpha=5.0, b=0.05, s=1.5, beta=4.0)
        summary = FittedGammaGompertzNBD(params=truth, time_unit="W").simulate(
            np.random.default_rng(7).uniform(30.0, 80.0, 20000), seed=11)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        fitted = engine.fit(summary)  # type: ignore[attr-defined]
    assert fitted.fit_info.standard_errors is not None and "edge" not in fitted.fit_info.message
    with monkeypatch.context() as m:
        _without_edge_detection(m)
        before = engine.fit(summary)  # type: ignore[attr-defined]
    np.testing.assert_allclose(fitted.param_array(), before.param_array(), rtol=1e-8)
    # A direction that looked flat may cost one pass for the jump the search then undoes.
    assert fitted.fit_info.n_evaluations <= before.fit_info.n_evaluations + 1


def test_edge_message_names_parameters_and_directions() -> None:
    edge = _estimation._Edge(np.array([[0.0, 0.0, -0.7, 0.0, -0.7], [0.0, 1.0, 0.0, 0.0, 0.0]]).T)
    text = _estimation._edge_message("M", ("r", "alpha", "b", "s", "beta"), edge)
    assert "parameters 'b' and 'beta' run to 0 together" in text
    assert "parameter 'alpha' runs to infinity" in text
    assert "flat in that direction" in text and "limit" in text
    both = _estimation._Edge(np.array([[0.0, 0.0, 0.6, 0.8]]).T)
    mixed = _estimation._edge_message("M", ("r", "alpha", "a", "b"), both)
    assert "parameters 'a' and 'b' run to infinity together" in mixed
    opposite = _estimation._edge_message("M", ("r", "alpha"), _estimation._Edge(np.array([[0.6, -0.8]]).T))
    assert "parameters 'alpha' runs to 0 while 'r' runs to infinity together" in opposite
    four = _estimation._edge_message("M", ("r", "alpha", "s", "beta"), _estimation._Edge(np.full((4, 1), 0.5)))
    assert "parameters 'r', 'alpha', 's' and 'beta' run to infinity together" in four
