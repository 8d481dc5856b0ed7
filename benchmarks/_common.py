"""Shared machinery of the benchmark scripts: timing, memory, subprocess workers, tables, data generators.

Every measurement runs in a fresh Python process (a *worker*): the benchmark script re-invokes itself with
``--worker CASE LIBRARY SIZE`` and the worker generates the data (untimed, from a fixed seed, so every
worker sees the same customers), runs the case and prints one JSON line. This gives every library the same
clean interpreter (no warm caches or memory left over from the other library), lets the parent kill a run
that exceeds its time limit, and lets memory be measured with :mod:`tracemalloc` in its own process without
the tracing overhead spoiling the timings.

A benchmark script provides ``CASES``: a mapping from case name to a *setup* function
``setup(library, size) -> run`` where ``run()`` performs the timed work and returns either a mapping of
floats (e.g. fitted parameters) or a numpy array (e.g. per-customer scores); the parent uses those to check
that the libraries agree. Minimal script::

    from _common import worker_or_none
    CASES = {"fit": setup_fit}
    if __name__ == "__main__":
        raise SystemExit(worker_or_none(CASES) or main())
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "CDNOW_BGNBD_DAYS",
    "CDNOW_GAMMA_GAMMA",
    "Measurement",
    "Timing",
    "bench_argparser",
    "best_of",
    "format_table",
    "machine_info",
    "measure",
    "peak_memory_bytes",
    "print_table",
    "simulate_bgnbd",
    "simulate_gamma_gamma_spend",
    "worker_or_none",
]

MIB = 1024.0 * 1024.0

#: BG/NBD estimates of Fader, Hardie & Lee (2005) on the CDNOW sample, with ``alpha`` converted from weeks
#: to days (4.414 weeks = 30.898 days): realistic parameters for customers summarised at daily resolution.
CDNOW_BGNBD_DAYS: dict[str, float] = {"r": 0.243, "alpha": 4.414 * 7.0, "a": 0.793, "b": 2.426}
#: Gamma-Gamma estimates on the CDNOW sample (Fader & Hardie 2013, note 025): ``p, q, v``.
CDNOW_GAMMA_GAMMA: dict[str, float] = {"p": 6.25, "q": 3.74, "v": 15.44}


# ---------------------------------------------------------------------------------------------- timing
@dataclass(frozen=True)
class Timing:
    """Result of :func:`best_of`: the best wall time, every run's wall and CPU time, the last run's value.

    CPU time (:func:`time.process_time`, all threads of the process) is much less sensitive than wall
    time to other jobs on a shared machine; for single-threaded numpy code the two agree on an idle one.
    """

    best: float
    runs: tuple[float, ...]
    result: Any = field(repr=False, default=None)
    cpu_runs: tuple[float, ...] = ()

    @property
    def best_cpu(self) -> float:
        """The smallest CPU time of the runs."""
        return min(self.cpu_runs) if self.cpu_runs else math.nan


def best_of(fn: Callable[[], Any], *, repeat: int = 3, budget: float = 30.0) -> Timing:
    """Time ``fn()`` with :func:`time.perf_counter`; best of up to ``repeat`` runs.

    Stops early once the runs so far took more than ``budget`` seconds in total (a 2-minute fit is timed
    once), but always runs at least once. A garbage collection before each run keeps one run's garbage
    from being collected inside the next.
    """
    times: list[float] = []
    cpu: list[float] = []
    result: Any = None
    for _ in range(max(int(repeat), 1)):
        gc.collect()
        c0 = time.process_time()
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        if sum(times) > budget:
            break
    return Timing(best=min(times), runs=tuple(times), result=result, cpu_runs=tuple(cpu))


def peak_memory_bytes(fn: Callable[[], Any]) -> tuple[int, Any]:
    """Peak bytes allocated while ``fn()`` runs (above what was allocated before), via :mod:`tracemalloc`.

    numpy reports its array buffers to tracemalloc, so this counts arrays as well as Python objects.
    Call it in a fresh process (see :func:`measure`) so that nothing else is traced.
    """
    gc.collect()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base, _ = tracemalloc.get_traced_memory()
        result = fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return max(peak - base, 0), result


# ---------------------------------------------------------------------------------------------- workers
def worker_or_none(cases: Mapping[str, Callable[[str, int], Callable[[], Any]]], argv: Sequence[str] | None = None
                   ) -> int | None:
    """Run as a worker if ``argv`` starts with ``--worker``; return its exit code, else ``None``.

    Worker command line: ``--worker CASE LIBRARY SIZE --mode {time,memory} --repeat K --budget S --out FILE``.
    It writes ``{"seconds": [...], "cpu_seconds": [...], "peak_bytes": int|null}`` plus the run's payload
    to ``FILE``.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] != "--worker":
        return None
    p = argparse.ArgumentParser(prog="worker")
    p.add_argument("case")
    p.add_argument("library")
    p.add_argument("size", type=int)
    p.add_argument("--mode", choices=("time", "memory"), default="time")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--budget", type=float, default=30.0)
    p.add_argument("--out", required=True)
    ns = p.parse_args(args[1:])
    run = cases[ns.case](ns.library, ns.size)
    record: dict[str, Any] = {"seconds": None, "peak_bytes": None}
    if ns.mode == "time":
        timing = best_of(run, repeat=ns.repeat, budget=ns.budget)
        record["seconds"] = list(timing.runs)
        record["cpu_seconds"] = list(timing.cpu_runs)
        result = timing.result
    else:
        record["peak_bytes"], result = peak_memory_bytes(run)
    out = Path(ns.out)
    if isinstance(result, np.ndarray):
        np.save(out.with_suffix(".npy"), result)
        record["payload"] = {"array": str(out.with_suffix(".npy"))}
    elif isinstance(result, Mapping):
        record["payload"] = {"values": {str(k): float(v) for k, v in result.items()}}
    out.write_text(json.dumps(record))
    return 0


