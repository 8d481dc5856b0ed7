"""The BG/BB model (Fader, Hardie & Shang 2010) for discrete transaction opportunities.

Engine :class:`BetaGeoBetaBinom`, result :class:`FittedBetaGeoBetaBinom`, parameters
:class:`BetaGeoBetaBinomParams`. The model reads a :class:`~clvkit.CustomerSummary` whose columns mean:
``frequency`` = x, the number of transactions in opportunities 1..n (the first, "trial" transaction at
opportunity 0 not counted); ``recency`` = t_x, the opportunity of the last transaction (0 when x = 0);
``T`` = n, the number of transaction opportunities observed. All three are whole numbers with
``x <= t_x <= n``; the summary's ``time_unit`` names the length of one opportunity (e.g. ``"Y"``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from ..._rows import unique_rows
from ..._validation import check_scalar, raise_if, row_problem
from ...batch import CustomerSummary
from ...errors import InvalidInputError, ModelDomainError, Problem
from . import _bgbb
from ._base import Engine, FittedModel, ModelParams, PositiveFinite
from ._count import CountKernel, FittedCountModel
from ._mixing import MixingDistribution, beta_mixing

__all__ = [
    "BetaGeoBetaBinom",
    "BetaGeoBetaBinomParams",
    "FittedBetaGeoBetaBinom",
    "check_discrete_summary",
    "check_opportunities",
]

FloatArray = npt.NDArray[np.float64]

_MIN_DISCOUNT_RATE = 1e-7


class BetaGeoBetaBinomParams(ModelParams):
    """BG/BB parameters: transaction probability p ~ Beta(``alpha``, ``beta``), dropout theta ~ Beta(``gamma``,
    ``delta``)."""

    alpha: PositiveFinite
    beta: PositiveFinite
    gamma: PositiveFinite
    delta: PositiveFinite


def check_discrete_summary(summary: CustomerSummary, where: str) -> None:
    """Check that a summary describes discrete opportunities; raise one typed error listing every problem.

    ``T`` (opportunities) and ``recency`` (opportunity of the last transaction) must be whole numbers, and
    ``frequency`` cannot exceed ``recency`` (at most one transaction per opportunity). The summary itself
    already guarantees finiteness, non-negativity, whole ``frequency``, ``recency <= T`` and
    ``recency == 0`` where ``frequency == 0``.

    Raises
    ------
    InvalidInputError
        Naming each failing column, how many rows fail and the first of them.
    """
    if not isinstance(summary, CustomerSummary):
        raise InvalidInputError(
            f"{where} needs a clvkit.CustomerSummary. Got {type(summary).__name__}; build one with "
            f"CustomerSummary(frequency=x, recency=t_x, T=n)."
        )
    x, tx, n = summary.frequency, summary.recency, summary.T
    ids = summary.customer_id
    problems: list[Problem | None] = [
        row_problem(n != np.floor(n), "T", "must be a whole number of transaction opportunities for the BG/BB model",
                    "Count opportunities (e.g. years or campaigns) rather than time.", ids),
        row_problem(tx != np.floor(tx), "recency",
                    "must be a whole number: the opportunity of the last transaction for the BG/BB model",
                    "Use the index of the opportunity (1..T) of the last transaction.", ids),
        row_problem(x > tx, "frequency", "must not exceed recency (at most one transaction per opportunity)",
                    "Count opportunities with a transaction, not transactions.", ids),
    ]
    raise_if(problems, f"The summary passed to {where}")


def check_opportunities(t: Any, where: str, name: str = "t") -> FloatArray:
    """A non-negative whole number of opportunities (scalar or array) as float64, or a typed error."""
    try:
        arr = np.asarray(t, dtype=np.float64)
    except (TypeError, ValueError):
        arr = np.full(1, np.nan)
    if not np.all(np.isfinite(arr)) or np.any(arr < 0) or np.any(arr != np.floor(arr)):
        raise InvalidInputError(
            f"The '{name}' parameter of {where} must be a non-negative whole number of transaction "
            f"opportunities. Got {t!r} instead."
        )
    return arr


class FittedBetaGeoBetaBinom(FittedCountModel):
    """A BG/BB model with known parameters; every prediction is vectorised over a summary.

    Build it by fitting (:meth:`BetaGeoBetaBinom.fit`) or directly from parameters. Horizons count
    transaction opportunities.

    Examples
    --------
    The published estimates for the donations data (Fader, Hardie & Shang 2010); donors who
    last gave in 1995 (x = 0), 1999 (x = 2, t_x = 4) and 2001 (x = 6) after n = 6 opportunities:

    >>> from clvkit import CustomerSummary
    >>> m = FittedBetaGeoBetaBinom(
    ...     params=BetaGeoBetaBinomParams(alpha=1.204, beta=0.750, gamma=0.657, delta=2.783), time_unit="Y")
    >>> s = CustomerSummary(frequency=[0, 2, 6], recency=[0, 4, 6], T=[6, 6, 6], time_unit="Y")
    >>> m.probability_alive(s).round(2).tolist()  # P(alive in 2002), Table 6: 0.11, 0.59, 0.93
    [0.11, 0.59, 0.93]
    >>> m.expected_purchases(s, 5).round(3).tolist()
    [0.073, 1.057, 3.752]
    >>> m.discounted_expected_residual_transactions(s, 0.1).round(3).tolist()
    [0.115, 1.665, 5.909]
    """

    model_name: ClassVar[str] = "BetaGeoBetaBinom"
    kernel: ClassVar[CountKernel] = _bgbb
    params: BetaGeoBetaBinomParams

    def transaction_rate_distribution(self) -> MixingDistribution:
        """How transaction probabilities (per opportunity, while alive) vary: p ~ Beta(``alpha``, ``beta``)."""
        return beta_mixing("transaction probability", "p", "opportunity", self.params.alpha, self.params.beta,
                           ("alpha", "beta"))

    def dropout_distribution(self) -> MixingDistribution:
        """How dropout probabilities (per opportunity) vary: theta ~ Beta(``gamma``, ``delta``)."""
        return beta_mixing("dropout probability", "theta", "opportunity", self.params.gamma, self.params.delta,
                           ("gamma", "delta"))


    def _customers(self, summary: CustomerSummary, where: str) -> tuple[FloatArray, FloatArray, FloatArray]:
        self._check_summary(summary, where)
        check_discrete_summary(summary, f"FittedBetaGeoBetaBinom.{where}()")
        return summary.frequency, summary.recency, summary.T

    def _check_t(self, t: Any, where: str, name: str = "t") -> FloatArray:
        return check_opportunities(t, f"FittedBetaGeoBetaBinom.{where}()", name)

    def _check_rate(self, discount_rate: Any, where: str) -> float:
        """``d`` per opportunity: 0 (when ``gamma > 1``), or finite and at least 1e-7 (below that the continued
        fraction for eq. 14 would need more than ~50,000 steps; the value is then within ~1e-7 relative of a
        nearby rate anyway)."""
        d = check_scalar(discount_rate, "discount_rate", where, low=0.0, high=np.inf, high_open=True)
        if 0.0 < d < _MIN_DISCOUNT_RATE:
            raise InvalidInputError(
                f"The 'discount_rate' parameter of {where} must be 0 or at least {_MIN_DISCOUNT_RATE:g}. "
                f"Got {discount_rate!r} instead."
            )
        if d == 0.0 and self.params.gamma <= 1.0:
            raise ModelDomainError(
                f"{where}: with discount_rate = 0 the expected residual transactions are infinite for "
                f"gamma <= 1 (gamma = {self.params.gamma!r}). Pass a positive discount_rate."
            )
        return d


def _data_hessian(params: FloatArray, data: Mapping[str, FloatArray]) -> tuple[FloatArray, FloatArray, FloatArray]:
    """:func:`._bgbb.loglik_hessian` on the data of :meth:`BetaGeoBetaBinom._prepare` (its ``_loglik_hessian``)."""
    return _bgbb.loglik_hessian(params, data["x"], data["tx"], data["n"])


class BetaGeoBetaBinom(Engine[CustomerSummary, FittedBetaGeoBetaBinom]):
    """BG/BB engine: maximum-likelihood fit on a :class:`~clvkit.CustomerSummary` of discrete opportunities.

    ``frequency`` = x, ``recency`` = t_x and ``T`` = n (see the module docstring). Uses the shared
    estimation routine on the compressed rows (a BG/BB data set has at most (n+1)(n+2)/2 distinct rows
    per n), with the analytic gradient of eq. (5).

    Examples
    --------
    The donations data of Fader, Hardie & Shang (2010): 11,104 donors, 6 opportunities (1996-2001),
    22 distinct (x, t_x) patterns with their counts as weights.

    >>> from clvkit import CustomerSummary
    >>> x = [0, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 5, 5, 6]
    >>> tx = [0, 1, 2, 3, 4, 5, 6, 2, 3, 4, 5, 6, 3, 4, 5, 6, 4, 5, 6, 5, 6, 6]
    >>> w = [3464, 1091, 277, 129, 78, 119, 129, 613, 255, 155, 173, 234, 322, 181, 225, 357, 240, 284,
    ...      512, 335, 728, 1203]
    >>> s = CustomerSummary(frequency=x, recency=tx, T=[6] * 22, weights=w, time_unit="Y")
    >>> fitted = BetaGeoBetaBinom().fit(s)
    >>> {k: round(v, 3) for k, v in fitted.params.model_dump().items()}
    {'alpha': 1.204, 'beta': 0.75, 'gamma': 0.657, 'delta': 2.783}
    >>> round(fitted.log_likelihood, 1)
    -33225.6
    >>> fitted.fit_info.n_rows  # the 22 distinct patterns
    22
    """

    name: ClassVar[str] = "BetaGeoBetaBinom"
    fitted_class: ClassVar[type[FittedModel]] = FittedBetaGeoBetaBinom
    _loglik_hessian = _data_hessian

    def _loglik(self, params: FloatArray, data: Mapping[str, FloatArray]) -> tuple[FloatArray, FloatArray]:
        return _bgbb.loglik(params, data["x"], data["tx"], data["n"])

    def _prepare(self, summary: CustomerSummary) -> tuple[dict[str, FloatArray], FloatArray]:
        check_discrete_summary(summary, f"{type(self).__name__}.fit()")
        (x, tx, n), w, _ = unique_rows([summary.frequency, summary.recency, summary.T], summary.weights_or_ones())
        return {"x": x, "tx": tx, "n": n}, w
