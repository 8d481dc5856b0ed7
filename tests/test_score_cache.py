"""Scoring on the summary's cached distinct rows (issue 16).

A count model without covariates evaluates its per-customer predictions once per distinct ``(frequency, recency,
T)`` row of the summary and expands them; the distinct rows (and, for BG/NBD, the distinct ``(frequency, T)``
pairs) are cached on the immutable summary. These tests check the cached route against the kernels called directly
on every customer's own row, that derived summaries never see a stale cache, that the cache is not pickled, that
threads sharing a fresh summary agree, and the grouping itself against ``np.unique``.
"""

from __future__ import annotations

import pickle
import threading
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clvkit import CustomerSummary, _rows
from clvkit.valuation import (
    BetaGeo,
    BetaGeoBetaBinomParams,
    BetaGeoCNBDParams,
    BetaGeoParams,
    CNBDParams,
    FittedBetaGeo,
    FittedBetaGeoBetaBinom,
    FittedBetaGeoCNBD,
    FittedCNBD,
    FittedGammaGompertzNBD,
    FittedModifiedBetaGeo,
    FittedModifiedBetaGeoCNBD,
    FittedParetoNBD,
    GammaGompertzNBDParams,
    ModifiedBetaGeoCNBDParams,
    ModifiedBetaGeoParams,
    ParetoNBDParams,
)
from clvkit.valuation.models import _bgnbd

#: The tolerance of the issue: no prediction changes beyond 1e-12 relative. The cached route evaluates the same
#: closed forms on the same rows; only a series that stops when every row of the batch has converged may add a
#: term more or less (below 1e-17 of the sum) in a different batch.
RTOL = 1e-12

#: Every count model, at parameters of the size the field's data sets give (weeks; BG/BB per opportunity).
CONTINUOUS = [
    FittedBetaGeo(params=BetaGeoParams(r=0.243, alpha=4.414, a=0.793, b=2.426), time_unit="W"),
    FittedModifiedBetaGeo(params=ModifiedBetaGeoParams(r=0.525, alpha=6.183, a=0.891, b=1.614), time_unit="W"),
    FittedParetoNBD(params=ParetoNBDParams(r=0.553, alpha=10.58, s=0.606, beta=11.67), time_unit="W"),
    FittedGammaGompertzNBD(params=GammaGompertzNBDParams(r=0.55, alpha=10.6, b=0.02, s=0.6, beta=1.2),
                           time_unit="W"),
    FittedCNBD(params=CNBDParams(k=2, r=1.3, alpha=2.8), time_unit="W"),
    FittedBetaGeoCNBD(params=BetaGeoCNBDParams(k=2, r=1.3, alpha=2.8, a=0.42, b=0.79), time_unit="W"),
    FittedModifiedBetaGeoCNBD(params=ModifiedBetaGeoCNBDParams(k=3, r=1.3, alpha=2.8, a=0.42, b=0.79),
                              time_unit="W"),
]
BGBB = FittedBetaGeoBetaBinom(params=BetaGeoBetaBinomParams(alpha=1.204, beta=0.750, gamma=0.657, delta=2.783),
                              time_unit="Y")
MODELS = [*CONTINUOUS, BGBB]
IDS = [type(m).__name__ for m in MODELS]


def _continuous_rows(rng: np.random.Generator, n: int) -> CustomerSummary:
    """Rows with many repeats (few distinct ages and recencies), x = 0 rows, tx = T rows and one-off rows."""
    T = rng.choice([10.0, 25.5, 38.0, 52.0], n)
    x = rng.choice([0.0, 1.0, 2.0, 7.0, 30.0], n)
    tx = np.where(x > 0, np.round(T * rng.choice([0.2, 0.5, 1.0], n), 1), 0.0)  # 1.0: recency = T
    T[:5], x[:5], tx[:5] = rng.uniform(40, 60, 5), [0.0, 3.0, 3.0, 12.0, 1.0], 0.0  # five rows seen once
    tx[1:5] = T[1:5] * rng.uniform(0.0, 1.0, 4)
    return CustomerSummary(frequency=x, recency=tx, T=T, time_unit="W")


