"""Pure kernels of the MBG/NBD model (arrays in, arrays out).

The modified BG/NBD lets a customer drop out right after *every* purchase, including the first one at
time 0, so a customer with no repeat purchase may already be inactive (unlike the BG/NBD, where such a
customer is alive for sure). The same model was published independently as the "central variant"
CBG/NBD.

References: E. P. Batislam, M. Denizel and A. Filiztekin (2007), "Empirical validation and comparison of
models for customer base analysis", International Journal of Research in Marketing 24(3), 201-209
(the MBG/NBD likelihood, P(alive), E[X(t)] and conditional expectation); D. Hoppe and U. Wagner (2007),
"Customer base analysis: the case for a central variant of the Betageometric/NBD model", Marketing -
Journal of Research and Management 3(2), 75-90 (the same model as "CBG/NBD"). The papers' equation
numbers could not be checked against a copy of the text, so each docstring gives the formula and its
derivation from the model's assumptions instead; they are the BG/NBD results of Fader, Hardie & Lee
(2005, "FHL", eqs. 6, 9, 10, 13) with one extra dropout opportunity at time 0.

``params`` is the array ``(r, alpha, a, b)``; ``x, tx, T`` are frequency, recency and age arrays of one
shape.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import numpy as np
import numpy.typing as npt
from scipy import special

from . import _generic
from ._bgnbd import two_branch_hessian
from ._generic import (
    discounted_residual_from_path,
    fresh_customer_expectation,
    fresh_customer_pmf,
    path_over_distinct_rows,
)
from ._simulate import simulate_mbgnbd as simulate
from ._special import residual_factor, scaled_residual_by_quadrature

__all__ = [
    "discounted_residual", "expected_purchases", "expected_purchases_new", "expected_purchases_path",
    "log_odds_dead", "loglik", "loglik_hessian", "probability_alive", "probability_of_purchases",
    "probability_of_purchases_new", "simulate", "weighted_path_sum",
]

FloatArray = npt.NDArray[np.float64]


def _count_index(x: FloatArray) -> npt.NDArray[np.intp] | None:
    """``x`` as integer positions when it holds small whole numbers, else ``None``.

    Frequencies are whole numbers with few distinct values, so every function of x alone (gammaln,
    digamma, betaln) is evaluated once per value on ``0..max(x)`` and gathered: scipy's special
    functions cost 10-50 times a gather per element, and they dominate the likelihood otherwise.
    """
    if x.size == 0:
        return None
    top = float(np.max(x))
    if not np.isfinite(top) or top > 4.0 * x.size + 1024.0 or float(np.min(x)) < 0.0:
        return None
    idx = x.astype(np.intp)
    if not np.array_equal(idx, x):
        return None
    return idx


def _per_count(
    shift: float, x: FloatArray, idx: npt.NDArray[np.intp] | None, fn: Callable[[FloatArray], FloatArray]
) -> FloatArray:
    """``fn(shift + x)`` elementwise, tabulated over ``0..max(x)`` when ``idx`` is given."""
    if idx is None:
        return fn(shift + x)
    table = fn(shift + np.arange(int(idx.max()) + 1, dtype=np.float64))
    out: FloatArray = np.take(table, idx)
    return out


def count_indices(
    x: FloatArray, tx: FloatArray, T: FloatArray
) -> tuple[npt.NDArray[np.intp] | None, npt.NDArray[np.intp] | None, npt.NDArray[np.intp] | None]:
    """The integer positions :func:`loglik` tabulates by (see :func:`_count_index`), computed once per fit."""
    return _count_index(x), _count_index(tx), _count_index(T)


def loglik(
    params: FloatArray,
    x: FloatArray,
    tx: FloatArray,
    T: FloatArray,
    indices: tuple[npt.NDArray[np.intp] | None, npt.NDArray[np.intp] | None, npt.NDArray[np.intp] | None]
    | None = None,
) -> tuple[FloatArray, FloatArray]:
    """Per-customer log-likelihood and its gradient w.r.t. ``(r, alpha, a, b)``.

    Given lambda and p the customer survives the x + 1 dropout opportunities (time 0 and each repeat
    purchase) with probability ``(1-p)^(x+1)`` or drops out after the last one, so
    ``L(lambda, p) = lambda^x [(1-p)^(x+1) e^(-lambda T) + p (1-p)^x e^(-lambda tx)]``. Integrating over
    lambda ~ Gamma(r, alpha) and p ~ Beta(a, b) gives the MBG/NBD likelihood of Batislam et al. (2007)
    (cf. BG/NBD eq. 6 of Fader, Hardie & Lee 2005)

    ``L = B(a, b+x+1)/B(a, b) * Gamma(r+x) alpha^r / Gamma(r)
    * [ (alpha+T)^-(r+x) + a/(b+x) (alpha+tx)^-(r+x) ]``.

    With ``L1 = log(alpha+T)``, ``L2 = log(alpha+tx)`` and ``d = log(a/(b+x)) + (r+x)(L1 - L2)`` (the
    log-odds of having dropped out) this is ``log L = K(x) - (r+x) L1 + softplus(d)``, where ``K``
    collects the terms in x alone. The second branch is present for every x, including x = 0 (where
    it is the probability of dropping out at time 0).

    Returns
    -------
    (ll, grad):
        ``ll`` of shape (n,), ``grad`` of shape (n, 4).
    """
    r, alpha, a, b = (float(v) for v in params)
    idx, idx_tx, idx_T = count_indices(x, tx, T) if indices is None else indices
    rx = r + x
    # Whole-numbered times (days) take few distinct values: their logs (and reciprocals) come from a table too.
    L1 = _per_count(alpha, T, idx_T, np.log)
    L2 = _per_count(alpha, tx, idx_tx, np.log)
    dL = L1 - L2
    d = _per_count(b, x, idx, lambda v: np.log(a / v)) + rx * dL
    # softplus(d) = log(1 + e^d) and w = expit(d) = P(dead | x, tx, T) from one exponential.
    e = np.exp(-np.abs(d))
    pos = d > 0.0
    sp = np.maximum(d, 0.0) + np.log1p(e)
    w = np.where(pos, 1.0, e) / (1.0 + e)
    K = (_per_count(r, x, idx, special.gammaln) + _per_count(b + 1.0, x, idx, lambda v: special.betaln(a, v))
         + (r * np.log(alpha) - special.gammaln(r) - special.betaln(a, b)))
    ll: FloatArray = K - rx * L1 + sp

    dig_ab = special.digamma(a + b)
    dig_abx1 = _per_count(a + b + 1.0, x, idx, special.digamma)
    grad = np.empty((x.shape[0], 4))
    grad[:, 0] = (_per_count(r, x, idx, special.digamma) + (np.log(alpha) - special.digamma(r))
                  - L1 + w * dL)
    grad[:, 1] = r / alpha - rx * ((1.0 - w) * _per_count(alpha, T, idx_T, np.reciprocal)
                                   + w * _per_count(alpha, tx, idx_tx, np.reciprocal))
    grad[:, 2] = (dig_ab + w / a) - dig_abx1
    grad[:, 3] = (_per_count(b + 1.0, x, idx, special.digamma) + (dig_ab - special.digamma(b)) - dig_abx1
                  - w * _per_count(b, x, idx, np.reciprocal))
    return ll, grad


def loglik_hessian(
    params: FloatArray,
    x: FloatArray,
    tx: FloatArray,
    T: FloatArray,
    indices: tuple[npt.NDArray[np.intp] | None, npt.NDArray[np.intp] | None, npt.NDArray[np.intp] | None]
    | None = None,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """:func:`loglik` together with the per-row Hessian w.r.t. ``(r, alpha, a, b)``, in one pass.

    ``log L = K(x) + log(exp(f3) + exp(f4))`` with ``f3 = -(r+x) L1`` and ``f4 = log(a) - log(b+x) - (r+x) L2``
    (see :func:`loglik`); ``K`` adds ``lgamma(r+x) - lgamma(r) + r log(alpha)`` and, from
    ``B(a, b+x+1)/B(a, b)``, trigamma differences in ``(a, b)``. The Hessian of the log of the two-term sum is
    that of :func:`._bgnbd.two_branch_hessian` with ``b+x`` in place of BG/NBD's ``b+x-1``.

    Returns
    -------
    (ll, grad, hess):
        Shapes (n,), (n, 4) and (n, 4, 4).
    """
    r, alpha, a, b = (float(v) for v in params)
    idx, idx_tx, idx_T = count_indices(x, tx, T) if indices is None else indices
    rx = r + x
    L1 = _per_count(alpha, T, idx_T, np.log)
    L2 = _per_count(alpha, tx, idx_tx, np.log)
    dL = L1 - L2
    d = _per_count(b, x, idx, lambda v: np.log(a / v)) + rx * dL
    w = special.expit(d)
    w3 = special.expit(-d)
    K = (_per_count(r, x, idx, special.gammaln) + _per_count(b + 1.0, x, idx, lambda v: special.betaln(a, v))
         + (r * np.log(alpha) - special.gammaln(r) - special.betaln(a, b)))
    ll: FloatArray = K - rx * L1 + np.logaddexp(0.0, d)
    inv_T = _per_count(alpha, T, idx_T, np.reciprocal)
    inv_tx = _per_count(alpha, tx, idx_tx, np.reciprocal)
    inv_bx = _per_count(b, x, idx, np.reciprocal)
    dig_ab = special.digamma(a + b)
    dig_abx1 = _per_count(a + b + 1.0, x, idx, special.digamma)
    grad = np.empty((x.shape[0], 4))
    grad[:, 0] = (_per_count(r, x, idx, special.digamma) + (np.log(alpha) - special.digamma(r))
                  - L1 + w * dL)
    grad[:, 1] = r / alpha - rx * (w3 * inv_T + w * inv_tx)
    grad[:, 2] = (dig_ab + w / a) - dig_abx1
    grad[:, 3] = (_per_count(b + 1.0, x, idx, special.digamma) + (dig_ab - special.digamma(b)) - dig_abx1
                  - w * inv_bx)

    def trigamma(v: FloatArray) -> FloatArray:
        out: FloatArray = special.polygamma(1, v)
        return out

    h_rr = _per_count(r, x, idx, trigamma) - float(special.polygamma(1, r))
    h_aa = float(special.polygamma(1, a + b)) - _per_count(a + b + 1.0, x, idx, trigamma)
    h_bb = _per_count(b + 1.0, x, idx, trigamma) - float(special.polygamma(1, b)) + h_aa
    hess = two_branch_hessian(r, alpha, a, rx, w3, w, dL, inv_T, inv_tx, inv_bx, h_rr, h_aa, h_bb)
    return ll, grad, hess


def log_odds_dead(params: FloatArray, x: FloatArray, tx: FloatArray, T: FloatArray) -> FloatArray:
    """``log[P(dead)/P(alive)] = log(a/(b+x)) + (r+x) log((alpha+T)/(alpha+tx))``, finite for every x."""
    r, alpha, a, b = (float(v) for v in params)
    # log1p keeps the ratio accurate when T - tx is small against alpha + tx.
    out: FloatArray = np.log(a) - np.log(b + x) + (r + x) * np.log1p((T - tx) / (alpha + tx))
    return out


def probability_alive(params: FloatArray, x: FloatArray, tx: FloatArray, T: FloatArray) -> FloatArray:
    """P(alive at T | x, tx, T) (Batislam et al. 2007; cf. FHL 2005 eq. 13).

    ``P(alive) = 1 / (1 + a/(b+x) ((alpha+T)/(alpha+tx))^(r+x))``: Bayes' rule on the two branches of the
    likelihood. Below 1 also for x = 0: the customer may have dropped out right after the first purchase.
    """
    p: FloatArray = special.expit(-log_odds_dead(params, x, tx, T))
    return p


def expected_purchases(
    params: FloatArray, x: FloatArray, tx: FloatArray, T: FloatArray, t: FloatArray | float
) -> FloatArray:
    """E[X(T, T+t) | x, tx, T] (Batislam et al. 2007; cf. FHL 2005 eq. 10).

    Given alive at T the posterior is lambda ~ Gamma(r+x, alpha+T), p ~ Beta(a, b+x+1), and from T on
    the customer drops out after each purchase, so ``E[X | lambda, p] = (1 - e^(-lambda p t))/p``.
    Integrating gives

    ``E = (a+b+x)/(a-1) [1 - ((alpha+T)/(alpha+T+t))^(r+x) 2F1(r+x, b+x+1; a+b+x; z)] P(alive)``

    with ``z = t/(alpha+T+t)``. Euler's transformation turns ``(1-z)^(r+x) 2F1(r+x, b+x+1; a+b+x; z)``
    into ``(1-z)^(a-1) 2F1(a+b-r, a-1; a+b+x; z)``, so ``E = C * G * P(alive)`` with ``C = a+b+x`` and
    ``G = residual_factor(a+b-r, a-1, C, z)``; this form stays finite for a near 1 and x in the
    thousands. Where scipy's ``hyp2f1`` fails (large parameters with z near 1) G is taken from an
    integral over a Beta distribution instead (:func:`._special.scaled_residual_by_quadrature`).
    """
    r, alpha, a, b = (float(v) for v in params)
    t_arr = np.asarray(t, dtype=np.float64)
    G = _residual_on_grid(r, alpha, a, b, x, T, t_arr) if t_arr.ndim == 0 else None
    if G is None:
        G = _residual(r, alpha, a, b, x, T, t_arr)
    out: FloatArray = (a + b + x) * G * probability_alive(params, x, tx, T)
    return out


def _residual(r: float, alpha: float, a: float, b: float, x: FloatArray, T: FloatArray, t: FloatArray
              ) -> FloatArray:
    """``G`` of :func:`expected_purchases` elementwise, with the quadrature fallback."""
    z = t / (alpha + T + t)
    C = a + b + x
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        G = residual_factor(np.full(np.broadcast(C, z).shape, a + b - r), a - 1.0, C, z)
    upper = 1.0 / (a - 1.0) if a > 1.0 else np.inf  # G (a-1) is an expectation of a value in [0, 1]
    bad = ~np.isfinite(G) | (G < 0.0) | (G > upper * (1.0 + 1e-12))
    if bad.any():
        xb, Tb, tb = np.broadcast_arrays(x, T, t)
        G = np.array(G, dtype=np.float64)
        # C = a + b + x directly: a + (b + 1) + x - 1 is 0 in floats when a, b < 1e-16
        G[bad] = scaled_residual_by_quadrature(a, b + 1.0, r, xb[bad], tb[bad] / (alpha + Tb[bad])) / (a + b + xb[bad])
    out: FloatArray = G
    return out


def _residual_on_grid(r: float, alpha: float, a: float, b: float, x: FloatArray, T: FloatArray, t: FloatArray
                      ) -> FloatArray | None:
    """``G`` on the grid of distinct (x, T) and gathered, or ``None`` when the grid is not much smaller.

    ``G`` depends on the customer only through x and T. Summaries come from dated transaction logs, so
    T takes few distinct values (days of acquisition) and x few small integers: a million customers
    typically need tens of thousands of hypergeometric evaluations instead of a million. Distinct T
    by sort + searchsorted (``np.unique(..., return_inverse=True)`` argsorts, ~20 times slower).
    """
    idx = _count_index(x)
    if idx is None or T.ndim != 1 or T.shape != x.shape or T.size < 1024:
        return None
    n_x = int(idx.max()) + 1
    T_int = _count_index(T)  # whole-numbered ages (days): a dense lookup, no search at all
    if T_int is not None:
        T_u = np.arange(int(T_int.max()) + 1, dtype=np.float64)
        T_pos = T_int
    else:
        T_u = np.unique(T)
        T_pos = None
    if T_u.size * n_x > T.size // 4:
        return None
    if T_pos is None:
        T_pos = np.searchsorted(T_u, T)
    xs = np.arange(n_x, dtype=np.float64)
    grid = _residual(r, alpha, a, b, np.repeat(xs, T_u.size), np.tile(T_u, n_x), t)
    out: FloatArray = grid[idx * T_u.size + T_pos]
    return out


#: E[X(t)] for a customer just acquired (Batislam et al. 2007; cf. FHL 2005 eq. 9).
expected_purchases_new = partial(fresh_customer_expectation, expected_purchases)


def probability_of_purchases(
    params: FloatArray, x: FloatArray, tx: FloatArray, T: FloatArray, n: FloatArray, t: FloatArray | float
) -> FloatArray:
    """P(X(T, T+t) = n | x, tx, T): probability of exactly ``n`` purchases in the next ``t``.

    Derived from the model's assumptions. Given alive at T the posterior is lambda ~ Gamma(r+x,
    alpha+T) and p ~ Beta(a, b+x+1), independent (the alive branch of the likelihood factorises). Let N
    be the Poisson count in (T, T+t] and J the purchase after which the customer drops out
    (P(J = j) = p (1-p)^(j-1), j >= 1); then X = min(N, J) and

    ``P(X = n | alive) = E[(1-p)^n] P(N = n) + 1{n>0} E[p (1-p)^(n-1)] P(N >= n)``

    with N negative binomial NB(r+x, z = t/(alpha+T+t)) once lambda is integrated out, so that
    ``P(N >= n) = I_z(n, r+x)``. The dead branch adds ``1 - P(alive)`` at n = 0. Compared with the
    BG/NBD expression only the Beta posterior of p (b+x+1 instead of b+x) and P(alive) differ.
    """
    r, alpha, a, b = (float(v) for v in params)
    t_arr = np.asarray(t, dtype=np.float64)
    n_arr = np.asarray(n, dtype=np.float64)
    rx = r + x
    b_post = b + x + 1.0
    z = t_arr / (alpha + T + t_arr)
    log1mz = np.log1p(-z)
    # xlogy: n log z with 0 log 0 = 0 (t = 0 puts all mass at n = 0).
    log_nb = (special.gammaln(rx + n_arr) - special.gammaln(rx) - special.gammaln(n_arr + 1.0)
              + rx * log1mz + special.xlogy(n_arr, z))
    log_beta0 = special.betaln(a, b_post)
    stay = np.exp(special.betaln(a, b_post + n_arr) - log_beta0 + log_nb)
    n_pos = n_arr > 0
    n_safe = np.where(n_pos, n_arr, 1.0)
    drop_w = np.exp(special.betaln(a + 1.0, b_post + n_safe - 1.0) - log_beta0)
    tail = special.betainc(n_safe, rx, z)  # P(N >= n) for the negative binomial count
    drop = np.where(n_pos, drop_w * tail, 0.0)
    p_alive = probability_alive(params, x, tx, T)
    out: FloatArray = p_alive * (stay + drop) + np.where(n_arr == 0, 1.0 - p_alive, 0.0)
    return out


#: :func:`expected_purchases` at every horizon of a 1-D ``ts``, shape (len(ts), n), once per distinct row.
expected_purchases_path = partial(path_over_distinct_rows, expected_purchases)


def weighted_path_sum(params: FloatArray, x: FloatArray, tx: FloatArray, T: FloatArray, ts: FloatArray,
                      weights: FloatArray) -> FloatArray:
    """``sum_k weights[..., k] E[X(ts[k]) | x, tx, T]`` without the path: shape (n,) or (m, n).

    :func:`expected_purchases` is ``(a+b+x) G(x, T, t) P(alive)(x, tx, T)``, so the sum is ``(a+b+x) P(alive)
    sum_k w_k G(x, T, t_k)``: ``G`` summed over the horizons once per distinct ``(x, T)`` pair (in chunks of at
    most ``PATH_CHUNK_CELLS`` values), the rest once per row. ``weights`` has shape (len(ts),) or (m, len(ts)).
    """
    r, alpha, a, b = (float(v) for v in params)
    w = np.asarray(weights, dtype=np.float64)
    w2 = w.reshape(1, -1) if w.ndim == 1 else w
    sums, xu, code = _generic.weighted_sum_over_pairs(partial(_residual, r, alpha, a, b), x, T, ts, w2)
    sums *= a + b + xu
    out: FloatArray = sums.take(code, axis=1)
    out *= probability_alive(params, x, tx, T)
    return out[0] if w.ndim == 1 else out


#: P(X(t) = n) for a customer just acquired: :func:`probability_of_purchases` with no history.
probability_of_purchases_new = partial(fresh_customer_pmf, probability_of_purchases)


#: DERT at the discrete rate ``d`` per time unit (no closed form: by quadrature, see :mod:`._generic`).
discounted_residual = partial(discounted_residual_from_path, expected_purchases_path)
