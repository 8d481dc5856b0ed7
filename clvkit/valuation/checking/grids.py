"""Model predictions over grids of purchase histories: the frequency/recency matrices of expected purchases and
P(alive) (Fader, Hardie & Lee 2005, "RFM and CLV", iso-value analysis), and the P(alive) history of one
customer from their purchase dates."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..._timeunits import unit_days
from ..._validation import check_scalar
from ...batch import CustomerSummary
from ...errors import InvalidInputError
from ._common import (
    MAX_FREQUENCY_BINS,
    CountModel,
    FloatArray,
    check_whole,
    need_count_model,
    read_only,
)

__all__ = ["MAX_GRID_POINTS", "AliveHistory", "FrequencyRecencyGrid", "alive_history", "frequency_recency_grid"]

#: Most recency points of a frequency/recency grid and most days of a P(alive) history.
MAX_GRID_POINTS = 100_000


@dataclass(frozen=True)
class FrequencyRecencyGrid:
    """Expected purchases and P(alive) of hypothetical customers of age ``T`` over a frequency x recency grid.

    Attributes
    ----------
    frequency:
        Array of shape (n_frequency,): 0, 1, ..., max_frequency (repeat purchases).
    recency:
        Array of shape (n_recency,): the recency of each column, in ``(0, T]``. A customer without repeat
        purchases has recency 0, so row 0 repeats that one customer's value in every column.
    expected_purchases:
        Array of shape (n_frequency, n_recency): expected purchases in the next ``t`` time units.
    probability_alive:
        Array of shape (n_frequency, n_recency): P(alive) at age ``T``.
    possible:
        Boolean array of the same shape: ``False`` where the model refuses the history (a model of discrete
        opportunities, BG/BB, allows at most one purchase per opportunity: frequency <= recency); those
        cells hold NaN.
    T, t:
        Age of the grid's customers and the prediction horizon, in ``time_unit``.
    time_unit:
        The model's time unit.
    """

    frequency: FloatArray
    recency: FloatArray
    expected_purchases: FloatArray
    probability_alive: FloatArray
    possible: Any
    T: float
    t: float
    time_unit: str


def frequency_recency_grid(model: CountModel, T: float, max_frequency: int, *, t: float = 1.0,
                           n_recency: int | None = None) -> FrequencyRecencyGrid:
    """Expected purchases in the next ``t`` and P(alive) for every (frequency, recency) of customers aged ``T``.

    The numbers behind lifetimes' frequency/recency and probability-alive matrices, from the model's own
    ``expected_purchases`` and ``probability_alive``.

    Parameters
    ----------
    model:
        A fitted count model (:class:`~clvkit.protocols.CountModel`).
    T:
        Age of the grid's customers (time since their first purchase) in the model's time unit, > 0.
    max_frequency:
        The last row's number of repeat purchases, a whole number >= 1.
    t:
        Horizon of the expected purchases, >= 0.
    n_recency:
        Number of recency columns, evenly spaced ``T k / n`` for ``k = 1..n``; default ``ceil(T)`` up to 200
        (whole numbers for a whole ``T`` up to 200, as a BG/BB model needs).

    Returns
    -------
    FrequencyRecencyGrid

    Raises
    ------
    InvalidInputError
        For a model that is no count model, ``T`` not finite and > 0, a bad ``max_frequency``, ``t`` or
        ``n_recency``, or a history the model refuses.

    Examples
    --------
    >>> from clvkit.valuation import BetaGeoParams, FittedBetaGeo
    >>> bg = FittedBetaGeo(params=BetaGeoParams(r=0.243, alpha=4.414, a=0.793, b=2.426), time_unit="W")
    >>> g = frequency_recency_grid(bg, T=39.0, max_frequency=3, t=39.0, n_recency=3)
    >>> g.recency.tolist()
    [13.0, 26.0, 39.0]
    >>> g.probability_alive.round(2).tolist()
    [[1.0, 1.0, 1.0], [0.5, 0.66, 0.75], [0.36, 0.66, 0.81], [0.22, 0.64, 0.85]]
    """
    where = "frequency_recency_grid()"
    need_count_model(model, where)
    age = check_scalar(T, "T", where, low=0.0, low_open=True)
    m = check_whole(max_frequency, "max_frequency", where, low=1, high=MAX_FREQUENCY_BINS - 1)
    horizon = check_scalar(t, "t", where, low=0.0)
    n = min(max(math.ceil(age), 1), 200) if n_recency is None else check_whole(
        n_recency, "n_recency", where, low=1, high=MAX_GRID_POINTS)
    if (m + 1) * n > MAX_GRID_POINTS * 10:
        raise InvalidInputError(f"{where}: (max_frequency + 1) x n_recency = {(m + 1) * n:,} cells, more than "
                                f"{MAX_GRID_POINTS * 10:,}. Use a smaller max_frequency or n_recency.")
    recency = age * np.arange(1, n + 1, dtype=np.float64) / n
    freq = np.arange(m + 1, dtype=np.float64)
    x = np.repeat(freq, n)
    tx = np.where(x > 0, np.tile(recency, m + 1), 0.0)
    possible = np.ones(x.shape[0], dtype=bool)
    try:
        expected, alive = _predict(model, x, tx, age, horizon)
    except InvalidInputError:
        # A model of discrete opportunities refuses more purchases than opportunities: leave those cells out.
        possible = x <= np.maximum(tx, 0.0)
        expected_p, alive_p = _predict(model, x[possible], tx[possible], age, horizon)
        expected = np.full(x.shape[0], np.nan)
        alive = np.full(x.shape[0], np.nan)
        expected[possible], alive[possible] = expected_p, alive_p
    shape = (m + 1, n)
    mask = possible.reshape(shape)
    mask.flags.writeable = False
    return FrequencyRecencyGrid(
        frequency=read_only(freq),
        recency=read_only(recency),
        expected_purchases=read_only(expected.reshape(shape)),
        probability_alive=read_only(alive.reshape(shape)),
        possible=mask,
        T=age,
        t=horizon,
        time_unit=model.time_unit,
    )


def _predict(model: CountModel, x: FloatArray, tx: FloatArray, T: float, t: float) -> tuple[FloatArray, FloatArray]:
    grid = CustomerSummary(frequency=x, recency=tx, T=np.full(x.shape[0], T), time_unit=model.time_unit)
    expected = np.asarray(model.expected_purchases(grid, t), dtype=np.float64)
    alive = np.asarray(model.probability_alive(grid), dtype=np.float64)
    return expected, alive


@dataclass(frozen=True)
class AliveHistory:
    """P(alive) of one customer on every day from their first purchase, as their history unfolds.

    Attributes
    ----------
    dates:
        ``datetime64[D]`` array of shape (n_days,): each day from the first purchase (exclusive) to ``end``.
    T, frequency, recency:
        Arrays of shape (n_days,): the customer's summary at the end of each day (``T`` and ``recency`` in
        ``time_unit``; ``frequency`` counts distinct repeat purchase days, as :func:`clvkit.summarize`).
    probability_alive:
        Array of shape (n_days,): the model's P(alive) for that summary.
    purchase_dates:
        ``datetime64[D]`` array: the distinct purchase days up to ``end``.
    time_unit:
        The model's time unit.
    """

    dates: Any
    T: FloatArray
    frequency: FloatArray
    recency: FloatArray
    probability_alive: FloatArray
    purchase_dates: Any
    time_unit: str


def alive_history(model: CountModel, purchase_dates: Any, *, end: Any = None) -> AliveHistory:
    """P(alive) of one customer at the end of each day from their first purchase to ``end``.

    On each day the customer's summary is what :func:`clvkit.summarize` with ``time_unit="D"`` would give
    at that observation end (distinct purchase days; recency and age converted to the model's unit), and
    the model's ``probability_alive`` is evaluated on it (lifetimes' ``plot_history_alive``).

    Parameters
    ----------
    model:
        A fitted count model in any time unit (a BG/BB model needs whole opportunities and so daily ones).
    purchase_dates:
        The customer's purchase dates: anything ``numpy.datetime64`` reads (ISO strings, ``datetime``,
        ``datetime64``), at least one.
    end:
        Last day (default: the last purchase); must be after the first purchase.

    Returns
    -------
    AliveHistory

    Raises
    ------
    InvalidInputError
        For unreadable or missing dates, an ``end`` not after the first purchase, or more than
        :data:`MAX_GRID_POINTS` days.

    Examples
    --------
    >>> from clvkit.valuation import BetaGeoParams, FittedBetaGeo
    >>> bg = FittedBetaGeo(params=BetaGeoParams(r=0.243, alpha=4.414, a=0.793, b=2.426), time_unit="W")
    >>> h = alive_history(bg, ["1997-01-01", "1997-01-15"], end="1997-02-12")
    >>> len(h.dates), float(h.frequency[-1]), float(h.recency[-1])  # 42 days; one repeat purchase, 2 weeks in
    (42, 1.0, 2.0)
    >>> str(h.dates[13]), round(float(h.probability_alive[13]), 3)  # on a repeat purchase day: 1 / (1 + a / b)
    ('1997-01-15', 0.754)
    >>> round(float(h.probability_alive[-1]), 3)  # four weeks of silence later
    0.626
    """
    where = "alive_history()"
    need_count_model(model, where)
    days = np.unique(_read_days(purchase_dates, "purchase_dates", where))
    if days.shape[0] == 0:
        raise InvalidInputError(f"The 'purchase_dates' parameter of {where} must hold at least one date. Got none.")
    first = days[0]
    last = days[-1] if end is None else _read_days(end, "end", where).reshape(-1)[0]
    n_days = int((last - first).astype(np.int64))
    if n_days < 1:
        raise InvalidInputError(f"The 'end' parameter of {where} must be after the first purchase ({first}). "
                                f"Got {last} instead.")
    if n_days > MAX_GRID_POINTS:
        raise InvalidInputError(f"{where}: {n_days:,} days from the first purchase to 'end', more than "
                                f"MAX_GRID_POINTS = {MAX_GRID_POINTS:,}. Pass an earlier end.")
    purchases = days[days <= last]
    offsets = (purchases - first).astype(np.int64)  # day of each distinct purchase, 0 = first
    age = np.arange(1, n_days + 1, dtype=np.int64)
    n_up_to = np.searchsorted(offsets, age, side="right")  # purchases on or before each day
    frequency = (n_up_to - 1).astype(np.float64)
    recency_days = offsets[n_up_to - 1].astype(np.float64)
    scale = 1.0 / unit_days(model.time_unit)
    history = CustomerSummary(frequency=frequency, recency=recency_days * scale, T=age * scale,
                              time_unit=model.time_unit)
    alive = np.asarray(model.probability_alive(history), dtype=np.float64)
    dates = first + age.astype("timedelta64[D]")
    dates.flags.writeable = False
    purchases = purchases.copy()
    purchases.flags.writeable = False
    return AliveHistory(dates=dates, T=history.T, frequency=history.frequency, recency=history.recency,
                        probability_alive=read_only(alive), purchase_dates=purchases, time_unit=model.time_unit)


def _read_days(values: Any, name: str, where: str) -> Any:
    try:
        days = np.asarray(values, dtype="datetime64[D]").reshape(-1)
    except (TypeError, ValueError, OverflowError):
        raise InvalidInputError(f"The '{name}' parameter of {where} must hold dates (ISO strings, datetime or "
                                f"datetime64). Got {values!r} instead.") from None
    if np.any(np.isnat(days)):
        raise InvalidInputError(f"The '{name}' parameter of {where} must not hold missing dates (NaT). "
                                f"First at position {int(np.flatnonzero(np.isnat(days))[0])}.")
    return days
