"""Pure kernels of the BG/BB model (arrays in, arrays out).

Reference: P. S. Fader, B. G. S. Hardie and J. Shang (2010), "Customer-Base Analysis in a Discrete-Time
Noncontractual Setting", Marketing Science 29(6), 1086-1108 - likelihood eq. (5), E[X(n)] eq. (7),
P(alive) eq. (11), conditional expectation eq. (13), DERT eq. (14).

Model: at each of the transaction opportunities 1, 2, ... a customer who is alive transacts with
probability p; at the start of every opportunity an alive customer dies with probability theta;
p ~ Beta(alpha, beta) and theta ~ Beta(gamma, delta), independent across customers. A customer is
summarised by ``x`` transactions in opportunities 1..n, the last one at opportunity ``tx`` (0 when
x = 0), and ``n`` opportunities observed. ``params`` is the array ``(alpha, beta, gamma, delta)``;
``x, tx, n`` are arrays of whole numbers of one shape with ``x <= tx <= n``.
"""

from __future__ import annotations

import math
from functools import partial

import numpy as np
import numpy.typing as npt
from scipy import special

from ...errors import ConvergenceError
from ._generic import fresh_customer_pmf, path_over_distinct_rows
from ._simulate import simulate_bgbb as simulate

__all__ = [
    "dert", "discounted_residual", "expected_purchases", "expected_purchases_new", "expected_purchases_path",
    "log_likelihood", "loglik", "loglik_hessian", "probability_alive", "probability_of_purchases",
    "probability_of_purchases_new", "simulate", "survival_sum",
]

FloatArray = npt.NDArray[np.float64]

_DIRECT_SUM_MAX = 256  # horizons up to this length are summed term by term (exact, no cancellation)
_TAYLOR_C = 0.05  # |gamma - 1| below which the closed form uses its Taylor series in gamma - 1
_TAYLOR_TERMS = 14
_CF_MAX_ITER = 60_000  # Lentz steps; the fraction needs about 15 / sqrt(d) of them as d -> 0
_CF_TOL = 1e-15
_GROUP_MIN_ROWS = 256  # below this many rows grouping repeated rows costs more than it saves


def _integer_groups(cols: list[FloatArray]) -> tuple[list[FloatArray], npt.NDArray[np.intp]] | None:
    """Distinct rows of whole-numbered columns and each row's group, or ``None`` when not worth it.

    BG/BB inputs are small whole numbers (x <= t_x <= n), so a million customers hold a few hundred
    distinct rows: everything is computed once per distinct row and gathered. Rows are keyed in mixed
    radix over the columns' ranges and grouped with a dense presence table (linear time, no sort).
    """
    size = cols[0].shape[0]
    if size < _GROUP_MIN_ROWS or any(c.shape != (size,) for c in cols):
        return None
    limit = max(4 * size, 1 << 20)
    key = np.zeros(size, dtype=np.int64)
    radices: list[int] = []
    span = 1
    for c in cols:
        lo, hi = float(np.min(c)), float(np.max(c))
        if not (np.isfinite(lo) and np.isfinite(hi)) or lo < 0.0:
            return None
        m = int(hi) + 1
        span *= m
        if span > limit:
            return None
        ci = c.astype(np.int64)
        if not np.array_equal(ci, c):
            return None
        key = key * m + ci
        radices.append(m)
    present = np.zeros(span, dtype=bool)
    present[key] = True
    keys = np.flatnonzero(present)
    if keys.size > size // 2:
        return None
    lookup = np.zeros(span, dtype=np.intp)
    lookup[keys] = np.arange(keys.size)
    unique: list[FloatArray] = []
    rest = keys
    for m in reversed(radices):
        unique.append((rest % m).astype(np.float64))
        rest = rest // m
    unique.reverse()
    return unique, lookup[key]


_DIRECT_TERMS = 128  # terms of a long sum added one by one before the Euler-Maclaurin tail takes over
_TAIL_NODES = 16
_TAIL_X, _TAIL_W = np.polynomial.legendre.leggauss(_TAIL_NODES)
_TAIL_PANEL = math.log(2.0)  # tail panels at most an octave wide in u
_STIRLING_MIN = 100.0


def _lgamma_diff(y: FloatArray, c: FloatArray | float, yc: FloatArray | None = None) -> FloatArray:
    """``lgamma(y + c) - lgamma(y)`` without the cancellation of two large log-gammas (y > 0, y + c > 0).

    For ``y, y + c >= 100`` Stirling's series ``(y - 1/2) log1p(c/y) + c log(y + c) - c + R(y + c) - R(y)``
    with ``R(y) = 1/(12y) - 1/(360y^3) + 1/(1260y^5)`` (truncation below 1e-17); below, ``gammaln`` directly
    (whose absolute error grows like ``1e-16 y log y``: 2e-7 at y = 1e8 - the reason for this function).
    ``yc``, when given, is ``y + c`` as the caller knows it exactly (``y + c`` rounded can move a small
    argument by a relative 1e-11, and ``lgamma`` near 0 amplifies that).
    """
    y, c = np.broadcast_arrays(np.asarray(y, dtype=np.float64), np.asarray(c, dtype=np.float64))
    top = y + c if yc is None else np.broadcast_to(np.asarray(yc, dtype=np.float64), y.shape)
    out = np.empty(y.shape)
    big = (y >= _STIRLING_MIN) & (y + c >= _STIRLING_MIN)
    if big.any():
        yb, cb = y[big], c[big]
        yc = yb + cb

        def rem(v: FloatArray) -> FloatArray:
            w = 1.0 / (v * v)
            res: FloatArray = (1.0 / 12.0 - w * (1.0 / 360.0 - w / 1260.0)) / v
            return res

        out[big] = (yb - 0.5) * np.log1p(cb / yb) + cb * np.log(yc) - cb + (rem(yc) - rem(yb))
    small = ~big
    if small.any():
        out[small] = special.gammaln(top[small]) - special.gammaln(y[small])
    return out


