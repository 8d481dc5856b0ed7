"""``clvkit score --costs FILE``: per-customer costs for profit CLV and the value x cost matrix.

The costs file has one row per customer: a ``customer_id`` column (or the log's customer id column name) and
the columns named by ``--cost-column`` (cost to serve one purchase), ``--retention-cost-column`` (cost of
keeping the customer over the horizon, present value) and ``--acquisition-cost-column`` (what winning the
customer cost). Financial value = transaction revenue - transaction cost (张子凡 CRM notes, text 003).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from ..batch import CustomerSummary
from ..errors import InvalidInputError

__all__ = ["COST_OPTIONS", "add_cost_options", "inputs_of", "read_costs"]

#: clv() argument of each option's column.
COST_OPTIONS = {"cost_column": "cost_per_purchase", "retention_cost_column": "retention_cost",
                "acquisition_cost_column": "acquisition_cost"}


def add_cost_options(parser: argparse.ArgumentParser) -> None:
    """The ``costs`` option group of ``clvkit score``."""
    g = parser.add_argument_group("per-customer costs (profit CLV)")
    g.add_argument("--costs", metavar="FILE",
                   help="CSV with one row per customer: customer_id and the cost columns below")
    g.add_argument("--cost-column", metavar="COL",
                   help="cost to serve one purchase (subtracted per expected purchase: profit_clv)")
    g.add_argument("--retention-cost-column", metavar="COL",
                   help="cost of keeping the customer over the horizon, present value (subtracted: profit_clv)")
    g.add_argument("--acquisition-cost-column", metavar="COL",
                   help="what winning the customer cost; without it, 5 x the retention cost when that is given "
                        "(the texts' rule of thumb: a new customer costs 5 times keeping one)")


def read_costs(args: argparse.Namespace, summary: CustomerSummary, id_column: str) -> dict[str, Any] | None:
    """clv()'s cost arguments from ``--costs``, in the summary's row order; ``None`` without ``--costs``.

    Raises
    ------
    InvalidInputError
        For a cost column without ``--costs`` (or the reverse), a missing column, a repeated or missing customer,
        or a cell that is not a number (clv() refuses negative and non-finite costs).
    """
    named = {opt: getattr(args, opt) for opt in COST_OPTIONS if getattr(args, opt) is not None}
    if args.costs is None:
        if named:
            flags = ", ".join("--" + opt.replace("_", "-") for opt in named)
            raise InvalidInputError(f"{flags} name(s) columns of the costs file: give it with --costs FILE.")
        return None
    if not named:
        raise InvalidInputError("--costs needs at least one of --cost-column, --retention-cost-column and "
                                "--acquisition-cost-column (the columns to read).")
    from .tier import read_columns_csv

    key = "customer_id"
    table = read_columns_csv(args.costs, text_columns=(key, id_column))
    if key not in table:
        key = id_column
    if key not in table:
        raise InvalidInputError(f"The --costs file {args.costs} has no 'customer_id' column (nor {id_column!r}); "
                                f"columns are {sorted(table)}.")
    ids = [str(v) for v in table[key].tolist()]
    row_of: dict[str, int] = {}
    for i, cid in enumerate(ids):
        if cid in row_of:
            raise InvalidInputError(f"The --costs file {args.costs} lists customer {cid!r} more than once; give one "
                                    f"row per customer.")
        row_of[cid] = i
    wanted = [str(v) for v in (summary.customer_id.tolist() if summary.customer_id is not None else [])]
    missing = [cid for cid in wanted if cid not in row_of]
    if missing:
        raise InvalidInputError(f"The --costs file {args.costs} has no row for {len(missing)} customer(s) of the log, "
                                f"first {missing[0]!r}; give every customer a row (0 for no cost).")
    rows = np.array([row_of[cid] for cid in wanted], dtype=np.intp)
    out: dict[str, Any] = {}
    for opt, column in named.items():
        if column not in table:
            raise InvalidInputError(f"--{opt.replace('_', '-')} {column!r}: the --costs file {args.costs} has no such "
                                    f"column; columns are {sorted(table)}.")
        values = table[column]
        if values.dtype.kind not in "fiu":
            raise InvalidInputError(f"The column {column!r} of the --costs file {args.costs} must hold numbers only "
                                    f"(a cost per customer).")
        out[COST_OPTIONS[opt]] = values[rows]
    return out


def inputs_of(args: argparse.Namespace) -> list[Path]:
    """The costs file, for the check that no output overwrites an input."""
    return [Path(args.costs)] if args.costs else []
