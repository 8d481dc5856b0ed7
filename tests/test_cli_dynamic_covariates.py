"""``clvkit fit`` and ``clvkit score`` with ``--dynamic-covariates`` on the apparel data (issue 13, scope 6).

Expected values come from independent calls of the Python API: the transactions and the weekly covariates are read
with pandas, summarized with :func:`clvkit.summarize` (daily periods, time in weeks, CLVTools' 104-week split) and
fitted with ``BetaGeo().fit(summary, purchase_covariates=Covariates.dynamic(...))``; the scores are compared with
:func:`clvkit.valuation.clv` on those covariates. The command line must give the same numbers.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import clvkit
from clvkit import CovariateDesign, Covariates, load_json
from clvkit.cli import SummarySettings, main
from clvkit.errors import InvalidInputError
from clvkit.valuation import BetaGeo, GammaGamma, clv

COLUMNS = ["High.Season", "Gender", "Channel"]
SPLIT = "2006-12-31"  # CLVTools' estimation split: 104 weeks after the first purchases (2005-01-02)
MEAN_MONTH_WEEKS = 30.436875 / 7  # the CLI's default --period M


def _run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(argv)
    return status, out.getvalue(), err.getvalue()


def _fit_args(log: Path, folder: Path, *extra: str) -> list[str]:
    return ["fit", str(log), "--customer-id", "Id", "--datetime", "Date", "--monetary-value", "Price",
            "--calibration-end", SPLIT, "-o", str(folder), *extra]


@pytest.fixture(scope="module")
def apparel(shared_data: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The CLI fit with the weekly covariates in the purchase process, and the same fit made with the library."""
    pd = pytest.importorskip("pandas")
    d = tmp_path_factory.mktemp("dyncli")
    log, dyn_path = Path(shared_data("apparel_trans.csv")), Path(shared_data("apparel_dyn_cov.csv.gz"))
    folder = d / "model"
    status, out, err = _run(_fit_args(log, folder, "--dynamic-covariates", str(dyn_path), "--period-column",
                                      "Cov.Date", "--dynamic-columns", *COLUMNS))
    assert status == 0, err
    trans = pd.read_csv(log, parse_dates=["Date"])
    frame = pd.read_csv(dyn_path, parse_dates=["Cov.Date"])
    summary = clvkit.summarize(trans, customer_id="Id", datetime="Date", monetary_value="Price", time_unit="D",
                               calibration_end=SPLIT).with_time_unit("W")
    cov = Covariates.dynamic(frame, customer_id="Id", period="Cov.Date", columns=COLUMNS)
    return {"dir": d, "log": log, "dyn": dyn_path, "folder": folder, "out": out, "pd": pd, "frame": frame,
            "summary": summary, "cov": cov, "library": BetaGeo().fit(summary, purchase_covariates=cov)}


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open() as fh:
        return list(csv.DictReader(fh))


def test_fit_writes_the_dynamic_design_and_the_period_column(apparel: dict[str, Any]) -> None:
    folder = apparel["folder"]
    manifest = json.loads((folder / "manifest.json").read_text())
    assert "dynamic_covariate_design.json" in manifest["files"]
    assert not (folder / "covariate_design.json").exists()  # no static covariates were given
    design = CovariateDesign.from_json((folder / "dynamic_covariate_design.json").read_text())
    assert design.kind == "dynamic" and design.names == tuple(COLUMNS)
    settings = json.loads((folder / "summary_settings.json").read_text())
    assert settings["period_column"] == "Cov.Date" and settings["schema_version"] == 2
    assert settings["freq"] == "D" and settings["time_unit"] == "W"  # the purchase dates are kept: daily periods
    bg = load_json((folder / "beta_geo.json").read_text())
    assert bg.time_varying and set(bg.coefficients["purchase"]) == set(COLUMNS)
    assert not bg.coefficients.get("dropout")
    printed = {line.split()[0]: line.split()[1] for line in apparel["out"].splitlines()
               if line.strip().startswith("purchase.")}
    assert printed == {f"purchase.{n}": f"{v:.4f}" for n, v in bg.coefficients["purchase"].items()}
    assert "purchase: time-varying covariates of" in apparel["out"] and "dropout: no covariates" in apparel["out"]


