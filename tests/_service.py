"""Helpers of the service tests: a model folder as `clvkit fit` writes it, a real server, in-process scores."""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from clvkit import CustomerSummary
from clvkit.cli._console import Console
from clvkit.cli._folder import write_folder
from clvkit.valuation import BetaGeoParams, FittedBetaGeo, FittedGammaGamma, GammaGammaParams, clv

ROOT = Path(__file__).resolve().parents[1]

#: The published CDNOW estimates (Fader, Hardie & Lee 2005; Fader & Hardie 2013 note 025), weeks.
BG = FittedBetaGeo(params=BetaGeoParams(r=0.243, alpha=4.414, a=0.793, b=2.426), time_unit="W")
GG = FittedGammaGamma(params=GammaGammaParams(p=6.25, q=3.74, v=15.44), time_unit="W")


def write_model_folder(directory: Path, transaction: Any = BG, spend: Any = GG) -> None:
    """Write ``directory`` as ``clvkit fit`` does (models + manifest.json), replacing an earlier one."""
    write_folder(Console(io.StringIO(), io.StringIO(), quiet=True), directory, [transaction, spend], None, {})


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def client(self, **kw: Any) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=60.0, **kw)


@contextmanager
def running_server(models: Sequence[Path], *extra: str, log: Path) -> Iterator[Server]:
    """``python -m clvkit serve`` on a free port of 127.0.0.1, waited for on /health, stopped by SIGTERM."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    cmd = [sys.executable, "-m", "clvkit", "serve", "--models", *map(str, models), "--host", "127.0.0.1",
           "--port", str(port), *extra]
    with open(log, "wb") as fh:
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, env=env, cwd=str(ROOT))
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the server exited with {proc.returncode}: {log.read_text()}")
            try:
                if httpx.get(url + "/health", timeout=1.0).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server did not answer /health within 60 s: {log.read_text()}")
            time.sleep(0.1)
        yield Server(url, proc, log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def customers(n: int, seed: int = 0, *, id_prefix: str = "c") -> dict[str, Any]:
    """``n`` valid customer summaries in weeks (some without repeat purchases), as columns."""
    rng = np.random.default_rng(seed)
    T = rng.uniform(1.0, 78.0, n).round(2)
    frequency = rng.poisson(2.0, n).astype(float)
    recency = np.where(frequency > 0, np.maximum((T * rng.uniform(0.0, 1.0, n)).round(2), 0.01), 0.0)
    money = np.where(frequency > 0, rng.gamma(6.0, 5.0, n).round(2) + 0.01, 0.0)
    return {"customer_id": [f"{id_prefix}{i}" for i in range(n)], "frequency": frequency, "recency": recency,
            "T": T, "monetary_value": money}


def json_body(cols: dict[str, Any], **settings: Any) -> dict[str, Any]:
    rows = [{"customer_id": c, "frequency": f, "recency": r, "T": t, "monetary_value": m}
            for c, f, r, t, m in zip(cols["customer_id"], cols["frequency"].tolist(), cols["recency"].tolist(),
                                     cols["T"].tolist(), cols["monetary_value"].tolist(), strict=True)]
    return {"customers": rows, **settings}


def in_process(cols: dict[str, Any], transaction: Any = BG, spend: Any = GG, *, horizon: int,
               discount_rate: float, period: Any = None, margin: float = 1.0) -> dict[str, list[Any]]:
    """What a caller in the same process gets: clv() on the summary of the columns."""
    s = CustomerSummary(frequency=cols["frequency"], recency=cols["recency"], T=cols["T"],
                        monetary_value=cols["monetary_value"], customer_id=np.array(cols["customer_id"]),
                        time_unit=transaction.time_unit)
    res = clv(transaction, spend, s, horizon=horizon, discount_rate=discount_rate, period=period, margin=margin)
    assert res.p_alive is not None
    return {"customer_id": list(cols["customer_id"]), "probability_alive": res.p_alive.tolist(),
            "expected_purchases": res.expected_purchases.tolist(), "expected_spend": res.expected_spend.tolist(),
            "clv": res.clv.tolist()}


def as_columns(results: list[dict[str, Any]]) -> dict[str, list[Any]]:
    keys = ("customer_id", "probability_alive", "expected_purchases", "expected_spend", "clv")
    return {k: [r[k] for r in results] for k in keys}
