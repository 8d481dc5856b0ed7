"""mpmath references for every prediction of every model, from the papers' formulas and the models' assumptions.

Nothing here calls clvkit: each function takes plain floats, works at :data:`DPS` digits and returns an
``mpmath.mpf``. Where the paper's closed form is itself the thing under test in the kernel, the reference takes
a different route to the same number (an integral over the posterior, a direct sum) so a shared mistake cannot
hide; the route is named in each docstring. :data:`WORST` collects the worst relative error per model and
prediction for the terminal summary (tests/hardening/conftest.py).

Notation: ``R = r + x`` and ``A = alpha + T`` (the posterior of the purchase rate of a customer alive at T is
Gamma(R, A)); ``b'`` the posterior Beta parameter of the dropout probability (BG/NBD ``b + x``, MBG/NBD
``b + x + 1``); ``B = beta + T`` (Pareto/NBD: the posterior of the dropout rate is Gamma(s, B)).
"""

from __future__ import annotations

import functools

import mpmath

#: Working precision of every reference (decimal digits).
DPS = 30

#: ``(model, prediction) -> [worst relative error, bound, cases]``, filled by tests/hardening/test_mpmath_grid.py.
WORST: dict[tuple[str, str], list[float]] = {}

mpf = mpmath.mpf
lg = mpmath.loggamma


def _lbeta(p: mpmath.mpf, q: mpmath.mpf) -> mpmath.mpf:
    return lg(p) + lg(q) - lg(p + q)


def hyp2f1_one(b: mpmath.mpf, c: mpmath.mpf, z: mpmath.mpf) -> mpmath.mpf:
    """``2F1(1, b; c; z)``, 0 <= z < 1: its power series summed term by term where the terms fall at least
    geometrically by 0.99 (mpmath.hyp2f1's transformations fail for some large b and c there), else mpmath.hyp2f1.
    """
    if b * z / c > mpf("0.99") and b <= c:
        return mpmath.hyp2f1(1, b, c, z)
    total, term, k = mpf(0), mpf(1), 0
    while abs(term) > total * mpmath.eps / 100 or k < 2:
        total += term
        term *= (b + k) / (c + k) * z
        k += 1
    return total


def _quad(f, points):  # type: ignore[no-untyped-def]
    """``mpmath.quad`` over the sorted distinct breakpoints (tanh-sinh per piece)."""
    pts = sorted(set(points))
    return mpmath.quad(f, pts)


# ----------------------------------------------------------------------------------------------------------------
# BG/NBD (Fader, Hardie & Lee 2005) and MBG/NBD (Batislam, Denizel & Filiztekin 2007)
# ----------------------------------------------------------------------------------------------------------------
def bg_alive(model: str, r: float, alpha: float, a: float, b: float, x: float, tx: float, T: float) -> mpmath.mpf:
    """P(alive at T): FHL 2005 eq. (13); MBG/NBD: ``1/(1 + a/(b+x) ((alpha+T)/(alpha+tx))^(r+x))`` for every x."""
    r_, al, a_, b_, x_, tx_, T_ = (mpf(v) for v in (r, alpha, a, b, x, tx, T))
    if model == "bg":
        if x == 0:
            return mpf(1)
        odds = a_ / (b_ + x_ - 1) * mpmath.exp((r_ + x_) * (mpmath.log(al + T_) - mpmath.log(al + tx_)))
    else:
        odds = a_ / (b_ + x_) * mpmath.exp((r_ + x_) * (mpmath.log(al + T_) - mpmath.log(al + tx_)))
    return 1 / (1 + odds)


def _bprime(model: str, b: float, x: float) -> mpmath.mpf:
    return mpf(b) + mpf(x) + (1 if model == "mbg" else 0)


def bg_expected(model: str, r: float, alpha: float, a: float, b: float, x: float, tx: float, T: float,
                t: float) -> mpmath.mpf:
    """E[X(T, T+t) | x, tx, T], FHL 2005 eq. (10) (MBG/NBD: Batislam et al. 2007), with mpmath.hyp2f1:

    ``P(alive) (a+b'-1)/(a-1) [1 - (A/(A+t))^R 2F1(R, b'; a+b'-1; t/(A+t))]``; at ``a = 1`` exactly (a removable
    singularity) ``a`` is moved by 1e-25, far below the working precision's effect on the result.
    """
    r_, al, a_, x_, T_, t_ = (mpf(v) for v in (r, alpha, a, x, T, t))
    if a_ == 1:
        a_ += mpf("1e-25")
    bp = _bprime(model, b, x)
    R, A = r_ + x_, al + T_
    z = t_ / (A + t_)
    c = a_ + bp - 1
    if c <= 0 and c == int(c):  # a pole of 2F1 (C G is finite): step off it as for a = 1
        c += mpf("1e-25")
    head = mpmath.exp(R * (mpmath.log(A) - mpmath.log(A + t_)))
    G = (1 - head * mpmath.hyp2f1(R, bp, c, z)) / (a_ - 1)
    return bg_alive(model, r, alpha, a, b, x, tx, T) * c * G


