"""Management plots: value concentration with the tiers, tier migration, the value x risk and value x cost
matrices, and value at risk by employee with the binding of each employee's accounts.

Every plot draws one clvkit result object as it is: the Lorenz points, tier shares, migration rates, matrix
cells and cuts, values at risk and scores come from :mod:`clvkit.tiering` and :mod:`clvkit.binding`, never
from a computation here, so a plot always shows the numbers the reports print. Every function takes ``lang``
(``"en"``, ``"zh"`` or ``None`` for the locale's language), the language of its texts, as :func:`plot_lorenz`
describes; a ``title`` given is drawn as it is.

- :func:`plot_lorenz` - Lorenz curve, equality line, Gini, top 1/10/20% shares, the tiers as bands, from an
  :class:`~clvkit.tiering.Inventory` (:meth:`~clvkit.tiering.Inventory.cumulative_shares` for the boundaries);
- :func:`plot_tier_migration` - heat map of where each tier's customers went (rows: before), from a
  :class:`~clvkit.tiering.Migration`;
- :func:`plot_value_risk` / :func:`plot_value_cost` - one point per customer, the cut lines
  (``TierAssignment.cuts``) and the treatment of each quadrant, from the assignment of
  :class:`~clvkit.tiering.ValueRiskMatrix` / :class:`~clvkit.tiering.ValueCostMatrix`;
- :func:`plot_binding` - value at risk and value held alone per employee, coloured by the binding score of
  their accounts, from :class:`~clvkit.binding.EmployeeRisk` (or a :class:`~clvkit.binding.TeamReport`).

Choices: shares are drawn on percent axes. Value (and cost) axes are logarithmic when the values span two
decades or more (CLV does: a few customers hold most of it) and symmetric-logarithmic when some of them are
zero or lie far below the rest (linear near 0, so that no customer falls off the axis and ten decades of
near-zero values do not squeeze everyone else into a corner); linear otherwise; ``value_scale=`` overrides.
Scatter points shrink and fade as the number of customers grows (2,357 CDNOW customers: alpha 0.29) so that
dense regions stay readable, and are rasterised above 10,000 points so that vector output stays small. The
value x cost matrix has its own function (:func:`plot_value_cost`) rather than a mode of
:func:`plot_value_risk`: each checks that it got the matrix it draws and names the other when it did not.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal, cast

import numpy as np
import numpy.typing as npt

from .._frames import require
from ..binding import EmployeeRisk, TeamReport
from ..errors import InvalidInputError
from ..i18n import N_, Translator
from ..tiering import Concentration, Inventory, Migration, TierAssignment
from ._lang import plot_language, use_font
from ._mpl import axes, check_ax

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["plot_binding", "plot_lorenz", "plot_tier_migration", "plot_value_cost", "plot_value_risk"]

FloatArray = npt.NDArray[np.float64]
Scale = Literal["auto", "linear", "log", "symlog"]

#: Above this many points a scatter is rasterised (vector files of 100k markers are slow to open).
RASTERIZE_ABOVE = 10_000
#: Values spanning at least this ratio (largest / smallest, all positive) get a logarithmic axis on "auto".
LOG_SPAN = 100.0

# Colour of each matrix cell in code order (low/low, low/high, high/low, high/high): grey for the cell that
# needs least, a light hue for low value on the risky/costly side, green for high value on the safe/cheap side,
# a strong hue (vermillion, blue) for the cell the texts put first. Colour-blind safe (Okabe-Ito hues).
_RISK_COLOURS = ("#9a9a9a", "#56b4e9", "#009e73", "#d55e00")
_COST_COLOURS = ("#9a9a9a", "#e69f00", "#009e73", "#0072b2")


# ---------------------------------------------------------------------------------------------- helpers
def _check_title(title: Any, where: str) -> None:
    if title is not None and not isinstance(title, str):
        raise InvalidInputError(f"The 'title' parameter of {where} must be a string or None (None: the default "
                                f"title, '': no title). Got {type(title).__name__} instead.")


def _check_flag(value: Any, name: str, where: str) -> None:
    if not isinstance(value, (bool, np.bool_)):
        raise InvalidInputError(f"The '{name}' parameter of {where} must be True or False. Got {value!r} instead.")


def _check_scale(scale: Any, name: str, where: str) -> None:
    if not isinstance(scale, str) or scale not in ("auto", "linear", "log", "symlog"):
        raise InvalidInputError(f"The '{name}' parameter of {where} must be 'auto', 'linear', 'log' or 'symlog'. "
                                f"Got {scale!r} instead.")


def _wrong_type(where: str, name: str, expected: str, got: Any, hint: str = "") -> InvalidInputError:
    return InvalidInputError(f"The '{name}' parameter of {where} must be {expected}. "
                             f"Got {type(got).__name__} instead.{' ' + hint if hint else ''}")


def _title(ax: Any, title: str | None, default: str, pad: float = 6.0) -> None:
    text = default if title is None else title
    if text:
        ax.set_title(text, pad=pad)


def _percent(axis: Any) -> None:
    ticker = require("matplotlib.ticker")
    axis.set_major_formatter(ticker.PercentFormatter(xmax=1.0, decimals=0))


def _money(x: float) -> str:
    """A compact amount for labels: ``655k``, ``3.75M``, ``12.5``.

    Examples
    --------
    >>> _money(655185.7), _money(3748963.0), _money(12.5), _money(-2500.0), _money(0.0)
    ('655k', '3.75M', '12.5', '-2.5k', '0')
    """
    a = abs(x)
    for div, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if a >= div:
            return f"{x / div:.3g}{suffix}"
    return f"{x:.3g}"


def _money_axis(axis: Any) -> None:
    ticker = require("matplotlib.ticker")
    axis.set_major_formatter(ticker.FuncFormatter(lambda x, _pos: _money(float(x))))


def _axis_scale(x: FloatArray, scale: Scale, name: str, where: str) -> tuple[str, float]:
    """The scale to draw ``x`` on - ``"linear"``, ``"log"`` or ``"symlog"`` - and the symlog's linear range.

    ``"symlog"`` asked for: linear up to the decade below the 1st percentile of the non-zero magnitudes.
    ``"auto"``: linear unless the positive values span two decades or more (largest >= :data:`LOG_SPAN` times
    the 1st percentile of the positive values, as CLV and spend do) and none is negative; then log, or - when
    some values are zero or lie more than a decade below that percentile - symmetric log, linear from 0 up to
    the decade below the percentile and logarithmic above it, so that no customer falls off the axis and ten
    decades of near-zero values do not squeeze the customers who matter into a corner.
    """
    if scale == "linear":
        return "linear", 0.0
    positive = x[x > 0]
    if scale == "log":
        if positive.shape[0] < x.shape[0]:
            raise InvalidInputError(f"The '{name}_scale' parameter of {where} is 'log' but "
                                    f"{x.shape[0] - positive.shape[0]:,} {name}s are zero or negative, which a log "
                                    "axis cannot show. Use 'auto' (symmetric log) or 'linear'.")
        return "log", 0.0
    if scale == "symlog":
        magnitude = np.abs(x[x != 0])
        low = float(np.quantile(magnitude, 0.01)) if magnitude.shape[0] else 1.0
        return "symlog", 10.0 ** math.floor(math.log10(low))
    if not positive.shape[0] or bool((x < 0).any()):
        return "linear", 0.0
    low = float(np.quantile(positive, 0.01))
    if float(positive.max()) < LOG_SPAN * low:
        return "linear", 0.0
    if positive.shape[0] == x.shape[0] and float(positive.min()) >= low / 10.0:
        return "log", 0.0
    return "symlog", 10.0 ** math.floor(math.log10(low))


# The label of each value axis on each scale, as whole phrases ({linthresh}: where the symlog turns logarithmic).
_AXIS_LABELS = {
    "value": {"linear": N_("customer value"), "log": N_("customer value (log scale)"),
              "symlog": N_("customer value (log scale above {linthresh}, linear below)")},
    "risk": {"linear": N_("churn risk"), "log": N_("churn risk (log scale)"),
             "symlog": N_("churn risk (log scale above {linthresh}, linear below)")},
    "cost": {"linear": N_("acquisition cost"), "log": N_("acquisition cost (log scale)"),
             "symlog": N_("acquisition cost (log scale above {linthresh}, linear below)")},
}


def _apply_scale(ax: Any, which: Literal["x", "y"], scale: str, linthresh: float, quantity: str,
                 tr: Translator) -> str:
    """Set the scale and money ticks of ``ax``'s ``which`` axis; returns the axis label of ``quantity``."""
    set_scale = ax.set_xscale if which == "x" else ax.set_yscale
    if scale == "symlog":
        set_scale("symlog", linthresh=linthresh, linscale=0.5)
    elif scale == "log":
        set_scale("log")
    _money_axis(ax.xaxis if which == "x" else ax.yaxis)
    return tr(_AXIS_LABELS[quantity][scale], linthresh=_money(linthresh))


