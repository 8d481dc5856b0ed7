"""Pure kernels of the Pareto/NBD and BG/NBD models with time-varying covariates (arrays in, arrays out).

Pareto/NBD (Bachmann, Meierer & Naef 2021, "The Role of Time-Varying Contextual Factors in Latent Attrition
Models for Customer Base Analysis", Marketing Science 40(4), 783-809): while alive, customer ``i`` buys at rate
``lambda_i a_i(t)`` and dies at rate ``mu_i b_i(t)``, with ``lambda_i ~ Gamma(r, alpha)``, ``mu_i ~ Gamma(s, beta)``
and the covariate factors ``a_i(t) = exp(gamma_p' z_p,i(t))``, ``b_i(t) = exp(gamma_d' z_d,i(t))``, piecewise
constant over the covariates' periods. With the operational times ``A(t) = int_0^t a``, ``B(t) = int_0^t b``
the purchases while alive are a Poisson process with mean ``lambda A(t)`` and the lifetime has survival
``exp(-mu B(t))``. A customer with ``x`` repeat purchases at ``t_1..t_x``, the last at ``tx``, observed to
``T`` has (after integrating ``lambda`` and ``mu`` out)

    L = Gamma(r+x) alpha^r beta^s / Gamma(r) * exp(gamma_p' S) *
        [ (alpha+A(T))^-(r+x) (beta+B(T))^-s + s int_tx^T (alpha+A(u))^-(r+x) (beta+B(u))^-(s+1) b(u) du ],

with ``S = sum_j z_p(t_j)`` (the purchase covariates at the repeat purchases: the Jacobian ``prod_j a(t_j)``
of the time change). With covariates constant in time this is exactly the static-covariate likelihood
(``alpha_i = alpha exp(-gamma_p' z)``, ``beta_i = beta exp(-gamma_d' z)``, CLVTools' link).

The dropout integral is a sum over the pieces of ``[tx, T]`` on which the covariates are constant; on a piece
starting at ``u = 0`` with ``P = alpha + A``, ``Q = beta + B`` and slopes ``a``, ``b`` the integrand
``(P + a u)^-(r+x) (Q + b u)^-(s+1)`` is evaluated by Gauss-Legendre quadrature on panels that grow
geometrically in the variable with the nearer singularity (``u = -P/a`` or ``-Q/b``), so that on every panel
both factors change by at most a factor 1.5 and the whole integrand by at most ``e``: the singularities then
lie outside a Bernstein ellipse of parameter ~10 and six nodes give ~1e-12 relative accuracy (checked against
mpmath). The gradient is the quadrature of the differentiated integrand.

BG/NBD (Fader, Hardie & Lee 2005) with a time-varying purchase process is the BG/NBD in operational time:
its likelihood at ``(x, A(tx), A(T))`` times ``exp(gamma_p' S)``; dropout happens at purchases, so the dropout
covariates are static there.

Pieces are given per customer in time order (:class:`Pieces`); the coefficients ``gamma`` are the free
coefficients of a :class:`~._covariates.CoefficientLayout` and ``zp``/``zd`` the pieces' covariate rows in its
columns (an ``equal`` covariate has a column in both).
"""

from __future__ import annotations

import itertools
import math
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
from scipy import special

__all__ = ["Pieces", "bgnbd_loglik", "expected_purchases", "log_probability_alive", "loglik", "operational_times"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]

_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(6)
_LOG_RATIO = math.log(1.5)  # most a factor of a panel may change
_MAX_PANELS = 400


class Pieces(NamedTuple):
    """Intervals of customer time on which a customer's covariates are constant, in time order per customer.

    ``customer[k]`` is the customer (row) index of piece ``k``, ``start``/``length`` its place in customer time
    (time unit of the summary), ``zp``/``zd`` its purchase and dropout covariate rows in the coefficient layout
    (shape (K, m)), ``after[k]`` whether it lies after the customer's last purchase (calibration pieces only;
    the piece holding ``tx`` is split there).
    """

    customer: IntArray
    start: FloatArray
    length: FloatArray
    zp: FloatArray
    zd: FloatArray
    after: npt.NDArray[np.bool_]


class _Operational(NamedTuple):
    a: FloatArray  # (K,) purchase factor of each piece
    b: FloatArray
    A0: FloatArray  # (K,) operational purchase time at each piece's start
    B0: FloatArray
    A: FloatArray  # (n,) at the end of the customer's last piece
    B: FloatArray
    d_a0: FloatArray  # (K, m) derivatives w.r.t. gamma
    d_b0: FloatArray
    d_a: FloatArray  # (n, m)
    d_b: FloatArray