def test_saved_model_equals_the_library_fit_on_the_same_data(apparel: dict[str, Any]) -> None:
    bg = load_json((apparel["folder"] / "beta_geo.json").read_text())
    lib = apparel["library"]
    np.testing.assert_allclose(bg.param_array(), lib.param_array(), rtol=1e-10)
    for name, value in lib.coefficients["purchase"].items():
        assert bg.coefficients["purchase"][name] == pytest.approx(value, rel=1e-10)
    assert bg.log_likelihood == pytest.approx(lib.log_likelihood, rel=1e-12)
    # the high season raises the purchase rate (CLVTools' Pareto/NBD finds the same sign on these data)
    se = bg.standard_errors
    assert se is not None and bg.coefficients["purchase"]["High.Season"] / se["purchase.High.Season"] > 5
    # the fit's holdout check used the covariates of the 207 holdout weeks (nothing printed without them)
    summary, cov = apparel["summary"], apparel["cov"]
    predicted = lib.expected_purchases(summary, summary.duration_holdout, purchase_covariates=cov).sum()
    assert f"predicted repeat purchases  {predicted:,.1f}" in apparel["out"]


def test_score_reproduces_the_library_clv_with_the_horizon_covariates(apparel: dict[str, Any]) -> None:
    scores = apparel["dir"] / "scores.csv"
    status, _, err = _run(["score", str(apparel["log"]), "--models", str(apparel["folder"]), "--calibration-end",
                           SPLIT, "--dynamic-covariates", str(apparel["dyn"]), "-q", "-o", str(scores)])
    assert status == 0, err
    rows = _rows(scores)
    summary, cov, lib = apparel["summary"], apparel["cov"], apparel["library"]
    assert [int(r["customer_id"]) for r in rows] == summary.customer_id.tolist()
    gg = GammaGamma().fit(summary)
    # the CLI's defaults: 12 mean months at 1% a month, margin 1
    want = clv(lib, gg, summary, horizon=12, discount_rate=0.01, period="M", purchase_covariates=cov)
    np.testing.assert_allclose([float(r["clv"]) for r in rows], want.clv, rtol=1e-9)
    np.testing.assert_allclose([float(r["expected_purchases"]) for r in rows], want.expected_purchases, rtol=1e-9)
    np.testing.assert_allclose([float(r["p_alive"]) for r in rows], lib.probability_alive(summary,
                               purchase_covariates=cov), rtol=1e-9)
    path = lib.expected_purchases_path(summary, np.arange(1, 13) * MEAN_MONTH_WEEKS, purchase_covariates=cov)
    np.testing.assert_allclose([float(r["expected_purchases"]) for r in rows], path[-1], rtol=1e-9)
    # the horizon's covariates matter: without the 2007 high seasons every customer would be expected to buy less
    pd = apparel["pd"]
    frame = apparel["frame"].copy()
    frame.loc[frame["Cov.Date"] > pd.Timestamp(SPLIT), "High.Season"] = 0
    flat = Covariates.dynamic(frame, customer_id="Id", period="Cov.Date", columns=COLUMNS, design=cov.design)
    lower = lib.expected_purchases_path(summary, [12 * MEAN_MONTH_WEEKS], purchase_covariates=flat)[-1]
    assert np.all(lower < path[-1])


def test_static_dropout_covariates_with_time_varying_purchase_covariates(apparel: dict[str, Any],
                                                                        shared_data: Any) -> None:
    static_path = Path(shared_data("apparel_static_cov.csv"))
    folder = apparel["dir"] / "both"
    status, out, err = _run(_fit_args(apparel["log"], folder, "--dynamic-covariates", str(apparel["dyn"]),
                                      "--period-column", "Cov.Date", "--dynamic-columns", "High.Season",
                                      "--covariates", str(static_path), "--covariate-columns", "Gender", "-q"))
    assert status == 0, err
    assert "dropout: static covariates of" in out
    bg = load_json((folder / "beta_geo.json").read_text())
    summary = apparel["summary"]
    season = Covariates.dynamic(apparel["frame"], customer_id="Id", period="Cov.Date", columns=["High.Season"])
    gender = Covariates.static(apparel["pd"].read_csv(static_path), customer_id="Id", columns=["Gender"])
    lib = BetaGeo().fit(summary, purchase_covariates=season, dropout_covariates=gender)
    np.testing.assert_allclose(bg.param_array(), lib.param_array(), rtol=1e-10)
    assert set(bg.coefficients["purchase"]) == {"High.Season"} and set(bg.coefficients["dropout"]) == {"Gender"}
    assert bg.coefficients["dropout"]["Gender"] == pytest.approx(lib.coefficients["dropout"]["Gender"], rel=1e-10)
    assert (folder / "covariate_design.json").exists() and (folder / "dynamic_covariate_design.json").exists()
    scores = apparel["dir"] / "both.csv"
    base = ["score", str(apparel["log"]), "--models", str(folder), "--calibration-end", SPLIT, "--spend", "50",
            "-q", "-o", str(scores)]
    status, _, err = _run([*base, "--dynamic-covariates", str(apparel["dyn"])])
    assert status == 2 and "--covariates FILE" in err and not scores.exists()
    status, _, err = _run([*base, "--dynamic-covariates", str(apparel["dyn"]), "--covariates", str(static_path)])
    assert status == 0, err
    want = clv(lib, 50.0, summary, horizon=12, discount_rate=0.01, period="M", purchase_covariates=season,
               dropout_covariates=gender)
    rows = _rows(scores)
    np.testing.assert_allclose([float(r["clv"]) for r in rows], want.clv, rtol=1e-9)
    np.testing.assert_allclose([float(r["p_alive"]) for r in rows], want.p_alive, rtol=1e-9)


