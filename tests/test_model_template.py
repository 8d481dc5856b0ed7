"""The one count-model template: what every count model now shares, and the defects the review found.

Each defect test failed before the change that fixed it (issue 9):
- ``expected_purchases(s, [1, 2, 3])`` on 2 customers raised a raw numpy ``ValueError`` on BG/NBD and
  MBG/NBD (Pareto/NBD alone checked broadcasting);
- ``FitInfo.aic/bic`` counted k = 0 parameters for a fit without standard errors.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import clvkit
from clvkit import CustomerSummary, InvalidInputError
from clvkit.protocols import CountModel, EstimatedModel, TransactionModel
from clvkit.valuation import (
    BetaGeoBetaBinomParams,
    BetaGeoParams,
    FitInfo,
    FittedBetaGeo,
    FittedBetaGeoBetaBinom,
    FittedModifiedBetaGeo,
    FittedParetoNBD,
    ModifiedBetaGeoParams,
    ParetoNBDParams,
)
from clvkit.valuation.models import _generic
from clvkit.valuation.models import _paretonbd as pareto_kernel

CONTINUOUS = {
    "BetaGeo": FittedBetaGeo(params=BetaGeoParams(r=0.243, alpha=4.414, a=0.793, b=2.426), time_unit="W"),
    "ModifiedBetaGeo": FittedModifiedBetaGeo(params=ModifiedBetaGeoParams(r=0.525, alpha=6.183, a=0.891, b=1.614),
                                             time_unit="W"),
    "ParetoNBD": FittedParetoNBD(params=ParetoNBDParams(r=0.553, alpha=10.578, s=0.606, beta=11.669), time_unit="W"),
}
BGBB = FittedBetaGeoBetaBinom(params=BetaGeoBetaBinomParams(alpha=1.204, beta=0.750, gamma=0.657, delta=2.783),
                              time_unit="Y")
ALL = {**CONTINUOUS, "BetaGeoBetaBinom": BGBB}
WEEKS = CustomerSummary(frequency=[0, 2, 7], recency=[0.0, 30.43, 36.0], T=[38.86, 38.86, 38.86], time_unit="W")
YEARS = CustomerSummary(frequency=[0, 2, 6], recency=[0, 4, 6], T=[6, 6, 6], time_unit="Y")


def _customers(name: str) -> CustomerSummary:
    return YEARS if name == "BetaGeoBetaBinom" else WEEKS


@pytest.mark.parametrize("name", sorted(ALL))
def test_every_count_model_plays_every_role(name: str) -> None:
    model = ALL[name]
    assert isinstance(model, TransactionModel)
    assert isinstance(model, CountModel)
    assert isinstance(model, EstimatedModel)


@pytest.mark.parametrize("name", sorted(ALL))
def test_horizons_that_do_not_broadcast_are_a_typed_error_everywhere(name: str) -> None:
    model, s = ALL[name], _customers(name)
    with pytest.raises(InvalidInputError, match=r"'t' \(shape \(4,\)\) must be scalars or broadcastable to the 3"):
        model.expected_purchases(s, [1, 2, 3, 4])
    with pytest.raises(InvalidInputError, match="broadcastable"):
        model.probability_of_purchases(s, [0, 1], 2)


@pytest.mark.parametrize("name", sorted(ALL))
def test_path_equals_expected_purchases_at_each_horizon(name: str) -> None:
    model, s = ALL[name], _customers(name)
    ts = np.array([1.0, 2.0, 5.0, 13.0])
    path = model.expected_purchases_path(s, ts)
    assert path.shape == (4, 3)
    for i, t in enumerate(ts):
        np.testing.assert_allclose(path[i], model.expected_purchases(s, t), rtol=1e-12)


@pytest.mark.parametrize("name", sorted(ALL))
def test_new_customer_pmf_sums_to_one_and_has_the_new_customer_mean(name: str) -> None:
    model = ALL[name]
    t = 6.0 if name == "BetaGeoBetaBinom" else 39.0
    n = np.arange(0, 7 if name == "BetaGeoBetaBinom" else 400)
    pmf = model.probability_of_purchases_new_customer(n, t)
    assert pmf.shape == n.shape and np.all(pmf >= 0.0)
    assert pmf.sum() == pytest.approx(1.0, abs=1e-8)
    assert float(n @ pmf) == pytest.approx(float(model.expected_purchases_new_customer(t)), rel=1e-6)


def test_dert_quadrature_reproduces_the_pareto_nbd_closed_form() -> None:
    # Independent check of the quadrature the BG/NBD family uses for DERT: applied to the Pareto/NBD's
    # expected purchases it must give the closed-form DERT (Fader, Hardie & Lee 2005) at delta = log(1+d).
    params = CONTINUOUS["ParetoNBD"].param_array()
    x, tx, T = WEEKS.frequency, WEEKS.recency, WEEKS.T
    for d in (1e-5, 0.0027, 0.05, 2.0):
        by_quadrature = _generic.discounted_residual_from_path(pareto_kernel.expected_purchases_path, params,
                                                               x, tx, T, d)
        closed = pareto_kernel.dert(params, x, tx, T, math.log1p(d))
        np.testing.assert_allclose(by_quadrature, closed, rtol=1e-12)


@pytest.mark.parametrize("name", sorted(CONTINUOUS))
def test_dert_is_the_limit_of_discounting_ever_shorter_periods(name: str) -> None:
    # sum_k [E X(k h) - E X((k-1) h)] (1+d)^(-k h) -> DERT as the period h -> 0 (d per time unit). With h = 1/2
    # week over 30 years the sum is within 1% (first-order error about d h / 2 = 0.25%, tail below 1e-6).
    model, d = CONTINUOUS[name], 0.01
    h = 0.5
    k = np.arange(1, int(52 * 30 / h) + 1)
    cum = model.expected_purchases_path(WEEKS, k * h)
    riemann = ((1.0 + d) ** (-k * h)) @ np.diff(cum, axis=0, prepend=0.0)
    np.testing.assert_allclose(model.discounted_expected_residual_transactions(WEEKS, d), riemann, rtol=1e-2)


@pytest.mark.parametrize("name", sorted(ALL))
def test_simulated_customers_refit_near_the_truth(name: str) -> None:
    from clvkit.valuation import BetaGeo, BetaGeoBetaBinom, ModifiedBetaGeo, ParetoNBD

    engines = {"BetaGeo": BetaGeo, "ModifiedBetaGeo": ModifiedBetaGeo, "ParetoNBD": ParetoNBD,
               "BetaGeoBetaBinom": BetaGeoBetaBinom}
    model = ALL[name]
    T = np.full(40_000, 6.0) if name == "BetaGeoBetaBinom" else np.random.default_rng(1).uniform(30.0, 40.0, 40_000)
    sim = model.simulate(T, seed=11)
    assert sim.time_unit == model.time_unit and np.all(sim.recency <= sim.T)
    refit = engines[name]().fit(sim)
    se = np.array(list(refit.standard_errors.values()))  # type: ignore[union-attr]
    # Within 4 standard errors of the parameters the data were drawn from.
    assert np.all(np.abs(refit.param_array() - model.param_array()) < 4.0 * se), (refit.params, se)


def test_aic_counts_every_parameter_even_without_standard_errors() -> None:
    info = FitInfo(log_likelihood=-100.0, n_customers=50.0, n_rows=10, n_iterations=5, n_evaluations=9,
                   converged=True, gradient_norm=0.0, message="ok", penalizer=0.0, n_params=4)
    assert info.aic == pytest.approx(208.0)  # 2k - 2LL with k = 4 (was 200: k = 0)
    assert info.bic == pytest.approx(4 * math.log(50.0) + 200.0)


def test_a_model_saved_before_n_params_existed_loads_with_it() -> None:
    model = CONTINUOUS["BetaGeo"]
    info = FitInfo(log_likelihood=-9582.4, n_customers=2357.0, n_rows=10, n_iterations=5, n_evaluations=9,
                   converged=False, gradient_norm=1.0, message="no SE", penalizer=0.0)
    doc = json.loads(model.model_copy(update={"fit_info": info}).to_json())
    doc["fit_info"].pop("n_params")
    loaded = clvkit.load_json(json.dumps(doc))
    assert loaded.fit_info is not None and loaded.fit_info.n_params == 4
    assert loaded.fit_info.aic == pytest.approx(8.0 + 2 * 9582.4)


def test_with_param_array_is_a_copy_at_other_parameters() -> None:
    model = CONTINUOUS["ParetoNBD"]
    moved = model.with_param_array([0.6, 10.0, 0.5, 12.0])
    assert moved.params == ParetoNBDParams(r=0.6, alpha=10.0, s=0.5, beta=12.0) and moved.fit_info is None
    with pytest.raises(InvalidInputError, match="needs 4 values"):
        model.with_param_array([1.0])
    with pytest.raises(InvalidInputError, match="with_param_array"):
        model.with_param_array([1.0, -1.0, 1.0, 1.0])


def test_fit_keeps_its_argument_names() -> None:
    # Users' code calls fit(summary=...) and, for sBG, fit(contracts=...): the names are part of the contract.
    from clvkit import ContractSummary
    from clvkit.datasets import load_cdnow_summary
    from clvkit.valuation import BetaGeo, ShiftedBetaGeo

    assert BetaGeo().fit(summary=load_cdnow_summary()).fit_info is not None
    alive = [1000, 631, 468, 382, 326, 289, 262, 241]
    assert ShiftedBetaGeo().fit(contracts=ContractSummary.from_survival_counts(alive, time_unit="Y")).fit_info


@pytest.mark.parametrize("name", sorted(ALL))
def test_simulated_frequency_has_the_new_customer_mean(name: str) -> None:
    # A customer simulated over an age T has E[X(T)] repeat purchases (the unconditional expectation, eq. 9 of
    # FHL 2005 for BG/NBD, eq. 7 of Fader, Hardie & Shang 2010 for BG/BB): the sample mean of 200,000 draws is
    # within 5 standard errors of it. BG/BB also at 10**9 opportunities, the MAX_SIMULATED_AGE (constant work per
    # customer); beyond it, a typed error.
    model = ALL[name]
    age = 6.0 if name == "BetaGeoBetaBinom" else 39.0
    sim = model.simulate(np.full(200_000, age), seed=3)
    expected = float(model.expected_purchases_new_customer(age))
    assert abs(sim.frequency.mean() - expected) < 5 * sim.frequency.std() / math.sqrt(200_000)
    assert np.all(sim.recency <= sim.T) and np.all((sim.frequency > 0) | (sim.recency == 0))
    if name == "BetaGeoBetaBinom":
        huge = model.simulate(np.full(3, 1e9), seed=1)
        assert np.all(huge.frequency <= huge.recency)
    with pytest.raises(InvalidInputError, match="MAX_SIMULATED_AGE"):
        model.simulate([1e12], seed=1)
