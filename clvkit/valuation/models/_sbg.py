"""Pure kernels of the shifted-beta-geometric (sBG) contract model (arrays in, arrays out).

Model (Fader & Hardie 2007, "How to Project Customer Retention", Journal of Interactive Marketing 21(1),
76-90, section 3): at the end of every period an active customer cancels with probability ``theta``
(fixed for the customer), so the lifetime ``T`` (the period in which the contract ends) is shifted
geometric, ``P(T = t | theta) = theta (1 - theta)^(t-1)``; across customers ``theta ~ Beta(alpha, beta)``.
Integrating ``theta`` out gives

    P(T = t | alpha, beta) = B(alpha + 1, beta + t - 1) / B(alpha, beta),    t = 1, 2, ...
    S(t | alpha, beta)     = P(T > t) = B(alpha, beta + t) / B(alpha, beta), t = 0, 1, ...
    r_t = S(t) / S(t - 1)  = (beta + t - 1) / (alpha + beta + t - 1)          (retention rate, t >= 1)

and, for a customer who has made ``n - 1`` renewals, the discounted expected residual lifetime of Fader &
Hardie (2010, "Customer-Base Valuation in a Contractual Setting: The Perils of Ignoring Heterogeneity",
Marketing Science 29(1), 85-93, eq. 6)

    DERL(d | alpha, beta, n - 1 renewals)
        = sum_{t >= n} d^-(t-n) S(t) / S(n - 1)        (d^-k meaning (1 + d)^-k)
        = (beta + n - 1) / (alpha + beta + n - 1) * 2F1(1, beta + n; alpha + beta + n; 1 / (1 + d)).

``params`` is always the array ``(alpha, beta)``. Everything is evaluated in log space with ``betaln``.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from scipy import special

__all__ = ["derl", "derl_rows", "expected_lifetime", "log_survival", "loglik", "probability_churn", "retention_rate",
           "survival"]

FloatArray = npt.NDArray[np.float64]

# The continued fraction below converges like exp(-4 k sqrt(d)); below this discount rate the number of
# terms grows past ~1000 and the adaptive quadrature is the faster of the two exact methods.
_CF_MIN_DISCOUNT = 1e-4
_CF_MAX_TERMS = 20_000
_TINY = 1e-300


def log_survival(alpha: float, beta: float, t: FloatArray) -> FloatArray:
    """``log S(t) = log B(alpha, beta + t) - log B(alpha, beta)`` (Fader & Hardie 2007, section 3).

    Accurate to about 1e-11 absolute (hence relative in ``S``) for parameters in [1e-3, 1e3] and
    ``t`` up to 1e4; 0 at ``t = 0``.
    """
    out: FloatArray = special.betaln(alpha, beta + t) - special.betaln(alpha, beta)
    return out


def loglik(params: FloatArray, duration: FloatArray, churned: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Per-contract log-likelihood and its gradient w.r.t. ``(alpha, beta)``.

    A contract that churned in period ``t`` contributes ``log P(T = t)``, one still active after ``t``
    periods contributes ``log S(t)`` (Fader & Hardie 2007, the likelihood of section 4 / appendix:
    ``LL = sum_t n_t log P(T = t) + (survivors) log S(t_max)``). Both are written through ``m``, the
    number of renewals the contract made (``t - 1`` if churned, ``t`` if active), as
    ``log S(m) + churned * log(alpha / (alpha + beta + t - 1))`` because ``P(T = t) = S(t - 1)(1 - r_t)``.

    Parameters
    ----------
    params:
        ``(alpha, beta)``, positive.
    duration:
        Array of shape (n,): ``t`` (see :class:`clvkit.ContractSummary`).
    churned:
        Array of shape (n,) of 0/1 (or booleans).

    Returns
    -------
    (ll, grad):
        ``ll`` of shape (n,), ``grad`` of shape (n, 2).
    """
    alpha, beta = (float(v) for v in params)
    c = np.asarray(churned, dtype=np.float64)
    t = np.asarray(duration, dtype=np.float64)
    m = t - c
    ab = alpha + beta
    last = ab + t - 1.0  # alpha + beta + t - 1, used only where c == 1 (t >= 1 there, so it is > 0)
    ll: FloatArray = log_survival(alpha, beta, m) + c * (math.log(alpha) - np.log(np.where(c > 0, last, 1.0)))
    # d/dalpha log S(m) = psi(a+b) - psi(a+b+m); the churn term adds 1/a - 1/(a+b+m), which together
    # is 1/a + psi(a+b) - psi(a+b+t) (psi(x+1) = psi(x) + 1/x).
    common = special.digamma(ab) - special.digamma(ab + t)
    grad = np.empty((t.shape[0], 2))
    grad[:, 0] = c / alpha + common
    grad[:, 1] = special.digamma(beta + m) - special.digamma(beta) + common
    return ll, grad