def _segment_sums(values: FloatArray, customer: IntArray, n: int) -> FloatArray:
    """Per-customer sums of ``values`` (shape (K,) or (K, m))."""
    if values.ndim == 1:
        sums: FloatArray = np.bincount(customer, weights=values, minlength=n).astype(np.float64)
        return sums
    out = np.zeros((n, values.shape[1]))
    for j in range(values.shape[1]):
        out[:, j] = np.bincount(customer, weights=values[:, j], minlength=n)
    return out


def _exclusive_cumsum(values: FloatArray, customer: IntArray) -> FloatArray:
    """Per-customer running sums before each piece (pieces grouped by customer, in order)."""
    if values.shape[0] == 0:
        empty: FloatArray = values.copy()
        return empty
    total = np.cumsum(values, axis=0) - values
    first = np.r_[True, customer[1:] != customer[:-1]]
    starts = np.flatnonzero(first)
    base = total[starts]
    out: FloatArray = total - np.repeat(base, np.diff(np.r_[starts, customer.shape[0]]), axis=0)
    return out


def operational_times(gamma: FloatArray, pieces: Pieces, n: int) -> _Operational:
    """The covariate factors and operational times of the pieces (and their derivatives in ``gamma``)."""
    a = np.exp(pieces.zp @ gamma)
    b = np.exp(pieces.zd @ gamma)
    da = (a * pieces.length)[:, None] * pieces.zp
    db = (b * pieces.length)[:, None] * pieces.zd
    return _Operational(
        a, b,
        _exclusive_cumsum(a * pieces.length, pieces.customer), _exclusive_cumsum(b * pieces.length, pieces.customer),
        _segment_sums(a * pieces.length, pieces.customer, n), _segment_sums(b * pieces.length, pieces.customer, n),
        _exclusive_cumsum(da, pieces.customer), _exclusive_cumsum(db, pieces.customer),
        _segment_sums(da, pieces.customer, n), _segment_sums(db, pieces.customer, n),
    )


class _Nodes(NamedTuple):
    piece: IntArray  # index into the selected pieces
    u: FloatArray  # position in the piece
    w: FloatArray  # quadrature weight


_CHUNK_NODES = 1 << 18  # nodes evaluated at once (bounds memory whatever the parameters)


def _panel_counts(P: FloatArray, a: FloatArray, Q: FloatArray, b: FloatArray, h: FloatArray,
                  p: FloatArray, q: FloatArray) -> tuple[IntArray, FloatArray, FloatArray]:
    """Panels per piece for ``int_0^h (P + a u)^-p (Q + b u)^-q du`` (module docstring), with the geometric
    scale (the nearer singularity's distance) and the log of the growth ``1 + y`` over the piece."""
    y1, y2 = a * h / P, b * h / Q
    first = y1 >= y2
    scale = np.where(first, P / a, Q / b)
    v = np.log1p(np.where(first, y1, y2))
    n_pan = np.clip(np.ceil(np.maximum(v / _LOG_RATIO, (p + q) * v)), 1, _MAX_PANELS).astype(np.intp)
    return n_pan, scale, v


def _nodes(n_pan: IntArray, scale: FloatArray, v: FloatArray, h: FloatArray) -> _Nodes:
    """Gauss-Legendre nodes on the pieces' geometric panels (indices relative to the pieces given)."""
    owner = np.repeat(np.arange(h.shape[0]), n_pan)
    j = np.arange(owner.shape[0]) - np.repeat(np.cumsum(n_pan) - n_pan, n_pan)
    frac = v[owner] / n_pan[owner]
    lo = scale[owner] * np.expm1(j * frac)
    hi = np.minimum(scale[owner] * np.expm1((j + 1) * frac), h[owner])
    half, mid = (hi - lo) / 2.0, (hi + lo) / 2.0
    u = (mid[:, None] + half[:, None] * _NODES[None, :]).ravel()
    w = (half[:, None] * _WEIGHTS[None, :]).ravel()
    return _Nodes(np.repeat(owner, _NODES.shape[0]), u, w)


def _panel_nodes(P: FloatArray, a: FloatArray, Q: FloatArray, b: FloatArray, h: FloatArray,
                 p: FloatArray, q: FloatArray) -> _Nodes:
    """Gauss-Legendre nodes for ``int_0^h (P + a u)^-p (Q + b u)^-q du`` on geometric panels (module docstring)."""
    n_pan, scale, v = _panel_counts(P, a, Q, b, h, p, q)
    return _nodes(n_pan, scale, v, h)