@dataclass
class Measurement:
    """One (case, library, size) measured by :func:`measure`.

    ``size`` is the size actually measured (smaller than asked when the asked size timed out; ``note``
    then says so). ``seconds`` is the best wall time, ``cpu_seconds`` the best CPU time, ``None`` when
    the run failed or timed out.
    """

    case: str
    library: str
    size: int
    seconds: float | None = None
    cpu_seconds: float | None = None
    runs: tuple[float, ...] = ()
    peak_mib: float | None = None
    values: dict[str, float] | None = None
    array: npt.NDArray[Any] | None = None
    note: str = ""


def _run_worker(script: Path, case: str, library: str, size: int, mode: str, repeat: int, budget: float,
                timeout: float) -> tuple[dict[str, Any] | None, str]:
    with tempfile.TemporaryDirectory(prefix="clvkit-bench-") as tmp:
        out = Path(tmp) / "result.json"
        cmd = [sys.executable, str(script), "--worker", case, library, str(size), "--mode", mode,
               "--repeat", str(repeat), "--budget", str(budget), "--out", str(out)]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            return None, f"timed out after {timeout:.0f} s"
        if proc.returncode != 0 or not out.exists():
            tail = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
            return None, f"failed: {tail}"
        record: dict[str, Any] = json.loads(out.read_text())
        payload = record.get("payload", {})
        if "array" in payload:
            record["array"] = np.load(payload["array"])
        return record, ""


def measure(script: str | Path, case: str, library: str, size: int, *, repeat: int = 3, budget: float = 30.0,
            timeout: float = 600.0, memory: bool = True, fallback_sizes: Sequence[int] = (),
            log: Callable[[str], None] | None = None) -> Measurement:
    """Time (and optionally memory-profile) one case in fresh worker processes.

    Parameters
    ----------
    script:
        The benchmark script (it must call :func:`worker_or_none` first thing).
    case, library, size:
        What to run.
    repeat, budget:
        Best of ``repeat`` runs, fewer when they take more than ``budget`` seconds in total.
    timeout:
        Seconds after which a worker is killed. On a timeout the case is retried at each of
        ``fallback_sizes`` in turn (e.g. a tenth of the size) and the measurement says so in ``note``.
    memory:
        Also measure the peak traced memory in a second worker (one run under tracemalloc).
    log:
        Progress sink (e.g. ``print`` to stderr).
    """
    script = Path(script)
    say = log or (lambda _msg: None)
    notes: list[str] = []
    for attempt_size in (size, *fallback_sizes):
        say(f"  {case} / {library} / n={attempt_size:,} ...")
        t0 = time.perf_counter()
        record, err = _run_worker(script, case, library, attempt_size, "time", repeat, budget, timeout)
        if record is None:
            notes.append(f"n={attempt_size:,} {err}")
            say(f"    {err}")
            if err.startswith("timed out"):
                continue  # retry at the next, smaller size
            break
        runs = tuple(float(s) for s in record["seconds"])
        cpu = [float(s) for s in record.get("cpu_seconds") or []]
        m = Measurement(case=case, library=library, size=attempt_size, seconds=min(runs),
                        cpu_seconds=min(cpu) if cpu else None, runs=runs,
                        values=record.get("payload", {}).get("values"), array=record.get("array"))
        say(f"    best {m.seconds:.3f} s (CPU {_fmt(m.cpu_seconds, '.3f')} s) of {len(runs)} run(s) "
            f"({time.perf_counter() - t0:.1f} s wall in all)")
        if attempt_size != size:
            notes.append(f"measured at n={attempt_size:,} instead")
        if memory:
            mem, err = _run_worker(script, case, library, attempt_size, "memory", 1, budget, timeout)
            if mem is None:
                notes.append(f"memory {err}")
            else:
                m.peak_mib = float(mem["peak_bytes"]) / MIB
        m.note = "; ".join(notes)
        return m
    return Measurement(case=case, library=library, size=size, note="; ".join(notes))


