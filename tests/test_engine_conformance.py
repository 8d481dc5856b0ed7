"""One conformance suite over every engine: the count models (BG/NBD, MBG/NBD, Pareto/NBD, BG/BB, the CNBD-k
family), the Gamma-Gamma spend model and the sBG contract model.

Each engine must: fit the field's data set it is published on and report a complete fit (every
:class:`~clvkit.valuation.FitInfo` field, standard errors and their covariance); persist exactly as JSON;
give the same optimum on unit rows, on compressed (weighted unique) rows and in any row order; refuse data
in another time unit and batches of the wrong kind. Then each kind of model has the properties that apply
to it, for any valid parameters:

- count models: finite probabilities in [0, 1], non-negative expectations that do not decrease with the
  horizon, a purchase-count distribution that is a (sub-)probability; the continuous-time ones are
  unchanged by rescaling the time unit;
- spend model: the expected spend is positive and lies between the population mean and the customer's
  own mean, rising with the latter; its estimates do not depend on the time unit;
- contract model: a survival curve from 1 that never rises, churn probabilities that are its decrements,
  retention rates that are its ratios and rise with tenure, and discounted residual lifetimes that fall
  with the discount rate.

The suite names its engines explicitly (an engine that fails to import fails it) and checks that the list
is every engine ``clvkit.valuation`` exports and every model kind :func:`clvkit.load_json` restores.
"""

from __future__ import annotations

import json
import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import clvkit.valuation as valuation
from clvkit import ContractSummary, ConvergenceWarning, CustomerSummary, InvalidInputError, load_json
from clvkit.persistence import registered_models
from clvkit.valuation import (
    CNBD,
    BetaGeo,
    BetaGeoBetaBinom,
    BetaGeoBetaBinomParams,
    BetaGeoCNBD,
    BetaGeoCNBDParams,
    BetaGeoParams,
    CNBDParams,
    Engine,
    FittedBetaGeo,
    FittedBetaGeoBetaBinom,
    FittedBetaGeoCNBD,
    FittedCNBD,
    FittedGammaGamma,
    FittedGammaGompertzNBD,
    FittedModel,
    FittedModifiedBetaGeo,
    FittedModifiedBetaGeoCNBD,
    FittedParetoNBD,
    FittedShiftedBetaGeo,
    GammaGamma,
    GammaGammaParams,
    GammaGompertzNBD,
    GammaGompertzNBDParams,
    ModifiedBetaGeo,
    ModifiedBetaGeoCNBD,
    ModifiedBetaGeoCNBDParams,
    ModifiedBetaGeoParams,
    ParetoNBD,
    ParetoNBDParams,
    ShiftedBetaGeo,
    ShiftedBetaGeoParams,
)

datasets = pytest.importorskip("lifetimes.datasets")

COUNT = "count"  # continuous-time purchase counts (CDNOW, weeks)
DISCRETE = "discrete"  # purchase opportunities (the donations data, years)
SPEND = "spend"  # spend per transaction (CDNOW, the customers with repeat purchases)
CONTRACT = "contract"  # contract durations (Fader & Hardie 2007, the "regular" cohort, years)
# regular purchase timing (the CNBD-k family): customers simulated from an MBG/CNBD-2 with their purchase times, weeks
REGULAR = "regular"


@dataclass(frozen=True)
class Case:
    engine: Any
    fitted: Any
    params: Any
    kind: str


CASES = [
    Case(BetaGeo, FittedBetaGeo, BetaGeoParams, COUNT),
    Case(ModifiedBetaGeo, FittedModifiedBetaGeo, ModifiedBetaGeoParams, COUNT),
    Case(ParetoNBD, FittedParetoNBD, ParetoNBDParams, COUNT),
    Case(GammaGompertzNBD, FittedGammaGompertzNBD, GammaGompertzNBDParams, COUNT),
    Case(BetaGeoBetaBinom, FittedBetaGeoBetaBinom, BetaGeoBetaBinomParams, DISCRETE),
    Case(GammaGamma, FittedGammaGamma, GammaGammaParams, SPEND),
    Case(ShiftedBetaGeo, FittedShiftedBetaGeo, ShiftedBetaGeoParams, CONTRACT),
    Case(CNBD, FittedCNBD, CNBDParams, REGULAR),
    Case(BetaGeoCNBD, FittedBetaGeoCNBD, BetaGeoCNBDParams, REGULAR),
    Case(ModifiedBetaGeoCNBD, FittedModifiedBetaGeoCNBD, ModifiedBetaGeoCNBDParams, REGULAR),
]
IDS = [c.engine.__name__ for c in CASES]
COUNT_CASES = [c for c in CASES if c.kind in (COUNT, DISCRETE, REGULAR)]
Batch = CustomerSummary | ContractSummary


