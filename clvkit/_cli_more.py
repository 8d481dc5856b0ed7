"""The ``clvkit tier`` and ``clvkit binding`` subcommands, and the demo's tiering section.

Kept apart from :mod:`clvkit.cli` (the transaction-model commands) so that each module stays readable;
:func:`add_subcommands` registers them on the main parser.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from ._csvio import read_rows, write_csv
from .errors import InvalidInputError

__all__ = ["add_referral_options", "add_subcommands", "demo_referrals", "demo_tiering", "read_columns_csv",
           "score_composite"]


class _Printer(Protocol):
    def print(self, text: str = "") -> None: ...


def read_columns_csv(
    path: str | Path, *, text_columns: Sequence[str] = ("customer_id",)
) -> dict[str, npt.NDArray[Any]]:
    """Read a CSV (or .csv.gz) into columns: numbers where every cell parses as one, text otherwise.

    Columns named in ``text_columns`` stay text even when they look numeric (ids).

    Raises
    ------
    InvalidInputError
        For an empty file, rows of the wrong length or bytes that are not UTF-8 (naming the line).
    """
    p = Path(path)
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


def _cmd_tier(args: argparse.Namespace, console: _Printer) -> int:
    from .tiering import make_policy, tier_report

    config: str | None = None
    if args.config is not None:
        candidate = Path(args.config)
        config = candidate.read_text(encoding="utf-8") if candidate.exists() else args.config
    policy = make_policy(args.policy, config)
    columns = read_columns_csv(args.input)
    if args.history_columns:
        missing = [c for c in args.history_columns if c not in columns]
        if missing:
            raise InvalidInputError(f"--history-columns names columns the input lacks: {missing}.")
        columns["history"] = np.column_stack([columns.pop(c) for c in args.history_columns]).astype(np.float64)
    if args.value_column not in columns:
        raise InvalidInputError(
            f"The input has no column {args.value_column!r} (--value-column); columns are {sorted(columns)}."
        )
    # Policies rank on 'value' (and 'monetary'/'recency'... for RFM): the chosen value column is 'value'.
    columns.setdefault("value", columns[args.value_column])
    assignment, text = tier_report(policy, columns, value_column=args.value_column)
    console.print(text.rstrip("\n"))
    if args.output:
        out = Path(args.output)
        write_csv(out, assignment.to_columns(explain=args.explain))
        console.print(f"tiers written to {out}")
    return 0


def _cmd_binding(args: argparse.Namespace, console: _Printer) -> int:
    from .binding import cli_report

    console.print(cli_report(args.directory, as_of=args.as_of, top=args.top, config=args.config,
                             handover=args.handover).rstrip("\n"))
    return 0


def demo_tiering(console: _Printer, values: npt.NDArray[np.float64], customer_id: npt.NDArray[Any] | None) -> None:
    """Print the 5A value-tier inventory and the key customers of the demo's CLV values."""
    from .tiering import FiveA, KeyCustomers, format_inventory, inventory

    columns: dict[str, Any] = {"value": values}
    if customer_id is not None:
        columns["customer_id"] = customer_id
    five_a = FiveA().assign(columns)
    console.print(format_inventory(inventory(values, five_a), title="5A value tiers of the CLV above").rstrip("\n"))
    key = KeyCustomers().assign(columns)
    share = float(values[key.codes == 1].sum() / values.sum()) if values.sum() > 0 else 0.0
    console.print(f"Key customers (top 20% by CLV): {int(np.count_nonzero(key.codes == 1)):,} customers "
                  f"holding {share:.1%} of customer equity")


def demo_referrals(console: _Printer, direct: Any, customer_id: npt.NDArray[Any], top: int,
                   output: Path | None = None) -> None:
    """Direct, indirect and total value of the top customers over a SYNTHETIC referral layer.

    The CDNOW sample has no referral data; :func:`clvkit.valuation.synthetic_referrals` draws a clearly
    labelled layer so the demo can show the composite value. Written to ``composite_synthetic.csv`` (never
    into ``scores.csv``, which stays real data).
    """
    from .valuation import CompositeValue, format_value_table, synthetic_referrals

    graph = synthetic_referrals(customer_id, seed=2024)
    composite = CompositeValue(direct=direct, indirect=graph).evaluate(customer_id=customer_id)
    if top > 0:
        console.print(format_value_table(composite, top).rstrip("\n"))
    if output is not None:
        output.mkdir(parents=True, exist_ok=True)
        write_csv(output / "composite_synthetic.csv", composite.to_columns())
        console.print(f"synthetic composite values written to {output / 'composite_synthetic.csv'}")