def _marker_style(n: int) -> tuple[float, float]:
    """Marker area (points^2) and alpha for a scatter of ``n`` points: solid up to 300, then fading.

    ``alpha = 0.8 sqrt(300 / n)``, at least 0.12, so that about as much ink lands on a dense region whatever
    the number of points; markers shrink from 28 to 8.

    Examples
    --------
    >>> _marker_style(100), _marker_style(2357)
    ((28.0, 0.8), (10.0, 0.285))
    """
    if n <= 300:
        return 28.0, 0.8
    alpha = max(0.12, round(0.8 * math.sqrt(300.0 / n), 3))
    return (10.0 if n <= 10_000 else 8.0), alpha


# ---------------------------------------------------------------------------------------------- Lorenz
def plot_lorenz(result: Inventory | Concentration, *, ax: Any = None, title: str | None = None,
                lang: str | None = None) -> Axes:
    """Lorenz curve of value with the tiers marked: how much of the value each tier of customers holds.

    The curve runs from the customers of least value (left) to those of most; the dashed diagonal is what
    equal values would give, and the Gini coefficient is twice the area between them. Given an
    :class:`~clvkit.tiering.Inventory` of value tiers (:class:`~clvkit.tiering.FiveA`,
    :class:`~clvkit.tiering.KeyCustomers`), each tier is a shaded band whose legend entry reads "A1: 5% of
    customers, 42% of value", and the tier boundaries are marked on the curve
    (:meth:`~clvkit.tiering.Inventory.cumulative_shares`). A box gives the top 1/10/20% shares.

    Parameters
    ----------
    result:
        ``inventory(values, assignment)`` (curve and tiers; the tiers must be ordered) or a
        :class:`~clvkit.tiering.Concentration` (curve only).
    ax:
        Axes to draw into; a new figure when ``None``.
    title:
        ``None`` for the default title, ``""`` for none.
    lang:
        The language of the texts: ``"en"``, ``"zh"`` (Simplified Chinese, in the first installed font of
        :data:`clvkit.plotting.CJK_FONTS`; English when none is installed) or ``None`` for the locale's
        (:func:`clvkit.i18n.default_language`). A ``title`` you give is drawn as it is.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    InvalidInputError
        For another type of ``result``, an inventory of unordered tiers (segments, matrix cells) or without
        concentration (negative values), or a bad ``ax`` / ``title`` / ``lang``.
    MissingDependencyError
        When matplotlib is not installed (the ``plot`` extra).

    Examples
    --------
    >>> import numpy as np
    >>> from clvkit.tiering import FiveA, inventory
    >>> values = np.array([120.0, 5.0, 40.0, 3000.0, 75.0, 10.0, 640.0, 18.0, 260.0, 33.0])
    >>> ax = plot_lorenz(inventory(values, FiveA().assign(values)))
    >>> ax.get_title()
    'Value concentration (FiveA): Gini 0.782'
    >>> ax.figure.clf()
    """
    where = "plot_lorenz()"
    tr, font = plot_language(lang)
    if isinstance(result, Inventory):
        if result.concentration is None:
            raise InvalidInputError(f"The 'result' parameter of {where} has no concentration: some values are "
                                    "negative, and Lorenz curves are defined for non-negative values only.")
        if not result.ordered:
            raise InvalidInputError(
                f"The 'result' parameter of {where} must be the inventory of ordered tiers (FiveA, KeyCustomers, "
                f"StarRating, ...) to mark them on the curve; the tiers of {result.policy} are not ordered. Pass "
                "inventory.concentration to draw the curve alone.")
        conc = result.concentration
    elif isinstance(result, Concentration):
        conc = result
    else:
        hint = "Pass inventory(values, assignment)." if isinstance(result, TierAssignment) else ""
        raise _wrong_type(where, "result", "an Inventory (clvkit.tiering.inventory) or a Concentration", result, hint)
    check_ax(ax, where)
    _check_title(title, where)

    ax = axes(ax, figsize=(6.4, 6.0), constrained=True)
    mcolors = require("matplotlib.colors")
    curve_colour = "#08306b"
    if isinstance(result, Inventory):
        population, value = result.cumulative_shares()
        k = len(result.labels)
        shades = require("matplotlib").colormaps["Blues"](np.linspace(0.15, 0.6, k))
        left = 0.0
        for j in range(k):
            ax.axvspan(left, float(population[j]), color=mcolors.to_hex(shades[j]), alpha=0.45, lw=0, zorder=0,
                       label=tr("{tier}: {customers} of customers, {value} of value", tier=tr(result.labels[j]),
                                customers=f"{result.count_shares[j]:.0%}", value=f"{result.value_shares[j]:.0%}"))
            ax.text((left + float(population[j])) / 2, 1.01, tr(result.labels[j]), transform=ax.get_xaxis_transform(),
                    ha="center", va="bottom", fontsize=8, color="#08306b")
            left = float(population[j])
        ax.scatter(population[:-1], value[:-1], s=30, color=curve_colour, zorder=4,
                   label=tr("tier boundaries (value share below)"))
        for px, py in zip(population[:-1].tolist(), value[:-1].tolist(), strict=True):
            ax.annotate(f"{py:.0%}", (px, py), xytext=(-5, 5), textcoords="offset points", ha="right", va="bottom",
                        fontsize=8, color=curve_colour, zorder=5)
    ax.plot(conc.lorenz_population, conc.lorenz_value, color=curve_colour, lw=2, zorder=3,
            label=tr("Lorenz curve (Gini {gini})", gini=f"{conc.gini:.3f}"))
    ax.plot([0.0, 1.0], [0.0, 1.0], ls="--", lw=1, color="#555555", zorder=2, label=tr("equal value"))
    if conc.top_shares:
        lines = [tr("top {top} hold {share}", top=f"{p:.0%}", share=f"{s:.1%}") for p, s in conc.top_shares.items()]
        ax.text(0.97, 0.03, "\n".join(lines), transform=ax.transAxes, ha="right", va="bottom", fontsize=9,
                bbox={"boxstyle": "round", "facecolor": "white", "edgecolor": "#bbbbbb", "alpha": 0.9}, zorder=5)
    ax.set_xlim(0.0, 1.0)
    ax.set_ylim(0.0, 1.0)
    ax.set_aspect("equal")
    _percent(ax.xaxis)
    _percent(ax.yaxis)
    ax.set_xlabel(tr("customers, from least to most valuable (cumulative share)"))
    ax.set_ylabel(tr("value (cumulative share)"))
    handles, labels = ax.get_legend_handles_labels()
    if isinstance(result, Inventory):  # highest tier first, as the inventory table lists them
        k = len(result.labels)
        order = [*range(k - 1, -1, -1), *range(k, len(handles))]
        handles, labels = [handles[i] for i in order], [labels[i] for i in order]
    ax.legend(handles, labels, loc="upper left", fontsize=8, framealpha=0.9)
    gini = f"{conc.gini:.3f}"
    if isinstance(result, Inventory):
        _title(ax, title, tr("Value concentration ({policy}): Gini {gini}", policy=tr(result.policy), gini=gini),
               pad=16)
    else:
        _title(ax, title, tr("Value concentration: Gini {gini}", gini=gini))
    use_font(font, ax)
    return cast("Axes", ax)