def _chunks(n_pan: IntArray) -> list[tuple[int, int]]:
    """Piece ranges holding at most about ``_CHUNK_NODES`` nodes each."""
    if n_pan.shape[0] == 0:
        return []
    ends = np.cumsum(n_pan) * _NODES.shape[0]
    cuts = np.searchsorted(ends, np.arange(_CHUNK_NODES, int(ends[-1]), _CHUNK_NODES), side="right")
    bounds = np.unique(np.r_[0, cuts, n_pan.shape[0]])
    return [(int(lo), int(hi)) for lo, hi in itertools.pairwise(bounds) if hi > lo]


class _PieceSums(NamedTuple):
    """Per piece, sums over its nodes of ``w f`` (``f`` the integrand ``s b (P+au)^-p (Q+bu)^-q`` divided by
    ``exp(ref)`` of the piece) times 1, ``log(P+au)``, ``1/(P+au)``, ``a u/(P+au)``, ``log(Q+bu)``, ``1/(Q+bu)``,
    ``b u/(Q+bu)``."""

    t0: FloatArray
    l1: FloatArray
    i1: FloatArray
    i1u: FloatArray
    l2: FloatArray
    i2: FloatArray
    i2u: FloatArray


def _piece_sums(P: FloatArray, a: FloatArray, Q: FloatArray, b: FloatArray, h: FloatArray, pk: FloatArray,
                s: float, ref: FloatArray, gradient: bool) -> _PieceSums:
    """The dropout integral's node sums per piece, evaluated in chunks of nodes."""
    K = h.shape[0]
    q = np.full(K, s + 1.0)
    n_pan, scale, v = _panel_counts(P, a, Q, b, h, pk, q)
    out = [np.zeros(K) for _ in range(7 if gradient else 1)]
    for lo, hi in _chunks(n_pan):
        nd = _nodes(n_pan[lo:hi], scale[lo:hi], v[lo:hi], h[lo:hi])
        k, u = nd.piece, nd.u
        kk = k + lo
        x1, x2 = P[kk] + a[kk] * u, Q[kk] + b[kk] * u
        L1, L2 = np.log(x1), np.log(x2)
        om = nd.w * np.exp(math.log(s) + np.log(b[kk]) - pk[kk] * L1 - (s + 1.0) * L2 - ref[kk])
        cols = [om]
        if gradient:
            inv1, inv2 = 1.0 / x1, 1.0 / x2
            cols += [om * L1, om * inv1, om * inv1 * a[kk] * u, om * L2, om * inv2, om * inv2 * b[kk] * u]
        for acc, col in zip(out, cols, strict=True):
            acc[lo:hi] += np.bincount(k, weights=col, minlength=hi - lo)
    if not gradient:
        out += [out[0]] * 6
    return _PieceSums(*out)


def _log_integral(params: FloatArray, op: _Operational, pieces: Pieces, p: FloatArray, n: int, gradient: bool
                  ) -> tuple[FloatArray, IntArray, FloatArray, _PieceSums, FloatArray]:
    """``log`` of the dropout integral per customer (``-inf`` without pieces after ``tx``), the selected pieces'
    customers, the per-piece reference (``ref`` of the customer), the piece sums and the pieces' ``p``."""
    _, alpha, s, beta = (float(v) for v in params)
    sel = np.flatnonzero(pieces.after)
    cust = pieces.customer[sel]
    P, Q = alpha + op.A0[sel], beta + op.B0[sel]
    a, b, h = op.a[sel], op.b[sel], pieces.length[sel]
    pk = p[cust]
    bound = math.log(s) + np.log(b) + np.log(h) - pk * np.log(P) - (s + 1.0) * np.log(Q)  # >= every node's value
    ref = np.full(n, -np.inf)
    np.maximum.at(ref, cust, bound)
    sums = _piece_sums(P, a, Q, b, h, pk, s, ref[cust], gradient)
    total = np.bincount(cust, weights=sums.t0, minlength=n)
    with np.errstate(divide="ignore"):
        log_i = np.where(total > 0, ref + np.log(np.where(total > 0, total, 1.0)), -np.inf)
    return log_i, cust, ref, sums, pk


