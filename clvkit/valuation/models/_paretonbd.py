"""Pure kernels of the Pareto/NBD model (arrays in, arrays out).

Model (Schmittlein, Morrison & Colombo 1987, "Counting Your Customers: Who Are They and What Will They
Do Next?", Management Science 33(1), 1-24): while alive a customer buys as a Poisson process with rate
``lambda ~ Gamma(r, alpha)``; the lifetime is exponential with rate ``mu ~ Gamma(s, beta)``.
``params`` is the array ``(r, alpha, s, beta)``; ``x, tx, T`` are frequency, recency and age arrays of
one shape.

The likelihood (Fader & Hardie 2005, "A Note on Deriving the Pareto/NBD Model and Related Expressions",
eqs. 22-23; Fader, Hardie & Lee 2005, "A Note on Implementing the Pareto/NBD Model in MATLAB") is

    L = Gamma(r+x) alpha^r beta^s / Gamma(r) * [ E(T) + s * int_{tx}^{T} (alpha+tau)^-(r+x) (beta+tau)^-(s+1) dtau ]

with ``E(t) = (alpha+t)^-(r+x) (beta+t)^-s``. The integral over the dropout time ``tau`` is what the
MATLAB note writes as ``s/(r+s+x) * A0`` with the Gauss hypergeometric function. This module writes it
through one bounded function of three arguments,

    G(kappa; p, q) = q * int_0^inf (1+v)^-(q+1) (1+kappa v)^-p dv = P(V > U),

the probability that a Lomax(q, 1) variable ``U`` is smaller than an independent Lomax(p, 1/kappa)
variable ``V`` (equivalently ``E[B / (B + kappa (1-B))]`` with ``B ~ Beta(q, p)``). With
``kappa_t = (beta+t)/(alpha+t)``,

    s * int_t^inf (alpha+tau)^-(r+x) (beta+tau)^-(s+1) dtau = E(t) * G(kappa_t; r+x, s),
    1 - G(kappa; p, q) = G(1/kappa; q, p),

so ``L / (Gamma(r+x) alpha^r beta^s / Gamma(r)) = E(T) G(1/kappa_T; s, r+x) + E(tx) G(kappa_tx; r+x, s)``:
a sum of two positive terms, evaluated with ``logaddexp``. No subtraction of nearly equal
hypergeometric terms remains (the MATLAB form subtracts two of them and loses all digits when
``tx`` is close to ``T``).

``G`` is evaluated in one of two ways (:func:`log_g`):

- a power series (the MATLAB note's 2F1 after Euler's transformation): for ``kappa <= 1``,
  ``G = q/(p+q) 2F1(1, p; p+q+1; 1-kappa)``, for ``kappa > 1``,
  ``G = q/((p+q) kappa) 2F1(1, q+1; p+q+1; 1-1/kappa)``. Every term is positive and each ratio of
  consecutive terms is below the argument ``z``, so the sum has no cancellation and a rigorous tail
  bound; parameter derivatives come from the same loop. Used when ``z <= 0.9``;
- otherwise (``alpha`` and ``beta + t`` on very different scales, where the series converges slowly)
  Gauss-Legendre quadrature of the integral in ``y = log v``, on panels adapted to the integrand
  (:func:`_concave_quadrature`), with derivatives by differentiating under the integral.

Both agree with mpmath to about 1e-14 relative over the tested range (frequency up to 1e4, ages up
to 1e4, parameters 1e-3..1e3).
"""

from __future__ import annotations

import math
from functools import partial
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
from scipy import special

from ._generic import fresh_customer_pmf, path_over_distinct_rows
from ._paretonbd_g import GL_NODES as _GL_NODES
from ._paretonbd_g import GL_WEIGHTS as _GL_WEIGHTS
from ._paretonbd_g import Concave as _Concave
from ._paretonbd_g import concave_quadrature as _concave_quadrature
from ._paretonbd_g import log_g
from ._simulate import simulate_paretonbd as simulate

__all__ = [
    "Groups", "dert", "discounted_residual", "expected_purchases", "expected_purchases_new",
    "expected_purchases_path", "group_rows", "log_g", "log_probability_alive", "loglik", "loglik_hessian",
    "probability_alive",
    "probability_of_purchases", "probability_of_purchases_new", "simulate",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]

_CHUNK = 8192



# --------------------------------------------------------------------------------------------------
# The model
# --------------------------------------------------------------------------------------------------
def _split(params: FloatArray) -> tuple[float, float, float, float]:
    r, alpha, s, beta = (float(v) for v in params)
    return r, alpha, s, beta


