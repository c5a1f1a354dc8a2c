"""Logging set-up: one line per step, each carrying the delivery id it belongs to."""

from __future__ import annotations

import contextvars
import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

# The delivery (or job) a log line belongs to; set by intake and the worker, read by the filter.
delivery_id: contextvars.ContextVar[str] = contextvars.ContextVar("delivery_id", default="-")
# The repository and pull request (or issue) number it is about, when a delivery names them.
subject: contextvars.ContextVar[tuple[str | None, int | None]] = contextvars.ContextVar(
    "subject", default=(None, None)
)


_base_factory = logging.getLogRecordFactory()


def _record_with_delivery(*args: Any, **kwargs: Any) -> logging.LogRecord:
    record = _base_factory(*args, **kwargs)
    record.delivery = delivery_id.get()
    record.repository, record.number = subject.get()
    return record


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for log shippers: a UTC time with milliseconds, and the
    delivery, repository and pull request as fields of their own (searchable, not only
    somewhere in the message)."""

    def format(self, record: logging.LogRecord) -> str:
        when = datetime.fromtimestamp(record.created, UTC)
        entry: dict[str, Any] = {
            "time": when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "delivery": getattr(record, "delivery", "-"),
            "message": record.getMessage(),
        }
        repository, number = getattr(record, "repository", None), getattr(record, "number", None)
        if repository is not None:
            entry["repository"] = repository
        if number is not None:
            entry["number"] = number
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry)


def configure(level: str = "INFO", *, json_output: bool = False) -> None:
    """Install one stderr handler on the root logger (idempotent)."""
    # Every record, whoever handles it, carries the delivery it belongs to.
    logging.setLogRecordFactory(_record_with_delivery)
    handler = logging.StreamHandler(sys.stderr)
    if json_output:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(delivery)s] %(message)s")
        )
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "_hotfix_lane", False):
            root.removeHandler(old)
    handler._hotfix_lane = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    # Our own intake logs every delivery; the access log would say it twice.
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    # httpx logs every request at INFO: seven lines per evaluation that the request metrics
    # already count. They come back with DEBUG, for whoever is looking into GitHub calls.
    debugging = root.getEffectiveLevel() <= logging.DEBUG
    logging.getLogger("httpx").setLevel(logging.NOTSET if debugging else logging.WARNING)


@contextmanager
def bound_delivery(
    value: str, *, repository: str | None = None, number: int | None = None
) -> Iterator[None]:
    """Tag every log line inside the block with ``value`` (and what it is about)."""
    token = delivery_id.set(value)
    about = subject.set((repository, number)) if repository or number else None
    try:
        yield
    finally:
        if about is not None:
            subject.reset(about)
        delivery_id.reset(token)