def _ratio_sum(
    top: FloatArray, bottom: FloatArray, diff: FloatArray, const: FloatArray, m: FloatArray, w_top: FloatArray,
    w_bottom: FloatArray, w_const: FloatArray, n_direct_min: int = _DIRECT_TERMS,
) -> tuple[FloatArray, FloatArray]:
    """``log S`` and ``V / S`` for ``S = sum_{i<m} f(i)``, ``V_q = sum_{i<m} f(i) v_q(i)``, in O(log m) per row.

    ``log f(u) = const + sum_j [lgamma(top_j + u) - lgamma(bottom_j + u)]`` and
    ``v_q(u) = w_const_q + sum_j [w_top_qj psi(top_j + u) + w_bottom_qj psi(bottom_j + u)]``: the terms of
    Fader, Hardie & Shang (2010) eq. (5) and their parameter derivatives (digamma differences).

    The first ``n_direct_min`` (default :data:`_DIRECT_TERMS`) terms are added one by one. The rest, a
    smooth function of ``i`` that decays polynomially (``f(u) ~ u^-(alpha+x+gamma+1)`` in eq. 5), is the
    midpoint form of the Euler-Maclaurin formula,
    ``sum_{i=N}^{m-1} f(i) = int_{N-1/2}^{m-1/2} f - [f']/24 + 7 [f''']/5760 - ...``
    (``[.]`` the difference between the ends); the first neglected term is ``31 [f^(5)]/967680``, relative
    size ``~3e-5 s^5 / N^5`` (1e-13 for s = 1, 5e-9 of the tail for s = 20 at N = 128). The integral is a
    Gauss-Legendre rule on panels at most an octave wide in ``log u`` (``f`` is analytic with its
    singularities on the negative real axis, ``Im log u = pi``), so the cost grows with ``log m``.

    Parameters
    ----------
    top, bottom, diff:
        Arrays of shape (n_rows, J), ``top, bottom > 0`` and ``diff = top - bottom`` exactly as the caller
        knows it (recomputing it from rounded ``top`` and ``bottom`` costs 1e-11 of a small ``top``).
    const, m:
        Arrays of shape (n_rows,); ``m`` whole numbers >= 0.
    w_top, w_bottom:
        Arrays of shape (n_q, J); ``w_const`` of shape (n_q,).

    Returns
    -------
    (log_s, v):
        ``log S`` of shape (n_rows,) (``-inf`` where m = 0) and ``V / S`` of shape (n_rows, n_q).
    """
    rows, nq = top.shape[0], w_const.shape[0]
    n_direct = int(min(float(np.max(m, initial=0.0)), n_direct_min))
    M = np.full(rows, -np.inf)
    S = np.zeros(rows)
    V = np.zeros((rows, nq))
    for i in range(n_direct):
        fi = float(i)
        use = m > fi
        li = np.where(use, const + np.sum(_lgamma_diff(bottom + fi, diff, top + fi), axis=1), -np.inf)
        new_m = np.maximum(M, li)
        safe = np.where(np.isfinite(new_m), new_m, 0.0)
        scale = np.exp(M - safe)
        e = np.exp(li - safe)
        vi = w_const[None, :] + special.digamma(top + fi) @ w_top.T + special.digamma(bottom + fi) @ w_bottom.T
        S = S * scale + e
        V = V * scale[:, None] + e[:, None] * vi
        M = new_m
    long_ = m > n_direct_min
    if long_.any():
        tl, bl, dl, cl = top[long_], bottom[long_], diff[long_], const[long_]
        lo = n_direct_min - 0.5
        hi = m[long_] - 0.5
        span = np.log(hi / lo)
        n_panels = max(1, int(np.ceil(float(np.max(span)) / _TAIL_PANEL)))
        width = span / n_panels
        k = np.arange(n_panels, dtype=np.float64)
        s = (math.log(lo) + width[:, None, None] * (k[None, :, None] + 0.5 + 0.5 * _TAIL_X[None, None, :]))
        s = s.reshape(tl.shape[0], -1)
        u = np.exp(s)  # (rows, nodes)
        log_w = np.log(0.5 * width)[:, None] + np.tile(np.log(_TAIL_W), n_panels)[None, :] + s
        lf = cl[:, None] + np.sum(_lgamma_diff(bl[:, :, None] + u[:, None, :], dl[:, :, None]), axis=1)
        # Euler-Maclaurin end corrections need f', f''' and (f v)', (f v)''' at both ends.
        ends = np.stack([np.full(tl.shape[0], lo), hi], axis=1)  # (rows, 2)
        lf_end = cl[:, None] + np.sum(_lgamma_diff(bl[:, :, None] + ends[:, None, :], dl[:, :, None]), axis=1)

        def poly(order: int, at: FloatArray) -> FloatArray:
            res: FloatArray = np.sum(special.polygamma(order, tl[:, :, None] + at[:, None, :])
                                     - special.polygamma(order, bl[:, :, None] + at[:, None, :]), axis=1)
            return res

        g1, g2, g3 = poly(0, ends), poly(1, ends), poly(2, ends)
        f1 = g1  # f'/f
        f2 = g2 + g1 * g1
        f3 = g3 + 3.0 * g1 * g2 + g1 ** 3
        sign = np.array([-1.0, 1.0])  # [.] = value at hi - value at lo
        Mt = np.maximum(M[long_], np.maximum(np.max(lf + log_w, axis=1), np.max(lf_end, axis=1)))
        e_nodes = np.exp(lf + log_w - Mt[:, None])
        e_end = np.exp(lf_end - Mt[:, None])
        tail_S = np.sum(e_nodes, axis=1) + np.sum(sign * e_end * (-f1 / 24.0 + 7.0 * f3 / 5760.0), axis=1)

        def vals(order: int, at: FloatArray) -> FloatArray:
            # (rows, points, nq): v_q^(order) at the points
            pt = special.polygamma(order, tl[:, :, None] + at[:, None, :])  # (rows, J, P)
            pb = special.polygamma(order, bl[:, :, None] + at[:, None, :])
            out: FloatArray = np.einsum("rjp,qj->rpq", pt, w_top) + np.einsum("rjp,qj->rpq", pb, w_bottom)
            return out

        v_nodes = vals(0, u) + w_const[None, None, :]
        v0, v1, v2, v3 = vals(0, ends) + w_const[None, None, :], vals(1, ends), vals(2, ends), vals(3, ends)
        dv1 = f1[:, :, None] * v0 + v1  # (f v)'/f
        dv3 = f3[:, :, None] * v0 + 3.0 * f2[:, :, None] * v1 + 3.0 * f1[:, :, None] * v2 + v3
        tail_V = (np.einsum("rp,rpq->rq", e_nodes, v_nodes)
                  + np.einsum("rp,rpq->rq", sign * e_end, -dv1 / 24.0 + 7.0 * dv3 / 5760.0))
        scale = np.exp(M[long_] - Mt)
        S[long_] = S[long_] * scale + tail_S
        V[long_] = V[long_] * scale[:, None] + tail_V
        M[long_] = Mt
    with np.errstate(divide="ignore"):
        log_s = M + np.log(S)
    safe_s = np.where(S > 0.0, S, 1.0)
    return log_s, V / safe_s[:, None]


