"""clvkit.Covariates: static and dynamic covariates as data (issue 13, scope 1).

Expected values come from the inputs (the CSV files read independently with the csv module, hand-made frames),
never from the code under test.
"""

from __future__ import annotations

import csv
import gzip
import json
from collections import defaultdict
from datetime import date, timedelta
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import clvkit
from clvkit import CovariateDesign, Covariates, InvalidInputError
from clvkit.domain import Customer, CustomerKind
from clvkit.protocols import CovariateMatrix

pd = pytest.importorskip("pandas")
pl = pytest.importorskip("polars")
pa = pytest.importorskip("pyarrow")


def _read_csv(path: Any) -> list[dict[str, str]]:
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt", newline="") as fh:
        return list(csv.DictReader(fh))


def _small() -> dict[str, list[Any]]:
    return {"id": [3, 1, 2, 4, 6, 5], "Channel": ["web", "shop", "web", "tv", "tv", "shop"],
            "vip": [True, False, False, True, True, False], "age": [31.0, 45.0, 27.0, 52.0, 38.0, 60.0]}


def _weekly(ids: list[Any], n_weeks: list[int], start: str = "2005-01-02") -> dict[str, Any]:
    rows_id, rows_week, rows_x = [], [], []
    origin = np.datetime64(start, "ns")
    for k, (cid, n) in enumerate(zip(ids, n_weeks, strict=True)):
        for w in range(n):
            rows_id.append(cid)
            rows_week.append(origin + np.timedelta64(7 * (w + k), "D"))
            rows_x.append(float((w + k) % 3))
    return {"id": rows_id, "week": np.array(rows_week, dtype="datetime64[ns]"), "x": rows_x}


def _problem(exc: pytest.ExceptionInfo[InvalidInputError], column: str) -> str:
    found = [str(p) for p in exc.value.problems if p.column == column]
    assert found, f"no problem about {column!r} in {exc.value}"
    return found[0]


# -- the apparel data of CLVTools ------------------------------------------------------------------------------
def test_apparel_static_matches_the_file(shared_data: Any) -> None:
    path = shared_data("apparel_static_cov.csv")
    rows = _read_csv(path)
    cov = Covariates.static(pd.read_csv(path), customer_id="Id", columns=["Gender", "Channel"])
    assert cov.names == ("Gender", "Channel")
    assert len(cov) == len(rows) == 600
    ids = np.array([int(r["Id"]) for r in rows])[::-1]
    expected = np.array([[float(r["Gender"]), float(r["Channel"])] for r in rows])[::-1]
    got = cov.align(ids)
    assert got.dtype == np.float64 and got.flags.c_contiguous and got.shape == (600, 2)
    np.testing.assert_array_equal(got, expected)
    assert isinstance(cov, CovariateMatrix)
    # in the order of a summary of the apparel transactions (what a fit passes)
    trans = shared_data("apparel_trans.csv")
    summary = clvkit.summarize(pd.read_csv(trans), customer_id="Id", datetime="Date", time_unit="W")
    by_id = {int(r["Id"]): [float(r["Gender"]), float(r["Channel"])] for r in rows}
    np.testing.assert_array_equal(cov.align(summary.customer_id), [by_id[int(i)] for i in summary.customer_id])


