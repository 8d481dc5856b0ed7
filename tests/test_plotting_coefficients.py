"""plot_coefficients: the covariate effects exp(gamma) with Wald intervals, one row per coefficient by process.

Expected values are computed here from the fitted model's own coefficients and standard errors with
scipy.stats.norm (not the plot's scipy.special.ndtri) and math.exp, and checked against coefficient_table()'s
exp_estimate. The models are fitted on seeded simulations with known coefficients (CLVTools' link) and, where
the workspace's shared data are present, on CLVTools' apparel data (skipped, saying so, elsewhere).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.collections import LineCollection
from matplotlib.lines import Line2D
from scipy import stats

from clvkit import ContractSummary, Covariates, CustomerSummary, InvalidInputError, plotting
from clvkit.errors import ModelDomainError, NotFittedError
from clvkit.i18n import translator
from clvkit.plotting import _lang
from clvkit.valuation import BetaGeo, GammaGamma, ParetoNBD, ShiftedBetaGeo
from clvkit.valuation.models import _bgnbd, _paretonbd

HEADINGS = {"purchase": "Purchase process: \N{MULTIPLICATION SIGN} purchase rate",
            "dropout": "Dropout process: \N{MULTIPLICATION SIGN} dropout rate",
            "dropout_beta": "Dropout process: \N{MULTIPLICATION SIGN} a and b of the dropout probability",
            "spend": "Spend: \N{MULTIPLICATION SIGN} expected spend per purchase"}


@pytest.fixture(autouse=True)
def _close_figures() -> Iterator[None]:
    yield
    plt.close("all")


def _simulated(model: str, seed: int = 20261207, n: int = 3000) -> tuple[CustomerSummary, Any]:
    """Customers in four groups (Gender, Channel), drawn at their individual parameters (CLVTools' link)."""
    rng = np.random.default_rng(seed)
    z = np.column_stack([rng.integers(0, 2, n), rng.integers(0, 2, n)]).astype(float)
    gamma_p, gamma_d = np.array([0.3, 0.6]), np.array([-0.5, 0.4])
    T = rng.uniform(40.0, 80.0, n)
    x, tx = np.empty(n), np.empty(n)
    for row in np.unique(z, axis=0):
        idx = np.flatnonzero((z == row).all(axis=1))
        if model == "pnbd":
            p = np.array([0.8, 8.0 * math.exp(-row @ gamma_p), 0.6, 12.0 * math.exp(-row @ gamma_d)])
            x[idx], tx[idx] = _paretonbd.simulate(p, T[idx], rng)
        else:
            up = math.exp(row @ gamma_d)
            p = np.array([0.8, 8.0 * math.exp(-row @ gamma_p), 0.8 * up, 3.0 * up])
            x[idx], tx[idx] = _bgnbd.simulate(p, T[idx], rng)
    ids = np.arange(n) + 100
    spend = np.where(x > 0, rng.gamma(6.0, 5.0 * np.exp(0.2 * z[:, 1])), 0.0)
    summary = CustomerSummary(x, tx, T, monetary_value=spend, customer_id=ids, time_unit="W")
    cov = Covariates.static({"id": ids, "Gender": z[:, 0], "Channel": z[:, 1]}, customer_id="id",
                            columns=["Gender", "Channel"])
    return summary, cov


@pytest.fixture(scope="module")
def pnbd() -> Any:
    summary, cov = _simulated("pnbd")
    return ParetoNBD().fit(summary, purchase_covariates=cov, dropout_covariates=cov)


def _expected(model: Any, level: float) -> list[tuple[str, str, float, float, float]]:
    """(process, name, exp(estimate), lower, upper) from the model's numbers, in the model's order."""
    z = stats.norm.ppf(0.5 + level / 2)
    se = model.standard_errors
    return [(process, name, math.exp(value), math.exp(value - z * se[f"{process}.{name}"]),
             math.exp(value + z * se[f"{process}.{name}"]))
            for process, values in model.coefficients.items() for name, value in values.items()]


def _drawn(ax: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(points x, points y, interval segments (n, 2, 2), reference line x) as drawn."""
    points = [c for c in ax.get_children() if isinstance(c, Line2D) and c.get_marker() == "o"]
    px = np.concatenate([np.asarray(c.get_xdata(), dtype=float) for c in points])
    py = np.concatenate([np.asarray(c.get_ydata(), dtype=float) for c in points])
    bars = [c for c in ax.get_children() if isinstance(c, LineCollection)]
    segments = np.concatenate([np.asarray(c.get_segments(), dtype=float) for c in bars])
    reference = [c for c in ax.get_children() if isinstance(c, Line2D) and c.get_linestyle() == "--"]
    return px, py, segments, np.asarray(reference[0].get_xdata(), dtype=float)


@pytest.mark.parametrize("level", [0.9, 0.8, 0.99])
def test_points_and_wald_intervals_are_the_models_numbers(pnbd: Any, level: float) -> None:
    ax = plotting.plot_coefficients(pnbd, level=level, lang="en")
    expected = _expected(pnbd, level)
    px, py, segments, reference = _drawn(ax)
    np.testing.assert_allclose(px, [e[2] for e in expected], rtol=1e-12)
    np.testing.assert_allclose(segments[:, 0, 0], [e[3] for e in expected], rtol=1e-12)
    np.testing.assert_allclose(segments[:, 1, 0], [e[4] for e in expected], rtol=1e-12)
    # each bar on its point's row; rows top to bottom in the model's order, each tick labelled by its covariate
    np.testing.assert_array_equal(segments[:, 0, 1], py)
    np.testing.assert_array_equal(segments[:, 1, 1], py)
    assert list(ax.get_yticks()) == py.tolist()
    assert [t.get_text() for t in ax.get_yticklabels()] == [e[1] for e in expected]
    assert ax.yaxis_inverted() and np.all(np.diff(py) > 0)
    # the same factors as the coefficient table
    table = pnbd.coefficient_table()
    np.testing.assert_allclose(px, table["exp_estimate"].to_numpy(), rtol=1e-12)
    # log axis, reference line at 1 inside the limits, every interval inside the limits
    assert ax.get_xscale() == "log"
    np.testing.assert_array_equal(reference, [1.0, 1.0])
    lo, hi = ax.get_xlim()
    assert lo < min(1.0, segments[:, 0, 0].min()) and hi > max(1.0, segments[:, 1, 0].max())
    assert f"{level:.0%} Wald interval" in [t.get_text() for t in ax.get_legend().get_texts()]


def test_the_simulated_truth_lies_in_the_drawn_intervals(pnbd: Any) -> None:
    # The simulation's exp(gamma): purchase Gender 0.3, Channel 0.6; dropout Gender -0.5, Channel 0.4.
    ax = plotting.plot_coefficients(pnbd, level=0.99, lang="en")
    _, _, segments, _ = _drawn(ax)
    truth = np.exp([0.3, 0.6, -0.5, 0.4])
    assert np.all((segments[:, 0, 0] < truth) & (truth < segments[:, 1, 0]))


def test_rows_are_grouped_under_their_process_heading(pnbd: Any) -> None:
    ax = plotting.plot_coefficients(pnbd, lang="en")
    _, py, _, _ = _drawn(ax)
    headings = {t.get_text(): t.get_position()[1] for t in ax.texts}
    assert list(headings) == [HEADINGS["purchase"], HEADINGS["dropout"]]
    purchase, dropout = headings[HEADINGS["purchase"]], headings[HEADINGS["dropout"]]
    assert purchase < py[0] < py[1] < dropout < py[2] < py[3]  # y grows downwards: headings above their rows
    assert ax.get_title() == "Covariate effects of the ParetoNBD model"


def test_equal_covariates_are_marked_in_both_processes() -> None:
    summary, cov = _simulated("pnbd", seed=5, n=1500)
    tied = ParetoNBD().fit(summary, purchase_covariates=cov, dropout_covariates=cov, equal=("Gender",))
    ax = plotting.plot_coefficients(tied, lang="en")
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["Gender (equal in both processes)", "Channel"] * 2
    px, _, segments, _ = _drawn(ax)
    assert px[0] == px[2] and np.array_equal(segments[0, :, 0], segments[2, :, 0])  # one coefficient, drawn twice


def test_bgnbd_dropout_and_gamma_gamma_spend_say_what_they_scale() -> None:
    summary, cov = _simulated("bgnbd", seed=11, n=3000)
    bg = BetaGeo().fit(summary, purchase_covariates=cov, dropout_covariates=cov)
    ax = plotting.plot_coefficients(bg, lang="en")
    assert [t.get_text() for t in ax.texts] == [HEADINGS["purchase"], HEADINGS["dropout_beta"]]
    np.testing.assert_allclose(_drawn(ax)[0], [e[2] for e in _expected(bg, 0.9)], rtol=1e-12)
    spend = GammaGamma().fit(summary, spend_covariates=cov)
    ax = plotting.plot_coefficients(spend, lang="en")
    assert [t.get_text() for t in ax.texts] == [HEADINGS["spend"]]
    px, _, segments, _ = _drawn(ax)
    expected = _expected(spend, 0.9)
    np.testing.assert_allclose(px, [e[2] for e in expected], rtol=1e-12)
    np.testing.assert_allclose(segments[:, :, 0], [[e[3], e[4]] for e in expected], rtol=1e-12)


def test_sbg_churn_covariates_are_read_as_churn_odds() -> None:
    # sBG contracts with alpha_i = alpha exp(0.5 phone): theta_i ~ Beta(alpha_i, beta), lifetime ~ geometric(theta_i).
    rng = np.random.default_rng(17)
    phone = rng.integers(0, 2, 4000).astype(float)
    lifetime = rng.geometric(rng.beta(0.7 * np.exp(0.5 * phone), 1.2))
    observed = rng.integers(1, 11, 4000)
    ids = np.arange(4000)
    contracts = ContractSummary(np.minimum(lifetime, observed), lifetime <= observed, customer_id=ids, time_unit="M")
    cov = Covariates.static({"id": ids, "phone": phone}, customer_id="id", columns=["phone"])
    fitted = ShiftedBetaGeo().fit(contracts, covariates=cov)
    ax = plotting.plot_coefficients(fitted, lang="en")
    assert [t.get_text() for t in ax.texts] == ["Churn: \N{MULTIPLICATION SIGN} odds of churning (alpha/beta)"]
    px, _, segments, _ = _drawn(ax)
    expected = _expected(fitted, 0.9)
    np.testing.assert_allclose(px, [e[2] for e in expected], rtol=1e-12)
    np.testing.assert_allclose(segments[:, :, 0], [[e[3], e[4]] for e in expected], rtol=1e-12)
    _, _, wide, _ = _drawn(plotting.plot_coefficients(fitted, level=0.99, lang="en"))
    assert wide[0, 0, 0] < math.exp(0.5) < wide[0, 1, 0]  # the simulated effect


def test_draws_into_the_given_axes(pnbd: Any) -> None:
    _fig, (left, right) = plt.subplots(1, 2)
    assert plotting.plot_coefficients(pnbd, ax=right, lang="en") is right
    assert not left.lines and right.lines


def test_chinese_texts_come_from_the_catalogue(pnbd: Any) -> None:
    if _lang.cjk_font_file() is None:
        pytest.skip("no CJK font installed (Debian: apt-get install fonts-wqy-microhei): the Chinese plot is drawn "
                    "in English and cannot be checked here")
    tr = translator("zh")
    zh = plotting.plot_coefficients(pnbd, lang="zh")
    en = plotting.plot_coefficients(pnbd, lang="en")
    assert [t.get_text() for t in zh.texts] == [tr(t.get_text()) for t in en.texts] == ["购买过程：× 购买率",
                                                                                        "流失过程：× 流失率"]
    assert zh.get_title() == tr("Covariate effects of the {model} model", model="ParetoNBD")
    assert zh.get_xlabel() == "协变量每增加一个单位带来的倍数（对数刻度）"
    legend = [t.get_text() for t in zh.get_legend().get_texts()]
    assert legend == [tr("{level} Wald interval", level="90%"), tr("effect exp(coefficient)"), tr("no effect (×1)")]
    np.testing.assert_array_equal(_drawn(zh)[2], _drawn(en)[2])


def test_a_model_without_covariates_or_standard_errors_is_a_typed_error(pnbd: Any) -> None:
    summary, _ = _simulated("pnbd", seed=3, n=500)
    with pytest.raises(NotFittedError, match=r"no covariate coefficients\. Fit it with covariates"):
        plotting.plot_coefficients(ParetoNBD().fit(summary), lang="en")
    assert pnbd.fit_info is not None
    by_hand = pnbd.model_copy(update={"fit_info": None})
    with pytest.raises(NotFittedError, match=r"built from parameters.*Fit it"):
        plotting.plot_coefficients(by_hand, lang="en")
    singular = pnbd.model_copy(update={"fit_info": pnbd.fit_info.model_copy(update={"standard_errors": None})})
    with pytest.raises(ModelDomainError, match=r"no standard errors for \['purchase.Gender'"):
        plotting.plot_coefficients(singular, lang="en")
    for bad in (None, "model", summary):
        with pytest.raises(InvalidInputError, match="must be a fitted clvkit model with covariates"):
            plotting.plot_coefficients(bad, lang="en")


@pytest.mark.parametrize("level", [0.0, 1.0, -0.5, "high", float("nan")])
def test_a_level_outside_zero_one_is_a_typed_error(pnbd: Any, level: Any) -> None:
    with pytest.raises(InvalidInputError, match="'level' parameter of plot_coefficients"):
        plotting.plot_coefficients(pnbd, level=level, lang="en")


def test_a_bad_axes_or_language_is_a_typed_error(pnbd: Any) -> None:
    with pytest.raises(InvalidInputError, match="'ax' parameter of plot_coefficients"):
        plotting.plot_coefficients(pnbd, ax="left", lang="en")
    with pytest.raises(InvalidInputError, match="'lang' must be one of"):
        plotting.plot_coefficients(pnbd, lang="fr")


def test_apparel_pareto_nbd_effects(shared_data: Any) -> None:
    pd = pytest.importorskip("pandas")
    from clvkit import summarize

    trans = pd.read_csv(shared_data("apparel_trans.csv"), parse_dates=["Date"])
    frame = pd.read_csv(shared_data("apparel_static_cov.csv"))
    summary = summarize(trans[trans.Date <= "2006-12-31"], customer_id="Id", datetime="Date", time_unit="W",
                        observation_end="2006-12-31")
    static = Covariates.static(frame, customer_id="Id", columns=["Gender", "Channel"])
    fitted = ParetoNBD().fit(summary, purchase_covariates=static, dropout_covariates=static)
    ax = plotting.plot_coefficients(fitted, lang="en")
    px, _, segments, _ = _drawn(ax)
    expected = _expected(fitted, 0.9)
    np.testing.assert_allclose(px, [e[2] for e in expected], rtol=1e-12)
    np.testing.assert_allclose(segments[:, :, 0], [[e[3], e[4]] for e in expected], rtol=1e-12)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Gender", "Channel", "Gender", "Channel"]


def test_a_huge_standard_error_is_drawn_on_a_finite_axis(pnbd: Any) -> None:
    # exp(0.6 + 1.645 * 900) overflows a float, and even a finite interval over hundreds of decades would squash the
    # other rows: the axis stops at a factor 1000 either side of 1 and the bar ends in arrows there, its row says so.
    info = pnbd.fit_info
    wide = pnbd.model_copy(update={"fit_info": info.model_copy(update={
        "standard_errors": {**info.standard_errors, "purchase.Channel": 900.0}})})
    ax = plotting.plot_coefficients(wide, lang="en")
    _, _, segments, _ = _drawn(ax)
    assert np.all(np.isfinite(segments)) and np.all(segments[:, :, 0] > 0)
    np.testing.assert_allclose(segments[1, :, 0], [1e-3, 1e3], rtol=1e-9)
    lo, hi = ax.get_xlim()
    assert 1e-4 < lo < 1e-3 and 1e3 < hi < 1e4
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert [lab.endswith("(interval beyond the axis)") for lab in labels] == [False, True, False, False]
    arrows = [line for line in ax.get_lines() if line.get_marker() in ("<", ">")]
    assert sorted(line.get_marker() for line in arrows) == ["<", ">"]
    ax.figure.canvas.draw()
