"""Faults on a real distributed.LocalCluster: a worker process dies in the middle of clvkit.dask.summarize.

A partition of the log kills the worker process that reads it (``os._exit``) at a chosen read - during the first
pass (the time range) or during the shuffle pass - exactly once. Dask finishes on the other or the restarted
worker, with every customer (count in == count out, and the summary equal to the in-memory one); never a summary
with customers missing. A partition that kills every worker that reads it ends in clvkit's ComputationError.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pd = pytest.importorskip("pandas")
dask = pytest.importorskip("dask")
dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")

import clvkit  # noqa: E402
import clvkit.dask  # noqa: E402
from clvkit.errors import ComputationError  # noqa: E402


@pytest.fixture(scope="module")
def client() -> Any:
    # One retry after a lost worker per task (Dask's default is 3): the hopeless case below stays short.
    with dask.config.set({"distributed.scheduler.allowed-failures": 1}):
        cluster = distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                           dashboard_address=":0", memory_limit="1GiB")
        with distributed.Client(cluster) as c:
            yield c
        cluster.close()


def small_log(n_customers: int = 2000, seed: int = 4) -> Any:
    rng = np.random.default_rng(seed)
    n_tx = 1 + rng.poisson(3.0, n_customers)
    ids = np.repeat(np.arange(n_customers, dtype=np.int64), n_tx)
    days = rng.integers(0, 400, ids.shape[0])
    when = np.datetime64("2024-01-01") + days.astype("timedelta64[D]")
    amount = np.round(rng.uniform(1, 100, ids.shape[0]), 2)
    order = rng.permutation(ids.shape[0])
    return pd.DataFrame({"cust": ids[order], "when": when[order].astype("datetime64[ns]"), "amount": amount[order]})


def dying_source(log: Any, counter: Path, die_at: set[int], npartitions: int = 8) -> Any:
    """The log as a Dask DataFrame whose partition 3 kills its worker at the reads numbered in ``die_at``."""

    def maybe_die(part: Any, partition_info: Any = None) -> Any:
        if partition_info is not None and partition_info["number"] == 3:
            reads = int(counter.read_text()) + 1 if counter.exists() else 1
            counter.write_text(str(reads))
            if reads in die_at or -1 in die_at:
                os._exit(1)  # the worker process dies here, holding this task
        return part

    return dd.from_pandas(log, npartitions=npartitions).map_partitions(maybe_die, meta=log.iloc[:0])


@pytest.mark.parametrize("die_at", [1, 2], ids=["during-time-range-pass", "during-shuffle-pass"])
def test_worker_killed_mid_computation_is_survived_with_every_customer(client: Any, tmp_path: Path,
                                                                       die_at: int) -> None:
    log = small_log()
    counter = tmp_path / "reads"
    want = clvkit.summarize(log, customer_id="cust", datetime="when", monetary_value="amount")
    # Dask reschedules the lost worker's tasks (the peer-to-peer shuffle restarts): the run completes.
    ds = clvkit.dask.summarize(dying_source(log, counter, {die_at}), customer_id="cust", datetime="when",
                               monetary_value="amount", client=client)
    got = ds.compute()
    assert int(counter.read_text()) > die_at  # the partition was read again after the worker died
    assert ds.n_customers == log["cust"].nunique() == len(got)  # count in == count out
    np.testing.assert_array_equal(got.customer_id, want.customer_id)
    np.testing.assert_array_equal(got.frequency, want.frequency)
    np.testing.assert_array_equal(got.T, want.T)
    np.testing.assert_array_equal(got.monetary_value, want.monetary_value)
    assert ds.compress().total_weight == len(want)


def test_a_partition_that_always_kills_its_worker_is_a_typed_error(client: Any, tmp_path: Path) -> None:
    log = small_log(300, seed=8)
    with pytest.raises(ComputationError, match="Dask computation of the log's time range failed"):
        clvkit.dask.summarize(dying_source(log, tmp_path / "reads", {-1}), customer_id="cust", datetime="when",
                              client=client)