def _columns(params: FloatArray, index: IntArray | None = None) -> tuple[Any, Any, Any, Any]:
    """``(r, alpha, s, beta)`` for the likelihood parts: floats from params of shape (4,); from params of shape
    (m, 4) (one row of parameters per key - customers with covariates) each column taken at ``index`` (every
    part row's key; all rows when ``None``), or a float where the column is the same for every key (a parameter no
    covariate scales keeps its gammaln, log, ... scalar)."""
    if params.ndim == 1:
        return _split(params)
    cols = tuple(float(c[0]) if c.shape[0] and np.all(c == c[0]) else (c if index is None else c[index])
                 for c in params.T)
    return cols[0], cols[1], cols[2], cols[3]


class Groups(NamedTuple):
    """Distinct values the likelihood depends on, with each row's position among them.

    The likelihood of a row combines a part that depends on ``(x, T)`` only (the ``*_age`` fields),
    a part that depends on ``(x, tx)`` only and a part that depends on ``x`` only. Real summaries
    (whole days, a few hundred acquisition dates) have far fewer distinct pairs than rows, so the
    expensive hypergeometric part is evaluated once per pair (e.g. 100,000 customers: ~40,000
    distinct rows, ~6,000 pairs each).
    """

    x_u: FloatArray
    inv_x: IntArray
    x_tx: FloatArray
    tx_u: FloatArray
    inv_tx: IntArray
    x_age: FloatArray
    age_u: FloatArray
    inv_age: IntArray
    key_tx: IntArray
    key_age: IntArray
    xcode_tx: IntArray
    xcode_age: IntArray


def _codes(values: FloatArray) -> tuple[FloatArray, IntArray]:
    uniq, inverse = np.unique(values, return_inverse=True)
    return uniq, inverse.ravel().astype(np.intp)


def _pairs(code_a: IntArray, code_b: IntArray, n_b: int) -> tuple[IntArray, IntArray]:
    """First row of each distinct ``(code_a, code_b)`` and every row's pair index (1-D integer sort)."""
    key = code_a.astype(np.int64) * n_b + code_b
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    return first.astype(np.intp), inverse.ravel().astype(np.intp)


def group_rows(x: FloatArray, tx: FloatArray, T: FloatArray, key: IntArray | None = None) -> Groups:
    """The :class:`Groups` of rows ``(x, tx, T)``; computed once per fit.

    With ``key`` (integer codes, e.g. of the rows' covariate values, whose rows have different parameters),
    pairs are formed within equal keys only, so that every row of a pair has the pair's parameters.
    """
    x_u, cx = _codes(x)
    tx_u, ctx = _codes(tx)
    T_u, cT = _codes(T)
    # (key, x) as one code; its range (keys x frequencies) stays far below 2**63 even once multiplied by the
    # number of distinct tx or T values in _pairs.
    cxk = cx if key is None else np.asarray(key, dtype=np.intp) * x_u.shape[0] + cx
    first_tx, inv_tx = _pairs(cxk, ctx, tx_u.shape[0])
    first_T, inv_T = _pairs(cxk, cT, T_u.shape[0])
    keys = np.zeros(x.shape[0], dtype=np.intp) if key is None else np.asarray(key, dtype=np.intp)
    return Groups(x_u, cx, x[first_tx], tx[first_tx], inv_tx, x[first_T], T[first_T], inv_T,
                  keys[first_tx], keys[first_T], cx[first_tx], cx[first_T])


def _log_e_hessian(a: Any, s: Any, ua: FloatArray, ub: FloatArray, m: int) -> FloatArray:
    """Second derivatives of ``log E(t) = -(r+x) log(alpha+t) - s log(beta+t)`` w.r.t. ``(r, alpha, s, beta)``,
    shape (m, 4, 4); ``ua = 1/(alpha+t)``, ``ub = 1/(beta+t)``."""
    out = np.zeros((m, 4, 4))
    out[:, 0, 1] = out[:, 1, 0] = -ua
    out[:, 1, 1] = a * ua * ua
    out[:, 2, 3] = out[:, 3, 2] = -ub
    out[:, 3, 3] = s * ub * ub
    return out


def _add_log_g_hessian(out: FloatArray, h: FloatArray, lk_jac: tuple[FloatArray, FloatArray], p_col: int,
                       q_col: int, g_lk: FloatArray) -> None:
    """Add the Hessian of ``log G(kappa; p, q)`` w.r.t. ``(r, alpha, s, beta)`` to ``out`` (m, 4, 4).

    ``h`` (m, 6): :func:`log_g`'s second derivatives w.r.t. ``(log kappa, p, q)``; ``log kappa = c_a log(alpha+t) +
    c_b log(beta+t)`` with ``lk_jac = (c_a / (alpha+t), c_b / (beta+t))`` its derivatives (``c = +-1``), ``p`` and
    ``q`` the parameters in columns ``p_col``, ``q_col`` plus a constant; ``g_lk`` the first derivative w.r.t.
    ``log kappa`` (times the second derivatives of ``log kappa``, ``-c / (alpha+t)^2`` and ``-c / (beta+t)^2``).
    """
    ja, jb = lk_jac
    out[:, 1, 1] += h[:, 0] * ja * ja - g_lk * ja * np.abs(ja)
    out[:, 3, 3] += h[:, 0] * jb * jb - g_lk * jb * np.abs(jb)
    out[:, 1, 3] += h[:, 0] * ja * jb
    out[:, 3, 1] += h[:, 0] * ja * jb
    for col, k in ((p_col, 1), (q_col, 2)):
        out[:, 1, col] += h[:, k] * ja
        out[:, col, 1] += h[:, k] * ja
        out[:, 3, col] += h[:, k] * jb
        out[:, col, 3] += h[:, k] * jb
    out[:, p_col, p_col] += h[:, 3]
    out[:, q_col, q_col] += h[:, 5]
    out[:, p_col, q_col] += h[:, 4]
    out[:, q_col, p_col] += h[:, 4]


