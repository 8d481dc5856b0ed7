"""``clvkit fit --covariates`` and ``clvkit score --covariates`` end to end on the apparel data (issue 13, scope 6).

The scores the CLI writes are compared with the Python API's predictions from the saved model, the saved design
and covariates built independently with pandas from the same file; the coefficient table printed is compared
with the saved model's coefficients.
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

from clvkit import CovariateDesign, Covariates, load_json
from clvkit.cli import main


def _run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(argv)
    return status, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def fitted(shared_data: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    pd = pytest.importorskip("pandas")
    d = tmp_path_factory.mktemp("covcli")
    trans = pd.read_csv(shared_data("apparel_trans.csv"))
    log = d / "calibration.csv"
    trans[trans.Date <= "2006-12-31"].to_csv(log, index=False)
    cov_path = Path(shared_data("apparel_static_cov.csv"))
    folder = d / "model"
    status, out, err = _run(["fit", str(log), "--customer-id", "Id", "--datetime", "Date", "--freq", "W",
                             "--monetary-value", "Price", "--covariates", str(cov_path),
                             "--covariate-columns", "Gender", "-o", str(folder)])
    assert status == 0, err
    return {"dir": d, "log": log, "cov": cov_path, "folder": folder, "out": out, "pd": pd}


def test_fit_saves_design_and_coefficients_and_prints_them(fitted: dict[str, Any]) -> None:
    folder = fitted["folder"]
    manifest = json.loads((folder / "manifest.json").read_text())
    assert "covariate_design.json" in manifest["files"]
    design = CovariateDesign.from_json((folder / "covariate_design.json").read_text())
    assert design.names == ("Gender",) and design.kind == "static"
    bg = load_json((folder / "beta_geo.json").read_text())
    assert set(bg.coefficients) == {"purchase", "dropout"}
    printed = {line.split()[0]: line.split()[1] for line in fitted["out"].splitlines()
               if line.strip().startswith(("purchase.", "dropout."))}
    assert printed == {f"{p}.Gender": f"{bg.coefficients[p]['Gender']:.4f}" for p in ("purchase", "dropout")}


def test_score_equals_the_python_api_with_the_same_covariates(fitted: dict[str, Any]) -> None:
    pd = fitted["pd"]
    from clvkit import summarize

    scores = fitted["dir"] / "scores.csv"
    status, _, err = _run(["score", str(fitted["log"]), "--models", str(fitted["folder"]), "--covariates",
                           str(fitted["cov"]), "-o", str(scores)])
    assert status == 0, err
    with scores.open() as fh:
        rows = list(csv.DictReader(fh))
    folder = fitted["folder"]
    bg = load_json((folder / "beta_geo.json").read_text())
    design = CovariateDesign.from_json((folder / "covariate_design.json").read_text())
    trans = pd.read_csv(fitted["log"], parse_dates=["Date"])
    summary = summarize(trans, customer_id="Id", datetime="Date", monetary_value="Price", time_unit="W")
    cov = Covariates.static(pd.read_csv(fitted["cov"]), customer_id="Id", columns=["Gender"], design=design)
    covs = {"purchase_covariates": cov, "dropout_covariates": cov}
    p_alive = bg.probability_alive(summary, **covs)
    got_ids = np.array([int(r["customer_id"]) for r in rows])
    assert np.array_equal(got_ids, summary.customer_id)
    np.testing.assert_allclose([float(r["p_alive"]) for r in rows], p_alive, rtol=1e-12)
    # clv()'s defaults in the CLI: 12 monthly periods at 1% a month, margin 1 (printed in the scores' header).
    path = bg.expected_purchases_path(summary, np.arange(1, 13) * (30.436875 / 7), **covs)
    np.testing.assert_allclose([float(r["expected_purchases"]) for r in rows], path[-1], rtol=1e-10)
    without = bg.model_copy(update={"coefficients": {}, "equal": []})
    assert not np.allclose(without.probability_alive(summary), p_alive)  # the covariates matter


def test_score_without_covariates_on_a_covariate_model_names_the_option(fitted: dict[str, Any]) -> None:
    status, _, err = _run(["score", str(fitted["log"]), "--models", str(fitted["folder"]),
                           "-o", str(fitted["dir"] / "none.csv")])
    assert status == 2 and "--covariates FILE" in err and len(err.strip().splitlines()) == 1
    assert not (fitted["dir"] / "none.csv").exists()


def test_score_refuses_covariates_for_a_model_without(fitted: dict[str, Any]) -> None:
    plain = fitted["dir"] / "plain"
    assert _run(["fit", str(fitted["log"]), "--customer-id", "Id", "--datetime", "Date", "--freq", "W",
                 "-o", str(plain)])[0] == 0
    status, _, err = _run(["score", str(fitted["log"]), "--models", str(plain), "--spend", "10",
                           "--covariates", str(fitted["cov"]), "-o", str(fitted["dir"] / "x.csv")])
    assert status == 2 and "fitted without covariates" in err


def test_parquet_covariates_fit_as_the_csv(fitted: dict[str, Any]) -> None:
    pytest.importorskip("pyarrow")
    pd = fitted["pd"]
    pq = fitted["dir"] / "cov.parquet"
    pd.read_csv(fitted["cov"]).to_parquet(pq)
    folder = fitted["dir"] / "model-parquet"
    status, _, err = _run(["fit", str(fitted["log"]), "--customer-id", "Id", "--datetime", "Date", "--freq", "W",
                           "--monetary-value", "Price", "--covariates", str(pq), "--covariate-columns", "Gender",
                           "-o", str(folder)])
    assert status == 0, err
    a = load_json((folder / "beta_geo.json").read_text())
    b = load_json((fitted["folder"] / "beta_geo.json").read_text())
    assert a.coefficients == b.coefficients and a.params == b.params


def test_fit_with_a_holdout_checks_it_with_the_customers_covariates(fitted: dict[str, Any], shared_data: Any) -> None:
    # clvkit 0.2.dev: 'fit --calibration-end ... --covariates' stopped with exit 2 in its holdout check, which asked
    # the covariate model for predictions without the covariates. Expected: the Python API's holdout prediction.
    from clvkit import summarize
    from clvkit.valuation import BetaGeo

    pd = fitted["pd"]
    log = shared_data("apparel_trans.csv")
    status, out, err = _run(["fit", str(log), "--customer-id", "Id", "--datetime", "Date", "--freq", "W",
                             "--calibration-end", "2006-12-31", "--observation-end", "2010-12-20",
                             "--covariates", str(fitted["cov"]), "-o", str(fitted["dir"] / "with-holdout")])
    assert status == 0, err
    summary = summarize(pd.read_csv(log), customer_id="Id", datetime="Date", time_unit="W",
                        calibration_end="2006-12-31", observation_end="2010-12-20")
    cov = Covariates.static(pd.read_csv(fitted["cov"]), customer_id="Id", columns=["Gender", "Channel"])
    bg = BetaGeo().fit(summary, purchase_covariates=cov, dropout_covariates=cov)
    assert summary.duration_holdout is not None and summary.frequency_holdout is not None
    predicted = bg.expected_purchases(summary, summary.duration_holdout, purchase_covariates=cov,
                                      dropout_covariates=cov).sum()
    lines = {line.strip().rsplit(None, 1)[0]: line.strip().rsplit(None, 1)[1] for line in out.splitlines()
             if line.strip().startswith(("predicted repeat purchases", "actual repeat purchases"))}
    assert lines == {"predicted repeat purchases": f"{predicted:,.1f}",
                     "actual repeat purchases": f"{summary.frequency_holdout.sum():,.0f}"}
