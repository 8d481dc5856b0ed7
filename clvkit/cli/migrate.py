"""``clvkit migrate BEFORE AFTER``: how customers moved between tiers from one period to the next.

The inputs are two files of the same customers at two dates: two tier files of ``clvkit tier --output``, or two
value files (``clvkit score`` outputs, any CSV with a value per customer) with ``--policy``, which assigns the
tiers of each period. Two files rather than one transaction log with two cut dates: the tiers a team acts on
are the ones it assigned and kept each period (or exported from its CRM), and comparing them needs no model
refitted on a truncated log; a log is turned into one period's scores by ``clvkit score``.

The report is the migration matrix (rows: tier before, columns: tier after), the share of customers who stayed,
moved up or moved down, and per tier where its customers went. ``--output`` writes one row per customer
(``customer_id``, ``tier_before``, ``tier_after``, ``change`` = up/down/same/new/gone, ``steps``), atomically.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .._csvio import write_csv
from ..errors import InvalidInputError
from ..i18n import LANGUAGES, Translator, default_language
from ._args import Parents
from ._console import Console
from ._output import check_outputs
from ._tiers import TEXT_COLUMNS, TierInput, add_tier_options, config_file, labels_of_files, read_tiers, tier_labels
from .tier import read_columns_csv

__all__ = ["migration_columns", "migration_text", "register", "run"]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], parents: Parents) -> None:
    """Add ``migrate`` to the subcommands."""
    migrate = sub.add_parser(
        "migrate", parents=[parents.common], help="tier migration between two periods (who moved up or down)",
        description="Compare the tiers of the same customers at two dates: the migration matrix, the share who "
                    "stayed, moved up or moved down, and per tier where its customers went. Inputs: two tier files "
                    "of 'clvkit tier --output', or two value files (e.g. scores.csv of 'clvkit score') with --policy.")
    migrate.add_argument("before", metavar="BEFORE", help="CSV of the earlier period, one row per customer")
    migrate.add_argument("after", metavar="AFTER", help="CSV of the later period, one row per customer")
    add_tier_options(migrate)
    migrate.add_argument("--lang", choices=LANGUAGES, default=None,
                         help="language of the report: zh or en (default: from the locale)")
    migrate.add_argument("--output", "-o", metavar="FILE",
                         help="CSV with one row per customer: tier before and after, change, steps")
    migrate.add_argument("--force", action="store_true", help="replace an existing --output file")
    migrate.set_defaults(handler=run)


def run(args: argparse.Namespace, console: Console) -> int:
    """Run ``clvkit migrate``; return the exit status."""
    from ..tiering import migration

    tr = Translator(args.lang or default_language())
    before_path, after_path = Path(args.before), Path(args.after)
    if args.output:
        check_outputs([Path(args.output)], [before_path, after_path, *config_file(args)], force=args.force)
    if args.policy is None:
        files = [(p, read_columns_csv(p, text_columns=TEXT_COLUMNS)) for p in (before_path, after_path)]
        labels = tier_labels(args) or labels_of_files(files)
        before = read_tiers(before_path, args, labels=labels, columns=files[0][1])
        after = read_tiers(after_path, args, labels=labels, columns=files[1][1])
    else:
        before, after = read_tiers(before_path, args), read_tiers(after_path, args)
    for item in (before, after):
        if item.assignment.customer_id is None:
            raise InvalidInputError(f"{item.path} has no 'customer_id' column; the two periods are matched by "
                                    f"customer id.")
    m = migration(before.assignment, after.assignment)
    console.print(migration_text(m, before, after, tr))
    if args.output:
        out = Path(args.output)
        write_csv(out, migration_columns(before, after))
        console.print(tr("Customers' moves written to {path}", path=str(out)))
    return 0


def _order(n: int, ordered: bool) -> list[int]:
    return list(range(n - 1, -1, -1)) if ordered else list(range(n))


def migration_text(m: Any, before: TierInput, after: TierInput, tr: Translator) -> str:
    """The migration report in the translator's language."""
    from .._texttable import table_lines
    from ..tiering import tier_names

    ordered = m.up_rate is not None
    order = _order(len(m.labels), ordered)
    # Row names carry the rank ("A1 (highest)"); the matrix's columns keep the short names.
    ranked = tier_names(m.labels, ordered=ordered, lang=tr.lang)
    short = tier_names(m.labels, ordered=False, lang=tr.lang)
    lines = [tr("Tier migration from {before} to {after}: {count} customers in both periods.",
                before=before.path.name, after=after.path.name, count=f"{m.n_customers:,}")]
    if ordered:
        lines.append(tr("Stayed in their tier: {stayed}; moved up: {up}; moved down: {down}.",
                        stayed=f"{m.stay_rate:.1%}", up=f"{m.up_rate:.1%}", down=f"{m.down_rate:.1%}"))
        lines.append(tr("Tiers are listed from the highest ({top}) to the lowest ({bottom}); moving up means a "
                        "higher tier.", top=short[m.labels[-1]], bottom=short[m.labels[0]]))
    else:
        lines.append(tr("Stayed in their segment: {stayed} (the segments have no rank, so no move is up or down).",
                        stayed=f"{m.stay_rate:.1%}"))
    lines.append(tr("New customers (only in the later period): {new}; customers gone (only in the earlier period): "
                    "{gone}.", new=f"{m.n_entered:,}", gone=f"{m.n_left:,}"))
    lines.append("")
    lines.append(tr("Customers by tier before (rows) and after (columns):"))
    corner = tr("before \\ after")
    rows = [[short[m.labels[i]], *(f"{m.counts[i, j]:,}" for j in order)] for i in order]
    lines += table_lines([corner, *(short[m.labels[j]] for j in order)], rows)
    lines.append("")
    lines.append(tr("Where each tier's customers went (share of the tier before):"))
    head = [tr("tier before"), tr("customers"), tr("stayed")]
    if ordered:
        head += [tr("moved up"), tr("moved down")]
    head.append(tr("in this tier after"))
    table_rows = []
    after_counts = m.counts.sum(axis=0)
    for i in order:
        n = int(m.counts[i].sum())
        def share(x: float, n: int = n) -> str:
            return f"{x / n:.1%}" if n else "-"
        row = [ranked[m.labels[i]], f"{n:,}", share(float(m.counts[i, i]))]
        if ordered:
            row += [share(float(m.counts[i, i + 1:].sum())), share(float(m.counts[i, :i].sum()))]
        row.append(f"{int(after_counts[i]):,}")
        table_rows.append(row)
    lines += table_lines(head, table_rows)
    lines.append(tr("\"In this tier after\" counts the customers present in both periods."))
    return "\n".join(lines)


