"""The warehouse route: clvkit.sql on DuckDB against clvkit.summarize in memory, on the same transaction log.

Data: ``bench_summarize.make_log`` (``N`` transactions of about ``N / 10`` customers over two years of days,
amounts Gamma(2, 20)), built from a fixed seed in each worker and loaded into an in-memory DuckDB table
(``DATE`` column) outside the timed region. Cases, each in a fresh process (DuckDB uses every core it
is given; ``--threads`` sets it):

- ``memory``: ``clvkit.summarize(frame, ...)`` (numpy, the reference);
- ``sql``: ``clvkit.sql.summarize(connection, ...)``: the checks, the summary query, the per-customer rows
  fetched into a ``CustomerSummary`` (with purchase times);
- ``sql-counts``: ``clvkit.sql.compressed_summary(..., include_monetary=False)``: the checks and the compressed
  query; only the distinct ``(frequency, recency, T)`` rows and their counts leave the database.

Each worker prints the best wall time of ``--repeat`` runs, the process's peak RSS (``ru_maxrss``, which
includes the log and the DuckDB table) and the RSS before the timed runs, and the number of rows returned.
Run ``python benchmarks/bench_sql.py`` (sizes 1M and 10M) or ``--smoke``.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_summarize import make_log

SCRIPT = Path(__file__).resolve()
CASES = ("memory", "sql", "sql-counts")
ARGS: dict[str, Any] = {"customer_id": "cust", "datetime": "date", "monetary_value": "amount", "time_unit": "D",
                        "observation_end": "2023-12-31"}


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def worker(case: str, size: int, repeat: int, threads: int) -> dict[str, Any]:
    import clvkit
    from clvkit import sql

    log = make_log(size)
    con = None
    if case != "memory":
        import duckdb

        con = duckdb.connect()
        con.execute(f"SET threads = {int(threads)}")
        con.register("src", log)
        con.execute("CREATE TABLE sales AS SELECT cust, CAST(date AS DATE) AS date, amount FROM src")
        con.unregister("src")
        del log
    before = _rss_mib()

    def run() -> int:
        if case == "memory":
            return len(clvkit.summarize(log, **ARGS))
        if case == "sql":
            return len(sql.summarize(con, table="sales", **ARGS))
        return len(sql.compressed_summary(con, table="sales", include_monetary=False, **ARGS))

    best, rows = float("inf"), 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        rows = run()
        best = min(best, time.perf_counter() - t0)
    return {"case": case, "size": size, "seconds": best, "rows": rows, "rss_before_mib": before,
            "peak_rss_mib": _rss_mib()}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--threads", type=int, default=2, help="DuckDB threads (default 2)")
    p.add_argument("--smoke", action="store_true", help="10k transactions, one run")
    p.add_argument("--worker", nargs=2, metavar=("CASE", "SIZE"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker[0], int(args.worker[1]), args.repeat, args.threads)))
        return 0
    if args.smoke:
        args.sizes, args.repeat = [10_000], 1
    print("# clvkit.sql (DuckDB) against clvkit.summarize (numpy), same log\n")
    print(f"DuckDB threads: {args.threads}; best of {args.repeat} runs; each case in a fresh process.\n")
    print("| transactions | case | seconds | rows returned | RSS before (MiB) | peak RSS (MiB) |")
    print("|---:|---|---:|---:|---:|---:|")
    for size in args.sizes:
        for case in CASES:
            out = subprocess.run([sys.executable, str(SCRIPT), "--worker", case, str(size), "--repeat",
                                  str(args.repeat), "--threads", str(args.threads)],
                                 capture_output=True, text=True, check=False)
            if out.returncode:
                print(f"| {size:,} | {case} | failed: {out.stderr.strip().splitlines()[-1:]} | | | |")
                continue
            r = json.loads(out.stdout.strip().splitlines()[-1])
            print(f"| {size:,} | {case} | {r['seconds']:.2f} | {r['rows']:,} | {r['rss_before_mib']:.0f} | "
                  f"{r['peak_rss_mib']:.0f} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
