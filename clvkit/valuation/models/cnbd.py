"""The CNBD-k family: CNBD-k, BG/CNBD-k and MBG/CNBD-k (Platzer & Reutterer 2016; Reutterer, Platzer & Schroeder 2020).

Engines :class:`CNBD`, :class:`BetaGeoCNBD`, :class:`ModifiedBetaGeoCNBD`; results :class:`FittedCNBD`,
:class:`FittedBetaGeoCNBD`, :class:`FittedModifiedBetaGeoCNBD`. Inter-purchase times are Erlang-k: k = 1 is
the NBD / BG/NBD / MBG/NBD, larger k more regular purchases. ``k=None`` (the default) estimates k over
1..12, an int fixes it; the fitted model's ``params.k``.

The likelihood needs one statistic beyond ``(x, t_x, T)``: ``litt``, each customer's sum of log
inter-purchase times. It is computed from ``summary.purchase_times`` (kept by :func:`clvkit.summarize` for
dated logs: :func:`sum_log_interpurchase_times`), or passed to ``fit(..., litt=...)`` for a summary built
from arrays. Standard errors (``fit_info``) are those of ``r, alpha[, a, b]`` at the chosen k.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, TypeVar, cast

import numpy as np
import numpy.typing as npt
from pydantic import Field

from ..._rows import unique_rows
from ..._timeunits import unit_days
from ...batch import CustomerSummary, PurchaseTimes
from ...errors import InvalidInputError
from . import _bgnbd, _cnbd, _mbgnbd
from ._base import Engine, FittedModel, ModelParams, PositiveFinite, rate_scaled_start
from ._base import _check_observed as check_observed
from ._count import CountKernel, FittedCountModel
from ._covariates import (
    CoefficientLayout,
    CovariateLikelihood,
    Links,
    coefficient_lambdas,
    group_codes,
    per_group_kernel,
    positions_by_group,
)
from ._dynamic import any_dynamic
from ._estimation import FitResult, maximize_likelihood
from ._mixing import MixingDistribution, beta_mixing, gamma_mixing

__all__ = [
    "CNBD",
    "K_SEARCH",
    "MAX_K",
    "BetaGeoCNBD",
    "BetaGeoCNBDParams",
    "CNBDParams",
    "FittedBetaGeoCNBD",
    "FittedCNBD",
    "FittedModifiedBetaGeoCNBD",
    "ModifiedBetaGeoCNBD",
    "ModifiedBetaGeoCNBDParams",
    "sum_log_interpurchase_times",
]

FloatArray = npt.NDArray[np.float64]

#: Largest regularity k a model takes (a fixed k; the search runs over :data:`K_SEARCH`).
MAX_K = 100
#: The regularities ``k=None`` searches, as BTYDplus does.
K_SEARCH = tuple(range(1, 13))


class CNBDParams(ModelParams):
    """CNBD-k parameters: regularity ``k`` (Erlang-k inter-purchase times of rate lambda, mean k/lambda) and
    lambda ~ Gamma(``r``, ``alpha``)."""

    k: int = Field(ge=1, le=MAX_K, strict=False)
    r: PositiveFinite
    alpha: PositiveFinite


class BetaGeoCNBDParams(CNBDParams):
    """BG/CNBD-k parameters: ``k, r, alpha`` as CNBD-k; dropout after each repeat purchase with p ~ Beta(``a``,
    ``b``)."""

    a: PositiveFinite
    b: PositiveFinite


class ModifiedBetaGeoCNBDParams(BetaGeoCNBDParams):
    """MBG/CNBD-k parameters: as BG/CNBD-k, dropout possible also right after the first purchase."""


_FT = TypeVar("_FT", bound="_FittedCNBDBase")


class _FittedCNBDBase(FittedCountModel):
    """The shared part of the three fitted classes: ``k`` rides along with the continuous parameters.

    ``param_names``/:meth:`param_array` are the continuous parameters (what the fit estimates with standard
    errors, what :func:`~clvkit.valuation.parameter_intervals` and sampling perturb); ``params.k`` is kept
    fixed and handed to the kernels.
    """

    family: ClassVar[str] = ""
    params: CNBDParams

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        cls.param_names = tuple(n for n in cls.param_names if n != "k")

    def param_array(self) -> FloatArray:
        """The continuous parameters ``r, alpha[, a, b]`` as a float64 array (``params.k`` apart)."""
        values = self.params.model_dump()
        return np.array([values[n] for n in self.param_names], dtype=np.float64)

    def with_param_array(self: _FT, values: Any) -> _FT:
        """A copy at other values of ``r, alpha[, a, b]`` (the same ``k``), without fit diagnostics."""
        arr = np.asarray(values, dtype=np.float64).reshape(-1)
        if arr.shape[0] != len(self.param_names):
            raise InvalidInputError(
                f"{type(self).__name__}.with_param_array() needs {len(self.param_names)} values "
                f"{list(self.param_names)}. Got {arr.shape[0]} instead."
            )
        try:
            params = self.params_type(k=self.params.k, **dict(zip(self.param_names, arr.tolist(), strict=True)))
        except ValueError as exc:
            raise InvalidInputError(f"{type(self).__name__}.with_param_array(): {exc}") from None
        return self.model_copy(update={"params": params, "fit_info": None})

    def _param_groups_of(self, ids: npt.NDArray[Any] | None, where: str, covariates: Mapping[str, Any],
                         matched_by: str | None = None) -> list[tuple[npt.NDArray[np.intp] | None, FloatArray]]:
        # The kernels read (k, r, alpha[, a, b]): k first, as BTYDplus orders them.
        groups = super()._param_groups_of(ids, where, covariates, matched_by)
        return [(idx, np.concatenate([[float(self.params.k)], p])) for idx, p in groups]

    def kernel_params(self) -> FloatArray:
        """``(k, r, alpha[, a, b])``: the array the kernels of :mod:`._cnbd` read."""
        return np.concatenate([[float(self.params.k)], self.param_array()])

    def transaction_rate_distribution(self) -> MixingDistribution:
        """How tick rates vary across customers while active: lambda ~ Gamma(``r``, ``alpha``); the purchase rate
        is lambda / k."""
        return gamma_mixing("tick rate", "lambda", self.time_unit, self.params.r, self.params.alpha, ("r", "alpha"))

    def simulate(self, T: Any, *, seed: Any = None) -> CustomerSummary:
        """Customers drawn from the model, observed for ``T`` time units, with their purchase times.

        As :meth:`FittedCountModel.simulate`, and the summary's ``purchase_times`` hold each customer's drawn
        repeat purchase times (origin 1970-01-01), so the summary can be fitted by the CNBD-k engines.
        """
        ages, rng = self._simulation_inputs(T, seed)
        x, tx, offsets, times = _cnbd.simulate_times(self.kernel_params(), ages, rng, self.family)
        days = unit_days(self.time_unit)
        pt = PurchaseTimes(origin=np.zeros(ages.shape[0], dtype="datetime64[ns]"), offsets=offsets, times=times,
                           period_days=days, unit_days=days)
        return CustomerSummary(frequency=x, recency=tx, T=ages, time_unit=self.time_unit, purchase_times=pt)


class _Kernel:
    """A :class:`CountKernel` delegating to the closed forms of BG/NBD and MBG/NBD at k = 1 and to
    :mod:`._cnbd` otherwise (the numerical forms are checked against the closed forms at k = 1 in the tests)."""

    def __init__(self, family: str) -> None:
        self.general = _cnbd.KERNELS[family]
        self.closed: Any = {_cnbd.BG: _bgnbd, _cnbd.MBG: _mbgnbd}.get(family)

    def _pick(self, params: FloatArray) -> tuple[Any, FloatArray]:
        if self.closed is not None and round(float(params[0])) == 1:
            return self.closed, params[1:]
        return self.general, params

    def expected_purchases(self, params: FloatArray, x: FloatArray, tx: FloatArray, T: FloatArray, t: FloatArray,
                           /) -> FloatArray:
        kern, p = self._pick(params)
        out: FloatArray = kern.expected_purchases(p, x, tx, T, t)
        return out

    def expected_purchases_path(self, params: FloatArray, x: FloatArray, tx: FloatArray, T: FloatArray,
                                ts: FloatArray, /) -> FloatArray:
        kern, p = self._pick(params)
        out: FloatArray = kern.expected_purchases_path(p, x, tx, T, ts)
        return out

    def probability_alive(self, params: FloatArray, x: FloatArray, tx: FloatArray, T: FloatArray, /) -> FloatArray:
        kern, p = self._pick(params)
        out: FloatArray = kern.probability_alive(p, x, tx, T)
        return out

    def probability_of_purchases(self, params: FloatArray, x: FloatArray, tx: FloatArray, T: FloatArray,
                                 n: FloatArray, t: FloatArray, /) -> FloatArray:
        kern, p = self._pick(params)
        out: FloatArray = kern.probability_of_purchases(p, x, tx, T, n, t)
        return out

    def expected_purchases_new(self, params: FloatArray, t: FloatArray, /) -> FloatArray:
        kern, p = self._pick(params)
        out: FloatArray = kern.expected_purchases_new(p, t)
        return out

    def probability_of_purchases_new(self, params: FloatArray, n: FloatArray, t: FloatArray, /) -> FloatArray:
        kern, p = self._pick(params)
        out: FloatArray = kern.probability_of_purchases_new(p, n, t)
        return out

    def discounted_residual(self, params: FloatArray, x: FloatArray, tx: FloatArray, T: FloatArray, d: float,
                            /) -> FloatArray:
        kern, p = self._pick(params)
        out: FloatArray = kern.discounted_residual(p, x, tx, T, d)
        return out

    def simulate(self, params: FloatArray, T: FloatArray, rng: np.random.Generator, /
                 ) -> tuple[FloatArray, FloatArray]:
        return self.general.simulate(params, T, rng)


class FittedCNBD(_FittedCNBDBase):
    """A CNBD-k model (no dropout) with known parameters; every prediction vectorised over a summary.

    >>> from clvkit import CustomerSummary
    >>> m = FittedCNBD(params=CNBDParams(k=2, r=1.0, alpha=4.0), time_unit="W")
    >>> # (1/k) [r t/alpha - (1 - (1 + k t/alpha)^-r)/k]: 52/8 less the lag of the first purchase's two ticks
    >>> m.expected_purchases_new_customer([0.0, 52.0]).round(3).tolist()
    [0.0, 6.259]
    """

    model_name: ClassVar[str] = "CNBD"
    family: ClassVar[str] = _cnbd.NBD
    kernel: ClassVar[CountKernel] = _Kernel(_cnbd.NBD)
    #: NBD's link (CLVTools'): ``alpha_i = alpha exp(-gamma_purchase' z_i)`` (positions in ``r, alpha``).
    covariate_links: ClassVar[Links] = {"purchase": ((1, -1.0),)}
    params: CNBDParams


class FittedBetaGeoCNBD(_FittedCNBDBase):
    """A BG/CNBD-k model with known parameters; every prediction vectorised over a summary.

    >>> from clvkit import CustomerSummary
    >>> m = FittedBetaGeoCNBD(params=BetaGeoCNBDParams(k=2, r=1.0, alpha=4.0, a=0.5, b=4.0), time_unit="W")
    >>> s = CustomerSummary(frequency=[0, 5], recency=[0.0, 40.0], T=[52.0, 52.0], time_unit="W")
    >>> m.probability_alive(s).round(3).tolist()  # without repeat purchases a BG customer is alive
    [1.0, 0.791]
    """

    model_name: ClassVar[str] = "BetaGeoCNBD"
    family: ClassVar[str] = _cnbd.BG
    kernel: ClassVar[CountKernel] = _Kernel(_cnbd.BG)
    #: BG/NBD's link (CLVTools'): ``alpha_i = alpha exp(-gamma_purchase' z_i)``; ``a_i = a exp(gamma_dropout' z_i)``
    #: and ``b_i = b exp(gamma_dropout' z_i)`` (positions in ``r, alpha, a, b``; MBG/CNBD-k inherits it).
    covariate_links: ClassVar[Links] = {"purchase": ((1, -1.0),), "dropout": ((2, 1.0), (3, 1.0))}
    params: BetaGeoCNBDParams

    def dropout_distribution(self) -> MixingDistribution:
        """How dropout probabilities (after each purchase) vary across customers: p ~ Beta(``a``, ``b``)."""
        return beta_mixing("dropout probability", "p", "purchase", self.params.a, self.params.b, ("a", "b"))


class FittedModifiedBetaGeoCNBD(FittedBetaGeoCNBD):
    """An MBG/CNBD-k model with known parameters (dropout possible right after the first purchase too).

    >>> from clvkit import CustomerSummary
    >>> m = FittedModifiedBetaGeoCNBD(params=ModifiedBetaGeoCNBDParams(k=2, r=1.0, alpha=4.0, a=0.5, b=4.0),
    ...                               time_unit="W")
    >>> s = CustomerSummary(frequency=[0, 5], recency=[0.0, 40.0], T=[52.0, 52.0], time_unit="W")
    >>> # x = 0: (1 + u)/(1 + u + a/b (1 + T/alpha)^r), u = T/(alpha+T), the second phase of the tick pair
    >>> m.probability_alive(s).round(3).tolist()
    [0.524, 0.81]
    """

    model_name: ClassVar[str] = "ModifiedBetaGeoCNBD"
    family: ClassVar[str] = _cnbd.MBG
    kernel: ClassVar[CountKernel] = _Kernel(_cnbd.MBG)
    params: ModifiedBetaGeoCNBDParams


def sum_log_interpurchase_times(summary: CustomerSummary, where: str = "sum_log_interpurchase_times()"
                                ) -> FloatArray:
    """``litt``: each customer's sum of log inter-purchase times (in the summary's unit), from its purchase times.

    The inter-purchase times of a customer with repeat times ``t_1 < ... < t_x`` are ``t_1 - 0, t_2 - t_1, ...``
    (from the first purchase at 0); ``litt = 0`` for x = 0.

    Raises
    ------
    InvalidInputError
        When the summary has no ``purchase_times`` (built from arrays, or summarized by calendar months or
        numeric times) - summarize a dated log with :func:`clvkit.summarize` in a unit of fixed length, or pass
        ``litt=`` to ``fit()`` -, or when a customer has two purchases at one time (an inter-purchase time of 0).

    Examples
    --------
    >>> import numpy as np
    >>> from clvkit import CustomerSummary, PurchaseTimes
    >>> pt = PurchaseTimes(origin=np.zeros(2, dtype="datetime64[ns]"), offsets=[0, 2, 2], times=[2.0, 5.0],
    ...                    period_days=7.0, unit_days=7.0)
    >>> s = CustomerSummary([2, 0], [5.0, 0.0], [6.0, 3.0], time_unit="W", purchase_times=pt)
    >>> sum_log_interpurchase_times(s).round(4).tolist()  # log 2 + log 3
    [1.7918, 0.0]
    """
    if not isinstance(summary, CustomerSummary):
        raise InvalidInputError(f"{where} needs a clvkit.CustomerSummary. Got {type(summary).__name__}.")
    pt = summary.purchase_times
    if pt is None:
        raise InvalidInputError(
            f"{where}: the CNBD-k models need each customer's inter-purchase times, but this summary has no "
            f"purchase_times (built from arrays, or by calendar months or numeric times). Summarize a dated log with "
            f"clvkit.summarize(..., time_unit='D' or 'W'), or pass litt= (each customer's sum of log inter-purchase "
            f"times) to fit()."
        )
    counts = np.diff(pt.offsets)
    owner = np.repeat(np.arange(counts.shape[0]), counts)
    gaps = np.diff(pt.times, prepend=0.0)
    starts = pt.offsets[:-1][counts > 0]
    gaps[starts] = pt.times[starts]
    bad = ~(gaps > 0.0)
    if bad.any():
        first = int(owner[np.flatnonzero(bad)[0]])
        ids = summary.customer_id
        who = f"customer {ids[first]!r}" if ids is not None else f"row {first}"
        raise InvalidInputError(
            f"{where}: {int(np.unique(owner[bad]).size)} customer(s) have two purchases at one time (an inter-purchase "
            f"time of 0), first {who}. Summarize so that purchases in one period count once (clvkit.summarize does)."
        )
    litt = np.bincount(owner, weights=np.log(gaps), minlength=counts.shape[0])
    return np.asarray(litt, dtype=np.float64)


#: The engine hook ``_loglik_hessian``: ``(params, data) -> (ll (n,), grad (n, k), hess (n, k, k))``.
HessianKernel = Callable[[FloatArray, Mapping[str, npt.NDArray[Any]]], tuple[FloatArray, FloatArray, FloatArray]]


def _kernel_params(params: FloatArray, data: Mapping[str, npt.NDArray[Any]]) -> FloatArray:
    """The kernel's ``(k, r, alpha[, a, b])``: the fitted continuous parameters with ``k`` from ``data["k"]``."""
    return np.concatenate([data["k"], params])


