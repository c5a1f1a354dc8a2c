"""A fake Prometheus HTTP API on 127.0.0.1, for the verify step's client and end-to-end tests.

It answers instant queries, ``GET`` or form ``POST`` on ``/api/v1/query`` (under a path prefix
when given one, as behind a reverse proxy at ``/prometheus/``), in Prometheus's own JSON. Every
request is recorded (path, parsed query string and form, headers, bearer token) before its
reply is written, so a test can assert on ``requests`` as soon as its call returns.

What it answers: ``set_value``/``set_values``/``set_reply`` choose the answer to every later
query; ``enqueue`` scripts the next ones (values, a scalar, an empty result, a Prometheus
error, a bare HTTP status, a dropped connection), after which the standing answer resumes.
Until told otherwise it answers an empty vector, as Prometheus does for a metric it has no
data for. Answers carry a fixed timestamp, so the same script always gives the same bytes.

It speaks HTTP/1.0, one connection per request (the fake Slack does too): once ``stop()``
returns, nothing answers any more, not even a connection a client kept open.
"""

from __future__ import annotations

import json
import math
import threading
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

QUERY_PATH = "/api/v1/query"
# Every sample's timestamp: answers are deterministic, and a test may compare whole bodies.
TIMESTAMP = 1717000000.1
# Matrix samples are this far apart, the last at TIMESTAMP.
STEP_SECONDS = 15.0

Sample = float | str


@dataclass(frozen=True)
class Reply:
    """One answer. Build them with the class methods."""

    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    drop: bool = False
    # Leave out Content-Length and end the body by closing the connection, as a proxy that
    # streams may: the client cannot know the size before reading.
    unsized: bool = False

    @classmethod
    def vector(cls, *values: Sample, labels: Sequence[Mapping[str, str]] | None = None) -> Reply:
        """An instant vector, one series per value (``labels[i]`` for series i, if given)."""
        series = [
            {"metric": _labels(labels, i), "value": [TIMESTAMP, _sample(value)]}
            for i, value in enumerate(values)
        ]
        return cls._success("vector", series)

    @classmethod
    def empty(cls) -> Reply:
        """An empty vector: the series does not exist, or has no sample in the lookback."""
        return cls._success("vector", [])

    @classmethod
    def scalar(cls, value: Sample) -> Reply:
        """A scalar result (``scalar(...)``, ``vector(1)`` is a vector)."""
        return cls._success("scalar", [TIMESTAMP, _sample(value)])

    @classmethod
    def string(cls, value: str) -> Reply:
        """A string result (a query that is only a string literal)."""
        return cls._success("string", [TIMESTAMP, value])

    @classmethod
    def matrix(cls, *series: Sequence[Sample]) -> Reply:
        """A range vector (``metric[5m]``): each argument is one series' samples, oldest first."""
        result = [
            {
                "metric": _labels(None, i),
                "values": [
                    [TIMESTAMP - STEP_SECONDS * (len(samples) - 1 - n), _sample(value)]
                    for n, value in enumerate(samples)
                ],
            }
            for i, samples in enumerate(series)
        ]
        return cls._success("matrix", result)

    @classmethod
    def error(cls, error: str, *, error_type: str = "bad_data", status: int = 400) -> Reply:
        """Prometheus's error answer: 400 bad_data for a query it cannot parse, 422 execution,
        503 timeout or unavailable."""
        return cls.json_body(
            {"status": "error", "errorType": error_type, "error": error}, status=status
        )

    @classmethod
    def http_status(cls, status: int, body: str = "") -> Reply:
        """A bare HTTP status with a plain-text body, as a proxy in front of Prometheus sends."""
        return cls(status=status, body=body.encode(), content_type="text/plain; charset=utf-8")

    @classmethod
    def json_body(cls, document: Any, *, status: int = 200) -> Reply:
        """Any JSON document, for answers Prometheus itself would not give."""
        return cls(status=status, body=json.dumps(document).encode())

    @classmethod
    def raw(
        cls,
        body: bytes,
        *,
        status: int = 200,
        content_type: str = "application/json",
        unsized: bool = False,
    ) -> Reply:
        """These exact bytes (an oversized or broken body)."""
        return cls(status=status, body=body, content_type=content_type, unsized=unsized)

    @classmethod
    def down(cls) -> Reply:
        """Close the connection without answering, as a crashing Prometheus does."""
        return cls(drop=True)

    @classmethod
    def _success(cls, result_type: str, result: Any) -> Reply:
        return cls.json_body(
            {"status": "success", "data": {"resultType": result_type, "result": result}}
        )


