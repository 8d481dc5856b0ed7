"""Hostile covariate files for ``clvkit fit --covariates`` and ``clvkit score --covariates``.

Every case ends with exit 0 (a byte-order mark is fine) or exit 2 and one error line, and leaves no model folder,
scores file or temporary file behind. Outcomes are counted in the hardening probe table.
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path
from typing import Any

import pytest

from clvkit.cli import main

from ._probe import CORRECT, OTHER, TYPED, record

AREA = "cli covariates"


def _run(argv: list[str]) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            status = main(argv)
        except SystemExit as exc:
            status = exc.code if isinstance(exc.code, int) else 2
    return status, err.getvalue()


def _judge(status: int, stderr: str, expect_ok: bool) -> None:
    lines = [line for line in stderr.splitlines() if line.strip()]
    one_error = bool(lines) and lines[-1].startswith("clvkit") and sum(": error: " in x for x in lines) == 1
    if status == 0 and "Traceback" not in stderr and expect_ok:
        record(AREA, CORRECT)
    elif status == 2 and "Traceback" not in stderr and one_error and not expect_ok:
        record(AREA, TYPED)
    else:
        record(AREA, OTHER)
        raise AssertionError(f"exit {status}, stderr:\n{stderr}")


def _no_partial(folder: Path) -> None:
    leftovers = [p.name for p in folder.rglob("*") if p.name.startswith(".") or p.suffix == ".tmp"]
    assert leftovers == [], leftovers


@pytest.fixture(scope="module")
def base(shared_data: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    d = tmp_path_factory.mktemp("covharden")
    lines = Path(shared_data("apparel_trans.csv")).read_text().splitlines()
    log = d / "log.csv"
    log.write_text("\n".join([lines[0], *(x for x in lines[1:] if x.split(",")[1] <= "2006-12-31")]) + "\n")
    rows = [x.split(",") for x in Path(shared_data("apparel_static_cov.csv")).read_text().splitlines()[1:]]
    # Channel as text (shop/web) so that levels are coded; Gender as a number.
    body = [f"{i},{g},{'web' if c == '1' else 'shop'}" for i, g, c in rows]
    good = d / "good.csv"
    good.write_text("Id,Gender,Channel\n" + "\n".join(body) + "\n")
    folder = d / "model"
    status, err = _run(["fit", str(log), "--customer-id", "Id", "--datetime", "Date", "--freq", "W",
                        "--covariates", str(good), "-o", str(folder)])
    assert status == 0, err
    return {"dir": d, "log": log, "body": body, "folder": folder}


CASES = {
    "missing column": ("Id,Gender\n", lambda b: [",".join(x.split(",")[:2]) for x in b], False),
    "duplicate ids": ("Id,Gender,Channel\n", lambda b: [*b, b[0]], False),
    "unknown level": ("Id,Gender,Channel\n", lambda b: [b[0].rsplit(",", 1)[0] + ",fax", *b[1:]], False),
    "non-numeric": ("Id,Gender,Channel\n", lambda b: [b[0].split(",")[0] + ",male," + b[0].split(",")[2], *b[1:]],
                    False),
    "empty cell": ("Id,Gender,Channel\n", lambda b: [b[0].split(",")[0] + ",," + b[0].split(",")[2], *b[1:]], False),
    "missing customer": ("Id,Gender,Channel\n", lambda b: b[1:], False),
    "bom": ("\ufeffId,Gender,Channel\n", lambda b: b, True),
    "not utf-8": ("Id,Gender,Channel\n", lambda b: [*b[:-1], b[-1] + "\udcff"], False),
    "empty file": ("", lambda b: [], False),
    "header only": ("Id,Gender,Channel\n", lambda b: [], False),
}


def _write(path: Path, header: str, body: list[str]) -> None:
    path.write_bytes((header + "".join(x + "\n" for x in body)).encode("utf-8", "surrogateescape"))


@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_covariates_in_fit(base: dict[str, Any], case: str) -> None:
    header, make, ok = CASES[case]
    if case == "unknown level":  # a new level is fine when fitting: it is a level of the new design
        ok = True
    d = base["dir"] / f"fit-{case.replace(' ', '-')}"
    d.mkdir()
    cov = d / "cov.csv"
    _write(cov, header, make(base["body"]))
    status, err = _run(["fit", str(base["log"]), "--customer-id", "Id", "--datetime", "Date", "--freq", "W",
                        "--covariates", str(cov), "--covariate-columns", "Gender", "Channel", "-o", str(d / "model")])
    _judge(status, err, ok)
    assert (d / "model").exists() == (status == 0)
    _no_partial(d)


@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_covariates_in_score(base: dict[str, Any], case: str) -> None:
    header, make, ok = CASES[case]
    d = base["dir"] / f"score-{case.replace(' ', '-')}"
    d.mkdir()
    cov = d / "cov.csv"
    _write(cov, header, make(base["body"]))
    status, err = _run(["score", str(base["log"]), "--models", str(base["folder"]), "--spend", "10",
                        "--covariates", str(cov), "-o", str(d / "scores.csv")])
    _judge(status, err, ok)
    assert (d / "scores.csv").exists() == (status == 0)
    _no_partial(d)
