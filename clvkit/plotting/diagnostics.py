"""Model-checking plots: what lifetimes' ``plotting`` module and CLVTools' ``plot`` methods show, drawn from
clvkit's own result objects (:mod:`clvkit.valuation.checking`).

Each function computes its numbers with the matching function of :mod:`clvkit.valuation.checking` (named in
its docstring) and only draws them, so what a plot shows is what that result object holds. Every function
takes ``lang`` (``"en"``, ``"zh"`` or ``None`` for the locale's language), the language of its texts, as described
in :func:`plot_frequency_recency_matrix`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .._frames import require
from ..batch import CustomerSummary
from ..errors import InvalidInputError
from ..i18n import N_, Translator
from ..valuation.checking import (
    TrackingResult,
    alive_history,
    conditional_expectations,
    expected_repeat_purchases,
    frequency_histogram,
    frequency_recency_grid,
    heterogeneity_density,
    interpurchase_times,
    spend_distribution,
    tracking,
)
from ._lang import plot_language, use_font
from ._mpl import axes, check_ax

__all__ = [
    "plot_calibration_purchases_vs_holdout_purchases",
    "plot_cumulative_transactions",
    "plot_dropout_rate_heterogeneity",
    "plot_expected_repeat_purchases",
    "plot_frequency_recency_matrix",
    "plot_history_alive",
    "plot_incremental_transactions",
    "plot_interpurchase_times",
    "plot_period_transactions",
    "plot_pmf",
    "plot_probability_alive_matrix",
    "plot_spend_distribution",
    "plot_tracking",
    "plot_transaction_rate_heterogeneity",
]

_UNIT_WORDS = {"s": N_("seconds"), "min": N_("minutes"), "h": N_("hours"), "D": N_("days"), "W": N_("weeks"),
               "M": N_("months"), "Q": N_("quarters"), "Y": N_("years")}
_UNIT_WORD = {"s": N_("second"), "min": N_("minute"), "h": N_("hour"), "D": N_("day"), "W": N_("week"),
              "M": N_("month"), "Q": N_("quarter"), "Y": N_("year")}
# "per week", "per purchase": what a heterogeneity density's rate or probability is counted per.
_PER = {"s": N_("per second"), "min": N_("per minute"), "h": N_("per hour"), "D": N_("per day"), "W": N_("per week"),
        "M": N_("per month"), "Q": N_("per quarter"), "Y": N_("per year"), "purchase": N_("per purchase"),
        "opportunity": N_("per opportunity")}
# The axis label and title of each quantity a heterogeneity density describes (whole phrases: word order differs).
_QUANTITY = {
    "purchase rate": (N_("Purchase rate {symbol} ({per})"), N_("Heterogeneity of the purchase rate across customers")),
    "dropout rate": (N_("Dropout rate {symbol} ({per})"), N_("Heterogeneity of the dropout rate across customers")),
    "dropout probability": (N_("Dropout probability {symbol} ({per})"),
                            N_("Heterogeneity of the dropout probability across customers")),
    "transaction probability": (N_("Transaction probability {symbol} ({per})"),
                                N_("Heterogeneity of the transaction probability across customers")),
}
_GREEK = {"lambda": "\N{GREEK SMALL LETTER LAMDA}", "mu": "\N{GREEK SMALL LETTER MU}",
          "theta": "\N{GREEK SMALL LETTER THETA}"}
_ACTUAL = "#333333"  # the data: dark grey; models take matplotlib's colour cycle


def _units(tr: Translator, time_unit: str, amount: float | None = None) -> str:
    """``"weeks"`` for ``"W"`` (``"week"`` for an amount of 1), in ``tr``'s language."""
    words = _UNIT_WORD if amount == 1.0 else _UNIT_WORDS
    return tr(words.get(time_unit, time_unit))


def _check_ax(ax: Any, where: str) -> Any:
    """A new ``Axes`` for ``None``, ``ax`` if it is one; raise otherwise (matplotlib imported here)."""
    require("matplotlib.axes")  # the missing extra is reported before any other check
    check_ax(ax, where)
    return axes(ax)


def _need_summary(summary: Any, where: str) -> CustomerSummary:
    if not isinstance(summary, CustomerSummary):
        raise InvalidInputError(f"{where} needs a clvkit.CustomerSummary. Got {type(summary).__name__} instead.")
    return summary


