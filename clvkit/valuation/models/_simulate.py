"""Vectorised simulation of customer summaries from a BG/NBD model (for bootstraps and coverage checks).

Pure kernel: parameters and arrays in, arrays out; randomness only through the ``numpy.random.Generator``
the caller passes.

The BG/NBD story (Fader, Hardie & Lee 2005, section 3): while active, a customer buys as a Poisson
process of rate ``lambda ~ Gamma(r, rate alpha)``; after each *repeat* purchase they drop out with
probability ``p ~ Beta(a, b)``, so the number of repeat purchases they would make given unlimited time is
``J ~ Geometric(p)`` on ``1, 2, ...``. Over ``(0, T]`` the observed frequency is ``X = min(N, J)`` with
``N ~ Poisson(lambda T)``. Given ``N = n``, the ``n`` purchase times are ``n`` ordered uniforms on
``(0, T)``, so the time of the ``X``-th one is ``T * Beta(X, n - X + 1)``: one draw per customer, no loop
over purchases.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["simulate_bgnbd"]

FloatArray = npt.NDArray[np.float64]


def simulate_bgnbd(
    params: FloatArray, T: FloatArray, rng: np.random.Generator
) -> tuple[FloatArray, FloatArray]:
    """Draw ``(frequency, recency)`` for customers observed for ``T`` time units under BG/NBD.

    Parameters
    ----------
    params:
        ``(r, alpha, a, b)``, natural scale.
    T:
        Array of shape (n_customers,): time from each customer's first purchase to the end of observation.
    rng:
        The random generator to draw from.

    Returns
    -------
    (frequency, recency):
        Arrays of shape (n_customers,); ``recency`` is 0 where ``frequency`` is 0.

    Examples
    --------
    >>> x, tx = simulate_bgnbd(np.array([0.25, 4.0, 0.8, 2.4]), np.full(3, 39.0), np.random.default_rng(1))
    >>> x.shape, bool(np.all(tx <= 39.0))
    ((3,), True)
    """
    r, alpha, a, b = (float(v) for v in params)
    T = np.asarray(T, dtype=np.float64)
    n_customers = T.shape[0]
    lam = rng.gamma(shape=r, scale=1.0 / alpha, size=n_customers)
    p = rng.beta(a, b, size=n_customers)
    # p can underflow to exactly 0 for small a; such a customer never drops out (J is unbounded).
    never = p <= 0.0
    J = rng.geometric(np.where(never, 0.5, p)).astype(np.float64)
    J[never] = np.inf
    N = rng.poisson(lam * T).astype(np.float64)
    x = np.minimum(N, J)
    pos = x > 0
    tx = np.zeros(n_customers)
    tx[pos] = T[pos] * rng.beta(x[pos], N[pos] - x[pos] + 1.0)
    return x, tx
