"""Pareto/NBD invalid inputs: every one gets a typed error with a message naming what is wrong."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from clvkit.valuation.pareto_nbd import FittedParetoNBD, ParetoNBD, ParetoNBDParams
from pydantic import ValidationError

from clvkit import ConvergenceError, ConvergenceWarning, CustomerSummary, InvalidInputError, NotFittedError, load_json
from clvkit.persistence import registered_models

MODEL = FittedParetoNBD(params=ParetoNBDParams(r=0.553, alpha=10.578, s=0.606, beta=11.669), time_unit="W")
SUMMARY = CustomerSummary(frequency=[0, 2], recency=[0.0, 30.43], T=[38.86, 38.86], time_unit="W")


@pytest.mark.parametrize("bad", [{"r": 0.0}, {"alpha": -1.0}, {"s": float("nan")}, {"beta": float("inf")}])
def test_parameters_must_be_positive_and_finite(bad: dict[str, float]) -> None:
    values = {"r": 0.5, "alpha": 10.0, "s": 0.6, "beta": 11.0, **bad}
    with pytest.raises(InvalidInputError):
        ParetoNBDParams(**values)


def test_parameters_are_frozen_and_closed() -> None:
    with pytest.raises(InvalidInputError):
        ParetoNBDParams(r=0.5, alpha=10.0, s=0.6, beta=11.0, a=1.0)  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        MODEL.params.r = 1.0  # type: ignore[misc]


@pytest.mark.parametrize("t", [-1.0, float("nan"), float("inf"), [1.0, -2.0]])
def test_horizon_must_be_finite_and_nonnegative(t: object) -> None:
    with pytest.raises(InvalidInputError, match=r"'t' parameter of FittedParetoNBD.expected_purchases"):
        MODEL.expected_purchases(SUMMARY, t)
    with pytest.raises(InvalidInputError, match=r"'t' parameter of FittedParetoNBD.expected_purchases_new_customer"):
        MODEL.expected_purchases_new_customer(t)
    with pytest.raises(InvalidInputError, match=r"'t' parameter of FittedParetoNBD.probability_of_purchases"):
        MODEL.probability_of_purchases(SUMMARY, 1, t)


@pytest.mark.parametrize("n", [-1, 1.5, float("nan"), [0, -3]])
def test_number_of_purchases_must_be_a_whole_number(n: object) -> None:
    with pytest.raises(InvalidInputError, match=r"'n' parameter of FittedParetoNBD.probability_of_purchases"):
        MODEL.probability_of_purchases(SUMMARY, n, 10.0)


def test_n_and_t_must_broadcast_to_the_customers() -> None:
    with pytest.raises(InvalidInputError, match=r"'n' \(shape \(3,\)\).*broadcastable to the 2 customers"):
        MODEL.probability_of_purchases(SUMMARY, [0, 1, 2], 10.0)
    with pytest.raises(InvalidInputError, match=r"'t' \(shape \(3,\)\).*broadcastable to the 2 customers"):
        MODEL.expected_purchases(SUMMARY, [1.0, 2.0, 3.0])
    # Broadcastable arrays are fine: one n per customer.
    assert MODEL.probability_of_purchases(SUMMARY, [0, 1], [5.0, 10.0]).shape == (2,)


@pytest.mark.parametrize("rate", [0.0, -0.1, float("nan"), float("inf"), "15%", None])
def test_discount_rate_must_be_positive_and_finite(rate: object) -> None:
    with pytest.raises(InvalidInputError,
                       match=r"FittedParetoNBD\.discounted_expected_residual_transactions\(\)(.*discount_rate| must)"):
        MODEL.discounted_expected_residual_transactions(SUMMARY, rate)


def test_summary_must_be_a_customer_summary_in_the_fitted_time_unit() -> None:
    with pytest.raises(InvalidInputError, match=r"needs a clvkit.CustomerSummary"):
        MODEL.probability_alive({"frequency": [0]})  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match=r"time unit 'W'.*summary is in 'D'"):
        MODEL.expected_purchases(SUMMARY.with_time_unit("D"), 1.0)
    with pytest.raises(InvalidInputError, match=r"time unit 'W'.*summary is in 'D'"):
        MODEL.discounted_expected_residual_transactions(SUMMARY.with_time_unit("D"), 0.01)
    with pytest.raises(InvalidInputError, match=r"needs a clvkit.CustomerSummary"):
        ParetoNBD().fit([1, 2, 3])  # type: ignore[arg-type]


def test_empty_summary_cannot_be_fitted() -> None:
    empty = CustomerSummary(frequency=[], recency=[], T=[], time_unit="W")
    with pytest.raises(InvalidInputError, match="at least one customer"):
        ParetoNBD().fit(empty)


@pytest.mark.parametrize("initial", [{"r": 1.0}, {"r": 1.0, "alpha": 1.0, "s": 1.0, "beta": -1.0},
                                     {"r": 1.0, "alpha": 1.0, "s": 1.0, "beta": 1.0, "a": 1.0}])
def test_initial_params_are_checked(initial: dict[str, float]) -> None:
    with pytest.raises(InvalidInputError, match="'initial_params' parameter of ParetoNBD"):
        ParetoNBD(initial_params=initial).fit(SUMMARY)


@pytest.mark.parametrize("settings", [{"penalizer": -1.0}, {"tol": 0.0}, {"max_iter": 0}, {"unknown": 1}])
def test_engine_settings_are_validated(settings: dict[str, float]) -> None:
    with pytest.raises(InvalidInputError):
        ParetoNBD(**settings)


def test_model_built_from_parameters_has_no_likelihood() -> None:
    with pytest.raises(NotFittedError):
        _ = MODEL.log_likelihood
    assert MODEL.standard_errors is None


def test_unknown_time_unit_is_rejected() -> None:
    with pytest.raises(ValueError, match="'time_unit' of FittedParetoNBD must be one of"):
        FittedParetoNBD(params=MODEL.params, time_unit="fortnight")


def test_fitted_model_plugs_into_clv() -> None:
    from clvkit.valuation import TransactionModel, clv

    assert isinstance(MODEL, TransactionModel)
    result = clv(MODEL, 20.0, SUMMARY, horizon=52, discount_rate=0.003)
    assert result.clv.shape == (2,) and np.all(result.clv > 0)


def test_model_is_registered_for_json_and_documents_are_checked() -> None:
    assert "ParetoNBD" in registered_models()
    text = MODEL.to_json()
    assert '"model": "ParetoNBD"' in text and load_json(text) == MODEL
    with pytest.raises(InvalidInputError, match="the ParetoNBD document is invalid"):
        load_json(text.replace('"r": 0.553', '"r": -0.553'))


def test_initial_params_and_penalizer_are_used() -> None:
    s = CustomerSummary(frequency=[0, 1, 4, 2, 0, 7], recency=[0, 3, 20, 9, 0, 30], T=[30, 30, 31, 32, 33, 35],
                        time_unit="W")
    start = {"r": 0.5, "alpha": 8.0, "s": 0.5, "beta": 9.0}
    a = ParetoNBD(initial_params=start, penalizer=0.01).fit(s)
    b = ParetoNBD(penalizer=0.01).fit(s)
    np.testing.assert_allclose(a.param_array(), b.param_array(), rtol=1e-5)
    assert a.fit_info is not None and a.fit_info.penalizer == 0.01


def test_data_without_an_interior_optimum_is_reported() -> None:
    # Every customer identical and with no repeat purchase: the likelihood only rises towards the edge of
    # the parameter space, so the fit either fails or warns that the parameters are not identified.
    s = CustomerSummary(frequency=np.zeros(50), recency=np.zeros(50), T=np.full(50, 30.0), time_unit="W")
    with pytest.warns(ConvergenceWarning, match="ParetoNBD"):
        try:
            fitted = ParetoNBD(max_iter=50).fit(s)
        except ConvergenceError:
            warnings.warn("ParetoNBD: did not converge", ConvergenceWarning, stacklevel=1)
        else:
            assert fitted.standard_errors is None
