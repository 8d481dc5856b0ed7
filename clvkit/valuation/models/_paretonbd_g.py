"""The bounded function G of the Pareto/NBD kernels and its quadrature (pure numpy/scipy).

``G(kappa; p, q) = q * int_0^inf (1+v)^-(q+1) (1+kappa v)^-p dv`` - see :mod:`._paretonbd` for where it
comes from and why the model is written through it. :func:`log_g` evaluates ``log G`` and its
derivatives by a positive power series for ``z <= 0.9`` and by Gauss-Legendre quadrature on adapted
panels otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import special

from ...errors import ConvergenceError

__all__ = ["GL_NODES", "GL_WEIGHTS", "Concave", "concave_quadrature", "log_g"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]

_SERIES_MAX_Z = 0.9  # beyond this the series needs > 350 terms; quadrature is cheaper and as exact
_SERIES_MAX_TERMS = 400
_SERIES_RTOL = 1e-17
_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(12)  # per panel; see _march
GL_NODES, GL_WEIGHTS = _GL_NODES, _GL_WEIGHTS
_CHUNK = 8192

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


def _concave_quadrature(f: _Concave, knee_moments: bool = False,
                        second_out: tuple[FloatArray, FloatArray] | None = None
                        ) -> tuple[FloatArray, FloatArray, FloatArray]:
    """``log int exp(phi)`` per row and, optionally, the ``exp(phi)``-weighted means of every knee's
    ``softplus(y - d_k)`` and ``expit(y - d_k)`` - all that derivatives under the integral need.

    ``second_out`` (with ``knee_moments``; arrays of shapes (n, 2K, 2K) and (n, K)) receives what second
    derivatives need: the weighted covariances of the features ``(softplus_0..K-1, expit_0..K-1)``, computed about
    their means (no cancellation of large equal means), and the weighted means of ``expit (1 - expit)`` per knee.

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
        if second_out is not None:
            cov, mean_dsig = second_out
            centred = [sp - mean_sp[rows, k, None] for k, sp in enumerate(pieces)]
            sigs = [np.exp((nodes - f.d[rows, k, None]) - sp) for k, sp in enumerate(pieces)]
            centred += [sig - mean_sig[rows, k, None] for k, sig in enumerate(sigs)]

            def weighted_mean(values: FloatArray) -> FloatArray:
                acc = np.zeros(n)
                acc[has] = np.add.reduceat((scaled * values).sum(axis=1), first[has])
                out: FloatArray = acc / safe_total
                return out

            for i, ci in enumerate(centred):
                for j in range(i, len(centred)):
                    cov[:, i, j] = cov[:, j, i] = weighted_mean(ci * centred[j])
            for k, sig in enumerate(sigs):
                mean_dsig[:, k] = weighted_mean(sig * (1.0 - sig))
    return log_integral, mean_sp, mean_sig


