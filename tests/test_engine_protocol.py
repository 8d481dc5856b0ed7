"""The engine protocol: one conformance suite over every value engine, an engine from outside clvkit
plugged into CompositeValue without changing clvkit, and the command line's load_engine hook."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from clvkit import CustomerSummary, InvalidInputError
from clvkit.valuation import (
    BetaGeoParams,
    CompositeValue,
    DirectValue,
    FittedBetaGeo,
    FittedGammaGamma,
    FittedParetoNBD,
    GammaGammaParams,
    IndirectValueSource,
    ParetoNBDParams,
    ReferralGraph,
    SpendModel,
    TransactionModel,
    ValueEngine,
    WordOfMouth,
    engine_values,
    load_engine,
)

sys.path.insert(0, str(Path(__file__).resolve().parent))  # tests/ holds the external package
from external_engine.engines import SpendMultiple  # the package outside clvkit

BG = FittedBetaGeo(params=BetaGeoParams(r=0.243, alpha=4.414, a=0.793, b=2.426), time_unit="W")
GG = FittedGammaGamma(params=GammaGammaParams(p=6.25, q=3.74, v=15.44), time_unit="W")
PNBD = FittedParetoNBD(params=ParetoNBDParams(r=0.553, alpha=10.578, s=0.606, beta=11.669), time_unit="W")


@pytest.fixture(scope="module")
def summary() -> CustomerSummary:
    rng = np.random.default_rng(5)
    n = 40
    freq = rng.integers(0, 8, n).astype(float)
    T = rng.uniform(10.0, 39.0, n)
    rec = np.where(freq > 0, T * rng.uniform(0.1, 1.0, n), 0.0)
    mv = np.where(freq > 0, rng.uniform(5.0, 80.0, n), 0.0)
    return CustomerSummary(frequency=freq, recency=rec, T=T, monetary_value=mv, customer_id=np.arange(100, 100 + n),
                           time_unit="W")


def _graph(ids: np.ndarray) -> ReferralGraph:
    return ReferralGraph.from_pairs(ids[:10], ids[10:20], customer_ids=ids)


ENGINES: dict[str, Callable[[CustomerSummary], Any]] = {
    "DirectValue BG/NBD+GG": lambda s: DirectValue.from_model(BG, GG, horizon=12, discount_rate=0.01),
    "DirectValue Pareto/NBD DERT": lambda s: DirectValue.from_model(PNBD, margin=0.3, discount_rate=0.003),
    "CompositeValue + graph": lambda s: CompositeValue(direct=DirectValue.from_model(BG, GG, horizon=6),
                                                       indirect=_graph(np.asarray(s.customer_id))),
    "CompositeValue + word of mouth": lambda s: CompositeValue(
        direct=SpendMultiple(), indirect=WordOfMouth(["satisfied"] * len(s), s.customer_id)),
    "external SpendMultiple": lambda s: SpendMultiple(2.0),
    "external via load_engine": lambda s: load_engine("external_engine.engines:SpendMultiple", multiple=2.0),
}


@pytest.mark.parametrize("name", list(ENGINES))
def test_conformance(name: str, summary: CustomerSummary) -> None:
    engine = ENGINES[name](summary)
    assert isinstance(engine, ValueEngine)
    values = engine_values(engine, summary)
    assert values.shape == (len(summary),) and values.dtype == np.float64
    assert np.all(np.isfinite(values))
    np.testing.assert_array_equal(values, engine_values(engine, summary))  # deterministic
    # batch splitting: the first half valued alone equals the first half of the whole (row-wise engines)
    if "graph" not in name and "mouth" not in name:
        half = summary.take(np.arange(20))
        np.testing.assert_allclose(engine_values(engine, half), values[:20], rtol=1e-13)
    # row order: permuting the customers permutes the values
    perm = np.random.default_rng(1).permutation(len(summary))
    np.testing.assert_allclose(engine_values(engine, summary.take(perm)), values[perm], rtol=1e-13)


def test_external_engine_plugs_into_composite_value(summary: CustomerSummary) -> None:
    ids = np.asarray(summary.customer_id)
    graph = _graph(ids)
    res = CompositeValue(direct=SpendMultiple(), indirect=graph).evaluate(summary)
    direct = SpendMultiple().value(summary)
    np.testing.assert_array_equal(res.direct, direct)
    # the first ten customers referred the next ten, one each
    np.testing.assert_array_equal(res.indirect[:10], direct[10:20])
    assert np.all(res.indirect[10:] == 0.0)
    assert res.equity.customer_equity == pytest.approx(float(direct.sum()))


def test_protocols_are_satisfied_by_the_library_parts() -> None:
    assert isinstance(BG, TransactionModel) and isinstance(PNBD, TransactionModel)
    assert isinstance(GG, SpendModel)
    assert isinstance(ReferralGraph.from_pairs(["a"], ["b"]), IndirectValueSource)
    assert isinstance(WordOfMouth(["satisfied"]), IndirectValueSource)
    assert not isinstance(BG, ValueEngine)  # a component, not a value engine: wrap it with DirectValue


def test_load_engine_forms_and_errors() -> None:
    assert isinstance(load_engine("external_engine.engines:DEFAULT"), SpendMultiple)
    assert load_engine("external_engine.engines:SpendMultiple").multiple == 3.0  # type: ignore[attr-defined]
    for spec, match in [("external_engine.engines", "'module:Name'"), (":X", "'module:Name'"),
                        ("no_such_module_xyz:X", "Cannot import"), ("external_engine.engines:Nope", "has no"),
                        ("external_engine.engines:np", "not a value engine")]:
        with pytest.raises(InvalidInputError, match=match):
            load_engine(spec)
    with pytest.raises(InvalidInputError, match="Cannot create"):
        load_engine("external_engine.engines:SpendMultiple", colour="red")
    with pytest.raises(InvalidInputError, match="takes no arguments"):
        load_engine("external_engine.engines:DEFAULT", multiple=2.0)


def test_engine_values_checks_what_an_engine_returns(summary: CustomerSummary) -> None:
    with pytest.raises(InvalidInputError, match=r"Broken.value\(\) must return an array of shape \(40,\)"):
        engine_values(load_engine("external_engine.engines:Broken"), summary)

    class NaNs:
        def value(self, s: Any) -> np.ndarray:
            return np.full(len(s), np.nan)

    class Words:
        def value(self, s: Any) -> list[str]:
            return ["a"] * len(s)

    with pytest.raises(InvalidInputError, match="non-finite"):
        engine_values(NaNs(), summary)
    with pytest.raises(InvalidInputError, match="did not return numbers"):
        engine_values(Words(), summary)
    with pytest.raises(InvalidInputError, match="needs a value engine"):
        engine_values(object(), summary)
    with pytest.raises(InvalidInputError, match="must return an array"):
        CompositeValue(direct=load_engine("external_engine.engines:Broken")).evaluate(summary)
