"""The ``clvkit`` command line, run in-process through ``clvkit.cli.main``.

Reference values: the demo's printed estimates are checked against the *published* CDNOW estimates (not
against the command's own output), and ``fit``/``score`` against clvkit's in-process API on the same log.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import clvkit
from clvkit import load_json
from clvkit.cli import main, read_log
from clvkit.datasets import CDNOW_CALIBRATION_END, CDNOW_OBSERVATION_END, load_cdnow_transactions
from clvkit.valuation import BetaGeo, FittedBetaGeo, FittedGammaGamma, GammaGamma, clv

# Fader, Hardie & Lee (2005), "'Counting Your Customers' the Easy Way: An Alternative to the Pareto/NBD
# Model", Marketing Science 24(2), 275-284, section 5: BG/NBD on the CDNOW sample (2,357 customers, 39-week
# calibration, time in weeks): r = 0.243, alpha = 4.414, a = 0.793, b = 2.426, LL = -9582.4.
PUBLISHED_BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PUBLISHED_BGNBD_LL = -9582.4
# Fader & Hardie (2013), "The Gamma-Gamma Model of Monetary Value" (brucehardie.com note 025): the 946
# repeat customers of the same calibration period: p = 6.25, q = 3.74, gamma (clvkit's v) = 15.44.
PUBLISHED_GAMMA_GAMMA = {"p": 6.25, "q": 3.74, "v": 15.44}

FIT_ARGS = ["--customer-id", "cust", "--datetime", "when", "--monetary-value", "amount"]
SPLIT_ARGS = ["--calibration-end", "1997-09-30", "--observation-end", "1998-06-30"]


# ------------------------------------------------------------------------------------------ helpers
def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def cdnow_log() -> dict[str, Any]:
    log = load_cdnow_transactions()
    return {"cust": log["customer_id"], "when": log["date"], "amount": log["amount"], "cds": log["cds"]}


@pytest.fixture(scope="module")
def log_csv(tmp_path_factory: pytest.TempPathFactory, cdnow_log: dict[str, Any]) -> Path:
    """The bundled CDNOW log as a CSV file, written by the test with the csv module."""
    path = tmp_path_factory.mktemp("csv") / "cdnow.csv"
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["cust", "when", "cds", "amount"])
        w.writerows(zip(cdnow_log["cust"].tolist(), cdnow_log["when"].astype(str).tolist(),
                        cdnow_log["cds"].tolist(), [repr(a) for a in cdnow_log["amount"].tolist()], strict=True))
    return path


@pytest.fixture(scope="module")
def log_parquet(tmp_path_factory: pytest.TempPathFactory, cdnow_log: dict[str, Any]) -> Path:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    path = tmp_path_factory.mktemp("parquet") / "cdnow.parquet"
    pq.write_table(pa.table({"cust": cdnow_log["cust"], "when": cdnow_log["when"], "amount": cdnow_log["amount"]}),
                   path)
    return path


def in_process_summary(cdnow_log: dict[str, Any], *, split: bool) -> clvkit.CustomerSummary:
    kw: dict[str, Any] = {"calibration_end": CDNOW_CALIBRATION_END, "observation_end": CDNOW_OBSERVATION_END}
    s = clvkit.summarize(cdnow_log, customer_id="cust", datetime="when", monetary_value="amount", time_unit="D",
                         **(kw if split else {}))
    return s.with_time_unit("W")


def read_scores(path: Path) -> dict[str, np.ndarray]:
    with path.open(newline="") as fh:
        rows = list(csv.reader(fh))
    header, body = rows[0], rows[1:]
    cols = list(zip(*body, strict=True))
    return {h: np.array(c, dtype=np.int64 if h == "customer_id" else np.float64) for h, c in zip(header, cols,
                                                                                                  strict=True)}


def printed_params(out: str, title: str) -> dict[str, float]:
    """Parameter estimates of the block starting at ``title`` in the command's stdout."""
    block = out.split(title, 1)[1].split("\n\n", 1)[0]
    return {m.group(1): float(m.group(2)) for m in re.finditer(r"^\s+(\w+)\s+(-?[0-9.]+)\s+[0-9.]+", block, re.M)}


# ------------------------------------------------------------------------------------------ demo
@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, str, str, Path]:
    out_dir = tmp_path_factory.mktemp("demo")
    # capsys is function-scoped; this module-scoped run (shared by several tests) captures by hand.
    o, e = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(o), contextlib.redirect_stderr(e):
        code = main(["demo", "--output", str(out_dir), "--top", "5", "--lang", "en"])
    return code, o.getvalue(), e.getvalue(), out_dir


