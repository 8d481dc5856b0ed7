"""CLV with many (e.g. daily) steps: the discounted sum taken without the expected-purchases path (issue 16).

``FittedCountModel.weighted_expected_purchases(summary, ts, weights)`` must equal ``weights @
expected_purchases_path(summary, ts)`` (the path is the independent computation: one horizon at a time, the
customers expanded); BG/NBD and MBG/NBD sum their hypergeometric factor once per distinct (x, T) and must equal
the generic route (the path per distinct row) and a plain per-customer loop over the scalar kernel. ``clv()``
must give the same numbers through either route and value any number of customers in bounded memory.
"""

from __future__ import annotations

import importlib
import tracemalloc
from typing import Any

import numpy as np
import pytest
from _covmatrix import Cov

from clvkit import CustomerSummary
from clvkit.datasets import load_cdnow_summary
from clvkit.errors import InvalidInputError
from clvkit.valuation import (
    BetaGeo,
    BetaGeoBetaBinomParams,
    BetaGeoParams,
    FittedBetaGeo,
    FittedBetaGeoBetaBinom,
    GammaGamma,
    ModifiedBetaGeo,
    ParetoNBD,
    clv,
)
from clvkit.valuation.models import _bgnbd, _generic, _mbgnbd

clv_module = importlib.import_module("clvkit.valuation.value.clv")

DAILY = 1.01 ** (1.0 / 30.0) - 1.0  # 1% a month as a daily rate
BG_DAYS = np.array([0.243, 30.898, 0.793, 2.426])  # CDNOW's BG/NBD estimates rescaled to days (alpha x 7)


def _daily_customers(n: int, seed: int = 0) -> CustomerSummary:
    """Daily customers with ages up to a year (few distinct (x, T) pairs, many customers per pair)."""
    rng = np.random.default_rng(seed)
    T = rng.integers(1, 366, n).astype(float)
    x = np.minimum(rng.poisson(1.5, n), T - 1).astype(float)
    tx = np.where(x > 0, np.ceil(T * rng.uniform(0.05, 1.0, n)), 0.0)
    return CustomerSummary(x, tx, T, time_unit="D")


def _discount_weights(horizon: int, rate: float) -> np.ndarray:
    d = (1.0 + rate) ** -np.arange(1.0, horizon + 1.0)
    return d - np.append(d[1:], 0.0)


