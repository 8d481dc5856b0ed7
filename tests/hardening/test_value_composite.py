"""Hypothesis over composite value, the word-of-mouth prior, key influencers and customer delivered value.

Hostile constructor arguments (NaN, infinities, negative and huge numbers, booleans, strings, wrong types),
mismatched lengths, empty inputs and repeated ids: a typed error or a finite result. Ordinary inputs are
checked against a small independent computation written here from the module docstrings (the rules of
thumb, Kotler's sums, ``total = direct + indirect``), never against the code's own output.

The tests at the end each pin a defect the probes found (named in the test); each failed before its fix.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clvkit import InvalidInputError
from clvkit.valuation import (
    CompositeValue,
    CustomerDeliveredValue,
    DeliveredValueBatch,
    InfluencerRule,
    ReferralGraph,
    WordOfMouth,
    WordOfMouthPrior,
    influencers,
)
from clvkit.valuation.value.delivered_value import COST_COMPONENTS, VALUE_COMPONENTS

from ._probe import probe
from .test_public_api import COLUMN, HOSTILE_SCALAR
from .test_value_tiering_binding import IDS

SETTINGS = settings(max_examples=60, suppress_health_check=list(HealthCheck), deadline=None)

LEVEL_NAMES = ["dissatisfied", "not_dissatisfied", "satisfied", "loyal", "recommends"]
LEVEL = st.one_of(st.sampled_from(LEVEL_NAMES), st.integers(1, 5), st.none())
HOSTILE_LEVEL = st.one_of(LEVEL, HOSTILE_SCALAR, st.sampled_from(["ecstatic", " Satisfied ", "", 0, 6, 2.5, 3.0]))
SATISFACTION = st.one_of(st.lists(HOSTILE_LEVEL, max_size=5), HOSTILE_SCALAR)
PRIOR_FIELDS = st.sampled_from(["prospects_per_satisfied", "buyers_per_satisfied", "influenced_per_dissatisfied",
                                "lost_buyers_per_influenced", "satisfied_levels", "nonsense"])
FINITE = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)
AMOUNT = st.floats(0.0, 1e6, allow_nan=False, allow_infinity=False)


def _expected_net_buyers(levels: list[Any], prior: WordOfMouthPrior) -> list[float]:
    """The rules of thumb written out: satisfied rungs bring buyers, a dissatisfied one costs influenced x loss."""
    loss = prior.lost_buyers_per_influenced
    if loss is None:
        loss = min(prior.buyers_per_satisfied / prior.prospects_per_satisfied, 1.0)
    out = []
    for level in levels:
        name = LEVEL_NAMES[level - 1] if isinstance(level, int) else level
        if name in ("satisfied", "loyal", "recommends"):
            out.append(prior.buyers_per_satisfied)
        elif name == "dissatisfied":
            out.append(-prior.influenced_per_dissatisfied * loss)
        else:
            out.append(0.0)
    return out


def _documented_ratio(ratio: Any, direct: Any, indirect: Any) -> Any:
    """The finite ratios, after checking that the others are +inf exactly where documented (indirect > 0 = direct)."""
    ratio, direct, indirect = (np.asarray(a, dtype=np.float64).reshape(-1) for a in (ratio, direct, indirect))
    assert np.array_equal(~np.isfinite(ratio), (indirect > 0) & (direct <= 0)) and np.all(ratio[~np.isfinite(ratio)]
                                                                                           == math.inf)
    return ratio[np.isfinite(ratio)]


def _influencers(direct: Any, indirect: Any, ids: Any = None, **kw: Any) -> Any:
    rep = influencers(direct, indirect, ids, **kw)
    return rep.is_key, rep.by_indirect, rep.by_ratio, _documented_ratio(rep.ratio, direct, indirect)


def _columns(result: Any, rule: Any) -> Any:
    cols = dict(result.to_columns(rule))
    cols["indirect_ratio"] = _documented_ratio(cols["indirect_ratio"], result.direct, result.indirect)
    return cols


# ------------------------------------------------------------------------------------------ hostile inputs
@SETTINGS
@given(satisfaction=SATISFACTION, ids=st.one_of(st.none(), IDS, HOSTILE_SCALAR), field=PRIOR_FIELDS,
       value=HOSTILE_SCALAR, per_buyer=st.one_of(st.none(), HOSTILE_SCALAR), direct=COLUMN,
       theirs=st.one_of(st.none(), IDS, HOSTILE_SCALAR))
def test_word_of_mouth_on_hostile_arguments(satisfaction: Any, ids: Any, field: str, value: Any, per_buyer: Any,
                                            direct: Any, theirs: Any) -> None:
    prior = probe("word of mouth", lambda: WordOfMouthPrior(**{field: value}))
    wom = probe("word of mouth", lambda: WordOfMouth(satisfaction, customer_id=ids,
                                                     prior=prior if prior is not None else value,
                                                     value_per_buyer=per_buyer))
    if wom is None:
        return
    probe("word of mouth", wom.expected_buyers)
    probe("word of mouth", lambda: wom.indirect_value(direct, theirs))
    probe("composite value", lambda: CompositeValue(direct=direct, indirect=wom).evaluate(customer_id=theirs))


@SETTINGS
@given(direct=COLUMN, ids=st.one_of(st.none(), IDS, HOSTILE_SCALAR), pairs=st.lists(
    st.tuples(st.sampled_from(["a", "b", "c", "d"]), st.sampled_from(["a", "b", "c", "d"])), max_size=4),
       k=HOSTILE_SCALAR, by=st.sampled_from(["total", "direct", "indirect", "nope", 1]),
       rule=st.one_of(st.none(), st.just("rule"), st.dictionaries(st.sampled_from(["min_ratio", "top_share",
                                                                                    "min_referrals", "x"]),
                                                                  HOSTILE_SCALAR, max_size=2)))
def test_composite_value_on_hostile_arguments(direct: Any, ids: Any, pairs: list[tuple[str, str]], k: Any, by: Any,
                                              rule: Any) -> None:
    graph = probe("composite value", lambda: ReferralGraph.from_pairs([p[0] for p in pairs], [p[1] for p in pairs],
                                                                      on_cycle="break"))
    for indirect in (None, graph):
        result = probe("composite value", lambda indirect=indirect: CompositeValue(direct=direct, indirect=indirect)
                       .evaluate(customer_id=ids))
        if result is None:
            continue
        # the invariant of every composite result: total = direct + indirect, equity counts money once
        assert np.array_equal(result.total, result.direct + result.indirect)
        overlap = result.indirect.sum() if indirect is not None else 0.0
        assert result.customer_equity == pytest.approx(result.total.sum() - overlap, rel=1e-12, abs=1e-9)
        made = rule if not isinstance(rule, dict) else probe("influencers", lambda: InfluencerRule(**rule))
        probe("composite value", lambda result=result: result.top(k, by))
        probe("influencers", lambda result=result, made=made: _columns(result, made))


@SETTINGS
@given(direct=COLUMN, indirect=COLUMN, ids=st.one_of(st.none(), IDS), referrals=st.one_of(st.none(), COLUMN),
       min_ratio=st.one_of(st.none(), HOSTILE_SCALAR), top_share=st.one_of(st.none(), HOSTILE_SCALAR),
       min_referrals=st.one_of(st.just(1), HOSTILE_SCALAR))
def test_influencers_on_hostile_arguments(direct: Any, indirect: Any, ids: Any, referrals: Any, min_ratio: Any,
                                          top_share: Any, min_referrals: Any) -> None:
    rule = probe("influencers", lambda: InfluencerRule(min_ratio=min_ratio, top_share=top_share,
                                                       min_referrals=min_referrals))
    probe("influencers", lambda: _influencers(direct, indirect, ids, referrals=referrals, rule=rule))


@SETTINGS
@given(values=st.dictionaries(st.sampled_from([*VALUE_COMPONENTS, *COST_COMPONENTS, "loyalty"]), HOSTILE_SCALAR,
                              max_size=4),
       cid=st.one_of(st.none(), HOSTILE_SCALAR, st.sampled_from(["C-1", 7])))
def test_customer_delivered_value_on_hostile_arguments(values: dict[str, Any], cid: Any) -> None:
    cdv = probe("delivered value", lambda: CustomerDeliveredValue(customer_id=cid, **values))
    if cdv is None:
        return
    probe("delivered value", lambda: (cdv.delivered_value, cdv.total_customer_value, cdv.total_customer_cost))
    assert CustomerDeliveredValue.model_validate_json(cdv.model_dump_json()) == cdv
    doc = json.loads(cdv.model_dump_json())
    probe("delivered value", lambda: CustomerDeliveredValue.model_validate_json(
        json.dumps({**doc, "product_value": str(doc["product_value"])})))


@SETTINGS
@given(columns=st.dictionaries(st.sampled_from([*VALUE_COMPONENTS, *COST_COMPONENTS, "loyalty"]), COLUMN,
                               max_size=3),
       ids=st.one_of(st.none(), IDS, HOSTILE_SCALAR, st.just([[1, 2], [3]])), index=HOSTILE_SCALAR,
       name=st.one_of(st.sampled_from(["product_value", "nope"]), HOSTILE_SCALAR))
def test_delivered_value_batch_on_hostile_arguments(columns: dict[str, Any], ids: Any, index: Any, name: Any) -> None:
    batch = probe("delivered value", lambda: DeliveredValueBatch(customer_id=ids, **columns))
    if batch is None:
        return
    probe("delivered value", lambda: (batch.delivered_value, batch.delivered_value_ratio[np.isfinite(
        batch.delivered_value_ratio)]))
    probe("delivered value", lambda: batch.column(name))
    probe("delivered value", lambda: batch.entity(index))
    probe("delivered value", lambda: DeliveredValueBatch.from_entities([batch.entity(i) for i in range(len(batch))]))


# ------------------------------------------------------------------------------------------ correct results
@SETTINGS
@given(data=st.data(), n=st.integers(0, 6), per_buyer=st.one_of(st.none(), AMOUNT),
       prospects=st.floats(0.5, 50.0), buyers=st.floats(0.0, 5.0), influenced=st.floats(0.0, 100.0),
       lost=st.one_of(st.none(), st.floats(0.0, 1.0)))
def test_word_of_mouth_and_composite_value_are_correct(data: st.DataObject, n: int, per_buyer: float | None,
                                                       prospects: float, buyers: float, influenced: float,
                                                       lost: float | None) -> None:
    levels = data.draw(st.lists(LEVEL, min_size=n, max_size=n))
    direct = data.draw(st.lists(FINITE, min_size=n, max_size=n))
    prior = WordOfMouthPrior(prospects_per_satisfied=prospects, buyers_per_satisfied=buyers,
                             influenced_per_dissatisfied=influenced, lost_buyers_per_influenced=lost)
    wom = probe("word of mouth", lambda: WordOfMouth(levels, prior=prior, value_per_buyer=per_buyer))
    assert wom is not None
    worth = per_buyer if per_buyer is not None else (math.fsum(direct) / n if n else 0.0)
    expected = [b * worth for b in _expected_net_buyers(levels, prior)]
    got = probe("word of mouth", lambda: wom.indirect_value(direct, None))
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-6)
    res = probe("composite value", lambda: CompositeValue(direct=direct, indirect=wom).evaluate())
    np.testing.assert_allclose(res.total, np.add(direct, expected), rtol=1e-9, atol=1e-6)
    # prospects outside the base: customer equity adds the prior's value (no overlap)
    assert res.equity.overlap == 0.0
    assert res.customer_equity == pytest.approx(math.fsum(direct) + math.fsum(expected), rel=1e-9, abs=1e-6)


@SETTINGS
@given(data=st.data(), n=st.integers(1, 5))
def test_word_of_mouth_matches_customers_by_id(data: st.DataObject, n: int) -> None:
    ids = data.draw(st.lists(st.sampled_from("abcdefgh"), min_size=n, max_size=n, unique=True))
    levels = data.draw(st.lists(LEVEL, min_size=n, max_size=n))
    valued = data.draw(st.permutations(list("abcdefgh")))[: data.draw(st.integers(0, 8))]
    direct = data.draw(st.lists(AMOUNT, min_size=len(valued), max_size=len(valued)))
    wom = WordOfMouth(levels, customer_id=ids, value_per_buyer=10.0)
    got = probe("word of mouth", lambda: wom.indirect_value(direct, valued))
    by_id = dict(zip(ids, _expected_net_buyers(levels, WordOfMouthPrior()), strict=True))
    np.testing.assert_allclose(got, [10.0 * by_id.get(v, 0.0) for v in valued])


@SETTINGS
@given(data=st.data(), n=st.integers(0, 6), min_ratio=st.one_of(st.none(), st.floats(0.0, 5.0)),
       top_share=st.one_of(st.none(), st.floats(0.01, 1.0)), min_referrals=st.integers(1, 3))
def test_influencers_are_correct(data: st.DataObject, n: int, min_ratio: float | None, top_share: float | None,
                                 min_referrals: int) -> None:
    if min_ratio is None and top_share is None:
        min_ratio = 1.0
    direct = data.draw(st.lists(st.sampled_from([0.0, 1.0, 50.0, 100.0]), min_size=n, max_size=n))
    indirect = data.draw(st.lists(st.sampled_from([0.0, 20.0, 100.0, 500.0]), min_size=n, max_size=n))
    referrals = data.draw(st.lists(st.integers(0, 4), min_size=n, max_size=n))
    rule = InfluencerRule(min_ratio=min_ratio, top_share=top_share, min_referrals=min_referrals)
    probe("influencers", lambda: _influencers(direct, indirect, referrals=referrals, rule=rule))
    rep = influencers(direct, indirect, referrals=referrals, rule=rule)
    ratio = [0.0 if i <= 0 else (math.inf if d <= 0 else i / d) for d, i in zip(direct, indirect, strict=True)]
    referrers = sorted((i for i in range(n) if indirect[i] > 0), key=lambda i: (-indirect[i], i))
    # the top share: the k = max(1, floor(share x m + 1/2)) largest indirect values and everyone tied with the k-th
    k = max(1, math.floor(top_share * len(referrers) + 0.5)) if top_share is not None and referrers else 0
    top = {i for i in referrers if indirect[i] >= indirect[referrers[k - 1]]} if k else set(referrers)
    key = [indirect[i] > 0 and referrals[i] >= min_referrals and (min_ratio is None or ratio[i] >= min_ratio)
           and i in top for i in range(n)]
    assert rep.ratio.tolist() == ratio and rep.is_key.tolist() == key and rep.by_indirect.tolist() == referrers


@SETTINGS
@given(values=st.lists(AMOUNT, min_size=8, max_size=8), cid=st.one_of(st.none(), st.text(max_size=4),
                                                                     st.integers(-5, 5)))
def test_delivered_value_is_kotlers_difference(values: list[float], cid: Any) -> None:
    kwargs = dict(zip([*VALUE_COMPONENTS, *COST_COMPONENTS], values, strict=True))
    cdv = probe("delivered value", lambda: CustomerDeliveredValue(customer_id=cid, **kwargs))
    value, cost = math.fsum(values[:4]), math.fsum(values[4:])
    assert cdv.total_customer_value == pytest.approx(value) and cdv.total_customer_cost == pytest.approx(cost)
    assert cdv.delivered_value == pytest.approx(value - cost, abs=1e-6)
    assert cdv.delivered_value_ratio == (pytest.approx(value / cost) if cost > 0 else (math.inf if value > 0 else 1.0))
    anonymous = CustomerDeliveredValue(**kwargs)
    batch = probe("delivered value", lambda: DeliveredValueBatch.from_entities([cdv, anonymous]))
    assert batch.delivered_value.tolist() == [cdv.delivered_value] * 2 and batch.entity(-1) == anonymous


# ------------------------------------------------------------------------------------------ defects found
def test_word_of_mouth_refuses_what_it_used_to_crash_on() -> None:
    # Found by test_word_of_mouth_on_hostile_arguments: TypeError (scalar satisfaction, value_per_buyer "5"),
    # OverflowError (an infinite rank), AttributeError (a prior that is not a WordOfMouthPrior), ValueError and
    # TypeError (text or complex direct values).
    for call in (lambda: WordOfMouth(5), lambda: WordOfMouth(None), lambda: WordOfMouth([math.inf]),
                 lambda: WordOfMouth(["satisfied"], value_per_buyer="5").indirect_value([1.0], None),
                 lambda: WordOfMouth(["satisfied"], prior={"buyers_per_satisfied": 2.0}),
                 lambda: WordOfMouth(["satisfied"]).indirect_value("abc", None),
                 lambda: WordOfMouth(["satisfied"]).indirect_value([1 + 1j], None)):
        with pytest.raises(InvalidInputError):
            call()


def test_word_of_mouth_refuses_what_it_used_to_read_wrongly() -> None:
    # Found by the probes: rank 2.5 was read as 2 and True as rank 1; value_per_buyer=True was 1 and inf gave an
    # infinite value; a repeated or missing id matched one of its levels silently; the customers valued with fewer
    # ids than values gave a result of the wrong length; values near the float maximum overflowed the mean to -inf.
    for call in (lambda: WordOfMouth([2.5]), lambda: WordOfMouth([True]),
                 lambda: WordOfMouth(["satisfied"], value_per_buyer=True),
                 lambda: WordOfMouth(["satisfied"], value_per_buyer=math.inf),
                 lambda: WordOfMouth(["satisfied", "dissatisfied"], customer_id=["a", "a"]),
                 lambda: WordOfMouth(["satisfied", "dissatisfied"], customer_id=[math.nan, 1.0]),
                 lambda: WordOfMouth(["satisfied"], customer_id=["a"]).indirect_value([1.0, 2.0], ["a", "a"]),
                 lambda: WordOfMouth(["satisfied"], customer_id=["a"]).indirect_value([1.0, 2.0], ["a"]),
                 lambda: WordOfMouth(["dissatisfied"] * 2).indirect_value([1e308, 1e308], None)):
        with pytest.raises(InvalidInputError):
            call()
    # the mean is taken without overflow: two customers of 1e308 are worth 1e308 each
    assert WordOfMouth(["satisfied"] * 2).indirect_value([1e308, 1e308], None).tolist() == [1e308, 1e308]


def test_composite_value_refuses_what_it_used_to_crash_on_or_misread() -> None:
    # Found by test_composite_value_on_hostile_arguments: IndexError for a scalar customer_id; ValueError,
    # AttributeError and OverflowError from top(); AttributeError from to_columns("rule"); "1" and True read as
    # the numbers 1.0; values near the float maximum gave an infinite total and customer equity silently.
    for call in (lambda: CompositeValue(direct=[1.0, 2.0]).evaluate(customer_id=5),
                 lambda: CompositeValue(direct=[1.0, 2.0]).evaluate().top("x"),
                 lambda: CompositeValue(direct=[1.0, 2.0]).evaluate().top(1, by="nope"),  # type: ignore[arg-type]
                 lambda: CompositeValue(direct=[1.0, 2.0]).evaluate().top(math.inf),  # type: ignore[arg-type]
                 lambda: CompositeValue(direct=[1.0]).evaluate().to_columns("rule"),  # type: ignore[arg-type]
                 lambda: CompositeValue(direct=["1", "2"]).evaluate(),
                 lambda: CompositeValue(direct=[True, False]).evaluate(),
                 lambda: CompositeValue(direct=[1e308, 1e308]).evaluate()):
        with pytest.raises(InvalidInputError):
            call()


def test_an_empty_referral_graph_attributes_nothing() -> None:
    # Found by test_composite_value_on_hostile_arguments: IndexError when the graph has no referrals at all.
    empty = ReferralGraph.from_pairs([], [])
    res = CompositeValue(direct=[1.0, 2.0], indirect=empty).evaluate(customer_id=[1, 2])
    assert res.indirect.tolist() == [0.0, 0.0] and res.total.tolist() == [1.0, 2.0]
    assert empty.attribute([5.0], ["a"]).referrals.tolist() == [0]


def test_influencers_refuse_what_they_used_to_crash_on_or_misread() -> None:
    # Found by test_influencers_on_hostile_arguments: AttributeError (a rule that is not an InfluencerRule),
    # numpy's UFuncTypeError and broadcast ValueError (text or too many referral counts), ValueError (text
    # values); a NaN direct value made its customer a key influencer with an infinite ratio.
    for call in (lambda: influencers([1.0], [2.0], rule="x"),  # type: ignore[arg-type]
                 lambda: influencers([1.0], [2.0], referrals=["x"]),
                 lambda: influencers([1.0], [2.0], referrals=[1, 2]),
                 lambda: influencers(["a"], [2.0]),
                 lambda: influencers([math.nan], [2.0]),
                 lambda: influencers([1.0], [2.0], customer_id=["a", "b"])):
        with pytest.raises(InvalidInputError):
            call()


def test_delivered_value_refuses_what_it_used_to_crash_on_or_misread() -> None:
    # Found by the delivered-value probes: IndexError from entity() (out of range, text, a scalar id), ValueError
    # from ragged ids, AttributeError and TypeError from from_entities() of other objects, TypeError from
    # column([...]); components near the float maximum gave infinite totals and delivered value; 2-D ids made the
    # results 2-D; repeated and missing ids were kept.
    for call in (lambda: DeliveredValueBatch(product_value=[1.0]).entity(5),
                 lambda: DeliveredValueBatch(product_value=[1.0]).entity("a"),  # type: ignore[arg-type]
                 lambda: DeliveredValueBatch(product_value=[1.0, 2.0], customer_id="a"),
                 lambda: DeliveredValueBatch(product_value=[1.0], customer_id=[[1, 2], [3]]),
                 lambda: DeliveredValueBatch(product_value=[1.0], customer_id=[[1]]),
                 lambda: DeliveredValueBatch(product_value=[1.0, 2.0], customer_id=["a", "a"]),
                 lambda: DeliveredValueBatch(product_value=[1.0], customer_id=[None]),
                 lambda: DeliveredValueBatch.from_entities([1, 2]),
                 lambda: DeliveredValueBatch.from_entities(None),  # type: ignore[arg-type]
                 lambda: DeliveredValueBatch(product_value=[1.0]).column(["x"]),  # type: ignore[arg-type]
                 lambda: DeliveredValueBatch(product_value=[1e308], service_value=[1e308]),
                 lambda: CustomerDeliveredValue(product_value=1e308, image_value=1e308),
                 lambda: CustomerDeliveredValue(monetary_cost=1e308, time_cost=1e308)):
        with pytest.raises(InvalidInputError):
            call()


def test_value_models_raise_invalid_input_naming_the_field() -> None:
    # Brief of issue 10: these were plain pydantic models and raised pydantic's ValidationError.
    for cls, field, bad in ((CustomerDeliveredValue, "time_cost", -1.0), (WordOfMouthPrior, "prospects_per_satisfied",
                                                                          0.0), (InfluencerRule, "min_referrals", 0)):
        with pytest.raises(InvalidInputError, match=f"'{field}'"):
            cls(**{field: bad})
    with pytest.raises(InvalidInputError, match="'product_value'"):
        CustomerDeliveredValue.model_validate_json('{"product_value": "5"}')  # strict JSON: no number as text


@pytest.mark.parametrize("value", [1.0, 1e-300, 5e-324, 123.456, 1e300])
def test_delivered_value_ratio_near_zero_cost_is_inf_without_warning(value: float) -> None:
    # Found by the probes: 1 / 5e-324 overflowed with a RuntimeWarning; inf is the correctly rounded ratio.
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ratio = CustomerDeliveredValue(product_value=value, time_cost=5e-324).delivered_value_ratio
    with np.errstate(over="ignore"):
        expected = float(np.float64(value) / np.float64(5e-324))  # IEEE division: inf when it overflows
    assert ratio == expected
