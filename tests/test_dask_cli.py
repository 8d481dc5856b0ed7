"""``clvkit fit`` and ``clvkit score`` on the Dask route: a Parquet folder or glob as the log, ``--dask [ADDRESS]``.

The expected models and scores are those of the same commands on the same log as one CSV file (the in-memory
route, itself checked against clvkit's API in test_cli.py).
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pd = pytest.importorskip("pandas")
pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")
pq = pytest.importorskip("pyarrow.parquet")

from clvkit import load_json  # noqa: E402
from clvkit.cli import main  # noqa: E402
from clvkit.datasets import load_cdnow_transactions  # noqa: E402

FIT_ARGS = ["--customer-id", "cust", "--datetime", "when", "--monetary-value", "amount"]
SPLIT_ARGS = ["--calibration-end", "1997-09-30", "--observation-end", "1998-06-30"]


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """CDNOW as one CSV file and as a folder of 3 Parquet files (rows in the same order)."""
    t = load_cdnow_transactions()
    frame = pd.DataFrame({"cust": t["customer_id"], "when": t["date"].astype("datetime64[ns]"), "amount": t["amount"]})
    root = tmp_path_factory.mktemp("logs")
    csv_path = root / "cdnow.csv"
    with csv_path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["cust", "when", "amount"])
        w.writerows(zip(t["customer_id"].tolist(), t["date"].astype(str).tolist(),
                        [repr(a) for a in t["amount"].tolist()], strict=True))
    folder = root / "cdnow"
    folder.mkdir()
    for i, rows in enumerate(np.array_split(np.arange(len(frame)), 3)):
        frame.iloc[rows].to_parquet(folder / f"part-{i}.parquet", index=False)
    return {"csv": csv_path, "folder": folder, "glob": folder / "part-*.parquet"}


def models_of(folder: Path) -> dict[str, Any]:
    return {name: load_json((folder / name).read_text()) for name in ("beta_geo.json", "gamma_gamma.json")}


def assert_same_models(got: dict[str, Any], want: dict[str, Any]) -> None:
    """BG/NBD exactly (to 1e-12); Gamma-Gamma, which adds its sufficient statistics over the rows in their order (raw
    customers in memory, distinct rows on the Dask route), to 1e-9 (measured: 2e-11 on CDNOW)."""
    np.testing.assert_allclose(got["beta_geo.json"].param_array(), want["beta_geo.json"].param_array(), rtol=1e-12,
                               atol=0)
    np.testing.assert_allclose(got["gamma_gamma.json"].param_array(), want["gamma_gamma.json"].param_array(),
                               rtol=1e-9, atol=0)


@pytest.fixture(scope="module")
def in_memory(logs: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("in-memory")
    assert main(["fit", str(logs["csv"]), *FIT_ARGS, *SPLIT_ARGS, "-q", "--output", str(root / "m")]) == 0
    assert main(["score", str(logs["csv"]), "--models", str(root / "m"), "-q", "--top", "0",
                 "--output", str(root / "scores.csv")]) == 0
    return {"models": root / "m", "scores": root / "scores.csv"}


def test_fit_and_score_on_a_parquet_folder_and_glob_equal_the_in_memory_route(
        logs: dict[str, Path], in_memory: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Dask's local scheduler (no --dask): the folder for fit, the glob for score.
    assert main(["fit", str(logs["folder"]), *FIT_ARGS, *SPLIT_ARGS, "--output", str(tmp_path / "m")]) == 0
    out, err = capsys.readouterr()
    assert "summarizing" in err and "with Dask" in err and "2,357 customers" in out and "Holdout check" in out
    assert_same_models(models_of(tmp_path / "m"), models_of(in_memory["models"]))
    assert main(["score", str(logs["glob"]), "--models", str(tmp_path / "m"), "--top", "3",
                 "--output", str(tmp_path / "scores.parquet")]) == 0
    out, _ = capsys.readouterr()
    assert "Top 3 customers by CLV" in out and "Customer equity (2,357 customers" in out
    scores = pd.read_parquet(tmp_path / "scores.parquet").sort_values("customer_id", kind="stable")
    ref = pd.read_csv(in_memory["scores"])
    assert list(scores.columns) == list(ref.columns)
    np.testing.assert_array_equal(scores["customer_id"].to_numpy(), ref["customer_id"].to_numpy())
    np.testing.assert_array_equal(scores["frequency"].to_numpy(), ref["frequency"].to_numpy())
    for col in ("recency", "T", "monetary_value", "p_alive", "expected_purchases", "expected_spend", "clv"):
        np.testing.assert_allclose(scores[col].to_numpy(), ref[col].to_numpy(), rtol=1e-9, atol=0, err_msg=col)
    # CSV by extension: the same file the in-memory route writes, up to the order of the customers
    assert main(["score", str(logs["glob"]), "--models", str(tmp_path / "m"), "-q", "--top", "0",
                 "--output", str(tmp_path / "scores.csv")]) == 0
    dask_csv = pd.read_csv(tmp_path / "scores.csv").sort_values("customer_id", kind="stable").reset_index(drop=True)
    pd.testing.assert_frame_equal(dask_csv, ref, check_exact=False, rtol=1e-9)


def test_dask_local_cluster_option(logs: dict[str, Path], in_memory: dict[str, Path], tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fit", str(logs["csv"].with_name("cdnow") / "part-*.parquet"), *FIT_ARGS, *SPLIT_ARGS,
                 "--dask", "local", "--workers", "2", "--output", str(tmp_path / "m")]) == 0
    _, err = capsys.readouterr()
    assert "starting a local Dask cluster of 2 workers" in err
    assert_same_models(models_of(tmp_path / "m"), models_of(in_memory["models"]))


def test_dask_scheduler_address(logs: dict[str, Path], in_memory: dict[str, Path], tmp_path: Path,
                                capsys: pytest.CaptureFixture[str]) -> None:
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0") as cl:
        assert main(["score", str(logs["folder"]), "--models", str(in_memory["models"]), "--dask", cl.scheduler_address,
                     "-q", "--top", "0", "--output", str(tmp_path / "s.parquet")]) == 0
    got = pd.read_parquet(tmp_path / "s.parquet").sort_values("customer_id")
    ref = pd.read_csv(in_memory["scores"])
    np.testing.assert_allclose(got["clv"].to_numpy(), ref["clv"].to_numpy(), rtol=1e-9, atol=0)


def test_in_memory_score_writes_parquet_by_extension(logs: dict[str, Path], in_memory: dict[str, Path],
                                                     tmp_path: Path) -> None:
    assert main(["score", str(logs["csv"]), "--models", str(in_memory["models"]), "-q", "--top", "0",
                 "--output", str(tmp_path / "s.parquet")]) == 0
    assert (tmp_path / "s.parquet").is_file() and (tmp_path / "s.parquet").read_bytes()[:4] == b"PAR1"
    got = pd.read_parquet(tmp_path / "s.parquet")
    pd.testing.assert_frame_equal(got, pd.read_csv(in_memory["scores"]), check_exact=False, rtol=1e-15)


@pytest.mark.parametrize(("extra", "message"), [
    (["--workers", "2"], "--workers needs --dask"),
    (["--dask", "tcp://10.0.0.1:8786", "--workers", "2"], "a running scheduler"),
    (["--covariates", "cov.csv"], "--covariates is not available with Dask"),
    (["--model", "auto"], "--model auto is not available with Dask"),
])
def test_options_the_dask_route_refuses(logs: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                        extra: list[str], message: str) -> None:
    code = main(["fit", str(logs["folder"]), *FIT_ARGS, *SPLIT_ARGS, "-q", "--output", str(tmp_path / "m"), *extra])
    _, err = capsys.readouterr()
    assert code == 2 and message in err and "Traceback" not in err
