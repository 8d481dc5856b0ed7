"""BG/BB invalid inputs: typed errors that name the column, the rows and what to do."""

from __future__ import annotations

import pytest
from clvkit.valuation.beta_geo_beta_binom import BetaGeoBetaBinom, BetaGeoBetaBinomParams, FittedBetaGeoBetaBinom

from clvkit import CustomerSummary, InvalidInputError, ModelDomainError

MODEL = FittedBetaGeoBetaBinom(params=BetaGeoBetaBinomParams(alpha=1.204, beta=0.750, gamma=0.657, delta=2.783),
                               time_unit="Y")
SUMMARY = CustomerSummary(frequency=[0, 2, 6], recency=[0, 4, 6], T=[6, 6, 6], time_unit="Y")


def test_non_integer_opportunities_and_impossible_histories_are_all_reported() -> None:
    s = CustomerSummary(frequency=[0, 2, 3, 1, 4], recency=[0, 4.5, 2, 1, 4], T=[6, 6, 6, 6.5, 6],
                        customer_id=["a", "b", "c", "d", "e"], time_unit="Y")
    with pytest.raises(InvalidInputError) as info:
        BetaGeoBetaBinom().fit(s)
    err = info.value
    assert set(err.columns) == {"T", "recency", "frequency"}
    text = str(err)
    assert "The summary passed to BetaGeoBetaBinom.fit() has 3 problems" in text
    assert "'T': must be a whole number of transaction opportunities" in text and "customer_id='d'" in text
    assert "'recency': must be a whole number" in text and "customer_id='b'" in text
    assert "'frequency': must not exceed recency" in text and "customer_id='c'" in text


def test_predictions_check_the_summary_too() -> None:
    bad = CustomerSummary(frequency=[1], recency=[0.5], T=[3], time_unit="Y")
    for call in (lambda: MODEL.probability_alive(bad), lambda: MODEL.expected_purchases(bad, 2),
                 lambda: MODEL.probability_of_purchases(bad, 1, 2),
                 lambda: MODEL.discounted_expected_residual_transactions(bad, 0.1)):
        with pytest.raises(InvalidInputError, match="'recency': must be a whole number"):
            call()


@pytest.mark.parametrize("t", [1.5, -1, float("nan"), float("inf"), [1, 2.5, 3]])
def test_horizons_are_whole_numbers_of_opportunities(t: object) -> None:
    with pytest.raises(InvalidInputError, match=r"'t' parameter of FittedBetaGeoBetaBinom.expected_purchases"):
        MODEL.expected_purchases(SUMMARY, t)
    with pytest.raises(InvalidInputError, match="whole number of transaction opportunities"):
        MODEL.expected_purchases_new_customer(t)
    with pytest.raises(InvalidInputError, match="'t' parameter"):
        MODEL.probability_of_purchases(SUMMARY, 0, t)


@pytest.mark.parametrize("k", [-1, 0.5, float("nan")])
def test_number_of_transactions_is_a_whole_number(k: float) -> None:
    with pytest.raises(InvalidInputError, match=r"'n' parameter of FittedBetaGeoBetaBinom.probability_of_purchases"):
        MODEL.probability_of_purchases(SUMMARY, k, 3)


@pytest.mark.parametrize("d", [-0.1, float("nan"), float("inf"), 1e-9, "ten"])
def test_discount_rate_is_checked(d: object) -> None:
    with pytest.raises(InvalidInputError, match="'discount_rate' parameter of FittedBetaGeoBetaBinom"):
        MODEL.discounted_expected_residual_transactions(SUMMARY, d)  # type: ignore[arg-type]


def test_undiscounted_dert_is_infinite_when_gamma_is_at_most_one() -> None:
    with pytest.raises(ModelDomainError, match="gamma <= 1"):
        MODEL.discounted_expected_residual_transactions(SUMMARY, 0.0)
    finite = FittedBetaGeoBetaBinom(params=BetaGeoBetaBinomParams(alpha=1.2, beta=0.75, gamma=1.5, delta=2.8),
                                    time_unit="Y")
    assert (finite.discounted_expected_residual_transactions(SUMMARY, 0.0) > 0).all()


def test_wrong_objects_and_time_units() -> None:
    with pytest.raises(InvalidInputError, match=r"needs a clvkit\.CustomerSummary"):
        BetaGeoBetaBinom().fit({"frequency": [1]})  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match=r"needs a clvkit\.CustomerSummary"):
        MODEL.probability_alive([1, 2])  # type: ignore[arg-type]
    weeks = CustomerSummary(frequency=[1], recency=[1], T=[2], time_unit="W")
    with pytest.raises(InvalidInputError, match="fitted in time unit 'Y'"):
        MODEL.expected_purchases(weeks, 1)


def test_empty_summary_cannot_be_fitted() -> None:
    with pytest.raises(InvalidInputError, match="at least one customer"):
        BetaGeoBetaBinom().fit(CustomerSummary(frequency=[], recency=[], T=[], time_unit="Y"))


@pytest.mark.parametrize("bad", [{"alpha": 0.0}, {"beta": -1.0}, {"gamma": float("nan")}, {"delta": float("inf")}])
def test_parameters_must_be_positive_and_finite(bad: dict[str, float]) -> None:
    values = {"alpha": 1.0, "beta": 1.0, "gamma": 1.0, "delta": 1.0, **bad}
    with pytest.raises(InvalidInputError):
        BetaGeoBetaBinomParams(**values)


def test_initial_params_are_checked() -> None:
    with pytest.raises(InvalidInputError, match="'initial_params' parameter of BetaGeoBetaBinom"):
        BetaGeoBetaBinom(initial_params={"alpha": 1.0, "beta": 1.0, "gamma": 1.0}).fit(SUMMARY)
