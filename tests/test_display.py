"""Notebook display (issue 11, scope 2): short text reprs, HTML tables, ``fitted.summary()`` and ``to_frame()``.

The expected numbers come from the objects themselves (their arrays, their fit diagnostics) and from
:func:`clvkit.valuation.checking.parameter_intervals`, never from the display code under test; the HTML is
checked for well-formedness with the standard library's parser.
"""

from __future__ import annotations

import html
import sys
from collections.abc import Callable
from html.parser import HTMLParser
from typing import Any

import numpy as np
import pytest

import clvkit._frames
from clvkit import ContractSummary, CustomerSummary, InvalidInputError
from clvkit.binding import load_b2b_sample, measure_binding, team_report
from clvkit.datasets import CDNOW_CALIBRATION_END, load_cdnow_summary, load_cdnow_transactions
from clvkit.errors import MissingDependencyError
from clvkit.tiering import FiveA, KeyCustomers, inventory
from clvkit.valuation import (
    BetaGeo,
    BetaGeoParams,
    FittedBetaGeo,
    GammaGamma,
    ParetoNBD,
    ShiftedBetaGeo,
    clv,
)
from clvkit.valuation.checking import compare, holdout_evaluation, parameter_intervals, tracking

pd = pytest.importorskip("pandas")
pl = pytest.importorskip("polars")

MAX_REPR = 300
# Fader & Hardie (2007), "How to project customer retention", Table 1: "regular" customers still active.
REGULAR_ALIVE = [1000, 631, 468, 382, 326, 297, 282, 262]