# --------------------------------------------------------------------------------------------------
# G(kappa; p, q)
# --------------------------------------------------------------------------------------------------
def _g_series(
    log_kappa: FloatArray, p: FloatArray, q: FloatArray, grad: bool, hess_out: FloatArray | None = None
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, npt.NDArray[np.bool_]]:
    """``log G`` and its derivatives (w.r.t. ``log kappa``, ``p``, ``q``) by the hypergeometric series.

    Form A (``kappa <= 1``): ``G = q/(p+q) sum_k T_k`` with ``T_{k+1} = T_k (p+k)/(p+q+1+k) z``,
    ``z = 1 - kappa``. Form B (``kappa > 1``): ``G = q/((p+q) kappa) sum_k T_k`` with
    ``T_{k+1} = T_k (q+1+k)/(p+q+1+k) z``, ``z = 1 - 1/kappa``. Rows whose sum has not converged
    within the term budget are flagged (fourth output ``ok`` False).

    ``hess_out`` (shape (n, 6), with ``grad``) receives the second derivatives of ``log G`` w.r.t. ``(log kappa,
    p, q)`` in the order ``(ll, lp, lq, pp, pq, qq)``, from the same loop (the values and first derivatives are the
    same with or without it). With ``pi_k = T_k / S`` the weights of the terms, ``d^2 log S = E_pi[d^2 log T_k] +
    Cov_pi(d log T_k)``; ``log T_k = sum_{j<k} [log(u+j) - log(m1+j)] + k log z`` is separable in ``z``, and its
    second derivatives in ``(u, m1)`` are sums of ``1/(u+j)^2`` and ``1/(m1+j)^2``, accumulated with the terms.
    """
    want_hess = grad and hess_out is not None
    n = log_kappa.shape[0]
    form_a = log_kappa <= 0
    z = np.where(form_a, -np.expm1(log_kappa), -np.expm1(-log_kappa))
    u = np.where(form_a, p, q + 1.0)
    m1 = p + q + 1.0
    S = np.ones(n)
    Sd1 = np.zeros(n)  # sum_k T_k sum_{j<k} (m1-u)/((u+j)(m1+j)): d/du + d/dm1 of log T_k, no cancellation
    Sd2 = np.zeros(n)  # sum_k T_k sum_{j<k} 1/(m1+j): -d/dm1 of log T_k
    Sz = np.zeros(n)  # sum_k k T_k / z
    # Second-order sums (want_hess): k(k-1) T_k / z^2, k T_k D1_k / z, k T_k D2_k / z, T_k D1^2, T_k D2^2, T_k D1 D2,
    # T_k E1_k, T_k E2_k with E1_k = sum_{j<k} 1/(m1+j)^2 and E2_k = sum_{j<k} [1/(m1+j)^2 - 1/(u+j)^2].
    second = np.zeros((8, n)) if want_hess else np.zeros((8, 0))
    ok = np.zeros(n, dtype=bool)
    idx = np.flatnonzero(z <= _SERIES_MAX_Z)
    za, ua, ma = z[idx], u[idx], m1[idx]
    gap = ma - ua
    Ta, Sa = np.ones(idx.size), np.ones(idx.size)
    D1, D2, Sd1a, Sd2a, Sza = (np.zeros(idx.size) for _ in range(5))
    tail_factor = 1.0 / (1.0 - za) ** 2
    sec = np.zeros((8, idx.size)) if want_hess else np.zeros((8, 0))
    E1, E2, Tz = (np.zeros(idx.size if want_hess else 0) for _ in range(3))  # Tz = T_k / z
    k = 0
    while idx.size:
        uk = ua + k
        mk = ma + k
        c = uk / mk
        if grad:
            Sza += (k + 1) * (Ta * c)
            D1 += gap / (uk * mk)
            D2 += 1.0 / mk
        if want_hess:
            tz_next = Ta * c  # T_{k+1} / z
            inv_m = 1.0 / mk
            E1 += inv_m * inv_m
            # 1/mk^2 - 1/uk^2 = -(1/uk - 1/mk)(1/uk + 1/mk), 1/uk - 1/mk = gap/(uk mk) > 0: no cancellation.
            E2 -= (gap / (uk * mk)) * (inv_m + 1.0 / uk)
            sec[0] += ((k + 1) * k) * (Tz * c)
            Tz = tz_next
            tz_next = tz_next * (k + 1)
            sec[1] += tz_next * D1
            sec[2] += tz_next * D2
        Ta *= c * za
        Sa += Ta
        if want_hess:
            t1, t2 = Ta * D1, Ta * D2
            Sd1a += t1
            Sd2a += t2
            sec[3] += t1 * D1
            sec[4] += t2 * D2
            sec[5] += t1 * D2
            sec[6] += Ta * E1
            sec[7] += Ta * E2
        elif grad:
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
        if want_hess:
            second[:, sel] = sec[:, fin]
            sec, E1, E2, Tz = sec[:, keep], E1[keep], E2[keep], Tz[keep]
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
    if want_hess:
        assert hess_out is not None
        # log S in the directions U (u and m1 together: p in form A, q in form B), M (m1 alone) and z.
        mean_z = Sz / S
        szz, sz1, sz2, s11, s22, s12, se1, se2 = second / S
        h_uu = se2 + s11 - d_u * d_u
        h_mm = se1 + s22 - d_m * d_m
        h_um = se1 - s12 - d_u * d_m
        h_zz = szz - mean_z * mean_z
        h_zu = sz1 - mean_z * d_u
        h_zm = -sz2 - mean_z * d_m
        dz = kappa_factor  # dz / dlog(kappa); d^2 z / dlog(kappa)^2 = -(1 - z) in both forms
        inv_pq2 = 1.0 / (pq * pq)
        hess_out[:, 0] = h_zz * dz * dz - mean_z * (1.0 - z)
        hess_out[:, 1] = dz * np.where(form_a, h_zu, h_zm)
        hess_out[:, 2] = dz * np.where(form_a, h_zm, h_zu)
        hess_out[:, 3] = np.where(form_a, h_uu, h_mm) + inv_pq2
        hess_out[:, 4] = h_um + inv_pq2
        hess_out[:, 5] = np.where(form_a, h_mm, h_uu) + inv_pq2 - 1.0 / (q * q)
    return log_g_val, d_lk, d_p, d_q, ok


