"""The HTML report (issue 11 scope 3): its numbers are the results', the page is self-contained and valid,
and a real headless Chromium renders it without a console error.

Expected numbers come from the results the report carries (``Report.results``) and from fits run here in
the test with the public API, formatted with the display's own number format; nothing is copied from the
page. The browser test skips, saying so, where Chromium or chromedriver is missing (CI installs both).
"""

from __future__ import annotations

import csv
import html.parser
import re
import shutil
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from clvkit import InvalidInputError, MissingDependencyError
from clvkit._display import number
from clvkit.binding import load_b2b_sample
from clvkit.cli import main
from clvkit.datasets import CDNOW_CALIBRATION_END, CDNOW_OBSERVATION_END, load_cdnow_transactions
from clvkit.report import Report, build_report, write_html
from clvkit.valuation import BetaGeo

pytest.importorskip("matplotlib", reason="the report needs the plot extra (matplotlib)")

OPTIONS: dict[str, Any] = {"customer_id": "customer_id", "datetime": "date", "monetary_value": "amount",
                           "calibration_end": CDNOW_CALIBRATION_END, "observation_end": CDNOW_OBSERVATION_END}
VOID = {"meta", "img", "br", "hr", "link", "input", "col", "wbr", "source", "area", "base", "embed", "param", "track"}