def _cases(*kinds: str) -> Any:
    chosen = [c for c in CASES if c.kind in kinds]
    return pytest.mark.parametrize("case", chosen, ids=[c.engine.__name__ for c in chosen])


# ---------------------------------------------------------------------------------------------- data
@pytest.fixture(scope="module")
def data(cdnow_weeks: CustomerSummary) -> dict[str, Batch]:
    donations = datasets.load_donations()
    return {
        COUNT: cdnow_weeks,
        SPEND: cdnow_weeks,
        DISCRETE: CustomerSummary(frequency=donations["frequency"].to_numpy(float),
                                  recency=donations["recency"].to_numpy(float),
                                  T=donations["periods"].to_numpy(float),
                                  weights=donations["weights"].to_numpy(float), time_unit="Y"),
        # Fader & Hardie (2007), "How to Project Customer Retention", the regular cohort's first 7 years.
        CONTRACT: ContractSummary.from_survival_counts([1000, 631, 468, 382, 326, 289, 262, 241], time_unit="Y"),
        REGULAR: FittedModifiedBetaGeoCNBD(params=ModifiedBetaGeoCNBDParams(k=2, r=1.3, alpha=2.8, a=0.42, b=0.79),
                                           time_unit="W").simulate(np.random.default_rng(14).uniform(30, 52, 2000),
                                                                   seed=14),
    }


def _fit(case: Case, batch: Batch) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return case.engine().fit(batch)


@pytest.fixture(scope="module")
def fits(data: dict[str, Batch]) -> dict[str, Any]:
    return {c.engine.__name__: _fit(c, data[c.kind]) for c in CASES}


def _n_fitted(case: Case, batch: Batch) -> float:
    """The customers a fit is about: Gamma-Gamma uses only those with repeat purchases."""
    if case.kind == SPEND:
        assert isinstance(batch, CustomerSummary)
        return float(batch.weights_or_ones()[batch.frequency > 0].sum())
    return batch.total_weight


def _doubled_unit_rows(batch: Batch, seed: int) -> Batch:
    """Every customer (contract) as weight-1 rows, each one twice, in a random order."""
    w = batch.weights_or_ones()
    assert np.array_equal(w, np.round(w))
    idx = np.repeat(np.arange(len(batch)), 2 * w.astype(np.intp))
    idx = np.random.default_rng(seed).permutation(idx)
    if isinstance(batch, CustomerSummary) and batch.purchase_times is not None:  # the CNBD-k family reads them
        return batch.take(idx)
    if isinstance(batch, ContractSummary):
        return ContractSummary(batch.duration[idx], batch.churned[idx], time_unit=batch.time_unit)
    money = None if batch.monetary_value is None else batch.monetary_value[idx]
    return CustomerSummary(frequency=batch.frequency[idx], recency=batch.recency[idx], T=batch.T[idx],
                           monetary_value=money, time_unit=batch.time_unit)


# ---------------------------------------------------------------------------------------------- coverage
def test_the_suite_covers_every_engine_and_every_saved_model_kind() -> None:
    exported = [getattr(valuation, name) for name in valuation.__all__]
    engines = {e for e in exported if isinstance(e, type) and issubclass(e, Engine) and e.name}
    fitted = {m for m in exported if isinstance(m, type) and issubclass(m, FittedModel) and m.model_name}
    assert {c.engine for c in CASES} == engines
    assert {c.fitted for c in CASES} == fitted
    assert {c.fitted.model_name for c in CASES} == set(registered_models())
    assert all(c.engine.param_names == _estimated(c.params) for c in CASES)


def _estimated(params: Any) -> tuple[str, ...]:
    """The parameters a fit estimates with standard errors: all but the CNBD-k family's whole-number k."""
    return tuple(n for n in params.model_fields if n != "k")