def bg_pmf(model: str, r: float, alpha: float, a: float, b: float, x: float, tx: float, T: float, n: float,
           t: float) -> mpmath.mpf:
    """P(X(T, T+t) = n | x, tx, T) from the model's assumptions (cf. FHL's note on the conditional PMF).

    Given alive, lambda ~ Gamma(R, A) and p ~ Beta(a, b'); purchases follow a Poisson process and the customer
    drops out after each with probability p, so ``X = min(N, J)`` with ``N ~ NB(R, A/(A+t))`` and
    ``P(J >= j) = (1-p)^(j-1)``: ``P(X=n | alive) = E[(1-p)^n] P(N=n) + 1{n>0} E[p (1-p)^(n-1)] P(N >= n)``.
    The tail is mpmath's own regularised incomplete beta ``I_z(n, R)``, ``z = t/(A+t)``.
    """
    a_, n_, t_ = mpf(a), mpf(n), mpf(t)
    bp = _bprime(model, b, x)
    R, A = mpf(r) + mpf(x), mpf(alpha) + mpf(T)
    lz0 = mpmath.log(A) - mpmath.log(A + t_)
    lz1 = mpmath.log(t_) - mpmath.log(A + t_)
    lnb = lg(R + n_) - lg(R) - lg(n_ + 1) + R * lz0 + (n_ * lz1 if n > 0 else 0)
    lb0 = _lbeta(a_, bp)
    alive = mpmath.exp(_lbeta(a_, bp + n_) - lb0 + lnb)
    if n > 0:
        tail = mpmath.betainc(n_, R, 0, t_ / (A + t_), regularized=True)
        alive += mpmath.exp(_lbeta(a_ + 1, bp + n_ - 1) - lb0) * tail
    pa = bg_alive(model, r, alpha, a, b, x, tx, T)
    return pa * alive + (1 - pa if n == 0 else 0)


def bg_new_expected(model: str, r: float, alpha: float, a: float, b: float, t: float) -> mpmath.mpf:
    """E[X(t)] of a new customer: FHL 2005 eq. (9) ``(a+b-1)/(a-1) [1 - (alpha/(alpha+t))^r 2F1(r, b; a+b-1;
    t/(alpha+t))]``; MBG/NBD (Batislam et al. 2007) ``b/(a-1) [1 - (alpha/(alpha+t))^r 2F1(r, b+1; a+b;
    t/(alpha+t))]``."""
    r_, al, a_, b_, t_ = (mpf(v) for v in (r, alpha, a, b, t))
    if a_ == 1:
        a_ += mpf("1e-25")
    head = mpmath.exp(r_ * (mpmath.log(al) - mpmath.log(al + t_)))
    z = t_ / (al + t_)
    if model == "bg":
        return (a_ + b_ - 1) / (a_ - 1) * (1 - head * mpmath.hyp2f1(r_, b_, a_ + b_ - 1, z))
    return b_ / (a_ - 1) * (1 - head * mpmath.hyp2f1(r_, b_ + 1, a_ + b_, z))


@mpmath.extradps(60)  # 1 - sum loses as many digits as the tail is small
def bg_new_pmf(model: str, r: float, alpha: float, a: float, b: float, n: float, t: float) -> mpmath.mpf:
    """P(X(t) = n) of a new customer, FHL 2005 eq. (8) with the negative binomial tail as ``1 - sum_{j<n}``
    (a plain sum at 40 digits; MBG/NBD: alive at time 0 with probability b/(a+b), then p ~ Beta(a, b+1))."""
    r_, al, a_, b_, t_, n_ = (mpf(v) for v in (r, alpha, a, b, t, n))
    lz0 = mpmath.log(al) - mpmath.log(al + t_)
    lz1 = mpmath.log(t_) - mpmath.log(al + t_)

    def nb(j: int) -> mpmath.mpf:
        return mpmath.exp(lg(r_ + j) - lg(r_) - lg(j + 1) + r_ * lz0 + (j * lz1 if j > 0 else 0))

    bb = b_ if model == "bg" else b_ + 1
    lb0 = _lbeta(a_, bb)
    out = mpmath.exp(_lbeta(a_, bb + n_) - lb0) * nb(int(n))
    if n > 0:
        tail = 1 - mpmath.fsum(nb(j) for j in range(int(n)))
        out += mpmath.exp(_lbeta(a_ + 1, bb + n_ - 1) - lb0) * tail
    if model == "mbg":
        return b_ / (a_ + b_) * out + (a_ / (a_ + b_) if n == 0 else 0)
    return out


