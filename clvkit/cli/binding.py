"""``clvkit binding [DIR]``: how firmly each customer is tied to the company rather than to one employee.

Reads a folder of binding tables (default: the bundled synthetic B2B sample) and prints the report of
:func:`clvkit.binding.cli_report`: coverage, concentration, value at risk, the relationship ladders and
hand-over simulations, in English or Chinese (``--lang``); ``--values scores.csv`` takes the customer values from
``clvkit score`` output.
"""

from __future__ import annotations

import argparse
from typing import Any

from ..errors import InvalidInputError
from ._args import Parents, lang_option, non_negative_int
from ._console import Console, one_line
from ._output import json_option

__all__ = ["register", "run"]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], parents: Parents) -> None:
    """Add ``binding`` to the subcommands."""
    binding = sub.add_parser(
        "binding", parents=[parents.common], help="binding report: coverage, concentration, value at risk",
        description="How firmly each customer is tied to the company rather than to one employee: "
                    "hierarchical/industry/project binding, concentration, value at risk, hand-overs.")
    binding.add_argument("directory", nargs="?", metavar="DIR",
                         help="folder with employees, contacts, relationships, touchpoints (+ industry_ties, "
                              "projects, project_members, customers) as .csv/.csv.gz/.parquet; default: the "
                              "bundled synthetic sample")
    binding.add_argument("--as-of", metavar="DATE", help="ISO 8601 date/time described (default: latest touchpoint)")
    binding.add_argument("--top", type=non_negative_int, default=10, help="rows per table (default 10)")
    binding.add_argument("--config", metavar="JSON", help="BindingConfig: JSON text or a JSON file")
    binding.add_argument("--handover", action="extend", nargs="+", metavar="EMPLOYEE",
                         help="employees whose hand-over to simulate (default: announced departures, else the "
                              "top risk)")
    binding.add_argument("--values", metavar="CSV",
                         help="customer values from 'clvkit score' output (columns customer_id and clv), matched "
                              "by customer_id; default: the 'value' column of customers.csv")
    binding.add_argument("--value-column", default="clv", metavar="COL",
                         help="the column of --values to use (default: clv)")
    lang_option(binding)
    binding.set_defaults(handler=run)


def run(args: argparse.Namespace, console: Console) -> int:
    """Run ``clvkit binding``; return the exit status."""
    from ..binding import cli_report

    config = None if args.config is None else _config(args.config)
    if args.values is None and args.value_column != "clv":
        raise InvalidInputError("--value-column names a column of --values; pass --values scores.csv as well.")
    console.print(cli_report(args.directory, as_of=args.as_of, top=args.top, config=config, handover=args.handover,
                             lang=args.lang, values=args.values, value_column=args.value_column).rstrip("\n"))
    return 0


def _config(value: str) -> Any:
    """``--config`` (JSON text, or a JSON file) as a :class:`~clvkit.binding.BindingConfig`."""
    from pydantic import ValidationError

    from ..binding import BindingConfig

    text, path = json_option(value, "--config")  # JSON text or a file, bounded in size and nesting
    where = "The --config JSON" if path is None else f"The --config file {path}"
    try:
        return BindingConfig.model_validate_json(text)
    except (ValidationError, ValueError) as exc:
        raise InvalidInputError(f"{where} is not a valid binding configuration: {one_line(exc)}") from None
