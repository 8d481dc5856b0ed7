"""Reports in the reader's language: golden files of ``clvkit demo`` and ``clvkit tier`` in English and Chinese,
the --lang option, tier names that carry the rank, treatments and provenance (issue 12, scope 1 and 6)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from _golden import GOLDEN, check_golden

from clvkit import InvalidInputError
from clvkit.cli import main
from clvkit.tiering import (
    DEFAULT_TREATMENTS,
    FIVE_A_LABELS,
    FIVE_A_SHARES,
    FiveA,
    KeyCustomers,
    Treatment,
    TreatmentTable,
    budget_allocation,
    format_budget,
    format_inventory,
    format_migration,
    format_treatments,
    inventory,
    migration,
    tier_names,
    tier_report,
)

LANGS = ("en", "zh")


@pytest.mark.parametrize("lang", LANGS)
def test_demo_golden(lang: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "demo"
    assert main(["demo", "-o", str(out), "-q", "--lang", lang]) == 0
    text = capsys.readouterr().out.replace(str(out), "<OUTPUT>")
    check_golden(f"demo.{lang}.txt", text)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("policy", ["five-a", "key-customers"])
def test_tier_golden(lang: str, policy: str, capsys: pytest.CaptureFixture[str]) -> None:
    scores = GOLDEN / "tier_scores.csv"
    assert main(["tier", str(scores), "--policy", policy, "--value-column", "clv", "--lang", lang]) == 0
    check_golden(f"tier_{policy}.{lang}.txt", capsys.readouterr().out)


def test_lang_is_validated(capsys: pytest.CaptureFixture[str]) -> None:
    scores = GOLDEN / "tier_scores.csv"
    for command in (["tier", str(scores), "--policy", "five-a"], ["demo"], ["report", str(scores)]):
        assert main([*command, "--lang", "fr"]) == 2
        assert "invalid choice: 'fr'" in capsys.readouterr().err
    inv = inventory([1.0, 2.0], KeyCustomers(share=0.5).assign([1.0, 2.0]))
    for call in (lambda: format_inventory(inv, lang="fr"), lambda: tier_names(("a", "b"), lang="de"),
                 lambda: tier_report(KeyCustomers(), {"value": [1.0, 2.0]}, lang="EN")):
        with pytest.raises(InvalidInputError, match="lang"):
            call()


def test_the_same_numbers_in_both_languages(capsys: pytest.CaptureFixture[str]) -> None:
    # The tables differ only in words: every number printed in English is printed in Chinese, in order.
    import re

    scores = GOLDEN / "tier_scores.csv"
    texts = {}
    for lang in LANGS:
        main(["tier", str(scores), "--policy", "five-a", "--value-column", "clv", "--lang", lang])
        texts[lang] = capsys.readouterr().out
    numbers = {lang: re.findall(r"\d[\d,]*\.\d+", t) for lang, t in texts.items()}
    assert numbers["en"] == numbers["zh"] and len(numbers["en"]) > 20


def test_tier_names_carry_the_rank_from_the_shares() -> None:
    # Expected names built from the inputs: the top tier is the last label and holds the last share.
    en = tier_names(FIVE_A_LABELS, shares=FIVE_A_SHARES, lang="en")
    assert en == {"A1": "A1 (top 5%)", "A2": "A2 (next 15%)", "A3": "A3 (next 30%)", "A4": "A4 (next 30%)",
                  "A5": "A5 (bottom 20%)"}
    zh = tier_names(FIVE_A_LABELS, shares=FIVE_A_SHARES, lang="zh")
    assert zh["A1"] == "A1（价值最高的 5%）" and zh["A5"] == "A5（价值最低的 20%）"
    # renamed labels keep the order of the codes: the last label is the top tier
    gold = tier_names(("E", "D", "C", "B", "A"), lang="en")
    assert gold["A"] == "A (highest)" and gold["C"] == "C (tier 3 of 5 from the top)" and gold["E"] == "E (lowest)"
    assert tier_names(("x", "y"), ordered=False, lang="en") == {"x": "x", "y": "y"}


def test_five_a_labels_are_configurable_and_the_report_follows() -> None:
    values = np.arange(1.0, 21.0)
    policy = FiveA(labels=("bronze", "silver", "gold", "platinum", "diamond"))
    text = format_inventory(inventory(values, policy.assign(values)), lang="en", policy=policy, treatments=False)
    lines = text.splitlines()
    assert lines[3].startswith("diamond (top 5%)") and lines[7].startswith("bronze (bottom 20%)")
    assert "diamond is the top tier and bronze the bottom tier" in text
    assert "Tier shares 5/15/30/30/20% (diamond-bronze): clvkit default, configurable" in text


def test_treatments_are_configuration_with_provenance() -> None:
    labels = ("other", "key")
    default = format_treatments(labels, lang="en")
    assert default.endswith("Treatments: clvkit default, configurable (TreatmentTable).")
    assert DEFAULT_TREATMENTS.lookup(labels)["key"].owner in default
    own = TreatmentTable(treatments=[Treatment(tier="key", owner="王经理", contact="每周", benefits="专属客服")])
    text = format_treatments(labels, own, lang="zh")
    assert "王经理" in text and "每周" in text and text.endswith("各层级的做法：您的配置（TreatmentTable）。")
    assert "other" not in text and "其他客户" not in text  # a tier without a treatment has no row
    assert format_treatments(("p", "q"), lang="en") == ""
    with pytest.raises(InvalidInputError, match="more than once"):
        TreatmentTable(treatments=[own.treatments[0], own.treatments[0]])
    with pytest.raises(InvalidInputError):
        Treatment(tier="key", owner="", contact="x", benefits="y")


def test_key_customer_rule_cites_its_text_and_a_custom_share_says_so() -> None:
    v = [1.0, 2.0, 3.0, 4.0, 10.0]
    _, text = tier_report(KeyCustomers(), {"value": v}, lang="en")
    assert "Key customers are the top 20% by value: 张子凡 CRM notes (text 003)" in text
    _, text = tier_report(KeyCustomers(share=0.1), {"value": v}, lang="zh")
    assert "关键客户指价值前 10% 的客户：您的配置（原文的规则是前 20%" in text


def test_migration_and_budget_in_both_languages() -> None:
    p = KeyCustomers(share=0.5)
    m = migration(p.assign([1.0, 2.0, 3.0, 4.0]), p.assign([4.0, 3.0, 2.0, 1.0]))
    head = format_migration(m, lang="zh").splitlines()[0]
    assert head == "4 位客户的层级变动：0.0% 留在原层级，50.0% 升级，50.0% 降级"
    alloc = budget_allocation(KeyCustomers(share=0.25).assign([1.0, 2.0, 3.0, 4.0]), [300.0, 400.0])
    zh = format_budget(alloc, lang="zh")
    assert zh.startswith("各层级预算（专款专用）：总额 700.00，未使用 0.00") and "关键客户" in zh and "100.00" in zh


def test_chinese_tables_line_up_by_display_width() -> None:
    from clvkit._texttable import display_width

    v = np.arange(1.0, 21.0)
    text = format_inventory(inventory(v, FiveA().assign(v)), lang="zh", policy=FiveA(), legend=False,
                            treatments=False)
    header, rule, *rows = text.splitlines()[1:8]
    assert {display_width(r) for r in rows} == {display_width(rule)} == {display_width(header)}


def test_tier_command_takes_a_treatment_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scores = GOLDEN / "tier_scores.csv"
    table = '{"treatments": [{"tier": "A1", "owner": "CEO", "contact": "weekly", "benefits": "everything"}]}'
    assert main(["tier", str(scores), "--policy", "five-a", "--value-column", "clv", "--lang", "en",
                 "--treatments", table]) == 0
    out = capsys.readouterr().out
    assert "A1 (top 5%)  CEO    weekly   everything" in out and "Treatments: your configuration" in out
    assert "key account manager" not in out  # the default table is replaced, not merged
    bad = tmp_path / "treatments.json"
    bad.write_text('{"treatments": [{"tier": "A1"}]}', encoding="utf-8")
    assert main(["tier", str(scores), "--policy", "five-a", "--value-column", "clv", "--treatments", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"The --treatments file {bad}" in err and "owner" in err


def test_the_most_valuable_customer_is_plainly_a_key_customer_and_the_influencer_column_says_what_it_is() -> None:
    # Worked example: five customers, A is worth most by its own value and refers nobody; E refers and brings
    # in 6x its own value. Top 20% of 5 = 1 customer (A) is the key customer; E alone is a key influencer
    # under the default rule (indirect >= 1 x direct, at least one referral - here no counts are known).
    import re

    from clvkit.valuation import CompositeResult, format_value_table

    direct = np.array([900.0, 50.0, 40.0, 30.0, 100.0])
    indirect = np.array([0.0, 0.0, 0.0, 0.0, 600.0])
    res = CompositeResult(direct=direct, indirect=indirect, total=direct + indirect,
                          customer_id=np.array(["A", "B", "C", "D", "E"]), indirect_source="referral graph",
                          overlaps_direct=True)
    key = KeyCustomers().assign(direct).codes == 1
    assert key.tolist() == [True, False, False, False, False]
    lines = format_value_table(res, 2, lang="en", legend=False, key_customers=key).splitlines()
    assert re.split(r"\s{2,}", lines[1].strip())[-2:] == ["key customer (top 20%)", "key influencer"]
    head = lines[1]
    key_at, influencer_at = head.index("key customer"), head.index("key influencer")

    def flags(line: str) -> tuple[str, str]:
        return line[key_at:influencer_at].strip(), line[influencer_at:].strip()

    rows = {ln.split()[0]: flags(ln) for ln in lines[3:5]}  # under the header and its dashed rule
    assert rows == {"A": ("yes", ""), "E": ("", "yes")}
    zh = format_value_table(res, 2, lang="zh", key_customers=key)
    assert "关键客户（前 20%）" in zh and "关键传播者" in zh and "不论其自身价值高低" in zh


def test_the_default_language_comes_from_the_locale(monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    scores = GOLDEN / "tier_scores.csv"
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    assert main(["tier", str(scores), "--policy", "five-a", "--value-column", "clv"]) == 0
    assert capsys.readouterr().out == (GOLDEN / "tier_five-a.zh.txt").read_text(encoding="utf-8")
    monkeypatch.setenv("LANGUAGE", "en_GB:zh_CN")  # gettext's order: LANGUAGE first
    assert main(["tier", str(scores), "--policy", "five-a", "--value-column", "clv"]) == 0
    assert capsys.readouterr().out == (GOLDEN / "tier_five-a.en.txt").read_text(encoding="utf-8")


def test_value_risk_cells_in_action_order_with_their_legend(capsys: pytest.CaptureFixture[str]) -> None:
    # display order only: rescue, nurture, maintain, let_go; the stored codes and labels are unchanged
    from clvkit.tiering import VALUE_RISK_LABELS

    assert VALUE_RISK_LABELS == ("maintain", "let_go", "nurture", "rescue")
    scores = GOLDEN / "tier_scores.csv"
    for lang, cells, head, legend, name in (
            ("en", ["rescue", "nurture", "maintain", "let_go"], "cell", "rescue = high value, high risk",
             "value x churn risk matrix"),
            ("zh", ["挽留", "培育", "保持", "不必挽留"], "象限", "挽留 = 价值高、风险高", "价值×流失风险矩阵")):
        assert main(["tier", str(scores), "--policy", "value-risk", "--value-column", "clv", "--lang", lang]) == 0
        lines = capsys.readouterr().out.splitlines()
        assert name in lines[0] and lines[1].split()[0] == head
        assert [ln.split()[0] for ln in lines[3:7]] == cells
        assert any(ln.startswith(legend) for ln in lines)


def test_whole_messages_for_brackets_colons_and_the_next_period() -> None:
    import io

    from clvkit.cli._console import Console
    from clvkit.i18n import translator
    from clvkit.report._build import _next_period_caption

    zh = translator("zh")
    assert [_next_period_caption(u, zh)[:3] for u in ("D", "W", "M")] == ["次日的", "下周的", "下个月"]
    assert zh("{population}: {share}", population="10%", share="2.4%") == "10%：2.4%"
    assert zh("{count} ({share})", count="946", share="40.1%") == "946（40.1%）"
    for lang, bracket in (("zh", "（迭代 13 次）"), ("en", " (13 iterations)")):
        err = io.StringIO()
        console = Console(io.StringIO(), err, lang=lang)
        with console.step("x") as add:
            add(translator(lang)("{count} iterations", count=13))
        assert err.getvalue().rstrip("\n").endswith(bracket)
