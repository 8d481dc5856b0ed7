"""Kernel building blocks a count model can use when it has no closed form of its own.

Pure functions of arrays (no Pydantic, no I/O), each taking the model's own kernel function:

- :func:`path_over_distinct_rows` - expected purchases at many horizons, evaluated once per distinct
  ``(x, t_x, T)`` row;
- :func:`weighted_sum_over_distinct_rows` - a weighted sum over horizons of the expected purchases (e.g. the
  discounted purchases of :func:`clvkit.valuation.clv`) from the path, per distinct row, in bounded memory;
- :func:`discounted_residual_from_path` - DERT, the discounted expected residual transactions, from the
  expected-purchases path by a quadrature that converges exponentially;
- :func:`fresh_customer_pmf` - the purchase PMF of a newly acquired customer from the conditional one.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from ..._rows import unique_rows

__all__ = [
    "discounted_residual_from_path",
    "fresh_customer_expectation",
    "fresh_customer_pmf",
    "path_over_distinct_rows",
    "weighted_sum_over_distinct_rows",
]

FloatArray = npt.NDArray[np.float64]
Expected = Callable[[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray], FloatArray]
Path = Callable[[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray], FloatArray]
WeightedSum = Callable[[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray, FloatArray], FloatArray]
Conditional = Callable[[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray, FloatArray], FloatArray]

# Trapezoid rule in s = log(delta * t) on [log 1e-12, log 60]: the integrand v e^-v E[X(v/delta)] is smooth
# in s and decays like v^2 below and e^-v above, so the rule converges exponentially in the step (checked
# against the Pareto/NBD closed form: relative error 6e-10 at step 0.4, 1e-15 at 0.25, for discount rates
# from 1e-6 to 5 per time unit). The part below 1e-12 is below 1e-24 of the total.
_LOG_V = np.arange(math.log(1e-12), math.log(60.0), 0.25)
_V = np.exp(_LOG_V)
_WEIGHTS = 0.25 * _V * np.exp(-_V)
for _table in (_LOG_V, _V, _WEIGHTS):
    _table.flags.writeable = False

#: Most (horizon x row) values of the expected-purchases path a weighted sum evaluates at once (2 MiB of float64;
#: the kernels hold ~20 temporaries of this size, so ~40 MiB at most, and the calls are long enough to amortise).
PATH_CHUNK_CELLS = 1 << 18



def weighted_sum_over_pairs(factor: Callable[[FloatArray, FloatArray, FloatArray], FloatArray], x: FloatArray,
                            T: FloatArray, ts: FloatArray, weights: FloatArray
                            ) -> tuple[FloatArray, FloatArray, npt.NDArray[np.intp]]:
    """``sum_k weights[j, k] factor(x, T, ts[k])`` once per distinct ``(x, T)`` pair: ``(sums, x of the pairs, code)``.

    ``sums`` has shape (m, n_pairs) for ``weights`` of shape (m, len(ts)); ``code`` maps each row to its pair. The
    factor is evaluated for chunks of horizons of at most ``PATH_CHUNK_CELLS`` values (bounded memory).
    """
    (xu, Tu), _, code = unique_rows([x, T], np.ones(x.shape[0]))
    n_pairs = xu.shape[0]
    sums = np.zeros((weights.shape[0], n_pairs))
    step = max(1, PATH_CHUNK_CELLS // max(1, n_pairs))
    for lo in range(0, ts.shape[0], step):
        hi = min(ts.shape[0], lo + step)
        values = factor(np.tile(xu, hi - lo), np.tile(Tu, hi - lo), np.repeat(ts[lo:hi], n_pairs))
        sums += weights[:, lo:hi] @ values.reshape(hi - lo, n_pairs)
    return sums, xu, code

def path_over_distinct_rows(expected: Expected, params: FloatArray, x: FloatArray, tx: FloatArray, T: FloatArray,
                            ts: FloatArray) -> FloatArray:
    """``expected(params, x, tx, T, t)`` at every ``t`` of the 1-D ``ts``, shape (len(ts), n).

    Expected purchases depend on the customer only through ``(x, t_x, T)``: each distinct row is evaluated
    once per horizon and the result expanded.
    """
    (ux, utx, uT), _, inverse = unique_rows([x, tx, T], np.ones(x.shape[0]))
    out = np.empty((ts.shape[0], ux.shape[0]))
    for i, t in enumerate(ts):
        out[i] = expected(params, ux, utx, uT, np.full(ux.shape[0], t))
    result: FloatArray = out[:, inverse]
    return result


def weighted_sum_over_distinct_rows(path: Path, params: FloatArray, x: FloatArray, tx: FloatArray, T: FloatArray,
                                    ts: FloatArray, weights: FloatArray) -> FloatArray:
    """``sum_k weights[..., k] E[X(ts[k])]`` per customer from the path kernel, never a (len(ts) x n) array.

    Parameters
    ----------
    path:
        The model's ``expected_purchases_path(params, x, tx, T, ts)``, shape (len(ts), rows).
    params, x, tx, T:
        As for the path; ``x, tx, T`` of shape (n,).
    ts:
        Horizons, shape (h,).
    weights:
        Shape (h,) or (m, h): one or ``m`` weightings of the horizons (e.g. discount weights and the last
        horizon's indicator).

    Returns
    -------
    numpy.ndarray of shape (n,) or (m, n)
        ``weights @ path(ts)``, computed per distinct ``(x, t_x, T)`` row (expected purchases depend on the
        customer only through it) in chunks of at most :data:`PATH_CHUNK_CELLS` path values, then expanded.
    """
    w = np.asarray(weights, dtype=np.float64)
    w2 = w.reshape(1, -1) if w.ndim == 1 else w
    if x.shape[0] * ts.shape[0] <= PATH_CHUNK_CELLS:  # a small path: the kernel de-duplicates it itself
        small: FloatArray = w2 @ path(params, x, tx, T, ts)
        return small[0] if w.ndim == 1 else small
    (ux, utx, uT), _, inverse = unique_rows([x, tx, T], np.ones(x.shape[0]))
    n_rows = ux.shape[0]
    sums = np.empty((w2.shape[0], n_rows))
    step = max(1, PATH_CHUNK_CELLS // max(1, ts.shape[0]))
    for lo in range(0, n_rows, step):
        hi = min(n_rows, lo + step)
        sums[:, lo:hi] = w2 @ path(params, ux[lo:hi], utx[lo:hi], uT[lo:hi], ts)
    out: FloatArray = sums.take(inverse, axis=1)
    return out[0] if w.ndim == 1 else out


def discounted_residual_from_path(path: Path, params: FloatArray, x: FloatArray, tx: FloatArray, T: FloatArray,
                                  d: float) -> FloatArray:
    """DERT at the discrete rate ``d`` per time unit, from the expected-purchases path.

    With ``delta = log(1 + d)``, integration by parts gives
    ``DERT = int_0^inf e^(-delta t) dE[X(t)] = int_0^inf e^(-v) E[X(v / delta)] dv`` (``E[X(0)] = 0``), which is
    evaluated by the trapezoid rule in ``log v``.
    """
    delta = math.log1p(d)
    values = path(params, x, tx, T, _V / delta)
    result: FloatArray = _WEIGHTS @ values
    return result


def fresh_customer_expectation(expected: Expected, params: FloatArray, t: FloatArray) -> FloatArray:
    """E[X(t)] of a newly acquired customer: the conditional expectation at ``x = t_x = T = 0`` (shape of ``t``)."""
    t_arr = np.asarray(t, dtype=np.float64)
    zeros = np.zeros_like(t_arr)
    return expected(params, zeros, zeros, zeros, t_arr)


def fresh_customer_pmf(conditional: Conditional, params: FloatArray, n: FloatArray, t: FloatArray) -> FloatArray:
    """P(X(t) = n) of a newly acquired customer: the conditional PMF at ``x = t_x = T = 0``."""
    n_b, t_b = np.broadcast_arrays(np.asarray(n, dtype=np.float64), np.asarray(t, dtype=np.float64))
    zeros = np.zeros(n_b.size)
    out = conditional(params, zeros, zeros, zeros, n_b.reshape(-1), t_b.reshape(-1))
    result: FloatArray = np.asarray(out, dtype=np.float64).reshape(n_b.shape)
    return result
