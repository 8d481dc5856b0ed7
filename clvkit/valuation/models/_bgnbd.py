"""Pure kernels of the BG/NBD model (arrays in, arrays out).

Reference: P. S. Fader, B. G. S. Hardie and K. L. Lee (2005), "'Counting Your Customers' the Easy Way:
An Alternative to the Pareto/NBD Model", Marketing Science 24(2), 275-284 - likelihood eq. (6), P(alive)
eq. (13), conditional expectation eq. (10), E[X(t)] eq. (9). ``params`` is the array ``(r, alpha, a, b)``;
``x, tx, T`` are frequency, recency and age arrays of one shape.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import special

from ..._rows import unique_rows
from . import _generic
from ._generic import discounted_residual_from_path, fresh_customer_expectation
from ._simulate import simulate_bgnbd as simulate
from ._special import checked_scaled_residual, scaled_residual_factor

__all__ = [
    "discounted_residual", "expected_purchases", "expected_purchases_new", "expected_purchases_on_pairs",
    "expected_purchases_path", "log_odds_dead", "loglik", "loglik_hessian", "probability_alive",
    "probability_of_purchases", "probability_of_purchases_new", "simulate", "two_branch_hessian", "weighted_path_sum",
]

FloatArray = npt.NDArray[np.float64]


def _per_frequency(r: float, alpha: float, a: float, b: float, xs: FloatArray) -> list[FloatArray]:
    """The terms of eq. (6) that depend on the frequency only, on the frequencies ``xs``: the constant ``K(x)``, its
    derivatives w.r.t. r, a and b, ``log(a / (b+x-1))`` (``-inf`` where x == 0) and ``1 / (b+x-1)`` (1 there)."""
    rx_s = r + xs
    pos_s = xs > 0
    bx1_s = np.where(pos_s, b + xs - 1.0, 1.0)
    dig_ab = float(special.digamma(a + b))
    dig_abx_s = special.digamma(a + b + xs)
    const_s = (special.gammaln(rx_s) - special.gammaln(r) + r * np.log(alpha)
               + special.betaln(a, b + xs) - special.betaln(a, b))
    g0_s = special.digamma(rx_s) - special.digamma(r) + np.log(alpha)
    g2_s = dig_ab - dig_abx_s
    g3_s = special.digamma(b + xs) - special.digamma(b) + dig_ab - dig_abx_s
    log_a_bx1_s = np.where(pos_s, np.log(a) - np.log(bx1_s), -np.inf)
    return [const_s, g0_s, g2_s, g3_s, log_a_bx1_s, 1.0 / bx1_s]


def loglik(
    params: FloatArray,
    x: FloatArray,
    tx: FloatArray,
    T: FloatArray,
    x_unique: FloatArray | None = None,
    x_code: npt.NDArray[np.intp] | None = None,
    lookups: dict[str, npt.NDArray[Any]] | None = None,
) -> tuple[FloatArray, FloatArray]:
    """Per-customer log-likelihood (eq. 6) and its gradient w.r.t. ``(r, alpha, a, b)``.

    ``L = B(a, b+x)/B(a, b) * Gamma(r+x) alpha^r / Gamma(r) * [ (alpha+T)^-(r+x)
    + 1{x>0} a/(b+x-1) (alpha+tx)^-(r+x) ]`` evaluated as ``A1 + A2 + log(exp(A3) + exp(A4))``.

    The gamma, beta and digamma terms depend on ``x`` only; pass the distinct frequencies ``x_unique``
    and each row's index into them, ``x_code``, to evaluate those once per distinct frequency (a
    customer base has a few hundred distinct frequencies and up to millions of rows). Likewise
    ``lookups`` may hold ``T_unique, T_code, tx_unique, tx_code`` (see :func:`lookup_tables`), so that
    ``log(alpha + T)`` etc. are evaluated once per distinct age (a few hundred at daily resolution).

    Returns
    -------
    (ll, grad):
        ``ll`` of shape (n,), ``grad`` of shape (n, 4).
    """
    r, alpha, a, b = (float(v) for v in params)
    xs = x if x_unique is None else x_unique
    # Per-frequency terms (on xs), gathered to rows below.
    per_x = _per_frequency(r, alpha, a, b, xs)
    if x_code is not None:
        per_x = [v.take(x_code) for v in per_x]
    const, g0, g2, g3, log_a_bx1, inv_bx1 = per_x
    rx = r + x

    log_at, inv_at = _log_and_inverse(alpha, T, lookups, "T")
    log_atx, inv_atx = _log_and_inverse(alpha, tx, lookups, "tx")
    # log(exp(A3) + exp(A4)) = A3 + softplus(d) with d = A4 - A3 (= -inf where x == 0)
    A3 = -rx * log_at
    d = log_a_bx1 + rx * (log_at - log_atx)
    w4 = special.expit(d)  # weight of the "dropped out at the last purchase" term; 0 where x == 0
    w3 = 1.0 - w4
    ll: FloatArray = const + A3 + np.logaddexp(0.0, d)

    grad = np.empty((x.shape[0], 4))
    grad[:, 0] = g0 - w3 * log_at - w4 * log_atx
    grad[:, 1] = r / alpha - rx * (w3 * inv_at + w4 * inv_atx)
    grad[:, 2] = g2 + w4 / a
    grad[:, 3] = g3 - w4 * inv_bx1
    return ll, grad


def loglik_hessian(
    params: FloatArray,
    x: FloatArray,
    tx: FloatArray,
    T: FloatArray,
    x_unique: FloatArray | None = None,
    x_code: npt.NDArray[np.intp] | None = None,
    lookups: dict[str, npt.NDArray[Any]] | None = None,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """:func:`loglik` (eq. 6) together with the per-row Hessian w.r.t. ``(r, alpha, a, b)``, in one pass.

    ``log L = K(x) + log(exp(f3) + exp(f4))`` with ``K = lgamma(r+x) - lgamma(r) + r log(alpha) + B-terms``,
    ``f3 = -(r+x) log(alpha+T)`` and, for x > 0, ``f4 = log(a) - log(b+x-1) - (r+x) log(alpha+tx)``. With the
    branch weights ``w3 + w4 = 1``, ``w4 = expit(f4 - f3)``, the Hessian of the log of the sum is
    ``w3 H(f3) + w4 H(f4) + w3 w4 D D'`` with ``D = grad f4 - grad f3``; ``H(K)`` holds trigamma differences
    (derived here from eq. 6). Same arguments as :func:`loglik`.

    Returns
    -------
    (ll, grad, hess):
        Shapes (n,), (n, 4) and (n, 4, 4).
    """
    r, alpha, a, b = (float(v) for v in params)
    xs = x if x_unique is None else x_unique
    h_rr_s = special.polygamma(1, r + xs) - float(special.polygamma(1, r))
    h_aa_s = float(special.polygamma(1, a + b)) - special.polygamma(1, a + b + xs)
    h_bb_s = special.polygamma(1, b + xs) - float(special.polygamma(1, b)) + h_aa_s
    per_x = [*_per_frequency(r, alpha, a, b, xs), h_rr_s, h_aa_s, h_bb_s]
    if x_code is not None:
        per_x = [v.take(x_code) for v in per_x]
    const, g0, g2, g3, log_a_bx1, inv_bx1, h_rr, h_aa, h_bb = per_x
    rx = r + x
    log_at, inv_at = _log_and_inverse(alpha, T, lookups, "T")
    log_atx, inv_atx = _log_and_inverse(alpha, tx, lookups, "tx")
    d = log_a_bx1 + rx * (log_at - log_atx)
    w4 = special.expit(d)
    w3 = special.expit(-d)  # not 1 - w4: no cancellation where w4 is close to 1
    ll: FloatArray = const - rx * log_at + np.logaddexp(0.0, d)
    grad = np.empty((x.shape[0], 4))
    grad[:, 0] = g0 - w3 * log_at - w4 * log_atx
    grad[:, 1] = r / alpha - rx * (w3 * inv_at + w4 * inv_atx)
    grad[:, 2] = g2 + w4 / a
    grad[:, 3] = g3 - w4 * inv_bx1
    hess = two_branch_hessian(r, alpha, a, rx, w3, w4, log_at - log_atx, inv_at, inv_atx, inv_bx1, h_rr, h_aa, h_bb)
    return ll, grad, hess


def two_branch_hessian(r: float, alpha: float, a: float, rx: FloatArray, w3: FloatArray, w4: FloatArray,
                       dlog: FloatArray, inv_at: FloatArray, inv_atx: FloatArray, inv_bx: FloatArray,
                       h_rr: FloatArray, h_aa: FloatArray, h_bb: FloatArray) -> FloatArray:
    """Per-row Hessian w.r.t. ``(r, alpha, a, b)`` of ``K + log(exp(f3) + exp(f4))`` for the BG/NBD family.

    ``f3 = -(r+x) log(alpha+T)``, ``f4 = log(a) - log(b+c) - (r+x) log(alpha+tx)`` (``c = x-1`` in BG/NBD, ``x`` in
    MBG/NBD, ``inv_bx = 1/(b+c)``), ``K`` the terms in ``r, alpha`` (``lgamma(r+x) - lgamma(r) + r log(alpha)``)
    plus terms in ``(a, b)`` alone whose Hessian is ``[[h_aa, h_aa], [h_aa, h_bb]]``; ``h_rr`` is
    ``trigamma(r+x) - trigamma(r)``, ``dlog = log(alpha+T) - log(alpha+tx)`` and ``w3, w4`` the branch weights.
    With ``D = grad f4 - grad f3 = (dlog, (r+x)(1/(alpha+T) - 1/(alpha+tx)), 1/a, -inv_bx)`` the Hessian is
    ``H(K) + w3 H(f3) + w4 H(f4) + w3 w4 D D'``.

    Returns an array of shape (n, 4, 4): a view of one laid out parameter pair by parameter pair (each entry's
    rows contiguous: cheaper to fill and to sum over the rows).
    """
    n = rx.shape[0]
    c = w3 * w4
    d_al = rx * (inv_at - inv_atx)
    c_r = c * dlog
    c_al = c * d_al
    inv_a = 1.0 / a
    hess = np.empty((4, 4, n))
    hess[0, 0] = h_rr + c_r * dlog
    hess[0, 1] = (1.0 / alpha + c_r * d_al) - (w3 * inv_at + w4 * inv_atx)
    hess[1, 1] = rx * (w3 * inv_at * inv_at + w4 * inv_atx * inv_atx) - r / (alpha * alpha) + c_al * d_al
    hess[0, 2] = c_r * inv_a
    hess[0, 3] = -c_r * inv_bx
    hess[1, 2] = c_al * inv_a
    hess[1, 3] = -c_al * inv_bx
    hess[2, 2] = h_aa - (w4 * w4) * (inv_a * inv_a)  # w3 H(f4)_aa + c / a^2 = (c - w4) / a^2 = -w4^2 / a^2
    hess[2, 3] = h_aa - (c * inv_a) * inv_bx
    hess[3, 3] = h_bb + (w4 + c) * inv_bx * inv_bx
    for i, j in ((0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)):
        hess[j, i] = hess[i, j]
    out: FloatArray = hess.transpose(2, 0, 1)
    return out


def lookup_tables(tx: FloatArray, T: FloatArray) -> dict[str, npt.NDArray[Any]]:
    """Distinct values and codes of ``T`` and ``tx`` for :func:`loglik`, where they pay off.

    A column is tabulated only when it has at most a quarter as many distinct values as rows.
    """
    out: dict[str, npt.NDArray[Any]] = {}
    for name, col in (("T", T), ("tx", tx)):
        uniq, code = np.unique(col, return_inverse=True)
        if uniq.shape[0] * 4 <= col.shape[0]:
            out[name + "_unique"], out[name + "_code"] = uniq, code.reshape(-1)
    return out


def _log_and_inverse(
    alpha: float, col: FloatArray, lookups: dict[str, npt.NDArray[Any]] | None, name: str
) -> tuple[FloatArray, FloatArray]:
    if lookups is not None and name + "_code" in lookups:
        s = alpha + lookups[name + "_unique"]
        code = lookups[name + "_code"]
        return np.log(s).take(code), (1.0 / s).take(code)
    s = alpha + col
    return np.log(s), 1.0 / s


def log_odds_dead(params: FloatArray, x: FloatArray, tx: FloatArray, T: FloatArray) -> FloatArray:
    """``log[P(dead)/P(alive)]``: ``log(a/(b+x-1)) + (r+x) log((alpha+T)/(alpha+tx))`` for x > 0, else -inf."""
    r, alpha, a, b = (float(v) for v in params)
    pos = x > 0
    bx1 = np.where(pos, b + x - 1.0, 1.0)
    lo = np.log(a) - np.log(bx1) + (r + x) * (np.log(alpha + T) - np.log(alpha + tx))
    out: FloatArray = np.where(pos, lo, -np.inf)
    return out


def probability_alive(params: FloatArray, x: FloatArray, tx: FloatArray, T: FloatArray) -> FloatArray:
    """P(alive at T | x, tx, T), eq. (13); exactly 1 where x == 0.

    ``1 / (1 + a/(b+x-1) ((alpha+T)/(alpha+tx))^(r+x))``: one power per customer, in place (the cost of P(alive)
    at a million customers is that power). Rows whose odds overflow (P(alive) below ~1e-300) are evaluated from
    the log-odds, so tiny probabilities keep their relative accuracy; odds that underflow give P = 1 as they should.
    """
    r, alpha, a, b = (float(v) for v in params)
    x, tx, T = np.broadcast_arrays(np.asarray(x, dtype=np.float64), np.asarray(tx, dtype=np.float64),
                                   np.asarray(T, dtype=np.float64))
    with np.errstate(over="ignore", under="ignore", divide="ignore", invalid="ignore"):
        # The output and one work array: no other temporaries of the customers' size.
        odds = np.add(alpha, T, out=np.empty(x.shape))
        work = np.add(alpha, tx, out=np.empty(x.shape))
        odds /= work
        np.add(x, r, out=work)
        np.power(odds, work, out=odds)
        np.add(x, b - 1.0, out=work)
        np.divide(a, work, out=work)
        odds *= work
    del work
    np.copyto(odds, 0.0, where=x == 0)  # b - 1 + x may be 0 there: the odds are 0 by definition
    extreme = odds > 1e300
    odds += 1.0
    p: FloatArray = np.reciprocal(odds, out=odds)
    if extreme.any():
        p[extreme] = special.expit(-log_odds_dead(params, x[extreme], tx[extreme], T[extreme]))
    return p


def expected_purchases(
    params: FloatArray, x: FloatArray, tx: FloatArray, T: FloatArray, t: FloatArray | float
) -> FloatArray:
    """E[X(T, T+t) | x, tx, T], eq. (10), via the Euler-transformed hypergeometric term.

    ``E = (a+b+x-1) * G * P(alive)`` with ``G = [1 - (1-z)^(a-1) 2F1(a+b-1-r, a-1; a+b+x-1; z)]/(a-1)``
    and ``z = t/(alpha+T+t)``; algebraically identical to eq. (10).
    """
    t_arr = np.asarray(t, dtype=np.float64)
    if t_arr.ndim == 0 and np.ndim(x) == 1:
        # One horizon: the path shares the hypergeometric factor across rows with the same (x, T).
        one: FloatArray = expected_purchases_path(params, x, tx, T, t_arr.reshape(1))[0]
        return one
    r, alpha, a, b = (float(v) for v in params)
    CG = _scaled_residual(r, alpha, a, b, x, T, t_arr)
    out: FloatArray = CG * probability_alive(params, x, tx, T)
    return out


def expected_purchases_on_pairs(
    params: FloatArray, x: FloatArray, tx: FloatArray, T: FloatArray, pair_x: FloatArray, pair_T: FloatArray,
    pair_code: npt.NDArray[np.intp], t: FloatArray | float
) -> FloatArray:
    """:func:`expected_purchases` at one horizon ``t`` (a scalar) with the distinct ``(x, T)`` pairs given.

    ``pair_x[pair_code] == x`` and ``pair_T[pair_code] == T``: the hypergeometric factor of eq. (10) is evaluated
    once per pair, P(alive) once per row (the same numbers as :func:`expected_purchases`, which finds the pairs
    itself). :class:`clvkit.CustomerSummary` caches the pairs of its distinct rows, so scoring a summary again
    skips that grouping.
    """
    r, alpha, a, b = (float(v) for v in params)
    factor = _scaled_residual(r, alpha, a, b, pair_x, pair_T, np.asarray(t, dtype=np.float64).reshape(()))
    out = probability_alive(params, x, tx, T)
    out *= factor.take(pair_code)
    return out


def expected_purchases_path(
    params: FloatArray, x: FloatArray, tx: FloatArray, T: FloatArray, ts: FloatArray
) -> FloatArray:
    """:func:`expected_purchases` at several horizons ``ts`` at once, shape (len(ts), n).

    The hypergeometric factor depends on ``(x, T)`` only and P(alive) not on the horizon, so the
    factor is evaluated once per distinct ``(x, T)`` pair and horizon, and P(alive) once per row.
    """
    r, alpha, a, b = (float(v) for v in params)
    (xu, Tu), _, code = unique_rows([x, T], np.ones(x.shape[0]))
    p_alive = probability_alive(params, x, tx, T)
    out = np.empty((ts.shape[0], x.shape[0]))
    for i, t in enumerate(ts.tolist()):
        out[i] = _scaled_residual(r, alpha, a, b, xu, Tu, np.asarray(t))[code] * p_alive
    return out


def weighted_path_sum(params: FloatArray, x: FloatArray, tx: FloatArray, T: FloatArray, ts: FloatArray,
                      weights: FloatArray) -> FloatArray:
    """``sum_k weights[..., k] E[X(ts[k]) | x, tx, T]`` (eq. 10) without the path: shape (n,) or (m, n).

    ``E[X(t)] = C G(x, T, t) P(alive)(x, tx, T)`` and P(alive) does not depend on the horizon, so the sum is
    ``P(alive) sum_k w_k C G(x, T, t_k)``: the hypergeometric factor summed over the horizons once per distinct
    ``(x, T)`` pair (in chunks of at most ``PATH_CHUNK_CELLS`` values), times P(alive) per row. ``weights`` has
    shape (len(ts),) or (m, len(ts)) (e.g. discount weights and the last horizon's indicator, for clv()).
    """
    r, alpha, a, b = (float(v) for v in params)
    w = np.asarray(weights, dtype=np.float64)
    w2 = w.reshape(1, -1) if w.ndim == 1 else w
    sums, _, code = _generic.weighted_sum_over_pairs(partial(_scaled_residual, r, alpha, a, b), x, T, ts, w2)
    out: FloatArray = sums.take(code, axis=1)
    out *= probability_alive(params, x, tx, T)
    return out[0] if w.ndim == 1 else out


def _scaled_residual(r: float, alpha: float, a: float, b: float, x: FloatArray, T: FloatArray,
                     t: FloatArray) -> FloatArray:
    """``C G`` of eq. (10) elementwise: series / hyp2f1, with the quadrature fallback where hyp2f1 fails."""
    xb, Tb, tb = np.broadcast_arrays(x, T, t)
    z = tb / (alpha + Tb + tb)
    C = a + b + xb - 1.0
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        CG = scaled_residual_factor(np.full(C.shape, a + b - 1.0 - r), a - 1.0, C, z)
    return checked_scaled_residual(r, a, b, xb, tb / (alpha + Tb), z, CG)


#: E[X(t)] for a customer just acquired (eq. 9): the conditional expectation at x = tx = T = 0.
expected_purchases_new = partial(fresh_customer_expectation, expected_purchases)


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
    # log(1 - z) and log(z) from the sums themselves: finite even where z rounds to 1 (a horizon far beyond T).
    log_total = np.log(alpha + T + t_arr)
    log1mz = np.log(alpha + T) - log_total
    with np.errstate(divide="ignore"):
        log_z = np.log(t_arr) - log_total
    log_nb = (special.gammaln(rx + n_arr) - special.gammaln(rx) - special.gammaln(n_arr + 1.0)
              + rx * log1mz + n_arr * np.where(n_arr > 0, log_z, 0.0))  # no 0 * log(0) at n = 0
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


def probability_of_purchases_new(params: FloatArray, n: FloatArray, t: FloatArray) -> FloatArray:
    """P(X(t) = n) for a customer just acquired, Fader, Hardie & Lee (2005) eq. (8).

    ``P(X(t)=n) = B(a, b+n)/B(a, b) NB(n; r, alpha/(alpha+t)) + 1{n>0} B(a+1, b+n-1)/B(a, b) [1 - sum_{j<n}
    NB(j)]``, where ``NB(n; r, p) = Gamma(r+n)/(Gamma(r) n!) p^r (1-p)^n`` and the bracket, the negative
    binomial upper tail, is the regularised incomplete beta ``I_z(n, r)`` with ``z = t/(alpha+t)`` (no
    cancellation when the sum is close to 1). ``n`` and ``t`` broadcast together.
    """
    r, alpha, a, b = (float(v) for v in params)
    n_b, t_b = np.broadcast_arrays(np.asarray(n, dtype=np.float64), np.asarray(t, dtype=np.float64))
    log_p0 = np.log(alpha) - np.log(alpha + t_b)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_z = np.log(t_b) - np.log(alpha + t_b)
        n_term = np.where(n_b > 0, n_b * log_z, 0.0)
    log_nb = special.gammaln(r + n_b) - special.gammaln(r) - special.gammaln(n_b + 1.0) + r * log_p0 + n_term
    log_b = special.betaln(a, b)
    n_safe = np.where(n_b > 0, n_b, 1.0)
    tail = np.exp(special.betaln(a + 1.0, b + n_safe - 1.0) - log_b) * special.betainc(n_safe, r, np.exp(log_z))
    out: FloatArray = np.exp(special.betaln(a, b + n_b) - log_b + log_nb) + np.where(n_b > 0, tail, 0.0)
    return out


#: DERT at the discrete rate ``d`` per time unit (no closed form: by quadrature, see :mod:`._generic`).
discounted_residual = partial(discounted_residual_from_path, expected_purchases_path)