# ---------------------------------------------------------------------------------------------- migration
def plot_tier_migration(migration: Migration, *, normalize: bool = True, annotate: bool = True, ax: Any = None,
                        title: str | None = None, lang: str | None = None) -> Axes:
    """Heat map of the migration matrix: where the customers of each tier went between two snapshots.

    Rows are the tiers before, columns the tiers after; ordered tiers are listed highest first (as the
    inventory lists them), so cells right of the diagonal are moves down and cells left of it moves up.
    Colour is the share of the row's customers (``migration.rates``) or, with ``normalize=False``, the
    count (``migration.counts``); each cell is labelled with both. The title gives the stay / up / down rates.

    Parameters
    ----------
    migration:
        From :func:`clvkit.tiering.migration`.
    normalize:
        Colour by the share of each row (default) or by the count of customers.
    annotate:
        Write the share and count in each cell.
    ax, title, lang:
        As in :func:`plot_lorenz`.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    InvalidInputError
        For another type of ``migration`` or a bad ``normalize``, ``annotate``, ``ax`` or ``title``.
    MissingDependencyError
        When matplotlib is not installed (the ``plot`` extra).

    Examples
    --------
    >>> from clvkit.tiering import KeyCustomers, migration
    >>> p = KeyCustomers(share=0.5)
    >>> m = migration(p.assign([1.0, 2.0, 3.0, 4.0]), p.assign([1.0, 3.0, 2.0, 4.0]))
    >>> ax = plot_tier_migration(m)
    >>> ax.images[0].get_array().tolist()  # key first: half of each tier moved
    [[0.5, 0.5], [0.5, 0.5]]
    >>> ax.figure.clf()
    """
    where = "plot_tier_migration()"
    tr, font = plot_language(lang)
    if not isinstance(migration, Migration):
        hint = "Pass migration(before, after)." if isinstance(migration, TierAssignment) else ""
        raise _wrong_type(where, "migration", "a Migration (clvkit.tiering.migration)", migration, hint)
    _check_flag(normalize, "normalize", where)
    _check_flag(annotate, "annotate", where)
    check_ax(ax, where)
    _check_title(title, where)

    k = len(migration.labels)
    ordered = migration.up_rate is not None  # documented: None exactly when the tiers are not ordered
    order = list(range(k - 1, -1, -1)) if ordered else list(range(k))
    counts = migration.counts[np.ix_(order, order)]
    shown = migration.rates[np.ix_(order, order)] if normalize else counts
    labels = [tr(migration.labels[i]) for i in order]
    side = min(9.0, 3.2 + 0.75 * k)
    ax = axes(ax, figsize=(side + 1.4, side), constrained=True)
    vmax = 1.0 if normalize else max(1.0, float(counts.max()) if counts.size else 1.0)
    image = ax.imshow(shown, cmap="Blues", vmin=0.0, vmax=vmax, aspect="equal")
    ax.set_xticks(range(k), labels, rotation=45 if max(map(len, labels), default=0) > 6 else 0, ha="right"
                  if max(map(len, labels), default=0) > 6 else "center")
    ax.set_yticks(range(k), labels)
    ax.set_xlabel(tr("tier after"))
    ax.set_ylabel(tr("tier before"))
    ax.tick_params(length=0)
    patches = require("matplotlib.patches")
    for i in range(k):  # outline the diagonal: the customers who stayed
        ax.add_patch(patches.Rectangle((i - 0.46, i - 0.46), 0.92, 0.92, fill=False, edgecolor="#222222", lw=1.2))
    if annotate:
        fontsize = 9 if k <= 6 else 7
        for i in range(k):
            for j in range(k):
                value = float(shown[i, j])
                text = f"{migration.rates[order[i], order[j]]:.0%}\n{int(counts[i, j]):,}"
                ax.text(j, i, text, ha="center", va="center", fontsize=fontsize,
                        color="white" if value > 0.55 * vmax else "#222222")
    ticker = require("matplotlib.ticker")
    bar = ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04,
                             format=ticker.PercentFormatter(xmax=1.0, decimals=0) if normalize else None)
    bar.set_label(tr("share of the tier's customers (row)") if normalize else tr("customers"))
    stay = f"{migration.stay_rate:.0%}"
    if migration.up_rate is not None and migration.down_rate is not None:
        moves = tr("{stay} stayed, {up} up, {down} down", stay=stay, up=f"{migration.up_rate:.0%}",
                   down=f"{migration.down_rate:.0%}")
    else:
        moves = tr("{stay} stayed", stay=stay)
    count = f"{migration.n_customers:,}"
    if migration.n_entered is not None and (migration.n_entered or migration.n_left):
        head = tr("Tier migration of {count} customers ({entered} entered, {left} left)", count=count,
                  entered=f"{migration.n_entered:,}", left=f"{migration.n_left:,}")
    else:
        head = tr("Tier migration of {count} customers", count=count)
    _title(ax, title, f"{head}\n{moves}")
    use_font(font, ax, bar.ax)
    return cast("Axes", ax)


