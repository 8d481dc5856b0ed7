"""Benchmark of the referral graph: build, validate and attribute 1,000,000 customers and referral edges.

Target: 1M customers and 1M referral edges in seconds. The data is drawn (untimed) from a fixed seed:
customers in acquisition order, each referred by an earlier customer picked in proportion to a Pareto
"influence" weight (a few customers refer many), so the graph is a random forest of realistic depth.
Two graphs are timed:

- ``forest``: 1,000,000 customers, 999,000 referrals (1,000 customers were not referred), acyclic;
  built with ``on_cycle="error"``;
- ``cycles``: the same plus a referrer for each of those 1,000 customers, drawn among later customers -
  1,000,000 referrals, every customer referred, so every component holds a cycle; built with
  ``on_cycle="break"`` (cycles found with ``scipy.sparse.csgraph`` and broken at the latest referral).

Steps, best of ``--repeat`` runs each: ``build`` (:meth:`ReferralGraph.from_pairs` with the customer ids:
id coding, unknown/self/duplicate checks, cycle detection), ``attribute 1 level``, ``attribute 3 levels``
(decay 0.5; sparse products), ``attribute all levels`` (decay 0.5; exact triangular solve when the forest
is deeper than 32 levels), ``composite`` (:class:`CompositeValue` evaluate: join by ids + one level) and
``build (str ids)`` (ids such as ``"C0000123"``). Each row reports seconds (wall and CPU) and referral
edges per second; the last line the peak memory traced for one build + attribution.

Usage::

    python benchmarks/bench_referral.py             # 1M customers
    python benchmarks/bench_referral.py --smoke
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from _common import best_of, machine_info, peak_memory_bytes

from clvkit.valuation import AttributionRule, CompositeValue, ReferralGraph
from clvkit.valuation.value._referral_kernels import depths

MIB = 1024.0 * 1024.0
TARGET_SECONDS = 10.0  # "in seconds": build + one-level attribution of the 1M/1M graph


def generate(n: int, n_roots: int, seed: int) -> dict[str, Any]:
    """Referral pairs for ``n`` customers (ids 0..n-1 in acquisition order) and their direct values."""
    rng = np.random.default_rng(seed)
    weight = rng.pareto(1.5, size=n) + 1.0
    cum = np.cumsum(weight)
    referred = np.arange(n_roots, n)
    referrer = np.minimum(np.searchsorted(cum, rng.random(referred.size) * cum[referred - 1], side="right"),
                          referred - 1)
    # Referrers for the first customers, drawn among later ones: with them every customer is referred.
    closing = rng.integers(n_roots, n, size=n_roots)
    return {
        "forest": (referrer, referred),
        "cycles": (np.concatenate([referrer, closing]), np.concatenate([referred, np.arange(n_roots)])),
        "time": np.concatenate([referred, n + np.arange(n_roots)]).astype(np.float64),
        "values": rng.gamma(2.0, 50.0, size=n),
        "ids": np.arange(n),
    }


def run(n: int, n_roots: int, *, repeat: int, memory: bool, seed: int) -> bool:
    t0 = time.perf_counter()
    data = generate(n, n_roots, seed)
    ids, values = data["ids"], data["values"]
    str_ids = np.char.add("C", np.char.zfill(ids.astype(str), 7))
    print(f"generated in {time.perf_counter() - t0:.1f} s (untimed): {n:,} customers", flush=True)

    rows: list[tuple[str, int, float, float, int]] = []
    met = True
    for kind in ("forest", "cycles"):
        a, b = data[kind]
        m = int(a.size)
        on_cycle = "error" if kind == "forest" else "break"
        t = None if kind == "forest" else data["time"]

        def build(a: Any = a, b: Any = b, t: Any = t, on_cycle: Any = on_cycle) -> ReferralGraph:
            return ReferralGraph.from_pairs(a, b, t, customer_ids=ids, on_cycle=on_cycle)

        graph = build()
        deepest = int(depths(graph.parent).max())
        steps: list[tuple[str, Callable[[], Any]]] = [
            ("build", build),
            ("attribute 1 level", lambda g=graph: g.attribute(values, ids)),
            ("attribute 3 levels", lambda g=graph: g.attribute(values, ids, AttributionRule(max_levels=3))),
            ("attribute all levels", lambda g=graph: g.attribute(values, ids, AttributionRule(max_levels=None))),
            ("composite", lambda g=graph: CompositeValue(direct=values, indirect=g).evaluate(customer_id=ids)),
            ("build+attribute", lambda build=build: build().attribute(values, ids)),
        ]
        if kind == "forest":
            sa, sb = str_ids[a], str_ids[b]
            steps.append(("build (str ids)",
                          lambda sa=sa, sb=sb: ReferralGraph.from_pairs(sa, sb, customer_ids=str_ids)))
        print(f"\n## {kind}: {n:,} customers, {m:,} referral edges, depth {deepest}, "
              f"{len(graph.broken):,} cycles broken\n")
        header = f"{'step':<22} {'seconds':>8} {'cpu s':>8} {'edges/s':>14} {'runs':>5}"
        print(header)
        print("-" * len(header))
        for name, fn in steps:
            timing = best_of(fn, repeat=repeat, budget=60.0)
            rate = m / timing.best if timing.best > 0 else float("inf")
            rows.append((f"{kind}: {name}", m, timing.best, timing.best_cpu, len(timing.runs)))
            print(f"{name:<22} {timing.best:>8.3f} {timing.best_cpu:>8.3f} {rate:>14,.0f} {len(timing.runs):>5}",
                  flush=True)
            if name == "build+attribute":
                met = met and timing.best < TARGET_SECONDS
        if memory:
            peak, _ = peak_memory_bytes(lambda build=build: build().attribute(values, ids))
            print(f"\npeak memory traced (one build + one-level attribution): {peak / MIB:,.1f} MiB")
    print(f"\ntarget build+attribute < {TARGET_SECONDS:g} s for both graphs: {'met' if met else 'MISSED'}")
    return met


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--smoke", action="store_true", help="a tiny size, one run, no memory pass: checks the script")
    p.add_argument("--customers", type=int, default=1_000_000, help="number of customers (default 1,000,000)")
    p.add_argument("--roots", type=int, default=1_000,
                   help="customers nobody referred in the forest (default 1,000); the cyclic graph refers them too")
    p.add_argument("--repeat", type=int, default=3, help="best of this many runs (default 3)")
    p.add_argument("--no-memory", action="store_true", help="skip the tracemalloc peak-memory pass")
    p.add_argument("--seed", type=int, default=20240607, help="seed of the data generator")
    args = p.parse_args(argv)
    print(machine_info())
    if args.smoke:
        run(5_000, 50, repeat=1, memory=False, seed=args.seed)
        return 0
    run(args.customers, args.roots, repeat=args.repeat, memory=not args.no_memory, seed=args.seed)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
