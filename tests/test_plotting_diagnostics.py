"""The model-diagnostic plots of clvkit.plotting and the checking results they draw.

Every plot is drawn on the bundled CDNOW data with the Agg backend and its drawn data (image arrays, bar
heights, line data) are compared with the result object it draws; the result objects are checked against
independent computations (closed forms, scipy.stats, clvkit.summarize on a truncated log, the log itself).
"""

from __future__ import annotations

import io
import math
import sys
from collections.abc import Callable, Iterator
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from scipy import integrate, stats

import clvkit
from clvkit import CustomerSummary, InvalidInputError, MissingDependencyError, plotting
from clvkit.datasets import load_cdnow_summary, load_cdnow_transactions
from clvkit.valuation import (
    BetaGeoBetaBinomParams,
    BetaGeoParams,
    FittedBetaGeo,
    FittedBetaGeoBetaBinom,
    FittedGammaGamma,
    FittedModifiedBetaGeo,
    FittedParetoNBD,
    GammaGammaParams,
    ModifiedBetaGeoParams,
    ParetoNBDParams,
)
from clvkit.valuation.checking import (
    alive_history,
    conditional_expectations,
    expected_repeat_purchases,
    frequency_histogram,
    frequency_recency_grid,
    heterogeneity_density,
    interpurchase_times,
    spend_distribution,
    tracking,
)

# Published estimates on CDNOW (weeks): BG/NBD, Fader, Hardie & Lee (2005); Pareto/NBD, same paper; Gamma-Gamma,
# Fader & Hardie (2013); MBG/NBD, BTYDplus. BG/BB: donations, Fader, Hardie & Shang (2010).
BG = FittedBetaGeo(params=BetaGeoParams(r=0.243, alpha=4.414, a=0.793, b=2.426), time_unit="W")
PNBD = FittedParetoNBD(params=ParetoNBDParams(r=0.553, alpha=10.578, s=0.606, beta=11.669), time_unit="W")
MBG = FittedModifiedBetaGeo(params=ModifiedBetaGeoParams(r=0.525, alpha=6.183, a=0.891, b=1.614), time_unit="W")
GG = FittedGammaGamma(params=GammaGammaParams(p=6.25, q=3.74, v=15.44), time_unit="W")
BGBB = FittedBetaGeoBetaBinom(params=BetaGeoBetaBinomParams(alpha=1.204, beta=0.750, gamma=0.657, delta=2.783),
                              time_unit="Y")
LOG_OPTIONS: dict[str, Any] = {"customer_id": "customer_id", "datetime": "date", "calibration_end": "1997-09-30",
                               "period": 7}


@pytest.fixture(autouse=True)
def _close_figures() -> Iterator[None]:
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def summary() -> CustomerSummary:
    return load_cdnow_summary()


@pytest.fixture(scope="module")
def log() -> dict[str, Any]:
    return load_cdnow_transactions()


@pytest.fixture(scope="module")
def tracked(log: dict[str, Any]) -> Any:
    return tracking(BG, log, **LOG_OPTIONS)


def bar_heights(ax: Any, k: int) -> np.ndarray:
    return np.array([patch.get_height() for patch in ax.containers[k]])


def bg_alive(x: float, tx: float, T: float) -> float:
    """BG/NBD P(alive), Fader, Hardie & Lee (2005), eq. (6) of their note: written out independently."""
    r, alpha, a, b = 0.243, 4.414, 0.793, 2.426
    if x == 0:
        return 1.0
    return 1.0 / (1.0 + a / (b + x - 1.0) * ((alpha + T) / (alpha + tx)) ** (r + x))


# ----------------------------------------------------------------------------------- frequency x recency
def test_frequency_recency_grid_matches_the_closed_form() -> None:
    grid = frequency_recency_grid(BG, 38.86, 10, t=2.0, n_recency=15)
    assert grid.expected_purchases.shape == grid.probability_alive.shape == (11, 15)
    np.testing.assert_allclose(grid.recency, 38.86 * np.arange(1, 16) / 15)
    for i, j in [(0, 0), (0, 14), (1, 3), (5, 14), (10, 7)]:
        tx = grid.recency[j] if i > 0 else 0.0
        assert grid.probability_alive[i, j] == pytest.approx(bg_alive(i, tx, 38.86), rel=1e-10)
        one = CustomerSummary(frequency=[i], recency=[tx], T=[38.86], time_unit="W")
        assert grid.expected_purchases[i, j] == pytest.approx(float(BG.expected_purchases(one, 2.0)[0]), rel=1e-12)
    assert grid.possible.all()
    # Row 0 is the one customer without repeat purchases.
    assert np.ptp(grid.expected_purchases[0]) == 0.0


