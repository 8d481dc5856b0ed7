"""clvkit.dask against the in-memory route on one Parquet log: summarize, fit, 12-month CLV, scores written.

Data: ``N`` transactions (``--sizes``, default 10M; ``--smoke``: 20k) of ``N / 10`` customers (int64 ids drawn
uniformly, fixed seed) at random seconds over two years, amounts Gamma-Gamma distributed (CDNOW's estimates)
rounded to cents; written once by the parent as Parquet files of 1M rows (``--rows-per-file``) in a temporary
folder (outside any timing).

Every route runs in a fresh Python process (the script re-invokes itself with ``--worker ROUTE SIZE FOLDER``):

- ``memory``: ``pandas.read_parquet`` of the folder, ``clvkit.summarize`` (days), BG/NBD and Gamma-Gamma fits,
  ``clv`` (12 months at 1% a month) for every customer, the scores written with pyarrow;
- ``dask-1``, ``dask-2``: a ``distributed.LocalCluster`` of 1 or 2 worker processes (one thread each, the memory
  limit ``--memory-limit`` each), ``clvkit.dask.summarize`` of the folder (persisted), ``.compress()``, the same
  fits on the counts, ``.score(...).to_parquet(...)``.

Times are wall-clock seconds per stage (``time.perf_counter``; the cluster's start is reported apart and not
counted). Memory: the peak resident set (``getrusage`` ``ru_maxrss``) of the process running the route (for Dask
the client, which also hosts the scheduler) and of each worker process. The parent checks that the Dask fits equal
the in-memory fits (BG/NBD and Gamma-Gamma to 1e-12 relative) and that every route counts the same customers
(exit status 1 otherwise), then prints one table.

Run ``python benchmarks/bench_dask.py`` (10M: a few minutes on 2 cores), ``--sizes 100000000`` for the 100M run
(about 4 GB of Parquet; the in-memory route at that size needs ~12 GB: ``--routes dask-1 dask-2`` skips it), or
``--smoke``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from _common import CDNOW_GAMMA_GAMMA, machine_info

SCRIPT = Path(__file__).resolve()
DAYS = 730
ROUTES = ("memory", "dask-1", "dask-2")
HORIZON, RATE, PERIOD = 12, 0.01, "M"


def write_log(n: int, folder: Path, rows_per_file: int, seed: int = 20261207) -> None:
    """The benchmark log as Parquet files ``part-00000.parquet``, ... (see the module docstring)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    start = np.datetime64("2024-01-01T00:00:00", "s")
    n_customers = max(n // 10, 1)
    # Gamma-Gamma spend (Fader & Hardie 2013's CDNOW estimates p, q, v): each customer's own rate nu ~ Gamma(q, v),
    # amounts ~ Gamma(p, nu); spend without that heterogeneity would leave Gamma-Gamma unidentified (q -> inf).
    p, q, v = CDNOW_GAMMA_GAMMA["p"], CDNOW_GAMMA_GAMMA["q"], CDNOW_GAMMA_GAMMA["v"]
    nu = rng.gamma(q, 1.0 / v, n_customers)
    for i, lo in enumerate(range(0, n, rows_per_file)):
        m = min(rows_per_file, n - lo)
        ids = rng.integers(0, n_customers, m, dtype=np.int64)
        table = pa.table({
            "cust": ids,
            "when": start + rng.integers(0, DAYS * 86400, m).astype("timedelta64[s]"),
            "amount": np.maximum(np.round(rng.gamma(p, 1.0 / nu[ids]), 2), 0.01),
        })
        pq.write_table(table, folder / f"part-{i:05d}.parquet")


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def _fits(summary: Any) -> tuple[Any, Any, dict[str, float]]:
    from clvkit.valuation import BetaGeo, GammaGamma

    bg = BetaGeo().fit(summary)
    gg = GammaGamma().fit(summary)
    params = {f"bg.{k}": float(v) for k, v in bg.params.model_dump().items()}
    params.update({f"gg.{k}": float(v) for k, v in gg.params.model_dump().items()})
    return bg, gg, params


def run_memory(folder: Path, out: Path) -> dict[str, Any]:
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    import clvkit
    from clvkit.valuation import clv

    stages: dict[str, float] = {}
    t = time.perf_counter()
    log = pd.read_parquet(folder)
    stages["read"] = time.perf_counter() - t
    t = time.perf_counter()
    summary = clvkit.summarize(log, customer_id="cust", datetime="when", monetary_value="amount", time_unit="D")
    stages["summarize"] = time.perf_counter() - t
    del log
    t = time.perf_counter()
    bg, gg, params = _fits(summary)
    stages["fit"] = time.perf_counter() - t
    t = time.perf_counter()
    result = clv(bg, gg, summary, horizon=HORIZON, discount_rate=RATE, period=PERIOD)
    pq.write_table(pa.table({"customer_id": summary.customer_id, "p_alive": bg.probability_alive(summary),
                             "expected_purchases": result.expected_purchases, "clv": result.clv}),
                   out / "scores.parquet")
    stages["score+write"] = time.perf_counter() - t
    return {"stages": stages, "params": params, "n_customers": len(summary), "rss_client": _rss_mib(),
            "rss_workers": [], "equity": float(result.clv.sum())}


def run_dask(folder: Path, out: Path, workers: int, memory_limit: str) -> dict[str, Any]:
    import logging

    import distributed

    import clvkit.dask
    import clvkit.valuation

    stages: dict[str, float] = {}
    t = time.perf_counter()
    cluster = distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                       memory_limit=memory_limit, dashboard_address=None,
                                       silence_logs=logging.ERROR)
    client = distributed.Client(cluster)
    cluster_start = time.perf_counter() - t
    try:
        t = time.perf_counter()
        ds = clvkit.dask.summarize(str(folder), customer_id="cust", datetime="when", monetary_value="amount",
                                   freq="D", client=client)
        ds = ds.persist()
        distributed.wait(ds.to_dask())
        n = ds.n_customers
        stages["summarize"] = time.perf_counter() - t
        t = time.perf_counter()
        compressed = ds.compress()
        stages["compress"] = time.perf_counter() - t
        t = time.perf_counter()
        bg, gg, params = _fits(compressed)
        stages["fit"] = time.perf_counter() - t
        t = time.perf_counter()
        scores = ds.score(bg, gg, horizon=HORIZON, discount_rate=RATE, period=PERIOD)
        scores.to_parquet(str(out / "scores"), compute=True)
        stages["score+write"] = time.perf_counter() - t
        equity = float(scores["clv"].sum().compute())
        rss_workers = [v / 1024.0 for v in client.run(
            lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss).values()]
    finally:
        client.close()
        cluster.close()
    return {"stages": stages, "params": params, "n_customers": n, "rss_client": _rss_mib(),
            "rss_workers": rss_workers, "cluster_start": cluster_start, "equity": equity,
            "memory_limit": memory_limit, "partitions": ds.npartitions}