def _hessian_kernel(family: str) -> HessianKernel:
    """The ``_loglik_hessian`` hook of a family: :func:`._cnbd.loglik_hessian` on ``_CNBDEngine._loglik``'s data."""

    def kernel(params: FloatArray, data: Mapping[str, npt.NDArray[Any]]) -> tuple[FloatArray, FloatArray, FloatArray]:
        return _cnbd.loglik_hessian(_kernel_params(params, data), data["x"], data["tx"], data["T"], 0.0, family,
                                    (data["x_unique"], data["x_code"]))

    return kernel


def _rows_data(x: FloatArray, tx: FloatArray, T: FloatArray) -> dict[str, npt.NDArray[Any]]:
    """The kernel's data of compressed rows: ``x, tx, T`` and the distinct frequencies with each row's code."""
    x_unique, x_code = np.unique(x, return_inverse=True)
    return {"x": x, "tx": tx, "T": T, "x_unique": x_unique, "x_code": x_code.reshape(-1)}


def _check_litt(litt: Any, summary: CustomerSummary, where: str) -> FloatArray:
    """An explicit ``litt`` array: one finite number per customer, 0 where x = 0."""
    try:
        arr = np.asarray(litt, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise InvalidInputError(f"The 'litt' parameter of {where} must be an array of numbers, one per customer. "
                                f"Got {type(litt).__name__} instead.") from None
    n = len(summary)
    if arr.shape[0] != n:
        raise InvalidInputError(f"The 'litt' parameter of {where} must have one value per customer ({n}). "
                                f"Got {arr.shape[0]} instead.")
    bad = ~np.isfinite(arr) | ((summary.frequency == 0) & (arr != 0.0))
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise InvalidInputError(
            f"The 'litt' parameter of {where} must be finite, and 0 for customers without repeat purchases; "
            f"{int(bad.sum())} value(s) are not, first at row {first} ({arr[first]!r})."
        )
    return arr


class _CNBDEngine(Engine[CustomerSummary, _FT]):
    """The shared fit of the three engines: one compression, a profile over k with warm starts."""

    k: int | None = Field(None, ge=1, le=MAX_K,
                          description="Regularity: None estimates it over 1..12; an int fixes it.")
    #: Set by each family: its per-row Hessian kernel (the estimation template's ``_loglik_hessian`` hook).
    _loglik_hessian: ClassVar[HessianKernel | None] = None

    def fit(self, summary: CustomerSummary, *, purchase_covariates: Any = None, dropout_covariates: Any = None,
            equal: Any = (), spend_covariates: Any = None, regularization: Any = None, progress: Any = None,
            litt: Any = None) -> _FT:
        """Fit by maximum likelihood; ``k=None`` profiles the likelihood over k = 1..12.

        The data are compressed once to distinct ``(x, t_x, T)`` rows: ``litt`` enters the log-likelihood only
        through ``(k - 1) * sum(litt)``, a constant for the other parameters, so every k is fitted on the same
        rows, each from the previous k's optimum. As BTYDplus (``mbgcnbd.EstimateParameters``), k = 1..4 are always
        fitted and the search then stops once the log-likelihood no longer increases.

        With static covariates the same profile runs jointly over k and the covariate fit: at every k the
        parameters and the coefficients are fitted together (customers grouped by their distinct covariate rows,
        each group compressed once, the shared :class:`~._covariates.CovariateLikelihood`), warm-started from the
        previous k, and k is the one with the highest log-likelihood (with ``regularization``: the highest
        penalised objective). The term ``(k - 1) * sum(litt)`` does not involve the coefficients either, so the
        search costs one covariate fit per k tried; with categorical covariates that is a few kernel calls per
        evaluation. A fixed ``k`` fits once.

        Parameters
        ----------
        summary:
            The customers; with ``purchase_times`` (:func:`clvkit.summarize` of a dated log) unless ``litt`` is
            given or k is fixed to 1.
        purchase_covariates, dropout_covariates:
            Optional static covariates (``clvkit.Covariates.static(...)``), matched by ``summary.customer_id``:
            the purchase process scales ``alpha`` by ``exp(-gamma_p' z)``; the dropout process (BG/CNBD-k and
            MBG/CNBD-k only) scales ``a`` and ``b`` by ``exp(gamma_d' z)`` - the links of NBD, BG/NBD and MBG/NBD
            in CLVTools, so with k = 1 the fit is BG/NBD's or MBG/NBD's covariate fit.
        equal:
            Names of covariates in both processes constrained to one coefficient.
        regularization:
            Optional L2 penalty of the coefficients per process, ``{"purchase": lam_p, "dropout": lam_d}``, as
            :meth:`clvkit.valuation.Engine.fit` (CLVTools' ``reg.lambdas``).
        litt:
            Optional, array of shape (n_customers,): each customer's sum of log inter-purchase times in the
            summary's unit (0 for x = 0), for a summary without purchase times.
        progress:
            Optional callback receiving a :class:`~clvkit.valuation.FitProgress` after each iteration.

        Raises
        ------
        InvalidInputError
            For time-varying covariates (a rate that changes between purchases makes the inter-purchase times
            enter the likelihood through the covariates, which these models do not implement), spend covariates,
            dropout covariates on CNBD-k, covariates that do not fit the customers (see
            :meth:`clvkit.valuation.Engine.fit`), a summary without purchase times and no ``litt``, a bad
            ``litt``, or data that cannot identify the model.
        ConvergenceError
            If no optimum is found.

        Examples
        --------
        Two groups of 2,000 weekly customers at k = 2, the second buying twice as often (``alpha`` halved: a purchase
        coefficient of ``log 2 = 0.69``); k and the effect are estimated together:

        >>> import numpy as np
        >>> from clvkit import Covariates
        >>> sims = [FittedCNBD(params=CNBDParams(k=2, r=1.2, alpha=alpha), time_unit="W").simulate(
        ...     np.full(2000, 52.0), seed=seed) for alpha, seed in ((3.0, 1), (1.5, 2))]
        >>> summary = CustomerSummary(*(np.concatenate([getattr(s, f) for s in sims]) for f in ("frequency", "recency",
        ...                           "T")), customer_id=np.arange(4000), time_unit="W")
        >>> litt = np.concatenate([sum_log_interpurchase_times(s) for s in sims])
        >>> group = Covariates.static({"id": np.arange(4000), "second": np.repeat([0.0, 1.0], 2000)},
        ...                           customer_id="id", columns=["second"])
        >>> fitted = CNBD().fit(summary, purchase_covariates=group, litt=litt)
        >>> fitted.params.k, round(fitted.coefficients["purchase"]["second"], 1)
        (2, 0.7)
        """
        where = f"{type(self).__name__}.fit()"
        covariates = {"purchase": purchase_covariates, "dropout": dropout_covariates, "spend": spend_covariates}
        if any_dynamic(covariates):
            raise InvalidInputError(
                f"{where}: the CNBD-k models take static covariates only (clvkit.Covariates.static). With a purchase "
                f"rate that changes between purchases, the Erlang-k inter-purchase times enter the likelihood through "
                f"the covariates (the sum of log inter-purchase times is no longer a constant), which these models do "
                f"not implement. Pass the values known per customer, or fit ParetoNBD or BetaGeo for time-varying "
                f"covariates."
            )
        if not isinstance(summary, CustomerSummary):
            raise InvalidInputError(f"{where} needs a clvkit.CustomerSummary. Got {type(summary).__name__}; "
                                    f"{self.data_hint}.")
        links = self.fitted_class.covariate_links
        design = self._design(summary, covariates, equal)
        lambdas, lambda_array = coefficient_lambdas(regularization, design, links, where,
                                                    self.fitted_class.covariate_keywords)
        ks = K_SEARCH if self.k is None else (self.k,)
        if ks == (1,):
            litt_arr = np.zeros(len(summary))
        elif litt is not None:
            litt_arr = _check_litt(litt, summary, where)
        else:
            litt_arr = sum_log_interpurchase_times(summary, where)
        weights_all = summary.weights_or_ones()
        total_litt = float(weights_all @ litt_arr)
        (x, tx, T), w, _ = unique_rows([summary.frequency, summary.recency, summary.T], weights_all)
        if w.shape[0] == 0 or not float(w.sum()) > 0:
            raise InvalidInputError(f"{where} needs at least one customer to fit. Got none.")
        check_observed(T, w, where)
        data = _rows_data(x, tx, T)
        family = cast(Any, self.fitted_class).family
        start = self._start(data, w)
        names = self.param_names
        total_weight = float(w.sum())
        n_free = 0 if design is None else design.n_free
        if n_free:
            assert design is not None
            likelihood_at, w, total_weight = self._grouped(summary, weights_all, design, family)
            names = names + design.labels
            start = np.concatenate([start, np.zeros(n_free)])
        best: tuple[float, int, FitResult] | None = None
        previous = -math.inf
        began = time.perf_counter()
        for k in ks:
            if n_free:
                likelihood = likelihood_at(k)
                result = maximize_likelihood(likelihood, {}, w, start, model=self.name, param_names=names,
                                             penalizer=self.penalizer, tol=self.tol, max_iter=self.max_iter,
                                             progress=progress, summed=True, total_weight=total_weight, n_free=n_free,
                                             coefficient_lambdas=lambda_array, hessian=likelihood.hessian)
            else:
                result = maximize_likelihood(self._loglik, {**data, "k": np.array([float(k)])}, w, start,
                                             model=self.name, param_names=names, penalizer=self.penalizer,
                                             tol=self.tol, max_iter=self.max_iter, progress=progress,
                                             loglik_hessian=type(self)._loglik_hessian)
            total = result.log_likelihood + (k - 1) * total_litt
            objective = total
            if lambda_array is not None:  # what a regularised fit maximises: the penalised objective
                coef = np.asarray(result.params, dtype=np.float64)[len(self.param_names):]
                objective -= total_weight * float(lambda_array @ coef**2)
            if best is None or objective > best[0]:
                best = (objective, k, result)
            start = np.asarray(result.params, dtype=np.float64)  # warm start of the next k
            # BTYDplus's rule (mbgcnbd.EstimateParameters, v1.2.0 docs): k = 1..4 always, then stop once the
            # log-likelihood (here: the objective, penalised when regularised) no longer increases.
            if k >= 4 and objective <= previous:
                break
            previous = objective
        assert best is not None  # ks is never empty
        _, k_best, result = best
        total = result.log_likelihood + (k_best - 1) * total_litt
        params, info, gamma = self._finish(result, w, int(w.shape[0]), names, design if n_free else None, lambdas)
        info = info.model_copy(update={"log_likelihood": total, "seconds": time.perf_counter() - began,
                                       "n_params": len(names) + (1 if self.k is None else 0)})
        extra: dict[str, Any] = {}
        if design is not None:  # (covariates that are zero for everyone: coefficients 0, the plain fit)
            extra["coefficients"] = {process: {name: gamma[index] if index >= 0 else 0.0 for name, index in columns}
                                     for process, columns in design.columns.items()}
            extra["equal"] = list(design.equal)
        fitted = self.fitted_class(params=self.fitted_class.params_type(k=k_best, **params),  # type: ignore[call-arg]
                                   time_unit=summary.time_unit, fit_info=info, **extra)
        return cast(_FT, fitted)

    def _grouped(self, summary: CustomerSummary, weights: FloatArray, design: CoefficientLayout, family: str
                 ) -> tuple[Callable[[int], CovariateLikelihood], FloatArray, float]:
        """The covariate likelihood at each k (a function of k), the rows' weights and the number of customers.

        Customers are grouped by their distinct covariate rows and each group compressed once to distinct
        ``(x, t_x, T)``; every k reuses the groups (the kernel is called once per group per evaluation).
        """
        row_group, z = group_codes(design)
        n_groups = next(iter(z.values())).shape[0]
        groups: list[dict[str, npt.NDArray[Any]]] = []
        group_weights: list[FloatArray] = []
        for idx in positions_by_group(row_group, n_groups):
            (x, tx, T), w, _ = unique_rows([summary.frequency[idx], summary.recency[idx], summary.T[idx]], weights[idx])
            groups.append(_rows_data(x, tx, T))
            group_weights.append(w)
        rows = np.concatenate(group_weights)
        owner = np.repeat(np.arange(n_groups, dtype=np.intp), [g.shape[0] for g in group_weights])
        links = self.fitted_class.covariate_links
        n_params = len(self.param_names)

        def at(k: int) -> CovariateLikelihood:
            def kernel(params: FloatArray, data: Mapping[str, npt.NDArray[Any]]) -> tuple[FloatArray, FloatArray]:
                return _cnbd.loglik(np.concatenate([[float(k)], params]), data["x"], data["tx"], data["T"], 0.0,
                                    family, (data["x_unique"], data["x_code"]))

            return CovariateLikelihood(per_group_kernel(kernel, groups), owner, rows, z, links, n_params)

        return at, rows, float(rows.sum())

    def _loglik(self, params: FloatArray, data: Mapping[str, npt.NDArray[Any]]) -> tuple[FloatArray, FloatArray]:
        """The kernel at the continuous parameters on compressed rows (:func:`_rows_data`) with ``data["k"]``."""
        family = cast(Any, self.fitted_class).family
        return _cnbd.loglik(_kernel_params(params, data), data["x"], data["tx"], data["T"], 0.0, family,
                            (data["x_unique"], data["x_code"]))

    def _default_start(self, data: Mapping[str, npt.NDArray[Any]], weights: FloatArray) -> FloatArray:
        start = rate_scaled_start(data, weights)
        return start[: len(self.param_names)]


class CNBD(_CNBDEngine[FittedCNBD]):
    """CNBD-k engine: NBD with Erlang-k inter-purchase times and no dropout (Platzer & Reutterer 2016).

    Simulate 4,000 weekly customers with k = 2 and fit (k is estimated over 1..12):

    >>> import numpy as np
    >>> truth = FittedCNBD(params=CNBDParams(k=2, r=1.2, alpha=3.0), time_unit="W")
    >>> sample = truth.simulate(np.full(4000, 52.0), seed=3)
    >>> fitted = CNBD().fit(sample)
    >>> fitted.params.k
    2
    """

    name: ClassVar[str] = "CNBD"
    fitted_class: ClassVar[type[FittedModel]] = FittedCNBD
    #: Per-row log-likelihood, gradient and Hessian of ``r, alpha`` in one pass
    #: (:func:`._cnbd.loglik_hessian`) on ``_loglik``'s data: Newton steps and standard errors at every k.
    _loglik_hessian: ClassVar[HessianKernel | None] = staticmethod(_hessian_kernel(_cnbd.NBD))


class BetaGeoCNBD(_CNBDEngine[FittedBetaGeoCNBD]):
    """BG/CNBD-k engine: the BG/NBD with Erlang-k inter-purchase times (Reutterer, Platzer & Schroeder 2020).

    >>> import numpy as np
    >>> truth = FittedBetaGeoCNBD(params=BetaGeoCNBDParams(k=3, r=1.0, alpha=3.0, a=0.8, b=4.0), time_unit="W")
    >>> sample = truth.simulate(np.full(4000, 52.0), seed=5)
    >>> BetaGeoCNBD().fit(sample).params.k
    3
    """

    name: ClassVar[str] = "BetaGeoCNBD"
    fitted_class: ClassVar[type[FittedModel]] = FittedBetaGeoCNBD
    #: Per-row log-likelihood, gradient and Hessian of ``r, alpha, a, b`` in one pass
    #: (:func:`._cnbd.loglik_hessian`) on ``_loglik``'s data: Newton steps and standard errors at every k.
    _loglik_hessian: ClassVar[HessianKernel | None] = staticmethod(_hessian_kernel(_cnbd.BG))


class ModifiedBetaGeoCNBD(_CNBDEngine[FittedModifiedBetaGeoCNBD]):
    """MBG/CNBD-k engine: the MBG/NBD with Erlang-k inter-purchase times (Reutterer, Platzer & Schroeder 2020).

    ``ModifiedBetaGeoCNBD(k=1)`` is the MBG/NBD; the default estimates k:

    >>> import numpy as np
    >>> truth = FittedModifiedBetaGeoCNBD(params=ModifiedBetaGeoCNBDParams(k=2, r=1.0, alpha=3.0, a=0.8, b=4.0),
    ...                                   time_unit="W")
    >>> sample = truth.simulate(np.full(4000, 52.0), seed=11)
    >>> ModifiedBetaGeoCNBD().fit(sample).params.k
    2
    """

    name: ClassVar[str] = "ModifiedBetaGeoCNBD"
    fitted_class: ClassVar[type[FittedModel]] = FittedModifiedBetaGeoCNBD
    #: Per-row log-likelihood, gradient and Hessian of ``r, alpha, a, b`` in one pass
    #: (:func:`._cnbd.loglik_hessian`) on ``_loglik``'s data: Newton steps and standard errors at every k.
    _loglik_hessian: ClassVar[HessianKernel | None] = staticmethod(_hessian_kernel(_cnbd.MBG))
