"""Parametric bootstrap: data sets simulated from a fitted count model and refitted.

For when the normal approximation of :mod:`.uncertainty` is doubtful (small samples, parameters near a
boundary). Every count model simulates through its own ``simulate(T, seed=...)``
(:class:`clvkit.protocols.CountModel`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from ..._deprecation import MISSING, renamed_argument
from ..._local_warnings import silenced
from ...batch import CustomerSummary
from ...errors import ConvergenceError, ConvergenceWarning, InvalidInputError
from ...protocols import CountModel
from .uncertainty import Seed, _check_count, _check_level, _param_names, _rng, _ro

__all__ = ["MAX_BOOTSTRAP_DRAWS", "BootstrapResult", "Fitter", "parametric_bootstrap"]

#: Most replicates :func:`parametric_bootstrap` refits (``n_draws``): each is a whole fit.
MAX_BOOTSTRAP_DRAWS = 10_000

FloatArray = npt.NDArray[np.float64]


class Fitter(Protocol):
    """An engine: ``fit(summary)`` returns a fitted count model (every count engine of clvkit plays it)."""

    def fit(self, data: Any, *, progress: Any = None) -> Any: ...


@dataclass(frozen=True)
class BootstrapResult:
    """Parameter estimates refitted on data simulated from a fitted model.

    Attributes
    ----------
    names:
        Parameter names.
    estimate:
        The original estimates, shape (n_params,).
    draws:
        Refitted estimates, shape (n_ok, n_params).
    n_failed:
        Replicates whose refit did not converge (left out of ``draws``).
    """

    names: tuple[str, ...]
    estimate: FloatArray
    draws: FloatArray
    n_failed: int

    @property
    def standard_errors(self) -> FloatArray:
        """Bootstrap standard deviation of each parameter."""
        return _ro(np.std(self.draws, axis=0, ddof=1))

    def intervals(self, level: float = 0.9) -> dict[str, tuple[float, float]]:
        """Percentile intervals ``{name: (lower, upper)}``."""
        lv = _check_level(level, "BootstrapResult.intervals()")
        lo, hi = np.quantile(self.draws, [0.5 - 0.5 * lv, 0.5 + 0.5 * lv], axis=0)
        return {n: (float(a), float(b)) for n, a, b in zip(self.names, lo, hi, strict=True)}


def _customer_ages(summary: CustomerSummary, where: str) -> FloatArray:
    """``T`` of every customer, repeating weighted rows (weights must be whole numbers)."""
    if summary.weights is None:
        return summary.T
    w = summary.weights
    if not np.all(w == np.floor(w)):
        raise InvalidInputError(f"{where} simulates one customer per unit of weight, so the summary's weights must "
                                f"be whole numbers. Pass the uncompressed summary.")
    return np.repeat(summary.T, w.astype(np.intp))


def parametric_bootstrap(
    engine: Fitter,
    fitted: CountModel,
    summary: CustomerSummary,
    n_draws: int = MISSING,
    *,
    seed: Seed,
    n_boot: int = MISSING,
) -> BootstrapResult:
    """Simulate data sets from the fitted model with the customers' own ``T`` and refit each one.

    Works for every count model (BG/NBD, MBG/NBD, Pareto/NBD, BG/BB): each simulates through its own
    ``simulate(T, seed=...)`` (vectorised simulators in :mod:`clvkit.valuation.models._simulate`).
    Replicates whose refit raises :class:`~clvkit.ConvergenceError` are counted in ``n_failed``; the refits'
    standard-error warnings are not relevant here and are silenced within the call only.

    Parameters
    ----------
    engine:
        The engine to refit with (its settings, e.g. ``penalizer``, are kept).
    fitted:
        The fitted model to simulate from.
    summary:
        The customers (their ``T`` is reused).
    n_draws:
        Number of replicates (``n_boot`` is its deprecated spelling).
    seed:
        Seed or ``numpy.random.Generator``.

    Returns
    -------
    BootstrapResult

    Raises
    ------
    InvalidInputError
        For a model that cannot simulate, non-integer weights, or ``n_draws`` above
        :data:`MAX_BOOTSTRAP_DRAWS` (checked before any refit).

    Examples
    --------
    >>> from clvkit.datasets import load_cdnow_summary
    >>> from clvkit.valuation import BetaGeo
    >>> s = load_cdnow_summary()
    >>> engine = BetaGeo()
    >>> boot = parametric_bootstrap(engine, engine.fit(s), s, 20, seed=5)
    >>> boot.draws.shape, boot.n_failed
    ((20, 4), 0)
    """
    where = "parametric_bootstrap()"
    n = _check_count(renamed_argument(n_draws, n_boot, new="n_draws", old="n_boot", where=where), "n_draws", where,
                     high=MAX_BOOTSTRAP_DRAWS, high_name="MAX_BOOTSTRAP_DRAWS")
    if not isinstance(fitted, CountModel):
        raise InvalidInputError(f"{where} simulates from a fitted count model (BG/NBD, MBG/NBD, Pareto/NBD, BG/BB). "
                                f"Got {type(fitted).__name__}; use parameter_intervals() for the asymptotic "
                                f"intervals instead.")
    if not isinstance(summary, CustomerSummary):
        raise InvalidInputError(f"{where} needs a clvkit.CustomerSummary. Got {type(summary).__name__} instead.")
    if not callable(getattr(engine, "fit", None)):
        raise InvalidInputError(f"The 'engine' parameter of {where} must be an engine with fit(). "
                                f"Got {type(engine).__name__} instead.")
    T = _customer_ages(summary, where)
    params = fitted.param_array()
    rng = _rng(seed, where)
    rows: list[FloatArray] = []
    failed = 0
    for _ in range(n):
        sim = fitted.simulate(T, seed=rng)
        try:
            with silenced(ConvergenceWarning):  # this thread only; warnings.filters stay as they are
                refit = engine.fit(sim)
        except ConvergenceError:
            failed += 1
            continue
        rows.append(np.asarray(refit.param_array(), dtype=np.float64))
    draws = np.array(rows, dtype=np.float64).reshape(len(rows), params.shape[0])
    return BootstrapResult(names=_param_names(fitted), estimate=_ro(params), draws=_ro(draws), n_failed=failed)
