"""``clvkit fit LOG --customer-id C --datetime D [--monetary-value M]``: fit models on a transaction log.

Summarizes the log (CSV or Parquet), fits BG/NBD (and Gamma-Gamma when amounts are given) and saves the
models as versioned JSON, with the summary settings, in a folder that ``clvkit score`` reads.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from .._timeunits import UNIT_DAYS
from ..errors import InvalidInputError
from ._args import Parents
from ._console import UNIT_NAMES, Console
from ._covariates import DESIGN_FILE, coefficient_block, read_covariates
from ._fitting import fit_models, holdout_check, param_block, read_and_summarize
from ._folder import FIT_FILES, SummarySettings, text_writer, write_folder
from ._output import check_outputs

__all__ = ["register", "run"]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], parents: Parents) -> None:
    """Add ``fit`` to the subcommands."""
    fit = sub.add_parser("fit", parents=[parents.common, parents.log],
                         help="fit BG/NBD (+ Gamma-Gamma) on a transaction log",
                         description="Summarize a transaction log, fit BG/NBD (and Gamma-Gamma when "
                                     "--monetary-value is given) and save the models as JSON.")
    fit.add_argument("--customer-id", required=True, metavar="COL", help="customer id column")
    fit.add_argument("--datetime", required=True, metavar="COL", help="transaction time column")
    fit.add_argument("--monetary-value", metavar="COL", help="amount column (fits Gamma-Gamma too)")
    fit.add_argument("--freq", default="D", choices=list(UNIT_DAYS),
                     help="period in which purchases are counted once (default D)")
    fit.add_argument("--time-unit", default="W", choices=list(UNIT_DAYS),
                     help="time unit of recency, T and the parameters (default W, as the papers)")
    fit.add_argument("--output", "-o", default="clvkit-model", metavar="DIR",
                     help="directory for the JSON models (default ./clvkit-model)")
    fit.add_argument("--force", action="store_true", help="replace an existing model directory")
    fit.add_argument("--covariates", metavar="FILE",
                     help="static covariates of BG/NBD's purchase and dropout processes: CSV or Parquet, one row per "
                          "customer, the id column named as --customer-id")
    fit.add_argument("--covariate-columns", nargs="+", metavar="COL",
                     help="the covariate columns of --covariates (default: every column but the id)")
    fit.set_defaults(handler=run)


def run(args: argparse.Namespace, console: Console) -> int:
    """Run ``clvkit fit``; return the exit status."""
    settings = SummarySettings(customer_id=args.customer_id, datetime=args.datetime,
                               monetary_value=args.monetary_value, freq=args.freq, time_unit=args.time_unit,
                               date_format=args.date_format)
    if args.covariate_columns and not args.covariates:
        raise InvalidInputError("--covariate-columns needs --covariates FILE (the file holding those columns).")
    inputs = [Path(args.input)] + ([Path(args.covariates)] if args.covariates else [])
    check_outputs([Path(args.output)], inputs, force=args.force, folder=True, known=FIT_FILES)
    summary = read_and_summarize(args, console, settings)
    covariates = None
    if args.covariates:
        with console.step(console.tr("reading covariates {path}", path=args.covariates)):
            covariates = read_covariates(args.covariates, customer_id=settings.customer_id,
                                         columns=args.covariate_columns, delimiter=args.delimiter)
    repeat = int(np.count_nonzero(summary.frequency > 0))
    console.print(f"{len(summary):,} customers, {repeat:,} with repeat purchases; time unit "
                  f"{UNIT_NAMES[summary.time_unit]}")
    console.print()
    bg, gg = fit_models(console, summary, with_spend=settings.monetary_value is not None, covariates=covariates)
    param_block(console, f"BG/NBD (time unit: {UNIT_NAMES[summary.time_unit]})", bg)
    if covariates is not None:
        console.print()
        coefficient_block(console, bg)
    if gg is not None:
        console.print()
        param_block(console, "Gamma-Gamma (spend per repeat purchase)", gg)
    if summary.frequency_holdout is not None:
        console.print()
        holdout_check(console, summary, bg, covariates)
    models = [bg] if gg is None else [bg, gg]
    files = {} if covariates is None else {DESIGN_FILE: text_writer(covariates.design.to_json() + "\n")}
    return write_folder(console, Path(args.output), models, settings, files)
