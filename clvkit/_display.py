"""The one place that builds notebook displays: number formatting and small, escaped HTML tables.

Every result object's ``_repr_html_`` is a ``<div class="clvkit-display">`` holding a title line and one or more
plain ``<table>`` elements built here. The HTML has no scripts, no style sheets (only right-aligned number
cells) and no external resources, so it renders the same in Jupyter, VS Code and a saved notebook; every text cell goes
through :func:`html.escape` (customer ids, tier labels and model names come from users).

This module imports nothing of clvkit (the batch, the models and the management layers all use it).
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Iterable, Sequence
from numbers import Integral, Real
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "MAX_REPR", "MISSING", "block", "cell_text", "count", "describe", "key_value_table", "number", "percent",
    "shorten", "table",
]

#: Longest text ``repr`` of a result object (longer ones are cut with ``...``).
MAX_REPR = 300

_NUMERIC_TEXT = re.compile(r"^[-+]?[\d.,]+(e[-+]\d+)?%?$")

#: What a missing number shows as.
MISSING = "\u2014"


def number(value: Any) -> str:
    """A number for display: ``1,234`` for integers, ``-9,582.43`` from 1,000 up, 4 significant digits below.

    ``None`` shows as an em dash, booleans as ``yes``/``no``, non-finite floats as ``nan``/``inf``/``-inf``.

    Examples
    --------
    >>> [number(x) for x in (2357, 0.24259, 4.4137, -9582.4303, 123456.789, 1.5e-7, None, True)]
    ['2,357', '0.2426', '4.414', '-9,582.43', '123,456.79', '1.5e-07', '\u2014', 'yes']
    """
    if value is None:
        return MISSING
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, Integral):
        return f"{int(value):,}"
    if isinstance(value, Real):
        x = float(value)
        if not math.isfinite(x):
            return repr(x)
        if abs(x) >= 1000.0:
            return f"{x:,.2f}"
        return f"{x:.4g}"
    return str(value)


def count(value: Any) -> str:
    """A count held as a float (a sum of weights): ``2,357`` when whole, else as :func:`number`."""
    x = float(value)
    return f"{int(x):,}" if x.is_integer() and abs(x) < 2.0**53 else number(x)


def percent(value: float | None) -> str:
    """A share as a percentage with one decimal (``0.1234`` -> ``12.3%``)."""
    return MISSING if value is None else f"{float(value):.1%}"


def shorten(text: str, limit: int = MAX_REPR) -> str:
    """``text`` cut to at most ``limit`` characters, ending in ``...`` when cut."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def cell_text(value: Any) -> str:
    """The escaped HTML text of one cell: numbers through :func:`number`, anything else through ``str``."""
    return html.escape(number(value) if not isinstance(value, str) else value)


def table(header: Sequence[str], rows: Iterable[Sequence[Any]], *, caption: str | None = None,
          row_headers: bool = True) -> str:
    """An HTML table: ``header`` cells in ``<thead>``, one ``<tr>`` per row; the first cell of each row is a
    row header (``<th scope="row">``) when ``row_headers``. Every cell is escaped."""
    parts = ["<table>"]
    if caption:
        parts.append(f"<caption>{html.escape(caption)}</caption>")
    parts.append("<thead><tr>" + "".join(f'<th scope="col">{html.escape(h)}</th>' for h in header) + "</tr></thead>")
    parts.append("<tbody>")
    for row in rows:
        cells = []
        for j, value in enumerate(row):
            if j == 0 and row_headers:
                cells.append(f'<th scope="row">{cell_text(value)}</th>')
            else:
                numeric = not isinstance(value, str) or _NUMERIC_TEXT.match(value) is not None
                cells.append(f'<td style="text-align:right">{cell_text(value)}</td>' if numeric
                             else f"<td>{cell_text(value)}</td>")
        parts.append("<tr>" + "".join(cells) + "</tr>")
    parts.append("</tbody></table>")
    return "".join(parts)


def key_value_table(pairs: Iterable[tuple[str, Any]], *, caption: str | None = None) -> str:
    """A two-column table of named values (``<th scope="row">name</th><td>value</td>``), escaped."""
    parts = ["<table>"]
    if caption:
        parts.append(f"<caption>{html.escape(caption)}</caption>")
    parts.append("<tbody>")
    for name, value in pairs:
        parts.append(f'<tr><th scope="row">{html.escape(name)}</th><td>{cell_text(value)}</td></tr>')
    parts.append("</tbody></table>")
    return "".join(parts)


def block(title: str, *parts: str, note: str | None = None) -> str:
    """The outer ``<div>`` of a display: a bold title line, the given (already built) tables, an optional note."""
    out = [f'<div class="clvkit-display"><p><strong>{html.escape(title)}</strong></p>', *parts]
    if note:
        out.append(f"<p>{html.escape(note)}</p>")
    out.append("</div>")
    return "".join(out)


def describe(columns: Iterable[tuple[str, npt.NDArray[Any]]], weights: npt.NDArray[Any] | None = None, *,
             header: Sequence[str] = ("column", "mean", "min", "max")) -> str:
    """A table of the (weighted) mean, minimum and maximum of each named column (an empty column shows dashes);
    ``header`` names the four columns (the caller translates them)."""
    rows: list[list[Any]] = []
    for name, values in columns:
        x = np.asarray(values, dtype=np.float64)
        if x.shape[0] == 0:
            rows.append([name, None, None, None])
            continue
        w = None if weights is None else np.asarray(weights, dtype=np.float64)
        rows.append([name, float(np.average(x, weights=w)), float(x.min()), float(x.max())])
    return table(list(header), rows)
