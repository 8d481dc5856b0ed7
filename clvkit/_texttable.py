"""The one plain-text table of every printed report (command line, tiering, binding, composite value).

Imports nothing of clvkit, so any layer may use it.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

__all__ = ["display_width", "table_lines"]


def display_width(text: str) -> int:
    """Columns ``text`` takes in a terminal: Chinese (East Asian wide and full-width) characters take two.

    >>> display_width("A1"), display_width("关键客户"), display_width("A1（最高）")
    (2, 8, 10)
    """
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def table_lines(headers: Sequence[str], rows: Sequence[Sequence[str]], *, align: str = "", indent: str = "",
                rule: bool = True) -> list[str]:
    """Lines of a text table: columns two spaces apart, as wide as their widest cell.

    Parameters
    ----------
    headers:
        Column names, shape (n_columns,).
    rows:
        Cells, already formatted as text; each row has n_columns cells.
    align:
        One letter per column, ``"l"`` (left) or ``"r"`` (right); default: the first column left, the others
        right (labels, then numbers).
    indent:
        Put in front of every line.
    rule:
        Whether a line of dashes, one run per column, separates the header from the rows.

    Returns
    -------
    list of str
        The header, the rule (if any) and one line per row, without trailing spaces.

    Examples
    --------
    >>> print("\\n".join(table_lines(["tier", "customers", "value"], [["key", "1", "6.00"], ["other", "4", "4.00"]])))
    tier   customers  value
    -----  ---------  -----
    key            1   6.00
    other          4   4.00
    >>> table_lines(["id", "total", "key"], [["A", "11.00", "yes"], ["B", "6.00", ""]], align="lrl", indent="  ",
    ...             rule=False)
    ['  id  total  key', '  A   11.00  yes', '  B    6.00']
    """
    align = align or "l" + "r" * (len(headers) - 1)
    widths = [max([display_width(h), *(display_width(r[i]) for r in rows)]) for i, h in enumerate(headers)]

    def pad(cell: str, width: int, how: str) -> str:
        fill = " " * (width - display_width(cell))
        return cell + fill if how == "l" else fill + cell

    def line(cells: Sequence[str]) -> str:
        text = "  ".join(pad(c, w, a) for c, w, a in zip(cells, widths, align, strict=True))
        return (indent + text).rstrip()

    dashes = [line(["-" * w for w in widths])] if rule else []
    return [line(headers), *dashes, *(line(r) for r in rows)]
