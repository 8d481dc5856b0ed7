"""The BG/NBD model (Fader, Hardie & Lee 2005): engine :class:`BetaGeo`, result :class:`FittedBetaGeo`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, ClassVar

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field

from ..._rows import unique_rows
from ...batch import CustomerSummary
from ...errors import InvalidInputError
from . import _bgnbd
from ._base import Engine, FittedModel, ProgressCallback, check_horizon

__all__ = ["BetaGeo", "BetaGeoParams", "FittedBetaGeo"]

FloatArray = npt.NDArray[np.float64]
PositiveFinite = Annotated[float, Field(gt=0.0, allow_inf_nan=False)]


class BetaGeoParams(BaseModel):
    """BG/NBD parameters: purchase rates ~ Gamma(shape ``r``, rate ``alpha``); dropout p ~ Beta(``a``, ``b``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    r: PositiveFinite
    alpha: PositiveFinite
    a: PositiveFinite
    b: PositiveFinite


def check_count(n: Any, where: str) -> FloatArray:
    """A non-negative whole number (or array of them) as float64, or a typed error."""
    arr = np.asarray(n, dtype=np.float64)
    if not np.all(np.isfinite(arr)) or np.any(arr < 0) or np.any(arr != np.floor(arr)):
        raise InvalidInputError(f"The 'n' parameter of {where} must be a non-negative whole number. Got {n!r} instead.")
    return arr


class FittedBetaGeo(FittedModel):
    """A BG/NBD model with known parameters; every prediction is vectorised over a summary.

    Build it by fitting (:meth:`BetaGeo.fit`) or directly from parameters.

    Examples
    --------
    >>> from clvkit import CustomerSummary
    >>> m = FittedBetaGeo(params=BetaGeoParams(r=0.243, alpha=4.414, a=0.793, b=2.426), time_unit="W")
    >>> s = CustomerSummary(frequency=[0, 2], recency=[0.0, 30.43], T=[38.86, 38.86], time_unit="W")
    >>> m.probability_alive(s).round(3).tolist()
    [1.0, 0.727]
    >>> m.expected_purchases(s, 39).round(3).tolist()
    [0.195, 1.226]
    """

    model_name: ClassVar[str] = "BetaGeo"
    params: BetaGeoParams

    def _arrays(self, summary: CustomerSummary, where: str) -> tuple[FloatArray, FloatArray, FloatArray]:
        self._check_summary(summary, where)
        return summary.frequency, summary.recency, summary.T

    def expected_purchases(self, summary: CustomerSummary, t: Any) -> FloatArray:
        """Expected purchases in the next ``t`` time units, E[X(T, T+t) | x, t_x, T] (eq. 10).

        Parameters
        ----------
        summary:
            Customers, shape (n_customers,).
        t:
            Horizon in the summary's time unit: a scalar or an array broadcastable to (n_customers,).

        Returns
        -------
        numpy.ndarray of shape (n_customers,)
        """
        x, tx, T = self._arrays(summary, "expected_purchases")
        t_arr = check_horizon(t, "FittedBetaGeo.expected_purchases()")
        if t_arr.ndim == 0:
            one: FloatArray = _bgnbd.expected_purchases_path(self.param_array(), x, tx, T, t_arr.reshape(1))[0]
            return one
        return _bgnbd.expected_purchases(self.param_array(), x, tx, T, t_arr)

    def expected_purchases_path(self, summary: CustomerSummary, ts: Any) -> FloatArray:
        """Expected purchases at each horizon of ``ts`` (1-D), shape (len(ts), n_customers).

        The same numbers as calling :meth:`expected_purchases` per horizon, computed with the shared work
        done once; :func:`clvkit.valuation.clv` uses it.
        """
        x, tx, T = self._arrays(summary, "expected_purchases_path")
        ts_arr = check_horizon(ts, "FittedBetaGeo.expected_purchases_path()", name="ts").reshape(-1)
        return _bgnbd.expected_purchases_path(self.param_array(), x, tx, T, ts_arr)

    def probability_alive(self, summary: CustomerSummary) -> FloatArray:
        """P(customer still active at T | x, t_x, T) (eq. 13); 1 for customers with no repeat purchase."""
        x, tx, T = self._arrays(summary, "probability_alive")
        return _bgnbd.probability_alive(self.param_array(), x, tx, T)

    def probability_of_purchases(self, summary: CustomerSummary, n: Any, t: Any) -> FloatArray:
        """P(exactly ``n`` purchases in (T, T+t] | x, t_x, T), shape (n_customers,)."""
        x, tx, T = self._arrays(summary, "probability_of_purchases")
        n_arr = check_count(n, "FittedBetaGeo.probability_of_purchases()")
        t_arr = check_horizon(t, "FittedBetaGeo.probability_of_purchases()")
        return _bgnbd.probability_of_purchases(self.param_array(), x, tx, T, n_arr, t_arr)

    def expected_purchases_new_customer(self, t: Any) -> FloatArray:
        """E[X(t)]: expected repeat purchases of a newly acquired customer in ``t`` time units (eq. 9)."""
        t_arr = check_horizon(t, "FittedBetaGeo.expected_purchases_new_customer()")
        return _bgnbd.expected_purchases_new(self.param_array(), t_arr)


class BetaGeo(Engine):
    """BG/NBD engine: maximum-likelihood fit on a :class:`~clvkit.CustomerSummary`.

    Uses the shared estimation routine: log-scale parameters, analytic gradient, compressed rows,
    standard errors from the observed information.

    Examples
    --------
    >>> from clvkit.datasets import load_cdnow_summary
    >>> fitted = BetaGeo().fit(load_cdnow_summary())
    >>> {k: round(v, 3) for k, v in fitted.params.model_dump().items()}
    {'r': 0.243, 'alpha': 4.414, 'a': 0.793, 'b': 2.426}
    >>> round(fitted.log_likelihood, 1)
    -9582.4
    """

    name: ClassVar[str] = "BetaGeo"
    param_names: ClassVar[tuple[str, ...]] = ("r", "alpha", "a", "b")

    def _loglik(self, params: FloatArray, data: Mapping[str, npt.NDArray[Any]]) -> tuple[FloatArray, FloatArray]:
        lookups = {k: v for k, v in data.items() if k.startswith(("T_", "tx_"))}
        return _bgnbd.loglik(params, data["x"], data["tx"], data["T"], data["x_unique"], data["x_code"], lookups)

    def _prepare(self, summary: CustomerSummary) -> tuple[dict[str, npt.NDArray[Any]], FloatArray]:
        (x, tx, T), w, _ = unique_rows([summary.frequency, summary.recency, summary.T], summary.weights_or_ones())
        x_unique, x_code = np.unique(x, return_inverse=True)
        data = {"x": x, "tx": tx, "T": T, "x_unique": x_unique, "x_code": x_code.reshape(-1)}
        data.update(_bgnbd.lookup_tables(tx, T))
        return data, w

    def _default_start(self, data: Mapping[str, npt.NDArray[Any]], weights: FloatArray) -> FloatArray:
        # alpha on the data's time scale (r/alpha ~ purchase rate), so the start is unit-free.
        mean_T = float(weights @ data["T"]) / float(weights.sum())
        mean_x = float(weights @ data["x"]) / float(weights.sum())
        alpha = max(mean_T, 1e-6) / max(mean_x, 0.1)
        return np.array([1.0, alpha, 1.0, 1.0])

    def fit(self, summary: CustomerSummary, *, progress: ProgressCallback | None = None) -> FittedBetaGeo:
        """Fit by maximum likelihood; returns a new immutable :class:`FittedBetaGeo`.

        Parameters
        ----------
        summary:
            Customers' ``frequency``, ``recency``, ``T`` (and optional ``weights``).
        progress:
            Optional callback receiving a :class:`~clvkit.valuation.FitProgress` after each iteration.

        Raises
        ------
        ConvergenceError
            If no optimum is found; the message suggests what to change.
        """
        params, info = self._estimate(summary, progress)
        return FittedBetaGeo(params=BetaGeoParams(**params), time_unit=summary.time_unit, fit_info=info)
