"""The fit histogram: expected vs actual customers by calibration frequency, with Pearson's chi-square test
(Fader, Hardie & Lee 2005, Figure 1, computed as in their 2007 note; references in
:mod:`clvkit.valuation.checking`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from ...batch import CustomerSummary
from ...errors import InvalidInputError
from ._common import CountModel, FloatArray, check_max_frequency, frequency_labels, need_summary, read_only

__all__ = ["FrequencyHistogram", "frequency_histogram"]


def _new_customer_pmf(model: CountModel, n: int, t: FloatArray) -> FloatArray:
    """P(X(t) = n) for a new customer at each horizon in ``t``: the model's own new-customer PMF."""
    return np.asarray(model.probability_of_purchases_new_customer(n, t), dtype=np.float64)


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

    @property
    def actual_share(self) -> FloatArray:
        """``actual`` as shares of the customers (the observed PMF of the number of repeat purchases)."""
        return read_only(self.actual / self.actual.sum())

    @property
    def expected_share(self) -> FloatArray:
        """``expected`` as shares of the customers (the model's PMF, averaged over the customers' ``T``)."""
        return read_only(self.expected / self.expected.sum())

    def rows(self) -> list[dict[str, float | str]]:
        """The histogram as a list of ``{"frequency", "actual", "expected"}`` rows."""
        return [{"frequency": lab, "actual": float(a), "expected": float(e)}
                for lab, a, e in zip(self.labels, self.actual, self.expected, strict=True)]


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
        For a bad ``max_frequency`` (a whole number in ``[1, MAX_FREQUENCY_BINS)``), too few bins for the number
        of parameters, or a summary in another time unit.

    Examples
    --------
    >>> from clvkit.datasets import load_cdnow_summary
    >>> from clvkit.valuation import BetaGeoParams, FittedBetaGeo
    >>> bg = FittedBetaGeo(params=BetaGeoParams(r=0.243, alpha=4.414, a=0.793, b=2.426), time_unit="W")
    >>> h = frequency_histogram(bg, load_cdnow_summary(holdout=False))  # the calibration period only
    >>> h.labels[-1], h.actual.astype(int).tolist()
    ('7+', [1411, 439, 214, 100, 62, 38, 29, 64])
    >>> h.expected.round().astype(int).tolist()
    [1406, 461, 193, 101, 60, 38, 26, 72]
    >>> h.dof, round(h.chi_square, 2), round(h.p_value, 3)
    (3, 4.82, 0.185)
    """
    m, dof = _check_inputs(model, summary, max_frequency, "frequency_histogram()")
    w = summary.weights_or_ones()
    bins = np.minimum(summary.frequency, m).astype(np.intp)
    actual = np.bincount(bins, weights=w, minlength=m + 1).astype(np.float64, copy=False)
    expected = _expected_counts(model, summary, m)
    chi_square = _pearson_statistic(actual, expected)
    return FrequencyHistogram(
        labels=frequency_labels(m),
        actual=read_only(actual),
        expected=read_only(expected),
        chi_square=chi_square,
        dof=dof,
        p_value=float(special.chdtrc(dof, chi_square)),  # chi-square survival function
    )


def _check_inputs(model: CountModel, summary: CustomerSummary, max_frequency: int, where: str) -> tuple[int, int]:
    """``(max_frequency, dof)`` once the bins, the summary and its time unit suit the model; raise otherwise."""
    m = check_max_frequency(max_frequency, where)
    need_summary(summary, where)
    if not isinstance(model, CountModel):
        raise InvalidInputError(f"{where} needs a fitted count model (clvkit.protocols.CountModel: BG/NBD, MBG/NBD, "
                                f"Pareto/NBD, BG/BB or one of your own). Got {type(model).__name__} instead.")
    if summary.time_unit != model.time_unit:
        raise InvalidInputError(f"{where}: the model is in time unit {model.time_unit!r} but the summary is in "
                                f"{summary.time_unit!r}. Convert with summary.with_time_unit({model.time_unit!r}).")
    n_params = int(np.asarray(model.param_array()).shape[0])
    dof = m - n_params  # bins (m + 1) - 1 - parameters
    if dof < 1:
        raise InvalidInputError(f"The 'max_frequency' parameter of {where} must give more than {n_params + 1} bins "
                                f"for a model with {n_params} parameters. Got {max_frequency!r} instead.")
    return m, dof


def _expected_counts(model: CountModel, summary: CustomerSummary, m: int) -> FloatArray:
    """Expected customers (weighted) with 0, 1, ..., m - 1 and m+ repeat purchases over their own ``T``."""
    w = summary.weights_or_ones()
    T_unique, T_inverse = np.unique(summary.T, return_inverse=True)
    w_by_T = np.bincount(T_inverse.reshape(-1), weights=w, minlength=T_unique.shape[0])
    expected = np.empty(m + 1)
    for x in range(m):
        expected[x] = float(w_by_T @ _new_customer_pmf(model, x, T_unique))
    # The last bin by complement; clamp the rounding residue when the tail is empty.
    expected[m] = max(float(w.sum()) - float(expected[:m].sum()), 0.0)
    return expected


def _pearson_statistic(actual: FloatArray, expected: FloatArray) -> float:
    """``sum (actual - expected)^2 / expected`` over the bins."""
    # A bin the model gives (numerically) no mass adds nothing if empty, and makes the fit impossible if not.
    positive = expected > 0.0
    terms = np.where(actual > 0.0, np.inf, 0.0)
    terms[positive] = (actual[positive] - expected[positive]) ** 2 / expected[positive]
    return float(np.sum(terms))
