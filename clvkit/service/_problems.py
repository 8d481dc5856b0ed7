"""Errors as RFC 9457 problem documents: one table from every :class:`~clvkit.errors.ClvkitError` to a status.

The service's own errors derive from the library's, so one handler maps them all: an :class:`InvalidInputError`
is the caller's (422), with the subclasses below for a body too large (413), an unknown model (404), a body
type the service does not read (415) or an answer type it cannot write (406); a fit that runs out of time is a
503. An error that is not the caller's (a bug, a model that cannot be valued) is a 500 whose document says no
more than its type and the request id, so no traceback or internal text leaks; the server log has the rest.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from ..errors import (
    ClvkitError,
    ConvergenceError,
    InvalidInputError,
    MissingDependencyError,
    ModelDomainError,
    NotFittedError,
    Problem,
)

__all__ = ["PROBLEM_TYPES", "FitTimeoutError", "NotAcceptableError", "PayloadTooLargeError", "UnknownModelError",
           "UnsupportedMediaTypeError", "problem_document", "status_of"]

PROBLEM_MEDIA_TYPE = "application/problem+json"


class PayloadTooLargeError(InvalidInputError):
    """The request body is larger than the service accepts (HTTP 413)."""


class UnknownModelError(InvalidInputError):
    """The request names a model the service has not loaded (HTTP 404)."""


class UnsupportedMediaTypeError(InvalidInputError):
    """The request body's ``Content-Type`` is not one the route reads (HTTP 415)."""


class NotAcceptableError(InvalidInputError):
    """The ``Accept`` header asks for an answer type the route cannot write (HTTP 406)."""


class FitTimeoutError(ClvkitError):
    """``POST /fit`` did not finish within the service's time bound (HTTP 503)."""


#: Exception class -> (status, slug of the problem type, title); the first class in the MRO found wins.
PROBLEM_TYPES: dict[type[BaseException], tuple[int, str, str]] = {
    PayloadTooLargeError: (413, "payload-too-large", "Request body too large"),
    UnknownModelError: (404, "unknown-model", "Unknown model"),
    UnsupportedMediaTypeError: (415, "unsupported-media-type", "Unsupported media type"),
    NotAcceptableError: (406, "not-acceptable", "Not acceptable"),
    InvalidInputError: (422, "invalid-input", "Invalid input"),
    ModelDomainError: (422, "model-domain", "Not defined for this model"),
    ConvergenceError: (422, "convergence", "The fit did not converge"),
    FitTimeoutError: (503, "fit-timeout", "The fit took too long"),
    MissingDependencyError: (501, "missing-dependency", "Optional dependency missing"),
    NotFittedError: (500, "not-fitted", "Model not fitted"),
    ClvkitError: (500, "internal", "Internal error"),
}
_INTERNAL = (500, "internal", "Internal error")
_TYPE_PREFIX = "urn:clvkit:problem:"


def status_of(exc: BaseException) -> tuple[int, str, str]:
    """The (status, slug, title) of an exception: the entry of the first class of its MRO in :data:`PROBLEM_TYPES`.

    Examples
    --------
    >>> status_of(PayloadTooLargeError("too big"))
    (413, 'payload-too-large', 'Request body too large')
    >>> status_of(InvalidInputError("bad"))[0], status_of(KeyError("x"))[0]
    (422, 500)
    """
    for cls in type(exc).__mro__:
        if cls in PROBLEM_TYPES:
            return PROBLEM_TYPES[cls]
    return _INTERNAL


_ROW = re.compile(r"^(\d+)")
_PATH_ROW = re.compile(r"^(customers|transactions|employees|contacts|relationships|touchpoints|industry_ties|projects|"
                       r"project_members)\.(\d+)\.(.+)$")


def _detail(p: Problem, ids: Sequence[Any] | None) -> dict[str, Any]:
    """One :class:`ProblemDetail` as a dict: rows parsed from the problem, customers looked up in ``ids``."""
    field = p.column
    rows: list[int] = []
    m = _PATH_ROW.match(field)
    if m:  # a wire-schema problem: 'customers.3.T'
        rows.append(int(m.group(2)))
    for r in p.rows:  # a batch problem: rows are positions, or "3 (customer_id='c')"
        if isinstance(r, int) and not isinstance(r, bool):
            rows.append(r)
        else:
            mr = _ROW.match(str(r))
            if mr:
                rows.append(int(mr.group(1)))
    customers = [ids[r] for r in rows if ids is not None and 0 <= r < len(ids)]
    return {"field": field, "message": p.message, "rows": rows, "customers": customers,
            "count": p.n_bad or (1 if rows else 0), "fix": p.fix}


def problem_document(exc: BaseException, *, instance: str | None = None, request_id: str | None = None,
                     customer_ids: Sequence[Any] | None = None) -> dict[str, Any]:
    """The RFC 9457 document of ``exc``: type, title, status, detail and the offending field, row and customer.

    ``customer_ids`` (the request's ids, by row) names the customers of row-level problems. An error that is
    not the caller's (status 500) keeps its message out of the document.

    Examples
    --------
    >>> err = InvalidInputError([Problem("recency", "must not exceed T", rows=(1,), n_bad=1)], context="x")
    >>> doc = problem_document(err, customer_ids=["a", "b"])
    >>> doc["status"], doc["field"], doc["row"], doc["customer"]
    (422, 'recency', 1, 'b')
    >>> problem_document(RuntimeError("secret path /etc"), request_id="r1")["detail"]
    'The service failed on this request (RuntimeError); the server log has the details under request id r1.'
    """
    status, slug, title = status_of(exc)
    if status >= 500 and not isinstance(exc, (FitTimeoutError, MissingDependencyError)):
        detail = (f"The service failed on this request ({type(exc).__name__}); the server log has the details"
                  f"{f' under request id {request_id}' if request_id else ''}.")
        errors: list[dict[str, Any]] = []
    else:
        detail = str(exc)
        problems = exc.problems if isinstance(exc, InvalidInputError) else ()
        errors = [_detail(p, customer_ids) for p in problems]
    doc: dict[str, Any] = {"type": _TYPE_PREFIX + slug, "title": title, "status": status, "detail": detail}
    if instance is not None:
        doc["instance"] = instance
    if request_id is not None:
        doc["request_id"] = request_id
    if errors:
        first = errors[0]
        doc["field"] = first["field"]
        if first["rows"]:
            doc["row"] = first["rows"][0]
        if first["customers"]:
            doc["customer"] = first["customers"][0]
        doc["errors"] = errors
    return doc
