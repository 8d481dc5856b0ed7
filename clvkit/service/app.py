"""The ASGI application: :func:`create_app` (FastAPI, imported when the app is built).

Routes: ``POST /score``, ``POST /tier``, ``POST /binding``, ``POST /fit``, ``GET /models``, ``POST /models/reload``,
``GET /health``, ``GET /metrics`` (with prometheus-client) and the OpenAPI document at ``GET /openapi.json``
(``/docs`` renders it).

Request bodies are read by the routes themselves rather than by FastAPI's parameter machinery: the size bound is
enforced while the body streams in, JSON goes straight to Pydantic's core, and Arrow/Parquet bodies never pass
through a JSON parser. The OpenAPI document still names every request and answer schema (:func:`_openapi`).
Every error - the library's, the service's, an unknown route - answers ``application/problem+json`` through
:func:`clvkit.service._problems.problem_document`.

Small requests are scored on the event loop (a thread hop costs more than the work); from
:data:`THREAD_FROM_CUSTOMERS` customers or :data:`THREAD_FROM_BYTES` bytes of body on, and for every fit, the work
runs in the thread pool so the server keeps answering ``/health`` (and uvicorn's worker health checks) meanwhile.
"""

import asyncio
import contextlib
import functools
import gc
import json
import logging
import os
import re
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import Any

from .._frames import require
from .._version import __version__
from ..errors import ClvkitError, InvalidInputError, MissingDependencyError, Problem
from ._binding import binding_report
from ._problems import PROBLEM_MEDIA_TYPE, FitTimeoutError, PayloadTooLargeError, problem_document, status_of
from ._scoring import ARROW, JSON, PARQUET, answer_format, body_format, decode_score, encode_scores, score
from ._store import ModelStore, ReloadStamp, sources_of
from .schemas import (
    BindingRequest,
    BindingResponse,
    FitRequest,
    FitResponse,
    Health,
    ModelsResponse,
    ProblemDocument,
    ScoreRequest,
    ScoreResponse,
    TierRequest,
    TierResponse,
)

__all__ = ["DEFAULT_MAX_BODY_BYTES", "DEFAULT_MAX_CUSTOMERS", "DEFAULT_MAX_FIT_TRANSACTIONS", "THREAD_FROM_BYTES",
           "THREAD_FROM_CUSTOMERS", "ReloadError", "create_app", "freeze_heap"]

#: Largest request body read (bytes): 100,000 customers as JSON take about 10 MB.
DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024
#: Most customers scored (or tiered) in one request.
DEFAULT_MAX_CUSTOMERS = 1_000_000
#: Most transactions one ``POST /fit`` takes, and its time bound (seconds).
DEFAULT_MAX_FIT_TRANSACTIONS = 200_000
DEFAULT_FIT_TIMEOUT = 60.0
#: Requests with at least this many customers are scored in the thread pool, smaller ones on the event loop.
THREAD_FROM_CUSTOMERS = 2_000
#: Bodies of at least this many bytes are decoded in the thread pool too (100,000 customers of JSON take seconds).
THREAD_FROM_BYTES = 256 * 1024

logger = logging.getLogger("clvkit.service")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")


class ReloadError(ClvkitError):
    """A model reload failed; the models loaded before stay in service (HTTP 409)."""


def _add_problem_type() -> None:
    from ._problems import PROBLEM_TYPES

    PROBLEM_TYPES.setdefault(ReloadError, (409, "reload-failed", "Model reload failed"))


_add_problem_type()


class _Metrics:
    """Prometheus metrics of one app (its own registry, so several apps in one process do not collide)."""

    def __init__(self) -> None:
        prom = require("prometheus_client")
        self.prom = prom
        self.registry = prom.CollectorRegistry()
        self.requests = prom.Counter("clvkit_requests", "HTTP requests answered", ["method", "route", "status"],
                                     registry=self.registry)
        self.latency = prom.Histogram("clvkit_request_seconds", "Time to answer a request", ["route"],
                                      buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
                                               2.5, 5.0, 10.0, 30.0),
                                      registry=self.registry)
        self.errors = prom.Counter("clvkit_errors", "Error answers by problem type", ["type", "status"],
                                   registry=self.registry)
        self.customers = prom.Counter("clvkit_customers_scored", "Customers scored", ["model"], registry=self.registry)

    def render(self) -> bytes:
        return bytes(self.prom.generate_latest(self.registry))


