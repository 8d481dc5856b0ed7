"""Prints the hardening suite's probe table (tried / typed error / correct result / other) per area."""

from __future__ import annotations

from typing import Any

import pytest

from ._probe import CORRECT, OTHER, TALLY, TYPED


@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: Any) -> None:
    if not TALLY:
        return
    areas = sorted({area for area, _ in TALLY})
    rows = [(a, TALLY[(a, TYPED)], TALLY[(a, CORRECT)], TALLY[(a, OTHER)]) for a in areas]
    total = ("all", sum(r[1] for r in rows), sum(r[2] for r in rows), sum(r[3] for r in rows))
    width = max(len(a) for a in [*areas, "area"])
    terminalreporter.write_line(f"hardening probes: {'area':<{width}}  {'tried':>6}  {'typed':>6}  {'correct':>7}  "
                                f"{'other':>5}")
    for area, typed, correct, other in [*rows, total]:
        terminalreporter.write_line(f"hardening probes: {area:<{width}}  {typed + correct + other:>6}  {typed:>6}  "
                                    f"{correct:>7}  {other:>5}")
