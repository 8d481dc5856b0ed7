"""The cost of regularity: fitting the CNBD-k family against BG/NBD on the same customers.

Cases (each timed in fresh worker processes, best of ``--repeat`` runs; peak traced memory in another worker;
see ``_common.py``):

- ``fit`` / ``bgnbd``: :class:`clvkit.valuation.BetaGeo` fit;
- ``fit`` / ``mbgcnbd``: :class:`clvkit.valuation.ModifiedBetaGeoCNBD` fit with k estimated over 1..12 (one
  compression, the profile over k warm-started; BTYDplus's stopping rule);
- ``fit`` / ``bgcnbd``: :class:`clvkit.valuation.BetaGeoCNBD`, the same;
- ``fit`` / ``mbgcnbd_k2``: MBG/CNBD-k at a fixed k = 2 (the cost of one k).

Data (same seed for every worker, untimed): customers drawn from an MBG/CNBD-2 with grocery-like weekly parameters
(r = 1.33, alpha = 2.81, a = 0.42, b = 0.79; what clvkit estimates on BTYDplus's grocery data), acquired
uniformly over a year and observed to its end, their purchase times turned into an event log of dates and summarised
by :func:`clvkit.summarize` in days (same-day purchases once) and then weeks, as BTYDplus's ``elog2cbs`` does. So
both models see realistic whole-day data with the same compression, and the CNBD-k fits read the log inter-purchase
times from the summary's purchase times.

Target (issue 14): each CNBD-k fit within 5x of the BG/NBD fit on the same data.

The BLAS thread count is fixed to 1 before numpy is imported (see ``bench_mbgnbd_bgbb.py``).

Run ``python benchmarks/bench_cnbd.py`` (100,000 customers) or ``--smoke`` (2,000).
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import sys  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
from _common import (  # noqa: E402
    Measurement,
    bench_argparser,
    machine_info,
    measure,
    report_verdicts,
    worker_or_none,
)

SCRIPT = Path(__file__).resolve()
SEED = 20240601
TRUTH = {"k": 2, "r": 1.33, "alpha": 2.81, "a": 0.42, "b": 0.79}
TARGET = 5.0  # CNBD-k fit time / BG/NBD fit time
LIBRARIES = ("bgnbd", "mbgcnbd", "bgcnbd", "mbgcnbd_k2")
LABELS = {"bgnbd": "BG/NBD", "mbgcnbd": "MBG/CNBD-k", "bgcnbd": "BG/CNBD-k", "mbgcnbd_k2": "MBG/CNBD-2"}


def _summary(size: int) -> Any:
    """``size`` simulated customers as a weekly summary of a daily event log (see the module docstring)."""
    from clvkit import summarize
    from clvkit.valuation import FittedModifiedBetaGeoCNBD, ModifiedBetaGeoCNBDParams

    rng = np.random.default_rng(SEED)
    first_day = rng.integers(0, 365, size=size)
    ages_weeks = (365 - first_day) / 7.0
    model = FittedModifiedBetaGeoCNBD(params=ModifiedBetaGeoCNBDParams(**TRUTH), time_unit="W")
    sim = model.simulate(ages_weeks, seed=SEED)
    pt = sim.purchase_times
    assert pt is not None
    counts = np.diff(pt.offsets)
    owner = np.repeat(np.arange(size), counts)
    repeat_day = first_day[owner] + np.ceil(pt.times * 7.0 - 1e-9).astype(np.int64)
    cust = np.concatenate([np.arange(size), owner])
    day = np.concatenate([first_day, np.minimum(repeat_day, 364)])
    when = np.datetime64("2006-01-01") + day.astype("timedelta64[D]")
    days = summarize({"cust": cust, "when": when.astype("datetime64[ns]")}, customer_id="cust", datetime="when",
                     time_unit="D", observation_end="2006-12-31")
    return days.with_time_unit("W")


def setup_fit(library: str, size: int) -> Any:
    from clvkit.valuation import BetaGeo, BetaGeoCNBD, ModifiedBetaGeoCNBD

    summary = _summary(size)
    engine: Any = {"bgnbd": BetaGeo(), "mbgcnbd": ModifiedBetaGeoCNBD(), "bgcnbd": BetaGeoCNBD(),
                   "mbgcnbd_k2": ModifiedBetaGeoCNBD(k=2)}[library]

    def run() -> dict[str, float]:
        fitted = engine.fit(summary)
        return {k: float(v) for k, v in fitted.params.model_dump().items()}

    return run


CASES = {"fit": setup_fit}


def _fmt(v: float | None, spec: str) -> str:
    return "n/a" if v is None else format(v, spec)


def _table(rows: list[dict[str, Measurement]]) -> str:
    header = ["size", "model", "BG/NBD s", "model s", "ratio", "BG/NBD CPU s", "model CPU s", "CPU ratio",
              "BG/NBD MiB", "model MiB", "k", "notes"]
    lines = [header]
    for row in rows:
        base = row["bgnbd"]
        for lib in LIBRARIES[1:]:
            m = row[lib]
            ratio = m.seconds / base.seconds if m.seconds and base.seconds else None
            cpu = m.cpu_seconds / base.cpu_seconds if m.cpu_seconds and base.cpu_seconds else None
            k = "n/a" if m.values is None else str(int(m.values["k"]))
            lines.append([f"{m.size:,}", LABELS[lib], _fmt(base.seconds, ".3f"), _fmt(m.seconds, ".3f"),
                          _fmt(ratio, ".2f") + "x" * (ratio is not None), _fmt(base.cpu_seconds, ".3f"),
                          _fmt(m.cpu_seconds, ".3f"), _fmt(cpu, ".2f") + "x" * (cpu is not None),
                          _fmt(base.peak_mib, ".1f"), _fmt(m.peak_mib, ".1f"), k, "; ".join(
                              x for x in (base.note, m.note) if x)])
    widths = [max(len(r[i]) for r in lines) for i in range(len(header))]
    out = ["  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in lines]
    out.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(out)


def main() -> int:
    parser = bench_argparser(__doc__.splitlines()[0], [100_000])
    args = parser.parse_args()
    sizes = [2_000] if args.smoke else args.sizes
    repeat = 1 if args.smoke else args.repeat
    memory = not (args.smoke or args.no_memory)
    print(f"# CNBD-k family vs BG/NBD fit\n\n{machine_info()}")

    def log(msg: str) -> None:
        print(msg, file=sys.stderr)

    rows = []
    for size in sizes:
        rows.append({lib: measure(SCRIPT, "fit", lib, size, repeat=repeat, budget=args.budget, timeout=args.timeout,
                                  memory=memory, log=log) for lib in LIBRARIES})
    print("\n## fit time (wall and CPU: best of runs; peak traced MiB)\n")
    print(_table(rows))
    verdicts, failures = [], []
    for row in rows:
        base = row["bgnbd"]
        for lib in ("mbgcnbd", "bgcnbd"):
            m = row[lib]
            if m.cpu_seconds and base.cpu_seconds:
                ratio = m.cpu_seconds / base.cpu_seconds
                ok = ratio <= TARGET
                verdicts.append(f"n={m.size:,} {LABELS[lib]} / BG/NBD CPU time {ratio:.2f}x "
                                f"({'within' if ok else 'OVER'} the {TARGET:g}x target)")
                if not ok:
                    failures.append(verdicts[-1])
            if m.values is not None and int(m.values["k"]) != TRUTH["k"]:
                failures.append(f"n={m.size:,} {LABELS[lib]}: estimated k = {int(m.values['k'])}, simulated "
                                f"{TRUTH['k']}")
    return report_verdicts("targets", verdicts, failures)


if __name__ == "__main__":
    code = worker_or_none(CASES)
    raise SystemExit(main() if code is None else code)
