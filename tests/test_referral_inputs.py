"""ReferralGraph: invalid graphs and inputs raise InvalidInputError naming the offending ids."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from clvkit import InvalidInputError
from clvkit.domain import Customer
from clvkit.valuation import AttributionRule, ReferralGraph


def test_every_problem_reported_at_once_with_ids() -> None:
    with pytest.raises(InvalidInputError) as err:
        ReferralGraph.from_pairs(["A", "B", "C", "D", "Q"], ["A", "X", "X", "E", "E"],
                                 customer_ids=["A", "B", "C", "D", "E", "X"])
    text = str(err.value)
    assert err.value.columns == ("referrer", "referred", "referred")
    assert "referrer': is not among customer_ids (1 row fail; first at row 4 (customer_id='Q'))" in text
    assert "self-referral) (1 row fail; first at row 0 (customer_id='A'))" in text
    assert "referred more than once" in text and "customer_id='X'" in text and "customer_id='E'" in text
    assert "4 rows fail" in text


def test_unknown_referred_named() -> None:
    with pytest.raises(InvalidInputError, match=r"'referred': is not among customer_ids.*customer_id=7"):
        ReferralGraph.from_pairs([1], [7], customer_ids=[1, 2])


def test_duplicate_customer_ids() -> None:
    with pytest.raises(InvalidInputError, match=r"'customer_ids': repeats ids.*first at id B"):
        ReferralGraph.from_pairs(["A"], ["B"], customer_ids=["A", "B", "B"])


def test_missing_ids_and_lengths() -> None:
    with pytest.raises(InvalidInputError, match=r"'referred': is missing.*row 1"):
        ReferralGraph.from_pairs(np.array(["A", "A"], dtype=object), np.array(["B", None], dtype=object))
    with pytest.raises(InvalidInputError, match=r"'referrer': is missing"):
        ReferralGraph.from_pairs([np.nan, 1.0], [2.0, 3.0])
    with pytest.raises(InvalidInputError, match=r"'referrer': is empty|'referrer': is missing"):
        ReferralGraph.from_pairs(["", "A"], ["B", "C"])
    with pytest.raises(InvalidInputError, match="same length"):
        ReferralGraph.from_pairs(["A", "B"], ["C"])
    with pytest.raises(InvalidInputError, match="one-dimensional"):
        ReferralGraph.from_pairs([["A"]], [["B"]])
    with pytest.raises(InvalidInputError, match="whole numbers or text"):
        ReferralGraph.from_pairs([1.5], [2.0])
    with pytest.raises(InvalidInputError, match="numbers or text ids"):
        ReferralGraph.from_pairs(np.array([True]), np.array([False]))


def test_cycles_are_reported_by_id_and_on_cycle_checked() -> None:
    with pytest.raises(InvalidInputError, match=r"1 cycle \(3 customers\).*first at cycle A -> C -> B -> A"):
        ReferralGraph.from_pairs(["A", "C", "B"], ["C", "B", "A"])
    with pytest.raises(InvalidInputError, match="'on_cycle'"):
        ReferralGraph.from_pairs(["A"], ["B"], on_cycle="ignore")  # type: ignore[arg-type]


def test_long_cycle_is_found_not_followed_forever() -> None:
    n = 200_000
    ids = np.arange(n)
    with pytest.raises(InvalidInputError, match="1 cycle"):
        ReferralGraph.from_pairs(ids, np.roll(ids, -1))
    g = ReferralGraph.from_pairs(ids, np.roll(ids, -1), on_cycle="break")
    assert g.broken == ((n - 2, n - 1),)
    r = g.attribute(np.ones(n), ids, AttributionRule(max_levels=None, decay=1.0))
    assert r.indirect[n - 1] == n - 1  # the new root of a chain of n customers
    assert r.level_value.shape[0] == n - 1


def test_bad_times() -> None:
    with pytest.raises(InvalidInputError, match=r"'time': is missing or not finite.*row 1"):
        ReferralGraph.from_pairs(["A", "A"], ["B", "C"], [1.0, np.nan])
    with pytest.raises(InvalidInputError, match="one value per referral"):
        ReferralGraph.from_pairs(["A", "A"], ["B", "C"], [1.0])
    with pytest.raises(InvalidInputError, match="numbers or datetimes"):
        ReferralGraph.from_pairs(["A"], ["B"], ["soon"])
    with pytest.raises(InvalidInputError, match="'time': is missing"):
        ReferralGraph.from_pairs(["A"], ["B"], np.array(["NaT"], dtype="datetime64[D]"))


def test_from_customers_with_unknown_referrer() -> None:
    cs = [Customer(customer_id="A", kind="consumer", referred_by="Z")]
    with pytest.raises(InvalidInputError, match=r"'referrer': is not among customer_ids.*customer_id='Z'"):
        ReferralGraph.from_customers(cs)


def test_attribution_inputs() -> None:
    g = ReferralGraph.from_pairs(["A", "A"], ["B", "C"])
    with pytest.raises(InvalidInputError, match=r"'values': must be finite and >= 0.*customer_id='B'"):
        g.attribute([1.0, -5.0, 1.0], ["A", "B", "C"])
    with pytest.raises(InvalidInputError, match=r"have no value.*first at customer C"):
        g.attribute([1.0, 2.0], ["A", "B"])
    with pytest.raises(InvalidInputError, match="repeats ids"):
        g.attribute([1.0, 2.0, 3.0, 4.0], ["A", "B", "C", "C"])
    with pytest.raises(InvalidInputError, match="shape"):
        g.attribute([1.0, 2.0, 3.0], ["A", "B"])
    with pytest.raises(InvalidInputError, match="follow the graph's 3 ids"):
        g.attribute([1.0, 2.0])
    with pytest.raises(InvalidInputError, match="one-dimensional"):
        g.attribute([[1.0, 2.0, 3.0]])


def test_attribution_rule_is_validated_and_frozen() -> None:
    for bad in ({"max_levels": 0}, {"decay": 1.5}, {"share": -0.1}, {"decay": float("nan")}):
        with pytest.raises(InvalidInputError):
            AttributionRule(**bad)  # type: ignore[arg-type]
    rule = AttributionRule()
    with pytest.raises(ValidationError):
        rule.decay = 0.1  # type: ignore[misc]


def test_graph_arrays_are_read_only() -> None:
    g = ReferralGraph.from_pairs(["A"], ["B"])
    with pytest.raises(ValueError, match="read-only"):
        g.parent[0] = 1
