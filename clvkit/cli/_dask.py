"""The Dask route of ``clvkit fit`` and ``clvkit score``: a Parquet folder or glob as the log, ``--dask [ADDRESS]``.

A log given as a folder or a glob (``'logs/*.parquet'``), or any log with ``--dask``, is summarized by
:func:`clvkit.dask.summarize` (partitioned by customer); ``fit`` fits on the compressed counts (the same estimates as
in memory), ``score`` scores partition by partition and writes Parquet (a folder of part files) or one CSV file.
``--dask`` alone, or ``--dask local``, starts a ``distributed.LocalCluster`` of ``--workers`` processes for the
command; ``--dask tcp://host:8786`` uses a running scheduler, whose workers read the log and write the scores
themselves: both paths must be reachable from them (a shared file system). Without ``--dask`` a folder or glob is
read on Dask's local scheduler. Progress: Dask's progress bar on stderr (local scheduler), the steps and the
dashboard address (cluster).
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import logging
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from .._frames import require
from .._texttable import table_lines
from ..errors import InvalidInputError
from ._args import date_option, positive_int
from ._console import UNIT_NAMES, Console, money
from ._folder import SummarySettings

__all__ = ["add_dask_options", "dask_session", "holdout_totals", "print_dask_scores", "refuse", "summarize_with_dask",
           "uses_dask", "write_dask_scores"]

#: Worker processes of ``--dask local`` without ``--workers``.
DEFAULT_WORKERS = 2


def add_dask_options(parser: argparse.ArgumentParser) -> None:
    """``--dask [ADDRESS]`` and ``--workers N``."""
    g = parser.add_argument_group("Dask (a Parquet folder or glob, or a log larger than memory)")
    g.add_argument("--dask", nargs="?", const="local", default=None, metavar="ADDRESS",
                   help="summarize and score with Dask: 'local' (the default when no address is given) starts a "
                        "local cluster of --workers processes; an address such as tcp://host:8786 uses a running "
                        "scheduler. A Parquet folder or glob as INPUT uses Dask even without this option (its "
                        "local scheduler)")
    g.add_argument("--workers", type=positive_int, metavar="N",
                   help=f"worker processes of --dask local (default {DEFAULT_WORKERS})")


def is_dataset(path: str) -> bool:
    """A folder or a glob: a Parquet dataset, read with Dask."""
    return glob.has_magic(path) or Path(path).is_dir()


def uses_dask(args: argparse.Namespace) -> bool:
    """Whether the command takes the Dask route (``--dask``, or a folder or glob as the log)."""
    if args.workers is not None and args.dask not in (None, "local"):
        raise InvalidInputError("--workers sets the size of a local cluster (--dask local); a running scheduler "
                                "(--dask ADDRESS) has its own workers.")
    if args.workers is not None and args.dask is None:
        raise InvalidInputError("--workers needs --dask (or --dask local): it sets the local cluster's size.")
    return args.dask is not None or is_dataset(args.input)


def refuse(option: str, given: Any) -> None:
    """A typed error for an option the Dask route does not take."""
    if given:
        raise InvalidInputError(f"{option} is not available with Dask (--dask, or a Parquet folder or glob as the "
                                f"log); run without Dask on a single log file to use it.")


@contextlib.contextmanager
def dask_session(args: argparse.Namespace, console: Console) -> Iterator[Any]:
    """The ``distributed.Client`` of ``--dask`` (started and closed here for ``local``), or ``None``."""
    if args.dask is None:
        with _local_progress(console):
            yield None
        return
    distributed = require("distributed")
    if args.dask == "local":
        n = args.workers or DEFAULT_WORKERS
        with console.step(console.tr("starting a local Dask cluster of {count} workers", count=n)):
            # Only errors from the cluster's own loggers: its warnings (a shuffle deactivated ...) are not for users.
            cluster = distributed.LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                               dashboard_address=":0", silence_logs=logging.ERROR)
            client = distributed.Client(cluster)
        try:
            yield client
        finally:
            client.close()
            cluster.close()
        return
    with console.step(console.tr("connecting to the Dask scheduler {address}", address=args.dask)) as add:
        try:
            client = distributed.Client(args.dask, timeout="20s")
        except (OSError, TimeoutError) as exc:
            raise InvalidInputError(f"--dask {args.dask}: cannot connect to a Dask scheduler there ({exc}). Give the "
                                    f"scheduler's address (tcp://host:8786) or --dask local.") from None
        add(console.tr("{count} workers", count=len(client.scheduler_info().get("workers", {}))))
    link = getattr(client, "dashboard_link", None)
    if link:
        console.note(console.tr("Dask dashboard (progress): {link}", link=link))
    try:
        yield client
    finally:
        client.close()


@contextlib.contextmanager
def _local_progress(console: Console) -> Iterator[None]:
    """Dask's progress bar on stderr for the local scheduler (not with ``--quiet``)."""
    if console.quiet:
        yield
        return
    diagnostics = require("dask.diagnostics")
    with diagnostics.ProgressBar(out=console.err or sys.stderr, minimum=1.0):
        yield


