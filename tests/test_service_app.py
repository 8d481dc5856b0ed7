"""The service in process (httpx over ASGI): loading, reload, the errors a real server cannot be made to show
on demand (500 without a leak, a fit that runs out of time, a reload that fails), the wire schemas, ``load_json``
of a path and ``clvkit serve``'s refusal of a bad folder."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("fastapi")
httpx = pytest.importorskip("httpx")

from _service import BG, GG, as_columns, customers, in_process, json_body, write_model_folder  # noqa: E402

import clvkit  # noqa: E402
from clvkit.cli import main  # noqa: E402
from clvkit.errors import InvalidInputError  # noqa: E402
from clvkit.service import app as app_module  # noqa: E402
from clvkit.service import create_app, problem_document  # noqa: E402
from clvkit.service.schemas import ScoreRequest  # noqa: E402


def call(app: Any, method: str, path: str, **kw: Any) -> Any:
    async def go() -> Any:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://svc") as c:
            return await c.request(method, path, **kw)

    return asyncio.run(go())


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    d = tmp_path / "cdnow"
    write_model_folder(d)
    return d


def test_single_file_with_fixed_spend(tmp_path: Path) -> None:
    path = tmp_path / "bg.json"
    path.write_text(BG.to_json(), encoding="utf-8")
    with pytest.raises(InvalidInputError, match="has no spend model"):
        create_app(path)
    app = create_app(path, spend=25.0)
    cols = customers(20, seed=1)
    r = call(app, "POST", "/score", json=json_body(cols, horizon=10, discount_rate=0.02))
    assert r.status_code == 200
    assert as_columns(r.json()["results"]) == in_process(cols, BG, 25.0, horizon=10, discount_rate=0.02)


def test_spend_model_file_alone_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "gg.json"
    path.write_text(GG.to_json(), encoding="utf-8")
    with pytest.raises(InvalidInputError, match="not a transaction model"):
        create_app(path, spend=1.0)


def test_bad_bounds_and_paths(folder: Path, tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="max_customers"):
        create_app(folder, max_customers=0)
    with pytest.raises(InvalidInputError, match="does not exist"):
        create_app(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InvalidInputError, match=r"no manifest\.json and no model folders"):
        create_app(tmp_path / "empty")


def test_internal_error_does_not_leak(folder: Path, monkeypatch: pytest.MonkeyPatch, caplog: Any) -> None:
    app = create_app(folder)

    def broken(*_: Any, **__: Any) -> Any:
        raise RuntimeError("secret /etc/shadow detail")

    monkeypatch.setattr(app_module, "score", broken)
    with caplog.at_level("ERROR", logger="clvkit.service"):
        r = call(app, "POST", "/score", json=json_body(customers(2), horizon=3, discount_rate=0.0),
                 headers={"X-Request-ID": "boom-1"})
    assert r.status_code == 500 and r.headers["content-type"] == "application/problem+json"
    doc = r.json()
    assert doc["type"] == "urn:clvkit:problem:internal" and "secret" not in r.text and "boom-1" in doc["detail"]
    assert any("secret" in str(rec.exc_info[1]) for rec in caplog.records if rec.exc_info)


def test_fit_timeout_is_503(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = create_app(folder, fit_timeout=0.05)

    def slow(req: Any) -> Any:
        time.sleep(0.5)
        return {}

    monkeypatch.setattr(app_module, "_fit_models", slow)
    log = [{"customer_id": "a", "timestamp": "2024-01-01T00:00:00+00:00", "amount": 3.0}]
    r = call(app, "POST", "/fit", json={"transactions": log})
    assert r.status_code == 503 and r.json()["type"] == "urn:clvkit:problem:fit-timeout"


def test_fit_bounds_rows(folder: Path) -> None:
    app = create_app(folder, max_fit_transactions=2)
    log = [{"customer_id": "a", "timestamp": f"2024-01-0{d}T00:00:00+00:00", "amount": 3.0} for d in (1, 2, 3)]
    r = call(app, "POST", "/fit", json={"transactions": log})
    assert r.status_code == 422 and r.json()["field"] == "transactions"


def test_failed_reload_keeps_the_old_models(folder: Path) -> None:
    app = create_app(folder)
    before = call(app, "GET", "/models").json()
    (folder / "beta_geo.json").write_text("{}", encoding="utf-8")  # no longer matches the manifest
    r = call(app, "POST", "/models/reload")
    assert r.status_code == 409 and r.json()["type"] == "urn:clvkit:problem:reload-failed"
    assert "manifest" in r.json()["detail"]
    assert call(app, "GET", "/models").json() == before
    cols = customers(5, seed=2)
    r = call(app, "POST", "/score", json=json_body(cols, horizon=4, discount_rate=0.0))
    assert as_columns(r.json()["results"]) == in_process(cols, horizon=4, discount_rate=0.0)


def test_watcher_reloads_changed_files(folder: Path) -> None:
    from clvkit.valuation import BetaGeoParams, FittedBetaGeo

    other = FittedBetaGeo(params=BetaGeoParams(r=0.5, alpha=6.0, a=0.4, b=3.0), time_unit="W")
    app = create_app(folder, reload_interval=0.05)
    cols = customers(5, seed=3)

    async def scenario() -> tuple[Any, Any]:
        async with app.router.lifespan_context(app):
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://svc") as c:
                first = (await c.post("/score", json=json_body(cols, horizon=4, discount_rate=0.0))).json()
                write_model_folder(folder, other, GG)
                for _ in range(600):  # up to 30 s on a busy machine
                    await asyncio.sleep(0.05)
                    second = (await c.post("/score", json=json_body(cols, horizon=4, discount_rate=0.0))).json()
                    if second["model_version"] != first["model_version"]:
                        break
                return first, second

    first, second = asyncio.run(scenario())
    assert as_columns(first["results"]) == in_process(cols, horizon=4, discount_rate=0.0)
    assert as_columns(second["results"]) == in_process(cols, other, horizon=4, discount_rate=0.0)


def test_reload_stamp_carries_a_reload_to_the_other_apps(folder: Path, tmp_path: Path) -> None:
    from clvkit.valuation import BetaGeoParams, FittedBetaGeo

    other = FittedBetaGeo(params=BetaGeoParams(r=0.5, alpha=6.0, a=0.4, b=3.0), time_unit="W")
    stamp = tmp_path / "stamp"
    a, b, alone = (create_app(folder, reload_stamp=stamp), create_app(folder, reload_stamp=stamp),
                   create_app(folder))
    cols = customers(6, seed=4)
    body = json_body(cols, horizon=4, discount_rate=0.0)
    before = {name: call(app, "POST", "/score", json=body).json()["model_version"]
              for name, app in (("a", a), ("b", b), ("alone", alone))}
    assert len(set(before.values())) == 1
    (folder / "beta_geo.json").write_text("{}", encoding="utf-8")  # a failed reload announces nothing
    assert call(a, "POST", "/models/reload").status_code == 409
    assert not stamp.exists()
    write_model_folder(folder, other, GG)
    assert call(a, "POST", "/models/reload").status_code == 200
    assert stamp.exists()
    got_b = call(b, "POST", "/score", json=body).json()  # b was not asked: it follows the stamp
    assert got_b["model_version"] != before["b"]
    assert as_columns(got_b["results"]) == in_process(cols, other, horizon=4, discount_rate=0.0)
    assert call(b, "GET", "/models").json()["models"][0]["model_version"] == got_b["model_version"]
    assert call(alone, "POST", "/score", json=body).json()["model_version"] == before["alone"]  # no stamp: no news


def test_wire_schema_types() -> None:
    base = {"customers": [{"customer_id": "a", "frequency": 1, "recency": 1.0, "T": 2.0}], "discount_rate": 0.0}
    assert ScoreRequest.model_validate_json(json.dumps({**base, "horizon": 3.0})).horizon == 3
    for bad in (True, "3", 3.5):
        with pytest.raises(InvalidInputError) as err:
            ScoreRequest.model_validate_json(json.dumps({**base, "horizon": bad}))
        assert err.value.columns == ("horizon",)
    with pytest.raises(InvalidInputError) as err:
        ScoreRequest.model_validate_json(json.dumps({**base, "horizon": 3, "extra": 1}))
    assert err.value.columns == ("extra",)


def test_problem_document_of_a_batch_error() -> None:
    with pytest.raises(InvalidInputError) as err:
        clvkit.CustomerSummary(frequency=[1, 1], recency=[1.0, 9.0], T=[2.0, 3.0], customer_id=["x", "y"])
    doc = problem_document(err.value, customer_ids=["x", "y"], request_id="r")
    assert (doc["status"], doc["field"], doc["row"], doc["customer"]) == (422, "recency", 1, "y")


def test_load_json_of_a_path(tmp_path: Path) -> None:
    path = tmp_path / "bg.json"
    path.write_text(BG.to_json(), encoding="utf-8")
    assert clvkit.load_json(path) == BG == clvkit.load_json(str(path))
    with pytest.raises(InvalidInputError, match="no such file"):
        clvkit.load_json(tmp_path / "missing.json")
    with pytest.raises(InvalidInputError, match="a folder"):
        clvkit.load_json(tmp_path)
    big = tmp_path / "big.json"
    big.write_bytes(b" " * (clvkit.persistence.MAX_DOCUMENT_BYTES + 10))
    with pytest.raises(InvalidInputError, match="reads at most"):
        clvkit.load_json(big)


def test_serve_refuses_a_bad_folder_before_listening(tmp_path: Path, capsys: Any) -> None:
    assert main(["serve", "--models", str(tmp_path / "nowhere"), "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert "clvkit serve: error:" in err and "does not exist" in err


def test_monetary_value_only_for_repeat_customers(folder: Path) -> None:
    app = create_app(folder)
    rows = [{"customer_id": "new", "frequency": 0, "recency": 0, "T": 10.0},
            {"customer_id": "old", "frequency": 2, "recency": 5.0, "T": 10.0, "monetary_value": 30.0}]
    r = call(app, "POST", "/score", json={"customers": rows, "horizon": 4, "discount_rate": 0.0})
    assert r.status_code == 200, r.text
    cols = {"customer_id": ["new", "old"], "frequency": np.array([0.0, 2.0]), "recency": np.array([0.0, 5.0]),
            "T": np.array([10.0, 10.0]), "monetary_value": np.array([0.0, 30.0])}
    assert as_columns(r.json()["results"]) == in_process(cols, horizon=4, discount_rate=0.0)
    del rows[1]["monetary_value"]
    r = call(app, "POST", "/score", json={"customers": rows, "horizon": 4, "discount_rate": 0.0})
    assert r.status_code == 422 and (r.json()["field"], r.json()["customer"]) == ("monetary_value", "old")


def test_missing_extras_are_named(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from clvkit.errors import MissingDependencyError

    monkeypatch.setitem(sys.modules, "prometheus_client", None)  # an import of it now fails
    with pytest.raises(MissingDependencyError, match=r"clvkit\[metrics\]"):
        create_app(folder, metrics=True)
    assert call(create_app(folder), "GET", "/metrics").status_code == 404  # metrics=None: served only when installed
    monkeypatch.setitem(sys.modules, "fastapi", None)
    with pytest.raises(MissingDependencyError, match=r"clvkit\[service\]"):
        create_app(folder)
