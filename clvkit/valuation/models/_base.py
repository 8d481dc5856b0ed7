"""What every valuation engine shares: configuration, the fit template, fit diagnostics, fitted results.

An engine is a frozen Pydantic configuration (penalizer, tolerances, start values) that declares its
parameter names, how it reads a :class:`~clvkit.CustomerSummary`, its start values and its
log-likelihood kernel. :meth:`Engine._estimate` runs the shared routine of :mod:`._estimation` on the
compressed data and returns natural-scale parameters plus a :class:`FitInfo`. A fitted model is another
frozen Pydantic object holding the parameters, the time unit and the :class:`FitInfo`; it persists as
versioned JSON through :mod:`clvkit.persistence`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field

from ..._timeunits import UNIT_DAYS
from ..._version import __version__
from ...batch import CustomerSummary
from ...errors import InvalidInputError, NotFittedError
from ._estimation import FitProgress, LogLikelihood, maximize_likelihood

__all__ = ["SCHEMA", "SCHEMA_VERSION", "Engine", "FitInfo", "FittedModel", "ProgressCallback"]

FloatArray = npt.NDArray[np.float64]
ProgressCallback = Callable[[FitProgress], None]

SCHEMA = "clvkit.fitted_model"
SCHEMA_VERSION = 1

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class FitInfo(BaseModel):
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
        Optimiser iterations and log-likelihood(+gradient) evaluations on the compressed rows.
    converged, gradient_norm, message:
        Convergence diagnostics; ``gradient_norm`` is the infinity norm of the gradient of the mean
        negative log-likelihood on the log-parameter scale.
    penalizer:
        The L2 penalty used.
    standard_errors, covariance:
        From the observed information (inverse Hessian of the negative log-likelihood), on the natural
        scale by the delta method; ``None`` when the Hessian is not positive definite.
    seconds:
        Wall time of the optimisation.
    """

    model_config = _FROZEN

    log_likelihood: float
    n_customers: float
    n_rows: int
    n_iterations: int
    n_evaluations: int
    converged: bool
    gradient_norm: float
    message: str
    penalizer: float
    standard_errors: dict[str, float] | None = None
    covariance: list[list[float]] | None = None
    seconds: float = 0.0

    @property
    def aic(self) -> float:
        """Akaike information criterion, ``2k - 2 LL``."""
        k = len(self.standard_errors) if self.standard_errors is not None else _n_params(self)
        return 2.0 * k - 2.0 * self.log_likelihood

    @property
    def bic(self) -> float:
        """Bayesian information criterion, ``k log(n) - 2 LL`` with n the number of customers."""
        k = len(self.standard_errors) if self.standard_errors is not None else _n_params(self)
        return k * float(np.log(self.n_customers)) - 2.0 * self.log_likelihood


def _n_params(info: FitInfo) -> int:
    return len(info.covariance) if info.covariance is not None else 0


class FittedModel(BaseModel):
    """Base of every fitted model: frozen parameters, the time unit they are in, and fit diagnostics.

    Subclasses declare ``model_name`` (the name used in JSON) and a ``params`` field.
    """

    model_config = _FROZEN

    model_name: ClassVar[str] = ""

    time_unit: str = Field("D", description="Time unit of the summaries the model was fitted on.")
    fit_info: FitInfo | None = Field(None, description="Diagnostics, or None for a model built from parameters.")

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        if cls.model_name:
            from ...persistence import register

            register(cls)

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
        params = getattr(self, "params")  # noqa: B009 - declared by every subclass
        return np.array(list(params.model_dump().values()), dtype=np.float64)

    # ---------------------------------------------------------------- persistence
    def to_json(self, *, indent: int | None = 2) -> str:
        """Versioned JSON: ``schema``, ``schema_version``, ``model``, ``clvkit_version``, params and fit info.

        Floats are written in Python's shortest round-trip form, so :func:`clvkit.load_json` restores the
        model exactly.
        """
        body = self.model_dump(mode="python")
        document = {
            "schema": SCHEMA,
            "schema_version": SCHEMA_VERSION,
            "model": self.model_name,
            "clvkit_version": __version__,
            **body,
        }
        return json.dumps(document, indent=indent, allow_nan=False)

    # ---------------------------------------------------------------- helpers for subclasses
    def _check_summary(self, summary: CustomerSummary, where: str) -> None:
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
    arr = np.asarray(t, dtype=np.float64)
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise InvalidInputError(
            f"The '{name}' parameter of {where} must be finite and non-negative. Got {t!r} instead."
        )
    return arr


class Engine(BaseModel):
    """Base of every engine: estimation settings shared by all models.

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
    """

    model_config = _FROZEN

    name: ClassVar[str] = ""
    param_names: ClassVar[tuple[str, ...]] = ()
    #: True when ``_loglik`` returns weighted totals (sufficient statistics) rather than per-row values.
    summed_loglik: ClassVar[bool] = False

    penalizer: float = Field(0.0, ge=0.0, allow_inf_nan=False)
    tol: float = Field(1e-9, gt=0.0, lt=1.0)
    max_iter: int = Field(500, gt=0)
    initial_params: dict[str, float] | None = None

    # To be provided by each engine -------------------------------------------------
    def _loglik(self, params: FloatArray, data: Mapping[str, npt.NDArray[Any]]) -> tuple[FloatArray, FloatArray]:
        raise NotImplementedError

    def _prepare(self, summary: CustomerSummary) -> tuple[dict[str, npt.NDArray[Any]], FloatArray]:
        """Compressed data arrays and weights the likelihood is evaluated on (for a ``summed`` engine,
        sufficient statistics and ``weights`` of shape (1,) holding the number of customers)."""
        raise NotImplementedError

    def _default_start(self, data: Mapping[str, npt.NDArray[Any]], weights: FloatArray) -> FloatArray:
        return np.ones(len(self.param_names))

    # Shared template ----------------------------------------------------------------
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

    def _estimate(
        self, summary: CustomerSummary, progress: ProgressCallback | None
    ) -> tuple[dict[str, float], FitInfo]:
        if not isinstance(summary, CustomerSummary):
            raise InvalidInputError(
                f"{type(self).__name__}.fit() needs a clvkit.CustomerSummary. Got {type(summary).__name__}; "
                f"build one with clvkit.summarize() or CustomerSummary(...)."
            )
        data, weights = self._prepare(summary)
        if weights.shape[0] == 0 or not float(weights.sum()) > 0:
            raise InvalidInputError(f"{type(self).__name__}.fit() needs at least one customer to fit. Got none.")
        loglik: LogLikelihood = self._loglik
        result = maximize_likelihood(
            loglik,
            data,
            weights,
            self._start(data, weights),
            model=self.name,
            param_names=self.param_names,
            penalizer=self.penalizer,
            tol=self.tol,
            max_iter=self.max_iter,
            progress=progress,
            summed=self.summed_loglik,
        )
        names = self.param_names
        info = FitInfo(
            log_likelihood=result.log_likelihood,
            n_customers=float(weights.sum()),
            n_rows=max((int(v.shape[0]) for v in data.values() if v.ndim == 1), default=0),
            n_iterations=result.n_iterations,
            n_evaluations=result.n_evaluations,
            converged=result.converged,
            gradient_norm=result.gradient_norm,
            message=result.message,
            penalizer=self.penalizer,
            standard_errors=(None if result.standard_errors is None
                             else dict(zip(names, result.standard_errors.tolist(), strict=True))),
            covariance=None if result.covariance is None else result.covariance.tolist(),
            seconds=result.seconds,
        )
        return dict(zip(names, result.params.tolist(), strict=True)), info
