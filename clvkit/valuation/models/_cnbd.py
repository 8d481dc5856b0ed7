"""Pure kernels of the CNBD-k family: CNBD-k, BG/CNBD-k and MBG/CNBD-k (arrays in, arrays out).

Purchases of an active customer form a renewal process with Erlang-k inter-purchase times of rate lambda
(the sum of k exponential "ticks" of rate lambda, mean k/lambda): k = 1 is the Poisson process of the NBD,
larger k more regular timing. lambda ~ Gamma(r, alpha) across customers. Dropout as in the BG/NBD (after
each repeat purchase with probability p ~ Beta(a, b)), the MBG/NBD (also right at the first purchase) or
none (CNBD-k). With k = 1 the three are exactly NBD, BG/NBD and MBG/NBD.

References: M. Platzer and T. Reutterer (2016), "Ticking Away the Moments: Timing Regularity Helps to Better
Predict Customer Activity", Marketing Science 35(5), 779-799; T. Reutterer, M. Platzer and N. Schroeder
(2020), "Leveraging purchase regularity for predicting customer behavior the easy way", International
Journal of Research in Marketing 38(1), 194-215 (the (M)BG/CNBD-k likelihood). The prediction formulas
below are derived here from the model's assumptions (each docstring gives the derivation); BTYDplus
approximates the conditional expectation instead.

``params`` is ``(k, r, alpha)`` for CNBD-k and ``(k, r, alpha, a, b)`` for (M)BG/CNBD-k, ``k`` a whole
number stored as a float; ``x, tx, T`` frequency, recency and age arrays of one shape; ``litt`` the sum of
the logarithms of each customer's inter-purchase times (0 for x = 0).

The state of an active customer at T is the number j of ticks since the last purchase (the phase,
0..k-1). Given the data and alive, ``P(j) = w_j ∝ (R0)_j / j! u^j`` with ``R0 = r + k x`` and
``u = (T - tx)/(alpha + T)``, and given j, lambda ~ Gamma(R0 + j, alpha + T) and p ~ Beta(a, b')
(``b' = b + x`` for BG, ``b + x + 1`` for MBG).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import numpy.typing as npt
from scipy import special

from ._generic import discounted_residual_from_path, path_over_distinct_rows

__all__ = ["BG", "KERNELS", "MBG", "NBD", "CnbdKernel", "family_params", "loglik", "loglik_hessian",
           "simulate_times"]

FloatArray = npt.NDArray[np.float64]

#: Dropout families: none (CNBD-k), after each repeat purchase (BG), also at time 0 (MBG).
NBD, BG, MBG = "nbd", "bg", "mbg"
#: Gauss nodes per piece of the graded rule over the dropout probability p ~ Beta(a, b') (see :func:`_beta_nodes`).
N_PIECE = 20


def family_params(params: FloatArray, family: str) -> tuple[int, float, float, float, float]:
    """``(k, r, alpha, a, b)`` of a parameter array (``a = b = 0`` for CNBD-k)."""
    k = round(float(params[0]))
    r, alpha = float(params[1]), float(params[2])
    if family == NBD:
        return k, r, alpha, 0.0, 0.0
    return k, r, alpha, float(params[3]), float(params[4])


def _phase_logweights(k: int, R0: FloatArray, u: FloatArray) -> FloatArray:
    """``log[(R0)_j / j! u^j]`` for j = 0..k-1, shape (k, n) (``-inf`` for j > 0 where u = 0)."""
    out = np.empty((k, R0.shape[0]))
    out[0] = 0.0
    with np.errstate(divide="ignore"):
        log_u = np.log(u)
    for j in range(1, k):
        out[j] = out[j - 1] + np.log(R0 + (j - 1)) - math.log(j) + log_u
    return out


def _log_sum(lw: FloatArray) -> tuple[FloatArray, FloatArray]:
    """``log sum_j exp(lw_j)`` and the normalised weights ``exp(lw_j - that)`` (shape of ``lw``)."""
    top = lw.max(axis=0)
    e = np.exp(lw - top)
    s = e.sum(axis=0)
    return top + np.log(s), e / s


def _dead_log(k: int, r: float, alpha: float, a: float, b: float, x: FloatArray, tx: FloatArray, T: FloatArray,
              family: str) -> FloatArray:
    """Log of the dead branch relative to the alive one's first term: ``log[a/(b+x-1+m) ((alpha+T)/(alpha+tx))^R0]``
    (``-inf`` where the customer cannot have dropped out: CNBD-k, and BG with x = 0)."""
    R0 = r + k * x
    if family == NBD:
        return np.full(x.shape, -np.inf)
    m = 1.0 if family == MBG else 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        d = np.log(a) - np.log(b + x - 1.0 + m) + R0 * np.log1p((T - tx) / (alpha + tx))
    if family == BG:
        d = np.where(x > 0, d, -np.inf)
    out: FloatArray = d
    return out


def loglik(params: FloatArray, x: FloatArray, tx: FloatArray, T: FloatArray, litt: FloatArray | float,
           family: str, codes: tuple[FloatArray, npt.NDArray[np.intp]] | None = None) -> tuple[FloatArray, FloatArray]:
    """Per-customer log-likelihood and its gradient w.r.t. the continuous parameters ``(r, alpha[, a, b])``.

    Given lambda and p, the x inter-purchase densities give ``lambda^(kx) prod t_i^(k-1) e^(-lambda tx) /
    Gamma(k)^x``; the customer is then alive ((1-p)^(x+m), and no Erlang renewal in the gap T - tx:
    ``e^(-lambda (T-tx)) sum_{j<k} (lambda (T-tx))^j / j!``) or dropped out after the last purchase
    (``p (1-p)^(x-1+m)``, for BG only when x > 0). Integrating lambda ~ Gamma(r, alpha) and p ~ Beta(a, b)
    (Reutterer, Platzer & Schroeder 2020, eq. 6; Platzer & Reutterer 2016 for CNBD-k):

    ``log L = (k-1) litt - x log Gamma(k) + log B(a, b+x+m)/B(a, b) + log Gamma(R0) alpha^r / Gamma(r)
    - R0 log(alpha+T) + log[ sum_{j<k} (R0)_j/j! u^j + a/(b+x-1+m) ((alpha+T)/(alpha+tx))^R0 ]``

    with ``R0 = r + k x`` and ``u = (T-tx)/(alpha+T)``. k = 1 gives the NBD, BG/NBD and MBG/NBD likelihoods.

    ``codes`` (optional) is ``np.unique(x, return_inverse=True)``: every function of x alone (gammaln, digamma,
    betaln, logs of ``R0 + j``) is then evaluated once per distinct x and gathered - frequencies take few values,
    and scipy's special functions cost far more than a gather.

    Returns
    -------
    (ll, grad):
        ``ll`` of shape (n,), ``grad`` of shape (n, 2) for CNBD-k and (n, 4) otherwise.
    """
    ll, grad, _ = _loglik(params, x, tx, T, litt, family, codes, False)
    return ll, grad


def loglik_hessian(params: FloatArray, x: FloatArray, tx: FloatArray, T: FloatArray, litt: FloatArray | float,
                   family: str, codes: tuple[FloatArray, npt.NDArray[np.intp]] | None = None
                   ) -> tuple[FloatArray, FloatArray, FloatArray]:
    """:func:`loglik` (the same operations, so the same ``ll`` and ``grad``) and the per-row Hessian w.r.t. the
    continuous parameters ``(r, alpha[, a, b])``, in one pass.

    The log-likelihood is gamma-function and log terms plus ``log[S + D]`` with ``S = sum_j exp(lw_j)``,
    ``lw_j = log[(R0)_j / j! u^j]`` (the phases) and ``D`` the dead branch. For a log of a sum of positive terms
    ``exp(f_i)`` with weights ``w_i = exp(f_i) / sum``: ``d^2 log sum = sum_i w_i d^2 f_i + sum_i w_i (d f_i - m)(d f_i
    - m)^T``, ``m = sum_i w_i d f_i`` - applied to the phases (``d lw_j / dr = sum_{i<j} 1/(R0+i)``, ``d lw_j / dalpha =
    -j/(alpha+T)``, second derivatives ``-sum_{i<j} 1/(R0+i)^2`` and ``j/(alpha+T)^2``) and then to the two branches
    ``log S`` and ``log D = log a - log(b+x-1+m) + R0 log((alpha+T)/(alpha+tx))``. The other terms give trigamma
    functions: ``psi'(R0) - psi'(r)`` and those of ``log B(a, b+x+m) / B(a, b)``.

    Returns
    -------
    (ll, grad, hess):
        Shapes (n,), (n, p), (n, p, p) with p = 2 for CNBD-k and 4 otherwise.

    Examples
    --------
    >>> import numpy as np
    >>> params = np.array([2.0, 1.0, 3.0, 0.8, 4.0])  # k, r, alpha, a, b
    >>> x, tx, T = np.array([0.0, 3.0]), np.array([0.0, 20.0]), np.array([52.0, 52.0])
    >>> ll, grad, hess = loglik_hessian(params, x, tx, T, 0.0, BG)
    >>> bool(np.array_equal(grad, loglik(params, x, tx, T, 0.0, BG)[1])), hess.shape
    (True, (2, 4, 4))
    """
    ll, grad, hess = _loglik(params, x, tx, T, litt, family, codes, True)
    assert hess is not None
    return ll, grad, hess


def _loglik(params: FloatArray, x: FloatArray, tx: FloatArray, T: FloatArray, litt: FloatArray | float,
            family: str, codes: tuple[FloatArray, npt.NDArray[np.intp]] | None, want_hess: bool
            ) -> tuple[FloatArray, FloatArray, FloatArray | None]:
    """:func:`loglik` and, when ``want_hess``, the Hessian of :func:`loglik_hessian`."""
    k, r, alpha, a, b = family_params(params, family)
    xu, inv = codes if codes is not None else (x, None)

    def per_x(values: FloatArray) -> FloatArray:
        return values if inv is None else values[inv]

    n = x.shape[0]
    R0u = r + k * xu
    R0 = per_x(R0u)
    A = alpha + T
    logA = np.log(A)
    gap = T - tx
    v: FloatArray | None = None
    if k > 1:
        with np.errstate(divide="ignore"):
            log_u = np.log(gap) - logA
        lw = np.empty((k, n))
        lw[0] = 0.0
        for j in range(1, k):
            lw[j] = lw[j - 1] + per_x(np.log(R0u + (j - 1))) - math.log(j) + log_u
        logS, v = _log_sum(lw)
    else:
        logS = np.zeros(n)
    ll: FloatArray = ((k - 1.0) * np.asarray(litt) - x * math.lgamma(k) + per_x(special.gammaln(R0u))
                      - special.gammaln(r) + r * math.log(alpha) - R0 * logA)
    n_grad = 2 if family == NBD else 4
    grad = np.empty((n, n_grad))
    grad[:, 0] = per_x(special.digamma(R0u)) - special.digamma(r) + math.log(alpha) - logA
    grad[:, 1] = r / alpha - R0 / A
    # The Hessian is built as (p, p, n) (contiguous rows per entry) and returned as its (n, p, p) view.
    hess = np.zeros((n_grad, n_grad, n)) if want_hess else None
    # The phases' log S (k > 1): its gradient (r, alpha) and Hessian, needed by both branches' combination.
    gS_r: FloatArray | float = 0.0
    gS_a: FloatArray | float = 0.0
    hS = np.zeros((2, 2, n)) if want_hess else None
    inv_A = 1.0 / A
    if hess is not None:
        hess[0, 0] = per_x(special.zeta(2.0, R0u)) - float(special.zeta(2.0, r))  # trigamma
        hess[0, 1] = 1.0 / alpha - inv_A
        hess[1, 1] = R0 * inv_A * inv_A - r / (alpha * alpha)
        if v is not None and hS is not None:
            # Centred moments over the phases of P_j = sum_{i<j} 1/(R0+i) and j.
            steps = [per_x(1.0 / (R0u + (j - 1))) for j in range(1, k)]
            P = np.zeros(n)
            mP = np.zeros(n)
            mQ = np.zeros(n)
            mj = np.zeros(n)
            Q = np.zeros(n)
            for j in range(1, k):
                P = P + steps[j - 1]
                Q = Q + steps[j - 1] * steps[j - 1]
                mP += v[j] * P
                mQ += v[j] * Q
                mj += j * v[j]
            vPP = np.zeros(n)
            vPj = np.zeros(n)
            vjj = np.zeros(n)
            dP = -mP
            for j in range(k):
                if j:
                    dP = dP + steps[j - 1]
                dj = j - mj
                vdP = v[j] * dP
                vPP += vdP * dP
                vPj += vdP * dj
                vjj += v[j] * dj * dj
            hS[0, 0] = vPP - mQ
            hS[0, 1] = -vPj * inv_A
            hS[1, 1] = (mj + vjj) * inv_A * inv_A
            gS_r, gS_a = mP, -mj * inv_A
    if family == NBD:
        wS: FloatArray | float = 1.0
        ll += logS
        if hess is not None and hS is not None:
            hess += hS
            hess[1, 0] = hess[0, 1]
    else:
        m = 1.0 if family == MBG else 0.0
        log_ratio = np.log1p(gap / (alpha + tx))
        with np.errstate(divide="ignore", invalid="ignore"):
            log_bx = np.log(b + xu - 1.0 + m)
            logD = math.log(a) - per_x(log_bx) + R0 * log_ratio
        if family == BG:
            logD = np.where(x > 0, logD, -np.inf)
        both = np.logaddexp(logS, logD)
        wD = np.exp(logD - both)
        wS = 1.0 - wD
        ll += both + per_x(special.betaln(a, b + xu + m)) - special.betaln(a, b)
        grad[:, 0] += wD * log_ratio
        grad[:, 1] += wD * R0 * (1.0 / A - 1.0 / (alpha + tx))
        dig_ab = special.digamma(a + b)
        dig_abx = per_x(special.digamma(a + b + xu + m))
        grad[:, 2] = dig_ab - dig_abx + wD / a
        with np.errstate(divide="ignore", invalid="ignore"):
            dead_b = np.where(wD > 0.0, wD * per_x(1.0 / (b + xu - 1.0 + m)), 0.0)
        grad[:, 3] = per_x(special.digamma(b + xu + m)) - dig_abx - special.digamma(b) + dig_ab - dead_b
        if hess is not None and hS is not None:
            # log B(a, b+x+m) / B(a, b): trigamma terms.
            tri_ab = float(special.zeta(2.0, a + b))
            tri_abx = per_x(special.zeta(2.0, a + b + xu + m))
            hess[2, 2] = hess[2, 3] = tri_ab - tri_abx
            hess[3, 3] = per_x(special.zeta(2.0, b + xu + m)) - float(special.zeta(2.0, b)) - tri_abx + tri_ab
            # The two branches: w_S H_S + w_D H_D + w_S w_D (g_S - g_D)(g_S - g_D)^T, where the dead branch exists
            # (H_D: d^2 log D; log D = log a - log(b+x-1+m) + R0 log((alpha+T)/(alpha+tx))).
            dead = wD > 0.0
            gap_ratio = gap * inv_A / (alpha + tx)  # 1/(alpha+tx) - 1/(alpha+T), without cancellation
            with np.errstate(divide="ignore", invalid="ignore"):
                inv_bx = np.where(dead, per_x(1.0 / (b + xu - 1.0 + m)), 0.0)
            d_SD = (gS_r - np.where(dead, log_ratio, 0.0), gS_a + R0 * gap_ratio, np.full(n, -1.0 / a), inv_bx)
            wSD = wS * wD
            hD = {(0, 1): -gap_ratio, (1, 1): R0 * gap_ratio * (1.0 / (alpha + tx) + inv_A),
                  (2, 2): np.full(n, -1.0 / (a * a)), (3, 3): inv_bx * inv_bx}
            for i in range(4):
                wd_i = wSD * d_SD[i]
                for j in range(i, 4):
                    entry = hess[i, j] + wd_i * d_SD[j]
                    if i < 2 and j < 2:
                        entry += wS * hS[i, j]
                    if (i, j) in hD:
                        entry += wD * hD[(i, j)]
                    hess[i, j] = hess[j, i] = entry
    if v is not None:
        # d log S: (R0)_j/j! u^j with d/dr log (R0)_j = sum_{i<j} 1/(R0+i) and d/dalpha log u^j = -j/A.
        dS_dr = np.zeros(n)
        partial = np.zeros(n)
        j_mean = np.zeros(n)
        for j in range(1, k):
            partial += per_x(1.0 / (R0u + (j - 1)))
            dS_dr += v[j] * partial
            j_mean += j * v[j]
        grad[:, 0] += wS * dS_dr
        grad[:, 1] -= wS * j_mean / A
    return ll, grad, None if hess is None else hess.transpose(2, 0, 1)


def log_odds_dead(params: FloatArray, x: FloatArray, tx: FloatArray, T: FloatArray, family: str) -> FloatArray:
    """``log[P(dead)/P(alive)]``: the dead branch of :func:`loglik` against the alive sum (``-inf``: alive)."""
    k, r, alpha, a, b = family_params(params, family)
    R0 = r + k * x
    logS, _ = _log_sum(_phase_logweights(k, R0, (T - tx) / (alpha + T)))
    out: FloatArray = _dead_log(k, r, alpha, a, b, x, tx, T, family) - logS
    return out


def probability_alive(params: FloatArray, x: FloatArray, tx: FloatArray, T: FloatArray, family: str) -> FloatArray:
    """P(alive at T | x, tx, T): Bayes' rule on the two branches of :func:`loglik` (1 for CNBD-k)."""
    p: FloatArray = special.expit(-log_odds_dead(params, x, tx, T, family))
    return p