def _ratio_moments(
    top: FloatArray, bottom: FloatArray, diff: FloatArray, const: FloatArray, m: FloatArray, w_top: FloatArray,
    w_bottom: FloatArray, w_const: FloatArray, center: FloatArray, n_direct_min: int = _DIRECT_TERMS,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """The weighted second moments of :func:`_ratio_sum`'s terms, for the Hessian of ``log S``.

    With the arguments of :func:`_ratio_sum` (same ``f``, ``v_q``) and ``center`` of shape (n_rows, n_q), returns
    ``C = sum f(i) (v(i) - c)(v(i) - c)' / S`` of shape (n_rows, n_q, n_q) and ``sum f(i) psi'(top_j + i) / S``,
    ``sum f(i) psi'(bottom_j + i) / S`` of shape (n_rows, J) (``psi'`` the trigamma function: the second
    derivatives of ``log f``). Centring at the caller's mean of ``v`` keeps the covariance free of cancellation.
    The sums are taken as in :func:`_ratio_sum`: the first terms one by one, the tail by the same Gauss-Legendre
    panels and Euler-Maclaurin end corrections, applied to ``f h`` for each quantity ``h`` (its derivatives at the
    ends by Leibniz's rule from those of ``v``, or polygamma functions of the next orders).
    """
    rows, nq, nj = top.shape[0], w_const.shape[0], top.shape[1]
    n_direct = int(min(float(np.max(m, initial=0.0)), n_direct_min))
    M = np.full(rows, -np.inf)
    S = np.zeros(rows)
    C = np.zeros((rows, nq, nq))
    Pt = np.zeros((rows, nj))
    Pb = np.zeros((rows, nj))
    for i in range(n_direct):
        fi = float(i)
        use = m > fi
        li = np.where(use, const + np.sum(_lgamma_diff(bottom + fi, diff, top + fi), axis=1), -np.inf)
        new_m = np.maximum(M, li)
        safe = np.where(np.isfinite(new_m), new_m, 0.0)
        scale = np.exp(M - safe)
        e = np.exp(li - safe)
        vi = (w_const[None, :] + special.digamma(top + fi) @ w_top.T + special.digamma(bottom + fi) @ w_bottom.T
              - center)
        S = S * scale + e
        C = C * scale[:, None, None] + e[:, None, None] * (vi[:, :, None] * vi[:, None, :])
        Pt = Pt * scale[:, None] + e[:, None] * special.polygamma(1, top + fi)
        Pb = Pb * scale[:, None] + e[:, None] * special.polygamma(1, bottom + fi)
        M = new_m
    long_ = m > n_direct_min
    if long_.any():
        tl, bl, dl, cl, ctr = top[long_], bottom[long_], diff[long_], const[long_], center[long_]
        lo = n_direct_min - 0.5
        hi = m[long_] - 0.5
        span = np.log(hi / lo)
        n_panels = max(1, int(np.ceil(float(np.max(span)) / _TAIL_PANEL)))
        width = span / n_panels
        k = np.arange(n_panels, dtype=np.float64)
        s = (math.log(lo) + width[:, None, None] * (k[None, :, None] + 0.5 + 0.5 * _TAIL_X[None, None, :]))
        s = s.reshape(tl.shape[0], -1)
        u = np.exp(s)
        log_w = np.log(0.5 * width)[:, None] + np.tile(np.log(_TAIL_W), n_panels)[None, :] + s
        lf = cl[:, None] + np.sum(_lgamma_diff(bl[:, :, None] + u[:, None, :], dl[:, :, None]), axis=1)
        ends = np.stack([np.full(tl.shape[0], lo), hi], axis=1)
        lf_end = cl[:, None] + np.sum(_lgamma_diff(bl[:, :, None] + ends[:, None, :], dl[:, :, None]), axis=1)

        def poly(order: int, at: FloatArray) -> FloatArray:
            res: FloatArray = np.sum(special.polygamma(order, tl[:, :, None] + at[:, None, :])
                                     - special.polygamma(order, bl[:, :, None] + at[:, None, :]), axis=1)
            return res

        g1, g2, g3 = poly(0, ends), poly(1, ends), poly(2, ends)
        f1 = g1
        f2 = g2 + g1 * g1
        f3 = g3 + 3.0 * g1 * g2 + g1 ** 3
        sign = np.array([-1.0, 1.0])
        Mt = np.maximum(M[long_], np.maximum(np.max(lf + log_w, axis=1), np.max(lf_end, axis=1)))
        e_nodes = np.exp(lf + log_w - Mt[:, None])
        e_end = np.exp(lf_end - Mt[:, None])
        tail_S = np.sum(e_nodes, axis=1) + np.sum(sign * e_end * (-f1 / 24.0 + 7.0 * f3 / 5760.0), axis=1)

        def vals(order: int, at: FloatArray) -> FloatArray:
            pt = special.polygamma(order, tl[:, :, None] + at[:, None, :])
            pb = special.polygamma(order, bl[:, :, None] + at[:, None, :])
            out: FloatArray = np.einsum("rjp,qj->rpq", pt, w_top) + np.einsum("rjp,qj->rpq", pb, w_bottom)
            return out

        def corrected(h0: FloatArray, h1: FloatArray, h2: FloatArray, h3: FloatArray) -> FloatArray:
            # The end corrections of f h: its first and third derivatives over f by Leibniz's rule, from
            # h and its derivatives (arrays with the rows first and the two ends second).
            shape = f1.shape + (1,) * (h0.ndim - 2)
            e1, e2, e3 = f1.reshape(shape), f2.reshape(shape), f3.reshape(shape)
            d1 = e1 * h0 + h1
            d3 = e3 * h0 + 3.0 * e2 * h1 + 3.0 * e1 * h2 + h3
            out: FloatArray = -d1 / 24.0 + 7.0 * d3 / 5760.0
            return out

        def outer(p: FloatArray, q: FloatArray) -> FloatArray:
            res: FloatArray = p[..., :, None] * q[..., None, :]
            return res

        v_nodes = vals(0, u) + (w_const[None, :] - ctr)[:, None, :]
        v0 = vals(0, ends) + (w_const[None, :] - ctr)[:, None, :]
        v1, v2, v3 = vals(1, ends), vals(2, ends), vals(3, ends)
        h0 = outer(v0, v0)
        h1 = outer(v1, v0) + outer(v0, v1)
        h2 = outer(v2, v0) + 2.0 * outer(v1, v1) + outer(v0, v2)
        h3 = outer(v3, v0) + 3.0 * outer(v2, v1) + 3.0 * outer(v1, v2) + outer(v0, v3)
        tail_C = (np.einsum("rp,rpq,rps->rqs", e_nodes, v_nodes, v_nodes)
                  + np.einsum("rp,rpqs->rqs", sign * e_end, corrected(h0, h1, h2, h3)))

        def trigamma_tail(base: FloatArray) -> FloatArray:
            at_nodes = special.polygamma(1, base[:, :, None] + u[:, None, :])  # (rows, J, nodes)
            hs = [np.moveaxis(special.polygamma(1 + o, base[:, :, None] + ends[:, None, :]), 1, 2) for o in range(4)]
            res: FloatArray = (np.einsum("rp,rjp->rj", e_nodes, at_nodes)
                               + np.einsum("rp,rpj->rj", sign * e_end, corrected(*hs)))
            return res

        scale = np.exp(M[long_] - Mt)
        S[long_] = S[long_] * scale + tail_S
        C[long_] = C[long_] * scale[:, None, None] + tail_C
        Pt[long_] = Pt[long_] * scale[:, None] + trigamma_tail(tl)
        Pb[long_] = Pb[long_] * scale[:, None] + trigamma_tail(bl)
    safe_s = np.where(S > 0.0, S, 1.0)
    return C / safe_s[:, None, None], Pt / safe_s[:, None], Pb / safe_s[:, None]


def _terms(
    params: FloatArray, x: FloatArray, tx: FloatArray, n: FloatArray, with_grad: bool
) -> tuple[FloatArray, FloatArray, FloatArray | None]:
    """``(log L, log term1, d log L / d params)`` of eq. (5), vectorised over rows, O(log(n - tx)) per row.

    ``L = B(alpha+x, beta+n-x) B(gamma, delta+n) / (B(alpha, beta) B(gamma, delta))
    + sum_{i=0}^{n-tx-1} B(alpha+x, beta+tx-x+i) B(gamma+1, delta+tx+i) / (B(alpha, beta) B(gamma, delta))``.

    The first term is "alive through opportunity n", term i is "died at the start of opportunity
    tx+i+1". Term i is ``exp(K + lgamma(beta+tx-x+i) - lgamma(alpha+beta+tx+i) + lgamma(delta+tx+i)
    - lgamma(gamma+delta+tx+1+i))``, a smooth function of i decaying like ``i^-(alpha+x+gamma+1)``; the sum
    and its parameter derivatives (digamma differences) are taken by :func:`_ratio_sum` (the first terms
    one by one, the tail by the Euler-Maclaurin formula), so an evaluation costs O(log(n - tx)) per row
    instead of O(n - tx) (3 customers with n = 1000 took 409 s in a fit; n = 1e8 did not finish). The
    gradient is the weighted average of the gradients of the log terms. Repeated rows are computed once
    (:func:`_integer_groups`).
    """
    groups = _integer_groups([x, tx, n])
    if groups is not None:
        (xu, txu, nu), inv = groups
        ll_u, first_u, grad_u = _terms(params, xu, txu, nu, with_grad)
        return ll_u[inv], first_u[inv], None if grad_u is None else grad_u[inv]
    alpha, beta, gamma, delta = (float(v) for v in params)
    log_t1, top, bottom, K, diff = _term_pieces(alpha, beta, gamma, delta, x, tx, n)
    log_s, v = _ratio_sum(top, bottom, diff, K, n - tx, _W_TOP, _W_BOTTOM, np.array([0.0, 0.0, 1.0 / gamma, 0.0]))
    ll: FloatArray = np.logaddexp(log_t1, log_s)
    if not with_grad:
        return ll, log_t1, None
    _, _, grad = _term_gradient(alpha, beta, gamma, delta, x, n, log_t1, ll, v)
    return ll, log_t1, grad


def _term_pieces(alpha: float, beta: float, gamma: float, delta: float, x: FloatArray, tx: FloatArray,
                 n: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    """Term 1's log and the sum's ingredients for :func:`_ratio_sum`: ``(log_t1, top, bottom, K, diff)``."""
    lb0 = special.betaln(alpha, beta) + special.betaln(gamma, delta)
    # B(p, q) = Gamma(p) / [Gamma(p + q) / Gamma(q)]: the ratio without cancellation at large n
    log_t1 = (special.gammaln(alpha + x) - _lgamma_diff(beta + (n - x), alpha + x)
              + special.gammaln(gamma) - _lgamma_diff(delta + n, np.full(n.shape, gamma))) - lb0
    top = np.stack([beta + (tx - x), delta + tx], axis=1)  # integer difference first: tx - x is exact
    bottom = np.stack([alpha + beta + tx, gamma + delta + tx + 1.0], axis=1)
    K = (special.gammaln(alpha + x) + special.gammaln(gamma + 1.0)) - lb0
    diff = np.stack([-(alpha + x), np.full(x.shape, -(gamma + 1.0))], axis=1)
    return log_t1, top, bottom, K, diff


def _term_gradient(alpha: float, beta: float, gamma: float, delta: float, x: FloatArray, n: FloatArray,
                   log_t1: FloatArray, ll: FloatArray, v: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """``(w1, g1, grad)``: term 1's share of L, its log's gradient (without the common part) and d log L / d params
    (the shares' average of the terms' gradients ``g1`` and ``v``, plus the common lgamma part)."""
    w1 = np.exp(log_t1 - ll)  # share of term 1 in L
    g1 = np.empty((x.shape[0], 4))
    dig_abn = special.digamma(alpha + beta + n)
    dig_gdn = special.digamma(gamma + delta + n)
    g1[:, 0] = -dig_abn
    g1[:, 1] = special.digamma(beta + (n - x)) - dig_abn
    g1[:, 2] = -dig_gdn
    g1[:, 3] = special.digamma(delta + n) - dig_gdn
    grad = w1[:, None] * g1 + (1.0 - w1)[:, None] * v
    psi_ab = special.digamma(alpha + beta)
    psi_gd = special.digamma(gamma + delta)
    grad[:, 0] += special.digamma(alpha + x) - special.digamma(alpha) + psi_ab
    grad[:, 1] += psi_ab - special.digamma(beta)
    grad[:, 2] += psi_gd
    grad[:, 3] += psi_gd - special.digamma(delta)
    return w1, g1, grad


#: Weights of psi(top_j + i), psi(bottom_j + i) in d log(term i) / d(alpha, beta, gamma, delta) (see _terms).
_W_TOP = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 0.0], [0.0, 1.0]])
_W_BOTTOM = np.array([[-1.0, 0.0], [-1.0, 0.0], [0.0, -1.0], [0.0, -1.0]])