class _Checker(html.parser.HTMLParser):
    """Balanced tags, and every URL either an in-page anchor or an embedded PNG (no network, no script)."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.problems: list[str] = []
        self.images = 0
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            self.problems.append("script element")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"event handler {name}")
            if name in ("src", "href"):
                if tag == "img" and (value or "").startswith("data:image/png;base64,"):
                    self.images += 1
                elif not (tag == "a" and (value or "").startswith("#")):
                    self.problems.append(f"{tag} {name}={value!r:.60}")
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"unbalanced </{tag}> (open: {self.stack[-3:]})")
        else:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def check_page(page: str) -> _Checker:
    checker = _Checker()
    checker.feed(page)
    checker.close()
    assert page.startswith("<!DOCTYPE html>")
    assert not checker.problems, checker.problems[:5]
    assert not checker.stack, checker.stack
    return checker


@pytest.fixture(scope="module")
def report() -> Report:
    return build_report(load_cdnow_transactions(), **OPTIONS, binding=load_b2b_sample(), lang="en")


@pytest.fixture(scope="module")
def page(report: Report) -> str:
    return report.to_html()


def test_sections_in_order(report: Report) -> None:
    assert [s.key for s in report.sections] == ["data", "models", "value", "tiers", "key", "risk", "binding"]


def test_page_is_valid_and_self_contained(page: str) -> None:
    checker = check_page(page)
    # interpurchase, period transactions, calibration vs holdout, tracking, P(alive), frequency/recency,
    # spend, Lorenz, value x risk, binding
    assert checker.images == 10


def test_the_models_are_the_papers_and_the_page_shows_them(report: Report, page: str) -> None:
    # Fader, Hardie & Lee (2005), section 5: r = 0.243, alpha = 4.414, a = 0.793, b = 2.426 on this sample.
    bg = report.results["bg_nbd"]
    assert bg.params.r == pytest.approx(0.243, abs=5e-4)
    assert bg.params.b == pytest.approx(2.426, abs=5e-3)
    independent = BetaGeo().fit(report.results["summary"])
    assert independent.params.model_dump() == pytest.approx(bg.params.model_dump(), rel=1e-9)
    for value in bg.params.model_dump().values():
        assert number(value) in page
    assert number(bg.fit_info.log_likelihood) in page


def test_the_page_shows_the_value_tier_and_binding_numbers(report: Report, page: str) -> None:
    text = " ".join(check_page(page).text)
    result = report.results["clv"]
    assert number(result.customer_equity) in text
    assert number(report.results["inventory"].concentration.gini) in text
    best = int(result.top(1)[0])
    assert str(report.results["summary"].customer_id[best]) in text
    assert number(float(result.clv[best])) in text
    key = report.results["key_customers"]
    assert f"{int(np.count_nonzero(np.asarray(key.codes) == 1)):,} key customers" in text
    risk = report.results["value_risk"]
    counts = np.bincount(np.asarray(risk.codes), minlength=len(risk.labels))
    for label, n in zip(risk.labels, counts, strict=True):
        assert re.search(rf">{re.escape(label)}</th><td[^>]*>{n:,}<", page), label
    sample = load_b2b_sample()
    assert f"{len(sample.data.customer_ids):,} customers as of 2024-12-31" in text
    worst = report.results["value_at_risk"]
    assert worst is not None and report.results["team"] is not None


def test_the_holdout_winner_values_the_customers(report: Report) -> None:
    comparison = report.results["comparison"]
    chosen = {"BG/NBD": report.results["bg_nbd"], "Pareto/NBD": report.results["pareto_nbd"]}[comparison.best]
    summary = report.results["summary"]
    result = report.results["clv"]
    # 12 periods of one Gregorian month (365.2425 / 12 days) ahead of the calibration end, in weeks.
    assert result.horizon * result.period == pytest.approx(12 * 365.2425 / 12 / 7, rel=1e-12)
    np.testing.assert_allclose(result.expected_purchases,
                               chosen.expected_purchases(summary, 365.2425 / 7), rtol=1e-9)


def test_without_spend_or_holdout_the_report_says_so() -> None:
    log = load_cdnow_transactions()
    rep = build_report(log, customer_id="customer_id", datetime="date", top=3)
    assert [s.key for s in rep.sections] == ["data", "models", "value", "tiers", "key", "risk"]
    page = rep.to_html()
    check_page(page)
    assert "not money" in page and "comparison" not in rep.results


def test_write_html_is_atomic_and_refuses_to_replace(tmp_path: Path, report: Report) -> None:
    out = tmp_path / "r.html"
    assert write_html(out, report=report) == out
    first = out.read_bytes()
    with pytest.raises(InvalidInputError, match="force=True"):
        write_html(out, report=report)
    write_html(out, report=report, force=True)
    assert out.read_bytes() == first
    with pytest.raises(InvalidInputError, match="not both or neither"):
        write_html(tmp_path / "x.html")
    with pytest.raises(InvalidInputError, match="is a folder"):
        write_html(tmp_path, report=report)
    # A failure while building leaves nothing behind.
    with pytest.raises(InvalidInputError):
        write_html(tmp_path / "bad.html", load_cdnow_transactions(), customer_id="nope", datetime="date")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.html"]


def test_bad_arguments_are_typed(monkeypatch: pytest.MonkeyPatch) -> None:
    log = load_cdnow_transactions()
    for top in (-1, 1001, 2.5, True, "3"):
        with pytest.raises(InvalidInputError, match="'top'"):
            build_report(log, customer_id="customer_id", datetime="date", top=top)
    with pytest.raises(InvalidInputError, match="'binding'"):
        build_report(log, customer_id="customer_id", datetime="date", binding=42)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(MissingDependencyError, match=r"clvkit\[plot\]"):
        build_report(log, customer_id="customer_id", datetime="date")


def test_command_line_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = load_cdnow_transactions()
    path = tmp_path / "log.csv"
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["cust", "when", "amount"])
        w.writerows(zip(log["customer_id"].tolist(), log["date"].astype(str).tolist(), log["amount"].tolist(),
                        strict=True))
    sample = tmp_path / "b2b"
    shutil.copytree(Path(__file__).resolve().parents[1] / "clvkit" / "data" / "b2b_sample", sample)
    out = tmp_path / "report.html"
    argv = [str(path), "--customer-id", "cust", "--datetime", "when", "--monetary-value", "amount",
            "--calibration-end", "1997-09-30", "--observation-end", "1998-06-30", "--binding", str(sample),
            "--output", str(out), "-q", "--lang", "en"]
    assert main(["report", *argv]) == 0
    page = out.read_text(encoding="utf-8")
    check_page(page)
    api = build_report(load_cdnow_transactions(), **OPTIONS)
    assert number(api.results["clv"].customer_equity) in page
    capsys.readouterr()
    assert main(["report", *argv]) == 2  # exists: one line naming --force
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--force" in err[0]
    assert main(["report", *argv, "--force"]) == 0
    assert main(["report", *argv[:-2], "--output", str(path), "--force"]) == 2  # never over the input
    assert path.read_text().startswith("cust,when,amount")


def test_headless_chromium_renders_the_report(tmp_path: Path, page: str, browser: Any) -> None:
    out = tmp_path / "report.html"
    out.write_text(page, encoding="utf-8")
    browser.get(out.as_uri())
    assert browser.title == "Customer value report"
    loaded = browser.execute_script(
        "return Array.from(document.images).map(i => i.complete && i.naturalWidth > 0);")
    assert loaded and all(loaded)
    assert len(browser.execute_script("return document.querySelectorAll('section');")) == 7
    errors = [e for e in browser.get_log("browser") if e.get("level") == "SEVERE"]
    assert errors == []
    shot = tmp_path / "report.png"
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000


@pytest.fixture(scope="module")
def zh_report() -> Report:
    return build_report(load_cdnow_transactions(), **OPTIONS, binding=load_b2b_sample(), lang="zh")


def test_the_report_in_chinese_has_the_page_language_and_chinese_titles(report: Report, page: str,
                                                                        zh_report: Report) -> None:
    zh = zh_report
    zh_page = zh.to_html()
    check_page(zh_page)
    assert '<html lang="zh-CN">' in zh_page and '<html lang="en">' in page
    titles = [s.title for s in zh.sections]
    assert titles[:6] == ["客户概况", "购买模型及其检验", "客户价值评估", "5A 层级与价值集中度", "关键客户",
                          "价值与流失风险"]
    assert titles[6].startswith("绑定")
    assert zh.title == "客户价值报告"
    # the same numbers in both languages; each tier named with its rank, its treatment and the provenance
    assert zh.results["clv"].customer_equity == report.results["clv"].customer_equity
    for text in ("A1（价值最高的 5%）", "A5（价值最低的 20%）", "各层级客户怎么做", "clvkit 的默认值，可配置",
                 "张子凡"):
        assert text in zh_page
    for text in ("A1 (top 5%)", "What to do with each tier", "clvkit default, configurable"):
        assert text in page
    with pytest.raises(InvalidInputError, match="lang"):
        build_report(load_cdnow_transactions(), **OPTIONS, lang="fr")


#: Headers and labels of the results' own displays (models, summary, ClvResult, comparison, binding, team report).
_DISPLAY_WORDS = ("parameter", "estimate", "standard error", "95% lower", "95% upper", "log-likelihood",
                  "distinct rows", "converged", "iterations", "gradient norm", "penalizer", "seconds", "column",
                  "mean", "min", "max", "rows", "customers (sum of weights)", "time unit", "calibration end",
                  "observation end", "customer equity", "horizon (periods)", "period length",
                  "discount rate per period", "margin", "expected purchases", "expected spend", "as of",
                  "single-threaded customers", "customers nobody holds", "employee id", "shared customers",
                  "solo customers", "solo value", "value at risk", "key value", "mean score", "total predicted",
                  "relative error", "frequency", "recency", "score")


def _header_cells(page: str) -> set[str]:
    import html
    import re

    cells = re.findall(r"<th[^>]*>(.*?)</th>|<caption>(.*?)</caption>", page)
    return {html.unescape(a or b) for a, b in cells}


def test_the_chinese_report_shows_the_results_displays_in_chinese(report: Report, page: str,
                                                                   zh_report: Report) -> None:
    zh_page = zh_report.to_html()
    english, chinese = _header_cells(page), _header_cells(zh_page)
    # the words are in the English page (so the list is the displays' own) and none is left in the Chinese page
    assert len(english & set(_DISPLAY_WORDS)) >= 35
    assert not chinese & set(_DISPLAY_WORDS), sorted(chinese & set(_DISPLAY_WORDS))
    assert "<details>" not in zh_page and "技术细节" not in zh_page and "Technical details" not in page
    # parameter names stay the papers' symbols; the tables hold the same numbers
    for symbol in ("r", "alpha", "a", "b", "p", "q", "v"):
        assert symbol in chinese
    # the English page embeds each result's notebook display unchanged
    for name in ("clv", "binding", "team", "summary"):
        assert report.results[name]._repr_html_() in page


def test_the_chinese_page_names_chinese_fonts_before_the_generic_family(page: str) -> None:
    fonts = page[page.index("font-family:"):page.index(";", page.index("font-family:"))]
    for font in ("PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", "Noto Sans CJK SC", "Source Han Sans SC",
                 "WenQuanYi Micro Hei"):
        assert f'"{font}"' in fonts
    assert fonts.endswith("sans-serif")
