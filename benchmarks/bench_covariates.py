"""Benchmark: the cost of static covariates - Pareto/NBD fit with two binary covariates vs without.

Usage::

    python benchmarks/bench_covariates.py                # 100,000 customers, 3 interleaved rounds
    python benchmarks/bench_covariates.py --sizes 10000 --rounds 5
    python benchmarks/bench_covariates.py --smoke        # 2,000 customers, 1 round

Data: customers simulated from the Pareto/NBD model at the CDNOW estimates (r = 0.55, alpha = 10.58,
s = 0.61, beta = 11.67, weeks), each with two independent binary covariates; under CLVTools' link
(``alpha_i = alpha exp(-gamma_p'z)``, ``beta_i = beta exp(-gamma_d'z)``) with gamma_p = (0.4, -0.3) and
gamma_d = (-0.5, 0.6). Acquired uniformly over 52 weeks and observed to week 78, recorded at day resolution
(recency and T are whole days in weeks), so the summaries compress like real ones.

Both fits run on the same summary in the same process, interleaved (plain, covariates, plain, ...) so that
load from other jobs on a shared machine hits both alike. Printed: CPU time (``time.process_time``) and wall
time of each run, the median CPU time of each fit and their ratio, the rows each fit evaluated, and the
estimated coefficients with their standard errors beside the true ones.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from typing import Any


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100000", help="comma-separated numbers of customers")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (one fit of each per round)")
    parser.add_argument("--smoke", action="store_true", help="one small size (2,000 customers), one round")
    parser.add_argument("--seed", type=int, default=2013)
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads (set before numpy is imported)")
    return parser.parse_args()


ARGS = _parse()
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = str(ARGS.threads)

import numpy as np  # noqa: E402

from clvkit import CustomerSummary  # noqa: E402
from clvkit.valuation import ParetoNBD  # noqa: E402

TRUE = (0.55, 10.58, 0.61, 11.67)
GAMMA_P = np.array([0.4, -0.3])
GAMMA_D = np.array([-0.5, 0.6])


class _Columns:
    """Covariates held as arrays in customer-id order (ids are 0..n-1): a CovariateMatrix."""

    def __init__(self, z: np.ndarray) -> None:
        self._z = z
        self.names = ("A", "B")

    def align(self, customer_id: Any, /) -> np.ndarray:
        return self._z[np.asarray(customer_id, dtype=np.intp)]


def simulate(n: int, seed: int) -> tuple[CustomerSummary, np.ndarray]:
    """A weekly summary of ``n`` customers drawn at day resolution, and their covariates (n, 2)."""
    rng = np.random.default_rng(seed)
    r, alpha, s, beta = TRUE
    z = rng.integers(0, 2, (n, 2)).astype(np.float64)
    lam = rng.gamma(r, 1.0, n) / (alpha * np.exp(-z @ GAMMA_P)) / 7.0  # purchases per day
    mu = rng.gamma(s, 1.0, n) / (beta * np.exp(-z @ GAMMA_D)) / 7.0  # dropout rate per day
    first = rng.integers(0, 364, n)
    age = (546 - first).astype(np.float64)
    active = np.minimum(rng.exponential(1.0, n) / mu, age)
    counts = rng.poisson(lam * active)
    owner = np.repeat(np.arange(n), counts)
    day = np.floor(rng.uniform(0.0, 1.0, owner.shape[0]) * active[owner]).astype(np.int64)
    key = np.unique(owner * 1_000_000 + day)
    who, when = key // 1_000_000, key % 1_000_000
    repeat = when > 0
    who, when = who[repeat], when[repeat]
    frequency = np.bincount(who, minlength=n).astype(np.float64)
    last = np.zeros(n)
    np.maximum.at(last, who, when.astype(np.float64))
    summary = CustomerSummary(frequency=frequency, recency=last / 7.0, T=age / 7.0, time_unit="W",
                              customer_id=np.arange(n))
    return summary, z


def main() -> int:
    sizes = [2000] if ARGS.smoke else [int(v) for v in ARGS.sizes.split(",") if v.strip()]
    rounds = 1 if ARGS.smoke else ARGS.rounds
    print(f"Pareto/NBD: two static covariates vs none (BLAS threads {ARGS.threads}, {rounds} interleaved rounds)")
    for n in sizes:
        summary, z = simulate(n, ARGS.seed)
        cov = _Columns(z)
        cpu: dict[str, list[float]] = {"plain": [], "covariates": []}
        fits: dict[str, Any] = {}
        for k in range(rounds):
            for name in ("plain", "covariates"):
                kwargs = {} if name == "plain" else {"purchase_covariates": cov, "dropout_covariates": cov}
                c0, w0 = time.process_time(), time.perf_counter()
                fits[name] = ParetoNBD().fit(summary, **kwargs)
                c1, w1 = time.process_time(), time.perf_counter()
                cpu[name].append(c1 - c0)
                print(f"  n={n:>7} round {k + 1} {name:>10}: CPU {c1 - c0:7.3f} s, wall {w1 - w0:7.3f} s")
        plain, withcov = statistics.median(cpu["plain"]), statistics.median(cpu["covariates"])
        info_p, info_c = fits["plain"].fit_info, fits["covariates"].fit_info
        print(f"n={n}: median CPU plain {plain:.3f} s, with covariates {withcov:.3f} s, ratio {withcov / plain:.2f}x; "
              f"rows evaluated {info_p.n_rows} vs {info_c.n_rows}; evaluations {info_p.n_evaluations} vs "
              f"{info_c.n_evaluations}")
        se = fits["covariates"].standard_errors or {}
        for process, truth in (("purchase", GAMMA_P), ("dropout", GAMMA_D)):
            for (name, value), true in zip(fits["covariates"].coefficients[process].items(), truth, strict=True):
                print(f"  {process}.{name}: {value:+.4f} (SE {se.get(f'{process}.{name}', float('nan')):.4f}), "
                      f"true {true:+.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
