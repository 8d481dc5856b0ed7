"""Benchmark: tier assignment of every policy in :mod:`clvkit.tiering`, in customers per second.

Target: any policy assigns 10 million customers in under one second. The inputs are generated untimed from
a fixed seed (lognormal values and costs, uniform P(alive), gamma-distributed frequency and spend, Poisson
purchase and referral counts, a lognormal 12-period spend history); the timed work is ``policy.assign``
including input validation. One line per (policy, n): best wall time of ``--repeat`` runs.

Usage::

    python benchmarks/bench_tiering.py            # 10,000,000 customers
    python benchmarks/bench_tiering.py --smoke    # 100,000 customers, one run: checks the script works
    python benchmarks/bench_tiering.py --sizes 1000000 10000000 --repeat 5
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from clvkit.tiering import (
    AxisCut,
    FiveA,
    KeyCustomers,
    LifecycleStage,
    LoyaltyProgram,
    RFMSegments,
    Scorecard,
    StarRating,
    TierAssignment,
    ValueCostMatrix,
    ValueRiskMatrix,
    inventory,
)

TARGET_SECONDS = 1.0
N_PERIODS = 12


def make_data(n: int, seed: int) -> dict[str, Any]:
    """Per-customer inputs of every policy for ``n`` customers (deterministic for a seed)."""
    rng = np.random.default_rng(seed)
    return {
        "value": rng.lognormal(5.0, 1.5, n),
        "cost": rng.lognormal(3.0, 0.8, n),
        "p_alive": rng.uniform(0.0, 1.0, n),
        "frequency": np.floor(rng.gamma(0.8, 3.0, n)),
        "monetary_value": rng.gamma(6.0, 8.0, n),
        "time_since_last": rng.integers(0, 365, n).astype(np.float64),
        "satisfaction": rng.integers(1, 6, n).astype(np.float64),
        "transactions": rng.poisson(2.0, n).astype(np.float64),
        "referrals": rng.poisson(0.3, n).astype(np.float64),
        "customer_id": np.arange(n, dtype=np.int64),
        "kind": np.array(["consumer", "intermediary", "public_interest"])[rng.integers(0, 3, n)],
        "history": rng.lognormal(4.0, 1.0, (n, N_PERIODS)),
    }


def cases() -> dict[str, Callable[[dict[str, Any]], TierAssignment]]:
    """Policy name -> run(data): one assignment, as a user would call it."""
    five_a = FiveA()
    five_a_card = FiveA(cut=Scorecard(criteria={"value": 0.6, "frequency": 0.2, "monetary_value": 0.2}))
    key = KeyCustomers(share=0.2)
    stars = StarRating(criteria={"value": 0.5, "frequency": 0.3, "satisfaction": 0.2})
    rfm = RFMSegments()
    cost = ValueCostMatrix()
    risk = ValueRiskMatrix(value_cut=AxisCut(quantile=0.8))
    loyalty = LoyaltyProgram(upgrade=(600.0, 1500.0), downgrade=(400.0, 1000.0), window=N_PERIODS // 2)
    life = LifecycleStage()
    return {
        "FiveA (quantiles)": lambda d: five_a.assign(value=d["value"], customer_id=d["customer_id"]),
        "FiveA (+ classes)": lambda d: five_a.assign(value=d["value"], customer_id=d["customer_id"],
                                                     classes=d["kind"]),
        "FiveA (scorecard)": lambda d: five_a_card.assign(d),
        "KeyCustomers": lambda d: key.assign(value=d["value"], customer_id=d["customer_id"]),
        "StarRating": lambda d: stars.assign(d),
        "RFMSegments": lambda d: rfm.assign(d),
        "ValueCostMatrix": lambda d: cost.assign(value=d["value"], cost=d["cost"]),
        "ValueRiskMatrix": lambda d: risk.assign(value=d["value"], p_alive=d["p_alive"]),
        "LoyaltyProgram": lambda d: loyalty.assign(history=d["history"]),
        "LifecycleStage": lambda d: life.assign(transactions=d["transactions"], referrals=d["referrals"]),
    }


def best_of(fn: Callable[[], Any], repeat: int) -> tuple[float, float]:
    """Best wall time and best CPU time (this process) of ``repeat`` runs of ``fn`` (collected before each).

    On a shared machine the CPU time shows the work itself when other processes stretch the wall time.
    """
    wall, cpu = [], []
    for _ in range(max(repeat, 1)):
        gc.collect()
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return min(wall), min(cpu)


def format_rows(rows: list[tuple[str, int, tuple[float, float]]]) -> str:
    """The result table: policy, n, seconds (wall), CPU seconds, million customers per second, target met."""
    header = ("policy", "n", "seconds", "cpu s", "M customers/s", f"< {TARGET_SECONDS:g} s")
    lines = [header] + [(p, f"{n:,}", f"{s:.3f}", f"{c:.3f}", f"{n / s / 1e6:.1f}",
                         "yes" if s < TARGET_SECONDS else "NO") for p, n, (s, c) in rows]
    widths = [max(len(r[i]) for r in lines) for i in range(len(header))]
    out = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True)))
           for r in lines]
    out.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="100,000 customers, one run")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000_000], metavar="N")
    parser.add_argument("--repeat", type=int, default=3, help="best of this many runs (default 3)")
    parser.add_argument("--policies", nargs="+", default=None, help="only these policies (names as printed)")
    parser.add_argument("--seed", type=int, default=20240601)
    args = parser.parse_args(argv)
    sizes = [100_000] if args.smoke else args.sizes
    repeat = 1 if args.smoke else args.repeat
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    print(f"# clvkit tiering benchmark: Python {platform.python_version()}, numpy {np.__version__}, "
          f"{os.cpu_count()} CPUs, load {load[0]:.2f}")
    rows: list[tuple[str, int, tuple[float, float]]] = []
    for n in sizes:
        data = make_data(n, args.seed)
        for name, run in cases().items():
            if args.policies and name not in args.policies:
                continue
            assignment = run(data)  # warm-up, and a sanity check of the result
            if len(assignment) != n:
                raise SystemExit(f"{name}: assigned {len(assignment)} customers, expected {n}")
            rows.append((name, n, best_of(lambda run=run, data=data: run(data), repeat)))
        key = KeyCustomers().assign(value=data["value"])
        values = data["value"]
        rows.append(("inventory() report", n, best_of(lambda key=key, v=values: inventory(v, key), repeat)))
        del data, values  # free the inputs before generating the next size
    print(format_rows(rows))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