# ---------------------------------------------------------------------------------------------- output
def _fmt(value: float | None, spec: str) -> str:
    return "n/a" if value is None or not math.isfinite(value) else format(value, spec)


def _ratio(ours: float | None, theirs: float | None) -> str:
    return "n/a" if not ours or theirs is None else f"{theirs / ours:.1f}x"


def format_table(rows: Sequence[tuple[Measurement, Measurement]]) -> str:
    """A text table, one line per (clvkit, lifetimes) pair of measurements of one case and size.

    Columns: size, clvkit s, lifetimes s, ratio (lifetimes / clvkit: how many times faster clvkit is),
    the same three in CPU time, clvkit peak MiB, lifetimes peak MiB, and notes (e.g. a smaller size
    measured after a timeout). Wall time is what a user waits; CPU time is the fairer comparison on a
    shared machine.
    """
    header = ("size", "clvkit s", "lifetimes s", "ratio", "clvkit CPU s", "lifetimes CPU s", "CPU ratio",
              "clvkit MiB", "lifetimes MiB", "notes")
    lines = [header]
    for ours, theirs in rows:
        same = ours.size == theirs.size
        notes = "; ".join(f"{m.library}: {m.note}" for m in (ours, theirs) if m.note)
        lines.append((f"{ours.size:,}", _fmt(ours.seconds, ".3f"), _fmt(theirs.seconds, ".3f"),
                      _ratio(ours.seconds, theirs.seconds) if same else "n/a",
                      _fmt(ours.cpu_seconds, ".3f"), _fmt(theirs.cpu_seconds, ".3f"),
                      _ratio(ours.cpu_seconds, theirs.cpu_seconds) if same else "n/a",
                      _fmt(ours.peak_mib, ".1f"), _fmt(theirs.peak_mib, ".1f"), notes))
    widths = [max(len(row[i]) for row in lines) for i in range(len(header) - 1)]
    out = []
    for row in lines:
        cells = [row[i].rjust(widths[i]) for i in range(len(widths))]
        out.append("  ".join(cells) + ("  " + row[-1] if row[-1] else ""))
    out.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(out)


def print_table(title: str, rows: Sequence[tuple[Measurement, Measurement]]) -> None:
    """Print ``title`` and :func:`format_table` of ``rows`` to stdout."""
    print(f"\n## {title}\n")
    print(format_table(rows))
    sys.stdout.flush()


def report_verdicts(title: str, verdicts: Sequence[str], failures: Sequence[str]) -> int:
    """Print the targets section and any failed agreement checks; the script's exit status (1 on a failure)."""
    print(f"\n## {title}\n")
    for line in verdicts:
        print(f"  {line}")
    if failures:
        print("\n## FAILED agreement checks\n")
        for line in failures:
            print(f"  {line}")
        return 1
    print("\nAll agreement checks passed.")
    return 0


def machine_info() -> str:
    """One paragraph describing the interpreter, library versions, cores and the current load."""
    import scipy

    parts = [f"Python {platform.python_version()}", f"numpy {np.__version__}", f"scipy {scipy.__version__}"]
    for mod in ("clvkit", "lifetimes", "pandas"):
        try:
            parts.append(f"{mod} {__import__(mod).__version__}")
        except ImportError:
            parts.append(f"{mod} (not installed)")
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    cpu = f"{os.cpu_count()} CPUs" + (f", load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}" if load else "")
    return f"{platform.platform()}; {cpu}; " + ", ".join(parts)


