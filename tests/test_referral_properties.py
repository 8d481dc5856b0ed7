"""ReferralGraph properties (Hypothesis): equal to a plain graph walk, invariants, order invariance.

The reference below is deliberately naive - dictionaries, a walk along referrers to find cycles, a
level-by-level walk down to attribute - and shares no code with clvkit's sparse kernels.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from clvkit import InvalidInputError
from clvkit.valuation import AttributionRule, ReferralGraph
from clvkit.valuation.value import _referral_kernels as kernels


# ---------------------------------------------------------------------------------------------- reference
def ref_break(edges: dict[int, int], time: dict[int, float] | None) -> tuple[dict[int, int], set[tuple[int, int]]]:
    """Drop, in every cycle, the referral into the member with the largest (time, id)."""
    parent = dict(edges)
    broken: set[tuple[int, int]] = set()
    done: set[int] = set()
    for start in sorted(parent):
        path: list[int] = []
        seen: set[int] = set()
        x: int | None = start
        while x is not None and x not in done and x not in seen:
            seen.add(x)
            path.append(x)
            x = parent.get(x)
        if x is not None and x in seen:  # a new cycle: the part of the path from x on
            cycle = path[path.index(x):]
            loser = max(cycle, key=lambda c: ((time[c] if time is not None else 0.0), c))
            broken.add((parent[loser], loser))
            del parent[loser]
        done.update(path)
    return parent, broken


def ref_indirect(parent: dict[int, int], values: dict[int, float], rule: AttributionRule) -> dict[int, float]:
    children: dict[int, list[int]] = {}
    for c, p in parent.items():
        children.setdefault(p, []).append(c)
    out = {}
    for node in values:
        total, level, k = 0.0, [node], 0
        while level and (rule.max_levels is None or k < rule.max_levels):
            level = [c for x in level for c in children.get(x, [])]
            total += rule.share * rule.decay**k * sum(values[c] for c in level)
            k += 1
        out[node] = total
    return out


def ref_depth(parent: dict[int, int], node: int) -> int:
    d = 0
    while node in parent:
        node = parent[node]
        d += 1
    return d


# ---------------------------------------------------------------------------------------------- strategies
@st.composite
def graphs(draw: st.DrawFn, max_n: int = 12) -> tuple[int, dict[int, int], dict[int, float], dict[int, float]]:
    """n customers 0..n-1; each has at most one referrer (not itself); cycles allowed; integer values."""
    n = draw(st.integers(1, max_n))
    edges: dict[int, int] = {}
    for c in range(n):
        p = draw(st.one_of(st.none(), st.integers(0, n - 1)))
        if p is not None and p != c:
            edges[c] = p
    values = {i: float(draw(st.integers(0, 1000))) for i in range(n)}
    times = {c: float(draw(st.integers(0, 5))) for c in edges}  # ties on purpose
    return n, edges, values, times


rules = st.builds(AttributionRule, max_levels=st.sampled_from([1, 2, 3, 5, None]),
                  decay=st.sampled_from([0.0, 0.25, 0.5, 1.0]), share=st.sampled_from([0.5, 1.0]))


def build(edges: dict[int, int], times: dict[int, float] | None, n: int, order: list[int] | None = None,
          on_cycle: str = "break") -> ReferralGraph:
    referred = sorted(edges) if order is None else [sorted(edges)[i] for i in order]
    return ReferralGraph.from_pairs(
        np.array([edges[c] for c in referred], dtype=np.int64), np.array(referred, dtype=np.int64),
        None if times is None else np.array([times[c] for c in referred]),
        customer_ids=np.arange(n), on_cycle=on_cycle)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------- properties
@settings(max_examples=300, deadline=None)
@given(g=graphs(), rule=rules, use_time=st.booleans())
def test_vectorised_equals_plain_graph_walk(g: tuple, rule: AttributionRule, use_time: bool) -> None:  # type: ignore[type-arg]
    n, edges, values, times = g
    t = times if use_time else None
    graph = build(edges, t, n)
    parent, broken = ref_break(edges, t)
    assert set(graph.broken) == broken
    expected = ref_indirect(parent, values, rule)
    got = graph.attribute([values[i] for i in range(n)], np.arange(n), rule).indirect
    np.testing.assert_allclose(got, [expected[i] for i in range(n)], rtol=1e-12, atol=1e-9)


@settings(max_examples=200, deadline=None)
@given(g=graphs())
def test_error_exactly_when_there_is_a_cycle(g: tuple) -> None:  # type: ignore[type-arg]
    n, edges, _, _ = g
    _, broken = ref_break(edges, None)
    if broken:
        with pytest.raises(InvalidInputError, match="cycle"):
            build(edges, None, n, on_cycle="error")
    else:
        assert build(edges, None, n, on_cycle="error").n_referrals == len(edges)


@settings(max_examples=200, deadline=None)
@given(g=graphs(), rule=rules, data=st.data())
def test_order_of_pairs_does_not_matter(g: tuple, rule: AttributionRule, data: st.DataObject) -> None:  # type: ignore[type-arg]
    n, edges, values, times = g
    order = data.draw(st.permutations(list(range(len(edges)))))
    a, b = build(edges, times, n), build(edges, times, n, order=order)
    assert a.broken == b.broken
    assert np.array_equal(a.parent, b.parent)
    va = [values[i] for i in range(n)]
    perm = data.draw(st.permutations(list(range(n))))
    got_a = a.attribute(va, np.arange(n), rule).indirect
    got_b = b.attribute([va[i] for i in perm], np.array(perm), rule).indirect
    assert got_b.tolist() == [got_a[i] for i in perm]


@settings(max_examples=300, deadline=None)
@given(g=graphs(), rule=rules)
def test_each_level_attributes_each_unit_once_and_no_more_than_referred(g: tuple, rule: AttributionRule) -> None:  # type: ignore[type-arg]
    n, edges, values, times = g
    graph = build(edges, times, n)
    parent, _ = ref_break(edges, times)
    res = graph.attribute([values[i] for i in range(n)], np.arange(n), rule)
    referred_total = sum(values[c] for c in parent)
    for k, level_sum in enumerate(res.level_value, start=1):
        # exactly the customers at depth >= k, each once (its unique k-th referrer gets it)
        assert level_sum == sum(values[c] for c in range(n) if ref_depth(parent, c) >= k)
        assert level_sum <= referred_total
        assert res.level_credit[k - 1] <= referred_total
    if rule.max_levels is not None:
        assert res.level_value.shape[0] <= rule.max_levels
    assert float(res.indirect.sum()) == pytest.approx(float(res.level_credit.sum()), rel=1e-12, abs=1e-9)


@settings(max_examples=300, deadline=None)
@given(g=graphs(), rule=rules, data=st.data())
def test_adding_a_referral_never_lowers_the_referrers_indirect_value(
    g: tuple, rule: AttributionRule, data: st.DataObject  # type: ignore[type-arg]
) -> None:
    n, edges, values, times = g
    free = [c for c in range(n) if c not in edges]  # customers with no referrer yet
    assume(free and n > 1)
    c = data.draw(st.sampled_from(free))
    r = data.draw(st.sampled_from([x for x in range(n) if x != c]))
    t = data.draw(st.sampled_from([0.0, 2.5, 9.0]))
    vals = [values[i] for i in range(n)]
    before = build(edges, times, n).attribute(vals, np.arange(n), rule).indirect
    after = build(edges | {c: r}, times | {c: t}, n).attribute(vals, np.arange(n), rule).indirect
    assert after[r] >= before[r]


@settings(max_examples=150, deadline=None)
@given(g=graphs(), rule=rules)
def test_triangular_solve_path_equals_plain_graph_walk(g: tuple, rule: AttributionRule) -> None:  # type: ignore[type-arg]
    # Force the exact solve used for deep forests (normally beyond LOOP_LEVELS levels) on small graphs.
    n, edges, values, times = g
    graph = build(edges, times, n)
    parent, _ = ref_break(edges, times)
    expected = ref_indirect(parent, values, rule)
    old = kernels.LOOP_LEVELS
    kernels.LOOP_LEVELS = 0
    try:
        got = graph.attribute([values[i] for i in range(n)], np.arange(n), rule)
    finally:
        kernels.LOOP_LEVELS = old
    np.testing.assert_allclose(got.indirect, [expected[i] for i in range(n)], rtol=1e-12, atol=1e-9)
    reach = ref_indirect(parent, dict.fromkeys(range(n), 1.0), AttributionRule(max_levels=rule.max_levels, decay=1.0))
    assert got.reach.tolist() == [round(reach[i]) for i in range(n)]


@settings(max_examples=25, deadline=None)
@given(n=st.integers(60, 400), seed=st.integers(0, 10_000), decay=st.sampled_from([0.5, 0.9, 1.0]))
def test_deep_forests_equal_plain_graph_walk(n: int, seed: int, decay: float) -> None:
    rng = np.random.default_rng(seed)
    edges = {c: (c - 1 if rng.random() < 0.9 else int(rng.integers(0, c))) for c in range(1, n) if rng.random() < 0.97}
    values = {i: float(rng.integers(0, 100)) for i in range(n)}
    graph = build(edges, None, n)
    assert graph.broken == ()
    for max_levels in (None, 3, 40):
        rule = AttributionRule(max_levels=max_levels, decay=decay)
        expected = ref_indirect(edges, values, rule)
        got = graph.attribute([values[i] for i in range(n)], np.arange(n), rule).indirect
        np.testing.assert_allclose(got, [expected[i] for i in range(n)], rtol=1e-11, atol=1e-9)


def test_a_long_chain_takes_the_solve_path_and_matches() -> None:
    n = 300  # depth 299 > LOOP_LEVELS: every level by the triangular solve
    edges = {c: c - 1 for c in range(1, n)} | {150: 7}
    values = {i: float(i % 7) for i in range(n)}
    graph = build(edges, None, n)
    assert int(kernels.depths(graph.parent).max()) > kernels.LOOP_LEVELS
    for decay in (0.5, 0.99, 1.0):
        rule = AttributionRule(max_levels=None, decay=decay)
        expected = ref_indirect(edges, values, rule)
        got = graph.attribute([values[i] for i in range(n)], np.arange(n), rule)
        np.testing.assert_allclose(got.indirect, [expected[i] for i in range(n)], rtol=1e-11)
        assert got.level_value.shape[0] == int(kernels.depths(graph.parent).max())
