"""The hardening suite's one invariant, and its tally.

Every probe calls a public entry point with hostile or extreme input. The call must end in one of two
ways: a :class:`clvkit.ClvkitError` subclass (the command line: one line on stderr and exit status 2), or a
correct result - finite numbers where numbers are returned. Anything else (another exception, a NaN, a
traceback, a partial file) fails the test. :data:`TALLY` counts the outcomes per area; the terminal summary
prints them (tests/hardening/conftest.py), which is the probe table of the closing note.
"""

from __future__ import annotations

import collections
import dataclasses
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from clvkit import ClvkitError

TYPED, CORRECT, OTHER = "typed error", "correct result", "other"
TALLY: collections.Counter[tuple[str, str]] = collections.Counter()


def _finite(value: Any) -> bool:
    """Every number inside ``value`` is finite (arrays, dataclasses, mappings, sequences, pydantic models)."""
    if value is None or isinstance(value, (str, bytes, bool)):
        return True
    if isinstance(value, (int, float, np.integer, np.floating)):
        return math.isfinite(float(value))
    if isinstance(value, np.ndarray):
        return value.dtype.kind not in "fc" or bool(np.all(np.isfinite(value)))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return all(_finite(getattr(value, f.name)) for f in dataclasses.fields(value))
    if isinstance(value, dict):
        return all(_finite(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return all(_finite(v) for v in value)
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return _finite(dump())
    return True


def probe(area: str, call: Callable[[], Any]) -> Any:
    """Run ``call``; return its result, or ``None`` after a typed error. Anything else fails the test."""
    try:
        result = call()
    except ClvkitError:
        TALLY[(area, TYPED)] += 1
        return None
    except Exception as exc:  # the invariant's violation: count it, then fail with the cause
        TALLY[(area, OTHER)] += 1
        raise AssertionError(f"{area}: {type(exc).__name__} escaped: {exc}") from exc
    if not _finite(result):
        TALLY[(area, OTHER)] += 1
        raise AssertionError(f"{area}: a non-finite number in the result {result!r}")
    TALLY[(area, CORRECT)] += 1
    return result


def record(area: str, outcome: str) -> None:
    """Count an outcome judged by the test itself (e.g. a command line run: exit status and stderr)."""
    TALLY[(area, outcome)] += 1