def survival(params: FloatArray, t: FloatArray) -> FloatArray:
    """``S(t) = P(T > t)``, the share of a cohort still active after ``t`` periods (F&H 2007, section 3)."""
    alpha, beta = (float(v) for v in params)
    out: FloatArray = np.exp(log_survival(alpha, beta, np.asarray(t, dtype=np.float64)))
    return out


def probability_churn(params: FloatArray, t: FloatArray) -> FloatArray:
    """``P(T = t) = B(alpha + 1, beta + t - 1) / B(alpha, beta)`` for ``t >= 1``, 0 at ``t = 0``.

    Fader & Hardie (2007, section 3), evaluated as ``S(t - 1) * alpha / (alpha + beta + t - 1)``.
    """
    alpha, beta = (float(v) for v in params)
    t_arr = np.asarray(t, dtype=np.float64)
    pos = t_arr >= 1.0
    ts = np.where(pos, t_arr, 1.0)
    logp = log_survival(alpha, beta, ts - 1.0) + math.log(alpha) - np.log(alpha + beta + ts - 1.0)
    out: FloatArray = np.where(pos, np.exp(logp), 0.0)
    return out


def retention_rate(params: FloatArray, t: FloatArray) -> FloatArray:
    """``r_t = (beta + t - 1) / (alpha + beta + t - 1)``: share of period-``t`` customers renewing (t >= 1).

    Fader & Hardie (2007, section 3): increasing in ``t`` (a sorting effect of the heterogeneity).
    """
    alpha, beta = (float(v) for v in params)
    t_arr = np.asarray(t, dtype=np.float64)
    out: FloatArray = (beta + t_arr - 1.0) / (alpha + beta + t_arr - 1.0)
    return out


def expected_lifetime(params: FloatArray) -> float:
    """``E[T] = sum_{t>=0} S(t) = (alpha + beta - 1) / (alpha - 1)`` for ``alpha > 1``, else ``inf``.

    ``E[1/theta]`` under ``Beta(alpha, beta)``; the mean lifetime of a newly acquired customer, counting
    the first period.
    """
    alpha, beta = (float(v) for v in params)
    if alpha <= 1.0:
        return math.inf
    return (alpha + beta - 1.0) / (alpha - 1.0)


