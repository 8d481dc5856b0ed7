"""The service tutorial (docs/guide/service.md) against a running server: every ``curl`` it shows, run again.

The server serves the folder of ``clvkit demo`` (as the page does); each answer must be the JSON the page prints,
except the fields that differ from run to run (request ids, load times, paths, the model version).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

from _service import ROOT, Server, running_server

from clvkit.cli import main

PAGE = ROOT / "docs" / "guide" / "service.md"
#: Differ from run to run; the model version too, as the demo's model files record the fit's duration.
VOLATILE = ("request_id", "loaded_at", "source", "model_version")


def _examples() -> list[tuple[str, str]]:
    text = PAGE.read_text(encoding="utf-8")
    found = []
    for block in re.findall(r"```console\n(.*?)```", text, flags=re.S):
        lines = block.strip("\n").split("\n")
        if lines[0].startswith("$ curl"):
            found.append((lines[0][2:], "\n".join(lines[1:])))
    return found


def _stable(doc: Any, approx: bool = True) -> Any:
    """The document without its volatile fields, numbers as ``pytest.approx`` to 1e-8: the page shows the numbers of
    the demo's fit when the page was written, and a later optimiser may land a few ulps away (1e-11 seen)."""
    if isinstance(doc, dict):
        return {k: _stable(v, approx) for k, v in doc.items() if k not in VOLATILE}
    if isinstance(doc, list):
        return [_stable(v, approx) for v in doc]
    if approx and isinstance(doc, float):
        return pytest.approx(doc, rel=1e-8)
    return doc


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    root = tmp_path_factory.mktemp("tutorial")
    assert main(["demo", "--quiet", "--output", str(root / "cdnow")]) == 0
    with running_server([root / "cdnow"], log=root / "server.log") as s:
        yield s


def test_the_page_shows_examples() -> None:
    commands = [c for c, _ in _examples()]
    assert any("/score" in c for c in commands) and any("/models/reload" in c for c in commands)
    assert len(commands) >= 6


@pytest.mark.parametrize("command,printed", _examples(), ids=lambda v: str(v)[:40])
def test_example_answers_as_printed(server: Server, command: str, printed: str) -> None:
    port = server.url.rsplit(":", 1)[1]
    run = command.replace("localhost:8000", f"localhost:{port}")
    out = subprocess.run(run, shell=True, capture_output=True, text=True, timeout=60, check=True).stdout
    got = json.loads(out)
    assert _stable(json.loads(printed)) == _stable(got, approx=False)
    versions = re.findall(r'"model_version":\s*"([^"]*)"', out)
    assert all(re.fullmatch(r"[0-9a-f]{64}", v) for v in versions)