def _alive_part(params: tuple[Any, Any, Any, Any], x: FloatArray, T: FloatArray, hess: FloatArray | None = None
                ) -> tuple[FloatArray, FloatArray]:
    """``A = log E(T) + log G(1/kappa_T; s, r+x)`` and its gradient, shapes (m,), (m, 4) (params: :func:`_columns`);
    with ``hess`` (m, 4, 4) its second derivatives are written there."""
    r, alpha, s, beta = params
    a = r + x
    la, lb = np.log(alpha + T), np.log(beta + T)
    h_g = None if hess is None else np.empty((x.shape[0], 6))
    lh, h_lk, h_p, h_q = log_g(la - lb, np.broadcast_to(s, x.shape), a, grad=True, hess_out=h_g)
    if hess is not None and h_g is not None:
        ua, ub = 1.0 / (alpha + T), 1.0 / (beta + T)
        hess[...] = _log_e_hessian(a, s, ua, ub, x.shape[0])
        _add_log_g_hessian(hess, h_g, (ua, -ub), 2, 0, h_lk)
    value: FloatArray = -a * la - s * lb + lh
    grad = np.empty((x.shape[0], 4))
    grad[:, 0] = -la + h_q
    grad[:, 1] = (h_lk - a) / (alpha + T)
    grad[:, 2] = -lb + h_p
    grad[:, 3] = -(s + h_lk) / (beta + T)
    return value, grad


def _dropout_part(params: tuple[Any, Any, Any, Any], x: FloatArray, tx: FloatArray, hess: FloatArray | None = None
                  ) -> tuple[FloatArray, FloatArray]:
    """``B = log E(tx) + log G(kappa_tx; r+x, s)`` and its gradient, shapes (m,), (m, 4) (params: :func:`_columns`);
    with ``hess`` (m, 4, 4) its second derivatives are written there."""
    r, alpha, s, beta = params
    a = r + x
    la, lb = np.log(alpha + tx), np.log(beta + tx)
    h_g = None if hess is None else np.empty((x.shape[0], 6))
    lg, g_lk, g_p, g_q = log_g(lb - la, a, np.broadcast_to(s, x.shape), grad=True, hess_out=h_g)
    if hess is not None and h_g is not None:
        ua, ub = 1.0 / (alpha + tx), 1.0 / (beta + tx)
        hess[...] = _log_e_hessian(a, s, ua, ub, x.shape[0])
        _add_log_g_hessian(hess, h_g, (-ua, ub), 0, 2, g_lk)
    value: FloatArray = -a * la - s * lb + lg
    grad = np.empty((x.shape[0], 4))
    grad[:, 0] = -la + g_p
    grad[:, 1] = -(a + g_lk) / (alpha + tx)
    grad[:, 2] = -lb + g_q
    grad[:, 3] = (g_lk - s) / (beta + tx)
    return value, grad