def _posterior(params: FloatArray, x: FloatArray, tx: FloatArray, T: FloatArray, family: str
               ) -> tuple[int, float, float, FloatArray, FloatArray, FloatArray, FloatArray]:
    """``(k, a, b_post_shift, R0, A, w, p_alive)``: the phase weights ``w`` (k, n) given alive."""
    k, r, alpha, a, b = family_params(params, family)
    R0 = r + k * x
    A = alpha + T
    lw = _phase_logweights(k, R0, (T - tx) / A)
    logS, w = _log_sum(lw)
    p_alive = special.expit(logS - _dead_log(k, r, alpha, a, b, x, tx, T, family))
    return k, a, b, R0, A, w, p_alive


def _renewals(k: int, j: int, s: FloatArray, R: FloatArray, A: FloatArray, t: FloatArray) -> FloatArray:
    """E[purchases in (0, t] | phase j, lambda ~ Gamma(R, A), survival q = s^k per purchase], elementwise.

    The phases form a Markov chain with generator ``lambda (P - I)``, P the cyclic shift whose wrap-around
    (a purchase) carries the survival q. Its eigenvalues are ``mu_l = s omega^l`` (``omega = e^(2 pi i/k)``,
    ``s = q^(1/k)``), and ``[e^(lambda (P-I) t)]_{j,k-1} = (1/k) sum_l s^-d omega^-ld e^(-lambda t (1-mu_l))``
    with ``d = k-1-j``. Purchases happen at rate lambda from phase k-1, so integrating over (0, t] and
    lambda ~ Gamma(R, A):

    ``E = (1/k) sum_l s^-d omega^-ld [1 - (1 + t (1-mu_l)/A)^-R] / (1-mu_l)``

    (l = 0 by ``expm1``/``log1p``, exact as s -> 1: its limit is ``t R / A``).
    """
    d = k - 1 - j
    c0 = -np.expm1(np.log(s))  # 1 - s, accurate for s near 1
    y0 = t * c0 / A
    with np.errstate(invalid="ignore", divide="ignore"):
        term0 = np.where(c0 > 0.0, -np.expm1(-R * np.log1p(y0)) / np.where(c0 > 0.0, c0, 1.0), t * R / A)
    total = term0 * s ** (-d)
    for ell in range(1, k):
        omega = complex(math.cos(2.0 * math.pi * ell / k), math.sin(2.0 * math.pi * ell / k))
        c = 1.0 - s * omega
        val = (1.0 - np.exp(-R * np.log(1.0 + t * c / A))) / c
        total = total + np.real(val * omega ** (-d)) * s ** (-d)
    out: FloatArray = total / k
    return out


