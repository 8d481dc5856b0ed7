"""Hypothesis over the command line: hostile files and option values; exit 0, or exit 2 with one line on stderr.

Each run calls ``clvkit.cli.main`` in-process on small logs written for it - well-formed, or with hostile cells
(empty, NaN, huge, formula-like, wrong types, mixed time zones, bytes that are not UTF-8) - and hostile option
values. Outcomes are counted in the hardening probe table; a traceback, another exit status or a file left
half-written fails the test.
"""

from __future__ import annotations

import contextlib
import io
import tempfile
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clvkit.cli import main
from clvkit.datasets import load_cdnow_transactions

from ._probe import CORRECT, OTHER, TYPED, record

SETTINGS = settings(max_examples=40, suppress_health_check=list(HealthCheck), deadline=None)

CELLS = st.sampled_from(["", "NaN", "inf", "-1", "1e308", "=cmd|' /C calc'!A0", "+SUM(1+1)", "@x", "2024-01-01",
                         "2024-01-05T10:00:00+05:00", "2024-02-30", "abc", "0", "12.5", "1", "7", "\u00e9t\u00e9"])
OPTION_VALUES = st.sampled_from(["", "0", "-1", "1e9", "100000000", "nan", "D", "W", "M", "fortnight", "0.01", "2",
                                 "{", "[]", '{"share": 2}', "x" * 300])


def _cdnow_rows() -> list[tuple[str, str, str]]:
    """The bundled CDNOW log (a log that fits), as CSV cells; hostile rows are appended to it."""
    log = load_cdnow_transactions()
    dates = np.datetime_as_string(np.asarray(log["date"], dtype="datetime64[D]"))
    return [(str(c), str(d), f"{a:.2f}") for c, d, a in zip(log["customer_id"], dates, log["amount"], strict=True)]


VALID = _cdnow_rows()


def _log(rows: list[tuple[str, str, str]], raw_tail: bytes) -> bytes:
    text = "cust,date,amount\n" + "".join(f"{c},{d},{a}\n" for c, d, a in [*VALID, *rows])
    return text.encode("utf-8") + raw_tail


def _run(argv: list[str]) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            status = main(argv)
        except SystemExit as exc:  # argparse usage errors
            status = exc.code if isinstance(exc.code, int) else 2
    return status, err.getvalue()


def _judge(area: str, status: int, stderr: str) -> None:
    lines = [line for line in stderr.splitlines() if line.strip()]
    # A typed error is one line "clvkit COMMAND: error: ..." (argparse puts its usage above a usage error).
    one_error = bool(lines) and lines[-1].startswith("clvkit") and ": error: " in lines[-1] and \
        sum(": error: " in line for line in lines) == 1
    if status == 0 and "Traceback" not in stderr:
        record(area, CORRECT)
    elif status == 2 and "Traceback" not in stderr and one_error:
        record(area, TYPED)
    else:
        record(area, OTHER)
        raise AssertionError(f"{area}: exit {status}, stderr:\n{stderr}")


def _no_partial_files(folder: Path) -> None:
    leftovers = [p.name for p in folder.rglob("*") if p.name.startswith(".") or p.suffix == ".tmp"]
    assert leftovers == [], leftovers


@SETTINGS
@given(rows=st.lists(st.tuples(st.sampled_from(["a", "b", "c", "=x", ""]), CELLS, CELLS), min_size=0, max_size=3),
       tail=st.sampled_from([b"", b"", b"", b"\xff\xfe,1,2\n", b"a,2024-01-02"]),
       option=st.sampled_from(["--calibration-end", "--observation-end", "--time-unit", "--freq", "--refunds",
                               "--date-format", "--delimiter"]),
       value=OPTION_VALUES, hostile_option=st.booleans())