# ---------------------------------------------------------------------------------------------- matrices
# The legend entry of each quadrant (code = 2 value_high + other_high) and the title, per matrix.
_QUADRANTS = {
    "risk": (N_("{name}: low value, low risk, {count}"), N_("{name}: low value, high risk, {count}"),
             N_("{name}: high value, low risk, {count}"), N_("{name}: high value, high risk, {count}")),
    "cost": (N_("{name}: low value, low cost, {count}"), N_("{name}: low value, high cost, {count}"),
             N_("{name}: high value, low cost, {count}"), N_("{name}: high value, high cost, {count}")),
}
_CUT_LABELS = {"value": N_("value cut {cut}"), "risk": N_("risk cut {cut}"), "cost": N_("cost cut {cut}")}
_MATRIX_TITLES = {"risk": N_("Value x risk matrix (ValueRiskMatrix): {count} customers"),
                  "cost": N_("Value x cost matrix (ValueCostMatrix): {count} customers")}


def _matrix(assignment: Any, policy: str, other: str, colours: Sequence[str], value_scale: Any, other_scale: Any,
            ax: Any, title: Any, lang: str | None, where: str, sibling: str) -> Any:
    tr, font = plot_language(lang)
    if not isinstance(assignment, TierAssignment):
        raise _wrong_type(where, "assignment", f"the TierAssignment of {policy}.assign()", assignment)
    if assignment.policy != policy:
        hint = f" Use {sibling}() for a {assignment.policy} assignment." if assignment.policy in (
            "ValueRiskMatrix", "ValueCostMatrix") else ""
        raise InvalidInputError(f"The 'assignment' parameter of {where} must come from {policy}.assign(). Got an "
                                f"assignment of {assignment.policy} instead.{hint}")
    missing = [k for k in ("value", other) if k not in assignment.features or k not in assignment.cuts]
    if missing:
        raise InvalidInputError(f"The 'assignment' parameter of {where} lacks the features or cuts {missing}; "
                                f"build it with {policy}.assign() of this clvkit version.")
    _check_scale(value_scale, "value_scale", where)
    _check_scale(other_scale, f"{other}_scale", where)
    check_ax(ax, where)
    _check_title(title, where)
    x = np.asarray(assignment.features["value"], dtype=np.float64)
    y = np.asarray(assignment.features[other], dtype=np.float64)
    x_scale = _axis_scale(x, value_scale, "value", where)
    y_scale = _axis_scale(y, other_scale, other, where)

    ax = axes(ax, figsize=(7.4, 6.2), constrained=True)
    n = x.shape[0]
    size, alpha = _marker_style(n)
    counts = assignment.counts()
    # The quadrant names: English labels as words ("let_go" -> "let go"), translated ones as the catalogue has them.
    names = [tr(label).replace("_", " ") for label in assignment.labels]
    for code in range(4):
        mask = assignment.codes == code
        count = tr("{count} ({share})", count=f"{counts[code]:,}", share=f"{counts[code] / n:.0%}") if n else "0"
        ax.scatter(x[mask], y[mask], s=size, alpha=alpha, color=colours[code], edgecolors="none",
                   rasterized=n > RASTERIZE_ABOVE, zorder=2,
                   label=tr(_QUADRANTS[other][code], name=names[code], count=count))
    cut_style = {"color": "#333333", "lw": 1.2, "ls": "--", "zorder": 3}
    value_cut, other_cut = assignment.cuts["value"], assignment.cuts[other]
    if math.isfinite(value_cut):
        ax.axvline(value_cut, label=tr(_CUT_LABELS["value"], cut=f"{value_cut:,.4g}"), **cut_style)
    percent_y = other == "risk" and y_scale[0] == "linear" and n > 0 and float(y.min()) >= 0.0 and float(y.max()) <= 1.0
    if math.isfinite(other_cut):
        shown = f"{other_cut:.0%}" if percent_y else f"{other_cut:,.4g}"
        ax.axhline(other_cut, label=tr(_CUT_LABELS[other], cut=shown), **cut_style)
    for code in range(4):  # the treatment in the corner of its quadrant (value right, risk/cost up)
        right, top = code >= 2, code % 2 == 1
        ax.text(0.98 if right else 0.02, 0.98 if top else 0.02, names[code].upper(),
                transform=ax.transAxes, ha="right" if right else "left", va="top" if top else "bottom",
                fontsize=11, fontweight="bold", color=colours[code], zorder=5,
                bbox={"boxstyle": "round,pad=0.25", "facecolor": "white", "edgecolor": "none", "alpha": 0.8})
    x_label = _apply_scale(ax, "x", *x_scale, "value", tr)
    if percent_y:
        y_label = tr(_AXIS_LABELS[other]["linear"])
        _percent(ax.yaxis)
    else:
        y_label = _apply_scale(ax, "y", *y_scale, other, tr)
    ax.set_xlabel(x_label)
    ax.set_ylabel(y_label)
    ax.margins(x=0.05, y=0.12)
    legend = ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2, fontsize=8, frameon=False,
                       markerscale=1.6)
    for handle in legend.legend_handles:
        if handle is not None and hasattr(handle, "set_alpha"):
            handle.set_alpha(1.0)
    _title(ax, title, tr(_MATRIX_TITLES[other], count=f"{n:,}"))
    use_font(font, ax)
    return ax


