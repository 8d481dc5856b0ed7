"""Properties of the binding measures, on random small customer bases drawn by Hypothesis.

- the score and every sub-score lie in [0, 100];
- adding a relationship at an uncovered level never lowers any customer's score;
- concentration measures (top share, Herfindahl index) lie in [1/n, 1] for n holding employees;
- value at risk summed over employees equals the value exposed;
- every result is invariant to the order of the rows of every table.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from clvkit.binding import BindingData, IndustryTieKind, measure_binding, value_at_risk

AS_OF = np.datetime64("2024-07-01T00:00:00", "s")
DAY = 86400


def _times(offsets_days: list[float]) -> np.ndarray[Any, Any]:
    """``as_of`` minus the offsets (days; negative = after as_of), as datetime64[s]."""
    return AS_OF - np.round(np.asarray(offsets_days, dtype=np.float64) * DAY).astype("timedelta64[s]")


@st.composite
def customer_bases(draw: st.DrawFn) -> dict[str, dict[str, Any]]:
    n_e = draw(st.integers(1, 5))
    n_c = draw(st.integers(1, 4))
    emp = [f"E{i}" for i in range(n_e)]
    cust = [f"C{i}" for i in range(n_c)]
    left = draw(st.lists(st.one_of(st.none(), st.floats(-300, 300)), min_size=n_e, max_size=n_e))
    employees = {
        "employee_id": emp,
        "level": draw(st.lists(st.integers(1, 5), min_size=n_e, max_size=n_e)),
        "team": draw(st.lists(st.sampled_from(["A", "B", None]), min_size=n_e, max_size=n_e)),
        "active": draw(st.lists(st.booleans(), min_size=n_e, max_size=n_e)),
        "left_at": [None if x is None else _times([x])[0] for x in left],
    }
    n_k = draw(st.integers(1, 8))
    con_cust = draw(st.lists(st.integers(0, n_c - 1), min_size=n_k, max_size=n_k))
    contacts = {"contact_id": [f"P{i}" for i in range(n_k)], "customer_id": [cust[i] for i in con_cust],
                "org_level": draw(st.lists(st.integers(1, 4), min_size=n_k, max_size=n_k)),
                "is_successor": draw(st.lists(st.booleans(), min_size=n_k, max_size=n_k))}
    n_r = draw(st.integers(0, 12))
    starts = draw(st.lists(st.floats(-30, 1000), min_size=n_r, max_size=n_r))
    lengths = draw(st.lists(st.one_of(st.none(), st.floats(0, 1000)), min_size=n_r, max_size=n_r))
    relationships = {
        "employee_id": [emp[i] for i in draw(st.lists(st.integers(0, n_e - 1), min_size=n_r, max_size=n_r))],
        "contact_id": [f"P{i}" for i in draw(st.lists(st.integers(0, n_k - 1), min_size=n_r, max_size=n_r))],
        "strength": draw(st.lists(st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.7, 1.0]) | st.floats(0, 1),
                                  min_size=n_r, max_size=n_r)),
        "start": _times(starts),
        "end": [None if d is None else _times([s - d])[0] for s, d in zip(starts, lengths, strict=True)],
    }
    n_t = draw(st.integers(0, 30))
    tp_cust = draw(st.lists(st.integers(0, n_c - 1), min_size=n_t, max_size=n_t))
    touchpoints = {
        "customer_id": [cust[i] for i in tp_cust],
        "employee_id": [emp[i] for i in draw(st.lists(st.integers(0, n_e - 1), min_size=n_t, max_size=n_t))],
        "timestamp": _times(draw(st.lists(st.floats(0, 800), min_size=n_t, max_size=n_t))),
        "functions": draw(st.lists(st.integers(1, 31), min_size=n_t, max_size=n_t)),
    }
    n_tie = draw(st.integers(0, 3))
    ties = {"customer_id": [cust[i] for i in draw(st.lists(st.integers(0, n_c - 1), min_size=n_tie,
                                                             max_size=n_tie))],
            "kind": draw(st.lists(st.sampled_from([k.value for k in IndustryTieKind]), min_size=n_tie,
                                  max_size=n_tie))}
    n_p = draw(st.integers(0, 3))
    p_start = draw(st.lists(st.floats(-30, 500), min_size=n_p, max_size=n_p))
    projects = {"project_id": [f"PR{i}" for i in range(n_p)],
                "customer_id": [cust[i] for i in draw(st.lists(st.integers(0, n_c - 1), min_size=n_p,
                                                                max_size=n_p))],
                "start": _times(p_start),
                "end": [None if d is None else _times([s - d])[0] for s, d in
                        zip(p_start, draw(st.lists(st.one_of(st.none(), st.floats(0, 300)), min_size=n_p,
                                                   max_size=n_p)), strict=True)]}
    n_m = draw(st.integers(0, 6)) if n_p else 0
    members = {"project_id": [f"PR{i}" for i in draw(st.lists(st.integers(0, n_p - 1), min_size=n_m,
                                                               max_size=n_m))] if n_p else [],
               "employee_id": [emp[i] for i in draw(st.lists(st.integers(0, n_e - 1), min_size=n_m,
                                                             max_size=n_m))]}
    return {"employees": employees, "contacts": contacts, "relationships": relationships,
            "touchpoints": touchpoints, "industry_ties": ties, "projects": projects, "project_members": members,
            "customers": {"customer_id": cust}}


def build(tables: dict[str, dict[str, Any]]) -> BindingData:
    return BindingData(as_of=AS_OF, **tables)


PROPS = settings(max_examples=100, deadline=None)


@PROPS
@given(customer_bases())
def test_scores_lie_in_0_100(tables: dict[str, dict[str, Any]]) -> None:
    m = measure_binding(build(tables))
    assert np.all((m.score >= 0) & (m.score <= 100))
    subs = m.sub_scores()
    assert np.all((subs >= 0) & (subs <= 100 + 1e-9))
    assert np.all(np.isfinite(m.score))


@PROPS
@given(customer_bases(), st.data())
def test_adding_a_relationship_at_an_uncovered_level_never_lowers_the_score(
        tables: dict[str, dict[str, Any]], data: st.DataObject) -> None:
    before = measure_binding(build(tables))
    k = data.draw(st.integers(0, len(before) - 1))
    uncovered = [lv + 1 for lv in range(4) if not before.covered[k, lv]]
    assume(uncovered)
    level = data.draw(st.sampled_from(uncovered))
    employee = data.draw(st.sampled_from(tables["employees"]["employee_id"]))
    strength = data.draw(st.floats(0.01, 1.0))
    con, rel = dict(tables["contacts"]), dict(tables["relationships"])
    con.update(contact_id=[*con["contact_id"], "PNEW"], customer_id=[*con["customer_id"], before.customer_id[k]],
               org_level=[*con["org_level"], level], is_successor=[*con["is_successor"], False])
    rel.update(employee_id=[*rel["employee_id"], employee], contact_id=[*rel["contact_id"], "PNEW"],
               strength=[*rel["strength"], strength], start=np.append(rel["start"], _times([10.0])),
               end=[*rel["end"], None])
    after = measure_binding(build({**tables, "contacts": con, "relationships": rel}))
    assert np.all(after.score >= before.score - 1e-9)
    assert np.all(after.sub_scores() >= before.sub_scores() - 1e-9)


@PROPS
@given(customer_bases())
def test_concentration_lies_in_one_over_n_to_one(tables: dict[str, dict[str, Any]]) -> None:
    m = measure_binding(build(tables))
    held = m.n_employees >= 1
    inv_n = 1.0 / np.maximum(m.n_employees, 1)
    eps = 1e-12
    assert np.all(m.top_share[held] >= inv_n[held] - eps) and np.all(m.top_share <= 1 + eps)
    assert np.all(m.hhi[held] >= inv_n[held] - eps) and np.all(m.hhi <= m.top_share + eps)
    for top, hhi in ((m.top_share_strength, m.hhi_strength), (m.top_share_touchpoints, m.hhi_touchpoints)):
        some = hhi > 0
        assert np.all(hhi[some] >= inv_n[some] - eps) and np.all(hhi <= top + eps) and np.all(top <= 1 + eps)
    assert np.all(m.top_share[~held] == 0) and np.all(m.hhi[~held] == 0)
    assert np.all(m.single_threaded <= held)
    # a held customer's holding shares sum to 1
    sums = np.asarray(m.holdings().sum(axis=1)).ravel()
    np.testing.assert_allclose(sums[held], 1.0, rtol=0, atol=1e-12)


@PROPS
@given(customer_bases(), st.data())
def test_value_at_risk_sums_to_the_value_exposed(tables: dict[str, dict[str, Any]], data: st.DataObject) -> None:
    m = measure_binding(build(tables))
    values = np.asarray(data.draw(st.lists(st.floats(0, 1e7), min_size=len(m), max_size=len(m))))
    risk = value_at_risk(m, values)
    assert abs(risk.value_at_risk.sum() - risk.value_exposed) <= 1e-9 * max(1.0, values.sum())
    assert abs(risk.value_exposed + risk.value_unheld - values.sum()) <= 1e-9 * max(1.0, values.sum())
    # sole value is the full value of the customers single-threaded on an employee (not share-weighted)
    assert abs(risk.sole_value.sum() - values[m.single_threaded].sum()) <= 1e-9 * max(1.0, values.sum())
    assert np.all(np.diff(risk.value_at_risk) <= 0)  # ranked


@PROPS
@given(customer_bases(), st.randoms(use_true_random=False))
def test_results_are_invariant_to_row_order(tables: dict[str, dict[str, Any]], rnd: Any) -> None:
    shuffled: dict[str, dict[str, Any]] = {}
    for name, cols in tables.items():
        n = len(next(iter(cols.values())))
        order = list(range(n))
        if name != "customers":  # the customers table fixes the output order on purpose
            rnd.shuffle(order)
        shuffled[name] = {k: [list(v)[i] for i in order] if not isinstance(v, np.ndarray) else v[order]
                          for k, v in cols.items()}
    a, b = measure_binding(build(tables)), measure_binding(build(shuffled))
    ca, cb = a.to_columns(), b.to_columns()
    for key in ca:
        if ca[key].dtype.kind == "f":
            np.testing.assert_allclose(ca[key], cb[key], rtol=1e-12, atol=1e-12, err_msg=key)
        else:
            assert ca[key].tolist() == cb[key].tolist(), key
    values = np.arange(1.0, len(a) + 1.0)
    ra, rb = value_at_risk(a, values), value_at_risk(b, values)
    np.testing.assert_allclose(
        [dict(zip(ra.employee_id.tolist(), ra.value_at_risk.tolist(), strict=True))[e] for e in rb.employee_id],
        rb.value_at_risk, rtol=1e-12, atol=1e-9)
