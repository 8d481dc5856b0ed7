"""The covariate effects of a fitted model: each coefficient's multiplicative effect with its Wald interval.

Under CLVTools' link (the one clvkit fits, ``covariate_links`` of the fitted class) a covariate ``z`` multiplies
a parameter by ``exp(sign * gamma * z)``, so ``exp(gamma)`` is what one unit of the covariate does: Pareto/NBD
and BG/NBD purchase process, the purchase rate times ``exp(gamma)``; Pareto/NBD dropout process, the dropout
rate times ``exp(gamma)``; BG/NBD and MBG/NBD dropout process, both parameters ``a`` and ``b`` of the dropout
probability's beta distribution times ``exp(gamma)`` (its mean stays, its spread across customers shrinks when
``exp(gamma) > 1``); Gamma-Gamma spend, the expected spend per purchase times ``exp(gamma)``; the shifted
beta-geometric contract model, ``alpha`` and so the odds of churning ``alpha/beta``. The plot draws
these factors, as :meth:`~clvkit.valuation.FittedParetoNBD.coefficient_table` lists them (``exp_estimate``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
from scipy import special

from .._frames import require
from ..errors import InvalidInputError, ModelDomainError, NotFittedError
from ..i18n import N_, Translator
from ..protocols import EstimatedModel
from ..valuation.checking.uncertainty import _check_level
from ._lang import plot_language, use_font
from ._mpl import axes, check_ax

__all__ = ["plot_coefficients"]

# The heading of each process's group of rows: what exp(gamma) multiplies (whole sentences: word order differs).
_HEADINGS = {
    "purchase": N_("Purchase process: \N{MULTIPLICATION SIGN} purchase rate"),
    "dropout": N_("Dropout process: \N{MULTIPLICATION SIGN} dropout rate"),
    "spend": N_("Spend: \N{MULTIPLICATION SIGN} expected spend per purchase"),
}
# BG/NBD and MBG/NBD: a dropout covariate scales both a and b, not a rate.
_DROPOUT_BETA = N_("Dropout process: \N{MULTIPLICATION SIGN} a and b of the dropout probability")
# Models that declare their own reading (``covariate_readings`` of the fitted class), by that reading.
_READINGS = {"churn odds alpha/beta": N_("Churn: \N{MULTIPLICATION SIGN} odds of churning (alpha/beta)")}
_COLOURS = {"purchase": "C0", "dropout": "C1", "spend": "C2"}
#: The axis reaches at most a factor _AXIS_CAP either side of 1 (clvkit default); wider intervals end in an arrow.
_AXIS_CAP = 1000.0
_LOG_CAP = math.log(_AXIS_CAP)


def _heading(tr: Translator, process: str, model: Any) -> str:
    reading = (getattr(type(model), "covariate_readings", {}) or {}).get(process)
    if reading is not None:
        return tr(_READINGS[reading]) if reading in _READINGS else tr(
            "{process} process: \N{MULTIPLICATION SIGN} {reading}", process=process, reading=reading)
    links = getattr(type(model), "covariate_links", {}) or {}
    if process == "dropout" and len(links.get("dropout", ())) != 1:
        return tr(_DROPOUT_BETA)
    if process in _HEADINGS:
        return tr(_HEADINGS[process])
    return tr("Process {process}", process=process)


def _rows(model: Any, where: str) -> list[tuple[str, str, float, float]]:
    """``(process, name, estimate, standard error)`` per coefficient, or a typed error saying what is missing."""
    coefficients = getattr(model, "coefficients", None)
    if not isinstance(model, EstimatedModel) or not isinstance(coefficients, Mapping):
        raise InvalidInputError(f"The 'model' parameter of {where} must be a fitted clvkit model with covariates "
                                f"(e.g. ParetoNBD().fit(summary, purchase_covariates=...)). "
                                f"Got {type(model).__name__} instead.")
    name = type(model).__name__
    if not any(coefficients.values()):
        raise NotFittedError(f"{where}: this {name} has no covariate coefficients. Fit it with covariates "
                             f"(purchase_covariates=/dropout_covariates=, or spend_covariates= for GammaGamma).")
    if model.fit_info is None:
        raise NotFittedError(f"{where}: this {name} was built from parameters, so its coefficients have no standard "
                             f"errors. Fit it with its engine's fit() to get them.")
    se = getattr(model, "standard_errors", None) or {}
    rows = [(process, str(cov), float(value), se.get(f"{process}.{cov}"))
            for process, values in coefficients.items() for cov, value in values.items()]
    missing = [f"{process}.{cov}" for process, cov, _, s in rows if s is None or not math.isfinite(s)]
    if missing:
        raise ModelDomainError(
            f"{where}: the fit of this {name} has no standard errors for {missing} (the observed information was "
            f"not positive definite; the coefficients are weakly identified by these data). Drop a covariate that "
            f"(nearly) repeats another, use more data, or read the point estimates in coefficient_table().")
    return [(process, cov, value, float(s)) for process, cov, value, s in rows if s is not None]


def plot_coefficients(model: Any, *, level: float = 0.9, ax: Any = None, lang: str | None = None) -> Any:
    """The covariate effects of a fitted model: ``exp(coefficient)`` with its Wald interval, one row each.

    Each covariate coefficient ``gamma`` is drawn as its multiplicative effect ``exp(gamma)`` (a dot) with the
    Wald interval ``exp(gamma -/+ z se)`` at ``level`` (a bar; ``z`` the standard normal quantile of
    ``(1 + level) / 2``), on a log axis with a dashed line at 1 (no effect). Rows are grouped by process, each
    group headed by what ``exp(gamma)`` multiplies (the purchase rate, the dropout rate, ``a`` and ``b`` of
    the BG/NBD dropout probability, the expected spend per purchase, the sBG odds of churning); a covariate
    constrained ``equal`` across
    processes is marked so in both rows. The numbers are those of
    :meth:`~clvkit.valuation.FittedParetoNBD.coefficient_table` (``exp_estimate``, ``standard_error``).
    A bar that does not cross the line is an effect significant at ``1 - level`` (two-sided Wald test).
    The axis reaches at most a factor 1000 either side of 1: a weakly identified coefficient whose interval
    reaches further ends in an arrow at the edge, its row labelled so.

    Parameters
    ----------
    model:
        A model fitted with covariates (Pareto/NBD, BG/NBD, MBG/NBD, Gamma-Gamma, shifted beta-geometric, ...).
    level:
        Coverage of the intervals, in (0, 1); default 90%.
    ax:
        Axes to draw into; a new figure when ``None``.
    lang:
        The language of the texts: ``"en"``, ``"zh"`` (Simplified Chinese, in the first installed font of
        :data:`clvkit.plotting.CJK_FONTS`; English when none is installed) or ``None`` for the locale's
        (:func:`clvkit.i18n.default_language`). Covariate names are drawn as they are.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    InvalidInputError
        For a ``model`` that is not a fitted clvkit model, ``level`` outside (0, 1), or a bad ``ax`` / ``lang``.
    NotFittedError
        For a model without covariates, or one built from parameters (no standard errors): fit it with covariates.
    ModelDomainError
        For a fit without standard errors (observed information not positive definite).
    MissingDependencyError
        When matplotlib is not installed (the ``plot`` extra).

    Examples
    --------
    Offline customers simulated to buy ``exp(0.6) = 1.82`` times as often as online ones:

    >>> import numpy as np
    >>> from clvkit import Covariates, CustomerSummary
    >>> from clvkit.valuation import ParetoNBD
    >>> from clvkit.valuation.models import _paretonbd
    >>> rng = np.random.default_rng(7)
    >>> offline = np.repeat([0, 1], 1500)
    >>> x, tx = np.empty(3000), np.empty(3000)
    >>> for g, alpha in ((0, 8.0), (1, 8.0 * np.exp(-0.6))):
    ...     x[offline == g], tx[offline == g] = _paretonbd.simulate(np.array([0.8, alpha, 0.6, 12.0]),
    ...                                                             np.full(1500, 52.0), rng)
    >>> summary = CustomerSummary(x, tx, np.full(3000, 52.0), customer_id=np.arange(3000), time_unit="W")
    >>> cov = Covariates.static({"id": np.arange(3000), "offline": offline}, customer_id="id", columns=["offline"])
    >>> fitted = ParetoNBD().fit(summary, purchase_covariates=cov)
    >>> ax = plot_coefficients(fitted, lang="en")
    >>> [t.get_text() for t in ax.get_yticklabels()], ax.get_xscale()
    (['offline'], 'log')
    >>> ax.texts[0].get_text()
    'Purchase process: \N{MULTIPLICATION SIGN} purchase rate'
    >>> ax.figure.clf()
    """
    where = "plot_coefficients()"
    tr, font = plot_language(lang)
    rows = _rows(model, where)
    lv = _check_level(level, where)
    require("matplotlib.axes")  # the missing extra is reported before the Axes check
    check_ax(ax, where)
    z = float(special.ndtri(0.5 + 0.5 * lv))
    equal = set(getattr(model, "equal", ()) or ())

    processes = list(dict.fromkeys(process for process, _, _, _ in rows))
    n_rows = len(rows) + len(processes)  # one heading row per process
    ax = axes(ax, figsize=(7.0, 1.2 + 0.38 * n_rows), constrained=True)
    level_text = f"{lv:.0%}" if round(lv * 100, 6).is_integer() else f"{lv:.1%}"
    y = 0.0
    ticks: list[float] = []
    tick_labels: list[str] = []
    for g, process in enumerate(processes):
        if g:
            ax.axhline(y - 0.5, color="#bbbbbb", lw=0.6, zorder=0)
        ax.text(0.01, y, _heading(tr, process, model), transform=ax.get_yaxis_transform(), ha="left", va="center",
                fontsize=9, fontweight="bold", color="#333333")
        mine = [(cov, value, se) for p, cov, value, se in rows if p == process]
        ys = y + 1.0 + np.arange(len(mine), dtype=np.float64)
        estimate = np.array([value for _, value, _ in mine])
        half = z * np.array([se for _, _, se in mine])
        colour = _COLOURS.get(process, f"C{3 + g}")
        # A weakly identified coefficient's interval can span hundreds of decades and would squash every other
        # row: the axis stops at _AXIS_CAP either side of 1, a bar reaching beyond ends in an arrow there.
        lo_end, hi_end = np.clip(estimate - half, -_LOG_CAP, _LOG_CAP), np.clip(estimate + half, -_LOG_CAP, _LOG_CAP)
        ax.hlines(ys, np.exp(lo_end), np.exp(hi_end), color=colour, lw=2.2, zorder=2,
                  label=tr("{level} Wald interval", level=level_text) if g == 0 else None)
        ax.plot(np.exp(np.clip(estimate, -_LOG_CAP, _LOG_CAP)), ys, "o", color=colour, markersize=6, zorder=3,
                label=tr("effect exp(coefficient)") if g == 0 else None)
        cut_lo, cut_hi = estimate - half < -_LOG_CAP, estimate + half > _LOG_CAP
        if cut_lo.any():
            ax.plot(np.exp(lo_end[cut_lo]), ys[cut_lo], "<", color=colour, markersize=7, zorder=3)
        if cut_hi.any():
            ax.plot(np.exp(hi_end[cut_hi]), ys[cut_hi], ">", color=colour, markersize=7, zorder=3)
        ticks += ys.tolist()
        for (cov, _, _), cut in zip(mine, cut_lo | cut_hi, strict=True):
            label = tr("{name} (equal in both processes)", name=cov) if cov in equal else cov
            tick_labels.append(tr("{name} (interval beyond the axis)", name=label) if cut else label)
        y = float(ys[-1]) + 1.0
    ax.axvline(1.0, color="#555555", ls="--", lw=1, zorder=1, label=tr("no effect (\N{MULTIPLICATION SIGN}1)"))
    ax.set_xscale("log")
    _x_limits(ax, [float(np.exp(np.clip(v + s * z * se, -_LOG_CAP, _LOG_CAP))) for _, _, v, se in rows
                   for s in (-1.0, 1.0)])
    ax.set_yticks(ticks, labels=tick_labels)
    ax.set_ylim(y - 0.4, -0.6)  # the first group at the top
    ax.set_xlabel(tr("Multiplicative effect of one unit of the covariate (log scale)"))
    ax.set_title(tr("Covariate effects of the {model} model", model=getattr(model, "model_name", "")
                    or type(model).__name__), fontsize=11, pad=18)
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=3, fontsize=8, frameon=False)
    use_font(font, ax)
    return ax


def _x_limits(ax: Any, bounds: list[float]) -> None:
    """Room around the intervals and the line at 1; plain numbers (0.9, 1, 1.1 or 0.5, 1, 2) on the axis unless
    the intervals span more than two decades, where matplotlib's powers of ten read better."""
    ticker = require("matplotlib.ticker")
    finite = [b for b in bounds if 0.0 < b < math.inf]
    lo, hi = min([*finite, 1.0]), max([*finite, 1.0])
    span = math.log(hi) - math.log(lo)  # in logs: hi / lo overflows for the widest intervals
    pad = math.exp(0.06 * span)
    ax.set_xlim(lo / pad, hi * pad)
    if span <= math.log(100.0):
        # Narrow spans: evenly spaced round numbers (0.9, 1, 1.1); up to two decades: 1-2-(3-)5 steps.
        locator = (ticker.MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10]) if span <= math.log(4.0)
                   else ticker.LogLocator(base=10.0, subs=(1.0, 2.0, 3.0, 5.0) if span <= math.log(20.0)
                                          else (1.0, 2.0, 5.0)))
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _pos: f"{v:g}"))
        ax.xaxis.set_minor_formatter(ticker.NullFormatter())