def _discrete_rows(rng: np.random.Generator, n: int) -> CustomerSummary:
    T = rng.choice([4.0, 6.0], n)
    x = np.minimum(rng.integers(0, 7, n).astype(float), T)
    tx = np.where(x > 0, np.maximum(x, np.minimum(T, x + rng.integers(0, 3, n))), 0.0)
    return CustomerSummary(frequency=x, recency=tx, T=T, time_unit="Y")


def _rows_for(model: Any, seed: int = 7, n: int = 600) -> CustomerSummary:
    rng = np.random.default_rng(seed)
    return _discrete_rows(rng, n) if model is BGBB else _continuous_rows(rng, n)


def _direct(model: Any, name: str, summary: CustomerSummary, *args: Any) -> np.ndarray:
    """The kernel on every customer's own row: no de-duplication anywhere (a path in the kernel may still group)."""
    kernel = model.kernel
    x, tx, T = summary.frequency, summary.recency, summary.T
    p = model.param_array() if not hasattr(model, "kernel_params") else model.kernel_params()
    fn: Callable[..., np.ndarray] = getattr(kernel, name)
    return np.asarray(fn(p, x, tx, T, *args))


def _assert_close(got: np.ndarray, want: np.ndarray) -> None:
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=RTOL, atol=0.0)


# ------------------------------------------------------------------------------------------ cached vs direct
@pytest.mark.parametrize("model", MODELS, ids=IDS)
def test_cached_route_equals_the_kernel_on_every_row(model: Any) -> None:
    s = _rows_for(model)
    assert len(s._distinct_rows().frequency) * 2 <= len(s)  # the cached route is the one taken
    horizon = 3.0 if model is BGBB else 13.0
    _assert_close(model.probability_alive(s), _direct(model, "probability_alive", s))
    t = np.asarray(horizon)
    _assert_close(model.expected_purchases(s, horizon), _direct(model, "expected_purchases", s, t))
    _assert_close(model.probability_of_purchases(s, 2, horizon),
                  _direct(model, "probability_of_purchases", s, np.asarray(2.0), t))
    ts = np.array([1.0, 2.0, horizon])
    _assert_close(model.expected_purchases_path(s, ts), _direct(model, "expected_purchases_path", s, ts))
    d = 0.01
    _assert_close(model.discounted_expected_residual_transactions(s, d), _direct(model, "discounted_residual", s, d))


def test_bgnbd_pairs_route_equals_eq10_row_by_row() -> None:
    # The BG/NBD expectation on the cached (x, T) pairs against eq. (10) of Fader, Hardie & Lee (2005) written out
    # per row with scipy's hyp2f1 (an independent evaluation of the hypergeometric function).
    from scipy.special import hyp2f1

    bg = CONTINUOUS[0]
    s = _rows_for(bg)
    r, alpha, a, b = bg.param_array()
    t = 13.0
    want = []
    for x, tx, T in zip(s.frequency, s.recency, s.T, strict=True):
        z = t / (alpha + T + t)
        head = (a + b + x - 1.0) / (a - 1.0)
        body = 1.0 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp2f1(r + x, b + x, a + b + x - 1.0, z)
        alive = 1.0 if x == 0 else 1.0 / (1.0 + a / (b + x - 1.0) * ((alpha + T) / (alpha + tx)) ** (r + x))
        want.append(head * body * alive)
    first = bg.expected_purchases(s, t)  # a first, one-off prediction: scored directly, nothing cached
    assert s._distinct is None and s._distinct_pairs is None
    np.testing.assert_allclose(first, want, rtol=1e-10)
    np.testing.assert_allclose(bg.expected_purchases(s, t), want, rtol=1e-10)
    assert s._distinct_pairs is not None  # the second prediction cached the rows and pairs


