"""Vectorised simulation of customer summaries from the count models (for bootstraps and coverage checks).

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

__all__ = ["simulate_bgbb", "simulate_bgnbd", "simulate_mbgnbd", "simulate_paretonbd"]

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
    return _beta_geometric(params, T, rng, shift=0.0)


def simulate_mbgnbd(
    params: FloatArray, T: FloatArray, rng: np.random.Generator
) -> tuple[FloatArray, FloatArray]:
    """Draw ``(frequency, recency)`` under MBG/NBD (Batislam, Denizel & Filiztekin 2007).

    As :func:`simulate_bgnbd`, except that the customer may also drop out right after the first purchase,
    so the repeat purchases made before dropping out are ``J - 1`` with ``J ~ Geometric(p)`` on ``1, 2, ...``.
    """
    return _beta_geometric(params, T, rng, shift=1.0)


def _beta_geometric(params: FloatArray, T: FloatArray, rng: np.random.Generator, shift: float
                    ) -> tuple[FloatArray, FloatArray]:
    r, alpha, a, b = (float(v) for v in params)
    T = np.asarray(T, dtype=np.float64)
    n_customers = T.shape[0]
    lam = rng.gamma(shape=r, scale=1.0 / alpha, size=n_customers)
    p = rng.beta(a, b, size=n_customers)
    # p can underflow to exactly 0 for small a; such a customer never drops out (J is unbounded).
    never = p <= 0.0
    J = rng.geometric(np.where(never, 0.5, p)).astype(np.float64) - shift
    J[never] = np.inf
    N = rng.poisson(lam * T).astype(np.float64)
    return _last_of_first(np.minimum(N, J), N, T, rng)


def _last_of_first(x: FloatArray, N: FloatArray, window: FloatArray, rng: np.random.Generator
                   ) -> tuple[FloatArray, FloatArray]:
    # Given N Poisson purchases in (0, window], their times are N ordered uniforms: the x-th is window * Beta(x, N-x+1).
    pos = x > 0
    tx = np.zeros(x.shape[0])
    tx[pos] = window[pos] * rng.beta(x[pos], N[pos] - x[pos] + 1.0)
    return x, tx


def simulate_paretonbd(
    params: FloatArray, T: FloatArray, rng: np.random.Generator
) -> tuple[FloatArray, FloatArray]:
    """Draw ``(frequency, recency)`` under Pareto/NBD (Schmittlein, Morrison & Colombo 1987).

    Purchase rate ``lambda ~ Gamma(r, rate alpha)``, lifetime ``tau ~ Exponential(mu)`` with
    ``mu ~ Gamma(s, rate beta)``; the customer buys as a Poisson process over ``(0, min(tau, T)]``.
    """
    r, alpha, s, beta = (float(v) for v in params)
    T = np.asarray(T, dtype=np.float64)
    n_customers = T.shape[0]
    lam = rng.gamma(shape=r, scale=1.0 / alpha, size=n_customers)
    mu = rng.gamma(shape=s, scale=1.0 / beta, size=n_customers)
    with np.errstate(divide="ignore"):
        tau = rng.exponential(np.where(mu > 0.0, 1.0 / np.maximum(mu, 1e-300), np.inf))
    window = np.minimum(tau, T)
    N = rng.poisson(lam * window).astype(np.float64)
    return _last_of_first(N, N, window, rng)


def simulate_bgbb(
    params: FloatArray, n: FloatArray, rng: np.random.Generator
) -> tuple[FloatArray, FloatArray]:
    """Draw ``(frequency, recency)`` over ``n`` whole opportunities under BG/BB (Fader, Hardie & Shang 2010).

    Transaction probability ``p ~ Beta(alpha, beta)`` at each opportunity while alive; the customer dies at
    the start of each opportunity with probability ``theta ~ Beta(gamma, delta)``, so the opportunities
    lived are ``min(n, L)`` with ``L ~ Geometric(theta) - 1``. ``recency`` is the last opportunity with a
    transaction (0 when there is none). Constant work per customer, however many opportunities.
    """
    a, b, g, d = (float(v) for v in params)
    n = np.asarray(n, dtype=np.float64)
    size = n.shape[0]
    p = rng.beta(a, b, size=size)
    theta = rng.beta(g, d, size=size)
    alive = np.where(theta > 0.0, rng.geometric(np.where(theta > 0.0, theta, 0.5)) - 1.0, np.inf)
    lived = np.minimum(n, alive)
    # O(1) per customer, whatever the number of opportunities: read the lived opportunities backwards. They
    # are independent Bernoulli(p) trials, so the failures after the last transaction are Geometric(p) - 1;
    # the last transaction is at lived - failures (none when the failures cover every opportunity), and the
    # opportunities before it hold Binomial(tx - 1, p) more transactions.
    with np.errstate(divide="ignore", invalid="ignore"):
        trailing = np.where(p > 0.0, rng.geometric(np.where(p > 0.0, p, 0.5)) - 1.0, np.inf)
    bought = trailing < lived
    tx = np.where(bought, lived - trailing, 0.0)
    before = np.where(bought, tx - 1.0, 0.0)
    x = np.where(bought, 1.0 + rng.binomial(before.astype(np.int64), np.clip(p, 0.0, 1.0)), 0.0)
    return x, tx
