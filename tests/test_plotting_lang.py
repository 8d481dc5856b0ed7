"""The plots in the reader's language: every plot of clvkit.plotting with ``lang="zh"`` draws the English plot's
data with the catalogue's Chinese for every text, in a CJK font, without a warning (no "Glyph missing").

The expected Chinese of each text is computed from the English plot and the catalogue alone (not from the plot
code): the English text is matched against the catalogue's message ids (placeholders as wildcards, nested
messages such as units and quadrant names translated in turn) and the Chinese message filled with the same
fields. Tests that draw Chinese glyphs are skipped, saying so, where no CJK font is installed (Debian:
``apt-get install fonts-wqy-microhei``; .ci/run installs it).
"""

from __future__ import annotations

import functools
import re
import string
from collections.abc import Callable, Iterator
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.collections import Collection
from matplotlib.image import AxesImage
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.text import Text
from matplotlib.ticker import FixedFormatter

from clvkit import Covariates, CustomerSummary, InvalidInputError, plotting
from clvkit.binding import load_b2b_sample, measure_binding, value_at_risk
from clvkit.datasets import load_cdnow_summary, load_cdnow_transactions
from clvkit.i18n import translator
from clvkit.plotting import _lang
from clvkit.tiering import (
    FiveA,
    KeyCustomers,
    ThresholdCut,
    ValueCostMatrix,
    ValueRiskMatrix,
    inventory,
    migration,
)
from clvkit.valuation import (
    BetaGeoBetaBinomParams,
    BetaGeoParams,
    FittedBetaGeo,
    FittedBetaGeoBetaBinom,
    FittedGammaGamma,
    FittedParetoNBD,
    GammaGammaParams,
    ParetoNBD,
    ParetoNBDParams,
    regularity,
)
from clvkit.valuation.checking import tracking
from clvkit.valuation.models import _paretonbd

BG = FittedBetaGeo(params=BetaGeoParams(r=0.243, alpha=4.414, a=0.793, b=2.426), time_unit="W")
PNBD = FittedParetoNBD(params=ParetoNBDParams(r=0.553, alpha=10.578, s=0.606, beta=11.669), time_unit="W")
GG = FittedGammaGamma(params=GammaGammaParams(p=6.25, q=3.74, v=15.44), time_unit="W")
BGBB = FittedBetaGeoBetaBinom(params=BetaGeoBetaBinomParams(alpha=1.204, beta=0.750, gamma=0.657, delta=2.783),
                              time_unit="Y")
LOG = {"customer_id": "customer_id", "datetime": "date", "calibration_end": "1997-09-30", "period": 7}
NO_CJK = ("no CJK font installed (none of clvkit.plotting.CJK_FONTS; Debian: apt-get install fonts-wqy-microhei): "
          "the Chinese glyphs cannot be checked here")


@pytest.fixture(autouse=True)
def _close_figures() -> Iterator[None]:
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def inputs() -> dict[str, Any]:
    s = load_cdnow_summary()
    log = load_cdnow_transactions()
    values = np.asarray(BG.expected_purchases(s, 52.0), dtype=np.float64) * 30.0
    assert s.monetary_value_holdout is not None and s.frequency_holdout is not None and s.monetary_value is not None
    before, after = s.frequency * s.monetary_value, s.frequency_holdout * s.monetary_value_holdout
    five = FiveA(cut=ThresholdCut(thresholds=(1.0, 50.0, 150.0, 400.0)))
    key = KeyCustomers()
    sample = load_b2b_sample()
    # A Pareto/NBD with two covariates, Gender tied across processes: customers simulated in four groups.
    rng = np.random.default_rng(13)
    z = np.column_stack([rng.integers(0, 2, 1500), rng.integers(0, 2, 1500)]).astype(float)
    x, tx = np.empty(1500), np.empty(1500)
    for row in np.unique(z, axis=0):
        idx = np.flatnonzero((z == row).all(axis=1))
        p = np.array([0.8, 8.0 * np.exp(-0.5 * row[1]), 0.6, 12.0 * np.exp(-0.3 * row[0])])
        x[idx], tx[idx] = _paretonbd.simulate(p, np.full(idx.shape[0], 52.0), rng)
    ids = np.arange(1500)
    cov = Covariates.static({"id": ids, "Gender": z[:, 0], "Channel": z[:, 1]}, customer_id="id",
                            columns=["Gender", "Channel"])
    with_cov = ParetoNBD().fit(CustomerSummary(x, tx, np.full(1500, 52.0), customer_id=ids, time_unit="W"),
                               purchase_covariates=cov, dropout_covariates=cov, equal=("Gender",))
    return {
        "with_covariates": with_cov,
        "summary": s, "log": log, "tracked": tracking(BG, log, **LOG),
        "inventory": inventory(values, FiveA().assign(values)),
        "migration": migration(five.assign(value=before), five.assign(value=after)),
        "key_migration": migration(key.assign(value=before), key.assign(value=after)),
        "value_risk": ValueRiskMatrix().assign(value=values, p_alive=BG.probability_alive(s)),
        "value_cost": ValueCostMatrix().assign(
            value=values, cost=np.random.default_rng(7).lognormal(3.0, 1.0, size=values.shape[0])),
        "risk": value_at_risk(measure_binding(sample.data), sample.values),
        "regularity": regularity(log, customer_id="customer_id", datetime="date"),
    }