# ---------------------------------------------------------------------------------------------- the fit
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_fit_is_complete(case: Case, fits: dict[str, Any], data: dict[str, Batch]) -> None:
    model = fits[case.engine.__name__]
    batch = data[case.kind]
    names = case.engine.param_names
    k = len(names)
    assert type(model) is case.fitted and isinstance(model.params, case.params)
    assert _estimated(type(model.params)) == names and model.time_unit == batch.time_unit
    theta = model.param_array()
    assert theta.shape == (k,) and np.all(np.isfinite(theta) & (theta > 0))

    info = model.fit_info
    assert info is not None and info.converged and isinstance(info.message, str) and info.message
    assert math.isfinite(info.log_likelihood) and model.log_likelihood == info.log_likelihood
    assert info.n_customers == _n_fitted(case, batch)
    assert 1 <= info.n_rows <= len(batch)
    assert 1 <= info.n_iterations <= info.n_evaluations
    assert 0.0 <= info.gradient_norm < 1e-5
    assert info.penalizer == 0.0 and info.seconds >= 0.0
    # Standard errors for every parameter, the square roots of the covariance's diagonal.
    se = info.standard_errors
    assert se is not None and tuple(se) == names and model.standard_errors == se
    assert all(math.isfinite(v) and v > 0 for v in se.values())
    assert info.covariance is not None
    cov = np.array(info.covariance)
    assert cov.shape == (k, k)
    np.testing.assert_allclose(cov, cov.T, rtol=1e-12, atol=1e-12 * np.abs(cov).max())  # symmetric to rounding
    np.testing.assert_allclose(np.sqrt(np.diag(cov)), list(se.values()), rtol=1e-12)
    assert np.all(np.linalg.eigvalsh(cov) > 0)
    # Information criteria with k = the number of parameters (the CNBD-k family's estimated regularity k counts)
    # and n = the customers fitted, whether or not the fit has standard errors.
    k += case.kind == REGULAR
    for fit_info in (info, info.model_copy(update={"standard_errors": None, "covariance": None})):
        assert fit_info.aic == pytest.approx(2 * k - 2 * info.log_likelihood, rel=1e-15)
        assert fit_info.bic == pytest.approx(k * math.log(info.n_customers) - 2 * info.log_likelihood, rel=1e-15)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_json_round_trip_is_exact(case: Case, fits: dict[str, Any]) -> None:
    model = fits[case.engine.__name__]
    text = model.to_json()
    document = json.loads(text)
    assert document["schema"] == "clvkit.fitted_model" and document["model"] == case.fitted.model_name
    back = load_json(text)
    assert type(back) is case.fitted and back == model
    np.testing.assert_array_equal(back.param_array(), model.param_array())
    assert back.fit_info == model.fit_info and back.time_unit == model.time_unit
    assert back.to_json() == text
    assert load_json(model.to_json(indent=None)) == model
    by_hand = case.fitted(params=model.params, time_unit=model.time_unit)
    assert load_json(by_hand.to_json()) == by_hand and by_hand.fit_info is None


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_unit_compressed_and_shuffled_rows_give_the_same_optimum(case: Case, fits: dict[str, Any],
                                                                 data: dict[str, Batch]) -> None:
    # The likelihood is a sum over customers: every customer twice, as unit rows in a random order or as
    # weighted unique rows, has the same optimum as the data set and twice its log-likelihood.
    reference = fits[case.engine.__name__]
    batch = data[case.kind]
    raw = _doubled_unit_rows(batch, seed=7)
    assert raw.weights is None and len(raw) == 2 * batch.total_weight
    compressed = raw.compress().summary
    assert len(compressed) < len(raw)
    # Compression keeps (x, t_x, T) rows: the CNBD-k family's per-customer log inter-purchase times do not survive
    # it (that engine compresses by itself, carrying their total).
    for variant in (raw,) if case.kind == REGULAR else (raw, compressed):
        model = _fit(case, variant)
        np.testing.assert_allclose(model.param_array(), reference.param_array(), rtol=1e-5)
        assert model.log_likelihood == pytest.approx(2 * reference.log_likelihood, rel=1e-9)
        assert model.fit_info.n_customers == 2 * reference.fit_info.n_customers


# ---------------------------------------------------------------------------------------------- inputs
def _other_unit(batch: Batch) -> Batch:
    if isinstance(batch, ContractSummary):  # contract periods have no conversion: the same counts, monthly
        return ContractSummary(batch.duration, batch.churned, batch.weights, time_unit="M")
    return batch.with_time_unit("D")


