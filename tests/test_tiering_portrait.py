"""Customer portraits per tier: shares counted by hand, matching by id, entities, tenure, errors."""

from __future__ import annotations

import datetime as _dt

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clvkit import CustomerSummary
from clvkit.domain import Customer, CustomerKind
from clvkit.errors import InvalidInputError
from clvkit.tiering import KeyCustomers, Portraits, format_portraits, portraits

IDS = ["a", "b", "c", "d", "e"]
# KeyCustomers(share=0.4) on these values: a (50) and c (40) are key; b, d, e are other.
VALUES = [50.0, 1.0, 40.0, 2.0, 3.0]


def _assignment():  # type: ignore[no-untyped-def]
    return KeyCustomers(share=0.4).assign(value=VALUES, customer_id=IDS)


def test_shares_counted_by_hand_with_rows_matched_by_id() -> None:
    # Attribute rows in another order, one extra customer (z) and one missing (e -> unknown).
    attrs = {"customer_id": ["c", "z", "d", "b", "a"], "industry": ["mining", "retail", "retail", "retail", "mining"],
             "region": ["North", "North", "", "South", "North"]}
    p = portraits(_assignment(), attrs)
    assert isinstance(p, Portraits) and p.counts.tolist() == [3, 2]
    # other = b (retail), d (retail), e (unknown); key = a (mining), c (mining)
    # retail and mining hold 2 customers each: the tie is broken by name
    assert p.categories["industry"] == ("mining", "retail", "unknown")
    assert p.category_counts["industry"].tolist() == [[0, 2, 1], [2, 0, 0]]
    assert p.share("key", "industry", "mining") == 1.0
    assert p.share("other", "industry", "retail") == pytest.approx(2 / 3)
    assert p.overall["industry"].tolist() == pytest.approx([2 / 5, 2 / 5, 1 / 5])
    # region: a North, b South, c North, d "" (unknown), e no row (unknown)
    assert p.share("key", "region", "North") == 1.0
    assert p.share("other", "region", "unknown") == pytest.approx(2 / 3)
    assert p.top("other", "region", 1) == [("unknown", pytest.approx(2 / 3))]


def test_entities_give_kind_and_tenure_from_acquired_at() -> None:
    utc = _dt.timezone.utc
    as_of = _dt.datetime(2025, 1, 1, tzinfo=utc)
    years = [6.0, 0.5, 2.5, None, 4.0]  # a key, c key
    items = [Customer(customer_id=cid, kind=CustomerKind.INTERMEDIARY if i % 2 == 0 else CustomerKind.CONSUMER,
                      industry="retail", acquired_at=None if y is None else as_of - _dt.timedelta(days=y * 365.2425))
             for i, (cid, y) in enumerate(zip(IDS, years, strict=True))]
    p = portraits(_assignment(), items, columns=["kind"], as_of=as_of)
    assert p.attributes == ("kind", "tenure")
    assert p.share("key", "kind", "intermediary") == 1.0  # a (0) and c (2)
    # tenure bands under 2, 2-3, 3-5, 5+: key a 6.0 -> 5+, c 2.5 -> 2-3; other b 0.5, d unknown, e 4.0
    assert p.categories["tenure"] == ("under 2 years", "2-3 years", "3-5 years", "5 years and more", "unknown")
    assert p.category_counts["tenure"].tolist() == [[1, 0, 1, 0, 1], [0, 1, 0, 1, 0]]
    text = format_portraits(p, lang="zh")
    assert "客户类型" in text and "中间商（经销商或零售商）" in text and "5 年及以上" in text and "文本 003" in text


def test_tenure_from_a_summary_in_weeks_matched_by_id() -> None:
    # T in weeks: 104.36 weeks = 2 years (365.2425 / 7 * 2); the summary lists the customers in reverse order.
    week_years = 365.2425 / 7
    t = np.array([1.0, 3.0, 0.5, 2.5, 5.5])[::-1] * week_years
    s = CustomerSummary(frequency=np.zeros(5), recency=np.zeros(5), T=t, customer_id=IDS[::-1], time_unit="W")
    p = portraits(_assignment(), tenure=s)
    # a 1.0 and c 0.5 -> under 2 (key); b 3.0 -> 3-5, d 2.5 -> 2-3, e 5.5 -> 5+
    assert p.category_counts["tenure"].tolist() == [[0, 1, 1, 1], [2, 0, 0, 0]]