def _g_quadrature(
    log_kappa: FloatArray, p: FloatArray, q: FloatArray, grad: bool, hess_out: FloatArray | None = None
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """``log G`` and derivatives from ``G = int exp(phi(y)) dy``, ``y = log v``:

    ``phi = log q + y - (q+1) softplus(y) - p softplus(y + log kappa)``; derivatives under the integral:
    ``d phi/dp = -softplus(y + log kappa)``, ``d phi/dq = 1/q - softplus(y)``,
    ``d phi/d log kappa = -p expit(y + log kappa)``.

    ``hess_out`` (shape (n, 6), with ``grad``): the second derivatives ``(ll, lp, lq, pp, pq, qq)`` of ``log G``
    w.r.t. ``(log kappa, p, q)``, ``E[d^2 phi] + Cov(d phi)`` under the normalised integrand, with
    ``d^2 phi/d log kappa^2 = -p expit (1 - expit)``, ``d^2 phi/(d log kappa dp) = -expit``, ``d^2 phi/dq^2 = -1/q^2``.
    """
    n = log_kappa.shape[0]
    f = _Concave(
        c0=np.log(q), c1=np.ones(n), b=np.stack([q + 1.0, p], axis=1),
        d=np.stack([np.zeros(n), -log_kappa], axis=1), g=np.zeros(n),
        lo=np.full(n, -np.inf), hi=np.full(n, np.inf),
    )
    second = (np.zeros((n, 4, 4)), np.zeros((n, 2))) if grad and hess_out is not None else None
    log_val, mean_sp, mean_sig = _concave_quadrature(f, knee_moments=grad, second_out=second)
    if not grad:
        zeros = np.zeros(n)
        return log_val, zeros, zeros, zeros
    if second is not None:
        assert hess_out is not None
        # Features (softplus_0, softplus_1, expit_0, expit_1); d phi = (-p expit_1, -softplus_1, 1/q - softplus_0).
        cov, mean_dsig = second
        hess_out[:, 0] = p * p * cov[:, 3, 3] - p * mean_dsig[:, 1]
        hess_out[:, 1] = p * cov[:, 3, 1] - mean_sig[:, 1]
        hess_out[:, 2] = p * cov[:, 3, 0]
        hess_out[:, 3] = cov[:, 1, 1]
        hess_out[:, 4] = cov[:, 1, 0]
        hess_out[:, 5] = cov[:, 0, 0] - 1.0 / (q * q)
    return log_val, -p * mean_sig[:, 1], -mean_sp[:, 1], 1.0 / q - mean_sp[:, 0]


def log_g(
    log_kappa: FloatArray, p: FloatArray, q: FloatArray, grad: bool = False, hess_out: FloatArray | None = None
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """``log G(kappa; p, q)`` and (when ``grad``) its derivatives w.r.t. ``log kappa``, ``p`` and ``q``.

    ``G(kappa; p, q) = q int_0^inf (1+v)^-(q+1) (1+kappa v)^-p dv`` - the Pareto/NBD dropout integral of
    Fader & Hardie (2005, eqs. 22-23) in normalised form (see the module docstring). Power series where
    it converges fast, adaptive Gauss-Legendre quadrature elsewhere.

    Parameters
    ----------
    log_kappa, p, q:
        Arrays of shape (n,); ``p, q > 0``.

    hess_out:
        Optional array of shape (n, 6) (with ``grad``) that receives the second derivatives of ``log G``
        w.r.t. ``(log kappa, p, q)``, in the order ``(ll, lp, lq, pp, pq, qq)``; the returned values are the
        same with or without it.

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
        lg[sl], d_lk[sl], d_p[sl], d_q[sl], ok[sl] = _g_series(
            log_kappa[sl], p[sl], q[sl], grad, None if hess_out is None else hess_out[sl])
    if not ok.all():
        bad = np.flatnonzero(~ok)
        for start in range(0, bad.size, _CHUNK):
            part = bad[start:start + _CHUNK]
            h_part = None if hess_out is None else np.empty((part.shape[0], 6))
            vals = _g_quadrature(log_kappa[part], p[part], q[part], grad, h_part)
            for target, value in zip((lg, d_lk, d_p, d_q), vals, strict=True):
                target[part] = value
            if hess_out is not None and h_part is not None:
                hess_out[part] = h_part
    # G is a probability: rounding in the series/quadrature must not push log G above 0.
    np.minimum(lg, 0.0, out=lg)
    return lg, d_lk, d_p, d_q


Concave = _Concave
concave_quadrature = _concave_quadrature