# ----------------------------------------------------------------------------------- frequency x recency
def _grid_plot(model: Any, which: str, T: float | None, max_frequency: int | None, summary: CustomerSummary | None,
               t: float, n_recency: int | None, ax: Any, cmap: str, lang: str | None, where: str) -> Any:
    tr, font = plot_language(lang)
    if T is None or max_frequency is None:
        if summary is None:
            raise InvalidInputError(f"{where} needs the customers' age 'T' and 'max_frequency', or a 'summary' to "
                                    f"take them from (its largest T and frequency). Got neither.")
        s = _need_summary(summary, where)
        if len(s) == 0:
            raise InvalidInputError(f"{where}: the summary is empty; pass T= and max_frequency=.")
        T = float(s.T.max()) if T is None else T
        max_frequency = max(int(s.frequency.max()), 1) if max_frequency is None else max_frequency
    grid = frequency_recency_grid(model, T, max_frequency, t=t, n_recency=n_recency)
    ax = _check_ax(ax, where)
    values = grid.expected_purchases if which == "expected" else grid.probability_alive
    half = grid.T / (2 * grid.recency.shape[0])
    limits = {"vmin": 0.0, "vmax": 1.0} if which == "alive" else {}
    image = ax.imshow(np.ma.masked_invalid(values), origin="upper", aspect="auto", interpolation="nearest",
                      cmap=cmap, extent=(half, grid.T + half, grid.frequency[-1] + 0.5, -0.5), **limits)
    unit = _units(tr, grid.time_unit)
    label = (tr("Expected purchases in the next {t} {unit}", t=f"{grid.t:g}", unit=_units(tr, grid.time_unit, grid.t))
             if which == "expected" else tr("Probability customer is alive"))
    bar = ax.figure.colorbar(image, ax=ax, label=label)
    ax.set_xlabel(tr("Recency: time of last purchase since the first ({unit})", unit=unit))
    ax.set_ylabel(tr("Frequency: repeat purchases"))
    ax.set_title(tr("{label},\nby frequency and recency (customers aged {age} {unit})", label=label,
                    age=f"{grid.T:.4g}", unit=unit), fontsize=11)
    use_font(font, ax, bar.ax)
    return ax


def plot_frequency_recency_matrix(model: Any, *, T: float | None = None, max_frequency: int | None = None,
                                  summary: CustomerSummary | None = None, t: float = 1.0,
                                  n_recency: int | None = None, ax: Any = None, cmap: str = "viridis",
                                  lang: str | None = None) -> Any:
    """Expected purchases in the next ``t`` by frequency (rows, 0 at the top) and recency (columns).

    Draws :func:`clvkit.valuation.checking.frequency_recency_grid` (``expected_purchases``) as an image, as
    lifetimes' ``plot_frequency_recency_matrix``. Customers are aged ``T``; ``T`` and ``max_frequency``
    default to the largest ``T`` and frequency of ``summary`` when it is given.

    Parameters
    ----------
    model:
        A fitted count model.
    T, max_frequency, summary:
        The grid: customers' age and largest frequency, or a summary to take them from.
    t:
        Horizon of the expected purchases, in the model's time unit.
    n_recency:
        Recency columns (see :func:`~clvkit.valuation.checking.frequency_recency_grid`).
    ax:
        A matplotlib ``Axes`` to draw on (default: a new figure).
    cmap:
        A matplotlib colour map name.
    lang:
        The language of the texts: ``"en"``, ``"zh"`` (Simplified Chinese, in the first installed font of
        :data:`clvkit.plotting.CJK_FONTS`; English when none is installed) or ``None`` for the locale's
        (:func:`clvkit.i18n.default_language`). Every plot of this module takes it.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    InvalidInputError
        For bad arguments (see the grid function), neither ``T`` nor ``summary``, or a ``lang`` other than
        ``"en"``, ``"zh"`` or ``None``.
    MissingDependencyError
        Without matplotlib (``pip install 'clvkit[plot]'``).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from clvkit.valuation import BetaGeoParams, FittedBetaGeo
    >>> bg = FittedBetaGeo(params=BetaGeoParams(r=0.243, alpha=4.414, a=0.793, b=2.426), time_unit="W")
    >>> ax = plot_frequency_recency_matrix(bg, T=39.0, max_frequency=20)
    >>> ax.get_images()[0].get_array().shape
    (21, 39)
    """
    return _grid_plot(model, "expected", T, max_frequency, summary, t, n_recency, ax, cmap, lang,
                      "plot_frequency_recency_matrix()")