def test_the_second_prediction_builds_the_index_and_both_agree() -> None:
    # A one-off prediction on a new summary costs what it always did (no index built); the second builds the index
    # and every later one reuses it. The first (direct) and later (cached) answers agree.
    bg = CONTINUOUS[0]
    s = _rows_for(bg)
    direct = bg.probability_alive(s)
    assert s._distinct is None and s._scored_once
    cached = bg.probability_alive(s)
    built = s._distinct
    assert built is not None
    _assert_close(cached, direct)
    _assert_close(bg.probability_alive(s), direct)
    assert s._distinct is built
    assert not s.take(np.arange(10))._scored_once  # derived summaries start afresh


def test_horizons_per_customer_and_mostly_distinct_rows_take_the_direct_route() -> None:
    bg = CONTINUOUS[0]
    rng = np.random.default_rng(3)
    s = _rows_for(bg)
    t = rng.uniform(1, 20, len(s))  # one horizon per customer: not a function of (x, tx, T) alone
    _assert_close(bg.expected_purchases(s, t), _direct(bg, "expected_purchases", s, t))
    n = 400
    T = rng.uniform(20, 40, n)
    x = rng.integers(0, 5, n).astype(float)
    distinct = CustomerSummary(frequency=x, recency=np.where(x > 0, T * rng.uniform(0, 1, n), 0.0), T=T,
                               time_unit="W")
    _assert_close(bg.probability_alive(distinct), _direct(bg, "probability_alive", distinct))
    assert len(distinct._distinct_rows().frequency) * 2 > n  # nearly all distinct: scored directly


def test_a_large_summary_of_distinct_rows_is_scored_without_building_the_index() -> None:
    # Times of day: every row distinct. The probe of evenly spaced rows sees it, so no index (a sort) is built for
    # scoring; the fit builds it anyway, and scoring then finds too few repeats to use it.
    bg = CONTINUOUS[0]
    rng = np.random.default_rng(9)
    n = 20_000
    T = rng.uniform(1.0, 52.0, n)
    x = rng.integers(0, 6, n).astype(float)
    s = CustomerSummary(frequency=x, recency=np.where(x > 0, T * rng.uniform(0.01, 1.0, n), 0.0), T=T,
                        time_unit="W")
    want = _direct(bg, "probability_alive", s)
    np.testing.assert_array_equal(bg.probability_alive(s), want)  # first prediction: direct
    np.testing.assert_array_equal(bg.probability_alive(s), want)  # second: the probe decides
    assert s._distinct is None
    assert s._repeated_rows() is None and s._distinct is None and s._probed_distinct  # the verdict is kept
    repeated = s.take(np.arange(n) % 500)  # 500 distinct rows, each 40 times: the probe sees repeats
    assert repeated._repeated_rows() is None  # its first prediction: direct
    assert repeated._repeated_rows() is not None
    np.testing.assert_array_equal(bg.probability_alive(repeated), want[np.arange(n) % 500])
    assert repeated._distinct is not None and len(repeated._distinct.frequency) == 500


@pytest.mark.filterwarnings("ignore::clvkit.ConvergenceWarning")  # 300 customers: standard errors may be missing
def test_covariate_groups_keep_their_route() -> None:
    from clvkit import Covariates

    rng = np.random.default_rng(5)
    n = 300
    s0 = _continuous_rows(rng, n)
    ids = np.arange(n)
    s = CustomerSummary(frequency=s0.frequency, recency=s0.recency, T=s0.T, customer_id=ids, time_unit="W")
    z = rng.choice([0.0, 1.0], n)
    cov = Covariates.static({"id": ids, "z": z}, customer_id="id", columns=["z"])
    fitted = BetaGeo().fit(s, purchase_covariates=cov)
    fresh = CustomerSummary(frequency=s.frequency, recency=s.recency, T=s.T, customer_id=ids, time_unit="W")
    got = fitted.probability_alive(fresh, purchase_covariates=cov)
    assert fresh._distinct is None  # customers with covariates are scored per group of parameters, not cached rows
    groups = fitted._param_groups(fresh, "probability_alive", {"purchase": cov, "dropout": None})
    assert len(groups) == 2
    for idx, params in groups:
        want = _bgnbd.probability_alive(params, s.frequency[idx], s.recency[idx], s.T[idx])
        np.testing.assert_array_equal(got[idx], want)