def _predictions(case: Case, model: Any, batch: Batch) -> list[Any]:
    """Every prediction that reads a batch, as zero-argument calls."""
    if case.kind == SPEND:
        return [lambda: model.expected_spend(batch)]
    if case.kind == CONTRACT:
        return [lambda: model.discounted_expected_residual_lifetime(batch, 0.1)]
    return [lambda: model.probability_alive(batch), lambda: model.expected_purchases(batch, 1.0),
            lambda: model.probability_of_purchases(batch, 1, 1.0)]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_refuses_data_in_another_time_unit(case: Case, fits: dict[str, Any], data: dict[str, Batch]) -> None:
    model = fits[case.engine.__name__]
    other = _other_unit(data[case.kind])
    for call in _predictions(case, model, other):
        with pytest.raises(InvalidInputError) as info:
            call()
        assert repr(model.time_unit) in str(info.value) and repr(other.time_unit) in str(info.value)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_refuses_a_batch_of_the_wrong_kind(case: Case, data: dict[str, Batch]) -> None:
    wrong = data[COUNT] if case.kind == CONTRACT else data[CONTRACT]
    with pytest.raises(InvalidInputError, match=type(data[case.kind]).__name__):
        case.engine().fit(wrong)


# ---------------------------------------------------------------------------------------------- count models
def _customers(discrete: bool) -> Any:
    if discrete:
        # n opportunities, x <= n transactions, the last at opportunity t_x with x <= t_x <= n (0 if none)
        return st.integers(1, 60).flatmap(lambda n: st.integers(0, n).flatmap(
            lambda x: st.tuples(st.just(float(x)), st.integers(x, n).map(float) if x > 0 else st.just(0.0),
                                st.just(float(n)))))
    return st.tuples(st.integers(0, 300), st.floats(1e-6, 1), st.floats(0.01, 500.0)).map(  # recency > 0 when x > 0
        lambda v: (float(v[0]), v[1] * v[2] if v[0] > 0 else 0.0, v[2])
    )


def _params(case: Case, low: float = 0.02) -> Any:
    names = case.engine.param_names
    regularity = st.integers(1, 6) if case.kind == REGULAR else st.just(None)
    return st.tuples(regularity, *(st.floats(low, 50.0) for _ in names)).map(
        lambda vals: case.params(**dict(zip(names, vals[1:], strict=True)),
                                 **({} if vals[0] is None else {"k": vals[0]}))
    )


@_cases(COUNT, DISCRETE, REGULAR)
def test_count_model_prediction_properties(case: Case) -> None:
    @settings(max_examples=30, deadline=None)
    @given(st.lists(_customers(case.kind == DISCRETE), min_size=1, max_size=12), _params(case),
           st.integers(0, 40), st.integers(0, 40))
    def check(rows: list[tuple[float, float, float]], params: Any, t1: int, t2: int) -> None:
        x, tx, T = (np.array(c) for c in zip(*rows, strict=True))
        s = CustomerSummary(frequency=x, recency=tx, T=T, time_unit="W")
        model = case.fitted(params=params, time_unit="W")
        pa = model.probability_alive(s)
        assert np.all(np.isfinite(pa)) and np.all((pa >= 0) & (pa <= 1))
        lo, hi = sorted((float(t1), float(t2)))
        e_lo, e_hi = model.expected_purchases(s, lo), model.expected_purchases(s, hi)
        assert np.all(np.isfinite(e_hi)) and np.all(e_lo >= 0)
        assert np.all(e_hi >= e_lo * (1 - 1e-9) - 1e-12)
        new = np.asarray(model.expected_purchases_new_customer(np.array([lo, hi])))
        assert np.all(np.isfinite(new)) and new[1] >= new[0] * (1 - 1e-9) - 1e-12
        p = np.stack([model.probability_of_purchases(s, n, 3.0) for n in range(0, 6)])
        assert np.all(np.isfinite(p)) and np.all(p >= -1e-12)
        assert np.all(p.sum(axis=0) <= 1 + 1e-9)

    check()


@_cases(COUNT, REGULAR)
def test_continuous_time_models_do_not_depend_on_the_time_unit(case: Case, fits: dict[str, Any],
                                                               data: dict[str, Batch]) -> None:
    # The same customers in days: the fit describes the same process, so every prediction is unchanged.
    weeks = data[case.kind]
    assert isinstance(weeks, CustomerSummary)
    days = weeks.with_time_unit("D")
    in_weeks, in_days = fits[case.engine.__name__], _fit(case, days)
    assert in_days.time_unit == "D"
    np.testing.assert_allclose(in_days.probability_alive(days), in_weeks.probability_alive(weeks), rtol=1e-5)
    np.testing.assert_allclose(in_days.expected_purchases(days, 7 * 39.0), in_weeks.expected_purchases(weeks, 39.0),
                               rtol=1e-5)
    np.testing.assert_allclose(in_days.expected_purchases_new_customer([70.0, 7 * 52.0]),
                               in_weeks.expected_purchases_new_customer([10.0, 52.0]), rtol=1e-5)


