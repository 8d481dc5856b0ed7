"""Gamma-Gamma spend model: published estimates, lifetimes oracle, references, inputs."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clvkit import CustomerSummary, InvalidInputError, ModelDomainError, load_json
from clvkit.valuation import FittedGammaGamma, GammaGamma, GammaGammaParams
from clvkit.valuation.models import _gammagamma as kernel

lifetimes = pytest.importorskip("lifetimes")


@pytest.fixture(scope="module")
def fitted(cdnow_weeks: CustomerSummary) -> FittedGammaGamma:
    return GammaGamma().fit(cdnow_weeks)


def test_reproduces_published_cdnow_estimates(fitted: FittedGammaGamma) -> None:
    # Fader & Hardie (2013), "The Gamma-Gamma Model of Monetary Value", note 025: on the 946 CDNOW
    # customers with repeat purchases, p = 6.25, q = 3.74, gamma (our v) = 15.44.
    assert round(fitted.params.p, 2) == 6.25
    assert round(fitted.params.q, 2) == 3.74
    assert fitted.params.v == pytest.approx(15.44, abs=0.01)
    assert fitted.fit_info is not None and fitted.fit_info.n_customers == 946


def test_same_optimum_and_predictions_as_lifetimes(cdnow_weeks: CustomerSummary, fitted: FittedGammaGamma) -> None:
    s = cdnow_weeks
    repeat = s.frequency > 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        oracle = lifetimes.GammaGammaFitter().fit(s.frequency[repeat], s.monetary_value[repeat])  # type: ignore[index]
    np.testing.assert_allclose(fitted.param_array(), oracle.params_[["p", "q", "v"]].to_numpy(), rtol=1e-3)
    model = FittedGammaGamma(params=GammaGammaParams(**{k: float(oracle.params_[k]) for k in ("p", "q", "v")}),
                             time_unit="W")
    np.testing.assert_allclose(
        model.expected_spend(s),
        oracle.conditional_expected_average_profit(s.frequency, s.monetary_value),
        rtol=1e-12,
    )


def _ref_loglik(p: float, q: float, v: float, x: float, m: float) -> float:
    """Fader & Hardie (2013) eq. (3), plainly."""
    return (math.lgamma(p * x + q) - math.lgamma(p * x) - math.lgamma(q) + q * math.log(v)
            + (p * x - 1) * math.log(m) + p * x * math.log(x) - (p * x + q) * math.log(v + x * m))


def test_kernel_matches_scalar_reference_and_gradient(rng: np.random.Generator) -> None:
    params = np.array([4.0, 2.5, 12.0])
    x = rng.integers(1, 50, 300).astype(float)
    m = rng.gamma(2.0, 20.0, 300)
    ll, grad = kernel.loglik(params, x, m)
    np.testing.assert_allclose(ll, [_ref_loglik(*params, xi, mi) for xi, mi in zip(x, m, strict=True)], rtol=1e-11)
    for j in range(3):
        h = 1e-6 * params[j]
        up, dn = params.copy(), params.copy()
        up[j] += h
        dn[j] -= h
        fd = (kernel.loglik(up, x, m)[0] - kernel.loglik(dn, x, m)[0]) / (2 * h)
        np.testing.assert_allclose(grad[:, j], fd, rtol=1e-6, atol=1e-6)


@settings(max_examples=50, deadline=None)
@given(st.floats(0.1, 50), st.floats(1.01, 50), st.floats(0.1, 500), st.integers(0, 10_000), st.floats(0.01, 1e5))
def test_expected_spend_is_a_shrinkage_between_population_and_own_mean(p, q, v, x, m) -> None:  # type: ignore[no-untyped-def]
    model = FittedGammaGamma(params=GammaGammaParams(p=p, q=q, v=v))
    s = CustomerSummary(frequency=[float(x)], recency=[1.0 if x else 0.0], T=[2.0], monetary_value=[m])
    e = float(model.expected_spend(s)[0])
    pop = model.population_mean_spend
    assert math.isfinite(e)
    assert min(pop, m) * (1 - 1e-12) <= e <= max(pop, m) * (1 + 1e-12)
    if x == 0:
        assert e == pytest.approx(pop, rel=1e-12)


def test_compressed_and_order_free(cdnow_weeks: CustomerSummary, fitted: FittedGammaGamma,
                                   rng: np.random.Generator) -> None:
    again = GammaGamma().fit(cdnow_weeks.take(rng.permutation(len(cdnow_weeks))))
    np.testing.assert_allclose(again.param_array(), fitted.param_array(), rtol=1e-6)
    compressed = GammaGamma().fit(cdnow_weeks.compress().summary)
    np.testing.assert_allclose(compressed.param_array(), fitted.param_array(), rtol=1e-6)


def test_json_round_trip(fitted: FittedGammaGamma) -> None:
    assert load_json(fitted.to_json()) == fitted


def test_bad_inputs(cdnow_weeks: CustomerSummary) -> None:
    no_money = CustomerSummary(frequency=[1.0], recency=[1.0], T=[2.0])
    with pytest.raises(InvalidInputError, match="monetary_value"):
        GammaGamma().fit(no_money)
    zero = CustomerSummary(frequency=[1.0, 2.0, 0.0], recency=[1.0, 1.0, 0.0], T=[2.0] * 3,
                           monetary_value=[3.0, 0.0, 0.0], customer_id=["a", "b", "c"])
    with pytest.raises(InvalidInputError, match=r"customer_id='b'") as info:
        GammaGamma().fit(zero)
    assert info.value.columns == ("monetary_value",)
    heavy = FittedGammaGamma(params=GammaGammaParams(p=1.0, q=0.9, v=1.0))
    with pytest.raises(ModelDomainError, match="q <= 1"):
        heavy.expected_spend(zero)
