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

import numpy as np
import numpy.typing as npt
from scipy import special

__all__ = [
    "beta_gauss_rule", "checked_scaled_residual", "residual_by_quadrature", "residual_factor",
    "scaled_residual_factor",
]

FloatArray = npt.NDArray[np.float64]

_SERIES_Z = 0.05  # below this the series converges in a few dozen terms and avoids 1 - F cancellation
_SERIES_TERMS = 400
_B_NUDGE = 1e-5


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
    # G is analytic in B; interpolate linearly between B = -h and B = +h (error O(h^2)).
    h = _B_NUDGE
    lo = _direct(A, np.full_like(z, -h), C, z)
    hi = _direct(A, np.full_like(z, h), C, z)
    w = (B + h) / (2.0 * h)
    result: FloatArray = lo + w * (hi - lo)
    return result


_C_SMALL = 1e-3


def scaled_residual_factor(A: FloatArray, B: float, C: FloatArray, z: FloatArray) -> FloatArray:
    """``C * G(A, B, C, z)``, also where ``C`` is zero or slightly negative (``C > -1``).

    In BG/NBD ``C = a+b+x-1`` is ``<= 0`` for customers without repeat purchases when ``a + b <= 1``;
    ``2F1(A, B; C; z)`` has a pole there but ``C * G`` does not. With ``C/(C)_k = 1/(C+1)_(k-1)``,
    ``C * (F - 1) / B = A z 3F2(A+1, B+1, 1; C+1, 2; z)``, evaluated by its series for ``z <= 0.9`` and
    by mpmath's convergence-accelerated ``hyp3f2`` beyond (rare: only such customers, once per distinct z).
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
        far = ~near
        if far.any():
            import mpmath

            for idx in np.flatnonzero(far):
                a_i, c_i, z_i = float(a_s[idx]), float(c_s[idx]), float(z_s[idx])
                with mpmath.workdps(30):
                    cs[idx] = float(a_i * z_i * mpmath.hyp3f2(a_i + 1, B + 1, 1, c_i + 1, 2, z_i))
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
    off = np.sqrt(4.0 * kk * (kk + aj) * (kk + bj) * (kk + aj + bj) / (s * s * (s + 1.0) * (s - 1.0)))
    from scipy import linalg  # the quadrature fallback is rare; keep it out of import time

    nodes, vecs = linalg.eigh_tridiagonal(diag, off)
    weights: FloatArray = vecs[0, :] ** 2
    u: FloatArray = np.clip((1.0 + nodes) / 2.0, 0.0, 1.0)
    return u, weights / weights.sum()


def residual_by_quadrature(a: float, b_post: float, r: float, x: FloatArray, t_scaled: FloatArray) -> FloatArray:
    """``G`` from an integral over a Beta distribution, per distinct x (for rows where hyp2f1 fails).

    In the BG/NBD family, given alive, ``C G = E[(1 - (1 + t' p)^-(r+x)) / p]`` with
    ``p ~ Beta(a, b')``, ``b' = b_post + x`` (BG/NBD: ``b_post = b``; MBG/NBD: ``b + 1``),
    ``C = a + b' - 1`` and ``t' = t/(alpha+T)``. Three equivalent Euler-integral forms are used, the
    best-conditioned first:

    - a > 1: ``G = E[1 - (1 + t' u)^-(r+x)] / (a-1)``, u ~ Beta(a-1, b');
    - C > r + x: ``G = E[log1p(t'v) exprel((1-a) log1p(t'v))]``, v ~ Beta(r+x, C-r-x), smooth through a = 1;
    - otherwise the posterior mean itself divided by C, p ~ Beta(a, b').

    Each is a Gauss rule (:func:`beta_gauss_rule`).
    """
    out = np.empty(x.shape)
    for xv in np.unique(x):
        rows = x == xv
        R = r + float(xv)
        bp = b_post + float(xv)
        C = a + bp - 1.0
        ts = t_scaled[rows][:, None]
        # The integrand changes scale at p ~ 1/t'; the rule must resolve that (64 nodes give 1e-14 for
        # t' <= 1e3; at t' = 3e4 about 1500 are needed for 1e-10).
        nodes = int(min(_MAX_NODES, max(_QUAD_NODES, 8.0 * np.sqrt(float(np.max(ts))))))
        if a > 1.0:
            u, w = beta_gauss_rule(a - 1.0, bp, nodes)
            g = -np.expm1(-R * np.log1p(ts * u[None, :])) / (a - 1.0)
        elif C > R:
            u, w = beta_gauss_rule(R, C - R, nodes)
            L = np.log1p(ts * u[None, :])
            g = L * special.exprel((1.0 - a) * L)
        else:
            u, w = beta_gauss_rule(a, bp, nodes)
            pu = np.maximum(u, np.finfo(np.float64).tiny)[None, :]
            # (1 - (1 + t'p)^-R) / p = R t' at p -> 0; written with log1p/expm1 for small t'p.
            g = -np.expm1(-R * np.log1p(ts * pu)) / pu / C
        out[rows] = g @ w
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
    C = a + b_post + x[bad] - 1.0
    fixed[bad] = C * residual_by_quadrature(a, b_post, r, x[bad], t_scaled[bad])
    return fixed
