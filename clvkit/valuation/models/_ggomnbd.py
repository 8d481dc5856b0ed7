"""Pure kernels of the Gamma-Gompertz/NBD model (arrays in, arrays out).

Model (Bemmaor & Glady 2012, "Modeling Purchasing Behavior with Sudden 'Death': A Flexible Customer Lifetime
Model", Management Science 58(5), 1012-1021): while alive a customer buys as a Poisson process with rate
``lambda ~ Gamma(r, alpha)``; the lifetime has the Gompertz hazard ``b eta exp(b t)`` with ``eta ~ Gamma(s,
beta)``, independent of ``lambda``. ``params`` is the array ``(r, alpha, b, s, beta)``; ``x, tx, T`` are
frequency, recency and age arrays of one shape.

Integrating ``eta`` out gives the lifetime's survival and density (the paper's eqs. 3-4)

    S(t) = (beta / (beta - 1 + e^{bt}))^s,    f(t) = s b e^{bt} beta^s / (beta - 1 + e^{bt})^{s+1},

and with ``h(t) = (alpha + t)^-(r+x)`` and ``C = Gamma(r+x) alpha^r / Gamma(r)`` the likelihood (paper, eq. 7)

    L = C [ h(T) S(T) + int_{tx}^{T} h(tau) f(tau) dtau ].

As ``b -> 0`` with ``beta / b`` fixed, ``S(t) -> (1 + t b/beta)^-s``: the Pareto/NBD with ``beta_PNBD = beta / b``.

The dropout integral has no closed form. With ``A(t) = h(t) S(t)`` and ``J(t) = int_t^inf h f dtau`` it is
``J(tx) - J(T)``; since ``h`` decreases, ``J(t) <= A(t)``, so ``L / C = A(T) - J(T) + J(tx)`` loses nothing to
the subtraction (the absolute error of ``J(T)`` is relative to ``A(T) <= L / C``). ``J`` is integrated in
``y = log S(tau)`` (``dS = -f dtau``), where it is ``int_{-inf}^{log S(t)} e^y h(tau(y)) dy`` with the closed-form
inverse ``b tau(y) = log(1 + beta expm1(-y / s))``: the integrand is positive, smooth and increases to its end, so
it is written relative to its end value ``A(t)`` (log space: no overflow at large ``x`` or long ``T``), and
16-point Gauss-Legendre panels are laid from the end at the scale on which it falls (doubling widths, then width 8,
to 36 units of ``y``, where ``e^-36 < 3e-16``). Derivatives by differentiating under the integral on the same nodes.

The likelihood needs ``J`` at every row's ``(x, tx)`` and ``(x, T)``. Real summaries have few distinct ages (whole
days) and frequencies, so ``J`` comes from a chain over the sorted distinct ages ``t_0 < ... < t_K``: ``J(t_j) =
int_{t_j}^{t_{j+1}} h f dtau + J(t_{j+1})``, the last ``J(t_K)`` a tail as above, each interval integrated in ``u`` from
``t_j`` (one Gauss-Legendre panel of 8 to 16 nodes when it is short beside the fastest fall and the nearest
singularity of the integrand, doubling panels otherwise) once per distinct frequency, with the ``x``-free node terms
shared by all frequencies. Relative to ``A``, ``V_j = v_j + (A_{j+1} / A_j) V_{j+1}``: a backward cumulative sum of
positive parts (no cancellation), in blocks over which ``log A`` falls by at most 600. Its cost is (distinct
frequencies) x (distinct ages) short intervals instead of a full tail per distinct ``(x, t)`` pair (100,000 customers
at day resolution: 45 x 547 intervals of about 10 nodes, against 7,448 tails of about 190). When ages are continuous
(nearly every row its own age) the pairs are cheaper, and each distinct ``t`` gets one tail node set from the fastest
fall among the frequencies seen at ``t``, shared by all of them; per pair only ``exp(log w - u - (r+x) L)`` and one
matrix product with the node terms remain. A fit sums the gradient terms per (frequency, age) cell before applying
them (:func:`loglik_summed`), and groups the rows once (:func:`group_rows`).

Predictions need ``int_0^t e^{-delta u} S(T+u)/S(T) du``, integrated the same way on panels doubling from the
shortest scale of the survival (``1 / max hazard``) and of the discount (``1 / delta``).
"""

from __future__ import annotations

import math
from functools import partial
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
from scipy import special

from ._generic import fresh_customer_expectation, fresh_customer_pmf, path_over_distinct_rows
from ._simulate import _last_of_first as last_of_first

__all__ = [
    "discounted_residual",
    "expected_purchases",
    "expected_purchases_new",
    "expected_purchases_path",
    "log_survival",
    "loglik",
    "loglik_hessian",
    "loglik_hessian_summed",
    "probability_alive",
    "probability_of_purchases",
    "probability_of_purchases_new",
    "simulate",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]

_GL16_NODES, _GL16_WEIGHTS = np.polynomial.legendre.leggauss(16)
_TAIL_NODES, _TAIL_WEIGHTS = _GL16_NODES, _GL16_WEIGHTS
# Panels of the dropout integral in u = log S(t) - log S(tau): widths double from the scale of the integrand's fall
# until _WIDTH, then stay _WIDTH (16-point Gauss-Legendre integrates e^-u on width 8 to ~1e-25), up to _REACH.
_WIDTH = 8.0
_REACH = 36.0
# Nodes of the shared per-t grids built at once (memory), and the rows per t above which each t gets its own product.
_GRID_NODES = 1 << 16
_BLOCK_ROWS = 4
_CHUNK = 4096
# exp() arguments are floored here: smaller results are negligible, and subnormal ones are slow to compute.
_EXP_FLOOR = -700.0
# The chain over all ages (_chain) is used while (distinct frequencies) x (distinct ages) <= _CHAIN_COST x rows.
_CHAIN_COST = 8
# The backward sum of the chain runs in blocks of _SCAN intervals; one over which log A falls by more than _SEGMENT
# (e^600 does not overflow) makes it run interval by interval.
_SCAN = 16
_SEGMENT = 600.0
# (frequency, node) cells of the interval sums evaluated at once (memory: temporaries of a few hundred KiB).
_CELL_BLOCK = 1 << 15
# Gauss-Legendre rules of one panel, by order.
_GAUSS = {n: np.polynomial.legendre.leggauss(n) for n in (8, 12, 16)}
# Doubling panels of the prediction integrals reach at most this many scales (2^200 times the first width).
_MAX_PANELS = 200


def _split(params: FloatArray) -> tuple[float, float, float, float, float]:
    r, alpha, b, s, beta = (float(v) for v in params)
    return r, alpha, b, s, beta


def _log_den(b: float, beta: float, t: FloatArray) -> FloatArray:
    """``log(e^{-bt} (beta - 1 + e^{bt})) = log(beta e^{-bt} + 1 - e^{-bt})``: both terms positive, no cancellation."""
    bt = b * t
    with np.errstate(divide="ignore"):
        out: FloatArray = np.logaddexp(math.log(beta) - bt, np.log(-np.expm1(-bt)))
    return out


def log_survival(params: FloatArray, t: FloatArray) -> FloatArray:
    """``log S(t) = s log beta - s log(beta - 1 + e^{bt})`` (Bemmaor & Glady 2012, eq. 3), any ``t >= 0``."""
    _, _, b, s, beta = _split(params)
    t = np.asarray(t, dtype=np.float64)
    out: FloatArray = -s * (b * t + _log_den(b, beta, t) - math.log(beta))
    return out


