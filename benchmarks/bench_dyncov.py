"""Benchmark: time-varying covariates - Pareto/NBD with weekly covariates vs the same fit without covariates.

Usage::

    python benchmarks/bench_dyncov.py                  # apparel data (if ../shared/data is there) + 10,000 simulated
    python benchmarks/bench_dyncov.py --sizes 2000 --rounds 1
    python benchmarks/bench_dyncov.py --smoke          # 1,000 simulated customers, one round

Cases:

- **apparel** (CLVTools' data, 600 customers, split at 104 weeks): end to end - summarize the log (days, in weeks),
  build the weekly covariates (High.Season, Gender, Channel; 187,800 rows) and fit them in both processes. The issue's
  reference: CLVTools 0.12.1 took 701 s elapsed (445 s CPU) and stopped at log-likelihood -5758.21.
- **simulated** (``--sizes``): customers from the time-varying Pareto/NBD over two years of weeks with two covariates
  that change every week (a season indicator and a per-customer weekly exposure drawn at random, so no two
  consecutive weeks can be merged - the worst case for the piecewise likelihood), fitted in both processes.

Each fit runs interleaved with the fit without covariates on the same summary (plain, dynamic, plain, ...); printed
are CPU (``time.process_time``) and wall time medians, their ratio, the log-likelihoods, and the peak memory of one
dynamic fit (``tracemalloc``, measured in a separate run so tracing does not slow the timed ones). CLVTools (R) is not
installable here; its apparel timing is the issue's measurement.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import tracemalloc
from pathlib import Path
from typing import Any


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000", help="comma-separated numbers of simulated customers")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds")
    parser.add_argument("--smoke", action="store_true", help="1,000 simulated customers, one round")
    parser.add_argument("--seed", type=int, default=2021)
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads (set before numpy is imported)")
    parser.add_argument("--shared", default=str(Path(__file__).resolve().parents[2] / "shared" / "data"),
                        help="folder of the shared data (apparel files)")
    return parser.parse_args()


ARGS = _parse()
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = str(ARGS.threads)

import numpy as np  # noqa: E402

import clvkit  # noqa: E402
from clvkit.valuation import ParetoNBD  # noqa: E402

WEEKS = 104
TRUE = (0.9, 8.0, 0.8, 30.0)  # r, alpha, s, beta (weeks)
GAMMA_P = np.array([0.8, 0.5])  # season, exposure
GAMMA_D = np.array([-0.7, 0.4])


def _timed(call: Any) -> tuple[float, float, Any]:
    c0, w0 = time.process_time(), time.perf_counter()
    out = call()
    return time.process_time() - c0, time.perf_counter() - w0, out


def _peak(call: Any) -> float:
    tracemalloc.start()
    call()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def simulate(n: int, seed: int) -> tuple[Any, Any]:
    """A transaction log (to the second) and weekly covariates from the time-varying Pareto/NBD.

    Purchases are the arrivals of a unit Poisson process in the operational time ``lambda A(t)``, death the time
    ``mu B(t)`` passes a unit exponential, both inverted exactly on the piecewise-linear weekly clocks.
    """
    import pandas as pd

    rng = np.random.default_rng(seed)
    r, alpha, s, beta = TRUE
    start = np.datetime64("2020-01-05T00:00:00")  # a Sunday: the covariate weeks start here
    n_weeks = WEEKS + 1
    season = ((np.arange(n_weeks) % 26) < 8).astype(float)
    exposure = rng.binomial(1, 0.3, (n, n_weeks)).astype(float)
    lam, mu = rng.gamma(r, 1.0 / alpha, n), rng.gamma(s, 1.0 / beta, n)
    ids: list[int] = []
    seconds: list[int] = []
    for i in range(n):
        first = float(rng.integers(0, 8 * 7)) / 7.0
        k0 = int(first)
        edges = np.r_[first, np.arange(k0 + 1, WEEKS + 1, dtype=float)]
        lengths = np.diff(edges)
        a = np.exp(GAMMA_P[0] * season[k0:WEEKS] + GAMMA_P[1] * exposure[i, k0:WEEKS])
        b = np.exp(GAMMA_D[0] * season[k0:WEEKS] + GAMMA_D[1] * exposure[i, k0:WEEKS])
        A, B = np.r_[0.0, np.cumsum(a * lengths)], np.r_[0.0, np.cumsum(b * lengths)]
        e = rng.exponential() / mu[i]
        j = int(np.searchsorted(B, e, side="right")) - 1
        death = float(edges[j] + (e - B[j]) / b[j]) if j < b.shape[0] else float(WEEKS)
        arrivals = np.cumsum(rng.exponential(size=256) / lam[i])
        arrivals = arrivals[arrivals < A[-1]]
        j = np.searchsorted(A, arrivals, side="right") - 1
        times = edges[j] + (arrivals - A[j]) / a[j]
        times = times[times < death]
        ids += [i] * (1 + times.shape[0])
        seconds += [round(v * 7 * 86400) for v in (first, *times.tolist())]
    log = pd.DataFrame({"id": ids, "date": start + np.array(seconds).astype("timedelta64[s]")})
    periods = start + (np.arange(n_weeks) * 7).astype("timedelta64[D]")
    cov = pd.DataFrame({"id": np.repeat(np.arange(n), n_weeks), "week": np.tile(periods, n),
                        "season": np.tile(season, n), "exposure": exposure.reshape(-1)})
    return log, cov


def _row(label: str, n: int, plain: list[tuple[float, float, Any]], dyn: list[tuple[float, float, Any]],
         peak: float, note: str) -> str:
    pc, pw = statistics.median(t[0] for t in plain), statistics.median(t[1] for t in plain)
    dc, dw = statistics.median(t[0] for t in dyn), statistics.median(t[1] for t in dyn)
    ll_p, ll_d = plain[0][2].log_likelihood, dyn[0][2].log_likelihood
    return (f"{label:<10} {n:>7,} {pw:>9.3f} {pc:>9.3f} {dw:>9.3f} {dc:>9.3f} {dc / pc:>7.1f} {peak:>9.1f} "
            f"{ll_p:>13.2f} {ll_d:>13.2f}  {note}")


def main() -> int:
    import pandas as pd

    rounds = 1 if ARGS.smoke else ARGS.rounds
    sizes = [1000] if ARGS.smoke else [int(v) for v in ARGS.sizes.split(",")]
    print(f"clvkit {clvkit.__version__}, numpy {np.__version__}, {os.cpu_count()} cores, BLAS threads {ARGS.threads}; "
          f"median of {rounds} interleaved round(s)")
    head = (f"{'case':<10} {'n':>7} {'plain s':>9} {'plain cpu':>9} {'dyn s':>9} {'dyn cpu':>9} {'ratio':>7} "
            f"{'peak MiB':>9} {'LL plain':>13} {'LL dynamic':>13}  notes")
    rows = []
    shared = Path(ARGS.shared)
    if (shared / "apparel_trans.csv").exists():
        trans = pd.read_csv(shared / "apparel_trans.csv", parse_dates=["Date"])
        frame = pd.read_csv(shared / "apparel_dyn_cov.csv.gz", parse_dates=["Cov.Date"])

        def end_to_end() -> Any:
            summary = clvkit.summarize(trans, customer_id="Id", datetime="Date", time_unit="D",
                                       calibration_end="2006-12-31").with_time_unit("W")
            cov = clvkit.Covariates.dynamic(frame, customer_id="Id", period="Cov.Date",
                                            columns=["High.Season", "Gender", "Channel"])
            return ParetoNBD().fit(summary, purchase_covariates=cov, dropout_covariates=cov)

        summary = clvkit.summarize(trans, customer_id="Id", datetime="Date", time_unit="D",
                                   calibration_end="2006-12-31").with_time_unit("W")
        plain, dyn = [], []
        for _ in range(rounds):
            plain.append(_timed(lambda: ParetoNBD().fit(summary)))
            dyn.append(_timed(end_to_end))
        model = dyn[0][2]
        assert model.fit_info is not None
        note = (f"end to end; converged={model.fit_info.converged}; CLVTools 0.12.1: 701 s, LL -5758.21 "
                f"(-5752.94 in a later run)")
        rows.append(_row("apparel", len(summary), plain, dyn, _peak(end_to_end), note))
    else:
        print(f"(apparel case skipped: {shared / 'apparel_trans.csv'} not found)")
    for n in sizes:
        log, frame = simulate(n, ARGS.seed)
        end = np.datetime64("2020-01-05T00:00:00") + np.timedelta64(WEEKS * 7 * 86400 - 1, "s")
        summary = clvkit.summarize(log, customer_id="id", datetime="date", time_unit="h",
                                   observation_end=end).with_time_unit("W")
        cov = clvkit.Covariates.dynamic(frame, customer_id="id", period="week", columns=["season", "exposure"])

        def fit_dyn(summary: Any = summary, cov: Any = cov) -> Any:
            return ParetoNBD().fit(summary, purchase_covariates=cov, dropout_covariates=cov)

        plain, dyn = [], []
        for _ in range(rounds):
            plain.append(_timed(lambda summary=summary: ParetoNBD().fit(summary)))
            dyn.append(_timed(fit_dyn))
        model = dyn[0][2]
        se = model.standard_errors or {}
        est = ", ".join(f"{p}.{k} {v:+.3f} ({se.get(f'{p}.{k}', float('nan')):.3f})"
                        for p, c in model.coefficients.items() for k, v in c.items())
        truth = f"true p {GAMMA_P.tolist()}, d {GAMMA_D.tolist()}"
        rows.append(_row("simulated", n, plain, dyn, _peak(fit_dyn), f"{est}; {truth}"))
    print(head)
    for row in rows:
        print(row)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
