"""Special-function helpers shared by the kernels.

The conditional expectations of BG/NBD and MBG/NBD contain ``(1-z)^(r+x) 2F1(r+x, b+x; c; z)`` with
``c = a+b+x-1`` (resp. ``a+b+x``). Euler's transformation ``2F1(A1, B1; c; z) = (1-z)^(c-A1-B1)
2F1(c-A1, c-B1; c; z)`` turns it into ``(1-z)^(a-1) 2F1(A, a-1; c; z)`` whose numerator parameters do
not grow with the frequency ``x``, so the series stays well-behaved for ``x`` in the thousands
(the untransformed form overflows there). The quantity the models need is

    G(A, B, C, z) = [1 - (1-z)^B 2F1(A, B; C; z)] / B,        B = a - 1,

which has a removable singularity at ``B = 0``; :func:`residual_factor` evaluates it without
cancellation for small ``z`` and without dividing by zero near ``B = 0``.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from scipy import special

__all__ = [
    "beta_gauss_rule", "checked_scaled_residual", "residual_by_quadrature", "residual_factor",
    "scaled_residual_by_quadrature", "scaled_residual_factor",
]

FloatArray = npt.NDArray[np.float64]

_SERIES_Z = 0.05  # below this the series converges in a few dozen terms and avoids 1 - F cancellation
_SERIES_TERMS = 400
_B_NUDGE = 1e-3  # |a - 1| below this: interpolate in B (scipy's hyp2f1 - 1 loses ~1e-14/|B|)


def _series(
    A: FloatArray, B: FloatArray, C: FloatArray, z: FloatArray
) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
    """``S = (2F1(A,B;C;z) - 1) / B`` by its power series; returns (S, converged mask)."""
    u = A * z / C
    total = u.copy()
    done = np.zeros(z.shape, dtype=bool)
    for k in range(1, _SERIES_TERMS):
        u = u * (A + k) * (B + k) * z / ((C + k) * (k + 1))
        total += u
        done = np.abs(u) <= 1e-17 * np.abs(total)
        if done.all():
            break
    return total, done


def _direct(A: FloatArray, B: FloatArray, C: FloatArray, z: FloatArray) -> FloatArray:
    L = np.log1p(-z)
    F = special.hyp2f1(A, B, C, z)
    out: FloatArray = -np.expm1(B * L) / B - np.exp(B * L) * (F - 1.0) / B
    # The two terms above are each O(1/B); use the one-step form when |B| is not tiny.
    return out


def residual_factor(A: FloatArray, B: float, C: FloatArray, z: FloatArray) -> FloatArray:
    """``[1 - (1-z)^B 2F1(A, B; C; z)] / B`` for ``0 <= z < 1``, elementwise.

    Parameters
    ----------
    A, C:
        Arrays broadcastable to ``z``; ``C > 0``.
    B:
        Scalar (``a - 1`` in the BG/NBD family).
    z:
        Array in ``[0, 1)``.

    Returns
    -------
    numpy.ndarray
        Same shape as ``z``; 0 where ``z == 0``.
    """
    A_, C_, z_ = np.broadcast_arrays(np.asarray(A, dtype=np.float64), np.asarray(C, dtype=np.float64),
                                     np.asarray(z, dtype=np.float64))
    out = np.empty(z_.shape)
    small = z_ < _SERIES_Z
    if small.any():
        a_s, c_s, z_s = A_[small], C_[small], z_[small]
        L = np.log1p(-z_s)
        S, ok = _series(a_s, np.full_like(z_s, B), c_s, z_s)
        vals = -L * special.exprel(B * L) - np.exp(B * L) * S
        if not ok.all():
            bad = np.logical_not(ok)
            vals[bad] = _large(a_s[bad], B, c_s[bad], z_s[bad])
        out[small] = vals
    big = ~small
    if big.any():
        out[big] = _large(A_[big], B, C_[big], z_[big])
    return out


def _large(A: FloatArray, B: float, C: FloatArray, z: FloatArray) -> FloatArray:
    if abs(B) >= _B_NUDGE:
        return _direct(A, np.full_like(z, B), C, z)
    # G is analytic in B: cubic Lagrange interpolation through B = -2h, -h, h, 2h (error O(h^4) ~ 1e-20,
    # plus the cancellation of _direct, ~1e-16/h). The linear interpolation used before was 1.4e-9 off at
    # a = 1.00001 (against mpmath).
    h = _B_NUDGE
    nodes = (-2.0 * h, -h, h, 2.0 * h)
    result: FloatArray = np.zeros(z.shape)
    for j, bj in enumerate(nodes):
        weight = 1.0
        for k, bk in enumerate(nodes):
            if k != j:
                weight *= (B - bk) / (bj - bk)
        result = result + weight * _direct(A, np.full_like(z, bj), C, z)
    return result


_C_SMALL = 1e-3


def scaled_residual_factor(A: FloatArray, B: float, C: FloatArray, z: FloatArray) -> FloatArray:
    """``C * G(A, B, C, z)``, also where ``C`` is zero or slightly negative (``C > -1``).

    In BG/NBD ``C = a+b+x-1`` is ``<= 0`` for customers without repeat purchases when ``a + b <= 1``;
    ``2F1(A, B; C; z)`` has a pole there but ``C * G`` does not. With ``C/(C)_k = 1/(C+1)_(k-1)``,
    ``C * (F - 1) / B = A z 3F2(A+1, B+1, 1; C+1, 2; z)``, evaluated by its series for ``z <= 0.9`` and
    and left NaN beyond, for :func:`checked_scaled_residual` to take from :func:`scaled_residual_by_quadrature`.
    """
    A_, C_, z_ = np.broadcast_arrays(np.asarray(A, dtype=np.float64), np.asarray(C, dtype=np.float64),
                                     np.asarray(z, dtype=np.float64))
    out = np.empty(z_.shape)
    small = C_ <= _C_SMALL
    regular = ~small
    if regular.any():
        out[regular] = C_[regular] * residual_factor(A_[regular], B, C_[regular], z_[regular])
    if small.any():
        a_s, c_s, z_s = A_[small], C_[small], z_[small]
        L = np.log1p(-z_s)
        cs = np.empty(z_s.shape)
        # series of A z 3F2(A+1, B+1, 1; C+1, 2; z): term_j = A z prod (A+1+i)(B+1+i)/((C+1+i)(2+i)) z
        near = z_s <= 0.9
        if near.any():
            an, cn, zn = a_s[near], c_s[near], z_s[near]
            u = an * zn
            total = u.copy()
            for j in range(2000):
                u = u * (an + 1 + j) * (B + 1 + j) * zn / ((cn + 1 + j) * (2 + j))
                total += u
                if np.all(np.abs(u) <= 1e-17 * np.abs(total)):
                    break
            cs[near] = total
        # Beyond z = 0.9 the series is slow: NaN marks these rows for the quadrature of
        # checked_scaled_residual (finite also where C <= 0). mpmath, once used here, is a test dependency.
        cs[~near] = np.nan
        out[small] = c_s * (-L * special.exprel(B * L)) - np.exp(B * L) * cs
    return out


_QUAD_NODES = 64
_MAX_NODES = 2048
#: Above these, scipy's hyp2f1 can be inexact without leaving the valid range (found against mpmath):
_HYP2F1_MAX_A = 50.0
_HYP2F1_MAX_Z = 0.9


def beta_gauss_rule(p: float, q: float, n_nodes: int) -> tuple[FloatArray, FloatArray]:
    """Gauss rule for E[f(u)], u ~ Beta(p, q): nodes in (0, 1) and weights summing to 1 (Golub-Welsch).

    Built from the three-term recurrence of the Jacobi polynomials with (alpha_J, beta_J) = (q-1, p-1)
    on [-1, 1]; unlike ``scipy.special.roots_jacobi`` it never forms the normalising constant
    2^(alpha_J+beta_J+1) B(.,.), which overflows once p + q exceeds ~1000.
    """
    aj, bj = q - 1.0, p - 1.0
    k = np.arange(n_nodes, dtype=np.float64)
    s2 = 2.0 * k + aj + bj
    diag = np.empty(n_nodes)
    diag[0] = (bj - aj) / (aj + bj + 2.0)
    diag[1:] = (bj * bj - aj * aj) / (s2[1:] * (s2[1:] + 2.0))
    kk = k[1:]
    s = 2.0 * kk + aj + bj
    with np.errstate(invalid="ignore", divide="ignore"):
        off2 = 4.0 * kk * (kk + aj) * (kk + bj) * (kk + aj + bj) / (s * s * (s + 1.0) * (s - 1.0))
    if n_nodes > 1:
        # k = 1: the factor (1 + aj + bj) / (s - 1) is exactly 1 (0/0 in floats when p + q -> 0)
        off2[0] = 4.0 * (1.0 + aj) * (1.0 + bj) / ((2.0 + aj + bj) ** 2 * (3.0 + aj + bj))
    off = np.sqrt(off2)
    from scipy import linalg  # the quadrature fallback is rare; keep it out of import time

    nodes, vecs = linalg.eigh_tridiagonal(diag, off)
    weights: FloatArray = vecs[0, :] ** 2
    u: FloatArray = np.clip((1.0 + nodes) / 2.0, 0.0, 1.0)
    return u, weights / weights.sum()


#: Gauss-Legendre rule of one panel of the composite quadrature (24 nodes: degree 47 per panel).
_PANEL_NODES = 24
_GL_X, _GL_W = np.polynomial.legendre.leggauss(_PANEL_NODES)
_PANEL_LOG_WIDTH = math.log(2.0)  # panels are at most an octave wide in p
_ROW_CHUNK = 32  # rows per vectorised block (memory: rows x panels x nodes)


def _log_h(R: float, ts: FloatArray, p: FloatArray) -> FloatArray:
    """``log h(p)``, ``h(p) = (1 - (1 + t'p)^-R) / p``, the expected purchases given (lambda-integrated) p.

    Written as ``h = R t' [log1p(y)/y] exprel(-R log1p(y))``, ``y = t'p``, which is finite at p = 0 (a node
    of the rule when ``a`` is tiny) and loses nothing to subnormal numbers.
    """
    y = ts * p
    L = np.log1p(y)
    safe = np.where(y > 0.0, y, 1.0)
    ratio = np.where(y > 0.0, L / safe, 1.0)
    with np.errstate(divide="ignore"):
        out: FloatArray = np.log(R * ts) + np.log(ratio) + np.log(special.exprel(-R * L))
    return out


def _log_panels(log_lo: FloatArray, max_width: float) -> tuple[FloatArray, FloatArray]:
    """Gauss-Legendre nodes ``s`` and log weights on ``[log_lo, log(1/2)]`` in panels at most ``max_width`` wide.

    ``log_lo`` has shape (rows, 1); returns two arrays of shape (rows, n_panels * nodes), the log weights
    including the Jacobian ``e^s`` of ``s = log u``.
    """
    span = math.log(0.5) - log_lo
    n_panels = max(1, int(np.ceil(float(np.max(span)) / max_width)))
    width = span / n_panels
    k = np.arange(n_panels, dtype=np.float64)
    centres = log_lo + width * (k[None, :] + 0.5)
    s = (centres[:, :, None] + 0.5 * width[:, :, None] * _GL_X[None, None, :]).reshape(log_lo.shape[0], -1)
    log_w = np.log(0.5 * width) + np.tile(np.log(_GL_W), n_panels)[None, :] + s
    return s, log_w


def _composite_expectation(a: float, bp: float, R: float, ts: FloatArray) -> FloatArray:
    """``E[h(p)]`` for ``p ~ Beta(a, bp)`` at each scaled horizon ``ts`` (1-D), by a composite Gauss rule.

    ``h`` falls from ``R t'`` at p = 0 to ``1/p`` over ``p ~ 1/(R t')``, a scale that can be many decades below
    the bulk of the Beta density; one global Gauss rule then leaves the step unresolved (0.3% errors at
    R = 1e5, t' = 250 with 64 nodes). The integral is split where each piece is smooth:

    - ``[0, e0]``, ``e0 = 1/(4 k0)``, ``k0 = bp + t' max(R, 1) + 1`` (the largest rate of change of the
      integrand near 0): a Gauss-Jacobi rule for the weight ``p^(a-1)``; the rest of the integrand is
      analytic in a disc of radius ``>= 4 e0`` around 0;
    - ``[e0, 1/2]``: panels at most an octave wide, Gauss-Legendre in ``log p`` (the integrand is analytic
      in a strip of half-width pi around the real axis of ``log p``);
    - ``[1/2, 1 - e1]`` and ``[1 - e1, 1]``, ``e1 = 1/(4 (a + 1))``: the same in ``1 - p``, with the weight
      ``(1-p)^(bp-1)`` in the last piece (``p^(a-1)`` varies on the scale ``1/a`` near 1).

    Every term is positive and summed in log space, and the sum is divided by the same rule applied to the
    density alone (scipy's ``betaln(a, b')`` loses ~1e-16 b' log b', 3.7e-10 at b' = 1e5), so the relative
    error is that of the rules (below 1e-13 against mpmath over the test grid). The cost is
    ``24 (log(k0) + log(a) + 3) / w`` integrand evaluations per row, ``w = min(log 2, sqrt(psi'(a) + psi'(b'))/2)``
    the panel width: it grows with the logarithm of the horizon, not with the horizon (about 1,700 panels at
    a = b' = 1000, t' = 1e6; 2 ms per row).
    """
    out = np.empty(ts.shape)
    if ts.size == 0:
        return out
    # Panels must also resolve the bulk of a concentrated Beta density: its spread in log p (or log(1-p))
    # is at most that of logit(p), sqrt(psi'(a) + psi'(b')).
    width = min(_PANEL_LOG_WIDTH, 0.5 * math.sqrt(float(special.polygamma(1, a) + special.polygamma(1, bp))))
    if width < _PANEL_LOG_WIDTH and min(a, bp) >= 1.0:
        # Narrow panels over the whole of (0, 1) would cost ~1/width panels (a = 1.4e6, b' = 1e7: 37,000 panels,
        # 900,000 nodes per row); only the bulk of the density needs them.
        return _concentrated_expectation(a, bp, R, ts)
    v_head, w_head = beta_gauss_rule(a, 1.0, _PANEL_NODES)
    v_tail, w_tail = beta_gauss_rule(bp, 1.0, _PANEL_NODES)
    with np.errstate(divide="ignore"):  # Gauss weights underflow to 0 when a or b' is tiny: log -> -inf, fine
        log_w_head, log_w_tail = np.log(w_head), np.log(w_tail)
    log_e1 = min(-math.log(4.0 * (a + 1.0)), math.log(0.25))
    e1 = math.exp(log_e1)
    s_hi, lw_hi = _log_panels(np.array([[log_e1]]), width)  # in log(1 - p); the same for every row
    q_hi = np.exp(s_hi)
    p_hi = 1.0 - q_hi
    q_tail = e1 * v_tail[None, :]
    p_tail = 1.0 - q_tail
    for start in range(0, ts.shape[0], _ROW_CHUNK):
        tc = ts[start:start + _ROW_CHUNK][:, None]
        kappa = bp + tc * max(R, 1.0) + 1.0
        log_e0 = np.minimum(-np.log(4.0 * kappa), math.log(0.25))
        # [0, e0]: int p^(a-1) f(p) dp = e0^a / a * E[f(e0 v)], v ~ Beta(a, 1)
        ph = np.exp(log_e0) * v_head[None, :]
        dens_head = a * log_e0 - math.log(a) + log_w_head[None, :] + (bp - 1.0) * np.log1p(-ph)
        # [e0, 1/2] in s = log p
        s_lo, lw_lo = _log_panels(log_e0, width)
        p_lo = np.exp(s_lo)
        dens_lo = lw_lo + (a - 1.0) * s_lo + (bp - 1.0) * np.log1p(-p_lo)
        # [1/2, 1 - e1] in s = log(1 - p)
        dens_hi = lw_hi + (a - 1.0) * np.log(p_hi) + (bp - 1.0) * s_hi
        # [1 - e1, 1]: int (1-p)^(bp-1) g(p) dp = e1^bp / bp * E[g(1 - e1 v)], v ~ Beta(bp, 1)
        dens_tail = (bp * log_e1 - math.log(bp) + log_w_tail[None, :] + (a - 1.0) * np.log(p_tail))
        dens = np.concatenate([dens_head, dens_lo, np.broadcast_to(dens_hi, (tc.shape[0], dens_hi.shape[1])),
                               np.broadcast_to(dens_tail, (tc.shape[0], dens_tail.shape[1]))], axis=1)
        log_h = np.concatenate([_log_h(R, tc, ph), _log_h(R, tc, p_lo), _log_h(R, tc, p_hi),
                                _log_h(R, tc, p_tail)], axis=1)
        out[start:start + _ROW_CHUNK] = np.exp(special.logsumexp(dens + log_h, axis=1)
                                               - special.logsumexp(dens, axis=1))
    return out


#: How far (in log) the density may fall below its peak before the rest of the integral is dropped, beyond
#: ``log1p(R t')`` (the largest ratio of ``h`` over the range to ``h`` at the bulk): e^-60 ~ 1e-26 of the integral.
_WINDOW_DEPTH = 60.0


def _concentrated_expectation(a: float, bp: float, R: float, ts: FloatArray) -> FloatArray:
    """``E[h(p)]`` for ``p ~ Beta(a, bp)`` with ``a, bp >= 1`` and a concentrated density, by Gauss-Legendre panels
    in ``u = logit(p)`` over the window where the density is within ``e^-D`` of its peak.

    In ``u`` the density is ``p^a (1-p)^bp / B(a, bp)`` (``dp = p (1-p) du``), log-concave with its peak at
    ``u* = log(a/bp)`` and curvature ``-a bp/(a+bp)`` there, so it falls monotonically on both sides, at least
    exponentially. ``h`` (:func:`_log_h`) is decreasing in ``p`` with ``h(0)/h(p) <= 1 + R t'``, so cutting where the
    density is ``D = 60 + log1p(R t')`` below its peak drops less than ``e^-60`` of the integral. Panels are at most
    half the density's spread at the peak, ``sqrt(1/a + 1/bp)``, and at most ``log 2`` wide (the step of ``h`` at
    ``p ~ 1/(R t')`` is smooth on that scale); the window is about ``2 sqrt(2 D)`` spreads wide, so the cost does not
    grow with ``a`` and ``bp`` (tens of panels, where panels over all of ``(0, 1)`` number in the tens of thousands
    at ``a = 1.4e6``). The result is divided by the same rule applied to the density alone, as in
    :func:`_composite_expectation`.
    """
    depth = _WINDOW_DEPTH + math.log1p(R * float(np.max(ts)))
    peak_u = math.log(a) - math.log(bp)
    below, above = bp / (a + bp), a / (a + bp)  # 1 - p and p at the peak

    def log_density(d: FloatArray) -> FloatArray:
        # log f(u* + d) - log f(u*) with every term small near the peak: a log(p/p*) = -a log1p((1-p*) expm1(-d))
        # and bp log((1-p)/(1-p*)) = -bp log1p(p* expm1(d)). Written as -a softplus(-u) - bp softplus(u) the terms
        # are ~a (1e6 at a = 1.4e6) and their rounding (1e-10) would show in the result.
        out: FloatArray = -a * np.log1p(below * np.expm1(-d)) - bp * np.log1p(above * np.expm1(d))
        return out

    spread = math.sqrt(1.0 / a + 1.0 / bp)
    ends = []
    for direction in (-1.0, 1.0):
        # Bracket the level crossing by doubling from the peak, then bisect (the density is log-concave).
        near, far = 0.0, spread
        while float(log_density(np.array(direction * far))) > -depth:
            near, far = far, 2.0 * far
        for _ in range(60):
            mid = 0.5 * (near + far)
            if float(log_density(np.array(direction * mid))) > -depth:
                near = mid
            else:
                far = mid
        ends.append(direction * far)
    lo, hi = ends
    n_panels = max(1, math.ceil((hi - lo) / min(_PANEL_LOG_WIDTH, 0.5 * spread)))
    half = 0.5 * (hi - lo) / n_panels
    centres = lo + half * (2.0 * np.arange(n_panels) + 1.0)
    d = (centres[:, None] + half * _GL_X[None, :]).ravel()
    dens = math.log(half) + np.tile(np.log(_GL_W), n_panels) + log_density(d)
    p = special.expit(peak_u + d)
    log_norm = special.logsumexp(dens)
    out = np.empty(ts.shape)
    for start in range(0, ts.shape[0], _ROW_CHUNK):
        tc = ts[start:start + _ROW_CHUNK][:, None]
        out[start:start + _ROW_CHUNK] = np.exp(special.logsumexp(dens[None, :] + _log_h(R, tc, p[None, :]), axis=1)
                                               - log_norm)
    return out


def scaled_residual_by_quadrature(
    a: float, b_post: float, r: float, x: FloatArray, t_scaled: FloatArray
) -> FloatArray:
    """``C G`` from an integral over a Beta distribution, per distinct x (for rows where hyp2f1 fails).

    In the BG/NBD family (Fader, Hardie & Lee 2005, eq. 10 and its derivation), given alive,
    ``C G = E[(1 - (1 + t' p)^-(r+x)) / p]`` with ``p ~ Beta(a, b')``, ``b' = b_post + x`` (BG/NBD:
    ``b_post = b``; MBG/NBD: ``b + 1``), ``C = a + b' - 1`` and ``t' = t/(alpha+T)``: the posterior of the
    purchase rate is integrated out, ``E[1 - exp(-lambda p t)] = 1 - (1 + t'p)^-(r+x)``. The expectation
    over p is taken by :func:`_composite_expectation`; it is finite for every ``a, b' > 0`` (also where
    ``C <= 0`` and ``2F1`` has a pole).
    """
    out = np.empty(x.shape)
    for xv in np.unique(x):
        rows = x == xv
        out[rows] = _composite_expectation(a, b_post + float(xv), r + float(xv), t_scaled[rows])
    return out


def residual_by_quadrature(a: float, b_post: float, r: float, x: FloatArray, t_scaled: FloatArray) -> FloatArray:
    """``G = C G / C`` with ``C = a + b_post + x - 1 > 0`` (see :func:`scaled_residual_by_quadrature`)."""
    out: FloatArray = scaled_residual_by_quadrature(a, b_post, r, x, t_scaled) / (a + b_post + x - 1.0)
    return out

def checked_scaled_residual(
    r: float, a: float, b_post: float, x: FloatArray, t_scaled: FloatArray, z: FloatArray, scaled: FloatArray
) -> FloatArray:
    """``scaled`` (= C G from the series/hyp2f1 path) with out-of-range values recomputed by quadrature.

    ``C G`` is an expectation of ``(1 - (1+t'p)^-(r+x))/p``, which lies in ``[0, (r+x) t']``; a value
    outside (or non-finite) marks a failure of ``scipy.special.hyp2f1`` (large parameters, z near 1).
    """
    upper = (r + x) * t_scaled
    bad = ~np.isfinite(scaled) | (scaled < 0.0) | (scaled > upper * (1.0 + 1e-9) + 1e-300)
    if a + b_post - 1.0 - r > _HYP2F1_MAX_A:
        bad |= z > _HYP2F1_MAX_Z
    if not bad.any():
        return scaled
    fixed = np.array(scaled, dtype=np.float64)
    fixed[bad] = scaled_residual_by_quadrature(a, b_post, r, x[bad], t_scaled[bad])
    return fixed
