"""CompositeValue, influencers and the word-of-mouth prior: invalid inputs raise typed errors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from clvkit import InvalidInputError
from clvkit.valuation import (
    AttributionRule,
    CompositeValue,
    InfluencerRule,
    ReferralGraph,
    WordOfMouth,
    WordOfMouthPrior,
    influencers,
)

GRAPH = ReferralGraph.from_pairs(["A"], ["B"])


def test_attribution_needs_a_graph() -> None:
    with pytest.raises(InvalidInputError, match="'attribution' applies to a ReferralGraph"):
        CompositeValue(direct=[1.0], indirect=WordOfMouth(["satisfied"]), attribution=AttributionRule())


def test_indirect_of_the_wrong_kind() -> None:
    with pytest.raises(InvalidInputError, match="'indirect' must be"):
        CompositeValue(direct=[1.0], indirect=[2.0])


def test_graph_needs_ids_that_match() -> None:
    with pytest.raises(InvalidInputError, match="needs customer ids"):
        CompositeValue(direct=[1.0, 2.0], indirect=GRAPH).evaluate()
    with pytest.raises(InvalidInputError, match="2 customer ids for 3 values"):
        CompositeValue(direct=[1.0, 2.0, 3.0], indirect=GRAPH).evaluate(customer_id=["A", "B"])
    with pytest.raises(InvalidInputError, match="have no value"):
        CompositeValue(direct=[1.0], indirect=GRAPH).evaluate(customer_id=["A"])
    with pytest.raises(InvalidInputError, match=r"'values': must be finite and >= 0.*customer_id='B'"):
        CompositeValue(direct=[1.0, -2.0], indirect=GRAPH).evaluate(customer_id=["A", "B"])


def test_direct_of_the_wrong_kind() -> None:
    with pytest.raises(InvalidInputError, match="'direct' must be"):
        CompositeValue(direct=["x"]).evaluate()
    with pytest.raises(InvalidInputError, match="finite one-dimensional"):
        CompositeValue(direct=[1.0, np.nan]).evaluate()
    with pytest.raises(InvalidInputError, match="finite one-dimensional"):
        CompositeValue(direct=[[1.0]]).evaluate()


def test_a_custom_source_must_return_the_right_shape() -> None:
    class Short:
        overlaps_direct = False

        def indirect_value(self, direct: Any, customer_id: Any) -> np.ndarray:
            return np.zeros(1)

    with pytest.raises(InvalidInputError, match=r"Short.indirect_value\(\) must return finite values of shape"):
        CompositeValue(direct=[1.0, 2.0], indirect=Short()).evaluate()


def test_influencer_inputs() -> None:
    with pytest.raises(InvalidInputError, match="one shape"):
        influencers([1.0, 2.0], [1.0])
    with pytest.raises(InvalidInputError, match="needs min_ratio or top_share"):
        InfluencerRule(min_ratio=None, top_share=None)
    for bad in ({"top_share": 0.0}, {"top_share": 1.5}, {"min_ratio": -1.0}, {"min_referrals": 0}):
        with pytest.raises(InvalidInputError, match=f"'{next(iter(bad))}'"):
            InfluencerRule(**bad)  # type: ignore[arg-type]


def test_word_of_mouth_inputs() -> None:
    with pytest.raises(InvalidInputError, match=r"Satisfaction levels must be one of.*'ecstatic'"):
        WordOfMouth(["satisfied", "ecstatic"])
    with pytest.raises(InvalidInputError, match="Rows \\[0\\]"):
        WordOfMouth([9])
    with pytest.raises(InvalidInputError, match="customer_id has shape"):
        WordOfMouth(["satisfied"], customer_id=["a", "b"])
    with pytest.raises(InvalidInputError, match="'value_per_buyer'"):
        WordOfMouth(["satisfied"], value_per_buyer=-1.0)
    with pytest.raises(InvalidInputError, match="1 satisfaction levels for 2 customers"):
        WordOfMouth(["satisfied"]).indirect_value([1.0, 2.0], None)
    with pytest.raises(InvalidInputError, match="finite one-dimensional"):
        WordOfMouth(["satisfied"]).indirect_value([np.inf], None)
    for bad in ({"prospects_per_satisfied": 0.0}, {"influenced_per_dissatisfied": -1.0},
                {"lost_buyers_per_influenced": 1.5}, {"buyers_per_satisfied": float("nan")}, {"extra": 1}):
        with pytest.raises(InvalidInputError, match=f"'{next(iter(bad))}'"):
            WordOfMouthPrior(**bad)  # type: ignore[arg-type]
