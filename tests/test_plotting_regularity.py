"""clvkit.plotting.plot_regularity draws a RegularityResult: the histogram of Wheat & Morrison's statistic and the
Beta(k, k) densities of k = 1, 2, 3 and of the estimate (checked against scipy.stats and numpy's histogram)."""

from __future__ import annotations

from collections.abc import Iterator

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from scipy import stats

from clvkit import CustomerSummary, InvalidInputError, PurchaseTimes, plotting
from clvkit.valuation import regularity


@pytest.fixture(autouse=True)
def _close_figures() -> Iterator[None]:
    yield
    plt.close("all")


def _result(weights: np.ndarray | None = None):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(8)
    n = 500
    m = rng.integers(2, 6, n)
    gaps = rng.gamma(2.0, 5.0, int(m.sum()))
    offsets = np.concatenate([[0], np.cumsum(m)])
    times = np.concatenate([np.cumsum(gaps[offsets[i]:offsets[i + 1]]) for i in range(n)])
    recency = times[offsets[1:] - 1]
    pt = PurchaseTimes(origin=np.zeros(n, dtype="datetime64[ns]"), offsets=offsets, times=times, period_days=1.0,
                       unit_days=1.0)
    s = CustomerSummary(m.astype(float), recency, recency + 1.0, purchase_times=pt, weights=weights)
    return regularity(s)


def test_the_histogram_and_the_densities_are_the_results() -> None:
    res = _result()
    ax = plotting.plot_regularity(res, lang="en")
    heights = np.array([p.get_height() for p in ax.patches])
    expected, edges = np.histogram(res.wheat_statistic, bins=20, range=(0.0, 1.0), density=True)
    np.testing.assert_allclose(heights, expected, rtol=1e-12)
    np.testing.assert_allclose([p.get_x() for p in ax.patches], edges[:-1], atol=1e-15)
    lines = ax.get_lines()
    assert len(lines) == 4
    for line, k in zip(lines, (1.0, 2.0, 3.0, res.k), strict=True):
        x, y = line.get_data()
        np.testing.assert_allclose(y, stats.beta(k, k).pdf(x), rtol=1e-10)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[0] == "500 customers" and labels[1].startswith("k = 1: exponential")
    assert labels[-1] == f"Estimated k = {res.k:.2f} (maximum likelihood (all gaps, pooled k))"
    assert ax.get_title() == "Regularity of purchase timing" and ax.get_ylabel() == "Density"
    assert ax.get_xlim() == (0.0, 1.0)


def test_weights_weigh_the_histogram() -> None:
    w = np.where(np.arange(500) % 2 == 0, 3.0, 1.0)
    res = _result(w)
    ax = plotting.plot_regularity(res, lang="en")
    expected, _ = np.histogram(res.wheat_statistic, bins=20, range=(0.0, 1.0), weights=w, density=True)
    np.testing.assert_allclose([p.get_height() for p in ax.patches], expected, rtol=1e-12)
    assert ax.get_legend().get_texts()[0].get_text() == "1,000 customers"


def test_draws_into_a_given_axes_and_refuses_bad_inputs() -> None:
    res = _result()
    _, ax = plt.subplots()
    assert plotting.plot_regularity(res, ax=ax, lang="en") is ax
    with pytest.raises(InvalidInputError, match=r"needs a clvkit\.valuation\.RegularityResult"):
        plotting.plot_regularity(res.estimates[0], lang="en")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="'ax' parameter of plot_regularity"):
        plotting.plot_regularity(res, ax="left", lang="en")


def test_a_zero_estimate_draws_no_estimated_density() -> None:
    times = PurchaseTimes(origin=np.zeros(2, dtype="datetime64[ns]"), offsets=[0, 2, 4], times=[1.0, 8.0, 7.0, 8.0],
                          period_days=1.0, unit_days=1.0)
    res = regularity(CustomerSummary([2.0, 2.0], [8.0, 8.0], [9.0, 9.0], purchase_times=times), method="wheat")
    assert res.k == 0.0
    ax = plotting.plot_regularity(res, lang="en")
    assert len(ax.get_lines()) == 3 and len(ax.get_legend().get_texts()) == 4
