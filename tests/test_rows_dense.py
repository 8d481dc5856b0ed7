"""The dense (table) path of ``unique_rows`` against ``np.unique``: same groups, same order, same sums."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from clvkit import _rows


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 40), st.integers(0, 9), st.sampled_from([0.0, 0.5, 1.25, 7.0])),
                min_size=1, max_size=60),
       st.lists(st.floats(0.1, 5.0), min_size=60, max_size=60))
def test_dense_path_equals_sorting(rows: list[tuple[int, int, float]], w: list[float]) -> None:
    cols = [np.array([r[j] for r in rows], dtype=np.float64) for j in range(3)]
    weights = np.array(w[:len(rows)])
    dense = _rows.unique_rows(cols, weights)  # the span here is tiny: the table path
    # The reference: np.unique over the rows as tuples (lexicographic order).
    stacked = np.stack(cols, axis=1)
    ref_rows, ref_inverse = np.unique(stacked, axis=0, return_inverse=True)
    ref_inverse = ref_inverse.reshape(-1)
    for j in range(3):
        np.testing.assert_array_equal(dense[0][j], ref_rows[:, j])
    np.testing.assert_array_equal(dense[2], ref_inverse)
    np.testing.assert_allclose(dense[1], np.bincount(ref_inverse, weights=weights), rtol=1e-15)


def test_sorting_path_gives_the_same_result(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(3)
    cols = [rng.integers(0, 50, 2000).astype(float), rng.integers(0, 400, 2000).astype(float),
            rng.integers(0, 400, 2000).astype(float)]
    w = np.ones(2000)
    dense = _rows.unique_rows(cols, w)
    monkeypatch.setattr(_rows, "_DENSE_MIN", 0)
    monkeypatch.setattr(_rows, "_DENSE_FACTOR", 0)
    sorted_ = _rows.unique_rows(cols, w)
    for a, b in zip(dense[0], sorted_[0], strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(dense[1], sorted_[1])
    np.testing.assert_array_equal(dense[2], sorted_[2])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 30), st.integers(-3, 400), st.integers(0, 9000)), min_size=1, max_size=80),
       st.sampled_from([(7, "div"), (7, "mul"), (24, "mul"), (1440, "div"), (365, "mul"), (3, "div")]))
def test_grid_codes_group_as_sorting_does(rows: list[tuple[int, int, int]], grid: tuple[int, str]) -> None:
    # Times on a grid, written as a unit conversion writes them (days / 7, or days * (1/7)); a grid clvkit does not
    # try (thirds) falls back to ranks. Either way the groups, their order and the inverse equal np.unique's.
    m, how = grid
    cols = [np.array([r[0] for r in rows], dtype=np.float64)]
    for j in (1, 2):
        q = np.array([r[j] for r in rows], dtype=np.float64)
        cols.append(q / m if how == "div" else q * (1.0 / m))
    got = _rows.unique_rows(cols, np.ones(len(rows)))
    ref_rows, ref_inverse = np.unique(np.stack(cols, axis=1), axis=0, return_inverse=True)
    for j in range(3):
        np.testing.assert_array_equal(got[0][j], ref_rows[:, j])
    np.testing.assert_array_equal(got[2], ref_inverse.reshape(-1))


def test_grid_needs_every_value_on_it() -> None:
    # One value off the grid (a week and a second): ranks, not grid codes, so it is not merged with its neighbour.
    # The off value comes after the first 4,096 values (the sample clvkit checks first), so the full check finds it.
    col = np.concatenate([np.tile([1 / 7, 2 / 7, 3 / 7], 3000), [2 / 7 + 1e-12]])
    codes, size, values = _rows._codes(col)
    assert values is not None and size == 4 and len(np.unique(codes)) == 4


def test_few_rows_with_a_wide_key_span_group_as_np_unique() -> None:
    # A request-sized batch (1,000 rows) whose codes span far more than the rows (ages on a fine grid): grouped by a
    # sort, not a million-cell table (_table_limit), with the same rows, order, sums and inverse as np.unique.
    rng = np.random.default_rng(5)
    n = 1000
    T = np.round(rng.uniform(20.0, 39.0, n), 2)
    x = rng.integers(0, 8, n).astype(float)
    tx = np.where(x > 0, np.round(T * rng.uniform(0.0, 1.0, n), 2), 0.0)
    x[:200], tx[:200], T[:200] = x[0], tx[0], T[0]  # repeats
    assert _rows._table_limit(n) < _rows._DENSE_FACTOR * n + _rows._DENSE_MIN
    cols = [x, tx, T]
    w = rng.uniform(1.0, 2.0, n)
    got = _rows.unique_rows(cols, w)
    ref, inverse = np.unique(np.stack(cols, axis=1), axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    for j in range(3):
        np.testing.assert_array_equal(got[0][j], ref[:, j])
    np.testing.assert_array_equal(got[2], inverse)
    np.testing.assert_allclose(got[1], np.bincount(inverse, weights=w), rtol=1e-15)
    assert _rows._table_limit(1_000_000) == _rows._DENSE_FACTOR * 1_000_000 + _rows._DENSE_MIN  # large n: as before
