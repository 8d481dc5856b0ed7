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

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
from scipy import special

from ...errors import ConvergenceError

__all__ = [
    "Groups",
    "dert",
    "expected_purchases",
    "expected_purchases_new",
    "group_rows",
    "log_g",
    "log_probability_alive",
    "loglik",
    "probability_alive",
    "probability_of_purchases",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]

_SERIES_MAX_Z = 0.9  # beyond this the series needs > 350 terms; quadrature is cheaper and as exact
_SERIES_MAX_TERMS = 400
_SERIES_RTOL = 1e-17
_CHUNK = 8192
_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(12)  # per panel; see _march


def _softplus(u: FloatArray) -> FloatArray:
    """``log(1 + e^u)`` without overflow (about twice as fast as ``np.logaddexp(0, u)``)."""
    out: FloatArray = np.maximum(u, 0.0) + np.log1p(np.exp(-np.abs(u)))
    return out


# --------------------------------------------------------------------------------------------------
# Quadrature of exp(phi) for a concave phi built from softplus terms.
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Concave:
    """``phi(y) = c0 + c1 y - sum_k b_k softplus(y - d_k) - g exp(y)`` on ``[lo, hi]``, one row each.

    ``b_k >= 0`` and ``g >= 0`` make ``phi`` concave; ``c1 > 0`` is required when ``lo = -inf`` and
    ``c1 < sum(b)`` or ``g > 0`` when ``hi = +inf`` so that the integral converges.
    """

    c0: FloatArray  # (n,)
    c1: FloatArray  # (n,)
    b: FloatArray  # (n, K)
    d: FloatArray  # (n, K)
    g: FloatArray  # (n,)
    lo: FloatArray  # (n,)
    hi: FloatArray  # (n,)

    def phi(self, y: FloatArray, rows: IntArray) -> FloatArray:
        out = self.c0[rows] + self.c1[rows] * y - self.g[rows] * np.exp(np.minimum(y, 700.0))
        for k in range(self.b.shape[1]):
            out = out - self.b[rows, k] * _softplus(y - self.d[rows, k])
        result: FloatArray = out
        return result

    def dphi(self, y: FloatArray, rows: IntArray) -> FloatArray:
        out = self.c1[rows] - self.g[rows] * np.exp(np.minimum(y, 700.0))
        for k in range(self.b.shape[1]):
            out = out - self.b[rows, k] * special.expit(y - self.d[rows, k])
        result: FloatArray = out
        return result

    def phi_at_nodes(self, y: FloatArray, rows: IntArray) -> tuple[FloatArray, list[FloatArray]]:
        """``phi`` at nodes ``y`` of shape (m, nodes) for rows of shape (m,), and each knee's softplus."""
        out = self.c0[rows, None] + self.c1[rows, None] * y - self.g[rows, None] * np.exp(np.minimum(y, 700.0))
        pieces: list[FloatArray] = []
        for k in range(self.b.shape[1]):
            sp = _softplus(y - self.d[rows, k, None])
            pieces.append(sp)
            out = out - self.b[rows, k, None] * sp
        result: FloatArray = out
        return result, pieces


def _mode(f: _Concave) -> FloatArray:
    """Maximiser of ``phi`` on ``[lo, hi]`` by bisection on the decreasing ``phi'`` (60 halvings)."""
    n = f.c0.shape[0]
    rows = np.arange(n)
    spread = 50.0 + np.log1p(f.b.sum(axis=1)) + np.log1p(1.0 / np.maximum(np.abs(f.c1), 1e-300))
    left = f.d.min(axis=1, initial=0.0) - spread
    with np.errstate(divide="ignore"):
        g_left = np.log(np.abs(f.c1) + 1e-300) - np.log(2.0 * f.g) - 1.0
    left = np.minimum(left, g_left)
    right = f.d.max(axis=1, initial=0.0) + spread
    # Widen an infinite side until the bracket holds the sign change (rarely needed).
    for _ in range(60):
        bad = ~np.isfinite(f.lo) & (f.dphi(left, rows) <= 0)
        if not bad.any():
            break
        left = np.where(bad, left - spread, left)
    for _ in range(60):
        bad = ~np.isfinite(f.hi) & (f.dphi(right, rows) >= 0)
        if not bad.any():
            break
        right = np.where(bad, right + spread, right)
    lo = np.where(np.isfinite(f.lo), f.lo, left)
    hi = np.where(np.isfinite(f.hi), f.hi, right)
    at_hi = f.dphi(hi, rows) >= 0
    at_lo = f.dphi(lo, rows) <= 0
    a, b = lo.copy(), hi.copy()
    for _ in range(60):
        mid = 0.5 * (a + b)
        pos = f.dphi(mid, rows) > 0
        a = np.where(pos, mid, a)
        b = np.where(pos, b, mid)
        if np.all(b - a <= 1e-6 * np.maximum(1.0, np.abs(a))):
            break
    mode = np.where(at_hi, hi, np.where(at_lo, lo, 0.5 * (a + b)))
    out: FloatArray = np.clip(mode, f.lo, f.hi)
    return out


