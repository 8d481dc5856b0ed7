"""The scoring service over real HTTP: one ``clvkit serve`` process on 127.0.0.1 for the module, called with httpx.

Expected numbers come from in-process scoring (``clvkit.valuation.clv`` on the same summaries), computed here
beside the request; expected statuses and fields from the inputs each test breaks on purpose.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

from _service import (  # noqa: E402
    BG,
    GG,
    Server,
    as_columns,
    customers,
    in_process,
    json_body,
    running_server,
    write_model_folder,
)

import clvkit  # noqa: E402
from clvkit import domain, summarize_transactions  # noqa: E402
from clvkit.valuation import BetaGeo, BetaGeoParams, FittedBetaGeo  # noqa: E402

ARROW = "application/vnd.apache.arrow.stream"
PARQUET = "application/vnd.apache.parquet"
PROBLEM = "application/problem+json"
MAX_CUSTOMERS = 5_000
MAX_BODY_MB = 2.0
#: The model the swap test replaces: BG/NBD at other parameters than the published ones.
BG2 = FittedBetaGeo(params=BetaGeoParams(r=0.5, alpha=6.0, a=0.4, b=3.0), time_unit="W")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path]]:
    root = tmp_path_factory.mktemp("models")
    write_model_folder(root / "cdnow")
    write_model_folder(root / "swap")
    log = root.parent / "server.log"
    with running_server([root], "--max-customers", str(MAX_CUSTOMERS), "--max-body-mb", str(MAX_BODY_MB),
                        log=log) as server:
        yield server, root


@pytest.fixture(scope="module")
def server(served: tuple[Server, Path]) -> Server:
    return served[0]


@pytest.fixture(scope="module")
def client(server: Server) -> Iterator[Any]:
    with server.client() as c:
        yield c


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- round trips -------------------------------------------------------------------------------------------------

def test_health_and_models(client: Any, served: tuple[Server, Path]) -> None:
    root = served[1]
    health = client.get("/health")
    assert health.status_code == 200 and health.json() == {"status": "ok", "models": 2,
                                                           "clvkit_version": clvkit.__version__}
    doc = client.get("/models").json()
    assert doc["default"] is None
    by_name = {m["name"]: m for m in doc["models"]}
    assert set(by_name) == {"cdnow", "swap"}
    cd = by_name["cdnow"]
    assert cd["model_version"] == _sha(root / "cdnow" / "manifest.json")
    assert cd["transaction_model"] == "BetaGeo" and cd["spend_model"] == "GammaGamma"
    assert cd["params"] == dict(BG.params.model_dump()) and cd["time_unit"] == "W"
    assert cd["schema_name"] == "clvkit.fitted_model" and cd["schema_version"] == 1


@pytest.mark.parametrize("settings", [dict(horizon=12, discount_rate=0.01, period="M"),
                                      dict(horizon=52, discount_rate=0.0),
                                      dict(horizon=4, discount_rate=0.05, period=13.0, margin=0.3)])
def test_score_json_equals_in_process(client: Any, served: tuple[Server, Path], settings: dict[str, Any]) -> None:
    cols = customers(300, seed=1)
    r = client.post("/score", json=json_body(cols, model="cdnow", **settings))
    assert r.status_code == 200, r.text
    doc = r.json()
    version = _sha(served[1] / "cdnow" / "manifest.json")
    assert doc["model"] == "cdnow" and doc["model_version"] == version
    assert r.headers["x-clvkit-model-version"] == version
    assert as_columns(doc["results"]) == in_process(cols, **settings)  # identical numbers, not close ones


def test_big_json_body_equals_in_process(client: Any) -> None:
    cols = customers(4_000, seed=12)  # about 0.5 MB: decoded in the thread pool
    body = json.dumps(json_body(cols, model="cdnow", horizon=6, discount_rate=0.02)).encode()
    assert len(body) > 256 * 1024
    r = client.post("/score", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 200, r.text
    assert as_columns(r.json()["results"]) == in_process(cols, horizon=6, discount_rate=0.02)


def test_whole_number_floats_are_counts(client: Any) -> None:
    cols = customers(5, seed=2)
    as_int = client.post("/score", json=json_body(cols, model="cdnow", horizon=12, discount_rate=0.01)).json()
    as_float = client.post("/score", json=json_body(cols, model="cdnow", horizon=12.0, discount_rate=0.01)).json()
    assert as_float == as_int
    assert as_int["results"][0]["customer_id"] == "c0"


def test_integer_ids_are_echoed(client: Any) -> None:
    cols = customers(3, seed=3)
    body = json_body(cols, model="cdnow", horizon=12, discount_rate=0.01)
    for i, row in enumerate(body["customers"]):
        row["customer_id"] = 1000 + i
    doc = client.post("/score", json=body).json()
    assert [r["customer_id"] for r in doc["results"]] == [1000, 1001, 1002]


@pytest.mark.parametrize("answer", [ARROW, PARQUET, "application/json"])
@pytest.mark.parametrize("body_kind", [ARROW, PARQUET])
def test_columnar_round_trip(client: Any, body_kind: str, answer: str) -> None:
    cols = customers(2_500, seed=4)  # above the thread-pool threshold
    table = pa.table(cols)
    sink = pa.BufferOutputStream()
    if body_kind == ARROW:
        with pa.ipc.new_stream(sink, table.schema) as w:
            w.write_table(table)
    else:
        pq.write_table(table, sink)
    r = client.post("/score", content=bytes(sink.getvalue()), headers={"content-type": body_kind, "accept": answer},
                    params={"model": "cdnow", "horizon": "12", "discount_rate": "0.01", "period": "M"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith(answer)
    expected = in_process(cols, horizon=12, discount_rate=0.01, period="M")
    if answer == "application/json":
        assert as_columns(r.json()["results"]) == expected
        return
    if answer == ARROW:
        got = pa.ipc.open_stream(r.content).read_all()
    else:
        got = pq.read_table(pa.py_buffer(r.content))
    assert got.schema.metadata[b"model"] == b"cdnow"
    assert {k: got.column(k).to_pylist() for k in expected} == expected


def test_request_id_taken_or_made(client: Any, server: Server) -> None:
    r = client.get("/health", headers={"X-Request-ID": "trace-42"})
    assert r.headers["x-request-id"] == "trace-42"
    made = client.get("/health").headers["x-request-id"]
    assert len(made) == 32 and made != "trace-42"
    bad = client.get("/health", headers={"X-Request-ID": "no spaces allowed"}).headers["x-request-id"]
    assert bad != "no spaces allowed"
    lines = [json.loads(line) for line in server.log.read_text().splitlines() if line.startswith("{")]
    assert any(rec.get("request_id") == "trace-42" and rec.get("status") == 200 for rec in lines)


def test_tier_equals_in_process(client: Any) -> None:
    from clvkit.tiering import make_policy

    values = np.random.default_rng(5).gamma(1.0, 50.0, 40).round(2)
    body = {"policy": "five-a", "customers": [{"customer_id": f"k{i}", "value": v} for i, v in enumerate(values)]}
    r = client.post("/tier", json=body)
    assert r.status_code == 200, r.text
    expected = make_policy("five-a").assign(value=values, customer_id=[f"k{i}" for i in range(40)])
    doc = r.json()
    assert doc["labels"] == list(expected.labels)
    assert [x["tier_code"] for x in doc["results"]] == expected.codes.tolist()


# -- tiers on /score ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("tiers", ["five-a", {"policy": "key-customers", "config": {"share": 0.25}}, "value-risk"])
def test_score_with_tiers_equals_in_process(client: Any, tiers: Any) -> None:
    from clvkit.tiering import make_policy

    cols = customers(200, seed=21)
    settings = dict(horizon=12, discount_rate=0.01, period="M")
    plain = client.post("/score", json=json_body(cols, model="cdnow", **settings))
    r = client.post("/score", json=json_body(cols, model="cdnow", tiers=tiers, **settings))
    assert r.status_code == 200, r.text
    doc = r.json()
    expected = in_process(cols, **settings)
    name, config = (tiers, None) if isinstance(tiers, str) else (tiers["policy"], tiers["config"])
    policy = make_policy(name, config)  # the tiers a caller gets from the in-process scores
    assignment = policy.assign({"value": np.array(expected["clv"]), "p_alive": np.array(expected["probability_alive"]),
                                "frequency": cols["frequency"], "recency": cols["recency"], "T": cols["T"],
                                "monetary_value": cols["monetary_value"]})
    assert doc["tiers"] == {"policy": name, "labels": list(assignment.labels)}
    assert [x["tier"] for x in doc["results"]] == assignment.tier_labels().tolist()
    assert len(set(x["tier"] for x in doc["results"])) > 1
    # the scores are those of a request without tiers, and that answer has no tier fields at all
    assert [{k: v for k, v in x.items() if k != "tier"} for x in doc["results"]] == plain.json()["results"]
    assert "tiers" not in plain.json() and all("tier" not in x for x in plain.json()["results"])


def test_score_tiers_in_an_arrow_answer(client: Any) -> None:
    from clvkit.tiering import make_policy

    cols = customers(300, seed=22)
    table = pa.table(cols)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as w:
        w.write_table(table)
    r = client.post("/score", content=bytes(sink.getvalue()), headers={"content-type": ARROW},
                    params={"model": "cdnow", "horizon": "12", "discount_rate": "0.01", "tiers": "five-a"})
    assert r.status_code == 200, r.text
    got = pa.ipc.open_stream(r.content).read_all()
    expected = make_policy("five-a").assign(np.array(in_process(cols, horizon=12, discount_rate=0.01)["clv"]))
    assert got.column("tier").to_pylist() == expected.tier_labels().tolist()
    assert json.loads(got.schema.metadata[b"tier_labels"]) == list(expected.labels)


def test_score_tier_problems(client: Any) -> None:
    doc = _problem(_score(client, tiers="no-such-policy"), 422, "invalid-input")
    assert "no-such-policy" in doc["detail"] and "five-a" in doc["detail"]
    doc = _problem(_score(client, tiers={"policy": "key-customers", "config": {"share": 2.0}}), 422, "invalid-input")
    assert "share" in doc["detail"]
    doc = _problem(_score(client, tiers="loyalty"), 422, "invalid-input")  # needs a history the scores do not have
    assert "history" in doc["detail"]


# -- binding -------------------------------------------------------------------------------------------------------

def _sample_rows(name: str, *, numbers: tuple[str, ...] = (), bools: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """A table of the bundled B2B sample as JSON records (empty cells left out), read with the csv module."""
    import csv

    path = Path(clvkit.__file__).parent / "data" / "b2b_sample" / f"{name}.csv"
    out = []
    with open(path, encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            rec: dict[str, Any] = {}
            for k, v in row.items():
                if v == "":
                    continue
                rec[k] = float(v) if k in numbers else (v == "true") if k in bools else v
            if "functions" in rec:
                rec["functions"] = rec["functions"].split("|")
            out.append(rec)
    return out


def _binding_body(**extra: Any) -> dict[str, Any]:
    return {"as_of": "2024-12-31T00:00:00+00:00", "employees": _sample_rows("employees", bools=("active",)),
            "contacts": _sample_rows("contacts", bools=("is_successor",)),
            "relationships": _sample_rows("relationships", numbers=("strength",)),
            "touchpoints": _sample_rows("touchpoints"), "industry_ties": _sample_rows("industry_ties"),
            "projects": _sample_rows("projects"), "project_members": _sample_rows("project_members"), **extra}


def test_binding_equals_in_process(client: Any) -> None:
    from clvkit.binding import LEVELS, SUB_SCORES, load_b2b_sample, measure_binding, value_at_risk

    sample = load_b2b_sample()  # the same tables through the library's own CSV reader
    m = measure_binding(sample.data)
    ids = [str(c) for c in m.customer_id.tolist()]
    values = dict(zip(ids, sample.values.tolist(), strict=True))
    r = client.post("/binding", json=_binding_body(values=values))
    assert r.status_code == 200, r.text
    doc = r.json()
    got = doc["customers"]
    assert [c["customer_id"] for c in got] == ids
    assert [c["score"] for c in got] == m.score.tolist()
    assert [[c["sub_scores"][k] for k in SUB_SCORES] for c in got] == m.sub_scores().tolist()
    assert [[c["covered"][lvl.name.lower()] for lvl in LEVELS] for c in got] == m.covered.tolist()
    assert [c["top_share"] for c in got] == m.top_share.tolist()
    assert [c["single_threaded"] for c in got] == m.single_threaded.tolist()
    assert [c["value"] for c in got] == sample.values.tolist()
    risk = value_at_risk(m, sample.values)
    assert [e["employee_id"] for e in doc["employees"]] == risk.employee_id.tolist()
    assert [e["value_at_risk"] for e in doc["employees"]] == risk.value_at_risk.tolist()
    assert doc["value_exposed"] == risk.value_exposed and doc["value_unheld"] == risk.value_unheld
    assert all(c["next_actions"] for c in got if c["score"] < 50)
    plain = client.post("/binding", json=_binding_body(config={"window_days": 90})).json()
    assert plain["employees"] is None and plain["value_exposed"] is None
    from clvkit.binding import BindingConfig

    assert [c["score"] for c in plain["customers"]] == measure_binding(
        sample.data, BindingConfig(window_days=90)).score.tolist()


def test_binding_problems(client: Any) -> None:
    body = _binding_body()
    body["relationships"][3]["employee_id"] = "E-999"
    doc = _problem(client.post("/binding", json=body), 422, "invalid-input")
    assert doc["field"] == "relationships.employee_id" and doc["row"] == 3
    body = _binding_body()
    del body["touchpoints"][5]["timestamp"]
    doc = _problem(client.post("/binding", json=body), 422, "invalid-input")
    assert doc["field"] == "touchpoints.5.timestamp"
    doc = _problem(client.post("/binding", json=_binding_body(values={"C-9999": 1.0})), 422, "invalid-input")
    assert doc["field"] == "values.C-9999"
    _problem(client.post("/binding", content=b"x", headers={"content-type": ARROW}), 415, "unsupported-media-type")


def _log(n_customers: int = 60) -> list[dict[str, Any]]:
    rng = np.random.default_rng(6)
    start = datetime(2024, 1, 1, tzinfo=timezone.utc)
    rows = []
    for c in range(n_customers):
        first = rng.integers(0, 100)
        for k in range(1 + rng.poisson(3)):
            day = int(first + k * rng.integers(1, 30))
            rows.append({"customer_id": f"u{c}", "timestamp": (start + timedelta(days=day)).isoformat(),
                         "amount": round(float(rng.gamma(5.0, 4.0)), 2) + 1.0})
    return rows


def test_fit_returns_the_in_process_model(client: Any) -> None:
    log = _log()
    end = "2024-12-31T00:00:00+00:00"
    r = client.post("/fit", json={"transactions": log, "observation_end": end, "time_unit": "W"})
    assert r.status_code == 200, r.text
    doc = r.json()
    fitted = clvkit.load_json(json.dumps(doc["model"]))
    summary = summarize_transactions([domain.Transaction(**t) for t in log], time_unit="W",
                                     observation_end=datetime.fromisoformat(end))
    expected = BetaGeo().fit(summary)
    assert fitted.params == expected.params
    assert doc["customers"] == len(summary) and doc["transactions"] == len(log)
    assert doc["spend_model"]["model"] == "GammaGamma"


# -- errors --------------------------------------------------------------------------------------------------------

def _problem(r: Any, status: int, slug: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM
    doc: dict[str, Any] = r.json()
    assert doc["type"] == f"urn:clvkit:problem:{slug}" and doc["status"] == status
    assert doc["title"] and doc["detail"] and doc["request_id"] == r.headers["x-request-id"]
    assert "Traceback" not in r.text
    return doc


def _score(client: Any, mutate: Any = None, n: int = 3, **settings: Any) -> Any:
    body = json_body(customers(n, seed=7), **({"model": "cdnow", "horizon": 12, "discount_rate": 0.01} | settings))
    if mutate is not None:
        mutate(body)
    return client.post("/score", json=body)


def test_fractional_count_names_the_field(client: Any) -> None:
    doc = _problem(_score(client, horizon=12.5), 422, "invalid-input")
    assert doc["field"] == "horizon" and "whole number" in doc["errors"][0]["message"]


def test_missing_T_is_named(client: Any) -> None:
    def drop(body: dict[str, Any]) -> None:
        del body["customers"][1]["T"]

    doc = _problem(_score(client, drop), 422, "invalid-input")
    assert doc["field"] == "customers.1.T" and doc["row"] == 1 and doc["customer"] == "c1"
    assert doc["errors"][0]["message"] == "is required"
    assert "has shape" not in doc["detail"]


def test_repeat_customer_with_zero_spend_is_refused(client: Any) -> None:
    def zero(body: dict[str, Any]) -> None:
        row = body["customers"][2]
        row["frequency"], row["recency"], row["monetary_value"] = 3, 5.0, 0.0

    doc = _problem(_score(client, zero), 422, "invalid-input")
    assert doc["field"] == "monetary_value" and doc["row"] == 2 and doc["customer"] == "c2"
    assert "must be > 0 for customers with repeat purchases" in doc["detail"]


def test_batch_invariants_name_the_customer(client: Any) -> None:
    def late(body: dict[str, Any]) -> None:
        row = body["customers"][1]
        row["frequency"], row["recency"], row["T"] = 1, 50.0, 10.0

    doc = _problem(_score(client, late), 422, "invalid-input")
    assert doc["field"] == "recency" and doc["row"] == 1 and doc["customer"] == "c1"


def test_engine_settings_are_problems(client: Any) -> None:
    doc = _problem(_score(client, discount_rate=1.5), 422, "invalid-input")
    assert "discount_rate" in doc["detail"]
    doc = _problem(_score(client, period="fortnight"), 422, "invalid-input")
    assert "period" in doc["detail"]


def test_unknown_and_unnamed_model(client: Any) -> None:
    doc = _problem(_score(client, model="nope"), 404, "unknown-model")
    assert "nope" in doc["detail"] and "cdnow" in doc["detail"]

    def unname(body: dict[str, Any]) -> None:
        del body["model"]

    doc = _problem(_score(client, unname), 422, "invalid-input")
    assert "name one in 'model'" in doc["detail"]


def test_too_large_body_and_too_many_customers(client: Any) -> None:
    big = b'{"customers": [' + b" " * int(MAX_BODY_MB * 1024 * 1024) + b"]}"
    doc = _problem(client.post("/score", content=big, headers={"content-type": "application/json"}), 413,
                   "payload-too-large")
    assert f"{int(MAX_BODY_MB * 1024 * 1024):,}" in doc["detail"]
    doc = _problem(_score(client, n=MAX_CUSTOMERS + 1), 422, "invalid-input")
    assert doc["field"] == "customers" and f"{MAX_CUSTOMERS:,}" in doc["detail"]


def test_media_types(client: Any) -> None:
    _problem(client.post("/score", content=b"a,b\n1,2\n", headers={"content-type": "text/csv"}), 415,
             "unsupported-media-type")
    body = json_body(customers(2, seed=8), model="cdnow", horizon=12, discount_rate=0.01)
    _problem(client.post("/score", json=body, headers={"accept": "text/html"}), 406, "not-acceptable")
    doc = _problem(client.post("/score", content=b"not arrow", headers={"content-type": ARROW},
                               params={"horizon": "12", "discount_rate": "0.01", "model": "cdnow"}), 422,
                   "invalid-input")
    assert "Arrow IPC stream" in doc["detail"]


def test_columnar_problems_name_columns(client: Any) -> None:
    cols = customers(4, seed=9)
    del cols["T"]
    sink = pa.BufferOutputStream()
    table = pa.table(cols)
    with pa.ipc.new_stream(sink, table.schema) as w:
        w.write_table(table)
    doc = _problem(client.post("/score", content=bytes(sink.getvalue()), headers={"content-type": ARROW},
                               params={"horizon": "12", "discount_rate": "0.01", "model": "cdnow"}), 422,
                   "invalid-input")
    assert doc["field"] == "T"


def test_invalid_json_and_unknown_routes(client: Any) -> None:
    _problem(client.post("/score", content=b'{"customers": [', headers={"content-type": "application/json"}), 422,
             "invalid-input")
    r = client.get("/no-such-route")
    assert r.status_code == 404 and r.headers["content-type"] == PROBLEM and r.json()["status"] == 404
    r = client.get("/score")
    assert r.status_code == 405 and r.headers["content-type"] == PROBLEM


def test_fit_problems(client: Any) -> None:
    naive = [{"customer_id": "a", "timestamp": "2024-01-01T00:00:00", "amount": 3.0}]
    doc = _problem(client.post("/fit", json={"transactions": naive}), 422, "invalid-input")
    assert doc["field"].startswith("transactions.0.timestamp")
    doc = _problem(client.post("/fit", json={"transactions": _log(5), "model": "nope"}), 422, "invalid-input")
    assert doc["field"] == "model"


def test_metrics(client: Any) -> None:
    _score(client, horizon=12.5)
    text = client.get("/metrics").text
    assert 'clvkit_requests_total{method="POST",route="/score",status="200"}' in text
    assert 'clvkit_errors_total{status="422",type="invalid-input"}' in text
    assert "clvkit_request_seconds_bucket" in text


# -- OpenAPI -------------------------------------------------------------------------------------------------------

def test_openapi_document(client: Any) -> None:
    doc = client.get("/openapi.json").json()
    assert doc["openapi"].startswith("3.")
    paths = doc["paths"]
    for path, method in (("/score", "post"), ("/tier", "post"), ("/binding", "post"), ("/fit", "post"),
                         ("/models", "get"), ("/models/reload", "post"), ("/health", "get"), ("/metrics", "get")):
        assert method in paths[path], path
    schemas = doc["components"]["schemas"]

    def refs(node: Any) -> Iterator[str]:
        if isinstance(node, dict):
            for k, v in node.items():
                if k == "$ref":
                    yield v
                else:
                    yield from refs(v)
        elif isinstance(node, list):
            for v in node:
                yield from refs(v)

    for ref in refs(doc):  # every reference resolves
        assert ref.startswith("#/components/schemas/") and ref.rsplit("/", 1)[1] in schemas, ref
    score = paths["/score"]["post"]
    assert score["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/ScoreRequest")
    assert {ARROW, PARQUET} <= set(score["requestBody"]["content"])
    assert score["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/ScoreResponse")
    assert score["responses"]["default"]["content"][PROBLEM]["schema"]["$ref"].endswith("/ProblemDocument")
    assert set(schemas["ScoreRequest"]["required"]) == {"customers", "horizon", "discount_rate"}
    assert set(schemas["CustomerIn"]["required"]) == {"customer_id", "frequency", "recency", "T"}
    assert "tier" in schemas["ScoreResult"]["properties"] and "tier" not in schemas["ScoreResult"]["required"]
    binding = paths["/binding"]["post"]
    assert binding["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/BindingRequest")
    assert binding["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/BindingResponse")
    required = set(schemas["BindingRequest"]["required"])
    assert {"employees", "contacts", "relationships", "touchpoints", "as_of"} <= required


# -- concurrency and reload ------------------------------------------------------------------------------------------

def test_concurrent_requests_equal_in_process(server: Server) -> None:
    batches = [customers(50, seed=100 + i) for i in range(8)]
    expected = [in_process(b, horizon=12, discount_rate=0.01) for b in batches]

    def worker(i: int) -> list[bool]:
        with server.client() as c:
            out = []
            for _ in range(15):
                r = c.post("/score", json=json_body(batches[i], model="cdnow", horizon=12, discount_rate=0.01))
                out.append(r.status_code == 200 and as_columns(r.json()["results"]) == expected[i])
            return out

    with ThreadPoolExecutor(8) as pool:
        results = [ok for chunk in pool.map(worker, range(8)) for ok in chunk]
    assert len(results) == 120 and all(results)


def test_model_swap_under_load(served: tuple[Server, Path]) -> None:
    server, root = served
    folder = root / "swap"
    cols = customers(40, seed=11)
    old = in_process(cols, horizon=12, discount_rate=0.01)
    new = in_process(cols, BG2, horizon=12, discount_rate=0.01)
    assert old != new
    v_old = _sha(folder / "manifest.json")
    stop = threading.Event()
    seen: list[tuple[int, str | None, bool]] = []
    lock = threading.Lock()

    def hammer() -> None:
        with server.client() as c:
            while not stop.is_set():
                r = c.post("/score", json=json_body(cols, model="swap", horizon=12, discount_rate=0.01))
                doc = r.json() if r.status_code == 200 else {}
                version = doc.get("model_version")
                got = as_columns(doc["results"]) if doc else None
                consistent = (got == old and version == v_old) or (got == new and version != v_old)
                with lock:
                    seen.append((r.status_code, version, consistent))

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for t in threads:
        t.start()
    try:
        with server.client() as c:
            while len(seen) < 20:
                threading.Event().wait(0.01)
            write_model_folder(folder, BG2, GG)
            v_new = _sha(folder / "manifest.json")
            r = c.post("/models/reload")
            assert r.status_code == 200, r.text
            assert {m["name"]: m["model_version"] for m in r.json()["models"]}["swap"] == v_new
            n_at_swap = len(seen)
            while len(seen) < n_at_swap + 20:
                threading.Event().wait(0.01)
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert all(status == 200 for status, _, _ in seen)
    assert all(ok for _, _, ok in seen)  # every answer is one version's numbers, labelled with that version
    versions = {v for _, v, _ in seen}
    assert versions == {v_old, v_new}
    last = [v for _, v, _ in seen[-8:]]
    assert set(last) == {v_new}