def bg_dert(model: str, r: float, alpha: float, a: float, b: float, x: float, tx: float, T: float,
            d: float) -> mpmath.mpf:
    """DERT at the discrete rate d: ``int_0^inf e^(-delta t) E[purchase rate at T+t] dt``, ``delta = log(1+d)``.

    Given alive the purchase rate at T+t is ``lambda e^(-lambda p t)`` (alive with probability e^(-lambda p t));
    its mean over lambda ~ Gamma(R, A) is ``R/A (1 + p t/A)^-(R+1)`` and over p ~ Beta(a, b') Euler's integral
    ``R/A 2F1(R+1, a; a+b'; -t/A)``. One mpmath.quad over ``v = delta t`` - no use of E[X(t)].
    """
    a_ = mpf(a)
    bp = _bprime(model, b, x)
    R, A = mpf(r) + mpf(x), mpf(alpha) + mpf(T)
    delta = mpmath.log1p(mpf(d))

    def f(v: mpmath.mpf) -> mpmath.mpf:
        # Pfaff's transformation of 2F1(R+1, a; a+b'; -y) to an argument in [0, 1)
        y = v / (delta * A)
        return mpmath.exp(-v - a_ * mpmath.log1p(y)) * mpmath.hyp2f1(a_, a_ + bp - R - 1, a_ + bp, y / (1 + y))

    pts = [mpf(0), mpf(1), mpf(10), mpf(60), mpmath.inf] + [c for c in (delta * A / R, 10 * delta * A / R)
                                                           if c < 60]
    return bg_alive(model, r, alpha, a, b, x, tx, T) * R / A / delta * _quad(f, pts)


# ----------------------------------------------------------------------------------------------------------------
# Pareto/NBD (Schmittlein, Morrison & Colombo 1987; Fader & Hardie 2005 and 2006 notes)
# ----------------------------------------------------------------------------------------------------------------
def pnbd_alive(r: float, alpha: float, s: float, beta: float, x: float, tx: float, T: float) -> mpmath.mpf:
    """P(alive at T) from the likelihood split by the dropout time tau (FH 2005 note, eq. 3 before integrating):

    ``L = E[lambda^x e^-(lambda+mu) T] + int_tx^T E[lambda^x e^-lambda tau] E[mu e^-mu tau] dtau``; the ratio of
    the integral to the first term is ``int_tx^T s B^s A^R / ((alpha+tau)^R (beta+tau)^(s+1)) dtau``, by
    mpmath.quad (split where the integrand, peaked at tau = T when R is large, changes scale).
    """
    r_, al, s_, be, x_, tx_, T_ = (mpf(v) for v in (r, alpha, s, beta, x, tx, T))
    R, A, B = r_ + x_, al + T_, be + T_
    if T == tx:
        return mpf(1)

    def f(tau: mpmath.mpf) -> mpmath.mpf:
        return s_ / (be + tau) * mpmath.exp(R * (mpmath.log(A) - mpmath.log(al + tau))
                                            + s_ * (mpmath.log(B) - mpmath.log(be + tau)))

    scale = A / (R + s_ + 1)
    pts = [tx_, T_] + [T_ - k * scale for k in (1, 10, 100, 1000) if T_ - k * scale > tx_]
    return 1 / (1 + _quad(f, pts))


def _pnbd_rate_integral(s: mpmath.mpf, B: mpmath.mpf, t: mpmath.mpf) -> mpmath.mpf:
    """``int_0^t (B/(B+u))^s du = B [1 - (B/(B+t))^(s-1)]/(s-1)`` (``B log(1+t/B)`` at s = 1)."""
    L = mpmath.log1p(t / B)
    if s == 1:
        return B * L
    return B * -mpmath.expm1(-(s - 1) * L) / (s - 1)


def pnbd_expected(r: float, alpha: float, s: float, beta: float, x: float, tx: float, T: float,
                  t: float) -> mpmath.mpf:
    """E[X(T, T+t) | x, tx, T] = P(alive) R/A B/(s-1) [1 - (B/(B+t))^(s-1)] (FH 2005 note, eq. 21)."""
    R, A, B = mpf(r) + mpf(x), mpf(alpha) + mpf(T), mpf(beta) + mpf(T)
    return pnbd_alive(r, alpha, s, beta, x, tx, T) * R / A * _pnbd_rate_integral(mpf(s), B, mpf(t))


def _pnbd_alive_pmf(R: mpmath.mpf, A: mpmath.mpf, s: mpmath.mpf, B: mpmath.mpf, n: float,
                    t: mpmath.mpf) -> mpmath.mpf:
    """P(X(t) = n) of a customer alive at 0 with lambda ~ Gamma(R, A), mu ~ Gamma(s, B), by the dropout time:

    ``(B/(B+t))^s NB(n; R, A/(A+t)) + int_0^t s B^s (B+tau)^-(s+1) NB(n; R, A/(A+tau)) dtau`` (mpmath.quad)
    - the route of FH's "Deriving an expression for P(X(t) = x) under the Pareto/NBD" before their 2F1.
    """
    n_ = mpf(n)
    c = lg(R + n_) - lg(R) - lg(n_ + 1)

    def nb(u: mpmath.mpf) -> mpmath.mpf:
        if u == 0:
            return mpf(1) if n == 0 else mpf(0)
        lt = mpmath.log(A + u)
        return mpmath.exp(c + R * (mpmath.log(A) - lt) + (n_ * (mpmath.log(u) - lt) if n > 0 else 0))

    def f(u: mpmath.mpf) -> mpmath.mpf:
        return s / (B + u) * mpmath.exp(s * (mpmath.log(B) - mpmath.log(B + u))) * nb(u)

    pts = [mpf(0), t] + [c_ for c_ in (A / 100, A / 10, A, 10 * A) if c_ < t]
    if n > 0:
        mode = n_ * A / R
        pts += [c_ for c_ in (mode / 10, mode / 2, mode, 2 * mode, 10 * mode) if c_ < t]
    first = mpmath.exp(s * (mpmath.log(B) - mpmath.log(B + t))) * nb(t)
    return first + _quad(f, pts)