# --------------------------------------------------------------------------------------------------
# The likelihood
# --------------------------------------------------------------------------------------------------
def _fall_scale(params: FloatArray, x: FloatArray, t: FloatArray) -> FloatArray:
    """A lower bound of the scale in ``u`` on which ``e^-u h(tau(u))`` falls from its end at ``tau = t``.

    ``d log(e^-u h) / du = -(1 + (r+x) / ((alpha+tau) hazard(tau)))`` with ``hazard = s b / den``; ``(alpha+tau) /
    den(tau)`` is bounded below over ``tau >= t`` by ``(alpha+t)/den(t)`` when ``beta >= 1`` (``den`` falls) and by
    ``max(alpha+t, min((alpha+t)/(beta+bt), 1/b))`` when ``beta < 1`` (``den <= min(1, beta + b tau)``).
    """
    r, alpha, b, s, beta = _split(params)
    if beta >= 1.0:
        q = (alpha + t) / np.exp(_log_den(b, beta, t))
    else:
        q = np.maximum(alpha + t, np.minimum((alpha + t) / (beta + b * t), 1.0 / b))
    out: FloatArray = 1.0 / (1.0 + (r + x) / (s * b * q))
    return out


def _tail(params: FloatArray, x: FloatArray, t: FloatArray, grad: bool = True, hess: bool = False
          ) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """``log A(t)``, ``rho = J(t) / A(t)`` in (0, 1], ``d log A`` (m, 5) and ``dJ / A`` (m, 5) at rows ``(x, t)``.

    ``A(t) = (alpha+t)^-(r+x) S(t)``, ``J(t) = int_t^inf (alpha+tau)^-(r+x) f(tau) dtau`` (module docstring). With
    ``hess`` (and ``grad``) the last output has 20 columns: ``dJ / A`` and then ``d^2 J / A`` (:data:`_UPPER` order).
    """
    r, alpha, b, s, beta = _split(params)
    a = r + x
    log_at = np.log(alpha + t)
    ld_t = _log_den(b, beta, t)
    log_A: FloatArray = -a * log_at - s * (b * t + ld_t - math.log(beta))
    m = x.shape[0]
    dlogA = np.empty((m, 5))
    e_t = np.exp(-b * t)
    den_t = np.exp(ld_t)
    dlogA[:, 0] = -log_at
    dlogA[:, 1] = -a / (alpha + t)
    dlogA[:, 2] = -s * t / den_t
    dlogA[:, 3] = math.log(beta) - b * t - ld_t
    dlogA[:, 4] = s / beta - s * e_t / den_t
    delta = _fall_scale(params, x, t)
    dJ = np.zeros((m, 5))
    if m == 0:
        return log_A, np.zeros(0), dlogA, dJ
    # One node set per distinct t, shared by every x at that t (_node_grid); per row only exp(base - a L) and one
    # product with the node terms. Rows sorted by t; distinct t values in chunks of about _GRID_NODES nodes.
    ut, t_of = np.unique(t, return_inverse=True)
    t_of = t_of.reshape(-1)
    d_t = np.full(ut.shape[0], np.inf)
    np.minimum.at(d_t, t_of, delta)
    order = np.argsort(t_of, kind="stable")
    first = np.searchsorted(t_of[order], np.arange(ut.shape[0] + 1))  # rows of t value j: order[first[j]:first[j+1]]
    sums = np.empty((m, _channels(grad, hess)))
    per_chunk = max(1, _GRID_NODES // (_TAIL_NODES.shape[0] * int(_panel_counts(d_t)[1].max())))
    for c0 in range(0, ut.shape[0], per_chunk):
        c1 = min(ut.shape[0], c0 + per_chunk)
        base, big_l, q = _node_grid(params, ut[c0:c1], d_t[c0:c1], grad, hess)
        if first[c1] - first[c0] >= _BLOCK_ROWS * (c1 - c0):
            for j in range(c0, c1):  # many rows per t: one matrix product per t
                rows = order[first[j]:first[j + 1]]
                sums[rows] = _exp_floored(base[j - c0] - a[rows, None] * big_l[j - c0]) @ q[j - c0]
        else:  # few rows per t (continuous ages): gathered node rows, a batched product
            rows = order[first[c0]:first[c1]]
            local = t_of[rows] - c0
            weight = _exp_floored(base[local] - a[rows, None] * big_l[local])
            sums[rows] = np.matmul(weight[:, None, :], q[local])[:, 0, :]
    rho = sums[:, 0]
    if grad:
        _scale_by_frequency(sums.T, a)
        dJ = sums[:, 1:]
    return log_A, rho, dlogA, dJ


def _channels(grad: bool, hess: bool) -> int:
    """Node-term channels: the integrand (1), its first derivatives (5) and second-order terms (15)."""
    return 1 + (5 + (15 if hess else 0) if grad else 0)


#: The upper triangle of the 5 x 5 Hessian of ``(r, alpha, b, s, beta)``, row by row: the order of the 15 second-order
#: channels of the dropout integrals.
_UPPER = tuple((i, j) for i in range(5) for j in range(i, 5))


def _scale_by_frequency(values: FloatArray, a: FloatArray) -> None:
    """Turn the x-free integrals of the node terms (channels first, :func:`_node_terms`) into those of the
    derivatives at frequency ``a = r + x`` (broadcast against ``values[0]``), in place.

    ``d log(h f) / dalpha = a g`` with ``g = -1/(alpha+tau)``, so the alpha channel is multiplied by ``a``; of the
    second-order terms ``d^2 log(hf) + d log(hf) d log(hf)^T``: ``(r, alpha) = g + a (-log(alpha+tau) g)``,
    ``(alpha, alpha) = (a + a^2) g^2`` and ``(alpha, j) = a g q_j``.
    """
    if values.shape[0] > 6:
        second = values[6:]
        second[1] *= a
        second[1] += values[2]
        second[5] *= a + a * a
        second[6:9] *= a
    values[2] *= a


def _exp_floored(z: FloatArray) -> FloatArray:
    """``exp(z)`` in place with ``z`` floored at _EXP_FLOOR: results below ``e^-700`` (negligible beside the node
    sums they enter, which are at least the first node's weight) would take the slow subnormal path of ``exp``."""
    np.maximum(z, _EXP_FLOOR, out=z)
    return np.exp(z, out=z)


def _panel_counts(d: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Doubling panels and all panels from the fall scale ``d``: widths ``d 2^k`` while below _WIDTH, then _WIDTH,
    until the edges pass _REACH."""
    n_double = np.ceil(np.log2(np.maximum(_WIDTH / d, 1.0)))
    reached = d * (np.exp2(n_double) - 1.0)
    return n_double, n_double + np.ceil(np.maximum(_REACH - reached, 0.0) / _WIDTH)


def _doubling_nodes(first: FloatArray, limit: FloatArray, count: int, nodes: FloatArray, weights: FloatArray
                    ) -> tuple[FloatArray, FloatArray]:
    """Gauss-Legendre nodes and weights (shape (m, count * len(nodes))) on ``[0, limit]`` per row: panels of widths
    ``first 2^k`` while below _WIDTH, then _WIDTH; panels past ``limit`` have zero width (weight 0)."""
    n_double = np.ceil(np.log2(np.maximum(_WIDTH / first, 1.0)))
    k = np.arange(count, dtype=np.float64)[None, :]
    nd, dl, lim = n_double[:, None], first[:, None], limit[:, None]
    left = np.minimum(dl * (np.exp2(np.minimum(k, nd)) - 1.0) + np.maximum(k - nd, 0.0) * _WIDTH, lim)
    right = np.minimum(left + np.minimum(dl * np.exp2(k), _WIDTH), lim)
    half = 0.5 * (right - left)
    mid = 0.5 * (right + left)
    m = first.shape[0]
    u: FloatArray = (mid[:, :, None] + half[:, :, None] * nodes).reshape(m, -1)
    w: FloatArray = (half[:, :, None] * weights).reshape(m, -1)
    return u, w


def _node_grid(params: FloatArray, ut: FloatArray, d_t: FloatArray, grad: bool, hess: bool = False
               ) -> tuple[FloatArray, FloatArray, FloatArray]:
    """The x-free parts of the dropout integrand at each node of each distinct ``t`` (shape (n_t, K)).

    Panels from the finest fall scale ``d_t`` of the rows at ``t`` to _REACH, padded with empty panels (weight 0,
    base -inf) to a common count; the terms are :func:`_node_terms`'.
    """
    count = int(_panel_counts(d_t)[1].max())
    u, wq = _doubling_nodes(d_t, np.full(ut.shape[0], _REACH), count, _TAIL_NODES, _TAIL_WEIGHTS)
    return _node_terms(params, ut, u, wq, grad, hess)


def _node_terms(params: FloatArray, t: FloatArray, u: FloatArray, wq: FloatArray, grad: bool, hess: bool = False
                ) -> tuple[FloatArray, FloatArray, FloatArray]:
    """The x-free parts of the dropout integrand from ``tau = t`` (shape (m,)) at nodes ``u`` with weights ``wq``
    (shape (m, K)) of ``u = log S(t) - log S(tau)``.

    The integrand of ``int h f dtau / A(t)`` at node ``u`` with weight ``w`` is ``exp(base - (r+x) L)``,
    ``base = log w - u``, ``L = log(1 + (tau(u) - t) / (alpha + t))``; ``q`` (m, K, 6 or 1) holds 1 and the
    derivatives of ``log(h f)`` w.r.t. ``(r, alpha / (r+x), b, s, beta)`` (weight 0: base -inf). With ``hess``, 15
    more columns: the x-free parts of ``d^2 log(hf) + d log(hf) d log(hf)^T`` in :data:`_UPPER` order, from which
    :func:`_scale_by_frequency` makes the terms at a frequency. With ``D = beta - 1 + e^{b tau}`` and
    ``rho = e^{b tau} / D``, ``log f = log(s b) + b tau + s log beta - (s+1) log D`` has the second derivatives
    ``bb: -1/b^2 - (s+1) tau^2 rho (1-rho)``, ``bs: -tau rho``, ``b beta: (s+1) tau rho / D``, ``ss: -1/s^2``,
    ``s beta: 1/beta - 1/D``, ``beta beta: -s/beta^2 + (s+1)/D^2``; ``log h = -(r+x) log(alpha+tau)`` gives
    ``(r, alpha): -1/(alpha+tau)`` and ``(alpha, alpha): (r+x)/(alpha+tau)^2``.
    """
    _, alpha, b, s, beta = _split(params)
    z_t = b * t + _log_den(b, beta, t) - math.log(beta)  # -log S(t) / s
    z = z_t[:, None] + u / s
    with np.errstate(divide="ignore"):
        log_bt = math.log(beta) + z + np.log(-np.expm1(-z))
    btau = np.logaddexp(0.0, log_bt)
    tau = btau / b
    big_l: FloatArray = np.log1p((tau - t[:, None]) / (alpha + t[:, None]))
    with np.errstate(divide="ignore"):
        base: FloatArray = np.log(wq) - u
    if not grad:
        return base, big_l, np.ones((*z.shape, 1))
    log_den = math.log(beta) + z - btau
    inv_den = np.exp(-log_den)
    q: FloatArray = np.empty((*z.shape, _channels(True, hess)))
    q[:, :, 0] = 1.0
    np.log(alpha + tau, out=q[:, :, 1])
    q[:, :, 1] *= -1.0
    q[:, :, 2] = -1.0 / (alpha + tau)
    q[:, :, 3] = 1.0 / b + tau - (s + 1.0) * tau * inv_den
    q[:, :, 4] = 1.0 / s + math.log(beta) - btau - log_den
    q[:, :, 5] = s / beta - (s + 1.0) * np.exp(-btau) * inv_den
    if hess:
        first = [q[:, :, j] for j in range(1, 6)]
        inv_d = np.exp(-btau) * inv_den  # 1 / D
        d2 = {  # second derivatives of log(h f), x-free parts (those in alpha: see _scale_by_frequency)
            (2, 2): -1.0 / (b * b) - (s + 1.0) * tau * tau * inv_den * ((beta - 1.0) * inv_d),
            (2, 3): -tau * inv_den,
            (2, 4): (s + 1.0) * tau * inv_den * inv_d,
            (3, 3): np.full(z.shape, -1.0 / (s * s)),
            (3, 4): 1.0 / beta - inv_d,
            (4, 4): -s / (beta * beta) + (s + 1.0) * inv_d * inv_d,
        }
        for col, (i, j) in enumerate(_UPPER, start=6):
            # (r, alpha): the product only (d^2 log h / dr dalpha = g is added at the frequency); (alpha, alpha): g^2.
            q[:, :, col] = first[i] * first[j]
            if (i, j) in d2:
                q[:, :, col] += d2[(i, j)]
    return base, big_l, q


class Grouping(NamedTuple):
    """What the likelihood needs of rows ``(x, tx, T)`` beyond their values; it does not depend on the parameters, so
    a fit computes it once (:func:`group_rows`)."""

    #: Distinct frequencies, ascending, shape (n_x,).
    x: FloatArray
    #: Distinct ages among the recencies and the ``T``, ascending, shape (K,).
    t: FloatArray
    #: Per row (shape (n, 3)): the index of its frequency in ``x``, of its ``T`` and of its ``tx`` in ``t``.
    rows: IntArray


def group_rows(x: FloatArray, tx: FloatArray, T: FloatArray) -> Grouping:
    """The :class:`Grouping` of rows ``(x, tx, T)``."""
    n = x.shape[0]
    ux, x_of = np.unique(x, return_inverse=True)
    ut, t_of = np.unique(np.concatenate([T, tx]), return_inverse=True)
    t_of = t_of.reshape(-1)
    rows = np.stack([x_of.reshape(-1), t_of[:n], t_of[n:]], axis=1).astype(np.intp)
    return Grouping(ux.astype(np.float64), ut.astype(np.float64), rows)


def _uses_chain(g: Grouping) -> bool:
    """Whether the tails come from the chain over all ages (:func:`_chain`) rather than per distinct pair
    (:func:`_tail`): the chain costs one short interval per (distinct frequency, distinct age); the pairs a full tail
    each (about _CHAIN_COST times an interval's nodes) per distinct (x, tx) and (x, T)."""
    if g.rows.shape[0] == 0:
        return False  # no rows (an empty summary or horizon): the per-pair route handles empty arrays
    return bool(g.x.shape[0] * max(g.t.shape[0] - 1, 1) <= _CHAIN_COST * g.rows.shape[0])


def _singularity_distance(params: FloatArray, z_t: FloatArray) -> FloatArray:
    """How far, in ``u``, the dropout integrand from ``tau = t`` (``z_t = -log S(t) / s``) is analytic around ``u = 0``.

    In ``z = z_t + u / s`` the node terms are analytic except where ``b tau = log(1 + beta expm1(z))`` ends, at
    ``expm1(z) = -1 / beta``, and where ``log(alpha + tau)`` does, at ``expm1(z) = expm1(-b alpha) / beta``: real
    ``z`` when the right side exceeds -1, else at imaginary part ``pi``.
    """
    _, alpha, b, s, beta = _split(params)
    dist = np.full(z_t.shape, math.pi)
    for m in (1.0 / beta, -math.expm1(-b * alpha) / beta):
        if m < 1.0:
            dist = np.minimum(dist, z_t - math.log1p(-m))
    out: FloatArray = s * dist
    return out


def _interval_sums(params: FloatArray, a: FloatArray, ut: FloatArray, grad: bool, hess: bool = False
                   ) -> tuple[FloatArray, FloatArray]:
    """``int_{t_j}^{t_{j+1}} h f dtau / A(t_j)`` (column 0) and its derivatives (columns 1-5, as :func:`_tail`'s
    ``dJ / A``) for every frequency (``a = r + x``) and interval between consecutive ages ``ut``: shape
    (6 or 1, n_x, K - 1); and ``log A(t_{j+1}) - log A(t_j)`` (n_x, K - 1), accurate for short intervals.

    Each interval in ``u`` from 0 to ``U_j = log S(t_j) - log S(t_{j+1})`` (capped at _REACH: the rest is below
    ``e^-36`` of the integrand's start). A short interval, ``U_j`` at most twice the scale ``sigma`` (the fastest fall
    among the frequencies, :func:`_fall_scale`, or the distance to a singularity, :func:`_singularity_distance`),
    is one Gauss-Legendre panel of 8, 12 or 16 nodes (by ``U_j / sigma``: 1e-16 for a pole at ``sigma``); a longer
    one, doubling panels of 16 from ``sigma``. Intervals with the same layout are evaluated together.
    """
    r, alpha, b, s, beta = _split(params)
    n_x = a.shape[0]
    t0 = ut[:-1]
    ld0 = _log_den(b, beta, t0)
    dt = np.diff(ut)
    # U_j = s [b dt + log(den(t_{j+1}) / den(t_j))], den(t) = 1 + (beta - 1) e^{-bt}: in this form, not as a difference
    # of log S, it keeps its relative accuracy for short intervals (one day of a long age), so the intervals meet.
    full = s * (b * dt + np.log1p((beta - 1.0) * np.exp(-b * t0 - ld0) * np.expm1(-b * dt)))
    lim = np.minimum(full, _REACH)
    sigma = np.minimum(_fall_scale(params, np.full(t0.shape, float(a.max()) - r), t0),
                       _singularity_distance(params, b * t0 + ld0 - math.log(beta)))
    ratio = lim / sigma
    # Layout code: the Gauss order of a single panel, or 100 + the number of doubling panels.
    layout = np.select([ratio <= 0.3, ratio <= 1.0, ratio <= 2.0], [8, 12, 16], 0)
    long = layout == 0
    if np.any(long):
        layout[long] = 100 + _panel_count(sigma[long], lim[long])
    out = np.empty((_channels(grad, hess), n_x, t0.shape[0]))
    for code in np.unique(layout):
        idx = np.flatnonzero(layout == code)
        if code < 100:
            nodes, weights = _GAUSS[int(code)]
            u = lim[idx, None] * (0.5 * nodes + 0.5)
            wq = lim[idx, None] * (0.5 * weights)
        else:
            u, wq = _doubling_nodes(sigma[idx], lim[idx], int(code) - 100, _GL16_NODES, _GL16_WEIGHTS)
        base, big_l, q = _node_terms(params, t0[idx], u, wq, grad, hess)
        k = u.shape[1]
        step = max(1, _CELL_BLOCK // (n_x * k))
        for c0 in range(0, idx.shape[0], step):
            sl = slice(c0, c0 + step)
            m = base[sl].shape[0]
            e = np.multiply.outer(-a, big_l[sl].reshape(-1))
            e += base[sl].reshape(-1)
            e = _exp_floored(e)
            out[:, :, idx[sl]] = np.matmul(e.reshape(n_x, m, k).transpose(1, 0, 2), q[sl]).transpose(2, 1, 0)
    if grad:
        _scale_by_frequency(out, a[:, None])
    log_ratio: FloatArray = np.multiply.outer(-a, np.log1p(dt / (alpha + t0)))
    log_ratio -= full
    return out, log_ratio


def _panel_count(first: FloatArray, limit: FloatArray) -> npt.NDArray[np.int64]:
    """The panels of :func:`_doubling_nodes` that cover ``[0, limit]``."""
    n_double = np.ceil(np.log2(np.maximum(_WIDTH / first, 1.0)))
    reached = first * (np.exp2(n_double) - 1.0)
    count = np.where(limit <= reached, np.ceil(np.log2(limit / first + 1.0)),
                     n_double + np.ceil((limit - reached) / _WIDTH))
    out: npt.NDArray[np.int64] = np.maximum(count, 1.0).astype(np.int64)
    return out


def _chain(params: FloatArray, g: Grouping, grad: bool, hess: bool = False) -> tuple[FloatArray, FloatArray]:
    """``log A`` (n_x, K) and ``rho = J / A`` with ``dJ / A`` (6 or 1, n_x, K) at every distinct frequency and age.

    ``J(t_j) = int_{t_j}^{t_{j+1}} h f dtau + J(t_{j+1})``: from the oldest age (a tail, :func:`_tail`) down, each
    interval adds a positive part, so ``V_j = v_j + exp(log A_{j+1} - log A_j) V_{j+1}`` (``v_j`` from
    :func:`_interval_sums`, all relative to ``A``), solved by :func:`_backward`.
    """
    r, alpha, _, _, _ = _split(params)
    a = r + g.x
    n_x, n_t = g.x.shape[0], g.t.shape[0]
    ell: FloatArray = np.multiply.outer(-a, np.log(alpha + g.t))
    ell += log_survival(params, g.t)
    V = np.empty((_channels(grad, hess), n_x, n_t))
    _, rho_top, _, dj_top = _tail(params, g.x, np.full(n_x, g.t[-1]), grad, hess)
    V[0, :, -1] = rho_top
    if grad:
        V[1:, :, -1] = dj_top.T
    if n_t == 1:
        return ell, V
    v, log_ratio = _interval_sums(params, a, g.t, grad, hess)
    V[:, :, :-1] = _backward(v, log_ratio, V[:, :, -1])
    return ell, V


def _backward(v: FloatArray, log_ratio: FloatArray, top: FloatArray) -> FloatArray:
    """``V_j = v_j + exp(log_ratio_j) V_{j+1}`` for ``j = K-2, ..., 0`` with ``V_{K-1} = top``: ``v`` (c, n_x, K-1),
    ``log_ratio`` (n_x, K-1) <= 0, ``top`` (c, n_x); returns ``V_0 .. V_{K-2}``.

    In blocks of _SCAN consecutive intervals: within a block, a reversed cumulative sum scaled by ``exp(D)``, ``D`` the
    fall of ``log A`` to the block's end summed from the intervals' own ``log_ratio`` (so neighbouring ages are scaled
    by their own small ratio, not by a difference of large ``log A``: relative 1e-16, not 1e-14); between blocks one
    step per block. A block over which ``log A`` falls by more than _SEGMENT (ages far apart, huge frequencies) would
    overflow ``exp(D)``: then every interval is one step.
    """
    c, n_x, m = v.shape
    if -float(np.min(log_ratio, initial=0.0)) * _SCAN > _SEGMENT and \
            float(np.max(-_block_sums(log_ratio))) > _SEGMENT:
        steps: FloatArray = np.empty_like(v)
        nxt = top
        for j in range(m - 1, -1, -1):
            nxt = steps[:, :, j] = v[:, :, j] + np.exp(log_ratio[:, j]) * nxt
        return steps
    n_blocks = -(-m // _SCAN)
    pad = n_blocks * _SCAN - m  # empty intervals before the first: v = 0, ratio 1
    lr = np.zeros((n_x, n_blocks * _SCAN))
    lr[:, pad:] = log_ratio
    lr = lr.reshape(n_x, n_blocks, _SCAN)
    depth = np.cumsum(lr[:, :, ::-1], axis=2)[:, :, ::-1]  # log A_{block end + 1} - log A_j <= 0
    w = np.zeros((c, n_x, n_blocks * _SCAN))
    w[:, :, pad:] = v
    w = w.reshape(c, n_x, n_blocks, _SCAN)
    w *= np.exp(-depth)
    np.cumsum(w[..., ::-1], axis=3, out=w[..., ::-1])
    carry = np.empty((c, n_x, n_blocks))  # V after each block's last interval
    carry[:, :, -1] = top
    for k in range(n_blocks - 1, 0, -1):
        carry[:, :, k - 1] = (w[:, :, k, 0] + carry[:, :, k]) * np.exp(depth[:, k, 0])
    w += carry[..., None]
    w *= np.exp(depth)
    out: FloatArray = w.reshape(c, n_x, -1)[:, :, pad:]
    return out


def _block_sums(log_ratio: FloatArray) -> FloatArray:
    """The sum of ``log_ratio`` over each block of _SCAN intervals as :func:`_backward` lays them."""
    n_x, m = log_ratio.shape
    n_blocks = -(-m // _SCAN)
    lr = np.zeros((n_x, n_blocks * _SCAN))
    lr[:, n_blocks * _SCAN - m:] = log_ratio
    out: FloatArray = lr.reshape(n_x, n_blocks, _SCAN).sum(axis=2)
    return out


class _Cells(NamedTuple):
    """The tails at the cells (distinct (frequency, age) pairs) a likelihood evaluation uses, and each row's cells."""

    of_age: IntArray  # (n,): the cell of (x, T)
    of_recency: IntArray  # (n,): the cell of (x, tx)
    x: FloatArray  # (m,): frequency of each cell
    t: FloatArray  # (m,): age of each cell
    log_a: FloatArray  # (m,): log A
    rho: FloatArray  # (m,): J / A
    dj: FloatArray | None  # (m, 5): dJ / A
    d2j: FloatArray | None = None  # (m, 15): d^2 J / A in _UPPER order (when asked for)


def _cells(params: FloatArray, g: Grouping, grad: bool, hess: bool = False) -> _Cells:
    """The tails of rows grouped by ``g``: by the chain over all ages when that is cheaper (its cells are every
    (distinct frequency, distinct age)), else one tail per distinct ``(x, T)`` and ``(x, tx)`` (:func:`_uses_chain`)."""
    n_t = g.t.shape[0]
    of_age = g.rows[:, 0] * n_t + g.rows[:, 1]
    of_recency = g.rows[:, 0] * n_t + g.rows[:, 2]
    if _uses_chain(g):
        ell, V = _chain(params, g, grad, hess)
        x = np.repeat(g.x, n_t)
        t = np.tile(g.t, g.x.shape[0])
        flat = V.reshape(V.shape[0], -1)
        return _Cells(of_age, of_recency, x, t, ell.reshape(-1), flat[0], flat[1:6].T if grad else None,
                      flat[6:].T if hess else None)
    # Few rows per distinct pair of ages (continuous ages): a tail per distinct (x, T) and (x, tx) pair.
    n = of_age.shape[0]
    cells, inverse = np.unique(np.concatenate([of_age, of_recency]), return_inverse=True)
    inverse = inverse.reshape(-1)
    x, t = g.x[cells // n_t], g.t[cells % n_t]
    log_a, rho, _, dj = _tail(params, x, t, grad, hess)
    return _Cells(inverse[:n], inverse[n:], x, t, log_a, rho, dj[:, :5] if grad else None, dj[:, 5:] if hess else None)


def _log_dlogA(params: FloatArray, x: FloatArray, T: FloatArray) -> FloatArray:
    """``d log A(T) / d (r, alpha, b, s, beta)`` at ``(x, T)``, shape (m, 5)."""
    r, alpha, b, s, beta = _split(params)
    ld_T = _log_den(b, beta, T)
    inv_den = np.exp(-ld_T)
    out = np.empty((x.shape[0], 5))
    out[:, 0] = -np.log(alpha + T)
    out[:, 1] = -(r + x) / (alpha + T)
    out[:, 2] = -s * T * inv_den
    out[:, 3] = math.log(beta) - b * T - ld_T
    out[:, 4] = s / beta - s * np.exp(-b * T) * inv_den
    return out


def _log_terms(params: FloatArray, x: FloatArray, tx: FloatArray, T: FloatArray, grad: bool,
               groups: Grouping | None = None, hess: bool = False) -> tuple[FloatArray, FloatArray, _Cells]:
    """``log(L/C)`` and ``log P(alive)`` per row, and the cells they came from.

    ``L/C = A(T) (1 - rho_T) + A(tx) rho_tx`` (module docstring).
    """
    c = _cells(params, group_rows(x, tx, T) if groups is None else groups, grad, hess)
    a_T, a_t = c.log_a[c.of_age], c.log_a[c.of_recency]
    # rho_T < 1 up to rounding; a node sum a few ulps above 1 must not make the alive part negative.
    alive_part = np.maximum(1.0 - c.rho[c.of_age], 0.0)
    with np.errstate(divide="ignore"):
        log_alive = a_T + np.log(alive_part)
        log_dead = a_t + np.log(c.rho[c.of_recency])
    log_lc = np.logaddexp(log_alive, log_dead)
    return log_lc, np.minimum(a_T - log_lc, 0.0), c


def _shares(log_lc: FloatArray, c: _Cells) -> tuple[FloatArray, FloatArray]:
    """``A(T) / (L/C)`` and ``A(tx) / (L/C)`` per row: ``d(L/C) / (L/C) = share_T (dlogA_T - dJ_T/A_T) + share_tx
    dJ_tx/A_tx``."""
    return np.exp(c.log_a[c.of_age] - log_lc), np.exp(c.log_a[c.of_recency] - log_lc)


def loglik(params: FloatArray, x: FloatArray, tx: FloatArray, T: FloatArray, groups: Grouping | None = None
           ) -> tuple[FloatArray, FloatArray]:
    """Per-customer log-likelihood and its gradient w.r.t. ``(r, alpha, b, s, beta)``.

    Bemmaor & Glady (2012), eq. 7: ``L = Gamma(r+x) alpha^r / Gamma(r) [ (alpha+T)^-(r+x) S(T) + int_tx^T
    (alpha+tau)^-(r+x) f(tau) dtau ]`` with the Gamma-Gompertz survival ``S`` and density ``f`` (module docstring
    for the evaluation). The gradient is analytic in the closed-form parts and differentiated under the integral
    (the integral's limits do not depend on the parameters). ``groups`` (:func:`group_rows` of the same rows) saves
    the grouping when the likelihood is evaluated on the same rows many times.

    Returns
    -------
    (ll, grad):
        ``ll`` of shape (n,), ``grad`` of shape (n, 5).
    """
    r, alpha, _, _, _ = _split(params)
    g = group_rows(x, tx, T) if groups is None else groups
    log_lc, _, c = _log_terms(params, x, tx, T, True, g)
    assert c.dj is not None
    share_T, share_t = _shares(log_lc, c)
    grad = _log_dlogA(params, x, T)
    grad -= c.dj[c.of_age]
    grad *= share_T[:, None]
    grad += share_t[:, None] * c.dj[c.of_recency]
    a = r + g.x
    x_of = g.rows[:, 0]
    ll: FloatArray = (special.gammaln(a) - special.gammaln(r) + r * math.log(alpha))[x_of] + log_lc
    grad[:, 0] += (special.digamma(a) - special.digamma(r) + math.log(alpha))[x_of]
    grad[:, 1] += r / alpha
    return ll, grad


def loglik_summed(params: FloatArray, x: FloatArray, tx: FloatArray, T: FloatArray, weights: FloatArray,
                  groups: Grouping | None = None) -> tuple[FloatArray, FloatArray]:
    """``sum(weights * ll)`` and ``sum(weights * grad)`` of :func:`loglik` (shapes (1,) and (1, 5)).

    The same terms, summed by cell before the per-cell gradient terms are applied: no (n, 5) array per row.
    """
    r, alpha, _, _, _ = _split(params)
    g = group_rows(x, tx, T) if groups is None else groups
    log_lc, _, c = _log_terms(params, x, tx, T, True, g)
    assert c.dj is not None
    share_T, share_t = _shares(log_lc, c)
    m = c.log_a.shape[0]
    on_T = np.bincount(c.of_age, weights=weights * share_T, minlength=m)
    on_t = np.bincount(c.of_recency, weights=weights * share_t, minlength=m)
    used = np.flatnonzero(on_T)  # d log A only where some row has its T
    # einsum, not BLAS: a threaded dot on a busy machine costs milliseconds (see _estimation._objective).
    grad = np.einsum("i,ij->j", on_T[used], _log_dlogA(params, c.x[used], c.t[used]))
    grad += np.einsum("i,ij->j", on_t - on_T, c.dj)
    a = r + g.x
    per_x = np.bincount(g.rows[:, 0], weights=weights, minlength=a.shape[0])
    total = float(weights.sum())
    ll = (float(np.einsum("i,i->", per_x, special.gammaln(a))) + float(np.einsum("i,i->", weights, log_lc))
          + total * (r * math.log(alpha) - special.gammaln(r)))
    grad[0] += float(np.einsum("i,i->", per_x, special.digamma(a))) + total * (math.log(alpha) - special.digamma(r))
    grad[1] += total * r / alpha
    return np.array([ll]), grad[None, :]


def _log_d2logA(params: FloatArray, x: FloatArray, T: FloatArray) -> FloatArray:
    """Second derivatives of ``log A(T) = -(r+x) log(alpha+T) + s log beta - s log D(T)`` (``D = beta - 1 + e^{bT}``)
    w.r.t. ``(r, alpha, b, s, beta)`` at ``(x, T)``, shape (m, 15) in :data:`_UPPER` order."""
    r, alpha, b, s, beta = _split(params)
    ld_T = _log_den(b, beta, T)
    rho = np.exp(-ld_T)  # e^{bT} / D
    inv_d = np.exp(-b * T) * rho  # 1 / D
    out = np.zeros((x.shape[0], 15))
    col = {ij: k for k, ij in enumerate(_UPPER)}
    inv_at = 1.0 / (alpha + T)
    out[:, col[0, 1]] = -inv_at
    out[:, col[1, 1]] = (r + x) * inv_at * inv_at
    out[:, col[2, 2]] = -s * T * T * rho * ((beta - 1.0) * inv_d)
    out[:, col[2, 3]] = -T * rho
    out[:, col[2, 4]] = s * T * rho * inv_d
    out[:, col[3, 4]] = 1.0 / beta - inv_d
    out[:, col[4, 4]] = -s / (beta * beta) + s * inv_d * inv_d
    return out


def _rows_with_hessian(params: FloatArray, x: FloatArray, tx: FloatArray, T: FloatArray, g: Grouping
                       ) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Per row: ``log(L/C)``, its gradient (n, 5) and its Hessian's upper triangle (n, 15, :data:`_UPPER` order).

    ``N = L/C = A(T) - J(T) + J(tx)``, so ``d^2 log N = [A_T (d^2 log A_T + d log A_T d log A_T^T) - d^2 J_T + d^2 J_tx]
    / N - d log N d log N^T``, with the dropout integrals differentiated twice under the integral on the same nodes
    (the cells' ``d2j``).
    """
    log_lc, _, c = _log_terms(params, x, tx, T, True, g, hess=True)
    assert c.dj is not None and c.d2j is not None
    share_T, share_t = _shares(log_lc, c)
    g_a = _log_dlogA(params, x, T)
    grad = g_a - c.dj[c.of_age]
    grad *= share_T[:, None]
    grad += share_t[:, None] * c.dj[c.of_recency]
    upper = _log_d2logA(params, x, T)
    for k, (i, j) in enumerate(_UPPER):
        upper[:, k] += g_a[:, i] * g_a[:, j]
    upper -= c.d2j[c.of_age]
    upper *= share_T[:, None]
    upper += share_t[:, None] * c.d2j[c.of_recency]
    for k, (i, j) in enumerate(_UPPER):
        upper[:, k] -= grad[:, i] * grad[:, j]
    return log_lc, grad, upper


def _full(upper: FloatArray) -> FloatArray:
    """(m, 5, 5) symmetric matrices from their upper triangles (m, 15)."""
    out = np.empty((upper.shape[0], 5, 5))
    for k, (i, j) in enumerate(_UPPER):
        out[:, i, j] = out[:, j, i] = upper[:, k]
    return out


def loglik_hessian(params: FloatArray, x: FloatArray, tx: FloatArray, T: FloatArray, groups: Grouping | None = None
                   ) -> tuple[FloatArray, FloatArray, FloatArray]:
    """:func:`loglik` and the per-row Hessian w.r.t. ``(r, alpha, b, s, beta)`` in one pass.

    The closed-form parts (``log Gamma(r+x) alpha^r / Gamma(r)``, ``log A``) are differentiated twice directly; the
    dropout integrals ``J`` twice under the integral, on the nodes of the value (the integration limits do not depend
    on the parameters): ``d^2 J = int h f [d^2 log(hf) + d log(hf) d log(hf)^T] dtau`` (:func:`_node_terms`), carried
    through the chain over the ages like the value. ``ll`` and ``grad`` equal :func:`loglik`'s to rounding (the node
    sums are the same sums, in products with more columns).

    Returns
    -------
    (ll, grad, hess):
        Shapes (n,), (n, 5), (n, 5, 5).

    Examples
    --------
    >>> import numpy as np
    >>> params = np.array([0.55, 10.6, 0.05, 0.61, 0.6])
    >>> x, tx, T = np.array([0.0, 2.0]), np.array([0.0, 30.43]), np.array([38.86, 38.86])
    >>> ll, grad, hess = loglik_hessian(params, x, tx, T)
    >>> bool(np.allclose(ll, loglik(params, x, tx, T)[0], rtol=1e-13)), hess.shape
    (True, (2, 5, 5))
    """
    r, alpha, _, _, _ = _split(params)
    g = group_rows(x, tx, T) if groups is None else groups
    log_lc, grad, upper = _rows_with_hessian(params, x, tx, T, g)
    a = r + g.x
    x_of = g.rows[:, 0]
    ll: FloatArray = (special.gammaln(a) - special.gammaln(r) + r * math.log(alpha))[x_of] + log_lc
    grad[:, 0] += (special.digamma(a) - special.digamma(r) + math.log(alpha))[x_of]
    grad[:, 1] += r / alpha
    hess = _full(upper)
    hess[:, 0, 0] += (special.zeta(2.0, a) - float(special.zeta(2.0, r)))[x_of]  # trigamma
    hess[:, 0, 1] += 1.0 / alpha
    hess[:, 1, 0] += 1.0 / alpha
    hess[:, 1, 1] -= r / (alpha * alpha)
    return ll, grad, hess


def loglik_hessian_summed(params: FloatArray, x: FloatArray, tx: FloatArray, T: FloatArray, weights: FloatArray,
                          groups: Grouping | None = None) -> tuple[FloatArray, FloatArray, FloatArray]:
    """``sum(weights * ll)``, ``sum(weights * grad)`` and ``sum(weights * hess)`` of :func:`loglik_hessian` (shapes
    (1,), (1, 5), (1, 5, 5)): the Hessian kernel of the summed likelihood :func:`loglik_summed` (the same value and
    gradient to rounding).

    As :func:`loglik_summed`, the terms that depend on a row's cells only are summed per (frequency, age) cell before
    they are applied; only ``d log N d log N^T`` needs each row's gradient.
    """
    r, alpha, _, _, _ = _split(params)
    g = group_rows(x, tx, T) if groups is None else groups
    log_lc, _, c = _log_terms(params, x, tx, T, True, g, hess=True)
    assert c.dj is not None and c.d2j is not None
    share_T, share_t = _shares(log_lc, c)
    m = c.log_a.shape[0]
    on_T = np.bincount(c.of_age, weights=weights * share_T, minlength=m)
    on_t = np.bincount(c.of_recency, weights=weights * share_t, minlength=m)
    used = np.flatnonzero(on_T)  # the cells of some row's (x, T)
    g_a = _log_dlogA(params, c.x[used], c.t[used])
    # einsum, not BLAS: a threaded dot on a busy machine costs milliseconds (see _estimation._objective).
    grad = np.einsum("i,ij->j", on_T[used], g_a)
    grad += np.einsum("i,ij->j", on_t - on_T, c.dj)
    h_a = _log_d2logA(params, c.x[used], c.t[used])
    for k, (i, j) in enumerate(_UPPER):
        h_a[:, k] += g_a[:, i] * g_a[:, j]
    upper = np.einsum("i,ij->j", on_T[used], h_a)
    upper += np.einsum("i,ij->j", on_t - on_T, c.d2j)
    # Each row's d log N (as in loglik) for the outer product.
    position = np.zeros(m, dtype=np.intp)
    position[used] = np.arange(used.shape[0])
    row_grad = g_a[position[c.of_age]]
    row_grad -= c.dj[c.of_age]
    row_grad *= share_T[:, None]
    row_grad += share_t[:, None] * c.dj[c.of_recency]
    outer = np.einsum("ij,ik->jk", row_grad * weights[:, None], row_grad)
    a = r + g.x
    per_x = np.bincount(g.rows[:, 0], weights=weights, minlength=a.shape[0])
    total = float(weights.sum())
    ll = (float(np.einsum("i,i->", per_x, special.gammaln(a))) + float(np.einsum("i,i->", weights, log_lc))
          + total * (r * math.log(alpha) - special.gammaln(r)))
    grad[0] += float(np.einsum("i,i->", per_x, special.digamma(a))) + total * (math.log(alpha) - special.digamma(r))
    grad[1] += total * r / alpha
    hess = _full(upper[None, :])[0] - outer
    hess[0, 0] += float(np.einsum("i,i->", per_x, special.zeta(2.0, a))) - total * float(special.zeta(2.0, r))
    hess[0, 1] += total / alpha
    hess[1, 0] += total / alpha
    hess[1, 1] -= total * r / (alpha * alpha)
    return np.array([ll]), grad[None, :], hess[None, :, :]


# --------------------------------------------------------------------------------------------------
# Predictions
# --------------------------------------------------------------------------------------------------
def log_probability_alive(params: FloatArray, x: FloatArray, tx: FloatArray, T: FloatArray) -> FloatArray:
    """``log P(alive at T | x, tx, T) = log[(alpha+T)^-(r+x) S(T) / (L/C)]`` (Bemmaor & Glady 2012, eq. 9)."""
    return _log_terms(params, x, tx, T, False)[1]


def probability_alive(params: FloatArray, x: FloatArray, tx: FloatArray, T: FloatArray) -> FloatArray:
    """P(alive at T | x, tx, T) in ``[0, 1]``."""
    out: FloatArray = np.exp(log_probability_alive(params, x, tx, T))
    return out


def _panels(scale: FloatArray, length: FloatArray) -> tuple[FloatArray, FloatArray]:
    """16-point Gauss-Legendre nodes and weights on ``[0, length]`` per row, panels of widths ``scale 2^k``.

    Shapes (m, P*16); panels beyond a row's ``length`` have zero width.
    """
    ratio = np.where(length > 0.0, length / np.maximum(scale, 1e-300), 1.0)
    count = int(min(_MAX_PANELS, max(1, int(np.ceil(np.log2(float(np.max(ratio, initial=1.0)) + 1.0))))))
    k = np.arange(count)
    edges = np.concatenate([np.zeros((scale.shape[0], 1)), scale[:, None] * (np.exp2(k + 1) - 1.0)[None, :]], axis=1)
    edges = np.minimum(edges, length[:, None])
    edges[:, -1] = length
    half = 0.5 * (edges[:, 1:] - edges[:, :-1])
    mid = 0.5 * (edges[:, 1:] + edges[:, :-1])
    nodes = (mid[:, :, None] + half[:, :, None] * _GL16_NODES).reshape(scale.shape[0], -1)
    weights = (half[:, :, None] * _GL16_WEIGHTS).reshape(scale.shape[0], -1)
    return nodes, weights


def _hazard_scale(params: FloatArray, T: FloatArray) -> FloatArray:
    """``1 / max hazard`` over ``[T, inf)``: the hazard ``s b / den(tau)`` is at most ``s b / min(1, den(T))``."""
    _, _, b, s, beta = _split(params)
    out: FloatArray = np.minimum(1.0, np.exp(_log_den(b, beta, T))) / (s * b)
    return out


def _log_survival_ratio(params: FloatArray, T: FloatArray, u: FloatArray) -> FloatArray:
    """``log S(T+u) - log S(T) = -s [b u + log den(T+u) - log den(T)]`` for ``T`` of shape (m,), ``u`` (m, k)."""
    _, _, b, s, beta = _split(params)
    out: FloatArray = -s * (b * u + _log_den(b, beta, T[:, None] + u) - _log_den(b, beta, T)[:, None])
    return out


def _survival_integral(params: FloatArray, T: FloatArray, t: FloatArray, delta: float) -> FloatArray:
    """``int_0^t e^{-delta u} S(T+u) / S(T) du`` per row (``t`` may be ``inf`` when ``delta > 0``)."""
    if T.shape[0] == 0:
        return np.zeros(0)
    scale = _hazard_scale(params, T)
    length = np.asarray(t, dtype=np.float64)
    if delta > 0.0:
        scale = np.minimum(scale, 1.0 / delta)
        length = np.minimum(length, 40.0 / delta)  # e^-40: beyond the last digit
    scale = np.minimum(scale, np.where(length > 0.0, length, 1.0))
    out = np.empty(T.shape[0])
    for start in range(0, T.shape[0], _CHUNK):
        sl = slice(start, start + _CHUNK)
        u, w = _panels(scale[sl], length[sl])
        out[sl] = (w * np.exp(_log_survival_ratio(params, T[sl], u) - delta * u)).sum(axis=1)
    return out


def expected_purchases(params: FloatArray, x: FloatArray, tx: FloatArray, T: FloatArray, t: FloatArray
                       ) -> FloatArray:
    """E[X(T, T+t) | x, tx, T] = P(alive) (r+x)/(alpha+T) int_0^t S(T+u)/S(T) du (Bemmaor & Glady 2012, eq. 10).

    Given alive at ``T``, the purchase rate is ``Gamma(r+x, alpha+T)`` and the lifetime's conditional survival is
    ``S(T+u)/S(T)``, independent of the rate.
    """
    r, alpha, _, _, _ = _split(params)
    x, tx, T, t = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (x, tx, T, t)))
    shape = x.shape
    x, tx, T, t = (v.reshape(-1) for v in (x, tx, T, t))
    pa = probability_alive(params, x, tx, T)
    out: FloatArray = pa * (r + x) / (alpha + T) * _survival_integral(params, T, t, 0.0)
    return out.reshape(shape)


expected_purchases_path = partial(path_over_distinct_rows, expected_purchases)


def discounted_residual(params: FloatArray, x: FloatArray, tx: FloatArray, T: FloatArray, d: float) -> FloatArray:
    """DERT at the discrete rate ``d`` per time unit: ``P(alive) (r+x)/(alpha+T) int_0^inf e^{-delta u} S(T+u)/S(T)
    du`` with ``delta = log(1 + d)`` (the continuous discounting of Fader, Hardie & Lee 2005, applied to this
    model's conditional expected purchase rate)."""
    r, alpha, _, _, _ = _split(params)
    delta = math.log1p(d)
    pa = probability_alive(params, x, tx, T)
    out: FloatArray = pa * (r + x) / (alpha + T) * _survival_integral(params, T, np.full(T.shape, np.inf), delta)
    return out


def probability_of_purchases(params: FloatArray, x: FloatArray, tx: FloatArray, T: FloatArray, n: FloatArray,
                             t: FloatArray) -> FloatArray:
    """P(X(T, T+t) = n | x, tx, T).

    Given the data, a customer alive at ``T`` with dropout at ``tau`` makes ``Poisson(lambda min(t, tau - T))``
    purchases, ``lambda ~ Gamma(r+x, alpha+T)``. So, with ``K = Gamma(r+x+n) / (Gamma(r+x) n!)``,

        P(n) = 1{n=0} (1 - P(alive)) + P(alive) K [ (t/(alpha+T+t))^n ((alpha+T)/(alpha+T+t))^(r+x) S(T+t)/S(T)
               + int_0^t (u/(alpha+T+u))^n ((alpha+T)/(alpha+T+u))^(r+x) f(T+u)/S(T) du ],

    the integral by Gauss-Legendre on doubling panels, in log space.
    """
    r, alpha, b, s, beta = _split(params)
    x, tx, T, n, t = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (x, tx, T, n, t)))
    shape = x.shape
    x, tx, T, n, t = (v.reshape(-1) for v in (x, tx, T, n, t))
    pa = probability_alive(params, x, tx, T)
    a = r + x
    log_k = special.gammaln(a + n) - special.gammaln(a) - special.gammaln(n + 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        base = a * -np.log1p(t / (alpha + T)) + log_survival(params, T + t) - log_survival(params, T)
        at_end = np.where(n > 0, n * (np.log(t) - np.log(alpha + T + t)), 0.0) + base
    at_end = np.where(t > 0, at_end, np.where(n > 0, -np.inf, 0.0))
    scale = np.minimum(_hazard_scale(params, T), (alpha + T) / (a + n))
    scale = np.minimum(scale, np.where(t > 0, t, 1.0))
    before = np.full(x.shape[0], -np.inf)
    for start in range(0, x.shape[0], _CHUNK):
        sl = slice(start, start + _CHUNK)
        u, w = _panels(scale[sl], t[sl])
        Ts, as_, ns = T[sl, None], a[sl, None], n[sl, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            log_f = (np.where(ns > 0, ns * (np.log(u) - np.log(alpha + Ts + u)), 0.0)
                     - as_ * np.log1p(u / (alpha + Ts)) + _log_survival_ratio(params, T[sl], u)
                     + math.log(s * b) - _log_den(b, beta, Ts + u))
            log_f = np.where(w > 0, log_f + np.log(w), -np.inf)
        top = np.max(log_f, axis=1, initial=-np.inf)
        finite = np.isfinite(top)
        with np.errstate(divide="ignore", invalid="ignore"):
            part = top + np.log(np.exp(log_f - np.where(finite, top, 0.0)[:, None]).sum(axis=1))
        before[sl] = np.where(finite, part, -np.inf)
    alive = np.exp(log_k + np.logaddexp(at_end, before))
    out: FloatArray = np.where(n == 0, 1.0 - pa, 0.0) + pa * alive
    return np.clip(out, 0.0, 1.0).reshape(shape)


def expected_purchases_new(params: FloatArray, t: FloatArray) -> FloatArray:
    """E[X(t)] of a newly acquired customer: ``r/alpha int_0^t S(u) du`` (Bemmaor & Glady 2012, eq. 8)."""
    return fresh_customer_expectation(expected_purchases, params, t)


probability_of_purchases_new = partial(fresh_customer_pmf, probability_of_purchases)


def simulate(params: FloatArray, T: FloatArray, rng: np.random.Generator) -> tuple[FloatArray, FloatArray]:
    """Draw ``(frequency, recency)`` under the Gamma-Gompertz/NBD model.

    ``lambda ~ Gamma(r, rate alpha)``, ``eta ~ Gamma(s, rate beta)``; the Gompertz lifetime given ``eta`` has
    ``S(tau | eta) = exp(-eta (e^{b tau} - 1))``, so ``tau = log1p(E / eta) / b`` with ``E ~ Exponential(1)``; the
    customer buys as a Poisson process over ``(0, min(tau, T)]``.
    """
    r, alpha, b, s, beta = _split(params)
    T = np.asarray(T, dtype=np.float64)
    size = T.shape[0]
    lam = rng.gamma(shape=r, scale=1.0 / alpha, size=size)
    eta = rng.gamma(shape=s, scale=1.0 / beta, size=size)
    e = rng.exponential(1.0, size=size)
    with np.errstate(divide="ignore", over="ignore"):
        tau = np.where(eta > 0.0, np.log1p(e / np.maximum(eta, 1e-300)) / b, np.inf)
    window = np.minimum(tau, T)
    N = rng.poisson(lam * window).astype(np.float64)
    return last_of_first(N, N, window, rng)