def test_frequency_recency_grid_of_discrete_opportunities_leaves_impossible_cells_out() -> None:
    grid = frequency_recency_grid(BGBB, 6.0, 6, t=5.0)
    np.testing.assert_array_equal(grid.recency, np.arange(1.0, 7.0))
    impossible = grid.frequency[:, None] > grid.recency[None, :]
    np.testing.assert_array_equal(grid.possible, ~impossible)
    assert np.isnan(grid.expected_purchases[impossible]).all()
    assert np.isfinite(grid.probability_alive[~impossible]).all()
    # Table 6 of Fader, Hardie & Shang (2010): P(alive) 0.93 for x = 6 in 6 opportunities.
    assert grid.probability_alive[6, 5] == pytest.approx(0.93, abs=0.005)


@pytest.mark.parametrize(("plot", "field"), [(plotting.plot_frequency_recency_matrix, "expected_purchases"),
                                             (plotting.plot_probability_alive_matrix, "probability_alive")])
def test_matrix_plots_draw_the_grid(plot: Callable[..., Any], field: str, summary: CustomerSummary) -> None:
    ax = plot(BG, summary=summary)
    grid = frequency_recency_grid(BG, float(summary.T.max()), int(summary.frequency.max()))
    drawn = ax.get_images()[0].get_array()
    np.testing.assert_array_equal(np.ma.getdata(drawn), getattr(grid, field))
    assert drawn.shape == (int(summary.frequency.max()) + 1, math.ceil(float(summary.T.max())))
    left, right, bottom, top = ax.get_images()[0].get_extent()
    # Row 0 (frequency 0) at the top, as lifetimes: the first row is drawn at the extent's top, y = -0.5.
    assert ax.get_images()[0].origin == "upper"
    assert (top, bottom) == (-0.5, summary.frequency.max() + 0.5)
    assert (left + right) / 2 == pytest.approx(float(summary.T.max()) / 2 + grid.T / (2 * grid.recency.shape[0]))
    assert "weeks" in ax.get_xlabel()
    if field == "probability_alive":
        assert ax.get_images()[0].get_clim() == (0.0, 1.0)
    else:
        assert "next 1 week" in ax.get_title() and "1 weeks" not in ax.get_title()


def test_matrix_plot_masks_impossible_cells() -> None:
    ax = plotting.plot_probability_alive_matrix(BGBB, T=6.0, max_frequency=6)
    drawn = ax.get_images()[0].get_array()
    grid = frequency_recency_grid(BGBB, 6.0, 6)
    np.testing.assert_array_equal(np.ma.getmaskarray(drawn), ~grid.possible)
    np.testing.assert_array_equal(drawn.compressed(), grid.probability_alive[grid.possible])


# ----------------------------------------------------------------------------------- histograms
def test_period_transactions_bars(summary: CustomerSummary) -> None:
    ax = plotting.plot_period_transactions(BG, summary, max_frequency=7)
    hist = frequency_histogram(BG, summary, 7)
    np.testing.assert_array_equal(bar_heights(ax, 0), hist.actual)
    np.testing.assert_array_equal(bar_heights(ax, 1), hist.expected)
    # The actual bars are counts of the data.
    np.testing.assert_array_equal(bar_heights(ax, 0), np.bincount(np.minimum(summary.frequency, 7).astype(int)))
    assert [t.get_text() for t in ax.get_xticklabels()] == list(hist.labels)
    assert f"{hist.p_value:.3f}" in ax.get_title()


def test_pmf_bars_are_shares(summary: CustomerSummary) -> None:
    ax = plotting.plot_pmf(PNBD, summary, max_frequency=5)
    hist = frequency_histogram(PNBD, summary, 5)
    np.testing.assert_array_equal(bar_heights(ax, 0), hist.actual_share)
    np.testing.assert_array_equal(bar_heights(ax, 1), hist.expected_share)
    counts = np.bincount(np.minimum(summary.frequency, 5).astype(int))
    np.testing.assert_allclose(bar_heights(ax, 0), counts / len(summary), rtol=1e-14)
    assert bar_heights(ax, 1).sum() == pytest.approx(1.0, abs=1e-12)
    assert ax.get_legend_handles_labels()[1] == ["Actual", "ParetoNBD"]


