"""The scoring service over HTTP against scoring in process: latency percentiles and throughput.

For each number of server workers (``--workers``, default 1 and 4) a real ``clvkit serve`` process is started on
127.0.0.1 with the published CDNOW BG/NBD + Gamma-Gamma models (a folder as ``clvkit fit`` writes it). Then, for
each batch size (``--sizes``, default 1, 1,000 and 100,000 customers per request) and body format (JSON; an Arrow
IPC stream with an Arrow answer):

- **latency**: requests one after another on one kept-alive connection (``http.client``), the wall time from sending to
  the last byte of the answer; p50, p95 and p99 over ``--requests`` requests (fewer for big batches, see
  ``_count``), after a few unmeasured warm-up requests;
- **server CPU**: the CPU time (user + system, from ``/proc``) the server's processes spent per request during the
  latency loop: unlike the wall times, it hardly depends on what else the machine runs;
- **throughput**: ``--clients`` threads sending the same request for the same number of requests each; requests
  and customers per second over the wall time of the whole burst.

Every answer is checked against in-process scoring (the same numbers: JSON floats round-trip exactly). The
in-process column is :func:`clvkit.valuation.clv` plus P(alive) on a ready :class:`clvkit.CustomerSummary` (what
a caller in the same process pays per batch), p50 over the same number of repetitions.

Targets (issue 17): 1-customer p50 under 2 ms and 1,000-customer p50 under 10 ms (JSON); 100,000 customers by
Arrow within 3x of in-process scoring time.

The client runs on the same machine as the server, so on a small machine the two compete for the cores; the
machine line at the top says how many there are and how loaded they were.

Run ``python benchmarks/bench_service.py`` or ``--smoke`` (1 and 100 customers, 1 worker, few requests).
"""

from __future__ import annotations

import argparse
import io
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
ARROW = "application/vnd.apache.arrow.stream"


def _machine() -> str:
    import platform

    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    return (f"{platform.platform()}; {os.cpu_count()} CPUs, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; "
            f"Python {platform.python_version()}")


def _customers(n: int, seed: int = 1) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    T = rng.uniform(1.0, 78.0, n).round(2)
    frequency = rng.poisson(2.0, n).astype(float)
    recency = np.where(frequency > 0, np.maximum((T * rng.uniform(0.0, 1.0, n)).round(2), 0.01), 0.0)
    money = np.where(frequency > 0, rng.gamma(6.0, 5.0, n).round(2) + 0.01, 0.0)
    return {"customer_id": [f"c{i}" for i in range(n)], "frequency": frequency, "recency": recency, "T": T,
            "monetary_value": money}


def _models(directory: Path) -> Any:
    from clvkit.cli._console import Console
    from clvkit.cli._folder import write_folder
    from clvkit.valuation import BetaGeoParams, FittedBetaGeo, FittedGammaGamma, GammaGammaParams

    bg = FittedBetaGeo(params=BetaGeoParams(r=0.243, alpha=4.414, a=0.793, b=2.426), time_unit="W")
    gg = FittedGammaGamma(params=GammaGammaParams(p=6.25, q=3.74, v=15.44), time_unit="W")
    write_folder(Console(io.StringIO(), io.StringIO(), quiet=True), directory, [bg, gg], None, {})
    return bg, gg


SETTINGS = {"horizon": "12", "discount_rate": "0.01", "period": "M"}  # query parameters of a columnar body


def _bodies(cols: dict[str, Any]) -> dict[str, tuple[bytes, dict[str, str], dict[str, str]]]:
    import json

    import pyarrow as pa

    rows = [{"customer_id": c, "frequency": f, "recency": r, "T": t, "monetary_value": m}
            for c, f, r, t, m in zip(cols["customer_id"], cols["frequency"].tolist(), cols["recency"].tolist(),
                                     cols["T"].tolist(), cols["monetary_value"].tolist(), strict=True)]
    body = json.dumps({"customers": rows, "horizon": 12, "discount_rate": 0.01, "period": "M"}).encode()
    table = pa.table(cols)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as w:
        w.write_table(table)
    return {"json": (body, {"content-type": "application/json", "accept": "application/json"}, {}),
            "arrow": (bytes(sink.getvalue()), {"content-type": ARROW, "accept": ARROW}, SETTINGS)}


