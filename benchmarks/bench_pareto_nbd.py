"""Benchmark: clvkit ParetoNBD vs lifetimes ParetoNBDFitter on simulated Pareto/NBD customers.

Usage::

    python benchmarks/bench_pareto_nbd.py                 # 10,000 and 100,000 customers
    python benchmarks/bench_pareto_nbd.py --sizes 50000
    python benchmarks/bench_pareto_nbd.py --smoke         # 2,000 customers, for CI

Data: customers are simulated from the Pareto/NBD model with the CDNOW estimates (r = 0.55,
alpha = 10.58, s = 0.61, beta = 11.67, weeks), acquired uniformly over 52 weeks and observed to week
78; purchases are recorded as calendar days (as every transaction log is) and summarised like
``clvkit.summarize``/lifetimes: frequency = distinct repeat purchase days, recency and T in weeks.
Both libraries fit the same summary in the same process.

Printed per size: fit wall time of each library (best of ``--repeat`` runs), their ratio, the peak
memory of each fit (``tracemalloc``, measured in a separate run so that tracing does not slow the
timed one), and the number of "log-likelihood passes": clvkit's fit time divided by the time of one
vectorised log-likelihood(+gradient) evaluation on the raw, uncompressed rows. Then the two sets of
estimates and their largest relative difference.

The BLAS thread count is fixed (``--threads``, default 1) before numpy is imported: on small shared
machines multithreaded OpenBLAS makes a 40,000-element dot product take milliseconds instead of
microseconds, which would dominate both libraries' timings.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import tracemalloc
import warnings
from typing import Any


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated numbers of customers")
    parser.add_argument("--smoke", action="store_true", help="one small size (2,000 customers)")
    parser.add_argument("--repeat", type=int, default=1, help="timed runs per library and size (best is kept)")
    parser.add_argument("--seed", type=int, default=2005)
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads (set before numpy is imported)")
    parser.add_argument("--no-lifetimes", action="store_true", help="time clvkit only")
    return parser.parse_args()


ARGS = _parse()
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = str(ARGS.threads)

import numpy as np  # noqa: E402
from clvkit.valuation.pareto_nbd import FittedParetoNBD, ParetoNBD  # noqa: E402

from clvkit import CustomerSummary  # noqa: E402
from clvkit.valuation.models import _paretonbd  # noqa: E402

TRUE = {"r": 0.55, "alpha": 10.58, "s": 0.61, "beta": 11.67}


def simulate(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Frequency, recency and T (weeks) of ``n`` simulated customers, recorded at day resolution."""
    rng = np.random.default_rng(seed)
    lam = rng.gamma(TRUE["r"], 1.0 / TRUE["alpha"], n) / 7.0  # purchases per day
    mu = rng.gamma(TRUE["s"], 1.0 / TRUE["beta"], n) / 7.0  # dropout rate per day
    first = rng.integers(0, 364, n)  # acquisition day
    age = (546 - first).astype(np.float64)  # days from the first purchase to the end (day 546)
    active = np.minimum(rng.exponential(1.0, n) / mu, age)
    counts = rng.poisson(lam * active)
    owner = np.repeat(np.arange(n), counts)
    day = np.floor(rng.uniform(0.0, 1.0, owner.shape[0]) * active[owner]).astype(np.int64)
    key = np.unique(owner * 1_000_000 + day)  # distinct purchase days per customer
    who, when = key // 1_000_000, key % 1_000_000
    repeat = when > 0  # the first purchase is day 0
    who, when = who[repeat], when[repeat]
    frequency = np.bincount(who, minlength=n).astype(np.float64)
    last = np.zeros(n)
    np.maximum.at(last, who, when.astype(np.float64))
    return frequency, last / 7.0, age / 7.0


def _timed(fn: Any, repeat: int) -> tuple[float, Any]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def _peak_mib(fn: Any) -> float:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def main() -> int:
    sizes = [2000] if ARGS.smoke else [int(v) for v in ARGS.sizes.split(",") if v.strip()]
    lifetimes_fitter: Any = None
    if not ARGS.no_lifetimes:
        try:
            from lifetimes import ParetoNBDFitter

            lifetimes_fitter = ParetoNBDFitter
        except ImportError:
            print("lifetimes is not installed; timing clvkit only.", file=sys.stderr)
    print(f"Pareto/NBD fit benchmark (BLAS threads: {ARGS.threads}, best of {ARGS.repeat})")
    header = (f"{'size':>8} {'clvkit s':>9} {'lifetimes s':>12} {'ratio':>7} {'clvkit MiB':>11} "
              f"{'lifetimes MiB':>14} {'LL passes':>10} {'1 LL s':>8} {'rows fitted':>12}")
    print(header)
    details: list[str] = []
    for n in sizes:
        x, tx, T = simulate(n, ARGS.seed)

        def fit_clvkit(x: np.ndarray = x, tx: np.ndarray = tx, T: np.ndarray = T) -> FittedParetoNBD:
            # Building the summary (validation) is part of what a user pays for.
            return ParetoNBD().fit(CustomerSummary(frequency=x, recency=tx, T=T, time_unit="W"))

        t_clv, fitted = _timed(fit_clvkit, ARGS.repeat)
        mem_clv = _peak_mib(fit_clvkit)
        params = fitted.param_array()
        def one_pass(params: np.ndarray = params, x: np.ndarray = x, tx: np.ndarray = tx,
                     T: np.ndarray = T) -> Any:
            return _paretonbd.loglik(params, x, tx, T)

        t_ll, _ = _timed(one_pass, 5)
        passes = t_clv / t_ll
        t_lt = mem_lt = float("nan")
        lt_params = None
        if lifetimes_fitter is not None:

            def fit_lifetimes(x: np.ndarray = x, tx: np.ndarray = tx, T: np.ndarray = T) -> Any:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    return lifetimes_fitter().fit(x, tx, T)

            t_lt, lt = _timed(fit_lifetimes, ARGS.repeat)
            mem_lt = _peak_mib(fit_lifetimes)
            lt_params = np.array([lt.params_[k] for k in ("r", "alpha", "s", "beta")])
        ratio = t_lt / t_clv
        assert fitted.fit_info is not None
        print(f"{n:>8} {t_clv:>9.3f} {t_lt:>12.2f} {ratio:>7.1f} {mem_clv:>11.1f} {mem_lt:>14.1f} "
              f"{passes:>10.1f} {t_ll:>8.4f} {fitted.fit_info.n_rows:>12}")
        line = (f"n={n}: clvkit {dict(zip(('r', 'alpha', 's', 'beta'), np.round(params, 4).tolist(), strict=True))} "
                f"LL={fitted.log_likelihood:.3f} ({fitted.fit_info.n_evaluations} evaluations)")
        if lt_params is not None:
            rel = float(np.max(np.abs(lt_params / params - 1.0)))
            line += f"; lifetimes {np.round(lt_params, 4).tolist()}; max relative difference {rel:.1e}"
        details.append(line)
    print()
    print("\n".join(details))
    return 0


if __name__ == "__main__":
    sys.exit(main())