def pnbd_pmf(r: float, alpha: float, s: float, beta: float, x: float, tx: float, T: float, n: float,
             t: float) -> mpmath.mpf:
    """P(X(T, T+t) = n | x, tx, T) = P(alive) P_alive(n) + 1{n=0} (1 - P(alive))."""
    pa = pnbd_alive(r, alpha, s, beta, x, tx, T)
    R, A, B = mpf(r) + mpf(x), mpf(alpha) + mpf(T), mpf(beta) + mpf(T)
    return pa * _pnbd_alive_pmf(R, A, mpf(s), B, n, mpf(t)) + (1 - pa if n == 0 else 0)


def pnbd_new_expected(r: float, alpha: float, s: float, beta: float, t: float) -> mpmath.mpf:
    """E[X(t)] = r/alpha beta/(s-1) [1 - (beta/(beta+t))^(s-1)] (Schmittlein et al. 1987)."""
    return mpf(r) / mpf(alpha) * _pnbd_rate_integral(mpf(s), mpf(beta), mpf(t))


def pnbd_new_pmf(r: float, alpha: float, s: float, beta: float, n: float, t: float) -> mpmath.mpf:
    """P(X(t) = n) of a new customer (see :func:`_pnbd_alive_pmf`)."""
    return _pnbd_alive_pmf(mpf(r), mpf(alpha), mpf(s), mpf(beta), n, mpf(t))


def pnbd_dert(r: float, alpha: float, s: float, beta: float, x: float, tx: float, T: float,
              d: float) -> mpmath.mpf:
    """DERT = P(alive) R/A int_0^inf e^(-delta u) (B/(B+u))^s du, ``delta = log(1+d)`` (the purchase rate given
    alive is lambda e^(-mu u)); by mpmath.quad instead of FHL 2005's Tricomi U."""
    R, A, B, s_ = mpf(r) + mpf(x), mpf(alpha) + mpf(T), mpf(beta) + mpf(T), mpf(s)
    delta = mpmath.log1p(mpf(d))

    def f(v: mpmath.mpf) -> mpmath.mpf:
        return mpmath.exp(-v - s_ * mpmath.log1p(v / (delta * B)))

    pts = [mpf(0), mpf(1), mpf(10), mpf(60), mpmath.inf] + [c for c in (delta * B / s_, 10 * delta * B / s_)
                                                           if c < 60]
    return pnbd_alive(r, alpha, s, beta, x, tx, T) * R / A / delta * _quad(f, pts)


# ----------------------------------------------------------------------------------------------------------------
# BG/BB (Fader, Hardie & Shang 2010)
# ----------------------------------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=256)
def _bgbb_lik_parts(al: float, be: float, ga: float, de: float, x: int, tx: int, n: int
                    ) -> tuple[mpmath.mpf, mpmath.mpf]:
    """``(L, B(alpha+x, beta+n-x)/B(alpha, beta) * B(gamma, delta+n+1)/B(gamma, delta))`` of eq. (5)/(11).

    The sum over ``i < n - tx`` by its exact term ratio (rational in i), so n in the tens of thousands is cheap.
    """
    a, b, g, d = (mpf(v) for v in (al, be, ga, de))
    lb0 = _lbeta(a, b) + _lbeta(g, d)
    t1 = mpmath.exp(_lbeta(a + x, b + n - x) + _lbeta(g, d + n) - lb0)
    term = mpmath.exp(_lbeta(a + x, b + tx - x) + _lbeta(g + 1, d + tx) - lb0)
    total = mpf(0)
    for i in range(n - tx):
        total += term
        term *= (b + tx - x + i) / (a + b + tx + i) * (d + tx + i) / (g + d + tx + 1 + i)
    alive_next = mpmath.exp(_lbeta(a + x, b + n - x) + _lbeta(g, d + n + 1) - lb0)
    return t1 + total, alive_next


def bgbb_alive(al: float, be: float, ga: float, de: float, x: int, tx: int, n: int) -> mpmath.mpf:
    """P(alive at opportunity n+1 | x, tx, n), FHS 2010 eq. (11)."""
    L, num = _bgbb_lik_parts(al, be, ga, de, x, tx, n)
    return num / L


