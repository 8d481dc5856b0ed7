"""Pure kernels of the Gamma-Gamma model of spend per transaction (arrays in, arrays out).

References: P. S. Fader, B. G. S. Hardie and K. L. Lee (2005), "RFM and CLV: Using Iso-Value Curves for
Customer Base Analysis", Journal of Marketing Research 42(4), 415-430; P. S. Fader and B. G. S. Hardie
(2013), "The Gamma-Gamma Model of Monetary Value", note 025 at brucehardie.com - likelihood eq. (3),
conditional expectation eq. (5). ``params`` is ``(p, q, v)`` (the note writes ``gamma`` for ``v``);
``x`` is the number of repeat transactions and ``m`` their mean value (x > 0, m > 0 for the likelihood).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import special

__all__ = ["expected_spend", "loglik"]

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


def expected_spend(params: FloatArray, x: FloatArray, m: FloatArray) -> FloatArray:
    """E[spend per transaction | x, m] = (p (v + x m)) / (p x + q - 1), eq. (5); needs q > 1.

    A weighted average of the population mean ``p v / (q - 1)`` and the customer's own mean ``m``;
    for x = 0 it is the population mean.
    """
    p, q, v = (float(val) for val in params)
    out: FloatArray = p * (v + x * m) / (p * x + q - 1.0)
    return out