class PathOnly:
    """A transaction model with only the path (what any TransactionModel must have): clv's chunked route."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.time_unit = model.time_unit

    def expected_purchases(self, summary: CustomerSummary, t: Any) -> np.ndarray:
        return np.asarray(self.model.expected_purchases(summary, t))

    def expected_purchases_path(self, summary: CustomerSummary, ts: Any) -> np.ndarray:
        return np.asarray(self.model.expected_purchases_path(summary, ts))


@pytest.fixture(scope="module")
def cdnow() -> CustomerSummary:
    return load_cdnow_summary()


@pytest.mark.parametrize("engine", [BetaGeo, ModifiedBetaGeo, ParetoNBD])
def test_weighted_sum_equals_weights_times_the_path(engine: Any, cdnow: CustomerSummary) -> None:
    model = engine().fit(cdnow)
    ts = 4.345 * np.arange(1.0, 13.0)
    w = np.vstack([_discount_weights(12, 0.01), np.eye(12)[-1], np.linspace(-1.0, 2.0, 12)])
    path = model.expected_purchases_path(cdnow, ts)
    got = model.weighted_expected_purchases(cdnow, ts, w)
    assert got.shape == (3, len(cdnow))
    np.testing.assert_allclose(got, w @ path, rtol=1e-13, atol=1e-300)
    # the last-horizon indicator reproduces the path's last row bit for bit (zeros times finite values)
    np.testing.assert_array_equal(got[1], path[-1])
    one = model.weighted_expected_purchases(cdnow, ts, w[0])
    assert one.shape == (len(cdnow),)
    np.testing.assert_allclose(one, got[0], rtol=1e-14)  # a matrix-vector product: another order of additions


def test_bgbb_weighted_sum_equals_weights_times_the_path() -> None:
    # Fader, Hardie & Shang (2010)'s donation estimates; every (x, t_x) of 6 opportunities
    rows = [(x, tx) for tx in range(7) for x in range(tx + 1) if (x == 0) == (tx == 0)]
    x, tx = (np.array(v, dtype=float) for v in zip(*rows, strict=True))
    s = CustomerSummary(x, tx, np.full(x.shape, 6.0), time_unit="Y")
    model = FittedBetaGeoBetaBinom(
        params=BetaGeoBetaBinomParams(alpha=1.204, beta=0.750, gamma=0.657, delta=2.783), time_unit="Y")
    ts = np.arange(1.0, 25.0)
    w = _discount_weights(24, 0.1)
    np.testing.assert_allclose(model.weighted_expected_purchases(s, ts, w), w @ model.expected_purchases_path(s, ts),
                               rtol=1e-13)
    res = clv(model, 50.0, s, horizon=24, discount_rate=0.1)
    slow = clv(PathOnly(model), 50.0, s, horizon=24, discount_rate=0.1)
    np.testing.assert_allclose(res.clv, slow.clv, rtol=1e-13)


@pytest.mark.parametrize("kernel", [_bgnbd, _mbgnbd])
def test_factored_kernels_equal_the_generic_route_and_a_scalar_loop(kernel: Any, monkeypatch: Any) -> None:
    s = _daily_customers(3000, seed=1)
    x, tx, T = s.frequency, s.recency, s.T
    ts = np.arange(1.0, 361.0)
    w = np.vstack([_discount_weights(360, DAILY), np.eye(360)[-1]])
    fast = kernel.weighted_path_sum(BG_DAYS, x, tx, T, ts, w)
    generic = _generic.weighted_sum_over_distinct_rows(kernel.expected_purchases_path, BG_DAYS, x, tx, T, ts, w)
    np.testing.assert_allclose(fast, generic, rtol=1e-13)
    # a plain loop: one customer, one horizon at a time, the discounted increments summed in the textbook order
    for i in (0, 1, 17, 2999):
        one = [np.array([v[i]]) for v in (x, tx, T)]
        cumulative = [float(kernel.expected_purchases(BG_DAYS, *one, np.array([t]))[0]) for t in ts]
        increments = np.diff(np.r_[0.0, cumulative])
        textbook = sum(increments[k] / (1.0 + DAILY) ** (k + 1) for k in range(360))
        assert fast[0, i] == pytest.approx(textbook, rel=1e-12)
        assert fast[1, i] == pytest.approx(cumulative[-1], rel=1e-14)
    # chunks of horizons (fast) and of distinct rows (generic) do not change the numbers
    monkeypatch.setattr(_generic, "PATH_CHUNK_CELLS", 5000)
    np.testing.assert_allclose(kernel.weighted_path_sum(BG_DAYS, x, tx, T, ts, w), fast, rtol=1e-14)
    np.testing.assert_allclose(
        _generic.weighted_sum_over_distinct_rows(kernel.expected_purchases_path, BG_DAYS, x, tx, T, ts, w), generic,
        rtol=1e-14)


def test_clv_gives_the_same_numbers_through_the_path_route() -> None:
    s = _daily_customers(5000, seed=2)
    bg = FittedBetaGeo(params=BetaGeoParams(r=0.243, alpha=30.898, a=0.793, b=2.426), time_unit="D")
    fast = clv(bg, 25.0, s, horizon=360, discount_rate=DAILY, period=1, cost_per_purchase=2.0)
    slow = clv(PathOnly(bg), 25.0, s, horizon=360, discount_rate=DAILY, period=1, cost_per_purchase=2.0)
    for name in ("clv", "discounted_purchases", "cost_to_serve", "profit_clv"):
        np.testing.assert_allclose(getattr(fast, name), getattr(slow, name), rtol=1e-13, err_msg=name)
    np.testing.assert_array_equal(fast.expected_purchases, slow.expected_purchases)
    assert slow.p_alive is None and fast.p_alive is not None  # the wrapper has no probability_alive


def test_the_path_route_in_chunks_of_customers_gives_the_same_numbers(monkeypatch: Any) -> None:
    s = _daily_customers(3000, seed=9)
    bg = FittedBetaGeo(params=BetaGeoParams(r=0.243, alpha=30.898, a=0.793, b=2.426), time_unit="D")
    whole = clv(PathOnly(bg), 1.0, s, horizon=90, discount_rate=DAILY, period=1)
    monkeypatch.setattr(clv_module, "_CHUNK_CELLS", 90 * 1024)  # chunks of 1,024 customers: 3 here
    chunked = clv(PathOnly(bg), 1.0, s, horizon=90, discount_rate=DAILY, period=1)
    np.testing.assert_allclose(chunked.clv, whole.clv, rtol=1e-14)
    np.testing.assert_array_equal(chunked.expected_purchases, whole.expected_purchases)


def test_clv_with_covariate_groups_uses_each_groups_parameters(cdnow: CustomerSummary) -> None:
    rng = np.random.default_rng(5)
    ids = np.arange(len(cdnow))
    s = CustomerSummary(cdnow.frequency, cdnow.recency, cdnow.T, customer_id=ids, time_unit=cdnow.time_unit)
    cov = Cov(ids, {"A": rng.integers(0, 2, len(s)), "B": rng.integers(0, 3, len(s))})
    model = BetaGeo().fit(s, purchase_covariates=cov, dropout_covariates=cov)
    covs = {"purchase_covariates": cov, "dropout_covariates": cov}
    ts = np.arange(1.0, 53.0)
    w = _discount_weights(52, 0.002)
    got = model.weighted_expected_purchases(s, ts, w, **covs)
    np.testing.assert_allclose(got, w @ model.expected_purchases_path(s, ts, **covs), rtol=1e-13)
    res = clv(model, 30.0, s, horizon=52, discount_rate=0.002, **covs)
    np.testing.assert_allclose(res.discounted_purchases, got, rtol=1e-13)
    # the groups differ: a model without covariates gives other numbers
    plain = BetaGeo().fit(s).weighted_expected_purchases(s, ts, w)
    assert np.max(np.abs(plain / got - 1.0)) > 1e-3
    # The command line's wrapper (a model with its customers' covariates bound) takes the same route, same numbers.
    from clvkit.cli._covariates import BoundCovariates

    bound = clv(BoundCovariates(model, cov), 30.0, s, horizon=52, discount_rate=0.002)
    np.testing.assert_array_equal(bound.discounted_purchases, res.discounted_purchases)
    np.testing.assert_array_equal(bound.clv, res.clv)


def test_time_varying_models_sum_one_horizon_at_a_time() -> None:
    pytest.importorskip("pandas")
    from test_dynamic_covariates import _simulate_log

    import clvkit

    log, frame = _simulate_log(np.random.default_rng(4), 150, (0.9, 8.0, 0.8, 30.0), 0.8, -0.7)
    end = np.datetime64("2020-01-05T00:00:00") + np.timedelta64(104 * 7 * 86400 - 1, "s")
    s = clvkit.summarize(log, customer_id="id", datetime="date", time_unit="h", observation_end=end
                         ).with_time_unit("W")
    cov = clvkit.Covariates.dynamic(frame, customer_id="id", period="week", columns=["season"])
    covs = {"purchase_covariates": cov, "dropout_covariates": cov}
    model = ParetoNBD().fit(s, **covs)
    assert model.time_varying
    ts = np.arange(1.0, 7.0)
    w = np.vstack([_discount_weights(6, 0.01), np.eye(6)[-1]])
    got = model.weighted_expected_purchases(s, ts, w, **covs)
    np.testing.assert_allclose(got, w @ model.expected_purchases_path(s, ts, **covs), rtol=1e-13)
    res = clv(model, 10.0, s, horizon=6, discount_rate=0.01, **covs)
    np.testing.assert_allclose(res.discounted_purchases, got[0], rtol=1e-13)
    np.testing.assert_array_equal(res.expected_purchases, got[1])


def test_a_huge_horizon_times_customers_runs_in_bounded_memory() -> None:
    # 300,000 customers x 2,000 daily steps: the path alone would be 4.8 GB of float64. The call holds the results,
    # a few arrays per customer and per distinct (x, T) pair, and chunks of PATH_CHUNK_CELLS values.
    n, horizon = 300_000, 2000
    s = _daily_customers(n, seed=7)
    bg = FittedBetaGeo(params=BetaGeoParams(r=0.243, alpha=30.898, a=0.793, b=2.426), time_unit="D")
    assert horizon * n > clv_module.MAX_PATH_CELLS  # once refused
    tracemalloc.start()
    try:
        res = clv(bg, 20.0, s, horizon=horizon, discount_rate=DAILY, period=1)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    path_bytes = n * horizon * 8
    assert peak < path_bytes / 50, peak  # measured: ~1% (52 MB)
    # the result's ~9 arrays per customer, a few more in flight, and the kernel's temporaries of one chunk
    assert peak < 12 * 8 * n + 32 * 8 * _generic.PATH_CHUNK_CELLS, peak / n
    assert np.all(np.isfinite(res.clv)) and np.all(res.clv >= 0.0)
    # spot check against the path of a few customers (the independent route)
    few = s.take(np.array([0, 1, 2, n - 1]))
    path = bg.expected_purchases_path(few, np.arange(1.0, horizon + 1.0))
    np.testing.assert_allclose(res.discounted_purchases[[0, 1, 2, n - 1]],
                               _discount_weights(horizon, DAILY) @ path, rtol=1e-12)


@pytest.mark.parametrize(("ts", "weights", "match"), [
    (np.arange(1.0, 4.0), np.ones(4), "shape"),
    (np.arange(1.0, 4.0), np.ones((2, 2)), "shape"),
    (np.arange(1.0, 4.0), np.array([1.0, np.nan, 1.0]), "finite"),
    (np.arange(1.0, 4.0), np.array(["a", "b", "c"]), "numbers"),
    (np.array([1.0, -2.0]), np.ones(2), "ts"),
])
def test_bad_weights_or_horizons_are_typed_errors(ts: Any, weights: Any, match: str) -> None:
    bg = FittedBetaGeo(params=BetaGeoParams(r=0.243, alpha=4.414, a=0.793, b=2.426), time_unit="W")
    s = CustomerSummary([0, 2], [0.0, 30.0], [38.0, 38.0], time_unit="W")
    with pytest.raises(InvalidInputError, match=match):
        bg.weighted_expected_purchases(s, ts, weights)


def test_gamma_gamma_is_untouched_by_the_route(cdnow: CustomerSummary) -> None:
    # the spend enters clv() outside the purchase sums: both routes multiply the same expected spend
    gg = GammaGamma().fit(cdnow)
    bg = BetaGeo().fit(cdnow)
    a = clv(bg, gg, cdnow, horizon=52, discount_rate=0.002)
    b = clv(PathOnly(bg), gg, cdnow, horizon=52, discount_rate=0.002)
    np.testing.assert_array_equal(a.expected_spend, b.expected_spend)
    np.testing.assert_allclose(a.clv, b.clv, rtol=1e-13)
