"""`clvkit tier`, `clvkit binding` and the demo's tiering section."""

from __future__ import annotations

import csv
import math
import re
from pathlib import Path

import numpy as np
import pytest

from clvkit.cli import main


def _write(path: Path, rows: list[dict[str, object]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_tier_five_a_by_hand(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # 100 customers valued 1..100: default 5A shares 20/30/30/15/5 % (lowest first) put the top 5 in A1.
    src = _write(tmp_path / "values.csv", [{"customer_id": f"c{i:03d}", "clv": float(i)} for i in range(1, 101)])
    out = tmp_path / "tiers.csv"
    assert main(["tier", str(src), "--policy", "five-a", "--value-column", "clv", "--output", str(out),
                 "--explain"]) == 0
    text = capsys.readouterr().out
    assert "100 customers" in text and "total value 5,050.00" in text
    with out.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    tiers = {r["customer_id"]: r["tier"] for r in rows}
    assert [tiers[f"c{i:03d}"] for i in (100, 96, 95, 81, 80, 1)] == ["A1", "A1", "A2", "A2", "A3", "A5"]
    assert all(r["reason"] for r in rows)
    a1_value = sum(range(96, 101))
    assert f"{a1_value:,.2f}" in text


def test_tier_key_customers_and_loyalty_history(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [{"customer_id": str(i), "value": float(v), "m1": 0.0, "m2": float(v), "m3": float(v)}
            for i, v in enumerate([5, 50, 500, 5000, 50000])]
    src = _write(tmp_path / "c.csv", rows)
    assert main(["tier", str(src), "--policy", "key-customers"]) == 0
    assert "5 customers" in capsys.readouterr().out
    assert main(["tier", str(src), "--policy", "loyalty", "--history-columns", "m1", "m2", "m3"]) == 0
    assert capsys.readouterr().out


def test_tier_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = _write(tmp_path / "v.csv", [{"customer_id": "a", "value": 1.0}])
    assert main(["tier", str(src), "--policy", "five-a", "--value-column", "clv"]) == 2
    err = capsys.readouterr().err
    assert "'clv'" in err and len(err.strip().splitlines()) == 1
    assert main(["tier", str(src), "--policy", "key-customers", "--config", '{"share": 1.5}']) == 2
    assert "share" in capsys.readouterr().err


def test_binding_report_on_the_bundled_sample(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["binding", "--top", "3", "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert "SYNTHETIC SAMPLE DATA" in out
    assert "Value at risk by employee" in out and "Hand-over simulation" in out


def test_demo_prints_the_5a_inventory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--output", str(tmp_path), "--top", "3", "-q", "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert "5A value tiers" in out
    # the inventory rows: each tier named with its rank ("A1 (top 5%)"), then the count
    rows = re.findall(r"^(A[1-5]) \((?:top|next|bottom) [\d.]+%\)\s+([\d,]+)\s", out, flags=re.MULTILINE)
    assert len(rows) == 5
    counts = {tier: int(n.replace(",", "")) for tier, n in rows}
    assert sum(counts.values()) == 2357
    # quantile tiers hold their shares (default 5/15/30/30/20 % from the top) except where customers with equal
    # CLV sit at a boundary: they all go to the higher tier, so the top k tiers hold at least their nominal count
    order, shares = ["A1", "A2", "A3", "A4", "A5"], [0.05, 0.15, 0.30, 0.30, 0.20]
    for k in range(1, 5):
        below = 2357 - sum(counts[t] for t in order[:k])
        assert below <= math.floor(2357 * sum(shares[k:]) + 0.5)
    assert np.isclose(sum(counts.values()), 2357)
