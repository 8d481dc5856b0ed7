"""Distributions and curves of a fitted model next to the data: expected repeat purchases of a new customer over
time, the heterogeneity of purchase and dropout rates, the implied vs observed average spend, and the observed
inter-purchase times."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from ..._validation import check_scalar
from ...batch import CustomerSummary
from ...errors import InvalidInputError
from ...protocols import HeterogeneityModel, SpendDensityModel
from ._common import CountModel, FloatArray, check_whole, need_count_model, need_summary, read_only

__all__ = [
    "MAX_CURVE_POINTS",
    "HeterogeneityDensity",
    "InterpurchaseTimes",
    "RepeatPurchaseCurve",
    "SpendDistribution",
    "expected_repeat_purchases",
    "heterogeneity_density",
    "interpurchase_times",
    "spend_distribution",
]

#: Most points of a curve and most histogram bins.
MAX_CURVE_POINTS = 100_000


@dataclass(frozen=True)
class RepeatPurchaseCurve:
    """E[X(t)], the expected repeat purchases of a new customer by time ``t`` since their first purchase.

    Attributes
    ----------
    t, expected:
        Arrays of shape (n_points,): the horizons (in ``time_unit``) and the expectations.
    time_unit:
        The model's time unit.
    """

    t: FloatArray
    expected: FloatArray
    time_unit: str


def expected_repeat_purchases(model: CountModel, horizon: float, *, n_points: int = 200) -> RepeatPurchaseCurve:
    """The model's ``expected_purchases_new_customer`` on an even grid from 0 to ``horizon``.

    A model of discrete opportunities (BG/BB) is evaluated at the whole numbers 0, 1, ..., ``floor(horizon)``.

    Raises
    ------
    InvalidInputError
        For a model that is no count model, ``horizon`` not finite and > 0, or ``n_points`` not in
        ``[2, MAX_CURVE_POINTS]``.

    Examples
    --------
    >>> from clvkit.valuation import BetaGeoParams, FittedBetaGeo
    >>> bg = FittedBetaGeo(params=BetaGeoParams(r=0.243, alpha=4.414, a=0.793, b=2.426), time_unit="W")
    >>> c = expected_repeat_purchases(bg, 78.0, n_points=3)
    >>> c.t.tolist(), c.expected.round(3).tolist()
    ([0.0, 39.0, 78.0], [0.0, 1.197, 1.861])
    """
    where = "expected_repeat_purchases()"
    need_count_model(model, where)
    h = check_scalar(horizon, "horizon", where, low=0.0, low_open=True)
    n = check_whole(n_points, "n_points", where, low=2, high=MAX_CURVE_POINTS)
    t = np.linspace(0.0, h, n)
    try:
        expected = model.expected_purchases_new_customer(t)
    except InvalidInputError:
        # Discrete opportunities: whole horizons only.
        t = np.arange(0.0, np.floor(h) + 1.0)
        expected = model.expected_purchases_new_customer(t)
    return RepeatPurchaseCurve(t=read_only(t), expected=read_only(expected), time_unit=model.time_unit)


@dataclass(frozen=True)
class HeterogeneityDensity:
    """The density across customers of a purchase or dropout rate (or probability) of a fitted model.

    Attributes
    ----------
    x, density:
        Arrays of shape (n_points,): the grid (cell midpoints from 0 to the upper end) and the density.
    mean:
        The distribution's mean.
    quantity, symbol, per, family:
        What varies (``"purchase rate"``), its symbol (``"lambda"``), per what (a time unit name,
        ``"purchase"`` or ``"opportunity"``) and the distribution with its parameters.
    """

    x: FloatArray
    density: FloatArray
    mean: float
    quantity: str
    symbol: str
    per: str
    family: str


def heterogeneity_density(model: HeterogeneityModel, which: Literal["transaction_rate", "dropout"], *,
                          n_points: int = 400, coverage: float = 0.99) -> HeterogeneityDensity:
    """The mixing density of the purchase rates (``which="transaction_rate"``) or dropout rates/probabilities
    (``which="dropout"``) of a fitted BG/NBD, MBG/NBD, Pareto/NBD or BG/BB model.

    The grid runs from 0 to 1 for a probability and to the ``coverage`` quantile for a rate, at cell midpoints
    so a density that is infinite at an end of the support (a shape below 1) stays finite.

    Raises
    ------
    InvalidInputError
        For a model without mixing distributions, a bad ``which``, ``n_points`` or ``coverage`` (in (0, 1)).

    Examples
    --------
    >>> from clvkit.valuation import BetaGeoParams, FittedBetaGeo
    >>> bg = FittedBetaGeo(params=BetaGeoParams(r=0.243, alpha=4.414, a=0.793, b=2.426), time_unit="W")
    >>> d = heterogeneity_density(bg, "dropout")
    >>> d.quantity, d.family, round(d.mean, 3)  # a / (a + b)
    ('dropout probability', 'Beta(a=0.793, b=2.426)', 0.246)
    """
    where = "heterogeneity_density()"
    if not isinstance(model, HeterogeneityModel):
        raise InvalidInputError(f"{where} needs a fitted model with mixing distributions (BG/NBD, MBG/NBD, "
                                f"Pareto/NBD, BG/BB: clvkit.protocols.HeterogeneityModel). Got "
                                f"{type(model).__name__} instead.")
    if which not in ("transaction_rate", "dropout"):
        raise InvalidInputError(f"The 'which' parameter of {where} must be 'transaction_rate' or 'dropout'. Got "
                                f"{which!r} instead.")
    n = check_whole(n_points, "n_points", where, low=2, high=MAX_CURVE_POINTS)
    cover = check_scalar(coverage, "coverage", where, low=0.0, high=1.0, low_open=True, high_open=True)
    mixing = model.transaction_rate_distribution() if which == "transaction_rate" else model.dropout_distribution()
    # A probability is drawn over its whole support [0, 1]; a rate up to the coverage quantile.
    upper = 1.0 if mixing.per in ("purchase", "opportunity") else float(mixing.ppf(cover))
    x = upper * (np.arange(n, dtype=np.float64) + 0.5) / n
    return HeterogeneityDensity(x=read_only(x), density=read_only(mixing.pdf(x)), mean=float(mixing.mean()),
                                quantity=mixing.quantity, symbol=mixing.symbol, per=mixing.per, family=mixing.family)


@dataclass(frozen=True)
class SpendDistribution:
    """Observed average spend per transaction of the repeat customers vs the density a spend model implies.

    Attributes
    ----------
    observed:
        Array of shape (n_repeat,): each repeat customer's average spend (``monetary_value``).
    weights:
        Array of shape (n_repeat,): their weights (1 without weights).
    edges, observed_density:
        Histogram of ``observed``: bin edges (n_bins + 1,) and densities (n_bins,), normalised over all
        repeat customers (those beyond the last edge included), so it compares with ``implied_density``.
    z, implied_density:
        Arrays of shape (n_points,): the grid and the model's density of the average spend of a customer
        drawn from the repeat customers, ``sum_i w_i f(z | x_i) / sum_i w_i``.
    """

    observed: FloatArray
    weights: FloatArray
    edges: FloatArray
    observed_density: FloatArray
    z: FloatArray
    implied_density: FloatArray


def spend_distribution(model: SpendDensityModel, summary: CustomerSummary, *, bins: int = 40,
                       n_points: int = 400, quantile: float = 0.99) -> SpendDistribution:
    """Observed vs implied distribution of the average spend per transaction of the repeat customers.

    The implied density mixes the model's ``average_spend_density(z, x)`` over the customers' repeat purchase
    counts ``x`` (an average of ``x`` spends is less spread than one spend). The histogram and the grid run
    from 0 to the ``quantile`` of the observed averages (CLVTools' spending density plot).

    Raises
    ------
    InvalidInputError
        For a model without ``average_spend_density``, a summary without ``monetary_value`` or without a
        repeat customer with positive spend, or bad ``bins``, ``n_points`` or ``quantile``.

    Examples
    --------
    >>> from clvkit.datasets import load_cdnow_summary
    >>> from clvkit.valuation import FittedGammaGamma, GammaGammaParams
    >>> gg = FittedGammaGamma(params=GammaGammaParams(p=6.25, q=3.74, v=15.44), time_unit="W")
    >>> sd = spend_distribution(gg, load_cdnow_summary())
    >>> len(sd.observed), sd.edges.shape, sd.z.shape
    (946, (41,), (400,))
    """
    where = "spend_distribution()"
    if not isinstance(model, SpendDensityModel):
        raise InvalidInputError(f"{where} needs a fitted spend model with average_spend_density (the Gamma-Gamma "
                                f"model: clvkit.protocols.SpendDensityModel). Got {type(model).__name__} instead.")
    need_summary(summary, where)
    n_bins = check_whole(bins, "bins", where, low=1, high=MAX_CURVE_POINTS)
    n = check_whole(n_points, "n_points", where, low=2, high=MAX_CURVE_POINTS)
    q = check_scalar(quantile, "quantile", where, low=0.0, high=1.0, low_open=True)
    if summary.monetary_value is None:
        raise InvalidInputError(f"{where} needs 'monetary_value' in the summary. Pass monetary_value= to "
                                f"clvkit.summarize() or CustomerSummary(...).")
    repeat = (summary.frequency > 0) & (summary.monetary_value > 0)
    if not np.any(repeat):
        raise InvalidInputError(f"{where} needs at least one customer with repeat purchases and positive "
                                f"monetary_value. Got none.")
    z_obs = summary.monetary_value[repeat]
    w = summary.weights_or_ones()[repeat]
    x = summary.frequency[repeat]
    upper = _weighted_quantile(z_obs, w, q)
    counts, edges = np.histogram(z_obs, bins=n_bins, range=(0.0, upper), weights=w)
    observed_density = counts / (w.sum() * np.diff(edges))
    z = upper * (np.arange(n, dtype=np.float64) + 0.5) / n
    x_unique, x_inverse = np.unique(x, return_inverse=True)
    w_by_x = np.bincount(x_inverse.reshape(-1), weights=w, minlength=x_unique.shape[0])
    density_by_x = np.asarray(model.average_spend_density(z[None, :], x_unique[:, None]), dtype=np.float64)
    implied = w_by_x @ density_by_x / w.sum()
    return SpendDistribution(observed=read_only(z_obs), weights=read_only(w), edges=read_only(edges),
                             observed_density=read_only(observed_density), z=read_only(z),
                             implied_density=read_only(implied))


def _weighted_quantile(values: FloatArray, weights: FloatArray, q: float) -> float:
    """The smallest value whose weighted share of values at or below it is at least ``q``."""
    order = np.argsort(values, kind="stable")
    cum = np.cumsum(weights[order])
    k = int(np.searchsorted(cum, q * cum[-1], side="left"))
    return float(values[order][min(k, values.shape[0] - 1)])


@dataclass(frozen=True)
class InterpurchaseTimes:
    """Each repeat customer's mean time between purchases, ``recency / frequency``, and its histogram.

    Attributes
    ----------
    mean_time:
        Array of shape (n_repeat,): mean inter-purchase time of each customer with a repeat purchase, in
        ``time_unit`` (the first to last purchase spans ``frequency`` gaps).
    weights:
        Their weights.
    edges, density:
        Histogram of ``mean_time`` over ``[0, max]`` normalised to a density.
    mean:
        Weighted mean of ``mean_time``.
    time_unit:
        The summary's time unit.
    """

    mean_time: FloatArray
    weights: FloatArray
    edges: FloatArray
    density: FloatArray
    mean: float
    time_unit: str


def interpurchase_times(summary: CustomerSummary, *, bins: int = 40) -> InterpurchaseTimes:
    """The distribution of the customers' mean inter-purchase times (CLVTools' inter-purchase time plot).

    Raises
    ------
    InvalidInputError
        For a summary without a customer with a repeat purchase, or a bad ``bins``.

    Examples
    --------
    >>> from clvkit import CustomerSummary
    >>> ipt = interpurchase_times(CustomerSummary(frequency=[0, 2, 1], recency=[0, 10, 3], T=[20, 20, 20],
    ...                                           time_unit="D"), bins=2)
    >>> ipt.mean_time.tolist(), ipt.edges.tolist(), ipt.mean
    ([5.0, 3.0], [0.0, 2.5, 5.0], 4.0)
    """
    where = "interpurchase_times()"
    need_summary(summary, where)
    n_bins = check_whole(bins, "bins", where, low=1, high=MAX_CURVE_POINTS)
    repeat = summary.frequency > 0
    if not np.any(repeat):
        raise InvalidInputError(f"{where} needs at least one customer with a repeat purchase (frequency > 0). "
                                f"Got none.")
    mean_time = summary.recency[repeat] / summary.frequency[repeat]
    w = summary.weights_or_ones()[repeat]
    density, edges = np.histogram(mean_time, bins=n_bins, range=(0.0, float(mean_time.max())), weights=w,
                                  density=True)
    return InterpurchaseTimes(mean_time=read_only(mean_time), weights=read_only(w), edges=read_only(edges),
                              density=read_only(density), mean=float(w @ mean_time / w.sum()),
                              time_unit=summary.time_unit)