def test_frames_html_and_text() -> None:
    p = portraits(_assignment(), {"industry": ["x", "y", "x", "y", "y"]})
    frame = p.to_frame()
    assert list(frame.columns) == ["tier", "attribute", "category", "customers", "share", "overall_share"]
    assert int(frame["customers"].sum()) == 5
    html = p._repr_html_()
    assert html.startswith('<div class="clvkit-display">') and "all customers" in html
    en = format_portraits(p, lang="en", max_categories=1)
    assert "other" in en.splitlines()[2]
    assert "Top tier key: most often x (100.0% of the tier, 40.0% of all customers)." in en
    assert "Portraits(KeyCustomers: 5 customers in 2 tiers by industry)" == repr(p)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"attributes": None}, "nothing to portray"),
    ({"attributes": {"industry": ["x"] * 4}}, "same number of customers"),
    ({"attributes": {"customer_id": ["a", "a", "b", "c", "d"], "industry": ["x"] * 5}}, "repeats ids"),
    ({"attributes": {"value": [0.5, 1.5, 2.5, 3.5, 4.5]}}, "fractional"),
    ({"attributes": 42}, "mapping or data frame"),
    ({"tenure": [1.0, -1.0, 2.0, 3.0, 4.0]}, "tenure"),
    ({"tenure": [1.0, 2.0, 3.0, 4.0, 5.0], "tenure_bands": (3.0, 2.0)}, "tenure_bands"),
    ({"tenure": [1.0, 2.0, 3.0, 4.0, 5.0], "tenure_bands": ()}, "tenure_bands"),
    ({"attributes": {"industry": ["x"] * 5}, "as_of": _dt.datetime(2025, 1, 1)}, "as_of"),
])
def test_bad_inputs_are_typed_errors(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(InvalidInputError, match=match):
        portraits(_assignment(), **kwargs)  # type: ignore[arg-type]


def test_bad_queries_are_typed_errors() -> None:
    p = portraits(_assignment(), {"industry": ["x", "y", "x", "y", "y"]})
    for call in (lambda: p.share("gold", "industry", "x"), lambda: p.share("key", "region", "x"),
                 lambda: p.share("key", "industry", "z"), lambda: p.top("key", "industry", 0),
                 lambda: format_portraits(p, lang="fr"), lambda: format_portraits(p, max_categories=0),
                 lambda: portraits("tiers", {"industry": ["x"]})):  # type: ignore[arg-type]
        with pytest.raises(InvalidInputError):
            call()


def _b2b_portraits() -> Portraits:
    """FiveA with fixed value thresholds (10k, 30k, 80k, 200k) on the bundled B2B sample, by industry."""
    import importlib.resources

    from clvkit._csvio import read_rows
    from clvkit.tiering import FiveA

    rows = read_rows(importlib.resources.files("clvkit.data").joinpath("b2b_sample/customers.csv"), where="sample")
    header, body = rows[0], rows[1:]
    cols = {name: [r[j] for r in body] for j, name in enumerate(header)}
    policy = FiveA(cut={"kind": "thresholds", "thresholds": [10_000, 30_000, 80_000, 200_000]},
                   labels=("A5", "A4", "A3", "A2", "A1"))
    a = policy.assign(value=[float(v) for v in cols["value"]], customer_id=cols["customer_id"])
    return portraits(a, {"customer_id": cols["customer_id"], "industry": cols["industry"]})


def test_b2b_sample_counts_match_the_file() -> None:
    p = _b2b_portraits()
    assert p.n_customers == 60
    # Independent count from the file: customers per industry among those with value >= 200,000 (A1).
    import csv
    import importlib.resources

    with importlib.resources.files("clvkit.data").joinpath("b2b_sample/customers.csv").open(encoding="utf-8") as fh:
        top = [r["industry"] for r in csv.DictReader(fh) if float(r["value"]) >= 200_000]
    for industry in set(top):
        assert p.share("A1", "industry", industry) == pytest.approx(top.count(industry) / len(top))


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_b2b_portraits_golden(lang: str) -> None:
    from _golden import check_golden

    check_golden(f"portraits_b2b.{lang}.txt", format_portraits(_b2b_portraits(), lang=lang))


def test_html_escapes_user_text_and_is_well_formed() -> None:
    from html.parser import HTMLParser

    class Tags(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.stack: list[str] = []
            self.tags: set[str] = set()

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            self.stack.append(tag)
            self.tags.add(tag)

        def handle_endtag(self, tag: str) -> None:
            assert self.stack.pop() == tag

    p = portraits(_assignment(), {"industry": ["<script>x</script>", "a&b", "a&b", "y", "y"]})
    html = p._repr_html_()
    parser = Tags()
    parser.feed(html)
    assert parser.stack == [] and "script" not in parser.tags
    assert "&lt;script&gt;" in html and "a&amp;b" in html


def test_polars_frame_has_the_same_rows() -> None:
    pl = pytest.importorskip("polars")
    p = portraits(_assignment(), {"industry": ["x", "y", "x", "y", "y"]})
    frame = p.to_frame("polars")
    assert isinstance(frame, pl.DataFrame) and frame.height == len(p.to_records()) == 4


def test_whole_numbers_are_categories_as_written() -> None:
    p = portraits(_assignment(), {"grade": [2.0, 1.0, 2.0, np.nan, 1.0]})
    assert p.categories["grade"] == ("1", "2", "unknown")


@settings(max_examples=60, deadline=None)
@given(data=st.data(), n=st.integers(1, 30))
def test_shares_sum_to_one_and_do_not_depend_on_row_order(data: st.DataObject, n: int) -> None:
    values = data.draw(st.lists(st.floats(0, 100), min_size=n, max_size=n))
    cats = data.draw(st.lists(st.sampled_from(["x", "y", "z", "", None]), min_size=n, max_size=n))
    ids = [f"c{i}" for i in range(n)]
    a = KeyCustomers(share=0.3).assign(value=values, customer_id=ids)
    p = portraits(a, {"customer_id": ids, "industry": cats})
    perm = data.draw(st.permutations(range(n)))
    q = portraits(a, {"customer_id": [ids[i] for i in perm], "industry": [cats[i] for i in perm]})
    assert p.categories == q.categories
    assert np.array_equal(p.category_counts["industry"], q.category_counts["industry"])
    rows = p.shares["industry"].sum(axis=1)
    assert np.allclose(rows[p.counts > 0], 1.0) and np.all(rows[p.counts == 0] == 0.0)
    assert p.category_counts["industry"].sum() == n
    assert np.isclose(p.overall["industry"].sum(), 1.0)


@pytest.mark.parametrize("column", [[[1, 2], [3], [4], [5], [6]], np.array([[1, 2]] * 5), "abcde"])
def test_columns_that_are_not_one_value_per_customer_are_typed_errors(column: object) -> None:
    with pytest.raises(InvalidInputError):
        portraits(_assignment(), {"industry": column})
