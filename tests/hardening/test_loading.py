"""Hardening of loading and construction: strict, bounded JSON models and typed errors from every constructor.

The invariant of the whole file: hostile input gives a :class:`clvkit.ClvkitError` (an ``InvalidInputError``
naming the field) or a correct object - never ``pydantic.ValidationError``, ``RecursionError``,
``ZeroDivisionError`` or any other exception.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import clvkit
from clvkit import InvalidInputError
from clvkit.binding import BindingConfig
from clvkit.binding.config import LevelMatch, LevelWeights, ScoreWeights
from clvkit.tiering import FiveA, KeyCustomers, QuantileCut, make_policy
from clvkit.valuation import (
    BetaGeo,
    BetaGeoBetaBinom,
    BetaGeoBetaBinomParams,
    BetaGeoParams,
    FitInfo,
    FittedBetaGeo,
    FittedBetaGeoBetaBinom,
    FittedGammaGamma,
    FittedModifiedBetaGeo,
    FittedParetoNBD,
    FittedShiftedBetaGeo,
    GammaGamma,
    GammaGammaParams,
    ModifiedBetaGeo,
    ModifiedBetaGeoParams,
    ParetoNBD,
    ParetoNBDParams,
    ShiftedBetaGeo,
    ShiftedBetaGeoParams,
)
from clvkit.valuation.value.referral import AttributionRule

FITTED: dict[str, tuple[type[Any], type[Any], dict[str, float]]] = {
    "BetaGeo": (FittedBetaGeo, BetaGeoParams, {"r": 0.24, "alpha": 4.4, "a": 0.79, "b": 2.4}),
    "ModifiedBetaGeo": (FittedModifiedBetaGeo, ModifiedBetaGeoParams, {"r": 0.5, "alpha": 6.2, "a": 0.9, "b": 1.6}),
    "ParetoNBD": (FittedParetoNBD, ParetoNBDParams, {"r": 0.55, "alpha": 10.6, "s": 0.6, "beta": 11.7}),
    "BetaGeoBetaBinom": (FittedBetaGeoBetaBinom, BetaGeoBetaBinomParams,
                         {"alpha": 1.2, "beta": 0.75, "gamma": 0.66, "delta": 2.8}),
    "GammaGamma": (FittedGammaGamma, GammaGammaParams, {"p": 6.25, "q": 3.74, "v": 15.44}),
    "ShiftedBetaGeo": (FittedShiftedBetaGeo, ShiftedBetaGeoParams, {"alpha": 0.7, "beta": 1.2}),
}
ENGINES = (BetaGeo, ModifiedBetaGeo, ParetoNBD, BetaGeoBetaBinom, GammaGamma, ShiftedBetaGeo)

FIT_INFO = {
    "log_likelihood": -9582.4, "n_customers": 2357.0, "n_rows": 1016, "n_iterations": 13, "n_evaluations": 28,
    "converged": True, "gradient_norm": 3.6e-10, "message": "ok", "penalizer": 0.0, "n_params": 4,
    "standard_errors": {"r": 0.0125, "alpha": 0.378, "a": 0.185, "b": 0.705},
    "covariance": [[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]],
    "seconds": 0.1,
}


def _document(**changes: Any) -> dict[str, Any]:
    model = FittedBetaGeo(params=BetaGeoParams(**FITTED["BetaGeo"][2]), time_unit="W", fit_info=FitInfo(**FIT_INFO))
    doc: dict[str, Any] = json.loads(model.to_json())
    return doc | changes


def _error(fn: Callable[[], Any]) -> InvalidInputError:
    with pytest.raises(InvalidInputError) as info:
        fn()
    return info.value


# -------------------------------------------------------------------- 2. constructors raise InvalidInputError
@pytest.mark.parametrize(("make", "field"), [
    (lambda: BetaGeo(penalizer=-1), "penalizer"),
    (lambda: ParetoNBD(tol=0.0), "tol"),
    (lambda: GammaGamma(max_iter=0), "max_iter"),
    (lambda: ShiftedBetaGeo(unknown=1), "unknown"),
    (lambda: BetaGeoParams(r=-1, alpha=1, a=1, b=1), "r"),
    (lambda: BetaGeoParams(r=1, alpha=1, a=1), "b"),
    (lambda: GammaGammaParams(p=1, q=math.nan, v=1), "q"),
    (lambda: ShiftedBetaGeoParams(alpha=1, beta=math.inf), "beta"),
    (lambda: FittedBetaGeo(params=BetaGeoParams(r=1, alpha=1, a=1, b=1), time_unit="fortnight"), "time_unit"),
    (lambda: FittedBetaGeo(params={"r": 1, "alpha": 1, "a": 1, "b": 0}, time_unit="W"), "params.b"),
    (lambda: FittedBetaGeo(params="junk", time_unit="W"), "params"),
    (lambda: FitInfo(**(FIT_INFO | {"n_rows": "many"})), "n_rows"),
    (lambda: AttributionRule(decay=1.5), "decay"),
    (lambda: AttributionRule(max_levels=0), "max_levels"),
    (lambda: BindingConfig(window_days=-1), "window_days"),
    (lambda: BindingConfig(level_weights={"user": -1}), "level_weights.user"),
    (lambda: LevelWeights(user=0, manager=0, decision_maker=0, executive=0, successor=0), "LevelWeights"),
    (lambda: ScoreWeights(hierarchy=math.nan), "hierarchy"),
    (lambda: LevelMatch(user="nobody"), "user"),
    (lambda: KeyCustomers(share=2.0), "share"),
    (lambda: FiveA(cut=QuantileCut(shares=(0.5, 0.5)), labels=("a",)), "labels"),
])
def test_constructors_raise_invalid_input(make: Callable[[], Any], field: str) -> None:
    err = _error(make)
    assert field in str(err)


def test_validate_methods_raise_invalid_input() -> None:
    assert "window_days" in str(_error(lambda: BindingConfig.model_validate({"window_days": "soon"})))
    assert "window_days" in str(_error(lambda: BindingConfig.model_validate_json('{"window_days": -3}')))
    assert "decay" in str(_error(lambda: AttributionRule.model_validate_json('{"decay": 3}')))
    assert "r" in str(_error(lambda: BetaGeoParams.model_validate({"r": 0})))


@pytest.mark.parametrize(("make", "field"), [
    (lambda: BindingConfig.model_validate_json('{"window_days": true}'), "window_days"),
    (lambda: BindingConfig.model_validate_json('{"window_days": "180"}'), "window_days"),
    (lambda: AttributionRule.model_validate_json('{"max_levels": 2.0}'), "max_levels"),
    (lambda: KeyCustomers.model_validate_json('{"share": "0.2"}'), "share"),
    (lambda: make_policy("key-customers", '{"share": true}'), "share"),
])
def test_configuration_json_is_strict(make: Callable[[], Any], field: str) -> None:
    assert field in str(_error(make))


def test_configuration_json_takes_integers_for_floats() -> None:
    assert BindingConfig.model_validate_json('{"window_days": 180}').window_days == 180.0
    assert KeyCustomers.model_validate_json('{"share": 1}').share == 1.0


def test_messages_say_what_and_how_to_fix() -> None:
    message = str(_error(lambda: BetaGeoParams(r=-1, alpha=1, a=1, b=1)))
    assert "'r'" in message and "-1" in message and "> 0" in message
    message = str(_error(lambda: BetaGeo(penalty=1)))
    assert "penalty" in message and "penalizer" in message  # names the fields it knows


def test_python_construction_still_accepts_ints_and_numpy_numbers() -> None:
    p = BetaGeoParams(r=1, alpha=np.float64(2.5), a=np.float32(0.5), b=np.int64(3))
    assert p.model_dump() == {"r": 1.0, "alpha": 2.5, "a": 0.5, "b": 3.0}
    assert all(type(v) is float for v in p.model_dump().values())
    assert BetaGeo(penalizer=0, max_iter=np.int64(10)).max_iter == 10
    assert AttributionRule(decay=0, share=1).decay == 0.0


# ---------------------------------------------------------------- 3. subnormal parameters are refused at once
@pytest.mark.parametrize("value", [5e-324, 1e-310, 2.225073858507201e-308])
def test_subnormal_parameters_are_refused(value: float) -> None:
    for _name, (_fitted, params, good) in FITTED.items():
        first = next(iter(good))
        err = _error(lambda params=params, good=good, first=first: params(**(good | {first: value})))
        assert first in str(err) and "2.2250738585072014e-308" in str(err)
    assert BetaGeoParams(r=2.2250738585072014e-308, alpha=1, a=1, b=1).r == 2.2250738585072014e-308


@pytest.mark.xfail(raises=ZeroDivisionError, strict=True,
                   reason="kernel: clvkit/valuation/models/_special.py beta_gauss_rule divides by (q-1)+(p-1)+2 in "
                          "Python floats, zero when p, q < 1.1e-16 (BG/NBD a, b); the kernels are the numerics "
                          "work's (issue 10) - remove this mark when it is fixed")
def test_tiny_but_normal_beta_parameters_give_a_finite_prediction() -> None:
    summary = clvkit.CustomerSummary(frequency=[0, 2], recency=[0.0, 3.0], T=[10.0, 10.0], time_unit="W")
    model = FittedBetaGeo(params=BetaGeoParams(r=1.5, alpha=1.5, a=1e-17, b=1e-17), time_unit="W")
    assert np.all(np.isfinite(model.expected_purchases(summary, 5.0)))
