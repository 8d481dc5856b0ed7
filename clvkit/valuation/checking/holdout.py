"""Holdout accuracy: each customer's expected holdout purchases against the actual ones, in total and by
calibration frequency (Fader, Hardie & Lee 2005, section 4 and Figure 4; references in
:mod:`clvkit.valuation.checking`)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from ..._display import block, count, key_value_table, number, percent, shorten
from ..._frames import make_frame
from ...batch import CustomerSummary
from ._common import (
    CountModel,
    FloatArray,
    check_max_frequency,
    frequency_labels,
    need_holdout,
    read_only,
    relative_error,
)

__all__ = ["ConditionalExpectations", "HoldoutEvaluation", "conditional_expectations", "holdout_evaluation"]


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

    def to_frame(self, backend: str = "pandas") -> Any:
        """Predicted and actual holdout purchases per customer, as a DataFrame keyed by customer id.

        Parameters
        ----------
        backend:
            ``"pandas"`` (default): index ``customer_id``; ``"polars"``: a first ``customer_id`` column. Without
            customer ids the rows are keyed by position, named ``row``.

        Raises
        ------
        InvalidInputError
            For another ``backend``.
        MissingDependencyError
            If the library is not installed: ``pip install 'clvkit[frames]'``.

        Returns
        -------
        pandas.DataFrame or polars.DataFrame
            Columns ``predicted, actual``.

        Examples
        --------
        >>> from clvkit.datasets import load_cdnow_summary
        >>> from clvkit.valuation import BetaGeoParams, FittedBetaGeo
        >>> bg = FittedBetaGeo(params=BetaGeoParams(r=0.243, alpha=4.414, a=0.793, b=2.426), time_unit="W")
        >>> frame = holdout_evaluation(bg, load_cdnow_summary()).to_frame()
        >>> int(frame["actual"].sum()), list(frame.columns)
        (1882, ['predicted', 'actual'])
        """
        return make_frame({"predicted": self.predicted, "actual": self.actual}, key=self.customer_id,
                          backend=backend, where="HoldoutEvaluation.to_frame()")

    def __repr__(self) -> str:
        return shorten(f"HoldoutEvaluation({count(self.predicted.shape[0])} customers, holdout of "
                       f"{number(self.duration)} time units: {number(self.total_predicted)} purchases predicted vs "
                       f"{number(self.total_actual)} actual ({self.relative_error:+.1%}); MAE {number(self.mae)}, "
                       f"RMSE {number(self.rmse)})")

    def _repr_html_(self) -> str:
        return block("HoldoutEvaluation", key_value_table([
            ("customers (rows)", self.predicted.shape[0]), ("holdout length (time units)", self.duration),
            ("purchases predicted", self.total_predicted), ("purchases actual", self.total_actual),
            ("relative error", percent(self.relative_error)), ("MAE per customer", self.mae),
            ("RMSE per customer", self.rmse),
        ]))


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
    actual, duration = need_holdout(summary, "holdout_evaluation()")
    predicted = _predict_holdout(model, summary, duration)
    w = summary.weights_or_ones()
    total_w = float(w.sum())
    err = predicted - actual
    total_pred = float(w @ predicted)
    total_act = float(w @ actual)
    return HoldoutEvaluation(
        predicted=read_only(predicted),
        actual=read_only(actual),
        customer_id=summary.customer_id,
        duration=float(duration),
        mae=float(w @ np.abs(err)) / total_w,
        rmse=math.sqrt(float(w @ (err * err)) / total_w),
        total_predicted=total_pred,
        total_actual=total_act,
        relative_error=relative_error(total_pred, total_act),
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
        One bin per calibration frequency ``0, 1, ..., max_frequency+``.

    Raises
    ------
    InvalidInputError
        For a bad ``max_frequency`` or a summary without holdout columns.

    Examples
    --------
    >>> from clvkit.datasets import load_cdnow_summary
    >>> from clvkit.valuation import BetaGeoParams, FittedBetaGeo
    >>> summary = load_cdnow_summary()
    >>> bg = FittedBetaGeo(params=BetaGeoParams(r=0.243, alpha=4.414, a=0.793, b=2.426), time_unit="W")
    >>> ce = conditional_expectations(bg, summary)
    >>> ce.actual.round(2).tolist()[:3], ce.predicted.round(2).tolist()[:3]
    ([0.24, 0.7, 1.39], [0.23, 0.52, 1.04])
    """
    where = "conditional_expectations()"
    m = check_max_frequency(max_frequency, where)
    actual_h, duration = need_holdout(summary, where)
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
        labels=frequency_labels(m),
        n_customers=read_only(n),
        predicted=read_only(mean_pred),
        actual=read_only(mean_act),
        duration=float(duration),
    )


def _predict_holdout(model: CountModel, summary: CustomerSummary, duration: float) -> FloatArray:
    # Predictions depend on (frequency, recency, T) only: evaluate on distinct rows and expand.
    compressed = summary.compress(include_monetary=False)
    unique = compressed.summary
    predicted = np.asarray(model.expected_purchases(unique, duration), dtype=np.float64)
    out: FloatArray = predicted[compressed.inverse]
    return out
