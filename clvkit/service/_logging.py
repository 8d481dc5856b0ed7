"""Structured logs: one JSON object per record, with the process id (which worker) and the fields the service adds
(request id, status, model)."""

import json
import logging
from datetime import datetime, timezone
from typing import Any

__all__ = ["JsonFormatter", "configure_logging"]

# The attributes every LogRecord has; anything else on a record came from ``extra=`` and is logged as a field.
_STANDARD = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName", "color_message"}


class JsonFormatter(logging.Formatter):
    """Format a record as one line of JSON: time (UTC), level, logger, process id, message and the ``extra`` fields.

    Examples
    --------
    >>> record = logging.makeLogRecord({"msg": "POST /score 200", "levelname": "INFO", "name": "clvkit.service",
    ...                                 "request_id": "r1", "status": 200})
    >>> doc = json.loads(JsonFormatter().format(record))
    >>> doc["message"], doc["request_id"], doc["status"]
    ('POST /score 200', 'r1', 200)
    """

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname, "logger": record.name, "pid": record.process, "message": record.getMessage()}
        for key, value in vars(record).items():
            if key not in _STANDARD and value is not None:
                doc[key] = value
        if record.exc_info:
            doc["exception"] = self.formatException(record.exc_info)
        return json.dumps(doc, default=str)


def configure_logging(level: str = "info", fmt: str = "json") -> None:
    """Send clvkit's and uvicorn's logs to stderr, as JSON lines (``fmt="json"``) or as plain text."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if fmt == "json" else
                         logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    for name in ("clvkit", "uvicorn", "uvicorn.error"):
        log = logging.getLogger(name)
        log.handlers[:] = [handler]
        log.setLevel(level.upper())
        log.propagate = False
