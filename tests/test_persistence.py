"""Versioned JSON persistence: errors for every kind of bad document."""

from __future__ import annotations

import json

import pytest

from clvkit import InvalidInputError, load_json
from clvkit.persistence import registered_models
from clvkit.valuation import BetaGeoParams, FittedBetaGeo


def _doc() -> dict[str, object]:
    m = FittedBetaGeo(params=BetaGeoParams(r=0.24, alpha=4.4, a=0.79, b=2.4), time_unit="W")
    loaded: dict[str, object] = json.loads(m.to_json())
    return loaded


def test_document_shape() -> None:
    doc = _doc()
    assert doc["schema"] == "clvkit.fitted_model"
    assert doc["schema_version"] == 1
    assert doc["model"] == "BetaGeo"
    assert "clvkit_version" in doc
    assert {"BetaGeo", "GammaGamma"} <= set(registered_models())


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"schema": "something.else"}, "schema"),
        ({"schema_version": 99}, "Upgrade clvkit"),
        ({"model": "NoSuchModel"}, "unknown model"),
        ({"params": {"r": -1.0, "alpha": 1.0, "a": 1.0, "b": 1.0}}, "invalid"),
        ({"time_unit": "fortnight"}, "time_unit"),
        ({"extra_field": 1}, "invalid"),
    ],
)
def test_bad_documents_are_rejected(change: dict[str, object], message: str) -> None:
    doc = _doc() | change
    with pytest.raises(InvalidInputError, match=message):
        load_json(json.dumps(doc))


def test_not_json() -> None:
    with pytest.raises(InvalidInputError, match="not JSON"):
        load_json("{not json")
    with pytest.raises(InvalidInputError, match="schema"):
        load_json("[1, 2]")
