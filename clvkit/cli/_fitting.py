"""From a log to a summary to fitted models, and the printed estimates: what ``demo``, ``fit`` and ``score`` share."""

from __future__ import annotations

import argparse
import datetime as _dt
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import numpy as np
import numpy.typing as npt

from .._texttable import table_lines
from ..batch import CustomerSummary
from ..errors import InvalidInputError
from ._args import date_option
from ._console import UNIT_NAMES, Console, one_line
from ._folder import SummarySettings
from ._log import read_log

__all__ = ["fit_models", "holdout_check", "param_block", "print_holdout", "read_and_summarize", "run_fit",
           "summarize_log"]


def summarize_log(columns: Mapping[str, npt.NDArray[Any]], settings: SummarySettings, *,
                  observation_end: _dt.datetime | None, calibration_end: _dt.datetime | None,
                  refunds: str) -> CustomerSummary:
    """:func:`clvkit.summarize` with the saved settings, in the settings' time unit."""
    from .. import summarize

    summary = summarize(columns, customer_id=settings.customer_id, datetime=settings.datetime,
                        monetary_value=settings.monetary_value, time_unit=settings.freq,
                        observation_end=observation_end, calibration_end=calibration_end,
                        refunds=refunds)  # type: ignore[arg-type]
    return summary if summary.time_unit == settings.time_unit else summary.with_time_unit(settings.time_unit)


def read_and_summarize(args: argparse.Namespace, console: Console, settings: SummarySettings) -> CustomerSummary:
    """Read the log named on the command line and summarize it with ``settings``, reporting progress."""
    calibration_end = date_option(args.calibration_end, "--calibration-end", settings.date_format)
    observation_end = date_option(args.observation_end, "--observation-end", settings.date_format)
    with console.step(f"reading {args.input}") as add:
        columns = read_log(args.input, customer_id=settings.customer_id, datetime=settings.datetime,
                           monetary_value=settings.monetary_value, fmt=args.format, delimiter=args.delimiter,
                           date_format=settings.date_format)
        add(f"{len(columns[settings.customer_id]):,} rows")
    with console.step(f"summarizing (periods of {settings.freq}, time in {settings.time_unit})") as add:
        summary = summarize_log(columns, settings, observation_end=observation_end, calibration_end=calibration_end,
                                refunds=args.refunds)
        add(f"{len(summary):,} customers")
    return summary


def _fit_progress(console: Console) -> Callable[[Any], None]:
    def report(p: Any) -> None:
        params = " ".join(f"{k}={v:.6g}" for k, v in p.params.items())
        console.detail(f"  {p.model} iteration {p.iteration}: log-likelihood {p.log_likelihood:.6f}  {params}")

    return report


def run_fit(console: Console, label: str, engine: Any, summary: CustomerSummary, who: str,
            covariates: Mapping[str, Any] | None = None) -> Any:
    """``engine.fit`` as a progress step; ``covariates`` maps ``purchase_covariates``/``dropout_covariates``."""
    tr = console.tr
    with noted_warnings(console), console.step(tr("fitting {model} on {who}", model=label, who=who)) as add:
        progress = _fit_progress(console) if console.verbose else None
        model = engine.fit(summary, progress=progress, **(covariates or {}))
        info = model.fit_info
        if info is not None:
            add(tr("{count} iterations", count=info.n_iterations))
    return model


