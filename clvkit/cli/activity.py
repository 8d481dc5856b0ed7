"""``clvkit activity [DIR]``: the battle map (作战地图) - where each employee's time went, week by week.

Reads a folder of binding tables (default: the bundled synthetic B2B sample) and prints the report of
:func:`clvkit.binding.cli_activity`: contacts by the five contact functions, customers touched by tier, key
actions checked against the weekly targets and key customers nobody contacted within the interval, in English
or Chinese (``--lang``).
"""

from __future__ import annotations

import argparse
from typing import Any

from ..errors import InvalidInputError
from ._args import Parents, lang_option, non_negative_int, positive_int
from ._console import Console, one_line
from ._output import json_option

__all__ = ["register", "run"]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], parents: Parents) -> None:
    """Add ``activity`` to the subcommands."""
    activity = sub.add_parser(
        "activity", parents=[parents.common], help="battle map: contacts and key actions per employee and week",
        description="The battle map from the touchpoints: per employee and week, contacts by the five contact "
                    "functions, customers touched by tier, key actions checked against their weekly targets, and "
                    "key customers nobody contacted within the interval.")
    activity.add_argument("directory", nargs="?", metavar="DIR",
                          help="folder with employees, contacts, relationships, touchpoints (+ customers with "
                               "'tier' and 'key_customer' columns) as .csv/.csv.gz/.parquet; default: the bundled "
                               "synthetic sample")
    activity.add_argument("--as-of", metavar="DATE",
                          help="ISO 8601 date/time the last week ends on (default: latest touchpoint)")
    activity.add_argument("--weeks", type=positive_int, default=4, help="weeks of 7 days to show (default 4)")
    activity.add_argument("--top", type=non_negative_int, default=20, help="rows per table (default 20)")
    activity.add_argument("--config", metavar="JSON",
                          help="ActivityConfig: JSON text or a JSON file (key_actions, contact_interval_days)")
    lang_option(activity)
    activity.set_defaults(handler=run)


def run(args: argparse.Namespace, console: Console) -> int:
    """Run ``clvkit activity``; return the exit status."""
    from ..binding import cli_activity

    config = None if args.config is None else _config(args.config)
    console.print(cli_activity(args.directory, as_of=args.as_of, weeks=args.weeks, config=config, lang=args.lang,
                               top=args.top).rstrip("\n"))
    return 0


def _config(value: str) -> Any:
    """``--config`` (JSON text, or a JSON file) as an :class:`~clvkit.binding.ActivityConfig`."""
    from pydantic import ValidationError

    from ..binding import ActivityConfig

    text, path = json_option(value, "--config")
    where = "The --config JSON" if path is None else f"The --config file {path}"
    try:
        return ActivityConfig.model_validate_json(text)
    except (ValidationError, ValueError) as exc:
        raise InvalidInputError(f"{where} is not a valid activity configuration: {one_line(exc)}") from None