def test_apparel_dynamic_matches_the_file(shared_data: Any) -> None:
    path = shared_data("apparel_dyn_cov.csv.gz")
    rows = _read_csv(path)
    assert len(rows) == 187_800
    cov = Covariates.dynamic(pd.read_csv(path), customer_id="Id", period="Cov.Date",
                             columns=["High.Season", "Gender", "Channel"])
    by_customer: dict[int, list[tuple[str, float]]] = defaultdict(list)
    for r in rows:
        by_customer[int(r["Id"])].append((r["Cov.Date"], float(r["High.Season"])))
    dates = sorted({r["Cov.Date"] for r in rows})
    assert cov.step == np.timedelta64(7, "D")
    assert cov.values.shape == (600, len(dates), 3)
    assert [str(np.datetime_as_string(p, unit="D")) for p in cov.periods] == dates
    # every cell of the dense array is the file's value
    for cid in (1, 17, 600):
        k = int(np.searchsorted(cov.customer_id, cid))
        for when, season in by_customer[cid]:
            t = dates.index(when)
            assert cov.values[k, t, 0] == season
    # High.Season varies: no static alignment
    with pytest.raises(InvalidInputError, match="time-varying fit is needed") as exc:
        cov.align(np.array([1, 2]))
    assert "High.Season" in str(exc.value)
    # Gender and Channel are constant over time: they align as the static file's values
    static = Covariates.static(pd.read_csv(shared_data("apparel_static_cov.csv")), customer_id="Id",
                               columns=["Gender", "Channel"])
    constant = Covariates.dynamic(pd.read_csv(path), customer_id="Id", period="Cov.Date",
                                  columns=["Gender", "Channel"])
    ids = static.customer_id[::-1]
    np.testing.assert_array_equal(constant.align(ids), static.align(ids))
    # a window: periods starting in [start, end)
    first_weeks = cov.window(np.array([1, 2]), np.datetime64(dates[0]), np.datetime64(dates[4]))
    assert first_weeks.shape == (2, 4, 3)
    expected = [[season for when, season in by_customer[cid] if when < dates[4]] for cid in (1, 2)]
    np.testing.assert_array_equal(first_weeks[:, :, 0], expected)


# -- static: coding ---------------------------------------------------------------------------------------------
def test_static_codes_categories_with_the_first_sorted_level_as_reference() -> None:
    data = _small()
    cov = Covariates.static(data, customer_id="id", columns=["Channel", "vip", "age"])
    assert cov.names == ("Channel[tv]", "Channel[web]", "vip[True]", "age")
    assert [c.reference for c in cov.design.columns] == ["shop", "False", None]
    ids = np.array(data["id"])
    got = cov.align(ids)
    np.testing.assert_array_equal(got[:, 0], [c == "tv" for c in data["Channel"]])
    np.testing.assert_array_equal(got[:, 1], [c == "web" for c in data["Channel"]])
    np.testing.assert_array_equal(got[:, 2], data["vip"])
    np.testing.assert_array_equal(got[:, 3], data["age"])


def test_static_reference_mapping() -> None:
    cov = Covariates.static(_small(), customer_id="id", columns=["Channel", "age"], reference={"Channel": "web"})
    assert cov.names == ("Channel[shop]", "Channel[tv]", "age")
    with pytest.raises(InvalidInputError, match="no level 'radio'"):
        Covariates.static(_small(), customer_id="id", columns=["Channel"], reference={"Channel": "radio"})
    with pytest.raises(InvalidInputError, match="not covariates"):
        Covariates.static(_small(), customer_id="id", columns=["Channel"], reference={"Region": "x"})
    with pytest.raises(InvalidInputError, match="no reference level"):
        Covariates.static(_small(), customer_id="id", columns=["age"], reference={"age": 1})


def test_design_codes_new_data_identically_and_refuses_unknown_levels() -> None:
    old = Covariates.static(_small(), customer_id="id", columns=["Channel", "vip", "age"])
    new = {"id": ["a"], "Channel": ["tv"], "vip": [False], "age": [40.0]}  # one customer: constant columns are fine
    cov = Covariates.static(new, customer_id="id", columns=["Channel", "vip", "age"], design=old.design)
    assert cov.names == old.names
    np.testing.assert_array_equal(cov.align(np.array(["a"])), [[1.0, 0.0, 0.0, 40.0]])
    with pytest.raises(InvalidInputError) as exc:
        Covariates.static({"id": [1, 2], "Channel": ["tv", "radio"], "vip": [True, True], "age": [1.0, 2.0]},
                          customer_id="id", columns=["Channel", "vip", "age"], design=old.design)
    text = _problem(exc, "Channel")
    assert "'radio'" in text and "customer 2" in text and "Known levels" in text
    with pytest.raises(InvalidInputError, match="design's columns"):
        Covariates.static(new, customer_id="id", columns=["vip", "Channel", "age"], design=old.design)
    with pytest.raises(InvalidInputError, match="either 'design' or 'reference'"):
        Covariates.static(new, customer_id="id", columns=["Channel", "vip", "age"], design=old.design,
                          reference={"Channel": "tv"})


