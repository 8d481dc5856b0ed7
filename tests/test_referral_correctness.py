"""ReferralGraph: worked examples by hand, cycle breaking, id matching, the CLI readers."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from clvkit import InvalidInputError
from clvkit.domain import Customer
from clvkit.valuation import AttributionRule, ReferralGraph, read_referrals, synthetic_referrals

#   A -> B -> D -> F          values: A 100, B 60, C 30, D 10, E 5, F 1
#   A -> C -> E
PAIRS = (["A", "A", "B", "C", "D"], ["B", "C", "D", "E", "F"])
IDS = ["A", "B", "C", "D", "E", "F"]
VALUES = [100.0, 60.0, 30.0, 10.0, 5.0, 1.0]


def test_one_level_by_hand() -> None:
    g = ReferralGraph.from_pairs(*PAIRS)
    r = g.attribute(VALUES, IDS)
    assert r.indirect.tolist() == [90.0, 10.0, 5.0, 1.0, 0.0, 0.0]
    assert r.referrals.tolist() == [2, 1, 1, 1, 0, 0]
    assert r.reach.tolist() == [2, 1, 1, 1, 0, 0]
    assert r.level_value.tolist() == [106.0]  # every referred customer once: 60+30+10+5+1


def test_several_levels_with_decay_by_hand() -> None:
    g = ReferralGraph.from_pairs(*PAIRS)
    r = g.attribute(VALUES, IDS, AttributionRule(max_levels=3, decay=0.5))
    # A: level 1 60+30, level 2 0.5*(10+5), level 3 0.25*1 = 97.75
    # B: 10 + 0.5*1 = 10.5; C: 5; D: 1
    assert r.indirect.tolist() == [97.75, 10.5, 5.0, 1.0, 0.0, 0.0]
    assert r.reach.tolist() == [5, 2, 1, 1, 0, 0]
    assert r.level_value.tolist() == [106.0, 16.0, 1.0]
    assert r.level_credit.tolist() == [106.0, 8.0, 0.25]
    two = g.attribute(VALUES, IDS, AttributionRule(max_levels=2, decay=0.5, share=0.5))
    assert two.indirect.tolist() == [0.5 * 90 + 0.25 * 15, 0.5 * 10 + 0.25 * 1, 2.5, 0.5, 0.0, 0.0]
    unlimited = g.attribute(VALUES, IDS, AttributionRule(max_levels=None, decay=1.0))
    assert unlimited.indirect.tolist() == [106.0, 11.0, 5.0, 1.0, 0.0, 0.0]  # whole subtree


def test_values_matched_by_id_in_any_order_and_extra_customers() -> None:
    g = ReferralGraph.from_pairs(*PAIRS)
    order = [3, 0, 5, 2, 4, 1]
    ids = [IDS[i] for i in order] + ["Z"]  # Z is not in the graph
    vals = [VALUES[i] for i in order] + [1000.0]
    r = g.attribute(vals, ids)
    expected = dict(zip(IDS, [90.0, 10.0, 5.0, 1.0, 0.0, 0.0], strict=True)) | {"Z": 0.0}
    assert r.indirect.tolist() == [expected[i] for i in ids]
    assert r.customer_id is not None and r.customer_id.tolist() == ids


def test_values_in_graph_order_without_ids() -> None:
    g = ReferralGraph.from_pairs(*PAIRS)
    assert g.ids.tolist() == IDS
    assert g.indirect_value(VALUES).tolist() == [90.0, 10.0, 5.0, 1.0, 0.0, 0.0]


def test_integer_and_text_ids_match() -> None:
    g = ReferralGraph.from_pairs(np.array([1, 1]), np.array([2, 3]))
    assert g.indirect_value([10.0, 20.0, 30.0], ["1", "2", "3"]).tolist() == [50.0, 0.0, 0.0]
    g2 = ReferralGraph.from_pairs(["1", "1"], ["2", "3"])
    assert g2.indirect_value([10.0, 20.0, 30.0], np.array([1, 2, 3])).tolist() == [50.0, 0.0, 0.0]
    g3 = ReferralGraph.from_pairs(np.array([1.0, 1.0]), np.array([2.0, 3.0]))  # whole floats are ids
    assert g3.ids.dtype == np.int64


def test_customer_ids_make_isolated_customers_nodes() -> None:
    g = ReferralGraph.from_pairs(["A"], ["B"], customer_ids=["A", "B", "C"])
    assert g.n_customers == 3 and g.n_referrals == 1
    assert g.pairs()[0].tolist() == ["A"] and g.pairs()[1].tolist() == ["B"]
    assert "3 customers, 1 referrals" in repr(g)


def test_from_customers_uses_referred_by() -> None:
    cs = [Customer(customer_id="A", kind="consumer"), Customer(customer_id="B", kind="consumer", referred_by="A"),
          Customer(customer_id="C", kind="consumer", referred_by="B")]
    g = ReferralGraph.from_customers(cs)
    assert g.indirect_value([1.0, 2.0, 3.0], ["A", "B", "C"]).tolist() == [2.0, 3.0, 0.0]


def test_from_frame() -> None:
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({"who": ["A", "A"], "whom": ["B", "C"], "when": pd.to_datetime(["2024-01-01", "2024-02-01"])})
    g = ReferralGraph.from_frame(df, referrer="who", referred="whom", time="when")
    assert g.n_referrals == 2 and g.time is not None and g.time.dtype.kind == "M"


# ---------------------------------------------------------------------------------------------- cycles
def test_cycle_breaks_at_the_latest_referral() -> None:
    # A -> B (t=1), B -> C (t=3), C -> A (t=2): the cycle was closed by B -> C at t=3
    g = ReferralGraph.from_pairs(["A", "B", "C"], ["B", "C", "A"], [1.0, 3.0, 2.0], on_cycle="break")
    assert g.broken == (("B", "C"),)
    assert g.n_referrals == 2
    # C -> A -> B remain
    assert g.indirect_value([1.0, 2.0, 4.0], ["A", "B", "C"]).tolist() == [2.0, 0.0, 1.0]
    assert g.time is not None and np.isnan(g.time[2])


def test_cycle_without_times_drops_the_referral_of_the_largest_id() -> None:
    g = ReferralGraph.from_pairs(["A", "B", "C"], ["B", "C", "A"], on_cycle="break")
    assert g.broken == (("B", "C"),)  # C is the largest id: its referrer B loses the edge


def test_several_cycles_with_trees_hanging_off() -> None:
    # cycle 1: 1 -> 2 -> 1 ; cycle 2: 5 -> 6 -> 7 -> 5 ; trees: 2 -> 3 -> 4, 7 -> 8, 9 -> 10 (acyclic part)
    referrer = [1, 2, 2, 3, 5, 6, 7, 7, 9]
    referred = [2, 1, 3, 4, 6, 7, 5, 8, 10]
    with pytest.raises(InvalidInputError) as err:
        ReferralGraph.from_pairs(referrer, referred)
    text = str(err.value)
    assert "2 cycles (5 customers)" in text
    assert "1 -> 2 -> 1" in text and "5 -> 6 -> 7 -> 5" in text
    g = ReferralGraph.from_pairs(referrer, referred, on_cycle="break")
    assert g.broken == ((1, 2), (6, 7))
    assert g.n_referrals == len(referrer) - 2


def test_datetime_times_break_cycles() -> None:
    t = np.array(["2024-03-01", "2024-01-01", "2024-02-01"], dtype="datetime64[D]")
    g = ReferralGraph.from_pairs(["A", "B", "C"], ["B", "C", "A"], t, on_cycle="break")
    assert g.broken == (("A", "B"),)


# ---------------------------------------------------------------------------------------------- CLI helpers
def test_synthetic_referrals_are_labelled_acyclic_and_reproducible() -> None:
    ids = np.arange(1, 2358)
    g1 = synthetic_referrals(ids, seed=3)
    g2 = synthetic_referrals(ids, seed=3)
    assert g1.label.startswith("SYNTHETIC") and "seed 3" in g1.label
    assert np.array_equal(g1.parent, g2.parent)
    assert g1.broken == ()
    child = np.flatnonzero(g1.parent >= 0)
    assert np.all(g1.parent[child] < child)  # referrers were acquired earlier: no cycle possible
    counts = np.bincount(g1.parent[child], minlength=g1.n_customers)
    assert counts.max() >= 5 * max(counts[counts > 0].mean(), 1.0)  # a few customers refer many
    assert not np.array_equal(synthetic_referrals(ids, seed=4).parent, g1.parent)


def test_read_referrals_csv(tmp_path: Path) -> None:
    p = tmp_path / "refs.csv"
    p.write_text("Referrer,referred,time,note\n1,2,2024-01-05,x\n1,3,2024-01-06T10:00:00+02:00,y\n\n3,4,2024-02-01Z,z\n")
    g = read_referrals(p, customer_ids=np.array([1, 2, 3, 4, 5]))
    assert g.ids.dtype == np.int64 and g.n_referrals == 3 and g.label == "refs.csv"
    assert g.time is not None and g.time.dtype == np.dtype("datetime64[us]")
    gz = tmp_path / "refs.csv.gz"
    with gzip.open(gz, "wt") as fh:
        fh.write("referrer;referred\nC-1;C-2\n")
    assert read_referrals(gz, delimiter=";").pairs()[1].tolist() == ["C-2"]


def test_read_referrals_errors_name_lines(tmp_path: Path) -> None:
    p = tmp_path / "bad.csv"
    p.write_text("referrer,time\n1,2\n")
    with pytest.raises(InvalidInputError, match="'referred': is not a column"):
        read_referrals(p)
    p.write_text("referrer,referred,time\n1,2,yesterday\n1,3,2024-01-01\n")
    with pytest.raises(InvalidInputError, match=r"'time'.*first at line 2"):
        read_referrals(p)
    p.write_text("referrer,referred\n1,2\n2\n")
    with pytest.raises(InvalidInputError, match=r"fewer than 2 fields.*line 3"):
        read_referrals(p)
    p.write_text("referrer,referred\n1,1\n")
    with pytest.raises(InvalidInputError, match=r"(?s)rows counted from 0 after the header.*self-referral"):
        read_referrals(p)