def plot_probability_alive_matrix(model: Any, *, T: float | None = None, max_frequency: int | None = None,
                                  summary: CustomerSummary | None = None, n_recency: int | None = None,
                                  ax: Any = None, cmap: str = "viridis", lang: str | None = None) -> Any:
    """P(alive) by frequency (rows, 0 at the top) and recency (columns), on a 0-1 colour scale.

    Draws :func:`clvkit.valuation.checking.frequency_recency_grid` (``probability_alive``), as lifetimes'
    ``plot_probability_alive_matrix``; arguments as :func:`plot_frequency_recency_matrix`.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from clvkit.valuation import BetaGeoParams, FittedBetaGeo
    >>> bg = FittedBetaGeo(params=BetaGeoParams(r=0.243, alpha=4.414, a=0.793, b=2.426), time_unit="W")
    >>> ax = plot_probability_alive_matrix(bg, T=39.0, max_frequency=20)
    >>> float(ax.get_images()[0].get_array()[0, 0])  # no repeat purchase: a BG/NBD customer is alive
    1.0
    """
    return _grid_plot(model, "alive", T, max_frequency, summary, 1.0, n_recency, ax, cmap, lang,
                      "plot_probability_alive_matrix()")


# ----------------------------------------------------------------------------------- histograms
def _paired_bars(ax: Any, labels: Sequence[str], actual: Any, model: Any, model_label: str, tr: Translator) -> None:
    x = np.arange(len(labels), dtype=np.float64)
    width = 0.4
    ax.bar(x - width / 2, actual, width, label=tr("Actual"), color=_ACTUAL)
    ax.bar(x + width / 2, model, width, label=model_label, color="C0")
    ax.set_xticks(x, list(labels))
    ax.legend()


def _model_name(model: Any) -> str:
    return str(getattr(model, "model_name", type(model).__name__))


def plot_period_transactions(model: Any, summary: CustomerSummary, *, max_frequency: int = 7,
                             ax: Any = None, lang: str | None = None) -> Any:
    """Customers by number of calibration-period repeat purchases: actual vs expected (the fit histogram).

    Draws :func:`clvkit.valuation.checking.frequency_histogram` (``actual``, ``expected``) as paired bars,
    with the chi-square test in the title (lifetimes' ``plot_period_transactions``, which simulates; these
    are the exact expectations of Fader, Hardie & Lee 2005, Figure 1).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from clvkit.datasets import load_cdnow_summary
    >>> from clvkit.valuation import BetaGeoParams, FittedBetaGeo
    >>> bg = FittedBetaGeo(params=BetaGeoParams(r=0.243, alpha=4.414, a=0.793, b=2.426), time_unit="W")
    >>> ax = plot_period_transactions(bg, load_cdnow_summary())
    >>> [int(p.get_height()) for p in ax.containers[0]]  # actual customers with 0, 1, ..., 7+ repeat purchases
    [1411, 439, 214, 100, 62, 38, 29, 64]
    """
    where = "plot_period_transactions()"
    tr, font = plot_language(lang)
    hist = frequency_histogram(model, summary, max_frequency)
    ax = _check_ax(ax, where)
    _paired_bars(ax, hist.labels, hist.actual, hist.expected, _model_name(model), tr)
    ax.set_xlabel(tr("Repeat purchases in the calibration period"))
    ax.set_ylabel(tr("Customers"))
    ax.set_title(tr("Frequency of repeat purchases (chi-square {chi_square}, {dof} df, p = {p})",
                    chi_square=f"{hist.chi_square:.2f}", dof=hist.dof, p=f"{hist.p_value:.3f}"), fontsize=11)
    use_font(font, ax)
    return ax


def plot_pmf(model: Any, summary: CustomerSummary, *, max_frequency: int = 7, ax: Any = None,
             lang: str | None = None) -> Any:
    """The probability mass function of the number of repeat purchases in the calibration period: the share
    of customers with 0, 1, ... purchases, actual vs the model's (CLVTools' ``plot(fitted, which = "pmf")``).

    Draws :func:`clvkit.valuation.checking.frequency_histogram` (``actual_share``, ``expected_share``).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from clvkit.datasets import load_cdnow_summary
    >>> from clvkit.valuation import BetaGeoParams, FittedBetaGeo
    >>> bg = FittedBetaGeo(params=BetaGeoParams(r=0.243, alpha=4.414, a=0.793, b=2.426), time_unit="W")
    >>> ax = plot_pmf(bg, load_cdnow_summary())
    >>> round(float(sum(p.get_height() for p in ax.containers[1])), 12)  # the model's shares sum to 1
    1.0
    """
    where = "plot_pmf()"
    tr, font = plot_language(lang)
    hist = frequency_histogram(model, summary, max_frequency)
    ax = _check_ax(ax, where)
    _paired_bars(ax, hist.labels, hist.actual_share, hist.expected_share, _model_name(model), tr)
    ax.set_xlabel(tr("Repeat purchases in the calibration period"))
    ax.set_ylabel(tr("Share of customers"))
    ax.yaxis.set_major_formatter(require("matplotlib.ticker").PercentFormatter(1.0))
    ax.set_title(tr("Distribution of the number of repeat purchases"), fontsize=11)
    use_font(font, ax)
    return ax