def test_demo_prints_the_published_bgnbd_estimates(demo_run: tuple[int, str, str, Path]) -> None:
    code, out, _, _ = demo_run
    assert code == 0
    est = printed_params(out, "BG/NBD purchase model (time unit: weeks)")
    assert set(est) == set(PUBLISHED_BGNBD)
    for name, published in PUBLISHED_BGNBD.items():
        # The paper reports three decimals; the demo prints four.
        assert round(est[name], 3) == pytest.approx(published, abs=1e-9), name
    block = out.split("BG/NBD purchase model (time unit: weeks)", 1)[1]
    ll = float(re.search(r"log-likelihood (-[0-9.]+)", block).group(1))
    assert round(ll, 1) == PUBLISHED_BGNBD_LL
    assert "Fader, Hardie & Lee (2005)" in out


def test_demo_prints_the_published_gamma_gamma_estimates(demo_run: tuple[int, str, str, Path]) -> None:
    _, out, _, _ = demo_run
    est = printed_params(out, "Gamma-Gamma spend model (spend per repeat purchase, dollars)")
    assert set(est) == set(PUBLISHED_GAMMA_GAMMA)
    for name, published in PUBLISHED_GAMMA_GAMMA.items():
        assert round(est[name], 2) == pytest.approx(published, abs=1e-9), name


def test_demo_overview_holdout_and_top_table(demo_run: tuple[int, str, str, Path], cdnow_log: dict[str, Any]
                                             ) -> None:
    _, out, err, out_dir = demo_run
    # The CDNOW sample: 2,357 customers of whom 946 repeat in the 39-week calibration period (FHL 2005).
    assert re.search(r"customers\s+2,357", out)
    assert re.search(r"repeat customers\s+946", out)
    assert "1997-09-30" in out and "1998-06-30" in out
    actual = float(re.search(r"actual repeat purchases\s+([0-9,]+)", out).group(1).replace(",", ""))
    predicted = float(re.search(r"predicted repeat purchases\s+([0-9,.]+)", out).group(1).replace(",", ""))
    summary = in_process_summary(cdnow_log, split=True)
    assert actual == summary.frequency_holdout.sum()
    bg = BetaGeo().fit(summary)
    assert predicted == pytest.approx(bg.expected_purchases(summary, 39.0).sum(), abs=0.06)
    top = out.split("Top 5 customers by CLV", 1)[1].splitlines()[3:8]
    assert len(top) == 5 and all(re.match(r"\s+\d+\s", line) for line in top)
    assert "Customer equity (2,357 customers" in out
    # Progress goes to stderr, one line per step.
    assert re.search(r"fitting BG/NBD on 2,357 customers \.\.\. done in [0-9.]+ s", err)
    assert "fitting Gamma-Gamma on 946 repeat customers" in err
    assert str(out_dir / "beta_geo.json") in out and str(out_dir / "scores.csv") in out


def test_demo_files_reproduce_the_in_process_fit(demo_run: tuple[int, str, str, Path], cdnow_log: dict[str, Any]
                                                 ) -> None:
    _, out, _, out_dir = demo_run
    bg = load_json((out_dir / "beta_geo.json").read_text())
    gg = load_json((out_dir / "gamma_gamma.json").read_text())
    assert isinstance(bg, FittedBetaGeo) and isinstance(gg, FittedGammaGamma)
    summary = in_process_summary(cdnow_log, split=True)
    ref_bg, ref_gg = BetaGeo().fit(summary), GammaGamma().fit(summary)
    np.testing.assert_allclose(bg.param_array(), ref_bg.param_array(), rtol=1e-10)
    np.testing.assert_allclose(gg.param_array(), ref_gg.param_array(), rtol=1e-10)
    assert bg.time_unit == "W" and bg.fit_info is not None and bg.fit_info.standard_errors is not None

    scores = read_scores(out_dir / "scores.csv")
    ref = clv(ref_bg, ref_gg, summary, horizon=12, discount_rate=0.01, period="M")
    np.testing.assert_array_equal(scores["customer_id"], summary.customer_id)
    np.testing.assert_allclose(scores["clv"], ref.clv, rtol=1e-9)
    np.testing.assert_allclose(scores["p_alive"], ref_bg.probability_alive(summary), rtol=1e-9)
    np.testing.assert_array_equal(scores["frequency_holdout"], summary.frequency_holdout)
    equity = float(re.search(r"Customer equity \(.*\): ([0-9,.]+)", out).group(1).replace(",", ""))
    assert equity == pytest.approx(ref.customer_equity, abs=0.006)