def _frequency_part(params: tuple[Any, Any, Any, Any], x: FloatArray,
                    x_codes: tuple[FloatArray, IntArray] | None = None, hess: FloatArray | None = None,
                    hess_codes: tuple[FloatArray, IntArray] | None = None) -> tuple[FloatArray, FloatArray]:
    """``log[Gamma(r+x) alpha^r beta^s / Gamma(r)]`` and its gradient.

    ``x_codes`` (the distinct values of ``x`` and each row's index into them) lets the gamma-function terms be
    evaluated once per distinct ``x`` when ``r`` is one number (many rows share a frequency: with covariates, the
    pairs of every covariate group). ``params``: :func:`_columns`. With ``hess`` (m, 4, 4) the second derivatives
    are added to it (trigamma terms, ``1/alpha``, ``-r/alpha^2``, ``1/beta``, ``-s/beta^2``); ``hess_codes`` (as
    ``x_codes``) lets the trigamma terms alone be evaluated once per distinct ``x``.
    """
    if hess_codes is not None and x_codes is None and isinstance(params[0], float):
        x_codes_hess = hess_codes
    else:
        x_codes_hess = None
    r, alpha, s, beta = params
    if x_codes is not None and isinstance(r, float):
        x_u, code = x_codes
        log_ratio = (special.gammaln(r + x_u) - special.gammaln(r))[code]
        d_log_ratio = (special.digamma(r + x_u) - special.digamma(r))[code]
        if hess is not None:
            hess[:, 0, 0] += (special.zeta(2.0, r + x_u) - special.zeta(2.0, r))[code]  # trigamma
    else:
        a = r + x
        log_ratio = special.gammaln(a) - special.gammaln(r)
        d_log_ratio = special.digamma(a) - special.digamma(r)
        if hess is not None and x_codes_hess is not None:
            x_u, code = x_codes_hess
            hess[:, 0, 0] += (special.zeta(2.0, r + x_u) - special.zeta(2.0, r))[code]  # trigamma
        elif hess is not None:
            hess[:, 0, 0] += special.zeta(2.0, a) - special.zeta(2.0, r)  # trigamma
    if hess is not None:
        hess[:, 0, 1] += 1.0 / alpha
        hess[:, 1, 0] += 1.0 / alpha
        hess[:, 1, 1] -= r / (alpha * alpha)
        hess[:, 2, 3] += 1.0 / beta
        hess[:, 3, 2] += 1.0 / beta
        hess[:, 3, 3] -= s / (beta * beta)
    value: FloatArray = log_ratio + r * np.log(alpha) + s * np.log(beta)
    grad = np.empty((x.shape[0], 4))
    grad[:, 0] = d_log_ratio + np.log(alpha)
    grad[:, 1] = r / alpha
    grad[:, 2] = np.log(beta)
    grad[:, 3] = s / beta
    return value, grad


def loglik(
    params: FloatArray, x: FloatArray, tx: FloatArray, T: FloatArray, groups: Groups | None = None
) -> tuple[FloatArray, FloatArray]:
    """Per-customer log-likelihood and its gradient w.r.t. ``(r, alpha, s, beta)``.

    Fader & Hardie (2005 note, eqs. 22-23; MATLAB note's ``A0`` form), written as

    ``log L = log Gamma(r+x) - log Gamma(r) + r log alpha + s log beta
    + log[ E(T) G(1/kappa_T; s, r+x) + E(tx) G(kappa_tx; r+x, s) ]``

    with ``E(t) = (alpha+t)^-(r+x) (beta+t)^-s`` and ``kappa_t = (beta+t)/(alpha+t)`` (module docstring).
    The gradient is analytic: digamma terms, the derivatives of ``log E`` and those of ``log G`` from
    :func:`log_g` (differentiated series, or differentiation under the integral).

    Parameters
    ----------
    params:
        ``(r, alpha, s, beta)``.
    x, tx, T:
        Arrays of shape (n,).
    groups:
        Optional :func:`group_rows` of the same rows: the parts are then evaluated once per distinct
        value and gathered (same result, much faster on real data).

    ``params`` may also have shape (m, 4), rows of parameters for customers with covariates: with ``groups`` built
    with a ``key``, one row per key (``params[key]`` are each row's parameters); without ``groups``, one per row.

    Returns
    -------
    (ll, grad):
        ``ll`` of shape (n,), ``grad`` of shape (n, 4).
    """
    ll, grad, _ = _loglik(params, x, tx, T, groups, False)
    return ll, grad