def plot_calibration_purchases_vs_holdout_purchases(model: Any, summary: CustomerSummary, *,
                                                    max_frequency: int = 7, ax: Any = None,
                                                    lang: str | None = None) -> Any:
    """Mean holdout purchases by calibration-period frequency, actual vs predicted (lifetimes'
    ``plot_calibration_purchases_vs_holdout_purchases``; Fader, Hardie & Lee 2005, Figure 4).

    Draws :func:`clvkit.valuation.checking.conditional_expectations` (``actual``, ``predicted``); ``summary``
    needs holdout columns.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from clvkit.datasets import load_cdnow_summary
    >>> from clvkit.valuation import BetaGeoParams, FittedBetaGeo
    >>> bg = FittedBetaGeo(params=BetaGeoParams(r=0.243, alpha=4.414, a=0.793, b=2.426), time_unit="W")
    >>> ax = plot_calibration_purchases_vs_holdout_purchases(bg, load_cdnow_summary())
    >>> [line.get_label() for line in ax.get_lines()]
    ['Actual', 'BetaGeo']
    """
    where = "plot_calibration_purchases_vs_holdout_purchases()"
    tr, font = plot_language(lang)
    ce = conditional_expectations(model, summary, max_frequency)
    ax = _check_ax(ax, where)
    x = np.arange(len(ce.labels), dtype=np.float64)
    ax.plot(x, ce.actual, marker="o", color=_ACTUAL, label=tr("Actual"))
    ax.plot(x, ce.predicted, marker="s", linestyle="--", color="C0", label=_model_name(model))
    ax.set_xticks(x, list(ce.labels))
    ax.set_xlabel(tr("Repeat purchases in the calibration period"))
    ax.set_ylabel(tr("Mean purchases in the holdout period ({duration} {unit})", duration=f"{ce.duration:g}",
                     unit=_units(tr, summary.time_unit)))
    ax.set_title(tr("Actual vs predicted holdout purchases by calibration frequency"), fontsize=11)
    ax.legend()
    use_font(font, ax)
    return ax


# ----------------------------------------------------------------------------------- one customer
def plot_history_alive(model: Any, purchase_dates: Any, *, end: Any = None, ax: Any = None,
                       lang: str | None = None) -> Any:
    """One customer's P(alive) on every day from their first purchase, purchases marked (lifetimes'
    ``plot_history_alive``).

    Draws :func:`clvkit.valuation.checking.alive_history`: ``purchase_dates`` are the customer's purchase
    dates (ISO strings, ``datetime`` or ``datetime64``), ``end`` the last day (default: the last purchase).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from clvkit.valuation import BetaGeoParams, FittedBetaGeo
    >>> bg = FittedBetaGeo(params=BetaGeoParams(r=0.243, alpha=4.414, a=0.793, b=2.426), time_unit="W")
    >>> ax = plot_history_alive(bg, ["1997-01-01", "1997-02-01"], end="1997-06-30")
    >>> len(ax.get_lines()[0].get_ydata())  # one point per day after the first purchase
    180
    """
    where = "plot_history_alive()"
    tr, font = plot_language(lang)
    history = alive_history(model, purchase_dates, end=end)
    ax = _check_ax(ax, where)
    ax.plot(history.dates, history.probability_alive, color="C0", label=tr("P(alive)"))
    for k, day in enumerate(history.purchase_dates):
        ax.axvline(day, color=_ACTUAL, linestyle=":", linewidth=1, label=tr("Purchase") if k == 0 else None)
    ax.set_ylim(0.0, 1.05)
    ax.set_xlabel(tr("Date"))
    ax.set_ylabel(tr("Probability customer is alive"))
    ax.set_title(tr("History of P(alive)"), fontsize=11)
    ax.legend(loc="lower left")
    ax.figure.autofmt_xdate()
    use_font(font, ax)
    return ax