def test_calibration_vs_holdout_lines(summary: CustomerSummary) -> None:
    ax = plotting.plot_calibration_purchases_vs_holdout_purchases(BG, summary, max_frequency=6)
    ce = conditional_expectations(BG, summary, 6)
    actual, model = ax.get_lines()
    np.testing.assert_array_equal(actual.get_ydata(), ce.actual)
    np.testing.assert_array_equal(model.get_ydata(), ce.predicted)
    # The actual line is the mean holdout frequency of the customers with x calibration purchases.
    assert summary.frequency_holdout is not None
    zero = summary.frequency == 0
    assert actual.get_ydata()[0] == pytest.approx(float(summary.frequency_holdout[zero].mean()), rel=1e-12)
    assert "39 weeks" in ax.get_ylabel()


# ----------------------------------------------------------------------------------- one customer
def test_alive_history_equals_summaries_of_the_truncated_log(log: dict[str, Any]) -> None:
    customer = int(np.bincount(log["customer_id"]).argmax())  # the busiest buyer
    dates = log["date"][log["customer_id"] == customer]
    end = np.datetime64("1998-06-30")
    history = alive_history(BG, dates, end=end)
    first = dates.min()
    assert history.dates[0] == first + np.timedelta64(1, "D") and history.dates[-1] == end
    for day in [history.dates[10], history.dates[200], end]:
        mine = {k: v[(log["customer_id"] == customer) & (log["date"] <= day)] for k, v in log.items()}
        s = clvkit.summarize(mine, customer_id="customer_id", datetime="date", time_unit="D",
                             observation_end=str(day)).with_time_unit("W")
        k = int((day - first).astype(int)) - 1
        assert history.frequency[k] == s.frequency[0]
        assert history.recency[k] == pytest.approx(float(s.recency[0]), rel=1e-12)
        assert history.T[k] == pytest.approx(float(s.T[0]), rel=1e-12)
        assert history.probability_alive[k] == pytest.approx(float(BG.probability_alive(s)[0]), rel=1e-12)
    ax = plotting.plot_history_alive(BG, dates, end=end)
    line = ax.get_lines()[0]
    np.testing.assert_array_equal(line.get_ydata(), history.probability_alive)
    assert len(ax.get_lines()) == 1 + np.unique(dates).shape[0]  # one marker line per purchase day
    assert ax.get_ylim() == (0.0, 1.05)


# ----------------------------------------------------------------------------------- tracking
@pytest.mark.parametrize(("plot", "cumulative"), [(plotting.plot_cumulative_transactions, True),
                                                  (plotting.plot_incremental_transactions, False)])
def test_tracking_plots_draw_the_tracking_result(plot: Callable[..., Any], cumulative: bool, log: dict[str, Any],
                                                 tracked: Any) -> None:
    kind = "cumulative" if cumulative else "incremental"
    for ax in (plot(BG, log, **LOG_OPTIONS), plot(BG, tracked)):
        actual, expected, calibration = ax.get_lines()
        np.testing.assert_array_equal(actual.get_xdata(), tracked.elapsed)
        np.testing.assert_array_equal(actual.get_ydata(), getattr(tracked, f"actual_{kind}"))
        np.testing.assert_array_equal(expected.get_ydata(), getattr(tracked, f"expected_{kind}"))
        assert calibration.get_xdata()[0] == pytest.approx(39.0)  # 39 weeks of calibration
    # The actual repeat transactions are counts of the log: purchase days after each customer's first.
    pairs = np.unique(np.stack([log["customer_id"], log["date"].astype(np.int64)]), axis=1)
    assert tracked.actual_cumulative[-1] == pairs.shape[1] - np.unique(log["customer_id"]).shape[0]