def loglik_hessian(
    params: FloatArray, x: FloatArray, tx: FloatArray, T: FloatArray, groups: Groups | None = None
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Per-customer log-likelihood, gradient and Hessian w.r.t. ``(r, alpha, s, beta)`` in one pass.

    ``ll`` and ``grad`` are :func:`loglik`'s (the same operations). ``log L = log(e^A + e^B)`` with ``A`` the
    alive term and ``B`` the dropout term at the pair level (:func:`loglik`), so with ``w = e^A / (e^A + e^B)``

    ``H = w H_A + (1 - w) H_B + w (1 - w) (g_A - g_B)(g_A - g_B)^T``;

    ``H_A`` and ``H_B`` are the second derivatives of ``log E``, of the gamma-function terms (trigamma) and of
    ``log G`` (:func:`log_g` with ``hess_out``: the series differentiated twice term by term, or the quadrature
    differentiated twice under the integral), chained through ``log kappa`` and ``r + x``.

    Parameters and ``groups``: as :func:`loglik` (``params`` of shape (4,) or one row per key).

    Returns
    -------
    (ll, grad, hess):
        Shapes (n,), (n, 4), (n, 4, 4).

    Examples
    --------
    >>> import numpy as np
    >>> params = np.array([0.55, 10.58, 0.61, 11.67])
    >>> x, tx, T = np.array([0.0, 2.0]), np.array([0.0, 30.43]), np.array([38.86, 38.86])
    >>> ll, grad, hess = loglik_hessian(params, x, tx, T)
    >>> bool(np.array_equal(ll, loglik(params, x, tx, T)[0])), hess.shape
    (True, (2, 4, 4))
    >>> bool(np.allclose(hess, hess.transpose(0, 2, 1)))
    True
    """
    ll, grad, hess = _loglik(params, x, tx, T, groups, True)
    assert hess is not None
    return ll, grad, hess


def _loglik(
    params: FloatArray, x: FloatArray, tx: FloatArray, T: FloatArray, groups: Groups | None, want_hess: bool
) -> tuple[FloatArray, FloatArray, FloatArray | None]:
    """:func:`loglik` and, when ``want_hess``, the per-row Hessian (:func:`loglik_hessian`)."""
    codes_T = codes_tx = None
    if groups is None:
        x_T, T_u, x_tx, tx_u = x, T, x, tx
        p_T = p_tx = _columns(params)
    else:
        x_T, T_u, x_tx, tx_u = groups.x_age, groups.age_u, groups.x_tx, groups.tx_u
        p_T, p_tx = _columns(params, groups.key_age), _columns(params, groups.key_tx)
        if params.ndim == 2:  # pairs of several parameter rows repeat each frequency
            codes_T, codes_tx = (groups.x_u, groups.xcode_age), (groups.x_u, groups.xcode_tx)
    hA = np.empty((x_T.shape[0], 4, 4)) if want_hess else None
    hB = np.empty((x_tx.shape[0], 4, 4)) if want_hess else None
    # log C (which depends on x only) is added to both parts at the pair level: log(C e^A + C e^B).
    # The trigamma terms of the Hessian once per distinct x (the value and gradient keep their own route).
    hc_T = hc_tx = None
    if groups is not None and want_hess:
        hc_T, hc_tx = (groups.x_u, groups.xcode_age), (groups.x_u, groups.xcode_tx)
    A, gA = (u + v for u, v in zip(_alive_part(p_T, x_T, T_u, hA), _frequency_part(p_T, x_T, codes_T, hA, hc_T),
                                   strict=True))
    B, gB = (u + v for u, v in zip(_dropout_part(p_tx, x_tx, tx_u, hB),
                                   _frequency_part(p_tx, x_tx, codes_tx, hB, hc_tx), strict=True))
    if groups is not None:
        A, B = A[groups.inv_age], B[groups.inv_tx]
    # log(e^A + e^B) and the weight of the first term, with one exp and one log1p.
    diff = A - B
    e = np.exp(-np.abs(diff))
    ll: FloatArray = np.maximum(A, B) + np.log1p(e)
    w_alive = np.where(diff >= 0, 1.0, e) / (1.0 + e)
    # Gradient built column by column as a (4, n) array and returned transposed (Fortran order):
    # gathers of 1-D columns are cheaper than of (m, 4) blocks.
    grad_t = np.empty((4, ll.shape[0]))
    for j in range(4):
        ga, gb = gA[:, j], gB[:, j]
        if groups is not None:
            ga, gb = ga[groups.inv_age], gb[groups.inv_tx]
        grad_t[j] = gb + w_alive * (ga - gb)
    grad: FloatArray = grad_t.T
    if hA is None or hB is None:
        return ll, grad, None
    # Per row, entry by entry (10 distinct ones) on 1-D columns gathered from the pairs, into a (4, 4, n) array
    # returned as its (n, 4, 4) view: far cheaper than gathering and combining (n, 4, 4) blocks.
    w_dead = np.where(diff >= 0, e, 1.0) / (1.0 + e)  # 1 - w_alive without cancellation
    w_both = w_alive * w_dead
    d = np.empty((4, ll.shape[0]))  # g_A - g_B per parameter
    for j in range(4):
        ga, gb = gA[:, j], gB[:, j]
        if groups is not None:
            ga, gb = ga[groups.inv_age], gb[groups.inv_tx]
        d[j] = ga - gb
    hess_t = np.empty((4, 4, ll.shape[0]))
    for i in range(4):
        for j in range(i, 4):
            ha, hb = hA[:, i, j], hB[:, i, j]
            if groups is not None:
                ha, hb = ha[groups.inv_age], hb[groups.inv_tx]
            hess_t[i, j] = w_alive * ha + w_dead * hb + w_both * d[i] * d[j]
            if j != i:
                hess_t[j, i] = hess_t[i, j]
    hess: FloatArray = hess_t.transpose(2, 0, 1)
    return ll, grad, hess


def _log_alive_dead(params: FloatArray, x: FloatArray, tx: FloatArray, T: FloatArray
                    ) -> tuple[FloatArray, FloatArray]:
    """``log P(alive at T | x, tx, T)`` and ``log P(dead at T | x, tx, T)``, each with full relative accuracy.

    ``P(alive) = E(T) / [E(T) + s int_tx^T (alpha+tau)^-(r+x) (beta+tau)^-(s+1) dtau] = 1 / (1 + D)``.
    ``D`` (the odds of having dropped out in ``(tx, T]``) is computed without cancellation:

    - when the integrand changes by less than a factor ``e`` over ``(tx, T]`` (``tx`` close to ``T``),
      directly by 12-point Gauss-Legendre: ``D = s/(beta+T) int_tx^T ((alpha+T)/(alpha+tau))^(r+x)
      ((beta+T)/(beta+tau))^(s+1) dtau`` with the ratios as ``log1p`` of the gaps - exact to rounding;
    - otherwise as ``D = G_T expm1(u)``, ``u = log(E(tx)/E(T)) + log G_tx - log G_T`` (> 0), with
      ``log(E(tx)/E(T)) = (r+x) log1p((T-tx)/(alpha+tx)) + s log1p((T-tx)/(beta+tx))``.
    """
    r, alpha, s, beta = _split(params)
    a = r + x
    gap = T - tx
    s_arr = np.full(x.shape, s)
    lg_x = log_g(np.log(beta + tx) - np.log(alpha + tx), a, s_arr)[0]
    lg_T = log_g(np.log(beta + T) - np.log(alpha + T), a, s_arr)[0]
    d_log_e = a * np.log1p(gap / (alpha + tx)) + s * np.log1p(gap / (beta + tx))
    u = np.maximum(d_log_e + lg_x - lg_T, 0.0)
    big = u > 30.0
    with np.errstate(divide="ignore"):
        log_d = lg_T + np.where(big, u + np.log1p(-np.exp(-np.where(big, u, 30.0))),
                                np.log(np.expm1(np.where(big, 0.0, u))))
    short = gap * (a / (alpha + tx) + (s + 1.0) / (beta + tx)) <= 1.0
    if short.any():
        idx = np.flatnonzero(short)
        g, ai, Ti = gap[idx, None], a[idx, None], T[idx, None]
        back = 0.5 * g * (1.0 + _GL_NODES[None, :])  # T - tau at the nodes
        tau = Ti - back
        log_f = ai * np.log1p(back / (alpha + tau)) + (s + 1.0) * np.log1p(back / (beta + tau))
        with np.errstate(divide="ignore"):
            log_d[idx] = (np.log(s) - np.log(beta + T[idx]) + np.log(gap[idx]) - np.log(2.0)
                          + np.log(np.exp(log_f) @ _GL_WEIGHTS))
    log_one_plus_d = np.logaddexp(0.0, log_d)
    log_p: FloatArray = -log_one_plus_d
    log_q: FloatArray = log_d - log_one_plus_d
    return log_p, log_q


def log_probability_alive(params: FloatArray, x: FloatArray, tx: FloatArray, T: FloatArray) -> FloatArray:
    """``log P(alive at T | x, tx, T)``.

    ``P(alive) = E(T) / [E(T) G(1/kappa_T; s, r+x) + E(tx) G(kappa_tx; r+x, s)]`` - the Pareto/NBD
    P(alive) (Schmittlein et al. 1987; Fader & Hardie 2005 note) with the likelihood written as in
    :func:`loglik`, evaluated as ``-log(1 + D)`` (see :func:`_log_alive_dead`). Exactly 0 (P = 1)
    where ``tx == T``: no time has passed since the last purchase.
    """
    return _log_alive_dead(params, x, tx, T)[0]


def probability_alive(params: FloatArray, x: FloatArray, tx: FloatArray, T: FloatArray) -> FloatArray:
    """P(alive at T | x, tx, T) in ``[0, 1]`` (see :func:`log_probability_alive`)."""
    out: FloatArray = np.exp(log_probability_alive(params, x, tx, T))
    return out


def _log_exprel(c: FloatArray) -> FloatArray:
    """``log((e^c - 1)/c)`` for any real ``c`` (0 at ``c = 0``), without overflow."""
    big = c > 30.0
    safe = np.where(big, 0.0, c)
    with np.errstate(over="ignore"):
        out: FloatArray = np.where(big, c - np.log(np.where(big, c, 1.0)) + np.log1p(-np.exp(-np.where(big, c, 30.0))),
                                   np.log(special.exprel(safe)))
    return out


def _log_residual_rate(s: float, b: FloatArray, t: FloatArray) -> FloatArray:
    """``log( b [1 - (b/(b+t))^(s-1)] / (s-1) )`` = ``log(b L exprel(-(s-1) L))``, ``L = log1p(t/b)``.

    ``b/(s-1) [1 - (b/(b+t))^(s-1)]`` is the expected lifetime (truncated at ``t``) of a customer whose
    dropout rate is Gamma(s, b); finite at ``s = 1`` (where it is ``b log(1 + t/b)``).
    """
    L = np.log1p(t / b)
    with np.errstate(divide="ignore"):
        out: FloatArray = np.log(b) + np.log(L) + _log_exprel(-(s - 1.0) * L)
    return out


def expected_purchases(
    params: FloatArray, x: FloatArray, tx: FloatArray, T: FloatArray, t: FloatArray | float
) -> FloatArray:
    """E[X(T, T+t) | x, tx, T], the conditional expectation of Schmittlein et al. (1987) as restated by
    Fader & Hardie (2005, "A Note on Deriving the Pareto/NBD Model and Related Expressions"):

    ``P(alive) (r+x)/(alpha+T) (beta+T)/(s-1) [1 - ((beta+T)/(beta+T+t))^(s-1)]``, in log space and with
    the removable singularity at ``s = 1`` handled by ``exprel``. 0 at ``t = 0``.
    """
    r, alpha, s, beta = _split(params)
    t_arr = np.asarray(t, dtype=np.float64)
    lp = log_probability_alive(params, x, tx, T)
    out: FloatArray = np.exp(lp + np.log(r + x) - np.log(alpha + T) + _log_residual_rate(s, beta + T, t_arr))
    return out


def expected_purchases_new(params: FloatArray, t: FloatArray | float) -> FloatArray:
    """E[X(t)] of a customer just acquired: ``r beta / (alpha (s-1)) [1 - (beta/(beta+t))^(s-1)]``
    (Schmittlein et al. 1987; Fader & Hardie 2005, "A Note on Deriving the Pareto/NBD Model and Related
    Expressions"); the removable singularity at ``s = 1`` is handled as in :func:`expected_purchases`."""
    r, alpha, s, beta = _split(params)
    t_arr = np.asarray(t, dtype=np.float64)
    out: FloatArray = np.exp(np.log(r) - np.log(alpha) + _log_residual_rate(s, np.full(t_arr.shape, beta), t_arr))
    return out


def _log_pmf_fresh(r: FloatArray, alpha: FloatArray, s: float, beta: FloatArray, n: FloatArray,
                   t: FloatArray) -> FloatArray:
    """``log P(X(t) = n)`` for a customer alive at time 0 with Pareto/NBD parameters ``(r, alpha, s, beta)``
    (arrays: the posterior ``r + x, alpha + T, beta + T`` in the conditional use). Requires ``t > 0``.

    Fader & Hardie ("Deriving an Expression for P(X(t) = x) Under the Pareto/NBD Model"): alive
    throughout, ``NB(n; r, alpha/(alpha+t)) (beta/(beta+t))^s``, plus dropping out at ``tau < t`` after
    ``n`` purchases, ``Gamma(r+n)/(Gamma(r) n!) alpha^r beta^s s int_0^t tau^n (alpha+tau)^-(r+n)
    (beta+tau)^-(s+1) dtau``. The integral is taken directly (log-concave in ``log tau``) rather than
    through the note's alternating sum of hypergeometric terms, which cancels badly for large ``n``.
    """
    lcomb = special.gammaln(r + n) - special.gammaln(r) - special.gammaln(n + 1.0)
    la, lb, lt = np.log(alpha), np.log(beta), np.log(t)
    log_alive = (lcomb + r * (la - np.log(alpha + t)) + n * (lt - np.log(alpha + t))
                 + s * (lb - np.log(beta + t)))
    m = r.shape[0]
    f = _Concave(
        c0=np.zeros(m), c1=n + 1.0, b=np.stack([r + n, np.full(m, s + 1.0)], axis=1),
        d=np.stack([la, lb], axis=1), g=np.zeros(m), lo=np.full(m, -np.inf), hi=lt,
    )
    log_q = np.empty(m)
    for lo in range(0, m, _CHUNK):
        part = slice(lo, lo + _CHUNK)
        sub = _Concave(f.c0[part], f.c1[part], f.b[part], f.d[part], f.g[part], f.lo[part], f.hi[part])
        log_q[part] = _concave_quadrature(sub)[0]
    log_dead = lcomb - n * la - lb + np.log(s) + log_q
    out: FloatArray = np.logaddexp(log_alive, log_dead)
    return out


def probability_of_purchases(
    params: FloatArray, x: FloatArray, tx: FloatArray, T: FloatArray, n: FloatArray, t: FloatArray | float
) -> FloatArray:
    """P(X(T, T+t) = n | x, tx, T).

    Given alive at ``T`` the posterior is ``lambda ~ Gamma(r+x, alpha+T)``, ``mu ~ Gamma(s, beta+T)``
    and, the lifetime being memoryless, the future is a fresh Pareto/NBD customer with those
    parameters; given dead, ``X = 0``. Hence
    ``P(alive) P_fresh(X(t) = n; r+x, alpha+T, s, beta+T) + (1 - P(alive)) 1{n = 0}``
    (the same result as Fader & Hardie's note "Deriving the Conditional PMF of the Pareto/NBD Model",
    obtained here from the model's assumptions; :func:`_log_pmf_fresh` for the fresh-customer PMF).
    """
    r, alpha, s, beta = _split(params)
    arrays = np.broadcast_arrays(np.asarray(x, dtype=np.float64), np.asarray(tx, dtype=np.float64),
                                 np.asarray(T, dtype=np.float64), np.asarray(n, dtype=np.float64),
                                 np.asarray(t, dtype=np.float64))
    shape = arrays[0].shape
    xa, txa, Ta, na, ta = (np.ascontiguousarray(a).ravel() for a in arrays)
    log_p, log_q = _log_alive_dead(params, xa, txa, Ta)
    p_alive, p_dead = np.exp(log_p), np.exp(log_q)
    fresh = np.where(na == 0, 1.0, 0.0)
    pos = ta > 0
    if pos.any():
        # Identical (x, T, n, t) share the PMF; evaluate each once.
        keys = np.stack([xa[pos], Ta[pos], na[pos], ta[pos]], axis=1)
        uniq, inverse = np.unique(keys, axis=0, return_inverse=True)
        log_p = _log_pmf_fresh(r + uniq[:, 0], alpha + uniq[:, 1], s, beta + uniq[:, 1], uniq[:, 2], uniq[:, 3])
        fresh[pos] = np.exp(log_p)[inverse.ravel()]
    out: FloatArray = p_alive * fresh + np.where(na == 0, p_dead, 0.0)
    return np.clip(out, 0.0, 1.0).reshape(shape)


def _log_w(s: float, z: FloatArray) -> FloatArray:
    """``log( z^s U(s, s, z) )`` with ``U`` the confluent hypergeometric function of the second kind.

    ``z^s U(s, s, z) = E[z / (z + M)]`` with ``M ~ Gamma(s, 1)``: with ``y = log M`` it is
    ``int exp(s y - e^y - softplus(y - log z) - log Gamma(s)) dy``, a log-concave integrand
    (adaptive Gauss-Legendre, :func:`_concave_quadrature`). Agrees with ``scipy.special.hyperu`` where
    that is accurate and stays finite where ``z^s`` or ``U`` alone would overflow.
    """
    m = z.shape[0]
    f = _Concave(
        c0=np.full(m, -special.gammaln(s)), c1=np.full(m, s), b=np.ones((m, 1)),
        d=np.log(z)[:, None], g=np.ones(m), lo=np.full(m, -np.inf), hi=np.full(m, np.inf),
    )
    out = np.empty(m)
    for lo in range(0, m, _CHUNK):
        part = slice(lo, lo + _CHUNK)
        sub = _Concave(f.c0[part], f.c1[part], f.b[part], f.d[part], f.g[part], f.lo[part], f.hi[part])
        out[part] = _concave_quadrature(sub)[0]
    return np.minimum(out, 0.0)


def dert(params: FloatArray, x: FloatArray, tx: FloatArray, T: FloatArray, delta: float) -> FloatArray:
    """Discounted expected residual transactions at continuous discount rate ``delta`` per time unit.

    Fader, Hardie & Lee (2005), "RFM and CLV: Using Iso-Value Curves for Customer Base Analysis",
    Journal of Marketing Research 42(4), 415-430, the Pareto/NBD DERT expression:

    ``DERT = alpha^r beta^s delta^(s-1) Gamma(r+x+1) U(s, s; delta(beta+T))
    / (Gamma(r) (alpha+T)^(r+x+1) L(r, alpha, s, beta | x, tx, T))``,

    rewritten as ``P(alive) (r+x)/(alpha+T) * W / delta`` with ``W = z^s U(s, s, z)``,
    ``z = delta (beta+T)`` (the two are algebraically identical: ``P(alive)`` carries ``1/L``).
    """
    r, alpha, s, beta = _split(params)
    z = delta * (beta + T)
    uniq, inverse = np.unique(z, return_inverse=True)
    log_w = _log_w(s, uniq)[inverse.ravel()]
    lp = log_probability_alive(params, x, tx, T)
    out: FloatArray = np.exp(lp + np.log(r + x) - np.log(alpha + T) + log_w - np.log(delta))
    return out


#: :func:`expected_purchases` at every horizon of a 1-D ``ts``, shape (len(ts), n), once per distinct row.
expected_purchases_path = partial(path_over_distinct_rows, expected_purchases)


#: P(X(t) = n) for a customer just acquired: :func:`probability_of_purchases` with no history.
probability_of_purchases_new = partial(fresh_customer_pmf, probability_of_purchases)


def discounted_residual(params: FloatArray, x: FloatArray, tx: FloatArray, T: FloatArray, d: float) -> FloatArray:
    """DERT at the discrete rate ``d`` per time unit: :func:`dert` at the continuous ``delta = log(1 + d)``."""
    return dert(params, x, tx, T, math.log1p(d))