def test_demo_verbose_reports_iterations(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "demo", "--output", str(tmp_path), "--verbose", "--top", "1")
    assert code == 0
    assert re.search(r"BetaGeo iteration 1: log-likelihood -[0-9.]+", err)
    assert re.search(r"GammaGamma iteration \d+:", err)
    assert re.search(r"fitting BG/NBD on 2,357 customers done in", err)


def test_demo_quiet_writes_nothing_to_stderr(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "demo", "-q", "--output", str(tmp_path / "new" / "dir"), "--top", "0")
    assert code == 0 and err == ""
    assert "Top" not in out and (tmp_path / "new" / "dir" / "gamma_gamma.json").is_file()


# ------------------------------------------------------------------------------------------ fit / score
def test_fit_csv_reproduces_the_in_process_fit(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                               log_csv: Path, cdnow_log: dict[str, Any]) -> None:
    model_dir = tmp_path / "model"
    code, out, _ = run(capsys, "fit", str(log_csv), *FIT_ARGS, *SPLIT_ARGS, "--output", str(model_dir))
    assert code == 0
    bg = load_json((model_dir / "beta_geo.json").read_text())
    gg = load_json((model_dir / "gamma_gamma.json").read_text())
    summary = in_process_summary(cdnow_log, split=True)
    np.testing.assert_allclose(bg.param_array(), BetaGeo().fit(summary).param_array(), rtol=1e-10)
    np.testing.assert_allclose(gg.param_array(), GammaGamma().fit(summary).param_array(), rtol=1e-10)
    # The same data as the paper, so the same estimates (see the module constants for the provenance).
    assert {k: round(v, 3) for k, v in bg.params.model_dump().items()} == PUBLISHED_BGNBD
    assert "Holdout check" in out and "alpha" in out
    settings = json.loads((model_dir / "summary_settings.json").read_text())
    assert settings["customer_id"] == "cust" and settings["time_unit"] == "W" and settings["freq"] == "D"


def test_score_csv_matches_in_process_clv(tmp_path: Path, capsys: pytest.CaptureFixture[str], log_csv: Path,
                                          cdnow_log: dict[str, Any]) -> None:
    model_dir = tmp_path / "model"
    assert main(["fit", str(log_csv), *FIT_ARGS, "-q", "--output", str(model_dir)]) == 0
    capsys.readouterr()
    scores_path = tmp_path / "out" / "scores.csv"
    code, out, _ = run(capsys, "score", str(log_csv), "--models", str(model_dir), "--output", str(scores_path),
                       "--horizon", "6", "--period", "30", "--discount-rate", "0.02", "--margin", "0.3")
    assert code == 0
    bg = load_json((model_dir / "beta_geo.json").read_text())
    gg = load_json((model_dir / "gamma_gamma.json").read_text())
    summary = in_process_summary(cdnow_log, split=False)
    ref = clv(bg, gg, summary, horizon=6, discount_rate=0.02, margin=0.3, period=30 / 7)
    got = read_scores(scores_path)
    assert list(got) == ["customer_id", "frequency", "recency", "T", "monetary_value", "p_alive",
                         "expected_purchases", "expected_spend", "clv", "value_if_active"]
    np.testing.assert_allclose(got["value_if_active"] * got["p_alive"], got["clv"], rtol=1e-12)
    np.testing.assert_array_equal(got["customer_id"], summary.customer_id)
    np.testing.assert_array_equal(got["frequency"], summary.frequency)
    np.testing.assert_allclose(got["clv"], ref.clv, rtol=1e-12)
    np.testing.assert_allclose(got["expected_purchases"], ref.expected_purchases, rtol=1e-12)
    np.testing.assert_allclose(got["expected_spend"], gg.expected_spend(summary), rtol=1e-12)
    np.testing.assert_allclose(got["p_alive"], bg.probability_alive(summary), rtol=1e-12)
    equity = float(re.search(r"Customer equity \(.*\): ([0-9,.]+)", out).group(1).replace(",", ""))
    assert equity == pytest.approx(ref.customer_equity, abs=0.006)
    assert "6 30-day periods at 2% per 30-day period, margin 30%" in out


