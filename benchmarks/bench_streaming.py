"""clvkit.summarize in memory vs streamed batch by batch: wall time and peak memory (issue 15, scope 2).

Data: ``N`` transactions (``--rows``, default 20M; ``--smoke``: 200k) of ``N / 10`` customers over two years,
as bench_summarize.py: ``cust`` (int64), ``date`` (whole days, datetime64) and ``amount`` (float64, Gamma(2, 20)).
It is generated in batches of ``--batch`` rows (default 1M), batch ``i`` from the seed ``(20261207, i)``, so
every process sees the same log without holding it. Nearly every (customer, day) is distinct here - the
streaming state's worst case; a log of baskets with several line items per customer-day streams in less.

Cases, each in a fresh process (the script re-invokes itself with ``--worker CASE``):

- ``memory``: the batches concatenated into one mapping of arrays, then ``summarize(log)``; the timed region
  is the call only (the log exists before it);
- ``generator``: ``summarize(generator of batches)``; the time includes generating the batches;
- ``parquet-memory``: ``pyarrow.parquet.read_table(folder)`` then ``summarize(table)`` (timed together);
- ``parquet-dataset``: ``summarize(pyarrow.dataset.dataset(folder), batch_size=--batch)``;
- ``parquet-lazy``: ``summarize(polars.scan_parquet(folder/*.parquet), batch_size=--batch)``.

The Parquet folder (one file per batch) is written once by the parent into a temporary directory. Memory is the
peak resident set size of the worker process (``ru_maxrss``: everything, including the interpreter, the
imported libraries and the log for ``memory``) and, in a second fresh process, the peak traced by
``tracemalloc`` during the call (what the call allocates; numpy and Arrow report their buffers). The parent checks
that every case gives the same summary (ids, frequency, recency, T and purchase times exactly; monetary value
to 1e-12 relative) and prints a table.

Run ``python benchmarks/bench_streaming.py`` (20M rows take a few minutes) or ``--smoke``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
from _common import machine_info

SCRIPT = Path(__file__).resolve()
DAYS = 730
CASES = ("memory", "generator", "parquet-memory", "parquet-dataset", "parquet-lazy")


def batches(rows: int, batch: int) -> Iterator[dict[str, np.ndarray[Any, Any]]]:
    """The log, batch by batch (see the module docstring)."""
    customers = max(rows // 10, 1)
    for i, start in enumerate(range(0, rows, batch)):
        m = min(batch, rows - start)
        rng = np.random.default_rng([20261207, i])
        yield {"cust": rng.integers(0, customers, m),
               "date": np.datetime64("2022-01-01", "D") + rng.integers(0, DAYS, m).astype("timedelta64[D]"),
               "amount": rng.gamma(2.0, 20.0, m)}


def write_parquet(folder: Path, rows: int, batch: int) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    for i, part in enumerate(batches(rows, batch)):
        pq.write_table(pa.table(part), folder / f"part-{i:05d}.parquet", row_group_size=batch)


def run_case(case: str, rows: int, batch: int, folder: Path, trace: bool) -> dict[str, Any]:
    import pandas  # noqa: F401  - every library imported before the clock starts (pyarrow frames go via pandas)
    import polars  # noqa: F401
    import pyarrow.dataset
    import pyarrow.parquet  # noqa: F401

    import clvkit

    kwargs = {"customer_id": "cust", "datetime": "date", "monetary_value": "amount"}
    log: Any = None
    if case == "memory":
        parts = list(batches(rows, batch))
        log = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
        del parts
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if trace:
        tracemalloc.start()
    t0 = time.perf_counter()
    if case == "memory":
        s = clvkit.summarize(log, **kwargs)
    elif case == "generator":
        s = clvkit.summarize(batches(rows, batch), **kwargs)
    elif case == "parquet-memory":
        import pyarrow.parquet as pq

        s = clvkit.summarize(pq.read_table(folder), **kwargs)
    elif case == "parquet-dataset":
        import pyarrow.dataset as pads

        s = clvkit.summarize(pads.dataset(folder, format="parquet"), batch_size=batch, **kwargs)
    else:
        import polars as pl

        s = clvkit.summarize(pl.scan_parquet(folder / "*.parquet"), batch_size=batch, **kwargs)
    seconds = time.perf_counter() - t0
    traced = tracemalloc.get_traced_memory()[1] if trace else None
    assert s.customer_id is not None and s.monetary_value is not None and s.purchase_times is not None
    digest = hashlib.sha256()
    for arr in (s.customer_id, s.frequency, s.recency, s.T, s.purchase_times.times, s.purchase_times.origin):
        digest.update(np.ascontiguousarray(arr).tobytes())
    return {"case": case, "seconds": seconds, "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "rss_before_mib": rss_before / 1024, "traced_mib": None if traced is None else traced / 2**20,
            "customers": len(s), "keys": int(s.frequency.sum()) + len(s), "digest": digest.hexdigest(),
            "spend_sum": float(np.sum(s.monetary_value)), "spend_head": s.monetary_value[:1000].tolist()}


def worker(argv: list[str]) -> int:
    case, rows, batch, folder, trace = argv[0], int(argv[1]), int(argv[2]), Path(argv[3]), argv[4] == "trace"
    print(json.dumps(run_case(case, rows, batch, folder, trace)))
    return 0


def measure(case: str, rows: int, batch: int, folder: Path, trace: bool, timeout: float) -> dict[str, Any] | None:
    cmd = [sys.executable, str(SCRIPT), "--worker", case, str(rows), str(batch), str(folder),
           "trace" if trace else "time"]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        print(f"  {case}: timed out after {timeout:.0f} s", file=sys.stderr)
        return None
    if done.returncode != 0:
        print(f"  {case} failed:\n{done.stderr[-2000:]}", file=sys.stderr)
        return None
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=20_000_000)
    p.add_argument("--batch", type=int, default=1_000_000)
    p.add_argument("--cases", nargs="*", default=list(CASES), choices=CASES)
    p.add_argument("--no-memory", action="store_true", help="skip the tracemalloc runs")
    p.add_argument("--timeout", type=float, default=1800.0)
    p.add_argument("--smoke", action="store_true", help="200k rows in batches of 20k")
    args = p.parse_args(argv)
    if args.smoke:
        args.rows, args.batch = 200_000, 20_000
    print(f"# summarize in memory vs streamed: {args.rows:,} transactions, batches of {args.batch:,} rows\n")
    print(machine_info())
    print("Time: one run per case, wall clock, fresh process. RSS: peak resident set size of that process (all of "
          "it: interpreter, libraries, data). Traced: tracemalloc peak during the call, in another fresh process.\n")
    failures: list[str] = []
    rows_out: list[tuple[dict[str, Any], dict[str, Any] | None]] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "log"
        folder.mkdir()
        if any(c.startswith("parquet") for c in args.cases):
            write_parquet(folder, args.rows, args.batch)
        for case in args.cases:
            timed = measure(case, args.rows, args.batch, folder, False, args.timeout)
            if timed is None:
                failures.append(f"{case}: the run failed")
                continue
            traced = None if args.no_memory else measure(case, args.rows, args.batch, folder, True, args.timeout)
            rows_out.append((timed, traced))
            print(f"  done: {case} ({timed['seconds']:.1f} s)", file=sys.stderr, flush=True)
    header = "| case | seconds | peak RSS MiB | RSS before call MiB | traced peak MiB | customers | customer-days |"
    print(header)
    print("|" + "---|" * 7)
    for timed, traced in rows_out:
        tr = "-" if traced is None or traced["traced_mib"] is None else f"{traced['traced_mib']:.0f}"
        print(f"| {timed['case']} | {timed['seconds']:.2f} | {timed['rss_mib']:.0f} | {timed['rss_before_mib']:.0f} | "
              f"{tr} | {timed['customers']:,} | {timed['keys']:,} |")
    if rows_out:
        ref = rows_out[0][0]
        for timed, _ in rows_out[1:]:
            same = timed["digest"] == ref["digest"]
            spend = np.max(np.abs(np.subtract(timed["spend_head"], ref["spend_head"]))
                           / np.maximum(np.abs(ref["spend_head"]), 1e-300)) if ref["spend_head"] else 0.0
            ok = same and spend <= 1e-12
            print(f"  {timed['case']} vs {ref['case']}: ids/frequency/recency/T/purchase times "
                  f"{'identical' if same else 'DIFFER'}; monetary value (first 1000) max rel. diff {spend:.1e}")
            if not ok:
                failures.append(f"{timed['case']} differs from {ref['case']}")
    for f in failures:
        print(f"FAILED: {f}")
    return 1 if failures else 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        raise SystemExit(worker(sys.argv[2:]))
    raise SystemExit(main())
