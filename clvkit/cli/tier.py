"""``clvkit tier INPUT --policy NAME``: assign customers to tiers and print the inventory.

The input is a CSV file with one row per customer (e.g. the ``scores.csv`` of ``clvkit score``), read by
:func:`read_columns_csv`; ``--output`` writes the per-customer tiers (and with ``--explain`` the rule that
placed each customer).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from .._csvio import read_rows, write_csv
from ..errors import InvalidInputError
from ._args import Parents, lang_option
from ._console import Console, one_line
from ._output import check_outputs, json_option

__all__ = ["read_columns_csv", "register", "run"]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], parents: Parents) -> None:
    """Add ``tier`` to the subcommands."""
    from ..tiering import POLICIES

    tier = sub.add_parser(
        "tier", parents=[parents.common],
        help="assign tiers (5A, key customers, stars, RFM, matrices, loyalty, lifecycle)",
        description="Assign customers to tiers with a tiering policy and print the inventory (count, value and "
                    "share per tier, concentration, Gini) with a legend, the defaults' provenance and what to do "
                    "with each tier.")
    tier.add_argument("input", metavar="INPUT", help="CSV with one row per customer (e.g. scores.csv)")
    tier.add_argument("--policy", required=True, choices=sorted(POLICIES), help="tiering policy")
    tier.add_argument("--config", metavar="JSON", help="policy configuration: JSON text or a JSON file")
    tier.add_argument("--value-column", default=None, metavar="COL",
                      help="column with the customers' values (default 'value'; on 'clvkit score' output: "
                           "value_if_active for value-risk, profit_clv (else clv) for value-cost, clv otherwise)")
    tier.add_argument("--history-columns", nargs="+", metavar="COL",
                      help="period value columns, oldest first (the loyalty policy's history)")
    tier.add_argument("--output", "-o", metavar="FILE", help="CSV file for the per-customer tiers")
    tier.add_argument("--explain", action="store_true", help="add the rule that placed each customer")
    tier.add_argument("--treatments", metavar="JSON",
                      help="what to do with each tier: a TreatmentTable as JSON text or a JSON file, e.g. "
                           '\'{"treatments": [{"tier": "A1", "owner": "...", "contact": "...", "benefits": "..."}]}\' '
                           "(default: clvkit's table for the 5A tiers, key customers and star ratings)")
    tier.add_argument("--force", action="store_true", help="replace an existing --output file")
    lang_option(tier)
    tier.set_defaults(handler=run)


def run(args: argparse.Namespace, console: Console) -> int:
    """Run ``clvkit tier``; return the exit status."""
    from ..tiering import TreatmentTable, make_policy, tier_report

    config: str | None = None
    config_file: Path | None = None
    if args.config is not None:
        config, config_file = json_option(args.config, "--config")
    if args.output:
        check_outputs([Path(args.output)], [Path(args.input), *([config_file] if config_file else [])],
                      force=args.force)
    try:
        policy = make_policy(args.policy, config)
    except InvalidInputError as exc:
        if config_file is None:
            raise
        raise InvalidInputError(f"The --config file {config_file}: {one_line(exc)}") from None
    treatments = None
    if args.treatments is not None:
        text, treatments_file = json_option(args.treatments, "--treatments")
        try:
            treatments = TreatmentTable.model_validate_json(text)
        except InvalidInputError as exc:
            if treatments_file is None:
                raise
            raise InvalidInputError(f"The --treatments file {treatments_file}: {one_line(exc)}") from None
    columns = read_columns_csv(args.input)
    if args.history_columns:
        missing = [c for c in args.history_columns if c not in columns]
        if missing:
            raise InvalidInputError(f"--history-columns names columns the input lacks: {missing}.")
        not_numbers = [c for c in args.history_columns if columns[c].dtype.kind not in "fiu"]
        if not_numbers:
            raise InvalidInputError(f"--history-columns names columns that do not hold numbers only: {not_numbers}. "
                                    f"Each is one period's value per customer.")
        columns["history"] = np.column_stack([columns.pop(c) for c in args.history_columns]).astype(np.float64)
    value_column = args.value_column or _default_value_column(args.policy, columns)
    if value_column not in columns:
        raise InvalidInputError(
            f"The input has no column {value_column!r} (--value-column); columns are {sorted(columns)}."
        )
    # Policies rank on 'value' (and 'monetary'/'recency'... for RFM): the chosen value column is 'value'.
    columns.setdefault("value", columns[value_column])
    if args.policy == "value-cost" and "cost" not in columns and "acquisition_cost" in columns:
        columns["cost"] = columns["acquisition_cost"]  # 'clvkit score --costs ... --acquisition-cost-column'
    assignment, report = tier_report(policy, columns, value_column=value_column, lang=console.tr.lang,
                                     treatments=treatments)
    console.print(report.rstrip("\n"))
    if args.value_column is None and value_column != "value":
        tr = console.tr
        meaning = {
            "value_if_active": tr("CLV / P(alive): the value if the customer is still active, so the churn risk is "
                                  "not counted twice"),
            "profit_clv": tr("CLV minus the cost to serve"),
        }.get(value_column, tr("discounted customer lifetime value"))
        console.print(tr("Value basis: the column {column} of the scores ({meaning}).", column=value_column,
                         meaning=meaning))
    if args.output:
        out = Path(args.output)
        write_csv(out, assignment.to_columns(explain=args.explain))
        console.print(console.tr("tiers written to {path}", path=out))
    return 0


def _default_value_column(policy: str, columns: dict[str, npt.NDArray[Any]]) -> str:
    """``value`` when the input has it; on ``clvkit score`` output the value basis that suits the policy.

    Value x churn risk takes the value if still active: CLV is already discounted by P(alive), so crossing it
    with ``1 - P(alive)`` would count the risk twice and hide valuable customers who are slipping away.
    """
    if "value" in columns:
        return "value"
    prefer = {"value-risk": ("value_if_active",), "value-cost": ("profit_clv", "clv")}.get(policy, ("clv",))
    return next((c for c in prefer if c in columns), "value")


def read_columns_csv(
    path: str | Path, *, text_columns: Sequence[str] = ("customer_id",)
) -> dict[str, npt.NDArray[Any]]:
    """Read a CSV (or .csv.gz) into columns: numbers where every cell parses as one, text otherwise.

    Columns named in ``text_columns`` stay text even when they look numeric (ids).

    Raises
    ------
    InvalidInputError
        For a missing or empty file, rows of the wrong length or bytes that are not UTF-8 (naming the line).
    """
    p = Path(path)
    if not p.is_file():
        state = "is not a file" if p.exists() else "does not exist"
        raise InvalidInputError(f"The input file {p} {state}.")
    rows = read_rows(p, where=f"The input file {p}")
    if not rows:
        raise InvalidInputError(f"{p} is empty; it needs a header row and one row per customer.")
    header, body = rows[0], rows[1:]
    bad = [i + 2 for i, row in enumerate(body) if len(row) != len(header)]
    if bad:
        raise InvalidInputError(
            f"{p}: {len(bad)} row(s) do not have {len(header)} fields, first at line {bad[0]}. Check the delimiter."
        )
    out: dict[str, npt.NDArray[Any]] = {}
    for j, name in enumerate(header):
        cells = [row[j] for row in body]
        if name in text_columns:
            out[name] = np.array(cells, dtype=object)
            continue
        try:
            out[name] = np.array([float(c) for c in cells], dtype=np.float64)
        except ValueError:
            out[name] = np.array(cells, dtype=object)
    return out
