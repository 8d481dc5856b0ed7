"""Prints the hardening suite's probe table (tried / typed error / correct result / other) per area."""

from __future__ import annotations

from typing import Any

import pytest

from ._mpref import WORST
from ._probe import CORRECT, OTHER, TALLY, TYPED


@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: Any) -> None:
    if TALLY:
        _probe_table(terminalreporter)
    _mpmath_table(terminalreporter)


def _probe_table(terminalreporter: Any) -> None:
    areas = sorted({area for area, _ in TALLY})
    rows = [(a, TALLY[(a, TYPED)], TALLY[(a, CORRECT)], TALLY[(a, OTHER)]) for a in areas]
    total = ("all", sum(r[1] for r in rows), sum(r[2] for r in rows), sum(r[3] for r in rows))
    width = max(len(a) for a in [*areas, "area"])
    terminalreporter.write_line(f"hardening probes: {'area':<{width}}  {'tried':>6}  {'typed':>6}  {'correct':>7}  "
                                f"{'other':>5}")
    for area, typed, correct, other in [*rows, total]:
        terminalreporter.write_line(f"hardening probes: {area:<{width}}  {typed + correct + other:>6}  {typed:>6}  "
                                    f"{correct:>7}  {other:>5}")


def _mpmath_table(terminalreporter: Any) -> None:
    """The worst relative error against mpmath per model and prediction, with its bound (test_mpmath_grid.py)."""
    if not WORST:
        return
    keys = sorted(WORST)
    width = max(len(f"{m}.{p}") for m, p in keys)
    terminalreporter.write_line(f"mpmath worst relative error: {'model.prediction':<{width}}  {'cases':>5}  "
                                f"{'worst':>8}  {'bound':>8}")
    for model, prediction in keys:
        worst, bound, cases = WORST[(model, prediction)]
        terminalreporter.write_line(f"mpmath worst relative error: {model + '.' + prediction:<{width}}  "
                                    f"{int(cases):>5}  {worst:>8.1e}  {bound:>8.0e}")