# ------------------------------------------------------------------------------------------ no stale cache
def _twice(predict: Callable[[CustomerSummary], np.ndarray], summary: CustomerSummary) -> np.ndarray:
    """The prediction scored twice (the first directly, the second on the summary's distinct rows); both agree."""
    first, second = predict(summary), predict(summary)
    _assert_close(second, first)
    return second


def test_derived_summaries_get_their_own_cache() -> None:
    bg = CONTINUOUS[0]
    s = _rows_for(bg)
    before = _twice(bg.probability_alive, s)
    assert s._distinct is not None
    idx = np.arange(0, len(s), 3)[::-1]  # a subset, reversed
    sub = s.take(idx)
    assert sub._distinct is None
    _assert_close(_twice(bg.probability_alive, sub), before[idx])
    mask = s.frequency > 0
    _assert_close(_twice(bg.probability_alive, s.take(mask)), before[mask])
    days = s.with_time_unit("D")
    assert days._distinct is None
    bg_days = FittedBetaGeo(params=BetaGeoParams(r=0.243, alpha=4.414 * 7, a=0.793, b=2.426), time_unit="D")
    _assert_close(_twice(bg_days.probability_alive, days), before)
    shifted = s._replace(T=s.T + 1.0)  # same object kind, other ages: must not reuse s's rows
    assert shifted._distinct is None
    _assert_close(_twice(bg.probability_alive, shifted), _direct(bg, "probability_alive", shifted))
    compressed = s.compress()
    rows = compressed.summary
    _assert_close(_twice(bg.probability_alive, rows)[compressed.inverse], before)
    weighted = s.with_weights(np.full(len(s), 2.0))
    _assert_close(_twice(bg.probability_alive, weighted), before)


def test_cache_is_built_once_and_not_pickled() -> None:
    bg = CONTINUOUS[0]
    s = _rows_for(bg)
    assert s._distinct is None
    bg.probability_alive(s)
    assert s._distinct is None  # a one-off prediction builds nothing
    bg.probability_alive(s)
    first = s._distinct
    assert first is not None
    bg.expected_purchases(s, 4.0)
    assert s._distinct is first  # reused, not rebuilt
    rows = s._distinct_rows()
    for j, col in enumerate((s.frequency, s.recency, s.T)):
        np.testing.assert_array_equal(rows[j][rows.inverse], col)
        assert not rows[j].flags.writeable
    np.testing.assert_array_equal(rows.counts, np.bincount(rows.inverse))
    again = pickle.loads(pickle.dumps(s))
    assert again._distinct is None and again._distinct_pairs is None and again._probed_distinct is None
    assert not again._scored_once
    np.testing.assert_array_equal(again.frequency, s.frequency)
    assert again.time_unit == s.time_unit
    np.testing.assert_array_equal(bg.probability_alive(again), bg.probability_alive(s))


def test_fit_builds_the_cache_and_fits_as_before() -> None:
    truth = CONTINUOUS[0]
    s = truth.simulate(np.random.default_rng(11).choice([20.0, 30.0, 39.0], 3000), seed=11)
    assert s._distinct is None
    fitted = BetaGeo().fit(s)
    assert s._distinct is not None  # the fit paid the de-duplication; scoring reuses it
    cached = s._distinct
    fresh = CustomerSummary(frequency=s.frequency, recency=s.recency, T=s.T, time_unit="W")
    np.testing.assert_array_equal(BetaGeo().fit(fresh).param_array(), fitted.param_array())
    fitted.probability_alive(s)
    assert s._distinct is cached
    # weighted rows: the same optimum as the raw rows they stand for
    c = s.compress()
    np.testing.assert_allclose(BetaGeo().fit(c.summary).param_array(), fitted.param_array(), rtol=1e-6)