def bgbb_expected(al: float, be: float, ga: float, de: float, x: int, tx: int, n: int, t: int) -> mpmath.mpf:
    """E[X(n, n+t) | x, tx, n], FHS 2010 eq. (13) as printed (gamma != 1)."""
    a, b, g, d = (mpf(v) for v in (al, be, ga, de))
    L, _ = _bgbb_lik_parts(al, be, ga, de, x, tx, n)
    lead = mpmath.exp(_lbeta(a + x + 1, b + n - x) - _lbeta(a, b)) * d / (g - 1) * mpmath.exp(lg(g + d) - lg(1 + d))
    bracket = mpmath.exp(lg(1 + d + n) - lg(g + d + n)) - mpmath.exp(lg(1 + d + n + t) - lg(g + d + n + t))
    return lead * bracket / L


def bgbb_pmf(al: float, be: float, ga: float, de: float, x: int, tx: int, n: int, k: int, t: int) -> mpmath.mpf:
    """P(X(n, n+t) = k | x, tx, n) from the model's assumptions, by a direct sum over the alive opportunities.

    Alive at n+1 with P(alive) of eq. (11); then theta ~ Beta(gamma, delta+n+1) and p ~ Beta(alpha+x,
    beta+n-x); the customer is alive at the first K of the t opportunities, ``P(K >= j) = (1-theta)^(j-1)``
    (1 <= j <= t), and transacts Binomial(K, p) times.
    """
    a, b, g, d = (mpf(v) for v in (al, be, ga, de))
    ap, bp, dp = a + x, b + n - x, d + n + 1
    lbp, lbt = _lbeta(ap, bp), _lbeta(g, dp)
    total = mpf(0)
    for j in range(max(k, 1), t + 1):
        if j < t:
            lk = _lbeta(g + 1, dp + j - 1) - lbt  # P(K = j) = theta (1-theta)^(j-1)
        else:
            lk = _lbeta(g, dp + t - 1) - lbt  # P(K = t) = (1-theta)^(t-1)
        lbin = lg(j + 1) - lg(k + 1) - lg(j - k + 1) + _lbeta(ap + k, bp + j - k) - lbp
        total += mpmath.exp(lk + lbin)
    pa = bgbb_alive(al, be, ga, de, x, tx, n)
    return pa * total + (1 - pa if k == 0 else 0)


def bgbb_new_expected(al: float, be: float, ga: float, de: float, t: int) -> mpmath.mpf:
    """E[X(t)], FHS 2010 eq. (7)."""
    a, b, g, d = (mpf(v) for v in (al, be, ga, de))
    return a / (a + b) * d / (g - 1) * (1 - mpmath.exp(lg(g + d) - lg(g + d + t) + lg(1 + d + t) - lg(1 + d)))


def bgbb_new_pmf(al: float, be: float, ga: float, de: float, k: int, t: int) -> mpmath.mpf:
    """P(X(t) = k), FHS 2010 eq. (8)."""
    a, b, g, d = (mpf(v) for v in (al, be, ga, de))
    lb0 = _lbeta(a, b) + _lbeta(g, d)
    out = mpmath.exp(lg(t + 1) - lg(k + 1) - lg(t - k + 1) + _lbeta(a + k, b + t - k) + _lbeta(g, d + t) - lb0)
    for i in range(t - k):
        out += mpmath.exp(lg(k + i + 1) - lg(k + 1) - lg(i + 1) + _lbeta(a + k, b + i) + _lbeta(g + 1, d + k + i)
                          - lb0)
    return out


def bgbb_dert(al: float, be: float, ga: float, de: float, x: int, tx: int, n: int, d: float) -> mpmath.mpf:
    """DERT, FHS 2010 eq. (14): ``B(alpha+x+1, beta+n-x)/B(alpha, beta) B(gamma, delta+n+1)/(B(gamma, delta)
    (1+d)) 2F1(1, delta+n+1; gamma+delta+n+1; 1/(1+d)) / L`` with mpmath.hyp2f1."""
    a, b, g, de_ = (mpf(v) for v in (al, be, ga, de))
    L, _ = _bgbb_lik_parts(al, be, ga, de, x, tx, n)
    lead = mpmath.exp(_lbeta(a + x + 1, b + n - x) - _lbeta(a, b) + _lbeta(g, de_ + n + 1) - _lbeta(g, de_))
    return lead / (1 + mpf(d)) * hyp2f1_one(de_ + n + 1, g + de_ + n + 1, 1 / (1 + mpf(d))) / L


# ----------------------------------------------------------------------------------------------------------------
# sBG (Fader & Hardie 2007, 2010) and Gamma-Gamma (Fader, Hardie & Lee 2005, "RFM and CLV")
# ----------------------------------------------------------------------------------------------------------------
def sbg_survival(al: float, be: float, t: float) -> mpmath.mpf:
    """S(t) = B(alpha, beta+t)/B(alpha, beta)."""
    a, b = mpf(al), mpf(be)
    return mpmath.exp(_lbeta(a, b + t) - _lbeta(a, b))


