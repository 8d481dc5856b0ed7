"""Hardening of loading and construction: strict, bounded JSON models and typed errors from every constructor.

The invariant of the whole file: hostile input gives a :class:`clvkit.ClvkitError` (an ``InvalidInputError``
naming the field) or a correct object - never ``pydantic.ValidationError``, ``RecursionError``,
``ZeroDivisionError`` or any other exception.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import clvkit
from clvkit import ClvkitError, InvalidInputError, load_json
from clvkit.binding import BindingConfig
from clvkit.binding.config import LevelMatch, LevelWeights, ScoreWeights
from clvkit.persistence import MAX_DEPTH, MAX_DOCUMENT_BYTES
from clvkit.tiering import FiveA, KeyCustomers, QuantileCut, make_policy
from clvkit.tiering.registry import POLICIES
from clvkit.valuation import (
    CNBD,
    BetaGeo,
    BetaGeoBetaBinom,
    BetaGeoBetaBinomParams,
    BetaGeoCNBD,
    BetaGeoCNBDParams,
    BetaGeoParams,
    CNBDParams,
    FitInfo,
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
from clvkit.valuation.value.referral import AttributionRule

FITTED: dict[str, tuple[type[Any], type[Any], dict[str, float]]] = {
    "BetaGeo": (FittedBetaGeo, BetaGeoParams, {"r": 0.24, "alpha": 4.4, "a": 0.79, "b": 2.4}),
    "ModifiedBetaGeo": (FittedModifiedBetaGeo, ModifiedBetaGeoParams, {"r": 0.5, "alpha": 6.2, "a": 0.9, "b": 1.6}),
    "ParetoNBD": (FittedParetoNBD, ParetoNBDParams, {"r": 0.55, "alpha": 10.6, "s": 0.6, "beta": 11.7}),
    "GammaGompertzNBD": (FittedGammaGompertzNBD, GammaGompertzNBDParams,
                         {"r": 0.55, "alpha": 10.6, "b": 0.01, "s": 0.6, "beta": 0.1}),
    "BetaGeoBetaBinom": (FittedBetaGeoBetaBinom, BetaGeoBetaBinomParams,
                         {"alpha": 1.2, "beta": 0.75, "gamma": 0.66, "delta": 2.8}),
    "GammaGamma": (FittedGammaGamma, GammaGammaParams, {"p": 6.25, "q": 3.74, "v": 15.44}),
    "ShiftedBetaGeo": (FittedShiftedBetaGeo, ShiftedBetaGeoParams, {"alpha": 0.7, "beta": 1.2}),
    # the CNBD-k family: the whole-number regularity k last (the float parameters first, as the tests above read them)
    "CNBD": (FittedCNBD, CNBDParams, {"r": 1.2, "alpha": 4.0, "k": 2}),
    "BetaGeoCNBD": (FittedBetaGeoCNBD, BetaGeoCNBDParams, {"r": 0.85, "alpha": 1.45, "a": 0.79, "b": 2.42, "k": 3}),
    "ModifiedBetaGeoCNBD": (FittedModifiedBetaGeoCNBD, ModifiedBetaGeoCNBDParams,
                            {"r": 1.33, "alpha": 2.81, "a": 0.42, "b": 0.79, "k": 2}),
}
ENGINES = (BetaGeo, ModifiedBetaGeo, ParetoNBD, GammaGompertzNBD, BetaGeoBetaBinom, GammaGamma, ShiftedBetaGeo, CNBD,
           BetaGeoCNBD, ModifiedBetaGeoCNBD)

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


# ------------------------------------------------------------------------------------ 1. strict, bounded loading
def test_a_written_model_loads_back_exactly() -> None:
    model = FittedBetaGeo(params=BetaGeoParams(**FITTED["BetaGeo"][2]), time_unit="W", fit_info=FitInfo(**FIT_INFO))
    assert load_json(model.to_json()) == model
    assert load_json(model.to_json().encode("utf-8")) == model


@pytest.mark.parametrize(("change", "field", "got"), [
    ({"params": {"r": True, "alpha": 4.4, "a": 0.79, "b": 2.4}}, "params.r", "true"),
    ({"params": {"r": "0.5", "alpha": 4.4, "a": 0.79, "b": 2.4}}, "params.r", '"0.5"'),
    ({"fit_info": FIT_INFO | {"n_rows": 1016.5}}, "fit_info.n_rows", "1016.5"),
    ({"fit_info": FIT_INFO | {"converged": 1}}, "fit_info.converged", "1"),
    ({"fit_info": FIT_INFO | {"log_likelihood": "-9582.4"}}, "fit_info.log_likelihood", '"-9582.4"'),
    ({"time_unit": 7}, "time_unit", "7"),
])
def test_types_are_strict(change: dict[str, Any], field: str, got: str) -> None:
    err = _error(lambda: load_json(json.dumps(_document(**change))))
    assert field in str(err) and got in str(err)


@pytest.mark.parametrize("version", [True, 1.0, "1", None, 0, 2])
def test_schema_version_must_be_a_known_integer(version: Any) -> None:
    err = _error(lambda: load_json(json.dumps(_document(schema_version=version))))
    assert "schema_version" in str(err)


@pytest.mark.parametrize(("change", "field"), [
    ({"model": ["BetaGeo"]}, "model"),
    ({"clvkit_version": 1}, "clvkit_version"),
    ({"schema": None}, "schema"),
])
def test_header_fields_are_strict(change: dict[str, Any], field: str) -> None:
    assert field in str(_error(lambda: load_json(json.dumps(_document(**change)))))


@pytest.mark.parametrize(("token", "field"), [
    ('"log_likelihood": NaN', "fit_info.log_likelihood"),
    ('"log_likelihood": -Infinity', "fit_info.log_likelihood"),
    ('"log_likelihood": 1e400', "fit_info.log_likelihood"),
    ('"gradient_norm": Infinity', "fit_info.gradient_norm"),
])
def test_numbers_must_be_finite(token: str, field: str) -> None:
    name = token.split(":")[0]
    text = json.dumps(_document(), indent=1)
    start = text.index(name)
    end = text.index(",", start)
    err = _error(lambda: load_json(text[:start] + token + text[end:]))
    assert field in str(err) and "finite" in str(err)


def test_nan_in_standard_errors_is_refused() -> None:
    text = json.dumps(_document()).replace('"a": 0.185', '"a": NaN')
    assert "fit_info.standard_errors.a" in str(_error(lambda: load_json(text)))


def test_a_loaded_model_can_always_be_written_back() -> None:
    # The reason for "finite only": to_json() refuses NaN, so a model holding one could never be saved again.
    text = load_json(json.dumps(_document())).to_json()
    assert load_json(text).to_json() == text


def test_deep_nesting_is_refused_before_parsing() -> None:
    for text in ("[" * 100_000, '{"a":' * 100_000, '{"schema": ' + "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1) + "}"):
        assert "nest" in str(_error(lambda text=text: load_json(text)))
    # Brackets inside strings do not count.
    doc = _document()
    doc["fit_info"]["message"] = "[" * 10_000
    assert load_json(json.dumps(doc)).fit_info is not None


def test_size_is_limited() -> None:
    doc = _document()
    doc["fit_info"]["message"] = "x" * MAX_DOCUMENT_BYTES
    err = _error(lambda: load_json(json.dumps(doc)))
    assert "bytes" in str(err)
    assert "bytes" in str(_error(lambda: load_json(json.dumps(doc).encode())))


def test_duplicate_keys_are_refused() -> None:
    text = json.dumps(_document()).replace('"r": 0.24', '"r": 0.24, "r": 99.0')
    assert "duplicate" in str(_error(lambda: load_json(text)))


def test_huge_integers_are_refused() -> None:
    text = json.dumps(_document()).replace('"n_rows": 1016', '"n_rows": ' + "9" * 40)
    assert "fit_info.n_rows" in str(_error(lambda: load_json(text)))
    text = json.dumps(_document()).replace('"n_rows": 1016', '"n_rows": ' + "9" * 5000)
    _error(lambda: load_json(text))


def test_hostile_text_is_refused_quickly() -> None:
    import time

    size = MAX_DOCUMENT_BYTES - 16
    for text in ('"' + 'a\\"' * (size // 3),             # escaped quotes: no rescan from each one
                 '["' + "[" * size + '"]',                 # brackets inside a string
                 "[" + "9" * size + "]",                   # one integer of a million digits
                 "[" + ",".join(["9" * 4000] * (size // 4001)) + "]",
                 "x" * (64 * MAX_DOCUMENT_BYTES)):         # refused on its length, never encoded
        start = time.perf_counter()
        _error(lambda text=text: load_json(text))
        assert time.perf_counter() - start < 2.0


@pytest.mark.parametrize("text", [None, 3, b"\xff\xfe{}", "\ud800", "", "  ", "null", "[]", '"x"'])
def test_not_a_document(text: Any) -> None:
    _error(lambda: load_json(text))


def test_errors_name_the_source() -> None:
    err = _error(lambda: load_json(json.dumps(_document(params={"r": True})), source="models/beta_geo.json"))
    assert "models/beta_geo.json" in str(err) and "params.r" in str(err)


def test_missing_and_extra_fields_are_named() -> None:
    err = _error(lambda: load_json(json.dumps(_document(params={"r": 1.0, "alpha": 1.0, "a": 1.0, "c": 1.0}))))
    assert "params.b" in str(err) and "params.c" in str(err)


def test_documents_of_clvkit_0_1_still_load() -> None:
    import pathlib

    path = pathlib.Path(__file__).parents[1] / "data" / "models_v0_1.json"
    for document in json.loads(path.read_text(encoding="utf-8")).values():
        model = load_json(json.dumps(document))
        assert model.params.model_dump() == document["params"]


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


@pytest.mark.parametrize("text", ["[" * 100_000, '{"window_days":' * 100_000, "x" * 10_000, "", "null"])
def test_configuration_json_nesting_and_garbage_are_typed_errors(text: str) -> None:
    # Pydantic's own JSON parser bounds the depth; the error arrives as InvalidInputError.
    _error(lambda: BindingConfig.model_validate_json(text))
    _error(lambda: make_policy("five-a", text))


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


@pytest.mark.parametrize("change", [
    {"log_likelihood": math.nan}, {"gradient_norm": math.inf}, {"n_customers": -math.inf}, {"seconds": math.nan},
    {"penalizer": math.inf}, {"standard_errors": {"r": math.nan}}, {"covariance": [[1.0, math.inf], [0.0, 1.0]]},
])
def test_fit_info_holds_finite_numbers_only(change: dict[str, Any]) -> None:
    # A model holding a NaN could never be written by to_json() (JSON has no NaN): refused when built.
    field = next(iter(change))
    assert field in str(_error(lambda: FitInfo(**(FIT_INFO | change))))


def test_a_fit_whose_covariance_overflows_reports_no_standard_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    from clvkit.valuation.models import _base

    real = _base.maximize_likelihood

    def overflowing(*args: Any, **kwargs: Any) -> Any:
        result = real(*args, **kwargs)
        cov = result.covariance.copy()
        cov[0, 0] = math.inf  # what the delta method gives for parameters near 1e160
        return dataclasses.replace(result, covariance=cov, standard_errors=np.sqrt(np.diag(cov)))

    monkeypatch.setattr(_base, "maximize_likelihood", overflowing)
    summary = clvkit.CustomerSummary(frequency=[0, 1, 4, 2, 0, 7], recency=[0, 3, 20, 9, 0, 30],
                                     T=[30, 30, 31, 32, 33, 35], time_unit="W")
    with pytest.warns(clvkit.ConvergenceWarning, match="standard errors"):
        model = BetaGeo().fit(summary)
    assert model.standard_errors is None and model.fit_info is not None and model.fit_info.covariance is None
    assert load_json(model.to_json()) == model


# ---------------------------------------------------------------- 3. subnormal parameters are refused at once
@pytest.mark.parametrize("value", [5e-324, 1e-310, 2.225073858507201e-308])
def test_subnormal_parameters_are_refused(value: float) -> None:
    for _name, (_fitted, params, good) in FITTED.items():
        first = next(iter(good))
        err = _error(lambda params=params, good=good, first=first: params(**(good | {first: value})))
        assert first in str(err) and "2.2250738585072014e-308" in str(err)
    assert BetaGeoParams(r=2.2250738585072014e-308, alpha=1, a=1, b=1).r == 2.2250738585072014e-308


@pytest.mark.parametrize(("fitted", "params"), [(FittedBetaGeo, BetaGeoParams),
                                                (FittedModifiedBetaGeo, ModifiedBetaGeoParams)])
def test_tiny_but_normal_beta_parameters_give_a_typed_error_or_a_finite_prediction(fitted: Any, params: Any) -> None:
    summary = clvkit.CustomerSummary(frequency=[0, 2], recency=[0.0, 3.0], T=[10.0, 10.0], time_unit="W")
    model = fitted(params=params(r=1.5, alpha=1.5, a=1e-17, b=1e-17), time_unit="W")
    for predict in (lambda: model.expected_purchases(summary, 5.0),
                    lambda: model.discounted_expected_residual_transactions(summary, 0.01)):
        try:
            assert np.all(np.isfinite(predict()))
        except ClvkitError:
            pass


def test_subnormal_parameters_are_refused_at_load() -> None:
    text = json.dumps(_document(params={"r": 5e-324, "alpha": 4.4, "a": 0.79, "b": 2.4}))
    assert "params.r" in str(_error(lambda: load_json(text)))


# ---------------------------------------------------------------------------------- 4. properties (Hypothesis)
_HOSTILE_NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True), st.integers(min_value=-(10**30), max_value=10**30),
    st.booleans(), st.none(), st.sampled_from(["0.5", "NaN", "Infinity", "-1e400", "", "1_0", "0x10"]),
    st.just(5e-324), st.just(1.7976931348623157e308), st.lists(st.floats(), max_size=3), st.dictionaries(
        st.text(max_size=3), st.floats(), max_size=2),
)
_TOKENS = st.sampled_from(["NaN", "Infinity", "-Infinity", "1e400", "-1e999", "true", "null", '"1"', "[]", "{}",
                           "1" * 30, "-0", "0e0", "[" * 50, "{" * 40, '"\\ud800"'])
_MODEL_NAMES = st.sampled_from([*FITTED, "NoSuchModel", "", "__init__", "beta_geo", "BETAGEO"])


def _valid_document(name: str) -> dict[str, Any]:
    fitted, params, good = FITTED[name]
    info = FIT_INFO | {"n_params": len(good), "standard_errors": dict.fromkeys(good, 0.1),
                       "covariance": np.eye(len(good)).tolist()}
    return json.loads(fitted(params=params(**good), time_unit="W", fit_info=FitInfo(**info)).to_json())


def _check_load(text: str | bytes) -> None:
    try:
        model = load_json(text)
    except ClvkitError:
        return
    # A correct object: finite, valid, and writable back to the same model.
    assert np.all(np.isfinite(model.param_array())) and np.all(model.param_array() > 0)
    assert load_json(model.to_json()) == model


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(name=st.sampled_from(sorted(FITTED)), data=st.data())
def test_hostile_documents_load_or_raise_a_clvkit_error(name: str, data: st.DataObject) -> None:
    doc = _valid_document(name)
    kind = data.draw(st.sampled_from(["value", "token", "drop", "extra", "model", "nest", "truncate", "whole"]))
    section = data.draw(st.sampled_from(["params", "fit_info", "top"]))
    target: dict[str, Any] = doc if section == "top" else doc[section]
    key = data.draw(st.sampled_from(sorted(target)))
    text: str | bytes
    if kind == "value":
        target[key] = data.draw(_HOSTILE_NUMBERS)
        text = json.dumps(doc, allow_nan=True)
    elif kind == "token":
        text = json.dumps(doc).replace(json.dumps(key) + ": " + json.dumps(target[key]),
                                       json.dumps(key) + ": " + data.draw(_TOKENS), 1)
    elif kind == "drop":
        del target[key]
        text = json.dumps(doc)
    elif kind == "extra":
        target[data.draw(st.text(max_size=8))] = data.draw(_HOSTILE_NUMBERS)
        text = json.dumps(doc, allow_nan=True)
    elif kind == "model":
        doc["model"] = data.draw(_MODEL_NAMES)
        text = json.dumps(doc)
    elif kind == "nest":
        depth = data.draw(st.integers(min_value=1, max_value=5 * MAX_DEPTH))
        target[key] = json.loads("[" * depth + "]" * depth)
        text = json.dumps(doc)
    elif kind == "truncate":
        full = json.dumps(doc)
        text = full[: data.draw(st.integers(min_value=0, max_value=len(full)))]
    else:
        text = data.draw(st.one_of(st.text(max_size=50), st.binary(max_size=50)))
    _check_load(text)


@settings(max_examples=20, deadline=None)
@given(depth=st.integers(min_value=MAX_DEPTH, max_value=200_000), opener=st.sampled_from(["[", '{"a":', '[{"a":']))
def test_any_nesting_depth_is_a_typed_error(depth: int, opener: str) -> None:
    with pytest.raises(InvalidInputError):
        load_json(opener * depth)


_KWARG_VALUES = st.one_of(
    st.floats(), st.integers(min_value=-(10**20), max_value=10**20), st.booleans(), st.none(),
    st.text(max_size=5), st.lists(st.floats(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.floats(), max_size=2),
    st.sampled_from([np.float64("nan"), np.float32(0.5), np.int64(7), 5e-324, object(), b"1", 1 + 2j]),
)
_CONSTRUCTORS: list[Callable[..., Any]] = [
    *ENGINES, *(params for _f, params, _g in FITTED.values()), *(fitted for fitted, _p, _g in FITTED.values()),
    FitInfo, AttributionRule, BindingConfig, LevelMatch, LevelWeights, ScoreWeights, QuantileCut, *POLICIES.values(),
]
_FIELD_NAMES = sorted({name for c in _CONSTRUCTORS for name in getattr(c, "model_fields", {})} | {"junk"})


@settings(max_examples=300, deadline=None)
@given(make=st.sampled_from(_CONSTRUCTORS),
       kwargs=st.dictionaries(st.sampled_from(_FIELD_NAMES), _KWARG_VALUES, max_size=4))
def test_random_constructor_kwargs_build_or_raise_a_clvkit_error(make: Callable[..., Any],
                                                                 kwargs: dict[str, Any]) -> None:
    try:
        make(**kwargs)
    except ClvkitError:
        pass


@settings(max_examples=100, deadline=None)
@given(name=st.sampled_from(sorted(FITTED)),
       values=st.lists(st.floats(min_value=5e-324, max_value=1e300), min_size=5, max_size=5))
def test_parameters_build_and_round_trip_or_raise_a_typed_error(name: str, values: list[float]) -> None:
    fitted, params, good = FITTED[name]
    floats = [n for n in good if n != "k"]  # the CNBD-k family's regularity k stays a whole number
    try:
        model = fitted(params=params(**(good | dict(zip(floats, values, strict=False)))), time_unit="W")
    except InvalidInputError:
        assert min(values[: len(floats)]) < 2.2250738585072014e-308
        return
    assert np.all(np.isfinite(model.param_array()))
    assert clvkit.load_json(model.to_json()) == model