def loglik(params: FloatArray, gamma: FloatArray, x: FloatArray, S: FloatArray, pieces: Pieces
           ) -> tuple[FloatArray, FloatArray]:
    """Pareto/NBD per-customer log-likelihood with time-varying covariates and its gradient.

    Parameters
    ----------
    params:
        ``(r, alpha, s, beta)``.
    gamma:
        The free coefficients, shape (m,).
    x, S:
        Repeat purchases (n,) and the sum of the purchase covariate rows at them (n, m).
    pieces:
        The calibration pieces covering ``[0, T]`` of every customer, split at ``tx`` (``after`` marks those
        after it).

    Returns
    -------
    (ll, grad):
        ``ll`` of shape (n,), ``grad`` of shape (n, 4 + m) w.r.t. ``(r, alpha, s, beta, gamma)``.
    """
    r, alpha, s, beta = (float(v) for v in params)
    n, m = x.shape[0], gamma.shape[0]
    op = operational_times(gamma, pieces, n)
    p = r + x
    AT, BT = alpha + op.A, beta + op.B
    log_e = -p * np.log(AT) - s * np.log(BT)
    # the dropout integral over the pieces after tx
    log_i, cust, ref, sums, pk = _log_integral(params, op, pieces, p, n, gradient=True)
    log_br = np.logaddexp(log_e, log_i)
    ll = special.gammaln(p) - special.gammaln(r) + r * math.log(alpha) + s * math.log(beta) + S @ gamma + log_br
    # gradient: the weights of the alive term and of each piece's nodes in the bracket
    w_e = np.exp(log_e - log_br)
    f = np.exp(ref[cust] - log_br[cust])
    grad = np.empty((n, 4 + m))
    grad[:, 0] = special.digamma(p) - special.digamma(r) + math.log(alpha) - w_e * np.log(AT) \
        - np.bincount(cust, weights=f * sums.l1, minlength=n)
    grad[:, 1] = r / alpha - w_e * p / AT - np.bincount(cust, weights=f * pk * sums.i1, minlength=n)
    grad[:, 2] = math.log(beta) - w_e * np.log(BT) + np.bincount(cust, weights=f * (sums.t0 / s - sums.l2),
                                                                  minlength=n)
    grad[:, 3] = s / beta - w_e * s / BT - np.bincount(cust, weights=f * (s + 1.0) * sums.i2, minlength=n)
    if m:
        sel = np.flatnonzero(pieces.after)
        c1 = -f * pk * sums.i1
        c2 = -f * pk * sums.i1u
        c3 = f * sums.t0
        c4 = -f * (s + 1.0) * sums.i2
        c5 = -f * (s + 1.0) * sums.i2u
        per_piece = (c1[:, None] * op.d_a0[sel] + c2[:, None] * pieces.zp[sel] + (c3 + c5)[:, None] * pieces.zd[sel]
                     + c4[:, None] * op.d_b0[sel])
        grad[:, 4:] = (S - (w_e * p / AT)[:, None] * op.d_a - (w_e * s / BT)[:, None] * op.d_b
                       + _segment_sums(per_piece, cust, n))
    return ll, grad


def log_probability_alive(params: FloatArray, gamma: FloatArray, x: FloatArray, S: FloatArray, pieces: Pieces
                          ) -> FloatArray:
    """``log P(alive at T)``: the alive term's share of the likelihood's bracket."""
    r, alpha, s, beta = (float(v) for v in params)
    n = x.shape[0]
    op = operational_times(gamma, pieces, n)
    p = r + x
    log_e = -p * np.log(alpha + op.A) - s * np.log(beta + op.B)
    log_i = _log_integral(params, op, pieces, p, n, gradient=False)[0]
    out: FloatArray = -np.logaddexp(0.0, log_i - log_e)
    return out


def expected_purchases(params: FloatArray, gamma: FloatArray, x: FloatArray, S: FloatArray, pieces: Pieces,
                       horizon: Pieces, discount: float = 0.0) -> FloatArray:
    """Expected purchases in ``(T, T + t]`` given the calibration data, with the horizon's covariates.

    ``E = P(alive) (r+x)/(alpha+A(T)) int_T^{T+t} a(u) ((beta+B(T)) / (beta+B(u)))^s exp(-delta (u - T)) du``
    (the posterior of ``lambda`` given alive is ``Gamma(r+x, alpha+A(T))``, that of ``mu`` ``Gamma(s, beta+B(T))``).
    ``horizon`` holds the pieces of ``(T, T + t]`` (``start`` measured from ``T``); ``discount`` is a continuous
    rate per time unit (0: plain expected purchases, by a closed form per piece).
    """
    r, alpha, s, beta = (float(v) for v in params)
    n = x.shape[0]
    op = operational_times(gamma, pieces, n)
    hop = operational_times(gamma, horizon, n)
    QT = beta + op.B
    cust = horizon.customer
    Q = QT[cust] + hop.B0
    a, b, h = hop.a, hop.b, horizon.length
    if discount == 0.0:
        L = np.log1p(b * h / Q)
        c = (1.0 - s) * L
        exprel = np.where(np.abs(c) > 1e-8, np.expm1(c) / np.where(c == 0, 1.0, c), 1.0 + c / 2.0)
        part = a / b * np.exp(s * np.log(QT[cust] / Q)) * Q * L * exprel
    else:
        # the discount factor's variation counts like an exponent (about delta * Q / b per unit of log(Q + b u))
        nodes = _panel_nodes(Q, b, Q, b, h, 2.0 * discount * Q / b, np.full(h.shape[0], s))
        kk, u = nodes.piece, nodes.u
        f = nodes.w * np.exp(s * np.log(QT[cust][kk] / (Q[kk] + b[kk] * u)) - discount * (horizon.start[kk] + u))
        part = a * np.bincount(kk, weights=f, minlength=h.shape[0])
    integral = np.bincount(cust, weights=part, minlength=n)
    alive = np.exp(log_probability_alive(params, gamma, x, S, pieces))
    out: FloatArray = alive * (r + x) / (alpha + op.A) * integral
    return out