def test_tracking_overlays_models(log: dict[str, Any], tracked: Any) -> None:
    ax = plotting.plot_tracking({"BG/NBD": BG, "Pareto/NBD": PNBD, "MBG/NBD": MBG}, log, **LOG_OPTIONS)
    lines = ax.get_lines()
    assert [line.get_label() for line in lines] == ["Actual", "BG/NBD", "Pareto/NBD", "MBG/NBD",
                                                     "End of calibration"]
    np.testing.assert_array_equal(lines[0].get_ydata(), tracked.actual_incremental)
    for line, model in zip(lines[1:4], [BG, PNBD, MBG], strict=True):
        np.testing.assert_array_equal(line.get_ydata(), tracking(model, log, **LOG_OPTIONS).expected_incremental)
    ax = plotting.plot_tracking([BG, PNBD], log, cumulative=True, **LOG_OPTIONS)
    assert [line.get_label() for line in ax.get_lines()][:3] == ["Actual", "BetaGeo", "ParetoNBD"]
    np.testing.assert_array_equal(ax.get_lines()[1].get_ydata(), tracked.expected_cumulative)
    single = plotting.plot_tracking(BG, log, **LOG_OPTIONS)
    assert [line.get_label() for line in single.get_lines()][:2] == ["Actual", "BetaGeo"]


# ----------------------------------------------------------------------------------- model curves
@pytest.mark.parametrize(("model", "which", "reference", "mean"), [
    (BG, "transaction_rate", stats.gamma(a=0.243, scale=1 / 4.414), 0.243 / 4.414),
    (BG, "dropout", stats.beta(0.793, 2.426), 0.793 / (0.793 + 2.426)),
    (MBG, "dropout", stats.beta(0.891, 1.614), 0.891 / (0.891 + 1.614)),
    (PNBD, "transaction_rate", stats.gamma(a=0.553, scale=1 / 10.578), 0.553 / 10.578),
    (PNBD, "dropout", stats.gamma(a=0.606, scale=1 / 11.669), 0.606 / 11.669),
    (BGBB, "transaction_rate", stats.beta(1.204, 0.750), 1.204 / (1.204 + 0.750)),
    (BGBB, "dropout", stats.beta(0.657, 2.783), 0.657 / (0.657 + 2.783)),
])
def test_heterogeneity_densities(model: Any, which: str, reference: Any, mean: float) -> None:
    d = heterogeneity_density(model, which)  # type: ignore[arg-type]
    np.testing.assert_allclose(d.density, reference.pdf(d.x), rtol=1e-12)
    assert d.mean == pytest.approx(mean, rel=1e-12)
    upper = 1.0 if d.per in ("purchase", "opportunity") else float(reference.ppf(0.99))  # probabilities: [0, 1]
    np.testing.assert_allclose(d.x, upper * (np.arange(400) + 0.5) / 400, rtol=1e-12)
    plot = (plotting.plot_transaction_rate_heterogeneity if which == "transaction_rate"
            else plotting.plot_dropout_rate_heterogeneity)
    ax = plot(model)
    curve, mean_line = ax.get_lines()
    np.testing.assert_array_equal(curve.get_ydata(), d.density)
    assert mean_line.get_xdata()[0] == d.mean
    assert d.quantity.capitalize() in ax.get_xlabel()


def test_expected_repeat_purchases_curve() -> None:
    curve = expected_repeat_purchases(BG, 78.0, n_points=79)
    np.testing.assert_array_equal(curve.t, np.linspace(0, 78, 79))
    np.testing.assert_array_equal(curve.expected, BG.expected_purchases_new_customer(curve.t))
    ax = plotting.plot_expected_repeat_purchases(BG, horizon=78.0, n_points=79, calibration_length=39.0)
    inside, beyond, boundary = ax.get_lines()
    np.testing.assert_array_equal(np.concatenate([inside.get_ydata(), beyond.get_ydata()[1:]]), curve.expected)
    assert inside.get_xdata()[-1] == beyond.get_xdata()[0] == 39.0 and boundary.get_xdata()[0] == 39.0
    ax = plotting.plot_expected_repeat_purchases(PNBD, horizon=78.0, ax=ax, label="Pareto/NBD")
    assert ax.get_lines()[-1].get_label() == "Pareto/NBD"
    # Discrete opportunities: whole horizons only.
    discrete = expected_repeat_purchases(BGBB, 5.5)
    np.testing.assert_array_equal(discrete.t, np.arange(6.0))


# ----------------------------------------------------------------------------------- spend
def test_average_spend_density_is_a_density_with_the_model_mean() -> None:
    p, q, v = 6.25, 3.74, 15.44
    for x in (1, 3, 10):
        total = integrate.quad(lambda z, x=x: float(GG.average_spend_density(z, x)), 0, np.inf)[0]
        mean = integrate.quad(lambda z, x=x: z * float(GG.average_spend_density(z, x)), 0, np.inf)[0]
        assert total == pytest.approx(1.0, abs=1e-8)
        assert mean == pytest.approx(p * v / (q - 1), rel=1e-8)
    # One transaction: spend ~ Gamma(p, nu), nu ~ Gamma(q, v) is a beta prime law scaled by v.
    z = np.array([5.0, 20.0, 80.0])
    np.testing.assert_allclose(GG.average_spend_density(z, 1), stats.betaprime(p, q, scale=v).pdf(z), rtol=1e-12)