def test_score_with_model_files_and_fixed_spend(tmp_path: Path, capsys: pytest.CaptureFixture[str], log_csv: Path,
                                                cdnow_log: dict[str, Any]) -> None:
    model_dir = tmp_path / "model"
    assert main(["fit", str(log_csv), "--customer-id", "cust", "--datetime", "when", "--time-unit", "D", "-q",
                 "--output", str(model_dir)]) == 0
    assert not (model_dir / "gamma_gamma.json").exists()
    out_csv = tmp_path / "s.csv"
    code, _, err = run(capsys, "score", str(log_csv), "--model", str(model_dir / "beta_geo.json"),
                       "--customer-id", "cust", "--datetime", "when", "--spend", "20", "--output", str(out_csv))
    assert code == 0, err
    bg = load_json((model_dir / "beta_geo.json").read_text())
    assert bg.time_unit == "D"
    s = clvkit.summarize(cdnow_log, customer_id="cust", datetime="when", time_unit="D")
    ref = clv(bg, 20.0, s, horizon=12, discount_rate=0.01, period="M")
    np.testing.assert_allclose(read_scores(out_csv)["clv"], ref.clv, rtol=1e-12)


def test_parquet_input_gives_the_same_models_and_scores(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                        log_csv: Path, log_parquet: Path) -> None:
    for name, path in (("csv", log_csv), ("parquet", log_parquet)):
        assert main(["fit", str(path), *FIT_ARGS, *SPLIT_ARGS, "-q", "--output", str(tmp_path / name)]) == 0
        assert main(["score", str(path), "--models", str(tmp_path / name), "-q", "--top", "0",
                     "--output", str(tmp_path / f"{name}.csv")]) == 0
    capsys.readouterr()
    for model in ("beta_geo.json", "gamma_gamma.json"):
        a, b = (load_json((tmp_path / n / model).read_text()) for n in ("csv", "parquet"))
        np.testing.assert_array_equal(a.param_array(), b.param_array())
    assert (tmp_path / "csv.csv").read_text() == (tmp_path / "parquet.csv").read_text()
    # --model takes several files at once, the same as --models DIR.
    assert main(["score", str(log_csv), "--model", str(tmp_path / "csv" / "beta_geo.json"),
                 str(tmp_path / "csv" / "gamma_gamma.json"), "--customer-id", "cust", "--datetime", "when",
                 "--monetary-value", "amount", "-q", "--top", "0", "--output", str(tmp_path / "files.csv")]) == 0
    assert (tmp_path / "files.csv").read_text() == (tmp_path / "csv.csv").read_text()


