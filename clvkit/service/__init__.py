"""The scoring service: the library's models behind HTTP (the ``service`` extra: FastAPI, uvicorn, pyarrow).

:func:`create_app` builds an ASGI app that loads saved models (a folder written by ``clvkit fit``, a folder of such
folders, or model files) and answers ``POST /score``, ``POST /tier``, ``POST /binding``, ``POST /fit``, ``GET
/models``, ``POST /models/reload``, ``GET /health``, ``GET /metrics`` and ``GET /openapi.json``; ``clvkit serve
--models DIR`` runs it with uvicorn. The request and answer schemas are in :mod:`clvkit.service.schemas`; errors
are RFC 9457 problem documents (``application/problem+json``, :func:`problem_document`).

FastAPI is imported when an app is built, not when this package is imported: without it, :func:`create_app`
raises :class:`~clvkit.errors.MissingDependencyError` naming the extra.
"""

from ._problems import (
    PROBLEM_TYPES,
    FitTimeoutError,
    NotAcceptableError,
    PayloadTooLargeError,
    UnknownModelError,
    UnsupportedMediaTypeError,
    problem_document,
)
from .app import ReloadError, create_app

__all__ = [
    "PROBLEM_TYPES",
    "FitTimeoutError",
    "NotAcceptableError",
    "PayloadTooLargeError",
    "ReloadError",
    "UnknownModelError",
    "UnsupportedMediaTypeError",
    "create_app",
    "problem_document",
]
