"""Build the report's sections from a log, and render them as one self-contained HTML page."""

from __future__ import annotations

import base64
import html
import io
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from .. import __version__
from .._csvio import atomic_output
from .._display import key_value_table, number, percent, table
from .._frames import require
from ..batch import CustomerSummary
from ..errors import InvalidInputError
from ..i18n import N_, Translator, check_language, translator

__all__ = ["Report", "Section", "build_report", "write_html"]

Progress = Callable[[str], None]

#: Width and height (inches) and resolution of every embedded plot.
FIGSIZE = (7.2, 4.4)
DPI = 96
#: The Lorenz curve's figure: its axes are square, so a wide figure would only add margins.
LORENZ_FIGSIZE = (6.0, 5.6)

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","PingFang SC","Hiragino Sans GB",
"Microsoft YaHei","Noto Sans CJK SC","Source Han Sans SC","WenQuanYi Micro Hei",sans-serif;margin:0;
color:#1f2328;background:#fff;line-height:1.45}
header{background:#0f3d5e;color:#fff;padding:1.2rem 2rem}header h1{margin:0 0 .3rem;font-size:1.6rem}
header p{margin:0;opacity:.85}nav{padding:.6rem 2rem;border-bottom:1px solid #d0d7de;background:#f6f8fa}
nav a{display:inline-block;white-space:nowrap;margin-right:1rem;color:#0f3d5e;text-decoration:none}
main{padding:0 2rem 2rem;max-width:1200px}
section{margin-top:1.8rem}h2{border-bottom:2px solid #0f3d5e;padding-bottom:.2rem}
.lead{font-size:1.05rem}.note{color:#57606a;font-size:.9rem}
table{border-collapse:collapse;margin:.6rem 0 1rem;font-size:.9rem}
th,td{border:1px solid #d0d7de;padding:.25rem .55rem}thead th{background:#f6f8fa}tbody th{text-align:left}
caption{text-align:left;
font-weight:600;padding:.2rem 0}figure{margin:1rem 0}figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{color:#57606a;font-size:.9rem}.clvkit-display p{margin:.4rem 0}
.side-by-side{display:flex;flex-wrap:wrap;gap:0 2rem;align-items:flex-start}.side-by-side figure{margin-top:.6rem}
footer{padding:1rem 2rem;color:#57606a;font-size:.85rem;border-top:1px solid #d0d7de}
"""


@dataclass(frozen=True)
class Section:
    """One part of the report: an anchor, a title, a lead sentence and HTML blocks (already escaped)."""

    key: str
    title: str
    lead: str
    blocks: tuple[str, ...]

    def to_html(self) -> str:
        """The ``<section>`` element."""
        return (f'<section id="{html.escape(self.key)}"><h2>{html.escape(self.title)}</h2>'
                f'<p class="lead">{html.escape(self.lead)}</p>' + "".join(self.blocks) + "</section>")


@dataclass(frozen=True)
class Report:
    """The report of one data set: the results it shows, rendered by :meth:`to_html`.

    Attributes
    ----------
    title, subtitle:
        The page heading and the line under it (the data and the settings).
    sections:
        The sections in page order.
    results:
        The objects the sections show, by name (``"summary"``, ``"bg_nbd"``, ``"pareto_nbd"``, ``"comparison"``,
        ``"gamma_gamma"``, ``"clv"``, ``"five_a"``, ``"inventory"``, ``"key_customers"``, ``"value_risk"``,
        ``"binding"``, ``"value_at_risk"``, ``"team"``; those that apply), for a caller that wants the numbers.
    lang:
        The language of the texts: ``"en"`` or ``"zh"`` (the page's ``<html lang>`` is ``en`` or ``zh-CN``).
    """

    title: str
    subtitle: str
    sections: tuple[Section, ...]
    results: Mapping[str, Any]
    lang: str = "en"

    def body_html(self) -> str:
        """The report's content (navigation and sections) without the page around it."""
        nav = "".join(f'<a href="#{html.escape(s.key)}">{html.escape(s.title)}</a>' for s in self.sections)
        return f"<nav>{nav}</nav><main>" + "".join(s.to_html() for s in self.sections) + "</main>"

    def to_html(self) -> str:
        """The whole page: one self-contained HTML5 document (inline CSS, embedded PNG plots, no script)."""
        tr = translator(self.lang)
        return (
            f'<!DOCTYPE html>\n<html lang="{_HTML_LANG[tr.lang]}"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{html.escape(self.title)}</title><style>{_CSS}</style></head><body>"
            f"<header><h1>{html.escape(self.title)}</h1><p>{html.escape(self.subtitle)}</p></header>"
            + self.body_html()
            + "<footer>" + html.escape(tr("Written by clvkit {version}. Every number comes from the results named in "
                                          "each section; the plots are drawn from the same objects.",
                                          version=__version__)) + "</footer></body></html>\n"
        )

    def _repr_html_(self) -> str:
        return f'<div class="clvkit-report"><h1>{html.escape(self.title)}</h1>{self.body_html()}</div>'

    def __repr__(self) -> str:
        names = ", ".join(s.key for s in self.sections)
        return f"Report({self.title!r}; sections: {names})"


def _figure(draw: Callable[[Any], Any], alt: str, caption: str, figsize: tuple[float, float] = FIGSIZE) -> str:
    """Draw on a fresh (pyplot-free, so thread-safe) figure and embed it as a PNG ``data:`` URI."""
    figure_module = require("matplotlib.figure")
    fig = figure_module.Figure(figsize=figsize, dpi=DPI, layout="constrained")
    ax = fig.subplots()
    draw(ax)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return (f'<figure><img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>")


def _side_by_side(*blocks: str) -> str:
    """Blocks next to each other where the page is wide enough, one under the other where it is not."""
    return '<div class="side-by-side">' + "".join(f"<div>{b}</div>" for b in blocks) + "</div>"


def _note(text: str) -> str:
    return f'<p class="note">{html.escape(text)}</p>'


def _para(text: str) -> str:
    return f"<p>{html.escape(text)}</p>"


def _ids(summary: CustomerSummary) -> npt.NDArray[Any]:
    return np.asarray(summary.customer_id) if summary.customer_id is not None else np.arange(len(summary))


#: The ``lang`` attribute of the page per report language.
_HTML_LANG = {"en": "en", "zh": "zh-CN"}
_UNIT_WORDS = {"D": N_("days"), "W": N_("weeks"), "M": N_("months"), "h": N_("hours"), "s": N_("seconds"),
               "Y": N_("years")}
#: The caption of the expected-purchases heat map, one whole message per time unit ("next week" is 下周, "next
#: month" 下个月, "next day" 次日: no one word for "next" fits every unit in Chinese).
_NEXT_PERIOD = {
    "D": N_("Expected purchases in the next day by repeat purchases and the time of the last purchase."),
    "W": N_("Expected purchases in the next week by repeat purchases and the time of the last purchase."),
    "M": N_("Expected purchases in the next month by repeat purchases and the time of the last purchase."),
    "h": N_("Expected purchases in the next hour by repeat purchases and the time of the last purchase."),
    "s": N_("Expected purchases in the next second by repeat purchases and the time of the last purchase."),
    "Y": N_("Expected purchases in the next year by repeat purchases and the time of the last purchase."),
}


def _next_period_caption(time_unit: str, tr: Translator) -> str:
    text = _NEXT_PERIOD.get(time_unit)
    if text is not None:
        return tr(text)
    return tr("Expected purchases in the next period ({unit}) by repeat purchases and the time of the last purchase.",
              unit=time_unit)


def _unit(summary: CustomerSummary, tr: Translator) -> str:
    return tr(_UNIT_WORDS.get(summary.time_unit, summary.time_unit))


def build_report(
    transactions: Any,
    *,
    customer_id: str,
    datetime: str,
    monetary_value: str | None = None,
    time_unit: str = "D",
    model_time_unit: str = "W",
    datetime_format: str | None = None,
    refunds: str = "error",
    calibration_end: Any = None,
    observation_end: Any = None,
    horizon: int = 12,
    period: float | str = "M",
    discount_rate: float = 0.01,
    margin: float = 1.0,
    binding: Any = None,
    top: int = 15,
    title: str | None = None,
    progress: Progress | None = None,
    lang: str | None = None,
) -> Report:
    """Run the whole job on a transaction log and return the :class:`Report` (render it with :meth:`Report.to_html`).

    Parameters
    ----------
    transactions, customer_id, datetime, monetary_value, time_unit, datetime_format, refunds:
        As in :func:`clvkit.summarize` (``time_unit`` is the purchase period, default days). With a
        ``calibration_end`` the models are checked on the holdout after it.
    calibration_end, observation_end:
        As in :func:`clvkit.summarize`.
    model_time_unit:
        The time unit of the models and the summary they are fitted to (default weeks, as in the papers).
    horizon, period, discount_rate, margin:
        As in :func:`clvkit.valuation.clv` (default: 12 months at 1% a month).
    binding:
        Optional: a :class:`clvkit.binding.BindingDataset` (e.g. :func:`clvkit.binding.load_b2b_sample`) or a
        folder of binding tables (:func:`clvkit.binding.read_binding_dir`); adds the binding section.
    top:
        Rows in the "most valuable customers" and "key customers" tables (0 to 1000).
    title:
        The page heading (default: "Customer value report").
    progress:
        Called with a short description as each step starts (the command line prints them).
    lang:
        The language of the page: ``"en"``, ``"zh"`` (Simplified Chinese) or ``None`` for the locale's.

    Returns
    -------
    Report
    """
    from .. import summarize
    from ..plotting import (
        plot_calibration_purchases_vs_holdout_purchases,
        plot_frequency_recency_matrix,
        plot_interpurchase_times,
        plot_period_transactions,
        plot_probability_alive_matrix,
        plot_spend_distribution,
        plot_tracking,
    )
    from ..valuation import BetaGeo, GammaGamma, ParetoNBD, clv
    from ..valuation.checking import compare

    if isinstance(top, bool) or not isinstance(top, int | np.integer) or not 0 <= int(top) <= 1000:
        raise InvalidInputError(f"build_report(): 'top' must be a whole number from 0 to 1000; got {top!r}.")
    tr = translator(check_language(lang))
    require("matplotlib.figure")  # fail before any work without the plot extra
    say = progress or (lambda _step: None)
    results: dict[str, Any] = {}
    sections: list[Section] = []

    say(tr("summarizing the log"))
    summary = summarize(transactions, customer_id=customer_id, datetime=datetime, monetary_value=monetary_value,
                        time_unit=time_unit, calibration_end=calibration_end, observation_end=observation_end,
                        datetime_format=datetime_format, refunds=refunds)  # type: ignore[arg-type]
    if summary.time_unit != model_time_unit:
        summary = summary.with_time_unit(model_time_unit)
    results["summary"] = summary
    unit = _unit(summary, tr)
    n = len(summary)
    repeat = int(np.count_nonzero(summary.frequency > 0))
    holdout = summary.frequency_holdout is not None and summary.duration_holdout is not None
    facts: list[tuple[str, Any]] = [
        (tr("customers"), n),
        (tr("repeat customers (calibration)"), tr("{count} ({share})", count=f"{repeat:,}",
                                                  share=percent(repeat / n if n else 0.0))),
        (tr("longest customer age T"), f"{number(float(summary.T.max()))} {unit}"),
    ]
    if summary.frequency_holdout is not None and summary.duration_holdout is not None:
        facts.append((tr("holdout period"), f"{number(float(summary.duration_holdout))} {unit}"))
        facts.append((tr("holdout repeat purchases"), int(np.sum(summary.frequency_holdout))))
    data_blocks = [_side_by_side(key_value_table(facts, caption=tr("The data")), summary._html(tr))]
    if repeat:
        data_blocks.append(_figure(lambda ax: plot_interpurchase_times(summary, ax=ax, lang=tr.lang),
                                   tr("Histogram of the time between purchases"),
                                   tr("Time between a customer's purchases, in {unit}.", unit=unit)))
    data_blocks.append(_note(tr("Calibration period: the data the models learn from; holdout period: later data kept "
                                "aside to check them; T: a customer's age since the first purchase.")))
    sections.append(Section("data", tr("The customers"),
                            tr("{count} customers; {share} bought again within the calibration period.",
                               count=f"{n:,}", share=percent(repeat / n if n else 0.0)), tuple(data_blocks)))

    say(tr("fitting BG/NBD and Pareto/NBD"))
    bg = BetaGeo().fit(summary)
    pnbd = ParetoNBD().fit(summary)
    results["bg_nbd"], results["pareto_nbd"] = bg, pnbd
    models: dict[str, Any] = {"BG/NBD": bg, "Pareto/NBD": pnbd}
    model_blocks = [_side_by_side(bg._html(tr), pnbd._html(tr))]
    if holdout:
        say(tr("checking the models on the holdout"))
        comparison = compare(models, summary)
        results["comparison"] = comparison
        chosen_name = comparison.best
        model_blocks.append(comparison._html(tr))
        model_blocks.append(_note(tr("AIC, BIC = information criteria of the fit; MAE, RMSE = mean absolute and root "
                                     "mean squared error per customer on the holdout; lower is better for all four.")))
        lead = tr("Two purchase models were fitted; {model} predicts the holdout best (lowest error per customer) and "
                  "values the customers below.", model=chosen_name)
    else:
        chosen_name = "BG/NBD"
        lead = tr("Two purchase models were fitted; without a holdout period BG/NBD values the customers below.")
    chosen = models[chosen_name]
    model_blocks.append(_figure(lambda ax: plot_period_transactions(chosen, summary, ax=ax, lang=tr.lang),
                                tr("Bar chart of customers by number of repeat purchases, actual and model"),
                                tr("Customers by number of repeat purchases in the calibration period: actual and "
                                   "{model}.", model=chosen_name)))
    if holdout:
        model_blocks.append(_figure(
            lambda ax: plot_calibration_purchases_vs_holdout_purchases(chosen, summary, ax=ax, lang=tr.lang),
            tr("Line chart of mean holdout purchases by calibration purchases"),
            tr("Mean holdout purchases by calibration repeat purchases: actual and {model}.", model=chosen_name)))
        tracking_period = 7 if time_unit == "D" else 1
        model_blocks.append(_figure(
            lambda ax: plot_tracking(models, transactions, customer_id=customer_id, datetime=datetime,
                                     calibration_end=calibration_end, time_unit=time_unit, period=tracking_period,
                                     observation_end=observation_end, cumulative=True, ax=ax, lang=tr.lang),
            tr("Cumulative repeat purchases over time, actual and both models"),
            tr("Cumulative repeat purchases of the cohort: actual and both models; the dashed line is the end of "
               "the calibration period.")))
    model_blocks.append(_figure(lambda ax: plot_probability_alive_matrix(chosen, summary=summary, ax=ax, lang=tr.lang),
                                tr("Heat map of the probability a customer is still active by frequency and recency"),
                                tr("Probability that a customer is still buying, by repeat purchases and time of the "
                                   "last purchase ({model}).", model=chosen_name)))
    model_blocks.append(_figure(lambda ax: plot_frequency_recency_matrix(chosen, summary=summary, ax=ax,
                                                                         lang=tr.lang),
                                tr("Heat map of expected purchases next period by frequency and recency"),
                                _next_period_caption(summary.time_unit, tr)))
    sections.append(Section("models", tr("Purchase models and their checks"), lead, tuple(model_blocks)))

    say(tr("valuing the customers"))
    ids = _ids(summary)
    p_alive = chosen.probability_alive(summary)
    value_blocks: list[str] = []
    if monetary_value is not None and repeat:
        gg = GammaGamma().fit(summary)
        results["gamma_gamma"] = gg
        spend: Any = gg
        value_blocks += [gg._html(tr), _figure(
            lambda ax: plot_spend_distribution(gg, summary, ax=ax, lang=tr.lang),
            tr("Density of the average spend per purchase"),
            tr("Average spend per repeat purchase: customers' observed means and the Gamma-Gamma density."))]
        money = tr("value (CLV)")
    else:
        spend = 1.0
        money = tr("discounted purchases")
        value_blocks.append(_note(tr("No spend column (or no repeat purchase): values below are discounted expected "
                                     "purchases, not money.")))
    result = clv(chosen, spend, summary, horizon=horizon, discount_rate=discount_rate, margin=margin, period=period)
    results["clv"] = result
    order = result.top(top)
    rows = [[str(ids[i]), float(result.clv[i]), float(result.expected_purchases[i]), float(p_alive[i]),
             float(summary.frequency[i]), float(summary.recency[i]), float(summary.T[i])] for i in order]
    value_blocks.insert(0, result._html(tr))
    value_blocks.append(table([tr("customer"), money, tr("expected purchases"), tr("P(alive)"),
                               tr("repeat purchases"), tr("last purchase at ({unit})", unit=unit),
                               tr("age T ({unit})", unit=unit)], rows,
                              caption=tr("The {count} most valuable customers", count=len(order))))
    value_blocks.append(_note(tr("CLV = customer lifetime value, what the customer's expected purchases over the "
                                 "horizon "
                                 "are worth today; P(alive) = probability that the customer is still buying; last "
                                 "purchase at = time from the first to the last repeat purchase; age T = time since "
                                 "the first purchase.")))
    sections.append(Section(
        "value", tr("What the customers are worth"),
        tr("Customer equity {equity} over {horizon} periods, discounted at {rate} per period, margin {margin}.",
           equity=number(result.customer_equity), horizon=horizon, rate=percent(discount_rate),
           margin=percent(margin)),
        tuple(value_blocks)))

    say(tr("tiering"))
    sections += _tier_sections(result, ids, p_alive, summary, top, results, tr)
    if binding is not None:
        say(tr("measuring binding"))
        sections.append(_binding_section(binding, results, tr))
    heading = title or tr("Customer value report")
    if summary.calibration_end is not None:
        subtitle = tr("{count} customers; time in {unit}; models by clvkit {version}; calibration to {date}",
                      count=f"{n:,}", unit=unit, version=__version__, date=f"{summary.calibration_end:%Y-%m-%d}")
    else:
        subtitle = tr("{count} customers; time in {unit}; models by clvkit {version}", count=f"{n:,}", unit=unit,
                      version=__version__)
    return Report(heading, subtitle, tuple(sections), results, lang=tr.lang)


def _inventory_blocks(inv: Any, policy: Any, tr: Translator) -> list[str]:
    """The 5A inventory as HTML in the report's language: tiers named with their rank, concentration, legend,
    provenance and what to do with each tier."""
    from ..tiering import DEFAULT_TREATMENTS
    from ..tiering.reports import _display_order, _group_word, _tier_naming, policy_name

    names, notes = _tier_naming(inv.labels, inv.ordered, policy, tr.lang)
    order = _display_order(len(inv.labels), inv.ordered, inv.policy)
    rows = [[names[inv.labels[k]], int(inv.counts[k]), percent(float(inv.count_shares[k])), float(inv.values[k]),
             percent(float(inv.value_shares[k])), float(inv.mean_values[k])] for k in order]
    blocks = [table([_group_word(inv.policy, tr), tr("customers"), tr("customers %"), tr("value"), tr("value %"),
                     tr("mean value")], rows,
                    caption=tr("Customer inventory ({policy}): {count} customers, total value {total}",
                                     policy=policy_name(inv.policy, lang=tr.lang), count=f"{inv.n_customers:,}",
                                     total=number(inv.total_value)))]
    c = inv.concentration
    if c is not None:
        pairs = [(tr("Gini (concentration of value)"), c.gini)]
        pairs += [(tr("the top {top} hold", top=f"{p:.0%}"), percent(v)) for p, v in c.top_shares.items()]
        blocks.append(key_value_table(pairs, caption=tr("Concentration of value")))
    blocks.append(_note(tr("customers % = share of all customers; value % = share of the total value; mean value = "
                           "value per customer; the top 10% hold = share of the total value held by the most valuable "
                           "10% of customers; Gini = concentration of value: 0 when every customer is worth the same, "
                           "near 1 when a few customers hold almost all of it.")))
    blocks += [_note(line) for line in notes]
    found = DEFAULT_TREATMENTS.lookup(inv.labels)
    if found:
        trows = [[names[inv.labels[k]], tr(found[inv.labels[k]].owner), tr(found[inv.labels[k]].contact),
                  tr(found[inv.labels[k]].benefits)] for k in order if inv.labels[k] in found]
        blocks.append(table([tr("tier"), tr("owner"), tr("contact"), tr("benefits")], trows,
                            caption=tr("What to do with each tier")))
        blocks.append(_note(tr("Treatments: {source} (TreatmentTable).", source=tr(DEFAULT_TREATMENTS.source))))
    return blocks


def _tier_sections(result: Any, ids: npt.NDArray[Any], p_alive: npt.NDArray[np.float64], summary: CustomerSummary,
                   top: int, results: dict[str, Any], tr: Translator) -> list[Section]:
    from ..plotting import plot_lorenz, plot_value_risk
    from ..tiering import FiveA, KeyCustomers, ValueRiskMatrix, inventory
    from ..tiering.matrix import VALUE_RISK_CUTS_SOURCE, VALUE_RISK_LEGEND
    from ..tiering.reports import _display_order
    from ..tiering.treatment import key_customer_provenance

    values = np.asarray(result.clv, dtype=np.float64)
    policy = FiveA()
    five_a = policy.assign({"value": values, "customer_id": ids})
    inv = inventory(values, five_a)
    results["five_a"], results["inventory"] = five_a, inv
    # The tables next to the (square) curve: one screen shows the tiers and their picture together; the legend,
    # the provenance and the treatments below them.
    inventory_blocks = _inventory_blocks(inv, policy, tr)
    tier_blocks = (_side_by_side(
        "".join(inventory_blocks[:2]),
        _figure(lambda ax: plot_lorenz(inv, ax=ax, lang=tr.lang),
                tr("Lorenz curve of customer value with the 5A tiers"),
                tr("Share of value held by the most valuable customers; the points mark the 5A tiers."),
                figsize=LORENZ_FIGSIZE)), *inventory_blocks[2:])
    gini = inv.concentration.gini if inv.concentration is not None else 0.0
    sections = [Section("tiers", tr("5A tiers and concentration"),
                        tr("Gini coefficient {gini}: the closer to 1, the more value sits with few customers.",
                           gini=number(gini)), tier_blocks)]

    key_policy = KeyCustomers()
    key = key_policy.assign({"value": values, "customer_id": ids})
    results["key_customers"] = key
    is_key = np.asarray(key.codes) == 1
    total = float(values.sum())
    share = float(values[is_key].sum()) / total if total > 0 else 0.0
    key_order = [i for i in result.top(len(values)) if is_key[i]][:top]
    key_rows = [[str(ids[i]), float(values[i]), float(p_alive[i])] for i in key_order]
    sections.append(Section(
        "key", tr("Key customers"),
        tr("{count} key customers (top 20% by value) hold {share} of the value.", count=f"{int(is_key.sum()):,}",
           share=percent(share)),
        (table([tr("customer"), tr("value (CLV)"), tr("P(alive)")], key_rows,
               caption=tr("The first {count} key customers", count=len(key_rows))),
         _note(key_customer_provenance(key_policy.share, lang=tr.lang)))))

    # Value here is the value if still active (CLV / P(alive), ClvResult.value_if_active), not CLV: CLV already
    # weighs the future by P(alive), so crossing it with churn risk would count the risk twice and hide valuable
    # customers who are slipping away.
    past = (np.asarray(result.value_if_active, dtype=np.float64) if result.value_if_active is not None
            else np.asarray(result.clv, dtype=np.float64))
    matrix = ValueRiskMatrix().assign(value=past, p_alive=p_alive, customer_id=ids)
    results["value_risk"] = matrix
    counts = np.bincount(np.asarray(matrix.codes), minlength=len(matrix.labels))
    count_rows = [[tr(matrix.labels[k]), int(counts[k]), float(past[np.asarray(matrix.codes) == k].sum())]
                  for k in _display_order(len(matrix.labels), matrix.ordered, matrix.policy)]
    sections.append(Section(
        "risk", tr("Value and churn risk"),
        tr("Value if still active (CLV / P(alive)) against the risk that the customer has stopped buying "
           "(1 - P(alive)); high value at high risk is the list to call first."),
        (table([tr("cell"), tr("customers"), tr("value if still active")], count_rows,
               caption=tr("Customers per cell")),
         _note(tr(VALUE_RISK_LEGEND)), _note(tr(VALUE_RISK_CUTS_SOURCE)),
         _figure(lambda ax: plot_value_risk(matrix, ax=ax, lang=tr.lang),
                 tr("Scatter of value if still active against churn risk"),
                 tr("Each point is a customer; the dashed lines are the cuts of the matrix.")))))
    return sections


def _binding_section(binding: Any, results: dict[str, Any], tr: Translator) -> Section:
    from ..binding import BindingDataset, measure_binding, read_binding_dir, team_report, value_at_risk
    from ..plotting import plot_binding

    dataset = read_binding_dir(Path(binding)) if isinstance(binding, str | os.PathLike) else binding
    if not isinstance(dataset, BindingDataset):
        raise InvalidInputError(
            f"build_report(): 'binding' must be a BindingDataset (clvkit.binding.load_b2b_sample(), "
            f"read_binding_dir()) or a folder of binding tables; got {type(binding).__name__}.")
    measures = measure_binding(dataset.data)
    results["binding"] = measures
    blocks = [measures._html(tr)]
    if dataset.values is not None:
        risk = value_at_risk(measures, dataset.values)
        team = team_report(measures, dataset.values, key_customers=dataset.key_customers, tiers=dataset.tiers)
        results["value_at_risk"], results["team"] = risk, team
        blocks += [team._html(tr), _figure(lambda ax: plot_binding(risk, ax=ax, lang=tr.lang),
                                               tr("Bar chart of value at risk by employee"),
                                               tr("Value each employee would put at risk by leaving."))]
    else:
        blocks.append(_note(tr("The binding data have no customer values, so no value at risk.")))
    return Section("binding", tr("Binding (绑定): the company's customers or one salesperson's?"),
                   tr("{count} customers as of {date}: how firmly each is tied to the company rather than to one "
                      "employee.", count=f"{len(dataset.data.customer_ids):,}", date=f"{dataset.data.as_of:%Y-%m-%d}"),
                   tuple(blocks))


def write_html(path: str | os.PathLike[str], transactions: Any = None, *, report: Report | None = None,
               force: bool = False, **options: Any) -> Path:
    """Write the report of ``transactions`` (or a built ``report``) to ``path`` as one HTML file, atomically.

    Parameters
    ----------
    path:
        The ``.html`` file to write. An existing file is replaced only with ``force=True``; after any error
        nothing is left at ``path`` (or the old file is intact).
    transactions:
        The log; ``options`` are those of :func:`build_report` (``customer_id`` and ``datetime`` required).
    report:
        A report already built (then ``transactions`` and ``options`` must be absent).
    force:
        Replace an existing file.

    Returns
    -------
    pathlib.Path
        The path written.
    """
    target = Path(path)
    if (report is None) == (transactions is None):
        raise InvalidInputError("write_html(): pass either a transaction log or report=, not both or neither.")
    if report is not None and options:
        raise InvalidInputError(f"write_html(): options {sorted(options)} apply to a log, not to report=.")
    if target.is_dir():
        raise InvalidInputError(
            f"write_html(): {target} is a folder; pass a file name such as {target / 'report.html'}.")
    if target.exists() and not force:
        raise InvalidInputError(f"write_html(): {target} exists; pass force=True (--force) to replace it.")
    if report is None:
        report = build_report(transactions, **options)
    text = report.to_html().encode("utf-8")
    with atomic_output(target) as fh:
        fh.write(text)
    return target
