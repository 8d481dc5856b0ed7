"""The Gamma-Gamma spend model (Fader, Hardie & Lee 2005; Fader & Hardie 2013)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from ..._rows import unique_rows
from ..._validation import raise_if, row_problem
from ...batch import CustomerSummary
from ...errors import InvalidInputError, ModelDomainError
from . import _gammagamma
from ._base import Engine, FittedModel, ModelParams, PositiveFinite
from ._covariates import Links

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

    Static spend covariates (``GammaGamma().fit(summary, spend_covariates=...)``; CLVTools' Gamma-Gamma has
    none, so this link is clvkit's own): the scale ``v_i = v exp(gamma' z_i)``, so a customer's mean spend per
    transaction ``p v_i / (q - 1)`` is the population mean times ``exp(gamma' z_i)`` - a coefficient is the
    log of the factor on expected spend per unit of its covariate. ``coefficients`` is then
    ``{"spend": {name: value}}``, standard errors are keyed ``"spend.<name>"``.

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
    #: clvkit's link: ``v_i = v exp(gamma_spend' z_i)`` multiplies the expected spend by ``exp(gamma_spend' z_i)``.
    covariate_links: ClassVar[Links] = {"spend": ((2, 1.0),)}
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

    def expected_spend(self, summary: CustomerSummary, *, spend_covariates: Any = None) -> FloatArray:
        """E[spend per transaction | x, m] (Fader & Hardie 2013, eq. 5), shape (n_customers,).

        Customers without repeat purchases get the population mean (with covariates: their own
        ``p v_i / (q - 1)``). A model fitted with spend covariates needs the customers' ``spend_covariates``
        (matched by ``summary.customer_id``); each customer's scale is ``v_i = v exp(gamma' z_i)``.

        Raises
        ------
        InvalidInputError
            Without ``monetary_value``, or covariates missing, not matching the fit or passed to a model
            fitted without them.
        """
        self._check_summary(summary, "expected_spend")
        m = _monetary(summary, "FittedGammaGamma.expected_spend()")
        self._require_mean()
        x = summary.frequency
        groups = self._param_groups(summary, "expected_spend", {"spend": spend_covariates})
        if groups[0][0] is None:
            return _gammagamma.expected_spend(groups[0][1], x, m)
        out = np.empty(x.shape[0])
        for idx, params in groups:
            out[idx] = _gammagamma.expected_spend(params, x[idx], m[idx])
        return out

    def average_spend_density(self, z: Any, frequency: Any) -> FloatArray:
        """Density of a random customer's average spend per transaction ``z`` over ``frequency`` transactions.

        ``f(z | x) = Gamma(px+q) / (Gamma(px) Gamma(q)) v^q z^(px-1) x^(px) / (v + x z)^(px+q)``
        (Fader & Hardie 2013, eq. 3): spend per transaction ~ Gamma(``p``, nu), nu ~ Gamma(``q``, ``v``) across
        customers, averaged over ``x`` transactions. ``z`` and ``frequency`` broadcast together.

        Raises
        ------
        InvalidInputError
            For ``z`` not finite and > 0, or ``frequency`` not a whole number >= 1, or shapes that do not broadcast.

        Examples
        --------
        >>> m = FittedGammaGamma(params=GammaGammaParams(p=6.25, q=3.74, v=15.44), time_unit="W")
        >>> m.average_spend_density([10.0, 30.0], 1).round(4).tolist()
        [0.0198, 0.0193]
        """
        where = "FittedGammaGamma.average_spend_density()"
        z_arr = np.asarray(z, dtype=np.float64) if _is_numeric(z) else None
        x_arr = np.asarray(frequency, dtype=np.float64) if _is_numeric(frequency) else None
        if z_arr is None or not np.all(np.isfinite(z_arr)) or np.any(z_arr <= 0):
            raise InvalidInputError(f"The 'z' parameter of {where} must hold finite numbers > 0. Got {z!r} instead.")
        if x_arr is None or not np.all(np.isfinite(x_arr)) or np.any(x_arr < 1) or np.any(x_arr != np.floor(x_arr)):
            raise InvalidInputError(f"The 'frequency' parameter of {where} must hold whole numbers >= 1 (repeat "
                                    f"transactions). Got {frequency!r} instead.")
        try:
            z_b, x_b = np.broadcast_arrays(z_arr, x_arr)
        except ValueError:
            raise InvalidInputError(f"{where}: 'z' (shape {z_arr.shape}) and 'frequency' (shape {x_arr.shape}) must "
                                    f"broadcast together.") from None
        out: FloatArray = np.exp(_gammagamma.average_spend_logpdf(self.param_array(), x_b, z_b))
        return out


def _is_numeric(value: Any) -> bool:
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError):
        return False
    return arr.dtype.kind in "iuf"


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

    With static spend covariates (``spend_covariates=``, matched by ``customer_id``): customers of one group
    simulated to spend ``exp(0.4) = 1.49`` times as much per transaction as the others.

    >>> import numpy as np
    >>> from clvkit import CustomerSummary
    >>> class Columns:  # anything with names and align(customer_id) is a CovariateMatrix
    ...     names = ("premium",)
    ...     def __init__(self, z): self.z = z
    ...     def align(self, customer_id, /): return self.z[customer_id][:, None]
    >>> rng = np.random.default_rng(3)
    >>> premium = np.repeat([0.0, 1.0], 2000)
    >>> x = rng.integers(1, 8, 4000).astype(float)
    >>> nu = rng.gamma(4.0, 1.0 / (10.0 * np.exp(0.4 * premium)))  # nu ~ Gamma(q, rate v_i)
    >>> m = rng.gamma(3.0 * x, 1.0 / (x * nu))  # mean of x spends ~ Gamma(p, rate nu)
    >>> s = CustomerSummary(x, np.full(4000, 10.0), np.full(4000, 20.0), monetary_value=m,
    ...                     customer_id=np.arange(4000), time_unit="W")
    >>> fitted = GammaGamma().fit(s, spend_covariates=Columns(premium))
    >>> round(fitted.coefficients["spend"]["premium"], 2), round(fitted.standard_errors["spend.premium"], 2)
    (0.4, 0.02)
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
        # Sufficient statistics over the distinct (x, m) rows (in their sorted order, with summed whole weights): the
        # same arrays, so bit for bit the same fit, whether the customers come one by one, compressed, or as the
        # counts of clvkit.dask / clvkit.sql, and whatever their order.
        (x_d, m_d), w_d, _ = unique_rows([summary.frequency[repeat], m_all[repeat]],
                                         summary.weights_or_ones()[repeat])
        stats = _gammagamma.sufficient_statistics(x_d, m_d, w_d)
        return stats, stats["total"]

    def _default_start(self, data: Mapping[str, npt.NDArray[Any]], weights: FloatArray) -> FloatArray:
        mean_m = float(data["mean_m"][0])
        # q = 2 keeps the mean finite; v chosen so the prior mean p v/(q-1) equals the observed mean.
        return np.array([1.0, 2.0, max(mean_m, 1e-9)])
