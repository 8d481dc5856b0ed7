"""Hypothesis over model checking and uncertainty: hostile settings and summaries; a typed error or a finite result.

Also P(alive) of BG/NBD and MBG/NBD against mpmath on an extreme grid (closed forms, 50 digits).
"""

from __future__ import annotations

from typing import Any

import mpmath
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clvkit import CustomerSummary
from clvkit.datasets import load_cdnow_summary
from clvkit.valuation import (
    BetaGeo,
    BetaGeoParams,
    FittedBetaGeo,
    FittedModifiedBetaGeo,
    GammaGamma,
    ModifiedBetaGeoParams,
    clv_intervals,
    compare,
    conditional_expectations,
    frequency_histogram,
    holdout_evaluation,
    information_criteria,
    likelihood_ratio_test,
    parameter_intervals,
    parametric_bootstrap,
    prediction_intervals,
    recommend,
)
from clvkit.valuation.models import _bgnbd, _mbgnbd

from ._probe import probe
from .test_public_api import HOSTILE_SCALAR, NUMBERS

SETTINGS = settings(max_examples=30, suppress_health_check=list(HealthCheck), deadline=None)
CDNOW = load_cdnow_summary()
BG = BetaGeo().fit(CDNOW)
GG = GammaGamma().fit(CDNOW)
SMALL = CustomerSummary(frequency=[0, 2, 5], recency=[0.0, 10.0, 30.0], T=[39.0, 39.0, 35.0], time_unit="W",
                        frequency_holdout=[0, 1, 3], duration_holdout=39.0)


@SETTINGS
@pytest.mark.filterwarnings("ignore::clvkit.ConvergenceWarning")  # recommend() fits Pareto/NBD on 3 customers
@given(max_frequency=HOSTILE_SCALAR, level=HOSTILE_SCALAR, criterion=st.one_of(st.sampled_from(["rmse", "mae",
       "aic", "bic", "nope"]), HOSTILE_SCALAR), df=st.one_of(st.none(), HOSTILE_SCALAR),
       summary=st.sampled_from(["cdnow", "small", "weekly-days", "none"]),
       names=st.sampled_from([None, ["bgnbd"], ["pnbd", "mbgnbd"], ["bgbb"], ["nope"], [], "pnbd", ["pnbd", "pnbd"],
                              [3], ("bgnbd",)]))
def test_model_checking(max_frequency: Any, level: Any, criterion: Any, df: Any, summary: str, names: Any) -> None:
    s: Any = {"cdnow": CDNOW, "small": SMALL, "weekly-days": SMALL.with_time_unit("D"), "none": None}[summary]
    probe("model checking", lambda: frequency_histogram(BG, s, max_frequency=max_frequency))
    # A bin without customers has no mean: documented as NaN there, so only the bins with customers are judged.
    def occupied_bins() -> Any:
        ce = conditional_expectations(BG, s, max_frequency=max_frequency)
        return ce.predicted[ce.n_customers > 0], ce.actual[ce.n_customers > 0]

    probe("model checking", occupied_bins)
    probe("model checking", lambda: holdout_evaluation(BG, s))
    probe("model checking", lambda: compare({"bg": BG}, s, criterion=criterion))
    probe("model checking", lambda: recommend(s, models=names, tie_tolerance=level))
    probe("model checking", lambda: compare(names, s, criterion=criterion))
    probe("model checking", lambda: information_criteria(BG))
    probe("model checking", lambda: likelihood_ratio_test(BG, BG, df=df))
    probe("model checking", lambda: parameter_intervals(BG, level=level))


@settings(max_examples=15, suppress_health_check=list(HealthCheck), deadline=None)
@given(n_draws=st.one_of(st.integers(-2, 20), HOSTILE_SCALAR), level=HOSTILE_SCALAR,
       seed=st.one_of(st.integers(0, 5), HOSTILE_SCALAR), horizon=st.one_of(st.integers(1, 12), HOSTILE_SCALAR),
       spend=st.one_of(NUMBERS, st.just("model")))
def test_uncertainty(n_draws: Any, level: Any, seed: Any, horizon: Any, spend: Any) -> None:
    s = CDNOW.take(np.arange(50))
    probe("uncertainty", lambda: prediction_intervals(BG, s, lambda m, x: m.expected_purchases(x, 39.0),
                                                      n_draws=n_draws, level=level, seed=seed))
    probe("uncertainty", lambda: clv_intervals(BG, GG if spend == "model" else spend, s, n_draws=n_draws, level=level,
                                               seed=seed, horizon=horizon, discount_rate=0.01))
    small_draws = n_draws if isinstance(n_draws, int) and not isinstance(n_draws, bool) and n_draws <= 3 else 2
    probe("uncertainty", lambda: parametric_bootstrap(BetaGeo(max_iter=50), BG, s, small_draws, seed=seed))


def _mp_p_alive(model: str, r: float, alpha: float, a: float, b: float, x: float, tx: float, T: float) -> float:
    """P(alive): BG/NBD (FHL 2005 eq. 13) and MBG/NBD (Batislam et al. 2007), at 50 digits."""
    with mpmath.workdps(50):
        r_, al, a_, b_, x_, tx_, T_ = (mpmath.mpf(v) for v in (r, alpha, a, b, x, tx, T))
        ratio = ((al + T_) / (al + tx_)) ** (r_ + x_)
        if model == "bg":
            odds = a_ / (b_ + x_ - 1) * ratio if x > 0 else mpmath.mpf(0)
        else:
            odds = a_ / (b_ + x_) * ratio
        return float(1 / (1 + odds))


GRID = [((0.243, 4.414, 0.793, 2.426), (2.0, 30.43, 38.86)), ((0.243, 4.414, 0.793, 2.426), (0.0, 0.0, 38.86)),
        ((1e-3, 1e3, 1e3, 1e-3), (1e4, 1.0, 1e4)), ((1e3, 1e-3, 1e-3, 1e3), (1e4, 9999.0, 1e4)),
        ((0.00336284, 0.0134865, 1.94518, 96.9734), (1e5, 8.36, 8.36)), ((2.0, 1.0, 0.5, 0.5), (50.0, 0.1, 1e3)),
        ((0.5, 100.0, 5.0, 1.0), (1.0, 1e-6, 1e4))]


@pytest.mark.parametrize(("model", "kernel"), [("bg", _bgnbd), ("mbg", _mbgnbd)])
def test_probability_alive_matches_mpmath(model: str, kernel: Any) -> None:
    worst = 0.0
    for params, (x, tx, T) in GRID:
        got = float(kernel.probability_alive(np.array(params), np.array([x]), np.array([tx]), np.array([T]))[0])
        ref = _mp_p_alive(model, *params, x, tx, T)
        if ref == 0.0:
            assert got == 0.0 or got < 1e-300
            continue
        worst = max(worst, abs(got / ref - 1.0))
    assert worst <= 1e-12, worst


def test_models_of_other_kinds_in_checking_are_typed_errors() -> None:
    mbg = FittedModifiedBetaGeo(params=ModifiedBetaGeoParams(r=0.5, alpha=6.0, a=0.9, b=1.6), time_unit="W")
    probe("model checking", lambda: compare({"bg": BG, "mbg": mbg}, SMALL))  # two kinds, built by hand: no fit info
    probe("model checking", lambda: frequency_histogram(GG, CDNOW))  # a spend model is not a count model
    probe("model checking", lambda: likelihood_ratio_test(FittedBetaGeo(params=BetaGeoParams(r=1, alpha=1, a=1, b=1)),
                                                          BG))
