"""Value concentration ("take stock of the base"): top-share, Lorenz curve and Gini coefficient.

All three read one sorted copy of the values. They are defined for non-negative values (CLV, revenue);
negative values raise :class:`~clvkit.errors.InvalidInputError`. When every value is zero the value is
spread equally (there is nothing to concentrate): Gini 0, the Lorenz curve is the diagonal and the top
``p`` of customers hold ``p`` of it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from .._validation import as_float_array, raise_if, row_problem
from ..errors import InvalidInputError

__all__ = ["DEFAULT_TOP_SHARES", "MAX_LORENZ_POINTS", "Concentration", "concentration", "gini", "lorenz_curve",
           "top_share"]

FloatArray = npt.NDArray[np.float64]

#: Population shares whose value share the inventory reports: the top 1%, 10% and 20% (clvkit default; 20% is
#: the key-customer share of text 003, 10% the take-one-drop-nine reading of text 000).
DEFAULT_TOP_SHARES: tuple[float, ...] = (0.01, 0.1, 0.2)


@dataclass(frozen=True)
class Concentration:
    """How concentrated value is across customers.

    Attributes
    ----------
    gini:
        Gini coefficient in [0, 1): 0 when all hold the same value, ``(n - 1) / n`` when one holds all.
    top_shares:
        Population share -> share of total value held by that top share of customers (the top
        ``ceil(p n)`` customers, at least one).
    lorenz_population, lorenz_value:
        Points of the Lorenz curve (cumulative population share, ascending by value; cumulative value
        share), on an even grid of the population share from 0 to 1.
    """

    gini: float
    top_shares: Mapping[float, float]
    lorenz_population: FloatArray
    lorenz_value: FloatArray


def _sorted_values(values: Any, where: str) -> FloatArray:
    x = as_float_array(values, "values", where)
    raise_if([row_problem(~np.isfinite(x), "values", "must be finite (no NaN or inf)", "Drop or fill them."),
              row_problem(x < 0, "values", "must be non-negative for concentration measures",
                          "Concentration (Gini, Lorenz, top shares) is defined for non-negative values.")], where)
    return np.sort(x)


def _top_count(share: float, n: int) -> int:
    # The 1e-9 keeps e.g. 0.1 * 30 = 3.0000000000000004 from rounding up to 4 customers.
    return min(n, max(1, math.ceil(share * n - 1e-9))) if n else 0


def _from_sorted(s: FloatArray, top: Sequence[float], points: int) -> Concentration:
    n = s.shape[0]
    with np.errstate(over="ignore"):  # an overflow is caught just below and the values rescaled
        cum = np.cumsum(s)
    if n and not (np.isfinite(2.0 * float(cum.sum())) and np.isfinite(n * float(cum[-1]))):
        # Every measure here is scale-free: dividing by the largest value keeps the sums finite for values near
        # the float64 maximum (1e308 + 1e308 overflows to inf, and the Gini to NaN).
        s = s / s[-1]
        cum = np.cumsum(s)
    total = float(cum[-1]) if n else 0.0
    grid = np.linspace(0.0, 1.0, points)
    if n == 0 or total == 0.0:
        return Concentration(0.0, {p: (_top_count(p, n) / n if n else 0.0) for p in top}, grid, grid.copy())
    # Gini = 1 - 2 B, with B the area under the Lorenz polyline: (sum_i C_i - total / 2) / (n total).
    g = 1.0 - (2.0 * float(cum.sum()) - total) / (n * total)
    shares = {}
    for p in top:
        k = _top_count(p, n)
        below = float(cum[n - k - 1]) if k < n else 0.0
        shares[p] = (total - below) / total
    # The Lorenz curve is the polyline through (i / n, C_i / total), C_0 = 0: evaluate it at the grid only.
    t = grid * n
    i = np.minimum(np.floor(t).astype(np.intp), n - 1)
    lower = np.where(i > 0, cum[np.maximum(i - 1, 0)], 0.0)
    lorenz = (lower + (t - i) * (cum[i] - lower)) / total
    return Concentration(min(max(g, 0.0), 1.0), shares, grid, lorenz)


#: Most Lorenz curve points :func:`concentration` and :func:`lorenz_curve` compute (two float64 arrays of this
#: length: 16 MB); a plotted curve needs a few hundred.
MAX_LORENZ_POINTS = 1_000_000


def concentration(values: Any, *, top: Sequence[float] = DEFAULT_TOP_SHARES, points: int = 101) -> Concentration:
    """Gini, top shares and Lorenz curve of non-negative ``values`` (array of shape (n_customers,)).

    Parameters
    ----------
    values:
        Non-negative finite values, e.g. CLV.
    top:
        Population shares in (0, 1] whose share of value to report.
    points:
        Number of Lorenz curve points (at least 2), evenly spaced in population share.

    Raises
    ------
    InvalidInputError
        For negative or non-finite values, a share outside (0, 1], or ``points`` outside
        ``[2, MAX_LORENZ_POINTS]`` (:data:`MAX_LORENZ_POINTS`, checked before anything is allocated).

    Examples
    --------
    >>> c = concentration([0.0, 0.0, 0.0, 10.0], points=5)
    >>> c.gini, c.top_shares[0.2]
    (0.75, 1.0)
    >>> c.lorenz_value.tolist()
    [0.0, 0.0, 0.0, 0.0, 1.0]
    """
    where = "concentration()"
    if isinstance(points, bool) or not isinstance(points, (int, np.integer)) or points < 2:
        raise InvalidInputError(f"The 'points' parameter of {where} must be a whole number >= 2. "
                                f"Got {points!r} instead.")
    if points > MAX_LORENZ_POINTS:
        raise InvalidInputError(f"The 'points' parameter of {where} must be at most MAX_LORENZ_POINTS = "
                                f"{MAX_LORENZ_POINTS:,} (clvkit.tiering.concentration). Got {points!r} instead.")
    bad = [p for p in top if not 0.0 < p <= 1.0]
    if bad:
        raise InvalidInputError(f"The 'top' parameter of {where} must hold shares in (0, 1]. Got {bad} instead.")
    return _from_sorted(_sorted_values(values, where), top, int(points))


def gini(values: Any) -> float:
    """Gini coefficient of non-negative ``values``: 0 for equal values, ``(n - 1) / n`` if one holds all.

    Examples
    --------
    >>> gini([5.0, 5.0, 5.0])
    0.0
    >>> gini([0.0, 0.0, 0.0, 8.0])
    0.75
    """
    return _from_sorted(_sorted_values(values, "gini()"), (), 2).gini


def top_share(values: Any, share: float) -> float:
    """Share of the total held by the top ``share`` of customers (the top ``ceil(share n)``, at least one).

    Examples
    --------
    >>> top_share([1.0, 1.0, 2.0, 6.0], 0.25)
    0.6
    """
    return concentration(values, top=(share,), points=2).top_shares[share]


def lorenz_curve(values: Any, points: int = 101) -> tuple[FloatArray, FloatArray]:
    """Lorenz curve: (cumulative population share, cumulative value share), ``points`` even steps.

    ``points`` is at most :data:`MAX_LORENZ_POINTS` (an :class:`~clvkit.errors.InvalidInputError` otherwise).

    Examples
    --------
    >>> x, y = lorenz_curve([1.0, 1.0, 2.0], points=4)
    >>> x.round(3).tolist(), y.round(3).tolist()
    ([0.0, 0.333, 0.667, 1.0], [0.0, 0.25, 0.5, 1.0])
    """
    c = concentration(values, top=(), points=points)
    return c.lorenz_population, c.lorenz_value