# ================================================================================== helpers
class _Checker(HTMLParser):
    """Well-formedness: every start tag closed in order; collects the text and the tag names."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.tags: set[str] = set()
        self.text: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack.append(tag)
        self.tags.add(tag)
        for name, _ in attrs:
            if name in ("src", "href") or name.startswith("on"):
                self.errors.append(f"attribute {name} on <{tag}>")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.errors.append(f"self-closing <{tag}/>")

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1] if self.stack else 'nothing'}")
        else:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse_html(markup: str) -> str:
    """Assert ``markup`` is a well-formed, self-contained fragment; return its text (entities decoded)."""
    assert isinstance(markup, str) and markup.startswith("<div") and markup.endswith("</div>")
    checker = _Checker()
    checker.feed(markup)
    checker.close()
    assert not checker.errors, checker.errors
    assert not checker.stack, f"unclosed tags: {checker.stack}"
    assert "table" in checker.tags
    assert not {"script", "style", "link", "img", "iframe"} & checker.tags
    return " ".join(checker.text)


def fmt(x: float) -> str:
    """The documented display rule: 2 decimals with thousands separators from 1,000 up, else 4 significant digits."""
    return f"{x:,.2f}" if abs(x) >= 1000 else f"{x:.4g}"


def check_repr(obj: object) -> str:
    text = repr(obj)
    assert "\n" not in text and len(text) <= MAX_REPR, text
    return text


# ================================================================================== fixtures
@pytest.fixture(scope="module")
def cdnow() -> CustomerSummary:
    return load_cdnow_summary()


@pytest.fixture(scope="module")
def bg(cdnow: CustomerSummary) -> Any:
    return BetaGeo().fit(cdnow)


@pytest.fixture(scope="module")
def pnbd(cdnow: CustomerSummary) -> Any:
    return ParetoNBD().fit(cdnow)


@pytest.fixture(scope="module")
def gg(cdnow: CustomerSummary) -> Any:
    return GammaGamma().fit(cdnow)


@pytest.fixture(scope="module")
def contracts() -> ContractSummary:
    return ContractSummary.from_survival_counts(REGULAR_ALIVE, time_unit="Y")


@pytest.fixture(scope="module")
def sbg(contracts: ContractSummary) -> Any:
    return ShiftedBetaGeo().fit(contracts)


@pytest.fixture(scope="module", params=["bg", "pnbd", "gg", "sbg"])
def fitted(request: pytest.FixtureRequest) -> Any:
    return request.getfixturevalue(request.param)


@pytest.fixture(scope="module")
def value(bg: Any, gg: Any, cdnow: CustomerSummary) -> Any:
    return clv(bg, gg, cdnow, horizon=12, discount_rate=0.01, period="M")


@pytest.fixture(scope="module")
def holdout(bg: Any, cdnow: CustomerSummary) -> Any:
    return holdout_evaluation(bg, cdnow)


@pytest.fixture(scope="module")
def weekly(bg: Any) -> Any:
    return tracking(bg, load_cdnow_transactions(), customer_id="customer_id", datetime="date",
                    calibration_end=CDNOW_CALIBRATION_END, time_unit="D", period=7)


@pytest.fixture(scope="module")
def tiers(value: Any) -> Any:
    return FiveA().assign(value=value.clv, customer_id=value.customer_id)


@pytest.fixture(scope="module")
def binding() -> Any:
    sample = load_b2b_sample()
    measures = measure_binding(sample.data)
    return sample, measures, team_report(measures, sample.values, key_customers=sample.key_customers)


# ================================================================================== fitted models
def test_fitted_repr_is_short_and_shows_parameters(fitted: Any) -> None:
    text = check_repr(fitted)
    for name, v in zip(fitted.param_names, fitted.param_array(), strict=True):
        assert f"{name}={fmt(float(v))}" in text
    assert fmt(fitted.fit_info.log_likelihood) in text and "converged" in text
    assert f"{int(fitted.fit_info.n_customers):,} customers" in text
    # the covariance matrix is in neither the model's nor the fit diagnostics' repr
    first_cov = repr(fitted.fit_info.covariance[0][1])
    assert first_cov not in text and "covariance" not in repr(fitted.fit_info)


def test_hand_built_model_repr_and_html_say_not_fitted() -> None:
    model = FittedBetaGeo(params=BetaGeoParams(r=0.243, alpha=4.414, a=0.793, b=2.426), time_unit="W")
    text = check_repr(model)
    assert "r=0.243" in text and "alpha=4.414" in text and "not fitted" in text
    page = parse_html(model._repr_html_())
    assert "0.793" in page and "not fitted" in page


def test_fitted_html_has_parameter_table_and_fit_diagnostics(fitted: Any) -> None:
    page = parse_html(fitted._repr_html_())
    ci = parameter_intervals(fitted, level=0.95)
    assert "95% lower" in page and "95% upper" in page
    for k, name in enumerate(ci.names):
        assert name in page
        for number in (ci.estimate[k], ci.standard_errors[k], ci.lower[k], ci.upper[k]):
            assert fmt(float(number)) in page, (name, number)
    info = fitted.fit_info
    for number in (info.log_likelihood, info.aic, info.bic):
        assert fmt(number) in page
    assert f"{int(info.n_customers):,}" in page and "converged" in page
    assert type(fitted).__name__ in page


def test_fitted_without_standard_errors_displays_dashes(bg: Any) -> None:
    bare = bg.model_copy(update={"fit_info": bg.fit_info.model_copy(update={"covariance": None,
                                                                            "standard_errors": None})})
    page = parse_html(bare._repr_html_())
    assert "\u2014" in page and "not positive definite" in page
    assert fmt(bare.fit_info.log_likelihood) in page


@pytest.mark.parametrize("level", [0.95, 0.8])
def test_summary_equals_the_uncertainty_functions(fitted: Any, level: float) -> None:
    table = fitted.summary(level) if level != 0.95 else fitted.summary()
    ci = parameter_intervals(fitted, level=level)
    assert table.index.name == "parameter" and list(table.index) == list(fitted.param_names)
    assert list(table.columns) == ["estimate", "standard_error", "lower", "upper"]
    np.testing.assert_array_equal(table["estimate"].to_numpy(), fitted.param_array())
    np.testing.assert_allclose(table["standard_error"].to_numpy(),
                               [fitted.standard_errors[n] for n in fitted.param_names], rtol=1e-12)
    np.testing.assert_array_equal(table["standard_error"].to_numpy(), ci.standard_errors)
    np.testing.assert_array_equal(table["lower"].to_numpy(), ci.lower)
    np.testing.assert_array_equal(table["upper"].to_numpy(), ci.upper)
    assert (table["lower"] < table["estimate"]).all() and (table["estimate"] < table["upper"]).all()

    polars = fitted.summary(level, backend="polars")
    assert isinstance(polars, pl.DataFrame)
    assert polars.columns == ["parameter", "estimate", "standard_error", "lower", "upper"]
    assert polars["parameter"].to_list() == list(fitted.param_names)
    for col in ("estimate", "standard_error", "lower", "upper"):
        np.testing.assert_array_equal(polars[col].to_numpy(), table[col].to_numpy())


def test_wider_level_gives_wider_intervals(bg: Any) -> None:
    narrow, wide = bg.summary(0.5), bg.summary(0.99)
    assert (wide["lower"] < narrow["lower"]).all() and (wide["upper"] > narrow["upper"]).all()


def test_summary_of_a_model_without_uncertainty_has_missing_columns() -> None:
    model = FittedBetaGeo(params=BetaGeoParams(r=0.243, alpha=4.414, a=0.793, b=2.426), time_unit="W")
    table = model.summary()
    assert table["estimate"].tolist() == [0.243, 4.414, 0.793, 2.426]
    assert table[["standard_error", "lower", "upper"]].isna().all().all()
    polars = model.summary(backend="polars")
    assert polars["standard_error"].null_count() == 4 and polars["estimate"].to_list() == [0.243, 4.414, 0.793, 2.426]


def test_fitted_has_no_field_named_summary(bg: Any) -> None:
    assert "summary" not in type(bg).model_fields and callable(bg.summary)


@pytest.mark.parametrize("level", [0.0, 1.0, -0.5, 95, "high", None])
def test_summary_refuses_a_bad_level(bg: Any, level: Any) -> None:
    with pytest.raises(InvalidInputError, match=r"'level' parameter of FittedBetaGeo\.summary"):
        bg.summary(level)


# ================================================================================== to_frame
def _frames(value: Any, holdout: Any, tiers: Any, cdnow: CustomerSummary, binding: Any
            ) -> dict[str, tuple[Any, Any, dict[str, Any]]]:
    """name -> (object, ids, expected columns) from the objects' own arrays."""
    measures = binding[1]
    return {
        "ClvResult": (value, value.customer_id, {
            "clv": value.clv, "expected_purchases": value.expected_purchases,
            "discounted_purchases": value.discounted_purchases, "expected_spend": value.expected_spend}),
        "HoldoutEvaluation": (holdout, holdout.customer_id, {"predicted": holdout.predicted,
                                                             "actual": holdout.actual}),
        "TierAssignment": (tiers, tiers.customer_id, {
            "tier_code": tiers.codes, "tier": np.asarray(tiers.labels)[tiers.codes], "rule": tiers.reasons,
            "feature_value": tiers.features["value"]}),
        "CustomerSummary": (cdnow, cdnow.customer_id, {
            "frequency": cdnow.frequency, "recency": cdnow.recency, "T": cdnow.T,
            "monetary_value": cdnow.monetary_value, "frequency_holdout": cdnow.frequency_holdout,
            "monetary_value_holdout": cdnow.monetary_value_holdout}),
        "BindingMeasures": (measures, measures.customer_id, {
            "score": measures.score, "hierarchy_score": measures.hierarchy_score,
            "single_threaded": measures.single_threaded, "covered_user": measures.covered[:, 0],
            "days_since_last": measures.days_since_last, "top_employee": measures.top_employee}),
    }