#: Up to this b' the last piece of :func:`_beta_nodes` takes ``(1-p)^(b'-1)`` as its Gauss-Jacobi weight (a
#: non-integer power is not smooth at p = 1); beyond it the factor is below 2^-63 on that piece and smooth.
_EXACT_TAIL = 64.0


@lru_cache(maxsize=4096)
def _unit_rules(a: float, b_post: float) -> tuple[FloatArray, ...]:
    """Gauss rules on [0, 1] with ``N_PIECE`` nodes: ``(u, w)`` for the weight ``u^(a-1)``, for no weight (Legendre)
    and for the weight ``(1-u)^(bb-1)``, ``bb = b_post`` up to ``_EXACT_TAIL`` (else 1: Legendre)."""
    bb = b_post if b_post < _EXACT_TAIL else 1.0
    yj, wj = special.roots_jacobi(N_PIECE, 0.0, a - 1.0)
    yl, wl = special.roots_legendre(N_PIECE)
    yb, wb = special.roots_jacobi(N_PIECE, bb - 1.0, 0.0)
    rules = (0.5 * (1.0 + yj), wj / 2.0**a, 0.5 * (1.0 + yl), wl / 2.0, 0.5 * (1.0 + yb), wb / 2.0**bb)
    for arr in rules:
        arr.flags.writeable = False
    return rules