def bench_argparser(description: str, default_sizes: Sequence[int]) -> argparse.ArgumentParser:
    """The options every benchmark script takes: ``--smoke``, ``--sizes``, ``--repeat``, ``--timeout``, ..."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--smoke", action="store_true",
                   help="tiny sizes, one run each, no memory pass: checks that the script works")
    p.add_argument("--sizes", type=int, nargs="+", default=list(default_sizes), metavar="N",
                   help=f"numbers of customers (default: {' '.join(str(s) for s in default_sizes)})")
    p.add_argument("--repeat", type=int, default=3, help="best of this many runs (default 3)")
    p.add_argument("--budget", type=float, default=20.0,
                   help="stop repeating once the runs of one case took this many seconds (default 20)")
    p.add_argument("--timeout", type=float, default=600.0,
                   help="kill a run after this many seconds and measure a tenth of the size (default 600)")
    p.add_argument("--no-memory", action="store_true", help="skip the tracemalloc peak-memory pass")
    p.add_argument("--seed", type=int, default=20240601, help="seed of the data generators")
    return p


# ---------------------------------------------------------------------------------------------- generators
def simulate_bgnbd(n: int, r: float, alpha: float, a: float, b: float, *, T_min_days: int = 1,
                   T_max_days: int = 365, seed: int = 0) -> dict[str, npt.NDArray[np.float64]]:
    """Summaries of ``n`` customers drawn from the BG/NBD model, at daily resolution.

    Each customer's age ``T`` is a whole number of days, uniform on ``[T_min_days, T_max_days]`` (a year
    of acquisitions observed to one date). With ``lambda ~ Gamma(r, rate alpha)`` (``alpha`` in days) and
    ``p ~ Beta(a, b)``, repeat purchases follow a Poisson process of rate ``lambda`` and the customer drops
    out after each repeat purchase with probability ``p``: ``frequency = min(N, J)`` where
    ``N ~ Poisson(lambda T)`` and ``J ~ Geometric(p)`` on ``{1, 2, ...}``. Given ``N`` arrivals on
    ``(0, T]`` the ``x``-th is ``T * Beta(x, N - x + 1)``; recency is that time rounded up to whole days
    (a repeat purchase happens on a later day than the first one), so ``recency`` and ``T`` are integers.

    Returns
    -------
    dict
        ``frequency``, ``recency``, ``T``: float64 arrays of shape (n,).
    """
    rng = np.random.default_rng(seed)
    T = rng.integers(T_min_days, T_max_days + 1, size=n).astype(np.float64)
    lam = rng.gamma(r, 1.0 / alpha, size=n)
    p = rng.beta(a, b, size=n)
    N = rng.poisson(lam * T)
    J = rng.geometric(p)
    x = np.minimum(N, J)
    pos = x > 0
    recency = np.zeros(n)
    xs, Ns = x[pos].astype(np.float64), N[pos].astype(np.float64)
    recency[pos] = np.minimum(np.ceil(T[pos] * rng.beta(xs, Ns - xs + 1.0)), T[pos])
    recency[pos] = np.maximum(recency[pos], 1.0)
    return {"frequency": x.astype(np.float64), "recency": recency, "T": T}


def simulate_gamma_gamma_spend(frequency: npt.NDArray[np.float64], p: float, q: float, v: float, *,
                               seed: int = 1) -> npt.NDArray[np.float64]:
    """Mean spend per repeat purchase for each customer under the Gamma-Gamma model (0 where frequency is 0).

    ``nu ~ Gamma(q, rate v)`` per customer; each purchase ``~ Gamma(p, rate nu)``, so the mean of ``x``
    purchases is ``Gamma(p x, rate x nu)`` (Fader & Hardie 2013, note 025).

    Returns
    -------
    numpy.ndarray of shape (n,)
    """
    rng = np.random.default_rng(seed)
    x = np.asarray(frequency, dtype=np.float64)
    nu = rng.gamma(q, 1.0 / v, size=x.shape[0])
    pos = x > 0
    m = np.zeros(x.shape[0])
    m[pos] = rng.gamma(p * x[pos], 1.0 / (x[pos] * nu[pos]))
    return m
