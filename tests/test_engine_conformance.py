"""One conformance suite over every count model (BG/NBD, MBG/NBD, Pareto/NBD, BG/BB).

Each engine must: fit the field's data set it is published on; persist exactly as JSON; give the same
optimum on compressed rows and in any row order; refuse summaries in another time unit; and, for any
valid parameters and customers, return finite probabilities in [0, 1], non-negative expectations that do
not decrease with the horizon, and a purchase-count distribution that is a (sub-)probability.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clvkit import ConvergenceWarning, CustomerSummary, InvalidInputError, load_json
from clvkit.valuation import (
    BetaGeo,
    BetaGeoBetaBinom,
    BetaGeoBetaBinomParams,
    BetaGeoParams,
    FittedBetaGeo,
    FittedBetaGeoBetaBinom,
    FittedModifiedBetaGeo,
    FittedParetoNBD,
    ModifiedBetaGeo,
    ModifiedBetaGeoParams,
    ParetoNBD,
    ParetoNBDParams,
)

datasets = pytest.importorskip("lifetimes.datasets")


@dataclass(frozen=True)
class Case:
    engine: Any
    fitted: Any
    params: Any
    discrete: bool  # BG/BB: T counts purchase opportunities, horizons are whole numbers


CASES = [
    Case(BetaGeo, FittedBetaGeo, BetaGeoParams, False),
    Case(ModifiedBetaGeo, FittedModifiedBetaGeo, ModifiedBetaGeoParams, False),
    Case(ParetoNBD, FittedParetoNBD, ParetoNBDParams, False),
    Case(BetaGeoBetaBinom, FittedBetaGeoBetaBinom, BetaGeoBetaBinomParams, True),
]
IDS = [c.engine.__name__ for c in CASES]


@pytest.fixture(scope="module")
def donations() -> CustomerSummary:
    df = datasets.load_donations()
    return CustomerSummary(frequency=df["frequency"].to_numpy(float), recency=df["recency"].to_numpy(float),
                           T=df["periods"].to_numpy(float), weights=df["weights"].to_numpy(float), time_unit="Y")


def _data(case: Case, cdnow: CustomerSummary, donations: CustomerSummary) -> CustomerSummary:
    return donations if case.discrete else cdnow


@pytest.fixture(scope="module")
def fits(cdnow_weeks: CustomerSummary, donations: CustomerSummary) -> dict[str, Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return {c.engine.__name__: c.engine().fit(_data(c, cdnow_weeks, donations)) for c in CASES}


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_fit_is_complete_and_persists_exactly(case: Case, fits: dict[str, Any]) -> None:
    model = fits[case.engine.__name__]
    assert isinstance(model, case.fitted)
    assert tuple(model.params.model_dump()) == case.engine.param_names
    info = model.fit_info
    assert info is not None and info.converged and np.isfinite(info.log_likelihood)
    assert info.standard_errors is not None and all(v > 0 for v in info.standard_errors.values())
    assert info.aic > -2 * info.log_likelihood
    back = load_json(model.to_json())
    assert back == model and type(back) is case.fitted


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_compressed_and_shuffled_rows_give_the_same_optimum(case: Case, fits: dict[str, Any],
                                                            cdnow_weeks: CustomerSummary,
                                                            donations: CustomerSummary) -> None:
    data = _data(case, cdnow_weeks, donations)
    rng = np.random.default_rng(7)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a = case.engine().fit(data.compress().summary)
        b = case.engine().fit(data.take(rng.permutation(len(data))))
    reference = fits[case.engine.__name__]
    np.testing.assert_allclose(a.param_array(), reference.param_array(), rtol=1e-5)
    np.testing.assert_allclose(b.param_array(), reference.param_array(), rtol=1e-5)
    assert a.log_likelihood == pytest.approx(reference.log_likelihood, rel=1e-9)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_refuses_another_time_unit(case: Case, fits: dict[str, Any], cdnow_weeks: CustomerSummary,
                                   donations: CustomerSummary) -> None:
    model = fits[case.engine.__name__]
    other = _data(case, cdnow_weeks, donations).with_time_unit("D")
    with pytest.raises(InvalidInputError, match="time unit"):
        model.probability_alive(other)


def _customers(discrete: bool) -> Any:
    if discrete:
        # n opportunities, x <= n transactions, the last at opportunity t_x with x <= t_x <= n (0 if none)
        return st.integers(1, 60).flatmap(lambda n: st.integers(0, n).flatmap(
            lambda x: st.tuples(st.just(float(x)), st.integers(x, n).map(float) if x > 0 else st.just(0.0),
                                st.just(float(n)))))
    return st.tuples(st.integers(0, 300), st.floats(0, 1), st.floats(0.01, 500.0)).map(
        lambda v: (float(v[0]), v[1] * v[2] if v[0] > 0 else 0.0, v[2])
    )


def _params(case: Case) -> Any:
    names = case.engine.param_names
    return st.tuples(*(st.floats(0.02, 50.0) for _ in names)).map(
        lambda vals: case.params(**dict(zip(names, vals, strict=True)))
    )


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_prediction_properties(case: Case) -> None:
    @settings(max_examples=30, deadline=None)
    @given(st.lists(_customers(case.discrete), min_size=1, max_size=12), _params(case),
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