# ------------------------------------------------------------------------------------------ threads
def test_threads_scoring_one_fresh_summary_agree() -> None:
    rng = np.random.default_rng(2)
    n = 200_000  # large enough that the threads overlap while the index is built
    T = rng.integers(1, 300, n).astype(float)
    x = rng.integers(0, 20, n).astype(float)
    tx = np.where(x > 0, np.maximum(1.0, np.floor(T * rng.uniform(0, 1, n))), 0.0)
    s = CustomerSummary(frequency=x, recency=tx, T=T, time_unit="D")
    bgd = FittedBetaGeo(params=BetaGeoParams(r=0.243, alpha=30.9, a=0.793, b=2.426), time_unit="D")
    want_alive = _direct(bgd, "probability_alive", s)
    want_ep = _direct(bgd, "expected_purchases", s, np.asarray(30.0))
    n_threads = 8
    barrier = threading.Barrier(n_threads)
    results: list[tuple[np.ndarray, np.ndarray] | BaseException] = [RuntimeError("not run")] * n_threads

    def work(i: int) -> None:
        try:
            barrier.wait()
            if i % 2:
                results[i] = (bgd.expected_purchases(s, 30.0), bgd.probability_alive(s))
            else:
                results[i] = (bgd.probability_alive(s), bgd.expected_purchases(s, 30.0))
        except BaseException as exc:  # reported below
            results[i] = exc

    threads = [threading.Thread(target=work, args=(i,)) for i in range(n_threads)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    for i, res in enumerate(results):
        assert not isinstance(res, BaseException), res
        alive, ep = (res[1], res[0]) if i % 2 else res
        np.testing.assert_array_equal(alive, results[0][0])  # type: ignore[index]
        np.testing.assert_array_equal(ep, results[0][1])  # type: ignore[index]
        _assert_close(alive, want_alive)
        _assert_close(ep, want_ep)


# ------------------------------------------------------------------------------------------ the grouping
@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 60), st.integers(0, 300), st.integers(0, 300)), min_size=1, max_size=200),
       st.integers(0, 3))
def test_ranked_prefix_groups_as_np_unique(rows: list[tuple[int, int, int]], dense_min: int) -> None:
    # A table limit so small that the first columns are ranked before the next one is packed (and, at 0, that the
    # final key is grouped by np.unique): the groups, their order, the inverse and the sums equal np.unique's.
    cols = [np.array([r[j] for r in rows], dtype=np.float64) for j in range(3)]
    w = np.arange(1.0, len(rows) + 1.0)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_rows, "_DENSE_MIN", dense_min)
        mp.setattr(_rows, "_DENSE_FACTOR", 1)
        got = _rows.unique_rows(cols, w)
    ref, inverse = np.unique(np.stack(cols, axis=1), axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    for j in range(3):
        np.testing.assert_array_equal(got[0][j], ref[:, j])
    np.testing.assert_array_equal(got[2], inverse)
    np.testing.assert_array_equal(got[1], np.bincount(inverse, weights=w))


def test_dense_rank_keeps_order() -> None:
    key = np.array([7, 3, 7, 0, 9, 3], dtype=np.int64)
    rank, size = _rows._dense_rank(key, 10)
    assert size == 4
    np.testing.assert_array_equal(rank, [2, 1, 2, 0, 3, 1])


def test_bgnbd_probability_alive_kernel_matches_eq13() -> None:
    # eq. (13) of Fader, Hardie & Lee (2005) written out per row, including x = 0 (exactly 1) and tx = T.
    r, alpha, a, b = 0.243, 4.414, 0.793, 2.426
    x = np.array([0.0, 1.0, 4.0, 4.0, 30.0])
    tx = np.array([0.0, 10.0, 38.0, 2.0, 37.0])
    T = np.array([38.0, 38.0, 38.0, 38.0, 38.0])
    want = [1.0] + [1.0 / (1.0 + a / (b + xi - 1.0) * ((alpha + Ti) / (alpha + ti)) ** (r + xi))
                    for xi, ti, Ti in zip(x[1:], tx[1:], T[1:], strict=True)]
    np.testing.assert_allclose(_bgnbd.probability_alive(np.array([r, alpha, a, b]), x, tx, T), want, rtol=1e-14)