def sbg_churn(al: float, be: float, t: float) -> mpmath.mpf:
    """P(T = t) = B(alpha+1, beta+t-1)/B(alpha, beta), t >= 1."""
    a, b = mpf(al), mpf(be)
    return mpmath.exp(_lbeta(a + 1, b + t - 1) - _lbeta(a, b))


def sbg_retention(al: float, be: float, t: float) -> mpmath.mpf:
    """r_t = S(t)/S(t-1), as the ratio of the two Beta functions (not the simplified fraction)."""
    return sbg_survival(al, be, t) / sbg_survival(al, be, t - 1)


def sbg_lifetime(al: float, be: float) -> mpmath.mpf:
    """E[T] = sum_{t>=0} S(t) = E[1/theta] = B(alpha-1, beta)/B(alpha, beta) (inf for alpha <= 1).

    (A plain ``mpmath.nsum`` of S(t) does not converge to 30 digits for alpha just above 1, where S(t) ~ t^-alpha.)
    """
    if al <= 1:
        return mpmath.inf
    a, b = mpf(al), mpf(be)
    return mpmath.exp(_lbeta(a - 1, b) - _lbeta(a, b))


def sbg_derl(al: float, be: float, renewals: float, d: float) -> mpmath.mpf:
    """DERL (FH 2010 eq. 6): ``sum_{k>=1} S(m+k)/S(m) (1+d)^-(k-1)``, m = renewals.

    ``S(m+k)/S(m) = (b)_k/(alpha+b)_k`` with ``b = beta + m``, so the sum is ``(1+d) [2F1(1, b; alpha+b; q) - 1]``,
    ``q = 1/(1+d)`` (mpmath.hyp2f1); at d = 0 Gauss's sum, ``b/(alpha-1)`` (inf for alpha <= 1).
    """
    a, b, dd = mpf(al), mpf(be) + mpf(renewals), mpf(d)
    if d == 0:
        return b / (a - 1) if al > 1 else mpmath.inf
    q = 1 / (1 + dd)
    return (hyp2f1_one(b, a + b, q) - 1) / q


def gg_spend(p: float, q: float, v: float, x: float, m: float) -> mpmath.mpf:
    """E[M | x, m] = E[p / nu | x, m] with nu | x, m ~ Gamma(p x + q, v + x m) (FHL 2005 "RFM and CLV", eq. 5
    derived from the posterior rather than copied): ``p (v + x m)/(p x + q - 1)``."""
    p_, q_, v_, x_, m_ = (mpf(val) for val in (p, q, v, x, m))
    shape, rate = p_ * x_ + q_, v_ + x_ * m_
    # E[1/nu] for nu ~ Gamma(shape, rate) as a ratio of gamma functions
    return p_ * rate * mpmath.exp(lg(shape - 1) - lg(shape))


# ----------------------------------------------------------------------------------------------------------------
# Gamma-Gompertz/NBD (Bemmaor & Glady 2012)
# ----------------------------------------------------------------------------------------------------------------
def _ggom_log_s(b: mpmath.mpf, s: mpmath.mpf, beta: mpmath.mpf, t: mpmath.mpf) -> mpmath.mpf:
    """``log S(t)``, ``S(t) = (beta / (beta - 1 + e^{bt}))^s`` (Bemmaor & Glady 2012, eq. 3)."""
    return s * (mpmath.log(beta) - mpmath.log(beta - 1 + mpmath.exp(b * t)))


def _ggom_f(b: mpmath.mpf, s: mpmath.mpf, beta: mpmath.mpf, t: mpmath.mpf) -> mpmath.mpf:
    """The lifetime density ``f(t) = s b e^{bt} beta^s / (beta - 1 + e^{bt})^(s+1)`` (eq. 4)."""
    return s * b * mpmath.exp(b * t + s * mpmath.log(beta) - (s + 1) * mpmath.log(beta - 1 + mpmath.exp(b * t)))


def _ggom_pts(lo: mpmath.mpf, hi: mpmath.mpf, scales: list[mpmath.mpf]) -> list[mpmath.mpf]:
    """Breakpoints ``lo``, ``hi`` and ``lo + c k / 2`` (k < 20) and ``lo + c 2^k`` for each scale ``c`` inside
    ``(lo, hi)``: dense where the integrand falls on the scale ``c``, geometric beyond."""
    steps = [mpf(k) / 2 for k in range(1, 20)] + [mpf(2) ** k for k in range(4, 60)]
    pts = [lo, hi] + [lo + c * k for c in scales for k in steps if lo + c * k < hi]
    return pts


@functools.lru_cache(maxsize=256)
def ggom_alive(r: float, alpha: float, b: float, s: float, beta: float, x: float, tx: float,
               T: float) -> mpmath.mpf:
    """P(alive at T) = A / (A + D) with ``A = (alpha+T)^-R S(T)`` and ``D = int_tx^T (alpha+tau)^-R f(tau) dtau``
    (Bemmaor & Glady 2012, eqs. 7 and 9), the integral over the dropout time ``tau`` by mpmath.quad."""
    r_, al, b_, s_, be, x_, tx_, T_ = (mpf(v) for v in (r, alpha, b, s, beta, x, tx, T))
    R = r_ + x_
    alive = mpmath.exp(-R * mpmath.log(al + T_) + _ggom_log_s(b_, s_, be, T_))
    if T == tx:
        return mpf(1)
    dead = _quad(lambda u: mpmath.exp(-R * mpmath.log(al + u)) * _ggom_f(b_, s_, be, u),
                 _ggom_pts(tx_, T_, [(al + tx_) / (R + 1), 1 / b_]))
    return alive / (alive + dead)