def test_csv_reading_needs_no_optional_dependency(tmp_path: Path, log_csv: Path) -> None:
    # A fresh interpreter in which pandas, polars and pyarrow cannot be imported.
    code = (
        "import sys\n"
        "for m in ('pandas', 'polars', 'pyarrow'): sys.modules[m] = None\n"
        "from clvkit.cli import main\n"
        f"sys.exit(main(['fit', {str(log_csv)!r}, '--customer-id', 'cust', '--datetime', 'when',"
        f" '--monetary-value', 'amount', '-q', '--output', {str(tmp_path / 'm')!r}]))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "m" / "gamma_gamma.json").is_file()


def test_corrupt_parquet_is_a_clean_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("pyarrow.parquet")
    path = tmp_path / "log.parquet"
    path.write_bytes(b"not parquet at all")
    code, _, err = run(capsys, "fit", str(path), "--customer-id", "c", "--datetime", "d", "-q")
    assert code == 2 and "cannot be read as Parquet" in err and "Traceback" not in err


def test_parquet_without_pyarrow_names_the_extra(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "log.parquet"
    path.write_bytes(b"PAR1")
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    code, _, err = run(capsys, "fit", str(path), "--customer-id", "c", "--datetime", "d")
    assert code == 2
    assert "pip install 'clvkit[frames]'" in err and "Traceback" not in err


def test_read_log_parses_ids_times_and_amounts(tmp_path: Path) -> None:
    path = tmp_path / "log.tsv"
    path.write_text("id\tts\tamt\n007\t2024-01-01T10:00:00+02:00\t1.5\nC-2\t2024-01-02 00:00:00Z\t2\n"
                    "007\t2024-01-03T00:00:00Z\t-0.5\n")  # naive times may not mix with offsets
    cols = read_log(path, customer_id="id", datetime="ts", monetary_value="amt")
    assert cols["id"].tolist() == ["007", "C-2", "007"]  # text ids keep their leading zeros
    assert cols["ts"].astype(str).tolist() == ["2024-01-01T08:00:00.000000", "2024-01-02T00:00:00.000000",
                                               "2024-01-03T00:00:00.000000"]  # offsets converted to UTC
    assert cols["amt"].tolist() == [1.5, 2.0, -0.5]
    plain = tmp_path / "ints.csv"
    plain.write_text("id,ts\n12,19970101\n3,19970102\n")
    cols = read_log(plain, customer_id="id", datetime="ts", date_format="%Y%m%d")
    assert cols["id"].dtype == np.int64 and cols["id"].tolist() == [12, 3]
    assert cols["ts"].astype("datetime64[D]").astype(str).tolist() == ["1997-01-01", "1997-01-02"]


# ------------------------------------------------------------------------------------------ errors
def test_missing_column_exits_2_and_names_the_column(capsys: pytest.CaptureFixture[str], log_csv: Path,
                                                     tmp_path: Path) -> None:
    code, _, err = run(capsys, "fit", str(log_csv), "--customer-id", "customer", "--datetime", "when",
                       "--output", str(tmp_path))
    assert code == 2
    lines = [line for line in err.splitlines() if "error" in line]
    assert len(lines) == 1 and "'customer'" in lines[0] and "is not a column" in lines[0]
    assert "Available columns: ['cust', 'when', 'cds', 'amount']" in lines[0]
    assert "Traceback" not in err


def test_missing_parquet_column_exits_2(capsys: pytest.CaptureFixture[str], log_parquet: Path,
                                        tmp_path: Path) -> None:
    code, _, err = run(capsys, "fit", str(log_parquet), "--customer-id", "cust", "--datetime", "when",
                       "--monetary-value", "dollars", "--output", str(tmp_path))
    assert code == 2 and "'dollars'" in err and "is not a column" in err


def test_unreadable_values_are_reported_with_line_numbers(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                                          ) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("c,d,a\n1,2020-01-01,3\n2,2020/01/02,x\n\n3,2020-01-05,1\n4,not a date,2\n")
    code, _, err = run(capsys, "fit", str(path), "--customer-id", "c", "--datetime", "d", "--monetary-value", "a",
                       "-q")
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert "'d': cannot be read as a date/time" in err and "2 lines fail; first at line 3, 6" in err
    assert "'a': cannot be read as a number; got 'x' (1 line fail; first at line 3)" in err


def test_data_errors_from_summarize_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "refund.csv"
    path.write_text("c,d,a\n1,2020-01-01,3\n1,2020-01-05,-3\n")
    code, _, err = run(capsys, "fit", str(path), "--customer-id", "c", "--datetime", "d", "--monetary-value", "a",
                       "-q")
    assert code == 2 and "refund" in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["fit", "no-such-file.csv", "--customer-id", "a", "--datetime", "b"], "does not exist"),
        (["score", "x.csv", "--output", "o.csv"], "score needs the models"),
        (["score", "x.csv", "--models", "no-such-dir", "--output", "o.csv"], "does not exist"),
    ],
)
def test_clvkit_errors_exit_2_on_one_line(argv: list[str], needle: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert needle in err and len(err.strip().splitlines()) <= 2 and "Traceback" not in err


def test_score_needs_columns_with_bare_model_files(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                   log_csv: Path) -> None:
    assert main(["fit", str(log_csv), *FIT_ARGS, "-q", "--output", str(tmp_path)]) == 0
    code, _, err = run(capsys, "score", str(log_csv), "--model", str(tmp_path / "beta_geo.json"), "--output",
                       str(tmp_path / "s.csv"))
    assert code == 2 and "--customer-id" in err
    code, _, err = run(capsys, "score", str(log_csv), "--model", str(tmp_path / "summary_settings.json"),
                       "--output", str(tmp_path / "s.csv"))
    assert code == 2 and "summary_settings.json" in err


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["bogus"],
        ["fit", "log.csv"],
        ["score", "log.csv", "--models", "m", "--output", "s.csv", "--discount-rate", "1.5"],
        ["demo", "--top", "-1"],
    ],
)
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, *argv)
    assert code == 2 and "usage: clvkit" in err