def worker(route: str, folder: str, memory_limit: str) -> int:
    with tempfile.TemporaryDirectory(prefix="clvkit-bench-out-") as out:
        if route == "memory":
            res = run_memory(Path(folder), Path(out))
        else:
            res = run_dask(Path(folder), Path(out), int(route.split("-")[1]), memory_limit)
    print("RESULT " + json.dumps(res), flush=True)
    return 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[10_000_000])
    p.add_argument("--routes", nargs="+", choices=ROUTES, default=list(ROUTES))
    p.add_argument("--rows-per-file", type=int, default=1_000_000)
    p.add_argument("--memory-limit", default="4GiB", help="memory limit of each Dask worker (default 4GiB)")
    p.add_argument("--smoke", action="store_true", help="20k transactions: does it still work?")
    p.add_argument("--worker", nargs=4, metavar=("ROUTE", "SIZE", "FOLDER", "LIMIT"), help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        return worker(args.worker[0], args.worker[2], args.worker[3])
    sizes = [20_000] if args.smoke else args.sizes
    rows_per_file = 5_000 if args.smoke else args.rows_per_file
    print(machine_info())
    rows: list[list[str]] = []
    ok = True
    for size in sizes:
        folder = Path(tempfile.mkdtemp(prefix="clvkit-bench-log-"))
        try:
            t = time.perf_counter()
            write_log(size, folder, rows_per_file)
            mib = sum(f.stat().st_size for f in folder.iterdir()) / 2**20
            print(f"\n{size:,} transactions written as {len(list(folder.iterdir()))} Parquet files ({mib:,.0f} MiB) "
                  f"in {time.perf_counter() - t:.1f} s", flush=True)
            results: dict[str, dict[str, Any]] = {}
            for route in args.routes:
                cmd = [sys.executable, str(SCRIPT), "--worker", route, str(size), str(folder), args.memory_limit]
                proc = subprocess.run(cmd, capture_output=True, text=True, check=False,
                                      env={**os.environ, "PYTHONWARNINGS": "ignore"})
                line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")), None)
                if proc.returncode != 0 or line is None:
                    print(f"{route} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
                    ok = False
                    continue
                results[route] = json.loads(line[len("RESULT "):])
                print(f"  {route}: {results[route]['stages']}", flush=True)
            ok &= check(results)
            base = sum(results["memory"]["stages"].values()) if "memory" in results else None
            for route, res in results.items():
                total = sum(res["stages"].values())
                st = res["stages"]
                rows.append([f"{size:,}", route, f"{st.get('read', 0) + st['summarize']:.1f}",
                             f"{st.get('compress', 0) + st['fit']:.2f}", f"{st['score+write']:.1f}", f"{total:.1f}",
                             "1.00" if base is None or route == "memory" else f"{total / base:.2f}",
                             f"{res['rss_client']:,.0f}",
                             ", ".join(f"{v:,.0f}" for v in res["rss_workers"]) or "-",
                             res.get("memory_limit", "-") + (" each" if res.get("memory_limit") else ""),
                             f"{res['n_customers']:,}"])
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    print()
    from clvkit._texttable import table_lines

    headers = ["transactions", "route", "read+summarize s", "compress+fit s", "score+write s", "total s", "x memory",
               "peak RSS main MiB", "peak RSS workers MiB", "worker limit", "customers"]
    for line in table_lines(headers, rows):
        print(line)
    print("\nmain = the process running the route (for Dask: the client and the scheduler); the cluster's start is "
          "not counted.")
    return 0 if ok else 1


def check(results: dict[str, dict[str, Any]]) -> bool:
    """The Dask fits equal the in-memory fits (BG/NBD and Gamma-Gamma to 1e-12); every route counts the same
    customers."""
    if "memory" not in results:
        return True
    ref = results["memory"]
    ok = True
    for route, res in results.items():
        if res["n_customers"] != ref["n_customers"]:
            print(f"  MISMATCH {route}: {res['n_customers']} customers, in memory {ref['n_customers']}")
            ok = False
        for k, v in ref["params"].items():
            # Gamma-Gamma adds its statistics row by row (raw customers vs distinct rows): equal up to that rounding
            if abs(res["params"][k] - v) > 1e-12 * abs(v):
                print(f"  MISMATCH {route}: {k} = {res['params'][k]!r}, in memory {v!r}")
                ok = False
    if ok:
        print("  fits equal (BG/NBD and Gamma-Gamma to 1e-12 relative); customers counted alike")
    return ok


if __name__ == "__main__":
    raise SystemExit(main())