# Every public plot function, drawn on the bundled data in the language given.
PLOTS: dict[str, Callable[[dict[str, Any], str | None], Any]] = {
    "plot_frequency_recency_matrix": lambda d, lang: plotting.plot_frequency_recency_matrix(
        BG, summary=d["summary"], lang=lang),
    "plot_probability_alive_matrix": lambda d, lang: plotting.plot_probability_alive_matrix(
        BG, summary=d["summary"], lang=lang),
    "plot_period_transactions": lambda d, lang: plotting.plot_period_transactions(BG, d["summary"], lang=lang),
    "plot_pmf": lambda d, lang: plotting.plot_pmf(BG, d["summary"], lang=lang),
    "plot_coefficients": lambda d, lang: plotting.plot_coefficients(d["with_covariates"], lang=lang),
    "plot_calibration_purchases_vs_holdout_purchases": lambda d, lang: (
        plotting.plot_calibration_purchases_vs_holdout_purchases(BG, d["summary"], lang=lang)),
    "plot_history_alive": lambda d, lang: plotting.plot_history_alive(
        BG, ["1997-01-01", "1997-02-01"], end="1997-06-30", lang=lang),
    "plot_cumulative_transactions": lambda d, lang: plotting.plot_cumulative_transactions(
        BG, d["tracked"], lang=lang),
    "plot_incremental_transactions": lambda d, lang: plotting.plot_incremental_transactions(
        BG, d["tracked"], lang=lang),
    "plot_tracking": lambda d, lang: plotting.plot_tracking(
        {"BG/NBD": BG, "Pareto/NBD": PNBD}, d["log"], **LOG, cumulative=True, lang=lang),
    "plot_transaction_rate_heterogeneity": lambda d, lang: plotting.plot_transaction_rate_heterogeneity(
        BGBB, lang=lang),
    "plot_dropout_rate_heterogeneity": lambda d, lang: plotting.plot_dropout_rate_heterogeneity(BG, lang=lang),
    "plot_expected_repeat_purchases": lambda d, lang: plotting.plot_expected_repeat_purchases(
        BG, horizon=78.0, calibration_length=39.0, lang=lang),
    "plot_spend_distribution": lambda d, lang: plotting.plot_spend_distribution(GG, d["summary"], lang=lang),
    "plot_interpurchase_times": lambda d, lang: plotting.plot_interpurchase_times(d["summary"], lang=lang),
    "plot_lorenz": lambda d, lang: plotting.plot_lorenz(d["inventory"], lang=lang),
    "plot_tier_migration": lambda d, lang: plotting.plot_tier_migration(d["key_migration"], lang=lang),
    "plot_value_risk": lambda d, lang: plotting.plot_value_risk(d["value_risk"], lang=lang),
    "plot_value_cost": lambda d, lang: plotting.plot_value_cost(d["value_cost"], lang=lang),
    "plot_binding": lambda d, lang: plotting.plot_binding(d["risk"], lang=lang),
    "plot_regularity": lambda d, lang: plotting.plot_regularity(d["regularity"], lang=lang),
}


def test_every_public_plot_is_checked() -> None:
    assert sorted(PLOTS) == sorted(name for name in plotting.__all__ if name.startswith("plot_"))


# ---------------------------------------------------------------------------------------------- expectations
@functools.cache
def _patterns() -> list[tuple[re.Pattern[str], str, int, bool]]:
    """Each catalogue message with placeholders as a regular expression, most literal text first."""
    catalogue = translator("zh")._cat._catalog  # type: ignore[attr-defined]  # gettext's parsed .mo
    patterns = []
    for msgid in catalogue:
        if not isinstance(msgid, str) or not msgid:
            continue
        parts = list(string.Formatter().parse(msgid))
        literal = "".join(text for text, _, _, _ in parts)
        if not any(name for _, name, _, _ in parts) or not literal.strip():
            continue
        names = [name for _, name, _, _ in parts if name]
        if not all(name.isidentifier() for name in names):
            continue
        regex, seen = "", set()
        for text, name, _, _ in parts:
            regex += re.escape(text)
            if name:
                regex += f"(?P={name})" if name in seen else f"(?P<{name}>.+?)"
                seen.add(name)
        patterns.append((re.compile(regex), msgid, len(literal), bool(re.search("[A-Za-z]", literal))))
    return sorted(patterns, key=lambda p: -p[2])


