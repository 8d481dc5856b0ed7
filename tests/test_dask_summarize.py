"""clvkit.dask on a real distributed.LocalCluster (2 worker processes): the Dask path equals the in-memory path.

Expected values are the in-memory path's (clvkit.summarize, CustomerSummary.compress, Engine.fit, clv) on the same
rows: an independent route through the same definitions, with no shuffle, no partitions and no Dask.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pd = pytest.importorskip("pandas")
dask = pytest.importorskip("dask")
dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")
pytest.importorskip("pyarrow")

import clvkit  # noqa: E402
import clvkit.dask  # noqa: E402
from clvkit.datasets import load_cdnow_transactions  # noqa: E402
from clvkit.errors import InvalidInputError  # noqa: E402
from clvkit.valuation import BetaGeo, GammaGamma, ParetoNBD, clv  # noqa: E402

SUMMARY_COLUMNS = ("frequency", "recency", "T", "monetary_value", "frequency_holdout", "monetary_value_holdout")


@pytest.fixture(scope="module")
def client() -> Any:
    cluster = distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=":0",
                                       memory_limit="1GiB")
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


def generated_log(n_customers: int = 3000, seed: int = 7) -> Any:
    """Customers with a first purchase in 2023 and Poisson repeat purchases at random times of day, amounts in
    cents (sums are not exact in binary: the order of addition shows), rows shuffled across customers."""
    rng = np.random.default_rng(seed)
    start = np.datetime64("2023-01-01T00:00:00", "s")
    first = rng.integers(0, 365 * 86400, n_customers)
    n_tx = 1 + rng.poisson(rng.gamma(0.8, 4.0, n_customers))
    ids = np.repeat(np.arange(n_customers, dtype=np.int64) * 13 + 5, n_tx)
    offsets = np.concatenate([[0], np.cumsum(n_tx)[:-1]])
    within = rng.integers(0, 500 * 86400, ids.shape[0])
    within[offsets] = 0  # each customer's first purchase at its start
    when = start + (np.repeat(first, n_tx) + within).astype("timedelta64[s]")
    amount = np.round(rng.gamma(2.0, 17.3, ids.shape[0]), 2)
    order = rng.permutation(ids.shape[0])
    return pd.DataFrame({"cust": ids[order], "when": when[order].astype("datetime64[ns]"), "amount": amount[order]})


def cdnow_log() -> Any:
    t = load_cdnow_transactions()
    return pd.DataFrame({"customer_id": t["customer_id"], "date": t["date"].astype("datetime64[ns]"),
                         "amount": t["amount"]})


def assert_same_summary(got: clvkit.CustomerSummary, want: clvkit.CustomerSummary) -> None:
    assert len(got) == len(want)
    np.testing.assert_array_equal(got.customer_id, want.customer_id)
    for name in SUMMARY_COLUMNS:
        a, b = getattr(got, name), getattr(want, name)
        assert (a is None) == (b is None), name
        if a is not None:
            np.testing.assert_array_equal(a, b, err_msg=name)  # exact, spend sums included
    assert got.time_unit == want.time_unit
    assert got.observation_end == want.observation_end
    assert got.calibration_end == want.calibration_end
    assert got.duration_holdout == want.duration_holdout


def assert_same_compressed(got: clvkit.CustomerSummary, want: clvkit.CustomerSummary) -> None:
    order = np.lexsort([getattr(want, c) for c in ("monetary_value", "T", "recency", "frequency")
                        if getattr(want, c) is not None])
    for name in ("frequency", "recency", "T", "monetary_value", "weights"):
        np.testing.assert_array_equal(getattr(got, name), getattr(want, name)[order], err_msg=name)


@pytest.mark.parametrize("calibration_end", [None, "2023-11-30"])
def test_generated_log_equals_in_memory(client: Any, calibration_end: Any) -> None:
    log = generated_log()
    kwargs = dict(customer_id="cust", datetime="when", monetary_value="amount", calibration_end=calibration_end,
                  observation_end="2024-06-30" if calibration_end else None)
    want = clvkit.summarize(log, time_unit="D", **kwargs)
    ds = clvkit.dask.summarize(dd.from_pandas(log, npartitions=6), freq="D", client=client, **kwargs)
    assert ds.n_customers == len(want) == (log["cust"].nunique() if calibration_end is None else len(want))
    assert_same_summary(ds.compute(), want)
    frame = ds.to_dask().compute().sort_index()
    pd.testing.assert_frame_equal(frame, want.to_frame(), check_index_type=False)
    assert_same_compressed(ds.compress(), want.compress().summary)


def test_customers_whose_first_purchase_is_after_calibration_end_are_left_out(client: Any) -> None:
    log = generated_log(500, seed=3)
    cal = "2023-02-15"  # most customers start later: several partitions hold no calibration customer
    want = clvkit.summarize(log, customer_id="cust", datetime="when", calibration_end=cal)
    ds = clvkit.dask.summarize(dd.from_pandas(log, npartitions=8), customer_id="cust", datetime="when",
                               calibration_end=cal, npartitions=40)  # > 32: the peer-to-peer shuffle
    assert 0 < len(want) < log["cust"].nunique()
    assert_same_summary(ds.compute(), want)


def test_cdnow_fit_and_scores_equal_in_memory(client: Any, tmp_path: Path) -> None:
    log = cdnow_log()
    want = clvkit.summarize(log, customer_id="customer_id", datetime="date", monetary_value="amount",
                            time_unit="D").with_time_unit("W")
    ds = clvkit.dask.summarize(dd.from_pandas(log, npartitions=5), customer_id="customer_id", datetime="date",
                               monetary_value="amount", freq="D", time_unit="W", client=client)
    assert ds.n_customers == log["customer_id"].nunique() == 2357
    assert_same_summary(ds.compute(), want)
    compressed = ds.compress()
    assert compressed.total_weight == len(want)
    for engine in (BetaGeo(), ParetoNBD()):
        local, remote = engine.fit(want), engine.fit(compressed)
        np.testing.assert_allclose(remote.param_array(), local.param_array(), rtol=1e-12, atol=0)
        assert remote.fit_info.log_likelihood == pytest.approx(local.fit_info.log_likelihood, rel=1e-12)
    bg = BetaGeo().fit(want)
    # Gamma-Gamma sums its statistics over the distinct (x, m) rows in their sorted order, so the counts and the raw
    # customers give the same arrays and the same fit, bit for bit.
    gg = GammaGamma().fit(compressed)
    np.testing.assert_array_equal(gg.param_array(), GammaGamma().fit(want.compress().summary).param_array())
    np.testing.assert_array_equal(gg.param_array(), GammaGamma().fit(want).param_array())

    scores = ds.score(bg, gg, horizon=12, discount_rate=0.01, period="M")
    out = tmp_path / "scores.parquet"
    scores.to_parquet(out)
    got = pd.read_parquet(out).sort_index()
    result = clv(bg, gg, want, horizon=12, discount_rate=0.01, period="M")
    np.testing.assert_array_equal(got.index.to_numpy(), want.customer_id)
    np.testing.assert_allclose(got["clv"].to_numpy(), result.clv, rtol=1e-13, atol=0)
    np.testing.assert_allclose(got["expected_purchases"].to_numpy(), result.expected_purchases, rtol=1e-13, atol=0)
    np.testing.assert_allclose(got["expected_spend"].to_numpy(), result.expected_spend, rtol=1e-13, atol=0)
    np.testing.assert_allclose(got["p_alive"].to_numpy(), bg.probability_alive(want), rtol=1e-13, atol=0)


def test_parquet_folder_and_glob_sources(client: Any, tmp_path: Path) -> None:
    log = generated_log(800, seed=11)
    folder = tmp_path / "log"
    folder.mkdir()
    for i, chunk in enumerate(np.array_split(np.arange(len(log)), 4)):
        log.iloc[chunk].to_parquet(folder / f"part-{i}.parquet", index=False)
    want = clvkit.summarize(log, customer_id="cust", datetime="when", monetary_value="amount")
    for source in (folder, str(folder / "part-*.parquet")):
        ds = clvkit.dask.summarize(source, customer_id="cust", datetime="when", monetary_value="amount")
        assert_same_summary(ds.compute(), want)
    with pytest.raises(InvalidInputError, match="matches no file"):
        clvkit.dask.summarize(str(tmp_path / "nothing-*.parquet"), customer_id="cust", datetime="when")
    with pytest.raises(InvalidInputError, match="'spend': is not a column"):
        clvkit.dask.summarize(folder, customer_id="cust", datetime="when", monetary_value="spend")


def test_string_ids_and_default_scheduler() -> None:
    log = generated_log(300, seed=5)
    log["cust"] = "c" + log["cust"].astype(str)
    want = clvkit.summarize(log, customer_id="cust", datetime="when", monetary_value="amount")
    with dask.config.set(scheduler="threads"):  # Dask's own scheduler, even while the module's client is up
        ds = clvkit.dask.summarize(dd.from_pandas(log, npartitions=3), customer_id="cust", datetime="when",
                                   monetary_value="amount")
        got = ds.compute()
    np.testing.assert_array_equal(got.customer_id.astype(str), want.customer_id.astype(str))
    np.testing.assert_array_equal(got.frequency, want.frequency)
    np.testing.assert_array_equal(got.monetary_value, want.monetary_value)


def test_bad_rows_are_typed_errors_naming_the_partition() -> None:
    log = generated_log(100, seed=2)
    log.loc[log.index[7], "amount"] = -3.0
    with pytest.raises(InvalidInputError, match=r"(?s)partition 0.*'amount': is a refund"):
        clvkit.dask.summarize(dd.from_pandas(log, npartitions=1), customer_id="cust", datetime="when",
                              monetary_value="amount")
    log = generated_log(100, seed=2)
    last = log["when"].max()
    with pytest.raises(InvalidInputError, match="after observation_end"):
        clvkit.dask.summarize(dd.from_pandas(log, npartitions=2), customer_id="cust", datetime="when",
                              observation_end=str(last - pd.Timedelta(days=3)))
    with pytest.raises(InvalidInputError, match="calibration_end"):
        clvkit.dask.summarize(dd.from_pandas(log, npartitions=2), customer_id="cust", datetime="when",
                              calibration_end=str(last + pd.Timedelta(days=3)))
    with pytest.raises(InvalidInputError, match="time_unit"):
        clvkit.dask.summarize(dd.from_pandas(log, npartitions=2), customer_id="cust", datetime="when", freq="X")
    with pytest.raises(InvalidInputError, match="Dask DataFrame or the path"):
        clvkit.dask.summarize(log, customer_id="cust", datetime="when")


def test_models_pickle() -> None:
    log = cdnow_log()
    s = clvkit.summarize(log, customer_id="customer_id", datetime="date", monetary_value="amount", time_unit="W")
    for model in (BetaGeo().fit(s), GammaGamma().fit(s)):
        again = pickle.loads(pickle.dumps(model))
        assert again == model


@pytest.mark.parametrize("refunds", ["drop", "net"])
def test_refunds_as_in_memory(client: Any, refunds: str) -> None:
    log = generated_log(1500, seed=9)
    rng = np.random.default_rng(1)
    refund_rows = rng.choice(len(log), 200, replace=False)
    log.loc[log.index[refund_rows], "amount"] *= -0.5
    kwargs = dict(customer_id="cust", datetime="when", monetary_value="amount", refunds=refunds)
    want = clvkit.summarize(log, **kwargs)
    ds = clvkit.dask.summarize(dd.from_pandas(log, npartitions=4), **kwargs)
    assert_same_summary(ds.compute(), want)


def test_without_dask_the_error_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "dask.dataframe", None)  # import fails as if Dask were not installed
    with pytest.raises(clvkit.MissingDependencyError, match=r"pip install 'clvkit\[dask\]'"):
        clvkit.dask.summarize("log.parquet", customer_id="c", datetime="t")
