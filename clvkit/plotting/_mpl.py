"""The one place that imports matplotlib (lazily) and hands out an ``Axes``."""

from __future__ import annotations

from typing import Any

from .._frames import require


def axes(ax: Any = None, *, figsize: tuple[float, float] = (6.4, 4.8)) -> Any:
    """``ax`` if given, else a new figure's ``Axes`` (matplotlib imported here, on first use)."""
    if ax is not None:
        return ax
    plt = require("matplotlib.pyplot")
    _fig, new = plt.subplots(figsize=figsize)
    return new
