"""Model checking for customer-base models: holdout accuracy, tracking plots, fit histograms, comparisons.

Every function works with any fitted transaction model that offers the common prediction surface
(:class:`CountModel`): BG/NBD, MBG/NBD, Pareto/NBD, BG/BB, sBG, ... The checks are those Fader, Hardie
and Lee use to validate the BG/NBD model on the CDNOW data (2005, section 4):

- :func:`holdout_evaluation` - per-customer predicted vs actual holdout purchases (MAE, RMSE) and the
  aggregate error;
- :func:`tracking` - expected vs actual repeat transactions per calendar period of the cohort, across
  calibration and holdout (their Figures 2 and 3);
- :func:`frequency_histogram` - expected vs actual number of customers by calibration frequency with a
  chi-square goodness-of-fit test (their Figure 1; Fader, Hardie & Lee 2007, "Creating a fit histogram
  for the BG/NBD model");
- :func:`conditional_expectations` - mean holdout purchases by calibration frequency, predicted vs
  actual (their Figure 4);
- :func:`information_criteria`, :func:`likelihood_ratio_test` and :func:`compare` to choose between
  models.

Results are frozen dataclasses holding read-only arrays.

References
----------
P. S. Fader, B. G. S. Hardie and K. L. Lee (2005), "'Counting Your Customers' the Easy Way: An Alternative
to the Pareto/NBD Model", Marketing Science 24(2), 275-284.

P. S. Fader, B. G. S. Hardie and K. L. Lee (2007), "Creating a Fit Histogram for the BG/NBD Model",
http://brucehardie.com/notes/014/.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import numpy as np
import numpy.typing as npt
from scipy import special

from ..._frames import to_columns
from ..._summarize import (
    _code_ids,
    _period_of,
    _read_object_ids,
    _read_param,
    _read_times,
    _source_is_aware,
    _to_periods,
)
from ..._timeunits import UNIT_DAYS, unit_days
from ..._validation import raise_if
from ...batch import CustomerSummary
from ...errors import InvalidInputError, NotFittedError, Problem
from ..models._base import FitInfo
from ..models.beta_geo import FittedBetaGeo

__all__ = [
    "ConditionalExpectations",
    "CountModel",
    "FrequencyHistogram",
    "HoldoutEvaluation",
    "InformationCriteria",
    "LikelihoodRatioTest",
    "ModelComparison",
    "TrackingResult",
    "compare",
    "conditional_expectations",
    "frequency_histogram",
    "holdout_evaluation",
    "information_criteria",
    "likelihood_ratio_test",
    "tracking",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
Criterion = Literal["rmse", "mae", "aggregate"]


class CountModel(Protocol):
    """The prediction surface every fitted transaction-count model offers (BG/NBD, Pareto/NBD, ...).

    Methods take a :class:`~clvkit.CustomerSummary` in the model's ``time_unit`` and return arrays of
    shape (n_customers,).
    """

    @property
    def time_unit(self) -> str: ...

    @property
    def fit_info(self) -> FitInfo | None: ...

    def expected_purchases(self, summary: CustomerSummary, t: Any) -> FloatArray: ...

    def probability_of_purchases(self, summary: CustomerSummary, n: Any, t: Any) -> FloatArray: ...

    def expected_purchases_new_customer(self, t: Any) -> FloatArray: ...

    def param_array(self) -> FloatArray: ...


def _ro(arr: npt.ArrayLike) -> FloatArray:
    out = np.array(arr, dtype=np.float64)
    out.flags.writeable = False
    return out


def _relative(predicted: float, actual: float) -> float:
    """``(predicted - actual) / actual``; +-inf when nothing happened but something was predicted."""
    if actual != 0.0:
        return (predicted - actual) / actual
    return 0.0 if predicted == 0.0 else math.copysign(math.inf, predicted)


def _need_holdout(summary: CustomerSummary, where: str) -> tuple[FloatArray, float]:
    if not isinstance(summary, CustomerSummary):
        raise InvalidInputError(f"{where} needs a clvkit.CustomerSummary. Got {type(summary).__name__} instead.")
    if summary.frequency_holdout is None or summary.duration_holdout is None:
        raise InvalidInputError(
            f"{where} needs a summary with holdout columns ('frequency_holdout', 'duration_holdout'). Build it "
            f"with clvkit.summarize(..., calibration_end=...) or pass frequency_holdout= and duration_holdout= "
            f"to CustomerSummary."
        )
    if len(summary) == 0:
        raise InvalidInputError(f"{where} needs at least one customer. Got an empty summary.")
    return summary.frequency_holdout, summary.duration_holdout


def _predict_holdout(model: CountModel, summary: CustomerSummary, duration: float) -> FloatArray:
    # Predictions depend on (frequency, recency, T) only: evaluate on distinct rows and expand.
    compressed = summary.compress(include_monetary=False)
    unique = compressed.summary
    predicted = np.asarray(model.expected_purchases(unique, duration), dtype=np.float64)
    out: FloatArray = predicted[compressed.inverse]
    return out


# ----------------------------------------------------------------------------------------- holdout
@dataclass(frozen=True)
class HoldoutEvaluation:
    """Predicted vs actual purchases in the holdout period, per customer and in total.

    Attributes
    ----------
    predicted:
        Array of shape (n_customers,): expected purchases over the holdout period, E[X(T, T + t*)].
    actual:
        Array of shape (n_customers,): the holdout frequency.
    customer_id:
        The summary's ids, or ``None``.
    duration:
        Length of the holdout period ``t*`` in the summary's time unit.
    mae, rmse:
        Mean absolute and root mean squared per-customer error (weighted by the summary's weights).
    total_predicted, total_actual:
        Expected and actual holdout purchases summed over customers (weighted).
    relative_error:
        ``(total_predicted - total_actual) / total_actual``.
    """

    predicted: FloatArray
    actual: FloatArray
    customer_id: npt.NDArray[Any] | None
    duration: float
    mae: float
    rmse: float
    total_predicted: float
    total_actual: float
    relative_error: float


def holdout_evaluation(model: CountModel, summary: CustomerSummary) -> HoldoutEvaluation:
    """Compare each customer's expected holdout purchases with the holdout frequency.

    Parameters
    ----------
    model:
        A fitted transaction model (see :class:`CountModel`).
    summary:
        Calibration summary with holdout columns, from ``clvkit.summarize(..., calibration_end=...)``.

    Returns
    -------
    HoldoutEvaluation

    Raises
    ------
    InvalidInputError
        When the summary has no holdout columns or is in another time unit than the model.

    Examples
    --------
    >>> from clvkit.datasets import load_cdnow_summary
    >>> from clvkit.valuation import BetaGeoParams, FittedBetaGeo
    >>> bg = FittedBetaGeo(params=BetaGeoParams(r=0.243, alpha=4.414, a=0.793, b=2.426), time_unit="W")
    >>> ev = holdout_evaluation(bg, load_cdnow_summary())
    >>> round(ev.total_actual), round(ev.total_predicted), round(ev.rmse, 2)
    (1882, 1654, 1.61)
    """
    actual, duration = _need_holdout(summary, "holdout_evaluation()")
    predicted = _predict_holdout(model, summary, duration)
    w = summary.weights_or_ones()
    total_w = float(w.sum())
    err = predicted - actual
    total_pred = float(w @ predicted)
    total_act = float(w @ actual)
    return HoldoutEvaluation(
        predicted=_ro(predicted),
        actual=_ro(actual),
        customer_id=summary.customer_id,
        duration=float(duration),
        mae=float(w @ np.abs(err)) / total_w,
        rmse=math.sqrt(float(w @ (err * err)) / total_w),
        total_predicted=total_pred,
        total_actual=total_act,
        relative_error=_relative(total_pred, total_act),
    )


# ----------------------------------------------------------------------------------------- tracking
@dataclass(frozen=True)
class TrackingResult:
    """Expected vs actual repeat transactions of a cohort per calendar period.

    Period ``k`` (1-based) covers ``period_length`` periods of ``freq`` starting at the cohort's first
    purchase period; its end is ``elapsed[k-1]`` model time units after that start.

    Attributes
    ----------
    period:
        Array of shape (n_periods,): 1, 2, ...
    elapsed:
        Time from the start of the first period to the end of each period, in the model's time unit.
    expected_incremental, actual_incremental:
        Repeat transactions in each period, expected and actual.
    expected_cumulative, actual_cumulative:
        Running totals.
    n_calibration_periods:
        How many leading periods end on or before ``calibration_end`` (a period that straddles it counts
        as holdout).
    n_customers:
        Size of the cohort (customers whose first purchase is on or before ``calibration_end``).
    time_unit:
        The model's time unit (the unit of ``elapsed``).
    """

    period: IntArray
    elapsed: FloatArray
    expected_incremental: FloatArray
    actual_incremental: FloatArray
    expected_cumulative: FloatArray
    actual_cumulative: FloatArray
    n_calibration_periods: int
    n_customers: int
    time_unit: str

    def cumulative_at(self, k: int) -> tuple[float, float]:
        """``(expected, actual)`` cumulative repeat transactions at the end of period ``k`` (1-based)."""
        if not 1 <= k <= self.period.shape[0]:
            raise InvalidInputError(f"The 'k' parameter of cumulative_at() must be in [1, {self.period.shape[0]}]. "
                                    f"Got {k!r} instead.")
        return float(self.expected_cumulative[k - 1]), float(self.actual_cumulative[k - 1])

    @property
    def calibration_relative_error(self) -> float:
        """Relative error of the cumulative expectation at the end of the calibration periods."""
        if self.n_calibration_periods == 0:
            return 0.0
        e, a = self.cumulative_at(self.n_calibration_periods)
        return _relative(e, a)

    @property
    def holdout_relative_error(self) -> float:
        """Relative error of the expected repeat transactions summed over the holdout periods."""
        c = self.n_calibration_periods
        e = float(self.expected_incremental[c:].sum())
        a = float(self.actual_incremental[c:].sum())
        return _relative(e, a)

    @property
    def total_relative_error(self) -> float:
        """Relative error of the cumulative expectation at the end of the last period."""
        return _relative(float(self.expected_cumulative[-1]), float(self.actual_cumulative[-1]))

    @property
    def incremental_mae(self) -> float:
        """Mean absolute error of the per-period repeat transactions over all periods."""
        return float(np.mean(np.abs(self.expected_incremental - self.actual_incremental)))


def tracking(
    model: CountModel,
    transactions: Any,
    *,
    customer_id: str,
    datetime: str,
    calibration_end: Any,
    freq: str = "D",
    period_length: int = 1,
    observation_end: Any = None,
) -> TrackingResult:
    """Expected vs actual repeat transactions per calendar period for the cohort in a transaction log.

    As in Fader, Hardie & Lee (2005, Figures 2 and 3): a customer whose first purchase is at calendar
    time ``s_i`` is expected to have made ``E[X(tau - s_i)]`` repeat purchases by calendar time ``tau``
    (the model's ``expected_purchases_new_customer``), so the cohort's expected cumulative repeat
    transactions are ``sum_i E[X(tau - s_i)]``. Customers are grouped by first-purchase period, so the
    model is evaluated once per (first period, tracking period) pair, not per customer.

    Times are floored to periods of ``freq`` exactly as :func:`clvkit.summarize` does, and a customer's
    purchases in one period count once; a repeat transaction is a purchase period after the customer's
    first. With ``e`` the last ``freq`` period of tracking period ``k``, the expectation uses the elapsed
    time ``e - s_i`` - the same convention as the summary's ``T`` - so at ``calibration_end`` the
    expected cumulative equals ``sum_i E[X(T_i)]`` over the calibration summary.

    Parameters
    ----------
    model:
        A fitted transaction model (see :class:`CountModel`), e.g. fitted on
        ``summarize(log, ..., freq=freq, calibration_end=calibration_end)`` (possibly converted with
        ``with_time_unit``).
    transactions:
        The transaction log (a pandas/polars DataFrame, pyarrow Table or mapping of columns).
    customer_id, datetime:
        Column names of the customer ids and transaction times.
    calibration_end:
        End of the calibration period (inclusive), as for :func:`clvkit.summarize`. The cohort is the
        customers whose first purchase is on or before it.
    freq:
        Resolution at which purchases are counted (``"D"`` counts distinct purchase days).
    period_length:
        Length of one tracking period as a whole number of ``freq`` periods (``freq="D",
        period_length=7`` gives the papers' weekly tracking).
    observation_end:
        Last time tracked (default: the last transaction); later rows are ignored.

    Returns
    -------
    TrackingResult

    Raises
    ------
    InvalidInputError
        For missing or unreadable columns, a bad ``freq``/``period_length``, or a ``calibration_end``
        before the first transaction or after ``observation_end``.

    Examples
    --------
    >>> from clvkit.datasets import load_cdnow_transactions
    >>> from clvkit.valuation import BetaGeoParams, FittedBetaGeo
    >>> bg = FittedBetaGeo(params=BetaGeoParams(r=0.243, alpha=4.414, a=0.793, b=2.426), time_unit="W")
    >>> tr = tracking(bg, load_cdnow_transactions(), customer_id="customer_id", datetime="date",
    ...               calibration_end="1997-09-30", period_length=7)
    >>> len(tr.period), tr.n_calibration_periods
    (78, 39)
    >>> [round(v) for v in tr.cumulative_at(78)]
    [4166, 4339]
    """
    where = "tracking()"
    problems: list[Problem | None] = []
    if not (isinstance(freq, str) and freq in UNIT_DAYS):
        problems.append(Problem("freq", f"must be one of {list(UNIT_DAYS)}; got {freq!r}"))
    if isinstance(period_length, bool) or not isinstance(period_length, (int, np.integer)) or period_length < 1:
        problems.append(Problem("period_length", f"must be a positive whole number of freq periods; got "
                                                 f"{period_length!r}", fix="E.g. freq='D', period_length=7 for weeks."))
    raise_if(problems, where)
    columns = to_columns(transactions, list(dict.fromkeys([customer_id, datetime])), context=where)
    ids, raw_times = columns[customer_id], columns[datetime]
    if ids.shape[0] == 0:
        raise InvalidInputError([Problem(datetime, "the transaction log is empty (0 rows)")], context=where)
    times = _read_times(raw_times, datetime, _source_is_aware(transactions, datetime), problems)
    coded = _read_object_ids(ids, customer_id, problems) if ids.dtype.kind == "O" else _code_ids(ids)
    cal = _read_param(calibration_end, "calibration_end", times, problems) if times is not None else None
    obs = None
    if observation_end is not None and times is not None:
        obs = _read_param(observation_end, "observation_end", times, problems)
    raise_if(problems, where)
    if times is None or coded is None or cal is None:  # pragma: no cover - reported above
        raise AssertionError("unreachable")

    periods = _to_periods(times.values, times.numeric, freq)
    cal_period = _period_of(cal, times, freq)
    obs_period = int(periods.max()) if obs is None else _period_of(obs, times, freq)
    first_all = int(periods.min())
    if not first_all <= cal_period < obs_period:
        raise InvalidInputError([Problem(
            "calibration_end", "must fall in a period from the first transaction up to (not including) the "
                               "period of observation_end",
            fix="Pick a calibration end inside the tracked data.")], context=where)

    keep = periods <= obs_period
    codes, periods = coded.codes[keep], periods[keep]
    # Distinct (customer, period) pairs: one purchase per customer and period, as in summarize().
    rel = periods - first_all
    span = int(rel.max()) + 1
    pairs = np.unique(codes * span + rel)
    pair_code, pair_rel = pairs // span, pairs % span
    first_rel = np.full(coded.n_codes, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first_rel, pair_code, pair_rel)
    cal_rel = cal_period - first_all
    obs_rel = obs_period - first_all
    in_cohort = first_rel <= cal_rel
    n_customers = int(np.count_nonzero(in_cohort))
    cohort_first = first_rel[in_cohort]
    origin = int(cohort_first.min())

    is_repeat = (pair_rel > first_rel[pair_code]) & in_cohort[pair_code]
    P = int(period_length)
    n_periods = (obs_rel - origin) // P + 1
    actual_inc = np.bincount((pair_rel[is_repeat] - origin) // P, minlength=n_periods).astype(np.float64)

    # End (in freq periods, relative to the first transaction) of each tracking period; the last may be short.
    ends = np.minimum(origin + P * np.arange(1, n_periods + 1) - 1, obs_rel)
    starts, counts = np.unique(cohort_first, return_counts=True)
    scale = unit_days(freq) / unit_days(model.time_unit)
    elapsed = np.maximum(ends[None, :] - starts[:, None], 0).astype(np.float64) * scale
    expected_by_start = np.asarray(model.expected_purchases_new_customer(elapsed.ravel()), dtype=np.float64)
    expected_cum = counts.astype(np.float64) @ expected_by_start.reshape(elapsed.shape)
    expected_inc = np.diff(expected_cum, prepend=0.0)
    n_cal = int(np.count_nonzero(ends <= cal_rel))
    return TrackingResult(
        period=np.arange(1, n_periods + 1, dtype=np.int64),
        elapsed=_ro((ends - origin + 1).astype(np.float64) * scale),
        expected_incremental=_ro(expected_inc),
        actual_incremental=_ro(actual_inc),
        expected_cumulative=_ro(expected_cum),
        actual_cumulative=_ro(np.cumsum(actual_inc)),
        n_calibration_periods=n_cal,
        n_customers=n_customers,
        time_unit=model.time_unit,
    )


# ----------------------------------------------------------------------------------------- histogram
def _bgnbd_pmf(params: FloatArray, n: int, t: FloatArray) -> FloatArray:
    """P(X(t) = n) for a newly acquired BG/NBD customer: Fader, Hardie & Lee (2005), eq. (8).

    ``P = B(a, b+n)/B(a, b) * NB(n; r, alpha/(alpha+t)) + 1{n>0} B(a+1, b+n-1)/B(a, b) * P(NB >= n)``,
    where ``NB(n; r, p) = Gamma(r+n)/(Gamma(r) n!) p^r (1-p)^n`` and the bracket of eq. (8),
    ``1 - (alpha/(alpha+t))^r sum_{j<n} Gamma(r+j)/(Gamma(r) j!) (t/(alpha+t))^j``, is the negative
    binomial upper tail, evaluated as the regularised incomplete beta ``I_z(n, r)`` with
    ``z = t/(alpha+t)`` (no cancellation when the sum is close to 1).
    """
    r, alpha, a, b = (float(v) for v in params)
    t = np.asarray(t, dtype=np.float64)
    log_p0 = np.log(alpha) - np.log(alpha + t)  # log(alpha/(alpha+t))
    with np.errstate(divide="ignore"):
        log_z = np.log(t) - np.log(alpha + t)
    log_nb = special.gammaln(r + n) - special.gammaln(r) - special.gammaln(n + 1.0) + r * log_p0
    if n > 0:
        log_nb = log_nb + n * log_z
    log_b = special.betaln(a, b)
    out: FloatArray = np.exp(special.betaln(a, b + n) - log_b + log_nb)
    if n > 0:
        out = out + np.exp(special.betaln(a + 1.0, b + n - 1.0) - log_b) * special.betainc(n, r, np.exp(log_z))
    return out


def _new_customer_pmf(model: CountModel, n: int, t: FloatArray) -> FloatArray:
    """P(X(t) = n) for a new customer at each horizon in ``t``, from whatever the model offers."""
    own = getattr(model, "probability_of_purchases_new_customer", None)
    if callable(own):
        return np.asarray(own(n, t), dtype=np.float64)
    if isinstance(model, FittedBetaGeo):
        return _bgnbd_pmf(model.param_array(), n, t)
    # A customer just acquired has x = t_x = T = 0: the conditional PMF is then the unconditional one.
    zeros = np.zeros(t.shape[0])
    fresh = CustomerSummary(frequency=zeros, recency=zeros, T=zeros, time_unit=model.time_unit)
    return np.asarray(model.probability_of_purchases(fresh, n, t), dtype=np.float64)


@dataclass(frozen=True)
class FrequencyHistogram:
    """Expected vs actual number of customers by calibration frequency, with a chi-square test.

    Attributes
    ----------
    labels:
        Bin labels ``"0", "1", ..., f"{max_frequency}+"``.
    actual, expected:
        Arrays of shape (max_frequency + 1,): customers per bin (weighted), observed and expected.
    chi_square:
        Pearson statistic ``sum (actual - expected)^2 / expected`` (a bin with no expected customers adds
        0 when it is empty and makes the statistic infinite when it is not).
    dof:
        Degrees of freedom: bins - 1 - number of model parameters.
    p_value:
        ``P(chi2(dof) >= chi_square)``.
    """

    labels: tuple[str, ...]
    actual: FloatArray
    expected: FloatArray
    chi_square: float
    dof: int
    p_value: float

    def rows(self) -> list[dict[str, float | str]]:
        """The histogram as a list of ``{"frequency", "actual", "expected"}`` rows."""
        return [{"frequency": lab, "actual": float(a), "expected": float(e)}
                for lab, a, e in zip(self.labels, self.actual, self.expected, strict=True)]


def _check_max_frequency(max_frequency: int, where: str) -> int:
    if isinstance(max_frequency, bool) or not isinstance(max_frequency, (int, np.integer)) or max_frequency < 1:
        raise InvalidInputError(f"The 'max_frequency' parameter of {where} must be a whole number >= 1. "
                                f"Got {max_frequency!r} instead.")
    return int(max_frequency)


def frequency_histogram(model: CountModel, summary: CustomerSummary, max_frequency: int = 7) -> FrequencyHistogram:
    """Expected vs actual customers by number of calibration-period repeat purchases (a "fit histogram").

    The expected count in bin ``x`` is ``sum_i P(X(T_i) = x)``: each customer's probability of ``x``
    repeat purchases over their own observation time ``T_i`` as a new customer (for BG/NBD, Fader,
    Hardie & Lee 2005, eq. 8; the procedure of their 2007 note). The last bin collects
    ``max_frequency`` and more. Customers are grouped by ``T`` so the model is evaluated once per
    distinct ``T``.

    The PMF comes from the model's ``probability_of_purchases_new_customer(n, t)`` when it has one, from
    eq. (8) for BG/NBD, and otherwise from ``probability_of_purchases`` at a zero purchase history.

    Parameters
    ----------
    model:
        A fitted transaction model (see :class:`CountModel`).
    summary:
        The calibration summary the model was fitted on.
    max_frequency:
        The last bin is ``max_frequency+``.

    Returns
    -------
    FrequencyHistogram
        With the chi-square statistic, ``dof = bins - 1 - n_params`` and its p-value. As usual for
        Pearson's test, bins with small expected counts (< 5) make the p-value unreliable.

    Raises
    ------
    InvalidInputError
        For a bad ``max_frequency``, too few bins for the number of parameters, or a summary in another
        time unit.

    Examples
    --------
    >>> from clvkit.datasets import load_cdnow_summary
    >>> from clvkit.valuation import BetaGeoParams, FittedBetaGeo
    >>> bg = FittedBetaGeo(params=BetaGeoParams(r=0.243, alpha=4.414, a=0.793, b=2.426), time_unit="W")
    >>> h = frequency_histogram(bg, load_cdnow_summary())
    >>> h.labels[-1], h.actual.astype(int).tolist()
    ('7+', [1411, 439, 214, 100, 62, 38, 29, 64])
    >>> h.expected.round().astype(int).tolist()
    [1406, 461, 193, 101, 60, 38, 26, 72]
    >>> h.dof, round(h.chi_square, 2), round(h.p_value, 3)
    (3, 4.82, 0.185)
    """
    where = "frequency_histogram()"
    m = _check_max_frequency(max_frequency, where)
    if not isinstance(summary, CustomerSummary):
        raise InvalidInputError(f"{where} needs a clvkit.CustomerSummary. Got {type(summary).__name__} instead.")
    if summary.time_unit != model.time_unit:
        raise InvalidInputError(f"{where}: the model is in time unit {model.time_unit!r} but the summary is in "
                                f"{summary.time_unit!r}. Convert with summary.with_time_unit({model.time_unit!r}).")
    n_params = int(np.asarray(model.param_array()).shape[0])
    n_bins = m + 1
    dof = n_bins - 1 - n_params
    if dof < 1:
        raise InvalidInputError(f"The 'max_frequency' parameter of {where} must give more than {n_params + 1} bins "
                                f"for a model with {n_params} parameters. Got {max_frequency!r} instead.")
    w = summary.weights_or_ones()
    actual = np.bincount(np.minimum(summary.frequency, m).astype(np.intp), weights=w, minlength=n_bins)
    T_unique, T_inverse = np.unique(summary.T, return_inverse=True)
    w_by_T = np.bincount(T_inverse.reshape(-1), weights=w, minlength=T_unique.shape[0])
    expected = np.empty(n_bins)
    for x in range(m):
        expected[x] = float(w_by_T @ _new_customer_pmf(model, x, T_unique))
    # The last bin by complement; clamp the rounding residue when the tail is empty.
    expected[m] = max(float(w.sum()) - float(expected[:m].sum()), 0.0)
    # A bin the model gives (numerically) no mass adds nothing if empty, and makes the fit impossible if not.
    positive = expected > 0.0
    terms = np.where(actual > 0.0, np.inf, 0.0)
    terms[positive] = (actual[positive] - expected[positive]) ** 2 / expected[positive]
    chi_square = float(np.sum(terms))
    return FrequencyHistogram(
        labels=(*(str(x) for x in range(m)), f"{m}+"),
        actual=_ro(actual),
        expected=_ro(expected),
        chi_square=chi_square,
        dof=dof,
        p_value=float(special.chdtrc(dof, chi_square)),  # chi-square survival function
    )


# ----------------------------------------------------------------------------------------- conditional
@dataclass(frozen=True)
class ConditionalExpectations:
    """Mean holdout purchases by calibration frequency, predicted vs actual (FHL 2005, Figure 4).

    Attributes
    ----------
    labels:
        ``"0", ..., f"{max_frequency}+"``.
    n_customers:
        Customers (weighted) per bin.
    predicted, actual:
        Mean expected and mean actual holdout purchases per bin; NaN for a bin without customers
        (``n_customers`` 0).
    duration:
        Length of the holdout period.
    """

    labels: tuple[str, ...]
    n_customers: FloatArray
    predicted: FloatArray
    actual: FloatArray
    duration: float

    def rows(self) -> list[dict[str, float | str]]:
        """As a list of ``{"frequency", "n_customers", "predicted", "actual"}`` rows."""
        return [{"frequency": lab, "n_customers": float(n), "predicted": float(p), "actual": float(a)}
                for lab, n, p, a in zip(self.labels, self.n_customers, self.predicted, self.actual, strict=True)]


def conditional_expectations(
    model: CountModel, summary: CustomerSummary, max_frequency: int = 7
) -> ConditionalExpectations:
    """By calibration frequency, the mean actual vs mean predicted purchases in the holdout period.

    Parameters
    ----------
    model:
        A fitted transaction model (see :class:`CountModel`).
    summary:
        Calibration summary with holdout columns.
    max_frequency:
        The last bin is ``max_frequency+``.

    Returns
    -------
    ConditionalExpectations

    Examples
    --------
    >>> from clvkit.datasets import load_cdnow_summary
    >>> from clvkit.valuation import BetaGeoParams, FittedBetaGeo
    >>> bg = FittedBetaGeo(params=BetaGeoParams(r=0.243, alpha=4.414, a=0.793, b=2.426), time_unit="W")
    >>> ce = conditional_expectations(bg, load_cdnow_summary())
    >>> ce.actual.round(2).tolist()[:3], ce.predicted.round(2).tolist()[:3]
    ([0.24, 0.7, 1.39], [0.23, 0.52, 1.04])
    """
    where = "conditional_expectations()"
    m = _check_max_frequency(max_frequency, where)
    actual_h, duration = _need_holdout(summary, where)
    predicted = _predict_holdout(model, summary, duration)
    w = summary.weights_or_ones()
    bins = np.minimum(summary.frequency, m).astype(np.intp)
    n = np.bincount(bins, weights=w, minlength=m + 1)
    sum_pred = np.bincount(bins, weights=w * predicted, minlength=m + 1)
    sum_act = np.bincount(bins, weights=w * actual_h, minlength=m + 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_pred = np.where(n > 0, sum_pred / n, np.nan)
        mean_act = np.where(n > 0, sum_act / n, np.nan)
    return ConditionalExpectations(
        labels=(*(str(x) for x in range(m)), f"{m}+"),
        n_customers=_ro(n),
        predicted=_ro(mean_pred),
        actual=_ro(mean_act),
        duration=float(duration),
    )


# ----------------------------------------------------------------------------------------- model choice
@dataclass(frozen=True)
class InformationCriteria:
    """Log-likelihood, parameter count and the AIC/BIC of one fit."""

    log_likelihood: float
    n_params: int
    n_customers: float
    aic: float
    bic: float


def _fit_info(fitted: CountModel | Any, where: str) -> FitInfo:
    info = getattr(fitted, "fit_info", None)
    if not isinstance(info, FitInfo):
        raise NotFittedError(f"{where} needs a fitted model with fit diagnostics; this {type(fitted).__name__} was "
                             f"built from parameters. Fit it with its engine's fit() first.")
    return info


def information_criteria(fitted: CountModel) -> InformationCriteria:
    """AIC ``2k - 2 LL`` and BIC ``k log(n) - 2 LL`` of a fitted model (k parameters, n customers).

    ``k`` is the length of the model's parameter array, so the criteria are defined even when the
    fit has no standard errors.

    Raises
    ------
    NotFittedError
        For a model built from parameters (it has no likelihood).

    Examples
    --------
    >>> from clvkit.datasets import load_cdnow_summary
    >>> from clvkit.valuation import BetaGeo
    >>> ic = information_criteria(BetaGeo().fit(load_cdnow_summary()))
    >>> ic.n_params, round(ic.aic, 1), round(ic.bic, 1)
    (4, 19172.9, 19195.9)
    """
    info = _fit_info(fitted, "information_criteria()")
    k = int(np.asarray(fitted.param_array()).shape[0])
    ll = float(info.log_likelihood)
    return InformationCriteria(
        log_likelihood=ll,
        n_params=k,
        n_customers=float(info.n_customers),
        aic=2.0 * k - 2.0 * ll,
        bic=k * math.log(info.n_customers) - 2.0 * ll,
    )


@dataclass(frozen=True)
class LikelihoodRatioTest:
    """Result of :func:`likelihood_ratio_test`: ``statistic = 2 (LL_full - LL_restricted)`` ~ chi2(df)."""

    statistic: float
    df: int
    p_value: float
    log_likelihood_restricted: float
    log_likelihood_full: float


def likelihood_ratio_test(restricted: CountModel, full: CountModel, df: int | None = None) -> LikelihoodRatioTest:
    """Likelihood-ratio test of a restricted model nested in a fuller one, fitted on the same customers.

    Parameters
    ----------
    restricted, full:
        Fitted models (with ``fit_info``); ``restricted`` must be a special case of ``full``.
    df:
        Degrees of freedom; default: the difference in parameter counts.

    Returns
    -------
    LikelihoodRatioTest
        A statistic that is slightly negative from optimiser tolerance is reported as 0.

    Raises
    ------
    NotFittedError
        If either model has no fit diagnostics.
    InvalidInputError
        If the models were fitted on different numbers of customers or time units, or ``df < 1``.

    Examples
    --------
    >>> from clvkit.valuation import BetaGeoParams, FittedBetaGeo, FitInfo
    >>> def fake(ll):
    ...     info = FitInfo(log_likelihood=ll, n_customers=100, n_rows=100, n_iterations=1, n_evaluations=1,
    ...                    converged=True, gradient_norm=0.0, message="", penalizer=0.0)
    ...     return FittedBetaGeo(params=BetaGeoParams(r=1, alpha=1, a=1, b=1), fit_info=info)
    >>> res = likelihood_ratio_test(fake(-105.0), fake(-100.0), df=1)
    >>> res.statistic, round(res.p_value, 5)
    (10.0, 0.00157)
    """
    where = "likelihood_ratio_test()"
    info_r, info_f = _fit_info(restricted, where), _fit_info(full, where)
    if not math.isclose(info_r.n_customers, info_f.n_customers, rel_tol=1e-12):
        raise InvalidInputError(f"{where} needs both models fitted on the same customers. Got "
                                f"{info_r.n_customers:g} and {info_f.n_customers:g} customers.")
    if restricted.time_unit != full.time_unit:
        raise InvalidInputError(f"{where} needs both models fitted in one time unit (likelihoods of times depend "
                                f"on it). Got {restricted.time_unit!r} and {full.time_unit!r}.")
    if df is None:
        df = int(np.asarray(full.param_array()).shape[0]) - int(np.asarray(restricted.param_array()).shape[0])
    if isinstance(df, bool) or not isinstance(df, (int, np.integer)) or df < 1:
        raise InvalidInputError(f"The 'df' parameter of {where} must be a whole number >= 1 (the full model needs "
                                f"more parameters than the restricted one). Got {df!r} instead.")
    stat = max(2.0 * (info_f.log_likelihood - info_r.log_likelihood), 0.0)
    return LikelihoodRatioTest(
        statistic=stat,
        df=int(df),
        p_value=float(special.chdtrc(df, stat)),  # chi-square survival function
        log_likelihood_restricted=float(info_r.log_likelihood),
        log_likelihood_full=float(info_f.log_likelihood),
    )


@dataclass(frozen=True)
class ModelComparison:
    """Models ranked by holdout error.

    Attributes
    ----------
    rows:
        One dict per model, best first: ``name, model, n_params, log_likelihood, aic, bic`` (``None``
        for a model without fit diagnostics), ``mae, rmse, total_predicted, total_actual,
        relative_error`` (holdout).
    best:
        Name of the best model under ``criterion``.
    reason:
        One line saying why.
    criterion:
        ``"rmse"``, ``"mae"`` or ``"aggregate"`` (absolute relative error of the holdout total).
    """

    rows: tuple[dict[str, Any], ...]
    best: str
    reason: str
    criterion: str


_CRITERIA: dict[str, str] = {"rmse": "rmse", "mae": "mae", "aggregate": "abs_relative_error"}
_CRITERION_LABELS: dict[str, str] = {"rmse": "holdout RMSE", "mae": "holdout MAE",
                                     "aggregate": "absolute error of the holdout total"}


def compare(
    models: Mapping[str, CountModel], summary: CustomerSummary, *, criterion: Criterion = "rmse"
) -> ModelComparison:
    """Rank fitted models by their holdout error on one summary.

    Parameters
    ----------
    models:
        Name -> fitted model (all in the summary's time unit).
    summary:
        Calibration summary with holdout columns.
    criterion:
        What ranks the models: per-customer ``"rmse"`` (default), ``"mae"``, or ``"aggregate"`` - the
        absolute relative error of the total holdout purchases (the end point of the tracking plot).
        Ties are broken by RMSE, then by name.

    Returns
    -------
    ModelComparison

    Examples
    --------
    >>> from clvkit.datasets import load_cdnow_summary
    >>> from clvkit.valuation import BetaGeoParams, FittedBetaGeo
    >>> good = FittedBetaGeo(params=BetaGeoParams(r=0.243, alpha=4.414, a=0.793, b=2.426), time_unit="W")
    >>> bad = FittedBetaGeo(params=BetaGeoParams(r=0.5, alpha=4.414, a=0.793, b=2.426), time_unit="W")
    >>> res = compare({"published": good, "perturbed": bad}, load_cdnow_summary())
    >>> res.best, [row["name"] for row in res.rows]
    ('published', ['published', 'perturbed'])
    """
    where = "compare()"
    if criterion not in _CRITERIA:
        raise InvalidInputError(f"The 'criterion' parameter of {where} must be one of {list(_CRITERIA)}. "
                                f"Got {criterion!r} instead.")
    if not isinstance(models, Mapping) or len(models) == 0:
        raise InvalidInputError(f"The 'models' parameter of {where} must be a non-empty mapping of name to fitted "
                                f"model. Got {models!r} instead.")
    _need_holdout(summary, where)
    rows: list[dict[str, Any]] = []
    for name, model in models.items():
        ev = holdout_evaluation(model, summary)
        info = getattr(model, "fit_info", None)
        ic = information_criteria(model) if isinstance(info, FitInfo) else None
        rows.append({
            "name": str(name),
            "model": type(model).__name__,
            "n_params": int(np.asarray(model.param_array()).shape[0]),
            "log_likelihood": None if ic is None else ic.log_likelihood,
            "aic": None if ic is None else ic.aic,
            "bic": None if ic is None else ic.bic,
            "mae": ev.mae,
            "rmse": ev.rmse,
            "total_predicted": ev.total_predicted,
            "total_actual": ev.total_actual,
            "relative_error": ev.relative_error,
            "abs_relative_error": abs(ev.relative_error),
        })
    key = _CRITERIA[criterion]
    rows.sort(key=lambda row: (row[key], row["rmse"], row["name"]))
    best = rows[0]
    label = _CRITERION_LABELS[criterion]
    if len(rows) > 1:
        runner = rows[1]
        reason = (f"{best['name']!r} has the lowest {label} ({_fmt(best, key)} vs {_fmt(runner, key)} for "
                  f"{runner['name']!r}); holdout total {best['total_predicted']:.1f} predicted vs "
                  f"{best['total_actual']:.0f} actual.")
    else:
        reason = (f"{best['name']!r} is the only model ({label} {_fmt(best, key)}); holdout total "
                  f"{best['total_predicted']:.1f} predicted vs {best['total_actual']:.0f} actual.")
    for row in rows:
        del row["abs_relative_error"]
    return ModelComparison(rows=tuple(rows), best=best["name"], reason=reason, criterion=criterion)


def _fmt(row: Mapping[str, Any], key: str) -> str:
    value = float(row[key])
    return f"{100 * value:.2f}%" if key == "abs_relative_error" else f"{value:.4f}"