def test_fit_skips_the_holdout_check_when_the_covariates_end_with_the_calibration(apparel: dict[str, Any]) -> None:
    pd = apparel["pd"]
    frame = apparel["frame"]
    short = apparel["dir"] / "to-split.csv"
    frame[frame["Cov.Date"] <= pd.Timestamp(SPLIT)].to_csv(short, index=False)
    folder = apparel["dir"] / "short"
    status, out, err = _run(_fit_args(apparel["log"], folder, "--dynamic-covariates", str(short),
                                      "--period-column", "Cov.Date", "-q"))
    assert status == 0, err
    assert "Holdout check skipped:" in out and "do not cover the prediction horizon" in out
    bg = load_json((folder / "beta_geo.json").read_text())
    np.testing.assert_allclose(bg.param_array(), apparel["library"].param_array(), rtol=1e-10)  # same calibration


# ------------------------------------------------------------------------------------------- typed errors
def _error(argv: list[str]) -> str:
    status, _, err = _run([*argv, "-q"])
    assert status == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"clvkit {argv[0]}: error: "), err
    return lines[0]


def test_a_missing_column_names_the_file_and_the_column(apparel: dict[str, Any]) -> None:
    out = apparel["dir"] / "bad"
    err = _error(_fit_args(apparel["log"], out, "--dynamic-covariates", str(apparel["dyn"]), "--period-column",
                           "Cov.Date", "--dynamic-columns", "High.Season", "Sex"))
    assert str(apparel["dyn"]) in err and "'Sex': is not a column" in err
    err = _error(_fit_args(apparel["log"], out, "--dynamic-covariates", str(apparel["dyn"])))  # default: 'period'
    assert "'period': is not a column" in err and "--period-column" in err
    err = _error(_fit_args(apparel["log"], out, "--period-column", "Cov.Date"))
    assert "--period-column needs --dynamic-covariates FILE" in err
    assert not out.exists()


def test_a_grid_not_aligned_with_the_purchase_periods_is_one_clean_error(apparel: dict[str, Any]) -> None:
    # --freq W counts purchases in weeks starting on Mondays; the covariate weeks start on Sundays
    out = apparel["dir"] / "weekly"
    err = _error(_fit_args(apparel["log"], out, "--freq", "W", "--dynamic-covariates", str(apparel["dyn"]),
                           "--period-column", "Cov.Date"))
    assert "do not align" in err and "2005-01-02" in err and "--freq D" in err
    assert not out.exists()


def test_covariates_that_do_not_cover_the_calibration_or_the_horizon_are_refused(apparel: dict[str, Any]) -> None:
    pd = apparel["pd"]
    frame = apparel["frame"]
    late = apparel["dir"] / "late.csv"
    frame[frame["Cov.Date"] >= pd.Timestamp("2005-03-06")].to_csv(late, index=False)
    err = _error(_fit_args(apparel["log"], apparel["dir"] / "late", "--dynamic-covariates", str(late),
                           "--period-column", "Cov.Date"))
    assert "do not cover the calibration period" in err and "customer 1 has no row for the period starting 2005-01-02" \
        in err
    scores = apparel["dir"] / "long.csv"
    err = _error(["score", str(apparel["log"]), "--models", str(apparel["folder"]), "--calibration-end", SPLIT,
                  "--dynamic-covariates", str(apparel["dyn"]), "--horizon", "60", "-o", str(scores)])
    # the covariates end with the week of 2010-12-26: 60 months after 2006-12-31 reach into 2011
    assert "do not cover the prediction horizon" in err and "2011-01-02" in err
    assert not scores.exists()


