"""What every valuation engine shares: configuration, the fit template, fit diagnostics, fitted results.

An engine is a frozen Pydantic configuration (penalizer, tolerances, start values) that declares its
parameter names, how it reads a :class:`~clvkit.CustomerSummary`, its start values and its
log-likelihood kernel. :meth:`Engine._estimate` runs the shared routine of :mod:`._estimation` on the
compressed data and returns natural-scale parameters plus a :class:`FitInfo`. A fitted model is another
frozen Pydantic object holding the parameters, the time unit and the :class:`FitInfo`; it persists as
versioned JSON through :mod:`clvkit.persistence`.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping
from functools import partial
from typing import Annotated, Any, ClassVar, Generic, TypeVar, cast

import numpy as np
import numpy.typing as npt
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from ..._display import block, count, key_value_table, number, shorten, table
from ..._pydantic import FrozenModel
from ..._rows import unique_rows
from ..._timeunits import UNIT_DAYS
from ...batch import CustomerSummary
from ...contracts import ContractSummary
from ...covariates import customer_rows
from ...errors import ConvergenceWarning, InvalidInputError, NotFittedError
from ...i18n import Translator, translator
from ...persistence import register, write_document
from ._covariates import (
    CoefficientLayout,
    CovariateLikelihood,
    Links,
    build_design,
    coefficient_lambdas,
    group_codes,
    per_group_kernel,
    positions_by_group,
)
from ._dynamic import any_dynamic, dynamic_loglik, fit_design
from ._estimation import FitProgress, LogLikelihood, LogLikelihoodHessian, maximize_likelihood

__all__ = [
    "MAX_COUNT",
    "SMALLEST_NORMAL",
    "Engine",
    "FitInfo",
    "FittedModel",
    "ModelParams",
    "PositiveFinite",
    "ProgressCallback",
    "check_count",
    "check_horizon",
    "observed_rows",
    "observed_rows_keyed",
    "rate_scaled_start",
]

FloatArray = npt.NDArray[np.float64]
ProgressCallback = Callable[[FitProgress], None]

_FROZEN = ConfigDict(frozen=True, extra="forbid")

#: The smallest positive normal double, 2.2250738585072014e-308 (``sys.float_info.min``).
SMALLEST_NORMAL = 2.2250738585072014e-308


def _check_positive_normal(value: float) -> float:
    if value <= 0.0:
        raise ValueError("must be > 0 (a model parameter is positive)")
    if value < SMALLEST_NORMAL:
        raise ValueError(f"must be at least {SMALLEST_NORMAL!r}, the smallest normal float (subnormal values lose "
                         f"precision and overflow when inverted)")
    return value


#: A finite float (Pydantic accepts NaN and infinities by default).
_Finite = Annotated[float, Field(allow_inf_nan=False)]

#: A model parameter: a positive, finite, *normal* float (at least :data:`SMALLEST_NORMAL`; the optimiser
#: works on its logarithm). Subnormal values (5e-324 ... 2.2e-308) are refused: they carry fewer than 53
#: significant bits, their reciprocals overflow, and no fit produces them.
PositiveFinite = Annotated[float, Field(allow_inf_nan=False), AfterValidator(_check_positive_normal)]


class ModelParams(FrozenModel):
    """Base of every model's parameter class: frozen, no extra fields, declared in the papers' order.

    Python construction takes ints and numpy numbers for the float parameters
    (``BetaGeoParams(r=1, alpha=np.float64(2.5), ...)``); :func:`clvkit.load_json` validates documents
    strictly (no booleans or strings for numbers). Bad values raise :class:`~clvkit.InvalidInputError`
    naming the parameter.
    """

    model_config = _FROZEN


class FitInfo(FrozenModel):
    """Diagnostics of one maximum-likelihood fit.

    Attributes
    ----------
    log_likelihood:
        Total log-likelihood at the optimum (sum over customers, unpenalised), as the papers report it.
    n_customers:
        Number of customers fitted (sum of weights).
    n_rows:
        Distinct rows the optimiser evaluated after compression.
    n_iterations, n_evaluations:
        Optimiser iterations and log-likelihood evaluations on the compressed rows: every pass of a kernel over
        the rows counts once, whether it gives the log-likelihood and gradient or (for an engine with an analytic
        Hessian kernel, fitted by Newton's method) the log-likelihood, gradient and Hessian together.
    converged, gradient_norm, message:
        Convergence diagnostics; ``gradient_norm`` is the infinity norm of the gradient of the mean
        negative log-likelihood on the log-parameter scale.
    penalizer:
        The L2 penalty used.
    n_params:
        Number of estimated parameters (``None`` only in documents written before clvkit 0.2, where the
        fitted model fills it in from its parameters when it loads).
    standard_errors, covariance:
        From the observed information (inverse Hessian of the negative log-likelihood), on the natural
        scale by the delta method; ``None`` when the Hessian is not positive definite.
    seconds:
        Wall time of the optimisation.
    regularization:
        The L2 lambda of each covariate process of a regularised fit (``{"purchase": 0.5, "dropout": 0.5}``,
        ``Engine.fit(..., regularization=...)``), or ``None`` for an unregularised fit.

    Every number is finite (a NaN or infinity raises :class:`~clvkit.InvalidInputError`), so a fitted model
    can always be written by ``to_json()``: JSON has no NaN.
    """

    model_config = _FROZEN

    log_likelihood: _Finite
    n_customers: _Finite
    n_rows: int
    n_iterations: int
    n_evaluations: int
    converged: bool
    gradient_norm: _Finite
    message: str
    penalizer: _Finite
    n_params: int | None = None
    standard_errors: dict[str, _Finite] | None = None
    covariance: list[list[_Finite]] | None = Field(None, repr=False)  # n x n numbers: too long for a repr
    seconds: _Finite = 0.0
    regularization: dict[str, Annotated[float, Field(ge=0.0, allow_inf_nan=False)]] | None = None

    @property
    def aic(self) -> float:
        """Akaike information criterion, ``2k - 2 LL`` with k the number of estimated parameters."""
        return 2.0 * self._k() - 2.0 * self.log_likelihood

    @property
    def bic(self) -> float:
        """Bayesian information criterion, ``k log(n) - 2 LL`` with n the number of customers."""
        return self._k() * float(np.log(self.n_customers)) - 2.0 * self.log_likelihood

    def _k(self) -> int:
        # k counts the parameters estimated, whether or not the Hessian gave standard errors.
        if self.n_params is not None:
            return self.n_params
        if self.standard_errors is not None:
            return len(self.standard_errors)
        if self.covariance is not None:
            return len(self.covariance)
        raise NotFittedError("This FitInfo does not say how many parameters were estimated; set n_params.")


_ModelT = TypeVar("_ModelT", bound="FittedModel")


class FittedModel(FrozenModel):
    """Base of every fitted model: frozen parameters, the time unit they are in, and fit diagnostics.

    A subclass declares ``model_name`` (the name used in JSON) and a ``params`` field whose type is a
    frozen parameter model; ``param_names`` and ``params_type`` are read from that field. Bad fields raise
    :class:`~clvkit.InvalidInputError` naming them (``params.r``, ``time_unit``).
    """

    model_config = _FROZEN

    model_name: ClassVar[str] = ""
    params_type: ClassVar[type[BaseModel]]
    param_names: ClassVar[tuple[str, ...]] = ()

    #: Per process, the parameters a covariate scales: ``(position, sign)``, the parameter multiplied by
    #: ``exp(sign * z' gamma)`` (empty: the model takes no covariates).
    covariate_links: ClassVar[Links] = {}
    #: Per process, the keyword the model's methods take its covariates by, where it is not
    #: ``<process>_covariates`` (the sBG model: ``{"dropout": "covariates"}``); used in messages.
    covariate_keywords: ClassVar[Mapping[str, str]] = {}
    #: Per process, what ``exp(estimate)`` multiplies, where it is not the default reading of
    #: :meth:`coefficient_table` (the sBG model: the churn odds ``alpha/beta``).
    covariate_readings: ClassVar[Mapping[str, str]] = {}

    time_unit: str = Field("D", description="Time unit of the summaries the model was fitted on.")
    fit_info: FitInfo | None = Field(None, description="Diagnostics, or None for a model built from parameters.")
    coefficients: dict[str, dict[str, _Finite]] = Field(
        default_factory=dict,
        description="Covariate coefficients per process ({'purchase': {name: value}, 'dropout': {...}}); "
                    "empty for a model without covariates.")
    equal: list[str] = Field(default_factory=list,
                             description="Covariates constrained to one coefficient across processes.")
    time_varying: bool = Field(False, description="Fitted with time-varying covariates (Covariates.dynamic): "
                                                  "predictions then need the covariates of the prediction horizon.")

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        field = cls.model_fields.get("params")
        if field is not None and isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel):
            cls.params_type = field.annotation
            cls.param_names = tuple(field.annotation.model_fields)
        if cls.model_name:
            register(cls)

    @model_validator(mode="before")
    @classmethod
    def _count_parameters(cls, data: Any) -> Any:
        # Documents written before FitInfo.n_params existed: the number of parameters is the model's.
        if isinstance(data, dict) and isinstance(data.get("fit_info"), dict) and cls.param_names:
            info = data["fit_info"]
            if info.get("n_params") is None:
                data = {**data, "fit_info": {**info, "n_params": len(cls.param_names)}}
        return data

    def model_post_init(self, context: Any, /) -> None:
        if self.time_unit not in UNIT_DAYS:
            raise InvalidInputError(
                f"The 'time_unit' of {type(self).__name__} must be one of {list(UNIT_DAYS)}. "
                f"Got {self.time_unit!r} instead."
            )

    # ---------------------------------------------------------------- diagnostics
    @property
    def log_likelihood(self) -> float:
        """Total log-likelihood of the fit (raises :class:`NotFittedError` for a model built by hand)."""
        if self.fit_info is None:
            raise NotFittedError(
                f"This {type(self).__name__} was built from parameters, not fitted; it has no log-likelihood."
            )
        return self.fit_info.log_likelihood

    @property
    def standard_errors(self) -> dict[str, float] | None:
        """Standard errors of the parameters, or ``None``."""
        return None if self.fit_info is None else self.fit_info.standard_errors

    def param_array(self) -> FloatArray:
        """The parameters as a float64 array in the papers' order."""
        params: BaseModel = getattr(self, "params")  # noqa: B009 - declared by every subclass
        return np.array(list(params.model_dump().values()), dtype=np.float64)

    def with_param_array(self: _ModelT, values: Any) -> _ModelT:
        """A copy of this model at other parameter values (in :attr:`param_names` order), without fit diagnostics.

        Raises
        ------
        InvalidInputError
            If ``values`` has the wrong length or a value the parameter class refuses.
        """
        arr = np.asarray(values, dtype=np.float64).reshape(-1)
        if arr.shape[0] != len(self.param_names):
            raise InvalidInputError(
                f"{type(self).__name__}.with_param_array() needs {len(self.param_names)} values "
                f"{list(self.param_names)}. Got {arr.shape[0]} instead."
            )
        try:
            params = self.params_type(**dict(zip(self.param_names, arr.tolist(), strict=True)))
        except ValueError as exc:  # InvalidInputError, or ValidationError from a third-party parameter class
            raise InvalidInputError(f"{type(self).__name__}.with_param_array(): {exc}") from None
        return self.model_copy(update={"params": params, "fit_info": None})

    # ---------------------------------------------------------------- display
    def summary(self, level: float = 0.95, *, backend: str = "pandas") -> Any:
        """The parameter table: estimate, standard error and Wald interval of every parameter.

        The interval is :func:`~clvkit.valuation.checking.parameter_intervals`' (symmetric on the log scale,
        so it stays positive); the standard error is the delta-method one on the natural scale.

        Parameters
        ----------
        level:
            Coverage of the interval, in (0, 1); default 95%.
        backend:
            ``"pandas"`` (default): a DataFrame indexed by parameter name (index ``parameter``) with columns
            ``estimate, standard_error, lower, upper``. ``"polars"``: the same columns after a ``parameter``
            column (polars has no index).

        Returns
        -------
        pandas.DataFrame or polars.DataFrame
            One row per parameter, in the papers' order. For a model built from parameters, or a fit whose
            observed information was not positive definite, ``standard_error``, ``lower`` and ``upper`` are
            missing (NaN in pandas, null in polars): there is no uncertainty to report.

        Raises
        ------
        InvalidInputError
            For ``level`` outside (0, 1) or another ``backend``.
        MissingDependencyError
            If pandas (or polars) is not installed: ``pip install 'clvkit[frames]'``.

        Examples
        --------
        >>> from clvkit.datasets import load_cdnow_summary
        >>> from clvkit.valuation import BetaGeo
        >>> table = BetaGeo().fit(load_cdnow_summary()).summary()
        >>> table.round(4)  # doctest: +NORMALIZE_WHITESPACE
                   estimate  standard_error   lower   upper
        parameter
        r            0.2426          0.0126  0.2192  0.2685
        alpha        4.4136          0.3782  3.7312  5.2208
        a            0.7929          0.1857  0.5010  1.2549
        b            2.4259          0.7054  1.3720  4.2893
        """
        from ..._frames import check_backend, require
        from ..checking.uncertainty import _check_level

        where = f"{type(self).__name__}.summary()"
        lv = _check_level(level, where)
        kind = check_backend(backend, where)
        module = require(kind)
        names, estimate, se, lower, upper = self._parameter_table(lv)
        if kind == "pandas":
            return module.DataFrame({"estimate": estimate, "standard_error": se, "lower": lower, "upper": upper},
                                    index=module.Index(list(names), name="parameter"))
        return module.DataFrame({"parameter": list(names), "estimate": estimate, "standard_error": se,
                                 "lower": lower, "upper": upper})

    def _parameter_table(self, level: float) -> tuple[tuple[str, ...], list[float], list[float | None],
                                                      list[float | None], list[float | None]]:
        """Names, estimates, standard errors and interval bounds (``None`` where the fit gives no uncertainty)."""
        from ...errors import ClvkitError
        from ..checking.uncertainty import parameter_intervals

        names = tuple(self.param_names)
        estimate = [float(v) for v in self.param_array()]
        missing: list[float | None] = [None] * len(names)
        try:
            ci = parameter_intervals(self, level)  # type: ignore[arg-type]
        except ClvkitError:  # built from parameters, or no positive-definite covariance
            return names, estimate, missing, list(missing), list(missing)
        return (names, estimate, [float(v) for v in ci.standard_errors], [float(v) for v in ci.lower],
                [float(v) for v in ci.upper])

    def __repr__(self) -> str:
        params = " ".join(f"{n}={number(v)}" for n, v in zip(self.param_names, self.param_array(), strict=True))
        head = f"{type(self).__name__}({params}; time unit {self.time_unit!r}"
        info = self.fit_info
        if info is None:
            return shorten(head + "; built from parameters, not fitted)")
        state = "converged" if info.converged else "NOT converged"
        return shorten(f"{head}; LL={number(info.log_likelihood)}, {count(info.n_customers)} customers, {state})")

    def _repr_html_(self) -> str:
        return self._html(translator("en"))

    def _html(self, tr: Translator) -> str:
        """The notebook display in ``tr``'s language (parameter names stay the papers' symbols)."""
        level = f"{0.95:.0%}"
        names, estimate, se, lower, upper = self._parameter_table(0.95)
        params = table([tr("parameter"), tr("estimate"), tr("standard error"), tr("{level} lower", level=level),
                        tr("{level} upper", level=level)], zip(names, estimate, se, lower, upper, strict=True))
        info = self.fit_info
        title = tr("{model} (time unit {unit})", model=type(self).__name__, unit=repr(self.time_unit))
        if info is None:
            return block(title, params, note=tr("Built from parameters, not fitted: no standard errors or fit "
                                                "diagnostics."))
        fit = key_value_table([
            (tr("log-likelihood"), info.log_likelihood), ("AIC", info.aic), ("BIC", info.bic),
            (tr("customers"), count(info.n_customers)), (tr("distinct rows"), info.n_rows),
            (tr("converged"), tr("yes") if info.converged else tr("no")),
            (tr("iterations"), info.n_iterations), (tr("gradient norm"), info.gradient_norm),
            (tr("penalizer"), info.penalizer), (tr("seconds"), info.seconds),
        ], caption=tr("Fit"))
        note = None if se[0] is not None or not names else tr(
            "No standard errors: the observed information was not positive definite.")
        return block(title, params, fit, note=note)

    # ---------------------------------------------------------------- covariates
    @property
    def has_covariates(self) -> bool:
        """Whether the model was fitted with covariates (its predictions then need the customers' covariates)."""
        return any(self.coefficients.values())

    def coefficient_table(self, *, backend: str = "pandas") -> Any:
        """The covariate coefficients: estimate, standard error, Wald z and p, ``exp(estimate)`` and a reading.

        One row per process and covariate (index ``coefficient``, e.g. ``purchase.Gender``). Under
        CLVTools' link a scale parameter is multiplied by ``exp(-z' gamma)``, so ``exp(estimate)`` multiplies
        the purchase rate (purchase process) or the dropout rate (dropout process) per unit of the covariate:
        the ``reading`` says so in words ("purchase rate x1.87 per unit of Channel"). A regularised fit
        (``fit(..., regularization=...)``) adds the column ``l2_lambda``: the lambda each coefficient was
        penalised with (a covariate constrained ``equal``: the sum of both processes' lambdas).

        Raises
        ------
        NotFittedError
            When the model has no covariates.
        MissingDependencyError
            If pandas (or polars) is not installed.

        Examples
        --------
        Offline customers simulated to buy ``exp(0.6) = 1.82`` times as often as online ones:

        >>> import numpy as np
        >>> from clvkit import CustomerSummary
        >>> from clvkit.valuation import ParetoNBD
        >>> from clvkit.valuation.models import _paretonbd
        >>> class Columns:  # anything with names and align(customer_id) is a CovariateMatrix
        ...     names = ("offline",)
        ...     def __init__(self, z): self.z = z
        ...     def align(self, customer_id, /): return self.z[customer_id][:, None]
        >>> rng = np.random.default_rng(7)
        >>> offline = np.repeat([0.0, 1.0], 1500)
        >>> x, tx = np.empty(3000), np.empty(3000)
        >>> for g, alpha in ((0, 8.0), (1, 8.0 * np.exp(-0.6))):
        ...     x[offline == g], tx[offline == g] = _paretonbd.simulate(np.array([0.8, alpha, 0.6, 12.0]),
        ...                                                             np.full(1500, 52.0), rng)
        >>> summary = CustomerSummary(x, tx, np.full(3000, 52.0), customer_id=np.arange(3000), time_unit="W")
        >>> fitted = ParetoNBD().fit(summary, purchase_covariates=Columns(offline))
        >>> table = fitted.coefficient_table()
        >>> table[["estimate", "standard_error", "exp_estimate"]].round(2)  # doctest: +NORMALIZE_WHITESPACE
                          estimate  standard_error  exp_estimate
        coefficient
        purchase.offline      0.64            0.05           1.9
        >>> table["reading"].tolist()
        ['purchase rate x1.9 per unit of offline']
        """
        from scipy import special

        from ..._frames import check_backend, require

        where = f"{type(self).__name__}.coefficient_table()"
        if not self.has_covariates:
            raise NotFittedError(f"{where}: this model has no covariate coefficients (fit it with covariates).")
        kind = check_backend(backend, where)
        module = require(kind)
        se_all = self.standard_errors or {}
        rows: list[tuple[str, float, float | None, float | None, float | None, float, str]] = []
        rate = {"purchase": "purchase rate", "dropout": "dropout rate", "spend": "mean spend"}
        if len(self.covariate_links.get("dropout", ())) > 1:  # BG/NBD, MBG/NBD: both a and b scale, not a rate
            rate["dropout"] = "dropout probability's a and b"
        rate.update(self.covariate_readings)
        for process, values in self.coefficients.items():
            for name, value in values.items():
                key = f"{process}.{name}"
                se = se_all.get(key)
                z = None if se is None or se == 0 else value / se
                p = None if z is None else float(2.0 * special.ndtr(-abs(z)))
                factor = float(np.exp(value))
                reading = f"{rate.get(process, process)} x{factor:.3g} per unit of {name}"
                rows.append((key, value, se, z, p, factor, reading))
        cols = ["estimate", "standard_error", "z", "p_value", "exp_estimate", "reading"]
        data: dict[str, list[Any]] = {c: [r[i + 1] for r in rows] for i, c in enumerate(cols)}
        lambdas = None if self.fit_info is None else self.fit_info.regularization
        if lambdas is not None:  # a regularised fit: each coefficient's L2 lambda (an equal one: the sum)
            def lam(key: str) -> float:
                process, name = key.split(".", 1)
                if name in self.equal:
                    return sum(lambdas.get(p, 0.0) for p, values in self.coefficients.items() if name in values)
                return lambdas.get(process, 0.0)

            data["l2_lambda"] = [lam(r[0]) for r in rows]
        if kind == "pandas":
            return module.DataFrame(data, index=module.Index([r[0] for r in rows], name="coefficient"))
        return module.DataFrame({"coefficient": [r[0] for r in rows], **data})

    def _param_groups(self, summary: CustomerSummary | ContractSummary, where: str, covariates: dict[str, Any]
                      ) -> list[tuple[npt.NDArray[np.intp] | None, FloatArray]]:
        """Customers grouped by their individual parameters: ``[(positions or None for all, params)]``.

        Without covariates, one group of everyone at the model's parameters. With them, each customer's
        parameters are the model's scaled by ``exp(sign * z' gamma)`` (the fit's link), from the prediction
        covariates matched by ``summary.customer_id``.
        """
        return self._param_groups_of(summary.customer_id, where, covariates)

    def _covariate_keyword(self, process: str) -> str:
        return self.covariate_keywords.get(process, f"{process}_covariates")

    def _param_groups_of(self, ids: npt.NDArray[Any] | None, where: str, covariates: Mapping[str, Any],
                         matched_by: str | None = None) -> list[tuple[npt.NDArray[np.intp] | None, FloatArray]]:
        """:meth:`_param_groups` for the customers ``ids`` (``None``: the summary has no ids); ``matched_by`` says
        where the ids come from, for the message (default: the summary's ``customer_id``)."""
        full = f"{type(self).__name__}.{where}()"
        given = {p: c for p, c in covariates.items() if c is not None}
        if not self.has_covariates:
            if given:
                raise InvalidInputError(f"{full}: this model was fitted without covariates; do not pass "
                                        f"{', '.join(self._covariate_keyword(p) for p in given)}.")
            return [(None, self.param_array())]
        needed = [p for p, values in self.coefficients.items() if values]
        missing = [p for p in needed if p not in given]
        if missing or ids is None:
            by = matched_by or ("the summary's customer_id" + (", which this summary lacks" if ids is None else ""))
            raise InvalidInputError(
                f"{full}: this model was fitted with covariates; pass "
                f"{' and '.join(self._covariate_keyword(p) for p in needed)} for these customers (matched by "
                f"{by})."
            )
        params = self.param_array()
        log_scale = np.zeros((ids.shape[0], params.shape[0]))
        for process in needed:
            cov, coef = given[process], self.coefficients[process]
            names = tuple(str(n) for n in cov.names)
            absent = [n for n in coef if n not in names]
            if absent:
                raise InvalidInputError(f"{full}: the {process} covariates lack {absent}, which the model was "
                                        f"fitted with. Got {list(names)}.")
            z = np.asarray(cov.align(ids), dtype=np.float64)
            if z.shape != (ids.shape[0], len(names)) or not np.all(np.isfinite(z)):
                raise InvalidInputError(f"{full}: the {process} covariates must give finite values, one row per "
                                        f"customer and one column per name (shape ({ids.shape[0]}, {len(names)})).")
            eta = z[:, [names.index(n) for n in coef]] @ np.array(list(coef.values()))
            for position, sign in self.covariate_links[process]:
                log_scale[:, position] += sign * eta
        uniq, _, inverse = unique_rows([np.ascontiguousarray(c) for c in log_scale.T], np.ones(ids.shape[0]))
        groups = positions_by_group(inverse, uniq[0].shape[0])
        return [(idx, params * np.exp(np.array([c[g] for c in uniq]))) for g, idx in enumerate(groups)]

    def _new_customer_groups(self, where: str, covariates: Mapping[str, Any], customer_id: Any
                             ) -> tuple[int | None, list[tuple[npt.NDArray[np.intp] | None, FloatArray]]]:
        """Customers not yet seen, grouped by their parameters: ``(n or None, groups)``.

        The customers are ``customer_id`` or, without it, those of the covariates given (``customer_rows``);
        ``n`` is ``None`` when there are neither (one customer at the model's parameters: a model without
        covariates).
        """
        full = f"{type(self).__name__}.{where}()"
        ids = customer_rows(customer_id, covariates, full)
        matched_by = "the covariates' customer_id, or customer_id="
        return (None if ids is None else ids.shape[0]), self._param_groups_of(ids, where, covariates, matched_by)

    # ---------------------------------------------------------------- persistence
    def to_json(self, *, indent: int | None = 2) -> str:
        """Versioned JSON: ``schema``, ``schema_version``, ``model``, ``clvkit_version``, params and fit info.

        Floats are written in Python's shortest round-trip form, so :func:`clvkit.load_json` restores the
        model exactly. Covariate coefficients (and ``equal``, and the fit's ``regularization``) are written only
        for a model that has them, so documents of models without covariates are unchanged.
        """
        document = self.model_dump(mode="python")
        info = document.get("fit_info")
        if isinstance(info, dict) and info.get("regularization") is None:
            info.pop("regularization", None)  # documents of unregularised fits are unchanged
        if not self.coefficients:
            document.pop("coefficients", None)
        if not self.equal:
            document.pop("equal", None)
        if not self.time_varying:
            document.pop("time_varying", None)
        return write_document(self.model_name, document, indent=indent)

    # ---------------------------------------------------------------- helpers for subclasses
    def _check_summary(self, summary: Any, where: str) -> None:
        if not isinstance(summary, CustomerSummary):
            raise InvalidInputError(
                f"{type(self).__name__}.{where}() needs a clvkit.CustomerSummary. Got {type(summary).__name__}; "
                f"build one with clvkit.summarize() or CustomerSummary(...)."
            )
        if summary.time_unit != self.time_unit:
            raise InvalidInputError(
                f"{type(self).__name__}.{where}(): the model was fitted in time unit {self.time_unit!r} but the "
                f"summary is in {summary.time_unit!r}. Convert with summary.with_time_unit({self.time_unit!r})."
            )


def check_horizon(t: Any, where: str, name: str = "t") -> FloatArray:
    """A non-negative finite horizon (scalar or array) as float64, or a typed error."""
    try:
        arr = np.asarray(t, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        arr = np.full(1, np.nan)
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise InvalidInputError(
            f"The '{name}' parameter of {where} must be finite and non-negative. Got {t!r} instead."
        )
    return arr


#: Largest count of purchases a prediction takes: every whole number up to it is exact in float64 (2**53).
MAX_COUNT = 2.0**53


def check_count(n: Any, where: str, name: str = "n") -> FloatArray:
    """A whole number in ``[0, MAX_COUNT]`` (or an array of them) as float64, or a typed error."""
    try:
        arr = np.asarray(n, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        arr = np.full(1, np.nan)
    if not np.all(np.isfinite(arr)) or np.any(arr < 0) or np.any(arr > MAX_COUNT) or np.any(arr != np.floor(arr)):
        raise InvalidInputError(
            f"The '{name}' parameter of {where} must be a whole number in [0, 2**53] (MAX_COUNT). Got {n!r} instead."
        )
    return arr


def observed_rows(summary: CustomerSummary, where: str) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Distinct ``(frequency, recency, T)`` rows and their weights, for a count model's likelihood.

    Raises
    ------
    InvalidInputError
        When no customer was observed for any time (``T = 0`` everywhere, e.g. a log whose purchases all fall
        in one period): no purchase rate or dropout can be estimated from that.
    """
    # The summary's cached distinct rows: the fit pays the de-duplication once, and predictions on the same summary
    # reuse it (the same rows, order and sums as unique_rows with the weights).
    rows = summary._distinct_rows()
    w = rows.counts if summary.weights is None else np.bincount(rows.inverse, weights=summary.weights,
                                                                minlength=rows.counts.shape[0]).astype(np.float64)
    x, tx, T, w = (a.copy() for a in (rows.frequency, rows.recency, rows.T, w))
    _check_observed(T, w, where)
    return x, tx, T, w


def observed_rows_keyed(summary: CustomerSummary, where: str, key: npt.NDArray[np.intp]
                        ) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, npt.NDArray[np.intp]]:
    """:func:`observed_rows` of distinct ``(key, frequency, recency, T)`` rows, with each row's key.

    ``key`` (one integer per customer, e.g. the code of its covariate values) keeps customers with different
    keys - different individual parameters - in different rows; the rows are ordered by key.
    """
    k = np.asarray(key, dtype=np.float64)
    # The key first: rows come out ordered by key, so each key's rows are contiguous.
    (row_key, x, tx, T), w, _ = unique_rows([k, summary.frequency, summary.recency, summary.T],
                                            summary.weights_or_ones())
    _check_observed(T, w, where)
    return x, tx, T, w, row_key.astype(np.intp)


def _check_observed(T: FloatArray, w: FloatArray, where: str) -> None:
    if T.size and not np.any((T > 0.0) & (w > 0.0)):
        raise InvalidInputError(
            f"{where}: every customer has T = 0 (observed for no time after the first purchase), so the data cannot "
            f"identify the model. Summarize with a later observation_end or a finer time_unit."
        )


def rate_scaled_start(data: Mapping[str, npt.NDArray[Any]], weights: FloatArray) -> FloatArray:
    """Start ``(1, alpha, 1, 1)`` with ``alpha`` on the data's time scale (``r/alpha`` ~ the purchase rate).

    Unit-free: ``alpha`` scales with ``T``. Used by the BG/NBD family.
    """
    mean_T = float(weights @ data["T"]) / float(weights.sum())
    mean_x = float(weights @ data["x"]) / float(weights.sum())
    return np.array([1.0, max(mean_T, 1e-6) / max(mean_x, 0.1), 1.0, 1.0])


def frequency_matched_scale(data: Mapping[str, npt.NDArray[Any]], weights: FloatArray) -> float:
    """The ``c`` with ``mean(log(1 + T/c)) = mean(x)``: the expected repeat purchases of a Pareto/NBD customer of age
    ``T`` at ``r = s = 1``, ``alpha = beta = c`` (monotone in ``c``; bisection on the log scale). Unit-free: ``c``
    scales with ``T``. The start of the Pareto/NBD family's fits."""
    total = float(weights.sum())
    T = data["T"]
    mean_x = max(float(weights @ data["x"]) / total, 1e-3)
    mean_T = max(float(weights @ T) / total, 1e-6)
    lo, hi = math.log(mean_T) - 30.0, math.log(mean_T) + 30.0
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if float(weights @ np.log1p(T / math.exp(mid))) / total > mean_x:
            lo = mid
        else:
            hi = mid
    c = math.exp(0.5 * (lo + hi))
    return c


DataT = TypeVar("DataT")
FittedT = TypeVar("FittedT", bound=FittedModel)


class Engine(FrozenModel, Generic[DataT, FittedT]):
    """Base of every engine: estimation settings shared by all models, and the one ``fit``.

    A model declares its fitted class (``fitted_class``, which fixes the parameter names), the data type it
    reads (``data_type``), how it turns the data into compressed arrays and weights (``_prepare``), its
    log-likelihood kernel (``_loglik``) and optionally its start values (``_default_start``). Everything
    else - argument checks, the optimiser, standard errors, :class:`FitInfo`, the fitted result - is here.

    Attributes
    ----------
    penalizer:
        L2 penalty on the parameters added to the mean negative log-likelihood (0 = maximum likelihood).
    tol:
        Gradient tolerance of the optimiser.
    max_iter:
        Iteration limit of one optimiser attempt.
    initial_params:
        Optional start values by parameter name (all of them); otherwise the engine's defaults.

    Bad settings raise :class:`~clvkit.InvalidInputError` naming the setting (``BetaGeo(penalizer=-1)``).
    """

    model_config = _FROZEN

    name: ClassVar[str] = ""
    fitted_class: ClassVar[type[FittedModel]]
    data_type: ClassVar[type[Any]] = CustomerSummary
    #: How to build the data, for error messages.
    data_hint: ClassVar[str] = "build one with clvkit.summarize() or CustomerSummary(...)"
    #: What one row of the data is, for error messages.
    row_noun: ClassVar[str] = "customer"
    #: True when ``_loglik`` returns weighted totals (sufficient statistics) rather than per-row values.
    summed_loglik: ClassVar[bool] = False
    #: The kernel family of time-varying covariates (``"paretonbd"``, ``"bgnbd"``; empty: none).
    dynamic_family: ClassVar[str] = ""
    #: True when ``_loglik`` also takes ``params`` of shape (n_keys, k) on the data of ``_prepare_keyed``, each data
    #: row at the parameters of its key: customers with covariates are then evaluated in one kernel call.
    row_params: ClassVar[bool] = False
    #: Optional per-row analytic Hessian kernel: a pure function of the same ``(params, data)`` as ``_loglik``
    #: returning per-row ``(ll (n,), grad (n, k), hess (n, k, k))``, derivatives w.r.t. the natural parameters, from
    #: one pass over the rows (for a ``summed_loglik`` engine the weighted totals, shapes (1,), (1, k), (1, k, k)).
    #: When set, fits without covariates run Newton's method with it from the start (see
    #: :func:`._estimation.maximize_likelihood`). Assign a plain function or a staticmethod (it is read from the
    #: class, unbound).
    _loglik_hessian: ClassVar[Callable[[FloatArray, Mapping[str, npt.NDArray[Any]]],
                                       tuple[FloatArray, FloatArray, FloatArray]] | None] = None

    penalizer: float = Field(0.0, ge=0.0, allow_inf_nan=False)
    tol: float = Field(1e-9, gt=0.0, lt=1.0)
    max_iter: int = Field(500, gt=0)
    initial_params: dict[str, float] | None = None

    #: The parameters' names in the papers' order (the fitted class's).
    param_names: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        if "fitted_class" in cls.__dict__:
            cls.param_names = cls.fitted_class.param_names

    # To be provided by each engine -------------------------------------------------
    def _loglik(self, params: FloatArray, data: Mapping[str, npt.NDArray[Any]]) -> tuple[FloatArray, FloatArray]:
        raise NotImplementedError

    def _prepare(self, data: DataT) -> tuple[dict[str, npt.NDArray[Any]], FloatArray]:
        """Compressed data arrays and weights the likelihood is evaluated on (for a ``summed`` engine,
        sufficient statistics and ``weights`` of shape (1,) holding the number of customers)."""
        raise NotImplementedError

    def _prepare_keyed(self, data: DataT, key: npt.NDArray[np.intp]
                       ) -> tuple[dict[str, npt.NDArray[Any]], FloatArray, npt.NDArray[np.intp]]:
        """For a ``row_params`` engine: ``_prepare`` with customers of different ``key`` (one integer each) kept in
        different rows; also returns each row's key."""
        raise NotImplementedError

    def _default_start(self, data: Mapping[str, npt.NDArray[Any]], weights: FloatArray) -> FloatArray:
        return np.ones(len(self.param_names))

    def _prepare_group(self, data: DataT) -> tuple[dict[str, npt.NDArray[Any]], FloatArray]:
        """``_prepare`` of the customers of one covariate group. Whether the data identify the model is a
        property of all of them (checked by ``_prepare`` on the whole data first): an engine whose
        ``_prepare`` refuses data on that ground overrides this to compress only."""
        return self._prepare(data)

    # Shared template ----------------------------------------------------------------
    def fit(self, summary: DataT, *, purchase_covariates: Any = None, dropout_covariates: Any = None,
            equal: Any = (), spend_covariates: Any = None, regularization: Any = None,
            progress: ProgressCallback | None = None) -> FittedT:
        """Fit by maximum likelihood; returns a new immutable fitted model.

        Parameters
        ----------
        summary:
            The customers (a :class:`~clvkit.CustomerSummary`; for the sBG model a
            :class:`~clvkit.ContractSummary`, passed as ``contracts``), with optional ``weights``.
        purchase_covariates, dropout_covariates:
            Optional static covariates of the customers (a :class:`~clvkit.protocols.CovariateMatrix`, e.g.
            ``clvkit.Covariates.static(...)``), matched by ``summary.customer_id``, for the models that take
            them (``covariate_links`` of the fitted class). With CLVTools' link: a scale parameter is
            multiplied by ``exp(-z' gamma)`` (Pareto/NBD: ``alpha_i = alpha exp(-gamma_p' z_i)``,
            ``beta_i = beta exp(-gamma_d' z_i)``). The sBG model takes its covariates as ``covariates`` (its
            dropout process, ``alpha_i = alpha exp(gamma' z_i)``), matched by ``contracts.customer_id``.
            Time-varying covariates (``clvkit.Covariates.dynamic(...)``) fit Pareto/NBD (both processes) and BG/NBD
            (purchase process) on a summary made by :func:`clvkit.summarize` (which keeps the purchase dates);
            the fitted model's ``time_varying`` is then True and its predictions take the horizon's covariates.
        equal:
            Names of covariates in both processes constrained to one coefficient.
        spend_covariates:
            For the Gamma-Gamma spend model: static covariates multiplying a customer's expected spend per
            transaction by ``exp(gamma' z)`` (the scale ``v_i = v exp(gamma' z_i)``).
        regularization:
            Optional L2 regularisation of the covariate coefficients per process, CLVTools' ``reg.lambdas``:
            ``{"purchase": lam_p, "dropout": lam_d}`` (``{"spend": lam}`` for Gamma-Gamma, ``{"dropout": lam}``
            for sBG), each a finite number >= 0; a process left out is not penalised.
            ``lam_p * sum(gamma_p**2) + lam_d * sum(gamma_d**2)`` is added to the mean negative log-likelihood per
            customer fitted (Gamma-Gamma: per customer with repeat purchases), as in CLVTools, so equal lambdas
            give comparable estimates. A covariate constrained ``equal`` enters both processes and is penalised
            with ``lam_p + lam_d``. The model's own parameters are not penalised (that is ``penalizer``). The lambdas
            are kept in ``fit_info.regularization``; the log-likelihood reported is the unpenalised one, and
            the standard errors are those of the penalised objective's Hessian (a regularised estimate is
            biased towards 0, so read its Wald z and p values with care).
        progress:
            Optional callback receiving a :class:`~clvkit.valuation.FitProgress` after each iteration.

        Raises
        ------
        InvalidInputError
            If the data are of the wrong type, empty, or cannot identify the model (the message says why), or
            the covariates do not fit the customers (see :func:`._covariates.build_design`; a covariate that is
            constant, or a linear combination of others, over the customers fitted is refused, naming it), or
            ``regularization`` names an unknown process or one without covariates, or gives a lambda that is
            not a finite number >= 0.
        ConvergenceError
            If no optimum is found; the message suggests what to change.
        """
        covariates = {"purchase": purchase_covariates, "dropout": dropout_covariates, "spend": spend_covariates}
        if any_dynamic(covariates):
            return self._fit_dynamic(summary, covariates, equal, progress, regularization)
        design = self._design(summary, covariates, equal)
        lambdas = coefficient_lambdas(regularization, design, self.fitted_class.covariate_links,
                                      f"{type(self).__name__}.fit()", self.fitted_class.covariate_keywords)
        params, info, gamma = self._estimate(summary, progress, design, lambdas)
        extra: dict[str, Any] = {}
        if design is not None:
            extra["coefficients"] = {process: {name: gamma[index] if index >= 0 else 0.0 for name, index in columns}
                                     for process, columns in design.columns.items()}
            extra["equal"] = list(design.equal)
        fitted = self.fitted_class(params=self.fitted_class.params_type(**params),  # type: ignore[call-arg]
                                   time_unit=summary.time_unit,  # type: ignore[attr-defined]
                                   fit_info=info, **extra)  # (params: declared by each subclass)
        return cast(FittedT, fitted)

    def _fit_dynamic(self, summary: Any, covariates: Mapping[str, Any], equal: Any,
                     progress: ProgressCallback | None, regularization: Any = None) -> FittedT:
        """The fit with time-varying covariates (``_dynamic``): the same optimiser, covariance and FitInfo."""
        where = f"{type(self).__name__}.fit()"
        if not isinstance(summary, CustomerSummary):
            raise InvalidInputError(f"{where} takes time-varying covariates only with a clvkit.CustomerSummary.")
        if isinstance(equal, str):
            equal = (equal,)
        design = fit_design(summary, covariates, tuple(equal), self.fitted_class.covariate_links,
                            self.dynamic_family, where)
        lambdas = coefficient_lambdas(regularization, design.layout, self.fitted_class.covariate_links, where,
                                      self.fitted_class.covariate_keywords)
        # Start at the fit without covariates (compressed, fast), the coefficients at 0.
        base, _, _ = self._estimate(cast(DataT, summary), None)
        start = np.concatenate([np.array([base[p] for p in self.param_names]), np.zeros(design.layout.n_free)])
        names = self.param_names + design.layout.labels
        weights = summary.weights_or_ones()
        result = maximize_likelihood(
            dynamic_loglik(design, self.dynamic_family, np.asarray(summary.frequency, dtype=np.float64)), {},
            weights, start, model=self.name, param_names=names, penalizer=self.penalizer, tol=self.tol,
            max_iter=self.max_iter, progress=progress, n_free=design.layout.n_free, coefficient_lambdas=lambdas[1])
        params, info, gamma = self._finish(result, weights, len(summary), names, design.layout, lambdas[0])
        fitted = self.fitted_class(
            params=self.fitted_class.params_type(**params),  # type: ignore[call-arg]
            time_unit=summary.time_unit, fit_info=info, time_varying=True, equal=list(design.layout.equal),
            coefficients={process: {name: gamma[index] if index >= 0 else 0.0 for name, index in columns}
                          for process, columns in design.layout.columns.items() if columns})
        return cast(FittedT, fitted)

    def _design(self, summary: Any, covariates: Mapping[str, Any], equal: Any) -> CoefficientLayout | None:
        where = f"{type(self).__name__}.fit()"
        if all(c is None for c in covariates.values()) and not equal:
            return None
        if not isinstance(summary, (CustomerSummary, ContractSummary)):
            raise InvalidInputError(f"{where} takes covariates only with a clvkit.CustomerSummary or "
                                    f"clvkit.ContractSummary.")
        if isinstance(summary, ContractSummary) and summary.customer_id is None and any(
                c is not None for c in covariates.values()):
            raise InvalidInputError(
                f"{where}: covariates are matched to contracts by customer id, but the contracts have no "
                f"customer_id. Pass customer_id= to ContractSummary(...), one id per contract."
            )
        return build_design(summary.customer_id, covariates, equal, self.fitted_class.covariate_links, where)

    def _start(self, data: Mapping[str, npt.NDArray[Any]], weights: FloatArray) -> FloatArray:
        if self.initial_params is None:
            return self._default_start(data, weights)
        missing = [p for p in self.param_names if p not in self.initial_params]
        extra = [p for p in self.initial_params if p not in self.param_names]
        values = [self.initial_params.get(p, 0.0) for p in self.param_names]
        if missing or extra or not all(np.isfinite(v) and v > 0 for v in values):
            raise InvalidInputError(
                f"The 'initial_params' parameter of {type(self).__name__} must give a positive finite value for "
                f"each of {list(self.param_names)}. Got {self.initial_params!r} instead."
            )
        return np.array(values, dtype=np.float64)

    def _estimate(self, source: DataT, progress: ProgressCallback | None, design: CoefficientLayout | None = None,
                  regularization: tuple[dict[str, float] | None, FloatArray | None] = (None, None)
                  ) -> tuple[dict[str, float], FitInfo, list[float]]:
        kind = self.data_type
        if not isinstance(source, kind):
            raise InvalidInputError(
                f"{type(self).__name__}.fit() needs a clvkit.{kind.__name__}. Got {type(source).__name__}; "
                f"{self.data_hint}."
            )
        data, weights = self._prepare(source)
        if weights.shape[0] == 0 or not float(weights.sum()) > 0:
            raise InvalidInputError(f"{type(self).__name__}.fit() needs at least one {self.row_noun} to fit. Got none.")
        loglik: LogLikelihood = self._loglik
        names = self.param_names
        start = self._start(data, weights)
        n_rows = max((int(v.shape[0]) for v in data.values() if v.ndim == 1), default=0)
        n_free = 0
        total_weight: float | None = None
        hessian: Callable[[FloatArray], tuple[FloatArray, int]] | None = None
        summed = self.summed_loglik
        # Read from the class: a plain function stored there is not bound to the engine.
        loglik_hessian: LogLikelihoodHessian | None = type(self)._loglik_hessian
        # Covariates that are zero for every customer leave no coefficient free: exactly the fit without them.
        if design is not None and design.n_free:
            likelihood, weights, n_rows = self._covariate_likelihood(source, design)
            loglik, data, summed, hessian = likelihood, {}, True, likelihood.hessian
            loglik_hessian = None  # the covariate route keeps its chain-rule Hessian
            total_weight = float(weights.sum())
            n_free = design.n_free
            start = np.concatenate([start, np.zeros(n_free)])
            names = names + design.labels
        result = maximize_likelihood(
            loglik,
            data,
            weights,
            start,
            model=self.name,
            param_names=names,
            penalizer=self.penalizer,
            tol=self.tol,
            max_iter=self.max_iter,
            progress=progress,
            summed=summed,
            total_weight=total_weight,
            n_free=n_free,
            coefficient_lambdas=regularization[1],
            hessian=hessian,
            loglik_hessian=loglik_hessian,
        )
        return self._finish(result, weights, n_rows, names, design, regularization[0])

    def _finish(self, result: Any, weights: FloatArray, n_rows: int, names: tuple[str, ...],
                design: CoefficientLayout | None, regularization: dict[str, float] | None = None
                ) -> tuple[dict[str, float], FitInfo, list[float]]:
        """The model parameters, the :class:`FitInfo` and the coefficients of an optimiser result."""
        k = len(self.param_names)
        covariance, standard_errors = result.covariance, result.standard_errors
        if covariance is not None and standard_errors is not None and not (
                np.all(np.isfinite(covariance)) and np.all(np.isfinite(standard_errors))):
            # The delta method overflows for parameters near 1e160: as unusable as a Hessian that is not
            # positive definite, and reported the same way (a NaN could not be saved by to_json()).
            covariance = standard_errors = None
            warnings.warn(
                f"{self.name}: the covariance of the parameters overflows at the optimum; standard errors are not "
                f"available (the parameters are extreme: check the data's time unit and scale).",
                ConvergenceWarning,
                stacklevel=4,  # at the caller of fit() (fit -> _estimate/_fit_dynamic -> _finish)
            )
        info = FitInfo(
            log_likelihood=result.log_likelihood,
            n_customers=float(weights.sum()),
            n_rows=n_rows,
            n_iterations=result.n_iterations,
            n_evaluations=result.n_evaluations,
            converged=result.converged,
            gradient_norm=result.gradient_norm,
            message=result.message,
            penalizer=self.penalizer,
            n_params=len(names),
            standard_errors=(None if standard_errors is None
                             else _standard_errors(names, standard_errors, design)),
            # The model parameters' block: what parameter_intervals() and summary() read.
            covariance=None if covariance is None else covariance[:k, :k].tolist(),
            seconds=result.seconds,
            regularization=regularization,
        )
        values = result.params.tolist()
        return dict(zip(names[:k], values[:k], strict=True)), info, values[k:]


    def _covariate_likelihood(self, source: Any, design: CoefficientLayout
                              ) -> tuple[CovariateLikelihood, FloatArray, int]:
        """The likelihood over ``(params, gamma)`` of customers grouped by their covariate rows (see
        :mod:`._covariates`), the customers' weights and the number of rows the kernel evaluates.

        An engine with ``row_params`` compresses all customers at once on distinct ``(group, data)`` rows and
        is called once per evaluation with every group's parameters; any other engine compresses each group with
        its own ``_prepare`` and is called once per group.
        """
        row_group, z = group_codes(design)
        n_groups = next(iter(z.values())).shape[0]
        links = self.fitted_class.covariate_links
        k = len(self.param_names)
        if self.row_params:
            data, weights, key = self._prepare_keyed(source, row_group)
            return CovariateLikelihood(partial(self._loglik, data=data), key, weights, z, links, k), weights, \
                int(weights.shape[0])
        prepared = [self._prepare_group(source.take(idx)) for idx in positions_by_group(row_group, n_groups)]
        kernel = per_group_kernel(self._loglik, [p[0] for p in prepared])
        weights = np.concatenate([p[1] for p in prepared])
        if self.summed_loglik:  # one weighted total per group
            groups, row_weights = np.arange(n_groups, dtype=np.intp), np.ones(n_groups)
        else:
            groups = np.repeat(np.arange(n_groups, dtype=np.intp), [p[1].shape[0] for p in prepared])
            row_weights = weights
        return CovariateLikelihood(kernel, groups, row_weights, z, links, k), weights, int(weights.shape[0])


def _standard_errors(names: tuple[str, ...], se: FloatArray, design: CoefficientLayout | None) -> dict[str, float]:
    """Standard errors by name; a coefficient constrained equal across processes is listed under each process."""
    out = dict(zip(names, se.tolist(), strict=True))
    if design is not None:
        k = len(names) - design.n_free
        for process, columns in design.columns.items():
            for name, index in columns:
                if index >= 0:
                    out[f"{process}.{name}"] = float(se[k + index])
        for name in design.equal:
            out.pop(name, None)
    return out