def test_design_json_is_plain_and_strict() -> None:
    design = Covariates.static(_small(), customer_id="id", columns=["Channel", "age"]).design
    doc = json.loads(design.to_json())
    assert doc["schema_name"] == "clvkit.covariate_design" and doc["schema_version"] == 1
    assert doc["columns"][0] == {"name": "Channel", "coding": "categorical", "levels": ["shop", "tv", "web"],
                                 "reference": "shop"}
    assert CovariateDesign.from_json(design.to_json()) == design
    doc["schema_version"] = 2
    with pytest.raises(InvalidInputError):
        CovariateDesign.from_json(json.dumps(doc))


def test_domain_customers() -> None:
    kinds = [CustomerKind.CONSUMER, CustomerKind.INTERMEDIARY]
    customers = [Customer(customer_id=f"C{i}", kind=kinds[k], region=region, segment=seg)
                 for i, (k, region, seg) in enumerate([(0, "north", "retail"), (1, "south", "retail"),
                                                       (0, "north", "trade"), (0, "east", "trade"),
                                                       (1, "south", "trade"), (1, "east", "retail")])]
    cov = Covariates.static(customers, customer_id="customer_id", columns=["kind", "region", "segment"])
    # an enum is coded by its value, not by its Python name
    assert cov.names == ("kind[intermediary]", "region[north]", "region[south]", "segment[trade]")
    np.testing.assert_array_equal(cov.align(np.array(["C4", "C0"])), [[1.0, 0.0, 1.0, 1.0], [0.0, 1.0, 0.0, 0.0]])
    with pytest.raises(InvalidInputError, match="not an attribute"):
        Covariates.static(customers, customer_id="customer_id", columns=["colour"])


# -- static: errors -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("data", "column", "words"), [
    ({"id": [1, 2, 1], "x": [1.0, 2.0, 3.0]}, "id", "more than one row"),
    ({"id": [1, None, 2], "x": [1.0, 2.0, 3.0]}, "id", "missing ids"),
    ({"id": [1.0, np.nan, 2.0], "x": [1.0, 2.0, 3.0]}, "id", "missing ids"),
    ({"id": [1, "b", 2], "x": [1.0, 2.0, 3.0]}, "id", "mixes kinds"),
    ({"id": [1, 2, 3], "x": [1.0, np.nan, 3.0]}, "x", "missing or infinite"),
    ({"id": [1, 2, 3], "x": [1.0, np.inf, 3.0]}, "x", "missing or infinite"),
    ({"id": [1, 2, 3], "x": [1.0, 1.0, 1.0]}, "x", "is constant"),
    ({"id": [1, 2, 3], "x": ["a", "a", "a"]}, "x", "one level"),
    ({"id": [1, 2, 3], "x": ["a", None, "b"]}, "x", "missing values"),
    ({"id": [1, 2, 3], "x": ["a", 2.0, "b"]}, "x", "mixes text"),
    ({"id": [1, 2, 3], "x": [1.0, [2.0], 3.0]}, "x", "not numbers"),
    ({"id": [1.0, 2.5, 3.0], "x": [1.0, 2.0, 3.0]}, "id", "not whole numbers"),
    ({"id": [1, 2, 3], "x": np.array(["2005-01-01", "2005-01-02", "2005-01-03"], dtype="datetime64[D]")}, "x",
     "not numeric"),
])
def test_static_errors_name_column_row_customer_and_fix(data: dict[str, Any], column: str, words: str) -> None:
    with pytest.raises(InvalidInputError) as exc:
        Covariates.static(data, customer_id="id", columns=["x"])
    text = _problem(exc, column)
    assert words in text
    assert text.count(". ") >= 1  # a fix follows the problem


def test_static_error_names_the_customer_of_the_first_bad_row() -> None:
    with pytest.raises(InvalidInputError) as exc:
        Covariates.static({"id": [10, 20, 30, 40], "x": [1.0, 2.0, np.nan, np.nan]}, customer_id="id", columns=["x"])
    text = _problem(exc, "x")
    assert "2 rows fail; first at row 2 (customer 30)" in text
    with pytest.raises(InvalidInputError) as exc:
        Covariates.static({"id": ["a", "b", "a"], "x": [1.0, 2.0, 3.0]}, customer_id="id", columns=["x"])
    assert "customer 'a'" in _problem(exc, "id")