@dataclass(frozen=True)
class PrometheusRequest:
    """What the server received. Header names are lower-cased (HTTP ignores their case)."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    token: str | None
    form: dict[str, str] = field(default_factory=dict)

    @property
    def promql(self) -> str | None:
        """The query asked, from the form (POST) or the query string (GET)."""
        return self.form.get("query", self.query.get("query"))


@dataclass
class _State:
    prefix: str
    lock: threading.Lock = field(default_factory=threading.Lock)
    standing: Reply = field(default_factory=Reply.empty)
    script: deque[Reply] = field(default_factory=deque)
    requests: list[PrometheusRequest] = field(default_factory=list)


class FakePrometheusServer:
    """A threaded HTTP server on an ephemeral port; ``start()`` and ``stop()`` it, or use
    ``with``. ``prefix`` is a path it serves the API under, e.g. ``/prometheus``."""

    def __init__(self, prefix: str = "") -> None:
        self._state = _State(prefix="/" + prefix.strip("/") if prefix.strip("/") else "")
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self._state))
        self._httpd.daemon_threads = True
        # A short poll interval: shutdown() waits up to one interval, at every test's teardown.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self._started = False
        self._stopped = False

    @property
    def url(self) -> str:
        """The base URL to configure, with its trailing slash (and the prefix, if any)."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}{self._state.prefix}/"

    def start(self) -> FakePrometheusServer:
        if not self._started:
            self._started = True
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the port: later connections are refused. Idempotent."""
        if self._stopped:
            return
        self._stopped = True
        if self._started:
            self._httpd.shutdown()
            self._thread.join()
        self._httpd.server_close()

    def __enter__(self) -> FakePrometheusServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def set_value(self, value: Sample) -> None:
        """Answer every later query with one series of this value."""
        self.set_reply(Reply.vector(value))

    def set_values(self, values: Iterable[Sample]) -> None:
        """Answer every later query with these series (none: an empty vector)."""
        self.set_reply(Reply.vector(*values))

    def set_reply(self, reply: Reply) -> None:
        """Answer every later query that nothing is scripted for with this (say, ``down()``)."""
        with self._state.lock:
            self._state.standing = reply

    def enqueue(self, *replies: Reply) -> None:
        """Answer the next queries with these, in order, then go back to the standing answer."""
        with self._state.lock:
            self._state.script.extend(replies)

    @property
    def requests(self) -> list[PrometheusRequest]:
        """Every request received, whatever the path and whatever the reply was."""
        with self._state.lock:
            return list(self._state.requests)

    @property
    def queries(self) -> list[str | None]:
        """The PromQL of every request received, in order."""
        return [request.promql for request in self.requests]


def _handler_for(state: _State) -> type[BaseHTTPRequestHandler]:
    query_path = state.prefix + QUERY_PATH

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._handle(form={})

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            form = (
                dict(parse_qsl(raw.decode(), keep_blank_values=True))
                if self.headers.get("Content-Type", "").startswith(
                    "application/x-www-form-urlencoded"
                )
                else {}
            )
            self._handle(form=form)

        def _handle(self, *, form: dict[str, str]) -> None:
            url = urlsplit(self.path)
            auth = self.headers.get("Authorization", "")
            request = PrometheusRequest(
                method=self.command,
                path=url.path,
                query=dict(parse_qsl(url.query, keep_blank_values=True)),
                headers={name.lower(): value for name, value in self.headers.items()},
                token=auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else None,
                form=form,
            )
            with state.lock:
                state.requests.append(request)
                if url.path != query_path:
                    # Prometheus's own 404 text; a stray request does not use up the script.
                    reply = Reply.http_status(404, "404 page not found\n")
                elif state.script:
                    reply = state.script.popleft()
                elif request.promql is None:
                    reply = Reply.error(
                        'invalid parameter "query": unknown position: parse error: '
                        "no expression found in input"
                    )
                else:
                    reply = state.standing
            self._answer(reply)

        def _answer(self, reply: Reply) -> None:
            if reply.drop:
                self.close_connection = True
                return
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            if not reply.unsized:
                self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: pytest shows failures, not an access log."""

    return Handler


def _labels(labels: Sequence[Mapping[str, str]] | None, index: int) -> dict[str, str]:
    if labels is not None:
        return dict(labels[index])
    return {"__name__": "symptom", "instance": f"series-{index}"}


def _sample(value: Sample) -> str:
    """A sample value as Prometheus writes it: a string, "NaN", "+Inf", no exponent."""
    if isinstance(value, str):
        return value  # as given, for values Prometheus would not write
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    # Go's strconv.FormatFloat(v, 'f', -1, 64): the shortest digits, never in exponent form.
    return format(Decimal(repr(float(value))).normalize(), "f")