def _terms_hessian(params: FloatArray, x: FloatArray, tx: FloatArray, n: FloatArray
                   ) -> tuple[FloatArray, FloatArray, FloatArray]:
    """:func:`_terms` (log-likelihood and gradient, the same numbers) and the per-row Hessian of eq. (5).

    ``log L = C + log(exp(u_1) + sum_i exp(u_i))`` with ``C = lgamma(alpha+x) - lgamma(alpha) - lgamma(beta)
    + lgamma(alpha+beta) + lgamma(gamma+delta) - lgamma(delta)`` common to all terms (its Hessian: trigamma
    functions), ``u_1`` the rest of term 1 and ``u_i`` of term i (see :func:`_terms`). With the shares
    ``w_1 = term 1 / L`` and ``w_s = 1 - w_1`` the Hessian of the log of the sum is ``w_1 H(u_1)
    + w_s (E_s[H(u_i)] + Cov_s(grad u_i)) + w_1 w_s (grad u_1 - E_s grad u_i)(grad u_1 - E_s grad u_i)'``, ``E_s``
    and ``Cov_s`` the mean and covariance over the terms of the sum weighted by their size
    (:func:`_ratio_moments`); ``H(u_i)`` holds ``psi'(top_j + i) - psi'(bottom_j + i)`` and ``-1/gamma^2``.
    """
    groups = _integer_groups([x, tx, n])
    if groups is not None:
        (xu, txu, nu), inv = groups
        ll_u, grad_u, hess_u = _terms_hessian(params, xu, txu, nu)
        return ll_u[inv], grad_u[inv], hess_u[inv]
    alpha, beta, gamma, delta = (float(v) for v in params)
    # The log-likelihood and gradient exactly as _terms computes them.
    log_t1, top, bottom, K, diff = _term_pieces(alpha, beta, gamma, delta, x, tx, n)
    w_const = np.array([0.0, 0.0, 1.0 / gamma, 0.0])
    log_s, v = _ratio_sum(top, bottom, diff, K, n - tx, _W_TOP, _W_BOTTOM, w_const)
    ll: FloatArray = np.logaddexp(log_t1, log_s)
    w1, g1, grad = _term_gradient(alpha, beta, gamma, delta, x, n, log_t1, ll, v)
    # The Hessian.
    ws = np.exp(log_s - ll)  # the share of the sum (not 1 - w1: no cancellation where term 1 dominates)
    cov_s, tri_top, tri_bottom = _ratio_moments(top, bottom, diff, K, n - tx, _W_TOP, _W_BOTTOM, w_const, v)
    # E_s[H(u_i)]: top_j and bottom_j move with the parameters as w_top and -w_bottom say, so psi'(top_j + i)
    # enters (p, q) with w_top[p, j] w_top[q, j] and psi'(bottom_j + i) with -w_bottom[p, j] w_bottom[q, j].
    h_sum = (np.einsum("rj,pj,qj->rpq", tri_top, _W_TOP, _W_TOP)
             - np.einsum("rj,pj,qj->rpq", tri_bottom, _W_BOTTOM, _W_BOTTOM))
    h_sum[:, 2, 2] -= 1.0 / (gamma * gamma)
    h1 = np.zeros((x.shape[0], 4, 4))
    t_abn = special.polygamma(1, alpha + beta + n)
    t_gdn = special.polygamma(1, gamma + delta + n)
    h1[:, 0, 0] = h1[:, 0, 1] = h1[:, 1, 0] = -t_abn
    h1[:, 1, 1] = special.polygamma(1, beta + (n - x)) - t_abn
    h1[:, 2, 2] = h1[:, 2, 3] = h1[:, 3, 2] = -t_gdn
    h1[:, 3, 3] = special.polygamma(1, delta + n) - t_gdn
    dv = g1 - v
    hess: FloatArray = (w1[:, None, None] * h1 + ws[:, None, None] * (h_sum + cov_s)
                        + (w1 * ws)[:, None, None] * (dv[:, :, None] * dv[:, None, :]))
    t_ab = float(special.polygamma(1, alpha + beta))
    t_gd = float(special.polygamma(1, gamma + delta))
    hess[:, 0, 0] += special.polygamma(1, alpha + x) - float(special.polygamma(1, alpha)) + t_ab
    hess[:, 0, 1] += t_ab
    hess[:, 1, 0] += t_ab
    hess[:, 1, 1] += t_ab - float(special.polygamma(1, beta))
    hess[:, 2, 2] += t_gd
    hess[:, 2, 3] += t_gd
    hess[:, 3, 2] += t_gd
    hess[:, 3, 3] += t_gd - float(special.polygamma(1, delta))
    return ll, grad, hess


