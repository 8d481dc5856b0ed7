"""The Gamma-Gamma spend model (Fader, Hardie & Lee 2005; Fader & Hardie 2013)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from ..._validation import raise_if, row_problem
from ...batch import CustomerSummary
from ...errors import InvalidInputError, ModelDomainError
from . import _gammagamma
from ._base import Engine, FittedModel, ModelParams, PositiveFinite

__all__ = ["FittedGammaGamma", "GammaGamma", "GammaGammaParams"]

FloatArray = npt.NDArray[np.float64]


class GammaGammaParams(ModelParams):
    """Spend per transaction ~ Gamma(``p``, nu) with nu ~ Gamma(``q``, ``v``) across customers."""

    p: PositiveFinite
    q: PositiveFinite
    v: PositiveFinite


def _monetary(summary: CustomerSummary, where: str) -> FloatArray:
    if summary.monetary_value is None:
        raise InvalidInputError(
            f"{where} needs 'monetary_value' in the summary. Pass monetary_value= to clvkit.summarize() "
            f"or CustomerSummary(...)."
        )
    return summary.monetary_value


class FittedGammaGamma(FittedModel):
    """A Gamma-Gamma spend model with known parameters.

    Examples
    --------
    >>> from clvkit import CustomerSummary
    >>> m = FittedGammaGamma(params=GammaGammaParams(p=6.25, q=3.74, v=15.44), time_unit="W")
    >>> s = CustomerSummary(frequency=[0, 2], recency=[0.0, 30.43], T=[38.86, 38.86],
    ...                     monetary_value=[0.0, 22.35], time_unit="W")
    >>> m.expected_spend(s).round(2).tolist()
    [35.22, 24.66]
    """

    model_name: ClassVar[str] = "GammaGamma"
    params: GammaGammaParams

    @property
    def population_mean_spend(self) -> float:
        """E[spend per transaction] of a random customer, ``p v / (q - 1)``; needs ``q > 1``."""
        p, q, v = self.param_array()
        self._require_mean()
        return float(p * v / (q - 1.0))

    def _require_mean(self) -> None:
        if self.params.q <= 1.0:
            raise ModelDomainError(
                f"The Gamma-Gamma mean spend is infinite for q <= 1 (q = {self.params.q:g}); these data put too "
                f"much weight on very large spends. Check monetary_value for outliers or cap it before fitting."
            )

    def expected_spend(self, summary: CustomerSummary) -> FloatArray:
        """E[spend per transaction | x, m] (Fader & Hardie 2013, eq. 5), shape (n_customers,).

        Customers without repeat purchases get the population mean.
        """
        self._check_summary(summary, "expected_spend")
        m = _monetary(summary, "FittedGammaGamma.expected_spend()")
        self._require_mean()
        return _gammagamma.expected_spend(self.param_array(), summary.frequency, m)


class GammaGamma(Engine[CustomerSummary, FittedGammaGamma]):
    """Gamma-Gamma engine, fitted on customers with at least one repeat purchase.

    ``fit(summary)`` raises :class:`~clvkit.InvalidInputError` without ``monetary_value`` or where a repeat
    customer has non-positive spend.

    Examples
    --------
    >>> from clvkit.datasets import load_cdnow_summary
    >>> fitted = GammaGamma().fit(load_cdnow_summary())
    >>> {k: round(v, 2) for k, v in fitted.params.model_dump().items()}
    {'p': 6.25, 'q': 3.74, 'v': 15.44}
    """

    name: ClassVar[str] = "GammaGamma"
    fitted_class: ClassVar[type[FittedModel]] = FittedGammaGamma
    summed_loglik: ClassVar[bool] = True

    def _loglik(self, params: FloatArray, data: Mapping[str, npt.NDArray[Any]]) -> tuple[FloatArray, FloatArray]:
        return _gammagamma.loglik_summed(params, data)

    def _prepare(self, summary: CustomerSummary) -> tuple[dict[str, FloatArray], FloatArray]:
        m_all = _monetary(summary, "GammaGamma.fit()")
        repeat = summary.frequency > 0
        raise_if(
            [row_problem(repeat & (m_all <= 0), "monetary_value",
                         "must be > 0 for customers with repeat purchases (the Gamma-Gamma model has positive spend)",
                         "Drop zero-spend customers or handle refunds in summarize().", summary.customer_id)],
            "GammaGamma.fit() input",
        )
        # No compression (spends are continuous, rows rarely repeat): sufficient statistics instead.
        stats = _gammagamma.sufficient_statistics(summary.frequency[repeat], m_all[repeat],
                                                  summary.weights_or_ones()[repeat])
        return stats, stats["total"]

    def _default_start(self, data: Mapping[str, npt.NDArray[Any]], weights: FloatArray) -> FloatArray:
        mean_m = float(data["mean_m"][0])
        # q = 2 keeps the mean finite; v chosen so the prior mean p v/(q-1) equals the observed mean.
        return np.array([1.0, 2.0, max(mean_m, 1e-9)])
