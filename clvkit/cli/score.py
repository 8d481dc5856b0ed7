"""``clvkit score LOG --models DIR --output scores.csv``: value customers with saved models.

Summarizes a log the way ``clvkit fit`` did, loads the models with :func:`clvkit.load_json` and writes
per-customer P(alive), expected purchases, expected spend and discounted CLV. With ``--referrals`` (or a value
engine, ``--engine``) it also writes and prints direct, indirect and total value (``*_composite.csv``).
"""

from __future__ import annotations

import argparse
import contextlib
from pathlib import Path
from typing import Any

from .._csvio import atomic_output, write_csv_to
from .._timeunits import UNIT_DAYS
from ..errors import InvalidInputError
from ._args import Parents, amount, fraction, positive_int
from ._console import Console
from ._costs import add_cost_options, inputs_of, read_costs
from ._covariates import BoundCovariates, read_covariates, read_dynamic_covariates
from ._dask import (
    add_dask_options,
    dask_session,
    holdout_totals,
    print_dask_scores,
    refuse,
    summarize_with_dask,
    uses_dask,
    write_dask_scores,
)
from ._fitting import holdout_check, print_holdout, read_and_summarize
from ._folder import DESIGN_FILE, DYNAMIC_DESIGN_FILE, SummarySettings, load_design, load_models
from ._output import check_outputs
from ._scoring import Scores, _period, print_scores, score_columns, score_customers, write_parquet_to

__all__ = ["register", "run"]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], parents: Parents) -> None:
    """Add ``score`` to the subcommands."""
    score = sub.add_parser("score", parents=[parents.common, parents.log, parents.valuation],
                           help="score customers with saved models",
                           description="Summarize a transaction log as 'clvkit fit' did and write per-customer "
                                       "P(alive), expected purchases, expected spend and CLV.")
    src = score.add_argument_group("models")
    src.add_argument("--models", metavar="DIR", help="directory written by 'clvkit fit'")
    src.add_argument("--model", action="extend", nargs="+", metavar="FILE",
                     help="JSON model files: a transaction model and optionally a spend model")
    src.add_argument("--spend", type=amount, metavar="AMOUNT",
                     help="fixed spend per purchase instead of a Gamma-Gamma model")
    score.add_argument("--customer-id", metavar="COL", help="customer id column (default: as saved by fit)")
    score.add_argument("--datetime", metavar="COL", help="transaction time column (default: as saved by fit)")
    score.add_argument("--monetary-value", metavar="COL", help="amount column (default: as saved by fit)")
    score.add_argument("--freq", choices=list(UNIT_DAYS), help="purchase period (default: as saved by fit, else D)")
    score.add_argument("--covariates", metavar="FILE",
                       help="static covariates of the customers, for a model fitted with 'clvkit fit --covariates' "
                            "(coded with the folder's saved design)")
    score.add_argument("--dynamic-covariates", metavar="FILE",
                       help="time-varying covariates of the customers, for a model fitted with 'clvkit fit "
                            "--dynamic-covariates': one row per customer and period, covering each customer's "
                            "calibration period and the scoring horizon (coded with the folder's saved design)")
    score.add_argument("--output", "-o", required=True, metavar="FILE",
                       help="file for the scores: Parquet for .parquet/.pq (with Dask a folder of part files), else "
                            "CSV")
    score.add_argument("--force", action="store_true", help="replace existing output files")
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
    add_cost_options(score)
    add_dask_options(score)
    score.set_defaults(handler=run)


