"""Management plots (clvkit.plotting.management) on the bundled data: what is drawn equals the result objects.

CDNOW (clvkit.datasets) gives the values: CLV from BG/NBD x Gamma-Gamma over 12 months at 1% a month, P(alive)
for the risk axis, and calibration/holdout spend for two tier snapshots. The bundled synthetic B2B sample
(clvkit.binding.load_b2b_sample, as `clvkit binding` loads it) gives the binding results. Expected numbers
come from the inputs (sorted values, codes counted by hand, holdings as a matrix), never from the plots.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.colors import Normalize, to_hex
from matplotlib.patches import Rectangle

from clvkit import InvalidInputError, MissingDependencyError
from clvkit.binding import (
    EmployeeRisk,
    TeamReport,
    load_b2b_sample,
    measure_binding,
    team_report,
    value_at_risk,
)
from clvkit.datasets import load_cdnow_summary
from clvkit.plotting import (
    plot_binding,
    plot_lorenz,
    plot_tier_migration,
    plot_value_cost,
    plot_value_risk,
)
from clvkit.plotting.management import _axis_scale, _marker_style
from clvkit.tiering import (
    AxisCut,
    FiveA,
    KeyCustomers,
    Migration,
    ThresholdCut,
    TierAssignment,
    ValueCostMatrix,
    ValueRiskMatrix,
    inventory,
    migration,
)
from clvkit.valuation import BetaGeo, GammaGamma, clv


# ---------------------------------------------------------------------------------------------- data
@pytest.fixture(autouse=True)
def _close_figures() -> Iterator[None]:
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def cdnow() -> dict[str, Any]:
    s = load_cdnow_summary()
    bg = BetaGeo().fit(s)
    values = clv(bg, GammaGamma().fit(s), s, horizon=12, discount_rate=0.01, period="M").clv
    assert s.monetary_value is not None and s.frequency_holdout is not None and s.monetary_value_holdout is not None
    return {"values": values, "p_alive": bg.probability_alive(s), "ids": s.customer_id,
            "spend_before": s.frequency * s.monetary_value,
            "spend_after": s.frequency_holdout * s.monetary_value_holdout}


@pytest.fixture(scope="module")
def five_a(cdnow: dict[str, Any]) -> TierAssignment:
    return FiveA().assign(value=cdnow["values"], customer_id=cdnow["ids"])


@pytest.fixture(scope="module")
def tier_moves(cdnow: dict[str, Any]) -> tuple[TierAssignment, TierAssignment, Migration]:
    # 5A tiers by the dollars spent on repeat purchases in the 39 calibration weeks and in the 39 holdout weeks.
    policy = FiveA(cut=ThresholdCut(thresholds=(1.0, 50.0, 150.0, 400.0)))
    before = policy.assign(value=cdnow["spend_before"], customer_id=cdnow["ids"])
    after = policy.assign(value=cdnow["spend_after"], customer_id=cdnow["ids"])
    return before, after, migration(before, after)


@pytest.fixture(scope="module")
def value_risk(cdnow: dict[str, Any]) -> TierAssignment:
    return ValueRiskMatrix().assign(value=cdnow["values"], p_alive=cdnow["p_alive"], customer_id=cdnow["ids"])


@pytest.fixture(scope="module")
def value_cost(cdnow: dict[str, Any]) -> TierAssignment:
    # CDNOW has no acquisition costs: a synthetic, seeded lognormal cost per customer.
    cost = np.random.default_rng(7).lognormal(3.0, 1.0, size=cdnow["values"].shape[0])
    return ValueCostMatrix().assign(value=cdnow["values"], cost=cost, customer_id=cdnow["ids"])


@pytest.fixture(scope="module")
def binding() -> dict[str, Any]:
    sample = load_b2b_sample()
    measures = measure_binding(sample.data)
    return {"sample": sample, "measures": measures, "risk": value_at_risk(measures, sample.values),
            "report": team_report(measures, sample.values, key_customers=sample.key_customers)}


def _x_span(patch: Any) -> tuple[float, float]:
    if isinstance(patch, Rectangle):
        return float(patch.get_x()), float(patch.get_x() + patch.get_width())
    xs = np.asarray(patch.get_xy())[:, 0]
    return float(xs.min()), float(xs.max())


def _legend_texts(ax: Any) -> list[str]:
    return [t.get_text() for t in ax.get_legend().get_texts()]


# ---------------------------------------------------------------------------------------------- the numbers
def test_inventory_cumulative_shares_are_lorenz_points_at_the_tier_boundaries(cdnow: dict[str, Any],
                                                                              five_a: TierAssignment) -> None:
    v = cdnow["values"]
    population, value = inventory(v, five_a).cumulative_shares()
    counts = np.bincount(five_a.codes, minlength=5)
    np.testing.assert_allclose(population, np.cumsum(counts) / v.shape[0], rtol=1e-15)
    np.testing.assert_allclose(value, np.cumsum(np.bincount(five_a.codes, weights=v, minlength=5)) / v.sum(),
                               rtol=1e-12)
    # tiers cut by value: the k lowest customers hold exactly the Lorenz curve's share at k / n
    lorenz = np.cumsum(np.sort(v)) / v.sum()
    np.testing.assert_allclose(value, lorenz[np.cumsum(counts) - 1], rtol=1e-12)


def test_matrix_cuts_are_the_quadrant_lines(value_risk: TierAssignment, cdnow: dict[str, Any]) -> None:
    v = cdnow["values"]
    n = v.shape[0]
    rank = int(np.floor(0.8 * n + 0.5))  # AxisCut(quantile=0.8): the first of the top 20%, 0-based ascending rank
    assert value_risk.cuts == {"value": float(np.sort(v)[rank]), "risk": 0.5}
    np.testing.assert_array_equal(value_risk.components["value"], (v >= value_risk.cuts["value"]).astype(np.int8))
    np.testing.assert_array_equal(value_risk.components["risk"], (1.0 - cdnow["p_alive"] >= 0.5).astype(np.int8))
    a = ValueCostMatrix(value_cut=AxisCut(threshold=100.0), cost_cut=AxisCut(quantile=0.5)).assign(
        value=[10.0, 500.0, 50.0, 200.0], cost=[4.0, 1.0, 3.0, 2.0])
    assert a.cuts == {"value": 100.0, "cost": 3.0}  # sorted costs 1, 2, 3, 4: the upper half starts at 3
    assert ValueRiskMatrix().assign(value=[5.0], risk=[0.7]).cuts == {"value": np.inf, "risk": 0.5}
    assert FiveA().assign([1.0, 2.0]).cuts == {}


def test_employee_mean_score_is_the_holding_weighted_score(binding: dict[str, Any]) -> None:
    m, risk = binding["measures"], binding["risk"]
    held = m.holdings().toarray()  # (customers, employees)
    weight = held.sum(axis=0)
    expected = dict(zip(m.data.employee_ids.tolist(), (m.score @ held) / np.where(weight > 0, weight, 1.0),
                        strict=True))
    for eid, got, w in zip(risk.employee_id.tolist(), risk.mean_score.tolist(), risk.customers_held.tolist(),
                           strict=True):
        if w == 0:
            assert np.isnan(got)
        else:
            assert got == pytest.approx(expected[eid], rel=1e-12)
            assert 0.0 <= got <= 100.0
    assert risk.to_columns()["mean_score"] is risk.mean_score


# ---------------------------------------------------------------------------------------------- Lorenz
def test_lorenz_draws_the_curve_the_tiers_and_the_top_shares(cdnow: dict[str, Any], five_a: TierAssignment) -> None:
    inv = inventory(cdnow["values"], five_a)
    c = inv.concentration
    assert c is not None
    ax = plot_lorenz(inv)
    curve, diagonal = ax.lines
    np.testing.assert_array_equal(curve.get_xdata(), c.lorenz_population)
    np.testing.assert_array_equal(curve.get_ydata(), c.lorenz_value)
    assert list(diagonal.get_xdata()) == [0.0, 1.0] and list(diagonal.get_ydata()) == [0.0, 1.0]
    population, value = inv.cumulative_shares()
    (boundaries,) = ax.collections
    np.testing.assert_array_equal(boundaries.get_offsets(), np.column_stack([population[:-1], value[:-1]]))
    bands = [p for p in ax.patches if p.get_label().startswith("A")]
    edges = np.concatenate([[0.0], population])
    spans = np.array([_x_span(b) for b in bands])
    np.testing.assert_allclose(spans, np.column_stack([edges[:-1], edges[1:]]), rtol=1e-15)
    # legend: highest tier first, with the inventory's shares
    expected = [f"{inv.labels[k]}: {inv.count_shares[k]:.0%} of customers, {inv.value_shares[k]:.0%} of value"
                for k in range(4, -1, -1)]
    assert _legend_texts(ax)[:5] == expected
    assert expected[0] == "A1: 5% of customers, 42% of value"
    texts = [t.get_text() for t in ax.texts]
    assert "top 20% hold 71.3%" in "\n".join(texts) and f"{c.top_shares[0.2]:.1%}" == "71.3%"
    assert [t for t in texts if t in inv.labels] == list(inv.labels)  # tier names above the bands
    assert ax.get_title() == f"Value concentration (FiveA): Gini {c.gini:.3f}"
    assert ax.get_xlim() == (0.0, 1.0) and ax.get_ylim() == (0.0, 1.0)
    assert ax.xaxis.get_major_formatter()(0.2, 0) == "20%"


def test_lorenz_of_key_customers_marks_the_one_boundary(cdnow: dict[str, Any]) -> None:
    v = cdnow["values"]
    a = KeyCustomers().assign(value=v, customer_id=cdnow["ids"])
    ax = plot_lorenz(inventory(v, a))
    n_key = KeyCustomers().n_key(v.shape[0])
    others = np.sort(v)[: v.shape[0] - n_key].sum() / v.sum()  # the key customers are the most valuable
    np.testing.assert_allclose(ax.collections[0].get_offsets(), [[(v.shape[0] - n_key) / v.shape[0], others]],
                               rtol=1e-12)


def test_lorenz_of_a_concentration_alone(cdnow: dict[str, Any], five_a: TierAssignment) -> None:
    c = inventory(cdnow["values"], five_a).concentration
    assert c is not None
    ax = plot_lorenz(c, title="")
    assert len(ax.lines) == 2 and not ax.collections and not ax.patches
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), c.lorenz_value)
    assert ax.get_title() == ""


def test_lorenz_refuses_what_it_cannot_mark(value_risk: TierAssignment, five_a: TierAssignment) -> None:
    with pytest.raises(InvalidInputError, match="not ordered"):
        plot_lorenz(inventory(value_risk.features["value"], value_risk))
    with pytest.raises(InvalidInputError, match="negative"):
        plot_lorenz(inventory([-1.0, 2.0], KeyCustomers().assign([-1.0, 2.0])))
    with pytest.raises(InvalidInputError, match=r"inventory\(values, assignment\)"):
        plot_lorenz(five_a)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="'title'"):
        plot_lorenz(inventory([1.0, 2.0], KeyCustomers().assign([1.0, 2.0])), title=3)  # type: ignore[arg-type]
    assert not plt.get_fignums()  # refused before any figure was made


# ---------------------------------------------------------------------------------------------- migration
def test_migration_heat_map_is_the_rates_highest_tier_first(
        tier_moves: tuple[TierAssignment, TierAssignment, Migration]) -> None:
    before, after, m = tier_moves
    k = 5
    by_hand = np.zeros((k, k), dtype=np.int64)
    for b, a in zip(before.codes.tolist(), after.codes.tolist(), strict=True):
        by_hand[b, a] += 1
    ax = plot_tier_migration(m)
    image = ax.images[0].get_array()
    np.testing.assert_array_equal(image, m.rates[::-1, ::-1])
    np.testing.assert_allclose(image, (by_hand / by_hand.sum(axis=1, keepdims=True))[::-1, ::-1], rtol=1e-15)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["A1", "A2", "A3", "A4", "A5"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["A1", "A2", "A3", "A4", "A5"]
    cells = [t.get_text() for t in ax.texts]
    assert cells[0] == f"{by_hand[4, 4] / by_hand[4].sum():.0%}\n{by_hand[4, 4]:,}"  # A1 -> A1
    assert cells[-1] == f"{by_hand[0, 0] / by_hand[0].sum():.0%}\n{by_hand[0, 0]:,}"  # A5 -> A5
    stay = np.trace(by_hand) / by_hand.sum()
    up = np.triu(by_hand, 1).sum() / by_hand.sum()
    assert ax.get_title().endswith(f"{stay:.0%} stayed, {up:.0%} up, {1 - stay - up:.0%} down")
    assert ax.images[0].get_clim() == (0.0, 1.0)


def test_migration_by_counts_and_unordered_cells(tier_moves: tuple[TierAssignment, TierAssignment, Migration],
                                                 cdnow: dict[str, Any]) -> None:
    _, _, m = tier_moves
    ax = plot_tier_migration(m, normalize=False, annotate=False)
    np.testing.assert_array_equal(ax.images[0].get_array(), m.counts[::-1, ::-1])
    assert not ax.texts
    # matrix cells are not ordered: code order, no up/down
    v, p = cdnow["values"], cdnow["p_alive"]
    matrix = ValueRiskMatrix()
    cells = migration(matrix.assign(value=v, p_alive=p), matrix.assign(value=v, p_alive=np.sqrt(p)))
    ax = plot_tier_migration(cells)
    np.testing.assert_array_equal(ax.images[0].get_array(), cells.rates)
    assert [t.get_text() for t in ax.get_yticklabels()] == list(ValueRiskMatrix().labels)
    assert "up" not in ax.get_title()


def test_migration_refuses_bad_arguments(tier_moves: tuple[TierAssignment, TierAssignment, Migration]) -> None:
    before, _, m = tier_moves
    with pytest.raises(InvalidInputError, match=r"migration\(before, after\)"):
        plot_tier_migration(before)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="'normalize'"):
        plot_tier_migration(m, normalize="rows")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="'annotate'"):
        plot_tier_migration(m, annotate=1)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------- matrices
def test_value_risk_scatter_is_the_assignment(value_risk: TierAssignment, cdnow: dict[str, Any]) -> None:
    ax = plot_value_risk(value_risk)
    v, risk = cdnow["values"], 1.0 - cdnow["p_alive"]
    assert len(ax.collections) == 4
    for code, points in enumerate(ax.collections):  # one scatter per quadrant, in code order
        mask = (v >= value_risk.cuts["value"]) * 2 + (risk >= 0.5) == code
        np.testing.assert_array_equal(points.get_offsets(), np.column_stack([v[mask], risk[mask]]))
    vertical, horizontal = ax.lines
    assert list(vertical.get_xdata()) == [value_risk.cuts["value"]] * 2
    assert list(horizontal.get_ydata()) == [0.5, 0.5]
    counts = value_risk.counts()
    assert _legend_texts(ax)[3] == f"rescue: high value, high risk, {counts[3]:,} ({counts[3] / v.shape[0]:.0%})"
    assert {t.get_text() for t in ax.texts} == {"MAINTAIN", "LET GO", "NURTURE", "RESCUE"}
    # CLV from ~0 to ~1,000: a symmetric log axis (zero-ish values stay on it), risk in percent
    assert ax.get_xscale() == "symlog" and ax.get_yscale() == "linear"
    assert ax.yaxis.get_major_formatter()(0.5, 0) == "50%"
    size, alpha = _marker_style(v.shape[0])
    assert ax.collections[0].get_alpha() == alpha < 0.5 and ax.collections[0].get_sizes()[0] == size


def test_value_cost_scatter_is_the_assignment(value_cost: TierAssignment) -> None:
    ax = plot_value_cost(value_cost, value_scale="linear")
    v, cost = value_cost.features["value"], value_cost.features["cost"]
    for code, points in enumerate(ax.collections):
        np.testing.assert_array_equal(points.get_offsets(), np.column_stack([v, cost])[value_cost.codes == code])
    assert list(ax.lines[0].get_xdata()) == [value_cost.cuts["value"]] * 2
    assert list(ax.lines[1].get_ydata()) == [value_cost.cuts["cost"]] * 2
    assert value_cost.cuts["cost"] == float(np.sort(cost)[int(np.floor(0.5 * cost.shape[0] + 0.5))])
    assert {t.get_text() for t in ax.texts} == {"ROUTINE", "COSTLY", "CONTESTED", "STRATEGIC"}
    assert ax.get_xscale() == "linear" and ax.get_yscale() == "log"  # lognormal cost spans two decades


def test_matrix_plots_refuse_the_other_matrix_and_bad_scales(
        value_risk: TierAssignment, value_cost: TierAssignment, five_a: TierAssignment) -> None:
    with pytest.raises(InvalidInputError, match=r"plot_value_cost\(\)"):
        plot_value_risk(value_cost)
    with pytest.raises(InvalidInputError, match=r"plot_value_risk\(\)"):
        plot_value_cost(value_risk)
    with pytest.raises(InvalidInputError, match="FiveA"):
        plot_value_risk(five_a)
    with pytest.raises(InvalidInputError, match="TierAssignment"):
        plot_value_risk({"value": [1.0]})  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="'value_scale'"):
        plot_value_risk(value_risk, value_scale="loglog")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match=r"'risk_scale'.*zero or negative"):
        plot_value_risk(value_risk, risk_scale="log")  # customers with P(alive) = 1 have risk 0
    assert not plt.get_fignums()


def test_matrix_of_no_customer_or_one(tmp_path: Path) -> None:
    for values, risks in (([], []), ([5.0], [0.7])):
        a = ValueRiskMatrix().assign(value=np.array(values), risk=np.array(risks))
        ax = plot_value_risk(a)
        assert sum(len(c.get_offsets()) for c in ax.collections) == len(values)
        # a quantile cut of an empty or one-customer batch is infinite: no value line, the risk line stays
        assert [list(line.get_ydata()) for line in ax.lines] == [[0.5, 0.5]]
        ax.figure.savefig(tmp_path / "m.png", dpi=40)


def test_scale_choice() -> None:
    where = "test"
    assert _axis_scale(np.array([1.0, 2.0, 50.0]), "auto", "value", where) == ("linear", 0.0)  # < 2 decades
    assert _axis_scale(np.geomspace(1.0, 1000.0, 200), "auto", "value", where) == ("log", 0.0)
    x = np.concatenate([[0.0], np.geomspace(3.0, 3000.0, 199)])  # a zero: symmetric log, linear below 1
    assert _axis_scale(x, "auto", "value", where) == ("symlog", 1.0)
    assert _axis_scale(np.array([-5.0, 1.0, 1000.0]), "auto", "value", where) == ("linear", 0.0)
    assert _axis_scale(np.zeros(3), "auto", "value", where) == ("linear", 0.0)
    assert _axis_scale(np.array([1.0, 2.0]), "log", "value", where) == ("log", 0.0)
    assert _axis_scale(np.array([-50.0, 0.0, 20.0, 3.0]), "symlog", "value", where) == ("symlog", 1.0)
    assert _axis_scale(np.zeros(2), "symlog", "value", where) == ("symlog", 1.0)
    assert _axis_scale(np.array([1.0, 2.0, 1000.0]), "linear", "value", where) == ("linear", 0.0)
    with pytest.raises(InvalidInputError, match="'value_scale'"):
        _axis_scale(np.array([0.0, 2.0]), "log", "value", where)


# ---------------------------------------------------------------------------------------------- binding
def test_binding_bars_are_the_value_at_risk(binding: dict[str, Any]) -> None:
    risk: EmployeeRisk = binding["risk"]
    ax = plot_binding(risk, top=5)
    at_risk, alone = ax.containers
    assert [b.get_width() for b in at_risk] == risk.value_at_risk[:5].tolist()
    assert [b.get_width() for b in alone] == risk.sole_value[:5].tolist()
    assert [b.get_y() + b.get_height() / 2 for b in at_risk] == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert ax.yaxis_inverted()  # largest value at risk at the top
    cmap, norm = matplotlib.colormaps["RdYlGn"], Normalize(0.0, 100.0)
    assert [to_hex(b.get_facecolor()) for b in at_risk] == [to_hex(cmap(norm(s))) for s in risk.mean_score[:5]]
    names = [f"{e} ({t})" for e, t in zip(risk.employee_id[:5].tolist(), risk.team[:5].tolist(), strict=True)]
    assert [t.get_text() for t in ax.get_yticklabels()] == names
    first = ax.texts[0].get_text()
    assert first == f"{risk.share_of_exposed[0]:.0%} · {risk.customers_sole[0]} alone · score {risk.mean_score[0]:.0f}"
    # the ranking really is by value at risk (independent of the plot: the share rule summed by hand)
    held = binding["measures"].holdings().toarray()
    by_hand = dict(zip(binding["measures"].data.employee_ids.tolist(), binding["sample"].values @ held, strict=True))
    assert [by_hand[e] for e in risk.employee_id[:5].tolist()] == pytest.approx(risk.value_at_risk[:5].tolist())
    assert max(by_hand.values()) == pytest.approx(at_risk[0].get_width())
    assert "top 5 of 14 employees" in ax.get_title()


def test_binding_from_a_team_report_shows_every_employee(binding: dict[str, Any]) -> None:
    report: TeamReport = binding["report"]
    ax = plot_binding(report, top=None)
    assert [b.get_width() for b in ax.containers[0]] == report.risk.value_at_risk.tolist()
    idle = [i for i, s in enumerate(report.risk.mean_score.tolist()) if np.isnan(s)]
    for i in idle:  # employees holding no account: grey, "no accounts"
        assert to_hex(ax.containers[0][i].get_facecolor()) == "#c8c8c8"
        assert ax.texts[i].get_text().endswith("no accounts")


def test_binding_refuses_bad_arguments(binding: dict[str, Any]) -> None:
    with pytest.raises(InvalidInputError, match=r"value_at_risk\(measures, values\)"):
        plot_binding(binding["measures"])  # type: ignore[arg-type]
    for top in (0, -1, True, 2.5, "3"):
        with pytest.raises(InvalidInputError, match="'top'"):
            plot_binding(binding["risk"], top=top)  # type: ignore[arg-type]
    assert not plt.get_fignums()


# ---------------------------------------------------------------------------------------------- all plots
def _all_plots(cdnow: dict[str, Any], five_a: TierAssignment, tier_moves: Any, value_risk: TierAssignment,
               value_cost: TierAssignment, binding: dict[str, Any]) -> list[tuple[Any, Any]]:
    return [(plot_lorenz, inventory(cdnow["values"], five_a)), (plot_tier_migration, tier_moves[2]),
            (plot_value_risk, value_risk), (plot_value_cost, value_cost), (plot_binding, binding["risk"])]


def test_every_plot_draws_into_the_given_axes_and_renders(
        cdnow: dict[str, Any], five_a: TierAssignment, tier_moves: Any, value_risk: TierAssignment,
        value_cost: TierAssignment, binding: dict[str, Any], tmp_path: Path) -> None:
    for plot, result in _all_plots(cdnow, five_a, tier_moves, value_risk, value_cost, binding):
        fig, (left, right) = plt.subplots(1, 2, figsize=(12, 5))
        assert plot(result, ax=right) is right
        assert right.has_data() and not left.has_data()
        fig.savefig(tmp_path / f"{plot.__name__}.png", dpi=60)
        assert (tmp_path / f"{plot.__name__}.png").stat().st_size > 5_000
        plt.close(fig)
        own = plot(result)
        assert own.figure.get_layout_engine() is not None  # a new figure gets the constrained layout
        plt.close(own.figure)


def test_every_plot_refuses_a_non_axes(cdnow: dict[str, Any], five_a: TierAssignment, tier_moves: Any,
                                       value_risk: TierAssignment, value_cost: TierAssignment,
                                       binding: dict[str, Any]) -> None:
    for plot, result in _all_plots(cdnow, five_a, tier_moves, value_risk, value_cost, binding):
        with pytest.raises(InvalidInputError, match=r"'ax' parameter of .*matplotlib Axes"):
            plot(result, ax=plt)
        with pytest.raises(InvalidInputError, match="'title'"):
            plot(result, title=["a"])
    assert not plt.get_fignums()


def test_every_plot_names_the_plot_extra_without_matplotlib(
        monkeypatch: pytest.MonkeyPatch, cdnow: dict[str, Any], five_a: TierAssignment, tier_moves: Any,
        value_risk: TierAssignment, value_cost: TierAssignment, binding: dict[str, Any]) -> None:
    plots = _all_plots(cdnow, five_a, tier_moves, value_risk, value_cost, binding)
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.setitem(sys.modules, name, None)
    for plot, result in plots:
        with pytest.raises(MissingDependencyError, match=r"pip install 'clvkit\[plot\]'"):
            plot(result)


def test_importing_the_plots_does_not_import_matplotlib() -> None:
    code = "import sys, clvkit.plotting; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