# ----------------------------------------------------------------------------------- tracking
def _tracking(model: Any, transactions: Any, options: dict[str, Any], where: str) -> TrackingResult:
    if isinstance(transactions, TrackingResult):
        given = {k: v for k, v in options.items() if v is not None}
        if given:
            raise InvalidInputError(f"{where}: {sorted(given)} apply to a transaction log; a TrackingResult is "
                                    f"already computed. Pass the log instead, or drop them.")
        return transactions
    missing = [k for k in ("customer_id", "datetime", "calibration_end") if options.get(k) is None]
    if missing:
        raise InvalidInputError(f"{where} needs {missing} to read the transaction log (or pass a TrackingResult "
                                f"from clvkit.valuation.checking.tracking()).")
    return tracking(model, transactions, **{k: v for k, v in options.items() if v is not None})


def _draw_tracking(ax: Any, results: Sequence[tuple[str, TrackingResult]], cumulative: bool, lang: str | None) -> None:
    tr, font = plot_language(lang)
    first = results[0][1]
    actual = first.actual_cumulative if cumulative else first.actual_incremental
    ax.plot(first.elapsed, actual, color=_ACTUAL, label=tr("Actual"))
    for k, (label, result) in enumerate(results):
        expected = result.expected_cumulative if cumulative else result.expected_incremental
        ax.plot(result.elapsed, expected, color=f"C{k}", linestyle="--", label=label)
    unit = _units(tr, first.time_unit)
    if 0 < first.n_calibration_periods < first.period.shape[0]:
        ax.axvline(float(first.elapsed[first.n_calibration_periods - 1]), color="grey", linestyle=":",
                   label=tr("End of calibration"))
    ax.set_xlabel(tr("Time since the cohort's first purchase ({unit})", unit=unit))
    count = f"{first.n_customers:,}"
    if cumulative:
        ax.set_ylabel(tr("Cumulative repeat transactions"))
        ax.set_title(tr("Tracking cumulative repeat transactions ({count} customers)", count=count), fontsize=11)
    else:
        ax.set_ylabel(tr("Incremental repeat transactions"))
        ax.set_title(tr("Tracking incremental repeat transactions ({count} customers)", count=count), fontsize=11)
    ax.legend()
    use_font(font, ax)


def _options(customer_id: str | None, datetime: str | None, calibration_end: Any, time_unit: str | None,
             period: int | None, observation_end: Any) -> dict[str, Any]:
    return {"customer_id": customer_id, "datetime": datetime, "calibration_end": calibration_end,
            "time_unit": time_unit, "period": period, "observation_end": observation_end}


def plot_cumulative_transactions(model: Any, transactions: Any, *, customer_id: str | None = None,
                                 datetime: str | None = None, calibration_end: Any = None,
                                 time_unit: str | None = None, period: int | None = None,
                                 observation_end: Any = None, ax: Any = None, lang: str | None = None) -> Any:
    """The cohort's cumulative repeat transactions per period, actual vs expected (lifetimes'
    ``plot_cumulative_transactions``; Fader, Hardie & Lee 2005, Figure 3).

    Draws :func:`clvkit.valuation.checking.tracking` (``actual_cumulative``, ``expected_cumulative`` against
    ``elapsed``), with the end of calibration marked. ``transactions`` is the log (read with the keyword
    arguments, as ``tracking()`` reads them) or a :class:`~clvkit.valuation.checking.TrackingResult` already
    computed (then no keyword but ``ax``).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from clvkit.datasets import load_cdnow_transactions
    >>> from clvkit.valuation import BetaGeoParams, FittedBetaGeo
    >>> bg = FittedBetaGeo(params=BetaGeoParams(r=0.243, alpha=4.414, a=0.793, b=2.426), time_unit="W")
    >>> ax = plot_cumulative_transactions(bg, load_cdnow_transactions(), customer_id="customer_id",
    ...                                   datetime="date", calibration_end="1997-09-30", period=7)
    >>> int(ax.get_lines()[0].get_ydata()[-1])  # actual repeat transactions in the 78 weeks
    4339
    """
    where = "plot_cumulative_transactions()"
    plot_language(lang)  # a bad language fails before the tracking is computed
    result = _tracking(model, transactions, _options(customer_id, datetime, calibration_end, time_unit, period,
                                                     observation_end), where)
    ax = _check_ax(ax, where)
    _draw_tracking(ax, [(_model_name(model), result)], cumulative=True, lang=lang)
    return ax


