"""The regularity plot: Wheat & Morrison's statistic of each customer against the densities that exponential,
Erlang-2 and Erlang-3 gaps imply (BTYDplus' ``estimateRegularity(plot = TRUE)`` diagnostic, drawn from a
:class:`~clvkit.valuation.RegularityResult`)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._frames import require
from ..errors import InvalidInputError
from ..i18n import N_
from ..valuation.checking.regularity import _METHOD_NAMES, RegularityResult
from ._lang import plot_language, use_font
from ._mpl import axes, check_ax

__all__ = ["plot_regularity"]

#: Bins of the histogram of the statistic on [0, 1].
_BINS = 20
_ACTUAL = "#333333"  # the data: dark grey, as the diagnostic plots
# The reference densities: k = 1 (the Poisson models' assumption), 2 and 3 (the CNBD-k family's first orders).
_REFERENCES = ((1, N_("k = 1: exponential gaps (Poisson purchases)"), ":"),
               (2, N_("k = 2: Erlang-2 gaps"), "-."),
               (3, N_("k = 3: Erlang-3 gaps"), "--"))


def plot_regularity(result: RegularityResult, *, ax: Any = None, lang: str | None = None) -> Any:
    """Histogram of Wheat & Morrison's statistic ``M = t1 / (t1 + t2)`` of each customer's last two
    inter-purchase times, against its ``Beta(k, k)`` density for exponential (``k = 1``, flat), Erlang-2 and
    Erlang-3 gaps and for the estimated ``k``.

    Regular buyers pile up around 0.5 (two gaps of similar length); under the Poisson models' exponential gaps
    ``M`` is uniform. Draws a :class:`~clvkit.valuation.RegularityResult` of :func:`clvkit.valuation.regularity`;
    the densities come from its :meth:`~clvkit.valuation.RegularityResult.statistic_density`.

    Parameters
    ----------
    result:
        The regularity result to draw.
    ax:
        A matplotlib ``Axes`` to draw into; ``None`` makes a new figure.
    lang:
        ``"en"``, ``"zh"`` or ``None`` (the locale's language): the language of the texts.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    InvalidInputError
        For a ``result`` that is not a RegularityResult, or a bad ``ax`` or ``lang``.
    MissingDependencyError
        Without matplotlib: ``pip install 'clvkit[plot]'``.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from clvkit import CustomerSummary, PurchaseTimes
    >>> from clvkit.valuation import regularity
    >>> times = PurchaseTimes(origin=np.zeros(3, dtype="datetime64[ns]"), offsets=[0, 2, 4, 7],
    ...                       times=[1.0, 3.0, 3.0, 5.0, 2.0, 4.0, 6.0], period_days=1.0, unit_days=1.0)
    >>> res = regularity(CustomerSummary([2, 2, 3], [3.0, 5.0, 6.0], [9.0, 9.0, 9.0], purchase_times=times))
    >>> ax = plot_regularity(res, lang="en")
    >>> ax.get_title()
    'Regularity of purchase timing'
    >>> import matplotlib.pyplot as plt
    >>> plt.close(ax.figure)
    """
    where = "plot_regularity()"
    require("matplotlib.axes")  # the missing extra is reported before any other check
    if not isinstance(result, RegularityResult):
        raise InvalidInputError(f"{where} needs a clvkit.valuation.RegularityResult (from regularity()). "
                                f"Got {type(result).__name__} instead.")
    check_ax(ax, where)
    tr, font = plot_language(lang)
    ax = axes(ax)
    edges = np.linspace(0.0, 1.0, _BINS + 1)
    counts, _ = np.histogram(result.wheat_statistic, bins=edges, weights=result.weights)
    density = counts / (counts.sum() * np.diff(edges))
    bars = ax.bar(edges[:-1], density, width=np.diff(edges), align="edge", color="C0", alpha=0.6, edgecolor="white",
           label=tr("{count} customers", count=f"{result.n_used:,.0f}"))
    handles = [bars]
    for k, label, style in _REFERENCES:
        x, d = result.statistic_density(float(k))
        handles += ax.plot(x, d, color=_ACTUAL, linestyle=style, linewidth=1.2, label=tr(label))
    top = max(float(density.max()), 2.0)
    if result.k > 0.0:  # Wheat & Morrison's estimate can stop at the boundary, k = 0: no density to draw
        x, d = result.statistic_density(result.k)
        top = max(top, float(d.max()))
        handles += ax.plot(x, d, color="C3", linewidth=2.0, label=tr(
            "Estimated k = {k} ({method})", k=f"{result.k:.2f}", method=tr(_METHOD_NAMES[result.method])))
    ax.set_xlim(0.0, 1.0)
    ax.set_ylim(0.0, top * 1.1)
    ax.set_xlabel(tr("Earlier of the last two inter-purchase times / their sum"))
    ax.set_ylabel(tr("Density"))
    ax.set_title(tr("Regularity of purchase timing"), fontsize=11)
    ax.legend(handles=handles, fontsize=8, loc="upper left")  # the data first, then the densities
    use_font(font, ax)
    return ax