def plot_value_risk(assignment: TierAssignment, *, value_scale: Scale = "auto", risk_scale: Scale = "linear",
                    ax: Any = None, title: str | None = None, lang: str | None = None) -> Axes:
    """The value x churn-risk matrix as a scatter: one point per customer, coloured by quadrant.

    Customer value runs to the right, churn risk up; the dashed lines are the cuts of
    :class:`~clvkit.tiering.ValueRiskMatrix` (``assignment.cuts``) and each quadrant is named, in its corner,
    by its treatment (default labels: RESCUE high value at high risk - first in line; NURTURE high value,
    low risk; LET GO low value, high risk; MAINTAIN the rest). The legend gives the customers per quadrant.
    Risk in [0, 1] (e.g. ``1 - P(alive)``) is drawn in percent.

    Parameters
    ----------
    assignment:
        From :meth:`ValueRiskMatrix.assign() <clvkit.tiering.ValueRiskMatrix.assign>`.
    value_scale, risk_scale:
        ``"auto"`` (the default for value: log when the values span two decades or more, symmetric log when
        some are zero or far below the rest, else linear), ``"linear"`` (the default for risk), ``"log"``
        or ``"symlog"``.
    ax, title, lang:
        As in :func:`plot_lorenz`.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    InvalidInputError
        For an assignment of another policy (a ValueCostMatrix one: use :func:`plot_value_cost`), a bad
        scale (``"log"`` with values <= 0), ``ax`` or ``title``.
    MissingDependencyError
        When matplotlib is not installed (the ``plot`` extra).

    Examples
    --------
    >>> from clvkit.tiering import AxisCut, ValueRiskMatrix
    >>> a = ValueRiskMatrix(value_cut=AxisCut(threshold=100)).assign(value=[10.0, 500.0, 500.0],
    ...                                                              p_alive=[0.9, 0.9, 0.2])
    >>> ax = plot_value_risk(a)
    >>> ax.collections[3].get_offsets().tolist()  # the rescue quadrant: value 500, risk 0.8
    [[500.0, 0.8]]
    >>> ax.figure.clf()
    """
    return cast("Axes", _matrix(assignment, "ValueRiskMatrix", "risk", _RISK_COLOURS, value_scale, risk_scale, ax,
                                title, lang, "plot_value_risk()", "plot_value_cost"))


