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

__all__ = ["residual_factor", "scaled_residual_factor"]

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