@pytest.mark.parametrize("name", ["ClvResult", "HoldoutEvaluation", "TierAssignment", "CustomerSummary",
                                  "BindingMeasures"])
def test_to_frame_is_keyed_by_customer_id_and_holds_the_arrays(name: str, value: Any, holdout: Any, tiers: Any,
                                                                cdnow: CustomerSummary, binding: Any) -> None:
    obj, ids, expected = _frames(value, holdout, tiers, cdnow, binding)[name]
    frame = obj.to_frame()
    assert isinstance(frame, pd.DataFrame) and frame.index.name == "customer_id"
    assert frame.index.tolist() == ids.tolist() and len(frame) == len(ids)
    for col, arr in expected.items():
        got = frame[col].to_numpy()
        if arr.dtype.kind == "f":
            np.testing.assert_array_equal(got.astype(np.float64), arr, err_msg=col)
        else:  # pandas shows a missing id (None) as its own missing marker
            assert [None if pd.isna(x) else x for x in got.tolist()] == arr.tolist(), col

    polars = obj.to_frame(backend="polars")
    assert isinstance(polars, pl.DataFrame) and polars.columns[0] == "customer_id"
    assert polars["customer_id"].to_list() == ids.tolist()
    assert polars.columns[1:] == list(frame.columns)
    for col, arr in expected.items():
        if arr.dtype.kind == "f":
            np.testing.assert_array_equal(polars[col].to_numpy(), arr, err_msg=col)
        else:
            assert polars[col].to_list() == arr.tolist(), col


