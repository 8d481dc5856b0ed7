"""Ladders that count, the battle map, binding --values and the reports in two languages (issue 12 scopes 4, 5).

Every expected number below is worked out by hand from the tiny tables in the test (the arithmetic is in the
comments), not taken from the code. The golden files at the end freeze the two reports on the bundled sample in
English and Chinese; they were read line by line before they were frozen.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from _golden import check_golden

from clvkit import InvalidInputError
from clvkit.binding import (
    ActivityConfig,
    BindingConfig,
    BindingData,
    KeyAction,
    LadderConfig,
    activity_report,
    cli_activity,
    cli_report,
    format_activity,
    ladder_report,
    load_b2b_sample,
    measure_binding,
    read_binding_dir,
    read_score_values,
)
from clvkit.binding.report import next_actions
from clvkit.cli import main

AS_OF = "2024-06-30"  # a Sunday
EMP = {"employee_id": ["E1", "E2"], "level": ["account_manager", "account_manager"]}


def _data(relationships: dict[str, list[object]], contacts: dict[str, list[object]] | None = None,
          touchpoints: object = ()) -> BindingData:
    con = contacts or {"contact_id": ["P1", "P2", "P3"], "customer_id": ["C1", "C1", "C2"],
                       "org_level": ["decision_maker", "user", "decision_maker"]}
    return BindingData(employees=EMP, contacts=con, relationships=relationships, touchpoints=list(touchpoints),
                       as_of=AS_OF)


# ------------------------------------------------------------------------------------------ ladders -> strength
def test_a_ladder_without_a_numeric_strength_maps_through_the_table() -> None:
    # E1-P1 friend (0.7); E2-P2 grade close (0.5) and pyramid cooperative (0.6) -> mean 0.55; E1-P3 confidant 0.95.
    rel = {"employee_id": ["E1", "E2", "E1"], "contact_id": ["P1", "P2", "P3"], "start": ["2023-01-01"] * 3,
           "closeness": ["friend", "", "CONFIDANT"], "grade": ["", "close", None], "pyramid_stage": [0, 2, 0]}
    m = measure_binding(_data(rel))
    assert m.total_strength.tolist() == pytest.approx([0.7 + 0.55, 0.95])
    # C1: strength shares E1 0.7/1.25 = 0.56, E2 0.44 (no touchpoints: holding = strength share)
    assert m.top_share.tolist() == pytest.approx([0.56, 1.0])
    # "max" takes the strongest ladder of a row: E2-P2 -> 0.6
    cfg = BindingConfig(ladders=LadderConfig(combine="max"))
    assert measure_binding(_data(rel), cfg).total_strength.tolist() == pytest.approx([1.3, 0.95])
    # a table of one's own: friend = 0.2
    cfg = BindingConfig(ladders=LadderConfig(closeness=(0.1, 0.15, 0.2, 0.3)))
    assert measure_binding(_data(rel), cfg).total_strength.tolist() == pytest.approx([0.2 + 0.55, 0.3])


def test_a_numeric_strength_wins_over_the_rungs_and_mixes_with_rows_that_have_none() -> None:
    rel = {"employee_id": ["E1", "E2"], "contact_id": ["P1", "P2"], "start": ["2023-01-01"] * 2,
           "strength": [0.3, float("nan")], "closeness": ["confidant", "acquaintance"]}
    assert measure_binding(_data(rel)).total_strength[0] == pytest.approx(0.3 + 0.4)


def test_relationships_without_strength_or_rung_are_refused_by_row() -> None:
    rel = {"employee_id": ["E1", "E2"], "contact_id": ["P1", "P2"], "start": ["2023-01-01"] * 2,
           "closeness": ["friend", ""]}
    with pytest.raises(InvalidInputError, match=r"relationships\.strength.*no ladder rung.*row 1"):
        _data(rel)
    rel = {"employee_id": ["E1"], "contact_id": ["P1"], "start": ["2023-01-01"], "closeness": ["best friend"]}
    with pytest.raises(InvalidInputError, match=r"relationships\.closeness.*is not a Closeness"):
        _data(rel)
    rel = {"employee_id": ["E1"], "contact_id": ["P1"], "start": ["2023-01-01"], "strength": [""], "grade": [""]}
    with pytest.raises(InvalidInputError, match=r"relationships\.strength"):
        _data(rel)


def test_a_folder_with_a_closeness_column_and_no_strength_column(tmp_path: Path) -> None:
    (tmp_path / "employees.csv").write_text("employee_id,level\nE1,ACCOUNT_MANAGER\n", encoding="utf-8")
    (tmp_path / "contacts.csv").write_text("contact_id,customer_id,org_level\nP1,C1,DECISION_MAKER\n"
                                           "P2,C1,USER\n", encoding="utf-8")
    (tmp_path / "relationships.csv").write_text("employee_id,contact_id,closeness,start\nE1,P1,FRIEND,2023-01-01\n"
                                                "E1,P2,ACQUAINTANCE,2023-01-01\n", encoding="utf-8")
    (tmp_path / "touchpoints.csv").write_text("customer_id,timestamp,employee_id\nC1,2024-06-01,E1\n",
                                              encoding="utf-8")
    m = measure_binding(read_binding_dir(tmp_path).data)
    assert m.total_strength.tolist() == pytest.approx([0.7 + 0.4])
    assert "closeness 2" in cli_report(tmp_path, lang="en")


def test_the_texts_own_words_for_the_rungs_are_read() -> None:
    # 朋友 = friend (0.7), 紧密型 = close (0.5), 相互依存 = interdependent (0.9): E2-P2 = (0.5 + 0.9) / 2 = 0.7
    rel = {"employee_id": ["E1", "E2"], "contact_id": ["P1", "P2"], "start": ["2023-01-01"] * 2,
           "closeness": ["朋友", ""], "grade": ["", "紧密型"], "pyramid_stage": ["", "相互依存"]}
    assert measure_binding(_data(rel)).total_strength[0] == pytest.approx(0.7 + 0.7)
    with pytest.raises(InvalidInputError, match="过客, 路人, 熟人"):
        _data({**rel, "closeness": ["好友", ""]})


def test_ladder_config_is_checked() -> None:
    with pytest.raises(InvalidInputError, match="must not fall"):
        LadderConfig(grade=(0.2, 0.9, 0.8, 1.0))
    with pytest.raises(InvalidInputError, match="in \\[0, 1\\]"):
        LadderConfig(pyramid_stage=(0.3, 0.6, 1.5))
    with pytest.raises(InvalidInputError, match="sum to 1"):
        LadderConfig(closeness_target=(0.5, 0.5, 0.1, 0.04))
    cfg = BindingConfig(ladders=LadderConfig(combine="max"))
    assert BindingConfig.model_validate_json(cfg.model_dump_json()) == cfg


# ------------------------------------------------------------------------------------------ the 50/10/3-5 check
def test_closeness_distribution_against_the_rule_of_thumb_by_hand() -> None:
    # E1: ten contacts, 3 passers-by, 5 acquaintances, 1 friend, 1 confidant -> shares .3 .5 .1 .1;
    # distance = (|.3-.36| + |.5-.5| + |.1-.1| + |.1-.04|) / 2 = (.06 + .06) / 2 = 0.06.
    # E2: two contacts, both friends -> shares 0 0 1 0; distance = (.36 + .5 + .9 + .04) / 2 = 0.9.
    rungs = ["passer_by"] * 3 + ["acquaintance"] * 5 + ["friend", "confidant"] + ["friend", "friend"]
    n = len(rungs)
    con = {"contact_id": [f"P{i}" for i in range(n)], "customer_id": ["C1"] * n, "org_level": ["user"] * n}
    rel = {"employee_id": ["E1"] * 10 + ["E2"] * 2, "contact_id": con["contact_id"], "closeness": rungs,
           "start": ["2023-01-01"] * n}
    r = ladder_report(_data(rel, con))
    assert r.closeness["employee_id"].tolist() == ["E2", "E1"]  # furthest from the rule first
    assert r.closeness["distance"].tolist() == pytest.approx([0.9, 0.06])
    assert [int(r.closeness[k][1]) for k in ("contacts", "passer_by", "acquaintance", "friend", "confidant")] == \
        [10, 3, 5, 1, 1]
    # another target: all acquaintances -> E1's distance = (.3 + .5 + .1 + .1) / 2 = 0.5
    r = ladder_report(_data(rel, con), LadderConfig(closeness_target=(0.0, 1.0, 0.0, 0.0)))
    assert r.closeness["distance"].tolist() == pytest.approx([1.0, 0.5])


def test_movement_up_the_ladders_from_dated_records_by_hand() -> None:
    # as_of 2024-06-30, movement over 365 days: compare 2023-07-01 with 2024-06-30 (2024 is a leap year).
    # E1-P1: acquaintance 2022-01-01..2024-01-01, then friend: up.   E2-P2: friend until 2024-03-01, then
    # acquaintance: down.   E1-P3: friend from 2020: same.   E2-P1: friend since 2024-02-01 only: new.
    rel = {"employee_id": ["E1", "E1", "E2", "E2", "E1", "E2"], "contact_id": ["P1", "P1", "P2", "P2", "P3", "P1"],
           "closeness": ["acquaintance", "friend", "friend", "acquaintance", "friend", "friend"],
           "grade": ["loose", "die_hard", "", "", "", ""],
           "start": ["2022-01-01", "2024-01-01", "2021-01-01", "2024-03-01", "2020-01-01", "2024-02-01"],
           "end": ["2024-01-01", "", "2024-03-01", "", "", ""]}
    r = ladder_report(_data(rel))
    mv = {name: {k: int(r.movement[k][j]) for k in ("compared", "up", "down", "same", "new")}
          for j, name in enumerate(r.movement["ladder"].tolist())}
    assert mv["closeness"] == {"compared": 3, "up": 1, "down": 1, "same": 1, "new": 1}
    assert mv["grade"] == {"compared": 1, "up": 1, "down": 0, "same": 0, "new": 0}
    assert mv["pyramid_stage"] == {"compared": 0, "up": 0, "down": 0, "same": 0, "new": 0}
    by = dict(zip(r.movement_by_employee["employee_id"].tolist(),
                  zip(r.movement_by_employee["up"].tolist(), r.movement_by_employee["down"].tolist(), strict=True),
                  strict=True))
    assert by == {"E1": (2, 0), "E2": (0, 1)}
    # a shorter span (100 days: 2024-03-22): only E2-P2's fall happened before it - nothing moved since
    r = ladder_report(_data(rel), LadderConfig(movement_days=100))
    assert int(r.movement["up"][0]) == 0 and int(r.movement["down"][0]) == 0


def test_the_bundled_sample_has_ladders_and_dated_records() -> None:
    s = load_b2b_sample()
    r = ladder_report(s.data)
    assert r.has_closeness and r.has_movement
    # the earlier records were drawn one rung lower (15%: higher): more moves up than down
    assert int(r.movement["up"].sum()) > int(r.movement["down"].sum()) > 0


# ------------------------------------------------------------------------------------------ the battle map
def _activity_data() -> BindingData:
    con = {"contact_id": ["P1", "P2", "P3"], "customer_id": ["C1", "C2", "C3"], "org_level": [3, 3, 3]}
    # week 2 = (06-23, 06-30], week 1 = (06-16, 06-23]; 06-10 is before both weeks
    tp = {"customer_id": ["C1", "C1", "C2", "C1", "C3", "C2", "C3"],
          "employee_id": ["E1", "E1", "E1", "E2", "E2", "E1", "E2"],
          "timestamp": ["2024-06-29T10:00", "2024-06-24", "2024-06-30T00:00", "2024-06-20", "2024-06-17",
                        "2024-06-23T00:00", "2024-06-10"],
          "channel": ["visit", "visit", "phone", "visit", "email", "visit", "visit"],
          "functions": ["CARE|DEAL", "DEAL", "SERVICE", "CARE", "INTELLIGENCE", "INFORMATION|DEAL", "CARE"]}
    return BindingData(employees=EMP, contacts=con, relationships=[], touchpoints=tp, as_of=AS_OF)


def test_activity_counts_by_hand() -> None:
    data = _activity_data()
    r = activity_report(data, weeks=2, tiers=np.array([1, 2, 3]), key_customers=np.array([True, False, False]))
    assert r.employee_id.tolist() == ["E1", "E2"]
    # E1 week 1: 06-23T00:00 (age exactly 7 days: the earlier week); week 2: 06-29, 06-24, 06-30T00:00 (= as_of)
    assert r.touchpoints.tolist() == [[1, 3], [2, 0]]
    # functions (care, information, deal, service, intelligence): E1 week 2 = care 1, deal 2, service 1
    assert r.function_counts[0, 1].tolist() == [1, 0, 2, 1, 0]
    assert r.function_counts[0, 0].tolist() == [0, 1, 1, 0, 0]
    assert r.function_counts[1, 0].tolist() == [1, 0, 0, 0, 1]
    # distinct customers: E1 week 2 = C1, C2; by tier 1, 2, 3
    assert r.customers.tolist() == [[1, 2], [2, 0]]
    assert r.customers_by_tier[0, 1].tolist() == [1, 1, 0] and r.customers_by_tier[1, 0].tolist() == [1, 0, 1]
    assert r.key_customers_touched.tolist() == [[0, 1], [1, 0]]
    # default key actions: visits >= 2, deal >= 3, care for key customers >= 1
    assert r.action_done[0, 1].tolist() == [2, 2, 1]
    assert r.action_met[0, 1].tolist() == [True, False, True]
    assert r.action_done[1, 0].tolist() == [1, 0, 1]
    # overdue: C1 last contacted 06-29 (1 day), not overdue; with C3 key: last 06-17, 13 days
    r = activity_report(data, weeks=2, key_customers=np.array([True, False, True]),
                        config=ActivityConfig(contact_interval_days=10))
    assert r.overdue["customer_id"].tolist() == ["C3"]
    assert r.overdue["days_since_last"].tolist() == pytest.approx([13.0])
    assert r.overdue["last_employee"].tolist() == ["E2"]


def test_activity_key_actions_are_configurable() -> None:
    cfg = ActivityConfig.model_validate_json(json.dumps({"key_actions": [
        {"name": "phone calls", "channel": "phone", "per_week": 1},
        {"name": "intelligence", "function": "intelligence", "per_week": 1}]}))
    r = activity_report(_activity_data(), weeks=2, config=cfg)
    assert r.action_done[:, :, 0].tolist() == [[0, 1], [0, 0]]
    assert r.action_done[:, :, 1].tolist() == [[0, 0], [1, 0]]
    text = format_activity(r, lang="en")
    assert "phone calls" in text and "your configuration" in text


def test_activity_without_tiers_or_key_customers_says_so() -> None:
    text = format_activity(activity_report(_activity_data(), weeks=1), lang="en")
    assert "No key customers are marked" in text
    # without a key mask the customers of the lowest tier code are key
    r = activity_report(_activity_data(), weeks=1, tiers=np.array([2, 1, 3]))
    assert r.key_customers.tolist() == [False, True, False]


@pytest.mark.parametrize("bad", [0, 521, 2.0, True, "4", None])
def test_activity_refuses_a_bad_number_of_weeks(bad: object) -> None:
    with pytest.raises(InvalidInputError, match="'weeks'"):
        activity_report(_activity_data(), weeks=bad)  # type: ignore[arg-type]


def test_activity_refuses_misshapen_masks_and_configs() -> None:
    data = _activity_data()
    with pytest.raises(InvalidInputError, match="'key_customers'"):
        activity_report(data, key_customers=np.array([1, 0, 0]))
    with pytest.raises(InvalidInputError, match="'tiers'"):
        activity_report(data, tiers=np.array([1.0, 2.0, 3.0]))
    with pytest.raises(InvalidInputError, match="'config'"):
        activity_report(data, config={"contact_interval_days": 3})  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="'function'"):
        KeyAction(name="x", function="SALE", per_week=1)
    with pytest.raises(InvalidInputError, match="per_week"):
        KeyAction(name="x", per_week=0)


# ------------------------------------------------------------------------------------------ binding report
def test_next_actions_follow_the_weak_sub_scores_by_hand() -> None:
    # C1: one account manager holds the decision maker only, no touchpoints, no ties, no projects.
    # Sub-scores: hierarchy (1 matched of 4 levels + no successor weight: 1 / 4.5) = 22; breadth 1/3 = 33;
    # spread 0; presence 0; industry 0; project 0 - all weak. Points lost (weight x (100 - sub)):
    # hierarchy .3 x 78 = 23.3, presence .2 x 100 = 20, spread .15 x 100 = 15, breadth .15 x 67 = 10, ...
    con = {"contact_id": ["P1"], "customer_id": ["C1"], "org_level": ["decision_maker"]}
    rel = {"employee_id": ["E1"], "contact_id": ["P1"], "strength": [0.8], "start": ["2023-01-01"]}
    m = measure_binding(_data(rel, con))
    assert next_actions(m, 0, lang="en") == ["add contacts at the user, manager, executive level",
                                             "contact the customer: no contact on record",
                                             "put a second employee on the account"]
    assert next_actions(m, 0, lang="zh")[0] == "在使用者、经理、高管层级增加联系人"


def test_binding_report_speaks_plainly_with_a_legend_and_provenance() -> None:
    text = cli_report(lang="en")
    for gone in ("hier ", "tp 90d", "gap CV", "DM reached", "single-threaded"):
        assert gone not in text, gone
    for said in ("Legend:", "irregularity:", "contacts 90d: touchpoints in the last 90 days",
                 "Binding weights: clvkit default, configurable", "Next action for each customer above",
                 "C-0025: add contacts at the user, manager, executive level; put a second employee on the account",
                 "Strength of a rung: clvkit default", "Movement up the ladders since 2024-01-01"):
        assert said in text, said
    cfg = BindingConfig(weights=BindingConfig().weights.model_copy(update={"industry": 0.0}))
    assert "Binding weights: your configuration" in cli_report(config=cfg, lang="en")


def test_binding_values_from_a_score_file(tmp_path: Path) -> None:
    s = load_b2b_sample()
    ids = s.data.customer_ids.tolist()
    scores = tmp_path / "scores.csv"
    # C-0001 gets 1000, C-0002 gets 10; C-9999 is unknown; the other 58 customers have no score (value 0)
    scores.write_text("customer_id,p_alive,clv\nC-0001,0.9,1000\nC-0002,0.5,10\nC-9999,0.1,5\n", encoding="utf-8")
    sv = read_score_values(scores, s.data)
    assert sv.values[ids.index("C-0001")] == 1000.0 and sv.values.sum() == 1010.0
    assert (sv.matched, sv.missing, sv.unknown) == (2, 58, 1)
    assert read_score_values(scores, s.data, column="p_alive").values.sum() == pytest.approx(1.4)
    text = cli_report(values=scores, lang="en", top=3)
    assert "column 'clv' of scores.csv" in text and "2 customers matched; 58 without a score count 0" in text
    assert "value exposed 1,010" in text  # value at risk now adds up the scores


@pytest.mark.parametrize(("content", "match"), [
    ("", "is empty"),
    ("customer_id,frequency\nC-0001,3\n", r"lacks the column\(s\) \['clv'\]"),
    ("customer_id,clv\nC-0001,abc\n", "not a finite number"),
    ("customer_id,clv\nC-0001,nan\n", "not a finite number"),
    ("customer_id,clv\nC-0001,1\nC-0001,2\n", "appears twice"),
    ("customer_id,clv\n,1\n", "has no 'customer_id'"),
    ("customer_id,clv\n1,1\n2,3\n", "none of them a customer"),
    ("customer_id,clv\nC-0001\n", "line 2 has 1 cells"),
])
def test_binding_values_file_errors(tmp_path: Path, content: str, match: str) -> None:
    scores = tmp_path / "scores.csv"
    scores.write_text(content, encoding="utf-8")
    with pytest.raises(InvalidInputError, match=match):
        read_score_values(scores, load_b2b_sample().data)


def test_cli_binding_values_and_lang(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scores = tmp_path / "scores.csv"
    scores.write_text("customer_id,clv,profit_clv\nC-0001,1000,400\n", encoding="utf-8")
    assert main(["binding", "--values", str(scores), "--value-column", "profit_clv", "--lang", "zh", "--top", "2"]) == 0
    out = capsys.readouterr().out
    assert "取自 scores.csv 的“profit_clv”列" in out and "员工掌握的客户价值合计 400" in out
    assert main(["binding", "--value-column", "profit_clv"]) == 2
    assert "--values" in capsys.readouterr().err
    assert main(["binding", "--lang", "fr"]) == 2


def test_cli_activity_options(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["activity", "--weeks", "2", "--as-of", "2024-11-30", "--lang", "en",
                 "--config", '{"contact_interval_days": 14}']) == 0
    out = capsys.readouterr().out
    assert "2 weeks of 7 days up to 2024-11-30" in out and "in the last 14 days" in out and "(your interval)" in out
    cfg = tmp_path / "activity.json"
    cfg.write_text('{"key_actions": [{"name": "visits", "channel": "visit", "per_week": 0}]}', encoding="utf-8")
    assert main(["activity", "--config", str(cfg)]) == 2
    assert "per_week" in capsys.readouterr().err
    assert main(["activity", str(tmp_path / "missing")]) == 2
    assert main(["activity", "--weeks", "0"]) == 2


# ------------------------------------------------------------------------------------------ golden files
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_golden_binding_report(lang: str) -> None:
    check_golden(f"binding.{lang}.txt", cli_report(lang=lang))


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_golden_activity_report(lang: str) -> None:
    check_golden(f"activity.{lang}.txt", cli_activity(lang=lang))


def test_reports_have_no_trailing_spaces_and_no_nan() -> None:
    for text in (cli_report(lang="zh"), cli_activity(lang="zh", weeks=8), cli_report(lang="en")):
        assert all(line == line.rstrip() for line in text.splitlines())
        assert "nan" not in text.lower().replace("nanny", "") and not math.isnan(0.0)