def _chinese(text: str, nested: bool = False) -> str:
    """What the catalogue makes of an English text: the message it is (fields translated in turn), else the
    text itself (numbers, model names, tier labels such as A1). Messages without words ("{count} ({share})")
    are taken for fields only: as a whole text they would match "Beta(a=0.793, b=2.426)"."""
    tr = translator("zh")
    if not text:
        return text
    for candidate in (text, text.lower(), text.lower().replace(" ", "_")):  # quadrant names: "LET GO" -> "let_go"
        translated = tr(candidate)
        if translated != candidate:
            return translated
    for pattern, msgid, _, words in _patterns():
        match = pattern.fullmatch(text) if words or nested else None
        if match:
            return tr(msgid, **{k: _chinese(v, nested=True) for k, v in match.groupdict().items()})
    if "\n" in text:  # titles joined from two messages
        return "\n".join(_chinese(line) for line in text.split("\n"))
    return text


def _texts(ax: Any) -> list[str]:
    """The texts of a plot: title, axis labels, legend, annotations, categorical tick labels, colour bar."""
    out: list[str] = []
    for each in ax.figure.axes:  # the plot's axes and its colour bar
        out += [each.get_title(), each.get_xlabel(), each.get_ylabel()]
        out += [t.get_text() for t in each.texts]
        legend = each.get_legend()
        if legend is not None:
            out += [legend.get_title().get_text()] + [t.get_text() for t in legend.get_texts()]
        for axis in (each.xaxis, each.yaxis):
            if isinstance(axis.get_major_formatter(), FixedFormatter):
                out += [t.get_text() for t in axis.get_ticklabels()]
    return out


def _drawn(ax: Any) -> list[Any]:
    """What a plot draws, in data coordinates: lines, collections, patches, images, limits and scales."""
    out: list[Any] = [ax.get_xlim(), ax.get_ylim(), ax.get_xscale(), ax.get_yscale()]
    for child in ax.get_children():
        if isinstance(child, Line2D):
            out.append(np.asarray(child.get_xydata()))
        elif isinstance(child, Collection):
            out.append(np.asarray(child.get_offsets()))
            out += [np.asarray(p.vertices) for p in child.get_paths()]
        elif isinstance(child, Patch) and child is not ax.patch:
            out.append(child.get_patch_transform().transform(child.get_path().vertices))
        elif isinstance(child, AxesImage):
            out.append(np.ma.getdata(child.get_array()))
    return out


def _cjk() -> str:
    path = _lang.cjk_font_file()
    if path is None:
        pytest.skip(NO_CJK)
    return path