def test_to_frame_is_a_copy(value: Any) -> None:
    frame = value.to_frame()
    frame.iloc[0, 0] = -1.0
    assert value.clv[0] != -1.0


def test_clv_to_frame_has_weights_of_a_compressed_summary(bg: Any, gg: Any, cdnow: CustomerSummary) -> None:
    weighted = cdnow.with_weights(np.arange(1.0, len(cdnow) + 1.0))
    res = clv(bg, gg, weighted, horizon=3, discount_rate=0.01, period="M")
    np.testing.assert_array_equal(res.to_frame()["weights"].to_numpy(), weighted.weights)


def test_to_frame_without_ids_is_keyed_by_row() -> None:
    s = CustomerSummary(frequency=[0, 2, 5], recency=[0.0, 10.0, 30.0], T=[40.0, 40.0, 35.0], time_unit="W")
    frame = s.to_frame()
    assert frame.index.name == "row" and frame.index.tolist() == [0, 1, 2]
    assert frame["T"].tolist() == [40.0, 40.0, 35.0]
    polars = s.to_frame("polars")
    assert polars.columns[0] == "row" and polars["frequency"].to_list() == [0.0, 2.0, 5.0]
    a = KeyCustomers(share=0.5).assign(value=[3.0, 8.0])
    assert a.to_frame().index.name == "row" and a.to_frame()["tier"].tolist() == ["other", "key"]


def test_tier_to_frame_explain_and_components(value: Any) -> None:
    a = KeyCustomers(share=0.5).assign(value=[3.0, 8.0], customer_id=["a", "b"])
    frame = a.to_frame(explain=True)
    assert frame.loc["b", "reason"] == a.reason(1)
    from clvkit.tiering import ValueCostMatrix

    m = ValueCostMatrix().assign(value=value.clv, cost=np.linspace(0.0, 5.0, len(value.clv)),
                                 customer_id=value.customer_id)
    mf = m.to_frame()
    assert mf["value"].tolist() == m.components["value"].tolist()  # the level code, as in to_columns()
    np.testing.assert_array_equal(mf["feature_value"].to_numpy(), m.features["value"])
    np.testing.assert_array_equal(mf["feature_cost"].to_numpy(), m.features["cost"])


def test_tracking_to_frame_is_per_period(weekly: Any) -> None:
    frame = weekly.to_frame()
    assert frame.index.name == "period" and frame.index.tolist() == weekly.period.tolist()
    for col in ("elapsed", "expected_incremental", "actual_incremental", "expected_cumulative", "actual_cumulative"):
        np.testing.assert_array_equal(frame[col].to_numpy(), getattr(weekly, col), err_msg=col)
    assert frame["calibration"].tolist() == [k <= weekly.n_calibration_periods for k in weekly.period.tolist()]
    polars = weekly.to_frame(backend="polars")
    assert polars.columns[0] == "period" and polars["period"].to_list() == weekly.period.tolist()
    np.testing.assert_array_equal(polars["actual_cumulative"].to_numpy(), weekly.actual_cumulative)


