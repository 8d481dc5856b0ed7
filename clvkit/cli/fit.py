"""``clvkit fit LOG --customer-id C --datetime D [--monetary-value M] [--model NAME|auto]``: fit models on a log.

Summarizes the log (CSV or Parquet), fits BG/NBD (or the model ``--model`` names; ``--model auto`` fits every
applicable model on the calibration period and keeps the one :func:`clvkit.valuation.recommend` chooses on the
holdout) and Gamma-Gamma when amounts are given, and saves the models as versioned JSON, with the summary
settings, in a folder that ``clvkit score`` reads (it loads whichever transaction model the folder holds). With
``--covariates FILE`` both BG/NBD processes take static covariates; with ``--dynamic-covariates FILE`` its
purchase process takes time-varying ones (and its dropout process the static ones, when given too).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from .._timeunits import UNIT_DAYS
from ..errors import InvalidInputError
from ._args import Parents
from ._console import UNIT_NAMES, Console
from ._covariates import (
    DESIGN_FILE,
    DYNAMIC_DESIGN_FILE,
    BoundCovariates,
    coefficient_block,
    read_covariates,
    read_dynamic_covariates,
)
from ._dask import add_dask_options, dask_session, holdout_totals, refuse, summarize_with_dask, uses_dask
from ._fitting import (
    fit_models,
    holdout_check,
    noted_warnings,
    param_block,
    print_holdout,
    read_and_summarize,
    run_fit,
)
from ._folder import (
    FIT_FILES,
    SELECTION_FILE,
    SummarySettings,
    model_file_name,
    selection_json,
    text_writer,
    write_folder,
)
from ._output import check_outputs

__all__ = ["DEFAULT_MODEL", "register", "run"]

#: The transaction model ``clvkit fit`` fits without ``--model``.
DEFAULT_MODEL = "bgnbd"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], parents: Parents) -> None:
    """Add ``fit`` to the subcommands."""
    fit = sub.add_parser("fit", parents=[parents.common, parents.log],
                         help="fit BG/NBD (+ Gamma-Gamma) on a transaction log",
                         description="Summarize a transaction log, fit BG/NBD (and Gamma-Gamma when "
                                     "--monetary-value is given) and save the models as JSON.")
    fit.add_argument("--customer-id", required=True, metavar="COL", help="customer id column")
    fit.add_argument("--model", default=DEFAULT_MODEL, metavar="NAME",
                     help="the transaction model: bgnbd (default), mbgnbd, pnbd, bgbb, cnbd, bgcnbd, mbgcnbd, "
                          "ggomnbd (the names of clvkit.valuation.MODELS), or auto: fit each that applies on the "
                          "calibration period and keep the one with the lowest holdout error per customer (needs "
                          "--calibration-end)")
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
    fit.add_argument("--dynamic-covariates", metavar="FILE",
                     help="time-varying covariates of BG/NBD's purchase process: CSV or Parquet, one row per customer "
                          "and period (e.g. week) from the first purchase on, the id column named as --customer-id; "
                          "its dropout process then takes --covariates (static) when given. Periods must start on the "
                          "boundaries of the --freq periods (--freq D, the default, fits any whole-day grid)")
    fit.add_argument("--period-column", metavar="COL",
                     help="the column of --dynamic-covariates holding each row's period start, written as the log's "
                          "times (default: period)")
    fit.add_argument("--dynamic-columns", nargs="+", metavar="COL",
                     help="the covariate columns of --dynamic-covariates (default: every column but the id and the "
                          "period)")
    add_dask_options(fit)
    fit.set_defaults(handler=run)


def run(args: argparse.Namespace, console: Console) -> int:
    """Run ``clvkit fit``; return the exit status."""
    model_name = check_model_option(args.model, args)
    if args.covariate_columns and not args.covariates:
        raise InvalidInputError("--covariate-columns needs --covariates FILE (the file holding those columns).")
    for option, given in (("--period-column", args.period_column), ("--dynamic-columns", args.dynamic_columns)):
        if given and not args.dynamic_covariates:
            raise InvalidInputError(f"{option} needs --dynamic-covariates FILE (the file of time-varying covariates).")
    period_column = (args.period_column or "period") if args.dynamic_covariates else None
    settings = SummarySettings(customer_id=args.customer_id, datetime=args.datetime,
                               monetary_value=args.monetary_value, freq=args.freq, time_unit=args.time_unit,
                               date_format=args.date_format, period_column=period_column)
    inputs = [Path(args.input)] + [Path(f) for f in (args.covariates, args.dynamic_covariates) if f]
    dask_route = uses_dask(args)
    check_outputs([Path(args.output)], inputs, force=args.force, folder=True, known=FIT_FILES + model_files())
    if dask_route:
        return _run_dask(args, console, settings, model_name)
    summary = read_and_summarize(args, console, settings)
    covariates = dynamic = None
    if args.covariates:
        with console.step(console.tr("reading covariates {path}", path=args.covariates)):
            covariates = read_covariates(args.covariates, customer_id=settings.customer_id,
                                         columns=args.covariate_columns, delimiter=args.delimiter)
    if args.dynamic_covariates:
        with console.step(console.tr("reading time-varying covariates {path}", path=args.dynamic_covariates)) as add:
            dynamic = read_dynamic_covariates(args.dynamic_covariates, customer_id=settings.customer_id,
                                              period=str(period_column), columns=args.dynamic_columns,
                                              delimiter=args.delimiter, date_format=settings.date_format)
            add(console.tr("{customers} customers, {periods} periods", customers=f"{len(dynamic):,}",
                           periods=f"{dynamic.periods.shape[0]:,}"))
    repeat = int(np.count_nonzero(summary.frequency > 0))
    console.print(f"{len(summary):,} customers, {repeat:,} with repeat purchases; time unit "
                  f"{UNIT_NAMES[summary.time_unit]}")
    console.print()
    if model_name != DEFAULT_MODEL:
        return _run_other(args, console, settings, summary, model_name)
    bg, gg = fit_models(console, summary, with_spend=settings.monetary_value is not None, covariates=covariates,
                        dynamic=dynamic, freq=settings.freq)
    param_block(console, f"BG/NBD (time unit: {UNIT_NAMES[summary.time_unit]})", bg)
    if covariates is not None or dynamic is not None:
        console.print()
        coefficient_block(console, bg)
    if dynamic is not None:
        console.print(console.tr("  purchase: time-varying covariates of {path}; dropout: {dropout}",
                                 path=args.dynamic_covariates,
                                 dropout=console.tr("static covariates of {path}", path=args.covariates)
                                 if covariates is not None else console.tr("no covariates")))
    if gg is not None:
        console.print()
        param_block(console, "Gamma-Gamma (spend per repeat purchase)", gg)
    if summary.frequency_holdout is not None:
        console.print()
        if dynamic is None:
            holdout_check(console, summary, bg, covariates)
        else:  # the covariates of the holdout period, each process its own
            holdout_check(console, summary, BoundCovariates(bg, purchase=dynamic, dropout=covariates))
    models = [bg] if gg is None else [bg, gg]
    files = {}
    if covariates is not None:
        files[DESIGN_FILE] = text_writer(covariates.design.to_json() + "\n")
    if dynamic is not None:
        files[DYNAMIC_DESIGN_FILE] = text_writer(dynamic.design.to_json() + "\n")
    return write_folder(console, Path(args.output), models, settings, files)


def check_model_option(name: str, args: argparse.Namespace) -> str:
    """``--model``: ``auto`` or a registered name, and the options it needs or refuses."""
    from ..valuation import MODELS

    if name != "auto" and name not in MODELS:
        raise InvalidInputError(f"The '--model' option must be auto or one of {list(MODELS)}. Got {name!r} instead.")
    if name == "auto" and not args.calibration_end:
        raise InvalidInputError("--model auto chooses the model by its error on a holdout period: give "
                                "--calibration-end DATE (the fit uses the purchases up to it, the check those after).")
    if name != DEFAULT_MODEL and (args.covariates or args.dynamic_covariates):
        raise InvalidInputError(f"--covariates and --dynamic-covariates fit BG/NBD; they cannot be combined with "
                                f"--model {name}. Leave --model out (or give --model {DEFAULT_MODEL}).")
    return name


def model_files() -> tuple[str, ...]:
    """The file names of the registered transaction models in a model folder (``pareto_nbd.json``, ...)."""
    from ..valuation import MODELS

    return tuple(model_file_name(type(factory()).fitted_class.model_name) for factory in MODELS.values())


def _run_other(args: argparse.Namespace, console: Console, settings: SummarySettings, summary: Any,
               name: str) -> int:
    """``fit --model NAME`` for a model other than the default, or ``--model auto``: fit, report, write."""
    from ..valuation import MODELS, format_recommendation, recommend
    from ..valuation._registry import model_entries, model_label

    tr = console.tr
    files: dict[str, Any] = {}
    if name == "auto":
        with noted_warnings(console), console.step(tr("choosing the model on the holdout period")) as add:
            rec = recommend(summary)
            add(tr("{count} models fitted", count=len(rec.models)))
        console.print(format_recommendation(rec, lang=tr.lang))
        console.print()
        name, model = rec.chosen, rec.best
        files[SELECTION_FILE] = text_writer(selection_json(rec) + "\n")
    else:
        entry = next(e for e in model_entries() if e.name == name)
        why = entry.reason_not_applicable(summary)
        if why is not None:
            raise InvalidInputError(f"--model {name} does not apply to this log as summarized: {why} On the command "
                                    f"line: --freq {settings.time_unit} --time-unit {settings.time_unit} counts each "
                                    f"{settings.time_unit} period once, as one opportunity.")
        model = run_fit(console, model_label(name), MODELS[name](), summary,
                        tr("{count} customers", count=f"{len(summary):,}"))
    param_block(console, tr("{model} (time unit: {unit})", model=model_label(name),
                            unit=tr(UNIT_NAMES[summary.time_unit])), model)
    gg = None
    if settings.monetary_value is not None:
        from ..valuation import GammaGamma

        repeat = int(np.count_nonzero(summary.frequency > 0))
        gg = run_fit(console, "Gamma-Gamma", GammaGamma(), summary,
                     tr("{count} repeat customers", count=f"{repeat:,}"))
        console.print()
        param_block(console, "Gamma-Gamma (spend per repeat purchase)", gg)
    if summary.frequency_holdout is not None:
        console.print()
        holdout_check(console, summary, model)
    models = [model] if gg is None else [model, gg]
    return write_folder(console, Path(args.output), models, settings, files)


def _run_dask(args: argparse.Namespace, console: Console, settings: SummarySettings, name: str) -> int:
    """``fit`` on the Dask route: summarize with Dask, fit on the distinct rows and their counts (the estimates of
    the in-memory fit), check the holdout partition by partition, write the folder."""
    from ..valuation import MODELS, GammaGamma
    from ..valuation._registry import model_entries, model_label

    refuse("--covariates", args.covariates)
    refuse("--dynamic-covariates", args.dynamic_covariates)
    if name == "auto":
        raise InvalidInputError("--model auto is not available with Dask (--dask, or a Parquet folder or glob as the "
                                "log): name the model with --model NAME.")
    tr = console.tr
    with dask_session(args, console) as client:
        summary = summarize_with_dask(args, console, settings, client)
        with console.step(tr("counting the distinct rows with Dask")) as add:
            compressed = summary.compress()
            add(tr("{count} distinct rows", count=f"{len(compressed):,}"))
        n = compressed.total_weight
        repeat = float(compressed.weights[compressed.frequency > 0].sum())
        console.print(f"{n:,.0f} customers, {repeat:,.0f} with repeat purchases; time unit "
                      f"{UNIT_NAMES[summary.time_unit]}")
        console.print()
        entry = next(e for e in model_entries() if e.name == name)
        why = entry.reason_not_applicable(compressed)
        if why is not None:
            raise InvalidInputError(f"--model {name} does not apply to this log as summarized: {why}")
        label = "BG/NBD" if name == DEFAULT_MODEL else model_label(name)
        model = run_fit(console, label, MODELS[name](), compressed, tr("{count} customers", count=f"{n:,.0f}"))
        if name == DEFAULT_MODEL:
            param_block(console, f"BG/NBD (time unit: {UNIT_NAMES[summary.time_unit]})", model)
        else:
            param_block(console, tr("{model} (time unit: {unit})", model=label,
                                    unit=tr(UNIT_NAMES[summary.time_unit])), model)
        gg = None
        if settings.monetary_value is not None:
            gg = run_fit(console, "Gamma-Gamma", GammaGamma(), compressed,
                         tr("{count} repeat customers", count=f"{repeat:,.0f}"))
            console.print()
            param_block(console, "Gamma-Gamma (spend per repeat purchase)", gg)
        totals = holdout_totals(summary, model)
        if totals is not None and summary.duration_holdout is not None:
            console.print()
            print_holdout(console, totals[0], totals[1], summary.duration_holdout, summary.time_unit)
    models = [model] if gg is None else [model, gg]
    return write_folder(console, Path(args.output), models, settings, {})
