"""clvkit against lifetimes 0.11.3 on the same simulated customers: MBG/NBD and BG/BB fits and scoring.

Cases (every one timed in fresh worker processes, best of ``--repeat`` runs; peak traced memory in another
worker; see ``_common.py``):

- ``fit_mbgnbd``: MBG/NBD fit, time in days (lifetimes ``ModifiedBetaGeoFitter.fit``), at each ``--sizes``;
- ``fit_bgbb``: BG/BB fit on raw per-customer rows (lifetimes ``BetaGeoBetaBinomFitter.fit`` without
  weights, as a user with one row per customer calls it), at each ``--sizes``;
- ``score_mbgnbd``: expected purchases in the next 30 days and P(alive) of ``--score-size`` customers;
- ``score_bgbb``: expected transactions in the next 5 opportunities and P(alive at n+1), ``--score-size``;
- ``ll_mbgnbd`` / ``ll_bgbb`` (clvkit only): one vectorised log-likelihood(+gradient) evaluation on the raw,
  uncompressed rows. "LL passes" = clvkit fit time / this time: how many full passes over the data the
  fit costs (compression and few optimiser steps make it small).

Data (same seed for every worker): MBG/NBD customers drawn from the model with the CDNOW estimates reported
by BTYDplus (r = 0.525, alpha = 6.183 weeks = 43.28 days, a = 0.891, b = 1.614), ages uniform on 1..365
days, purchases on whole days (recency and T integers, as every summarised transaction log); BG/BB
customers drawn with the donations estimates of Fader, Hardie & Shang (2010) (1.204, 0.750, 0.657, 2.783),
cohorts observed for 1..10 opportunities. Scoring uses the generating parameters on both libraries.

The BLAS thread count is fixed to 1 before numpy is imported (``OPENBLAS_NUM_THREADS`` etc., inherited by
the workers): on a small shared machine multithreaded OpenBLAS turns a 100,000-element dot product into
milliseconds of thread wake-ups, which would dominate both libraries' timings.

Run ``python benchmarks/bench_mbgnbd_bgbb.py`` (100k fits, 1M scoring) or ``--smoke`` (2,000 customers).
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import sys  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import numpy.typing as npt  # noqa: E402
from _common import (  # noqa: E402
    Measurement,
    bench_argparser,
    machine_info,
    measure,
    print_table,
    report_verdicts,
    worker_or_none,
)

SCRIPT = Path(__file__).resolve()
SEED = 20240601
MBG_DAYS: dict[str, float] = {"r": 0.525, "alpha": 6.183 * 7.0, "a": 0.891, "b": 1.614}
BGBB: dict[str, float] = {"alpha": 1.204, "beta": 0.750, "gamma": 0.657, "delta": 2.783}
FIT_TARGET = 20.0  # lifetimes fit time / clvkit fit time
PASSES_TARGET = 30.0  # clvkit fit time / one LL evaluation on the raw rows
PARAM_RTOL = 1e-3
SCORE_RTOL = 1e-6
FloatArray = npt.NDArray[np.float64]


# ------------------------------------------------------------------------------------------ generators
def simulate_mbgnbd(n: int, r: float, alpha: float, a: float, b: float, *, seed: int) -> dict[str, FloatArray]:
    """``n`` MBG/NBD customers at daily resolution (integer ``recency`` and ``T`` in days).

    ``lambda ~ Gamma(r, rate alpha)``, ``p ~ Beta(a, b)``; the customer may drop out right after the first
    purchase and after every repeat purchase, so the repeat purchases made before dropping out are
    ``J ~ Geometric(p) - 1`` on ``{0, 1, ...}`` and ``frequency = min(N, J)`` with ``N ~ Poisson(lambda T)``.
    Given ``N`` arrivals on ``(0, T]`` the ``x``-th is at ``T * Beta(x, N - x + 1)``, rounded up to a day.
    """
    rng = np.random.default_rng(seed)
    T = rng.integers(1, 366, size=n).astype(np.float64)
    lam = rng.gamma(r, 1.0 / alpha, size=n)
    p = rng.beta(a, b, size=n)
    N = rng.poisson(lam * T)
    x = np.minimum(N, rng.geometric(p) - 1)
    pos = x > 0
    recency = np.zeros(n)
    xs, Ns = x[pos].astype(np.float64), N[pos].astype(np.float64)
    recency[pos] = np.clip(np.ceil(T[pos] * rng.beta(xs, Ns - xs + 1.0)), 1.0, T[pos])
    return {"frequency": x.astype(np.float64), "recency": recency, "T": T}


def simulate_bgbb(n: int, alpha: float, beta: float, gamma: float, delta: float, *, seed: int,
                  max_opportunities: int = 10) -> dict[str, FloatArray]:
    """``n`` BG/BB customers observed for 1..``max_opportunities`` opportunities (x, t_x, n as floats)."""
    rng = np.random.default_rng(seed)
    periods = rng.integers(1, max_opportunities + 1, size=n)
    p, theta = rng.beta(alpha, beta, n), rng.beta(gamma, delta, n)
    alive = np.minimum(rng.geometric(theta) - 1, periods)  # opportunities 1..alive are lived
    opp = np.arange(1, max_opportunities + 1)
    buys = (rng.random((n, max_opportunities)) < p[:, None]) & (opp[None, :] <= alive[:, None])
    x = buys.sum(axis=1)
    tx = np.where(x > 0, max_opportunities - np.argmax(buys[:, ::-1], axis=1), 0)
    return {"frequency": x.astype(np.float64), "recency": tx.astype(np.float64), "T": periods.astype(np.float64)}


def _mbg_data(size: int) -> dict[str, FloatArray]:
    return simulate_mbgnbd(size, **MBG_DAYS, seed=SEED)


def _bgbb_data(size: int) -> dict[str, FloatArray]:
    return simulate_bgbb(size, **BGBB, seed=SEED + 1)


def _summary(d: dict[str, FloatArray], unit: str) -> Any:
    from clvkit import CustomerSummary

    return CustomerSummary(d["frequency"], d["recency"], d["T"], time_unit=unit)


# ------------------------------------------------------------------------------------------ cases
def setup_fit_mbgnbd(library: str, size: int) -> Any:
    d = _mbg_data(size)
    if library == "clvkit":
        from clvkit.valuation.modified_beta_geo import ModifiedBetaGeo

        summary = _summary(d, "D")
        return lambda: ModifiedBetaGeo().fit(summary).params.model_dump()
    from lifetimes import ModifiedBetaGeoFitter

    f, r, T = d["frequency"], d["recency"], d["T"]
    return lambda: ModifiedBetaGeoFitter().fit(f, r, T).params_.to_dict()


def setup_fit_bgbb(library: str, size: int) -> Any:
    d = _bgbb_data(size)
    if library == "clvkit":
        from clvkit.valuation.beta_geo_beta_binom import BetaGeoBetaBinom

        summary = _summary(d, "Y")
        return lambda: BetaGeoBetaBinom().fit(summary).params.model_dump()
    from lifetimes import BetaGeoBetaBinomFitter

    f, r, n = d["frequency"], d["recency"], d["T"]
    return lambda: BetaGeoBetaBinomFitter().fit(f, r, n).params_.to_dict()


def setup_score_mbgnbd(library: str, size: int) -> Any:
    d = _mbg_data(size)
    if library == "clvkit":
        from clvkit.valuation.modified_beta_geo import FittedModifiedBetaGeo, ModifiedBetaGeoParams

        model = FittedModifiedBetaGeo(params=ModifiedBetaGeoParams(**MBG_DAYS), time_unit="D")
        summary = _summary(d, "D")
        return lambda: np.concatenate([model.expected_purchases(summary, 30.0), model.probability_alive(summary)])
    import pandas as pd
    from lifetimes import ModifiedBetaGeoFitter

    m = ModifiedBetaGeoFitter()
    m.params_ = pd.Series(MBG_DAYS)
    f, r, T = d["frequency"], d["recency"], d["T"]
    return lambda: np.concatenate([np.asarray(m.conditional_expected_number_of_purchases_up_to_time(30.0, f, r, T)),
                                   np.asarray(m.conditional_probability_alive(f, r, T))])


def setup_score_bgbb(library: str, size: int) -> Any:
    d = _bgbb_data(size)
    if library == "clvkit":
        from clvkit.valuation.beta_geo_beta_binom import BetaGeoBetaBinomParams, FittedBetaGeoBetaBinom

        model = FittedBetaGeoBetaBinom(params=BetaGeoBetaBinomParams(**BGBB), time_unit="Y")
        summary = _summary(d, "Y")
        return lambda: np.concatenate([model.expected_purchases(summary, 5), model.probability_alive(summary)])
    import pandas as pd
    from lifetimes import BetaGeoBetaBinomFitter

    m = BetaGeoBetaBinomFitter()
    m.params_ = pd.Series(BGBB)
    f, r, n = (pd.Series(d[k]) for k in ("frequency", "recency", "T"))
    return lambda: np.concatenate([np.asarray(m.conditional_expected_number_of_purchases_up_to_time(5, f, r, n)),
                                   np.asarray(m.conditional_probability_alive(1, f, r, n))])


def setup_ll_mbgnbd(library: str, size: int) -> Any:
    from clvkit.valuation.models import _mbgnbd

    d = _mbg_data(size)
    params = np.array(list(MBG_DAYS.values()))
    return lambda: {"ll": float(_mbgnbd.loglik(params, d["frequency"], d["recency"], d["T"])[0].sum())}


def setup_ll_bgbb(library: str, size: int) -> Any:
    from clvkit.valuation.models import _bgbb

    d = _bgbb_data(size)
    params = np.array(list(BGBB.values()))
    return lambda: {"ll": float(_bgbb.loglik(params, d["frequency"], d["recency"], d["T"])[0].sum())}


def setup_distinct_rows(library: str, size: int) -> Any:
    """Not timed for its own sake: reports how many distinct rows each data set compresses to."""
    mbg, bgbb = _summary(_mbg_data(size), "D"), _summary(_bgbb_data(size), "Y")
    return lambda: {"mbgnbd": float(len(mbg.compress().summary)), "bgbb": float(len(bgbb.compress().summary))}


CASES = {
    "fit_mbgnbd": setup_fit_mbgnbd,
    "fit_bgbb": setup_fit_bgbb,
    "score_mbgnbd": setup_score_mbgnbd,
    "score_bgbb": setup_score_bgbb,
    "ll_mbgnbd": setup_ll_mbgnbd,
    "ll_bgbb": setup_ll_bgbb,
    "distinct_rows": setup_distinct_rows,
}


# ------------------------------------------------------------------------------------------ checks
def _param_agreement(ours: Measurement, theirs: Measurement) -> tuple[bool | None, str]:
    if ours.values is None or theirs.values is None or ours.size != theirs.size:
        return None, "not compared (a run failed or the sizes differ)"
    rel = {k: abs(ours.values[k] - theirs.values[k]) / abs(theirs.values[k]) for k in ours.values}
    worst = max(rel, key=rel.__getitem__)
    ok = rel[worst] <= PARAM_RTOL
    shown = ", ".join(f"{k}={ours.values[k]:.6g}/{theirs.values[k]:.6g}" for k in ours.values)
    return ok, (f"max relative difference {rel[worst]:.2e} ({worst}) {'<=' if ok else '>'} {PARAM_RTOL:g}; "
                f"clvkit/lifetimes: {shown}")


def _array_agreement(ours: Measurement, theirs: Measurement) -> tuple[bool | None, str]:
    if ours.array is None or theirs.array is None or ours.array.shape != theirs.array.shape:
        return None, "not compared (a run failed or the sizes differ)"
    a, b = ours.array, theirs.array
    rel = float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300))) if a.size else 0.0
    ok = rel <= SCORE_RTOL
    return ok, f"max relative difference over customers {rel:.2e} {'<=' if ok else '>'} {SCORE_RTOL:g}"


# ------------------------------------------------------------------------------------------ main
def _ratio(num: float | None, den: float | None) -> float:
    return num / den if num and den else float("nan")


def main(argv: list[str] | None = None) -> int:
    p = bench_argparser(__doc__.splitlines()[0], default_sizes=[100_000])
    p.add_argument("--score-size", type=int, default=1_000_000, help="customers for the scoring cases (1M)")
    args = p.parse_args(argv)
    if args.smoke:
        args.sizes, args.score_size, args.repeat, args.no_memory, args.timeout = [2_000], 2_000, 1, True, 120.0

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    print("# clvkit vs lifetimes: MBG/NBD (days) and BG/BB (opportunities)\n")
    print(machine_info())
    print(f"Times: best of up to {args.repeat} runs (wall: perf_counter; CPU: process_time), each (library, case, "
          "size) in a fresh process, BLAS single-threaded; ratio = lifetimes / clvkit. Memory: peak bytes traced "
          "by tracemalloc during one run, in another fresh process.")
    sys.stdout.flush()
    common = {"repeat": args.repeat, "budget": args.budget, "timeout": args.timeout, "memory": not args.no_memory,
              "log": log}
    failures: list[str] = []
    verdicts: list[str] = []

    def pair(case: str, size: int) -> tuple[Measurement, Measurement]:
        ours = measure(SCRIPT, case, "clvkit", size, **common)
        theirs = measure(SCRIPT, case, "lifetimes", size, fallback_sizes=[max(size // 10, 1000)], **common)
        if theirs.size != size and theirs.seconds is not None:
            log(f"  lifetimes exceeded {args.timeout:.0f} s at n={size:,}; timing clvkit at n={theirs.size:,} too")
            return measure(SCRIPT, case, "clvkit", theirs.size, **common), theirs
        return ours, theirs

    for model, case, ll_case, title in (("mbgnbd", "fit_mbgnbd", "ll_mbgnbd", "MBG/NBD fit (time in days)"),
                                        ("bgbb", "fit_bgbb", "ll_bgbb", "BG/BB fit (raw rows, 1..10 opportunities)")):
        rows = [pair(case, n) for n in args.sizes]
        print_table(title, rows)
        for ours, theirs in rows:
            ok, text = _param_agreement(ours, theirs)
            print(f"  params at n={ours.size:,}: {text}")
            if ok is False:
                failures.append(f"{case} n={ours.size:,}: parameters differ from lifetimes ({text})")
            ll = measure(SCRIPT, ll_case, "clvkit", ours.size, repeat=max(args.repeat, 5), budget=args.budget,
                         timeout=args.timeout, memory=False, log=log)
            distinct = measure(SCRIPT, "distinct_rows", "clvkit", ours.size, repeat=1, budget=args.budget,
                               timeout=args.timeout, memory=False, log=log)
            n_rows = int(distinct.values[model]) if distinct.values else -1
            if ll.seconds and ours.seconds:
                passes = ours.seconds / ll.seconds
                cpu_passes = _ratio(ours.cpu_seconds, ll.cpu_seconds)
                print(f"  log-likelihood passes at n={ours.size:,}: {passes:.1f} (CPU {cpu_passes:.1f}); one "
                      f"LL+gradient evaluation on the {ours.size:,} raw rows takes {ll.seconds * 1e3:.1f} ms; the "
                      f"data compress to {n_rows:,} distinct rows; target <= {PASSES_TARGET:g} -> "
                      f"{'MET' if passes <= PASSES_TARGET else 'MISSED'}")
            if ours.seconds and theirs.seconds and ours.size == theirs.size:
                ratio = theirs.seconds / ours.seconds
                cpu = _ratio(theirs.cpu_seconds, ours.cpu_seconds)
                verdicts.append(f"{case} at n={ours.size:,}: target {FIT_TARGET:g}x; wall {ratio:.1f}x, CPU "
                                f"{cpu:.1f}x -> {'MET' if min(ratio, cpu) >= FIT_TARGET else 'MISSED'}")

    for case, title in (("score_mbgnbd", "MBG/NBD expected purchases (30 days) + P(alive)"),
                        ("score_bgbb", "BG/BB expected transactions (5 opportunities) + P(alive)")):
        rows = [pair(case, args.score_size)]
        print_table(f"{title}, {args.score_size:,} customers", rows)
        ok, text = _array_agreement(*rows[0])
        print(f"  agreement: {text}")
        if ok is False:
            failures.append(f"{case}: clvkit and lifetimes disagree ({text})")
        ours, theirs = rows[0]
        if ours.seconds and theirs.seconds and ours.size == theirs.size:
            verdicts.append(f"{case} at n={ours.size:,}: wall {theirs.seconds / ours.seconds:.1f}x")

    return report_verdicts("Targets", verdicts, failures)


if __name__ == "__main__":
    with warnings.catch_warnings():
        # lifetimes 0.11.3 calls deprecated pandas/numpy APIs; its warnings are noise here.
        warnings.simplefilter("ignore")
        code = worker_or_none(CASES)
        raise SystemExit(main() if code is None else code)