def test_fit_and_score_on_hostile_logs(rows: list[tuple[str, str, str]], tail: bytes, option: str, value: str,
                                       hostile_option: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        log = folder / "log.csv"
        log.write_bytes(_log(rows, tail))
        base = [str(log), "--customer-id", "cust", "--datetime", "date", "--monetary-value", "amount", "-q"]
        extra = [option, value] if hostile_option else []
        status, stderr = _run(["fit", *base, "--output", str(folder / "model"), *extra])
        _judge("cli fit", status, stderr)
        if status == 0:
            status, stderr = _run(["score", str(log), "--models", str(folder / "model"), "--output",
                                   str(folder / "scores.csv"), "-q", "--horizon", value if hostile_option else "12"])
            _judge("cli score", status, stderr)
        _no_partial_files(folder)


@SETTINGS
@given(values=st.lists(CELLS, min_size=0, max_size=8), ids=st.lists(st.sampled_from(["a", "b", "=c", "-1", ""]),
                                                                   min_size=0, max_size=8),
       policy=st.sampled_from(["five-a", "key-customers", "star-rating", "rfm", "value-cost", "value-risk", "loyalty",
                               "lifecycle"]),
       config=st.one_of(st.none(), OPTION_VALUES), bom=st.booleans())
def test_tier_on_hostile_tables(values: list[str], ids: list[str], policy: str, config: str | None, bom: bool) -> None:
    n = min(len(values), len(ids))
    text = "customer_id,clv\n" + "".join(f"{i},{v}\n" for i, v in zip(ids[:n], values[:n], strict=True))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        table = folder / "scores.csv"
        table.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
        argv = ["tier", str(table), "--policy", policy, "--value-column", "clv", "--output", str(folder / "tiers.csv"),
                "-q"]
        if config is not None:
            argv += ["--config", config]
        status, stderr = _run(argv)
        _judge("cli tier", status, stderr)
        _no_partial_files(folder)


REPORT_SETTINGS = settings(max_examples=12, suppress_health_check=list(HealthCheck), deadline=None)
#: The report fits two models and draws ten plots, so it runs on the first 400 CDNOW customers' records.
SMALL = [row for row in VALID if int(row[0]) <= 400]


@REPORT_SETTINGS
@given(rows=st.lists(st.tuples(st.sampled_from(["a", "b", "=x", ""]), CELLS, CELLS), min_size=0, max_size=2),
       option=st.sampled_from(["--calibration-end", "--observation-end", "--horizon", "--period", "--discount-rate",
                               "--top", "--title", "--binding", "--time-unit"]),
       value=OPTION_VALUES, hostile_option=st.booleans(), exists=st.booleans())
def test_report_on_hostile_logs(rows: list[tuple[str, str, str]], option: str, value: str, hostile_option: bool,
                                exists: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        log = folder / "log.csv"
        log.write_text("cust,date,amount\n" + "".join(f"{c},{d},{a}\n" for c, d, a in [*SMALL, *rows]))
        out = folder / "report.html"
        if exists:
            out.write_text("an earlier report")
        argv = ["report", str(log), "--customer-id", "cust", "--datetime", "date", "--monetary-value", "amount",
                "--calibration-end", "1997-09-30", "--output", str(out), "-q"]
        status, stderr = _run([*argv, *([option, value] if hostile_option else [])])
        _judge("cli report", status, stderr)
        if status == 0:
            assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>") and not exists
        else:
            assert not out.exists() or out.read_text() == "an earlier report"
        _no_partial_files(folder)


ACTIVITY_SETTINGS = settings(max_examples=25, suppress_health_check=list(HealthCheck), deadline=None)


@ACTIVITY_SETTINGS
@given(option=st.sampled_from(["--weeks", "--as-of", "--top", "--config", "--lang"]),
       value=st.one_of(OPTION_VALUES, st.sampled_from(["zh", "en", "fr", "2024-11-30", "1900-01-01", "9999-12-31",
                                                       '{"contact_interval_days": 0}', '{"key_actions": [{}]}',
                                                       '{"key_actions": [{"name": "v", "per_week": 2}]}'])),
       hostile_folder=st.booleans(), cell=CELLS)
def test_activity_and_binding_values_on_hostile_options(option: str, value: str, hostile_folder: bool,
                                                        cell: str) -> None:
    # issue 12: clvkit activity's options, and clvkit binding --values / --value-column / --lang
    from importlib import resources

    sample = Path(str(resources.files("clvkit").joinpath("data").joinpath("b2b_sample")))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        argv = ["activity", "-q", option, value]
        if hostile_folder:
            for path in sample.glob("*.csv"):
                (folder / path.name).write_bytes(path.read_bytes())
            tp = folder / "touchpoints.csv"
            tp.write_text(tp.read_text(encoding="utf-8") + f"T-9,C-0001,{cell},E-001,,visit,CARE\n", encoding="utf-8")
            argv.insert(1, str(folder))
        status, stderr = _run(argv)
        _judge("cli activity", status, stderr)
        scores = folder / "scores.csv"
        scores.write_text(f"customer_id,clv\nC-0001,{cell}\nC-0002,5\n", encoding="utf-8")
        column = value if option == "--config" else "clv"
        lang = value if option == "--lang" else "en"
        status, stderr = _run(["binding", "-q", "--top", "1", "--values", str(scores), "--value-column", column,
                               "--lang", lang])
        _judge("cli binding --values", status, stderr)
