"""Binding measures: worked examples computed by hand, and the vectorised kernels against a slow reference.

The hand computations use the default :class:`BindingConfig`: score weights hierarchy 0.30, breadth 0.15,
spread 0.15, presence 0.20, industry 0.10, project 0.10; level weights 1, 1, 1, 1 and successor 0.5
(total 4.5); target employees 3, backup strength 1, touchpoints 6 per 90 days, half-life 30 days.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from typing import Any

import numpy as np
import pytest

from clvkit.binding import (
    BindingConfig,
    BindingData,
    measure_binding,
    simulate_handover,
    team_report,
    value_at_risk,
)
from clvkit.binding._sample import generate_b2b
from clvkit.domain import AccountManagerLevel, OrgLevel

AS_OF = np.datetime64("2024-07-01T00:00:00")
DAY = np.timedelta64(1, "D")


def _touchpoints(customer: str, employees: list[str], ages_days: list[int]) -> dict[str, Any]:
    return {"customer_id": [customer] * len(ages_days), "employee_id": employees,
            "timestamp": np.array([AS_OF - a * DAY for a in ages_days])}


# ---------------------------------------------------------------------------------------------- worked examples
def single_threaded_account() -> BindingData:
    """One account manager holds the decision maker (0.9) and a user (0.6); 13 monthly touchpoints."""
    ages = list(range(0, 361, 30))
    return BindingData(
        employees={"employee_id": ["E1"], "level": ["ACCOUNT_MANAGER"]},
        contacts={"contact_id": ["P1", "P2"], "customer_id": ["SOLO", "SOLO"], "org_level": ["DECISION_MAKER", "USER"]},
        relationships={"employee_id": ["E1", "E1"], "contact_id": ["P1", "P2"], "strength": [0.9, 0.6],
                       "start": ["2023-01-01", "2023-01-01"]},
        touchpoints=_touchpoints("SOLO", ["E1"] * len(ages), ages),
        as_of=AS_OF,
    )


def test_single_threaded_account_by_hand() -> None:
    m = measure_binding(single_threaded_account())
    assert m.n_employees.tolist() == [1]
    assert m.top_share.tolist() == [1.0] and m.hhi.tolist() == [1.0]
    assert m.single_threaded.tolist() == [True]
    assert m.covered[0].tolist() == [True, False, True, False]  # user, manager, decision maker, executive
    assert m.matched[0].tolist() == [True, False, True, False]  # AM >= SALES_REP (user), AM >= AM (DM)
    # 13 touchpoints 30 days apart: 12 equal gaps (CV 0); ages 0, 30, 60 fall in the last 90 days
    assert m.gap_cv.tolist() == [0.0] and m.touchpoints_recent.tolist() == [3] and m.days_since_last.tolist() == [0.0]
    assert m.touchpoints_window.tolist() == [13]
    assert m.backup_strength.tolist() == [0.0] and m.total_strength[0] == pytest.approx(1.5)
    # hierarchy (1 + 1) / 4.5; breadth 1/3; spread 0 (no backup, one employee in contact);
    # presence (recency 1 + frequency 3/6 + regularity 1/(1+0)) / 3 = 5/6
    expected = {"hierarchy": 200 / 4.5, "breadth": 100 / 3, "spread": 0.0, "presence": 250 / 3,
                "industry": 0.0, "project": 0.0}
    for name, value in expected.items():
        assert getattr(m, f"{name}_score")[0] == pytest.approx(value, abs=1e-12), name
    # 0.30 * 4/9 + 0.15 * 1/3 + 0.20 * 5/6 = 0.35
    assert m.score[0] == pytest.approx(35.0, abs=1e-12)
    risk = value_at_risk(m, [1000.0])
    assert risk.value_at_risk.tolist() == [1000.0] and risk.sole_value.tolist() == [1000.0]


def fully_covered_account() -> BindingData:
    """Every org level and the successor reached by a matching level; three employees share the contact."""
    ages = list(range(0, 78, 7))  # 12 touchpoints a week apart, round robin over the three employees
    return BindingData(
        employees={"employee_id": ["E1", "E2", "E3"], "level": ["SALES_REP", "ACCOUNT_MANAGER", "PERSONAL_ADVISER"],
                   "team": ["T", "T", "T"]},
        contacts={"contact_id": ["P1", "P2", "P3", "P4", "P5"], "customer_id": ["FULL"] * 5,
                  "org_level": ["USER", "MANAGER", "DECISION_MAKER", "EXECUTIVE", "MANAGER"],
                  "is_successor": [False, False, False, False, True]},
        relationships={"employee_id": ["E1", "E2", "E2", "E3", "E3"], "contact_id": ["P1", "P2", "P3", "P4", "P5"],
                       "strength": [0.5] * 5, "start": ["2022-05-01"] * 5},
        touchpoints=_touchpoints("FULL", ["E1", "E2", "E3"] * 4, ages),
        industry_ties={"customer_id": ["FULL"], "kind": ["standard_supplier"], "start": ["2020-01-01"]},
        projects={"project_id": ["PR1"], "customer_id": ["FULL"], "start": ["2024-01-01"]},
        project_members={"project_id": ["PR1"] * 3, "employee_id": ["E1", "E2", "E3"]},
        as_of=AS_OF,
    )


def test_fully_covered_account_by_hand() -> None:
    m = measure_binding(fully_covered_account())
    assert m.covered[0].all() and m.matched[0].all() and m.successor_covered[0]
    assert m.n_employees.tolist() == [3] and not m.single_threaded[0]
    # strength 0.5 / 1.0 / 1.0 of 2.5 -> backup 1.5; touchpoints 4 / 4 / 4 -> n_eff 3
    assert m.backup_strength[0] == pytest.approx(1.5)
    assert m.hhi_touchpoints[0] == pytest.approx(1 / 3)
    assert m.hhi_strength[0] == pytest.approx(0.2**2 + 2 * 0.4**2)
    # holding = 0.5 * strength share + 0.5 * touchpoint share: 0.1 + 1/6 and twice 0.2 + 1/6
    holding = m.holdings().toarray()[0]
    assert holding == pytest.approx([0.1 + 1 / 6, 0.2 + 1 / 6, 0.2 + 1 / 6])
    assert m.top_share[0] == pytest.approx(0.2 + 1 / 6)
    assert m.hhi[0] == pytest.approx((0.1 + 1 / 6) ** 2 + 2 * (0.2 + 1 / 6) ** 2)
    assert m.top_employee.tolist() == ["E2"]  # E2 and E3 tie; the smaller id wins
    assert (m.industry_ties[0], m.active_projects[0], m.team_size[0]) == (1, 1, 3)
    # every sub-score is full: (4 + 0.5) / 4.5, 3/3, (1 + 1) / 2, (1 + 1 + 1) / 3, 2/2, (1 + 1) / 2
    assert m.sub_scores()[0] == pytest.approx([100.0] * 6)
    assert m.score[0] == pytest.approx(100.0)
    risk = value_at_risk(m, [3000.0])
    assert risk.employee_id.tolist() == ["E2", "E3", "E1"]
    assert risk.value_at_risk == pytest.approx([1100.0, 1100.0, 800.0])
    assert risk.sole_value.tolist() == [0.0, 0.0, 0.0]


def handover_account() -> BindingData:
    return BindingData(
        employees={"employee_id": ["E1", "E2"], "level": ["ACCOUNT_MANAGER"] * 2, "team": ["North"] * 2},
        contacts={"contact_id": ["P1", "P2"], "customer_id": ["C"] * 2, "org_level": ["DECISION_MAKER", "USER"]},
        relationships={"employee_id": ["E1", "E1", "E2"], "contact_id": ["P1", "P2", "P2"],
                       "strength": [0.8, 0.4, 0.4], "start": ["2023-01-01"] * 3},
        touchpoints=[], as_of=AS_OF,
    )


def test_handover_by_hand() -> None:
    h = simulate_handover(handover_account(), "E1", values=[1000.0])
    b, a = h.before, h.after
    # before: strength E1 1.2, E2 0.4 -> shares 0.75 / 0.25 (below the 0.8 single-thread share); backup 0.4
    assert b.top_share[0] == pytest.approx(0.75) and not b.single_threaded[0]
    # 0.30 * 2/4.5 + 0.15 * 2/3 + 0.15 * (0.5 * 0.4)
    assert b.score[0] == pytest.approx(100 * (0.3 * 2 / 4.5 + 0.15 * 2 / 3 + 0.15 * 0.2))
    # E2, the other holder, receives both ties at half strength: 0.8 -> 0.4 and 0.4 -> 0.2
    assert h.moved["receiver"].tolist() == ["E2", "E2"]
    assert h.moved["strength_after"] == pytest.approx([0.4, 0.2])
    assert h.n_lost == 0 and h.affected.tolist() == [True]
    # after: E2 alone (strength 1.0), still matched at both levels; backup 0
    assert a.n_employees.tolist() == [1] and a.single_threaded[0]
    assert a.covered[0].tolist() == [True, False, True, False] and a.matched[0].tolist() == [True, False, True, False]
    assert a.score[0] == pytest.approx(100 * (0.3 * 2 / 4.5 + 0.15 / 3))
    assert h.score_change[0] == pytest.approx(-100 * (0.15 / 3 + 0.15 * 0.2))
    assert h.risk_before is not None and h.risk_after is not None
    assert dict(zip(h.risk_before.employee_id.tolist(), h.risk_before.value_at_risk.tolist(), strict=True)) == \
        pytest.approx({"E1": 750.0, "E2": 250.0})
    assert dict(zip(h.risk_after.employee_id.tolist(), h.risk_after.value_at_risk.tolist(), strict=True)) == \
        pytest.approx({"E1": 0.0, "E2": 1000.0})


def test_handover_to_a_named_colleague_and_lost_relationships() -> None:
    data = handover_account()
    h = simulate_handover(data, "E2", to="E1", strength_kept=1.0)
    assert h.moved["receiver"].tolist() == ["E1"] and h.moved["strength_after"].tolist() == [0.4]
    assert h.after.total_strength[0] == pytest.approx(1.6)
    # a lone employee without a team: nobody can take over, the ties are lost and the customer is unheld
    lone = BindingData(employees={"employee_id": ["E1"], "level": [3]},
                       contacts={"contact_id": ["P1"], "customer_id": ["C"], "org_level": [3]},
                       relationships={"employee_id": ["E1"], "contact_id": ["P1"], "strength": [0.7],
                                      "start": ["2023-01-01"]},
                       touchpoints=[], as_of=AS_OF)
    h = simulate_handover(lone, "E1", values=[500.0])
    assert h.n_lost == 1 and h.moved["receiver"].tolist() == [None]
    assert h.after.n_employees.tolist() == [0] and h.after.score.tolist() == [0.0]
    assert h.risk_after is not None and h.risk_after.value_exposed == 0.0 and h.risk_after.value_unheld == 500.0


def test_handover_falls_back_to_the_most_senior_team_mate() -> None:
    data = BindingData(
        employees={"employee_id": ["E1", "E2", "E3", "E4"], "level": [3, 2, 4, 5], "team": ["N", "N", "N", "S"]},
        contacts={"contact_id": ["P1"], "customer_id": ["C"], "org_level": [3]},
        relationships={"employee_id": ["E1"], "contact_id": ["P1"], "strength": [0.6], "start": ["2023-01-01"]},
        touchpoints=[], as_of=AS_OF)
    h = simulate_handover(data, "E1")
    assert h.moved["receiver"].tolist() == ["E3"]  # personal adviser of the same team; E4 is in another team


def test_team_report_shared_and_solo_value() -> None:
    data = BindingData(
        employees={"employee_id": ["E1", "E2", "E3"], "level": [3, 3, 3], "team": ["N", "N", "S"]},
        contacts={"contact_id": ["P1", "P2", "P3", "P4"], "customer_id": ["A", "A", "B", "C"],
                  "org_level": [3, 1, 3, 3]},
        relationships={"employee_id": ["E1", "E2", "E2", "E3"], "contact_id": ["P1", "P2", "P3", "P4"],
                       "strength": [0.5, 0.5, 0.9, 0.9], "start": ["2023-01-01"] * 4},
        touchpoints=[], as_of=AS_OF)
    m = measure_binding(data)
    r = team_report(m, {"A": 600.0, "B": 300.0, "C": 100.0}, tiers=np.array([1, 1, 2]), key_tiers=[1])
    emp = {k: dict(zip(r.employees["employee_id"].tolist(), v.tolist(), strict=True)) for k, v in r.employees.items()}
    assert emp["shared_value"] == {"E1": 600.0, "E2": 600.0, "E3": 0.0}
    assert emp["solo_value"] == {"E1": 0.0, "E2": 300.0, "E3": 100.0}
    assert r.key_customers.tolist() == [True, True, False]
    assert r.teams["team"].tolist() == ["N"]  # A (split within N) and B (E2) are key and owned by N
    assert r.teams["key_value"].tolist() == [900.0] and r.teams["single_threaded"].tolist() == [1]
    assert r.teams["multi_employee"].tolist() == [1]


def test_inactive_records_do_not_bind() -> None:
    """Ended or future relationships, departed employees and old touchpoints hold nothing."""
    data = BindingData(
        employees={"employee_id": ["E1", "E2", "E3"], "level": [3, 3, 3], "active": [True, False, True],
                   "left_at": [None, None, "2024-06-01"]},
        contacts={"contact_id": ["P1"], "customer_id": ["C"], "org_level": [3]},
        relationships={"employee_id": ["E1", "E1", "E2", "E3"], "contact_id": ["P1"] * 4,
                       "strength": [0.5, 0.5, 0.9, 0.9], "start": ["2020-01-01", "2024-08-01", "2020-01-01",
                                                                  "2020-01-01"],
                       "end": ["2024-07-01", None, None, None]},  # ends exactly at as_of: no longer active
        touchpoints=_touchpoints("C", ["E1", "E2"], [400, 3]), as_of=AS_OF)
    m = measure_binding(data)
    assert m.n_employees.tolist() == [0] and m.total_strength.tolist() == [0.0] and m.score[0] > 0
    assert m.days_since_last.tolist() == [3.0]  # the departed employee's visit still counts as presence
    assert m.covered[0].sum() == 0 and m.top_employee.tolist() == [None]


# ---------------------------------------------------------------------------------------------- slow reference
def reference(data: BindingData, cfg: BindingConfig) -> dict[str, list[float]]:
    """A plain per-customer implementation of the documented definitions, over the coded rows."""
    c = data._c
    t, day = c.as_of, 86400.0
    present = [(left > t) if math.isfinite(left) else bool(act)
               for left, act in zip(c.employee_left_at.tolist(), c.employee_active.tolist(), strict=True)]
    strength: dict[int, dict[int, float]] = defaultdict(lambda: defaultdict(float))
    levels: dict[int, set[int]] = defaultdict(set)
    matched: dict[int, set[int]] = defaultdict(set)
    req = (0, *cfg.level_match.ranks())
    for i in range(c.rel_employee.shape[0]):
        e, k = int(c.rel_employee[i]), int(c.rel_customer[i])
        if present[e] and c.rel_start[i] <= t < c.rel_end[i] and c.rel_strength[i] > cfg.min_strength:
            strength[k][e] += float(c.rel_strength[i])
            lv = int(c.rel_contact_level[i])
            levels[k].add(lv)
            if c.rel_employee_level[i] >= req[lv]:
                matched[k].add(lv)
    touches: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    times: dict[int, list[float]] = defaultdict(list)
    for i in range(c.tp_time.shape[0]):
        k, e, when = int(c.tp_customer[i]), int(c.tp_employee[i]), float(c.tp_time[i])
        times[k].append(when)
        if present[e] and t - when < cfg.window_days * day:
            touches[k][e] += 1
    out: dict[str, list[float]] = defaultdict(list)
    for k in range(c.n_customers):
        s, n = strength[k], touches[k]
        s_tot, n_tot = sum(s.values()), sum(n.values())
        ws = (cfg.strength_share_weight if n_tot else 1.0) if s_tot else 0.0
        wt = (1 - cfg.strength_share_weight if s_tot else 1.0) if n_tot else 0.0
        holders = {e for e in set(s) | set(n) if s.get(e, 0) > 0 or n.get(e, 0) > 0}
        share = {e: ws * s.get(e, 0) / (s_tot or 1) + wt * n.get(e, 0) / (n_tot or 1) for e in holders}
        out["n_employees"].append(len(holders))
        out["top_share"].append(max(share.values(), default=0.0))
        out["hhi"].append(sum(x * x for x in share.values()))
        out["backup_strength"].append(s_tot - max(s.values(), default=0.0))
        out["levels_covered"].append(len(levels[k]))
        out["levels_matched"].append(len(matched[k]))
        ts = sorted(times[k])
        out["days_since_last"].append((t - ts[-1]) / day if ts else math.inf)
        out["touchpoints_recent"].append(sum(t - x < cfg.frequency_days * day for x in ts))
        days = sorted({math.floor(x / day) for x in ts if t - x < cfg.window_days * day})
        gaps = [b - a for a, b in itertools.pairwise(days)]
        if len(gaps) >= 2:
            mean = sum(gaps) / len(gaps)
            out["gap_cv"].append(math.sqrt(sum((g - mean) ** 2 for g in gaps) / len(gaps)) / mean)
        else:
            out["gap_cv"].append(math.nan)
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_kernels_equal_the_slow_reference(seed: int) -> None:
    t = generate_b2b(40, 9, 800, seed=seed)
    data = BindingData(as_of=np.datetime64("2024-12-31"), **{k: v for k, v in t.items() if k != "customers"})
    cfg = BindingConfig(window_days=200, strength_share_weight=0.3)
    m = measure_binding(data, cfg)
    ref = reference(data, cfg)
    got = {"n_employees": m.n_employees, "top_share": m.top_share, "hhi": m.hhi,
           "backup_strength": m.backup_strength, "levels_covered": m.levels_covered,
           "levels_matched": m.matched.sum(axis=1), "days_since_last": m.days_since_last,
           "touchpoints_recent": m.touchpoints_recent, "gap_cv": m.gap_cv}
    for name, values in got.items():
        np.testing.assert_allclose(values, ref[name], rtol=1e-12, atol=1e-12, err_msg=name)


def test_level_match_rule_is_configurable() -> None:
    data = single_threaded_account()
    strict = BindingConfig(level_match={"user": AccountManagerLevel.STRATEGIC_PARTNER,
                                        "decision_maker": AccountManagerLevel.STRATEGIC_PARTNER})
    m = measure_binding(data, strict)
    assert m.covered[0].tolist() == [True, False, True, False] and not m.matched[0].any()
    # covered but unmatched levels earn unmatched_credit (0.5 by default)
    assert m.hierarchy_score[0] == pytest.approx(100 * (0.5 + 0.5) / 4.5)
    assert strict.level_match.required(OrgLevel.MANAGER) is AccountManagerLevel.ACCOUNT_MANAGER