def plot_value_cost(assignment: TierAssignment, *, value_scale: Scale = "auto", cost_scale: Scale = "auto",
                    ax: Any = None, title: str | None = None, lang: str | None = None) -> Axes:
    """The acquisition-cost x value matrix as a scatter: one point per customer, coloured by quadrant.

    Customer value runs to the right, acquisition cost up; the dashed lines are the cuts of
    :class:`~clvkit.tiering.ValueCostMatrix` (``assignment.cuts``) and each quadrant is named by its
    treatment (default labels: STRATEGIC high value, high cost - invest over time; CONTESTED high value, low
    cost - every competitor wants them; COSTLY low value, high cost; ROUTINE the rest).

    Parameters
    ----------
    assignment:
        From :meth:`ValueCostMatrix.assign() <clvkit.tiering.ValueCostMatrix.assign>`.
    value_scale, cost_scale:
        ``"auto"`` (default; as in :func:`plot_value_risk`), ``"linear"``, ``"log"`` or ``"symlog"``.
    ax, title, lang:
        As in :func:`plot_lorenz`.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    InvalidInputError
        For an assignment of another policy (a ValueRiskMatrix one: use :func:`plot_value_risk`), a bad
        scale, ``ax`` or ``title``.
    MissingDependencyError
        When matplotlib is not installed (the ``plot`` extra).

    Examples
    --------
    >>> from clvkit.tiering import AxisCut, ValueCostMatrix
    >>> m = ValueCostMatrix(value_cut=AxisCut(threshold=100), cost_cut=AxisCut(threshold=50))
    >>> ax = plot_value_cost(m.assign(value=[10.0, 10.0, 500.0, 500.0], cost=[20.0, 80.0, 20.0, 80.0]))
    >>> [line.get_xdata()[0] for line in ax.lines[:1]], ax.get_xscale()
    ([100.0], 'linear')
    >>> ax.figure.clf()
    """
    return cast("Axes", _matrix(assignment, "ValueCostMatrix", "cost", _COST_COLOURS, value_scale, cost_scale, ax,
                                title, lang, "plot_value_cost()", "plot_value_risk"))