def _expected_clv(cols: dict[str, Any], bg: Any, gg: Any) -> list[float]:
    from clvkit import CustomerSummary
    from clvkit.valuation import clv

    s = CustomerSummary(frequency=cols["frequency"], recency=cols["recency"], T=cols["T"],
                        monetary_value=cols["monetary_value"], customer_id=np.array(cols["customer_id"]),
                        time_unit="W")
    return list(clv(bg, gg, s, horizon=12, discount_rate=0.01, period="M").clv.tolist())


def _clv_of(kind: str, content: bytes) -> list[float]:
    if kind == "json":
        import json

        return [r["clv"] for r in json.loads(content)["results"]]
    import pyarrow as pa

    return list(pa.ipc.open_stream(content).read_all().column("clv").to_pylist())


def _in_process_ms(cols: dict[str, Any], bg: Any, gg: Any, reps: int) -> float:
    from clvkit import CustomerSummary
    from clvkit.valuation import clv

    s = CustomerSummary(frequency=cols["frequency"], recency=cols["recency"], T=cols["T"],
                        monetary_value=cols["monetary_value"], customer_id=np.array(cols["customer_id"]),
                        time_unit="W")
    times = []
    for _ in range(reps + 2):
        t0 = time.perf_counter()
        clv(bg, gg, s, horizon=12, discount_rate=0.01, period="M")
        times.append(time.perf_counter() - t0)
    return statistics.median(times[2:]) * 1e3


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(models: Path, workers: int, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    import httpx

    port = _free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    with open(log, "wb") as fh:
        proc = subprocess.Popen([sys.executable, "-m", "clvkit", "serve", "--models", str(models), "--port", str(port),
                                 "--workers", str(workers), "--max-body-mb", "256", "--log-level", "warning"],
                                stdout=fh, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited: {log.read_text()}")
        try:
            if httpx.get(url + "/health", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            proc.kill()
            raise SystemExit(f"the server did not start: {log.read_text()}")
        time.sleep(0.1)
    if workers > 1:
        time.sleep(2.0)  # let every worker finish loading before measuring
    return proc, url


class _Client:
    """One kept-alive HTTP/1.1 connection (the standard library's, lighter than httpx, so the client's own cost
    weighs less in the latency of small requests)."""

    def __init__(self, url: str) -> None:
        import http.client
        from urllib.parse import urlsplit

        parts = urlsplit(url)
        self.conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=300)

    def post(self, body: bytes, headers: dict[str, str], query: dict[str, str]) -> tuple[int, bytes]:
        from urllib.parse import urlencode

        path = "/score" + (f"?{urlencode(query)}" if query else "")
        self.conn.request("POST", path, body=body, headers={**headers, "content-length": str(len(body))})
        r = self.conn.getresponse()
        return r.status, r.read()

    def __enter__(self) -> _Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.conn.close()


def _server_cpu(pid: int) -> float | None:
    """CPU seconds (user + system) used so far by the server process and its workers, from /proc (Linux only).

    The latency of a shared machine depends on what else runs; the CPU the server spends per request does not
    (much), so it is reported beside the percentiles."""
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    pids, total = [pid], 0.0
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(c) for c in children]
        for p in pids:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime (fields 14 and 15 of stat)
    except (OSError, ValueError, IndexError):
        return None
    return total


def _count(n: int, requests: int) -> int:
    """Requests per measurement: ``requests`` for small batches, fewer for big ones (a 100k batch takes ~0.1-1 s)."""
    return max(5, min(requests, int(requests * 1000 / max(n, 1)))) if n > 1000 else requests


def _percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--smoke", action="store_true", help="tiny run: 1 and 100 customers, 1 worker")
    p.add_argument("--sizes", type=int, nargs="+", default=[1, 1_000, 100_000])
    p.add_argument("--workers", type=int, nargs="+", default=[1, 4])
    p.add_argument("--requests", type=int, default=300, help="requests per latency measurement (small batches)")
    p.add_argument("--clients", type=int, default=4, help="threads of the throughput burst")
    args = p.parse_args(argv)
    if args.smoke:
        args.sizes, args.workers, args.requests, args.clients = [1, 100], [1], 20, 2
    print(_machine())
    rows: list[list[str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        models = Path(tmp, "cdnow")
        bg, gg = _models(models)
        data = {n: _customers(n) for n in args.sizes}
        bodies = {n: _bodies(data[n]) for n in args.sizes}
        expected = {n: _expected_clv(data[n], bg, gg) for n in args.sizes}
        in_proc = {n: _in_process_ms(data[n], bg, gg, _count(n, args.requests)) for n in args.sizes}
        for workers in args.workers:
            proc, url = _start(models, workers, Path(tmp, f"server-{workers}.log"))
            try:
                for n in args.sizes:
                    reps = _count(n, args.requests)
                    for kind, (body, headers, query) in bodies[n].items():
                        with _Client(url) as c:
                            for _ in range(3):
                                status, content = c.post(body, headers, query)
                                assert status == 200, content
                                assert _clv_of(kind, content) == expected[n], "answer differs from in-process"
                            lat = []
                            cpu0 = _server_cpu(proc.pid)
                            for _ in range(reps):
                                t0 = time.perf_counter()
                                status, content = c.post(body, headers, query)
                                lat.append((time.perf_counter() - t0) * 1e3)
                                assert status == 200
                            cpu1 = _server_cpu(proc.pid)
                        cpu_ms = "-" if cpu0 is None or cpu1 is None else f"{(cpu1 - cpu0) / reps * 1e3:.2f}"
                        failures = []

                        def burst(k: int, body: bytes = body, headers: dict[str, str] = headers,
                                  query: dict[str, str] = query, failures: list[int] = failures,
                                  reps: int = reps, url: str = url) -> None:
                            with _Client(url) as c:
                                for _ in range(max(1, reps // args.clients)):
                                    try:
                                        if c.post(body, headers, query)[0] != 200:
                                            failures.append(k)
                                    except OSError:  # a dropped connection counts as a failed request
                                        failures.append(k)
                                        return

                        threads = [threading.Thread(target=burst, args=(k,)) for k in range(args.clients)]
                        t0 = time.perf_counter()
                        for t in threads:
                            t.start()
                        for t in threads:
                            t.join()
                        wall = time.perf_counter() - t0
                        sent = args.clients * max(1, reps // args.clients)
                        assert not failures, f"{len(failures)} failed requests"
                        rows.append([f"{n:,}", kind, str(workers), str(reps), f"{_percentile(lat, 50):.2f}",
                                     f"{_percentile(lat, 95):.2f}", f"{_percentile(lat, 99):.2f}", cpu_ms,
                                     f"{sent / wall:,.1f}", f"{sent * n / wall:,.0f}", f"{in_proc[n]:.2f}",
                                     f"{_percentile(lat, 50) / in_proc[n]:.1f}x"])
                        print(" | ".join(rows[-1]), flush=True)
            finally:
                proc.terminate()
                proc.wait(timeout=60)
    headers = ["customers/request", "body", "workers", "requests", "p50 ms", "p95 ms", "p99 ms", "server CPU ms",
               "requests/s", "customers/s", "in-process ms", "p50 / in-process"]
    print()
    print("| " + " | ".join(headers) + " |")
    print("|" + "|".join("---" for _ in headers) + "|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
