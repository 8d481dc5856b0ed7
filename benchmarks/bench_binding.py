"""Benchmark of clvkit.binding: build the batch and score a large synthetic B2B customer base.

Target: 1,000,000 touchpoints and ~100,000 relationships scored in under 2 s on one machine. The data is
drawn (untimed) by :func:`clvkit.binding._sample.generate_b2b` from a fixed seed; then, best of
``--repeat`` runs each:

- ``build``: :class:`~clvkit.binding.BindingData` from column arrays with integer ids (validation, coding,
  the touchpoint sort and the pair index);
- ``score``: :func:`~clvkit.binding.measure_binding` on the built batch;
- ``build+score``: the two together - the number the target is about;
- ``risk+team``: :func:`~clvkit.binding.value_at_risk` and :func:`~clvkit.binding.team_report`;
- ``build (str ids)``: the batch from string ids such as ``"C-000123"`` (a dearer boundary);

and the peak memory traced (:mod:`tracemalloc`) of one build+score. ``--smoke`` runs a tiny size once.

Usage::

    python benchmarks/bench_binding.py            # 1M touchpoints, 30k customers, 1k employees
    python benchmarks/bench_binding.py --smoke
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from _common import best_of, machine_info, peak_memory_bytes

from clvkit.binding import BindingData, measure_binding, team_report, value_at_risk
from clvkit.binding._sample import B2B_SAMPLE_AS_OF, generate_b2b

MIB = 1024.0 * 1024.0
TARGET_SECONDS = 2.0


def _batch_kwargs(tables: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {name: cols for name, cols in tables.items() if name != "customers"}


def run(n_touchpoints: int, n_customers: int, n_employees: int, *, repeat: int, memory: bool, seed: int) -> bool:
    """Measure every step at one size; print a table; return whether build+score met the target."""
    t0 = time.perf_counter()
    tables = generate_b2b(n_customers, n_employees, n_touchpoints, seed=seed, int_ids=True)
    kwargs = _batch_kwargs(tables)
    values = tables["customers"]["value"]
    print(f"generated in {time.perf_counter() - t0:.1f} s (untimed): {n_touchpoints:,} touchpoints, "
          f"{len(kwargs['relationships']['strength']):,} relationships, {n_customers:,} customers, "
          f"{len(kwargs['contacts']['contact_id']):,} contacts, {n_employees:,} employees", flush=True)

    def build() -> BindingData:
        return BindingData(as_of=B2B_SAMPLE_AS_OF, **kwargs)

    data = build()

    def score() -> Any:
        return measure_binding(data)

    def build_and_score() -> Any:
        return measure_binding(build())

    measures = score()

    def risk_and_team() -> Any:
        value_at_risk(measures, values)
        return team_report(measures, values)

    steps: list[tuple[str, Callable[[], Any]]] = [("build", build), ("score", score),
                                                   ("build+score", build_and_score), ("risk+team", risk_and_team)]
    str_tables = generate_b2b(n_customers, n_employees, n_touchpoints, seed=seed)
    str_kwargs = _batch_kwargs(str_tables)
    steps.append(("build (str ids)", lambda: BindingData(as_of=B2B_SAMPLE_AS_OF, **str_kwargs)))

    rows = []
    met = False
    for name, fn in steps:
        timing = best_of(fn, repeat=repeat, budget=60.0)
        rows.append((name, timing.best, len(timing.runs)))
        if name == "build+score":
            met = timing.best < TARGET_SECONDS
    peak = None
    if memory:
        peak, _ = peak_memory_bytes(build_and_score)
    header = f"{'step':<16} {'seconds':>8} {'runs':>5}"
    print(f"\n## clvkit.binding: {n_touchpoints:,} touchpoints, {len(kwargs['relationships']['strength']):,} "
          f"relationships, {n_customers:,} customers, {n_employees:,} employees\n")
    print(header)
    print("-" * len(header))
    for name, best, runs in rows:
        print(f"{name:<16} {best:>8.3f} {runs:>5}")
    if peak is not None:
        print(f"\npeak memory traced (one build+score): {peak / MIB:,.1f} MiB")
    build_score = dict((r[0], r[1]) for r in rows)["build+score"]
    print(f"target build+score < {TARGET_SECONDS:g} s: {'met' if met else 'MISSED'} ({build_score:.3f} s); "
          f"mean score {float(np.mean(measures.score)):.1f}, single-threaded {int(measures.single_threaded.sum()):,}")
    return met


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--smoke", action="store_true", help="a tiny size, one run, no memory pass: checks the script")
    p.add_argument("--touchpoints", type=int, default=1_000_000, help="number of touchpoints (default 1,000,000)")
    p.add_argument("--customers", type=int, default=30_000,
                   help="number of customers (default 30,000, which gives about 100,000 relationships)")
    p.add_argument("--employees", type=int, default=1_000, help="number of employees (default 1,000)")
    p.add_argument("--repeat", type=int, default=3, help="best of this many runs (default 3)")
    p.add_argument("--no-memory", action="store_true", help="skip the tracemalloc peak-memory pass")
    p.add_argument("--seed", type=int, default=20240601, help="seed of the data generator")
    args = p.parse_args(argv)
    print(machine_info())
    if args.smoke:
        run(10_000, 300, 20, repeat=1, memory=False, seed=args.seed)
        return 0
    run(args.touchpoints, args.customers, args.employees, repeat=args.repeat, memory=not args.no_memory,
        seed=args.seed)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