# Panel sizing. Tuned on 20,000 random (kappa, p, q) over the extreme range against the series:
# 8 nodes per panel with these budgets already reach ~1e-11; 12 nodes leave a wide margin (~3e-14,
# the rounding floor). Halving the budgets doubles the cost and changes nothing.
_SLOPE_BUDGET = 6.0  # |phi'| * panel length: the linear part of phi changes by at most this per panel
_BEND_BUDGET = 6.0  # |phi'(end) - phi'(start)| * length: bounds the curvature part
_KNEE_AHEAD = 0.5  # a panel ends at most half way to the next knee ...
_KNEE_BEHIND = 1.0  # ... and is at most as long as its distance from the last knee
_KNEE_PANEL = 2.0  # panels touching a knee (a softplus bend, complex singularities at +-i*pi)
_TAIL_LOG_RTOL = -40.0  # stop when the concavity bound on the rest is below e^-40 of the sum so far
_MAX_PANELS = 160  # per side


def _march(f: _Concave, start: FloatArray, direction: float) -> tuple[list[IntArray], list[FloatArray],
                                                                        list[FloatArray], npt.NDArray[np.bool_]]:
    """Panels from ``start`` towards ``hi`` (direction +1) or ``lo`` (-1), one list entry per step.

    Each panel is sized so that Gauss-Legendre with 12 nodes integrates ``exp(phi)`` on it to full
    double precision: (i) ``|phi'|`` at both ends times the length and (ii) the change of ``phi'``
    times the length are bounded (``phi'`` is monotone, so the ends bound the panel); (iii) near a
    softplus knee ``d_k`` the panels are at most 2 long and elsewhere grow geometrically with the
    distance to the knee, so the knee's complex singularities (at ``d_k +- i pi``) stay well outside
    the Bernstein ellipse of every panel. Marching stops when the concavity bound
    ``exp(phi(y)) / |phi'(y)|`` on the rest of the integral is below ``e^-40`` of what was summed.
    """
    n = start.shape[0]
    end = f.hi if direction > 0 else f.lo
    rows = np.flatnonzero(start != end)
    y = start[rows]
    phi_max = f.phi(start, np.arange(n))[rows]
    slope = f.dphi(y, rows)
    length_prev = np.full(rows.shape, 0.5)
    log_sum = np.full(rows.shape, -np.inf)
    out_rows: list[IntArray] = []
    out_start: list[FloatArray] = []
    out_len: list[FloatArray] = []
    unfinished = np.zeros(n, dtype=bool)
    for _ in range(_MAX_PANELS):
        if rows.size == 0:
            break
        room = np.abs(end[rows] - y)
        L = np.minimum(2.0 * length_prev, room)
        L = np.minimum(L, _SLOPE_BUDGET / np.maximum(np.abs(slope), 1e-300))
        for k in range(f.b.shape[1]):
            ahead = direction * (f.d[rows, k] - y)  # > 0: the knee lies ahead
            limit = np.where(ahead > 0, np.maximum(_KNEE_PANEL, _KNEE_AHEAD * ahead),
                             np.maximum(_KNEE_PANEL, _KNEE_BEHIND * -ahead))
            L = np.minimum(L, limit)
        # |phi'| grows along the march, so L = budget / |phi'(y + L)| computed at a longer L satisfies
        # the budget at the shorter one: one shrink step suffices; the second guards rounding.
        for _shrink in range(2):
            slope_end = f.dphi(y + direction * L, rows)
            bound = np.minimum(_SLOPE_BUDGET / np.maximum(np.abs(slope_end), 1e-300),
                               _BEND_BUDGET / np.maximum(np.abs(slope_end - slope), 1e-300))
            L = np.minimum(L, bound)
        y_new = y + direction * L
        y_new = np.where(L >= room, end[rows], y_new)
        a = np.minimum(y, y_new)
        out_rows.append(rows)
        out_start.append(a)
        out_len.append(np.abs(y_new - y))
        phi_new = f.phi(y_new, rows)
        slope = f.dphi(y_new, rows)
        # Lower bound of the panel's integral: length times the smaller end value (phi is concave).
        panel_low = np.log(np.maximum(np.abs(y_new - y), 1e-300)) + np.minimum(phi_new, f.phi(y, rows)) - phi_max
        log_sum = np.logaddexp(log_sum, panel_low)
        with np.errstate(divide="ignore"):
            tail = phi_new - phi_max - np.log(np.abs(slope))
        done = (y_new == end[rows]) | ((direction * slope < 0) & (tail < log_sum + _TAIL_LOG_RTOL))
        keep = ~done
        rows, y, slope, length_prev, log_sum, phi_max = (
            rows[keep], y_new[keep], slope[keep], L[keep], log_sum[keep], phi_max[keep])
    unfinished[rows] = True
    return out_rows, out_start, out_len, unfinished


