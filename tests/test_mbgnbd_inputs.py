"""MBG/NBD invalid inputs: every one gets a typed error with a message naming what is wrong."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from clvkit.valuation.modified_beta_geo import FittedModifiedBetaGeo, ModifiedBetaGeo, ModifiedBetaGeoParams
from pydantic import ValidationError

from clvkit import ConvergenceError, ConvergenceWarning, CustomerSummary, InvalidInputError, NotFittedError

MODEL = FittedModifiedBetaGeo(params=ModifiedBetaGeoParams(r=0.525, alpha=6.183, a=0.891, b=1.614), time_unit="W")
SUMMARY = CustomerSummary(frequency=[0, 2], recency=[0.0, 30.43], T=[38.86, 38.86], time_unit="W")


@pytest.mark.parametrize("bad", [{"r": 0.0}, {"alpha": -1.0}, {"a": float("nan")}, {"b": float("inf")}])
def test_parameters_must_be_positive_and_finite(bad: dict[str, float]) -> None:
    values = {"r": 0.5, "alpha": 6.0, "a": 0.9, "b": 1.6, **bad}
    with pytest.raises(InvalidInputError):
        ModifiedBetaGeoParams(**values)


def test_parameters_are_frozen_and_closed() -> None:
    with pytest.raises(InvalidInputError):
        ModifiedBetaGeoParams(r=0.5, alpha=6.0, a=0.9, b=1.6, s=1.0)  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        MODEL.params.r = 1.0  # type: ignore[misc]


@pytest.mark.parametrize("t", [-1.0, float("nan"), float("inf"), [1.0, -2.0]])
def test_horizon_must_be_finite_and_nonnegative(t: object) -> None:
    with pytest.raises(InvalidInputError, match=r"'t' parameter of FittedModifiedBetaGeo.expected_purchases"):
        MODEL.expected_purchases(SUMMARY, t)
    with pytest.raises(InvalidInputError, match="'t' parameter"):
        MODEL.expected_purchases_new_customer(t)


@pytest.mark.parametrize("n", [-1, 1.5, float("nan")])
def test_number_of_purchases_must_be_a_whole_number(n: float) -> None:
    with pytest.raises(InvalidInputError, match=r"'n' parameter of FittedModifiedBetaGeo.probability_of_purchases"):
        MODEL.probability_of_purchases(SUMMARY, n, 10.0)


def test_summary_must_be_a_customer_summary_in_the_fitted_time_unit() -> None:
    with pytest.raises(InvalidInputError, match=r"needs a clvkit.CustomerSummary"):
        MODEL.probability_alive({"frequency": [0]})  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match=r"time unit 'W'.*summary is in 'D'"):
        MODEL.expected_purchases(SUMMARY.with_time_unit("D"), 1.0)
    with pytest.raises(InvalidInputError, match=r"needs a clvkit.CustomerSummary"):
        ModifiedBetaGeo().fit([1, 2, 3])  # type: ignore[arg-type]


def test_empty_summary_cannot_be_fitted() -> None:
    empty = CustomerSummary(frequency=[], recency=[], T=[], time_unit="W")
    with pytest.raises(InvalidInputError, match="at least one customer"):
        ModifiedBetaGeo().fit(empty)


@pytest.mark.parametrize("initial", [{"r": 1.0}, {"r": 1.0, "alpha": 1.0, "a": 1.0, "b": -1.0},
                                     {"r": 1.0, "alpha": 1.0, "a": 1.0, "b": 1.0, "s": 1.0}])
def test_initial_params_are_checked(initial: dict[str, float]) -> None:
    with pytest.raises(InvalidInputError, match="'initial_params' parameter of ModifiedBetaGeo"):
        ModifiedBetaGeo(initial_params=initial).fit(SUMMARY)


@pytest.mark.parametrize("settings", [{"penalizer": -1.0}, {"tol": 0.0}, {"max_iter": 0}, {"unknown": 1}])
def test_engine_settings_are_validated(settings: dict[str, float]) -> None:
    with pytest.raises(InvalidInputError):
        ModifiedBetaGeo(**settings)


def test_model_built_from_parameters_has_no_likelihood() -> None:
    with pytest.raises(NotFittedError):
        _ = MODEL.log_likelihood
    assert MODEL.standard_errors is None


def test_unknown_time_unit_is_rejected() -> None:
    # The base class raises InvalidInputError during validation; pydantic reports it as a ValueError.
    with pytest.raises(ValueError, match="'time_unit' of FittedModifiedBetaGeo must be one of"):
        FittedModifiedBetaGeo(params=MODEL.params, time_unit="fortnight")


def test_data_without_an_interior_optimum_is_reported() -> None:
    # Every customer identical and with no repeat purchase: the likelihood only rises towards the edge of
    # the parameter space, so the fit either fails or warns that the parameters are not identified.
    s = CustomerSummary(frequency=np.zeros(50), recency=np.zeros(50), T=np.full(50, 30.0), time_unit="W")
    with pytest.warns(ConvergenceWarning, match="ModifiedBetaGeo"):
        try:
            fitted = ModifiedBetaGeo(max_iter=50).fit(s)
        except ConvergenceError:
            warnings.warn("ModifiedBetaGeo: did not converge", ConvergenceWarning, stacklevel=1)
        else:
            assert fitted.standard_errors is None