def run(args: argparse.Namespace, console: Console) -> int:
    """Run ``clvkit score``; return the exit status."""
    if args.models is None and not args.model:
        raise InvalidInputError("score needs the models: --models DIR (written by 'clvkit fit') or --model FILE.")
    output = Path(args.output)
    outputs = [output] + ([_composite_path(output)] if args.referrals or args.engine else [])
    inputs = [Path(args.input), *(Path(m) for m in args.model or []),
              *([Path(args.referrals)] if args.referrals else []), *inputs_of(args),
              *(Path(f) for f in (args.covariates, args.dynamic_covariates) if f)]
    if args.models is not None and Path(args.models).is_dir():
        inputs += list(Path(args.models).iterdir())
    dask_route = uses_dask(args)
    check_outputs(outputs, inputs, force=args.force)
    transaction, spend, saved = load_models(args.models, args.model)
    design, dynamic_design = _covariate_designs(args, transaction)
    settings = _settings(args, transaction.time_unit, saved)
    spend_model: Any = args.spend if args.spend is not None else spend
    if spend_model is None:
        raise InvalidInputError("score needs a spend model (fit with --monetary-value, which saves a Gamma-Gamma "
                                "model) or a fixed spend per purchase with --spend AMOUNT.")
    if dask_route:
        return _run_dask(args, console, settings, transaction, spend_model, output)
    summary = read_and_summarize(args, console, settings)
    covariates = dynamic = None
    if design is not None:
        with console.step(console.tr("reading covariates {path}", path=args.covariates)):
            covariates = read_covariates(args.covariates, customer_id=settings.customer_id, design=design,
                                         delimiter=args.delimiter)
            if summary.customer_id is not None:  # (a log's summary always has ids)
                covariates.align(summary.customer_id)  # every customer scored needs a row: else one error, here
    if dynamic_design is not None:
        period = (saved.period_column if saved is not None else None) or "period"
        with console.step(console.tr("reading time-varying covariates {path}", path=args.dynamic_covariates)) as add:
            dynamic = read_dynamic_covariates(args.dynamic_covariates, customer_id=settings.customer_id,
                                              period=period, design=dynamic_design, delimiter=args.delimiter,
                                              date_format=settings.date_format)
            add(console.tr("{customers} customers, {periods} periods", customers=f"{len(dynamic):,}",
                           periods=f"{dynamic.periods.shape[0]:,}"))
            if summary.customer_id is not None:
                dynamic.customer_grid(summary.customer_id)  # every customer scored needs rows: else one error, here
        # the periods each customer needs (calibration and horizon) are checked by the model's predictions
        transaction = BoundCovariates(transaction, purchase=dynamic, dropout=covariates)
    elif covariates is not None:
        transaction = BoundCovariates(transaction, covariates)
    costs = read_costs(args, summary, settings.customer_id)
    with console.step("scoring") as add:
        scores = score_customers(summary, transaction, spend_model, horizon=args.horizon, period=args.period,
                                 discount_rate=args.discount_rate, margin=args.margin, costs=costs)
        add(f"{len(summary):,} customers")
    composite = _composite(args, scores)
    # Both files or neither: each goes to a temporary file, renamed over its output only when both are written.
    if output.parent != Path():
        output.parent.mkdir(parents=True, exist_ok=True)
    with console.step(f"writing {output}"), contextlib.ExitStack() as files:
        if _is_parquet(output):
            write_parquet_to(files.enter_context(atomic_output(output)), score_columns(scores))
        else:
            write_csv_to(files.enter_context(atomic_output(output)), score_columns(scores), lineterminator="\n")
        if composite is not None:
            write_csv_to(files.enter_context(atomic_output(outputs[1])), composite[0].to_columns())
    if summary.frequency_holdout is not None:
        holdout_check(console, scores.summary, transaction)
        console.print()
    print_scores(console, scores, args.top)
    _print_costs(console, args, scores)
    if composite is not None:
        _print_composite(console, args, composite, outputs[1])
    console.print()
    console.print(f"Wrote:\n  {output}")
    return 0


def _print_costs(console: Console, args: argparse.Namespace, scores: Scores) -> None:
    """Profit over the customers and how the acquisition cost was found, when ``--costs`` was given."""
    res = scores.result
    if not (res.costs_given or res.acquisition_cost is not None):
        return
    from ..valuation import ACQUISITION_COST_MULTIPLE
    from ._console import money

    tr = console.tr
    weights = res.weights if res.weights is not None else 1.0
    if res.costs_given:
        console.print(tr("Customer profit (CLV minus the cost to serve): {profit}; cost to serve {cost}.",
                         profit=money(float((res.profit_clv * weights).sum())),
                         cost=money(float((res.cost_to_serve * weights).sum()))))
    if res.acquisition_cost_estimated:
        console.print(tr("Acquisition cost not given: estimated as {multiple} x the retention cost (a new customer "
                         "costs 5 times keeping one: 张子凡 CRM notes, text 003; 5-10 times in text 004).",
                         multiple=f"{ACQUISITION_COST_MULTIPLE:g}"))


def _covariate_designs(args: argparse.Namespace, transaction: Any) -> tuple[Any, Any]:
    """The saved designs of the static and the time-varying covariates the transaction model takes (``None`` for
    a kind it does not take); refuse a file given for a model fitted without, or missing for one fitted with."""
    coefficients = getattr(transaction, "coefficients", None) or {}
    time_varying = bool(getattr(transaction, "time_varying", False))
    if args.dynamic_covariates and not time_varying:
        raise InvalidInputError("--dynamic-covariates was given but the transaction model was fitted without "
                                "time-varying covariates; drop --dynamic-covariates or fit again with 'clvkit fit "
                                "--dynamic-covariates FILE'.")
    if time_varying and not args.dynamic_covariates:
        raise InvalidInputError("The transaction model was fitted with time-varying covariates: give them with "
                                "--dynamic-covariates FILE (the columns it was fitted with, one row per customer and "
                                "period, covering each customer's calibration period and the scoring horizon).")
    # a time-varying model's static covariates are those of its dropout process ('fit --covariates' with it)
    static = bool(coefficients.get("dropout")) if time_varying else any(coefficients.values())
    if not static:
        if args.covariates:
            which = "static covariates (its time-varying ones go with --dynamic-covariates)" if time_varying else \
                "covariates"
            raise InvalidInputError(f"--covariates was given but the transaction model was fitted without {which}; "
                                    f"drop --covariates or fit again with 'clvkit fit --covariates FILE'.")
        design = None
    elif not args.covariates:
        raise InvalidInputError("The transaction model was fitted with covariates: give the customers' covariates "
                                "with --covariates FILE (the columns it was fitted with, one row per customer).")
    else:
        design = load_design(args.models)
        if design is None:
            raise InvalidInputError(f"The model was fitted with covariates but there is no {DESIGN_FILE} to code "
                                    f"them with; score with --models DIR (the folder 'clvkit fit --covariates' "
                                    f"wrote).")
    dynamic = None
    if time_varying:
        dynamic = load_design(args.models, DYNAMIC_DESIGN_FILE)
        if dynamic is None:
            raise InvalidInputError(f"The model was fitted with time-varying covariates but there is no "
                                    f"{DYNAMIC_DESIGN_FILE} to code them with; score with --models DIR (the folder "
                                    f"'clvkit fit --dynamic-covariates' wrote).")
    return design, dynamic


