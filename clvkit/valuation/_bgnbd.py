"""Pure kernels of the BG/NBD model (arrays in, arrays out).

Reference: P. S. Fader, B. G. S. Hardie and K. L. Lee (2005), "'Counting Your Customers' the Easy Way:
An Alternative to the Pareto/NBD Model", Marketing Science 24(2), 275-284 - likelihood eq. (6), P(alive)
eq. (13), conditional expectation eq. (10), E[X(t)] eq. (9). ``params`` is the array ``(r, alpha, a, b)``;
``x, tx, T`` are frequency, recency and age arrays of one shape.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import special

from ._special import scaled_residual_factor

__all__ = [
    "expected_purchases",
    "expected_purchases_new",
    "log_odds_dead",
    "loglik",
    "probability_alive",
    "probability_of_purchases",
]

FloatArray = npt.NDArray[np.float64]


def loglik(params: FloatArray, x: FloatArray, tx: FloatArray, T: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Per-customer log-likelihood (eq. 6) and its gradient w.r.t. ``(r, alpha, a, b)``.

    ``L = B(a, b+x)/B(a, b) * Gamma(r+x) alpha^r / Gamma(r) * [ (alpha+T)^-(r+x)
    + 1{x>0} a/(b+x-1) (alpha+tx)^-(r+x) ]`` evaluated as ``A1 + A2 + log(exp(A3) + exp(A4))``.

    Returns
    -------
    (ll, grad):
        ``ll`` of shape (n,), ``grad`` of shape (n, 4).
    """
    r, alpha, a, b = (float(v) for v in params)
    rx = r + x
    log_at = np.log(alpha + T)
    log_atx = np.log(alpha + tx)
    A1 = special.gammaln(rx) - special.gammaln(r) + r * np.log(alpha)
    A2 = special.betaln(a, b + x) - special.betaln(a, b)
    A3 = -rx * log_at
    pos = x > 0
    bx1 = np.where(pos, b + x - 1.0, 1.0)
    A4 = np.where(pos, np.log(a) - np.log(bx1) - rx * log_atx, -np.inf)
    lse = np.logaddexp(A3, A4)
    ll: FloatArray = A1 + A2 + lse
    w3 = np.exp(A3 - lse)
    w4 = np.exp(A4 - lse)  # 0 where x == 0

    dig_rx = special.digamma(rx)
    dig_abx = special.digamma(a + b + x)
    dig_ab = special.digamma(a + b)
    grad = np.empty((x.shape[0], 4))
    grad[:, 0] = dig_rx - special.digamma(r) + np.log(alpha) - w3 * log_at - w4 * log_atx
    grad[:, 1] = r / alpha - w3 * rx / (alpha + T) - w4 * rx / (alpha + tx)
    grad[:, 2] = dig_ab - dig_abx + w4 / a
    grad[:, 3] = special.digamma(b + x) - special.digamma(b) + dig_ab - dig_abx - w4 / bx1
    return ll, grad


def log_odds_dead(params: FloatArray, x: FloatArray, tx: FloatArray, T: FloatArray) -> FloatArray:
    """``log[P(dead)/P(alive)]``: ``log(a/(b+x-1)) + (r+x) log((alpha+T)/(alpha+tx))`` for x > 0, else -inf."""
    r, alpha, a, b = (float(v) for v in params)
    pos = x > 0
    bx1 = np.where(pos, b + x - 1.0, 1.0)
    lo = np.log(a) - np.log(bx1) + (r + x) * (np.log(alpha + T) - np.log(alpha + tx))
    out: FloatArray = np.where(pos, lo, -np.inf)
    return out


def probability_alive(params: FloatArray, x: FloatArray, tx: FloatArray, T: FloatArray) -> FloatArray:
    """P(alive at T | x, tx, T), eq. (13); exactly 1 where x == 0."""
    p: FloatArray = special.expit(-log_odds_dead(params, x, tx, T))
    return p


def expected_purchases(
    params: FloatArray, x: FloatArray, tx: FloatArray, T: FloatArray, t: FloatArray | float
) -> FloatArray:
    """E[X(T, T+t) | x, tx, T], eq. (10), via the Euler-transformed hypergeometric term.

    ``E = (a+b+x-1) * G * P(alive)`` with ``G = [1 - (1-z)^(a-1) 2F1(a+b-1-r, a-1; a+b+x-1; z)]/(a-1)``
    and ``z = t/(alpha+T+t)``; algebraically identical to eq. (10).
    """
    r, alpha, a, b = (float(v) for v in params)
    t_arr = np.asarray(t, dtype=np.float64)
    z = t_arr / (alpha + T + t_arr)
    C = a + b + x - 1.0
    CG = scaled_residual_factor(np.full(np.broadcast(C, z).shape, a + b - 1.0 - r), a - 1.0, C, z)
    out: FloatArray = CG * probability_alive(params, x, tx, T)
    return out


def expected_purchases_new(params: FloatArray, t: FloatArray) -> FloatArray:
    """E[X(t)] for a customer just acquired (eq. 9): the conditional expectation at x = tx = T = 0."""
    t_arr = np.asarray(t, dtype=np.float64)
    zeros = np.zeros_like(t_arr)
    return expected_purchases(params, zeros, zeros, zeros, t_arr)


def probability_of_purchases(
    params: FloatArray, x: FloatArray, tx: FloatArray, T: FloatArray, n: FloatArray, t: FloatArray | float
) -> FloatArray:
    """P(X(T, T+t) = n | x, tx, T): probability of exactly ``n`` purchases in the next ``t``.

    Given alive at T, the posterior is lambda ~ Gamma(r+x, alpha+T) and p ~ Beta(a, b+x), independent.
    With N the Poisson count in (T, T+t] and J the purchase after which the customer drops out,
    X = min(N, J), so ``P(X=n | alive) = E[(1-p)^n] P(N=n) + 1{n>0} E[p(1-p)^(n-1)] P(N>=n)``, with
    N negative binomial after integrating lambda. The dead part adds ``1 - P(alive)`` at n = 0.
    (Derived here from the model's assumptions; it matches Fader, Hardie & Lee's conditional PMF note.)
    """
    r, alpha, a, b = (float(v) for v in params)
    t_arr = np.asarray(t, dtype=np.float64)
    n_arr = np.asarray(n, dtype=np.float64)
    rx = r + x
    z = t_arr / (alpha + T + t_arr)
    log1mz = np.log1p(-z)
    with np.errstate(divide="ignore"):
        log_z = np.log(z)
    log_nb = (special.gammaln(rx + n_arr) - special.gammaln(rx) - special.gammaln(n_arr + 1.0)
              + rx * log1mz + np.where(n_arr > 0, n_arr * log_z, 0.0))
    log_beta0 = special.betaln(a, b + x)
    stay = np.exp(special.betaln(a, b + x + n_arr) - log_beta0 + log_nb)
    n_pos = n_arr > 0
    n_safe = np.where(n_pos, n_arr, 1.0)
    drop_w = np.exp(special.betaln(a + 1.0, b + x + n_safe - 1.0) - log_beta0)
    tail = special.betainc(n_safe, rx, z)  # P(N >= n) for the negative binomial count
    drop = np.where(n_pos, drop_w * tail, 0.0)
    p_alive = probability_alive(params, x, tx, T)
    out: FloatArray = p_alive * (stay + drop) + np.where(n_arr == 0, 1.0 - p_alive, 0.0)
    return out