def _ggom_survival_integral(b: float, s: float, beta: float, T: float, t: mpmath.mpf,
                            delta: mpmath.mpf) -> mpmath.mpf:
    """``int_0^t e^{-delta u} S(T+u) / S(T) du`` by mpmath.quad (``t`` may be infinite when ``delta > 0``)."""
    b_, s_, be, T_ = mpf(b), mpf(s), mpf(beta), mpf(T)
    ls = _ggom_log_s(b_, s_, be, T_)
    scales = [mpf(1) / 4, 1 / b_] + ([1 / delta] if delta else [])
    return _quad(lambda u: mpmath.exp(_ggom_log_s(b_, s_, be, T_ + u) - ls - delta * u),
                 _ggom_pts(mpf(0), t, scales))


def ggom_expected(r: float, alpha: float, b: float, s: float, beta: float, x: float, tx: float, T: float,
                  t: float) -> mpmath.mpf:
    """E[X(T, T+t) | x, tx, T] = P(alive) R/A int_0^t S(T+u)/S(T) du (Bemmaor & Glady 2012, eq. 10)."""
    R, A = mpf(r) + mpf(x), mpf(alpha) + mpf(T)
    return ggom_alive(r, alpha, b, s, beta, x, tx, T) * R / A * _ggom_survival_integral(b, s, beta, T, mpf(t),
                                                                                         mpf(0))


def ggom_new_expected(r: float, alpha: float, b: float, s: float, beta: float, t: float) -> mpmath.mpf:
    """E[X(t)] of a new customer: ``r/alpha int_0^t S(u) du`` (Bemmaor & Glady 2012, eq. 8)."""
    return mpf(r) / mpf(alpha) * _ggom_survival_integral(b, s, beta, 0.0, mpf(t), mpf(0))


def ggom_dert(r: float, alpha: float, b: float, s: float, beta: float, x: float, tx: float, T: float,
              d: float) -> mpmath.mpf:
    """DERT: ``P(alive) R/A int_0^inf e^{-delta u} S(T+u)/S(T) du``, ``delta = log(1+d)`` (continuous discounting
    of the expected purchase rate of a customer alive at T)."""
    R, A = mpf(r) + mpf(x), mpf(alpha) + mpf(T)
    delta = mpmath.log1p(mpf(d))
    return ggom_alive(r, alpha, b, s, beta, x, tx, T) * R / A * _ggom_survival_integral(b, s, beta, T, mpmath.inf,
                                                                                         delta)


def ggom_pmf(r: float, alpha: float, b: float, s: float, beta: float, x: float, tx: float, T: float, n: float,
             t: float) -> mpmath.mpf:
    """P(X(T, T+t) = n): a customer alive at T with dropout at ``T + u`` buys NB(R, A) over ``min(t, u)``; the
    mixture over ``u`` (density ``f(T+u)/S(T)``) by mpmath.quad, plus ``1 - P(alive)`` at n = 0."""
    r_, al, b_, s_, be, t_ = (mpf(v) for v in (r, alpha, b, s, beta, t))
    R, A, T_ = r_ + mpf(x), al + mpf(T), mpf(T)
    pa = ggom_alive(r, alpha, b, s, beta, x, tx, T)
    ls = _ggom_log_s(b_, s_, be, T_)

    def nb(m: mpmath.mpf) -> mpmath.mpf:
        if m == 0:
            return mpf(1) if n == 0 else mpf(0)
        return mpmath.exp(lg(R + n) - lg(R) - lg(n + 1) + R * mpmath.log(A / (A + m)) + n * mpmath.log(m / (A + m)))

    stays = mpmath.exp(_ggom_log_s(b_, s_, be, T_ + t_) - ls) * nb(t_)
    leaves = _quad(lambda u: _ggom_f(b_, s_, be, T_ + u) / mpmath.exp(ls) * nb(u),
                   _ggom_pts(mpf(0), t_, [A / (R + n + 1), 1 / b_]))
    return (1 - pa if n == 0 else 0) + pa * (stays + leaves)


def ggom_new_pmf(r: float, alpha: float, b: float, s: float, beta: float, n: float, t: float) -> mpmath.mpf:
    """P(X(t) = n) of a new customer: :func:`ggom_pmf` at ``x = tx = T = 0`` (alive at 0)."""
    return ggom_pmf(r, alpha, b, s, beta, 0.0, 0.0, 0.0, n, t)