def _has_han(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


# ---------------------------------------------------------------------------------------------- the tests
@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("name", sorted(PLOTS))
def test_chinese_plot_is_the_english_plot_in_the_catalogues_words(name: str, inputs: dict[str, Any]) -> None:
    font_file = _cjk()
    en = PLOTS[name](inputs, "en")
    zh = PLOTS[name](inputs, "zh")
    for ax in (en, zh):
        ax.figure.canvas.draw()  # render: a glyph missing from the font would warn, an error here
    english, chinese = _texts(en), _texts(zh)
    assert len(english) == len(chinese)
    assert chinese == [_chinese(t) for t in english]
    assert _has_han(zh.get_title()) and _has_han(zh.get_xlabel() + zh.get_ylabel())
    assert not any(_has_han(t) for t in english)
    # The same data drawn.
    for a, b in zip(_drawn(en), _drawn(zh), strict=True):
        if isinstance(a, np.ndarray):
            np.testing.assert_array_equal(a, b)
        else:
            assert a == b
    # Every text of the Chinese plot is drawn in the CJK font; the English plot keeps matplotlib's default.
    for text in zh.findobj(Text):
        if text.get_text():
            assert text.get_fontproperties().get_file() == font_file, text.get_text()
    assert all(t.get_fontproperties().get_file() is None for t in en.findobj(Text))


@pytest.mark.parametrize("name", sorted(PLOTS))
def test_another_language_is_a_typed_error(name: str, inputs: dict[str, Any]) -> None:
    for bad in ("fr", "ZH", 1):
        with pytest.raises(InvalidInputError, match="'lang' must be one of"):
            PLOTS[name](inputs, bad)  # type: ignore[arg-type]


@pytest.mark.filterwarnings("error")
def test_without_a_cjk_font_a_chinese_plot_is_drawn_in_english_silently(monkeypatch: pytest.MonkeyPatch,
                                                                         inputs: dict[str, Any]) -> None:
    monkeypatch.setattr(_lang, "cjk_font_file", lambda: None)
    for name in ("plot_frequency_recency_matrix", "plot_value_risk", "plot_tier_migration"):
        en = PLOTS[name](inputs, "en")
        zh = PLOTS[name](inputs, "zh")
        zh.figure.canvas.draw()
        assert _texts(zh) == _texts(en), name
        assert all(t.get_fontproperties().get_file() is None for t in zh.findobj(Text))


def test_the_locale_chooses_when_no_language_is_given(monkeypatch: pytest.MonkeyPatch,
                                                      inputs: dict[str, Any]) -> None:
    _cjk()
    monkeypatch.setenv("LANGUAGE", "zh_CN")
    assert PLOTS["plot_pmf"](inputs, None).get_title() == translator("zh")("Distribution of the number of repeat "
                                                                           "purchases")
    monkeypatch.setenv("LANGUAGE", "en_US")
    assert PLOTS["plot_pmf"](inputs, None).get_title() == "Distribution of the number of repeat purchases"


@pytest.mark.filterwarnings("error")
def test_a_chinese_plot_changes_nothing_outside_its_axes(inputs: dict[str, Any]) -> None:
    _cjk()
    before = dict(matplotlib.rcParams)
    fig, (mine, theirs) = plt.subplots(1, 2)
    mine.set_title("the user's own plot")
    plotting.plot_value_risk(inputs["value_risk"], ax=theirs, lang="zh")
    fig.canvas.draw()
    assert dict(matplotlib.rcParams) == before
    assert all(t.get_fontproperties().get_file() is None for t in mine.findobj(Text))
    later = plotting.plot_value_risk(inputs["value_risk"], lang="en")
    assert all(t.get_fontproperties().get_file() is None for t in later.findobj(Text))


def test_the_units_and_quadrants_follow_the_catalogue(inputs: dict[str, Any]) -> None:
    _cjk()
    tr = translator("zh")
    ax = plotting.plot_interpurchase_times(inputs["summary"], lang="zh")
    assert ax.get_xlabel() == tr("Mean time between purchases ({unit})", unit=tr("weeks")) == "平均购买间隔（周）"
    ax = plotting.plot_value_risk(inputs["value_risk"], lang="zh")
    corners = {t.get_text() for t in ax.texts}
    assert corners == {tr(label) for label in inputs["value_risk"].labels} == {"挽留", "培育", "保持", "不必挽留"}
    ax = plotting.plot_tier_migration(inputs["migration"], lang="zh")  # 5A labels are names, not words
    assert [t.get_text() for t in ax.get_yticklabels()] == ["A1", "A2", "A3", "A4", "A5"]


def test_the_font_is_found_when_matplotlibs_font_list_predates_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    path = _cjk()
    monkeypatch.setattr(font_manager.fontManager, "ttflist", [])
    _lang.cjk_font_file.cache_clear()
    try:
        found = _lang.cjk_font_file()
        assert found is not None and FT2Font(found).family_name in plotting.CJK_FONTS
        monkeypatch.setattr(font_manager, "findSystemFonts", lambda *a, **k: [])
        _lang.cjk_font_file.cache_clear()
        assert _lang.cjk_font_file() is None
    finally:
        monkeypatch.undo()
        _lang.cjk_font_file.cache_clear()
    assert _lang.cjk_font_file() == path


def test_the_report_draws_its_plots_in_its_language(monkeypatch: pytest.MonkeyPatch) -> None:
    from clvkit.datasets import CDNOW_CALIBRATION_END, CDNOW_OBSERVATION_END
    from clvkit.report import build_report

    asked: list[tuple[str, Any]] = []

    def spy(name: str) -> Callable[..., Any]:
        real = getattr(plotting, name)

        def plot(*args: Any, **kwargs: Any) -> Any:
            asked.append((name, kwargs.get("lang", "not given")))
            return real(*args, **kwargs)
        return plot

    for name in PLOTS:
        monkeypatch.setattr(plotting, name, spy(name))
    options: dict[str, Any] = {"customer_id": "customer_id", "datetime": "date", "monetary_value": "amount",
                               "calibration_end": CDNOW_CALIBRATION_END, "observation_end": CDNOW_OBSERVATION_END}
    build_report(load_cdnow_transactions(), **options, binding=load_b2b_sample(), lang="zh")
    # every figure of the report: the data, the models, the value, the tiers and the binding sections
    assert {name for name, _ in asked} >= {"plot_interpurchase_times", "plot_period_transactions",
                                           "plot_calibration_purchases_vs_holdout_purchases", "plot_tracking",
                                           "plot_probability_alive_matrix", "plot_frequency_recency_matrix",
                                           "plot_spend_distribution", "plot_lorenz", "plot_value_risk", "plot_binding"}
    assert {lang for _, lang in asked} == {"zh"}