def summarize_with_dask(args: argparse.Namespace, console: Console, settings: SummarySettings, client: Any) -> Any:
    """:func:`clvkit.dask.summarize` of the log with the settings, in the settings' time unit, kept in memory."""
    from .. import dask as clvdask

    calibration_end = date_option(args.calibration_end, "--calibration-end", settings.date_format)
    observation_end = date_option(args.observation_end, "--observation-end", settings.date_format)
    refuse("--date-format", settings.date_format)
    refuse("--delimiter", args.delimiter)
    if args.format not in (None, "parquet"):
        raise InvalidInputError("With Dask the log is Parquet (a file, a folder or a glob); --format csv is not "
                                "available.")
    with console.step(console.tr("summarizing {path} with Dask (periods of {freq}, time in {unit})",
                                 path=args.input, freq=settings.freq, unit=settings.time_unit)) as add:
        summary = clvdask.summarize(args.input, customer_id=settings.customer_id, datetime=settings.datetime,
                                    monetary_value=settings.monetary_value, freq=settings.freq,
                                    observation_end=observation_end, calibration_end=calibration_end,
                                    time_unit=settings.time_unit, refunds=args.refunds, client=client)
        summary = summary.persist()  # summarized once for the counts, the fit and the scores
        add(console.tr("{rows} rows, {count} customers", rows=f"{summary.n_rows:,}",
                       count=f"{summary.n_customers:,}"))
    return summary


def holdout_totals(summary: Any, model: Any) -> tuple[float, float] | None:
    """Predicted and actual repeat purchases over the holdout period, summed over the partitions (or ``None``)."""
    from ..dask import _compute

    if summary.duration_holdout is None:
        return None
    parts = summary.to_dask().map_partitions(_part_holdout, model, summary.duration_holdout, summary.time_unit,
                                             meta={"predicted": "f8", "actual": "f8"})
    (totals,) = _compute("the holdout check", summary._client, parts)
    return float(totals["predicted"].sum()), float(totals["actual"].sum())


def _part_holdout(frame: Any, model: Any, duration: float, time_unit: str) -> Any:
    from ..batch import CustomerSummary

    pd = require("pandas")
    if len(frame) == 0:
        return pd.DataFrame({"predicted": [0.0], "actual": [0.0]})
    s = CustomerSummary(frequency=frame["frequency"].to_numpy(), recency=frame["recency"].to_numpy(),
                        T=frame["T"].to_numpy(), time_unit=time_unit, _validate=False)
    predicted = float(np.sum(model.expected_purchases(s, duration)))
    return pd.DataFrame({"predicted": [predicted], "actual": [float(frame["frequency_holdout"].sum())]})


def write_dask_scores(output: Path, scores: Any, console: Console, client: Any) -> None:
    """The scores as Parquet (a folder of part files, for ``.parquet``/``.pq``) or one CSV file, replaced whole."""
    from ..dask import _compute

    tmp = output.with_name(f".{output.name}.tmp-{os.getpid()}")
    frame = scores.reset_index()
    whole = {c: "int64" for c in ("frequency", "frequency_holdout") if c in frame.columns}
    frame = frame.astype(whole)  # counts, written as in memory
    try:
        if output.suffix.lower() in (".parquet", ".pq"):
            _compute("the scores", client, frame.to_parquet(str(tmp), write_index=False, compute=False))
        else:
            _compute("the scores", client, *frame.to_csv(str(tmp), single_file=True, index=False, compute=False))
        if output.is_dir() and not output.is_symlink():
            shutil.rmtree(output)
        elif output.exists() or output.is_symlink():  # a file replaced by a folder of part files (--force)
            output.unlink()
        os.replace(tmp, output)
    finally:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        elif tmp.exists():
            tmp.unlink()


def print_dask_scores(console: Console, scores: Any, summary: Any, top: int, period_label: str, args: Any,
                      client: Any) -> None:
    """The top customers by CLV and the customer equity, from the Dask scores."""
    from ..dask import _compute
    from ._scoring import _period_words

    tr = console.tr
    unit = tr(UNIT_NAMES.get(summary.time_unit, summary.time_unit))
    one, many = _period_words(period_label, tr)
    what = tr("{horizon} {periods} at {rate}% per {period}, margin {margin}", horizon=args.horizon, periods=many,
              rate=f"{args.discount_rate * 100:g}", period=one, margin=f"{args.margin * 100:g}%")
    best, equity = _compute("the top customers", client, scores.nlargest(max(top, 1), "clv"), scores["clv"].sum())
    if top > 0:
        console.print(tr("Top {count} customers by CLV ({settings}):", count=min(top, len(best)), settings=what))
        headers = [tr("customer"), tr("repeat purchases"), tr("last purchase at ({unit})", unit=unit),
                   tr("age T ({unit})", unit=unit), tr("P(alive)"), tr("E[purchases]"), tr("E[spend]"), tr("CLV")]
        rows = []
        for cid, row in best.head(top).iterrows():
            rows.append([str(cid), f"{row['frequency']:.0f}", f"{row['recency']:.2f}", f"{row['T']:.2f}",
                         f"{row['p_alive']:.3f}" if "p_alive" in row else tr("n/a"),
                         f"{row['expected_purchases']:.2f}", money(float(row["expected_spend"])),
                         money(float(row["clv"]))])
        for line in table_lines(headers, rows, indent="  "):
            console.print(line)
    console.print(tr("Customer equity ({count} customers, {settings}): {equity}", count=f"{summary.n_customers:,}",
                     settings=what, equity=money(float(equity))))
