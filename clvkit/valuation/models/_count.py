"""The public prediction surface of every count model, written once (scipy.stats style).

A count model ("buy till you die": BG/NBD, MBG/NBD, Pareto/NBD, BG/BB) is a kernel module of pure
functions of arrays plus a short declaration::

    class FittedBetaGeo(FittedCountModel):
        model_name: ClassVar[str] = "BetaGeo"
        kernel: ClassVar[CountKernel] = _bgnbd
        params: BetaGeoParams

:class:`FittedCountModel` checks every argument (the summary's type and time unit, horizons, counts,
rates, broadcasting against the customers), raises the typed errors, calls the kernel and returns arrays.
A fix in argument handling therefore reaches every model at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, Protocol

import numpy as np
import numpy.typing as npt

from ..._validation import check_scalar
from ...batch import CustomerSummary
from ...errors import InvalidInputError
from ._base import FittedModel, check_count, check_horizon
from ._dynamic import dynamic_alive, dynamic_expected
from ._generic import weighted_sum_over_distinct_rows

__all__ = ["MAX_SIMULATED_AGE", "MIN_DISCOUNT_RATE", "CountKernel", "FittedCountModel", "WeightedPathSum"]

#: Smallest discount rate per time unit DERT takes for a continuous-time model (its quadrature reaches to 60 / d
#: time units).
MIN_DISCOUNT_RATE = 1e-9
#: Largest age (time units since the first purchase) :meth:`FittedCountModel.simulate` draws customers for.
MAX_SIMULATED_AGE = 1e9

FloatArray = npt.NDArray[np.float64]


class CountKernel(Protocol):
    """The functions a count model's kernel module provides (arrays in, arrays out; natural-scale ``params``).

    ``x, tx, T`` are the customers' frequency, recency and age, shape (n,); ``t`` a horizon broadcastable
    to them; ``ts`` a 1-D array of horizons; ``n`` a number of purchases; ``d`` a discrete discount rate
    per time unit; ``rng`` a :class:`numpy.random.Generator`.

    Optional: ``weighted_path_sum(params, x, tx, T, ts, weights)`` (see :class:`WeightedPathSum`), a weighted
    sum over horizons of the expected purchases computed without the path. A kernel without it gets the
    generic one built on ``expected_purchases_path`` (:func:`._generic.weighted_sum_over_distinct_rows`).
    """

    def expected_purchases(self, params: FloatArray, x: FloatArray, tx: FloatArray, T: FloatArray, t: FloatArray,
                           /) -> FloatArray: ...

    def expected_purchases_path(self, params: FloatArray, x: FloatArray, tx: FloatArray, T: FloatArray,
                                ts: FloatArray, /) -> FloatArray: ...

    def probability_alive(self, params: FloatArray, x: FloatArray, tx: FloatArray, T: FloatArray, /) -> FloatArray:
        ...

    def probability_of_purchases(self, params: FloatArray, x: FloatArray, tx: FloatArray, T: FloatArray,
                                 n: FloatArray, t: FloatArray, /) -> FloatArray: ...

    def expected_purchases_new(self, params: FloatArray, t: FloatArray, /) -> FloatArray: ...

    def probability_of_purchases_new(self, params: FloatArray, n: FloatArray, t: FloatArray, /) -> FloatArray: ...

    def discounted_residual(self, params: FloatArray, x: FloatArray, tx: FloatArray, T: FloatArray, d: float,
                            /) -> FloatArray: ...

    def simulate(self, params: FloatArray, T: FloatArray, rng: np.random.Generator, /
                 ) -> tuple[FloatArray, FloatArray]: ...


class WeightedPathSum(Protocol):
    """A kernel's optional ``weighted_path_sum(params, x, tx, T, ts, weights)``.

    ``sum_k weights[..., k] E[X(ts[k]) | x, tx, T]`` per customer, shape (n,) for ``weights`` of shape
    (len(ts),) or (m, n) for (m, len(ts)): e.g. discount weights, for :func:`clvkit.valuation.clv`. Models
    whose expectation factors as P(alive)(x, tx, T) x G(x, T, t) (BG/NBD, MBG/NBD) sum ``G`` once per distinct
    ``(x, T)`` instead of building the (len(ts), n) path.
    """

    def __call__(self, params: FloatArray, x: FloatArray, tx: FloatArray, T: FloatArray, ts: FloatArray,
                 weights: FloatArray, /) -> FloatArray: ...


class FittedCountModel(FittedModel):
    """A fitted count model: every prediction vectorised over the customers of a :class:`~clvkit.CustomerSummary`.

    Horizons ``t`` are in the model's ``time_unit`` (for BG/BB: whole transaction opportunities); a
    ``discount_rate`` is discrete, per time unit. Subclasses declare ``model_name``, ``kernel`` and the
    ``params`` field; a model with extra rules overrides the small ``_check_*`` hooks.

    Without covariates, the per-customer predictions (:meth:`probability_alive`, :meth:`expected_purchases`,
    :meth:`probability_of_purchases` with scalar ``n`` and ``t``, :meth:`expected_purchases_path`, DERT) are
    evaluated once per distinct ``(frequency, recency, T)`` row and expanded to the customers. The summary caches
    its distinct rows, so the de-duplication is paid once per summary object: by the fit on it or by its second
    prediction (a first, one-off prediction is scored directly, at no extra cost); later predictions on the same
    object reuse it (a new summary - ``take()``, a reload - pays it again). When nearly every row is distinct
    (e.g. times of day; judged on a probe of the rows before the index is built) the customers are scored directly.
    """

    kernel: ClassVar[CountKernel]
    #: The kernel family of time-varying covariates (see ``Engine.dynamic_family``; empty: none).
    dynamic_family: ClassVar[str] = ""

    # ------------------------------------------------------------------ hooks a model may override
    def _dynamic_expected(self, summary: CustomerSummary, t: FloatArray, covs: dict[str, Any], where: str,
                          discount: float = 0.0) -> FloatArray:
        """Expected purchases with time-varying covariates: one horizon for all customers."""
        values = np.unique(np.asarray(t, dtype=np.float64))
        if values.size != 1:
            raise InvalidInputError(f"{type(self).__name__}.{where}(): with time-varying covariates the horizon 't' "
                                    f"must be one number for all customers. Got {values.size} different values.")
        return dynamic_expected(self, self.dynamic_family, summary, float(values[0]), covs,
                                f"{type(self).__name__}.{where}()", discount)

    def _customers(self, summary: CustomerSummary, where: str) -> tuple[FloatArray, FloatArray, FloatArray]:
        """``(x, tx, T)`` of a summary checked for this model."""
        self._check_summary(summary, where)
        return summary.frequency, summary.recency, summary.T

    def _check_t(self, t: Any, where: str, name: str = "t") -> FloatArray:
        return check_horizon(t, f"{type(self).__name__}.{where}()", name)

    def _check_rate(self, discount_rate: Any, where: str) -> float:
        """A discount rate the model's residual value is finite for; continuous-time models need d > 0."""
        d = check_scalar(discount_rate, "discount_rate", where, low=0.0, high=np.inf, high_open=True)
        if d == 0.0:
            raise InvalidInputError(
                f"{where}: without discounting the expected residual purchases of a continuous-time model can be "
                f"infinite. Pass a discount_rate > 0, or value a finite horizon with clv()."
            )
        if d < MIN_DISCOUNT_RATE:
            raise InvalidInputError(
                f"The 'discount_rate' parameter of {where} must be 0 < d, at least MIN_DISCOUNT_RATE = "
                f"{MIN_DISCOUNT_RATE:g} per time unit (the discounting would reach beyond 1e11 time units). "
                f"Got {discount_rate!r} instead; value a finite horizon with clv() for so small a rate."
            )
        return d

    # ------------------------------------------------------------------ shared checks
    def _broadcast(self, x: FloatArray, where: str, **arrays: FloatArray) -> None:
        try:
            np.broadcast_shapes(x.shape, *(a.shape for a in arrays.values()))
        except ValueError:
            shapes = ", ".join(f"'{k}' (shape {v.shape})" for k, v in arrays.items())
            raise InvalidInputError(
                f"{type(self).__name__}.{where}(): {shapes} must be scalars or broadcastable to the "
                f"{x.shape[0]} customers."
            ) from None

    def _by_group(self, summary: CustomerSummary, where: str, covariates: dict[str, Any],
                  call: Callable[..., FloatArray], *extras: FloatArray, path: bool = False,
                  on_pairs: Callable[..., FloatArray] | None = None) -> FloatArray:
        """``call(params, x, tx, T, *extras)`` per group of customers with equal parameters, reassembled.

        ``extras`` are scalars or arrays over the customers; ``path`` results have the customers on the last axis.
        Without covariates and with scalar extras the call is made once per distinct ``(x, tx, T)`` row of the
        summary (cached on it: built by the fit on that summary or the second prediction, then reused) and
        expanded; ``on_pairs(params, x, tx, T, pair_x, pair_T, pair_code, *extras)``, when given, is called there
        instead, with the distinct ``(x, T)`` pairs of those rows (also cached) for a model that factors through
        them.
        """
        x, tx, T = self._customers(summary, where)
        if self.time_varying:
            raise InvalidInputError(
                f"{type(self).__name__}.{where}() is not available for a model fitted with time-varying covariates "
                f"(it would need the covariates of an unbounded future). Use probability_alive(), "
                f"expected_purchases(), expected_purchases_path() or discounted_expected_purchases() with the "
                f"covariates of the horizon."
            )
        groups = self._param_groups(summary, where, covariates)
        if groups[0][0] is None:
            # (The identity check: a model whose _customers transformed the columns is scored on what it returned.)
            own = x is summary.frequency and tx is summary.recency and T is summary.T
            if own and all(e.size == 1 for e in extras):
                # Every customer has the model's parameters and the extras are scalars: the prediction is a
                # function of (x, tx, T) alone, so it is evaluated once per distinct row and expanded.
                rows = summary._repeated_rows()
                if rows is not None:
                    if on_pairs is not None:
                        pairs = summary._distinct_frequency_age()[1]
                        part = on_pairs(groups[0][1], rows.frequency, rows.recency, rows.T, pairs.frequency,
                                        pairs.T, pairs.code, *extras)
                    else:
                        part = call(groups[0][1], rows.frequency, rows.recency, rows.T, *extras)
                    expanded: FloatArray = part.take(rows.inverse, axis=-1)
                    return expanded
            return call(groups[0][1], x, tx, T, *extras)
        n = x.shape[0]
        out: FloatArray | None = None
        for idx, params in groups:
            picked = [e if e.size == 1 else np.broadcast_to(e, (n,))[idx] for e in extras]
            part = call(params, x[idx], tx[idx], T[idx], *picked)
            if out is None:
                out = np.empty((*part.shape[:-1], n) if path else (n,))
            if path:
                out[..., idx] = part
            else:
                out[idx] = part
        return out if out is not None else np.empty(0)

    # ------------------------------------------------------------------ the public surface
    def expected_purchases(self, summary: CustomerSummary, t: Any, *, purchase_covariates: Any = None,
                           dropout_covariates: Any = None) -> FloatArray:
        """Expected purchases in the next ``t`` time units, E[X(T, T+t) | x, t_x, T].

        Parameters
        ----------
        summary:
            Customers, shape (n_customers,).
        t:
            Horizon in the summary's time unit: a scalar or an array broadcastable to (n_customers,).
        purchase_covariates, dropout_covariates:
            For a model fitted with covariates: the customers' covariates (matched by ``customer_id``).

        Returns
        -------
        numpy.ndarray of shape (n_customers,)

        Raises
        ------
        InvalidInputError
            For a summary of another type or time unit, a negative or non-finite horizon, or a horizon array
            that does not broadcast to the customers.

        Notes
        -----
        With one horizon and no covariates each distinct ``(frequency, recency, T)`` row is evaluated once, and
        models whose expectation factors through ``(frequency, T)`` (BG/NBD) evaluate that factor once per distinct
        pair; both groupings are cached on the summary object (built by the fit or the second prediction, reused by
        later calls).
        """
        x, _, _ = self._customers(summary, "expected_purchases")
        t_arr = self._check_t(t, "expected_purchases")
        self._broadcast(x, "expected_purchases", t=t_arr)
        covs = {"purchase": purchase_covariates, "dropout": dropout_covariates}
        if self.time_varying:
            return self._dynamic_expected(summary, t_arr, covs, "expected_purchases")
        # A kernel whose expectation factors through (x, T) may take the summary's cached pairs (one horizon).
        on_pairs = getattr(self.kernel, "expected_purchases_on_pairs", None) if t_arr.ndim <= 1 else None
        return self._by_group(summary, "expected_purchases", covs, self.kernel.expected_purchases, t_arr,
                              on_pairs=on_pairs)

    def expected_purchases_path(self, summary: CustomerSummary, ts: Any, *, purchase_covariates: Any = None,
                                dropout_covariates: Any = None) -> FloatArray:
        """Expected purchases at each horizon of ``ts`` (1-D), shape (len(ts), n_customers).

        The same numbers as :meth:`expected_purchases` per horizon, with the shared work done once;
        :func:`clvkit.valuation.clv` uses it.
        """
        ts_arr = self._check_t(ts, "expected_purchases_path", name="ts").reshape(-1)
        covs = {"purchase": purchase_covariates, "dropout": dropout_covariates}
        if self.time_varying:
            self._customers(summary, "expected_purchases_path")
            rows = [self._dynamic_expected(summary, np.array([t_k]), covs, "expected_purchases_path")
                    for t_k in ts_arr]
            return np.stack(rows) if rows else np.zeros((0, len(summary)))

        def call(params: FloatArray, x: FloatArray, tx: FloatArray, T: FloatArray) -> FloatArray:
            return self.kernel.expected_purchases_path(params, x, tx, T, ts_arr)

        return self._by_group(summary, "expected_purchases_path", covs, call, path=True)

    def weighted_expected_purchases(self, summary: CustomerSummary, ts: Any, weights: Any, *,
                                    purchase_covariates: Any = None, dropout_covariates: Any = None) -> FloatArray:
        """A weighted sum of expected purchases over horizons, ``sum_k weights[k] E[X(ts[k])]``, per customer.

        The same numbers as ``weights @ expected_purchases_path(summary, ts)``, without the (len(ts) x
        n_customers) path: models whose expectation factors as P(alive) x G(x, T, t) (BG/NBD, MBG/NBD) sum ``G``
        once per distinct (frequency, T) pair; the others evaluate their path per distinct (frequency, recency,
        T) row in bounded chunks. With discount weights ``d_k - d_{k+1}`` (``d_k`` the discount factor of
        period ``k``, ``d_{H+1} = 0``) this is the discounted expected purchases :func:`clvkit.valuation.clv`
        values: ``sum_k d_k (E[X(t_k)] - E[X(t_{k-1})])``.

        Parameters
        ----------
        summary:
            Customers, shape (n_customers,).
        ts:
            Horizons in the summary's time unit, 1-D of length h (finite, >= 0).
        weights:
            Finite weights of shape (h,), or (m, h) for ``m`` weightings at once.
        purchase_covariates, dropout_covariates:
            For a model fitted with covariates: the customers' covariates (time-varying ones covering the
            longest horizon).

        Returns
        -------
        numpy.ndarray of shape (n_customers,), or (m, n_customers) for 2-D ``weights``

        Raises
        ------
        InvalidInputError
            For a summary of another type or time unit, bad horizons, or weights that are not finite or do not
            match ``ts``.

        Examples
        --------
        Twelve monthly periods (30 days) at 1% a month, on a daily summary:

        >>> import numpy as np
        >>> from clvkit import CustomerSummary
        >>> from clvkit.valuation import FittedBetaGeo, BetaGeoParams
        >>> bg = FittedBetaGeo(params=BetaGeoParams(r=0.243, alpha=30.9, a=0.793, b=2.426), time_unit="D")
        >>> s = CustomerSummary(frequency=[0, 2], recency=[0.0, 200.0], T=[270.0, 270.0], time_unit="D")
        >>> ts = 30.0 * np.arange(1, 13)
        >>> d = 1.01 ** -np.arange(1, 13)
        >>> w = d - np.append(d[1:], 0.0)
        >>> v = bg.weighted_expected_purchases(s, ts, w)
        >>> bool(np.allclose(v, w @ bg.expected_purchases_path(s, ts), rtol=1e-13, atol=0.0))
        True
        >>> v.round(4).tolist()
        [0.2362, 1.4186]
        """
        where = "weighted_expected_purchases"
        ts_arr = self._check_t(ts, where, name="ts").reshape(-1)
        w = np.asarray(weights)
        if w.dtype == object or w.dtype.kind not in "iuf" or w.ndim not in (1, 2) or w.shape[-1] != ts_arr.shape[0]:
            raise InvalidInputError(
                f"The 'weights' parameter of {type(self).__name__}.{where}() must be numbers of shape "
                f"({ts_arr.shape[0]},) or (m, {ts_arr.shape[0]}), one weight per horizon of 'ts'. Got shape "
                f"{w.shape} (dtype {w.dtype}) instead."
            )
        w = w.astype(np.float64)
        if not np.all(np.isfinite(w)):
            raise InvalidInputError(f"The 'weights' parameter of {type(self).__name__}.{where}() must be finite. Got "
                                    f"{int(np.count_nonzero(~np.isfinite(w)))} non-finite value(s).")
        covs = {"purchase": purchase_covariates, "dropout": dropout_covariates}
        if self.time_varying:
            self._customers(summary, where)
            w2 = w.reshape(1, -1) if w.ndim == 1 else w
            acc = np.zeros((w2.shape[0], len(summary)))
            for k, t_k in enumerate(ts_arr):  # one horizon at a time: never the whole path
                acc += w2[:, k:k + 1] * self._dynamic_expected(summary, np.array([t_k]), covs, where)
            return acc[0] if w.ndim == 1 else acc
        fast: WeightedPathSum | None = getattr(self.kernel, "weighted_path_sum", None)

        def call(params: FloatArray, x: FloatArray, tx: FloatArray, T: FloatArray) -> FloatArray:
            if fast is not None:
                return fast(params, x, tx, T, ts_arr, w)
            return weighted_sum_over_distinct_rows(self.kernel.expected_purchases_path, params, x, tx, T, ts_arr, w)

        return self._by_group(summary, where, covs, call, path=True)

    def probability_alive(self, summary: CustomerSummary, *, purchase_covariates: Any = None,
                          dropout_covariates: Any = None) -> FloatArray:
        """P(customer still active at the end of observation | x, t_x, T), shape (n_customers,), in [0, 1].

        A model fitted with covariates needs the customers' ``purchase_covariates``/``dropout_covariates``.
        Customers with equal ``(frequency, recency, T)`` are evaluated once (the summary caches its distinct rows when
        it is fitted or scored a second time: scoring the same summary object again skips the de-duplication).

        Examples
        --------
        >>> from clvkit import CustomerSummary
        >>> from clvkit.valuation import BetaGeoParams, FittedBetaGeo
        >>> bg = FittedBetaGeo(params=BetaGeoParams(r=0.24, alpha=4.41, a=0.79, b=2.43), time_unit="W")
        >>> s = CustomerSummary(frequency=[0, 2, 2], recency=[0.0, 30.0, 30.0], T=[38.0, 38.0, 38.0], time_unit="W")
        >>> bg.probability_alive(s).round(4).tolist()  # no repeat purchase: alive with certainty (eq. 13)
        [1.0, 0.7311, 0.7311]
        """
        covs = {"purchase": purchase_covariates, "dropout": dropout_covariates}
        if self.time_varying:
            self._customers(summary, "probability_alive")
            return dynamic_alive(self, self.dynamic_family, summary, covs,
                                 f"{type(self).__name__}.probability_alive()")
        return self._by_group(summary, "probability_alive", covs, self.kernel.probability_alive)

    def probability_of_purchases(self, summary: CustomerSummary, n: Any, t: Any, *, purchase_covariates: Any = None,
                                 dropout_covariates: Any = None) -> FloatArray:
        """P(exactly ``n`` purchases in the next ``t`` time units | x, t_x, T).

        Parameters
        ----------
        summary:
            Customers, shape (n_customers,).
        n:
            Number of purchases: a whole number >= 0, or an array of them broadcastable to (n_customers,).
        t:
            Horizon in the summary's time unit: a scalar or an array broadcastable to (n_customers,).

        Returns
        -------
        numpy.ndarray of shape (n_customers,) (the broadcast shape), values in [0, 1]
        """
        x, _, _ = self._customers(summary, "probability_of_purchases")
        n_arr = check_count(n, f"{type(self).__name__}.probability_of_purchases()")
        t_arr = self._check_t(t, "probability_of_purchases")
        self._broadcast(x, "probability_of_purchases", n=n_arr, t=t_arr)
        covs = {"purchase": purchase_covariates, "dropout": dropout_covariates}
        return self._by_group(summary, "probability_of_purchases", covs, self.kernel.probability_of_purchases,
                              n_arr, t_arr)

    def _per_new_customer(self, where: str, covariates: dict[str, Any], customer_id: Any,
                          call: Callable[..., FloatArray], *arrays: FloatArray) -> FloatArray:
        """``call(params, *arrays)`` for customers not yet seen, per group of equal parameters, reassembled.

        Without customers (no covariates, no ``customer_id``) one call at the model's parameters; otherwise the
        ``arrays`` broadcast against the customers (last axis) and the result has the broadcast shape.
        """
        if self.time_varying:
            raise InvalidInputError(
                f"{type(self).__name__}.{where}() is not available for a model fitted with time-varying covariates "
                f"(a customer not yet seen has no calendar of covariates yet)."
            )
        n, groups = self._new_customer_groups(where, covariates, customer_id)
        if n is None:
            return call(groups[0][1], *arrays)
        try:
            shape = np.broadcast_shapes(*(a.shape for a in arrays), (n,))
        except ValueError:
            shapes = ", ".join(f"shape {a.shape}" for a in arrays)
            raise InvalidInputError(
                f"{type(self).__name__}.{where}(): the horizons ({shapes}) must be scalars or broadcastable to the "
                f"{n} customers of the covariates (customers on the last axis)."
            ) from None
        full = [np.broadcast_to(a, shape) for a in arrays]
        out = np.empty(shape)
        for idx, params in groups:
            if idx is None:
                out[...] = call(params, *full)
            else:
                out[..., idx] = call(params, *(a[..., idx] for a in full))
        return out

    def expected_purchases_new_customer(self, t: Any, *, purchase_covariates: Any = None,
                                        dropout_covariates: Any = None, customer_id: Any = None) -> FloatArray:
        """E[X(t)]: expected repeat purchases of a newly acquired customer in ``t`` time units.

        Parameters
        ----------
        t:
            Horizon(s) in the model's time unit.
        purchase_covariates, dropout_covariates:
            For a model fitted with covariates (then required): the covariates of customers not yet seen, e.g.
            ``clvkit.Covariates.static(...)`` of sign-up data coded with the fit's design. One value is returned
            per customer, in the covariates' own customer order (:class:`clvkit.Covariates`: ascending id), or
            in the order of ``customer_id``.
        customer_id:
            Optional ids of the customers to return, in the order wanted (needed for covariates without a
            ``customer_id`` attribute).

        Returns
        -------
        numpy.ndarray
            Without covariates or ``customer_id``: the shape of ``t`` (as before). With them: ``t`` broadcast
            against the customers on the last axis - shape (n_customers,) for a scalar ``t``, (m, n_customers)
            for ``t`` of shape (m, 1).

        Raises
        ------
        InvalidInputError
            For a negative or non-finite horizon, a model with covariates called without them (or one without
            covariates called with them), covariates that lack a customer or a column of the fit, or horizons
            that do not broadcast to the customers.
        """
        where = "expected_purchases_new_customer"
        t_arr = self._check_t(t, where)
        covs = {"purchase": purchase_covariates, "dropout": dropout_covariates}
        return self._per_new_customer(where, covs, customer_id, self.kernel.expected_purchases_new, t_arr)

    def probability_of_purchases_new_customer(self, n: Any, t: Any, *, purchase_covariates: Any = None,
                                              dropout_covariates: Any = None, customer_id: Any = None) -> FloatArray:
        """P(X(t) = n): probability that a newly acquired customer makes ``n`` repeat purchases in ``t``.

        ``n`` and ``t`` broadcast together; the result has their broadcast shape. A model fitted with covariates
        needs the covariates of the customers not yet seen, as :meth:`expected_purchases_new_customer` (one value
        per customer, customers on the last axis).
        """
        where = "probability_of_purchases_new_customer"
        n_arr = check_count(n, f"{type(self).__name__}.{where}()")
        t_arr = self._check_t(t, where)
        try:
            np.broadcast_shapes(n_arr.shape, t_arr.shape)
        except ValueError:
            raise InvalidInputError(
                f"{type(self).__name__}.{where}(): 'n' (shape {n_arr.shape}) and 't' (shape {t_arr.shape}) "
                f"must broadcast together."
            ) from None
        covs = {"purchase": purchase_covariates, "dropout": dropout_covariates}
        return self._per_new_customer(where, covs, customer_id, self.kernel.probability_of_purchases_new, n_arr,
                                      t_arr)

    def discounted_expected_residual_transactions(self, summary: CustomerSummary, discount_rate: Any, *,
                                                  purchase_covariates: Any = None,
                                                  dropout_covariates: Any = None) -> FloatArray:
        """DERT: the present value of all the customer's future purchases, ``sum_k E[purchases in period k] /
        (1 + d)^k`` in the limit of short periods (Fader, Hardie & Lee 2005, "RFM and CLV").

        Multiply by margin and expected spend for the residual lifetime value.

        Parameters
        ----------
        summary:
            Customers, shape (n_customers,).
        discount_rate:
            ``d``, discrete, per time unit of the summary: an annual rate ``D`` is ``(1 + D)**(1/52) - 1`` on
            a weekly summary. Continuous-time models need ``d > 0``.

        Returns
        -------
        numpy.ndarray of shape (n_customers,)
        """
        where = f"{type(self).__name__}.discounted_expected_residual_transactions()"
        d = self._check_rate(discount_rate, where)
        covs = {"purchase": purchase_covariates, "dropout": dropout_covariates}

        def call(params: FloatArray, x: FloatArray, tx: FloatArray, T: FloatArray) -> FloatArray:
            return self.kernel.discounted_residual(params, x, tx, T, d)

        return self._by_group(summary, "discounted_expected_residual_transactions", covs, call)

    def discounted_expected_purchases(self, summary: CustomerSummary, t: Any, discount_rate: Any, *,
                                      purchase_covariates: Any = None, dropout_covariates: Any = None) -> FloatArray:
        """Discounted expected purchases in the next ``t`` time units, for a model with time-varying covariates.

        ``E[int_T^{T+t} e^{-delta (u - T)} dX(u)]`` with ``delta = log(1 + discount_rate)``: DERT over the horizon
        the covariates cover (CLVTools' "DECT"). Models without time-varying covariates have the unbounded
        :meth:`discounted_expected_residual_transactions`; :func:`clvkit.valuation.clv` values a horizon for every
        model.

        Parameters
        ----------
        summary:
            Customers (made by :func:`clvkit.summarize`, which keeps the purchase dates).
        t:
            Horizon in the summary's time unit, one number for all customers.
        discount_rate:
            ``d``, discrete, per time unit of the summary (``d >= 0``; 0 gives :meth:`expected_purchases`).
        purchase_covariates, dropout_covariates:
            The customers' covariates, covering their calibration period and the horizon.

        Raises
        ------
        InvalidInputError
            For a model without time-varying covariates, a bad horizon or rate, or covariates that do not cover
            the horizon (names the first customer and period short).
        """
        where = "discounted_expected_purchases"
        if not self.time_varying:
            raise InvalidInputError(
                f"{type(self).__name__}.{where}() is for models fitted with time-varying covariates. Use "
                f"discounted_expected_residual_transactions() (all the future) or clvkit.valuation.clv() (a horizon)."
            )
        x, _, _ = self._customers(summary, where)
        t_arr = self._check_t(t, where)
        self._broadcast(x, where, t=t_arr)
        d = check_scalar(discount_rate, "discount_rate", f"{type(self).__name__}.{where}()", low=0.0, high=np.inf,
                         high_open=True)
        covs = {"purchase": purchase_covariates, "dropout": dropout_covariates}
        return self._dynamic_expected(summary, t_arr, covs, where, discount=float(np.log1p(d)))

    def _simulation_inputs(self, T: Any, seed: Any) -> tuple[FloatArray, np.random.Generator]:
        """The checked ages (1-D) and the random generator of :meth:`simulate`."""
        ages = self._check_t(T, "simulate", name="T").reshape(-1)
        if np.any(ages > MAX_SIMULATED_AGE):
            raise InvalidInputError(
                f"The 'T' parameter of {type(self).__name__}.simulate() must be at most MAX_SIMULATED_AGE = "
                f"{MAX_SIMULATED_AGE:g} time units. Got a largest age of {float(ages.max())!r} instead."
            )
        try:
            rng = np.random.default_rng(seed)
        except (TypeError, ValueError):
            raise InvalidInputError(
                f"The 'seed' parameter of {type(self).__name__}.simulate() must be an integer, None or a numpy "
                f"Generator. Got {seed!r} instead."
            ) from None
        return ages, rng

    def simulate(self, T: Any, *, seed: Any = None) -> CustomerSummary:
        """Customers drawn from the model, observed for ``T`` time units since their first purchase.

        Parameters
        ----------
        T:
            Ages, array of shape (n_customers,) (for BG/BB whole numbers of opportunities).
        seed:
            Anything :func:`numpy.random.default_rng` accepts, or a ``Generator``.

        Returns
        -------
        CustomerSummary
            ``frequency`` and ``recency`` drawn from the model, ``T`` as given, in the model's time unit.
        """
        ages, rng = self._simulation_inputs(T, seed)
        try:
            x, tx = self.kernel.simulate(self.param_array(), ages, rng)
        except ValueError as exc:  # numpy's samplers refuse rates they cannot draw from (e.g. "lam value too large")
            raise InvalidInputError(
                f"{type(self).__name__}.simulate(): the model's parameters and these ages give draws numpy cannot "
                f"make ({exc}). Simulate shorter ages or check the parameters."
            ) from None
        return CustomerSummary(frequency=x, recency=tx, T=ages, time_unit=self.time_unit)