@pytest.mark.parametrize("backend", ["arrow", "Pandas", "", None, 1])
def test_bad_backend_names_the_choices(backend: Any, value: Any, holdout: Any, weekly: Any, tiers: Any,
                                       bg: Any, cdnow: CustomerSummary) -> None:
    calls: list[Callable[[], Any]] = [
        lambda: value.to_frame(backend), lambda: holdout.to_frame(backend), lambda: weekly.to_frame(backend),
        lambda: tiers.to_frame(backend), lambda: cdnow.to_frame(backend), lambda: bg.summary(backend=backend)]
    for call in calls:
        with pytest.raises(InvalidInputError, match=r"'backend' parameter .*\['pandas', 'polars'\]"):
            call()


@pytest.mark.parametrize("backend", ["pandas", "polars"])
def test_missing_frame_library_names_the_extra(monkeypatch: pytest.MonkeyPatch, backend: str, value: Any,
                                               holdout: Any, weekly: Any, tiers: Any, bg: Any,
                                               cdnow: CustomerSummary, binding: Any) -> None:
    monkeypatch.setitem(sys.modules, backend, None)  # import pandas/polars now raises ImportError
    calls: list[Callable[[], Any]] = [
        lambda: value.to_frame(backend), lambda: holdout.to_frame(backend), lambda: weekly.to_frame(backend),
        lambda: tiers.to_frame(backend), lambda: cdnow.to_frame(backend), lambda: binding[1].to_frame(backend),
        lambda: bg.summary(backend=backend)]
    for call in calls:
        with pytest.raises(MissingDependencyError, match=rf"'{backend}'.*clvkit\[frames\]"):
            call()


def test_missing_dependency_through_require(monkeypatch: pytest.MonkeyPatch, value: Any) -> None:
    def no_frames(module: str) -> Any:
        raise MissingDependencyError(f"This needs the optional dependency '{module}'. Install it with: "
                                     f"pip install 'clvkit[frames]'")

    monkeypatch.setattr(clvkit._frames, "require", no_frames)
    with pytest.raises(MissingDependencyError, match="frames"):
        value.to_frame()


# ================================================================================== other results
def test_summary_displays(cdnow: CustomerSummary, contracts: ContractSummary) -> None:
    assert "n_customers=2357" in check_repr(cdnow)
    page = parse_html(cdnow._repr_html_())
    assert f"{len(cdnow):,}" in page and cdnow.time_unit in page
    for col in ("frequency", "recency", "T", "monetary_value", "frequency_holdout"):
        arr = getattr(cdnow, col)
        for number in (arr.mean(), arr.min(), arr.max()):
            assert fmt(float(number)) in page, col
    check_repr(contracts)
    page = parse_html(contracts._repr_html_())
    w = contracts.weights_or_ones()
    churned = int(w[contracts.churned].sum())
    assert f"{int(contracts.total_weight):,}" in page and f"{churned:,}" in page
    assert fmt(float(np.average(contracts.duration, weights=w))) in page


def test_clv_displays(value: Any) -> None:
    text = check_repr(value)
    assert fmt(value.customer_equity) in text and f"{len(value.clv):,} customers" in text
    page = parse_html(value._repr_html_())
    assert fmt(value.customer_equity) in page and fmt(float(value.clv.max())) in page
    best = int(value.top(1)[0])
    assert str(value.customer_id[best]) in page and fmt(float(value.expected_spend[best])) in page


