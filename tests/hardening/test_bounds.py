"""Hardening: every argument that sizes an allocation or a loop is checked against a documented limit first,
and every optimiser path reports progress and stops at a bounded number of likelihood evaluations.

Each test failed before its fix (issue 10: 22 GB for ``lorenz_curve(points=10**9)``, 1.7 TiB for
``clv(horizon=10**12)``, a Nelder-Mead fallback silent for 470 s).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from clvkit.errors import ConvergenceError, InvalidInputError
from clvkit.valuation.models import _estimation
from clvkit.valuation.models._estimation import FitProgress, maximize_likelihood

FloatArray = npt.NDArray[np.float64]


def _misleading(params: FloatArray, data: Mapping[str, npt.NDArray[Any]]) -> tuple[FloatArray, FloatArray]:
    """Rosenbrock's valley in log-parameters with the gradient's sign flipped: BFGS fails, Nelder-Mead runs."""
    t = np.log(params)
    ll = -float(np.sum(100.0 * (t[1:] - t[:-1] ** 2) ** 2 + (1.0 - t[:-1]) ** 2))
    g = np.zeros_like(t)
    g[:-1] += -400.0 * t[:-1] * (t[1:] - t[:-1] ** 2) - 2.0 * (1.0 - t[:-1])
    g[1:] += 200.0 * (t[1:] - t[:-1] ** 2)
    grad = g / params  # d(-ll)/dp: the sign a log-likelihood gradient must not have
    return np.array([ll]), grad[None, :]


def test_the_fallback_reports_progress_and_stops_at_the_evaluation_limit() -> None:
    seen: list[FitProgress] = []
    evaluations = [0]

    def counted(params: FloatArray, data: Mapping[str, npt.NDArray[Any]]) -> tuple[FloatArray, FloatArray]:
        evaluations[0] += 1
        return _misleading(params, data)

    max_iter = 20
    with pytest.raises(ConvergenceError) as exc:
        maximize_likelihood(counted, {}, np.ones(1), np.full(6, 3.0), model="toy",
                            param_names=tuple("abcdef"), max_iter=max_iter, progress=seen.append)
    limit = _estimation.EVALUATIONS_PER_ITERATION * max_iter
    assert evaluations[0] <= limit + 1
    assert "evaluations" in str(exc.value) and "penalizer" in str(exc.value)
    # The derivative-free restart reported its iterations too (BFGS alone stops after a handful).
    assert len(seen) > 10
    assert [p.iteration for p in seen] == list(range(1, len(seen) + 1))


# ---------------------------------------------------------------------------------------------- allocation sizes
# Each call below allocated (or looped) in proportion to one argument before its limit: with 10**12 numpy
# failed at once with MemoryError (10**9 grew to 22 GB in lorenz_curve; the bootstrap would run for hours).
@pytest.fixture(scope="module")
def fitted_pair() -> tuple[Any, Any, Any]:
    from clvkit import CustomerSummary
    from clvkit.valuation import BetaGeoParams, FittedBetaGeo, FittedGammaGamma, GammaGammaParams

    s = CustomerSummary(frequency=[0, 2, 5], recency=[0.0, 10.0, 30.0], T=[40.0, 40.0, 35.0],
                        monetary_value=[0.0, 10.0, 20.0], time_unit="W")
    bg = FittedBetaGeo(params=BetaGeoParams(r=0.243, alpha=4.414, a=0.793, b=2.426), time_unit="W")
    gg = FittedGammaGamma(params=GammaGammaParams(p=6.25, q=3.74, v=15.44), time_unit="W")
    return bg, gg, s


@pytest.mark.parametrize("points", [10**12, 2**62])
def test_lorenz_points_are_bounded(points: int) -> None:
    from clvkit.tiering import concentration, lorenz_curve
    module = importlib.import_module("clvkit.tiering.concentration")

    limit = getattr(module, "MAX_LORENZ_POINTS", None)
    with pytest.raises(InvalidInputError, match="MAX_LORENZ_POINTS"):
        lorenz_curve([1.0, 2.0], points=points)
    with pytest.raises(InvalidInputError, match="MAX_LORENZ_POINTS"):
        concentration([1.0, 2.0], points=points)
    assert limit is not None and len(lorenz_curve([1.0, 2.0], points=limit)[0]) == limit


def test_clv_horizon_is_bounded(fitted_pair: tuple[Any, Any, Any]) -> None:
    from clvkit.valuation import clv
    module = importlib.import_module("clvkit.valuation.value.clv")

    bg, gg, s = fitted_pair
    with pytest.raises(InvalidInputError, match="MAX_HORIZON"):
        clv(bg, gg, s, horizon=10**12, discount_rate=0.01)
    # The longest horizon is valued (MAX_PATH_CELLS, once a limit on horizon x customers, is no longer enforced).
    many = s.take(np.zeros(1, dtype=np.intp))
    assert clv(bg, gg, many, horizon=module.MAX_HORIZON, discount_rate=0.01).clv.shape == (1,)


def test_clv_horizon_times_customers_is_no_longer_refused(fitted_pair: tuple[Any, Any, Any],
                                                          monkeypatch: Any) -> None:
    """clv() once refused horizon x customers above MAX_PATH_CELLS; its memory is bounded now, so it values them
    (the bounded memory itself: tests/test_clv_daily.py)."""
    from clvkit.valuation import clv
    module = importlib.import_module("clvkit.valuation.value.clv")

    bg, gg, s = fitted_pair
    monkeypatch.setattr(module, "MAX_PATH_CELLS", 10)
    res = clv(bg, gg, s, horizon=4, discount_rate=0.01)
    # The same values as the path, summed here: sum_k (E_k - E_{k-1}) / 1.01^k.
    path = bg.expected_purchases_path(s, np.arange(1.0, 5.0))
    steps = np.diff(np.vstack([np.zeros(len(s)), path]), axis=0)
    expected = (1.01 ** -np.arange(1.0, 5.0)) @ steps
    np.testing.assert_allclose(res.discounted_purchases, expected, rtol=1e-13)
    np.testing.assert_array_equal(res.expected_purchases, path[-1])


@pytest.mark.parametrize("n_draws", [10**12, 2**62])
def test_parameter_draws_are_bounded(n_draws: int) -> None:
    from clvkit.datasets import load_cdnow_summary
    from clvkit.valuation import BetaGeo, GammaGamma
    from clvkit.valuation.checking import parametric_bootstrap, prediction_intervals, sample_parameters

    s = load_cdnow_summary().take(np.arange(200))
    fitted = BetaGeo().fit(s)
    with pytest.raises(InvalidInputError, match="MAX_DRAWS"):
        sample_parameters(fitted, n_draws, seed=0)
    with pytest.raises(InvalidInputError, match="MAX_DRAWS"):
        prediction_intervals(fitted, s, lambda m, x: m.expected_purchases(x, 10), n_draws=n_draws, seed=0)
    with pytest.raises(InvalidInputError, match="MAX_BOOTSTRAP_DRAWS"):
        parametric_bootstrap(GammaGamma(), fitted, s, n_draws, seed=0)


def test_prediction_interval_matrix_is_bounded(monkeypatch: Any) -> None:
    from clvkit.datasets import load_cdnow_summary
    from clvkit.valuation import BetaGeo
    from clvkit.valuation.checking import prediction_intervals, uncertainty

    s = load_cdnow_summary().take(np.arange(200))
    fitted = BetaGeo().fit(s)
    monkeypatch.setattr(uncertainty, "MAX_DRAW_CELLS", 100)
    with pytest.raises(InvalidInputError, match="MAX_DRAW_CELLS"):
        prediction_intervals(fitted, s, lambda m, x: m.expected_purchases(x, 10), n_draws=50, seed=0)


def test_histogram_bins_are_bounded(fitted_pair: tuple[Any, Any, Any]) -> None:
    from clvkit.valuation.checking import frequency_histogram

    bg, _, s = fitted_pair
    with pytest.raises(InvalidInputError, match="MAX_FREQUENCY_BINS"):
        frequency_histogram(bg, s, max_frequency=10**12)


@pytest.mark.parametrize("sizes", [(10**12, 5, 10), (5, 10**12, 10), (5, 5, 10**12), (-1, 5, 10), (5, 0, 10)])
def test_synthetic_b2b_sizes_are_bounded(sizes: tuple[int, int, int]) -> None:
    from clvkit.binding import _sample

    with pytest.raises(InvalidInputError, match="generate_b2b"):
        _sample.generate_b2b(*sizes, seed=0)


def test_tracking_points_are_bounded(fitted_pair: tuple[Any, Any, Any], monkeypatch: Any) -> None:
    import datetime as dt

    from clvkit.valuation.checking import tracking

    module = importlib.import_module("clvkit.valuation.checking.tracking")
    bg, _, _ = fitted_pair
    log = {"c": ["a", "a", "b"], "t": [dt.datetime(2024, 1, 1), dt.datetime(2027, 3, 1), dt.datetime(2024, 1, 2)]}
    # In seconds, 3 years are 100 million tracking periods (x 2 first-purchase periods): refused up front.
    with pytest.raises(InvalidInputError, match="MAX_TRACKING_CELLS"):
        tracking(bg, log, customer_id="c", datetime="t", calibration_end=dt.datetime(2024, 1, 31), time_unit="s")
    monkeypatch.setattr(module, "MAX_TRACKING_CELLS", 10)
    with pytest.raises(InvalidInputError, match="MAX_TRACKING_CELLS"):
        tracking(bg, log, customer_id="c", datetime="t", calibration_end=dt.datetime(2024, 1, 31), time_unit="D")
