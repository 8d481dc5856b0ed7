"""clv() values customers in chunks of bounded size: the same numbers as one pass, and bounded memory."""

from __future__ import annotations

import importlib
import tracemalloc

import numpy as np
import pytest

from clvkit import CustomerSummary
from clvkit.datasets import load_cdnow_summary
from clvkit.valuation import BetaGeo, GammaGamma, ParetoNBD, clv
from clvkit.valuation.models import _generic

clv_module = importlib.import_module("clvkit.valuation.value.clv")


@pytest.mark.parametrize("engine", [BetaGeo, ParetoNBD])
def test_chunks_give_the_one_pass_numbers(engine, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    s = load_cdnow_summary()
    tm = engine().fit(s)
    gg = GammaGamma().fit(s)
    whole = clv(tm, gg, s, horizon=12, discount_rate=0.01, period=4.345)
    monkeypatch.setattr(clv_module, "_CHUNK_CELLS", 12 * 1024)  # chunks of 1,024 customers: 3 chunks here
    # count models sum the path per distinct row (or (x, T) pair) in chunks of this many path values
    monkeypatch.setattr(_generic, "PATH_CHUNK_CELLS", 12 * 100)
    chunked = clv(tm, gg, s, horizon=12, discount_rate=0.01, period=4.345)
    np.testing.assert_allclose(chunked.clv, whole.clv, rtol=1e-13)
    np.testing.assert_allclose(chunked.expected_purchases, whole.expected_purchases, rtol=1e-13)
    np.testing.assert_allclose(chunked.discounted_purchases, whole.discounted_purchases, rtol=1e-13)
    # The discounted sum written as sum_k (d_k - d_{k+1}) E_k equals the textbook sum_k d_k (E_k - E_{k-1}).
    ks = np.arange(1, 13) * 4.345
    path = tm.expected_purchases_path(s, ks)
    textbook = (1.01 ** -np.arange(1, 13)) @ np.diff(path, axis=0, prepend=0.0)
    np.testing.assert_allclose(whole.discounted_purchases, textbook, rtol=1e-12)


def test_memory_per_customer_is_bounded() -> None:
    # 400,000 customers, 24 periods: one pass would hold 24 x 400,000 float64 paths (77 MB each); in chunks the
    # peak beyond the inputs and the result arrays stays a few tens of MB.
    rng = np.random.default_rng(0)
    n = 400_000
    T = rng.integers(1, 53, n).astype(float)
    x = rng.poisson(2.0, n).astype(float)
    tx = np.where(x > 0, np.ceil(T * rng.uniform(0.01, 1, n)), 0.0)
    s = CustomerSummary(x, tx, T, time_unit="W")
    tm = BetaGeo().fit(load_cdnow_summary())
    tracemalloc.start()
    clv(tm, 50.0, s, horizon=24, discount_rate=0.01, period=4.345)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    # The result holds ~6 arrays of n float64 (19 MB); the path of one pass alone would be 77 MB.
    assert peak < 6 * 8 * n + 60 * 2**20, peak / n