def test_identical_and_collinear_columns_are_refused() -> None:
    base = {"id": [1, 2, 3, 4, 5], "a": [0.0, 1.0, 0.0, 1.0, 1.0], "b": [2.0, 3.0, 5.0, 7.0, 11.0]}
    with pytest.raises(InvalidInputError) as exc:
        Covariates.static({**base, "c": base["a"]}, customer_id="id", columns=["a", "b", "c"])
    assert "identical to 'a'" in _problem(exc, "c")
    combo = [x + 2 * y - 3 for x, y in zip(base["a"], base["b"], strict=True)]
    with pytest.raises(InvalidInputError) as exc:
        Covariates.static({**base, "c": combo}, customer_id="id", columns=["a", "b", "c"])
    assert "linear combination of 'a', 'b'" in _problem(exc, "c")
    # a numeric 0/1 column and the same variable as text: collinear after coding
    text = ["yes" if v else "no" for v in base["a"]]
    with pytest.raises(InvalidInputError) as exc:
        Covariates.static({**base, "t": text}, customer_id="id", columns=["a", "t"])
    assert "identical to 'a'" in _problem(exc, "t[yes]")


def test_bad_arguments() -> None:
    with pytest.raises(InvalidInputError, match="is not a column"):
        Covariates.static(_small(), customer_id="id", columns=["nope"])
    with pytest.raises(InvalidInputError, match="names a column twice"):
        Covariates.static(_small(), customer_id="id", columns=["age", "age"])
    with pytest.raises(InvalidInputError, match="list of column names"):
        Covariates.static(_small(), customer_id="id", columns="age")
    with pytest.raises(InvalidInputError, match="must not hold the id column"):
        Covariates.static(_small(), customer_id="id", columns=["id"])
    with pytest.raises(InvalidInputError, match="at least one covariate"):
        Covariates.static(_small(), customer_id="id", columns=[])
    with pytest.raises(InvalidInputError, match="needs a pandas"):
        Covariates.static(42, customer_id="id", columns=["age"])


def test_align_names_the_first_missing_customer_and_how_many() -> None:
    cov = Covariates.static(_small(), customer_id="id", columns=["age"])
    with pytest.raises(InvalidInputError) as exc:
        cov.align(np.array([1, 99, 2, 98, 97]))
    text = _problem(exc, "customer_id")
    assert "first: 99" in text and "3 customers fail" in text
    with pytest.raises(InvalidInputError, match="first: '1'"):
        cov.align(np.array(["1"]))  # text ids never match integer ids
    assert cov.align(np.array([], dtype=np.int64)).shape == (0, 1)


# -- properties -----------------------------------------------------------------------------------------------------
@settings(max_examples=60, deadline=None)
@given(st.data())
def test_align_of_a_permutation_returns_the_permuted_rows(data: st.DataObject) -> None:
    n = data.draw(st.integers(3, 30))
    ids = data.draw(st.lists(st.integers(-10**6, 10**6), min_size=n, max_size=n, unique=True))
    x = data.draw(st.lists(st.floats(-1e6, 1e6), min_size=n, max_size=n))
    levels = data.draw(st.lists(st.sampled_from(["a", "b", "c"]), min_size=n, max_size=n))
    columns = ["x", "g"]
    frame = {"id": ids, "x": x, "g": levels}
    try:
        cov = Covariates.static(frame, customer_id="id", columns=columns)
    except InvalidInputError:  # constant / one level / collinear draws: nothing to align
        return
    perm = data.draw(st.permutations(range(n)))
    got = cov.align(np.array(ids)[list(perm)])
    ref = sorted(set(levels))[0]
    for row, i in zip(got, perm, strict=True):
        expected = [x[i]] + [float(levels[i] == lv) for lv in sorted(set(levels)) if lv != ref]
        assert row.tolist() == expected


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(["north", "south", "east", "west"]), min_size=4, max_size=20),
       st.sampled_from(["north", "south", "east", "west"]))
def test_coding_round_trips_through_the_json_design(regions: list[str], reference: str) -> None:
    frame = {"id": list(range(len(regions))), "region": regions}
    try:
        cov = Covariates.static(frame, customer_id="id", columns=["region"], reference={"region": reference})
    except InvalidInputError:  # one level, or the reference level absent
        assert len(set(regions)) < 2 or reference not in regions
        return
    design = CovariateDesign.from_json(cov.design.to_json())
    again = Covariates.static({"id": frame["id"][::-1], "region": regions[::-1]}, customer_id="id",
                              columns=["region"], design=design)
    assert again.names == cov.names
    np.testing.assert_array_equal(again.values, cov.values)


