"""Hypothesis over the binding Python API: BindingData, measure_binding, value_at_risk, simulate_handover, team_report.

Small hostile tables - unknown and repeated employee, contact and customer ids, NaN, negative, huge and boolean
strengths, empty tables, unreadable dates, touchpoints after ``as_of`` - hostile configurations and hostile
arguments (values, ids, ``to``, ``strength_kept``, ``key_share``, ``key_tiers``): a typed error or a finite result.
Two fields are documented as not finite (``days_since_last`` is ``inf`` for a customer never contacted and
``gap_cv`` is ``NaN`` with fewer than two gaps); the judge checks them against those definitions instead.

The entry points of issue 12 are here too: relationships given by ladder rungs without a strength, LadderConfig,
ladder_report, ActivityConfig / KeyAction, activity_report, format_activity, read_score_values (the values of
``clvkit binding --values``), next_actions and format_report in both languages. Two more fields are documented as
not finite: an overdue key customer never contacted has ``days_since_last`` ``inf``, checked the same way.

Results on ordinary inputs are checked against the share rule written out here (module docstring of
:mod:`clvkit.binding.risk`): with relationships only, an employee's holding of a customer is their share of its
active relationship strength, and the value at risk is the value times the holding.

The tests at the end each pin a defect the probes found (named in the test); each failed before its fix.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clvkit import InvalidInputError
from clvkit.binding import (
    ActivityConfig,
    ActivityReport,
    BindingConfig,
    BindingData,
    BindingMeasures,
    EmployeeRisk,
    IndustryTie,
    KeyAction,
    LadderConfig,
    LadderReport,
    Project,
    ProjectMember,
    activity_report,
    format_activity,
    format_report,
    ladder_report,
    measure_binding,
    read_score_values,
    simulate_handover,
    team_report,
    value_at_risk,
)
from clvkit.binding.report import next_actions

from ._probe import probe
from .test_public_api import COLUMN, HOSTILE_SCALAR

SETTINGS = settings(max_examples=50, suppress_health_check=list(HealthCheck), deadline=None)
UTC = dt.timezone.utc

EMPLOYEE_IDS = st.sampled_from(["E1", "E2", "E3"])
HOSTILE_IDS = st.one_of(st.sampled_from(["E1", "E2", "E3", "E9", "", " ", "C1", "P1"]), HOSTILE_SCALAR)
STRENGTH = st.one_of(st.sampled_from([0.0, 0.2, 0.5, 0.9, 1.0]), HOSTILE_SCALAR)
DATES = st.sampled_from(["2023-01-01", "2024-03-01", "2024-06-29", "2025-01-01", "nonsense", "", None,
                         "2024-06-30T00:00:00+05:00", "0001-01-01"])
AS_OF = st.integers(0, 9).flatmap(lambda i: st.sampled_from(["2024-06-30", dt.datetime(2024, 6, 30, tzinfo=UTC)])
                                  if i < 6 else st.one_of(HOSTILE_SCALAR, st.sampled_from(
                                      ["nonsense", "9999-12-31", "0001-01-01", "2024-06-30T12:00+05:00", 10**20, [1]])))
CONFIG_FIELDS = st.sampled_from(["min_strength", "window_days", "frequency_days", "target_touchpoints",
                                 "recency_half_life_days", "strength_share_weight", "single_thread_share",
                                 "target_employees", "target_backup_strength", "unmatched_credit",
                                 "target_industry_ties", "target_active_projects", "target_team_size", "tie_weights",
                                 "level_match", "weights", "nonsense"])


@st.composite
def tables(draw: st.DrawFn) -> dict[str, Any]:
    """Employees, contacts, relationships and touchpoints: mostly well-formed, with hostile cells mixed in."""
    hostile = draw(st.booleans())
    ids = HOSTILE_IDS if hostile else EMPLOYEE_IDS
    n_e = draw(st.integers(0, 3)) if hostile else 3
    employees = {"employee_id": draw(st.lists(EMPLOYEE_IDS, min_size=n_e, max_size=n_e, unique=not hostile)),
                 "level": draw(st.lists(st.one_of(st.integers(1, 5), st.sampled_from([0, 9, "sales_rep", None]))
                                        if hostile else st.integers(1, 5), min_size=n_e, max_size=n_e)),
                 "team": draw(st.lists(st.sampled_from(["N", "S", None]), min_size=n_e, max_size=n_e))}
    n_c = draw(st.integers(0, 4))
    contacts = {"contact_id": draw(st.lists(st.sampled_from(["P1", "P2", "P3", "P4"]), min_size=n_c, max_size=n_c,
                                            unique=not hostile)),
                "customer_id": draw(st.lists(st.sampled_from(["C1", "C2", "C3"]), min_size=n_c, max_size=n_c)),
                "org_level": draw(st.lists(st.integers(1, 4), min_size=n_c, max_size=n_c))}
    n_r = draw(st.integers(0, 4))
    relationships = {"employee_id": draw(st.lists(ids, min_size=n_r, max_size=n_r)),
                     "contact_id": draw(st.lists(st.sampled_from(contacts["contact_id"] or ["P1"]), min_size=n_r,
                                                 max_size=n_r)),
                     "strength": draw(st.lists(STRENGTH if hostile else st.sampled_from([0.2, 0.5, 0.9]),
                                               min_size=n_r, max_size=n_r)),
                     "start": draw(st.lists(DATES if hostile else st.just("2023-01-01"), min_size=n_r, max_size=n_r))}
    if draw(st.booleans()):  # ladder rungs, with or without a numeric strength (issue 12: ladders that count)
        rungs = st.one_of(st.sampled_from(["friend", "CONFIDANT", "passer_by", 2, "", None]), HOSTILE_SCALAR) \
            if hostile else st.sampled_from(["friend", "acquaintance", "confidant", "passer_by"])
        relationships[draw(st.sampled_from(["closeness", "grade", "pyramid_stage"]))] = draw(
            st.lists(rungs, min_size=n_r, max_size=n_r))
        if draw(st.booleans()):
            del relationships["strength"]
    n_t = draw(st.integers(0, 4))
    touchpoints = {"customer_id": draw(st.lists(st.sampled_from(["C1", "C2", "C3"]), min_size=n_t, max_size=n_t)),
                   "employee_id": draw(st.lists(ids, min_size=n_t, max_size=n_t)),
                   "timestamp": draw(st.lists(DATES if hostile else st.sampled_from(["2024-03-01", "2024-06-29"]),
                                              min_size=n_t, max_size=n_t))}
    return {"employees": employees, "contacts": contacts, "relationships": relationships, "touchpoints": touchpoints}


def _measures_view(m: BindingMeasures, config: BindingConfig | None = None) -> dict[str, Any]:
    """Every field and score of ``m``; the two documented non-finite fields checked against their definitions."""
    fields = {f.name: getattr(m, f.name) for f in dataclasses.fields(m) if f.name != "data"}
    never = ~np.isfinite(fields.pop("days_since_last"))
    assert not np.any(never & (m.touchpoints_window > 0)), "inf days since the last touchpoint despite touchpoints"
    gap_cv = fields.pop("gap_cv")
    assert np.all(np.isnan(gap_cv) | (m.touchpoints_window >= 3)), "a gap CV from fewer than two gaps"
    fields["gap_cv_defined"] = gap_cv[~np.isnan(gap_cv)]
    subs = m.sub_scores()
    assert np.all((m.score >= 0) & (m.score <= 100)) and np.all((subs >= 0) & (subs <= 100))  # both 0-100
    w = np.array((config or BindingConfig()).weights.as_tuple())
    np.testing.assert_allclose(m.score, subs @ w / w.sum(), rtol=1e-12, atol=1e-9)  # the weighted mean
    fields["sub_scores"] = subs
    return fields


def _risk_view(r: EmployeeRisk | None) -> dict[str, Any] | None:
    """The fields of ``r``; ``mean_score`` is documented NaN exactly for an employee holding no customer."""
    if r is None:
        return None
    fields = {f.name: getattr(r, f.name) for f in dataclasses.fields(r)}
    mean_score = fields.pop("mean_score")
    assert np.array_equal(np.isnan(mean_score), r.customers_held == 0), "mean_score NaN for an employee who holds"
    fields["mean_score_defined"] = mean_score[r.customers_held > 0]
    assert np.all((fields["mean_score_defined"] >= 0) & (fields["mean_score_defined"] <= 100))
    return fields


def _value_at_risk(*args: Any) -> dict[str, Any] | None:
    return _risk_view(value_at_risk(*args))


def _team_report(*args: Any, **kwargs: Any) -> dict[str, Any]:
    t = team_report(*args, **kwargs)
    return {"employees": t.employees, "teams": t.teams, "key_customers": t.key_customers, "risk": _risk_view(t.risk)}


def _handover(*args: Any, **kwargs: Any) -> dict[str, Any]:
    h = simulate_handover(*args, **kwargs)
    config = kwargs.get("config")
    return {"before": _measures_view(h.before, config), "after": _measures_view(h.after, config), "moved": h.moved,
            "risk_before": _risk_view(h.risk_before), "risk_after": _risk_view(h.risk_after)}


# ------------------------------------------------------------------------------------------ hostile inputs
@SETTINGS
@given(t=tables(), as_of=AS_OF, field=CONFIG_FIELDS, value=HOSTILE_SCALAR,
       values=st.one_of(COLUMN, st.dictionaries(st.sampled_from(["C1", "C2", "C3", "C9"]), HOSTILE_SCALAR,
                                                max_size=3)),
       leaving=HOSTILE_IDS, to=st.one_of(st.none(), HOSTILE_IDS, st.dictionaries(st.sampled_from(["C1", "C9"]),
                                                                                 HOSTILE_IDS, max_size=2)),
       kept=HOSTILE_SCALAR, key_share=HOSTILE_SCALAR,
       key_tiers=st.one_of(st.none(), HOSTILE_SCALAR, st.sampled_from([[1], {1, 2}, [1, "a"], "ab", {"a": 1}])))
def test_binding_api_on_hostile_tables_and_arguments(t: dict[str, Any], as_of: Any, field: str, value: Any,
                                                     values: Any, leaving: Any, to: Any, kept: Any, key_share: Any,
                                                     key_tiers: Any) -> None:
    data = probe("binding data", lambda: BindingData(**t, as_of=as_of))
    config = probe("binding config", lambda: BindingConfig(**{field: value}))
    if data is None:
        return
    if probe("binding measures", lambda: _measures_view(measure_binding(data, config), config)) is None:
        return
    measures = measure_binding(data, config)
    probe("value at risk", lambda: _value_at_risk(measures, values))
    probe("handover", lambda: _handover(data, leaving, to=to, strength_kept=kept, values=values,
                                                config=config))
    n = data.n_customers
    probe("team report", lambda: _team_report(measures, values, key_share=key_share))
    probe("team report", lambda: _team_report(measures, values, tiers=np.arange(n) % 3, key_tiers=key_tiers))
    probe("binding data", lambda: data.align(values if isinstance(values, dict) else {"C1": values}))


@SETTINGS
@given(measures=st.one_of(HOSTILE_SCALAR, st.just("measures")), data=st.one_of(HOSTILE_SCALAR, st.just({})))
def test_binding_functions_refuse_objects_of_the_wrong_kind(measures: Any, data: Any) -> None:
    probe("binding measures", lambda: measure_binding(data))
    probe("value at risk", lambda: _value_at_risk(measures, [1.0]))
    probe("team report", lambda: _team_report(measures, [1.0]))
    probe("handover", lambda: simulate_handover(data, "E1"))


def _mostly(valid: st.SearchStrategy[Any], hostile: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """``valid`` two times in three, else ``hostile``: enough well-formed entities to check their round trip."""
    return st.integers(0, 2).flatmap(lambda i: valid if i else hostile)


@SETTINGS
@given(cid=_mostly(st.sampled_from(["C1", "E-7", "x y"]), HOSTILE_IDS),
       kind=_mostly(st.sampled_from(["association", "other", "standard_supplier"]),
                    st.one_of(st.sampled_from(["ASSOCIATION", "guild"]), HOSTILE_SCALAR)),
       start=_mostly(st.just(dt.datetime(2024, 1, 1, tzinfo=UTC)),
                     st.one_of(st.none(), st.just(dt.datetime(2024, 1, 1)), HOSTILE_SCALAR)),
       end=_mostly(st.sampled_from([None, dt.datetime(2024, 5, 1, tzinfo=UTC)]),
                   st.one_of(st.just(dt.datetime(2023, 1, 1, tzinfo=UTC)), HOSTILE_SCALAR)),
       role=_mostly(st.sampled_from([None, "lead"]), HOSTILE_SCALAR))
def test_binding_entities_on_hostile_fields(cid: Any, kind: Any, start: Any, end: Any, role: Any) -> None:
    for make in (lambda: IndustryTie(customer_id=cid, kind=kind, start=start, end=end),
                 lambda: Project(project_id="PR", customer_id=cid, start=start, end=end),
                 lambda: ProjectMember(project_id="PR", employee_id=cid, role=role)):
        entity = probe("binding entities", make)
        if entity is not None:  # valid: the JSON round trip is exact, and strict JSON refuses a number for a text id
            assert type(entity).model_validate_json(entity.model_dump_json()) == entity
            probe("binding entities", lambda entity=entity: type(entity).model_validate_json(
                entity.model_dump_json().replace(f'"{cid}"', "1", 1)))


# ------------------------------------------------------------------------------------------ correct results
@SETTINGS
@given(strengths=st.lists(st.floats(0.01, 1.0), min_size=1, max_size=3),
       value=st.floats(0.0, 1e12, allow_nan=False), kept=st.floats(0.0, 1.0))
def test_value_at_risk_and_handover_follow_the_share_rule(strengths: list[float], value: float, kept: float) -> None:
    n = len(strengths)
    emp = [f"E{i}" for i in range(n)]
    data = BindingData(employees={"employee_id": emp, "level": [3] * n, "team": ["T"] * n},
                       contacts={"contact_id": [f"P{i}" for i in range(n)], "customer_id": ["C"] * n,
                                 "org_level": [1] * n},
                       relationships={"employee_id": emp, "contact_id": [f"P{i}" for i in range(n)],
                                      "strength": strengths, "start": ["2023-01-01"] * n},
                       touchpoints=[], as_of="2024-06-30")
    probe("value at risk", lambda: _value_at_risk(measure_binding(data), [value]))
    risk = value_at_risk(measure_binding(data), [value])
    total = math.fsum(strengths)
    expected = {e: value * s / total for e, s in zip(emp, strengths, strict=True)}  # relationships only
    got = dict(zip(risk.employee_id.tolist(), risk.value_at_risk.tolist(), strict=True))
    assert got == pytest.approx(expected, rel=1e-9, abs=1e-9)
    assert risk.value_exposed == value and risk.value_unheld == 0.0
    assert math.fsum(got.values()) == pytest.approx(value, rel=1e-9, abs=1e-9)
    top = max(expected.values(), default=0.0)
    single = value > 0 and top / value >= BindingConfig().single_thread_share
    assert risk.sole_value.sum() == pytest.approx(value if single else 0.0)
    if n >= 2:  # the leaver's relationship goes to the colleague holding most of the customer, at strength * kept
        probe("handover", lambda: _handover(data, "E0", strength_kept=kept, values=[value]))
        handover = simulate_handover(data, "E0", strength_kept=kept, values=[value])
        others = sorted(range(1, n), key=lambda i: (-strengths[i], emp[i]))
        assert handover.moved["receiver"].tolist() == [emp[others[0]]]
        assert handover.moved["strength_after"].tolist() == pytest.approx([strengths[0] * kept])
        after = dict(zip(handover.risk_after.employee_id.tolist(), handover.risk_after.value_at_risk.tolist(),
                         strict=True))
        assert after["E0"] == 0.0 and math.fsum(after.values()) == pytest.approx(value, rel=1e-9, abs=1e-9)


@SETTINGS
@given(values=st.lists(st.floats(0.0, 1e6, allow_nan=False), min_size=3, max_size=3),
       share=st.floats(0.0, 1.0))
def test_team_report_key_customers_are_the_top_share_by_value(values: list[float], share: float) -> None:
    emp = {"employee_id": ["E1", "E2"], "level": [3, 3], "team": ["N", "S"]}
    con = {"contact_id": ["P1", "P2", "P3"], "customer_id": ["C1", "C2", "C3"], "org_level": [1, 1, 1]}
    rel = {"employee_id": ["E1", "E2", "E2"], "contact_id": ["P1", "P2", "P3"], "strength": [0.5] * 3,
           "start": ["2023-01-01"] * 3}
    m = measure_binding(BindingData(employees=emp, contacts=con, relationships=rel, touchpoints=[], as_of="2024-06-30"))
    probe("team report", lambda: _team_report(m, values, key_share=share))
    report = team_report(m, values, key_share=share)
    k = math.floor(share * 3 + 0.5)  # tiering's top share: the k largest and every customer tied with the k-th
    ranked = sorted(values, reverse=True)
    key = [i for i in range(3) if k and values[i] >= ranked[k - 1]]
    assert report.key_customers.tolist() == [i in key for i in range(3)]
    by_team = dict(zip(report.teams["team"].tolist(), report.teams["key_value"].tolist(), strict=True))
    assert by_team.get("N", 0.0) == pytest.approx(sum(values[i] for i in key if i == 0))
    assert by_team.get("S", 0.0) == pytest.approx(sum(values[i] for i in key if i > 0))


# ------------------------------------------------------------------------------------------ defects found
def _small() -> BindingData:
    emp = {"employee_id": ["E1", "E2"], "level": [3, 3], "team": ["N", "N"]}
    con = {"contact_id": ["P1", "P2"], "customer_id": ["C1", "C2"], "org_level": [3, 1]}
    rel = {"employee_id": ["E1", "E2"], "contact_id": ["P1", "P2"], "strength": [0.6, 0.2],
           "start": ["2023-01-01"] * 2}
    return BindingData(employees=emp, contacts=con, relationships=rel, touchpoints=[], as_of="2024-06-30")


def test_binding_refuses_what_it_used_to_crash_on() -> None:
    # Found by test_binding_functions_refuse_objects_of_the_wrong_kind and test_binding_api_on_hostile_...:
    # AttributeError from value_at_risk / team_report / simulate_handover given the wrong object and from
    # align() of a list; TypeError from key_tiers=5 or [1, "a"]; ValueError from align({"C1": "x"});
    # OverflowError from as_of=10**20 (POSIX seconds past the year 9999).
    data = _small()
    m = measure_binding(data)
    for call in (lambda: value_at_risk("x", [1.0]), lambda: team_report(None, [1.0]),  # type: ignore[arg-type]
                 lambda: simulate_handover("x", "E1"),  # type: ignore[arg-type]
                 lambda: team_report(m, [1.0, 2.0], tiers=[1, 2], key_tiers=5),  # type: ignore[arg-type]
                 lambda: team_report(m, [1.0, 2.0], tiers=[1, 2], key_tiers=[1, "a"]),  # type: ignore[list-item]
                 lambda: data.align([1, 2]),  # type: ignore[arg-type]
                 lambda: data.align({"C1": "x"}),  # type: ignore[dict-item]
                 lambda: data.with_as_of(10**20),
                 lambda: BindingData(employees=[], contacts=[], relationships=[], touchpoints=[], as_of=10**20)):
        with pytest.raises(InvalidInputError):
            call()


def test_binding_refuses_what_it_used_to_read_wrongly() -> None:
    # Found by the probes: a list of two employees handed over the first silently; strength_kept "0.5" and True
    # were read as numbers; key_tiers "ab" or {"a": 1} matched nothing silently; as_of [1] was read as one second
    # after 1970; boolean strengths read as 1 and 0; values near the float maximum gave an infinite exposed value.
    data = _small()
    m = measure_binding(data)
    emp = {"employee_id": ["E1"], "level": [3]}
    con = {"contact_id": ["P1"], "customer_id": ["C1"], "org_level": [3]}
    for call in (lambda: simulate_handover(data, ["E1", "E2"]),
                 lambda: simulate_handover(data, "E1", strength_kept="0.5"),  # type: ignore[arg-type]
                 lambda: simulate_handover(data, "E1", strength_kept=True),
                 lambda: team_report(m, [1.0, 2.0], tiers=[1, 2], key_tiers="ab"),  # type: ignore[arg-type]
                 lambda: team_report(m, [1.0, 2.0], tiers=[1, 2], key_tiers={"a": 1}),  # type: ignore[arg-type]
                 lambda: BindingData(employees=[], contacts=[], relationships=[], touchpoints=[], as_of=[1]),
                 lambda: BindingData(employees=emp, contacts=con, touchpoints=[], as_of="2024-06-30",
                                     relationships={"employee_id": ["E1"], "contact_id": ["P1"], "strength": [True],
                                                    "start": ["2023-01-01"]}),
                 lambda: value_at_risk(m, [1e308, 1e308]),
                 lambda: team_report(m, [1e308, 1e308])):
        with pytest.raises(InvalidInputError):
            call()


def test_binding_entities_raise_invalid_input_naming_the_field() -> None:
    # Brief of issue 10: the binding entities were plain pydantic models and raised pydantic's ValidationError.
    with pytest.raises(InvalidInputError, match="'kind'"):
        IndustryTie(customer_id="C1", kind="guild")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="'start'"):
        Project(project_id="P", customer_id="C", start=dt.datetime(2024, 1, 1))  # naive
    with pytest.raises(InvalidInputError, match="'employee_id'"):
        ProjectMember(project_id="P", employee_id=5)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="'extra'"):
        ProjectMember(project_id="P", employee_id="E", role="x", extra=1)  # type: ignore[call-arg]


def test_a_list_in_an_id_cell_is_a_typed_error() -> None:
    # Found by test_binding_api_on_hostile_tables_and_arguments: a one-row column [[1, 2]] became a 2-D array that
    # counted two rows (IndexError while naming the bad row); ragged cells raised numpy's ValueError.
    emp = {"employee_id": ["E1"], "level": [3]}
    con = {"contact_id": ["P1"], "customer_id": ["C1"], "org_level": [3]}
    for ids in ([[1, 2]], ["E1", [1, 2]]):
        tp = {"customer_id": ["C1"] * len(ids), "employee_id": ids, "timestamp": ["2024-01-01"] * len(ids)}
        with pytest.raises(InvalidInputError, match=r"touchpoints\.employee_id"):
            BindingData(employees=emp, contacts=con, relationships=[], touchpoints=tp, as_of="2024-06-30")


def test_an_empty_book_has_no_mean_score() -> None:
    # Found by the probes: the repr of the measures of no customers showed mean_score=nan.
    m = measure_binding(BindingData(employees=[], contacts=[], relationships=[], touchpoints=[], as_of="2024-01-01"))
    assert "nan" not in repr(m) and "mean_score=n/a" in repr(m)


# ------------------------------------------------------------------------------------------ issue 12 entry points
def _activity_view(r: ActivityReport) -> dict[str, Any]:
    """The fields of ``r``; ``overdue.days_since_last`` is documented ``inf`` exactly for a key customer never
    contacted (no last employee)."""
    fields = {f.name: getattr(r, f.name) for f in dataclasses.fields(r) if f.name != "overdue"}
    od = dict(r.overdue)
    days = od.pop("days_since_last")
    never = ~np.isfinite(days)
    assert np.array_equal(never, np.array([e is None for e in od["last_employee"].tolist()], dtype=bool))
    assert np.all(days[~never] > r.contact_interval_days)
    od["days_defined"] = days[~never]
    fields["overdue"] = od
    for name in ("touchpoints", "customers", "action_done", "function_counts"):
        assert np.all(fields[name] >= 0), name
    assert np.all(r.customers <= r.touchpoints)
    assert np.all(r.function_counts <= r.touchpoints[:, :, None])  # a touchpoint counts once per function at most
    return fields


def _ladder_view(r: LadderReport) -> dict[str, Any]:
    d = r.closeness["distance"]
    assert np.all((d >= 0) & (d <= 1 + 1e-12))
    mv = r.movement
    assert np.array_equal(mv["compared"], mv["up"] + mv["down"] + mv["same"])
    return {"closeness": r.closeness, "movement": r.movement, "by_employee": r.movement_by_employee,
            "since": r.since, "as_of": r.as_of}


LADDER_FIELDS = st.sampled_from(["closeness", "grade", "pyramid_stage", "combine", "closeness_target",
                                 "movement_days", "nonsense"])
ACTION_FIELDS = st.sampled_from(["name", "function", "channel", "key_customers_only", "per_week", "nonsense"])


@SETTINGS
@given(t=tables(), field=LADDER_FIELDS, value=st.one_of(HOSTILE_SCALAR, st.sampled_from(
           [(0.1, 0.2, 0.3, 0.4), (0.4, 0.3, 0.2, 0.1), (0.1, 0.2, 0.3), [0.36, 0.5, 0.1, 0.04], "max", "min"])),
       action_field=ACTION_FIELDS, action_value=st.one_of(HOSTILE_SCALAR, st.sampled_from(
           ["deal", "CARE", "visit", "phone", 3, 0, 10**9, "", " "])),
       weeks=st.one_of(st.integers(-2, 10), HOSTILE_SCALAR),
       key=st.one_of(st.none(), COLUMN, st.lists(st.booleans(), min_size=0, max_size=4)),
       tiers=st.one_of(st.none(), COLUMN, st.lists(st.integers(-3, 5), min_size=0, max_size=4)),
       interval=HOSTILE_SCALAR, lang=st.one_of(st.sampled_from(["en", "zh"]), HOSTILE_SCALAR))
def test_ladders_and_activity_on_hostile_tables_and_arguments(t: dict[str, Any], field: str, value: Any,
                                                              action_field: str, action_value: Any, weeks: Any,
                                                              key: Any, tiers: Any, interval: Any,
                                                              lang: Any) -> None:
    ladders = probe("ladders", lambda: LadderConfig(**{field: value}))
    action = probe("activity", lambda: KeyAction(**{"name": "a", "per_week": 1, action_field: action_value}))
    config = probe("activity", lambda: ActivityConfig(contact_interval_days=interval,
                                                      key_actions=() if action is None else (action,)))
    data = probe("binding data", lambda: BindingData(**t, as_of="2024-06-30"))
    if data is None:
        return
    probe("ladders", lambda: _ladder_view(ladder_report(data, ladders)))
    probe("ladders", lambda: _ladder_view(ladder_report(data, BindingConfig(ladders=ladders or LadderConfig()))))
    probe("ladders", lambda: ladder_report(data, value))
    n = data.n_customers
    for k, tr_ in ((key, tiers), (None, np.arange(n) % 3 + 1), (np.arange(n) % 2 == 0, None)):
        view = probe("activity", lambda k=k, tr_=tr_: _activity_view(activity_report(
            data, weeks=weeks, key_customers=k, tiers=tr_, config=config)))
        if view is not None:
            report = activity_report(data, weeks=weeks, key_customers=k, tiers=tr_, config=config)
            probe("activity", lambda report=report: format_activity(report, lang=lang, top=3))
    m = measure_binding(data, BindingConfig(ladders=ladders or LadderConfig()))
    probe("binding report", lambda: format_report(m, lang=lang, top=2))
    if n:
        probe("binding report", lambda: next_actions(m, 0, lang=lang))


@SETTINGS
@given(header=st.sampled_from(["customer_id,clv", "customer_id,p_alive,clv", "id,clv", "customer_id", "", "clv"]),
       ids=st.lists(st.one_of(st.sampled_from(["C1", "C2", "C9", "", " C1", "'=C1", "c1"]), st.text(max_size=4)),
                    max_size=4),
       cells=st.lists(st.one_of(st.sampled_from(["1", "2.5", "-3", "nan", "inf", "", "1e400", "x", "1,5"]),
                                st.text(max_size=4)), min_size=4, max_size=4),
       column=st.sampled_from(["clv", "p_alive", "value", ""]))
def test_score_values_files_on_hostile_content(tmp_path_factory: pytest.TempPathFactory, header: str,
                                               ids: list[str], cells: list[str], column: str) -> None:
    import csv

    folder = tmp_path_factory.mktemp("values")
    path = folder / "scores.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        if header:
            writer.writerow(header.split(","))
        for i, cid in enumerate(ids):
            writer.writerow([cid, *cells[i:i + max(len(header.split(",")) - 1, 0)]])
    data = _small()
    got = probe("binding values", lambda: read_score_values(path, data, column=column))
    if got is not None:
        assert got.matched + got.missing == data.n_customers and got.values.shape == (data.n_customers,)
        assert np.all(got.values[[cid not in {i.strip() for i in ids} for cid in data.customer_ids.tolist()]] == 0)


def test_issue12_entry_points_refuse_objects_of_the_wrong_kind() -> None:
    for call in (lambda: activity_report("x"),  # type: ignore[arg-type]
                 lambda: ladder_report({}),
                 lambda: format_activity(None),  # type: ignore[arg-type]
                 lambda: activity_report(_small(), weeks=2, config=BindingConfig()),  # type: ignore[arg-type]
                 lambda: format_report(measure_binding(_small()), lang="fr")):
        assert probe("activity", call) is None


def test_activity_refuses_ragged_masks() -> None:
    # Found by test_ladders_and_activity_on_hostile_tables_and_arguments: key_customers=[None, [1, 2]] raised
    # numpy's ValueError (inhomogeneous shape) from activity_report.
    for bad in ({"key_customers": [None, [1, 2]]}, {"tiers": [[1], [1, 2]]}):
        with pytest.raises(InvalidInputError, match="flat array"):
            activity_report(_small(), **bad)