# ---------------------------------------------------------------------------------------------- spend model
@_cases(SPEND)
def test_spend_model_does_not_depend_on_the_time_unit(case: Case, fits: dict[str, Any],
                                                      data: dict[str, Batch]) -> None:
    weeks = data[SPEND]
    assert isinstance(weeks, CustomerSummary)
    in_days = _fit(case, weeks.with_time_unit("D"))
    np.testing.assert_allclose(in_days.param_array(), fits[case.engine.__name__].param_array(), rtol=1e-12)


@_cases(SPEND)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_spend_model_prediction_properties(case: Case, data: st.DataObject) -> None:
    params = data.draw(st.tuples(st.floats(0.05, 50.0), st.floats(1.05, 50.0), st.floats(0.05, 500.0)).map(
        lambda v: case.params(p=v[0], q=v[1], v=v[2])))
    rows = data.draw(st.lists(st.tuples(st.integers(0, 200), st.floats(0.01, 1e4)), min_size=2, max_size=12))
    x = np.array([float(r[0]) for r in rows])
    m = np.array([r[1] if r[0] > 0 else 0.0 for r in rows])
    s = CustomerSummary(frequency=x, recency=np.where(x > 0, 1.0, 0.0), T=np.full(x.shape, 2.0),
                        monetary_value=m, time_unit="W")
    model = case.fitted(params=params, time_unit="W")
    e = model.expected_spend(s)
    pop = model.population_mean_spend
    assert np.all(np.isfinite(e)) and np.all(e > 0)
    np.testing.assert_allclose(e[x == 0], pop, rtol=1e-12)  # no repeat purchase: the population mean
    lo, hi = np.minimum(pop, m), np.maximum(pop, m)  # a compromise between the population and the customer
    assert np.all(e[x > 0] >= lo[x > 0] * (1 - 1e-12)) and np.all(e[x > 0] <= hi[x > 0] * (1 + 1e-12))
    richer = CustomerSummary(frequency=x, recency=s.recency, T=s.T, monetary_value=np.where(x > 0, 2 * m, 0.0),
                             time_unit="W")
    assert np.all(model.expected_spend(richer) >= e * (1 - 1e-12))  # a higher own mean never lowers it
    perm = np.random.default_rng(0).permutation(len(s))
    np.testing.assert_allclose(model.expected_spend(s.take(perm)), e[perm], rtol=1e-14)


# ---------------------------------------------------------------------------------------------- contract model
@_cases(CONTRACT)
@settings(max_examples=40, deadline=None)
@given(alpha=st.floats(0.02, 50.0), beta=st.floats(0.02, 50.0), horizon=st.integers(1, 60),
       d1=st.floats(0.01, 1.0), d2=st.floats(0.01, 1.0))
def test_contract_model_prediction_properties(case: Case, alpha: float, beta: float, horizon: int,
                                              d1: float, d2: float) -> None:
    model = case.fitted(params=case.params(alpha=alpha, beta=beta), time_unit="Y")
    t = np.arange(0, horizon + 1)
    S = model.survival(t)
    assert np.all(np.isfinite(S)) and S[0] == 1.0 and np.all((S >= 0) & (S <= 1))
    assert np.all(np.diff(S) <= 1e-15)
    churn = model.probability_churn(t)
    assert churn[0] == 0.0 and np.all(churn >= 0)
    np.testing.assert_allclose(churn[1:], S[:-1] - S[1:], rtol=1e-9, atol=1e-15)
    rate = model.retention_rate(t[1:])
    assert np.all((rate >= 0) & (rate <= 1)) and np.all(np.diff(rate) >= -1e-15)  # tenure sorts customers
    alive = S[:-1] > 1e-250
    np.testing.assert_allclose(rate[alive], S[1:][alive] / S[:-1][alive], rtol=1e-9)
    np.testing.assert_allclose(model.expected_survivors(250.0, t), 250.0 * S, rtol=1e-15)
    lo, hi = sorted((d1, d2))
    renewals = np.arange(0, min(horizon, 20))
    derl_lo = model.discounted_expected_residual_lifetime(renewals, lo)
    derl_hi = model.discounted_expected_residual_lifetime(renewals, hi)
    assert np.all(np.isfinite(derl_lo)) and np.all(derl_hi > 0)
    assert np.all(derl_hi <= derl_lo * (1 + 1e-9))  # a higher discount rate never raises it
    assert np.all(np.diff(derl_lo) >= -1e-9 * derl_lo[1:])  # nor does a longer tenure lower it
