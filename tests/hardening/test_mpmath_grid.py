"""Numerics grid (issue 10): every prediction of every model against an mpmath reference, with stated bounds.

The references (tests/hardening/_mpref.py) are computed here, at 40 digits, from the papers' formulas or -
where the kernel evaluates the paper's closed form - from the model's assumptions by another route (an
integral over the posterior, a direct sum). The grid mixes published fits (CDNOW for BG/NBD, MBG/NBD,
Pareto/NBD, Gamma-Gamma and - CLVTools' - Gamma-Gompertz/NBD; the donations data for BG/BB; Fader & Hardie's
"regular" sBG cohort) with extreme parameters (tiny and huge shapes and scales, a and s at their removable
singularities, a + b < 1) and extreme customers (no repeat purchase, frequency up to 1e5, ages and horizons up to
1e5).

:data:`BOUNDS` states the worst relative error allowed per model and prediction: the measured worst over this
grid rounded up by about one order of magnitude. Every case is tallied in the hardening probe table (area
"mpmath <model>"), and the worst error per model and prediction is printed at the end of the session.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence

import mpmath
import numpy as np
import pytest

from clvkit.valuation.models import _bgbb, _bgnbd, _cnbd, _gammagamma, _ggomnbd, _mbgnbd, _paretonbd, _sbg

from . import _mpref as ref
from ._probe import CORRECT, OTHER, record

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")

#: Worst relative error allowed against the mpmath reference, per (model, prediction).
BOUNDS: dict[tuple[str, str], float] = {
    ("BetaGeo", "probability_alive"): 5e-12,
    ("BetaGeo", "expected_purchases"): 2e-11,
    ("BetaGeo", "expected_purchases_path"): 2e-11,
    ("BetaGeo", "probability_of_purchases"): 3e-10,
    ("BetaGeo", "expected_purchases_new_customer"): 3e-9,
    ("BetaGeo", "probability_of_purchases_new_customer"): 5e-10,
    ("BetaGeo", "discounted_expected_residual_transactions"): 5e-12,
    ("ModifiedBetaGeo", "probability_alive"): 2e-13,
    ("ModifiedBetaGeo", "expected_purchases"): 2e-11,
    ("ModifiedBetaGeo", "expected_purchases_path"): 2e-11,
    ("ModifiedBetaGeo", "probability_of_purchases"): 5e-10,
    ("ModifiedBetaGeo", "expected_purchases_new_customer"): 3e-9,
    ("ModifiedBetaGeo", "probability_of_purchases_new_customer"): 5e-10,
    ("ModifiedBetaGeo", "discounted_expected_residual_transactions"): 3e-10,
    ("ParetoNBD", "probability_alive"): 2e-13,
    ("ParetoNBD", "expected_purchases"): 1e-13,
    ("ParetoNBD", "expected_purchases_path"): 1e-13,
    ("ParetoNBD", "probability_of_purchases"): 5e-13,
    ("ParetoNBD", "expected_purchases_new_customer"): 1e-14,
    ("ParetoNBD", "probability_of_purchases_new_customer"): 5e-13,
    ("ParetoNBD", "discounted_expected_residual_transactions"): 1e-13,
    ("BetaGeoBetaBinom", "probability_alive"): 5e-12,
    # expected purchases: 4.9e-8 at n = 1e5, t = 1e3 before survival_sum took its log-gamma differences via _lgamma_diff
    ("BetaGeoBetaBinom", "expected_purchases"): 5e-12,
    ("BetaGeoBetaBinom", "expected_purchases_path"): 5e-12,
    ("BetaGeoBetaBinom", "probability_of_purchases"): 3e-9,
    ("BetaGeoBetaBinom", "expected_purchases_new_customer"): 2e-14,
    ("BetaGeoBetaBinom", "probability_of_purchases_new_customer"): 2e-12,
    ("BetaGeoBetaBinom", "discounted_expected_residual_transactions"): 5e-12,
    ("ShiftedBetaGeo", "survival"): 1e-9,
    ("ShiftedBetaGeo", "probability_churn"): 3e-9,
    ("ShiftedBetaGeo", "retention_rate"): 1e-15,
    ("ShiftedBetaGeo", "expected_lifetime"): 1e-14,
    ("ShiftedBetaGeo", "discounted_expected_residual_lifetime"): 2e-14,
    ("GammaGamma", "expected_spend"): 5e-13,
    ("GammaGompertzNBD", "probability_alive"): 5e-11,
    ("GammaGompertzNBD", "expected_purchases"): 5e-11,
    ("GammaGompertzNBD", "expected_purchases_path"): 5e-11,
    ("GammaGompertzNBD", "probability_of_purchases"): 2e-11,
    ("GammaGompertzNBD", "expected_purchases_new_customer"): 2e-11,
    # 1.1e-9 at n = 0 with b = 2 (a fast Gompertz clock): the doubling panels of the prediction integral
    ("GammaGompertzNBD", "probability_of_purchases_new_customer"): 1e-8,
    ("GammaGompertzNBD", "discounted_expected_residual_transactions"): 2e-11,
    ("CNBD", "probability_alive"): 1e-15,
    ("CNBD", "expected_purchases"): 1e-10,
    ("CNBD", "probability_of_purchases"): 5e-10,
    ("BetaGeoCNBD", "probability_alive"): 1e-13,
    ("BetaGeoCNBD", "expected_purchases"): 1e-10,
    ("BetaGeoCNBD", "probability_of_purchases"): 1e-10,
    ("ModifiedBetaGeoCNBD", "probability_alive"): 1e-13,
    ("ModifiedBetaGeoCNBD", "expected_purchases"): 1e-10,
    ("ModifiedBetaGeoCNBD", "probability_of_purchases"): 1e-10,
}

#: Below this a reference value is treated as zero: the error is then absolute (a probability that underflows).
TINY = 1e-290


def _check(model: str, prediction: str, got: Sequence[float], want: Sequence[mpmath.mpf],
           cases: Sequence[object]) -> None:
    """Compare, tally every case, keep the worst error for the summary, and fail on the first case out of bound."""
    bound = BOUNDS[(model, prediction)]
    area = f"mpmath {model}"
    worst = 0.0
    failures = []
    for g, w, case in zip(got, want, cases, strict=True):
        g = float(g)
        if math.isinf(w):
            err = 0.0 if g == math.inf else math.inf
        else:
            err = float(abs(mpmath.mpf(g) - w) / max(abs(w), TINY)) if math.isfinite(g) else math.inf
        worst = max(worst, err)
        if err <= bound:
            record(area, CORRECT)
        else:
            record(area, OTHER)
            failures.append((case, g, mpmath.nstr(w, 17), f"{err:.2e}"))
    slot = ref.WORST.setdefault((model, prediction), [0.0, bound, 0])
    slot[0] = max(slot[0], worst)
    slot[2] += len(got)
    assert not failures, f"{model}.{prediction}: {len(failures)} case(s) beyond {bound:g}: {failures[:5]}"


# ================================================================================================================
# BG/NBD and MBG/NBD
# ================================================================================================================
BG_PARAMS = [
    (0.243, 4.414, 0.793, 2.426),  # CDNOW, Fader, Hardie & Lee (2005), weeks
    (0.00336284, 0.0134865, 1.94518, 96.9734),  # the fit: tiny r and alpha
    (1e-3, 1e-2, 0.05, 0.08),  # tiny everything, a + b < 1
    (80.0, 1e3, 400.0, 2e3),  # huge shapes
    (2.0, 0.5, 1.00001, 3.0),  # a at the removable singularity
]
#: (x, tx, T): no repeat purchase (young and old), CDNOW-like, heavy buyers, frequency up to 1e5, T up to 1e5
BG_ROWS = [(0.0, 0.0, 1.0), (0.0, 0.0, 1e4), (2.0, 30.43, 38.86), (50.0, 70.0, 78.0), (1e3, 900.0, 1e3),
           (1e5, 8.36, 8.36), (1e4, 99990.0, 1e5)]
BG_T = [1.0, 39.0, 1e4]

KERNELS = {"bg": ("BetaGeo", _bgnbd), "mbg": ("ModifiedBetaGeo", _mbgnbd)}


def _bg_cases() -> list[tuple[tuple[float, ...], tuple[float, float, float], float]]:
    return [(p, row, BG_T[(i + j) % len(BG_T)]) for (i, p), (j, row) in
            itertools.product(enumerate(BG_PARAMS), enumerate(BG_ROWS))]


@pytest.mark.parametrize("model", ["bg", "mbg"])
def test_bg_probability_alive(model: str) -> None:
    name, kernel = KERNELS[model]
    cases = list(itertools.product(BG_PARAMS, BG_ROWS))
    got = [kernel.probability_alive(np.array(p), *(np.array([v]) for v in row))[0] for p, row in cases]
    with mpmath.workdps(ref.DPS):
        want = [ref.bg_alive(model, *p, *row) for p, row in cases]
    _check(name, "probability_alive", got, want, cases)


@pytest.mark.parametrize("model", ["bg", "mbg"])
def test_bg_expected_purchases_and_path(model: str) -> None:
    name, kernel = KERNELS[model]
    cases = _bg_cases()
    with mpmath.workdps(ref.DPS):
        want = [ref.bg_expected(model, *p, *row, t) for p, row, t in cases]
    # per-row horizons (the elementwise route) ...
    got = []
    for p, row, t in cases:
        got.append(kernel.expected_purchases(np.array(p), *(np.array([v]) for v in row), np.array([t]))[0])
    _check(name, "expected_purchases", got, want, cases)
    # ... and the path over all horizons at once for every customer of a parameter set (the shared route)
    x, tx, T = (np.array(col) for col in zip(*BG_ROWS, strict=True))
    paths = {p: kernel.expected_purchases_path(np.array(p), x, tx, T, np.array(BG_T)) for p in BG_PARAMS}
    got_path = [paths[p][BG_T.index(t), BG_ROWS.index(row)] for p, row, t in cases]
    _check(name, "expected_purchases_path", got_path, want, cases)


BG_PMF_N = [0.0, 1.0, 3.0, 40.0]


@pytest.mark.parametrize("model", ["bg", "mbg"])
def test_bg_probability_of_purchases(model: str) -> None:
    name, kernel = KERNELS[model]
    rows = [(0.0, 0.0, 1.0), (2.0, 30.43, 38.86), (50.0, 70.0, 78.0), (1e4, 99990.0, 1e5)]
    cases = [(p, row, n, t) for p, row, n, t in itertools.product(BG_PARAMS, rows, BG_PMF_N, [39.0, 1e4])]
    got = [kernel.probability_of_purchases(np.array(p), *(np.array([v]) for v in row), np.array([n]),
                                           np.array([t]))[0] for p, row, n, t in cases]
    with mpmath.workdps(ref.DPS):
        want = [ref.bg_pmf(model, *p, *row, n, t) for p, row, n, t in cases]
    _check(name, "probability_of_purchases", got, want, cases)


@pytest.mark.parametrize("model", ["bg", "mbg"])
def test_bg_new_customer(model: str) -> None:
    name, kernel = KERNELS[model]
    ts = [0.5, 39.0, 1e4, 1e5]
    cases = list(itertools.product(BG_PARAMS, ts))
    got = [kernel.expected_purchases_new(np.array(p), np.array([t]))[0] for p, t in cases]
    with mpmath.workdps(ref.DPS):
        want = [ref.bg_new_expected(model, *p, t) for p, t in cases]
    _check(name, "expected_purchases_new_customer", got, want, cases)
    pmf_cases = list(itertools.product(BG_PARAMS, [0.0, 1.0, 7.0, 60.0], [39.0, 1e4]))
    got = [kernel.probability_of_purchases_new(np.array(p), np.array([n]), np.array([t]))[0]
           for p, n, t in pmf_cases]
    with mpmath.workdps(ref.DPS):
        want = [ref.bg_new_pmf(model, *p, n, t) for p, n, t in pmf_cases]
    _check(name, "probability_of_purchases_new_customer", got, want, pmf_cases)


@pytest.mark.parametrize("model", ["bg", "mbg"])
def test_bg_dert(model: str) -> None:
    name, kernel = KERNELS[model]
    # mpmath's 2F1 with a large first parameter is slow inside a quadrature: heavy buyers are left to the
    # expected_purchases grid (the kernel's DERT integrates that same expectation).
    rows = [(0.0, 0.0, 1.0), (2.0, 30.43, 38.86), (7.0, 70.0, 78.0)]
    rates = [0.0019, 0.3, 1e-6]  # 10% a year on weeks, a large rate, a tiny one
    # (the huge-shape set too: a = 400 makes mpmath's 2F1 take minutes per row)
    params = [p for p in BG_PARAMS if p[2] < 100]
    cases = [(p, row, rates[(i + j) % 3]) for (i, p), (j, row) in itertools.product(enumerate(params),
                                                                                      enumerate(rows))][::2]
    got = [kernel.discounted_residual(np.array(p), *(np.array([v]) for v in row), d)[0] for p, row, d in cases]
    with mpmath.workdps(ref.DPS):
        want = [ref.bg_dert(model, *p, *row, d) for p, row, d in cases]
    _check(name, "discounted_expected_residual_transactions", got, want, cases)


# ================================================================================================================
# Pareto/NBD
# ================================================================================================================
PNBD_PARAMS = [
    (0.553, 10.578, 0.606, 11.669),  # CDNOW, Fader, Hardie & Lee (2005), weeks
    (1e-3, 1e-2, 2e-3, 5e-2),  # tiny
    (60.0, 300.0, 40.0, 1e3),  # huge shapes
    (2.0, 5.0, 1.0, 5.0),  # s at the removable singularity, alpha == beta
    (0.3, 100.0, 3.0, 0.01),  # alpha >> beta
]
PNBD_ROWS = [(0.0, 0.0, 1.0), (0.0, 0.0, 1e4), (2.0, 30.43, 38.86), (50.0, 70.0, 78.0), (1e3, 900.0, 1e3),
             (1e5, 8.0, 8.36), (1e4, 99990.0, 1e5)]


def test_pnbd_probability_alive_and_expected_purchases() -> None:
    cases = list(itertools.product(PNBD_PARAMS, PNBD_ROWS))
    with mpmath.workdps(ref.DPS):
        alive = [ref.pnbd_alive(*p, *row) for p, row in cases]
    got = [_paretonbd.probability_alive(np.array(p), *(np.array([v]) for v in row))[0] for p, row in cases]
    _check("ParetoNBD", "probability_alive", got, alive, cases)
    ecases = [(p, row, BG_T[k % 3]) for k, (p, row) in enumerate(cases)]
    with mpmath.workdps(ref.DPS):
        want = [ref.pnbd_expected(*p, *row, t) for p, row, t in ecases]
    got = [_paretonbd.expected_purchases(np.array(p), *(np.array([v]) for v in row), np.array([t]))[0]
           for p, row, t in ecases]
    _check("ParetoNBD", "expected_purchases", got, want, ecases)
    x, tx, T = (np.array(col) for col in zip(*PNBD_ROWS, strict=True))
    paths = {p: _paretonbd.expected_purchases_path(np.array(p), x, tx, T, np.array(BG_T)) for p in PNBD_PARAMS}
    got_path = [paths[p][BG_T.index(t), PNBD_ROWS.index(row)] for p, row, t in ecases]
    _check("ParetoNBD", "expected_purchases_path", got_path, want, ecases)


def test_pnbd_probability_of_purchases() -> None:
    rows = [(0.0, 0.0, 1.0), (2.0, 30.43, 38.86), (50.0, 70.0, 78.0)]
    cases = list(itertools.product(PNBD_PARAMS, rows, [0.0, 1.0, 4.0, 40.0], [39.0, 1e4]))
    cases = cases[::2]  # every other horizon: 60 rows
    got = [_paretonbd.probability_of_purchases(np.array(p), *(np.array([v]) for v in row), np.array([n]),
                                               np.array([t]))[0] for p, row, n, t in cases]
    with mpmath.workdps(ref.DPS):
        want = [ref.pnbd_pmf(*p, *row, n, t) for p, row, n, t in cases]
    _check("ParetoNBD", "probability_of_purchases", got, want, cases)


def test_pnbd_new_customer() -> None:
    cases = list(itertools.product(PNBD_PARAMS, [0.5, 39.0, 1e4, 1e5]))
    got = [_paretonbd.expected_purchases_new(np.array(p), np.array([t]))[0] for p, t in cases]
    with mpmath.workdps(ref.DPS):
        want = [ref.pnbd_new_expected(*p, t) for p, t in cases]
    _check("ParetoNBD", "expected_purchases_new_customer", got, want, cases)
    pmf_cases = list(itertools.product(PNBD_PARAMS, [0.0, 1.0, 7.0, 60.0], [39.0, 1e4]))[1::2]
    got = [_paretonbd.probability_of_purchases_new(np.array(p), np.array([n]), np.array([t]))[0]
           for p, n, t in pmf_cases]
    with mpmath.workdps(ref.DPS):
        want = [ref.pnbd_new_pmf(*p, n, t) for p, n, t in pmf_cases]
    _check("ParetoNBD", "probability_of_purchases_new_customer", got, want, pmf_cases)


def test_pnbd_dert() -> None:
    rates = [0.0019, 0.3, 1e-6]
    cases = [(p, row, rates[k % 3]) for k, (p, row) in enumerate(itertools.product(PNBD_PARAMS, PNBD_ROWS))]
    got = [_paretonbd.discounted_residual(np.array(p), *(np.array([v]) for v in row), d)[0] for p, row, d in cases]
    with mpmath.workdps(ref.DPS):
        want = [ref.pnbd_dert(*p, *row, d) for p, row, d in cases]
    _check("ParetoNBD", "discounted_expected_residual_transactions", got, want, cases)


# ================================================================================================================
# BG/BB
# ================================================================================================================
BGBB_PARAMS = [
    (1.204, 0.750, 0.657, 2.783),  # donations data, Fader, Hardie & Shang (2010), Table 1
    (0.05, 0.1, 0.02, 0.03),  # tiny
    (50.0, 200.0, 30.0, 300.0),  # huge
    (2.0, 3.0, 1.0001, 4.0),  # gamma near 1 (eq. 13's delta/(gamma-1))
]
#: (x, tx, n): the paper's 6 opportunities, a thousand and ten thousand, and 1e5 with a recent last purchase
BGBB_ROWS = [(0, 0, 6), (3, 5, 6), (6, 6, 6), (0, 0, 1000), (10, 400, 1000), (500, 9000, 10000),
             (50, 99500, 100000)]


def _bgbb_args(row: tuple[int, int, int]) -> tuple[np.ndarray, ...]:
    return tuple(np.array([float(v)]) for v in row)


def test_bgbb_alive_expected_and_path() -> None:
    cases = list(itertools.product(BGBB_PARAMS, BGBB_ROWS))
    with mpmath.workdps(ref.DPS):
        want = [ref.bgbb_alive(*p, *row) for p, row in cases]
    got = [_bgbb.probability_alive(np.array(p), *_bgbb_args(row))[0] for p, row in cases]
    _check("BetaGeoBetaBinom", "probability_alive", got, want, cases)
    horizons = [1, 10, 1000, 100000]
    ecases = [(p, row, t) for (p, row), t in itertools.product(cases, horizons)]
    with mpmath.workdps(ref.DPS):
        want = [ref.bgbb_expected(*p, *row, t) for p, row, t in ecases]
    got = [_bgbb.expected_purchases(np.array(p), *_bgbb_args(row), np.array([float(t)]))[0] for p, row, t in ecases]
    _check("BetaGeoBetaBinom", "expected_purchases", got, want, ecases)
    got_path = []
    for p in BGBB_PARAMS:
        x, tx, n = (np.array(col, dtype=float) for col in zip(*BGBB_ROWS, strict=True))
        path = _bgbb.expected_purchases_path(np.array(p), x, tx, n, np.array(horizons, dtype=float))
        got_path += [path[i, j] for j in range(len(BGBB_ROWS)) for i in range(len(horizons))]
    _check("BetaGeoBetaBinom", "expected_purchases_path", got_path, want, ecases)


def test_bgbb_probability_of_purchases() -> None:
    rows = [(0, 0, 6), (3, 5, 6), (10, 400, 1000), (50, 99500, 100000)]
    cases = list(itertools.product(BGBB_PARAMS, rows, [0, 1, 5], [5, 300]))
    got = [_bgbb.probability_of_purchases(np.array(p), *_bgbb_args(row), np.array([float(k)]),
                                          np.array([float(t)]))[0] for p, row, k, t in cases]
    with mpmath.workdps(ref.DPS):
        want = [ref.bgbb_pmf(*p, *row, k, t) for p, row, k, t in cases]
    _check("BetaGeoBetaBinom", "probability_of_purchases", got, want, cases)


def test_bgbb_new_customer() -> None:
    cases = list(itertools.product(BGBB_PARAMS, [1, 6, 1000, 100000]))
    got = [_bgbb.expected_purchases_new(np.array(p), np.array([float(t)]))[0] for p, t in cases]
    with mpmath.workdps(ref.DPS):
        want = [ref.bgbb_new_expected(*p, t) for p, t in cases]
    _check("BetaGeoBetaBinom", "expected_purchases_new_customer", got, want, cases)
    pmf_cases = list(itertools.product(BGBB_PARAMS, [0, 1, 3, 6], [6, 200]))
    got = [_bgbb.probability_of_purchases_new(np.array(p), np.array([float(k)]), np.array([float(t)]))[0]
           for p, k, t in pmf_cases]
    with mpmath.workdps(ref.DPS):
        want = [ref.bgbb_new_pmf(*p, k, t) for p, k, t in pmf_cases]
    _check("BetaGeoBetaBinom", "probability_of_purchases_new_customer", got, want, pmf_cases)


def test_bgbb_dert() -> None:
    cases = list(itertools.product(BGBB_PARAMS, BGBB_ROWS, [1e-3, 0.1, 2.0]))[::2]
    got = [_bgbb.discounted_residual(np.array(p), *_bgbb_args(row), d)[0] for p, row, d in cases]
    with mpmath.workdps(ref.DPS):
        want = [ref.bgbb_dert(*p, *row, d) for p, row, d in cases]
    _check("BetaGeoBetaBinom", "discounted_expected_residual_transactions", got, want, cases)


# ================================================================================================================
# sBG and Gamma-Gamma
# ================================================================================================================
SBG_PARAMS = [
    (0.668, 3.806),  # "regular" cohort, Fader & Hardie (2007)
    (0.704, 1.182),  # "high end" cohort
    (0.01, 0.02),  # tiny
    (1e3, 5e3),  # huge
    (1.00001, 2.0),  # alpha just above 1 (finite, huge lifetime)
]
SBG_T = [0.0, 1.0, 5.0, 12.0, 100.0, 1e4, 1e6]


def _vals(fn: Callable[..., np.ndarray], p: tuple[float, float], t: float) -> float:
    return float(fn(np.array(p), np.array([t]))[0])


def test_sbg_curves() -> None:
    cases = list(itertools.product(SBG_PARAMS, SBG_T))
    with mpmath.workdps(ref.DPS):
        want = [ref.sbg_survival(*p, t) for p, t in cases]
    _check("ShiftedBetaGeo", "survival", [_vals(_sbg.survival, p, t) for p, t in cases], want, cases)
    pos = [(p, t) for p, t in cases if t >= 1]
    with mpmath.workdps(ref.DPS):
        churn = [ref.sbg_churn(*p, t) for p, t in pos]
        keep = [ref.sbg_retention(*p, t) for p, t in pos]
    _check("ShiftedBetaGeo", "probability_churn", [_vals(_sbg.probability_churn, p, t) for p, t in pos], churn, pos)
    _check("ShiftedBetaGeo", "retention_rate", [_vals(_sbg.retention_rate, p, t) for p, t in pos], keep, pos)
    with mpmath.workdps(ref.DPS):
        life = [ref.sbg_lifetime(*p) for p in SBG_PARAMS]
    _check("ShiftedBetaGeo", "expected_lifetime", [_sbg.expected_lifetime(np.array(p)) for p in SBG_PARAMS], life,
           SBG_PARAMS)


def test_sbg_derl() -> None:
    # Rates of at least 0.1 per period (and d = 0): below, mpmath.hyp2f1 near z = 1 takes minutes per row.
    cases = list(itertools.product(SBG_PARAMS, [0.0, 1.0, 7.0, 1e4], [0.1, 2.0, 0.0]))
    got = [float(_sbg.derl(np.array(p), np.array([m]), d)[0]) for p, m, d in cases]
    with mpmath.workdps(ref.DPS):
        want = [ref.sbg_derl(*p, m, d) for p, m, d in cases]
    _check("ShiftedBetaGeo", "discounted_expected_residual_lifetime", got, want, cases)


GG_PARAMS = [(6.25, 3.74, 15.44), (1e-3, 1.001, 1e-2), (1e3, 1e4, 1e5)]  # CDNOW (FHL 2005), tiny, huge


def test_gamma_gamma_expected_spend() -> None:
    cases = list(itertools.product(GG_PARAMS, [0.0, 1.0, 5.0, 1e5], [0.01, 35.0, 1e6]))
    got = [_gammagamma.expected_spend(np.array(p), np.array([x]), np.array([m]))[0] for p, x, m in cases]
    with mpmath.workdps(ref.DPS):
        want = [ref.gg_spend(*p, x, m) for p, x, m in cases]
    _check("GammaGamma", "expected_spend", got, want, cases)


# ================================================================================================================
# Gamma-Gompertz/NBD
# ================================================================================================================
GGOM_PARAMS = [
    (0.55313, 10.5758, 1.1e-6, 0.60682, 1.3e-5),  # CDNOW, CLVTools' test suite (the Pareto/NBD ridge), weeks
    (0.55, 10.58, 0.02, 0.61, 0.2),  # a falling marginal hazard (benchmarks/bench_ggomnbd.py)
    (1.2, 3.0, 0.2, 2.0, 30.0),  # a rising hazard with a mode
    (5.0, 100.0, 2.0, 0.1, 0.01),  # fast Gompertz clock, tiny s and beta
]
GGOM_ROWS = [(0.0, 0.0, 1.0), (2.0, 30.43, 38.86), (50.0, 70.0, 78.0), (500.0, 1000.0, 1200.0),
             (3.0, 5.0, 3000.0)]
GGOM_T = [1.0, 39.0, 1e3]


def test_ggom_alive_expected_and_path() -> None:
    cases = list(itertools.product(GGOM_PARAMS, GGOM_ROWS))
    with mpmath.workdps(ref.DPS):
        alive = [ref.ggom_alive(*p, *row) for p, row in cases]
    got = [_ggomnbd.probability_alive(np.array(p), *(np.array([v]) for v in row))[0] for p, row in cases]
    _check("GammaGompertzNBD", "probability_alive", got, alive, cases)
    ecases = [(p, row, GGOM_T[k % 3]) for k, (p, row) in enumerate(cases)]
    with mpmath.workdps(ref.DPS):
        want = [ref.ggom_expected(*p, *row, t) for p, row, t in ecases]
    got = [_ggomnbd.expected_purchases(np.array(p), *(np.array([v]) for v in row), np.array([t]))[0]
           for p, row, t in ecases]
    _check("GammaGompertzNBD", "expected_purchases", got, want, ecases)
    x, tx, T = (np.array(col) for col in zip(*GGOM_ROWS, strict=True))
    paths = {p: _ggomnbd.expected_purchases_path(np.array(p), x, tx, T, np.array(GGOM_T)) for p in GGOM_PARAMS}
    got_path = [paths[p][GGOM_T.index(t), GGOM_ROWS.index(row)] for p, row, t in ecases]
    _check("GammaGompertzNBD", "expected_purchases_path", got_path, want, ecases)


def test_ggom_probability_of_purchases() -> None:
    rows = [(0.0, 0.0, 1.0), (2.0, 30.43, 38.86), (50.0, 70.0, 78.0)]
    cases = list(itertools.product(GGOM_PARAMS, rows, [0.0, 1.0, 4.0], [39.0]))[::2]
    got = [_ggomnbd.probability_of_purchases(np.array(p), *(np.array([v]) for v in row), np.array([n]),
                                             np.array([t]))[0] for p, row, n, t in cases]
    with mpmath.workdps(ref.DPS):
        want = [ref.ggom_pmf(*p, *row, n, t) for p, row, n, t in cases]
    _check("GammaGompertzNBD", "probability_of_purchases", got, want, cases)


def test_ggom_new_customer_and_dert() -> None:
    cases = list(itertools.product(GGOM_PARAMS, [0.5, 39.0, 1e3]))
    got = [_ggomnbd.expected_purchases_new(np.array(p), np.array([t]))[0] for p, t in cases]
    with mpmath.workdps(ref.DPS):
        want = [ref.ggom_new_expected(*p, t) for p, t in cases]
    _check("GammaGompertzNBD", "expected_purchases_new_customer", got, want, cases)
    pmf_cases = list(itertools.product(GGOM_PARAMS, [0.0, 1.0, 7.0], [39.0]))
    got = [_ggomnbd.probability_of_purchases_new(np.array(p), np.array([n]), np.array([t]))[0]
           for p, n, t in pmf_cases]
    with mpmath.workdps(ref.DPS):
        want = [ref.ggom_new_pmf(*p, n, t) for p, n, t in pmf_cases]
    _check("GammaGompertzNBD", "probability_of_purchases_new_customer", got, want, pmf_cases)
    rates = [0.0019, 0.3, 1e-6]
    dcases = [(p, row, rates[k % 3]) for k, (p, row) in enumerate(itertools.product(GGOM_PARAMS, GGOM_ROWS[:3]))]
    got = [_ggomnbd.discounted_residual(np.array(p), *(np.array([v]) for v in row), d)[0] for p, row, d in dcases]
    with mpmath.workdps(ref.DPS):
        want = [ref.ggom_dert(*p, *row, d) for p, row, d in dcases]
    _check("GammaGompertzNBD", "discounted_expected_residual_transactions", got, want, dcases)


# The CNBD-k family (k > 1: no closed form; k = 1 is the BG/NBD and MBG/NBD above)
# ================================================================================================================
CNBD_NAMES = {"nbd": "CNBD", "bg": "BetaGeoCNBD", "mbg": "ModifiedBetaGeoCNBD"}
#: (k, r, alpha, a, b): grocery-like MBG/CNBD-2 (clvkit's fit of BTYDplus's grocery data), BTYDplus's simulation
#: settings at k = 3, tiny dropout shapes with a + b < 1, huge shapes, strongly regular k = 8.
CNBD_PARAMS = [(2, 1.33, 2.81, 0.42, 0.79), (3, 0.85, 1.45, 0.79, 2.42), (2, 0.05, 0.2, 0.02, 0.05),
               (4, 50.0, 100.0, 40.0, 80.0), (8, 2.0, 1.0, 1.5, 3.0)]
#: (x, tx, T): no repeat purchase (young and old), grocery-like, a long gap since the last purchase, a heavy buyer
CNBD_ROWS = [(0.0, 0.0, 1.0), (0.0, 0.0, 1e3), (5.0, 30.0, 52.0), (2.0, 5.0, 300.0), (200.0, 190.0, 200.0)]
CNBD_T = [1.0, 52.0]


def _cnbd_params(family: str, p: tuple[float, ...]) -> np.ndarray:
    return np.array(p[:3] if family == "nbd" else p, dtype=np.float64)


@pytest.mark.parametrize("family", ["nbd", "bg", "mbg"])
def test_cnbd_probability_alive_and_expected_purchases(family: str) -> None:
    name = CNBD_NAMES[family]
    cases = list(itertools.product(CNBD_PARAMS, CNBD_ROWS))
    got = [_cnbd.probability_alive(_cnbd_params(family, p), *(np.array([v]) for v in row), family)[0]
           for p, row in cases]
    with mpmath.workdps(ref.DPS):
        want = [ref.cnbd_posterior(family, *p, *row)[0] for p, row in cases]
    _check(name, "probability_alive", got, want, cases)
    # horizons up to 52 and not the heavy buyer: the reference's series runs over ~E[N]/k terms of 40-digit incomplete
    # beta functions (minutes at t = 2000); long horizons and large x are checked against the k = 1 closed forms in
    # tests/test_cnbd_correctness.py
    cases_t = list(itertools.product(CNBD_PARAMS, CNBD_ROWS[:4], CNBD_T))
    got = [_cnbd.expected_purchases(_cnbd_params(family, p), *(np.array([v]) for v in row), np.array([t]),
                                    family)[0] for p, row, t in cases_t]
    with mpmath.workdps(ref.DPS):
        want = [ref.cnbd_expected(family, *p, *row, t) for p, row, t in cases_t]
    _check(name, "expected_purchases", got, want, cases_t)


@pytest.mark.parametrize("family", ["nbd", "bg", "mbg"])
def test_cnbd_probability_of_purchases(family: str) -> None:
    name = CNBD_NAMES[family]
    cases = list(itertools.product(CNBD_PARAMS, CNBD_ROWS[:4], [0, 1, 3, 20], [52.0]))
    got = [_cnbd.probability_of_purchases(_cnbd_params(family, p), *(np.array([v]) for v in row),
                                          np.array([float(n)]), np.array([t]), family)[0]
           for p, row, n, t in cases]
    with mpmath.workdps(ref.DPS):
        want = [ref.cnbd_pmf(family, *p, *row, n, t) for p, row, n, t in cases]
    _check(name, "probability_of_purchases", got, want, cases)