# ---------------------------------------------------------------------------- DERL
def _hyp_cf(alpha: float | FloatArray, b: FloatArray, d: float) -> tuple[FloatArray, bool]:
    """``2F1(1, b; b + alpha; 1/(1+d))`` by the J-fraction of a Beta distribution's Stieltjes transform.

    With ``x ~ Beta(b, alpha)`` and ``u = 1 + d``, ``2F1(1, b; b + alpha; 1/u) = E[u / (u - x)]``, and
    ``E[1/(u - x)] = 1/(u - a_0 - b_1^2/(u - a_1 - b_2^2/(u - ...)))`` where ``a_k, b_k`` are the
    recurrence coefficients of the monic Jacobi polynomials orthogonal for this Beta weight (shifted to
    [0, 1]). ``alpha`` may be an array of ``b``'s shape (one value per entry). All partial denominators are
    positive for ``u > 1`` and the convergents are Gauss-quadrature
    (Pade) values, so the fraction converges for every ``d > 0``, at a rate about ``exp(-4 k sqrt(d))``,
    with no cancellation: ``u - a_k`` is formed as ``d + (1 - a_k)`` from an all-positive expression.
    (scipy's ``hyp2f1`` was rejected here: near ``z = 1`` with ``b`` in the thousands it returns NaN or
    loses all digits through the ``1 - z`` connection formula.)

    Returns the values and whether every entry converged.
    """
    A = alpha - 1.0  # Jacobi exponent of (1 - x)
    B = b - 1.0  # Jacobi exponent of x

    def denom(k: int) -> FloatArray:
        if k == 0:
            return d + alpha / (alpha + b)  # u - E[x]
        p = 2.0 * k + A + B
        # 1 - a_k on [0, 1] is (1 - a_k^J)/2 with a_k^J = (B^2 - A^2)/(p (p + 2)); its numerator
        # p (p + 2) - (B^2 - A^2) equals the all-positive form below.
        one_minus_a = (2.0 * (k + A + 1.0) * p + 2.0 * k * (B - A)) / (2.0 * p * (p + 2.0))
        result: FloatArray = d + one_minus_a
        return result

    def numer(k: int) -> FloatArray:
        p = 2.0 * k + A + B
        if k == 1:  # the general form has (k + A + B) / (p - 1) = 0/0 when alpha + b = 1
            val: FloatArray = (1.0 + A) * (1.0 + B) / (p * p * (p + 1.0))
        else:
            val = k * (k + A) * (k + B) * (k + A + B) / (p * p * (p + 1.0) * (p - 1.0))
        return -val

    # Modified Lentz evaluation of f = t_0 + n_1/(t_1 + n_2/(t_2 + ...)); E[1/(u - x)] = 1/f.
    f = denom(0).copy()
    C = f.copy()
    D = np.zeros_like(f)
    active = np.ones(f.shape, dtype=bool)
    for k in range(1, _CF_MAX_TERMS):
        nk = numer(k)
        tk = denom(k)
        D = tk + nk * D
        D = np.where(D == 0.0, _TINY, D)
        C = tk + nk / C
        C = np.where(C == 0.0, _TINY, C)
        D = 1.0 / D
        delta = C * D
        f = np.where(active, f * delta, f)
        active &= np.abs(delta - 1.0) > 1e-16
        if not active.any():
            break
    out: FloatArray = (1.0 + d) / f
    return out, not active.any()


def _hyp_quad(alpha: float, b: float, d: float) -> float:
    """``2F1(1, b; b + alpha; 1/(1+d)) = (1 + d) E[1/(d + theta)]`` with ``theta ~ Beta(alpha, b)``.

    The expectation is integrated adaptively over ``w = log(theta)``; below ``w0`` (where ``theta`` is
    negligible against both ``d`` and ``1/b``) the integrand is ``e^(alpha w)/d`` to relative 1e-17 and
    the tail is integrated in closed form. Used for small ``d``, where the continued fraction is slow.
    """
    log_b = float(special.betaln(alpha, b))

    def integrand(w: float) -> float:
        if w >= 0.0:
            return 0.0
        th = math.exp(w)
        return math.exp(alpha * w + (b - 1.0) * math.log(-math.expm1(w)) - log_b) / (d + th)

    w0 = min(math.log(d), -math.log1p(b), 0.0) - 40.0
    tail = math.exp(alpha * w0 - log_b) / (alpha * d)
    marks = sorted({p for p in (math.log(d), -math.log1p(b), math.log(alpha / (alpha + b))) if w0 < p < 0.0})
    from scipy import integrate  # only for discount rates below 1e-4; keeps import time low

    body, _ = integrate.quad(integrand, w0, 0.0, points=marks or None, epsabs=0.0, epsrel=1e-13, limit=500)
    return (1.0 + d) * (float(body) + tail)