# ================================================================================================================
# The CNBD-k family (Platzer & Reutterer 2016; Reutterer, Platzer & Schroeder 2020): ``family`` "nbd" (no dropout),
# "bg" or "mbg"; Erlang-k inter-purchase times of tick rate lambda ~ Gamma(r, alpha), dropout p ~ Beta(a, b).
# ================================================================================================================
def cnbd_posterior(family: str, k: int, r: float, alpha: float, a: float, b: float, x: float, tx: float,
                   T: float) -> tuple[mpmath.mpf, list[mpmath.mpf]]:
    """P(alive at T) and the posterior weights of the phase j (ticks since the last purchase, 0..k-1) given alive.

    From the two branches of the likelihood integrated over lambda: alive ``prod`` ... ``e^(-lambda(T-tx))
    (lambda (T-tx))^j/j!`` gives ``Gamma(R0+j)/(Gamma(R0) j!) ((T-tx)/(alpha+T))^j`` relative to the j = 0 term, and
    the dead branch ``a/(b+x-1+m) ((alpha+T)/(alpha+tx))^R0`` (R0 = r + kx; none for CNBD-k and for BG at x = 0).
    """
    m = 1 if family == "mbg" else 0
    R0, A = mpf(r) + k * mpf(x), mpf(alpha) + mpf(T)
    u = (mpf(T) - mpf(tx)) / A
    terms = [mpmath.rf(R0, j) / mpmath.factorial(j) * u**j for j in range(k)]
    alive = mpmath.fsum(terms)
    if family == "nbd" or (family == "bg" and x == 0):
        dead = mpf(0)
    else:
        dead = mpf(a) / (mpf(b) + mpf(x) - 1 + m) * mpmath.exp(R0 * mpmath.log((mpf(alpha) + mpf(T))
                                                                               / (mpf(alpha) + mpf(tx))))
    return alive / (alive + dead), [term / alive for term in terms]


def _cnbd_keep(family: str, a: float, b: float, x: float, n: int) -> mpmath.mpf:
    """E[(1-p)^(n-1)] under the alive posterior p ~ Beta(a, b + x + m) (1 without dropout)."""
    if family == "nbd":
        return mpf(1)
    bp = mpf(b) + mpf(x) + (1 if family == "mbg" else 0)
    return mpmath.exp(_lbeta(mpf(a), bp + n - 1) - _lbeta(mpf(a), bp))


def _nb_tail(m: int, R: mpmath.mpf, z: mpmath.mpf) -> mpmath.mpf:
    """P(N >= m) for the negative binomial tick count N (lambda ~ Gamma(R, A) integrated, z = t/(A+t)): its
    probabilities summed upwards from m until they vanish (no cancellation in deep tails)."""
    if m <= 0:
        return mpf(1)
    term = mpmath.exp(lg(R + m) - lg(R) - lg(mpf(m) + 1) + R * mpmath.log(1 - z) + m * mpmath.log(z))
    total, i = term, m
    while term > mpf(10) ** -(DPS + 5) * total:
        i += 1
        term *= (R + i - 1) / i * z
        total += term
    return total


def cnbd_pmf(family: str, k: int, r: float, alpha: float, a: float, b: float, x: float, tx: float, T: float,
             n: int, t: float) -> mpmath.mpf:
    """P(X(T, T+t) = n): the n-th future purchase needs nk - j ticks and the n-1 purchases before it survived,
    ``P(X >= n | alive) = sum_j w_j E[(1-p)^(n-1)] P(N_j >= nk - j)`` (the tails as direct sums)."""
    p_alive, w = cnbd_posterior(family, k, r, alpha, a, b, x, tx, T)
    z = mpf(t) / (mpf(alpha) + mpf(T) + mpf(t))

    def at_least(nn: int) -> mpmath.mpf:
        if nn == 0:
            return mpf(1)
        return _cnbd_keep(family, a, b, x, nn) * mpmath.fsum(
            w[j] * _nb_tail(nn * k - j, mpf(r) + k * mpf(x) + j, z) for j in range(k))

    value = p_alive * (at_least(n) - at_least(n + 1))
    return value + (1 - p_alive if n == 0 else 0)


def cnbd_expected(family: str, k: int, r: float, alpha: float, a: float, b: float, x: float, tx: float, T: float,
                  t: float) -> mpmath.mpf:
    """E[X(T, T+t)] = P(alive) sum_{n>=1} P(X >= n | alive), the negative binomial tails by mpmath.betainc, summed
    until the terms vanish (another route than the kernel's phase-type closed form over lambda)."""
    p_alive, w = cnbd_posterior(family, k, r, alpha, a, b, x, tx, T)
    z = mpf(t) / (mpf(alpha) + mpf(T) + mpf(t))
    total, n = mpf(0), 1
    while True:
        term = _cnbd_keep(family, a, b, x, n) * mpmath.fsum(
            w[j] * mpmath.betainc(n * k - j, mpf(r) + k * mpf(x) + j, 0, z, regularized=True) for j in range(k))
        total += term
        if term < mpf(10) ** -(DPS - 5) * total or n > 100000:
            return p_alive * total
        n += 1