# ---------------------------------------------------------------------------------------------- binding
def plot_binding(result: EmployeeRisk | TeamReport, *, top: int | None = 20, ax: Any = None,
                 title: str | None = None, lang: str | None = None) -> Axes:
    """Value at risk by employee, with the value they hold alone and how well their accounts are bound.

    One horizontal bar per employee, largest value at risk at the top (``value_at_risk``: what is exposed if
    the employee leaves, each customer's value times the employee's holding share of it). The thin dark bar
    inside is ``sole_value``, the value of the single-threaded accounts the employee holds alone - what walks
    out with them. The bar's colour is ``mean_score``, the binding score (0-100, red to green) of the
    accounts the employee holds, grey when they hold none; the label after each bar is the employee's share
    of all exposed value and their single-threaded accounts.

    Parameters
    ----------
    result:
        :func:`~clvkit.binding.value_at_risk`'s :class:`~clvkit.binding.EmployeeRisk` or
        :func:`~clvkit.binding.team_report`'s :class:`~clvkit.binding.TeamReport` (its ``risk``).
    top:
        How many employees to show (the largest values at risk); ``None`` for all.
    ax, title, lang:
        As in :func:`plot_lorenz`.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    InvalidInputError
        For another type of ``result`` (a BindingMeasures: pass it to value_at_risk() with the values), a
        ``top`` that is not a positive whole number, or a bad ``ax`` / ``title``.
    MissingDependencyError
        When matplotlib is not installed (the ``plot`` extra).

    Examples
    --------
    >>> from clvkit.binding import load_b2b_sample, measure_binding, value_at_risk
    >>> sample = load_b2b_sample()
    >>> risk = value_at_risk(measure_binding(sample.data), sample.values)
    >>> ax = plot_binding(risk, top=5)
    >>> [bar.get_width() for bar in ax.containers[0]] == risk.value_at_risk[:5].tolist()
    True
    >>> ax.figure.clf()
    """
    where = "plot_binding()"
    tr, font = plot_language(lang)
    if isinstance(result, TeamReport):
        risk = result.risk
    elif isinstance(result, EmployeeRisk):
        risk = result
    else:
        hint = ""
        if type(result).__name__ == "BindingMeasures":
            hint = "Pass value_at_risk(measures, values) or team_report(measures, values)."
        raise _wrong_type(where, "result", "an EmployeeRisk (value_at_risk) or a TeamReport (team_report)", result,
                          hint)
    if top is not None and (isinstance(top, (bool, np.bool_)) or not isinstance(top, (int, np.integer)) or top < 1):
        raise InvalidInputError(f"The 'top' parameter of {where} must be a whole number >= 1 or None (all "
                                f"employees). Got {top!r} instead.")
    check_ax(ax, where)
    _check_title(title, where)

    n = int(risk.employee_id.shape[0])
    k = n if top is None else min(int(top), n)
    ax = axes(ax, figsize=(8.4, 1.9 + 0.36 * max(k, 3)), constrained=True)
    mcolors = require("matplotlib.colors")
    cm = require("matplotlib.cm")
    cmap = require("matplotlib").colormaps["RdYlGn"]
    norm = mcolors.Normalize(vmin=0.0, vmax=100.0)
    scores = risk.mean_score[:k]
    colours = [mcolors.to_hex(cmap(norm(s))) if np.isfinite(s) else "#c8c8c8" for s in scores.tolist()]
    ids = [str(e) for e in risk.employee_id[:k].tolist()]
    teams = [str(t) for t in risk.team[:k].tolist()]
    names = [f"{e} ({t})" if t else e for e, t in zip(ids, teams, strict=True)]
    y = np.arange(k)
    ax.barh(y, risk.value_at_risk[:k], height=0.72, color=colours, edgecolor="#555555", lw=0.5,
            label=tr("value at risk if the employee leaves"))
    ax.barh(y, risk.sole_value[:k], height=0.24, color="#222222", label=tr("value in accounts they hold alone"))
    ax.set_yticks(y, names)
    ax.invert_yaxis()
    reach = float(np.maximum(risk.value_at_risk[:k], risk.sole_value[:k]).max()) if k else 1.0
    share = risk.share_of_exposed[:k]
    for i in range(k):
        end = max(float(risk.value_at_risk[i]), float(risk.sole_value[i]))
        fields = {"share": f"{share[i]:.0%}", "alone": int(risk.customers_sole[i])}
        note = (tr("{share} · {alone} alone · score {score}", score=f"{scores[i]:.0f}", **fields)
                if np.isfinite(scores[i]) else tr("{share} · {alone} alone · no accounts", **fields))
        ax.text(end + 0.01 * reach, i, note, va="center", fontsize=8, color="#333333")
    ax.set_xlim(0.0, 1.4 * reach if reach > 0 else 1.0)
    _money_axis(ax.xaxis)
    ax.set_xlabel(tr("customer value"))
    ax.grid(axis="x", color="#dddddd", lw=0.6)
    ax.set_axisbelow(True)
    patches = require("matplotlib.patches")
    handles = [patches.Patch(facecolor="#ffffbf", edgecolor="#555555", lw=0.5,
                             label=tr("value at risk if they leave (colour: binding score of their accounts)")),
               patches.Patch(facecolor="#222222", label=tr("value in the accounts they hold alone"))]
    ax.legend(handles=handles, loc="lower right", fontsize=8, framealpha=0.9,
              title=tr("labels: share of exposed value · accounts held alone · score"), title_fontsize=8)
    mappable = cm.ScalarMappable(norm=norm, cmap=cmap)
    bar = ax.figure.colorbar(mappable, ax=ax, fraction=0.04, pad=0.02)
    bar.set_label(tr("binding score of their accounts (0-100)"))
    exposed, unheld = _money(risk.value_exposed), _money(risk.value_unheld)
    if k < n:
        default = tr("Value at risk by employee (top {top} of {count} employees)\nexposed {exposed}, held by nobody "
                     "{unheld}", top=k, count=n, exposed=exposed, unheld=unheld)
    else:
        default = tr("Value at risk by employee ({count} employees)\nexposed {exposed}, held by nobody {unheld}",
                     count=n, exposed=exposed, unheld=unheld)
    _title(ax, title, default)
    use_font(font, ax, bar.ax)
    return cast("Axes", ax)
