"""``clvkit serve --models DIR --host 127.0.0.1 --port 8000``: the scoring service (:mod:`clvkit.service`).

Loads the models first (a folder written by ``clvkit fit``, a folder of such folders or model files), so a bad
folder is reported as one line with exit status 2 before any port is opened; then runs uvicorn until SIGINT or
SIGTERM, after which uvicorn stops taking connections and finishes the requests under way (graceful shutdown).
Logs are JSON lines on stderr (``--log-format text`` for plain lines); there is no access log besides the
service's own line per request (with its request id and the worker's process id). With ``--workers N`` the workers
share a reload stamp in a temporary folder, so ``POST /models/reload`` (which one worker receives) reloads them all.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
from typing import Any

from ..errors import InvalidInputError
from ._args import Parents, amount, positive_int
from ._console import Console

__all__ = ["register", "run"]


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be a port number in 0..65535; got {text!r}")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds; got {text!r}")
    return value


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], parents: Parents) -> None:
    """Add ``serve`` to the subcommands."""
    serve = sub.add_parser(
        "serve", parents=[parents.common], help="run the scoring service (HTTP; the 'service' extra)",
        description="Serve saved models over HTTP: POST /score, /tier, /binding, /fit; GET /models, /health, /metrics, "
                    "/openapi.json. Errors are application/problem+json.")
    serve.add_argument("--models", required=True, nargs="+", metavar="PATH",
                       help="a folder written by 'clvkit fit', a folder of such folders, or model JSON files")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=_port, default=8000, help="port (default 8000; 0 picks a free one)")
    serve.add_argument("--workers", type=positive_int, default=1, help="server processes (default 1)")
    serve.add_argument("--spend", type=amount, metavar="AMOUNT",
                       help="fixed spend per purchase for models without a spend model")
    serve.add_argument("--max-body-mb", type=_seconds, default=64.0, metavar="MB",
                       help="largest request body in MiB (default 64; larger ones get 413)")
    serve.add_argument("--max-customers", type=positive_int, default=1_000_000,
                       help="most customers per request (default 1,000,000; more get 422)")
    serve.add_argument("--fit-timeout", type=_seconds, default=60.0, metavar="SECONDS",
                       help="time bound of POST /fit (default 60; longer fits get 503)")
    serve.add_argument("--reload-interval", type=_seconds, metavar="SECONDS",
                       help="look at the model files this often and reload them when they change (default: only on "
                            "POST /models/reload, which reaches every worker)")
    serve.add_argument("--log-level", default="info", choices=("debug", "info", "warning", "error"))
    serve.add_argument("--log-format", default="json", choices=("json", "text"))
    serve.set_defaults(handler=run)


def run(args: argparse.Namespace, console: Console) -> int:
    """Run ``clvkit serve``; return the exit status once the server has stopped."""
    from .._frames import require
    from ..service import create_app
    from ..service._logging import configure_logging
    from ..service.app import OPTIONS_ENV, freeze_heap

    uvicorn = require("uvicorn")
    options: dict[str, Any] = {"models": [os.path.abspath(p) for p in args.models], "spend": args.spend,
                               "max_body_bytes": int(args.max_body_mb * 1024 * 1024),
                               "max_customers": args.max_customers, "fit_timeout": args.fit_timeout,
                               "reload_interval": args.reload_interval}
    app = create_app(**options)  # loads the models: a bad folder fails here, before a port is opened
    configure_logging(args.log_level, args.log_format)  # (after: a refused start leaves the process's logging alone)
    common: dict[str, Any] = {"host": args.host, "port": args.port, "log_config": None, "access_log": False,
                              "timeout_graceful_shutdown": 30}
    if args.workers == 1:
        freeze_heap()
        uvicorn.run(app, **common)
        return 0
    if args.port == 0:
        raise InvalidInputError("--port 0 (a free port) needs --workers 1: the workers must share one known port.")
    # The workers share a reload stamp: POST /models/reload reaches one of them, which announces the reload there,
    # and every other worker reloads before its next request (see create_app's reload_stamp).
    stamp_dir = tempfile.mkdtemp(prefix="clvkit-serve-")
    try:
        os.environ[OPTIONS_ENV] = json.dumps({**options, "reload_stamp": os.path.join(stamp_dir, "reload-stamp"),
                                              "log_level": args.log_level, "log_format": args.log_format})
        uvicorn.run("clvkit.service.app:app_from_environment", factory=True, workers=args.workers, **common)
    finally:
        shutil.rmtree(stamp_dir, ignore_errors=True)
    return 0