@settings(max_examples=25, deadline=None)
@given(st.data())
def test_frame_kinds_agree(draw: st.DataObject) -> None:
    n = draw.draw(st.integers(8, 20))
    data: dict[str, list[Any]] = {
        "id": draw.draw(st.lists(st.integers(0, 10**9), min_size=n, max_size=n, unique=True)),
        "Channel": draw.draw(st.lists(st.sampled_from(["web", "shop", "tv"]), min_size=n, max_size=n)),
        "vip": draw.draw(st.lists(st.booleans(), min_size=n, max_size=n)),
        "age": draw.draw(st.lists(st.floats(0, 100, allow_subnormal=False), min_size=n, max_size=n)),
    }
    try:
        reference = Covariates.static(data, customer_id="id", columns=["Channel", "vip", "age"])
    except InvalidInputError:  # a constant, one-level or collinear draw: every kind of input must refuse it too
        reference = None
    pdf = pd.DataFrame(data)
    cat = pdf.assign(Channel=pdf["Channel"].astype("category"))
    pl_cat = pl.DataFrame(data).with_columns(pl.col("Channel").cast(pl.Categorical))
    inputs = [data, pdf, cat, pl.DataFrame(data), pl_cat, pa.table(data), pa.Table.from_pandas(cat)]
    for x in inputs:
        if reference is None:
            with pytest.raises(InvalidInputError):
                Covariates.static(x, customer_id="id", columns=["Channel", "vip", "age"])
            continue
        cov = Covariates.static(x, customer_id="id", columns=["Channel", "vip", "age"])
        assert cov.design == reference.design
        np.testing.assert_array_equal(cov.values, reference.values)
        np.testing.assert_array_equal(cov.customer_id, reference.customer_id)


def test_dynamic_frame_kinds_agree() -> None:
    weekly = _weekly([5, 6, 7], [3, 4, 2])
    dyn = [Covariates.dynamic(x, customer_id="id", period="week", columns=["x"])
           for x in (weekly, pd.DataFrame(weekly), pl.DataFrame(weekly), pa.table(weekly))]
    for cov in dyn[1:]:
        np.testing.assert_array_equal(cov.values, dyn[0].values)
        np.testing.assert_array_equal(cov.periods, dyn[0].periods)


# -- dynamic ---------------------------------------------------------------------------------------------------------
def test_dynamic_grid_and_per_customer_span() -> None:
    data = _weekly(["a", "b", "c"], [3, 4, 2])  # b starts a week after a, c two weeks after
    cov = Covariates.dynamic(data, customer_id="id", period="week", columns=["x"])
    assert cov.step == np.timedelta64(7, "D")
    assert cov.periods[0] == np.datetime64("2005-01-02") and len(cov.periods) == 5
    assert cov.first_period.tolist() == [0, 1, 2] and cov.last_period.tolist() == [2, 4, 3]
    np.testing.assert_array_equal(cov.window(np.array(["c", "b"]), "2005-01-16", "2005-01-30")[:, :, 0],
                                  [[2.0, 0.0], [2.0, 0.0]])
    with pytest.raises(InvalidInputError) as exc:
        cov.window(np.array(["a"]), "2005-01-16", "2005-01-30")
    assert "customer 'a' at period 2005-01-23" in str(exc.value)
    with pytest.raises(InvalidInputError, match="holds no period"):
        cov.window(np.array(["a"]), "2010-01-01", "2011-01-01")
    assert "n_periods=5" in repr(cov) and "7 days" in cov._repr_html_()
    frame = cov.to_frame()
    assert len(frame) == 9 and list(frame.columns) == ["period", "x"]
    np.testing.assert_array_equal(frame["x"].to_numpy(), data["x"])


def test_dynamic_time_unit_and_iso_text_periods() -> None:
    data = {"id": [1, 1, 1, 2, 2], "day": ["2020-03-01", "2020-03-02", "2020-03-03", "2020-03-02", "2020-03-03"],
            "x": [1.0, 2.0, 3.0, 4.0, 5.0]}
    cov = Covariates.dynamic(data, customer_id="id", period="day", columns=["x"], time_unit="D")
    assert cov.step == np.timedelta64(1, "D") and cov.values.shape == (2, 3, 1)
    with pytest.raises(InvalidInputError) as exc:
        Covariates.dynamic(data, customer_id="id", period="day", columns=["x"], time_unit="W")
    assert "off the grid of one step (7 days)" in _problem(exc, "day")