def _concave_quadrature(f: _Concave, knee_moments: bool = False) -> tuple[FloatArray, FloatArray, FloatArray]:
    """``log int exp(phi)`` per row and, optionally, the ``exp(phi)``-weighted means of every knee's
    ``softplus(y - d_k)`` and ``expit(y - d_k)`` - all that derivatives under the integral need.

    Returns
    -------
    (log_integral, mean_softplus, mean_expit):
        Shapes (n,), (n, K), (n, K) (the last two empty when ``knee_moments`` is False).
    """
    n, n_knees = f.b.shape
    mode = _mode(f)
    r_rows, r_start, r_len, r_bad = _march(f, mode, +1.0)
    l_rows, l_start, l_len, l_bad = _march(f, mode, -1.0)
    if np.any(r_bad | l_bad):
        # Unreachable for the model's functions (tested over the extreme grid); kept as a guard so
        # that a failure is loud, never a silently truncated integral.
        raise ConvergenceError(
            f"Pareto/NBD quadrature did not reach its tolerance for {int(np.sum(r_bad | l_bad))} rows; "
            f"please report the parameters and the rows."
        )
    parts = r_rows + l_rows
    rows = np.concatenate(parts) if parts else np.zeros(0, dtype=np.intp)
    starts = np.concatenate(r_start + l_start) if parts else np.zeros(0)
    lengths = np.concatenate(r_len + l_len) if parts else np.zeros(0)
    order = np.argsort(rows, kind="stable")
    rows, starts, lengths = rows[order], starts[order], lengths[order]
    half = 0.5 * lengths[:, None]
    nodes = starts[:, None] + half * (1.0 + _GL_NODES[None, :])
    phi, pieces = f.phi_at_nodes(nodes, rows)
    with np.errstate(divide="ignore"):
        logw = np.log(half * _GL_WEIGHTS[None, :]) + phi
    counts = np.bincount(rows, minlength=n)
    first = np.concatenate(([0], np.cumsum(counts)[:-1]))
    has = counts > 0
    row_max = np.full(n, -np.inf)
    row_max[has] = np.maximum.reduceat(logw.max(axis=1), first[has])
    scaled = np.exp(logw - row_max[rows, None])
    total = np.zeros(n)
    total[has] = np.add.reduceat(scaled.sum(axis=1), first[has])
    with np.errstate(divide="ignore"):
        log_integral: FloatArray = np.where(has, row_max + np.log(total), -np.inf)
    mean_sp = np.zeros((n, n_knees if knee_moments else 0))
    mean_sig = np.zeros((n, n_knees if knee_moments else 0))
    if knee_moments:
        safe_total = np.where(has, total, 1.0)
        for k, sp in enumerate(pieces):
            sig = np.exp((nodes - f.d[rows, k, None]) - sp)  # expit from the softplus already at hand
            for target, values in ((mean_sp, sp), (mean_sig, sig)):
                acc = np.zeros(n)
                acc[has] = np.add.reduceat((scaled * values).sum(axis=1), first[has])
                target[:, k] = acc / safe_total
    return log_integral, mean_sp, mean_sig