def bgnbd_loglik(params: FloatArray, gamma: FloatArray, x: FloatArray, S: FloatArray, pieces: Pieces,
                 zd: FloatArray) -> tuple[FloatArray, FloatArray]:
    """BG/NBD per-customer log-likelihood with a time-varying purchase process and static dropout covariates.

    ``params`` is ``(r, alpha, a, b)``; the purchase factor's operational times replace ``tx`` and ``T``;
    the dropout covariates ``zd`` (n, m) scale ``a`` and ``b`` up (``a_i = a exp(gamma' zd)``, CLVTools' link).
    Returns ``ll`` (n,) and the gradient (n, 4 + m).
    """
    r, alpha, a0, b0 = (float(v) for v in params)
    n, m = x.shape[0], gamma.shape[0]
    op = operational_times(gamma, pieces, n)
    # operational time at tx: the pieces before tx
    before = ~pieces.after
    Atx = np.bincount(pieces.customer[before], weights=(op.a * pieces.length)[before], minlength=n)
    dAtx = _segment_sums(((op.a * pieces.length)[:, None] * pieces.zp)[before], pieces.customer[before], n)
    AT, dAT = op.A, op.d_a
    eta_d = zd @ gamma
    ai, bi = a0 * np.exp(eta_d), b0 * np.exp(eta_d)
    p = r + x
    base = special.gammaln(p) - special.gammaln(r) + r * math.log(alpha)
    # term 1: B(a, b+x)/B(a, b) (alpha+A(T))^-(r+x); term 2 (x > 0): B(a+1, b+x-1)/B(a, b) (alpha+A(tx))^-(r+x)
    t1 = special.betaln(ai, bi + x) - special.betaln(ai, bi) - p * np.log(alpha + AT)
    has = x > 0
    xm = np.where(has, x, 1.0)
    t2 = np.where(has, special.betaln(ai + 1.0, bi + xm - 1.0) - special.betaln(ai, bi) - p * np.log(alpha + Atx),
                  -np.inf)
    lse = np.logaddexp(t1, t2)
    ll = base + S @ gamma + lse
    w1 = np.exp(t1 - lse)
    w2 = 1.0 - w1
    psi = special.digamma
    d_ab = psi(ai + bi)
    d1_a = psi(ai) - psi(ai + bi + x) - psi(ai) + d_ab  # d t1 / d a_i  (betaln(a, b+x) - betaln(a, b))
    d1_b = psi(bi + x) - psi(ai + bi + x) - psi(bi) + d_ab
    d2_a = np.where(has, psi(ai + 1.0) - psi(ai + bi + xm) - psi(ai) + d_ab, 0.0)
    d2_b = np.where(has, psi(bi + xm - 1.0) - psi(ai + bi + xm) - psi(bi) + d_ab, 0.0)
    g_ai = w1 * d1_a + w2 * d2_a
    g_bi = w1 * d1_b + w2 * d2_b
    grad = np.empty((n, 4 + m))
    grad[:, 0] = psi(p) - psi(r) + math.log(alpha) - w1 * np.log(alpha + AT) - w2 * np.where(
        has, np.log(alpha + Atx), 0.0)
    grad[:, 1] = r / alpha - w1 * p / (alpha + AT) - w2 * np.where(has, p / (alpha + Atx), 0.0)
    grad[:, 2] = g_ai * np.exp(eta_d)
    grad[:, 3] = g_bi * np.exp(eta_d)
    if m:
        grad[:, 4:] = (S - (w1 * p / (alpha + AT))[:, None] * dAT
                       - (w2 * np.where(has, p / (alpha + Atx), 0.0))[:, None] * dAtx
                       + (g_ai * ai + g_bi * bi)[:, None] * zd)
    return ll, grad