def _beta_nodes(a: float, b_post: float, first: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Nodes p and weights, shape (nodes, n), of ``E[g(p)]`` for p ~ Beta(a, b_post), graded towards 0 per row.

    The integrands of :func:`expected_alive` vary on the scale ``first`` near p = 0 (~ k (alpha+T)/(t R): over a long
    horizon a small dropout probability already matters; their singularity lies at p ~ -k(alpha+T)/t), the Beta
    density on the scale 1/b'. A composite rule on ``[0, first], [first, 4 first], ... , [1/2, 1]`` resolves every
    scale from ``first`` up with a piece of its size, so every piece converges geometrically: the first piece integrates
    ``p^(a-1)`` exactly (Gauss-Jacobi), the middle ones are Gauss-Legendre, the last takes ``(1-p)^(b'-1)`` exactly
    (up to ``b' = 64``).
    """
    uj, wj, ul, wl, ub, wb = _unit_rules(a, b_post)
    lb = special.betaln(a, b_post)
    first = np.minimum(first, 0.5)
    n_mid = max(0, math.ceil(math.log(0.5 / float(first.min())) / math.log(4.0) - 1e-12)) if first.size else 0
    nodes: list[FloatArray] = []
    weights: list[FloatArray] = []
    # [0, first]: p = first u, weight u^(a-1) exact
    p = first[None, :] * uj[:, None]
    nodes.append(p)
    weights.append(wj[:, None] * np.exp(a * np.log(first)[None, :] + (b_post - 1.0) * np.log1p(-p) - lb))
    lo = first
    for _ in range(n_mid):
        hi = np.minimum(0.5, 4.0 * lo)
        p = lo[None, :] + (hi - lo)[None, :] * ul[:, None]
        nodes.append(p)
        weights.append(wl[:, None] * (hi - lo)[None, :]
                       * np.exp((a - 1.0) * np.log(p) + (b_post - 1.0) * np.log1p(-p) - lb))
        lo = hi
    # [1/2, 1]: p = (1 + u)/2, (1-p)^(b'-1) dp = 2^-b' (1-u)^(bb-1) (1-u)^(b'-bb) du
    bb = b_post if b_post < _EXACT_TAIL else 1.0
    p = 0.5 + 0.5 * ub
    w_last = wb * np.exp(b_post * math.log(0.5) + (a - 1.0) * np.log(p) + (b_post - bb) * np.log1p(-ub) - lb)
    nodes.append(np.broadcast_to(p[:, None], (p.shape[0], first.shape[0])))
    weights.append(np.broadcast_to(w_last[:, None], (p.shape[0], first.shape[0])))
    return np.concatenate(nodes), np.concatenate(weights)


def expected_alive(params: FloatArray, x: FloatArray, tx: FloatArray, T: FloatArray, t: FloatArray,
                   family: str) -> tuple[FloatArray, FloatArray]:
    """``(E[X(T, T+t) | alive at T], P(alive))`` for the general k (no closed form for k > 1).

    ``E[. | alive] = sum_j w_j E_p[ :func:`_renewals` (j, s = (1-p)^(1/k), R0 + j, alpha + T, t) ]``, the
    expectation over p ~ Beta(a, b') by a graded composite Gauss rule per distinct x (:func:`_beta_nodes`;
    CNBD-k: p = 0).
    """
    k, a, b, R0, A, w, p_alive = _posterior(params, x, tx, T, family)
    xb, Ab, tb = np.broadcast_arrays(x, A, np.asarray(t, dtype=np.float64))
    R0b = np.broadcast_to(R0, xb.shape)
    wb = np.broadcast_to(w, (k, *xb.shape))
    out = np.zeros(xb.shape)
    if family == NBD:
        ones = np.ones(xb.shape)
        for j in range(k):
            out += wb[j] * _renewals(k, j, ones, R0b + j, Ab, tb)
        return out, np.broadcast_to(p_alive, xb.shape).copy()
    m = 1.0 if family == MBG else 0.0
    for xv in np.unique(xb):
        sel = np.nonzero(xb == xv)
        b_post = b + float(xv) + m
        A_sel, t_sel = Ab[sel], tb[sel]
        with np.errstate(divide="ignore"):
            # (1 + t c/A)^-R varies on the scale c ~ A/(t R), i.e. p ~ k A/(t R); the Beta density on p ~ 1/b'
            first = np.minimum(4.0 * k * A_sel / (t_sel * np.maximum(R0b[sel], 1.0)), 4.0 / b_post)
        nodes, wts = _beta_nodes(a, b_post, first)
        s = np.exp(np.log1p(-nodes) / k)  # (nodes, n)
        acc = np.zeros(A_sel.shape[0])
        for j in range(k):
            acc += wb[j][sel] * np.einsum("ij,ij->j", wts, _renewals(k, j, s, R0b[sel][None, :] + j, A_sel[None, :],
                                                                      t_sel[None, :]))
        out[sel] = acc
    return out, np.broadcast_to(p_alive, xb.shape).copy()


def expected_purchases(params: FloatArray, x: FloatArray, tx: FloatArray, T: FloatArray, t: FloatArray,
                       family: str) -> FloatArray:
    """E[X(T, T+t) | x, tx, T] = P(alive) E[X(T, T+t) | alive] (see :func:`expected_alive`)."""
    e, p_alive = expected_alive(params, x, tx, T, t, family)
    out: FloatArray = p_alive * e
    return out


def probability_of_purchases(params: FloatArray, x: FloatArray, tx: FloatArray, T: FloatArray, n: FloatArray,
                             t: FloatArray, family: str) -> FloatArray:
    """P(X(T, T+t) = n | x, tx, T).

    Given alive, phase j, lambda and p, the n-th future purchase needs ``nk - j`` ticks within t and the n-1
    purchases before it survived: ``P(X >= n) = (1-p)^(n-1) P(Poisson(lambda t) >= nk - j)``. Over
    lambda ~ Gamma(R0+j, alpha+T) the tick count is negative binomial, ``P(N >= m) = I_z(m, R0+j)`` with
    ``z = t/(alpha+T+t)``; over p ~ Beta(a, b'), ``E[(1-p)^(n-1)] = B(a, b'+n-1)/B(a, b')``. Then
    ``P(X = n) = P(alive) [G(n) - G(n+1)] + 1{n=0} (1 - P(alive))`` with ``G(0) = 1``.
    """
    k, a, b, R0, A, w, p_alive = _posterior(params, x, tx, T, family)
    n_arr = np.asarray(n, dtype=np.float64)
    t_arr = np.asarray(t, dtype=np.float64)
    z = t_arr / (A + t_arr)
    m = 1.0 if family == MBG else 0.0

    def at_least(nn: FloatArray) -> FloatArray:
        pos = nn > 0
        n_safe = np.where(pos, nn, 1.0)
        tail = np.zeros(np.broadcast_shapes(nn.shape, z.shape, R0.shape))
        for j in range(k):
            tail = tail + w[j] * special.betainc(n_safe * k - j, R0 + j, z)
        if family != NBD:
            b_post = b + x + m
            tail = tail * np.exp(special.betaln(a, b_post + n_safe - 1.0) - special.betaln(a, b_post))
        res: FloatArray = np.where(pos, tail, 1.0)
        return res

    G_n = at_least(n_arr)
    G_n1 = at_least(n_arr + 1.0)
    # n = 0: 1 - G(1) from the complementary tails, sum_j w_j P(N_j < k - j) (no cancellation when G(1) ~ 1).
    none = np.zeros(np.broadcast_shapes(z.shape, R0.shape))
    for j in range(k):
        none = none + w[j] * special.betaincc(float(k - j), R0 + j, z)
    diff = np.where(n_arr == 0, none, np.maximum(G_n - G_n1, 0.0))
    out: FloatArray = p_alive * diff + np.where(n_arr == 0, 1.0 - p_alive, 0.0)
    return out


def simulate_times(params: FloatArray, T: FloatArray, rng: np.random.Generator, family: str
                   ) -> tuple[FloatArray, FloatArray, npt.NDArray[np.int64], FloatArray]:
    """Customers drawn from the model: ``(x, tx, offsets, times)`` with each customer's repeat purchase times
    ``times[offsets[i]:offsets[i+1]]`` (ascending, within (0, T])."""
    k, r, alpha, a, b = family_params(params, family)
    n = T.shape[0]
    lam = np.asarray(rng.gamma(r, 1.0 / alpha, size=n), dtype=np.float64)
    p = np.asarray(rng.beta(a, b, size=n), dtype=np.float64) if family != NBD else np.zeros(n)
    active = np.ones(n, dtype=bool)
    if family == MBG:
        active &= rng.random(n) >= p
    now = np.zeros(n)
    customers: list[npt.NDArray[np.intp]] = []
    stamps: list[FloatArray] = []
    idx = np.nonzero(active)[0]
    while idx.size:
        gap = rng.gamma(float(k), 1.0 / lam[idx])
        now[idx] += gap
        inside = now[idx] <= T[idx]
        idx = idx[inside]
        customers.append(idx)
        stamps.append(now[idx].copy())
        survive = rng.random(idx.size) >= p[idx]
        idx = idx[survive]
    who = np.concatenate(customers) if customers else np.zeros(0, dtype=np.intp)
    when = np.concatenate(stamps) if stamps else np.zeros(0)
    order = np.lexsort((when, who))
    who, when = who[order], when[order]
    counts = np.bincount(who, minlength=n)
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    x = counts.astype(np.float64)
    tx = np.zeros(n)
    has = counts > 0
    tx[has] = when[offsets[1:][has] - 1]
    return x, tx, offsets, when


class CnbdKernel:
    """The :class:`~._count.CountKernel` of one family: the functions above with the family bound."""

    def __init__(self, family: str) -> None:
        self.family = family

    def probability_alive(self, params: FloatArray, x: FloatArray, tx: FloatArray, T: FloatArray, /) -> FloatArray:
        return probability_alive(params, x, tx, T, self.family)

    def expected_purchases(self, params: FloatArray, x: FloatArray, tx: FloatArray, T: FloatArray, t: FloatArray,
                           /) -> FloatArray:
        return expected_purchases(params, x, tx, T, t, self.family)

    def expected_purchases_path(self, params: FloatArray, x: FloatArray, tx: FloatArray, T: FloatArray,
                                ts: FloatArray, /) -> FloatArray:
        return path_over_distinct_rows(self.expected_purchases, params, x, tx, T, ts)

    def probability_of_purchases(self, params: FloatArray, x: FloatArray, tx: FloatArray, T: FloatArray,
                                 n: FloatArray, t: FloatArray, /) -> FloatArray:
        return probability_of_purchases(params, x, tx, T, n, t, self.family)

    def expected_purchases_new(self, params: FloatArray, t: FloatArray, /) -> FloatArray:
        t_arr = np.asarray(t, dtype=np.float64)
        zeros = np.zeros(t_arr.size)
        return expected_purchases(params, zeros, zeros, zeros, t_arr.reshape(-1), self.family).reshape(t_arr.shape)

    def probability_of_purchases_new(self, params: FloatArray, n: FloatArray, t: FloatArray, /) -> FloatArray:
        n_b, t_b = np.broadcast_arrays(np.asarray(n, dtype=np.float64), np.asarray(t, dtype=np.float64))
        zeros = np.zeros(n_b.size)
        out = probability_of_purchases(params, zeros, zeros, zeros, n_b.reshape(-1), t_b.reshape(-1), self.family)
        return np.asarray(out, dtype=np.float64).reshape(n_b.shape)

    def discounted_residual(self, params: FloatArray, x: FloatArray, tx: FloatArray, T: FloatArray, d: float,
                            /) -> FloatArray:
        return discounted_residual_from_path(self.expected_purchases_path, params, x, tx, T, d)

    def simulate(self, params: FloatArray, T: FloatArray, rng: np.random.Generator, /
                 ) -> tuple[FloatArray, FloatArray]:
        x, tx, _, _ = simulate_times(params, T, rng, self.family)
        return x, tx


KERNELS = {NBD: CnbdKernel(NBD), BG: CnbdKernel(BG), MBG: CnbdKernel(MBG)}
