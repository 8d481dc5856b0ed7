"""Benchmark: the Gamma-Gompertz/NBD fit against the BG/NBD fit on the same customers.

Usage::

    python benchmarks/bench_ggomnbd.py                 # 100,000 customers, 5 interleaved rounds of fresh processes
    python benchmarks/bench_ggomnbd.py --sizes 10000,100000 --rounds 7
    python benchmarks/bench_ggomnbd.py --in-process    # the rounds in this process (warm caches, quicker)
    python benchmarks/bench_ggomnbd.py --smoke         # 2,000 customers, 1 round

Data: customers simulated from the Gamma-Gompertz/NBD model (r = 0.55, alpha = 10.58, b = 0.02, s = 0.61,
beta = 0.2, weeks: a falling marginal dropout hazard), acquired uniformly over 52 weeks and observed to week 78,
recorded at day resolution (recency and T whole days in weeks), so the summary compresses like a real one.

Each round fits BG/NBD and then Gamma-Gompertz/NBD on the same summary (interleaved, so load from other jobs hits
both alike). By default every fit runs in a fresh Python process (the script re-invokes itself with ``--worker``):
the worker simulates the data and makes one untimed fit on 200 customers first (imports, e.g. scipy.optimize's),
then times one fit and, in a second untimed fit, its peak traced memory (``tracemalloc``, which counts numpy's
arrays). Printed per size: the median CPU time (``time.process_time``) and wall time of each fit over the rounds,
their ratio (Gamma-Gompertz/NBD / BG/NBD, CPU and wall), the peak memory, rows, likelihood evaluations, and the
estimates beside the true ones. Run with one BLAS thread (``--threads``, set before numpy is imported).
Target (issue 14): within 5x of the BG/NBD fit at 100,000 customers.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import tracemalloc
from typing import Any


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100000", help="comma-separated numbers of customers")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (one fit of each per round)")
    parser.add_argument("--smoke", action="store_true", help="one small size (2,000 customers), one round")
    parser.add_argument("--seed", type=int, default=2012)
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads (set before numpy is imported)")
    parser.add_argument("--in-process", action="store_true", help="fit in this process instead of fresh workers")
    parser.add_argument("--worker", nargs=2, metavar=("MODEL", "SIZE"), help=argparse.SUPPRESS)
    return parser.parse_args()


ARGS = _parse()
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = str(ARGS.threads)

import numpy as np  # noqa: E402
from _common import machine_info  # noqa: E402

from clvkit import CustomerSummary  # noqa: E402
from clvkit.valuation import BetaGeo, FittedGammaGompertzNBD, GammaGompertzNBD, GammaGompertzNBDParams  # noqa: E402

TRUE = {"r": 0.55, "alpha": 10.58, "b": 0.02, "s": 0.61, "beta": 0.2}
TARGET = 5.0
ENGINES: dict[str, Any] = {"BetaGeo": BetaGeo, "GammaGompertzNBD": GammaGompertzNBD}


def simulate(n: int, seed: int) -> CustomerSummary:
    rng = np.random.default_rng(seed)
    T = (78 * 7 - rng.integers(0, 52 * 7, n)) / 7.0
    model = FittedGammaGompertzNBD(params=GammaGompertzNBDParams(**TRUE), time_unit="W")
    sim = model.simulate(T, seed=rng)
    # Day resolution: recency floored to whole days (within T).
    recency = np.minimum(np.maximum(np.floor(sim.recency * 7.0), np.where(sim.frequency > 0, 1.0, 0.0)) / 7.0, T)
    return CustomerSummary(frequency=sim.frequency, recency=recency, T=T, time_unit="W")


def timed(fit: Any) -> tuple[float, float, Any]:
    c0, w0 = time.process_time(), time.perf_counter()
    result = fit()
    return time.process_time() - c0, time.perf_counter() - w0, result


def peak_mib(fit: Any) -> float:
    tracemalloc.start()
    try:
        fit()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def one_fit(name: str, summary: CustomerSummary) -> dict[str, Any]:
    """Time one fit of ``name`` on ``summary``, then its peak memory in an untimed fit."""
    engine = ENGINES[name]()
    cpu, wall, fitted = timed(lambda: engine.fit(summary))
    info = fitted.fit_info
    return {"cpu": cpu, "wall": wall, "peak": peak_mib(lambda: engine.fit(summary)), "rows": info.n_rows,
            "evals": info.n_evaluations, "ll": fitted.log_likelihood, "params": fitted.params.model_dump()}


def worker(name: str, size: int) -> int:
    summary = simulate(size, ARGS.seed)
    ENGINES[name]().fit(simulate(200, ARGS.seed + 1))  # untimed: imports and first-call costs
    print(json.dumps(one_fit(name, summary)))
    return 0


def run_fresh(name: str, size: int) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--worker", name, str(size), "--seed", str(ARGS.seed),
           "--threads", str(ARGS.threads)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=os.environ.copy())
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> int:
    sizes = [2000] if ARGS.smoke else [int(s) for s in ARGS.sizes.split(",")]
    rounds = 1 if ARGS.smoke else ARGS.rounds
    mode = "in this process" if ARGS.in_process else "fresh process per fit"
    print(machine_info())
    print(f"{rounds} interleaved round(s), {mode}; medians; BLAS threads {ARGS.threads}")
    print(f"{'customers':>10} {'model':>18} {'cpu s':>8} {'wall s':>8} {'cpu x':>6} {'wall x':>6} {'peak MiB':>8} "
          f"{'rows':>7} {'evals':>9}  LL")
    worst = 0.0
    for n in sizes:
        summary = simulate(n, ARGS.seed) if ARGS.in_process else None
        runs: dict[str, list[dict[str, Any]]] = {name: [] for name in ENGINES}
        for _ in range(rounds):
            for name in ENGINES:
                runs[name].append(one_fit(name, summary) if summary is not None else run_fresh(name, n))
        med = {k: {f: statistics.median(r[f] for r in v) for f in ("cpu", "wall", "peak")} for k, v in runs.items()}
        ratio = med["GammaGompertzNBD"]["cpu"] / med["BetaGeo"]["cpu"]
        wall_ratio = med["GammaGompertzNBD"]["wall"] / med["BetaGeo"]["wall"]
        if n >= 100000 or ARGS.smoke or n == max(sizes):  # the target is at 100,000; else the largest size run
            worst = max(worst, ratio)
        for name in ENGINES:
            last = runs[name][-1]
            evals = sorted({r["evals"] for r in runs[name]})
            shown = f"{ratio:6.2f} {wall_ratio:6.2f}" if name == "GammaGompertzNBD" else f"{'':>6} {'':>6}"
            print(f"{n:>10,} {name:>18} {med[name]['cpu']:8.3f} {med[name]['wall']:8.3f} {shown} "
                  f"{med[name]['peak']:8.1f} {last['rows']:>7.0f} {'/'.join(map(str, evals)):>9}  {last['ll']:.2f}")
        est = runs["GammaGompertzNBD"][-1]["params"]
        print("    estimates: " + ", ".join(f"{k} = {est[k]:.4g} (true {v:g})" for k, v in TRUE.items()))
    verdict = "within" if worst <= TARGET else "OUTSIDE"
    print(f"Gamma-Gompertz/NBD / BG/NBD CPU time: {worst:.2f}x ({verdict} the {TARGET:g}x target)")
    return 0


if __name__ == "__main__":
    if ARGS.worker:
        raise SystemExit(worker(ARGS.worker[0], int(ARGS.worker[1])))
    raise SystemExit(main())
