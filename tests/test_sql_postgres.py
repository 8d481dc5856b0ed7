"""clvkit.sql's "postgresql" queries, run by psql on a throwaway PostgreSQL cluster, equal clvkit.summarize().

The fixture starts a cluster in a temporary folder (Unix socket only, no TCP port) with the PostgreSQL server
binaries found on the machine and stops it afterwards; without them (or as root without a ``postgres`` user to
run them as) the tests are skipped, naming why. There is no PostgreSQL driver in the test environment, so the
SQL text goes through ``psql`` and its tab-separated output is parsed here; PostgreSQL prints doubles in their
shortest exact form (``extra_float_digits`` defaults to 1 since version 12).
"""

from __future__ import annotations

import csv
import datetime as dt
import glob
import io
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from _sqllogs import UNITS, US_PER_DAY, assert_compressed_same, ends_of, generated_log

import clvkit
from clvkit import sql

pd = pytest.importorskip("pandas")

Psql = Callable[..., list[list[str]]]


def _binary(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


@pytest.fixture(scope="module")
def psql() -> Iterator[Psql]:
    tools = {name: _binary(name) for name in ("initdb", "pg_ctl", "psql")}
    missing = [name for name, path in tools.items() if path is None]
    if missing:
        pytest.skip(f"PostgreSQL server binaries not found: {missing}")
    as_user: list[str] = []
    if os.geteuid() == 0:  # the server refuses to run as root: run it as the postgres user
        if shutil.which("runuser") is None or subprocess.run(["id", "postgres"], capture_output=True).returncode:
            pytest.skip("running as root without a 'postgres' user (and runuser) to start PostgreSQL as")
        as_user = ["runuser", "-u", "postgres", "--"]
    folder = Path(tempfile.mkdtemp(prefix="clvkit-pg-"))
    if as_user:
        shutil.chown(folder, "postgres")
    data = folder / "data"
    env = {**os.environ, "PGTZ": "America/New_York"}  # flooring must not depend on the session time zone
    started = False
    try:
        init = subprocess.run([*as_user, str(tools["initdb"]), "-D", str(data), "-A", "trust", "-U", "postgres",
                               "--no-sync", "-E", "UTF8", "--locale=C"], capture_output=True, text=True)
        if init.returncode:
            pytest.skip(f"initdb failed: {init.stderr.strip()[-300:]}")
        start = subprocess.run([*as_user, str(tools["pg_ctl"]), "-D", str(data), "-w", "-l", str(folder / "log"),
                                "-o", f"-k {folder} -c listen_addresses='' -p 5432 -c fsync=off", "start"],
                               capture_output=True, text=True)
        if start.returncode:
            pytest.skip(f"PostgreSQL did not start: {start.stderr.strip()[-300:]}")
        started = True

        def run(query: str, stdin: str | None = None) -> list[list[str]]:
            out = subprocess.run([*as_user, str(tools["psql"]), "-h", str(folder), "-p", "5432", "-U", "postgres",
                                  "-d", "postgres", "-X", "-q", "-At", "-F", "\t", "-v", "ON_ERROR_STOP=1",
                                  "-c", query], input=stdin, capture_output=True, text=True, env=env)
            if out.returncode:
                raise AssertionError(f"psql failed: {out.stderr}\n{query}")
            return [line.split("\t") for line in out.stdout.splitlines() if line]

        yield run
    finally:
        if started:
            subprocess.run([*as_user, str(tools["pg_ctl"]), "-D", str(data), "-m", "immediate", "stop"],
                           capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


_TYPES = {"DATE": "DATE", "TIMESTAMP": "TIMESTAMP", "TIMESTAMPTZ": "TIMESTAMPTZ", "DOUBLE": "DOUBLE PRECISION"}


def _time_text(us: int, kind: str) -> str:
    when = dt.datetime(1970, 1, 1) + dt.timedelta(microseconds=us)
    if kind == "DATE":
        return when.date().isoformat()
    if kind == "DOUBLE":
        return repr(us / float(US_PER_DAY))
    return when.isoformat(sep=" ") + ("+00:00" if kind == "TIMESTAMPTZ" else "")


def load(psql: Psql, log: dict[str, Any], kind: str, string_ids: bool = False) -> None:
    psql(f'DROP TABLE IF EXISTS sales; CREATE TABLE sales (cust {"TEXT" if string_ids else "BIGINT"}, '
         f'"when" {_TYPES[kind]}, amount DOUBLE PRECISION)')
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for c, us, a in zip(log["cust"].tolist(), log["us"].tolist(), log["amount"].tolist(), strict=True):
        writer.writerow([c, _time_text(us, kind), repr(a)])
    psql("COPY sales FROM STDIN WITH (FORMAT csv)", stdin=buffer.getvalue())


def memory_times(log: dict[str, Any], kind: str) -> Any:
    us = log["us"]
    if kind == "DATE":
        return (us // US_PER_DAY).astype("datetime64[D]")
    if kind == "TIMESTAMP":
        return us.astype("datetime64[us]")
    if kind == "TIMESTAMPTZ":
        return pd.Series(us.astype("datetime64[us]")).dt.tz_localize("UTC")
    return us / float(US_PER_DAY)


def pg_summary(rows: list[list[str]], string_ids: bool) -> dict[str, Any]:
    """The query's rows as columns, sorted by id in numpy's order (the database's text order may differ)."""
    ids = np.array([r[0] if string_ids else int(r[0]) for r in rows], dtype=object if string_ids else np.int64)
    order = np.argsort(ids, kind="stable")
    values = np.array([[float(v) for v in r[1:]] for r in rows]).reshape(len(rows), -1)[order]
    return {"ids": ids[order].tolist(), "values": values}


def compare(psql: Psql, log: dict[str, Any], kind: str, *, unit: str, holdout: bool, refunds: str = "error",
            string_ids: bool = False) -> clvkit.CustomerSummary:
    load(psql, log, kind, string_ids)
    ends = ends_of(log, "TIMESTAMPTZ" if kind == "TIMESTAMPTZ" else kind, holdout)
    args: dict[str, Any] = {"table": "sales", "customer_id": "cust", "datetime": "when", "monetary_value": "amount",
                            "time_unit": unit, "refunds": refunds, **ends}
    want = clvkit.summarize({"cust": log["cust"], "when": memory_times(log, kind), "amount": log["amount"]},
                            customer_id="cust", datetime="when", monetary_value="amount", time_unit=unit,
                            refunds=refunds, **ends)
    got = pg_summary(psql(sql.summary_query("postgresql", **args)), string_ids)
    assert want.customer_id is not None and want.monetary_value is not None
    assert got["ids"] == want.customer_id.tolist()
    values = got["values"]
    for j, name in enumerate(("frequency", "recency", "T")):
        np.testing.assert_array_equal(values[:, j], getattr(want, name), err_msg=name)
    np.testing.assert_allclose(values[:, 3], want.monetary_value, rtol=1e-12, atol=1e-12)
    if holdout:
        assert want.frequency_holdout is not None and want.monetary_value_holdout is not None
        np.testing.assert_array_equal(values[:, 4], want.frequency_holdout)
        np.testing.assert_allclose(values[:, 5], want.monetary_value_holdout, rtol=1e-12, atol=1e-12)
    else:
        assert values.shape[1] == 4
    return want


@pytest.mark.parametrize("unit", UNITS)
@pytest.mark.parametrize("kind", ["DATE", "TIMESTAMP", "TIMESTAMPTZ"])
@pytest.mark.parametrize("holdout", [False, True])
def test_postgresql_summary_equals_summarize(psql: Psql, unit: str, kind: str, holdout: bool) -> None:
    log = generated_log(1000 + 100 * UNITS.index(unit) + 10 * ["DATE", "TIMESTAMP", "TIMESTAMPTZ"].index(kind)
                        + holdout)
    want = compare(psql, log, kind, unit=unit, holdout=holdout)
    assert len(want) > 10


@pytest.mark.parametrize("refunds", ["drop", "net"])
@pytest.mark.parametrize("holdout", [False, True])
def test_postgresql_refunds_and_string_ids(psql: Psql, refunds: str, holdout: bool) -> None:
    log = generated_log(77 + holdout, refunds=True, string_ids=True)
    compare(psql, log, "TIMESTAMP", unit="W", holdout=holdout, refunds=refunds, string_ids=True)


def test_postgresql_numeric_times(psql: Psql) -> None:
    compare(psql, generated_log(78), "DOUBLE", unit="D", holdout=True)


def test_postgresql_compressed_and_checks(psql: Psql) -> None:
    log = generated_log(79, n_customers=2000, n_rows=5000, span_days=140)
    want = compare(psql, log, "TIMESTAMP", unit="W", holdout=False)
    ends = ends_of(log, "TIMESTAMP", False)
    args: dict[str, Any] = {"table": "sales", "customer_id": "cust", "datetime": "when", "time_unit": "W", **ends}
    rows = np.array([[float(v) for v in r] for r in psql(sql.compressed_query("postgresql", **args))])
    expected = want.compress(include_monetary=False).summary
    got = clvkit.CustomerSummary(frequency=rows[:, 0], recency=rows[:, 1], T=rows[:, 2], weights=rows[:, 3],
                                 time_unit="W", observation_end=expected.observation_end)
    assert_compressed_same(got, expected)
    assert got.total_weight == len(want) and len(got) < len(want) / 2

    psql("INSERT INTO sales VALUES (1, TIMESTAMP '2040-01-01', -3.0), (NULL, TIMESTAMP '1960-01-01', 'NaN')")
    check = sql.check_query("postgresql", monetary_value="amount", **args)
    (row,) = psql(check)
    found = dict(zip(["n_rows", "null_id", "bad_time", "null_amount", "nonfinite_amount", "negative", "first_time",
                      "last_time", "n_kept", "after_end"], row, strict=True))
    assert (found["n_rows"], found["null_id"], found["nonfinite_amount"], found["negative"], found["after_end"]) == (
        str(len(log["us"]) + 2), "1", "1", "1", "1")
    first = (dt.datetime(1960, 1, 1) - dt.datetime(1970, 1, 1)) // dt.timedelta(microseconds=1)
    assert int(found["first_time"]) == first < int(log["us"].min())  # a row before the log: the minimum
