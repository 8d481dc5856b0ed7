"""Warnings silenced for the current thread (or task) only, without touching ``warnings.filters``.

``warnings.catch_warnings`` swaps the process-wide filter list and is not thread-safe: two threads inside
it leave each other's filters behind. A caller that wants a library warning silenced for a call (the
bootstrap's refits, whose standard-error warnings do not matter there) sets it here instead; the code
that would warn asks :func:`warn`. A :class:`contextvars.ContextVar` is per thread and per asyncio task.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

__all__ = ["silenced", "warn"]

_SILENCED: ContextVar[tuple[type[Warning], ...]] = ContextVar("clvkit_silenced_warnings", default=())


@contextmanager
def silenced(*categories: type[Warning]) -> Iterator[None]:
    """Within the block, :func:`warn` drops warnings of these categories (this thread/task only)."""
    token = _SILENCED.set(_SILENCED.get() + categories)
    try:
        yield
    finally:
        _SILENCED.reset(token)


def warn(message: str, category: type[Warning], stacklevel: int = 1) -> None:
    """``warnings.warn`` unless ``category`` is silenced here; ``stacklevel`` counts from the caller."""
    if issubclass(category, _SILENCED.get()):
        return
    warnings.warn(message, category, stacklevel=stacklevel + 1)
