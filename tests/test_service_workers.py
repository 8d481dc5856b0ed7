"""``clvkit serve --workers 2`` in a real process: one ``POST /models/reload`` reaches every worker.

The reload is received by one worker; the other learns of it through the shared reload stamp before its next
request. Requests go out on fresh connections (no keep-alive), so both workers answer; which process answered
each one is read from the server's JSON log lines (their ``pid``).
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

from _service import GG, as_columns, customers, in_process, json_body, running_server, write_model_folder

from clvkit.valuation import BetaGeoParams, FittedBetaGeo

#: The replacement model: BG/NBD at other parameters than the published ones.
BG2 = FittedBetaGeo(params=BetaGeoParams(r=0.5, alpha=6.0, a=0.4, b=3.0), time_unit="W")


def _log_lines(log: Path) -> list[dict[str, Any]]:
    out = []
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith("{"):
            try:
                out.append(json.loads(line))
            except ValueError:
                continue
    return out


def test_one_reload_reaches_every_worker_under_load(tmp_path: Path) -> None:
    root = tmp_path / "models"
    write_model_folder(root / "cdnow")
    folder = root / "cdnow"
    v_old = hashlib.sha256((folder / "manifest.json").read_bytes()).hexdigest()
    cols = customers(30, seed=31)
    old = in_process(cols, horizon=12, discount_rate=0.01)
    new = in_process(cols, BG2, horizon=12, discount_rate=0.01)
    assert old != new
    body = json_body(cols, horizon=12, discount_rate=0.01)
    log = tmp_path / "server.log"
    with running_server([root], "--workers", "2", log=log) as server:
        deadline = time.monotonic() + 120
        while len({r["pid"] for r in _log_lines(log) if r.get("message", "").startswith("serving models")}) < 2:
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        stop = threading.Event()
        seen: list[tuple[float, int, str | None, bool]] = []
        lock = threading.Lock()

        def hammer() -> None:
            # one connection per request (no keep-alive), so the kernel hands requests to both workers
            with httpx.Client(base_url=server.url, timeout=60.0,
                              limits=httpx.Limits(max_keepalive_connections=0)) as c:
                while not stop.is_set():
                    sent = time.monotonic()
                    r = c.post("/score", json=body)
                    doc = r.json() if r.status_code == 200 else {}
                    version = doc.get("model_version")
                    got = as_columns(doc["results"]) if doc else None
                    ok = (got == old and version == v_old) or (got == new and version not in (None, v_old))
                    with lock:
                        seen.append((sent, r.status_code, version, ok))

        threads = [threading.Thread(target=hammer) for _ in range(3)]
        for t in threads:
            t.start()
        try:
            while len(seen) < 30:
                time.sleep(0.01)
            write_model_folder(folder, BG2, GG)
            v_new = hashlib.sha256((folder / "manifest.json").read_bytes()).hexdigest()
            r = httpx.post(server.url + "/models/reload", timeout=60.0)
            assert r.status_code == 200, r.text
            reloaded = time.monotonic()
            assert {m["name"]: m["model_version"] for m in r.json()["models"]}["cdnow"] == v_new
            while sum(1 for s in seen if s[0] > reloaded) < 60:
                time.sleep(0.01)
        finally:
            stop.set()
            for t in threads:
                t.join()
        assert all(status == 200 for _, status, _, _ in seen)
        assert all(ok for _, _, _, ok in seen)  # one version's numbers, labelled with that version
        after = [version for sent, _, version, _ in seen if sent > reloaded]
        assert set(after) == {v_new}  # every request sent after the reload's answer, whichever worker took it
        # both workers answered with the new version (a worker that missed the reload would answer the old one)
        scored = [rec for rec in _log_lines(log) if rec.get("path") == "/score" and rec.get("status") == 200]
        assert len({rec["pid"] for rec in scored if rec.get("model_version") == v_new}) == 2
        assert len({rec["pid"] for rec in scored if rec.get("model_version") == v_old}) >= 1