def test_score_without_the_file_or_with_it_for_a_model_without(apparel: dict[str, Any]) -> None:
    scores = apparel["dir"] / "none.csv"
    err = _error(["score", str(apparel["log"]), "--models", str(apparel["folder"]), "-o", str(scores)])
    assert "fitted with time-varying covariates" in err and "--dynamic-covariates FILE" in err
    plain = apparel["dir"] / "plain"
    assert _run(["fit", str(apparel["log"]), "--customer-id", "Id", "--datetime", "Date", "-q", "-o",
                 str(plain)])[0] == 0
    err = _error(["score", str(apparel["log"]), "--models", str(plain), "--spend", "10", "--dynamic-covariates",
                  str(apparel["dyn"]), "-o", str(scores)])
    assert "fitted without time-varying covariates" in err
    assert not scores.exists()


def test_parquet_covariates_fit_as_the_csv(apparel: dict[str, Any]) -> None:
    pytest.importorskip("pyarrow")
    pq = apparel["dir"] / "dyn.parquet"
    apparel["frame"].to_parquet(pq)  # periods stored as timestamps
    folder = apparel["dir"] / "model-parquet"
    status, _, err = _run(_fit_args(apparel["log"], folder, "--dynamic-covariates", str(pq), "--period-column",
                                    "Cov.Date", "--dynamic-columns", *COLUMNS, "-q"))
    assert status == 0, err
    a = load_json((folder / "beta_geo.json").read_text())
    b = load_json((apparel["folder"] / "beta_geo.json").read_text())
    assert a.coefficients == b.coefficients and a.params == b.params


# ------------------------------------------------------------------------------------------- no shared data
def test_help_lists_the_options() -> None:
    status, out, _ = _run(["fit", "--help"])
    assert status == 0
    flat = " ".join(out.split())
    for option in ("--dynamic-covariates FILE", "--period-column COL", "--dynamic-columns COL"):
        assert option in flat
    assert "time-varying covariates of BG/NBD's purchase process" in flat
    status, out, _ = _run(["score", "--help"])
    assert status == 0 and "--dynamic-covariates FILE" in out
    assert "covering each customer's calibration period and the scoring horizon" in " ".join(out.split())


def test_summary_settings_keep_reading_version_1(tmp_path: Path) -> None:
    plain = SummarySettings(customer_id="Id", datetime="Date", monetary_value=None, freq="D", time_unit="W")
    doc = json.loads(plain.to_json())
    assert doc["schema_version"] == 1 and "period_column" not in doc  # unchanged for folders without them
    assert SummarySettings.from_document(doc, tmp_path) == plain
    dynamic = SummarySettings(customer_id="Id", datetime="Date", monetary_value=None, freq="D", time_unit="W",
                              period_column="Cov.Date")
    doc2 = json.loads(dynamic.to_json())
    assert doc2["schema_version"] == 2 and SummarySettings.from_document(doc2, tmp_path) == dynamic
    with pytest.raises(InvalidInputError, match="schema_version 1 does not have"):
        SummarySettings.from_document({**doc, "period_column": "p"}, tmp_path)
    with pytest.raises(InvalidInputError, match="lacks the field 'period_column'"):
        SummarySettings.from_document({k: v for k, v in doc2.items() if k != "period_column"}, tmp_path)
    with pytest.raises(InvalidInputError, match="reads versions 1 and 2"):
        SummarySettings.from_document({**doc2, "schema_version": 3}, tmp_path)


def test_read_dynamic_covariates_reads_a_bom_gzip_and_the_logs_date_format(tmp_path: Path) -> None:
    import gzip

    from clvkit.cli._covariates import read_dynamic_covariates

    path = tmp_path / "weekly.csv.gz"
    # a byte-order mark (Excel's "CSV UTF-8"), dates as yyyymmdd numbers, a blank line
    path.write_bytes(gzip.compress("\ufeffid,week,season\n1,20050102,0\n1,20050109,1\n\n2,20050109,1\n"
                                   .encode("utf-8")))
    cov = read_dynamic_covariates(path, customer_id="id", period="week", date_format="yyyymmdd")
    assert cov.names == ("season",) and cov.customer_id.tolist() == [1, 2]
    assert cov.periods.astype("datetime64[D]").astype(str).tolist() == ["2005-01-02", "2005-01-09"]
    np.testing.assert_array_equal(cov.values[:, :, 0], [[0.0, 1.0], [np.nan, 1.0]])
    # the period column is read as the log's times: an unreadable value is named by its file line (after the blank)
    bad = tmp_path / "bad.csv"
    bad.write_text("id,week,season\n1,20050102,0\n\n1,20050132,1\n")
    with pytest.raises(InvalidInputError, match=r"(?s)dynamic covariates file .*bad\.csv.*'week'.*first at line 4"):
        read_dynamic_covariates(bad, customer_id="id", period="week", date_format="yyyymmdd")
    with pytest.raises(InvalidInputError, match="cannot also be a covariate column"):
        read_dynamic_covariates(path, customer_id="id", period="week", columns=["week", "season"])
