"""``clvkit migrate`` and ``clvkit budget``: hand-counted numbers on small fixed tier files, and golden reports.

tests/data/tiers_before.csv and tiers_after.csv hold ten customers each (A1 highest, tier_code 4). By hand:
C-01 A1->A1, C-02 A1->A2 (down), C-03 A2->A1 (up), C-04 A2->A2, C-05 A3->A3, C-06 A3->gone, C-07 A4->A3 (up),
C-08 A4->A5 (down), C-09 A5->A5, C-10 A5->A4 (up), C-11 new in A4. Nine customers are in both periods: 4 stayed,
3 moved up, 2 moved down; 1 new, 1 gone.
"""

from __future__ import annotations

import contextlib
import csv
import io
import re
from pathlib import Path

import pytest
from _golden import check_golden

from clvkit.cli import main

DATA = Path(__file__).resolve().parent / "data"
BEFORE, AFTER = DATA / "tiers_before.csv", DATA / "tiers_after.csv"


def _run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(argv)
    return status, out.getvalue(), err.getvalue()


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_migrate_counts_the_moves_by_hand(tmp_path: Path) -> None:
    out = tmp_path / "moves.csv"
    status, text, err = _run(["migrate", str(BEFORE), str(AFTER), "--lang", "en", "-o", str(out)])
    assert status == 0, err
    assert "9 customers in both periods" in text
    assert f"Stayed in their tier: {4 / 9:.1%}; moved up: {3 / 9:.1%}; moved down: {2 / 9:.1%}." in text
    assert "New customers (only in the later period): 1; customers gone (only in the earlier period): 1." in text
    rows = {r["customer_id"]: r for r in _rows(out)}
    assert set(rows) == {f"C-{i:02d}" for i in range(1, 12)}
    expected = {"C-01": ("A1", "A1", "same", "0"), "C-02": ("A1", "A2", "down", "-1"),
                "C-03": ("A2", "A1", "up", "1"), "C-06": ("A3", "", "gone", ""), "C-08": ("A4", "A5", "down", "-1"),
                "C-10": ("A5", "A4", "up", "1"), "C-11": ("", "A4", "new", "")}
    for cid, (before, after, change, steps) in expected.items():
        r = rows[cid]
        assert (r["tier_before"], r["tier_after"], r["change"], r["steps"]) == (before, after, change, steps), cid


def test_migrate_with_a_policy_on_value_files(tmp_path: Path) -> None:
    # Thresholds fixed across periods: value >= 100 is key. Before: a=150 (key), b=50, c=120 (key); after: a=80,
    # b=130, c=125 -> a moved down, b moved up, c stayed.
    before, after = tmp_path / "b.csv", tmp_path / "a.csv"
    before.write_text("customer_id,clv\na,150\nb,50\nc,120\n", encoding="utf-8")
    after.write_text("customer_id,clv\na,80\nb,130\nc,125\n", encoding="utf-8")
    config = '{"cut": {"kind": "thresholds", "thresholds": [100, 1000, 10000, 100000]}}'
    status, text, err = _run(["migrate", str(before), str(after), "--policy", "five-a", "--config", config,
                              "--lang", "en"])
    assert status == 0, err
    assert f"Stayed in their tier: {1 / 3:.1%}; moved up: {1 / 3:.1%}; moved down: {1 / 3:.1%}." in text


def test_budget_per_customer_by_hand(tmp_path: Path) -> None:
    out = tmp_path / "budget.csv"
    status, text, err = _run(["budget", str(AFTER), "--total", "10000", "--shares", "A1=0.4,A2=0.3,A3=0.2,A4=0.1",
                              "--lang", "en", "-o", str(out)])
    assert status == 0, err
    rows = {r["tier"]: r for r in _rows(out)}
    assert [r["tier"] for r in _rows(out)] == ["A1", "A2", "A3", "A4", "A5"]
    # Two customers per tier; values A1 900 + 800, A2 400 + 350, A3 200 + 150, A4 60 + 50, A5 20 + 10.
    for tier, budget, value in (("A1", 4000.0, 1700.0), ("A2", 3000.0, 750.0), ("A3", 2000.0, 350.0),
                                ("A4", 1000.0, 110.0), ("A5", 0.0, 30.0)):
        r = rows[tier]
        assert float(r["budget"]) == pytest.approx(budget)
        assert int(r["customers"]) == 2
        assert float(r["budget_per_customer"]) == pytest.approx(budget / 2)
        assert float(r["value"]) == pytest.approx(value)
        assert float(r["value_per_budget"]) == pytest.approx(value / budget if budget else 0.0)
    assert re.search(r"^total\s+100\.0%\s+10,000\.00\s+10\s+1,000\.00\s+2,940\.00\s+0\.29$", text, re.M)


