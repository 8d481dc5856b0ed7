"""One self-contained HTML report of a data set: what a manager opens, what an analyst checks.

:func:`build_report` runs the whole job on a transaction log - summary, BG/NBD and Pareto/NBD fits with
their checks, Gamma-Gamma spend, discounted CLV, the 5A inventory and concentration, key customers, the
value x churn-risk matrix and (given binding data) binding and value at risk by employee - and returns a
:class:`Report`; :meth:`Report.to_html` renders it and :func:`write_html` writes it atomically. The page
has no script, no style sheet or font from the network and no link out: plots are PNG images embedded as
``data:`` URIs, tables are the results' own notebook displays (``_repr_html_``). matplotlib (the ``plot``
extra) is needed; it is imported when the report is built.

Examples
--------
>>> import tempfile, pathlib
>>> from clvkit.datasets import CDNOW_CALIBRATION_END, load_cdnow_transactions
>>> from clvkit.report import write_html
>>> out = pathlib.Path(tempfile.mkdtemp()) / "report.html"
>>> path = write_html(out, load_cdnow_transactions(), customer_id="customer_id", datetime="date",
...                   monetary_value="amount", calibration_end=CDNOW_CALIBRATION_END)  # doctest: +SKIP
"""

from __future__ import annotations

from ._build import Report, Section, build_report, write_html

__all__ = ["Report", "Section", "build_report", "write_html"]
