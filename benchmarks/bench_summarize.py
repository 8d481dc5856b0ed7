"""clvkit.summarize against lifetimes 0.11.3 summary_data_from_transaction_data on the same transaction log.

Data: ``N`` transactions (``--sizes``, default 1M and 10M; ``--smoke``: 10k) of about ``N / 10`` customers
(integer ids drawn uniformly) over two years, one row per transaction: ``cust`` (int64), ``date`` (whole
days, generated as numpy ``datetime64[D]``; pandas stores them as ``datetime64[s]``) and ``amount``
(float64, Gamma(2, 20)). Both libraries get the same pandas DataFrame, built in the worker from a fixed
seed outside the timed region, and compute frequency, recency, T and monetary value in days.

Every (library, size) runs in a fresh process (``_common.measure``): best wall time of up to ``--repeat``
runs, then peak memory in another fresh process with ``tracemalloc`` (numpy reports its buffers to
tracemalloc; the input frame exists before tracing starts, so only what the call allocates counts).
The parent checks that the two summaries agree (ids, frequency, recency, T exactly; monetary value to
1e-9 relative) and prints: size, clvkit s, lifetimes s, ratio, clvkit peak MiB, lifetimes peak MiB.

Run ``python benchmarks/bench_summarize.py`` (10M takes a few minutes, most of it lifetimes) or ``--smoke``.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from _common import Measurement, bench_argparser, machine_info, measure, print_table, worker_or_none

SCRIPT = Path(__file__).resolve()
#: The goal set for summarize: at 10M transactions at least this many times faster than lifetimes.
TARGET_RATIO = 5.0
DAYS = 730


def make_log(n: int, seed: int = 20240601) -> Any:
    """The benchmark log as a pandas DataFrame (see the module docstring)."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    first_day = np.datetime64("2022-01-01", "D")
    return pd.DataFrame({
        "cust": rng.integers(0, max(n // 10, 1), n, dtype=np.int64),
        "date": first_day + rng.integers(0, DAYS, n).astype("timedelta64[D]"),
        "amount": rng.gamma(2.0, 20.0, n),
    })


def setup_summarize(library: str, size: int) -> Any:
    log = make_log(size)
    if library == "clvkit":
        import clvkit

        def run() -> np.ndarray[Any, Any]:
            s = clvkit.summarize(log, customer_id="cust", datetime="date", monetary_value="amount", freq="D")
            assert s.customer_id is not None and s.monetary_value is not None
            return np.column_stack([s.customer_id, s.frequency, s.recency, s.T, s.monetary_value])

        return run
    from lifetimes.utils import summary_data_from_transaction_data

    def run_lifetimes() -> np.ndarray[Any, Any]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = summary_data_from_transaction_data(log, "cust", "date", monetary_value_col="amount", freq="D")
        out = out.sort_index()
        return np.column_stack([out.index.to_numpy(), out[["frequency", "recency", "T", "monetary_value"]]])

    return run_lifetimes


CASES = {"summarize": setup_summarize}


def agreement(ours: Measurement, theirs: Measurement) -> tuple[bool | None, str]:
    a, b = ours.array, theirs.array
    if a is None or b is None or ours.size != theirs.size:
        return None, "not compared (a run failed or sizes differ)"
    if a.shape != b.shape:
        return False, f"shapes differ: {a.shape} vs {b.shape}"
    exact = bool(np.array_equal(a[:, :4], b[:, :4]))
    spend = float(np.max(np.abs(a[:, 4] - b[:, 4]) / np.maximum(np.abs(b[:, 4]), 1.0))) if len(a) else 0.0
    ok = exact and spend <= 1e-9
    return ok, (f"{len(a):,} customers; ids/frequency/recency/T {'identical' if exact else 'DIFFER'}; "
                f"monetary_value max rel. diff {spend:.1e}")


def main(argv: list[str] | None = None) -> int:
    p = bench_argparser(__doc__.splitlines()[0], default_sizes=[1_000_000, 10_000_000])
    p.set_defaults(timeout=900.0)
    args = p.parse_args(argv)
    if args.smoke:
        args.sizes, args.repeat, args.timeout = [10_000], 1, 120.0

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    print("# clvkit.summarize vs lifetimes summary_data_from_transaction_data (freq='D')\n")
    print(machine_info())
    print("Sizes are numbers of transactions (about a tenth as many customers, two years of days). Times: best "
          f"wall time of up to {args.repeat} runs, each library and size in a fresh process; ratio = lifetimes / "
          "clvkit. Memory: peak bytes traced by tracemalloc during one run, fresh process.")
    sys.stdout.flush()
    common = {"repeat": args.repeat, "budget": args.budget, "timeout": args.timeout, "memory": not args.no_memory,
              "log": log}
    rows = [(measure(SCRIPT, "summarize", "clvkit", n, **common), measure(SCRIPT, "summarize", "lifetimes", n,
                                                                           **common))
            for n in args.sizes]
    print_table("summarize a transaction log", rows)
    failures = []
    for ours, theirs in rows:
        ok, text = agreement(ours, theirs)
        print(f"  agreement at n={ours.size:,}: {text}")
        if ok is False:
            failures.append(f"n={ours.size:,}: {text}")
    largest = rows[-1]
    if largest[0].size >= 10_000_000 and largest[0].seconds and largest[1].seconds:
        ratio = largest[1].seconds / largest[0].seconds
        memory_ok = (largest[0].peak_mib is None or largest[1].peak_mib is None
                     or largest[0].peak_mib <= largest[1].peak_mib)
        status = "MET" if ratio >= TARGET_RATIO and memory_ok else "MISSED"
        print(f"\nTarget (10M transactions: >= {TARGET_RATIO:g}x faster, no more memory): {ratio:.1f}x, "
              f"memory {'not above' if memory_ok else 'ABOVE'} lifetimes -> {status}")
    for f in failures:
        print(f"FAILED: {f}")
    return 1 if failures else 0


if __name__ == "__main__":
    code = worker_or_none(CASES)  # 0 for a finished worker run, None in the parent
    raise SystemExit(main() if code is None else code)
