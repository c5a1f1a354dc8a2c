"""JSON log lines: a UTC time with milliseconds; the delivery, repository and PR as fields."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from app.logs import JsonFormatter, _record_with_delivery, bound_delivery, configure


def line(message: str) -> dict[str, object]:
    record = _record_with_delivery("app.lane", logging.INFO, __file__, 1, message, (), None)
    record.created = datetime(2026, 5, 20, 9, 52, 31, 123456, tzinfo=UTC).timestamp()
    parsed: dict[str, object] = json.loads(JsonFormatter().format(record))
    return parsed


def test_a_line_about_a_pull_request_names_it_in_fields_of_its_own() -> None:
    with bound_delivery("d-42", repository="acme/api", number=4321):
        about = line("PR #4321 at f00d: success")
    outside = line("worker started")

    assert about == {
        "time": "2026-05-20T09:52:31.123Z",
        "level": "INFO",
        "logger": "app.lane",
        "delivery": "d-42",
        "message": "PR #4321 at f00d: success",
        "repository": "acme/api",
        "number": 4321,
    }
    assert outside == {
        "time": "2026-05-20T09:52:31.123Z",
        "level": "INFO",
        "logger": "app.lane",
        "delivery": "-",
        "message": "worker started",
    }


def test_httpx_says_each_request_only_when_debugging() -> None:
    """At INFO httpx's line per request would double the log; DEBUG brings it back."""
    root, httpx_logger = logging.getLogger(), logging.getLogger("httpx")
    saved = (root.level, list(root.handlers), httpx_logger.level, logging.getLogRecordFactory())
    try:
        configure("INFO", json_output=True)
        at_info = httpx_logger.isEnabledFor(logging.INFO)
        configure("DEBUG", json_output=True)
        at_debug = httpx_logger.isEnabledFor(logging.INFO)
    finally:
        root.setLevel(saved[0])
        root.handlers[:] = saved[1]
        httpx_logger.setLevel(saved[2])
        logging.setLogRecordFactory(saved[3])

    assert (at_info, at_debug) == (False, True)