def loglik(params: FloatArray, x: FloatArray, tx: FloatArray, n: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Per-customer log-likelihood, eq. (5), and its gradient w.r.t. ``(alpha, beta, gamma, delta)``.

    Returns
    -------
    (ll, grad):
        ``ll`` of shape (n_rows,), ``grad`` of shape (n_rows, 4).
    """
    ll, _, grad = _terms(params, x, tx, n, True)
    assert grad is not None
    return ll, grad


def loglik_hessian(params: FloatArray, x: FloatArray, tx: FloatArray, n: FloatArray
                   ) -> tuple[FloatArray, FloatArray, FloatArray]:
    """:func:`loglik` (eq. 5) and the per-row Hessian w.r.t. ``(alpha, beta, gamma, delta)`` in one pass.

    Returns
    -------
    (ll, grad, hess):
        Shapes (n_rows,), (n_rows, 4) and (n_rows, 4, 4); ``ll`` and ``grad`` equal :func:`loglik`'s.
    """
    return _terms_hessian(params, x, tx, n)


def log_likelihood(params: FloatArray, x: FloatArray, tx: FloatArray, n: FloatArray) -> FloatArray:
    """Per-customer log-likelihood, eq. (5), without the gradient (cheaper)."""
    return _terms(params, x, tx, n, False)[0]


def _log_alive_next(params: FloatArray, x: FloatArray, tx: FloatArray, n: FloatArray) -> FloatArray:
    """``log P(alive at opportunity n+1 | x, tx, n)``, eq. (11)."""
    gamma, delta = float(params[2]), float(params[3])
    ll, log_t1, _ = _terms(params, x, tx, n, False)
    # B(gamma, delta+n+1) / B(gamma, delta+n) = (delta+n) / (gamma+delta+n): term 1 one opportunity on.
    out: FloatArray = log_t1 + np.log((delta + n) / (gamma + delta + n)) - ll
    return out


def probability_alive(params: FloatArray, x: FloatArray, tx: FloatArray, n: FloatArray) -> FloatArray:
    """P(alive at opportunity n+1 | x, tx, n), eq. (11).

    ``B(alpha+x, beta+n-x) B(gamma, delta+n+1) / (B(alpha, beta) B(gamma, delta)) / L``.
    """
    p: FloatArray = np.exp(_log_alive_next(params, x, tx, n))
    return p


def _log1p_ratio(u: FloatArray) -> FloatArray:
    """``log1p(u) / u`` with its limit 1 at u = 0 (u > -1)."""
    safe = np.where(u == 0.0, 1.0, u)
    out: FloatArray = np.where(u == 0.0, 1.0, np.log1p(safe) / safe)
    return out


def _lgamma_shift_slope(y1: FloatArray, y2: FloatArray, c: float) -> FloatArray:
    """``([lgamma(y2+c) - lgamma(y2)] - [lgamma(y1+c) - lgamma(y1)]) / c`` for ``y1, y2 >= 1``.

    For small ``|c|`` the direct differences cancel (and divide 0 by 0 at c = 0); there the Taylor
    series ``sum_k c^(k-1)/k! [psi^(k-1)(y2) - psi^(k-1)(y1)]`` is used (radius of convergence y1 > |c|).
    """
    if abs(c) >= _TAYLOR_C:
        # Each difference through _lgamma_diff: plain gammaln differences at y ~ 1e5 lose ~1e-10 absolutely,
        # and the two differences nearly cancel when t << n (4.9e-8 relative error at n = 1e5, t = 1e3).
        out: FloatArray = (_lgamma_diff(y2, c) - _lgamma_diff(y1, c)) / c
        return out
    total = special.digamma(y2) - special.digamma(y1)
    coef = 1.0
    for k in range(2, _TAYLOR_TERMS + 1):
        coef *= c / k
        total = total + coef * (special.polygamma(k - 1, y2) - special.polygamma(k - 1, y1))
    result: FloatArray = total
    return result


def survival_sum(gamma: float, delta: float, n: FloatArray, t: FloatArray) -> FloatArray:
    """``H = sum_{s=1}^{t} B(gamma, delta+n+s) / B(gamma, delta+n+1)``: expected alive opportunities.

    ``H`` is the expected number of the next ``t`` opportunities at which a customer alive at n+1
    is alive (the factor of eq. 13 after P(alive) is taken out). With ``c = gamma - 1`` and
    ``u(m) = Gamma(delta+m+1) / Gamma(gamma+delta+m)`` the sum telescopes
    (``u(m-1) - u(m) = c Gamma(delta+m)/Gamma(gamma+delta+m)``) to

    ``H = (gamma+delta+n) [1 - u(n+t)/u(n)] / c = (gamma+delta+n) Q exprel(-c Q)``,

    ``Q = -log(u(n+t)/u(n)) / c = sum_{j<t} log1p(-c/(gamma+delta+n+j)) / (-c)``. ``Q`` is summed term
    by term for ``t <= 256`` (every term positive: exact, and finite at c = 0) and otherwise taken from
    log-gamma differences (:func:`_lgamma_shift_slope`).

    Parameters
    ----------
    gamma, delta:
        Dropout parameters.
    n, t:
        Broadcastable arrays of whole numbers: opportunities observed and horizon.
    """
    n_arr, t_arr = np.broadcast_arrays(np.asarray(n, dtype=np.float64), np.asarray(t, dtype=np.float64))
    if n_arr.ndim == 1:
        groups = _integer_groups([n_arr, t_arr])
        if groups is not None:
            (nu, tu), inv = groups
            grouped: FloatArray = survival_sum(gamma, delta, nu, tu)[inv]
            return grouped
    c = gamma - 1.0
    base = gamma + delta + n_arr
    Q = np.zeros(n_arr.shape)
    short = t_arr <= _DIRECT_SUM_MAX
    if short.any():
        bs, ts = base[short], t_arr[short]
        q = np.zeros(bs.shape)
        for j in range(int(ts.max()) if ts.size else 0):
            inc = _log1p_ratio(-c / (bs + j)) / (bs + j)
            q += np.where(ts > j, inc, 0.0)
        Q[short] = q
    long_ = ~short
    if long_.any():
        y1 = delta + n_arr[long_] + 1.0
        Q[long_] = _lgamma_shift_slope(y1, y1 + t_arr[long_], c)
    out: FloatArray = base * Q * special.exprel(-c * Q)
    return out


def expected_purchases(
    params: FloatArray, x: FloatArray, tx: FloatArray, n: FloatArray, t: FloatArray | float
) -> FloatArray:
    """E[X(n, n+t) | x, tx, n]: expected transactions in the next ``t`` opportunities, eq. (13).

    Eq. (13) equals ``P(alive at n+1) * (alpha+x)/(alpha+beta+n) * H(t)``: the posterior mean of p
    given alive (``B(alpha+x+1, beta+n-x)/B(alpha+x, beta+n-x)``) times the expected number of alive
    opportunities :func:`survival_sum`; the closed form
    ``delta/(gamma-1) Gamma(gamma+delta)/Gamma(1+delta) [Gamma(1+delta+n)/Gamma(gamma+delta+n) -
    Gamma(1+delta+n+t)/Gamma(gamma+delta+n+t)]`` of the paper is evaluated without its cancellation.
    """
    alpha, beta, gamma, delta = (float(v) for v in params)
    t_arr = np.asarray(t, dtype=np.float64)
    p_alive = probability_alive(params, x, tx, n)
    H = survival_sum(gamma, delta, n, t_arr)
    out: FloatArray = p_alive * (alpha + x) / (alpha + beta + n) * H
    return out


def expected_purchases_new(params: FloatArray, t: FloatArray | float) -> FloatArray:
    """E[X(t)]: expected transactions of a new customer in the first ``t`` opportunities, eq. (7).

    ``alpha/(alpha+beta) * delta/(gamma-1) * [1 - Gamma(gamma+delta) Gamma(1+delta+t) /
    (Gamma(gamma+delta+t) Gamma(1+delta))]``, i.e. eq. (13) at x = tx = n = 0.
    """
    alpha, beta, gamma, delta = (float(v) for v in params)
    t_arr = np.asarray(t, dtype=np.float64)
    zeros = np.zeros_like(t_arr)
    out: FloatArray = alpha / (alpha + beta) * delta / (gamma + delta) * survival_sum(gamma, delta, zeros, t_arr)
    return out


def _hyp2f1_one(b: FloatArray, c: FloatArray, z: float) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
    """``2F1(1, b; c; z)`` for ``0 <= z < 1``, ``c > b > 0``, by Gauss's continued fraction.

    ``2F1(a+1, b; c'+1; z) / 2F1(a, b; c'; z) = 1/(1 + k1 z/(1 + k2 z/(1 + ...)))`` with
    ``k_{2m+1} = (a-c'-m)(b+m)/((c'+2m)(c'+2m+1))``, ``k_{2m} = (b-c'-m)(a+m)/((c'+2m-1)(c'+2m))``; at a = 0
    the denominator is 1 and ``c' = c - 1``. Evaluated with the modified Lentz algorithm. The power
    series needs ~log(eps)/log(z) terms (tens of thousands as z -> 1) and scipy's ``hyp2f1`` returns
    NaN for large b near z = 1; the fraction converges in tens to hundreds of steps for z <= 1/(1+1e-3)
    and in about 15/sqrt(1-z) steps beyond. Returns the values and a mask of the rows that converged.
    """
    cp = c - 1.0
    tiny = 1e-300
    f = np.ones(b.shape)
    C = np.ones(b.shape)
    D = np.zeros(b.shape)
    done = np.zeros(b.shape, dtype=bool)
    for j in range(1, _CF_MAX_ITER):
        m = j // 2
        if j % 2:
            k = (-cp - m) * (b + m) / ((cp + 2 * m) * (cp + 2 * m + 1.0))
        else:
            k = m * (b - cp - m) / ((cp + 2 * m - 1.0) * (cp + 2 * m))
        a_j = k * z
        D = 1.0 + a_j * D
        D = np.where(np.abs(D) < tiny, tiny, D)
        C = 1.0 + a_j / C
        C = np.where(np.abs(C) < tiny, tiny, C)
        D = 1.0 / D
        delta = C * D
        f = np.where(done, f, f * delta)
        done |= np.abs(delta - 1.0) < _CF_TOL
        if done.all():
            break
    out: FloatArray = 1.0 / f
    return out, done


def dert(params: FloatArray, x: FloatArray, tx: FloatArray, n: FloatArray, d: float) -> FloatArray:
    """Discounted expected residual transactions, eq. (14).

    ``DERT(d) = sum_{s>=1} E[transaction at opportunity n+s] / (1+d)^s
    = B(alpha+x+1, beta+n-x)/B(alpha, beta) * B(gamma, delta+n+1)/(B(gamma, delta) (1+d))
    * 2F1(1, delta+n+1; gamma+delta+n+1; 1/(1+d)) / L``,

    computed as ``P(alive at n+1) (alpha+x)/(alpha+beta+n) 2F1(...)/(1+d)``. At d = 0 the
    hypergeometric function is summed by Gauss's theorem, ``(gamma+delta+n)/(gamma-1)``, finite only
    for gamma > 1 (the caller checks).

    Raises
    ------
    ConvergenceError
        For 0 < d below about 1e-7, where the continued fraction would need more than 60,000 steps.
    """
    alpha, beta, gamma, delta = (float(v) for v in params)
    p_alive = probability_alive(params, x, tx, n)
    if d == 0.0:
        F = (gamma + delta + n) / (gamma - 1.0)
        weight = 1.0
    else:
        groups = _integer_groups([np.asarray(n, dtype=np.float64)]) if np.ndim(n) == 1 else None
        if groups is not None:
            (nu,), inv = groups
            F_u, conv_u = _hyp2f1_one(delta + nu + 1.0, gamma + delta + nu + 1.0, 1.0 / (1.0 + d))
            F, converged = F_u[inv], conv_u
        else:
            F, converged = _hyp2f1_one(delta + n + 1.0, gamma + delta + n + 1.0, 1.0 / (1.0 + d))
        if not converged.all():
            raise ConvergenceError(
                f"DERT: the continued fraction for 2F1(1, delta+n+1; gamma+delta+n+1; 1/(1+d)) did not converge "
                f"in {_CF_MAX_ITER} steps for discount rate d = {d!r} (it needs about 15/sqrt(d)). Use a discount "
                f"rate of at least 1e-7 per opportunity, or d = 0 when gamma > 1."
            )
        weight = 1.0 / (1.0 + d)
    out: FloatArray = p_alive * (alpha + x) / (alpha + beta + n) * F * weight
    return out


def probability_of_purchases(
    params: FloatArray, x: FloatArray, tx: FloatArray, n: FloatArray, k: FloatArray, t: FloatArray
) -> FloatArray:
    """P(X(n, n+t) = k | x, tx, n): probability of exactly ``k`` transactions in the next ``t`` opportunities.

    Derived from the model's assumptions (the conditional counterpart of the paper's eq. 8). The
    customer is alive at n with probability ``A = term1 / L`` (eq. 5's first term), and given that the
    posterior is p ~ Beta(alpha+x, beta+n-x), theta ~ Beta(gamma, delta+n), independent. Of the next
    ``t`` opportunities the customer is alive at the first ``s`` with probability ``theta (1-theta)^s``
    (s < t) or ``(1-theta)^t`` (s = t), and then transacts Binomial(s, p) times, so

    ``P(X = k | alive) = sum_{s=k}^{t-1} C(s,k) B(alpha+x+k, beta+n-x+s-k)/B(alpha+x, beta+n-x)
    * B(gamma+1, delta+n+s)/B(gamma, delta+n)
    + C(t,k) B(alpha+x+k, beta+n-x+t-k)/B(alpha+x, beta+n-x) * B(gamma, delta+n+t)/B(gamma, delta+n)``

    and ``P(X = k) = A P(X = k | alive) + 1{k=0} (1 - A)``. The sum over s is a sum of log-gamma ratios
    taken by :func:`_ratio_sum` (its first max(128, 8k) terms one by one, the rest by the Euler-Maclaurin
    formula), so a horizon of t opportunities costs O(k + log t), not O(t).
    """
    alpha, beta, gamma, delta = (float(v) for v in params)
    x_, tx_, n_, k_, t_ = np.broadcast_arrays(x, tx, n, np.asarray(k, dtype=np.float64),
                                              np.asarray(t, dtype=np.float64))
    if x_.ndim == 1:
        groups = _integer_groups([x_, tx_, n_, k_, t_])
        if groups is not None:
            cols, inv = groups
            grouped: FloatArray = probability_of_purchases(params, cols[0], cols[1], cols[2], cols[3], cols[4])[inv]
            return grouped
    ll, log_t1, _ = _terms(params, x_.ravel(), tx_.ravel(), n_.ravel(), False)
    shape = x_.shape
    ll, log_t1 = ll.reshape(shape), log_t1.reshape(shape)
    xf, nf, kf, tf = (v.ravel().astype(np.float64) for v in (x_, n_, k_, t_))
    a_post, b_post, d_post = alpha + xf, beta + (nf - xf), delta + nf
    lb_p = special.betaln(a_post, b_post)
    lb_th = special.betaln(gamma, d_post)
    # Terms s = k + i, i = 0 .. t-k-1, as lgamma ratios in i (see _ratio_sum): O(k + log t) per row.
    top = np.stack([kf + 1.0, b_post, d_post + kf], axis=1)
    bottom = np.stack([np.ones_like(kf), a_post + b_post + kf, gamma + d_post + kf + 1.0], axis=1)
    diff = np.stack([kf, -(a_post + kf), np.full(kf.shape, -(gamma + 1.0))], axis=1)
    const = (-special.gammaln(kf + 1.0) + special.gammaln(a_post + kf) + special.gammaln(gamma + 1.0)) - lb_p - lb_th
    none = np.zeros((0, 3))
    # Euler-Maclaurin's neglected term grows like (k/N)^5: at least 8k terms one by one.
    n_direct = max(_DIRECT_TERMS, 8 * int(np.max(kf, initial=0.0)))
    log_s, _ = _ratio_sum(top, bottom, diff, const, np.maximum(tf - kf, 0.0), none, none, np.zeros(0), n_direct)
    ok = kf <= tf
    kk = np.where(ok, kf, 0.0)
    log_last = np.where(ok, special.gammaln(tf + 1.0) - special.gammaln(kk + 1.0) - special.gammaln(tf - kk + 1.0)
                        + special.betaln(a_post + kk, b_post + (tf - kk)) - lb_p
                        + special.betaln(gamma, d_post + tf) - lb_th, -np.inf)
    log_given_alive = np.logaddexp(log_s, log_last).reshape(shape)
    log_alive_n = log_t1 - ll
    out: FloatArray = np.exp(log_alive_n + log_given_alive) + np.where(k_ == 0.0, -np.expm1(log_alive_n), 0.0)
    return out


#: :func:`expected_purchases` at every horizon of a 1-D ``ts``, shape (len(ts), n), once per distinct row.
expected_purchases_path = partial(path_over_distinct_rows, expected_purchases)


#: P(X(t) = n) for a customer just acquired: :func:`probability_of_purchases` with no history.
probability_of_purchases_new = partial(fresh_customer_pmf, probability_of_purchases)


discounted_residual = dert
