"""sBG inputs: ContractSummary validation (all problems at once), survival counts, engine and prediction errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
from clvkit.valuation.shifted_beta_geo import FittedShiftedBetaGeo, ShiftedBetaGeo, ShiftedBetaGeoParams

from clvkit import InvalidInputError, ModelDomainError
from clvkit.contracts import CompressedContracts, ContractSummary

REGULAR_7 = [1000, 631, 468, 382, 326, 289, 262, 241]


@pytest.fixture(scope="module")
def model() -> FittedShiftedBetaGeo:
    return FittedShiftedBetaGeo(params=ShiftedBetaGeoParams(alpha=0.704, beta=1.182), time_unit="Y")


# ----------------------------------------------------------------------------- ContractSummary
def test_valid_summary_is_read_only_and_owns_its_arrays() -> None:
    duration = np.array([1.0, 4.0, 2.0])
    churned = np.array([True, False, True])
    c = ContractSummary(duration, churned, weights=[1.0, 2.0, 3.0], customer_id=["a", "b", "c"])
    duration[0] = 99.0
    churned[0] = False
    assert c.duration.tolist() == [1.0, 4.0, 2.0] and c.churned.tolist() == [True, False, True]
    for arr in (c.duration, c.churned, c.weights):
        assert arr is not None
        with pytest.raises(ValueError, match="read-only"):
            arr[0] = 0
    assert len(c) == 3 and c.total_weight == 6.0 and c.time_unit == "M"
    assert c.duration.dtype == np.float64 and c.churned.dtype == np.bool_
    assert "n_contracts=3" in repr(c)
    assert set(c.to_columns()) == {"customer_id", "duration", "churned", "weights"}


def test_churned_accepts_zero_one_numbers() -> None:
    c = ContractSummary([1, 2, 3], [1, 0, 1.0])
    assert c.churned.tolist() == [True, False, True]


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(InvalidInputError) as info:
        ContractSummary(
            duration=[1.0, np.nan, -2.0, 2.5, 0.0, 3.0],
            churned=[True, False, False, True, True, 7],
            weights=[1.0, 0.0, 1.0, math.inf, 1.0, 1.0],
            customer_id=[1, 2, 3, 3, 4, 5],
        )
    err = info.value
    assert str(err).startswith("ContractSummary has 7 problems:")
    messages = [str(p) for p in err.problems]
    assert err.columns == ("duration", "duration", "duration", "duration", "churned", "weights", "customer_id")
    assert "must be finite" in messages[0] and "row 1 (customer_id=2)" in messages[0]
    assert "whole number" in messages[1] and "row 3" in messages[1]
    assert "non-negative" in messages[2] and "row 2" in messages[2]
    assert ">= 1 for a churned contract" in messages[3] and "row 4" in messages[3]
    assert "boolean" in messages[4] and "row 5" in messages[4]
    assert "2 rows fail" in messages[5]
    assert "must be unique" in messages[6]


def test_first_rows_and_count_are_named() -> None:
    with pytest.raises(InvalidInputError) as info:
        ContractSummary(duration=[0.5] * 8, churned=[False] * 8)
    (problem,) = info.value.problems
    assert problem.n_bad == 8 and problem.rows == (0, 1, 2, 3, 4)
    assert "and 3 more" in str(problem)


def test_shape_problems() -> None:
    with pytest.raises(InvalidInputError, match="'churned': has shape \\(2,\\) but 'duration' has 3 rows"):
        ContractSummary([1, 2, 3], [True, False])
    with pytest.raises(InvalidInputError, match="'weights': has shape"):
        ContractSummary([1, 2], [True, False], weights=[1.0])
    with pytest.raises(InvalidInputError, match="'duration': must be one-dimensional"):
        ContractSummary([[1, 2]], [True, False])
    with pytest.raises(InvalidInputError, match="'churned': must be one-dimensional"):
        ContractSummary([1, 2], [[True, False]])


def test_unreadable_columns() -> None:
    with pytest.raises(InvalidInputError, match="'duration': cannot be read as numbers"):
        ContractSummary(["one"], [True])
    with pytest.raises(InvalidInputError, match="'churned': cannot be read as booleans"):
        ContractSummary([1], ["yes"])
    with pytest.raises(InvalidInputError, match="time_unit"):
        ContractSummary([1], [True], time_unit="fortnight")


def test_take() -> None:
    c = ContractSummary([1, 2, 3], [True, False, True], customer_id=[7, 8, 9], time_unit="Q")
    t = c.take([2, 0])
    assert t.duration.tolist() == [3.0, 1.0] and t.customer_id is not None and t.customer_id.tolist() == [9, 7]
    assert t.time_unit == "Q"
    assert c.take([1, 1]).customer_id is None
    with pytest.raises(InvalidInputError, match="boolean mask"):
        c.take([True, False])
    with pytest.raises(InvalidInputError, match="integer positions"):
        c.take([0.5])
    with pytest.raises(InvalidInputError, match="must lie in"):
        c.take([3])


def test_compress() -> None:
    c = ContractSummary([2, 1, 2, 2], [False, True, False, True], weights=[1.0, 2.0, 3.0, 4.0],
                        customer_id=[1, 2, 3, 4])
    z = c.compress()
    assert isinstance(z, CompressedContracts)
    assert z.summary.customer_id is None
    assert z.summary.duration.tolist() == [1.0, 2.0, 2.0]
    assert z.summary.churned.tolist() == [True, False, True]
    assert z.summary.weights is not None and z.summary.weights.tolist() == [2.0, 4.0, 4.0]
    assert z.inverse.tolist() == [1, 0, 1, 2]


# ----------------------------------------------------------------------------- survival counts
def test_from_survival_counts() -> None:
    c = ContractSummary.from_survival_counts([100, 60, 60, 0], time_unit="Y")
    # no one lost in period 2 and no one left after 3: zero-weight rows are dropped
    assert c.duration.tolist() == [1.0, 3.0]
    assert c.churned.tolist() == [True, True]
    assert c.weights is not None and c.weights.tolist() == [40.0, 60.0]
    assert c.total_weight == 100.0


def test_survival_count_problems_are_reported_together() -> None:
    with pytest.raises(InvalidInputError) as info:
        ContractSummary.from_survival_counts([100, 120, -5, np.nan, 50])
    text = str(info.value)
    assert text.startswith("ContractSummary.from_survival_counts() has 3 problems:")
    assert "must be finite" in text and "row 3" in text
    assert "non-negative" in text
    assert "non-increasing" in text and "row 1" in text
    with pytest.raises(InvalidInputError, match="at least 2 counts"):
        ContractSummary.from_survival_counts([1000])
    with pytest.raises(InvalidInputError, match="cohort size"):
        ContractSummary.from_survival_counts([0, 0])
    with pytest.raises(InvalidInputError, match="'alive': must be one-dimensional"):
        ContractSummary.from_survival_counts([[1000, 900]])


# ----------------------------------------------------------------------------- engine
def test_fit_needs_a_contract_summary() -> None:
    from clvkit import CustomerSummary

    with pytest.raises(InvalidInputError, match=r"needs a clvkit\.ContractSummary"):
        ShiftedBetaGeo().fit(CustomerSummary(frequency=[1], recency=[1.0], T=[2.0]))  # type: ignore[arg-type]


def test_fit_rejects_data_without_a_maximum() -> None:
    with pytest.raises(InvalidInputError, match="no contract churned"):
        ShiftedBetaGeo().fit(ContractSummary([3, 5], [False, False]))
    with pytest.raises(InvalidInputError, match="no contract ever renewed"):
        ShiftedBetaGeo().fit(ContractSummary([1, 1, 0], [True, True, False]))
    with pytest.raises(InvalidInputError, match="at least one contract"):
        ShiftedBetaGeo().fit(ContractSummary([], []))


def test_engine_settings_are_validated() -> None:
    with pytest.raises(InvalidInputError, match="penalizer"):
        ShiftedBetaGeo(penalizer=-1.0)
    with pytest.raises(InvalidInputError, match="initial_params"):
        ShiftedBetaGeo(initial_params={"alpha": 1.0}).fit(ContractSummary.from_survival_counts(REGULAR_7))
    fitted = ShiftedBetaGeo(initial_params={"alpha": 3.0, "beta": 0.2}).fit(
        ContractSummary.from_survival_counts(REGULAR_7)
    )
    assert round(fitted.params.alpha, 3) == 0.704


def test_params_are_validated() -> None:
    for bad in ({"alpha": 0.0, "beta": 1.0}, {"alpha": 1.0, "beta": -1.0}, {"alpha": math.inf, "beta": 1.0},
                {"alpha": 1.0, "beta": 1.0, "gamma": 2.0}):
        with pytest.raises(InvalidInputError):
            ShiftedBetaGeoParams(**bad)
    with pytest.raises(InvalidInputError, match="'time_unit' of FittedShiftedBetaGeo must be one of"):
        FittedShiftedBetaGeo(params=ShiftedBetaGeoParams(alpha=1.0, beta=1.0), time_unit="fortnight")


# ----------------------------------------------------------------------------- predictions
@pytest.mark.parametrize("bad", [-1, 1.5, math.nan, math.inf, [1, -2], "x"])
def test_periods_must_be_whole_and_non_negative(model: FittedShiftedBetaGeo, bad: object) -> None:
    for method in (model.survival, model.probability_churn):
        with pytest.raises(InvalidInputError, match=r"'t' parameter .* whole number of periods >= 0"):
            method(bad)
    with pytest.raises(InvalidInputError, match="whole number of periods >= 0"):
        model.expected_survivors(1000, bad)
    with pytest.raises(InvalidInputError, match="'n_renewals' parameter"):
        model.discounted_expected_residual_lifetime(bad, 0.1)


def test_retention_rate_starts_at_period_one(model: FittedShiftedBetaGeo) -> None:
    with pytest.raises(InvalidInputError, match=">= 1"):
        model.retention_rate(0)
    assert model.probability_churn(0).tolist() == 0.0
    assert model.survival(0).tolist() == 1.0


@pytest.mark.parametrize("bad", [-0.1, math.nan, math.inf, "ten percent"])
def test_discount_rate_is_validated(model: FittedShiftedBetaGeo, bad: object) -> None:
    with pytest.raises(InvalidInputError, match="'discount_rate' parameter"):
        model.discounted_expected_residual_lifetime(1, bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="'discount_rate' parameter"):
        model.expected_residual_value(1, 10.0, bad)  # type: ignore[arg-type]


def test_other_prediction_arguments(model: FittedShiftedBetaGeo) -> None:
    with pytest.raises(InvalidInputError, match="'n0' parameter"):
        model.expected_survivors(-5, 3)
    with pytest.raises(InvalidInputError, match="'value_per_period' parameter"):
        model.expected_residual_value(1, math.nan, 0.1)
    assert model.expected_residual_value(0, -10.0, 0.1) < 0  # a loss-making contract has negative residual value


def test_infinite_means_raise_model_domain_error(model: FittedShiftedBetaGeo) -> None:
    with pytest.raises(ModelDomainError, match="alpha <= 1"):
        model.expected_lifetime()
    with pytest.raises(ModelDomainError, match="Pass a positive discount rate"):
        model.discounted_expected_residual_lifetime([0, 3], 0.0)
    # Only churned contracts: nothing residual to value, so no error.
    churned_only = ContractSummary([1, 2], [True, True], time_unit="Y")
    assert model.discounted_expected_residual_lifetime(churned_only, 0.0).tolist() == [0.0, 0.0]
    light_tail = FittedShiftedBetaGeo(params=ShiftedBetaGeoParams(alpha=3.0, beta=2.0))
    assert light_tail.expected_lifetime() == pytest.approx(2.0)
    assert light_tail.discounted_expected_residual_lifetime(0, 0.0).tolist() == pytest.approx(1.0)


def test_contracts_must_share_the_period_length(model: FittedShiftedBetaGeo) -> None:
    monthly = ContractSummary([3], [False], time_unit="M")
    with pytest.raises(InvalidInputError, match="periods of 'Y' but the contracts have periods of 'M'"):
        model.discounted_expected_residual_lifetime(monthly, 0.1)


def test_predictions_keep_the_shape_of_the_horizon(model: FittedShiftedBetaGeo) -> None:
    assert model.survival(3).shape == ()
    assert model.survival([[1, 2], [3, 4]]).shape == (2, 2)
    assert model.discounted_expected_residual_lifetime([[0, 1], [2, 3]], 0.1).shape == (2, 2)
    assert model.expected_survivors([100, 200], 2).shape == (2,)


def test_hand_built_model_has_no_log_likelihood(model: FittedShiftedBetaGeo) -> None:
    from clvkit import NotFittedError

    with pytest.raises(NotFittedError):
        _ = model.log_likelihood
    assert model.standard_errors is None