def test_version_and_help(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--version")
    assert code == 0 and out.strip() == f"clvkit {clvkit.__version__}"
    code, out, _ = run(capsys, "demo", "--help")
    assert code == 0 and "--output" in out


def test_python_dash_m_runs_the_cli() -> None:
    proc = subprocess.run([sys.executable, "-m", "clvkit", "--version"], capture_output=True, text=True, check=False)
    assert proc.returncode == 0 and proc.stdout.strip() == f"clvkit {clvkit.__version__}"


def test_invalid_json_model_is_a_clean_error(tmp_path: Path, capsys: pytest.CaptureFixture[str], log_csv: Path
                                             ) -> None:
    bad = tmp_path / "m.json"
    bad.write_text('{"schema": "clvkit.fitted_model", "schema_version": 1, "model": "BetaGeo", "params": {}}')
    code, _, err = run(capsys, "score", str(log_csv), "--model", str(bad), "--customer-id", "cust", "--datetime",
                       "when", "--spend", "1", "--output", str(tmp_path / "s.csv"))
    assert code == 2 and "m.json" in err and "Traceback" not in err


def test_score_with_referrals_adds_indirect_value(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                   log_csv: Path, cdnow_log: dict[str, Any]) -> None:
    # Customer 1 referred 2 and 3; 3 referred 4. One level (default): 1 is credited 2's and 3's CLV.
    model_dir = tmp_path / "model"
    assert main(["fit", str(log_csv), *FIT_ARGS, "-q", "--output", str(model_dir)]) == 0
    referrals = tmp_path / "referrals.csv"
    referrals.write_text("referrer,referred\n1,2\n1,3\n3,4\n", encoding="utf-8")
    scores_path = tmp_path / "scores.csv"
    code, out, _ = run(capsys, "score", str(log_csv), "--models", str(model_dir), "--output", str(scores_path),
                       "--referrals", str(referrals), "-q")
    assert code == 0
    composite = tmp_path / "scores_composite.csv"
    rows = {r["customer_id"]: r for r in csv.DictReader(composite.open(encoding="utf-8"))}
    clv_by_id = dict(zip(read_scores(scores_path)["customer_id"].tolist(),
                         read_scores(scores_path)["clv"].tolist(), strict=True))
    assert float(rows["1"]["indirect_value"]) == pytest.approx(clv_by_id[2] + clv_by_id[3], rel=1e-9)
    assert float(rows["3"]["indirect_value"]) == pytest.approx(clv_by_id[4], rel=1e-9)
    assert float(rows["2"]["indirect_value"]) == 0.0
    assert "total value" in out.lower()
    # a referral to an unknown customer is a one-line error naming the id
    referrals.write_text("referrer,referred\n1,999999\n", encoding="utf-8")
    code, _, err = run(capsys, "score", str(log_csv), "--models", str(model_dir), "--output", str(scores_path),
                       "--referrals", str(referrals), "--force", "-q")
    assert code == 2 and "999999" in err


def test_score_with_an_external_engine(tmp_path: Path, capsys: pytest.CaptureFixture[str], log_csv: Path) -> None:
    # tests/external_engine is a package outside clvkit (no clvkit import, no base class): the CLI loads it by
    # MODULE:NAME and uses it for the direct part, unchanged clvkit code.
    model_dir = tmp_path / "model"
    assert main(["fit", str(log_csv), *FIT_ARGS, "-q", "--output", str(model_dir)]) == 0
    scores_path = tmp_path / "scores.csv"
    code, _out, err = run(capsys, "score", str(log_csv), "--models", str(model_dir), "--output", str(scores_path),
                         "--engine", "external_engine.engines:SpendMultiple", "-q")
    assert code == 0, err
    scores = read_scores(scores_path)
    rows = list(csv.DictReader((tmp_path / "scores_composite.csv").open(encoding="utf-8")))
    direct = np.array([float(r["direct_value"]) for r in rows])
    # SpendMultiple(multiple=3): 3 x mean spend x (repeat purchases + 1)
    np.testing.assert_allclose(direct, 3.0 * scores["monetary_value"] * (scores["frequency"] + 1.0), rtol=1e-12)
    code, _, err = run(capsys, "score", str(log_csv), "--models", str(model_dir), "--output", str(scores_path),
                       "--engine", "external_engine.engines:Broken", "--force", "-q")
    assert code == 2 and "engine" in err.lower()
