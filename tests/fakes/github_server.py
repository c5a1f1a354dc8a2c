"""The shared fake GitHub, served over real HTTP on 127.0.0.1 for a ``serve`` subprocess.

respx only intercepts httpx inside this process. A test that runs the real command hands the
same ``FakeGitHub`` router to this server instead: each request it receives is answered by
the router, so routes, replies and the recorded calls are the ones every other test uses.
Paths under ``/api/v3`` are the API's, any other is GitHub's web pages (the OAuth sign-in), as
on an Enterprise Server; addresses in a redirect's ``Location`` and in ``Link`` are turned into
this server's, so a browser that follows them stays on 127.0.0.1.
The server speaks HTTP/1.1 with keep-alive, as GitHub does, so the app's connection pool holds
open connections when it shuts down.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

from tests.fakes.github import API_URL, WEB_URL, FakeGitHub


@contextmanager
def github_over_http(github: FakeGitHub) -> Iterator[str]:
    """Serve ``github`` on an ephemeral port; yields the API base URL to configure."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _answer(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            if self.path == "/api/v3" or self.path.startswith(("/api/v3/", "/api/v3?")):
                url = API_URL + self.path.removeprefix("/api/v3")
            else:
                url = WEB_URL + self.path
            request = httpx.Request(self.command, url, headers=dict(self.headers), content=body)
            response = github.router.handler(request)
            content = response.read()
            self.send_response(response.status_code)
            for name, value in response.headers.items():
                if name.lower() not in {"content-length", "transfer-encoding", "connection"}:
                    self.send_header(name, served(name, value))
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
    web_base = f"http://127.0.0.1:{server.server_address[1]}"

    def served_url(url: str) -> str:
        """``url`` on this server when it is on the fake's addresses; any other (the app's
        own callback, which GitHub redirects to) is kept as it is."""
        # The API's address first: it starts with the web one.
        for fake, here in ((API_URL, f"{web_base}/api/v3"), (WEB_URL, web_base)):
            if url == fake or url.startswith((f"{fake}/", f"{fake}?")):
                return here + url.removeprefix(fake)
        return url

    def served(name: str, value: str) -> str:
        """A reply header, with the URLs of ``Location`` and ``Link`` made this server's."""
        if name.lower() == "location":
            return served_url(value)
        if name.lower() == "link":
            return re.sub(r"<([^>]*)>", lambda match: f"<{served_url(match[1])}>", value)
        return value

    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"{web_base}/api/v3"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