def plot_incremental_transactions(model: Any, transactions: Any, *, customer_id: str | None = None,
                                  datetime: str | None = None, calibration_end: Any = None,
                                  time_unit: str | None = None, period: int | None = None,
                                  observation_end: Any = None, ax: Any = None, lang: str | None = None) -> Any:
    """The cohort's repeat transactions in each period, actual vs expected (lifetimes'
    ``plot_incremental_transactions``; Fader, Hardie & Lee 2005, Figure 2). Arguments as
    :func:`plot_cumulative_transactions`; draws ``actual_incremental`` and ``expected_incremental``.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from clvkit.datasets import load_cdnow_transactions
    >>> from clvkit.valuation import BetaGeoParams, FittedBetaGeo
    >>> bg = FittedBetaGeo(params=BetaGeoParams(r=0.243, alpha=4.414, a=0.793, b=2.426), time_unit="W")
    >>> ax = plot_incremental_transactions(bg, load_cdnow_transactions(), customer_id="customer_id",
    ...                                    datetime="date", calibration_end="1997-09-30", period=7)
    >>> len(ax.get_lines()[1].get_ydata())  # 78 weeks
    78
    """
    where = "plot_incremental_transactions()"
    plot_language(lang)  # a bad language fails before the tracking is computed
    result = _tracking(model, transactions, _options(customer_id, datetime, calibration_end, time_unit, period,
                                                     observation_end), where)
    ax = _check_ax(ax, where)
    _draw_tracking(ax, [(_model_name(model), result)], cumulative=False, lang=lang)
    return ax


def plot_tracking(models: Any, transactions: Any, *, customer_id: str, datetime: str, calibration_end: Any,
                  time_unit: str | None = None, period: int | None = None, observation_end: Any = None,
                  cumulative: bool = False, ax: Any = None, lang: str | None = None) -> Any:
    """Actual repeat transactions per period with several models' expectations overlaid (CLVTools'
    ``plot(fitted)`` tracking plot of a list of models).

    Draws one :func:`clvkit.valuation.checking.tracking` result per model: ``models`` is a mapping of label to
    fitted count model, a sequence of models (labelled by their ``model_name``) or one model.
    ``cumulative=True`` draws the running totals.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from clvkit.datasets import load_cdnow_transactions
    >>> from clvkit.valuation import BetaGeoParams, FittedBetaGeo, FittedParetoNBD, ParetoNBDParams
    >>> bg = FittedBetaGeo(params=BetaGeoParams(r=0.243, alpha=4.414, a=0.793, b=2.426), time_unit="W")
    >>> pnbd = FittedParetoNBD(params=ParetoNBDParams(r=0.553, alpha=10.578, s=0.606, beta=11.669), time_unit="W")
    >>> ax = plot_tracking({"BG/NBD": bg, "Pareto/NBD": pnbd}, load_cdnow_transactions(),
    ...                    customer_id="customer_id", datetime="date", calibration_end="1997-09-30", period=7)
    >>> [line.get_label() for line in ax.get_lines()][:3]
    ['Actual', 'BG/NBD', 'Pareto/NBD']
    """
    where = "plot_tracking()"
    plot_language(lang)  # a bad language fails before the tracking is computed
    if isinstance(models, Mapping):
        labelled = [(str(k), v) for k, v in models.items()]
    elif isinstance(models, Sequence) and not isinstance(models, (str, bytes)):
        labelled = [(_model_name(m), m) for m in models]
    else:
        labelled = [(_model_name(models), models)]
    if not labelled:
        raise InvalidInputError(f"The 'models' parameter of {where} must hold at least one fitted model. Got none.")
    if not isinstance(cumulative, bool):
        raise InvalidInputError(f"The 'cumulative' parameter of {where} must be True or False. Got {cumulative!r} "
                                f"instead.")
    options = _options(customer_id, datetime, calibration_end, time_unit, period, observation_end)
    results = [(label, _tracking(model, transactions, options, where)) for label, model in labelled]
    ax = _check_ax(ax, where)
    _draw_tracking(ax, results, cumulative, lang)
    return ax