def test_spend_distribution_plot(summary: CustomerSummary) -> None:
    sd = spend_distribution(GG, summary)
    assert summary.monetary_value is not None
    repeat = summary.frequency > 0
    np.testing.assert_array_equal(sd.observed, summary.monetary_value[repeat])
    # The histogram is a density over all repeat customers: its mass is the share below the last edge.
    mass = float(np.sum(sd.observed_density * np.diff(sd.edges)))
    assert mass == pytest.approx(np.mean(sd.observed <= sd.edges[-1]), abs=1e-12)
    # The implied density mixes each customer's own density.
    k = 57
    direct = np.mean([float(GG.average_spend_density(sd.z[k], x)) for x in summary.frequency[repeat]])
    assert sd.implied_density[k] == pytest.approx(direct, rel=1e-12)
    ax = plotting.plot_spend_distribution(GG, summary)
    np.testing.assert_array_equal(bar_heights(ax, 0), sd.observed_density)
    np.testing.assert_array_equal(ax.get_lines()[0].get_ydata(), sd.implied_density)
    np.testing.assert_array_equal(ax.get_lines()[0].get_xdata(), sd.z)


def test_interpurchase_times_from_the_log(summary: CustomerSummary, log: dict[str, Any]) -> None:
    ipt = interpurchase_times(summary)
    assert summary.customer_id is not None
    repeat_ids = summary.customer_id[summary.frequency > 0]
    for position in (0, 100, len(repeat_ids) - 1):
        days = np.unique(log["date"][(log["customer_id"] == repeat_ids[position])
                                     & (log["date"] <= np.datetime64("1997-09-30"))])
        gaps = np.diff(days).astype(float) / 7.0
        assert ipt.mean_time[position] == pytest.approx(float(gaps.mean()), rel=1e-12)
    ax = plotting.plot_interpurchase_times(summary)
    np.testing.assert_array_equal(bar_heights(ax, 0), ipt.density)
    assert ax.get_lines()[0].get_xdata()[0] == ipt.mean
    assert float(np.sum(ipt.density * np.diff(ipt.edges))) == pytest.approx(1.0)
    assert ax.get_xlabel() == "Mean time between purchases (weeks)"


# ----------------------------------------------------------------------------------- every plot
def _calls(summary: CustomerSummary, log: dict[str, Any], tracked: Any) -> dict[str, Callable[..., Any]]:
    dates = ["1997-01-01", "1997-02-01"]
    return {
        "plot_frequency_recency_matrix":
            lambda **kw: plotting.plot_frequency_recency_matrix(BG, T=39.0, max_frequency=9, **kw),
        "plot_probability_alive_matrix": lambda **kw: plotting.plot_probability_alive_matrix(BG, summary=summary, **kw),
        "plot_period_transactions": lambda **kw: plotting.plot_period_transactions(BG, summary, **kw),
        "plot_pmf": lambda **kw: plotting.plot_pmf(BG, summary, **kw),
        "plot_calibration_purchases_vs_holdout_purchases":
            lambda **kw: plotting.plot_calibration_purchases_vs_holdout_purchases(BG, summary, **kw),
        "plot_history_alive": lambda **kw: plotting.plot_history_alive(BG, dates, **kw),
        "plot_cumulative_transactions": lambda **kw: plotting.plot_cumulative_transactions(BG, tracked, **kw),
        "plot_incremental_transactions": lambda **kw: plotting.plot_incremental_transactions(BG, tracked, **kw),
        "plot_tracking": lambda **kw: plotting.plot_tracking([BG], log, **LOG_OPTIONS, **kw),
        "plot_transaction_rate_heterogeneity": lambda **kw: plotting.plot_transaction_rate_heterogeneity(BG, **kw),
        "plot_dropout_rate_heterogeneity": lambda **kw: plotting.plot_dropout_rate_heterogeneity(PNBD, **kw),
        "plot_expected_repeat_purchases": lambda **kw: plotting.plot_expected_repeat_purchases(BG, horizon=52, **kw),
        "plot_spend_distribution": lambda **kw: plotting.plot_spend_distribution(GG, summary, **kw),
        "plot_interpurchase_times": lambda **kw: plotting.plot_interpurchase_times(summary, **kw),
    }


