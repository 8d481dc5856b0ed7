"""CustomerSummary: invariants, immutability, compress/expand, take, concat, time units, frame builders."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clvkit import CompressedSummary, CustomerSummary, InvalidInputError


def valid(**changes: Any) -> dict[str, Any]:
    columns: dict[str, Any] = {
        "frequency": [0.0, 2.0, 5.0, 1.0],
        "recency": [0.0, 10.0, 30.0, 4.0],
        "T": [40.0, 40.0, 35.0, 4.0],
        "monetary_value": [0.0, 12.5, 30.0, 7.0],
        "customer_id": ["d", "a", "c", "b"],
        "time_unit": "W",
    }
    columns.update(changes)
    return columns


def problems_of(**columns: Any) -> InvalidInputError:
    with pytest.raises(InvalidInputError) as info:
        CustomerSummary(**columns)
    return info.value


# =============================================================================== invariants
@pytest.mark.parametrize(
    ("changes", "column", "words", "row"),
    [
        ({"frequency": [0.0, 2.5, 5.0, 1.0]}, "frequency", "whole number", 1),
        ({"frequency": [0.0, -2.0, 5.0, 1.0], "recency": [0.0, 0.0, 30.0, 4.0]}, "frequency", "non-negative", 1),
        ({"frequency": [0.0, np.nan, 5.0, 1.0]}, "frequency", "finite", 1),
        ({"recency": [0.0, 10.0, 36.0, 4.0]}, "recency", "must not exceed T", 2),
        ({"recency": [1.0, 10.0, 30.0, 4.0]}, "recency", "must be 0 where frequency is 0", 0),
        ({"recency": [0.0, 10.0, 30.0, -4.0]}, "recency", "non-negative", 3),
        ({"T": [40.0, 40.0, np.inf, 4.0]}, "T", "finite", 2),
        ({"monetary_value": [0.0, -1.0, 30.0, 7.0]}, "monetary_value", "non-negative", 1),
        ({"monetary_value": [0.0, 1.0, np.nan, 7.0]}, "monetary_value", "finite", 2),
        ({"weights": [1.0, 0.0, 1.0, 1.0]}, "weights", "> 0", 1),
        ({"customer_id": ["d", "a", "d", "b"]}, "customer_id", "unique", 2),
        ({"frequency_holdout": [0.0, 1.5, 0.0, 0.0], "duration_holdout": 10.0}, "frequency_holdout",
         "whole number", 1),
        ({"frequency_holdout": [0.0, 1.0, 0.0, 0.0], "monetary_value_holdout": [0.0, -3.0, 0.0, 0.0],
          "duration_holdout": 10.0}, "monetary_value_holdout", "non-negative", 1),
    ],
)
def test_each_invariant_is_rejected(changes: dict[str, Any], column: str, words: str, row: int) -> None:
    err = problems_of(**valid(**changes))
    assert column in err.columns
    problem = next(p for p in err.problems if p.column == column and words in p.message)
    assert problem.n_bad == 1
    ids = valid(**changes)["customer_id"]
    assert problem.rows == (f"{row} (customer_id={ids[row]!r})",)


def test_all_problems_are_reported_at_once() -> None:
    err = problems_of(**valid(frequency=[0.5, 2.0, 5.0, -1.0], recency=[0.0, 50.0, 30.0, 4.0],
                              monetary_value=[0.0, 1.0, -1.0, 7.0], customer_id=["a", "a", "c", "b"]))
    assert set(err.columns) == {"frequency", "recency", "monetary_value", "customer_id"}
    text = str(err)
    assert text.startswith(f"CustomerSummary has {len(err.problems)} problems:")
    assert "first at row 1 (customer_id='a')" in text


def test_rows_are_counted_and_the_first_ones_listed() -> None:
    n = 12
    err = problems_of(frequency=np.full(n, -1.0), recency=np.zeros(n), T=np.ones(n))
    problem = err.problems[0]
    assert problem.n_bad == 12 and problem.rows == (0, 1, 2, 3, 4)
    assert "and 7 more" in str(err)


def test_object_ids_name_rows_by_position() -> None:
    ids = np.array(["x", "y"], dtype=object)
    err = problems_of(frequency=[-1.0, 0.0], recency=[0.0, 0.0], T=[1.0, 1.0], customer_id=ids)
    assert err.problems[0].rows == (0,)
    err = problems_of(frequency=[0.0, 0.0], recency=[0.0, 0.0], T=[1.0, 1.0], customer_id=np.array(["x", "x"],
                                                                                                    dtype=object))
    assert err.columns == ("customer_id",) and err.problems[0].rows == (1,)


@pytest.mark.parametrize(
    ("changes", "column"),
    [
        ({"recency": [0.0, 1.0]}, "recency"),
        ({"customer_id": [1, 2, 3]}, "customer_id"),
        ({"frequency_holdout": [0.0, 1.0, 0.0, 0.0]}, "duration_holdout"),
        ({"frequency_holdout": [0.0, 1.0, 0.0, 0.0], "duration_holdout": 0.0}, "duration_holdout"),
        ({"duration_holdout": 5.0}, "duration_holdout"),
    ],
)
def test_shape_and_holdout_pairing(changes: dict[str, Any], column: str) -> None:
    assert column in problems_of(**valid(**changes)).columns


def test_unreadable_and_badly_shaped_inputs() -> None:
    with pytest.raises(InvalidInputError, match="'frequency': cannot be read as numbers"):
        CustomerSummary(frequency=["x"], recency=[0.0], T=[1.0])
    with pytest.raises(InvalidInputError, match="one-dimensional"):
        CustomerSummary(frequency=[[0.0]], recency=[0.0], T=[1.0])
    with pytest.raises(InvalidInputError, match="'time_unit' parameter"):
        CustomerSummary(frequency=[0.0], recency=[0.0], T=[1.0], time_unit="fortnight")


def test_recency_slack_absorbs_unit_conversion_rounding() -> None:
    s = CustomerSummary(frequency=[1.0], recency=[10.0 * (1 + 1e-12)], T=[10.0])
    assert len(s) == 1


# =============================================================================== immutability
def test_arrays_are_read_only_float64() -> None:
    s = CustomerSummary(**valid())
    for name in ("frequency", "recency", "T", "monetary_value"):
        arr = getattr(s, name)
        assert arr.dtype == np.float64 and not arr.flags.writeable
        with pytest.raises(ValueError):
            arr[0] = 1.0
    assert s.customer_id is not None and not s.customer_id.flags.writeable


def test_caller_mutation_does_not_leak() -> None:
    freq = np.array([0.0, 2.0, 5.0, 1.0])
    ids = np.array(["d", "a", "c", "b"])
    base = np.array([[40.0, 40.0, 35.0, 4.0]])
    s = CustomerSummary(**valid(frequency=freq, customer_id=ids, T=base[0]))
    freq[1] = 99.0
    ids[0] = "zz"
    base[0, 0] = -1.0
    assert s.frequency.tolist() == [0.0, 2.0, 5.0, 1.0]
    assert s.customer_id is not None and s.customer_id.tolist() == ["d", "a", "c", "b"]
    assert s.T[0] == 40.0
    assert freq.flags.writeable  # the caller's array is left as it was


# =============================================================================== compress
def test_compress_weights_and_inverse() -> None:
    s = CustomerSummary(frequency=[0, 1, 0, 1, 1], recency=[0, 5, 0, 5, 5], T=[9, 9, 9, 8, 9],
                        monetary_value=[0.0, 3.0, 0.0, 3.0, 4.0], customer_id=[1, 2, 3, 4, 5], time_unit="W")
    c = s.compress()
    assert isinstance(c, CompressedSummary)
    u = c.summary
    assert len(u) == 4 and u.weights is not None and u.total_weight == 5.0
    assert u.customer_id is None and u.time_unit == "W"
    for name in ("frequency", "recency", "T", "monetary_value"):
        np.testing.assert_array_equal(getattr(u, name)[c.inverse], getattr(s, name))
    without = s.compress(include_monetary=False)
    assert len(without.summary) == 3 and without.summary.monetary_value is None
    assert without.summary.weights is not None and without.summary.weights.tolist() == [2.0, 1.0, 2.0]


def test_compress_sums_existing_weights_and_drops_holdout() -> None:
    s = CustomerSummary(frequency=[1, 1, 0], recency=[2, 2, 0], T=[5, 5, 5], weights=[2.0, 0.5, 3.0],
                        frequency_holdout=[1, 0, 0], duration_holdout=4.0)
    c = s.compress()
    assert c.summary.weights is not None and c.summary.weights.tolist() == [3.0, 2.5]
    assert c.summary.frequency_holdout is None and c.summary.duration_holdout is None
    assert c.summary.total_weight == s.total_weight == 5.5


def test_compress_empty() -> None:
    s = CustomerSummary(frequency=[], recency=[], T=[])
    c = s.compress()
    assert len(c.summary) == 0 and c.inverse.shape == (0,)


_rows = st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3), st.integers(0, 3), st.sampled_from([0.0, 2.5, 7.0])),
                 min_size=1, max_size=40)


def _summary(rows: list[tuple[int, int, int, float]]) -> CustomerSummary:
    x = np.array([r[0] for r in rows], dtype=float)
    tx = np.where(x > 0, np.array([r[1] for r in rows], dtype=float) + 1.0, 0.0)  # a repeat comes after the first
    T = tx + np.array([r[2] for r in rows], dtype=float)
    m = np.where(x > 0, np.array([r[3] for r in rows]), 0.0)
    return CustomerSummary(frequency=x, recency=tx, T=T, monetary_value=m, customer_id=np.arange(len(rows)))


@settings(max_examples=200, deadline=None)
@given(rows=_rows)
def test_property_compress_then_expand_reproduces_rows(rows: list[tuple[int, int, int, float]]) -> None:
    s = _summary(rows)
    c = s.compress()
    assert c.summary.total_weight == len(s)
    for name in ("frequency", "recency", "T", "monetary_value"):
        np.testing.assert_array_equal(getattr(c.summary, name)[c.inverse], getattr(s, name))
    assert c.summary.weights is not None
    np.testing.assert_array_equal(np.bincount(c.inverse, minlength=len(c.summary)), c.summary.weights)


@settings(max_examples=200, deadline=None)
@given(rows=_rows, seed=st.integers(0, 2**32 - 1))
def test_property_compress_is_invariant_to_row_order(rows: list[tuple[int, int, int, float]], seed: int) -> None:
    s = _summary(rows)
    perm = np.random.default_rng(seed).permutation(len(s))
    a, b = s.compress(), s.take(perm).compress()
    for name in ("frequency", "recency", "T", "monetary_value", "weights"):
        np.testing.assert_array_equal(getattr(a.summary, name), getattr(b.summary, name))
    np.testing.assert_array_equal(b.inverse, a.inverse[perm])


# =============================================================================== take
def test_take_positions_and_mask() -> None:
    s = CustomerSummary(**valid(frequency_holdout=[0, 1, 2, 0], duration_holdout=8.0))
    t = s.take([2, 0])
    assert t.customer_id is not None and t.customer_id.tolist() == ["c", "d"]
    assert t.frequency.tolist() == [5.0, 0.0] and t.frequency_holdout is not None
    assert t.frequency_holdout.tolist() == [2.0, 0.0] and t.duration_holdout == 8.0
    m = s.take(np.array([False, True, False, True]))
    assert m.customer_id is not None and m.customer_id.tolist() == ["a", "b"]
    assert s.take([-1]).customer_id.tolist() == ["b"]  # type: ignore[union-attr]
    assert len(s.take([])) == 0


def test_take_the_same_customer_twice_drops_ids() -> None:
    s = CustomerSummary(**valid())
    assert s.take([1, 1]).customer_id is None
    assert s.take([3, -1]).customer_id is None  # -1 is row 3


@pytest.mark.parametrize("indices", [np.array([True, False]), [0.5], [4], [-5]])
def test_take_rejects_bad_indices(indices: Any) -> None:
    with pytest.raises(InvalidInputError, match="take"):
        CustomerSummary(**valid()).take(indices)


# =============================================================================== concat
def test_concat() -> None:
    a = CustomerSummary(frequency=[1.0], recency=[2.0], T=[3.0], customer_id=[1], time_unit="W")
    b = CustomerSummary(frequency=[0.0, 2.0], recency=[0.0, 1.0], T=[1.0, 4.0], customer_id=[2, 3], time_unit="W")
    c = CustomerSummary.concat([a, b])
    assert c.customer_id is not None and c.customer_id.tolist() == [1, 2, 3]
    assert c.frequency.tolist() == [1.0, 0.0, 2.0] and c.time_unit == "W"


def test_concat_errors() -> None:
    a = CustomerSummary(frequency=[1.0], recency=[2.0], T=[3.0], customer_id=[1], time_unit="W")
    with pytest.raises(InvalidInputError, match="one time unit"):
        CustomerSummary.concat([a, CustomerSummary(frequency=[0.0], recency=[0.0], T=[1.0], time_unit="D")])
    with pytest.raises(InvalidInputError, match="at least one"):
        CustomerSummary.concat([])
    with pytest.raises(InvalidInputError, match="'customer_id' in all summaries or in none"):
        CustomerSummary.concat([a, CustomerSummary(frequency=[0.0], recency=[0.0], T=[1.0], time_unit="W")])
    with pytest.raises(InvalidInputError, match="unique"):
        CustomerSummary.concat([a, a])
    h = CustomerSummary(frequency=[1.0], recency=[2.0], T=[3.0], frequency_holdout=[1.0], duration_holdout=2.0)
    k = CustomerSummary(frequency=[1.0], recency=[2.0], T=[3.0], frequency_holdout=[1.0], duration_holdout=3.0)
    with pytest.raises(InvalidInputError, match="holdout duration"):
        CustomerSummary.concat([h, k])


# =============================================================================== time units
def test_with_time_unit() -> None:
    s = CustomerSummary(frequency=[1.0, 0.0], recency=[7.0, 0.0], T=[14.0, 21.0], time_unit="D",
                        frequency_holdout=[2.0, 0.0], duration_holdout=70.0,
                        observation_end=dt.datetime(2024, 1, 1))
    w = s.with_time_unit("W")
    assert w.time_unit == "W" and w.recency.tolist() == [1.0, 0.0] and w.T.tolist() == [2.0, 3.0]
    assert w.duration_holdout == 10.0 and w.frequency.tolist() == [1.0, 0.0]
    assert w.observation_end == s.observation_end
    back = w.with_time_unit("D")
    np.testing.assert_allclose(back.T, s.T, rtol=1e-15)
    h = s.with_time_unit("h")
    assert h.T.tolist() == [336.0, 504.0]
    with pytest.raises(InvalidInputError, match="time_unit"):
        s.with_time_unit("fortnight")


def test_with_weights_is_validated() -> None:
    s = CustomerSummary(**valid())
    assert s.with_weights([1.0, 2.0, 3.0, 4.0]).total_weight == 10.0
    with pytest.raises(InvalidInputError, match="weights"):
        s.with_weights([1.0, -2.0, 3.0, 4.0])


# =============================================================================== builders and exports
@pytest.mark.parametrize("kind", ["pandas", "polars", "pyarrow", "mapping"])
def test_from_frame(kind: str) -> None:
    data = {"x": [0.0, 2.0], "t_x": [0.0, 3.0], "age": [5.0, 6.0], "spend": [0.0, 9.5], "cid": [7, 8]}
    if kind == "mapping":
        frame: Any = data
    else:
        module = pytest.importorskip(kind)
        frame = module.table(data) if kind == "pyarrow" else module.DataFrame(data)
    s = CustomerSummary.from_frame(frame, frequency="x", recency="t_x", T="age", monetary_value="spend",
                                   customer_id="cid", time_unit="W")
    assert s.frequency.tolist() == [0.0, 2.0] and s.T.tolist() == [5.0, 6.0]
    assert s.monetary_value is not None and s.monetary_value.tolist() == [0.0, 9.5]
    assert s.customer_id is not None and s.customer_id.tolist() == [7, 8] and s.time_unit == "W"


def test_from_frame_default_names_and_missing_columns() -> None:
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"frequency": [1.0], "recency": [1.0], "T": [2.0]})
    assert len(CustomerSummary.from_frame(frame)) == 1
    with pytest.raises(InvalidInputError) as info:
        CustomerSummary.from_frame(frame, T="age", weights="w")
    assert info.value.columns == ("age", "w")


def test_from_arrays_to_columns_and_to_pandas() -> None:
    pd = pytest.importorskip("pandas")
    s = CustomerSummary.from_arrays(**valid())
    cols = s.to_columns()
    assert list(cols) == ["customer_id", "frequency", "recency", "T", "monetary_value"]
    df = s.to_pandas()
    assert df.index.name == "customer_id" and df.index.tolist() == ["d", "a", "c", "b"]
    rebuilt = CustomerSummary.from_frame(df.reset_index(), monetary_value="monetary_value",
                                         customer_id="customer_id", time_unit="W")
    for name in cols:
        np.testing.assert_array_equal(getattr(rebuilt, name), getattr(s, name))
    assert isinstance(pd.DataFrame(cols), pd.DataFrame)


def test_small_accessors() -> None:
    s = CustomerSummary(frequency=[0.0, 1.0], recency=[0.0, 1.0], T=[2.0, 2.0])
    assert len(s) == 2 and s.total_weight == 2.0 and s.weights_or_ones().tolist() == [1.0, 1.0]
    assert "n_customers=2" in repr(s)
    assert s.observation_end is None and s.calibration_end is None and s.monetary_value is None
