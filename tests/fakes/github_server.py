"""The shared fake GitHub, served over real HTTP on 127.0.0.1 for a ``serve`` subprocess.

respx only intercepts httpx inside this process. A test that runs the real command hands the
same ``FakeGitHub`` router to this server instead: each request it receives is answered by
the router, so routes, replies and the recorded calls are the ones every other test uses.
The server speaks HTTP/1.1 with keep-alive, as GitHub does, so the app's connection pool holds
open connections when it shuts down.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

from tests.fakes.github import API_URL, FakeGitHub


@contextmanager
def github_over_http(github: FakeGitHub) -> Iterator[str]:
    """Serve ``github`` on an ephemeral port; yields the API base URL to configure."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _answer(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            path = self.path.removeprefix("/api/v3")
            request = httpx.Request(
                self.command, API_URL + path, headers=dict(self.headers), content=body
            )
            response = github.router.handler(request)
            content = response.read()
            self.send_response(response.status_code)
            for name, value in response.headers.items():
                if name.lower() not in {"content-length", "transfer-encoding", "connection"}:
                    self.send_header(name, value)
            self.send_header("content-length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _answer

        def log_message(self, format: str, *args: object) -> None:
            return  # the test asserts on the router's calls, not on a log

    # respx patches httpx process-wide: the test's own requests to the served app (and to
    # this server) go out for real.
    github.router.route(host="127.0.0.1").pass_through()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api/v3"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
