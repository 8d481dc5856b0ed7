"""``clvkit report LOG --output report.html``: the whole job on a log as one self-contained HTML page.

Takes the log options of ``clvkit fit``; writes the page of :func:`clvkit.report.build_report` (summary,
BG/NBD and Pareto/NBD with their holdout checks, spend, CLV, 5A tiers and concentration, key customers,
value x churn risk, and binding with ``--binding DIR``) atomically, refusing to replace a file without
``--force``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from .._timeunits import UNIT_DAYS
from ._args import Parents, date_option, lang_option
from ._console import Console
from ._log import read_log
from ._output import check_outputs

__all__ = ["register", "run"]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], parents: Parents) -> None:
    """Add ``report`` to the subcommands."""
    report = sub.add_parser("report", parents=[parents.common, parents.log, parents.valuation],
                            help="one self-contained HTML report of a transaction log",
                            description="Summarize a transaction log, fit and check the models, value and tier "
                                        "the customers (and measure binding with --binding) and write one HTML "
                                        "page with every table and plot embedded (no network needed to open it).")
    report.add_argument("--customer-id", required=True, metavar="COL", help="customer id column")
    report.add_argument("--datetime", required=True, metavar="COL", help="transaction time column")
    report.add_argument("--monetary-value", metavar="COL", help="amount column (values in money)")
    report.add_argument("--freq", default="D", choices=list(UNIT_DAYS),
                        help="period in which purchases are counted once (default D)")
    report.add_argument("--time-unit", default="W", choices=list(UNIT_DAYS),
                        help="time unit of recency, T and the parameters (default W, as the papers)")
    report.add_argument("--binding", metavar="DIR",
                        help="folder of binding tables (as for 'clvkit binding') for the binding section")
    report.add_argument("--title", metavar="TEXT", help="page heading (default: Customer value report)")
    report.add_argument("--output", "-o", default="clvkit-report.html", metavar="FILE",
                        help="the HTML file to write (default ./clvkit-report.html)")
    report.add_argument("--force", action="store_true", help="replace an existing file")
    lang_option(report)
    report.set_defaults(handler=run)


def run(args: argparse.Namespace, console: Console) -> int:
    """Run ``clvkit report``; return the exit status."""
    from ..report import build_report, write_html

    output = Path(args.output)
    inputs = [Path(args.input)] + ([Path(args.binding)] if args.binding else [])
    check_outputs([output], inputs, force=args.force)
    calibration_end = date_option(args.calibration_end, "--calibration-end", args.date_format)
    observation_end = date_option(args.observation_end, "--observation-end", args.date_format)
    with console.step(console.tr("reading {path}", path=args.input)) as add:
        columns = read_log(args.input, customer_id=args.customer_id, datetime=args.datetime,
                           monetary_value=args.monetary_value, fmt=args.format, delimiter=args.delimiter,
                           date_format=args.date_format)
        add(console.tr("{count} rows", count=f"{len(columns[args.customer_id]):,}"))
    def progress(step: str) -> None:
        console.note(f"clvkit: {step}")

    report = build_report(columns, customer_id=args.customer_id, datetime=args.datetime,
                          monetary_value=args.monetary_value, time_unit=args.freq, model_time_unit=args.time_unit,
                          refunds=args.refunds, calibration_end=calibration_end, observation_end=observation_end,
                          horizon=args.horizon, period=args.period, discount_rate=args.discount_rate,
                          margin=args.margin, binding=args.binding, top=args.top, title=args.title,
                          progress=progress, lang=console.tr.lang)
    with console.step(console.tr("writing {path}", path=output)):
        write_html(output, report=report, force=True)
    tr = console.tr
    console.print(tr("report written to {path} ({size} bytes; sections: {sections})", path=output,
                     size=f"{output.stat().st_size:,}", sections=tr(", ").join(s.title for s in report.sections)))
    return 0