def test_budget_of_an_empty_tier_stays_unspent(tmp_path: Path) -> None:
    # A6 (named with --tiers, lowest) holds nobody: its 10% of 5,000 is not spread over the other tiers.
    status, text, err = _run(["budget", str(BEFORE), "--tiers", "A6,A5,A4,A3,A2,A1", "--budget",
                              '{"total": 5000, "shares": {"A6": 0.1, "A1": 0.9}}', "--lang", "en"])
    assert status == 0, err
    assert "Unspent: 500.00" in text
    assert re.search(r"^A1 \(highest\)\s+90\.0%\s+4,500\.00\s+2\s+2,250\.00$", text, re.M)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_migrate_golden(lang: str) -> None:
    status, text, err = _run(["migrate", str(BEFORE), str(AFTER), "--lang", lang])
    assert status == 0, err
    check_golden(f"migrate.{lang}.txt", text)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_budget_golden(lang: str) -> None:
    status, text, err = _run(["budget", str(AFTER), "--budget", '{"A1": 4000, "A2": 3000, "A3": 2000, "A4": 1000}',
                              "--lang", lang])
    assert status == 0, err
    check_golden(f"budget.{lang}.txt", text)


def test_tier_files_without_codes_need_tiers(tmp_path: Path) -> None:
    b, a = tmp_path / "b.csv", tmp_path / "a.csv"
    b.write_text("customer_id,tier\nx,gold\ny,silver\n", encoding="utf-8")
    a.write_text("customer_id,tier\nx,silver\ny,gold\n", encoding="utf-8")
    status, _, err = _run(["migrate", str(b), str(a), "--lang", "en"])
    assert status == 2 and "--tiers" in err and len(err.strip().splitlines()) == 1
    status, text, err = _run(["migrate", str(b), str(a), "--tiers", "silver,gold", "--lang", "en"])
    assert status == 0, err
    assert "Stayed in their tier: 0.0%; moved up: 50.0%; moved down: 50.0%." in text
    status, text, err = _run(["migrate", str(b), str(a), "--tiers", "silver,gold", "--unordered", "--lang", "zh"])
    assert status == 0, err
    assert "留在原分组 0.0%" in text


def test_header_only_files_and_missing_ids_are_one_line_errors(tmp_path: Path) -> None:
    empty, no_ids = tmp_path / "e.csv", tmp_path / "n.csv"
    empty.write_text("customer_id,tier_code,tier\n", encoding="utf-8")
    no_ids.write_text("tier_code,tier\n0,A5\n", encoding="utf-8")
    for argv in (["migrate", str(empty), str(empty)], ["migrate", str(no_ids), str(no_ids), "--tiers", "A5"],
                 ["budget", str(empty), "--total", "1", "--shares", "A1=1"]):
        status, _, err = _run([*argv, "--lang", "en"])
        assert status == 2 and len(err.strip().splitlines()) == 1 and ": error: " in err, (argv, err)


def test_numeric_tier_names_stay_as_written(tmp_path: Path) -> None:
    b, a, out = tmp_path / "b.csv", tmp_path / "a.csv", tmp_path / "m.csv"
    b.write_text("customer_id,tier_code,tier\n1,0,3\n2,2,1\n3,1,2\n", encoding="utf-8")
    a.write_text("customer_id,tier_code,tier\n1,1,2\n2,2,1\n3,1,2\n", encoding="utf-8")
    status, text, err = _run(["migrate", str(b), str(a), "--lang", "en", "-o", str(out)])
    assert status == 0, err
    assert "highest (1) to the lowest (3)" in text
    assert [(r["customer_id"], r["tier_before"], r["tier_after"], r["change"]) for r in _rows(out)] == [
        ("1", "3", "2", "up"), ("2", "1", "1", "same"), ("3", "2", "2", "same")]
