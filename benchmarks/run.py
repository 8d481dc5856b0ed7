"""Run every ``bench_*.py`` in this directory, one after the other, each in its own process.

Usage::

    python benchmarks/run.py                 # full sizes (lifetimes at 1M customers takes minutes)
    python benchmarks/run.py --smoke         # tiny sizes: checks that every benchmark still runs
    python benchmarks/run.py bgnbd summarize # only bench_bgnbd.py and bench_summarize.py
    python benchmarks/run.py --list

Each script's output (its tables) goes to stdout as it is produced; the exit status is 1 when any script
failed (for example an agreement check between clvkit and lifetimes).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def discover(names: list[str]) -> list[Path]:
    """The ``bench_*.py`` scripts, sorted; restricted to ``names`` (``bgnbd`` or ``bench_bgnbd.py``) if given."""
    scripts = sorted(HERE.glob("bench_*.py"))
    if not names:
        return scripts
    wanted = {n.removesuffix(".py").removeprefix("bench_") for n in names}
    unknown = wanted - {s.stem.removeprefix("bench_") for s in scripts}
    if unknown:
        raise SystemExit(f"run.py: no benchmark named {sorted(unknown)}; have {[s.name for s in scripts]}")
    return [s for s in scripts if s.stem.removeprefix("bench_") in wanted]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("names", nargs="*", help="benchmarks to run (default: all), e.g. bgnbd")
    p.add_argument("--smoke", action="store_true", help="pass --smoke to every script (tiny sizes)")
    p.add_argument("--list", action="store_true", help="list the benchmark scripts and exit")
    args = p.parse_args(argv)
    scripts = discover(args.names)
    if args.list:
        for s in scripts:
            print(s.name)
        return 0
    results: list[tuple[str, int, float]] = []
    for script in scripts:
        cmd = [sys.executable, str(script)] + (["--smoke"] if args.smoke else [])
        print(f"\n===== {script.name}{' --smoke' if args.smoke else ''}\n", flush=True)
        t0 = time.perf_counter()
        code = subprocess.run(cmd, check=False).returncode
        results.append((script.name, code, time.perf_counter() - t0))
    print("\n===== summary\n")
    for name, code, seconds in results:
        print(f"  {name:<32} {'ok' if code == 0 else f'FAILED (exit {code})':<16} {seconds:8.1f} s")
    return 0 if all(code == 0 for _, code, _ in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
