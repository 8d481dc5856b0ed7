"""Hypothesis over ``clvkit migrate`` and ``clvkit budget``: hostile tier files, budgets and options.

Each run writes small tier files (well-formed, or with empty, repeated, formula-like, unknown or non-numeric
cells, byte-order marks and bytes that are not UTF-8) and hostile option values, then calls
``clvkit.cli.main`` in-process: exit 0, or exit 2 with one error line; never a traceback, another status, a
half-written output or an output replacing an input. Outcomes go to the probe table.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .test_cli_fuzz import _judge, _no_partial_files, _run

SETTINGS = settings(max_examples=60, suppress_health_check=list(HealthCheck), deadline=None)

IDS = st.sampled_from(["C-1", "C-2", "C-3", "C-4", "=cmd", "", "C-1 "])
TIERS = st.sampled_from([("0", "A5"), ("1", "A4"), ("2", "A3"), ("3", "A2"), ("4", "A1"), ("4", "A2"), ("", "A1"),
                         ("x", "A3"), ("-1", "A5"), ("1.5", "A4"), ("0", ""), ("200", "Z")])
VALUES = st.sampled_from(["", "NaN", "inf", "-1", "1e308", "12.5", "0", "abc"])
ROWS = st.one_of(st.just([]), st.lists(st.tuples(IDS, TIERS, VALUES), min_size=0, max_size=6))
TAILS = st.sampled_from([b"", b"", b"", b"", b"\xff\xfe,1,2\n", b"C-9,1\n", b"C-9,1,A4,1,extra\n"])
OPTIONS = st.sampled_from([[], [], [], ["--unordered"], ["--tiers", "A5,A4,A3,A2,A1"], ["--tiers", "A1,A1"],
                           ["--tiers", ""],
                           ["--tiers", ","], ["--value-column", "nope"], ["--value-column", "value"],
                           ["--policy", "five-a"], ["--policy", "key-customers", "--config", '{"share": 2}'],
                           ["--config", "{}"], ["--policy", "five-a", "--config", "missing.json"],
                           ["--lang", "fr"], ["--lang", "zh"]])


#: A well-formed tier file's rows (so that some runs succeed and the success path is probed too).
CLEAN = [("C-1", ("4", "A1"), "900"), ("C-2", ("3", "A2"), "400"), ("C-3", ("2", "A3"), "100"),
         ("C-4", ("1", "A4"), "50"), ("C-5", ("0", "A5"), "5")]


def _table(rows: list[tuple[str, tuple[str, str], str]], tail: bytes, bom: bool) -> bytes:
    rows = rows or CLEAN
    text = "customer_id,tier_code,tier,value\n" + "".join(f"{i},{c},{t},{v}\n" for i, (c, t), v in rows)
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8") + tail


@SETTINGS
@given(before=ROWS, after=ROWS, tail=TAILS, bom=st.booleans(), options=OPTIONS, exists=st.booleans(),
       force=st.booleans())
def test_migrate_on_hostile_tier_files(before: list[tuple[str, tuple[str, str], str]],
                                       after: list[tuple[str, tuple[str, str], str]], tail: bytes, bom: bool,
                                       options: list[str], exists: bool, force: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        b, a, out = folder / "before.csv", folder / "after.csv", folder / "moves.csv"
        b.write_bytes(_table(before, b"", bom))
        a.write_bytes(_table(after, tail, False))
        if exists:
            out.write_text("an earlier file")
        argv = ["migrate", str(b), str(a), "--output", str(out), *options, *(["--force"] if force else [])]
        status, stderr = _run(argv)
        _judge("cli migrate", status, stderr)
        if status != 0:
            assert (out.read_text() == "an earlier file") if exists else not out.exists()
        _no_partial_files(folder)


BUDGETS = st.sampled_from([["--total", "1000", "--shares", "A1=0.5,A2=0.5"],
                           ["--total", "1000", "--shares", "A1=0.5,A2=0.5"], ["--total", "1000", "--shares", "A1=1"],
                           ["--total", "-5", "--shares", "A1=1"], ["--total", "nan", "--shares", "A1=1"],
                           ["--total", "1000", "--shares", "A1=0.5"], ["--total", "1000", "--shares", "A1=0.5,A1=0.5"],
                           ["--total", "1000", "--shares", "Z=1"], ["--total", "1000", "--shares", "A1"],
                           ["--total", "1000"], ["--shares", "A1=1"], [],
                           ["--budget", '{"A1": 100, "A5": 0}'], ["--budget", '{"A1": -1}'], ["--budget", "[]"],
                           ["--budget", '{"total": 10, "shares": {"A1": 1}}'], ["--budget", '{"total": true}'],
                           ["--budget", '{"total": 10, "shares": {"A1": 2, "A2": -1}}'], ["--budget", "nofile.json"],
                           ["--budget", '{"A1": 1e309}'], ["--budget", "{" * 100],
                           ["--budget", '{"A1": 1}', "--total", "5", "--shares", "A1=1"]])


@SETTINGS
@given(rows=ROWS, tail=TAILS, bom=st.booleans(), options=OPTIONS, budget=BUDGETS, exists=st.booleans(),
       same=st.booleans())
def test_budget_on_hostile_inputs(rows: list[tuple[str, tuple[str, str], str]], tail: bytes, bom: bool,
                                  options: list[str], budget: list[str], exists: bool, same: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        table, out = folder / "tiers.csv", folder / "budget.csv"
        table.write_bytes(_table(rows, tail, bom))
        if exists:
            out.write_text("an earlier file")
        target = table if same else out
        original = table.read_bytes()
        status, stderr = _run(["budget", str(table), "--output", str(target), *budget, *options])
        _judge("cli budget", status, stderr)
        assert table.read_bytes() == original or not same
        if same:
            assert status == 2 and table.read_bytes() == original  # the output may never replace the input
        if status != 0 and not same:
            assert (out.read_text() == "an earlier file") if exists else not out.exists()
        _no_partial_files(folder)
