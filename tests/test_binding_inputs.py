"""Binding inputs: every table kind gives the same batch, and bad input gets one typed error naming the ids."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np
import pytest
from pydantic import ValidationError

from clvkit.binding import (
    BindingConfig,
    BindingData,
    IndustryTie,
    LevelWeights,
    Project,
    ProjectMember,
    ScoreWeights,
    key_customer_mask,
    measure_binding,
    simulate_handover,
    team_report,
    value_at_risk,
)
from clvkit.domain import Contact, Employee, Relationship, Touchpoint, TouchpointFunction
from clvkit.errors import InvalidInputError

UTC = timezone.utc


def u(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def tables() -> dict[str, dict[str, list[Any]]]:
    return {
        "employees": {"employee_id": ["E1", "E2"], "level": ["ACCOUNT_MANAGER", "SALES_REP"], "team": ["N", "N"],
                      "active": [True, True], "left_at": [None, None]},
        "contacts": {"contact_id": ["P1", "P2", "P3"], "customer_id": ["C1", "C1", "C2"],
                     "org_level": ["DECISION_MAKER", "USER", "MANAGER"], "is_successor": [False, True, False]},
        "relationships": {"employee_id": ["E1", "E2", "E1"], "contact_id": ["P1", "P2", "P3"],
                          "customer_id": ["C1", "C1", "C2"], "strength": [0.8, 0.5, 0.3],
                          "start": [u(2023, 1, 1), u(2023, 6, 1), u(2022, 1, 1)], "end": [None, None, u(2024, 1, 1)]},
        "touchpoints": {"touchpoint_id": ["T1", "T2", "T3"], "customer_id": ["C1", "C1", "C2"],
                        "timestamp": [u(2024, 5, 1), u(2024, 6, 1, 8), u(2024, 6, 20)],
                        "employee_id": ["E1", "E2", "E1"], "contact_id": ["P1", None, "P3"],
                        "channel": ["visit", "phone", "email"], "functions": [5, 1, 2]},
    }


AS_OF = u(2024, 6, 30)


def build(**changes: Any) -> BindingData:
    as_of = changes.pop("as_of", AS_OF)
    t: dict[str, Any] = tables()
    t.update(changes)
    return BindingData(as_of=as_of, **t)


def assert_same(a: BindingData, b: BindingData) -> None:
    ma, mb = measure_binding(a).to_columns(), measure_binding(b).to_columns()
    assert ma.keys() == mb.keys()
    for k in ma:
        if ma[k].dtype.kind in "fc":
            np.testing.assert_allclose(ma[k], mb[k], err_msg=k)
        else:
            assert ma[k].tolist() == mb[k].tolist(), k


# ---------------------------------------------------------------------------------------------- input kinds
def test_entities_give_the_same_batch_as_columns() -> None:
    t = tables()
    emps = [Employee(employee_id=e, level=lv, team="N") for e, lv in zip(t["employees"]["employee_id"],
                                                                         t["employees"]["level"], strict=True)]
    cons = [Contact(contact_id=c, customer_id=k, org_level=lv, is_successor=s) for c, k, lv, s in
            zip(*(t["contacts"][n] for n in ("contact_id", "customer_id", "org_level", "is_successor")), strict=True)]
    rels = [Relationship(employee_id=e, contact_id=c, customer_id=k, strength=s, start=a, end=b) for e, c, k, s, a, b in
            zip(*(t["relationships"][n] for n in ("employee_id", "contact_id", "customer_id", "strength", "start",
                                                   "end")), strict=True)]
    tps = [Touchpoint(touchpoint_id=i, customer_id=k, timestamp=w, employee_id=e, contact_id=c, channel=ch,
                      functions=TouchpointFunction(f))
           for i, k, w, e, c, ch, f in zip(*t["touchpoints"].values(), strict=True)]
    assert_same(BindingData.from_entities(emps, cons, rels, tps, as_of=AS_OF), build())


def test_pandas_polars_and_pyarrow_frames_give_the_same_batch() -> None:
    pd = pytest.importorskip("pandas")
    pl = pytest.importorskip("polars")
    pa = pytest.importorskip("pyarrow")
    t = tables()
    t["touchpoints"]["functions"] = ["CARE|DEAL", "CARE", "INFORMATION"]
    base = BindingData(as_of=AS_OF, **t)
    frames = {k: pd.DataFrame(v) for k, v in t.items()}
    # a time zone other than UTC must be converted, not dropped
    frames["touchpoints"]["timestamp"] = frames["touchpoints"]["timestamp"].dt.tz_convert("Asia/Shanghai")
    assert_same(BindingData(as_of=AS_OF, **frames), base)
    assert_same(BindingData(as_of=AS_OF, **{k: pl.from_pandas(v) for k, v in frames.items()}), base)
    assert_same(BindingData(as_of=AS_OF, **{k: pa.Table.from_pandas(v) for k, v in frames.items()}), base)


def test_strings_ranks_and_offsets_are_read() -> None:
    t = tables()
    t["employees"]["level"] = [3, "sales_rep"]
    t["employees"]["active"] = ["yes", "1"]
    t["touchpoints"]["timestamp"] = ["2024-05-01T08:00:00+08:00", "2024-06-01 08:00", "2024-06-20Z"]
    t["relationships"]["start"] = np.array(["2023-01-01", "2023-06-01", "2022-01-01"], dtype="datetime64[D]")
    t["relationships"]["end"] = ["", "", "2024-01-01"]
    data = BindingData(as_of="2024-06-30T00:00:00+00:00", **t)
    assert data.as_of == AS_OF
    assert_same(data, build())


def test_optional_tables_and_columns_may_be_left_out() -> None:
    t = tables()
    for table, cols in (("employees", ("team", "active", "left_at")), ("contacts", ("is_successor",)),
                        ("relationships", ("customer_id", "end")),
                        ("touchpoints", ("touchpoint_id", "contact_id", "channel", "functions"))):
        for col in cols:
            del t[table][col]
    m = measure_binding(BindingData(as_of=AS_OF, **t))
    assert m.customer_id.tolist() == ["C1", "C2"] and m.n_employees.tolist() == [2, 1]
    assert m.function_counts.sum() == 0


def test_customers_fix_the_order_and_include_customers_without_records() -> None:
    data = build(customers=["C2", "C9", "C1"])
    m = measure_binding(data)
    assert m.customer_id.tolist() == ["C2", "C9", "C1"] and m.score[1] == 0.0
    assert data.align({"C1": 5.0}).tolist() == [0.0, 0.0, 5.0]


def test_integer_ids() -> None:
    data = BindingData(employees={"employee_id": [7], "level": [3]},
                       contacts={"contact_id": [70], "customer_id": [700], "org_level": [3]},
                       relationships={"employee_id": [7], "contact_id": [70], "strength": [0.5],
                                      "start": ["2024-01-01"]},
                       touchpoints={"customer_id": [700], "employee_id": [7], "timestamp": ["2024-02-01"]},
                       as_of="2024-03-01")
    assert data.customer_ids.tolist() == [700] and measure_binding(data).n_employees.tolist() == [1]


def test_industry_and_project_entities() -> None:
    data = build(industry_ties=[IndustryTie(customer_id="C1", kind="association", start=u(2020, 1, 1)),
                                IndustryTie(customer_id="C1", kind="other", start=u(2020, 1, 1), end=u(2021, 1, 1))],
                 projects=[Project(project_id="X", customer_id="C2", start=u(2024, 1, 1))],
                 project_members=[ProjectMember(project_id="X", employee_id="E1"),
                                  ProjectMember(project_id="X", employee_id="E2")])
    m = measure_binding(data)
    assert m.industry_ties.tolist() == [1, 0] and m.team_size.tolist() == [0, 2]
    with pytest.raises(InvalidInputError, match="'end' must not be before 'start'"):
        Project(project_id="X", customer_id="C", start=u(2024, 1, 2), end=u(2024, 1, 1))


def test_with_as_of() -> None:
    data = build()
    later = data.with_as_of("2024-12-31")
    assert later.as_of == u(2024, 12, 31)
    with pytest.raises(InvalidInputError, match=r"touchpoints.timestamp.*touchpoint_id|is after as_of"):
        data.with_as_of("2024-05-15")
    earlier = data.with_as_of("2024-05-15", drop_future=True)
    assert measure_binding(earlier).touchpoints_window.tolist() == [1, 0]


# ---------------------------------------------------------------------------------------------- bad input
def problems(exc: pytest.ExceptionInfo[InvalidInputError]) -> dict[str, str]:
    return {p.column: str(p) for p in exc.value.problems}


def test_unknown_employee_and_contact_are_named() -> None:
    t = tables()
    t["relationships"]["employee_id"][1] = "E9"
    t["relationships"]["contact_id"][2] = "P9"
    t["touchpoints"]["employee_id"][0] = "E8"
    with pytest.raises(InvalidInputError) as exc:
        BindingData(as_of=AS_OF, **t)
    found = problems(exc)
    assert "employee_id='E9'" in found["relationships.employee_id"]
    assert "contact_id='P9'" in found["relationships.contact_id"]
    assert "employee_id='E8'" in found["touchpoints.employee_id"] and "touchpoint_id='T1'" in \
        found["touchpoints.employee_id"]
    assert isinstance(exc.value, ValueError)


def test_end_before_start_is_named() -> None:
    t = tables()
    t["relationships"]["end"][1] = u(2023, 1, 1)
    with pytest.raises(InvalidInputError) as exc:
        BindingData(as_of=AS_OF, **t)
    assert "employee_id='E2', contact_id='P2'" in problems(exc)["relationships.end"]


def test_future_touchpoint_is_named() -> None:
    t = tables()
    t["touchpoints"]["timestamp"][2] = AS_OF + timedelta(seconds=1)
    with pytest.raises(InvalidInputError) as exc:
        BindingData(as_of=AS_OF, **t)
    msg = problems(exc)["touchpoints.timestamp"]
    assert "is after as_of" in msg and "touchpoint_id='T3', customer_id='C2', employee_id='E1'" in msg


def test_all_problems_are_reported_at_once() -> None:
    t = tables()
    t["employees"]["employee_id"][1] = "E1"  # duplicate
    t["employees"]["level"][0] = "boss"
    t["contacts"]["org_level"][2] = None
    t["relationships"]["strength"][0] = 1.5
    t["relationships"]["customer_id"][0] = "C2"  # contact P1 belongs to C1
    t["touchpoints"]["contact_id"][2] = "P1"  # P1 is C1's, the touchpoint is C2's
    t["touchpoints"]["functions"][0] = 0
    t["touchpoints"]["channel"][1] = "pigeon"
    t["touchpoints"]["timestamp"][1] = "yesterday"
    with pytest.raises(InvalidInputError) as exc:
        BindingData(as_of=AS_OF, **t)
    assert set(problems(exc)) >= {
        "employees.employee_id", "employees.level", "contacts.org_level", "relationships.strength",
        "relationships.customer_id", "touchpoints.contact_id", "touchpoints.functions", "touchpoints.channel",
        "touchpoints.timestamp"}


def test_unknown_customer_project_and_missing_tables() -> None:
    with pytest.raises(InvalidInputError) as exc:
        build(customers=["C1"], project_members={"project_id": ["PX"], "employee_id": ["E1"]})
    found = problems(exc)
    assert "customer_id='C2'" in found["touchpoints.customer_id"] and "P3" in found["contacts.customer_id"]
    assert "project_id='PX'" in found["project_members.project_id"]
    with pytest.raises(InvalidInputError, match="needs the 'touchpoints' table"):
        BindingData(employees=[], contacts=[], relationships=[], touchpoints=None, as_of=AS_OF)
    t = tables()
    del t["relationships"]["strength"]
    with pytest.raises(InvalidInputError, match=r"'relationships\.strength': is not a column, and no ladder column"):
        BindingData(as_of=AS_OF, **t)
    with pytest.raises(InvalidInputError, match="list of Employee entities"):
        build(employees=[Contact(contact_id="P", customer_id="C", org_level=1)])
    with pytest.raises(InvalidInputError, match="'as_of' parameter"):
        build(as_of="not a date")


def test_values_and_key_customers_are_checked() -> None:
    m = measure_binding(build())
    with pytest.raises(InvalidInputError, match=r"shape \(2,\)"):
        value_at_risk(m, [1.0, 2.0, 3.0])
    with pytest.raises(InvalidInputError, match="'values': must be finite"):
        value_at_risk(m, [1.0, np.nan])
    with pytest.raises(InvalidInputError, match="customer_id='C7'"):
        value_at_risk(m, {"C7": 1.0})
    with pytest.raises(InvalidInputError, match="boolean array of shape"):
        team_report(m, [1.0, 2.0], key_customers=[1, 0])
    with pytest.raises(InvalidInputError, match="key_tiers"):
        key_customer_mask(np.ones(2), tiers=np.array([1, 2]))
    with pytest.raises(InvalidInputError, match="key_share"):
        key_customer_mask(np.ones(2), key_share=1.5)


def test_handover_arguments_are_checked() -> None:
    data = build()
    with pytest.raises(InvalidInputError, match="employee_id='E9'"):
        simulate_handover(data, "E9")
    with pytest.raises(InvalidInputError, match="other than the one leaving"):
        simulate_handover(data, "E1", to="E1")
    with pytest.raises(InvalidInputError, match="strength_kept"):
        simulate_handover(data, "E1", strength_kept=2.0)
    t = tables()
    t["employees"]["active"] = [True, False]
    with pytest.raises(InvalidInputError, match="'E2', who has already left"):
        simulate_handover(BindingData(as_of=AS_OF, **t), "E2")


def test_config_is_validated_and_round_trips() -> None:
    with pytest.raises(InvalidInputError):
        ScoreWeights(hierarchy=0, breadth=0, spread=0, presence=0, industry=0, project=0)
    with pytest.raises(InvalidInputError):
        LevelWeights(user=-1.0)
    with pytest.raises(InvalidInputError):
        BindingConfig(target_employees=1.0)
    with pytest.raises(InvalidInputError):
        BindingConfig(tie_weights={"association": float("inf")})
    with pytest.raises(InvalidInputError):
        BindingConfig(unknown=1)
    cfg = BindingConfig(window_days=90, weights=ScoreWeights(project=0.0))
    assert BindingConfig.model_validate_json(cfg.model_dump_json()) == cfg
    with pytest.raises(ValidationError):
        cfg.window_days = 1.0  # type: ignore[misc]


def test_batch_arrays_are_read_only() -> None:
    data = build()
    with pytest.raises(ValueError):
        data.customer_ids[0] = "X"
    m = measure_binding(data)
    with pytest.raises(ValueError):
        m.score[0] = 1.0
