"""The one place that imports matplotlib (lazily) and hands out an ``Axes``."""

from __future__ import annotations

from typing import Any

from .._frames import require
from ..errors import InvalidInputError


def check_ax(ax: Any, where: str) -> None:
    """Refuse an ``ax`` that is neither ``None`` nor a matplotlib ``Axes`` (matplotlib imported only to check one)."""
    if ax is None:
        return
    mpl_axes = require("matplotlib.axes")
    if not isinstance(ax, mpl_axes.Axes):
        raise InvalidInputError(f"The 'ax' parameter of {where} must be a matplotlib Axes or None. "
                                f"Got {type(ax).__name__} instead.")


def axes(ax: Any = None, *, figsize: tuple[float, float] = (6.4, 4.8), constrained: bool = False) -> Any:
    """``ax`` if given, else a new figure's ``Axes`` (matplotlib imported here, on first use); ``constrained``
    gives the new figure the constrained layout (room for legends and colour bars)."""
    if ax is not None:
        return ax
    plt = require("matplotlib.pyplot")
    _fig, new = plt.subplots(figsize=figsize)
    if constrained:
        new.figure.set_layout_engine("constrained")
    return new
