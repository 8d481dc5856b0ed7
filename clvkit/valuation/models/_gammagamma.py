"""Pure kernels of the Gamma-Gamma model of spend per transaction (arrays in, arrays out).

References: P. S. Fader, B. G. S. Hardie and K. L. Lee (2005), "RFM and CLV: Using Iso-Value Curves for
Customer Base Analysis", Journal of Marketing Research 42(4), 415-430; P. S. Fader and B. G. S. Hardie
(2013), "The Gamma-Gamma Model of Monetary Value", note 025 at brucehardie.com - likelihood eq. (3),
conditional expectation eq. (5). ``params`` is ``(p, q, v)`` (the note writes ``gamma`` for ``v``);
``x`` is the number of repeat transactions and ``m`` their mean value (x > 0, m > 0 for the likelihood).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import special

__all__ = ["average_spend_logpdf", "expected_spend", "loglik", "loglik_summed", "sufficient_statistics"]

FloatArray = npt.NDArray[np.float64]


def loglik(params: FloatArray, x: FloatArray, m: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Log density of the observed mean spend ``m`` of ``x`` transactions, and its gradient.

    ``f(m | p, q, v, x) = Gamma(px+q) / (Gamma(px) Gamma(q)) * v^q m^(px-1) x^(px) / (v + x m)^(px+q)``.

    Returns
    -------
    (ll, grad):
        ``ll`` of shape (n,), ``grad`` of shape (n, 3) w.r.t. ``(p, q, v)``.
    """
    p, q, v = (float(val) for val in params)
    px = p * x
    log_m = np.log(m)
    log_x = np.log(x)
    log_vxm = np.log(v + x * m)
    ll: FloatArray = (special.gammaln(px + q) - special.gammaln(px) - special.gammaln(q) + q * np.log(v)
                      + (px - 1.0) * log_m + px * log_x - (px + q) * log_vxm)
    dig = special.digamma(px + q)
    grad = np.empty((x.shape[0], 3))
    grad[:, 0] = x * (dig - special.digamma(px) + log_m + log_x - log_vxm)
    grad[:, 1] = dig - special.digamma(q) + np.log(v) - log_vxm
    grad[:, 2] = q / v - (px + q) / (v + x * m)
    return ll, grad


def sufficient_statistics(x: FloatArray, m: FloatArray, w: FloatArray) -> dict[str, FloatArray]:
    """What :func:`loglik_summed` needs: per-frequency weights and the parameter-free sums.

    Of the likelihood's terms only ``log(v + x m)`` involves both a parameter and a customer's own
    spend; the gamma functions depend on ``x`` alone (a few hundred distinct values) and the rest are
    sums formed once here. So one evaluation costs one ``log`` and one reciprocal per customer.
    """
    x_unique, x_code = np.unique(x, return_inverse=True)
    w_x = np.bincount(x_code.reshape(-1), weights=w, minlength=x_unique.shape[0])
    log_m, log_x = np.log(m), np.log(x)
    wx = w * x
    total = float(w.sum())
    return {
        "x_unique": x_unique,
        "w_x": w_x,
        "xm": x * m,
        "w": w,
        "wx": wx,
        # sum w [(p x - 1) log m + p x log x]  =  p * s_xlogm_xlogx - s_logm
        "s_xlogm_xlogx": np.array([float(np.sum(wx * (log_m + log_x)))]),
        "s_logm": np.array([float(np.sum(w * log_m))]),
        "total": np.array([total]),
        "mean_m": np.array([float(np.sum(w * m)) / total if total > 0 else 0.0]),
    }


def loglik_summed(params: FloatArray, stats: Mapping[str, npt.NDArray[Any]]) -> tuple[FloatArray, FloatArray]:
    """The weighted total of :func:`loglik` and its gradient, from :func:`sufficient_statistics`.

    Returns
    -------
    (ll, grad):
        Arrays of shape (1,) and (1, 3).
    """
    p, q, v = (float(val) for val in params)
    xu, w_x, w, wx = stats["x_unique"], stats["w_x"], stats["w"], stats["wx"]
    total = float(stats["total"][0])
    pxu = p * xu
    dig = special.digamma(pxu + q)
    lg = special.gammaln(pxu + q) - special.gammaln(pxu)
    s = v + stats["xm"]
    log_s = np.log(s)
    inv_s = 1.0 / s
    # Pairwise sums, not BLAS dots: a threaded ddot costs milliseconds on a busy machine, and the pairwise sum's
    # rounding barely depends on the order of the customers (the in-memory and the Dask route order them differently).
    s_wx_logs, s_w_logs = float(np.sum(wx * log_s)), float(np.sum(w * log_s))
    s_wx_inv, s_w_inv = float(np.sum(wx * inv_s)), float(np.sum(w * inv_s))
    s1 = float(stats["s_xlogm_xlogx"][0])
    ll = (float(w_x @ lg) - total * float(special.gammaln(q)) + total * q * np.log(v)
          + p * s1 - float(stats["s_logm"][0]) - p * s_wx_logs - q * s_w_logs)
    grad = np.array([
        float(w_x @ (xu * (dig - special.digamma(pxu)))) + s1 - s_wx_logs,
        float(w_x @ dig) - total * float(special.digamma(q)) + total * np.log(v) - s_w_logs,
        total * q / v - p * s_wx_inv - q * s_w_inv,
    ])
    return np.array([ll]), grad.reshape(1, 3)


def expected_spend(params: FloatArray, x: FloatArray, m: FloatArray) -> FloatArray:
    """E[spend per transaction | x, m] = (p (v + x m)) / (p x + q - 1), eq. (5); needs q > 1.

    A weighted average of the population mean ``p v / (q - 1)`` and the customer's own mean ``m``;
    for x = 0 it is the population mean.
    """
    p, q, v = (float(val) for val in params)
    out: FloatArray = p * (v + x * m) / (p * x + q - 1.0)
    return out


def average_spend_logpdf(params: FloatArray, x: FloatArray, m: FloatArray) -> FloatArray:
    """Log density of the mean spend ``m`` of ``x`` transactions of a random customer (Fader & Hardie 2013, eq. 3).

    The same expression as the likelihood :func:`loglik`, without the gradient; ``x >= 1`` and ``m > 0``.
    """
    shape = np.broadcast_shapes(np.shape(x), np.shape(m))
    x1 = np.broadcast_to(x, shape).reshape(-1)
    m1 = np.broadcast_to(m, shape).reshape(-1)
    ll, _grad = loglik(params, x1, m1)
    out: FloatArray = ll.reshape(shape)
    return out