class _Observe:
    """Pure ASGI middleware: request id (``X-Request-ID`` taken or made), one log line and metrics per request."""

    def __init__(self, app: Any, metrics: _Metrics | None) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = next((v.decode("latin-1") for k, v in scope.get("headers", ()) if k == b"x-request-id"), "")
        rid = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
        scope["clvkit.request_id"] = rid
        start = time.perf_counter()
        status = 500

        async def send_with_id(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), (b"x-request-id", rid.encode("ascii"))]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - start
            route = scope.get("route")
            path = getattr(route, "path", "(unmatched)")
            error = scope.get("clvkit.error")
            if self.metrics is not None:
                self.metrics.requests.labels(scope["method"], path, str(status)).inc()
                self.metrics.latency.labels(path).observe(elapsed)
                if error is not None:
                    self.metrics.errors.labels(error, str(status)).inc()
            logger.info("%s %s %d %.2fms", scope["method"], scope["path"], status, elapsed * 1e3,
                        extra={"request_id": rid, "method": scope["method"], "path": scope["path"], "status": status,
                               "duration_ms": round(elapsed * 1e3, 3), "model": scope.get("clvkit.model"),
                               "model_version": scope.get("clvkit.model_version"), "error": error})


async def _body(request: Any, limit: int) -> bytes:
    """The request body, refused with 413 as soon as it is known to exceed ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLargeError(f"The request body has {int(declared):,} bytes; the service reads at most "
                                   f"{limit:,}. Send fewer customers per request.")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLargeError(f"The request body exceeds {limit:,} bytes, the most the service reads. Send "
                                       f"fewer customers per request.")
        chunks.append(chunk)
    return b"".join(chunks)


def _json_response(response_cls: Any, doc: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Any:
    body = json.dumps(doc, allow_nan=False, separators=(",", ":")).encode("utf-8")
    return response_cls(content=body, status_code=status, media_type=JSON, headers=dict(headers or {}))


def _fit_models(req: FitRequest) -> dict[str, Any]:
    from .. import summarize_transactions
    from ..valuation import MODELS, GammaGamma

    if req.model not in MODELS:
        raise InvalidInputError([Problem("model", f"is not a model name: {req.model!r}",
                                         fix=f"Choose one of {list(MODELS)}.")], context="The fit request")
    start = time.perf_counter()
    summary = summarize_transactions(req.transactions, time_unit=req.time_unit,
                                     observation_end=req.observation_end)
    model = MODELS[req.model]().fit(summary)
    spend = None
    money = summary.monetary_value
    if req.spend and money is not None and bool((money[summary.frequency > 0] > 0).any()):
        spend = GammaGamma().fit(summary)
    return {"model": json.loads(model.to_json()), "spend_model": None if spend is None else json.loads(spend.to_json()),
            "customers": len(summary), "transactions": len(req.transactions),
            "seconds": round(time.perf_counter() - start, 6)}


def _tier(req: TierRequest, max_customers: int) -> dict[str, Any]:
    import numpy as np

    from ..tiering import make_policy

    n = len(req.customers)
    if n == 0 or n > max_customers:
        raise InvalidInputError([Problem("customers", f"has {n:,} customers; send 1 to {max_customers:,}")],
                                context="The tier request")
    policy = make_policy(req.policy, req.config)
    keys = list(req.customers[0])
    problems: list[Problem] = []
    for i, row in enumerate(req.customers):
        if list(row) != keys and set(row) != set(keys):
            problems.append(Problem(f"customers.{i}", f"has the fields {sorted(row)}, not those of the first customer "
                                                      f"{sorted(keys)}", rows=(i,), n_bad=1,
                                    fix="Send the same fields for every customer."))
            break
    if problems:
        raise InvalidInputError(problems, context="The tier request")
    columns: dict[str, Any] = {}
    for k in keys:
        values = [row[k] for row in req.customers]
        if k == "customer_id":
            columns[k] = values
            continue
        bad = [i for i, v in enumerate(values) if isinstance(v, str)]
        if bad:
            raise InvalidInputError([Problem(f"customers.{bad[0]}.{k}", "must be a number", rows=tuple(bad[:5]),
                                             n_bad=len(bad))], context="The tier request")
        columns[k] = np.asarray(values, dtype=np.float64)
    ids = columns.get("customer_id")
    assignment = policy.assign(columns)
    labels = list(assignment.labels)
    codes = assignment.codes.tolist()
    results = [{"customer_id": None if ids is None else ids[i], "tier": labels[c], "tier_code": c}
               for i, c in enumerate(codes)]
    return {"policy": req.policy, "labels": labels, "results": results}


def _openapi(app: Any) -> Callable[[], dict[str, Any]]:
    """The OpenAPI document with the request bodies the routes read themselves and the problem answers."""
    from fastapi.openapi.utils import get_openapi

    def build() -> dict[str, Any]:
        if app.openapi_schema:
            return dict(app.openapi_schema)
        doc = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        schemas = doc.setdefault("components", {}).setdefault("schemas", {})
        for wire in (ScoreRequest, TierRequest, BindingRequest, FitRequest, ProblemDocument):
            schema = wire.model_json_schema(ref_template="#/components/schemas/{model}")
            for name, sub in schema.pop("$defs", {}).items():
                schemas.setdefault(name, sub)
            schemas[wire.__name__] = schema
        binary = {"schema": {"type": "string", "format": "binary"}}
        problem = {"description": "An error (RFC 9457 problem document)",
                   "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/ProblemDocument"}}}}

        def body(model: str, columnar: bool = False) -> dict[str, Any]:
            content: dict[str, Any] = {JSON: {"schema": {"$ref": f"#/components/schemas/{model}"}}}
            if columnar:
                content[ARROW] = binary
                content[PARQUET] = binary
            return {"required": True, "content": content}

        paths = doc.get("paths", {})
        for path, model, columnar in (("/score", "ScoreRequest", True), ("/tier", "TierRequest", False),
                                      ("/binding", "BindingRequest", False), ("/fit", "FitRequest", False)):
            op = paths[path]["post"]
            op["requestBody"] = body(model, columnar)
            if columnar:
                op["responses"]["200"]["content"][ARROW] = binary
                op["responses"]["200"]["content"][PARQUET] = binary
        for item in paths.values():
            for op in item.values():
                op.setdefault("responses", {})["default"] = problem
        app.openapi_schema = doc
        return dict(doc)

    return build


def create_app(models: str | os.PathLike[str] | Sequence[str | os.PathLike[str]], *, spend: float | None = None,
               max_body_bytes: int = DEFAULT_MAX_BODY_BYTES, max_customers: int = DEFAULT_MAX_CUSTOMERS,
               max_fit_transactions: int = DEFAULT_MAX_FIT_TRANSACTIONS, fit_timeout: float = DEFAULT_FIT_TIMEOUT,
               reload_interval: float | None = None, metrics: bool | None = None,
               reload_stamp: str | os.PathLike[str] | None = None) -> Any:
    """The scoring service as an ASGI app (FastAPI), with the models loaded.

    Parameters
    ----------
    models:
        A model folder written by ``clvkit fit`` (checked against its ``manifest.json``; the model is called
        after the folder), a folder of such folders (one model each), a model JSON file (a transaction model,
        called after the file's stem; needs ``spend``), or a list of these.
    spend:
        A fixed spend per purchase for models without a spend model (as ``clvkit score --spend``).
    max_body_bytes, max_customers:
        Bounds of one request: a larger body is refused with 413, more customers with 422.
    max_fit_transactions, fit_timeout:
        Bounds of ``POST /fit``: more transactions are refused with 422; a fit running longer than
        ``fit_timeout`` seconds is answered with 503 (the fit finishes in the background and is dropped).
    reload_interval:
        Seconds between looks at the model files; a change (time or size) reloads them. ``None``: only
        ``POST /models/reload`` reloads. Each server process reloads on its own: with several workers use this
        (a ``POST`` reaches one worker), or ``reload_stamp``.
    reload_stamp:
        A file shared by every process serving these models (``clvkit serve --workers N`` makes one): a
        ``POST /models/reload`` answered by one process replaces it, and each other process, seeing the change
        with one ``os.stat`` before its next request, reloads the models before answering. So after the reload's
        answer every worker answers with the new version. ``None``: the reload stays in the process that got it.
    metrics:
        Serve Prometheus metrics at ``/metrics``: ``None`` when prometheus-client is installed, ``True`` to
        require it (the ``metrics`` extra).

    Returns
    -------
    fastapi.FastAPI
        The app; run it with any ASGI server (``clvkit serve`` runs uvicorn).

    Raises
    ------
    InvalidInputError
        When the models cannot be loaded (naming the file) or a bound is not positive.
    MissingDependencyError
        Without FastAPI (the ``service`` extra), or without prometheus-client when ``metrics=True``.

    Examples
    --------
    >>> import asyncio, tempfile, pathlib, httpx
    >>> from clvkit.valuation import FittedBetaGeo, BetaGeoParams
    >>> bg = FittedBetaGeo(params=BetaGeoParams(r=0.243, alpha=4.414, a=0.793, b=2.426), time_unit="W")
    >>> async def ask(app, body):
    ...     async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://svc") as client:
    ...         return (await client.post("/score", json=body)).json()
    >>> with tempfile.TemporaryDirectory() as d:
    ...     path = pathlib.Path(d, "bg.json")
    ...     _ = path.write_text(bg.to_json(), encoding="utf-8")
    ...     app = create_app(path, spend=20.0)
    >>> answer = asyncio.run(ask(app, {"customers": [{"customer_id": "a", "frequency": 2, "recency": 30.43,
    ...                                               "T": 38.86}], "horizon": 52, "discount_rate": 0.0}))
    >>> answer["model"], round(answer["results"][0]["clv"], 2)  # clv()'s own example: 31.17
    ('bg', 31.17)
    """
    require("fastapi")  # the 'service' extra, named when it is missing
    from fastapi import FastAPI
    from fastapi.responses import Response
    from starlette.concurrency import run_in_threadpool
    from starlette.exceptions import HTTPException
    from starlette.requests import Request

    for name, value in (("max_body_bytes", max_body_bytes), ("max_customers", max_customers),
                        ("max_fit_transactions", max_fit_transactions), ("fit_timeout", fit_timeout)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            raise InvalidInputError(f"The {name!r} parameter of create_app() must be a positive number. Got "
                                    f"{value!r} instead.")
    if reload_interval is not None and not reload_interval > 0:
        raise InvalidInputError(f"The 'reload_interval' parameter of create_app() must be positive or None. Got "
                                f"{reload_interval!r} instead.")
    prom: _Metrics | None = None
    if metrics or metrics is None:
        try:
            prom = _Metrics()
        except MissingDependencyError:
            if metrics:
                raise MissingDependencyError("Metrics need prometheus-client. Install it with: pip install "
                                             "'clvkit[metrics]'") from None
    store = ModelStore(sources_of(models), spend=spend,
                       stamp=None if reload_stamp is None else ReloadStamp(reload_stamp))

    async def snapshot() -> Any:
        """The models to answer one request with: after following a reload another worker announced."""
        if store.stale():
            return await run_in_threadpool(store.follow)
        return store.current

    @contextlib.asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        stop = threading.Event()
        watcher = None
        if reload_interval is not None:
            watcher = threading.Thread(target=_watch, args=(store, reload_interval, stop), name="clvkit-model-watch",
                                       daemon=True)
            watcher.start()
        logger.info("serving models %s", sorted(store.current.entries),
                    extra={"models": {k: e.version for k, e in store.current.entries.items()}})
        try:
            yield
        finally:
            stop.set()
            if watcher is not None:
                watcher.join(timeout=reload_interval)
            logger.info("service stopped")

    app = FastAPI(title="clvkit scoring service", version=__version__, lifespan=lifespan,
                          description="Customer lifetime value from the library's own models: P(alive), expected "
                                      "purchases, expected spend and CLV per customer; tiers; fits. Errors are "
                                      "application/problem+json (RFC 9457).")
    app.state.store = store

    def problem(request: Any, exc: BaseException, ids: Sequence[Any] | None = None) -> Any:
        rid = request.scope.get("clvkit.request_id")
        status, slug, _ = status_of(exc)
        request.scope["clvkit.error"] = slug
        if status >= 500:
            logger.error("request failed: %s", type(exc).__name__, exc_info=exc, extra={"request_id": rid})
        doc = problem_document(exc, instance=request.url.path, request_id=rid, customer_ids=ids)
        return Response(content=json.dumps(doc, allow_nan=False, default=str).encode("utf-8"), status_code=status,
                        media_type=PROBLEM_MEDIA_TYPE)

    async def guarded(request: Any, work: Callable[[], Awaitable[Any]]) -> Any:
        try:
            return await work()
        except Exception as exc:  # every failure is a problem document; 500s keep their text in the log
            return problem(request, exc, getattr(exc, "customer_ids", None) or request.scope.get("clvkit.ids"))

    @app.exception_handler(HTTPException)
    async def http_problem(request: Any, exc: Any) -> Any:  # unknown routes (404), wrong methods (405)
        status = int(exc.status_code)
        request.scope["clvkit.error"] = f"http-{status}"
        doc = {"type": "about:blank", "title": str(exc.detail), "status": status,
               "detail": f"{request.method} {request.url.path}: {exc.detail}. The routes are listed at /openapi.json.",
               "instance": request.url.path, "request_id": request.scope.get("clvkit.request_id")}
        return Response(content=json.dumps(doc).encode("utf-8"), status_code=status, media_type=PROBLEM_MEDIA_TYPE,
                        headers=getattr(exc, "headers", None))

    @app.post("/score", response_model=ScoreResponse, summary="Score customers with a loaded model",
              description="Customers' summaries in (JSON, or an Arrow IPC stream / Parquet table with the settings as "
                          "query parameters); P(alive), expected purchases, expected spend and CLV out, in the format "
                          "asked by Accept, with the one model version that scored them.")
    async def score_route(request: Request) -> Any:
        async def work() -> Any:
            kind = body_format(request.headers.get("content-type"))
            answer = answer_format(request.headers.get("accept"), kind)
            body = await _body(request, max_body_bytes)
            snap = await snapshot()  # one snapshot: one model version for the whole request

            def work_through(data: Any) -> tuple[Any, bytes]:
                entry = snap.get(data.params.model)
                request.scope["clvkit.model"], request.scope["clvkit.model_version"] = entry.name, entry.version
                return entry, encode_scores(score(entry, data), answer)

            if len(body) < THREAD_FROM_BYTES:
                data = decode_score(body, kind, request.query_params, max_customers=max_customers)
                request.scope["clvkit.ids"] = data.customer_id
                if len(data.customer_id) < THREAD_FROM_CUSTOMERS:
                    entry, content = work_through(data)
                else:
                    entry, content = await run_in_threadpool(work_through, data)
            else:  # a big body: decoding alone would hold the event loop (and uvicorn's worker health check) up
                query = dict(request.query_params)

                def everything() -> tuple[Any, bytes]:
                    data = decode_score(body, kind, query, max_customers=max_customers)
                    request.scope["clvkit.ids"] = data.customer_id
                    return work_through(data)

                entry, content = await run_in_threadpool(everything)
            if prom is not None:
                prom.customers.labels(entry.name).inc(len(request.scope["clvkit.ids"]))
            return Response(content=content, media_type=answer,
                            headers={"X-Clvkit-Model": entry.name, "X-Clvkit-Model-Version": entry.version})

        return await guarded(request, work)

    @app.post("/tier", response_model=TierResponse, summary="Assign customers to tiers",
              description="A policy of clvkit.tiering.POLICIES with its configuration, and the customers' columns.")
    async def tier_route(request: Request) -> Any:
        async def work() -> Any:
            body_format_json(request)
            req = TierRequest.model_validate_json(await _body(request, max_body_bytes))
            request.scope["clvkit.ids"] = [row.get("customer_id") for row in req.customers]
            return _json_response(Response, await run_in_threadpool(_tier, req, max_customers))

        return await guarded(request, work)

    @app.post("/binding", response_model=BindingResponse, summary="Measure how firmly customers are bound",
              description="Employees, the customers' contacts, relationships and touchpoints (the library's "
                          "entities) in; each customer's binding score, coverage of its organisation, concentration "
                          "on one employee and next actions out, and with per-customer values the value at risk "
                          "per employee (clvkit.binding.measure_binding, value_at_risk).")
    async def binding_route(request: Request) -> Any:
        async def work() -> Any:
            body_format_json(request)
            body = await _body(request, max_body_bytes)

            def measure() -> dict[str, Any]:
                return binding_report(BindingRequest.model_validate_json(body), max_customers)

            return _json_response(Response, await run_in_threadpool(measure))

        return await guarded(request, work)

    @app.post("/fit", response_model=FitResponse, summary="Fit models to a transaction log",
              description="A log of transactions in; the fitted count model (and Gamma-Gamma) as versioned JSON out.")
    async def fit_route(request: Request) -> Any:
        async def work() -> Any:
            body_format_json(request)
            req = FitRequest.model_validate_json(await _body(request, max_body_bytes))
            n = len(req.transactions)
            if n == 0 or n > max_fit_transactions:
                raise InvalidInputError([Problem("transactions", f"has {n:,} transactions; a fit takes 1 to "
                                                                 f"{max_fit_transactions:,}",
                                                 fix="Fit a sample, or fit offline with 'clvkit fit'.")],
                                        context="The fit request")
            try:
                doc = await asyncio.wait_for(run_in_threadpool(_fit_models, req), timeout=fit_timeout)
            except asyncio.TimeoutError:
                raise FitTimeoutError(f"The fit took longer than {fit_timeout:g} s, the service's bound. Fit fewer "
                                      f"transactions, or fit offline with 'clvkit fit'.") from None
            return _json_response(Response, doc)

        return await guarded(request, work)

    @app.get("/models", response_model=ModelsResponse, summary="The loaded models and their versions")
    async def models_route(request: Request) -> Any:
        snap = await snapshot()
        return _json_response(Response, {"default": snap.default,
                                         "models": [e.describe() for e in snap.entries.values()]})

    @app.post("/models/reload", response_model=ModelsResponse, summary="Reload the models (atomic swap)")
    async def reload_route(request: Request) -> Any:
        async def work() -> Any:
            try:
                snap = await run_in_threadpool(functools.partial(store.reload, announce=True))
            except ClvkitError as exc:
                raise ReloadError(f"The models could not be reloaded; the previous ones stay in service. {exc}") \
                    from None
            logger.info("models reloaded", extra={"models": {k: e.version for k, e in snap.entries.items()}})
            return _json_response(Response, {"default": snap.default,
                                             "models": [e.describe() for e in snap.entries.values()]})

        return await guarded(request, work)

    @app.get("/health", response_model=Health, summary="Liveness: the service answers and has models")
    async def health_route() -> Any:
        return _json_response(Response, {"status": "ok", "models": len(store.current.entries),
                                         "clvkit_version": __version__})

    if prom is not None:
        metrics_obj = prom

        @app.get("/metrics", summary="Prometheus metrics", include_in_schema=True)
        async def metrics_route() -> Any:
            return Response(content=metrics_obj.render(), media_type=metrics_obj.prom.CONTENT_TYPE_LATEST)

    app.openapi = _openapi(app)  # type: ignore[method-assign,unused-ignore]
    app.add_middleware(_ObserveFactory(prom))
    return app


def body_format_json(request: Any) -> None:
    """Refuse a body that is not JSON (415) on the routes that read JSON only."""
    if body_format(request.headers.get("content-type")) != JSON:
        from ._problems import UnsupportedMediaTypeError

        raise UnsupportedMediaTypeError(f"This route reads {JSON} only; got {request.headers.get('content-type')!r}.")


def _ObserveFactory(prom: _Metrics | None) -> Any:
    class Observe(_Observe):
        def __init__(self, app: Any) -> None:
            super().__init__(app, prom)

    return Observe


def _watch(store: ModelStore, interval: float, stop: threading.Event) -> None:
    """Reload the models whenever their files change (until ``stop``); a failed reload keeps the old ones."""
    while not stop.wait(interval):
        try:
            if store.changed():
                snap = store.reload()
                logger.info("models reloaded (files changed)",
                            extra={"models": {k: e.version for k, e in snap.entries.items()}})
        except ClvkitError as exc:
            logger.warning("model reload failed; the previous models stay in service: %s", exc)
        except Exception:  # the watcher must not die on an unexpected error; the log has it
            logger.exception("model watcher failed")


#: The environment variable through which ``clvkit serve --workers N`` hands create_app()'s arguments to each worker.
OPTIONS_ENV = "CLVKIT_SERVICE_OPTIONS"


def app_from_environment() -> Any:
    """The app of one worker process: :func:`create_app` with the JSON arguments in :data:`OPTIONS_ENV`.

    uvicorn imports this factory in each worker (``clvkit serve --workers N``), which cannot be handed an app object.
    """
    raw = os.environ.get(OPTIONS_ENV)
    if not raw:
        raise InvalidInputError(f"{OPTIONS_ENV} is not set; start the service with 'clvkit serve --models DIR'.")
    options = json.loads(raw)
    level, fmt = options.pop("log_level", None), options.pop("log_format", None)
    if level is not None:
        from ._logging import configure_logging

        configure_logging(level, fmt or "json")
    app = create_app(**options)
    freeze_heap()
    return app


def freeze_heap() -> None:
    """Move every object alive now (modules, the app, the models) out of the garbage collector's reach.

    For a server process, once it is set up: a 1,000-customer JSON request allocates some thousands of objects,
    enough to set off collections, and each older-generation collection walked the whole heap of FastAPI, SciPy
    and pyarrow: measured 7.2 -> 5.4 ms of server CPU per request (one uvicorn process, 300 requests, three runs
    each way). Nothing frozen is freed until the process ends, which for these objects is when they would go
    anyway. ``clvkit serve`` calls it; :func:`create_app` does not (it would change the garbage collection of an
    embedding process).
    """
    gc.collect()
    gc.freeze()