# ----------------------------------------------------------------------------------- model curves
def _heterogeneity(model: Any, which: Any, ax: Any, lang: str | None, where: str) -> Any:
    tr, font = plot_language(lang)
    d = heterogeneity_density(model, which)
    ax = _check_ax(ax, where)
    symbol = _GREEK.get(d.symbol, d.symbol)
    ax.plot(d.x, d.density, color="C0", label=d.family)
    ax.fill_between(d.x, d.density, color="C0", alpha=0.2)
    ax.axvline(d.mean, color=_ACTUAL, linestyle="--", label=tr("Mean {mean}", mean=f"{d.mean:.3g}"))
    per = tr(_PER[d.per]) if d.per in _PER else f"per {d.per}"
    if d.quantity in _QUANTITY:
        label, title = (tr(message, symbol=symbol, per=per) for message in _QUANTITY[d.quantity])
    else:  # a quantity of a future model: English until the catalogue names it
        label = f"{d.quantity.capitalize()} {symbol} ({per})"
        title = f"Heterogeneity of the {d.quantity} across customers"
    ax.set_xlabel(label)
    ax.set_ylabel(tr("Density"))
    ax.set_xlim(0.0, float(d.x[-1] + d.x[0]))
    # A Gamma or Beta shape below 1 makes the density infinite at 0: keep the body of the curve readable.
    ax.set_ylim(0.0, float(min(d.density.max(), 4.0 * np.quantile(d.density, 0.9))) * 1.05)
    ax.set_title(title, fontsize=11)
    ax.legend()
    use_font(font, ax)
    return ax


def plot_transaction_rate_heterogeneity(model: Any, *, ax: Any = None, lang: str | None = None) -> Any:
    """Density of the purchase rate (or per-opportunity purchase probability) across customers, with its mean
    (lifetimes' ``plot_transaction_rate_heterogeneity``).

    Draws :func:`clvkit.valuation.checking.heterogeneity_density` with ``which="transaction_rate"``. A shape
    below 1 makes the density infinite at 0; the vertical axis is cut at 4 x the 90th percentile of the drawn
    density (the curve's data are whole).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from clvkit.valuation import BetaGeoParams, FittedBetaGeo
    >>> bg = FittedBetaGeo(params=BetaGeoParams(r=0.243, alpha=4.414, a=0.793, b=2.426), time_unit="W")
    >>> plot_transaction_rate_heterogeneity(bg).get_xlabel()
    'Purchase rate λ (per week)'
    """
    return _heterogeneity(model, "transaction_rate", ax, lang, "plot_transaction_rate_heterogeneity()")


def plot_dropout_rate_heterogeneity(model: Any, *, ax: Any = None, lang: str | None = None) -> Any:
    """Density of the dropout probability (BG/NBD, MBG/NBD: after each purchase; BG/BB: per opportunity) or
    dropout rate (Pareto/NBD) across customers, with its mean (lifetimes' ``plot_dropout_rate_heterogeneity``).

    Draws :func:`clvkit.valuation.checking.heterogeneity_density` with ``which="dropout"``.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from clvkit.valuation import BetaGeoParams, FittedBetaGeo
    >>> bg = FittedBetaGeo(params=BetaGeoParams(r=0.243, alpha=4.414, a=0.793, b=2.426), time_unit="W")
    >>> plot_dropout_rate_heterogeneity(bg).get_xlabel()
    'Dropout probability p (per purchase)'
    """
    return _heterogeneity(model, "dropout", ax, lang, "plot_dropout_rate_heterogeneity()")


def plot_expected_repeat_purchases(model: Any, *, horizon: float, calibration_length: float | None = None,
                                   n_points: int = 200, label: str | None = None, ax: Any = None,
                                   lang: str | None = None) -> Any:
    """E[X(t)]: a new customer's expected repeat purchases by time ``t`` since the first purchase (lifetimes'
    ``plot_expected_repeat_purchases``: solid over the calibration length, dashed beyond).

    Draws :func:`clvkit.valuation.checking.expected_repeat_purchases` from 0 to ``horizon``; with
    ``calibration_length`` the part beyond it (an extrapolation) is dashed and the boundary marked. Call it
    on the same ``ax`` with several models to compare them.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from clvkit.valuation import BetaGeoParams, FittedBetaGeo
    >>> bg = FittedBetaGeo(params=BetaGeoParams(r=0.243, alpha=4.414, a=0.793, b=2.426), time_unit="W")
    >>> ax = plot_expected_repeat_purchases(bg, horizon=78.0)
    >>> round(float(ax.get_lines()[0].get_ydata()[-1]), 3)
    1.861
    """
    where = "plot_expected_repeat_purchases()"
    tr, font = plot_language(lang)
    curve = expected_repeat_purchases(model, horizon, n_points=n_points)
    if label is not None and not isinstance(label, str):
        raise InvalidInputError(f"The 'label' parameter of {where} must be a string or None. Got {label!r} instead.")
    ax = _check_ax(ax, where)
    name = label or _model_name(model)
    unit = _units(tr, curve.time_unit)
    if calibration_length is None:
        ax.plot(curve.t, curve.expected, label=name)
    else:
        cal = float(calibration_length) if isinstance(calibration_length, (int, float)) else -1.0
        if not 0.0 < cal < curve.t[-1] or isinstance(calibration_length, bool):
            raise InvalidInputError(f"The 'calibration_length' parameter of {where} must be a number in "
                                    f"(0, horizon). Got {calibration_length!r} instead.")
        inside = curve.t <= cal
        (line,) = ax.plot(curve.t[inside], curve.expected[inside], label=name)
        k = int(np.count_nonzero(inside)) - 1
        ax.plot(curve.t[k:], curve.expected[k:], color=line.get_color(), linestyle="--",
                label=tr("{name} (beyond calibration)", name=name))
        ax.axvline(cal, color="grey", linestyle=":")
    ax.set_xlabel(tr("Time since first purchase ({unit})", unit=unit))
    ax.set_ylabel(tr("Expected repeat purchases"))
    ax.set_title(tr("Expected repeat purchases of a new customer"), fontsize=11)
    ax.legend()
    use_font(font, ax)
    return ax