def test_holdout_and_tracking_displays(holdout: Any, weekly: Any) -> None:
    text = check_repr(holdout)
    assert fmt(holdout.total_predicted) in text and fmt(holdout.total_actual) in text and fmt(holdout.rmse) in text
    page = parse_html(holdout._repr_html_())
    for number in (holdout.total_predicted, holdout.total_actual, holdout.mae, holdout.rmse, holdout.duration):
        assert fmt(number) in page
    assert f"{holdout.relative_error:.1%}" in page

    text = check_repr(weekly)
    assert f"{len(weekly.period)} periods" in text and f"{weekly.actual_cumulative[-1]:,.0f}" in text
    page = parse_html(weekly._repr_html_())
    c = weekly.n_calibration_periods
    for number in (weekly.expected_cumulative[c - 1], weekly.actual_cumulative[c - 1], weekly.expected_cumulative[-1],
                   weekly.incremental_mae):
        assert fmt(float(number)) in page
    assert f"{weekly.total_relative_error:.1%}" in page and f"{weekly.n_customers:,}" in page


def test_model_comparison_displays(bg: Any, pnbd: Any, cdnow: CustomerSummary) -> None:
    res = compare({"BG/NBD <bg>": bg, "Pareto & co": pnbd}, cdnow)
    text = check_repr(res)
    assert res.best in text
    page = parse_html(res._repr_html_())
    for row in res.rows:
        assert row["name"] in page
        for key in ("aic", "bic", "log_likelihood", "mae", "rmse", "total_predicted"):
            assert fmt(row[key]) in page, key
    markup = res._repr_html_()
    assert "&lt;bg&gt;" in markup and "Pareto &amp; co" in markup and "<bg>" not in markup


def test_tier_displays(tiers: Any, value: Any) -> None:
    text = check_repr(tiers)
    counts = tiers.counts()
    for label, n in zip(tiers.labels, counts, strict=True):
        assert f"{label} {int(n):,}" in text
    page = parse_html(tiers._repr_html_())
    for label, n in zip(tiers.labels, counts, strict=True):
        assert label in page and f"{int(n):,}" in page and f"{n / len(tiers):.1%}" in page

    inv = inventory(value, tiers)
    text = check_repr(inv)
    assert fmt(inv.total_value) in text and fmt(inv.concentration.gini) in text
    page = parse_html(inv._repr_html_())
    for k in range(len(inv.labels)):
        for number in (inv.values[k], inv.mean_values[k]):
            assert fmt(float(number)) in page
        assert f"{inv.value_shares[k]:.1%}" in page
    for share in inv.concentration.top_shares.values():
        assert f"{share:.1%}" in page


def test_tier_display_escapes_user_text() -> None:
    a = KeyCustomers(share=0.5).assign(value=[3.0, 8.0], customer_id=["<script>alert(1)</script>", "b&c"])
    for markup in (a._repr_html_(), inventory([3.0, 8.0], a)._repr_html_()):
        parse_html(markup)
        assert "<script>" not in markup


def test_binding_displays(binding: Any) -> None:
    _sample, measures, report = binding
    check_repr(measures)
    page = parse_html(measures._repr_html_())
    assert fmt(float(measures.score.mean())) in page and f"{int(measures.single_threaded.sum())}" in page
    text = check_repr(report)
    assert fmt(float(report.teams["key_value"].sum())) in text
    page = parse_html(report._repr_html_())
    top = report.employees
    assert str(top["employee_id"][0]) in page and fmt(float(top["shared_value"][0])) in page
    for team, key_value in zip(report.teams["team"].tolist(), report.teams["key_value"].tolist(), strict=True):
        assert team in page and fmt(key_value) in page


def test_display_helpers_escape_and_format() -> None:
    from clvkit import _display

    markup = _display.block("a <b>", _display.table(["x&y"], [["<i>"], [1234.5]]), note="'q'")
    text = parse_html(markup)
    assert "a <b>" in text and "x&y" in text and "<i>" in text and "1,234.50" in text
    assert "<i>" not in markup and html.escape("<i>") in markup
    assert _display.shorten("x" * 400) == "x" * 297 + "..."