PLOTS = sorted(_calls(CustomerSummary(frequency=[0], recency=[0], T=[1], time_unit="W"), {}, None))


@pytest.fixture(scope="module")
def calls(summary: CustomerSummary, log: dict[str, Any], tracked: Any) -> dict[str, Callable[..., Any]]:
    return _calls(summary, log, tracked)


def test_every_diagnostic_is_exported() -> None:
    assert len(PLOTS) == 14
    assert set(PLOTS) <= set(plotting.__all__)
    assert all(callable(getattr(plotting, name)) for name in PLOTS)


@pytest.mark.parametrize("name", PLOTS)
def test_every_plot_honours_ax_and_returns_it(name: str, calls: dict[str, Callable[..., Any]]) -> None:
    fig, ax = plt.subplots()
    assert calls[name](ax=ax) is ax
    assert ax.has_data() and ax.get_xlabel() and ax.get_ylabel() and ax.get_title()
    new = calls[name]()
    assert new is not ax and new.figure is not fig
    fig.savefig(io.BytesIO(), format="png")  # renders without error


@pytest.mark.parametrize("name", PLOTS)
def test_every_plot_needs_matplotlib(name: str, calls: dict[str, Callable[..., Any]],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    for module in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.setitem(sys.modules, module, None)  # an import of it now fails as if not installed
    with pytest.raises(MissingDependencyError, match=r"clvkit\[plot\]"):
        calls[name]()


@pytest.mark.parametrize("name", PLOTS)
def test_every_plot_refuses_a_bad_ax(name: str, calls: dict[str, Callable[..., Any]]) -> None:
    with pytest.raises(InvalidInputError, match="'ax' parameter"):
        calls[name](ax="left")


# ----------------------------------------------------------------------------------- bad arguments
@pytest.mark.parametrize(("call", "match"), [
    (lambda s: plotting.plot_frequency_recency_matrix(BG), "'T' and 'max_frequency', or a 'summary'"),
    (lambda s: plotting.plot_frequency_recency_matrix(BG, summary="s"), "CustomerSummary"),
    (lambda s: plotting.plot_frequency_recency_matrix(BG, T=-1.0, max_frequency=3), "'T' parameter"),
    (lambda s: plotting.plot_frequency_recency_matrix(BG, T=10.0, max_frequency=0), "'max_frequency' parameter"),
    (lambda s: plotting.plot_frequency_recency_matrix(BG, T=10.0, max_frequency=True), "'max_frequency' parameter"),
    (lambda s: plotting.plot_probability_alive_matrix(GG, T=10.0, max_frequency=3), "count model"),
    (lambda s: plotting.plot_probability_alive_matrix(BG, T=10.0, max_frequency=3, n_recency=0), "'n_recency'"),
    (lambda s: plotting.plot_frequency_recency_matrix(BG, T=10.0, max_frequency=3, t=-2), "'t' parameter"),
    (lambda s: plotting.plot_period_transactions(BG, "summary"), "CustomerSummary"),
    (lambda s: plotting.plot_period_transactions(BG, s, max_frequency=0), "'max_frequency'"),
    (lambda s: plotting.plot_pmf(GG, s), "count model"),
    (lambda s: plotting.plot_calibration_purchases_vs_holdout_purchases(BG, load_cdnow_summary(holdout=False)),
     "holdout columns"),
    (lambda s: plotting.plot_history_alive(BG, ["not a date"]), "'purchase_dates' parameter"),
    (lambda s: plotting.plot_history_alive(BG, []), "at least one date"),
    (lambda s: plotting.plot_history_alive(BG, ["1997-01-05"], end="1997-01-01"), "'end' parameter"),
    (lambda s: plotting.plot_history_alive(BG, ["1997-01-05", "NaT"]), "NaT"),
    (lambda s: plotting.plot_history_alive(BG, ["1900-01-05"], end="2200-01-01"), "MAX_GRID_POINTS"),
    (lambda s: plotting.plot_cumulative_transactions(BG, load_cdnow_transactions()), "calibration_end"),
    (lambda s: plotting.plot_incremental_transactions(BG, tracking(BG, load_cdnow_transactions(), **LOG_OPTIONS),
                                               period=7), "TrackingResult is already computed"),
    (lambda s: plotting.plot_tracking({}, load_cdnow_transactions(), **LOG_OPTIONS), "at least one fitted model"),
    (lambda s: plotting.plot_tracking(BG, load_cdnow_transactions(), cumulative="yes", **LOG_OPTIONS), "'cumulative'"),
    (lambda s: plotting.plot_transaction_rate_heterogeneity(GG), "mixing distributions"),
    (lambda s: plotting.plot_dropout_rate_heterogeneity("BG"), "mixing distributions"),
    (lambda s: heterogeneity_density(BG, "spend"), "'which' parameter"),  # type: ignore[arg-type]
    (lambda s: heterogeneity_density(BG, "dropout", coverage=1.0), "'coverage' parameter"),
    (lambda s: plotting.plot_expected_repeat_purchases(BG, horizon=0), "'horizon' parameter"),
    (lambda s: plotting.plot_expected_repeat_purchases(BG, horizon=10, n_points=1), "'n_points' parameter"),
    (lambda s: plotting.plot_expected_repeat_purchases(BG, horizon=10, calibration_length=10), "'calibration_length'"),
    (lambda s: plotting.plot_expected_repeat_purchases(BG, horizon=10, label=3), "'label' parameter"),
    (lambda s: plotting.plot_spend_distribution(BG, s), "average_spend_density"),
    (lambda s: plotting.plot_spend_distribution(GG, CustomerSummary(frequency=[1], recency=[1], T=[2], time_unit="W")),
     "monetary_value"),
    (lambda s: plotting.plot_spend_distribution(GG, CustomerSummary(frequency=[0], recency=[0], T=[2],
                                                             monetary_value=[0.0], time_unit="W")),
     "at least one customer"),
    (lambda s: plotting.plot_spend_distribution(GG, s, bins=0), "'bins' parameter"),
    (lambda s: plotting.plot_interpurchase_times(CustomerSummary(frequency=[0], recency=[0], T=[2], time_unit="W")),
     "repeat purchase"),
    (lambda s: plotting.plot_interpurchase_times([1, 2]), "CustomerSummary"),
    (lambda s: GG.average_spend_density(-1.0, 2), "'z' parameter"),
    (lambda s: GG.average_spend_density(10.0, 0.5), "'frequency' parameter"),
    (lambda s: GG.average_spend_density([1.0, 2.0], [1, 2, 3]), "broadcast"),
])
def test_bad_arguments_are_typed(call: Callable[[CustomerSummary], Any], match: str,
                                 summary: CustomerSummary) -> None:
    with pytest.raises(InvalidInputError, match=match):
        call(summary)


def test_weighted_summaries_draw_what_their_rows_draw(summary: CustomerSummary) -> None:
    """A compressed summary (distinct rows with weights) gives the plots the numbers of the full one."""
    compressed = summary.compress().summary
    assert len(compressed) < len(summary)
    full, weighted = spend_distribution(GG, summary), spend_distribution(GG, compressed)
    np.testing.assert_allclose(weighted.observed_density, full.observed_density, rtol=1e-12)
    np.testing.assert_allclose(weighted.implied_density, full.implied_density, rtol=1e-12)
    full_ipt, weighted_ipt = interpurchase_times(summary), interpurchase_times(compressed)
    np.testing.assert_allclose(weighted_ipt.density, full_ipt.density, rtol=1e-12)
    assert weighted_ipt.mean == pytest.approx(full_ipt.mean, rel=1e-12)
    np.testing.assert_array_equal(bar_heights(plotting.plot_pmf(BG, compressed), 0),
                                  bar_heights(plotting.plot_pmf(BG, summary), 0))


def test_alive_history_of_a_discrete_model_needs_whole_opportunities() -> None:
    # Daily steps are no whole number of yearly opportunities: the model's own typed error.
    with pytest.raises(InvalidInputError, match="whole number of transaction opportunities"):
        alive_history(BGBB, ["2000-01-01", "2002-01-01"])
    daily = FittedBetaGeoBetaBinom(params=BGBB.params, time_unit="D")
    history = alive_history(daily, ["2000-01-01", "2000-01-03"], end="2000-01-10")
    one = CustomerSummary(frequency=[1], recency=[2], T=[9], time_unit="D")
    assert history.probability_alive[-1] == pytest.approx(float(daily.probability_alive(one)[0]), rel=1e-12)