def migration_columns(before: TierInput, after: TierInput) -> dict[str, list[Any]]:
    """One row per customer of either period: ``customer_id``, ``tier_before``, ``tier_after`` (empty when
    absent), ``change`` (up, down, same, new, gone; for unordered tiers changed instead of up/down) and
    ``steps`` (tier code after minus before; empty unless in both periods and the tiers are ordered)."""
    a, b = before.assignment, after.assignment
    ids_b = [str(v) for v in a.customer_id.tolist()]
    ids_a = [str(v) for v in b.customer_id.tolist()]
    after_pos = {c: i for i, c in enumerate(ids_a)}
    ids: list[str] = []
    tb: list[str] = []
    ta: list[str] = []
    change: list[str] = []
    steps: list[Any] = []
    for i, cid in enumerate(ids_b):
        j = after_pos.get(cid)
        ids.append(cid)
        tb.append(a.labels[int(a.codes[i])])
        if j is None:
            ta.append("")
            change.append("gone")
            steps.append("")
            continue
        ta.append(b.labels[int(b.codes[j])])
        d = int(b.codes[j]) - int(a.codes[i])
        if a.ordered and b.ordered:
            steps.append(d)
            change.append("same" if d == 0 else "up" if d > 0 else "down")
        else:
            steps.append("")
            change.append("same" if d == 0 else "changed")
    seen = set(ids_b)
    for j, cid in enumerate(ids_a):
        if cid not in seen:
            ids.append(cid)
            tb.append("")
            ta.append(b.labels[int(b.codes[j])])
            change.append("new")
            steps.append("")
    return {"customer_id": ids, "tier_before": tb, "tier_after": ta, "change": change, "steps": steps}
