"""clvkit against lifetimes 0.11.3 on the same simulated customers: BG/NBD, Gamma-Gamma and CLV.

Cases (every one timed in fresh worker processes, best of ``--repeat`` runs; peak traced memory in another
worker):

- ``fit_bgnbd``: BG/NBD fit with time in days (lifetimes ``BetaGeoFitter.fit``), at each ``--sizes``;
- ``fit_gamma_gamma``: Gamma-Gamma fit (lifetimes ``GammaGammaFitter.fit`` on the repeat customers, which is
  what it requires; clvkit selects them itself), at each ``--sizes``;
- ``expected_purchases``: expected purchases in the next 30 days, ``--score-size`` customers;
- ``probability_alive``: P(alive), ``--score-size`` customers;
- ``clv``: 12-month CLV at 1% a month: clvkit ``clv(bg, gg, summary, horizon=12, discount_rate=0.01,
  period=30)`` against lifetimes ``GammaGammaFitter.customer_lifetime_value(bgf, ..., time=12,
  discount_rate=0.01, freq="D")``; both use a 30-day month, so they must agree to 1e-6 relative.

Scoring uses the generating parameters (set directly on both libraries' models) so it does not depend on
either fit. Data: :func:`_common.simulate_bgnbd` with the CDNOW estimates (alpha in days), ages uniform on
1..365 days, Gamma-Gamma spend with the CDNOW estimates. clvkit's ``CustomerSummary`` is built (and
validated) outside the timed region, as a user builds it once per data set; its cost is reported apart.

Run ``python benchmarks/bench_bgnbd.py`` (full sizes; lifetimes at 1M takes minutes) or ``--smoke``.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from _common import (
    CDNOW_BGNBD_DAYS,
    CDNOW_GAMMA_GAMMA,
    Measurement,
    bench_argparser,
    machine_info,
    measure,
    print_table,
    report_verdicts,
    simulate_bgnbd,
    simulate_gamma_gamma_spend,
    worker_or_none,
)

SCRIPT = Path(__file__).resolve()
SEED = 20240601
#: Speed-up targets (lifetimes time / clvkit time) at 1M customers.
TARGETS = {"fit_bgnbd": 20.0, "fit_gamma_gamma": 10.0, "clv": 20.0}
PARAM_RTOL = 1e-3
CLV_RTOL = 1e-6


def _data(size: int) -> dict[str, Any]:
    d: dict[str, Any] = simulate_bgnbd(size, **CDNOW_BGNBD_DAYS, seed=SEED)
    d["monetary_value"] = simulate_gamma_gamma_spend(d["frequency"], **CDNOW_GAMMA_GAMMA, seed=SEED + 1)
    return d


def _summary(d: dict[str, Any]) -> Any:
    from clvkit import CustomerSummary

    return CustomerSummary(d["frequency"], d["recency"], d["T"], monetary_value=d["monetary_value"], time_unit="D")


def _lifetimes_models() -> tuple[Any, Any]:
    import pandas as pd
    from lifetimes import BetaGeoFitter, GammaGammaFitter

    bgf = BetaGeoFitter()
    bgf.params_ = pd.Series(CDNOW_BGNBD_DAYS)
    bgf.predict = bgf.conditional_expected_number_of_purchases_up_to_time  # as fit() sets it
    ggf = GammaGammaFitter()
    ggf.params_ = pd.Series(CDNOW_GAMMA_GAMMA)
    return bgf, ggf


def _clvkit_models() -> tuple[Any, Any]:
    from clvkit.valuation import BetaGeoParams, FittedBetaGeo, FittedGammaGamma, GammaGammaParams

    return (FittedBetaGeo(params=BetaGeoParams(**CDNOW_BGNBD_DAYS), time_unit="D"),
            FittedGammaGamma(params=GammaGammaParams(**CDNOW_GAMMA_GAMMA), time_unit="D"))


# ------------------------------------------------------------------------------------------ cases
def setup_build_summary(library: str, size: int) -> Any:
    d = _data(size)
    return lambda: (_summary(d), {})[1]


def setup_fit_bgnbd(library: str, size: int) -> Any:
    d = _data(size)
    if library == "clvkit":
        from clvkit.valuation import BetaGeo

        # A new summary object for every timed fit, built before the timer: a summary caches its distinct rows (the
        # fit's compression), so refitting one object would time the fit without its de-duplication.
        summaries = iter([_summary(d) for _ in range(6)])
        return lambda: BetaGeo().fit(next(summaries)).params.model_dump()
    from lifetimes import BetaGeoFitter

    f, r, T = d["frequency"], d["recency"], d["T"]
    return lambda: BetaGeoFitter().fit(f, r, T).params_.to_dict()


def setup_fit_gamma_gamma(library: str, size: int) -> Any:
    d = _data(size)
    if library == "clvkit":
        from clvkit.valuation import GammaGamma

        summary = _summary(d)
        return lambda: GammaGamma().fit(summary).params.model_dump()
    from lifetimes import GammaGammaFitter

    pos = d["frequency"] > 0
    f, m = d["frequency"][pos], d["monetary_value"][pos]
    return lambda: GammaGammaFitter().fit(f, m).params_.to_dict()


def setup_expected_purchases(library: str, size: int) -> Any:
    d = _data(size)
    if library == "clvkit":
        bg, _ = _clvkit_models()
        summary = _summary(d)
        return lambda: bg.expected_purchases(summary, 30.0)
    bgf, _ = _lifetimes_models()
    f, r, T = d["frequency"], d["recency"], d["T"]
    return lambda: np.asarray(bgf.conditional_expected_number_of_purchases_up_to_time(30.0, f, r, T))


def setup_probability_alive(library: str, size: int) -> Any:
    d = _data(size)
    if library == "clvkit":
        bg, _ = _clvkit_models()
        summary = _summary(d)
        return lambda: bg.probability_alive(summary)
    bgf, _ = _lifetimes_models()
    f, r, T = d["frequency"], d["recency"], d["T"]
    return lambda: np.asarray(bgf.conditional_probability_alive(f, r, T))


def setup_clv(library: str, size: int) -> Any:
    d = _data(size)
    if library == "clvkit":
        from clvkit.valuation import clv

        bg, gg = _clvkit_models()
        summary = _summary(d)
        return lambda: clv(bg, gg, summary, horizon=12, discount_rate=0.01, period=30).clv
    import pandas as pd

    bgf, ggf = _lifetimes_models()
    f, r, T, m = (pd.Series(d[k]) for k in ("frequency", "recency", "T", "monetary_value"))
    return lambda: ggf.customer_lifetime_value(bgf, f, r, T, m, time=12, discount_rate=0.01, freq="D").to_numpy()


CASES = {
    "build_summary": setup_build_summary,
    "fit_bgnbd": setup_fit_bgnbd,
    "fit_gamma_gamma": setup_fit_gamma_gamma,
    "expected_purchases": setup_expected_purchases,
    "probability_alive": setup_probability_alive,
    "clv": setup_clv,
}


# ------------------------------------------------------------------------------------------ checks
def _max_rel(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    denom = np.maximum(np.abs(b), np.finfo(float).tiny)
    return float(np.max(np.abs(a - b) / denom)) if a.size else 0.0


def _param_agreement(ours: Measurement, theirs: Measurement) -> tuple[bool | None, str]:
    if ours.values is None or theirs.values is None or ours.size != theirs.size:
        return None, "not compared (a run failed or the sizes differ)"
    rel = {k: abs(ours.values[k] - theirs.values[k]) / abs(theirs.values[k]) for k in ours.values}
    worst = max(rel, key=rel.__getitem__)
    ok = rel[worst] <= PARAM_RTOL
    shown = ", ".join(f"{k}={ours.values[k]:.6g}/{theirs.values[k]:.6g}" for k in ours.values)
    return ok, f"max relative difference {rel[worst]:.2e} ({worst}) {'<=' if ok else '>'} {PARAM_RTOL:g}; " \
               f"clvkit/lifetimes: {shown}"


def _array_agreement(ours: Measurement, theirs: Measurement, rtol: float) -> tuple[bool | None, str]:
    if ours.array is None or theirs.array is None or ours.array.shape != theirs.array.shape:
        return None, "not compared (a run failed or the sizes differ)"
    rel = _max_rel(ours.array, theirs.array)
    ok = rel <= rtol
    return ok, f"max relative difference over customers {rel:.2e} {'<=' if ok else '>'} {rtol:g}"


# ------------------------------------------------------------------------------------------ main
def main(argv: list[str] | None = None) -> int:
    p = bench_argparser(__doc__.splitlines()[0], default_sizes=[100_000, 1_000_000])
    p.add_argument("--score-size", type=int, default=1_000_000, help="customers for the scoring cases (1M)")
    p.add_argument("--cases", nargs="+", choices=[c for c in CASES if c != "build_summary"],
                   default=[c for c in CASES if c != "build_summary"], help="run only these cases")
    args = p.parse_args(argv)
    if args.smoke:
        args.sizes, args.score_size, args.repeat, args.no_memory, args.timeout = [2_000], 2_000, 1, True, 120.0

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    print("# clvkit vs lifetimes: BG/NBD, Gamma-Gamma, CLV (time in days)\n")
    print(machine_info())
    print(f"Times: best of up to {args.repeat} runs (wall: perf_counter; CPU: process_time), each (library, case, "
          "size) in a fresh process; ratio = lifetimes / clvkit. Memory: peak bytes traced by tracemalloc during "
          "one run, in another fresh process.")
    print("On a shared machine wall times vary with the other jobs (see the load average above); CPU times much "
          "less so.")
    sys.stdout.flush()

    failures: list[str] = []
    verdicts: list[str] = []

    def pair(case: str, size: int) -> tuple[Measurement, Measurement]:
        common = {"repeat": args.repeat, "budget": args.budget, "timeout": args.timeout,
                  "memory": not args.no_memory, "log": log}
        ours = measure(SCRIPT, case, "clvkit", size, **common)
        theirs = measure(SCRIPT, case, "lifetimes", size, fallback_sizes=[max(size // 10, 1000)], **common)
        if theirs.size != size and theirs.seconds is not None:
            # lifetimes was too slow at this size: time clvkit at the size lifetimes managed, for a ratio.
            log(f"  lifetimes exceeded {args.timeout:.0f} s at n={size:,}; timing clvkit at n={theirs.size:,} too")
            small = measure(SCRIPT, case, "clvkit", theirs.size, **common)
            return small, theirs
        return ours, theirs

    def target(case: str, rows: list[tuple[Measurement, Measurement]], requested: int) -> None:
        goal = TARGETS.get(case)
        if goal is None or not rows:
            return
        ours, theirs = rows[-1]
        if requested < 1_000_000:
            verdicts.append(f"{case}: not evaluated (largest size {requested:,} < 1M)")
        elif ours.seconds and theirs.seconds and ours.size == theirs.size:
            parts = []
            for clock, a, b in (("wall", ours.seconds, theirs.seconds), ("CPU", ours.cpu_seconds, theirs.cpu_seconds)):
                if a and b:
                    parts.append(f"{clock} {b / a:.1f}x -> {'MET' if b / a >= goal else 'MISSED'}")
            size_note = "" if ours.size >= 1_000_000 else f" (measured at n={ours.size:,}, target is for 1M)"
            verdicts.append(f"{case}: target {goal:g}x; " + "; ".join(parts) + size_note)
        else:
            verdicts.append(f"{case}: no ratio (a run failed)")

    for case, title in (("fit_bgnbd", "BG/NBD fit (time in days)"), ("fit_gamma_gamma", "Gamma-Gamma fit")):
        if case not in args.cases:
            continue
        rows = [pair(case, n) for n in args.sizes]
        print_table(title, rows)
        for ours, theirs in rows:
            ok, text = _param_agreement(ours, theirs)
            print(f"  params at n={ours.size:,}: {text}")
            if ok is False:
                failures.append(f"{case} n={ours.size:,}: parameters differ from lifetimes ({text})")
        target(case, rows, max(args.sizes))

    scoring = [c for c in ("expected_purchases", "probability_alive", "clv") if c in args.cases]
    titles = {"expected_purchases": "Expected purchases in the next 30 days", "probability_alive": "P(alive)",
              "clv": "12-month CLV at 1%/month (30-day month)"}
    for case in scoring:
        rows = [pair(case, args.score_size)]
        print_table(f"{titles[case]}, {args.score_size:,} customers", rows)
        ok, text = _array_agreement(*rows[0], rtol=CLV_RTOL)
        print(f"  agreement: {text}")
        if case == "clv" and ok is not True:
            failures.append(f"clv: clvkit and lifetimes disagree ({text})")
        target(case, rows, args.score_size)

    build = measure(SCRIPT, "build_summary", "clvkit", max([*args.sizes, args.score_size]), repeat=args.repeat,
                    budget=args.budget, timeout=args.timeout, memory=False, log=log)
    if build.seconds is not None:
        print(f"\nBuilding (and validating) a clvkit CustomerSummary of {build.size:,} customers, not included "
              f"above: {build.seconds:.3f} s")

    return report_verdicts("Targets (speed-up at 1M customers)", verdicts, failures)


if __name__ == "__main__":
    with warnings.catch_warnings():
        # lifetimes 0.11.3 calls deprecated pandas/numpy APIs; its warnings are noise here.
        warnings.simplefilter("ignore")
        code = worker_or_none(CASES)
        raise SystemExit(main() if code is None else code)