# --------------------------------------------------------------------------------------------------
# G(kappa; p, q)
# --------------------------------------------------------------------------------------------------
def _g_series(
    log_kappa: FloatArray, p: FloatArray, q: FloatArray, grad: bool
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, npt.NDArray[np.bool_]]:
    """``log G`` and its derivatives (w.r.t. ``log kappa``, ``p``, ``q``) by the hypergeometric series.

    Form A (``kappa <= 1``): ``G = q/(p+q) sum_k T_k`` with ``T_{k+1} = T_k (p+k)/(p+q+1+k) z``,
    ``z = 1 - kappa``. Form B (``kappa > 1``): ``G = q/((p+q) kappa) sum_k T_k`` with
    ``T_{k+1} = T_k (q+1+k)/(p+q+1+k) z``, ``z = 1 - 1/kappa``. Rows whose sum has not converged
    within the term budget are flagged (fourth output ``ok`` False).
    """
    n = log_kappa.shape[0]
    form_a = log_kappa <= 0
    z = np.where(form_a, -np.expm1(log_kappa), -np.expm1(-log_kappa))
    u = np.where(form_a, p, q + 1.0)
    m1 = p + q + 1.0
    S = np.ones(n)
    Sd1 = np.zeros(n)  # sum_k T_k sum_{j<k} (m1-u)/((u+j)(m1+j)): d/du + d/dm1 of log T_k, no cancellation
    Sd2 = np.zeros(n)  # sum_k T_k sum_{j<k} 1/(m1+j): -d/dm1 of log T_k
    Sz = np.zeros(n)  # sum_k k T_k / z
    ok = np.zeros(n, dtype=bool)
    idx = np.flatnonzero(z <= _SERIES_MAX_Z)
    za, ua, ma = z[idx], u[idx], m1[idx]
    gap = ma - ua
    Ta, Sa = np.ones(idx.size), np.ones(idx.size)
    D1, D2, Sd1a, Sd2a, Sza = (np.zeros(idx.size) for _ in range(5))
    tail_factor = 1.0 / (1.0 - za) ** 2
    k = 0
    while idx.size:
        uk = ua + k
        mk = ma + k
        c = uk / mk
        if grad:
            Sza += (k + 1) * (Ta * c)
            D1 += gap / (uk * mk)
            D2 += 1.0 / mk
        Ta *= c * za
        Sa += Ta
        if grad:
            Sd1a += Ta * D1
            Sd2a += Ta * D2
        k += 1
        if k % 4 and k < _SERIES_MAX_TERMS:
            continue
        # Ratios are below z, so the tail after T_k is below T_k z/(1-z); the derivative sums add at
        # most a factor (k+1)/(1-z). Converged rows may keep adding (negligible) terms until the
        # active set is compacted, which is done only when it pays.
        done = Ta * (k + 1) * tail_factor <= _SERIES_RTOL * Sa
        last = k >= _SERIES_MAX_TERMS
        n_done = int(done.sum())
        if not last and n_done < max(1, idx.size // 4) and n_done < idx.size:
            continue
        fin = done | last
        sel = idx[fin]
        S[sel], Sd1[sel], Sd2[sel], Sz[sel] = Sa[fin], Sd1a[fin], Sd2a[fin], Sza[fin]
        ok[sel] = done[fin]
        keep = ~fin
        idx, za, ua, ma, gap, Ta, Sa = idx[keep], za[keep], ua[keep], ma[keep], gap[keep], Ta[keep], Sa[keep]
        D1, D2, Sd1a, Sd2a, Sza = D1[keep], D2[keep], Sd1a[keep], Sd2a[keep], Sza[keep]
        tail_factor = tail_factor[keep]
    logS = np.log(S)
    pq = p + q
    log_g_val = np.log(q) - np.log(pq) + logS - np.where(form_a, 0.0, log_kappa)
    if not grad:
        zeros = np.zeros(n)
        return log_g_val, zeros, zeros, zeros, ok
    kappa_factor = np.where(form_a, -(1.0 - z), 1.0 - z)  # dz / dlog(kappa)
    d_lk = kappa_factor * Sz / S - np.where(form_a, 0.0, 1.0)
    d_u = Sd1 / S  # d/du + d/dm1 of log sum (u and m1 move together with p in form A, q in form B)
    d_m = -Sd2 / S  # d/dm1 alone
    d_p = -1.0 / pq + np.where(form_a, d_u, d_m)
    d_q = p / (q * pq) + np.where(form_a, d_m, d_u)
    return log_g_val, d_lk, d_p, d_q, ok


def _g_quadrature(
    log_kappa: FloatArray, p: FloatArray, q: FloatArray, grad: bool
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """``log G`` and derivatives from ``G = int exp(phi(y)) dy``, ``y = log v``:

    ``phi = log q + y - (q+1) softplus(y) - p softplus(y + log kappa)``; derivatives under the integral:
    ``d phi/dp = -softplus(y + log kappa)``, ``d phi/dq = 1/q - softplus(y)``,
    ``d phi/d log kappa = -p expit(y + log kappa)``.
    """
    n = log_kappa.shape[0]
    f = _Concave(
        c0=np.log(q), c1=np.ones(n), b=np.stack([q + 1.0, p], axis=1),
        d=np.stack([np.zeros(n), -log_kappa], axis=1), g=np.zeros(n),
        lo=np.full(n, -np.inf), hi=np.full(n, np.inf),
    )
    log_val, mean_sp, mean_sig = _concave_quadrature(f, knee_moments=grad)
    if not grad:
        zeros = np.zeros(n)
        return log_val, zeros, zeros, zeros
    return log_val, -p * mean_sig[:, 1], -mean_sp[:, 1], 1.0 / q - mean_sp[:, 0]


def log_g(
    log_kappa: FloatArray, p: FloatArray, q: FloatArray, grad: bool = False
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """``log G(kappa; p, q)`` and (when ``grad``) its derivatives w.r.t. ``log kappa``, ``p`` and ``q``.

    ``G(kappa; p, q) = q int_0^inf (1+v)^-(q+1) (1+kappa v)^-p dv`` - the Pareto/NBD dropout integral of
    Fader & Hardie (2005, eqs. 22-23) in normalised form (see the module docstring). Power series where
    it converges fast, adaptive Gauss-Legendre quadrature elsewhere.

    Parameters
    ----------
    log_kappa, p, q:
        Arrays of shape (n,); ``p, q > 0``.

    Returns
    -------
    (log_g, d_log_kappa, d_p, d_q):
        Arrays of shape (n,); the derivatives are of ``log G`` (zeros when ``grad`` is False).

    Examples
    --------
    ``G(kappa; p, q) + G(1/kappa; q, p) = 1``, here at ``kappa = e^12`` (far outside the series'
    range, so both sides are computed by quadrature):

    >>> import numpy as np
    >>> lk, p, q = np.array([12.0, -12.0]), np.array([3.0, 0.2]), np.array([0.2, 3.0])
    >>> g = np.exp(log_g(lk, p, q)[0])
    >>> round(float(g[0] + g[1]), 14)
    1.0
    >>> float(np.exp(log_g(np.array([0.0]), np.array([2.0]), np.array([1.0]))[0][0]))  # kappa = 1: q/(p+q)
    0.3333333333333333
    """
    log_kappa, p, q = (np.ascontiguousarray(np.broadcast_to(a, np.broadcast(log_kappa, p, q).shape),
                                            dtype=np.float64).ravel()
                       for a in (log_kappa, p, q))
    n = log_kappa.shape[0]
    lg, d_lk, d_p, d_q = (np.empty(n) for _ in range(4))
    ok = np.empty(n, dtype=bool)
    # Chunks keep the ~15 working arrays of the series loop in cache (about 2x faster at 1e5 rows).
    for lo in range(0, n, _CHUNK):
        sl = slice(lo, lo + _CHUNK)
        lg[sl], d_lk[sl], d_p[sl], d_q[sl], ok[sl] = _g_series(log_kappa[sl], p[sl], q[sl], grad)
    if not ok.all():
        bad = np.flatnonzero(~ok)
        for start in range(0, bad.size, _CHUNK):
            part = bad[start:start + _CHUNK]
            vals = _g_quadrature(log_kappa[part], p[part], q[part], grad)
            for target, value in zip((lg, d_lk, d_p, d_q), vals, strict=True):
                target[part] = value
    # G is a probability: rounding in the series/quadrature must not push log G above 0.
    np.minimum(lg, 0.0, out=lg)
    return lg, d_lk, d_p, d_q


# --------------------------------------------------------------------------------------------------
# The model
# --------------------------------------------------------------------------------------------------
def _split(params: FloatArray) -> tuple[float, float, float, float]:
    r, alpha, s, beta = (float(v) for v in params)
    return r, alpha, s, beta


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


def _codes(values: FloatArray) -> tuple[FloatArray, IntArray]:
    uniq, inverse = np.unique(values, return_inverse=True)
    return uniq, inverse.ravel().astype(np.intp)


def _pairs(code_a: IntArray, code_b: IntArray, n_b: int) -> tuple[IntArray, IntArray]:
    """First row of each distinct ``(code_a, code_b)`` and every row's pair index (1-D integer sort)."""
    key = code_a.astype(np.int64) * n_b + code_b
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    return first.astype(np.intp), inverse.ravel().astype(np.intp)


def group_rows(x: FloatArray, tx: FloatArray, T: FloatArray) -> Groups:
    """The :class:`Groups` of rows ``(x, tx, T)``; computed once per fit."""
    x_u, cx = _codes(x)
    tx_u, ctx = _codes(tx)
    T_u, cT = _codes(T)
    first_tx, inv_tx = _pairs(cx, ctx, tx_u.shape[0])
    first_T, inv_T = _pairs(cx, cT, T_u.shape[0])
    return Groups(x_u, cx, x[first_tx], tx[first_tx], inv_tx, x[first_T], T[first_T], inv_T)


def _alive_part(params: FloatArray, x: FloatArray, T: FloatArray) -> tuple[FloatArray, FloatArray]:
    """``A = log E(T) + log G(1/kappa_T; s, r+x)`` and its gradient, shape (m,) and (m, 4)."""
    r, alpha, s, beta = _split(params)
    a = r + x
    la, lb = np.log(alpha + T), np.log(beta + T)
    lh, h_lk, h_p, h_q = log_g(la - lb, np.full(x.shape, s), a, grad=True)
    value: FloatArray = -a * la - s * lb + lh
    grad = np.empty((x.shape[0], 4))
    grad[:, 0] = -la + h_q
    grad[:, 1] = (h_lk - a) / (alpha + T)
    grad[:, 2] = -lb + h_p
    grad[:, 3] = -(s + h_lk) / (beta + T)
    return value, grad


def _dropout_part(params: FloatArray, x: FloatArray, tx: FloatArray) -> tuple[FloatArray, FloatArray]:
    """``B = log E(tx) + log G(kappa_tx; r+x, s)`` and its gradient, shape (m,) and (m, 4)."""
    r, alpha, s, beta = _split(params)
    a = r + x
    la, lb = np.log(alpha + tx), np.log(beta + tx)
    lg, g_lk, g_p, g_q = log_g(lb - la, a, np.full(x.shape, s), grad=True)
    value: FloatArray = -a * la - s * lb + lg
    grad = np.empty((x.shape[0], 4))
    grad[:, 0] = -la + g_p
    grad[:, 1] = -(a + g_lk) / (alpha + tx)
    grad[:, 2] = -lb + g_q
    grad[:, 3] = (g_lk - s) / (beta + tx)
    return value, grad


def _frequency_part(params: FloatArray, x: FloatArray) -> tuple[FloatArray, FloatArray]:
    """``log[Gamma(r+x) alpha^r beta^s / Gamma(r)]`` and its gradient."""
    r, alpha, s, beta = _split(params)
    a = r + x
    value: FloatArray = special.gammaln(a) - special.gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    grad = np.empty((x.shape[0], 4))
    grad[:, 0] = special.digamma(a) - special.digamma(r) + np.log(alpha)
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

    Returns
    -------
    (ll, grad):
        ``ll`` of shape (n,), ``grad`` of shape (n, 4).
    """
    if groups is None:
        x_T, T_u, x_tx, tx_u = x, T, x, tx
    else:
        x_T, T_u, x_tx, tx_u = groups.x_age, groups.age_u, groups.x_tx, groups.tx_u
    # log C (which depends on x only) is added to both parts at the pair level: log(C e^A + C e^B).
    A, gA = (u + v for u, v in zip(_alive_part(params, x_T, T_u), _frequency_part(params, x_T), strict=True))
    B, gB = (u + v for u, v in zip(_dropout_part(params, x_tx, tx_u), _frequency_part(params, x_tx), strict=True))
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
    return ll, grad


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
