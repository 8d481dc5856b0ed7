"""Hypothesis over the public entry points: hostile values in every argument; a typed error or a finite result.

The strategies mix what a careless user or an attacker passes: NaN, infinities, denormals, huge and negative
numbers, wrong types (strings, None, booleans, lists, dicts, complex numbers, datetimes), empty and ragged
arrays. Each call goes through :func:`probe`, which fails the test on any other exception or a NaN.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import clvkit
from clvkit import ContractSummary, CustomerSummary
from clvkit.valuation import (
    CNBD,
    BetaGeo,
    BetaGeoBetaBinomParams,
    BetaGeoCNBD,
    BetaGeoCNBDParams,
    BetaGeoParams,
    CNBDParams,
    FittedBetaGeo,
    FittedBetaGeoBetaBinom,
    FittedBetaGeoCNBD,
    FittedCNBD,
    FittedGammaGamma,
    FittedGammaGompertzNBD,
    FittedModifiedBetaGeo,
    FittedModifiedBetaGeoCNBD,
    FittedParetoNBD,
    FittedShiftedBetaGeo,
    GammaGamma,
    GammaGammaParams,
    GammaGompertzNBDParams,
    ModifiedBetaGeo,
    ModifiedBetaGeoCNBD,
    ModifiedBetaGeoCNBDParams,
    ModifiedBetaGeoParams,
    ParetoNBD,
    ParetoNBDParams,
    ShiftedBetaGeoParams,
    clv,
)

from ._probe import probe

SETTINGS = settings(max_examples=60, suppress_health_check=list(HealthCheck), deadline=None)

NUMBERS = st.one_of(
    st.sampled_from([0.0, -0.0, 1.0, -1.0, 0.5, 2.0, 39.0, 1e-300, 5e-324, 1e300, 1e308, -1e308, math.inf, -math.inf,
                     math.nan, 2**53, 10**12]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-10**6, 10**6),
)
HOSTILE_SCALAR = st.one_of(NUMBERS, st.none(), st.booleans(), st.text(max_size=5), st.just([1, 2]), st.just({"a": 1}),
                           st.just(1 + 2j), st.just(dt.datetime(2024, 1, 1)), st.just(np.datetime64("2024-01-01")))
COLUMN = st.one_of(
    st.lists(NUMBERS, min_size=0, max_size=6),
    st.lists(HOSTILE_SCALAR, min_size=1, max_size=4),
    HOSTILE_SCALAR,
)

WEEKS = CustomerSummary(frequency=[0, 2, 7], recency=[0.0, 30.43, 36.0], T=[38.86, 38.86, 38.86], time_unit="W")
OPPORTUNITIES = CustomerSummary(frequency=[0, 2, 6], recency=[0, 4, 6], T=[6, 6, 6], time_unit="Y")
COUNT_MODELS: dict[str, Any] = {
    "BetaGeo": FittedBetaGeo(params=BetaGeoParams(r=0.243, alpha=4.414, a=0.793, b=2.426), time_unit="W"),
    "ModifiedBetaGeo": FittedModifiedBetaGeo(params=ModifiedBetaGeoParams(r=0.525, alpha=6.183, a=0.891, b=1.614),
                                             time_unit="W"),
    "ParetoNBD": FittedParetoNBD(params=ParetoNBDParams(r=0.553, alpha=10.578, s=0.606, beta=11.669), time_unit="W"),
    "GammaGompertzNBD": FittedGammaGompertzNBD(
        params=GammaGompertzNBDParams(r=0.553, alpha=10.578, b=0.01, s=0.606, beta=0.1), time_unit="W"),
    "BetaGeoBetaBinom": FittedBetaGeoBetaBinom(
        params=BetaGeoBetaBinomParams(alpha=1.204, beta=0.750, gamma=0.657, delta=2.783), time_unit="Y"),
    # The CNBD-k family: grocery-like regularity (k = 2, 3) and a strongly regular CNBD-k.
    "CNBD": FittedCNBD(params=CNBDParams(k=6, r=1.2, alpha=4.0), time_unit="W"),
    "BetaGeoCNBD": FittedBetaGeoCNBD(params=BetaGeoCNBDParams(k=3, r=0.85, alpha=1.45, a=0.79, b=2.42), time_unit="W"),
    "ModifiedBetaGeoCNBD": FittedModifiedBetaGeoCNBD(
        params=ModifiedBetaGeoCNBDParams(k=2, r=1.33, alpha=2.81, a=0.42, b=0.79), time_unit="W"),
}


@SETTINGS
@given(frequency=COLUMN, recency=COLUMN, T=COLUMN, monetary=st.one_of(st.none(), COLUMN),
       weights=st.one_of(st.none(), COLUMN), ids=st.one_of(st.none(), COLUMN),
       unit=st.one_of(st.sampled_from(["D", "W", "M", "Y"]), HOSTILE_SCALAR))
def test_customer_summary_construction(frequency: Any, recency: Any, T: Any, monetary: Any, weights: Any, ids: Any,
                                       unit: Any) -> None:
    probe("CustomerSummary(...)", lambda: CustomerSummary(frequency=frequency, recency=recency, T=T,
                                                          monetary_value=monetary, weights=weights,
                                                          customer_id=ids, time_unit=unit))


@SETTINGS
@given(name=st.sampled_from(sorted(COUNT_MODELS)), t=COLUMN, n=COLUMN, d=HOSTILE_SCALAR, ages=COLUMN,
       seed=st.one_of(st.none(), st.integers(0, 10), HOSTILE_SCALAR))
def test_count_model_predictions(name: str, t: Any, n: Any, d: Any, ages: Any, seed: Any) -> None:
    model = COUNT_MODELS[name]
    s = OPPORTUNITIES if name == "BetaGeoBetaBinom" else WEEKS
    probe(f"{name} predictions", lambda: model.expected_purchases(s, t))
    probe(f"{name} predictions", lambda: model.expected_purchases_path(s, t))
    probe(f"{name} predictions", lambda: model.probability_alive(s))
    probe(f"{name} predictions", lambda: model.probability_of_purchases(s, n, t))
    probe(f"{name} predictions", lambda: model.expected_purchases_new_customer(t))
    probe(f"{name} predictions", lambda: model.probability_of_purchases_new_customer(n, t))
    probe(f"{name} predictions", lambda: model.discounted_expected_residual_transactions(s, d))
    probe(f"{name} predictions", lambda: model.simulate(ages, seed=seed))


@SETTINGS
@given(values=st.lists(NUMBERS, min_size=4, max_size=4), unit=HOSTILE_SCALAR)
def test_parameter_classes_and_fitted_models(values: list[Any], unit: Any) -> None:
    r, a, b, c = values
    probe("parameters", lambda: FittedBetaGeo(params=BetaGeoParams(r=r, alpha=a, a=b, b=c), time_unit=unit))
    probe("parameters", lambda: FittedParetoNBD(params=ParetoNBDParams(r=r, alpha=a, s=b, beta=c)))
    probe("parameters", lambda: FittedGammaGamma(params=GammaGammaParams(p=r, q=a, v=b)))
    probe("parameters", lambda: FittedShiftedBetaGeo(params=ShiftedBetaGeoParams(alpha=r, beta=a)))
    probe("parameters", lambda: FittedBetaGeo(params=BetaGeoParams(r=0.2, alpha=4.0, a=0.8, b=2.4)).with_param_array(
        values))


@SETTINGS
@given(penalizer=HOSTILE_SCALAR, tol=HOSTILE_SCALAR, max_iter=HOSTILE_SCALAR, start=st.one_of(st.none(), COLUMN,
       st.dictionaries(st.sampled_from(["r", "alpha", "a", "b", "x"]), NUMBERS, max_size=5)))
def test_engine_settings(penalizer: Any, tol: Any, max_iter: Any, start: Any) -> None:
    for engine in (BetaGeo, ModifiedBetaGeo, ParetoNBD, GammaGamma):
        probe("engine settings", lambda engine=engine: engine(penalizer=penalizer, tol=tol, max_iter=max_iter,
                                                              initial_params=start))


@SETTINGS
@given(x=st.lists(st.integers(0, 30), min_size=1, max_size=8), data=st.data())
def test_fits_on_extreme_small_data(x: list[int], data: st.DataObject) -> None:
    n = len(x)
    T = data.draw(st.lists(st.sampled_from([0.0, 1e-9, 1.0, 39.0, 1e6]), min_size=n, max_size=n))
    frac = data.draw(st.lists(st.sampled_from([0.0, 0.5, 1.0]), min_size=n, max_size=n))
    recency = [0.0 if xi == 0 else f * t for xi, f, t in zip(x, frac, T, strict=True)]
    x = [xi if t > 0 else 0 for xi, t in zip(x, T, strict=True)]
    recency = [r if xi > 0 else 0.0 for xi, r in zip(x, recency, strict=True)]
    summary = probe("summary of extreme data", lambda: CustomerSummary(frequency=x, recency=recency, T=T,
                                                                       monetary_value=[10.0] * n))
    if summary is None:
        return
    for engine in (BetaGeo(max_iter=50), ModifiedBetaGeo(max_iter=50), ParetoNBD(max_iter=50), GammaGamma()):
        probe("fits on extreme data", lambda engine=engine: engine.fit(summary))
    litt = np.zeros(n)  # the CNBD-k family: log inter-purchase times summing to 0 (e.g. gaps 1, 1, ...)
    for cnbd in (CNBD(k=3, max_iter=50), BetaGeoCNBD(k=2, max_iter=50), ModifiedBetaGeoCNBD(max_iter=50)):
        probe("fits on extreme data", lambda cnbd=cnbd: cnbd.fit(summary, litt=litt))


@SETTINGS
@given(horizon=HOSTILE_SCALAR, d=HOSTILE_SCALAR, margin=HOSTILE_SCALAR, period=HOSTILE_SCALAR,
       spend=st.one_of(NUMBERS, COLUMN, st.sampled_from(["model", "wrong-model"])))
def test_clv_arguments(horizon: Any, d: Any, margin: Any, period: Any, spend: Any) -> None:
    bg = COUNT_MODELS["BetaGeo"]
    gg = FittedGammaGamma(params=GammaGammaParams(p=6.25, q=3.74, v=15.44), time_unit="W")
    s = WEEKS.with_monetary_value([0.0, 20.0, 30.0]) if hasattr(WEEKS, "with_monetary_value") else CustomerSummary(
        frequency=WEEKS.frequency, recency=WEEKS.recency, T=WEEKS.T, monetary_value=[0.0, 20.0, 30.0], time_unit="W")
    spend_model = gg if spend == "model" else (bg if spend == "wrong-model" else spend)
    probe("clv()", lambda: clv(bg, spend_model, s, horizon=horizon, discount_rate=d, margin=margin, period=period))
    probe("clv()", lambda: clv(gg, 10.0, s, horizon=12, discount_rate=0.01))  # a spend model as transaction model


@SETTINGS
@given(duration=COLUMN, churned=COLUMN, unit=HOSTILE_SCALAR, d=HOSTILE_SCALAR, t=COLUMN)
def test_contracts_and_sbg(duration: Any, churned: Any, unit: Any, d: Any, t: Any) -> None:
    probe("ContractSummary(...)", lambda: ContractSummary(duration=duration, churned=churned, time_unit=unit))
    m = FittedShiftedBetaGeo(params=ShiftedBetaGeoParams(alpha=0.704, beta=1.182), time_unit="Y")
    probe("sBG predictions", lambda: m.survival(t))
    probe("sBG predictions", lambda: m.retention_rate(t))
    probe("sBG predictions", lambda: m.discounted_expected_residual_lifetime(t, d))
    probe("sBG predictions", lambda: m.expected_residual_value(t, 10.0, d))


@SETTINGS
@given(document=st.recursive(
    st.one_of(st.none(), st.booleans(), NUMBERS.filter(lambda v: not (isinstance(v, float) and math.isnan(v))),
              st.text(max_size=8)),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=4)),
    max_leaves=12))
def test_load_json_on_arbitrary_json(document: Any) -> None:
    import json

    probe("load_json()", lambda: clvkit.load_json(json.dumps(document, allow_nan=True)))


@SETTINGS
@given(field=st.sampled_from(["r", "alpha", "a", "b"]), value=HOSTILE_SCALAR, unit=HOSTILE_SCALAR)
def test_load_json_on_hostile_fields(field: str, value: Any, unit: Any) -> None:
    import json

    doc = json.loads(COUNT_MODELS["BetaGeo"].to_json())
    doc["params"][field] = value if isinstance(value, (int, float, str, bool, type(None), list, dict)) else str(value)
    doc["time_unit"] = unit if isinstance(unit, (str, int, float, bool, type(None))) else str(unit)
    probe("load_json()", lambda: clvkit.load_json(json.dumps(doc, allow_nan=True)))


def test_load_json_deep_nesting_and_size() -> None:
    probe("load_json()", lambda: clvkit.load_json("[" * 100_000 + "]" * 100_000))
    probe("load_json()", lambda: clvkit.load_json('{"a": ' * 50_000 + "1" + "}" * 50_000))
    probe("load_json()", lambda: clvkit.load_json(b"\xff\xfe\x00garbage"))
