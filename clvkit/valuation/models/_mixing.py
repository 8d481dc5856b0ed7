"""How customers differ: the mixing distributions of a count model's individual-level rates and probabilities.

The BG/NBD, MBG/NBD, Pareto/NBD and BG/BB models let each customer have their own purchase rate (or
probability) and dropout rate (or probability), drawn from a Gamma or Beta distribution whose parameters are
the model's. :class:`MixingDistribution` names the quantity and holds the frozen :mod:`scipy.stats`
distribution, so model checking and plots read densities without knowing the model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import stats

__all__ = ["MixingDistribution", "beta_mixing", "gamma_mixing"]

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class MixingDistribution:
    """The distribution of one individual-level quantity across customers.

    Attributes
    ----------
    quantity:
        What varies, e.g. ``"purchase rate"`` or ``"dropout probability"``.
    symbol:
        The papers' symbol (``"lambda"``, ``"p"``, ``"mu"``, ``"theta"``).
    per:
        What the quantity is counted per: a time unit name (``"W"``) for rates, ``"purchase"`` or
        ``"opportunity"`` for probabilities.
    family:
        E.g. ``"Gamma(r=0.243, alpha=4.414)"``.
    distribution:
        The frozen :mod:`scipy.stats` distribution (``pdf``, ``cdf``, ``ppf``, ``mean``, ``var``).
    """

    quantity: str
    symbol: str
    per: str
    family: str
    distribution: Any

    def pdf(self, x: Any) -> FloatArray:
        """The density at ``x``."""
        return np.asarray(self.distribution.pdf(np.asarray(x, dtype=np.float64)), dtype=np.float64)

    def ppf(self, q: Any) -> FloatArray:
        """The quantiles at probabilities ``q``."""
        return np.asarray(self.distribution.ppf(np.asarray(q, dtype=np.float64)), dtype=np.float64)

    def mean(self) -> float:
        return float(self.distribution.mean())

    def var(self) -> float:
        return float(self.distribution.var())


def gamma_mixing(quantity: str, symbol: str, per: str, shape: float, rate: float, names: tuple[str, str]
                 ) -> MixingDistribution:
    """Gamma(shape, rate) (mean ``shape / rate``), e.g. the purchase rates lambda ~ Gamma(r, alpha)."""
    return MixingDistribution(quantity, symbol, per, f"Gamma({names[0]}={shape:.4g}, {names[1]}={rate:.4g})",
                              stats.gamma(a=shape, scale=1.0 / rate))


def beta_mixing(quantity: str, symbol: str, per: str, a: float, b: float, names: tuple[str, str]
                ) -> MixingDistribution:
    """Beta(a, b), e.g. the dropout probabilities p ~ Beta(a, b)."""
    return MixingDistribution(quantity, symbol, per, f"Beta({names[0]}={a:.4g}, {names[1]}={b:.4g})",
                              stats.beta(a, b))