@contextmanager
def noted_warnings(console: Console) -> Iterator[None]:
    """The warnings raised in the block, printed after it as one-line ``clvkit: warning:`` notes (not Python's
    warning format in the middle of a progress line)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    for w in caught:
        console.note(f"clvkit: warning: {one_line(Exception(str(w.message)))}")


def fit_models(console: Console, summary: CustomerSummary, with_spend: bool, covariates: Any = None,
               dynamic: Any = None, freq: str = "D") -> tuple[Any, Any | None]:
    """BG/NBD, and Gamma-Gamma when ``with_spend`` (else ``None``), each fit reported as a progress step.

    ``covariates`` (static, :class:`clvkit.Covariates`) scale both BG/NBD processes; with ``dynamic`` (time-varying
    covariates) those scale the purchase process and ``covariates`` the dropout process. ``freq`` is the
    ``--freq`` the summary counted purchases in (named when the covariate periods do not align with it).
    """
    from ..valuation import BetaGeo, GammaGamma

    tr = console.tr
    n = len(summary)
    covs = None
    if dynamic is not None:
        covs = {"purchase_covariates": dynamic, "dropout_covariates": covariates}
    elif covariates is not None:
        covs = {"purchase_covariates": covariates, "dropout_covariates": covariates}
    try:
        bg = run_fit(console, "BG/NBD", BetaGeo(), summary, tr("{count} customers", count=f"{n:,}"), covs)
    except InvalidInputError as exc:
        if dynamic is None or "do not align" not in str(exc):
            raise
        # The library's advice names summarize(); on the command line the counting period is --freq.
        raise InvalidInputError(f"{one_line(exc)} On the command line purchases are counted per --freq period "
                                f"(here {freq}): --freq D (the default) aligns with covariate periods that start at "
                                f"midnight.") from None
    gg = None
    if with_spend:
        repeat = int(np.count_nonzero(summary.frequency > 0))
        gg = run_fit(console, "Gamma-Gamma", GammaGamma(), summary,
                      tr("{count} repeat customers", count=f"{repeat:,}"))
    return bg, gg


def param_block(console: Console, title: str, model: Any, published: Mapping[str, float] | None = None,
                 published_ll: float | None = None, source: str = "", *, legend: bool = False) -> None:
    """The estimates with standard errors (and the published values, compared, when given) under ``title``.

    ``legend`` adds a line explaining the log-likelihood and the standard error.
    """
    tr = console.tr
    params = model.params.model_dump()
    se = model.standard_errors or {}
    headers = [tr("parameter"), tr("estimate"), tr("std. error")] + ([tr("published")] if published else [])
    rows = []
    for name, value in params.items():
        row = [name, f"{value:.4f}", f"{se[name]:.4f}" if name in se else tr("n/a")]
        if published:
            row.append(f"{published[name]:g}")
        rows.append(row)
    console.print(title)
    for line in table_lines(headers, rows, indent="  "):
        console.print(line)
    info = model.fit_info
    if info is not None:
        fields = {"ll": f"{info.log_likelihood:.2f}", "customers": f"{info.n_customers:,.0f}",
                  "iterations": info.n_iterations}
        if published_ll is not None:
            text = (tr("  log-likelihood {ll} (published {published}); {customers} customers, {iterations} iterations, "
                       "converged", published=f"{published_ll:g}", **fields) if info.converged else
                    tr("  log-likelihood {ll} (published {published}); {customers} customers, {iterations} iterations, "
                       "NOT converged", published=f"{published_ll:g}", **fields))
        else:
            text = (tr("  log-likelihood {ll}; {customers} customers, {iterations} iterations, converged", **fields)
                    if info.converged else
                    tr("  log-likelihood {ll}; {customers} customers, {iterations} iterations, NOT converged",
                       **fields))
        console.print(text)
    if published:
        rel = {k: abs(params[k] - v) / abs(v) for k, v in published.items()}
        worst = max(rel, key=rel.__getitem__)
        printed_digits = all(
            round(params[k], max(len(f"{v:g}".partition(".")[2]), 0)) == v for k, v in published.items()
        )
        fields2 = {"source": source, "diff": f"{rel[worst]:.2%}", "param": worst}
        console.print(tr("  vs {source}: equal at the published precision; largest relative difference {diff} "
                         "({param})",
                         **fields2) if printed_digits else
                      tr("  vs {source}: close; largest relative difference {diff} ({param})", **fields2))
    if legend:
        console.print(tr("  (log-likelihood: how well the model fits the data, higher is better; std. error: the "
                         "uncertainty of each estimate)"))


def holdout_check(console: Console, summary: CustomerSummary, transaction: Any, covariates: Any = None) -> None:
    """Predicted against actual repeat purchases in the holdout period (nothing without a holdout); ``covariates``:
    those the transaction model was fitted with (both processes)."""
    if summary.frequency_holdout is None or summary.duration_holdout is None:
        return
    tr = console.tr
    given = {} if covariates is None else {"purchase_covariates": covariates, "dropout_covariates": covariates}
    try:
        predicted = float(np.sum(transaction.expected_purchases(summary, summary.duration_holdout, **given)))
    except InvalidInputError as exc:
        if not getattr(transaction, "time_varying", False):
            raise
        # e.g. time-varying covariates that end with the calibration period: the models are fine, the check is not
        # possible
        console.print(tr("Holdout check skipped: {reason}", reason=one_line(exc)))
        return
    actual = float(np.sum(summary.frequency_holdout))
    print_holdout(console, predicted, actual, summary.duration_holdout, summary.time_unit)


def print_holdout(console: Console, predicted: float, actual: float, duration: float, time_unit: str) -> None:
    """The holdout check's table: predicted and actual repeat purchases over ``duration`` units after calibration."""
    tr = console.tr
    unit = tr(UNIT_NAMES.get(time_unit, time_unit))
    rows = [[tr("predicted repeat purchases"), f"{predicted:,.1f}"], [tr("actual repeat purchases"), f"{actual:,.0f}"]]
    if actual > 0:
        rows.append([tr("predicted / actual"), f"{predicted / actual:.3f}"])
    console.print(tr("Holdout check ({duration} {unit} after the calibration end, not used to fit the models):",
                     duration=f"{duration:g}", unit=unit))
    for line in table_lines(["", ""], rows, indent="  ", rule=False)[1:]:
        console.print(line)