# ----------------------------------------------------------------------------------- spend and timing
def plot_spend_distribution(model: Any, summary: CustomerSummary, *, bins: int = 40, ax: Any = None,
                            lang: str | None = None) -> Any:
    """Average spend per transaction of the repeat customers: observed histogram vs the density the spend
    model implies (CLVTools' spending plot of a Gamma-Gamma fit).

    Draws :func:`clvkit.valuation.checking.spend_distribution` (``observed_density`` as bars over ``edges``,
    ``implied_density`` over ``z``); the axis ends at the 99th percentile of the observed averages.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from clvkit.datasets import load_cdnow_summary
    >>> from clvkit.valuation import FittedGammaGamma, GammaGammaParams
    >>> gg = FittedGammaGamma(params=GammaGammaParams(p=6.25, q=3.74, v=15.44), time_unit="W")
    >>> ax = plot_spend_distribution(gg, load_cdnow_summary())
    >>> len(ax.containers[0]), len(ax.get_lines()[0].get_ydata())
    (40, 400)
    """
    where = "plot_spend_distribution()"
    tr, font = plot_language(lang)
    sd = spend_distribution(model, summary, bins=bins)
    ax = _check_ax(ax, where)
    ax.bar(sd.edges[:-1], sd.observed_density, width=np.diff(sd.edges), align="edge", color=_ACTUAL, alpha=0.45,
           edgecolor="white", label=tr("Observed ({count} repeat customers)", count=f"{sd.observed.shape[0]:,}"))
    ax.plot(sd.z, sd.implied_density, color="C0", linewidth=2, label=_model_name(model))
    ax.set_xlim(0.0, float(sd.edges[-1]))
    ax.set_xlabel(tr("Average spend per transaction"))
    ax.set_ylabel(tr("Density"))
    ax.set_title(tr("Distribution of the average spend per transaction"), fontsize=11)
    ax.legend()
    use_font(font, ax)
    return ax


def plot_interpurchase_times(summary: CustomerSummary, *, bins: int = 40, ax: Any = None,
                             lang: str | None = None) -> Any:
    """Histogram of the customers' mean time between purchases, ``recency / frequency`` of each customer with
    a repeat purchase, with its mean (CLVTools' ``plot(clv.data, which = "interpurchasetime")``).

    Draws :func:`clvkit.valuation.checking.interpurchase_times`. Data only: no model.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from clvkit.datasets import load_cdnow_summary
    >>> ax = plot_interpurchase_times(load_cdnow_summary())
    >>> ax.get_xlabel()
    'Mean time between purchases (weeks)'
    """
    where = "plot_interpurchase_times()"
    tr, font = plot_language(lang)
    ipt = interpurchase_times(summary, bins=bins)
    ax = _check_ax(ax, where)
    unit = _units(tr, ipt.time_unit)
    ax.bar(ipt.edges[:-1], ipt.density, width=np.diff(ipt.edges), align="edge", color="C0", alpha=0.7,
           edgecolor="white", label=tr("{count} customers with a repeat purchase", count=f"{ipt.mean_time.shape[0]:,}"))
    ax.axvline(ipt.mean, color=_ACTUAL, linestyle="--", label=tr("Mean {mean} {unit}", mean=f"{ipt.mean:.3g}",
                                                                   unit=unit))
    ax.set_xlim(0.0, float(ipt.edges[-1]))
    ax.set_xlabel(tr("Mean time between purchases ({unit})", unit=unit))
    ax.set_ylabel(tr("Density"))
    ax.set_title(tr("Inter-purchase times"), fontsize=11)
    ax.legend()
    use_font(font, ax)
    return ax
