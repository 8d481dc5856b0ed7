"""sBG properties (Hypothesis): probabilities, monotonicity, compression and order invariance, JSON."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from clvkit.valuation.shifted_beta_geo import FittedShiftedBetaGeo, ShiftedBetaGeo, ShiftedBetaGeoParams
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from clvkit import ConvergenceError, ConvergenceWarning, load_json
from clvkit.contracts import ContractSummary
from clvkit.valuation.models import _sbg as kernel

log_param = st.floats(min_value=-3.0, max_value=3.0).map(lambda e: float(10.0**e))
periods = st.lists(st.integers(min_value=0, max_value=10_000), min_size=1, max_size=30)


@given(alpha=log_param, beta=log_param, t=periods)
def test_survival_is_a_probability_and_non_increasing(alpha: float, beta: float, t: list[int]) -> None:
    m = FittedShiftedBetaGeo(params=ShiftedBetaGeoParams(alpha=alpha, beta=beta))
    ts = np.sort(np.array(t))
    s = m.survival(ts)
    assert np.all(np.isfinite(s)) and np.all((s >= 0.0) & (s <= 1.0))
    assert np.all(np.diff(s) <= 0.0)
    assert np.all(s[ts == 0] == 1.0)
    p = m.probability_churn(ts)
    assert np.all(np.isfinite(p)) and np.all((p >= 0.0) & (p <= 1.0))


@given(alpha=log_param, beta=log_param, t=periods)
def test_retention_increases_with_tenure(alpha: float, beta: float, t: list[int]) -> None:
    m = FittedShiftedBetaGeo(params=ShiftedBetaGeoParams(alpha=alpha, beta=beta))
    ts = np.sort(np.array(t) + 1)
    r = m.retention_rate(ts)
    assert np.all((r > 0.0) & (r < 1.0))
    # r_{t+1} - r_t = alpha / ((alpha+beta+t-1)(alpha+beta+t)) >= 7e-12 on this range: strictly increasing.
    distinct = np.diff(ts) > 0
    assert np.all(np.diff(r)[distinct] > 0.0)
    assert np.all(np.diff(r)[~distinct] == 0.0)


@given(alpha=log_param, beta=log_param, k=st.integers(min_value=1, max_value=60))
def test_churn_probabilities_and_survival_add_up(alpha: float, beta: float, k: int) -> None:
    # sum_{t=1..k} P(T = t) + S(k) = 1, and P(T = t) = S(t-1) - S(t).
    params = np.array([alpha, beta])
    t = np.arange(1, k + 1, dtype=float)
    p = kernel.probability_churn(params, t)
    s = kernel.survival(params, np.arange(0, k + 1, dtype=float))
    assert float(np.sum(p) + s[-1]) == pytest.approx(1.0, rel=1e-9)
    # S(t-1) - S(t) cancels when S is near 1; betaln at beta ~ 1e3 carries ~1e-12 absolute error (e.g. alpha =
    # 0.01, beta = 1000: P(T = 1) = alpha/(alpha+beta) is exact in the kernel, the difference is 2e-12 off).
    np.testing.assert_allclose(p, s[:-1] - s[1:], rtol=1e-7, atol=1e-11)
    np.testing.assert_allclose(p[0], alpha / (alpha + beta), rtol=1e-12)


@given(alpha=log_param, beta=log_param, renewals=st.lists(st.integers(0, 500), min_size=1, max_size=5),
       d=st.floats(min_value=1e-3, max_value=5.0))
@settings(max_examples=60, deadline=None)
def test_derl_bounds(alpha: float, beta: float, renewals: list[int], d: float) -> None:
    # 0 < r_n <= DERL <= (1 + d)/d: the next renewal is certain at most, and no more than one renewal a period.
    params = np.array([alpha, beta])
    n = np.array(renewals, dtype=float)
    derl = kernel.derl(params, n, d)
    r_next = kernel.retention_rate(params, n + 1.0)
    assert np.all(np.isfinite(derl))
    assert np.all(derl >= r_next * (1 - 1e-12)) and np.all(derl <= (1.0 + d) / d * (1 + 1e-12))


def _simulate(seed: int, alpha: float, beta: float, n: int, horizon: int) -> ContractSummary:
    rng = np.random.default_rng(seed)
    theta = rng.beta(alpha, beta, size=n)
    lifetime = rng.geometric(np.clip(theta, 1e-12, 1.0))  # T = 1, 2, ...
    churned = lifetime <= horizon
    duration = np.where(churned, lifetime, horizon)
    return ContractSummary(duration, churned, time_unit="M", customer_id=np.arange(n))


@given(seed=st.integers(0, 2**32 - 1), alpha=st.floats(0.3, 5.0), beta=st.floats(0.3, 8.0),
       n=st.integers(30, 300), horizon=st.integers(2, 12))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_fit_on_compressed_equals_fit_on_raw_rows(seed: int, alpha: float, beta: float, n: int, horizon: int) -> None:
    raw = _simulate(seed, alpha, beta, n, horizon)
    assume(raw.churned.any() and (raw.duration - raw.churned > 0).any())
    shuffled = raw.take(np.random.default_rng(seed + 1).permutation(n))
    compressed = raw.compress().summary
    results = []
    for contracts in (raw, shuffled, compressed):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            try:
                results.append(ShiftedBetaGeo().fit(contracts))
            except ConvergenceError:
                results.append(None)
    if results[0] is None:  # data pushing to the geometric limit: all three must agree on that too
        assert all(r is None for r in results)
        return
    for other in results[1:]:
        assert other is not None
        np.testing.assert_allclose(other.param_array(), results[0].param_array(), rtol=1e-9)
        assert other.log_likelihood == pytest.approx(results[0].log_likelihood, rel=1e-12)


@given(duration=st.lists(st.integers(0, 40), min_size=1, max_size=60), data=st.data())
def test_compress_expands_back(duration: list[int], data: st.DataObject) -> None:
    churned = data.draw(st.lists(st.booleans(), min_size=len(duration), max_size=len(duration)))
    dur = np.array(duration, dtype=float)
    ch = np.array(churned) & (dur >= 1)
    c = ContractSummary(dur, ch)
    z = c.compress()
    np.testing.assert_array_equal(z.summary.duration[z.inverse], c.duration)
    np.testing.assert_array_equal(z.summary.churned[z.inverse], c.churned)
    assert z.summary.total_weight == c.total_weight


@given(alpha=st.floats(min_value=1e-300, max_value=1e300, allow_nan=False, allow_infinity=False),
       beta=st.floats(min_value=1e-300, max_value=1e300, allow_nan=False, allow_infinity=False),
       unit=st.sampled_from(["D", "W", "M", "Q", "Y"]))
def test_json_round_trip_is_exact(alpha: float, beta: float, unit: str) -> None:
    m = FittedShiftedBetaGeo(params=ShiftedBetaGeoParams(alpha=alpha, beta=beta), time_unit=unit)
    back = load_json(m.to_json())
    assert back == m
    assert isinstance(back, FittedShiftedBetaGeo)


def test_json_round_trip_of_a_fitted_model() -> None:
    fitted = ShiftedBetaGeo().fit(
        ContractSummary.from_survival_counts([1000, 631, 468, 382, 326, 289, 262, 241], time_unit="Y")
    )
    back = load_json(fitted.to_json())
    assert back == fitted
    assert back.fit_info == fitted.fit_info
    assert '"model": "ShiftedBetaGeo"' in fitted.to_json()
