"""``clvkit budget INPUT``: a ring-fenced maintenance budget per tier, and what it means per customer.

Each tier's budget is spent on that tier's customers only - "维护不同等级客户的费用专款专用" (the upkeep of each grade
of customer is money for that purpose only; 张子凡 CRM notes, text 003). The tiers come from a tier file of
``clvkit tier --output`` or from a value file with ``--policy`` (see ``clvkit migrate``); the budget is a total
with a share per tier (``--total 100000 --shares A1=0.4,A2=0.3,...``) or JSON (``--budget``: amounts per tier,
``{"A1": 40000, ...}``, or ``{"total": 100000, "shares": {"A1": 0.4, ...}}``). The split itself is the user's:
clvkit proposes no shares. The report is :func:`clvkit.tiering.budget_allocation` per tier (budget, customers,
budget per customer and, with values, value per unit of budget); ``--output`` writes it as a CSV, atomically.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

from .._csvio import write_csv
from ..errors import InvalidInputError
from ..i18n import LANGUAGES, Translator, default_language
from ._args import Parents, amount
from ._console import Console
from ._output import check_outputs, json_option, parse_json_text
from ._tiers import add_tier_options, config_file, read_tiers

__all__ = ["budget_amounts", "budget_columns", "budget_text", "register", "run"]

#: How far budget shares may sum from 1 (rounding in hand-written shares such as 1/3).
SHARE_TOLERANCE = 1e-6


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], parents: Parents) -> None:
    """Add ``budget`` to the subcommands."""
    budget = sub.add_parser(
        "budget", parents=[parents.common], help="ring-fenced budget per tier (budget per customer)",
        description="Spread a ring-fenced maintenance budget over the tiers: each tier's budget is spent on that "
                    "tier's customers only. Input: a tier file of 'clvkit tier --output', or a value file (e.g. "
                    "scores.csv) with --policy.")
    budget.add_argument("input", metavar="INPUT", help="CSV with one row per customer")
    add_tier_options(budget)
    g = budget.add_argument_group("budget")
    g.add_argument("--total", type=amount, metavar="AMOUNT", help="the whole budget, split by --shares")
    g.add_argument("--shares", metavar="TIER=SHARE,...",
                   help="share of --total per tier, e.g. A1=0.4,A2=0.3,A3=0.2,A4=0.1,A5=0 (summing to 1; "
                        "tiers left out get 0)")
    g.add_argument("--budget", metavar="JSON",
                   help='the budget as JSON text or a JSON file: amounts per tier {"A1": 40000, ...}, or '
                        '{"total": 100000, "shares": {"A1": 0.4, ...}}')
    budget.add_argument("--lang", choices=LANGUAGES, default=None,
                        help="language of the report: zh or en (default: from the locale)")
    budget.add_argument("--output", "-o", metavar="FILE", help="CSV with the budget per tier")
    budget.add_argument("--force", action="store_true", help="replace an existing --output file")
    budget.set_defaults(handler=run)


def run(args: argparse.Namespace, console: Console) -> int:
    """Run ``clvkit budget``; return the exit status."""
    from ..tiering import budget_allocation

    tr = Translator(args.lang or default_language())
    if (args.budget is None) == (args.total is None and args.shares is None):
        raise InvalidInputError("Give the budget either as --total with --shares, or as --budget JSON (not both).")
    if args.budget is None and (args.total is None or args.shares is None):
        raise InvalidInputError("--total and --shares go together: the total and each tier's share of it.")
    budget_file = [] if args.budget is None or args.budget.lstrip().startswith(("{", "[")) else [Path(args.budget)]
    if args.output:
        check_outputs([Path(args.output)], [Path(args.input), *config_file(args), *budget_file], force=args.force)
    item = read_tiers(args.input, args, labels=None)
    labels = item.assignment.labels
    amounts, shares = budget_amounts(args, labels)
    alloc = budget_allocation(item.assignment, amounts, values=item.values)
    console.print(budget_text(alloc, shares, item.assignment.ordered, tr))
    if args.output:
        out = Path(args.output)
        write_csv(out, budget_columns(alloc, item.assignment.ordered))
        console.print(tr("Budget per tier written to {path}", path=str(out)))
    return 0


def _shares_text(text: str, labels: tuple[str, ...]) -> dict[str, float]:
    out: dict[str, float] = {}
    for part in text.split(","):
        name, sep, value = part.partition("=")
        name = name.strip()
        try:
            share = float(value) if sep else math.nan
        except ValueError:
            share = math.nan
        if not sep or not name or not (math.isfinite(share) and 0.0 <= share <= 1.0):
            raise InvalidInputError(f"--shares takes TIER=SHARE pairs separated by commas, each share in [0, 1] "
                                    f"(e.g. {labels[-1]}=0.4); got {part.strip()!r}.")
        if name in out:
            raise InvalidInputError(f"--shares names tier {name!r} twice.")
        out[name] = share
    return out


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise InvalidInputError(f"{where} must be a finite number >= 0; got {value!r}.")
    return float(value)


def budget_amounts(args: argparse.Namespace, labels: tuple[str, ...]) -> tuple[dict[str, float], dict[str, float]]:
    """The amount and the share of the total per tier, from ``--total``/``--shares`` or ``--budget``."""
    if args.budget is None:
        total = float(args.total)
        shares = _shares_text(args.shares, labels)
        where = "--shares"
    else:
        text, path = json_option(args.budget, "--budget")
        where = "The --budget JSON" if path is None else f"The --budget file {path}"
        doc = parse_json_text(text, where)
        if not isinstance(doc, dict) or not doc:
            raise InvalidInputError(f'{where} must be an object: {{"A1": 40000, ...}} or {{"total": 100000, '
                                    f'"shares": {{"A1": 0.4, ...}}}}.')
        if "total" in doc or "shares" in doc:
            extra = sorted(set(doc) - {"total", "shares"})
            if extra or not isinstance(doc.get("shares"), dict) or "total" not in doc:
                raise InvalidInputError(f'{where} with a total needs exactly "total" (a number) and "shares" (an '
                                        f'object of tier to share){f"; unexpected {extra}" if extra else ""}.')
            total = _number(doc["total"], f'{where}: "total"')
            shares = {str(k): _number(v, f"{where}: the share of {k!r}") for k, v in doc["shares"].items()}
        else:
            amounts = {str(k): _number(v, f"{where}: the amount of {k!r}") for k, v in doc.items()}
            _check_names(amounts, labels, where)
            total = sum(amounts.values())
            shares = {k: (v / total if total > 0 else 0.0) for k, v in amounts.items()}
            return amounts, shares
    _check_names(shares, labels, where)
    bad = {k: v for k, v in shares.items() if v > 1.0}
    if bad:
        raise InvalidInputError(f"{where}: shares must lie in [0, 1]; got {bad}.")
    s = sum(shares.values())
    if abs(s - 1.0) > SHARE_TOLERANCE:
        raise InvalidInputError(f"{where}: the shares sum to {s:g}, not 1. Give every tier's share of the total "
                                f"(tiers left out get 0).")
    return {k: total * v for k, v in shares.items()}, shares


def _check_names(given: dict[str, float], labels: tuple[str, ...], where: str) -> None:
    unknown = [k for k in given if k not in labels]
    if unknown:
        raise InvalidInputError(f"{where} names tiers {unknown[:5]} that the input does not have; its tiers are "
                                f"{list(labels)}.")


def _order(n: int, ordered: bool) -> list[int]:
    return list(range(n - 1, -1, -1)) if ordered else list(range(n))


def budget_text(alloc: Any, shares: dict[str, float], ordered: bool, tr: Translator) -> str:
    """The budget report in the translator's language."""
    from .._texttable import table_lines
    from ..tiering import tier_names

    ranked = tier_names(alloc.labels, ordered=ordered, lang=tr.lang)
    short = tier_names(alloc.labels, ordered=False, lang=tr.lang)
    total = float(alloc.budget.sum())
    lines = [tr("Ring-fenced budget per tier: total {total}. Each tier's budget is spent on that tier's customers "
                "only.", total=f"{total:,.2f}")]
    head = [tr("tier"), tr("budget share"), tr("budget"), tr("customers"), tr("budget per customer")]
    with_values = alloc.values is not None
    if with_values:
        head += [tr("value"), tr("value per unit of budget")]
    rows = []
    for k in _order(len(alloc.labels), ordered):
        lab = alloc.labels[k]
        row = [ranked[lab], f"{shares.get(lab, 0.0):.1%}", f"{alloc.budget[k]:,.2f}", f"{int(alloc.counts[k]):,}",
               f"{alloc.per_customer[k]:,.2f}" if alloc.counts[k] else "-"]
        if with_values:
            row += [f"{alloc.values[k]:,.2f}", f"{alloc.value_per_budget[k]:,.2f}" if alloc.budget[k] > 0 else "-"]
        rows.append(row)
    n = int(alloc.counts.sum())
    total_row = [tr("total"), f"{sum(shares.values()):.1%}", f"{total:,.2f}", f"{n:,}",
                 f"{(total - alloc.unspent) / n:,.2f}" if n else "-"]
    if with_values:
        v = float(alloc.values.sum())
        total_row += [f"{v:,.2f}", f"{v / total:,.2f}" if total > 0 else "-"]
    rows.append(total_row)
    lines += table_lines(head, rows)
    if alloc.unspent > 0:
        lines.append(tr("Unspent: {amount} (the budget of tiers without customers stays with them; it does not move "
                        "to other tiers). The total's budget per customer counts the budget spent only.",
                        amount=f"{alloc.unspent:,.2f}"))
    if ordered:
        lines.append(tr("Tiers are listed from the highest ({top}) to the lowest ({bottom}).",
                        top=short[alloc.labels[-1]], bottom=short[alloc.labels[0]]))
    lines.append(tr("Ring-fencing: 张子凡 CRM notes (text 003) ask that each grade of customer's upkeep budget be "
                    "spent on that grade only. The shares are yours; clvkit proposes none."))
    if with_values:
        lines.append(tr("Value per unit of budget: the tier's total value divided by its budget."))
    return "\n".join(lines)


def budget_columns(alloc: Any, ordered: bool) -> dict[str, list[Any]]:
    """The columns of ``--output``: one row per tier (highest first when ordered)."""
    order = _order(len(alloc.labels), ordered)
    total = float(alloc.budget.sum())
    cols: dict[str, list[Any]] = {
        "tier": [alloc.labels[k] for k in order],
        "budget_share": [float(alloc.budget[k]) / total if total > 0 else 0.0 for k in order],
        "budget": [float(alloc.budget[k]) for k in order],
        "customers": [int(alloc.counts[k]) for k in order],
        "budget_per_customer": [float(alloc.per_customer[k]) for k in order],
    }
    if alloc.values is not None:
        cols["value"] = [float(alloc.values[k]) for k in order]
        cols["value_per_budget"] = [float(alloc.value_per_budget[k]) for k in order]
    return cols
