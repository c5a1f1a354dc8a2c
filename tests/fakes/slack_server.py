"""A fake Slack Web API on 127.0.0.1 for tests that send through the real slack-sdk.

slack-sdk's AsyncWebClient talks aiohttp, which respx cannot intercept, so tests point
``SLACK_API_URL`` at this server instead. It answers ``POST /api/chat.postMessage``, records
every request (headers, bearer token, parsed JSON or form body, and where in a thread it
goes: ``thread_ts`` and ``reply_broadcast``) before it replies, and can be
scripted to answer the next requests with a rate limit, an HTTP error, a Slack error or a
dropped connection. Because a request is recorded before its reply is written, a test can
assert on ``requests`` as soon as its client call returns: no waiting or polling.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

POST_MESSAGE = "/api/chat.postMessage"


@dataclass(frozen=True)
class Reply:
    """One scripted answer. Build them with the class methods."""

    status: int = 200
    body: dict[str, Any] | None = None
    headers: tuple[tuple[str, str], ...] = ()
    drop: bool = False
    # Only for a request to this channel (None: whichever request comes next).
    channel: str | None = None

    def to(self, channel: str) -> Reply:
        """This reply, kept for the next request to ``channel``."""
        return dataclasses.replace(self, channel=channel)

    @classmethod
    def rate_limited(cls, retry_after: int = 1) -> Reply:
        return cls(
            status=429,
            body={"ok": False, "error": "ratelimited"},
            headers=(("Retry-After", str(retry_after)),),
        )

    @classmethod
    def http_error(cls, status: int = 500) -> Reply:
        return cls(status=status)

    @classmethod
    def slack_error(cls, error: str) -> Reply:
        return cls(body={"ok": False, "error": error})

    @classmethod
    def down(cls) -> Reply:
        """Close the connection without answering, as a crashed or unreachable Slack does."""
        return cls(drop=True)


@dataclass(frozen=True)
class SlackRequest:
    """What the server received."""

    method: str
    path: str
    headers: dict[str, str]
    token: str | None
    body: dict[str, Any]
    thread_ts: str | None = None  # the message this one replies to; None at the top level
    reply_broadcast: bool = False  # a reply also shown in the channel


@dataclass
class _State:
    lock: threading.Lock = field(default_factory=threading.Lock)
    script: deque[Reply] = field(default_factory=deque)
    requests: list[SlackRequest] = field(default_factory=list)
    posted: list[SlackRequest] = field(default_factory=list)


class FakeSlackServer:
    """A threaded HTTP server on an ephemeral port; ``start()`` and ``stop()`` it."""

    def __init__(self) -> None:
        self._state = _State()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self._state))
        self._httpd.daemon_threads = True
        # A short poll interval: shutdown() waits up to one interval, at every test's teardown.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self._stopped = False

    @property
    def base_url(self) -> str:
        """The value for SLACK_API_URL."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}/api/"

    def start(self) -> FakeSlackServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the port: later connections are refused. Idempotent."""
        if self._stopped:
            return
        self._stopped = True
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()

    def script(self, *replies: Reply) -> None:
        """Answer the next requests with these replies, in order, then go back to ok."""
        with self._state.lock:
            self._state.script.extend(replies)

    @property
    def requests(self) -> list[SlackRequest]:
        """Every request received, whatever the reply was."""
        with self._state.lock:
            return list(self._state.requests)

    @property
    def messages(self) -> list[SlackRequest]:
        """The chat.postMessage requests that were answered ok: the messages Slack now shows."""
        with self._state.lock:
            return list(self._state.posted)

    def messages_in(self, channel: str) -> list[SlackRequest]:
        """The messages posted to ``channel`` (the audit channel, the status channel)."""
        return [message for message in self.messages if message.body.get("channel") == channel]


def _handler_for(state: _State) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            body = _parse_body(raw, self.headers.get("Content-Type", ""))
            auth = self.headers.get("Authorization", "")
            token = (
                auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else body.get("token")
            )
            request = SlackRequest(
                method=self.command,
                path=self.path,
                headers=dict(self.headers.items()),
                token=token,
                body=body,
                thread_ts=body.get("thread_ts") or None,
                reply_broadcast=_flag(body.get("reply_broadcast")),
            )
            channel = body.get("channel")
            with state.lock:
                state.requests.append(request)
                reply = _next_reply(state.script, channel)
                if reply is None and self.path == POST_MESSAGE:
                    state.posted.append(request)
                    # Slack's ts is unique per channel and grows; tests read it back.
                    in_channel = sum(1 for m in state.posted if m.body.get("channel") == channel)
                    ts = f"1700000000.{100 * in_channel:06d}"
                    reply = Reply(body={"ok": True, "channel": "C123", "ts": ts})
            if reply is None:
                reply = Reply(status=404, body={"ok": False, "error": "unknown_method"})
            self._answer(reply)

        def _answer(self, reply: Reply) -> None:
            if reply.drop:
                self.close_connection = True
                return
            payload = json.dumps(reply.body).encode() if reply.body is not None else b""
            self.send_response(reply.status)
            self.send_header(
                "Content-Type", "application/json" if reply.body is not None else "text/plain"
            )
            self.send_header("Content-Length", str(len(payload)))
            for name, value in reply.headers:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: pytest shows failures, not an access log."""

    return Handler


def _next_reply(script: deque[Reply], channel: Any) -> Reply | None:
    """The first scripted reply meant for this request, taken off the script."""
    for reply in script:
        if reply.channel is None or reply.channel == channel:
            script.remove(reply)
            return reply
    return None


def _parse_body(raw: bytes, content_type: str) -> dict[str, Any]:
    if not raw:
        return {}
    if content_type.startswith("application/json"):
        parsed = json.loads(raw)
        return parsed if isinstance(parsed, dict) else {"_": parsed}
    # slack-sdk sends form bodies for methods without blocks; JSON-valued fields stay strings.
    return dict(parse_qsl(raw.decode(), keep_blank_values=True))


def _flag(value: Any) -> bool:
    # JSON bodies carry a boolean; form bodies "true" or "1".
    return value is True or (isinstance(value, str) and value.lower() in ("true", "1"))
