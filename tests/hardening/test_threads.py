"""Hardening: library calls change no process-wide state and give the same results on 8 threads.

``warnings.catch_warnings`` swaps the module-global ``warnings.filters`` list, so two threads inside it at
once leave each other's filter behind (issue 10: ``('ignore', None, RuntimeWarning)`` stayed in the
filters after 16 fits on 8 threads). These tests failed before the library stopped touching the filters.
"""

from __future__ import annotations

import warnings
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pytest

from clvkit import CustomerSummary
from clvkit.datasets import load_cdnow_summary
from clvkit.errors import ConvergenceWarning
from clvkit.valuation import BetaGeo, GammaGamma, ParetoNBD, clv
from clvkit.valuation.checking import parametric_bootstrap

N_THREADS = 8


@pytest.fixture(scope="module")
def cdnow() -> CustomerSummary:
    import scipy.optimize  # noqa: F401  - scipy adds its own filters once, at import: not the library's doing

    return load_cdnow_summary()


def _job(summary: CustomerSummary, k: int) -> dict[str, Any]:
    engine = [BetaGeo(), ParetoNBD()][k % 2]
    count = engine.fit(summary)
    repeaters = summary.take(summary.frequency > 0)
    spend = GammaGamma().fit(repeaters)
    value = clv(count, spend, repeaters, horizon=12, discount_rate=0.01, period=4.0)
    return {"count": count.param_array().tolist(), "ll": count.log_likelihood,
            "spend": spend.param_array().tolist(), "clv": value.clv.tolist()}


def test_fits_and_scoring_on_eight_threads_leave_the_warning_filters_alone(cdnow: CustomerSummary) -> None:
    with warnings.catch_warnings():  # the test's own filters, restored after; the library's must not change them
        warnings.simplefilter("default")
        before = list(warnings.filters)
        single = [_job(cdnow, k) for k in range(2)]
        with ThreadPoolExecutor(N_THREADS) as pool:
            threaded = list(pool.map(lambda k: _job(cdnow, k), range(2 * N_THREADS)))
        assert warnings.filters == before
    for k, got in enumerate(threaded):
        assert got == single[k % 2]


def test_bootstrap_silences_its_refit_warnings_without_touching_the_filters(cdnow: CustomerSummary) -> None:
    s = cdnow.take(np.arange(300))
    engine = BetaGeo()
    fitted = engine.fit(s)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        before = list(warnings.filters)

        def run(seed: int) -> int:
            return parametric_bootstrap(engine, fitted, s, 4, seed=seed).n_failed

        with ThreadPoolExecutor(N_THREADS) as pool:
            list(pool.map(run, range(N_THREADS)))
        assert warnings.filters == before
    assert not [w for w in caught if issubclass(w.category, ConvergenceWarning)]


def test_binding_time_parsing_leaves_the_warning_filters_alone() -> None:
    from clvkit.binding._columns import read_times

    values = np.array(["2024-01-01T10:00:00+05:00", "2024-01-02"] * 50)
    before = list(warnings.filters)

    def run(_: int) -> list[float]:
        problems: list[Any] = []
        return read_times(values, "when", problems, required=True).tolist()

    with ThreadPoolExecutor(N_THREADS) as pool:
        results = list(pool.map(run, range(4 * N_THREADS)))
    assert warnings.filters == before
    assert all(r == results[0] for r in results)
    assert results[0][0] == pytest.approx(1704085200.0)  # 05:00 UTC
