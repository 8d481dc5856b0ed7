"""Scoring customers with fitted models, as ``demo`` and ``score`` do: CLV columns, the CSV, the top list."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from .._csvio import write_csv
from .._texttable import table_lines
from .._timeunits import UNIT_DAYS, unit_days
from ..batch import CustomerSummary
from ..errors import InvalidInputError
from ..i18n import N_, Translator
from ..protocols import CountModel
from ._console import UNIT_NAMES, Console, money
from ._covariates import BoundCovariates

__all__ = ["Scores", "print_scores", "score_columns", "score_customers", "write_parquet_to", "write_scores"]

FloatArray = npt.NDArray[np.float64]


@dataclass
class Scores:
    """The customers scored: their summary, P(alive) (``None`` when the model has none), the ClvResult."""

    summary: CustomerSummary
    p_alive: FloatArray | None
    result: Any  # ClvResult
    period_label: str


def _period(text: str, time_unit: str) -> tuple[float | str, str]:
    """``--period``: a unit name, or a number of days; returns what clv() takes and a label."""
    if text in UNIT_DAYS:
        return text, UNIT_NAMES[text].rstrip("s")
    try:
        days = float(text)
    except ValueError:
        raise InvalidInputError(
            f"The '--period' option must be one of {list(UNIT_DAYS)} or a number of days. Got {text!r} instead."
        ) from None
    step = unit_days(days, name="period", where="--period") / unit_days(time_unit)
    return step, f"{days:g}-day period"


def score_customers(summary: CustomerSummary, transaction: Any, spend: Any, *, horizon: int, period: str,
                    discount_rate: float, margin: float, costs: dict[str, Any] | None = None) -> Scores:
    """CLV of every customer (``--period`` a unit or a number of days) and P(alive) where the model gives it.

    ``costs`` holds clv()'s per-customer cost arguments (``cost_per_purchase``, ``retention_cost``,
    ``acquisition_cost``), in the summary's row order.
    """
    from ..valuation import clv

    if summary.time_unit != transaction.time_unit:
        summary = summary.with_time_unit(transaction.time_unit)
    step, label = _period(period, summary.time_unit)
    result = clv(transaction, spend, summary, horizon=horizon, discount_rate=discount_rate, margin=margin,
                 period=step, **(costs or {}))
    # P(alive) where the model plays the full count-model role (every clvkit count model does).
    p_alive = (np.asarray(transaction.probability_alive(summary), dtype=np.float64)
               if isinstance(transaction, CountModel) else None)
    if isinstance(transaction, BoundCovariates):  # a covariate model with its customers' covariates
        p_alive = result.p_alive
    return Scores(summary, p_alive, result, label)


def write_scores(path: Path, scores: Scores) -> None:
    """Write the scores as CSV, atomically (text cells that look like formulas are neutralised)."""
    if path.parent != Path():
        path.parent.mkdir(parents=True, exist_ok=True)
    write_csv(path, score_columns(scores), lineterminator="\n")


def write_parquet_to(fh: Any, columns: dict[str, list[Any]]) -> None:
    """The columns as one Parquet file written to the binary file ``fh`` (pyarrow, the ``frames`` extra)."""
    from .._frames import require

    pa = require("pyarrow")
    pq = require("pyarrow.parquet")
    pq.write_table(pa.table(columns), fh)


def score_columns(scores: Scores) -> dict[str, list[Any]]:
    """The columns of ``scores.csv``."""
    s, res = scores.summary, scores.result
    n = len(s)
    cols: dict[str, list[Any]] = {
        "customer_id": s.customer_id.tolist() if s.customer_id is not None else list(range(n)),
        "frequency": s.frequency.astype(np.int64).tolist(),
        "recency": s.recency.tolist(),
        "T": s.T.tolist(),
    }
    if s.monetary_value is not None:
        cols["monetary_value"] = s.monetary_value.tolist()
    if scores.p_alive is not None:
        cols["p_alive"] = scores.p_alive.tolist()
    cols["expected_purchases"] = res.expected_purchases.tolist()
    cols["expected_spend"] = res.expected_spend.tolist()
    cols["clv"] = res.clv.tolist()
    if res.value_if_active is not None:  # the value basis of 'clvkit tier --policy value-risk'
        cols["value_if_active"] = res.value_if_active.tolist()
    if res.costs_given:
        cols["cost_to_serve"] = res.cost_to_serve.tolist()
        cols["profit_clv"] = res.profit_clv.tolist()
    if res.acquisition_cost is not None:  # the cost axis of 'clvkit tier --policy value-cost'
        cols["acquisition_cost"] = res.acquisition_cost.tolist()
    if s.frequency_holdout is not None:
        cols["frequency_holdout"] = s.frequency_holdout.astype(np.int64).tolist()
    return cols


# Singular unit names (the period of the CLV sum), translated where printed.
_PERIOD_WORDS = (N_("second"), N_("minute"), N_("hour"), N_("day"), N_("week"), N_("month"), N_("quarter"),
                 N_("year"))


def _period_words(label: str, tr: Translator) -> tuple[str, str]:
    """The period label (``"month"``, ``"30-day period"``) in the singular and the plural, translated."""
    days, sep, rest = label.partition("-day period")
    if sep and not rest:
        return tr("{days}-day period", days=days), tr("{days}-day periods", days=days)
    plurals = {name.rstrip("s"): name for name in UNIT_NAMES.values()}
    many = plurals.get(label, label)
    return tr(label), tr(many)


def print_scores(console: Console, scores: Scores, top: int) -> None:
    tr = console.tr
    s, res = scores.summary, scores.result
    unit = tr(UNIT_NAMES.get(s.time_unit, s.time_unit))
    one, many = _period_words(scores.period_label, tr)
    what = tr("{horizon} {periods} at {rate}% per {period}, margin {margin}", horizon=res.horizon, periods=many,
              rate=f"{res.discount_rate * 100:g}", period=one, margin=f"{res.margin * 100:g}%")
    if top > 0:
        console.print(tr("Top {count} customers by CLV ({settings}):", count=min(top, len(s)), settings=what))
        headers = [tr("customer"), tr("repeat purchases"), tr("last purchase at ({unit})", unit=unit),
                   tr("age T ({unit})", unit=unit), tr("P(alive)"), tr("E[purchases]"), tr("E[spend]"), tr("CLV")]
        rows = []
        for i in res.top(top).tolist():
            cid = s.customer_id[i].item() if s.customer_id is not None else i
            rows.append([str(cid), f"{s.frequency[i]:.0f}", f"{s.recency[i]:.2f}", f"{s.T[i]:.2f}",
                         tr("n/a") if scores.p_alive is None else f"{scores.p_alive[i]:.3f}",
                         f"{res.expected_purchases[i]:.2f}", money(float(res.expected_spend[i])),
                         money(float(res.clv[i]))])
        for line in table_lines(headers, rows, indent="  "):
            console.print(line)
        console.print(tr("  Legend: CLV = customer lifetime value, what the customer's expected purchases over the "
                         "horizon are worth today; P(alive) = probability that the customer is still buying"))
        console.print(tr("  E[purchases] = expected repeat purchases over the horizon; E[spend] = expected spend per "
                         "purchase"))
        console.print(tr("  last purchase at = time from the first to the last repeat purchase; age T = time since the "
                         "first purchase"))
    console.print(tr("Customer equity ({count} customers, {settings}): {equity}", count=f"{s.total_weight:,.0f}",
                     settings=what, equity=money(res.customer_equity)))