def _settings(args: argparse.Namespace, time_unit: str, saved: SummarySettings | None) -> SummarySettings:
    """The options on the command line, else the settings saved by ``clvkit fit``."""
    if args.customer_id is None and saved is None:
        raise InvalidInputError("score needs --customer-id and --datetime (a model directory written by "
                                "'clvkit fit' records them; --model files do not).")
    base = saved or SummarySettings(customer_id="", datetime="", monetary_value=None, freq="D", time_unit=time_unit)
    monetary = args.monetary_value if args.monetary_value is not None else base.monetary_value
    if args.spend is not None:
        monetary = args.monetary_value  # a fixed spend per purchase needs no amounts
    settings = SummarySettings(
        customer_id=args.customer_id or base.customer_id,
        datetime=args.datetime or base.datetime,
        monetary_value=monetary,
        freq=args.freq or base.freq,
        time_unit=time_unit,
        date_format=args.date_format if args.date_format is not None else base.date_format,
    )
    if not settings.datetime:
        raise InvalidInputError("score needs --datetime (the name of the time column).")
    return settings


def _composite_path(output: Path) -> Path:
    return output.with_name(output.stem + "_composite.csv")


def _composite(args: argparse.Namespace, scores: Scores) -> tuple[Any, Any] | None:
    """The composite (direct + indirect) values and the referral graph, when referrals or an engine are given."""
    if not (args.referrals or args.engine):
        return None
    from ..valuation import AttributionRule, CompositeValue, engine_values, load_engine, read_referrals

    s = scores.summary
    direct = scores.result if not args.engine else engine_values(load_engine(args.engine), s, where="--engine")
    graph = read_referrals(args.referrals, customer_ids=s.customer_id, on_cycle=args.on_cycle) \
        if args.referrals else None
    rule = AttributionRule(max_levels=args.referral_levels, decay=args.referral_decay) if graph is not None else None
    composite = CompositeValue(direct=direct, indirect=graph, attribution=rule).evaluate(customer_id=s.customer_id)
    return composite, graph


def _print_composite(console: Console, args: argparse.Namespace, computed: tuple[Any, Any], path: Path) -> None:
    """The composite table (and the referral cycles broken), as printed before the files were written."""
    from ..valuation import format_value_table

    composite, graph = computed
    if graph is not None and graph.broken:
        console.print(f"{len(graph.broken)} referral cycle(s) broken; dropped {list(graph.broken[:5])}")
    if args.top > 0:
        console.print()
        console.print(format_value_table(composite, args.top).rstrip("\n"))
    console.print(f"composite values written to {path}")


def _is_parquet(path: Path) -> bool:
    return path.suffix.lower() in (".parquet", ".pq")


def _run_dask(args: argparse.Namespace, console: Console, settings: SummarySettings, transaction: Any,
              spend_model: Any, output: Path) -> int:
    """``score`` on the Dask route: summarize with Dask, score partition by partition, write Parquet or CSV."""
    for option, given in (("--covariates", args.covariates), ("--dynamic-covariates", args.dynamic_covariates),
                          ("--referrals", args.referrals), ("--engine", args.engine), ("--costs", args.costs)):
        refuse(option, given)
    with dask_session(args, console) as client:
        summary = summarize_with_dask(args, console, settings, client)
        step, label = _period(args.period, transaction.time_unit)
        scores = summary.score(transaction, spend_model, horizon=args.horizon, discount_rate=args.discount_rate,
                               period=step, margin=args.margin).persist()
        with console.step(f"scoring and writing {output}") as add:
            write_dask_scores(output, scores, console, client)
            add(f"{summary.n_customers:,} customers")
        totals = holdout_totals(summary, transaction)
        if totals is not None and summary.duration_holdout is not None:
            print_holdout(console, totals[0], totals[1], summary.duration_holdout, summary.time_unit)
            console.print()
        print_dask_scores(console, scores, summary, args.top, label, args, client)
    console.print()
    console.print(f"Wrote:\n  {output}")
    return 0