def derl(params: FloatArray, renewals: FloatArray, d: float) -> FloatArray:
    """Discounted expected residual lifetime, Fader & Hardie (2010), eq. (6).

    Parameters
    ----------
    params:
        ``(alpha, beta)``.
    renewals:
        Array of renewals already made (``n - 1`` in the paper's notation), whole numbers ``>= 0``.
    d:
        Discount rate per period, ``>= 0``.

    Returns
    -------
    numpy.ndarray
        Same shape as ``renewals``: ``(beta + n - 1)/(alpha + beta + n - 1) * 2F1(1, beta + n;
        alpha + beta + n; 1/(1+d))`` with ``n = renewals + 1``. This is the expected discounted number of
        future renewals, valued at the moment of the next renewal decision, so the next renewal (with
        probability ``r_n``) is not discounted. At ``d = 0`` it is the expected residual lifetime
        ``(beta + n - 1)/(alpha - 1)``, infinite when ``alpha <= 1``.

    Notes
    -----
    Computed once per distinct number of renewals. For ``d >= 1e-4`` by a continued fraction (relative
    error below 1e-12 against mpmath); below by adaptive quadrature of the Beta integral (below 1e-10).
    """
    alpha, beta = (float(v) for v in params)
    r = np.asarray(renewals, dtype=np.float64)
    uniq, inverse = np.unique(r, return_inverse=True)
    vals = _derl_values(np.full(uniq.shape, alpha), beta + uniq, d)
    out: FloatArray = vals[inverse].reshape(r.shape)
    return out


def derl_rows(alpha: FloatArray, beta: float, renewals: FloatArray, d: float) -> FloatArray:
    """:func:`derl` row by row at a ``alpha`` of each row (static covariates: ``alpha_i = alpha exp(gamma' z_i)``).

    ``alpha`` and ``renewals`` have one shape; the result has it too. Computed once per distinct
    ``(alpha_i, renewals)`` pair, all pairs at once (the continued fraction runs on arrays), so a continuous
    covariate with a value per customer costs one vectorised evaluation, not one per customer.
    """
    a = np.asarray(alpha, dtype=np.float64)
    r = np.asarray(renewals, dtype=np.float64)
    pairs, inverse = np.unique(np.column_stack([a.reshape(-1), r.reshape(-1)]), axis=0, return_inverse=True)
    vals = _derl_values(pairs[:, 0], beta + pairs[:, 1], d)
    out: FloatArray = vals[inverse.reshape(-1)].reshape(r.shape)
    return out


def _derl_values(alpha: FloatArray, bn: FloatArray, d: float) -> FloatArray:
    """DERL (Fader & Hardie 2010, eq. 6) at ``alpha`` and ``bn = beta + n - 1``, arrays of one shape."""
    lead = bn / (alpha + bn)
    if d == 0.0:
        with np.errstate(divide="ignore"):
            vals = np.where(alpha > 1.0, bn / (alpha - 1.0), math.inf)
    elif d >= _CF_MIN_DISCOUNT:
        hyp, ok = _hyp_cf(alpha, bn + 1.0, d)
        if not ok:  # pragma: no cover - the fraction converges in < 1000 terms for d >= 1e-4
            hyp = np.array([_hyp_quad(float(a), float(v) + 1.0, d) for a, v in zip(alpha, bn, strict=True)])
        vals = lead * hyp
    else:
        vals = lead * np.array([_hyp_quad(float(a), float(v) + 1.0, d) for a, v in zip(alpha, bn, strict=True)])
    return np.asarray(vals, dtype=np.float64)