def add_referral_options(score: argparse.ArgumentParser, positive_int: Callable[[str], int],
                         fraction: Callable[[str], float]) -> None:
    """``clvkit score`` options for indirect (referral) value and a pluggable value engine."""
    g = score.add_argument_group("indirect value")
    g.add_argument("--referrals", metavar="FILE",
                   help="referral CSV with columns referrer,referred[,time]; adds indirect value")
    g.add_argument("--on-cycle", choices=("error", "break"), default="error",
                   help="referral cycles: reject (default) or drop the latest edge of each cycle")
    g.add_argument("--referral-levels", type=positive_int, default=1,
                   help="levels of referrals credited (default 1)")
    g.add_argument("--referral-decay", type=fraction, default=0.5,
                   help="credit kept per further level, in [0, 1] (default 0.5)")
    g.add_argument("--engine", metavar="MODULE:NAME",
                   help="a value engine (clvkit.valuation.ValueEngine) for the direct part instead of clv()")


def score_composite(console: _Printer, args: argparse.Namespace, scores: Any, top: int) -> None:
    """After ``clvkit score``: the composite (direct + indirect) table when referrals or an engine are given."""
    if not (args.referrals or args.engine):
        return
    from .valuation import (
        AttributionRule,
        CompositeValue,
        engine_values,
        format_value_table,
        load_engine,
        read_referrals,
    )

    s = scores.summary
    direct = scores.result if not args.engine else engine_values(load_engine(args.engine), s, where="--engine")
    graph = read_referrals(args.referrals, customer_ids=s.customer_id, on_cycle=args.on_cycle) \
        if args.referrals else None
    if graph is not None and graph.broken:
        console.print(f"{len(graph.broken)} referral cycle(s) broken; dropped {list(graph.broken[:5])}")
    rule = AttributionRule(max_levels=args.referral_levels, decay=args.referral_decay) if graph is not None else None
    composite = CompositeValue(direct=direct, indirect=graph, attribution=rule).evaluate(customer_id=s.customer_id)
    if top > 0:
        console.print()
        console.print(format_value_table(composite, top).rstrip("\n"))
    out = Path(args.output)
    composite_path = out.with_name(out.stem + "_composite.csv")
    write_csv(composite_path, composite.to_columns())
    console.print(f"composite values written to {composite_path}")


def add_subcommands(sub: Any, common: argparse.ArgumentParser,
                    non_negative_int: Callable[[str], int]) -> None:
    """Register ``tier`` and ``binding`` on the main parser's subcommands."""
    from .tiering import POLICIES

    tier = sub.add_parser(
        "tier", parents=[common], help="assign tiers (5A, key customers, stars, RFM, matrices, loyalty, lifecycle)",
        description="Assign customers to tiers with a tiering policy and print the inventory (count, value and "
                    "share per tier, concentration, Gini).")
    tier.add_argument("input", metavar="INPUT", help="CSV with one row per customer (e.g. scores.csv)")
    tier.add_argument("--policy", required=True, choices=sorted(POLICIES), help="tiering policy")
    tier.add_argument("--config", metavar="JSON", help="policy configuration: JSON text or a JSON file")
    tier.add_argument("--value-column", default="value", metavar="COL",
                      help="column with the customers' values for the inventory (default 'value')")
    tier.add_argument("--history-columns", nargs="+", metavar="COL",
                      help="period value columns, oldest first (the loyalty policy's history)")
    tier.add_argument("--output", "-o", metavar="FILE", help="CSV file for the per-customer tiers")
    tier.add_argument("--explain", action="store_true", help="add the rule that placed each customer")
    tier.set_defaults(handler=_cmd_tier)

    binding = sub.add_parser(
        "binding", parents=[common], help="binding report: coverage, concentration, value at risk",
        description="How firmly each customer is tied to the company rather than to one employee: "
                    "hierarchical/industry/project binding, concentration, value at risk, hand-overs.")
    binding.add_argument("directory", nargs="?", metavar="DIR",
                         help="folder with employees, contacts, relationships, touchpoints (+ industry_ties, "
                              "projects, project_members, customers) as .csv/.csv.gz/.parquet; default: the "
                              "bundled synthetic sample")
    binding.add_argument("--as-of", metavar="DATE", help="ISO 8601 date/time described (default: latest touchpoint)")
    binding.add_argument("--top", type=non_negative_int, default=10, help="rows per table (default 10)")
    binding.add_argument("--config", metavar="JSON", help="BindingConfig JSON file")
    binding.add_argument("--handover", action="extend", nargs="+", metavar="EMPLOYEE",
                         help="employees whose hand-over to simulate (default: announced departures, else the "
                              "top risk)")
    binding.set_defaults(handler=_cmd_binding)