@pytest.mark.parametrize(("rows", "words", "where"), [
    ([(1, "2005-01-02"), (1, "2005-01-09"), (1, "2005-01-09"), (2, "2005-01-02"), (2, "2005-01-09")],
     "two rows for one period", "customer 1, period 2005-01-09"),
    ([(1, "2005-01-02"), (1, "2005-01-09"), (1, "2005-01-23"), (2, "2005-01-02"), (2, "2005-01-09")],
     "customer 1 has no row for 2005-01-16", "customer 1, period 2005-01-09"),
    ([(1, "2005-01-02"), (1, "2005-01-09"), (1, "2005-01-16"), (2, "2005-01-05"), (2, "2005-01-12")],
     "off the grid", "customer 2, period 2005-01-05"),
    ([(1, "2005-01-02"), (1, "not a date"), (2, "2005-01-02"), (2, "2005-01-09"), (2, "2005-01-16")],
     "not dates", "customer 1"),
])
def test_dynamic_errors_name_customer_and_period(rows: list[tuple[int, str]], words: str, where: str) -> None:
    data = {"id": [r[0] for r in rows], "week": [r[1] for r in rows], "x": [0.0, 1.0, 2.0, 3.0, 5.0]}
    with pytest.raises(InvalidInputError) as exc:
        Covariates.dynamic(data, customer_id="id", period="week", columns=["x"])
    text = _problem(exc, "week")
    assert words in text and where in text


def test_dynamic_value_errors_name_customer_and_period() -> None:
    data = _weekly([1, 2], [3, 3])
    data["x"][4] = np.nan
    with pytest.raises(InvalidInputError) as exc:
        Covariates.dynamic(data, customer_id="id", period="week", columns=["x"])
    assert "customer 2, period 2005-01-16" in _problem(exc, "x")
    data["x"][4] = "text"
    with pytest.raises(InvalidInputError, match="mixes text"):
        Covariates.dynamic(data, customer_id="id", period="week", columns=["x"])
    with pytest.raises(InvalidInputError, match="must not be the id or a covariate"):
        Covariates.dynamic(data, customer_id="id", period="x", columns=["x"])


def test_dynamic_categorical_and_design() -> None:
    weeks = [str(date(2021, 1, 3) + timedelta(weeks=w)) for w in range(3)]
    data = {"id": [1, 1, 1, 2, 2, 2], "week": weeks * 2, "promo": ["none", "tv", "none", "web", "web", "none"]}
    cov = Covariates.dynamic(data, customer_id="id", period="week", columns=["promo"])
    assert cov.names == ("promo[tv]", "promo[web]")
    np.testing.assert_array_equal(cov.values[1, :, 1], [1.0, 1.0, 0.0])
    again = Covariates.dynamic(data, customer_id="id", period="week", columns=["promo"],
                               design=CovariateDesign.from_json(cov.design.to_json()))
    np.testing.assert_array_equal(again.values, cov.values)
    assert again.design.kind == "dynamic"


def test_static_has_no_periods() -> None:
    cov = Covariates.static(_small(), customer_id="id", columns=["age"])
    with pytest.raises(InvalidInputError, match="belongs to dynamic covariates"):
        cov.periods  # noqa: B018
    with pytest.raises(InvalidInputError, match="belongs to dynamic covariates"):
        cov.window(np.array([1]), "2005-01-01", "2006-01-01")


def test_values_are_read_only_and_displays_escape() -> None:
    cov = Covariates.static({"id": [1, 2, 3], "x": ["<b>", "a", "<b>"]}, customer_id="id", columns=["x"])
    with pytest.raises(ValueError):
        cov.values[0, 0] = 5.0
    html = cov._repr_html_()
    assert "x[a]" in html and "reference &#x27;&lt;b&gt;&#x27;" in html and "<b>" not in html
    assert repr(cov) == "Covariates.static(n_customers=3, names=['x[a]'])"
    frame = cov.to_frame("polars")
    assert frame.columns == ["customer_id", *cov.names]


def test_top_level_export() -> None:
    assert clvkit.Covariates is Covariates and "Covariates" in clvkit.__all__
