"""Parameter uncertainty and how it propagates to predictions and CLV.

Every engine fits on the log scale and reports the observed-information covariance (``FitInfo.covariance``,
natural scale by the delta method). Here

- :func:`sample_parameters` draws from the asymptotic normal distribution of the *log* parameters,
  ``log(theta) ~ N(log(theta_hat), Sigma / outer(theta_hat, theta_hat))``, so every draw is positive;
- :func:`parameter_intervals` gives the matching Wald intervals (symmetric on the log scale);
- :func:`prediction_intervals` rebuilds the fitted model at each draw and collects any per-customer
  prediction, and :func:`clv_intervals` does so for CLV with both the transaction and the spend model
  uncertain (their fits are independent, as in Fader, Hardie & Lee 2005b);
- :func:`~clvkit.valuation.parametric_bootstrap` (:mod:`.bootstrap`) simulates new data sets from a fitted
  count model and refits, for when the normal approximation is doubtful (small samples, parameters near a
  boundary).

Models are used only through :mod:`clvkit.protocols` (:class:`~clvkit.protocols.EstimatedModel`,
:class:`~clvkit.protocols.CountModel`): any model that plays those roles gets intervals.

The log scale is the natural one: it is the optimiser's scale, every draw and every interval stays
positive, and the skew of the estimates of small shape parameters is captured. (Rejected: normal draws
on the natural scale, which put mass below zero for weakly determined parameters - e.g. a BG/NBD ``a``
with a standard error near half its value - and then need truncation that distorts the distribution.)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import special

from ...batch import CustomerSummary
from ...errors import InvalidInputError, ModelDomainError, NotFittedError
from ...protocols import EstimatedModel
from ...protocols import SpendModel as _SpendModel
from ..value.clv import clv

__all__ = [
    "MAX_DRAWS",
    "MAX_DRAW_CELLS",
    "ParameterIntervals",
    "PredictionIntervals",
    "clv_intervals",
    "parameter_intervals",
    "prediction_intervals",
    "sample_parameters",
]

#: Most parameter draws (``n_draws``) :func:`sample_parameters`, :func:`prediction_intervals` and
#: :func:`clv_intervals` take; intervals settle within a few thousand.
MAX_DRAWS = 1_000_000
#: Most values the interval functions hold at once: ``n_draws x distinct customers`` float64 values (2 GB).
MAX_DRAW_CELLS = 250_000_000

FloatArray = npt.NDArray[np.float64]
Seed = int | np.random.Generator | None
PredictionFn = Callable[[Any, Any], Any]


def _ro(arr: npt.ArrayLike) -> FloatArray:
    out = np.array(arr, dtype=np.float64)
    out.flags.writeable = False
    return out


def _rng(seed: Any, where: str) -> np.random.Generator:
    """``numpy.random.default_rng(seed)``, or a typed error naming what a seed may be."""
    try:
        return np.random.default_rng(seed)
    except (TypeError, ValueError):
        raise InvalidInputError(f"The 'seed' parameter of {where} must be a non-negative integer, None or a numpy "
                                f"Generator. Got {seed!r} instead.") from None


def _check_level(level: float, where: str) -> float:
    try:
        value = float(level)
    except (TypeError, ValueError):
        value = math.nan
    if not 0.0 < value < 1.0:
        raise InvalidInputError(f"The 'level' parameter of {where} must be in (0, 1). Got {level!r} instead.")
    return value


def _check_count(value: int, name: str, where: str, low: int = 1, *, high: int = MAX_DRAWS,
                 high_name: str = "MAX_DRAWS") -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise InvalidInputError(f"The '{name}' parameter of {where} must be a whole number >= {low}. "
                                f"Got {value!r} instead.")
    if value > high:
        raise InvalidInputError(f"The '{name}' parameter of {where} must be at most {high_name} = {high:,} "
                                f"(clvkit.valuation.checking). Got {value!r} instead.")
    return int(value)


def _param_names(fitted: EstimatedModel) -> tuple[str, ...]:
    if not isinstance(fitted, EstimatedModel):
        raise InvalidInputError(f"Expected a fitted clvkit model with named parameters. Got {type(fitted).__name__}.")
    return tuple(fitted.param_names)


def _log_normal(fitted: EstimatedModel, where: str) -> tuple[FloatArray, FloatArray]:
    """``(log params, Cholesky factor of their covariance)`` or a typed error saying why there is none."""
    if not isinstance(fitted, EstimatedModel):
        raise InvalidInputError(f"{where} needs a fitted clvkit model. Got {type(fitted).__name__} instead.")
    name = type(fitted).__name__
    if fitted.fit_info is None:
        raise NotFittedError(f"{where}: this {name} was built from parameters, so it has no covariance matrix. "
                             f"Fit it with its engine's fit() to get parameter uncertainty.")
    if fitted.fit_info.covariance is None:
        raise ModelDomainError(
            f"{where}: the fit of this {name} has no covariance matrix (the observed information was not "
            f"positive definite; the parameters are weakly identified by these data). Use "
            f"parametric_bootstrap(), more data, or a small penalizer."
        )
    theta = fitted.param_array()
    cov = np.asarray(fitted.fit_info.covariance, dtype=np.float64)
    cov_log = cov / np.outer(theta, theta)
    cov_log = 0.5 * (cov_log + cov_log.T)
    try:
        chol = np.linalg.cholesky(cov_log)
    except np.linalg.LinAlgError:
        raise ModelDomainError(f"{where}: the covariance matrix of this {name} is not positive definite; "
                               f"use parametric_bootstrap() instead.") from None
    return np.log(theta), chol


def sample_parameters(fitted: EstimatedModel, n_draws: int, *, seed: Seed) -> FloatArray:
    """Draws of the parameters from their asymptotic normal distribution on the log scale.

    ``log(theta) ~ N(log(theta_hat), C)`` with ``C = Sigma / outer(theta_hat, theta_hat)`` the covariance of
    the log parameters (``Sigma`` is ``fit_info.covariance``, the delta-method covariance on the natural
    scale). All draws are made at once from one Cholesky factor.

    Parameters
    ----------
    fitted:
        A fitted model with ``fit_info.covariance``.
    n_draws:
        Number of draws (>= 1).
    seed:
        Seed or ``numpy.random.Generator``; the same seed gives the same draws.

    Returns
    -------
    numpy.ndarray of shape (n_draws, n_params)
        Columns in the order of ``fitted.param_array()``.

    Raises
    ------
    NotFittedError
        For a model built from parameters.
    ModelDomainError
        When the fit has no (positive-definite) covariance.
    InvalidInputError
        For ``n_draws`` outside ``[1, MAX_DRAWS]`` (:data:`MAX_DRAWS`).

    Examples
    --------
    >>> from clvkit.datasets import load_cdnow_summary
    >>> from clvkit.valuation import BetaGeo
    >>> fitted = BetaGeo().fit(load_cdnow_summary())
    >>> draws = sample_parameters(fitted, 1000, seed=1)
    >>> draws.shape, bool((draws > 0).all())
    ((1000, 4), True)
    """
    where = "sample_parameters()"
    n = _check_count(n_draws, "n_draws", where)
    mean, chol = _log_normal(fitted, where)
    rng = _rng(seed, where)
    z = rng.standard_normal((n, mean.shape[0]))
    out: FloatArray = np.exp(mean + z @ chol.T)
    return out


@dataclass(frozen=True)
class ParameterIntervals:
    """Wald intervals for the parameters, symmetric on the log scale.

    Attributes
    ----------
    names:
        Parameter names, in the papers' order.
    estimate, lower, upper:
        Arrays of shape (n_params,), natural scale.
    standard_errors:
        Delta-method standard errors on the natural scale (from the fit).
    level:
        Coverage level.
    """

    names: tuple[str, ...]
    estimate: FloatArray
    lower: FloatArray
    upper: FloatArray
    standard_errors: FloatArray
    level: float

    def as_dict(self) -> dict[str, tuple[float, float]]:
        """``{name: (lower, upper)}``."""
        return {n: (float(lo), float(hi)) for n, lo, hi in zip(self.names, self.lower, self.upper, strict=True)}

    def covers(self, values: Any) -> npt.NDArray[np.bool_]:
        """Whether each interval contains the corresponding entry of ``values`` (shape (n_params,))."""
        v = np.asarray(values, dtype=np.float64)
        out: npt.NDArray[np.bool_] = (self.lower <= v) & (v <= self.upper)
        return out


def parameter_intervals(fitted: EstimatedModel, level: float = 0.9) -> ParameterIntervals:
    """Wald intervals ``exp(log(theta_hat) +- z * se(log theta))`` with ``z = norm.ppf((1 + level) / 2)``.

    Parameters
    ----------
    fitted:
        A fitted model with ``fit_info.covariance``.
    level:
        Coverage level in (0, 1).

    Returns
    -------
    ParameterIntervals

    Raises
    ------
    NotFittedError, ModelDomainError
        As :func:`sample_parameters`.

    Examples
    --------
    >>> from clvkit.datasets import load_cdnow_summary
    >>> from clvkit.valuation import BetaGeo
    >>> ci = parameter_intervals(BetaGeo().fit(load_cdnow_summary()), level=0.95)
    >>> ci.names
    ('r', 'alpha', 'a', 'b')
    >>> ci.lower.round(4).tolist(), ci.upper.round(4).tolist()
    ([0.2192, 3.7312, 0.501, 1.372], [0.2685, 5.2208, 1.2549, 4.2893])
    """
    where = "parameter_intervals()"
    lv = _check_level(level, where)
    mean, chol = _log_normal(fitted, where)
    se_log = np.sqrt(np.sum(chol * chol, axis=1))
    z = float(special.ndtri(0.5 + 0.5 * lv))  # standard normal quantile
    theta = np.exp(mean)
    cov = np.asarray(fitted.fit_info.covariance if fitted.fit_info is not None else [], dtype=np.float64)
    return ParameterIntervals(
        names=_param_names(fitted),
        estimate=_ro(theta),
        lower=_ro(np.exp(mean - z * se_log)),
        upper=_ro(np.exp(mean + z * se_log)),
        standard_errors=_ro(np.sqrt(np.diag(cov))),
        level=lv,
    )


def _at(fitted: EstimatedModel, values: FloatArray) -> Any:
    """The fitted model with its parameters replaced by ``values`` (and no fit diagnostics)."""
    return fitted.with_param_array(values)


@dataclass(frozen=True)
class PredictionIntervals:
    """Per-customer prediction intervals from parameter draws.

    Attributes
    ----------
    point:
        The prediction at the fitted parameters, shape (n_customers,).
    lower, median, upper:
        Quantiles ``(1 - level)/2``, 0.5 and ``(1 + level)/2`` of the prediction over the draws, shape
        (n_customers,).
    total_point, total_lower, total_median, total_upper:
        The same for the prediction summed over customers (weighted by the summary's weights); the
        quantiles of the sum, not the sum of the quantiles.
    customer_id:
        The summary's ids, or ``None``.
    level, n_draws:
        The settings.
    """

    point: FloatArray
    lower: FloatArray
    median: FloatArray
    upper: FloatArray
    total_point: float
    total_lower: float
    total_median: float
    total_upper: float
    customer_id: npt.NDArray[Any] | None
    level: float
    n_draws: int


def _distinct(summary: CustomerSummary, where: str) -> tuple[CustomerSummary, npt.NDArray[np.intp], FloatArray]:
    """Distinct rows (unweighted), the expansion index, and how many customers each row stands for."""
    if not isinstance(summary, CustomerSummary):
        raise InvalidInputError(f"{where} needs a clvkit.CustomerSummary. Got {type(summary).__name__} instead.")
    if len(summary) == 0:
        raise InvalidInputError(f"{where} needs at least one customer. Got an empty summary.")
    compressed = summary.compress(include_monetary=True)
    u = compressed.summary
    counts = u.weights_or_ones()
    unique = CustomerSummary(frequency=u.frequency, recency=u.recency, T=u.T, monetary_value=u.monetary_value,
                             time_unit=u.time_unit)
    return unique, compressed.inverse, counts


def _evaluate(fn: Callable[[], Any], n_rows: int | None, where: str, draw: int | None) -> FloatArray:
    at = "at the fitted parameters" if draw is None else f"at parameter draw {draw}"
    try:
        value = np.asarray(fn(), dtype=np.float64)
    except ModelDomainError as exc:
        raise ModelDomainError(
            f"{where}: the prediction is undefined {at} ({exc}). The normal approximation puts mass where the "
            f"model is not defined; use parametric_bootstrap() or a narrower level."
        ) from exc
    if (n_rows is None and value.ndim != 1) or (n_rows is not None and value.shape != (n_rows,)):
        wanted = "a one-dimensional array" if n_rows is None else f"an array of shape (n_customers,) = ({n_rows},)"
        raise InvalidInputError(f"The 'fn' of {where} must return {wanted}. Got shape {value.shape} instead.")
    if not np.all(np.isfinite(value)):
        raise ModelDomainError(f"{where}: the prediction is not finite {at}.")
    return value


def _propagate(
    models: list[EstimatedModel],
    summary: CustomerSummary,
    fn: Callable[[list[Any], CustomerSummary], Any],
    *,
    n_draws: int,
    level: float,
    seed: Seed,
    where: str,
) -> PredictionIntervals:
    """Evaluate ``fn`` at the fitted parameters and at ``n_draws`` joint draws of every model in ``models``.

    The models' estimates come from separate fits, so they are drawn independently.
    """
    n = _check_count(n_draws, "n_draws", where)
    lv = _check_level(level, where)
    rng = _rng(seed, where)
    draws = [sample_parameters(m, n, seed=rng) for m in models]
    unique: Any
    if isinstance(summary, CustomerSummary):
        unique, inverse, counts = _distinct(summary, where)
        point = _evaluate(lambda: fn(models, unique), len(unique), where, None)
    else:
        # Another kind of batch (e.g. a contract summary): passed through as is, one output per entry.
        unique = summary
        point = _evaluate(lambda: fn(models, unique), None, where, None)
        inverse, counts = np.arange(point.shape[0]), np.ones(point.shape[0])
    n_rows = point.shape[0]
    if n * n_rows > MAX_DRAW_CELLS:
        raise InvalidInputError(
            f"{where} would hold n_draws x distinct customers = {n:,} x {n_rows:,} values, more than "
            f"MAX_DRAW_CELLS = {MAX_DRAW_CELLS:,} (clvkit.valuation.checking). Use fewer draws or run it on "
            f"chunks of customers."
        )
    values = np.empty((n, n_rows))
    for i in range(n):
        at_draw = [_at(m, d[i]) for m, d in zip(models, draws, strict=True)]
        values[i] = _evaluate(lambda at_draw=at_draw: fn(at_draw, unique), n_rows, where, i)  # type: ignore[misc]
    probs = [0.5 - 0.5 * lv, 0.5, 0.5 + 0.5 * lv]
    lo, med, hi = np.quantile(values, probs, axis=0)
    totals = values @ counts
    t_lo, t_med, t_hi = np.quantile(totals, probs)
    return PredictionIntervals(
        point=_ro(point[inverse]),
        lower=_ro(lo[inverse]),
        median=_ro(med[inverse]),
        upper=_ro(hi[inverse]),
        total_point=float(point @ counts),
        total_lower=float(t_lo),
        total_median=float(t_med),
        total_upper=float(t_hi),
        customer_id=getattr(summary, "customer_id", None),
        level=lv,
        n_draws=n,
    )


def prediction_intervals(
    fitted: EstimatedModel,
    summary: CustomerSummary | Any,
    fn: PredictionFn,
    *,
    n_draws: int = 500,
    level: float = 0.9,
    seed: Seed,
) -> PredictionIntervals:
    """Per-customer intervals for any prediction, from the parameters' sampling distribution.

    The model is rebuilt at each of ``n_draws`` parameter draws (:func:`sample_parameters`) and ``fn`` is
    evaluated on it. ``fn`` sees the *distinct rows* of the summary (``frequency``, ``recency``, ``T``,
    ``monetary_value``; no ids, weights or holdout columns), so the work is proportional to the
    number of distinct customers, and results are expanded back to every customer.

    These intervals describe parameter (estimation) uncertainty only, not the randomness of a customer's
    future purchases.

    Parameters
    ----------
    fitted:
        A fitted model with ``fit_info.covariance``.
    summary:
        The customers to predict for. Another kind of batch (e.g. a contract summary for the sBG model) is
        passed to ``fn`` unchanged, and ``fn`` may then return any one-dimensional array.
    fn:
        ``fn(model, summary) -> array of shape (len(summary),)``, a per-customer prediction, e.g.
        ``lambda m, s: m.expected_purchases(s, 52)``.
    n_draws:
        Number of parameter draws.
    level:
        Coverage level of the intervals, in (0, 1).
    seed:
        Seed or ``numpy.random.Generator`` (required, so results are reproducible by default).

    Returns
    -------
    PredictionIntervals
        ``total_*`` sum the prediction over customers, counting a weighted row ``weight`` times.

    Raises
    ------
    NotFittedError, ModelDomainError
        As :func:`sample_parameters`; also when ``fn`` fails at a draw for a parameter value where the model
        is undefined.
    InvalidInputError
        For bad settings or an ``fn`` returning the wrong shape; ``n_draws`` above :data:`MAX_DRAWS`, or
        ``n_draws x distinct customers`` above :data:`MAX_DRAW_CELLS` (checked before the draws are evaluated).

    Examples
    --------
    >>> from clvkit.datasets import load_cdnow_summary
    >>> from clvkit.valuation import BetaGeo
    >>> s = load_cdnow_summary()
    >>> fitted = BetaGeo().fit(s)
    >>> pi = prediction_intervals(fitted, s, lambda m, x: m.expected_purchases(x, 52), n_draws=200, seed=7)
    >>> bool(((pi.lower <= pi.point) & (pi.point <= pi.upper)).all())
    True
    >>> pi.total_lower < pi.total_point < pi.total_upper
    True
    """
    where = "prediction_intervals()"
    if not callable(fn):
        raise InvalidInputError(f"The 'fn' parameter of {where} must be callable as fn(model, summary). "
                                f"Got {type(fn).__name__} instead.")
    return _propagate([fitted], summary, lambda ms, s: fn(ms[0], s), n_draws=n_draws, level=level, seed=seed,
                      where=where)


def clv_intervals(
    transaction_model: EstimatedModel,
    spend_model: EstimatedModel | float | Any,
    summary: CustomerSummary,
    *,
    n_draws: int = 500,
    level: float = 0.9,
    seed: Seed,
    **clv_kwargs: Any,
) -> PredictionIntervals:
    """Intervals for each customer's CLV with both models' parameter uncertainty.

    The transaction and spend models are fitted separately, so their estimates are independent and are
    drawn independently. A fixed spend (a number, or an array of shape (n_customers,)) carries no
    uncertainty.

    Parameters
    ----------
    transaction_model:
        A fitted transaction model with a covariance (e.g. :class:`~clvkit.valuation.FittedBetaGeo`).
    spend_model:
        A fitted spend model with a covariance (e.g. :class:`~clvkit.valuation.FittedGammaGamma`), or a
        fixed spend per purchase.
    summary:
        The customers to value (with ``monetary_value`` for a spend model).
    n_draws, level, seed:
        As :func:`prediction_intervals`.
    **clv_kwargs:
        Passed to :func:`clvkit.valuation.clv` (``horizon``, ``discount_rate``, ``margin``, ``period``).

    Returns
    -------
    PredictionIntervals
        Of CLV per customer as :func:`clvkit.valuation.clv` reports it; ``total_*`` are the intervals of
        customer equity (a weighted row counted ``weight`` times).

    Raises
    ------
    NotFittedError, ModelDomainError
        When either fitted model has no covariance (pass a fixed spend to ignore spend uncertainty).
    InvalidInputError
        For bad settings, or a spend array of the wrong shape or with negative or non-finite entries; for the
        limits of :func:`clvkit.valuation.clv` and :func:`prediction_intervals` (:data:`MAX_DRAWS`,
        :data:`MAX_DRAW_CELLS`).

    Examples
    --------
    >>> from clvkit.datasets import load_cdnow_summary
    >>> from clvkit.valuation import BetaGeo, GammaGamma
    >>> s = load_cdnow_summary()
    >>> bg, gg = BetaGeo().fit(s), GammaGamma().fit(s)
    >>> ci = clv_intervals(bg, gg, s, horizon=12, discount_rate=0.01, period=4.0, n_draws=50, seed=3)
    >>> ci.total_lower < ci.total_point < ci.total_upper
    True
    """
    where = "clv_intervals()"
    if isinstance(spend_model, _SpendModel) and isinstance(spend_model, EstimatedModel):
        _log_normal(spend_model, where)  # typed error now rather than silently narrower intervals
        return _propagate([transaction_model, spend_model], summary,
                          lambda ms, s: clv(ms[0], ms[1], s, **clv_kwargs).clv,
                          n_draws=n_draws, level=level, seed=seed, where=where)
    try:
        spend = np.asarray(spend_model, dtype=np.float64)
    except (TypeError, ValueError):
        spend = np.full(1, np.nan)
    if spend.ndim == 0 and np.isfinite(spend) and spend >= 0:
        fixed = float(spend)
        return _propagate([transaction_model], summary, lambda ms, s: clv(ms[0], fixed, s, **clv_kwargs).clv,
                          n_draws=n_draws, level=level, seed=seed, where=where)
    n = len(summary) if isinstance(summary, CustomerSummary) else -1
    if spend.shape != (n,) or not np.all(np.isfinite(spend)) or np.any(spend < 0):
        raise InvalidInputError(f"The 'spend_model' parameter of {where} must be a fitted spend model, a number or "
                                f"an array of shape ({n},) of finite non-negative spends. Got "
                                f"{type(spend_model).__name__} instead.")
    # Carry the per-customer spend as a column so that it follows the rows through compression.
    carried = CustomerSummary(frequency=summary.frequency, recency=summary.recency, T=summary.T,
                              monetary_value=spend, weights=summary.weights, customer_id=summary.customer_id,
                              time_unit=summary.time_unit)

    def value(ms: list[Any], s: CustomerSummary) -> Any:
        return clv(ms[0], s.monetary_value, s, **clv_kwargs).clv

    return _propagate([transaction_model], carried, value, n_draws=n_draws, level=level, seed=seed, where=where)
